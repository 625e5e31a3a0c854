//! `fhirside job watch STATUS_URL`, `fhirside job list`, `fhirside bulk-delete` and
//! `fhirside import-data`: Azure's
//! asynchronous operations from the command line, through the same job engine as the jobs
//! screen. Progress and notes go to stderr; stdout gets only the answer (the result lines).
//! `job watch` exits 0 when the job is done, 1 when it failed or was cancelled, 2 when it
//! could not be watched (server unreachable, sign-in refused, status URL not trusted).

use std::io::IsTerminal;
use std::time::SystemTime;

use tokio::sync::mpsc;

use super::bulk::{CliTokens, stamp};
use super::exit::{CliError, CliResult, Exit};
use super::out::{self, Stdout, field};
use crate::worker::auth::plan_for;
use crate::worker::credentials::{Credential, CredentialPolicy};
use crate::worker::export::ops::INITIAL_LOAD_WARNING;
use crate::worker::export::{
    BulkDeleteParams, ExportError, ExportJob, ExportParams, ImportInput, ImportMode, ImportParams,
    JobState, Kickoff, OpKind, OpResult, PollResult, TokenSource, poll_with, start_with,
    wait_until_done,
};
use crate::worker::http::{self, HttpRequest};
use crate::workspace::jobs::JobStore;
use crate::workspace::{RequestSpec, Workspace};

/// What a command needs to talk to an environment's service.
struct Service {
    env: String,
    base: String,
    policy: CredentialPolicy,
    tokens: CliTokens,
    client: reqwest::Client,
    insecure: bool,
}

fn service(ws: &Workspace, env: &str) -> Result<Service, CliError> {
    let e = ws
        .environment(env)
        .ok_or_else(|| CliError::Usage(format!("no environment '{env}'")))?;
    let base = e
        .get("fhirurl")
        .unwrap_or("")
        .trim()
        .trim_end_matches('/')
        .to_string();
    if base.is_empty() {
        return Err(CliError::Usage(format!(
            "environment '{env}' has no fhirurl"
        )));
    }
    let policy = CredentialPolicy::for_environment(e, &[]);
    for problem in policy.problems() {
        out::warning(problem);
    }
    let plan =
        plan_for(e, &[], &RequestSpec::new("job", "GET", &base), &base).map_err(CliError::Usage)?;
    let (events, mut auth_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = auth_rx.recv().await {
            super::run::report_auth(&ev);
        }
    });
    Ok(Service {
        env: e.name.clone(),
        base,
        policy,
        tokens: CliTokens {
            plan,
            http: crate::worker::auth::oauth::http_client(),
            current: None,
            events,
        },
        client: match e.insecure {
            true => http::insecure_client(),
            false => http::client(),
        },
        insecure: e.insecure,
    })
}

/// The operation a status URL belongs to, from Azure's `_operations/{kind}/{id}` shape.
pub fn kind_of_status_url(url: &str) -> OpKind {
    let path = url.split('?').next().unwrap_or("").to_ascii_lowercase();
    if path.contains("/_operations/import/") {
        OpKind::Import
    } else if path.contains("/_operations/bulk-delete/") {
        OpKind::BulkDelete
    } else if path.contains("/_operations/reindex/") {
        OpKind::Reindex
    } else {
        OpKind::Export
    }
}

/// The result of an ended job, a line each, for stdout.
fn result_lines(job: &ExportJob) -> Vec<String> {
    match &job.result {
        Some(OpResult::Import { output, error, .. }) => output
            .iter()
            .map(|o| {
                format!(
                    "imported {:<24}{:>10}  {}",
                    field(&o.type_),
                    o.count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                    field(o.input_url.as_deref().unwrap_or(""))
                )
            })
            .chain(error.iter().map(|e| {
                let from = e
                    .input_url
                    .as_deref()
                    .map(|u| format!("  (from {})", field(u)))
                    .unwrap_or_default();
                format!(
                    "errors   {:<24}{:>10}  {}{from}",
                    field(&e.type_),
                    e.count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                    field(e.url.as_deref().unwrap_or(""))
                )
            }))
            .collect(),
        Some(OpResult::BulkDelete { deleted, .. }) => deleted
            .iter()
            .map(|d| format!("deleted  {:<24}{:>10}", field(&d.type_), d.count))
            .collect(),
        Some(OpResult::Reindex { fields }) => fields
            .iter()
            .map(|f| format!("{:<32}{}", field(&f.name), field(&f.value)))
            .collect(),
        None => job
            .manifest
            .iter()
            .flat_map(|m| m.output.iter())
            .map(|o| {
                format!(
                    "  {:<24}{:>10}  {}",
                    field(&o.type_),
                    o.count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                    field(&o.url)
                )
            })
            .collect(),
    }
}

