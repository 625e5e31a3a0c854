//! The kick-off requests and status answers of Azure's asynchronous operations other than
//! `$export`, in the shapes microsoft/fhir-server sends (the demo's `src/demo/ops.rs` follows
//! the same files):
//! - `$import`: `POST [base]/$import` with a Parameters body (`ImportController.cs`); status
//!   `_operations/import/{id}` answers 202 while running, 200 with `output` / `error` lists
//!   (`ImportJobResult`, `GetImportRequestHandler.cs`);
//! - `$bulk-delete`: `DELETE [base]/$bulk-delete?…` or `[type]/$bulk-delete?…`
//!   (`BulkDeleteController.cs`); status answers 202 with a Parameters of `Issues`, then 200
//!   with `ResourceDeletedCount` parts per type (`GetBulkDeleteHandler.cs`);
//! - `$reindex`: `POST [base]/$reindex` with a Parameters body, answered 201 with the job record
//!   (`ReindexController.cs`); status GETs answer 200 with `status` Queued / Running /
//!   Completed / Failed / Canceled (`ReindexJobRecordExtensions.cs`).

use serde_json::{Value, json};

use super::job::REQUEST_TIMEOUT;
use crate::fhir::outcome::parse_outcome;
use crate::worker::http::HttpRequest;
pub use crate::workspace::export_job::{
    ExportParams, ImportFile, NamedValue, OpKind, OpResult, TypeCount,
};

/// `$import`'s `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// Into a service in "initial import" mode: the service takes no other writes while it runs.
    InitialLoad,
    #[default]
    IncrementalLoad,
}

impl ImportMode {
    pub fn label(self) -> &'static str {
        match self {
            ImportMode::InitialLoad => "InitialLoad",
            ImportMode::IncrementalLoad => "IncrementalLoad",
        }
    }

    pub fn parse(s: &str) -> Option<ImportMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "initialload" | "initial" => Some(ImportMode::InitialLoad),
            "incrementalload" | "incremental" => Some(ImportMode::IncrementalLoad),
            _ => None,
        }
    }
}

/// What an InitialLoad import does to the service, said before one starts.
pub const INITIAL_LOAD_WARNING: &str =
    "InitialLoad: the FHIR service refuses every other write (423 Locked) until the import ends.";

/// One `input` of an import: a blob URL and the resource type it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportInput {
    pub url: String,
    pub type_: String,
    pub etag: Option<String>,
}

impl ImportInput {
    /// `URL:Type` as typed on the command line (the type after the last colon).
    pub fn parse(s: &str) -> Result<ImportInput, String> {
        let (url, type_) = s
            .trim()
            .rsplit_once(':')
            .filter(|(u, t)| !u.is_empty() && is_type_name(t))
            .ok_or_else(|| format!("'{s}' is not URL:Type (e.g. https://acct.blob.core.windows.net/import/Patient.ndjson:Patient)"))?;
        url::Url::parse(url).map_err(|e| format!("'{url}' is not a URL: {e}"))?;
        Ok(ImportInput {
            url: url.to_string(),
            type_: type_.to_string(),
            etag: None,
        })
    }
}

