//! The worker: the only place with network I/O. An actor task owns the HTTP client, the table of
//! requests in flight and each environment's token; the UI sends it commands and gets events
//! back, so it never blocks.

pub mod auth;
pub mod body;
pub mod build;
pub mod capture;
pub mod chart;
pub mod export;
pub mod history;
pub mod http;
pub mod prepare;
pub mod spool;

use std::collections::HashMap;
use std::time::SystemTime;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use auth::{AuthError, AuthEvent, EnvTokens, NeedToken, ResolvedAuth, Token};
use export::TokenSource;
pub use http::{HttpError, HttpRequest, HttpResponse};

/// Names one request in flight, so its answer (or its cancellation) finds its way back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Attach the environment's token to this request (and retry once after a 401).
#[derive(Debug, Clone)]
pub struct AuthPlan {
    pub env: String,
    pub auth: Box<ResolvedAuth>,
}

#[derive(Debug)]
pub enum WorkerCommand {
    Send {
        id: RequestId,
        request: HttpRequest,
        auth: Option<AuthPlan>,
        /// Keep the exchange in history (redacted), described by this.
        record: Option<Box<crate::history::RecordMeta>>,
    },
    Cancel {
        id: RequestId,
    },
    /// Sign in now (a new token even if one is cached).
    SignIn {
        env: String,
        auth: Box<ResolvedAuth>,
    },
    CancelSignIn {
        env: String,
    },
    /// Kick off a bulk export; the job (or the reason it was refused) comes back as an event,
    /// and the job is then watched.
    StartExport {
        env: String,
        base: String,
        params: Box<export::ExportParams>,
        auth: Option<AuthPlan>,
    },
    /// Poll a bulk-export job until it ends, reporting each poll.
    WatchJob {
        job: Box<export::ExportJob>,
        auth: Option<AuthPlan>,
    },
    /// Stop polling and cancel the job on the server (DELETE on its status URL).
    CancelJob {
        job: Box<export::ExportJob>,
        auth: Option<AuthPlan>,
    },
    /// Download a finished job's files into `dir`.
    DownloadJob {
        job: Box<export::ExportJob>,
        dir: std::path::PathBuf,
        auth: Option<AuthPlan>,
    },
    /// Forget the environment's token.
    SignOut {
        env: String,
    },
    /// Run a jq filter over a response body on a blocking thread.
    Filter(Box<body::FilterJob>),
    /// Read a chart page or build a chart, on a blocking thread.
    Chart(Box<chart::ChartJob>),
    /// Report bytes received while bodies arrive (`Receiving` events, a few a second): the
    /// TUI asks for them, the CLI does not.
    ReportProgress(bool),
}

#[derive(Debug)]
pub enum WorkerEvent {
    /// A job after a poll (or a cancel).
    Job(Box<export::ExportJob>),
    Download {
        job: String,
        event: Box<export::DownloadEvent>,
    },
    /// A kick-off the server refused (or that could not be sent), as a sentence.
    ExportRefused(String),
    DownloadDone {
        job: String,
        result: Result<Box<export::DownloadReport>, String>,
    },
    Response {
        id: RequestId,
        result: Result<Box<Received>, HttpError>,
    },
    /// The whole body of a response that first came as a preview (a large JSON body).
    BodyReady {
        id: RequestId,
        body: Box<body::PreparedBody>,
    },
    /// A filter's result (or why there is none, as a sentence).
    Filtered {
        id: RequestId,
        generation: u64,
        result: Result<Box<crate::view_body::filter::FilterOutput>, String>,
    },
    /// A chart step's result (or why there is none, as a sentence).
    Chart {
        id: RequestId,
        result: Result<chart::ChartStep, String>,
    },
    Auth(AuthEvent),
    History(history::HistoryEvent),
    /// Bytes received so far for a request in flight (only when asked for).
    Receiving {
        id: RequestId,
        received: usize,
        total: Option<usize>,
        spooling: bool,
    },
}

/// A response with its body already prepared for display.
pub struct Received {
    pub response: HttpResponse,
    pub body: body::PreparedBody,
    /// What sign-in did for this request, when worth saying (sent without a token, retried).
    pub auth_note: Option<String>,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received")
            .field("status", &self.response.status)
            .finish()
    }
}

tokio::task_local! {
    /// Where the request being sent reports the bytes received (set for UI sends).
    static RECEIVING: std::sync::Arc<spool::ReceiveProgress>;
}

