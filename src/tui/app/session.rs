//! Where the user was, kept across runs: the session (active environment, open request,
//! selection, folders, focus, the screen on top, each response's place) and unsaved drafts.
//! The files are written by the runtime; this is what goes in them and what comes back.

use super::App;
use crate::history::HistoryCall;
use crate::tui::msg::{Command, DiskOp};
use crate::tui::screens::dialogs::confirm::Confirm;
use crate::tui::screens::response::ResponseTab;
use crate::tui::screens::{Cx, Intent, Outbox, Pane, Screen};
use crate::tui::session::{
    BrowserPlace, MAX_REMEMBERED, ResponsePlace, Session, load_session, tab_from, tab_name,
};
use crate::workspace::NodePath;

impl App {
    /// The session as it is now.
    pub fn session_snapshot(&self) -> Session {
        let selected = self.tree.selected_row(&self.model.ws).map(|r| r.path.0);
        let mut expanded: Vec<Vec<String>> =
            self.tree.expanded.iter().map(|p| p.0.clone()).collect();
        expanded.sort();
        let open = self.model.open.as_ref();
        let mut responses: Vec<_> = self.response.responses.iter().collect();
        // The open one first, then the newest answers.
        responses.sort_by_key(|(p, v)| (Some(*p) != open, std::cmp::Reverse(v.received_at)));
        let responses = responses
            .into_iter()
            .take(MAX_REMEMBERED)
            .map(|(p, v)| ResponsePlace {
                request: p.0.clone(),
                tab: tab_name(v.tab).into(),
                scroll: v.pane().map_or(v.headers_scroll, |pane| pane.cursor_line()),
            })
            .collect();
        let screen = match self.screen {
            Some(Screen::History) => Some("history".to_string()),
            Some(Screen::Jobs) => Some("jobs".to_string()),
            _ => None,
        };
        // The browser's page is kept under the chart too: going back from a restored chart
        // is going back to the patient.
        let browser = Some(&self.browser)
            .filter(|_| matches!(self.screen, Some(Screen::Browser | Screen::Chart)))
            .map(|b| BrowserPlace {
                lookup: b
                    .lookup
                    .as_ref()
                    .map(|l| l.text())
                    .filter(|t| !t.trim().is_empty()),
                url: b
                    .current()
                    .map(|p| relative_to(&self.model.fhir_base(), &p.url)),
            })
            .filter(|p| p.lookup.is_some() || p.url.is_some());
        let chart = self
            .chart
            .place()
            .filter(|_| self.screen == Some(Screen::Chart));
        Session {
            browser,
            chart,
            active_env: self.model.active_env.clone(),
            focus: Some(self.focus.title().to_ascii_lowercase()),
            open: self.model.open.as_ref().map(|p| p.0.clone()),
            selected,
            expanded,
            screen,
            history_filter: self
                .history
                .as_ref()
                .filter(|h| h.saved.is_none())
                .map(|h| h.filter_text())
                .unwrap_or_default(),
            responses,
        }
    }

    /// The session to write, when it changed since the last write (never over a broken file).
    pub fn session_to_save(&mut self) -> Option<Command> {
        if self.session.broken {
            return None;
        }
        let now = self.session_snapshot();
        if self.session.saved.as_ref() == Some(&now) {
            return None;
        }
        self.session.saved = Some(now.clone());
        Some(Command::Disk(crate::tui::msg::DiskJob {
            op: DiskOp::WriteSession(Box::new(now)),
            reply: None,
        }))
    }

    /// Whether the place differs from what the session file holds.
    pub fn session_changed(&self) -> bool {
        !self.session.broken && self.session.saved.as_ref() != Some(&self.session_snapshot())
    }

    /// The unsaved edits to keep in `.drafts/` now (all of them: the others are removed). The
    /// drafts offered at start are kept too until the user answers: quitting, a signal or a
    /// dropped connection while the question is open must not lose them.
    pub fn drafts_to_save(&self) -> Command {
        let mut drafts: Vec<_> = self
            .request
            .editors
            .values()
            .filter(|e| e.dirty())
            .map(|e| (e.path.clone(), e.draft.clone()))
            .collect();
        for (path, spec) in &self.pending_drafts {
            if !drafts.iter().any(|(p, _)| p == path) {
                drafts.push((path.clone(), spec.clone()));
            }
        }
        Command::Disk(crate::tui::msg::DiskJob {
            op: DiskOp::WriteDrafts(drafts),
            reply: None,
        })
    }

