//! Small tolerant readers shared by the FHIR modules.
//!
//! Servers send anything: a string where a number was expected, an object where an array was,
//! empty strings, extensions instead of values. Every helper here takes whatever it is given
//! and answers `None`/empty rather than failing, so the modules above never index into data.

use serde_json::Value;

/// The string at `key`, trimmed, if it is a non-empty string (numbers and booleans are
/// accepted too and rendered as text, since servers get types wrong).
pub(crate) fn text_at(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(scalar_text)
}

/// A borrowed non-empty, trimmed string at `key` (strings only).
pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Renders a scalar JSON value as text: strings (trimmed, non-empty), numbers, booleans.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The elements at `key` as a slice: an array as is, a single non-null value as a one-element
/// slice (a wrong cardinality is common), anything else empty.
pub(crate) fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    match v.get(key) {
        Some(Value::Array(a)) => a,
        Some(Value::Null) | None => &[],
        Some(other) => std::slice::from_ref(other),
    }
}

/// A value as a slice: arrays as is, a single non-null value as one element.
pub(crate) fn as_list(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a,
        Value::Null => &[],
        other => std::slice::from_ref(other),
    }
}

/// Text for a Coding: display, else code.
pub(crate) fn coding_text(c: &Value) -> Option<String> {
    text_at(c, "display").or_else(|| text_at(c, "code"))
}

/// Text for a CodeableConcept: `text`, then the first coding's display, then the first code.
/// A bare string (a code where a concept was expected) and a Coding are accepted too.
pub(crate) fn concept_text(cc: &Value) -> Option<String> {
    match cc {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => scalar_text(cc),
        Value::Array(a) => a.iter().find_map(concept_text),
        Value::Object(_) => text_at(cc, "text")
            .or_else(|| {
                list(cc, "coding")
                    .iter()
                    .find_map(|c| text_at(c, "display"))
            })
            .or_else(|| list(cc, "coding").iter().find_map(|c| text_at(c, "code")))
            .or_else(|| coding_text(cc)),
        Value::Null => None,
    }
}

/// The first code of a CodeableConcept (or a bare code string, as STU3 sent).
pub(crate) fn concept_code(cc: &Value) -> Option<String> {
    match cc {
        Value::Object(_) => list(cc, "coding")
            .iter()
            .find_map(|c| text_at(c, "code"))
            .or_else(|| text_at(cc, "code"))
            .or_else(|| text_at(cc, "text")),
        Value::Array(a) => a.iter().find_map(concept_code),
        other => scalar_text(other),
    }
}

/// A date or dateTime for a table: `2024-03-05T10:32:11+01:00` becomes `2024-03-05 10:32`.
/// The offset is dropped (the wall-clock time as the server wrote it); dates and partial
/// dates are returned unchanged.
pub(crate) fn short_datetime(s: &str) -> String {
    let s = s.trim();
    match s.split_once('T') {
        Some((date, time)) => {
            let hm: String = time.chars().take(5).collect();
            let looks_like_time = hm.len() == 5
                && hm.char_indices().all(
                    |(i, c)| {
                        if i == 2 { c == ':' } else { c.is_ascii_digit() }
                    },
                );
            if looks_like_time {
                format!("{date} {hm}")
            } else {
                date.to_string()
            }
        }
        None => s.to_string(),
    }
}

