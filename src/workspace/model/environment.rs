//! An environment and its sign-in settings: the auth kinds, token flavours and timeouts.

use serde::{Deserialize, Serialize};

use super::{Variable, looks_secret};

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
    /// Send `Prefer: handling=strict` with every search (`strict = true` in its file): Azure's
    /// FHIR service then refuses unknown search parameters (400) instead of dropping them
    /// silently. Added in the one preparation path (`worker::prepare`).
    pub strict: bool,
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
        self.token_variable
            .as_deref()
            .unwrap_or(DEFAULT_TOKEN_VARIABLE)
    }
}

/// The variable a token is kept in when the sign-in names none (the walkthrough's).
pub const DEFAULT_TOKEN_VARIABLE: &str = "bearerToken";

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
            strict: false,
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
