//! Faults as the user sees them: the real App, the real worker and a server on 127.0.0.1, drawn
//! into a test terminal. The message is on screen and the UI stays usable (the next send goes
//! out).

mod fault_servers;

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fhirside::app::{App, Command, Msg};
use fhirside::tui::style::Theme;
use fhirside::worker::{self, WorkerCommand, WorkerEvent, WorkerHandle};
use fhirside::workspace::{NodePath, Store};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use fault_servers::{raw_server, self_signed_server, serve};

/// A workspace with one environment (`base` as its `fhirurl`, plus `extra` lines) and one
/// request `GET {{fhirurl}}/x`.
fn workspace(dir: &Path, base: &str, extra: &str) -> App {
    std::fs::create_dir_all(dir.join("environments")).unwrap();
    std::fs::create_dir_all(dir.join("collections/Faults")).unwrap();
    std::fs::write(
        dir.join("environments/local.toml"),
        format!("{extra}[[variables]]\nkey = \"fhirurl\"\nvalue = \"{base}\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("collections/Faults/Get.toml"),
        "name = \"Get\"\nmethod = \"GET\"\nurl = \"{{fhirurl}}/x\"\n",
    )
    .unwrap();
    let (store, ws, problems) = Store::load(dir);
    assert!(problems.is_empty(), "{problems:?}");
    let mut app = App::new(store, ws, problems, Some("local".into()));
    app.open_request(&NodePath(vec!["Faults".into(), "Get".into()]));
    app
}

struct Session {
    app: App,
    worker: WorkerHandle,
    events: mpsc::UnboundedReceiver<WorkerEvent>,
}

impl Session {
    fn new(app: App) -> Self {
        let (tx, events) = mpsc::unbounded_channel();
        Self {
            app,
            worker: worker::spawn(tx),
            events,
        }
    }

    /// Ctrl-R, then feeds the worker's events back until the request is answered.
    async fn send(&mut self) {
        let cmds = self.app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char('r'),
            KeyModifiers::CONTROL,
        )));
        let mut sent = 0;
        for c in cmds {
            if let Command::Worker(cmd) = c {
                if matches!(cmd, WorkerCommand::Send { .. }) {
                    sent += 1;
                }
                self.worker.send(cmd);
            }
        }
        assert_eq!(sent, 1, "Ctrl-R sends the open request");
        assert!(self.app.busy());
        while self.app.busy() {
            let ev = tokio::time::timeout(Duration::from_secs(20), self.events.recv())
                .await
                .expect("the worker answered")
                .expect("the worker runs");
            for c in self.app.update(Msg::Worker(ev)) {
                if let Command::Worker(cmd) = c {
                    self.worker.send(cmd);
                }
            }
        }
    }

    /// The screen as text, one string per row.
    fn screen(&mut self) -> Vec<String> {
        let mut term = Terminal::new(TestBackend::new(170, 32)).unwrap();
        let theme = Theme::dark();
        term.draw(|f| fhirside::ui::draw(f, &mut self.app, &theme))
            .unwrap();
        let buf = term.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect()
    }
}

fn shows(screen: &[String], text: &str) -> bool {
    screen.iter().any(|row| row.contains(text))
}

fn status_row(screen: &[String]) -> &str {
    screen.last().unwrap()
}

#[tokio::test]
async fn retry_after_is_said_on_screen_and_the_next_send_goes_out() {
    let addr = serve(Router::new().route(
        "/x",
        get(|| async {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "7")],
                "down for maintenance",
            )
        }),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(workspace(dir.path(), &format!("http://{addr}"), ""));
    s.send().await;
    let screen = s.screen();
    assert!(
        status_row(&screen).contains(
            "The server is unavailable (503 Service Unavailable) and asked to retry after 7 seconds"
        ),
        "{}",
        screen.join("\n")
    );
    assert!(shows(&screen, "503 Service Unavailable"));
    assert!(shows(&screen, "down for maintenance"));
    s.send().await;
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_on_screen() {
    let addr = self_signed_server(r#"{"resourceType":"Patient"}"#).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(workspace(
        dir.path(),
        &format!("https://127.0.0.1:{}", addr.port()),
        "",
    ));
    s.send().await;
    let screen = s.screen();
    let all = screen.join("\n");
    assert!(
        shows(&screen, "✗ Secure connection to 127.0.0.1 failed"),
        "{all}"
    );
    assert!(
        status_row(&screen).contains("Secure connection to 127.0.0.1 failed: the server's"),
        "{all}"
    );
    assert!(!all.contains("NOT checked"), "{all}");
    s.send().await;
}

#[tokio::test]
async fn the_insecure_opt_in_gets_through_and_stays_on_screen() {
    let addr = self_signed_server(r#"{"resourceType":"Patient","id":"p1"}"#).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(workspace(
        dir.path(),
        &format!("https://127.0.0.1:{}", addr.port()),
        "insecure = true\n",
    ));
    let before = s.screen();
    assert!(
        status_row(&before).contains("⚠ TLS certificates NOT checked"),
        "{}",
        before.join("\n")
    );
    assert!(shows(&before, "⚠ insecure TLS"), "{}", before.join("\n"));
    s.send().await;
    let screen = s.screen();
    let all = screen.join("\n");
    assert!(shows(&screen, "200 OK"), "{all}");
    assert!(shows(&screen, "\"id\": \"p1\""), "{all}");
    // Still there after the answer, and after other messages.
    assert!(
        status_row(&screen).contains("⚠ TLS certificates NOT checked"),
        "{all}"
    );
}

#[tokio::test]
async fn a_connection_dropped_mid_body_is_said_on_screen() {
    let mut raw =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
            .to_vec();
    raw.extend_from_slice(&[b'x'; 1200]);
    let addr = raw_server(raw).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(workspace(dir.path(), &format!("http://{addr}"), ""));
    s.send().await;
    let screen = s.screen();
    assert!(
        shows(
            &screen,
            "✗ The connection dropped while the body was arriving (1200 bytes received)"
        ),
        "{}",
        screen.join("\n")
    );
    s.send().await;
}
