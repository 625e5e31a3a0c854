//! A received response as the Response pane shows it: status, headers, and the body prepared
//! once (pretty-printed, line-indexed) for fast drawing. Each tab's text is a [`BodyPane`];
//! a jq filter's result or one NDJSON record opens as a sub-view over the Body tab.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::body_pane::{BodyPane, group_digits};
use super::keys::ResponseKeys;
use super::spool_pane::{RECORD_BYTES, SpoolPane};
use crate::tui::keys::Action;
use crate::view_body::{BodyKind, BodyText, pretty_json_body};
use crate::worker::HttpResponse;
use crate::worker::RequestId;
use crate::worker::body::{Pending, PreparedBody};
use crate::worker::capture::CaptureOutcome;

pub use super::body_pane::{BodySearch, MAX_MATCHES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseTab {
    Body,
    Headers,
    Raw,
}

impl ResponseTab {
    pub const ALL: [ResponseTab; 3] = [ResponseTab::Body, ResponseTab::Headers, ResponseTab::Raw];
}

pub enum Outcome {
    Received {
        response: Box<HttpResponse>,
        body: Box<PreparedBody>,
    },
    Failed(String),
}

/// What a sub-view over the Body tab shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubKind {
    /// The output of a jq filter (the expression as typed).
    Filter(String),
    /// One NDJSON record (0-based line of the body), pretty-printed.
    Record(usize),
}

pub struct SubView {
    pub kind: SubKind,
    /// `filter: .entry[].resource.id · 20,000 results`, `record 12 of 3,400`.
    pub label: String,
    pub pane: BodyPane,
}

/// A filter running in the background for this view.
pub struct RunningFilter {
    pub expr: String,
    pub generation: u64,
    pub started: Instant,
    pub cancel: Arc<AtomicBool>,
}

