//! The root of the TUI: the shared model, the screens, the dialog stack. `update` takes one
//! message and returns the commands for the runtime; it routes input to the topmost thing
//! (a dialog, the open full screen, the focused pane), worker events to the screen that asked,
//! and carries out the intents screens hand back. This is the only `impl App`.

mod events;
mod intents;
mod session;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};

use super::keys::{Action, Ctx, key_name};
use super::model::Model;
use super::msg::{Command, Msg};
use super::screens::browser::Browser;
use super::screens::chart::Chart;
use super::screens::collections::Collections;
use super::screens::dialogs::Dialog;
use super::screens::dialogs::capabilities::CapabilitiesDialog;
use super::screens::dialogs::confirm::Confirm;
use super::screens::dialogs::help::Help;
use super::screens::dialogs::palette::Palette;
use super::screens::dialogs::reader::{Reader, Tone};
use super::screens::dialogs::sign_in_settings::SignInSettings;
use super::screens::dialogs::token_viewer::TokenViewer;
use super::screens::environments::Environments;
use super::screens::history::History;
use super::screens::jobs::Jobs;
use super::screens::request::Request;
use super::screens::response::Response;
use super::screens::{Cx, Handled, Intent, Outbox, Pane, Screen};
use super::session::{ResponsePlace, Session};
use super::style::Style;
use crate::worker::export::ExportJob;
use crate::workspace::{LoadProblem, NodePath, RequestSpec, Workspace};

/// Below this width the panes are shown one at a time with a tab strip.
pub const NARROW_WIDTH: u16 = 100;

/// What session restore knows (see `session.rs`).
#[derive(Default)]
pub struct SessionState {
    /// The session file could not be read: it is not written over.
    pub broken: bool,
    /// What the session file holds now (written again only when this changes).
    pub saved: Option<Session>,
    /// Responses to put back from history, with their tab and scroll.
    pub places: Vec<ResponsePlace>,
}

pub struct App {
    pub model: Model,
    pub envs: Environments,
    pub tree: Collections,
    pub request: Request,
    pub response: Response,
    pub browser: Browser,
    /// The patient chart (kept while closed, so going back to it from the browser is free).
    pub chart: Chart,
    /// Kept while closed, so `H` comes back where it was.
    pub history: Option<History>,
    pub jobs: Jobs,
    pub focus: Pane,
    /// A full screen over the panes.
    pub screen: Option<Screen>,
    pub dialogs: Vec<Box<dyn Dialog>>,
    pub style: Style,
    pub quit: bool,
    /// The terminal's size, for mouse clicks (the layout is computed from it, never stored).
    pub size: (u16, u16),
    pub session: SessionState,
    /// Drafts from a session that ended with unsaved edits, until the user answers.
    pub pending_drafts: Vec<(NodePath, RequestSpec)>,
}

impl App {
    /// The app over a workspace at `root`, with `jobs` read from its `jobs/` folder.
    pub fn new(
        root: PathBuf,
        ws: Workspace,
        problems: Vec<LoadProblem>,
        active_env: Option<String>,
        jobs: Vec<ExportJob>,
    ) -> Self {
        let active_env = active_env
            .filter(|n| ws.environment(n).is_some())
            .or_else(|| ws.environments.first().map(|e| e.name.clone()));
        let mut envs = Environments::default();
        if let Some(name) = &active_env {
            envs.select(&ws, name);
        }
        let tree = Collections::new(&ws);
        let mut model = Model::new(root, ws, problems);
        model.active_env = active_env;
        model.jobs.list = jobs;
        let mut app = Self {
            model,
            envs,
            tree,
            request: Request::default(),
            response: Response::default(),
            browser: Browser::default(),
            chart: Chart::default(),
            history: None,
            jobs: Jobs::default(),
            focus: Pane::Collections,
            screen: None,
            dialogs: Vec::new(),
            style: Style::default(),
            quit: false,
            size: (120, 35),
            session: SessionState::default(),
            pending_drafts: Vec::new(),
        };
        app.report_problems();
        app
    }

