//! The search parameter table, shared with the CapabilityStatement: each type's parameters,
//! their kinds and paths, the result parameters and the sorts.

pub(crate) const DEFAULT_COUNT: usize = 10;
pub(crate) const MAX_COUNT: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrField {
    Name,
    Family,
    Given,
    /// A plain `name` string (Organization, Location).
    Title,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokField {
    Identifier,
    Gender,
    Code,
    Category,
    Status,
    Class,
    ClinicalStatus,
    Intent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateField {
    LastUpdated,
    BirthDate,
    Effective,
    Period,
    Onset,
    Performed,
    Authored,
    Recorded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Id,
    Str(StrField),
    Tok(TokField),
    Date(DateField),
    /// A reference at `path` (dot-separated, arrays walked), restricted to
    /// `target` when the parameter has a single target type.
    Ref {
        target: Option<&'static str>,
        path: &'static str,
    },
}

/// (resource type or "*", name, FHIR search param type, kind)
pub(super) const PARAMS: &[(&str, &str, &str, Kind)] = &[
    ("*", "_id", "token", Kind::Id),
    (
        "*",
        "_lastUpdated",
        "date",
        Kind::Date(DateField::LastUpdated),
    ),
    ("Patient", "name", "string", Kind::Str(StrField::Name)),
    ("Patient", "family", "string", Kind::Str(StrField::Family)),
    ("Patient", "given", "string", Kind::Str(StrField::Given)),
    (
        "Patient",
        "identifier",
        "token",
        Kind::Tok(TokField::Identifier),
    ),
    ("Patient", "gender", "token", Kind::Tok(TokField::Gender)),
    (
        "Patient",
        "birthdate",
        "date",
        Kind::Date(DateField::BirthDate),
    ),
    (
        "Patient",
        "general-practitioner",
        "reference",
        reference(None, "generalPractitioner"),
    ),
    (
        "Patient",
        "organization",
        "reference",
        reference(Some("Organization"), "managingOrganization"),
    ),
    ("Practitioner", "name", "string", Kind::Str(StrField::Name)),
    (
        "Practitioner",
        "family",
        "string",
        Kind::Str(StrField::Family),
    ),
    (
        "Practitioner",
        "given",
        "string",
        Kind::Str(StrField::Given),
    ),
    (
        "Practitioner",
        "identifier",
        "token",
        Kind::Tok(TokField::Identifier),
    ),
    (
        "Practitioner",
        "gender",
        "token",
        Kind::Tok(TokField::Gender),
    ),
    ("Organization", "name", "string", Kind::Str(StrField::Title)),
    (
        "Organization",
        "identifier",
        "token",
        Kind::Tok(TokField::Identifier),
    ),
    ("Location", "name", "string", Kind::Str(StrField::Title)),
    (
        "Location",
        "organization",
        "reference",
        reference(Some("Organization"), "managingOrganization"),
    ),
    (
        "PractitionerRole",
        "practitioner",
        "reference",
        reference(Some("Practitioner"), "practitioner"),
    ),
    (
        "PractitionerRole",
        "organization",
        "reference",
        reference(Some("Organization"), "organization"),
    ),
    (
        "PractitionerRole",
        "location",
        "reference",
        reference(Some("Location"), "location"),
    ),
    (
        "PractitionerRole",
        "role",
        "token",
        Kind::Tok(TokField::Code),
    ),
    (
        "Observation",
        "patient",
        "reference",
        reference(Some("Patient"), "subject"),
    ),
    (
        "Observation",
        "subject",
        "reference",
        reference(None, "subject"),
    ),
    (
        "Observation",
        "encounter",
        "reference",
        reference(Some("Encounter"), "encounter"),
    ),
    ("Observation", "code", "token", Kind::Tok(TokField::Code)),
    (
        "Observation",
        "category",
        "token",
        Kind::Tok(TokField::Category),
    ),
    (
        "Observation",
        "status",
        "token",
        Kind::Tok(TokField::Status),
    ),
    (
        "Observation",
        "date",
        "date",
        Kind::Date(DateField::Effective),
    ),
    (
        "Encounter",
        "patient",
        "reference",
        reference(Some("Patient"), "subject"),
    ),
    (
        "Encounter",
        "subject",
        "reference",
        reference(None, "subject"),
    ),
    (
        "Encounter",
        "participant",
        "reference",
        reference(None, "participant.individual"),
    ),
    (
        "Encounter",
        "practitioner",
        "reference",
        reference(Some("Practitioner"), "participant.individual"),
    ),
    (
        "Encounter",
        "location",
        "reference",
        reference(Some("Location"), "location.location"),
    ),
    (
        "Encounter",
        "service-provider",
        "reference",
        reference(Some("Organization"), "serviceProvider"),
    ),
    ("Encounter", "status", "token", Kind::Tok(TokField::Status)),
    ("Encounter", "class", "token", Kind::Tok(TokField::Class)),
    ("Encounter", "date", "date", Kind::Date(DateField::Period)),
    (
        "Condition",
        "patient",
        "reference",
        reference(Some("Patient"), "subject"),
    ),
    (
        "Condition",
        "subject",
        "reference",
        reference(None, "subject"),
    ),
    ("Condition", "code", "token", Kind::Tok(TokField::Code)),
    (
        "Condition",
        "category",
        "token",
        Kind::Tok(TokField::Category),
    ),
    (
        "Condition",
        "clinical-status",
        "token",
        Kind::Tok(TokField::ClinicalStatus),
    ),
    (
        "Condition",
        "onset-date",
        "date",
        Kind::Date(DateField::Onset),
    ),
    (
        "Procedure",
        "patient",
        "reference",
        reference(Some("Patient"), "subject"),
    ),
    (
        "Procedure",
        "subject",
        "reference",
        reference(None, "subject"),
    ),
    (
        "Procedure",
        "encounter",
        "reference",
        reference(Some("Encounter"), "encounter"),
    ),
    (
        "Procedure",
        "performer",
        "reference",
        reference(None, "performer.actor"),
    ),
    (
        "Procedure",
        "location",
        "reference",
        reference(Some("Location"), "location"),
    ),
    ("Procedure", "code", "token", Kind::Tok(TokField::Code)),
    ("Procedure", "status", "token", Kind::Tok(TokField::Status)),
    (
        "Procedure",
        "date",
        "date",
        Kind::Date(DateField::Performed),
    ),
    (
        "MedicationRequest",
        "patient",
        "reference",
        reference(Some("Patient"), "subject"),
    ),
    (
        "MedicationRequest",
        "subject",
        "reference",
        reference(None, "subject"),
    ),
    (
        "MedicationRequest",
        "encounter",
        "reference",
        reference(Some("Encounter"), "encounter"),
    ),
    (
        "MedicationRequest",
        "requester",
        "reference",
        reference(None, "requester"),
    ),
    (
        "MedicationRequest",
        "code",
        "token",
        Kind::Tok(TokField::Code),
    ),
    (
        "MedicationRequest",
        "status",
        "token",
        Kind::Tok(TokField::Status),
    ),
    (
        "MedicationRequest",
        "intent",
        "token",
        Kind::Tok(TokField::Intent),
    ),
    (
        "MedicationRequest",
        "authoredon",
        "date",
        Kind::Date(DateField::Authored),
    ),
    (
        "AllergyIntolerance",
        "patient",
        "reference",
        reference(Some("Patient"), "patient"),
    ),
    (
        "AllergyIntolerance",
        "code",
        "token",
        Kind::Tok(TokField::Code),
    ),
    (
        "AllergyIntolerance",
        "category",
        "token",
        Kind::Tok(TokField::Category),
    ),
    (
        "AllergyIntolerance",
        "clinical-status",
        "token",
        Kind::Tok(TokField::ClinicalStatus),
    ),
    (
        "AllergyIntolerance",
        "date",
        "date",
        Kind::Date(DateField::Recorded),
    ),
    (
        "DiagnosticReport",
        "patient",
        "reference",
        reference(Some("Patient"), "subject"),
    ),
    (
        "DiagnosticReport",
        "subject",
        "reference",
        reference(None, "subject"),
    ),
    (
        "DiagnosticReport",
        "encounter",
        "reference",
        reference(Some("Encounter"), "encounter"),
    ),
    (
        "DiagnosticReport",
        "result",
        "reference",
        reference(Some("Observation"), "result"),
    ),
    (
        "DiagnosticReport",
        "performer",
        "reference",
        reference(None, "performer"),
    ),
    (
        "DiagnosticReport",
        "code",
        "token",
        Kind::Tok(TokField::Code),
    ),
    (
        "DiagnosticReport",
        "category",
        "token",
        Kind::Tok(TokField::Category),
    ),
    (
        "DiagnosticReport",
        "status",
        "token",
        Kind::Tok(TokField::Status),
    ),
    (
        "DiagnosticReport",
        "date",
        "date",
        Kind::Date(DateField::Effective),
    ),
];

const fn reference(target: Option<&'static str>, path: &'static str) -> Kind {
    Kind::Ref { target, path }
}

/// Result parameters understood on every search.
pub(crate) const RESULT_PARAMS: &[&str] = &[
    "_count",
    "_sort",
    "_total",
    "_summary",
    "_include",
    "_revinclude",
    "ct",
    "_format",
];

/// `_sort` fields per type (besides `_lastUpdated` and `_id`).
pub(crate) const SORTS: &[(&str, &str)] = &[
    ("Patient", "birthdate"),
    ("Patient", "family"),
    ("Patient", "given"),
    ("Patient", "name"),
    ("Practitioner", "family"),
    ("Practitioner", "name"),
    ("Organization", "name"),
    ("Location", "name"),
    ("Observation", "date"),
    ("Encounter", "date"),
    ("Condition", "onset-date"),
    ("Procedure", "date"),
    ("MedicationRequest", "authoredon"),
    ("AllergyIntolerance", "date"),
    ("DiagnosticReport", "date"),
];

/// (source type, search parameter) usable in `_include`/`_revinclude`:
/// every reference parameter.
pub(crate) fn includes() -> impl Iterator<Item = (&'static str, &'static str)> {
    PARAMS
        .iter()
        .filter(|(t, _, _, k)| *t != "*" && matches!(k, Kind::Ref { .. }))
        .map(|(t, n, _, _)| (*t, *n))
}

/// Reference parameters of other types that can point at `rtype` (its
/// `_revinclude` values).
pub(crate) fn revincludes_of(rtype: &str) -> Vec<(&'static str, &'static str)> {
    includes()
        .filter(|(s, p)| match param_kind(s, p) {
            Some(Kind::Ref {
                target: Some(t), ..
            }) => t == rtype,
            // Untargeted references (subject, participant, performer, …) point at people.
            Some(Kind::Ref { target: None, .. }) => {
                matches!(rtype, "Patient" | "Practitioner" | "Organization")
            }
            _ => false,
        })
        .collect()
}

/// Types a reference parameter may point at (its target, or any type).
pub(super) fn ref_target_ok(rtype: &str, name: &str, t: &str) -> bool {
    match param_kind(rtype, name) {
        Some(Kind::Ref {
            target: Some(x), ..
        }) => x == t,
        Some(Kind::Ref { target: None, .. }) => super::super::store::is_supported(t),
        _ => false,
    }
}

pub(crate) fn param_kind(rtype: &str, name: &str) -> Option<Kind> {
    PARAMS
        .iter()
        .find(|(t, n, _, _)| (*t == "*" || *t == rtype) && *n == name)
        .map(|p| p.3)
}

pub(crate) fn params_for(rtype: &str) -> Vec<(&'static str, &'static str)> {
    PARAMS
        .iter()
        .filter(|(t, _, _, _)| *t == "*" || *t == rtype)
        .map(|(_, n, ty, _)| (*n, *ty))
        .collect()
}
