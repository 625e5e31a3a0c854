//! The worker's token cache, one entry per environment and audience: which token a request is
//! given, when a new sign-in may start, and whether a token is renewed ahead of its expiry.
//!
//! Floors keep a hostile or broken token endpoint from being hammered: a server answering
//! `expires_in: 0` gets at most one automatic sign-in per [`CachePolicy::renew_floor`], and
//! after failures the wait doubles up to [`CachePolicy::max_backoff`]. A person asking (`s`)
//! is never held back. Tokens are renewed ahead of time only when they were used since they
//! were obtained, so an environment the user left stops being renewed.

use std::time::{Duration, Instant, SystemTime};

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::{ResolvedAuth, Token};

/// The timing rules of automatic sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Automatic sign-ins of one environment and audience start at most this often.
    pub renew_floor: Duration,
    /// The longest wait after repeated failures.
    pub max_backoff: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            renew_floor: Duration::from_secs(30),
            max_backoff: Duration::from_secs(600),
        }
    }
}

impl CachePolicy {
    /// How long to wait after `failures` failures in a row (none: the floor).
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(16);
        self.renew_floor
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff.max(self.renew_floor))
    }
}

/// Where a token in the cache lives: per environment, per audience (a FHIR token and a storage
/// token of the same environment are different tokens).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenKey {
    pub env: String,
    pub audience: String,
}

impl TokenKey {
    pub fn of(env: &str, auth: &ResolvedAuth) -> Self {
        let mut audience = auth.audience.clone();
        if !auth.scopes.is_empty() {
            audience.push(' ');
            audience.push_str(&auth.scopes.join(" "));
        }
        TokenKey {
            env: env.to_string(),
            audience,
        }
    }
}

/// What a request asking for a token gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// This token, now.
    Token(String),
    /// Wait for a sign-in; `start` when none is running yet.
    Wait { start: bool },
    /// No token, and no new sign-in yet (the sentence says why and when).
    Refuse(String),
}

/// One cache entry, owned by the worker.
pub struct EnvTokens {
    pub auth: ResolvedAuth,
    pub token: Option<Token>,
    pub acquiring: Option<(u64, CancellationToken)>,
    pub waiters: Vec<oneshot::Sender<Result<String, String>>>,
    /// When the last sign-in started (automatic or asked for).
    pub last_start: Option<Instant>,
    /// Sign-ins that failed in a row, and the last one's sentence.
    pub failures: u32,
    pub last_error: Option<String>,
    /// The token was handed to a request since it was obtained (renew on use).
    pub used: bool,
    /// The last tokens sign-in issued (so the UI's mirror of them is not taken for the
    /// user's own) and the user's tokens the server refused.
    pub issued: Vec<String>,
    pub refused_given: Vec<String>,
}

/// How many issued / refused tokens an entry remembers.
const REMEMBERED: usize = 8;

fn remember(list: &mut Vec<String>, token: &str) {
    if !list.iter().any(|t| t == token) {
        list.push(token.to_string());
        if list.len() > REMEMBERED {
            list.remove(0);
        }
    }
}

impl EnvTokens {
    pub fn new(auth: ResolvedAuth) -> Self {
        EnvTokens {
            auth,
            token: None,
            acquiring: None,
            waiters: Vec::new(),
            last_start: None,
            failures: 0,
            last_error: None,
            used: false,
            issued: Vec::new(),
            refused_given: Vec::new(),
        }
    }

    /// Notes a token sign-in just issued.
    pub fn issued(&mut self, token: &str) {
        remember(&mut self.issued, token);
    }

    /// The user's token, when the rule says it is the one to send now.
    pub fn given_to_send(
        &mut self,
        given: Option<&super::current::GivenToken>,
        refused: Option<&str>,
        now: SystemTime,
    ) -> Option<String> {
        let g = given?;
        if refused == Some(g.value.as_str()) {
            remember(&mut self.refused_given, &g.value);
        }
        let own = self.issued.contains(&g.value);
        (!own && g.fresh(now) && !self.refused_given.contains(&g.value)).then(|| g.value.clone())
    }

    /// Forgets the token and the failure record (new settings, or a person asking).
    pub fn reset(&mut self) {
        self.token = None;
        self.failures = 0;
        self.last_error = None;
        self.used = false;
    }

    /// The earliest moment an automatic sign-in may start.
    pub fn next_allowed(&self, policy: &CachePolicy) -> Option<Instant> {
        let last = self.last_start?;
        let wait = match self.failures {
            0 => policy.renew_floor,
            n => policy.backoff(n),
        };
        Some(crate::worker::time::instant_later(last, wait))
    }

