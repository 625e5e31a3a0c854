//! End-to-end tests of the built-in demo server over real HTTP on 127.0.0.1.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fhirside::demo::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn opts(patients: usize) -> DemoOptions {
    DemoOptions {
        patients,
        ..Default::default()
    }
}

async fn start(o: DemoOptions) -> DemoServer {
    DemoServer::start(0, o).await.expect("start demo server")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn json_of(r: reqwest::Response) -> Value {
    let text = r.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn token_url(s: &DemoServer, v2: bool) -> String {
    format!(
        "{}/{}/oauth2/{}token",
        s.authority(),
        DEMO_TENANT_ID,
        if v2 { "v2.0/" } else { "" }
    )
}

async fn app_token_for(s: &DemoServer, client_id: &str, secret: &str, scope: &str) -> String {
    app_token_via(&http(), s, client_id, secret, scope).await
}

async fn app_token_via(
    c: &reqwest::Client,
    s: &DemoServer,
    client_id: &str,
    secret: &str,
    scope: &str,
) -> String {
    let r = c
        .post(token_url(s, true))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", scope),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), StatusCode::OK);
    json_of(r).await["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn token(s: &DemoServer) -> String {
    app_token_for(
        s,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        &format!("{}/.default", s.fhir_url()),
    )
    .await
}

async fn get(s: &DemoServer, tok: &str, path: &str) -> reqwest::Response {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{}", s.fhir_url(), path)
    };
    http().get(url).bearer_auth(tok).send().await.expect("get")
}

fn assert_entra_error(body: &Value, error: &str, code: u64) {
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let d = body["error_description"].as_str().expect("description");
    assert!(d.starts_with(&format!("AADSTS{code}: ")), "{d}");
    assert!(
        d.contains("Trace ID: ") && d.contains("Correlation ID: ") && d.contains("Timestamp: "),
        "{d}"
    );
    assert!(
        body["trace_id"].is_string()
            && body["correlation_id"].is_string()
            && body["timestamp"].is_string()
    );
}

fn issue(oo: &Value) -> (&str, &str) {
    (
        oo["issue"][0]["code"].as_str().unwrap_or(""),
        oo["issue"][0]["diagnostics"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn metadata_and_health() {
    let s = start(opts(20)).await;
    let r = http()
        .get(format!("{}/metadata", s.fhir_url()))
        .send()
        .await
        .expect("metadata");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/fhir+json")
    );
    assert!(r.headers().contains_key("x-request-id"));
    let cs = json_of(r).await;
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    let types: Vec<&str> = cs["rest"][0]["resource"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "Patient",
            "Practitioner",
            "PractitionerRole",
            "Organization",
            "Location",
            "Encounter",
            "Observation",
            "Condition",
            "Procedure",
            "MedicationRequest",
            "AllergyIntolerance",
            "DiagnosticReport",
            "Group"
        ]
    );
    let by_type = |t: &str| {
        cs["rest"][0]["resource"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["type"] == t)
            .cloned()
            .expect("type")
    };
    let role = by_type("PractitionerRole");
    let incl = role["searchInclude"].to_string();
    for i in [
        "PractitionerRole:practitioner",
        "PractitionerRole:organization",
        "PractitionerRole:location",
    ] {
        assert!(incl.contains(i), "{incl}");
    }
    let rev = by_type("Practitioner")["searchRevInclude"].to_string();
    assert!(
        rev.contains("PractitionerRole:practitioner") && rev.contains("Encounter:participant"),
        "{rev}"
    );
    let obs_params = by_type("Observation")["searchParam"].to_string();
    for p in [
        "\"code\"",
        "\"date\"",
        "\"category\"",
        "\"patient\"",
        "\"subject\"",
    ] {
        assert!(obs_params.contains(p), "{p}");
    }
    let patient = &cs["rest"][0]["resource"][0];
    let params: Vec<&str> = patient["searchParam"]
        .as_array()
        .expect("params")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for p in [
        "name",
        "family",
        "given",
        "identifier",
        "birthdate",
        "gender",
        "_id",
    ] {
        assert!(params.contains(&p), "{p} missing");
    }
    let ops = patient["operation"].to_string();
    assert!(ops.contains("everything") && ops.contains("export"));
    assert_eq!(cs["rest"][0]["operation"][0]["name"], "export");

    let r = http()
        .get(format!("{}/health/check", s.fhir_url()))
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), StatusCode::OK);
    let h = json_of(r).await;
    assert_eq!(h["overallStatus"], "Healthy");
    assert!(h["details"][0]["name"].is_string() && h["details"][0]["data"].is_object());
    s.shutdown().await;

    for (fault, code, status) in [
        (HealthFault::Degraded, StatusCode::OK, "Degraded"),
        (
            HealthFault::Unhealthy,
            StatusCode::SERVICE_UNAVAILABLE,
            "Unhealthy",
        ),
    ] {
        let mut o = opts(5);
        o.faults.health = Some(fault);
        let s = start(o).await;
        let r = http()
            .get(format!("{}/health/check", s.fhir_url()))
            .send()
            .await
            .expect("health");
        assert_eq!(r.status(), code);
        assert_eq!(json_of(r).await["overallStatus"], status);
        s.shutdown().await;
    }
}

#[tokio::test]
async fn token_endpoints_client_credentials_and_errors() {
    let s = start(opts(5)).await;
    let c = http();
    // v1: strings everywhere
    let r = c
        .post(token_url(&s, false))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("resource", &s.fhir_url()),
        ])
        .send()
        .await
        .expect("v1");
    assert_eq!(r.status(), StatusCode::OK);
    let b = json_of(r).await;
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["expires_in"], "3599");
    assert_eq!(b["ext_expires_in"], "3599");
    assert!(
        b["expires_on"]
            .as_str()
            .expect("expires_on")
            .parse::<i64>()
            .is_ok()
    );
    assert!(
        b["not_before"]
            .as_str()
            .expect("not_before")
            .parse::<i64>()
            .is_ok()
    );
    assert_eq!(b["resource"], s.fhir_url());
    let v1 = b["access_token"].as_str().expect("token").to_string();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(v1.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("claims");
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{DEMO_TENANT_ID}/")
    );
    assert_eq!(claims["appid"], DEMO_CLIENT_ID);
    assert_eq!(claims["roles"], json!([DEMO_DATA_ROLE]));
    assert_eq!(
        get(&s, &v1, "/Patient?_count=1").await.status(),
        StatusCode::OK
    );

    // v2: numbers, basic auth
    let r = c
        .post(token_url(&s, true))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", &format!("{}/.default", s.fhir_url())),
        ])
        .send()
        .await
        .expect("v2");
    assert_eq!(r.status(), StatusCode::OK);
    let b = json_of(r).await;
    assert_eq!(b["expires_in"], 3599);
    let v2 = b["access_token"].as_str().expect("token");
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(v2.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("claims");
    assert_eq!(
        claims["iss"],
        format!("{}/{DEMO_TENANT_ID}/v2.0", s.authority())
    );
    assert_eq!(claims["azp"], DEMO_CLIENT_ID);
    assert_eq!(claims["aud"], s.fhir_url());
    assert_eq!(
        get(&s, v2, "/Patient?_count=1").await.status(),
        StatusCode::OK
    );

    let scope = format!("{}/.default", s.fhir_url());
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, StatusCode, &'a str, u64);
    let cases: Vec<Case> = vec![
        (
            token_url(&s, true),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", DEMO_CLIENT_ID),
                ("client_secret", "wrong"),
                ("scope", &scope),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
        ),
        (
            format!(
                "{}/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token",
                s.authority()
            ),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", DEMO_CLIENT_ID),
                ("client_secret", DEMO_CLIENT_SECRET),
                ("scope", &scope),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
        ),
        (
            token_url(&s, true),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "11111111-2222-3333-4444-555555555555"),
                ("client_secret", "x"),
                ("scope", &scope),
            ],
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
        ),
        (
            token_url(&s, true),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", DEMO_CLIENT_ID),
                ("client_secret", DEMO_CLIENT_SECRET),
                ("scope", "openid"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
        ),
        (
            token_url(&s, true),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", DEMO_CLIENT_ID),
                ("client_secret", DEMO_CLIENT_SECRET),
                ("scope", "https://nowhere.example.com/.default"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
        ),
        (
            token_url(&s, true),
            vec![("grant_type", "password"), ("client_id", DEMO_CLIENT_ID)],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
        ),
        (
            token_url(&s, false),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", DEMO_CLIENT_ID),
                ("client_secret", DEMO_CLIENT_SECRET),
                ("resource", "https://nowhere.example.com"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
        ),
    ];
    for (url, form, status, error, code) in cases {
        let r = c.post(url).form(&form).send().await.expect("token error");
        assert_eq!(r.status(), status, "{error}");
        let b = json_of(r).await;
        assert_entra_error(&b, error, code);
        if code == 7000215 {
            assert!(
                b["error_description"]
                    .as_str()
                    .unwrap_or("")
                    .contains("client secret value, not the client secret ID")
            );
        }
    }
    s.shutdown().await;
}

fn pkce() -> (String, String) {
    let verifier = "demo-verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG".to_string();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn extract_ctx(html: &str) -> String {
    let marker = "name=\"ctx\" value=\"";
    let at = html.find(marker).expect("ctx field") + marker.len();
    html[at..].split('"').next().expect("ctx").to_string()
}

async fn authorize(
    s: &DemoServer,
    redirect: &str,
    scope: &str,
    challenge: &str,
    action: &str,
) -> reqwest::Response {
    let c = http();
    let url = format!("{}/{DEMO_TENANT_ID}/oauth2/v2.0/authorize", s.authority());
    let r = c
        .get(&url)
        .query(&[
            ("client_id", DEMO_CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("state", "st-123"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("html");
    assert!(html.contains("<form") && html.contains("Accept") && html.contains("Cancel"));
    let ctx = extract_ctx(&html);
    c.post(&url)
        .form(&[("ctx", ctx.as_str()), ("action", action)])
        .send()
        .await
        .expect("post form")
}

#[tokio::test]
async fn authorization_code_pkce_and_refresh() {
    let s = start(opts(5)).await;
    let c = http();
    let redirect = "http://localhost:53123/callback";
    let scope = format!("{}/user_impersonation openid offline_access", s.fhir_url());
    let (verifier, challenge) = pkce();
    let r = authorize(&s, redirect, &scope, &challenge, "accept").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = url::Url::parse(r.headers()["location"].to_str().expect("location")).expect("url");
    assert!(loc.as_str().starts_with(redirect));
    let q: std::collections::HashMap<String, String> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "st-123");
    let code = q["code"].clone();

    let exchange = |code: String, verifier: String| {
        let c = c.clone();
        let url = token_url(&s, true);
        async move {
            c.post(url)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", DEMO_CLIENT_ID),
                    ("code", &code),
                    ("redirect_uri", redirect),
                    ("code_verifier", &verifier),
                ])
                .send()
                .await
                .expect("exchange")
        }
    };
    let r = exchange(
        code.clone(),
        "wrong-verifier-wrong-verifier-wrong-verifier-000".into(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_entra_error(&json_of(r).await, "invalid_grant", 501481);
    let r = exchange(code.clone(), verifier.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let b = json_of(r).await;
    assert_eq!(b["token_type"], "Bearer");
    assert!(b["id_token"].is_string());
    let access = b["access_token"].as_str().expect("access").to_string();
    let rt = b["refresh_token"].as_str().expect("refresh").to_string();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).expect("p"))
            .expect("b64"),
    )
    .expect("claims");
    assert_eq!(claims["scp"], "user_impersonation");
    assert_eq!(claims["upn"], DEMO_USER_UPN);
    assert_eq!(
        get(&s, &access, "/Patient?_count=1").await.status(),
        StatusCode::OK
    );
    // reused code
    let r = exchange(code, verifier).await;
    assert_entra_error(&json_of(r).await, "invalid_grant", 54005);

    // refresh rotates
    let refresh = |rt: String| {
        let c = c.clone();
        let url = token_url(&s, true);
        async move {
            c.post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", DEMO_CLIENT_ID),
                    ("refresh_token", &rt),
                ])
                .send()
                .await
                .expect("refresh")
        }
    };
    let r = refresh(rt.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let b = json_of(r).await;
    let rt2 = b["refresh_token"].as_str().expect("new rt");
    assert_ne!(rt2, rt);
    assert_eq!(
        get(
            &s,
            b["access_token"].as_str().expect("at"),
            "/Patient?_count=1"
        )
        .await
        .status(),
        StatusCode::OK
    );
    let r = refresh(rt).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_entra_error(&json_of(r).await, "invalid_grant", 70008);

    // cancel
    let r = authorize(&s, "http://127.0.0.1:9/cb", &scope, &challenge, "cancel").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(
        loc.starts_with("http://127.0.0.1:9/cb?")
            && loc.contains("error=access_denied")
            && loc.contains("state=st-123"),
        "{loc}"
    );

    // non-loopback redirect: error page, no redirect
    let r = c
        .get(format!(
            "{}/{DEMO_TENANT_ID}/oauth2/v2.0/authorize",
            s.authority()
        ))
        .query(&[
            ("client_id", DEMO_CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", "https://evil.example.com/cb"),
            ("scope", &scope),
        ])
        .send()
        .await
        .expect("authorize bad");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap_or_default().contains("AADSTS50011"));
    s.shutdown().await;
}

#[tokio::test]
async fn device_code_flow() {
    let mut o = opts(5);
    o.device_code_interval = Duration::from_secs(1);
    o.device_code_ttl = Duration::from_secs(3);
    let s = start(o).await;
    let c = http();
    let scope = format!("{}/user_impersonation offline_access", s.fhir_url());
    let begin = || async {
        let r = c
            .post(format!(
                "{}/{DEMO_TENANT_ID}/oauth2/v2.0/devicecode",
                s.authority()
            ))
            .form(&[("client_id", DEMO_CLIENT_ID), ("scope", scope.as_str())])
            .send()
            .await
            .expect("devicecode");
        assert_eq!(r.status(), StatusCode::OK);
        json_of(r).await
    };
    let turl = token_url(&s, true);
    let poll = |dc: String| {
        let turl = turl.clone();
        async move {
            http()
                .post(turl)
                .form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", DEMO_CLIENT_ID),
                    ("device_code", &dc),
                ])
                .send()
                .await
                .expect("poll")
        }
    };
    let d = begin().await;
    assert_eq!(
        d["verification_uri"],
        format!("{}/devicelogin", s.authority())
    );
    assert_eq!(d["interval"], 1);
    assert_eq!(d["expires_in"], 3);
    let user_code = d["user_code"].as_str().expect("user_code").to_string();
    assert!(d["message"].as_str().expect("message").contains(&user_code));
    let dc = d["device_code"].as_str().expect("device_code").to_string();
    let r = poll(dc.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(r).await["error"], "authorization_pending");
    let r = poll(dc.clone()).await;
    assert_eq!(json_of(r).await["error"], "slow_down");

    let page = c
        .get(format!("{}/devicelogin", s.authority()))
        .send()
        .await
        .expect("page");
    assert!(page.text().await.unwrap_or_default().contains("user_code"));
    let r = c
        .post(format!("{}/devicelogin", s.authority()))
        .form(&[("user_code", "NOPE-NOPE"), ("action", "approve")])
        .send()
        .await
        .expect("bad code");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(format!("{}/devicelogin", s.authority()))
        .form(&[("user_code", user_code.as_str()), ("action", "approve")])
        .send()
        .await
        .expect("approve");
    assert_eq!(r.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let r = poll(dc.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let b = json_of(r).await;
    assert!(b["refresh_token"].is_string());
    assert_eq!(
        get(
            &s,
            b["access_token"].as_str().expect("at"),
            "/Patient?_count=1"
        )
        .await
        .status(),
        StatusCode::OK
    );

    // denied
    let d = begin().await;
    let uc = d["user_code"].as_str().expect("uc");
    c.post(format!("{}/devicelogin", s.authority()))
        .form(&[("user_code", uc), ("action", "deny")])
        .send()
        .await
        .expect("deny");
    let r = poll(d["device_code"].as_str().expect("dc").to_string()).await;
    assert_eq!(json_of(r).await["error"], "access_denied");

    // expired
    let d = begin().await;
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let r = poll(d["device_code"].as_str().expect("dc").to_string()).await;
    assert_entra_error(&json_of(r).await, "expired_token", 70020);
    s.shutdown().await;
}

#[tokio::test]
async fn auth_failures_401_and_403() {
    let mut o = opts(5);
    o.token_ttl = Duration::from_secs(1);
    let s = start(o).await;
    let short = token(&s).await;
    let c = http();
    let expect_401 = |r: reqwest::Response| {
        let fhir = s.fhir_url();
        let authority = s.authority();
        async move {
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            assert!(r.headers().contains_key("x-request-id"));
            let www = r.headers()["www-authenticate"]
                .to_str()
                .expect("www")
                .to_string();
            assert_eq!(
                www,
                format!(
                    "Bearer authorization_uri=\"{authority}/{DEMO_TENANT_ID}\", resource_id=\"{fhir}\", realm=\"{fhir}\""
                )
            );
            let oo = json_of(r).await;
            assert_eq!(oo["resourceType"], "OperationOutcome");
            assert_eq!(issue(&oo), ("login", "Authentication failed."));
        }
    };
    expect_401(
        c.get(format!("{}/Patient", s.fhir_url()))
            .send()
            .await
            .expect("no token"),
    )
    .await;
    expect_401(get(&s, "not.a.jwt", "/Patient").await).await;
    let arm = app_token_for(
        &s,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        &format!("{DEMO_OTHER_RESOURCE}.default"),
    )
    .await;
    expect_401(get(&s, &arm, "/Patient").await).await;
    let noroles = app_token_for(
        &s,
        DEMO_NOROLE_CLIENT_ID,
        DEMO_NOROLE_CLIENT_SECRET,
        &format!("{}/.default", s.fhir_url()),
    )
    .await;
    let r = get(&s, &noroles, "/Patient").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        issue(&json_of(r).await),
        ("forbidden", "Authorization failed.")
    );
    assert_eq!(
        get(&s, &short, "/Patient?_count=1").await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2600)).await;
    expect_401(get(&s, &short, "/Patient").await).await;
    s.shutdown().await;
}

