//! The history screen: every exchange kept in the workspace's history file, newest first,
//! filtered by a one-line query; an entry opens in the same body viewer as live responses, can
//! be sent again or saved as a request, and two entries' bodies can be compared.

use ratatui_textarea::TextArea;

use super::response::{Outcome, ResponseTab, ResponseView};
use super::state::{App, Confirmed, Overlay, PromptFor, line_area};
use super::update::Command;
pub use crate::history::HistoryCall;
use crate::history::diff::BodyDiff;
use crate::history::{Entry, Filter, RecordMeta, Source, Summary};
use crate::worker::history::HistoryEvent;
use crate::worker::{HttpRequest, HttpResponse, RequestId, WorkerCommand};

pub use crate::worker::history::LIST_LIMIT;

/// What the screen shows.
pub enum HistoryMode {
    List,
    /// One exchange: the request above, the response in the body viewer.
    Detail {
        id: i64,
        loaded: Option<Box<Loaded>>,
        error: Option<String>,
        /// Request lines scrolled past (the request box scrolls on its own with `J`/`K`).
        request_scroll: u16,
    },
    Diff {
        old: i64,
        new: i64,
        diff: Option<Box<BodyDiff>>,
        error: Option<String>,
        scroll: usize,
    },
}

/// An entry with its response ready for the body viewer.
pub struct Loaded {
    pub entry: Entry,
    pub view: ResponseView,
}

pub struct HistoryView {
    pub filter: TextArea<'static>,
    pub editing_filter: bool,
    pub filter_error: Option<String>,
    /// Only this saved request's answers (from the Response pane's `p`).
    pub saved: Option<String>,
    pub rows: Vec<Summary>,
    pub selected: usize,
    /// The number of the latest list query; older answers are dropped.
    pub query: u64,
    pub loading: bool,
    pub error: Option<String>,
    /// An entry picked with `m`, to compare the selected one against.
    pub mark: Option<i64>,
    pub mode: HistoryMode,
    /// A re-send in flight.
    pub resending: Option<RequestId>,
}

impl HistoryView {
    fn new(saved: Option<String>) -> Self {
        Self {
            filter: line_area(""),
            editing_filter: false,
            filter_error: None,
            saved,
            rows: Vec::new(),
            selected: 0,
            query: 0,
            loading: false,
            error: None,
            mark: None,
            mode: HistoryMode::List,
            resending: None,
        }
    }

    pub fn filter_text(&self) -> String {
        self.filter.lines().join("")
    }

    pub fn selected_row(&self) -> Option<&Summary> {
        self.rows.get(self.selected)
    }
}

impl App {
    /// `H`: the history screen (as it was left, refreshed). With `saved`, only that saved
    /// request's earlier answers.
    pub fn open_history(&mut self, saved: Option<String>) -> Vec<Command> {
        if !self.history_enabled {
            self.error(
                self.history_problem
                    .clone()
                    .unwrap_or_else(|| "History is off in this session.".into()),
            );
            return Vec::new();
        }
        let keep = self.history_view.as_ref().is_some_and(|v| v.saved == saved);
        if !keep {
            self.history_view = Some(Box::new(HistoryView::new(saved)));
        }
        self.overlay = Some(Overlay::History);
        self.history_refresh()
    }

    /// The saved request open now, as history names it.
    pub fn saved_name(&self, path: &crate::workspace::NodePath) -> String {
        path.0.join(" / ")
    }

    /// `p` in the Response pane: earlier answers of the open request.
    pub fn open_request_history(&mut self) -> Vec<Command> {
        match self.open.clone() {
            Some(p) => {
                let name = self.saved_name(&p);
                self.open_history(Some(name))
            }
            None => {
                self.info("Open a request first; its earlier answers are listed with p.");
                Vec::new()
            }
        }
    }

    fn history_refresh(&mut self) -> Vec<Command> {
        self.history_view
            .as_deref_mut()
            .map(list_call)
            .unwrap_or_default()
    }

