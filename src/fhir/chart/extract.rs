//! One resource into the facts the chart needs: measurements from Observations (and their
//! components), timeline entries from encounters, conditions, procedures and medications.
//! Every read is a fixed path into the resource (no recursion), and whatever is missing or of
//! the wrong type is simply not a fact.

use serde_json::Value;

use super::time::parse_instant;
use super::{Event, EventKind, clean};
use crate::fhir::util::{concept_text, list, short_datetime, str_at, text_at};

pub(super) const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";

/// The blood-pressure panel and its two components.
pub(super) const BP_PANEL: &str = "85354-9";
pub(super) const SYSTOLIC: &str = "8480-6";
pub(super) const DIASTOLIC: &str = "8462-4";

/// Vital-sign LOINC codes in the order their charts are shown (the FHIR vital-signs profile's
/// codes, blood pressure first). Codes not listed follow, by name.
pub(super) const VITAL_CODES: &[&str] = &[
    BP_PANEL, "8867-4", "9279-1", "59408-5", "2708-6", "8310-5", "29463-7", "8302-2", "39156-5",
    "9843-4", "8287-5",
];

/// A number measured at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The code it is grouped by: the LOINC code, else `system|code`, else the concept's text.
    pub code: String,
    pub name: String,
    /// The panel it is a component of (`85354-9` for systolic and diastolic, also when they
    /// come as Observations of their own).
    pub panel: Option<String>,
    pub kind: VitalKind,
    pub at: i64,
    pub date: String,
    pub value: f64,
    /// What decides whether two values share a unit: the UCUM code when the system is UCUM,
    /// else the unit text.
    pub unit_key: String,
    /// The unit as the server labelled it, for people.
    pub unit: String,
    pub range: Option<Range>,
    pub flag: Option<Flag>,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VitalKind {
    Vital,
    Lab,
}

/// A reference range as the Observation gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub text: Option<String>,
}

impl Range {
    /// `4–5.6`, `< 200`, `> 40`, or the range's text.
    pub fn label(&self) -> String {
        use super::format_value as f;
        match (self.low, self.high) {
            (Some(l), Some(h)) => format!("{}–{}", f(l), f(h)),
            (None, Some(h)) => format!("< {}", f(h)),
            (Some(l), None) => format!("> {}", f(l)),
            (None, None) => self.text.clone().unwrap_or_default(),
        }
    }
}

/// An interpretation flag (`H`, `L`, `A`, `N`, `HH`, …) as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub code: String,
    /// Anything but normal: shown in warning colours.
    pub abnormal: bool,
}

/// What a resource tells the chart.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    Measurement(Box<Measurement>),
    /// An Observation with no number to plot (text, coded, or absent), counted.
    NoValue,
    Event(Box<Event>),
}

/// The facts in one resource (none for types the chart does not read).
pub fn facts_of(resource: &Value) -> Vec<Fact> {
    match str_at(resource, "resourceType") {
        Some("Observation") => observation(resource),
        Some("Encounter") => event(resource, EventKind::Encounter).into_iter().collect(),
        Some("Condition") => event(resource, EventKind::Condition).into_iter().collect(),
        Some("Procedure") => event(resource, EventKind::Procedure).into_iter().collect(),
        Some("MedicationRequest" | "MedicationStatement") => {
            event(resource, EventKind::Medication).into_iter().collect()
        }
        _ => Vec::new(),
    }
}

fn reference(r: &Value) -> Option<String> {
    let t = str_at(r, "resourceType")?;
    let id = str_at(r, "id")?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    (ok(t) && ok(id)).then(|| format!("{t}/{id}"))
}

/// The grouping code and a name for a CodeableConcept.
fn code_of(concept: &Value) -> Option<(String, String)> {
    let codings = list(concept, "coding");
    let code_in = |c: &Value| str_at(c, "code").map(clean).filter(|s| !s.is_empty());
    let loinc = codings
        .iter()
        .find(|c| str_at(c, "system") == Some(LOINC))
        .and_then(code_in);
    let code = loinc
        .or_else(|| {
            codings.iter().find_map(|c| {
                let code = code_in(c)?;
                Some(match str_at(c, "system") {
                    Some(s) => format!("{}|{code}", clean(s)),
                    None => code,
                })
            })
        })
        .or_else(|| text_at(concept, "text").map(|t| clean(&t)))?;
    let name = concept_text(concept)
        .map(|n| clean(&n))
        .unwrap_or_else(|| code.clone());
    Some((code, name))
}

