//! The root of the TUI: the shared model, the screens, the dialog stack. `update` takes one
//! message and returns the commands for the runtime; it routes input to the topmost thing
//! (a dialog, the open full screen, the focused pane), worker events to the screen that asked,
//! and carries out the intents screens hand back. Its `impl App` is spread over this folder (input,
//! actions, events, intents, session); no module outside it has one.

mod actions;
mod events;
mod input;
mod intents;
mod session;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use super::keys::Ctx;
use super::model::Model;
use super::msg::{Command, Msg};
use super::screens::browser::Browser;
use super::screens::chart::Chart;
use super::screens::collections::Collections;
use super::screens::dialogs::Dialog;
use super::screens::dialogs::reader::{Reader, Tone};
use super::screens::environments::Environments;
use super::screens::history::History;
use super::screens::jobs::Jobs;
use super::screens::request::Request;
use super::screens::response::Response;
use super::screens::{Cx, Intent, Outbox, Pane, Screen};
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
}

/// Whether `d` is the problems report (a `Reader` titled so).
fn is_problems(d: &dyn Dialog) -> bool {
    d.as_any()
        .downcast_ref::<Reader>()
        .is_some_and(|r| r.title == "Workspace problems" || r.title == "Key binding conflicts")
}
