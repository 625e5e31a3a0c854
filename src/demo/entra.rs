//! Microsoft Entra ID stand-in under `/login`: v1/v2 token endpoints
//! (client credentials, authorization code + PKCE, refresh token, device
//! code), the interactive authorize page, the device-login page and an
//! OpenID configuration document. Errors use Entra's JSON shape and AADSTS
//! codes so client error handling can be exercised.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::util::{html_escape, new_guid, parse_query, unix_now};
use super::{
    AppState, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_DATA_ROLE, DEMO_NOROLE_CLIENT_ID,
    DEMO_NOROLE_CLIENT_SECRET, DEMO_TENANT_DOMAIN, DEMO_TENANT_ID, DEMO_USER_NAME, DEMO_USER_OID,
    DEMO_USER_UPN, auth,
};

/// Second resource known to the tenant (tokens for it have the wrong audience for FHIR).
pub const ARM_RESOURCE: &str = "https://management.azure.com/";
const AUTH_CODE_TTL: Duration = Duration::from_secs(600);

struct Client {
    id: &'static str,
    secret: &'static str,
    name: &'static str,
    sp_oid: &'static str,
    roles: &'static [&'static str],
}

const CLIENTS: &[Client] = &[
    Client {
        id: DEMO_CLIENT_ID,
        secret: DEMO_CLIENT_SECRET,
        name: "fhirside-demo",
        sp_oid: "8d3e6f1a-4b2c-4e5d-9f60-7a8b9c0d1e2f",
        roles: &[DEMO_DATA_ROLE],
    },
    Client {
        id: DEMO_NOROLE_CLIENT_ID,
        secret: DEMO_NOROLE_CLIENT_SECRET,
        name: "fhirside-demo-norole",
        sp_oid: "2f1e0d9c-8b7a-4f6e-8d5c-4b3a2f1e0d9c",
        roles: &[],
    },
];

fn client(id: &str) -> Option<&'static Client> {
    CLIENTS.iter().find(|c| c.id.eq_ignore_ascii_case(id))
}

/// What a user-flow request asked for (resource + permissions).
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    resource: String,
    offline: bool,
    openid: bool,
    oidc: Vec<String>,
}

#[derive(Debug, Clone)]
struct AuthRequest {
    grant: Grant,
    redirect_uri: String,
    state: Option<String>,
    challenge: Option<String>,
    created: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved,
    Denied,
}

#[derive(Debug, Clone)]
struct DeviceFlow {
    user_code: String,
    grant: Grant,
    created: Instant,
    last_poll: Option<Instant>,
    status: DeviceStatus,
}

/// Mutable sign-in state (pending authorize requests, codes, refresh tokens, device flows).
#[derive(Debug, Default)]
pub struct EntraState {
    pending: HashMap<String, AuthRequest>,
    codes: HashMap<String, AuthRequest>,
    redeemed: HashSet<String>,
    refresh: HashMap<String, Grant>,
    device: HashMap<String, DeviceFlow>,
}

/// An Entra error answer.
#[derive(Debug)]
pub struct EntraError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
}

fn err(
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: impl Into<String>,
) -> EntraError {
    EntraError {
        status,
        error,
        code,
        message: message.into(),
    }
}

fn missing_param(name: &str) -> EntraError {
    err(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

fn entra_timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string()
}

impl IntoResponse for EntraError {
    fn into_response(self) -> Response {
        let trace = new_guid();
        let corr = new_guid();
        let ts = entra_timestamp();
        let body = json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}", self.code, self.message),
            "error_codes": [self.code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": corr,
        });
        json_response(self.status, &body)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store, no-cache"),
            (header::PRAGMA, "no-cache"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn check_tenant(tenant: &str) -> Result<(), EntraError> {
    if tenant.eq_ignore_ascii_case(DEMO_TENANT_ID)
        || tenant.eq_ignore_ascii_case(DEMO_TENANT_DOMAIN)
    {
        Ok(())
    } else {
        Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        ))
    }
}

