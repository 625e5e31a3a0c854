//! The in-memory shape of a workspace: environments, collections, folders and saved requests.
//!
//! Kept free of I/O so the UI, the CLI and tests can build and inspect workspaces directly;
//! `store` maps this shape onto TOML files.

use serde::{Deserialize, Serialize};

/// One `key = value` row of an environment, collection, query or header table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyValue {
    pub key: String,
    #[serde(default)]
    pub value: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            enabled: true,
        }
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A variable of an environment. Secret values never live in the environment file:
/// they are kept in `secrets.toml` and joined back in on load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub key: String,
    pub value: String,
    pub enabled: bool,
    pub secret: bool,
}

impl Variable {
    pub fn plain(key: &str, value: &str) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            enabled: true,
            secret: false,
        }
    }

    pub fn secret(key: &str, value: &str) -> Self {
        Self {
            secret: true,
            ..Self::plain(key, value)
        }
    }
}

/// Keys that hold credentials even when nobody marked them secret.
pub fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["secret", "password", "token", "apikey", "api_key", "bearer"]
        .iter()
        .any(|needle| k.contains(needle))
}

/// A named set of variables, one TOML file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// File stem under `environments/`; also the name shown.
    pub name: String,
    pub variables: Vec<Variable>,
    /// Request timeout for this environment.
    pub timeout_secs: u64,
    /// How fhirside gets tokens for this environment's FHIR service (`[auth]` in its file).
    pub auth: Option<AuthConfig>,
    /// Accept any TLS certificate for this environment only (`insecure = true` in its file):
    /// for test servers with self-signed certificates. The UI warns while it is active.
    pub insecure: bool,
    /// Origins besides `fhirurl`'s that may receive the environment's FHIR token
    /// (`trusted_origins = ["https://files.example.org"]`): a status URL or an export file
    /// there. See `worker::credentials`.
    pub trusted_origins: Vec<String>,
    /// Hosts that get a storage token for export files (`storage_hosts = [...]`); `None` means
    /// Azure Storage's (`*.blob.core.windows.net`, `*.dfs.core.windows.net`) in Entra
    /// environments and none elsewhere; `Some([])` means none.
    pub storage_hosts: Option<Vec<String>>,
}

/// The ways an environment can sign in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    #[default]
    None,
    /// A fixed bearer token (a template, `{{bearerToken}}` by default).
    Bearer,
    ClientCredentials,
    /// User sign-in in a browser: authorization code with PKCE and a loopback redirect.
    AuthorizationCode,
    /// User sign-in from any device: the natural choice over SSH.
    DeviceCode,
    /// The token printed by a command, e.g. `az account get-access-token`.
    Command,
    /// Client credentials proven by a signed JWT (RFC 7523 `private_key_jwt`): an Entra
    /// certificate (flavor `entra_v1`/`entra_v2`) or SMART Backend Services (`oauth2`).
    PrivateKeyJwt,
}

impl AuthKind {
    pub const ALL: [AuthKind; 7] = [
        AuthKind::None,
        AuthKind::Bearer,
        AuthKind::ClientCredentials,
        AuthKind::PrivateKeyJwt,
        AuthKind::AuthorizationCode,
        AuthKind::DeviceCode,
        AuthKind::Command,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AuthKind::None => "none",
            AuthKind::Bearer => "static bearer token",
            AuthKind::ClientCredentials => "client credentials",
            AuthKind::AuthorizationCode => "user sign-in (browser, PKCE)",
            AuthKind::DeviceCode => "device code",
            AuthKind::Command => "token from a command",
            AuthKind::PrivateKeyJwt => "signed client assertion (certificate / SMART)",
        }
    }
}

/// Which token endpoint shape to speak.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum TokenFlavor {
    /// Entra ID v1: `{authority}/{tenant}/oauth2/token` with `resource=`.
    #[default]
    EntraV1,
    /// Entra ID v2: `{authority}/{tenant}/oauth2/v2.0/token` with `scope={audience}/.default`.
    EntraV2,
    /// Any OAuth2 server: `token_url` (and friends) must be set.
    Oauth2,
}

