//! One bulk `$export` job through the asynchronous request pattern: kick-off (202 and a
//! Content-Location), polling the status URL, the completion manifest, failure outcomes and
//! cancellation (DELETE).
//!
//! Everything here is an async function over a `&reqwest::Client` and an `&mut ExportJob`, so the
//! worker, the CLI and tests can drive jobs without an actor. Tokens are passed in per call (or
//! through a [`TokenSource`]); a job never holds one.

use std::future::Future;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use thiserror::Error;

use super::progress::{Progress, parse_progress, retry_hint};
use super::schedule::{Answer, PollPolicy, Schedule, random_jitter};
pub use crate::fhir::bulk::{Manifest, ManifestOutput};
use crate::fhir::outcome::{parse_outcome, summary};
use crate::worker::credentials::{Credential, CredentialPolicy, Permit};
use crate::worker::http::{self, HttpError, HttpRequest, HttpResponse};
pub use crate::workspace::export_job::{ExportJob, ExportParams, ExportScope, JobState, OpKind};

/// Timeout of kick-off, status and cancel requests.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The polling behaviour of the persisted job model.
impl ExportJob {
    /// Uses `policy` from now on; a job not polled yet starts its pace afresh under it. Its first
    /// check stays where the kick-off put it (at once, or after the kick-off's `Retry-After`),
    /// which no policy changes.
    pub fn with_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        if self.polls == 0 && !self.state.is_terminal() {
            self.schedule = Schedule::default();
        }
        self
    }

    pub(super) fn schedule_next(
        &mut self,
        answer: Answer,
        retry_after: Option<Duration>,
        now: SystemTime,
    ) {
        let delay = self
            .schedule
            .next(&self.policy, answer, retry_after, random_jitter());
        self.next_poll_at = Some(crate::worker::time::later(now, delay));
    }
}

/// Why a kick-off or cancel did not work.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ExportError {
    #[error(transparent)]
    Http(#[from] HttpError),
    /// 401: get a fresh token and try again.
    #[error("The server refused the token (401 Unauthorized).")]
    Unauthorized,
    /// Any other unwanted answer, as a sentence with the server's diagnostics.
    #[error("{0}")]
    Refused(String),
    #[error(
        "The server accepted the export (202) but sent no Content-Location header, so there is no status URL to poll."
    )]
    NoStatusUrl,
    /// The credential policy refused a URL (a status URL on another origin, …).
    #[error(transparent)]
    Untrusted(#[from] crate::worker::credentials::Refusal),
}

fn header_value(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// `req` with the token on it, if a token is given: only through the policy's permit.
fn with_token(
    mut req: HttpRequest,
    permit: &Permit,
    token: Option<&str>,
) -> Result<HttpRequest, ExportError> {
    if let Some(t) = token {
        permit
            .attach(&mut req, t)
            .map_err(|e| ExportError::Refused(e.to_string()))?;
    }
    Ok(req)
}

/// `GET {base}/$export` (or `Patient/$export`, `Group/{id}/$export`) with the parameters, and the
/// headers the asynchronous pattern needs. No `Authorization`: that is added when sending.
pub fn kickoff_request(base: &str, params: &ExportParams) -> HttpRequest {
    let base = base.trim().trim_end_matches('/');
    let path = match &params.scope {
        ExportScope::System => "$export".to_string(),
        ExportScope::Patient => "Patient/$export".to_string(),
        ExportScope::Group(id) => format!(
            "Group/{}/$export",
            percent_encoding::utf8_percent_encode(id.trim(), SEGMENT)
        ),
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let types = clean(&params.types);
    if !types.is_empty() {
        query.append_pair("_type", &types.join(","));
    }
    if let Some(s) = params
        .since
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        query.append_pair("_since", s);
    }
    for f in clean(&params.type_filter) {
        query.append_pair("_typeFilter", f);
    }
    if let Some(c) = params
        .container
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        query.append_pair("_container", c);
    }
    for (name, value) in [
        ("_outputFormat", &params.output_format),
        ("_anonymizationConfig", &params.anonymization_config),
        (
            "_anonymizationConfigEtag",
            &params.anonymization_config_etag,
        ),
    ] {
        if let Some(v) = value.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            query.append_pair(name, v);
        }
    }
    let query = query.finish();
    let url = if query.is_empty() {
        format!("{base}/{path}")
    } else {
        format!("{base}/{path}?{query}")
    };
    HttpRequest {
        method: "GET".into(),
        url,
        headers: vec![
            header_value("Accept", "application/fhir+json"),
            header_value("Prefer", "respond-async"),
        ],
        body: None,
        timeout: REQUEST_TIMEOUT,
        insecure: false,
    }
}

