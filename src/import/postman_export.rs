//! Collection export as Postman Collection v2.1 JSON, so work done in fhirside can go back to
//! colleagues who use Postman. Capture rules are written as `pm.environment.set(…)` test lines,
//! which the importer turns back into the same rules: import → export → import is lossless for
//! everything the workspace model holds.

use serde_json::{Map, Value, json};

use super::scripts::{is_ident, path_key};
use crate::workspace::{
    BodyKind, Capture, CaptureSource, Collection, Folder, KeyValue, OAuth2Settings, RequestAuth,
    RequestSpec,
};

pub const SCHEMA_V21: &str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

/// The collection as Postman Collection v2.1 JSON.
pub fn export_collection(c: &Collection) -> Value {
    let mut top = Map::new();
    let mut info = Map::new();
    info.insert("name".into(), Value::String(c.title().to_string()));
    if !c.description.is_empty() {
        info.insert("description".into(), Value::String(c.description.clone()));
    }
    info.insert("schema".into(), Value::String(SCHEMA_V21.into()));
    top.insert("info".into(), Value::Object(info));
    top.insert("item".into(), Value::Array(folder_items(&c.root)));
    if let Some(a) = &c.auth {
        top.insert("auth".into(), auth(a, c.oauth2.as_ref()));
    }
    let mut events: Vec<Value> = Vec::new();
    let setup = setup_lines(&[], &c.headers);
    if !setup.is_empty() {
        events.push(event("pre-request", &setup));
    }
    events.extend(c.scripts.iter().map(|s| event(&s.phase, &s.lines)));
    if !events.is_empty() {
        top.insert("event".into(), Value::Array(events));
    }
    if !c.variables.is_empty() {
        top.insert(
            "variable".into(),
            Value::Array(c.variables.iter().map(|v| key_value(v, None)).collect()),
        );
    }
    Value::Object(top)
}

/// A folder's children in their saved order: folders and requests share one count (see
/// [`Folder::seq`]); on a tie folders come first.
fn folder_items(f: &Folder) -> Vec<Value> {
    let mut items: Vec<(u32, Value)> = f
        .folders
        .iter()
        .map(|sub| (sub.seq, folder_item(sub)))
        .collect();
    items.extend(
        f.requests
            .iter()
            .map(|r| (r.spec.seq, request_item(&r.spec))),
    );
    items.sort_by_key(|(seq, _)| *seq);
    items.into_iter().map(|(_, v)| v).collect()
}

fn folder_item(f: &Folder) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), Value::String(f.title().to_string()));
    if !f.description.is_empty() {
        o.insert("description".into(), Value::String(f.description.clone()));
    }
    let setup = setup_lines(&f.variables, &f.headers);
    if !setup.is_empty() {
        o.insert(
            "event".into(),
            Value::Array(vec![event("pre-request", &setup)]),
        );
    }
    o.insert("item".into(), Value::Array(folder_items(f)));
    Value::Object(o)
}

/// Pre-request lines that the importer reads back as these variables and headers (a
/// disabled row is written commented out).
fn setup_lines(variables: &[KeyValue], headers: &[KeyValue]) -> Vec<String> {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let off = |kv: &KeyValue| if kv.enabled { "" } else { "// " };
    let mut out: Vec<String> = variables
        .iter()
        .map(|v| {
            format!(
                "{}pm.variables.set({}, {});",
                off(v),
                q(&v.key),
                q(&v.value)
            )
        })
        .collect();
    out.extend(headers.iter().map(|h| {
        format!(
            "{}pm.request.headers.add({{key: {}, value: {}}});",
            off(h),
            q(&h.key),
            q(&h.value)
        )
    }));
    out
}

fn key_value(kv: &KeyValue, kind: Option<&str>) -> Value {
    let mut o = Map::new();
    o.insert("key".into(), Value::String(kv.key.clone()));
    o.insert("value".into(), Value::String(kv.value.clone()));
    if let Some(k) = kind {
        o.insert("type".into(), Value::String(k.into()));
    }
    if !kv.enabled {
        o.insert("disabled".into(), Value::Bool(true));
    }
    Value::Object(o)
}

