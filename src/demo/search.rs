//! FHIR search: parameter table (shared with the CapabilityStatement),
//! value parsing (string/token/date/reference), `_sort`, `_count`, paging
//! with an opaque continuation token (`ct`; only `next` links, as Azure pages
//! forward only), `_include`/`_revinclude`, and the searchset Bundle.
//! Lenient by default (unknown parameters become a warning OperationOutcome
//! entry and drop out of the `self` link), strict with
//! `Prefer: handling=strict` (400), as `SearchOptionsFactory.cs` does.

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::outcome::{FhirError, Issue, outcome};
use super::store::Store;
use super::util::{DateRange, encode_query, fhir_instant, fold, new_guid, parse_date_range};

pub const DEFAULT_COUNT: usize = 10;
pub const MAX_COUNT: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrField {
    Name,
    Family,
    Given,
    /// A plain `name` string (Organization, Location).
    Title,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokField {
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
pub enum DateField {
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
pub enum Kind {
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
pub const PARAMS: &[(&str, &str, &str, Kind)] = &[
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
pub const RESULT_PARAMS: &[&str] = &[
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
pub const SORTS: &[(&str, &str)] = &[
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
pub fn includes() -> impl Iterator<Item = (&'static str, &'static str)> {
    PARAMS
        .iter()
        .filter(|(t, _, _, k)| *t != "*" && matches!(k, Kind::Ref { .. }))
        .map(|(t, n, _, _)| (*t, *n))
}

/// Reference parameters of other types that can point at `rtype` (its
/// `_revinclude` values).
pub fn revincludes_of(rtype: &str) -> Vec<(&'static str, &'static str)> {
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
fn ref_target_ok(rtype: &str, name: &str, t: &str) -> bool {
    match param_kind(rtype, name) {
        Some(Kind::Ref {
            target: Some(x), ..
        }) => x == t,
        Some(Kind::Ref { target: None, .. }) => super::store::is_supported(t),
        _ => false,
    }
}

pub fn param_kind(rtype: &str, name: &str) -> Option<Kind> {
    PARAMS
        .iter()
        .find(|(t, n, _, _)| (*t == "*" || *t == rtype) && *n == name)
        .map(|p| p.3)
}

pub fn params_for(rtype: &str) -> Vec<(&'static str, &'static str)> {
    PARAMS
        .iter()
        .filter(|(t, _, _, _)| *t == "*" || *t == rtype)
        .map(|(_, n, ty, _)| (*n, *ty))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
}

#[derive(Debug, Clone)]
enum Pred {
    Id(Vec<String>),
    Str {
        field: StrField,
        exact: bool,
        contains: bool,
        values: Vec<String>,
    },
    Tok {
        field: TokField,
        values: Vec<(Option<String>, Option<String>)>,
    },
    Date {
        field: DateField,
        values: Vec<(Prefix, DateRange)>,
    },
    Ref {
        target: Option<&'static str>,
        path: &'static str,
        type_mod: Option<String>,
        values: Vec<String>,
    },
    Missing {
        kind: Kind,
        missing: bool,
    },
}

/// A compiled filter for one resource type.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    preds: Vec<Pred>,
}

/// Everything parsed from a search query.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub filter: Filter,
    pub count: usize,
    pub count_only: bool,
    pub total: bool,
    pub sort: Option<(String, bool)>,
    pub offset: usize,
    pub includes: Vec<(String, String)>,
    pub revincludes: Vec<(String, String)>,
    pub issues: Vec<Issue>,
    /// Parameters echoed in links (unsupported ones dropped, `ct` removed).
    pub link_params: Vec<(String, String)>,
}

fn split_values(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse_prefixed_date(v: &str, pname: &str) -> Result<(Prefix, DateRange), FhirError> {
    let (prefix, rest) = match v.get(..2) {
        Some("eq") => (Prefix::Eq, &v[2..]),
        Some("ne") => (Prefix::Ne, &v[2..]),
        Some("gt") => (Prefix::Gt, &v[2..]),
        Some("lt") => (Prefix::Lt, &v[2..]),
        Some("ge") => (Prefix::Ge, &v[2..]),
        Some("le") => (Prefix::Le, &v[2..]),
        Some("sa") | Some("eb") | Some("ap") => {
            return Err(FhirError::not_supported(format!(
                "The prefix '{}' is not supported for search parameter '{pname}'.",
                &v[..2]
            )));
        }
        _ => (Prefix::Eq, v),
    };
    let range = parse_date_range(rest).ok_or_else(|| {
        FhirError::bad_request(format!(
            "The date time value '{v}' for search parameter '{pname}' is invalid."
        ))
    })?;
    Ok((prefix, range))
}

fn date_match(p: Prefix, q: &DateRange, r: &DateRange) -> bool {
    match p {
        Prefix::Eq => r.start >= q.start && r.end <= q.end,
        Prefix::Ne => !(r.start >= q.start && r.end <= q.end),
        Prefix::Gt => r.end > q.end,
        Prefix::Lt => r.start < q.start,
        Prefix::Ge => r.end > q.start,
        Prefix::Le => r.start < q.end,
    }
}

/// Parses a continuation token.
fn decode_ct(ct: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(ct).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("o")?.as_u64().map(|o| o as usize)
}

fn encode_ct(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(json!({"v": 1, "o": offset}).to_string())
}

fn unsupported(rtype: &str, name: &str) -> String {
    format!("The search parameter '{name}' is not supported for resource type '{rtype}'.")
}

/// Parses the search parameters of a type-level search.
pub fn parse(rtype: &str, params: &[(String, String)], strict: bool) -> Result<Query, FhirError> {
    let mut q = Query {
        count: DEFAULT_COUNT,
        ..Default::default()
    };
    for (raw_name, value) in params {
        let (name, modifier) = match raw_name.split_once(':') {
            Some((n, m)) => (n, Some(m)),
            None => (raw_name.as_str(), None),
        };
        let mut keep = true;
        match name {
            "_count" => {
                let n: usize = value.trim().parse().map_err(|_| {
                    FhirError::bad_request(format!(
                        "The '_count' parameter value '{value}' is invalid."
                    ))
                })?;
                if n > MAX_COUNT {
                    // SearchOptionsFactory.cs: clamped to MaxItemCountPerSearch with an
                    // informational issue in the Bundle, strict handling or not
                    // (Resources.resx `SearchParamaterCountExceedLimit`).
                    let msg = format!(
                        "The '_count' parameter exceeds limit configured for server. Current limit is {MAX_COUNT} while `_count` parameter set to {n}."
                    );
                    q.issues
                        .push(Issue::new("information", "informational", msg));
                    q.count = MAX_COUNT;
                    q.link_params
                        .push((raw_name.clone(), MAX_COUNT.to_string()));
                    continue;
                }
                q.count = n;
                q.count_only = n == 0;
            }
            "_total" => match value.as_str() {
                "accurate" | "estimate" => q.total = true,
                "none" => q.total = false,
                _ => {
                    return Err(FhirError::bad_request(format!(
                        "The '_total' parameter value '{value}' is invalid. Supported values are 'none', 'estimate' and 'accurate'."
                    )));
                }
            },
            "_summary" => match value.as_str() {
                "count" => q.count_only = true,
                "false" => {}
                _ => {
                    let msg = format!(
                        "The '_summary' parameter value '{value}' is not supported; supported values are 'count' and 'false'."
                    );
                    if strict {
                        return Err(FhirError::not_supported(msg));
                    }
                    q.issues.push(Issue::new("warning", "not-supported", msg));
                    keep = false;
                }
            },
            "_sort" => {
                let fields = split_values(value);
                if fields.len() > 1 {
                    return Err(FhirError::not_supported(
                        "Sorting by more than one parameter is not supported.",
                    ));
                }
                if let Some(f) = fields.first() {
                    let (desc, field) = match f.strip_prefix('-') {
                        Some(rest) => (true, rest),
                        None => (false, f.as_str()),
                    };
                    let ok = field == "_lastUpdated"
                        || field == "_id"
                        || SORTS.iter().any(|(t, n)| *t == rtype && *n == field);
                    if ok {
                        q.sort = Some((field.to_string(), desc));
                    } else {
                        let msg = format!("Sorting by the parameter '{field}' is not supported.");
                        if strict {
                            return Err(FhirError::not_supported(msg));
                        }
                        q.issues.push(Issue::new("warning", "not-supported", msg));
                        keep = false;
                    }
                }
            }
            "ct" => {
                q.offset = decode_ct(value)
                    .ok_or_else(|| FhirError::bad_request("The continuation token is invalid."))?;
                keep = false;
            }
            "_format" => {}
            "_include" | "_revinclude" => {
                if modifier.is_some() {
                    let msg = unsupported(rtype, raw_name);
                    if strict {
                        return Err(FhirError::not_supported(msg));
                    }
                    q.issues.push(Issue::new("warning", "not-supported", msg));
                    continue;
                }
                let parts: Vec<&str> = value.split(':').collect();
                let (src, sp, target) = match parts.as_slice() {
                    [s, p] => (*s, *p, None),
                    [s, p, t] => (*s, *p, Some(*t)),
                    _ => {
                        return Err(FhirError::bad_request(format!(
                            "The {name} value '{value}' is invalid."
                        )));
                    }
                };
                let known = includes().any(|(s, p)| s == src && p == sp);
                let target_ok = target.is_none_or(|t| ref_target_ok(src, sp, t));
                let type_ok = if name == "_include" {
                    src == rtype
                } else {
                    // The searched type must be one the parameter can point at.
                    ref_target_ok(src, sp, rtype)
                };
                if !(known && target_ok && type_ok) {
                    return Err(FhirError::not_supported(format!(
                        "The {name} value '{value}' is not supported for resource type '{rtype}'."
                    )));
                }
                if name == "_include" {
                    q.includes
                        .push((sp.to_string(), target.unwrap_or("").to_string()));
                } else {
                    q.revincludes.push((src.to_string(), sp.to_string()));
                }
            }
            _ => match param_kind(rtype, name) {
                None => {
                    let msg = unsupported(rtype, name);
                    if strict {
                        return Err(FhirError::not_supported(msg));
                    }
                    q.issues.push(Issue::new("warning", "not-supported", msg));
                    keep = false;
                }
                Some(kind) => q
                    .filter
                    .preds
                    .push(compile(rtype, name, kind, modifier, value)?),
            },
        }
        if keep {
            q.link_params.push((raw_name.clone(), value.clone()));
        }
    }
    Ok(q)
}

fn compile(
    rtype: &str,
    name: &str,
    kind: Kind,
    modifier: Option<&str>,
    value: &str,
) -> Result<Pred, FhirError> {
    let bad_mod = |m: &str| {
        FhirError::not_supported(format!(
            "The modifier '{m}' is not supported for search parameter '{name}' of resource type '{rtype}'."
        ))
    };
    if modifier == Some("missing") {
        let missing = match value {
            "true" => true,
            "false" => false,
            _ => {
                return Err(FhirError::bad_request(format!(
                    "The value '{value}' for ':missing' must be 'true' or 'false'."
                )));
            }
        };
        return Ok(Pred::Missing { kind, missing });
    }
    let values = split_values(value);
    match kind {
        Kind::Id => {
            if let Some(m) = modifier {
                return Err(bad_mod(m));
            }
            Ok(Pred::Id(values))
        }
        Kind::Str(field) => {
            let (exact, contains) = match modifier {
                None => (false, false),
                Some("exact") => (true, false),
                Some("contains") => (false, true),
                Some(m) => return Err(bad_mod(m)),
            };
            let values = if exact {
                values
            } else {
                values.iter().map(|v| fold(v)).collect()
            };
            Ok(Pred::Str {
                field,
                exact,
                contains,
                values,
            })
        }
        Kind::Tok(field) => {
            if let Some(m) = modifier {
                return Err(bad_mod(m));
            }
            let values = values
                .iter()
                .map(|v| match v.split_once('|') {
                    Some((s, c)) => (
                        Some(s.to_string()),
                        if c.is_empty() {
                            None
                        } else {
                            Some(c.to_string())
                        },
                    ),
                    None => (None, Some(v.clone())),
                })
                .collect();
            Ok(Pred::Tok { field, values })
        }
        Kind::Date(field) => {
            if let Some(m) = modifier {
                return Err(bad_mod(m));
            }
            if values.is_empty() {
                return Err(FhirError::bad_request(format!(
                    "The search parameter '{name}' requires a value."
                )));
            }
            let values = values
                .iter()
                .map(|v| parse_prefixed_date(v, name))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Pred::Date { field, values })
        }
        Kind::Ref { target, path } => {
            let type_mod = match modifier {
                None => None,
                Some(m) if ref_target_ok(rtype, name, m) => Some(m.to_string()),
                Some(m) => return Err(bad_mod(m)),
            };
            Ok(Pred::Ref {
                target,
                path,
                type_mod,
                values,
            })
        }
    }
}

fn strings(res: &Value, field: StrField) -> Vec<String> {
    let mut out = Vec::new();
    if field == StrField::Title {
        if let Some(n) = res.get("name").and_then(Value::as_str) {
            out.push(n.to_string());
        }
        for a in res
            .get("alias")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(a) = a.as_str() {
                out.push(a.to_string());
            }
        }
        return out;
    }
    for name in res
        .get("name")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if matches!(field, StrField::Name | StrField::Family)
            && let Some(f) = name.get("family").and_then(Value::as_str)
        {
            out.push(f.to_string());
        }
        if matches!(field, StrField::Name | StrField::Given) {
            for g in name
                .get("given")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(g) = g.as_str() {
                    out.push(g.to_string());
                }
            }
        }
        if field == StrField::Name {
            for key in ["text"] {
                if let Some(t) = name.get(key).and_then(Value::as_str) {
                    out.push(t.to_string());
                }
            }
            for key in ["prefix", "suffix"] {
                for p in name
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(p) = p.as_str() {
                        out.push(p.to_string());
                    }
                }
            }
        }
    }
    out
}

fn codings(cc: &Value, out: &mut Vec<(Option<String>, String)>) {
    if let Value::Array(items) = cc {
        for item in items {
            codings(item, out);
        }
        return;
    }
    if let Some(code) = cc.as_str() {
        // A bare code (AllergyIntolerance.category).
        out.push((None, code.to_string()));
        return;
    }
    for c in cc
        .get("coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(code) = c.get("code").and_then(Value::as_str) {
            out.push((
                c.get("system").and_then(Value::as_str).map(str::to_string),
                code.to_string(),
            ));
        }
    }
}

fn tokens(res: &Value, field: TokField) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    match field {
        TokField::Identifier => {
            for i in res
                .get("identifier")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(v) = i.get("value").and_then(Value::as_str) {
                    out.push((
                        i.get("system").and_then(Value::as_str).map(str::to_string),
                        v.to_string(),
                    ));
                }
            }
        }
        TokField::Gender => {
            if let Some(g) = res.get("gender").and_then(Value::as_str) {
                out.push((
                    Some("http://hl7.org/fhir/administrative-gender".into()),
                    g.to_string(),
                ));
            }
        }
        TokField::Status => {
            if let Some(s) = res.get("status").and_then(Value::as_str) {
                out.push((None, s.to_string()));
            }
        }
        TokField::Code => {
            for key in ["code", "medicationCodeableConcept"] {
                if let Some(c) = res.get(key) {
                    codings(c, &mut out);
                }
            }
        }
        TokField::Category => {
            if let Some(c) = res.get("category") {
                codings(c, &mut out);
            }
        }
        TokField::Intent => {
            if let Some(s) = res.get("intent").and_then(Value::as_str) {
                out.push((None, s.to_string()));
            }
        }
        TokField::ClinicalStatus => {
            if let Some(c) = res.get("clinicalStatus") {
                codings(c, &mut out);
            }
        }
        TokField::Class => {
            if let Some(c) = res.get("class")
                && let Some(code) = c.get("code").and_then(Value::as_str)
            {
                out.push((
                    c.get("system").and_then(Value::as_str).map(str::to_string),
                    code.to_string(),
                ));
            }
        }
    }
    out
}

