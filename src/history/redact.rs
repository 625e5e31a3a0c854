//! Removing credentials from an exchange before it is written: secret values the sender knows,
//! credential headers, credential query and form parameters, and token fields in JSON bodies
//! (a token endpoint's answer, a client-credentials form). Works on truncated text too.

use super::{Exchange, Outcome};
use crate::workspace::looks_secret;

/// What stands in for a removed value.
pub const REDACTED: &str = "<redacted>";

/// Headers whose whole value is a credential.
pub fn sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key" | "api-key"
    ) || looks_secret(&n)
}

/// Query and form parameters whose value is a credential.
fn credential_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    looks_secret(&n)
        || matches!(
            n.as_str(),
            "code"
                | "code_verifier"
                | "client_assertion"
                | "assertion"
                | "device_code"
                | "sig"
                | "signature"
                | "x-amz-signature"
                | "x-amz-credential"
                | "x-amz-security-token"
                | "x-goog-signature"
                | "x-goog-credential"
        )
}

/// JSON keys whose string value is a credential. Narrower than parameters: FHIR uses `code`.
fn credential_key(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    // `token_type`, `token_endpoint`, `revocation_token_url`: names about tokens, not tokens.
    let describes = ["_type", "_endpoint", "_url", "_uri", "_types_supported"]
        .iter()
        .any(|s| n.ends_with(s));
    (looks_secret(&n) && !describes)
        || matches!(
            n.as_str(),
            "code_verifier" | "client_assertion" | "device_code"
        )
}

/// Replaces every known secret value (and its URL-encoded spelling) in `text`.
pub fn replace_secrets(text: &str, secrets: &[String]) -> String {
    let mut s = text.to_string();
    for secret in secrets.iter().filter(|x| x.len() >= 4) {
        if s.contains(secret.as_str()) {
            s = s.replace(secret.as_str(), REDACTED);
        }
        let encoded: String =
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        if encoded != *secret && s.contains(&encoded) {
            s = s.replace(&encoded, REDACTED);
        }
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if form != *secret && s.contains(&form) {
            s = s.replace(&form, REDACTED);
        }
    }
    s
}

/// `a=b&c=d` with credential values replaced; `None` when `text` does not look like a form.
fn redact_form(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.contains(['\n', ' ', '{', '<']) || !text.contains('=') {
        return None;
    }
    let mut changed = false;
    let parts: Vec<String> = text
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if credential_param(&decode(k)) => {
                changed = true;
                format!("{k}={REDACTED}")
            }
            _ => pair.to_string(),
        })
        .collect();
    Some(if changed {
        parts.join("&")
    } else {
        text.to_string()
    })
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("{s}=").as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// The URL with credential query values replaced (and known secrets anywhere in it).
pub fn redact_url(url: &str, secrets: &[String]) -> String {
    let url = replace_secrets(url, secrets);
    let Some((base, rest)) = url.split_once('?') else {
        return url;
    };
    let (query, fragment) = match rest.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (rest, None),
    };
    let query = redact_form(query).unwrap_or_else(|| query.to_string());
    match fragment {
        Some(f) => format!("{base}?{query}#{f}"),
        None => format!("{base}?{query}"),
    }
}

/// Replaces the string value after every `"key":` whose key is a credential. A scan, not a
/// parse, so it also works on bodies cut short and on huge ones.
pub fn redact_json_fields(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        // A string: find its end.
        let start = i + 1;
        let mut j = start;
        while j < bytes.len() && bytes[j] != b'"' {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        if j >= bytes.len() {
            break;
        }
        let key = &text[start..j];
        let mut k = j + 1;
        while k < bytes.len() && bytes[k].is_ascii_whitespace() {
            k += 1;
        }
        if k < bytes.len() && bytes[k] == b':' && credential_key(key) {
            k += 1;
            while k < bytes.len() && bytes[k].is_ascii_whitespace() {
                k += 1;
            }
            if k < bytes.len() && bytes[k] == b'"' {
                let vstart = k + 1;
                let mut v = vstart;
                while v < bytes.len() && bytes[v] != b'"' {
                    v += if bytes[v] == b'\\' { 2 } else { 1 };
                }
                out.push_str(&text[copied..vstart]);
                out.push_str(REDACTED);
                copied = v.min(bytes.len());
                i = v.saturating_add(1);
                continue;
            }
        }
        i = j + 1;
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

/// A body with secrets, form credentials and JSON token fields removed. Binary bodies are kept
/// as they are, apart from known secret values.
pub fn redact_body(body: &[u8], secrets: &[String]) -> Vec<u8> {
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            // Valid up to a point (a body cut mid-character, or binary): redact the text part.
            let valid = e.valid_up_to();
            if valid < body.len().saturating_sub(4) {
                return body.to_vec();
            }
            let mut out = redact_body(&body[..valid], secrets);
            out.extend_from_slice(&body[valid..]);
            return out;
        }
    };
    let text = replace_secrets(text, secrets);
    let text = match redact_form(&text) {
        Some(form) => form,
        None => redact_json_fields(&text),
    };
    text.into_bytes()
}

