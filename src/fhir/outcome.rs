//! OperationOutcome reading: servers explain errors and warnings with OperationOutcome
//! resources, either as the whole response body, as a searchset entry with
//! `search.mode = outcome` (e.g. "`_count` clamped to 1000", "unknown parameter ignored"), or
//! as `entry.response.outcome` in batch/transaction responses. The workbench shows their
//! issues and a one-line summary in the status bar.

use serde_json::Value;

use super::util::{concept_text, list, scalar_text, str_at, text_at};

/// One `OperationOutcome.issue`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Issue {
    /// `fatal`, `error`, `warning` or `information` (as sent; empty when missing).
    pub severity: String,
    /// The issue type code, e.g. `not-supported`, `processing` (empty when missing).
    pub code: String,
    pub diagnostics: Option<String>,
    /// `details.text`, else the first coding's display or code.
    pub details_text: Option<String>,
    pub expression: Vec<String>,
    /// The deprecated `location` (XPath-ish) paths.
    pub location: Vec<String>,
}

impl Issue {
    /// The most telling text of the issue: diagnostics, else details, else the code.
    pub fn message(&self) -> String {
        self.diagnostics
            .clone()
            .or_else(|| self.details_text.clone())
            .unwrap_or_else(|| {
                if self.code.is_empty() {
                    "(no details)".to_string()
                } else {
                    self.code.clone()
                }
            })
    }

    /// 0 for fatal … 3 for information, 4 for anything unknown.
    pub fn severity_rank(&self) -> u8 {
        severity_rank(&self.severity)
    }

    /// Whether the issue means the request failed (`fatal` or `error`).
    pub fn is_error(&self) -> bool {
        self.severity_rank() <= 1
    }
}

fn severity_rank(s: &str) -> u8 {
    match s.to_ascii_lowercase().as_str() {
        "fatal" => 0,
        "error" => 1,
        "warning" => 2,
        "information" => 3,
        _ => 4,
    }
}

/// The issues of an OperationOutcome. Accepts an OperationOutcome itself, or a Bundle whose
/// entries carry outcomes (`search.mode = outcome`, OperationOutcome entries without a mode,
/// `response.outcome`); their issues are concatenated in entry order. `None` when there is no
/// OperationOutcome; `Some(empty)` for an OperationOutcome without readable issues.
pub fn parse_outcome(v: &Value) -> Option<Vec<Issue>> {
    match str_at(v, "resourceType") {
        Some("OperationOutcome") => Some(issues_of(v)),
        Some("Bundle") => {
            let mut found = false;
            let mut issues = Vec::new();
            for e in list(v, "entry") {
                let mode = e.get("search").and_then(|s| str_at(s, "mode"));
                let resource = e.get("resource");
                let is_oo =
                    resource.and_then(|r| str_at(r, "resourceType")) == Some("OperationOutcome");
                if is_oo && matches!(mode, None | Some("outcome")) {
                    found = true;
                    issues.extend(resource.map(issues_of).unwrap_or_default());
                }
                if let Some(o) = e.get("response").and_then(|r| r.get("outcome"))
                    && str_at(o, "resourceType") == Some("OperationOutcome")
                {
                    found = true;
                    issues.extend(issues_of(o));
                }
            }
            found.then_some(issues)
        }
        _ => None,
    }
}

fn issues_of(oo: &Value) -> Vec<Issue> {
    list(oo, "issue")
        .iter()
        .filter(|i| i.is_object())
        .map(|i| Issue {
            severity: text_at(i, "severity").unwrap_or_default(),
            code: text_at(i, "code").unwrap_or_default(),
            diagnostics: text_at(i, "diagnostics"),
            details_text: i.get("details").and_then(concept_text),
            expression: list(i, "expression")
                .iter()
                .filter_map(scalar_text)
                .collect(),
            location: list(i, "location").iter().filter_map(scalar_text).collect(),
        })
        .collect()
}