fn unknown_client(id: &str) -> EntraError {
    err(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{id}' was not found in the directory '{DEMO_TENANT_DOMAIN}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        ),
    )
}

fn resource_not_found(r: &str) -> EntraError {
    err(
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
        format!(
            "The resource principal named {r} was not found in the tenant named {DEMO_TENANT_DOMAIN}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
        ),
    )
}

fn invalid_scope(s: &str) -> EntraError {
    err(
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        70011,
        format!(
            "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope '{s}' does not exist."
        ),
    )
}

/// Canonical audience for a requested resource, if the tenant knows it.
fn resolve_resource(st: &AppState, r: &str) -> Option<String> {
    let t = r.trim().trim_end_matches('/');
    if t.eq_ignore_ascii_case(&st.base) {
        Some(st.base.clone())
    } else if t.eq_ignore_ascii_case(ARM_RESOURCE.trim_end_matches('/')) {
        Some(ARM_RESOURCE.to_string())
    } else if t.eq_ignore_ascii_case(super::storage::STORAGE_RESOURCE) {
        // Azure Storage: v1 tokens keep the requested spelling (trailing slash or not).
        let slash = if r.trim().ends_with('/') { "/" } else { "" };
        Some(format!("{}{slash}", super::storage::STORAGE_RESOURCE))
    } else {
        None
    }
}

const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Parses a v2 `scope` for user flows.
fn parse_user_scope(st: &AppState, client_id: &str, scope: &str) -> Result<Grant, EntraError> {
    let mut resource: Option<String> = None;
    let mut oidc = Vec::new();
    for s in scope.split_whitespace() {
        if OIDC_SCOPES.contains(&s) {
            oidc.push(s.to_string());
            continue;
        }
        let Some((res, perm)) = s.rsplit_once('/').filter(|_| s.contains("://")) else {
            return Err(invalid_scope(s));
        };
        let canonical = resolve_resource(st, res).ok_or_else(|| resource_not_found(res))?;
        if perm != ".default" && perm != "user_impersonation" {
            return Err(invalid_scope(s));
        }
        if let Some(prev) = &resource
            && prev != &canonical
        {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                28000,
                format!(
                    "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
                ),
            ));
        }
        resource = Some(canonical);
    }
    if scope.trim().is_empty() {
        return Err(missing_param("scope"));
    }
    let resource = resource.ok_or_else(|| {
        err(StatusCode::BAD_REQUEST, "invalid_scope", 70011, format!("The provided value for the input parameter 'scope' is not valid. The scope '{scope}' does not name a resource; request '{}/user_impersonation' or '{}/.default'.", st.base, st.base))
    })?;
    Ok(Grant {
        client_id: client_id.to_string(),
        resource,
        offline: oidc.iter().any(|s| s == "offline_access"),
        openid: oidc.iter().any(|s| s == "openid"),
        oidc,
    })
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

fn ttl_secs(st: &AppState) -> i64 {
    (st.opts.token_ttl.as_secs() as i64).max(1)
}

fn expires_in(st: &AppState) -> i64 {
    let t = ttl_secs(st);
    if t > 60 { t - 1 } else { t }
}

fn v2_issuer(st: &AppState) -> String {
    format!("{}/{DEMO_TENANT_ID}/v2.0", st.authority)
}

fn app_claims(st: &AppState, c: &Client, aud: &str, v2: bool) -> Value {
    let now = unix_now();
    let mut claims = json!({
        "aud": aud,
        "iss": if v2 { v2_issuer(st) } else { format!("https://sts.windows.net/{DEMO_TENANT_ID}/") },
        "iat": now - 300,
        "nbf": now - 300,
        "exp": now + ttl_secs(st),
        "aio": random_token(24),
        "idtyp": "app",
        "oid": c.sp_oid,
        "rh": random_token(12),
        "sub": c.sp_oid,
        "tid": DEMO_TENANT_ID,
        "uti": random_token(16),
        "ver": if v2 { "2.0" } else { "1.0" },
    });
    if v2 {
        claims["azp"] = json!(c.id);
        claims["azpacr"] = json!("1");
    } else {
        claims["appid"] = json!(c.id);
        claims["appidacr"] = json!("1");
        claims["idp"] = json!(format!("https://sts.windows.net/{DEMO_TENANT_ID}/"));
    }
    if aud == st.base && !c.roles.is_empty() {
        claims["roles"] = json!(c.roles);
    }
    claims
}

