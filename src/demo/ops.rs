//! The service's other asynchronous operations, in Azure's shapes:
//! - `$import` (microsoft/fhir-server `ImportController.cs`,
//!   `GetImportRequestHandler.cs`, `ImportErrorSerializer.cs`,
//!   `InitialImportLockMiddleware.cs`): POST Parameters → 202 +
//!   `Content-Location: _operations/import/{id}`; polls 202 while running, 200
//!   with `output` / `error` (NDJSON OperationOutcomes on the storage
//!   stand-in, container `fhirlogs`); an InitialLoad locks writes (423) while
//!   it runs; cancelled → 400, cancel after completion → 409.
//! - `$bulk-delete` (`BulkDeleteController.cs`, `GetBulkDeleteHandler.cs`):
//!   DELETE `[base]/$bulk-delete?…` or `[type]/$bulk-delete?…` → 202; polls
//!   202 with `X-Progress: in progress` and a Parameters whose Issues say "Job
//!   In Progress", then 200 with `ResourceDeletedCount` parts per type;
//!   cancelled → 200 with a "Job Canceled" warning.
//! - `$reindex` (`ReindexController.cs`, `ReindexJobRecordExtensions.cs`):
//!   POST Parameters → 201 with the job as Parameters; status GETs answer 200
//!   with `status` Queued/Running/Completed and `progress`; DELETE → 202 with
//!   status Canceled.
//!
//! Each job runs for `--export-duration`; its effect is applied when a poll
//! first sees it due (the store changes at that moment).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::fhir_routes::{empty, prefer};
use super::outcome::{FhirError, fhir_json};
use super::search::{self, Filter};
use super::store::{Store, TYPES, WRITABLE, is_supported};
use super::util::fhir_instant;
use super::{AppState, storage};

/// Container Azure writes import error files to (`ImportErrorStoreFactory.cs`).
const ERROR_CONTAINER: &str = "fhirlogs";
/// Depth limit when walking a resource for references to remove.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpKind {
    Import,
    BulkDelete,
    Reindex,
}

impl OpKind {
    fn route(self) -> &'static str {
        match self {
            OpKind::Import => "import",
            OpKind::BulkDelete => "bulk-delete",
            OpKind::Reindex => "reindex",
        }
    }
}

#[derive(Debug)]
struct ImportInput {
    rtype: String,
    url: String,
    /// The blob's lines, or why it could not be read.
    data: Result<Vec<u8>, String>,
}

#[derive(Debug)]
struct DeleteSpec {
    types: Vec<String>,
    filters: HashMap<String, Filter>,
    hard: bool,
    purge_history: bool,
    remove_references: bool,
}

#[derive(Debug)]
enum Work {
    Import {
        inputs: Vec<ImportInput>,
        initial_load: bool,
    },
    BulkDelete(DeleteSpec),
    Reindex {
        types: Vec<String>,
        total: usize,
    },
}

#[derive(Debug)]
enum State {
    Running,
    Canceled,
    /// The final answer, kept for later polls.
    Done(Value),
}

#[derive(Debug)]
struct Op {
    kind: OpKind,
    started: Instant,
    queued: DateTime<Utc>,
    request: String,
    work: Work,
    state: State,
}

#[derive(Debug, Default)]
pub(super) struct OpsState {
    next_id: u64,
    jobs: HashMap<u64, Op>,
}

fn job_not_found(kind: OpKind, id: &str) -> FhirError {
    match kind {
        OpKind::Import => {
            FhirError::not_found(format!("The requested import job \"{id}\" was not found."))
        }
        _ => FhirError::not_found(format!("The requested job \"{id}\" was not found.")),
    }
}

fn param<'a>(params: &'a Value, name: &str) -> impl Iterator<Item = &'a Value> {
    let name = name.to_string();
    params
        .get("parameter")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
}

