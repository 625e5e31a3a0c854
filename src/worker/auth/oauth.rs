//! The OAuth2 flows, through the `oauth2` crate, with a token response type that accepts Entra
//! v1's string-typed `expires_in` / `expires_on`.

use std::future::Future;
use std::time::{Duration, SystemTime};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationResponse, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet,
    ErrorResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize};

use super::Token;
use super::resolve::{AuthError, ResolvedAuth};
use crate::worker::time;
use crate::workspace::TokenFlavor;

/// A token response as Entra (v1 and v2) and standard servers send it.
#[derive(Debug, Serialize, Deserialize)]
pub struct FlexibleTokenResponse {
    access_token: AccessToken,
    #[serde(default = "bearer")]
    token_type: BasicTokenType,
    #[serde(default, deserialize_with = "number_or_string")]
    expires_in: Option<u64>,
    /// Entra v1: absolute expiry, seconds since the epoch, as a string.
    #[serde(default, deserialize_with = "number_or_string")]
    expires_on: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(skip)]
    scopes: Option<Vec<Scope>>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

/// Seconds as servers send them: a number, a numeric string (Entra v1), fractional, negative
/// or absurdly large. Negative means "already expired" (0); huge values saturate; anything
/// unreadable is treated as absent.
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Num(u64),
        Neg(i64),
        Float(f64),
        Str(String),
        Other(serde::de::IgnoredAny),
    }
    let secs = |f: f64| -> Option<u64> {
        // `as` saturates, so 1e23 becomes u64::MAX (clamped later) rather than a panic.
        (!f.is_nan()).then(|| f.max(0.0) as u64)
    };
    Ok(match Option::<NumOrStr>::deserialize(d)? {
        Some(NumOrStr::Num(n)) => Some(n),
        Some(NumOrStr::Neg(n)) => Some(n.max(0).unsigned_abs()),
        Some(NumOrStr::Float(f)) => secs(f),
        Some(NumOrStr::Str(s)) => s.trim().parse::<f64>().ok().and_then(secs),
        Some(NumOrStr::Other(_)) | None => None,
    })
}

impl oauth2::TokenResponse for FlexibleTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

impl FlexibleTokenResponse {
    pub fn into_token(self) -> Token {
        let now = SystemTime::now();
        let expires_at = match (self.expires_on, self.expires_in) {
            // Prefer the relative lifetime: it does not depend on the two clocks agreeing.
            (_, Some(secs)) => Some(time::later(now, Duration::from_secs(secs))),
            (Some(on), None) => Some(time::from_unix_secs(on)),
            (None, None) => None,
        };
        Token {
            access_token: self.access_token.secret().clone(),
            expires_at,
            refresh_token: self.refresh_token.map(|r| r.secret().clone()),
            obtained_at: now,
        }
    }
}

type Client<HasAuth, HasDevice, HasToken> = oauth2::Client<
    BasicErrorResponse,
    FlexibleTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuth,
    HasDevice,
    EndpointNotSet,
    EndpointNotSet,
    HasToken,
>;

fn url_err(what: &str, url: &str) -> AuthError {
    AuthError::Flow(format!("The {what} '{url}' is not a valid URL."))
}

