//! The in-memory shape of a workspace: environments, collections, folders and saved requests.
//!
//! Kept free of I/O so the UI, the CLI and tests can build and inspect workspaces directly;
//! `store` maps this shape onto TOML files.

use serde::{Deserialize, Serialize};

pub use super::names::{SiblingNames, file_safe_name};

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

/// Keys that hold credentials even when nobody marked them secret (a Postman Vault
/// reference `vault:NAME` always does).
pub fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    vault_reference(key).is_some()
        || ["secret", "password", "token", "apikey", "api_key", "bearer"]
            .iter()
            .any(|needle| k.contains(needle))
}

/// The prefix of a Postman Vault reference, `{{vault:NAME}}`.
pub const VAULT_PREFIX: &str = "vault:";

/// `NAME` when the variable name `vault:NAME` is a Postman Vault reference: a secret that no
/// file holds. Imports keep these references as written; the sender is to ask for the value
/// when sending (as a secret: masked, never written to a file or to history) and keep it for
/// the session only.
pub fn vault_reference(variable: &str) -> Option<&str> {
    variable
        .trim()
        .strip_prefix(VAULT_PREFIX)
        .map(str::trim)
        .filter(|n| !n.is_empty())
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
    /// Variables of this request alone, the innermost scope (see [`Workspace::variables_for`]):
    /// Postman path variables (`/Patient/:id` is kept as `/Patient/{{id}}` with the sample
    /// value here) and literal `pm.variables.set` lines of its pre-request script.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<KeyValue>,
    /// OAuth2 settings another tool kept on this request, for export; sending uses the
    /// environment's sign-in (`auth = oauth2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Settings>,
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

/// OAuth2 settings as Postman describes them (`auth.type = oauth2`), kept on the collection or
/// request so an export gives them back. fhirside itself signs in with the environment's
/// `[auth]`, which an import derives from these. A client secret is only ever a `{{template}}`
/// here: a literal one goes to the sign-in environment's secrets instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Settings {
    /// Postman's `grant_type`: `authorization_code_with_pkce`, `authorization_code`,
    /// `client_credentials`, `implicit`, `password_credentials`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub grant_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_token_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub redirect_uri: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_secret: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// `header` (HTTP Basic) or `body`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_authentication: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub use_pkce: bool,
    /// `S256` or `plain`, when PKCE is used.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub challenge_algorithm: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// Extra parameters for the authorization request (e.g. `aud`, `resource`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auth_request_params: Vec<KeyValue>,
    /// Extra parameters for the token request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_request_params: Vec<KeyValue>,
}

fn is_false(b: &bool) -> bool {
    !*b
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
            variables: Vec::new(),
            oauth2: None,
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
    /// Directory name on disk: the node's address in a [`NodePath`]. See [`Folder::title`] for
    /// the name to show.
    pub name: String,
    /// The real name when it is not a safe file name (`Admin/Users`, `CON`, a very long one);
    /// `None` when it equals `name`. For a collection root, the collection's name.
    pub title: Option<String>,
    /// Position among its sibling folders (lower first, ties by name): the source order of
    /// an import. Postman interleaves folders and requests; an import numbers both from the
    /// same count, so an export can give the original order back.
    pub seq: u32,
    /// Not used on a collection root (the collection has its own).
    pub description: String,
    /// Variables for every request under this folder, between the collection's and the
    /// request's own (see [`Workspace::variables_for`]). Not used on a collection root.
    pub variables: Vec<KeyValue>,
    /// Header rows added to every request under this folder (a request's own header of the
    /// same name wins; see [`Workspace::headers_for`]). Not used on a collection root.
    pub headers: Vec<KeyValue>,
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
    /// Header rows added to every request of the collection (a folder's or the request's own
    /// header of the same name wins).
    pub headers: Vec<KeyValue>,
    /// OAuth2 settings kept from an import for export (see [`OAuth2Settings`]).
    pub oauth2: Option<OAuth2Settings>,
}

impl Collection {
    /// The collection's directory name, its address in a [`NodePath`].
    pub fn name(&self) -> &str {
        &self.root.name
    }

