//! Facts into the chart: measurements grouped by code into series (refusing a code whose
//! values come in more than one unit), vitals apart from labs, the timeline in order.

use std::collections::{BTreeMap, HashSet};

use super::extract::{BP_PANEL, DIASTOLIC, Fact, Measurement, SYSTOLIC, VITAL_CODES, VitalKind};
use super::{LabRow, MAX_POINTS, PatientChart, Point, Series, Trend};

/// Short names for the vital signs people know by them.
fn short_name(code: &str) -> Option<&'static str> {
    Some(match code {
        BP_PANEL => "Blood pressure",
        SYSTOLIC => "Systolic",
        DIASTOLIC => "Diastolic",
        "8867-4" => "Heart rate",
        "9279-1" => "Respiratory rate",
        "59408-5" | "2708-6" => "SpO2",
        "8310-5" => "Body temperature",
        "29463-7" => "Body weight",
        "8302-2" => "Body height",
        "39156-5" => "BMI",
        "9843-4" => "Head circumference",
        "8287-5" => "Head circumference",
        _ => return None,
    })
}

/// Where a vital's chart goes: the listed codes in their order, then the rest by title.
fn vital_rank(key: &str) -> usize {
    VITAL_CODES
        .iter()
        .position(|c| *c == key)
        .unwrap_or(VITAL_CODES.len())
}

/// The chart of every fact read, however many pages they came from.
pub fn build(facts: Vec<Fact>) -> PatientChart {
    let mut chart = PatientChart::default();
    let mut no_value = 0usize;
    // (kind, chart key) → series code → measurements.
    let mut groups: BTreeMap<(u8, String), BTreeMap<String, Vec<Measurement>>> = BTreeMap::new();
    let mut seen: HashSet<(String, String, i64)> = HashSet::new();
    let mut observations: HashSet<String> = HashSet::new();
    for fact in facts {
        match fact {
            Fact::NoValue => {
                no_value += 1;
                chart.observations += 1;
            }
            Fact::Event(e) => chart.timeline.push(*e),
            Fact::Measurement(m) => {
                // The same Observation on two pages (or twice on one) counts once.
                if let Some(r) = &m.reference
                    && !seen.insert((r.clone(), m.code.clone(), m.at))
                {
                    continue;
                }
                match &m.reference {
                    Some(r) => {
                        if observations.insert(r.clone()) {
                            chart.observations += 1;
                        }
                    }
                    None => chart.observations += 1,
                }
                let (kind, key) = match m.kind {
                    VitalKind::Vital => (0, m.panel.clone().unwrap_or_else(|| m.code.clone())),
                    VitalKind::Lab => (1, m.code.clone()),
                };
                groups
                    .entry((kind, key))
                    .or_default()
                    .entry(m.code.clone())
                    .or_default()
                    .push(*m);
            }
        }
    }
    for ((kind, key), by_code) in groups {
        match trend_of(&key, by_code) {
            Ok((trend, flag, cut)) => {
                if cut {
                    chart.notes.push(format!(
                        "{}: only the latest {MAX_POINTS} values are drawn.",
                        trend.title
                    ));
                }
                if kind == 0 {
                    chart.vitals.push(trend);
                } else {
                    chart.labs.push(LabRow { trend, flag });
                }
            }
            Err(note) => chart.notes.push(note),
        }
    }
    chart.vitals.sort_by(|a, b| {
        vital_rank(&a.key)
            .cmp(&vital_rank(&b.key))
            .then_with(|| a.title.cmp(&b.title))
    });
    chart.labs.sort_by(|a, b| {
        a.trend
            .title
            .to_lowercase()
            .cmp(&b.trend.title.to_lowercase())
    });
    // Newest first, undated last; the sort is stable, so equal dates keep the server's order.
    chart
        .timeline
        .sort_by_key(|e| std::cmp::Reverse(e.at.unwrap_or(i64::MIN)));
    if no_value > 0 {
        chart.notes.push(format!(
            "{no_value} Observation{} without a number {} not plotted.",
            if no_value == 1 { "" } else { "s" },
            if no_value == 1 { "was" } else { "were" }
        ));
    }
    chart
}

/// One chart's series; `Err` with a sentence when its values are in more than one unit.
/// Also the latest flag and whether points were cut.
fn trend_of(
    key: &str,
    by_code: BTreeMap<String, Vec<Measurement>>,
) -> Result<(Trend, Option<super::Flag>, bool), String> {
    let mut units: Vec<&str> = by_code
        .values()
        .flatten()
        .map(|m| m.unit_key.as_str())
        .collect();
    units.sort_unstable();
    units.dedup();
    let any = by_code.values().flatten().max_by_key(|m| m.at);
    let title_of = |code: &str, fallback: &str| {
        short_name(code)
            .map(str::to_string)
            .unwrap_or_else(|| fallback.to_string())
    };
    let Some(latest) = any else {
        return Err(format!("{key}: no values."));
    };
    let title = title_of(key, &latest.name);
    if units.len() > 1 {
        let shown: Vec<String> = units
            .iter()
            .map(|u| {
                if u.is_empty() {
                    "no unit".to_string()
                } else {
                    (*u).to_string()
                }
            })
            .collect();
        return Err(format!(
            "{title} ({key}) comes in {}: not plotted, since values in different units cannot share an axis.",
            shown.join(" and ")
        ));
    }
    let unit = latest.unit.clone();
    let range = latest.range.clone();
    let flag = latest.flag.clone();
    let mut cut = false;
    let mut series: Vec<Series> = by_code
        .into_iter()
        .map(|(code, mut ms)| {
            ms.sort_by_key(|m| m.at);
            if ms.len() > MAX_POINTS {
                ms.drain(..ms.len() - MAX_POINTS);
                cut = true;
            }
            let name = ms
                .last()
                .map(|m| title_of(&code, &m.name))
                .unwrap_or_default();
            Series {
                code,
                name,
                unit: unit.clone(),
                points: ms
                    .into_iter()
                    .map(|m| Point {
                        at: m.at,
                        date: m.date,
                        value: m.value,
                        reference: m.reference,
                    })
                    .collect(),
            }
        })
        .collect();
    // Systolic above diastolic, in the legend as on paper.
    series.sort_by_key(|s| match s.code.as_str() {
        SYSTOLIC => 0,
        DIASTOLIC => 1,
        _ => 2,
    });
    Ok((
        Trend {
            key: key.to_string(),
            title,
            unit,
            series,
            range,
        },
        flag,
        cut,
    ))
}
