//! The one credential policy: which origin (scheme, host, port) may receive which credential.
//!
//! An environment's FHIR token goes to the origin of its `fhirurl` and to the origins the user
//! lists in `trusted_origins`; a storage token (Azure Storage, `https://storage.azure.com`) goes
//! to the storage hosts (`storage_hosts`, by default `*.blob.core.windows.net` and
//! `*.dfs.core.windows.net` for Entra environments); nothing goes anywhere else. Everything that
//! sends a request with a token asks [`CredentialPolicy::permit`] first, and the only way to put
//! a bearer token on a request is [`Permit::attach`], which needs the permit the policy gave.
//!
//! Redirects are the other way credentials leak: [`forwardable_across_origins`] names the only
//! headers that follow a redirect to another origin (see `http`), so a header holding a secret
//! (`Authorization`, `Cookie`, `X-Api-Key: {{apikey}}`, …) never does, whether or not fhirside
//! knows it is one.
//!
//! A policy holds no secret and no token; it is rebuilt from the environment whenever it is
//! needed, so a job file needs nothing of it: a job's kick-off URL names its home origin.

use thiserror::Error;

use super::http::HttpRequest;
use crate::workspace::template::{Context, Lookup, resolve};
use crate::workspace::{AuthKind, Environment, TokenFlavor};

/// Azure Storage's hosts, trusted with a storage token by default in Entra environments.
pub const AZURE_STORAGE_HOSTS: [&str; 2] = ["*.blob.core.windows.net", "*.dfs.core.windows.net"];

/// The setting that lets the FHIR token go to another origin.
pub const TRUSTED_ORIGINS: &str = "trusted_origins";

/// A URL's origin: scheme, host and port (the port always known: 80/443 by default).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an `http`/`https` URL with a host; `None` for anything else.
    pub fn of(url: &str) -> Option<Origin> {
        let u = url::Url::parse(url.trim()).ok()?;
        Origin::of_url(&u)
    }

    pub fn of_url(u: &url::Url) -> Option<Origin> {
        if !matches!(u.scheme(), "http" | "https") {
            return None;
        }
        Some(Origin {
            scheme: u.scheme().to_string(),
            host: u.host_str()?.to_ascii_lowercase(),
            port: u.port_or_known_default()?,
        })
    }

    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    fn default_port(&self) -> bool {
        matches!(
            (self.scheme.as_str(), self.port),
            ("http", 80) | ("https", 443)
        )
    }

    /// `host` or `host:port` (without the default port), as sentences name it.
    pub fn host_port(&self) -> String {
        if self.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `https://host[:port]`, the way `trusted_origins` spells it.
impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host_port())
    }
}

/// One entry of `trusted_origins` or `storage_hosts`: an exact origin, or every host one label
/// below a domain (`https://*.blob.core.windows.net`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginRule {
    Exact(Origin),
    /// `*.suffix`: `label.suffix` for a single label, with this scheme and port.
    OneLabelBelow {
        scheme: String,
        suffix: String,
        port: u16,
    },
}

impl OriginRule {
    /// Reads `https://host[:port]`, `https://*.domain`, or a bare `host`/`*.domain` (https).
    /// Paths, queries, user names and other schemes are refused with the reason.
    pub fn parse(entry: &str) -> Result<OriginRule, String> {
        let text = entry.trim();
        if text.is_empty() {
            return Err("an entry is empty".into());
        }
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("https://{text}")
        };
        // The url crate does not take `*` in a host: put a placeholder label in its place.
        let (wild, parsable) = match with_scheme.split_once("://*.") {
            Some((scheme, rest)) => (true, format!("{scheme}://wildcard.{rest}")),
            None => (false, with_scheme.clone()),
        };
        let u =
            url::Url::parse(&parsable).map_err(|e| format!("'{text}' is not an origin: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!("'{text}' is not http or https"));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(format!(
                "'{text}' holds a user name; write only scheme, host and port"
            ));
        }
        if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
            return Err(format!(
                "'{text}' has a path or query; an origin is only scheme, host and port"
            ));
        }
        let origin = Origin::of_url(&u).ok_or_else(|| format!("'{text}' has no host"))?;
        if !wild {
            return Ok(OriginRule::Exact(origin));
        }
        let suffix = origin
            .host
            .strip_prefix("wildcard.")
            .filter(|s| s.contains('.'))
            .ok_or_else(|| format!("'{text}': a wildcard needs a domain of two labels or more"))?
            .to_string();
        Ok(OriginRule::OneLabelBelow {
            scheme: origin.scheme,
            suffix,
            port: origin.port,
        })
    }

    pub fn matches(&self, o: &Origin) -> bool {
        match self {
            OriginRule::Exact(e) => e == o,
            OriginRule::OneLabelBelow {
                scheme,
                suffix,
                port,
            } => {
                *scheme == o.scheme
                    && *port == o.port
                    && o.host
                        .strip_suffix(suffix.as_str())
                        .and_then(|label| label.strip_suffix('.'))
                        .is_some_and(|label| !label.is_empty() && !label.contains('.'))
            }
        }
    }
}

