//! The worker: the only place with network I/O. An actor task owns the HTTP client, the table of
//! requests in flight and each environment's token; the UI sends it commands and gets events
//! back, so it never blocks.

mod answer;
pub mod auth;
pub mod body;
pub mod build;
pub mod capture;
pub mod chart;
pub mod credentials;
pub mod export;
pub mod guard;
pub mod history;
pub mod http;
mod jobs;
pub mod prepare;
mod receiving;
mod send;
pub mod spool;
pub mod storage;
pub mod time;
use receiving::report_receiving;

use std::collections::HashMap;
use std::time::SystemTime;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

pub use answer::exchange;
use answer::{add_note, read_page};
use auth::cache::Answer;
use auth::{
    AuthError, AuthEvent, CachePolicy, EnvTokens, NeedToken, ResolvedAuth, Token, TokenKey,
};
pub use http::{HttpError, HttpRequest, HttpResponse};
use send::{record_exchange, send_with_auth};

/// Names one request in flight, so its answer (or its cancellation) finds its way back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Attach the environment's token to this request (and retry once after a 401), where its
/// credential policy allows.
#[derive(Debug, Clone)]
pub struct AuthPlan {
    pub env: String,
    pub auth: Box<ResolvedAuth>,
    /// Which origins may receive which of the environment's tokens.
    pub policy: credentials::CredentialPolicy,
    /// The token the user put in the token variable (a capture or a hand-set value): sent while
    /// it lasts, before automatic sign-in (see `auth::current`).
    pub given: Option<auth::current::GivenToken>,
    /// When signing in fails, do not send the request without a token (answer with the
    /// reason instead). `fhirside run` sets it unless `--allow-unsigned`; the TUI asks.
    pub refuse_unsigned: bool,
}