#[tokio::test]
async fn crud_with_etags() {
    let s = start(opts(10)).await;
    let t = token(&s).await;
    let c = http();
    let base = s.fhir_url();
    let r = c
        .post(format!("{base}/Patient"))
        .bearer_auth(&t)
        .header("content-type", "application/fhir+json")
        .body(json!({"resourceType": "Patient", "id": "ignored", "name": [{"family": "Crud", "given": ["Zoë"]}], "gender": "female"}).to_string())
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["etag"], "W/\"1\"");
    assert_eq!(
        r.headers()["content-type"],
        "application/fhir+json; charset=utf-8"
    );
    let p = json_of(r).await;
    let id = p["id"].as_str().expect("id").to_string();
    assert_ne!(id, "ignored");
    assert_eq!(p["meta"]["versionId"], "1");
    assert!(p["meta"]["lastUpdated"].is_string());

    let r = get(&s, &t, &format!("/Patient/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "W/\"1\"");
    assert!(
        r.headers()["last-modified"]
            .to_str()
            .expect("lm")
            .ends_with("GMT")
    );

    let put = |body: Value, if_match: Option<&str>| {
        let mut rb = c
            .put(format!("{base}/Patient/{id}"))
            .bearer_auth(&t)
            .header("content-type", "application/fhir+json")
            .body(body.to_string());
        if let Some(m) = if_match {
            rb = rb.header("if-match", m);
        }
        rb.send()
    };
    let mut updated = p.clone();
    updated["active"] = json!(true);
    let r = put(updated.clone(), Some("W/\"1\"")).await.expect("put");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "W/\"2\"");
    let r = put(updated.clone(), Some("W/\"1\""))
        .await
        .expect("put stale");
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let mut wrong = updated.clone();
    wrong["id"] = json!("someone-else");
    let r = put(wrong, None).await.expect("put wrong id");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let mut bad = updated.clone();
    bad["gender"] = json!("robot");
    assert_eq!(
        put(bad, None).await.expect("bad gender").status(),
        StatusCode::BAD_REQUEST
    );

    let h = json_of(get(&s, &t, &format!("/Patient/{id}/_history")).await).await;
    assert_eq!(h["type"], "history");
    assert_eq!(h["entry"].as_array().map(Vec::len), Some(2));
    let v1 = get(&s, &t, &format!("/Patient/{id}/_history/1")).await;
    assert_eq!(v1.status(), StatusCode::OK);
    assert!(json_of(v1).await.get("active").is_none());

    let r = c
        .delete(format!("{base}/Patient/{id}"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = get(&s, &t, &format!("/Patient/{id}")).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert_eq!(
        get(&s, &t, &format!("/Patient/{id}/_history/2"))
            .await
            .status(),
        StatusCode::OK
    );

    let r = get(&s, &t, "/Foo/1").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        issue(&json_of(r).await).1,
        "Resource type 'Foo' is not supported."
    );
    let r = get(&s, &t, "/Patient/does-not-exist").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        issue(&json_of(r).await).1,
        "Resource type 'Patient' with id 'does-not-exist' couldn't be found."
    );
    let r = c
        .post(format!("{base}/Patient"))
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .expect("415");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = c
        .post(format!("{base}/Patient"))
        .bearer_auth(&t)
        .header("content-type", "application/fhir+json")
        .body("{not json")
        .send()
        .await
        .expect("400");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(r).await["resourceType"], "OperationOutcome");
    let r = c
        .patch(format!("{base}/Patient/x"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("405");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = c
        .delete(format!("{base}/Group/{DEMO_GROUP_ID}"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("405");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        get(&s, &t, &format!("/Group/{DEMO_GROUP_ID}"))
            .await
            .status(),
        StatusCode::OK
    );
    s.shutdown().await;
}

fn ids(bundle: &Value, mode: &str) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["search"]["mode"] == mode)
        .filter_map(|e| e["resource"]["id"].as_str().map(str::to_string))
        .collect()
}