    /// An answer from the history actor.
    pub fn on_history_event(&mut self, ev: HistoryEvent) -> Vec<Command> {
        match ev {
            HistoryEvent::RecordFailed(e) => {
                if !self.history_write_failed {
                    self.history_write_failed = true;
                    self.error(format!("History could not be written: {e}"));
                }
                Vec::new()
            }
            HistoryEvent::Recorded { .. } => {
                let showing_list = matches!(self.overlay, Some(Overlay::History))
                    && self
                        .history_view
                        .as_ref()
                        .is_some_and(|v| matches!(v.mode, HistoryMode::List));
                if showing_list {
                    self.history_refresh()
                } else {
                    Vec::new()
                }
            }
            HistoryEvent::Listed { query, rows, usage } => {
                if let Some(v) = self.history_view.as_mut()
                    && v.query == query
                {
                    v.loading = false;
                    self.history_usage = usage;
                    match rows {
                        Ok(rows) => {
                            let keep_id = v.selected_row().map(|r| r.id);
                            v.rows = rows;
                            v.error = None;
                            v.selected = keep_id
                                .and_then(|id| v.rows.iter().position(|r| r.id == id))
                                .unwrap_or(0);
                        }
                        Err(e) => v.error = Some(e),
                    }
                }
                Vec::new()
            }
            HistoryEvent::Entry { id, entry } => {
                if let Some(v) = self.history_view.as_mut()
                    && let HistoryMode::Detail {
                        id: want,
                        loaded,
                        error,
                        ..
                    } = &mut v.mode
                    && *want == id
                {
                    match entry {
                        Ok(e) => *loaded = Some(Box::new(loaded_entry(*e))),
                        Err(e) => {
                            *error = Some(e);
                            self.pending_history_action = None;
                        }
                    }
                    return self.after_entry_loaded();
                }
                Vec::new()
            }
            HistoryEvent::Diff { old, new, diff } => {
                if let Some(v) = self.history_view.as_mut()
                    && let HistoryMode::Diff {
                        old: o,
                        new: n,
                        diff: d,
                        error,
                        ..
                    } = &mut v.mode
                    && (*o, *n) == (old, new)
                {
                    match diff {
                        Ok(x) => *d = Some(x),
                        Err(e) => *error = Some(e),
                    }
                }
                Vec::new()
            }
            HistoryEvent::Latest { saved, entry } => {
                self.on_latest_entry(&saved, entry.map(|e| *e));
                Vec::new()
            }
            HistoryEvent::Cleared(result) => {
                match result {
                    Ok(()) => self.info("History cleared."),
                    Err(e) => self.error(format!("History was not cleared: {e}")),
                }
                if let Some(v) = self.history_view.as_mut() {
                    v.mode = HistoryMode::List;
                    v.mark = None;
                }
                self.history_refresh()
            }
        }
    }

    /// Keys on the history screen.
    pub fn on_history_key(&mut self, key: crossterm::event::KeyEvent, name: &str) -> Vec<Command> {
        self.overlay = Some(Overlay::History);
        let Some(mut v) = self.history_view.take() else {
            self.overlay = None;
            return Vec::new();
        };
        let cmds = self.history_key(&mut v, key, name);
        self.history_view = Some(v);
        cmds
    }

    fn history_key(
        &mut self,
        v: &mut HistoryView,
        key: crossterm::event::KeyEvent,
        name: &str,
    ) -> Vec<Command> {
        if v.editing_filter {
            match name {
                "enter" | "esc" | "down" | "up" => v.editing_filter = false,
                _ => {
                    let before = v.filter_text();
                    v.filter.input(key);
                    if v.filter_text() != before {
                        return list_call(v);
                    }
                }
            }
            return Vec::new();
        }
        match &mut v.mode {
            HistoryMode::List => self.history_list_key(v, name),
            HistoryMode::Detail { .. } => self.history_detail_key(v, name),
            HistoryMode::Diff { scroll, diff, .. } => {
                let len = diff.as_ref().map_or(0, |d| d.lines.len());
                match name {
                    "esc" | "q" | "backspace" => v.mode = HistoryMode::List,
                    "j" | "down" => *scroll = (*scroll + 1).min(len.saturating_sub(1)),
                    "k" | "up" => *scroll = scroll.saturating_sub(1),
                    "pagedown" | "ctrl-d" | "space" => {
                        *scroll = (*scroll + 20).min(len.saturating_sub(1))
                    }
                    "pageup" | "ctrl-u" => *scroll = scroll.saturating_sub(20),
                    "g" | "home" => *scroll = 0,
                    "G" | "end" => *scroll = len.saturating_sub(1),
                    _ => {}
                }
                Vec::new()
            }
        }
    }