fn dates(res: &Value, field: DateField) -> Vec<DateRange> {
    let at = |v: Option<&Value>| v.and_then(Value::as_str).and_then(parse_date_range);
    match field {
        DateField::LastUpdated => at(res.pointer("/meta/lastUpdated")).into_iter().collect(),
        DateField::BirthDate => at(res.get("birthDate")).into_iter().collect(),
        DateField::Onset => at(res.get("onsetDateTime")).into_iter().collect(),
        DateField::Effective => {
            if let Some(r) = at(res.get("effectiveDateTime")) {
                return vec![r];
            }
            period(res.get("effectivePeriod")).into_iter().collect()
        }
        DateField::Period => period(res.get("period")).into_iter().collect(),
        DateField::Performed => {
            if let Some(r) = at(res.get("performedDateTime")) {
                return vec![r];
            }
            period(res.get("performedPeriod")).into_iter().collect()
        }
        DateField::Authored => at(res.get("authoredOn")).into_iter().collect(),
        DateField::Recorded => at(res.get("recordedDate")).into_iter().collect(),
    }
}

fn period(p: Option<&Value>) -> Option<DateRange> {
    let p = p?;
    let start = p
        .get("start")
        .and_then(Value::as_str)
        .and_then(parse_date_range);
    let end = p
        .get("end")
        .and_then(Value::as_str)
        .and_then(parse_date_range);
    match (start, end) {
        (Some(s), Some(e)) => Some(DateRange {
            start: s.start,
            end: e.end.max(s.end),
        }),
        (Some(s), None) => Some(DateRange {
            start: s.start,
            end: DateTime::<Utc>::MAX_UTC,
        }),
        (None, Some(e)) => Some(DateRange {
            start: DateTime::<Utc>::MIN_UTC,
            end: e.end,
        }),
        (None, None) => None,
    }
}

