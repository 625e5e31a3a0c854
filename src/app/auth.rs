//! Sign-in as the app sees it: which requests get the environment's token, the token's state
//! for the status bar, and the dialogs of the interactive flows.

use std::time::{Instant, SystemTime};

use super::state::{App, Overlay};
use super::update::Command;
use crate::worker::auth::{AuthEvent, DeviceCodePrompt, ResolvedAuth, Token, resolve_auth};
use crate::worker::{AuthPlan, WorkerCommand};
use crate::workspace::template::Context;
use crate::workspace::{AuthKind, RequestSpec};

/// An environment's token as the UI knows it.
#[derive(Debug, Clone)]
pub enum TokenState {
    Acquiring { flow: &'static str },
    Valid(Token),
    Failed(String),
}

/// What the sign-in dialog shows.
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

impl App {
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

    /// Whether `url` gets the environment's token (see `worker::auth::plan_for`).
    pub fn auth_plan(&self, spec: &RequestSpec, url: &str) -> Result<Option<AuthPlan>, String> {
        match self.active_environment() {
            Some(env) => crate::worker::auth::plan_for(env, &self.session_vars, spec, url),
            None => Ok(None),
        }
    }

    /// `s`: sign in now with the environment's flow.
    pub fn sign_in(&mut self, env: Option<String>) -> Vec<Command> {
        let Some(env) = env.or_else(|| self.active_env.clone()) else {
            self.info("No environment is active.");
            return Vec::new();
        };
        let Some(e) = self.ws.environment(&env) else {
            return Vec::new();
        };
        let Some(config) = e.auth.clone().filter(|a| a.kind != AuthKind::None) else {
            self.info(format!(
                "'{env}' has no sign-in configured: press S to set it up."
            ));
            return Vec::new();
        };
        let overrides = self.session_vars.clone();
        let ctx = Context {
            overrides: &overrides,
            environment: self.ws.environment(&env),
            collection: &[],
        };
        match resolve_auth(&config, &ctx) {
            Ok(auth) => vec![Command::Worker(WorkerCommand::SignIn {
                env,
                auth: Box::new(auth),
            })],
            Err(e) => {
                self.error(e.to_string());
                Vec::new()
            }
        }
    }

    pub fn on_auth_event(&mut self, ev: AuthEvent) {
        match ev {
            AuthEvent::Started { env, flow } => {
                self.tokens
                    .insert(env.clone(), TokenState::Acquiring { flow });
                let interactive = flow.contains("device") || flow.contains("browser");
                if interactive {
                    self.overlay = Some(Overlay::SignIn {
                        env,
                        view: SignInView::Waiting { flow },
                    });
                } else {
                    self.info(format!("Signing in to '{env}' ({flow})…"));
                }
            }
            AuthEvent::DeviceCode { env, prompt } => {
                self.overlay = Some(Overlay::SignIn {
                    env,
                    view: SignInView::DeviceCode {
                        prompt,
                        shown_at: Instant::now(),
                    },
                });
            }
            AuthEvent::Browser {
                env,
                url,
                port,
                opened,
            } => {
                self.overlay = Some(Overlay::SignIn {
                    env,
                    view: SignInView::Browser { url, port, opened },
                });
            }
            AuthEvent::Acquired {
                env,
                token,
                variable,
                renewed,
            } => {
                if matches!(&self.overlay, Some(Overlay::SignIn { env: e, .. }) if *e == env) {
                    self.overlay = None;
                }
                if self.active_env.as_deref() == Some(env.as_str()) {
                    self.session_vars.retain(|(k, _)| *k != variable);
                    self.session_vars
                        .push((variable.clone(), token.access_token.clone()));
                }
                let life = token
                    .expires_at
                    .and_then(|e| e.duration_since(SystemTime::now()).ok())
                    .map(|d| {
                        format!(
                            ", valid for {}",
                            crate::worker::auth::jwt::human(d.as_secs())
                        )
                    })
                    .unwrap_or_default();
                let verb = if renewed {
                    "Token renewed"
                } else {
                    "Signed in"
                };
                self.info(format!(
                    "{verb} for '{env}'{life}; {{{{{variable}}}}} holds it for this session."
                ));
                self.tokens.insert(env, TokenState::Valid(token));
            }
            AuthEvent::Failed { env, error } => {
                if matches!(&self.overlay, Some(Overlay::SignIn { env: e, .. }) if *e == env) {
                    self.overlay = None;
                }
                self.error(error.clone());
                self.tokens.insert(env, TokenState::Failed(error));
            }
            AuthEvent::Cancelled { env } => {
                if matches!(&self.overlay, Some(Overlay::SignIn { env: e, .. }) if *e == env) {
                    self.overlay = None;
                }
                self.tokens.remove(&env);
                self.info("Sign-in cancelled.");
            }
        }
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

    pub fn cancel_sign_in(&mut self, env: String) -> Vec<Command> {
        self.overlay = None;
        vec![Command::Worker(WorkerCommand::CancelSignIn { env })]
    }
}

fn short(secs: u64) -> String {
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    } else {
        format!("{}m", secs / 60)
    }
}

/// The rows of the sign-in settings editor, in order.
pub const AUTH_FIELDS: [&str; 16] = [
    "kind",
    "flavor",
    "client_id",
    "client_secret",
    "client_secret_command",
    "audience",
    "scope",
    "token_url",
    "authorize_url",
    "device_code_url",
    "redirect_port",
    "redirect_path",
    "command",
    "command_timeout_secs",
    "token",
    "token_variable",
];

/// What an unset field means, shown dimmed beside it.
pub fn auth_field_default(field: &str) -> &'static str {
    match field {
        "client_id" => "{{clientid}}",
        "client_secret" => "{{clientsecret}} (from secrets.toml)",
        "client_secret_command" => "none; e.g. a vault CLI that prints the secret, run at sign-in",
        "audience" => "{{fhirurl}}",
        "scope" => {
            "v1: none (resource = audience); v2: {audience}/.default; user sign-in adds offline_access"
        }
        "token_url" => "{{authority}}/{{tenantid}}/oauth2/token (v2: …/oauth2/v2.0/token)",
        "authorize_url" => "{{authority}}/{{tenantid}}/oauth2/v2.0/authorize",
        "device_code_url" => "{{authority}}/{{tenantid}}/oauth2/v2.0/devicecode",
        "redirect_port" => "8400 (redirect URI http://localhost:8400/)",
        "redirect_path" => "/",
        "command" => {
            "e.g. az account get-access-token --resource {{fhirurl}} --query accessToken -o tsv"
        }
        "command_timeout_secs" => "60",
        "token" => "{{bearerToken}}",
        "token_variable" => "bearerToken",
        _ => "",
    }
}

