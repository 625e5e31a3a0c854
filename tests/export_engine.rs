//! The bulk export engine against the demo server (short export durations) and tiny local
//! servers for the edge cases, all on 127.0.0.1.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fhirside::demo::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_GROUP_ID, DEMO_TENANT_ID, DemoOptions, DemoServer,
    Faults,
};
use fhirside::worker::credentials::CredentialPolicy;
use fhirside::worker::export::download::{DownloadOptions, download_all};
use fhirside::worker::export::*;
use fhirside::workspace::jobs::JobStore;

/// A credential policy that trusts the origin of `url` (the server under test).
fn home(url: &str) -> CredentialPolicy {
    CredentialPolicy::for_origin_of(url)
}

fn creds<'a>(policy: &'a CredentialPolicy, token: Option<&'a str>) -> DownloadCredentials<'a> {
    DownloadCredentials {
        fhir_token: token,
        ..DownloadCredentials::without_tokens(policy)
    }
}

/// One poll, trusting the job's own status URL.
async fn poll(c: &reqwest::Client, job: &mut ExportJob, token: Option<&str>) -> PollResult {
    let policy = home(&job.status_url);
    poll_once(c, job, &policy, token).await
}

async fn cancel_job(
    c: &reqwest::Client,
    job: &mut ExportJob,
    token: Option<&str>,
) -> Result<(), ExportError> {
    let policy = home(&job.status_url);
    cancel(c, job, &policy, token).await
}

async fn wait<T: TokenSource>(
    c: &reqwest::Client,
    job: &mut ExportJob,
    tokens: &mut T,
    on_poll: impl FnMut(&ExportJob, &PollResult),
) -> PollResult {
    let policy = home(&job.status_url);
    wait_until_done(c, job, &policy, tokens, on_poll).await
}

const LIMIT: Duration = Duration::from_secs(30);

fn client() -> reqwest::Client {
    fhirside::worker::http::client()
}

async fn demo(o: DemoOptions) -> DemoServer {
    DemoServer::start(0, o).await.expect("demo server")
}