/// Polls `job` to its end, a note per poll on stderr; the result on stdout. The exit code
/// follows `job watch`'s promise.
async fn follow(
    svc: &mut Service,
    mut job: ExportJob,
    store_root: &std::path::Path,
    stdout: &mut Stdout,
) -> CliResult {
    let start = SystemTime::now();
    let (mut jobs, _, _) = JobStore::load(store_root);
    // The first poll now: a server that cannot be reached is "could not watch" (2).
    let first = poll_with(&svc.client, &mut job, &svc.policy, &mut svc.tokens).await;
    let _ = jobs.save(&job);
    let result = match first {
        PollResult::NetworkError(e) => {
            return Err(CliError::Unreachable(format!(
                "the status URL could not be reached: {e}"
            )));
        }
        PollResult::Unauthorized | PollResult::Refused(_) => {
            return Err(CliError::Unreachable(format!(
                "the job could not be watched: {}",
                job.last_error.clone().unwrap_or_default()
            )));
        }
        r if r.is_final() => r,
        _ => {
            wait_until_done(
                &svc.client,
                &mut job,
                &svc.policy,
                &mut svc.tokens,
                |j, r| {
                    let _ = jobs.save(j);
                    let extra = match r {
                        PollResult::Throttled(e) | PollResult::NetworkError(e) => format!(" · {e}"),
                        _ => String::new(),
                    };
                    out::note(format_args!(
                        "{} {} {} · poll {} · {}{}",
                        stamp(start),
                        j.kind.label(),
                        j.state.label(),
                        j.polls,
                        field(j.last_answer.as_deref().unwrap_or("")),
                        field(&extra)
                    ));
                },
            )
            .await
        }
    };
    match result {
        PollResult::Complete => {
            out::note(format_args!(
                "{} {} complete",
                stamp(start),
                job.kind.label()
            ));
            for line in result_lines(&job) {
                stdout.line(line)?;
            }
            stdout.flush()?;
            Ok(Exit::Ok)
        }
        PollResult::Failed(why) => Err(CliError::Failed(format!(
            "the {} failed: {why}",
            job.kind.noun()
        ))),
        PollResult::Gone => Err(CliError::Failed(format!(
            "the {} was cancelled",
            job.kind.noun()
        ))),
        _ => Err(CliError::Unreachable(format!(
            "the job could not be watched to its end: {}",
            job.last_error.clone().unwrap_or_default()
        ))),
    }
}

/// `fhirside job watch STATUS_URL --env E`.
pub async fn watch(
    ws: &Workspace,
    store_root: &std::path::Path,
    env: &str,
    status_url: &str,
    stdout: &mut Stdout,
) -> CliResult {
    let mut svc = service(ws, env)?;
    if url::Url::parse(status_url).is_err() {
        return Err(CliError::Usage(format!("'{status_url}' is not a URL")));
    }
    // A job this workspace knows keeps its kind and kick-off; any other is read from its URL.
    let (_, known, _) = JobStore::load(store_root);
    let job = match known.into_iter().find(|j| j.status_url == status_url) {
        Some(j) => j,
        None => {
            let mut j = ExportJob::accepted_op(
                kind_of_status_url(status_url),
                &svc.env,
                &svc.base,
                status_url,
                ExportParams {
                    insecure: svc.insecure,
                    ..Default::default()
                },
            );
            j.state = JobState::InProgress;
            j
        }
    };
    // A status URL the token may not go to is refused before any sign-in.
    svc.policy
        .status_url(&job.status_url)
        .map_err(|e| CliError::Unreachable(e.to_string()))?;
    follow(&mut svc, job, store_root, stdout).await
}

/// `fhirside job list`: the workspace's jobs, a line each.
pub fn list(store_root: &std::path::Path, stdout: &mut Stdout) -> CliResult {
    let (_, jobs, problems) = JobStore::load(store_root);
    for p in problems {
        out::warning(format_args!("{}: {}", p.path.display(), p.message));
    }
    for j in &jobs {
        let at = chrono::DateTime::<chrono::Utc>::from(j.kicked_off_at)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        stdout.line(format!(
            "{:<13} {:<12} {at}  {:<10} {}",
            j.kind.label(),
            j.state.label(),
            field(&j.env),
            field(&j.status_url)
        ))?;
    }
    stdout.flush()?;
    if jobs.is_empty() {
        out::note("no jobs in this workspace");
    }
    Ok(Exit::Ok)
}

pub struct BulkDeleteArgs {
    pub env: String,
    pub target: String,
    pub hard: bool,
    pub purge_history: bool,
    pub excluded_types: Vec<String>,
    pub remove_references: bool,
    pub yes: bool,
}

