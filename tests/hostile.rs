//! Trust against a hostile server (issue 15 items 1–4): credentials stay with their origin,
//! redirects carry nothing secret elsewhere, a compressed answer cannot fill the disk, and
//! downloads are private. Through the worker and through the real binary, against listeners on
//! 127.0.0.1 that log what they received (`hostile_server`); two listeners are two origins.

mod fault_servers;
mod hostile_server;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use fhirside::worker::export::{ExportJob, ExportParams, Manifest, ManifestOutput};
use fhirside::worker::{
    self, AuthPlan, HttpError, HttpRequest, RequestId, WorkerCommand, WorkerEvent,
};
use fhirside::workspace::{AuthConfig, AuthKind, Environment, RequestSpec, Variable};
use hostile_server::{Listener, Seen, accepted, bystander, listen, manifest, ndjson, redirect};
use tokio::sync::mpsc;

/// The environment's token: it must never arrive anywhere but its own origin.
const TOKEN: &str = "tok-SECRET-0451";
const API_KEY: &str = "apikey-SECRET-0452";
const COOKIE: &str = "cookie-SECRET-0453";
const BODY_SECRET: &str = "body-SECRET-0454";

fn env_for(fhirurl: &str) -> Environment {
    let mut env = Environment::new("hostile");
    env.variables = vec![
        Variable::plain("fhirurl", fhirurl),
        Variable::secret("bearerToken", TOKEN),
    ];
    env.auth = Some(AuthConfig {
        kind: AuthKind::Bearer,
        ..Default::default()
    });
    env
}

fn plan(env: &Environment, url: &str) -> Option<AuthPlan> {
    fhirside::worker::auth::plan_for(env, &[], &RequestSpec::new("t", "GET", url), url)
        .expect("a plan")
}

struct Worker {
    handle: worker::WorkerHandle,
    rx: mpsc::UnboundedReceiver<WorkerEvent>,
}

impl Worker {
    fn new() -> Worker {
        let (tx, rx) = mpsc::unbounded_channel();
        Worker {
            handle: worker::spawn(tx),
            rx,
        }
    }

    /// The next event that is not about sign-in.
    async fn next(&mut self) -> WorkerEvent {
        loop {
            match tokio::time::timeout(Duration::from_secs(30), self.rx.recv())
                .await
                .expect("the worker answered in time")
                .expect("the worker runs")
            {
                WorkerEvent::Auth(_) => {}
                other => return other,
            }
        }
    }

