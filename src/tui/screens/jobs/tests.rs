//! The jobs screen: kick-off URLs read back, the export form through keys, and snapshots of
//! jobs mid-export at three sizes.

use super::*;
use crate::tui::screens::Screen;
use crate::tui::testing::{Rig, mask_digits};
use crate::worker::export::{ExportJob, JobState, Progress};

#[test]
fn params_from_kickoff_urls() {
    let p = params_from_url(
        "http://x/$export?_container=export&_type=Patient,Observation&_since=2024-01-01",
    );
    assert_eq!(p.scope, ExportScope::System);
    assert_eq!(p.types, vec!["Patient", "Observation"]);
    assert_eq!(p.container.as_deref(), Some("export"));
    assert_eq!(
        params_from_url("http://x/Group/g1/$export").scope,
        ExportScope::Group("g1".into())
    );
    assert_eq!(
        params_from_url("http://x/Patient/$export").scope,
        ExportScope::Patient
    );
}

#[test]
fn plurals() {
    assert_eq!(plural(1, "file"), "1 file");
    assert_eq!(plural(0, "line"), "0 lines");
}

#[test]
fn the_export_form_starts_an_export_with_the_chosen_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.keys(&["J", "n", "enter"]);
    assert!(rig.app.jobs.form.is_some());
    // Scope: a group, with its id.
    rig.keys(&["space", "space", "down"]);
    rig.typed("demo-cohort");
    // Down past _since … _anonymizationConfigEtag to the first type (Patient) and pick it.
    rig.keys(&["down"; 7]);
    rig.key("space");
    let cmds = rig.key("ctrl-r");
    let [WorkerCommand::StartExport { base, params, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(base, "http://fhir.test");
    assert_eq!(params.scope, ExportScope::Group("demo-cohort".into()));
    assert_eq!(params.types, vec!["Patient"]);
}

/// Two jobs polling: one with the server's percentage, one without and retrying after a 429;
/// the jobs screen open.
fn rig_with_jobs(dir: &std::path::Path) -> Rig {
    let mut rig = Rig::seeded(dir);
    let mut with_progress = ExportJob::accepted(
        "azure",
        "http://fhir.test/$export?_type=Patient,Observation",
        "http://fhir.test/_operations/export/1",
        ExportParams::default(),
    );
    with_progress.state = JobState::InProgress;
    with_progress.polls = 4;
    with_progress.progress = Some(Progress::Percent(42.0));
    let mut bare = ExportJob::accepted(
        "azure",
        "http://fhir.test/Group/g/$export",
        "http://fhir.test/_operations/export/2",
        ExportParams::default(),
    );
    bare.state = JobState::InProgress;
    bare.polls = 2;
    bare.last_error = Some("429 Too Many Requests; retrying in 5 s".into());
    rig.app.model.jobs.list = vec![with_progress, bare];
    rig.key("J");
    assert_eq!(rig.app.screen, Some(Screen::Jobs));
    rig
}

/// The jobs screen mid-export: what the server said, no invented percentage.
#[test]
fn jobs_screen_mid_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_jobs(dir.path());
    rig.app.model.jobs.list[0].kickoff_url = "http://fhir.test/$export?_type=Patient".into();
    rig.app.jobs.selected = 1;
    let screen = rig.draw(120, 35);
    assert!(screen.contains("42%"), "{screen}");
    assert!(screen.contains("running (no X-Progress)"), "{screen}");
    assert!(screen.contains("429 Too Many Requests"), "{screen}");
    // Times move on: keep only the stable parts in the snapshot.
    insta::assert_snapshot!(mask_digits(&screen));
}

#[test]
fn jobs_screen_160x48() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_jobs(dir.path());
    let screen = rig.draw(160, 48);
    assert!(screen.contains("42%"), "{screen}");
    insta::assert_snapshot!(mask_digits(&screen));
}

#[test]
fn jobs_screen_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_jobs(dir.path());
    let screen = rig.draw(80, 24);
    assert!(screen.contains("42%"), "{screen}");
    insta::assert_snapshot!(mask_digits(&screen));
}