/// The `reference` strings at a dot-separated path, walking arrays
/// (`participant.individual`, `result`, `location.location`).
pub fn refs<'a>(res: &'a Value, path: &str) -> Vec<&'a str> {
    let mut nodes: Vec<&Value> = vec![res];
    for key in path.split('.') {
        let mut next = Vec::new();
        for n in nodes {
            match n.get(key) {
                Some(Value::Array(items)) => next.extend(items.iter()),
                Some(v) => next.push(v),
                None => {}
            }
        }
        nodes = next;
    }
    nodes
        .into_iter()
        .flat_map(|n| match n {
            Value::Array(items) => items.iter().collect::<Vec<_>>(),
            v => vec![v],
        })
        .filter_map(|n| n.get("reference").and_then(Value::as_str))
        .collect()
}

/// The patient a clinical resource belongs to (`subject`, or `patient` for
/// AllergyIntolerance), as `Patient/{id}`.
pub fn patient_ref(res: &Value) -> Option<&str> {
    ["/subject/reference", "/patient/reference"]
        .iter()
        .find_map(|p| res.pointer(p).and_then(Value::as_str))
        .filter(|r| r.starts_with("Patient/"))
}

fn ref_matches(
    reference: &str,
    target: Option<&str>,
    type_mod: &Option<String>,
    value: &str,
) -> bool {
    // Accept absolute references too: keep the last two segments.
    let tail = |s: &str| -> String {
        let segs: Vec<&str> = s.trim_end_matches('/').rsplitn(3, '/').collect();
        match segs.as_slice() {
            [id, ty, ..] => format!("{ty}/{id}"),
            [id] => id.to_string(),
            _ => String::new(),
        }
    };
    let r = tail(reference);
    let (r_type, r_id) = r.split_once('/').unwrap_or(("", r.as_str()));
    let v = tail(value);
    let wanted_type = target.or(type_mod.as_deref());
    if let Some(t) = wanted_type
        && r_type != t
    {
        return false;
    }
    match v.split_once('/') {
        Some((vt, vid)) => vt == r_type && vid == r_id,
        None => v == r_id,
    }
}

