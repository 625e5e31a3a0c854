//! FHIR-aware browsing: a patient lookup bar, bundles as tables, paging links, references to
//! follow, and back/forward through what was visited — on any FHIR R4 server.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ratatui_textarea::TextArea;
use serde_json::Value;

use super::state::{App, line_area};
use super::update::Command;
use crate::fhir::{BundleView, Issue, PatientSummary, interpret, parse_outcome, resolve_reference};
use crate::view_body::BodyText;
use crate::worker::{HttpRequest, Received, RequestId, WorkerCommand};
use crate::workspace::RequestSpec;

/// Lookups wait for a pause in typing this long before searching.
pub const LOOKUP_DEBOUNCE: Duration = Duration::from_millis(300);

/// A fetched FHIR answer, understood.
pub struct Loaded {
    pub status: u16,
    pub json: Option<Value>,
    pub text: BodyText,
    pub bundle: Option<BundleView>,
    pub outcome: Option<Vec<Issue>>,
    pub patient: Option<PatientSummary>,
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

/// The lookup bar.
pub struct Lookup {
    pub input: TextArea<'static>,
    pub typed_at: Option<Instant>,
    pub searched: String,
    pub explanation: Vec<String>,
    pub pending: Option<RequestId>,
    pub results: Option<Result<Box<Loaded>, String>>,
    pub selected: usize,
}

#[derive(Default)]
pub struct Browser {
    pub pages: Vec<Page>,
    pub pos: usize,
    pub lookup: Option<Lookup>,
    pub requests: HashMap<RequestId, Target>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Page(usize),
    Lookup,
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
        self.pos = self.pages.len() - 1;
        self.pos
    }

    pub fn current(&self) -> Option<&Page> {
        self.pages.get(self.pos)
    }

    pub fn current_mut(&mut self) -> Option<&mut Page> {
        self.pages.get_mut(self.pos)
    }
}

/// Parses a FHIR answer for the browser.
pub fn understand(received: &Received) -> Loaded {
    understand_parts(&received.response, &received.body)
}

pub fn understand_parts(
    response: &crate::worker::HttpResponse,
    body: &crate::worker::body::PreparedBody,
) -> Loaded {
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    let today = chrono::Local::now().date_naive();
    let bundle = json.as_ref().and_then(BundleView::parse);
    let outcome = json.as_ref().and_then(|j| {
        if j.get("resourceType").and_then(|t| t.as_str()) == Some("OperationOutcome") {
            parse_outcome(j)
        } else {
            None
        }
    });
    let patient = json
        .as_ref()
        .and_then(|j| PatientSummary::from_resource(j, today))
        .filter(|_| {
            json.as_ref()
                .and_then(|j| j.get("resourceType"))
                .and_then(|t| t.as_str())
                == Some("Patient")
        });
    Loaded {
        status: response.status,
        json,
        text: body.pretty.clone(),
        bundle,
        outcome,
        patient,
    }
}

impl App {
    pub fn fhir_base(&self) -> String {
        self.active_environment()
            .and_then(|e| e.get("fhirurl"))
            .unwrap_or("")
            .trim()
            .trim_end_matches('/')
            .to_string()
    }

    /// Opens the browser with the lookup bar (`f`).
    pub fn open_lookup(&mut self) {
        if self.fhir_base().is_empty() {
            self.error("Set fhirurl in the active environment to look patients up.");
            return;
        }
        let browser = self.browser.get_or_insert_with(Browser::default);
        browser.lookup = Some(Lookup {
            input: line_area(""),
            typed_at: None,
            searched: String::new(),
            explanation: Vec::new(),
            pending: None,
            results: None,
            selected: 0,
        });
        self.browsing = true;
    }