fn link(bundle: &Value, rel: &str) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == rel)?["url"]
        .as_str()
        .map(str::to_string)
}

#[tokio::test]
async fn search_parameters_paging_and_includes() {
    let s = start(opts(200)).await;
    let t = token(&s).await;
    // birthdate prefixes
    for (q, check) in [
        (
            "ge1980",
            Box::new(|d: &str| d >= "1980") as Box<dyn Fn(&str) -> bool>,
        ),
        ("lt1960-06", Box::new(|d: &str| d < "1960-06")),
        ("1975", Box::new(|d: &str| d.starts_with("1975"))),
        ("le1950-01-01", Box::new(|d: &str| d <= "1950-01-01")),
        ("gt2000-12", Box::new(|d: &str| d >= "2001")),
        ("ne1975", Box::new(|d: &str| !d.starts_with("1975"))),
    ] {
        let b = json_of(get(&s, &t, &format!("/Patient?birthdate={q}&_count=1000")).await).await;
        let entries = b["entry"].as_array().expect("entries");
        assert!(!entries.is_empty(), "{q}");
        for e in entries {
            let d = e["resource"]["birthDate"].as_str().expect("birthDate");
            assert!(check(d), "{q} vs {d}");
        }
    }
    let r = get(&s, &t, "/Patient?birthdate=19x0").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // paging round trip
    let first = json_of(get(&s, &t, "/Patient?_count=7&_total=accurate&gender=female").await).await;
    let total = first["total"].as_u64().expect("total") as usize;
    let mut seen = ids(&first, "match");
    let mut next = link(&first, "next");
    assert!(!next.as_deref().unwrap_or("").contains("_total"));
    assert!(next.as_deref().unwrap_or("").contains("ct="));
    let mut pages = 1;
    while let Some(url) = next {
        let page = json_of(get(&s, &t, &url).await).await;
        assert!(page.get("total").is_none());
        // Azure pages forward only: `self` and `next`, never `previous`/`first`/`last`.
        let relations: Vec<&str> = page["link"]
            .as_array()
            .expect("links")
            .iter()
            .filter_map(|l| l["relation"].as_str())
            .collect();
        assert!(
            relations.iter().all(|r| *r == "self" || *r == "next"),
            "{relations:?}"
        );
        seen.extend(ids(&page, "match"));
        next = link(&page, "next");
        pages += 1;
    }
    assert!(pages > 1, "the search spans several pages");
    assert_eq!(seen.len(), total);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), total);
    assert!(get(&s, &t, "/Patient?ct=%%%bad").await.status() == StatusCode::BAD_REQUEST);

    // _count clamp, _count=0, _summary=count, default no total
    let b = json_of(get(&s, &t, "/Patient?_count=5000").await).await;
    assert_eq!(b["entry"][0]["search"]["mode"], "outcome");
    assert_eq!(
        b["entry"][0]["resource"]["issue"][0]["severity"],
        "information"
    );
    assert_eq!(
        b["entry"][0]["resource"]["issue"][0]["diagnostics"],
        "The '_count' parameter exceeds limit configured for server. Current limit is 1000 while `_count` parameter set to 5000."
    );
    assert_eq!(ids(&b, "match").len(), 200);
    // Clamped under strict handling too (SearchOptionsFactory does not refuse it).
    let r = http()
        .get(format!("{}/Patient?_count=5000", s.fhir_url()))
        .bearer_auth(&t)
        .header("prefer", "handling=strict")
        .send()
        .await
        .expect("strict count");
    assert_eq!(r.status(), StatusCode::OK);
    let b = json_of(get(&s, &t, "/Patient?_count=0").await).await;
    assert_eq!(b["total"], 200);
    assert!(ids(&b, "match").is_empty());
    assert_eq!(
        json_of(get(&s, &t, "/Patient?_summary=count").await).await["total"],
        200
    );
    let b = json_of(get(&s, &t, "/Patient").await).await;
    assert!(b.get("total").is_none());
    assert_eq!(ids(&b, "match").len(), 10);
    assert!(
        b["entry"][0]["fullUrl"]
            .as_str()
            .expect("fullUrl")
            .starts_with(&format!("{}/Patient/", s.fhir_url()))
    );

    // unknown parameter: lenient and strict
    let b = json_of(get(&s, &t, "/Patient?foo=bar&_count=2").await).await;
    assert_eq!(b["entry"][0]["search"]["mode"], "outcome");
    assert_eq!(b["entry"][0]["resource"]["issue"][0]["severity"], "warning");
    assert_eq!(
        b["entry"][0]["resource"]["issue"][0]["diagnostics"],
        "The search parameter 'foo' is not supported for resource type 'Patient'."
    );
    // The dropped parameter is visible in the self link: it is not there.
    let self_link = link(&b, "self").expect("self");
    assert!(
        self_link.contains("_count=2") && !self_link.contains("foo"),
        "{self_link}"
    );
    let r = http()
        .get(format!("{}/Patient?foo=bar", s.fhir_url()))
        .bearer_auth(&t)
        .header("prefer", "handling=strict")
        .send()
        .await
        .expect("strict");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let oo = json_of(r).await;
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert!(issue(&oo).1.contains("'foo'"), "{oo}");

    // names, identifier, sort
    let all = json_of(get(&s, &t, "/Patient?_count=1000").await).await;
    let zoe = all["entry"]
        .as_array()
        .expect("e")
        .iter()
        .filter(|e| e["resource"]["name"][0]["given"][0] == "Zoë")
        .count();
    let b = json_of(get(&s, &t, "/Patient?given=zoe&_count=1000").await).await;
    assert!(ids(&b, "match").len() >= zoe);
    let b = json_of(
        get(
            &s,
            &t,
            "/Patient?identifier=http://hospital.example.org/mrn|MRN-000001",
        )
        .await,
    )
    .await;
    assert_eq!(ids(&b, "match").len(), 1);
    let pid = ids(&b, "match")[0].clone();
    let b = json_of(get(&s, &t, "/Patient?_sort=-birthdate&_count=50").await).await;
    let dates: Vec<&str> = b["entry"]
        .as_array()
        .expect("e")
        .iter()
        .filter_map(|e| e["resource"]["birthDate"].as_str())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]));

    // references, _include, _revinclude, POST _search, $everything
    let b = json_of(
        get(
            &s,
            &t,
            &format!("/Observation?patient={pid}&_include=Observation:patient"),
        )
        .await,
    )
    .await;
    let obs = ids(&b, "match");
    assert!(!obs.is_empty());
    assert_eq!(ids(&b, "include"), vec![pid.clone()]);
    let b = json_of(get(&s, &t, &format!("/Observation?subject=Patient/{pid}&code=http://loinc.org|8867-4,8480-6,29463-7,2339-0,8462-4,8310-5,39156-5")).await).await;
    assert_eq!(ids(&b, "match").len(), obs.len());
    let b = json_of(
        get(
            &s,
            &t,
            &format!("/Patient?_id={pid}&_revinclude=Encounter:subject"),
        )
        .await,
    )
    .await;
    assert_eq!(ids(&b, "match"), vec![pid.clone()]);
    assert!(!ids(&b, "include").is_empty());
    let r = http()
        .post(format!("{}/Encounter/_search", s.fhir_url()))
        .bearer_auth(&t)
        .form(&[("patient", pid.as_str())])
        .send()
        .await
        .expect("post search");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!ids(&json_of(r).await, "match").is_empty());
    let b = json_of(get(&s, &t, &format!("/Patient/{pid}/$everything")).await).await;
    assert_eq!(b["entry"][0]["resource"]["id"], pid);
    assert!(b["entry"].as_array().expect("e").len() > obs.len());
    s.shutdown().await;
}