/// One line for a status bar: the most severe issue's message with its severity, and how
/// many more there are, e.g. `error: Unknown search parameter 'foo' (+2 more)`. Empty
/// string for no issues.
pub fn summary(issues: &[Issue]) -> String {
    let Some(worst) = issues.iter().min_by_key(|i| i.severity_rank()) else {
        return String::new();
    };
    let mut line = String::new();
    if !worst.severity.is_empty() {
        line.push_str(&worst.severity);
        line.push_str(": ");
    }
    let message = worst.message();
    // Keep it one line.
    line.push_str(&message.split_whitespace().collect::<Vec<_>>().join(" "));
    if let Some(at) = worst.expression.first().or_else(|| worst.location.first()) {
        line.push_str(&format!(" [{at}]"));
    }
    if issues.len() > 1 {
        line.push_str(&format!(" (+{} more)", issues.len() - 1));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::testutil::arb_json;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn plain_outcome() {
        let oo = json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "warning", "code": "informational", "diagnostics": "slow"},
            {"severity": "error", "code": "not-found",
             "details": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/operation-outcome", "code": "MSG_NO_EXIST", "display": "Resource Id \"x\" does not exist"}]},
             "expression": ["Patient.id"], "location": "/f:Patient/f:id"},
            "junk"
        ]});
        let issues = parse_outcome(&oo).expect("outcome");
        assert_eq!(issues.len(), 2);
        assert_eq!(
            issues[1].details_text.as_deref(),
            Some("Resource Id \"x\" does not exist")
        );
        assert_eq!(issues[1].location, vec!["/f:Patient/f:id"]);
        assert!(issues[1].is_error());
        assert_eq!(
            summary(&issues),
            "error: Resource Id \"x\" does not exist [Patient.id] (+1 more)"
        );
        assert_eq!(summary(&[]), "");
    }

    #[test]
    fn outcome_entries_in_searchset() {
        let b = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {"resourceType": "Patient", "id": "1"}, "search": {"mode": "match"}},
            {"resource": {"resourceType": "OperationOutcome", "issue": [
                {"severity": "information", "code": "informational",
                 "diagnostics": "The _count parameter value 5000 exceeds the maximum; 1000 was used."}]},
             "search": {"mode": "outcome"}}
        ]});
        let issues = parse_outcome(&b).expect("outcome");
        assert_eq!(issues.len(), 1);
        assert_eq!(
            summary(&issues),
            "information: The _count parameter value 5000 exceeds the maximum; 1000 was used."
        );
        let plain =
            json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]});
        assert_eq!(parse_outcome(&plain), None);
        let tx = json!({"resourceType": "Bundle", "type": "batch-response", "entry": [
            {"response": {"status": "404", "outcome": {"resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "not-found"}]}}}]});
        let issues = parse_outcome(&tx).expect("outcome");
        assert_eq!(summary(&issues), "error: not-found");
    }

    #[test]
    fn odd_shapes() {
        assert_eq!(
            parse_outcome(&json!({"resourceType": "OperationOutcome"})),
            Some(vec![])
        );
        let oo = json!({"resourceType": "OperationOutcome", "issue": {"severity": 3, "diagnostics": "multi\nline   text"}});
        let issues = parse_outcome(&oo).expect("outcome");
        assert_eq!(issues[0].severity, "3");
        assert_eq!(summary(&issues), "3: multi line text");
        assert_eq!(summary(&[Issue::default()]), "(no details)");
        assert_eq!(parse_outcome(&json!("OperationOutcome")), None);
    }

    proptest! {
        #[test]
        fn never_panics(v in arb_json()) {
            if let Some(issues) = parse_outcome(&v) {
                let _ = summary(&issues);
            }
            let mut oo = v.clone();
            if let Some(o) = oo.as_object_mut() {
                o.insert("resourceType".into(), json!("OperationOutcome"));
                let issues = parse_outcome(&oo);
                prop_assert!(issues.is_some());
                let _ = summary(&issues.unwrap_or_default());
            }
        }
    }
}