fn has_value(res: &Value, kind: Kind) -> bool {
    match kind {
        Kind::Id => res.get("id").is_some(),
        Kind::Str(f) => !strings(res, f).is_empty(),
        Kind::Tok(f) => !tokens(res, f).is_empty(),
        Kind::Date(f) => !dates(res, f).is_empty(),
        Kind::Ref { path, .. } => !refs(res, path).is_empty(),
    }
}

impl Filter {
    pub fn matches(&self, res: &Value) -> bool {
        self.preds.iter().all(|p| pred_matches(p, res))
    }
}

fn pred_matches(p: &Pred, res: &Value) -> bool {
    match p {
        Pred::Id(ids) => res
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| ids.iter().any(|x| x == id)),
        Pred::Str {
            field,
            exact,
            contains,
            values,
        } => {
            let have = strings(res, *field);
            values.iter().any(|v| {
                have.iter().any(|h| {
                    if *exact {
                        h == v
                    } else if *contains {
                        fold(h).contains(v.as_str())
                    } else {
                        fold(h).starts_with(v.as_str())
                            || fold(h).split([' ', '-']).any(|w| w.starts_with(v.as_str()))
                    }
                })
            })
        }
        Pred::Tok { field, values } => {
            let have = tokens(res, *field);
            values.iter().any(|(sys, code)| {
                have.iter().any(|(hs, hc)| {
                    let sys_ok = match sys {
                        None => true,
                        Some(s) if s.is_empty() => hs.is_none(),
                        Some(s) => hs.as_deref() == Some(s.as_str()),
                    };
                    let code_ok = code.as_ref().is_none_or(|c| c.eq_ignore_ascii_case(hc));
                    sys_ok && code_ok
                })
            })
        }
        Pred::Date { field, values } => {
            let have = dates(res, *field);
            values
                .iter()
                .all(|(prefix, q)| have.iter().any(|r| date_match(*prefix, q, r)))
        }
        Pred::Ref {
            target,
            path,
            type_mod,
            values,
        } => refs(res, path)
            .iter()
            .any(|r| values.iter().any(|v| ref_matches(r, *target, type_mod, v))),
        Pred::Missing { kind, missing } => has_value(res, *kind) != *missing,
    }
}

