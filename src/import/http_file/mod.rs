//! VS Code REST Client (`.http` / `.rest`) import. Many FHIR tutorials and repositories ship
//! their requests as `.http` files; this turns one file into a collection, file variables into
//! collection variables, and REST Client's request chaining
//! (`{{login.response.body.$.access_token}}`) into capture rules on the named request.
//!
//! Chaining convention: a reference to `NAME.response.body.PATH` becomes the variable
//! `NAME.PATH` (`$.` dropped; the whole body is `NAME.body`), and a reference to
//! `NAME.response.headers.HEADER` becomes `NAME.headers.HEADER`. The request named `NAME` gets a
//! capture rule that sets it; the consumer's text is rewritten to `{{NAME.PATH}}`.

use std::collections::HashSet;
use std::path::Path;

use super::{ImportError, ImportReport};
use crate::workspace::{
    Collection, Folder, KeyValue, RequestAuth, RequestSpec, SavedRequest, file_safe_name,
};

mod body;
mod schemes;
mod templates;
use body::{body_of, body_with_includes};
use schemes::Schemes;
use templates::Converter;

const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
];

/// Whether `text` reads as a REST Client file (used when the extension does not say).
pub fn looks_like_http(text: &str) -> bool {
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') && !t.starts_with("###") || t.starts_with("//") {
            continue;
        }
        if t.starts_with("###") {
            return true;
        }
        if t.starts_with('@') && t.contains('=') {
            continue;
        }
        let first = t.split_whitespace().next().unwrap_or("");
        return METHODS.contains(&first) && t.split_whitespace().nth(1).is_some();
    }
    false
}

/// A request block as written, before templates are converted.
#[derive(Default)]
struct RawRequest {
    title: Option<String>,
    name: Option<String>,
    comments: Vec<String>,
    line: usize,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<(usize, String)>,
}

#[derive(PartialEq)]
enum State {
    Pre,
    Headers,
    Body,
}