impl Drop for RunningFilter {
    fn drop(&mut self) {
        self.cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

pub struct ResponseView {
    /// `GET https://…` with secrets redacted.
    pub request_line: String,
    pub outcome: Outcome,
    pub captures: Vec<CaptureOutcome>,
    pub tab: ResponseTab,
    /// The Body tab: pretty JSON, or the text as it came.
    pub pretty: BodyPane,
    /// The Raw tab.
    pub raw: BodyPane,
    pub headers_scroll: usize,
    pub wrap: bool,
    /// `u`: strings drawn with their `\uXXXX` escapes, as the server sent them.
    pub as_received: bool,
    /// A filter result or an NDJSON record shown instead of the Body tab's text (Esc closes).
    pub sub: Option<SubView>,
    pub filtering: Option<RunningFilter>,
    /// Why the last filter gave nothing, shown above the body.
    pub filter_error: Option<String>,
    /// The last filter expression typed, offered again.
    pub last_filter: String,
    pub received_at: chrono::DateTime<chrono::Local>,
    /// What sign-in did for this exchange (sent without a token, retried after a 401).
    pub auth_note: Option<String>,
    /// Put back from history at start (an earlier session's answer, not sent now).
    pub restored: bool,
    /// The request this answers, so a later whole body or filter result finds its view.
    pub request_id: Option<RequestId>,
    /// `Z` was pressed: the next digit folds at that depth.
    pub awaiting_depth: bool,
    /// A body kept in a temporary file, shown from there (Body and Raw tabs).
    pub spool: Option<SpoolPane>,
    /// The status URL of the export job this answer (a `202` with `Content-Location`) started.
    pub job: Option<String>,
    /// An OperationOutcome answer in one line: severity, code, diagnostics.
    pub outcome_summary: Option<String>,
    /// What a searchset says of its search: server notes (a clamped `_count`) and, from a
    /// lenient environment, the parameters the server dropped (`fhir::handling`).
    pub search_note: Option<String>,
    next_generation: u64,
}

/// An OperationOutcome body (a small one) as one line: "error · not-found · diagnostics".
fn outcome_line(response: &HttpResponse) -> Option<String> {
    if response.body.len() > 1024 * 1024
        || !response.body.windows(16).any(|w| w == b"OperationOutcome")
    {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    if json.get("resourceType").and_then(|t| t.as_str()) != Some("OperationOutcome") {
        return None;
    }
    let issues = crate::fhir::parse_outcome(&json)?;
    let first = issues.first()?;
    let mut parts = vec![first.severity.clone(), first.code.clone()];
    if let Some(d) = first.diagnostics.as_ref().or(first.details_text.as_ref()) {
        parts.push(d.clone());
    }
    let more = if issues.len() > 1 {
        format!(
            " (+{} more issue{})",
            issues.len() - 1,
            if issues.len() == 2 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    Some(format!(
        "{}{more}",
        parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    ))
}

/// Why a body on disk cannot be searched, folded or filtered.
pub const ON_DISK: &str = "This body is kept on disk (too large for memory): search, folds and filters need it in memory.";

impl ResponseView {
    pub fn new(request_line: String, outcome: Outcome, captures: Vec<CaptureOutcome>) -> Self {
        let outcome_summary = match &outcome {
            Outcome::Received { response, .. } => outcome_line(response),
            Outcome::Failed(_) => None,
        };
        let spool = match &outcome {
            Outcome::Received { body, .. } => {
                body.spooled.clone().map(|t| SpoolPane::new(t, body.kind))
            }
            Outcome::Failed(_) => None,
        };
        let (pretty, raw) = match &outcome {
            Outcome::Received { body, .. } => {
                let raw_kind = if body.kind == BodyKind::Json {
                    BodyKind::Text
                } else {
                    body.kind
                };
                (
                    BodyPane::new(body.pretty.clone(), body.kind),
                    BodyPane::new(body.raw.clone(), raw_kind),
                )
            }
            Outcome::Failed(_) => (
                BodyPane::new(BodyText::default(), BodyKind::Text),
                BodyPane::new(BodyText::default(), BodyKind::Text),
            ),
        };
        Self {
            request_line,
            outcome,
            captures,
            tab: ResponseTab::Body,
            pretty,
            raw,
            headers_scroll: 0,
            wrap: false,
            as_received: false,
            sub: None,
            filtering: None,
            filter_error: None,
            last_filter: String::new(),
            received_at: chrono::Local::now(),
            auth_note: None,
            restored: false,
            request_id: None,
            awaiting_depth: false,
            outcome_summary,
            search_note: None,
            spool,
            job: None,
            next_generation: 1,
        }
    }

    /// The server's request id (`x-request-id`, Azure's `x-ms-request-id`), for support tickets.
    pub fn request_id_header(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Received { response, .. } => ["x-request-id", "x-ms-request-id", "request-id"]
                .iter()
                .find_map(|h| response.header(h))
                .map(str::to_string),
            Outcome::Failed(_) => None,
        }
    }

    pub fn kind(&self) -> BodyKind {
        match &self.outcome {
            Outcome::Received { body, .. } => body.kind,
            Outcome::Failed(_) => BodyKind::Text,
        }
    }

    /// True when the current tab shows the body from its temporary file.
    pub fn spool_active(&self) -> bool {
        self.spool.is_some()
            && match self.tab {
                ResponseTab::Body => self.sub.is_none(),
                ResponseTab::Raw => true,
                ResponseTab::Headers => false,
            }
    }

    /// Puts the cursor on body line `line` (0-based) of the current tab.
    pub fn goto_line(&mut self, line: usize) {
        if self.spool_active() {
            if let Some(sp) = self.spool.as_mut() {
                sp.goto_line(line);
            }
        } else if let Some(pane) = self.pane_mut() {
            pane.goto_line(line);
        }
    }

    /// The pane of the current tab (the sub-view on the Body tab when one is open); `None`
    /// on the Headers tab and for a body read from disk.
    pub fn pane(&self) -> Option<&BodyPane> {
        if self.spool_active() {
            return None;
        }
        match self.tab {
            ResponseTab::Body => Some(self.sub.as_ref().map_or(&self.pretty, |s| &s.pane)),
            ResponseTab::Raw => Some(&self.raw),
            ResponseTab::Headers => None,
        }
    }

    pub fn pane_mut(&mut self) -> Option<&mut BodyPane> {
        if self.spool_active() {
            return None;
        }
        match self.tab {
            ResponseTab::Body => Some(match &mut self.sub {
                Some(s) => &mut s.pane,
                None => &mut self.pretty,
            }),
            ResponseTab::Raw => Some(&mut self.raw),
            ResponseTab::Headers => None,
        }
    }

    /// The body's background pretty-print, while it runs.
    pub fn preparing(&self) -> Option<&Pending> {
        match &self.outcome {
            Outcome::Received { body, .. } => body.pending.as_ref(),
            Outcome::Failed(_) => None,
        }
    }

    /// The whole body after its preview: the Body tab switches to it in place.
    pub fn body_ready(&mut self, ready: PreparedBody) {
        let Outcome::Received { body, .. } = &mut self.outcome else {
            return;
        };
        let needle = self.pretty.search.as_ref().map(|s| s.needle.clone());
        self.pretty.replace_text(ready.pretty.clone());
        if let Some(n) = needle {
            self.pretty.search_for(&n);
        }
        **body = ready;
    }

    /// Rows in the current tab, for scrolling bounds.
    pub fn line_count(&self) -> usize {
        match (&self.outcome, self.tab) {
            (Outcome::Failed(_), _) => 1,
            (Outcome::Received { response, .. }, ResponseTab::Headers) => {
                response.headers.len() + 1
            }
            _ if self.spool_active() => self.spool.as_ref().map_or(0, |s| s.line_count()),
            _ => self.pane().map_or(0, |p| p.row_count()),
        }
    }

    pub fn elapsed(&self) -> Option<Duration> {
        match &self.outcome {
            Outcome::Received { response, .. } => Some(response.elapsed),
            Outcome::Failed(_) => None,
        }
    }

    /// `record 12 of 3,400` for an NDJSON body (the Body tab's list or a record sub-view).
    pub fn record_position(&self) -> Option<String> {
        if self.kind() != BodyKind::NdJson || self.tab != ResponseTab::Body {
            return None;
        }
        let total = self.record_count();
        let index = match &self.sub {
            Some(SubView {
                kind: SubKind::Record(i),
                ..
            }) => *i,
            Some(_) => return None,
            None => match &self.spool {
                Some(sp) => sp.view.cursor,
                None => self.pretty.cursor_line(),
            },
        };
        Some(format!(
            "record {} of {}",
            group_digits(index + 1),
            group_digits(total)
        ))
    }

    fn record_count(&self) -> usize {
        match &self.spool {
            Some(sp) => sp.line_count(),
            None => self.pretty.text.line_count(),
        }
    }

    /// The list's cursor (a body line) on the Body tab.
    fn list_cursor(&self) -> usize {
        match &self.spool {
            Some(sp) => sp.view.cursor,
            None => self.pretty.cursor_line(),
        }
    }

    /// Keys on a body read from disk: moving and records only.
    fn act_on_spool(&mut self, action: Action) -> Option<Result<String, String>> {
        let sp = self.spool.as_mut()?;
        match action {
            Action::Down => sp.move_cursor(1),
            Action::Up => sp.move_cursor(-1),
            Action::PageDown => sp.page(true),
            Action::PageUp => sp.page(false),
            Action::Top => sp.goto_line(0),
            Action::Bottom => sp.to_bottom(),
            Action::Right => sp.hscroll += 8,
            Action::Left => sp.hscroll = sp.hscroll.saturating_sub(8),
            Action::ToggleFold | Action::FoldDepth | Action::SearchNext | Action::SearchPrev => {
                return Some(Err(ON_DISK.into()));
            }
            _ => {}
        }
        None
    }

    /// Moving, folding and records: what needs no prompt and no worker. Returns a sentence
    /// for the status bar, if any.
    pub fn act(&mut self, action: Action, keys: &ResponseKeys) -> Option<Result<String, String>> {
        if self.tab == ResponseTab::Headers {
            let max = self.line_count().saturating_sub(1);
            let s = &mut self.headers_scroll;
            match action {
                Action::Down => *s = (*s + 1).min(max),
                Action::Up => *s = s.saturating_sub(1),
                Action::PageDown => *s = (*s + 20).min(max),
                Action::PageUp => *s = s.saturating_sub(20),
                Action::Top => *s = 0,
                Action::Bottom => *s = max,
                _ => {}
            }
            return None;
        }
        match action {
            Action::ToggleWrap => {
                self.wrap = !self.wrap;
                return None;
            }
            Action::ToggleEscapes => {
                self.as_received = !self.as_received;
                return Some(Ok(if self.as_received {
                    "Strings shown as received, with their \\u escapes.".into()
                } else {
                    "Strings decoded: \\u00fc shows as ü.".into()
                }));
            }
            Action::NextRecord | Action::PrevRecord => return self.step_record(action, keys),
            Action::Activate
                if self.kind() == BodyKind::NdJson
                    && self.sub.is_none()
                    && self.tab == ResponseTab::Body =>
            {
                return self.open_record(self.list_cursor(), keys);
            }
            _ => {}
        }
        if self.spool_active() {
            return self.act_on_spool(action);
        }
        let pane = self.pane_mut()?;
        match action {
            Action::Down => pane.move_cursor(1),
            Action::Up => pane.move_cursor(-1),
            Action::PageDown => pane.page(true),
            Action::PageUp => pane.page(false),
            Action::Top => pane.to_top(),
            Action::Bottom => pane.to_bottom(),
            Action::Right => pane.hscroll += 8,
            Action::Left => pane.hscroll = pane.hscroll.saturating_sub(8),
            Action::ToggleFold | Action::Activate => {
                return pane.toggle_fold().err().map(Err);
            }
            Action::SearchNext | Action::SearchPrev => {
                return Some(
                    pane.step_search(action == Action::SearchNext)
                        .ok_or_else(|| {
                            format!("No search yet: {} searches the body.", keys.search)
                        }),
                );
            }
            Action::FoldDepth => {
                self.awaiting_depth = true;
                return Some(Ok(
                    "Fold at which depth? 1–9 (1 = top-level members), 0 unfolds all.".into(),
                ));
            }
            _ => {}
        }
        None
    }

    /// The digit after `Z`. Returns the sentence for the status bar.
    pub fn fold_depth_key(&mut self, key: &str, keys: &ResponseKeys) -> String {
        self.awaiting_depth = false;
        let Some(d) = key.parse::<usize>().ok().filter(|d| *d <= 9) else {
            return format!(
                "Folding cancelled ({} then a digit folds at a depth).",
                keys.fold_depth
            );
        };
        let Some(pane) = self.pane_mut() else {
            return String::new();
        };
        let n = pane.fold_depth(d);
        match (d, n) {
            (0, _) => "Everything unfolded.".into(),
            (_, 0) => format!("Nothing to fold at depth {d}."),
            _ => format!("{} blocks folded at depth {d}.", group_digits(n)),
        }
    }

    /// Opens NDJSON record `index` (a body line) pretty-printed.
    fn open_record(&mut self, index: usize, keys: &ResponseKeys) -> Option<Result<String, String>> {
        let total = self.record_count();
        if index >= total {
            return None;
        }
        let line = match &self.spool {
            Some(sp) => std::borrow::Cow::Owned(sp.text.line(index, RECORD_BYTES)),
            None => self.pretty.text.line(index),
        };
        let (text, kind, note) = match pretty_json_body(line.as_bytes()) {
            Ok(t) => (t, BodyKind::Json, None),
            Err(e) => (
                BodyText::new(line.to_string()),
                BodyKind::Text,
                Some(format!(
                    "Record {} is not valid JSON (column {}: {}).",
                    index + 1,
                    e.column,
                    e.message
                )),
            ),
        };
        self.sub = Some(SubView {
            kind: SubKind::Record(index),
            label: format!(
                "record {} of {}",
                group_digits(index + 1),
                group_digits(total)
            ),
            pane: BodyPane::new(text, kind),
        });
        // The list's cursor follows, so Esc lands on this record.
        match self.spool.as_mut() {
            Some(sp) => sp.goto_line(index),
            None => self.pretty.goto_line(index),
        }
        Some(note.map_or_else(
            || {
                Ok(format!(
                    "{} and {} step through the records; {} goes back to the list.",
                    keys.next_record, keys.prev_record, keys.back
                ))
            },
            Err,
        ))
    }

    fn step_record(
        &mut self,
        action: Action,
        keys: &ResponseKeys,
    ) -> Option<Result<String, String>> {
        if self.kind() != BodyKind::NdJson || self.tab != ResponseTab::Body {
            return Some(Err(format!(
                "{} and {} step through NDJSON records; this body has none.",
                keys.next_record, keys.prev_record
            )));
        }
        let forward = action == Action::NextRecord;
        match &self.sub {
            Some(SubView {
                kind: SubKind::Record(i),
                ..
            }) => {
                let i = *i;
                let next = if forward { i + 1 } else { i.checked_sub(1)? };
                self.open_record(next, keys)
                    .map(|r| r.map(|_| String::new()))
            }
            Some(_) => None,
            None => {
                let delta = if forward { 1 } else { -1 };
                match self.spool.as_mut() {
                    Some(sp) => sp.move_cursor(delta),
                    None => self.pretty.move_cursor(delta),
                }
                None
            }
        }
    }

    /// Esc: closes the sub-view, or stops a running filter. False if there was neither.
    pub fn back(&mut self) -> bool {
        self.awaiting_depth = false;
        if self.filtering.take().is_some() {
            return true;
        }
        if self.filter_error.take().is_some() && self.sub.is_none() {
            return true;
        }
        if self.tab == ResponseTab::Body && self.sub.take().is_some() {
            return true;
        }
        false
    }

    /// Starts a filter: the generation that its result must carry, or `None` when the body
    /// is not there to filter.
    pub fn begin_filter(&mut self, expr: &str) -> Option<(u64, Arc<AtomicBool>)> {
        if !matches!(self.outcome, Outcome::Received { .. }) {
            return None;
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        self.last_filter = expr.to_string();
        self.filter_error = None;
        self.tab = ResponseTab::Body;
        self.filtering = Some(RunningFilter {
            expr: expr.to_string(),
            generation,
            started: Instant::now(),
            cancel: cancel.clone(),
        });
        Some((generation, cancel))
    }

    /// A filter's result. Stale results (a newer filter started, or Esc) are dropped.
    pub fn filter_done(
        &mut self,
        generation: u64,
        result: Result<Box<crate::view_body::filter::FilterOutput>, String>,
        keys: &ResponseKeys,
    ) -> Option<String> {
        if self.filtering.as_ref().map(|f| f.generation) != Some(generation) {
            return None;
        }
        let expr = self
            .filtering
            .take()
            .map(|f| f.expr.clone())
            .unwrap_or_default();
        match result {
            Ok(out) => {
                let label = format!(
                    "filter: {expr} · {} result{}{}",
                    group_digits(out.results),
                    if out.results == 1 { "" } else { "s" },
                    if out.capped { " (first ones)" } else { "" }
                );
                let msg = format!("{label}. {} goes back to the whole body.", keys.back);
                self.sub = Some(SubView {
                    kind: SubKind::Filter(expr),
                    label,
                    pane: BodyPane::new(out.text, BodyKind::Json),
                });
                Some(msg)
            }
            Err(e) => {
                self.filter_error = Some(e.clone());
                Some(e)
            }
        }
    }
}
