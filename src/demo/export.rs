//! Bulk `$export` (system, Patient, Group) in the asynchronous request
//! pattern: kick-off validation like Azure (microsoft/fhir-server
//! `ExportController.cs`, `ValidateExportRequestFilterAttribute.cs`), a status
//! URL whose answers follow job progress and the fault switches
//! (`GetExportRequestHandler.cs`: 202 while running, 200 + manifest with
//! `requiresAccessToken: false` when done), and NDJSON files written to the
//! storage stand-in when the job completes. The data snapshot is taken at
//! kick-off.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::fhir_routes::{empty, prefer};
use super::outcome::{FhirError, Issue, fhir_json, outcome};
use super::search::{self, Filter};
use super::store::{Store, TYPES};
use super::util::{fhir_instant, parse_date_range, parse_query};
use super::{AppState, storage};

/// Bounds of `_maxCount` (resources per query), as `ExportJobRecord.cs` checks them.
const MAX_COUNT_RANGE: std::ops::RangeInclusive<u64> = 1..=10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Scope {
    System,
    Patient,
    Group(String),
}

#[derive(Debug)]
struct Job {
    started: Instant,
    transaction_time: DateTime<Utc>,
    request: String,
    /// type -> ndjson bytes and resource count
    files: BTreeMap<String, (Vec<u8>, usize)>,
    polls: u32,
    /// Storage container and folder (`""` or `"{timestamp}-{id}/"`) of the outputs.
    container: String,
    folder: String,
    /// The files have been written to the storage stand-in.
    committed: bool,
    /// `_anonymizationConfig` and `_anonymizationConfigEtag`, looked up when the job runs.
    anonymization: Option<(String, Option<String>)>,
}

#[derive(Debug, Default)]
pub(super) struct ExportState {
    next_id: u64,
    jobs: HashMap<u64, Job>,
}

fn unsupported_param(name: &str) -> FhirError {
    // Microsoft.Health.Fhir.Api Resources.resx `UnsupportedParameter`.
    FhirError::bad_request(format!("The \"{name}\" parameter is not supported."))
}

/// Which extra versions an export carries (`includeAssociatedData`).
#[derive(Debug, Clone, Copy, Default)]
struct Associated {
    history: bool,
    deleted: bool,
}

