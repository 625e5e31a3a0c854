//! Imports every fixture under tests/fixtures/import and checks what came out, plus the
//! Postman round trip (import → export → import gives the same collection).

use std::path::{Path, PathBuf};

use fhirside::import::postman::import_collection_value;
use fhirside::import::postman_export::export_collection;
use fhirside::import::*;
use fhirside::workspace::{
    BodyKind, CaptureSource, Collection, Folder, KeyValue, RequestAuth, RequestSpec,
};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(rel)
}

const POSTMAN: [&str; 3] = [
    "postman/fhir_v21.postman_collection.json",
    "postman/legacy_v20.postman_collection.json",
    "postman/oauth2_pkce.postman_collection.json",
];

fn all_requests(f: &Folder) -> Vec<&RequestSpec> {
    let mut out: Vec<&RequestSpec> = f.requests.iter().map(|r| &r.spec).collect();
    for sub in &f.folders {
        out.extend(all_requests(sub));
    }
    out
}

fn req<'a>(c: &'a Collection, name: &str) -> &'a RequestSpec {
    all_requests(&c.root)
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no request {name}"))
}

fn one_collection(rel: &str) -> (Collection, ImportReport) {
    let mut imp = import_file(&fixture(rel)).unwrap();
    assert_eq!(imp.collections.len(), 1);
    (imp.collections.remove(0), imp.report)
}

#[test]
fn detects_formats() {
    let cases = [
        (POSTMAN[0], Some(ImportFormat::PostmanCollection)),
        (POSTMAN[1], Some(ImportFormat::PostmanCollection)),
        (
            "postman/dev.postman_environment.json",
            Some(ImportFormat::PostmanEnvironment),
        ),
        ("http/fhir.http", Some(ImportFormat::HttpFile)),
        ("curl/create_patient.sh", Some(ImportFormat::Curl)),
        ("curl/token.txt", Some(ImportFormat::Curl)),
        ("http/Data/patient.json", None),
    ];
    for (rel, want) in cases {
        let p = fixture(rel);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(detect(&p, &bytes), want, "{rel}");
    }
    assert_eq!(
        detect(Path::new("x.txt"), b"GET https://x/y\nAccept: a\n"),
        Some(ImportFormat::HttpFile)
    );
    assert_eq!(detect(Path::new("x.bin"), &[0xff, 0xfe, 0x00]), None);
}

