//! `fhirside token --env E`: the token the environment's requests send, decoded and explained
//! exactly as the TUI's token viewer does (`jwt::describe`), or with `--raw` the token itself
//! for piping into curl.

use std::io::IsTerminal;
use std::time::SystemTime;

use tokio::sync::mpsc;

use crate::worker::auth::current::TokenOrigin;
use crate::worker::auth::jwt;
use crate::worker::auth::{AuthEvent, acquire, plan_for};
use crate::workspace::{RequestSpec, Workspace};

pub struct TokenArgs {
    pub env: String,
    pub raw: bool,
}

/// What to print: stdout text and stderr lines.
pub struct TokenOutput {
    pub stdout: String,
    pub stderr: Vec<String>,
}

/// Gets the token (the user's own in the token variable first, then sign-in) and describes it.
pub async fn run(
    ws: &Workspace,
    args: &TokenArgs,
    stdout_is_terminal: bool,
) -> Result<TokenOutput, String> {
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
    let probe = format!("{base}/metadata");
    let plan = plan_for(env, &[], &RequestSpec::new("token", "GET", &probe), &probe)?.ok_or_else(
        || {
            format!(
                "environment '{}' has no sign-in ([auth] kind is none)",
                env.name
            )
        },
    )?;
    let now = SystemTime::now();
    let mut stderr = Vec::new();
    let (token, origin) = match plan.given.as_ref().filter(|g| g.fresh(now)) {
        Some(g) => (g.value.clone(), g.origin),
        None => {
            let (events, mut rx) = mpsc::unbounded_channel();
            let http = crate::worker::auth::oauth::http_client();
            let printer = tokio::spawn(async move {
                while let Some(ev) = rx.recv().await {
                    // A failure is this command's own error; the prompts are for the person.
                    if !matches!(ev, AuthEvent::Failed { .. }) {
                        super::run::report_auth(&ev);
                    }
                }
            });
            let got = acquire(&http, &plan.auth, &plan.env, None, false, &events).await;
            drop(events);
            let _ = printer.await;
            let t = got.map_err(|e| format!("signing in to '{}' failed: {e}", env.name))?;
            (t.access_token, TokenOrigin::SignIn(plan.auth.kind))
        }
    };
    if args.raw {
        if stdout_is_terminal {
            stderr.push("fhirside: this is a credential: anyone who sees it can use it until it expires; pipe it rather than copying it from the screen.".into());
        }
        return Ok(TokenOutput {
            stdout: format!("{token}\n"),
            stderr,
        });
    }
    let expect = crate::worker::auth::expectations(&plan.auth);
    let mut out = format!("Token of '{}', from {}.\n", env.name, origin.label());
    out.push_str(&jwt::describe_text(&jwt::describe(&token, &expect, now)));
    Ok(TokenOutput {
        stdout: out,
        stderr,
    })
}

/// Whether stdout is a terminal (for the `--raw` warning).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}