fn opts(duration_ms: u64) -> DemoOptions {
    DemoOptions {
        patients: 20,
        export_duration: Duration::from_millis(duration_ms),
        // The downloads here send no storage token (yet): let the demo's storage serve them.
        storage_public_read: true,
        ..Default::default()
    }
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
    assert!(r.status().is_success());
    let v: serde_json::Value = r.json().await.expect("token json");
    v["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// Polls quickly (1 s, steady) so tests stay short; the floor of 1 s still holds.
fn fast() -> PollPolicy {
    PollPolicy {
        initial: Duration::from_secs(1),
        factor: 1.0,
        ceiling: Duration::from_secs(2),
    }
}

async fn start_job(s: &DemoServer, tok: &str, params: ExportParams) -> ExportJob {
    let mut tokens = FixedToken(tok.to_string());
    kickoff_with(
        &client(),
        "demo",
        &s.fhir_url(),
        &params,
        &home(&s.fhir_url()),
        &mut tokens,
    )
    .await
    .expect("kick-off")
    .with_policy(fast())
}

async fn run(job: &mut ExportJob, tok: &str) -> (PollResult, Vec<PollResult>, Vec<ExportJob>) {
    let mut tokens = FixedToken(tok.to_string());
    let mut seen = Vec::new();
    let mut snapshots = Vec::new();
    let r = tokio::time::timeout(
        LIMIT,
        wait(&client(), job, &mut tokens, |j, r| {
            seen.push(r.clone());
            snapshots.push(j.clone());
        }),
    )
    .await
    .expect("export finished in time");
    (r, seen, snapshots)
}

#[tokio::test]
async fn complete_job_with_progress_then_download() {
    let mut o = opts(2500);
    o.progress_headers = true;
    let s = demo(o).await;
    let tok = token(&s).await;
    let mut job = start_job(&s, &tok, ExportParams::default()).await;
    assert_eq!(job.state, JobState::Accepted);
    assert!(job.status_url.contains("/_operations/export/"));
    assert!(job.kickoff_url.ends_with("/$export"));
    let (r, seen, snapshots) = run(&mut job, &tok).await;
    assert_eq!(r, PollResult::Complete, "{seen:?}");
    let percents: Vec<f64> = snapshots
        .iter()
        .filter_map(|j| match &j.progress {
            Some(Progress::Percent(p)) => Some(*p),
            _ => None,
        })
        .collect();
    assert!(!percents.is_empty(), "{snapshots:?}");
    assert!(percents.iter().all(|p| (0.0..100.0).contains(p)));
    // Retry-After from the server drove the pace: never sooner than 1 s.
    for j in &snapshots {
        if let (Some(last), Some(next)) = (j.last_poll_at, j.next_poll_at) {
            assert!(next.duration_since(last).unwrap_or_default() >= Duration::from_secs(1));
        }
    }
    assert_eq!(job.state, JobState::Complete);
    assert_eq!(job.progress, None);
    let m = job.manifest.clone().expect("manifest");
    // As Azure: the files are on the storage account, which wants its own token.
    assert!(!m.requires_access_token);
    assert!(m.transaction_time.is_some());
    let patient = m
        .output
        .iter()
        .find(|o| o.type_ == "Patient")
        .expect("Patient file");
    assert_eq!(patient.count, Some(20));

    let dir = tempfile::tempdir().expect("tmp");
    let events = Mutex::new(Vec::new());
    let report = download_all(
        &client(),
        &m,
        dir.path(),
        creds(&home(&s.fhir_url()), Some(&tok)),
        &DownloadOptions::default(),
        &|e| events.lock().expect("lock").push(e),
    )
    .await
    .expect("download");
    assert!(report.all_good(), "{report:?}");
    assert_eq!(report.files.len(), m.output.len());
    for f in &report.files {
        assert_eq!(f.lines, f.expected, "{f:?}");
        assert!(f.path.starts_with(dir.path()) && f.path.exists());
        assert!(
            !dir.path()
                .join(format!(
                    "{}.part",
                    f.path.file_name().unwrap_or_default().to_string_lossy()
                ))
                .exists()
        );
    }
    let events = events.into_inner().expect("events");
    let last_progress = events
        .iter()
        .rev()
        .find_map(|e| match e {
            DownloadEvent::Progress(p) => Some(p.clone()),
            _ => None,
        })
        .expect("progress events");
    assert!(last_progress.all_done > 0);
    let done = events
        .iter()
        .filter(|e| matches!(e, DownloadEvent::FileDone(_)))
        .count();
    assert_eq!(done, report.files.len());
    let total: u64 = report.files.iter().map(|f| f.bytes).sum();
    assert_eq!(report.bytes_received, total);
    s.shutdown().await;
}

#[tokio::test]
async fn complete_group_job_without_progress_headers() {
    let s = demo(opts(1500)).await;
    let tok = token(&s).await;
    let params = ExportParams {
        scope: ExportScope::Group(DEMO_GROUP_ID.into()),
        types: vec!["Patient".into(), "Observation".into()],
        ..Default::default()
    };
    let mut job = start_job(&s, &tok, params).await;
    assert!(
        job.kickoff_url
            .contains(&format!("/Group/{DEMO_GROUP_ID}/$export?_type="))
    );
    let (r, seen, snapshots) = run(&mut job, &tok).await;
    assert_eq!(r, PollResult::Complete);
    assert!(seen.contains(&PollResult::Running), "{seen:?}");
    // Bare 202s: no progress is made up.
    assert!(snapshots.iter().all(|j| j.progress.is_none()));
    let m = job.manifest.expect("manifest");
    assert!(!m.output.is_empty());
    assert!(
        m.output
            .iter()
            .all(|o| o.type_ == "Patient" || o.type_ == "Observation")
    );
    s.shutdown().await;
}

#[tokio::test]
async fn throttled_polls_keep_going() {
    let mut o = opts(3000);
    o.faults = Faults {
        export_throttle: true,
        ..Default::default()
    };
    let s = demo(o).await;
    let tok = token(&s).await;
    let mut job = start_job(&s, &tok, ExportParams::default()).await;
    let (r, seen, snapshots) = run(&mut job, &tok).await;
    assert_eq!(r, PollResult::Complete, "{seen:?}");
    let i = seen
        .iter()
        .position(|r| matches!(r, PollResult::Throttled(_)))
        .expect("a throttled poll");
    let shown = snapshots[i].last_error.clone().unwrap_or_default();
    assert!(shown.contains("429") || shown.contains("503"), "{shown}");
    assert!(shown.contains("retry after some time"), "{shown}");
    // Retry-After: 1 honoured after the throttled answer.
    let j = &snapshots[i];
    let wait = j
        .next_poll_at
        .and_then(|n| n.duration_since(j.last_poll_at?).ok())
        .expect("scheduled");
    assert!(wait >= Duration::from_secs(1));
    assert_eq!(job.last_error, None, "cleared by the completion");
    s.shutdown().await;
}

#[tokio::test]
async fn failed_job_shows_its_outcome_and_refused_kickoffs_explain() {
    let mut o = opts(1000);
    o.faults = Faults {
        export_fail: true,
        ..Default::default()
    };
    let s = demo(o).await;
    let tok = token(&s).await;
    let mut job = start_job(&s, &tok, ExportParams::default()).await;
    let (r, _, _) = run(&mut job, &tok).await;
    let PollResult::Failed(why) = r else {
        panic!("expected a failure, got {r:?}");
    };
    assert!(why.contains("simulated failure"), "{why}");
    assert_eq!(job.state, JobState::Failed);
    assert!(
        job.outcome
            .as_deref()
            .unwrap_or("")
            .contains("error: The export job failed")
    );
    assert_eq!(job.next_poll_at, None);

    // A refused kick-off carries the OperationOutcome's diagnostics.
    let bad = ExportParams {
        types: vec!["Nope".into()],
        ..Default::default()
    };
    let err = kickoff_with(
        &client(),
        "demo",
        &s.fhir_url(),
        &bad,
        &home(&s.fhir_url()),
        &mut FixedToken(tok.clone()),
    )
    .await
    .expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("400") && text.contains("'Nope'"), "{text}");
    let err = kickoff_with(
        &client(),
        "demo",
        &s.fhir_url(),
        &ExportParams {
            scope: ExportScope::Group("no-such-group".into()),
            ..Default::default()
        },
        &home(&s.fhir_url()),
        &mut FixedToken(tok.clone()),
    )
    .await
    .expect_err("no group");
    assert!(err.to_string().contains("404"), "{err}");
    // No token at all: 401, reported distinctly.
    let err = kickoff(
        &client(),
        "demo",
        &ExportParams::default(),
        &kickoff_request(&s.fhir_url(), &ExportParams::default()),
        &home(&s.fhir_url()),
        None,
    )
    .await
    .expect_err("unauthorised");
    assert_eq!(err, ExportError::Unauthorized);
    s.shutdown().await;
}

#[tokio::test]
async fn cancel_then_poll_is_gone() {
    let s = demo(opts(20_000)).await;
    let tok = token(&s).await;
    let c = client();
    let mut job = start_job(&s, &tok, ExportParams::default()).await;
    assert_eq!(poll(&c, &mut job, Some(&tok)).await, PollResult::Running);
    cancel_job(&c, &mut job, Some(&tok)).await.expect("cancel");
    assert_eq!(job.state, JobState::Cancelled);
    assert_eq!(job.next_poll_at, None);
    assert_eq!(poll(&c, &mut job, Some(&tok)).await, PollResult::Gone);
    assert_eq!(job.state, JobState::Cancelled);
    assert_eq!(job.polls, 2);
    // Cancelling again: the server has forgotten it; still cancelled, no error.
    cancel_job(&c, &mut job, Some(&tok))
        .await
        .expect("cancel again");
    assert_eq!(job.state, JobState::Cancelled);
    // The driver does not poll a cancelled job.
    let (r, seen, _) = run(&mut job, &tok).await;
    assert_eq!(r, PollResult::Gone);
    assert!(seen.is_empty());
    s.shutdown().await;
}

/// Hands out a stale token first, then the good one when told it was refused.
struct Rotating {
    good: String,
    calls: usize,
    refused: Vec<String>,
}

impl TokenSource for Rotating {
    fn token(
        &mut self,
        refused: Option<&str>,
    ) -> impl std::future::Future<Output = Result<Option<String>, String>> + Send {
        self.calls += 1;
        if let Some(r) = refused {
            self.refused.push(r.to_string());
        }
        let t = if refused.is_some() {
            self.good.clone()
        } else {
            "stale-token".to_string()
        };
        async move { Ok(Some(t)) }
    }
}

#[tokio::test]
async fn a_401_gets_a_fresh_token_and_continues() {
    let s = demo(opts(1000)).await;
    let tok = token(&s).await;
    let c = client();
    let mut tokens = Rotating {
        good: tok.clone(),
        calls: 0,
        refused: vec![],
    };
    let mut job = kickoff_with(
        &c,
        "demo",
        &s.fhir_url(),
        &ExportParams::default(),
        &home(&s.fhir_url()),
        &mut tokens,
    )
    .await
    .expect("kick-off after a refresh")
    .with_policy(fast());
    assert_eq!(tokens.refused, ["stale-token"]);
    assert_eq!(
        poll(&c, &mut job, Some("stale-token")).await,
        PollResult::Unauthorized
    );
    assert_eq!(job.state, JobState::Accepted);
    let r = tokio::time::timeout(LIMIT, wait(&c, &mut job, &mut tokens, |_, _| {}))
        .await
        .expect("in time");
    assert_eq!(r, PollResult::Complete);
    assert!(tokens.refused.len() >= 2);
    // Every token refused: the driver stops and says so, the job stays resumable.
    let mut job2 = start_job(&s, &tok, ExportParams::default()).await;
    let mut bad = FixedToken("bad".into());
    let r = tokio::time::timeout(LIMIT, wait(&c, &mut job2, &mut bad, |_, _| {}))
        .await
        .expect("in time");
    assert_eq!(r, PollResult::Unauthorized);
    assert!(!job2.state.is_terminal());
    assert!(
        job2.last_error
            .as_deref()
            .unwrap_or("")
            .contains("fresh token")
    );
    // No sign-in configured: one poll, and a sentence saying so.
    let polls = job2.polls;
    let policy = home(&job2.status_url);
    assert_eq!(
        poll_with(&c, &mut job2, &policy, &mut NoToken).await,
        PollResult::Unauthorized
    );
    assert_eq!(job2.polls, polls + 1);
    assert!(
        job2.last_error
            .as_deref()
            .unwrap_or("")
            .contains("requires sign-in")
    );
    s.shutdown().await;
}

#[tokio::test]
async fn jobs_survive_a_restart_and_resume() {
    let s = demo(opts(2000)).await;
    let tok = token(&s).await;
    let c = client();
    let ws = tempfile::tempdir().expect("ws");
    let mut job = start_job(&s, &tok, ExportParams::default()).await;
    assert_eq!(poll(&c, &mut job, Some(&tok)).await, PollResult::Running);
    let id = job.id.clone();
    {
        let (mut store, jobs, problems) = JobStore::load(ws.path());
        assert!(jobs.is_empty() && problems.is_empty());
        store.save(&job).expect("save");
    }
    drop(job);
    let text = std::fs::read_to_string(ws.path().join("jobs").join(format!("{id}.toml")))
        .expect("job file");
    assert!(!text.contains(&tok), "no token in the job file");

    // "Restart": load and carry on.
    let (mut store, jobs, problems) = JobStore::load(ws.path());
    assert!(problems.is_empty(), "{problems:?}");
    let mut job = jobs
        .into_iter()
        .find(|j| j.id == id)
        .expect("the job")
        .with_policy(fast());
    assert_eq!(job.state, JobState::InProgress);
    assert_eq!(job.polls, 1);
    let mut tokens = FixedToken(tok.clone());
    let r = tokio::time::timeout(
        LIMIT,
        wait(&c, &mut job, &mut tokens, |j, _| {
            store.save(j).expect("save after poll");
        }),
    )
    .await
    .expect("in time");
    assert_eq!(r, PollResult::Complete);
    let (_, jobs, _) = JobStore::load(ws.path());
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].state, JobState::Complete);
    assert!(jobs[0].polls >= 2);
    assert_eq!(jobs[0].manifest, job.manifest);
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Local servers for the edge cases.

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

