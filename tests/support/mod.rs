//! Shared helpers for end-to-end tests: a pseudo-terminal driver for the `fhirside` binary
//! (keys in, a `vt100` screen out), a tiny local FHIR server, and workspace builders.
//!
//! Everything here is bounded: every wait has a timeout, the driven process is killed when its
//! `Pty` is dropped, and the stub server only listens on 127.0.0.1 and stops when dropped.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

/// How long `wait_for` waits unless told otherwise.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the screen is re-checked while waiting.
const POLL: Duration = Duration::from_millis(20);

/// Keys as the bytes a terminal sends for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    /// Ctrl plus a letter, e.g. `Ctrl('r')`.
    Ctrl(char),
    F(u8),
}

impl Key {
    pub(crate) fn bytes(self) -> Vec<u8> {
        match self {
            Key::Enter => b"\r".to_vec(),
            Key::Esc => b"\x1b".to_vec(),
            Key::Tab => b"\t".to_vec(),
            Key::BackTab => b"\x1b[Z".to_vec(),
            Key::Backspace => b"\x7f".to_vec(),
            Key::Up => b"\x1b[A".to_vec(),
            Key::Down => b"\x1b[B".to_vec(),
            Key::Right => b"\x1b[C".to_vec(),
            Key::Left => b"\x1b[D".to_vec(),
            Key::Ctrl(c) => {
                let c = c.to_ascii_lowercase();
                assert!(c.is_ascii_lowercase(), "Ctrl needs a letter, got {c:?}");
                vec![c as u8 - b'a' + 1]
            }
            Key::F(n) => match n {
                1 => b"\x1bOP".to_vec(),
                2 => b"\x1bOQ".to_vec(),
                3 => b"\x1bOR".to_vec(),
                4 => b"\x1bOS".to_vec(),
                5 => b"\x1b[15~".to_vec(),
                _ => panic!("F{n} is not mapped in the test driver"),
            },
        }
    }
}

/// The fhirside binary running in a pseudo-terminal, with a `vt100` model of its screen.
pub(crate) struct Pty {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    /// True once the reader thread saw EOF (every copy of the pty's slave side is closed).
    eof: bool,
    parser: vt100::Parser,
    exit: Option<ExitStatus>,
    reader: Option<JoinHandle<()>>,
    /// Every byte the child wrote, for checks the screen model cannot make (OSC 52 copies).
    pub raw: Vec<u8>,
}

impl Pty {
    /// Starts `fhirside ARGS` in a `cols`×`rows` terminal.
    pub(crate) fn spawn(args: &[&str], cols: u16, rows: u16) -> Pty {
        Self::spawn_with_env(args, cols, rows, &[])
    }

    /// Starts `fhirside --workspace DIR` in a `cols`×`rows` terminal.
    pub(crate) fn spawn_workspace(dir: &Path, cols: u16, rows: u16) -> Pty {
        let dir = dir.to_str().expect("utf-8 temp path");
        Self::spawn(&["--workspace", dir], cols, rows)
    }