/// Sign-in settings of an environment. Every string is a template (`{{clientid}}` …); unset
/// fields take the Azure defaults, so a bare `kind = "client_credentials"` works with the
/// walkthrough's variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub kind: AuthKind,
    #[serde(default)]
    pub flavor: TokenFlavor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// A command that prints the client secret (a vault or keychain CLI), run at sign-in, so
    /// the secret need not be stored at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_command: Option<String>,
    /// The FHIR service's audience; defaults to `{{fhirurl}}` (it may differ from the URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Explicit scopes (space separated); default `{audience}/.default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Loopback port for the authorization-code redirect (match the app registration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_timeout_secs: Option<u64>,
    /// The static token for `kind = "bearer"`; default `{{bearerToken}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The variable the token lands in, for `{{…}}` use; default `bearerToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_variable: Option<String>,
    /// `private_key_jwt`: the PEM private key's path (the key itself is never in this file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// `private_key_jwt`: a command that prints the PEM private key (a vault CLI), instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_command: Option<String>,
    /// `private_key_jwt`: the certificate registered with Entra (PEM), for `x5t`/`x5t#S256`;
    /// default: a certificate in the key file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_file: Option<String>,
    /// `private_key_jwt`: RS256, RS384, PS256 or ES384; default PS256 for Entra, RS384 (or
    /// ES384 for an EC key) otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// `private_key_jwt`: the `kid` header (the key's id in the JWKS the server knows);
    /// default: the key's RFC 7638 thumbprint, as `fhirside keygen` prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

impl AuthConfig {
    pub fn token_variable(&self) -> &str {
        self.token_variable.as_deref().unwrap_or("bearerToken")
    }
}

pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

impl Environment {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            variables: Vec::new(),
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            auth: None,
            insecure: false,
            trusted_origins: Vec::new(),
            storage_hosts: None,
        }
    }

    /// The enabled value of `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.variables
            .iter()
            .find(|v| v.enabled && v.key == key)
            .map(|v| v.value.as_str())
    }

    /// Sets `key`, adding it (as a secret when the name looks like one) if absent.
    pub fn set(&mut self, key: &str, value: &str) {
        if let Some(v) = self.variables.iter_mut().find(|v| v.key == key) {
            v.value = value.into();
            v.enabled = true;
        } else {
            let mut v = Variable::plain(key, value);
            v.secret = looks_secret(key);
            self.variables.push(v);
        }
    }
}

/// HTTP methods offered by the method selector.
pub const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// How the body is written and sent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum BodyKind {
    #[default]
    None,
    /// Raw text checked as JSON while typing.
    Json,
    /// Raw text sent as is.
    Text,
    /// `application/x-www-form-urlencoded` from a key/value table.
    Form,
}

/// A saved request, one TOML file on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    pub name: String,
    /// Position among its siblings (lower first); ties break by name.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u32,
    #[serde(default = "get")]
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Body::is_empty")]
    pub body: Body,
    /// Values to take from a successful response into variables (the "Tests tab" job as data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub captures: Vec<Capture>,
    /// How this request authenticates; `None` inherits (collection, then environment sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<RequestAuth>,
    /// Script lines brought in by an import that fhirside does not run, kept so nothing is lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scripts: Vec<KeptScript>,
    /// Saved example responses (from imports), kept for reference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
}

/// Per-request authentication, as API clients model it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum RequestAuth {
    /// Send no Authorization header even if the environment signs in.
    None,
    /// `Authorization: Bearer {token}` (a template, e.g. `{{bearerToken}}`).
    Bearer {
        token: String,
    },
    Basic {
        username: String,
        password: String,
    },
    /// A key sent in a header or in the query.
    ApiKey {
        key: String,
        value: String,
        #[serde(default)]
        in_query: bool,
    },
    /// Sign in with the environment's OAuth2 configuration (see the sign-in settings).
    Oauth2,
}

/// Script lines that were not converted into capture rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeptScript {
    /// `pre-request` or `test`.
    pub phase: String,
    pub lines: Vec<String>,
}

/// A saved example response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

/// After a successful response, set `variable` from a JSON path in the body or from a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    pub variable: String,
    #[serde(default)]
    pub source: CaptureSource,
    /// `$.a.b[0].c` for the body, a header name for headers.
    pub path: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum CaptureSource {
    #[default]
    Body,
    Header,
}

impl std::fmt::Display for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.source {
            CaptureSource::Body => write!(f, "{} ← {}", self.variable, self.path),
            CaptureSource::Header => write!(f, "{} ← header {}", self.variable, self.path),
        }
    }
}

