//! Imports every fixture under tests/fixtures/import and checks what came out, plus the
//! Postman round trip (import → export → import gives the same collection).

use std::path::{Path, PathBuf};

use fhirside::import::into_workspace::{ImportSummary, into_workspace};
use fhirside::import::postman::import_collection_value;
use fhirside::import::postman_export::export_collection;
use fhirside::import::*;
use fhirside::workspace::{
    AuthKind, BodyKind, CaptureSource, Collection, Folder, KeyValue, NodePath, RequestAuth,
    RequestSpec, Store, Workspace, looks_secret,
};
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(rel)
}

const POSTMAN: [&str; 8] = [
    "postman/fhir_v21.postman_collection.json",
    "postman/legacy_v20.postman_collection.json",
    "postman/oauth2_pkce.postman_collection.json",
    "postman/path_variables.postman_collection.json",
    "postman/folder_scripts.postman_collection.json",
    "postman/oauth2_variants.postman_collection.json",
    "postman/client_credentials_script.postman_collection.json",
    "postman/names.postman_collection.json",
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

// ---------------------------------------------------------------------------------------------
// Imports that keep their meaning (issue 20) and names that overwrite nothing (issue 15).

/// Imports `files` into a new workspace folder the way `fhirside import` does, then loads
/// that folder again as the next start would.
fn import_into(files: &[PathBuf]) -> (tempfile::TempDir, ImportSummary, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut ws, _) = Store::load(dir.path());
    let never = std::sync::atomic::AtomicBool::new(false);
    let out = into_workspace(dir.path(), files, &[], &mut |_| {}, &never);
    let summary = out.commit(&mut store, &mut ws);
    let (_, loaded, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        loaded.collections, ws.collections,
        "what was written loads back the same"
    );
    (dir, summary, loaded)
}

fn report_of(summary: &ImportSummary) -> &ImportReport {
    summary.files[0].result.as_ref().unwrap()
}

fn folder<'a>(c: &'a Collection, title: &str) -> &'a Folder {
    c.root
        .folders
        .iter()
        .find(|f| f.title() == title)
        .unwrap_or_else(|| panic!("no folder {title}"))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn reserved_long_and_case_colliding_names_overwrite_nothing() {
    let (dir, summary, ws) = import_into(&[fixture("postman/names.postman_collection.json")]);
    let c = &ws.collections[0];
    assert_eq!(
        c.title(),
        "Admin/Tools",
        "the real name is kept inside the file"
    );
    assert_eq!(c.name(), "Admin-Tools");
    assert_eq!(
        c.description, "Names that are not file names.",
        "_collection.toml intact"
    );
    let names: Vec<String> = all_requests(&c.root)
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(names.len(), 12, "{names:?}");
    let cjk = "患者記録".repeat(25);
    for wanted in [
        "_collection",
        "_folder",
        "CON",
        ".",
        "..",
        &cjk,
        &format!("{cjk}!"),
        "patient",
        "Patient",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} kept as the request's name"
        );
    }
    for p in files_under(&dir.path().join("collections")) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.len() <= 255, "{name}");
        assert!(!name.starts_with('.'), "{name}");
    }
    fn distinct(f: &Folder) {
        let mut seen = std::collections::HashSet::new();
        for n in f
            .requests
            .iter()
            .map(|r| &r.file_stem)
            .chain(f.folders.iter().map(|f| &f.name))
        {
            assert!(
                seen.insert(n.to_lowercase()),
                "two files named {n} on a case-insensitive disk"
            );
        }
        f.folders.iter().for_each(distinct);
    }
    distinct(&c.root);
    assert_eq!(folder(c, "Reports/2024").name, "Reports-2024");
    // the same collection again gets the same file names (stable)
    let (_, _, again) = import_into(&[fixture("postman/names.postman_collection.json")]);
    let stems = |w: &Workspace| -> Vec<String> {
        w.all_requests().iter().map(|(p, _)| p.display()).collect()
    };
    assert_eq!(stems(&ws), stems(&again));
    // a method that is not an HTTP method is refused, reported, and escaped in the report
    let escape = req(c, "Escape");
    assert_eq!(escape.method, "GET");
    let rep = report_of(&summary);
    let w = rep
        .warnings
        .iter()
        .find(|w| w.contains("RFC 9110"))
        .expect("reported");
    assert!(!w.contains('\u{1b}'), "{w:?}");
    // export gives the real names back
    let v = export_collection(c);
    assert_eq!(v["info"]["name"], "Admin/Tools");
    let folders: Vec<&str> = v["item"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("item").is_some())
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(folders, ["VersionedUpdateExample", "Reports/2024"]);
}

