//! Sign-in (OAuth2 / Entra ID) through the worker, end to end on 127.0.0.1: the built-in demo
//! server's Entra stand-in for the real flows, and tiny local axum servers for the edge cases
//! the demo cannot be made to produce. Every test is bounded by a 10 s timeout.

mod auth_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use auth_support::*;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use fhirside::demo::{DEMO_CLIENT_SECRET, DemoOptions};
use fhirside::worker::auth::{AuthEvent, Token, jwt};
use fhirside::worker::{AuthPlan, WorkerCommand};
use fhirside::workspace::{AuthConfig, AuthKind, TokenFlavor};

fn plan(env: &str, auth: &fhirside::worker::auth::ResolvedAuth) -> Option<AuthPlan> {
    Some(AuthPlan {
        env: env.into(),
        auth: auth.clone().into(),
        policy: fhirside::worker::credentials::CredentialPolicy::for_origin_of(&auth.fhir_base),
        given: None,
        refuse_unsigned: false,
    })
}

fn cc(flavor: TokenFlavor) -> AuthConfig {
    AuthConfig {
        kind: AuthKind::ClientCredentials,
        flavor,
        ..Default::default()
    }
}

fn acquired_token(e: &AuthEvent) -> (Token, bool, String) {
    match e {
        AuthEvent::Acquired {
            token,
            renewed,
            variable,
            ..
        } => (token.clone(), *renewed, variable.clone()),
        other => panic!("expected Acquired, got {other:?}"),
    }
}

fn secs_ahead(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::now())
        .map(|d| d.as_secs_f64())
        .unwrap_or(-1.0)
}

// ---------------------------------------------------------------------------------------------
// 1. Client credentials, v1 and v2

async fn client_credentials_round_trip(flavor: TokenFlavor) {
    let server = demo(DemoOptions {
        token_ttl: Duration::from_secs(600),
        ..demo_opts()
    })
    .await;
    let env = demo_env(&server, cc(flavor));
    let auth = resolved(&env);
    let mut h = Harness::new();
    let url = format!("{}/Patient?_count=1", server.fhir_url());

    let first = h.send(get_req(&url), plan("demo", &auth));
    let r = h.response(first, Duration::from_secs(5)).await.unwrap();
    assert_eq!(r.response.status, 200, "{:?}", h.auth_events());
    assert!(r.auth_note.is_none(), "{:?}", r.auth_note);

    let ev = h
        .wait_auth(Duration::from_secs(1), "Acquired", is_acquired)
        .await;
    let (token, renewed, variable) = acquired_token(&ev);
    assert!(!renewed);
    assert_eq!(variable, "bearerToken");
    // The demo answers expires_in = ttl - 1 for ttls over a minute.
    let left = secs_ahead(token.expires_at.expect("expires_at"));
    assert!((590.0..=600.0).contains(&left), "expires in {left} s");
    assert!(token.refresh_token.is_none());
    let claims = jwt::decode(&token.access_token).expect("a JWT").claims;
    assert_eq!(
        claims["ver"],
        if flavor == TokenFlavor::EntraV2 {
            "2.0"
        } else {
            "1.0"
        }
    );
    assert_eq!(claims["aud"], server.fhir_url().as_str());

    // A second request reuses the cached token: no new Started / Acquired.
    let second = h.send(get_req(&url), plan("demo", &auth));
    let r = h.response(second, Duration::from_secs(5)).await.unwrap();
    assert_eq!(r.response.status, 200);
    h.settle(Duration::from_millis(200)).await;
    assert_eq!(h.count(is_started), 1, "{:#?}", h.auth_events());
    assert_eq!(h.count(is_acquired), 1, "{:#?}", h.auth_events());
    server.shutdown().await;
}

#[tokio::test]
async fn client_credentials_v1_gets_a_token_and_reuses_it() {
    bounded(client_credentials_round_trip(TokenFlavor::EntraV1)).await;
}

#[tokio::test]
async fn client_credentials_v2_gets_a_token_and_reuses_it() {
    bounded(client_credentials_round_trip(TokenFlavor::EntraV2)).await;
}

// ---------------------------------------------------------------------------------------------
// 2. Client-credentials failures are sentences; the request still goes out

#[tokio::test]
async fn wrong_secret_fails_with_aadsts_and_the_request_goes_without_a_token() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let mut env = demo_env(&server, cc(TokenFlavor::EntraV1));
        set_var(&mut env, "clientsecret", "not-the-secret");
        let auth = resolved(&env);
        let mut h = Harness::new();
        let id = h.send(
            get_req(format!("{}/Patient?_count=1", server.fhir_url())),
            plan("demo", &auth),
        );
        let r = h.response(id, Duration::from_secs(5)).await.unwrap();
        let ev = h
            .wait_auth(Duration::from_secs(1), "Failed", is_failed)
            .await;
        let error = failure(&ev);
        assert!(error.contains("AADSTS7000215"), "{error}");
        assert!(error.contains("Check clientsecret"), "{error}");
        // Only the first line of Entra's description: no trace / correlation ids.
        assert!(!error.contains("Trace ID"), "{error}");
        assert_eq!(r.response.status, 401);
        let note = r.auth_note.clone().expect("auth_note");
        assert!(note.contains("without a new token"), "{note}");
        assert!(note.contains("AADSTS7000215"), "{note}");
        assert_eq!(h.count(is_acquired), 0);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_tenant_fails_with_aadsts90002() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let mut env = demo_env(&server, cc(TokenFlavor::EntraV2));
        set_var(&mut env, "tenantid", "00000000-0000-0000-0000-000000000000");
        let auth = resolved(&env);
        let mut h = Harness::new();
        h.sign_in("demo", auth);
        let ev = h
            .wait_auth(Duration::from_secs(5), "Failed", is_failed)
            .await;
        let error = failure(&ev);
        assert!(error.contains("AADSTS90002"), "{error}");
        assert!(error.contains("tenantid"), "{error}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn unreachable_authority_is_a_sentence() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let mut env = demo_env(&server, cc(TokenFlavor::EntraV1));
        let closed = free_port();
        set_var(
            &mut env,
            "authority",
            &format!("http://127.0.0.1:{closed}/login"),
        );
        let auth = resolved(&env);
        let mut h = Harness::new();
        let id = h.send(
            get_req(format!("{}/Patient?_count=1", server.fhir_url())),
            plan("demo", &auth),
        );
        let r = h.response(id, Duration::from_secs(5)).await.unwrap();
        let error = failure(
            &h.wait_auth(Duration::from_secs(1), "Failed", is_failed)
                .await,
        );
        assert!(
            error.contains("Could not reach the sign-in server"),
            "{error}"
        );
        assert!(error.contains("127.0.0.1"), "{error}");
        assert_eq!(r.response.status, 401);
        server.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. Device code

fn device_config() -> AuthConfig {
    AuthConfig {
        kind: AuthKind::DeviceCode,
        ..Default::default()
    }
}

fn prompt_of(e: &AuthEvent) -> fhirside::worker::auth::DeviceCodePrompt {
    match e {
        AuthEvent::DeviceCode { prompt, .. } => prompt.clone(),
        other => panic!("expected DeviceCode, got {other:?}"),
    }
}

async fn device_login(verification_uri: &str, user_code: &str, action: &str) -> String {
    let r = browser()
        .post(verification_uri)
        .form(&[("user_code", user_code), ("action", action)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "devicelogin accepted the code");
    r.text().await.unwrap()
}

#[tokio::test]
async fn device_code_approved_gives_a_user_token() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let env = demo_env(&server, device_config());
        let auth = resolved(&env);
        let mut h = Harness::new();
        h.sign_in("demo", auth.clone());
        let prompt = prompt_of(
            &h.wait_auth(Duration::from_secs(3), "DeviceCode", |e| {
                matches!(e, AuthEvent::DeviceCode { .. })
            })
            .await,
        );
        assert_eq!(prompt.user_code.len(), 9, "{prompt:?}");
        assert_eq!(
            prompt.verification_uri,
            format!("{}/devicelogin", server.authority())
        );
        assert!(prompt.message.contains(&prompt.user_code));
        assert_eq!(prompt.interval, Duration::from_secs(1));
        let page = device_login(&prompt.verification_uri, &prompt.user_code, "approve").await;
        assert!(page.contains("signed in"), "{page}");
        let ev = h
            .wait_auth(Duration::from_secs(4), "Acquired", is_ended)
            .await;
        let (token, renewed, _) = acquired_token(&ev);
        assert!(!renewed);
        let claims = jwt::decode(&token.access_token).unwrap().claims;
        assert_eq!(claims["scp"], "user_impersonation");
        assert!(token.refresh_token.is_some(), "offline_access was asked");
        // And the token works on the FHIR service.
        let id = h.send(
            get_req(format!("{}/Patient?_count=1", server.fhir_url())),
            plan("demo", &auth),
        );
        assert_eq!(
            h.response(id, Duration::from_secs(5))
                .await
                .unwrap()
                .response
                .status,
            200
        );
        assert_eq!(h.count(is_acquired), 1, "the cached token was used");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn device_code_denied_fails_as_declined() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let env = demo_env(&server, device_config());
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&env));
        let prompt = prompt_of(
            &h.wait_auth(Duration::from_secs(3), "DeviceCode", |e| {
                matches!(e, AuthEvent::DeviceCode { .. })
            })
            .await,
        );
        device_login(&prompt.verification_uri, &prompt.user_code, "deny").await;
        let ev = h.wait_auth(Duration::from_secs(4), "end", is_ended).await;
        let error = failure(&ev);
        assert!(error.contains("declined"), "{error}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn device_code_never_approved_expires() {
    bounded(async {
        let server = demo(DemoOptions {
            device_code_ttl: Duration::from_secs(2),
            ..demo_opts()
        })
        .await;
        let env = demo_env(&server, device_config());
        let mut h = Harness::new();
        let started = Instant::now();
        h.sign_in("demo", resolved(&env));
        let ev = h.wait_auth(Duration::from_secs(6), "end", is_ended).await;
        let error = failure(&ev);
        assert!(error.contains("expired"), "{error}");
        assert!(started.elapsed() >= Duration::from_secs(2));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_device_code_sign_in_is_prompt_and_stops_polling() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let env = demo_env(&server, device_config());
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&env));
        let prompt = prompt_of(
            &h.wait_auth(Duration::from_secs(3), "DeviceCode", |e| {
                matches!(e, AuthEvent::DeviceCode { .. })
            })
            .await,
        );
        // Let it poll at least once.
        h.settle(Duration::from_millis(1200)).await;
        let asked = Instant::now();
        h.handle
            .send(WorkerCommand::CancelSignIn { env: "demo".into() });
        let i = h
            .wait_auth_from(0, Duration::from_millis(500), "Cancelled", |e| {
                matches!(e, AuthEvent::Cancelled { .. })
            })
            .await;
        assert!(h.auth[i].at.duration_since(asked) < Duration::from_millis(300));
        // Approving now must not produce a token: nobody is polling any more.
        device_login(&prompt.verification_uri, &prompt.user_code, "approve").await;
        h.settle(Duration::from_millis(2500)).await;
        assert_eq!(h.count(is_acquired), 0, "{:#?}", h.auth_events());
        assert_eq!(h.count(is_failed), 0, "{:#?}", h.auth_events());
        server.shutdown().await;
    })
    .await;
}

