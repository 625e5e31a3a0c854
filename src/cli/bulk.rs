//! `fhirside export --env NAME …`: a bulk export from the command line, for scripts and cron:
//! kick-off, a progress line at each poll, the manifest, and optionally the download.

use std::path::PathBuf;
use std::time::SystemTime;

use tokio::sync::mpsc;

use crate::worker::AuthPlan;
use crate::worker::auth::{AuthEvent, acquire, plan_for};
use crate::worker::credentials::CredentialPolicy;
use crate::worker::export::{
    DownloadCredentials, DownloadEvent, DownloadOptions, ExportParams, ExportScope, PollResult,
    TokenSource, download_all, kickoff_with, tokens_for, wait_until_done,
};
use crate::workspace::jobs::JobStore;
use crate::workspace::{RequestSpec, Workspace};

pub struct BulkArgs {
    pub env: String,
    pub types: Vec<String>,
    pub since: Option<String>,
    pub group: Option<String>,
    pub patient: bool,
    pub container: Option<String>,
    pub type_filter: Vec<String>,
    pub wait: bool,
    pub download: Option<PathBuf>,
}

/// Tokens for the command line: the environment's sign-in, asked again after a 401.
struct CliTokens {
    plan: Option<AuthPlan>,
    http: reqwest::Client,
    current: Option<String>,
    events: mpsc::UnboundedSender<AuthEvent>,
}

impl TokenSource for CliTokens {
    fn token(
        &mut self,
        refused: Option<&str>,
    ) -> impl std::future::Future<Output = Result<Option<String>, String>> + Send {
        if refused.is_some() && refused == self.current.as_deref() {
            self.current = None;
        }
        let cached = self.current.clone();
        let plan = self.plan.clone();
        let http = self.http.clone();
        let events = self.events.clone();
        async move {
            match (cached, plan) {
                (Some(t), _) => Ok(Some(t)),
                (None, None) => Ok(None),
                (None, Some(plan)) => acquire(&http, &plan.auth, &plan.env, None, false, &events)
                    .await
                    .map(|t| Some(t.access_token))
                    .map_err(|e| e.to_string()),
            }
        }
    }

    /// A token for Azure Storage by the same sign-in (audience `https://storage.azure.com`).
    async fn storage_token(&mut self) -> Result<String, String> {
        let plan = self.plan.as_ref().ok_or(crate::worker::NO_SIGN_IN)?;
        let storage = plan.for_storage()?;
        acquire(
            &self.http,
            &storage.auth,
            &plan.env,
            None,
            false,
            &self.events,
        )
        .await
        .map(|t| t.access_token)
        .map_err(|e| e.to_string())
    }
}

fn stamp(start: SystemTime) -> String {
    let s = start.elapsed().map(|d| d.as_secs()).unwrap_or(0);
    format!("[{:02}:{:02}]", s / 60, s % 60)
}

