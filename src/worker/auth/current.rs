//! One token world: which token a request sends and where it came from.
//!
//! The rule: a token the user put in the environment's token variable (`{{bearerToken}}` by
//! default) — captured from a response such as the walkthrough's "Get token", or set by hand —
//! is sent as it is while it lasts. Automatic sign-in takes over only when that token has
//! expired or the server refused it (401), and the response's note says so. Automatic sign-in
//! never counts its own token (which the UI mirrors into the variable) as the user's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use crate::workspace::AuthKind;

/// Where a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOrigin {
    /// The environment's sign-in (client credentials, a command, a device code…).
    SignIn(AuthKind),
    /// Captured from a response into the token variable this session.
    Captured,
    /// The token variable's value in the environment (set by hand).
    HandSet,
}

impl TokenOrigin {
    pub fn label(self) -> String {
        match self {
            TokenOrigin::SignIn(AuthKind::Bearer) => "the environment's static token".into(),
            TokenOrigin::SignIn(AuthKind::Command) => "the token command".into(),
            TokenOrigin::SignIn(k) => format!("automatic sign-in ({})", k.label()),
            TokenOrigin::Captured => "a capture from a response".into(),
            TokenOrigin::HandSet => "the environment's token variable (set by hand)".into(),
        }
    }
}

/// A token the user provided, carried by the request's plan.
#[derive(Clone, PartialEq, Eq)]
pub struct GivenToken {
    pub value: String,
    pub origin: TokenOrigin,
    /// The variable it is in (for sentences).
    pub variable: String,
}

impl std::fmt::Debug for GivenToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GivenToken")
            .field("value", &"<redacted>")
            .field("origin", &self.origin)
            .finish()
    }
}

impl GivenToken {
    /// Whether it may still be sent: not past its JWT `exp` (opaque tokens are trusted).
    pub fn fresh(&self, now: SystemTime) -> bool {
        super::jwt::expiry(&self.value).is_none_or(|exp| exp > now)
    }
}

/// The token the next request will send, by the rule above: the user's while it is fresh and
/// was not refused, else the signed-in one (`cached`) while usable.
pub fn next_token(
    given: Option<&GivenToken>,
    refused: &[String],
    cached: Option<&super::Token>,
    kind: AuthKind,
    now: SystemTime,
) -> Option<(String, TokenOrigin)> {
    if let Some(g) = given
        && g.fresh(now)
        && !refused.contains(&g.value)
        && cached.is_none_or(|c| c.access_token != g.value)
    {
        return Some((g.value.clone(), g.origin));
    }
    cached
        .filter(|c| c.usable(now))
        .map(|c| (c.access_token.clone(), TokenOrigin::SignIn(kind)))
}

/// What a request of an environment last sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Sent {
    pub token: String,
    pub origin: TokenOrigin,
    pub at: SystemTime,
}

impl std::fmt::Debug for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sent")
            .field("token", &"<redacted>")
            .field("origin", &self.origin)
            .finish()
    }
}

static LAST_SENT: Mutex<Option<HashMap<String, Sent>>> = Mutex::new(None);

/// Notes the token a request of `env` sent (the worker calls it).
pub fn record_sent(env: &str, token: &str, origin: TokenOrigin) {
    if let Ok(mut m) = LAST_SENT.lock() {
        m.get_or_insert_with(HashMap::new).insert(
            env.to_string(),
            Sent {
                token: token.to_string(),
                origin,
                at: SystemTime::now(),
            },
        );
    }
}

/// The token `env`'s last request sent and where it came from (for the token viewer).
pub fn last_sent(env: &str) -> Option<Sent> {
    LAST_SENT.lock().ok()?.as_ref()?.get(env).cloned()
}

/// Forgets `env`'s record (sign-out).
pub fn forget(env: &str) {
    if let Ok(mut m) = LAST_SENT.lock()
        && let Some(m) = m.as_mut()
    {
        m.remove(env);
    }
}
