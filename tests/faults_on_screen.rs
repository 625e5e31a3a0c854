//! Faults as the user sees them: the real App and runtime (the rig), the real worker and a
//! server on 127.0.0.1, drawn into a test terminal. The message is on screen and the UI stays
//! usable (the next send goes out). The rig keeps the worker commands the runtime gives so the
//! test can count them; it then hands each to the worker.

mod fault_servers;

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use fhirside::tui::testing::Rig;
use fhirside::worker::{self, WorkerCommand, WorkerEvent, WorkerHandle};
use fhirside::workspace::{NodePath, Store};
use tokio::sync::mpsc;

use fault_servers::{raw_server, self_signed_server, serve};

/// A workspace with one environment (`base` as its `fhirurl`, plus `extra` lines) and one
/// request `GET {{fhirurl}}/x`.
fn workspace(dir: &Path, base: &str, extra: &str) -> Rig {
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
    let mut rig = Rig::new(store, ws, problems, Some("local".into()));
    rig.open(&NodePath(vec!["Faults".into(), "Get".into()]));
    rig
}

struct Session {
    rig: Rig,
    worker: WorkerHandle,
    events: mpsc::UnboundedReceiver<WorkerEvent>,
}

impl Session {
    fn new(rig: Rig) -> Self {
        let (tx, events) = mpsc::unbounded_channel();
        Self {
            rig,
            worker: worker::spawn(tx),
            events,
        }
    }

    /// Hands the worker commands to the worker; how many were sends.
    fn forward(&self, cmds: Vec<WorkerCommand>) -> usize {
        let mut sent = 0;
        for cmd in cmds {
            if matches!(cmd, WorkerCommand::Send { .. }) {
                sent += 1;
            }
            self.worker.send(cmd);
        }
        sent
    }

    /// Ctrl-R, then feeds the worker's events back until the request is answered.
    async fn send(&mut self) {
        let cmds = self.rig.key("ctrl-r");
        assert_eq!(self.forward(cmds), 1, "Ctrl-R sends the open request");
        assert!(self.rig.app.busy());
        while self.rig.app.busy() {
            let ev = tokio::time::timeout(Duration::from_secs(20), self.events.recv())
                .await
                .expect("the worker answered")
                .expect("the worker runs");
            let cmds = self.rig.worker_event(ev);
            self.forward(cmds);
        }
    }

    /// The screen as text, one string per row.
    fn screen(&mut self) -> Vec<String> {
        let text = self.rig.draw(170, 32);
        text.lines().map(unquote).collect()
    }
}

/// A row of `TestBackend`'s text (`"…"` per line) without its quotes.
fn unquote(line: &str) -> String {
    let l = line.strip_prefix('"').unwrap_or(line);
    l.strip_suffix('"').unwrap_or(l).to_string()
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