fn bare_job(status_url: &str) -> ExportJob {
    ExportJob::accepted(
        "local",
        "http://127.0.0.1/$export",
        status_url,
        ExportParams::default(),
    )
}

#[tokio::test]
async fn retry_after_decides_the_next_poll() {
    let date = httpdate(SystemTime::now() + Duration::from_secs(5));
    let app = Router::new()
        .route(
            "/status/seconds",
            get(|| async {
                (
                    StatusCode::ACCEPTED,
                    [("retry-after", "2"), ("x-progress", "3 of 10")],
                )
            }),
        )
        .route(
            "/status/date",
            get(move || async move { (StatusCode::ACCEPTED, [("retry-after", date)]) }),
        )
        .route(
            "/status/huge",
            get(|| async { (StatusCode::ACCEPTED, [("retry-after", "999999")]) }),
        )
        .route(
            "/status/zero",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "0")]) }),
        );
    let addr = serve(app).await;
    let c = client();
    let gap = |j: &ExportJob| {
        j.next_poll_at
            .and_then(|n| n.duration_since(j.last_poll_at?).ok())
            .expect("scheduled")
    };
    let mut j = bare_job(&format!("http://{addr}/status/seconds"));
    assert_eq!(poll(&c, &mut j, None).await, PollResult::Running);
    assert!(gap(&j) >= Duration::from_secs(2) && gap(&j) < Duration::from_secs(3));
    assert_eq!(j.progress, Some(Progress::Fraction { done: 3, total: 10 }));
    let mut j = bare_job(&format!("http://{addr}/status/date"));
    poll(&c, &mut j, None).await;
    assert!(
        gap(&j) >= Duration::from_secs(3) && gap(&j) <= Duration::from_secs(6),
        "{:?}",
        gap(&j)
    );
    let mut j = bare_job(&format!("http://{addr}/status/huge"));
    poll(&c, &mut j, None).await;
    assert_eq!(gap(&j), Duration::from_secs(3600));
    let mut j = bare_job(&format!("http://{addr}/status/zero"));
    assert!(matches!(
        poll(&c, &mut j, None).await,
        PollResult::Throttled(_)
    ));
    assert!(gap(&j) >= Duration::from_secs(1));
    // Nothing listening: a network error, shown, not fatal.
    let mut j = bare_job("http://127.0.0.1:9/status");
    assert!(matches!(
        poll(&c, &mut j, None).await,
        PollResult::NetworkError(_)
    ));
    assert_eq!(j.state, JobState::Accepted);
    assert!(j.last_error.is_some());
    assert!(gap(&j) >= Duration::from_secs(1));
}

