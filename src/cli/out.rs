//! Where the command line's text leaves the program. Human-facing text (lists, notes, errors,
//! anything a server or a file put into a sentence) goes through the terminal sanitiser here,
//! so a new print path cannot forget it; the rest of `cli` and `main.rs` may not use `print!`
//! or `eprint!` at all (clippy denies them). Asked-for data (a body, JSON, NDJSON) is written
//! byte-exact with [`Stdout::data`].
//!
//! Writing never panics: a reader that closed the pipe (`fhirside list | head`) is
//! [`OutputError::Closed`], which ends the command quietly; any other failure (`> /dev/full`)
//! is [`OutputError::Failed`], one sentence and exit 1.

use std::io::{self, IsTerminal, Write};

use crate::text::sanitize::{for_line, for_terminal};

/// Writing the output stopped.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The reader went away (EPIPE): not a failure of the command.
    #[error("the output was closed by its reader")]
    Closed,
    #[error("could not write the output: {0}")]
    Failed(#[source] io::Error),
}

impl From<io::Error> for OutputError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            OutputError::Closed
        } else {
            OutputError::Failed(e)
        }
    }
}

/// Standard output, buffered, or any writer in tests.
pub struct Stdout {
    w: io::BufWriter<Box<dyn Write + Send>>,
    terminal: bool,
}

impl Stdout {
    pub fn new() -> Self {
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        Self::to(Box::new(stdout), terminal)
    }

    /// Output into `w`, as if it were (or were not) a terminal.
    pub fn to(w: Box<dyn Write + Send>, terminal: bool) -> Self {
        Self {
            w: io::BufWriter::with_capacity(64 * 1024, w),
            terminal,
        }
    }

    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// A line of human-facing text, sanitised; embedded newlines stay line breaks.
    pub fn line(&mut self, text: impl AsRef<str>) -> Result<(), OutputError> {
        self.text(text)?;
        self.w.write_all(b"\n")?;
        Ok(())
    }

    /// Human-facing text, sanitised, as it is (no newline added).
    pub fn text(&mut self, text: impl AsRef<str>) -> Result<(), OutputError> {
        self.w.write_all(for_terminal(text.as_ref()).as_bytes())?;
        Ok(())
    }

    /// Asked-for data, byte-exact (a body off a terminal, JSON, NDJSON).
    pub fn data(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        self.w.write_all(bytes)?;
        Ok(())
    }

    /// JSON text already made safe for where it goes, highlighted with ANSI colours or not.
    pub fn json(&mut self, text: &str, colour: bool) -> Result<(), OutputError> {
        if colour {
            let mut s = String::with_capacity(text.len() + text.len() / 2);
            crate::view_body::ansi::write_json_ansi(text, &mut s);
            self.data(s.as_bytes())
        } else {
            self.data(text.as_bytes())
        }
    }

    /// The writer itself, for copying a file out byte-exact.
    pub fn raw(&mut self) -> &mut dyn Write {
        &mut self.w
    }

    pub fn flush(&mut self) -> Result<(), OutputError> {
        self.w.flush()?;
        Ok(())
    }

    /// A writer that sanitises what goes through it, for text streamed in chunks (a body read
    /// back from disk). Call [`Sanitising::finish`] at the end.
    pub fn sanitising(&mut self) -> Sanitising<'_> {
        Sanitising {
            out: &mut self.w,
            pending: Vec::new(),
        }
    }
}

/// See [`Stdout::sanitising`]: bytes in, terminal-safe text out; a UTF-8 sequence or a CRLF
/// split between two chunks is kept until the next one.
pub struct Sanitising<'a> {
    out: &'a mut dyn Write,
    pending: Vec<u8>,
}

impl Sanitising<'_> {
    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let chunk: Vec<u8> = self.pending.drain(..upto).collect();
        let text = crate::text::sanitize::bytes_for_terminal(&chunk);
        self.out.write_all(text.as_bytes())
    }

    /// Writes what is still held (an incomplete sequence becomes U+FFFD).
    pub fn finish(mut self) -> Result<(), OutputError> {
        let n = self.pending.len();
        self.emit(n)?;
        Ok(())
    }
}

impl Write for Sanitising<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let mut upto = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // An incomplete sequence at the end waits; an invalid one is replaced now.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        if upto > 0 && self.pending.get(upto - 1) == Some(&b'\r') {
            upto -= 1;
        }
        self.emit(upto)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Self::new()
    }
}

/// A line on stderr (progress, a note, a warning), sanitised. A stderr that cannot be written
/// has nowhere to report to: the line is dropped.
pub fn note(text: impl std::fmt::Display) {
    let text = text.to_string();
    let mut err = io::stderr().lock();
    let _ = err.write_all(for_terminal(&text).as_bytes());
    let _ = err.write_all(b"\n");
}

/// `fhirside: MESSAGE` on stderr, on one line (a server's text cannot start a line of its own).
pub fn error(message: impl std::fmt::Display) {
    note(format_args!("fhirside: {}", for_line(&message.to_string())));
}

/// `warning: MESSAGE` on stderr, on one line.
pub fn warning(message: impl std::fmt::Display) {
    note(format_args!("warning: {}", for_line(&message.to_string())));
}

/// One field inside a line (a name, a URL, a header value): line breaks escaped too, so a
/// field cannot fake a line of its own.
pub fn field(text: &str) -> std::borrow::Cow<'_, str> {
    for_line(text)
}

/// Colour for output to a terminal, unless `NO_COLOR` is set (to anything but empty).
pub fn colour_wanted(stdout_is_terminal: bool) -> bool {
    stdout_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether stderr is a terminal (progress lines that redraw only make sense there).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct Full(io::ErrorKind);
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(self.0))
        }
    }

    #[test]
    fn lines_are_sanitised_and_data_is_not() {
        let buf = Shared::default();
        let mut out = Stdout::to(Box::new(buf.clone()), false);
        out.line("GET\x1b[2J \u{202e}x").unwrap();
        out.data(b"\x1b[1m").unwrap();
        out.flush().unwrap();
        assert_eq!(
            buf.0.lock().unwrap().as_slice(),
            b"GET\\x1b[2J \\u{202e}x\n\x1b[1m"
        );
    }

    #[test]
    fn streamed_text_is_sanitised_across_chunk_boundaries() {
        let buf = Shared::default();
        let mut out = Stdout::to(Box::new(buf.clone()), true);
        let mut w = out.sanitising();
        let text = "a\u{202e}b\r\nc\x1b";
        let bytes = text.as_bytes();
        for i in 0..bytes.len() {
            w.write_all(&bytes[i..i + 1]).unwrap();
        }
        w.write_all(b"\xff").unwrap();
        w.finish().unwrap();
        out.flush().unwrap();
        let got = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(got, "a\\u{202e}b\r\nc\\x1b\u{fffd}");
    }

    #[test]
    fn a_closed_pipe_and_a_full_disk_are_told_apart() {
        let mut out = Stdout::to(Box::new(Full(io::ErrorKind::BrokenPipe)), false);
        out.line("x").unwrap();
        assert!(matches!(out.flush(), Err(OutputError::Closed)));
        let mut out = Stdout::to(Box::new(Full(io::ErrorKind::StorageFull)), false);
        out.data(&[0; 100_000]).unwrap_err();
        assert!(matches!(out.flush(), Err(OutputError::Failed(_))));
    }
}