    fn history_list_key(&mut self, v: &mut HistoryView, name: &str) -> Vec<Command> {
        let count = v.rows.len();
        match name {
            "esc" | "q" | "H" => {
                self.overlay = None;
            }
            "/" | "f" => v.editing_filter = true,
            "j" | "down" => v.selected = (v.selected + 1).min(count.saturating_sub(1)),
            "k" | "up" => v.selected = v.selected.saturating_sub(1),
            "pagedown" | "ctrl-d" => v.selected = (v.selected + 10).min(count.saturating_sub(1)),
            "pageup" | "ctrl-u" => v.selected = v.selected.saturating_sub(10),
            "g" | "home" => v.selected = 0,
            "G" | "end" => v.selected = count.saturating_sub(1),
            "enter" | "l" | "right" => {
                if let Some(row) = v.selected_row() {
                    let id = row.id;
                    v.mode = HistoryMode::Detail {
                        id,
                        loaded: None,
                        error: None,
                        request_scroll: 0,
                    };
                    return vec![Command::History(HistoryCall::Get(id))];
                }
            }
            "m" => {
                if let Some(id) = v.selected_row().map(|r| r.id) {
                    if v.mark == Some(id) {
                        v.mark = None;
                        self.info("Mark removed.");
                    } else {
                        v.mark = Some(id);
                        self.info(format!(
                            "Entry #{id} marked: select another and press d to compare their bodies."
                        ));
                    }
                }
            }
            "d" => return self.history_diff(v),
            "r" => {
                if let Some(id) = v.selected_row().map(|r| r.id) {
                    v.mode = HistoryMode::Detail {
                        id,
                        loaded: None,
                        error: None,
                        request_scroll: 0,
                    };
                    self.pending_history_action = Some(PendingAction::Resend);
                    return vec![Command::History(HistoryCall::Get(id))];
                }
            }
            "s" | "y" => {
                if let Some(id) = v.selected_row().map(|r| r.id) {
                    v.mode = HistoryMode::Detail {
                        id,
                        loaded: None,
                        error: None,
                        request_scroll: 0,
                    };
                    self.pending_history_action = Some(if name == "s" {
                        PendingAction::Save
                    } else {
                        PendingAction::Copy
                    });
                    return vec![Command::History(HistoryCall::Get(id))];
                }
            }
            "D" => {
                self.overlay = Some(Overlay::Confirm {
                    message: format!(
                        "Delete all {} history entries from this workspace?",
                        self.history_usage.0
                    ),
                    on_yes: Confirmed::ClearHistory,
                });
            }
            "x" if v.saved.is_some() => {
                v.saved = None;
                return list_call(v);
            }
            _ => {}
        }
        Vec::new()
    }

    fn history_detail_key(&mut self, v: &mut HistoryView, name: &str) -> Vec<Command> {
        let HistoryMode::Detail {
            loaded,
            request_scroll,
            ..
        } = &mut v.mode
        else {
            return Vec::new();
        };
        match name {
            "esc" | "q" | "backspace" => {
                v.mode = HistoryMode::List;
                return Vec::new();
            }
            "r" => {
                if let Some(l) = loaded {
                    let entry = l.entry.clone();
                    return self.resend(v, &entry);
                }
            }
            "s" => {
                if let Some(l) = loaded {
                    let entry = l.entry.clone();
                    self.save_entry_prompt(&entry);
                }
            }
            "d" => return self.history_diff(v),
            "y" => {
                if let Some(l) = loaded {
                    let entry = l.entry.clone();
                    return self.copy_entry_curl(&entry);
                }
            }
            "J" => *request_scroll = request_scroll.saturating_add(1),
            "K" => *request_scroll = request_scroll.saturating_sub(1),
            _ => {
                if let Some(l) = loaded {
                    view_key(self, &mut l.view, name);
                }
            }
        }
        Vec::new()
    }

