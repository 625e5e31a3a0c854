//! Figures of the real `fhirside` binary on a large searchset, the way a user sees them: a
//! local server on 127.0.0.1 serves a generated Bundle (default: 109,000 small Observations,
//! about 46 MB), the binary runs in a pseudo-terminal (120×35) on a fresh workspace, and this
//! tool presses the keys and watches the screen (a vt100 model) and `/proc/PID/status`:
//!
//! * Ctrl-R → the first highlighted body lines on screen, and → the whole body ready;
//! * VmHWM / VmRSS once loaded, after `Z 2` (every entry folded), during and after `F types`,
//!   and the filter's time from Enter to its result on screen;
//! * the same for `F .entry | length`, which builds the whole tree, with the process's page
//!   faults while it runs (`/proc/PID/stat`) and VmRSS 1 s and 3 s after its result (the tree
//!   is freed once the result is on screen).
//!
//! Run: `cargo run --release --example real_binary -- target/release/fhirside [ENTRIES]`
//! (`benches/real_binary.sh` builds, runs this and compares with the jq CLIs).

// A measuring tool: what it prints is its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const COLS: u16 = 120;
const ROWS: u16 = 35;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(given) = args.first() else {
        eprintln!("usage: real_binary PATH/TO/fhirside [ENTRIES] [--save FILE]");
        std::process::exit(2);
    };
    // The pty spawns by PATH lookup unless the path is absolute.
    let binary = match std::fs::canonicalize(given) {
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(e) => {
            eprintln!("real_binary: {given}: {e}");
            std::process::exit(2);
        }
    };
    let entries: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(109_000);
    let body = bytes::Bytes::from(fhirside::view_body::generate_observations(entries));
    if let Some(i) = args.iter().position(|a| a == "--save")
        && let Some(path) = args.get(i + 1)
        && let Err(e) = std::fs::write(path, &body)
    {
        eprintln!("could not write {path}: {e}");
        std::process::exit(1);
    }
    if let Err(e) = run(&binary, body) {
        eprintln!("real_binary: {e}");
        std::process::exit(1);
    }
}

