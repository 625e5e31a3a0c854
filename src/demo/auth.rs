//! Hand-rolled HS256 JWTs (signing for the token endpoints, validation for
//! the FHIR side) and the bearer check that guards every FHIR route.

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::outcome::FhirError;
use super::{AppState, DEMO_DATA_ROLE, DEMO_TENANT_ID, DEMO_USER_OID};

type HmacSha256 = Hmac<Sha256>;

/// Allowed clock skew for `nbf`/`exp`, in seconds.
const SKEW_SECS: i64 = 1;

pub(super) fn sign(key: &[u8], claims: &Value) -> String {
    let header = json!({"typ": "JWT", "alg": "HS256", "kid": "fhirside-demo"});
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{h}.{c}");
    let sig = match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(signing_input.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("{signing_input}.{sig}")
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum JwtError {
    Malformed,
    BadSignature,
    Expired,
    NotYetValid,
}

/// Verifies signature and lifetime; returns the claims.
pub(super) fn verify(key: &[u8], token: &str, now: i64) -> Result<Value, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwtError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwtError::BadSignature);
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| JwtError::BadSignature)?;
    mac.update(format!("{h}.{c}").as_bytes());
    mac.verify_slice(&sig).map_err(|_| JwtError::BadSignature)?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwtError::Malformed)?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(JwtError::Malformed)?;
    if now >= exp + SKEW_SECS {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64)
        && nbf > now + SKEW_SECS
    {
        return Err(JwtError::NotYetValid);
    }
    Ok(claims)
}

fn unauthorized(st: &AppState) -> FhirError {
    FhirError::new(StatusCode::UNAUTHORIZED, "login", "Authentication failed.").with_header(
        header::WWW_AUTHENTICATE,
        format!(
            "Bearer authorization_uri=\"{}/{}\", resource_id=\"{}\", realm=\"{}\"",
            st.authority, DEMO_TENANT_ID, st.base, st.base
        ),
    )
}

/// Checks `Authorization: Bearer …` like the Azure FHIR service: signature,
/// lifetime, issuer/tenant, audience (401), then the data-plane role (403).
pub(super) fn check_bearer(st: &AppState, headers: &HeaderMap) -> Result<(), FhirError> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized(st))?;
    let token = match raw.split_once(' ') {
        Some((scheme, tok)) if scheme.eq_ignore_ascii_case("bearer") => tok.trim(),
        _ => return Err(unauthorized(st)),
    };
    let claims = verify(&st.key, token, super::util::unix_now()).map_err(|_| unauthorized(st))?;
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
    if aud.trim_end_matches('/') != st.base {
        return Err(unauthorized(st));
    }
    // Tokens of the SMART Backend Services endpoint carry system scopes instead of roles.
    if let Some(ok) = super::smart::authorizes(st, &claims) {
        return match ok {
            true => Ok(()),
            false => Err(FhirError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Authorization failed.",
            )),
        };
    }
    let tid = claims.get("tid").and_then(Value::as_str).unwrap_or("");
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let v1_iss = format!("https://sts.windows.net/{DEMO_TENANT_ID}/");
    let v2_iss = format!("{}/{}/v2.0", st.authority, DEMO_TENANT_ID);
    if tid != DEMO_TENANT_ID || (iss != v1_iss && iss != v2_iss) {
        return Err(unauthorized(st));
    }
    let has_role = claims
        .get("roles")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(DEMO_DATA_ROLE)));
    // User tokens carry `scp`; the demo user has the data role assigned
    // through (simulated) Azure RBAC, which is checked by object id.
    let user_ok = claims.get("scp").and_then(Value::as_str).is_some()
        && claims.get("oid").and_then(Value::as_str) == Some(DEMO_USER_OID);
    if !(has_role || user_ok) {
        return Err(FhirError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Authorization failed.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = [7u8; 32];
        let tok = sign(&key, &json!({"exp": 2000, "nbf": 1000, "aud": "x"}));
        assert!(verify(&key, &tok, 1500).is_ok());
        assert_eq!(verify(&key, &tok, 2001), Err(JwtError::Expired));
        assert!(verify(&key, &tok, 2000).is_ok());
        assert_eq!(verify(&key, &tok, 500), Err(JwtError::NotYetValid));
        assert_eq!(verify(&[8u8; 32], &tok, 1500), Err(JwtError::BadSignature));
        assert_eq!(verify(&key, "abc", 1500), Err(JwtError::Malformed));
        let mut parts: Vec<&str> = tok.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"exp": 9999, "aud": "x"}).to_string());
        parts[1] = &forged;
        assert_eq!(
            verify(&key, &parts.join("."), 1500),
            Err(JwtError::BadSignature)
        );
    }
}