fn is_vital_category(obs: &Value) -> Option<VitalKind> {
    for cat in list(obs, "category") {
        for c in list(cat, "coding") {
            match str_at(c, "code") {
                Some("vital-signs") => return Some(VitalKind::Vital),
                Some("laboratory") => return Some(VitalKind::Lab),
                _ => {}
            }
        }
    }
    None
}

/// When an Observation was made: effective[x], else when it was issued.
fn effective(obs: &Value) -> Option<(i64, String)> {
    let text = str_at(obs, "effectiveDateTime")
        .or_else(|| str_at(obs, "effectiveInstant"))
        .or_else(|| obs.get("effectivePeriod").and_then(|p| str_at(p, "start")))
        .or_else(|| str_at(obs, "issued"))?;
    Some((parse_instant(text)?, clean(&short_datetime(text))))
}

/// A finite number at `key`.
fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|f| f.is_finite())
}

/// A Quantity's number and its unit (key, label).
fn quantity(q: &Value) -> Option<(f64, String, String)> {
    let value = number(q, "value")?;
    let code = str_at(q, "code").map(clean);
    let unit = str_at(q, "unit").map(clean);
    let key = match (str_at(q, "system"), &code) {
        (Some(UCUM), Some(c)) => c.clone(),
        _ => unit.clone().or(code.clone()).unwrap_or_default(),
    };
    let label = unit.or(code).unwrap_or_default();
    Some((value, key, label))
}

/// The number an element carries: valueQuantity (with its unit) or valueInteger.
fn value_of(v: &Value) -> Option<(f64, String, String)> {
    if let Some(q) = v.get("valueQuantity") {
        return quantity(q);
    }
    number(v, "valueInteger").map(|n| (n, String::new(), String::new()))
}

fn range_of(v: &Value) -> Option<Range> {
    let r = list(v, "referenceRange").first()?;
    let low = r.get("low").and_then(|q| number(q, "value"));
    let high = r.get("high").and_then(|q| number(q, "value"));
    let text = text_at(r, "text").map(|t| clean(&t));
    (low.is_some() || high.is_some() || text.is_some()).then_some(Range { low, high, text })
}

fn flag_of(v: &Value) -> Option<Flag> {
    let interp = list(v, "interpretation").first()?;
    let code = list(interp, "coding")
        .iter()
        .find_map(|c| str_at(c, "code"))
        .map(str::to_string)
        .or_else(|| text_at(interp, "text"))?;
    let code: String = clean(&code).chars().take(6).collect();
    if code.is_empty() {
        return None;
    }
    let abnormal = !matches!(code.as_str(), "N" | "normal" | "Normal");
    Some(Flag { code, abnormal })
}

fn observation(obs: &Value) -> Vec<Fact> {
    let Some((at, date)) = effective(obs) else {
        return vec![Fact::NoValue];
    };
    let Some((code, name)) = obs.get("code").and_then(code_of) else {
        return vec![Fact::NoValue];
    };
    let category = is_vital_category(obs);
    let kind_of = |code: &str| {
        if VITAL_CODES.contains(&code) || code == SYSTOLIC || code == DIASTOLIC {
            VitalKind::Vital
        } else {
            category.unwrap_or(VitalKind::Lab)
        }
    };
    let reference = reference(obs);
    let mut out = Vec::new();
    let measurement = |code: String,
                       name: String,
                       panel: Option<String>,
                       kind: VitalKind,
                       (value, unit_key, unit): (f64, String, String),
                       on: &Value| {
        let panel =
            panel.or_else(|| (code == SYSTOLIC || code == DIASTOLIC).then(|| BP_PANEL.to_string()));
        Fact::Measurement(Box::new(Measurement {
            code,
            name,
            panel,
            kind,
            at,
            date: date.clone(),
            value,
            unit_key,
            unit,
            range: range_of(on),
            flag: flag_of(on).or_else(|| flag_of(obs)),
            reference: reference.clone(),
        }))
    };
    if let Some(v) = value_of(obs) {
        out.push(measurement(
            code.clone(),
            name.clone(),
            None,
            kind_of(&code),
            v,
            obs,
        ));
    }
    let panel_kind = kind_of(&code);
    for comp in list(obs, "component") {
        let (Some((c, n)), Some(v)) = (comp.get("code").and_then(code_of), value_of(comp)) else {
            continue;
        };
        let kind = if panel_kind == VitalKind::Vital {
            VitalKind::Vital
        } else {
            kind_of(&c)
        };
        out.push(measurement(c, n, Some(code.clone()), kind, v, comp));
    }
    if out.is_empty() {
        out.push(Fact::NoValue);
    }
    out
}

