//! Fetching a patient's data for the chart: `$everything` page by page, or, when the server
//! has none (its CapabilityStatement says so, or it answers 400/404/405/501), a few searches
//! per type. Each page is a GET prepared like any browser request and sent through the worker;
//! each answer is read into facts by a worker job; when nothing is left on the wire or being
//! read, one more job builds the chart. Every loop the server drives is bounded: pages per
//! stream, facts in all, and `next` links are followed only under the FHIR base.

use std::collections::HashMap;
use std::time::Instant;

use super::Built;
use super::plot::Plot;
use crate::fhir::chart::{Fact, MAX_FACTS};
use crate::tui::model::Purpose;
use crate::tui::screens::Cx;
use crate::worker::chart::{ChartJob, ChartStep};
use crate::worker::{HttpError, Received, RequestId, WorkerCommand};

/// Pages of `$everything` followed at most.
pub(super) const MAX_EVERYTHING_PAGES: usize = 30;

/// The types `$everything` is asked for (`_type`): what the chart reads.
const EVERYTHING_TYPES: &str = "Observation,Encounter,Condition,Procedure,MedicationRequest";

/// The searches made instead of `$everything`: type, query, pages followed at most.
const SEARCHES: &[(&str, &str, usize)] = &[
    ("Observation", "_sort=-date&_count=200", 10),
    ("Encounter", "_sort=-date&_count=100", 3),
    ("Condition", "_count=100", 2),
    ("Procedure", "_sort=-date&_count=100", 2),
    ("MedicationRequest", "_count=100", 2),
];

/// Which way the data is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Everything,
    Searches,
}

/// One chain of pages: `$everything`, or one type's search.
#[derive(Debug, Clone)]
pub struct Stream {
    pub label: String,
    pub pages: usize,
    pub max_pages: usize,
    /// A first search page's URL without `_sort`, asked once if the server refuses the sort
    /// (`_sort` is optional in FHIR; some servers answer 400 to it rather than ignore it).
    pub unsorted: Option<String>,
}

pub struct Fetch {
    pub base: String,
    pub patient: String,
    pub source: Source,
    /// Why searches are used instead of `$everything`.
    pub why: Option<String>,
    /// Pages on the wire.
    pub on_wire: HashMap<RequestId, Stream>,
    /// Pages answered and being read by the worker.
    pub reading: HashMap<RequestId, Stream>,
    /// The build job, once everything is read.
    pub build: Option<RequestId>,
    pub pages: usize,
    pub entries: usize,
    pub facts: Vec<Fact>,
    /// Facts left out over [`MAX_FACTS`].
    pub dropped: usize,
    /// Per search, the resources of other patients its pages carried (left out).
    pub others: Vec<(String, usize)>,
    pub notes: Vec<String>,
    pub started: Instant,
}

impl Fetch {
    /// Starts fetching. `everything` is what the CapabilityStatement says of `$everything`
    /// (`None` when it is not known: then it is tried).
    pub fn start(base: &str, patient: &str, everything: Option<bool>, cx: &mut Cx) -> Fetch {
        let mut f = Fetch {
            base: base.to_string(),
            patient: patient.to_string(),
            source: Source::Everything,
            why: None,
            on_wire: HashMap::new(),
            reading: HashMap::new(),
            build: None,
            pages: 0,
            entries: 0,
            facts: Vec::new(),
            dropped: 0,
            others: Vec::new(),
            notes: Vec::new(),
            started: Instant::now(),
        };
        if everything == Some(false) {
            f.searches(
                "the server's CapabilityStatement declares no Patient $everything".into(),
                cx,
            );
        } else {
            let url = format!("{base}/Patient/{patient}/$everything?_type={EVERYTHING_TYPES}");
            let stream = Stream {
                label: "$everything".into(),
                pages: 0,
                max_pages: MAX_EVERYTHING_PAGES,
                unsorted: None,
            };
            f.get(url, stream, cx);
        }
        f
    }