/// What may go with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The environment's token for its FHIR service.
    FhirToken,
    /// A token for Azure Storage (audience `https://storage.azure.com`).
    StorageToken,
}

/// A URL on an origin the environment does not trust with its token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "{what} is on {host}, not the FHIR service's origin ({home}): {consequence}. If {host} belongs to the service, add \"{origin}\" to {TRUSTED_ORIGINS} in {file}."
)]
pub struct Untrusted {
    pub what: String,
    /// `host[:port]`.
    pub host: String,
    /// What to add to `trusted_origins`.
    pub origin: String,
    pub home: String,
    pub consequence: String,
    /// The environment's file.
    pub file: String,
}

/// Why a credential may not go somewhere, as the sentence the user sees.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error(transparent)]
    Untrusted(Box<Untrusted>),
    #[error("{what} ({url}) is not an http or https URL with a host.")]
    NotAUrl { what: String, url: String },
    /// A permit used for a request to another origin (a bug, refused rather than sent).
    #[error("A token permitted for {permitted} was about to go to {target}; it was not sent.")]
    WrongOrigin { permitted: String, target: String },
}

/// The policy's answer for one URL: the credential that may go there, with the origin it was
/// granted for. Only [`CredentialPolicy`] makes one; [`Permit::attach`] is the only way to put
/// a bearer token on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    credential: Credential,
    origin: Origin,
}

impl Permit {
    pub fn credential(&self) -> Credential {
        self.credential
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Puts `Authorization: Bearer TOKEN` on `request` (replacing any `Authorization`), if the
    /// request goes to the origin this permit was granted for.
    pub fn attach(&self, request: &mut HttpRequest, token: &str) -> Result<(), Refusal> {
        let target = Origin::of(&request.url);
        if target.as_ref() != Some(&self.origin) {
            return Err(Refusal::WrongOrigin {
                permitted: self.origin.to_string(),
                target: target.map_or_else(|| "an unknown origin".to_string(), |o| o.to_string()),
            });
        }
        request
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
        request
            .headers
            .push(("Authorization".into(), format!("Bearer {}", token.trim())));
        Ok(())
    }
}

/// Which origins get which credential, for one environment. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialPolicy {
    /// The environment's name (sentences point at its file).
    env: String,
    /// The origin of `fhirurl`.
    home: Option<Origin>,
    trusted: Vec<OriginRule>,
    storage: Vec<OriginRule>,
    /// Entries of the settings that could not be read, as sentences.
    problems: Vec<String>,
}

/// Whether the environment signs in with Microsoft Entra ID (or talks to an Azure FHIR host),
/// so Azure Storage's hosts are storage hosts by default.
fn is_entra(env: &Environment, fhir_host: Option<&str>) -> bool {
    let signs_in_with_entra = env.auth.as_ref().is_some_and(|a| {
        a.flavor != TokenFlavor::Oauth2
            && matches!(
                a.kind,
                AuthKind::ClientCredentials
                    | AuthKind::AuthorizationCode
                    | AuthKind::DeviceCode
                    | AuthKind::Command
            )
    });
    signs_in_with_entra || fhir_host.is_some_and(|h| h.ends_with(".azurehealthcareapis.com"))
}

