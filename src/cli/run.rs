//! `fhirside run`: sends a saved request without the TUI, with the same templating, sign-in and
//! capture rules, for scripts and cron.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::view_body::BodyKind;
use crate::view_body::ansi::write_json_ansi;
use crate::worker::auth::{AuthEvent, plan_for};
use crate::worker::build::build_request;
use crate::worker::capture::{self, CaptureOutcome};
use crate::worker::{self, RequestId, WorkerCommand, WorkerEvent};
use crate::workspace::template::{Context, redact};
use crate::workspace::{NodePath, Workspace};

/// What `--output` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Body,
    Headers,
    Full,
    Json,
}

pub struct RunArgs {
    pub request: String,
    pub env: Option<String>,
    pub vars: Vec<(String, String)>,
    pub output: Output,
    pub fail: bool,
    pub color: bool,
    /// Record the exchange in this workspace's history (as `settings.toml` says).
    pub history_root: Option<std::path::PathBuf>,
    /// Send without a token when the environment's sign-in fails (default: exit 2 unsent).
    pub allow_unsigned: bool,
}

/// Finds a request by `Collection/Folder/Request`, matching file names or display names.
pub fn find_request(ws: &Workspace, wanted: &str) -> Result<NodePath, String> {
    let norm = |s: &str| s.trim().to_lowercase();
    let wanted_parts: Vec<String> = wanted
        .split('/')
        .map(norm)
        .filter(|p| !p.is_empty())
        .collect();
    let all = ws.all_requests();
    let matches: Vec<NodePath> = all
        .iter()
        .filter(|(path, r)| {
            let mut parts: Vec<String> = path.0.iter().map(|p| norm(p)).collect();
            let by_file = parts == wanted_parts;
            if let Some(last) = parts.last_mut() {
                *last = norm(&r.spec.name);
            }
            by_file || parts == wanted_parts
        })
        .map(|(p, _)| p.clone())
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => {
            let names: Vec<String> = all.iter().map(|(p, _)| p.display()).collect();
            Err(format!(
                "no saved request '{wanted}'. Requests: {}",
                if names.is_empty() {
                    "(none)".into()
                } else {
                    names.join(", ")
                }
            ))
        }
        _ => Err(format!(
            "'{wanted}' names more than one request; give the full path"
        )),
    }
}

