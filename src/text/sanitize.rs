//! The one sanitiser for text that reaches a terminal: anything a server, a file or an import
//! wrote could hold escape sequences (clear the screen, set the title, write the clipboard with
//! OSC 52, fake a hyperlink with OSC 8) or bidi controls that make a line read differently
//! from what it is. Those characters are shown visibly (`\x1b`, `\u{202e}`), never passed on.
//!
//! Dependency-free and allocation-free on clean text (a byte scan), because the TUI runs it over
//! every drawn cell.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Text for a terminal: tab and newline kept (and a carriage return right before a newline),
/// every other control or bidi character escaped.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    sanitize(text, false)
}

/// Text for one line (a table cell, a status line, a name): like [`for_terminal`], and line
/// breaks are escaped too, so the field cannot start a line of its own.
pub fn for_line(text: &str) -> Cow<'_, str> {
    sanitize(text, true)
}

/// Bytes for a terminal: invalid UTF-8 becomes U+FFFD, then as [`for_terminal`].
pub fn bytes_for_terminal(bytes: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => for_terminal(s),
        Cow::Owned(s) => Cow::Owned(for_terminal(&s).into_owned()),
    }
}

/// True when `c` must never reach a terminal as itself: C0 controls (tab and newline aside),
/// DEL, C1 controls, and the bidi embeddings, overrides, isolates and marks.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// True when `text` holds anything [`for_terminal`] would change.
pub fn needs_escaping(text: &str) -> bool {
    first_suspect(text.as_bytes()).is_some_and(|start| {
        text[start..]
            .char_indices()
            .any(|(i, c)| must_escape(c, &text[start + i..], false))
    })
}

/// The visible form of one unsafe character: `\x1b` for C0 and DEL, `\u{9b}` for the rest.
pub fn escape_char(c: char, out: &mut String) {
    let n = c as u32;
    let _ = if n < 0x80 {
        write!(out, "\\x{n:02x}")
    } else {
        write!(out, "\\u{{{n:x}}}")
    };
}

fn sanitize(text: &str, one_line: bool) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let Some(start) = first_suspect_for(bytes, one_line) else {
        return Cow::Borrowed(text);
    };
    let mut out: Option<String> = None;
    let mut copied = 0;
    for (i, c) in text[start..].char_indices() {
        let at = start + i;
        if must_escape(c, &text[at..], one_line) {
            let s = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
            s.push_str(&text[copied..at]);
            match c {
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                _ => escape_char(c, s),
            }
            copied = at + c.len_utf8();
        }
    }
    match out {
        Some(mut s) => {
            s.push_str(&text[copied..]);
            Cow::Owned(s)
        }
        None => Cow::Borrowed(text),
    }
}

/// Whether `c` (at the start of `rest`) is escaped.
fn must_escape(c: char, rest: &str, one_line: bool) -> bool {
    match c {
        '\t' => false,
        '\n' => one_line,
        // CRLF line ends are harmless; a lone CR can overwrite what was printed before it.
        '\r' => one_line || !rest[1..].starts_with('\n'),
        c => is_unsafe(c),
    }
}

fn first_suspect(bytes: &[u8]) -> Option<usize> {
    first_suspect_for(bytes, false)
}

/// The first byte that may begin an unsafe character: a C0 control or DEL, or the lead byte of
/// a C1 control (0xC2), ALM (0xD8) or the U+2000 block's bidi controls (0xE2). Clean text is
/// scanned byte by byte without decoding.
fn first_suspect_for(bytes: &[u8], one_line: bool) -> Option<usize> {
    bytes.iter().position(|&b| match b {
        b'\t' => false,
        b'\n' => one_line,
        0..=0x1f | 0x7f | 0xc2 | 0xd8 | 0xe2 => true,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(for_terminal("GET\x1b[2J"), "GET\\x1b[2J");
        assert_eq!(
            for_terminal("\x1b]0;pwned\x07title"),
            "\\x1b]0;pwned\\x07title"
        );
        assert_eq!(
            for_terminal("\x1b]52;c;aGk=\x1b\\"),
            "\\x1b]52;c;aGk=\\x1b\\"
        );
        assert_eq!(for_terminal("a\u{9b}31mb"), "a\\u{9b}31mb");
        assert_eq!(for_terminal("\x1bP1$r\x1b\\"), "\\x1bP1$r\\x1b\\");
        assert_eq!(for_terminal("del\x7f"), "del\\x7f");
        assert_eq!(for_terminal("lone\rCR"), "lone\\rCR");
    }

    #[test]
    fn bidi_controls_are_shown() {
        assert_eq!(for_terminal("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(for_terminal("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(for_terminal("\u{200f}\u{61c}"), "\\u{200f}\\u{61c}");
    }

    #[test]
    fn clean_text_is_borrowed_and_unchanged() {
        for s in [
            "plain",
            "tab\tand\nnewline",
            "crlf\r\nend",
            "Zoë — 東京 ✓ ءا",
            "",
        ] {
            assert!(matches!(for_terminal(s), Cow::Borrowed(_)), "{s:?}");
            assert_eq!(for_terminal(s), s);
        }
    }

    #[test]
    fn one_line_fields_escape_line_breaks() {
        assert_eq!(for_line("a\nb\r\nc\td"), "a\\nb\\r\\nc\td");
        assert_eq!(for_line("ok"), "ok");
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        assert_eq!(bytes_for_terminal(b"a\xff\x1b"), "a\u{fffd}\\x1b");
        assert!(!needs_escaping("fine\n"));
        assert!(needs_escaping("x\u{85}"));
    }

    fn holds_unsafe(s: &str, one_line: bool) -> bool {
        let b = s.as_bytes();
        s.char_indices().any(|(i, c)| match c {
            '\r' => one_line || b.get(i + 1) != Some(&b'\n'),
            '\n' => one_line,
            c => is_unsafe(c),
        })
    }

    proptest! {
        #[test]
        fn no_output_holds_a_control_or_bidi_character(s in "\\PC*|[\\x00-\\x7f\\u{80}-\\u{9f}\\u{200e}\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{61c}a-z]*") {
            prop_assert!(!holds_unsafe(&for_terminal(&s), false));
            prop_assert!(!holds_unsafe(&for_line(&s), true));
        }

        #[test]
        fn printable_text_is_unchanged(s in "[^\\p{Cc}\\u{200e}\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{61c}]*") {
            prop_assert_eq!(for_terminal(&s), s.as_str());
            prop_assert_eq!(for_line(&s), s.as_str());
        }

        #[test]
        fn escaping_keeps_every_safe_character_in_order(s in any::<String>()) {
            let kept: String = s.chars().filter(|c| !is_unsafe(*c) && *c != '\r').collect();
            let shown: String = for_terminal(&s).chars().filter(|c| *c != '\r').collect();
            // Removing the escapes' own text is hard; check that the safe characters survive
            // as a subsequence.
            let mut it = shown.chars();
            prop_assert!(kept.chars().all(|c| it.any(|d| d == c)));
        }
    }
}