    /// Kicks off an export for `env` at `base` and waits until it is complete.
    async fn export_until_complete(&mut self, env: &Environment, base: &str) -> Box<ExportJob> {
        self.handle.send(WorkerCommand::StartExport {
            env: env.name.clone(),
            base: base.to_string(),
            params: Box::default(),
            auth: plan(env, &format!("{base}/$export")),
        });
        loop {
            match self.next().await {
                WorkerEvent::Job(job)
                    if job.state == fhirside::worker::export::JobState::Complete =>
                {
                    return job;
                }
                WorkerEvent::Job(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Downloads the job's files into `dir` with `env`'s sign-in.
    async fn download(
        &mut self,
        job: Box<ExportJob>,
        dir: std::path::PathBuf,
        env: &Environment,
    ) -> fhirside::worker::export::DownloadReport {
        let auth = plan(env, &job.kickoff_url);
        self.handle
            .send(WorkerCommand::DownloadJob { job, dir, auth });
        loop {
            if let WorkerEvent::DownloadDone { result, .. } = self.next().await {
                return *result.expect("the download ran");
            }
        }
    }

    async fn send(
        &mut self,
        request: HttpRequest,
        auth: Option<AuthPlan>,
    ) -> Result<Box<worker::Received>, HttpError> {
        self.handle.send(WorkerCommand::Send {
            id: RequestId(7),
            request,
            auth,
            record: None,
            read_fhir: false,
        });
        loop {
            if let WorkerEvent::Response { result, .. } = self.next().await {
                return result;
            }
        }
    }
}

fn request(method: &str, url: String, body: Option<&str>) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        url,
        headers: vec![
            ("X-Api-Key".into(), API_KEY.into()),
            ("Cookie".into(), format!("sid={COOKIE}")),
            (
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
        ],
        body: body.map(|b| b.as_bytes().to_vec()),
        timeout: Duration::from_secs(10),
        insecure: false,
    }
}

/// Nothing secret, and no `Referer`, in anything `other` received.
fn assert_nothing_secret(other: &Listener) {
    for secret in [TOKEN, API_KEY, COOKIE, BODY_SECRET] {
        assert!(
            !other.log.contains(secret),
            "{secret} reached the other origin:\n{}",
            other.log.dump()
        );
    }
    for seen in other.log.all() {
        assert_eq!(seen.header("referer"), None, "{}", seen.text());
    }
}

// ----- 1. status URLs and manifests on another origin ---------------------------------------

/// The FHIR service: `$export` answers with `content_location(own origin)`; `/status/1`
/// answers with the manifest `make_manifest(own origin)`; `/files/*` serve NDJSON.
async fn export_service(
    content_location: impl Fn(&str) -> String + Send + Sync + 'static,
    make_manifest: impl Fn(&str) -> axum::response::Response + Send + Sync + 'static,
) -> Listener {
    listen(move |own| {
        Arc::new(move |seen: &Seen| {
            if seen.target.contains("$export") {
                accepted(&content_location(&own))
            } else if seen.target.starts_with("/status/") && seen.method == "DELETE" {
                StatusCode::ACCEPTED.into_response()
            } else if seen.target.starts_with("/status/") {
                make_manifest(&own)
            } else if let Some(rest) = seen.target.strip_prefix("/moved/") {
                // Set by the test through the file name: "moved/PORT/NAME".
                let (port, name) = rest.split_once('/').unwrap_or(("1", rest));
                redirect(302, &format!("http://127.0.0.1:{port}/files/{name}"))
            } else if seen.target.starts_with("/files/") {
                ndjson(3)
            } else {
                StatusCode::NOT_FOUND.into_response()
            }
        })
    })
    .await
}

#[tokio::test]
async fn a_kick_off_pointing_at_another_origin_is_refused_and_never_polled() {
    let foreign = bystander().await;
    let status = foreign.url("/status/1");
    let home = export_service(move |_| status.clone(), |_| manifest(false, &[])).await;
    let env = env_for(&home.origin());
    let mut w = Worker::new();
    w.handle.send(WorkerCommand::StartExport {
        env: env.name.clone(),
        base: home.origin(),
        params: Box::default(),
        auth: plan(&env, &home.url("/$export")),
    });
    match w.next().await {
        WorkerEvent::ExportRefused(text) => {
            assert!(text.contains(&foreign.host_port()), "{text}");
            assert!(text.contains("trusted_origins"), "{text}");
        }
        other => panic!("expected the kick-off to be refused, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(foreign.log.is_empty(), "{}", foreign.log.dump());
}

#[tokio::test]
async fn a_saved_job_whose_status_url_is_elsewhere_is_not_polled() {
    let foreign = bystander().await;
    let home = export_service(|own| format!("{own}/status/1"), |_| manifest(false, &[])).await;
    let env = env_for(&home.origin());
    let job = ExportJob::accepted(
        &env.name,
        &home.url("/$export"),
        &foreign.url("/status/1"),
        ExportParams::default(),
    );
    let mut w = Worker::new();
    w.handle.send(WorkerCommand::WatchJob {
        job: Box::new(job),
        auth: plan(&env, &home.url("/$export")),
    });
    match w.next().await {
        WorkerEvent::Job(job) => {
            let why = job
                .last_error
                .clone()
                .or(job.outcome.clone())
                .unwrap_or_default();
            assert!(why.contains(&foreign.host_port()), "{job:?}");
            assert!(why.contains("trusted_origins"), "{why}");
        }
        other => panic!("expected the job back, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!foreign.log.contains(TOKEN), "{}", foreign.log.dump());
    assert!(foreign.log.is_empty(), "{}", foreign.log.dump());
}

fn finished_job(env: &str, home: &Listener, manifest: Manifest) -> ExportJob {
    let mut job = ExportJob::accepted(
        env,
        &home.url("/$export"),
        &home.url("/status/1"),
        ExportParams::default(),
    );
    job.state = fhirside::worker::export::JobState::Complete;
    job.manifest = Some(manifest);
    job
}

fn output(type_: &str, url: String, count: u64) -> ManifestOutput {
    ManifestOutput {
        type_: type_.into(),
        url,
        count: Some(count),
    }
}

#[tokio::test]
async fn files_that_need_the_token_on_another_origin_are_refused() {
    let foreign = bystander().await;
    let home = export_service(|own| format!("{own}/status/1"), |_| manifest(true, &[])).await;
    let env = env_for(&home.origin());
    let m = Manifest {
        requires_access_token: true,
        output: vec![
            output("Patient", home.url("/files/Patient.ndjson"), 3),
            output("Observation", foreign.url("/files/Observation.ndjson"), 3),
        ],
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut w = Worker::new();
    let report = w
        .download(
            Box::new(finished_job(&env.name, &home, m)),
            dir.path().join("exports").join("job"),
            &env,
        )
        .await;
    let patient = &report.files[0];
    assert_eq!(patient.error, None, "{patient:?}");
    assert_eq!(patient.lines, Some(3));
    let obs = &report.files[1];
    let why = obs.error.clone().unwrap_or_default();
    assert!(why.contains(&foreign.host_port()), "{obs:?}");
    assert!(why.contains("trusted_origins"), "{why}");
    assert!(foreign.log.is_empty(), "{}", foreign.log.dump());
    // The home origin got the token for its own file.
    assert!(
        home.log
            .all()
            .iter()
            .any(|s| s.target == "/files/Patient.ndjson"
                && s.header("authorization") == Some(&format!("Bearer {TOKEN}")))
    );
}

#[tokio::test]
async fn downloads_are_private_files_in_private_folders() {
    let home = export_service(|own| format!("{own}/status/1"), |_| manifest(false, &[])).await;
    let env = env_for(&home.origin());
    let m = Manifest {
        output: vec![output("Patient", home.url("/files/Patient.ndjson"), 3)],
        ..Default::default()
    };
    let ws = tempfile::tempdir().unwrap();
    let job_dir = ws.path().join("exports").join("job-1");
    let mut w = Worker::new();
    let report = w
        .download(
            Box::new(finished_job(&env.name, &home, m)),
            job_dir.clone(),
            &env,
        )
        .await;
    assert!(report.all_good(), "{report:?}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&report.files[0].path), 0o600);
    assert_eq!(mode(&job_dir), 0o700);
    assert_eq!(mode(&ws.path().join("exports")), 0o700);
}

/// A FHIR service (`home`) whose status URL and files are on a second origin (`files`).
async fn status_elsewhere() -> (Listener, Listener) {
    let files = export_service(
        |own| format!("{own}/status/1"),
        |own| {
            manifest(
                true,
                &[("Patient", format!("{own}/files/Patient.ndjson"), 3)],
            )
        },
    )
    .await;
    let status = files.url("/status/1");
    let home = export_service(move |_| status.clone(), |_| manifest(false, &[])).await;
    (home, files)
}

#[tokio::test]
async fn an_origin_listed_in_trusted_origins_gets_the_token() {
    let (home, files) = status_elsewhere().await;
    let mut env = env_for(&home.origin());
    env.trusted_origins = vec![files.origin()];
    let mut w = Worker::new();
    let job = w.export_until_complete(&env, &home.origin()).await;
    let dir = tempfile::tempdir().unwrap();
    let report = w.download(job, dir.path().join("job"), &env).await;
    assert!(report.all_good(), "{report:?}");
    let bearer = format!("Bearer {TOKEN}");
    for target in ["/status/1", "/files/Patient.ndjson"] {
        assert!(
            files
                .log
                .all()
                .iter()
                .any(|s| s.target == target && s.header("authorization") == Some(&bearer)),
            "{target}: {}",
            files.log.dump()
        );
    }
}

// ----- 2. redirects -------------------------------------------------------------------------

/// `/r/CODE` redirects with CODE to `target/landing`; `/same/307` to its own `/echo`.
async fn redirector(target: String) -> Listener {
    listen(move |own| {
        Arc::new(move |seen: &Seen| {
            if let Some(code) = seen.target.strip_prefix("/r/") {
                redirect(code.parse().unwrap_or(302), &format!("{target}/landing"))
            } else if seen.target == "/same/307" {
                redirect(307, &format!("{own}/echo"))
            } else {
                (StatusCode::OK, "echo").into_response()
            }
        })
    })
    .await
}

#[tokio::test]
async fn a_redirect_to_another_origin_carries_no_credentials_and_no_referer() {
    let foreign = bystander().await;
    let home = redirector(foreign.origin()).await;
    let env = env_for(&home.origin());
    let mut w = Worker::new();
    let url = home.url("/r/302");
    let r = w
        .send(request("GET", url.clone(), None), plan(&env, &url))
        .await
        .expect("the redirect is followed");
    assert_eq!(r.response.status, 200);
    assert_eq!(r.response.final_url, foreign.url("/landing"));
    // The first hop had everything.
    let first = &home.log.all()[0];
    assert_eq!(
        first.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(first.header("x-api-key"), Some(API_KEY));
    // The other origin got the request, but nothing secret and no Referer.
    assert_eq!(foreign.log.all().len(), 1, "{}", foreign.log.dump());
    assert_nothing_secret(&foreign);
}

#[tokio::test]
async fn a_307_that_would_resend_a_body_to_another_origin_is_refused() {
    let foreign = bystander().await;
    let home = redirector(foreign.origin()).await;
    let env = env_for(&home.origin());
    let mut w = Worker::new();
    let url = home.url("/r/307");
    let body = format!("grant_type=client_credentials&client_secret={BODY_SECRET}");
    let err = w
        .send(request("POST", url.clone(), Some(&body)), plan(&env, &url))
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(text.contains(&foreign.host_port()), "{text}");
    assert!(text.contains("307"), "{text}");
    assert!(foreign.log.is_empty(), "{}", foreign.log.dump());
    // 308 too.
    let url = home.url("/r/308");
    assert!(
        w.send(request("PUT", url.clone(), Some(&body)), plan(&env, &url))
            .await
            .is_err()
    );
    assert!(foreign.log.is_empty(), "{}", foreign.log.dump());
}

#[tokio::test]
async fn redirected_posts_follow_the_method_rules_and_keep_credentials_at_home() {
    let foreign = bystander().await;
    let home = redirector(foreign.origin()).await;
    let env = env_for(&home.origin());
    let mut w = Worker::new();
    let body = format!("client_secret={BODY_SECRET}");
    // 303 and 302: the other origin is asked with GET and no body.
    for code in ["303", "302", "301"] {
        let url = home.url(&format!("/r/{code}"));
        let r = w
            .send(request("POST", url.clone(), Some(&body)), plan(&env, &url))
            .await
            .expect("followed");
        assert_eq!(r.response.status, 200, "{code}");
    }
    let seen = foreign.log.all();
    assert_eq!(seen.len(), 3, "{}", foreign.log.dump());
    for s in &seen {
        assert_eq!(s.method, "GET", "{}", s.text());
        assert!(s.body.is_empty(), "{}", s.text());
        assert_eq!(s.header("content-type"), None, "{}", s.text());
    }
    assert_nothing_secret(&foreign);
    // A 307 within the same origin re-sends the method, the body and the token.
    let url = home.url("/same/307");
    let r = w
        .send(request("POST", url.clone(), Some(&body)), plan(&env, &url))
        .await
        .expect("followed");
    assert_eq!(r.response.status, 200);
    let echo = home
        .log
        .all()
        .into_iter()
        .find(|s| s.target == "/echo")
        .expect("the echo was reached");
    assert_eq!(echo.method, "POST");
    assert_eq!(echo.body, body.as_bytes());
    assert_eq!(
        echo.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(echo.header("referer"), None);
}

#[tokio::test]
async fn a_redirect_from_https_down_to_http_is_refused() {
    let plain = bystander().await;
    let target = plain.url("/landing");
    let tls = fault_servers::self_signed_with(Arc::new(move |_: &str, _: u16| {
        format!("HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }))
    .await;
    let mut w = Worker::new();
    let mut req = request("GET", format!("https://127.0.0.1:{}/x", tls.port()), None);
    req.insecure = true;
    let err = w.send(req, None).await.expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("https") && text.contains(&plain.url("/landing")),
        "{text}"
    );
    assert!(plain.log.is_empty(), "{}", plain.log.dump());
}

// ----- 3. a compressed answer cannot fill the disk ------------------------------------------

#[tokio::test]
async fn a_gzip_bomb_is_stopped_at_once_with_a_sentence() {
    let sent = Arc::new(AtomicU64::new(0));
    let home = listen({
        let sent = sent.clone();
        move |_| {
            // 100 GB of zeros: about 100 MB on the wire.
            Arc::new(move |_: &Seen| hostile_server::gzip_bomb(100 * 1024, sent.clone()))
        }
    })
    .await;
    let mut w = Worker::new();
    let err = w
        .send(request("GET", home.url("/bomb"), None), None)
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("1,000 times"), "{text}");
    assert!(text.contains("decompression bomb"), "{text}");
    // What the server handed to its socket, which includes what the kernel and hyper buffer
    // on loopback (4 MiB and more on a busy machine) besides what the client read: a bound of a
    // sixth of the bomb shows the client stopped early without depending on the buffers' size.
    let sent = sent.load(Ordering::Relaxed);
    assert!(
        sent < 16 << 20,
        "{sent} compressed bytes were pulled from the server"
    );
}

// ----- through the binary -------------------------------------------------------------------

fn fhirside(ws: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fhirside"));
    cmd.arg("--workspace")
        .arg(ws)
        .args(args)
        .env("NO_COLOR", "1")
        .env("NO_PROXY", "127.0.0.1,localhost");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("fhirside runs")
}

/// A workspace whose environment `hostile` points at `fhirurl` with a bearer token, plus
/// `extra` lines at the top of the environment file.
fn workspace(fhirurl: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("environments")).unwrap();
    std::fs::write(
        dir.path().join("environments/hostile.toml"),
        format!(
            "{extra}\n[auth]\nkind = \"bearer\"\n\n[[variables]]\nkey = \"fhirurl\"\nvalue = \"{fhirurl}\"\n\n[[variables]]\nkey = \"bearerToken\"\nvalue = \"{TOKEN}\"\n"
        ),
    )
    .unwrap();
    dir
}

async fn run_binary(ws: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> std::process::Output {
    let ws = ws.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let extra: Vec<(String, String)> = extra_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let extra: Vec<(&str, &str)> = extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        fhirside(&ws, &args, &extra)
    })
    .await
    .unwrap()
}

/// `fhirside export --env hostile --download OUT`.
async fn export_download(ws: &Path, out: &Path) -> std::process::Output {
    let out = out.to_string_lossy().into_owned();
    run_binary(ws, &["export", "--env", "hostile", "--download", &out], &[]).await
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_export_refuses_a_status_url_on_another_origin() {
    let foreign = bystander().await;
    let status = foreign.url("/status/1");
    let home = export_service(move |_| status.clone(), |_| manifest(false, &[])).await;
    let ws = workspace(&home.origin(), "");
    let out = run_binary(ws.path(), &["export", "--env", "hostile", "--wait"], &[]).await;
    let all = text(&out);
    // The server was reached and its answer refused: exit 1 ("failed"), see cli/exit.rs.
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&foreign.host_port()) && all.contains("trusted_origins"),
        "{all}"
    );
    assert!(foreign.log.is_empty(), "{}", foreign.log.dump());
    // No job was saved for it.
    let jobs = std::fs::read_dir(ws.path().join("jobs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(jobs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_download_keeps_the_token_home_and_writes_private_files() {
    let foreign = bystander().await;
    let foreign_origin = foreign.origin();
    let foreign_port = foreign.addr.port();
    let home = export_service(
        |own| format!("{own}/status/1"),
        move |own| {
            manifest(
                true,
                &[
                    ("Patient", format!("{own}/files/Patient.ndjson"), 3),
                    (
                        "Observation",
                        format!("{foreign_origin}/files/Observation.ndjson"),
                        3,
                    ),
                    // On the home origin, but redirected to the other one.
                    (
                        "Encounter",
                        format!("{own}/moved/{foreign_port}/Encounter.ndjson"),
                        3,
                    ),
                ],
            )
        },
    )
    .await;
    let ws = workspace(&home.origin(), "");
    let out_dir = ws.path().join("out");
    let out = export_download(ws.path(), &out_dir).await;
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&foreign.host_port()) && all.contains("trusted_origins"),
        "{all}"
    );
    // The other origin saw only the redirected request: no token, no Referer.
    let seen = foreign.log.all();
    assert_eq!(seen.len(), 1, "{}", foreign.log.dump());
    assert_eq!(seen[0].target, "/files/Encounter.ndjson");
    assert_nothing_secret(&foreign);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out_dir.join("Patient.ndjson")), 0o600);
    assert_eq!(mode(&out_dir), 0o700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_run_stops_a_body_over_the_decoded_limit_and_leaves_no_temporary_file() {
    // About 10:1, under the ratio check: the size limit is what stops it.
    let lines: String = (0..20_000)
        .map(|i| format!("{{\"resourceType\":\"Observation\",\"id\":\"o{i}\",\"valueQuantity\":{{\"value\":{}}}}}\n", i * 7919 % 10007))
        .collect();
    let chunk = axum::body::Bytes::from(lines);
    let times = (64 << 20) / chunk.len() + 1;
    let sent = Arc::new(AtomicU64::new(0));
    let home = listen({
        let sent = sent.clone();
        move |_| {
            Arc::new(move |_: &Seen| {
                hostile_server::lazy_gzip(
                    chunk.clone(),
                    times,
                    flate2::Compression::fast(),
                    sent.clone(),
                )
            })
        }
    })
    .await;
    let ws = workspace(&home.origin(), "");
    let (mut store, _, _) = fhirside::workspace::Store::load(ws.path());
    let mut root = fhirside::workspace::Folder::new("Hostile");
    root.requests.push(fhirside::workspace::SavedRequest {
        file_stem: "Big".into(),
        spec: RequestSpec::new("Big", "GET", "{{fhirurl}}/big"),
    });
    store
        .save_collection(&fhirside::workspace::Collection {
            root,
            ..Default::default()
        })
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = run_binary(
        ws.path(),
        &["run", "Hostile/Big", "--env", "hostile"],
        &[
            ("TMPDIR", tmp.path().to_str().unwrap()),
            ("FHIRSIDE_SPOOL_ABOVE_MB", "1"),
            ("FHIRSIDE_MAX_DECODED_MB", "20"),
        ],
    )
    .await;
    let all = text(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        &all[..all.len().min(2000)]
    );
    assert!(
        all.contains("20 MiB") && all.contains("max_decoded_mb"),
        "{all}"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_export_follows_a_status_url_on_a_trusted_origin() {
    let (home, files) = status_elsewhere().await;
    let ws = workspace(
        &home.origin(),
        &format!(
            "trusted_origins = [\"{}\", \"https://bad/path\"]",
            files.origin()
        ),
    );
    let out_dir = ws.path().join("out");
    let out = export_download(ws.path(), &out_dir).await;
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    // The entry that is not an origin is named, and ignored.
    assert!(all.contains("'https://bad/path' has a path"), "{all}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("Patient.ndjson"))
            .unwrap()
            .lines()
            .count(),
        3
    );
    assert!(files.log.contains(&format!("Bearer {TOKEN}")));
}

// ----- Azure Storage downloads (issue 16) ---------------------------------------------------

const FHIR_TOKEN: &str = "fhir-tok-0461";
const STORAGE_TOKEN: &str = "storage-tok-0462";

fn ndjson_lines(n: usize, tag: &str) -> Vec<u8> {
    (0..n)
        .map(|i| format!("{{\"resourceType\":\"Patient\",\"id\":\"{tag}-{i}\"}}\n"))
        .collect::<String>()
        .into_bytes()
}

/// An Entra client-credentials environment whose storage host is `storage_origin`.
fn entra_env(fhirurl: &str, authority: &str, storage_origin: &str) -> Environment {
    let mut env = Environment::new("azure");
    env.variables = vec![
        Variable::plain("fhirurl", fhirurl),
        Variable::plain("authority", authority),
        Variable::plain("tenantid", "t1"),
        Variable::plain("clientid", "app"),
        Variable::secret("clientsecret", "app-secret-0463"),
    ];
    env.auth = Some(AuthConfig {
        kind: AuthKind::ClientCredentials,
        ..Default::default()
    });
    env.storage_hosts = Some(vec![storage_origin.to_string()]);
    env
}

#[tokio::test]
async fn storage_files_come_with_a_storage_token_and_throttling_follows_azures_header() {
    use hostile_server::blob::{BlobOptions, blob_store};
    let idp = hostile_server::idp(FHIR_TOKEN, STORAGE_TOKEN).await;
    let blobs: std::collections::HashMap<String, Vec<u8>> = (1..=6)
        .map(|i| {
            (
                format!("export/job1/Patient-{i}.ndjson"),
                ndjson_lines(500, &i.to_string()),
            )
        })
        .collect();
    let store = blob_store(
        BlobOptions {
            token: STORAGE_TOKEN.into(),
            throttle_first: 2,
            ..Default::default()
        },
        blobs,
    )
    .await;
    let blob_origin = store.listener.origin();
    // The status URL is throttled once with x-ms-retry-after-ms 40 and Retry-After 30.
    let polls = Arc::new(AtomicU64::new(0));
    let fhir = listen({
        let polls = polls.clone();
        move |own| {
            Arc::new(move |seen: &Seen| {
                if seen.target.contains("$export") {
                    return accepted(&format!("{own}/status/1"));
                }
                if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                    return (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("x-ms-retry-after-ms", "40"), ("retry-after", "30")],
                        "",
                    )
                        .into_response();
                }
                let outputs: Vec<(&str, String, u64)> = (1..=6)
                    .map(|i| {
                        (
                            "Patient",
                            format!("{blob_origin}/export/job1/Patient-{i}.ndjson"),
                            500,
                        )
                    })
                    .collect();
                manifest(false, &outputs)
            })
        }
    })
    .await;
    let env = entra_env(&fhir.origin(), &idp.origin(), &store.listener.origin());
    let mut w = Worker::new();
    let started = std::time::Instant::now();
    let job = w.export_until_complete(&env, &fhir.origin()).await;
    // First poll at 1 s, the throttled one retried after the 1 s floor, not 30 s.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(job.throttled, 1);
    let dir = tempfile::tempdir().unwrap();
    let download_started = std::time::Instant::now();
    let report = w.download(job, dir.path().join("job"), &env).await;
    assert!(report.all_good(), "{report:?}");
    assert_eq!(report.throttled(), 2);
    assert!(download_started.elapsed() < Duration::from_secs(10));
    for f in &report.files {
        assert_eq!(f.lines, Some(500), "{f:?}");
        let mode = std::fs::metadata(&f.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Storage saw only the storage token, always with a service version; the FHIR token
    // stayed with the FHIR service.
    let seen = store.listener.log.all();
    assert!(seen.len() >= 8, "{}", store.listener.log.dump());
    for s in &seen {
        assert_eq!(s.header("x-ms-version"), Some("2021-08-06"), "{}", s.text());
        assert_eq!(
            s.header("authorization"),
            Some(format!("Bearer {STORAGE_TOKEN}").as_str())
        );
    }
    assert!(!store.listener.log.contains(FHIR_TOKEN));
    assert!(
        idp.log
            .contains("resource=https%3A%2F%2Fstorage.azure.com%2F"),
        "{}",
        idp.log.dump()
    );
    assert!(!fhir.log.contains(STORAGE_TOKEN));
}

#[tokio::test]
async fn storage_refusals_are_sentences() {
    use fhirside::worker::credentials::CredentialPolicy;
    use fhirside::worker::export::{DownloadCredentials, DownloadOptions, download_all};
    use hostile_server::blob::{BlobOptions, blob_store};
    // A blob URL of Azure's shape, resolved to the stand-in without any DNS query.
    async fn fetch(
        options: BlobOptions,
        path: &str,
        token: Option<&str>,
        unavailable: Option<&str>,
    ) -> String {
        let blobs = [(
            "export/job1/Patient-1.ndjson".to_string(),
            ndjson_lines(3, "p"),
        )]
        .into_iter()
        .collect();
        let store = blob_store(options, blobs).await;
        let host = "acct.blob.core.windows.net";
        let client = fhirside::worker::http::client_builder()
            .resolve(host, store.listener.addr)
            .build()
            .unwrap();
        let origin = format!("http://{host}:{}", store.listener.addr.port());
        let env = entra_env(
            "https://ws-svc.fhir.azurehealthcareapis.com",
            "http://x",
            &origin,
        );
        let policy = CredentialPolicy::for_environment(&env, &[]);
        let m = Manifest {
            output: vec![output("Patient", format!("{origin}{path}"), 3)],
            ..Default::default()
        };
        let creds = DownloadCredentials {
            storage_token: token,
            storage_unavailable: unavailable,
            ..DownloadCredentials::without_tokens(&policy)
        };
        let dir = tempfile::tempdir().unwrap();
        let report = download_all(
            &client,
            &m,
            dir.path(),
            creds,
            &DownloadOptions::default(),
            &|_| {},
        )
        .await
        .unwrap();
        assert_eq!(report.files[0].attempts, 1, "a refusal is not retried");
        report.files[0].error.clone().unwrap_or_default()
    }
    let ok = || BlobOptions {
        token: STORAGE_TOKEN.into(),
        ..Default::default()
    };
    let file = "/export/job1/Patient-1.ndjson";
    let e = fetch(
        BlobOptions {
            no_role: true,
            ..ok()
        },
        file,
        Some(STORAGE_TOKEN),
        None,
    )
    .await;
    assert!(
        e.contains("the app needs the Storage Blob Data Reader role on acct"),
        "{e}"
    );
    let e = fetch(
        ok(),
        file,
        None,
        Some("a fixed bearer token is for the FHIR service only"),
    )
    .await;
    assert!(
        e.contains("none was sent") && e.contains("fixed bearer token"),
        "{e}"
    );
    let e = fetch(
        BlobOptions {
            public_access_off: true,
            ..ok()
        },
        file,
        None,
        None,
    )
    .await;
    assert!(e.contains("Public access is not permitted on acct"), "{e}");
    let e = fetch(ok(), file, Some("fhir-token-by-mistake"), None).await;
    assert!(e.contains("https://storage.azure.com"), "{e}");
    let e = fetch(ok(), "/nocontainer/x.ndjson", Some(STORAGE_TOKEN), None).await;
    assert!(e.contains("container is not in acct"), "{e}");
    let e = fetch(ok(), "/export/job1/Gone.ndjson", Some(STORAGE_TOKEN), None).await;
    assert!(e.contains("file is not in acct"), "{e}");
    let e = fetch(ok(), &format!("{file}?se=2020-01-01&sig=abc"), None, None).await;
    assert!(e.contains("signed link (SAS) on acct has expired"), "{e}");
}