impl CredentialPolicy {
    /// The policy of `env`, with `{{variables}}` in its settings filled from `overrides` (session
    /// captures, `--var`) and the environment.
    pub fn for_environment(env: &Environment, overrides: &[(String, String)]) -> CredentialPolicy {
        let ctx = Context {
            overrides,
            environment: Some(env),
            collection: &[],
        };
        let fhirurl = match ctx.lookup("fhirurl") {
            Lookup::Value { value, .. } => resolve(&value, &ctx).text,
            _ => String::new(),
        };
        let home = Origin::of(&fhirurl);
        let mut problems = Vec::new();
        let mut rules = |entries: &[String], setting: &str| -> Vec<OriginRule> {
            entries
                .iter()
                .filter_map(|e| match OriginRule::parse(&resolve(e, &ctx).text) {
                    Ok(r) => Some(r),
                    Err(why) => {
                        problems.push(format!(
                            "{setting} in environments/{}.toml: {why}; that entry is ignored.",
                            env.name
                        ));
                        None
                    }
                })
                .collect()
        };
        let trusted = rules(&env.trusted_origins, TRUSTED_ORIGINS);
        let storage = match &env.storage_hosts {
            Some(hosts) => rules(hosts, "storage_hosts"),
            None if is_entra(env, home.as_ref().map(|o| o.host.as_str())) => {
                let defaults: Vec<String> =
                    AZURE_STORAGE_HOSTS.iter().map(|s| s.to_string()).collect();
                rules(&defaults, "storage_hosts")
            }
            None => Vec::new(),
        };
        CredentialPolicy {
            env: env.name.clone(),
            home,
            trusted,
            storage,
            problems,
        }
    }

    /// A policy that trusts only the origin of `url`: for a job or request whose environment is
    /// not known (its kick-off URL names its home).
    pub fn for_origin_of(url: &str) -> CredentialPolicy {
        CredentialPolicy {
            home: Origin::of(url),
            ..Default::default()
        }
    }

    pub fn home(&self) -> Option<&Origin> {
        self.home.as_ref()
    }

    /// Settings entries that were ignored, as sentences.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Whether the environment's FHIR token may go to `origin`.
    fn fhir_token_may_go_to(&self, origin: &Origin) -> bool {
        self.home.as_ref() == Some(origin) || self.trusted.iter().any(|r| r.matches(origin))
    }

    /// Whether `origin` is a storage host (a storage token may go there).
    pub fn is_storage(&self, origin: &Origin) -> bool {
        self.storage.iter().any(|r| r.matches(origin))
    }

    fn file(&self) -> String {
        if self.env.is_empty() {
            "the environment's file".into()
        } else {
            format!("environments/{}.toml", self.env)
        }
    }

    fn untrusted(&self, what: &str, origin: &Origin, consequence: &str) -> Refusal {
        Refusal::Untrusted(Box::new(Untrusted {
            what: what.to_string(),
            host: origin.host_port(),
            origin: origin.to_string(),
            home: self.home.as_ref().map_or_else(
                || "none: the environment has no fhirurl".into(),
                Origin::to_string,
            ),
            consequence: consequence.to_string(),
            file: self.file(),
        }))
    }

    fn origin_of(what: &str, url: &str) -> Result<Origin, Refusal> {
        Origin::of(url).ok_or_else(|| Refusal::NotAUrl {
            what: what.to_string(),
            url: url.chars().take(200).collect(),
        })
    }

    /// May `credential` go with a request to `url`? `what` names the request in the sentence.
    pub fn permit(&self, what: &str, url: &str, credential: Credential) -> Result<Permit, Refusal> {
        let origin = Self::origin_of(what, url)?;
        let allowed = match credential {
            Credential::FhirToken => self.fhir_token_may_go_to(&origin),
            Credential::StorageToken => self.is_storage(&origin),
        };
        if allowed {
            Ok(Permit { credential, origin })
        } else {
            Err(self.untrusted(
                what,
                &origin,
                "fhirside does not send the environment's token there",
            ))
        }
    }

    /// A bulk-export status URL (a kick-off's `Content-Location`) is polled, with the token,
    /// only on an origin the token may go to; anything else is refused and never saved.
    pub fn status_url(&self, url: &str) -> Result<Permit, Refusal> {
        let what = "The export's status URL (Content-Location)";
        let origin = Self::origin_of(what, url)?;
        if self.fhir_token_may_go_to(&origin) {
            return Ok(Permit {
                credential: Credential::FhirToken,
                origin,
            });
        }
        Err(self.untrusted(
            what,
            &origin,
            "fhirside does not send the environment's token there and does not poll it",
        ))
    }

    /// The credential for an export output file: a storage token on a storage host; the FHIR
    /// token when the manifest says `requiresAccessToken` and the origin may have it; nothing
    /// otherwise. A file that needs the token on an origin that may not have it is refused
    /// (nothing is sent).
    pub fn output_file(
        &self,
        url: &str,
        requires_access_token: bool,
    ) -> Result<Option<Permit>, Refusal> {
        let what = "This file";
        let origin = Self::origin_of(what, url)?;
        if self.is_storage(&origin) {
            return Ok(Some(Permit {
                credential: Credential::StorageToken,
                origin,
            }));
        }
        if !requires_access_token {
            return Ok(None);
        }
        if self.fhir_token_may_go_to(&origin) {
            return Ok(Some(Permit {
                credential: Credential::FhirToken,
                origin,
            }));
        }
        Err(self.untrusted(
            what,
            &origin,
            "the manifest says it needs the access token (requiresAccessToken), and fhirside does not send the environment's token there",
        ))
    }
}

