//! The shared model: the data more than one screen reads — the workspace, the active
//! environment, what sign-in knows, requests in flight, the server's capabilities, export jobs,
//! the status line. It names no screen; each screen keeps its own state beside it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use crate::fhir::Capabilities;
use crate::tui::keys::Keymap;
use crate::worker::auth::{DeviceCodePrompt, ResolvedAuth, Token, resolve_auth};
use crate::worker::export::{DownloadProgress, DownloadReport, ExportJob};
use crate::worker::prepare::{Prepared, Seed, prepare};
use crate::worker::{AuthPlan, RequestId};
use crate::workspace::template::Context;
use crate::workspace::{AuthKind, Environment, LoadProblem, NodePath, RequestSpec, Workspace};

/// The one-line message under the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Error,
}

#[derive(Debug, Clone)]
pub struct Status {
    pub text: String,
    pub kind: StatusKind,
}

/// Who is waiting for the answer of a request in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// A saved request sent from the Request pane.
    Saved(NodePath),
    /// A page of the FHIR browser (or its lookup).
    Browser,
    /// A page fetched for the patient chart.
    Chart,
    /// The environment's CapabilityStatement, fetched on its own.
    Capabilities(String),
    /// A history entry sent again.
    Resend,
    /// A bulk delete's dry run (`_summary=count`), for the jobs screen.
    JobDryRun,
}

/// A request on the wire.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub purpose: Purpose,
    pub started: Instant,
    pub method: String,
    /// Already redacted.
    pub url: String,
    pub secrets: Vec<String>,
}

impl InFlight {
    /// A request starting now; `url` is kept with `secrets` redacted, as every view shows it.
    pub fn starting(purpose: Purpose, method: &str, url: &str, secrets: Vec<String>) -> Self {
        InFlight {
            purpose,
            started: Instant::now(),
            method: method.to_string(),
            url: crate::workspace::template::redact(url, &secrets),
            secrets,
        }
    }
}

/// Bytes received so far for a request in flight (reported by the worker while it reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receiving {
    pub received: usize,
    pub total: Option<usize>,
    /// The body is going to a temporary file (too large for memory).
    pub spooling: bool,
    /// The top lines of a large JSON body, shown while the rest arrives.
    pub head: Option<std::sync::Arc<crate::view_body::BodyText>>,
}

/// An environment's token as the UI knows it.
#[derive(Debug, Clone)]
pub enum TokenState {
    Acquiring { flow: &'static str },
    Valid(Token),
    Failed(String),
}

/// How far an interactive sign-in (device code, browser) has got, for its dialog.
#[derive(Debug, Clone)]
pub enum SignInView {
    Waiting {
        flow: &'static str,
    },
    DeviceCode {
        prompt: DeviceCodePrompt,
        shown_at: Instant,
    },
    Browser {
        url: String,
        port: u16,
        opened: bool,
    },
}

/// How urgent the token state is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Bad,
}

/// Each environment's CapabilityStatement, fetched once per session.
#[derive(Clone)]
pub enum CapsState {
    Loading,
    Ready(Box<Capabilities>),
    Failed(String),
}

/// A download's latest progress, or its result.
#[derive(Debug, Clone)]
pub enum DownloadState {
    Running(Option<DownloadProgress>),
    Done(Result<Box<DownloadReport>, String>),
}

/// Per-file download progress: name → (bytes done, size when known).
pub type FileProgress = std::collections::BTreeMap<String, (u64, Option<u64>)>;

/// Export jobs (saved in the workspace's `jobs/`) and their downloads. Shared: a `202` in the
/// Response pane starts one, the jobs screen shows them, the status bar counts them.
#[derive(Debug, Default)]
pub struct Jobs {
    pub list: Vec<ExportJob>,
    pub downloads: HashMap<String, DownloadState>,
    pub file_progress: HashMap<String, FileProgress>,
    /// An error file to preview once its download ends: (job id, file name).
    pub preview_after_download: Option<(String, String)>,
}