#[test]
fn postman_v21_structure_bodies_and_auth() {
    let (c, rep) = one_collection(POSTMAN[0]);
    assert_eq!(c.name(), "FHIR API (v2.1)");
    assert_eq!(c.description, "Requests for the **FHIR** service.");
    assert_eq!(
        c.auth,
        Some(RequestAuth::Bearer {
            token: "{{bearerToken}}".into()
        })
    );
    let folder_names: Vec<&str> = c.root.folders.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        folder_names,
        ["Auth", "Patients", "Terminology", "Bulk export"]
    );
    let patients = &c.root.folders[1];
    assert_eq!(patients.folders[0].name, "Archive");
    assert_eq!(rep.imported, 14);

    // variables: numbers and booleans stringified, disabled kept
    assert_eq!(c.variables[2], KeyValue::new("pageSize", "20"));
    assert!(!c.variables[3].enabled);
    assert_eq!(c.variables[3].value, "false");

    // urlencoded with a disabled field; request-level noauth
    let tok = req(&c, "Get token");
    assert_eq!(tok.url, "{{authority}}/{{tenantId}}/oauth2/token");
    assert_eq!(tok.body.kind, BodyKind::Form);
    assert!(!tok.body.form[3].enabled);
    assert_eq!(tok.auth, Some(RequestAuth::None));

    // query table with null and disabled entries; GET body kept; folder basic auth pushed down
    let search = req(&c, "Search patients");
    assert_eq!(search.url, "{{fhirurl}}/Patient");
    assert_eq!(search.query.len(), 4);
    assert_eq!(search.query[2], KeyValue::new("birthdate", ""));
    assert!(!search.query[3].enabled);
    assert!(!search.headers[1].enabled);
    assert_eq!(search.body.kind, BodyKind::Json);
    assert_eq!(search.description, "Search by name.");
    assert_eq!(
        search.auth,
        Some(RequestAuth::Basic {
            username: "{{username}}".into(),
            password: "{{password}}".into()
        })
    );
    assert_eq!(search.examples.len(), 2);
    assert_eq!(search.examples[0].status, Some(200));
    assert_eq!(search.examples[1].status, None);

    // path variable substituted; nested folder inherits the folder auth; noauth stays
    assert_eq!(req(&c, "Read patient").url, "{{fhirurl}}/Patient/{{id}}");
    assert_eq!(
        req(&c, "Read patient").variables,
        [KeyValue::new("id", "{{patientId}}")]
    );
    assert_eq!(
        req(&c, "Old patient history").auth,
        search.auth,
        "nested folder inherits"
    );
    assert_eq!(
        req(&c, "Old patient (no auth)").auth,
        Some(RequestAuth::None)
    );
    // folders without auth leave requests inheriting from the collection
    assert_eq!(req(&c, "Lookup").auth, None);

    // URL given as text with a trailing space; apikey auth
    let create = req(&c, "Create patient");
    assert_eq!(create.url, "{{fhirurl}}/Patient");
    assert_eq!(
        create.auth,
        Some(RequestAuth::ApiKey {
            key: "Ocp-Apim-Subscription-Key".into(),
            value: "{{apiKey}}".into(),
            in_query: false
        })
    );

    // glued host kept as written, with and without raw
    assert_eq!(req(&c, "Lookup").url, "{{apimUrl}}CodeSystem/$lookup");
    assert_eq!(req(&c, "Lookup").query.len(), 2);
    assert_eq!(
        req(&c, "Lookup (no raw)").url,
        "{{apimUrl}}CodeSystem/$lookup"
    );
    assert_eq!(req(&c, "Translate").body.kind, BodyKind::Text);

    // formdata: text fields only, file noted
    let upload = req(&c, "Upload photo");
    assert_eq!(upload.body.kind, BodyKind::Form);
    assert_eq!(upload.body.form.len(), 2);
    assert!(rep.warnings.iter().any(|w| w.contains("photo.png")));
    // graphql and file bodies
    let gql = req(&c, "GraphQL");
    assert_eq!(gql.body.kind, BodyKind::Text);
    let v: serde_json::Value = serde_json::from_str(&gql.body.text).unwrap();
    assert_eq!(v["variables"]["n"], 1);
    assert!(v["query"].as_str().unwrap().contains("PatientList"));
    assert_eq!(req(&c, "Upload file").body.kind, BodyKind::None);
    assert!(rep.warnings.iter().any(|w| w.contains("/data/bundle.json")));
    // raw without options falls back to Text when no JSON content type
    assert_eq!(req(&c, "Batch").body.kind, BodyKind::Text);
}

