//! The patient chart: vitals plotted over time, labs as a table of latest results (Enter plots
//! one), and a timeline of care (Enter opens the resource in the browser). Opened with `V` on
//! a patient in the FHIR browser; `Esc` goes back to the patient.
//!
//! The data comes from one `$everything` (paged) or, when the server has none, a few searches
//! per type; every page is an ordinary GET through the worker (sign-in, credential policy and
//! history apply), read into facts and built into the chart by worker jobs off the UI thread
//! ([`crate::worker::chart`]). The screen draws only from what was built (and the plot points
//! it prepares once from it), so a long history costs nothing per frame.

mod draw;
mod fetch;
mod plot;

#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod tests;

use std::time::Duration;

use crossterm::event::KeyEvent;

use super::{Cx, Handled, Intent};
use crate::fhir::chart::PatientChart;
use crate::tui::keys::{Action, Ctx};
use crate::tui::session::ChartPlace;
use crate::worker::chart::ChartStep;
use crate::worker::{HttpError, Received, RequestId};

pub use fetch::{Fetch, Source};
pub use plot::Plot;

/// Messages for the chart from other screens.
pub enum Msg {
    /// Chart this patient (its id on the active environment's server, and a name to show).
    Open { id: String, name: String },
}

/// The three views of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Vitals,
    Labs,
    Timeline,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::Vitals, Tab::Labs, Tab::Timeline];

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// The view's name in the session file.
    pub fn name(self) -> &'static str {
        match self {
            Tab::Vitals => "vitals",
            Tab::Labs => "labs",
            Tab::Timeline => "timeline",
        }
    }

    /// A view by its session name (anything else is the vitals).
    pub fn from_name(s: &str) -> Tab {
        match s {
            "labs" => Tab::Labs,
            "timeline" => Tab::Timeline,
            _ => Tab::Vitals,
        }
    }
}

/// A built chart with the plot points prepared from it once.
pub struct Built {
    pub chart: Box<PatientChart>,
    pub vitals: Vec<Plot>,
    pub labs: Vec<Plot>,
    /// Which way the data came and how much of it: for the header.
    pub source: String,
    /// From the first request to the chart being built.
    pub took: Duration,
    /// The fetch's notes (pages cut short, the server's warnings) before the chart's own.
    pub notes: Vec<String>,
}

pub enum State {
    Idle,
    Loading(Box<Fetch>),
    Failed(String),
    Ready(Box<Built>),
}

pub struct Chart {
    /// The patient's id and name.
    pub patient: Option<(String, String)>,
    pub state: State,
    pub tab: Tab,
    /// The selected vital chart (one at a time when narrow), lab row, timeline entry.
    pub vital: usize,
    pub lab: usize,
    pub event: usize,
    /// A lab row plotted (Enter on it); `Esc` goes back to the table.
    pub plotted: Option<usize>,
}

impl Default for Chart {
    fn default() -> Self {
        Self {
            patient: None,
            state: State::Idle,
            tab: Tab::Vitals,
            vital: 0,
            lab: 0,
            event: 0,
            plotted: None,
        }
    }
}

/// A FHIR id as the spec allows it (it goes into URLs unescaped).
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

impl Chart {
    pub fn ctx(&self) -> Ctx {
        Ctx::Chart
    }

    /// Whether it needs the clock (a spinner while fetching).
    pub fn busy(&self) -> bool {
        matches!(self.state, State::Loading(_))
    }

    pub fn built(&self) -> Option<&Built> {
        match &self.state {
            State::Ready(b) => Some(b),
            _ => None,
        }
    }

    pub fn update(&mut self, msg: Msg, cx: &mut Cx) {
        match msg {
            Msg::Open { id, name } => self.open(id, name, cx),
        }
    }

    /// Starts charting a patient (again, if it is the one shown: the data is fetched anew).
    pub fn open(&mut self, id: String, name: String, cx: &mut Cx) {
        self.stop(cx);
        *self = Chart::default();
        if !valid_id(&id) {
            self.state = State::Failed(format!(
                "The patient's id '{}' is not a FHIR id; it cannot be charted.",
                crate::fhir::chart::clean(&id)
            ));
            return;
        }
        let base = cx.model.fhir_base();
        if base.is_empty() {
            self.state = State::Failed("Set fhirurl in the active environment first.".into());
            return;
        }
        let everything = cx
            .model
            .active_capabilities()
            .map(|c| c.has_operation("Patient", "everything"));
        let fetch = Fetch::start(&base, &id, everything, cx);
        self.patient = Some((id, name));
        self.state = State::Loading(Box::new(fetch));
    }

    /// Where the chart is, for the session file (`None` when no patient is charted).
    pub fn place(&self) -> Option<ChartPlace> {
        let (patient, name) = self.patient.clone()?;
        Some(ChartPlace {
            patient,
            name,
            tab: self.tab.name().into(),
            vital: self.vital,
            lab: self.lab,
            event: self.event,
            plotted: self.plotted,
        })
    }