fn user_claims(st: &AppState, g: &Grant) -> Value {
    let now = unix_now();
    json!({
        "aud": g.resource,
        "iss": v2_issuer(st),
        "iat": now - 300,
        "nbf": now - 300,
        "exp": now + ttl_secs(st),
        "aio": random_token(24),
        "azp": g.client_id,
        "azpacr": "0",
        "name": DEMO_USER_NAME,
        "oid": DEMO_USER_OID,
        "preferred_username": DEMO_USER_UPN,
        "upn": DEMO_USER_UPN,
        "scp": "user_impersonation",
        "sub": URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{DEMO_USER_OID}{}", g.client_id))),
        "tid": DEMO_TENANT_ID,
        "uti": random_token(16),
        "ver": "2.0",
    })
}

/// Issues a v2 user token response (and rotates/creates the refresh token).
fn user_token_response(st: &AppState, es: &mut EntraState, g: &Grant) -> Response {
    let access = auth::sign(&st.key, &user_claims(st, g));
    let mut scope = vec![format!(
        "{}/user_impersonation",
        g.resource.trim_end_matches('/')
    )];
    scope.extend(g.oidc.iter().cloned());
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scope.join(" "),
        "expires_in": expires_in(st),
        "ext_expires_in": expires_in(st),
        "access_token": access,
    });
    if g.offline {
        let rt = format!("0.demo.{}", random_token(48));
        es.refresh.insert(rt.clone(), g.clone());
        body["refresh_token"] = json!(rt);
    }
    if g.openid {
        let now = unix_now();
        let id_token = auth::sign(
            &st.key,
            &json!({
                "aud": g.client_id, "iss": v2_issuer(st), "iat": now, "nbf": now, "exp": now + ttl_secs(st),
                "name": DEMO_USER_NAME, "oid": DEMO_USER_OID, "preferred_username": DEMO_USER_UPN,
                "sub": URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{DEMO_USER_OID}{}", g.client_id))),
                "tid": DEMO_TENANT_ID, "ver": "2.0"
            }),
        );
        body["id_token"] = json!(id_token);
    }
    json_response(StatusCode::OK, &body)
}

/// Form fields plus credentials from HTTP Basic auth.
struct TokenRequest {
    form: HashMap<String, String>,
    basic: Option<(String, String)>,
}

impl TokenRequest {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Self {
        let form = parse_query(&String::from_utf8_lossy(body))
            .into_iter()
            .collect();
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Basic ")
                    .or_else(|| v.strip_prefix("basic "))
            })
            .and_then(|b| STANDARD.decode(b.trim()).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                let (u, p) = s.split_once(':')?;
                let dec = |x: &str| {
                    percent_encoding::percent_decode_str(x)
                        .decode_utf8_lossy()
                        .into_owned()
                };
                Some((dec(u), dec(p)))
            });
        TokenRequest { form, basic }
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.form
            .get(k)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
    fn client_id(&self) -> Result<&'static Client, EntraError> {
        let id = self
            .basic
            .as_ref()
            .map(|(u, _)| u.as_str())
            .or_else(|| self.get("client_id"))
            .ok_or_else(|| missing_param("client_id"))?;
        client(id).ok_or_else(|| unknown_client(id))
    }
    fn secret(&self) -> Option<&str> {
        self.basic
            .as_ref()
            .map(|(_, p)| p.as_str())
            .or_else(|| self.get("client_secret"))
    }
    /// Validates the secret if one was sent; `required` for confidential grants.
    fn check_secret(&self, c: &Client, required: bool) -> Result<(), EntraError> {
        match self.secret() {
            Some(s) if s == c.secret => Ok(()),
            Some(_) => Err(err(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                    c.id
                ),
            )),
            None if required => Err(err(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )),
            None => Ok(()),
        }
    }
}

