//! The CapabilityStatement served at `/metadata`, generated from the same
//! tables the search engine uses so it lists exactly what the demo supports.

use chrono::Utc;
use serde_json::{Value, json};

use super::search::{self, RESULT_PARAMS, SORTS};
use super::store::{TYPES, WRITABLE};
use super::util::fhir_instant;
use super::{AppState, DEMO_TENANT_ID};

fn param_def(rtype: &str, name: &str) -> String {
    let owner = if name.starts_with('_') {
        "Resource"
    } else {
        rtype
    };
    let clean = if name.starts_with('_') {
        name.trim_start_matches('_')
    } else {
        name
    };
    format!("http://hl7.org/fhir/SearchParameter/{owner}-{clean}")
}

pub(super) fn capability_statement(st: &AppState) -> Value {
    let base = &st.base;
    let resources: Vec<Value> = TYPES
        .iter()
        .map(|t| {
            let mut interactions = vec!["read", "vread", "history-instance", "search-type"];
            if WRITABLE.contains(t) {
                interactions.extend(["create", "update", "delete"]);
            }
            let mut r = json!({
                "type": t,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{t}"),
                "interaction": interactions.iter().map(|i| json!({"code": i})).collect::<Vec<_>>(),
                "versioning": "versioned",
                "readHistory": true,
                "updateCreate": WRITABLE.contains(t),
                "conditionalCreate": false,
                "conditionalRead": "not-supported",
                "conditionalUpdate": false,
                "conditionalDelete": "not-supported",
                "searchInclude": search::includes().filter(|(s, _)| s == t).map(|(s, p)| format!("{s}:{p}")).collect::<Vec<_>>(),
                "searchRevInclude": search::revincludes_of(t).iter().map(|(s, p)| format!("{s}:{p}")).collect::<Vec<_>>(),
                "searchParam": search::params_for(t).iter().map(|(n, ty)| json!({"name": n, "definition": param_def(t, n), "type": ty})).collect::<Vec<_>>(),
            });
            let sorts: Vec<&str> = SORTS.iter().filter(|(x, _)| x == t).map(|(_, n)| *n).collect();
            let sortable = ["_lastUpdated", "_id"].iter().copied().chain(sorts).collect::<Vec<_>>().join(",");
            r["extension"] = json!([{"url": "http://fhirside.example.org/StructureDefinition/sortable-parameters", "valueString": sortable}]);
            let mut ops = vec![json!({"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"})];
            if WRITABLE.contains(t) {
                ops.push(json!({"name": "bulk-delete", "definition": format!("{base}/OperationDefinition/ResourceTypeBulkDelete")}));
            }
            if *t == "Patient" {
                ops.push(json!({"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}));
                ops.push(json!({"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"}));
            }
            if *t == "Group" {
                ops.push(json!({"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"}));
            }
            if !ops.is_empty() {
                r["operation"] = Value::Array(ops);
            }
            r
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "id": "fhirside-demo",
        "url": format!("{base}/metadata"),
        "version": env!("CARGO_PKG_VERSION"),
        "name": "FhirsideDemoCapabilityStatement",
        "status": "active",
        "experimental": true,
        "date": fhir_instant(Utc::now()),
        "publisher": "fhirside",
        "kind": "instance",
        "software": {"name": "fhirside demo FHIR server (stand-in for Azure Health Data Services)", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "In-process demo FHIR service", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": false,
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}]}],
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [
                        {"url": "token", "valueUri": format!("{}/{DEMO_TENANT_ID}/oauth2/v2.0/token", st.authority)},
                        {"url": "authorize", "valueUri": format!("{}/{DEMO_TENANT_ID}/oauth2/v2.0/authorize", st.authority)}
                    ]
                }]
            },
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "searchParam": RESULT_PARAMS.iter().filter(|p| **p != "ct" && **p != "_format").map(|p| json!({
                "name": p,
                "type": match *p { "_count" => "number", "_include" | "_revinclude" | "_sort" => "string", _ => "token" }
            })).collect::<Vec<_>>(),
            // What the demo runs (KnownRoutes.cs names; $bulk-update is not modelled).
            "operation": [
                {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"},
                {"name": "import", "definition": format!("{base}/OperationDefinition/import")},
                {"name": "bulk-delete", "definition": format!("{base}/OperationDefinition/bulk-delete")},
                {"name": "reindex", "definition": format!("{base}/OperationDefinition/reindex")}
            ]
        }]
    })
}
