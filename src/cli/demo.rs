//! `--demo` and `demo-server`: start the built-in stand-in service and point a workspace at it.

use crate::demo::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SUBSCRIPTION_ID, DEMO_TENANT_ID, DemoOptions,
    DemoServer, Faults, HealthFault,
};
use crate::workspace::seed::seed_collection;
use crate::workspace::{AuthConfig, AuthKind, Environment, Store, StoreError, Variable, Workspace};

pub const DEMO_ENV: &str = "demo";

/// The environment that walks the Azure flow against `server`.
pub fn demo_environment(server: &DemoServer) -> Environment {
    Environment {
        name: DEMO_ENV.into(),
        variables: vec![
            Variable::plain("authority", &server.authority()),
            Variable::plain("tenantid", DEMO_TENANT_ID),
            Variable::plain("subid", DEMO_SUBSCRIPTION_ID),
            Variable::plain("clientid", DEMO_CLIENT_ID),
            Variable::secret("clientsecret", DEMO_CLIENT_SECRET),
            Variable::plain("fhirurl", &server.fhir_url()),
            Variable::secret("bearerToken", ""),
        ],
        timeout_secs: crate::workspace::DEFAULT_TIMEOUT_SECS,
        auth: Some(AuthConfig {
            kind: AuthKind::ClientCredentials,
            ..Default::default()
        }),
        // `--tls`: the certificate comes from a CA made at start that no trust store knows.
        insecure: server.ca_cert_path().is_some(),
        trusted_origins: Vec::new(),
        // The storage stand-in gets the storage token, as *.blob.core.windows.net would.
        storage_hosts: Some(vec![server.storage_url()]),
        // Lenient, as Azure is by default: the Response pane says what the demo ignored.
        strict: false,
    }
}

/// Writes (or refreshes: the port changes every run) the demo environment, and adds the seed
/// collection when the workspace has none of that name.
pub fn prepare_workspace(
    store: &mut Store,
    ws: &mut Workspace,
    server: &DemoServer,
) -> Result<(), StoreError> {
    let mut env = demo_environment(server);
    // The port changes every run; `strict = true`, set by the user to try it, stays.
    env.strict = ws.environment(DEMO_ENV).is_some_and(|e| e.strict);
    store.save_environment(&env)?;
    match ws.environment_mut(DEMO_ENV) {
        Some(existing) => *existing = env,
        None => {
            ws.environments.push(env);
            ws.environments.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    crate::workspace::seed::ensure_gitignore(store.root());
    let seed = seed_collection();
    if ws.collection(seed.name()).is_none() {
        store.save_collection(&seed)?;
        ws.collections.push(seed);
        ws.collections.sort_by(|a, b| a.root.name.cmp(&b.root.name));
    }
    Ok(())
}

/// Fault switches by name: `throttle`, `fail`, `degraded`, `unhealthy`, `storage-forbidden`.
pub fn parse_faults(list: &[String]) -> Result<Faults, String> {
    let mut f = Faults::default();
    for name in list
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match name {
            "throttle" => f.export_throttle = true,
            "fail" => f.export_fail = true,
            "degraded" => f.health = Some(HealthFault::Degraded),
            "unhealthy" => f.health = Some(HealthFault::Unhealthy),
            "storage-forbidden" => f.storage_forbidden = true,
            other => {
                return Err(format!(
                    "unknown fault '{other}': use throttle, fail, degraded, unhealthy or storage-forbidden"
                ));
            }
        }
    }
    Ok(f)
}

/// Options shared by `--demo` and `demo-server`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Lifetime of the demo's access tokens (e.g. 90s, to watch refresh happen).
    #[arg(long, default_value = "1h", value_parser = super::duration::parse_duration)]
    pub token_ttl: std::time::Duration,
    /// How long a demo export job runs.
    #[arg(long, default_value = "20s", value_parser = super::duration::parse_duration)]
    pub export_duration: std::time::Duration,
    /// Send X-Progress and Retry-After while exports run (the Azure service sends neither).
    #[arg(long)]
    pub progress_headers: bool,
    /// Fault switches: throttle (429/503 on polls), fail (jobs fail), degraded, unhealthy,
    /// storage-forbidden (the storage account refuses every read with 403).
    #[arg(long, value_delimiter = ',')]
    pub faults: Vec<String>,
    /// Port of the demo's Azure Storage stand-in on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub storage_port: u16,
    /// Let anyone read the demo's export files without a storage token (Azure's public access
    /// level "Blob"); by default storage wants an Entra token for https://storage.azure.com.
    #[arg(long)]
    pub storage_public_read: bool,
    /// Serve https with a certificate signed by a CA made at start (its path is printed).
    #[arg(long)]
    pub tls: bool,
    /// Register a certificate (PEM, e.g. from `fhirside keygen --for entra`) for the demo app:
    /// it may then sign in with a signed assertion. Repeatable.
    #[arg(long, value_name = "CERT.pem")]
    pub entra_cert: Vec<std::path::PathBuf>,
    /// Register a JWKS (e.g. from `fhirside keygen --for smart`) with the SMART token endpoint
    /// (/smart/token) for --smart-client-id.
    #[arg(long, value_name = "JWKS.json")]
    pub smart_jwks: Option<std::path::PathBuf>,
    /// The client id the SMART JWKS is registered for.
    #[arg(long, default_value = "fhirside-smart")]
    pub smart_client_id: String,
}

impl DemoArgs {
    pub fn options(&self) -> Result<DemoOptions, String> {
        Ok(DemoOptions {
            token_ttl: self.token_ttl,
            export_duration: self.export_duration,
            progress_headers: self.progress_headers,
            faults: parse_faults(&self.faults)?,
            storage_port: self.storage_port,
            storage_public_read: self.storage_public_read,
            tls: self.tls,
            entra_certificates: self
                .entra_cert
                .iter()
                .map(|p| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display())))
                .collect::<Result<_, _>>()?,
            smart_clients: match &self.smart_jwks {
                None => Vec::new(),
                Some(p) => {
                    let text =
                        std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
                    let jwks = serde_json::from_str(&text)
                        .map_err(|e| format!("{}: not JSON: {e}", p.display()))?;
                    vec![(self.smart_client_id.clone(), jwks)]
                }
            },
            ..DemoOptions::default()
        })
    }
}