    /// Like `spawn`, with extra environment variables for the child.
    pub(crate) fn spawn_with_env(args: &[&str], cols: u16, rows: u16, env: &[(&str, &str)]) -> Pty {
        let system = native_pty_system();
        let pair = system
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fhirside"));
        cmd.args(args);
        cmd.cwd(std::env::temp_dir());
        cmd.env("TERM", "xterm-256color");
        // Nothing may leave the machine: make sure no proxy from the environment is used.
        for var in [
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("NO_PROXY", "127.0.0.1,localhost");
        cmd.env("no_proxy", "127.0.0.1,localhost");
        // Never let a test open a real editor.
        cmd.env("EDITOR", "false");
        cmd.env("VISUAL", "false");
        // Never read the developer's own ~/.config/fhirside (keys.toml); a test may set its own.
        cmd.env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("fhirside-tests-no-config"),
        );
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn fhirside");
        // Close our copy of the slave so the reader sees EOF when the child exits.
        drop(pair.slave);
        let master = pair.master;
        let mut reader = master.try_clone_reader().expect("pty reader");
        let writer = master.take_writer().expect("pty writer");
        let (tx, rx) = channel();
        let reader = std::thread::Builder::new()
            .name("pty-reader".into())
            .spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if tx.send(buf[..n].to_vec()).is_err() {
                                break;
                            }
                        }
                    }
                }
            })
            .expect("spawn reader thread");
        Pty {
            child,
            master,
            writer,
            output: rx,
            eof: false,
            parser: vt100::Parser::new(rows, cols, 0),
            exit: None,
            reader: Some(reader),
            raw: Vec::new(),
        }
    }

    /// The child's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.process_id().expect("child has a pid")
    }

    /// Feeds everything the child wrote so far into the screen model. Answers cursor-position
    /// queries the way a terminal would, so nothing in the child waits on them.
    pub(crate) fn pump(&mut self) {
        loop {
            match self.output.try_recv() {
                Ok(bytes) => {
                    self.parser.process(&bytes);
                    self.raw.extend_from_slice(&bytes);
                    if contains(&bytes, b"\x1b[6n") {
                        let (row, col) = self.parser.screen().cursor_position();
                        let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                        let _ = self.writer.write_all(reply.as_bytes());
                        let _ = self.writer.flush();
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.eof = true;
                    break;
                }
            }
        }
    }

    /// Types `text` as is.
    pub(crate) fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes());
    }

    pub(crate) fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to pty");
        self.writer.flush().expect("flush pty");
    }

    /// Presses one key. A lone Esc is followed by a short pause so the terminal reader does not
    /// take it as the start of an escape sequence (Alt-key) together with the next key.
    pub(crate) fn send_key(&mut self, key: Key) {
        self.send_bytes(&key.bytes());
        if key == Key::Esc {
            std::thread::sleep(Duration::from_millis(80));
        }
    }

    pub(crate) fn enter(&mut self) {
        self.send_key(Key::Enter);
    }
    pub(crate) fn esc(&mut self) {
        self.send_key(Key::Esc);
    }
    pub(crate) fn tab(&mut self) {
        self.send_key(Key::Tab);
    }
    pub(crate) fn ctrl_r(&mut self) {
        self.send_key(Key::Ctrl('r'));
    }
    pub(crate) fn ctrl_c(&mut self) {
        self.send_key(Key::Ctrl('c'));
    }

    /// The screen as text, rows joined by newlines (trailing blanks trimmed).
    pub(crate) fn screen_text(&mut self) -> String {
        self.pump();
        self.parser.screen().contents()
    }

    /// The current screen model (call `pump` or a `wait_*` first for fresh output).
    pub(crate) fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// Waits until `pred` holds for the screen, up to `timeout`. The error shows the screen.
    pub(crate) fn wait_for_within(
        &mut self,
        timeout: Duration,
        what: &str,
        mut pred: impl FnMut(&vt100::Screen) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            self.pump();
            if pred(self.parser.screen()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "timed out after {timeout:?} waiting for {what}; exit status: {:?}; screen:\n{}",
                    self.try_exit(),
                    framed(&self.parser.screen().contents())
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// `wait_for_within` with the default timeout.
    pub(crate) fn wait_for(
        &mut self,
        pred: impl FnMut(&vt100::Screen) -> bool,
        timeout: Option<Duration>,
    ) -> Result<(), String> {
        self.wait_for_within(timeout.unwrap_or(DEFAULT_TIMEOUT), "a condition", pred)
    }

    /// Waits until `needle` is on screen.
    pub(crate) fn wait_for_text(&mut self, needle: &str) -> Result<(), String> {
        self.wait_for_text_within(needle, DEFAULT_TIMEOUT)
    }

    pub(crate) fn wait_for_text_within(
        &mut self,
        needle: &str,
        timeout: Duration,
    ) -> Result<(), String> {
        let what = format!("{needle:?} on screen");
        self.wait_for_within(timeout, &what, |s| s.contents().contains(needle))
    }

    /// Waits until `needle` is no longer on screen.
    pub(crate) fn wait_for_text_gone(&mut self, needle: &str) -> Result<(), String> {
        let what = format!("{needle:?} to leave the screen");
        self.wait_for_within(DEFAULT_TIMEOUT, &what, |s| !s.contents().contains(needle))
    }

    /// Row and column of the first cell where `needle` starts, searching cell by cell so wide
    /// characters and box drawing do not shift the columns.
    pub(crate) fn find(&self, needle: &str) -> Option<(u16, u16)> {
        find_in_screen(self.parser.screen(), needle)
    }

    fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exit = Some(status);
        }
        self.exit.clone()
    }

    /// Waits for the process to exit, then reads what it wrote last (so the screen model shows
    /// the restored terminal). `None` if it is still running after `timeout`.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            self.pump();
            if let Some(status) = self.try_exit() {
                // Drain the tail of the output: the reader ends once the pty is closed.
                let drain_until = Instant::now() + Duration::from_secs(2);
                while !self.eof && Instant::now() < drain_until {
                    self.pump();
                    std::thread::sleep(Duration::from_millis(5));
                }
                self.pump();
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Sends a signal (by name, e.g. "TERM") to the child with `kill(1)`.
    pub(crate) fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Changes the terminal size (the child gets SIGWINCH).
    pub(crate) fn resize(&mut self, cols: u16, rows: u16) {
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize pty");
        self.parser.screen_mut().set_size(rows, cols);
    }

    /// Whether the pty is in cooked mode (ICANON and ECHO on), as a shell expects it; `None`
    /// where the termios cannot be read.
    #[cfg(target_os = "linux")]
    pub(crate) fn cooked_mode(&self) -> Option<bool> {
        // Linux values of c_lflag bits (asm-generic/termbits.h).
        const ICANON: u32 = 0o000002;
        const ECHO: u32 = 0o000010;
        let t = self.master.get_termios()?;
        let bits = t.local_flags.bits();
        Some(bits & ICANON != 0 && bits & ECHO != 0)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn cooked_mode(&self) -> Option<bool> {
        None
    }

    /// Asserts what a well-behaved full-screen program leaves behind: cooked mode, the main
    /// screen, a visible cursor, no mouse reporting and no bracketed paste.
    pub(crate) fn assert_terminal_restored(&self) {
        if let Some(cooked) = self.cooked_mode() {
            assert!(cooked, "the terminal was left in raw mode");
        }
        let s = self.parser.screen();
        assert!(
            !s.alternate_screen(),
            "still on the alternate screen after exit"
        );
        assert!(!s.hide_cursor(), "cursor still hidden after exit");
        assert_eq!(
            s.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse reporting still on after exit"
        );
        assert!(!s.bracketed_paste(), "bracketed paste still on after exit");
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.try_exit().is_none() {
            let _ = self.child.kill();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // The reader thread ends on EOF; do not block the test on it if it has not.
        if let Some(handle) = self.reader.take()
            && handle.is_finished()
        {
            let _ = handle.join();
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn framed(contents: &str) -> String {
    let mut out = String::from("┌────\n");
    for line in contents.lines() {
        out.push('│');
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("└────");
    out
}

/// Row and column of the first cell where `needle` starts.
pub(crate) fn find_in_screen(screen: &vt100::Screen, needle: &str) -> Option<(u16, u16)> {
    let (rows, cols) = screen.size();
    let want: Vec<char> = needle.chars().collect();
    for row in 0..rows {
        // (column, char) for every cell that holds text; wide-char continuations are skipped.
        let mut cells: Vec<(u16, char)> = Vec::new();
        for col in 0..cols {
            let Some(cell) = screen.cell(row, col) else {
                continue;
            };
            if cell.is_wide_continuation() {
                continue;
            }
            let text = cell.contents();
            let c = text.chars().next().unwrap_or(' ');
            cells.push((col, c));
        }
        if cells.len() < want.len() {
            continue;
        }
        for start in 0..=cells.len() - want.len() {
            if cells[start..start + want.len()]
                .iter()
                .map(|(_, c)| *c)
                .eq(want.iter().copied())
            {
                return Some((row, cells[start].0));
            }
        }
    }
    None
}

// ----- the headless commands ---------------------------------------------------------------

/// `fhirside --workspace WS ARGS…` run to its end, colour off, the proxy bypassed for the
/// loopback; no standard input.
pub(crate) fn fhirside(ws: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fhirside"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env("NO_COLOR", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("fhirside runs")
}

/// The built-in demo service on 127.0.0.1 with `options`, and a workspace set up for it (its
/// `demo` environment) in a new temporary folder.
pub(crate) async fn demo_workspace(
    options: fhirside::demo::DemoOptions,
) -> (fhirside::demo::DemoServer, tempfile::TempDir) {
    let server = fhirside::demo::DemoServer::start(0, options)
        .await
        .expect("the demo starts");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut store, mut ws, _) = fhirside::workspace::Store::load(dir.path());
    fhirside::cli::demo::prepare_workspace(&mut store, &mut ws, &server)
        .expect("the workspace is set up");
    (server, dir)
}

/// Bytes a command printed, as text.
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts that `out` exited with `code` and that its stderr says each of `says` (the stderr
/// is in the message when not); the stderr, for more checks.
#[track_caller]
pub(crate) fn assert_exit(out: &std::process::Output, code: i32, says: &[&str]) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    for s in says {
        assert!(err.contains(s), "stderr lacks {s:?}: {err}");
    }
    err
}

// ----- workspaces --------------------------------------------------------------------------

/// Writes `environments/NAME.toml` with plain `key = value` variables.
pub(crate) fn write_env(root: &Path, name: &str, vars: &[(&str, &str)]) -> PathBuf {
    let dir = root.join("environments");
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::new();
    for (k, v) in vars {
        text.push_str(&format!(
            "[[variables]]\nkey = {}\nvalue = {}\n\n",
            toml_str(k),
            toml_str(v)
        ));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes `collections/COLLECTION/NAME.toml` for a request without body or headers.
pub(crate) fn write_request(
    root: &Path,
    collection: &str,
    name: &str,
    method: &str,
    url: &str,
) -> PathBuf {
    let dir = root.join("collections").join(collection);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "name = {}\nmethod = {}\nurl = {}\n",
            toml_str(name),
            toml_str(method),
            toml_str(url)
        ),
    )
    .unwrap();
    path
}

/// A temp workspace with environment `local` (fhirurl = `base_url`) and the collection
/// `Test` holding `Metadata` (GET {{fhirurl}}/metadata), `Patients` (GET {{fhirurl}}/Patient)
/// and `Slow` (GET {{fhirurl}}/slow), in that order (alphabetical: Metadata, Patients, Slow).
pub(crate) fn stub_workspace(base_url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_env(dir.path(), "local", &[("fhirurl", base_url)]);
    write_request(
        dir.path(),
        "Test",
        "Metadata",
        "GET",
        "{{fhirurl}}/metadata",
    );
    write_request(dir.path(), "Test", "Patients", "GET", "{{fhirurl}}/Patient");
    write_request(dir.path(), "Test", "Slow", "GET", "{{fhirurl}}/slow");
    dir
}

fn toml_str(s: &str) -> String {
    // serde_json's string escaping is valid TOML basic-string escaping for what tests write.
    serde_json::to_string(s).unwrap()
}

// ----- a local FHIR stub ---------------------------------------------------------------------

pub(crate) const CAPABILITY_STATEMENT: &str = r#"{"resourceType":"CapabilityStatement","status":"active","date":"2024-01-01","kind":"instance","fhirVersion":"4.0.1","format":["application/fhir+json"],"rest":[{"mode":"server","resource":[{"type":"Patient","interaction":[{"code":"read"},{"code":"search-type"}]}]}]}"#;

pub(crate) const PATIENT_BUNDLE: &str = r#"{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"http://127.0.0.1/Patient/p1","resource":{"resourceType":"Patient","id":"p1","active":true,"name":[{"family":"Kirk","given":["James"]}],"birthDate":"1960-01-01"}}]}"#;

/// A minimal FHIR server on 127.0.0.1 with its own thread and runtime:
/// `/metadata` (CapabilityStatement), `/Patient` (searchset Bundle), `/slow` (answers after
/// 30 s). It records the paths it was asked for, and stops when dropped.
pub(crate) struct FhirStub {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FhirStub {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request paths served (or started) so far, in order.
    pub(crate) fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits until the server has seen `path`.
    pub(crate) fn wait_for_hit(&self, path: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.hits().iter().any(|h| h == path) {
                return true;
            }
            std::thread::sleep(POLL);
        }
        false
    }
}

impl Drop for FhirStub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the stub server; see [`FhirStub`].
pub(crate) fn spawn_fhir_stub() -> FhirStub {
    use axum::Router;
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::get;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();

    fn fhir_json(body: &'static str) -> impl IntoResponse {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/fhir+json; charset=utf-8")],
            body,
        )
    }

    let record = |hits: &Arc<Mutex<Vec<String>>>, path: &str| {
        hits.lock().unwrap().push(path.to_string());
    };
    let (h1, h2, h3, h4) = (hits.clone(), hits.clone(), hits.clone(), hits.clone());
    let app = Router::new()
        .route(
            "/metadata",
            get(move || {
                record(&h1, "/metadata");
                async { fhir_json(CAPABILITY_STATEMENT) }
            }),
        )
        .route(
            "/Patient",
            get(move || {
                record(&h2, "/Patient");
                async { fhir_json(PATIENT_BUNDLE) }
            }),
        )
        .route(
            "/slow",
            get(move || {
                record(&h3, "/slow");
                async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    fhir_json(CAPABILITY_STATEMENT)
                }
            }),
        )
        .fallback(move |uri: axum::http::Uri| {
            record(&h4, uri.path());
            async {
                (
                    StatusCode::NOT_FOUND,
                    [(header::CONTENT_TYPE, "application/fhir+json")],
                    r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}"#,
                )
            }
        });

    let thread = std::thread::Builder::new()
        .name("fhir-stub".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("stub runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                tokio::select! {
                    r = axum::serve(listener, app) => { r.expect("stub server"); }
                    _ = rx => {}
                }
            });
            // Dropping the runtime drops any handler still sleeping in /slow.
            rt.shutdown_background();
        })
        .expect("spawn stub thread");

    FhirStub {
        addr,
        hits,
        shutdown: Some(tx),
        thread: Some(thread),
    }
}
