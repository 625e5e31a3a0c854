//! The FHIR browser: a patient lookup bar, bundles as tables, paging links, references to
//! follow, and back/forward through what was visited — on any FHIR R4 server. `Esc` goes back
//! one page (from the first, out of the browser); the lookup is a layer over the page under it.

mod draw;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use serde_json::Value;

use super::{Cx, Handled, Intent};
use crate::fhir::page::FhirPage;
use crate::fhir::{BundleView, Issue, PatientSummary, interpret, resolve_reference};
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::Purpose;
use crate::tui::widgets::text_field::TextField;
use crate::view_body::BodyText;
use crate::worker::{HttpError, Received, RequestId, WorkerCommand};

/// Lookups wait for a pause in typing this long before searching.
pub const LOOKUP_DEBOUNCE: Duration = Duration::from_millis(300);

/// Patients asked for per lookup page.
pub const LOOKUP_PAGE: usize = 20;

/// Visited pages kept (the oldest go first; each keeps its body).
pub const MAX_PAGES: usize = 50;

/// A fetched FHIR answer, understood.
pub struct Loaded {
    pub status: u16,
    pub json: Option<Value>,
    pub text: BodyText,
    pub bundle: Option<BundleView>,
    pub outcome: Option<Vec<Issue>>,
    pub patient: Option<PatientSummary>,
    /// Search parameters sent that the searchset's `self` link dropped (a lenient server
    /// ignored them; a strict one would have refused), see `fhir::handling`.
    pub ignored: Vec<String>,
}

pub enum PageContent {
    Loading,
    Failed(String),
    Loaded(Box<Loaded>),
}

/// One visited address.
pub struct Page {
    pub url: String,
    pub content: PageContent,
    /// Show JSON rather than the table (bundles) / summary (patients).
    pub json_view: bool,
    /// Selected table row, or the cursor line in the JSON view.
    pub selected: usize,
    pub pending: Option<RequestId>,
}

impl Page {
    /// The patient this page shows, once loaded.
    pub fn patient(&self) -> Option<&PatientSummary> {
        match &self.content {
            PageContent::Loaded(l) => l.patient.as_ref(),
            _ => None,
        }
    }
}

/// The lookup bar.
pub struct Lookup {
    pub input: TextField,
    pub typed_at: Option<Instant>,
    pub searched: String,
    pub explanation: Vec<String>,
    pub pending: Option<RequestId>,
    pub results: Option<Result<Box<Loaded>, String>>,
    pub selected: usize,
    /// Enter was pressed before the results came: open the first one when they do.
    pub open_when_ready: bool,
    /// Which page of results is shown (1 = the first), for "21–40 of 143".
    pub page: usize,
}

impl Lookup {
    fn new(text: &str) -> Self {
        Self {
            input: TextField::line(text),
            typed_at: None,
            searched: String::new(),
            explanation: Vec::new(),
            pending: None,
            results: None,
            selected: 0,
            open_when_ready: false,
            page: 1,
        }
    }

    pub fn text(&self) -> String {
        self.input.text()
    }