impl Jobs {
    /// Whether the screen needs a clock for jobs or downloads.
    pub fn running(&self) -> bool {
        self.list.iter().any(|j| !j.state.is_terminal())
            || self
                .downloads
                .values()
                .any(|d| matches!(d, DownloadState::Running(_)))
    }

    pub fn get(&self, id: &str) -> Option<&ExportJob> {
        self.list.iter().find(|j| j.id == id)
    }
}

/// Whether exchanges are recorded, and what is known of the history file.
#[derive(Debug, Default)]
pub struct HistoryState {
    pub enabled: bool,
    /// Why the history file could not be opened.
    pub problem: Option<String>,
    /// A write failed once already (said once, not on every request).
    pub write_failed: bool,
    /// Entries and bytes kept, as of the last list.
    pub usage: (u64, u64),
}

pub struct Model {
    /// The workspace folder (drafts, session, jobs and exports live under it).
    pub root: PathBuf,
    pub ws: Workspace,
    /// Files that could not be read at start, and `keys.toml` problems.
    pub problems: Vec<LoadProblem>,
    pub active_env: Option<String>,
    /// The request open in the Request and Response panes.
    pub open: Option<NodePath>,
    /// Values captured from responses this session (tokens among them): never written to disk.
    pub session_vars: Vec<(String, String)>,
    pub tokens: HashMap<String, TokenState>,
    /// The sign-in tokens mirrored into token variables (`{{bearerToken}}`), by variable, so a
    /// renewal replaces its own earlier copy but never a token the user captured or typed.
    pub mirrored: HashMap<String, String>,
    /// Environments whose requests the user chose to send without a token when signing in
    /// fails (asked once, this session).
    pub allow_unsigned: HashSet<String>,
    /// Interactive sign-ins in progress, by environment.
    pub sign_ins: HashMap<String, SignInView>,
    pub in_flight: HashMap<RequestId, InFlight>,
    /// Progress of bodies arriving, from the worker's events.
    pub receiving: HashMap<RequestId, Receiving>,
    next_request_id: u64,
    pub capabilities: HashMap<String, CapsState>,
    pub jobs: Jobs,
    pub history: HistoryState,
    pub status: Option<Status>,
    /// The key bindings in force: the defaults with `keys.toml` laid over them.
    pub keymap: Keymap,
    /// Animation frame for spinners; advanced by ticks only while something is running.
    pub frame: u64,
    /// The import running on the runtime's thread, if any (one at a time).
    pub import: Option<ImportRun>,
}

/// An import in progress, as the progress dialog shows it.
#[derive(Debug)]
pub struct ImportRun {
    pub files: Vec<PathBuf>,
    pub progress: Option<crate::import::into_workspace::Progress>,
    /// Shared with the import's thread: set to stop it.
    pub cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub started: std::time::Instant,
}