#[tokio::test]
async fn batch_and_transaction_bundles() {
    let s = start(opts(5)).await;
    let t = token(&s).await;
    let post = |b: Value| {
        http()
            .post(s.fhir_url())
            .bearer_auth(&t)
            .header("content-type", "application/fhir+json")
            .body(b.to_string())
            .send()
    };
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0b4b7c5e-3c1f-4a55-9e43-2f8d7a1b6c90",
         "resource": {"resourceType": "Patient", "name": [{"family": "Transactional"}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "urn:uuid:0b4b7c5e-3c1f-4a55-9e43-2f8d7a1b6c90"},
            "hasMember": [{"reference": "urn:uuid:0b4b7c5e-3c1f-4a55-9e43-2f8d7a1b6c90"}]},
         "request": {"method": "POST", "url": "Observation"}}
    ]});
    let r = post(tx).await.expect("tx");
    assert_eq!(r.status(), StatusCode::OK);
    let b = json_of(r).await;
    assert_eq!(b["type"], "transaction-response");
    let e0 = &b["entry"][0]["response"];
    assert_eq!(e0["status"], "201 Created");
    assert_eq!(e0["etag"], "W/\"1\"");
    let loc = e0["location"].as_str().expect("location");
    let pid = b["entry"][0]["resource"]["id"].as_str().expect("pid");
    assert_eq!(loc, format!("{}/Patient/{pid}/_history/1", s.fhir_url()));
    let oid = b["entry"][1]["resource"]["id"].as_str().expect("oid");
    let o = json_of(get(&s, &t, &format!("/Observation/{oid}")).await).await;
    assert_eq!(o["subject"]["reference"], format!("Patient/{pid}"));
    assert_eq!(o["hasMember"][0]["reference"], format!("Patient/{pid}"));

    // all-or-nothing
    let bad = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "name": [{"family": "Rollback"}]}, "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Patient", "gender": "robot"}, "request": {"method": "POST", "url": "Patient"}}
    ]});
    let r = post(bad).await.expect("bad tx");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let b = json_of(get(&s, &t, "/Patient?family=Rollback&_total=accurate").await).await;
    assert_eq!(b["total"], 0);

    // batch: independent entries
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": {"resourceType": "Patient", "name": [{"family": "Batched"}]}, "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
        {"request": {"method": "GET", "url": "Patient?family=Batched"}}
    ]});
    let b = json_of(post(batch).await.expect("batch")).await;
    assert_eq!(b["type"], "batch-response");
    assert_eq!(b["entry"][0]["response"]["status"], "201 Created");
    assert_eq!(b["entry"][1]["response"]["status"], "404 Not Found");
    assert_eq!(
        b["entry"][1]["response"]["outcome"]["resourceType"],
        "OperationOutcome"
    );
    assert_eq!(b["entry"][2]["resource"]["type"], "searchset");
    s.shutdown().await;
}

fn export_req(s: &DemoServer, t: &str, path: &str) -> reqwest::RequestBuilder {
    http()
        .get(format!("{}{}", s.fhir_url(), path))
        .bearer_auth(t)
        .header("accept", "application/fhir+json")
        .header("prefer", "respond-async")
}

async fn wait_done(s: &DemoServer, t: &str, status_url: &str) -> reqwest::Response {
    for _ in 0..100 {
        let r = get(s, t, status_url).await;
        if r.status() != StatusCode::ACCEPTED {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("export did not finish")
}

/// A token for the storage resource (v2 `.default` scope, or v1 `resource=`).
async fn storage_token(s: &DemoServer, v2: bool) -> String {
    storage_token_for(s, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, v2).await
}

async fn storage_token_for(s: &DemoServer, client: &str, secret: &str, v2: bool) -> String {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client),
        ("client_secret", secret),
    ];
    if v2 {
        form.push(("scope", "https://storage.azure.com/.default"));
    } else {
        form.push(("resource", "https://storage.azure.com/"));
    }
    let r = http()
        .post(token_url(s, v2))
        .form(&form)
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), StatusCode::OK);
    json_of(r).await["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// A Get Blob request as Azure clients send it (`x-ms-version`, bearer token).
fn blob_get(url: &str, tok: Option<&str>) -> reqwest::RequestBuilder {
    let r = http().get(url).header("x-ms-version", "2021-08-06");
    match tok {
        Some(t) => r.bearer_auth(t),
        None => r,
    }
}

/// Checks an Azure Storage refusal: status, `x-ms-error-code` and the XML body's code.
async fn assert_storage_error(r: reqwest::Response, status: StatusCode, code: &str) -> String {
    assert_eq!(r.status(), status, "{code}");
    assert_eq!(r.headers()["x-ms-error-code"], code);
    assert!(r.headers().contains_key("x-ms-request-id"));
    assert_eq!(r.headers()["content-type"], "application/xml");
    let body = r.text().await.expect("xml");
    assert!(
        body.contains("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error>"),
        "{body}"
    );
    assert!(body.contains(&format!("<Code>{code}</Code>")), "{body}");
    assert!(
        body.contains("RequestId:") && body.contains("Time:"),
        "{body}"
    );
    body
}

async fn finished_export(s: &DemoServer, t: &str, path: &str) -> Value {
    let r = export_req(s, t, path).send().await.expect("kickoff");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let url = r.headers()["content-location"]
        .to_str()
        .expect("cl")
        .to_string();
    json_of(wait_done(s, t, &url).await).await
}

#[tokio::test]
async fn storage_refuses_like_azure() {
    let mut o = opts(5);
    o.export_duration = Duration::from_millis(100);
    let s = start(o).await;
    let t = token(&s).await;
    let m = finished_export(&s, &t, "/$export?_type=Patient").await;
    let url = m["output"][0]["url"].as_str().expect("url").to_string();
    assert!(url.starts_with(&s.storage_url()));

    // No Authorization at all.
    let r = http().get(&url).send().await.expect("anon");
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap_or("")
            .contains("resource_id=https://storage.azure.com")
    );
    assert_storage_error(r, StatusCode::UNAUTHORIZED, "NoAuthenticationInformation").await;
    // A token for the FHIR service, and one for ARM: wrong audience.
    for wrong in [
        t.clone(),
        app_token_for(
            &s,
            DEMO_CLIENT_ID,
            DEMO_CLIENT_SECRET,
            "https://management.azure.com/.default",
        )
        .await,
    ] {
        let body = assert_storage_error(
            blob_get(&url, Some(&wrong)).send().await.expect("aud"),
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationInfo",
        )
        .await;
        assert!(body.contains("Audience validation failed"), "{body}");
    }
    // A forged token.
    assert_storage_error(
        blob_get(&url, Some("eyJhbGciOiJIUzI1NiJ9.e30.AAAA"))
            .send()
            .await
            .expect("forged"),
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationInfo",
    )
    .await;
    // The right token without x-ms-version (or with one too old for bearer tokens).
    let st = storage_token(&s, true).await;
    for version in [None, Some("2017-04-17")] {
        let mut r = http().get(&url).bearer_auth(&st);
        if let Some(v) = version {
            r = r.header("x-ms-version", v);
        }
        let body = assert_storage_error(
            r.send().await.expect("ver"),
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
        )
        .await;
        assert!(
            body.contains("Authentication scheme Bearer is not supported in this version."),
            "{body}"
        );
    }
    // v1 and v2 spellings of the storage audience both work.
    let st1 = storage_token(&s, false).await;
    for tok in [&st, &st1] {
        let r = blob_get(&url, Some(tok)).send().await.expect("ok");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["x-ms-blob-type"], "BlockBlob");
        assert_eq!(r.headers()["accept-ranges"], "bytes");
        assert_eq!(r.text().await.expect("t").lines().count(), 5);
    }
    // An app without a data role on the account.
    let norole =
        storage_token_for(&s, DEMO_NOROLE_CLIENT_ID, DEMO_NOROLE_CLIENT_SECRET, true).await;
    assert_storage_error(
        blob_get(&url, Some(&norole)).send().await.expect("norole"),
        StatusCode::FORBIDDEN,
        "AuthorizationPermissionMismatch",
    )
    .await;
    // Unknown container, unknown blob, a range past the end.
    let (base, _) = url.rsplit_once('/').expect("path");
    assert_storage_error(
        blob_get(
            &format!("{}/nosuch/Patient-1.ndjson", s.storage_url()),
            Some(&st),
        )
        .send()
        .await
        .expect("c"),
        StatusCode::NOT_FOUND,
        "ContainerNotFound",
    )
    .await;
    assert_storage_error(
        blob_get(&format!("{base}/Nope-1.ndjson"), Some(&st))
            .send()
            .await
            .expect("b"),
        StatusCode::NOT_FOUND,
        "BlobNotFound",
    )
    .await;
    let r = blob_get(&url, Some(&st))
        .header("range", "bytes=99999999-")
        .send()
        .await
        .expect("range");
    assert!(
        r.headers()["content-range"]
            .to_str()
            .unwrap_or("")
            .starts_with("bytes */")
    );
    assert_storage_error(r, StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange").await;
    // x-ms-range wins over Range.
    let r = blob_get(&url, Some(&st))
        .header("range", "bytes=0-99")
        .header("x-ms-range", "bytes=0-9")
        .send()
        .await
        .expect("x-ms-range");
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.expect("b").len(), 10);
    s.shutdown().await;

    // --faults storage-forbidden: even the demo app is refused.
    let mut o = opts(3);
    o.export_duration = Duration::from_millis(100);
    o.faults.storage_forbidden = true;
    let s = start(o).await;
    let t = token(&s).await;
    let m = finished_export(&s, &t, "/$export?_type=Patient").await;
    let url = m["output"][0]["url"].as_str().expect("url").to_string();
    let st = storage_token(&s, true).await;
    assert_storage_error(
        blob_get(&url, Some(&st)).send().await.expect("forbidden"),
        StatusCode::FORBIDDEN,
        "AuthorizationPermissionMismatch",
    )
    .await;
    s.shutdown().await;
}