    fn bundle(&self) -> Option<&BundleView> {
        match &self.results {
            Some(Ok(r)) => r.bundle.as_ref(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Page(usize),
    Lookup,
}

/// Messages for the browser from other screens (the palette, session restore).
pub enum Msg {
    /// Open the lookup bar, with this text typed (searched at once when not empty).
    Lookup(String),
    /// Fetch this URL as a new page.
    Browse(String),
}

#[derive(Default)]
pub struct Browser {
    pub pages: Vec<Page>,
    pub pos: usize,
    pub lookup: Option<Lookup>,
    pub requests: HashMap<RequestId, Target>,
}

/// A FHIR answer for the browser, as the worker read it (`read_fhir`): the view only takes
/// what was parsed on the worker's blocking thread. Without it (the reading thread died) the
/// body shows as text.
pub fn understand(received: Box<Received>) -> Loaded {
    let Received {
        response,
        body,
        fhir,
        ..
    } = *received;
    loaded(&response, &body, fhir.map(|p| *p).unwrap_or_default())
}

/// An answer already in hand, read here (tests build pages with it).
#[cfg(test)]
pub fn understand_parts(
    response: &crate::worker::HttpResponse,
    body: &crate::worker::body::PreparedBody,
) -> Loaded {
    let today = chrono::Local::now().date_naive();
    let page = FhirPage::read(&response.body, &response.final_url, today);
    loaded(response, body, page)
}

fn loaded(
    response: &crate::worker::HttpResponse,
    body: &crate::worker::body::PreparedBody,
    page: FhirPage,
) -> Loaded {
    let FhirPage {
        json,
        bundle,
        outcome,
        patient,
        ignored,
    } = page;
    Loaded {
        status: response.status,
        json,
        text: body.pretty.clone(),
        bundle,
        outcome,
        patient,
        ignored,
    }
}

impl Browser {
    /// Adds a page after the current one, dropping any forward history, and shows it.
    pub fn push(&mut self, url: String, content: PageContent) -> usize {
        if !self.pages.is_empty() {
            self.pages.truncate(self.pos + 1);
        }
        self.pages.push(Page {
            url,
            content,
            json_view: false,
            selected: 0,
            pending: None,
        });
        // Bounded: the oldest page goes (with its body).
        if self.pages.len() > MAX_PAGES {
            self.pages.remove(0);
            for t in self.requests.values_mut() {
                if let Target::Page(i) = t {
                    *i = i.saturating_sub(1);
                }
            }
        }
        self.pos = self.pages.len() - 1;
        self.pos
    }

    pub fn current(&self) -> Option<&Page> {
        self.pages.get(self.pos)
    }

    pub fn current_mut(&mut self) -> Option<&mut Page> {
        self.pages.get_mut(self.pos)
    }

    /// The keymap context now: the lookup bar's while it is open.
    pub fn ctx(&self) -> Ctx {
        if self.lookup.is_some() {
            Ctx::Lookup
        } else {
            Ctx::Browser
        }
    }

    /// Whether it needs the clock (debounce, loading spinners).
    pub fn busy(&self) -> bool {
        !self.requests.is_empty() || self.lookup.as_ref().is_some_and(|l| l.typed_at.is_some())
    }

    /// Opens the lookup bar (`f`) over whatever page is shown. False when there is no server.
    pub fn open_lookup(&mut self, text: &str, cx: &mut Cx) -> bool {
        if cx.model.fhir_base().is_empty() {
            cx.error("Set fhirurl in the active environment to look patients up.");
            return false;
        }
        let mut l = Lookup::new(text);
        if !text.trim().is_empty() {
            l.typed_at = Some(Instant::now() - LOOKUP_DEBOUNCE);
        }
        self.lookup = Some(l);
        true
    }

    /// An answer already in hand (the Response pane's `o`) as a new page, without a refetch.
    pub fn show(&mut self, url: String, loaded: Loaded) {
        self.push(url, PageContent::Loaded(Box::new(loaded)));
        self.lookup = None;
    }

    /// An answer already in hand (the Response pane's `o`) as a new page: read on the worker's
    /// blocking thread like a fetched one, so a large body never stalls a frame.
    pub fn read_answer(&mut self, received: Box<Received>, cx: &mut Cx) {
        let url = received.response.final_url.clone();
        let index = self.push(url.clone(), PageContent::Loading);
        let id = cx.model.next_request_id();
        self.requests.insert(id, Target::Page(index));
        if let Some(p) = self.pages.get_mut(index) {
            p.pending = Some(id);
        }
        // Redacted as a fetched page's address is (the environment's secrets never shown).
        let secrets = cx.model.prepare_get(&url).secrets;
        cx.model.in_flight.insert(
            id,
            crate::tui::model::InFlight::starting(
                crate::tui::model::Purpose::Browser,
                "GET",
                &url,
                secrets,
            ),
        );
        cx.worker(WorkerCommand::ReadPage { id, received });
    }

    /// Fetches `url` into a new page after the current one.
    pub fn browse_to(&mut self, url: String, cx: &mut Cx) {
        let index = self.push(url.clone(), PageContent::Loading);
        self.fetch(url, Target::Page(index), cx);
    }

    /// Sends a GET for the browser, prepared like any request (the environment's sign-in).
    pub fn fetch(&mut self, url: String, target: Target, cx: &mut Cx) {
        // A newer search replaces the one still running.
        let old: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, t)| **t == target)
            .map(|(id, _)| *id)
            .collect();
        for o in old {
            self.requests.remove(&o);
            cx.model.in_flight.remove(&o);
            cx.worker(WorkerCommand::Cancel { id: o });
        }
        let id = cx.model.next_request_id();
        self.requests.insert(id, target);
        match target {
            Target::Page(i) => {
                if let Some(p) = self.pages.get_mut(i) {
                    p.pending = Some(id);
                }
            }
            Target::Lookup => {
                if let Some(l) = self.lookup.as_mut() {
                    l.pending = Some(id);
                }
            }
        }
        cx.fhir_get(id, &url, Purpose::Browser, "browsing");
    }

    /// A worker answer for the browser.
    pub fn on_answer(
        &mut self,
        id: RequestId,
        result: Result<Box<Received>, HttpError>,
        cx: &mut Cx,
    ) {
        let Some(target) = self.requests.remove(&id) else {
            return;
        };
        let loaded = result
            .map(|r| Box::new(understand(r)))
            .map_err(|e| e.to_string());
        match target {
            Target::Page(i) => {
                if let Some(p) = self.pages.get_mut(i) {
                    p.pending = None;
                    p.content = match loaded {
                        Ok(l) => PageContent::Loaded(l),
                        Err(e) => PageContent::Failed(e),
                    };
                }
            }
            Target::Lookup => {
                let Some(l) = self.lookup.as_mut() else {
                    return;
                };
                l.pending = None;
                l.selected = 0;
                l.results = Some(loaded);
                if std::mem::take(&mut l.open_when_ready) {
                    self.open_selected_patient(cx);
                }
            }
        }
    }

    /// Runs the debounced lookup when typing has paused.
    pub fn tick(&mut self, cx: &mut Cx) {
        let base = cx.model.fhir_base();
        let Some(l) = self.lookup.as_mut() else {
            return;
        };
        let text = l.text();
        let due = l.typed_at.is_some_and(|t| t.elapsed() >= LOOKUP_DEBOUNCE) && text != l.searched;
        if !due {
            return;
        }
        l.typed_at = None;
        l.searched = text.clone();
        l.page = 1;
        let q = interpret(&text, chrono::Local::now().date_naive());
        l.explanation = q.explanation.clone();
        if q.is_empty() {
            l.results = None;
            return;
        }
        let url = format!(
            "{base}/Patient?{}&_count={LOOKUP_PAGE}",
            q.to_query_string()
        );
        self.fetch(url, Target::Lookup, cx);
    }

    /// The address of an entry or reference to open from the current page.
    fn selected_target(&self, base: &str) -> Option<String> {
        let page = self.current()?;
        let PageContent::Loaded(l) = &page.content else {
            return None;
        };
        if page.json_view || l.bundle.is_none() {
            let line = l.text.line(page.selected);
            let (_, reference) = crate::fhir::references_in_line(&line).into_iter().next()?;
            return resolve_reference(&reference, base, Some(&page.url));
        }
        let bundle = l.bundle.as_ref()?;
        let entry = bundle
            .entries
            .iter()
            .filter(|e| !e.is_outcome())
            .nth(page.selected)?;
        match (&entry.full_url, &entry.resource_type, &entry.id) {
            (Some(u), _, _) if u.starts_with("http") => Some(u.clone()),
            (_, Some(t), Some(id)) => Some(format!("{base}/{t}/{id}")),
            _ => None,
        }
    }

    /// Opens the patient selected in the lookup's results.
    fn open_selected_patient(&mut self, cx: &mut Cx) {
        let base = cx.model.fhir_base();
        let Some(l) = self.lookup.as_ref() else {
            return;
        };
        let target = l.bundle().and_then(|b| {
            let e = b.matches().nth(l.selected)?;
            e.id.as_ref().map(|id| format!("{base}/Patient/{id}"))
        });
        if let Some(url) = target {
            self.lookup = None;
            self.browse_to(url, cx);
        }
    }

    pub fn update(&mut self, msg: Msg, cx: &mut Cx) {
        match msg {
            Msg::Lookup(text) => {
                if self.open_lookup(&text, cx) {
                    self.tick(cx);
                }
            }
            Msg::Browse(url) => self.browse_to(url, cx),
        }
    }

    /// A key while the browser is shown. `Close` leaves the browser.
    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        if self.lookup.is_some() {
            return self.on_lookup_key(key, action, cx);
        }
        let base = cx.model.fhir_base();
        let Some(page) = self.pages.get_mut(self.pos) else {
            return match action {
                Some(Action::Back | Action::Close) => Handled::Close,
                Some(Action::Lookup) => {
                    self.open_lookup("", cx);
                    Handled::Yes
                }
                _ => Handled::No,
            };
        };
        let rows = match &page.content {
            PageContent::Loaded(l) if !page.json_view && l.bundle.is_some() => l
                .bundle
                .as_ref()
                .map(|b| b.entries.iter().filter(|e| !e.is_outcome()).count())
                .unwrap_or(0),
            PageContent::Loaded(l) => l.text.line_count(),
            _ => 0,
        };
        let links = match &page.content {
            PageContent::Loaded(l) => l.bundle.as_ref().map(|b| b.links.clone()),
            _ => None,
        };
        let patient_id = match &page.content {
            PageContent::Loaded(l) => l.patient.as_ref().and_then(|p| p.id.clone()),
            _ => None,
        };
        let last = rows.saturating_sub(1);
        match action {
            Some(Action::Close) => return Handled::Close,
            Some(Action::Back) if self.pos == 0 => return Handled::Close,
            Some(Action::Back) => self.pos -= 1,
            Some(Action::Forward) => {
                if self.pos + 1 < self.pages.len() {
                    self.pos += 1;
                }
            }
            Some(Action::Down) => page.selected = (page.selected + 1).min(last),
            Some(Action::Up) => page.selected = page.selected.saturating_sub(1),
            Some(Action::PageDown) => page.selected = (page.selected + 20).min(last),
            Some(Action::PageUp) => page.selected = page.selected.saturating_sub(20),
            Some(Action::Top) => page.selected = 0,
            Some(Action::Bottom) => page.selected = last,
            Some(Action::ToggleJson) => {
                page.json_view = !page.json_view;
                page.selected = 0;
            }
            Some(a @ (Action::NextReference | Action::PrevReference)) => {
                // Jump to the next (previous) line holding a reference, in the JSON view.
                if let PageContent::Loaded(l) = &page.content
                    && (page.json_view || l.bundle.is_none())
                {
                    let n = l.text.line_count();
                    let has_ref =
                        |i: usize| !crate::fhir::references_in_line(&l.text.line(i)).is_empty();
                    let found = if a == Action::NextReference {
                        (page.selected + 1..n).find(|i| has_ref(*i))
                    } else {
                        (0..page.selected).rev().find(|i| has_ref(*i))
                    };
                    match found {
                        Some(i) => page.selected = i,
                        None => cx.info("No more references on this page."),
                    }
                } else {
                    let json = cx.model.keymap.say(Ctx::Browser, Action::ToggleJson);
                    cx.info(format!(
                        "References are followed in the JSON view ({json})."
                    ));
                }
            }
            Some(Action::Refresh) => {
                let url = page.url.clone();
                page.content = PageContent::Loading;
                let pos = self.pos;
                self.fetch(url, Target::Page(pos), cx);
            }
            Some(Action::Lookup) => {
                self.open_lookup("", cx);
            }
            Some(
                a @ (Action::NextPage | Action::PrevPage | Action::FirstPage | Action::LastPage),
            ) => {
                let link = links.and_then(|l| match a {
                    Action::NextPage => l.next,
                    Action::PrevPage => l.previous,
                    Action::FirstPage => l.first,
                    _ => l.last,
                });
                match link {
                    Some(url) => self.browse_to(url, cx),
                    None => cx.info("The server gave no such paging link."),
                }
            }
            Some(a @ (Action::MoreCount | Action::LessCount)) => {
                let url = adjust_count(&page.url, a == Action::MoreCount);
                self.browse_to(url, cx);
            }
            Some(
                a @ (Action::Observations
                | Action::Encounters
                | Action::Conditions
                | Action::Everything),
            ) => match patient_id {
                Some(id) => {
                    let url = match a {
                        Action::Observations => {
                            format!("{base}/Observation?patient={id}&_sort=-date&_count=50")
                        }
                        Action::Encounters => format!("{base}/Encounter?patient={id}&_count=50"),
                        Action::Conditions => format!("{base}/Condition?patient={id}&_count=50"),
                        _ => format!("{base}/Patient/{id}/$everything"),
                    };
                    self.browse_to(url, cx);
                }
                None => {
                    let keys = cx.model.keymap.labels(
                        Ctx::Browser,
                        &[Action::Observations, Action::Encounters, Action::Conditions],
                    );
                    let all = cx.model.keymap.say(Ctx::Browser, Action::Everything);
                    cx.info(format!(
                        "Open a patient first ({} and {all} are that patient's data).",
                        keys.replace('/', ", ")
                    ));
                }
            },
            Some(Action::Chart) => {
                let patient = match &page.content {
                    PageContent::Loaded(l) => l.patient.as_ref(),
                    _ => None,
                };
                let named = |p: &PatientSummary| {
                    let mut parts: Vec<String> = p.name.iter().cloned().collect();
                    parts.extend(p.gender.clone());
                    parts.extend(p.birth_date.clone());
                    (p.id.clone(), parts.join(" · "))
                };
                match patient.map(named) {
                    Some((Some(id), name)) => {
                        cx.intent(Intent::Chart(super::chart::Msg::Open { id, name }));
                    }
                    _ => {
                        let chart = cx.model.keymap.say(Ctx::Browser, Action::Chart);
                        cx.info(format!(
                            "Open a patient first; {chart} charts that patient."
                        ));
                    }
                }
            }
            Some(Action::Activate) => match self.selected_target(&base) {
                Some(url) => self.browse_to(url, cx),
                None => {
                    let json = cx.model.keymap.say(Ctx::Browser, Action::ToggleJson);
                    cx.info(format!(
                        "Nothing to open here: select a row, or a line with a \"reference\" in the JSON view ({json})."
                    ));
                }
            },
            _ => return Handled::No,
        }
        Handled::Yes
    }