/// `n` → bulk delete → the form → a dry run (GET with `_summary=count`) → the count → the
/// resource type typed back → the job. A wrong word deletes nothing.
#[test]
fn a_bulk_delete_counts_first_then_asks_for_the_type() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.keys(&["J", "n", "down", "down", "enter"]);
    assert!(
        rig.app
            .jobs
            .op_form
            .as_ref()
            .is_some_and(|f| f.kind == crate::worker::export::OpKind::BulkDelete)
    );
    let screen = rig.draw(120, 35);
    assert!(screen.contains("Start $bulk-delete"), "{screen}");
    rig.typed("Observation");
    rig.key("down");
    rig.typed("status=cancelled");
    let cmds = rig.key("ctrl-r");
    let [WorkerCommand::Send { id, request, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.url,
        "http://fhir.test/Observation?status=cancelled&_summary=count"
    );
    let id = *id;
    let body = r#"{"resourceType":"Bundle","type":"searchset","total":3}"#;
    let cmds = rig.answer(
        id,
        crate::tui::testing::received(200, "application/fhir+json", body),
    );
    assert!(cmds.is_empty(), "{cmds:?}");
    let screen = rig.draw(120, 35);
    assert!(
        screen.contains("3 resources match Observation?status=cancelled"),
        "{screen}"
    );
    // The wrong word: nothing starts.
    rig.typed("observation");
    let cmds = rig.key("enter");
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(
        rig.status().contains("nothing was deleted"),
        "{}",
        rig.status()
    );

    // Back on the form as it was: again, with the right word.
    assert!(rig.app.jobs.op_form.is_some());
    let cmds = rig.key("ctrl-r");
    let [WorkerCommand::Send { id, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let id = *id;
    rig.answer(
        id,
        crate::tui::testing::received(200, "application/fhir+json", body),
    );
    rig.typed("Observation");
    let cmds = rig.key("enter");
    let [WorkerCommand::StartOperation { base, start, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(base, "http://fhir.test");
    let crate::worker::export::Kickoff::BulkDelete(p) = start.as_ref() else {
        panic!("{start:?}")
    };
    assert_eq!(p.type_.as_deref(), Some("Observation"));
    assert_eq!(
        p.query,
        vec![("status".to_string(), "cancelled".to_string())]
    );
}

/// An import that ended with an error file, and a bulk delete that deleted per type.
fn rig_with_operations(dir: &std::path::Path) -> Rig {
    use crate::worker::export::{OpKind, OpResult};
    use crate::workspace::export_job::{ImportFile, TypeCount};
    let mut rig = Rig::seeded(dir);
    let t0 = std::time::SystemTime::now() - std::time::Duration::from_secs(300);
    let mut import = ExportJob::accepted_op(
        OpKind::Import,
        "azure",
        "http://fhir.test/$import",
        "http://fhir.test/_operations/import/4",
        ExportParams::default(),
    );
    import.kicked_off_at = t0;
    import.state = JobState::Complete;
    import.polls = 3;
    import.last_poll_at = Some(t0 + std::time::Duration::from_secs(9));
    import.last_answer = Some("200 OK".into());
    import.result = Some(OpResult::Import {
        transaction_time: Some("2025-05-01T09:00:00Z".into()),
        output: vec![
            ImportFile {
                type_: "Patient".into(),
                count: Some(2),
                input_url: Some("http://storage.test/import/Patient.ndjson".into()),
                url: None,
            },
            ImportFile {
                type_: "Observation".into(),
                count: Some(2),
                input_url: Some("http://storage.test/import/Observation.ndjson".into()),
                url: None,
            },
        ],
        error: vec![ImportFile {
            type_: "OperationOutcome".into(),
            count: Some(1),
            input_url: Some("http://storage.test/import/Observation.ndjson".into()),
            url: Some("http://storage.test/fhirlogs/Observation1_4.ndjson".into()),
        }],
    });
    let mut delete = ExportJob::accepted_op(
        OpKind::BulkDelete,
        "azure",
        "http://fhir.test/Observation/$bulk-delete?status=cancelled",
        "http://fhir.test/_operations/bulk-delete/5",
        ExportParams::default(),
    );
    delete.kicked_off_at = t0;
    delete.state = JobState::Complete;
    delete.polls = 2;
    delete.last_poll_at = Some(t0 + std::time::Duration::from_secs(4));
    delete.last_answer = Some("200 OK".into());
    delete.result = Some(OpResult::BulkDelete {
        deleted: vec![TypeCount {
            type_: "Observation".into(),
            count: 3,
        }],
        issues: vec![],
    });
    // A quiet one: 202s and nothing else for five minutes.
    let mut quiet = ExportJob::accepted_op(
        OpKind::BulkDelete,
        "azure",
        "http://fhir.test/$bulk-delete?_lastUpdated=lt2020",
        "http://fhir.test/_operations/bulk-delete/6",
        ExportParams::default(),
    );
    quiet.kicked_off_at = t0;
    quiet.state = JobState::InProgress;
    quiet.polls = 7;
    quiet.last_answer = Some("202 Accepted".into());
    quiet.changed_at = Some(t0);
    rig.app.model.jobs.list = vec![import, delete, quiet];
    rig.key("J");
    rig
}

#[test]
fn jobs_screen_operations_120x35() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_operations(dir.path());
    let screen = rig.draw(120, 35);
    for want in [
        "$import",
        "$bulk-delete",
        "4 imported, 1 failed",
        "3 deleted",
        "no progress for 5 min",
        "OperationOutcome error file",
        "Observation1_4.ndjson",
    ] {
        assert!(screen.contains(want), "{want}: {screen}");
    }
    insta::assert_snapshot!(mask_digits(&screen));
    rig.app.jobs.selected = 1;
    let screen = rig.draw(120, 35);
    assert!(screen.contains("ResourceDeletedCount"), "{screen}");
    insta::assert_snapshot!("jobs_screen_bulk_delete_120x35", mask_digits(&screen));
}

#[test]
fn jobs_screen_operations_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_operations(dir.path());
    let screen = rig.draw(80, 24);
    assert!(screen.contains("$import"), "{screen}");
    assert!(screen.contains("Observation1_4.ndjson"), "{screen}");
    insta::assert_snapshot!(mask_digits(&screen));
    rig.app.jobs.selected = 1;
    let screen = rig.draw(80, 24);
    insta::assert_snapshot!("jobs_screen_bulk_delete_80x24", mask_digits(&screen));
}

/// Enter on an import's error file that is not on disk fetches it (and only it) first.
#[test]
fn enter_on_an_import_error_file_fetches_it_to_preview() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_operations(dir.path());
    rig.key("tab");
    let cmds = rig.key("enter");
    let [WorkerCommand::DownloadJob { job, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let m = job.manifest.as_ref().unwrap();
    assert_eq!(m.output.len(), 1);
    assert!(m.output[0].url.ends_with("Observation1_4.ndjson"));
    assert!(rig.app.model.jobs.preview_after_download.is_some());
}

/// A job's end is said of its own operation: an import that finished is not "Export
/// finished: 0 files".
#[test]
fn a_finished_import_is_said_as_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_operations(dir.path());
    let mut import = rig.app.model.jobs.list[0].clone();
    import.state = JobState::InProgress;
    rig.app.model.jobs.list[0] = import.clone();
    import.state = JobState::Complete;
    rig.worker_event(crate::worker::WorkerEvent::Job(Box::new(import)));
    let status = rig.status();
    assert!(
        status.contains("Import finished: 4 imported, 1 failed"),
        "{status}"
    );
    assert!(!status.contains("Export"), "{status}");
}

/// The import form fills in the demo's sample files when the environment's storage is a
/// stand-in on this machine, and nothing for a real account.
#[test]
fn the_import_form_offers_a_local_storages_samples_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://fhir.test");
    let open_import = |rig: &mut Rig| {
        rig.keys(&["J", "n", "down", "enter"]);
        let text = rig.app.jobs.op_form.as_ref().map(|f| f.text(1));
        rig.keys(&["esc", "esc"]);
        text.unwrap_or_default()
    };
    assert_eq!(open_import(&mut rig), "");
    if let Some(e) = rig.app.model.ws.environment_mut("azure") {
        e.storage_hosts = Some(vec!["http://127.0.0.1:9".into()]);
    }
    assert_eq!(
        open_import(&mut rig),
        "http://127.0.0.1:9/import/Patient.ndjson:Patient http://127.0.0.1:9/import/Observation.ndjson:Observation"
    );
    if let Some(e) = rig.app.model.ws.environment_mut("azure") {
        e.storage_hosts = Some(vec!["https://acct.blob.core.windows.net".into()]);
    }
    assert_eq!(open_import(&mut rig), "");
}