    /// At start: drafts left by a session that ended without saving are offered back. One that
    /// cannot be read is listed with the load problems and left alone. Nothing is deleted until
    /// the user answers.
    pub fn offer_drafts(&mut self) {
        let (drafts, broken) = crate::tui::drafts::read_all(&self.model.root);
        if !broken.is_empty() {
            self.model.error(format!(
                "{} draft file(s) in {} could not be read and were left as they are.",
                broken.len(),
                crate::tui::drafts::dir(&self.model.root).display()
            ));
            self.model.problems.extend(broken);
            self.report_problems();
        }
        if drafts.is_empty() {
            return;
        }
        let names: Vec<String> = drafts.iter().map(|(p, _)| p.display()).collect();
        self.pending_drafts = drafts;
        self.dialogs.push(Box::new(
            Confirm::new(
                format!(
                    "The last session ended with unsaved edits to {}. Restore them ({}), or discard them ({})?",
                    names.join(", "),
                    self.model.keymap.say(crate::tui::keys::Ctx::Confirm, crate::tui::keys::Action::Yes),
                    self.model.keymap.say(crate::tui::keys::Ctx::Confirm, crate::tui::keys::Action::No)
                ),
                Intent::Drafts(true),
            )
            .or_else(Intent::Drafts(false)),
        ));
    }

    pub(super) fn answer_drafts(&mut self, restore: bool, out: &mut Outbox) {
        let drafts = std::mem::take(&mut self.pending_drafts);
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        if !restore {
            cx.disk_quietly(DiskOp::DiscardDrafts);
            cx.info("Drafts discarded.");
            return;
        }
        let mut restored = 0;
        for (path, spec) in drafts {
            if !self.request.open_request(&path, &mut cx) {
                continue;
            }
            self.tree.select_path(&cx.model.ws, &path);
            if let Some(ed) = self.request.editors.get_mut(&path) {
                ed.set_draft(spec);
                restored += 1;
            }
        }
        let save = cx.model.keymap.say(
            crate::tui::keys::Ctx::Global,
            crate::tui::keys::Action::Save,
        );
        cx.info(format!(
            "{restored} draft(s) restored as unsaved edits: {save} saves them."
        ));
    }

