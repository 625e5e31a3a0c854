//! Batch and transaction Bundles posted to the base URL. Transactions run
//! on a copy of the store that replaces the real one only if every entry
//! succeeds, and `urn:uuid:` references are rewritten to the assigned ids.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::fhir_routes::{
    OpResult, op_create, op_delete, op_read, op_search, op_update, op_vread, valid_id,
};
use super::outcome::FhirError;
use super::store::{Store, is_supported};
use super::util::{fhir_instant, new_guid, parse_query};

fn status_line(s: StatusCode) -> String {
    format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or(""))
}

/// One entry's request, parsed.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    rtype: String,
    id: Option<String>,
    vid: Option<String>,
    query: Vec<(String, String)>,
    if_match: Option<String>,
    resource: Option<Value>,
}

fn parse_entry(e: &Value, index: usize) -> Result<Req, FhirError> {
    let req = e.get("request").ok_or_else(|| {
        FhirError::bad_request(format!(
            "Bundle.entry[{index}] is missing the 'request' element."
        ))
    })?;
    let method = req
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    let url = req.get("url").and_then(Value::as_str).ok_or_else(|| {
        FhirError::bad_request(format!("Bundle.entry[{index}].request.url is missing."))
    })?;
    let url = url.trim_start_matches('/');
    let (path, q) = url.split_once('?').unwrap_or((url, ""));
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (rtype, id, vid) = match segs.as_slice() {
        [t] => (t.to_string(), None, None),
        [t, i] => (t.to_string(), Some(i.to_string()), None),
        [t, i, "_history", v] => (t.to_string(), Some(i.to_string()), Some(v.to_string())),
        _ => {
            return Err(FhirError::bad_request(format!(
                "Bundle.entry[{index}].request.url '{url}' is not supported."
            )));
        }
    };
    if !is_supported(&rtype) {
        return Err(FhirError::unknown_type(&rtype));
    }
    let needs_id = matches!(method.as_str(), "PUT" | "DELETE");
    match method.as_str() {
        "GET" | "POST" | "PUT" | "DELETE" => {}
        "PATCH" => {
            return Err(FhirError::not_supported(format!(
                "Bundle.entry[{index}]: PATCH is not supported."
            )));
        }
        m => {
            return Err(FhirError::bad_request(format!(
                "Bundle.entry[{index}].request.method '{m}' is invalid."
            )));
        }
    }
    if needs_id && id.is_none() {
        return Err(FhirError::not_supported(format!(
            "Bundle.entry[{index}]: conditional {method} is not supported."
        )));
    }
    if method == "POST" && id.is_some() {
        return Err(FhirError::bad_request(format!(
            "Bundle.entry[{index}]: POST must target a resource type."
        )));
    }
    if let Some(i) = &id
        && !valid_id(i)
    {
        return Err(FhirError::bad_request(format!(
            "Bundle.entry[{index}]: invalid id '{i}'."
        )));
    }
    let resource = e.get("resource").cloned();
    if matches!(method.as_str(), "POST" | "PUT") && resource.is_none() {
        return Err(FhirError::bad_request(format!(
            "Bundle.entry[{index}] is missing the 'resource' element."
        )));
    }
    Ok(Req {
        method,
        rtype,
        id,
        vid,
        query: parse_query(q),
        if_match: req
            .get("ifMatch")
            .and_then(Value::as_str)
            .map(str::to_string),
        resource,
    })
}

fn execute(
    store: &mut Store,
    base: &str,
    r: &Req,
    forced_id: Option<&str>,
    strict: bool,
) -> Result<OpResult, FhirError> {
    let id = r.id.as_deref().unwrap_or("");
    match r.method.as_str() {
        "POST" => op_create(
            store,
            base,
            &r.rtype,
            r.resource.as_ref().unwrap_or(&Value::Null),
            forced_id,
        ),
        "PUT" => op_update(
            store,
            base,
            &r.rtype,
            id,
            r.resource.as_ref().unwrap_or(&Value::Null),
            r.if_match.as_deref(),
        ),
        "DELETE" => op_delete(store, &r.rtype, id, r.if_match.as_deref(), false),
        _ => match (&r.id, &r.vid) {
            (None, _) => op_search(store, base, &r.rtype, &r.query, strict),
            (Some(i), None) => op_read(store, &r.rtype, i),
            (Some(i), Some(v)) => op_vread(store, &r.rtype, i, v),
        },
    }
}

fn response_entry(base: &str, r: &OpResult) -> Value {
    let mut e = json!({});
    if let Some(b) = &r.body {
        if b.get("id").is_some() && b.get("resourceType").and_then(Value::as_str) != Some("Bundle")
        {
            e["fullUrl"] = json!(super::search::full_url(base, b));
        }
        e["resource"] = b.clone();
    }
    let mut resp = json!({"status": status_line(r.status)});
    if let Some(l) = &r.location {
        resp["location"] = json!(l);
    }
    if let Some(t) = &r.etag {
        resp["etag"] = json!(t);
    }
    if let Some(m) = r.last_modified {
        resp["lastModified"] = json!(fhir_instant(m));
    }
    e["response"] = resp;
    e
}

fn error_entry(err: &FhirError) -> Value {
    json!({"response": {"status": status_line(err.status), "outcome": err.outcome()}})
}

