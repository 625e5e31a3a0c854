//! A test rig: the real app and the real runtime (the one dispatcher), with a headless host and,
//! unless a worker is given, worker commands kept for the test to read. Used by the screens'
//! unit tests and the integration tests, so they drive the same path as the program.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::App;
use super::msg::Command;
use super::msg::Msg;
use super::runtime::{Headless, Runtime};
use super::screens::Dialog;
use crate::worker::{HttpResponse, Received, RequestId, WorkerCommand, WorkerEvent, WorkerHandle};
use crate::workspace::{NodePath, Store};

pub struct Rig {
    pub app: App,
    pub runtime: Runtime,
    pub host: Headless,
    /// The history actor's answers, when the rig has one (see [`Rig::with_history`]).
    history_events: Option<tokio::sync::mpsc::UnboundedReceiver<WorkerEvent>>,
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
            history_events: None,
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

    /// Records exchanges in the workspace's history file through the real history actor, whose
    /// answers are fed back after every message (so history calls are answered at once).
    pub fn with_history(mut self) -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let file = self.app.model.root.join(crate::history::HISTORY_FILE);
        match crate::worker::history::HistoryHandle::open(&file, Default::default(), tx) {
            Ok(h) => self.runtime.history = Some(h),
            Err(e) => panic!("history at {}: {e}", file.display()),
        }
        self.app.model.history.enabled = true;
        self.history_events = Some(rx);
        self
    }

    /// Records an exchange as the worker would once it is answered.
    pub fn record(&mut self, x: crate::history::Exchange) {
        if let Some(h) = &self.runtime.history {
            h.record(x, Vec::new());
        }
        self.pump_history();
    }

    /// Feeds the history actor's answers back until it has nothing more to say.
    fn pump_history(&mut self) {
        let Some(mut rx) = self.history_events.take() else {
            return;
        };
        // Bounded: each answer may ask again (a list after a record), but not forever.
        for _ in 0..100 {
            if let Some(h) = &self.runtime.history {
                h.flush(std::time::Duration::from_secs(10));
            }
            let mut answered = false;
            while let Ok(ev) = rx.try_recv() {
                answered = true;
                self.runtime
                    .update(&mut self.app, Msg::Worker(ev), &mut self.host);
            }
            if !answered {
                break;
            }
        }
        self.history_events = Some(rx);
    }

    /// One message through the app and the runtime; the worker commands it gave (when the rig
    /// has no worker).
    pub fn msg(&mut self, msg: Msg) -> Vec<WorkerCommand> {
        self.runtime.update(&mut self.app, msg, &mut self.host);
        self.pump_history();
        std::mem::take(&mut self.runtime.unsent)
    }

    /// Carries out commands the app returned outside `update` (session restore, resumed
    /// jobs, the session written); the worker commands among them and their results.
    pub fn dispatch(&mut self, commands: Vec<Command>) -> Vec<WorkerCommand> {
        self.runtime
            .dispatch(&mut self.app, commands, &mut self.host);
        self.pump_history();
        std::mem::take(&mut self.runtime.unsent)
    }

    /// Writes the session file now, as the event loop does when the place changed.
    pub fn save_session(&mut self) {
        let cmds: Vec<Command> = self.app.session_to_save().into_iter().collect();
        self.dispatch(cmds);
    }

    /// `Ctrl-R` on the open request; the id of the one send it gave (panics otherwise).
    pub fn send(&mut self) -> RequestId {
        let cmds = self.key("ctrl-r");
        match cmds.as_slice() {
            [WorkerCommand::Send { id, .. }] => *id,
            other => panic!("expected one send, got {other:?}"),
        }
    }

    /// The worker's answer to request `id`.
    pub fn answer(&mut self, id: RequestId, received: Box<Received>) -> Vec<WorkerCommand> {
        self.worker_event(WorkerEvent::Response {
            id,
            result: Ok(received),
        })
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

    /// `env` signs in with client credentials (tenant `t`, client `c`, secret `s`) for the FHIR
    /// service at `fhirurl`.
    pub fn set_client_credentials(&mut self, env: &str, fhirurl: &str) {
        if let Some(e) = self.app.model.ws.environment_mut(env) {
            e.set("tenantid", "t");
            e.set("clientid", "c");
            e.set("clientsecret", "s");
            e.set("fhirurl", fhirurl);
        }
    }

    /// `env` at `fhirurl` without a sign-in, its `{{bearerToken}}` set by hand this session.
    pub fn set_token_by_hand(&mut self, env: &str, fhirurl: &str) {
        self.set_fhirurl(env, fhirurl);
        if let Some(e) = self.app.model.ws.environment_mut(env) {
            e.auth = None;
        }
        self.app.model.set_session_var("bearerToken", "t".into());
    }

    /// Opens a saved request as the palette does (the Request pane gets the focus).
    pub fn open(&mut self, path: &NodePath) {
        self.msg(Msg::Intent(super::screens::Intent::OpenRequest(
            path.clone(),
        )));
    }

    /// The open request's editor.
    pub fn editor(&self) -> Option<&super::screens::request::RequestEditor> {
        self.app.request.open(self.app.model.open.as_ref())
    }

    pub fn editor_mut(&mut self) -> Option<&mut super::screens::request::RequestEditor> {
        let open = self.app.model.open.clone()?;
        self.app.request.editors.get_mut(&open)
    }

    /// The open request's response.
    pub fn response(&self) -> Option<&super::screens::response::ResponseView> {
        self.app.response.view(self.app.model.open.as_ref())
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

/// An answer as the worker hands it over: `status`, a `Content-Type`, `body` prepared for view
/// (and read for the browser), from `http://fhir.test/metadata` in 42 ms.
pub fn received(status: u16, content_type: &str, body: &str) -> Box<Received> {
    let response = HttpResponse {
        spool: None,
        status,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        headers: vec![("content-type".into(), content_type.into())],
        body: body.as_bytes().to_vec().into(),
        elapsed: std::time::Duration::from_millis(42),
        final_url: "http://fhir.test/metadata".into(),
    };
    let body = crate::worker::body::prepare(&response);
    let search = crate::fhir::handling::SearchNotes::of(&response.body, &response.final_url);
    // As a browser request gets it (`read_fhir`); other screens never look.
    let fhir = Some(Box::new(crate::fhir::page::FhirPage::read(
        &response.body,
        &response.final_url,
        chrono::Local::now().date_naive(),
    )));
    Box::new(Received {
        response,
        body,
        auth_note: None,
        search,
        fhir,
    })
}

/// `screen` with every digit as `#`: ages, times and durations move on with the clock.
pub fn mask_digits(screen: &str) -> String {
    screen
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// A node path from its parts.
pub fn path(parts: &[&str]) -> NodePath {
    NodePath(parts.iter().map(|s| s.to_string()).collect())
}