/// `fhirside bulk-delete --env E 'Observation?status=cancelled'`: the dry run's count first
/// (on stderr), then the typed confirmation (or `--yes`; refused without it when stdin is not
/// a terminal), then the job to its end.
pub async fn bulk_delete(
    ws: &Workspace,
    store_root: &std::path::Path,
    args: BulkDeleteArgs,
    stdout: &mut Stdout,
) -> CliResult {
    let mut params = BulkDeleteParams::parse_target(&args.target).map_err(CliError::Usage)?;
    params.hard = args.hard;
    params.purge_history = args.purge_history;
    params.excluded_types = args.excluded_types;
    params.remove_references = args.remove_references;
    let mut svc = service(ws, &args.env)?;
    let count = dry_run(&mut svc, &params).await?;
    out::note(format_args!(
        "dry run: {count} resources match {}",
        field(&params.target())
    ));
    if count == 0 {
        out::note("nothing to delete");
        return Ok(Exit::Ok);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Usage(
                "refusing to delete without --yes: stdin is not a terminal to confirm on".into(),
            ));
        }
        let word = params.type_.clone().unwrap_or_else(|| count.to_string());
        out::note(format_args!("type {word} to delete them: "));
        let mut typed = String::new();
        std::io::stdin()
            .read_line(&mut typed)
            .map_err(|e| CliError::Failed(format!("reading the confirmation: {e}")))?;
        if typed.trim() != word {
            return Err(CliError::Failed(format!(
                "'{}' is not {word}: nothing was deleted",
                field(typed.trim())
            )));
        }
    }
    let job = kick_off(&mut svc, &Kickoff::BulkDelete(params), store_root).await?;
    follow(&mut svc, job, store_root, stdout).await
}

/// Starts `what` through the job engine (the jobs screen's kick-off), says the status URL on
/// stderr and keeps the job in the workspace, so the jobs screen and `job list` see it.
async fn kick_off(
    svc: &mut Service,
    what: &Kickoff,
    store_root: &std::path::Path,
) -> Result<ExportJob, CliError> {
    let job = start_with(
        &svc.client,
        &svc.env,
        &svc.base,
        what,
        svc.insecure,
        &svc.policy,
        &mut svc.tokens,
    )
    .await
    .map_err(|e| match e {
        ExportError::Http(e) => CliError::Unreachable(e.to_string()),
        other => CliError::Failed(other.to_string()),
    })?;
    out::note(format_args!("accepted: {}", field(&job.status_url)));
    let (mut jobs, _, _) = JobStore::load(store_root);
    let _ = jobs.save(&job);
    Ok(job)
}

pub struct ImportDataArgs {
    pub env: String,
    /// `URL:Type`, as typed.
    pub inputs: Vec<String>,
    pub mode: String,
    pub watch: bool,
}

/// `fhirside import-data --env E --input URL:Type …`: the `$import` Parameters the jobs
/// screen's import form sends (the same [`ImportInput::parse`] and [`Kickoff`]); the status URL
/// on stdout, or with `--watch` the job followed to its end like `job watch`.
pub async fn import_data(
    ws: &Workspace,
    store_root: &std::path::Path,
    args: ImportDataArgs,
    stdout: &mut Stdout,
) -> CliResult {
    let inputs = args
        .inputs
        .iter()
        .map(|i| ImportInput::parse(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::Usage)?;
    let mode = ImportMode::parse(&args.mode).ok_or_else(|| {
        CliError::Usage(format!(
            "'{}' is not a mode: InitialLoad or IncrementalLoad",
            args.mode
        ))
    })?;
    let mut svc = service(ws, &args.env)?;
    if mode == ImportMode::InitialLoad {
        out::warning(INITIAL_LOAD_WARNING);
    }
    let job = kick_off(
        &mut svc,
        &Kickoff::Import(ImportParams { mode, inputs }),
        store_root,
    )
    .await?;
    if !args.watch {
        stdout.line(field(&job.status_url))?;
        stdout.flush()?;
        out::note(format_args!(
            "watch it with: fhirside job watch '{}' --env {}",
            field(&job.status_url),
            field(&svc.env)
        ));
        return Ok(Exit::Ok);
    }
    follow(&mut svc, job, store_root, stdout).await
}

/// The same search with `_summary=count`: the Bundle's total.
async fn dry_run(svc: &mut Service, params: &BulkDeleteParams) -> Result<u64, CliError> {
    let url = params.count_url(&svc.base);
    let permit = svc
        .policy
        .permit("The dry run", &url, Credential::FhirToken)
        .map_err(|e| CliError::Failed(e.to_string()))?;
    let token = svc
        .tokens
        .token(None)
        .await
        .map_err(|e| CliError::Failed(format!("signing in for the dry run failed: {e}")))?;
    let mut req = HttpRequest {
        method: "GET".into(),
        url,
        headers: vec![("Accept".into(), "application/fhir+json".into())],
        body: None,
        timeout: crate::worker::export::job::REQUEST_TIMEOUT,
        insecure: svc.insecure,
    };
    if let Some(t) = &token {
        permit
            .attach(&mut req, t)
            .map_err(|e| CliError::Failed(e.to_string()))?;
    }
    let resp = http::send(&svc.client, &req)
        .await
        .map_err(|e| CliError::Unreachable(e.to_string()))?;
    if resp.status >= 400 {
        return Err(CliError::Failed(format!(
            "the dry run was refused ({}): {}; nothing was deleted",
            resp.status,
            crate::worker::export::job::explain_body(&resp).unwrap_or_default()
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&resp.body)
        .map_err(|_| CliError::Failed("the dry run's answer is not JSON".into()))?;
    v.get("total").and_then(|t| t.as_u64()).ok_or_else(|| {
        CliError::Failed(
            "the server's Bundle has no total, so the dry run cannot count; nothing was deleted"
                .into(),
        )
    })
}