/// Compiles a filter alone (for `_typeFilter`); unknown parameters fail.
pub fn filter_only(rtype: &str, params: &[(String, String)]) -> Result<Filter, FhirError> {
    let mut f = Filter::default();
    for (raw, value) in params {
        let (name, modifier) = match raw.split_once(':') {
            Some((n, m)) => (n, Some(m)),
            None => (raw.as_str(), None),
        };
        let kind = param_kind(rtype, name)
            .ok_or_else(|| FhirError::not_supported(unsupported(rtype, name)))?;
        f.preds.push(compile(rtype, name, kind, modifier, value)?);
    }
    Ok(f)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Present(String),
    Missing,
}

fn sort_key(res: &Value, rtype: &str, field: &str, last_updated: DateTime<Utc>) -> SortKey {
    let date_key = |d: Option<DateRange>| match d {
        Some(r) => SortKey::Present(r.start.format("%Y%m%d%H%M%S%3f").to_string()),
        None => SortKey::Missing,
    };
    match field {
        "_lastUpdated" => SortKey::Present(last_updated.format("%Y%m%d%H%M%S%3f").to_string()),
        "_id" => SortKey::Present(
            res.get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        _ => match param_kind(rtype, field) {
            Some(Kind::Date(f)) => date_key(dates(res, f).into_iter().next()),
            Some(Kind::Str(f)) => match strings(res, f).first() {
                Some(s) => SortKey::Present(fold(s)),
                None => SortKey::Missing,
            },
            _ => SortKey::Missing,
        },
    }
}

pub fn full_url(base: &str, res: &Value) -> String {
    format!(
        "{base}/{}/{}",
        res.get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or(""),
        res.get("id").and_then(Value::as_str).unwrap_or("")
    )
}

fn entry(base: &str, res: &Value, mode: &str) -> Value {
    json!({"fullUrl": full_url(base, res), "resource": res, "search": {"mode": mode}})
}

/// Builds a searchset Bundle from an ordered list of matches.
#[allow(clippy::too_many_arguments)]
pub fn page_bundle(
    base: &str,
    path: &str,
    q: &Query,
    all: &[Arc<Value>],
    included: impl Fn(&[Arc<Value>]) -> Vec<Arc<Value>>,
) -> Value {
    let total = all.len();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "id": new_guid(),
        "meta": {"lastUpdated": fhir_instant(Utc::now())},
        "type": "searchset",
    });
    if q.total || q.count_only {
        bundle["total"] = json!(total);
    }
    let link = |extra: Option<String>, drop_total: bool| -> String {
        let mut params: Vec<(String, String)> = q
            .link_params
            .iter()
            .filter(|(k, _)| !(drop_total && k == "_total"))
            .cloned()
            .collect();
        if let Some(ct) = extra {
            params.push(("ct".to_string(), ct));
        }
        if params.is_empty() {
            format!("{base}/{path}")
        } else {
            format!("{base}/{path}?{}", encode_query(&params))
        }
    };
    let mut links = vec![
        json!({"relation": "self", "url": link(if q.offset > 0 { Some(encode_ct(q.offset)) } else { None }, false)}),
    ];
    let mut entries: Vec<Value> = Vec::new();
    if !q.issues.is_empty() {
        entries.push(json!({"resource": outcome(&q.issues), "search": {"mode": "outcome"}}));
    }
    if !q.count_only {
        let start = q.offset.min(total);
        let end = (start + q.count).min(total);
        let page = &all[start..end];
        if end < total {
            links.push(json!({"relation": "next", "url": link(Some(encode_ct(end)), true)}));
        }
        for r in page {
            entries.push(entry(base, r, "match"));
        }
        for r in included(page) {
            entries.push(entry(base, &r, "include"));
        }
    }
    bundle["link"] = Value::Array(links);
    bundle["entry"] = Value::Array(entries);
    bundle
}