fn clean(v: &[String]) -> Vec<&str> {
    v.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Characters escaped in a path segment (a Group id).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What the server said, in one line: the OperationOutcome summary, else a bit of the body.
pub fn explain_body(resp: &HttpResponse) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<Value>(&resp.body) {
        if let Some(issues) = parse_outcome(&v) {
            let s = summary(&issues);
            if !s.is_empty() {
                return Some(s);
            }
        }
        // Entra-style / generic JSON errors.
        for key in ["error_description", "message", "error"] {
            if let Some(s) = v.get(key).and_then(Value::as_str) {
                return Some(one_line(s, 300));
            }
        }
    }
    let text = String::from_utf8_lossy(&resp.body);
    let text = one_line(&text, 300);
    (!text.is_empty()).then_some(text)
}

fn one_line(s: &str, max: usize) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > max {
        let mut cut: String = joined.chars().take(max).collect();
        cut.push('…');
        cut
    } else {
        joined
    }
}

fn status_text(resp: &HttpResponse) -> String {
    if resp.reason.is_empty() {
        resp.status.to_string()
    } else {
        format!("{} {}", resp.status, resp.reason)
    }
}

fn refusal(what: &str, resp: &HttpResponse) -> String {
    match explain_body(resp) {
        Some(why) => format!("{what} ({}): {why}", status_text(resp)),
        None => format!("{what} ({})", status_text(resp)),
    }
}

/// Sends the export kick-off request (see [`kickoff_op`]).
pub async fn kickoff(
    client: &reqwest::Client,
    env: &str,
    params: &ExportParams,
    req: &HttpRequest,
    policy: &CredentialPolicy,
    token: Option<&str>,
) -> Result<ExportJob, ExportError> {
    kickoff_op(client, env, OpKind::Export, params, req, policy, token).await
}

/// Sends a kick-off request of operation `kind`. A 202 (or, for `$reindex`, a 201 with the job
/// record) with a Content-Location (resolved against the request URL when relative) becomes an
/// [`ExportJob`] in state `Accepted`, its first poll scheduled. The status URL must be on an
/// origin `policy` lets the token go to: anything else is refused, and no job is made.
pub async fn kickoff_op(
    client: &reqwest::Client,
    env: &str,
    kind: OpKind,
    params: &ExportParams,
    req: &HttpRequest,
    policy: &CredentialPolicy,
    token: Option<&str>,
) -> Result<ExportJob, ExportError> {
    let permit = policy.permit("The kick-off URL", &req.url, Credential::FhirToken)?;
    let req = with_token(req.clone(), &permit, token)?;
    let resp = http::send(client, &req).await?;
    let accepted = resp.status == 202 || (resp.status == 201 && kind == OpKind::Reindex);
    match resp.status {
        _ if accepted => {
            let body = serde_json::from_slice::<Value>(&resp.body).ok();
            // ReindexController.cs names the job in its record; a Content-Location is preferred.
            let from_record = body
                .as_ref()
                .filter(|_| kind == OpKind::Reindex)
                .and_then(|b| b.get("id"))
                .and_then(Value::as_str)
                .map(|id| format!("_operations/reindex/{id}"));
            let location = resp
                .header("content-location")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .or(from_record)
                .ok_or(ExportError::NoStatusUrl)?;
            let status_url = url::Url::parse(&resp.final_url)
                .or_else(|_| url::Url::parse(&req.url))
                .and_then(|base| base.join(&location))
                .map(|u| u.to_string())
                .map_err(|e| {
                    ExportError::Refused(format!(
                        "The server's Content-Location '{}' is not a usable URL: {e}.",
                        http::quoted(&location)
                    ))
                })?;
            policy.status_url(&status_url)?;
            let mut job = ExportJob::accepted_op(kind, env, &req.url, &status_url, params.clone());
            job.last_answer = Some(answer_line(&resp));
            if kind == OpKind::Reindex {
                job.result = body.as_ref().and_then(super::ops::reindex_result);
            }
            let retry_after = retry_hint(
                resp.header("x-ms-retry-after-ms"),
                resp.header("retry-after"),
                SystemTime::now(),
            );
            let delay = job.schedule.first(&job.policy, retry_after);
            job.next_poll_at = Some(crate::worker::time::later(job.kicked_off_at, delay));
            Ok(job)
        }
        401 => Err(ExportError::Unauthorized),
        200..=299 => Err(ExportError::Refused(format!(
            "The server answered {} instead of 202 Accepted: it did not start an asynchronous {} (does it support {} with Prefer: respond-async?).",
            status_text(&resp),
            kind.noun(),
            kind.label()
        ))),
        _ => Err(ExportError::Refused(refusal(
            &format!("The {} was refused", kind.noun()),
            &resp,
        ))),
    }
}