/// A FHIR resource type name: a capital letter, then letters.
pub fn is_type_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_uppercase()) && c.all(|x| x.is_ascii_alphanumeric())
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportParams {
    pub mode: ImportMode,
    pub inputs: Vec<ImportInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BulkDeleteParams {
    /// `None`: system level (`[base]/$bulk-delete`).
    pub type_: Option<String>,
    /// The search parameters that pick what is deleted.
    pub query: Vec<(String, String)>,
    pub hard: bool,
    pub purge_history: bool,
    pub excluded_types: Vec<String>,
    pub remove_references: bool,
}

impl BulkDeleteParams {
    /// `Observation?status=cancelled` (or `?status=…`, or empty for everything) as typed.
    pub fn parse_target(s: &str) -> Result<BulkDeleteParams, String> {
        let s = s.trim().trim_start_matches('/');
        let (path, query) = s.split_once('?').unwrap_or((s, ""));
        let path = path.trim_end_matches("/$bulk-delete").trim_matches('/');
        let type_ = match path {
            "" | "$bulk-delete" => None,
            t if is_type_name(t) => Some(t.to_string()),
            t => return Err(format!("'{t}' is not a resource type")),
        };
        let mut p = BulkDeleteParams {
            type_,
            ..Default::default()
        };
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            p.query.push((k.into_owned(), v.into_owned()));
        }
        Ok(p)
    }

    /// The dry run: the same search with `_summary=count` (the filter only, none of the
    /// operation's own flags).
    pub fn count_url(&self, base: &str) -> String {
        let base = base.trim().trim_end_matches('/');
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.query {
            if k != "_summary" && k != "_count" {
                q.append_pair(k, v);
            }
        }
        q.append_pair("_summary", "count");
        match &self.type_ {
            Some(t) => format!("{base}/{t}?{}", q.finish()),
            None => format!("{base}/?{}", q.finish()),
        }
    }

    /// What the delete is about, in a few words ("Observation?status=cancelled").
    pub fn target(&self) -> String {
        let q: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let t = self.type_.as_deref().unwrap_or("all types");
        if q.is_empty() {
            t.to_string()
        } else {
            format!("{t}?{}", q.join("&"))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReindexParams {
    /// Empty: every type (the server decides).
    pub types: Vec<String>,
}

/// What to start.
#[derive(Debug, Clone, PartialEq)]
pub enum Kickoff {
    Export(ExportParams),
    Import(ImportParams),
    BulkDelete(BulkDeleteParams),
    Reindex(ReindexParams),
}

fn header(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

impl Kickoff {
    pub fn kind(&self) -> OpKind {
        match self {
            Kickoff::Export(_) => OpKind::Export,
            Kickoff::Import(_) => OpKind::Import,
            Kickoff::BulkDelete(_) => OpKind::BulkDelete,
            Kickoff::Reindex(_) => OpKind::Reindex,
        }
    }

    /// The kick-off request, without `Authorization` (added when sending, by the policy).
    pub fn request(&self, base: &str) -> HttpRequest {
        let base = base.trim().trim_end_matches('/');
        let async_headers = vec![
            header("Accept", "application/fhir+json"),
            header("Prefer", "respond-async"),
        ];
        let post = |url: String, body: Value| {
            let mut headers = async_headers.clone();
            headers.push(header("Content-Type", "application/fhir+json"));
            HttpRequest {
                method: "POST".into(),
                url,
                headers,
                body: Some(body.to_string().into_bytes()),
                timeout: REQUEST_TIMEOUT,
                insecure: false,
            }
        };
        match self {
            Kickoff::Export(p) => super::job::kickoff_request(base, p),
            Kickoff::Import(p) => post(format!("{base}/$import"), import_body(p)),
            Kickoff::Reindex(p) => {
                let mut params = Vec::new();
                if !p.types.is_empty() {
                    params.push(
                        json!({"name": "targetResourceTypes", "valueString": p.types.join(",")}),
                    );
                }
                post(
                    format!("{base}/$reindex"),
                    json!({"resourceType": "Parameters", "parameter": params}),
                )
            }
            Kickoff::BulkDelete(p) => {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in &p.query {
                    q.append_pair(k, v);
                }
                if p.hard {
                    q.append_pair("_hardDelete", "true");
                }
                if p.purge_history {
                    q.append_pair("_purgeHistory", "true");
                }
                if p.remove_references {
                    q.append_pair("_remove-references", "true");
                }
                let excluded: Vec<&str> = p
                    .excluded_types
                    .iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect();
                if !excluded.is_empty() {
                    q.append_pair("excludedResourceTypes", &excluded.join(","));
                }
                let q = q.finish();
                let path = match &p.type_ {
                    Some(t) => format!("{base}/{t}/$bulk-delete"),
                    None => format!("{base}/$bulk-delete"),
                };
                HttpRequest {
                    method: "DELETE".into(),
                    url: if q.is_empty() {
                        path
                    } else {
                        format!("{path}?{q}")
                    },
                    headers: async_headers,
                    body: None,
                    timeout: REQUEST_TIMEOUT,
                    insecure: false,
                }
            }
        }
    }
}

/// The `$import` Parameters (`ImportRequest` in microsoft/fhir-server: `inputFormat`, `mode`,
/// `input` parts `type` / `url` / `etag`).
pub fn import_body(p: &ImportParams) -> Value {
    let mut params = vec![
        json!({"name": "inputFormat", "valueString": "application/fhir+ndjson"}),
        json!({"name": "mode", "valueString": p.mode.label()}),
    ];
    for i in &p.inputs {
        let mut parts = vec![
            json!({"name": "type", "valueString": i.type_}),
            json!({"name": "url", "valueUri": i.url}),
        ];
        if let Some(e) = &i.etag {
            parts.push(json!({"name": "etag", "valueUri": e}));
        }
        params.push(json!({"name": "input", "part": parts}));
    }
    json!({"resourceType": "Parameters", "parameter": params})
}

// ------------------------------------------------------------- answers

fn loose_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// An import's 200 answer: `output` and `error` lists.
pub fn import_result(v: &Value) -> Option<OpResult> {
    if !v.is_object() {
        return None;
    }
    let files = |key: &str| -> Vec<ImportFile> {
        let items: &[Value] = match v.get(key) {
            Some(Value::Array(a)) => a,
            Some(one @ Value::Object(_)) => std::slice::from_ref(one),
            _ => &[],
        };
        items
            .iter()
            .map(|o| ImportFile {
                type_: text(o, "type").unwrap_or_default(),
                count: o.get("count").and_then(loose_u64),
                input_url: text(o, "inputUrl"),
                url: text(o, "url"),
            })
            .collect()
    };
    Some(OpResult::Import {
        transaction_time: text(v, "transactionTime"),
        output: files("output"),
        error: files("error"),
    })
}

/// The value of a Parameters part as text (`valueString`, `valueDecimal`, `valueInteger64`…).
fn value_text(p: &Value) -> Option<String> {
    p.as_object()?.iter().find_map(|(k, v)| {
        if !k.starts_with("value") {
            return None;
        }
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    })
}

fn parameters(v: &Value) -> &[Value] {
    v.get("parameter")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A bulk delete's status Parameters: `ResourceDeletedCount` per type and the issues' texts.
pub fn bulk_delete_result(v: &Value) -> OpResult {
    let mut deleted = Vec::new();
    let mut issues = Vec::new();
    for p in parameters(v) {
        match p.get("name").and_then(Value::as_str) {
            Some("ResourceDeletedCount") => {
                for part in p
                    .get("part")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let type_ = text(part, "name").unwrap_or_default();
                    let count = value_text(part).and_then(|t| t.trim().parse::<u64>().ok());
                    if let Some(count) = count {
                        deleted.push(TypeCount { type_, count });
                    }
                }
            }
            Some("Issues") => {
                if let Some(list) = p.get("resource").and_then(parse_outcome) {
                    issues.extend(list.iter().map(|i| i.message()).filter(|m| !m.is_empty()));
                } else if let Some(t) = value_text(p) {
                    issues.push(t);
                }
            }
            _ => {}
        }
    }
    OpResult::BulkDelete { deleted, issues }
}

/// A reindex job record (Parameters of name/value pairs).
pub fn reindex_result(v: &Value) -> Option<OpResult> {
    let fields: Vec<NamedValue> = parameters(v)
        .iter()
        .filter_map(|p| {
            Some(NamedValue {
                name: text(p, "name")?,
                value: value_text(p)?,
            })
        })
        .collect();
    (!fields.is_empty()).then_some(OpResult::Reindex { fields })
}

/// Where a reindex record says the job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReindexStatus {
    Running,
    Completed,
    Failed,
    Canceled,
}

pub fn reindex_status(r: &OpResult) -> ReindexStatus {
    match r
        .field("status")
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "completed" => ReindexStatus::Completed,
        "failed" => ReindexStatus::Failed,
        "canceled" | "cancelled" => ReindexStatus::Canceled,
        _ => ReindexStatus::Running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kickoff_requests() {
        let r = Kickoff::BulkDelete(BulkDeleteParams {
            type_: Some("Observation".into()),
            query: vec![("status".into(), "cancelled".into())],
            hard: true,
            excluded_types: vec![],
            ..Default::default()
        })
        .request("http://h/fhir/");
        assert_eq!(r.method, "DELETE");
        assert_eq!(
            r.url,
            "http://h/fhir/Observation/$bulk-delete?status=cancelled&_hardDelete=true"
        );
        assert!(
            r.headers
                .contains(&("Prefer".into(), "respond-async".into()))
        );
        let r = Kickoff::BulkDelete(BulkDeleteParams {
            excluded_types: vec!["Patient".into(), " Group ".into()],
            purge_history: true,
            remove_references: true,
            ..Default::default()
        })
        .request("http://h");
        assert_eq!(
            r.url,
            "http://h/$bulk-delete?_purgeHistory=true&_remove-references=true&excludedResourceTypes=Patient%2CGroup"
        );
        let r = Kickoff::Import(ImportParams {
            mode: ImportMode::InitialLoad,
            inputs: vec![ImportInput::parse("http://s:9/import/P.ndjson:Patient").unwrap()],
        })
        .request("http://h");
        assert_eq!(
            (r.method.as_str(), r.url.as_str()),
            ("POST", "http://h/$import")
        );
        let body: Value = serde_json::from_slice(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["parameter"][1]["valueString"], "InitialLoad");
        assert_eq!(body["parameter"][2]["part"][0]["valueString"], "Patient");
        assert_eq!(
            body["parameter"][2]["part"][1]["valueUri"],
            "http://s:9/import/P.ndjson"
        );
        let r = Kickoff::Reindex(ReindexParams::default()).request("http://h");
        assert_eq!(r.url, "http://h/$reindex");
    }

    #[test]
    fn targets_and_inputs_parse() {
        let p = BulkDeleteParams::parse_target("Observation?status=cancelled&code=x").unwrap();
        assert_eq!(p.type_.as_deref(), Some("Observation"));
        assert_eq!(p.query.len(), 2);
        assert_eq!(
            p.count_url("http://h/"),
            "http://h/Observation?status=cancelled&code=x&_summary=count"
        );
        assert_eq!(p.target(), "Observation?status=cancelled&code=x");
        let p = BulkDeleteParams::parse_target("?_lastUpdated=lt2020").unwrap();
        assert_eq!(p.type_, None);
        assert_eq!(
            p.count_url("http://h"),
            "http://h/?_lastUpdated=lt2020&_summary=count"
        );
        assert!(BulkDeleteParams::parse_target("observation?x=1").is_err());
        assert!(ImportInput::parse("no-type").is_err());
        assert!(ImportInput::parse("notaurl:Patient").is_err());
        assert_eq!(
            ImportMode::parse("initialload"),
            Some(ImportMode::InitialLoad)
        );
    }

    #[test]
    fn answers_parse() {
        let v: Value = serde_json::from_str(
            r#"{"resourceType":"Parameters","parameter":[{"name":"Issues","resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"informational","details":{"text":"Job Canceled"}}]}},{"name":"ResourceDeletedCount","part":[{"name":"Observation","valueInteger64":"3"},{"name":"Patient","valueInteger":1}]}]}"#,
        )
        .unwrap();
        let OpResult::BulkDelete { deleted, issues } = bulk_delete_result(&v) else {
            panic!()
        };
        assert_eq!(deleted.len(), 2);
        assert_eq!(
            deleted[0],
            TypeCount {
                type_: "Observation".into(),
                count: 3
            }
        );
        assert_eq!(issues, vec!["Job Canceled".to_string()]);
        let v: Value = serde_json::from_str(
            r#"{"transactionTime":"t","output":[{"type":"Patient","count":2,"inputUrl":"u1"}],"error":[{"type":"OperationOutcome","count":1,"inputUrl":"u2","url":"e2"}]}"#,
        )
        .unwrap();
        let Some(OpResult::Import { output, error, .. }) = import_result(&v) else {
            panic!()
        };
        assert_eq!(output[0].count, Some(2));
        assert_eq!(error[0].url.as_deref(), Some("e2"));
        let v: Value = serde_json::from_str(
            r#"{"resourceType":"Parameters","parameter":[{"name":"status","valueString":"Running"},{"name":"progress","valueDecimal":40}]}"#,
        )
        .unwrap();
        let r = reindex_result(&v).unwrap();
        assert_eq!(r.field("progress"), Some("40"));
        assert_eq!(reindex_status(&r), ReindexStatus::Running);
    }
}