    /// Falls back to searches per type, saying why.
    fn searches(&mut self, why: String, cx: &mut Cx) {
        self.source = Source::Searches;
        self.why = Some(why);
        for (rtype, query, max_pages) in SEARCHES {
            let url = format!("{}/{rtype}?patient={}&{query}", self.base, self.patient);
            let unsorted = query.contains("_sort=").then(|| {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|p| !p.starts_with("_sort="))
                    .collect();
                format!(
                    "{}/{rtype}?patient={}&{}",
                    self.base,
                    self.patient,
                    kept.join("&")
                )
            });
            let stream = Stream {
                label: (*rtype).to_string(),
                pages: 0,
                max_pages: *max_pages,
                unsorted,
            };
            self.get(url, stream, cx);
        }
    }

    /// Sends a GET, prepared like any request of the environment (its sign-in applies only
    /// under its FHIR base), recorded in history like the browser's.
    fn get(&mut self, url: String, stream: Stream, cx: &mut Cx) {
        let id = cx.model.next_request_id();
        cx.fhir_get(id, &url, Purpose::Chart, "fetching the chart");
        self.on_wire.insert(id, stream);
    }

    /// Cancels the pages on the wire; reads and builds still running are ignored when done.
    pub fn cancel(&mut self, cx: &mut Cx) {
        for (id, _) in self.on_wire.drain() {
            cx.model.in_flight.remove(&id);
            cx.model.receiving.remove(&id);
            cx.worker(WorkerCommand::Cancel { id });
        }
        self.reading.clear();
        self.build = None;
    }

    /// A page answered: handed to the worker to read, or a fallback, a note, or the end.
    pub fn on_answer(
        &mut self,
        id: RequestId,
        result: Result<Box<Received>, HttpError>,
        cx: &mut Cx,
    ) -> Result<(), String> {
        let Some(mut stream) = self.on_wire.remove(&id) else {
            return Ok(());
        };
        let first_everything = self.source == Source::Everything && stream.pages == 0;
        let r = match result {
            Ok(r) => r,
            Err(e) if self.source == Source::Searches => {
                self.notes
                    .push(format!("The {} search failed: {e}", stream.label));
                self.maybe_build(cx);
                return Ok(());
            }
            Err(e) => return Err(format!("$everything failed: {e}")),
        };
        let status = r.response.status;
        if first_everything && matches!(status, 400 | 404 | 405 | 501) {
            self.searches(format!("the server answered {status} to $everything"), cx);
            return Ok(());
        }
        if status == 400
            && stream.pages == 0
            && let Some(url) = stream.unsorted.take()
        {
            self.notes.push(format!(
                "The {} search was refused with _sort=-date (400{}); it was asked again without a sort (the chart orders values itself).",
                stream.label,
                outcome_text(&r).trim_end_matches('.')
            ));
            self.get(url, stream, cx);
            return Ok(());
        }
        if !(200..300).contains(&status) {
            let said = outcome_text(&r);
            let msg = format!("The {} answered {status}{said}", label(&stream));
            if self.source == Source::Searches {
                self.notes.push(msg);
                self.maybe_build(cx);
                return Ok(());
            }
            return Err(msg);
        }
        if r.response.spool.is_some() {
            let msg = format!(
                "A page of the {} was too large to keep in memory; the chart does not read it.",
                label(&stream)
            );
            if self.source == Source::Searches {
                self.notes.push(msg);
                self.maybe_build(cx);
                return Ok(());
            }
            return Err(msg);
        }
        self.pages += 1;
        stream.pages += 1;
        // Search pages are checked for the patient; `$everything` is the patient's by
        // definition (and may name them in fields other than `subject`).
        let patient = (self.source == Source::Searches).then(|| self.patient.clone());
        cx.worker(WorkerCommand::Chart(Box::new(ChartJob::Read {
            id,
            body: r.response.body.clone(),
            patient,
        })));
        self.reading.insert(id, stream);
        Ok(())
    }

    /// A worker job done: a page read (its next page fetched, within bounds) or the chart
    /// built (`Some`).
    pub fn on_step(
        &mut self,
        id: RequestId,
        result: Result<ChartStep, String>,
        cx: &mut Cx,
    ) -> Result<Option<Built>, String> {
        if self.build == Some(id) {
            self.build = None;
            return match result {
                Ok(ChartStep::Built(chart)) => Ok(Some(self.built(chart))),
                Ok(ChartStep::Read(_)) => Err("The chart was not built.".into()),
                Err(e) => Err(e),
            };
        }
        let Some(stream) = self.reading.remove(&id) else {
            return Ok(None);
        };
        let page = match result {
            Ok(ChartStep::Read(p)) => p,
            Ok(ChartStep::Built(_)) => return Ok(None),
            Err(e) if self.source == Source::Searches => {
                self.notes.push(format!("The {}: {e}", label(&stream)));
                self.maybe_build(cx);
                return Ok(None);
            }
            Err(e) => return Err(format!("$everything: {e}")),
        };
        let page = *page;
        self.entries += page.entries;
        if page.others > 0 {
            match self.others.iter_mut().find(|(l, _)| *l == stream.label) {
                Some((_, n)) => *n += page.others,
                None => self.others.push((stream.label.clone(), page.others)),
            }
        }
        if let Some(n) = page.note {
            self.notes
                .push(format!("The server's note on the {}: {n}", label(&stream)));
        }
        let room = MAX_FACTS.saturating_sub(self.facts.len());
        let n = page.facts.len();
        self.facts.extend(page.facts.into_iter().take(room));
        self.dropped += n.saturating_sub(room);
        if let Some(next) = page.next {
            if self.dropped > 0 {
                self.notes.push(format!(
                    "Stopped at {MAX_FACTS} values; the rest of the {} was not fetched.",
                    label(&stream)
                ));
            } else if !crate::fhir::is_under_base(&next, &self.base) {
                self.notes.push(format!(
                    "The {}'s next page is not under {}; it was not followed.",
                    label(&stream),
                    self.base
                ));
            } else if stream.pages >= stream.max_pages {
                self.notes.push(format!(
                    "The {} was read for {} pages, the most the chart reads; later pages were not fetched.",
                    label(&stream),
                    stream.pages
                ));
            } else {
                self.get(next, stream, cx);
            }
        }
        self.maybe_build(cx);
        Ok(None)
    }

    /// Once nothing is on the wire or being read, builds the chart from every fact.
    fn maybe_build(&mut self, cx: &mut Cx) {
        if !self.on_wire.is_empty() || !self.reading.is_empty() || self.build.is_some() {
            return;
        }
        let id = cx.model.next_request_id();
        self.build = Some(id);
        let facts = std::mem::take(&mut self.facts);
        cx.worker(WorkerCommand::Chart(Box::new(ChartJob::Build {
            id,
            facts,
        })));
    }

    fn built(&mut self, chart: Box<crate::fhir::chart::PatientChart>) -> Built {
        // One line for all the searches: the header has room for few.
        let mut others = std::mem::take(&mut self.others);
        others.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let total: usize = others.iter().map(|(_, n)| n).sum();
        if total > 0 {
            let each: Vec<String> = others.iter().map(|(l, n)| format!("{l} {n}")).collect();
            self.notes.push(format!(
                "The server ignored patient={}: {total} resource{} of other patients left out ({}).",
                self.patient,
                if total == 1 { "" } else { "s" },
                each.join(", ")
            ));
        }
        let vitals = chart.vitals.iter().map(Plot::of).collect();
        let labs = chart.labs.iter().map(|l| Plot::of(&l.trend)).collect();
        Built {
            chart,
            vitals,
            labs,
            source: self.source_line(),
            took: self.started.elapsed(),
            notes: std::mem::take(&mut self.notes),
        }
    }

    /// "from $everything: 2 pages, 183 entries" (or the searches, and why).
    pub fn source_line(&self) -> String {
        let pages = format!(
            "{} page{}, {} entr{}",
            self.pages,
            if self.pages == 1 { "" } else { "s" },
            self.entries,
            if self.entries == 1 { "y" } else { "ies" }
        );
        match (self.source, &self.why) {
            (Source::Everything, _) => format!("from $everything: {pages}"),
            (Source::Searches, Some(why)) => format!("from searches per type ({why}): {pages}"),
            (Source::Searches, None) => format!("from searches per type: {pages}"),
        }
    }

    /// What is going on, for the loading screen.
    pub fn progress_line(&self) -> String {
        let waiting: Vec<&str> = {
            let mut v: Vec<&str> = self.on_wire.values().map(|s| s.label.as_str()).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let doing = if self.build.is_some() {
            "building the chart".to_string()
        } else if waiting.is_empty() {
            "reading".to_string()
        } else {
            format!("waiting for {}", waiting.join(", "))
        };
        let how = match self.source {
            Source::Everything => "$everything".to_string(),
            Source::Searches => "searches per type".to_string(),
        };
        format!(
            "Fetching by {how} · {} page{} · {} entries · {doing}",
            self.pages,
            if self.pages == 1 { "" } else { "s" },
            self.entries
        )
    }
}

/// "$everything" or "Encounter search".
fn label(s: &Stream) -> String {
    if s.label.starts_with('$') {
        s.label.clone()
    } else {
        format!("{} search", s.label)
    }
}

/// ": <what the OperationOutcome says>" when the answer is one.
fn outcome_text(r: &Received) -> String {
    if r.response.body.len() > 64 * 1024 {
        return ".".into();
    }
    serde_json::from_slice::<serde_json::Value>(&r.response.body)
        .ok()
        .as_ref()
        .and_then(crate::fhir::parse_outcome)
        .map(|issues| {
            format!(
                ": {}",
                crate::fhir::chart::clean(&crate::fhir::outcome_summary(&issues))
            )
        })
        .unwrap_or_else(|| ".".into())
}
