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

/// What each common claim means, for the viewer: standard OAuth2/SMART claims and Entra's.
pub fn explain_claim(name: &str) -> &'static str {
    match name {
        "aud" => "audience: the service this token is for",
        "iss" => "issuer: who signed it",
        "tid" => "tenant id",
        "oid" => "object id of the user or service principal (Entra)",
        "appid" => "client id of the app that asked for it",
        "azp" => "authorized party: client id of the app that asked for it",
        "client_id" => "client id of the app that asked for it (OAuth2 / SMART)",
        "roles" => "app roles granted (Entra: the FHIR data roles)",
        "scp" => "delegated scopes (Entra user sign-in)",
        "scope" => "granted scopes (OAuth2 / SMART, e.g. system/*.read)",
        "fhirUser" => "the signed-in user's FHIR resource (SMART)",
        "patient" => "the patient in context (SMART launch)",
        "jti" => "unique id of this token",
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

/// What the token is checked against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// The environment's FHIR audience (empty: not checked).
    pub audience: String,
    /// The environment signs in with Entra ID, so Azure's rules are certainties rather than
    /// "Azure would …".
    pub entra: bool,
}

/// Whether a token looks issued by Entra ID (for callers that do not know the environment).
pub fn looks_entra(d: &Decoded) -> bool {
    let iss = d.claims.get("iss").and_then(Value::as_str).unwrap_or("");
    d.claims.get("tid").is_some()
        || iss.contains("sts.windows.net")
        || iss.contains("login.microsoftonline")
}

/// One line of the token viewer, as the TUI and `fhirside token` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewLine {
    /// A heading ("Header", "Claims").
    Section(String),
    /// A name, its value (times made readable) and what it means.
    Field {
        name: String,
        value: String,
        explain: String,
    },
    Warning(String),
    /// All checks passed.
    Fine(String),
    Note(String),
    Blank,
}

/// The whole viewer: warnings first, then header and claims explained. Pure, so both the TUI
/// and the CLI show the same thing.
pub fn describe(token: &str, expect: &Expectations, now: SystemTime) -> Vec<ViewLine> {
    let mut out = Vec::new();
    let Some(d) = decode(token) else {
        out.push(ViewLine::Note(format!(
            "This token is not a JWT (an opaque token of {} characters): nothing to decode.",
            token.trim().chars().count()
        )));
        return out;
    };
    let warns = warnings_in(&d, expect, now);
    if warns.is_empty() {
        out.push(ViewLine::Fine(
            "audience matches, roles or scopes present, not expired".into(),
        ));
    }
    out.extend(warns.into_iter().map(ViewLine::Warning));
    let fields = |title: &str, v: &Value, out: &mut Vec<ViewLine>| {
        out.push(ViewLine::Blank);
        out.push(ViewLine::Section(title.into()));
        for (k, v) in v.as_object().into_iter().flatten() {
            let value = if matches!(k.as_str(), "iat" | "nbf" | "exp" | "auth_time") {
                time_claim(v, now).unwrap_or_else(|| v.to_string())
            } else {
                match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }
            };
            out.push(ViewLine::Field {
                name: k.clone(),
                value,
                explain: if title == "Claims" {
                    explain_claim(k).to_string()
                } else {
                    String::new()
                },
            });
        }
    };
    fields("Header", &d.header, &mut out);
    fields("Claims", &d.claims, &mut out);
    out.push(ViewLine::Blank);
    out.push(ViewLine::Note(
        "Decoded here, offline; the signature is not checked.".into(),
    ));
    out
}