/// The demo only answers `slow_down` to a client that polls faster than announced, which the
/// worker never does; so a local device-code server scripts pending → slow_down → token.
#[tokio::test]
async fn device_code_slow_down_is_honoured_and_still_succeeds() {
    bounded(async {
        let polls: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let p = polls.clone();
        let app = Router::new()
            .route(
                "/devicecode",
                post(|| async {
                    axum::Json(serde_json::json!({
                        "device_code": "dev-1", "user_code": "ABCD-EFGH",
                        "verification_uri": "http://127.0.0.1:1/device",
                        "expires_in": 60, "interval": 1
                    }))
                }),
            )
            .route(
                "/token",
                post(move |body: String| {
                    let p = p.clone();
                    async move {
                        assert!(body.contains("device_code=dev-1"), "{body}");
                        let n = {
                            let mut v = p.lock().unwrap();
                            v.push(Instant::now());
                            v.len()
                        };
                        let err = |e: &str| {
                            (
                                StatusCode::BAD_REQUEST,
                                axum::Json(serde_json::json!({"error": e})),
                            )
                                .into_response()
                        };
                        match n {
                            1 => err("authorization_pending"),
                            2 => err("slow_down"),
                            _ => axum::Json(serde_json::json!({
                                "access_token": "dev-token", "token_type": "Bearer",
                                "expires_in": 3600
                            }))
                            .into_response(),
                        }
                    }
                }),
            );
        let addr = serve(app).await;
        let env = env_with(
            "local",
            &[
                ("clientid", "local-client"),
                ("fhirurl", "http://127.0.0.1:1"),
            ],
            AuthConfig {
                kind: AuthKind::DeviceCode,
                flavor: TokenFlavor::Oauth2,
                token_url: Some(format!("http://{addr}/token")),
                device_code_url: Some(format!("http://{addr}/devicecode")),
                ..Default::default()
            },
        );
        let mut h = Harness::new();
        h.sign_in("local", resolved(&env));
        let ev = h.wait_auth(Duration::from_secs(9), "end", is_ended).await;
        let (token, _, _) = acquired_token(&ev);
        assert_eq!(token.access_token, "dev-token");
        let polls = polls.lock().unwrap().clone();
        assert_eq!(polls.len(), 3);
        let gap1 = polls[1] - polls[0];
        let gap2 = polls[2] - polls[1];
        assert!(gap1 >= Duration::from_millis(950), "{gap1:?}");
        // RFC 8628 3.5: after slow_down the interval grows by 5 s.
        assert!(gap2 >= Duration::from_millis(5950), "{gap2:?}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 4. Authorization code + PKCE on a loopback port

fn auth_code_config(port: u16) -> AuthConfig {
    AuthConfig {
        kind: AuthKind::AuthorizationCode,
        redirect_port: Some(port),
        ..Default::default()
    }
}

fn browser_of(e: &AuthEvent) -> (String, u16) {
    match e {
        AuthEvent::Browser { url, port, .. } => (url.clone(), *port),
        other => panic!("expected Browser, got {other:?}"),
    }
}

#[tokio::test]
async fn authorization_code_with_pkce_through_the_loopback() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let port = free_port();
        let env = demo_env(&server, auth_code_config(port));
        let auth = resolved(&env);
        let mut h = Harness::new();
        h.sign_in("demo", auth.clone());
        let (url, got_port) = browser_of(
            &h.wait_auth(Duration::from_secs(3), "Browser", |e| {
                matches!(e, AuthEvent::Browser { .. })
            })
            .await,
        );
        assert_eq!(got_port, port);
        let u = url::Url::parse(&url).unwrap();
        let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["redirect_uri"], format!("http://localhost:{port}/"));
        assert!(q["scope"].contains("offline_access"));
        let location = consent(&url, "accept").await;
        assert!(
            location.starts_with(&format!("http://localhost:{port}/?code=")),
            "{location}"
        );
        let page = follow_to_loopback(&location).await;
        assert!(page.contains("Signed in"), "{page}");
        let ev = h
            .wait_auth(Duration::from_secs(4), "Acquired", is_ended)
            .await;
        let (token, _, _) = acquired_token(&ev);
        assert!(token.refresh_token.is_some());
        let claims = jwt::decode(&token.access_token).unwrap().claims;
        assert_eq!(claims["scp"], "user_impersonation");
        let id = h.send(
            get_req(format!("{}/Patient?_count=1", server.fhir_url())),
            plan("demo", &auth),
        );
        assert_eq!(
            h.response(id, Duration::from_secs(5))
                .await
                .unwrap()
                .response
                .status,
            200
        );
        server.shutdown().await;
    })
    .await;
}