/// The string value of a part (`valueString`, `valueUri`, `valueCode`, …).
fn value_str(p: &Value) -> Option<&str> {
    [
        "valueString",
        "valueUri",
        "valueCode",
        "valueUrl",
        "valueCanonical",
    ]
    .iter()
    .find_map(|k| p.get(*k).and_then(Value::as_str))
}

fn part<'a>(p: &'a Value, name: &str) -> Option<&'a str> {
    p.get("part")
        .and_then(Value::as_array)?
        .iter()
        .find(|x| x.get("name").and_then(Value::as_str) == Some(name))
        .and_then(value_str)
}

fn invalid_value(name: &str) -> FhirError {
    FhirError::bad_request(format!(
        "Value of the following parameter {name} is invalid."
    ))
}

fn require_async(headers: &HeaderMap) -> Result<(), FhirError> {
    if prefer(headers).respond_async {
        Ok(())
    } else {
        Err(FhirError::bad_request(
            "The Prefer header must contain 'respond-async' for this operation.",
        ))
    }
}

fn accepted_at(st: &AppState, kind: OpKind, id: u64) -> Response {
    let mut resp = empty(StatusCode::ACCEPTED);
    if let Ok(v) = HeaderValue::from_str(&format!("{}/_operations/{}/{id}", st.base, kind.route()))
    {
        resp.headers_mut().insert(header::CONTENT_LOCATION, v);
    }
    resp
}

fn add_job(st: &AppState, kind: OpKind, request: &str, work: Work) -> u64 {
    let mut ops = st.ops.lock().unwrap_or_else(|e| e.into_inner());
    // Ids continue the export counter's style: small integers.
    ops.next_id += 1;
    let id = ops.next_id;
    ops.jobs.insert(
        id,
        Op {
            kind,
            started: Instant::now(),
            queued: Utc::now(),
            request: request.to_string(),
            work,
            state: State::Running,
        },
    );
    id
}

/// True while an InitialLoad import runs: writes answer 423.
pub(super) fn initial_load_running(st: &AppState) -> bool {
    let ops = st.ops.lock().unwrap_or_else(|e| e.into_inner());
    ops.jobs.values().any(|op| {
        matches!(op.state, State::Running)
            && matches!(
                op.work,
                Work::Import {
                    initial_load: true,
                    ..
                }
            )
            && op.started.elapsed() < st.opts.export_duration
    })
}

/// The 423 `InitialImportLockMiddleware.cs` sends (its own small JSON body).
pub(super) fn locked() -> Response {
    (
        StatusCode::LOCKED,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        r#"{"severity":"Error","code":"Locked","diagnostics":"Service is locked for initial import mode."}"#,
    )
        .into_response()
}

/// Requests an InitialLoad leaves alone: reads, `$import` itself, cancels.
pub(super) fn lock_exempt(method: &Method, seg: &[&str]) -> bool {
    *method == Method::GET
        || (*method == Method::POST && seg == ["$import"])
        || (*method == Method::DELETE && seg.first() == Some(&"_operations"))
}

// ---------------------------------------------------------------- $import

