//! A request's parts: the URL (raw or from parts, path variables), the body, the headers and saved examples.

use serde_json::{Map, Value};

use super::{Ctx, disabled};
use crate::import::value_text;
use crate::workspace::{Body, BodyKind, Example, KeyValue, RequestSpec};

impl Ctx {
    pub(super) fn url(&mut self, spec: &mut RequestSpec, u: Option<&Value>, label: &str, at: &str) {
        let Some(u) = u else { return };
        match u {
            Value::String(s) => {
                spec.url = s.trim().to_string();
                spec.split_query_from_url();
            }
            Value::Object(o) => {
                let raw = o.get("raw").and_then(Value::as_str).map(str::trim);
                let base = match raw {
                    Some(raw) => raw
                        .split_once('?')
                        .map(|(b, _)| b)
                        .unwrap_or(raw)
                        .to_string(),
                    None => url_from_parts(o),
                };
                spec.url = base.trim().to_string();
                match o.get("query") {
                    Some(Value::Array(q)) => {
                        for p in q {
                            let Some(p) = p.as_object() else { continue };
                            let key = p.get("key").map(value_text).unwrap_or_default();
                            let value = p.get("value").map(value_text).unwrap_or_default();
                            if key.is_empty() && value.is_empty() {
                                continue;
                            }
                            spec.query.push(KeyValue {
                                key,
                                value,
                                enabled: !disabled(p),
                            });
                        }
                    }
                    _ => {
                        if let Some(raw) = raw
                            && let Some((_, q)) = raw.split_once('?')
                        {
                            let mut tmp = RequestSpec::new("", "GET", &format!("?{q}"));
                            tmp.split_query_from_url();
                            spec.query = tmp.query;
                        }
                    }
                }
                if let Some(Value::Array(vars)) = o.get("variable") {
                    for v in vars {
                        let Some(v) = v.as_object() else { continue };
                        let Some(key) = v.get("key").or_else(|| v.get("id")).map(value_text) else {
                            continue;
                        };
                        if key.is_empty() {
                            continue;
                        }
                        let value = v.get("value").map(value_text).unwrap_or_default();
                        let (url, found) = path_variable_to_template(&spec.url, &key);
                        if !found {
                            continue;
                        }
                        spec.url = url;
                        // `:id` whose value is `{{id}}` just means "the variable id".
                        if value.trim() == format!("{{{{{key}}}}}") {
                            continue;
                        }
                        if value.is_empty() {
                            self.warn(format!(
                                "'{label}': path variable :{key} has no value; it became {{{{{key}}}}}, to set in the environment"
                            ));
                            continue;
                        }
                        spec.variables.retain(|x| x.key != key);
                        spec.variables.push(KeyValue {
                            key,
                            value,
                            enabled: !disabled(v),
                        });
                    }
                }
            }
            Value::Null => {}
            _ => self.warn(format!(
                "{at} is neither text nor an object; URL left empty"
            )),
        }
    }

    pub(super) fn body(&mut self, b: Option<&Value>, headers: &[KeyValue], label: &str) -> Body {
        let Some(Value::Object(b)) = b else {
            return Body::default();
        };
        let mode = b
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or(if b.contains_key("raw") { "raw" } else { "" });
        match mode {
            "raw" => {
                let text = b.get("raw").map(value_text).unwrap_or_default();
                if text.is_empty() {
                    return Body::default();
                }
                let language = b
                    .get("options")
                    .and_then(|o| o.get("raw"))
                    .and_then(|r| r.get("language"))
                    .and_then(Value::as_str);
                let json = match language {
                    Some(l) => l.eq_ignore_ascii_case("json"),
                    None => headers.iter().any(|h| {
                        h.enabled
                            && h.key.eq_ignore_ascii_case("content-type")
                            && h.value.to_ascii_lowercase().contains("json")
                    }),
                };
                Body {
                    kind: if json { BodyKind::Json } else { BodyKind::Text },
                    text,
                    form: Vec::new(),
                }
            }
            "urlencoded" | "formdata" => {
                let mut form = Vec::new();
                if let Some(Value::Array(fields)) = b.get(mode) {
                    for f in fields {
                        let Some(f) = f.as_object() else { continue };
                        let key = f.get("key").map(value_text).unwrap_or_default();
                        if f.get("type").and_then(Value::as_str) == Some("file") {
                            let src = f.get("src").map(value_text).unwrap_or_default();
                            self.warn(format!(
                                "'{label}': form field '{key}' is a file upload ({}); not imported",
                                if src.is_empty() {
                                    "no file chosen"
                                } else {
                                    &src
                                }
                            ));
                            continue;
                        }
                        form.push(KeyValue {
                            key,
                            value: f.get("value").map(value_text).unwrap_or_default(),
                            enabled: !disabled(f),
                        });
                    }
                }
                if mode == "formdata" && !form.is_empty() {
                    self.warn(format!(
                        "'{label}': multipart form data is sent as a URL-encoded form"
                    ));
                }
                if form.is_empty() {
                    Body::default()
                } else {
                    Body {
                        kind: BodyKind::Form,
                        text: String::new(),
                        form,
                    }
                }
            }
            "graphql" => {
                let g = b.get("graphql");
                let query = g
                    .and_then(|g| g.get("query"))
                    .map(value_text)
                    .unwrap_or_default();
                let variables = match g.and_then(|g| g.get("variables")) {
                    Some(Value::String(s)) if !s.trim().is_empty() => {
                        serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.clone()))
                    }
                    Some(Value::String(_)) | None | Some(Value::Null) => Value::Object(Map::new()),
                    Some(other) => other.clone(),
                };
                let mut obj = Map::new();
                obj.insert("query".into(), Value::String(query));
                obj.insert("variables".into(), variables);
                self.report.converted.push(format!(
                    "'{label}': GraphQL body became raw text {{\"query\", \"variables\"}}; send it with Content-Type: application/json"
                ));
                Body {
                    kind: BodyKind::Text,
                    text: serde_json::to_string_pretty(&Value::Object(obj)).unwrap_or_default(),
                    form: Vec::new(),
                }
            }
            "file" => {
                let src = b
                    .get("file")
                    .and_then(|f| f.get("src"))
                    .map(value_text)
                    .unwrap_or_default();
                self.warn(format!(
                    "'{label}': the body is the file '{src}'; not imported, paste its content into the body"
                ));
                Body::default()
            }
            "" => Body::default(),
            other => {
                self.warn(format!(
                    "'{label}': body mode '{other}' is not supported; body left empty"
                ));
                Body::default()
            }
        }
    }
}