#[test]
fn postman_scripts_become_captures_or_stay() {
    let (c, rep) = one_collection(POSTMAN[0]);
    let caps = |name: &str| -> Vec<(String, CaptureSource, String)> {
        req(&c, name)
            .captures
            .iter()
            .map(|c| (c.variable.clone(), c.source, c.path.clone()))
            .collect()
    };
    // legacy JSON.parse(responseBody) + setEnvironmentVariable, status test absorbed
    assert_eq!(
        caps("Get token"),
        [(
            "bearerToken".into(),
            CaptureSource::Body,
            "$.access_token".into()
        )]
    );
    assert!(req(&c, "Get token").scripts.is_empty());
    // alias inside an if-guard, bracket access, collectionVariables
    assert_eq!(
        caps("Search patients"),
        [
            (
                "patientId".into(),
                CaptureSource::Body,
                "$.entry[1].resource.id".into()
            ),
            ("total".into(), CaptureSource::Body, "$.total".into())
        ]
    );
    let search = req(&c, "Search patients");
    let test = search.scripts.iter().find(|s| s.phase == "test").unwrap();
    assert_eq!(
        test.lines,
        [
            "// from folder 'Patients'",
            "pm.test(\"json\", function () { pm.response.to.be.json; });",
            "console.log(\"searched\");",
            "postman.setNextRequest(\"Read patient\");"
        ]
    );
    let pre = search
        .scripts
        .iter()
        .find(|s| s.phase == "pre-request")
        .unwrap();
    assert_eq!(pre.lines[1], "console.log('patients folder');");
    assert!(
        rep.kept_not_run
            .iter()
            .any(|k| k.contains("setNextRequest"))
    );
    // exec as a single string; header capture
    assert_eq!(
        caps("Create patient"),
        [(
            "newPatient".into(),
            CaptureSource::Header,
            "Location".into()
        )]
    );
    // arrow-function pm.test wrapper with pm.expect status
    assert_eq!(
        caps("Start export"),
        [(
            "poll".into(),
            CaptureSource::Header,
            "Content-Location".into()
        )]
    );
    assert!(req(&c, "Start export").scripts.is_empty());
    // alias still used by kept lines stays; `.length` is not a path
    let batch = req(&c, "Batch");
    assert_eq!(caps("Batch").len(), 1);
    let test = batch.scripts.iter().find(|s| s.phase == "test").unwrap();
    assert_eq!(test.lines[0], "var body = pm.response.json();");
    assert_eq!(test.lines.len(), 3);
    assert!(
        rep.converted
            .contains(&"bearerToken ← $.access_token on 'Get token'".to_string())
    );

    // collection script kept, client credentials recognised
    assert_eq!(c.scripts.len(), 1);
    assert_eq!(c.scripts[0].phase, "pre-request");
    let cc = rep.client_credentials.as_ref().unwrap();
    assert_eq!(cc.token_url, "{{authority}}/{{tenantId}}/oauth2/v2.0/token");
    assert_eq!(cc.client_id, "{{clientId}}");
    assert_eq!(cc.scope, "{{fhirurl}}/.default");
    assert_eq!(cc.token_variable, "bearerToken");
    let shown = rep.to_string();
    assert!(
        shown.contains("signs in with client credentials"),
        "{shown}"
    );
    assert!(shown.starts_with("Imported 14 requests."));
}

#[test]
fn postman_v20_shapes() {
    let (c, rep) = one_collection(POSTMAN[1]);
    assert_eq!(c.name(), "Legacy v2.0");
    assert_eq!(
        c.auth,
        Some(RequestAuth::Basic {
            username: "{{user}}".into(),
            password: "{{pass}}".into()
        })
    );
    assert_eq!(
        c.variables,
        [KeyValue::new("base", "http://localhost:8080/fhir")]
    );
    let tok = req(&c, "Token");
    assert_eq!(tok.headers.len(), 2);
    assert!(!tok.headers[1].enabled);
    assert_eq!(tok.description, "Old style token call");
    assert_eq!(tok.captures[0].path, "$.access_token");
    assert!(tok.scripts.is_empty(), "{:?}", tok.scripts);
    let meta = req(&c, "Metadata");
    assert_eq!(meta.url, "{{base}}/metadata");
    assert_eq!(
        meta.auth,
        Some(RequestAuth::Bearer {
            token: "{{bearerToken}}".into()
        })
    );
    let obs = req(&c, "Observation");
    assert_eq!(
        obs.auth,
        Some(RequestAuth::ApiKey {
            key: "api_key".into(),
            value: "{{key}}".into(),
            in_query: true
        })
    );
    assert_eq!(obs.captures[0].variable, "obs");
    // unsupported auth inherits from the folder, with a warning
    assert_eq!(req(&c, "Digest thing").auth, meta.auth);
    assert!(rep.warnings.iter().any(|w| w.contains("digest")));
    assert_eq!(req(&c, "Raw no options").body.kind, BodyKind::Json);
}

