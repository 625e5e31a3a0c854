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

mod matching;
mod params;

pub(super) use matching::{Filter, patient_ref, refs};
use matching::{Pred, Prefix, dates, strings};
use params::ref_target_ok;
pub(super) use params::{
    DEFAULT_COUNT, Kind, MAX_COUNT, RESULT_PARAMS, SORTS, includes, param_kind, params_for,
    revincludes_of,
};

/// Everything parsed from a search query.
#[derive(Debug, Clone, Default)]
pub(super) struct Query {
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
pub(super) fn parse(
    rtype: &str,
    params: &[(String, String)],
    strict: bool,
) -> Result<Query, FhirError> {
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

/// Compiles a filter alone (for `_typeFilter`); unknown parameters fail.
pub(super) fn filter_only(rtype: &str, params: &[(String, String)]) -> Result<Filter, FhirError> {
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

pub(super) fn full_url(base: &str, res: &Value) -> String {
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
pub(super) fn page_bundle(
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
pub(super) fn sorted(
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
pub(super) fn run(
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
pub(super) const COMPARTMENT_TYPES: &[&str] = &[
    "Encounter",
    "Observation",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "AllergyIntolerance",
    "DiagnosticReport",
];

/// Resources in a patient's compartment (the patient first).
pub(super) fn compartment(
    store: &Store,
    patient_id: &str,
    types: Option<&[String]>,
) -> Vec<Arc<Value>> {
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