fn base_client(
    cfg: &ResolvedAuth,
) -> Result<Client<EndpointNotSet, EndpointNotSet, EndpointSet>, AuthError> {
    let token_url =
        TokenUrl::new(cfg.token_url.clone()).map_err(|_| url_err("token URL", &cfg.token_url))?;
    let mut client = Client::new(ClientId::new(cfg.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url);
    if let Some(secret) = &cfg.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    Ok(client)
}

/// The HTTP client for token endpoints: no redirects (a token endpoint never needs them).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

/// The token client as the `oauth2` crate sees it, noting the last answer's status and
/// `Location`: the crate drops both when an error body is empty, and "the token URL answered
/// 404" is the sentence a person needs.
pub(crate) struct Observed {
    http: reqwest::Client,
    last: std::sync::Mutex<Option<(u16, Option<String>)>>,
}

impl Observed {
    pub(crate) fn new(http: &reqwest::Client) -> Self {
        Observed {
            http: http.clone(),
            last: std::sync::Mutex::new(None),
        }
    }

    fn last(&self) -> Option<(u16, Option<String>)> {
        self.last.lock().map(|l| l.clone()).unwrap_or(None)
    }

    /// An oauth2 error as a sentence, with what this client saw of the answer.
    pub(crate) fn explain<RE: std::error::Error + 'static, T: ErrorResponse + 'static>(
        &self,
        e: RequestTokenError<RE, T>,
        url: &str,
    ) -> AuthError {
        explain(e, url, self.last())
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for Observed {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + Sync + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = oauth2::AsyncHttpClient::call(&self.http, request).await?;
            let location = response
                .headers()
                .get(oauth2::http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if let Ok(mut last) = self.last.lock() {
                *last = Some((response.status().as_u16(), location));
            }
            Ok(response)
        })
    }
}

pub async fn client_credentials(
    http: &reqwest::Client,
    cfg: &ResolvedAuth,
) -> Result<Token, AuthError> {
    client_credentials_grant(http, cfg, None).await
}

/// Client credentials proven by a signed assertion instead of a secret (RFC 7523 §2.2).
pub async fn client_credentials_with_assertion(
    http: &reqwest::Client,
    cfg: &ResolvedAuth,
    assertion: &str,
) -> Result<Token, AuthError> {
    client_credentials_grant(http, cfg, Some(assertion)).await
}

async fn client_credentials_grant(
    http: &reqwest::Client,
    cfg: &ResolvedAuth,
    assertion: Option<&str>,
) -> Result<Token, AuthError> {
    let client = match assertion {
        // The assertion is the credential: no secret goes with it.
        Some(_) => base_client(&ResolvedAuth {
            client_secret: None,
            ..cfg.clone()
        })?,
        None => base_client(cfg)?,
    };
    let mut req = client.exchange_client_credentials();
    if let Some(a) = assertion {
        req = req
            .add_extra_param("client_assertion_type", super::assertion::ASSERTION_TYPE)
            .add_extra_param("client_assertion", a.to_string());
    }
    if cfg.flavor == TokenFlavor::EntraV1 && cfg.scopes.is_empty() {
        req = req.add_extra_param("resource", cfg.audience.clone());
    }
    for s in &cfg.scopes {
        req = req.add_scope(Scope::new(s.clone()));
    }
    let http = Observed::new(http);
    req.request_async(&http)
        .await
        .map(FlexibleTokenResponse::into_token)
        .map_err(|e| http.explain(e, &cfg.token_url))
}

pub async fn refresh(
    http: &reqwest::Client,
    cfg: &ResolvedAuth,
    refresh_token: &str,
) -> Result<Token, AuthError> {
    let client = base_client(cfg)?;
    let rt = RefreshToken::new(refresh_token.to_string());
    let mut req = client.exchange_refresh_token(&rt);
    for s in &cfg.scopes {
        req = req.add_scope(Scope::new(s.clone()));
    }
    let http = Observed::new(http);
    let mut token = req
        .request_async(&http)
        .await
        .map(FlexibleTokenResponse::into_token)
        .map_err(|e| http.explain(e, &cfg.token_url))?;
    // Servers that do not rotate refresh tokens keep the old one valid.
    if token.refresh_token.is_none() {
        token.refresh_token = Some(refresh_token.to_string());
    }
    Ok(token)
}

/// Entra's device-code answer carries a ready-made `message` for the person.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceFields {
    #[serde(default)]
    message: Option<String>,
}

impl oauth2::ExtraDeviceAuthorizationFields for DeviceFields {}

/// What the person must do to finish a device-code sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodePrompt {
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// RFC 8628 §3.5: without an interval a client polls every 5 s; fhirside never polls faster,
/// whatever the server announces (`interval: 0` would otherwise mean hundreds a second).
pub const DEVICE_POLL_FLOOR: Duration = Duration::from_secs(5);
/// A longer announced interval is taken up to this (a typo must not stall sign-in for hours).
const DEVICE_POLL_CEILING: Duration = Duration::from_secs(120);
/// However long the server says its code lives, polling stops after this.
const DEVICE_CODE_MAX_LIFE: Duration = Duration::from_secs(3600);

/// The server's device answer with its interval clamped to `[floor, ceiling]`. The crate polls
/// at the answer's interval (and adds 5 s on `slow_down`), so the clamp goes into the answer.
fn clamp_interval(
    details: DeviceAuthorizationResponse<DeviceFields>,
    floor: Duration,
) -> DeviceAuthorizationResponse<DeviceFields> {
    let wanted = details
        .interval()
        .clamp(floor, DEVICE_POLL_CEILING.max(floor));
    if wanted == details.interval() {
        return details;
    }
    let mut json = match serde_json::to_value(&details) {
        Ok(v) => v,
        Err(_) => return details,
    };
    json["interval"] = serde_json::Value::from(wanted.as_secs().max(1));
    serde_json::from_value(json).unwrap_or(details)
}