fn param(key: &str, value: &str) -> Value {
    json!({"key": key, "value": value, "type": "string"})
}

fn auth(a: &RequestAuth, oauth2: Option<&OAuth2Settings>) -> Value {
    match a {
        RequestAuth::None => json!({"type": "noauth"}),
        RequestAuth::Bearer { token } => {
            json!({"type": "bearer", "bearer": [param("token", token)]})
        }
        RequestAuth::Basic { username, password } => json!({"type": "basic", "basic": [
            param("username", username), param("password", password)
        ]}),
        RequestAuth::ApiKey {
            key,
            value,
            in_query,
        } => json!({"type": "apikey", "apikey": [
            param("key", key), param("value", value),
            param("in", if *in_query { "query" } else { "header" })
        ]}),
        RequestAuth::Oauth2 => {
            json!({"type": "oauth2", "oauth2": oauth2.map(oauth2_params).unwrap_or_default()})
        }
    }
}

/// OAuth2 settings as Postman's `oauth2` parameter list.
fn oauth2_params(o: &OAuth2Settings) -> Vec<Value> {
    let grant = if o.use_pkce && o.grant_type == "authorization_code" {
        "authorization_code_with_pkce"
    } else {
        o.grant_type.as_str()
    };
    let mut out = Vec::new();
    for (key, value) in [
        ("grant_type", grant),
        ("authUrl", &o.auth_url),
        ("accessTokenUrl", &o.access_token_url),
        ("redirect_uri", &o.redirect_uri),
        ("clientId", &o.client_id),
        ("clientSecret", &o.client_secret),
        ("scope", &o.scope),
        ("client_authentication", &o.client_authentication),
        ("challengeAlgorithm", &o.challenge_algorithm),
        ("state", &o.state),
    ] {
        if !value.is_empty() {
            out.push(param(key, value));
        }
    }
    let list = |rows: &[KeyValue]| -> Value {
        Value::Array(
            rows.iter()
                .map(|p| json!({"key": p.key, "value": p.value, "enabled": p.enabled, "send_as": "request_url"}))
                .collect(),
        )
    };
    if !o.auth_request_params.is_empty() {
        out.push(json!({"key": "authRequestParams", "value": list(&o.auth_request_params), "type": "any"}));
    }
    if !o.token_request_params.is_empty() {
        out.push(json!({"key": "tokenRequestParams", "value": list(&o.token_request_params), "type": "any"}));
    }
    out.push(param("addTokenTo", "header"));
    out
}

fn event(phase: &str, lines: &[String]) -> Value {
    let listen = if phase == "test" {
        "test"
    } else {
        "prerequest"
    };
    json!({"listen": listen, "script": {"type": "text/javascript", "exec": lines}})
}

/// The test line that the importer reads back as `c`.
pub fn capture_line(c: &Capture) -> String {
    let name = serde_json::to_string(&c.variable).unwrap_or_default();
    match c.source {
        CaptureSource::Header => format!(
            "pm.environment.set({name}, pm.response.headers.get({}));",
            serde_json::to_string(&c.path).unwrap_or_default()
        ),
        CaptureSource::Body => format!(
            "pm.environment.set({name}, pm.response.json(){});",
            js_accessors(&c.path)
        ),
    }
}

/// `$.a["b-c"][0]` → `.a["b-c"][0]`; a bare `a.b` counts as `$.a.b`.
fn js_accessors(path: &str) -> String {
    let p = path.trim();
    let mut rest = p.strip_prefix('$').unwrap_or(p);
    let mut out = String::new();
    let mut first = true;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.push_str(&js_key(r.get(..end).unwrap_or_default()));
            rest = r.get(end..).unwrap_or_default();
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            let inner = r.get(..end).unwrap_or_default().trim();
            if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) {
                out.push_str(&format!("[{inner}]"));
            } else {
                out.push_str(&js_key(inner.trim_matches(|c| c == '"' || c == '\'')));
            }
            rest = r.get(end + 1..).unwrap_or_default();
        } else if first {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push_str(&js_key(rest.get(..end).unwrap_or_default()));
            rest = rest.get(end..).unwrap_or_default();
        } else {
            break;
        }
        first = false;
    }
    out
}