fn get() -> String {
    "GET".into()
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Body {
    #[serde(default)]
    pub kind: BodyKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form: Vec<KeyValue>,
}

impl Body {
    pub fn is_empty(&self) -> bool {
        self.kind == BodyKind::None && self.text.is_empty() && self.form.is_empty()
    }
}

impl RequestSpec {
    pub fn new(name: &str, method: &str, url: &str) -> Self {
        Self {
            name: name.into(),
            seq: 0,
            method: method.into(),
            url: url.into(),
            description: String::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::default(),
            captures: Vec::new(),
            auth: None,
            scripts: Vec::new(),
            examples: Vec::new(),
        }
    }

    pub fn header(mut self, key: &str, value: &str) -> Self {
        self.headers.push(KeyValue::new(key, value));
        self
    }

    pub fn query_param(mut self, key: &str, value: &str) -> Self {
        self.query.push(KeyValue::new(key, value));
        self
    }

    pub fn json_body(mut self, text: &str) -> Self {
        self.body = Body {
            kind: BodyKind::Json,
            text: text.into(),
            form: Vec::new(),
        };
        self
    }

    pub fn form_body(mut self, fields: &[(&str, &str)]) -> Self {
        self.body = Body {
            kind: BodyKind::Form,
            text: String::new(),
            form: fields.iter().map(|(k, v)| KeyValue::new(*k, *v)).collect(),
        };
        self
    }

    /// Moves any `?a=b&c` part of `url` into the query table, so the table is the one
    /// place query parameters live.
    pub fn split_query_from_url(&mut self) {
        if let Some(pos) = self.url.find('?') {
            let query = self.url[pos + 1..].to_string();
            self.url.truncate(pos);
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                self.query.push(KeyValue::new(k, v));
            }
        }
    }

    /// The URL as it would be sent before templating: base plus enabled query parameters.
    pub fn full_url(&self) -> String {
        let params: Vec<String> = self
            .query
            .iter()
            .filter(|q| q.enabled)
            .map(|q| {
                if q.value.is_empty() {
                    q.key.clone()
                } else {
                    format!("{}={}", q.key, q.value)
                }
            })
            .collect();
        if params.is_empty() {
            self.url.clone()
        } else {
            let sep = if self.url.contains('?') { '&' } else { '?' };
            format!("{}{}{}", self.url, sep, params.join("&"))
        }
    }
}

/// A folder of requests and sub-folders. The collection root is a folder too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Folder {
    /// Directory name on disk (and the name shown).
    pub name: String,
    pub folders: Vec<Folder>,
    pub requests: Vec<SavedRequest>,
}

/// A request together with its file stem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedRequest {
    pub file_stem: String,
    pub spec: RequestSpec,
}

/// A collection: a folder tree plus variables shared by its requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Collection {
    pub root: Folder,
    pub variables: Vec<KeyValue>,
    pub description: String,
    /// Authentication inherited by requests whose `auth` is not set.
    pub auth: Option<RequestAuth>,
    /// Collection-level script lines kept but not run.
    pub scripts: Vec<KeptScript>,
}

impl Collection {
    pub fn name(&self) -> &str {
        &self.root.name
    }
}

/// Where a node sits: the collection's directory, then folders, then (for a request) its file stem.
/// The same path names the file on disk, so it doubles as a stable id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodePath(pub Vec<String>);

impl NodePath {
    pub fn collection(&self) -> Option<&str> {
        self.0.first().map(String::as_str)
    }

    pub fn child(&self, name: &str) -> NodePath {
        let mut v = self.0.clone();
        v.push(name.into());
        NodePath(v)
    }