    /// `d`: the selected entry against the marked one, or against the previous answer of the
    /// same request (same saved request, or same method and URL).
    fn history_diff(&mut self, v: &mut HistoryView) -> Vec<Command> {
        let current = match &v.mode {
            HistoryMode::Detail { id, .. } => v.rows.iter().position(|r| r.id == *id),
            _ => Some(v.selected),
        };
        let Some(row) = current.and_then(|i| v.rows.get(i)).cloned() else {
            return Vec::new();
        };
        let other = match v.mark.filter(|m| *m != row.id) {
            Some(m) => Some(m),
            None => v
                .rows
                .iter()
                .skip_while(|r| r.id != row.id)
                .skip(1)
                .find(|r| match (&r.saved, &row.saved) {
                    (Some(a), Some(b)) => a == b,
                    _ => r.method == row.method && r.url == row.url,
                })
                .map(|r| r.id),
        };
        let Some(other) = other else {
            self.info(
                "Nothing to compare with: mark an entry with m, or send this request again first.",
            );
            return Vec::new();
        };
        let (old, new) = if other < row.id {
            (other, row.id)
        } else {
            (row.id, other)
        };
        v.mode = HistoryMode::Diff {
            old,
            new,
            diff: None,
            error: None,
            scroll: 0,
        };
        vec![Command::History(HistoryCall::Diff { old, new })]
    }

    /// Sends a recorded request again: the same method, URL, headers and body, with the
    /// environment's sign-in attached afresh (the recorded token was never kept).
    fn resend(&mut self, v: &mut HistoryView, entry: &Entry) -> Vec<Command> {
        if entry.has_redactions() {
            self.error(
                "This request had secrets removed before it was recorded, so it cannot be sent as \
                 it was. Send its saved request instead, or save it (s) and fill them in.",
            );
            return Vec::new();
        }
        let s = &entry.summary;
        let env = s
            .env
            .as_deref()
            .and_then(|n| self.ws.environment(n))
            .cloned();
        let headers = replayable_headers(entry);
        let timeout = std::time::Duration::from_secs(
            env.as_ref()
                .map(|e| e.timeout_secs)
                .unwrap_or(crate::workspace::DEFAULT_TIMEOUT_SECS),
        );
        let request = HttpRequest {
            method: s.method.clone(),
            url: s.url.clone(),
            headers,
            body: entry.request_body.clone(),
            timeout,
            // The environment's own choice, as when the request was first sent.
            insecure: env.as_ref().is_some_and(|e| e.insecure),
        };
        let spec = crate::workspace::RequestSpec::new("history", &s.method, &s.url);
        let auth = match &env {
            Some(e) => match crate::worker::auth::plan_for(e, &self.session_vars, &spec, &s.url) {
                Ok(p) => p,
                Err(err) => {
                    self.error(format!("{err}; sending without sign-in."));
                    None
                }
            },
            None => None,
        };
        let id = RequestId(self.next_request_id);
        self.next_request_id += 1;
        v.resending = Some(id);
        self.info(format!("Sending {} {} again…", s.method, s.url));
        let mut meta = self.record_meta(Source::Resend, env.as_ref(), Vec::new());
        meta.saved = s.saved.clone();
        vec![Command::Worker(WorkerCommand::Send {
            id,
            request,
            auth,
            record: Some(Box::new(meta)),
        })]
    }

    /// The answer to a re-send: the new entry opens.
    pub fn on_resend_response(
        &mut self,
        id: RequestId,
        result: &Result<Box<crate::worker::Received>, crate::worker::HttpError>,
    ) -> Option<Vec<Command>> {
        let v = self.history_view.as_mut()?;
        if v.resending != Some(id) {
            return None;
        }
        v.resending = None;
        match result {
            Ok(r) => {
                let line = format!(
                    "Sent again: {} {} in {} ms (the newest entry).",
                    r.response.status,
                    r.response.reason,
                    r.response.elapsed.as_millis()
                );
                self.info(line);
            }
            Err(e) => self.error(format!("Sending again failed: {e}")),
        }
        if let Some(v) = self.history_view.as_mut() {
            v.mode = HistoryMode::List;
            v.selected = 0;
            // Select the new entry when the list comes back.
            v.rows.clear();
        }
        Some(self.history_refresh())
    }

    /// `y`: the recorded request as a curl command, as recorded (credentials already removed).
    fn copy_entry_curl(&mut self, entry: &Entry) -> Vec<Command> {
        let s = &entry.summary;
        let text = crate::import::curl::to_curl(
            &s.method,
            &s.url,
            &entry.request_headers,
            entry.request_body.as_deref(),
            true,
        );
        self.info("Copied as curl (credentials were removed when it was recorded).");
        vec![Command::Copy(text)]
    }

    fn save_entry_prompt(&mut self, entry: &Entry) {
        self.overlay = Some(Overlay::Prompt {
            title: "Save as a new request named".into(),
            input: line_area(&suggest_name(entry)),
            purpose: PromptFor::SaveHistoryEntry(entry.summary.id),
        });
    }