/// `POST [base]/$import`.
pub(super) fn import_kickoff(
    st: &AppState,
    headers: &HeaderMap,
    body: &Value,
    request_url: &str,
) -> Result<Response, FhirError> {
    require_async(headers)?;
    if body.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
        return Err(FhirError::bad_request(
            "Import request must be specified as a Paramters.  The body provided in this request is not valid. ",
        ));
    }
    let format = param(body, "inputFormat").next().and_then(value_str);
    if !format.is_some_and(|f| f.eq_ignore_ascii_case("application/fhir+ndjson")) {
        return Err(invalid_value("inputFormat"));
    }
    let mode = param(body, "mode").next().and_then(value_str).unwrap_or("");
    let initial_load = mode.eq_ignore_ascii_case("InitialLoad");
    if !initial_load && !mode.eq_ignore_ascii_case("IncrementalLoad") && !mode.is_empty() {
        return Err(FhirError::bad_request(
            "Import mode can be either \"InitialLoad\"or \"IncrementalLoad\". Please add appropriate mode value to parameters.",
        ));
    }
    let parts: Vec<&Value> = param(body, "input").collect();
    if parts.is_empty() {
        return Err(invalid_value("input"));
    }
    let mut seen = HashSet::new();
    let mut dupes = Vec::new();
    let mut inputs = Vec::new();
    let blobs = st.blobs.read().unwrap_or_else(|e| e.into_inner());
    for p in parts {
        let rtype = part(p, "type").unwrap_or("");
        let url = part(p, "url").ok_or_else(|| invalid_value("input.url"))?;
        if !seen.insert(url.to_string()) {
            dupes.push(url.to_string());
        }
        if !WRITABLE.contains(&rtype) {
            return Err(FhirError::bad_request(format!(
                "Requested operation does not support resource type: {rtype}."
            )));
        }
        let path = url
            .strip_prefix(&st.storage_base)
            .and_then(|p| p.strip_prefix('/'))
            .ok_or_else(|| {
                FhirError::bad_request(
                    "input.url must match the configured integration storage account endpoint.",
                )
            })?;
        let (container, blob) = path.split_once('/').unwrap_or((path, ""));
        let data = match blobs.get(container, blob) {
            None => Err(format!("The blob '{url}' could not be found.")),
            Some(b) => match part(p, "etag") {
                Some(tag) if tag.trim_matches('"') != b.etag.trim_matches('"') => Err(format!(
                    "The etag '{tag}' of '{url}' does not match the blob's etag {}.",
                    b.etag
                )),
                _ => Ok(b.data.to_vec()),
            },
        };
        inputs.push(ImportInput {
            rtype: rtype.to_string(),
            url: url.to_string(),
            data,
        });
    }
    drop(blobs);
    if !dupes.is_empty() {
        return Err(FhirError::bad_request(format!(
            "Import request cannot have duplicate files. Found duplicates: {}. ",
            dupes.join(", ")
        )));
    }
    let id = add_job(
        st,
        OpKind::Import,
        request_url,
        Work::Import {
            inputs,
            initial_load,
        },
    );
    Ok(accepted_at(st, OpKind::Import, id))
}

/// Imports one NDJSON file; returns (imported, error lines as OperationOutcomes).
fn import_file(store: &mut Store, input: &ImportInput, data: &[u8]) -> (usize, Vec<String>) {
    let mut ok = 0;
    let mut errors = Vec::new();
    let mut offset = 0usize;
    for (index, line) in data.split(|b| *b == b'\n').enumerate() {
        let start = offset;
        offset += line.len() + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let problem = match serde_json::from_slice::<Value>(line) {
            Err(e) => Some(format!("The resource could not be parsed: {e}")),
            Ok(res) => {
                let rt = res.get("resourceType").and_then(Value::as_str);
                let id = res.get("id").and_then(Value::as_str);
                match (rt, id) {
                    (Some(rt), _) if rt != input.rtype => Some(format!(
                        "The resource type '{rt}' does not match the input type '{}'.",
                        input.rtype
                    )),
                    (None, _) => Some("The resource has no resourceType.".to_string()),
                    (_, None) => {
                        Some("The resource has no id; import needs resource ids.".to_string())
                    }
                    (_, Some(id)) if !super::fhir_routes::valid_id(id) => {
                        Some(format!("The resource id '{id}' is invalid."))
                    }
                    (Some(rt), Some(id)) => match super::fhir_routes::validate(rt, &res) {
                        Err(e) => Some(e.issue.diagnostics),
                        Ok(()) => {
                            store.put(rt, id, &res, "PUT");
                            ok += 1;
                            None
                        }
                    },
                }
            }
        };
        if let Some(message) = problem {
            // ImportErrorSerializer.cs: one OperationOutcome per bad line.
            let oo = json!({
                "resourceType": "OperationOutcome",
                "issue": [{
                    "severity": "error",
                    "diagnostics": format!("Failed to process resource at line: {index} with stream start offset: {start}"),
                    "details": {"text": message}
                }]
            });
            errors.push(oo.to_string());
        }
    }
    (ok, errors)
}