    /// The answer to a request for a token. `refused` is the token the server just answered
    /// 401 to: it is never handed out again, and replacing it skips the success floor (one
    /// retry per request bounds that) but not the back-off after failures.
    pub fn answer(
        &mut self,
        refused: Option<&str>,
        now: SystemTime,
        mono: Instant,
        policy: &CachePolicy,
    ) -> Answer {
        if let (Some(r), Some(t)) = (refused, &self.token)
            && t.access_token == r
        {
            self.token = None;
        }
        let allowed = self.next_allowed(policy).is_none_or(|at| mono >= at);
        if let Some(t) = &self.token {
            // Usable, or so fresh that asking again would hammer the server (expires_in: 0).
            if t.usable(now) || !allowed {
                self.used = true;
                return Answer::Token(t.access_token.clone());
            }
        }
        if self.acquiring.is_some() {
            return Answer::Wait { start: false };
        }
        if self.failures > 0 && !allowed {
            let left = self
                .next_allowed(policy)
                .map(|at| at.saturating_duration_since(mono).as_secs().max(1))
                .unwrap_or(1);
            let error = self.last_error.as_deref().unwrap_or("sign-in failed");
            return Answer::Refuse(format!(
                "{} (fhirside signs in again by itself in {left} s; s on the environment tries now)",
                error.trim_end_matches('.')
            ));
        }
        Answer::Wait { start: true }
    }

    /// How long after now a timed renewal of `token` is due, at the earliest one floor after
    /// the sign-in that got it.
    pub fn renewal_delay(
        &self,
        token: &Token,
        now: SystemTime,
        mono: Instant,
        policy: &CachePolicy,
    ) -> Option<Duration> {
        let at = token.refresh_at()?;
        let by_token = at.duration_since(now).unwrap_or_default();
        let by_floor = self
            .next_allowed(policy)
            .map(|a| a.saturating_duration_since(mono))
            .unwrap_or_default();
        Some(by_token.max(by_floor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::AuthKind;

    fn entry() -> EnvTokens {
        let auth = ResolvedAuth {
            kind: AuthKind::ClientCredentials,
            ..Default::default()
        };
        EnvTokens::new(auth)
    }

    fn token(life: Duration, now: SystemTime) -> Token {
        Token {
            access_token: "t".into(),
            expires_at: Some(now + life),
            refresh_token: None,
            obtained_at: now,
        }
    }

    #[test]
    fn an_already_expired_fresh_token_is_handed_out_until_the_floor_passes() {
        let p = CachePolicy::default();
        let (now, mono) = (SystemTime::now(), Instant::now());
        let mut e = entry();
        e.last_start = Some(mono);
        e.token = Some(token(Duration::ZERO, now));
        assert_eq!(e.answer(None, now, mono, &p), Answer::Token("t".into()));
        assert!(e.used);
        let later = mono + Duration::from_secs(31);
        assert_eq!(e.answer(None, now, later, &p), Answer::Wait { start: true });
        // The delay of a timed renewal respects the floor too.
        let t = token(Duration::ZERO, now);
        let d = e.renewal_delay(&t, now, mono, &p).unwrap();
        assert_eq!(d, Duration::from_secs(30));
    }

    #[test]
    fn failures_back_off_exponentially_up_to_a_ceiling() {
        let p = CachePolicy::default();
        assert_eq!(p.backoff(1), Duration::from_secs(30));
        assert_eq!(p.backoff(2), Duration::from_secs(60));
        assert_eq!(p.backoff(3), Duration::from_secs(120));
        assert_eq!(p.backoff(40), Duration::from_secs(600));
        let (now, mono) = (SystemTime::now(), Instant::now());
        let mut e = entry();
        e.last_start = Some(mono);
        e.failures = 2;
        e.last_error = Some("Sign-in refused.".into());
        match e.answer(None, now, mono + Duration::from_secs(10), &p) {
            Answer::Refuse(s) => assert!(s.contains("in 50 s"), "{s}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            e.answer(None, now, mono + Duration::from_secs(61), &p),
            Answer::Wait { start: true }
        );
    }

    #[test]
    fn a_refused_token_is_replaced_at_once() {
        let p = CachePolicy::default();
        let (now, mono) = (SystemTime::now(), Instant::now());
        let mut e = entry();
        e.last_start = Some(mono);
        e.token = Some(token(Duration::from_secs(3600), now));
        assert_eq!(
            e.answer(Some("t"), now, mono, &p),
            Answer::Wait { start: true }
        );
        assert!(e.token.is_none());
    }
}