#[test]
fn every_address_list_prints_finds_its_request() {
    let (_, _, ws) = import_into(&[fixture("postman/names.postman_collection.json")]);
    let all = ws.all_requests();
    assert!(all.len() >= 12);
    for (path, _) in &all {
        assert_eq!(
            ws.find_request(&path.display()).as_ref(),
            Ok(path),
            "{}",
            path.display()
        );
    }
    let first = NodePath(vec![
        "Admin-Tools".into(),
        "VersionedUpdateExample".into(),
        "patient".into(),
    ]);
    assert_eq!(
        ws.find_request("Admin-Tools/VersionedUpdateExample/patient"),
        Ok(first)
    );
    // the names shown work too, as long as they name one request
    assert!(
        ws.find_request("Admin-Tools/Reports/2024/Summary").is_err(),
        "a / in a name is not a separator"
    );
    assert!(ws.find_request("admin-tools/reports-2024/summary").is_ok());
}

#[test]
fn http_requests_sharing_a_name_all_capture() {
    let (c, rep) = one_collection("http/reused_names.http");
    let caps = |name: &str| -> Vec<String> {
        req(&c, name)
            .captures
            .iter()
            .map(|c| c.variable.clone())
            .collect()
    };
    assert_eq!(caps("Token for the service"), ["bearer.access_token"]);
    assert_eq!(caps("Token with a narrower scope"), ["bearer.access_token"]);
    assert_eq!(
        caps("Create Export request"),
        ["export.headers.Content-Location"]
    );
    assert_eq!(
        caps("Create Export request for a group"),
        ["export.headers.Content-Location"]
    );
    assert_eq!(
        req(&c, "Get Export request for the group").url,
        "{{export.headers.Content-Location}}"
    );
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
}

#[test]
fn postman_path_variables_stay_variables_and_go_back() {
    let (c, rep) = one_collection("postman/path_variables.postman_collection.json");
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("'protocolProfileBehavior' (1 time) is not carried over")),
        "what is not carried over is named: {:?}",
        rep.warnings
    );
    let read = req(&c, "Read an account");
    assert_eq!(read.url, "{{API_URL}}/Account/{{id}}");
    assert_eq!(read.variables, [KeyValue::new("id", "<string>")]);
    let version = req(&c, "Read an account version");
    assert_eq!(version.url, "{{API_URL}}/Account/{{id}}/_history/{{vid}}");
    assert_eq!(
        version.variables,
        [KeyValue::new("id", "acc-1"), KeyValue::new("vid", "2")]
    );
    let v = export_collection(&c);
    let item = &v["item"][0]["item"][1]["request"]["url"];
    assert_eq!(
        item["raw"],
        "{{API_URL}}/Account/:id/_history/:vid?_format=json"
    );
    assert_eq!(
        item["path"],
        serde_json::json!(["Account", ":id", "_history", ":vid"])
    );
    assert_eq!(item["variable"][1]["key"], "vid");
    assert_eq!(item["variable"][1]["value"], "2");
}