/// Handles `GET [base]/$export`, `/Patient/$export`, `/Group/{id}/$export`.
pub(super) fn kickoff(
    st: &AppState,
    scope: Scope,
    query: &[(String, String)],
    headers: &HeaderMap,
    request_url: &str,
) -> Result<Response, FhirError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.trim() != "application/fhir+json" {
        return Err(FhirError::bad_request(format!(
            "The Accept header value '{accept}' is not supported for $export; it must be 'application/fhir+json'."
        )));
    }
    if !prefer(headers).respond_async {
        return Err(FhirError::bad_request(
            "The Prefer header must contain 'respond-async' for $export.",
        ));
    }
    let mut types: Option<Vec<String>> = None;
    let mut since = None;
    let mut till = None;
    let mut type_filters: Vec<String> = Vec::new();
    let mut container: Option<String> = None;
    let mut associated = Associated::default();
    let mut anon_config: Option<String> = None;
    let mut anon_etag: Option<String> = None;
    for (k, v) in query {
        match k.as_str() {
            "_type" => {
                types = Some(
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                );
            }
            "_since" | "_till" => {
                let t = parse_date_range(v)
                    .ok_or_else(|| {
                        FhirError::bad_request(format!(
                            "The value '{v}' of parameter '{k}' is not a valid instant."
                        ))
                    })?
                    .start;
                if k == "_since" {
                    since = Some(t)
                } else {
                    till = Some(t)
                }
            }
            "_typeFilter" => type_filters.extend(
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            ),
            "_container" => {
                if !storage::container_name_ok(v) {
                    return Err(FhirError::bad_request(format!(
                        "The container name '{v}' is invalid."
                    )));
                }
                container = Some(v.clone());
            }
            // System level only (ExportController.Export binds it, the others do not).
            "includeAssociatedData" if scope == Scope::System => {
                for part in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match part {
                        "_history" => associated.history = true,
                        "_deleted" => associated.deleted = true,
                        _ => {
                            return Err(FhirError::bad_request(
                                "The export parameter \"includeAssociatedData\" contains an invalid value. Supported values are: _history, _deleted. ",
                            ));
                        }
                    }
                }
            }
            "_maxCount" => {
                let ok = v.parse::<u64>().is_ok_and(|n| MAX_COUNT_RANGE.contains(&n));
                if !ok {
                    return Err(FhirError::bad_request(format!(
                        "Export operation parameter 'MaximumNumberOfResourcesPerQuery' was out of the range of valid values. Please specify a different value within a range '{}' - '{}'.",
                        MAX_COUNT_RANGE.start(),
                        MAX_COUNT_RANGE.end()
                    )));
                }
            }
            "_outputFormat" => {
                if !matches!(
                    v.as_str(),
                    "application/fhir+ndjson" | "application/ndjson" | "ndjson"
                ) {
                    return Err(FhirError::bad_request(format!(
                        "The _outputFormat '{v}' is not supported."
                    )));
                }
            }
            "_anonymizationConfig" => anon_config = Some(v.trim().to_string()),
            "_anonymizationConfigEtag" => anon_etag = Some(v.trim().to_string()),
            other => return Err(unsupported_param(other)),
        }
    }
    let anonymization = check_anonymization(&scope, anon_config, anon_etag, container.is_some())?;
    let compartment: Vec<&str> = std::iter::once("Patient")
        .chain(search::COMPARTMENT_TYPES.iter().copied())
        .collect();
    let allowed: &[&str] = if scope == Scope::System {
        TYPES
    } else {
        &compartment
    };
    if let Some(ts) = &types
        && let Some(bad) = ts.iter().find(|t| !allowed.contains(&t.as_str()))
    {
        return Err(FhirError::bad_request(format!(
            "The resource type '{bad}' in '_type' is not supported for this export."
        )));
    }
    if (associated.history || associated.deleted) && !type_filters.is_empty() {
        return Err(FhirError::bad_request(
            "The request \"_typeFilter\" cannot be used with an export request with historical or soft deleted resources.",
        ));
    }
    if !type_filters.is_empty() && types.is_none() {
        return Err(FhirError::bad_request(
            "The '_typeFilter' parameter requires the '_type' parameter.",
        ));
    }
    let mut filters: HashMap<String, Vec<Filter>> = HashMap::new();
    for tf in &type_filters {
        let (t, q) = tf.split_once('?').unwrap_or((tf.as_str(), ""));
        if !types.as_ref().is_some_and(|ts| ts.iter().any(|x| x == t)) {
            return Err(FhirError::bad_request(format!(
                "The type '{t}' in '_typeFilter' must also be listed in '_type'."
            )));
        }
        filters
            .entry(t.to_string())
            .or_default()
            .push(search::filter_only(t, &parse_query(q))?);
    }
    let types: Vec<String> =
        types.unwrap_or_else(|| allowed.iter().map(|s| s.to_string()).collect());
    let store = st.store.read().unwrap_or_else(|e| e.into_inner());
    let patients = patient_scope(&store, &scope)?;
    let mut files = BTreeMap::new();
    for t in &types {
        let mut items = store.all_live(t);
        if associated.history || associated.deleted {
            items.extend(store.associated_versions(t, associated.history, associated.deleted));
        }
        items.sort_by_key(|(lu, _)| *lu);
        let mut data = Vec::new();
        let mut n = 0;
        for (lu, r) in items {
            if since.is_some_and(|s| lu < s) || till.is_some_and(|e| lu >= e) {
                continue;
            }
            if let Some(fs) = filters.get(t.as_str())
                && !fs.iter().any(|f| f.matches(&r))
            {
                continue;
            }
            if let Some(ps) = &patients {
                let in_scope = if t == "Patient" {
                    r.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|id| ps.contains(id))
                } else {
                    search::patient_ref(&r)
                        .and_then(|s| s.strip_prefix("Patient/"))
                        .is_some_and(|id| ps.contains(id))
                };
                if !in_scope {
                    continue;
                }
            }
            let r = if anonymization.is_some() {
                std::sync::Arc::new(redact(&r))
            } else {
                r
            };
            data.extend_from_slice(r.to_string().as_bytes());
            data.push(b'\n');
            n += 1;
        }
        if n > 0 {
            files.insert(t.clone(), (data, n));
        }
    }
    drop(store);
    let mut ex = st.exports.lock().unwrap_or_else(|e| e.into_inner());
    ex.next_id += 1;
    let id = ex.next_id;
    let transaction_time = Utc::now();
    // ExportOrchestratorJob.cs: without `_container` the job writes to a
    // container of its own (`export-{id}`); with one, into a folder
    // `{yyyyMMddTHHmmss}-{id}/` of that container.
    let (container, folder) = match container {
        Some(c) => (
            c,
            format!("{}-{id}/", transaction_time.format("%Y%m%dT%H%M%S")),
        ),
        None => (format!("export-{id}"), String::new()),
    };
    ex.jobs.insert(
        id,
        Job {
            started: Instant::now(),
            transaction_time,
            request: request_url.to_string(),
            files,
            polls: 0,
            container,
            folder,
            committed: false,
            anonymization,
        },
    );
    let mut resp = empty(StatusCode::ACCEPTED);
    if let Ok(v) = HeaderValue::from_str(&format!("{}/_operations/export/{id}", st.base)) {
        resp.headers_mut().insert(header::CONTENT_LOCATION, v);
    }
    Ok(resp)
}

