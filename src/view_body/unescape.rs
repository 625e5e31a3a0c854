//! `\uXXXX` escapes in JSON strings shown as the characters they stand for.
//!
//! Python, Java and .NET servers often escape every non-ASCII character (`"M\u00fcller"`): the
//! pretty view keeps the body's bytes as received and decodes only what is drawn, piece by piece,
//! so a 50 MB body costs nothing extra. Escapes that stand for characters a terminal must not be
//! given raw (controls, bidi overrides, lone surrogates) stay escaped, as do `\"`, `\\` and the
//! one-letter escapes, so the text stays valid JSON to read.

use std::borrow::Cow;

/// `piece` (a string or key token, or part of one) with its `\uXXXX` escapes decoded, surrogate
/// pairs joined; borrowed when there is nothing to decode.
pub fn decode_unicode_escapes(piece: &str) -> Cow<'_, str> {
    if !piece.contains("\\u") {
        return Cow::Borrowed(piece);
    }
    let mut out = String::with_capacity(piece.len());
    let mut rest = piece;
    while let Some(i) = rest.find('\\') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let tail = rest.get(i..).unwrap_or("");
        let (text, used) = escape_at(tail);
        out.push_str(
            text.as_deref()
                .unwrap_or_else(|| tail.get(..used).unwrap_or("")),
        );
        rest = tail.get(used..).unwrap_or("");
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The escape at the start of `s` (which begins with `\`): what to show instead (None: show it
/// as it is) and how many bytes it spans.
fn escape_at(s: &str) -> (Option<String>, usize) {
    let b = s.as_bytes();
    match b.get(1) {
        Some(b'u') => {}
        // `\\`, `\"`, `\n`…: two bytes, shown as they are (a `\\u00fc` is not an escape).
        Some(c) if c.is_ascii() => return (None, 2),
        // A lone backslash at the end of a piece, or before a multi-byte character.
        _ => return (None, 1),
    }
    let Some(high) = hex4(s, 2) else {
        return (None, 2);
    };
    if (0xD800..0xDC00).contains(&high) {
        // A high surrogate: decoded only with the low one that must follow.
        if s.get(6..8) == Some("\\u")
            && let Some(low) = hex4(s, 8)
            && (0xDC00..0xE000).contains(&low)
        {
            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return (char::from_u32(code).filter(shown).map(String::from), 12);
        }
        return (None, 6);
    }
    (char::from_u32(high).filter(shown).map(String::from), 6)
}

/// Four hex digits at `at`.
fn hex4(s: &str, at: usize) -> Option<u32> {
    let digits = s.get(at..at + 4)?;
    if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

/// Characters shown decoded: not controls (C0, DEL, C1), not `"` or `\` (their escapes are the
/// JSON spelling), not bidi controls or other invisible format characters a reader must see.
fn shown(c: &char) -> bool {
    let c = *c;
    !(c.is_control()
        || c == '"'
        || c == '\\'
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{061C}' | '\u{FEFF}'))
}

/// The spellings a search for `needle` must also try to find text a server escaped: each
/// non-ASCII character as `\uXXXX` (surrogate pairs beyond the BMP). Hex case does not matter
/// to the body's search, which ignores ASCII case. Empty when `needle` is all ASCII.
pub fn escaped_spelling(needle: &str) -> Option<String> {
    if needle.is_ascii() {
        return None;
    }
    let mut out = String::with_capacity(needle.len() * 3);
    for c in needle.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_servers_escape() {
        assert_eq!(decode_unicode_escapes(r#""M\u00fcller""#), "\"Müller\"");
        assert_eq!(decode_unicode_escapes(r#""M\u00FCller""#), "\"Müller\"");
        assert_eq!(decode_unicode_escapes(r#""Zo\u00eb \u738b""#), "\"Zoë 王\"");
        // A surrogate pair is one character.
        assert_eq!(decode_unicode_escapes(r#""\ud83d\ude00""#), "\"😀\"");
        // Nothing to do: borrowed.
        assert!(matches!(decode_unicode_escapes("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn keeps_escapes_that_must_stay_visible() {
        for kept in [
            r#""\u0000""#,
            r#""\u001b[31m""#,
            r#""\u009b""#,
            r#""\u202e""#,
            r#""\u2066""#,
            r#""\u0022""#,
            r#""\u005c""#,
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud83d\u0041""#,
        ] {
            assert!(
                decode_unicode_escapes(kept).contains("\\u"),
                "{kept} was decoded"
            );
        }
        // An escaped backslash followed by u00fc is the text \u00fc, not an escape.
        assert_eq!(decode_unicode_escapes(r#""\\u00fc""#), r#""\\u00fc""#);
        assert_eq!(decode_unicode_escapes(r#""a\n\u00e9""#), "\"a\\né\"");
    }

    #[test]
    fn pieces_cut_anywhere_do_not_panic() {
        let s = r#""\ud83d\ude00 M\u00fcller \\ \" é""#;
        for i in 0..=s.len() {
            for j in i..=s.len() {
                if let Some(p) = s.get(i..j) {
                    let _ = decode_unicode_escapes(p);
                }
            }
        }
        assert_eq!(decode_unicode_escapes("\\u12"), "\\u12");
        assert_eq!(decode_unicode_escapes("\\"), "\\");
        assert_eq!(decode_unicode_escapes("\\é"), "\\é");
    }

    #[test]
    fn a_search_also_tries_the_escaped_spelling() {
        assert_eq!(escaped_spelling("Müller").as_deref(), Some("M\\u00fcller"));
        assert_eq!(escaped_spelling("😀").as_deref(), Some("\\ud83d\\ude00"));
        assert_eq!(escaped_spelling("Smith"), None);
    }
}