impl ImportRun {
    pub fn stopping(&self) -> bool {
        self.cancel.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Model {
    pub fn new(root: PathBuf, ws: Workspace, problems: Vec<LoadProblem>) -> Self {
        Self {
            root,
            ws,
            problems,
            active_env: None,
            open: None,
            session_vars: Vec::new(),
            tokens: HashMap::new(),
            mirrored: HashMap::new(),
            allow_unsigned: HashSet::new(),
            sign_ins: HashMap::new(),
            in_flight: HashMap::new(),
            receiving: HashMap::new(),
            next_request_id: 1,
            capabilities: HashMap::new(),
            jobs: Jobs::default(),
            history: HistoryState::default(),
            status: None,
            keymap: Keymap::default(),
            frame: 0,
            import: None,
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            kind: StatusKind::Info,
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            kind: StatusKind::Error,
        });
    }

    /// Clears an informational message (an error stays until something replaces it).
    pub fn clear_info(&mut self) {
        if matches!(
            self.status,
            Some(Status {
                kind: StatusKind::Info,
                ..
            })
        ) {
            self.status = None;
        }
    }

    pub fn next_request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request_id);
        self.next_request_id += 1;
        id
    }

    pub fn active_environment(&self) -> Option<&Environment> {
        self.active_env
            .as_deref()
            .and_then(|n| self.ws.environment(n))
    }

    /// The active environment's `fhirurl`, without a trailing slash ("" when unset).
    pub fn fhir_base(&self) -> String {
        self.active_environment()
            .and_then(|e| e.get("fhirurl"))
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .unwrap_or_default()
    }

    /// Prepares `spec` (saved at `path`, if it has a home) with the active environment and the
    /// session's captures: the one path every sender in the TUI takes.
    pub fn prepare(&self, path: Option<&NodePath>, spec: &RequestSpec) -> Prepared {
        prepare(&Seed {
            workspace: &self.ws,
            path,
            spec,
            environment: self.active_environment(),
            overrides: &self.session_vars,
        })
    }

    /// A GET of `url` (a browser page, a job's status URL) prepared like any request; its sign-in
    /// plan is `None` when the URL is not the environment's to sign.
    pub fn prepare_get(&self, url: &str) -> Prepared {
        let spec = RequestSpec::new("get", "GET", url);
        self.prepare(None, &spec)
    }

    /// The environment's sign-in for `url`, when `url` is under its FHIR base.
    pub fn plan_for_env(&self, env: &str, url: &str) -> Option<AuthPlan> {
        let env = self.ws.environment(env)?;
        let spec = RequestSpec::new("get", "GET", url);
        crate::worker::auth::plan_for(env, &self.session_vars, &spec, url)
            .ok()
            .flatten()
    }

    /// The active environment's sign-in, resolved; `None` when it has none.
    pub fn resolved_auth(&self) -> Option<Result<ResolvedAuth, String>> {
        let env = self.active_environment()?;
        let config = env.auth.as_ref().filter(|a| a.kind != AuthKind::None)?;
        let ctx = Context {
            overrides: &self.session_vars,
            environment: Some(env),
            collection: &[],
        };
        Some(resolve_auth(config, &ctx).map_err(|e| e.to_string()))
    }

    pub fn active_capabilities(&self) -> Option<&Capabilities> {
        match self.capabilities.get(self.active_env.as_deref()?)? {
            CapsState::Ready(c) => Some(c),
            _ => None,
        }
    }

    /// Sets session variables (captures): a later value replaces an earlier one.
    /// Mirrors a sign-in token into its variable for templates, unless the variable holds a
    /// token of the user's (captured or typed this session): that one is kept, and the worker
    /// sends it while it lasts (`worker::auth::current`). Returns whether it was mirrored.
    pub fn mirror_token(&mut self, variable: &str, token: &str) -> bool {
        let current = self
            .session_vars
            .iter()
            .rev()
            .find(|(k, _)| k == variable)
            .map(|(_, v)| v.as_str());
        let ours = match current {
            None => true,
            Some(v) => v.trim().is_empty() || self.mirrored.get(variable).is_some_and(|m| m == v),
        };
        if ours {
            self.set_session_var(variable, token.to_string());
            self.mirrored
                .insert(variable.to_string(), token.to_string());
        }
        ours
    }

    pub fn set_session_var(&mut self, key: &str, value: String) {
        self.session_vars.retain(|(k, _)| k != key);
        self.session_vars.push((key.to_string(), value));
    }

    /// "token 54m" / "token expires 0:45" / "token expired" / "signing in…", for the status bar.
    pub fn token_status(&self) -> Option<(String, Level)> {
        let env = self.active_env.as_deref()?;
        let state = self.tokens.get(env)?;
        Some(match state {
            TokenState::Acquiring { .. } => ("signing in…".into(), Level::Warn),
            TokenState::Failed(_) => ("sign-in failed".into(), Level::Bad),
            TokenState::Valid(t) => match t.expires_at {
                None => ("token (no expiry)".into(), Level::Ok),
                Some(exp) => match exp.duration_since(SystemTime::now()) {
                    Err(_) => ("token expired".into(), Level::Bad),
                    Ok(left) if left.as_secs() < 300 => (
                        format!(
                            "token expires {}:{:02}",
                            left.as_secs() / 60,
                            left.as_secs() % 60
                        ),
                        Level::Warn,
                    ),
                    Ok(left) => (format!("token {}", short(left.as_secs())), Level::Ok),
                },
            },
        })
    }

    /// How often the clock on screen needs redrawing for the token countdown.
    pub fn token_redraw_every(&self) -> Option<std::time::Duration> {
        let env = self.active_env.as_deref()?;
        match self.tokens.get(env)? {
            TokenState::Valid(t) => {
                let left = t.expires_at?.duration_since(SystemTime::now()).ok()?;
                Some(if left.as_secs() < 300 {
                    std::time::Duration::from_secs(1)
                } else {
                    std::time::Duration::from_secs(30)
                })
            }
            TokenState::Acquiring { .. } => Some(std::time::Duration::from_secs(1)),
            TokenState::Failed(_) => None,
        }
    }

    /// What the worker needs to record an exchange (`None` when history is off): where it came
    /// from and every value that must not be written (the environment's secrets, captured
    /// tokens, `extra`).
    pub fn record_meta(
        &self,
        source: crate::history::Source,
        env: Option<&str>,
        extra: Vec<String>,
    ) -> Option<Box<crate::history::RecordMeta>> {
        if !self.history.enabled {
            return None;
        }
        let mut secrets = extra;
        secrets.extend(crate::history::workspace_secrets(&self.ws));
        secrets.extend(
            self.session_vars
                .iter()
                .filter(|(k, _)| crate::workspace::looks_secret(k))
                .map(|(_, v)| v.clone()),
        );
        secrets.retain(|s| s.len() >= 4);
        secrets.sort();
        secrets.dedup();
        Some(Box::new(crate::history::RecordMeta {
            source: Some(source),
            env: env.map(str::to_string),
            saved: None,
            secrets,
        }))
    }

    /// The token the environment holds now, if it is valid.
    pub fn valid_token(&self, env: &str) -> Option<&Token> {
        match self.tokens.get(env) {
            Some(TokenState::Valid(t)) => Some(t),
            _ => None,
        }
    }
}

