//! The Response pane driven without a terminal or a network, for benchmarks and the
//! measuring examples: a body goes through the same preparation, the same runtime and
//! `App::update`, and the same drawing (on ratatui's `TestBackend`) as in the real program.
//! Not used by the program itself.

use std::time::Duration;

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::App;
use super::msg::Msg;
use super::runtime::{Headless, Runtime};
use super::screens::Pane;
use super::screens::response::{Outcome, ResponseView};
use crate::worker::HttpResponse;
use crate::worker::body::{Finish, PreparedBody, prepare_for_view};
use crate::workspace::{NodePath, Store};

pub struct BodyBench {
    pub app: App,
    pub runtime: Runtime,
    host: Headless,
    pub path: NodePath,
    pub terminal: Terminal<TestBackend>,
    _dir: tempfile::TempDir,
}

impl BodyBench {
    /// A seeded workspace in a temporary folder with its first request open and the Response
    /// pane focused, drawn on a `width`×`height` test terminal.
    pub fn new(width: u16, height: u16) -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let (mut store, mut ws, problems) = Store::load(dir.path());
        crate::workspace::seed::seed_if_new(&mut store, &mut ws)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut app = App::new(store.root().to_path_buf(), ws, problems, None, Vec::new());
        let mut runtime = Runtime::new(store, None);
        let mut host = Headless::default();
        let path = NodePath(vec![
            "Azure FHIR service".into(),
            "Capability statement".into(),
        ]);
        let open = super::screens::Intent::OpenRequest(path.clone());
        runtime.update(&mut app, Msg::Intent(open), &mut host);
        app.focus = Pane::Response;
        app.dialogs.clear();
        let terminal = match Terminal::new(TestBackend::new(width, height)) {
            Ok(t) => t,
            Err(never) => match never {},
        };
        Ok(BodyBench {
            app,
            runtime,
            host,
            path,
            terminal,
            _dir: dir,
        })
    }

    /// A 200 answer with `body` arrives, prepared as the worker prepares it (a large JSON body
    /// as its top lines); returns the background step when there is one.
    pub fn receive(&mut self, content_type: &str, body: Bytes) -> Option<Finish> {
        let response = HttpResponse {
            spool: None,
            status: 200,
            reason: "OK".into(),
            version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), content_type.into())],
            body,
            elapsed: Duration::from_millis(1),
            final_url: "http://bench.test/".into(),
        };
        let mut prepared = prepare_for_view(&response);
        let finish = prepared.take_finish();
        let mut view = ResponseView::new(
            "GET http://bench.test/".into(),
            Outcome::Received {
                response: Box::new(response),
                body: Box::new(prepared),
            },
            Vec::new(),
        );
        view.request_id = Some(crate::worker::RequestId(1));
        self.app.response.responses.insert(self.path.clone(), view);
        finish
    }

    /// The whole body after its preview, as the worker's event delivers it.
    pub fn body_ready(&mut self, body: PreparedBody) {
        let msg = Msg::Worker(crate::worker::WorkerEvent::BodyReady {
            id: crate::worker::RequestId(1),
            body: Box::new(body),
        });
        self.runtime.update(&mut self.app, msg, &mut self.host);
    }

    /// Presses a key by its name in the key tables (`j`, `G`, `pagedown`, `enter`, …).
    pub fn key(&mut self, name: &str) {
        let code = match name {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "pagedown" => KeyCode::PageDown,
            "pageup" => KeyCode::PageUp,
            "down" => KeyCode::Down,
            "up" => KeyCode::Up,
            s => KeyCode::Char(s.chars().next().unwrap_or(' ')),
        };
        let shifted = matches!(code, KeyCode::Char(c) if c.is_ascii_uppercase());
        let mods = if shifted {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        let msg = Msg::Key(KeyEvent::new(code, mods));
        self.runtime.update(&mut self.app, msg, &mut self.host);
    }

    /// Types `text` key by key.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(&c.to_string());
        }
    }

    /// Draws one frame.
    pub fn draw(&mut self) {
        let app = &mut self.app;
        if let Err(never) = self.terminal.draw(|f| super::view::draw(f, app)) {
            match never {}
        }
    }

    /// The last frame as text.
    pub fn screen(&self) -> String {
        format!("{}", self.terminal.backend())
    }

    pub fn view(&self) -> Option<&ResponseView> {
        self.app.response.responses.get(&self.path)
    }
}