    /// Makes a saved request from a recorded one: URL prefixes that are an environment
    /// variable's value become `{{variable}}` again.
    pub fn save_history_entry(&mut self, id: i64, name: &str) -> Result<String, String> {
        let entry = self
            .history_view
            .as_ref()
            .and_then(|v| match &v.mode {
                HistoryMode::Detail {
                    id: shown,
                    loaded: Some(l),
                    ..
                } if *shown == id => Some(l.entry.clone()),
                _ => None,
            })
            .ok_or("That history entry is no longer open.")?;
        let s = &entry.summary;
        let url = self.templated_url(s.env.as_deref(), &s.url);
        let headers = replayable_headers(&entry);
        let curl = crate::import::curl::to_curl(
            &s.method,
            &url,
            &headers,
            entry.request_body.as_deref(),
            false,
        );
        let (mut spec, _notes) =
            crate::import::curl::parse_curl_with_notes(&curl).map_err(|e| e.to_string())?;
        spec.name = name.trim().to_string();
        spec.url = url;
        spec.query.clear();
        let folder = self
            .history_target_folder()
            .ok_or("Create a collection first (c in Collections); the request goes there.")?;
        self.overlay = None;
        let path = self.add_request(&folder, spec)?;
        Ok(format!(
            "Saved as '{}' in {}.",
            path.last(),
            folder.0.join(" / ")
        ))
    }

    fn templated_url(&self, env: Option<&str>, url: &str) -> String {
        let Some(env) = env.and_then(|n| self.ws.environment(n)) else {
            return url.to_string();
        };
        let mut best: Option<(&str, &str)> = None;
        for var in env.variables.iter().filter(|v| v.enabled && !v.secret) {
            let value = var.value.trim_end_matches('/');
            if value.len() >= 8
                && url.starts_with(value)
                && best.is_none_or(|(_, b)| value.len() > b.len())
            {
                best = Some((var.key.as_str(), value));
            }
        }
        match best {
            Some((name, value)) => format!("{{{{{name}}}}}{}", &url[value.len()..]),
            None => url.to_string(),
        }
    }

    fn history_target_folder(&self) -> Option<crate::workspace::NodePath> {
        if let Some(open) = &self.open {
            let parent =
                crate::workspace::NodePath(open.0[..open.0.len().saturating_sub(1)].to_vec());
            if self.ws.folder(&parent).is_some() {
                return Some(parent);
            }
        }
        self.ws
            .collections
            .first()
            .map(|c| crate::workspace::NodePath(vec![c.root.name.clone()]))
    }

    /// What the worker needs to record an exchange: where it came from and every value that
    /// must not be written (the environment's secrets, captured tokens, `extra`).
    pub fn record_meta(
        &self,
        source: Source,
        env: Option<&crate::workspace::Environment>,
        extra: Vec<String>,
    ) -> RecordMeta {
        let mut secrets = extra;
        secrets.extend(crate::history::workspace_secrets(&self.ws));
        secrets.extend(
            self.session_vars
                .iter()
                .filter(|(k, _)| crate::workspace::looks_secret(k))
                .map(|(_, v)| v.clone()),
        );
        secrets.retain(|s| s.len() >= 4);
        secrets.sort();
        secrets.dedup();
        RecordMeta {
            source: Some(source),
            env: env.map(|e| e.name.clone()),
            saved: None,
            secrets,
        }
    }
}

/// Asks for the list again with the current filter (or shows why the filter is not understood).
fn list_call(v: &mut HistoryView) -> Vec<Command> {
    match Filter::parse(&v.filter_text(), crate::history::now_ms()) {
        Ok(filter) => {
            v.filter_error = None;
            v.query += 1;
            v.loading = true;
            vec![Command::History(HistoryCall::List {
                query: v.query,
                filter,
                saved: v.saved.clone(),
            })]
        }
        Err(e) => {
            v.filter_error = Some(e);
            Vec::new()
        }
    }
}

/// What to do once the selected entry has loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingAction {
    Resend,
    Save,
    Copy,
}

