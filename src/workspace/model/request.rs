//! A saved request: method, URL, query, headers, body, auth, scripts kept, examples and capture rules.

use serde::{Deserialize, Serialize};

use super::KeyValue;

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