fn js_key(key: &str) -> String {
    if is_ident(key) {
        path_key(key)
    } else {
        format!("[{}]", serde_json::to_string(key).unwrap_or_default())
    }
}

/// The request's variables that stand for a whole path segment (`/{{id}}/`): Postman path
/// variables `:id`.
fn is_path_variable(spec: &RequestSpec, key: &str) -> bool {
    let template = format!("{{{{{key}}}}}");
    spec.url.split('/').skip(1).any(|seg| seg == template)
}

/// `{{id}}` path segments of the request's path variables written as `:id`.
fn with_path_variables(spec: &RequestSpec, text: &str) -> String {
    let mut out = text.to_string();
    for v in spec
        .variables
        .iter()
        .filter(|v| is_path_variable(spec, &v.key))
    {
        let template = format!("{{{{{}}}}}", v.key);
        let colon = format!(":{}", v.key);
        out = out
            .split('/')
            .enumerate()
            .map(|(i, seg)| {
                if i > 0 && seg.split('?').next() == Some(template.as_str()) {
                    seg.replacen(&template, &colon, 1)
                } else {
                    seg.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
    }
    out
}

fn url(spec: &RequestSpec) -> Value {
    let raw = with_path_variables(spec, &spec.full_url());
    let mut o = Map::new();
    o.insert("raw".into(), Value::String(raw));
    let base_url = with_path_variables(spec, &spec.url);
    let base = base_url.as_str();
    let (protocol, rest) = match base.split_once("://") {
        Some((p, r)) => (Some(p), r),
        None => (None, base),
    };
    if let Some(p) = protocol {
        o.insert("protocol".into(), Value::String(p.into()));
    }
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !host.is_empty() {
        o.insert(
            "host".into(),
            Value::Array(host.split('.').map(|h| Value::String(h.into())).collect()),
        );
    }
    if !path.is_empty() {
        o.insert(
            "path".into(),
            Value::Array(path.split('/').map(|h| Value::String(h.into())).collect()),
        );
    }
    if !spec.query.is_empty() {
        o.insert(
            "query".into(),
            Value::Array(spec.query.iter().map(|q| key_value(q, None)).collect()),
        );
    }
    let path_vars: Vec<Value> = spec
        .variables
        .iter()
        .filter(|v| is_path_variable(spec, &v.key))
        .map(|v| key_value(v, None))
        .collect();
    if !path_vars.is_empty() {
        o.insert("variable".into(), Value::Array(path_vars));
    }
    Value::Object(o)
}

fn request_item(spec: &RequestSpec) -> Value {
    let mut req = Map::new();
    req.insert("method".into(), Value::String(spec.method.clone()));
    req.insert(
        "header".into(),
        Value::Array(
            spec.headers
                .iter()
                .map(|h| key_value(h, Some("text")))
                .collect(),
        ),
    );
    match spec.body.kind {
        BodyKind::None => {}
        BodyKind::Json | BodyKind::Text => {
            let lang = if spec.body.kind == BodyKind::Json {
                "json"
            } else {
                "text"
            };
            req.insert(
                "body".into(),
                json!({"mode": "raw", "raw": spec.body.text, "options": {"raw": {"language": lang}}}),
            );
        }
        BodyKind::Form => {
            req.insert(
                "body".into(),
                json!({"mode": "urlencoded", "urlencoded": spec.body.form.iter().map(|f| key_value(f, Some("text"))).collect::<Vec<_>>()}),
            );
        }
    }
    req.insert("url".into(), url(spec));
    if let Some(a) = &spec.auth {
        req.insert("auth".into(), auth(a, spec.oauth2.as_ref()));
    }
    if !spec.description.is_empty() {
        req.insert(
            "description".into(),
            Value::String(spec.description.clone()),
        );
    }

    let mut item = Map::new();
    item.insert("name".into(), Value::String(spec.name.clone()));
    // Capture rules go in a test event of their own, so the kept lines after them are read
    // back exactly as they are.
    let mut events = Vec::new();
    let capture_lines: Vec<String> = spec.captures.iter().map(capture_line).collect();
    if !capture_lines.is_empty() {
        events.push(event("test", &capture_lines));
    }
    // Request variables that are not path variables come back from a pre-request line.
    let others: Vec<KeyValue> = spec
        .variables
        .iter()
        .filter(|v| !is_path_variable(spec, &v.key))
        .cloned()
        .collect();
    let setup = setup_lines(&others, &[]);
    let mut scripts = spec.scripts.clone();
    if !setup.is_empty() {
        match scripts.iter_mut().find(|s| s.phase == "pre-request") {
            Some(pre) => {
                let mut lines = setup;
                lines.append(&mut pre.lines);
                pre.lines = lines;
            }
            None => scripts.insert(
                0,
                crate::workspace::KeptScript {
                    phase: "pre-request".into(),
                    lines: setup,
                },
            ),
        }
    }
    for s in &scripts {
        events.push(event(&s.phase, &s.lines));
    }
    if !events.is_empty() {
        item.insert("event".into(), Value::Array(events));
    }
    item.insert("request".into(), Value::Object(req));
    let responses: Vec<Value> = spec
        .examples
        .iter()
        .map(|e| {
            let mut o = Map::new();
            o.insert("name".into(), Value::String(e.name.clone()));
            if let Some(code) = e.status {
                o.insert("code".into(), json!(code));
                o.insert("status".into(), Value::String(reason(code).into()));
            }
            o.insert(
                "header".into(),
                Value::Array(e.headers.iter().map(|h| key_value(h, None)).collect()),
            );
            o.insert("body".into(), Value::String(e.body.clone()));
            Value::Object(o)
        })
        .collect();
    item.insert("response".into(), Value::Array(responses));
    Value::Object(item)
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::postman::import_collection_value;
    use crate::workspace::{Example, KeptScript, SavedRequest};

    #[test]
    fn accessors_round_trip() {
        assert_eq!(js_accessors("$.a.b[0]"), ".a.b[0]");
        assert_eq!(js_accessors("$[\"x-y\"].z"), "[\"x-y\"].z");
        assert_eq!(js_accessors("access_token"), ".access_token");
        assert_eq!(js_accessors("$"), "");
    }

    #[test]
    fn hand_built_collection_round_trips() {
        let mut spec = RequestSpec::new("Create", "POST", "{{fhirurl}}/Patient")
            .header("Accept", "application/fhir+json")
            .query_param("_format", "json")
            .json_body("{\"resourceType\":\"Patient\"}");
        // Postman keeps order by position; positions count from 1.
        spec.seq = 1;
        spec.captures.push(Capture {
            variable: "pid".into(),
            source: CaptureSource::Body,
            path: "$.id".into(),
        });
        spec.captures.push(Capture {
            variable: "loc".into(),
            source: CaptureSource::Header,
            path: "Location".into(),
        });
        spec.scripts.push(KeptScript {
            phase: "test".into(),
            lines: vec!["console.log(1);".into()],
        });
        spec.examples.push(Example {
            name: "ok".into(),
            status: Some(201),
            headers: vec![KeyValue::new("Location", "x")],
            body: "{}".into(),
        });
        spec.auth = Some(RequestAuth::ApiKey {
            key: "k".into(),
            value: "{{v}}".into(),
            in_query: true,
        });
        let mut root = Folder::new("C");
        root.requests.push(SavedRequest {
            file_stem: "Create".into(),
            spec,
        });
        let c = Collection {
            root,
            variables: vec![KeyValue::new("a", "b")],
            description: "d".into(),
            auth: Some(RequestAuth::Bearer {
                token: "{{t}}".into(),
            }),
            scripts: vec![],
            ..Default::default()
        };
        let (back, _) = import_collection_value("x.json", &export_collection(&c)).unwrap();
        assert_eq!(back, c);
    }
}