impl App {
    /// Runs a re-send or save that waited for its entry to load.
    pub fn after_entry_loaded(&mut self) -> Vec<Command> {
        let Some(action) = self.pending_history_action.take() else {
            return Vec::new();
        };
        let Some(mut v) = self.history_view.take() else {
            return Vec::new();
        };
        let entry = match &v.mode {
            HistoryMode::Detail {
                loaded: Some(l), ..
            } => Some(l.entry.clone()),
            _ => None,
        };
        let cmds = match (action, entry) {
            (PendingAction::Resend, Some(e)) => self.resend(&mut v, &e),
            (PendingAction::Copy, Some(e)) => self.copy_entry_curl(&e),
            (PendingAction::Save, Some(e)) => {
                self.history_view = Some(v);
                self.save_entry_prompt(&e);
                return Vec::new();
            }
            _ => Vec::new(),
        };
        self.history_view = Some(v);
        cmds
    }
}

/// The recorded headers worth sending again: credential headers were redacted, and a new
/// token is attached by the environment's sign-in instead.
fn replayable_headers(entry: &Entry) -> Vec<(String, String)> {
    entry
        .request_headers
        .iter()
        .filter(|(k, _)| !crate::history::redact::sensitive_header(k))
        .cloned()
        .collect()
}

fn suggest_name(e: &Entry) -> String {
    let path = url::Url::parse(&e.summary.url)
        .map(|u| u.path().trim_matches('/').to_string())
        .unwrap_or_default();
    let tail = path.rsplit('/').take(2).collect::<Vec<_>>();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    let what = if tail.is_empty() || tail == [""] {
        "root".to_string()
    } else {
        tail.join(" ")
    };
    format!("{} {what}", e.summary.method)
}

/// The entry's response in the body viewer (pretty-printed here: entries are at most the
/// history's body limit, a few megabytes).
pub(super) fn loaded_entry(entry: Entry) -> Loaded {
    let s = &entry.summary;
    let request_line = format!("{} {}", s.method, s.url);
    let outcome = match s.status {
        Some(status) => {
            let response = HttpResponse {
                status,
                reason: entry.reason.clone(),
                version: String::new(),
                headers: entry.response_headers.clone(),
                body: entry.body.clone().into(),
                spool: None,
                elapsed: std::time::Duration::from_millis(s.elapsed_ms),
                final_url: s.url.clone(),
            };
            let mut body = crate::worker::body::prepare(&response);
            if entry.truncated {
                let note = format!(
                    "History kept the first {} of this {} body.",
                    crate::text::human_size(entry.body.len()),
                    crate::text::human_size(s.size as usize)
                );
                body.note = Some(match body.note.take() {
                    Some(n) => format!("{note} {n}"),
                    None => note,
                });
            }
            Outcome::Received {
                response: Box::new(response),
                body: Box::new(body),
            }
        }
        None => Outcome::Failed(s.error.clone().unwrap_or_else(|| "No answer.".into())),
    };
    let mut view = ResponseView::new(request_line, outcome, Vec::new());
    view.received_at = chrono::DateTime::from_timestamp_millis(s.at_ms)
        .map(|t| t.with_timezone(&chrono::Local))
        .unwrap_or(view.received_at);
    Loaded { entry, view }
}

/// Moving, folding and tabs in an entry's response: the Response pane's own keys (remapped
/// ones included), acting on the same body view.
fn view_key(app: &mut App, view: &mut ResponseView, name: &str) {
    if view.awaiting_depth {
        let said = view.fold_depth_key(name);
        app.info(said);
        return;
    }
    let action = app
        .keymap
        .lookup_name(crate::tui::keys::bindings::Ctx::Response, name)
        .or(match name {
            "tab" => Some(crate::tui::keys::action::Action::NextTab),
            "backtab" => Some(crate::tui::keys::action::Action::PrevTab),
            "space" => Some(crate::tui::keys::action::Action::PageDown),
            _ => None,
        });
    let Some(action) = action.or_else(|| {
        app.keymap
            .lookup_name(crate::tui::keys::bindings::Ctx::Global, name)
    }) else {
        return;
    };
    match action {
        crate::tui::keys::action::Action::NextTab | crate::tui::keys::action::Action::PrevTab => {
            let all = ResponseTab::ALL;
            let i = all.iter().position(|t| *t == view.tab).unwrap_or(0);
            let step = if action == crate::tui::keys::action::Action::NextTab {
                1
            } else {
                all.len() - 1
            };
            view.tab = all[(i + step) % all.len()];
        }
        other => match view.act(other) {
            Some(Ok(s)) if !s.is_empty() => app.info(s),
            Some(Err(e)) => app.error(e),
            _ => {}
        },
    }
}