/// A status answer in one line: the status, and `X-Progress` when sent.
fn answer_line(resp: &HttpResponse) -> String {
    let mut line = status_text(resp);
    if let Some(p) = resp
        .header("x-progress")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        line.push_str(&format!(" · X-Progress: {}", one_line(p, 60)));
    }
    line
}

/// What one status poll found (the job is updated accordingly).
#[derive(Debug, Clone, PartialEq)]
pub enum PollResult {
    /// 202: still running (`job.progress`, `job.next_poll_at` updated).
    Running,
    /// 200: `job.manifest` is set.
    Complete,
    /// The server reports the job failed: `job.outcome` says why.
    Failed(String),
    /// 429, 503 or another transient error: keep polling (later). The sentence is `job.last_error`.
    Throttled(String),
    /// No answer (connection, timeout): keep polling. The sentence is `job.last_error`.
    NetworkError(String),
    /// 401: get a fresh token and poll again.
    Unauthorized,
    /// 404/410 for a job we cancelled: the server has forgotten it, as it should.
    Gone,
    /// The credential policy does not let the token go to the status URL: not polled. The job
    /// stays as it was (resumable once the origin is trusted); the sentence is `job.last_error`.
    Refused(String),
}

impl PollResult {
    /// Whether polling is over.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            PollResult::Complete | PollResult::Failed(_) | PollResult::Gone
        )
    }
}

/// Issue codes that mean "try again later" even on a 500.
fn is_transient_outcome(resp: &HttpResponse) -> bool {
    serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .and_then(|v| parse_outcome(&v))
        .is_some_and(|issues| {
            !issues.is_empty()
                && issues
                    .iter()
                    .filter(|i| i.is_error())
                    .all(|i| matches!(i.code.as_str(), "transient" | "throttled" | "timeout"))
        })
}

fn has_outcome(resp: &HttpResponse) -> bool {
    serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .and_then(|v| parse_outcome(&v))
        .is_some()
}

/// Polls the status URL once and updates the job (state, progress, manifest, outcome, errors,
/// the next poll time). A job we cancelled stays cancelled whatever the server says.
pub async fn poll_once(
    client: &reqwest::Client,
    job: &mut ExportJob,
    policy: &CredentialPolicy,
    token: Option<&str>,
) -> PollResult {
    let permit = match policy.status_url(&job.status_url) {
        Ok(p) => p,
        Err(e) => return refuse(job, e.to_string()),
    };
    let req = with_token(
        HttpRequest {
            method: "GET".into(),
            url: job.status_url.clone(),
            headers: vec![header_value(
                "Accept",
                "application/fhir+json, application/json",
            )],
            body: None,
            timeout: REQUEST_TIMEOUT,
            insecure: false,
        },
        &permit,
        token,
    );
    let req = match req {
        Ok(r) => r,
        Err(e) => return refuse(job, e.to_string()),
    };
    let sent = http::send(client, &req).await;
    let now = SystemTime::now();
    job.polls = job.polls.saturating_add(1);
    job.last_poll_at = Some(now);
    let was_cancelled = job.state == JobState::Cancelled;
    let result = match sent {
        Err(e) => {
            let msg = e.to_string();
            job.last_error = Some(msg.clone());
            job.schedule_next(Answer::Trouble, None, now);
            PollResult::NetworkError(msg)
        }
        Ok(resp) => interpret(job, &resp, now),
    };
    if was_cancelled {
        job.state = JobState::Cancelled;
        job.next_poll_at = None;
    }
    result
}