fn run(binary: &str, body: bytes::Bytes) -> Result<(), String> {
    let size = body.len();
    let addr = serve(body)?;
    let ws = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = ws.path();
    write(
        &root.join("environments/local.toml"),
        &format!("[[variables]]\nkey = \"fhirurl\"\nvalue = \"http://{addr}\"\n"),
    )?;
    write(
        &root.join("collections/Bench/Big.toml"),
        "name = \"Big\"\nmethod = \"GET\"\nurl = \"{{fhirurl}}/big\"\n",
    )?;
    let mut t = Term::spawn(binary, root)?;
    let mib = |kb: u64| kb as f64 / 1024.0;
    let times = |kb: u64| kb as f64 * 1024.0 / size as f64;
    let show = |what: &str, (hwm, rss): (u64, u64)| {
        println!(
            "{what}: VmHWM {:.1} MiB = {:.2}x the body, VmRSS {:.1} MiB = {:.2}x",
            mib(hwm),
            times(hwm),
            mib(rss),
            times(rss)
        );
    };
    println!(
        "body: {} bytes ({:.1} MiB), {} cores, load average {}",
        size,
        size as f64 / 1_048_576.0,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    t.wait("the main screen", Duration::from_secs(10), |s| {
        s.contents().contains("Collections")
    })?;
    show("started", t.memory()?);
    t.send(b"2");
    t.send(b"g");
    t.send(b"j");
    t.send(b"\r");
    t.wait("the request open", Duration::from_secs(10), |s| {
        s.contents().contains("{{fhirurl}}/big")
    })?;
    std::thread::sleep(Duration::from_millis(300));
    let key = Instant::now();
    t.send(b"\x12");
    t.wait(
        "the first highlighted lines",
        Duration::from_secs(60),
        |s| highlighted(s, "\"resourceType\": \"Bundle\""),
    )?;
    let first = key.elapsed();
    t.wait("the whole body", Duration::from_secs(120), |s| {
        whole_body(&s.contents())
    })?;
    let whole = key.elapsed();
    println!(
        "Ctrl-R to the first highlighted lines: {:.1} ms; to the whole body ready: {:.1} ms",
        first.as_secs_f64() * 1000.0,
        whole.as_secs_f64() * 1000.0
    );
    std::thread::sleep(Duration::from_millis(500));
    show("loaded (0.5 s after)", t.memory()?);

    t.send(b"4");
    t.send(b"Z");
    t.send(b"2");
    let fold = Instant::now();
    t.wait("every entry folded", Duration::from_secs(60), |s| {
        s.contents().contains("folded at depth 2")
    })?;
    println!(
        "Z 2 (fold every entry): {:.1} ms to the folded screen",
        fold.elapsed().as_secs_f64() * 1000.0
    );
    std::thread::sleep(Duration::from_millis(500));
    show("all folded (0.5 s after)", t.memory()?);

    t.send(b"F");
    t.wait("the filter prompt", Duration::from_secs(10), |s| {
        s.contents().contains("Filter with jq")
    })?;
    // The prompt may recall an earlier expression, selected: typing replaces it.
    t.send(b"types");
    std::thread::sleep(Duration::from_millis(100));
    let (hwm_before, _) = t.memory()?;
    let start = Instant::now();
    t.send(b"\r");
    let mut peak_rss = 0;
    t.wait_sampling(
        "the filter's result",
        Duration::from_secs(120),
        |s| s.contents().contains("1 result"),
        |pid| peak_rss = peak_rss.max(status_kb(pid).map_or(0, |m| m.1)),
    )?;
    let took = start.elapsed();
    let (hwm, rss) = t.memory()?;
    println!(
        "F types: {:.0} ms from Enter to the result on screen",
        took.as_secs_f64() * 1000.0
    );
    println!(
        "during the filter: VmRSS peak seen {:.1} MiB = {:.2}x the body; VmHWM {:.1} MiB = {:.2}x (before: {:.1} MiB)",
        mib(peak_rss),
        times(peak_rss),
        mib(hwm),
        times(hwm),
        mib(hwm_before)
    );
    show("at once after the result", (hwm, rss));
    std::thread::sleep(Duration::from_secs(2));
    show("2 s after the result (still open)", t.memory()?);
    t.send(b"\x1b");
    std::thread::sleep(Duration::from_secs(1));
    show("1 s after Esc", t.memory()?);

    // An expression that is not a shortcut: the whole body becomes one jq value.
    t.send(b"F");
    t.wait("the filter prompt", Duration::from_secs(10), |s| {
        s.contents().contains("Filter with jq")
    })?;
    t.send(b".entry | length");
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    let faults_before = minor_faults(t.pid());
    t.send(b"\r");
    let mut peak_rss = 0;
    t.wait_sampling(
        "the second filter's result",
        Duration::from_secs(120),
        |s| s.contents().contains("1 result"),
        |pid| peak_rss = peak_rss.max(status_kb(pid).map_or(0, |m| m.1)),
    )?;
    let elapsed = start.elapsed();
    let faults = minor_faults(t.pid())
        .zip(faults_before)
        .map(|(a, b)| a.saturating_sub(b));
    println!(
        "F .entry | length (the whole tree): {:.0} ms; VmRSS peak seen {:.1} MiB = {:.2}x the body",
        elapsed.as_secs_f64() * 1000.0,
        mib(peak_rss),
        times(peak_rss)
    );
    println!(
        "  page faults during it: {}",
        faults.map_or("unknown".to_string(), |f| f.to_string())
    );
    show("at once after that result", t.memory()?);
    // The tree is freed after the result is delivered: is the process back near its baseline?
    std::thread::sleep(Duration::from_secs(1));
    show("1 s after that result (still open)", t.memory()?);
    std::thread::sleep(Duration::from_secs(2));
    show("3 s after that result (still open)", t.memory()?);
    t.send(b"\x03");
    Ok(())
}

/// True once the Response pane counts the whole body's lines: `line 1/4,360,007`, not the
/// preview's `line 1/2,000+`, and nothing is being received or prepared.
fn whole_body(screen: &str) -> bool {
    let Some(i) = screen.find("line 1/") else {
        return false;
    };
    let total: String = screen[i + 7..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '+')
        .collect();
    !total.contains('+')
        && total
            .replace(',', "")
            .parse::<usize>()
            .is_ok_and(|n| n > 10_000)
        && !screen.contains("preparing")
        && !screen.contains("received")
}

/// True if `needle` is on screen and its first cell has a colour (the highlighter ran).
fn highlighted(s: &vt100::Screen, needle: &str) -> bool {
    let (rows, cols) = s.size();
    for row in 0..rows {
        let line: String = (0..cols)
            .map(|c| {
                s.cell(row, c)
                    .map_or(" ".to_string(), |x| x.contents().to_string())
            })
            .map(|c| if c.is_empty() { " ".to_string() } else { c })
            .collect();
        if let Some(i) = line.find(needle) {
            let col = line[..i].chars().count() as u16;
            return s
                .cell(row, col + 1)
                .is_some_and(|c| c.fgcolor() != vt100::Color::Default);
        }
    }
    false
}

fn write(path: &std::path::Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The process's minor page faults so far (`/proc/PID/stat`, field 10).
fn minor_faults(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from the `)` that closes it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// (VmHWM, VmRSS) in KiB.
fn status_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// Serves `body` as `application/fhir+json` at `/big` on 127.0.0.1 (a thread of its own).
fn serve(body: bytes::Bytes) -> Result<std::net::SocketAddr, String> {
    use axum::http::header;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = axum::Router::new().route(
        "/big",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/fhir+json")], body) }
        }),
    );
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                let _ = axum::serve(listener, app).await;
            }
        });
    });
    Ok(addr)
}