/// Builds a URL from `protocol`, `host` (list or text), `port` and `path` when there is no `raw`.
/// Host segments are joined with `.` exactly as written, so `{{apimUrl}}CodeSystem` stays glued.
fn url_from_parts(o: &Map<String, Value>) -> String {
    let mut s = String::new();
    if let Some(p) = o.get("protocol").and_then(Value::as_str)
        && !p.is_empty()
    {
        s.push_str(p);
        s.push_str("://");
    }
    match o.get("host") {
        Some(Value::Array(h)) => {
            s.push_str(&h.iter().map(value_text).collect::<Vec<_>>().join("."))
        }
        Some(other) => s.push_str(&value_text(other)),
        None => {}
    }
    if let Some(port) = o.get("port").map(value_text)
        && !port.is_empty()
    {
        s.push(':');
        s.push_str(&port);
    }
    match o.get("path") {
        Some(Value::Array(p)) => {
            for seg in p {
                let seg = match seg {
                    Value::Object(o) => o.get("value").map(value_text).unwrap_or_default(),
                    other => value_text(other),
                };
                s.push('/');
                s.push_str(&seg);
            }
        }
        Some(Value::String(p)) if !p.is_empty() => {
            if !p.starts_with('/') {
                s.push('/');
            }
            s.push_str(p);
        }
        _ => {}
    }
    s
}

/// Replaces each whole path segment `:key` with `{{key}}`; says whether there was one.
fn path_variable_to_template(url: &str, key: &str) -> (String, bool) {
    let target = format!(":{key}");
    let template = format!("{{{{{key}}}}}");
    let mut found = false;
    let out = url
        .split('/')
        .map(|seg| {
            if seg == target {
                found = true;
                template.as_str()
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    (out, found)
}

/// Headers as a list of `{key, value, disabled}` or, in old exports, as `Key: value` lines.
pub(super) fn headers(v: Option<&Value>) -> Vec<KeyValue> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|h| {
                let o = h.as_object()?;
                let key = o.get("key").map(value_text)?;
                if key.is_empty() {
                    return None;
                }
                Some(KeyValue {
                    key,
                    value: o.get("value").map(value_text).unwrap_or_default(),
                    enabled: !disabled(o),
                })
            })
            .collect(),
        Some(Value::String(s)) => s
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                let (k, enabled) = match k.trim().strip_prefix("//") {
                    Some(k) => (k.trim(), false),
                    None => (k.trim(), true),
                };
                (!k.is_empty()).then(|| KeyValue {
                    key: k.to_string(),
                    value: v.trim().to_string(),
                    enabled,
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) fn examples(v: Option<&Value>) -> Vec<Example> {
    let Some(Value::Array(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|r| {
            let o = r.as_object()?;
            let status = match o.get("code") {
                Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            Some(Example {
                name: o
                    .get("name")
                    .map(value_text)
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "Example".into()),
                status,
                headers: headers(o.get("header")),
                body: o.get("body").map(value_text).unwrap_or_default(),
            })
        })
        .collect()
}
