//! The history screen: every exchange kept in the workspace's history file, newest first,
//! filtered by a one-line query; an entry opens in the same body viewer as live responses, can
//! be sent again or saved as a request, and two entries' bodies can be compared.

mod draw;
#[cfg(test)]
pub(crate) mod tests;

use crossterm::event::KeyEvent;

use super::dialogs::confirm::Confirm;
use super::dialogs::prompt::Prompt;
use super::response::{Outcome, ResponseKeys, ResponseTab, ResponseView};
use super::{Cx, Handled, Intent, collections};
use crate::history::diff::BodyDiff;
use crate::history::{Entry, Filter, HistoryCall, Source, Summary};
use crate::tui::keys::{Action, Ctx, Keymap};
use crate::tui::model::{InFlight, Purpose};
use crate::tui::msg::Command;
use crate::tui::widgets::text_field::TextField;
use crate::worker::history::HistoryEvent;
use crate::worker::{HttpError, HttpRequest, HttpResponse, Received, RequestId, WorkerCommand};
use crate::workspace::NodePath;

pub use crate::worker::history::LIST_LIMIT;

/// What the screen shows.
pub enum Mode {
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

/// What to do once the selected entry has loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Resend,
    Save,
    Copy,
}

pub enum Msg {
    /// Save the open entry as a request named so.
    Save { id: i64, name: String },
    /// Delete every entry (confirmed).
    Clear,
}

pub struct History {
    pub filter: TextField,
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
    pub mode: Mode,
    /// A re-send in flight.
    pub resending: Option<RequestId>,
    pending: Option<Pending>,
}

impl History {
    pub fn new(saved: Option<String>) -> Self {
        Self {
            filter: TextField::line(""),
            editing_filter: false,
            filter_error: None,
            saved,
            rows: Vec::new(),
            selected: 0,
            query: 0,
            loading: false,
            error: None,
            mark: None,
            mode: Mode::List,
            resending: None,
            pending: None,
        }
    }

    pub fn filter_text(&self) -> String {
        self.filter.text()
    }

    pub fn selected_row(&self) -> Option<&Summary> {
        self.rows.get(self.selected)
    }

    /// The keymap context now: an opened entry has the body viewer's keys too; a comparison
    /// has its own (scrolling, back).
    pub fn ctx(&self) -> Ctx {
        match self.mode {
            Mode::Detail { .. } => Ctx::HistoryEntry,
            Mode::Diff { .. } => Ctx::HistoryDiff,
            Mode::List => Ctx::History,
        }
    }

    /// The hints of the screen as it is now (also the status bar's): the context's, without
    /// `x` when the list is not narrowed to one request, with the tab keys on an entry.
    pub fn hints(&self, keymap: &Keymap) -> Vec<(String, &'static str)> {
        let mut hint = keymap.hints(self.ctx());
        if self.saved.is_none() {
            // `x` widens a list narrowed to one request; there is nothing to widen.
            let all = keymap.label(Ctx::History, Action::ShowAll);
            hint.retain(|(k, _)| Some(k) != all.as_ref());
        }
        if self.ctx() == Ctx::HistoryEntry {
            // The tabs are the Response pane's keys (`[history_entry]` falls back to them).
            if let Some(key) = keymap.label(Ctx::Response, Action::NextTab) {
                hint.insert(0, (key, "tabs"));
            }
        }
        hint
    }

    /// Asks for the list again with the current filter (or says why it is not understood).
    pub fn refresh(&mut self, cx: &mut Cx) {
        match Filter::parse(&self.filter_text(), crate::history::now_ms()) {
            Ok(filter) => {
                self.filter_error = None;
                self.query += 1;
                self.loading = true;
                cx.command(Command::History(HistoryCall::List {
                    query: self.query,
                    filter,
                    saved: self.saved.clone(),
                }));
            }
            Err(e) => self.filter_error = Some(e),
        }
    }

