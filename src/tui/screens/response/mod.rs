//! The Response pane: the last answer of each saved request (status, Body / Headers / Raw tabs
//! with a cursor, folds, search, jq filters and NDJSON records), kept within memory bounds.
//! It takes the worker's answers for saved requests, applies their capture rules, and turns an
//! accepted `$export` into a job.

pub mod body_pane;
mod draw;
mod keys;
pub mod spool_pane;
#[cfg(test)]
mod tests;
pub mod view;
pub mod viewport;

use std::collections::HashMap;

pub use draw::draw_view;
pub use keys::ResponseKeys;
pub use view::{ON_DISK, Outcome, ResponseTab, ResponseView};

use super::dialogs::prompt::Prompt;
use super::{Cx, Intent};
use crate::tui::keys::Action;
use crate::tui::model::InFlight;
use crate::view_body::BodyKind;
use crate::worker::body::{FilterJob, PreparedBody};
use crate::worker::capture::{self, CaptureOutcome};
use crate::worker::{HttpError, Received, RequestId, WorkerCommand};
use crate::workspace::template::redact;
use crate::workspace::{Capture, NodePath};

/// Responses kept across all requests (one per request at most).
pub const MAX_KEPT_RESPONSES: usize = 24;

/// Body bytes kept across all responses (one body alone may be larger; it is then the only one
/// kept besides the open request's).
pub const MAX_KEPT_BODY_BYTES: usize = 768 * 1024 * 1024;

/// Bodies up to this size are searched as the search prompt is typed in.
const INCREMENTAL_BYTES: usize = 8 * 1024 * 1024;

pub enum Msg {
    Search(String),
    /// The search prompt's text changed.
    SearchTyped(String),
    Goto(String),
    Filter(String),
}

#[derive(Default)]
pub struct Response {
    pub responses: HashMap<NodePath, ResponseView>,
    /// Filters and searches typed this session, oldest first, for Up/Down in their prompts.
    filters: Vec<String>,
    searches: Vec<String>,
}

fn body_bytes(view: &ResponseView) -> usize {
    match &view.outcome {
        Outcome::Received { response, .. } => response.body.len(),
        Outcome::Failed(_) => 0,
    }
}

fn remember(list: &mut Vec<String>, text: &str) {
    list.retain(|t| t != text);
    list.push(text.to_string());
    if list.len() > 50 {
        list.remove(0);
    }
}

impl Response {
    pub fn view(&self, open: Option<&NodePath>) -> Option<&ResponseView> {
        open.and_then(|p| self.responses.get(p))
    }

    fn open_mut(&mut self, cx: &Cx) -> Option<&mut ResponseView> {
        let path = cx.model.open.as_ref()?;
        self.responses.get_mut(path)
    }

    fn by_id(&mut self, id: RequestId) -> Option<&mut ResponseView> {
        self.responses
            .values_mut()
            .find(|v| v.request_id == Some(id))
    }

    /// Whether anything here animates (a body being prepared, a filter running).
    pub fn busy(&self) -> bool {
        self.responses
            .values()
            .any(|v| v.preparing().is_some() || v.filtering.is_some())
    }

    /// Keeps `view` as `path`'s response (replacing its previous one) and drops the oldest
    /// others while over the limits; the open request's is never dropped.
    pub fn keep(&mut self, path: NodePath, view: ResponseView, open: Option<&NodePath>) {
        self.responses.insert(path.clone(), view);
        self.trim(&path, open, MAX_KEPT_RESPONSES, MAX_KEPT_BODY_BYTES);
    }

    fn trim(
        &mut self,
        newest: &NodePath,
        open: Option<&NodePath>,
        max_count: usize,
        max_bytes: usize,
    ) {
        loop {
            let count = self.responses.len();
            let bytes: usize = self.responses.values().map(body_bytes).sum();
            if count <= max_count && bytes <= max_bytes {
                break;
            }
            let oldest = self
                .responses
                .iter()
                .filter(|(p, _)| *p != newest && Some(*p) != open)
                .min_by_key(|(_, v)| v.received_at)
                .map(|(p, _)| p.clone());
            match oldest {
                Some(p) => {
                    self.responses.remove(&p);
                }
                None => break,
            }
        }
    }

