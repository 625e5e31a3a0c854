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
    rig.keys(&["J", "n"]);
    assert!(rig.app.jobs.form.is_some());
    // Scope: a group, with its id.
    rig.keys(&["space", "space", "down"]);
    rig.typed("demo-cohort");
    // Down to the first type (Patient) and pick it.
    rig.keys(&["down", "down", "down", "down", "down", "space"]);
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