fn interpret(job: &mut ExportJob, resp: &HttpResponse, now: SystemTime) -> PollResult {
    let before = (
        job.state,
        job.progress.clone(),
        job.result.clone(),
        job.last_answer.clone(),
    );
    job.last_answer = Some(answer_line(resp));
    let result = match job.kind {
        OpKind::Export => interpret_shared(job, resp, now),
        _ => match super::ops_poll::interpret(job, resp, now) {
            Some(r) => r,
            None => interpret_shared(job, resp, now),
        },
    };
    let after = (
        job.state,
        job.progress.clone(),
        job.result.clone(),
        job.last_answer.clone(),
    );
    if before != after || job.changed_at.is_none() {
        job.changed_at = Some(now);
    }
    result
}

/// The status answers every operation shares (the export protocol's), and the export's own.
pub(super) fn interpret_shared(
    job: &mut ExportJob,
    resp: &HttpResponse,
    now: SystemTime,
) -> PollResult {
    let retry_after = retry_hint(
        resp.header("x-ms-retry-after-ms"),
        resp.header("retry-after"),
        now,
    );
    let cancelled = job.state == JobState::Cancelled;
    match resp.status {
        202 => {
            job.state = JobState::InProgress;
            job.progress = resp
                .header("x-progress")
                .map(parse_progress)
                .filter(|p| *p != Progress::Text(String::new()));
            job.last_error = None;
            job.schedule_next(Answer::Running, retry_after, now);
            PollResult::Running
        }
        200 => {
            job.next_poll_at = None;
            let manifest = serde_json::from_slice::<Value>(&resp.body)
                .ok()
                .and_then(|v| Manifest::from_json(&v));
            match manifest {
                Some(m) => {
                    job.state = JobState::Complete;
                    job.manifest = Some(m);
                    job.last_error = None;
                    job.progress = None;
                    PollResult::Complete
                }
                None => {
                    let why = format!(
                        "The server said the export is complete (200) but its manifest is not a JSON object: {}",
                        explain_body(resp).unwrap_or_else(|| "the body is empty".into())
                    );
                    fail(job, why)
                }
            }
        }
        401 => {
            job.last_error = Some("The server refused the token (401 Unauthorized).".into());
            job.next_poll_at = Some(now);
            PollResult::Unauthorized
        }
        404 | 410 if cancelled => {
            job.next_poll_at = None;
            job.last_error = None;
            PollResult::Gone
        }
        404 | 410 => fail(
            job,
            refusal(
                &format!(
                    "The server no longer knows this {} job (it may have expired or been deleted)",
                    job.kind.noun()
                ),
                resp,
            ),
        ),
        429 | 502 | 503 | 504 => trouble(job, resp, retry_after, now),
        500..=599 if !has_outcome(resp) || is_transient_outcome(resp) => {
            trouble(job, resp, retry_after, now)
        }
        400..=599 => {
            let what = format!("The {} failed", job.kind.noun());
            fail(job, refusal(&what, resp))
        }
        other => {
            // 1xx/3xx that survived the client: odd, but not proof of failure.
            let msg = format!(
                "The status URL answered {other}, which is not part of the bulk export protocol; polling again later."
            );
            job.last_error = Some(msg.clone());
            job.schedule_next(Answer::Trouble, retry_after, now);
            PollResult::Throttled(msg)
        }
    }
}

/// Not polled: the policy refused the status URL.
pub(super) fn refuse(job: &mut ExportJob, why: String) -> PollResult {
    job.last_error = Some(why.clone());
    job.next_poll_at = None;
    PollResult::Refused(why)
}

pub(super) fn fail(job: &mut ExportJob, why: String) -> PollResult {
    job.state = JobState::Failed;
    job.outcome = Some(why.clone());
    job.next_poll_at = None;
    job.progress = None;
    PollResult::Failed(why)
}

