//! What a condition calls for: medications and procedures, and a patient's allergies.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rand::Rng;
use serde_json::json;

use super::{Cond, Ctx, RXNORM, SNOMED, coding, reference};
use crate::demo::util::fhir_datetime;

pub(super) fn medication(cx: &mut Ctx, cond: Cond, enc: &str, at: DateTime<Utc>) {
    let Some((code, display, dosage)) = cond.medication() else {
        return;
    };
    let (ccode, cdisplay) = cond.code();
    let mr = json!({
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": coding(RXNORM, code, display),
        "subject": cx.subject(),
        "encounter": {"reference": format!("Encounter/{enc}")},
        "authoredOn": fhir_datetime(at + ChronoDuration::minutes(25)),
        "requester": cx.gp(),
        "reasonCode": [coding(SNOMED, ccode, cdisplay)],
        "dosageInstruction": [{"text": dosage}],
    });
    cx.seed("MedicationRequest", mr);
}

pub(super) fn procedure_for(cx: &mut Ctx, cond: Cond, enc: &str, at: DateTime<Utc>) {
    match cond {
        Cond::Hypertension => {
            procedure(cx, enc, at, ("268400002", "12 lead electrocardiogram"), 15)
        }
        Cond::Asthma => procedure(cx, enc, at, ("127783003", "Spirometry"), 20),
        Cond::Depression => procedure(cx, enc, at, ("171207006", "Depression screening"), 15),
        _ => {}
    }
}

pub(super) fn procedure(
    cx: &mut Ctx,
    enc: &str,
    at: DateTime<Utc>,
    (code, display): (&str, &str),
    minutes: i64,
) {
    let loc = &cx.dir.locations[0];
    let p = json!({
        "resourceType": "Procedure",
        "status": "completed",
        "code": coding(SNOMED, code, display),
        "subject": cx.subject(),
        "encounter": {"reference": format!("Encounter/{enc}")},
        "performedPeriod": {"start": fhir_datetime(at), "end": fhir_datetime(at + ChronoDuration::minutes(minutes))},
        "performer": [{"actor": cx.gp()}],
        "location": reference("Location", &loc.0, &loc.1),
    });
    cx.seed("Procedure", p);
}

pub(super) fn allergies(cx: &mut Ctx, before: DateTime<Utc>) {
    const KINDS: &[(&str, &str, &str, &str, &str)] = &[
        (
            "764146007",
            "Penicillin",
            "medication",
            "247472004",
            "Hives",
        ),
        ("762952008", "Peanut", "food", "39579001", "Anaphylaxis"),
        (
            "111088007",
            "Latex",
            "environment",
            "271807003",
            "Eruption of skin",
        ),
    ];
    if !cx.rng.random_bool(0.2) {
        return;
    }
    let (code, display, cat, rcode, rdisplay) = KINDS[cx.rng.random_range(0..KINDS.len())];
    let recorded =
        (before - ChronoDuration::days(cx.rng.random_range(30..2000))).max(cx.person.birth);
    let a = json!({
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed"}]},
        "type": "allergy",
        "category": [cat],
        "criticality": if rcode == "39579001" { "high" } else { "low" },
        "code": coding(SNOMED, code, display),
        "patient": cx.subject(),
        "recordedDate": fhir_datetime(recorded),
        "recorder": cx.gp(),
        "reaction": [{"manifestation": [coding(SNOMED, rcode, rdisplay)]}],
    });
    cx.seed("AllergyIntolerance", a);
}
