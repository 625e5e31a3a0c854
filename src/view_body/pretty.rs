//! Order-preserving JSON re-indenter working directly on bytes.
//!
//! The printer never builds a tree: it walks the input once, validating the
//! JSON grammar (RFC 8259) as it goes, and copies every string and number
//! verbatim into the output with 2-space indentation. Nesting is tracked with
//! an explicit stack, so deeply nested input cannot overflow the call stack.
//!
//! Format (identical to `serde_json::to_string_pretty` for input that
//! `serde_json` itself produced): 2-space indent, `": "` after keys, empty
//! `{}` / `[]` on one line, no trailing newline.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;

use super::pretty_lines::{KEY_SPACE, PrettyLines};
use super::swar::{eq_lanes, first_lane, splat, word_at, zero_lanes};
use super::text::{BodyText, LineIndex};

/// Maximum nesting depth accepted (serde_json's own limit is 128).
pub const MAX_DEPTH: usize = 512;

/// The pretty output may grow to at most `max(MIN_OUTPUT_LIMIT, 16 × input)`
/// bytes. Indentation makes pathological input (e.g. half a million nested
/// arrays) expand quadratically; this guard turns that into an error instead
/// of an out-of-memory abort. Real FHIR bodies expand by 1.5–3×.
pub(super) const MIN_OUTPUT_LIMIT: usize = 256 << 20;
/// See [`MIN_OUTPUT_LIMIT`].
pub(super) const OUTPUT_EXPANSION_LIMIT: usize = 16;

/// A JSON syntax error, located in the *input*.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {line}, column {column}")]
pub struct PrettyError {
    /// Byte offset into the input.
    pub offset: usize,
    /// 1-based line of the input.
    pub line: usize,
    /// 1-based column of the input, counted in characters (UTF-8 scalar
    /// values; invalid bytes count one each).
    pub column: usize,
    pub message: String,
}

impl PrettyError {
    pub(crate) fn at(input: &[u8], offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_col(input, offset);
        PrettyError {
            offset,
            line,
            column,
            message: message.into(),
        }
    }
}

/// 1-based (line, column) of byte `offset` in `input`; column counts characters.
pub fn line_col(input: &[u8], offset: usize) -> (usize, usize) {
    let before = input.get(..offset).unwrap_or(input);
    let mut line = 1;
    let mut line_start = 0;
    for (i, &b) in before.iter().enumerate() {
        if b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
    }
    let col_bytes = before.get(line_start..).unwrap_or(&[]);
    let column = 1 + col_bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count();
    (line, column)
}

/// Pretty-print `input` (see module docs). Validates the whole input,
/// including UTF-8; trailing whitespace is allowed, anything else after the
/// top-level value is an error. A leading UTF-8 BOM is skipped.
pub fn pretty_json(input: &[u8]) -> Result<String, PrettyError> {
    pretty_json_indexed(input, None).map(|(s, _)| s)
}

/// Pretty-print and build the [`LineIndex`] of the output in the same pass
/// (every newline of the output is emitted by the printer, so the index comes
/// almost for free). Returned as a ready [`BodyText`] whose lines are known to
/// be independent for JSON highlighting (no string spans a line break).
pub fn pretty_json_body(input: &[u8]) -> Result<BodyText, PrettyError> {
    pretty_lines_body(input, None, None)
}

/// [`pretty_json_body`] of a received body: when it is compact JSON (no whitespace between
/// tokens), the pretty lines are held as offsets into `bytes` itself, without a copy.
pub fn pretty_json_body_shared(
    bytes: &Bytes,
    progress: Option<&Progress>,
) -> Result<BodyText, PrettyError> {
    let body = pretty_lines_body(bytes, Some(bytes), progress)?;
    if let Some(p) = progress {
        p.done.store(bytes.len(), Ordering::Relaxed);
    }
    Ok(body)
}

/// How far a long pretty-print has come (input bytes), and a way to stop it: the UI shows
/// the first while it waits and sets the second when the answer is no longer wanted.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicUsize,
    cancelled: AtomicBool,
}