fn httpdate(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

const FOUR_LINES: &str = "{\"resourceType\":\"Patient\",\"id\":\"1\"}\n{\"resourceType\":\"Patient\",\"id\":\"2\"}\n{\"resourceType\":\"Patient\",\"id\":\"3\"}\n{\"resourceType\":\"Patient\",\"id\":\"4\"}\n";

#[tokio::test]
async fn a_line_count_mismatch_is_flagged() {
    let app = Router::new()
        .route(
            "/status",
            get(|headers: HeaderMap| async move {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    format!(
                        r#"{{"transactionTime":"2024-01-01T00:00:00Z","request":"x","requiresAccessToken":false,
                        "output":[{{"type":"Patient","url":"http://{host}/files/Patient-1.ndjson","count":5}}],"error":[]}}"#
                    ),
                )
            }),
        )
        .route(
            "/files/Patient-1.ndjson",
            get(|headers: HeaderMap| async move {
                // requiresAccessToken is false: no token must arrive.
                if headers.contains_key(header::AUTHORIZATION) {
                    return StatusCode::BAD_REQUEST.into_response();
                }
                FOUR_LINES.into_response()
            }),
        );
    let addr = serve(app).await;
    let c = client();
    let mut job = bare_job(&format!("http://{addr}/status"));
    assert_eq!(poll(&c, &mut job, None).await, PollResult::Complete);
    let m = job.manifest.expect("manifest");
    let dir = tempfile::tempdir().expect("tmp");
    let report = download_all(
        &c,
        &m,
        dir.path(),
        creds(&home(&format!("http://{addr}")), Some("secret-token")),
        &DownloadOptions::default(),
        &|_| {},
    )
    .await
    .expect("download");
    let f = &report.files[0];
    assert_eq!(f.error, None);
    assert_eq!(f.lines, Some(4));
    assert_eq!(f.expected, Some(5));
    assert!(f.count_mismatch());
    assert!(!report.all_good());
    assert_eq!(report.mismatches().count(), 1);
    let note = f.mismatch_note().expect("note");
    assert!(note.contains("4 lines") && note.contains("5"), "{note}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Patient-1.ndjson")).expect("file"),
        FOUR_LINES
    );
}

