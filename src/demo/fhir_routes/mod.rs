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
use super::store::{WRITABLE, is_supported};
use super::util::{http_date, parse_query};
use super::{AppState, HealthFault, auth, bundle, export, metadata, ops, validate};

mod checks;
mod interactions;

use checks::content_type_ok;
pub(super) use checks::{parse_json, prefer, typed_object, valid_id, validate};
pub(super) use interactions::{
    op_create, op_delete, op_history, op_read, op_search, op_update, op_vread,
};
use interactions::{op_everything, system_count};

/// The result of one interaction, shared by REST handlers and batch entries.
#[derive(Debug, Clone)]
pub(super) struct OpResult {
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

    pub(super) fn into_response(self) -> Response {
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
pub(super) async fn dispatch(
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
pub(super) fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}