/// A confidential client proves itself with its secret or a signed assertion
/// (`client_assertion`, RFC 7523), as Entra accepts for certificate credentials: the
/// assertion's `x5t#S256` (or `x5t`) names a certificate registered for the app, the signature
/// must be that certificate's (PS256/RS256), `iss` = `sub` = the client id, `aud` = this
/// tenant's token endpoint, and now within `nbf`…`exp`. Codes and wording follow Microsoft's
/// "certificate credentials" page and AADSTS error reference.
fn check_client_credential(
    st: &AppState,
    req: &TokenRequest,
    c: &Client,
    tenant: &str,
) -> Result<(), EntraError> {
    let Some(assertion) = req.get("client_assertion") else {
        return req.check_secret(c, true);
    };
    if req.get("client_assertion_type")
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err(missing_param("client_assertion_type"));
    }
    let bad = |code: u32, msg: String| err(StatusCode::UNAUTHORIZED, "invalid_client", code, msg);
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| bad(50027, "JWT token is invalid or malformed.".into()))?;
    let alg = header.alg;
    let thumb = header
        .x5t_s256
        .clone()
        .or_else(|| header.x5t.clone())
        .unwrap_or_default();
    let certs: Vec<_> = st
        .opts
        .entra_certificates
        .iter()
        .filter_map(|pem| super::client_assertion::register_certificate(pem).ok())
        .collect();
    let Some(cert) = certs.iter().find(|k| k.matches(&header)) else {
        return Err(bad(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{thumb}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
                c.id
            ),
        ));
    };
    let signed = matches!(
        alg,
        jsonwebtoken::Algorithm::PS256 | jsonwebtoken::Algorithm::RS256
    );
    let claims = signed.then(|| cert.verify(assertion, alg)).flatten().ok_or_else(|| {
        bad(
            700027,
            format!("Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{}', Found key 'Start=…, End=…']", cert.thumbprint_hex),
        )
    })?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("");
    if !text("iss").eq_ignore_ascii_case(c.id) || !text("sub").eq_ignore_ascii_case(c.id) {
        return Err(bad(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .".into(),
        ));
    }
    let aud = text("aud").trim_end_matches('/');
    let v1 = format!("{}/{tenant}/oauth2/token", st.authority);
    let v2 = format!("{}/{tenant}/oauth2/v2.0/token", st.authority);
    if aud != v1 && aud != v2 {
        return Err(bad(
            700023,
            "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .".into(),
        ));
    }
    let now = unix_now();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let nbf = claims
        .get("nbf")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MIN);
    if now >= exp || nbf > now + 300 {
        let when = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string())
                .unwrap_or_default()
        };
        return Err(bad(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .",
                when(now),
                if nbf == i64::MIN {
                    String::new()
                } else {
                    when(nbf)
                },
                when(exp)
            ),
        ));
    }
    Ok(())
}

async fn token_v1(
    State(st): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match token_v1_inner(&st, &tenant, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn token_v1_inner(
    st: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, EntraError> {
    check_tenant(tenant)?;
    let req = TokenRequest::parse(headers, body);
    let grant = req
        .get("grant_type")
        .ok_or_else(|| missing_param("grant_type"))?;
    if grant != "client_credentials" {
        return Err(unsupported_grant(grant));
    }
    let c = req.client_id()?;
    check_client_credential(st, &req, c, tenant)?;
    let resource_raw = req
        .get("resource")
        .ok_or_else(|| missing_param("resource"))?;
    let aud = resolve_resource(st, resource_raw).ok_or_else(|| resource_not_found(resource_raw))?;
    let claims = app_claims(st, c, &aud, false);
    let token = auth::sign(&st.key, &claims);
    let now = unix_now();
    let exp_in = expires_in(st);
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": exp_in.to_string(),
            "ext_expires_in": exp_in.to_string(),
            "expires_on": (now + exp_in).to_string(),
            "not_before": claims["nbf"].as_i64().unwrap_or(now).to_string(),
            "resource": resource_raw,
            "access_token": token,
        }),
    ))
}

