//! Matching: the compiled predicates of a search and how a resource's values meet them.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::params::{DateField, Kind, StrField, TokField};
use crate::demo::util::{DateRange, fold, parse_date_range};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
}

#[derive(Debug, Clone)]
pub(super) enum Pred {
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
pub(crate) struct Filter {
    pub(super) preds: Vec<Pred>,
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

pub(super) fn strings(res: &Value, field: StrField) -> Vec<String> {
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

pub(super) fn dates(res: &Value, field: DateField) -> Vec<DateRange> {
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
pub(crate) fn refs<'a>(res: &'a Value, path: &str) -> Vec<&'a str> {
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
pub(crate) fn patient_ref(res: &Value) -> Option<&str> {
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
    pub(crate) fn matches(&self, res: &Value) -> bool {
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