/// Storage container Azure reads anonymization configurations from
/// (`AnonymizationConfigurationArtifactProvider.cs`).
pub(crate) const ANONYMIZATION_CONTAINER: &str = "anonymization";

/// `_anonymizationConfig` / `_anonymizationConfigEtag` at kick-off. Refused below system level,
/// as anonymized export is declared for the system level only (fhir-server
/// `Data/OperationDefinition/anonymized-export.json`: `type` and `instance` false), and with
/// `ExportController.ValidateForAnonymizedExport`'s two messages (Resources.resx
/// `ConfigLocationRequiredForAnonymizedExport`, `ContainerIsRequiredForAnonymizedExport`).
fn check_anonymization(
    scope: &Scope,
    config: Option<String>,
    etag: Option<String>,
    has_container: bool,
) -> Result<Option<(String, Option<String>)>, FhirError> {
    let config = config.filter(|c| !c.is_empty());
    let etag = etag.filter(|e| !e.is_empty());
    if config.is_none() && etag.is_none() {
        return Ok(None);
    }
    if *scope != Scope::System {
        return Err(FhirError::bad_request(
            "Anonymized export is only supported at system level ($export), not for Patient or Group exports.",
        ));
    }
    let Some(config) = config else {
        return Err(FhirError::bad_request(
            "Missing '_anonymizationConfig' for anonymized export",
        ));
    };
    if !has_container {
        return Err(FhirError::bad_request(
            "Missing '_container' for anonymized export",
        ));
    }
    Ok(Some((config, etag)))
}

/// The configuration is in the storage stand-in's `anonymization` container (with the ETag,
/// when one was given); otherwise the job fails as Azure's does (`ExportJobTask.cs`,
/// Microsoft.Health.Fhir.Azure Resources.resx `AnonymizationConfigurationNotFound`).
fn config_found(st: &AppState, name: &str, etag: Option<&str>) -> Result<(), FhirError> {
    let blobs = st.blobs.read().unwrap_or_else(|e| e.into_inner());
    match blobs.get(ANONYMIZATION_CONTAINER, name) {
        None => Err(FhirError::bad_request(format!(
            "Anonymization configuration '{name}' not found. "
        ))),
        Some(b) if etag.is_some_and(|t| t.trim_matches('"') != b.etag.trim_matches('"')) => {
            Err(FhirError::bad_request(format!(
                "The ETag of anonymization configuration '{name}' does not match: it is {}.",
                b.etag
            )))
        }
        Some(_) => Ok(()),
    }
}

/// The demo's de-identification, whatever the configuration says: the elements that name or
/// reach a person are removed and the resource is labelled REDACTED, as the anonymizer's
/// `redact` method does.
fn redact(r: &Value) -> Value {
    let mut r = r.clone();
    if let Some(o) = r.as_object_mut() {
        for k in [
            "name",
            "telecom",
            "address",
            "identifier",
            "photo",
            "contact",
            "text",
        ] {
            o.remove(k);
        }
        let meta = o.entry("meta").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert(
                "security".into(),
                json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "REDACTED"}]),
            );
        }
    }
    r
}

/// A configuration to try anonymized export with (the sample's shape from Azure's
/// "Export de-identified data" page).
pub(crate) fn seed_anonymization_config(blobs: &mut storage::Blobs) {
    let config = json!({
        "fhirVersion": "R4",
        "processingError": "raise",
        "fhirPathRules": [
            {"path": "nodesByType('HumanName')", "method": "redact"},
            {"path": "nodesByType('Address')", "method": "redact"},
            {"path": "Resource.id", "method": "cryptoHash"}
        ],
        "parameters": {"dateShiftKey": "", "cryptoHashKey": "", "enablePartialAgesForRedact": true}
    });
    blobs.put(
        ANONYMIZATION_CONTAINER,
        "safe-harbor.json",
        config.to_string().into_bytes(),
        "application/json",
    );
}

