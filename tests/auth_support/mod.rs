//! Shared helpers for the sign-in tests: a worker harness that collects every event, the demo
//! server with small options, tiny local axum servers, and a "browser" that speaks to the demo's
//! authorize page. Everything listens on 127.0.0.1 only and every wait is bounded.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use fhirside::cli::demo::demo_environment;
use fhirside::demo::{DemoOptions, DemoServer};
use fhirside::worker::auth::{AuthEvent, CachePolicy, ResolvedAuth, resolve_auth};
use fhirside::worker::{
    self, AuthPlan, HttpError, HttpRequest, Received, RequestId, WorkerCommand, WorkerEvent,
    WorkerHandle, WorkerOptions,
};
use fhirside::workspace::template::Context;
use fhirside::workspace::{AuthConfig, Environment, Variable};
use tokio::sync::mpsc;

/// The hard ceiling of every test body.
pub(crate) const TEST_LIMIT: Duration = Duration::from_secs(10);

/// Runs a test body under [`TEST_LIMIT`].
pub(crate) async fn bounded<F: Future<Output = ()>>(f: F) {
    tokio::time::timeout(TEST_LIMIT, f)
        .await
        .expect("the test took longer than its 10 s limit");
}

/// Demo options for tests: a small population, quick device-code polling.
pub(crate) fn demo_opts() -> DemoOptions {
    DemoOptions {
        patients: 20,
        device_code_interval: Duration::from_secs(1),
        device_code_ttl: Duration::from_secs(30),
        ..DemoOptions::default()
    }
}

pub(crate) async fn demo(opts: DemoOptions) -> DemoServer {
    DemoServer::start(0, opts)
        .await
        .expect("demo server starts")
}

/// The demo environment with its `[auth]` replaced by `config`.
pub(crate) fn demo_env(server: &DemoServer, config: AuthConfig) -> Environment {
    let mut env = demo_environment(server);
    env.auth = Some(config);
    env
}

pub(crate) fn set_var(env: &mut Environment, key: &str, value: &str) {
    match env.variables.iter_mut().find(|v| v.key == key) {
        Some(v) => v.value = value.to_string(),
        None => env.variables.push(Variable::plain(key, value)),
    }
}

/// `resolve_auth` for the environment's own `[auth]`.
pub(crate) fn resolved(env: &Environment) -> ResolvedAuth {
    let config = env.auth.clone().expect("the environment has [auth]");
    resolve_auth(
        &config,
        &Context {
            environment: Some(env),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("resolve_auth: {e}"))
}

pub(crate) fn get_req(url: impl Into<String>) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![("Accept".into(), "application/fhir+json".into())],
        body: None,
        timeout: Duration::from_secs(5),
        insecure: false,
    }
}

/// An environment of bare variables (for local stubs).
pub(crate) fn env_with(name: &str, vars: &[(&str, &str)], config: AuthConfig) -> Environment {
    let mut env = Environment::new(name);
    for (k, v) in vars {
        if k.contains("secret") {
            env.variables.push(Variable::secret(k, v));
        } else {
            env.variables.push(Variable::plain(k, v));
        }
    }
    env.auth = Some(config);
    env
}

/// An auth event with the instant it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub at: Instant,
    pub event: AuthEvent,
}

/// The worker plus everything it has said so far.
pub(crate) struct Harness {
    pub handle: WorkerHandle,
    rx: mpsc::UnboundedReceiver<WorkerEvent>,
    /// Every auth event, in order of arrival.
    pub auth: Vec<Seen>,
    responses: HashMap<RequestId, Result<Box<Received>, HttpError>>,
    /// Debug text of every worker event received (for the secrets check).
    pub debug_log: Vec<String>,
    next_id: u64,
}

/// Timing rules for tests of short-lived tokens: a 300 ms renewal floor and 1 s device-code
/// polling (production: 30 s and 5 s). Tests of the floors themselves use the defaults.
pub(crate) fn fast_options() -> WorkerOptions {
    WorkerOptions {
        cache: CachePolicy {
            renew_floor: Duration::from_millis(300),
            max_backoff: Duration::from_secs(2),
        },
        device_poll_floor: Some(Duration::from_secs(1)),
    }
}

impl Harness {
    pub(crate) fn new() -> Self {
        Self::with_options(fast_options())
    }

