//! The interactions: create, update, delete, read, vread, history, search, $everything and the
//! system-level count.

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use super::checks::parse_etag;
use super::{OpResult, validate};
use crate::demo::outcome::FhirError;
use crate::demo::search;
use crate::demo::store::{Store, WRITABLE, is_supported};
use crate::demo::util::{fhir_instant, new_guid, parse_date_range};

fn writable(rtype: &str) -> Result<(), FhirError> {
    if WRITABLE.contains(&rtype) {
        Ok(())
    } else {
        Err(FhirError::method_not_allowed(format!(
            "Resource type '{rtype}' is read-only in the demo server."
        )))
    }
}

pub(crate) fn op_create(
    store: &mut Store,
    base: &str,
    rtype: &str,
    res: &Value,
    forced_id: Option<&str>,
) -> Result<OpResult, FhirError> {
    writable(rtype)?;
    validate(rtype, res)?;
    let id = forced_id.map(str::to_string).unwrap_or_else(new_guid);
    let (v, _) = store.put(rtype, &id, res, "POST");
    Ok(OpResult {
        status: StatusCode::CREATED,
        body: v.resource.as_deref().cloned(),
        etag: Some(v.etag()),
        location: Some(format!("{base}/{rtype}/{id}/_history/{}", v.vid)),
        last_modified: Some(v.last_updated),
    })
}

pub(crate) fn op_update(
    store: &mut Store,
    base: &str,
    rtype: &str,
    id: &str,
    res: &Value,
    if_match: Option<&str>,
) -> Result<OpResult, FhirError> {
    writable(rtype)?;
    validate(rtype, res)?;
    match res.get("id").and_then(Value::as_str) {
        None => {
            return Err(FhirError::bad_request(
                "The resource id is missing from the request body.",
            ));
        }
        Some(body_id) if body_id != id => {
            return Err(FhirError::bad_request(format!(
                "The id '{body_id}' in the request body does not match the id '{id}' in the URL."
            )));
        }
        _ => {}
    }
    if let Some(m) = if_match {
        let wanted = parse_etag(m)?;
        let current = store
            .entry(rtype, id)
            .and_then(|e| e.current())
            .filter(|v| v.resource.is_some());
        match current {
            None => return Err(FhirError::resource_not_found(rtype, id)),
            Some(v) if v.vid != wanted => {
                return Err(FhirError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "conflict",
                    format!(
                        "The supplied version '{wanted}' did not match the current version '{}' of resource type '{rtype}' with id '{id}'.",
                        v.vid
                    ),
                ));
            }
            _ => {}
        }
    }
    let (v, created) = store.put(rtype, id, res, "PUT");
    Ok(OpResult {
        status: if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        body: v.resource.as_deref().cloned(),
        etag: Some(v.etag()),
        location: Some(format!("{base}/{rtype}/{id}/_history/{}", v.vid)),
        last_modified: Some(v.last_updated),
    })
}

pub(crate) fn op_delete(
    store: &mut Store,
    rtype: &str,
    id: &str,
    if_match: Option<&str>,
    hard: bool,
) -> Result<OpResult, FhirError> {
    writable(rtype)?;
    if let Some(m) = if_match {
        let wanted = parse_etag(m)?;
        if let Some(v) = store.entry(rtype, id).and_then(|e| e.current())
            && v.vid != wanted
        {
            return Err(FhirError::new(
                StatusCode::PRECONDITION_FAILED,
                "conflict",
                format!(
                    "The supplied version '{wanted}' did not match the current version '{}'.",
                    v.vid
                ),
            ));
        }
    }
    let v = store.delete(rtype, id);
    if hard {
        store.hard_delete(rtype, id);
    }
    Ok(OpResult {
        status: StatusCode::NO_CONTENT,
        body: None,
        etag: v.as_ref().filter(|_| !hard).map(|v| v.etag()),
        location: None,
        last_modified: None,
    })
}

pub(crate) fn op_read(store: &Store, rtype: &str, id: &str) -> Result<OpResult, FhirError> {
    let v = store
        .entry(rtype, id)
        .and_then(|e| e.current())
        .ok_or_else(|| FhirError::resource_not_found(rtype, id))?;
    let res = v
        .resource
        .as_ref()
        .ok_or_else(|| FhirError::gone(rtype, id))?;
    Ok(OpResult {
        status: StatusCode::OK,
        body: Some((**res).clone()),
        etag: Some(v.etag()),
        location: None,
        last_modified: Some(v.last_updated),
    })
}

pub(crate) fn op_vread(
    store: &Store,
    rtype: &str,
    id: &str,
    vid: &str,
) -> Result<OpResult, FhirError> {
    let not_found = || {
        FhirError::not_found(format!(
            "Resource type '{rtype}' with id '{id}' and version '{vid}' couldn't be found."
        ))
    };
    let n: u64 = vid.parse().map_err(|_| not_found())?;
    let v = store
        .entry(rtype, id)
        .and_then(|e| e.versions.iter().find(|v| v.vid == n))
        .ok_or_else(not_found)?;
    let res = v
        .resource
        .as_ref()
        .ok_or_else(|| FhirError::gone(rtype, id))?;
    Ok(OpResult {
        status: StatusCode::OK,
        body: Some((**res).clone()),
        etag: Some(v.etag()),
        location: None,
        last_modified: Some(v.last_updated),
    })
}