/// Sends and prepares the body on a blocking thread.
pub async fn exchange(
    client: &reqwest::Client,
    request: &HttpRequest,
) -> Result<Box<Received>, HttpError> {
    let progress = RECEIVING.try_with(std::sync::Arc::clone).ok();
    let response = http::send_observed(client, request, progress.as_deref()).await?;
    tokio::task::spawn_blocking(move || {
        let body = body::prepare_for_view(&response);
        Box::new(Received {
            response,
            body,
            auth_note: None,
        })
    })
    .await
    .map_err(|e| HttpError::Other(format!("Preparing the body failed: {e}.")))
}

/// The UI's end of the worker. Cloning is cheap; dropping every handle stops the worker.
#[derive(Debug, Clone)]
pub struct WorkerHandle {
    tx: mpsc::UnboundedSender<WorkerCommand>,
}

impl WorkerHandle {
    pub fn send(&self, cmd: WorkerCommand) {
        // The worker outlives the UI; a failed send means we are shutting down.
        let _ = self.tx.send(cmd);
    }
}

/// Starts the worker on the current tokio runtime, without history.
pub fn spawn(events: mpsc::UnboundedSender<WorkerEvent>) -> WorkerHandle {
    spawn_recording(events, None)
}

/// Starts the worker; exchanges sent with `record` go to `history`.
pub fn spawn_recording(
    events: mpsc::UnboundedSender<WorkerEvent>,
    history: Option<history::HistoryHandle>,
) -> WorkerHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut worker = Worker::new(events);
    worker.history = history;
    tokio::spawn(worker.run(rx));
    WorkerHandle { tx }
}

/// Messages the worker's own tasks send back to it.
enum Internal {
    Done(RequestId),
    NeedToken(NeedToken),
    Acquired {
        env: String,
        generation: u64,
        result: Result<Token, AuthError>,
    },
    RenewDue {
        env: String,
        obtained_at: SystemTime,
    },
    /// A job kicked off by the worker itself, to be watched.
    Watch(Box<export::ExportJob>, Option<AuthPlan>),
}

struct Worker {
    client: reqwest::Client,
    /// For requests of environments with `insecure = true`; built on first use.
    insecure_client: Option<reqwest::Client>,
    auth_http: reqwest::Client,
    events: mpsc::UnboundedSender<WorkerEvent>,
    auth_events: mpsc::UnboundedSender<AuthEvent>,
    in_flight: HashMap<RequestId, CancellationToken>,
    /// Export jobs being polled, by job id.
    watching: HashMap<String, CancellationToken>,
    tokens: HashMap<String, EnvTokens>,
    history: Option<history::HistoryHandle>,
    report_progress: bool,
    generation: u64,
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal_rx: mpsc::UnboundedReceiver<Internal>,
}

