//! `$validate` (`POST [type]/$validate`, `GET|POST [type]/[id]/$validate`),
//! answering an OperationOutcome as microsoft/fhir-server's
//! `ValidateController.cs` does: the body may be the resource or a
//! Parameters with `resource` (and `profile`); a valid resource gets one
//! informational issue "All OK" (Resources.resx `ValidationPassed`), a
//! resource that breaks the rules gets error issues, 200 either way. What the
//! real service refuses before validating (no `resourceType`, a type other
//! than the URL's) answers 400.
//!
//! The demo checks structure, not profiles: the top-level elements of each
//! type (R4), the required `status` where R4 requires it, the resource id,
//! and the shapes of a few well-known fields (gender, dates).

use serde_json::Value;

use super::fhir_routes::{typed_object, validate as store_rules};
use super::outcome::{FhirError, Issue};

const COMMON: &[&str] = &[
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
];

/// Top-level elements per type (R4); `name[x]` choice elements as a prefix.
fn elements(rtype: &str) -> Option<&'static [&'static str]> {
    Some(match rtype {
        "Patient" => &[
            "identifier",
            "active",
            "name",
            "telecom",
            "gender",
            "birthDate",
            "deceased[x]",
            "address",
            "maritalStatus",
            "multipleBirth[x]",
            "photo",
            "contact",
            "communication",
            "generalPractitioner",
            "managingOrganization",
            "link",
        ],
        "Practitioner" => &[
            "identifier",
            "active",
            "name",
            "telecom",
            "address",
            "gender",
            "birthDate",
            "photo",
            "qualification",
            "communication",
        ],
        "PractitionerRole" => &[
            "identifier",
            "active",
            "period",
            "practitioner",
            "organization",
            "code",
            "specialty",
            "location",
            "healthcareService",
            "telecom",
            "availableTime",
            "notAvailable",
            "availabilityExceptions",
            "endpoint",
        ],
        "Organization" => &[
            "identifier",
            "active",
            "type",
            "name",
            "alias",
            "telecom",
            "address",
            "partOf",
            "contact",
            "endpoint",
        ],
        "Location" => &[
            "identifier",
            "status",
            "operationalStatus",
            "name",
            "alias",
            "description",
            "mode",
            "type",
            "telecom",
            "address",
            "physicalType",
            "position",
            "managingOrganization",
            "partOf",
            "hoursOfOperation",
            "availabilityExceptions",
            "endpoint",
        ],
        "Encounter" => &[
            "identifier",
            "status",
            "statusHistory",
            "class",
            "classHistory",
            "type",
            "serviceType",
            "priority",
            "subject",
            "episodeOfCare",
            "basedOn",
            "participant",
            "appointment",
            "period",
            "length",
            "reasonCode",
            "reasonReference",
            "diagnosis",
            "account",
            "hospitalization",
            "location",
            "serviceProvider",
            "partOf",
        ],
        "Observation" => &[
            "identifier",
            "basedOn",
            "partOf",
            "status",
            "category",
            "code",
            "subject",
            "focus",
            "encounter",
            "effective[x]",
            "issued",
            "performer",
            "value[x]",
            "dataAbsentReason",
            "interpretation",
            "note",
            "bodySite",
            "method",
            "specimen",
            "device",
            "referenceRange",
            "hasMember",
            "derivedFrom",
            "component",
        ],
        "Condition" => &[
            "identifier",
            "clinicalStatus",
            "verificationStatus",
            "category",
            "severity",
            "code",
            "bodySite",
            "subject",
            "encounter",
            "onset[x]",
            "abatement[x]",
            "recordedDate",
            "recorder",
            "asserter",
            "stage",
            "evidence",
            "note",
        ],
        "Procedure" => &[
            "identifier",
            "instantiatesCanonical",
            "instantiatesUri",
            "basedOn",
            "partOf",
            "status",
            "statusReason",
            "category",
            "code",
            "subject",
            "encounter",
            "performed[x]",
            "recorder",
            "asserter",
            "performer",
            "location",
            "reasonCode",
            "reasonReference",
            "bodySite",
            "outcome",
            "report",
            "complication",
            "complicationDetail",
            "followUp",
            "note",
            "focalDevice",
            "usedReference",
            "usedCode",
        ],
        "MedicationRequest" => &[
            "identifier",
            "status",
            "statusReason",
            "intent",
            "category",
            "priority",
            "doNotPerform",
            "reported[x]",
            "medication[x]",
            "subject",
            "encounter",
            "supportingInformation",
            "authoredOn",
            "requester",
            "performer",
            "performerType",
            "recorder",
            "reasonCode",
            "reasonReference",
            "instantiatesCanonical",
            "instantiatesUri",
            "basedOn",
            "groupIdentifier",
            "courseOfTherapyType",
            "insurance",
            "note",
            "dosageInstruction",
            "dispenseRequest",
            "substitution",
            "priorPrescription",
            "detectedIssue",
            "eventHistory",
        ],
        "AllergyIntolerance" => &[
            "identifier",
            "clinicalStatus",
            "verificationStatus",
            "type",
            "category",
            "criticality",
            "code",
            "patient",
            "encounter",
            "onset[x]",
            "recordedDate",
            "recorder",
            "asserter",
            "lastOccurrence",
            "note",
            "reaction",
        ],
        "DiagnosticReport" => &[
            "identifier",
            "basedOn",
            "status",
            "category",
            "code",
            "subject",
            "encounter",
            "effective[x]",
            "issued",
            "performer",
            "resultsInterpreter",
            "specimen",
            "result",
            "imagingStudy",
            "media",
            "conclusion",
            "conclusionCode",
            "presentedForm",
        ],
        "Group" => &[
            "identifier",
            "active",
            "type",
            "actual",
            "code",
            "name",
            "quantity",
            "managingEntity",
            "characteristic",
            "member",
        ],
        _ => return None,
    })
}

