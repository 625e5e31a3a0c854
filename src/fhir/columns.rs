//! Table columns for a bundle of results: which columns to show per resource type and the
//! text of each cell, so a searchset reads as a table ("Smith, 1980-04-02 (44), MRN-1")
//! instead of raw JSON. Every cell is a plain one-line string; missing data is an empty cell.

use chrono::NaiveDate;
use serde_json::Value;

use super::lookup::age_label;
use super::util::{
    best_name, concept_code, concept_text, list, quantity_text, scalar_text, short_datetime,
    str_at, strip_tags, text_at, truncate,
};

/// One table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// `resourceType`.
    Type,
    Id,
    /// `meta.lastUpdated`.
    LastUpdated,
    /// Narrative text stripped of tags, else name/title/code/description.
    Summary,
    /// Patient (or any resource with `name`): the best HumanName.
    Name,
    Gender,
    /// Birth date with the age: `1980-04-02 (44)`.
    BirthDate,
    /// The main identifier's value (MR type first, then official/usual use).
    Identifier,
    /// Observation/Condition code: `code.text`, first coding display, code.
    Code,
    /// Observation value with unit, or a component summary such as `120/80 mmHg`.
    Value,
    /// Observation effective time.
    Effective,
    Status,
    /// Encounter class (R4 Coding; R5 CodeableConcept list accepted).
    Class,
    /// Encounter period `start – end`.
    Period,
    /// Encounter type text.
    EncounterType,
    /// Condition onset.
    Onset,
    /// Condition clinical status code.
    ClinicalStatus,
}

impl Column {
    /// Column heading.
    pub fn title(self) -> &'static str {
        match self {
            Column::Type => "Type",
            Column::Id => "Id",
            Column::LastUpdated => "Last updated",
            Column::Summary => "Summary",
            Column::Name => "Name",
            Column::Gender => "Gender",
            Column::BirthDate => "Born",
            Column::Identifier => "Identifier",
            Column::Code => "Code",
            Column::Value => "Value",
            Column::Effective => "Effective",
            Column::Status => "Status",
            Column::Class => "Class",
            Column::Period => "Period",
            Column::EncounterType => "Type",
            Column::Onset => "Onset",
            Column::ClinicalStatus => "Clinical status",
        }
    }

    /// A suggested width in terminal cells (the table may shrink or grow it).
    pub fn width_hint(self) -> u16 {
        match self {
            Column::Type => 18,
            Column::Id => 14,
            Column::LastUpdated | Column::Effective | Column::Onset => 16,
            Column::Summary => 40,
            Column::Name => 24,
            Column::Gender => 7,
            Column::BirthDate => 16,
            Column::Identifier => 16,
            Column::Code => 28,
            Column::Value => 18,
            Column::Status => 11,
            Column::Class => 12,
            Column::Period => 35,
            Column::EncounterType => 24,
            Column::ClinicalStatus => 10,
        }
    }
}

const PATIENT: &[Column] = &[
    Column::Name,
    Column::Gender,
    Column::BirthDate,
    Column::Identifier,
    Column::Id,
    Column::LastUpdated,
];
const OBSERVATION: &[Column] = &[
    Column::Code,
    Column::Value,
    Column::Effective,
    Column::Status,
    Column::Id,
];
const ENCOUNTER: &[Column] = &[
    Column::Class,
    Column::Period,
    Column::Status,
    Column::EncounterType,
    Column::Id,
];
const CONDITION: &[Column] = &[
    Column::Code,
    Column::Onset,
    Column::ClinicalStatus,
    Column::Id,
];
const OTHER: &[Column] = &[
    Column::Type,
    Column::Id,
    Column::LastUpdated,
    Column::Summary,
];
const MIXED: &[Column] = &[
    Column::Type,
    Column::Id,
    Column::Summary,
    Column::LastUpdated,
];

/// The columns for a table of `resource_type` resources. Use `"mixed"` for bundles with
/// several types (see [`super::BundleView::table_type`]); unknown types get a generic set.
pub fn columns_for(resource_type: &str) -> &'static [Column] {
    match resource_type {
        "Patient" => PATIENT,
        "Observation" => OBSERVATION,
        "Encounter" => ENCOUNTER,
        "Condition" => CONDITION,
        "mixed" => MIXED,
        _ => OTHER,
    }
}