    /// The name to show (may hold characters its directory name cannot).
    pub fn title(&self) -> &str {
        self.root.title()
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

/// Why a typed request address found no single request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("no saved request '{wanted}'. Requests: {}", if known.is_empty() { "(none)".to_string() } else { known.join(", ") })]
    NotFound { wanted: String, known: Vec<String> },
    #[error("'{wanted}' names more than one request; give one of these addresses: {}", candidates.join(", "))]
    Ambiguous {
        wanted: String,
        candidates: Vec<String>,
    },
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

    /// The folders from the collection root down to the node at `path` (a request's parent
    /// folders, or a folder and its parents), outermost first.
    fn folder_chain(&self, path: &NodePath) -> Vec<&Folder> {
        let mut out = Vec::new();
        let Some((first, rest)) = path.0.split_first() else {
            return out;
        };
        let Some(c) = self.collection(first) else {
            return out;
        };
        let mut folder = &c.root;
        out.push(folder);
        for name in rest {
            match folder.folders.iter().find(|f| &f.name == name) {
                Some(f) => {
                    folder = f;
                    out.push(f);
                }
                None => break,
            }
        }
        out
    }

    /// The variables a request (or anything under a folder) sees besides the environment's,
    /// innermost first, so the first enabled match wins: the request's own, then each folder
    /// from the nearest outwards, then the collection's. Pass it as the template context's
    /// collection variables.
    pub fn variables_for(&self, path: &NodePath) -> Vec<KeyValue> {
        let mut out = Vec::new();
        if let Some(r) = self.request(path) {
            out.extend(r.spec.variables.iter().cloned());
        }
        let chain = self.folder_chain(path);
        for f in chain.iter().skip(1).rev() {
            out.extend(f.variables.iter().cloned());
        }
        if let Some(c) = path.collection().and_then(|n| self.collection(n)) {
            out.extend(c.variables.iter().cloned());
        }
        out
    }

    /// The header rows a request inherits from its collection and folders, outermost first:
    /// enabled rows only, a nearer folder's row replacing an outer one of the same name, and
    /// none the request sets itself (enabled). Add them to the request's own headers to send.
    pub fn headers_for(&self, path: &NodePath) -> Vec<KeyValue> {
        let mut out: Vec<KeyValue> = Vec::new();
        let mut layer = |rows: &[KeyValue]| {
            for h in rows
                .iter()
                .filter(|h| h.enabled && !h.key.trim().is_empty())
            {
                out.retain(|o| !o.key.eq_ignore_ascii_case(&h.key));
                out.push(h.clone());
            }
        };
        if let Some(c) = path.collection().and_then(|n| self.collection(n)) {
            layer(&c.headers);
        }
        for f in self.folder_chain(path).iter().skip(1) {
            layer(&f.headers);
        }
        if let Some(r) = self.request(path) {
            out.retain(|o| {
                !r.spec
                    .headers
                    .iter()
                    .any(|h| h.enabled && h.key.eq_ignore_ascii_case(&o.key))
            });
        }
        out
    }

    /// Finds a request from what a user typed: its address as `fhirside list` prints it
    /// (`Collection/Folder/Request`, directory and file names: always unique), or the names
    /// shown (collection, folder and request names, any part may be either), compared without
    /// case. An exact address always wins, so every address `list` prints finds its request.
    pub fn find_request(&self, wanted: &str) -> Result<NodePath, AddressError> {
        let parts: Vec<&str> = wanted
            .split('/')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let all = self.all_requests();
        if let Some((p, _)) = all.iter().find(|(p, _)| p.0 == parts) {
            return Ok(p.clone());
        }
        let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
        let by_address: Vec<&NodePath> = all
            .iter()
            .map(|(p, _)| p)
            .filter(|p| p.0.len() == parts.len() && p.0.iter().zip(&parts).all(|(a, b)| same(a, b)))
            .collect();
        if let [one] = by_address.as_slice() {
            return Ok((*one).clone());
        }
        let matches: Vec<NodePath> = all
            .iter()
            .filter(|(p, r)| {
                if p.0.len() != parts.len() {
                    return false;
                }
                let titles = self.titles_of(p, &r.spec.name);
                p.0.iter()
                    .zip(&titles)
                    .zip(&parts)
                    .all(|((dir, title), want)| same(dir, want) || same(title, want))
            })
            .map(|(p, _)| p.clone())
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(AddressError::NotFound {
                wanted: wanted.to_string(),
                known: all.iter().map(|(p, _)| p.display()).collect(),
            }),
            many => Err(AddressError::Ambiguous {
                wanted: wanted.to_string(),
                candidates: many.iter().map(NodePath::display).collect(),
            }),
        }
    }

    /// The names shown for each part of a request's path: collection, folders, request.
    fn titles_of(&self, path: &NodePath, request_name: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .folder_chain(path)
            .iter()
            .map(|f| f.title().to_string())
            .collect();
        out.push(request_name.to_string());
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

    /// A folder named `title`, in a directory whose name is `title` made safe.
    pub fn titled(title: &str) -> Self {
        let mut f = Folder::new(&file_safe_name(title));
        f.set_title(title);
        f
    }

    /// The name to show: the real name, which may differ from the directory name.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    /// Sets the name to show, keeping `title` empty when it equals the directory name.
    pub fn set_title(&mut self, title: &str) {
        self.title = (title != self.name).then(|| title.to_string());
    }

    /// Keeps siblings in the order shown: folders by (seq, name), requests by (seq, name).
    pub fn sort(&mut self) {
        self.folders
            .sort_by(|a, b| (a.seq, &a.name).cmp(&(b.seq, &b.name)));
        self.requests
            .sort_by(|a, b| (a.spec.seq, &a.spec.name).cmp(&(b.spec.seq, &b.spec.name)));
        for f in &mut self.folders {
            f.sort();
        }
    }

    /// The names used by this folder's children, as [`SiblingNames`] compares them.
    pub fn sibling_names(&self) -> SiblingNames {
        let mut names = SiblingNames::new();
        for f in &self.folders {
            names.insert(&f.name);
        }
        for r in &self.requests {
            names.insert(&r.file_stem);
        }
        names
    }

    /// A file or directory name not yet used in this folder (compared as a case-insensitive
    /// file system would), derived from `name`.
    pub fn free_name(&self, name: &str) -> String {
        self.sibling_names().allocate(name)
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