/// A forged redirect (wrong `state`, or an `error` without the state) is answered and ignored;
/// the sign-in goes on and the real redirect completes it.
#[tokio::test]
async fn authorization_code_ignores_a_tampered_state_and_takes_the_real_redirect() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let port = free_port();
        let env = demo_env(&server, auth_code_config(port));
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&env));
        let (url, _) = browser_of(
            &h.wait_auth(Duration::from_secs(3), "Browser", |e| {
                matches!(e, AuthEvent::Browser { .. })
            })
            .await,
        );
        let location = consent(&url, "accept").await;
        let forged = with_param(&location, "state", "forged-state");
        let page = follow_to_loopback(&forged).await;
        assert!(page.contains("ignored"), "{page}");
        let port = url::Url::parse(&location).unwrap().port().unwrap();
        let page = follow_to_loopback(&format!(
            "http://localhost:{port}/?error=access_denied&error_description=forged"
        ))
        .await;
        assert!(page.contains("ignored"), "{page}");
        h.settle(Duration::from_millis(200)).await;
        assert_eq!(h.count(is_ended), 0, "{:#?}", h.auth_events());
        let page = follow_to_loopback(&location).await;
        assert!(page.contains("Signed in"), "{page}");
        h.wait_auth(Duration::from_secs(3), "Acquired", is_acquired)
            .await;
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn authorization_code_cancelled_on_the_consent_page_fails() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let port = free_port();
        let env = demo_env(&server, auth_code_config(port));
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&env));
        let (url, _) = browser_of(
            &h.wait_auth(Duration::from_secs(3), "Browser", |e| {
                matches!(e, AuthEvent::Browser { .. })
            })
            .await,
        );
        let location = consent(&url, "cancel").await;
        follow_to_loopback(&location).await;
        let error = failure(&h.wait_auth(Duration::from_secs(3), "end", is_ended).await);
        assert!(error.contains("access_denied"), "{error}");
        assert!(error.contains("AADSTS65004"), "{error}");
        server.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 5. Token command

fn echo_auth_app() -> Router {
    Router::new().route(
        "/Patient",
        get(|headers: HeaderMap| async move {
            headers
                .get("authorization")
                .map(|v| v.to_str().unwrap_or("").to_string())
                .unwrap_or_else(|| "none".into())
        }),
    )
}

