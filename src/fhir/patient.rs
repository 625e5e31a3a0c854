//! The patient header: who this is at a glance (name, gender, birth date and age, identifiers,
//! address, contact), read from a Patient resource, so every view of a patient's data can
//! show the same line at the top.

use chrono::NaiveDate;
use serde_json::Value;

use super::columns::main_identifier;
use super::lookup::{age, age_label};
use super::util::{best_name, concept_text, list, scalar_text, str_at, text_at};

/// A Patient resource, summarised for a header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientSummary {
    pub name: Option<String>,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    /// Whole years on `today` (or at death, when a death date is known). For year or
    /// year-month birth dates it may be one too high; see [`super::lookup::age`].
    pub age: Option<u32>,
    /// `44`, or `~44` for a partial birth date.
    pub age_label: Option<String>,
    /// (label, value): the label is the identifier type's text/display/code, else the last
    /// path segment of its system, else `id`. The main identifier (MR) comes first.
    pub identifiers: Vec<(String, String)>,
    pub address: Option<String>,
    /// `phone +1-555-0100 (mobile)`, `email a@b.org`.
    pub telecom: Vec<String>,
    pub id: Option<String>,
    /// `deceased`, or `deceased 2020-01-02` when a date is given.
    pub deceased: Option<String>,
}

impl PatientSummary {
    /// Reads a Patient. `None` when the value is not an object or is another resource type
    /// (a missing `resourceType` is accepted).
    pub fn from_resource(p: &Value, today: NaiveDate) -> Option<PatientSummary> {
        if !p.is_object() {
            return None;
        }
        if let Some(t) = p.get("resourceType")
            && t.as_str() != Some("Patient")
        {
            return None;
        }
        let birth_date = str_at(p, "birthDate").map(String::from);
        let deceased_date =
            str_at(p, "deceasedDateTime").map(|d| d.get(..10).unwrap_or(d).to_string());
        let deceased = match (&deceased_date, p.get("deceasedBoolean")) {
            (Some(d), _) => Some(format!("deceased {d}")),
            (None, Some(Value::Bool(true))) => Some("deceased".to_string()),
            (None, Some(Value::String(s))) if s.trim() == "true" => Some("deceased".to_string()),
            _ => None,
        };
        // Age at death when the date of death can be read, else on `today`.
        let on = deceased_date
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .filter(|d| *d <= today)
            .unwrap_or(today);
        let (years, label) = match &birth_date {
            Some(b) => (age(b, on), age_label(b, on)),
            None => (None, None),
        };

        let main = main_identifier(p);
        let mut identifiers: Vec<(String, String)> = Vec::new();
        for i in main
            .into_iter()
            .chain(list(p, "identifier").iter().filter(|i| Some(*i) != main))
        {
            let Some(value) = text_at(i, "value") else {
                continue;
            };
            let label = i
                .get("type")
                .and_then(concept_text)
                .or_else(|| str_at(i, "system").and_then(system_label))
                .unwrap_or_else(|| "id".to_string());
            identifiers.push((label, value));
        }

        Some(PatientSummary {
            name: p.get("name").and_then(best_name),
            gender: text_at(p, "gender"),
            birth_date,
            age: years,
            age_label: label,
            identifiers,
            address: best_address(list(p, "address")),
            telecom: list(p, "telecom").iter().filter_map(telecom_text).collect(),
            id: text_at(p, "id"),
            deceased,
        })
    }

    /// One header line: `Joanna Smith · female · 1980-04-02 (44) · MRN MRN-1 · id p1`.
    pub fn header_line(&self) -> String {
        self.headline(true)
    }

    /// The header line, with or without the first identifier (left out where the identifiers
    /// have a line of their own, so the id is not pushed off a narrow screen).
    pub fn headline(&self, with_identifier: bool) -> String {
        let mut parts: Vec<String> = vec![self.name.clone().unwrap_or_else(|| "(no name)".into())];
        parts.extend(self.gender.clone());
        match (&self.birth_date, &self.age_label) {
            (Some(b), Some(a)) => parts.push(format!("{b} ({a})")),
            (Some(b), None) => parts.push(b.clone()),
            _ => {}
        }
        parts.extend(self.deceased.clone());
        if let Some((label, value)) = self.identifiers.first().filter(|_| with_identifier) {
            parts.push(format!("{label} {value}"));
        }
        if let Some(id) = &self.id {
            parts.push(format!("id {id}"));
        }
        parts.join(" · ")
    }
}

/// `http://hospital.example.org/identifiers/mrn` → `mrn`; `urn:oid:1.2.3` → `1.2.3`.
fn system_label(system: &str) -> Option<String> {
    let s = system.trim().trim_end_matches('/');
    let last = s.rsplit(['/', ':']).next().unwrap_or(s);
    (!last.is_empty()).then(|| last.to_string())
}

/// The home address (else the first not marked `old`, else the first), as one line.
fn best_address(addresses: &[Value]) -> Option<String> {
    let rank = |a: &Value| match str_at(a, "use") {
        Some("home") => 0,
        Some("old") => 2,
        _ => 1,
    };
    let mut ordered: Vec<&Value> = addresses.iter().collect();
    ordered.sort_by_key(|a| rank(a));
    ordered.into_iter().find_map(address_text)
}