#[test]
fn postman_oauth2_settings_reported() {
    let (c, rep) = one_collection(POSTMAN[2]);
    assert_eq!(c.auth, Some(RequestAuth::Oauth2));
    assert_eq!(req(&c, "Conditions").auth, Some(RequestAuth::Oauth2));
    assert_eq!(req(&c, "Public").auth, Some(RequestAuth::None));
    assert_eq!(rep.oauth2[0].found_on, ["collection"]);
    let o = &rep.oauth2[0].settings;
    assert!(o.use_pkce);
    assert_eq!(o.grant_type, "authorization_code_with_pkce");
    assert_eq!(o.auth_url, "{{authority}}/authorize");
    assert_eq!(o.access_token_url, "{{authority}}/token");
    assert_eq!(o.redirect_uri, "https://oauth.pstmn.io/v1/callback");
    assert_eq!(o.client_authentication, "body");
    assert_eq!(o.auth_request_params, [KeyValue::new("aud", "{{fhirurl}}")]);
    assert!(!o.token_request_params[0].enabled);
    let shown = rep.to_string();
    assert!(!shown.contains("literal-secret-value"), "{shown}");
    assert!(shown.contains("PKCE: yes (S256)"));
}

#[test]
fn postman_environment() {
    let imp = import_file(&fixture("postman/dev.postman_environment.json")).unwrap();
    assert!(imp.collections.is_empty());
    let env = &imp.environments[0];
    assert_eq!(env.name, "FHIR Dev");
    let var = |k: &str| env.variables.iter().find(|v| v.key == k).unwrap();
    assert!(!var("fhirurl").secret);
    assert!(!var("tenantId").secret && var("tenantId").enabled);
    assert!(var("clientSecret").secret);
    assert!(var("bearerToken").secret, "looks secret by name");
    assert!(var("pin").secret && !var("pin").enabled);
    assert_eq!(var("pageSize").value, "50");
    assert_eq!(var("flags").value, "{\"strict\":true}");
}

#[test]
fn http_file() {
    let (c, rep) = one_collection("http/fhir.http");
    assert_eq!(c.name(), "fhir");
    assert_eq!(rep.imported, 11);
    assert_eq!(
        c.variables[3],
        KeyValue::new("clientId", "{{$env CLIENT_ID}}")
    );
    let login = req(&c, "Get a token");
    assert_eq!(login.description, "Sign in with client credentials");
    assert_eq!(
        login.url,
        "https://login.example.com/{{$processEnv TENANT_ID}}/oauth2/token"
    );
    assert_eq!(login.body.kind, BodyKind::Form);
    assert_eq!(
        login.body.form[2],
        KeyValue::new("client_secret", "{{$env CLIENT_SECRET}}")
    );
    assert_eq!(login.captures.len(), 1);
    assert_eq!(login.captures[0].variable, "login.access_token");

    let search = req(&c, "Search patients");
    assert_eq!(search.query.len(), 2);
    assert_eq!(search.headers[0].value, "Bearer {{login.access_token}}");
    assert_eq!(search.captures[0].path, "$.entry[0].resource.id");

    let create = req(&c, "Create patient from a file");
    assert_eq!(create.body.kind, BodyKind::Json);
    assert!(create.body.text.contains("\"family\": \"Smith\""));
    assert_eq!(create.headers[2].value, "{{$guid}}");

    let batch = req(&c, "Batch");
    assert!(
        batch
            .body
            .text
            .contains("Patient/{{search.entry[0].resource.id}}")
    );
    assert_eq!(
        req(&c, "Read the third entry").url,
        "{{fhirurl}}/Observation/{{batch.entry[2].resource.id}}"
    );
    let export = req(&c, "Start export");
    assert_eq!(export.captures[0].source, CaptureSource::Header);
    assert_eq!(
        req(&c, "Poll export").url,
        "{{export.headers.Content-Location}}"
    );
    assert_eq!(req(&c, "Bare URL").method, "GET");
    assert_eq!(req(&c, "Text body").body.text, "line one\nline two");
    assert_eq!(rep.warnings.len(), 2, "{:#?}", rep.warnings);
    assert!(rep.warnings[0].contains("does-not-exist.json"));
    assert!(rep.warnings[1].contains("'Local server without scheme'"));
    assert_eq!(
        req(&c, "Local server without scheme").url,
        "https://{{hostname}}/metadata",
        "the scheme the file's other URLs use"
    );
}