fn big_file() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..2000 {
        v.extend_from_slice(
            format!("{{\"resourceType\":\"Observation\",\"id\":\"o{i}\",\"status\":\"final\"}}\n")
                .as_bytes(),
        );
    }
    v
}

#[derive(Clone, Default)]
struct Flaky {
    /// Requests per file name.
    hits: Arc<Mutex<HashMap<String, usize>>>,
    /// The Range header of every request, per file name.
    ranges: Arc<Mutex<HashMap<String, Vec<Option<String>>>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

/// `/drop/NAME`: the first request sends half the file then drops the connection; later ones
/// honour `Range`. `/norange/NAME`: always the whole file with 200. `/slow/NAME`: the whole file
/// after a pause (for concurrency).
async fn flaky_file(
    State(st): State<Flaky>,
    Path((mode, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let data = big_file();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let n = {
        let mut hits = st.hits.lock().expect("lock");
        let e = hits.entry(name.clone()).or_default();
        *e += 1;
        *e
    };
    st.ranges
        .lock()
        .expect("lock")
        .entry(name.clone())
        .or_default()
        .push(range.clone());
    match mode.as_str() {
        "drop" if n == 1 => {
            let half = Bytes::from(data[..data.len() / 2].to_vec());
            // Let the first half reach the client before the plug is pulled.
            let stream = futures::StreamExt::chain(
                futures::stream::iter([Ok::<Bytes, std::io::Error>(half)]),
                futures::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Err(std::io::Error::other("pulled the plug"))
                }),
            );
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_LENGTH, data.len())
                .body(Body::from_stream(stream))
                .unwrap_or_default()
        }
        "drop" => {
            let start: usize = range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            if start == 0 || start >= data.len() {
                return data.into_response();
            }
            (
                StatusCode::PARTIAL_CONTENT,
                [(
                    header::CONTENT_RANGE,
                    format!("bytes {start}-{}/{}", data.len() - 1, data.len()),
                )],
                data[start..].to_vec(),
            )
                .into_response()
        }
        "slow" => {
            let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            st.max_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(150)).await;
            st.in_flight.fetch_sub(1, Ordering::SeqCst);
            let auth = headers.contains_key(header::AUTHORIZATION);
            if !auth {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            data.into_response()
        }
        _ => data.into_response(),
    }
}