    fn on_lookup_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let caps = cx.model.active_capabilities().cloned();
        let Some(l) = self.lookup.as_mut() else {
            return Handled::No;
        };
        let count = l.bundle().map(|b| b.matches().count()).unwrap_or(0);
        match action {
            Some(Action::Close) => {
                self.lookup = None;
                if self.pages.is_empty() {
                    return Handled::Close;
                }
            }
            // Tab completes a `field:` from the server's Patient search parameters when the word
            // being typed is the start of one; otherwise it moves down the results.
            Some(Action::Complete) => match lookup_field_completion(&l.text(), caps.as_ref()) {
                Some(done) => {
                    l.input.set_text(&done);
                    l.typed_at = Some(Instant::now());
                }
                None => l.selected = (l.selected + 1).min(count.saturating_sub(1)),
            },
            Some(Action::Down) => l.selected = (l.selected + 1).min(count.saturating_sub(1)),
            Some(Action::Up) => l.selected = l.selected.saturating_sub(1),
            Some(a @ (Action::NextPage | Action::PrevPage)) => {
                let link = l.bundle().and_then(|b| {
                    if a == Action::NextPage {
                        b.links.next.clone()
                    } else {
                        b.links.previous.clone()
                    }
                });
                match link {
                    Some(url) => {
                        l.page = if a == Action::NextPage {
                            l.page + 1
                        } else {
                            l.page.saturating_sub(1).max(1)
                        };
                        self.fetch(url, Target::Lookup, cx);
                    }
                    None => cx.info(if a == Action::NextPage {
                        "These are all the matches."
                    } else {
                        "This is the first page of matches."
                    }),
                }
            }
            Some(Action::Activate) => {
                let waiting = l.pending.is_some() || l.typed_at.is_some();
                if waiting || count == 0 {
                    // Typed ahead of the results: open the first one when they come.
                    l.open_when_ready = waiting;
                    if waiting {
                        cx.info("Opening the first match when the results arrive…");
                    }
                } else {
                    self.open_selected_patient(cx);
                }
            }
            _ => {
                let a = cx.model.keymap.lookup(Ctx::Text, key);
                let before = l.text();
                l.input.input(key, a);
                if l.text() != before {
                    l.typed_at = Some(Instant::now());
                    l.open_when_ready = false;
                }
            }
        }
        Handled::Yes
    }

    /// Pasted text goes into the lookup bar.
    pub fn on_paste(&mut self, text: &str) {
        if let Some(l) = self.lookup.as_mut() {
            l.input.paste(text);
            l.typed_at = Some(Instant::now());
        }
    }
}