fn short(secs: u64) -> String {
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    } else {
        format!("{}m", secs / 60)
    }
}

#[cfg(test)]
mod tests {
    use crate::tui::testing::Rig;
    use crate::workspace::{RequestAuth, RequestSpec};

    #[test]
    fn the_environment_token_goes_only_to_its_fhir_service() {
        let dir = tempfile::tempdir().unwrap();
        let mut rig = Rig::seeded(dir.path());
        rig.set_client_credentials("azure", "https://ws-svc.fhir.azurehealthcareapis.com");
        let model = &mut rig.app.model;
        let spec = |url: &str| RequestSpec::new("x", "GET", url);
        let fhir = "https://ws-svc.fhir.azurehealthcareapis.com/Patient";
        assert!(model.prepare(None, &spec(fhir)).auth.is_some());
        let token_endpoint = "https://login.microsoftonline.com/t/oauth2/token";
        assert!(model.prepare(None, &spec(token_endpoint)).auth.is_none());
        // A request with its own auth keeps it.
        let mut own = spec(fhir);
        own.auth = Some(RequestAuth::None);
        assert!(model.prepare(None, &own).auth.is_none());
        // Missing settings are a sentence, but only for requests to the FHIR service.
        model
            .ws
            .environment_mut("azure")
            .unwrap()
            .variables
            .retain(|v| v.key != "tenantid");
        let p = model.prepare(None, &spec(fhir));
        assert!(p.auth.is_none());
        let err = p.auth_problem.expect("a sentence");
        assert!(err.contains("tenantid"), "{err}");
        let elsewhere = model.prepare(None, &spec("https://elsewhere.example/x"));
        assert!(elsewhere.auth.is_none() && elsewhere.auth_problem.is_none());
    }
}
