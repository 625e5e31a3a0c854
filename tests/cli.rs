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

/// A FHIR stand-in that answers 401 and records each request's Authorization header.
async fn counting_fhir() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use axum::http::{HeaderMap, StatusCode};
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let s = s.clone();
        async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            s.lock().unwrap().push(auth);
            StatusCode::UNAUTHORIZED
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, seen)
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
    // A wrong secret gets no token: the request is not sent (exit 2), unless --allow-unsigned
    // (then the FHIR service's 401 and --fail give exit 1). Before, it went out with an empty
    // `Authorization: Bearer ` and exited 0.
    let (fhir, seen) = counting_fhir().await;
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "run",
            "Azure FHIR service/List patients",
            "--env",
            "demo",
            "--var",
            "clientsecret=wrong",
            "--var",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(format!("fhirurl=http://{fhir}"));
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let refused = args(&[]);
    let refused: Vec<&str> = refused.iter().map(String::as_str).collect();
    let out = fhirside(dir.path(), &refused);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("AADSTS7000215"), "{err}");
    assert!(err.contains("Not sent"), "{err}");
    assert!(err.contains("--allow-unsigned"), "{err}");
    assert!(!err.contains("wrong"), "the secret is not echoed: {err}");
    assert_eq!(
        seen.lock().unwrap().len(),
        0,
        "nothing reached the FHIR server"
    );
    let unsigned = args(&["--allow-unsigned", "--fail"]);
    let unsigned: Vec<&str> = unsigned.iter().map(String::as_str).collect();
    let out = fhirside(dir.path(), &unsigned);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        *seen.lock().unwrap(),
        vec![String::new()],
        "sent once, without a token"
    );
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
            // (the demo's Entra knows no such resource: sign-in fails, so send unsigned)
            "--allow-unsigned",
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

/// `keygen --for smart` → the demo's SMART endpoint with that JWKS → `token` and `run` with a
/// `private_key_jwt` environment: the new user's whole path, through the real binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keygen_then_token_and_run_with_a_smart_key() {
    let keys = tempfile::tempdir().unwrap();
    let out = fhirside(
        keys.path(),
        &[
            "keygen",
            "--for",
            "smart",
            "--out",
            &keys.path().join("k").display().to_string(),
            "--name",
            "app",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("private_key_jwt") && text.contains("\"kty\": \"EC\""),
        "{text}"
    );
    let key_file = keys.path().join("k/app.key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir = std::fs::metadata(keys.path().join("k"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir & 0o777, 0o700);
    }
    // Never overwritten.
    let again = fhirside(
        keys.path(),
        &[
            "keygen",
            "--for",
            "smart",
            "--out",
            &keys.path().join("k").display().to_string(),
            "--name",
            "app",
        ],
    );
    assert_eq!(again.status.code(), Some(2));
    let jwks: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(keys.path().join("k/app.jwks.json")).unwrap(),
    )
    .unwrap();
    let server = DemoServer::start(
        0,
        DemoOptions {
            patients: 10,
            smart_clients: vec![("smart-app".into(), jwks)],
            ..DemoOptions::default()
        },
    )
    .await
    .unwrap();
    let (_, dir) = {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, mut ws, _) = Store::load(dir.path());
        prepare_workspace(&mut store, &mut ws, &server).unwrap();
        let mut env = fhirside::workspace::Environment::new("smart");
        env.variables = vec![
            fhirside::workspace::Variable::plain("fhirurl", &server.fhir_url()),
            fhirside::workspace::Variable::plain("clientid", "smart-app"),
        ];
        env.auth = Some(fhirside::workspace::AuthConfig {
            kind: fhirside::workspace::AuthKind::PrivateKeyJwt,
            flavor: fhirside::workspace::TokenFlavor::Oauth2,
            token_url: Some(format!("{}/smart/token", server.fhir_url())),
            key_file: Some(key_file.display().to_string()),
            ..Default::default()
        });
        store.save_environment(&env).unwrap();
        ((), dir)
    };
    let out = fhirside(dir.path(), &["token", "--env", "smart"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("from automatic sign-in (signed client assertion"),
        "{text}"
    );
    assert!(
        text.contains("system/*.read") && text.contains("granted scopes"),
        "{text}"
    );
    assert!(
        !text.contains("403"),
        "a SMART token is not judged by Entra's rules: {text}"
    );
    let raw = fhirside(dir.path(), &["token", "--env", "smart", "--raw"]);
    let raw_text = String::from_utf8_lossy(&raw.stdout);
    assert_eq!(raw_text.trim().split('.').count(), 3, "{raw_text}");
    assert!(raw.stderr.is_empty(), "no warning when not a terminal");
    let out = fhirside(
        dir.path(),
        &["run", "Azure FHIR service/List patients", "--env", "smart"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["resourceType"], "Bundle");
    server.shutdown().await;
}

/// `kind = "command"` with no command runs the Azure CLI and reads its JSON (a stand-in `az`
/// on PATH here).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_azure_cli_preset_reads_az_json() {
    use std::os::unix::fs::PermissionsExt;
    let (fhir, seen) = counting_fhir().await;
    let bin = tempfile::tempdir().unwrap();
    let az = bin.path().join("az");
    std::fs::write(
        &az,
        "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/args\"\nprintf '{\"accessToken\":\"az-token\",\"expiresOn\":\"2099-01-01 00:00:00.000000\",\"expires_on\":4070908800,\"tokenType\":\"Bearer\"}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut ws, _) = Store::load(dir.path());
    fhirside::workspace::seed::seed_if_new(&mut store, &mut ws).unwrap();
    let mut env = fhirside::workspace::Environment::new("az");
    env.variables = vec![fhirside::workspace::Variable::plain(
        "fhirurl",
        &format!("http://{fhir}"),
    )];
    env.auth = Some(fhirside::workspace::AuthConfig {
        kind: fhirside::workspace::AuthKind::Command,
        ..Default::default()
    });
    store.save_environment(&env).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_fhirside"))
        .arg("--workspace")
        .arg(dir.path())
        .args([
            "run",
            "Azure FHIR service/Capability statement",
            "--env",
            "az",
            "--allow-unsigned",
        ])
        .env("PATH", path)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap();
    let _ = out;
    assert_eq!(
        seen.lock().unwrap().first().map(String::as_str),
        Some("Bearer az-token")
    );
    let args = std::fs::read_to_string(bin.path().join("args")).unwrap();
    assert_eq!(
        args.trim(),
        format!("account get-access-token --resource http://{fhir} -o json")
    );
}

#[test]
fn keygen_for_entra_writes_a_key_and_a_certificate_to_upload() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("keys");
    let out = fhirside(
        dir.path(),
        &[
            "keygen",
            "--for",
            "entra",
            "--out",
            &out_dir.display().to_string(),
            "--days",
            "30",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Thumbprint") && text.contains("az ad app credential reset"),
        "{text}"
    );
    let cert = std::fs::read_to_string(out_dir.join("fhirside.cert.pem")).unwrap();
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    let key = std::fs::read_to_string(out_dir.join("fhirside.key.pem")).unwrap();
    assert!(
        !text.contains(key.lines().nth(1).unwrap()),
        "the key is never printed"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join(".gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("*")
    );
}