#[tokio::test]
async fn bulk_export_lifecycle() {
    let mut o = opts(30);
    o.export_duration = Duration::from_millis(800);
    let s = start(o).await;
    let t = token(&s).await;
    // kick-off validation
    let r = http()
        .get(format!("{}/$export", s.fhir_url()))
        .bearer_auth(&t)
        .header("prefer", "respond-async")
        .send()
        .await
        .expect("no accept");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http()
        .get(format!("{}/$export", s.fhir_url()))
        .bearer_auth(&t)
        .header("accept", "application/fhir+json")
        .send()
        .await
        .expect("no prefer");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        export_req(&s, &t, "/$export?_foo=1")
            .send()
            .await
            .expect("unknown")
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        export_req(&s, &t, "/$export?_typeFilter=Patient%3Fgender%3Dfemale")
            .send()
            .await
            .expect("tf")
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        export_req(&s, &t, "/Group/nope/$export")
            .send()
            .await
            .expect("group")
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&s, &t, "/_operations/export/999999").await.status(),
        StatusCode::NOT_FOUND
    );

    let r = export_req(&s, &t, "/$export")
        .send()
        .await
        .expect("kickoff");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let status_url = r.headers()["content-location"]
        .to_str()
        .expect("cl")
        .to_string();
    assert!(status_url.starts_with(&format!("{}/_operations/export/", s.fhir_url())));
    assert!(r.text().await.unwrap_or_default().is_empty());
    let r = get(&s, &t, &status_url).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(!r.headers().contains_key("x-progress") && !r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap_or_default().is_empty());
    let unauth = http().get(&status_url).send().await.expect("unauth");
    assert_eq!(unauth.status(), StatusCode::UNAUTHORIZED);

    let r = wait_done(&s, &t, &status_url).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/json")
    );
    let m = json_of(r).await;
    assert_eq!(m["requiresAccessToken"], false);
    assert!(
        m["transactionTime"].is_string()
            && m["request"].as_str().unwrap_or("").ends_with("/$export")
    );
    let types: Vec<&str> = m["output"]
        .as_array()
        .expect("output")
        .iter()
        .filter_map(|o| o["type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "AllergyIntolerance",
            "Condition",
            "DiagnosticReport",
            "Encounter",
            "Group",
            "Location",
            "MedicationRequest",
            "Observation",
            "Organization",
            "Patient",
            "Practitioner",
            "PractitionerRole",
            "Procedure"
        ]
    );
    let patient_out = m["output"]
        .as_array()
        .expect("o")
        .iter()
        .find(|o| o["type"] == "Patient")
        .expect("patient file");
    assert_eq!(patient_out["count"], 30);
    let file_url = patient_out["url"].as_str().expect("url").to_string();
    // Written to the storage stand-in (another origin), no `_container`: a container of its own.
    let job_id = status_url.rsplit('/').next().expect("id");
    assert_eq!(
        file_url,
        format!("{}/export-{job_id}/Patient-1.ndjson", s.storage_url())
    );
    assert_eq!(
        http().get(&file_url).send().await.expect("file").status(),
        StatusCode::UNAUTHORIZED
    );
    // The FHIR token is for another audience: storage refuses it.
    assert_eq!(
        blob_get(&file_url, Some(&t))
            .send()
            .await
            .expect("file")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let st = storage_token(&s, true).await;
    let full = blob_get(&file_url, Some(&st)).send().await.expect("file");
    assert_eq!(full.status(), StatusCode::OK);
    let text = full.text().await.expect("ndjson");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 30);
    assert!(lines.iter().all(|l| {
        serde_json::from_str::<Value>(l)
            .map(|v| v["resourceType"] == "Patient")
            .unwrap_or(false)
    }));
    let r = blob_get(&file_url, Some(&st))
        .header("range", "bytes=100-")
        .send()
        .await
        .expect("range");
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()["content-range"].to_str().expect("cr"),
        format!("bytes 100-{}/{}", text.len() - 1, text.len())
    );
    assert_eq!(
        r.bytes().await.expect("bytes").as_ref(),
        &text.as_bytes()[100..]
    );

    // delete semantics
    let del = || http().delete(&status_url).bearer_auth(&t).send();
    assert_eq!(del().await.expect("del").status(), StatusCode::ACCEPTED);
    assert_eq!(
        get(&s, &t, &status_url).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(del().await.expect("del2").status(), StatusCode::NOT_FOUND);
    // Deleting the job leaves what it wrote in the storage account (as on Azure).
    assert_eq!(
        blob_get(&file_url, Some(&st))
            .send()
            .await
            .expect("file")
            .status(),
        StatusCode::OK
    );

    // group export with _type and _typeFilter
    let r = export_req(&s, &t, &format!("/Group/{DEMO_GROUP_ID}/$export?_type=Patient,Observation&_typeFilter=Observation%3Fcode%3D8867-4&_container=fhir-out")).send().await.expect("group");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let url = r.headers()["content-location"]
        .to_str()
        .expect("cl")
        .to_string();
    let m = json_of(wait_done(&s, &t, &url).await).await;
    for o in m["output"].as_array().expect("output") {
        assert!(o["type"] == "Patient" || o["type"] == "Observation");
        // `_container`: a `{timestamp}-{id}/` folder inside it.
        let u = o["url"].as_str().expect("u");
        let folder = u
            .strip_prefix(&format!("{}/fhir-out/", s.storage_url()))
            .and_then(|rest| rest.split_once('/'))
            .map(|(f, _)| f)
            .expect("folder");
        assert!(folder.len() > 16 && folder.as_bytes()[8] == b'T', "{u}");
        if o["type"] == "Observation" {
            let body = blob_get(u, Some(&st))
                .send()
                .await
                .expect("blob")
                .text()
                .await
                .expect("t");
            assert!(body.lines().all(|l| l.contains("8867-4")));
        }
    }
    s.shutdown().await;
}

#[tokio::test]
async fn export_progress_throttle_and_failure() {
    // progress headers
    let mut o = opts(5);
    o.export_duration = Duration::from_secs(3);
    o.progress_headers = true;
    let s = start(o).await;
    let t = token(&s).await;
    let r = export_req(&s, &t, "/Patient/$export")
        .send()
        .await
        .expect("kickoff");
    let url = r.headers()["content-location"]
        .to_str()
        .expect("cl")
        .to_string();
    let r = get(&s, &t, &url).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let p = r.headers()["x-progress"]
        .to_str()
        .expect("x-progress")
        .to_string();
    assert!(
        p.ends_with('%') && p.trim_end_matches('%').parse::<u32>().is_ok(),
        "{p}"
    );
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .expect("ra")
            .parse::<u64>()
            .is_ok()
    );
    s.shutdown().await;

    // throttling
    let mut o = opts(5);
    o.export_duration = Duration::from_secs(5);
    o.faults.export_throttle = true;
    let s = start(o).await;
    let t = token(&s).await;
    let r = export_req(&s, &t, "/$export")
        .send()
        .await
        .expect("kickoff");
    let url = r.headers()["content-location"]
        .to_str()
        .expect("cl")
        .to_string();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = get(&s, &t, &url).await;
        if r.status() != StatusCode::ACCEPTED {
            assert_eq!(r.headers()["retry-after"], "1");
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [202, 202, 429, 202, 202, 503]);
    s.shutdown().await;

    // failure
    let mut o = opts(5);
    o.export_duration = Duration::from_millis(200);
    o.faults.export_fail = true;
    let s = start(o).await;
    let t = token(&s).await;
    let r = export_req(&s, &t, "/$export")
        .send()
        .await
        .expect("kickoff");
    let url = r.headers()["content-location"]
        .to_str()
        .expect("cl")
        .to_string();
    let r = wait_done(&s, &t, &url).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let oo = json_of(r).await;
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert_eq!(issue(&oo).0, "exception");
    s.shutdown().await;
}