fn finish_import(st: &AppState, op: &Op, id: u64) -> Result<Value, FhirError> {
    let Work::Import { inputs, .. } = &op.work else {
        return Ok(Value::Null);
    };
    if let Some(why) = inputs.iter().find_map(|i| i.data.as_ref().err()) {
        return Err(FhirError::bad_request(format!(
            "Import operation failed for reason: {why}"
        )));
    }
    let mut output = Vec::new();
    let mut error = Vec::new();
    let mut store = st.store.write().unwrap_or_else(|e| e.into_inner());
    for (n, input) in inputs.iter().enumerate() {
        let data = input.data.as_deref().unwrap_or(&[]);
        let (ok, errors) = import_file(&mut store, input, data);
        output.push(json!({"type": input.rtype, "count": ok, "inputUrl": input.url}));
        if !errors.is_empty() {
            let name = format!("{}{n}_{id}.ndjson", input.rtype);
            let mut body = errors.join("\n").into_bytes();
            body.push(b'\n');
            st.blobs.write().unwrap_or_else(|e| e.into_inner()).put(
                ERROR_CONTAINER,
                &name,
                body,
                "application/fhir+ndjson",
            );
            error.push(json!({
                "type": "OperationOutcome",
                "count": errors.len(),
                "inputUrl": input.url,
                "url": format!("{}/{ERROR_CONTAINER}/{name}", st.storage_base)
            }));
        }
    }
    Ok(json!({
        "transactionTime": fhir_instant(op.queued),
        "request": op.request,
        "output": output,
        "error": error
    }))
}

// ------------------------------------------------------------ $bulk-delete

/// `DELETE [base]/$bulk-delete` and `DELETE [type]/$bulk-delete`.
pub(super) fn bulk_delete_kickoff(
    st: &AppState,
    rtype: Option<&str>,
    query: &[(String, String)],
    headers: &HeaderMap,
    request_url: &str,
) -> Result<Response, FhirError> {
    require_async(headers)?;
    let flag = |v: &str| v.eq_ignore_ascii_case("true");
    let mut hard = false;
    let mut purge_history = false;
    let mut remove_references = false;
    let mut excluded: Vec<String> = Vec::new();
    let mut search_params = Vec::new();
    for (k, v) in query {
        match k.as_str() {
            "_hardDelete" | "hardDelete" => hard = flag(v),
            "_purgeHistory" => purge_history = flag(v),
            "_remove-references" => remove_references = flag(v),
            "excludedResourceTypes" => excluded.extend(
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            ),
            _ => search_params.push((k.clone(), v.clone())),
        }
    }
    if let Some(bad) = excluded.iter().find(|t| !is_supported(t)) {
        return Err(FhirError::bad_request(format!(
            "Requested operation does not support resource type: {bad}."
        )));
    }
    let types: Vec<String> = match rtype {
        Some(t) => vec![t.to_string()],
        None => WRITABLE
            .iter()
            .filter(|t| !excluded.iter().any(|x| x == *t))
            .map(|t| t.to_string())
            .collect(),
    };
    let mut filters = HashMap::new();
    for t in &types {
        // System level: only the common parameters make sense for every type.
        filters.insert(t.clone(), search::filter_only(t, &search_params)?);
    }
    let id = add_job(
        st,
        OpKind::BulkDelete,
        request_url,
        Work::BulkDelete(DeleteSpec {
            types,
            filters,
            hard,
            purge_history,
            remove_references,
        }),
    );
    Ok(accepted_at(st, OpKind::BulkDelete, id))
}

