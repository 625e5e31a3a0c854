//! A SMART Backend Services token endpoint (`POST /smart/token`) and its discovery document
//! (`/.well-known/smart-configuration`), for clients that sign in with a signed assertion and a
//! JWKS registered for their client id (`DemoOptions::smart_clients`). Checks and wording follow
//! the SMART reference servers (smart-on-fhir/bulk-data-server `token_handler.js`,
//! smart-launcher's error table): RS384/ES384, `kid` in the registered JWKS, `iss` = `sub` = the
//! client id, `aud` = this URL, `exp` at most five minutes ahead, a `jti` never seen before,
//! `system/` scopes. Tokens it issues are accepted by the demo FHIR service.

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::util::{new_guid, parse_query, unix_now};
use super::{AppState, auth};

/// The issuer of the tokens this endpoint makes (`{base}/smart`).
pub(super) fn issuer(st: &AppState) -> String {
    format!("{}/smart", st.base)
}

/// Assertion ids already used (a replayed assertion is refused).
#[derive(Debug, Default)]
pub(super) struct SmartState {
    seen_jti: HashSet<String>,
}

/// Whether the FHIR service takes a token this endpoint issued: it must carry a system scope.
pub(super) fn authorizes(st: &AppState, claims: &Value) -> Option<bool> {
    let iss = claims.get("iss").and_then(Value::as_str)?;
    (iss == issuer(st)).then(|| {
        claims
            .get("scope")
            .and_then(Value::as_str)
            .is_some_and(|s| s.split_whitespace().any(|x| x.starts_with("system/")))
    })
}

fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        json!({"error": error, "error_description": description.into()}).to_string(),
    )
        .into_response()
}

fn invalid_client(description: impl Into<String>) -> Response {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description)
}

async fn token(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    let form: std::collections::HashMap<String, String> =
        parse_query(&String::from_utf8_lossy(&body))
            .into_iter()
            .collect();
    let get = |k: &str| form.get(k).map(String::as_str).filter(|s| !s.is_empty());
    if get("grant_type") != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant_type parameter should equal 'client_credentials'",
        );
    }
    let Some(kind) = get("client_assertion_type") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing \"client_assertion_type\" parameter",
        );
    };
    if kind != crate::worker::auth::assertion::ASSERTION_TYPE {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid client_assertion_type parameter. Must be \"urn:ietf:params:oauth:client-assertion-type:jwt-bearer\".",
        );
    }
    let Some(assertion) = get("client_assertion") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing \"client_assertion\" parameter. Must be a JWT.",
        );
    };
    let (Ok(header), Some(unverified)) = (
        jsonwebtoken::decode_header(assertion),
        crate::worker::auth::jwt::decode(assertion),
    ) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid \"client_assertion\" parameter. Must be a JWT.",
        );
    };
    let claim = |k: &str| {
        unverified
            .claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (iss, sub) = (claim("iss"), claim("sub"));
    if iss != sub {
        return invalid_client(format!(
            "The given service url '{iss}' does not match the registered '{sub}'"
        ));
    }
    let Some((_, jwks)) = st.opts.smart_clients.iter().find(|(id, _)| *id == sub) else {
        return invalid_client(format!(
            "Unknown client '{sub}': no JWKS is registered for it."
        ));
    };
    use jsonwebtoken::Algorithm;
    if !matches!(header.alg, Algorithm::RS384 | Algorithm::ES384) {
        return invalid_client(format!(
            "Unsupported signing algorithm {:?}: use RS384 or ES384.",
            header.alg
        ));
    }
    let kid = header.kid.clone().unwrap_or_default();
    let keys = super::client_assertion::jwks_keys(jwks, &kid);
    if keys.is_empty() {
        return invalid_client(format!(
            "No public keys found in the JWKS with \"kid\" equal to \"{kid}\""
        ));
    }
    let verified = keys.iter().find_map(|(key, alg)| {
        let fits = alg
            .as_deref()
            .is_none_or(|a| a == format!("{:?}", header.alg));
        fits.then(|| super::client_assertion::verify_with(assertion, header.alg, key))
            .flatten()
    });
    let Some(claims) = verified else {
        return invalid_client(
            "Unable to verify the token with any of the public keys found in the JWKS",
        );
    };
    let url = format!("{}/smart/token", st.base);
    if claims.get("aud").and_then(Value::as_str) != Some(url.as_str()) {
        return invalid_client(format!("Invalid token 'aud' value. Must be '{url}'."));
    }
    let now = unix_now();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now {
        return invalid_client("Registration token expired");
    }
    if exp > now + 300 {
        return invalid_client(
            "Invalid token 'exp' value: no more than five minutes in the future.",
        );
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    {
        let mut s = st.smart.lock().unwrap_or_else(|e| e.into_inner());
        if jti.is_empty() || !s.seen_jti.insert(jti) {
            return invalid_client("Invalid 'jti' value");
        }
    }
    let scope = get("scope").unwrap_or("").to_string();
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if scopes.is_empty() || !scopes.iter().all(|s| s.starts_with("system/")) {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "invalid_scope",
            format!("Invalid scope: \"{scope}\""),
        );
    }
    let ttl = (st.opts.token_ttl.as_secs() as i64).max(1);
    let access = auth::sign(
        &st.key,
        &json!({
            "iss": issuer(&st), "aud": st.base, "sub": sub, "client_id": sub,
            "scope": scope, "iat": now, "exp": now + ttl, "jti": new_guid(),
        }),
    );
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        json!({"token_type": "bearer", "scope": scope, "expires_in": ttl, "access_token": access})
            .to_string(),
    )
        .into_response()
}

async fn configuration(State(st): State<Arc<AppState>>) -> Response {
    axum::Json(json!({
        "token_endpoint": format!("{}/smart/token", st.base),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": ["system/*.read", "system/*.rs", "system/*.*"],
        "capabilities": ["client-confidential-asymmetric"],
    }))
    .into_response()
}

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/smart/token", post(token))
        .route("/.well-known/smart-configuration", get(configuration))
}