impl Progress {
    /// Input bytes printed so far (updated every few thousand output lines).
    pub fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// [`pretty_json_body`] reporting to `progress`; a cancelled run ends with an error whose
/// message is `"cancelled"`.
pub fn pretty_json_body_with_progress(
    input: &[u8],
    progress: &Progress,
) -> Result<BodyText, PrettyError> {
    let body = pretty_lines_body(input, None, Some(progress))?;
    progress.done.store(input.len(), Ordering::Relaxed);
    Ok(body)
}

/// The pretty lines of `input` as a [`BodyText`] holding no indentation (see
/// [`PrettyLines`]): borrowed from `shared` (which holds `input`) if the input is compact,
/// else the printer's output without indentation and newlines. Bodies past 4 GiB of output
/// (never pretty-printed in practice: they are kept on disk) get the whole text.
fn pretty_lines_body(
    input: &[u8],
    shared: Option<&Bytes>,
    progress: Option<&Progress>,
) -> Result<BodyText, PrettyError> {
    let utf8_err = std::str::from_utf8(input).err().map(|e| e.valid_up_to());
    if let Some(bytes) = shared {
        let mut p = Printer::<BORROW>::new(input, usize::MAX);
        p.watch(progress);
        match p.run() {
            Err(Fail::NotCompact) => {}
            Ok(()) if p.saw_ws || p.starts_overflow => {}
            Ok(()) => {
                if let Some(u) = utf8_err {
                    return Err(PrettyError::at(input, u, "invalid UTF-8"));
                }
                let content = bytes.slice(p.base.min(bytes.len())..);
                let lines = PrettyLines::new(content, p.starts, p.meta);
                return Ok(BodyText::from_pretty_lines(lines));
            }
            Err(f) => return Err(fail_error(input, utf8_err, f, p.pos)),
        }
    }
    let mut p = Printer::<STRIPPED>::new(input, usize::MAX);
    p.watch(progress);
    match p.run() {
        Ok(()) if p.starts_overflow => {}
        Ok(()) => {
            if let Some(u) = utf8_err {
                return Err(PrettyError::at(input, u, "invalid UTF-8"));
            }
            let lines = PrettyLines::new(Bytes::from(p.out), p.starts, p.meta);
            return Ok(BodyText::from_pretty_lines(lines));
        }
        Err(f) => return Err(fail_error(input, utf8_err, f, p.pos)),
    }
    let (text, index) = pretty_json_indexed(input, progress)?;
    Ok(BodyText::from_parts_pretty_json(text, index))
}

/// The user's error for a printer's failure at input offset `pos`; an invalid UTF-8 byte
/// before a syntax error wins, as a streaming parser would report it first.
fn fail_error(input: &[u8], utf8_err: Option<usize>, fail: Fail, pos: usize) -> PrettyError {
    match fail {
        Fail::Syntax(off, msg) => match utf8_err.filter(|&u| u <= off) {
            Some(u) => PrettyError::at(input, u, "invalid UTF-8"),
            None => PrettyError::at(input, off, msg),
        },
        Fail::TooLarge(off) => PrettyError::at(
            input,
            off,
            "pretty-printed output too large (pathological nesting)",
        ),
        Fail::Cancelled | Fail::LineLimit | Fail::NotCompact => {
            PrettyError::at(input, pos, "cancelled")
        }
    }
}

fn pretty_json_indexed(
    input: &[u8],
    progress: Option<&Progress>,
) -> Result<(String, LineIndex), PrettyError> {
    // Validate UTF-8 up front (very fast on ASCII); a syntax error located
    // before the first invalid byte still wins, as a streaming parser would
    // report it first.
    let utf8_err = std::str::from_utf8(input).err().map(|e| e.valid_up_to());
    let mut p = Printer::<FULL>::new(input, usize::MAX);
    p.watch(progress);
    let result = p.run();
    match result {
        Err(f @ (Fail::Cancelled | Fail::Syntax(..) | Fail::TooLarge(_) | Fail::NotCompact)) => {
            Err(fail_error(input, utf8_err, f, p.pos))
        }
        Err(Fail::LineLimit) | Ok(()) => {
            if let Some(u) = utf8_err {
                return Err(PrettyError::at(input, u, "invalid UTF-8"));
            }
            let starts = p.starts;
            let overflow = p.starts_overflow;
            let text =
                String::from_utf8(p.out).map_err(|_| PrettyError::at(input, 0, "invalid UTF-8"))?;
            let index = if overflow {
                LineIndex::new(&text)
            } else {
                LineIndex::from_u32_starts(starts, text.len())
            };
            Ok((text, index))
        }
    }
}

/// Check that `input` is one valid JSON value (same rules as [`pretty_json`])
/// without producing any output.
pub fn validate_json(input: &[u8]) -> Result<(), PrettyError> {
    let mut p = Printer::<VALIDATE>::new(input, usize::MAX);
    match p.run() {
        Err(Fail::Syntax(off, msg)) => {
            let upto = input.get(..off).unwrap_or(input);
            if let Err(e) = std::str::from_utf8(upto) {
                return Err(PrettyError::at(input, e.valid_up_to(), "invalid UTF-8"));
            }
            Err(PrettyError::at(input, off, msg))
        }
        Err(Fail::TooLarge(_) | Fail::LineLimit | Fail::Cancelled | Fail::NotCompact) | Ok(()) => {
            if let Err(e) = std::str::from_utf8(input) {
                return Err(PrettyError::at(input, e.valid_up_to(), "invalid UTF-8"));
            }
            Ok(())
        }
    }
}

/// Result of [`pretty_json_preview`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrettyPreview {
    /// The first lines of the pretty output (lossily decoded if the prefix
    /// contained invalid UTF-8).
    pub text: String,
    /// True if the whole input was printed (then `text` equals what
    /// [`pretty_json`] returns, unless `error` is set).
    pub complete: bool,
    /// Syntax error met within the printed prefix, if any.
    pub error: Option<PrettyError>,
}