impl Worker {
    fn new(events: mpsc::UnboundedSender<WorkerEvent>) -> Self {
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let (auth_events, mut auth_rx) = mpsc::unbounded_channel::<AuthEvent>();
        let forward = events.clone();
        tokio::spawn(async move {
            while let Some(ev) = auth_rx.recv().await {
                if forward.send(WorkerEvent::Auth(ev)).is_err() {
                    break;
                }
            }
        });
        Self {
            client: http::client(),
            insecure_client: None,
            auth_http: auth::oauth::http_client(),
            events,
            auth_events,
            in_flight: HashMap::new(),
            watching: HashMap::new(),
            tokens: HashMap::new(),
            history: None,
            report_progress: false,
            generation: 0,
            internal_tx,
            internal_rx,
        }
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<WorkerCommand>) {
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                Some(msg) = self.internal_rx.recv() => self.internal(msg),
            }
        }
        for token in self.in_flight.values().chain(self.watching.values()) {
            token.cancel();
        }
        for env in self.tokens.values() {
            if let Some((_, c)) = &env.acquiring {
                c.cancel();
            }
        }
    }

    fn handle(&mut self, cmd: WorkerCommand) {
        match cmd {
            WorkerCommand::Send {
                id,
                mut request,
                auth,
                record,
            } => {
                let token = CancellationToken::new();
                self.in_flight.insert(id, token.clone());
                let client = self.client_for(request.insecure);
                let events = self.events.clone();
                let internal = self.internal_tx.clone();
                let history = self.history.clone().filter(|_| record.is_some());
                let progress = spool::register(id);
                if self.report_progress {
                    report_receiving(id, progress.clone(), token.clone(), self.events.clone());
                }
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    let at_ms = crate::history::now_ms();
                    let mut result = {
                        let send = RECEIVING.scope(
                            progress,
                            send_with_auth(&client, &mut request, auth, &internal),
                        );
                        tokio::select! {
                            r = send => r,
                            _ = token.cancelled() => Err(HttpError::Cancelled),
                        }
                    };
                    // Recorded before the answer goes out, so a flush after the answer
                    // finds it written.
                    if let (Some(h), Some(meta)) = (&history, record) {
                        record_exchange(h, *meta, at_ms, started, &request, &result);
                    }
                    let finish = result.as_mut().ok().and_then(|r| r.body.take_finish());
                    spool::unregister(id);
                    let _ = events.send(WorkerEvent::Response { id, result });
                    let _ = internal.send(Internal::Done(id));
                    if let Some(finish) = finish
                        && let Ok(Some(body)) = tokio::task::spawn_blocking(|| finish.run()).await
                    {
                        let body = Box::new(body);
                        let _ = events.send(WorkerEvent::BodyReady { id, body });
                    }
                });
            }
            WorkerCommand::Filter(job) => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    let (id, generation) = (job.id, job.generation);
                    let result = tokio::task::spawn_blocking(move || job.run())
                        .await
                        .unwrap_or_else(|e| Err(format!("The filter failed: {e}.")));
                    let _ = events.send(WorkerEvent::Filtered {
                        id,
                        generation,
                        result,
                    });
                });
            }
            WorkerCommand::Chart(job) => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    let id = job.id();
                    let result = tokio::task::spawn_blocking(move || job.run())
                        .await
                        .unwrap_or_else(|e| Err(format!("Building the chart failed: {e}.")));
                    let _ = events.send(WorkerEvent::Chart { id, result });
                });
            }
            WorkerCommand::ReportProgress(on) => self.report_progress = on,
            WorkerCommand::Cancel { id } => {
                if let Some(token) = self.in_flight.remove(&id) {
                    token.cancel();
                }
            }
            WorkerCommand::SignIn { env, auth } => {
                let entry = self.entry(&env, *auth);
                entry.token = None;
                if let Some((_, c)) = entry.acquiring.take() {
                    c.cancel();
                }
                self.start_acquiring(&env, false);
            }
            WorkerCommand::CancelSignIn { env } => {
                if let Some(e) = self.tokens.get_mut(&env) {
                    if let Some((_, c)) = e.acquiring.take() {
                        c.cancel();
                    }
                    for w in e.waiters.drain(..) {
                        let _ = w.send(Err(AuthError::Cancelled.to_string()));
                    }
                }
                let _ = self.auth_events.send(AuthEvent::Cancelled { env });
            }
            WorkerCommand::WatchJob { job, auth } => {
                let stop = CancellationToken::new();
                if let Some(old) = self.watching.insert(job.id.clone(), stop.clone()) {
                    old.cancel();
                }
                let client = self.client_for(job.params.insecure);
                let events = self.events.clone();
                let mut tokens = JobTokens {
                    internal: self.internal_tx.clone(),
                    plan: auth,
                };
                tokio::spawn(async move {
                    let mut job = *job;
                    let watch = export::wait_until_done(&client, &mut job, &mut tokens, |j, _| {
                        let _ = events.send(WorkerEvent::Job(Box::new(j.clone())));
                    });
                    tokio::select! {
                        _ = watch => {}
                        _ = stop.cancelled() => {}
                    }
                });
            }
            WorkerCommand::StartExport {
                env,
                base,
                params,
                auth,
            } => {
                let client = self.client_for(params.insecure);
                let events = self.events.clone();
                let internal = self.internal_tx.clone();
                let mut tokens = JobTokens {
                    internal: internal.clone(),
                    plan: auth.clone(),
                };
                tokio::spawn(async move {
                    match export::kickoff_with(&client, &env, &base, &params, &mut tokens).await {
                        Ok(job) => {
                            let _ = events.send(WorkerEvent::Job(Box::new(job.clone())));
                            let _ = internal.send(Internal::Watch(Box::new(job), auth));
                        }
                        Err(e) => {
                            let _ = events.send(WorkerEvent::ExportRefused(e.to_string()));
                        }
                    }
                });
            }
            WorkerCommand::CancelJob { job, auth } => {
                if let Some(stop) = self.watching.remove(&job.id) {
                    stop.cancel();
                }
                let client = self.client_for(job.params.insecure);
                let events = self.events.clone();
                let mut tokens = JobTokens {
                    internal: self.internal_tx.clone(),
                    plan: auth,
                };
                tokio::spawn(async move {
                    let mut job = *job;
                    let token = tokens.token(None).await.ok().flatten();
                    if let Err(e) = export::cancel(&client, &mut job, token.as_deref()).await {
                        job.last_error = Some(format!("Cancelling failed: {e}"));
                    }
                    let _ = events.send(WorkerEvent::Job(Box::new(job)));
                });
            }
            WorkerCommand::DownloadJob { job, dir, auth } => {
                let client = self.client_for(job.params.insecure);
                let events = self.events.clone();
                let mut tokens = JobTokens {
                    internal: self.internal_tx.clone(),
                    plan: auth,
                };
                tokio::spawn(async move {
                    let id = job.id.clone();
                    let result = match &job.manifest {
                        None => Err("The job has no manifest yet.".to_string()),
                        Some(manifest) => {
                            let token = if manifest.requires_access_token {
                                tokens.token(None).await.ok().flatten()
                            } else {
                                None
                            };
                            let ev = events.clone();
                            let job_id = id.clone();
                            let on_event = move |e: export::DownloadEvent| {
                                let _ = ev.send(WorkerEvent::Download {
                                    job: job_id.clone(),
                                    event: Box::new(e),
                                });
                            };
                            export::download_all(
                                &client,
                                manifest,
                                &dir,
                                token.as_deref(),
                                &export::DownloadOptions::default(),
                                &on_event,
                            )
                            .await
                            .map(Box::new)
                            .map_err(|e| format!("Download into {} failed: {e}", dir.display()))
                        }
                    };
                    let _ = events.send(WorkerEvent::DownloadDone { job: id, result });
                });
            }
            WorkerCommand::SignOut { env } => {
                if let Some(e) = self.tokens.remove(&env)
                    && let Some((_, c)) = e.acquiring
                {
                    c.cancel();
                }
            }
        }
    }

    /// The checking client, or for an environment's `insecure` opt-in the one that is not.
    fn client_for(&mut self, insecure: bool) -> reqwest::Client {
        match insecure {
            true => self
                .insecure_client
                .get_or_insert_with(http::insecure_client)
                .clone(),
            false => self.client.clone(),
        }
    }

    fn entry(&mut self, env: &str, auth: ResolvedAuth) -> &mut EnvTokens {
        let e = self
            .tokens
            .entry(env.to_string())
            .or_insert_with(|| EnvTokens {
                auth: auth.clone(),
                token: None,
                acquiring: None,
                waiters: Vec::new(),
            });
        // Settings changed since the token was issued: neither the token nor a sign-in still
        // running under the old settings belongs to the new ones.
        if e.auth != auth {
            e.auth = auth;
            e.token = None;
            if let Some((_, c)) = e.acquiring.take() {
                c.cancel();
            }
            for w in e.waiters.drain(..) {
                let _ = w.send(Err("the sign-in settings changed while signing in".into()));
            }
        }
        e
    }

    fn internal(&mut self, msg: Internal) {
        match msg {
            Internal::Watch(job, auth) => self.handle(WorkerCommand::WatchJob { job, auth }),
            Internal::Done(id) => {
                self.in_flight.remove(&id);
            }
            Internal::NeedToken(need) => {
                let now = SystemTime::now();
                let entry = self.entry(&need.env, *need.auth);
                if let (Some(refused), Some(t)) = (&need.refused, &entry.token)
                    && &t.access_token == refused
                {
                    entry.token = None;
                }
                match &entry.token {
                    Some(t) if t.usable(now) => {
                        let _ = need.reply.send(Ok(t.access_token.clone()));
                    }
                    _ => {
                        entry.waiters.push(need.reply);
                        if entry.acquiring.is_none() {
                            self.start_acquiring(&need.env, false);
                        }
                    }
                }
            }
            Internal::Acquired {
                env,
                generation,
                result,
            } => {
                let Some(entry) = self.tokens.get_mut(&env) else {
                    return;
                };
                if entry.acquiring.as_ref().map(|(g, _)| *g) != Some(generation) {
                    return; // cancelled or superseded
                }
                entry.acquiring = None;
                let renewed = entry.token.is_some();
                match result {
                    Ok(token) => {
                        for w in entry.waiters.drain(..) {
                            let _ = w.send(Ok(token.access_token.clone()));
                        }
                        entry.token = Some(token.clone());
                        let variable = entry.auth.token_variable.clone();
                        // Renew ahead of expiry when that needs no person.
                        let can_renew =
                            !entry.auth.is_interactive() || token.refresh_token.is_some();
                        if can_renew && let Some(at) = token.refresh_at() {
                            let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
                            let tx = self.internal_tx.clone();
                            let (env, obtained_at) = (env.clone(), token.obtained_at);
                            tokio::spawn(async move {
                                tokio::time::sleep(wait).await;
                                let _ = tx.send(Internal::RenewDue { env, obtained_at });
                            });
                        }
                        let _ = self.auth_events.send(AuthEvent::Acquired {
                            env,
                            token,
                            variable,
                            renewed,
                        });
                    }
                    Err(AuthError::Cancelled) => {
                        for w in entry.waiters.drain(..) {
                            let _ = w.send(Err(AuthError::Cancelled.to_string()));
                        }
                    }
                    Err(e) => {
                        for w in entry.waiters.drain(..) {
                            let _ = w.send(Err(e.to_string()));
                        }
                        let _ = self.auth_events.send(AuthEvent::Failed {
                            env,
                            error: e.to_string(),
                        });
                    }
                }
            }
            Internal::RenewDue { env, obtained_at } => {
                let due = self.tokens.get(&env).is_some_and(|e| {
                    e.acquiring.is_none()
                        && e.token
                            .as_ref()
                            .is_some_and(|t| t.obtained_at == obtained_at)
                });
                if due {
                    self.start_acquiring(&env, true);
                }
            }
        }
    }

    fn start_acquiring(&mut self, env: &str, renewal: bool) {
        self.generation += 1;
        let generation = self.generation;
        let Some(entry) = self.tokens.get_mut(env) else {
            return;
        };
        let cancel = CancellationToken::new();
        entry.acquiring = Some((generation, cancel.clone()));
        let auth = entry.auth.clone();
        let prior = entry.token.clone();
        let http = self.auth_http.clone();
        let events = self.auth_events.clone();
        let internal = self.internal_tx.clone();
        let env = env.to_string();
        if !renewal {
            let _ = events.send(AuthEvent::Started {
                env: env.clone(),
                flow: auth.kind.label(),
            });
        }
        tokio::spawn(async move {
            let result = tokio::select! {
                r = auth::acquire(&http, &auth, &env, prior.as_ref(), renewal, &events) => r,
                _ = cancel.cancelled() => Err(AuthError::Cancelled),
            };
            let _ = internal.send(Internal::Acquired {
                env,
                generation,
                result,
            });
        });
    }
}