/// Sorts live resources according to the query (default: `_lastUpdated`).
pub fn sorted(
    rtype: &str,
    q: &Query,
    mut items: Vec<(DateTime<Utc>, Arc<Value>)>,
) -> Vec<Arc<Value>> {
    let (field, desc) = q
        .sort
        .clone()
        .unwrap_or(("_lastUpdated".to_string(), false));
    let mut keyed: Vec<(SortKey, DateTime<Utc>, Arc<Value>)> = items
        .drain(..)
        .map(|(lu, r)| (sort_key(&r, rtype, &field, lu), lu, r))
        .collect();
    keyed.sort_by(|a, b| {
        let ord = match (&a.0, &b.0) {
            (SortKey::Missing, SortKey::Missing) => std::cmp::Ordering::Equal,
            (SortKey::Missing, _) => std::cmp::Ordering::Greater,
            (_, SortKey::Missing) => std::cmp::Ordering::Less,
            (x, y) if desc => y.cmp(x),
            (x, y) => x.cmp(y),
        };
        ord.then(a.1.cmp(&b.1))
    });
    keyed.into_iter().map(|(_, _, r)| r).collect()
}

/// Runs a type-level search against the store and returns the Bundle.
pub fn run(
    store: &Store,
    base: &str,
    rtype: &str,
    params: &[(String, String)],
    strict: bool,
) -> Result<Value, FhirError> {
    let q = parse(rtype, params, strict)?;
    let items: Vec<_> = store
        .all_live(rtype)
        .into_iter()
        .filter(|(_, r)| q.filter.matches(r))
        .collect();
    let all = sorted(rtype, &q, items);
    let included = |page: &[Arc<Value>]| includes_for(store, rtype, &q, page);
    Ok(page_bundle(base, rtype, &q, &all, included))
}