fn address_text(a: &Value) -> Option<String> {
    if let Some(t) = text_at(a, "text") {
        return Some(t);
    }
    let mut parts: Vec<String> = Vec::new();
    let lines: Vec<String> = list(a, "line").iter().filter_map(scalar_text).collect();
    if !lines.is_empty() {
        parts.push(lines.join(", "));
    }
    parts.extend(text_at(a, "city"));
    let state_zip: Vec<String> = [text_at(a, "state"), text_at(a, "postalCode")]
        .into_iter()
        .flatten()
        .collect();
    if !state_zip.is_empty() {
        parts.push(state_zip.join(" "));
    }
    parts.extend(text_at(a, "country"));
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn telecom_text(t: &Value) -> Option<String> {
    let value = text_at(t, "value")?;
    let mut s = match text_at(t, "system") {
        Some(system) => format!("{system} {value}"),
        None => value,
    };
    if let Some(u) = text_at(t, "use") {
        s.push_str(&format!(" ({u})"));
    }
    Some(s)
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

    #[test]
    fn full_patient() {
        let p = json!({
            "resourceType": "Patient", "id": "p1",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {"city": "Oslo"}}],
            "identifier": [
                {"system": "urn:oid:2.16.840.1.113883.4.1", "value": "999-99-9999"},
                {"use": "usual", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number"}], "text": "MRN"},
                 "system": "http://hospital.example.org/mrn", "value": "MRN-000123"},
                {"system": "http://hospital.example.org/ids/insurance/", "value": 4411},
                {"value": "X"},
                {"system": "http://nothing"}
            ],
            "name": [
                {"use": "old", "family": "Miller", "given": ["Joanna"]},
                {"use": "official", "family": "Smith", "given": ["Joanna", "Q"], "prefix": ["Ms."]}
            ],
            "telecom": [
                {"system": "phone", "value": "+1-555-0100", "use": "mobile"},
                {"system": "email", "value": "jo@example.org"},
                {"system": "fax"}
            ],
            "gender": "female",
            "birthDate": "1980-04-02",
            "address": [
                {"use": "old", "text": "Old Street 1"},
                {"use": "home", "line": ["12 Main St", "Apt 3"], "city": "Springfield", "state": "IL", "postalCode": "62701", "country": "US"}
            ]
        });
        let s = PatientSummary::from_resource(&p, today()).expect("patient");
        assert_eq!(s.name.as_deref(), Some("Ms. Joanna Q Smith"));
        assert_eq!(s.age, Some(44));
        assert_eq!(
            s.identifiers,
            vec![
                ("MRN".to_string(), "MRN-000123".to_string()),
                (
                    "2.16.840.1.113883.4.1".to_string(),
                    "999-99-9999".to_string()
                ),
                ("insurance".to_string(), "4411".to_string()),
                ("id".to_string(), "X".to_string()),
            ]
        );
        assert_eq!(
            s.address.as_deref(),
            Some("12 Main St, Apt 3, Springfield, IL 62701, US")
        );
        assert_eq!(
            s.telecom,
            vec!["phone +1-555-0100 (mobile)", "email jo@example.org"]
        );
        assert_eq!(
            s.header_line(),
            "Ms. Joanna Q Smith · female · 1980-04-02 (44) · MRN MRN-000123 · id p1"
        );
    }

    #[test]
    fn sparse_and_odd_patients() {
        let s = PatientSummary::from_resource(&json!({}), today()).expect("object");
        assert_eq!(s, PatientSummary::default());
        assert_eq!(s.header_line(), "(no name)");
        assert!(
            PatientSummary::from_resource(&json!({"resourceType": "Observation"}), today())
                .is_none()
        );
        assert!(PatientSummary::from_resource(&json!({"resourceType": 3}), today()).is_none());
        assert!(PatientSummary::from_resource(&json!("Patient"), today()).is_none());

        let p = json!({"resourceType": "Patient", "birthDate": "1950", "deceasedDateTime": "2000-03-01T10:00:00Z",
                       "name": [{"text": "  "}, {"given": ["Al"]}], "address": {"city": "Paris"}, "telecom": "555"});
        let s = PatientSummary::from_resource(&p, today()).expect("patient");
        assert_eq!(s.age, Some(50));
        assert_eq!(s.age_label.as_deref(), Some("~50"));
        assert_eq!(s.deceased.as_deref(), Some("deceased 2000-03-01"));
        assert_eq!(s.name.as_deref(), Some("Al"));
        assert_eq!(s.address.as_deref(), Some("Paris"));
        assert!(s.telecom.is_empty());
        let p = json!({"resourceType": "Patient", "deceasedBoolean": true, "birthDate": 1980});
        let s = PatientSummary::from_resource(&p, today()).expect("patient");
        assert_eq!(s.deceased.as_deref(), Some("deceased"));
        assert_eq!(s.birth_date, None);
        assert_eq!(s.header_line(), "(no name) · deceased");
    }

    proptest! {
        #[test]
        fn never_panics(v in arb_json()) {
            if let Some(s) = PatientSummary::from_resource(&v, today()) {
                let _ = s.header_line();
            }
        }
    }
}