/// Pretty-print only the first `max_lines` lines of output. Costs time
/// proportional to what is printed, not to the input size, so a UI can show
/// the top of a 50 MB body immediately while [`pretty_json`] runs on a
/// background thread.
pub fn pretty_json_preview(input: &[u8], max_lines: usize) -> PrettyPreview {
    let mut p = Printer::<FULL>::new(input, max_lines.max(1));
    let r = p.run();
    let (complete, error) = match r {
        Ok(()) => (true, None),
        Err(Fail::LineLimit | Fail::Cancelled | Fail::NotCompact) => (false, None),
        Err(Fail::Syntax(off, msg)) => (false, Some(PrettyError::at(input, off, msg))),
        Err(Fail::TooLarge(off)) => (
            false,
            Some(PrettyError::at(
                input,
                off,
                "pretty-printed output too large",
            )),
        ),
    };
    let mut out = p.out;
    if !complete && error.is_none() {
        // Drop the incomplete last line (only indentation) so the preview
        // ends on a whole line.
        if let Some(pos) = out.iter().rposition(|&b| b == b'\n') {
            out.truncate(pos);
        }
    }
    let text = match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    let error = error.or_else(|| {
        if complete {
            std::str::from_utf8(input)
                .err()
                .map(|e| PrettyError::at(input, e.valid_up_to(), "invalid UTF-8"))
        } else {
            None
        }
    });
    PrettyPreview {
        text,
        complete: complete && error.is_none(),
        error,
    }
}

