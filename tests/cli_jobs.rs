//! `fhirside job watch`, `job list` and `bulk-delete` as the real binary against the demo on
//! 127.0.0.1: exit codes 0 done / 1 failed / 2 could not watch, the dry-run count before
//! anything is deleted, and no delete without --yes when stdin is not a terminal.

use std::process::{Command, Stdio};
use std::time::Duration;

use fhirside::cli::demo::prepare_workspace;
use fhirside::demo::{DemoOptions, DemoServer};
use fhirside::workspace::Store;

fn fhirside(ws: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fhirside"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env("NO_COLOR", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .output()
        .expect("fhirside runs")
}

async fn demo_workspace() -> (DemoServer, tempfile::TempDir) {
    let server = DemoServer::start(
        0,
        DemoOptions {
            patients: 10,
            export_duration: Duration::from_millis(300),
            ..DemoOptions::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut ws, _) = Store::load(dir.path());
    prepare_workspace(&mut store, &mut ws, &server).unwrap();
    (server, dir)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_delete_counts_first_and_needs_yes_without_a_terminal() {
    let (_server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let target = "Observation?code=8867-4";
    let out = tokio::task::spawn_blocking({
        let ws = ws.clone();
        move || fhirside(&ws, &["bulk-delete", "--env", "demo", target])
    })
    .await
    .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(
        err.contains("dry run:") && err.contains("resources match Observation?code=8867-4"),
        "{err}"
    );
    assert!(err.contains("--yes"), "{err}");
    assert!(out.stdout.is_empty());

    let out = tokio::task::spawn_blocking({
        let ws = ws.clone();
        move || fhirside(&ws, &["bulk-delete", "--env", "demo", target, "--yes"])
    })
    .await
    .unwrap();
    let (so, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(so.starts_with("deleted  Observation"), "{so}");
    // The job is in the workspace, and listed.
    let out = fhirside(&ws, &["job", "list"]);
    let so = text(&out.stdout);
    assert!(
        so.contains("$bulk-delete") && so.contains("complete"),
        "{so}"
    );
    // Counted again: nothing left, nothing to delete.
    let out = fhirside(&ws, &["bulk-delete", "--env", "demo", target, "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("dry run: 0 resources"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_watch_exit_codes() {
    let (server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let base = server.fhir_url();
    // A bulk delete's status URL, watched again to its (already reached) end: 0, the result
    // on stdout.
    let out = tokio::task::spawn_blocking({
        let ws = ws.clone();
        move || {
            fhirside(
                &ws,
                &[
                    "bulk-delete",
                    "--env",
                    "demo",
                    "Patient?gender=female",
                    "--yes",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status = text(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("accepted: ").map(str::to_string))
        .expect("the status URL is said");
    let out = fhirside(&ws, &["job", "watch", &status, "--env", "demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("deleted  Patient"),
        "{}",
        text(&out.stdout)
    );

    // A job the server does not know: failed (1).
    let gone = format!("{base}/_operations/import/999");
    let out = fhirside(&ws, &["job", "watch", &gone, "--env", "demo"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("import"),
        "{}",
        text(&out.stderr)
    );

    // A server that is not there: could not watch (2).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let origin = url::Url::parse(&base).unwrap();
    let nowhere = format!(
        "http://127.0.0.1:{port}{}/_operations/export/1",
        origin.path().trim_end_matches('/')
    );
    let out = fhirside(&ws, &["job", "watch", &nowhere, "--env", "demo"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