    /// Opens the problems report when anything could not be loaded (or keys were settled).
    pub fn report_problems(&mut self) {
        let open = self.dialogs.iter().any(|d| is_problems(d.as_ref()));
        if open || (self.model.problems.is_empty() && self.model.keymap.conflicts().is_empty()) {
            return;
        }
        let mut lines = Vec::new();
        if !self.model.problems.is_empty() {
            lines.push((
                Tone::Text,
                "These files could not be loaded. They were skipped and will not be written over:"
                    .into(),
            ));
            lines.push((Tone::Text, String::new()));
            for p in &self.model.problems {
                lines.push((Tone::Error, format!("• {p}")));
            }
            lines.push((Tone::Text, String::new()));
        }
        if !self.model.keymap.conflicts().is_empty() {
            lines.push((
                Tone::Text,
                "Key bindings in conflict. fhirside started with them settled like this:".into(),
            ));
            lines.push((Tone::Text, String::new()));
            for c in self.model.keymap.conflicts() {
                lines.push((Tone::Warning, format!("• {c}")));
            }
            lines.push((Tone::Text, String::new()));
        }
        lines.push((
            Tone::Dim,
            "Fix them in an editor and restart fhirside.".into(),
        ));
        let title = if self.model.problems.is_empty() {
            "Key binding conflicts"
        } else {
            "Workspace problems"
        };
        // Under anything else asked at start (the drafts question), so it is seen after it.
        self.dialogs.insert(0, Box::new(Reader::new(title, lines)));
    }

    /// Loads the key bindings: `user_dir`'s `keys.toml` (if given), then the workspace's.
    pub fn init_keys(&mut self, user_dir: Option<&std::path::Path>) {
        let mut dirs: Vec<PathBuf> = user_dir
            .map(std::path::Path::to_path_buf)
            .into_iter()
            .collect();
        dirs.push(self.model.root.clone());
        let (keymap, problems) = super::keys::file::load_keymap(&dirs);
        self.model.keymap = keymap;
        self.model
            .problems
            .extend(problems.into_iter().map(LoadProblem::from));
        self.dialogs.retain(|d| !is_problems(d.as_ref()));
        self.report_problems();
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        let mut out = Outbox::default();
        match msg {
            Msg::Key(key) => self.on_key(&key, &mut out),
            Msg::Paste(text) => self.on_paste(&text),
            Msg::Mouse(m) => self.on_mouse(m, &mut out),
            Msg::Resize(w, h) => self.size = (w, h),
            Msg::Worker(ev) => self.on_worker(ev, &mut out),
            Msg::Tick => {
                self.model.frame = self.model.frame.wrapping_add(1);
                let mut cx = Cx {
                    model: &mut self.model,
                    out: &mut out,
                };
                self.browser.tick(&mut cx);
                self.scan_jobs(&mut out);
            }
            Msg::ExternalEditDone(result) => {
                let mut cx = Cx {
                    model: &mut self.model,
                    out: &mut out,
                };
                self.request.external_edit_done(result, &mut cx);
            }
            Msg::Intent(i) => out.intents.push(i),
            Msg::Background(b) => {
                use super::screens::collections::Msg as C;
                out.intents.push(Intent::Collections(match b {
                    super::msg::Background::ImportProgress(p) => C::ImportProgress(p),
                    super::msg::Background::ImportDone(o) => C::ImportDone(o),
                }));
            }
        }
        self.settle(&mut out);
        out.commands
    }

    /// Carries out the intents (which may bring more), then lets each dialog look at the
    /// model as it now is.
    fn settle(&mut self, out: &mut Outbox) {
        // Bounded: an intent that keeps making intents is a bug, not a reason to hang.
        for _ in 0..1000 {
            if out.intents.is_empty() {
                break;
            }
            let batch = std::mem::take(&mut out.intents);
            for i in batch {
                self.apply_intent(i, out);
            }
        }
        let model = &self.model;
        self.dialogs.retain_mut(|d| d.sync(model));
    }