#[tokio::test]
async fn token_command_output_is_the_bearer_token() {
    bounded(async {
        let addr = serve(echo_auth_app()).await;
        let env = env_with(
            "cmd",
            &[("fhirurl", &format!("http://{addr}"))],
            AuthConfig {
                kind: AuthKind::Command,
                command: Some("printf tok-from-cmd".into()),
                ..Default::default()
            },
        );
        let auth = resolved(&env);
        let mut h = Harness::new();
        let id = h.send(
            get_req(format!("http://{addr}/Patient")),
            plan("cmd", &auth),
        );
        let r = h.response(id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(r.response.status, 200);
        assert_eq!(
            String::from_utf8_lossy(&r.response.body),
            "Bearer tok-from-cmd"
        );
        let (token, _, _) = acquired_token(
            &h.wait_auth(Duration::from_secs(1), "Acquired", is_acquired)
                .await,
        );
        assert_eq!(token.access_token, "tok-from-cmd");
        assert_eq!(
            token.expires_at, None,
            "an opaque token has no known expiry"
        );
    })
    .await;
}

#[tokio::test]
async fn token_command_that_hangs_times_out() {
    bounded(async {
        let addr = serve(echo_auth_app()).await;
        let env = env_with(
            "cmd",
            &[("fhirurl", &format!("http://{addr}"))],
            AuthConfig {
                kind: AuthKind::Command,
                command: Some("sleep 5".into()),
                command_timeout_secs: Some(1),
                ..Default::default()
            },
        );
        let auth = resolved(&env);
        let mut h = Harness::new();
        let started = Instant::now();
        let id = h.send(
            get_req(format!("http://{addr}/Patient")),
            plan("cmd", &auth),
        );
        let r = h.response(id, Duration::from_secs(4)).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        let error = failure(
            &h.wait_auth(Duration::from_secs(1), "Failed", is_failed)
                .await,
        );
        assert!(error.contains("did not finish"), "{error}");
        assert!(error.contains("1 s"), "{error}");
        assert_eq!(String::from_utf8_lossy(&r.response.body), "none");
        assert!(r.auth_note.unwrap().contains("did not finish"));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 6. 401 → new token → one retry, never a loop

/// A token endpoint issuing `tok-1`, `tok-2`, … and counting its callers.
fn counting_token_endpoint(hits: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/token",
        post(move |body: String| {
            let hits = hits.clone();
            async move {
                assert!(body.contains("grant_type=client_credentials"), "{body}");
                let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
                axum::Json(serde_json::json!({
                    "access_token": format!("tok-{n}"), "token_type": "Bearer", "expires_in": 3600
                }))
            }
        }),
    )
}

fn local_cc_env(
    fhir: std::net::SocketAddr,
    idp: std::net::SocketAddr,
) -> fhirside::workspace::Environment {
    env_with(
        "stub",
        &[
            ("fhirurl", &format!("http://{fhir}")),
            ("clientid", "stub-client"),
            ("clientsecret", "stub-secret"),
        ],
        AuthConfig {
            kind: AuthKind::ClientCredentials,
            flavor: TokenFlavor::Oauth2,
            token_url: Some(format!("http://{idp}/token")),
            ..Default::default()
        },
    )
}

#[tokio::test]
async fn a_401_gets_a_new_token_and_one_retry() {
    bounded(async {
        let hits = Arc::new(AtomicUsize::new(0));
        let idp = serve(counting_token_endpoint(hits.clone())).await;
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let s = seen.clone();
        let fhir = serve(Router::new().route(
            "/Patient",
            get(move |headers: HeaderMap| {
                let s = s.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default();
                    let mut v = s.lock().unwrap();
                    v.push(auth.clone());
                    if auth == v[0] {
                        StatusCode::UNAUTHORIZED
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        ))
        .await;
        let auth = resolved(&local_cc_env(fhir, idp));
        let mut h = Harness::new();
        let id = h.send(
            get_req(format!("http://{fhir}/Patient")),
            plan("stub", &auth),
        );
        let r = h.response(id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(r.response.status, 200);
        let note = r.auth_note.expect("auth_note");
        assert!(note.contains("retried once"), "{note}");
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        assert_eq!(
            *seen.lock().unwrap(),
            vec!["Bearer tok-1".to_string(), "Bearer tok-2".to_string()]
        );
        // The fresh token is the one now cached.
        let id = h.send(
            get_req(format!("http://{fhir}/Patient")),
            plan("stub", &auth),
        );
        assert_eq!(
            h.response(id, Duration::from_secs(5))
                .await
                .unwrap()
                .response
                .status,
            200
        );
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        assert_eq!(seen.lock().unwrap().last().unwrap(), "Bearer tok-2");
    })
    .await;
}

#[tokio::test]
async fn a_service_that_always_answers_401_is_retried_only_once() {
    bounded(async {
        let hits = Arc::new(AtomicUsize::new(0));
        let idp = serve(counting_token_endpoint(hits.clone())).await;
        let requests = Arc::new(AtomicUsize::new(0));
        let rq = requests.clone();
        let fhir = serve(Router::new().route(
            "/Patient",
            get(move || {
                let rq = rq.clone();
                async move {
                    rq.fetch_add(1, Ordering::SeqCst);
                    StatusCode::UNAUTHORIZED
                }
            }),
        ))
        .await;
        let auth = resolved(&local_cc_env(fhir, idp));
        let mut h = Harness::new();
        let id = h.send(
            get_req(format!("http://{fhir}/Patient")),
            plan("stub", &auth),
        );
        let r = h.response(id, Duration::from_secs(5)).await.unwrap();
        h.settle(Duration::from_millis(300)).await;
        assert_eq!(r.response.status, 401);
        assert_eq!(requests.load(Ordering::SeqCst), 2, "original + one retry");
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        let note = r.auth_note.expect("auth_note");
        assert!(note.contains("not retrying again"), "{note}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 7. Renewal before expiry

#[tokio::test]
async fn a_short_lived_token_is_renewed_on_its_own_before_it_expires() {
    bounded(async {
        let server = demo(DemoOptions {
            token_ttl: Duration::from_secs(3),
            ..demo_opts()
        })
        .await;
        let env = demo_env(&server, cc(TokenFlavor::EntraV1));
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&env));
        let first = h
            .wait_auth_from(0, Duration::from_secs(3), "Acquired", is_acquired)
            .await;
        let (t1, renewed, _) = acquired_token(&h.auth[first].event);
        assert!(!renewed);
        let exp1 = t1.expires_at.unwrap();
        // Renewal happens for tokens in use: one request uses it.
        let auth = resolved(&env);
        let id = h.send(
            get_req(format!("{}/Patient?_count=1", server.fhir_url())),
            plan("demo", &auth),
        );
        assert_eq!(
            h.response(id, Duration::from_secs(2))
                .await
                .unwrap()
                .response
                .status,
            200
        );
        let second = h
            .wait_auth_from(first + 1, Duration::from_secs(4), "renewal", is_ended)
            .await;
        let (t2, renewed, _) = acquired_token(&h.auth[second].event);
        assert!(renewed, "the second Acquired is a renewal");
        assert_ne!(t2.access_token, t1.access_token);
        assert!(
            SystemTime::now() < exp1,
            "renewed before the first token expired"
        );
        let gap = h.auth[second].at - h.auth[first].at;
        assert!(
            gap >= Duration::from_millis(1000),
            "not renewed at once: {gap:?}"
        );
        // A renewal is silent: no Started event for it.
        assert_eq!(h.count(is_started), 1, "{:#?}", h.auth_events());

        // After sign-out the renewals stop.
        h.handle.send(WorkerCommand::SignOut { env: "demo".into() });
        let before = h.count(is_acquired);
        h.settle(Duration::from_millis(2500)).await;
        assert_eq!(h.count(is_acquired), before, "{:#?}", h.auth_events());
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_user_token_is_renewed_with_its_refresh_token_without_a_browser() {
    bounded(async {
        let server = demo(DemoOptions {
            token_ttl: Duration::from_secs(3),
            ..demo_opts()
        })
        .await;
        let port = free_port();
        let env = demo_env(&server, auth_code_config(port));
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&env));
        let (url, _) = browser_of(
            &h.wait_auth(Duration::from_secs(3), "Browser", |e| {
                matches!(e, AuthEvent::Browser { .. })
            })
            .await,
        );
        follow_to_loopback(&consent(&url, "accept").await).await;
        let first = h
            .wait_auth_from(0, Duration::from_secs(3), "Acquired", is_ended)
            .await;
        let (t1, _, _) = acquired_token(&h.auth[first].event);
        let id = h.send(
            get_req(format!("{}/Patient?_count=1", server.fhir_url())),
            plan("demo", &resolved(&env)),
        );
        h.response(id, Duration::from_secs(2)).await.unwrap();
        let second = h
            .wait_auth_from(first + 1, Duration::from_secs(4), "renewal", is_ended)
            .await;
        let (t2, renewed, _) = acquired_token(&h.auth[second].event);
        assert!(renewed);
        assert_ne!(
            t2.refresh_token, t1.refresh_token,
            "the demo rotates refresh tokens"
        );
        assert_eq!(
            h.count(|e| matches!(e, AuthEvent::Browser { .. })),
            1,
            "no second browser sign-in"
        );
        server.shutdown().await;
    })
    .await;
}

/// `ResolvedAuth::is_interactive` says interactive flows "are never started by a timer"; but
/// when the timed renewal's refresh fails, `acquire` falls through to the full interactive flow.
#[tokio::test]
async fn a_failed_refresh_on_renewal_does_not_start_a_browser_sign_in() {
    bounded(async {
        let server = demo(DemoOptions {
            token_ttl: Duration::from_secs(3),
            ..demo_opts()
        })
        .await;
        let port = free_port();
        let env = demo_env(&server, auth_code_config(port));
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&env));
        let (url, _) = browser_of(
            &h.wait_auth(Duration::from_secs(3), "Browser", |e| {
                matches!(e, AuthEvent::Browser { .. })
            })
            .await,
        );
        follow_to_loopback(&consent(&url, "accept").await).await;
        h.wait_auth(Duration::from_secs(3), "Acquired", is_acquired)
            .await;
        let id = h.send(
            get_req(format!("{}/Patient?_count=1", server.fhir_url())),
            plan("demo", &resolved(&env)),
        );
        h.response(id, Duration::from_secs(2)).await.unwrap();
        // The sign-in server goes away: the renewal's refresh (due ~1.5 s after) fails.
        server.shutdown().await;
        h.settle(Duration::from_secs(3)).await;
        let browsers = h.count(|e| matches!(e, AuthEvent::Browser { .. }));
        assert_eq!(
            browsers,
            1,
            "a renewal started a new browser sign-in by itself: {:#?}",
            h.auth_events()
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 8. Tokens only go to the FHIR base

#[tokio::test]
async fn applies_to_only_the_fhir_base() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let env = demo_env(&server, cc(TokenFlavor::EntraV1));
        let auth = resolved(&env);
        let base = server.fhir_url(); // http://127.0.0.1:PORT
        let port = server.addr().port();
        assert_eq!(auth.fhir_base, base);
        assert!(auth.applies_to(&base));
        assert!(auth.applies_to(&format!("{base}/")));
        assert!(auth.applies_to(&format!("{base}/Patient?_count=1")));
        assert!(auth.applies_to(&format!("{base}?_format=json")));
        assert!(auth.applies_to(&format!("{base}#x")));
        // Same host, another port.
        let other = if port == 65535 { 1 } else { port + 1 };
        assert!(!auth.applies_to(&format!("http://127.0.0.1:{other}/Patient")));
        // A port that merely starts with the base's port.
        assert!(!auth.applies_to(&format!("{base}0/Patient")));
        // Another scheme, another host name for the same address.
        assert!(!auth.applies_to(&format!("https://127.0.0.1:{port}/Patient")));
        assert!(!auth.applies_to(&format!("http://localhost:{port}/Patient")));
        // Userinfo tricks.
        assert!(!auth.applies_to(&format!("{base}@evil.example/Patient")));
        assert!(!auth.applies_to(""));

        // Azure-shaped: FHIR service and token endpoint on different hosts.
        let mut azure = env.clone();
        set_var(
            &mut azure,
            "fhirurl",
            "https://ws-svc.fhir.azurehealthcareapis.com/",
        );
        set_var(&mut azure, "authority", "https://login.microsoftonline.com");
        let a = resolved(&azure);
        assert!(a.applies_to("https://ws-svc.fhir.azurehealthcareapis.com/Patient"));
        assert!(!a.applies_to("https://ws-svc.fhir.azurehealthcareapis.com.evil.example/Patient"));
        assert!(!a.applies_to("https://ws-svc.fhir.azurehealthcareapis.comx/Patient"));
        assert!(!a.applies_to(&a.token_url), "{}", a.token_url);
        assert!(!a.applies_to("https://login.microsoftonline.com/"));

        // A FHIR base with a path: siblings of the path do not get the token.
        let mut pathy = env.clone();
        set_var(&mut pathy, "fhirurl", "https://api.example.org/fhir/r4");
        let p = resolved(&pathy);
        assert!(p.applies_to("https://api.example.org/fhir/r4/Patient/1"));
        assert!(!p.applies_to("https://api.example.org/fhir/r4b/Patient/1"));
        assert!(!p.applies_to("https://api.example.org/fhir"));
        assert!(!p.applies_to("https://api.example.org/admin"));

        // The demo puts its sign-in endpoints under the FHIR base (the host's root); they
        // still never get the token.
        assert!(auth.token_url.starts_with(&base));
        assert!(!auth.applies_to(&auth.token_url), "{}", auth.token_url);
        let mut v2 = env.clone();
        v2.auth = Some(cc(TokenFlavor::EntraV2));
        let v2 = resolved(&v2);
        assert!(!v2.applies_to(&v2.token_url), "{}", v2.token_url);
        let mut dc = env.clone();
        dc.auth = Some(device_config());
        let dc = resolved(&dc);
        assert!(
            !dc.applies_to(&dc.device_code_url),
            "{}",
            dc.device_code_url
        );
        assert!(!dc.applies_to(&dc.authorize_url), "{}", dc.authorize_url);
        assert!(dc.applies_to(&format!("{base}/Patient")));
        server.shutdown().await;
    })
    .await;
}

/// Since "sign-in endpoints never get the token", `applies_to` excludes every URL that starts
/// with the token URL cut at `/oauth2`. When the OAuth2 server shares a host (and path prefix)
/// with the FHIR service, as Epic's does, that cut covers the FHIR base itself.
#[test]
fn applies_to_a_fhir_base_that_shares_its_host_with_the_oauth2_server() {
    for (fhir, token) in [
        (
            "https://fhir.epic.com/interconnect-fhir-oauth/api/FHIR/R4",
            "https://fhir.epic.com/interconnect-fhir-oauth/oauth2/token",
        ),
        (
            "https://ehr.example.org/fhir",
            "https://ehr.example.org/oauth2/token",
        ),
    ] {
        let env = env_with(
            "shared",
            &[("fhirurl", fhir), ("clientid", "c"), ("clientsecret", "s")],
            AuthConfig {
                kind: AuthKind::ClientCredentials,
                flavor: TokenFlavor::Oauth2,
                token_url: Some(token.into()),
                ..Default::default()
            },
        );
        let a = resolved(&env);
        assert!(!a.applies_to(token), "the token endpoint: {token}");
        assert!(
            a.applies_to(&format!("{fhir}/Patient")),
            "{fhir}/Patient gets no token (token_url {token})"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Secrets never in Debug output

#[tokio::test]
async fn debug_output_never_shows_the_secret_or_the_token() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let env = demo_env(&server, cc(TokenFlavor::EntraV2));
        let good = resolved(&env);
        let mut bad_env = env.clone();
        let wrong_secret = "wrong-secret-Zz9~do-not-print";
        set_var(&mut bad_env, "clientsecret", wrong_secret);
        let bad = resolved(&bad_env);
        let mut h = Harness::new();
        let url = format!("{}/Patient?_count=1", server.fhir_url());
        let id = h.send(get_req(&url), plan("demo", &good));
        assert_eq!(
            h.response(id, Duration::from_secs(5))
                .await
                .unwrap()
                .response
                .status,
            200
        );
        let (token, _, _) = acquired_token(
            &h.wait_auth(Duration::from_secs(1), "Acquired", is_acquired)
                .await,
        );
        let id = h.send(get_req(&url), plan("bad", &bad));
        assert_eq!(
            h.response(id, Duration::from_secs(5))
                .await
                .unwrap()
                .response
                .status,
            401
        );
        h.wait_auth(Duration::from_secs(1), "Failed", is_failed)
            .await;
        // SignIn / SignOut / CancelSignIn commands too.
        let cmd = WorkerCommand::SignIn {
            env: "demo".into(),
            auth: good.clone().into(),
        };
        let cmd_debug = format!("{cmd:?}");
        h.settle(Duration::from_millis(200)).await;

        let mut texts = vec![
            format!("{good:?}"),
            format!("{bad:?}"),
            format!("{token:?}"),
            format!("{:?}", plan("demo", &good)),
            cmd_debug,
        ];
        texts.extend(h.auth_events().iter().map(|e| format!("{e:?}")));
        texts.extend(h.debug_log.iter().cloned());
        assert!(h.auth.len() >= 4, "{:#?}", h.auth_events());
        for t in &texts {
            assert!(!t.contains(DEMO_CLIENT_SECRET), "secret in {t}");
            assert!(!t.contains(wrong_secret), "wrong secret in {t}");
            assert!(!t.contains(&token.access_token), "token in {t}");
            // Not even a piece of the JWT body.
            let body = token.access_token.split('.').nth(1).unwrap();
            assert!(!t.contains(&body[..20]), "token piece in {t}");
        }
        // The redaction is visible.
        assert!(texts[0].contains("<redacted>"));
        assert!(texts[2].contains("<redacted>"));
        server.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Extras: one sign-in shared by concurrent requests; probes of edge cases

#[tokio::test]
async fn concurrent_requests_share_one_sign_in_and_one_renewal_after_401() {
    bounded(async {
        let hits = Arc::new(AtomicUsize::new(0));
        let idp = serve(counting_token_endpoint(hits.clone())).await;
        // Refuses tok-1 (slowly, so every request holds tok-1 before any refusal), accepts others.
        let fhir = serve(Router::new().route(
            "/Patient",
            get(|headers: HeaderMap| async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                    Some("Bearer tok-1") => StatusCode::UNAUTHORIZED,
                    Some(_) => StatusCode::OK,
                    None => StatusCode::FORBIDDEN,
                }
            }),
        ))
        .await;
        let auth = resolved(&local_cc_env(fhir, idp));
        let mut h = Harness::new();
        let ids: Vec<_> = (0..3)
            .map(|_| {
                h.send(
                    get_req(format!("http://{fhir}/Patient")),
                    plan("stub", &auth),
                )
            })
            .collect();
        for id in ids {
            let r = h.response(id, Duration::from_secs(5)).await.unwrap();
            assert_eq!(r.response.status, 200);
            assert!(r.auth_note.unwrap().contains("retried once"));
        }
        assert_eq!(
            hits.load(Ordering::SeqCst),
            2,
            "one token for all three, one more after their 401s"
        );
        h.settle(Duration::from_millis(100)).await;
        assert_eq!(h.count(is_started), 2, "{:#?}", h.auth_events());
    })
    .await;
}

/// A token endpoint that answers 200 with a body the client cannot parse (here a numeric
/// `refresh_token`) gets its body quoted in the failure sentence, access token included.
#[tokio::test]
async fn an_unparseable_token_answer_is_not_quoted_with_its_token() {
    bounded(async {
        let idp = serve(Router::new().route(
            "/token",
            post(|| async {
                axum::Json(serde_json::json!({
                    "access_token": "leaky-access-token-0123456789",
                    "token_type": "Bearer", "expires_in": 3600, "refresh_token": 42
                }))
            }),
        ))
        .await;
        let env = local_cc_env("127.0.0.1:1".parse().unwrap(), idp);
        let mut h = Harness::new();
        h.sign_in("stub", resolved(&env));
        let error = failure(&h.wait_auth(Duration::from_secs(5), "end", is_ended).await);
        assert!(error.contains("did not answer with a token"), "{error}");
        assert!(
            !error.contains("leaky-access-token"),
            "the access token is in the failure sentence: {error}"
        );
    })
    .await;
}

/// `Worker::entry` drops the cached token when the sign-in settings change, but it keeps an
/// acquisition started under the old settings: a request under the new settings waits for it
/// (here a device-code sign-in nobody will approve) and would be given its token.
#[tokio::test]
async fn new_settings_do_not_wait_for_a_sign_in_under_the_old_ones() {
    bounded(async {
        let server = demo(demo_opts()).await;
        let device_env = demo_env(&server, device_config());
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&device_env));
        h.wait_auth(Duration::from_secs(3), "DeviceCode", |e| {
            matches!(e, AuthEvent::DeviceCode { .. })
        })
        .await;
        // The person switches the environment to client credentials and sends a request.
        let cc_env = demo_env(&server, cc(TokenFlavor::EntraV2));
        let id = h.send(
            get_req(format!("{}/Patient?_count=1", server.fhir_url())),
            plan("demo", &resolved(&cc_env)),
        );
        let deadline = Instant::now() + Duration::from_secs(4);
        let r = loop {
            // Polls the harness without panicking, to report the bug plainly.
            h.settle(Duration::from_millis(200)).await;
            if let Some(r) = h.take_response(id) {
                break Some(r);
            }
            if Instant::now() > deadline {
                break None;
            }
        };
        let r = r.expect(
            "the request under the new settings is still waiting for the old device-code sign-in",
        );
        assert_eq!(r.unwrap().response.status, 200);
        server.shutdown().await;
    })
    .await;
}

/// `Token::usable` wants 60 s of life left, but `refresh_at` renews a token living less than
/// two minutes only after that point: in between, every request starts a new sign-in in the
/// foreground. With the demo's `token_ttl` of 3 s the window is the whole lifetime.
#[tokio::test]
async fn a_fresh_short_lived_token_is_used_by_the_next_request() {
    bounded(async {
        let server = demo(DemoOptions {
            token_ttl: Duration::from_secs(3),
            ..demo_opts()
        })
        .await;
        let env = demo_env(&server, cc(TokenFlavor::EntraV1));
        let auth = resolved(&env);
        let mut h = Harness::new();
        let url = format!("{}/Patient?_count=1", server.fhir_url());
        let id = h.send(get_req(&url), plan("demo", &auth));
        assert_eq!(
            h.response(id, Duration::from_secs(5))
                .await
                .unwrap()
                .response
                .status,
            200
        );
        let id = h.send(get_req(&url), plan("demo", &auth));
        assert_eq!(
            h.response(id, Duration::from_secs(5))
                .await
                .unwrap()
                .response
                .status,
            200
        );
        assert_eq!(
            h.count(is_started),
            1,
            "the second request signed in again: {:#?}",
            h.auth_events()
        );
        server.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Issue 15 §3: hostile token endpoints cannot panic, hang or hammer

/// A token endpoint answering `expires_in` with whatever JSON value it is given (raw text),
/// counting its callers.
fn hostile_token_endpoint(expires_in: &'static str, hits: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/token",
        post(move || {
            let hits = hits.clone();
            async move {
                let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
                (
                    [("content-type", "application/json")],
                    format!(
                        r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":{expires_in}}}"#
                    ),
                )
            }
        }),
    )
}

#[tokio::test]
async fn absurd_expires_in_values_neither_panic_nor_hang() {
    bounded(async {
        let fhir = serve(echo_auth_app()).await;
        for value in [
            "99999999999999999999999",
            "\"99999999999999999999999\"",
            "1e300",
            "-5",
            "12.5",
            "\"soon\"",
            "null",
            "{}",
        ] {
            let hits = Arc::new(AtomicUsize::new(0));
            let idp = serve(hostile_token_endpoint(value, hits.clone())).await;
            let auth = resolved(&local_cc_env(fhir, idp));
            let mut h = Harness::new();
            let id = h.send(
                get_req(format!("http://{fhir}/Patient")),
                plan("stub", &auth),
            );
            let r = h
                .response(id, Duration::from_secs(3))
                .await
                .unwrap_or_else(|e| panic!("expires_in {value}: {e}"));
            assert_eq!(
                String::from_utf8_lossy(&r.response.body),
                "Bearer tok-1",
                "expires_in {value}"
            );
            // The worker is still there and still answers.
            let id = h.send(get_req(format!("http://{fhir}/Patient")), None);
            assert_eq!(
                h.response(id, Duration::from_secs(3))
                    .await
                    .unwrap()
                    .response
                    .status,
                200,
                "expires_in {value}"
            );
        }
    })
    .await;
}

/// `expires_in: 0`: before the floor, every answer scheduled a renewal due at once (hundreds of
/// token requests a second, for ever). Counted at the token server, not timed.
#[tokio::test]
async fn a_zero_lifetime_is_renewed_at_most_once_per_floor() {
    bounded(async {
        let hits = Arc::new(AtomicUsize::new(0));
        let idp = serve(hostile_token_endpoint("0", hits.clone())).await;
        let fhir = serve(echo_auth_app()).await;
        let auth = resolved(&local_cc_env(fhir, idp));
        // Production rules: one automatic sign-in per 30 s.
        let mut h = Harness::with_options(fhirside::worker::WorkerOptions::default());
        h.sign_in("stub", auth.clone());
        for _ in 0..15 {
            let id = h.send(
                get_req(format!("http://{fhir}/Patient")),
                plan("stub", &auth),
            );
            let r = h.response(id, Duration::from_secs(2)).await.unwrap();
            assert_eq!(String::from_utf8_lossy(&r.response.body), "Bearer tok-1");
            h.settle(Duration::from_millis(150)).await;
        }
        let n = hits.load(Ordering::SeqCst);
        assert_eq!(n, 1, "{n} token requests in about 3 s");
    })
    .await;
}

/// A token endpoint that always fails is not asked again by every request: after a failure the
/// next automatic try waits (30 s, doubling), and requests meanwhile get the sentence at once.
#[tokio::test]
async fn failed_sign_ins_back_off_instead_of_retrying_per_request() {
    bounded(async {
        let hits = Arc::new(AtomicUsize::new(0));
        let count = hits.clone();
        let idp = serve(Router::new().route(
            "/token",
            post(move || {
                let count = count.clone();
                async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            }),
        ))
        .await;
        let fhir = serve(echo_auth_app()).await;
        let auth = resolved(&local_cc_env(fhir, idp));
        let mut h = Harness::with_options(fhirside::worker::WorkerOptions::default());
        for i in 0..10 {
            let id = h.send(
                get_req(format!("http://{fhir}/Patient")),
                plan("stub", &auth),
            );
            let r = h.response(id, Duration::from_secs(3)).await.unwrap();
            let note = r.auth_note.unwrap_or_default();
            if i > 0 {
                assert!(note.contains("signs in again by itself in"), "{note}");
            }
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // A person asking is not held back.
        let from = h.auth.len();
        h.sign_in("stub", auth);
        h.wait_auth_from(from, Duration::from_secs(3), "second failure", is_failed)
            .await;
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    })
    .await;
}

/// A token nobody uses is not renewed for ever (an environment the user left): it is renewed
/// once after its last use, then left to lapse.
#[tokio::test]
async fn an_unused_token_is_not_renewed_again() {
    bounded(async {
        let server = demo(DemoOptions {
            token_ttl: Duration::from_secs(2),
            ..demo_opts()
        })
        .await;
        let env = demo_env(&server, cc(TokenFlavor::EntraV1));
        let auth = resolved(&env);
        let mut h = Harness::new();
        let id = h.send(
            get_req(format!("{}/Patient?_count=1", server.fhir_url())),
            plan("demo", &auth),
        );
        h.response(id, Duration::from_secs(3)).await.unwrap();
        // One renewal (the token was used), then none: over 5 s a 2 s token would otherwise
        // be renewed three or four times.
        h.settle(Duration::from_secs(5)).await;
        assert_eq!(h.count(is_acquired), 2, "{:#?}", h.auth_events());
        server.shutdown().await;
    })
    .await;
}

/// `interval: 0` in a device-code answer: before the floor the worker polled hundreds of times
/// a second. RFC 8628's 5 s applies; counted at the server over about 6 s.
#[tokio::test]
async fn a_zero_device_code_interval_polls_no_faster_than_every_five_seconds() {
    bounded(async {
        let polls = Arc::new(AtomicUsize::new(0));
        let p = polls.clone();
        let app = Router::new()
            .route(
                "/devicecode",
                post(|| async {
                    axum::Json(serde_json::json!({
                        "device_code": "dev-0", "user_code": "ZERO-WAIT",
                        "verification_uri": "http://127.0.0.1:1/device",
                        "expires_in": 60, "interval": 0
                    }))
                }),
            )
            .route(
                "/token",
                post(move || {
                    let p = p.clone();
                    async move {
                        p.fetch_add(1, Ordering::SeqCst);
                        (
                            StatusCode::BAD_REQUEST,
                            axum::Json(serde_json::json!({"error": "authorization_pending"})),
                        )
                    }
                }),
            );
        let addr = serve(app).await;
        let env = env_with(
            "local",
            &[("clientid", "c"), ("fhirurl", "http://127.0.0.1:1")],
            AuthConfig {
                kind: AuthKind::DeviceCode,
                flavor: TokenFlavor::Oauth2,
                token_url: Some(format!("http://{addr}/token")),
                device_code_url: Some(format!("http://{addr}/devicecode")),
                ..Default::default()
            },
        );
        let mut h = Harness::with_options(fhirside::worker::WorkerOptions::default());
        h.sign_in("local", resolved(&env));
        let prompt = prompt_of(
            &h.wait_auth(Duration::from_secs(2), "DeviceCode", |e| {
                matches!(e, AuthEvent::DeviceCode { .. })
            })
            .await,
        );
        assert_eq!(prompt.interval, Duration::from_secs(5));
        h.settle(Duration::from_secs(6)).await;
        let n = polls.load(Ordering::SeqCst);
        assert!((1..=2).contains(&n), "{n} polls in 6 s");
        h.handle.send(WorkerCommand::CancelSignIn {
            env: "local".into(),
        });
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Issue 17: explicit URLs, new kinds, honest messages

/// Explicit token URLs (a sovereign cloud, B2C, APIM, a proxy) need no `tenantid`.
#[tokio::test]
async fn explicit_token_urls_sign_in_without_a_tenant() {
    bounded(async {
        let server = demo(demo_opts()).await;
        for (flavor, path) in [
            (TokenFlavor::EntraV1, "oauth2/token"),
            (TokenFlavor::EntraV2, "oauth2/v2.0/token"),
        ] {
            let mut env = demo_env(
                &server,
                AuthConfig {
                    kind: AuthKind::ClientCredentials,
                    flavor,
                    token_url: Some(format!(
                        "{}/{}/{path}",
                        server.authority(),
                        fhirside::demo::DEMO_TENANT_ID
                    )),
                    ..Default::default()
                },
            );
            env.variables.retain(|v| v.key != "tenantid");
            let auth = resolved(&env);
            let mut h = Harness::new();
            let id = h.send(
                get_req(format!("{}/Patient?_count=1", server.fhir_url())),
                plan("demo", &auth),
            );
            let r = h.response(id, Duration::from_secs(5)).await.unwrap();
            assert_eq!(r.response.status, 200, "{flavor:?}: {:?}", h.auth_events());
        }
        server.shutdown().await;
    })
    .await;
}

/// A token URL answering 404 with an empty body said "server returned empty error response";
/// a 307 said nothing of the redirect. Both now name the URL, the status and what to check.
#[tokio::test]
async fn token_url_404_and_redirects_are_explained() {
    bounded(async {
        let idp = serve(
            Router::new()
                .route("/token", post(|| async { StatusCode::NOT_FOUND }))
                .route(
                    "/moved",
                    post(|| async {
                        (
                            StatusCode::TEMPORARY_REDIRECT,
                            [("location", "https://elsewhere.example/token")],
                        )
                    }),
                ),
        )
        .await;
        for (path, wanted) in [
            ("/token", "answered 404: check the authority and tenant"),
            ("/moved", "redirect not followed"),
        ] {
            let mut env = local_cc_env("127.0.0.1:1".parse().unwrap(), idp);
            if let Some(a) = env.auth.as_mut() {
                a.token_url = Some(format!("http://{idp}{path}"));
            }
            let mut h = Harness::new();
            h.sign_in("stub", resolved(&env));
            let error = failure(&h.wait_auth(Duration::from_secs(5), "end", is_ended).await);
            assert!(error.contains(wanted), "{error}");
            assert!(error.contains(&format!("http://{idp}{path}")), "{error}");
            if path == "/moved" {
                assert!(error.contains("https://elsewhere.example/token"), "{error}");
            }
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Issue 17 §1: signed client assertions (Entra certificates, SMART Backend Services)

use fhirside::worker::auth::keys;

/// One RSA key and its self-signed certificate per test binary (RSA generation is slow).
fn rsa_key_and_cert() -> &'static (String, String) {
    static KEY: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let k = keys::generate(false).unwrap();
        let cert = keys::self_signed_certificate(&k, "fhirside test", 30).unwrap();
        (k.to_pem().unwrap(), cert)
    })
}

/// Writes `text` to a new 0600 file in `dir`.
fn private_file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path.display().to_string()
}

fn cert_config(flavor: TokenFlavor, key_file: String, cert_file: String) -> AuthConfig {
    AuthConfig {
        kind: AuthKind::PrivateKeyJwt,
        flavor,
        key_file: Some(key_file),
        certificate_file: Some(cert_file),
        ..Default::default()
    }
}

#[tokio::test]
async fn entra_certificate_sign_in_v1_and_v2_and_its_refusals() {
    bounded(async {
        let (key_pem, cert_pem) = rsa_key_and_cert();
        let dir = tempfile::tempdir().unwrap();
        let key_file = private_file(dir.path(), "key.pem", key_pem);
        let cert_file = private_file(dir.path(), "cert.pem", cert_pem);
        let server = demo(DemoOptions {
            entra_certificates: vec![cert_pem.clone()],
            ..demo_opts()
        })
        .await;
        for flavor in [TokenFlavor::EntraV1, TokenFlavor::EntraV2] {
            let mut env = demo_env(
                &server,
                cert_config(flavor, key_file.clone(), cert_file.clone()),
            );
            // No secret anywhere: the certificate is the credential.
            env.variables.retain(|v| v.key != "clientsecret");
            let auth = resolved(&env);
            let mut h = Harness::new();
            let id = h.send(
                get_req(format!("{}/Patient?_count=1", server.fhir_url())),
                plan("demo", &auth),
            );
            let r = h.response(id, Duration::from_secs(5)).await.unwrap();
            assert_eq!(r.response.status, 200, "{flavor:?}: {:#?}", h.auth_events());
            let (token, _, _) = acquired_token(
                &h.wait_auth(Duration::from_secs(1), "Acquired", is_acquired)
                    .await,
            );
            let claims = jwt::decode(&token.access_token).unwrap().claims;
            assert_eq!(claims["roles"][0], fhirside::demo::DEMO_DATA_ROLE);
        }
        // Another key (same certificate header): AADSTS700027, a bad signature.
        let other = keys::generate(true).unwrap().to_pem().unwrap();
        let other_key = private_file(dir.path(), "other.pem", &other);
        let mut env = demo_env(
            &server,
            cert_config(TokenFlavor::EntraV2, other_key, cert_file.clone()),
        );
        if let Some(a) = env.auth.as_mut() {
            a.algorithm = Some("ES384".into());
        }
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&env));
        let error = failure(&h.wait_auth(Duration::from_secs(5), "end", is_ended).await);
        assert!(error.contains("AADSTS700027"), "{error}");
        // A certificate the app does not know: AADSTS700027, key not found.
        let stranger = keys::generate(false).unwrap();
        let stranger_cert = keys::self_signed_certificate(&stranger, "stranger", 30).unwrap();
        let sk = private_file(dir.path(), "s.pem", &stranger.to_pem().unwrap());
        let sc = private_file(dir.path(), "s.crt", &stranger_cert);
        let env = demo_env(&server, cert_config(TokenFlavor::EntraV2, sk, sc));
        let mut h = Harness::new();
        h.sign_in("demo", resolved(&env));
        let error = failure(&h.wait_auth(Duration::from_secs(5), "end", is_ended).await);
        assert!(
            error.contains("AADSTS700027") && error.contains("key was not found"),
            "{error}"
        );
        server.shutdown().await;
    })
    .await;
}

/// Assertions posted by hand: a stale one (AADSTS700024) and one for another audience
/// (AADSTS700023).
#[tokio::test]
async fn entra_refuses_stale_and_misaddressed_assertions() {
    bounded(async {
        let (key_pem, cert_pem) = rsa_key_and_cert();
        let server = demo(DemoOptions {
            entra_certificates: vec![cert_pem.clone()],
            ..demo_opts()
        })
        .await;
        let mut file = keys::parse_pem(key_pem).unwrap();
        file.certificate_der = Some(keys::certificate_der(cert_pem).unwrap());
        let token_url = format!(
            "{}/{}/oauth2/v2.0/token",
            server.authority(),
            fhirside::demo::DEMO_TENANT_ID
        );
        let cfg = fhirside::worker::auth::ResolvedAuth {
            flavor: TokenFlavor::EntraV2,
            client_id: fhirside::demo::DEMO_CLIENT_ID.into(),
            token_url: token_url.clone(),
            ..Default::default()
        };
        let post = |assertion: String| {
            let token_url = token_url.clone();
            async move {
                browser()
                    .post(&token_url)
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", fhirside::demo::DEMO_CLIENT_ID),
                        ("scope", &format!("{}/.default", "http://x")),
                        (
                            "client_assertion_type",
                            fhirside::worker::auth::assertion::ASSERTION_TYPE,
                        ),
                        ("client_assertion", &assertion),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            }
        };
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let stale = fhirside::worker::auth::assertion::sign(&cfg, &file, hour_ago).unwrap();
        let body = post(stale).await;
        assert!(
            body.contains("AADSTS700024") && body.contains("invalid_client"),
            "{body}"
        );
        let elsewhere = fhirside::worker::auth::ResolvedAuth {
            token_url: "https://login.microsoftonline.com/other/oauth2/v2.0/token".into(),
            ..cfg.clone()
        };
        let body = post(
            fhirside::worker::auth::assertion::sign(&elsewhere, &file, SystemTime::now()).unwrap(),
        )
        .await;
        assert!(body.contains("AADSTS700023"), "{body}");
        server.shutdown().await;
    })
    .await;
}

fn smart_config(
    fhir: &str,
    token_url: String,
    key_file: String,
) -> fhirside::workspace::Environment {
    env_with(
        "smart",
        &[("fhirurl", fhir), ("clientid", "smart-app")],
        AuthConfig {
            kind: AuthKind::PrivateKeyJwt,
            flavor: TokenFlavor::Oauth2,
            token_url: Some(token_url),
            key_file: Some(key_file),
            ..Default::default()
        },
    )
}

#[tokio::test]
async fn smart_backend_services_sign_in_with_es384_and_rs384_and_refusals() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let ec = keys::generate(true).unwrap();
        let rsa = keys::parse_pem(&rsa_key_and_cert().0).unwrap().key;
        let jwks = serde_json::json!({"keys": [
            ec.public_jwk("ES384", &ec.thumbprint()),
            rsa.public_jwk("RS384", &rsa.thumbprint()),
        ]});
        let server = demo(DemoOptions {
            smart_clients: vec![("smart-app".into(), jwks)],
            ..demo_opts()
        })
        .await;
        let token_url = format!("{}/smart/token", server.fhir_url());
        for (name, pem) in [
            ("ec.pem", ec.to_pem().unwrap()),
            ("rsa.pem", rsa.to_pem().unwrap()),
        ] {
            let key_file = private_file(dir.path(), name, &pem);
            let env = smart_config(&server.fhir_url(), token_url.clone(), key_file);
            let auth = resolved(&env);
            assert_eq!(auth.scopes, vec!["system/*.read"]);
            let mut h = Harness::new();
            let id = h.send(
                get_req(format!("{}/Patient?_count=1", server.fhir_url())),
                plan("smart", &auth),
            );
            let r = h.response(id, Duration::from_secs(5)).await.unwrap();
            assert_eq!(r.response.status, 200, "{name}: {:#?}", h.auth_events());
            // An export kick-off is accepted with the same token.
            let mut kick = get_req(format!("{}/$export", server.fhir_url()));
            kick.headers.push(("Prefer".into(), "respond-async".into()));
            let id = h.send(kick, plan("smart", &auth));
            let r = h.response(id, Duration::from_secs(5)).await.unwrap();
            assert_eq!(r.response.status, 202, "{name}");
        }
        // An unregistered key: SMART's "No public keys found…" as invalid_client.
        let stranger = private_file(
            dir.path(),
            "x.pem",
            &keys::generate(true).unwrap().to_pem().unwrap(),
        );
        let mut h = Harness::new();
        h.sign_in(
            "smart",
            resolved(&smart_config(
                &server.fhir_url(),
                token_url.clone(),
                stranger,
            )),
        );
        let error = failure(&h.wait_auth(Duration::from_secs(5), "end", is_ended).await);
        assert!(
            error.contains("invalid_client") && error.contains("No public keys found"),
            "{error}"
        );
        // A key file others can read is refused before anything is sent.
        let loose = dir.path().join("loose.pem");
        std::fs::write(&loose, ec.to_pem().unwrap()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
            let mut h = Harness::new();
            h.sign_in(
                "smart",
                resolved(&smart_config(
                    &server.fhir_url(),
                    token_url,
                    loose.display().to_string(),
                )),
            );
            let error = failure(&h.wait_auth(Duration::from_secs(5), "end", is_ended).await);
            assert!(error.contains("chmod 600"), "{error}");
        }
        server.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Issue 17 §3: one token world

/// After "Get token" captures `access_token` into `bearerToken`, the next request sends that
/// token (not a new automatic one); when the server refuses it, automatic sign-in takes over
/// and the note says so. Before, the capture was ignored and then overwritten silently.
#[tokio::test]
async fn a_captured_token_is_what_the_next_request_sends() {
    bounded(async {
        let hits = Arc::new(AtomicUsize::new(0));
        let idp = serve(counting_token_endpoint(hits.clone())).await;
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let s = seen.clone();
        let fhir = serve(Router::new().route(
            "/Patient",
            get(move |headers: HeaderMap| {
                let s = s.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let refused = auth == "Bearer captured-but-revoked";
                    s.lock().unwrap().push(auth);
                    if refused {
                        StatusCode::UNAUTHORIZED
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        ))
        .await;
        let mut env = local_cc_env(fhir, idp);
        // Its own name: the last-sent registry is per environment and shared by this binary.
        env.name = "capture-test".into();
        let url = format!("http://{fhir}/Patient");
        let spec = fhirside::workspace::RequestSpec::new("p", "GET", &url);
        let mut h = Harness::new();
        let captures = vec![("bearerToken".to_string(), "captured-tok".to_string())];
        let p = fhirside::worker::auth::plan_for(&env, &captures, &spec, &url).unwrap();
        let given = p
            .as_ref()
            .and_then(|p| p.given.clone())
            .expect("the capture is the given token");
        assert_eq!(
            given.origin,
            fhirside::worker::auth::current::TokenOrigin::Captured
        );
        let id = h.send(get_req(&url), p);
        let r = h.response(id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(r.response.status, 200);
        assert!(r.auth_note.is_none(), "{:?}", r.auth_note);
        assert_eq!(seen.lock().unwrap().last().unwrap(), "Bearer captured-tok");
        assert_eq!(hits.load(Ordering::SeqCst), 0, "no automatic sign-in");
        let last = fhirside::worker::auth::current::last_sent("capture-test").unwrap();
        assert_eq!(last.token, "captured-tok");
        // A captured token the server refuses: sign-in takes over, and says so.
        let captures = vec![(
            "bearerToken".to_string(),
            "captured-but-revoked".to_string(),
        )];
        let p = fhirside::worker::auth::plan_for(&env, &captures, &spec, &url).unwrap();
        let id = h.send(get_req(&url), p.clone());
        let r = h.response(id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(r.response.status, 200);
        let note = r.auth_note.unwrap_or_default();
        assert!(
            note.contains("{{bearerToken}}") && note.contains("signed in by itself"),
            "{note}"
        );
        assert_eq!(seen.lock().unwrap().last().unwrap(), "Bearer tok-1");
        // The next request does not try the refused capture again.
        let id = h.send(get_req(&url), p);
        h.response(id, Duration::from_secs(5)).await.unwrap();
        assert_eq!(seen.lock().unwrap().last().unwrap(), "Bearer tok-1");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    })
    .await;
}
