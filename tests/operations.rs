//! Azure's other asynchronous operations through the job engine, against the demo over real
//! HTTP on 127.0.0.1: `$import` (counts and an error file), `$bulk-delete` (a dry run with
//! `_summary=count`, then the job and its `ResourceDeletedCount`), `$reindex`, cancelling,
//! and a job file from before jobs had a kind.

use std::time::Duration;

use fhirside::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, DemoOptions, DemoServer};
use fhirside::worker::credentials::CredentialPolicy;
use fhirside::worker::export::*;
use fhirside::workspace::jobs::JobStore;

const LIMIT: Duration = Duration::from_secs(30);

fn client() -> reqwest::Client {
    fhirside::worker::http::client()
}

async fn demo() -> DemoServer {
    DemoServer::start(
        0,
        DemoOptions {
            patients: 10,
            export_duration: Duration::from_millis(300),
            ..Default::default()
        },
    )
    .await
    .expect("demo server")
}

async fn token(s: &DemoServer) -> String {
    let r = client()
        .post(format!(
            "{}/{DEMO_TENANT_ID}/oauth2/v2.0/token",
            s.authority()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("scope", &format!("{}/.default", s.fhir_url())),
        ])
        .send()
        .await
        .expect("token request");
    let v: serde_json::Value = r.json().await.expect("token json");
    v["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

fn fast() -> PollPolicy {
    PollPolicy {
        initial: Duration::from_secs(1),
        factor: 1.0,
        ceiling: Duration::from_secs(1),
    }
}

async fn start(s: &DemoServer, tok: &str, what: Kickoff) -> ExportJob {
    let policy = CredentialPolicy::for_origin_of(&s.fhir_url());
    start_with(
        &client(),
        "demo",
        &s.fhir_url(),
        &what,
        false,
        &policy,
        &mut FixedToken(tok.into()),
    )
    .await
    .expect("kick-off")
    .with_policy(fast())
}

async fn finish(job: &mut ExportJob, tok: &str) -> PollResult {
    let policy = CredentialPolicy::for_origin_of(&job.status_url);
    tokio::time::timeout(
        LIMIT,
        wait_until_done(
            &client(),
            job,
            &policy,
            &mut FixedToken(tok.into()),
            |_, _| {},
        ),
    )
    .await
    .expect("the job ends in time")
}

async fn count(s: &DemoServer, tok: &str, target: &str) -> u64 {
    let p = BulkDeleteParams::parse_target(target).unwrap();
    let v: serde_json::Value = client()
        .get(p.count_url(&s.fhir_url()))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("no total: {v}"))
}

#[tokio::test]
async fn import_ends_with_counts_per_file_and_an_error_file() {
    let s = demo().await;
    let tok = token(&s).await;
    let storage = s.storage_url();
    let mut job = start(
        &s,
        &tok,
        Kickoff::Import(ImportParams {
            mode: ImportMode::IncrementalLoad,
            inputs: vec![
                ImportInput::parse(&format!("{storage}/import/Patient.ndjson:Patient")).unwrap(),
                ImportInput::parse(&format!("{storage}/import/Observation.ndjson:Observation"))
                    .unwrap(),
            ],
        }),
    )
    .await;
    assert_eq!(job.kind, OpKind::Import);
    assert!(
        job.status_url.contains("/_operations/import/"),
        "{}",
        job.status_url
    );
    assert_eq!(finish(&mut job, &tok).await, PollResult::Complete);
    let Some(OpResult::Import { output, error, .. }) = &job.result else {
        panic!("{:?}", job.result)
    };
    let counts: Vec<(String, Option<u64>)> =
        output.iter().map(|o| (o.type_.clone(), o.count)).collect();
    assert_eq!(
        counts,
        vec![("Patient".into(), Some(2)), ("Observation".into(), Some(2))]
    );
    assert_eq!(error.len(), 1);
    assert_eq!(error[0].count, Some(1));
    let url = error[0].url.clone().unwrap();
    assert!(url.starts_with(&storage), "{url}");
    assert!(job.last_answer.as_deref().unwrap_or("").starts_with("200"));
}

#[tokio::test]
async fn bulk_delete_dry_run_then_job_deletes_what_was_counted() {
    let s = demo().await;
    let tok = token(&s).await;
    let target = "Observation?code=8867-4";
    let before = count(&s, &tok, target).await;
    assert!(before > 0, "the demo has heart rates");
    let params = BulkDeleteParams::parse_target(target).unwrap();
    let mut job = start(&s, &tok, Kickoff::BulkDelete(params)).await;
    assert!(
        job.kickoff_url
            .contains("/Observation/$bulk-delete?code=8867-4"),
        "{}",
        job.kickoff_url
    );
    assert_eq!(finish(&mut job, &tok).await, PollResult::Complete);
    let Some(OpResult::BulkDelete { deleted, .. }) = &job.result else {
        panic!("{:?}", job.result)
    };
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].type_, "Observation");
    assert_eq!(deleted[0].count, before);
    assert_eq!(count(&s, &tok, target).await, 0);
}