    /// At start: charts the session's patient again (the data is fetched anew) and puts the
    /// view and selection back. Selections past the rows the new data has are drawn at the
    /// last row (the views clamp), and a plotted row past them is not plotted.
    pub fn restore(&mut self, place: &ChartPlace, cx: &mut Cx) {
        self.open(place.patient.clone(), place.name.clone(), cx);
        self.tab = Tab::from_name(&place.tab);
        self.vital = place.vital;
        self.lab = place.lab;
        self.event = place.event;
        self.plotted = place.plotted.filter(|_| self.tab == Tab::Labs);
    }

    /// Once built: selections from a restored session kept within the rows there are.
    fn clamp(&mut self) {
        let Some(b) = self.built() else {
            return;
        };
        let (v, l, e) = (
            b.chart.vitals.len(),
            b.chart.labs.len(),
            b.chart.timeline.len(),
        );
        self.vital = self.vital.min(v.saturating_sub(1));
        self.lab = self.lab.min(l.saturating_sub(1));
        self.event = self.event.min(e.saturating_sub(1));
        self.plotted = self.plotted.filter(|p| *p < l);
    }

    /// Cancels whatever is still on the wire.
    fn stop(&mut self, cx: &mut Cx) {
        if let State::Loading(f) = &mut self.state {
            f.cancel(cx);
        }
    }

    /// A worker answer to one of the chart's GETs.
    pub fn on_answer(
        &mut self,
        id: RequestId,
        result: Result<Box<Received>, HttpError>,
        cx: &mut Cx,
    ) {
        let State::Loading(f) = &mut self.state else {
            return;
        };
        if let Err(e) = f.on_answer(id, result, cx) {
            f.cancel(cx);
            self.state = State::Failed(e);
        }
    }

    /// A worker job's result: a page read, or the chart built.
    pub fn on_step(&mut self, id: RequestId, result: Result<ChartStep, String>, cx: &mut Cx) {
        let State::Loading(f) = &mut self.state else {
            return;
        };
        match f.on_step(id, result, cx) {
            Ok(Some(built)) => {
                cx.info(format!(
                    "Chart ready in {} ms ({}).",
                    built.took.as_millis(),
                    built.source
                ));
                self.state = State::Ready(Box::new(built));
                self.clamp();
            }
            Ok(None) => {}
            Err(e) => {
                f.cancel(cx);
                self.state = State::Failed(e);
            }
        }
    }

    /// How many rows the current tab has (charts, lab rows, timeline entries).
    fn rows(&self) -> usize {
        let Some(b) = self.built() else {
            return 0;
        };
        match self.tab {
            Tab::Vitals => b.chart.vitals.len(),
            Tab::Labs => b.chart.labs.len(),
            Tab::Timeline => b.chart.timeline.len(),
        }
    }

    fn selected_mut(&mut self) -> &mut usize {
        match self.tab {
            Tab::Vitals => &mut self.vital,
            Tab::Labs => &mut self.lab,
            Tab::Timeline => &mut self.event,
        }
    }

    /// A key on the chart. `Close` goes back to the patient.
    pub fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let Some(action) = action else {
            return Handled::No;
        };
        let last = self.rows().saturating_sub(1);
        match action {
            Action::Back if self.plotted.is_some() => self.plotted = None,
            Action::Back | Action::Close => {
                self.stop(cx);
                if matches!(self.state, State::Loading(_)) {
                    self.state = State::Idle;
                    cx.info("Chart cancelled.");
                }
                return Handled::Close;
            }
            Action::Refresh => {
                if let Some((id, name)) = self.patient.clone() {
                    self.open(id, name, cx);
                }
            }
            Action::NextTab | Action::PrevTab => {
                let step = if action == Action::NextTab { 1 } else { 2 };
                self.tab = Tab::ALL[(self.tab.index() + step) % 3];
                self.plotted = None;
            }
            Action::Down | Action::Right => {
                let s = self.selected_mut();
                *s = (*s + 1).min(last);
            }
            Action::Up | Action::Left => {
                let s = self.selected_mut();
                *s = s.saturating_sub(1);
            }
            Action::PageDown => {
                let s = self.selected_mut();
                *s = (*s + 10).min(last);
            }
            Action::PageUp => {
                let s = self.selected_mut();
                *s = s.saturating_sub(10);
            }
            Action::Top => *self.selected_mut() = 0,
            Action::Bottom => *self.selected_mut() = last,
            Action::Activate => self.activate(cx),
            _ => return Handled::No,
        }
        Handled::Yes
    }

    /// Enter: a lab row is plotted; a timeline entry opens in the browser.
    fn activate(&mut self, cx: &mut Cx) {
        let Some(b) = self.built() else {
            return;
        };
        match self.tab {
            Tab::Vitals => {}
            Tab::Labs => {
                if self.lab < b.chart.labs.len() {
                    self.plotted = Some(self.lab);
                }
            }
            Tab::Timeline => {
                let reference = b
                    .chart
                    .timeline
                    .get(self.event)
                    .and_then(|e| e.reference.clone());
                match reference {
                    Some(r) => {
                        let url = format!("{}/{r}", cx.model.fhir_base());
                        cx.intent(Intent::Browser(super::browser::Msg::Browse(url)));
                    }
                    None => cx.info("This entry has no id to open."),
                }
            }
        }
    }
}