/// Sends `Receiving` events for request `id` five times a second while bytes arrive, until
/// the exchange ends (its progress is dropped by the sender) or is cancelled.
fn report_receiving(
    id: RequestId,
    progress: std::sync::Arc<spool::ReceiveProgress>,
    cancelled: CancellationToken,
    events: mpsc::UnboundedSender<WorkerEvent>,
) {
    let progress = std::sync::Arc::downgrade(&progress);
    tokio::spawn(async move {
        let mut last = 0;
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = cancelled.cancelled() => break,
            }
            // The sender holds the other reference until the answer has gone out.
            let Some(p) = progress.upgrade() else { break };
            let received = p.received();
            if received != last {
                last = received;
                let ev = WorkerEvent::Receiving {
                    id,
                    received,
                    total: p.total(),
                    spooling: p.spooling(),
                };
                if events.send(ev).is_err() {
                    break;
                }
            }
        }
    });
}

async fn need_token(
    internal: &mpsc::UnboundedSender<Internal>,
    plan: &AuthPlan,
    refused: Option<String>,
) -> Result<String, String> {
    let (reply, rx) = oneshot::channel();
    let msg = NeedToken {
        env: plan.env.clone(),
        auth: plan.auth.clone(),
        refused,
        reply,
    };
    if internal.send(Internal::NeedToken(msg)).is_err() {
        return Err("the worker is shutting down".into());
    }
    rx.await
        .unwrap_or_else(|_| Err("sign-in was abandoned".into()))
}