/// The text of one cell. Never fails: missing or unreadable data gives an empty string.
pub fn cell(resource: &Value, column: Column, today: NaiveDate) -> String {
    cell_opt(resource, column, today).unwrap_or_default()
}

fn cell_opt(r: &Value, column: Column, today: NaiveDate) -> Option<String> {
    match column {
        Column::Type => text_at(r, "resourceType"),
        Column::Id => text_at(r, "id"),
        Column::LastUpdated => r
            .get("meta")
            .and_then(|m| str_at(m, "lastUpdated"))
            .map(short_datetime),
        Column::Summary => summary(r),
        Column::Name => r.get("name").and_then(best_name),
        Column::Gender => text_at(r, "gender"),
        Column::BirthDate => {
            let b = str_at(r, "birthDate")?;
            Some(match age_label(b, today) {
                Some(a) => format!("{b} ({a})"),
                None => b.to_string(),
            })
        }
        Column::Identifier => main_identifier(r).and_then(|i| text_at(i, "value")),
        Column::Code => r.get("code").and_then(concept_text),
        Column::Value => observation_value(r),
        Column::Effective => effective(r),
        Column::Status => text_at(r, "status"),
        Column::Class => encounter_class(r.get("class")?),
        Column::Period => r.get("period").and_then(period_text),
        Column::EncounterType => list(r, "type").iter().find_map(concept_text),
        Column::Onset => onset(r),
        Column::ClinicalStatus => r.get("clinicalStatus").and_then(concept_code),
    }
}

/// The identifier to show first: type `MR`, then `use=official`, then `usual`, then the first
/// one with a value.
pub(crate) fn main_identifier(r: &Value) -> Option<&Value> {
    let ids: Vec<&Value> = list(r, "identifier")
        .iter()
        .filter(|i| text_at(i, "value").is_some())
        .collect();
    let is_mr = |i: &Value| {
        i.get("type")
            .map(|t| {
                list(t, "coding")
                    .iter()
                    .any(|c| str_at(c, "code") == Some("MR"))
            })
            .unwrap_or(false)
    };
    ids.iter()
        .find(|i| is_mr(i))
        .or_else(|| ids.iter().find(|i| str_at(i, "use") == Some("official")))
        .or_else(|| ids.iter().find(|i| str_at(i, "use") == Some("usual")))
        .or_else(|| ids.first())
        .copied()
}

/// A one-line summary of any resource: narrative text, else name/title/code/description.
pub fn summary(r: &Value) -> Option<String> {
    let narrative = r
        .get("text")
        .and_then(|t| str_at(t, "div"))
        .map(strip_tags)
        .filter(|s| !s.is_empty());
    narrative
        .or_else(|| r.get("name").and_then(best_name))
        .or_else(|| text_at(r, "title"))
        .or_else(|| r.get("code").and_then(|c| text_at(c, "text")))
        .or_else(|| r.get("code").and_then(concept_text))
        .or_else(|| text_at(r, "description"))
        .map(|s| truncate(&s, 200))
}

/// Any `value[x]` of an Observation (or a component).
fn value_x(r: &Value) -> Option<String> {
    if let Some(q) = r.get("valueQuantity") {
        return quantity_text(q);
    }
    if let Some(cc) = r.get("valueCodeableConcept") {
        return concept_text(cc);
    }
    for key in [
        "valueString",
        "valueBoolean",
        "valueInteger",
        "valueTime",
        "valueDateTime",
    ] {
        if let Some(v) = r.get(key).and_then(scalar_text) {
            return Some(if key == "valueDateTime" {
                short_datetime(&v)
            } else {
                v
            });
        }
    }
    if let Some(range) = r.get("valueRange") {
        let low = range.get("low").and_then(quantity_text);
        let high = range.get("high").and_then(quantity_text);
        return match (low, high) {
            (Some(l), Some(h)) => Some(format!("{l} – {h}")),
            (Some(l), None) => Some(format!("≥ {l}")),
            (None, Some(h)) => Some(format!("≤ {h}")),
            (None, None) => None,
        };
    }
    if let Some(ratio) = r.get("valueRatio") {
        let n = ratio.get("numerator").and_then(quantity_text)?;
        let d = ratio.get("denominator").and_then(quantity_text);
        return Some(match d {
            Some(d) => format!("{n} / {d}"),
            None => n,
        });
    }
    if let Some(p) = r.get("valuePeriod") {
        return period_text(p);
    }
    if r.get("valueSampledData").is_some() {
        return Some("(sampled data)".into());
    }
    if r.get("valueAttachment").is_some() {
        return Some("(attachment)".into());
    }
    None
}