fn unsupported_grant(g: &str) -> EntraError {
    err(
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        70003,
        format!("The app requested an unsupported grant type '{g}'."),
    )
}

async fn token_v2(
    State(st): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match token_v2_inner(&st, &tenant, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn token_v2_inner(
    st: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, EntraError> {
    check_tenant(tenant)?;
    let req = TokenRequest::parse(headers, body);
    let grant = req
        .get("grant_type")
        .ok_or_else(|| missing_param("grant_type"))?;
    match grant {
        "client_credentials" => {
            let c = req.client_id()?;
            check_client_credential(st, &req, c, tenant)?;
            let scope = req.get("scope").ok_or_else(|| missing_param("scope"))?;
            let scopes: Vec<&str> = scope.split_whitespace().collect();
            let [single] = scopes.as_slice() else {
                return Err(default_scope_error(scope));
            };
            let res = single
                .strip_suffix("/.default")
                .ok_or_else(|| default_scope_error(scope))?;
            let aud = resolve_resource(st, res).ok_or_else(|| resource_not_found(res))?;
            let token = auth::sign(&st.key, &app_claims(st, c, &aud, true));
            Ok(json_response(
                StatusCode::OK,
                &json!({"token_type": "Bearer", "expires_in": expires_in(st), "ext_expires_in": expires_in(st), "access_token": token}),
            ))
        }
        "authorization_code" => {
            let c = req.client_id()?;
            let code = req.get("code").ok_or_else(|| missing_param("code"))?;
            let mut es = st.entra.lock().unwrap_or_else(|e| e.into_inner());
            let Some(ar) = es.codes.get(code).cloned() else {
                if es.redeemed.contains(code) {
                    return Err(err(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        54005,
                        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                    ));
                }
                return Err(code_expired());
            };
            if ar.created.elapsed() > AUTH_CODE_TTL {
                es.codes.remove(code);
                return Err(code_expired());
            }
            if !ar.grant.client_id.eq_ignore_ascii_case(c.id) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70000,
                    "The provided value for the 'code' parameter is not valid. The code was issued to a different client.",
                ));
            }
            req.check_secret(c, ar.challenge.is_none())?;
            if req.get("redirect_uri") != Some(ar.redirect_uri.as_str()) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    500112,
                    "The reply address does not match the reply address provided when requesting Authorization code.",
                ));
            }
            if let Some(ch) = &ar.challenge {
                let verifier = req
                    .get("code_verifier")
                    .ok_or_else(|| missing_param("code_verifier"))?;
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                if &computed != ch {
                    return Err(err(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    ));
                }
            }
            es.codes.remove(code);
            es.redeemed.insert(code.to_string());
            Ok(user_token_response(st, &mut es, &ar.grant))
        }
        "refresh_token" => {
            let c = req.client_id()?;
            req.check_secret(c, false)?;
            let rt = req
                .get("refresh_token")
                .ok_or_else(|| missing_param("refresh_token"))?;
            let mut es = st.entra.lock().unwrap_or_else(|e| e.into_inner());
            let g = es.refresh.get(rt).cloned().ok_or_else(code_expired)?;
            if !g.client_id.eq_ignore_ascii_case(c.id) {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70000,
                    "The refresh token was issued to a different client.",
                ));
            }
            let mut g2 = match req.get("scope") {
                Some(s) => parse_user_scope(st, c.id, s)?,
                None => g.clone(),
            };
            g2.offline = true;
            es.refresh.remove(rt);
            Ok(user_token_response(st, &mut es, &g2))
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let c = req.client_id()?;
            req.check_secret(c, false)?;
            let dc = req
                .get("device_code")
                .or_else(|| req.get("code"))
                .ok_or_else(|| missing_param("device_code"))?;
            let mut es = st.entra.lock().unwrap_or_else(|e| e.into_inner());
            let invalid = || {
                err(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70000,
                    "The provided value for the input parameter 'device_code' is not valid.",
                )
            };
            let flow = es.device.get_mut(dc).ok_or_else(invalid)?;
            if !flow.grant.client_id.eq_ignore_ascii_case(c.id) {
                return Err(invalid());
            }
            if flow.created.elapsed() > st.opts.device_code_ttl {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "expired_token",
                    70020,
                    "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
                ));
            }
            let now = Instant::now();
            let too_fast = flow.last_poll.is_some_and(|p| {
                now.duration_since(p) + Duration::from_millis(50) < st.opts.device_code_interval
            });
            flow.last_poll = Some(now);
            if too_fast {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "slow_down",
                    70016,
                    "OAuth 2.0 device flow error. The client is polling too frequently; slow down and add 5 seconds to the polling interval.",
                ));
            }
            match flow.status {
                DeviceStatus::Pending => Err(err(
                    StatusCode::BAD_REQUEST,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )),
                DeviceStatus::Denied => Err(err(
                    StatusCode::BAD_REQUEST,
                    "access_denied",
                    70000,
                    "The user declined the authorization request.",
                )),
                DeviceStatus::Approved => {
                    let g = flow.grant.clone();
                    es.device.remove(dc);
                    Ok(user_token_response(st, &mut es, &g))
                }
            }
        }
        other => Err(unsupported_grant(other)),
    }
}

