//! Insomnia v4 export (`"_type": "export", "__export_format": 4`) import: each workspace
//! becomes a collection, request groups its folders (with their environment as folder
//! variables), requests keep their order (`metaSortKey`), the base environment becomes
//! collection variables and the sub-environments fhirside environments.
//!
//! Insomnia's `{{ _.name }}` is fhirside's `{{name}}`; its template tags (`{% response … %}`,
//! `{% uuid %}`…) are kept as written and reported. Resources form a tree through `parentId`;
//! the walk is bounded in depth and never follows a cycle.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{ImportError, ImportReport, value_text};
use crate::workspace::{
    Collection, Environment, Folder, KeyValue, RequestAuth, RequestSpec, SavedRequest,
    SiblingNames, Variable, file_safe_name, looks_secret,
};

/// Folders nested deeper than this are flattened into their ancestor at that depth.
const MAX_DEPTH: usize = 32;

type Res<'a> = &'a Map<String, Value>;

/// Imports a parsed Insomnia v4 export: its collections, environments and the report.
pub fn import_export(
    file: &str,
    v: &Value,
) -> Result<(Vec<Collection>, Vec<Environment>, ImportReport), ImportError> {
    let resources: Vec<Res> = v
        .get("resources")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ImportError::shape(
                file,
                "$.resources",
                "an Insomnia export lists its resources",
            )
        })?
        .iter()
        .filter_map(Value::as_object)
        .collect();
    let kind = |r: Res| {
        r.get("_type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let id = |r: Res| r.get("_id").map(value_text).unwrap_or_default();
    let parent = |r: Res| r.get("parentId").map(value_text).unwrap_or_default();
    let mut children: HashMap<String, Vec<Res>> = HashMap::new();
    for r in &resources {
        children.entry(parent(r)).or_default().push(r);
    }
    let mut report = ImportReport::default();
    let mut ctx = Ctx {
        children: &children,
        report: &mut report,
        visited: HashSet::new(),
        tags: 0,
    };
    let mut collections = Vec::new();
    let mut environments = Vec::new();
    let mut skipped: HashMap<String, usize> = HashMap::new();
    for r in &resources {
        let k = kind(r);
        if !matches!(
            k.as_str(),
            "workspace" | "request_group" | "request" | "environment" | "cookie_jar"
        ) {
            *skipped.entry(k).or_default() += 1;
        }
    }
    for ws in resources.iter().filter(|r| kind(r) == "workspace") {
        let title = ws
            .get("name")
            .map(value_text)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Insomnia".into());
        let mut c = Collection {
            root: Folder::titled(&title),
            description: ws.get("description").map(value_text).unwrap_or_default(),
            ..Collection::default()
        };
        ctx.visited.insert(id(ws));
        // The base environment: collection variables; its children: environments.
        for env in children
            .get(&id(ws))
            .into_iter()
            .flatten()
            .filter(|r| kind(r) == "environment")
        {
            c.variables.extend(ctx.variables(env.get("data")));
            for sub in children
                .get(&id(env))
                .into_iter()
                .flatten()
                .filter(|r| kind(r) == "environment")
            {
                let name = sub
                    .get("name")
                    .map(value_text)
                    .unwrap_or_else(|| "insomnia".into());
                let mut e = Environment::new(&file_safe_name(&name));
                for kv in ctx.variables(sub.get("data")) {
                    let mut var = Variable::plain(&kv.key, &kv.value);
                    var.secret = looks_secret(&kv.key);
                    e.variables.push(var);
                }
                environments.push(e);
            }
        }
        ctx.fill(&mut c.root, &id(ws), 0);
        collections.push(c);
    }
    let tags = ctx.tags;
    if collections.is_empty() {
        report
            .warnings
            .push("the export holds no workspace; nothing to import".into());
    }
    if tags > 0 {
        let n = tags;
        report.warnings.push(format!(
            "{n} Insomnia template tag{} ({{% … %}}, e.g. response chaining) {} kept as written; fhirside does not run them (use capture rules instead)",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" }
        ));
    }
    let mut skipped: Vec<_> = skipped.into_iter().filter(|(k, _)| !k.is_empty()).collect();
    skipped.sort();
    for (k, n) in skipped {
        report.warnings.push(format!(
            "{n} Insomnia resource{} of type '{k}' not imported",
            if n == 1 { "" } else { "s" }
        ));
    }
    Ok((collections, environments, report))
}

struct Ctx<'a, 'r> {
    children: &'a HashMap<String, Vec<Res<'r>>>,
    report: &'a mut ImportReport,
    visited: HashSet<String>,
    tags: usize,
}

impl Ctx<'_, '_> {
    /// `{{ _.name }}` → `{{name}}`; template tags counted.
    fn template(&mut self, s: &str) -> String {
        if s.contains("{%") {
            self.tags += s.matches("{%").count();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest.get(start + 2..).and_then(|r| r.find("}}")) else {
                break;
            };
            out.push_str(rest.get(..start).unwrap_or(""));
            let inner = rest.get(start + 2..start + 2 + len).unwrap_or("").trim();
            let inner = inner.strip_prefix("_.").unwrap_or(inner);
            out.push_str("{{");
            out.push_str(inner);
            out.push_str("}}");
            rest = rest.get(start + 4 + len..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    /// An environment's `data` object as rows (nested objects as `a.b`, other values as JSON).
    fn variables(&mut self, data: Option<&Value>) -> Vec<KeyValue> {
        let mut out = Vec::new();
        if let Some(Value::Object(o)) = data {
            for (k, v) in o {
                match v {
                    Value::Object(inner) => {
                        for (k2, v2) in inner {
                            let value = self.template(&value_text(v2));
                            out.push(KeyValue::new(format!("{k}.{k2}"), value));
                        }
                    }
                    other => {
                        let value = self.template(&value_text(other));
                        out.push(KeyValue::new(k, value));
                    }
                }
            }
        }
        out
    }

    /// Adds the folders and requests whose parent is `parent_id` to `folder`.
    fn fill(&mut self, folder: &mut Folder, parent_id: &str, depth: usize) {
        let Some(kids) = self.children.get(parent_id) else {
            return;
        };
        let mut kids: Vec<Res> = kids.to_vec();
        let sort_key = |r: &Res| r.get("metaSortKey").and_then(Value::as_f64).unwrap_or(0.0);
        kids.sort_by(|a, b| sort_key(a).total_cmp(&sort_key(b)));
        let mut names: SiblingNames = folder.sibling_names();
        let mut seq =
            u32::try_from(folder.requests.len() + folder.folders.len()).unwrap_or(u32::MAX);
        for r in kids {
            let id = r.get("_id").map(value_text).unwrap_or_default();
            if !self.visited.insert(id.clone()) {
                continue; // a cycle, or listed twice
            }
            let kind = r.get("_type").and_then(Value::as_str).unwrap_or("");
            let name = r
                .get("name")
                .map(value_text)
                .filter(|n| !n.trim().is_empty());
            match kind {
                "request_group" => {
                    let name = name.unwrap_or_else(|| "Folder".into());
                    if depth + 1 >= MAX_DEPTH {
                        self.report.warnings.push(format!(
                            "folder '{name}' is nested more than {MAX_DEPTH} deep; its requests were put in its parent"
                        ));
                        self.fill(folder, &id, depth + 1);
                        continue;
                    }
                    seq = seq.saturating_add(1);
                    let mut sub = Folder::new(&names.allocate(&name));
                    sub.set_title(&name);
                    sub.seq = seq;
                    sub.description = r.get("description").map(value_text).unwrap_or_default();
                    sub.variables = self.variables(r.get("environment"));
                    self.fill(&mut sub, &id, depth + 1);
                    folder.folders.push(sub);
                }
                "request" => {
                    seq = seq.saturating_add(1);
                    let mut spec = self.request(r, name);
                    spec.seq = seq;
                    let file_stem = names.allocate(&spec.name);
                    folder.requests.push(SavedRequest { file_stem, spec });
                    self.report.imported += 1;
                }
                _ => {}
            }
        }
    }

    fn request(&mut self, r: Res, name: Option<String>) -> RequestSpec {
        let method = r
            .get("method")
            .map(value_text)
            .unwrap_or_else(|| "GET".into());
        let url = self.template(r.get("url").map(value_text).unwrap_or_default().trim());
        let label = name.unwrap_or_else(|| {
            let last = url
                .split('?')
                .next()
                .unwrap_or("")
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("");
            format!("{} {last}", method.to_ascii_uppercase())
                .trim()
                .to_string()
        });
        let mut spec = RequestSpec::new(&label, &method.to_ascii_uppercase(), &url);
        spec.split_query_from_url();
        spec.description = r.get("description").map(value_text).unwrap_or_default();
        let rows = |ctx: &mut Self, v: Option<&Value>| -> Vec<KeyValue> {
            v.and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let key = p.get("name").map(value_text)?;
                    if key.is_empty() {
                        return None;
                    }
                    let value = ctx.template(&p.get("value").map(value_text).unwrap_or_default());
                    let off = p.get("disabled").and_then(Value::as_bool).unwrap_or(false);
                    Some(KeyValue {
                        key: ctx.template(&key),
                        value,
                        enabled: !off,
                    })
                })
                .collect()
        };
        spec.query.extend(rows(self, r.get("parameters")));
        spec.headers = rows(self, r.get("headers"));
        if let Some(b) = r.get("body").and_then(Value::as_object) {
            let mime = b
                .get("mimeType")
                .map(value_text)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let text = self.template(&b.get("text").map(value_text).unwrap_or_default());
            if mime.contains("x-www-form-urlencoded") || mime.contains("multipart") {
                let form = rows(self, b.get("params"));
                if mime.contains("multipart") {
                    self.report.warnings.push(format!(
                        "'{label}': multipart form data is sent as a URL-encoded form"
                    ));
                }
                if !form.is_empty() {
                    spec.body = super::form_of(form);
                }
            } else if !text.is_empty() {
                spec.body = super::body_for_media_type(&mime, text);
            }
        }
        if let Some(a) = r.get("authentication").and_then(Value::as_object)
            && !a.get("disabled").and_then(Value::as_bool).unwrap_or(false)
        {
            let p = |ctx: &mut Self, k: &str| {
                ctx.template(&a.get(k).map(value_text).unwrap_or_default())
            };
            let kind = a.get("type").and_then(Value::as_str).unwrap_or("");
            spec.auth = match kind {
                "bearer" => Some(RequestAuth::Bearer {
                    token: p(self, "token"),
                }),
                "basic" => Some(RequestAuth::Basic {
                    username: p(self, "username"),
                    password: p(self, "password"),
                }),
                "apikey" => Some(RequestAuth::ApiKey {
                    key: p(self, "key"),
                    value: p(self, "value"),
                    in_query: p(self, "addTo") == "queryParams",
                }),
                "none" => Some(RequestAuth::None),
                "oauth2" => {
                    self.report.warnings.push(format!(
                        "'{label}': Insomnia OAuth2 settings are not imported; the request signs in with the environment's sign-in"
                    ));
                    Some(RequestAuth::Oauth2)
                }
                "" => None,
                other => {
                    self.report.warnings.push(format!(
                        "'{label}': Insomnia auth type '{other}' is not supported; it inherits instead"
                    ));
                    None
                }
            };
        }
        spec
    }
}