#[tokio::test]
async fn reindex_runs_to_completed() {
    let s = demo().await;
    let tok = token(&s).await;
    let mut job = start(
        &s,
        &tok,
        Kickoff::Reindex(ReindexParams {
            types: vec!["Patient".into()],
        }),
    )
    .await;
    assert!(
        job.status_url.contains("/_operations/reindex/"),
        "{}",
        job.status_url
    );
    // The 201's record is kept from the start.
    assert!(
        job.result
            .as_ref()
            .and_then(|r| r.field("status"))
            .is_some()
    );
    assert_eq!(finish(&mut job, &tok).await, PollResult::Complete);
    let r = job.result.as_ref().unwrap();
    assert_eq!(r.field("status"), Some("Completed"));
    assert_eq!(job.state, JobState::Complete);
}

#[tokio::test]
async fn cancelled_import_and_bulk_delete_end_cancelled() {
    let s = DemoServer::start(
        0,
        DemoOptions {
            patients: 5,
            export_duration: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let tok = token(&s).await;
    let storage = s.storage_url();
    let policy = CredentialPolicy::for_origin_of(&s.fhir_url());
    for what in [
        Kickoff::Import(ImportParams {
            mode: ImportMode::IncrementalLoad,
            inputs: vec![
                ImportInput::parse(&format!("{storage}/import/Patient.ndjson:Patient")).unwrap(),
            ],
        }),
        Kickoff::BulkDelete(BulkDeleteParams::parse_target("Patient?gender=female").unwrap()),
    ] {
        let mut job = start(&s, &tok, what).await;
        cancel(&client(), &mut job, &policy, Some(&tok))
            .await
            .unwrap();
        assert_eq!(job.state, JobState::Cancelled);
        // Polled once more, it stays cancelled and ends.
        let r = poll_once(&client(), &mut job, &policy, Some(&tok)).await;
        assert!(r.is_final(), "{r:?}");
        assert_eq!(job.state, JobState::Cancelled);
    }
}

#[tokio::test]
async fn a_refused_kickoff_is_a_sentence() {
    let s = demo().await;
    let tok = token(&s).await;
    let policy = CredentialPolicy::for_origin_of(&s.fhir_url());
    let e = start_with(
        &client(),
        "demo",
        &s.fhir_url(),
        &Kickoff::Import(ImportParams {
            mode: ImportMode::IncrementalLoad,
            inputs: vec![ImportInput::parse("http://elsewhere.test/x.ndjson:Patient").unwrap()],
        }),
        false,
        &policy,
        &mut FixedToken(tok),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().starts_with("The import was refused (400"),
        "{e}"
    );
}

#[test]
fn an_old_job_file_loads_as_an_export() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = dir.path().join("jobs");
    std::fs::create_dir(&jobs).unwrap();
    std::fs::write(
        jobs.join("0b6f8a52-7c39-4d8e-9a51-5d6f1e2a3b4c.toml"),
        r#"id = "0b6f8a52-7c39-4d8e-9a51-5d6f1e2a3b4c"
env = "demo"
kickoff_url = "http://127.0.0.1:8080/$export"
status_url = "http://127.0.0.1:8080/_operations/export/3"
state = "complete"
kicked_off_at = "2025-03-01T10:00:00Z"
polls = 4

[manifest]
requires_access_token = false
output = [{ type = "Patient", url = "http://127.0.0.1:8081/export/1/Patient-1.ndjson", count = 3 }]
"#,
    )
    .unwrap();
    let (_, loaded, problems) = JobStore::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].kind, OpKind::Export);
    assert_eq!(loaded[0].manifest.as_ref().unwrap().output.len(), 1);
}

/// The demo refuses anonymized export below system level, without `_container`, and an ETag
/// without a configuration, as fhir-server's kick-off validation does; a wrong ETag fails the
/// job (the configuration's version is checked when the job runs).
#[tokio::test]
async fn the_demo_refuses_anonymized_export_where_azure_does() {
    let s = demo().await;
    let tok = token(&s).await;
    let base = s.fhir_url();
    let kick = |path: String| {
        client()
            .get(format!("{base}/{path}"))
            .bearer_auth(&tok)
            .header("Accept", "application/fhir+json")
            .header("Prefer", "respond-async")
            .send()
    };
    for (path, says) in [
        (
            "Patient/$export?_container=deid&_anonymizationConfig=safe-harbor.json",
            "only supported at system level",
        ),
        (
            "Group/demo-cohort/$export?_container=deid&_anonymizationConfig=safe-harbor.json",
            "only supported at system level",
        ),
        (
            "$export?_anonymizationConfig=safe-harbor.json",
            "Missing '_container' for anonymized export",
        ),
        (
            "$export?_container=deid&_anonymizationConfigEtag=x",
            "Missing '_anonymizationConfig' for anonymized export",
        ),
    ] {
        let r = kick(path.to_string()).await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let body = r.text().await.unwrap();
        assert!(body.contains(says), "{path}: {body}");
    }
    let r = kick("$export?_container=deid&_anonymizationConfig=safe-harbor.json".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let mut job = start(
        &s,
        &tok,
        Kickoff::Export(ExportParams {
            container: Some("deid".into()),
            anonymization_config: Some("safe-harbor.json".into()),
            anonymization_config_etag: Some("\"not-its-etag\"".into()),
            ..Default::default()
        }),
    )
    .await;
    let PollResult::Failed(why) = finish(&mut job, &tok).await else {
        panic!("{job:?}")
    };
    assert!(why.contains("ETag of anonymization configuration"), "{why}");
}