fn code_expired() -> EntraError {
    err(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        70008,
        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
    )
}

fn default_scope_error(scope: &str) -> EntraError {
    err(
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        1002012,
        format!(
            "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
        ),
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:28em;margin:4em auto}}button{{margin-right:1em;padding:.4em 1.2em}}</style></head>\
         <body><h1>{t}</h1>{body}</body></html>",
        t = html_escape(title)
    );
    (status, Html(html)).into_response()
}

fn error_page(e: &EntraError) -> Response {
    page(
        e.status,
        "Sign in error",
        &format!("<p>AADSTS{}: {}</p>", e.code, html_escape(&e.message)),
    )
}

fn loopback_redirect(uri: &str) -> bool {
    match url::Url::parse(uri) {
        Ok(u) => {
            u.scheme() == "http"
                && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
                && u.fragment().is_none()
        }
        Err(_) => false,
    }
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(uri) {
        Ok(u) => u,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

async fn authorize_get(
    State(st): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let params: HashMap<String, String> = parse_query(q.as_deref().unwrap_or(""))
        .into_iter()
        .collect();
    let get = |k: &str| params.get(k).map(String::as_str).filter(|s| !s.is_empty());
    if let Err(e) = check_tenant(&tenant) {
        return error_page(&e);
    }
    let Some(client_id) = get("client_id") else {
        return error_page(&missing_param("client_id"));
    };
    let Some(c) = client(client_id) else {
        return error_page(&unknown_client(client_id));
    };
    let Some(redirect_uri) = get("redirect_uri").filter(|r| loopback_redirect(r)) else {
        return error_page(&err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{}' specified in the request does not match the redirect URIs configured for the application '{}'. Only loopback redirect URIs (http://localhost or http://127.0.0.1, any port) are registered.",
                get("redirect_uri").unwrap_or(""),
                c.id
            ),
        ));
    };
    let state = get("state").map(str::to_string);
    let fail = |e: EntraError| {
        let mut p = vec![("error", e.error), ("error_description", "")];
        let desc = format!("AADSTS{}: {}", e.code, e.message);
        p[1].1 = &desc;
        if let Some(s) = &state {
            p.push(("state", s));
        }
        redirect_with(redirect_uri, &p)
    };
    if get("response_type") != Some("code") {
        return fail(err(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            700054,
            "The only response_type supported by the demo is 'code'.",
        ));
    }
    let challenge = get("code_challenge").map(str::to_string);
    if challenge.is_some() && get("code_challenge_method").unwrap_or("plain") != "S256" {
        return fail(err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            5000529,
            "The demo only supports code_challenge_method 'S256'.",
        ));
    }
    let grant = match parse_user_scope(&st, c.id, get("scope").unwrap_or("")) {
        Ok(g) => g,
        Err(e) => return fail(e),
    };
    let ctx = random_token(24);
    let scopes_html = get("scope").map(html_escape).unwrap_or_default();
    {
        let mut es = st.entra.lock().unwrap_or_else(|e| e.into_inner());
        es.pending.insert(
            ctx.clone(),
            AuthRequest {
                grant,
                redirect_uri: redirect_uri.to_string(),
                state,
                challenge,
                created: Instant::now(),
            },
        );
    }
    let action = format!(
        "{}/{}/oauth2/v2.0/authorize",
        st.authority,
        html_escape(&tenant)
    );
    page(
        StatusCode::OK,
        "Sign in to fhirside demo",
        &format!(
            "<p>Signed in as <b>{name}</b> ({upn}).</p>\
             <p>The application <b>{app}</b> wants to access the FHIR service on your behalf.</p>\
             <p>Permissions requested: <code>{scopes_html}</code></p>\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"ctx\" value=\"{ctx}\">\
             <button type=\"submit\" name=\"action\" value=\"accept\">Accept</button>\
             <button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button>\
             </form>",
            name = html_escape(DEMO_USER_NAME),
            upn = html_escape(DEMO_USER_UPN),
            app = html_escape(c.name),
        ),
    )
}

