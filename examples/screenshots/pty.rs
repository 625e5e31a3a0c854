//! Runs the real `fhirside` in a pseudo-terminal and keeps a `vt100` model of its screen.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub(crate) struct Term {
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    parser: vt100::Parser,
}

pub(crate) type Result<T> = std::result::Result<T, String>;

impl Term {
    /// Starts `bin args…` in a `cols`×`rows` terminal that says it has true colour. The user's
    /// own config folder is hidden so their keys.toml cannot change the pictures.
    pub(crate) fn spawn(
        bin: &Path,
        args: &[&str],
        cols: u16,
        rows: u16,
        config: &Path,
    ) -> Result<Term> {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| format!("cannot open a pseudo-terminal: {e}"))?;
        let mut cmd = CommandBuilder::new(bin);
        cmd.args(args);
        cmd.cwd(std::env::temp_dir());
        cmd.env("TERM", "xterm-256color");
        cmd.env("COLORTERM", "truecolor");
        cmd.env("XDG_CONFIG_HOME", config);
        cmd.env_remove("NO_COLOR");
        for var in ["http_proxy", "https_proxy", "all_proxy"] {
            cmd.env_remove(var);
            cmd.env_remove(var.to_uppercase());
        }
        cmd.env("NO_PROXY", "127.0.0.1,localhost");
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        drop(pair.slave);
        let mut reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| format!("pty reader: {e}"))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| format!("pty writer: {e}"))?;
        let (tx, rx) = channel();
        std::thread::spawn(move || {
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
        });
        Ok(Term {
            child,
            _master: pair.master,
            writer,
            output: rx,
            parser: vt100::Parser::new(rows, cols, 0),
        })
    }

    /// Reads what the program wrote so far, answering cursor-position queries like a terminal.
    fn pump(&mut self) {
        while let Ok(bytes) = self.output.try_recv() {
            self.parser.process(&bytes);
            if bytes.windows(4).any(|w| w == b"\x1b[6n") {
                let (row, col) = self.parser.screen().cursor_position();
                let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                let _ = self.writer.write_all(reply.as_bytes());
                let _ = self.writer.flush();
            }
        }
    }

    pub(crate) fn screen(&mut self) -> &vt100::Screen {
        self.pump();
        self.parser.screen()
    }

    /// Types `text` (plain characters and escape sequences alike).
    pub(crate) fn send(&mut self, text: &str) -> Result<()> {
        self.writer
            .write_all(text.as_bytes())
            .and_then(|_| self.writer.flush())
            .map_err(|e| format!("cannot type into the terminal: {e}"))?;
        // A lone Esc must not run into the next key (it would read as Alt-key).
        if text == "\x1b" {
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Waits until `needle` is on screen.
    pub(crate) fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<()> {
        let end = Instant::now() + timeout;
        loop {
            if self.screen().contents().contains(needle) {
                return Ok(());
            }
            if Instant::now() > end {
                return Err(format!(
                    "'{needle}' did not appear within {timeout:?}; the screen was:\n{}",
                    self.screen().contents()
                ));
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Lets the program draw for `d` (spinners settle, late frames arrive).
    pub(crate) fn settle(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.pump();
            std::thread::sleep(Duration::from_millis(30));
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.writer.write_all(b"\x03");
        let _ = self.writer.flush();
        std::thread::sleep(Duration::from_millis(200));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