#[test]
fn folder_and_collection_setting_scripts_become_variables_and_headers() {
    let (_, summary, ws) =
        import_into(&[fixture("postman/folder_scripts.postman_collection.json")]);
    let c = &ws.collections[0];
    assert_eq!(
        c.headers,
        [KeyValue::new("Accept", "application/fhir+json")]
    );
    assert!(c.variables.contains(&KeyValue::new("pageSize", "50")));
    assert_eq!(c.scripts.len(), 1);
    assert_eq!(
        c.scripts[0].lines,
        ["console.log('collection pre-request');"]
    );
    let alpha = folder(c, "Alpha patients");
    assert_eq!(alpha.description, "Everything about patients.");
    assert_eq!(
        alpha.variables,
        [
            KeyValue::new("resourceName", "Patient"),
            KeyValue::new("searchParam", "name")
        ]
    );
    assert_eq!(
        alpha.headers,
        [KeyValue::new("Prefer", "handling={{handling}}")]
    );
    assert_eq!(
        folder(c, "Zeta checks").variables,
        [KeyValue::new("resourceName", "Observation")]
    );
    // the conditional setter is not a setting: it stays a script line of the folder's requests
    let search = req(c, "Search");
    let pre = search
        .scripts
        .iter()
        .find(|s| s.phase == "pre-request")
        .unwrap();
    assert!(
        pre.lines
            .iter()
            .any(|l| l.contains("pm.variables.set('trace', 'on')"))
    );
    // what a request sees: its folder's variables before the collection's, inherited headers
    let search_path = ws
        .find_request("Resource walk/Alpha patients/Search")
        .unwrap();
    let vars = ws.variables_for(&search_path);
    assert_eq!(
        vars.iter().find(|v| v.key == "resourceName").unwrap().value,
        "Patient"
    );
    let keys = |rows: Vec<KeyValue>| rows.into_iter().map(|h| h.key).collect::<Vec<_>>();
    assert_eq!(keys(ws.headers_for(&search_path)), ["Accept", "Prefer"]);
    let read_path = ws
        .find_request("Resource walk/Alpha patients/Read")
        .unwrap();
    assert_eq!(
        keys(ws.headers_for(&read_path)),
        ["Prefer"],
        "the request's own Accept wins"
    );
    let rep = report_of(&summary);
    assert!(
        rep.converted
            .iter()
            .any(|c| c.contains("resourceName = Patient")),
        "{:?}",
        rep.converted
    );
}

