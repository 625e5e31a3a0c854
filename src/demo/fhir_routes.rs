//! FHIR REST routing: one fallback handler that parses the path itself (so
//! unknown types and methods get OperationOutcomes, not axum defaults),
//! the bearer check, and the CRUD/history/search interactions.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::outcome::{FhirError, TOO_MANY_REQUESTS, fhir_json, throttled};
use super::store::{Store, WRITABLE, is_supported};
use super::util::{fhir_instant, http_date, new_guid, parse_date_range, parse_query};
use super::{AppState, HealthFault, auth, bundle, export, metadata, ops, search, validate};

/// The result of one interaction, shared by REST handlers and batch entries.
#[derive(Debug, Clone)]
pub struct OpResult {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
}

impl OpResult {
    fn ok(body: Value) -> Self {
        OpResult {
            status: StatusCode::OK,
            body: Some(body),
            etag: None,
            location: None,
            last_modified: None,
        }
    }

    pub fn into_response(self) -> Response {
        let mut resp = match &self.body {
            Some(b) => fhir_json(self.status, b),
            None => self.status.into_response(),
        };
        let h = resp.headers_mut();
        let mut set = |name: header::HeaderName, v: Option<String>| {
            if let Some(v) = v
                && let Ok(v) = HeaderValue::from_str(&v)
            {
                h.insert(name, v);
            }
        };
        set(header::ETAG, self.etag);
        set(header::LOCATION, self.location);
        set(header::LAST_MODIFIED, self.last_modified.map(http_date));
        resp
    }
}

/// Parsed `Prefer` header.
#[derive(Debug, Clone, Default)]
pub struct Prefer {
    pub strict: bool,
    pub minimal: bool,
    pub respond_async: bool,
}

pub fn prefer(headers: &HeaderMap) -> Prefer {
    let mut p = Prefer::default();
    for v in headers.get_all("prefer") {
        let Ok(s) = v.to_str() else { continue };
        for part in s.split([',', ';']) {
            let part = part.trim().to_ascii_lowercase();
            match part.replace(' ', "").as_str() {
                "handling=strict" => p.strict = true,
                "return=minimal" => p.minimal = true,
                "respond-async" => p.respond_async = true,
                _ => {}
            }
        }
    }
    p
}

/// Parses `W/"3"` or `"3"` from If-Match.
pub fn parse_etag(v: &str) -> Result<u64, FhirError> {
    let t = v.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.trim_matches('"').parse().map_err(|_| {
        FhirError::bad_request(format!(
            "The If-Match header value '{v}' is not a valid ETag."
        ))
    })
}

fn content_type_ok(headers: &HeaderMap) -> Result<(), FhirError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/fhir+json" || mime == "application/json" {
        Ok(())
    } else {
        Err(FhirError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            format!(
                "The content type '{ct}' is not supported. Supported content types are application/fhir+json and application/json."
            ),
        ))
    }
}

pub fn parse_json(body: &[u8]) -> Result<Value, FhirError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FhirError::bad_request("The request body is empty."));
    }
    serde_json::from_slice(body).map_err(|e| {
        FhirError::bad_request(format!("The request body could not be parsed as JSON: {e}"))
    })
}

/// The resource as an object and its `resourceType`, or the 400 for neither.
pub fn typed_object(res: &Value) -> Result<(&serde_json::Map<String, Value>, &str), FhirError> {
    let obj = res
        .as_object()
        .ok_or_else(|| FhirError::bad_request("The resource must be a JSON object."))?;
    let rt = obj
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            FhirError::bad_request("The resource is missing the required 'resourceType' element.")
        })?;
    Ok((obj, rt))
}

/// Minimal structural validation of a resource about to be stored.
pub fn validate(rtype: &str, res: &Value) -> Result<(), FhirError> {
    let (obj, rt) = typed_object(res)?;
    if rt != rtype {
        return Err(FhirError::bad_request(format!(
            "Resource type in the URL must match resourceType in the resource. Expected '{rtype}', found '{rt}'."
        )));
    }
    if let Some(id) = obj.get("id")
        && !id.as_str().is_some_and(valid_id)
    {
        return Err(FhirError::bad_request(
            "The resource id is invalid: ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'.",
        ));
    }
    if let Some(g) = obj.get("gender")
        && !matches!(g.as_str(), Some("male" | "female" | "other" | "unknown"))
    {
        return Err(FhirError::bad_request(format!(
            "The value {g} of Patient.gender is invalid; expected one of male, female, other, unknown."
        )));
    }
    for field in ["birthDate", "effectiveDateTime", "onsetDateTime"] {
        if let Some(d) = obj.get(field)
            && d.as_str().and_then(parse_date_range).is_none()
        {
            return Err(FhirError::bad_request(format!(
                "The value {d} of {rtype}.{field} is not a valid date."
            )));
        }
    }
    Ok(())
}

pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn writable(rtype: &str) -> Result<(), FhirError> {
    if WRITABLE.contains(&rtype) {
        Ok(())
    } else {
        Err(FhirError::method_not_allowed(format!(
            "Resource type '{rtype}' is read-only in the demo server."
        )))
    }
}

pub fn op_create(
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

pub fn op_update(
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

pub fn op_delete(
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

pub fn op_read(store: &Store, rtype: &str, id: &str) -> Result<OpResult, FhirError> {
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

pub fn op_vread(store: &Store, rtype: &str, id: &str, vid: &str) -> Result<OpResult, FhirError> {
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

pub fn op_history(
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

pub fn op_search(
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

fn op_everything(
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
fn system_count(
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
        "link": [{"relation": "self", "url": format!("{base}?{}", super::util::encode_query(params))}]
    })))
}

fn health(st: &AppState) -> Response {
    let (overall, detail_status, description, code) = match st.opts.faults.health {
        None => (
            "Healthy",
            "Healthy",
            "Successfully connected.",
            StatusCode::OK,
        ),
        Some(HealthFault::Degraded) => (
            "Degraded",
            "Degraded",
            "The data store is responding slowly.",
            StatusCode::OK,
        ),
        Some(HealthFault::Unhealthy) => (
            "Unhealthy",
            "Unhealthy",
            "Failed to connect to the data store.",
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    };
    let body = json!({
        "overallStatus": overall,
        "details": [
            {"name": "DataStoreHealthCheck", "status": detail_status, "description": description, "data": {}},
            {"name": "BehaviorHealthCheck", "status": "Healthy", "description": "Behaviors are healthy.", "data": {}}
        ]
    });
    (
        code,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn segments(path: &str) -> Vec<String> {
    let mut segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    canonical_literals(&mut segs);
    segs
}

/// Literal route segments, matched case-insensitively as ASP.NET Core routing
/// does for microsoft/fhir-server's `KnownRoutes.cs` templates (`/Metadata`,
/// `/$Export`, `/Health/Check`, `/_Operations/Export/1` all route). Resource
/// types stay case-sensitive (`ResourceTypesRouteConstraint`: `/patient` is
/// not a route), and ids are never touched: only `$…`/`_…` segments (which
/// no id can be) and the fixed first segments are folded.
fn canonical_literals(segs: &mut [String]) {
    const LITERALS: &[&str] = &[
        "$export",
        "$everything",
        "$validate",
        "$import",
        "$bulk-delete",
        "$reindex",
        "_history",
        "_search",
        "_operations",
    ];
    for s in segs.iter_mut() {
        if (s.starts_with('$') || s.starts_with('_'))
            && let Some(l) = LITERALS.iter().find(|l| l.eq_ignore_ascii_case(s))
        {
            *s = l.to_string();
        }
    }
    match segs {
        [first] if first.eq_ignore_ascii_case("metadata") => *first = "metadata".into(),
        [a, b] if a.eq_ignore_ascii_case("health") && b.eq_ignore_ascii_case("check") => {
            *a = "health".into();
            *b = "check".into();
        }
        [ops, kind, ..] if ops == "_operations" => {
            let lower = kind.to_ascii_lowercase();
            if ["export", "import", "bulk-delete", "reindex"].contains(&lower.as_str()) {
                *kind = lower;
            }
        }
        _ => {}
    }
}

/// The fallback handler serving every FHIR path.
pub async fn dispatch(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path().starts_with("/login/") {
        let body = json!({"error": "not_found", "error_description": format!("The sign-in endpoint '{}' does not exist.", uri.path())});
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body.to_string(),
        )
            .into_response();
    }
    let segs = segments(uri.path());
    let seg: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (&method, seg.as_slice()) {
        (&Method::GET, ["metadata"]) => {
            return fhir_json(StatusCode::OK, &metadata::capability_statement(&st));
        }
        (&Method::GET, ["health", "check"]) => return health(&st),
        _ => {}
    }
    if let Err(e) = auth::check_bearer(&st, &headers) {
        return e.into_response();
    }
    let mut ready = st.ready.clone();
    let _ = ready.wait_for(|r| *r).await;
    if !ops::lock_exempt(&method, &seg) && ops::initial_load_running(&st) {
        return ops::locked();
    }
    let query = parse_query(uri.query().unwrap_or(""));
    let is_search = matches!(
        (&method, seg.as_slice()),
        (&Method::GET, [t]) if !t.starts_with(['$', '_'])
    ) || matches!((&method, seg.as_slice()), (&Method::POST, [_, "_search"]));
    if is_search && st.opts.faults.export_throttle {
        let n = st
            .searches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        if n % 4 == 0 {
            return throttled(1500, TOO_MANY_REQUESTS);
        }
    }
    match route(&st, &method, &seg, &uri, &query, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn route(
    st: &AppState,
    method: &Method,
    seg: &[&str],
    uri: &Uri,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, FhirError> {
    let base = st.base.as_str();
    let pref = prefer(headers);
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    let request_url = match uri.query() {
        Some(q) => format!("{base}{}?{q}", uri.path()),
        None => format!("{base}{}", uri.path()),
    };
    let not_allowed = || {
        FhirError::method_not_allowed(format!(
            "The method '{method}' is not allowed for the requested route."
        ))
    };
    let finish = |r: OpResult, minimal: bool| {
        let mut r = r;
        if minimal {
            r.body = None;
        }
        r.into_response()
    };
    match seg {
        [] if method == Method::GET => {
            let store = st.store.read().unwrap_or_else(|e| e.into_inner());
            Ok(system_count(&store, base, query)?.into_response())
        }
        [] => {
            if method != Method::POST {
                return Err(not_allowed());
            }
            content_type_ok(headers)?;
            let b = parse_json(body)?;
            let mut store = st.store.write().unwrap_or_else(|e| e.into_inner());
            let out = bundle::process(&mut store, base, &b, pref.strict)?;
            Ok(fhir_json(StatusCode::OK, &out))
        }
        ["$export"] => {
            if method != Method::GET {
                return Err(not_allowed());
            }
            export::kickoff(st, export::Scope::System, query, headers, &request_url)
        }
        ["_operations", "export", id] => export::status(st, method, id),
        ["_operations", "import", id] => ops::status(st, ops::OpKind::Import, method, id),
        ["_operations", "bulk-delete", id] => ops::status(st, ops::OpKind::BulkDelete, method, id),
        ["_operations", "reindex", id] => ops::status(st, ops::OpKind::Reindex, method, id),
        ["$import"] => {
            if method != Method::POST {
                return Err(not_allowed());
            }
            content_type_ok(headers)?;
            ops::import_kickoff(st, headers, &parse_json(body)?, &request_url)
        }
        ["$bulk-delete"] => {
            if method != Method::DELETE {
                return Err(not_allowed());
            }
            ops::bulk_delete_kickoff(st, None, query, headers, &request_url)
        }
        ["$reindex"] => {
            if method != Method::POST {
                return Err(not_allowed());
            }
            let b = if body.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                Some(parse_json(body)?)
            };
            ops::reindex_kickoff(st, b.as_ref())
        }
        [rtype, rest @ ..] if !is_supported(rtype) => {
            let _ = rest;
            Err(FhirError::unknown_type(rtype))
        }
        [rtype] => match *method {
            Method::GET => {
                let store = st.store.read().unwrap_or_else(|e| e.into_inner());
                Ok(op_search(&store, base, rtype, query, pref.strict)?.into_response())
            }
            Method::POST => {
                content_type_ok(headers)?;
                let res = parse_json(body)?;
                let mut store = st.store.write().unwrap_or_else(|e| e.into_inner());
                Ok(finish(
                    op_create(&mut store, base, rtype, &res, None)?,
                    pref.minimal,
                ))
            }
            _ => Err(not_allowed()),
        },
        [rtype, "_search"] => {
            if method != Method::POST {
                return Err(not_allowed());
            }
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !ct
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
            {
                return Err(FhirError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "not-supported",
                    format!(
                        "The content type '{ct}' is not supported for _search. Use application/x-www-form-urlencoded."
                    ),
                ));
            }
            let mut params = query.to_vec();
            params.extend(parse_query(&String::from_utf8_lossy(body)));
            let store = st.store.read().unwrap_or_else(|e| e.into_inner());
            Ok(op_search(&store, base, rtype, &params, pref.strict)?.into_response())
        }
        ["Patient", "$export"] => {
            if method != Method::GET {
                return Err(not_allowed());
            }
            export::kickoff(st, export::Scope::Patient, query, headers, &request_url)
        }
        ["Group", id, "$export"] => {
            if method != Method::GET {
                return Err(not_allowed());
            }
            export::kickoff(
                st,
                export::Scope::Group(id.to_string()),
                query,
                headers,
                &request_url,
            )
        }
        ["Patient", id, "$everything"] => {
            if method != Method::GET {
                return Err(not_allowed());
            }
            let store = st.store.read().unwrap_or_else(|e| e.into_inner());
            Ok(op_everything(&store, base, id, query)?.into_response())
        }
        [rtype, "$bulk-delete"] => {
            if method != Method::DELETE {
                return Err(not_allowed());
            }
            if !WRITABLE.contains(rtype) {
                return Err(FhirError::bad_request(format!(
                    "Requested operation does not support resource type: {rtype}."
                )));
            }
            ops::bulk_delete_kickoff(st, Some(rtype), query, headers, &request_url)
        }
        [rtype, "$validate"] => {
            if method != Method::POST {
                return Err(not_allowed());
            }
            content_type_ok(headers)?;
            let b = parse_json(body)?;
            let res = validate::resource_of(&b)?.ok_or_else(|| {
                FhirError::bad_request(
                    "The Parameters resource has no 'resource' part to validate.",
                )
            })?;
            Ok(validation_outcome(validate::run(rtype, res)?))
        }
        [rtype, id, "$validate"] => {
            let stored;
            let res = match *method {
                Method::GET => None,
                Method::POST => {
                    content_type_ok(headers)?;
                    stored = parse_json(body)?;
                    validate::resource_of(&stored)?
                }
                _ => return Err(not_allowed()),
            };
            let issues = match res {
                Some(r) => validate::run(rtype, r)?,
                None => {
                    let store = st.store.read().unwrap_or_else(|e| e.into_inner());
                    let current = op_read(&store, rtype, id)?;
                    validate::run(rtype, current.body.as_ref().unwrap_or(&Value::Null))?
                }
            };
            Ok(validation_outcome(issues))
        }
        [rtype, id] if id.starts_with('$') || id.starts_with('_') => {
            let _ = rtype;
            Err(FhirError::not_supported(format!(
                "The operation or route '{id}' is not supported."
            )))
        }
        [rtype, id] => match *method {
            Method::GET => {
                let store = st.store.read().unwrap_or_else(|e| e.into_inner());
                let r = op_read(&store, rtype, id)?;
                let inm = headers
                    .get(header::IF_NONE_MATCH)
                    .and_then(|v| v.to_str().ok());
                if let (Some(inm), Some(etag)) = (inm, &r.etag)
                    && inm.trim() == etag
                {
                    let mut resp = StatusCode::NOT_MODIFIED.into_response();
                    if let Ok(v) = HeaderValue::from_str(etag) {
                        resp.headers_mut().insert(header::ETAG, v);
                    }
                    return Ok(resp);
                }
                Ok(r.into_response())
            }
            Method::PUT => {
                content_type_ok(headers)?;
                let res = parse_json(body)?;
                let mut store = st.store.write().unwrap_or_else(|e| e.into_inner());
                Ok(finish(
                    op_update(&mut store, base, rtype, id, &res, if_match)?,
                    pref.minimal,
                ))
            }
            Method::DELETE => {
                let hard = query.iter().any(|(k, v)| k == "hardDelete" && v == "true");
                let mut store = st.store.write().unwrap_or_else(|e| e.into_inner());
                Ok(op_delete(&mut store, rtype, id, if_match, hard)?.into_response())
            }
            _ => Err(not_allowed()),
        },
        [rtype, id, "_history"] => {
            if method != Method::GET {
                return Err(not_allowed());
            }
            let store = st.store.read().unwrap_or_else(|e| e.into_inner());
            Ok(op_history(&store, base, rtype, id, query)?.into_response())
        }
        [rtype, id, "_history", vid] => {
            if method != Method::GET {
                return Err(not_allowed());
            }
            let store = st.store.read().unwrap_or_else(|e| e.into_inner());
            Ok(op_vread(&store, rtype, id, vid)?.into_response())
        }
        _ => Err(FhirError::not_found("The requested route was not found.")),
    }
}

/// The `$validate` answer: 200 with the OperationOutcome of the issues.
fn validation_outcome(issues: Vec<super::outcome::Issue>) -> Response {
    fhir_json(StatusCode::OK, &super::outcome::outcome(&issues))
}

/// Builds a plain response with the given status and no body (used by export).
pub fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}
