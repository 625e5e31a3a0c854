//! Postman Collection v2.0 / v2.1 import. Postman is where most FHIR teams keep their requests,
//! so this is the main way into fhirside: folders, requests, bodies, auth (pushed down from
//! folders), variables, saved examples, and the script idioms that are really capture rules.
//!
//! The JSON is read as a loose `serde_json::Value` rather than typed structs, because real
//! exports mix the v2.0 and v2.1 shapes and put wrong types in odd places; a field that is not
//! what we expect is skipped with a warning instead of failing the whole import.

use serde_json::{Map, Value};

use super::scripts::{self, exec_lines, read_test_script};
use super::{FoundOAuth2, ImportError, ImportReport, OAuth2Settings, value_text};
use crate::workspace::{
    Body, BodyKind, Capture, Collection, Example, Folder, KeptScript, KeyValue, RequestAuth,
    RequestSpec, SavedRequest, SiblingNames,
};

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

enum AuthChoice {
    Inherit,
    /// The auth, and for OAuth2 the settings to keep with it (a literal secret replaced).
    Set(RequestAuth, Option<Box<OAuth2Settings>>),
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

/// Keys of a Postman OAuth2 block that are read into [`OAuth2Settings`] or that need nothing
/// (how Postman itself stores and shows the token).
const OAUTH2_KNOWN: [&str; 22] = [
    "grant_type",
    "authUrl",
    "accessTokenUrl",
    "redirect_uri",
    "clientId",
    "clientSecret",
    "scope",
    "client_authentication",
    "challengeAlgorithm",
    "state",
    "authRequestParams",
    "tokenRequestParams",
    "accessToken",
    "tokenType",
    "addTokenTo",
    "headerPrefix",
    "tokenName",
    "useBrowser",
    "code_verifier",
    "id",
    "timestamp",
    "expires_in",
];

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

/// Reads `key` from an auth block in the v2.1 shape (`[{key, value}]`) or the v2.0 shape (`{key: value}`).
fn auth_param(block: Option<&Value>, key: &str) -> Option<String> {
    match block? {
        Value::Array(items) => items.iter().find_map(|i| {
            let o = i.as_object()?;
            (o.get("key").and_then(Value::as_str) == Some(key))
                .then(|| o.get("value").map(value_text).unwrap_or_default())
        }),
        Value::Object(o) => o.get(key).map(value_text),
        _ => None,
    }
}

fn auth_params_list(block: Option<&Value>, key: &str) -> Vec<KeyValue> {
    let list = match block {
        Some(Value::Array(items)) => items.iter().find_map(|i| {
            let o = i.as_object()?;
            (o.get("key").and_then(Value::as_str) == Some(key)).then(|| o.get("value"))?
        }),
        Some(Value::Object(o)) => o.get(key),
        _ => None,
    };
    let Some(Value::Array(items)) = list else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|p| {
            let o = p.as_object()?;
            Some(KeyValue {
                key: o.get("key").map(value_text)?,
                value: o.get("value").map(value_text).unwrap_or_default(),
                enabled: o.get("enabled").is_none_or(|e| truthy(Some(e))),
            })
        })
        .collect()
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