async fn flaky_server() -> (SocketAddr, Flaky) {
    let st = Flaky::default();
    let app = Router::new()
        .route("/{mode}/{name}", get(flaky_file))
        .with_state(st.clone());
    (serve(app).await, st)
}

fn manifest_of(urls: &[String], requires_token: bool) -> Manifest {
    Manifest {
        requires_access_token: requires_token,
        output: urls
            .iter()
            .map(|u| ManifestOutput {
                type_: "Observation".into(),
                url: u.clone(),
                count: Some(2000),
            })
            .collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_interrupted_download_resumes_with_range() {
    let (addr, st) = flaky_server().await;
    let c = client();
    let full = big_file();
    let half = full.len() / 2;
    let dir = tempfile::tempdir().expect("tmp");

    // Within one call: the dropped connection is resumed automatically.
    let m = manifest_of(&[format!("http://{addr}/drop/a.ndjson")], false);
    let quick = DownloadOptions {
        retry_delay: Duration::from_millis(10),
        ..Default::default()
    };
    let report = download_all(
        &c,
        &m,
        dir.path(),
        creds(&home(&m.output[0].url), None),
        &quick,
        &|_| {},
    )
    .await
    .expect("download");
    let f = &report.files[0];
    assert_eq!(f.error, None, "{f:?}");
    assert_eq!(f.attempts, 2);
    assert_eq!(f.resumed_bytes, half as u64);
    assert!(!f.restarted);
    assert_eq!(f.lines, Some(2000));
    assert_eq!(std::fs::read(dir.path().join("a.ndjson")).expect("a"), full);
    assert!(!dir.path().join("a.ndjson.part").exists());
    assert_eq!(
        st.ranges.lock().expect("lock")["a.ndjson"],
        vec![None, Some(format!("bytes={half}-"))]
    );

    // Across calls: no retries, the .part stays, the next run resumes it.
    let m = manifest_of(&[format!("http://{addr}/drop/b.ndjson")], false);
    let no_retry = DownloadOptions {
        retries: 0,
        ..Default::default()
    };
    let report = download_all(
        &c,
        &m,
        dir.path(),
        creds(&home(&m.output[0].url), None),
        &no_retry,
        &|_| {},
    )
    .await
    .expect("download");
    let f = &report.files[0];
    assert!(
        f.error.as_deref().unwrap_or("").contains("dropped"),
        "{f:?}"
    );
    assert_eq!(f.lines, None);
    assert!(!dir.path().join("b.ndjson").exists());
    assert_eq!(
        std::fs::metadata(dir.path().join("b.ndjson.part"))
            .expect("part")
            .len(),
        half as u64
    );
    let report = download_all(
        &c,
        &m,
        dir.path(),
        creds(&home(&m.output[0].url), None),
        &no_retry,
        &|_| {},
    )
    .await
    .expect("download");
    let f = &report.files[0];
    assert_eq!(f.error, None, "{f:?}");
    assert_eq!(f.resumed_bytes, half as u64);
    assert_eq!(std::fs::read(dir.path().join("b.ndjson")).expect("b"), full);
    assert_eq!(report.bytes_received, (full.len() - half) as u64);
}

#[tokio::test]
async fn an_ignored_range_restarts_cleanly() {
    let (addr, st) = flaky_server().await;
    let c = client();
    let full = big_file();
    let dir = tempfile::tempdir().expect("tmp");
    // A leftover part that does not even match the file.
    std::fs::write(dir.path().join("c.ndjson.part"), b"GARBAGE-GARBAGE").expect("part");
    let m = manifest_of(&[format!("http://{addr}/norange/c.ndjson")], false);
    let report = download_all(
        &c,
        &m,
        dir.path(),
        creds(&home(&m.output[0].url), None),
        &DownloadOptions::default(),
        &|_| {},
    )
    .await
    .expect("download");
    let f = &report.files[0];
    assert_eq!(f.error, None);
    assert!(f.restarted);
    assert_eq!(f.resumed_bytes, 0);
    assert_eq!(f.lines, Some(2000));
    assert!(!f.count_mismatch());
    assert_eq!(std::fs::read(dir.path().join("c.ndjson")).expect("c"), full);
    assert_eq!(
        st.ranges.lock().expect("lock")["c.ndjson"],
        vec![Some("bytes=15-".to_string())]
    );
}

#[tokio::test]
async fn downloads_are_bounded_and_carry_the_token_only_when_required() {
    let (addr, st) = flaky_server().await;
    let c = client();
    let dir = tempfile::tempdir().expect("tmp");
    let urls: Vec<String> = (0..7)
        .map(|i| format!("http://{addr}/slow/f{i}.ndjson"))
        .collect();
    let totals = Mutex::new(Vec::new());
    let report = download_all(
        &c,
        &manifest_of(&urls, true),
        dir.path(),
        creds(&home(&urls[0]), Some("tok")),
        &DownloadOptions::default(),
        &|e| {
            if let DownloadEvent::Progress(p) = e {
                totals.lock().expect("lock").push(p);
            }
        },
    )
    .await
    .expect("download");
    assert!(report.all_good(), "{report:?}");
    let max = st.max_in_flight.load(Ordering::SeqCst);
    assert_eq!(max, 4, "four at once by default, saw {max}");
    let totals = totals.into_inner().expect("totals");
    let last = totals.iter().max_by_key(|p| p.all_done).expect("events");
    assert_eq!(last.all_done, 7 * big_file().len() as u64);
    assert!(last.all_total_known);
    assert_eq!(last.all_total, last.all_done);
    assert!(last.bytes_per_sec > 0.0);

    // requiresAccessToken false: the token stays home, and the server's 401 is explained.
    let dir2 = tempfile::tempdir().expect("tmp");
    let report = download_all(
        &c,
        &manifest_of(&urls[..1], false),
        dir2.path(),
        creds(&home(&urls[0]), Some("tok")),
        &DownloadOptions::default(),
        &|_| {},
    )
    .await
    .expect("download");
    let err = report.files[0].error.clone().unwrap_or_default();
    assert!(
        err.contains("401") && err.contains("no access token"),
        "{err}"
    );
    assert_eq!(report.files[0].attempts, 1);
}

/// A local server whose export is done at kick-off; it records when each request arrived.
/// `kickoff_retry_after` is sent with the 202 when set.
async fn ready_at_once(
    kickoff_retry_after: Option<&'static str>,
) -> (SocketAddr, Arc<Mutex<Vec<(String, std::time::Instant)>>>) {
    let seen: Arc<Mutex<Vec<(String, std::time::Instant)>>> = Arc::default();
    let log = seen.clone();
    let app = Router::new()
        .route(
            "/fhir/{*rest}",
            get(move |Path(rest): Path<String>| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push((rest.clone(), std::time::Instant::now()));
                    if rest == "$export" {
                        let mut r = (StatusCode::ACCEPTED, [("content-location", "/fhir/status/1")]).into_response();
                        if let Some(ra) = kickoff_retry_after {
                            r.headers_mut().insert("retry-after", ra.parse().unwrap());
                        }
                        r
                    } else {
                        (
                            StatusCode::OK,
                            r#"{"transactionTime":"2024-01-01T00:00:00Z","request":"x","requiresAccessToken":false,"output":[],"error":[]}"#,
                        )
                            .into_response()
                    }
                }
            }),
        );
    (serve(app).await, seen)
}

