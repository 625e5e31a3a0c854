//! Hand-written, per-line JSON tokenizer for highlighting.
//!
//! It does not validate structure; it only classifies bytes. The state carried
//! between lines is whether the line starts inside a string (only possible in
//! raw, non-pretty bodies, i.e. invalid JSON with a raw line break in a string).

use super::swar::{find_byte, find_byte2};
use std::ops::Range;

/// Token classes shared by every highlighter (JSON, XML/HTML via syntect,
/// plain text), so the UI needs one colour mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Object key; XML/HTML tag and attribute names.
    Key,
    /// String value; XML attribute values.
    String,
    Number,
    Boolean,
    Null,
    /// `{}[]:,`; XML `<`, `>`, `/>`, `=`.
    Punctuation,
    Whitespace,
    /// Bytes that cannot start any JSON token (e.g. `tru`, `NaN`, `'x'`).
    Error,
    /// Un-highlighted text (plain bodies, XML text content, very long lines).
    Plain,
    /// XML/HTML comments.
    Comment,
}

/// A highlighted byte range within one line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub range: Range<usize>,
    pub kind: TokenKind,
}

/// State carried from the end of one line to the start of the next.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug, Hash)]
pub struct JsonLineState {
    in_string: bool,
}

impl JsonLineState {
    /// True if the next line starts inside a string.
    pub fn in_string(&self) -> bool {
        self.in_string
    }
}

#[inline]
fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\r' | b'\n' | b'{' | b'}' | b'[' | b']' | b':' | b',' | b'"'
    )
}

/// Scan a string body from `from` (just after the opening quote, or the line
/// start when continuing). Returns (end, closed): `end` is just past the
/// closing quote, or the line length if the string is still open.
#[inline]
fn scan_string(b: &[u8], from: usize) -> (usize, bool) {
    let mut i = from;
    loop {
        match find_byte2(b, i, b'"', b'\\') {
            None => return (b.len(), false),
            Some(p) => {
                if b.get(p) == Some(&b'\\') {
                    i = p + 2;
                    if i > b.len() {
                        return (b.len(), false);
                    }
                } else {
                    return (p + 1, true);
                }
            }
        }
    }
}

#[inline]
fn followed_by_colon(b: &[u8], mut i: usize) -> bool {
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' => i += 1,
            b':' => return true,
            _ => return false,
        }
    }
    false
}

/// Highlight one line. Spans cover the whole line, in order, without gaps.
/// A key is a string followed (after optional spaces) by `:` on the same line.
pub fn highlight_json_line(line: &str, state: &mut JsonLineState) -> Vec<Span> {
    let mut out = Vec::new();
    highlight_json_line_into(line, state, &mut out);
    out
}

/// Like [`highlight_json_line`], appending to `out` (for buffer reuse).
pub fn highlight_json_line_into(line: &str, state: &mut JsonLineState, out: &mut Vec<Span>) {
    let b = line.as_bytes();
    let mut i = 0;
    let mut push = |range: Range<usize>, kind: TokenKind| out.push(Span { range, kind });
    if state.in_string {
        let (end, closed) = scan_string(b, 0);
        let kind = if closed && followed_by_colon(b, end) {
            TokenKind::Key
        } else {
            TokenKind::String
        };
        if end > 0 {
            push(0..end, kind);
        }
        state.in_string = !closed;
        i = end;
    }
    while let Some(&c) = b.get(i) {
        let start = i;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                while let Some(b' ' | b'\t' | b'\r' | b'\n') = b.get(i) {
                    i += 1;
                }
                push(start..i, TokenKind::Whitespace);
            }
            b'{' | b'}' | b'[' | b']' | b':' | b',' => {
                i += 1;
                push(start..i, TokenKind::Punctuation);
            }
            b'"' => {
                let (end, closed) = scan_string(b, i + 1);
                i = end;
                let kind = if closed && followed_by_colon(b, end) {
                    TokenKind::Key
                } else {
                    TokenKind::String
                };
                state.in_string = !closed;
                push(start..i, kind);
            }
            _ => {
                while let Some(&d) = b.get(i) {
                    if is_delim(d) {
                        break;
                    }
                    i += 1;
                }
                let word = b.get(start..i).unwrap_or(&[]);
                push(start..i, classify_word(word));
            }
        }
    }
}

fn classify_word(w: &[u8]) -> TokenKind {
    match w {
        b"true" | b"false" => TokenKind::Boolean,
        b"null" => TokenKind::Null,
        [b'-' | b'0'..=b'9', ..]
            if w.iter()
                .all(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) =>
        {
            TokenKind::Number
        }
        _ => TokenKind::Error,
    }
}

