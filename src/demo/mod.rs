//! A built-in, in-process stand-in for an Azure Health Data Services FHIR
//! service plus the Microsoft Entra ID endpoints needed to get tokens for it.
//! It lets fhirside be demonstrated and tested without a cloud tenant, while
//! answering with the same shapes (OperationOutcomes, Entra error bodies,
//! bulk-export protocol) as the real services.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fhirside::demo::{DemoOptions, DemoServer};
//! let server = DemoServer::start(0, DemoOptions::default()).await?;
//! println!("FHIR at {}, authority {}", server.fhir_url(), server.authority());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout: FHIR base at the root (`/metadata`, `/Patient`, `/$export`, …);
//! Entra under `/login/{tenant}/oauth2/…` and `/login/devicelogin`.
//! Choices where Azure/Entra leave room:
//! - the export snapshot is taken at kick-off (`transactionTime` = kick-off);
//! - user tokens (`scp`) are authorised because the demo user's object id has
//!   the data role (as Azure RBAC would); app tokens need `roles`;
//! - refresh tokens are issued only when `offline_access` is requested, and
//!   rotate on every use;
//! - Group is read-only (writes answer 405).

mod auth;
mod bundle;
mod client_assertion;
mod data;
mod entra;
mod export;
mod fhir_routes;
mod metadata;
mod outcome;
mod search;
mod smart;
mod store;
mod util;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::middleware;
use axum::response::Response;
use rand::Rng;

/// Directory (tenant) id of the demo tenant.
pub const DEMO_TENANT_ID: &str = "7c3f9a52-1d4e-4b8a-9f26-5e0d8c41b7a3";
/// Verified domain of the demo tenant (also accepted in token URLs).
pub const DEMO_TENANT_DOMAIN: &str = "fhirsidedemo.onmicrosoft.com";
/// Subscription the demo workspace pretends to live in.
pub const DEMO_SUBSCRIPTION_ID: &str = "b2e8d4c6-0a1f-4e3b-8d5c-9f7a6e2b1c04";
/// App registration with the FHIR data role (client credentials and user flows).
pub const DEMO_CLIENT_ID: &str = "4f1c2a9e-6b3d-4e8f-a7c5-0d2b9e8f1a36";
pub const DEMO_CLIENT_SECRET: &str = "demo-secret-Qx7~fhirside~8Kp2";
/// App registration without any FHIR role: gets tokens, FHIR answers 403.
pub const DEMO_NOROLE_CLIENT_ID: &str = "9a0e7b3c-2f5d-4c1a-8e6b-3d4f5a6b7c8d";
pub const DEMO_NOROLE_CLIENT_SECRET: &str = "demo-secret-norole-Zt4~9Wm1";
/// The demo user who signs in through the authorize / device-login pages.
pub const DEMO_USER_UPN: &str = "demo.user@fhirsidedemo.onmicrosoft.com";
pub const DEMO_USER_NAME: &str = "Demo User";
pub const DEMO_USER_OID: &str = "e5b1c3d7-8f2a-4b6c-9d0e-1a2b3c4d5e6f";
/// App role carried by tokens of [`DEMO_CLIENT_ID`].
pub const DEMO_DATA_ROLE: &str = "FhirDataContributor";
/// Id of the Group of 100 patients.
pub const DEMO_GROUP_ID: &str = "demo-cohort";
/// A second resource the demo tenant knows (tokens for it are rejected by FHIR).
pub const DEMO_OTHER_RESOURCE: &str = entra::ARM_RESOURCE;
/// Identifier system of the patients' medical record numbers.
pub const DEMO_MRN_SYSTEM: &str = data::MRN_SYSTEM;

/// Health check fault switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthFault {
    Degraded,
    Unhealthy,
}

/// Fault injection switches.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    pub health: Option<HealthFault>,
    /// About every third export status poll answers 429 or 503 with `Retry-After: 1`.
    pub export_throttle: bool,
    /// Export jobs end with 500 and an OperationOutcome (code `exception`).
    pub export_fail: bool,
}

/// Options of the demo server.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Lifetime of issued access tokens.
    pub token_ttl: Duration,
    /// Export status polls carry `X-Progress` and `Retry-After` while running.
    pub progress_headers: bool,
    /// How long an export job runs.
    pub export_duration: Duration,
    pub faults: Faults,
    /// Seed of the synthetic population.
    pub seed: u64,
    /// Number of synthetic patients.
    pub patients: usize,
    /// Device-code polling interval announced (and enforced with `slow_down`).
    pub device_code_interval: Duration,
    /// Device-code lifetime (`expires_in`).
    pub device_code_ttl: Duration,
    /// Certificates (PEM) registered for [`DEMO_CLIENT_ID`]: it may then sign in with a
    /// signed client assertion instead of its secret.
    pub entra_certificates: Vec<String>,
    /// Clients of the SMART Backend Services token endpoint (`/smart/token`): client id and
    /// the JWKS registered for it.
    pub smart_clients: Vec<(String, serde_json::Value)>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            token_ttl: Duration::from_secs(3600),
            progress_headers: false,
            export_duration: Duration::from_secs(20),
            faults: Faults::default(),
            seed: 42,
            patients: 1000,
            device_code_interval: Duration::from_secs(5),
            device_code_ttl: Duration::from_secs(900),
            entra_certificates: Vec::new(),
            smart_clients: Vec::new(),
        }
    }
}

/// Shared state of all handlers.
pub(crate) struct AppState {
    opts: DemoOptions,
    /// FHIR base URL, no trailing slash.
    base: String,
    /// Entra authority stand-in (`{base}/login`).
    authority: String,
    /// Per-process HS256 signing key.
    key: [u8; 32],
    store: RwLock<store::Store>,
    entra: Mutex<entra::EntraState>,
    exports: Mutex<export::ExportState>,
    smart: Mutex<smart::SmartState>,
}

/// A running demo server.
pub struct DemoServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

async fn add_request_id(mut resp: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&util::new_guid()) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

impl DemoServer {
    /// Binds 127.0.0.1:port (0 = free port) and serves in a background tokio task.
    pub async fn start(port: u16, opts: DemoOptions) -> std::io::Result<DemoServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://127.0.0.1:{}", addr.port());
        let mut store = store::Store::default();
        data::populate(&mut store, opts.seed, opts.patients, chrono::Utc::now());
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        let state = Arc::new(AppState {
            opts,
            authority: format!("{base}/login"),
            base,
            key,
            store: RwLock::new(store),
            entra: Mutex::new(entra::EntraState::default()),
            exports: Mutex::new(export::ExportState::default()),
            smart: Mutex::new(smart::SmartState::default()),
        });
        let app: Router = entra::routes()
            .merge(smart::routes())
            .fallback(fhir_routes::dispatch)
            .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
            .layer(middleware::map_response(add_request_id))
            .with_state(state);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(DemoServer {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// FHIR base URL, e.g. `http://127.0.0.1:PORT` (at the root, like Azure).
    pub fn fhir_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// Entra authority stand-in, e.g. `http://127.0.0.1:PORT/login`.
    pub fn authority(&self) -> String {
        format!("{}/login", self.fhir_url())
    }

    /// Stops serving; waits up to two seconds for open connections.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}