#[tokio::test]
async fn malformed_input_gets_4xx_not_5xx() {
    let s = start(opts(5)).await;
    let t = token(&s).await;
    let c = http();
    let base = s.fhir_url();
    let bodies = [
        "null",
        "[]",
        "5",
        "\"x\"",
        "{\"resourceType\":5}",
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":5}",
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":{\"method\":\"POST\",\"url\":\"Nope\"}}]}",
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[5,{\"request\":5}]}",
        "\u{0}\u{1}",
        "",
    ];
    for path in ["", "/Patient", "/Patient/abc", "/Observation"] {
        for b in bodies {
            for method in [reqwest::Method::POST, reqwest::Method::PUT] {
                let r = c
                    .request(method.clone(), format!("{base}{path}"))
                    .bearer_auth(&t)
                    .header("content-type", "application/fhir+json")
                    .body(b)
                    .send()
                    .await
                    .expect("send");
                assert!(
                    r.status().is_client_error() || r.status().is_success(),
                    "{method} {path} {b:?} -> {}",
                    r.status()
                );
            }
        }
    }
    for q in [
        "/Patient?birthdate=ge",
        "/Patient?birthdate=2020-13",
        "/Patient?_count=-1",
        "/Patient?_sort=a,b",
        "/Patient?_total=maybe",
        "/Patient?_include=Patient:x",
        "/Observation?patient:missing=maybe",
        "/Patient?name:fuzzy=x",
        "/Patient/%FF%FE",
        "/Patient?ct=eyJvIjoiYSJ9",
        "/Observation?date=2020-01-01T25:00",
        "/_export/abc/Patient-1.ndjson",
        "/_operations/export/-1",
        "/Patient/x/_history/abc",
    ] {
        let r = get(&s, &t, q).await;
        assert!(
            r.status().is_client_error() || r.status().is_success(),
            "{q} -> {}",
            r.status()
        );
        if !r.status().is_success() {
            assert_eq!(json_of(r).await["resourceType"], "OperationOutcome", "{q}");
        }
    }
    for form in [
        "",
        "grant_type",
        "grant_type=client_credentials&scope=%FF",
        "a=%%%",
    ] {
        let r = c
            .post(token_url(&s, true))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("token");
        assert!(r.status().is_client_error(), "{form:?} -> {}", r.status());
        assert!(json_of(r).await["error"].is_string());
    }
    let r = c
        .get(format!(
            "{}/{DEMO_TENANT_ID}/oauth2/v2.0/authorize?client_id=%FF",
            s.authority()
        ))
        .send()
        .await
        .expect("authorize");
    assert!(r.status().is_client_error());
    s.shutdown().await;
}

#[tokio::test]
async fn routes_are_case_insensitive_like_azure() {
    let mut o = opts(5);
    o.export_duration = Duration::from_millis(100);
    let s = start(o).await;
    let t = token(&s).await;
    for path in ["/Metadata", "/METADATA"] {
        let r = http()
            .get(format!("{}{path}", s.fhir_url()))
            .send()
            .await
            .expect("metadata");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(json_of(r).await["resourceType"], "CapabilityStatement");
    }
    let r = http()
        .get(format!("{}/Health/Check", s.fhir_url()))
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), StatusCode::OK);
    let r = export_req(&s, &t, "/$Export?_type=Patient")
        .send()
        .await
        .expect("kickoff");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let url = r.headers()["content-location"]
        .to_str()
        .expect("cl")
        .to_string();
    let mixed = url.replace("/_operations/export/", "/_Operations/Export/");
    assert_ne!(get(&s, &t, &mixed).await.status(), StatusCode::NOT_FOUND);
    let pid = ids(
        &json_of(get(&s, &t, "/Patient?_count=1").await).await,
        "match",
    )[0]
    .clone();
    assert_eq!(
        get(&s, &t, &format!("/Patient/{pid}/_History"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&s, &t, &format!("/Patient/{pid}/$Everything"))
            .await
            .status(),
        StatusCode::OK
    );
    // Resource types are case-sensitive, as ResourceTypesRouteConstraint has them.
    assert_eq!(
        get(&s, &t, "/patient").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&s, &t, &format!("/PATIENT/{pid}")).await.status(),
        StatusCode::NOT_FOUND
    );
    s.shutdown().await;
}

#[tokio::test]
async fn throttled_answers_carry_x_ms_retry_after_ms() {
    let mut o = opts(5);
    o.export_duration = Duration::from_secs(30);
    o.faults.export_throttle = true;
    let s = start(o).await;
    let t = token(&s).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = get(&s, &t, "/Patient?_count=2").await;
        statuses.push(r.status().as_u16());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["x-ms-retry-after-ms"], "1500");
            assert_eq!(r.headers()["retry-after"], "2");
            let oo = json_of(r).await;
            assert_eq!(issue(&oo).0, "throttled");
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 200, 200, 200, 429]);
    // Status polls: the 429 carries both headers.
    let r = export_req(&s, &t, "/$export")
        .send()
        .await
        .expect("kickoff");
    let url = r.headers()["content-location"]
        .to_str()
        .expect("cl")
        .to_string();
    let mut throttled = None;
    for _ in 0..3 {
        let r = get(&s, &t, &url).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(r);
        }
    }
    let r = throttled.expect("a throttled poll");
    assert_eq!(r.headers()["x-ms-retry-after-ms"], "1000");
    assert_eq!(r.headers()["retry-after"], "1");
    s.shutdown().await;
}

#[tokio::test]
async fn https_mode_with_its_own_ca() {
    let mut o = opts(3);
    o.tls = true;
    let s = start(o).await;
    assert!(s.fhir_url().starts_with("https://127.0.0.1:"));
    assert!(s.storage_url().starts_with("https://127.0.0.1:"));
    assert!(s.authority().starts_with("https://"));
    let ca_path = s.ca_cert_path().expect("ca path");
    let pem = std::fs::read(&ca_path).expect("ca pem");
    assert!(String::from_utf8_lossy(&pem).contains("BEGIN CERTIFICATE"));
    // A client that does not know the CA refuses the connection.
    let plain = reqwest::Client::new();
    assert!(
        plain
            .get(format!("{}/metadata", s.fhir_url()))
            .send()
            .await
            .is_err()
    );
    // Trusting the CA works, for FHIR, Entra and storage alike.
    let ca = reqwest::Certificate::from_pem(&pem).expect("cert");
    let c = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let r = c
        .get(format!("{}/metadata", s.fhir_url()))
        .send()
        .await
        .expect("https metadata");
    assert_eq!(r.status(), StatusCode::OK);
    let tok = app_token_via(
        &c,
        &s,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        &format!("{}/.default", s.fhir_url()),
    )
    .await;
    let r = c
        .get(format!("{}/Patient", s.fhir_url()))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("search");
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .get(format!("{}/nosuch/x", s.storage_url()))
        .send()
        .await
        .expect("storage");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // `insecure` clients (no verification) get through too.
    let insecure = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let r = insecure
        .get(format!("{}/metadata", s.fhir_url()))
        .send()
        .await
        .expect("insecure");
    assert_eq!(r.status(), StatusCode::OK);
    s.shutdown().await;
    assert!(!ca_path.exists(), "the CA folder goes with the server");
}