/// The lookup text with its last word completed to a Patient search parameter (`fam` →
/// `family:`), from the server's CapabilityStatement; `None` when nothing completes.
pub fn lookup_field_completion(
    text: &str,
    caps: Option<&crate::fhir::Capabilities>,
) -> Option<String> {
    let caps = caps?;
    let start = text.rfind(' ').map(|i| i + 1).unwrap_or(0);
    let word = &text[start..];
    if word.len() < 2 || word.contains(':') {
        return None;
    }
    let mut found = caps
        .complete_search_param("Patient", word)
        .into_iter()
        .filter(|p| !p.starts_with('_'));
    let first = found.next()?;
    if found.next().is_some() {
        return None; // ambiguous: keep typing
    }
    Some(format!("{}{first}:", &text[..start]))
}

/// The largest page Azure's FHIR service serves: a bigger `_count` is clamped to it with a
/// warning in the Bundle (microsoft/fhir-server `SearchOptionsFactory.cs`,
/// `MaxItemCountPerSearch`), so the UI never asks for more.
pub const MAX_COUNT: u32 = 1000;

/// Doubles or halves `_count` in a search URL (default 10 when absent), within 1..=1000.
pub fn adjust_count(url: &str, up: bool) -> String {
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let current = parts
        .iter()
        .find_map(|p| {
            p.strip_prefix("_count=")
                .and_then(|v| v.parse::<u32>().ok())
        })
        .unwrap_or(10)
        .min(MAX_COUNT);
    let next = if up {
        current.saturating_mul(2).min(MAX_COUNT)
    } else {
        (current / 2).max(1)
    };
    parts.retain(|p| !p.starts_with("_count="));
    parts.retain(|p| !p.starts_with("ct=")); // a continuation token belongs to the old page size
    parts.push(format!("_count={next}"));
    format!("{head}?{}", parts.join("&"))
}

/// Turns an intent-producing shortcut for other screens into one call.
pub fn browse(url: String) -> Intent {
    Intent::Browser(Msg::Browse(url))
}
