//! Turns an environment's `[auth]` settings (templates with Azure defaults) into concrete
//! endpoints and credentials, with a sentence for whatever is missing.

use std::time::Duration;

use thiserror::Error;

use crate::workspace::template::{Context, Lookup, resolve};
use crate::workspace::{AuthConfig, AuthKind, TokenFlavor};

pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
pub const DEFAULT_REDIRECT_PORT: u16 = 8400;
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Sign-in settings with every template filled in.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ResolvedAuth {
    pub kind: AuthKind,
    pub flavor: TokenFlavor,
    pub token_url: String,
    pub authorize_url: String,
    pub device_code_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Prints the client secret when run (used when `client_secret` is empty).
    pub client_secret_command: String,
    /// The FHIR service's audience (v1 `resource`).
    pub audience: String,
    pub scopes: Vec<String>,
    pub redirect_port: u16,
    pub redirect_path: String,
    pub command: String,
    pub command_timeout: Duration,
    pub static_token: String,
    pub token_variable: String,
    /// `private_key_jwt`: where the key comes from (a path or a command), the certificate,
    /// the algorithm and `kid` (empty: defaults).
    pub key_file: String,
    pub key_command: String,
    pub certificate_file: String,
    pub algorithm: String,
    pub key_id: String,
    /// Requests under this base get the token; others never do.
    pub fhir_base: String,
}

impl std::fmt::Debug for ResolvedAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedAuth")
            .field("kind", &self.kind)
            .field("flavor", &self.flavor)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("audience", &self.audience)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl ResolvedAuth {
    pub fn redirect_uri(&self) -> String {
        format!(
            "http://localhost:{}{}",
            self.redirect_port, self.redirect_path
        )
    }

    /// True for flows that need a person (they are never started by a timer).
    pub fn is_interactive(&self) -> bool {
        matches!(
            self.kind,
            AuthKind::AuthorizationCode | AuthKind::DeviceCode
        )
    }

    /// Whether a request to `url` should carry this environment's token.
    pub fn applies_to(&self, url: &str) -> bool {
        let base = self.fhir_base.trim_end_matches('/');
        let under_base = !base.is_empty()
            && (url == base
                || url
                    .strip_prefix(base)
                    .is_some_and(|rest| rest.starts_with(['/', '?', '#'])));
        // The sign-in endpoints themselves never get the token, even when they sit under the
        // FHIR base (as in the built-in demo). Only the endpoints: a FHIR base that merely
        // shares a host or path prefix with the OAuth server still gets it.
        let path_of = |u: &str| {
            u.split(['?', '#'])
                .next()
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string()
        };
        let target = path_of(url);
        let sign_in_endpoint = [&self.token_url, &self.authorize_url, &self.device_code_url]
            .iter()
            .filter(|u| !u.is_empty())
            .any(|u| path_of(u) == target);
        under_base && !sign_in_endpoint
    }
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("Sign-in is not set up: {0}")]
    Missing(String),
    #[error("{0}")]
    Flow(String),
    #[error("Sign-in cancelled.")]
    Cancelled,
}

