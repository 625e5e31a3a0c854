//! Highlighted output for terminals outside the TUI (`fhirside run`, `fhirside fmt --color`):
//! the same tokenizer as the body view, written as ANSI colour codes.

use super::highlight_json::{JsonLineState, Span, TokenKind, highlight_json_line_into};

fn code(kind: TokenKind) -> Option<&'static str> {
    match kind {
        TokenKind::Key => Some("\x1b[34m"),
        TokenKind::String => Some("\x1b[32m"),
        TokenKind::Number => Some("\x1b[35m"),
        TokenKind::Boolean | TokenKind::Null => Some("\x1b[33m"),
        TokenKind::Error => Some("\x1b[31m"),
        TokenKind::Comment => Some("\x1b[90m"),
        TokenKind::Punctuation | TokenKind::Whitespace | TokenKind::Plain => None,
    }
}

/// Writes `text` (JSON, any layout) with ANSI colours into `out`.
pub fn write_json_ansi(text: &str, out: &mut String) {
    let mut state = JsonLineState::default();
    let mut spans: Vec<Span> = Vec::new();
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        spans.clear();
        highlight_json_line_into(body, &mut state, &mut spans);
        for s in &spans {
            let piece = body.get(s.range.clone()).unwrap_or("");
            match code(s.kind) {
                Some(c) => {
                    out.push_str(c);
                    out.push_str(piece);
                    out.push_str("\x1b[0m");
                }
                None => out.push_str(piece),
            }
        }
        out.push_str(nl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_keys_and_values() {
        let mut out = String::new();
        write_json_ansi("{\n  \"a\": 1,\n  \"b\": null\n}\n", &mut out);
        assert!(out.contains("\x1b[34m\"a\"\x1b[0m"));
        assert!(out.contains("\x1b[35m1\x1b[0m"));
        assert!(out.ends_with("}\n"));
        let plain: String = {
            let mut s = out.clone();
            for c in ["\x1b[34m", "\x1b[32m", "\x1b[35m", "\x1b[33m", "\x1b[0m"] {
                s = s.replace(c, "");
            }
            s
        };
        assert_eq!(plain, "{\n  \"a\": 1,\n  \"b\": null\n}\n");
    }
}