    /// A saved request's answer: its view, its captures, a job when it accepted an export.
    pub fn on_answer(
        &mut self,
        path: NodePath,
        flight: InFlight,
        id: RequestId,
        result: Result<Box<Received>, HttpError>,
        rules: &[Capture],
        cx: &mut Cx,
    ) {
        let request_line = format!("{} {}", flight.method, flight.url);
        let view = match result {
            Ok(received) => {
                let received = *received;
                let captured = capture::apply(rules, &received.response);
                let url = received.response.final_url.clone();
                let job = super::jobs::watch_accepted(cx, &url, &received.response);
                apply_captures(&captured, cx);
                if let Some(note) = &received.auth_note {
                    cx.error(note.clone());
                }
                if let Some(note) = crate::worker::http::retry_after_note(&received.response) {
                    cx.error(note);
                }
                let strict = cx.model.active_environment().is_some_and(|e| e.strict);
                let notes = received.search.lines(strict);
                let mut view = ResponseView::new(
                    request_line,
                    Outcome::Received {
                        response: Box::new(received.response),
                        body: Box::new(received.body),
                    },
                    captured,
                );
                view.search_note = (!notes.is_empty())
                    .then(|| crate::text::sanitize::for_line(&notes.join(" · ")).into_owned());
                view.auth_note = received.auth_note;
                view.request_id = Some(id);
                view.job = job;
                view
            }
            Err(HttpError::Cancelled) => return,
            Err(HttpError::SignInFailed(reason)) => {
                let reason = redact(&reason, &flight.secrets);
                if let Some(env) = cx.model.active_env.clone() {
                    cx.open(crate::tui::screens::dialogs::confirm::Confirm::new(
                        format!(
                            "Signing in to '{env}' failed, so the request was not sent: {reason} Send it without a token? (y: send; later requests of '{env}' this session too, when signing in fails)"
                        ),
                        crate::tui::screens::Intent::Request(
                            crate::tui::screens::request::Msg::AllowUnsigned(env),
                        ),
                    ));
                }
                let text = format!("Not sent, because signing in failed: {reason}");
                cx.error(text.clone());
                ResponseView::new(request_line, Outcome::Failed(text), Vec::new())
            }
            Err(e) => {
                let text = redact(&e.to_string(), &flight.secrets);
                cx.error(text.clone());
                ResponseView::new(request_line, Outcome::Failed(text), Vec::new())
            }
        };
        let open = cx.model.open.clone();
        self.keep(path, view, open.as_ref());
    }

    /// The whole body of a response shown so far as a preview.
    pub fn on_body_ready(&mut self, id: RequestId, body: PreparedBody) {
        if let Some(view) = self.by_id(id) {
            view.body_ready(body);
        }
    }

    pub fn on_filtered(
        &mut self,
        id: RequestId,
        generation: u64,
        result: Result<Box<crate::view_body::filter::FilterOutput>, String>,
        cx: &mut Cx,
    ) {
        let failed = result.is_err();
        let keys = ResponseKeys::for_response(&cx.model.keymap);
        let Some(msg) = self
            .by_id(id)
            .and_then(|v| v.filter_done(generation, result, &keys))
        else {
            return;
        };
        if failed {
            cx.error(msg);
        } else {
            cx.info(msg);
        }
    }

    /// The key after `Z`; true if it was taken.
    pub fn depth_key(&mut self, key: &str, cx: &mut Cx) -> bool {
        let keys = ResponseKeys::for_response(&cx.model.keymap);
        let Some(view) = self.open_mut(cx).filter(|v| v.awaiting_depth) else {
            return false;
        };
        let msg = view.fold_depth_key(key, &keys);
        if !msg.is_empty() {
            cx.info(msg);
        }
        true
    }

    /// Esc: back from a filter or a record to the whole body. True if it did something.
    pub fn back(&mut self, cx: &mut Cx) -> bool {
        let done = self.open_mut(cx).is_some_and(|v| v.back());
        if done {
            cx.model.status = None;
        }
        done
    }

