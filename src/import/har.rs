//! HAR (HTTP Archive 1.2) import: the requests a browser's developer tools or a proxy
//! recorded, one saved request each, in the recorded order.
//!
//! A HAR holds what really went over the wire, credentials included: `Authorization`,
//! cookies, API keys and secret-looking form or query fields become `{{variables}}` instead of
//! being written into the collection, and responses (often patient data) are not imported.
//! Each of these is reported.

use serde_json::Value;

use super::{ImportError, ImportReport, value_text};
use crate::workspace::{
    Collection, Folder, KeyValue, RequestAuth, RequestSpec, SavedRequest, looks_secret,
};

/// Headers the client sets by itself, or that HTTP/2 shows as pseudo-headers.
const DROPPED: [&str; 7] = [
    "host",
    "content-length",
    "connection",
    "accept-encoding",
    "te",
    "upgrade-insecure-requests",
    "priority",
];

/// Headers that carry credentials besides `Authorization` and cookies.
const CREDENTIAL_HEADERS: [&str; 6] = [
    "x-api-key",
    "api-key",
    "apikey",
    "ocp-apim-subscription-key",
    "x-functions-key",
    "proxy-authorization",
];

/// Imports a parsed HAR file; `file` names it (and the collection).
pub fn import_har(file: &str, v: &Value) -> Result<(Collection, ImportReport), ImportError> {
    let entries = v
        .get("log")
        .and_then(|l| l.get("entries"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ImportError::shape(
                file,
                "$.log.entries",
                "a HAR file lists its requests in log.entries",
            )
        })?;
    let name = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("HAR")
        .to_string();
    let mut root = Folder::titled(&name);
    let mut names = root.sibling_names();
    let mut report = ImportReport::default();
    let mut templated: Vec<String> = Vec::new();
    let mut cookies = 0usize;
    let mut responses = 0usize;
    for (i, e) in entries.iter().enumerate() {
        let at = format!("$.log.entries[{i}]");
        let Some(r) = e.get("request").and_then(Value::as_object) else {
            report
                .warnings
                .push(format!("{at} has no request; skipped"));
            continue;
        };
        if e.get("response").and_then(|r| r.get("content")).is_some() {
            responses += 1;
        }
        let method = r
            .get("method")
            .map(value_text)
            .unwrap_or_else(|| "GET".into());
        let full = r.get("url").map(value_text).unwrap_or_default();
        let base = full.split(['?', '#']).next().unwrap_or("").to_string();
        let last = base.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let label = format!("{} {last}", method.to_ascii_uppercase())
            .trim()
            .to_string();
        let mut spec = RequestSpec::new(&label, &method.to_ascii_uppercase(), &base);
        spec.seq = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match r.get("queryString").and_then(Value::as_array) {
            Some(q) => {
                for p in q {
                    let key = p.get("name").map(value_text).unwrap_or_default();
                    let value = p.get("value").map(value_text).unwrap_or_default();
                    spec.query.push(guard(&key, value, &mut templated));
                }
            }
            None => {
                let mut tmp = RequestSpec::new("", "GET", &full);
                tmp.split_query_from_url();
                for q in tmp.query {
                    let kv = guard(&q.key, q.value, &mut templated);
                    spec.query.push(kv);
                }
            }
        }
        for h in r
            .get("headers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = h.get("name").map(value_text).unwrap_or_default();
            let value = h.get("value").map(value_text).unwrap_or_default();
            let lower = key.to_ascii_lowercase();
            if key.is_empty() || key.starts_with(':') || DROPPED.contains(&lower.as_str()) {
                continue;
            }
            if lower == "cookie" {
                cookies += 1;
                continue;
            }
            if lower == "authorization" {
                let scheme = value
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                spec.auth = Some(match scheme.as_str() {
                    "bearer" => RequestAuth::Bearer {
                        token: "{{bearerToken}}".into(),
                    },
                    "basic" => RequestAuth::Basic {
                        username: "{{username}}".into(),
                        password: "{{password}}".into(),
                    },
                    _ => {
                        spec.headers.push(KeyValue::new(&key, "{{authorization}}"));
                        templated.push("authorization".into());
                        continue;
                    }
                });
                templated.push(format!("Authorization ({scheme})"));
                continue;
            }
            if CREDENTIAL_HEADERS.contains(&lower.as_str()) || looks_secret(&lower) {
                spec.headers
                    .push(KeyValue::new(&key, format!("{{{{{lower}}}}}")));
                templated.push(key.clone());
                continue;
            }
            spec.headers.push(KeyValue::new(&key, &value));
        }
        if let Some(pd) = r.get("postData").and_then(Value::as_object) {
            let mime = pd
                .get("mimeType")
                .map(value_text)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let text = pd.get("text").map(value_text).unwrap_or_default();
            let params = pd.get("params").and_then(Value::as_array);
            if mime.contains("x-www-form-urlencoded") || (params.is_some() && text.is_empty()) {
                let mut form = Vec::new();
                match params {
                    Some(ps) => {
                        for p in ps {
                            let key = p.get("name").map(value_text).unwrap_or_default();
                            let value = p.get("value").map(value_text).unwrap_or_default();
                            form.push(guard(&key, value, &mut templated));
                        }
                    }
                    None => {
                        for kv in super::curl::form_body(&text).form {
                            let kv = guard(&kv.key, kv.value, &mut templated);
                            form.push(kv);
                        }
                    }
                }
                spec.body = super::form_of(form);
            } else if !text.is_empty() {
                if mime.contains("multipart") {
                    report.warnings.push(format!(
                        "'{label}': a multipart body was kept as text; file parts are not sent as files"
                    ));
                }
                spec.body = super::body_for_media_type(&mime, text);
            }
        }
        let stem = names.allocate(&spec.name);
        root.requests.push(SavedRequest {
            file_stem: stem,
            spec,
        });
        report.imported += 1;
    }
    templated.sort();
    templated.dedup();
    if !templated.is_empty() {
        report.converted.push(format!(
            "credentials recorded in the HAR became variables to set in the environment (their recorded values were not imported): {}",
            templated.join(", ")
        ));
    }
    if cookies > 0 {
        report.warnings.push(format!(
            "{cookies} request{} carried cookies; they were not imported (fhirside does not send cookies)",
            if cookies == 1 { "" } else { "s" }
        ));
    }
    if responses > 0 {
        report.warnings.push(format!(
            "the {responses} recorded response{} (which may hold patient data) {} not imported",
            if responses == 1 { "" } else { "s" },
            if responses == 1 { "was" } else { "were" }
        ));
    }
    if report.imported == 0 {
        report.warnings.push("no requests found in the file".into());
    }
    Ok((
        Collection {
            root,
            ..Collection::default()
        },
        report,
    ))
}

/// A query or form field whose name looks like a credential keeps its name, and its value
/// becomes `{{name}}`.
fn guard(key: &str, value: String, templated: &mut Vec<String>) -> KeyValue {
    let lower = key.to_ascii_lowercase();
    let credential = looks_secret(&lower)
        || matches!(
            lower.as_str(),
            "code" | "code_verifier" | "sig" | "signature" | "key" | "client_assertion"
        );
    if credential && !value.is_empty() {
        templated.push(key.to_string());
        KeyValue::new(key, format!("{{{{{key}}}}}"))
    } else {
        KeyValue::new(key, value)
    }
}
