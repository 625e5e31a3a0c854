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
    let (text, index) = pretty_json_indexed(input, None)?;
    Ok(BodyText::from_parts_pretty_json(text, index))
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
    let (text, index) = pretty_json_indexed(input, Some(progress))?;
    progress.done.store(input.len(), Ordering::Relaxed);
    Ok(BodyText::from_parts_pretty_json(text, index))
}

fn pretty_json_indexed(
    input: &[u8],
    progress: Option<&Progress>,
) -> Result<(String, LineIndex), PrettyError> {
    // Validate UTF-8 up front (very fast on ASCII); a syntax error located
    // before the first invalid byte still wins, as a streaming parser would
    // report it first.
    let utf8_err = std::str::from_utf8(input).err().map(|e| e.valid_up_to());
    let mut p = Printer::<true>::new(input, usize::MAX);
    if progress.is_some() {
        p.progress = progress;
        p.next_report = REPORT_EVERY;
    }
    let result = p.run();
    match result {
        Err(Fail::Cancelled) => Err(PrettyError::at(input, p.pos, "cancelled")),
        Err(Fail::Syntax(off, msg)) => {
            if let Some(u) = utf8_err.filter(|&u| u <= off) {
                return Err(PrettyError::at(input, u, "invalid UTF-8"));
            }
            Err(PrettyError::at(input, off, msg))
        }
        Err(Fail::TooLarge(off)) => Err(PrettyError::at(
            input,
            off,
            "pretty-printed output too large (pathological nesting)",
        )),
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
    let mut p = Printer::<false>::new(input, usize::MAX);
    match p.run() {
        Err(Fail::Syntax(off, msg)) => {
            let upto = input.get(..off).unwrap_or(input);
            if let Err(e) = std::str::from_utf8(upto) {
                return Err(PrettyError::at(input, e.valid_up_to(), "invalid UTF-8"));
            }
            Err(PrettyError::at(input, off, msg))
        }
        Err(Fail::TooLarge(_)) | Err(Fail::LineLimit) | Err(Fail::Cancelled) | Ok(()) => {
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
    let mut p = Printer::<true>::new(input, max_lines.max(1));
    let r = p.run();
    let (complete, error) = match r {
        Ok(()) => (true, None),
        Err(Fail::LineLimit) | Err(Fail::Cancelled) => (false, None),
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
}

struct Printer<'a, const EMIT: bool> {
    inp: &'a [u8],
    pos: usize,
    out: Vec<u8>,
    /// Open containers: b'{' or b'['.
    stack: Vec<u8>,
    /// Output line start offsets, starting with 0 (filled when EMIT).
    starts: Vec<u32>,
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

impl<'a, const EMIT: bool> Printer<'a, EMIT> {
    fn new(input: &'a [u8], max_lines: usize) -> Self {
        let pos = if input.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let (out, mut starts) = if EMIT && max_lines == usize::MAX {
            let cap = input
                .len()
                .saturating_add(input.len() / 2)
                .saturating_add(64);
            (
                Vec::with_capacity(cap),
                Vec::with_capacity(input.len() / 24 + 1),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        if EMIT {
            starts.push(0);
        }
        Printer {
            inp: input,
            pos,
            out,
            stack: Vec::new(),
            starts,
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

    #[inline(always)]
    fn emit(&mut self, bytes: &[u8]) {
        if EMIT {
            self.out.extend_from_slice(bytes);
        }
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        while let Some(&b) = self.inp.get(self.pos) {
            if b == b' ' || b == b'\n' || b == b'\r' || b == b'\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Emit `prefix` (`""` or `","`), a newline and the indentation for the
    /// current depth, as one copy from a static buffer in the common case.
    #[inline]
    fn newline_indent(&mut self, comma: bool) -> Result<(), Fail> {
        if EMIT {
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
            let line_start = self.out.len() - indent;
            match u32::try_from(line_start) {
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
        self.emit(b": ");
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
        if EMIT {
            let s = self.inp.get(start..self.pos).unwrap_or(&[]);
            self.out.extend_from_slice(s);
        }
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
        if EMIT {
            let s = inp.get(start..i).unwrap_or(&[]);
            self.out.extend_from_slice(s);
        }
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
mod tests {
    use super::*;

    fn pp(s: &str) -> String {
        pretty_json(s.as_bytes()).unwrap()
    }

    #[test]
    fn formats_like_serde() {
        let src = r#"{"a":1,"b":[true,false,null,{},[]],"c":{"d":"x\"y\u00e9","e":-1.5e+3}}"#;
        let v: serde_json::Value = serde_json::from_str(src).unwrap();
        let compact = serde_json::to_string(&v).unwrap();
        assert_eq!(pp(&compact), serde_json::to_string_pretty(&v).unwrap());
        // Escapes and numbers are copied verbatim, not normalised.
        assert!(pp(src).contains(r#""x\"y\u00e9""#));
        assert!(pp(src).contains("-1.5e+3"));
    }

    #[test]
    fn whitespace_in_input_is_normalised() {
        assert_eq!(pp(" [ 1 ,\n\t2 ]\r\n "), "[\n  1,\n  2\n]");
        assert_eq!(pp("{ }"), "{}");
        assert_eq!(pp("[ \n ]"), "[]");
        assert_eq!(pp("\"s\""), "\"s\"");
        assert_eq!(pp("\u{feff}{\"a\" : [ ]}"), "{\n  \"a\": []\n}");
    }

    #[test]
    fn errors_have_positions() {
        let e = pretty_json(b"{\"a\":1,}").unwrap_err();
        assert_eq!((e.offset, e.line, e.column), (7, 1, 8));
        let e = pretty_json(b"[1,\n  2\n  x]").unwrap_err();
        assert_eq!((e.line, e.column), (3, 3));
        let e = pretty_json(b"[1] 2").unwrap_err();
        assert!(e.message.contains("trailing"));
        let e = pretty_json("[\"é\", x]".as_bytes()).unwrap_err();
        assert_eq!(e.column, 7);
        assert!(pretty_json(b"").is_err());
        assert!(pretty_json(b"  ").is_err());
        assert!(pretty_json(b"01").is_err());
        assert!(pretty_json(b"1.").is_err());
        assert!(pretty_json(b"-").is_err());
        assert!(pretty_json(b"1e").is_err());
        assert!(pretty_json(b"\"\\x\"").is_err());
        assert!(pretty_json(b"\"\\u12g4\"").is_err());
        assert!(pretty_json(b"\"a\nb\"").is_err());
        assert!(pretty_json(b"[\"\xff\"]").is_err());
        assert!(pretty_json(b"tru").is_err());
        assert!(pretty_json(b"{\"a\" 1}").is_err());
        assert!(pretty_json(b"{1:2}").is_err());
        let e = pretty_json(b"[1,\xff x]").unwrap_err();
        assert_eq!(e.message, "invalid UTF-8");
        let e = pretty_json(b"[x, \xff]").unwrap_err();
        assert_ne!(e.message, "invalid UTF-8");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let s = "[".repeat(100_000);
        assert!(pretty_json(s.as_bytes()).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(pretty_json(ok.as_bytes()).is_ok());
        // MAX_DEPTH counts non-empty containers; the innermost `[]` is free.
        let bad = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert!(pretty_json(bad.as_bytes()).is_err());
    }

    #[test]
    fn index_matches_fresh_index() {
        let body = pretty_json_body(br#"{"a":[1,2,{"b":null}],"c":{}}"#).unwrap();
        let fresh = LineIndex::new(body.text());
        assert_eq!(body.line_count(), fresh.len());
        for n in 0..fresh.len() {
            assert_eq!(body.line(n), fresh.line(body.text(), n));
        }
    }

    #[test]
    fn preview_stops_early() {
        let src = br#"{"a":[1,2,3,4,5,6,7,8,9]}"#;
        let p = pretty_json_preview(src, 4);
        assert!(!p.complete);
        assert_eq!(p.text, "{\n  \"a\": [\n    1,\n    2,");
        let full = pretty_json_preview(src, 1000);
        assert!(full.complete);
        assert_eq!(full.text, pretty_json(src).unwrap());
        let bad = pretty_json_preview(b"[1, ?]", 1000);
        assert!(bad.error.is_some());
    }

    #[test]
    fn ndjson_reports_bad_lines() {
        let src = b"{\"a\":1}\n\n{\"b\":}\r\n[1]\n{\n";
        let errs = check_ndjson(src);
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].0, 3);
        assert_eq!(errs[0].1.line, 3);
        assert_eq!(errs[0].1.column, 6);
        assert_eq!(errs[1].0, 5);
        assert!(check_ndjson(b"{}\r\n{}\r\n").is_empty());
    }
}
