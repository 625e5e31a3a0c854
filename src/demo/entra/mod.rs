//! Microsoft Entra ID stand-in under `/login`: v1/v2 token endpoints
//! (client credentials, authorization code + PKCE, refresh token, device
//! code), the interactive authorize page, the device-login page and an
//! OpenID configuration document. Errors use Entra's JSON shape and AADSTS
//! codes so client error handling can be exercised.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::util::{new_guid, unix_now};
use super::{
    AppState, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_DATA_ROLE, DEMO_NOROLE_CLIENT_ID,
    DEMO_NOROLE_CLIENT_SECRET, DEMO_TENANT_DOMAIN, DEMO_TENANT_ID, DEMO_USER_NAME, DEMO_USER_OID,
    DEMO_USER_UPN, auth,
};

mod interactive;
mod token;
use interactive::{authorize_get, authorize_post, devicecode, devicelogin_get, devicelogin_post};
use token::{token_v1, token_v2};

/// Second resource known to the tenant (tokens for it have the wrong audience for FHIR).
pub(super) const ARM_RESOURCE: &str = "https://management.azure.com/";
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
pub(super) struct EntraState {
    pending: HashMap<String, AuthRequest>,
    codes: HashMap<String, AuthRequest>,
    redeemed: HashSet<String>,
    refresh: HashMap<String, Grant>,
    device: HashMap<String, DeviceFlow>,
}

/// An Entra error answer.
#[derive(Debug)]
pub(super) struct EntraError {
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

pub(super) fn routes() -> Router<Arc<AppState>> {
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