/// Runs it; the exit code is 0, 1 (HTTP ≥ 400 with `--fail`) or 2 (could not send, including
/// when the environment's sign-in failed and `--allow-unsigned` was not given).
pub async fn run(ws: &Workspace, args: RunArgs) -> Result<u8, String> {
    let path = find_request(ws, &args.request)?;
    let saved = ws.request(&path).ok_or("the request disappeared")?;
    let env = match &args.env {
        Some(name) => Some(
            ws.environment(name)
                .ok_or_else(|| format!("no environment '{name}'"))?,
        ),
        None => None,
    };
    let collection = ws.collection(path.collection().unwrap_or(""));
    let collection_vars = collection.map(|c| c.variables.clone()).unwrap_or_default();
    let inherited = collection.and_then(|c| c.auth.clone());
    let timeout = Duration::from_secs(
        env.map(|e| e.timeout_secs)
            .unwrap_or(crate::workspace::DEFAULT_TIMEOUT_SECS),
    );
    let ctx = Context {
        overrides: &args.vars,
        environment: env,
        collection: &collection_vars,
    };
    let mut built = build_request(&saved.spec, &ctx, inherited.as_ref(), timeout);
    let mut plan = match env {
        Some(e) => plan_for(e, &args.vars, &saved.spec, &built.request.url)?,
        None => None,
    };
    if let Some(p) = plan.as_mut() {
        p.refuse_unsigned = !args.allow_unsigned;
    }
    if let Some(p) = &plan {
        built.unresolved.retain(|n| *n != p.auth.token_variable);
    }
    if !built.unresolved.is_empty() {
        let names: Vec<String> = built
            .unresolved
            .iter()
            .map(|n| format!("{{{{{n}}}}}"))
            .collect();
        return Err(format!(
            "{} {} no value{}; pass --env NAME or --var name=value",
            names.join(", "),
            if names.len() == 1 { "has" } else { "have" },
            env.map(|e| format!(" in environment '{}'", e.name))
                .unwrap_or_default()
        ));
    }
    if let Some(problem) = worker::spool::configure(None) {
        eprintln!("fhirside: {problem}");
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let history = match &args.history_root {
        Some(root) => crate::worker::history::open_workspace_history(root, tx.clone())
            .unwrap_or_else(|e| {
                eprintln!("fhirside: {e}");
                None
            }),
        None => None,
    };
    let handle = worker::spawn_recording(tx, history.clone());
    let shown_url = redact(&built.request.url, &built.secrets);
    let mut secrets = built.secrets.clone();
    secrets.extend(crate::history::workspace_secrets(ws));
    let record = crate::history::RecordMeta {
        source: Some(crate::history::Source::Cli),
        env: env.map(|e| e.name.clone()),
        saved: Some(path.0.join(" / ")),
        secrets,
    };
    handle.send(WorkerCommand::Send {
        id: RequestId(1),
        request: built.request.clone(),
        auth: plan,
        record: history.is_some().then(|| Box::new(record)),
    });
    let received = loop {
        match rx.recv().await {
            Some(WorkerEvent::Response { result, .. }) => {
                if let Some(h) = &history {
                    h.flush(Duration::from_secs(5));
                }
                break result;
            }
            Some(WorkerEvent::Auth(ev)) => report_auth(&ev),
            Some(_) => {}
            None => return Err("the worker stopped".into()),
        }
    };
    let mut received = match received {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "fhirside: {} {shown_url}: {}",
                built.request.method,
                redact(&e.to_string(), &built.secrets)
            );
            if !args.allow_unsigned && e.to_string().starts_with("Not sent, because signing in") {
                eprintln!("fhirside: --allow-unsigned sends it without a token anyway.");
            }
            return Ok(2);
        }
    };
    if let Some(note) = &received.auth_note {
        eprintln!("fhirside: {note}");
    }
    if received.body.pending.is_some() {
        // The worker sends a large body's top lines first; the command line wants all of it.
        received.body = worker::body::prepare(&received.response);
    }
    for outcome in capture::apply(&saved.spec.captures, &received.response) {
        match outcome {
            CaptureOutcome::Set { variable, .. } => eprintln!("captured {variable}"),
            CaptureOutcome::Missing { rule, reason } => eprintln!("capture {rule}: {reason}"),
        }
    }
    let r = &received.response;
    let mut out = String::new();
    let status_line = format!(
        "{} {} {} ({} ms)",
        r.version,
        r.status,
        r.reason,
        r.elapsed.as_millis()
    );
    let body_text = received.body.pretty.text();
    let body = |out: &mut String| {
        if args.color && received.body.kind == BodyKind::Json {
            write_json_ansi(body_text, out);
        } else {
            out.push_str(body_text);
        }
        if !body_text.is_empty() && !body_text.ends_with('\n') {
            out.push('\n');
        }
    };
    match args.output {
        Output::Body => body(&mut out),
        Output::Headers => {
            out.push_str(&status_line);
            out.push('\n');
            for (k, v) in &r.headers {
                out.push_str(&format!("{k}: {v}\n"));
            }
        }
        Output::Full => {
            out.push_str(&status_line);
            out.push('\n');
            for (k, v) in &r.headers {
                out.push_str(&format!("{k}: {v}\n"));
            }
            out.push('\n');
            body(&mut out);
        }
        Output::Json => {
            let body_json: serde_json::Value =
                serde_json::from_slice(&r.body).unwrap_or_else(|_| {
                    serde_json::Value::String(String::from_utf8_lossy(&r.body).into_owned())
                });
            let headers: serde_json::Map<String, serde_json::Value> = r
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let v = serde_json::json!({
                "request": { "method": built.request.method, "url": shown_url },
                "status": r.status,
                "reason": r.reason,
                "elapsed_ms": r.elapsed.as_millis() as u64,
                "headers": headers,
                "body": body_json,
            });
            out.push_str(&serde_json::to_string_pretty(&v).unwrap_or_default());
            out.push('\n');
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    // A body too large for memory is in a temporary file: it is copied out as it came.
    if let (Some(file), Output::Body | Output::Full) = (&r.spool, &args.output)
        && let Err(e) = file.copy_to(&mut stdout)
    {
        eprintln!("fhirside: reading the body back from its temporary file failed: {e}");
        return Ok(2);
    }
    let _ = stdout.flush();
    Ok(if args.fail && r.status >= 400 { 1 } else { 0 })
}

/// Prints what a person must do to sign in (device code, browser) and sign-in failures.
pub fn report_auth(ev: &AuthEvent) {
    match ev {
        AuthEvent::DeviceCode { prompt, .. } => eprintln!(
            "To sign in, open {} and enter the code {}",
            prompt.verification_uri, prompt.user_code
        ),
        AuthEvent::Browser { url, port, .. } => eprintln!(
            "To sign in, open this address in a browser (over SSH: ssh -L {port}:localhost:{port} <host>):\n{url}"
        ),
        AuthEvent::Failed { error, .. } => eprintln!("fhirside: sign-in failed: {error}"),
        _ => {}
    }
}

/// Colour when stdout is a terminal and NO_COLOR is not set.
pub fn want_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::seed::seed_collection;

    #[test]
    fn finds_requests_by_file_or_display_name() {
        let ws = Workspace {
            collections: vec![seed_collection()],
            ..Default::default()
        };
        assert_eq!(
            find_request(&ws, "Azure FHIR service/List patients")
                .unwrap()
                .last(),
            "List patients"
        );
        assert_eq!(
            find_request(&ws, "azure fhir service/list PATIENTS")
                .unwrap()
                .last(),
            "List patients"
        );
        let err = find_request(&ws, "Azure FHIR service/Nope").unwrap_err();
        assert!(err.contains("Azure FHIR service/Export"), "{err}");
    }
}