pub fn auth_field_value(c: &crate::workspace::AuthConfig, field: &str) -> Option<String> {
    use crate::workspace::TokenFlavor;
    match field {
        "kind" => Some(c.kind.label().to_string()),
        "flavor" => Some(
            match c.flavor {
                TokenFlavor::EntraV1 => "Entra ID v1",
                TokenFlavor::EntraV2 => "Entra ID v2",
                TokenFlavor::Oauth2 => "any OAuth2 server",
            }
            .to_string(),
        ),
        "client_id" => c.client_id.clone(),
        "client_secret" => c.client_secret.clone(),
        "client_secret_command" => c.client_secret_command.clone(),
        "audience" => c.audience.clone(),
        "scope" => c.scope.clone(),
        "token_url" => c.token_url.clone(),
        "authorize_url" => c.authorize_url.clone(),
        "device_code_url" => c.device_code_url.clone(),
        "redirect_port" => c.redirect_port.map(|p| p.to_string()),
        "redirect_path" => c.redirect_path.clone(),
        "command" => c.command.clone(),
        "command_timeout_secs" => c.command_timeout_secs.map(|p| p.to_string()),
        "token" => c.token.clone(),
        "token_variable" => c.token_variable.clone(),
        _ => None,
    }
}

/// Sets a text field; an empty value goes back to the default. Errors are sentences.
pub fn set_auth_field(
    c: &mut crate::workspace::AuthConfig,
    field: &str,
    value: &str,
) -> Result<(), String> {
    let v = value.trim();
    let opt = || (!v.is_empty()).then(|| v.to_string());
    let num = |what: &str| -> Result<Option<u64>, String> {
        if v.is_empty() {
            Ok(None)
        } else {
            v.parse()
                .map(Some)
                .map_err(|_| format!("{what} must be a whole number"))
        }
    };
    match field {
        "client_id" => c.client_id = opt(),
        "client_secret" => c.client_secret = opt(),
        "client_secret_command" => c.client_secret_command = opt(),
        "audience" => c.audience = opt(),
        "scope" => c.scope = opt(),
        "token_url" => c.token_url = opt(),
        "authorize_url" => c.authorize_url = opt(),
        "device_code_url" => c.device_code_url = opt(),
        "redirect_port" => {
            c.redirect_port = num("redirect_port")?
                .map(|n| {
                    u16::try_from(n).map_err(|_| "redirect_port must be below 65536".to_string())
                })
                .transpose()?
        }
        "redirect_path" => {
            c.redirect_path = opt().map(|p| {
                if p.starts_with('/') {
                    p
                } else {
                    format!("/{p}")
                }
            })
        }
        "command" => c.command = opt(),
        "command_timeout_secs" => c.command_timeout_secs = num("command_timeout_secs")?,
        "token" => c.token = opt(),
        "token_variable" => c.token_variable = opt(),
        other => return Err(format!("'{other}' is chosen with space, not typed")),
    }
    Ok(())
}