    /// `o` in the Response pane: the open request's answer as a browser page, without a refetch.
    pub fn open_response_in_browser(&mut self) {
        let Some(path) = self.open.clone() else {
            return;
        };
        let Some(view) = self.responses.get(&path) else {
            self.info("Send the request first; its answer opens in the browser.");
            return;
        };
        let super::response::Outcome::Received { response, body } = &view.outcome else {
            self.info("The request failed; there is nothing to browse.");
            return;
        };
        let loaded = understand_parts(response, body);
        let url = response.final_url.clone();
        let browser = self.browser.get_or_insert_with(Browser::default);
        browser.push(url, PageContent::Loaded(Box::new(loaded)));
        browser.lookup = None;
        self.browsing = true;
    }

    /// Fetches `url` into a new page after the current one (dropping any forward history).
    pub fn browse_to(&mut self, url: String) -> Vec<Command> {
        let index = self
            .browser
            .get_or_insert_with(Browser::default)
            .push(url.clone(), PageContent::Loading);
        self.browsing = true;
        self.fetch(url, Target::Page(index))
    }

    /// Sends a GET for the browser with the environment's token.
    pub fn fetch(&mut self, url: String, target: Target) -> Vec<Command> {
        let id = RequestId(self.next_request_id);
        self.next_request_id += 1;
        let timeout = Duration::from_secs(
            self.active_environment()
                .map(|e| e.timeout_secs)
                .unwrap_or(30),
        );
        let request = HttpRequest {
            method: "GET".into(),
            url: url.clone(),
            headers: vec![("Accept".into(), "application/fhir+json".into())],
            body: None,
            timeout,
            insecure: self.active_environment().is_some_and(|e| e.insecure),
        };
        let spec = RequestSpec::new("browse", "GET", &url);
        let auth = match self.active_environment() {
            Some(env) => crate::worker::auth::plan_for(env, &self.session_vars, &spec, &url)
                .unwrap_or_else(|e| {
                    self.status = Some(super::state::Status {
                        text: format!("{e}; browsing without sign-in."),
                        kind: super::state::StatusKind::Error,
                    });
                    None
                }),
            None => None,
        };
        let mut cmds = Vec::new();
        if let Some(b) = self.browser.as_mut() {
            // A newer search replaces the one still running.
            let old: Vec<RequestId> = b
                .requests
                .iter()
                .filter(|(_, t)| **t == target)
                .map(|(id, _)| *id)
                .collect();
            for o in old {
                b.requests.remove(&o);
                cmds.push(Command::Worker(WorkerCommand::Cancel { id: o }));
            }
            b.requests.insert(id, target);
            match target {
                Target::Page(i) => {
                    if let Some(p) = b.pages.get_mut(i) {
                        p.pending = Some(id);
                    }
                }
                Target::Lookup => {
                    if let Some(l) = b.lookup.as_mut() {
                        l.pending = Some(id);
                    }
                }
            }
        }
        let meta = self.record_meta(
            crate::history::Source::Browser,
            self.active_environment(),
            Vec::new(),
        );
        cmds.push(Command::Worker(WorkerCommand::Send {
            id,
            request,
            auth,
            record: self.history_enabled.then(|| Box::new(meta)),
        }));
        cmds
    }

    /// A worker answer for the browser; false when `id` is not the browser's.
    pub fn on_browse_response(
        &mut self,
        id: RequestId,
        result: Result<Box<Received>, crate::worker::HttpError>,
    ) -> bool {
        let Some(browser) = self.browser.as_mut() else {
            return false;
        };
        let Some(target) = browser.requests.remove(&id) else {
            return false;
        };
        let loaded = result
            .map(|r| Box::new(understand(&r)))
            .map_err(|e| e.to_string());
        match target {
            Target::Page(i) => {
                if let Some(p) = browser.pages.get_mut(i) {
                    p.pending = None;
                    p.content = match loaded {
                        Ok(l) => PageContent::Loaded(l),
                        Err(e) => PageContent::Failed(e),
                    };
                }
            }
            Target::Lookup => {
                if let Some(l) = browser.lookup.as_mut() {
                    l.pending = None;
                    l.selected = 0;
                    l.results = Some(loaded);
                }
            }
        }
        true
    }

