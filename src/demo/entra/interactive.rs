//! The pages a person sees: the interactive authorize page and the device-login page, and the device-code request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use rand::Rng;
use serde_json::json;

use super::token::TokenRequest;
use super::{
    AUTH_CODE_TTL, AuthRequest, DeviceFlow, DeviceStatus, EntraError, check_tenant, client, err,
    json_response, missing_param, parse_user_scope, random_token, unknown_client,
};
use crate::demo::util::{html_escape, new_guid, parse_query};
use crate::demo::{AppState, DEMO_USER_NAME, DEMO_USER_UPN};

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

pub(super) async fn authorize_get(
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

pub(super) async fn authorize_post(
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

pub(super) async fn devicecode(
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

pub(super) async fn devicelogin_get(State(st): State<Arc<AppState>>) -> Response {
    page(StatusCode::OK, "Enter code", &device_form(&st, ""))
}

pub(super) async fn devicelogin_post(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
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
