//! `fhirside export --env NAME …`: a bulk export from the command line, for scripts and cron:
//! kick-off, a progress line at each poll, the manifest, and optionally the download.

use std::path::PathBuf;
use std::time::SystemTime;

use tokio::sync::mpsc;

use super::exit::{CliError, CliResult, Exit};
use super::out::{self, Stdout, field};

use crate::worker::AuthPlan;
use crate::worker::auth::{AuthEvent, acquire, plan_for};
use crate::worker::credentials::CredentialPolicy;
use crate::worker::export::{
    DownloadCredentials, DownloadEvent, DownloadOptions, ExportError, ExportParams, ExportScope,
    PollResult, TokenSource, download_all, kickoff_with, tokens_for, wait_until_done,
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
    pub anonymization_config: Option<String>,
    pub anonymization_config_etag: Option<String>,
    pub wait: bool,
    pub download: Option<PathBuf>,
}

/// Tokens for the command line: the environment's sign-in, asked again after a 401.
pub(super) struct CliTokens {
    pub(super) plan: Option<AuthPlan>,
    pub(super) http: reqwest::Client,
    pub(super) current: Option<String>,
    pub(super) events: mpsc::UnboundedSender<AuthEvent>,
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

pub(super) fn stamp(start: SystemTime) -> String {
    let s = start.elapsed().map(|d| d.as_secs()).unwrap_or(0);
    format!("[{:02}:{:02}]", s / 60, s % 60)
}

/// Runs the export; the exit code is 0 when everything asked for succeeded. The status URL,
/// the manifest and the downloaded files go to stdout; progress to stderr.
pub async fn run(
    ws: &Workspace,
    store_root: &std::path::Path,
    args: BulkArgs,
    stdout: &mut Stdout,
) -> CliResult {
    let env = ws
        .environment(&args.env)
        .ok_or_else(|| CliError::Usage(format!("no environment '{}'", args.env)))?;
    let base = env
        .get("fhirurl")
        .unwrap_or("")
        .trim()
        .trim_end_matches('/')
        .to_string();
    if base.is_empty() {
        return Err(CliError::Usage(format!(
            "environment '{}' has no fhirurl",
            env.name
        )));
    }
    // A folder that cannot take the files fails now, not after the whole export has run.
    if let Some(dir) = &args.download {
        check_download_dir(dir)?;
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
        anonymization_config: args.anonymization_config.clone(),
        anonymization_config_etag: args.anonymization_config_etag.clone(),
        insecure: env.insecure,
    };
    // What the service would refuse (anonymized export below system level, or without a
    // container) is a usage error before anything is sent.
    if let Some(why) = crate::workspace::export_job::anonymization_problem(&params) {
        return Err(CliError::Usage(why));
    }
    let (settings, problem) = crate::workspace::settings::load_settings(store_root);
    for p in problem
        .into_iter()
        .chain(crate::worker::spool::configure_from(&settings))
    {
        out::warning(p);
    }
    // Where the environment's token may go: its fhirurl's origin and its trusted_origins.
    let policy = CredentialPolicy::for_environment(env, &[]);
    for problem in policy.problems() {
        out::warning(problem);
    }
    let probe = format!("{base}/$export");
    let plan = plan_for(env, &[], &RequestSpec::new("export", "GET", &probe), &probe)
        .map_err(CliError::Usage)?;
    let (events, mut auth_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = auth_rx.recv().await {
            super::run::report_auth(&ev);
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
        .map_err(|e| match e {
            ExportError::Http(e) => CliError::Unreachable(e.to_string()),
            other => CliError::Failed(other.to_string()),
        })?;
    let (mut jobs, _, _) = JobStore::load(store_root);
    let _ = jobs.save(&job);
    out::note(format_args!(
        "{} accepted: {}",
        stamp(start),
        field(&job.status_url)
    ));
    if !args.wait && args.download.is_none() {
        // The status URL is the answer a script asked for.
        stdout.line(field(&job.status_url))?;
        stdout.flush()?;
        out::note(
            "The job is saved in the workspace; fhirside's jobs screen (J) keeps polling it.",
        );
        return Ok(Exit::Ok);
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
        out::note(format_args!(
            "{} {} · poll {}{}{throttled}{next}{}",
            stamp(start),
            j.state.label(),
            j.polls,
            field(&progress),
            field(&extra)
        ));
    })
    .await;
    match result {
        PollResult::Complete => {}
        PollResult::Failed(reason) => {
            return Err(CliError::Failed(format!("the export failed: {reason}")));
        }
        other => {
            return Err(CliError::Failed(format!(
                "the export ended without a manifest ({other:?})"
            )));
        }
    }
    let Some(manifest) = job.manifest.clone() else {
        return Err(CliError::Failed(
            "the export ended without a manifest".into(),
        ));
    };
    out::note(format_args!("{} complete", stamp(start)));
    stdout.line(format!(
        "transactionTime {}",
        field(manifest.transaction_time.as_deref().unwrap_or(""))
    ))?;
    for o in &manifest.output {
        stdout.line(format!(
            "  {:<24}{:>10}  {}",
            field(&o.type_),
            o.count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
            field(&o.url)
        ))?;
    }
    stdout.flush()?;
    let Some(dir) = args.download else {
        return Ok(Exit::Ok);
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
    let done = std::sync::Mutex::new(Vec::new());
    let on_event = |e: DownloadEvent| {
        if let DownloadEvent::FileDone(f) = e {
            let note = f
                .error
                .clone()
                .or_else(|| f.mismatch_note())
                .unwrap_or_else(|| "ok".into());
            let line = format!(
                "  {}  {} bytes  {} lines  {}",
                field(&f.path.display().to_string()),
                f.bytes,
                f.lines.unwrap_or(0),
                field(&note)
            );
            if let Ok(mut d) = done.lock() {
                d.push(line);
            }
        }
    };
    let report = download_all(&client, &manifest, &dir, creds, &opts, &on_event)
        .await
        .map_err(|e| CliError::Failed(format!("download into {}: {e}", dir.display())))?;
    for line in done.into_inner().unwrap_or_default() {
        stdout.line(line)?;
    }
    stdout.flush()?;
    let throttled = match report.throttled() {
        0 => String::new(),
        n => format!(" (throttled {n}× on the way)"),
    };
    out::note(format_args!(
        "{} downloaded {} files into {}{throttled}",
        stamp(start),
        report.files.len(),
        dir.display()
    ));
    Ok(if report.all_good() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// `--download DIR` exists or can be made (0700), and a file can be created in it.
fn check_download_dir(dir: &std::path::Path) -> Result<(), CliError> {
    let cannot = |e: std::io::Error| {
        CliError::Failed(format!(
            "the download folder {} cannot be written ({e}); nothing was exported",
            dir.display()
        ))
    };
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(cannot)?;
    tempfile::Builder::new()
        .prefix(".fhirside-write-check")
        .tempfile_in(dir)
        .map(drop)
        .map_err(cannot)
}