/// The binary in a pseudo-terminal, its output fed to a vt100 screen model.
struct Term {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    parser: vt100::Parser,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Term {
    fn spawn(binary: &str, workspace: &std::path::Path) -> Result<Term, String> {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| e.to_string())?;
        let mut cmd = CommandBuilder::new(binary);
        cmd.arg("--workspace");
        cmd.arg(workspace);
        cmd.env("TERM", "xterm-256color");
        for var in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
            cmd.env_remove(var);
        }
        cmd.env("NO_PROXY", "127.0.0.1");
        cmd.env("XDG_CONFIG_HOME", workspace.join("no-config"));
        let child = pair.slave.spawn_command(cmd).map_err(|e| e.to_string())?;
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().map_err(|e| e.to_string())?;
        let writer = pair.master.take_writer().map_err(|e| e.to_string())?;
        let (tx, output) = channel();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Ok(Term {
            child,
            writer,
            output,
            parser: vt100::Parser::new(ROWS, COLS, 0),
            _master: pair.master,
        })
    }

    fn pid(&self) -> u32 {
        self.child.process_id().unwrap_or(0)
    }

    fn memory(&self) -> Result<(u64, u64), String> {
        status_kb(self.pid()).ok_or_else(|| "could not read /proc/PID/status".to_string())
    }

    fn send(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
        let _ = self.writer.flush();
    }

    /// Feeds what arrived into the screen model, answering cursor-position queries.
    fn pump(&mut self, wait: Duration) {
        if let Ok(bytes) = self.output.recv_timeout(wait) {
            self.feed(&bytes);
            while let Ok(more) = self.output.try_recv() {
                self.feed(&more);
            }
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
        if bytes.windows(4).any(|w| w == b"\x1b[6n") {
            let (row, col) = self.parser.screen().cursor_position();
            let reply = format!("\x1b[{};{}R", row + 1, col + 1);
            self.send(reply.as_bytes());
        }
    }

    fn wait(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl FnMut(&vt100::Screen) -> bool,
    ) -> Result<(), String> {
        self.wait_sampling(what, timeout, done, |_| {})
    }

    /// Waits for `done`, calling `sample` with the pid every few milliseconds meanwhile.
    fn wait_sampling(
        &mut self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&vt100::Screen) -> bool,
        mut sample: impl FnMut(u32),
    ) -> Result<(), String> {
        let end = Instant::now() + timeout;
        let pid = self.pid();
        loop {
            sample(pid);
            if done(self.parser.screen()) {
                return Ok(());
            }
            if Instant::now() > end {
                return Err(format!(
                    "{what} did not show within {timeout:?}; the screen:\n{}",
                    self.parser.screen().contents()
                ));
            }
            self.pump(Duration::from_millis(2));
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