/// `Type/id` of a reference string (relative or absolute).
fn type_and_id(reference: &str) -> Option<(&str, &str)> {
    let mut it = reference.trim_end_matches('/').rsplitn(3, '/');
    let id = it.next()?;
    let t = it.next()?;
    Some((t, id))
}

fn includes_for(store: &Store, rtype: &str, q: &Query, page: &[Arc<Value>]) -> Vec<Arc<Value>> {
    let mut seen: HashSet<String> = page.iter().map(|r| full_url("", r)).collect();
    let mut out = Vec::new();
    for (sp, target) in &q.includes {
        let Some(Kind::Ref { path, .. }) = param_kind(rtype, sp) else {
            continue;
        };
        for r in page {
            for reference in refs(r, path) {
                if let Some((t, id)) = type_and_id(reference)
                    && (target.is_empty() || t == target)
                    && let Some(found) = store.live(t, id)
                    && seen.insert(full_url("", &found))
                {
                    out.push(found);
                }
            }
        }
    }
    for (src, sp) in &q.revincludes {
        let Some(Kind::Ref { path, .. }) = param_kind(src, sp) else {
            continue;
        };
        let keys: HashSet<String> = page.iter().map(|r| full_url("", r)).collect();
        for (_, r) in store.all_live(src) {
            let points_here = refs(&r, path).iter().any(|reference| {
                type_and_id(reference).is_some_and(|(t, id)| keys.contains(&format!("/{t}/{id}")))
            });
            if points_here && seen.insert(full_url("", &r)) {
                out.push(r);
            }
        }
    }
    out
}