#[test]
fn folder_order_is_kept_after_a_restart_and_on_export() {
    let (_, _, ws) = import_into(&[fixture("postman/folder_scripts.postman_collection.json")]);
    let c = &ws.collections[0];
    let order: Vec<&str> = c.root.folders.iter().map(|f| f.title()).collect();
    assert_eq!(
        order,
        ["Zeta checks", "Alpha patients"],
        "source order, not alphabetical"
    );
    let v = export_collection(c);
    let items: Vec<&str> = v["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(items, ["Zeta checks", "Alpha patients", "Metadata"]);
    let (back, _) = import_collection_value("x.json", &v).unwrap();
    let order: Vec<&str> = back.root.folders.iter().map(|f| f.title()).collect();
    assert_eq!(order, ["Zeta checks", "Alpha patients"]);
}

#[test]
fn oauth2_survives_export_and_is_never_collapsed() {
    let (c, rep) = one_collection("postman/oauth2_pkce.postman_collection.json");
    let v = export_collection(&c);
    let params = v["auth"]["oauth2"].as_array().unwrap();
    let get = |k: &str| {
        params
            .iter()
            .find(|p| p["key"] == k)
            .map(|p| p["value"].clone())
    };
    assert_eq!(get("authUrl"), Some(Value::from("{{authority}}/authorize")));
    assert_eq!(
        get("accessTokenUrl"),
        Some(Value::from("{{authority}}/token"))
    );
    assert_eq!(get("clientId"), Some(Value::from("{{clientId}}")));
    assert_eq!(
        get("grant_type"),
        Some(Value::from("authorization_code_with_pkce"))
    );
    assert_eq!(get("state"), Some(Value::from("xyz")));
    assert_eq!(
        get("scope").unwrap(),
        "launch/patient patient/*.read openid fhirUser"
    );
    assert_eq!(get("authRequestParams").unwrap()[0]["key"], "aud");
    assert_eq!(
        get("clientSecret"),
        Some(Value::from("{{clientsecret}}")),
        "the literal is not exported"
    );
    assert!(!v.to_string().contains("literal-secret-value"));
    let (_, back) = import_collection_value("x.json", &v).unwrap();
    assert_eq!(
        back.oauth2[0].settings.auth_url,
        rep.oauth2[0].settings.auth_url
    );
    assert_eq!(
        back.oauth2[0].settings.auth_request_params,
        rep.oauth2[0].settings.auth_request_params
    );

    let (_, summary, ws) =
        import_into(&[fixture("postman/oauth2_variants.postman_collection.json")]);
    let rep = report_of(&summary);
    assert_eq!(rep.oauth2.len(), 2, "two scopes, two configurations");
    let shown = summary.to_string();
    assert!(
        shown.contains("system/Patient.read") && shown.contains("system/Observation.write"),
        "{shown}"
    );
    assert!(
        shown.contains("audience=https://fhir.example.org (disabled: not sent)"),
        "{shown}"
    );
    assert!(
        shown.contains("refreshTokenUrl"),
        "not carried over, and said so: {shown}"
    );
    let sign_ins: Vec<_> = ws
        .environments
        .iter()
        .filter(|e| e.name.contains("sign-in"))
        .collect();
    assert_eq!(sign_ins.len(), 2, "{:?}", ws.environments);
    let scopes: Vec<_> = sign_ins
        .iter()
        .map(|e| e.auth.as_ref().unwrap().scope.clone().unwrap())
        .collect();
    assert!(scopes.contains(&"system/Patient.read".to_string()));
    // a block with only a saved token is bearer auth, and the token is not written anywhere
    let c = &ws.collections[0];
    assert_eq!(
        req(c, "With a saved token").auth,
        Some(RequestAuth::Bearer {
            token: "{{bearerToken}}".into()
        })
    );
    assert!(!shown.contains("eyJhbGci"));
    assert!(!shown.contains("(not set)"), "{shown}");
}

#[test]
fn a_client_credentials_script_gives_a_complete_sign_in() {
    let (_, summary, ws) = import_into(&[fixture(
        "postman/client_credentials_script.postman_collection.json",
    )]);
    let rep = report_of(&summary);
    let cc = rep.client_credentials.as_ref().unwrap();
    assert_eq!(cc.token_url, "https://auth.example-health.org/oauth2/token");
    assert_eq!(cc.client_id, "{{client_id}}");
    assert_eq!(cc.client_secret, "{{client_secret}}");
    assert_eq!(cc.scope, "system/Patient.read system/Observation.read");
    assert_eq!(cc.client_authentication, "basic");
    assert_eq!(cc.defaults, [KeyValue::new("client_id", "fhir-tester")]);
    assert_eq!(cc.token_variable, "access_token");
    let shown = summary.to_string();
    assert!(!shown.contains("(not set)"), "{shown}");
    let env = ws
        .environments
        .iter()
        .find(|e| e.name.ends_with("sign-in"))
        .unwrap();
    let auth = env.auth.as_ref().unwrap();
    assert_eq!(auth.kind, AuthKind::ClientCredentials);
    assert_eq!(
        auth.token_url.as_deref(),
        Some("https://auth.example-health.org/oauth2/token")
    );
    assert_eq!(auth.client_id.as_deref(), Some("{{client_id}}"));
    assert_eq!(
        auth.scope.as_deref(),
        Some("system/Patient.read system/Observation.read")
    );
    assert_eq!(auth.token_variable.as_deref(), Some("access_token"));
    assert_eq!(env.get("client_id"), Some("fhir-tester"));
    assert!(
        shown.contains("HTTP Basic client authentication is not carried over"),
        "{shown}"
    );
}

#[test]
fn http_parsing_keeps_bodies_variables_schemes_and_includes_honest() {
    let (c, rep) = one_collection("http/parsing/requests.http");
    let meta = req(&c, "Capability statement");
    assert_eq!(
        meta.body.kind,
        BodyKind::None,
        "comments and @vars after a GET are not its body"
    );
    assert!(req(&c, "Search").body.text.is_empty());
    let var = |k: &str| {
        c.variables
            .iter()
            .find(|v| v.key == k)
            .map(|v| v.value.clone())
    };
    assert_eq!(var("patientType").as_deref(), Some("Patient"));
    assert_eq!(var("later").as_deref(), Some("https://other.example.org"));
    assert_eq!(
        var("host").as_deref(),
        Some("localhost:8080"),
        "defined at the end, file-wide"
    );
    assert_eq!(
        meta.url, "https://{{host}}/metadata",
        "the file's own scheme"
    );
    let scheme_warnings: Vec<_> = rep
        .warnings
        .iter()
        .filter(|w| w.contains("http://"))
        .collect();
    assert_eq!(
        scheme_warnings.len(),
        1,
        "one warning for all: {:?}",
        rep.warnings
    );
    assert!(
        req(&c, "Create a patient from a file")
            .body
            .text
            .contains("Chalmers")
    );
    assert!(
        rep.converted
            .iter()
            .any(|c| c.contains("./patient.json") && c.contains("as it was at import"))
    );
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("missing-patient.json"))
    );
    let secret = req(&c, "Read a secret from elsewhere");
    assert!(
        !secret.body.text.contains("not for the server"),
        "a file outside the folder is not read"
    );
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("outside the .http file's folder"))
    );
}