/// Runs the export; the exit code is 0 when everything asked for succeeded.
pub async fn run(
    ws: &Workspace,
    store_root: &std::path::Path,
    args: BulkArgs,
) -> Result<u8, String> {
    let env = ws
        .environment(&args.env)
        .ok_or_else(|| format!("no environment '{}'", args.env))?;
    let base = env
        .get("fhirurl")
        .unwrap_or("")
        .trim()
        .trim_end_matches('/')
        .to_string();
    if base.is_empty() {
        return Err(format!("environment '{}' has no fhirurl", env.name));
    }
    let params = ExportParams {
        scope: match (&args.group, args.patient) {
            (Some(g), _) => ExportScope::Group(g.clone()),
            (None, true) => ExportScope::Patient,
            (None, false) => ExportScope::System,
        },
        types: args
            .types
            .iter()
            .flat_map(|t| t.split(','))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        since: args.since.clone(),
        type_filter: args.type_filter.clone(),
        container: args.container.clone(),
        output_format: None,
        insecure: env.insecure,
    };
    let (settings, problem) = crate::workspace::settings::load_settings(store_root);
    for p in problem
        .into_iter()
        .chain(crate::worker::spool::configure_from(&settings))
    {
        eprintln!("fhirside: {p}");
    }
    // Where the environment's token may go: its fhirurl's origin and its trusted_origins.
    let policy = CredentialPolicy::for_environment(env, &[]);
    for problem in policy.problems() {
        eprintln!("fhirside: {problem}");
    }
    let probe = format!("{base}/$export");
    let plan = plan_for(env, &[], &RequestSpec::new("export", "GET", &probe), &probe)?;
    let (events, mut auth_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = auth_rx.recv().await {
            match ev {
                AuthEvent::DeviceCode { prompt, .. } => {
                    eprintln!(
                        "To sign in, open {} and enter the code {}",
                        prompt.verification_uri, prompt.user_code
                    )
                }
                AuthEvent::Browser { url, port, .. } => {
                    eprintln!(
                        "To sign in, open (over SSH: ssh -L {port}:localhost:{port} <host>):\n{url}"
                    )
                }
                _ => {}
            }
        }
    });
    let mut tokens = CliTokens {
        plan,
        http: crate::worker::auth::oauth::http_client(),
        current: None,
        events,
    };
    let client = match env.insecure {
        true => crate::worker::http::insecure_client(),
        false => crate::worker::http::client(),
    };
    let start = SystemTime::now();
    let mut job = kickoff_with(&client, &env.name, &base, &params, &policy, &mut tokens)
        .await
        .map_err(|e| e.to_string())?;
    let (mut jobs, _, _) = JobStore::load(store_root);
    let _ = jobs.save(&job);
    println!("{} accepted: {}", stamp(start), job.status_url);
    if !args.wait && args.download.is_none() {
        println!("The job is saved in the workspace; fhirside's jobs screen (J) keeps polling it.");
        return Ok(0);
    }
    let result = wait_until_done(&client, &mut job, &policy, &mut tokens, |j, r| {
        let _ = jobs.save(j);
        let progress = j
            .progress
            .as_ref()
            .map(|p| format!(" · {p}"))
            .unwrap_or_default();
        let next = j
            .next_poll_at
            .and_then(|t| t.duration_since(SystemTime::now()).ok())
            .map(|d| format!(" · next poll in {} s", d.as_secs()))
            .unwrap_or_default();
        let extra = match r {
            PollResult::Throttled(e) | PollResult::NetworkError(e) | PollResult::Refused(e) => {
                format!(" · {e}")
            }
            _ => String::new(),
        };
        let throttled = match j.throttled {
            0 => String::new(),
            n => format!(" · throttled {n}×"),
        };
        println!(
            "{} {} · poll {}{progress}{throttled}{next}{extra}",
            stamp(start),
            j.state.label(),
            j.polls
        );
    })
    .await;
    match result {
        PollResult::Complete => {}
        PollResult::Failed(reason) => {
            eprintln!("fhirside: the export failed: {reason}");
            return Ok(1);
        }
        other => {
            eprintln!("fhirside: the export ended without a manifest ({other:?})");
            return Ok(1);
        }
    }
    let Some(manifest) = job.manifest.clone() else {
        return Ok(1);
    };
    println!(
        "{} complete · transactionTime {}",
        stamp(start),
        manifest.transaction_time.clone().unwrap_or_default()
    );
    for o in &manifest.output {
        println!(
            "  {:<24}{:>10}  {}",
            o.type_,
            o.count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
            o.url
        );
    }
    let Some(dir) = args.download else {
        return Ok(0);
    };
    let opts = DownloadOptions {
        concurrency: settings
            .download_parallel
            .map_or(crate::worker::export::download::DEFAULT_CONCURRENCY, |n| {
                usize::from(n.clamp(1, 32))
            }),
        ..DownloadOptions::default()
    };
    let (token, storage) =
        tokens_for(&mut tokens, &policy, &manifest, opts.include_error_files).await;
    let creds = DownloadCredentials::with(&policy, token.as_deref(), storage.as_ref());
    let on_event = |e: DownloadEvent| {
        if let DownloadEvent::FileDone(f) = e {
            let note = f
                .error
                .clone()
                .or_else(|| f.mismatch_note())
                .unwrap_or_else(|| "ok".into());
            println!(
                "  {}  {} bytes  {} lines  {note}",
                f.path.display(),
                f.bytes,
                f.lines.unwrap_or(0)
            );
        }
    };
    let report = download_all(&client, &manifest, &dir, creds, &opts, &on_event)
        .await
        .map_err(|e| format!("download into {}: {e}", dir.display()))?;
    let throttled = match report.throttled() {
        0 => String::new(),
        n => format!(" (throttled {n}× on the way)"),
    };
    println!(
        "{} downloaded {} files into {}{throttled}",
        stamp(start),
        report.files.len(),
        dir.display()
    );
    Ok(if report.all_good() { 0 } else { 1 })
}