fn set_bearer(request: &mut HttpRequest, token: &str) {
    request
        .headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
    request
        .headers
        .push(("Authorization".into(), format!("Bearer {token}")));
}

/// Attaches the environment's token, sends, and after a 401 gets a new token and retries once.
/// `request` ends as it was last sent (with the token that went out).
async fn send_with_auth(
    client: &reqwest::Client,
    request: &mut HttpRequest,
    plan: Option<AuthPlan>,
    internal: &mpsc::UnboundedSender<Internal>,
) -> Result<Box<Received>, HttpError> {
    let Some(plan) = plan else {
        return exchange(client, request).await;
    };
    let token = match need_token(internal, &plan, None).await {
        Ok(t) => t,
        Err(e) => {
            let mut r = exchange(client, request).await?;
            r.auth_note = Some(format!("Sent without a new token: {e}"));
            return Ok(r);
        }
    };
    set_bearer(request, &token);
    let first = exchange(client, request).await?;
    if first.response.status != 401 {
        return Ok(first);
    }
    match need_token(internal, &plan, Some(token)).await {
        Ok(fresh) => {
            set_bearer(request, &fresh);
            let mut second = exchange(client, request).await?;
            second.auth_note = Some(if second.response.status == 401 {
                "The service refused a fresh token too (401); not retrying again. Check the audience and roles (T shows the token).".into()
            } else {
                "The first answer was 401; fhirside got a new token and retried once.".into()
            });
            Ok(second)
        }
        Err(e) => {
            let mut first = first;
            first.auth_note = Some(format!("401, and getting a new token failed: {e}"));
            Ok(first)
        }
    }
}