/// Device code: asks for a code, hands the prompt to `show`, then polls at the server's interval
/// but never faster than `floor` (the crate handles `authorization_pending` and `slow_down`).
pub async fn device_code<F, Fut>(
    http: &reqwest::Client,
    cfg: &ResolvedAuth,
    floor: Duration,
    show: F,
) -> Result<Token, AuthError>
where
    F: FnOnce(DeviceCodePrompt) -> Fut,
    Fut: Future<Output = ()>,
{
    let device_url = DeviceAuthorizationUrl::new(cfg.device_code_url.clone())
        .map_err(|_| url_err("device-code URL", &cfg.device_code_url))?;
    let client = base_client(cfg)?.set_device_authorization_url(device_url);
    let mut req = client.exchange_device_code();
    for s in &cfg.scopes {
        req = req.add_scope(Scope::new(s.clone()));
    }
    let http = Observed::new(http);
    let details: DeviceAuthorizationResponse<DeviceFields> = req
        .request_async(&http)
        .await
        .map_err(|e| http.explain(e, &cfg.device_code_url))?;
    let details = clamp_interval(details, floor);
    let lifetime = details.expires_in().min(DEVICE_CODE_MAX_LIFE);
    let message = details.extra_fields().message.clone().unwrap_or_default();
    show(DeviceCodePrompt {
        user_code: details.user_code().secret().clone(),
        verification_uri: details.verification_uri().to_string(),
        message,
        expires_in: lifetime,
        interval: details.interval(),
    })
    .await;
    client
        .exchange_device_access_token(&details)
        .request_async(&http, tokio::time::sleep, Some(lifetime))
        .await
        .map(FlexibleTokenResponse::into_token)
        .map_err(|e| match &e {
            RequestTokenError::ServerResponse(r) => {
                let code = r.error().as_ref().to_string();
                match code.as_str() {
                    "expired_token" => AuthError::Flow(
                        "The device code expired before sign-in finished; start again.".into(),
                    ),
                    "access_denied" | "authorization_declined" => {
                        AuthError::Flow("Sign-in was declined on the verification page.".into())
                    }
                    _ => http.explain(e, &cfg.token_url),
                }
            }
            _ => http.explain(e, &cfg.token_url),
        })
}

/// The first half of the authorization-code flow: the URL to open, and what to check on return.
pub struct AuthorizeStart {
    pub url: String,
    pub state: String,
    pub verifier: PkceCodeVerifier,
}

pub fn authorize_url(cfg: &ResolvedAuth) -> Result<AuthorizeStart, AuthError> {
    let auth_url = AuthUrl::new(cfg.authorize_url.clone())
        .map_err(|_| url_err("authorize URL", &cfg.authorize_url))?;
    let redirect = RedirectUrl::new(cfg.redirect_uri())
        .map_err(|_| url_err("redirect URI", &cfg.redirect_uri()))?;
    let client = base_client(cfg)?
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for s in &cfg.scopes {
        req = req.add_scope(Scope::new(s.clone()));
    }
    let (url, state) = req.url();
    Ok(AuthorizeStart {
        url: url.to_string(),
        state: state.secret().clone(),
        verifier,
    })
}

pub async fn exchange_code(
    http: &reqwest::Client,
    cfg: &ResolvedAuth,
    code: String,
    verifier: PkceCodeVerifier,
) -> Result<Token, AuthError> {
    let redirect = RedirectUrl::new(cfg.redirect_uri())
        .map_err(|_| url_err("redirect URI", &cfg.redirect_uri()))?;
    let client = base_client(cfg)?.set_redirect_uri(redirect);
    let http = Observed::new(http);
    client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map(FlexibleTokenResponse::into_token)
        .map_err(|e| http.explain(e, &cfg.token_url))
}