/// Types in the Patient compartment the demo serves (besides Patient).
pub const COMPARTMENT_TYPES: &[&str] = &[
    "Encounter",
    "Observation",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "AllergyIntolerance",
    "DiagnosticReport",
];

/// Resources in a patient's compartment (the patient first).
pub fn compartment(store: &Store, patient_id: &str, types: Option<&[String]>) -> Vec<Arc<Value>> {
    let want = |t: &str| types.is_none_or(|ts| ts.iter().any(|x| x == t));
    let mut out = Vec::new();
    if want("Patient")
        && let Some(p) = store.live("Patient", patient_id)
    {
        out.push(p);
    }
    let reference = format!("Patient/{patient_id}");
    for t in COMPARTMENT_TYPES {
        if !want(t) {
            continue;
        }
        let mut items = store.all_live(t);
        items.retain(|(_, r)| patient_ref(r) == Some(reference.as_str()));
        items.sort_by_key(|(lu, _)| *lu);
        out.extend(items.into_iter().map(|(_, r)| r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn birthdate_prefixes() {
        let pat = json!({"resourceType": "Patient", "id": "1", "birthDate": "1980-05-03"});
        let m = |v: &str| {
            parse("Patient", &p(&[("birthdate", v)]), false).map(|q| q.filter.matches(&pat))
        };
        assert_eq!(m("1980").ok(), Some(true));
        assert_eq!(m("1980-05").ok(), Some(true));
        assert_eq!(m("1981").ok(), Some(false));
        assert_eq!(m("ge1980-05-03").ok(), Some(true));
        assert_eq!(m("gt1980-05-03").ok(), Some(false));
        assert_eq!(m("lt1980-05-04").ok(), Some(true));
        assert_eq!(m("le1980-05-02").ok(), Some(false));
        assert_eq!(m("ne1980").ok(), Some(false));
        assert!(m("19800").is_err());
    }

    #[test]
    fn names_tokens_refs() {
        let pat = json!({"resourceType": "Patient", "id": "1",
            "name": [{"family": "Nguyễn", "given": ["Zoë"]}],
            "identifier": [{"system": "http://hospital.example.org/mrn", "value": "MRN-000001"}]});
        let m = |k: &str, v: &str| {
            parse("Patient", &p(&[(k, v)]), false)
                .map(|q| q.filter.matches(&pat))
                .ok()
        };
        assert_eq!(m("name", "zoe"), Some(true));
        assert_eq!(m("family", "NGUY"), Some(true));
        assert_eq!(m("given", "ngu"), Some(false));
        assert_eq!(m("identifier", "MRN-000001"), Some(true));
        assert_eq!(
            m("identifier", "http://hospital.example.org/mrn|MRN-000001"),
            Some(true)
        );
        assert_eq!(m("identifier", "other|MRN-000001"), Some(false));
        let obs = json!({"resourceType": "Observation", "subject": {"reference": "Patient/abc"}});
        let mo = |k: &str, v: &str| {
            parse("Observation", &p(&[(k, v)]), false)
                .map(|q| q.filter.matches(&obs))
                .ok()
        };
        assert_eq!(mo("patient", "abc"), Some(true));
        assert_eq!(mo("patient", "Patient/abc"), Some(true));
        assert_eq!(mo("subject", "http://x/Patient/abc"), Some(true));
        assert_eq!(mo("patient", "abd"), Some(false));
    }

    #[test]
    fn unknown_params_and_ct() {
        let q = parse("Patient", &p(&[("foo", "1")]), false).expect("lenient");
        assert_eq!(q.issues.len(), 1);
        assert!(parse("Patient", &p(&[("foo", "1")]), true).is_err());
        assert!(parse("Patient", &p(&[("ct", "garbage!")]), false).is_err());
        assert_eq!(decode_ct(&encode_ct(30)), Some(30));
    }
}