/// Issue 16: an export that is ready when kicked off is read at once, not a second later; the
/// floor of 1 s applies between polls, and a kick-off's `Retry-After` is still believed.
#[tokio::test]
async fn a_job_ready_at_kickoff_is_read_without_waiting_a_second() {
    let (addr, seen) = ready_at_once(None).await;
    let base = format!("http://{addr}/fhir");
    let c = client();
    let policy = home(&base);
    let mut tokens = FixedToken("t".into());
    let mut job = kickoff_with(
        &c,
        "local",
        &base,
        &ExportParams::default(),
        &policy,
        &mut tokens,
    )
    .await
    .expect("kick-off");
    assert_eq!(job.due_in(SystemTime::now()), Some(Duration::ZERO));
    let r = tokio::time::timeout(
        LIMIT,
        wait_until_done(&c, &mut job, &policy, &mut tokens, |_, _| {}),
    )
    .await
    .expect("finished");
    assert_eq!(r, PollResult::Complete);
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["$export", "status/1"]);
    let gap = seen[1].1 - seen[0].1;
    assert!(
        gap < Duration::from_millis(500),
        "the first status check came {gap:?} after the kick-off"
    );

    // A kick-off that asks for patience gets it.
    let (addr, _) = ready_at_once(Some("3")).await;
    let base = format!("http://{addr}/fhir");
    let job = kickoff_with(
        &c,
        "local",
        &base,
        &ExportParams::default(),
        &home(&base),
        &mut tokens,
    )
    .await
    .expect("kick-off");
    let wait = job.due_in(SystemTime::now()).expect("scheduled");
    assert!(
        wait > Duration::from_secs(2) && wait <= Duration::from_secs(3),
        "{wait:?}"
    );
}