/// Drops `{"reference": …}` objects that point at a deleted resource.
fn strip_references(v: &mut Value, gone: &HashSet<String>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match v {
        Value::Object(map) => {
            if let Some(r) = map.get("reference").and_then(Value::as_str)
                && gone.contains(r)
            {
                map.remove("reference");
                map.insert("display".into(), json!("Referenced resource deleted"));
                return true;
            }
            let mut changed = false;
            for (_, child) in map.iter_mut() {
                changed |= strip_references(child, gone, depth + 1);
            }
            changed
        }
        Value::Array(items) => {
            let mut changed = false;
            for child in items.iter_mut() {
                changed |= strip_references(child, gone, depth + 1);
            }
            changed
        }
        _ => false,
    }
}

fn finish_bulk_delete(st: &AppState, spec: &DeleteSpec) -> Value {
    let mut store = st.store.write().unwrap_or_else(|e| e.into_inner());
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut gone = HashSet::new();
    for t in &spec.types {
        let Some(filter) = spec.filters.get(t) else {
            continue;
        };
        let ids: Vec<String> = store
            .all_live(t)
            .iter()
            .filter(|(_, r)| filter.matches(r))
            .filter_map(|(_, r)| r.get("id").and_then(Value::as_str).map(str::to_string))
            .collect();
        for id in &ids {
            if spec.hard {
                store.hard_delete(t, id);
            } else {
                store.delete(t, id);
                if spec.purge_history {
                    store.purge_history(t, id);
                }
            }
            gone.insert(format!("{t}/{id}"));
        }
        if !ids.is_empty() {
            *counts.entry(t.clone()).or_default() += ids.len() as u64;
        }
    }
    if spec.remove_references && !gone.is_empty() {
        for t in TYPES {
            for (_, r) in store.all_live(t) {
                let mut copy = (*r).clone();
                if strip_references(&mut copy, &gone, 0)
                    && let Some(id) = copy.get("id").and_then(Value::as_str).map(str::to_string)
                {
                    store.put(t, &id, &copy, "PUT");
                }
            }
        }
    }
    let mut params = Vec::new();
    if !counts.is_empty() {
        params.push(json!({
            "name": "ResourceDeletedCount",
            "part": counts.iter().map(|(t, n)| json!({"name": t, "valueInteger64": n.to_string()})).collect::<Vec<_>>()
        }));
    }
    json!({"resourceType": "Parameters", "parameter": params})
}

fn bulk_delete_status(body: &Value, issue: Option<(&str, &str, &str)>) -> Value {
    let mut b = body.clone();
    if let Some((severity, code, text)) = issue {
        let oo = json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "details": {"text": text}}]
        });
        let mut params = vec![json!({"name": "Issues", "resource": oo})];
        params.extend(
            b.get("parameter")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
        b["parameter"] = Value::Array(params);
    }
    b
}

// --------------------------------------------------------------- $reindex

/// `POST [base]/$reindex`.
pub(super) fn reindex_kickoff(st: &AppState, body: Option<&Value>) -> Result<Response, FhirError> {
    if let Some(b) = body
        && b.get("resourceType").and_then(Value::as_str) != Some("Parameters")
    {
        return Err(FhirError::bad_request(
            "The request body must be a Parameters resource.",
        ));
    }
    let types: Vec<String> = body
        .and_then(|b| param(b, "targetResourceTypes").next().and_then(value_str))
        .map(|s| s.split(',').map(|t| t.trim().to_string()).collect())
        .unwrap_or_else(|| TYPES.iter().map(|t| t.to_string()).collect());
    if let Some(bad) = types.iter().find(|t| !is_supported(t)) {
        return Err(FhirError::bad_request(format!(
            "Resource type '{bad}' is not supported."
        )));
    }
    let total = {
        let store = st.store.read().unwrap_or_else(|e| e.into_inner());
        types.iter().map(|t| store.all_live(t).len()).sum()
    };
    let id = add_job(st, OpKind::Reindex, "", Work::Reindex { types, total });
    let ops = st.ops.lock().unwrap_or_else(|e| e.into_inner());
    let body = ops
        .jobs
        .get(&id)
        .map(|op| reindex_record(st, id, op, "Queued"))
        .unwrap_or(Value::Null);
    drop(ops);
    let mut resp = fhir_json(StatusCode::CREATED, &body);
    if let Ok(v) = HeaderValue::from_str(&format!("{}/_operations/reindex/{id}", st.base)) {
        resp.headers_mut().insert(header::CONTENT_LOCATION, v);
    }
    Ok(resp)
}