/// Imports a `.http` file; `path` names it and anchors `< file` body includes.
pub fn import_http_file(
    path: &Path,
    text: &str,
) -> Result<(Collection, ImportReport), ImportError> {
    let mut report = ImportReport::default();
    let mut raws: Vec<RawRequest> = Vec::new();
    // (name, raw value, line)
    let mut file_vars: Vec<(String, String, usize)> = Vec::new();
    let mut cur = RawRequest::default();
    let mut state = State::Pre;
    let mut has_request = false;

    let finish = |cur: &mut RawRequest, has: &mut bool, raws: &mut Vec<RawRequest>| {
        if *has {
            raws.push(std::mem::take(cur));
        } else {
            *cur = RawRequest::default();
        }
        *has = false;
    };

    for (idx, raw_line) in text.lines().enumerate() {
        let n = idx + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let t = line.trim();
        if line.starts_with("###") {
            finish(&mut cur, &mut has_request, &mut raws);
            let title = line.trim_start_matches('#').trim();
            if !title.is_empty() {
                cur.title = Some(title.to_string());
            }
            state = State::Pre;
            continue;
        }
        match state {
            State::Pre => {
                if t.is_empty() {
                    continue;
                }
                if let Some(c) = comment(t) {
                    let c = c.trim();
                    if let Some(d) = c.strip_prefix('@') {
                        let (key, val) = match d.split_once(['=', ' ', '\t']) {
                            Some((k, v)) => (k.trim(), v.trim()),
                            None => (d.trim(), ""),
                        };
                        match key {
                            "name" if !val.is_empty() => cur.name = Some(val.to_string()),
                            "prompt" => report.warnings.push(format!(
                                "line {n}: prompt variable '{}' is not supported; add it to the environment",
                                val.split_whitespace().next().unwrap_or("")
                            )),
                            other => report.warnings.push(format!(
                                "line {n}: REST Client setting @{other} is not supported; ignored"
                            )),
                        }
                    } else if !c.is_empty() {
                        cur.comments.push(c.to_string());
                    }
                    continue;
                }
                if let Some((k, v)) = file_variable(t) {
                    file_vars.push((k, v, n));
                    continue;
                }
                match request_line(t) {
                    Some((method, url)) => {
                        cur.method = method;
                        cur.url = url;
                        cur.line = n;
                        has_request = true;
                        state = State::Headers;
                    }
                    None => {
                        report.warnings.push(format!(
                            "line {n}: '{}' is not a request line (METHOD URL); skipped",
                            shorten(t)
                        ));
                    }
                }
            }
            State::Headers => {
                if t.is_empty() {
                    state = State::Body;
                    continue;
                }
                if comment(t).is_some() {
                    continue;
                }
                if cur.headers.is_empty() && (t.starts_with('?') || t.starts_with('&')) {
                    cur.url.push_str(t);
                    continue;
                }
                if let Some((k, v)) = file_variable(t) {
                    file_vars.push((k, v, n));
                    continue;
                }
                match t.split_once(':') {
                    Some((k, v))
                        if !k.trim().is_empty() && !k.trim().contains(char::is_whitespace) =>
                    {
                        cur.headers
                            .push((k.trim().to_string(), v.trim().to_string()));
                    }
                    _ => {
                        report.warnings.push(format!(
                            "line {n}: '{}' is not a header; read as the start of the body",
                            shorten(t)
                        ));
                        state = State::Body;
                        cur.body.push((n, line.to_string()));
                    }
                }
            }
            State::Body => cur.body.push((n, line.to_string())),
        }
    }
    finish(&mut cur, &mut has_request, &mut raws);

    // Comment lines and `@name = value` lines at the end of a body (before the next `###`)
    // are not the body: REST Client reads them as comments and file variables.
    for r in &mut raws {
        while let Some((n, l)) = r.body.last() {
            let t = l.trim();
            if t.is_empty() || comment(t).is_some() {
                r.body.pop();
            } else if let Some((k, v)) = file_variable(t) {
                file_vars.push((k, v, *n));
                r.body.pop();
            } else {
                break;
            }
        }
    }
    file_vars.sort_by_key(|(_, _, n)| *n);

    // Names for chaining: the `@name`, or the title.
    let names: Vec<Option<String>> = raws.iter().map(|r| r.name.clone()).collect();
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut conv = Converter {
        names: &names,
        pending: Vec::new(),
        report: &mut report,
        noted: HashSet::new(),
    };

    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("requests")
        .to_string();
    let mut collection = Collection {
        root: Folder::new(&file_safe_name(&stem)),
        ..Collection::default()
    };
    for (k, v, n) in &file_vars {
        let value = conv.convert(v, usize::MAX, &format!("line {n}"));
        if let Some(existing) = collection.variables.iter_mut().find(|x| &x.key == k) {
            if existing.value != value {
                conv.report.warnings.push(format!(
                    "line {n}: @{k} is defined again; the later value is kept"
                ));
            }
            existing.value = value;
        } else {
            collection.variables.push(KeyValue::new(k, &value));
        }
    }

    let mut specs: Vec<RequestSpec> = Vec::new();
    let mut schemes = Schemes::default();
    for (i, r) in raws.iter().enumerate() {
        let label = r
            .title
            .clone()
            .or_else(|| r.name.clone())
            .unwrap_or_else(|| {
                let path_part = r.url.split('?').next().unwrap_or("");
                let last = path_part
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("");
                format!("{} {last}", r.method).trim().to_string()
            });
        let at = format!("'{label}' (line {})", r.line);
        let url = conv.convert(&r.url, i, &at);
        let mut spec = RequestSpec::new(&label, &r.method, &url);
        spec.seq = u32::try_from(i + 1).unwrap_or(u32::MAX);
        spec.split_query_from_url();
        spec.description = r.comments.join("\n");
        for (k, v) in &r.headers {
            let v = conv.convert(v, i, &at);
            if k.eq_ignore_ascii_case("authorization")
                && let Some(cred) = v.strip_prefix("Basic ").map(str::trim)
                && let Some((user, pass)) = cred.split_once(':').or_else(|| cred.split_once(' '))
            {
                spec.auth = Some(RequestAuth::Basic {
                    username: user.trim().into(),
                    password: pass.trim().into(),
                });
                conv.report.converted.push(format!(
                    "{at}: Authorization: Basic user:password became Basic auth"
                ));
                continue;
            }
            spec.headers.push(KeyValue::new(k, &v));
        }
        let body_text = body_with_includes(&r.body, &base_dir, &at, conv.report);
        let body_text = conv.convert(&body_text, i, &at);
        spec.body = body_of(&body_text, &spec.headers, &collection.variables);
        let captured: Vec<&str> = conv
            .pending
            .iter()
            .map(|(_, c)| c.variable.as_str())
            .collect();
        schemes.check(
            &mut spec,
            &collection.variables,
            &captured,
            &r.headers,
            specs.len(),
        );
        specs.push(spec);
    }

    // Attach chained captures to the requests they read from: REST Client reads "the latest
    // response of the request so named", so every request carrying that name sets them.
    let pending = std::mem::take(&mut conv.pending);
    for (target, cap) in pending {
        let Some(Some(name)) = names.get(target) else {
            continue;
        };
        for (j, spec) in specs.iter_mut().enumerate() {
            if names.get(j).and_then(Option::as_ref) != Some(name)
                || spec.captures.iter().any(|c| c.variable == cap.variable)
            {
                continue;
            }
            conv.report
                .converted
                .push(format!("{cap} on '{}'", spec.name));
            spec.captures.push(cap.clone());
        }
    }
    schemes.apply(&mut specs, conv.report);
    for spec in specs {
        let file_stem = collection.root.free_name(&spec.name);
        collection
            .root
            .requests
            .push(SavedRequest { file_stem, spec });
    }
    report.imported = collection.root.requests.len();
    if report.imported == 0 {
        report.warnings.push("no requests found in the file".into());
    }
    Ok((collection, report))
}

