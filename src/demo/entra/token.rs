//! The token endpoints (v1 and v2): client credentials, authorization code + PKCE, refresh token and device code grants.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    AUTH_CODE_TTL, Client, DeviceStatus, EntraError, app_claims, check_tenant, client, err,
    expires_in, json_response, missing_param, parse_user_scope, resolve_resource,
    resource_not_found, unknown_client, user_token_response,
};
use crate::demo::util::{parse_query, unix_now};
use crate::demo::{AppState, auth};

/// Form fields plus credentials from HTTP Basic auth.
pub(super) struct TokenRequest {
    form: HashMap<String, String>,
    basic: Option<(String, String)>,
}

impl TokenRequest {
    pub(super) fn parse(headers: &HeaderMap, body: &[u8]) -> Self {
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
    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.form
            .get(k)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
    pub(super) fn client_id(&self) -> Result<&'static Client, EntraError> {
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
        .filter_map(|pem| super::super::client_assertion::register_certificate(pem).ok())
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

pub(super) async fn token_v1(
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

pub(super) async fn token_v2(
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
