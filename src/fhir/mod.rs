//! Knowledge of the FHIR format: bundles, OperationOutcomes, CapabilityStatements, references,
//! and how a typed patient lookup becomes a search.
//!
//! Everything here is pure (no I/O) and tolerant: servers send missing fields, wrong types and
//! extensions, and none of it may panic. Parsers answer `None`/empty for what they cannot read.
//! Nothing assumes a particular server: paging links stay opaque, totals may be absent.

pub mod bulk;
pub mod bundle;
pub mod capability;
pub mod chart;
pub mod columns;
pub mod handling;
pub mod lookup;
pub mod outcome;
pub mod page;
pub mod patient;
pub mod reference;
mod util;
pub mod write_check;

#[cfg(test)]
mod testutil;

pub use bundle::{BundleView, EntryView, Links, is_bundle};
pub use capability::{
    COMMON_PARAMS, Capabilities, ResourceCaps, SearchParam, base_param_name, unsupported_params,
};
pub use columns::{Column, cell, columns_for, summary as resource_summary};
pub use lookup::{LookupQuery, age, age_label, interpret};
pub use outcome::{Issue, parse_outcome, summary as outcome_summary};
pub use patient::PatientSummary;
pub use reference::{is_under_base, references_in_line, resolve_reference};
pub use util::R4_RESOURCE_TYPES;
pub use write_check::check_write;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::Value;

    /// A `$everything` page as a real server sends it: an outcome entry, no total, an opaque
    /// next link, several types, extensions on primitives.
    #[test]
    fn everything_page_end_to_end() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 15).expect("date");
        let bundle: Value =
            serde_json::from_str(include_str!("testdata/everything.json")).expect("fixture");
        let view = BundleView::parse(&bundle).expect("bundle");
        assert_eq!(view.total, None);
        assert!(
            view.links
                .next
                .as_deref()
                .is_some_and(|n| n.contains("_getpages"))
        );
        assert_eq!(view.table_type(), Some("mixed"));
        assert_eq!(view.count_label(), "4 (more available)");
        let issues = parse_outcome(&bundle).expect("outcome");
        assert_eq!(outcome_summary(&issues), "warning: _count was clamped to 5");

        let rows: Vec<Vec<String>> = view
            .entries
            .iter()
            .filter(|e| !e.is_outcome())
            .filter_map(|e| view.resource(&bundle, e))
            .map(|r| {
                let t = r.get("resourceType").and_then(Value::as_str).unwrap_or("");
                columns_for(t).iter().map(|c| cell(r, *c, today)).collect()
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                vec![
                    "Joanna Smith",
                    "female",
                    "1980-04-02 (44)",
                    "MRN-000123",
                    "p1",
                    "2024-05-01 08:09"
                ],
                vec![
                    "Blood pressure",
                    "120/80 mmHg",
                    "2024-03-05 10:32",
                    "final",
                    "bp1"
                ],
                vec![
                    "inpatient encounter",
                    "2024-06-10 14:00 –",
                    "in-progress",
                    "",
                    "e1"
                ],
                vec!["Sprained ankle", "age 12 a", "resolved", "c1"],
                vec!["Organization", "org1", "", "Good Health Clinic"],
            ]
        );
        let mixed: Vec<String> = view
            .entries
            .iter()
            .filter_map(|e| view.resource(&bundle, e))
            .map(|r| cell(r, Column::Summary, today))
            .collect();
        assert_eq!(mixed[1], "Joanna SMITH");

        let pretty = serde_json::to_string_pretty(&bundle).expect("pretty");
        let refs: Vec<String> = pretty
            .lines()
            .flat_map(references_in_line)
            .filter_map(|(_, r)| resolve_reference(&r, "https://fhir.example.org/r4", None))
            .collect();
        assert_eq!(refs.len(), 3);
        assert!(
            refs.iter()
                .all(|r| r == "https://fhir.example.org/r4/Patient/p1")
        );

        let patient = view
            .entries
            .iter()
            .find(|e| e.resource_type.as_deref() == Some("Patient"))
            .and_then(|e| view.resource(&bundle, e))
            .expect("patient");
        let summary = PatientSummary::from_resource(patient, today).expect("summary");
        assert_eq!(
            summary.header_line(),
            "Joanna Smith · female · 1980-04-02 (44) · MR MRN-000123 · id p1"
        );
    }
}
