//! `fhirside run`: sends a saved request without the TUI, with the same templating, sign-in and
//! capture rules, for scripts and cron.

use std::time::Duration;

use tokio::sync::mpsc;

use super::exit::{CliError, CliResult, Exit};
use super::out::{self, Stdout, field};
use crate::history::RecordMeta;
use crate::text::sanitize::{bytes_for_terminal, needs_escaping};
use crate::view_body::BodyKind;
use crate::worker::auth::AuthEvent;
use crate::worker::capture::{self, CaptureOutcome};
use crate::worker::http::{HttpError, HttpRequest};
use crate::worker::prepare::{Prepared as Built, Seed, prepare as prepare_request};
use crate::worker::{self, AuthPlan, Received, RequestId, WorkerCommand, WorkerEvent};
use crate::workspace::template::redact;
use crate::workspace::{NodePath, SavedRequest, Workspace};

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
    /// Print the body as it came even on a terminal.
    pub raw: bool,
    pub color: bool,
    /// Record the exchange in this workspace's history (as `settings.toml` says).
    pub history_root: Option<std::path::PathBuf>,
    /// Send without a token when the environment's sign-in fails (default: exit 2 unsent).
    pub allow_unsigned: bool,
    /// Print what this FHIRPath expression selects from the body instead of the body.
    pub fhirpath: Option<String>,
}

/// Finds a request by `Collection/Folder/Request`: its address (directory and file names) or
/// the names shown (titles), see [`Workspace::find_request`].
pub fn find_request(ws: &Workspace, wanted: &str) -> Result<NodePath, String> {
    ws.find_request(wanted).map_err(|e| e.to_string())
}

/// A saved request ready to send: built from the templates, with its sign-in plan and what
/// history records about it.
pub struct Prepared<'w> {
    pub saved: &'w SavedRequest,
    pub built: Built,
    pub plan: Option<AuthPlan>,
    pub record: RecordMeta,
    /// The URL with secrets redacted, for messages.
    pub shown_url: String,
}

/// Finds the request and the environment and fills the templates; a name that names nothing or
/// a variable without a value is a usage error.
pub fn prepare<'w>(
    ws: &'w Workspace,
    request: &str,
    env_name: Option<&str>,
    vars: &[(String, String)],
) -> Result<Prepared<'w>, CliError> {
    let path = find_request(ws, request).map_err(CliError::Usage)?;
    let saved = ws
        .request(&path)
        .ok_or_else(|| CliError::Failed("the request disappeared".into()))?;
    let env = match env_name {
        Some(name) => Some(
            ws.environment(name)
                .ok_or_else(|| CliError::Usage(format!("no environment '{name}'")))?,
        ),
        None => None,
    };
    let built = prepare_request(&Seed {
        workspace: ws,
        path: Some(&path),
        spec: &saved.spec,
        environment: env,
        overrides: vars,
    });
    if let Some(problem) = &built.auth_problem {
        return Err(CliError::Usage(problem.clone()));
    }
    let plan = built.auth.clone();
    if !built.unresolved.is_empty() {
        let names: Vec<String> = built
            .unresolved
            .iter()
            .map(|n| format!("{{{{{n}}}}}"))
            .collect();
        return Err(CliError::Usage(format!(
            "{} {} no value{}; pass --env NAME or --var name=value",
            names.join(", "),
            if names.len() == 1 { "has" } else { "have" },
            env.map(|e| format!(" in environment '{}'", e.name))
                .unwrap_or_default()
        )));
    }
    let shown_url = redact(&built.request.url, &built.secrets);
    let mut secrets = built.secrets.clone();
    secrets.extend(crate::history::workspace_secrets(ws));
    let record = RecordMeta {
        source: Some(crate::history::Source::Cli),
        env: env.map(|e| e.name.clone()),
        saved: Some(path.0.join(" / ")),
        secrets,
    };
    Ok(Prepared {
        saved,
        built,
        plan,
        record,
        shown_url,
    })
}

/// The worker for one command: sends requests one at a time, prints sign-in prompts, records
/// each exchange in the workspace's history (as `settings.toml` says).
pub struct Sender {
    handle: worker::WorkerHandle,
    rx: mpsc::UnboundedReceiver<WorkerEvent>,
    history: Option<crate::worker::history::HistoryHandle>,
    next_id: u64,
}

