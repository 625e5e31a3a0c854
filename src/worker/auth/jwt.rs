//! Reading an access token offline, like a JWT decoder page: header, claims explained, and the
//! warnings that matter for a FHIR service. Nothing is sent anywhere; signatures are not checked.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::Value;

/// A decoded token.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub header: Value,
    pub claims: Value,
}

/// Decodes the header and payload of a JWT; `None` for opaque tokens.
pub fn decode(token: &str) -> Option<Decoded> {
    let mut parts = token.trim().split('.');
    let header = parts.next()?;
    let payload = parts.next()?;
    parts.next()?; // a JWT has a signature part, even if empty
    let dec = |s: &str| -> Option<Value> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    Some(Decoded {
        header: dec(header)?,
        claims: dec(payload)?,
    })
}

/// The `exp` of a JWT, for tokens that come without an `expires_in`.
pub fn expiry(token: &str) -> Option<SystemTime> {
    let claims = decode(token)?.claims;
    let exp = claims.get("exp")?;
    // A negative or fractional `exp` is read as well as it can be; a huge one saturates.
    let secs = exp
        .as_u64()
        .or_else(|| exp.as_i64().map(|_| 0))
        .or_else(|| exp.as_f64().map(|f| f.max(0.0) as u64))?;
    Some(crate::worker::time::from_unix_secs(secs))
}

/// What each common claim means, for the viewer.
pub fn explain_claim(name: &str) -> &'static str {
    match name {
        "aud" => "audience: the service this token is for",
        "iss" => "issuer: who signed it",
        "tid" => "tenant id",
        "oid" => "object id of the user or service principal",
        "appid" | "azp" => "client id of the app that asked for it",
        "roles" => "app roles granted (the FHIR data roles)",
        "scp" => "delegated scopes (user sign-in)",
        "iat" => "issued at",
        "nbf" => "not valid before",
        "exp" => "expires",
        "sub" => "subject",
        "upn" | "unique_name" | "preferred_username" => "user name",
        "name" => "display name",
        "ver" => "token version",
        "idp" => "identity provider",
        _ => "",
    }
}

/// Seconds-since-epoch claims shown as local time and relative to now.
pub fn time_claim(value: &Value, now: SystemTime) -> Option<String> {
    let secs = value.as_i64()?;
    let when = chrono::DateTime::from_timestamp(secs, 0)?.with_timezone(&chrono::Local);
    let now_secs = now.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    let delta = secs.saturating_sub(now_secs);
    let rel = if delta >= 0 {
        format!("in {}", human(delta.unsigned_abs()))
    } else {
        format!("{} ago", human(delta.unsigned_abs()))
    };
    Some(format!("{} ({rel})", when.format("%Y-%m-%d %H:%M:%S")))
}

pub fn human(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        3600..=86399 => format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60),
        _ => format!("{}d {}h", secs / 86400, (secs % 86400) / 3600),
    }
}

/// Problems worth a visible warning: wrong audience, no role or scope, expired, clock skew.
pub fn warnings(d: &Decoded, expected_audience: &str, now: SystemTime) -> Vec<String> {
    let mut out = Vec::new();
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    let auds: Vec<String> = match d.claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    if !expected_audience.is_empty() && !auds.iter().any(|a| norm(a) == norm(expected_audience)) {
        out.push(format!(
            "aud is {} but this environment's FHIR audience is {expected_audience}: the service will answer 401.",
            if auds.is_empty() { "missing".to_string() } else { auds.join(", ") }
        ));
    }
    let has_roles = d
        .claims
        .get("roles")
        .and_then(|r| r.as_array())
        .is_some_and(|a| !a.is_empty());
    let has_scp = d
        .claims
        .get("scp")
        .and_then(|s| s.as_str())
        .is_some_and(|s| !s.trim().is_empty());
    if !has_roles && !has_scp {
        out.push("The token carries no roles and no scp: the FHIR service will answer 403 (assign a FHIR data role).".into());
    }
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if let Some(exp) = d.claims.get("exp").and_then(|v| v.as_i64())
        && exp <= now_secs
    {
        out.push("The token has expired.".into());
    }
    if let Some(nbf) = d.claims.get("nbf").and_then(|v| v.as_i64())
        && nbf > now_secs + 300
    {
        out.push(
            "The token is not valid for another few minutes: this computer's clock may be behind."
                .into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn jwt(claims: &str) -> String {
        let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", e(r#"{"alg":"RS256","typ":"JWT"}"#), e(claims))
    }

    #[test]
    fn decodes_and_warns() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let t = jwt(r#"{"aud":"https://other.example","exp":999000,"tid":"t"}"#);
        let d = decode(&t).unwrap();
        assert_eq!(d.header["alg"], "RS256");
        let w = warnings(&d, "https://ws.fhir.azurehealthcareapis.com", now);
        assert!(w.iter().any(|x| x.contains("aud is https://other.example")));
        assert!(w.iter().any(|x| x.contains("no roles")));
        assert!(w.iter().any(|x| x.contains("expired")));
        let good = decode(&jwt(r#"{"aud":"https://ws.fhir.azurehealthcareapis.com/","roles":["FhirDataContributor"],"exp":2000000}"#)).unwrap();
        assert!(warnings(&good, "https://ws.fhir.azurehealthcareapis.com", now).is_empty());
        assert_eq!(expiry(&t), Some(UNIX_EPOCH + Duration::from_secs(999000)));
        assert!(decode("opaque-token").is_none());
        assert!(decode("a.b.c").is_none());
    }

    #[test]
    fn times_read_as_people_do() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(
            time_claim(&Value::from(1_000_060), now)
                .unwrap()
                .ends_with("(in 1m 00s)")
        );
        assert!(
            time_claim(&Value::from(999_000), now)
                .unwrap()
                .ends_with("(16m 40s ago)")
        );
        assert_eq!(human(3 * 3600 + 120), "3h 02m");
    }
}