/// Types whose `status` is required in R4 (cardinality 1..1).
const STATUS_REQUIRED: &[&str] = &[
    "Encounter",
    "Observation",
    "Procedure",
    "MedicationRequest",
    "DiagnosticReport",
];

fn known(allowed: &[&str], key: &str) -> bool {
    COMMON.contains(&key)
        || allowed.iter().any(|e| match e.strip_suffix("[x]") {
            Some(prefix) => key
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase())),
            None => *e == key,
        })
}

/// The resource a `$validate` body names: itself, or a Parameters' `resource`.
pub(super) fn resource_of(body: &Value) -> Result<Option<&Value>, FhirError> {
    if body.get("resourceType").and_then(Value::as_str) == Some("Parameters") {
        let params = body.get("parameter").and_then(Value::as_array);
        let inner = params
            .into_iter()
            .flatten()
            .find(|p| p.get("name").and_then(Value::as_str) == Some("resource"))
            .and_then(|p| p.get("resource"));
        return Ok(inner);
    }
    Ok(Some(body))
}

/// Validates `res` against `url_type`: `Err` for what the service refuses
/// outright, otherwise the issues (errors, or "All OK").
pub(super) fn run(url_type: &str, res: &Value) -> Result<Vec<Issue>, FhirError> {
    let (obj, rt) = typed_object(res)?;
    if rt != url_type {
        return Err(FhirError::bad_request(
            "Resource type in the URL must match resourceType in the resource.",
        ));
    }
    let allowed = elements(rt).ok_or_else(|| FhirError::unknown_type(rt))?;
    let mut issues = Vec::new();
    for key in obj.keys() {
        if !known(allowed, key) {
            issues.push(Issue::new(
                "error",
                "structure",
                format!(
                    "Encountered unknown element '{key}' at location '{rt}.{key}' while parsing."
                ),
            ));
        }
    }
    if STATUS_REQUIRED.contains(&rt) && !obj.contains_key("status") {
        issues.push(Issue::new(
            "error",
            "required",
            format!("Instance count for '{rt}.status' is 0, which is not within the specified cardinality of 1..1"),
        ));
    }
    if let Err(e) = store_rules(rt, res) {
        issues.push(Issue::new("error", "invalid", e.issue.diagnostics));
    }
    if issues.is_empty() {
        issues.push(Issue::new("information", "informational", "All OK"));
    }
    Ok(issues)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ok_unknown_and_choice_elements() {
        let ok = run(
            "Observation",
            &json!({"resourceType": "Observation", "status": "final", "code": {}, "effectiveDateTime": "2024-01-01", "valueQuantity": {"value": 1}}),
        )
        .expect("validated");
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].diagnostics, "All OK");
        let bad = run(
            "Observation",
            &json!({"resourceType": "Observation", "code": {}, "colour": "red", "valueBanana": 1}),
        )
        .expect("validated");
        let text: Vec<&str> = bad.iter().map(|i| i.diagnostics.as_str()).collect();
        assert!(text.iter().any(|t| t.contains("'colour'")), "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("Observation.status")),
            "{text:?}"
        );
        assert!(bad.iter().all(|i| i.severity == "error"));
        assert!(run("Patient", &json!({"resourceType": "Observation"})).is_err());
        assert!(run("Patient", &json!({"name": []})).is_err());
    }
}
