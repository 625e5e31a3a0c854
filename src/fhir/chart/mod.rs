//! A patient's chart from the resources a server sent: vitals as series over time, labs as the
//! latest result per code with what came before, and a timeline of care.
//!
//! Pure and tolerant, like the rest of `fhir`: a page of a Bundle is read into small [`Fact`]s
//! ([`read_page`]), and the facts of every page become a [`PatientChart`] ([`build`]). Both run
//! off the UI thread (the worker's `Chart` job); the screen only draws what was built.
//!
//! What is plotted together is decided by code, never guessed: observations are grouped by
//! their LOINC code (the blood-pressure panel 85354-9 gives its systolic 8480-6 and diastolic
//! 8462-4 components), values keep the unit the server sent, and a code whose values come in
//! more than one unit is refused with a note rather than drawn on one axis. Observations
//! without a number are skipped and counted.

mod build;
mod extract;
mod page;
mod time;

#[cfg(test)]
mod tests;

pub use build::build;
pub use extract::{Fact, Flag, Measurement, Range, VitalKind, facts_of};
pub use page::{PageError, PageFacts, read_page, read_page_for};
pub use time::parse_instant;

/// At most this many facts are kept from all the pages of one chart (the rest is dropped and
/// said): a bound on memory whatever a server sends.
pub const MAX_FACTS: usize = 50_000;

/// At most this many points per series are kept (the most recent), so a chart draws within
/// the frame budget however long the history.
pub const MAX_POINTS: usize = 2_000;

/// Names and units from servers are shown cut to this many characters.
pub const MAX_LABEL: usize = 80;

/// The resource types the chart reads (and asks `$everything` for).
pub const CHART_TYPES: &[&str] = &[
    "Observation",
    "Encounter",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "MedicationStatement",
];

/// One value of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Seconds since 1970 (UTC), for ordering and the x axis.
    pub at: i64,
    /// The date as the server wrote it, shortened for display (`2024-03-05 10:32`).
    pub date: String,
    pub value: f64,
    /// `Observation/id`, to open it.
    pub reference: Option<String>,
}

/// The values of one code, in one unit, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub code: String,
    pub name: String,
    /// The unit as the server labelled it (`mmHg`), for people.
    pub unit: String,
    pub points: Vec<Point>,
}

impl Series {
    pub fn latest(&self) -> Option<&Point> {
        self.points.last()
    }
}

/// What one chart draws: one series, or several that belong together (systolic and
/// diastolic), on one axis in one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// The code the chart is known by (the panel's for blood pressure).
    pub key: String,
    pub title: String,
    pub unit: String,
    pub series: Vec<Series>,
    /// The reference range of the latest value, drawn as two lines when known.
    pub range: Option<Range>,
}

impl Trend {
    /// The date of the latest value of any series.
    pub fn latest_date(&self) -> Option<&str> {
        self.series
            .iter()
            .filter_map(Series::latest)
            .max_by_key(|p| p.at)
            .map(|p| p.date.as_str())
    }

    /// The latest value of each series as text: `128/82 mmHg` for blood pressure.
    pub fn latest_text(&self) -> String {
        let values: Vec<String> = self
            .series
            .iter()
            .filter_map(Series::latest)
            .map(|p| format_value(p.value))
            .collect();
        if values.is_empty() {
            return String::new();
        }
        if self.unit.is_empty() {
            values.join("/")
        } else {
            format!("{} {}", values.join("/"), self.unit)
        }
    }

    /// The earliest and latest instant and the lowest and highest value over every series.
    pub fn bounds(&self) -> Option<((i64, i64), (f64, f64))> {
        let points = self.series.iter().flat_map(|s| s.points.iter());
        let mut it = points.peekable();
        let first = it.peek()?;
        let mut t = (first.at, first.at);
        let mut v = (first.value, first.value);
        for p in it {
            t = (t.0.min(p.at), t.1.max(p.at));
            v = (v.0.min(p.value), v.1.max(p.value));
        }
        Some((t, v))
    }

    pub fn point_count(&self) -> usize {
        self.series.iter().map(|s| s.points.len()).sum()
    }
}

/// A lab code: its results over time, and what the latest one says of itself.
#[derive(Debug, Clone, PartialEq)]
pub struct LabRow {
    pub trend: Trend,
    /// The latest result's interpretation (H, L, A, N, HH, …), as the server flagged it.
    pub flag: Option<Flag>,
}

impl LabRow {
    pub fn latest(&self) -> Option<&Point> {
        self.trend.series.first().and_then(Series::latest)
    }
}

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Encounter,
    Condition,
    Procedure,
    Medication,
}

impl EventKind {
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Encounter => "Encounter",
            EventKind::Condition => "Condition",
            EventKind::Procedure => "Procedure",
            EventKind::Medication => "Medication",
        }
    }
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    /// When it began (onset, start, authored); `None` sorts last.
    pub at: Option<i64>,
    pub date: String,
    /// When it ended (abatement, period end), as written.
    pub end: Option<String>,
    pub title: String,
    /// A few words more: status, class, dosage.
    pub detail: String,
    /// `Encounter/id`, to open it.
    pub reference: Option<String>,
}

/// Everything the chart screen draws, built once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientChart {
    /// One chart per vital-sign code, in a fixed order (blood pressure first).
    pub vitals: Vec<Trend>,
    /// One row per other code, by name.
    pub labs: Vec<LabRow>,
    /// Newest first; undated entries at the end.
    pub timeline: Vec<Event>,
    /// What was refused or left out, as sentences.
    pub notes: Vec<String>,
    /// Observations read (with or without a number).
    pub observations: usize,
}

/// A value as people write it: no trailing zeros, at most three decimals.
pub fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Text from a server made safe to show: control characters dropped, cut to [`MAX_LABEL`].
pub(crate) fn clean(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    super::util::truncate(kept.trim(), MAX_LABEL)
}

/// Characters that reorder text on a terminal (a server could use them to disguise values).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}