    /// A key's action while the pane has the focus.
    pub fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        let keys = ResponseKeys::for_response(&cx.model.keymap);
        let filters = self.filters.clone();
        let searches = self.searches.clone();
        let Some(view) = self.open_mut(cx) else {
            return false;
        };
        match action {
            Action::Search | Action::Filter if view.spool_active() => cx.error(ON_DISK),
            Action::Search => {
                let current = view
                    .pane()
                    .and_then(|p| p.search.as_ref())
                    .map(|s| s.needle.clone())
                    .unwrap_or_default();
                cx.open(
                    Prompt::new("Search the body", &current, |t| {
                        Some(Intent::Response(Msg::Search(t.to_string())))
                    })
                    .on_change(|t| Some(Intent::Response(Msg::SearchTyped(t.to_string()))))
                    .with_history(searches),
                );
            }
            Action::GotoLine => cx.open(Prompt::new("Go to line", "", |t| {
                Some(Intent::Response(Msg::Goto(t.to_string())))
            })),
            Action::Filter => cx.open(
                Prompt::new(
                    "Filter with jq, or FHIRPath after fp: (jq shortcuts: resources, ids, types, issues)",
                    "",
                    |t| Some(Intent::Response(Msg::Filter(t.to_string()))),
                )
                .with_history(filters),
            ),
            Action::NextTab | Action::PrevTab => {
                let i = ResponseTab::ALL
                    .iter()
                    .position(|t| *t == view.tab)
                    .unwrap_or(0);
                let n = ResponseTab::ALL.len();
                view.tab = ResponseTab::ALL[if action == Action::NextTab {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                }];
            }
            Action::CopyRequestId => match view.request_id_header() {
                Some(rid) => {
                    cx.command(crate::tui::msg::Command::Copy(rid.clone()));
                    cx.info(format!("Request id {rid} copied (OSC 52)."));
                }
                None => cx.info("The server sent no request id (x-request-id) with this answer."),
            },
            _ => match view.act(action, &keys) {
                Some(Ok(msg)) if !msg.is_empty() => cx.info(msg),
                Some(Err(e)) => cx.error(e),
                Some(Ok(_)) => {}
                None if !matches!(
                    action,
                    Action::Down
                        | Action::Up
                        | Action::PageDown
                        | Action::PageUp
                        | Action::Top
                        | Action::Bottom
                        | Action::Left
                        | Action::Right
                        | Action::ToggleWrap
                        | Action::ToggleFold
                        | Action::Activate
                        | Action::NextRecord
                        | Action::PrevRecord
                        | Action::FoldDepth
                        | Action::SearchNext
                        | Action::SearchPrev
                ) =>
                {
                    return false;
                }
                None => {}
            },
        }
        true
    }

    pub fn update(&mut self, msg: Msg, cx: &mut Cx) {
        match msg {
            Msg::SearchTyped(text) => {
                let Some(pane) = self.open_mut(cx).and_then(|v| v.pane_mut()) else {
                    return;
                };
                if text.is_empty() || pane.text.len() > INCREMENTAL_BYTES {
                    return;
                }
                let status = pane.search_for(&text);
                cx.info(status);
            }
            Msg::Search(text) => {
                remember(&mut self.searches, &text);
                match self.open_mut(cx).and_then(|v| v.pane_mut()) {
                    Some(pane) => {
                        let status = pane.search_for(&text);
                        cx.info(status);
                    }
                    None => cx.error("This tab has no body to search."),
                }
            }
            Msg::Goto(text) => match text.trim().parse::<usize>() {
                Ok(n) if n > 0 => {
                    if let Some(v) = self.open_mut(cx) {
                        v.goto_line(n - 1);
                    }
                }
                _ => cx.error(format!("'{text}' is not a line number.")),
            },
            Msg::Filter(expr) => {
                remember(&mut self.filters, &expr);
                self.start_filter(&expr, cx);
            }
        }
    }

    /// Starts a jq filter over the open response's body, off the UI thread.
    fn start_filter(&mut self, expr: &str, cx: &mut Cx) {
        let Some(view) = self.open_mut(cx) else {
            return;
        };
        let (Some(id), Outcome::Received { response, body }) = (view.request_id, &view.outcome)
        else {
            cx.error("There is no body to filter.");
            return;
        };
        if body.spooled.is_some() {
            cx.error(ON_DISK);
            return;
        }
        if body.kind == BodyKind::Binary {
            cx.error("This body is binary; a jq filter needs JSON.");
            return;
        }
        let input = response.body.clone();
        let ndjson = body.kind == BodyKind::NdJson;
        let Some((generation, cancel)) = view.begin_filter(expr) else {
            return;
        };
        let back = cx
            .model
            .keymap
            .say(crate::tui::keys::Ctx::Response, Action::Cancel);
        cx.info(format!("Filtering with '{expr}'… ({back} stops)"));
        cx.worker(WorkerCommand::Filter(Box::new(FilterJob {
            id,
            generation,
            input,
            ndjson,
            expr: expr.to_string(),
            cancel,
        })));
    }

    /// The open answer's `ETag`, for `If-Match`.
    pub fn etag(&self, open: Option<&NodePath>) -> Option<String> {
        match &self.view(open)?.outcome {
            Outcome::Received { response, .. } => response.header("etag").map(str::to_string),
            Outcome::Failed(_) => None,
        }
    }

    /// After a rename or move, responses follow their request.
    pub fn rekey(&mut self, from: &NodePath, to: &NodePath) {
        let moved: Vec<NodePath> = self
            .responses
            .keys()
            .filter(|p| super::collections::rekeyed(p, from, to).is_some())
            .cloned()
            .collect();
        for p in moved {
            if let (Some(r), Some(np)) = (
                self.responses.remove(&p),
                super::collections::rekeyed(&p, from, to),
            ) {
                self.responses.insert(np, r);
            }
        }
    }

    pub fn forget(&mut self, path: &NodePath) {
        self.responses.retain(|p, _| !p.0.starts_with(&path.0));
    }

    /// The status of the last answer of `path`, for the tree.
    pub fn status_of(&self, path: &NodePath) -> Option<u16> {
        match &self.responses.get(path)?.outcome {
            Outcome::Received { response, .. } => Some(response.status),
            Outcome::Failed(_) => None,
        }
    }
}