fn reindex_record(st: &AppState, id: u64, op: &Op, status: &str) -> Value {
    let Work::Reindex { types, total } = &op.work else {
        return Value::Null;
    };
    let frac = (op.started.elapsed().as_secs_f64()
        / st.opts.export_duration.as_secs_f64().max(1e-9))
    .min(1.0);
    let frac = match status {
        "Completed" => 1.0,
        "Queued" => 0.0,
        _ => frac,
    };
    let done = (*total as f64 * frac).floor();
    let mut params = vec![
        json!({"name": "id", "valueString": id.to_string()}),
        json!({"name": "startTime", "valueDateTime": fhir_instant(op.queued)}),
        json!({"name": "lastModified", "valueDateTime": fhir_instant(Utc::now())}),
        json!({"name": "queuedTime", "valueDateTime": fhir_instant(op.queued)}),
        json!({"name": "totalResourcesToReindex", "valueDecimal": total}),
        json!({"name": "resourcesSuccessfullyReindexed", "valueDecimal": done}),
        json!({"name": "progress", "valueDecimal": (frac * 100.0).floor()}),
        json!({"name": "status", "valueString": status}),
        json!({"name": "maximumNumberOfResourcesPerQuery", "valueDecimal": 100}),
        json!({"name": "resources", "valueString": types.join(",")}),
    ];
    if status == "Completed" || status == "Canceled" {
        params.insert(
            2,
            json!({"name": "endTime", "valueDateTime": fhir_instant(Utc::now())}),
        );
    }
    json!({"resourceType": "Parameters", "id": id.to_string(), "parameter": params})
}

// ---------------------------------------------------------------- status