async fn authorize_post(
    State(st): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = check_tenant(&tenant) {
        return error_page(&e);
    }
    let form: HashMap<String, String> = parse_query(&String::from_utf8_lossy(&body))
        .into_iter()
        .collect();
    let ctx = form.get("ctx").map(String::as_str).unwrap_or("");
    let mut es = st.entra.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ar) = es
        .pending
        .remove(ctx)
        .filter(|a| a.created.elapsed() < AUTH_CODE_TTL)
    else {
        return error_page(&err(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50058,
            "The sign-in session was not found or has expired. Start the sign-in again.",
        ));
    };
    let state = ar.state.clone();
    let mut params: Vec<(&str, String)> = Vec::new();
    if form.get("action").map(String::as_str) == Some("accept") {
        let code = format!("1.demo.{}", random_token(48));
        params.push(("code", code.clone()));
        if let Some(s) = &state {
            params.push(("state", s.clone()));
        }
        params.push(("session_state", new_guid()));
        let redirect = ar.redirect_uri.clone();
        es.codes.insert(
            code,
            AuthRequest {
                created: Instant::now(),
                ..ar
            },
        );
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        redirect_with(&redirect, &p)
    } else {
        params.push(("error", "access_denied".into()));
        params.push(("error_subcode", "cancel".into()));
        params.push((
            "error_description",
            "AADSTS65004: User declined to consent to access the app.".into(),
        ));
        if let Some(s) = &state {
            params.push(("state", s.clone()));
        }
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        redirect_with(&ar.redirect_uri, &p)
    }
}

const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