/// Fills in `config` from the environment's variables.
pub fn resolve_auth(config: &AuthConfig, ctx: &Context) -> Result<ResolvedAuth, AuthError> {
    let fill = |t: &str| -> Result<String, AuthError> {
        let r = resolve(t, ctx);
        if let Some(name) = r.unresolved.first() {
            return Err(AuthError::Missing(format!(
                "the variable {{{{{name}}}}} has no value in this environment"
            )));
        }
        Ok(r.text.trim().to_string())
    };
    let var = |name: &str| match ctx.lookup(name) {
        Lookup::Value { value, .. } if !value.trim().is_empty() => Some(value.trim().to_string()),
        _ => None,
    };
    let fhir_base = var("fhirurl")
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    let audience = match &config.audience {
        Some(a) => fill(a)?,
        None => fhir_base.clone(),
    }
    .trim_end_matches('/')
    .to_string();
    let needs_entra = config.flavor != TokenFlavor::Oauth2
        && matches!(
            config.kind,
            AuthKind::ClientCredentials
                | AuthKind::PrivateKeyJwt
                | AuthKind::AuthorizationCode
                | AuthKind::DeviceCode
        );
    let authority = var("authority").unwrap_or_else(|| DEFAULT_AUTHORITY.into());
    let authority = authority.trim_end_matches('/');
    // The tenant only builds default Entra URLs: explicit URLs (sovereign clouds, B2C, APIM,
    // proxies) need none.
    let tenant = var("tenantid");
    let user_flow = matches!(
        config.kind,
        AuthKind::AuthorizationCode | AuthKind::DeviceCode
    );
    // User flows always speak v2 on Entra; v1 is for client credentials with `resource=`.
    let v2 = config.flavor == TokenFlavor::EntraV2
        || (user_flow && config.flavor == TokenFlavor::EntraV1);
    let pick = |explicit: &Option<String>, what: &str, needed: bool| -> Result<String, AuthError> {
        match explicit {
            Some(t) => fill(t),
            None if config.flavor == TokenFlavor::Oauth2 || !needs_entra || !needed => {
                Ok(String::new())
            }
            None => {
                let tenant = tenant.as_deref().ok_or_else(|| {
                    AuthError::Missing(format!(
                        "set tenantid (the Entra tenant id) in the environment, or an explicit {what}_url"
                    ))
                })?;
                let version = if v2 { "/v2.0" } else { "" };
                Ok(format!("{authority}/{tenant}/oauth2{version}/{what}"))
            }
        }
    };
    let token_url = pick(&config.token_url, "token", true)?;
    let authorize_url = pick(
        &config.authorize_url,
        "authorize",
        config.kind == AuthKind::AuthorizationCode,
    )?;
    let device_code_url = pick(
        &config.device_code_url,
        "devicecode",
        config.kind == AuthKind::DeviceCode,
    )?;
    let client_id = match &config.client_id {
        Some(t) => fill(t)?,
        None => var("clientid").unwrap_or_default(),
    };
    let client_secret = match &config.client_secret {
        Some(t) => Some(fill(t)?).filter(|s| !s.is_empty()),
        None => var("clientsecret"),
    };
    let smart = config.kind == AuthKind::PrivateKeyJwt && config.flavor == TokenFlavor::Oauth2;
    let scopes: Vec<String> = match &config.scope {
        Some(t) => fill(t)?.split_whitespace().map(str::to_string).collect(),
        // SMART Backend Services asks for system scopes.
        None if smart => vec!["system/*.read".into()],
        None if config.flavor == TokenFlavor::EntraV1 && !user_flow => Vec::new(),
        None if audience.is_empty() => Vec::new(),
        None if user_flow => vec![format!("{audience}/.default"), "offline_access".into()],
        None => vec![format!("{audience}/.default")],
    };
    let opt_fill = |t: &Option<String>| -> Result<String, AuthError> {
        t.as_deref()
            .map(fill)
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let command = match &config.command {
        Some(c) => fill(c)?,
        // The Azure CLI preset: whoever ran `az login` needs no app registration.
        None if config.kind == AuthKind::Command && !audience.is_empty() => {
            az_cli_command(&audience)
        }
        None => String::new(),
    };
    let resolved = ResolvedAuth {
        kind: config.kind,
        flavor: config.flavor,
        token_url,
        authorize_url,
        device_code_url,
        client_id,
        client_secret,
        client_secret_command: match &config.client_secret_command {
            Some(c) => fill(c)?,
            None => String::new(),
        },
        audience,
        scopes,
        redirect_port: config.redirect_port.unwrap_or(DEFAULT_REDIRECT_PORT),
        redirect_path: config.redirect_path.clone().unwrap_or_else(|| "/".into()),
        command,
        command_timeout: config
            .command_timeout_secs
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_COMMAND_TIMEOUT),
        static_token: match (&config.token, config.kind) {
            (Some(t), _) => fill(t)?,
            (None, AuthKind::Bearer) => var(config.token_variable()).unwrap_or_default(),
            _ => String::new(),
        },
        token_variable: config.token_variable().to_string(),
        key_file: opt_fill(&config.key_file)?,
        key_command: opt_fill(&config.key_command)?,
        certificate_file: opt_fill(&config.certificate_file)?,
        algorithm: opt_fill(&config.algorithm)?.to_ascii_uppercase(),
        key_id: opt_fill(&config.key_id)?,
        fhir_base,
    };
    check(&resolved)?;
    Ok(resolved)
}