/// The state after `line`, without producing spans (fast path used to build
/// checkpoints). Always equal to the state [`highlight_json_line`] leaves.
pub fn advance_json_state(line: &str, state: JsonLineState) -> JsonLineState {
    let b = line.as_bytes();
    let mut in_s = state.in_string;
    let mut i = 0;
    loop {
        if in_s {
            let (end, closed) = scan_string(b, i);
            if !closed {
                break;
            }
            in_s = false;
            i = end;
        } else {
            match find_byte(b, i, b'"') {
                None => break,
                Some(p) => {
                    in_s = true;
                    i = p + 1;
                }
            }
        }
    }
    JsonLineState { in_string: in_s }
}

/// Highlight at most the first `max_bytes` bytes (rounded down to a char
/// boundary); the rest of the line becomes one [`TokenKind::Plain`] span. The
/// resulting state is exact (the whole line is scanned for strings).
pub fn highlight_json_line_capped(
    line: &str,
    state: &mut JsonLineState,
    max_bytes: usize,
    out: &mut Vec<Span>,
) {
    if line.len() <= max_bytes {
        highlight_json_line_into(line, state, out);
        return;
    }
    let mut cut = max_bytes;
    while cut > 0 && !line.is_char_boundary(cut) {
        cut -= 1;
    }
    let end_state = advance_json_state(line, *state);
    let mut tmp = *state;
    highlight_json_line_into(line.get(..cut).unwrap_or(""), &mut tmp, out);
    out.push(Span {
        range: cut..line.len(),
        kind: TokenKind::Plain,
    });
    *state = end_state;
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind::*;

    fn kinds<'a>(line: &'a str, st: &mut JsonLineState) -> Vec<(&'a str, TokenKind)> {
        highlight_json_line(line, st)
            .into_iter()
            .map(|s| (&line[s.range], s.kind))
            .collect()
    }

    #[test]
    fn basic_tokens() {
        let mut st = JsonLineState::default();
        assert_eq!(
            kinds(
                r#"  "resourceType" : "Patient", "n": -1.5e3, "b": [true, null, tru]"#,
                &mut st
            ),
            vec![
                ("  ", Whitespace),
                ("\"resourceType\"", Key),
                (" ", Whitespace),
                (":", Punctuation),
                (" ", Whitespace),
                ("\"Patient\"", String),
                (",", Punctuation),
                (" ", Whitespace),
                ("\"n\"", Key),
                (":", Punctuation),
                (" ", Whitespace),
                ("-1.5e3", Number),
                (",", Punctuation),
                (" ", Whitespace),
                ("\"b\"", Key),
                (":", Punctuation),
                (" ", Whitespace),
                ("[", Punctuation),
                ("true", Boolean),
                (",", Punctuation),
                (" ", Whitespace),
                ("null", Null),
                (",", Punctuation),
                (" ", Whitespace),
                ("tru", Error),
                ("]", Punctuation),
            ]
        );
        assert!(!st.in_string());
    }

    #[test]
    fn escapes_and_multiline_strings() {
        let mut st = JsonLineState::default();
        assert_eq!(
            kinds(r#""a\"b", "c\\""#, &mut st),
            vec![
                (r#""a\"b""#, String),
                (",", Punctuation),
                (" ", Whitespace),
                (r#""c\\""#, String)
            ]
        );
        assert!(!st.in_string());
        assert_eq!(
            kinds(r#"{"text": "line one"#, &mut st).last().unwrap().1,
            String
        );
        assert!(st.in_string());
        assert_eq!(kinds(r#"line two" : 1"#, &mut st)[0], ("line two\"", Key));
        assert!(!st.in_string());
        // trailing backslash keeps the string open
        kinds(r#""abc\"#, &mut st);
        assert!(st.in_string());
        kinds("", &mut st);
        assert!(st.in_string());
    }

    #[test]
    fn non_ascii_words_stay_on_char_boundaries() {
        let mut st = JsonLineState::default();
        let line = "éé: [ñ,\"ü\"]";
        for s in highlight_json_line(line, &mut st) {
            assert!(line.get(s.range.clone()).is_some());
        }
    }

    #[test]
    fn capped_keeps_exact_state() {
        let line = r#"{"a": "xx\"yy", "b": "open"#;
        for cap in 0..line.len() + 2 {
            let mut st = JsonLineState::default();
            let mut out = Vec::new();
            highlight_json_line_capped(line, &mut st, cap, &mut out);
            assert!(st.in_string());
            assert_eq!(out.first().map_or(0, |s| s.range.start), 0);
            assert_eq!(out.last().unwrap().range.end, line.len());
        }
    }
}