fn observation_value(r: &Value) -> Option<String> {
    if let Some(v) = value_x(r) {
        return Some(v);
    }
    if let Some(c) = component_summary(list(r, "component")) {
        return Some(c);
    }
    r.get("dataAbsentReason")
        .and_then(concept_text)
        .map(|t| format!("(absent: {t})"))
}

/// Components as `120/80 mmHg` when every one is a quantity in the same unit (blood
/// pressure), else `label value, label value`.
fn component_summary(components: &[Value]) -> Option<String> {
    if components.is_empty() {
        return None;
    }
    let quantities: Vec<(Option<String>, Option<String>)> = components
        .iter()
        .map(|c| {
            let q = c.get("valueQuantity");
            (
                q.and_then(|q| q.get("value")).and_then(scalar_text),
                q.and_then(|q| text_at(q, "unit").or_else(|| text_at(q, "code"))),
            )
        })
        .collect();
    let first_unit = quantities.first().and_then(|(_, u)| u.clone());
    let same_unit = quantities.len() <= 3
        && quantities
            .iter()
            .all(|(v, u)| v.is_some() && *u == first_unit);
    if same_unit {
        let values: Vec<String> = quantities.iter().filter_map(|(v, _)| v.clone()).collect();
        let joined = values.join("/");
        return Some(match first_unit {
            Some(u) => format!("{joined} {u}"),
            None => joined,
        });
    }
    let parts: Vec<String> = components
        .iter()
        .filter_map(|c| {
            let label = c.get("code").and_then(concept_text);
            let value = value_x(c).or_else(|| {
                c.get("dataAbsentReason")
                    .and_then(concept_text)
                    .map(|t| format!("(absent: {t})"))
            });
            match (label, value) {
                (Some(l), Some(v)) => Some(format!("{l} {v}")),
                (None, Some(v)) => Some(v),
                (Some(l), None) => Some(l),
                (None, None) => None,
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn effective(r: &Value) -> Option<String> {
    str_at(r, "effectiveDateTime")
        .or_else(|| str_at(r, "effectiveInstant"))
        .or_else(|| r.get("effectivePeriod").and_then(|p| str_at(p, "start")))
        .or_else(|| r.get("effectivePeriod").and_then(|p| str_at(p, "end")))
        .or_else(|| {
            r.get("effectiveTiming")
                .and_then(|t| list(t, "event").first())
                .and_then(Value::as_str)
        })
        .or_else(|| str_at(r, "issued"))
        .map(short_datetime)
}

/// `start – end`, `start –` (ongoing), `– end`.
fn period_text(p: &Value) -> Option<String> {
    let start = str_at(p, "start").map(short_datetime);
    let end = str_at(p, "end").map(short_datetime);
    match (start, end) {
        (Some(s), Some(e)) => Some(format!("{s} – {e}")),
        (Some(s), None) => Some(format!("{s} –")),
        (None, Some(e)) => Some(format!("– {e}")),
        (None, None) => None,
    }
}

fn encounter_class(c: &Value) -> Option<String> {
    match c {
        // R4: a Coding. A CodeableConcept (R5 list element) has `coding`/`text`.
        Value::Object(_) if c.get("coding").is_some() || c.get("text").is_some() => concept_text(c),
        Value::Object(_) => text_at(c, "display").or_else(|| text_at(c, "code")),
        Value::Array(a) => a.iter().find_map(encounter_class),
        other => scalar_text(other),
    }
}

fn onset(r: &Value) -> Option<String> {
    if let Some(d) = str_at(r, "onsetDateTime") {
        return Some(short_datetime(d));
    }
    if let Some(p) = r.get("onsetPeriod") {
        if let Some(s) = str_at(p, "start") {
            return Some(short_datetime(s));
        }
        if let Some(t) = period_text(p) {
            return Some(t);
        }
    }
    if let Some(s) = text_at(r, "onsetString") {
        return Some(s);
    }
    if let Some(a) = r.get("onsetAge").and_then(quantity_text) {
        return Some(format!("age {a}"));
    }
    if let Some(range) = r.get("onsetRange") {
        let low = range.get("low").and_then(quantity_text);
        let high = range.get("high").and_then(quantity_text);
        return match (low, high) {
            (Some(l), Some(h)) => Some(format!("age {l} – {h}")),
            (Some(l), None) => Some(format!("age ≥ {l}")),
            (None, Some(h)) => Some(format!("age ≤ {h}")),
            (None, None) => None,
        };
    }
    str_at(r, "recordedDate").map(|d| format!("(recorded {})", short_datetime(d)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::testutil::arb_json;
    use proptest::prelude::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 6, 15).unwrap()
    }

    fn row(r: &Value) -> Vec<String> {
        let t = r.get("resourceType").and_then(Value::as_str).unwrap_or("");
        columns_for(t)
            .iter()
            .map(|c| cell(r, *c, today()))
            .collect()
    }

    #[test]
    fn patient_row() {
        let p = json!({
            "resourceType": "Patient", "id": "p1",
            "meta": {"lastUpdated": "2024-05-01T08:09:10.123Z"},
            "identifier": [
                {"system": "urn:oid:1.2.3", "value": "X-9"},
                {"type": {"coding": [{"code": "MR"}]}, "system": "http://hosp/mrn", "value": "MRN-000123"}
            ],
            "name": [{"use": "nickname", "given": ["Jo"]}, {"use": "official", "family": "Smith", "given": ["Joanna", "Q"]}],
            "gender": "female",
            "birthDate": "1980-04-02",
            "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race", "extension": []}]
        });
        assert_eq!(
            row(&p),
            vec![
                "Joanna Q Smith",
                "female",
                "1980-04-02 (44)",
                "MRN-000123",
                "p1",
                "2024-05-01 08:09"
            ]
        );
        // Wrong types and missing pieces.
        let p = json!({"resourceType": "Patient", "id": 17, "name": "Bob", "gender": 1,
            "birthDate": "1975", "identifier": {"value": 42}});
        assert_eq!(row(&p), vec!["Bob", "1", "1975 (~49)", "42", "17", ""]);
        let p =
            json!({"resourceType": "Patient", "birthDate": "unknown", "name": [{"_family": {}}]});
        assert_eq!(row(&p), vec!["", "", "unknown", "", "", ""]);
    }

    #[test]
    fn observation_values() {
        let o = json!({"resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
            "valueQuantity": {"value": 72, "unit": "/min"},
            "effectiveDateTime": "2024-01-02T03:04:05Z"});
        assert_eq!(
            row(&o),
            vec!["Heart rate", "72 /min", "2024-01-02 03:04", "final", "o1"]
        );
        let bp = json!({"resourceType": "Observation", "status": "final",
        "code": {"text": "Blood pressure", "coding": [{"code": "85354-9", "display": "BP panel"}]},
        "effectivePeriod": {"start": "2024-01-02"},
        "component": [
            {"code": {"coding": [{"code": "8480-6", "display": "Systolic"}]}, "valueQuantity": {"value": 120, "unit": "mmHg"}},
            {"code": {"coding": [{"code": "8462-4", "display": "Diastolic"}]}, "valueQuantity": {"value": 80, "unit": "mmHg"}}
        ]});
        assert_eq!(
            row(&bp),
            vec!["Blood pressure", "120/80 mmHg", "2024-01-02", "final", ""]
        );
        let mixed = json!({"resourceType": "Observation", "code": {"coding": [{"code": "x"}]},
        "component": [
            {"code": {"text": "A"}, "valueString": "yes"},
            {"code": {"text": "B"}, "valueQuantity": {"value": 1.5, "unit": "mg"}},
            {"code": {"text": "C"}, "dataAbsentReason": {"text": "asked"}}
        ]});
        assert_eq!(
            cell(&mixed, Column::Value, today()),
            "A yes, B 1.5 mg, C (absent: asked)"
        );
        assert_eq!(cell(&mixed, Column::Code, today()), "x");
        for (v, want) in [
            (
                json!({"valueCodeableConcept": {"coding": [{"display": "Positive"}]}}),
                "Positive",
            ),
            (json!({"valueString": "see note"}), "see note"),
            (json!({"valueBoolean": false}), "false"),
            (json!({"valueInteger": 3}), "3"),
            (
                json!({"valueQuantity": {"value": "5.0", "comparator": "<", "code": "mg"}}),
                "<5.0 mg",
            ),
            (
                json!({"valueRange": {"low": {"value": 1}, "high": {"value": 2, "unit": "h"}}}),
                "1 – 2 h",
            ),
            (
                json!({"valueRatio": {"numerator": {"value": 1}, "denominator": {"value": 128}}}),
                "1 / 128",
            ),
            (
                json!({"dataAbsentReason": {"coding": [{"code": "unknown"}]}}),
                "(absent: unknown)",
            ),
            (json!({"valueQuantity": "12"}), ""),
            (json!({"component": "nonsense"}), ""),
        ] {
            assert_eq!(cell(&v, Column::Value, today()), want, "{v}");
        }
    }

    #[test]
    fn encounter_and_condition_rows() {
        let e = json!({"resourceType": "Encounter", "id": "e1", "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
            "type": [{"coding": [{"code": "185349003", "display": "Encounter for check up"}]}],
            "period": {"start": "2024-01-02T09:00:00Z", "end": "2024-01-02T09:30:00Z"}});
        assert_eq!(
            row(&e),
            vec![
                "ambulatory",
                "2024-01-02 09:00 – 2024-01-02 09:30",
                "finished",
                "Encounter for check up",
                "e1"
            ]
        );
        let e = json!({"resourceType": "Encounter", "class": [{"coding": [{"code": "IMP"}]}], "period": {"start": "2024-01-02"}});
        assert_eq!(cell(&e, Column::Class, today()), "IMP");
        assert_eq!(cell(&e, Column::Period, today()), "2024-01-02 –");
        let e = json!({"resourceType": "Encounter", "class": {"code": "EMER"}});
        assert_eq!(cell(&e, Column::Class, today()), "EMER");

        let c = json!({"resourceType": "Condition", "id": "c1",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "code": {"coding": [{"display": "Hypertension"}]},
            "onsetDateTime": "2019-03-04T00:00:00+02:00"});
        assert_eq!(
            row(&c),
            vec!["Hypertension", "2019-03-04 00:00", "active", "c1"]
        );
        for (v, want) in [
            (json!({"onsetPeriod": {"start": "2010"}}), "2010"),
            (json!({"onsetString": "childhood"}), "childhood"),
            (
                json!({"onsetAge": {"value": 52, "unit": "years"}}),
                "age 52 years",
            ),
            (
                json!({"recordedDate": "2020-01-01"}),
                "(recorded 2020-01-01)",
            ),
            (json!({"onsetDateTime": 5}), ""),
        ] {
            assert_eq!(cell(&v, Column::Onset, today()), want, "{v}");
        }
        let stu3 = json!({"clinicalStatus": "active"});
        assert_eq!(cell(&stu3, Column::ClinicalStatus, today()), "active");
    }

    #[test]
    fn other_and_mixed() {
        let org = json!({"resourceType": "Organization", "id": "o", "name": "Acme Hospital",
            "meta": {"lastUpdated": "2024-01-01"}});
        assert_eq!(
            row(&org),
            vec!["Organization", "o", "2024-01-01", "Acme Hospital"]
        );
        let narrative = json!({"resourceType": "Medication",
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">\n  <p>Aspirin &amp; co</p>\n</div>"},
            "code": {"text": "ASA"}});
        assert_eq!(cell(&narrative, Column::Summary, today()), "Aspirin & co");
        let q = json!({"resourceType": "Questionnaire", "title": "PHQ-9"});
        assert_eq!(cell(&q, Column::Summary, today()), "PHQ-9");
        let d = json!({"resourceType": "DocumentReference", "description": "Discharge letter", "text": {"div": "<div></div>"}});
        assert_eq!(cell(&d, Column::Summary, today()), "Discharge letter");
        assert_eq!(columns_for("mixed")[2], Column::Summary);
        assert_eq!(columns_for("Nonexistent"), columns_for("Organization"));
        assert!(
            columns_for("Patient")
                .iter()
                .all(|c| !c.title().is_empty() && c.width_hint() > 0)
        );
    }

    proptest! {
        #[test]
        fn cells_never_panic(v in arb_json()) {
            for t in ["Patient", "Observation", "Encounter", "Condition", "mixed", "Other"] {
                for c in columns_for(t) {
                    let _ = cell(&v, *c, today());
                }
            }
        }
    }
}
