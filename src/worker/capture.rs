//! Capture rules: after a successful response, take values from the body (a small JSON path:
//! `$.a.b[0].c`, `$["a"]`) or a header into variables — the desktop clients' test-script idiom as data.

use serde_json::Value;

use super::http::HttpResponse;
use crate::workspace::{Capture, CaptureSource};

/// What one capture rule did, to show after the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureOutcome {
    Set { variable: String, value: String },
    Missing { rule: String, reason: String },
}

/// Runs the rules against a response. Only 2xx responses capture.
pub fn apply(rules: &[Capture], resp: &HttpResponse) -> Vec<CaptureOutcome> {
    if rules.is_empty() {
        return Vec::new();
    }
    if !resp.is_success() {
        return rules
            .iter()
            .map(|r| CaptureOutcome::Missing {
                rule: r.to_string(),
                reason: format!("not run: the response was {}", resp.status),
            })
            .collect();
    }
    let json: Option<Value> = serde_json::from_slice(&resp.body).ok();
    rules
        .iter()
        .map(|rule| {
            let found = match rule.source {
                CaptureSource::Header => resp.header(&rule.path).map(str::to_string),
                CaptureSource::Body => json.as_ref().and_then(|j| {
                    select(j, &rule.path).and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Null => None,
                        other => Some(other.to_string()),
                    })
                }),
            };
            match found {
                Some(value) => CaptureOutcome::Set {
                    variable: rule.variable.clone(),
                    value,
                },
                None => CaptureOutcome::Missing {
                    rule: rule.to_string(),
                    reason: if json.is_none() && rule.source == CaptureSource::Body {
                        "the body is not JSON".into()
                    } else {
                        "nothing there".into()
                    },
                },
            }
        })
        .collect()
}

/// Follows a simple JSON path: `$`, `.name`, `["name"]`, `[index]`. A leading `$` is optional.
pub fn select<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = root;
    let p = path.trim();
    let mut rest = p.strip_prefix('$').unwrap_or(p);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            if key.is_empty() {
                return None;
            }
            cur = cur.get(key)?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim();
            cur = if let Ok(i) = inner.parse::<usize>() {
                cur.get(i)?
            } else {
                let key = inner.trim_matches(|c| c == '"' || c == '\'');
                cur.get(key)?
            };
            rest = &r[end + 1..];
        } else {
            // Bare first segment: "a.b" means "$.a.b".
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            cur = cur.get(&rest[..end])?;
            rest = &rest[end..];
        }
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn paths() {
        let v = json!({"entry":[{"resource":{"id":"a"}},{"resource":{"id":"b","n":3}}],"access_token":"t"});
        assert_eq!(select(&v, "$.access_token"), Some(&json!("t")));
        assert_eq!(select(&v, "access_token"), Some(&json!("t")));
        assert_eq!(select(&v, "$.entry[1].resource.id"), Some(&json!("b")));
        assert_eq!(
            select(&v, "$['entry'][0][\"resource\"].id"),
            Some(&json!("a"))
        );
        assert_eq!(select(&v, "$.entry[9]"), None);
        assert_eq!(select(&v, "$..x"), None);
        assert_eq!(select(&v, "$.entry[1"), None);
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            spool: None,
            status,
            reason: String::new(),
            version: String::new(),
            headers: vec![("Content-Location".into(), "http://x/op/1".into())],
            body: body.as_bytes().to_vec().into(),
            elapsed: Duration::ZERO,
            final_url: String::new(),
        }
    }

    #[test]
    fn captures_only_on_success() {
        let rules = vec![
            Capture {
                variable: "bearerToken".into(),
                source: CaptureSource::Body,
                path: "$.access_token".into(),
            },
            Capture {
                variable: "poll".into(),
                source: CaptureSource::Header,
                path: "content-location".into(),
            },
        ];
        let ok = apply(
            &rules,
            &resp(200, r#"{"access_token":"abc","expires_in":"3599"}"#),
        );
        assert_eq!(
            ok[0],
            CaptureOutcome::Set {
                variable: "bearerToken".into(),
                value: "abc".into()
            }
        );
        assert_eq!(
            ok[1],
            CaptureOutcome::Set {
                variable: "poll".into(),
                value: "http://x/op/1".into()
            }
        );
        let bad = apply(&rules, &resp(401, "{}"));
        assert!(matches!(bad[0], CaptureOutcome::Missing { .. }));
    }
}