#[test]
fn a_trailing_slash_in_a_base_url_and_vault_references_are_reported() {
    let (c, rep) = one_collection("postman/folder_scripts.postman_collection.json");
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("{{base}} ends with '/'") && w.contains("4 URLs")),
        "{:?}",
        rep.warnings
    );
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("{{vault:test-patient-id}}") && w.contains("asks for it"))
    );
    assert!(
        req(&c, "Read").url.contains("{{vault:test-patient-id}}"),
        "kept as written"
    );
    assert!(
        looks_secret("vault:test-patient-id"),
        "the marker the sender asks for as a secret"
    );
}

#[test]
fn other_formats_are_recognised_and_explained() {
    let err = |rel: &str| import_file(&fixture(rel)).unwrap_err().to_string();
    let e = err("formats/postman_v1.json");
    assert!(
        e.contains("Postman v1 collection: export it as v2.1 from Postman"),
        "{e}"
    );
    for (rel, what) in [
        ("formats/openapi.yaml", "OpenAPI 3.0.1 description (YAML)"),
        ("formats/openapi.json", "OpenAPI 3.0.1 description (JSON)"),
        (
            "formats/insomnia_v5.yaml",
            "Insomnia collection (YAML): export it from Insomnia as 'Insomnia v4 (JSON)'",
        ),
    ] {
        let e = err(rel);
        assert!(e.contains(what), "{rel}: {e}");
    }
    let mut bytes = vec![0xff, 0xfe];
    let text = std::fs::read_to_string(fixture(POSTMAN[0])).unwrap();
    for u in text.encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    let imported = import_bytes(Path::new("x.json"), &bytes).unwrap();
    assert_eq!(imported.collections[0].title(), "FHIR API (v2.1)");
    assert!(imported.report.converted[0].contains("UTF-16LE"));
    let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    assert_eq!(
        import_bytes(Path::new("x.json"), &be)
            .unwrap()
            .report
            .imported,
        14,
        "UTF-16BE without a mark"
    );
}

#[test]
fn insomnia_v4_exports_import() {
    let imp = import_file(&fixture("formats/insomnia_v4.json")).unwrap();
    assert_eq!(imp.format, ImportFormat::Insomnia);
    let c = &imp.collections[0];
    assert_eq!(c.title(), "FHIR sandbox");
    assert_eq!(
        c.variables,
        [KeyValue::new("base_url", "https://fhir.example.org/r4")]
    );
    let order: Vec<&str> = c.root.folders.iter().map(|f| f.title()).collect();
    assert_eq!(order, ["Patients", "Admin"], "metaSortKey order");
    let patients = folder(c, "Patients");
    assert_eq!(patients.variables, [KeyValue::new("resource", "Patient")]);
    let names: Vec<&str> = patients
        .requests
        .iter()
        .map(|r| r.spec.name.as_str())
        .collect();
    assert_eq!(names, ["Search patients", "Create patient"]);
    let create = req(c, "Create patient");
    assert_eq!(create.url, "{{base_url}}/{{resource}}");
    assert_eq!(
        create.auth,
        Some(RequestAuth::Bearer {
            token: "{{api_token}}".into()
        })
    );
    assert!(!create.headers[1].enabled);
    assert_eq!(req(c, "Search patients").query.len(), 2);
    assert_eq!(req(c, "Reindex").body.kind, BodyKind::Form);
    let dev = &imp.environments[0];
    assert_eq!(dev.name, "Dev");
    assert!(
        dev.variables
            .iter()
            .any(|v| v.key == "api_token" && v.secret)
    );
    assert!(
        imp.report
            .warnings
            .iter()
            .any(|w| w.contains("template tag"))
    );
    assert!(imp.report.warnings.iter().any(|w| w.contains("'api_spec'")));
    assert_eq!(imp.report.imported, 4);
}