impl Sender {
    pub fn start(history_root: Option<&std::path::Path>) -> Sender {
        if let Some(problem) = worker::spool::configure(None) {
            out::error(problem);
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let history = match history_root {
            Some(root) => crate::worker::history::open_workspace_history(root, tx.clone())
                .unwrap_or_else(|e| {
                    out::error(e);
                    None
                }),
            None => None,
        };
        let handle = worker::spawn_recording(tx, history.clone());
        Sender {
            handle,
            rx,
            history,
            next_id: 1,
        }
    }

    /// Sends `request` and waits for the answer (its whole body). Not getting one is
    /// [`CliError::Unreachable`], told with secrets redacted.
    pub async fn send(
        &mut self,
        request: HttpRequest,
        plan: Option<AuthPlan>,
        record: &RecordMeta,
        secrets: &[String],
    ) -> Result<Box<Received>, CliError> {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        let what = format!(
            "{} {}",
            field(&request.method),
            field(&redact(&request.url, secrets))
        );
        self.handle.send(WorkerCommand::Send {
            id,
            request,
            auth: plan,
            record: self.history.is_some().then(|| Box::new(record.clone())),
            read_fhir: false,
        });
        let received = loop {
            match self.rx.recv().await {
                Some(WorkerEvent::Response { id: got, result }) if got == id => {
                    if let Some(h) = &self.history {
                        h.flush(Duration::from_secs(5));
                    }
                    break result;
                }
                Some(WorkerEvent::Auth(ev)) => report_auth(&ev),
                Some(_) => {}
                None => return Err(CliError::Failed("the worker stopped".into())),
            }
        };
        let mut received = received.map_err(|e| {
            let told = format!("{what}: {}", redact(&e.to_string(), secrets));
            match e {
                HttpError::SignInFailed(_) => CliError::SignInFailed(told),
                _ => CliError::Unreachable(told),
            }
        })?;
        if received.body.pending.is_some() {
            // The worker sends a large body's top lines first; the command line wants all of it.
            received.body = worker::body::prepare(&received.response);
        }
        Ok(received)
    }
}

/// Runs it; the exit code is 0, 1 (HTTP ≥ 400 with `--fail`) or 2 (could not send, including
/// when the environment's sign-in failed and `--allow-unsigned` was not given).
pub async fn run(ws: &Workspace, args: RunArgs, stdout: &mut Stdout) -> CliResult {
    let Prepared {
        saved,
        built,
        mut plan,
        record,
        shown_url,
    } = prepare(ws, &args.request, args.env.as_deref(), &args.vars)?;
    // When the configured sign-in fails, nothing is sent (unless asked).
    if let Some(p) = plan.as_mut() {
        p.refuse_unsigned = !args.allow_unsigned;
    }
    let mut sender = Sender::start(args.history_root.as_deref());
    let received = match sender
        .send(built.request.clone(), plan, &record, &built.secrets)
        .await
    {
        Ok(r) => r,
        Err(e @ CliError::SignInFailed(_)) => {
            out::note("--allow-unsigned sends it without a token anyway.");
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if let Some(note) = &received.auth_note {
        out::error(note);
    }
    for outcome in capture::apply(&saved.spec.captures, &received.response) {
        match outcome {
            CaptureOutcome::Set { variable, .. } => out::note(format_args!("captured {variable}")),
            CaptureOutcome::Missing { rule, reason } => {
                out::note(format_args!("capture {rule}: {reason}"))
            }
        }
    }
    let r = &received.response;
    // What a lenient server did with the search (dropped parameters, a clamped _count).
    let strict = args
        .env
        .as_deref()
        .and_then(|e| ws.environment(e))
        .is_some_and(|e| e.strict);
    for note in crate::fhir::handling::answer_notes(&r.body, &r.final_url, strict) {
        out::warning(note);
    }
    let code = if args.fail && r.status >= 400 {
        Exit::Failed
    } else {
        Exit::Ok
    };
    let status_line = format!(
        "{} {} {} ({} ms)",
        r.version,
        r.status,
        field(&r.reason),
        r.elapsed.as_millis()
    );
    let headers = |stdout: &mut Stdout| -> Result<(), out::OutputError> {
        stdout.line(&status_line)?;
        for (k, v) in &r.headers {
            stdout.line(format!("{}: {}", field(k), field(v)))?;
        }
        Ok(())
    };
    let body_out = BodyOut {
        terminal: stdout.is_terminal(),
        raw: args.raw,
        color: args.color && received.body.kind == BodyKind::Json,
    };
    if let Some(expr) = &args.fhirpath {
        if r.spool.is_some() {
            return Err(CliError::Failed(
                "the body was kept on disk (it is over the in-memory limit) and FHIRPath needs it in memory: write it to a file and use `fhirside fmt --fhirpath EXPR FILE`".into(),
            ));
        }
        let found = super::fhirpath::filter(&r.body, received.body.kind == BodyKind::NdJson, expr)?;
        if !found.is_empty() {
            let text = if stdout.is_terminal() && !args.raw {
                crate::text::sanitize::for_terminal(found.trim_end_matches('\n'))
            } else {
                std::borrow::Cow::Borrowed(found.trim_end_matches('\n'))
            };
            stdout.json(&text, args.color)?;
            stdout.data(b"\n")?;
        }
        stdout.flush()?;
        return Ok(code);
    }
    match args.output {
        Output::Body => body_out.write(r, &received.body.pretty.text(), stdout)?,
        Output::Headers => headers(stdout)?,
        Output::Full => {
            headers(stdout)?;
            stdout.line("")?;
            body_out.write(r, &received.body.pretty.text(), stdout)?;
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
            stdout.data(&super::json::to_pretty_safe(&v))?;
        }
    }
    stdout.flush()?;
    Ok(code)
}

/// How the body is printed: byte-exact off a terminal (like curl) or with `--raw`; on a
/// terminal pretty (and highlighted), with control characters shown escaped.
struct BodyOut {
    terminal: bool,
    raw: bool,
    color: bool,
}

impl BodyOut {
    fn write(
        &self,
        r: &crate::worker::http::HttpResponse,
        pretty: &str,
        stdout: &mut Stdout,
    ) -> Result<(), CliError> {
        // A body too large for memory is in a temporary file: it is copied out from there.
        if let Some(file) = &r.spool {
            let copied = if self.terminal && !self.raw {
                let mut w = stdout.sanitising();
                file.copy_to(&mut w).map_err(out::OutputError::from)?;
                w.finish()
            } else {
                file.copy_to(stdout.raw())
                    .map(|_| ())
                    .map_err(out::OutputError::from)
            };
            return copied.map_err(|e| match e {
                out::OutputError::Failed(e) => spool_error(e),
                closed => closed.into(),
            });
        }
        if !self.terminal || self.raw {
            stdout.data(&r.body)?;
            return Ok(());
        }
        if needs_escaping(pretty) || std::str::from_utf8(&r.body).is_err() {
            out::note(
                "fhirside: the body holds control characters or bytes that are not text; they are shown escaped (--raw prints it as it came)",
            );
        }
        let shown = bytes_for_terminal(pretty.as_bytes());
        stdout.json(&shown, self.color)?;
        if !shown.is_empty() && !shown.ends_with('\n') {
            stdout.data(b"\n")?;
        }
        Ok(())
    }
}

fn spool_error(e: std::io::Error) -> CliError {
    CliError::Failed(format!(
        "reading the body back from its temporary file failed: {e}"
    ))
}

/// Sign-in prompts and failures on stderr. Every field came from a server: each is shown on
/// one line with its control characters escaped.
pub fn report_auth(ev: &AuthEvent) {
    match ev {
        AuthEvent::DeviceCode { prompt, .. } => {
            out::note(format_args!(
                "To sign in, open {} and enter the code {}",
                field(&prompt.verification_uri),
                field(&prompt.user_code)
            ));
            if !prompt.message.is_empty() {
                out::note(field(&prompt.message));
            }
        }
        AuthEvent::Browser { url, port, .. } => out::note(format_args!(
            "To sign in, open this address in a browser (over SSH: ssh -L {port}:localhost:{port} <host>):\n{}",
            field(url)
        )),
        AuthEvent::Failed { error, .. } => out::error(format_args!("sign-in failed: {error}")),
        _ => {}
    }
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
