//! OperationOutcome construction and the error type every FHIR handler
//! returns, so that all failures reach the client in the shape Azure uses.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::util::{fhir_instant, new_guid};

pub(super) const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// One `OperationOutcome.issue`.
#[derive(Debug, Clone)]
pub(super) struct Issue {
    pub severity: &'static str,
    pub code: &'static str,
    pub diagnostics: String,
}

impl Issue {
    pub(super) fn new(
        severity: &'static str,
        code: &'static str,
        diagnostics: impl Into<String>,
    ) -> Self {
        Issue {
            severity,
            code,
            diagnostics: diagnostics.into(),
        }
    }
}

pub(super) fn outcome(issues: &[Issue]) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "id": new_guid(),
        "meta": { "lastUpdated": fhir_instant(Utc::now()) },
        "issue": issues.iter().map(|i| json!({
            "severity": i.severity,
            "code": i.code,
            "diagnostics": i.diagnostics,
        })).collect::<Vec<_>>()
    })
}

/// A FHIR error answer: HTTP status plus an OperationOutcome.
#[derive(Debug, Clone)]
pub(super) struct FhirError {
    pub status: StatusCode,
    pub issue: Issue,
    pub headers: Vec<(HeaderName, String)>,
}

impl FhirError {
    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        diagnostics: impl Into<String>,
    ) -> Self {
        FhirError {
            status,
            issue: Issue::new("error", code, diagnostics),
            headers: Vec::new(),
        }
    }
    pub(super) fn bad_request(diagnostics: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", diagnostics)
    }
    pub(super) fn not_supported(diagnostics: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "not-supported", diagnostics)
    }
    pub(super) fn not_found(diagnostics: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", diagnostics)
    }
    pub(super) fn unknown_type(rtype: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-supported",
            format!("Resource type '{rtype}' is not supported."),
        )
    }
    pub(super) fn resource_not_found(rtype: &str, id: &str) -> Self {
        Self::not_found(format!(
            "Resource type '{rtype}' with id '{id}' couldn't be found."
        ))
    }
    pub(super) fn gone(rtype: &str, id: &str) -> Self {
        Self::new(
            StatusCode::GONE,
            "deleted",
            format!("Resource type '{rtype}' with id '{id}' has been deleted."),
        )
    }
    pub(super) fn method_not_allowed(diagnostics: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "not-supported", diagnostics)
    }
    pub(super) fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    pub(super) fn outcome(&self) -> Value {
        outcome(std::slice::from_ref(&self.issue))
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let mut resp = fhir_json(self.status, &self.outcome());
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().append(name, v);
            }
        }
        resp
    }
}

/// Serialises a FHIR JSON body with the FHIR content type.
pub(super) fn fhir_json(status: StatusCode, body: &Value) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_string());
    (status, [(header::CONTENT_TYPE, FHIR_JSON)], text).into_response()
}

/// A 429 as microsoft/fhir-server's `ThrottlingMiddleware.cs` sends it: an
/// OperationOutcome (`throttled`) and both `x-ms-retry-after-ms` and
/// `Retry-After` (whole seconds, at least 1), as
/// `HeaderDictionaryExtensions.AddRetryAfterHeaders` writes them.
pub(super) fn throttled(retry_after_ms: u64, diagnostics: &str) -> Response {
    let mut resp = fhir_json(
        StatusCode::TOO_MANY_REQUESTS,
        &outcome(&[Issue::new("error", "throttled", diagnostics)]),
    );
    let secs = retry_after_ms.div_ceil(1000).max(1);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&retry_after_ms.to_string()) {
        h.insert("x-ms-retry-after-ms", v);
    }
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        h.insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Azure's sentence for a throttled request (Resources.resx `TooManyConcurrentRequests`).
pub(super) const TOO_MANY_REQUESTS: &str =
    "The maximum number of concurrent API calls on this instance was reached.";