    pub fn parent(&self) -> Option<NodePath> {
        if self.0.len() <= 1 {
            None
        } else {
            Some(NodePath(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    pub fn last(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or("")
    }

    /// `Collection/Folder/Request`, as the CLI and palette show it.
    pub fn display(&self) -> String {
        self.0.join("/")
    }
}

/// Everything fhirside keeps in a workspace folder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Workspace {
    pub environments: Vec<Environment>,
    pub collections: Vec<Collection>,
}

impl Workspace {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    pub fn environment_mut(&mut self, name: &str) -> Option<&mut Environment> {
        self.environments.iter_mut().find(|e| e.name == name)
    }

    pub fn collection(&self, dir: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.root.name == dir)
    }

    /// The folder at `path` (a collection root or a sub-folder).
    pub fn folder(&self, path: &NodePath) -> Option<&Folder> {
        let (first, rest) = path.0.split_first()?;
        let mut folder = &self.collection(first)?.root;
        for name in rest {
            folder = folder.folders.iter().find(|f| &f.name == name)?;
        }
        Some(folder)
    }

    pub fn folder_mut(&mut self, path: &NodePath) -> Option<&mut Folder> {
        let (first, rest) = path.0.split_first()?;
        let mut folder = &mut self
            .collections
            .iter_mut()
            .find(|c| &c.root.name == first)?
            .root;
        for name in rest {
            folder = folder.folders.iter_mut().find(|f| &f.name == name)?;
        }
        Some(folder)
    }

    pub fn request(&self, path: &NodePath) -> Option<&SavedRequest> {
        let parent = path.parent()?;
        self.folder(&parent)?
            .requests
            .iter()
            .find(|r| r.file_stem == path.last())
    }

    pub fn request_mut(&mut self, path: &NodePath) -> Option<&mut SavedRequest> {
        let parent = path.parent()?;
        let stem = path.last().to_string();
        self.folder_mut(&parent)?
            .requests
            .iter_mut()
            .find(|r| r.file_stem == stem)
    }

    /// Every request with its path, in tree order.
    pub fn all_requests(&self) -> Vec<(NodePath, &SavedRequest)> {
        fn walk<'a>(f: &'a Folder, path: NodePath, out: &mut Vec<(NodePath, &'a SavedRequest)>) {
            for r in &f.requests {
                out.push((path.child(&r.file_stem), r));
            }
            for sub in &f.folders {
                walk(sub, path.child(&sub.name), out);
            }
        }
        let mut out = Vec::new();
        for c in &self.collections {
            walk(&c.root, NodePath(vec![c.root.name.clone()]), &mut out);
        }
        out
    }

    /// Every collection and folder path, for the "move to" picker.
    pub fn all_folders(&self) -> Vec<NodePath> {
        fn walk(f: &Folder, path: NodePath, out: &mut Vec<NodePath>) {
            out.push(path.clone());
            for sub in &f.folders {
                walk(sub, path.child(&sub.name), out);
            }
        }
        let mut out = Vec::new();
        for c in &self.collections {
            walk(&c.root, NodePath(vec![c.root.name.clone()]), &mut out);
        }
        out
    }
}

impl Folder {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Keeps siblings in the order shown: folders by name, requests by (seq, name).
    pub fn sort(&mut self) {
        self.folders.sort_by(|a, b| a.name.cmp(&b.name));
        self.requests
            .sort_by(|a, b| (a.spec.seq, &a.spec.name).cmp(&(b.spec.seq, &b.spec.name)));
        for f in &mut self.folders {
            f.sort();
        }
    }

    /// A file or directory name not yet used in this folder, derived from `name`.
    pub fn free_name(&self, name: &str) -> String {
        let base = file_safe_name(name);
        let taken = |n: &str| {
            self.folders.iter().any(|f| f.name == n)
                || self.requests.iter().any(|r| r.file_stem == n)
        };
        if !taken(&base) {
            return base;
        }
        (2..)
            .map(|i| format!("{base} {i}"))
            .find(|n| !taken(n))
            .unwrap_or(base)
    }
}

/// Turns a display name into a name that is safe as a file or directory on every OS.
pub fn file_safe_name(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '-',
            c if c.is_control() => '-',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "untitled".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_query_moves_params_into_table() {
        let mut r = RequestSpec::new(
            "x",
            "GET",
            "{{fhirurl}}/$export?_container=export&_type=Patient&flag",
        );
        r.split_query_from_url();
        assert_eq!(r.url, "{{fhirurl}}/$export");
        assert_eq!(r.query.len(), 3);
        assert_eq!(r.query[2], KeyValue::new("flag", ""));
        assert_eq!(
            r.full_url(),
            "{{fhirurl}}/$export?_container=export&_type=Patient&flag"
        );
    }

    #[test]
    fn disabled_params_are_left_out_of_the_url() {
        let mut r = RequestSpec::new("x", "GET", "http://h/Patient").query_param("name", "smith");
        r.query.push(KeyValue {
            key: "_count".into(),
            value: "5".into(),
            enabled: false,
        });
        assert_eq!(r.full_url(), "http://h/Patient?name=smith");
    }

    #[test]
    fn file_safe_names() {
        assert_eq!(file_safe_name("a/b: c"), "a-b- c");
        assert_eq!(file_safe_name("  .. "), "untitled");
        assert_eq!(file_safe_name("Zoë"), "Zoë");
    }

    #[test]
    fn free_name_avoids_siblings() {
        let mut f = Folder::new("c");
        f.requests.push(SavedRequest {
            file_stem: "List".into(),
            spec: RequestSpec::new("List", "GET", "x"),
        });
        assert_eq!(f.free_name("List"), "List 2");
        assert_eq!(f.free_name("Other"), "Other");
    }

    #[test]
    fn secret_looking_keys() {
        assert!(looks_secret("clientsecret"));
        assert!(looks_secret("bearerToken"));
        assert!(!looks_secret("fhirurl"));
    }
}