/// `GET`/`DELETE [base]/_operations/{import|bulk-delete|reindex}/{id}`.
pub(super) fn status(
    st: &AppState,
    kind: OpKind,
    method: &Method,
    id_text: &str,
) -> Result<Response, FhirError> {
    let id: u64 = id_text.parse().map_err(|_| job_not_found(kind, id_text))?;
    let mut ops = st.ops.lock().unwrap_or_else(|e| e.into_inner());
    let op = ops
        .jobs
        .get_mut(&id)
        .filter(|op| op.kind == kind)
        .ok_or_else(|| job_not_found(kind, id_text))?;
    let due = op.started.elapsed() >= st.opts.export_duration;
    match *method {
        ref m if *m == Method::DELETE || (*m == Method::POST && kind == OpKind::Reindex) => {
            if matches!(op.state, State::Done(_)) {
                let what = match kind {
                    OpKind::Import => "Import operation has already completed",
                    OpKind::BulkDelete => "Bulk delete operation has already completed",
                    OpKind::Reindex => "The reindex job has already completed.",
                };
                return Err(FhirError::new(StatusCode::CONFLICT, "conflict", what));
            }
            op.state = State::Canceled;
            if kind == OpKind::Reindex {
                let body = reindex_record(st, id, op, "Canceled");
                return Ok(fhir_json(StatusCode::ACCEPTED, &body));
            }
            Ok(empty(StatusCode::ACCEPTED))
        }
        Method::GET => {
            if matches!(op.state, State::Running) && due {
                let result = match &op.work {
                    Work::Import { .. } => match finish_import(st, op, id) {
                        Ok(v) => v,
                        Err(e) => json!({"failed": e.issue.diagnostics}),
                    },
                    Work::BulkDelete(spec) => finish_bulk_delete(st, spec),
                    Work::Reindex { .. } => Value::Null,
                };
                op.state = State::Done(result);
            }
            match (kind, &op.state) {
                (OpKind::Import, State::Canceled) => Err(FhirError::bad_request(
                    "User requested cancellation of operation.",
                )),
                (OpKind::Import, State::Running) => Ok(empty(StatusCode::ACCEPTED)),
                (OpKind::Import, State::Done(v)) => match v.get("failed").and_then(Value::as_str) {
                    Some(why) => Err(FhirError::bad_request(why.to_string())),
                    None => Ok((
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                        v.to_string(),
                    )
                        .into_response()),
                },
                (OpKind::BulkDelete, State::Running) => {
                    let body = bulk_delete_status(
                        &json!({"resourceType": "Parameters", "parameter": []}),
                        Some(("information", "informational", "Job In Progress")),
                    );
                    let mut resp = fhir_json(StatusCode::ACCEPTED, &body);
                    resp.headers_mut()
                        .insert("x-progress", HeaderValue::from_static("in progress"));
                    Ok(resp)
                }
                (OpKind::BulkDelete, State::Canceled) => Ok(fhir_json(
                    StatusCode::OK,
                    &bulk_delete_status(
                        &json!({"resourceType": "Parameters", "parameter": []}),
                        Some(("warning", "informational", "Job Canceled")),
                    ),
                )),
                (OpKind::BulkDelete, State::Done(v)) => Ok(fhir_json(StatusCode::OK, v)),
                (OpKind::Reindex, state) => {
                    let status = match state {
                        State::Canceled => "Canceled",
                        State::Done(_) => "Completed",
                        State::Running => "Running",
                    };
                    Ok(fhir_json(
                        StatusCode::OK,
                        &reindex_record(st, id, op, status),
                    ))
                }
            }
        }
        _ => Err(FhirError::method_not_allowed(format!(
            "The method '{method}' is not allowed for the {} status URL.",
            kind.route()
        ))),
    }
}

/// Seeds the storage account with files to try `$import` on: a clean
/// Patient file and an Observation file with one bad line.
pub(super) fn seed_import_samples(blobs: &mut storage::Blobs) {
    let patients = [
        r#"{"resourceType":"Patient","id":"import-sample-1","name":[{"family":"Imported","given":["Ada"]}],"gender":"female","birthDate":"1984-03-02"}"#,
        r#"{"resourceType":"Patient","id":"import-sample-2","name":[{"family":"Imported","given":["Ben"]}],"gender":"male","birthDate":"1979-11-23"}"#,
    ];
    let observations = [
        r#"{"resourceType":"Observation","id":"import-sample-hr-1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},"subject":{"reference":"Patient/import-sample-1"},"effectiveDateTime":"2025-05-01T09:00:00+00:00","valueQuantity":{"value":64,"unit":"beats/minute","system":"http://unitsofmeasure.org","code":"/min"}}"#,
        r#"{"resourceType":"Observation","id":"import-sample-hr-2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/import-sample-2"},"effectiveDateTime":"not a date","valueQuantity":{"value":71,"unit":"beats/minute"}}"#,
        r#"{"resourceType":"Observation","id":"import-sample-hr-3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/import-sample-2"},"effectiveDateTime":"2025-05-02T10:30:00+00:00","valueQuantity":{"value":69,"unit":"beats/minute","system":"http://unitsofmeasure.org","code":"/min"}}"#,
    ];
    let file = |lines: &[&str]| {
        let mut v = lines.join("\n").into_bytes();
        v.push(b'\n');
        v
    };
    blobs.put(
        "import",
        "Patient.ndjson",
        file(&patients),
        "application/fhir+ndjson",
    );
    blobs.put(
        "import",
        "Observation.ndjson",
        file(&observations),
        "application/fhir+ndjson",
    );
}
