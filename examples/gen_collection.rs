//! Writes a synthetic Postman v2.1 collection for the import benchmark
//! (`scripts/import_bench.sh`): N requests in folders of 50, each with headers, a FHIR body,
//! a test script with a capture and, every third one, a saved example; `--bytes B` pads the
//! bodies so the whole file is about B bytes.
//!
//! `cargo run --release --example gen_collection -- 23000 --bytes 50000000 > big.json`

// A measuring or generating tool: what it prints is its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use serde_json::{Value, json};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(469);
    let mut target: Option<usize> = None;
    while let Some(a) = args.next() {
        if a == "--bytes" {
            target = args.next().and_then(|b| b.parse().ok());
        }
    }
    let build = |pad: usize| -> String {
        let filler = "x".repeat(pad);
        let mut folders = Vec::new();
        for f in 0..n.div_ceil(50) {
            let mut items = Vec::new();
            for i in (f * 50)..((f + 1) * 50).min(n) {
                let body = json!({
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": format!("MRN-{i:06}")}],
                    "name": [{"family": format!("Family{i}"), "given": ["Given", "Middle"]}],
                    "gender": if i % 2 == 0 { "female" } else { "male" },
                    "birthDate": "1974-12-25",
                    "address": [{"line": ["534 Erewhon St"], "city": "PleasantVille", "postalCode": "3999"}],
                    "text": {"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{filler}</div>")}
                });
                let method = ["GET", "POST", "PUT", "DELETE"][i % 4];
                let mut item = json!({
                    "name": format!("Patient request {i}"),
                    "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": [
                        "pm.test(\"Status code is 2xx\", function () {",
                        "    pm.response.to.be.success;",
                        "});",
                        "var jsonData = pm.response.json();",
                        format!("pm.environment.set(\"patient{i}\", jsonData.id);")
                    ]}}],
                    "request": {
                        "method": method,
                        "header": [
                            {"key": "Accept", "value": "application/fhir+json"},
                            {"key": "Content-Type", "value": "application/fhir+json"},
                            {"key": "Prefer", "value": "return=representation", "disabled": true}
                        ],
                        "url": {
                            "raw": format!("{{{{fhirurl}}}}/Patient/:id?_format=json&n={i}"),
                            "host": ["{{fhirurl}}"],
                            "path": ["Patient", ":id"],
                            "query": [{"key": "_format", "value": "json"}, {"key": "n", "value": i.to_string()}],
                            "variable": [{"key": "id", "value": format!("p{i}")}]
                        }
                    }
                });
                if method == "POST" || method == "PUT" {
                    item["request"]["body"] = json!({"mode": "raw", "raw": serde_json::to_string_pretty(&body).unwrap_or_default(), "options": {"raw": {"language": "json"}}});
                }
                if i % 3 == 0 {
                    item["response"] = json!([{"name": "OK", "code": 200, "header": [{"key": "Content-Type", "value": "application/fhir+json"}], "body": body.to_string()}]);
                }
                items.push(item);
            }
            folders.push(json!({"name": format!("Folder {f:04}"), "item": items}));
        }
        let c: Value = json!({
            "info": {"name": format!("Benchmark {n}"), "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "item": folders,
            "variable": [{"key": "fhirurl", "value": "https://fhir.example.org"}]
        });
        serde_json::to_string_pretty(&c).unwrap_or_default()
    };
    let mut text = build(0);
    if let Some(t) = target
        && text.len() < t
    {
        // Bodies and examples appear about (n / 2 + n / 3) times; pad each to reach the size.
        let per = (t - text.len()) / (n / 2 + n / 3).max(1);
        text = build(per);
    }
    println!("{text}");
}
