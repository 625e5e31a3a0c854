//! The JavaScript lexing the matchers share: identifiers, string literals, balanced brackets,
//! top-level splits and brace depth.

/// A path step for `key`: `.key` for identifiers, `["key"]` otherwise.
pub(crate) fn path_key(key: &str) -> String {
    if is_ident(key) {
        format!(".{key}")
    } else {
        format!("[\"{key}\"]")
    }
}

pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

pub(super) fn contains_word(line: &str, word: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = line.get(from..).and_then(|r| r.find(word)) {
        let start = from + pos;
        let end = start + word.len();
        let before = line.get(..start).and_then(|b| b.chars().next_back());
        let after = line.get(end..).and_then(|a| a.chars().next());
        let boundary =
            |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        if boundary(before) && boundary(after) && before != Some('.') {
            return true;
        }
        from = end;
    }
    false
}

/// Reads a `'…'`, `"…"` or `` `…` `` literal at the start of `s`; returns its text and the rest.
pub(crate) fn string_literal(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    let (_, q) = chars.next()?;
    if !matches!(q, '\'' | '"' | '`') {
        return None;
    }
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in chars {
        if escaped {
            out.push(match c {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                other => other,
            });
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == q {
            return Some((out, s.get(i + c.len_utf8()..)?));
        } else {
            out.push(c);
        }
    }
    None
}

/// With `s` starting at `open`, the text up to the matching `close` and the rest after it.
/// Quotes are respected.
pub(crate) fn balanced(s: &str, open: char, close: char) -> Option<(&str, &str)> {
    if !s.starts_with(open) {
        return None;
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            c if c == open => depth += 1,
            c if c == close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let inner = s.get(open.len_utf8()..i)?;
                    let rest = s.get(i + close.len_utf8()..)?;
                    return Some((inner, rest));
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on `;` (or `sep`) outside strings and brackets; empty pieces are dropped.
pub(super) fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            c if c == sep && depth == 0 => {
                if let Some(piece) = s.get(start..i) {
                    out.push(piece);
                }
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if let Some(piece) = s.get(start..) {
        out.push(piece);
    }
    out.into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

pub(super) fn split_statements(s: &str) -> Vec<&str> {
    split_top(s, ';')
}

/// Net `{` minus `}` on a line, outside strings and `//` comments.
pub(super) fn brace_delta(line: &str) -> i64 {
    let mut d = 0i64;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut prev = '\0';
    for c in line.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '/' if prev == '/' => break,
            '\'' | '"' | '`' => quote = Some(c),
            '{' => d += 1,
            '}' => d -= 1,
            _ => {}
        }
        prev = c;
    }
    d
}

/// The line closing the block opened on line `open`.
pub(super) fn matching_close(lines: &[String], open: usize) -> Option<usize> {
    let mut depth = 0i64;
    for (i, l) in lines.iter().enumerate().skip(open) {
        depth += brace_delta(l);
        if depth <= 0 {
            return (i > open).then_some(i);
        }
    }
    None
}