/// `@name = value`: a file variable definition.
fn file_variable(t: &str) -> Option<(String, String)> {
    let (k, v) = t.strip_prefix('@')?.split_once('=')?;
    let k = k.trim();
    (!k.is_empty() && !k.contains(char::is_whitespace))
        .then(|| (k.to_string(), v.trim().to_string()))
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// The text of a `#` or `//` comment line.
fn comment(t: &str) -> Option<&str> {
    t.strip_prefix("//").or_else(|| t.strip_prefix('#'))
}

/// `METHOD URL [HTTP/1.1]`, or a bare URL (GET).
fn request_line(t: &str) -> Option<(String, String)> {
    let strip_version = |s: &str| -> String {
        let s = s.trim();
        match s.rsplit_once(char::is_whitespace) {
            Some((u, v)) if v.starts_with("HTTP/") => u.trim().to_string(),
            _ => s.to_string(),
        }
    };
    let (first, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
    if METHODS.contains(&first.to_ascii_uppercase().as_str()) && !rest.trim().is_empty() {
        return Some((first.to_ascii_uppercase(), strip_version(rest)));
    }
    let url = strip_version(t);
    let looks_url = url.contains("://")
        || url.starts_with("{{")
        || url.starts_with('/')
        || url.starts_with("localhost")
        || url.starts_with("www.");
    (looks_url && !url.contains(char::is_whitespace)).then(|| ("GET".to_string(), url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::BodyKind;

    fn import(text: &str) -> (Collection, ImportReport) {
        import_http_file(Path::new("/nonexistent/dir/api.http"), text).unwrap()
    }

    #[test]
    fn basics_and_continuations() {
        let (c, rep) = import(
            "@base = https://fhir.example.com\n\n### List patients\nGET {{base}}/Patient\n    ?name=smith\n    &_count=5\nAccept: application/fhir+json\n\n###\nhttps://example.com/metadata\n\n### \n# @name create\nPOST {{base}}/Patient HTTP/1.1\nContent-Type: application/fhir+json\n\n{\n  \"resourceType\": \"Patient\"\n}\n\n",
        );
        assert_eq!(c.root.name, "api");
        assert_eq!(
            c.variables,
            vec![KeyValue::new("base", "https://fhir.example.com")]
        );
        let r: Vec<&RequestSpec> = c.root.requests.iter().map(|r| &r.spec).collect();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].name, "List patients");
        assert_eq!(r[0].url, "{{base}}/Patient");
        assert_eq!(r[0].query.len(), 2);
        assert_eq!(r[1].method, "GET");
        assert_eq!(r[1].name, "GET metadata");
        assert_eq!(r[2].name, "create");
        assert_eq!(r[2].body.kind, BodyKind::Json);
        assert_eq!(r[2].body.text, "{\n  \"resourceType\": \"Patient\"\n}");
        assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    }

    #[test]
    fn chaining_and_builtins() {
        let (c, rep) = import(
            "# @name login\nPOST https://auth/token\nContent-Type: application/x-www-form-urlencoded\n\ngrant_type=client_credentials\n&client_id={{$dotenv CLIENT_ID}}\n\n###\nGET https://x/Patient/{{login.response.body.$.patient}}\nAuthorization: Bearer {{login.response.body.access_token}}\nX-Loc: {{login.response.headers.Content-Location}}\nX-Id: {{$guid}}\nX-Missing: {{nobody.response.body.x}}\n",
        );
        let login = &c.root.requests[0].spec;
        assert_eq!(login.body.kind, BodyKind::Form);
        assert_eq!(
            login.body.form[1],
            KeyValue::new("client_id", "{{$env CLIENT_ID}}")
        );
        let vars: Vec<&str> = login.captures.iter().map(|c| c.variable.as_str()).collect();
        assert_eq!(
            vars,
            vec![
                "login.patient",
                "login.access_token",
                "login.headers.Content-Location"
            ]
        );
        let get = &c.root.requests[1].spec;
        assert_eq!(get.url, "https://x/Patient/{{login.patient}}");
        assert_eq!(get.headers[0].value, "Bearer {{login.access_token}}");
        assert_eq!(get.headers[2].value, "{{$guid}}");
        assert_eq!(get.headers[3].value, "{{nobody.response.body.x}}");
        assert_eq!(rep.warnings.len(), 1, "{:?}", rep.warnings);
    }

    #[test]
    fn latest_name_wins_and_missing_include_warns() {
        let (c, rep) = import(
            "# @name a\nGET https://x/1\n\n###\n# @name a\nGET https://x/2\n\n###\nPOST https://x/3\nContent-Type: application/json\n\n< ./Data/missing.json\n\n###\nGET https://x/{{a.response.body.id}}\n",
        );
        // "the latest response of the request so named": both requests named `a` capture
        assert_eq!(c.root.requests[0].spec.captures.len(), 1);
        assert_eq!(c.root.requests[1].spec.captures.len(), 1);
        assert_eq!(c.root.requests[2].spec.body.text, "< ./Data/missing.json");
        assert!(rep.warnings.iter().any(|w| w.contains("missing.json")));
    }

    #[test]
    fn schemeless_urls_are_flagged() {
        let (c, rep) = import(
            "@hostname = localhost:8080\nGET {{hostname}}/Patient\n\n###\nGET {{other}}/x\n\n###\nGET /api\nHost: example.com\n\n###\nGET https://secure.example/x\n",
        );
        // one warning for those given the file's scheme, one for the unknown variable
        assert_eq!(rep.warnings.len(), 2, "{:?}", rep.warnings);
        let urls: Vec<&str> = c
            .root
            .requests
            .iter()
            .map(|r| r.spec.url.as_str())
            .collect();
        assert_eq!(
            urls,
            [
                "https://{{hostname}}/Patient",
                "{{other}}/x",
                "https://example.com/api",
                "https://secure.example/x"
            ]
        );
    }
}