enum Fail {
    Syntax(usize, &'static str),
    TooLarge(usize),
    LineLimit,
    Cancelled,
    /// Whitespace between tokens, in [`BORROW`] mode: the body's bytes are not the lines.
    NotCompact,
}

/// What a [`Printer`] produces. `VALIDATE`: nothing. `FULL`: the pretty text. `STRIPPED`:
/// the lines without indentation or newlines, with each line's depth in `meta`. `BORROW`:
/// no bytes at all, only `starts` (offsets into the input, which is compact) and `meta`.
const VALIDATE: u8 = 0;
const FULL: u8 = 1;
const STRIPPED: u8 = 2;
const BORROW: u8 = 3;

struct Printer<'a, const MODE: u8> {
    inp: &'a [u8],
    pos: usize,
    out: Vec<u8>,
    /// Open containers: b'{' or b'['.
    stack: Vec<u8>,
    /// Output line start offsets, starting with 0 (filled when EMIT).
    starts: Vec<u32>,
    /// Per line: depth and [`KEY_SPACE`] (`STRIPPED` and `BORROW`).
    meta: Vec<u16>,
    /// Output length in `BORROW` mode, where nothing is written: the input's offset.
    vlen: usize,
    /// `BORROW` mode met whitespace between tokens.
    saw_ws: bool,
    /// Input offset of the first value (after a BOM).
    base: usize,
    starts_overflow: bool,
    max_lines: usize,
    out_limit: usize,
    progress: Option<&'a Progress>,
    /// Input offset at which to report progress next (`usize::MAX`: never), so the hot
    /// path pays one comparison.
    next_report: usize,
}

/// Input bytes between two progress reports.
const REPORT_EVERY: usize = 1 << 20;

static SPACES: [u8; 256] = [b' '; 256];

/// `",\n"` followed by 128 spaces (indentation up to depth 64 in one copy).
static COMMA_NL_SPACES: [u8; 130] = {
    let mut b = [b' '; 130];
    b[0] = b',';
    b[1] = b'\n';
    b
};

impl<'a, const MODE: u8> Printer<'a, MODE> {
    const EMIT: bool = MODE != VALIDATE;
    /// Writes indentation and newlines.
    const INDENT: bool = MODE == FULL;

    fn new(input: &'a [u8], max_lines: usize) -> Self {
        let pos = if input.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let whole = Self::EMIT && max_lines == usize::MAX;
        let cap = match MODE {
            FULL if whole => input.len().saturating_add(input.len() / 2),
            STRIPPED if whole => input.len().saturating_add(input.len() / 8),
            _ => 0,
        };
        let lines = if whole { input.len() / 16 + 1 } else { 0 };
        let (out, mut starts) = (Vec::with_capacity(cap), Vec::with_capacity(lines));
        let mut meta = Vec::with_capacity(if Self::INDENT { 0 } else { lines });
        if Self::EMIT {
            starts.push(0);
            meta.push(0);
        }
        Printer {
            inp: input,
            pos,
            out,
            stack: Vec::new(),
            starts,
            meta,
            vlen: 0,
            saw_ws: false,
            base: pos,
            starts_overflow: false,
            max_lines,
            out_limit: input
                .len()
                .saturating_mul(OUTPUT_EXPANSION_LIMIT)
                .max(MIN_OUTPUT_LIMIT),
            progress: None,
            next_report: usize::MAX,
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.inp.get(self.pos).copied()
    }

    /// Report progress to `progress` (and stop when it is cancelled).
    fn watch(&mut self, progress: Option<&'a Progress>) {
        if progress.is_some() {
            self.progress = progress;
            self.next_report = REPORT_EVERY;
        }
    }

    #[inline(always)]
    fn emit(&mut self, bytes: &[u8]) {
        match MODE {
            FULL | STRIPPED => self.out.extend_from_slice(bytes),
            BORROW => self.vlen += bytes.len(),
            _ => {}
        }
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        let start = self.pos;
        while let Some(&b) = self.inp.get(self.pos) {
            if b == b' ' || b == b'\n' || b == b'\r' || b == b'\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
        if MODE == BORROW && self.pos != start {
            self.saw_ws = true;
        }
    }

    /// A new line in `STRIPPED` / `BORROW` mode: only its start and depth are recorded.
    #[inline]
    fn new_line(&mut self, comma: bool) -> Result<(), Fail> {
        if comma {
            self.emit(b",");
        }
        if self.saw_ws {
            return Err(Fail::NotCompact);
        }
        let start = if MODE == BORROW {
            self.vlen
        } else {
            self.out.len()
        };
        // The depth is at most MAX_DEPTH (512), far below the KEY_SPACE bit.
        self.meta
            .push(self.stack.len().min(usize::from(!KEY_SPACE)) as u16);
        self.line_started(start)
    }

    /// Records a line starting at output offset `start`; stops at the line and size limits,
    /// and reports progress now and then.
    #[inline]
    fn line_started(&mut self, start: usize) -> Result<(), Fail> {
        match u32::try_from(start) {
            Ok(v) => self.starts.push(v),
            Err(_) => self.starts_overflow = true,
        }
        // starts.len() == number of lines started so far
        if self.starts.len() > self.max_lines {
            return Err(Fail::LineLimit);
        }
        if self.out.len() > self.out_limit {
            return Err(Fail::TooLarge(self.pos));
        }
        if self.pos >= self.next_report {
            self.report()?;
        }
        Ok(())
    }

    /// Emit `prefix` (`""` or `","`), a newline and the indentation for the
    /// current depth, as one copy from a static buffer in the common case.
    #[inline]
    fn newline_indent(&mut self, comma: bool) -> Result<(), Fail> {
        if Self::EMIT && !Self::INDENT {
            return self.new_line(comma);
        }
        if Self::INDENT {
            let indent = self.stack.len() * 2;
            let buf: &[u8] = if comma {
                &COMMA_NL_SPACES
            } else {
                &COMMA_NL_SPACES[1..]
            };
            let head = usize::from(comma) + 1;
            match buf.get(..head + indent) {
                Some(chunk) => self.out.extend_from_slice(chunk),
                None => {
                    self.out.extend_from_slice(buf.get(..head).unwrap_or(b"\n"));
                    let mut n = indent;
                    while n > 0 {
                        let k = n.min(SPACES.len());
                        self.out.extend_from_slice(&SPACES[..k]);
                        n -= k;
                    }
                }
            }
            return self.line_started(self.out.len() - indent);
        }
        Ok(())
    }

    /// Publishes progress and checks for cancellation, every [`REPORT_EVERY`] input bytes.
    #[cold]
    #[inline(never)]
    fn report(&mut self) -> Result<(), Fail> {
        self.next_report = self.pos.saturating_add(REPORT_EVERY);
        if let Some(p) = self.progress {
            p.done.store(self.pos, Ordering::Relaxed);
            if p.is_cancelled() {
                return Err(Fail::Cancelled);
            }
        }
        Ok(())
    }

    fn open(&mut self, c: u8) -> Result<(), Fail> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(Fail::Syntax(self.pos, "nesting too deep"));
        }
        self.stack.push(c);
        self.emit(&[c]);
        self.newline_indent(false)
    }