    /// Runs the debounced lookup when typing has paused.
    pub fn lookup_tick(&mut self) -> Vec<Command> {
        let base = self.fhir_base();
        let Some(l) = self.browser.as_mut().and_then(|b| b.lookup.as_mut()) else {
            return Vec::new();
        };
        let text = l.input.lines().join("");
        let due = l.typed_at.is_some_and(|t| t.elapsed() >= LOOKUP_DEBOUNCE) && text != l.searched;
        if !due {
            return Vec::new();
        }
        l.typed_at = None;
        l.searched = text.clone();
        let q = interpret(&text, chrono::Local::now().date_naive());
        l.explanation = q.explanation.clone();
        if q.is_empty() {
            l.results = None;
            return Vec::new();
        }
        let url = format!("{base}/Patient?{}&_count=20", q.to_query_string());
        self.fetch(url, Target::Lookup)
    }

    /// Whether the browser needs the clock (debounce, loading spinners).
    pub fn browser_busy(&self) -> bool {
        self.browsing
            && self.browser.as_ref().is_some_and(|b| {
                !b.requests.is_empty() || b.lookup.as_ref().is_some_and(|l| l.typed_at.is_some())
            })
    }

    /// The address of an entry or reference to open from the current page.
    fn selected_target(&self) -> Option<String> {
        let b = self.browser.as_ref()?;
        let page = b.current()?;
        let PageContent::Loaded(l) = &page.content else {
            return None;
        };
        let base = self.fhir_base();
        if page.json_view || l.bundle.is_none() {
            let line = l.text.line(page.selected);
            let (_, reference) = crate::fhir::references_in_line(line).into_iter().next()?;
            return resolve_reference(&reference, &base, Some(&page.url));
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

    /// Keys while the browser is open. Returns None when the key is not the browser's.
    pub fn on_browser_key(
        &mut self,
        name: &str,
        key: crossterm::event::KeyEvent,
    ) -> Option<Vec<Command>> {
        // The lookup bar first.
        let base = self.fhir_base();
        let caps = self.active_capabilities().cloned();
        if let Some(l) = self.browser.as_mut().and_then(|b| b.lookup.as_mut()) {
            let count = match &l.results {
                Some(Ok(r)) => r.bundle.as_ref().map(|b| b.matches().count()).unwrap_or(0),
                _ => 0,
            };
            match name {
                "esc" => {
                    if let Some(b) = self.browser.as_mut() {
                        b.lookup = None;
                        if b.pages.is_empty() {
                            self.browsing = false;
                        }
                    }
                }
                // Tab completes a `field:` from the server's Patient search parameters when the
                // word being typed is the start of one; otherwise it moves down the results.
                "tab" if lookup_field_completion(&l.input, caps.as_ref()).is_some() => {
                    if let Some(done) = lookup_field_completion(&l.input, caps.as_ref()) {
                        l.input = line_area(&done);
                    }
                }
                "down" | "ctrl-n" | "tab" => {
                    l.selected = (l.selected + 1).min(count.saturating_sub(1))
                }
                "up" | "ctrl-p" | "backtab" => l.selected = l.selected.saturating_sub(1),
                "enter" => {
                    let target = match &l.results {
                        Some(Ok(r)) => r.bundle.as_ref().and_then(|b| {
                            let e = b.matches().nth(l.selected)?;
                            e.id.as_ref().map(|id| format!("{base}/Patient/{id}"))
                        }),
                        _ => None,
                    };
                    if let Some(url) = target {
                        if let Some(b) = self.browser.as_mut() {
                            b.lookup = None;
                        }
                        return Some(self.browse_to(url));
                    }
                }
                _ => {
                    l.input.input(key);
                    l.typed_at = Some(Instant::now());
                }
            }
            return Some(Vec::new());
        }
        let b = self.browser.as_mut()?;
        let pos = b.pos;
        let page = b.pages.get_mut(pos)?;
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
        match name {
            "esc" | "q" => self.browsing = false,
            "j" | "down" => page.selected = (page.selected + 1).min(rows.saturating_sub(1)),
            "k" | "up" => page.selected = page.selected.saturating_sub(1),
            "pagedown" | "ctrl-d" => page.selected = (page.selected + 20).min(rows.saturating_sub(1)),
            "pageup" | "ctrl-u" => page.selected = page.selected.saturating_sub(20),
            "g" | "home" => page.selected = 0,
            "G" | "end" => page.selected = rows.saturating_sub(1),
            "v" => {
                page.json_view = !page.json_view;
                page.selected = 0;
            }
            "tab" | "backtab" => {
                // Jump to the next (previous) line holding a reference, in the JSON view.
                if let PageContent::Loaded(l) = &page.content
                    && (page.json_view || l.bundle.is_none())
                {
                    let n = l.text.line_count();
                    let has_ref = |i: usize| !crate::fhir::references_in_line(l.text.line(i)).is_empty();
                    let found = if name == "tab" {
                        (page.selected + 1..n).find(|i| has_ref(*i))
                    } else {
                        (0..page.selected).rev().find(|i| has_ref(*i))
                    };
                    match found {
                        Some(i) => page.selected = i,
                        None => self.info("No more references on this page."),
                    }
                }
            }
            "backspace" | "<" | "alt-left" => {
                b.pos = b.pos.saturating_sub(1);
            }
            ">" | "alt-right" => {
                if b.pos + 1 < b.pages.len() {
                    b.pos += 1;
                }
            }
            "r" => {
                let url = page.url.clone();
                page.content = PageContent::Loading;
                return Some(self.fetch(url, Target::Page(pos)));
            }
            "f" | "/" => self.open_lookup(),
            "n" | "p" | "0" | "$" => {
                let link = links.and_then(|l| match name {
                    "n" => l.next,
                    "p" => l.previous,
                    "0" => l.first,
                    _ => l.last,
                });
                match link {
                    Some(url) => return Some(self.browse_to(url)),
                    None => self.info("The server gave no such paging link."),
                }
            }
            "+" | "-" => {
                let url = adjust_count(&page.url, name == "+");
                return Some(self.browse_to(url));
            }
            "o" | "e" | "c" | "E" => match patient_id {
                Some(id) => {
                    let url = match name {
                        "o" => format!("{base}/Observation?patient={id}&_sort=-date&_count=50"),
                        "e" => format!("{base}/Encounter?patient={id}&_count=50"),
                        "c" => format!("{base}/Condition?patient={id}&_count=50"),
                        _ => format!("{base}/Patient/{id}/$everything"),
                    };
                    return Some(self.browse_to(url));
                }
                None => return None,
            },
            "enter" => match self.selected_target() {
                Some(url) => return Some(self.browse_to(url)),
                None => self.info("Nothing to open here: select a row, or a line with a \"reference\" in the JSON view (v)."),
            },
            _ => return None,
        }
        Some(Vec::new())
    }
}

/// The lookup text with its last word completed to a Patient search parameter (`fam` →
/// `family:`), from the server's CapabilityStatement; `None` when nothing completes.
pub fn lookup_field_completion(
    input: &TextArea,
    caps: Option<&crate::fhir::Capabilities>,
) -> Option<String> {
    let caps = caps?;
    let text = input.lines().join("");
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

/// Doubles or halves `_count` in a search URL (default 10 when absent).
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
        .unwrap_or(10);
    let next = if up {
        (current * 2).min(1000)
    } else {
        (current / 2).max(1)
    };
    parts.retain(|p| !p.starts_with("_count="));
    parts.retain(|p| !p.starts_with("ct=")); // a continuation token belongs to the old page size
    parts.push(format!("_count={next}"));
    format!("{head}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_adjusts_and_drops_continuation() {
        assert_eq!(
            adjust_count("http://x/Patient?name=a", true),
            "http://x/Patient?name=a&_count=20"
        );
        assert_eq!(
            adjust_count("http://x/Patient?_count=50&ct=abc", false),
            "http://x/Patient?_count=25"
        );
        assert_eq!(
            adjust_count("http://x/Patient?_count=800", true),
            "http://x/Patient?_count=1000"
        );
    }
}