    pub(crate) fn with_options(options: WorkerOptions) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = worker::spawn_with(tx, None, options);
        Harness {
            handle,
            rx,
            auth: Vec::new(),
            responses: HashMap::new(),
            debug_log: Vec::new(),
            next_id: 0,
        }
    }

    /// Receives one event (or times out); false on timeout.
    async fn pump(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, self.rx.recv()).await {
            Ok(Some(ev)) => {
                self.debug_log.push(format!("{ev:?}"));
                match ev {
                    WorkerEvent::Auth(a) => self.auth.push(Seen {
                        at: Instant::now(),
                        event: a,
                    }),
                    WorkerEvent::Response { id, result } => {
                        self.responses.insert(id, result);
                    }
                    // Export jobs, body views, charts and download progress are not part of
                    // these tests.
                    WorkerEvent::BodyReady { .. }
                    | WorkerEvent::BodyHead { .. }
                    | WorkerEvent::Filtered { .. }
                    | WorkerEvent::Chart { .. }
                    | WorkerEvent::Receiving { .. } => {}
                    WorkerEvent::Job(_)
                    | WorkerEvent::Download { .. }
                    | WorkerEvent::DownloadDone { .. }
                    | WorkerEvent::ExportRefused(_)
                    | WorkerEvent::History(_) => {}
                }
                true
            }
            Ok(None) => panic!("the worker stopped"),
            Err(_) => false,
        }
    }

    /// Drains whatever arrives within `d`.
    pub(crate) async fn settle(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while self.pump(deadline).await {}
    }

    pub(crate) fn send(&mut self, request: HttpRequest, auth: Option<AuthPlan>) -> RequestId {
        self.next_id += 1;
        let id = RequestId(self.next_id);
        self.handle.send(WorkerCommand::Send {
            id,
            request,
            auth,
            record: None,
            read_fhir: false,
        });
        id
    }

    pub(crate) fn sign_in(&self, env: &str, auth: ResolvedAuth) {
        self.handle.send(WorkerCommand::SignIn {
            env: env.into(),
            auth: auth.into(),
        });
    }

    pub(crate) async fn response(
        &mut self,
        id: RequestId,
        within: Duration,
    ) -> Result<Box<Received>, HttpError> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(r) = self.responses.remove(&id) {
                return r;
            }
            if !self.pump(deadline).await {
                panic!(
                    "no response to {id:?} within {within:?}; auth events so far: {:#?}",
                    self.auth_events()
                );
            }
        }
    }

    /// The response to `id`, if it has arrived (after `settle`).
    pub(crate) fn take_response(
        &mut self,
        id: RequestId,
    ) -> Option<Result<Box<Received>, HttpError>> {
        self.responses.remove(&id)
    }

    /// Waits for the first auth event at index >= `from` that matches; returns its index.
    pub(crate) async fn wait_auth_from(
        &mut self,
        from: usize,
        within: Duration,
        what: &str,
        pred: impl Fn(&AuthEvent) -> bool,
    ) -> usize {
        let deadline = Instant::now() + within;
        let mut i = from;
        loop {
            while i < self.auth.len() {
                if pred(&self.auth[i].event) {
                    return i;
                }
                i += 1;
            }
            if !self.pump(deadline).await {
                panic!(
                    "no {what} event within {within:?}; auth events so far: {:#?}",
                    self.auth_events()
                );
            }
        }
    }

    pub(crate) async fn wait_auth(
        &mut self,
        within: Duration,
        what: &str,
        pred: impl Fn(&AuthEvent) -> bool,
    ) -> AuthEvent {
        let i = self.wait_auth_from(0, within, what, pred).await;
        self.auth[i].event.clone()
    }

    pub(crate) fn auth_events(&self) -> Vec<AuthEvent> {
        self.auth.iter().map(|s| s.event.clone()).collect()
    }

    pub(crate) fn count(&self, pred: impl Fn(&AuthEvent) -> bool) -> usize {
        self.auth.iter().filter(|s| pred(&s.event)).count()
    }
}

pub(crate) fn is_started(e: &AuthEvent) -> bool {
    matches!(e, AuthEvent::Started { .. })
}
pub(crate) fn is_acquired(e: &AuthEvent) -> bool {
    matches!(e, AuthEvent::Acquired { .. })
}
pub(crate) fn is_failed(e: &AuthEvent) -> bool {
    matches!(e, AuthEvent::Failed { .. })
}
pub(crate) fn is_ended(e: &AuthEvent) -> bool {
    matches!(
        e,
        AuthEvent::Acquired { .. } | AuthEvent::Failed { .. } | AuthEvent::Cancelled { .. }
    )
}

/// The error sentence of a `Failed` event.
pub(crate) fn failure(e: &AuthEvent) -> String {
    match e {
        AuthEvent::Failed { error, .. } => error.clone(),
        other => panic!("expected Failed, got {other:?}"),
    }
}

/// Serves `app` on 127.0.0.1 (free port) until the test's runtime ends.
pub(crate) async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A port that was free a moment ago (bound then dropped), for closed-port and redirect tests.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain client that never follows redirects (the test's "browser").
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Pulls `attr="…"` out of the first tag that has `marker` before it.
fn html_attr(html: &str, marker: &str, attr: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let rest = &html[start..];
    let key = format!("{attr}=\"");
    let a = rest
        .find(&key)
        .unwrap_or_else(|| panic!("no {attr} in {rest}"))
        + key.len();
    let b = rest[a..].find('"').unwrap();
    rest[a..a + b].replace("&amp;", "&")
}

/// Plays the person at the demo's authorize page: GET the URL, submit the form with `action`
/// (accept/cancel) as the page's buttons do, and return the 302 `Location`.
pub(crate) async fn consent(authorize_url: &str, action: &str) -> String {
    let b = browser();
    let page = b.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200, "authorize page");
    let html = page.text().await.unwrap();
    let form_action = html_attr(&html, "<form", "action");
    let ctx = html_attr(&html, "name=\"ctx\"", "value");
    let resp = b
        .post(&form_action)
        .form(&[("ctx", ctx.as_str()), ("action", action)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302, "the consent form redirects");
    resp.headers()
        .get("location")
        .expect("Location")
        .to_str()
        .unwrap()
        .to_string()
}

/// Follows a `http://localhost:PORT/…` redirect to the loopback listener (via 127.0.0.1);
/// returns the page the listener answers with.
pub(crate) async fn follow_to_loopback(location: &str) -> String {
    let mut url = url::Url::parse(location).unwrap();
    assert_eq!(url.host_str(), Some("localhost"), "{location}");
    url.set_host(Some("127.0.0.1")).unwrap();
    let r = browser().get(url.as_str()).send().await.unwrap();
    r.text().await.unwrap()
}

/// Replaces one query parameter of a URL.
pub(crate) fn with_param(location: &str, key: &str, value: &str) -> String {
    let mut url = url::Url::parse(location).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            if k == key {
                (k.into_owned(), value.to_string())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}