/// The viewer's lines as plain text (for the command line).
pub fn describe_text(lines: &[ViewLine]) -> String {
    let mut s = String::new();
    for l in lines {
        match l {
            ViewLine::Section(t) => s.push_str(t),
            ViewLine::Field {
                name,
                value,
                explain,
            } => {
                s.push_str(&format!("  {name:<19} {value}"));
                if !explain.is_empty() {
                    s.push_str(&format!("   ({explain})"));
                }
            }
            ViewLine::Warning(w) => s.push_str(&format!("warning: {w}")),
            ViewLine::Fine(t) => s.push_str(&format!("ok: {t}")),
            ViewLine::Note(t) => s.push_str(t),
            ViewLine::Blank => {}
        }
        s.push('\n');
    }
    s
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

/// Problems worth a visible warning, judging by the token alone whether Entra's rules apply.
pub fn warnings(d: &Decoded, expected_audience: &str, now: SystemTime) -> Vec<String> {
    let expect = Expectations {
        audience: expected_audience.to_string(),
        entra: looks_entra(d),
    };
    warnings_in(d, &expect, now)
}

/// Problems worth a visible warning: audience, permissions, expiry, clock skew. Entra's
/// expectations are certainties only when the environment is Entra; elsewhere they are worded
/// as Azure's ("Azure would answer 403"), since a SMART or other OAuth2 server has its own rules.
pub fn warnings_in(d: &Decoded, expect: &Expectations, now: SystemTime) -> Vec<String> {
    let mut out = Vec::new();
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    let aud = d.claims.get("aud");
    let auds: Vec<String> = match aud {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let expected = &expect.audience;
    if !expected.is_empty() {
        if aud.is_none() {
            out.push(if expect.entra {
                format!("The token has no aud claim: the FHIR service expects {expected} and will answer 401.")
            } else {
                format!("The token has no aud claim; whether the server accepts it is up to the server (Azure would answer 401; this environment's FHIR audience is {expected}).")
            });
        } else if !auds.iter().any(|a| norm(a) == norm(expected)) {
            out.push(if expect.entra {
                format!("aud is {} but this environment's FHIR audience is {expected}: the service will answer 401.", auds.join(", "))
            } else {
                format!("aud is {}, not this environment's FHIR audience {expected}: a server that checks the audience will answer 401 (Azure does).", auds.join(", "))
            });
        }
    }
    let non_empty_list = |v: Option<&Value>| match v {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::String(s)) => !s.trim().is_empty(),
        _ => false,
    };
    let has_roles = non_empty_list(d.claims.get("roles"));
    let has_scp = non_empty_list(d.claims.get("scp"));
    let has_scope = non_empty_list(d.claims.get("scope"));
    if !has_roles && !has_scp {
        if expect.entra {
            out.push("The token carries no roles and no scp: the FHIR service will answer 403 (assign a FHIR data role).".into());
        } else if !has_scope {
            out.push("The token carries no scope, scp or roles claim: the server may refuse it (Azure would answer 403).".into());
        }
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
        && nbf > now_secs.saturating_add(300)
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

    /// Before: a SMART token with a `scope` claim was warned "no roles and no scp: the FHIR
    /// service will answer 403", and a missing `aud` was a certainty.
    #[test]
    fn smart_and_oauth2_tokens_are_judged_by_their_own_rules() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let smart = decode(&jwt(
            r#"{"iss":"https://ehr.example/auth","client_id":"app","scope":"system/*.read","exp":2000000}"#,
        ))
        .unwrap();
        let w = warnings(&smart, "https://ehr.example/fhir", now);
        assert!(!w.iter().any(|x| x.contains("403")), "{w:?}");
        assert!(
            w.iter()
                .any(|x| x.contains("no aud") && x.contains("up to the server")),
            "{w:?}"
        );
        let bare = decode(&jwt(
            r#"{"iss":"https://x","aud":"https://ehr.example/fhir","exp":2000000}"#,
        ))
        .unwrap();
        let w = warnings(&bare, "https://ehr.example/fhir", now);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("Azure would answer 403"), "{w:?}");
        // In an Entra environment the same token gets Entra's certainty.
        let w = warnings_in(
            &bare,
            &Expectations {
                audience: "https://ehr.example/fhir".into(),
                entra: true,
            },
            now,
        );
        assert!(w[0].contains("will answer 403"), "{w:?}");
        // The shared viewer explains SMART's claims.
        let lines = describe(
            &jwt(r#"{"scope":"system/*.read","fhirUser":"Practitioner/1","client_id":"c"}"#),
            &Expectations::default(),
            now,
        );
        let text = describe_text(&lines);
        assert!(text.contains("granted scopes"), "{text}");
        assert!(text.contains("signed-in user's FHIR resource"), "{text}");
        assert!(text.contains("Header") && text.contains("Claims"), "{text}");
        assert!(
            describe_text(&describe("opaque", &Expectations::default(), now)).contains("not a JWT")
        );
    }
}