pub(crate) fn op_history(
    store: &Store,
    base: &str,
    rtype: &str,
    id: &str,
    params: &[(String, String)],
) -> Result<OpResult, FhirError> {
    let entry = store
        .entry(rtype, id)
        .ok_or_else(|| FhirError::resource_not_found(rtype, id))?;
    let mut count = usize::MAX;
    let mut since = None;
    for (k, v) in params {
        match k.as_str() {
            "_count" => {
                count = v.parse().map_err(|_| {
                    FhirError::bad_request(format!(
                        "The '_count' parameter value '{v}' is invalid."
                    ))
                })?;
            }
            "_since" => {
                since = Some(
                    parse_date_range(v)
                        .ok_or_else(|| {
                            FhirError::bad_request(format!(
                                "The '_since' parameter value '{v}' is invalid."
                            ))
                        })?
                        .start,
                );
            }
            _ => {}
        }
    }
    let entries: Vec<Value> = entry
        .versions
        .iter()
        .rev()
        .filter(|v| since.is_none_or(|s| v.last_updated >= s))
        .take(count)
        .map(|v| {
            let url = format!("{rtype}/{id}");
            let mut e = json!({"fullUrl": format!("{base}/{url}")});
            if let Some(r) = &v.resource {
                e["resource"] = (**r).clone();
            }
            let (req_url, status) = match v.method {
                "POST" => (rtype.to_string(), "201 Created"),
                "DELETE" => (url.clone(), "204 No Content"),
                _ => (url.clone(), if v.vid == 1 { "201 Created" } else { "200 OK" }),
            };
            e["request"] = json!({"method": v.method, "url": req_url});
            e["response"] = json!({"status": status, "etag": v.etag(), "lastModified": fhir_instant(v.last_updated)});
            e
        })
        .collect();
    Ok(OpResult::ok(json!({
        "resourceType": "Bundle",
        "id": new_guid(),
        "meta": {"lastUpdated": fhir_instant(Utc::now())},
        "type": "history",
        "link": [{"relation": "self", "url": format!("{base}/{rtype}/{id}/_history")}],
        "entry": entries
    })))
}

pub(crate) fn op_search(
    store: &Store,
    base: &str,
    rtype: &str,
    params: &[(String, String)],
    strict: bool,
) -> Result<OpResult, FhirError> {
    if !is_supported(rtype) {
        return Err(FhirError::unknown_type(rtype));
    }
    Ok(OpResult::ok(search::run(
        store, base, rtype, params, strict,
    )?))
}

pub(super) fn op_everything(
    store: &Store,
    base: &str,
    id: &str,
    params: &[(String, String)],
) -> Result<OpResult, FhirError> {
    match store.entry("Patient", id).and_then(|e| e.current()) {
        None => return Err(FhirError::resource_not_found("Patient", id)),
        Some(v) if v.resource.is_none() => return Err(FhirError::gone("Patient", id)),
        _ => {}
    }
    let mut types: Option<Vec<String>> = None;
    let mut paging = Vec::new();
    for (k, v) in params {
        match k.as_str() {
            "_type" => {
                let ts: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(bad) = ts
                    .iter()
                    .find(|t| !is_supported(t) || t.as_str() == "Group")
                {
                    return Err(FhirError::bad_request(format!(
                        "The resource type '{bad}' in '_type' is not supported by $everything."
                    )));
                }
                types = Some(ts);
                paging.push((k.clone(), v.clone()));
            }
            "_count" | "ct" => paging.push((k.clone(), v.clone())),
            _ => {
                return Err(FhirError::not_supported(format!(
                    "The parameter '{k}' is not supported by $everything."
                )));
            }
        }
    }
    let mut q = search::parse(
        "Patient",
        &paging
            .iter()
            .filter(|(k, _)| k != "_type")
            .cloned()
            .collect::<Vec<_>>(),
        true,
    )?;
    if !paging.iter().any(|(k, _)| k == "_count") {
        q.count = 100;
    }
    q.link_params = paging.into_iter().filter(|(k, _)| k != "ct").collect();
    let all = search::compartment(store, id, types.as_deref());
    Ok(OpResult::ok(search::page_bundle(
        base,
        &format!("Patient/{id}/$everything"),
        &q,
        &all,
        |_| Vec::new(),
    )))
}

/// `GET [base]?…&_summary=count`: how many resources of every type match
/// (the dry run of a system-level `$bulk-delete`). Other system-level
/// searches are not modelled.
pub(super) fn system_count(
    store: &Store,
    base: &str,
    params: &[(String, String)],
) -> Result<OpResult, FhirError> {
    if !params.iter().any(|(k, v)| k == "_summary" && v == "count") {
        return Err(FhirError::not_supported(
            "The demo answers system-level searches only with _summary=count.",
        ));
    }
    let filters: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "_summary")
        .cloned()
        .collect();
    let mut total = 0;
    for t in WRITABLE {
        let f = search::filter_only(t, &filters)?;
        total += store
            .all_live(t)
            .iter()
            .filter(|(_, r)| f.matches(r))
            .count();
    }
    Ok(OpResult::ok(json!({
        "resourceType": "Bundle",
        "id": new_guid(),
        "meta": {"lastUpdated": fhir_instant(Utc::now())},
        "type": "searchset",
        "total": total,
        "link": [{"relation": "self", "url": format!("{base}?{}", super::super::util::encode_query(params))}]
    })))
}
