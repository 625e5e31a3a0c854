//! A test rig: the real app and the real runtime (the one dispatcher), with a headless host and,
//! unless a worker is given, worker commands kept for the test to read. Used by the screens'
//! unit tests and the integration tests, so they drive the same path as the program.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::App;
use super::msg::Msg;
use super::runtime::{Headless, Runtime};
use super::screens::Dialog;
use crate::worker::{WorkerCommand, WorkerEvent, WorkerHandle};
use crate::workspace::{NodePath, Store};

pub struct Rig {
    pub app: App,
    pub runtime: Runtime,
    pub host: Headless,
}

/// A key press by the name the key tables use (`j`, `G`, `ctrl-r`, `enter`, `esc`, `f5`…).
pub fn key_event(name: &str) -> KeyEvent {
    let (mods, base) = match name.strip_prefix("ctrl-") {
        Some(rest) if !rest.is_empty() => (KeyModifiers::CONTROL, rest),
        _ => match name.strip_prefix("alt-") {
            Some(rest) if !rest.is_empty() => (KeyModifiers::ALT, rest),
            _ => (KeyModifiers::NONE, name),
        },
    };
    let code = match base {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "backspace" => KeyCode::Backspace,
        "delete" => KeyCode::Delete,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
            KeyCode::F(f[1..].parse().unwrap_or(1))
        }
        s => KeyCode::Char(s.chars().next().unwrap_or(' ')),
    };
    let shifted = matches!(code, KeyCode::Char(c) if c.is_uppercase());
    let mods = if shifted {
        mods | KeyModifiers::SHIFT
    } else {
        mods
    };
    KeyEvent::new(code, mods)
}

impl Rig {
    /// The app over a store (no worker: its commands are kept in `runtime.unsent`).
    pub fn new(
        store: Store,
        ws: crate::workspace::Workspace,
        problems: Vec<crate::workspace::LoadProblem>,
        env: Option<String>,
    ) -> Self {
        let root = store.root().to_path_buf();
        let (job_store, jobs, job_problems) = crate::workspace::jobs::JobStore::load(&root);
        let mut problems = problems;
        problems.extend(job_problems);
        let app = App::new(root, ws, problems, env, jobs);
        Self {
            app,
            runtime: Runtime::new(store, Some(job_store)),
            host: Headless::default(),
        }
    }

    /// A new workspace in `dir`, seeded as on first start.
    pub fn seeded(dir: &std::path::Path) -> Self {
        let (mut store, mut ws, problems) = Store::load(dir);
        if let Err(e) = crate::workspace::seed::seed_if_new(&mut store, &mut ws) {
            panic!("seeding {}: {e}", dir.display());
        }
        Self::new(store, ws, problems, None)
    }

    /// Sends worker commands to a real worker from now on.
    pub fn with_worker(mut self, worker: WorkerHandle) -> Self {
        self.runtime.worker = Some(worker);
        self
    }

    /// One message through the app and the runtime; the worker commands it gave (when the rig
    /// has no worker).
    pub fn msg(&mut self, msg: Msg) -> Vec<WorkerCommand> {
        self.runtime.update(&mut self.app, msg, &mut self.host);
        std::mem::take(&mut self.runtime.unsent)
    }

    pub fn key(&mut self, name: &str) -> Vec<WorkerCommand> {
        self.msg(Msg::Key(key_event(name)))
    }

    /// Presses each key in turn; the worker commands of them all.
    pub fn keys(&mut self, names: &[&str]) -> Vec<WorkerCommand> {
        names.iter().flat_map(|k| self.key(k)).collect()
    }

    /// Types `text` character by character.
    pub fn typed(&mut self, text: &str) -> Vec<WorkerCommand> {
        text.chars()
            .flat_map(|c| self.key(&c.to_string()))
            .collect()
    }

    pub fn worker_event(&mut self, ev: WorkerEvent) -> Vec<WorkerCommand> {
        self.msg(Msg::Worker(ev))
    }

    /// The dialog on top, if it is a `D`.
    pub fn top<D: Dialog>(&self) -> Option<&D> {
        self.app
            .dialogs
            .last()
            .and_then(|d| d.as_any().downcast_ref::<D>())
    }

    /// Whether any dialog is open.
    pub fn dialog_open(&self) -> bool {
        !self.app.dialogs.is_empty()
    }

    /// The status line's text.
    pub fn status(&self) -> String {
        self.app
            .model
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }

    pub fn set_fhirurl(&mut self, env: &str, url: &str) {
        if let Some(e) = self.app.model.ws.environment_mut(env) {
            e.set("fhirurl", url);
        }
    }

    /// Opens a saved request as Enter in Collections would.
    pub fn open(&mut self, path: &NodePath) {
        self.msg(Msg::Intent(super::screens::Intent::OpenRequest(
            path.clone(),
        )));
    }

    /// Draws one frame of `width`×`height` and returns it as text.
    pub fn draw(&mut self, width: u16, height: u16) -> String {
        let mut term = match Terminal::new(TestBackend::new(width, height)) {
            Ok(t) => t,
            Err(never) => match never {},
        };
        self.app.size = (width, height);
        let app = &mut self.app;
        if let Err(never) = term.draw(|f| super::view::draw(f, app)) {
            match never {}
        }
        format!("{}", term.backend())
    }

    /// Draws on `term` (for snapshot tests that keep the backend).
    pub fn draw_on(&mut self, term: &mut Terminal<TestBackend>) {
        let app = &mut self.app;
        if let Err(never) = term.draw(|f| super::view::draw(f, app)) {
            match never {}
        }
    }
}

/// A node path from its parts.
pub fn path(parts: &[&str]) -> NodePath {
    NodePath(parts.iter().map(|s| s.to_string()).collect())
}