fn trouble(
    job: &mut ExportJob,
    resp: &HttpResponse,
    retry_after: Option<Duration>,
    now: SystemTime,
) -> PollResult {
    if job.state == JobState::Accepted {
        job.state = JobState::InProgress;
    }
    if resp.status == 429 {
        job.throttled = job.throttled.saturating_add(1);
    }
    let what = if resp.status == 429 {
        "The server is throttling status polls"
    } else {
        "The status URL had a temporary problem"
    };
    let msg = format!("{}; polling again later.", refusal(what, resp));
    job.last_error = Some(msg.clone());
    job.schedule_next(Answer::Trouble, retry_after, now);
    PollResult::Throttled(msg)
}

/// Cancels the job (`DELETE` on the status URL). 202 (or another 2xx) means cancelled; a 404
/// means the server had already forgotten it, which counts as cancelled too.
pub async fn cancel(
    client: &reqwest::Client,
    job: &mut ExportJob,
    policy: &CredentialPolicy,
    token: Option<&str>,
) -> Result<(), ExportError> {
    let permit = policy.status_url(&job.status_url)?;
    let req = with_token(
        HttpRequest {
            method: "DELETE".into(),
            url: job.status_url.clone(),
            headers: vec![header_value("Accept", "application/fhir+json")],
            body: None,
            timeout: REQUEST_TIMEOUT,
            insecure: false,
        },
        &permit,
        token,
    )?;
    let resp = http::send(client, &req).await?;
    match resp.status {
        200..=299 | 404 | 410 => {
            job.state = JobState::Cancelled;
            job.next_poll_at = None;
            job.progress = None;
            job.last_error = None;
            Ok(())
        }
        401 => Err(ExportError::Unauthorized),
        _ => Err(ExportError::Refused(refusal(
            &format!("The server did not cancel the {}", job.kind.noun()),
            &resp,
        ))),
    }
}

/// Supplies tokens to the drivers below: the worker answers from its token cache (signing in
/// when needed), the CLI the same way, tests with a fixed string.
pub trait TokenSource {
    /// A token to send (`None`: send without one). `refused` is a token the server just answered
    /// 401 to: do not hand it out again.
    fn token(
        &mut self,
        refused: Option<&str>,
    ) -> impl Future<Output = Result<Option<String>, String>> + Send;

    /// A token for Azure Storage by the same sign-in; `Err` says why there is none.
    fn storage_token(&mut self) -> impl Future<Output = Result<String, String>> + Send {
        std::future::ready(Err(crate::worker::NO_SIGN_IN.to_string()))
    }
}

/// No sign-in: requests go out without `Authorization`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoToken;