/// An OAuth error as a sentence: the server's own description (Entra's AADSTS text) first.
fn explain<RE: std::error::Error + 'static, T: ErrorResponse + 'static>(
    e: RequestTokenError<RE, T>,
    url: &str,
    seen: Option<(u16, Option<String>)>,
) -> AuthError {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| url.to_string());
    // Answers that are not an OAuth error at all: say what came back and what to check.
    if !matches!(
        e,
        RequestTokenError::ServerResponse(_) | RequestTokenError::Request(_)
    ) && let Some((status, location)) = seen
        && status != 200
    {
        return AuthError::Flow(match (status, location) {
            (404, _) => format!(
                "The token URL {url} answered 404: check the authority and tenant (or token_url)."
            ),
            (300..=399, Some(to)) => format!(
                "The token URL {url} answered {status} with a redirect to {}; redirect not followed (a token endpoint is never redirected): set token_url to the right address.",
                super::plain(&to)
            ),
            (300..=399, None) => format!(
                "The token URL {url} answered {status} (a redirect without a Location); redirect not followed: check token_url."
            ),
            (status, _) => format!(
                "The token URL {url} answered {status} without an OAuth error: check the authority, tenant and token_url."
            ),
        });
    }
    AuthError::Flow(match e {
        RequestTokenError::ServerResponse(r) => {
            let json = serde_json::to_value(&r).unwrap_or_default();
            let error = json
                .get("error")
                .and_then(|v| v.as_str())
                .unwrap_or("error")
                .to_string();
            match json.get("error_description").and_then(|v| v.as_str()) {
                Some(d) => {
                    // Entra appends trace and correlation ids on new lines; the first line is the message.
                    let first = d.lines().next().unwrap_or(d).trim();
                    let hint = if first.contains("AADSTS90002") || first.contains("AADSTS900023") {
                        " Check tenantid."
                    } else if first.contains("AADSTS7000215") || first.contains("AADSTS7000222") {
                        " Check clientsecret."
                    } else if first.contains("AADSTS700016") {
                        " Check clientid."
                    } else {
                        ""
                    };
                    format!("Sign-in refused by {host} ({error}): {first}{hint}")
                }
                None => format!("Sign-in refused by {host}: {error}."),
            }
        }
        RequestTokenError::Request(err) => {
            let mut detail = err.to_string();
            let mut src = std::error::Error::source(&err);
            while let Some(s) = src {
                detail = s.to_string();
                src = s.source();
            }
            format!("Could not reach the sign-in server {host}: {detail}.")
        }
        // The body is not quoted: a half-valid answer may still hold a token.
        RequestTokenError::Parse(err, body) => {
            let looks_html = body.iter().take(64).any(|b| *b == b'<');
            format!(
                "{host} did not answer with a token response (is token_url right?): {} at {}{}.",
                err.inner(),
                err.path(),
                if looks_html {
                    "; it sent an HTML page"
                } else {
                    ""
                }
            )
        }
        RequestTokenError::Other(s) => format!("Sign-in with {host} failed: {s}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn entra_v1_strings_are_understood() {
        let v1 = r#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","expires_on":"1795932356","resource":"x","access_token":"abc"}"#;
        let t: FlexibleTokenResponse = serde_json::from_str(v1).unwrap();
        let token = t.into_token();
        assert_eq!(token.access_token, "abc");
        let left = token
            .expires_at
            .unwrap()
            .duration_since(SystemTime::now())
            .unwrap();
        assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3599));
        let v2 =
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"def","refresh_token":"r"}"#;
        let t: FlexibleTokenResponse = serde_json::from_str(v2).unwrap();
        assert_eq!(t.into_token().refresh_token.as_deref(), Some("r"));
        let only_on = r#"{"access_token":"x","expires_on":"4102444800"}"#;
        let t: FlexibleTokenResponse = serde_json::from_str(only_on).unwrap();
        assert_eq!(
            t.into_token().expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(4102444800))
        );
    }

    #[test]
    fn hostile_lifetimes_are_read_without_panicking() {
        for (raw, expect_expiry) in [
            ("99999999999999999999999", true),
            ("\"1e30\"", true),
            ("-10", true),
            ("7.9", true),
            ("\"later\"", false),
            ("[1]", false),
        ] {
            let json = format!(r#"{{"access_token":"a","expires_in":{raw}}}"#);
            let t: FlexibleTokenResponse = serde_json::from_str(&json).unwrap();
            let token = t.into_token();
            assert_eq!(token.expires_at.is_some(), expect_expiry, "{raw}");
            let _ = token.refresh_at();
            let _ = token.usable(SystemTime::now());
        }
    }
}