fn redact_headers(headers: &mut [(String, String)], secrets: &[String]) {
    for (k, v) in headers.iter_mut() {
        if sensitive_header(k) {
            // Keep the scheme: "Bearer <redacted>" still says what kind of credential it was.
            *v = match v.split_once(' ') {
                Some((scheme, _)) if !scheme.is_empty() && scheme.len() < 16 => {
                    format!("{scheme} {REDACTED}")
                }
                _ => REDACTED.to_string(),
            };
        } else {
            *v = replace_secrets(v, secrets);
        }
    }
}

/// Removes every credential from `x`; nothing else may be written to history.
pub fn redact_exchange(x: &mut Exchange, secrets: &[String]) {
    x.url = redact_url(&x.url, secrets);
    redact_headers(&mut x.request_headers, secrets);
    if let Some(b) = &x.request_body {
        x.request_body = Some(redact_body(b, secrets));
    }
    match &mut x.outcome {
        Outcome::Answered { headers, body, .. } => {
            redact_headers(headers, secrets);
            *body = redact_body(body, secrets);
        }
        Outcome::Failed { error, .. } => *error = replace_secrets(error, secrets),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn secrets_and_their_encodings_are_replaced() {
        let secrets = s(&["p@ss w0rd/x"]);
        let t = "a p@ss w0rd/x b p%40ss%20w0rd%2Fx c p%40ss+w0rd%2Fx";
        let r = replace_secrets(t, &secrets);
        assert!(!r.contains("w0rd"), "{r}");
        assert_eq!(r.matches(REDACTED).count(), 3);
    }

    #[test]
    fn form_credentials_are_replaced_and_others_kept() {
        let body = b"grant_type=client_credentials&client_id=abc&client_secret=s3cr3t&resource=https%3A%2F%2Ffhir";
        let r = String::from_utf8(redact_body(body, &[])).unwrap();
        assert_eq!(
            r,
            "grant_type=client_credentials&client_id=abc&client_secret=<redacted>&resource=https%3A%2F%2Ffhir"
        );
        let r = String::from_utf8(redact_body(b"code=xyz&code_verifier=v&x=1", &[])).unwrap();
        assert_eq!(r, "code=<redacted>&code_verifier=<redacted>&x=1");
    }

    #[test]
    fn json_token_fields_are_replaced_but_fhir_codes_kept() {
        let body = br#"{"token_type":"Bearer","access_token":"eyJ.a\"b.c","refresh_token": "rt","code":{"coding":[{"code":"1234-5"}]},"expires_in":3599}"#;
        let r = String::from_utf8(redact_body(body, &[])).unwrap();
        assert!(r.contains(r#""access_token":"<redacted>""#), "{r}");
        assert!(r.contains(r#""refresh_token": "<redacted>""#), "{r}");
        assert!(r.contains(r#""code":"1234-5""#), "{r}");
        assert!(r.contains(r#""token_type":"Bearer""#), "{r}");
        assert!(!r.contains("eyJ"), "{r}");
    }

    #[test]
    fn json_scan_survives_truncation() {
        for cut in 0..40 {
            let body = &br#"{"access_token":"abcdefghijklmnop","x":1}"#[..cut];
            let r = redact_body(body, &[]);
            let t = String::from_utf8_lossy(&r);
            assert!(!t.contains("abcdefghijklmnop"), "cut {cut}: {t}");
        }
    }

    #[test]
    fn urls_lose_credential_params() {
        let r = redact_url(
            "https://x/cb?code=abc&state=s&sig=zz#frag",
            &s(&["nothing-here"]),
        );
        assert_eq!(
            r,
            "https://x/cb?code=<redacted>&state=s&sig=<redacted>#frag"
        );
        assert_eq!(
            redact_url("https://x/Patient?name=code", &[]),
            "https://x/Patient?name=code"
        );
    }

    #[test]
    fn exchange_redaction_covers_every_part() {
        let secret = "topsecretvalue".to_string();
        let mut x = Exchange {
            at_ms: 0,
            source: super::super::Source::Request,
            env: None,
            saved: None,
            method: "POST".into(),
            url: format!("https://x/token?k={secret}"),
            request_headers: vec![
                ("Authorization".into(), "Bearer eyJtoken".into()),
                ("X-Note".into(), format!("has {secret}")),
            ],
            request_body: Some(format!("client_secret={secret}").into_bytes()),
            outcome: Outcome::Answered {
                status: 200,
                reason: "OK".into(),
                headers: vec![("Set-Cookie".into(), "a=b".into())],
                elapsed_ms: 1,
                size: 10,
                body: format!(r#"{{"echo":"{secret}"}}"#).into_bytes(),
                truncated: false,
            },
        };
        redact_exchange(&mut x, std::slice::from_ref(&secret));
        let all = format!("{x:?}");
        assert!(!all.contains(&secret), "{all}");
        assert!(!all.contains("eyJtoken"), "{all}");
        assert_eq!(x.request_headers[0].1, "Bearer <redacted>");
    }

    #[test]
    fn binary_bodies_are_kept() {
        let b = vec![0xff, 0xfe, 0, 1, 2, 3, 4, 5, 6, 7];
        assert_eq!(redact_body(&b, &[]), b);
    }
}