    /// An OAuth2 auth block: the settings are recorded for the sign-in environment and kept
    /// for export; a block with nothing but a saved access token is bearer auth.
    fn oauth2(&mut self, block: Option<&Value>, on: &str) -> AuthChoice {
        let p = |k: &str| auth_param(block, k).unwrap_or_default();
        let grant_type = p("grant_type");
        let settings = OAuth2Settings {
            use_pkce: grant_type.contains("pkce"),
            grant_type,
            auth_url: p("authUrl"),
            access_token_url: p("accessTokenUrl"),
            redirect_uri: p("redirect_uri"),
            client_id: p("clientId"),
            client_secret: p("clientSecret"),
            scope: p("scope"),
            client_authentication: p("client_authentication"),
            challenge_algorithm: p("challengeAlgorithm"),
            state: p("state"),
            auth_request_params: auth_params_list(block, "authRequestParams"),
            token_request_params: auth_params_list(block, "tokenRequestParams"),
        };
        let token = p("accessToken");
        let says_how = OAuth2Settings {
            grant_type: String::new(),
            use_pkce: false,
            client_authentication: String::new(),
            challenge_algorithm: String::new(),
            ..settings.clone()
        } != OAuth2Settings::default();
        if !says_how {
            if token.is_empty() {
                self.warn(format!(
                    "OAuth2 on {on} has no settings; it signs in with the environment's sign-in"
                ));
                return AuthChoice::Set(RequestAuth::Oauth2, None);
            }
            // Postman's "use this token": bearer auth with a saved token.
            let shown = token.trim();
            let template = shown.starts_with("{{") && shown.ends_with("}}");
            let token = if template {
                shown.to_string()
            } else {
                self.warn(format!(
                    "OAuth2 on {on} only holds a saved access token: it became bearer auth with {{{{bearerToken}}}}; the token itself (a secret, likely expired) was not imported"
                ));
                "{{bearerToken}}".to_string()
            };
            self.report.converted.push(format!(
                "OAuth2 on {on} with only an access token became bearer auth ({token})"
            ));
            return AuthChoice::Set(RequestAuth::Bearer { token }, None);
        }
        let not_carried: Vec<String> = match block {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| {
                    let o = i.as_object()?;
                    let key = o.get("key").map(value_text)?;
                    let value = o.get("value").map(value_text).unwrap_or_default();
                    (!OAUTH2_KNOWN.contains(&key.as_str()) && !value.is_empty())
                        .then(|| format!("{key} = {}", super::show_secret_or_value(&key, &value)))
                })
                .collect(),
            Some(Value::Object(o)) => o
                .iter()
                .filter(|(k, v)| !OAUTH2_KNOWN.contains(&k.as_str()) && !value_text(v).is_empty())
                .map(|(k, v)| format!("{k} = {}", super::show_secret_or_value(k, &value_text(v))))
                .collect(),
            _ => Vec::new(),
        };
        match self
            .report
            .oauth2
            .iter_mut()
            .find(|f| f.settings == settings)
        {
            Some(found) => found.found_on.push(on.to_string()),
            None => {
                if let Some(first) = self.report.oauth2.first() {
                    let first_on = first.found_on.first().cloned().unwrap_or_default();
                    self.warn(format!(
                        "OAuth2 settings on {on} differ from those on the {first_on}; each gets a sign-in environment of its own"
                    ));
                }
                self.report.oauth2.push(FoundOAuth2 {
                    found_on: vec![on.to_string()],
                    settings: settings.clone(),
                    not_carried,
                });
            }
        }
        AuthChoice::Set(
            RequestAuth::Oauth2,
            Some(Box::new(keep_without_secret(settings))),
        )
    }

    fn auth(&mut self, v: &Value, on: &str, at: &str) -> AuthChoice {
        let Some(o) = v.as_object() else {
            if !v.is_null() {
                self.warn(format!("{at} is not an object; auth on {on} inherits"));
            }
            return AuthChoice::Inherit;
        };
        let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
        let block = o.get(kind);
        let p = |k: &str| auth_param(block, k).unwrap_or_default();
        match kind {
            "noauth" => AuthChoice::Set(RequestAuth::None, None),
            "inherit" | "" => AuthChoice::Inherit,
            "bearer" => AuthChoice::Set(RequestAuth::Bearer { token: p("token") }, None),
            "basic" => AuthChoice::Set(
                RequestAuth::Basic {
                    username: p("username"),
                    password: p("password"),
                },
                None,
            ),
            "apikey" => AuthChoice::Set(
                RequestAuth::ApiKey {
                    key: p("key"),
                    value: p("value"),
                    in_query: p("in") == "query",
                },
                None,
            ),
            "oauth2" => self.oauth2(block, on),
            other => {
                self.warn(format!(
                    "auth type '{other}' on {on} is not supported; it inherits instead"
                ));
                AuthChoice::Inherit
            }
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

    fn url(&mut self, spec: &mut RequestSpec, u: Option<&Value>, label: &str, at: &str) {
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

    fn body(&mut self, b: Option<&Value>, headers: &[KeyValue], label: &str) -> Body {
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

/// The settings to keep in the collection: a literal client secret becomes `{{clientsecret}}`
/// (the sign-in environment holds the literal as a secret variable of that name).
fn keep_without_secret(mut o: OAuth2Settings) -> OAuth2Settings {
    let secret = o.client_secret.trim();
    let template = secret.starts_with("{{") && secret.ends_with("}}");
    if !secret.is_empty() && !template {
        o.client_secret = "{{clientsecret}}".into();
    }
    o
}

/// Headers as a list of `{key, value, disabled}` or, in old exports, as `Key: value` lines.
fn headers(v: Option<&Value>) -> Vec<KeyValue> {
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

fn examples(v: Option<&Value>) -> Vec<Example> {
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