async fn devicecode(
    State(st): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let run = || -> Result<Response, EntraError> {
        check_tenant(&tenant)?;
        let req = TokenRequest::parse(&headers, &body);
        let c = req.client_id()?;
        let scope = req.get("scope").ok_or_else(|| missing_param("scope"))?;
        let grant = parse_user_scope(&st, c.id, scope)?;
        let mut rng = rand::rng();
        let user_code: String = (0..9)
            .map(|_| USER_CODE_ALPHABET[rng.random_range(0..USER_CODE_ALPHABET.len())] as char)
            .collect();
        let device_code = format!("DAQABAAEAAAD.demo.{}", random_token(48));
        let verification_uri = format!("{}/devicelogin", st.authority);
        st.entra
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .device
            .insert(
                device_code.clone(),
                DeviceFlow {
                    user_code: user_code.clone(),
                    grant,
                    created: Instant::now(),
                    last_poll: None,
                    status: DeviceStatus::Pending,
                },
            );
        Ok(json_response(
            StatusCode::OK,
            &json!({
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": verification_uri,
                "expires_in": st.opts.device_code_ttl.as_secs().max(1),
                "interval": st.opts.device_code_interval.as_secs().max(1),
                "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."),
            }),
        ))
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

fn device_form(st: &AppState, note: &str) -> String {
    format!(
        "{note}<p>Enter the code displayed on your device to sign in as <b>{}</b>.</p>\
         <form method=\"post\" action=\"{}/devicelogin\">\
         <input name=\"user_code\" autocomplete=\"off\" autofocus>\
         <p><button type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button></p></form>",
        html_escape(DEMO_USER_NAME),
        st.authority
    )
}

async fn devicelogin_get(State(st): State<Arc<AppState>>) -> Response {
    page(StatusCode::OK, "Enter code", &device_form(&st, ""))
}

async fn devicelogin_post(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = parse_query(&String::from_utf8_lossy(&body))
        .into_iter()
        .collect();
    let code: String = form
        .get("user_code")
        .map(|c| {
            c.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_uppercase()
        })
        .unwrap_or_default();
    let approve = form.get("action").map(String::as_str) == Some("approve");
    let mut es = st.entra.lock().unwrap_or_else(|e| e.into_inner());
    let ttl = st.opts.device_code_ttl;
    let flow = es.device.values_mut().find(|f| {
        !code.is_empty()
            && f.user_code == code
            && f.status == DeviceStatus::Pending
            && f.created.elapsed() <= ttl
    });
    match flow {
        Some(f) => {
            f.status = if approve {
                DeviceStatus::Approved
            } else {
                DeviceStatus::Denied
            };
            if approve {
                page(
                    StatusCode::OK,
                    "You're signed in",
                    "<p>You have signed in to the fhirside demo application on your device. You may now close this window.</p>",
                )
            } else {
                page(
                    StatusCode::OK,
                    "Sign-in denied",
                    "<p>You have declined to sign in to the application on your device. You may now close this window.</p>",
                )
            }
        }
        None => page(
            StatusCode::BAD_REQUEST,
            "Enter code",
            &device_form(
                &st,
                "<p><b>That code didn't work. Check the code and try again.</b></p>",
            ),
        ),
    }
}

async fn openid_configuration(
    State(st): State<Arc<AppState>>,
    Path(tenant): Path<String>,
) -> Response {
    if let Err(e) = check_tenant(&tenant) {
        return e.into_response();
    }
    let a = &st.authority;
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": v2_issuer(&st),
            "authorization_endpoint": format!("{a}/{DEMO_TENANT_ID}/oauth2/v2.0/authorize"),
            "token_endpoint": format!("{a}/{DEMO_TENANT_ID}/oauth2/v2.0/token"),
            "device_authorization_endpoint": format!("{a}/{DEMO_TENANT_ID}/oauth2/v2.0/devicecode"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
            "code_challenge_methods_supported": ["S256"],
            "tenant_region_scope": "EU",
            "id_token_signing_alg_values_supported": ["HS256"],
        }),
    )
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/login/{tenant}/oauth2/token", post(token_v1))
        .route("/login/{tenant}/oauth2/v2.0/token", post(token_v2))
        .route(
            "/login/{tenant}/oauth2/v2.0/authorize",
            get(authorize_get).post(authorize_post),
        )
        .route("/login/{tenant}/oauth2/v2.0/devicecode", post(devicecode))
        .route(
            "/login/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route(
            "/login/devicelogin",
            get(devicelogin_get).post(devicelogin_post),
        )
}
