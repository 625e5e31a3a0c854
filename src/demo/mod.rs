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
//! Entra under `/login/{tenant}/oauth2/…` and `/login/devicelogin`; an Azure
//! Blob Storage stand-in on a second port ([`DemoServer::storage_url`]) that
//! holds export outputs and import inputs/errors.
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
mod clinical;
mod data;
mod entra;
mod export;
mod fhir_routes;
mod metadata;
mod ops;
mod outcome;
mod search;
mod smart;
pub mod storage;
mod store;
mod tls;
mod util;
mod validate;

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
/// The Azure Storage resource (v1 `resource=https://storage.azure.com/`,
/// v2 `scope=https://storage.azure.com/.default`).
pub const DEMO_STORAGE_RESOURCE: &str = storage::STORAGE_RESOURCE;
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
    /// Throttling: every third export status poll answers 429 or 503 with
    /// `Retry-After: 1` (429s with `x-ms-retry-after-ms: 1000` too), and every
    /// fourth search or page answers 429 with `x-ms-retry-after-ms: 1500`.
    pub export_throttle: bool,
    /// Export jobs end with 500 and an OperationOutcome (code `exception`).
    pub export_fail: bool,
    /// The storage account has no role assignments: every read or write
    /// answers 403 `AuthorizationPermissionMismatch`.
    pub storage_forbidden: bool,
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
    /// Port of the storage stand-in on 127.0.0.1 (0 = a free one).
    pub storage_port: u16,
    /// Blobs can be read without credentials (containers with Azure's public
    /// access level "Blob"); off by default, as on Azure.
    pub storage_public_read: bool,
    /// Serve https (FHIR, Entra and storage) with a certificate signed by a
    /// CA made at start ([`DemoServer::ca_cert_path`]).
    pub tls: bool,
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
            storage_port: 0,
            storage_public_read: false,
            tls: false,
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
    /// Storage account base URL (another origin), no trailing slash.
    storage_base: String,
    /// Per-process HS256 signing key.
    key: [u8; 32],
    store: RwLock<store::Store>,
    entra: Mutex<entra::EntraState>,
    exports: Mutex<export::ExportState>,
    blobs: RwLock<storage::Blobs>,
    ops: Mutex<ops::OpsState>,
    /// True once the synthetic population is in the store.
    ready: tokio::sync::watch::Receiver<bool>,
    /// Searches seen, for the throttle fault.
    searches: std::sync::atomic::AtomicU64,
    smart: Mutex<smart::SmartState>,
}

/// A running demo server.
pub struct DemoServer {
    addr: SocketAddr,
    ready: tokio::sync::watch::Receiver<bool>,
    storage_addr: SocketAddr,
    scheme: &'static str,
    tls: Option<tls::DemoTls>,
    shutdown: tokio_util::sync::CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn add_request_id(mut resp: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&util::new_guid()) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

fn spawn_serve<L>(
    listener: L,
    app: Router,
    stop: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
    })
}

impl DemoServer {
    /// Binds 127.0.0.1:port (0 = free port) and serves in a background tokio task.
    pub async fn start(port: u16, opts: DemoOptions) -> std::io::Result<DemoServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let storage_listener =
            tokio::net::TcpListener::bind(("127.0.0.1", opts.storage_port)).await?;
        let storage_addr = storage_listener.local_addr()?;
        let tls = if opts.tls {
            Some(tls::DemoTls::generate()?)
        } else {
            None
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base = format!("{scheme}://127.0.0.1:{}", addr.port());
        let storage_base = format!("{scheme}://127.0.0.1:{}", storage_addr.port());
        // The population is generated off the async threads while the server
        // already listens; FHIR requests wait for it (`ready`), so start-up
        // shows at once and the first search answers once the data is there.
        let (ready_tx, ready) = tokio::sync::watch::channel(false);
        let (seed, patients) = (opts.seed, opts.patients);
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        let state = Arc::new(AppState {
            opts,
            authority: format!("{base}/login"),
            base,
            storage_base,
            key,
            store: RwLock::new(store::Store::default()),
            ready,
            entra: Mutex::new(entra::EntraState::default()),
            exports: Mutex::new(export::ExportState::default()),
            blobs: RwLock::new({
                let mut b = storage::Blobs::default();
                ops::seed_import_samples(&mut b);
                export::seed_anonymization_config(&mut b);
                b
            }),
            ops: Mutex::new(ops::OpsState::default()),
            searches: std::sync::atomic::AtomicU64::new(0),
            smart: Mutex::new(smart::SmartState::default()),
        });
        let app: Router = entra::routes()
            .merge(smart::routes())
            .fallback(fhir_routes::dispatch)
            .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
            .layer(middleware::map_response(add_request_id))
            .with_state(state.clone());
        let storage_app: Router = Router::new()
            .fallback(storage::dispatch)
            .layer(DefaultBodyLimit::max(256 * 1024 * 1024))
            .with_state(state.clone());
        let filler = state.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = store::Store::default();
            data::populate(&mut store, seed, patients, chrono::Utc::now());
            *filler.store.write().unwrap_or_else(|e| e.into_inner()) = store;
            let _ = ready_tx.send(true);
        });
        let shutdown = tokio_util::sync::CancellationToken::new();
        let tasks = match &tls {
            Some(t) => vec![
                spawn_serve(t.listener(listener)?, app, shutdown.clone()),
                spawn_serve(t.listener(storage_listener)?, storage_app, shutdown.clone()),
            ],
            None => vec![
                spawn_serve(listener, app, shutdown.clone()),
                spawn_serve(storage_listener, storage_app, shutdown.clone()),
            ],
        };
        Ok(DemoServer {
            addr,
            ready: state.ready.clone(),
            storage_addr,
            scheme,
            tls,
            shutdown,
            tasks,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// FHIR base URL, e.g. `http://127.0.0.1:PORT` (at the root, like Azure;
    /// `https://` with [`DemoOptions::tls`]).
    pub fn fhir_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.addr.port())
    }

    /// The CA certificate (PEM) of the https mode, for a client's trust store.
    pub fn ca_cert_path(&self) -> Option<std::path::PathBuf> {
        self.tls.as_ref().map(tls::DemoTls::ca_path)
    }

    /// Entra authority stand-in, e.g. `http://127.0.0.1:PORT/login`.
    pub fn authority(&self) -> String {
        format!("{}/login", self.fhir_url())
    }

    /// Storage account stand-in, e.g. `http://127.0.0.1:PORT2` (plays
    /// `https://ACCOUNT.blob.core.windows.net`).
    pub fn storage_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.storage_addr.port())
    }

    /// Waits until the synthetic population has been generated (FHIR
    /// requests wait for it by themselves).
    pub async fn ready(&self) {
        let mut rx = self.ready.clone();
        let _ = rx.wait_for(|r| *r).await;
    }

    /// Stops serving; open connections get 300 ms (all servers together), then are cut.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        // One short deadline for all servers together: a graceful shutdown waits for open
        // keep-alive connections, and a user who pressed q should not wait seconds for them.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        for mut task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                abort.abort();
            }
        }
    }
}