#[test]
fn curl_files() {
    let (c, rep) = one_collection("curl/create_patient.sh");
    let r = &c.root.requests[0].spec;
    assert_eq!(r.method, "POST");
    assert_eq!(r.query, [KeyValue::new("_pretty", "true")]);
    assert!(r.body.text.contains("O'Brien"));
    assert!(rep.warnings.iter().any(|w| w.contains("-k")));
    let (c, _) = one_collection("curl/token.txt");
    let r = &c.root.requests[0].spec;
    assert!(matches!(r.auth, Some(RequestAuth::Basic { .. })));
    assert_eq!(
        r.body.form[1],
        KeyValue::new("scope", "https://fhir.example.com/.default")
    );
}

#[test]
fn errors_name_file_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.postman_collection.json");
    std::fs::write(&p, "{\n  \"info\": {\"name\": \"x\"},\n  \"item\": [\n").unwrap();
    let e = import_file(&p).unwrap_err().to_string();
    assert!(
        e.contains("broken.postman_collection.json") && e.contains("line 4"),
        "{e}"
    );
    std::fs::write(&p, "{\"info\": {}, \"item\": {\"a\": 1}}").unwrap();
    let e = import_file(&p).unwrap_err().to_string();
    assert!(e.contains("$.item"), "{e}");
    let e = import_file(&dir.path().join("missing.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("could not read"), "{e}");
    let e = curl::parse_curl("curl 'https://x").unwrap_err().to_string();
    assert!(e.contains("line 1, column 6"), "{e}");
}

#[test]
fn postman_round_trip_on_every_fixture() {
    for rel in POSTMAN {
        let (first, _) = one_collection(rel);
        let exported = export_collection(&first);
        let text = serde_json::to_string_pretty(&exported).unwrap();
        let (second, _) = import_collection_value(rel, &exported).unwrap();
        assert_eq!(second, first, "{rel}");
        // and once more through text, as a user would save it
        let (third, _) = postman::import_collection(rel, &text).unwrap();
        assert_eq!(third, first, "{rel}");
    }
    // .http and curl imports round-trip through Postman too
    for rel in ["http/fhir.http", "curl/create_patient.sh"] {
        let (first, _) = one_collection(rel);
        let (second, _) = import_collection_value(rel, &export_collection(&first)).unwrap();
        assert_eq!(second, first, "{rel}");
    }
}

#[test]
fn environment_round_trip_keeps_secrets_out() {
    let imp = import_file(&fixture("postman/dev.postman_environment.json")).unwrap();
    let env = &imp.environments[0];
    let out = postman_env::export_environment(env);
    let text = out.to_string();
    assert!(!text.contains("s3cr3t") && !text.contains("0000"));
    let (back, _) = postman_env::import_environment_value("e.json", &out).unwrap();
    for (a, b) in env.variables.iter().zip(&back.variables) {
        assert_eq!((&a.key, a.enabled, a.secret), (&b.key, b.enabled, b.secret));
        if !a.secret {
            assert_eq!(a.value, b.value);
        }
    }
}