/// Request headers that follow a redirect to another origin. Every other header — `Authorization`,
/// `Cookie`, API keys, anything written with a `{{secret}}` — stays with the origin it was
/// written for; an allowlist needs no knowledge of which values are secret.
pub fn forwardable_across_origins(name: &str) -> bool {
    const SAFE: [&str; 8] = [
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "content-type",
        "prefer",
        "range",
        "user-agent",
    ];
    SAFE.iter().any(|s| name.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{AuthConfig, Variable};

    fn env(fhirurl: &str, auth: Option<AuthConfig>) -> Environment {
        let mut e = Environment::new("prod");
        e.variables.push(Variable::plain("fhirurl", fhirurl));
        e.auth = auth;
        e
    }

    fn entra() -> Option<AuthConfig> {
        Some(AuthConfig {
            kind: AuthKind::ClientCredentials,
            ..Default::default()
        })
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        let o = Origin::of("https://WS-svc.fhir.azurehealthcareapis.com/Patient?x=1").unwrap();
        assert_eq!(o.to_string(), "https://ws-svc.fhir.azurehealthcareapis.com");
        assert_eq!(Origin::of("https://h:443/"), Origin::of("https://h"));
        assert_ne!(Origin::of("https://h"), Origin::of("http://h"));
        assert_ne!(Origin::of("http://h:8080"), Origin::of("http://h:8081"));
        assert_eq!(
            Origin::of("http://127.0.0.1:9/x").unwrap().host_port(),
            "127.0.0.1:9"
        );
        assert_eq!(Origin::of("ftp://h/x"), None);
        assert_eq!(Origin::of("not a url"), None);
    }

    #[test]
    fn rules_read_origins_and_one_label_wildcards() {
        let r = OriginRule::parse("https://*.blob.core.windows.net").unwrap();
        let ok = |u: &str| r.matches(&Origin::of(u).unwrap());
        assert!(ok("https://acct.blob.core.windows.net/export/x.ndjson"));
        assert!(!ok("https://a.b.blob.core.windows.net/"), "one label only");
        assert!(!ok("https://blob.core.windows.net/"));
        assert!(!ok("http://acct.blob.core.windows.net/"), "https only");
        assert!(!ok("https://acct.blob.core.windows.net:8443/"));
        assert!(!ok("https://acct.blob.core.windows.net.evil.example/"));
        assert!(!ok("https://evilblob.core.windows.net/"));
        // A bare host means https.
        assert_eq!(
            OriginRule::parse("*.dfs.core.windows.net").unwrap(),
            OriginRule::OneLabelBelow {
                scheme: "https".into(),
                suffix: "dfs.core.windows.net".into(),
                port: 443,
            }
        );
        let exact = OriginRule::parse("http://127.0.0.1:8080").unwrap();
        assert!(exact.matches(&Origin::of("http://127.0.0.1:8080/files/a").unwrap()));
        assert!(!exact.matches(&Origin::of("http://127.0.0.1:8081/").unwrap()));
        for bad in [
            "",
            "https://h/path",
            "https://h/?q=1",
            "https://u:p@h",
            "ftp://h",
            "https://*.com",
        ] {
            assert!(OriginRule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_fhir_token_goes_home_and_to_trusted_origins_only() {
        let mut e = env("https://ws-svc.fhir.azurehealthcareapis.com", entra());
        e.trusted_origins = vec!["https://files.example.org".into(), "not an origin/x".into()];
        let p = CredentialPolicy::for_environment(&e, &[]);
        assert_eq!(p.problems().len(), 1, "{:?}", p.problems());
        let fhir = |u: &str| p.permit("x", u, Credential::FhirToken).is_ok();
        assert!(fhir("https://ws-svc.fhir.azurehealthcareapis.com/Patient"));
        assert!(fhir(
            "https://ws-svc.fhir.azurehealthcareapis.com:443/_operations/export/1"
        ));
        assert!(fhir("https://files.example.org/a.ndjson"));
        assert!(
            !fhir("http://ws-svc.fhir.azurehealthcareapis.com/Patient"),
            "downgrade"
        );
        assert!(!fhir(
            "https://ws-svc.fhir.azurehealthcareapis.com.evil.example/"
        ));
        assert!(
            !fhir("https://acct.blob.core.windows.net/x"),
            "storage gets its own token"
        );
        let err = p
            .status_url("https://evil.example:8443/status")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("evil.example:8443") && err.contains("trusted_origins"),
            "{err}"
        );
        assert!(
            err.contains("\"https://evil.example:8443\"") && err.contains("environments/prod.toml"),
            "{err}"
        );
    }

    #[test]
    fn storage_hosts_default_for_entra_and_are_configurable() {
        let blob = "https://acct.blob.core.windows.net/export/f/Patient-1.ndjson";
        let p = CredentialPolicy::for_environment(&env("https://x.example", entra()), &[]);
        let permit = p.output_file(blob, false).unwrap().unwrap();
        assert_eq!(permit.credential(), Credential::StorageToken);
        // Not Entra: no storage hosts unless listed.
        let plain = env("https://hapi.example/fhir", None);
        let p = CredentialPolicy::for_environment(&plain, &[]);
        assert_eq!(p.output_file(blob, false).unwrap(), None);
        let mut listed = plain.clone();
        listed.storage_hosts = Some(vec!["files.example.net".into()]);
        let p = CredentialPolicy::for_environment(&listed, &[]);
        assert!(
            p.output_file("https://files.example.net/a", false)
                .unwrap()
                .is_some()
        );
        // An explicit empty list turns the Entra default off.
        let mut none = env("https://x.example", entra());
        none.storage_hosts = Some(vec![]);
        let p = CredentialPolicy::for_environment(&none, &[]);
        assert_eq!(p.output_file(blob, false).unwrap(), None);
    }

    #[test]
    fn output_files_get_the_token_only_where_it_may_go() {
        let p = CredentialPolicy::for_environment(&env("http://127.0.0.1:9/fhir", None), &[]);
        assert_eq!(
            p.output_file("http://127.0.0.1:9/files/a", false).unwrap(),
            None
        );
        let home = p
            .output_file("http://127.0.0.1:9/files/a", true)
            .unwrap()
            .unwrap();
        assert_eq!(home.credential(), Credential::FhirToken);
        assert_eq!(
            p.output_file("http://127.0.0.1:10/files/a", false).unwrap(),
            None
        );
        let err = p
            .output_file("http://127.0.0.1:10/files/a", true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("127.0.0.1:10") && err.contains("requiresAccessToken"),
            "{err}"
        );
        assert!(p.output_file("ftp://x/a", true).is_err());
    }

    #[test]
    fn settings_may_hold_variables() {
        let mut e = env("https://{{host}}", None);
        e.variables.push(Variable::plain("host", "a.example"));
        e.trusted_origins = vec!["https://{{files}}".into()];
        let p = CredentialPolicy::for_environment(&e, &[("files".into(), "b.example".into())]);
        assert_eq!(
            p.home().map(Origin::to_string).as_deref(),
            Some("https://a.example")
        );
        assert!(
            p.permit("x", "https://b.example/f", Credential::FhirToken)
                .is_ok()
        );
    }

    #[test]
    fn a_permit_attaches_only_to_its_own_origin() {
        let p = CredentialPolicy::for_origin_of("http://127.0.0.1:9/fhir/$export");
        let permit = p
            .permit("x", "http://127.0.0.1:9/status", Credential::FhirToken)
            .unwrap();
        let mut req = HttpRequest {
            method: "GET".into(),
            url: "http://127.0.0.1:9/status".into(),
            headers: vec![("authorization".into(), "Basic old".into())],
            body: None,
            timeout: std::time::Duration::from_secs(1),
            insecure: false,
        };
        permit.attach(&mut req, "t0k").unwrap();
        assert_eq!(
            req.headers,
            vec![("Authorization".to_string(), "Bearer t0k".to_string())]
        );
        req.url = "http://127.0.0.1:10/status".into();
        assert!(matches!(
            permit.attach(&mut req, "t0k"),
            Err(Refusal::WrongOrigin { .. })
        ));
    }

    #[test]
    fn only_harmless_headers_cross_origins() {
        for h in [
            "Accept",
            "accept-encoding",
            "Prefer",
            "Content-Type",
            "User-Agent",
        ] {
            assert!(forwardable_across_origins(h), "{h}");
        }
        for h in [
            "Authorization",
            "Cookie",
            "X-Api-Key",
            "Ocp-Apim-Subscription-Key",
            "X-Custom",
            "Proxy-Authorization",
        ] {
            assert!(!forwardable_across_origins(h), "{h}");
        }
    }
}