/// Replaces every `reference` string found in `map` (recursively).
fn rewrite_refs(v: &mut Value, map: &HashMap<String, String>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k == "reference"
                    && let Value::String(s) = child
                    && let Some(new) = map.get(s.as_str())
                {
                    *s = new.clone();
                } else {
                    rewrite_refs(child, map);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rewrite_refs(c, map)),
        _ => {}
    }
}

fn bundle_of(kind: &str, entries: Vec<Value>) -> Value {
    json!({
        "resourceType": "Bundle",
        "id": new_guid(),
        "meta": {"lastUpdated": fhir_instant(chrono::Utc::now())},
        "type": kind,
        "entry": entries
    })
}

/// Processes a posted batch/transaction Bundle.
pub(super) fn process(
    store: &mut Store,
    base: &str,
    bundle: &Value,
    strict: bool,
) -> Result<Value, FhirError> {
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(FhirError::bad_request(
            "The request body must be a Bundle resource of type 'batch' or 'transaction'.",
        ));
    }
    let kind = bundle.get("type").and_then(Value::as_str).unwrap_or("");
    let entries: Vec<Value> = bundle
        .get("entry")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match kind {
        "batch" => {
            let mut out = Vec::with_capacity(entries.len());
            for (i, e) in entries.iter().enumerate() {
                let result = parse_entry(e, i).and_then(|r| execute(store, base, &r, None, strict));
                out.push(match result {
                    Ok(r) => response_entry(base, &r),
                    Err(err) => error_entry(&err),
                });
            }
            Ok(bundle_of("batch-response", out))
        }
        "transaction" => transaction(store, base, &entries, strict),
        other => Err(FhirError::bad_request(format!(
            "Bundle type '{other}' is not supported; expected 'batch' or 'transaction'."
        ))),
    }
}

fn transaction(
    store: &mut Store,
    base: &str,
    entries: &[Value],
    strict: bool,
) -> Result<Value, FhirError> {
    let mut reqs = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        reqs.push(parse_entry(e, i)?);
    }
    // Assign ids for creates and map urn:uuid full URLs to them.
    let mut map: HashMap<String, String> = HashMap::new();
    let mut forced: Vec<Option<String>> = vec![None; reqs.len()];
    let mut touched = HashSet::new();
    for (i, (e, r)) in entries.iter().zip(&reqs).enumerate() {
        let full_url = e.get("fullUrl").and_then(Value::as_str);
        let target = match r.method.as_str() {
            "POST" => {
                let id = new_guid();
                forced[i] = Some(id.clone());
                Some(format!("{}/{id}", r.rtype))
            }
            "PUT" | "DELETE" => r.id.as_ref().map(|id| format!("{}/{id}", r.rtype)),
            _ => None,
        };
        if let Some(t) = &target
            && r.method != "POST"
            && !touched.insert(t.clone())
        {
            return Err(FhirError::bad_request(format!(
                "Bundle contains multiple entries that refer to the same resource '{t}'."
            )));
        }
        if let (Some(fu), Some(t)) = (full_url, target)
            && fu.starts_with("urn:uuid:")
            && map.insert(fu.to_string(), t).is_some()
        {
            return Err(FhirError::bad_request(format!(
                "Bundle contains duplicate fullUrl '{fu}'."
            )));
        }
    }
    let mut work = store.clone();
    let mut results: Vec<Option<OpResult>> = vec![None; reqs.len()];
    // FHIR processing order: DELETE, POST, PUT, GET.
    for phase in ["DELETE", "POST", "PUT", "GET"] {
        for (i, r) in reqs.iter().enumerate() {
            if r.method != phase {
                continue;
            }
            let mut r = r.clone();
            if let Some(res) = r.resource.as_mut() {
                rewrite_refs(res, &map);
            }
            match execute(&mut work, base, &r, forced[i].as_deref(), strict) {
                Ok(out) => results[i] = Some(out),
                Err(err) => {
                    let mut err = err;
                    err.issue.diagnostics = format!(
                        "Transaction failed on '{}' for the requested url '/{}{}'. {}",
                        r.method,
                        r.rtype,
                        r.id.as_ref().map(|i| format!("/{i}")).unwrap_or_default(),
                        err.issue.diagnostics
                    );
                    return Err(err);
                }
            }
        }
    }
    *store = work;
    let out = results
        .iter()
        .map(|r| {
            r.as_ref()
                .map(|r| response_entry(base, r))
                .unwrap_or_else(|| json!({}))
        })
        .collect();
    Ok(bundle_of("transaction-response", out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_resolves_urns_and_rolls_back() {
        let mut store = Store::default();
        let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111",
             "resource": {"resourceType": "Patient", "name": [{"family": "Test"}]},
             "request": {"method": "POST", "url": "Patient"}},
            {"resource": {"resourceType": "Observation", "status": "final",
                          "subject": {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"}},
             "request": {"method": "POST", "url": "Observation"}}
        ]});
        let out = process(&mut store, "http://x", &tx, false).expect("tx");
        let pid = out["entry"][0]["resource"]["id"]
            .as_str()
            .expect("id")
            .to_string();
        assert_eq!(
            out["entry"][1]["resource"]["subject"]["reference"],
            format!("Patient/{pid}")
        );
        assert_eq!(out["entry"][0]["response"]["status"], "201 Created");

        let bad = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}},
            {"resource": {"resourceType": "Patient", "gender": "x"}, "request": {"method": "POST", "url": "Patient"}}
        ]});
        assert!(process(&mut store, "http://x", &bad, false).is_err());
        assert_eq!(store.all_live("Patient").len(), 1);
    }
}