impl TokenSource for NoToken {
    async fn token(&mut self, _refused: Option<&str>) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// Always the same token (tests, `bearerToken` variables).
#[derive(Debug, Clone)]
pub struct FixedToken(pub String);

impl TokenSource for FixedToken {
    fn token(
        &mut self,
        _refused: Option<&str>,
    ) -> impl Future<Output = Result<Option<String>, String>> + Send {
        let t = self.0.clone();
        async move { Ok(Some(t)) }
    }
}

/// Export kick-off with a token from `tokens`, retrying once with a fresh token after a 401.
pub async fn kickoff_with<T: TokenSource>(
    client: &reqwest::Client,
    env: &str,
    base: &str,
    params: &ExportParams,
    policy: &CredentialPolicy,
    tokens: &mut T,
) -> Result<ExportJob, ExportError> {
    let start = super::ops::Kickoff::Export(params.clone());
    start_with(client, env, base, &start, params.insecure, policy, tokens).await
}

/// Kicks off any operation with a token from `tokens`, retrying once with a fresh token after
/// a 401. `insecure` is the environment's opt-in, kept with the job for its polls.
pub async fn start_with<T: TokenSource>(
    client: &reqwest::Client,
    env: &str,
    base: &str,
    start: &super::ops::Kickoff,
    insecure: bool,
    policy: &CredentialPolicy,
    tokens: &mut T,
) -> Result<ExportJob, ExportError> {
    let kind = start.kind();
    // Refused before any sign-in: what the service would refuse anyway.
    if let super::ops::Kickoff::Export(p) = start
        && let Some(why) = crate::workspace::export_job::anonymization_problem(p)
    {
        return Err(ExportError::Refused(why));
    }
    let params = match start {
        super::ops::Kickoff::Export(p) => ExportParams {
            insecure,
            ..p.clone()
        },
        _ => ExportParams {
            insecure,
            ..Default::default()
        },
    };
    let req = start.request(base);
    policy.permit("The kick-off URL", &req.url, Credential::FhirToken)?;
    let token = tokens.token(None).await.map_err(|e| {
        ExportError::Refused(format!("Signing in for the {} failed: {e}", kind.noun()))
    })?;
    match kickoff_op(client, env, kind, &params, &req, policy, token.as_deref()).await {
        Err(ExportError::Unauthorized) if token.is_some() => {
            let fresh = tokens.token(token.as_deref()).await.map_err(|e| {
                ExportError::Refused(format!(
                    "The server refused the token (401) and getting a new one failed: {e}"
                ))
            })?;
            kickoff_op(client, env, kind, &params, &req, policy, fresh.as_deref()).await
        }
        other => other,
    }
}

/// One poll with a token from `tokens`, retrying once with a fresh token after a 401. Returns
/// `Unauthorized` only when the fresh token is refused too (or none could be had); the job's
/// `last_error` says which.
pub async fn poll_with<T: TokenSource>(
    client: &reqwest::Client,
    job: &mut ExportJob,
    policy: &CredentialPolicy,
    tokens: &mut T,
) -> PollResult {
    // Refused before any sign-in is asked for.
    if let Err(e) = policy.status_url(&job.status_url) {
        return refuse(job, e.to_string());
    }
    let token = match tokens.token(None).await {
        Ok(t) => t,
        Err(e) => {
            job.last_error = Some(format!(
                "Signing in to poll the {} failed: {e}",
                job.kind.noun()
            ));
            return PollResult::Unauthorized;
        }
    };
    let first = poll_once(client, job, policy, token.as_deref()).await;
    if first != PollResult::Unauthorized {
        return first;
    }
    if token.is_none() {
        job.last_error = Some(
            "The status URL requires sign-in (401), and the environment has none configured."
                .into(),
        );
        return first;
    }
    let fresh = match tokens.token(token.as_deref()).await {
        Ok(t) => t,
        Err(e) => {
            job.last_error = Some(format!(
                "The server refused the token (401) and getting a new one failed: {e}"
            ));
            return PollResult::Unauthorized;
        }
    };
    let second = poll_once(client, job, policy, fresh.as_deref()).await;
    if second == PollResult::Unauthorized {
        job.last_error = Some(
            "The server refused a fresh token too (401); stopped polling. Check the app's roles, then resume the job."
                .into(),
        );
    }
    second
}

/// Polls on schedule until the job completes, fails or is gone, or a fresh token is refused
/// (`Unauthorized`) or the policy refuses the status URL (`Refused`; either way the job stays
/// resumable). `on_poll` sees the job after every poll (save it, redraw). Cancel by dropping
/// the future (e.g. in `tokio::select!`).
pub async fn wait_until_done<T: TokenSource>(
    client: &reqwest::Client,
    job: &mut ExportJob,
    policy: &CredentialPolicy,
    tokens: &mut T,
    mut on_poll: impl FnMut(&ExportJob, &PollResult),
) -> PollResult {
    loop {
        match job.state {
            JobState::Complete => return PollResult::Complete,
            JobState::Failed => {
                return PollResult::Failed(job.outcome.clone().unwrap_or_default());
            }
            JobState::Cancelled => return PollResult::Gone,
            JobState::Accepted | JobState::InProgress => {}
        }
        if let Some(wait) = job.due_in(SystemTime::now())
            && !wait.is_zero()
        {
            tokio::time::sleep(wait).await;
        }
        let r = poll_with(client, job, policy, tokens).await;
        on_poll(job, &r);
        if r.is_final() || matches!(r, PollResult::Unauthorized | PollResult::Refused(_)) {
            return r;
        }
    }
}
#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
