//! The headless commands, run as the real binary against the built-in demo service on 127.0.0.1.

use std::process::Command;

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
        .output()
        .expect("fhirside runs")
}

async fn demo_workspace() -> (DemoServer, tempfile::TempDir) {
    let server = DemoServer::start(
        0,
        DemoOptions {
            patients: 30,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_signs_in_and_prints_the_body() {
    let (server, dir) = demo_workspace().await;
    let out = fhirside(
        dir.path(),
        &["run", "Azure FHIR service/List patients", "--env", "demo"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the body is JSON");
    assert_eq!(body["resourceType"], "Bundle");
    // JSON output and --fail on an error status.
    let out = fhirside(
        dir.path(),
        &[
            "run",
            "Azure FHIR service/Create patient",
            "--env",
            "demo",
            "--output",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], 201);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_fails_clearly() {
    let (server, dir) = demo_workspace().await;
    let out = fhirside(
        dir.path(),
        &["run", "Azure FHIR service/Nope", "--env", "demo"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no saved request"));
    // Without an environment the templates cannot be filled.
    let out = fhirside(dir.path(), &["run", "Azure FHIR service/List patients"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("{{fhirurl}}"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A 401 with --fail: the demo's no-role client gets 403 from FHIR; a wrong secret gets no token.
    let out = fhirside(
        dir.path(),
        &[
            "run",
            "Azure FHIR service/List patients",
            "--env",
            "demo",
            "--var",
            "clientsecret=wrong",
            "--fail",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AADSTS7000215"), "{err}");
    assert!(!err.contains("wrong"), "the secret is not echoed: {err}");
    // Nothing listens here: exit 2 with a sentence.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = fhirside(
        dir.path(),
        &[
            "run",
            "Azure FHIR service/Capability statement",
            "--env",
            "demo",
            "--var",
            &format!("fhirurl=http://127.0.0.1:{port}"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Connection refused"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_round_trips_without_secrets() {
    let (server, dir) = demo_workspace().await;
    let out_file = dir.path().join("out.postman.json");
    let out = fhirside(
        dir.path(),
        &[
            "export",
            "Azure FHIR service",
            "--postman",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(text.contains("getpostman.com/json/collection/v2.1.0"));
    assert!(!text.contains(fhirside::demo::DEMO_CLIENT_SECRET));
    let out = fhirside(dir.path(), &["import", out_file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("Azure FHIR service (2)"), "{report}");
    let (_, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    let a = ws.collection("Azure FHIR service").unwrap();
    let b = ws.collection("Azure FHIR service (2)").unwrap();
    let specs = |c: &fhirside::workspace::Collection| {
        c.root
            .requests
            .iter()
            .map(|r| r.spec.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(specs(a), specs(b));
    server.shutdown().await;
}

#[test]
fn fmt_pretty_prints_and_reports_errors_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("a.json");
    std::fs::write(&good, r#"{"a":[1,2],"b":{}}"#).unwrap();
    let out = fhirside(dir.path(), &["fmt", good.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}\n"
    );
    let bad = dir.path().join("b.json");
    std::fs::write(&bad, "{\n  \"a\": tru\n}").unwrap();
    let out = fhirside(dir.path(), &["fmt", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("b.json:2:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_export_waits_downloads_and_checks_counts() {
    let server = DemoServer::start(
        0,
        DemoOptions {
            patients: 20,
            export_duration: std::time::Duration::from_secs(1),
            progress_headers: true,
            // `export --download` sends no storage token (yet): public-read containers.
            storage_public_read: true,
            ..DemoOptions::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut ws, _) = Store::load(dir.path());
    prepare_workspace(&mut store, &mut ws, &server).unwrap();
    let out_dir = dir.path().join("files");
    let out = tokio::task::spawn_blocking({
        let (ws_dir, out_dir) = (dir.path().to_path_buf(), out_dir.clone());
        move || {
            fhirside(
                &ws_dir,
                &[
                    "export",
                    "--env",
                    "demo",
                    "--type",
                    "Patient",
                    "--download",
                    out_dir.to_str().unwrap(),
                ],
            )
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("accepted: "), "{stdout}");
    assert!(stdout.contains("complete"), "{stdout}");
    assert!(stdout.contains("Patient-1.ndjson"), "{stdout}");
    assert!(stdout.contains(" ok"), "{stdout}");
    let lines = std::fs::read_to_string(out_dir.join("Patient-1.ndjson"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, 20);
    // The job is in the workspace for the TUI, without any token in it.
    let jobs: Vec<_> = std::fs::read_dir(dir.path().join("jobs"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(jobs.len(), 1);
    let text = std::fs::read_to_string(jobs[0].path()).unwrap();
    assert!(!text.contains("eyJ"), "no token in the job file");
    // A bad parameter is the server's sentence, exit 2.
    let out = tokio::task::spawn_blocking({
        let ws_dir = dir.path().to_path_buf();
        move || {
            fhirside(
                &ws_dir,
                &[
                    "export",
                    "--env",
                    "demo",
                    "--type-filter",
                    "Observation?code=1",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_secret_can_come_from_a_command() {
    let (server, dir) = demo_workspace().await;
    // No stored secret: the sign-in settings run a command that prints it.
    let (mut store, mut ws, _) = Store::load(dir.path());
    let env = ws.environment_mut("demo").unwrap();
    env.set("clientsecret", "");
    env.auth.as_mut().unwrap().client_secret_command = Some(format!(
        "printf '%s' '{}'",
        fhirside::demo::DEMO_CLIENT_SECRET
    ));
    let env = env.clone();
    store.save_environment(&env).unwrap();
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || {
            fhirside(
                &d,
                &[
                    "run",
                    "Azure FHIR service/List patients",
                    "--env",
                    "demo",
                    "--fail",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secrets = std::fs::read_to_string(dir.path().join("secrets.toml")).unwrap_or_default();
    assert!(
        !secrets.contains(fhirside::demo::DEMO_CLIENT_SECRET),
        "nothing stored"
    );
    server.shutdown().await;
}

#[test]
fn importing_a_collection_with_oauth2_makes_a_sign_in_environment() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/import/postman/oauth2_pkce.postman_collection.json"
    );
    let out = fhirside(dir.path(), &["import", fixture]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("sign-in settings"), "{report}");
    let (_, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    let env = ws
        .environments
        .iter()
        .find(|e| e.name.ends_with("sign-in"))
        .expect("a sign-in environment");
    let auth = env.auth.as_ref().unwrap();
    assert_eq!(auth.kind, fhirside::workspace::AuthKind::AuthorizationCode);
    assert!(auth.authorize_url.is_some() && auth.token_url.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_is_recorded_and_history_prints_it_for_scripts() {
    let (server, dir) = demo_workspace().await;
    for request in ["List patients", "Get token", "Health check"] {
        let out = fhirside(
            dir.path(),
            &[
                "run",
                &format!("Azure FHIR service/{request}"),
                "--env",
                "demo",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A line each, newest first.
    let out = fhirside(dir.path(), &["history"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("/health/check"), "{text}");
    assert!(lines[2].contains("/Patient"), "{text}");
    // --limit, --grep (the screen's filter words) and --json.
    let out = fhirside(dir.path(), &["history", "--limit", "1"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let out = fhirside(dir.path(), &["history", "--grep", "POST", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["method"], "POST");
    assert_eq!(rows[0]["source"], "cli");
    assert_eq!(rows[0]["saved"], "Azure FHIR service / Get token");
    // One entry in full: the client secret and the token were removed before writing.
    let id = rows[0]["id"].as_i64().unwrap().to_string();
    let out = fhirside(dir.path(), &["history", "--show", &id]);
    let full = String::from_utf8_lossy(&out.stdout);
    assert!(full.contains("client_secret=<redacted>"), "{full}");
    assert!(
        full.contains(r#""access_token": "<redacted>""#)
            || full.contains(r#""access_token":"<redacted>""#),
        "{full}"
    );
    assert!(!full.contains(fhirside::demo::DEMO_CLIENT_SECRET), "{full}");
    let out = fhirside(dir.path(), &["history", "--grep", "/Patient", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = rows[0]["id"].as_i64().unwrap().to_string();
    let out = fhirside(dir.path(), &["history", "--show", &id, "--json"]);
    let entry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entry["response"]["body"]["resourceType"], "Bundle");
    let auth = entry["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "Authorization")
        .expect("the token went out")
        .clone();
    assert_eq!(auth[1], "Bearer <redacted>");
    // A bad filter and a missing entry are explained.
    let out = fhirside(dir.path(), &["history", "--grep", "since:tomorrowish"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a time"));
    let out = fhirside(dir.path(), &["history", "--show", "999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no history entry 999"));
    // Switched off in settings.toml: nothing more is recorded.
    std::fs::write(
        dir.path().join("settings.toml"),
        "[history]\nenabled = false\n",
    )
    .unwrap();
    fhirside(
        dir.path(),
        &["run", "Azure FHIR service/Health check", "--env", "demo"],
    );
    let out = fhirside(dir.path(), &["history", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    server.shutdown().await;
}