/// Hands a finished exchange to the history actor (which redacts it before writing). The body
/// is cut to the history's limit here, so a huge body is never copied whole.
fn record_exchange(
    history: &history::HistoryHandle,
    meta: crate::history::RecordMeta,
    at_ms: i64,
    started: std::time::Instant,
    request: &HttpRequest,
    result: &Result<Box<Received>, HttpError>,
) {
    use crate::history::{Exchange, Outcome, Source};
    let outcome = match result {
        Err(HttpError::Cancelled) => return,
        Err(e) => Outcome::Failed {
            error: e.to_string(),
            elapsed_ms: started.elapsed().as_millis() as u64,
        },
        Ok(r) => {
            let max = history.limits().max_body_bytes();
            // A body spooled to disk is recorded from the start of its file.
            let (size, kept) = match &r.response.spool {
                Some(file) => {
                    let mut buf = vec![0u8; max.min(file.len() as usize)];
                    let n = file.read_at(&mut buf, 0).unwrap_or(0);
                    buf.truncate(n);
                    (file.len(), buf)
                }
                None => {
                    let body = &r.response.body;
                    let keep = body.len().min(max);
                    (body.len() as u64, body[..keep].to_vec())
                }
            };
            Outcome::Answered {
                status: r.response.status,
                reason: r.response.reason.clone(),
                headers: r.response.headers.clone(),
                elapsed_ms: r.response.elapsed.as_millis() as u64,
                truncated: (kept.len() as u64) < size,
                size,
                body: kept,
            }
        }
    };
    let mut secrets = meta.secrets;
    // The token that went out is a secret wherever else it turns up.
    for (k, v) in &request.headers {
        if k.eq_ignore_ascii_case("authorization")
            && let Some((_, credential)) = v.split_once(' ')
        {
            secrets.push(credential.trim().to_string());
        }
    }
    history.record(
        Exchange {
            at_ms,
            source: meta.source.unwrap_or(Source::Request),
            env: meta.env,
            saved: meta.saved,
            method: request.method.clone(),
            url: request.url.clone(),
            request_headers: request.headers.clone(),
            request_body: request.body.clone(),
            outcome,
        },
        secrets,
    );
}

/// Tokens for export polling and downloads, from the worker's per-environment cache.
struct JobTokens {
    internal: mpsc::UnboundedSender<Internal>,
    plan: Option<AuthPlan>,
}

impl export::TokenSource for JobTokens {
    fn token(
        &mut self,
        refused: Option<&str>,
    ) -> impl std::future::Future<Output = Result<Option<String>, String>> + Send {
        let internal = self.internal.clone();
        let plan = self.plan.clone();
        let refused = refused.map(str::to_string);
        async move {
            match plan {
                None => Ok(None),
                Some(plan) => need_token(&internal, &plan, refused).await.map(Some),
            }
        }
    }
}