#[test]
fn har_files_import_without_their_credentials() {
    let (dir, summary, ws) = import_into(&[fixture("formats/capture.har")]);
    let rep = report_of(&summary);
    assert_eq!(rep.imported, 2);
    let c = &ws.collections[0];
    let search = &c.root.requests[0].spec;
    assert_eq!(search.url, "https://fhir.example.org/r4/Patient");
    assert_eq!(
        search.auth,
        Some(RequestAuth::Bearer {
            token: "{{bearerToken}}".into()
        })
    );
    assert_eq!(
        search.query[1],
        KeyValue::new("access_token", "{{access_token}}")
    );
    assert!(
        search
            .headers
            .iter()
            .all(|h| !h.key.starts_with(':') && !h.key.eq_ignore_ascii_case("cookie"))
    );
    let token = &c.root.requests[1].spec;
    assert_eq!(
        token.body.form[2],
        KeyValue::new("client_secret", "{{client_secret}}")
    );
    for p in files_under(dir.path()) {
        if p.is_file() {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            for secret in ["s3cr3t", "very-secret", "abc123", "eyJhbGci", "Bundle"] {
                assert!(
                    !text.contains(secret),
                    "{secret} written to {}",
                    p.display()
                );
            }
        }
    }
}

/// A collection of `n` requests in a few folders, as Postman JSON.
fn big_collection(n: usize) -> String {
    let per = n / 4;
    let folders: Vec<Value> = (0..4)
        .map(|f| {
            let items: Vec<Value> = (0..per)
                .map(|i| serde_json::json!({"name": format!("Request {i}"), "request": {"method": "POST", "url": format!("{{{{base}}}}/Patient/{i}"),
                    "header": [{"key": "Content-Type", "value": "application/fhir+json"}],
                    "body": {"mode": "raw", "raw": "{\"resourceType\": \"Patient\", \"active\": true}"}}}))
                .collect();
            serde_json::json!({"name": format!("Folder {f}"), "item": items})
        })
        .collect();
    serde_json::json!({"info": {"name": "Big"}, "item": folders}).to_string()
}

#[cfg(unix)]
#[test]
fn an_import_killed_at_any_moment_leaves_all_or_nothing() {
    use std::process::{Command, Stdio};
    use std::time::Duration;
    const N: usize = 4000;
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("big.postman_collection.json");
    std::fs::write(&file, big_collection(N)).unwrap();
    for round in 0..12u64 {
        let ws = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_fhirside"))
            .arg("--workspace")
            .arg(ws.path())
            .arg("import")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(30 + (round * 37) % 400));
        let signal = ["-KILL", "-TERM", "-INT"][(round % 3) as usize];
        let _ = Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status();
        let status = child.wait().unwrap();
        let (_, loaded, problems) = Store::load(ws.path());
        assert!(problems.is_empty(), "round {round}: {problems:?}");
        // (a new workspace also gets the seed collection)
        let counts: Vec<usize> = loaded
            .collections
            .iter()
            .filter(|c| c.name() == "Big")
            .map(|c| all_requests(&c.root).len())
            .collect();
        assert!(
            counts.is_empty() || counts == [N],
            "round {round} ({signal}): {counts:?} requests, {status:?}"
        );
        if signal != "-KILL" && status.code().is_some() {
            // stopped by its own handler: exit 130 with nothing, or done with everything
            assert!(
                (status.code() == Some(130) && counts.is_empty())
                    || (status.success() && counts == [N]),
                "round {round}: {status:?} with {counts:?}"
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(ws.path().join("collections"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            leftovers.is_empty(),
            "round {round}: {leftovers:?} left after the next load"
        );
    }
}