/// `az account get-access-token` for `resource`, JSON output (token and expiry are parsed).
/// The resource is single-quoted for the shell, so no value of `fhirurl` can run anything.
pub fn az_cli_command(resource: &str) -> String {
    format!(
        "az account get-access-token --resource '{}' -o json",
        resource.replace('\'', r"'\''")
    )
}

fn check(r: &ResolvedAuth) -> Result<(), AuthError> {
    let missing = |what: &str| Err(AuthError::Missing(what.into()));
    match r.kind {
        AuthKind::None => Ok(()),
        AuthKind::Bearer if r.static_token.is_empty() => missing("the bearer token is empty"),
        AuthKind::Bearer => Ok(()),
        AuthKind::Command if r.command.is_empty() => {
            missing("set fhirurl (for the Azure CLI preset) or the command that prints a token")
        }
        AuthKind::Command => Ok(()),
        _ if r.token_url.is_empty() => missing("set token_url (the OAuth2 token endpoint)"),
        _ if r.client_id.is_empty() => missing("set clientid (the app registration's client id)"),
        AuthKind::ClientCredentials
            if r.client_secret.is_none() && r.client_secret_command.is_empty() =>
        {
            missing("set clientsecret (kept in secrets.toml) or client_secret_command")
        }
        AuthKind::ClientCredentials if r.audience.is_empty() && r.scopes.is_empty() => {
            missing("set fhirurl (the token's audience)")
        }
        AuthKind::PrivateKeyJwt if r.key_file.is_empty() && r.key_command.is_empty() => {
            missing("set key_file (the PEM private key's path) or key_command")
        }
        AuthKind::PrivateKeyJwt if r.audience.is_empty() && r.scopes.is_empty() => {
            missing("set fhirurl (the token's audience) or scope")
        }
        AuthKind::DeviceCode if r.device_code_url.is_empty() => missing("set device_code_url"),
        AuthKind::AuthorizationCode if r.authorize_url.is_empty() => missing("set authorize_url"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{Environment, Variable};

    fn env() -> Environment {
        Environment {
            name: "e".into(),
            variables: vec![
                Variable::plain("tenantid", "t1"),
                Variable::plain("clientid", "c1"),
                Variable::secret("clientsecret", "s1"),
                Variable::plain("fhirurl", "https://ws-svc.fhir.azurehealthcareapis.com/"),
            ],
            timeout_secs: 30,
            auth: None,
            insecure: false,
            trusted_origins: Vec::new(),
            storage_hosts: None,
            strict: false,
        }
    }

    fn resolved(config: AuthConfig) -> Result<ResolvedAuth, AuthError> {
        let e = env();
        resolve_auth(
            &config,
            &Context {
                environment: Some(&e),
                ..Default::default()
            },
        )
    }

    #[test]
    fn entra_v1_client_credentials_defaults() {
        let r = resolved(AuthConfig {
            kind: AuthKind::ClientCredentials,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            r.token_url,
            "https://login.microsoftonline.com/t1/oauth2/token"
        );
        assert_eq!(r.audience, "https://ws-svc.fhir.azurehealthcareapis.com");
        assert!(r.scopes.is_empty());
        assert_eq!(r.client_secret.as_deref(), Some("s1"));
        assert!(
            !format!("{r:?}").contains("s1\""),
            "secrets are not printed"
        );
    }

    #[test]
    fn v2_and_user_flows_use_scopes() {
        let r = resolved(AuthConfig {
            kind: AuthKind::ClientCredentials,
            flavor: TokenFlavor::EntraV2,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            r.token_url,
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
        assert_eq!(
            r.scopes,
            vec!["https://ws-svc.fhir.azurehealthcareapis.com/.default"]
        );
        let r = resolved(AuthConfig {
            kind: AuthKind::DeviceCode,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            r.device_code_url,
            "https://login.microsoftonline.com/t1/oauth2/v2.0/devicecode"
        );
        assert!(r.scopes.contains(&"offline_access".to_string()));
    }

    #[test]
    fn audience_can_differ_from_the_url() {
        let r = resolved(AuthConfig {
            kind: AuthKind::ClientCredentials,
            audience: Some("https://azurehealthcareapis.com".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(r.audience, "https://azurehealthcareapis.com");
        assert!(r.applies_to("https://ws-svc.fhir.azurehealthcareapis.com/Patient?name=x"));
        assert!(!r.applies_to("https://ws-svc.fhir.azurehealthcareapis.com.evil.example/Patient"));
        assert!(!r.applies_to("https://login.microsoftonline.com/t1/oauth2/token"));
        // A sign-in endpoint under the FHIR host (the demo) is still not given the token.
        let mut same_host = r.clone();
        same_host.fhir_base = "http://127.0.0.1:9".into();
        same_host.token_url = "http://127.0.0.1:9/login/t1/oauth2/token".into();
        assert!(!same_host.applies_to("http://127.0.0.1:9/login/t1/oauth2/token"));
        assert!(!same_host.applies_to("http://127.0.0.1:9/login/t1/oauth2/token?x=1"));
        assert!(same_host.applies_to("http://127.0.0.1:9/Patient"));
    }

    #[test]
    fn missing_pieces_are_sentences() {
        let mut e = env();
        e.variables.retain(|v| v.key != "tenantid");
        let err = resolve_auth(
            &AuthConfig {
                kind: AuthKind::ClientCredentials,
                ..Default::default()
            },
            &Context {
                environment: Some(&e),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("tenantid"), "{err}");
        // No command and no fhirurl for the Azure CLI preset.
        e.variables.retain(|v| v.key != "fhirurl");
        let err = resolve_auth(
            &AuthConfig {
                kind: AuthKind::Command,
                ..Default::default()
            },
            &Context {
                environment: Some(&e),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("command"));
    }

    /// Before, `flavor = "entra_v1"`/`"entra_v2"` demanded `tenantid` even with explicit URLs
    /// (sovereign clouds, B2C, APIM): "Sign-in is not set up: set tenantid".
    #[test]
    fn explicit_urls_need_no_tenant() {
        let mut e = env();
        e.variables.retain(|v| v.key != "tenantid");
        for flavor in [TokenFlavor::EntraV1, TokenFlavor::EntraV2] {
            let r = resolve_auth(
                &AuthConfig {
                    kind: AuthKind::ClientCredentials,
                    flavor,
                    token_url: Some("https://login.microsoftonline.us/t/oauth2/v2.0/token".into()),
                    ..Default::default()
                },
                &Context {
                    environment: Some(&e),
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(
                r.token_url,
                "https://login.microsoftonline.us/t/oauth2/v2.0/token"
            );
            let r = resolve_auth(
                &AuthConfig {
                    kind: AuthKind::DeviceCode,
                    flavor,
                    token_url: Some("https://b2c.example/token".into()),
                    device_code_url: Some("https://b2c.example/devicecode".into()),
                    ..Default::default()
                },
                &Context {
                    environment: Some(&e),
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(r.device_code_url, "https://b2c.example/devicecode");
        }
        // Without explicit URLs the tenant is still asked for, naming the alternative.
        let err = resolve_auth(
            &AuthConfig {
                kind: AuthKind::ClientCredentials,
                ..Default::default()
            },
            &Context {
                environment: Some(&e),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("token_url"), "{err}");
    }

    #[test]
    fn the_command_kind_defaults_to_the_azure_cli() {
        let r = resolved(AuthConfig {
            kind: AuthKind::Command,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            r.command,
            "az account get-access-token --resource 'https://ws-svc.fhir.azurehealthcareapis.com' -o json"
        );
        assert_eq!(
            az_cli_command("https://x/'; rm -rf ~; '"),
            r"az account get-access-token --resource 'https://x/'\''; rm -rf ~; '\''' -o json"
        );
    }
}