    /// An answer from the history actor.
    pub fn on_event(&mut self, ev: HistoryEvent, cx: &mut Cx, showing: bool) {
        match ev {
            HistoryEvent::RecordFailed(e) => {
                if !cx.model.history.write_failed {
                    cx.model.history.write_failed = true;
                    cx.error(format!("History could not be written: {e}"));
                }
            }
            HistoryEvent::Recorded { .. } => {
                if showing && matches!(self.mode, Mode::List) {
                    self.refresh(cx);
                }
            }
            HistoryEvent::Listed { query, rows, usage } => {
                if self.query == query {
                    self.loading = false;
                    cx.model.history.usage = usage;
                    match rows {
                        Ok(rows) => {
                            let keep_id = self.selected_row().map(|r| r.id);
                            self.rows = rows;
                            self.error = None;
                            self.selected = keep_id
                                .and_then(|id| self.rows.iter().position(|r| r.id == id))
                                .unwrap_or(0);
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
            }
            HistoryEvent::Entry { id, entry } => {
                if let Mode::Detail {
                    id: want,
                    loaded,
                    error,
                    ..
                } = &mut self.mode
                    && *want == id
                {
                    match entry {
                        Ok(e) => *loaded = Some(Box::new(loaded_entry(*e))),
                        Err(e) => {
                            *error = Some(e);
                            self.pending = None;
                        }
                    }
                    self.after_entry_loaded(cx);
                }
            }
            HistoryEvent::Diff { old, new, diff } => {
                if let Mode::Diff {
                    old: o,
                    new: n,
                    diff: d,
                    error,
                    ..
                } = &mut self.mode
                    && (*o, *n) == (old, new)
                {
                    match diff {
                        Ok(x) => *d = Some(x),
                        Err(e) => *error = Some(e),
                    }
                }
            }
            // Session restore's answers are the root's.
            HistoryEvent::Latest { .. } => {}
            HistoryEvent::Cleared(result) => {
                match result {
                    Ok(()) => cx.info("History cleared."),
                    Err(e) => cx.error(format!("History was not cleared: {e}")),
                }
                self.mode = Mode::List;
                self.mark = None;
                self.refresh(cx);
            }
        }
    }

    pub fn update(&mut self, msg: Msg, cx: &mut Cx) {
        match msg {
            Msg::Save { id, name } => self.save_entry(id, &name, cx),
            Msg::Clear => cx.command(Command::History(HistoryCall::Clear)),
        }
    }

    /// Keys on the history screen; `Close` leaves it.
    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        if self.editing_filter {
            match cx.model.keymap.lookup(Ctx::Prompt, key) {
                Some(
                    Action::Finish | Action::Close | Action::HistoryNext | Action::HistoryPrev,
                ) => self.editing_filter = false,
                _ => {
                    let before = self.filter_text();
                    let a = cx.model.keymap.lookup(Ctx::Text, key);
                    self.filter.input(key, a);
                    if self.filter_text() != before {
                        self.refresh(cx);
                    }
                }
            }
            return Handled::Yes;
        }
        match &mut self.mode {
            Mode::List => self.list_key(action, cx),
            Mode::Detail { .. } => self.detail_key(key, action, cx),
            Mode::Diff { scroll, diff, .. } => {
                let len = diff.as_ref().map_or(0, |d| d.lines.len());
                let last = len.saturating_sub(1);
                match action {
                    Some(Action::Close | Action::Back) => self.mode = Mode::List,
                    Some(Action::Down) => *scroll = (*scroll + 1).min(last),
                    Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                    Some(Action::PageDown) => *scroll = (*scroll + 20).min(last),
                    Some(Action::PageUp) => *scroll = scroll.saturating_sub(20),
                    Some(Action::Top) => *scroll = 0,
                    Some(Action::Bottom) => *scroll = last,
                    _ => return Handled::No,
                }
                Handled::Yes
            }
        }
    }

    fn load(&mut self, id: i64, then: Option<Pending>, cx: &mut Cx) {
        self.mode = Mode::Detail {
            id,
            loaded: None,
            error: None,
            request_scroll: 0,
        };
        self.pending = then;
        cx.command(Command::History(HistoryCall::Get(id)));
    }

    fn list_key(&mut self, action: Option<Action>, cx: &mut Cx) -> Handled {
        let count = self.rows.len();
        let last = count.saturating_sub(1);
        let selected_id = self.selected_row().map(|r| r.id);
        match action {
            Some(Action::Close) => return Handled::Close,
            Some(Action::Filter) => self.editing_filter = true,
            Some(Action::Down) => self.selected = (self.selected + 1).min(last),
            Some(Action::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Action::PageDown) => self.selected = (self.selected + 10).min(last),
            Some(Action::PageUp) => self.selected = self.selected.saturating_sub(10),
            Some(Action::Top) => self.selected = 0,
            Some(Action::Bottom) => self.selected = last,
            Some(Action::Activate) => {
                if let Some(id) = selected_id {
                    self.load(id, None, cx);
                }
            }
            Some(Action::Mark) => {
                if let Some(id) = selected_id {
                    if self.mark == Some(id) {
                        self.mark = None;
                        cx.info("Mark removed.");
                    } else {
                        self.mark = Some(id);
                        let diff = cx.model.keymap.say(Ctx::History, Action::Diff);
                        cx.info(format!("Entry #{id} marked: select another and press {diff} to compare their bodies."));
                    }
                }
            }
            Some(Action::Diff) => self.diff(cx),
            Some(a @ (Action::Resend | Action::SaveAs | Action::CopyCurl)) => {
                if let Some(id) = selected_id {
                    let then = match a {
                        Action::Resend => Pending::Resend,
                        Action::SaveAs => Pending::Save,
                        _ => Pending::Copy,
                    };
                    self.load(id, Some(then), cx);
                }
            }
            Some(Action::ShowAll) if self.saved.is_some() => {
                self.saved = None;
                self.refresh(cx);
            }
            Some(Action::ClearAll) => cx.open(Confirm::new(
                format!(
                    "Delete all {} history entries from this workspace?",
                    cx.model.history.usage.0
                ),
                Intent::History(Msg::Clear),
            )),
            _ => return Handled::No,
        }
        Handled::Yes
    }

    fn detail_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let Mode::Detail {
            loaded,
            request_scroll,
            ..
        } = &mut self.mode
        else {
            return Handled::No;
        };
        let entry = loaded.as_ref().map(|l| l.entry.clone());
        match action {
            // Out of an opened record or a filter result first, as in the Response pane.
            Some(Action::Close) if loaded.as_mut().is_some_and(|l| l.view.back()) => {}
            Some(Action::Close) => self.mode = Mode::List,
            Some(Action::Resend) => {
                if let Some(e) = entry {
                    self.resend(&e, cx);
                }
            }
            Some(Action::SaveAs) => {
                if let Some(e) = entry {
                    save_prompt(&e, cx);
                }
            }
            Some(Action::Diff) => self.diff(cx),
            Some(Action::CopyCurl) => {
                if let Some(e) = entry {
                    copy_curl(&e, cx);
                }
            }
            Some(Action::ScrollRequestDown) => *request_scroll = request_scroll.saturating_add(1),
            Some(Action::ScrollRequestUp) => *request_scroll = request_scroll.saturating_sub(1),
            other => {
                if let Some(l) = loaded {
                    view_key(&mut l.view, key, other, cx);
                }
            }
        }
        Handled::Yes
    }

    /// `d`: the selected entry against the marked one, or against the previous answer of the
    /// same request (same saved request, or same method and URL).
    fn diff(&mut self, cx: &mut Cx) {
        let current = match &self.mode {
            Mode::Detail { id, .. } => self.rows.iter().position(|r| r.id == *id),
            _ => Some(self.selected),
        };
        let Some(row) = current.and_then(|i| self.rows.get(i)).cloned() else {
            return;
        };
        let other = match self.mark.filter(|m| *m != row.id) {
            Some(m) => Some(m),
            None => self
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
            cx.info(
                "Nothing to compare with: mark an entry with m, or send this request again first.",
            );
            return;
        };
        let (old, new) = if other < row.id {
            (other, row.id)
        } else {
            (row.id, other)
        };
        self.mode = Mode::Diff {
            old,
            new,
            diff: None,
            error: None,
            scroll: 0,
        };
        cx.command(Command::History(HistoryCall::Diff { old, new }));
    }

    /// Runs a re-send or save that waited for its entry to load.
    fn after_entry_loaded(&mut self, cx: &mut Cx) {
        let Some(action) = self.pending.take() else {
            return;
        };
        let entry = match &self.mode {
            Mode::Detail {
                loaded: Some(l), ..
            } => l.entry.clone(),
            _ => return,
        };
        match action {
            Pending::Resend => self.resend(&entry, cx),
            Pending::Copy => copy_curl(&entry, cx),
            Pending::Save => save_prompt(&entry, cx),
        }
    }

    /// Sends a recorded request again: the same method, URL, headers and body, with the
    /// environment's sign-in attached afresh (the recorded token was never kept).
    fn resend(&mut self, entry: &Entry, cx: &mut Cx) {
        if entry.has_redactions() {
            cx.error(
                "This request had secrets removed before it was recorded, so it cannot be sent as \
                 it was. Send its saved request instead, or save it (s) and fill them in.",
            );
            return;
        }
        let s = &entry.summary;
        let env = s
            .env
            .as_deref()
            .and_then(|n| cx.model.ws.environment(n))
            .cloned();
        let timeout = std::time::Duration::from_secs(
            env.as_ref()
                .map_or(crate::workspace::DEFAULT_TIMEOUT_SECS, |e| e.timeout_secs),
        );
        let request = HttpRequest {
            method: s.method.clone(),
            url: s.url.clone(),
            headers: replayable_headers(entry),
            body: entry.request_body.clone(),
            timeout,
            // The environment's own choice, as when the request was first sent.
            insecure: env.as_ref().is_some_and(|e| e.insecure),
        };
        let auth = env
            .as_ref()
            .and_then(|e| cx.model.plan_for_env(&e.name, &s.url));
        let id = cx.model.next_request_id();
        self.resending = Some(id);
        cx.model.in_flight.insert(
            id,
            InFlight::starting(Purpose::Resend, &s.method, &s.url, Vec::new()),
        );
        cx.info(format!("Sending {} {} again…", s.method, s.url));
        let mut record = cx
            .model
            .record_meta(Source::Resend, s.env.as_deref(), Vec::new());
        if let Some(r) = record.as_mut() {
            r.saved = s.saved.clone();
        }
        cx.worker(WorkerCommand::Send {
            id,
            request,
            auth,
            record,
            read_fhir: false,
        });
    }

    /// The answer to a re-send: the new entry opens when the list comes back.
    pub fn on_resent(
        &mut self,
        id: RequestId,
        result: &Result<Box<Received>, HttpError>,
        cx: &mut Cx,
    ) {
        if self.resending != Some(id) {
            return;
        }
        self.resending = None;
        match result {
            Ok(r) => cx.info(format!(
                "Sent again: {} {} in {} ms (the newest entry).",
                r.response.status,
                r.response.reason,
                r.response.elapsed.as_millis()
            )),
            Err(e) => cx.error(format!("Sending again failed: {e}")),
        }
        self.mode = Mode::List;
        self.selected = 0;
        self.rows.clear();
        self.refresh(cx);
    }

    /// Makes a saved request from a recorded one: URL prefixes that are an environment
    /// variable's value become `{{variable}}` again.
    fn save_entry(&mut self, id: i64, name: &str, cx: &mut Cx) {
        let entry = match &self.mode {
            Mode::Detail {
                id: shown,
                loaded: Some(l),
                ..
            } if *shown == id => l.entry.clone(),
            _ => {
                cx.error("That history entry is no longer open.");
                return;
            }
        };
        let s = &entry.summary;
        let url = templated_url(cx, s.env.as_deref(), &s.url);
        let headers = replayable_headers(&entry);
        let curl = crate::import::curl::to_curl(
            &s.method,
            &url,
            &headers,
            entry.request_body.as_deref(),
            false,
        );
        let (mut spec, _notes) = match crate::import::curl::parse_curl_with_notes(&curl) {
            Ok(x) => x,
            Err(e) => {
                cx.error(e.to_string());
                return;
            }
        };
        spec.name = name.trim().to_string();
        spec.url = url;
        spec.query.clear();
        let Some(folder) = target_folder(cx) else {
            let create = cx.model.keymap.say(Ctx::Collections, Action::NewCollection);
            cx.error(format!(
                "Create a collection first ({create} in Collections); the request goes there."
            ));
            return;
        };
        let note = format!("Saved as '{}' in {}.", spec.name, folder.0.join(" / "));
        cx.intent(Intent::Collections(collections::Msg::Add {
            folder,
            spec: Box::new(spec),
            then: collections::Then::Open,
            note,
        }));
    }
}

fn templated_url(cx: &Cx, env: Option<&str>, url: &str) -> String {
    let Some(env) = env.and_then(|n| cx.model.ws.environment(n)) else {
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

/// Where a request saved from history goes: beside the open request, else the first collection.
fn target_folder(cx: &Cx) -> Option<NodePath> {
    if let Some(parent) = cx.model.open.as_ref().and_then(NodePath::parent)
        && cx.model.ws.folder(&parent).is_some()
    {
        return Some(parent);
    }
    cx.model
        .ws
        .collections
        .first()
        .map(|c| NodePath(vec![c.root.name.clone()]))
}

fn save_prompt(entry: &Entry, cx: &mut Cx) {
    let id = entry.summary.id;
    cx.open(Prompt::new(
        "Save as a new request named",
        &suggest_name(entry),
        move |t| {
            Some(Intent::History(Msg::Save {
                id,
                name: t.to_string(),
            }))
        },
    ));
}

/// `y`: the recorded request as a curl command, as recorded (credentials already removed).
fn copy_curl(entry: &Entry, cx: &mut Cx) {
    let s = &entry.summary;
    let text = crate::import::curl::to_curl(
        &s.method,
        &s.url,
        &entry.request_headers,
        entry.request_body.as_deref(),
        true,
    );
    cx.info("Copied as curl (credentials were removed when it was recorded).");
    cx.command(Command::Copy(text));
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
    let tail: Vec<&str> = path
        .rsplit('/')
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let what = if tail.is_empty() || tail == [""] {
        "root".to_string()
    } else {
        tail.join(" ")
    };
    format!("{} {what}", e.summary.method)
}

/// The entry's response in the body viewer (pretty-printed here: entries are at most the
/// history's body limit, a few megabytes).
pub fn loaded_entry(entry: Entry) -> Loaded {
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
/// ones included, found through `[history_entry]` falling back to `[response]`).
fn view_key(view: &mut ResponseView, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) {
    let keys = ResponseKeys::for_history_entry(&cx.model.keymap);
    if view.awaiting_depth {
        let said = view.fold_depth_key(&crate::tui::keys::key_name(key), &keys);
        cx.info(said);
        return;
    }
    let action = action.or_else(|| cx.model.keymap.lookup(Ctx::Global, key));
    match action {
        Some(a @ (Action::NextTab | Action::PrevTab | Action::FocusNext | Action::FocusPrev)) => {
            let all = ResponseTab::ALL;
            let i = all.iter().position(|t| *t == view.tab).unwrap_or(0);
            let forward = matches!(a, Action::NextTab | Action::FocusNext);
            view.tab = all[(i + if forward { 1 } else { all.len() - 1 }) % all.len()];
        }
        Some(other) => match view.act(other, &keys) {
            Some(Ok(s)) if !s.is_empty() => cx.info(s),
            Some(Err(e)) => cx.error(e),
            _ => {}
        },
        None => {}
    }
}