/// The first of several dates that is there: (instant, as written).
fn first_date<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>) -> (Option<i64>, String) {
    for text in candidates.into_iter().flatten() {
        if let Some(at) = parse_instant(text) {
            return (Some(at), clean(&short_datetime(text)));
        }
    }
    (None, String::new())
}

fn period_part<'a>(r: &'a Value, key: &str, part: &str) -> Option<&'a str> {
    r.get(key).and_then(|p| str_at(p, part))
}

fn concept(r: &Value, key: &str) -> Option<String> {
    r.get(key).and_then(concept_text).map(|t| clean(&t))
}

fn status(r: &Value, key: &str) -> Option<String> {
    match r.get(key)? {
        Value::String(s) => Some(clean(s)),
        cc => concept_text(cc).map(|t| clean(&t)),
    }
}

fn event(r: &Value, kind: EventKind) -> Option<Fact> {
    let mut detail: Vec<String> = Vec::new();
    let (at, date, end, title) = match kind {
        EventKind::Encounter => {
            let class = r.get("class").and_then(|c| {
                text_at(c, "display")
                    .or_else(|| text_at(c, "code"))
                    .map(|t| clean(&t))
            });
            let title = concept(r, "type")
                .or_else(|| class.clone())
                .unwrap_or_else(|| "Encounter".into());
            detail.extend(class);
            detail.extend(status(r, "status"));
            let (at, date) = first_date([period_part(r, "period", "start")]);
            let end = period_part(r, "period", "end").map(|e| clean(&short_datetime(e)));
            (at, date, end, title)
        }
        EventKind::Condition => {
            let (at, date) = first_date([
                str_at(r, "onsetDateTime"),
                period_part(r, "onsetPeriod", "start"),
                str_at(r, "recordedDate"),
            ]);
            let end = str_at(r, "abatementDateTime")
                .or_else(|| period_part(r, "abatementPeriod", "end"))
                .or_else(|| str_at(r, "abatementString"))
                .map(|e| clean(&short_datetime(e)));
            detail.extend(status(r, "clinicalStatus"));
            let title = concept(r, "code").unwrap_or_else(|| "Condition".into());
            (at, date, end, title)
        }
        EventKind::Procedure => {
            let (at, date) = first_date([
                str_at(r, "performedDateTime"),
                period_part(r, "performedPeriod", "start"),
            ]);
            let end = period_part(r, "performedPeriod", "end").map(|e| clean(&short_datetime(e)));
            detail.extend(status(r, "status"));
            let title = concept(r, "code").unwrap_or_else(|| "Procedure".into());
            (at, date, end, title)
        }
        EventKind::Medication => {
            let (at, date) = first_date([
                str_at(r, "authoredOn"),
                str_at(r, "effectiveDateTime"),
                period_part(r, "effectivePeriod", "start"),
                str_at(r, "dateAsserted"),
            ]);
            let title = concept(r, "medicationCodeableConcept")
                .or_else(|| {
                    r.get("medicationReference")
                        .and_then(|m| text_at(m, "display"))
                        .map(|t| clean(&t))
                })
                .unwrap_or_else(|| "Medication".into());
            detail.extend(status(r, "status"));
            detail.extend(
                list(r, "dosageInstruction")
                    .iter()
                    .chain(list(r, "dosage"))
                    .find_map(|d| text_at(d, "text"))
                    .map(|t| clean(&t)),
            );
            let end = period_part(r, "effectivePeriod", "end").map(|e| clean(&short_datetime(e)));
            (at, date, end, title)
        }
    };
    Some(Fact::Event(Box::new(Event {
        kind,
        at,
        date,
        end,
        title,
        detail: detail.join(" · "),
        reference: reference(r),
    })))
}
