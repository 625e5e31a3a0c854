//! One page of a searchset (a `$everything` page or a search page) read into facts, with the
//! link to the next page.

use serde_json::Value;

use super::extract::{Fact, facts_of};
use crate::fhir::bundle::BundleView;
use crate::fhir::outcome::{parse_outcome, summary};

/// What one page gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageFacts {
    pub facts: Vec<Fact>,
    /// Entries on the page (of any type).
    pub entries: usize,
    /// The server's `next` link, as sent (the caller decides whether to follow it).
    pub next: Option<String>,
    /// Warnings the server put in the page (an OperationOutcome entry), as a sentence.
    pub note: Option<String>,
    /// Resources left out because they are not the patient's (a server that ignores the
    /// `patient` search parameter sends everyone's; see [`read_page_for`]).
    pub others: usize,
}

/// Why a page gave nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("The answer is not JSON (line {line}, column {column}: {message}).")]
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("The server answered with an OperationOutcome: {0}")]
    Outcome(String),
    #[error("The answer is a {0}, not a Bundle.")]
    NotABundle(String),
}

/// Reads a page (the bytes of a Bundle). JSON nesting is bounded by the parser (128 levels).
pub fn read_page(bytes: &[u8]) -> Result<PageFacts, PageError> {
    read_page_for(bytes, None)
}

/// Reads a page keeping only the resources whose `subject` (or `patient`) is `Patient/{id}`
/// when `patient` is given. A search with `patient=` should only give those, but FHIR lets a
/// server ignore a parameter it does not support (the spec's "lenient" handling), and some
/// do: fhirsnake answers `Observation?patient=x` with every Observation it holds. Left
/// unchecked, other people's values would be drawn in this patient's chart.
pub fn read_page_for(bytes: &[u8], patient: Option<&str>) -> Result<PageFacts, PageError> {
    let json: Value = serde_json::from_slice(bytes).map_err(|e| PageError::NotJson {
        line: e.line(),
        column: e.column(),
        message: super::clean(&e.to_string()),
    })?;
    let Some(bundle) = BundleView::parse(&json) else {
        if let Some(issues) = parse_outcome(&json) {
            return Err(PageError::Outcome(super::clean(&summary(&issues))));
        }
        let what = json
            .get("resourceType")
            .and_then(Value::as_str)
            .map(super::clean)
            .unwrap_or_else(|| "JSON value".into());
        return Err(PageError::NotABundle(what));
    };
    let mut page = PageFacts {
        entries: bundle.entries.len(),
        next: bundle.links.next.clone(),
        ..PageFacts::default()
    };
    for entry in &bundle.entries {
        let Some(resource) = bundle.resource(&json, entry) else {
            continue;
        };
        if entry.is_outcome() {
            if let Some(issues) = parse_outcome(resource) {
                page.note = Some(super::clean(&summary(&issues)));
            }
            continue;
        }
        if let Some(id) = patient
            && !is_about(resource, id)
        {
            page.others += 1;
            continue;
        }
        page.facts.extend(facts_of(resource));
    }
    Ok(page)
}

/// Whether the resource's `subject` or `patient` reference names `Patient/{id}` (relative,
/// absolute, or with a `_history` version).
fn is_about(resource: &Value, id: &str) -> bool {
    let wanted = format!("Patient/{id}");
    ["subject", "patient"].iter().any(|field| {
        let Some(r) = resource
            .get(field)
            .and_then(|v| v.get("reference"))
            .and_then(Value::as_str)
        else {
            return false;
        };
        let r = r.split("/_history/").next().unwrap_or(r);
        r == wanted
            || r.strip_suffix(wanted.as_str())
                .is_some_and(|head| head.ends_with('/'))
    })
}