/// Values captured by a request's rules, kept for the session.
fn apply_captures(outcomes: &[CaptureOutcome], cx: &mut Cx) {
    let mut set = Vec::new();
    for o in outcomes {
        if let CaptureOutcome::Set { variable, value } = o {
            cx.model.set_session_var(variable, value.clone());
            set.push(variable.clone());
        }
    }
    if !set.is_empty() {
        cx.info(format!("Captured {} for this session.", set.join(", ")));
    }
}

#[cfg(test)]
mod kept_tests {
    use super::*;
    use crate::worker::body;

    fn view(bytes: usize) -> ResponseView {
        let response = crate::worker::HttpResponse {
            status: 200,
            reason: "OK".into(),
            version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), "text/plain".into())],
            body: vec![b'x'; bytes].into(),
            spool: None,
            elapsed: std::time::Duration::from_millis(1),
            final_url: "http://x".into(),
        };
        let prepared = body::prepare(&response);
        ResponseView::new(
            "GET http://x".into(),
            Outcome::Received {
                response: Box::new(response),
                body: Box::new(prepared),
            },
            Vec::new(),
        )
    }

    fn p(i: usize) -> NodePath {
        NodePath(vec!["C".into(), format!("r{i}")])
    }

    #[test]
    fn at_most_so_many_responses_are_kept_and_the_oldest_go_first() {
        let mut r = Response::default();
        let open = p(0);
        for i in 0..MAX_KEPT_RESPONSES * 3 {
            r.keep(p(i), view(10), Some(&open));
            // The same request again replaces its own response.
            r.keep(p(i), view(10), Some(&open));
        }
        assert_eq!(r.responses.len(), MAX_KEPT_RESPONSES);
        assert!(r.responses.contains_key(&p(0)), "the open request's stays");
        let last = MAX_KEPT_RESPONSES * 3 - 1;
        assert!(r.responses.contains_key(&p(last)));
        assert!(!r.responses.contains_key(&p(1)), "the oldest went");
    }

    #[test]
    fn body_bytes_are_bounded_too() {
        let mut r = Response::default();
        // The same rule as the real limit, on a small scale.
        let limit = 3000;
        for i in 0..4 {
            r.responses.insert(p(i), view(limit / 3 + 1));
            r.trim(&p(i), None, MAX_KEPT_RESPONSES, limit);
        }
        let kept: usize = r.responses.values().map(body_bytes).sum();
        assert!(kept <= limit, "{kept}");
        assert_eq!(r.responses.len(), 2);
        assert!(r.responses.contains_key(&p(3)), "the newest stays");
    }
}
