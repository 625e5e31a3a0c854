//! Sending one request with the environment's token: attached through the credential policy,
//! retried once with a fresh token after a 401; and handing the exchange to history.

use tokio::sync::mpsc;

use super::{AuthPlan, HttpError, HttpRequest, Internal, Received, add_note, auth, credentials};
use super::{exchange, history, need_token};

/// Attaches the environment's token, sends, and after a 401 gets a new token and retries once.
/// `request` ends as it was last sent (with the token that went out).
pub(super) async fn send_with_auth(
    client: &reqwest::Client,
    request: &mut HttpRequest,
    plan: Option<AuthPlan>,
    internal: &mpsc::UnboundedSender<Internal>,
) -> Result<Box<Received>, HttpError> {
    let Some(plan) = plan else {
        return exchange(client, request).await;
    };
    let permit = match plan.policy.permit(
        "This request",
        &request.url,
        credentials::Credential::FhirToken,
    ) {
        Ok(p) => p,
        Err(refused) => {
            let mut r = exchange(client, request).await?;
            add_note(&mut r, format!("Sent without the token: {refused}"));
            return Ok(r);
        }
    };
    let token = match need_token(internal, &plan, None).await {
        Ok(t) => t,
        Err(e) if plan.refuse_unsigned => {
            return Err(HttpError::SignInFailed(e.to_string()));
        }
        Err(e) => {
            // An `Authorization: Bearer ` with nothing after it (an empty {{bearerToken}}) is
            // no credential: it is left out rather than sent.
            request.headers.retain(|(k, v)| {
                !(k.eq_ignore_ascii_case("authorization")
                    && v.trim().eq_ignore_ascii_case("bearer"))
            });
            let mut r = exchange(client, request).await?;
            add_note(&mut r, format!("Sent without a new token: {e}"));
            return Ok(r);
        }
    };
    let sent = |token: &str| {
        let origin = match &plan.given {
            Some(g) if g.value == token => g.origin,
            _ => auth::current::TokenOrigin::SignIn(plan.auth.kind),
        };
        auth::current::record_sent(&plan.env, token, origin);
    };
    // The user's token was there but is not the one going out: say so, once.
    let took_over = |token: &str| {
        plan.given.as_ref().filter(|g| g.value != token).map(|g| {
            format!(
                "The token in {{{{{}}}}} ({}) has expired or was refused; fhirside signed in by itself instead.",
                g.variable,
                g.origin.label()
            )
        })
    };
    attach(&permit, request, &token)?;
    sent(&token);
    let mut first = exchange(client, request).await?;
    if first.response.status != 401 {
        first.auth_note = first.auth_note.take().or_else(|| took_over(&token));
        return Ok(first);
    }
    match need_token(internal, &plan, Some(token)).await {
        Ok(fresh) => {
            attach(&permit, request, &fresh)?;
            sent(&fresh);
            let mut second = exchange(client, request).await?;
            let note = if second.response.status == 401 {
                "The service refused a fresh token too (401); not retrying again. Check the audience and roles (T shows the token).".into()
            } else if let Some(note) = took_over(&fresh) {
                format!("The first answer was 401. {note}")
            } else {
                "The first answer was 401; fhirside got a new token and retried once.".into()
            };
            add_note(&mut second, note);
            Ok(second)
        }
        Err(e) => {
            let mut first = first;
            add_note(
                &mut first,
                format!("401, and getting a new token failed: {e}"),
            );
            Ok(first)
        }
    }
}

/// The token on the request, through the policy's permit.
fn attach(
    permit: &credentials::Permit,
    request: &mut HttpRequest,
    token: &str,
) -> Result<(), HttpError> {
    permit
        .attach(request, token)
        .map_err(|e| HttpError::Other(e.to_string()))
}

/// Hands a finished exchange to the history actor (which redacts it before writing). The body
/// is cut to the history's limit here, so a huge body is never copied whole.
pub(super) fn record_exchange(
    history: &history::HistoryHandle,
    meta: crate::history::RecordMeta,
    at_ms: i64,
    started: std::time::Instant,
    request: &HttpRequest,
    result: &Result<Box<Received>, HttpError>,
) {
    use crate::history::{Exchange, Outcome, Source};
    let outcome = match result {
        Err(HttpError::Cancelled) => return,
        Err(e) => Outcome::Failed {
            error: e.to_string(),
            elapsed_ms: started.elapsed().as_millis() as u64,
        },
        Ok(r) => {
            let max = history.limits().max_body_bytes();
            // A body spooled to disk is recorded from the start of its file.
            let (size, kept) = match &r.response.spool {
                Some(file) => {
                    let mut buf = vec![0u8; max.min(file.len() as usize)];
                    let n = file.read_at(&mut buf, 0).unwrap_or(0);
                    buf.truncate(n);
                    (file.len(), buf)
                }
                None => {
                    let body = &r.response.body;
                    let keep = body.len().min(max);
                    (body.len() as u64, body[..keep].to_vec())
                }
            };
            Outcome::Answered {
                status: r.response.status,
                reason: r.response.reason.clone(),
                headers: r.response.headers.clone(),
                elapsed_ms: r.response.elapsed.as_millis() as u64,
                truncated: (kept.len() as u64) < size,
                size,
                body: kept,
            }
        }
    };
    let mut secrets = meta.secrets;
    // The token that went out is a secret wherever else it turns up.
    for (k, v) in &request.headers {
        if k.eq_ignore_ascii_case("authorization")
            && let Some((_, credential)) = v.split_once(' ')
        {
            secrets.push(credential.trim().to_string());
        }
    }
    history.record(
        Exchange {
            at_ms,
            source: meta.source.unwrap_or(Source::Request),
            env: meta.env,
            saved: meta.saved,
            method: request.method.clone(),
            url: request.url.clone(),
            request_headers: request.headers.clone(),
            request_body: request.body.clone(),
            outcome,
        },
        secrets,
    );
}
