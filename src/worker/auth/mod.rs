//! Sign-in: getting, caching, refreshing and attaching tokens, inside the worker so the UI never
//! waits. One token per environment; requests wait for a token being fetched rather than each
//! starting their own sign-in.

pub mod assertion;
pub mod cache;
pub mod command;
pub mod current;
pub mod jwt;
pub mod keys;
pub mod loopback;
pub mod oauth;
pub mod resolve;

use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot};

pub use cache::{CachePolicy, EnvTokens, TokenKey};
pub use oauth::DeviceCodePrompt;
pub use resolve::{AuthError, ResolvedAuth, resolve_auth};

use crate::workspace::AuthKind;

/// An access token in hand. Kept in memory only.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub access_token: String,
    pub expires_at: Option<SystemTime>,
    pub refresh_token: Option<String>,
    pub obtained_at: SystemTime,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A token is used only while it has at least this long to live.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

impl Token {
    pub fn usable(&self, now: SystemTime) -> bool {
        self.expires_at
            .is_none_or(|e| e > super::time::later(now, self.margin()))
    }

    /// How much life a token must have left to be handed out: a minute, or a quarter of a
    /// short lifetime (so a 90-second token is not thrown away after 30 seconds).
    fn margin(&self) -> Duration {
        let life = self
            .expires_at
            .and_then(|e| e.duration_since(self.obtained_at).ok())
            .unwrap_or(EXPIRY_MARGIN * 4);
        EXPIRY_MARGIN.min(life / 4)
    }

    /// When to renew it ahead of expiry: five minutes before, or at 80% of a short lifetime.
    pub fn refresh_at(&self) -> Option<SystemTime> {
        let exp = self.expires_at?;
        let life = exp.duration_since(self.obtained_at).unwrap_or_default();
        // Renew while the token is still handed out (see `margin`), well before it lapses.
        let lead = (life / 5)
            .min(Duration::from_secs(300))
            .max(self.margin() * 3 / 2);
        Some(super::time::earlier(exp, lead))
    }
}

/// What sign-in tells the UI.
#[derive(Debug, Clone)]
pub enum AuthEvent {
    Started {
        env: String,
        flow: &'static str,
    },
    DeviceCode {
        env: String,
        prompt: DeviceCodePrompt,
    },
    Browser {
        env: String,
        url: String,
        port: u16,
        opened: bool,
    },
    Acquired {
        env: String,
        token: Token,
        variable: String,
        renewed: bool,
    },
    Failed {
        env: String,
        error: String,
    },
    Cancelled {
        env: String,
    },
}

/// Gets a token by the environment's flow. `prior` may hold a refresh token.
/// A timed `renewal` never starts a flow that needs a person.
pub async fn acquire(
    http: &reqwest::Client,
    auth: &ResolvedAuth,
    env: &str,
    prior: Option<&Token>,
    renewal: bool,
    events: &mpsc::UnboundedSender<AuthEvent>,
) -> Result<Token, AuthError> {
    acquire_with(http, auth, env, prior, renewal, events, None).await
}

/// [`acquire`] with the device-code poll floor given (`None`: RFC 8628's 5 s).
pub async fn acquire_with(
    http: &reqwest::Client,
    auth: &ResolvedAuth,
    env: &str,
    prior: Option<&Token>,
    renewal: bool,
    events: &mpsc::UnboundedSender<AuthEvent>,
    device_poll_floor: Option<Duration>,
) -> Result<Token, AuthError> {
    if let Some(rt) = prior.and_then(|t| t.refresh_token.as_deref()) {
        match oauth::refresh(http, auth, rt).await {
            Ok(t) => return Ok(t),
            Err(e) if renewal && auth.is_interactive() => {
                return Err(AuthError::Flow(format!(
                    "The token could not be renewed silently ({e}); press s on the environment to sign in again."
                )));
            }
            // An expired or revoked refresh token: fall through to a full sign-in.
            Err(_) => {}
        }
    } else if renewal && auth.is_interactive() {
        return Err(AuthError::Flow("The token expires soon and cannot be renewed without you; press s on the environment to sign in again.".into()));
    }
    match auth.kind {
        AuthKind::None => Err(AuthError::Missing("this environment has no sign-in".into())),
        AuthKind::Bearer => Ok(Token {
            access_token: auth.static_token.clone(),
            expires_at: jwt::expiry(&auth.static_token),
            refresh_token: None,
            obtained_at: SystemTime::now(),
        }),
        AuthKind::ClientCredentials
            if auth.client_secret.is_none() && !auth.client_secret_command.is_empty() =>
        {
            let secret =
                command::run_secret(&auth.client_secret_command, auth.command_timeout).await?;
            let with_secret = ResolvedAuth {
                client_secret: Some(secret),
                ..auth.clone()
            };
            oauth::client_credentials(http, &with_secret).await
        }
        AuthKind::ClientCredentials => oauth::client_credentials(http, auth).await,
        AuthKind::PrivateKeyJwt => {
            let key = assertion::load(auth).await?;
            let signed = assertion::sign(auth, &key, SystemTime::now())?;
            oauth::client_credentials_with_assertion(http, auth, &signed).await
        }
        AuthKind::Command => command::run(&auth.command, auth.command_timeout).await,
        AuthKind::DeviceCode => {
            let env = env.to_string();
            let floor = device_poll_floor.unwrap_or(oauth::DEVICE_POLL_FLOOR);
            oauth::device_code(http, auth, floor, |prompt| {
                let _ = events.send(AuthEvent::DeviceCode { env, prompt });
                std::future::ready(())
            })
            .await
        }
        AuthKind::AuthorizationCode => {
            let listener = loopback::bind(auth.redirect_port).await?;
            let port = listener
                .local_addr()
                .map(|a| a.port())
                .unwrap_or(auth.redirect_port);
            let start = oauth::authorize_url(auth)?;
            let opened = loopback::try_open_browser(&start.url);
            let _ = events.send(AuthEvent::Browser {
                env: env.to_string(),
                url: start.url.clone(),
                port,
                opened,
            });
            let code = loopback::wait_for_code(
                listener,
                &auth.redirect_path,
                &start.state,
                Duration::from_secs(600),
            )
            .await?;
            oauth::exchange_code(http, auth, code, start.verifier).await
        }
    }
}