    /// While the jobs screen is up, its folder is read every few seconds, so jobs started by
    /// `fhirside export` in another terminal appear.
    fn scan_jobs(&mut self, out: &mut Outbox) {
        let due = self.screen == Some(Screen::Jobs)
            && self
                .jobs
                .scanned_at
                .is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(3));
        if !due {
            return;
        }
        self.jobs.scanned_at = Some(std::time::Instant::now());
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        cx.disk(super::msg::DiskOp::ScanJobs, |r| match r {
            Ok(super::msg::DiskValue::Jobs(jobs)) => {
                Intent::Jobs(super::screens::jobs::Msg::Scanned(jobs))
            }
            _ => Intent::None,
        });
    }

    /// True while anything is animating, so the loop knows to tick.
    pub fn busy(&self) -> bool {
        self.model
            .in_flight
            .values()
            .any(|f| !matches!(f.purpose, super::model::Purpose::Capabilities(_)))
            || !self.model.sign_ins.is_empty()
            || self.dialogs.iter().any(|d| d.busy())
            || self.browser.busy()
            || self.chart.busy()
            || self.response.busy()
    }

    /// Whether a clock must tick for jobs or downloads, and how often the token countdown
    /// needs redrawing.
    pub fn redraw_every(&self) -> Option<std::time::Duration> {
        // Relative times ("last poll 8s ago") are redrawn each second while they are on screen;
        // nothing wakes the CPU for jobs that are not shown (their polls redraw anyway).
        if self.screen == Some(Screen::Jobs) {
            Some(std::time::Duration::from_secs(1))
        } else {
            self.model.token_redraw_every()
        }
    }

    pub fn has_unsaved(&self) -> bool {
        self.request.has_unsaved()
    }

    /// The keymap context of what has the focus now (help, hints and dispatch agree on it).
    pub fn focus_ctx(&self) -> Ctx {
        if let Some(d) = self.dialogs.last() {
            return d.ctx();
        }
        match self.screen {
            Some(Screen::Browser) => self.browser.ctx(),
            Some(Screen::Chart) => self.chart.ctx(),
            Some(Screen::History) => self.history.as_ref().map_or(Ctx::History, History::ctx),
            Some(Screen::Jobs) => self.jobs.ctx(),
            None => match self.focus {
                Pane::Environments => Ctx::Environments,
                Pane::Collections => Ctx::Collections,
                Pane::Request => self.request.ctx(self.model.open.as_ref()),
                Pane::Response => Ctx::Response,
            },
        }
    }

    fn on_key(&mut self, key: &KeyEvent, out: &mut Outbox) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        let name = key_name(key);
        // Ctrl-C always leaves, whatever has the focus.
        if name == "ctrl-c" {
            self.quit = true;
            return;
        }
        if self.glued_escape(key, out) {
            return;
        }
        let keymap = &self.model.keymap;
        if let Some(top) = self.dialogs.last_mut() {
            let action = keymap.lookup(top.ctx(), key);
            let mut cx = Cx {
                model: &mut self.model,
                out,
            };
            if top.on_key(key, action, &mut cx) == Handled::Close {
                self.dialogs.pop();
            }
            return;
        }
        if let Some(screen) = self.screen {
            self.on_screen_key(screen, key, out);
            return;
        }
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        if self.focus == Pane::Request && self.request.on_text_key(key, &mut cx) {
            return;
        }
        if self.focus == Pane::Response && self.response.depth_key(&name, &mut cx) {
            return;
        }
        let ctx = self.focus_ctx();
        if let Some(action) = self.model.keymap.lookup(ctx, key) {
            self.apply(action, out);
        }
    }

    /// Whether keys are text where the focus is (a field has the cursor).
    fn focus_takes_text(&self) -> bool {
        if let Some(d) = self.dialogs.last() {
            return d.takes_text();
        }
        match self.screen {
            Some(Screen::Browser) => self.browser.lookup.is_some(),
            Some(Screen::Chart) => false,
            Some(Screen::History) => self.history.as_ref().is_some_and(|h| h.editing_filter),
            Some(Screen::Jobs) => self
                .jobs
                .form
                .as_ref()
                .is_some_and(|f| f.is_text_row(f.row)),
            None => {
                self.focus == Pane::Request
                    && self
                        .request
                        .open(self.model.open.as_ref())
                        .is_some_and(|e| e.editing())
            }
        }
    }

    /// An `Esc` that arrived glued to the next key (a fast typist, one SSH packet) reads as
    /// `Alt`+key: when that means nothing where the focus is, it is taken as `Esc`, then the
    /// key — as terminal editors do with their escape timeout.
    fn glued_escape(&mut self, key: &KeyEvent, out: &mut Outbox) -> bool {
        use crossterm::event::{KeyCode, KeyModifiers};
        // An upper-case letter after Esc arrives as Alt+Shift+letter.
        let rest = key.modifiers.difference(KeyModifiers::ALT);
        if !key.modifiers.contains(KeyModifiers::ALT)
            || !(rest.is_empty() || rest == KeyModifiers::SHIFT)
            || !matches!(key.code, KeyCode::Char(_))
        {
            return false;
        }
        let keymap = &self.model.keymap;
        let ctx = self.focus_ctx();
        let means_something = keymap.lookup(ctx, key).is_some()
            || (self.focus_takes_text() && keymap.lookup(Ctx::Text, key).is_some());
        if means_something {
            return false;
        }
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        let plain = KeyEvent::new(key.code, rest);
        self.on_key(&esc, out);
        self.settle(out);
        self.on_key(&plain, out);
        true
    }

    /// A key on a full screen; keys it does not take may be global ones that make sense there.
    fn on_screen_key(&mut self, screen: Screen, key: &KeyEvent, out: &mut Outbox) {
        let keymap = &self.model.keymap;
        let handled = match screen {
            Screen::Browser => {
                let action = keymap.lookup(self.browser.ctx(), key);
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.browser.on_key(key, action, &mut cx)
            }
            Screen::Chart => {
                let action = keymap.lookup(Ctx::Chart, key);
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                // Going back from the chart is going back to the patient.
                match self.chart.on_key(key, action, &mut cx) {
                    Handled::Close => {
                        self.screen = Some(Screen::Browser);
                        Handled::Yes
                    }
                    h => h,
                }
            }
            Screen::History => match self.history.as_mut() {
                Some(h) => {
                    let ctx = h.ctx();
                    let action = keymap
                        .lookup(ctx, key)
                        .or_else(|| ctx.falls_back_to().and_then(|c| keymap.lookup(c, key)));
                    let mut cx = Cx {
                        model: &mut self.model,
                        out,
                    };
                    h.on_key(key, action, &mut cx)
                }
                None => Handled::Close,
            },
            Screen::Jobs => {
                let action = keymap.lookup(self.jobs.ctx(), key);
                let kept: Vec<&super::screens::response::ResponseView> =
                    self.response.responses.values().collect();
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.jobs.on_key(key, action, &mut cx, |cx| {
                    super::screens::jobs::server_types(cx, kept.into_iter())
                })
            }
        };
        match handled {
            Handled::Close => self.screen = None,
            Handled::Yes => {}
            Handled::No => {
                // Over a screen only the global keys that open something else reach the keymap.
                if let Some(
                    a @ (Action::Help
                    | Action::Palette
                    | Action::TokenViewer
                    | Action::Jobs
                    | Action::History
                    | Action::Lookup
                    | Action::Capabilities
                    | Action::Quit),
                ) = self.model.keymap.lookup(Ctx::Global, key)
                {
                    self.apply(a, out);
                }
            }
        }
    }

    fn on_paste(&mut self, text: &str) {
        if let Some(d) = self.dialogs.last_mut() {
            d.on_paste(text);
            return;
        }
        match self.screen {
            Some(Screen::Browser) => self.browser.on_paste(text),
            Some(Screen::Jobs) => self.jobs.on_paste(text),
            Some(Screen::History | Screen::Chart) => {}
            None if self.focus == Pane::Request => {
                let out = &mut Outbox::default();
                let cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.request.on_paste(text, &cx);
            }
            None => {}
        }
    }

    fn on_mouse(&mut self, m: MouseEvent, out: &mut Outbox) {
        // Dialogs and full screens keep the keyboard's focus; clicks elsewhere do nothing there.
        let modal = !self.dialogs.is_empty() || self.screen.is_some();
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) if !modal => {
                let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
                let layout = super::view::main_layout(area, self);
                if let Some(pane) = layout.hit(m.column, m.row) {
                    self.focus = pane;
                }
            }
            // The wheel scrolls what has the focus (or the open dialog's list).
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let action = if m.kind == MouseEventKind::ScrollDown {
                    Action::Down
                } else {
                    Action::Up
                };
                for _ in 0..3 {
                    self.act_on_focus(action, out);
                }
            }
            _ => {}
        }
    }

    /// An action for whatever has the focus (the mouse wheel's way in).
    fn act_on_focus(&mut self, action: Action, out: &mut Outbox) {
        let key = KeyEvent::from(crossterm::event::KeyCode::Null);
        if let Some(top) = self.dialogs.last_mut() {
            let mut cx = Cx {
                model: &mut self.model,
                out,
            };
            top.on_key(&key, Some(action), &mut cx);
            return;
        }
        match self.screen {
            Some(Screen::Browser) => {
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.browser.on_key(&key, Some(action), &mut cx);
            }
            Some(Screen::Chart) => {
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.chart.on_key(&key, Some(action), &mut cx);
            }
            Some(Screen::History) => {
                if let Some(h) = self.history.as_mut() {
                    let mut cx = Cx {
                        model: &mut self.model,
                        out,
                    };
                    h.on_key(&key, Some(action), &mut cx);
                }
            }
            Some(Screen::Jobs) => {
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.jobs.on_key(&key, Some(action), &mut cx, |_| None);
            }
            None => self.apply(action, out),
        }
    }

    /// The environment an environment action is about: the selected one in the Environments
    /// pane, else the active one.
    fn env_for_action(&self) -> Option<String> {
        if self.focus == Pane::Environments
            && self.screen.is_none()
            && let Some(name) = self.envs.selected_name(&self.model.ws)
        {
            return Some(name);
        }
        self.model.active_env.clone()
    }

    /// An action on the main screen: global ones here, the rest for the focused pane.
    pub fn apply(&mut self, action: Action, out: &mut Outbox) {
        let env = self.env_for_action();
        let open = self.model.open.clone();
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        match action {
            Action::Send => self.request.send(false, &mut cx),
            Action::Save => self.request.save_open(&mut cx),
            Action::Cancel => self.cancel(out),
            Action::FocusNext => self.focus = Pane::ALL[(self.focus.index() + 1) % 4],
            Action::FocusPrev => self.focus = Pane::ALL[(self.focus.index() + 3) % 4],
            Action::FocusEnvironments => self.focus = Pane::Environments,
            Action::FocusCollections => self.focus = Pane::Collections,
            Action::FocusRequest => self.focus = Pane::Request,
            Action::FocusResponse => self.focus = Pane::Response,
            Action::Palette => {
                let p = Palette::new(self.style.names(), self.style.theme.name.clone());
                self.dialogs.push(Box::new(p));
            }
            Action::Help => {
                let ctx = self.focus_ctx();
                self.dialogs.push(Box::new(Help::new(ctx)));
            }
            Action::Quit => {
                let dirty = self.request.dirty_count();
                if dirty == 0 {
                    self.quit = true;
                } else {
                    cx.open(Confirm::new(
                        format!(
                            "{dirty} request{} unsaved edits. Quit and discard them?",
                            if dirty == 1 { " has" } else { "s have" }
                        ),
                        Intent::Quit,
                    ));
                }
            }
            Action::ForceQuit => self.quit = true,
            Action::SignIn => {
                if let Some(env) = env {
                    self.sign_in(env, out);
                }
            }
            Action::SignInSettings => {
                if let Some(env) = env {
                    let config = self
                        .model
                        .ws
                        .environment(&env)
                        .and_then(|e| e.auth.clone())
                        .unwrap_or_default();
                    self.dialogs
                        .push(Box::new(SignInSettings::new(env, config)));
                }
            }
            Action::Lookup => {
                if self.browser.open_lookup("", &mut cx) {
                    self.screen = Some(Screen::Browser);
                }
                self.ensure_capabilities(out);
            }
            Action::Capabilities => {
                self.dialogs.push(Box::new(CapabilitiesDialog::default()));
                self.ensure_capabilities(out);
            }
            Action::Jobs => {
                self.screen = Some(Screen::Jobs);
                self.jobs.scanned_at = None;
                self.scan_jobs(out);
            }
            Action::History => self.open_history(None, out),
            Action::RequestHistory => match open {
                Some(p) => self.open_history(Some(p.0.join(" / ")), out),
                None => cx.info("Open a request first; its earlier answers are listed with p."),
            },
            Action::OpenInBrowser => self.open_response_in_browser(out),
            Action::IfMatch => {
                let etag = self.response.etag(open.as_ref());
                self.request.add_if_match(etag, &mut cx);
            }
            Action::TokenViewer => self.open_token_viewer(env, out),
            _ => self.pane_action(action, out),
        }
    }

    fn pane_action(&mut self, action: Action, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        match self.focus {
            Pane::Environments => {
                self.envs.on_action(action, &mut cx);
            }
            Pane::Collections => {
                let request = &self.request;
                self.tree
                    .on_action(action, &mut cx, &|p| request.draft_of(p));
            }
            Pane::Request => {
                self.request.on_action(action, &mut cx);
            }
            Pane::Response => {
                self.response.on_action(action, &mut cx);
            }
        }
    }

    /// Esc on the main screen: cancels the open request's exchange, else goes back from a
    /// filter or record in the Response pane, else cancels every request in flight.
    fn cancel(&mut self, out: &mut Outbox) {
        use super::model::Purpose;
        let open = self.model.open.clone();
        let mut ids: Vec<_> = self
            .model
            .in_flight
            .iter()
            .filter(|(_, f)| {
                open.as_ref()
                    .is_some_and(|p| f.purpose == Purpose::Saved(p.clone()))
            })
            .map(|(id, _)| *id)
            .collect();
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        if ids.is_empty() && self.focus == Pane::Response && self.response.back(&mut cx) {
            return;
        }
        if ids.is_empty() {
            ids = cx
                .model
                .in_flight
                .iter()
                .filter(|(_, f)| matches!(f.purpose, Purpose::Saved(_)))
                .map(|(id, _)| *id)
                .collect();
        }
        if ids.is_empty() {
            return;
        }
        cx.info("Request cancelled.");
        for id in ids {
            cx.model.in_flight.remove(&id);
            cx.model.receiving.remove(&id);
            cx.worker(crate::worker::WorkerCommand::Cancel { id });
        }
    }

    /// `T`: the token the next request to the active environment's FHIR service will send,
    /// decoded, and where it came from.
    fn open_token_viewer(&mut self, env: Option<String>, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        let Some(env) = env else {
            cx.info("No environment is active.");
            return;
        };
        // The same rule the worker sends by (`worker::auth::current`): the user's own token
        // (captured or hand-set) while it lasts, else the signed-in one.
        let now = std::time::SystemTime::now();
        let cached = cx.model.valid_token(&env).cloned();
        let plan = cx.model.ws.environment(&env).and_then(|e| {
            let base = e.get("fhirurl").unwrap_or("").trim_end_matches('/');
            let probe = format!("{base}/metadata");
            let spec = crate::workspace::RequestSpec::new("token", "GET", &probe);
            crate::worker::auth::plan_for(e, &cx.model.session_vars, &spec, &probe)
                .ok()
                .flatten()
        });
        let (expect, next) = match &plan {
            Some(p) => (
                crate::worker::auth::expectations(&p.auth),
                crate::worker::auth::current::next_token(
                    p.given.as_ref(),
                    &[],
                    cached.as_ref(),
                    p.auth.kind,
                    now,
                ),
            ),
            // No sign-in configured: only a token captured into {{bearerToken}} can be shown.
            None => (
                Default::default(),
                cx.model
                    .session_vars
                    .iter()
                    .rev()
                    .find(|(k, v)| k == "bearerToken" && !v.trim().is_empty())
                    .map(|(_, v)| {
                        (
                            v.clone(),
                            crate::worker::auth::current::TokenOrigin::Captured,
                        )
                    }),
            ),
        };
        let Some((token, origin)) = next else {
            cx.info(format!(
                "No token for '{env}' yet: s in Environments signs in."
            ));
            return;
        };
        let source = format!("the next request sends it; from {}", origin.label());
        let mut notes = Vec::new();
        if let Some(sent) = crate::worker::auth::current::last_sent(&env)
            && sent.token != token
        {
            notes.push(format!(
                "The last request sent a different token, from {}; the next one sends this.",
                sent.origin.label()
            ));
        }
        cx.open(TokenViewer::new(env, source, token, &expect, notes));
    }

    /// `H` (or `p` with `saved`): the history screen, refreshed.
    fn open_history(&mut self, saved: Option<String>, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        if !cx.model.history.enabled {
            let why = cx
                .model
                .history
                .problem
                .clone()
                .unwrap_or_else(|| "History is off in this session.".into());
            cx.error(why);
            return;
        }
        let keep = self.history.as_ref().is_some_and(|h| h.saved == saved);
        if !keep {
            self.history = Some(History::new(saved));
        }
        self.screen = Some(Screen::History);
        if let Some(h) = self.history.as_mut() {
            h.refresh(&mut cx);
        }
    }

    /// `o` in the Response pane: the open request's answer as a browser page, without a refetch.
    fn open_response_in_browser(&mut self, out: &mut Outbox) {
        use super::screens::response::Outcome;
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        let Some(view) = self.response.view(cx.model.open.as_ref()) else {
            cx.info("Send the request first; its answer opens in the browser.");
            return;
        };
        let Outcome::Received { response, body } = &view.outcome else {
            cx.info("The request failed; there is nothing to browse.");
            return;
        };
        let loaded = super::screens::browser::understand_parts(response, body);
        self.browser.show(response.final_url.clone(), loaded);
        self.screen = Some(Screen::Browser);
    }
}

/// Whether `d` is the problems report (a `Reader` titled so).
fn is_problems(d: &dyn Dialog) -> bool {
    d.as_any()
        .downcast_ref::<Reader>()
        .is_some_and(|r| r.title == "Workspace problems" || r.title == "Key binding conflicts")
}
