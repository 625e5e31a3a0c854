//! The headless commands, run as the real binary against the built-in demo service on 127.0.0.1.

mod fault_servers;
mod support;

use std::collections::HashSet;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use fhirside::cli::demo::prepare_workspace;
use fhirside::demo::{DemoOptions, DemoServer};
use fhirside::text::sanitize::is_unsafe;
use fhirside::workspace::Store;
use support::{Pty, assert_exit, fhirside, text, write_env, write_request};

/// A second environment with only a `fhirurl`, so none is chosen by itself.
fn write_plain_env(ws: &std::path::Path, name: &str) {
    let dir = ws.join("environments");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.toml")),
        "[[variables]]\nkey = \"x\"\nvalue = \"1\"\n",
    )
    .unwrap();
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
    support::demo_workspace(DemoOptions {
        patients: 30,
        ..DemoOptions::default()
    })
    .await
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
    assert_eq!(
        out.status.code(),
        Some(64),
        "a name that names nothing is usage"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no saved request"));
    // With two environments and none active, the templates cannot be filled.
    write_plain_env(dir.path(), "other");
    let out = fhirside(dir.path(), &["run", "Azure FHIR service/List patients"]);
    assert_eq!(out.status.code(), Some(64));
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
    assert_exit(&out, 1, &[]);
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
    assert_exit(&out, 2, &["Connection refused"]);
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
    // Progress on stderr; the manifest and the files on stdout.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("accepted: "), "{stderr}");
    assert!(stderr.contains("complete"), "{stderr}");
    assert!(
        !stdout.contains("accepted: ") && !stdout.contains("poll "),
        "{stdout}"
    );
    assert!(stdout.contains("transactionTime "), "{stdout}");
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
    // A bad parameter is the server's sentence, exit 1 (it was reached and said no).
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
    assert_exit(&out, 1, &[]);
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
    assert_exit(&out, 64, &["not a time"]);
    let out = fhirside(dir.path(), &["history", "--show", "999"]);
    assert_exit(&out, 64, &["no history entry 999"]);
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

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fhirside"));
    c.env("NO_COLOR", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("fhirside-tests-no-config"),
        );
    c
}