#[derive(Debug)]
pub enum WorkerCommand {
    Send {
        id: RequestId,
        request: HttpRequest,
        auth: Option<AuthPlan>,
        /// Keep the exchange in history (redacted), described by this.
        record: Option<Box<crate::history::RecordMeta>>,
        /// Also read the answer for the FHIR browser ([`Received::fhir`]), here on a
        /// blocking thread rather than in the browser's update.
        read_fhir: bool,
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
    /// Kick off any asynchronous operation; the job (or the reason it was refused) comes back
    /// as an event, and the job is then watched.
    StartOperation {
        env: String,
        base: String,
        start: Box<export::Kickoff>,
        /// The environment's `insecure` opt-in.
        insecure: bool,
        auth: Option<AuthPlan>,
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
    /// Read an answer already in hand for the FHIR browser ([`Received::fhir`]) on a blocking
    /// thread, and give it back as the answer to `id`.
    ReadPage {
        id: RequestId,
        received: Box<Received>,
    },
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
    /// The top lines of a large JSON body still arriving (only when progress is asked for).
    BodyHead {
        id: RequestId,
        head: Box<crate::view_body::BodyText>,
    },
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
    /// What a searchset says of its search (dropped parameters, server notes), read here off
    /// the UI thread.
    pub search: crate::fhir::handling::SearchNotes,
    /// The answer read for the FHIR browser, when the request asked for it (`read_fhir`).
    pub fhir: Option<Box<crate::fhir::page::FhirPage>>,
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
    spawn_with(events, history, WorkerOptions::default())
}

/// The worker's timing rules. Production uses the defaults; tests may tighten them to keep
/// short-lived-token scenarios fast.
#[derive(Debug, Clone, Default)]
pub struct WorkerOptions {
    /// Floors and back-off of automatic sign-in.
    pub cache: CachePolicy,
    /// Device-code polls are at least this far apart (RFC 8628's default: 5 s).
    pub device_poll_floor: Option<std::time::Duration>,
}

/// Starts the worker with explicit timing rules.
pub fn spawn_with(
    events: mpsc::UnboundedSender<WorkerEvent>,
    history: Option<history::HistoryHandle>,
    options: WorkerOptions,
) -> WorkerHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut worker = Worker::new(events);
    worker.history = history;
    worker.options = options;
    tokio::spawn(worker.run(rx));
    WorkerHandle { tx }
}

/// Messages the worker's own tasks send back to it.
enum Internal {
    Done(RequestId),
    NeedToken(NeedToken),
    Acquired {
        key: TokenKey,
        generation: u64,
        result: Result<Token, AuthError>,
    },
    RenewDue {
        key: TokenKey,
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
    tokens: HashMap<TokenKey, EnvTokens>,
    options: WorkerOptions,
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
            options: WorkerOptions::default(),
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
        for entry in self.tokens.values() {
            if let Some((_, c)) = &entry.acquiring {
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
                read_fhir,
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
                        // A panic while sending still answers the request (with a sentence).
                        let send = guard::guarded("Sending the request", send);
                        tokio::select! {
                            r = send => r.unwrap_or_else(|e| Err(HttpError::Other(e))),
                            _ = token.cancelled() => Err(HttpError::Cancelled),
                        }
                    };
                    // Recorded before the answer goes out, so a flush after the answer
                    // finds it written.
                    if let (Some(h), Some(meta)) = (&history, record) {
                        record_exchange(h, *meta, at_ms, started, &request, &result);
                    }
                    if read_fhir && let Ok(r) = result.as_mut() {
                        r.fhir = read_page(&r.response).await;
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
                    let sender = events.clone();
                    // The result is sent from the blocking thread before the parsed body is
                    // freed there (see FilterJob::run_then).
                    let ran = tokio::task::spawn_blocking(move || {
                        job.run_then(|result| {
                            let _ = sender.send(WorkerEvent::Filtered {
                                id,
                                generation,
                                result,
                            });
                        });
                    })
                    .await;
                    if let Err(e) = ran {
                        let _ = events.send(WorkerEvent::Filtered {
                            id,
                            generation,
                            result: Err(format!("The filter failed: {e}.")),
                        });
                    }
                });
            }
            WorkerCommand::ReadPage { id, mut received } => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    received.fhir = read_page(&received.response).await;
                    let _ = events.send(WorkerEvent::Response {
                        id,
                        result: Ok(received),
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
                // A person asking: no floor, no back-off, and the failure record starts over.
                let key = TokenKey::of(&env, &auth);
                let entry = self.entry(&key, *auth);
                entry.reset();
                if let Some((_, c)) = entry.acquiring.take() {
                    c.cancel();
                }
                self.start_acquiring(&key, false);
            }
            WorkerCommand::CancelSignIn { env } => {
                for e in self
                    .tokens
                    .iter_mut()
                    .filter(|(k, _)| k.env == env)
                    .map(|(_, e)| e)
                {
                    if let Some((_, c)) = e.acquiring.take() {
                        c.cancel();
                    }
                    for w in e.waiters.drain(..) {
                        let _ = w.send(Err(AuthError::Cancelled.to_string()));
                    }
                }
                let _ = self.auth_events.send(AuthEvent::Cancelled { env });
            }
            cmd @ (WorkerCommand::WatchJob { .. }
            | WorkerCommand::StartExport { .. }
            | WorkerCommand::StartOperation { .. }
            | WorkerCommand::CancelJob { .. }
            | WorkerCommand::DownloadJob { .. }) => self.handle_job(cmd),
            WorkerCommand::SignOut { env } => {
                auth::current::forget(&env);
                self.tokens.retain(|k, e| {
                    if k.env != env {
                        return true;
                    }
                    if let Some((_, c)) = e.acquiring.take() {
                        c.cancel();
                    }
                    false
                });
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

    fn entry(&mut self, key: &TokenKey, auth: ResolvedAuth) -> &mut EnvTokens {
        let e = self
            .tokens
            .entry(key.clone())
            .or_insert_with(|| EnvTokens::new(auth.clone()));
        // Settings changed since the token was issued: neither the token nor a sign-in still
        // running under the old settings belongs to the new ones.
        if e.auth != auth {
            e.auth = auth;
            e.reset();
            e.last_start = None;
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
                let key = TokenKey::of(&need.env, &need.auth);
                let policy = self.options.cache;
                let entry = self.entry(&key, *need.auth);
                if let Some(t) = entry.given_to_send(
                    need.given.as_ref(),
                    need.refused.as_deref(),
                    SystemTime::now(),
                ) {
                    let _ = need.reply.send(Ok(t));
                    return;
                }
                let answer = entry.answer(
                    need.refused.as_deref(),
                    SystemTime::now(),
                    std::time::Instant::now(),
                    &policy,
                );
                match answer {
                    Answer::Token(t) => {
                        let _ = need.reply.send(Ok(t));
                    }
                    Answer::Refuse(e) => {
                        let _ = need.reply.send(Err(e));
                    }
                    Answer::Wait { start } => {
                        entry.waiters.push(need.reply);
                        if start {
                            self.start_acquiring(&key, false);
                        }
                    }
                }
            }
            Internal::Acquired {
                key,
                generation,
                result,
            } => {
                let policy = self.options.cache;
                let Some(entry) = self.tokens.get_mut(&key) else {
                    return;
                };
                if entry.acquiring.as_ref().map(|(g, _)| *g) != Some(generation) {
                    return; // cancelled or superseded
                }
                entry.acquiring = None;
                let renewed = entry.token.is_some();
                let env = key.env.clone();
                match result {
                    Ok(token) => {
                        entry.failures = 0;
                        entry.last_error = None;
                        // Waiting requests use it: that counts as use.
                        entry.used = !entry.waiters.is_empty();
                        entry.issued(&token.access_token);
                        for w in entry.waiters.drain(..) {
                            let _ = w.send(Ok(token.access_token.clone()));
                        }
                        entry.token = Some(token.clone());
                        let variable = entry.auth.token_variable.clone();
                        // Renew ahead of expiry when that needs no person.
                        let can_renew =
                            !entry.auth.is_interactive() || token.refresh_token.is_some();
                        let delay = entry.renewal_delay(
                            &token,
                            SystemTime::now(),
                            std::time::Instant::now(),
                            &policy,
                        );
                        if can_renew && let Some(wait) = delay {
                            self.schedule_renewal(&key, token.obtained_at, wait);
                        }
                        // [storage] The storage token is the worker's alone: it never reaches
                        // the UI or a `{{variable}}`.
                        if !storage::key_env(&env).1 {
                            let _ = self.auth_events.send(AuthEvent::Acquired {
                                env,
                                token,
                                variable,
                                renewed,
                            });
                        }
                    }
                    Err(AuthError::Cancelled) => {
                        for w in entry.waiters.drain(..) {
                            let _ = w.send(Err(AuthError::Cancelled.to_string()));
                        }
                    }
                    Err(e) => {
                        entry.failures = entry.failures.saturating_add(1);
                        entry.last_error = Some(e.to_string());
                        for w in entry.waiters.drain(..) {
                            let _ = w.send(Err(e.to_string()));
                        }
                        // A failed renewal of a token still in use is tried again after the
                        // back-off (bounded), while the token lasts.
                        if let Some(t) =
                            entry.token.as_ref().filter(|t| t.usable(SystemTime::now()))
                        {
                            let wait = policy.backoff(entry.failures);
                            let obtained_at = t.obtained_at;
                            self.schedule_renewal(&key, obtained_at, wait);
                        }
                        if !storage::key_env(&env).1 {
                            let _ = self.auth_events.send(AuthEvent::Failed {
                                env,
                                error: e.to_string(),
                            });
                        }
                    }
                }
            }
            Internal::RenewDue { key, obtained_at } => {
                let now = SystemTime::now();
                let policy = self.options.cache;
                let due = self.tokens.get(&key).is_some_and(|e| {
                    e.acquiring.is_none()
                        // Renew on use: a token nobody used since it came is left to lapse.
                        && e.used
                        && e.next_allowed(&policy).is_none_or(|at| std::time::Instant::now() >= at)
                        && e.token
                            .as_ref()
                            .is_some_and(|t| t.obtained_at == obtained_at && t.usable(now))
                });
                if due {
                    self.start_acquiring(&key, true);
                }
            }
        }
    }

    fn schedule_renewal(&self, key: &TokenKey, obtained_at: SystemTime, wait: std::time::Duration) {
        let tx = self.internal_tx.clone();
        let key = key.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let _ = tx.send(Internal::RenewDue { key, obtained_at });
        });
    }