/// Patient ids in scope (None = no restriction).
fn patient_scope(store: &Store, scope: &Scope) -> Result<Option<HashSet<String>>, FhirError> {
    match scope {
        Scope::System => Ok(None),
        Scope::Patient => Ok(Some(
            store
                .all_live("Patient")
                .iter()
                .filter_map(|(_, r)| r.get("id").and_then(Value::as_str).map(str::to_string))
                .collect(),
        )),
        Scope::Group(gid) => {
            let e = store
                .entry("Group", gid)
                .and_then(|e| e.current())
                .ok_or_else(|| FhirError::resource_not_found("Group", gid))?;
            let g = e
                .resource
                .as_ref()
                .ok_or_else(|| FhirError::gone("Group", gid))?;
            Ok(Some(
                g.get("member")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.pointer("/entity/reference").and_then(Value::as_str))
                    .filter_map(|r| r.strip_prefix("Patient/"))
                    .map(str::to_string)
                    .collect(),
            ))
        }
    }
}

fn job_not_found(id: &str) -> FhirError {
    FhirError::not_found(format!("The requested export job '{id}' was not found."))
}

/// `GET`/`DELETE [base]/_operations/export/{id}`.
pub(super) fn status(st: &AppState, method: &Method, id: &str) -> Result<Response, FhirError> {
    let n: u64 = id.parse().map_err(|_| job_not_found(id))?;
    let mut ex = st.exports.lock().unwrap_or_else(|e| e.into_inner());
    match *method {
        Method::DELETE => {
            ex.jobs.remove(&n).ok_or_else(|| job_not_found(id))?;
            Ok(empty(StatusCode::ACCEPTED))
        }
        Method::GET => {
            let job = ex.jobs.get_mut(&n).ok_or_else(|| job_not_found(id))?;
            job.polls += 1;
            let faults = &st.opts.faults;
            if faults.export_throttle && job.polls % 3 == 0 {
                let (code, issue) = if (job.polls / 3) % 2 == 1 {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        Issue::new(
                            "error",
                            "throttled",
                            "The request rate is too large. Please retry after some time.",
                        ),
                    )
                } else {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Issue::new(
                            "error",
                            "transient",
                            "The service is temporarily unavailable. Please retry after some time.",
                        ),
                    )
                };
                let mut resp = fhir_json(code, &outcome(&[issue]));
                let h = resp.headers_mut();
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                if code == StatusCode::TOO_MANY_REQUESTS {
                    h.insert("x-ms-retry-after-ms", HeaderValue::from_static("1000"));
                }
                return Ok(resp);
            }
            let total = st.opts.export_duration;
            let elapsed = job.started.elapsed();
            if elapsed < total {
                let mut resp = empty(StatusCode::ACCEPTED);
                if st.opts.progress_headers {
                    let pct = ((elapsed.as_secs_f64() / total.as_secs_f64().max(1e-9)) * 100.0)
                        .floor()
                        .min(99.0) as u32;
                    // Asks to be polled again within a few seconds, so progress is seen to move.
                    let remaining = (total - elapsed).as_secs_f64().ceil().clamp(1.0, 5.0) as u64;
                    let h = resp.headers_mut();
                    if let Ok(v) = HeaderValue::from_str(&format!("{pct}%")) {
                        h.insert("x-progress", v);
                    }
                    if let Ok(v) = HeaderValue::from_str(&remaining.to_string()) {
                        h.insert(header::RETRY_AFTER, v);
                    }
                }
                return Ok(resp);
            }
            if faults.export_fail {
                return Err(FhirError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "exception",
                    "The export job failed: the destination storage account could not be reached (simulated failure).",
                ));
            }
            if let Some((name, etag)) = &job.anonymization {
                config_found(st, name, etag.as_deref())?;
            }
            if !job.committed {
                let mut blobs = st.blobs.write().unwrap_or_else(|e| e.into_inner());
                for (t, (data, _)) in &job.files {
                    blobs.put(
                        &job.container,
                        &format!("{}{t}-1.ndjson", job.folder),
                        data.clone(),
                        "application/fhir+ndjson",
                    );
                }
                blobs.create_container(&job.container);
                job.committed = true;
            }
            let output: Vec<Value> = job
                .files
                .iter()
                .map(|(t, (_, count))| {
                    json!({
                        "type": t,
                        "url": format!("{}/{}/{}{t}-1.ndjson", st.storage_base, job.container, job.folder),
                        "count": count
                    })
                })
                .collect();
            let manifest = json!({
                "transactionTime": fhir_instant(job.transaction_time),
                "request": job.request,
                "requiresAccessToken": false,
                "output": output,
                "error": [],
                "issues": []
            });
            Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                manifest.to_string(),
            )
                .into_response())
        }
        _ => Err(FhirError::method_not_allowed(format!(
            "The method '{method}' is not allowed for the export status URL."
        ))),
    }
}