/// Runs `fhirside --workspace WS ARGS` with `stdin` fed to it.
fn fhirside_stdin(ws: &std::path::Path, args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = bin()
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// Runs it with stdout a pipe whose reader is already gone (`fhirside … | head` after head
/// quit), or /dev/full.
fn fhirside_into(ws: &std::path::Path, args: &[&str], stdout: Stdio) -> std::process::Output {
    bin()
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

fn dev_full() -> Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
        .into()
}

/// No control or bidi character that a terminal would act on (a pty's own CRLF aside).
fn assert_clean(what: &str, bytes: &[u8]) {
    let t = text(bytes).replace("\r\n", "\n");
    let bad: Vec<char> = t.chars().filter(|c| is_unsafe(*c)).collect();
    assert!(bad.is_empty(), "{what} holds {bad:?}:\n{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_quietly_and_a_full_disk_is_one_sentence() {
    let (server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let big = ws.join("big.json");
    let items: Vec<String> = (0..20_000).map(|i| format!("{{\"n\":{i}}}")).collect();
    std::fs::write(&big, format!("[{}]", items.join(","))).unwrap();
    let big = big.to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || {
        let run = ["run", "Azure FHIR service/List patients", "--env", "demo"];
        let cases: [&[&str]; 4] = [&["list"], &run, &["history"], &["fmt", &big]];
        let mut seen = Vec::new();
        for args in cases {
            let piped = fhirside_into(&ws, args, closed_pipe());
            let full = fhirside_into(&ws, args, dev_full());
            seen.push((args.join(" "), piped, full));
        }
        seen
    })
    .await
    .unwrap();
    for (args, piped, full) in out {
        assert_eq!(
            piped.status.code(),
            Some(0),
            "{args} | head: {}",
            text(&piped.stderr)
        );
        assert!(
            !text(&piped.stderr).contains("panicked")
                && !text(&piped.stderr).contains("failed printing"),
            "{args}: {}",
            text(&piped.stderr)
        );
        assert_eq!(
            full.status.code(),
            Some(1),
            "{args} > /dev/full: {}",
            text(&full.stderr)
        );
        let err = text(&full.stderr);
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| !l.starts_with("fhirside: using"))
            .collect();
        assert_eq!(lines.len(), 1, "{args}: one sentence: {err}");
        assert!(
            lines[0].contains("No space left on device"),
            "{args}: {err}"
        );
    }
    server.shutdown().await;
}

#[test]
fn exit_codes_follow_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let usage = fhirside(dir.path(), &["--no-such-option"]);
    assert_exit(&usage, 64, &[]);
    let usage = fhirside(dir.path(), &["run"]);
    assert_eq!(usage.status.code(), Some(64), "a missing argument is usage");
    let help = fhirside(dir.path(), &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    for row in ["0   ok", "1   failed", "2   could not send", "64  usage"] {
        assert!(help.contains(row), "{row}: {help}");
    }
    let version = fhirside(dir.path(), &["--version"]);
    assert_eq!(version.status.code(), Some(0));
    let v = text(&version.stdout);
    assert!(
        v.starts_with(&format!("fhirside {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
}

#[test]
fn fmt_reads_stdin_and_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let pretty = "{\n  \"a\": [\n    1\n  ]\n}\n";
    for args in [&["fmt"][..], &["fmt", "-"]] {
        let out = fhirside_stdin(dir.path(), args, br#"{"a":[1]}"#);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), pretty);
    }
    // NDJSON, as an export downloads it: each record pretty-printed, or one a line.
    let nd = "{\"resourceType\":\"Patient\",\"id\":\"1\"}\n\n{ \"resourceType\" : \"Patient\", \"id\" : \"2\", \"n\": 1.50 }\n";
    let file = dir.path().join("Patient-1.ndjson");
    std::fs::write(&file, nd).unwrap();
    let out = fhirside(dir.path(), &["fmt", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{\n  \"resourceType\": \"Patient\",\n  \"id\": \"1\"\n}\n{\n  \"resourceType\": \"Patient\",\n  \"id\": \"2\",\n  \"n\": 1.50\n}\n"
    );
    let out = fhirside_stdin(dir.path(), &["fmt", "--compact"], nd.as_bytes());
    assert_eq!(
        text(&out.stdout),
        "{\"resourceType\":\"Patient\",\"id\":\"1\"}\n{\"resourceType\":\"Patient\",\"id\":\"2\",\"n\":1.50}\n"
    );
    // A bad record is reported with its line and column, and nothing is printed.
    std::fs::write(&file, "{\"a\":1}\n{\"b\":tru}\n").unwrap();
    let out = fhirside(dir.path(), &["fmt", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("Patient-1.ndjson:2:"),
        "{}",
        text(&out.stderr)
    );
    // Colour only when asked for off a terminal.
    let out = fhirside_stdin(dir.path(), &["fmt", "--color", "always"], b"{\"a\":1}");
    assert!(out.stdout.contains(&0x1b), "always colours");
    let out = fhirside_stdin(dir.path(), &["fmt"], b"{\"a\":1}");
    assert!(!out.stdout.contains(&0x1b), "auto off a terminal does not");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_is_made_by_init_and_a_mistyped_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("wrokspace");
    for args in [&["list"][..], &["run", "X/Y"], &["check"], &["history"]] {
        let out = fhirside(&typo, args);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("wrokspace") && err.contains("fhirside init"),
            "{err}"
        );
    }
    // The TUI and the demo refuse it too, before touching the terminal.
    let out = fhirside(&typo, &[]);
    assert_eq!(out.status.code(), Some(64));
    let out = fhirside(&typo, &["--demo"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(!typo.exists(), "nothing was created");
    // init makes it, private, with the template; a second init changes nothing.
    let made = dir.path().join("team");
    let out = bin().arg("init").arg(&made).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "notes go to stderr");
    let (_, ws, problems) = Store::load(&made);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(ws.environments[0].name, "azure");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&made).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let out = bin().arg("init").arg(&made).output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("already holds a workspace"));
    let out = fhirside(&made, &["list"]);
    assert!(
        text(&out.stdout).contains("environment  azure"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_uses_the_only_or_the_active_environment_and_says_which() {
    let (server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking({
        let ws = ws.clone();
        move || fhirside(&ws, &["run", "Azure FHIR service/Health check"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("using environment 'demo' (the workspace's only one)"),
        "{}",
        text(&out.stderr)
    );
    // Two environments: the one the TUI had active.
    write_plain_env(&ws, "other");
    std::fs::write(ws.join(".session.toml"), "active_env = \"demo\"\n").unwrap();
    let out = tokio::task::spawn_blocking({
        let ws = ws.clone();
        move || fhirside(&ws, &["run", "Azure FHIR service/Health check"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("using environment 'demo' (active in the last session)"),
        "{}",
        text(&out.stderr)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_folder_that_cannot_be_written_fails_before_the_kick_off() {
    let (server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let blocker = ws.join("a-file");
    std::fs::write(&blocker, "x").unwrap();
    let target = blocker.join("exports");
    let out = tokio::task::spawn_blocking({
        let ws = ws.clone();
        move || {
            fhirside(
                &ws,
                &[
                    "export",
                    "--env",
                    "demo",
                    "--download",
                    target.to_str().unwrap(),
                ],
            )
        }
    })
    .await
    .unwrap();
    let err = assert_exit(&out, 1, &[]);
    assert!(
        err.contains("cannot be written") && err.contains("a-file"),
        "{err}"
    );
    assert!(!err.contains("accepted"), "no kick-off was sent: {err}");
    assert!(!ws.join("jobs").exists(), "no job was saved");
    server.shutdown().await;
}

/// A server whose every string is hostile: a header with C1 and bidi controls, a body with
/// escape sequences, a token endpoint whose error_description clears the screen.
async fn hostile_server() -> std::net::SocketAddr {
    let body = "{\"resourceType\":\"Patient\",\"name\":\"\u{202e}evil\u{9b}31m\"}\n\u{1b}[2J\u{1b}]0;pwned\u{7}";
    let raw = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Evil: a\u{9b}31mb\u{202e}c\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    fault_servers::raw_server(raw.into_bytes()).await
}

async fn hostile_sign_in_server() -> std::net::SocketAddr {
    let app = Router::new()
        .route(
            "/devicecode",
            post(|| async {
                axum::Json(serde_json::json!({
                    "device_code": "dc",
                    "user_code": "CODE\u{1b}[2J",
                    "verification_uri": "http://127.0.0.1/\u{1b}]8;;http://evil\u{1b}\\",
                    "expires_in": 30,
                    "interval": 1,
                    "message": "Sign in\u{1b}]52;c;aGk=\u{7} now \u{202e}",
                }))
            }),
        )
        .route(
            "/token",
            post(|| async {
                (
                    axum::http::StatusCode::BAD_REQUEST,
                    axum::Json(serde_json::json!({
                        "error": "invalid_grant",
                        "error_description": "gone\u{1b}[2J\u{1b}P1$r\u{1b}\\\u{9b}",
                    })),
                )
            }),
        )
        .route("/fhir/Patient", get(|| async { "{}" }));
    fault_servers::serve(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_a_server_or_a_file_wrote_reaches_the_terminal_as_a_control() {
    let addr = hostile_server().await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().to_path_buf();
    write_env(&ws, "local", &[("fhirurl", &format!("http://{addr}"))]);
    write_request(&ws, "Evil", "Imported", "GET\u{1b}[2J", "{{fhirurl}}/x");
    write_request(
        &ws,
        "Evil",
        "Get",
        "GET",
        "{{fhirurl}}/Patient?name=%1B%5B2J%1B%5D0%3Bt%07%1B%5D52%3Bc%3BaGk%3D%07%1BP1%24r%1B%5C%C2%9B",
    );
    let sign_in = hostile_sign_in_server().await;
    std::fs::write(
        ws.join("environments/signin.toml"),
        format!(
            "[auth]\nkind = \"device_code\"\nflavor = \"oauth2\"\ntoken_url = \"http://{sign_in}/token\"\ndevice_code_url = \"http://{sign_in}/devicecode\"\nclient_id = \"c\"\nscope = \"s\"\n\n[[variables]]\nkey = \"fhirurl\"\nvalue = \"http://{sign_in}/fhir\"\n"
        ),
    )
    .unwrap();
    write_request(&ws, "Evil", "Signed", "GET", "{{fhirurl}}/Patient");
    // An exchange recorded with a decoded URL, headers and body that clear the screen, set the
    // title, write the clipboard, fake a link and send a DCS.
    let hostile = "\u{1b}[2J\u{1b}]0;t\u{7}\u{1b}]52;c;aGk=\u{7}\u{1b}]8;;http://evil\u{1b}\\\u{1b}P1$r\u{1b}\\\u{9b}\u{202e}";
    {
        use fhirside::history::{Exchange, HistoryStore, Outcome, Source};
        let mut store = HistoryStore::open(
            &ws.join(fhirside::history::HISTORY_FILE),
            Default::default(),
        )
        .unwrap();
        store
            .record(&Exchange {
                at_ms: 1_700_000_000_000,
                source: Source::Cli,
                env: Some(format!("env{hostile}")),
                saved: Some(format!("saved{hostile}")),
                method: format!("GET{hostile}"),
                url: format!("http://h/Patient?name={hostile}"),
                request_headers: vec![("X-A".into(), hostile.into())],
                request_body: Some(hostile.as_bytes().to_vec()),
                outcome: Outcome::Answered {
                    status: 200,
                    reason: format!("OK{hostile}"),
                    headers: vec![(format!("X-B{hostile}"), hostile.into())],
                    elapsed_ms: 1,
                    size: hostile.len() as u64,
                    body: hostile.as_bytes().to_vec(),
                    truncated: false,
                },
            })
            .unwrap();
    }
    let outputs = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        let runs: [&[&str]; 5] = [
            &["list"],
            &["run", "Evil/Get", "--env", "local", "--output", "headers"],
            &[
                "run",
                "Evil/Imported",
                "--env",
                "local",
                "--output",
                "headers",
            ],
            &["history"],
            &["run", "Evil/Signed", "--env", "signin"],
        ];
        for args in runs {
            seen.push((args.join(" "), fhirside(&ws, args)));
        }
        let rows: serde_json::Value =
            serde_json::from_slice(&fhirside(&ws, &["history", "--json"]).stdout).unwrap();
        let id = rows[rows.as_array().unwrap().len() - 1]["id"].to_string();
        assert_eq!(id, "1", "the recorded one");
        seen.push((
            "history --show".into(),
            fhirside(&ws, &["history", "--show", &id]),
        ));
        seen.push((
            "history --json".into(),
            fhirside(&ws, &["history", "--json"]),
        ));
        seen
    })
    .await
    .unwrap();
    for (args, out) in &outputs {
        assert_clean(&format!("{args} stdout"), &out.stdout);
        assert_clean(&format!("{args} stderr"), &out.stderr);
    }
    let list = text(&outputs[0].1.stdout);
    assert!(list.contains("GET\\x1b[2J"), "shown, escaped: {list}");
    let headers = text(&outputs[1].1.stdout);
    assert!(headers.contains("a\\u{9b}31mb\\u{202e}c"), "{headers}");
    let history = text(&outputs[3].1.stdout);
    assert!(history.contains("name=\\x1b[2J\\x1b]0;t\\x07"), "{history}");
    let sign_in = text(&outputs[4].1.stderr);
    assert!(sign_in.contains("CODE\\x1b[2J"), "{sign_in}");
    assert!(sign_in.contains("\\x1b]52;c;aGk="), "{sign_in}");
    assert!(sign_in.contains("gone\\x1b[2J"), "{sign_in}");
    let shown = text(&outputs[5].1.stdout);
    assert!(shown.contains("\\x1bP1$r"), "{shown}");
    assert!(shown.contains("\\x1b]52;c;aGk=\\x07"), "{shown}");
    // JSON stays JSON: the same strings, escaped the JSON way.
    let json: serde_json::Value = serde_json::from_slice(&outputs[6].1.stdout).unwrap();
    let rows = json.as_array().unwrap();
    let url = rows[rows.len() - 1]["url"].as_str().unwrap();
    assert!(url.ends_with(hostile), "the data is all there: {url:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_with_controls_is_escaped_on_a_terminal_unless_raw_and_exact_off_it() {
    let addr = hostile_server().await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().to_path_buf();
    write_env(&ws, "local", &[("fhirurl", &format!("http://{addr}"))]);
    write_request(&ws, "Evil", "Get", "GET", "{{fhirurl}}/x");
    let ws_arg = ws.to_str().unwrap().to_string();
    let (on_terminal, raw, piped) = tokio::task::spawn_blocking(move || {
        let term = |extra: &[&str]| {
            let mut args = vec!["--workspace", &ws_arg, "run", "Evil/Get"];
            args.extend_from_slice(extra);
            let mut pty = Pty::spawn_with_env(&args, 120, 30, &[("NO_COLOR", "1")]);
            let status = pty.wait_exit(Duration::from_secs(20)).expect("it ends");
            assert!(status.success());
            pty.raw.clone()
        };
        let on_terminal = term(&[]);
        let raw = term(&["--raw"]);
        let piped = fhirside(std::path::Path::new(&ws_arg), &["run", "Evil/Get"]);
        (on_terminal, raw, piped)
    })
    .await
    .unwrap();
    assert_clean("the body on a terminal", &on_terminal);
    let t = text(&on_terminal);
    assert!(t.contains("\\x1b[2J") && t.contains("\\u{202e}evil"), "{t}");
    assert!(t.contains("--raw prints it as it came"), "{t}");
    assert!(text(&raw).contains("\u{1b}[2J"), "--raw is as it came");
    assert!(
        text(&piped.stdout).ends_with("\u{1b}[2J\u{1b}]0;pwned\u{7}"),
        "byte-exact off a terminal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_manifest_lines_are_sanitised() {
    let addr_holder = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let base = addr_holder.clone();
    let app = Router::new()
        .route(
            "/fhir/$export",
            get(move || {
                let base = base.get().cloned().unwrap_or_default();
                async move {
                    (
                        axum::http::StatusCode::ACCEPTED,
                        [("Content-Location", format!("{base}/status/1"))],
                        "",
                    )
                }
            }),
        )
        .route(
            "/fhir/status/1",
            get(|| async {
                axum::Json(serde_json::json!({
                    "transactionTime": "2026\u{9b}2J\u{202e}",
                    "request": "x",
                    "requiresAccessToken": false,
                    "output": [{
                        "type": "Patient\u{1b}[2J",
                        "url": "http://127.0.0.1:9/\u{1b}]8;;http://evil\u{7}f.ndjson",
                        "count": 1
                    }],
                    "error": []
                }))
            }),
        );
    let addr = fault_servers::serve(app).await;
    let _ = addr_holder.set(format!("http://{addr}/fhir"));
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().to_path_buf();
    write_env(&ws, "local", &[("fhirurl", &format!("http://{addr}/fhir"))]);
    let out =
        tokio::task::spawn_blocking(move || fhirside(&ws, &["export", "--env", "local", "--wait"]))
            .await
            .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_clean("export stdout", &out.stdout);
    assert_clean("export stderr", &out.stderr);
    let t = text(&out.stdout);
    assert!(
        t.contains("Patient\\x1b[2J") && t.contains("2026\\u{9b}2J\\u{202e}"),
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_colour_off_a_terminal_or_with_no_color_for_every_verb() {
    let (server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    let json = ws.join("a.json");
    std::fs::write(&json, "{\"a\":[1,\"x\"]}").unwrap();
    let ws_arg = ws.to_str().unwrap().to_string();
    let json_arg = json.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        let verbs: Vec<Vec<&str>> = vec![
            vec!["list"],
            vec!["run", "Azure FHIR service/List patients"],
            vec![
                "run",
                "Azure FHIR service/List patients",
                "--output",
                "full",
            ],
            vec!["history"],
            vec!["history", "--show", "1"],
            vec!["fmt", &json_arg],
            vec!["check"],
            vec!["export", "--env", "demo", "--type", "Patient"],
        ];
        for verb in &verbs {
            // Piped, colour left to auto (NO_COLOR unset): none.
            let out = Command::new(env!("CARGO_BIN_EXE_fhirside"))
                .arg("--workspace")
                .arg(&ws_arg)
                .args(verb)
                .env_remove("NO_COLOR")
                .env("NO_PROXY", "127.0.0.1,localhost")
                .output()
                .unwrap();
            assert!(
                !out.stdout.contains(&0x1b),
                "{verb:?} piped: {}",
                text(&out.stdout)
            );
            assert!(!out.stderr.contains(&0x1b), "{verb:?} piped stderr");
            // On a terminal with NO_COLOR: none either.
            let mut args = vec!["--workspace", ws_arg.as_str()];
            args.extend(verb.iter().copied());
            let mut pty = Pty::spawn_with_env(&args, 200, 50, &[("NO_COLOR", "1")]);
            pty.wait_exit(Duration::from_secs(30)).expect("it ends");
            assert!(
                !pty.raw.contains(&0x1b),
                "{verb:?} on a terminal with NO_COLOR: {}",
                text(&pty.raw)
            );
        }
        // And on a terminal without NO_COLOR, run and fmt do colour.
        let mut pty = Pty::spawn(&["fmt", &json_arg], 100, 20);
        pty.wait_exit(Duration::from_secs(20)).expect("it ends");
        assert!(pty.raw.contains(&0x1b), "fmt colours on a terminal");
    })
    .await
    .unwrap();
    server.shutdown().await;
}

/// Runs bash's completion for `words` (the last one is being completed) with the script
/// `fhirside completions bash` prints, and returns what bash would offer.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = bin().args(["completions", "bash"]).output().unwrap();
    assert!(script.status.success());
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', r"'\''")))
        .collect();
    let cword = words.len() - 1;
    let program = format!(
        "source /dev/stdin\nCOMP_WORDS=({})\nCOMP_CWORD={cword}\n_clap_complete_fhirside fhirside {} {}\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        quoted.join(" "),
        quoted[cword],
        quoted[cword.saturating_sub(1)],
    );
    let mut child = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("fhirside-tests-no-config"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&script.stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_verbs_request_paths_and_environment_names() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    assert!(bin().arg("init").arg(&ws).status().unwrap().success());
    write_plain_env(&ws, "prod");
    let w = ws.to_str().unwrap();
    assert_eq!(bash_complete(&["fhirside", "comp"]), ["completions"]);
    // Request paths hold spaces: bash gets them escaped, ready to run.
    let offered = bash_complete(&[
        "fhirside",
        "--workspace",
        w,
        "run",
        "Azure\\ FHIR\\ service/L",
    ]);
    assert_eq!(offered, ["Azure\\ FHIR\\ service/List\\ patients"]);
    let offered = bash_complete(&["fhirside", "--workspace", w, "run", "Az"]);
    assert_eq!(offered.len(), 6, "{offered:?}");
    let offered = bash_complete(&["fhirside", "--workspace", w, "run", "X", "--env", ""]);
    assert_eq!(offered, ["azure", "prod"]);
    let offered = bash_complete(&["fhirside", "--workspace", w, "export", "--env", "p"]);
    assert_eq!(offered, ["prod"]);
    assert_eq!(bash_complete(&["fhirside", "import-"]), ["import-data"]);
    let offered = bash_complete(&["fhirside", "--workspace", w, "import-data", "--env", "p"]);
    assert_eq!(offered, ["prod"]);
    // The other shells get a registration script that calls fhirside back.
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains("COMPLETE") && script.contains("fhirside"),
            "{shell}: {script}"
        );
    }
    let out = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn the_man_page_renders_with_every_verb_and_the_exit_codes() {
    let out = bin().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = text(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "roff: {page}"
    );
    for verb in [
        "init",
        "run",
        "check",
        "fmt",
        "completions",
        "history",
        // roff writes a hyphen as \-
        r"bulk\-delete",
        r"import\-data",
        "Exit codes",
    ] {
        assert!(page.contains(verb), "{verb}");
    }
}

#[test]
fn check_reports_every_problem_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    assert!(bin().arg("init").arg(&ws).status().unwrap().success());
    let out = fhirside(&ws, &["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a new workspace is clean: {}",
        text(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    // Break one file of every kind.
    std::fs::write(
        ws.join("environments/bad.toml"),
        "[[variables]]\nkey = \"a\"\nvalue = \"open\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("collections/Azure FHIR service/Typo.toml"),
        "name = \"Typo\"\nurl = \"x\"\nheaders = 3\n",
    )
    .unwrap();
    write_request(&ws, "Azure FHIR service", "Evil", "GET\u{1b}[2J", "x");
    std::fs::write(
        ws.join("settings.toml"),
        "theme = \"light\"\nspool_above_mb = \"lots\"\n",
    )
    .unwrap();
    std::fs::write(ws.join("keys.toml"), "[global]\nsned = \"ctrl-r\"\n").unwrap();
    std::fs::create_dir_all(ws.join("themes")).unwrap();
    std::fs::write(
        ws.join("themes/mine.toml"),
        "name = \"mine\"\n[text]\nfg = \"blurple\"\n",
    )
    .unwrap();
    std::fs::write(ws.join(".session.toml"), "active_env = [\n").unwrap();
    let out = fhirside(&ws, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert_clean("check", &out.stdout);
    let report = text(&out.stdout);
    let lines: Vec<&str> = report.lines().collect();
    for (file, pos) in [
        ("bad.toml", ":3:"),
        ("Typo.toml", ":3:"),
        ("settings.toml", ":2:"),
        ("keys.toml", ":2:"),
        ("mine.toml", ":3:"),
        (".session.toml", ":1:"),
    ] {
        assert!(
            lines.iter().any(|l| l.contains(file) && l.contains(pos)),
            "{file}{pos} in:\n{report}"
        );
    }
    assert!(
        report.contains("Evil.toml") && report.contains("GET\\x1b[2J"),
        "{report}"
    );
    assert!(
        text(&out.stderr).contains("problems in"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_pages_follows_next_links_into_ndjson_bounded() {
    let (server, dir) = demo_workspace().await;
    let ws = dir.path().to_path_buf();
    write_request(
        &ws,
        "Paging",
        "Patients",
        "GET",
        "{{fhirurl}}/Patient?_count=7",
    );
    // A server whose next link is always itself, and one that sends it to another host.
    let looping = Router::new().route(
        "/Patient",
        get(|headers: axum::http::HeaderMap| async move {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_string();
            axum::Json(serde_json::json!({
                "resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}],
                "link": [{"relation": "next", "url": format!("http://{host}/Patient")}],
            }))
        }),
    );
    let looping = fault_servers::serve(looping).await;
    let elsewhere = Router::new().route(
        "/Patient",
        get(|| async {
            axum::Json(serde_json::json!({
                "resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": {"resourceType": "Patient", "id": "q"}}],
                "link": [{"relation": "next", "url": "http://127.0.0.2:9/Patient?page=2"}],
            }))
        }),
    );
    let elsewhere = fault_servers::serve(elsewhere).await;
    write_request(
        &ws,
        "Paging",
        "Loop",
        "GET",
        &format!("http://{looping}/Patient"),
    );
    write_request(
        &ws,
        "Paging",
        "Elsewhere",
        "GET",
        &format!("http://{elsewhere}/Patient"),
    );
    let out_file = ws.join("out").join("patients.ndjson");
    std::fs::create_dir_all(out_file.parent().unwrap()).unwrap();
    let outs = tokio::task::spawn_blocking({
        let (ws, out_file) = (ws.clone(), out_file.clone());
        move || {
            let all = ["run", "Paging/Patients", "--env", "demo", "--all-pages"];
            let mut max = all.to_vec();
            max.extend(["--max", "10"]);
            let mut file = all.to_vec();
            file.extend(["--out", out_file.to_str().unwrap()]);
            vec![
                fhirside(&ws, &all),
                fhirside(&ws, &max),
                fhirside(&ws, &file),
                fhirside(&ws, &["run", "Paging/Loop", "--env", "demo", "--all-pages"]),
                fhirside(
                    &ws,
                    &["run", "Paging/Elsewhere", "--env", "demo", "--all-pages"],
                ),
            ]
        }
    })
    .await
    .unwrap();
    let ids = |b: &[u8]| -> Vec<String> {
        text(b)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("one resource a line");
                assert_eq!(v["resourceType"], "Patient");
                v["id"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let all = &outs[0];
    assert!(all.status.success(), "{}", text(&all.stderr));
    let got = ids(&all.stdout);
    assert_eq!(got.len(), 30, "every patient once");
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 30);
    let progress = text(&all.stderr);
    assert!(progress.contains("page 5 · 30 resources"), "{progress}");
    assert_eq!(ids(&outs[1].stdout).len(), 10, "--max");
    assert!(outs[2].status.success());
    assert!(outs[2].stdout.is_empty(), "--out: nothing on stdout");
    assert_eq!(ids(&std::fs::read(&out_file).unwrap()).len(), 30);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // The same next link forever: one page, a warning, done.
    let looped = &outs[3];
    assert!(looped.status.success(), "{}", text(&looped.stderr));
    assert_eq!(ids(&looped.stdout), ["p"]);
    assert!(
        text(&looped.stderr).contains("already fetched"),
        "{}",
        text(&looped.stderr)
    );
    // Another host: not followed, said so, what came before kept.
    let away = &outs[4];
    assert_eq!(away.status.code(), Some(1));
    assert_eq!(ids(&away.stdout), ["q"]);
    assert!(
        text(&away.stderr).contains("another server"),
        "{}",
        text(&away.stderr)
    );
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
    // A local failure (the files are there): exit 1, see cli/exit.rs.
    assert_eq!(again.status.code(), Some(1));
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
    // " 403" as the warnings say it ("… will answer 403"): the demo's random port may hold
    // the digits (it did: 127.0.0.1:36403).
    assert!(
        !text.contains(" 403"),
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

/// `--fhirpath` on `run` and `fmt`: what the expression selects, one result a line; a bad
/// expression is a usage error before anything is sent, a body that is not JSON a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fhirpath_selects_from_run_and_fmt() {
    let (server, dir) = demo_workspace().await;
    let out = fhirside(
        dir.path(),
        &[
            "run",
            "Azure FHIR service/List patients",
            "--env",
            "demo",
            "--fhirpath",
            "Bundle.entry.resource.ofType(Patient).id",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<&str> = text.lines().collect();
    assert!(
        !ids.is_empty() && ids.iter().all(|l| l.starts_with('"')),
        "{text}"
    );
    // --output json has its own shape: refused, and nothing is sent.
    let out = fhirside(
        dir.path(),
        &[
            "run",
            "Azure FHIR service/List patients",
            "--env",
            "demo",
            "--output",
            "json",
            "--fhirpath",
            "id",
        ],
    );
    assert_eq!(out.status.code(), Some(64));
    // fmt, on a file with escaped non-ASCII.
    let file = dir.path().join("b.json");
    std::fs::write(
        &file,
        r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","name":[{"use":"official","family":"M\u00fcller"},{"use":"nickname","family":"Mu"}]}}]}"#,
    )
    .unwrap();
    let file_arg = file.display().to_string();
    let out = fhirside(
        dir.path(),
        &[
            "fmt",
            "--fhirpath",
            "Bundle.entry.resource.name.where(use='official').family",
            &file_arg,
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\"Müller\"\n");
    let bad = fhirside(dir.path(), &["fmt", "--fhirpath", "name.(", &file_arg]);
    assert_eq!(bad.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not valid FHIRPath"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    std::fs::write(&file, "not json").unwrap();
    let bad = fhirside(dir.path(), &["fmt", "--fhirpath", "name", &file_arg]);
    assert_eq!(bad.status.code(), Some(1));
    server.shutdown().await;
}