/// Whether a request to `url` gets `env`'s token: only under its FHIR base, and only when the
/// request does not bring its own auth. Shared by the TUI and the CLI.
pub fn plan_for(
    env: &crate::workspace::Environment,
    overrides: &[(String, String)],
    spec: &crate::workspace::RequestSpec,
    url: &str,
) -> Result<Option<super::AuthPlan>, String> {
    use crate::workspace::RequestAuth;
    if !matches!(spec.auth, None | Some(RequestAuth::Oauth2)) {
        return Ok(None);
    }
    let Some(config) = env.auth.as_ref().filter(|a| a.kind != AuthKind::None) else {
        return Ok(None);
    };
    let ctx = crate::workspace::template::Context {
        overrides,
        environment: Some(env),
        collection: &[],
    };
    match resolve_auth(config, &ctx) {
        Ok(auth) if auth.applies_to(url) => Ok(Some(super::AuthPlan {
            env: env.name.clone(),
            given: given_token(env, overrides, &auth),
            auth: Box::new(auth),
            policy: super::credentials::CredentialPolicy::for_environment(env, overrides),
            refuse_unsigned: false,
        })),
        Ok(_) => Ok(None),
        Err(e) => {
            // Only a problem when the request is for the FHIR service.
            let base = env.get("fhirurl").unwrap_or("").trim_end_matches('/');
            let for_fhir = !base.is_empty()
                && (url == base
                    || url
                        .strip_prefix(base)
                        .is_some_and(|r| r.starts_with(['/', '?', '#'])));
            if for_fhir {
                Err(e.to_string())
            } else {
                Ok(None)
            }
        }
    }
}

/// What a token of this sign-in is checked against in the viewer and `fhirside token`: the
/// FHIR audience, and Azure's rules as certainties only for Entra sign-ins.
pub fn expectations(auth: &ResolvedAuth) -> jwt::Expectations {
    jwt::Expectations {
        audience: auth.audience.clone(),
        entra: auth.flavor != crate::workspace::TokenFlavor::Oauth2
            && !matches!(auth.kind, AuthKind::Bearer | AuthKind::Command),
    }
}

/// The token the user put in the token variable: a session capture (an override), else the
/// environment's own value. Static-token environments have no separate "given" token.
pub fn given_token(
    env: &crate::workspace::Environment,
    overrides: &[(String, String)],
    auth: &ResolvedAuth,
) -> Option<current::GivenToken> {
    if auth.kind == AuthKind::Bearer {
        return None;
    }
    token_in_variable(env, overrides, &auth.token_variable)
}

/// The token the user keeps in `var` for `env`: the latest session capture, else the
/// environment's own (hand-set) value; blank counts as none. Also what an environment with no
/// sign-in sends as `{{bearerToken}}`.
pub fn token_in_variable(
    env: &crate::workspace::Environment,
    overrides: &[(String, String)],
    var: &str,
) -> Option<current::GivenToken> {
    let nonempty = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let (value, origin) = match overrides.iter().rev().find(|(k, _)| k == var) {
        Some((_, v)) => (nonempty(v)?, current::TokenOrigin::Captured),
        None => (nonempty(env.get(var)?)?, current::TokenOrigin::HandSet),
    };
    Some(current::GivenToken {
        value,
        origin,
        variable: var.to_string(),
    })
}

/// A server-given word for a sentence: control characters shown as `?`, at most 300 chars.
/// (The CLI's sanitiser covers output as a whole; this keeps sign-in sentences plain anywhere.)
pub(crate) fn plain(s: &str) -> String {
    s.chars()
        .take(300)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Requests for tokens, from the send tasks to the worker that owns the cache.
pub(crate) struct NeedToken {
    pub env: String,
    pub auth: Box<ResolvedAuth>,
    /// The token the server just refused (401): do not hand it out again.
    pub refused: Option<String>,
    /// The user's own token for this environment, if any (see [`current`]).
    pub given: Option<current::GivenToken>,
    pub reply: oneshot::Sender<Result<String, String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_happens_before_expiry() {
        let now = SystemTime::now();
        let hour = Token {
            access_token: "a".into(),
            expires_at: Some(now + Duration::from_secs(3600)),
            refresh_token: None,
            obtained_at: now,
        };
        assert_eq!(hour.refresh_at(), Some(now + Duration::from_secs(3300)));
        let short = Token {
            expires_at: Some(now + Duration::from_secs(90)),
            ..hour.clone()
        };
        let at = short.refresh_at().unwrap().duration_since(now).unwrap();
        assert!(
            at >= Duration::from_secs(29) && at <= Duration::from_secs(72),
            "{at:?}"
        );
        assert!(hour.usable(now));
        assert!(
            short.usable(now + Duration::from_secs(45)),
            "a short token lives most of its life"
        );
        assert!(!short.usable(now + Duration::from_secs(70)));
        assert!(!format!("{hour:?}").contains("\"a\""));
    }
}
