//! No input panics an importer: arbitrary bytes, truncated and mutated fixtures, and JSON with
//! wrong types in every field. Also a timing check (ignored by default) for a 1 MB collection.

// Prints timings of the ignored benchmark test.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use fhirside::import::postman::import_collection_value;
use fhirside::import::postman_env::import_environment_value;
use fhirside::import::postman_export::export_collection;
use fhirside::import::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(rel)
}

const FIXTURES: [&str; 7] = [
    "postman/fhir_v21.postman_collection.json",
    "postman/legacy_v20.postman_collection.json",
    "postman/oauth2_pkce.postman_collection.json",
    "postman/dev.postman_environment.json",
    "http/fhir.http",
    "curl/create_patient.sh",
    "curl/token.txt",
];

/// Every importer, fed the same bytes under every extension.
fn import_everything(bytes: &[u8]) {
    let dir = fixture("http");
    for name in ["x.json", "x.http", "x.sh", "x"] {
        let _ = import_bytes(&dir.join(name), bytes);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = curl::parse_curl(text);
        let _ = http_file::import_http_file(&dir.join("x.http"), text);
        let _ = postman::import_collection("x.json", text);
        let _ = postman_env::import_environment("x.json", text);
    }
}

/// Replaces the value at each position in turn with values of every other type, importing
/// each variant.
fn mutate_every_field(root: &Value, f: &mut dyn FnMut(&Value)) {
    fn paths(v: &Value, here: Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
        out.push(here.clone());
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    let mut p = here.clone();
                    p.push(PathStep::Key(k.clone()));
                    paths(x, p, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let mut p = here.clone();
                    p.push(PathStep::Index(i));
                    paths(x, p, out);
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(root, Vec::new(), &mut all);
    let replacements = [
        Value::Null,
        json!(true),
        json!(-1),
        json!(1.5e300),
        json!(""),
        json!("}}{{x"),
        json!([]),
        json!([null, 1, "x"]),
        json!({}),
        json!({"type": "file", "mode": "raw"}),
    ];
    // Every field gets `null` and one other wrong type (cycling through the list), which keeps
    // the test fast while every type still lands in every kind of field across the fixtures.
    for (i, path) in all.into_iter().enumerate() {
        let other = &replacements[1 + i % (replacements.len() - 1)];
        for r in [&replacements[0], other] {
            let mut v = root.clone();
            if let Some(slot) = at_mut(&mut v, &path) {
                *slot = r.clone();
                f(&v);
            }
        }
    }
}

#[derive(Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at_mut<'a>(v: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    let mut cur = v;
    for step in path {
        cur = match step {
            PathStep::Key(k) => cur.get_mut(k)?,
            PathStep::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

#[test]
fn wrong_types_in_every_field_never_panic() {
    for rel in &FIXTURES[..4] {
        let text = std::fs::read_to_string(fixture(rel)).unwrap();
        let root: Value = serde_json::from_str(&text).unwrap();
        let mut n = 0;
        mutate_every_field(&root, &mut |v| {
            n += 1;
            if let Ok((c, _)) = import_collection_value("x.json", v)
                && n % 5 == 0
            {
                // whatever came in can go out and back in
                let _ = import_collection_value("x.json", &export_collection(&c));
            }
            let _ = import_environment_value("x.json", v);
        });
        assert!(n > 50, "{rel}: only {n} variants");
    }
}

#[test]
fn wrong_types_in_insomnia_and_har_files_never_panic() {
    for rel in ["formats/insomnia_v4.json", "formats/capture.har"] {
        let text = std::fs::read_to_string(fixture(rel)).unwrap();
        let root: Value = serde_json::from_str(&text).unwrap();
        let mut n = 0;
        mutate_every_field(&root, &mut |v| {
            n += 1;
            let _ = import_bytes(Path::new("x.json"), v.to_string().as_bytes());
        });
        assert!(n > 50, "{rel}: only {n} variants");
    }
}

#[test]
fn truncated_fixtures_never_panic() {
    for rel in FIXTURES {
        let bytes = std::fs::read(fixture(rel)).unwrap();
        // every prefix for the small files, a stride for the larger ones
        let step = (bytes.len() / 400).max(1);
        for end in (0..=bytes.len()).step_by(step * 2) {
            import_everything(bytes.get(..end).unwrap_or_default());
        }
    }
}

#[test]
fn mutated_lines_never_panic() {
    // Line-level damage for the text formats: drop, duplicate and swap lines.
    for rel in ["http/fhir.http", "curl/create_patient.sh"] {
        let text = std::fs::read_to_string(fixture(rel)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for i in 0..lines.len() {
            let mut l = lines.clone();
            l.remove(i);
            import_everything(l.join("\n").as_bytes());
            let mut l = lines.clone();
            l.insert(i, lines.get(i).copied().unwrap_or_default());
            import_everything(l.join("\n").as_bytes());
            let mut l = lines.clone();
            if i + 1 < l.len() {
                l.swap(i, i + 1);
            }
            import_everything(l.join("\r\n").as_bytes());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        import_everything(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\\n\\t\\r'\"\\\\${}#@<&?é]{0,300}") {
        import_everything(text.as_bytes());
        let with_curl = format!("curl {text}");
        import_everything(with_curl.as_bytes());
        let with_request = format!("###\nPOST {{{{a}}}}/{text}\n\n{text}");
        import_everything(with_request.as_bytes());
    }

    #[test]
    fn byte_flips_in_fixtures_never_panic(idx in 0usize..4, pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let rel = ["postman/fhir_v21.postman_collection.json", "http/fhir.http", "curl/token.txt", "postman/dev.postman_environment.json"][idx];
        let mut bytes = std::fs::read(fixture(rel)).unwrap();
        let i = pos.index(bytes.len());
        if let Some(b) = bytes.get_mut(i) { *b = byte; }
        import_everything(&bytes);
    }

    #[test]
    fn script_lines_never_panic(lines in proptest::collection::vec("[ -~]{0,80}", 0..12)) {
        let v = json!({"info": {"name": "p"}, "event": [{"listen": "prerequest", "script": {"exec": lines.clone()}}],
            "item": [{"name": "f", "event": [{"listen": "prerequest", "script": {"exec": lines.clone()}}],
                      "item": [{"name": "r", "request": "http://x", "event": [
                          {"listen": "prerequest", "script": {"exec": lines.clone()}},
                          {"listen": "test", "script": {"exec": lines}}]}]}]});
        if let Ok((c, _)) = import_collection_value("x.json", &v) {
            let again = import_collection_value("x.json", &export_collection(&c));
            prop_assert!(again.is_ok());
        }
    }
}

/// A collection of about 1 MB: ~500 requests in ~160 folders, with scripts, bodies and examples.
fn big_collection() -> Value {
    let mut top_items = Vec::new();
    let mut n = 0;
    for f in 0..40 {
        let mut subfolders = Vec::new();
        for s in 0..3 {
            let mut requests = Vec::new();
            for _ in 0..4 {
                n += 1;
                requests.push(json!({
                    "name": format!("Request {n}"),
                    "event": [{"listen": "test", "script": {"exec": [
                        "pm.test(\"Status code is 200\", function () {",
                        "    pm.response.to.have.status(200);",
                        "});",
                        "var jsonData = pm.response.json();",
                        format!("pm.environment.set(\"id{n}\", jsonData.entry[0].resource.id);"),
                        "console.log(jsonData.total);"
                    ]}}],
                    "request": {
                        "method": "POST",
                        "header": [{"key": "Content-Type", "value": "application/fhir+json"}, {"key": "Accept", "value": "application/fhir+json"}],
                        "body": {"mode": "raw", "raw": format!("{{\"resourceType\": \"Patient\", \"id\": \"{n}\", \"text\": \"{}\"}}", "x".repeat(1100)), "options": {"raw": {"language": "json"}}},
                        "url": {"raw": format!("{{{{fhirurl}}}}/Patient/:id?_count=10&n={n}"), "host": ["{{fhirurl}}"], "path": ["Patient", ":id"],
                                "query": [{"key": "_count", "value": "10"}, {"key": "n", "value": n.to_string()}],
                                "variable": [{"key": "id", "value": n.to_string()}]}
                    },
                    "response": [{"name": "ok", "code": 200, "header": [{"key": "Content-Type", "value": "application/fhir+json"}], "body": "{\"resourceType\":\"Bundle\",\"total\":1}"}]
                }));
            }
            subfolders.push(json!({"name": format!("Sub {s}"), "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{t}}"}]}, "item": requests}));
        }
        top_items.push(json!({"name": format!("Folder {f}"), "item": subfolders}));
    }
    json!({"info": {"name": "Big", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"}, "item": top_items})
}

#[test]
#[ignore = "timing; run with --ignored --nocapture (ideally --release)"]
fn one_megabyte_collection_timing() {
    let text = serde_json::to_string(&big_collection()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.postman_collection.json");
    std::fs::write(&path, &text).unwrap();
    let start = std::time::Instant::now();
    let imp = import_file(&path).unwrap();
    let took = start.elapsed();
    fn folders(f: &fhirside::workspace::Folder) -> usize {
        f.folders.len() + f.folders.iter().map(folders).sum::<usize>()
    }
    let c = &imp.collections[0];
    println!(
        "imported {} bytes, {} requests in {} folders in {:?}",
        text.len(),
        imp.report.imported,
        folders(&c.root),
        took
    );
    assert_eq!(imp.report.imported, 480);
}
