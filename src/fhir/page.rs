//! A FHIR answer read for the browser: the body parsed once, with what the browser shows of
//! it (a bundle's table, an OperationOutcome's issues, a patient's summary, the search
//! parameters a server dropped). Read where the body is prepared, on the worker's blocking
//! thread, so the browser's update only takes it (a large searchset never stalls a frame).

use chrono::NaiveDate;
use serde_json::Value;

use super::{BundleView, Issue, PatientSummary, handling::ignored_params, parse_outcome};

/// What the browser shows of one answer. Everything is `None`/empty for a body that is not
/// JSON (serde_json refuses nesting past 128 levels, so the parse is bounded).
#[derive(Debug, Default)]
pub struct FhirPage {
    pub json: Option<Value>,
    pub bundle: Option<BundleView>,
    pub outcome: Option<Vec<Issue>>,
    pub patient: Option<PatientSummary>,
    /// Search parameters sent that the searchset's `self` link dropped (a lenient server
    /// ignored them; a strict one would have refused), see `fhir::handling`.
    pub ignored: Vec<String>,
}

impl FhirPage {
    /// Reads `body`, the answer from `final_url`; ages are as of `today`.
    pub fn read(body: &[u8], final_url: &str, today: NaiveDate) -> FhirPage {
        let Ok(json) = serde_json::from_slice::<Value>(body) else {
            return FhirPage::default();
        };
        let resource_type = json.get("resourceType").and_then(Value::as_str);
        let outcome = match resource_type {
            Some("OperationOutcome") => parse_outcome(&json),
            _ => None,
        };
        let patient = match resource_type {
            Some("Patient") => PatientSummary::from_resource(&json, today),
            _ => None,
        };
        FhirPage {
            bundle: BundleView::parse(&json),
            ignored: ignored_params(final_url, &json),
            outcome,
            patient,
            json: Some(json),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 6, 15).expect("date")
    }

    #[test]
    fn a_searchset_patient_and_outcome_are_read() {
        let body = br#"{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"http://x/Patient?gender=female"}],"entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]}"#;
        let p = FhirPage::read(body, "http://x/Patient?gender=female&nmae=Ann", today());
        assert_eq!(p.bundle.map(|b| b.entries.len()), Some(1));
        assert_eq!(p.ignored, ["nmae"]);
        assert!(p.patient.is_none() && p.outcome.is_none());
        let p = FhirPage::read(
            br#"{"resourceType":"Patient","id":"p1","birthDate":"2000-06-15"}"#,
            "http://x/Patient/p1",
            today(),
        );
        assert!(p.patient.is_some() && p.bundle.is_none());
        let p = FhirPage::read(
            br#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}"#,
            "http://x/Patient/nope",
            today(),
        );
        assert_eq!(p.outcome.map(|i| i.len()), Some(1));
    }

    #[test]
    fn what_is_not_json_is_empty() {
        let p = FhirPage::read(b"<html>502</html>", "http://x/", today());
        assert!(p.json.is_none() && p.bundle.is_none() && p.ignored.is_empty());
        let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
        assert!(
            FhirPage::read(deep.as_bytes(), "http://x/", today())
                .json
                .is_none()
        );
    }
}