    fn start_acquiring(&mut self, key: &TokenKey, renewal: bool) {
        self.generation += 1;
        let generation = self.generation;
        // [storage] A storage token (Part 2 of issue 16) is cached under its own key; its first
        // sign-in tries the FHIR token's refresh token, so a user sign-in is not asked twice.
        let (env_name, is_storage) = storage::key_env(&key.env);
        let fhir_refresh = match is_storage {
            true => self
                .tokens
                .iter()
                .find(|(k, _)| k.env == env_name)
                .and_then(|(_, e)| e.token.clone())
                .filter(|t| t.refresh_token.is_some()),
            false => None,
        };
        // Prompts (device code, browser) name the environment itself.
        let prompt_env = env_name.to_string();
        let device_floor = self.options.device_poll_floor;
        let Some(entry) = self.tokens.get_mut(key) else {
            return;
        };
        let cancel = CancellationToken::new();
        entry.acquiring = Some((generation, cancel.clone()));
        entry.last_start = Some(std::time::Instant::now());
        let auth = entry.auth.clone();
        let prior = entry.token.clone().or(fhir_refresh);
        let http = self.auth_http.clone();
        let events = self.auth_events.clone();
        let internal = self.internal_tx.clone();
        let key = key.clone();
        if !renewal && !is_storage {
            let _ = events.send(AuthEvent::Started {
                env: key.env.clone(),
                flow: auth.kind.label(),
            });
        }
        tokio::spawn(async move {
            let acquire = auth::acquire_with(
                &http,
                &auth,
                &prompt_env,
                prior.as_ref(),
                renewal,
                &events,
                device_floor,
            );
            let result = tokio::select! {
                r = guard::guarded("Signing in", acquire) => r.unwrap_or_else(|e| Err(AuthError::Flow(e))),
                _ = cancel.cancelled() => Err(AuthError::Cancelled),
            };
            let _ = internal.send(Internal::Acquired {
                key,
                generation,
                result,
            });
        });
    }
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
        given: plan.given.clone(),
        reply,
    };
    if internal.send(Internal::NeedToken(msg)).is_err() {
        return Err("the worker is shutting down".into());
    }
    rx.await
        .unwrap_or_else(|_| Err("sign-in was abandoned".into()))
}

/// Why a job has no token to send.
pub const NO_SIGN_IN: &str = "the environment has no sign-in";