/// A formatted HumanName: `text` if present, else prefix, given names, family, suffix.
pub(crate) fn format_name(n: &Value) -> Option<String> {
    match n {
        Value::String(_) => scalar_text(n),
        Value::Object(_) => {
            if let Some(t) = text_at(n, "text") {
                return Some(t);
            }
            let mut parts: Vec<String> = Vec::new();
            parts.extend(list(n, "prefix").iter().filter_map(scalar_text));
            parts.extend(list(n, "given").iter().filter_map(scalar_text));
            // `family` is a string in R4 but a list in DSTU2.
            parts.extend(list(n, "family").iter().filter_map(scalar_text));
            parts.extend(list(n, "suffix").iter().filter_map(scalar_text));
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        _ => None,
    }
}

/// The name to show among several: `use=official` first, then `usual`, then any not marked
/// `old`/`anonymous`, then whatever comes first; names that give nothing to show are skipped.
pub(crate) fn best_name(names: &Value) -> Option<String> {
    let names = as_list(names);
    let rank = |n: &Value| match str_at(n, "use") {
        Some("official") => 0,
        Some("usual") => 1,
        None => 2,
        Some("old") | Some("anonymous") => 4,
        Some(_) => 3,
    };
    let mut ordered: Vec<&Value> = names.iter().collect();
    ordered.sort_by_key(|n| rank(n)); // stable: keeps server order within a rank
    ordered.into_iter().find_map(format_name)
}

/// Strips tags from XHTML narrative, decodes the common entities and collapses whitespace.
pub(crate) fn strip_tags(div: &str) -> String {
    let mut out = String::with_capacity(div.len().min(4096));
    let mut in_tag = false;
    for c in div.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&#160;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts text to at most `max` characters, ending with `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A Quantity (or Age/Duration/SimpleQuantity) as `comparator value unit`.
pub(crate) fn quantity_text(q: &Value) -> Option<String> {
    let value = q.get("value").and_then(scalar_text);
    let unit = text_at(q, "unit").or_else(|| text_at(q, "code"));
    let comparator = text_at(q, "comparator").unwrap_or_default();
    match (value, unit) {
        (Some(v), Some(u)) => Some(format!("{comparator}{v} {u}")),
        (Some(v), None) => Some(format!("{comparator}{v}")),
        (None, Some(u)) => Some(u),
        (None, None) => None,
    }
}

/// All R4 (4.0.1) resource types, for completion when no CapabilityStatement is known and to
/// recognise a resource type in a URL path.
pub const R4_RESOURCE_TYPES: &[&str] = &[
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// Whether a path segment has the shape of a resource type name (`Patient`, `ValueSet`):
/// an ASCII uppercase letter followed by ASCII letters. Servers may define custom types, so
/// this does not consult the R4 list.
pub(crate) fn looks_like_type(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_prefer_official_and_text() {
        let names = json!([
            {"use": "old", "family": "Miller", "given": ["Ann"]},
            {"use": "official", "family": "Smith", "given": ["Ann", "B."], "prefix": ["Dr."], "suffix": ["PhD"]},
            {"use": "usual", "text": "Annie"}
        ]);
        assert_eq!(best_name(&names).as_deref(), Some("Dr. Ann B. Smith PhD"));
        let names = json!([{"use": "official", "text": "Ann Smith", "family": "X"}]);
        assert_eq!(best_name(&names).as_deref(), Some("Ann Smith"));
        // DSTU2 family list, a number as given, a name with nothing in it is skipped.
        let names = json!([{"use": "official"}, {"family": ["van", "Dijk"], "given": [42]}]);
        assert_eq!(best_name(&names).as_deref(), Some("42 van Dijk"));
        assert_eq!(best_name(&json!("Plain")).as_deref(), Some("Plain"));
        assert_eq!(best_name(&json!(7)), None);
    }

    #[test]
    fn concepts_and_dates() {
        assert_eq!(
            concept_text(&json!({"coding": [{"code": "x"}, {"display": "Y"}]})).as_deref(),
            Some("Y")
        );
        assert_eq!(
            concept_text(&json!({"coding": {"code": "x"}})).as_deref(),
            Some("x")
        );
        assert_eq!(
            short_datetime("2024-03-05T10:32:11+01:00"),
            "2024-03-05 10:32"
        );
        assert_eq!(short_datetime("2024-03"), "2024-03");
        assert_eq!(short_datetime("2024-03-05Tgarbage"), "2024-03-05");
        assert_eq!(
            strip_tags("<div xmlns=\"x\"><p>A &amp; B</p>\n <b>c</b></div>"),
            "A & B c"
        );
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