    /// Object key at `pos` (after whitespace), then `:`; emits `"key": `.
    fn key(&mut self) -> Result<(), Fail> {
        if self.peek() != Some(b'"') {
            return Err(Fail::Syntax(
                self.pos,
                if self.pos >= self.inp.len() {
                    "unexpected end of input"
                } else {
                    "expected '\"' (object key)"
                },
            ));
        }
        self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(Fail::Syntax(self.pos, "expected ':' after object key"));
        }
        self.pos += 1;
        if MODE == BORROW {
            // The body holds ":"; the line is read back with ": ".
            self.vlen += 1;
            if let Some(m) = self.meta.last_mut() {
                *m |= KEY_SPACE;
            }
        } else {
            self.emit(b": ");
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), Fail> {
        'value: loop {
            self.skip_ws();
            let Some(b) = self.peek() else {
                return Err(Fail::Syntax(self.pos, "unexpected end of input"));
            };
            match b {
                b'{' => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        self.emit(b"{}");
                    } else {
                        self.open(b'{')?;
                        self.key()?;
                        continue 'value;
                    }
                }
                b'[' => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        self.emit(b"[]");
                    } else {
                        self.open(b'[')?;
                        continue 'value;
                    }
                }
                b'"' => self.string()?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(Fail::Syntax(self.pos, "expected a JSON value")),
            }
            // After a complete value: close containers / separators.
            loop {
                self.skip_ws();
                let Some(&top) = self.stack.last() else {
                    if self.pos < self.inp.len() {
                        return Err(Fail::Syntax(
                            self.pos,
                            "trailing characters after JSON value",
                        ));
                    }
                    return Ok(());
                };
                let close = if top == b'{' { b'}' } else { b']' };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.newline_indent(true)?;
                        if top == b'{' {
                            self.skip_ws();
                            self.key()?;
                        }
                        continue 'value;
                    }
                    Some(c) if c == close => {
                        self.pos += 1;
                        self.stack.pop();
                        self.newline_indent(false)?;
                        self.emit(&[c]);
                    }
                    Some(_) => {
                        return Err(Fail::Syntax(
                            self.pos,
                            if top == b'{' {
                                "expected ',' or '}'"
                            } else {
                                "expected ',' or ']'"
                            },
                        ));
                    }
                    None => return Err(Fail::Syntax(self.pos, "unexpected end of input")),
                }
            }
        }
    }

    fn literal(&mut self, lit: &'static [u8]) -> Result<(), Fail> {
        let end = self.pos + lit.len();
        if self.inp.get(self.pos..end) == Some(lit) {
            self.pos = end;
            self.emit(lit);
            Ok(())
        } else {
            Err(Fail::Syntax(self.pos, "invalid literal"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), Fail> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Fail::Syntax(self.pos, "invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(Fail::Syntax(self.pos, "expected digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(Fail::Syntax(self.pos, "expected digit in exponent"));
            }
        }
        let inp = self.inp;
        self.emit(inp.get(start..self.pos).unwrap_or(&[]));
        Ok(())
    }

    /// String starting at `pos` (which holds `"`), copied verbatim.
    fn string(&mut self) -> Result<(), Fail> {
        let inp = self.inp;
        let start = self.pos;
        let mut i = start + 1;
        loop {
            // Skip 8 plain bytes at a time: stop at '"', '\\' or a control char.
            while let Some(w) = word_at(inp, i) {
                let m = eq_lanes(w, b'"') | eq_lanes(w, b'\\') | zero_lanes(w & splat(0xE0));
                if m != 0 {
                    i += first_lane(m);
                    break;
                }
                i += 8;
            }
            let Some(&b) = inp.get(i) else {
                return Err(Fail::Syntax(i, "unterminated string"));
            };
            match b {
                b'"' => {
                    i += 1;
                    break;
                }
                b'\\' => match inp.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        for k in 2..6 {
                            match inp.get(i + k) {
                                Some(h) if h.is_ascii_hexdigit() => {}
                                Some(_) => {
                                    return Err(Fail::Syntax(i + k, "invalid \\u escape"));
                                }
                                None => return Err(Fail::Syntax(i + k, "unterminated string")),
                            }
                        }
                        i += 6;
                    }
                    Some(_) => return Err(Fail::Syntax(i + 1, "invalid escape")),
                    None => return Err(Fail::Syntax(i + 1, "unterminated string")),
                },
                0x00..=0x1F => {
                    return Err(Fail::Syntax(i, "control character in string"));
                }
                _ => i += 1,
            }
        }
        self.emit(inp.get(start..i).unwrap_or(&[]));
        self.pos = i;
        Ok(())
    }
}

/// Validate each line of an NDJSON body as one JSON value. Blank lines are
/// allowed (skipped). Returns `(1-based line number, error)` for every bad
/// line; error offsets/lines/columns refer to the whole input.
pub fn check_ndjson(input: &[u8]) -> Vec<(usize, PrettyError)> {
    let mut errors = Vec::new();
    let mut start = 0;
    let mut line_no = 1;
    while start <= input.len() {
        let end = super::swar::find_byte(input, start, b'\n').unwrap_or(input.len());
        let line = input.get(start..end).unwrap_or(&[]);
        if line.iter().any(|b| !b.is_ascii_whitespace())
            && let Err(e) = validate_json(line)
        {
            // The line holds no '\n', so the error's column is already the
            // column within the whole input (computed without rescanning it).
            errors.push((
                line_no,
                PrettyError {
                    offset: start + e.offset,
                    line: line_no,
                    column: e.column,
                    message: e.message,
                },
            ));
        }
        if end >= input.len() {
            break;
        }
        start = end + 1;
        line_no += 1;
    }
    errors
}

#[cfg(test)]
#[path = "pretty_tests.rs"]
mod tests;
