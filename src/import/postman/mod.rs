//! Postman Collection v2.0 / v2.1 import. Postman is where most FHIR teams keep their requests,
//! so this is the main way into fhirside: folders, requests, bodies, auth (pushed down from
//! folders), variables, saved examples, and the script idioms that are really capture rules.
//!
//! The JSON is read as a loose `serde_json::Value` rather than typed structs, because real
//! exports mix the v2.0 and v2.1 shapes and put wrong types in odd places; a field that is not
//! what we expect is skipped with a warning instead of failing the whole import.

use serde_json::{Map, Value};

use super::scripts::{self, exec_lines, read_test_script};
use super::{ImportError, ImportReport, OAuth2Settings, value_text};
use crate::workspace::{
    Capture, Collection, Folder, KeptScript, KeyValue, RequestAuth, RequestSpec, SavedRequest,
    SiblingNames,
};

mod auth;
mod parts;

use auth::AuthChoice;
use parts::{examples, headers};

/// Parses and imports a Postman collection; `file` names it in messages.
pub fn import_collection(
    file: &str,
    text: &str,
) -> Result<(Collection, ImportReport), ImportError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ImportError::json(file, &e))?;
    import_collection_value(file, &value)
}

/// Imports an already parsed Postman collection.
pub fn import_collection_value(
    file: &str,
    value: &Value,
) -> Result<(Collection, ImportReport), ImportError> {
    let Some(top) = value.as_object() else {
        return Err(ImportError::shape(
            file,
            "$",
            "a Postman collection is a JSON object with \"info\" and \"item\"",
        ));
    };
    if top.contains_key("requests") && top.contains_key("order") && !top.contains_key("item") {
        return Err(ImportError::shape(
            file,
            "$",
            "this is a Postman Collection v1 file, which is not supported; export it again from Postman as Collection v2.1",
        ));
    }
    let mut ctx = Ctx {
        report: ImportReport::default(),
        unread: std::collections::BTreeMap::new(),
    };
    let info = top.get("info").and_then(Value::as_object);
    let schema = info
        .and_then(|i| i.get("schema"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !schema.is_empty() && !schema.contains("v2.0") && !schema.contains("v2.1") {
        ctx.warn(format!(
            "unknown collection schema {schema}; read as Collection v2.1"
        ));
    }
    let name = info
        .and_then(|i| i.get("name"))
        .map(value_text)
        .filter(|n| !n.trim().is_empty())
        .or_else(|| {
            std::path::Path::new(file)
                .file_stem()
                .and_then(|s| s.to_str())
                .map(String::from)
        })
        .unwrap_or_else(|| "Imported".into());
    let mut collection = Collection {
        root: Folder::titled(&name),
        description: info
            .and_then(|i| i.get("description"))
            .map(description)
            .unwrap_or_default(),
        ..Collection::default()
    };

    // Variables.
    match top.get("variable") {
        None | Some(Value::Null) => {}
        Some(Value::Array(vars)) => {
            for (i, v) in vars.iter().enumerate() {
                let Some(o) = v.as_object() else {
                    ctx.warn(format!("$.variable[{i}] is not an object; skipped"));
                    continue;
                };
                let key = o.get("key").or_else(|| o.get("id")).map(value_text);
                let Some(key) = key.filter(|k| !k.is_empty()) else {
                    ctx.warn(format!("$.variable[{i}] has no key; skipped"));
                    continue;
                };
                let value = o.get("value").map(value_text).unwrap_or_default();
                let secret_typed = o.get("type").and_then(Value::as_str) == Some("secret");
                if (secret_typed || crate::workspace::looks_secret(&key)) && !value.is_empty() {
                    ctx.warn(format!(
                        "collection variable '{key}' looks secret; collection variables are stored in plain text, consider moving it to an environment"
                    ));
                }
                collection.variables.push(KeyValue {
                    key,
                    value,
                    enabled: !disabled(o),
                });
            }
        }
        Some(_) => ctx.warn("$.variable is not a list; collection variables skipped".into()),
    }

    // Collection auth.
    if let Some(a) = top.get("auth") {
        match ctx.auth(a, "collection", "$.auth") {
            AuthChoice::Inherit => {}
            AuthChoice::Set(auth, oauth2) => {
                collection.auth = Some(auth);
                collection.oauth2 = oauth2.map(|o| *o);
            }
        }
    }

    // Collection scripts: a client-credentials sign-in recognised, setting one-liners turned
    // into collection variables and headers, the rest kept.
    for (phase, lines) in events(&mut ctx, top.get("event"), "$.event") {
        if phase == "pre-request"
            && ctx.report.client_credentials.is_none()
            && let Some(cc) = scripts::client_credentials(&lines)
        {
            ctx.report.client_credentials = Some(cc);
            ctx.report.kept_not_run.push(format!(
                "collection pre-request script ({} lines): signs in with client credentials; use the environment's sign-in instead",
                lines.len()
            ));
            collection.scripts.push(KeptScript { phase, lines });
            continue;
        }
        let lines = if phase == "pre-request" {
            let setup = scripts::read_pre_request(&lines);
            ctx.note_setup("collection", &setup);
            merge_rows(&mut collection.variables, setup.variables);
            collection.headers.extend(setup.headers);
            setup.kept
        } else {
            lines
        };
        if lines.is_empty() {
            continue;
        }
        ctx.report
            .kept_not_run
            .push(format!("collection {phase} script ({} lines)", lines.len()));
        collection.scripts.push(KeptScript { phase, lines });
    }

    match top.get("item") {
        None | Some(Value::Null) => ctx.warn("the collection has no items".into()),
        Some(Value::Array(items)) => {
            let inherited = Inherited::default();
            ctx.items(items, "$.item", &mut collection.root, &inherited);
        }
        Some(_) => {
            return Err(ImportError::shape(
                file,
                "$.item",
                "\"item\" should be a list of folders and requests",
            ));
        }
    }
    for (what, n) in std::mem::take(&mut ctx.unread) {
        ctx.warn(format!(
            "the Postman setting {what} ({n} time{}) is not carried over",
            if n == 1 { "" } else { "s" }
        ));
    }
    Ok((collection, ctx.report))
}

struct Ctx {
    report: ImportReport,
    /// Postman settings this import does not read, and on how many items: reported once each.
    unread: std::collections::BTreeMap<String, usize>,
}

/// Keys of an item (folder or request) that the import reads or that carry nothing to keep.
const ITEM_KEYS: [&str; 10] = [
    "name",
    "item",
    "request",
    "response",
    "event",
    "description",
    "auth",
    "id",
    "_postman_id",
    "uid",
];
/// Keys of a request object that the import reads.
const REQUEST_KEYS: [&str; 6] = ["method", "url", "header", "body", "auth", "description"];

impl Ctx {
    fn note_unread(&mut self, o: &Map<String, Value>, known: &[&str], what: &str) {
        for (k, v) in o {
            let empty = match v {
                Value::Null => true,
                Value::Array(a) => a.is_empty(),
                Value::Object(m) => m.is_empty(),
                Value::String(s) => s.is_empty(),
                _ => false,
            };
            if !known.contains(&k.as_str()) && !empty {
                *self.unread.entry(format!("{what} '{k}'")).or_default() += 1;
            }
        }
    }
}

/// What a folder passes down to its requests.
#[derive(Clone, Default)]
struct Inherited {
    auth: Option<RequestAuth>,
    /// The OAuth2 settings that go with an inherited `auth = oauth2`.
    oauth2: Option<OAuth2Settings>,
    /// Folder path for messages, e.g. `Admin/Users`.
    path: String,
    pre_request: Vec<String>,
    test: Vec<String>,
    captures: Vec<Capture>,
}

/// Rows set by a script replace rows of the same key and are added otherwise.
fn merge_rows(rows: &mut Vec<KeyValue>, set: Vec<KeyValue>) {
    for kv in set {
        match rows.iter_mut().find(|r| r.key == kv.key) {
            Some(r) if kv.enabled => *r = kv,
            Some(_) => {}
            None => rows.push(kv),
        }
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// `disabled: true`, or the older `enabled: false`.
fn disabled(o: &Map<String, Value>) -> bool {
    truthy(o.get("disabled")) || matches!(o.get("enabled"), Some(Value::Bool(false)))
}

/// A description given as a string or as `{ "content": … }`.
fn description(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("content").map(value_text).unwrap_or_default(),
        _ => String::new(),
    }
}

/// `event[]` as (phase, lines) pairs; empty scripts are left out.
fn events(ctx: &mut Ctx, v: Option<&Value>, at: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let list = match v {
        None | Some(Value::Null) => return out,
        Some(Value::Array(a)) => a,
        Some(_) => {
            ctx.warn(format!("{at} is not a list; scripts skipped"));
            return out;
        }
    };
    for (i, e) in list.iter().enumerate() {
        let Some(o) = e.as_object() else {
            ctx.warn(format!("{at}[{i}] is not an object; skipped"));
            continue;
        };
        let phase = match o.get("listen").and_then(Value::as_str) {
            Some("prerequest") | Some("pre-request") => "pre-request",
            Some("test") => "test",
            other => {
                ctx.warn(format!(
                    "{at}[{i}]: unknown script phase {}; skipped",
                    other.unwrap_or("(none)")
                ));
                continue;
            }
        };
        let exec = o
            .get("script")
            .and_then(|s| s.get("exec"))
            .cloned()
            .unwrap_or(Value::Null);
        let mut lines = exec_lines(&exec);
        scripts::trim_blank_edges(&mut lines);
        if !lines.is_empty() {
            out.push((phase.to_string(), lines));
        }
    }
    out
}

impl Ctx {
    fn warn(&mut self, w: String) {
        self.report.warnings.push(w);
    }

    /// Reports what a pre-request script's setting lines became.
    fn note_setup(&mut self, on: &str, setup: &scripts::SetupScript) {
        for c in &setup.converted {
            self.report.converted.push(format!("{on}: {c}"));
        }
    }

    fn items(&mut self, items: &[Value], at: &str, folder: &mut Folder, inherited: &Inherited) {
        let mut names = folder.sibling_names();
        for (i, item) in items.iter().enumerate() {
            let here = format!("{at}[{i}]");
            // Folders and requests share one count, so the source order can be given back.
            let seq = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let Some(o) = item.as_object() else {
                self.warn(format!("{here} is not an object; skipped"));
                continue;
            };
            self.note_unread(o, &ITEM_KEYS, "item setting");
            let name = o
                .get("name")
                .map(value_text)
                .filter(|n| !n.trim().is_empty());
            if let Some(children) = o.get("item") {
                let sub = self.folder(o, name, children, &here, inherited, &mut names, seq);
                folder.folders.push(sub);
            } else if o.contains_key("request") {
                let spec = self.request(o, name, &here, seq, inherited);
                let file_stem = names.allocate(&spec.name);
                folder.requests.push(SavedRequest { file_stem, spec });
                self.report.imported += 1;
            } else {
                self.warn(format!(
                    "{here} ({}) is neither a folder nor a request; skipped",
                    name.as_deref().unwrap_or("unnamed")
                ));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn folder(
        &mut self,
        o: &Map<String, Value>,
        name: Option<String>,
        children: &Value,
        here: &str,
        inherited: &Inherited,
        names: &mut SiblingNames,
        seq: u32,
    ) -> Folder {
        let name = name.unwrap_or_else(|| "Folder".into());
        let mut sub = Folder::new(&names.allocate(&name));
        sub.set_title(&name);
        sub.seq = seq;
        let mut inh = inherited.clone();
        inh.path = if inh.path.is_empty() {
            name.clone()
        } else {
            format!("{}/{name}", inh.path)
        };
        let on = format!("folder '{}'", inh.path);
        if let Some(a) = o.get("auth")
            && let AuthChoice::Set(auth, oauth2) = self.auth(a, &on, &format!("{here}.auth"))
        {
            inh.auth = Some(auth);
            inh.oauth2 = oauth2.map(|o| *o);
        }
        if let Some(d) = o.get("description").map(description) {
            sub.description = d;
        }
        let mut own_lines = Vec::new();
        for (phase, lines) in events(self, o.get("event"), &format!("{here}.event")) {
            let header = format!("// from {on}");
            if phase == "pre-request" {
                let setup = scripts::read_pre_request(&lines);
                self.note_setup(&on, &setup);
                merge_rows(&mut sub.variables, setup.variables);
                sub.headers.extend(setup.headers);
                let lines = setup.kept;
                if lines.is_empty() {
                    continue;
                }
                own_lines.push(format!("{} pre-request", lines.len()));
                inh.pre_request.push(header);
                inh.pre_request.extend(lines);
            } else {
                let read = read_test_script(&lines);
                for c in &read.captures {
                    self.report
                        .converted
                        .push(format!("{c} on every request in {on}"));
                }
                inh.captures.extend(read.captures);
                if !read.kept.is_empty() {
                    own_lines.push(format!("{} test", read.kept.len()));
                    inh.test.push(header);
                    inh.test.extend(read.kept);
                }
            }
        }
        match children {
            Value::Array(items) => self.items(items, &format!("{here}.item"), &mut sub, &inh),
            Value::Null => {}
            _ => self.warn(format!(
                "{here}.item is not a list; folder '{name}' left empty"
            )),
        }
        if !own_lines.is_empty() {
            fn count(f: &Folder) -> usize {
                f.requests.len() + f.folders.iter().map(count).sum::<usize>()
            }
            self.report.kept_not_run.push(format!(
                "{on}: {} script lines, copied into each of its {} requests",
                own_lines.join(" and "),
                count(&sub)
            ));
        }
        sub
    }

    fn request(
        &mut self,
        o: &Map<String, Value>,
        name: Option<String>,
        here: &str,
        seq: u32,
        inherited: &Inherited,
    ) -> RequestSpec {
        let req = o.get("request").unwrap_or(&Value::Null);
        let mut spec = RequestSpec::new("", "GET", "");
        spec.seq = seq;
        let mut own_auth = AuthChoice::Inherit;
        match req {
            Value::String(url) => {
                spec.url = url.trim().to_string();
                spec.split_query_from_url();
            }
            Value::Object(r) => {
                self.note_unread(r, &REQUEST_KEYS, "request setting");
                if let Some(m) = r.get("method").and_then(Value::as_str)
                    && !m.trim().is_empty()
                {
                    spec.method = m.trim().to_ascii_uppercase();
                }
                let label = name.clone().unwrap_or_default();
                self.url(
                    &mut spec,
                    r.get("url"),
                    &label,
                    &format!("{here}.request.url"),
                );
                spec.headers = headers(r.get("header"));
                spec.body = self.body(r.get("body"), &spec.headers, &label);
                spec.description = r.get("description").map(description).unwrap_or_default();
                if let Some(a) = r.get("auth") {
                    let on = format!("request '{label}'");
                    own_auth = self.auth(a, &on, &format!("{here}.request.auth"));
                }
            }
            _ => self.warn(format!(
                "{here}.request is not a request; imported as an empty GET"
            )),
        }
        if spec.description.is_empty() {
            spec.description = o.get("description").map(description).unwrap_or_default();
        }
        spec.name = name.unwrap_or_else(|| {
            let url = spec.url.rsplit('/').next().unwrap_or("");
            format!("{} {url}", spec.method).trim().to_string()
        });
        (spec.auth, spec.oauth2) = match own_auth {
            AuthChoice::Set(a, o) => (Some(a), o.map(|o| *o)),
            AuthChoice::Inherit => (inherited.auth.clone(), inherited.oauth2.clone()),
        };

        // Scripts: folder lines first (they run first in Postman), then the request's own.
        let mut pre = inherited.pre_request.clone();
        let mut test = inherited.test.clone();
        let inherited_len = [pre.len(), test.len()];
        spec.captures = inherited.captures.clone();
        for (phase, lines) in events(self, o.get("event"), &format!("{here}.event")) {
            if phase == "pre-request" {
                let setup = scripts::read_pre_request(&lines);
                self.note_setup(&format!("'{}'", spec.name), &setup);
                merge_rows(&mut spec.variables, setup.variables);
                for h in setup.headers {
                    // A header the request sets itself wins, as `add` would not replace it.
                    if !spec
                        .headers
                        .iter()
                        .any(|x| x.enabled && x.key.eq_ignore_ascii_case(&h.key))
                    {
                        spec.headers.push(h);
                    }
                }
                pre.extend(setup.kept);
            } else {
                let read = read_test_script(&lines);
                for c in &read.captures {
                    self.report
                        .converted
                        .push(format!("{c} on '{}'", spec.name));
                }
                for n in &read.next_request {
                    self.report.kept_not_run.push(format!(
                        "{n} on '{}' (fhirside does not run requests in sequence)",
                        spec.name
                    ));
                }
                spec.captures.extend(read.captures);
                test.extend(read.kept);
            }
        }
        for ((phase, lines), inherited_len) in [("pre-request", pre), ("test", test)]
            .into_iter()
            .zip(inherited_len)
        {
            let own = lines.len().saturating_sub(inherited_len);
            if own > 0 {
                self.report.kept_not_run.push(format!(
                    "'{}': {own} {phase} script line{}",
                    spec.name,
                    if own == 1 { "" } else { "s" }
                ));
            }
            if !lines.is_empty() {
                spec.scripts.push(KeptScript {
                    phase: phase.into(),
                    lines,
                });
            }
        }
        spec.examples = examples(o.get("response"));
        spec
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn import(v: Value) -> (Collection, ImportReport) {
        import_collection_value("t.json", &v).unwrap()
    }

    #[test]
    fn url_shapes() {
        let (c, _) = import(json!({"info": {"name": "U"}, "item": [
            {"name": "a", "request": {"method": "get", "url": {
                "raw": "{{apimUrl}}CodeSystem/:id/$lookup?system=x&code ",
                "host": ["{{apimUrl}}CodeSystem"],
                "query": [{"key": "system", "value": "x"}, {"key": "code", "value": null}, {"key": "off", "value": "1", "disabled": true}],
                "variable": [{"key": "id", "value": "loinc"}]
            }}},
            {"name": "b", "request": {"url": {"protocol": "https", "host": ["fhir", "example", "org"], "port": "8443", "path": ["Patient", ":pid"], "variable": [{"key": "pid"}]}}},
            {"name": "c", "request": "{{base}}/Patient?name=x  "}
        ]}));
        let r = &c.root.requests;
        assert_eq!(r[0].spec.method, "GET");
        assert_eq!(r[0].spec.url, "{{apimUrl}}CodeSystem/{{id}}/$lookup");
        assert_eq!(r[0].spec.variables, vec![KeyValue::new("id", "loinc")]);
        assert_eq!(r[0].spec.query.len(), 3);
        assert!(!r[0].spec.query[2].enabled);
        assert_eq!(
            r[1].spec.url,
            "https://fhir.example.org:8443/Patient/{{pid}}"
        );
        assert_eq!(r[2].spec.url, "{{base}}/Patient");
        assert_eq!(r[2].spec.query, vec![KeyValue::new("name", "x")]);
        assert_eq!(r[2].spec.seq, 3, "positions count from 1, as in the seed");
    }

    #[test]
    fn wrong_top_level_types_are_errors_not_panics() {
        assert!(import_collection_value("t.json", &json!([1])).is_err());
        assert!(import_collection_value("t.json", &json!({"item": 3})).is_err());
        let (_, rep) = import(
            json!({"item": [1, {"name": "x"}, {"name": "y", "request": 5}], "variable": "x", "auth": 4, "event": {}}),
        );
        assert_eq!(rep.imported, 1);
        assert!(rep.warnings.len() >= 3);
    }
}