    /// At start: puts the last session back (what still exists of it), and asks history for
    /// the responses that were on screen. `env_given`: the command line chose the environment.
    pub fn restore_session(&mut self, env_given: bool) -> Vec<Command> {
        let session = match load_session(&self.model.root) {
            Ok(Some(s)) => s,
            Ok(None) => return Vec::new(),
            Err(e) => {
                self.session.broken = true;
                self.model.error(e);
                return Vec::new();
            }
        };
        self.session.saved = Some(session.clone());
        let ws = &self.model.ws;
        if !env_given
            && let Some(env) = &session.active_env
            && ws.environment(env).is_some()
        {
            self.model.active_env = Some(env.clone());
            self.envs.select(ws, env);
        }
        for p in &session.expanded {
            let path = NodePath(p.clone());
            if ws.folder(&path).is_some() {
                self.tree.expanded.insert(path);
            }
        }
        let mut out = Outbox::default();
        if let Some(open) = &session.open {
            let path = NodePath(open.clone());
            let mut cx = Cx {
                model: &mut self.model,
                out: &mut out,
            };
            if self.request.open_request(&path, &mut cx) {
                self.tree.select_path(&self.model.ws, &path);
            }
        }
        if let Some(sel) = &session.selected
            && let Some(i) = self
                .tree
                .rows(&self.model.ws)
                .iter()
                .position(|r| &r.path.0 == sel)
        {
            self.tree.selected = i;
        }
        if let Some(f) = &session.focus
            && let Some(p) = Pane::ALL.iter().find(|p| p.title().eq_ignore_ascii_case(f))
        {
            self.focus = *p;
        }
        let ws = &self.model.ws;
        self.session.places = session
            .responses
            .iter()
            .filter(|r| ws.request(&NodePath(r.request.clone())).is_some())
            .cloned()
            .collect();
        if self.model.history.enabled {
            for r in &self.session.places {
                out.commands.push(Command::History(HistoryCall::Latest {
                    saved: r.request.join(" / "),
                }));
            }
        }
        // The browser as it was: the lookup searched again, or the page fetched again (GETs).
        if let Some(b) = &session.browser
            && !self.model.fhir_base().is_empty()
        {
            let mut cx = Cx {
                model: &mut self.model,
                out: &mut out,
            };
            if let Some(text) = &b.lookup {
                if self.browser.open_lookup(text, &mut cx) {
                    self.browser.tick(&mut cx);
                    self.screen = Some(Screen::Browser);
                }
            } else if let Some(url) = &b.url {
                let url = absolute_from(&cx.model.fhir_base(), url);
                self.browser.browse_to(url, &mut cx);
                self.screen = Some(Screen::Browser);
            }
        }
        // The chart over it, fetched again, on the view it showed.
        if let Some(c) = &session.chart
            && !self.model.fhir_base().is_empty()
        {
            let mut cx = Cx {
                model: &mut self.model,
                out: &mut out,
            };
            self.chart.restore(c, &mut cx);
            self.screen = Some(Screen::Chart);
        }
        // Only when nothing else (a problem report, drafts) needs the screen first.
        if self.dialogs.is_empty() {
            match session.screen.as_deref() {
                Some("history") if self.model.history.enabled => {
                    let mut h = crate::tui::screens::history::History::new(None);
                    h.filter.set_text(&session.history_filter);
                    let mut cx = Cx {
                        model: &mut self.model,
                        out: &mut out,
                    };
                    h.refresh(&mut cx);
                    self.history = Some(h);
                    self.screen = Some(Screen::History);
                }
                Some("jobs") => self.screen = Some(Screen::Jobs),
                _ => {}
            }
        }
        out.commands
    }

    /// A restored request's last answer, from history, back in its Response pane.
    pub(super) fn on_latest_entry(&mut self, saved: &str, entry: Option<crate::history::Entry>) {
        let Some(place) = self
            .session
            .places
            .iter()
            .position(|r| r.request.join(" / ") == saved)
            .map(|i| self.session.places.remove(i))
        else {
            return;
        };
        let path = NodePath(place.request.clone());
        let Some(entry) = entry else {
            return;
        };
        if self.response.responses.contains_key(&path) {
            return; // answered again since the start
        }
        let mut view = crate::tui::screens::history::loaded_entry(entry).view;
        view.tab = tab_from(&place.tab);
        if view.tab == ResponseTab::Headers {
            view.headers_scroll = place.scroll.min(view.line_count().saturating_sub(1));
        } else {
            view.goto_line(place.scroll);
        }
        view.restored = true;
        let open = self.model.open.clone();
        self.response.keep(path, view, open.as_ref());
    }

    /// At start: unfinished export jobs are polled again.
    pub fn resume_jobs(&mut self) -> Vec<Command> {
        let mut out = Outbox::default();
        let mut cx = Cx {
            model: &mut self.model,
            out: &mut out,
        };
        crate::tui::screens::jobs::resume(&mut cx);
        out.commands
    }
}

/// A page URL under the environment's FHIR base kept as its path (`/Patient/123?…`), so a
/// restore finds it where the base is now (the demo's port changes every run; a user may move
/// `fhirurl`); a URL elsewhere is kept whole.
fn relative_to(base: &str, url: &str) -> String {
    match url.strip_prefix(base) {
        Some(rest) if !base.is_empty() && (rest.is_empty() || rest.starts_with(['/', '?'])) => {
            if rest.starts_with('/') {
                rest.to_string()
            } else {
                format!("/{rest}")
            }
        }
        _ => url.to_string(),
    }
}

/// The page URL to fetch again: a kept path under today's base, else the URL as kept.
fn absolute_from(base: &str, kept: &str) -> String {
    if kept.starts_with('/') && !kept.starts_with("//") {
        let rest = kept
            .strip_prefix("/?")
            .map_or(kept.to_string(), |q| format!("?{q}"));
        let rest = if rest == "/" { String::new() } else { rest };
        format!("{base}{rest}")
    } else {
        kept.to_string()
    }
}