#[tokio::test]
async fn directory_types_with_include_and_revinclude() {
    let s = start(opts(30)).await;
    let t = token(&s).await;
    // Patient.generalPractitioner
    let b = json_of(
        get(
            &s,
            &t,
            "/Patient?_count=3&_include=Patient:general-practitioner",
        )
        .await,
    )
    .await;
    assert_eq!(ids(&b, "match").len(), 3);
    let included: Vec<&str> = b["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .filter_map(|e| e["resource"]["resourceType"].as_str())
        .collect();
    assert!(
        !included.is_empty() && included.iter().all(|t| *t == "Practitioner"),
        "{included:?}"
    );
    // PractitionerRole -> practitioner, organization, location
    let b = json_of(get(&s, &t, "/PractitionerRole?_include=PractitionerRole:practitioner&_include=PractitionerRole:organization&_include=PractitionerRole:location").await).await;
    let kinds: std::collections::BTreeSet<&str> = b["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .filter_map(|e| e["resource"]["resourceType"].as_str())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["Location", "Organization", "Practitioner"]
    );
    // Practitioner <- PractitionerRole, and an Encounter's participant
    let b = json_of(get(&s, &t, "/Practitioner?_count=1&_revinclude=PractitionerRole:practitioner&_revinclude=Encounter:participant").await).await;
    let prac = ids(&b, "match")[0].clone();
    let rev: Vec<&Value> = b["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .collect();
    assert!(
        rev.iter()
            .any(|e| e["resource"]["resourceType"] == "PractitionerRole")
    );
    assert!(
        rev.iter()
            .any(|e| e["resource"]["resourceType"] == "Encounter")
    );
    assert!(
        rev.iter()
            .all(|e| e.to_string().contains(&format!("Practitioner/{prac}")))
    );
    // DiagnosticReport.result -> Observations with reference ranges and flags
    let b = json_of(
        get(
            &s,
            &t,
            "/DiagnosticReport?code=http://loinc.org|57698-3&_count=1&_include=DiagnosticReport:result",
        )
        .await,
    )
    .await;
    let report = b["entry"]
        .as_array()
        .expect("e")
        .iter()
        .find(|e| e["search"]["mode"] == "match")
        .expect("a lipid panel");
    let results = report["resource"]["result"]
        .as_array()
        .expect("results")
        .len();
    let obs: Vec<&Value> = b["entry"]
        .as_array()
        .expect("e")
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .map(|e| &e["resource"])
        .collect();
    assert_eq!(obs.len(), results);
    assert!(obs.iter().all(|o| o["referenceRange"].is_array()
        && o["interpretation"][0]["coding"][0]["code"].is_string()));
    // Encounter.participant / service-provider and the other clinical types
    for q in [
        "/Encounter?_count=1&_include=Encounter:participant&_include=Encounter:service-provider",
        "/Procedure?_count=2&_include=Procedure:patient",
        "/MedicationRequest?_count=2&_include=MedicationRequest:requester",
        "/AllergyIntolerance?_count=2&_include=AllergyIntolerance:patient",
        "/Location?_include=Location:organization",
    ] {
        let b = json_of(get(&s, &t, q).await).await;
        assert!(!ids(&b, "match").is_empty(), "{q}");
        assert!(!ids(&b, "include").is_empty(), "{q}");
    }
    // An include the type does not have is refused.
    assert_eq!(
        get(&s, &t, "/Patient?_include=Observation:patient")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    // $everything carries the new compartment types.
    let pid = ids(
        &json_of(get(&s, &t, "/Patient?_count=1").await).await,
        "match",
    )[0]
    .clone();
    let b = json_of(get(&s, &t, &format!("/Patient/{pid}/$everything?_count=1000")).await).await;
    let kinds: std::collections::BTreeSet<&str> = b["entry"]
        .as_array()
        .expect("e")
        .iter()
        .filter_map(|e| e["resource"]["resourceType"].as_str())
        .collect();
    assert!(
        kinds.contains("Observation") && kinds.contains("DiagnosticReport"),
        "{kinds:?}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn chart_searches_by_code_date_category_and_sort() {
    let s = start(opts(10)).await;
    let t = token(&s).await;
    let pid = ids(
        &json_of(get(&s, &t, "/Patient?_count=1").await).await,
        "match",
    )[0]
    .clone();
    let series = |q: String| {
        let (s, t) = (&s, &t);
        async move { json_of(get(s, t, &q).await).await }
    };
    // Heart rate by system|code and by code, newest first and oldest first.
    let desc = series(format!(
        "/Observation?patient={pid}&code=http://loinc.org|8867-4&_sort=-date&_count=100"
    ))
    .await;
    let dates = |b: &Value| -> Vec<String> {
        b["entry"]
            .as_array()
            .expect("e")
            .iter()
            .filter(|e| e["search"]["mode"] == "match")
            .filter_map(|e| {
                e["resource"]["effectiveDateTime"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect()
    };
    let d = dates(&desc);
    assert!(d.len() >= 6, "three years of visits: {d:?}");
    assert!(d.windows(2).all(|w| w[0] >= w[1]), "{d:?}");
    let asc = series(format!(
        "/Observation?subject=Patient/{pid}&code=8867-4&_sort=date&_count=100"
    ))
    .await;
    let mut a = dates(&asc);
    a.reverse();
    assert_eq!(a, d);
    let first = desc["entry"][0]["resource"].clone();
    assert_eq!(
        first["valueQuantity"]["system"],
        "http://unitsofmeasure.org"
    );
    assert_eq!(first["valueQuantity"]["code"], "/min");
    // date prefixes bound the series
    let cut = &d[d.len() / 2][..10];
    let later = dates(
        &series(format!(
            "/Observation?patient={pid}&code=8867-4&date=ge{cut}&_count=100"
        ))
        .await,
    );
    assert!(
        !later.is_empty() && later.iter().all(|x| x.as_str() >= cut),
        "{later:?}"
    );
    let earlier = dates(
        &series(format!(
            "/Observation?patient={pid}&code=8867-4&date=lt{cut}&_count=100"
        ))
        .await,
    );
    assert_eq!(earlier.len() + later.len(), d.len());
    // category: labs only, each with a reference range and an H/L/N flag
    let labs = series(format!(
        "/Observation?patient={pid}&category=laboratory&_count=200"
    ))
    .await;
    let entries: Vec<&Value> = labs["entry"]
        .as_array()
        .expect("e")
        .iter()
        .filter(|e| e["search"]["mode"] == "match")
        .map(|e| &e["resource"])
        .collect();
    assert!(!entries.is_empty());
    for o in &entries {
        assert_eq!(o["category"][0]["coding"][0]["code"], "laboratory");
        let flag = o["interpretation"][0]["coding"][0]["code"]
            .as_str()
            .unwrap_or("");
        assert!(["H", "L", "N"].contains(&flag), "{o}");
        assert!(o["referenceRange"][0].is_object());
    }
    let vitals = series(format!(
        "/Observation?patient={pid}&category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs&_count=1"
    ))
    .await;
    assert_eq!(
        vitals["entry"][0]["resource"]["category"][0]["coding"][0]["code"],
        "vital-signs"
    );
    // The BP panel carries its components.
    let bp = series(format!("/Observation?patient={pid}&code=85354-9&_count=1")).await;
    let comps = bp["entry"][0]["resource"]["component"]
        .as_array()
        .expect("components");
    assert_eq!(comps[0]["code"]["coding"][0]["code"], "8480-6");
    assert_eq!(comps[1]["code"]["coding"][0]["code"], "8462-4");
    s.shutdown().await;
}

fn post_json(url: String, t: &str, body: &Value) -> reqwest::RequestBuilder {
    http()
        .post(url)
        .bearer_auth(t)
        .header("content-type", "application/fhir+json")
        .body(body.to_string())
}

#[tokio::test]
async fn validate_answers_an_operation_outcome() {
    let s = start(opts(3)).await;
    let t = token(&s).await;
    let base = s.fhir_url();
    let ok = json!({"resourceType": "Patient", "name": [{"family": "Valid"}], "gender": "female"});
    let r = post_json(format!("{base}/Patient/$validate"), &t, &ok)
        .send()
        .await
        .expect("validate");
    assert_eq!(r.status(), StatusCode::OK);
    let oo = json_of(r).await;
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert_eq!(oo["issue"][0]["severity"], "information");
    assert_eq!(oo["issue"][0]["diagnostics"], "All OK");
    // Wrapped in Parameters, as the service accepts it.
    let wrapped =
        json!({"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": ok}]});
    let oo = json_of(
        post_json(format!("{base}/Patient/$validate"), &t, &wrapped)
            .send()
            .await
            .expect("wrapped"),
    )
    .await;
    assert_eq!(oo["issue"][0]["diagnostics"], "All OK");
    // Unknown fields and a missing required status: error issues.
    let bad = json!({"resourceType": "Observation", "code": {"text": "x"}, "colour": "red"});
    let r = post_json(format!("{base}/Observation/$validate"), &t, &bad)
        .send()
        .await
        .expect("bad");
    assert_eq!(r.status(), StatusCode::OK);
    let oo = json_of(r).await;
    let text = oo["issue"].to_string();
    assert!(text.contains("unknown element 'colour'"), "{text}");
    assert!(text.contains("Observation.status"), "{text}");
    assert!(
        oo["issue"]
            .as_array()
            .expect("issues")
            .iter()
            .all(|i| i["severity"] == "error")
    );
    // Missing or wrong resourceType: refused before validating.
    for (path, body) in [
        ("/Patient/$validate", json!({"name": []})),
        (
            "/Patient/$validate",
            json!({"resourceType": "Observation", "status": "final"}),
        ),
    ] {
        let r = post_json(format!("{base}{path}"), &t, &body)
            .send()
            .await
            .expect("refused");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json_of(r).await["resourceType"], "OperationOutcome");
    }
    // A stored resource by id (GET), case-insensitive operation name.
    let pid = ids(
        &json_of(get(&s, &t, "/Patient?_count=1").await).await,
        "match",
    )[0]
    .clone();
    let oo = json_of(get(&s, &t, &format!("/Patient/{pid}/$Validate")).await).await;
    assert_eq!(oo["issue"][0]["diagnostics"], "All OK", "{oo}");
    s.shutdown().await;
}

async fn poll_until(s: &DemoServer, t: &str, url: &str, done: StatusCode) -> reqwest::Response {
    for _ in 0..100 {
        let r = get(s, t, url).await;
        if r.status() == done {
            return r;
        }
        assert!(r.status() == StatusCode::ACCEPTED, "{}", r.status());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job did not finish")
}

async fn delete_url(t: &str, url: &str) -> reqwest::Response {
    http()
        .delete(url)
        .bearer_auth(t)
        .send()
        .await
        .expect("delete")
}

fn content_location(r: &reqwest::Response) -> String {
    r.headers()["content-location"]
        .to_str()
        .expect("content-location")
        .to_string()
}

#[tokio::test]
async fn import_lifecycle_with_an_error_file_and_initial_load_lock() {
    let mut o = opts(3);
    o.export_duration = Duration::from_millis(600);
    let s = start(o).await;
    let t = token(&s).await;
    let base = s.fhir_url();
    let input = |ty: &str, file: &str| {
        json!({"name": "input", "part": [
            {"name": "type", "valueString": ty},
            {"name": "url", "valueUri": format!("{}/import/{file}", s.storage_url())}
        ]})
    };
    let body = |mode: &str, inputs: Vec<Value>| {
        let mut p = vec![
            json!({"name": "inputFormat", "valueString": "application/fhir+ndjson"}),
            json!({"name": "mode", "valueString": mode}),
        ];
        p.extend(inputs);
        json!({"resourceType": "Parameters", "parameter": p})
    };
    let kick =
        |b: Value| post_json(format!("{base}/$import"), &t, &b).header("prefer", "respond-async");
    // Refusals, in the service's words.
    let r = kick(body("Sideways", vec![input("Patient", "Patient.ndjson")]))
        .send()
        .await
        .expect("mode");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(issue(&json_of(r).await).1.contains("InitialLoad"));
    let r = kick(body(
        "IncrementalLoad",
        vec![
            input("Patient", "Patient.ndjson"),
            input("Patient", "Patient.ndjson"),
        ],
    ))
    .send()
    .await
    .expect("dupes");
    assert!(issue(&json_of(r).await).1.contains("duplicate files"));
    let foreign = json!({"name": "input", "part": [{"name": "type", "valueString": "Patient"}, {"name": "url", "valueUri": "https://elsewhere.blob.core.windows.net/x/y.ndjson"}]});
    let r = kick(body("IncrementalLoad", vec![foreign]))
        .send()
        .await
        .expect("foreign");
    assert!(
        issue(&json_of(r).await)
            .1
            .contains("storage account endpoint")
    );

    // Incremental: a clean Patient file and an Observation file with one bad line.
    let r = kick(body(
        "IncrementalLoad",
        vec![
            input("Patient", "Patient.ndjson"),
            input("Observation", "Observation.ndjson"),
        ],
    ))
    .send()
    .await
    .expect("kickoff");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let url = content_location(&r);
    assert!(
        url.starts_with(&format!("{base}/_operations/import/")),
        "{url}"
    );
    assert_eq!(get(&s, &t, &url).await.status(), StatusCode::ACCEPTED);
    let done = json_of(poll_until(&s, &t, &url, StatusCode::OK).await).await;
    let counts: Vec<(String, u64)> = done["output"]
        .as_array()
        .expect("output")
        .iter()
        .map(|o| {
            (
                o["type"].as_str().unwrap_or("").to_string(),
                o["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [("Patient".to_string(), 2), ("Observation".to_string(), 2)]
    );
    let errors = done["error"].as_array().expect("error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["count"], 1);
    let err_url = errors[0]["url"].as_str().expect("error url");
    assert!(err_url.starts_with(&format!("{}/fhirlogs/", s.storage_url())));
    let st = storage_token(&s, true).await;
    let text = blob_get(err_url, Some(&st))
        .send()
        .await
        .expect("error file")
        .text()
        .await
        .expect("t");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["resourceType"], "OperationOutcome");
    assert!(
        lines[0]["issue"][0]["diagnostics"]
            .as_str()
            .unwrap_or("")
            .starts_with("Failed to process resource at line: 1")
    );
    assert_eq!(
        get(&s, &t, "/Patient/import-sample-1").await.status(),
        StatusCode::OK
    );
    // Cancelling a finished import is a conflict.
    let r = delete_url(&t, &url).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // InitialLoad: writes are locked (423) while it runs; reads are not; cancel works.
    let r = kick(body(
        "InitialLoad",
        vec![input("Patient", "Patient.ndjson")],
    ))
    .send()
    .await
    .expect("initial");
    let url = content_location(&r);
    let w = post_json(
        format!("{base}/Patient"),
        &t,
        &json!({"resourceType": "Patient"}),
    )
    .send()
    .await
    .expect("write");
    assert_eq!(w.status(), StatusCode::LOCKED);
    assert_eq!(json_of(w).await["code"], "Locked");
    assert_eq!(
        get(&s, &t, "/Patient?_count=1").await.status(),
        StatusCode::OK
    );
    let r = delete_url(&t, &url).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = get(&s, &t, &url).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(issue(&json_of(r).await).1.contains("cancellation"));
    let w = post_json(
        format!("{base}/Patient"),
        &t,
        &json!({"resourceType": "Patient"}),
    )
    .send()
    .await
    .expect("write after cancel");
    assert_eq!(w.status(), StatusCode::CREATED);
    s.shutdown().await;
}

#[tokio::test]
async fn bulk_delete_dry_run_lifecycle_and_cancel() {
    let mut o = opts(10);
    o.export_duration = Duration::from_millis(500);
    let s = start(o).await;
    let t = token(&s).await;
    let base = s.fhir_url();
    let query = "code=http://loinc.org|8867-4";
    // Dry run: the same search with _summary=count.
    let count =
        json_of(get(&s, &t, &format!("/Observation?{query}&_summary=count")).await).await["total"]
            .as_u64()
            .expect("total");
    assert!(count > 0);
    let del = |path: String| {
        http()
            .delete(format!("{base}{path}"))
            .bearer_auth(&t)
            .header("prefer", "respond-async")
            .header("accept", "application/fhir+json")
    };
    let r = http()
        .delete(format!("{base}/Observation/$bulk-delete?{query}"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("no prefer");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = del(format!(
        "/Observation/$bulk-delete?{query}&_hardDelete=true"
    ))
    .send()
    .await
    .expect("kickoff");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let url = content_location(&r);
    assert!(url.starts_with(&format!("{base}/_operations/bulk-delete/")));
    let running = get(&s, &t, &url).await;
    assert_eq!(running.status(), StatusCode::ACCEPTED);
    assert_eq!(running.headers()["x-progress"], "in progress");
    let p = json_of(running).await;
    assert_eq!(p["parameter"][0]["name"], "Issues");
    assert_eq!(
        p["parameter"][0]["resource"]["issue"][0]["details"]["text"],
        "Job In Progress"
    );
    let done = json_of(poll_until(&s, &t, &url, StatusCode::OK).await).await;
    assert_eq!(done["resourceType"], "Parameters");
    assert_eq!(done["parameter"][0]["name"], "ResourceDeletedCount");
    assert_eq!(done["parameter"][0]["part"][0]["name"], "Observation");
    assert_eq!(
        done["parameter"][0]["part"][0]["valueInteger64"],
        count.to_string()
    );
    let after = json_of(get(&s, &t, &format!("/Observation?{query}&_summary=count")).await).await;
    assert_eq!(after["total"], 0);
    assert_eq!(delete_url(&t, &url).await.status(), StatusCode::CONFLICT);

    // System level with excludedResourceTypes, dry run on the base; then cancelled.
    let since = "_lastUpdated=ge2000-01-01";
    let total = json_of(get(&s, &t, &format!("/?{since}&_summary=count")).await).await["total"]
        .as_u64()
        .expect("system total");
    assert!(total > 0);
    let r = del(format!(
        "/$bulk-delete?{since}&excludedResourceTypes=Patient,Practitioner"
    ))
    .send()
    .await
    .expect("system");
    let url = content_location(&r);
    assert_eq!(delete_url(&t, &url).await.status(), StatusCode::ACCEPTED);
    let r = get(&s, &t, &url).await;
    assert_eq!(r.status(), StatusCode::OK);
    let p = json_of(r).await;
    assert_eq!(
        p["parameter"][0]["resource"]["issue"][0]["details"]["text"],
        "Job Canceled"
    );
    assert_eq!(
        json_of(get(&s, &t, "/Patient?_summary=count").await).await["total"],
        10,
        "nothing was deleted"
    );

    // Soft delete with _remove-references: Encounters lose the deleted practitioner.
    let pr = ids(
        &json_of(get(&s, &t, "/Practitioner?_count=1").await).await,
        "match",
    )[0]
    .clone();
    let r = del(format!(
        "/Practitioner/$bulk-delete?_id={pr}&_remove-references=true"
    ))
    .send()
    .await
    .expect("refs");
    let url = content_location(&r);
    let done = json_of(poll_until(&s, &t, &url, StatusCode::OK).await).await;
    assert_eq!(done["parameter"][0]["part"][0]["valueInteger64"], "1");
    assert_eq!(
        get(&s, &t, &format!("/Practitioner/{pr}")).await.status(),
        StatusCode::GONE
    );
    let left = json_of(
        get(
            &s,
            &t,
            &format!("/Encounter?participant=Practitioner/{pr}&_summary=count"),
        )
        .await,
    )
    .await;
    assert_eq!(left["total"], 0);
    s.shutdown().await;
}

#[tokio::test]
async fn reindex_lifecycle() {
    let mut o = opts(3);
    o.export_duration = Duration::from_millis(400);
    let s = start(o).await;
    let t = token(&s).await;
    let base = s.fhir_url();
    let body = json!({"resourceType": "Parameters", "parameter": [{"name": "targetResourceTypes", "valueString": "Patient,Observation"}]});
    let r = post_json(format!("{base}/$reindex"), &t, &body)
        .send()
        .await
        .expect("kickoff");
    assert_eq!(r.status(), StatusCode::CREATED);
    let url = content_location(&r);
    assert!(url.starts_with(&format!("{base}/_operations/reindex/")));
    let job = json_of(r).await;
    let field = |p: &Value, n: &str| {
        p["parameter"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|x| x["name"] == n)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(field(&job, "status")["valueString"], "Queued");
    assert_eq!(
        field(&job, "resources")["valueString"],
        "Patient,Observation"
    );
    // Status answers are 200 throughout; the status field moves.
    let r = get(&s, &t, &url).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(field(&json_of(r).await, "status")["valueString"], "Running");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let p = json_of(get(&s, &t, &url).await).await;
    assert_eq!(field(&p, "status")["valueString"], "Completed");
    assert_eq!(field(&p, "progress")["valueDecimal"], 100.0);
    // A second job, cancelled.
    let r = post_json(
        format!("{base}/$reindex"),
        &t,
        &json!({"resourceType": "Parameters", "parameter": []}),
    )
    .send()
    .await
    .expect("second");
    let url = content_location(&r);
    let r = delete_url(&t, &url).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(
        field(&json_of(r).await, "status")["valueString"],
        "Canceled"
    );
    assert_eq!(
        field(&json_of(get(&s, &t, &url).await).await, "status")["valueString"],
        "Canceled"
    );
    assert_eq!(
        get(&s, &t, "/_operations/reindex/9999").await.status(),
        StatusCode::NOT_FOUND
    );
    // The CapabilityStatement lists what the demo runs.
    let cs = json_of(
        http()
            .get(format!("{base}/metadata"))
            .send()
            .await
            .expect("cs"),
    )
    .await;
    let ops: Vec<&str> = cs["rest"][0]["operation"]
        .as_array()
        .expect("ops")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(ops, ["export", "import", "bulk-delete", "reindex"]);
    s.shutdown().await;
}
