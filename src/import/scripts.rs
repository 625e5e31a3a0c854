//! Reading the handful of Postman script idioms that are really data: "save this field of the
//! response into that variable" becomes a capture rule, and a collection pre-request script
//! that fetches a client-credentials token becomes a sign-in hint. Everything else is kept as
//! lines that fhirside shows but does not run.
//!
//! This is a line-and-statement matcher, not a JavaScript parser: anything it does not
//! recognise exactly is kept as written.

use std::collections::HashMap;

use serde_json::Value;

use super::ClientCredentials;
use crate::workspace::{Capture, CaptureSource, KeyValue};

/// Script lines from an `exec` that is a string or a list of strings; each piece is split on
/// newlines and a trailing `\r` is dropped.
pub(crate) fn exec_lines(exec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: &str| {
        for l in s.split('\n') {
            out.push(l.strip_suffix('\r').unwrap_or(l).to_string());
        }
    };
    match exec {
        Value::String(s) => push(s),
        Value::Array(items) => {
            for i in items {
                match i {
                    Value::String(s) => push(s),
                    Value::Null => push(""),
                    other => push(&other.to_string()),
                }
            }
        }
        Value::Null => {}
        other => push(&other.to_string()),
    }
    out
}

/// The result of reading a test script.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ReadScript {
    pub captures: Vec<Capture>,
    /// Lines not converted, leading and trailing blank lines trimmed.
    pub kept: Vec<String>,
    /// Kept lines that call `postman.setNextRequest` (reported separately).
    pub next_request: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Line {
    Blank,
    Comment,
    /// Setters, alias definitions and 2xx status checks only.
    Data {
        captures: Vec<Capture>,
        aliases: Vec<String>,
        status_only: bool,
    },
    Open,
    Close,
    Other,
}

/// Converts the capture idioms of a test script; see the module comment.
pub(crate) fn read_test_script(lines: &[String]) -> ReadScript {
    let mut aliases: HashMap<String, String> = HashMap::new();
    let kinds: Vec<Line> = lines.iter().map(|l| classify(l, &mut aliases)).collect();
    let any_capture = kinds
        .iter()
        .any(|k| matches!(k, Line::Data { captures, .. } if !captures.is_empty()));

    // keep[i]: the line stays in the kept script.
    // Without any capture the script stays exactly as written.
    let mut keep: Vec<bool> = kinds
        .iter()
        .map(|k| !any_capture || !matches!(k, Line::Data { .. }))
        .collect();
    // A status-only line that is kept is really "Other" for block purposes.
    let absorbable = |i: usize, keep: &[bool]| -> bool {
        match kinds.get(i) {
            Some(Line::Blank | Line::Comment) => true,
            Some(Line::Data { .. }) => !keep.get(i).copied().unwrap_or(true),
            Some(Line::Open | Line::Close) => !keep.get(i).copied().unwrap_or(true),
            _ => false,
        }
    };
    // Absorb guard blocks (`if (pm.response.code == 200) {`, `pm.test("…", function () {`)
    // whose contents were all converted; repeat so nested guards go too.
    if any_capture {
        loop {
            let mut changed = false;
            for i in 0..kinds.len() {
                if kinds.get(i) != Some(&Line::Open) || !keep.get(i).copied().unwrap_or(false) {
                    continue;
                }
                let Some(j) = matching_close(lines, i) else {
                    continue;
                };
                if kinds.get(j) != Some(&Line::Close) {
                    continue;
                }
                if ((i + 1)..j).all(|k| absorbable(k, &keep)) {
                    for k in i..=j {
                        if !matches!(kinds.get(k), Some(Line::Comment))
                            && let Some(slot) = keep.get_mut(k)
                        {
                            *slot = false;
                        }
                    }
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
    // Alias definitions stay when a kept line still uses the alias.
    for (i, k) in kinds.iter().enumerate() {
        if let Line::Data {
            aliases: defined,
            captures,
            ..
        } = k
            && !defined.is_empty()
            && captures.is_empty()
        {
            let used = lines.iter().enumerate().any(|(n, l)| {
                n != i
                    && keep.get(n).copied().unwrap_or(false)
                    && !matches!(kinds.get(n), Some(Line::Data { .. }))
                    && defined.iter().any(|a| contains_word(l, a))
            });
            if used && let Some(slot) = keep.get_mut(i) {
                *slot = true;
            }
        }
    }

    let mut out = ReadScript::default();
    for k in &kinds {
        if let Line::Data { captures, .. } = k {
            out.captures.extend(captures.iter().cloned());
        }
    }
    let mut kept: Vec<String> = lines
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(l, _)| l.clone())
        .collect();
    trim_blank_edges(&mut kept);
    out.next_request = kept
        .iter()
        .filter(|l| {
            l.contains("postman.setNextRequest") || l.contains("pm.execution.setNextRequest")
        })
        .map(|l| l.trim().to_string())
        .collect();
    out.kept = kept;
    out
}

/// Drops blank lines at both ends; an all-blank script becomes empty.
pub(crate) fn trim_blank_edges(lines: &mut Vec<String>) {
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let lead = lines.iter().take_while(|l| l.trim().is_empty()).count();
    lines.drain(..lead);
}

fn classify(line: &str, aliases: &mut HashMap<String, String>) -> Line {
    let t = line.trim();
    if t.is_empty() {
        return Line::Blank;
    }
    if t.starts_with("//") {
        return Line::Comment;
    }
    if matches!(t, "}" | "});" | "})" | "};" | "} );") {
        return Line::Close;
    }
    if let Some(rest) = t.strip_suffix('{')
        && is_guard_head(rest.trim())
    {
        return Line::Open;
    }
    // One-line forms: `if (guard) stmt;`, `if (guard) { stmts }`, `pm.test("…", function () { stmts });`
    let inner = one_line_inner(t).unwrap_or(t);
    let mut captures = Vec::new();
    let mut defined = Vec::new();
    let mut status_only = true;
    let mut new_aliases = Vec::new();
    let stmts = split_statements(inner);
    if stmts.is_empty() {
        return Line::Other;
    }
    for s in stmts {
        if let Some(c) = setter(s, aliases) {
            captures.push(c);
            status_only = false;
        } else if let Some((name, path)) = alias_def(s, aliases) {
            defined.push(name.clone());
            new_aliases.push((name, path));
            status_only = false;
            // later statements on the same line may use it
            if let Some((n, p)) = new_aliases.last() {
                aliases.insert(n.clone(), p.clone());
            }
        } else if is_status_check(s) {
        } else {
            for (n, _) in &new_aliases {
                aliases.remove(n);
            }
            return Line::Other;
        }
    }
    Line::Data {
        captures,
        aliases: defined,
        status_only,
    }
}

/// The statements inside a one-line guard or `pm.test` wrapper.
fn one_line_inner(t: &str) -> Option<&str> {
    if let Some(rest) = t.strip_prefix("if") {
        let rest = rest.trim_start();
        let (cond, after) = balanced(rest, '(', ')')?;
        if !is_success_condition(cond) {
            return None;
        }
        let after = after.trim();
        if let Some(b) = after.strip_prefix('{') {
            return Some(b.trim_end().strip_suffix('}')?.trim());
        }
        return Some(after);
    }
    if let Some(rest) = t.strip_prefix("pm.test") {
        let (args, after) = balanced(rest.trim_start(), '(', ')')?;
        if !matches!(after.trim(), "" | ";") {
            return None;
        }
        let (_, rest) = string_literal(args.trim_start())?;
        let rest = rest.trim_start().strip_prefix(',')?.trim_start();
        let body = rest
            .strip_prefix("function")
            .map(|r| r.trim_start())
            .and_then(|r| r.strip_prefix("()"))
            .or_else(|| {
                rest.strip_prefix("()")
                    .and_then(|r| r.trim_start().strip_prefix("=>"))
            })?
            .trim();
        let body = body.strip_prefix('{')?.trim_end().strip_suffix('}')?;
        return Some(body.trim());
    }
    None
}

/// `if (pm.response.code == 200)` or `pm.test("…", function ()` (the line's `{` already removed).
fn is_guard_head(head: &str) -> bool {
    if let Some(rest) = head.strip_prefix("if") {
        if let Some((cond, after)) = balanced(rest.trim_start(), '(', ')') {
            return after.trim().is_empty() && is_success_condition(cond);
        }
        return false;
    }
    if let Some(rest) = head.strip_prefix("pm.test") {
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix('(') else {
            return false;
        };
        let Some((_, rest)) = string_literal(rest.trim_start()) else {
            return false;
        };
        let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
        return compact == ",function()" || compact == ",()=>";
    }
    false
}

fn is_success_condition(cond: &str) -> bool {
    let c: String = cond.chars().filter(|c| !c.is_whitespace()).collect();
    let c = c.trim_start_matches('(').trim_end_matches(')');
    for subject in ["pm.response.code", "responseCode.code"] {
        for op in ["===", "=="] {
            if let Some(n) = c
                .strip_prefix(subject)
                .and_then(|r| r.strip_prefix(op))
                .or_else(|| c.strip_suffix(subject).and_then(|r| r.strip_suffix(op)))
                && is_2xx(n)
            {
                return true;
            }
        }
    }
    false
}

fn is_2xx(n: &str) -> bool {
    n.len() == 3 && n.starts_with('2') && n.chars().all(|c| c.is_ascii_digit())
}

/// `pm.response.to.have.status(200)`, `pm.response.to.be.ok`, `tests["…"] = responseCode.code === 200` and the like.
fn is_status_check(s: &str) -> bool {
    let c: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let c = c.trim_end_matches(';');
    if let Some(n) = c
        .strip_prefix("pm.response.to.have.status(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return is_2xx(n);
    }
    if matches!(
        c,
        "pm.response.to.be.ok" | "pm.response.to.be.success" | "pm.response.to.be.json"
    ) {
        return true;
    }
    for tail in [").to.eql(", ").to.equal(", ").to.be.equal("] {
        if let Some(n) = c
            .strip_prefix("pm.expect(pm.response.code")
            .and_then(|r| r.strip_prefix(tail))
            .and_then(|r| r.strip_suffix(')'))
        {
            return is_2xx(n);
        }
    }
    if let Some(rest) = c.strip_prefix("tests[")
        && let Some(eq) = rest.find("]=")
    {
        return is_success_condition(rest.get(eq + 2..).unwrap_or_default());
    }
    false
}

const SETTERS: [&str; 6] = [
    "pm.environment.set",
    "pm.collectionVariables.set",
    "pm.globals.set",
    "pm.variables.set",
    "postman.setEnvironmentVariable",
    "postman.setGlobalVariable",
];

/// `pm.environment.set("x", <response expression>)` as a capture rule.
fn setter(s: &str, aliases: &HashMap<String, String>) -> Option<Capture> {
    let s = s.trim().trim_end_matches(';').trim_end();
    let rest = SETTERS.iter().find_map(|p| s.strip_prefix(p))?;
    let (args, after) = balanced(rest.trim_start(), '(', ')')?;
    if !after.trim().is_empty() {
        return None;
    }
    let (name, rest) = string_literal(args.trim_start())?;
    let expr = rest.trim_start().strip_prefix(',')?.trim();
    if name.is_empty() {
        return None;
    }
    let (source, path) = response_expr(expr, aliases)?;
    Some(Capture {
        variable: name,
        source,
        path,
    })
}

/// `var jsonData = pm.response.json();` (or `JSON.parse(responseBody)`, or an alias plus a path).
fn alias_def(s: &str, aliases: &HashMap<String, String>) -> Option<(String, String)> {
    let s = s.trim().trim_end_matches(';').trim_end();
    let rest = ["var ", "let ", "const "]
        .iter()
        .find_map(|k| s.strip_prefix(k))?;
    let (name, expr) = rest.split_once('=')?;
    let name = name.trim();
    if !is_ident(name) || expr.starts_with('=') {
        return None;
    }
    match response_expr(expr.trim(), aliases)? {
        (CaptureSource::Body, path) => Some((name.to_string(), path)),
        _ => None,
    }
}

/// Where a response expression reads from: the JSON body at a path, or a header.
fn response_expr(expr: &str, aliases: &HashMap<String, String>) -> Option<(CaptureSource, String)> {
    let expr = expr.trim();
    for p in [
        "pm.response.headers.get",
        "postman.getResponseHeader",
        "pm.response.headers.one",
    ] {
        if let Some(rest) = expr.strip_prefix(p) {
            let (arg, after) = balanced(rest.trim_start(), '(', ')')?;
            let (name, tail) = string_literal(arg.trim())?;
            if !tail.trim().is_empty() || !after.trim().is_empty() || name.is_empty() {
                return None;
            }
            return Some((CaptureSource::Header, name));
        }
    }
    if let Some(rest) = expr.strip_prefix("responseHeaders") {
        let (key, after) = balanced(rest.trim_start(), '[', ']')?;
        let (name, tail) = string_literal(key.trim())?;
        if !tail.trim().is_empty() || !after.trim().is_empty() {
            return None;
        }
        return Some((CaptureSource::Header, name));
    }
    let (base, rest) = if let Some(r) = expr.strip_prefix("pm.response.json()") {
        ("$".to_string(), r)
    } else if let Some(r) = expr.strip_prefix("JSON.parse(responseBody)") {
        ("$".to_string(), r)
    } else {
        let end = expr
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(expr.len());
        let name = expr.get(..end)?;
        let base = aliases.get(name)?.clone();
        (base, expr.get(end..)?)
    };
    let mut path = base;
    path.push_str(&accessors(rest)?);
    Some((CaptureSource::Body, path))
}

/// `.a["b"][0]` as a canonical path suffix `.a.b[0]` (keys that are not identifiers stay bracketed).
fn accessors(mut s: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Some(out);
        }
        if let Some(r) = s.strip_prefix('.') {
            let r = r.trim_start();
            let end = r
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(r.len());
            let key = r.get(..end)?;
            // `.length` is JavaScript's array length, not a field.
            if key.is_empty() || key == "length" {
                return None;
            }
            out.push('.');
            out.push_str(key);
            s = r.get(end..)?;
        } else if s.starts_with('[') {
            let (inner, after) = balanced(s, '[', ']')?;
            let inner = inner.trim();
            if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) {
                out.push('[');
                out.push_str(inner);
                out.push(']');
            } else {
                let (key, tail) = string_literal(inner)?;
                if !tail.trim().is_empty() || key.contains([']', '"', '\'']) {
                    return None;
                }
                out.push_str(&path_key(&key));
            }
            s = after;
        } else {
            return None;
        }
    }
}

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

fn contains_word(line: &str, word: &str) -> bool {
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
fn split_top(s: &str, sep: char) -> Vec<&str> {
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

fn split_statements(s: &str) -> Vec<&str> {
    split_top(s, ';')
}

/// Net `{` minus `}` on a line, outside strings and `//` comments.
fn brace_delta(line: &str) -> i64 {
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
fn matching_close(lines: &[String], open: usize) -> Option<usize> {
    let mut depth = 0i64;
    for (i, l) in lines.iter().enumerate().skip(open) {
        depth += brace_delta(l);
        if depth <= 0 {
            return (i > open).then_some(i);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Pre-request one-liners that are really settings: literal variables and added headers.

/// What a pre-request script's setting lines became.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct SetupScript {
    /// `pm.variables.set('k', 'v')` and the other setters with a value that is text (or
    /// `{{templates}}`); a setter commented out (`// pm.variables.set(…)`) gives a disabled row.
    pub variables: Vec<KeyValue>,
    /// `pm.request.headers.add({key: 'Accept', value: '…'})`, `upsert`, `pm.request.addHeader`.
    pub headers: Vec<KeyValue>,
    /// Every other line, as written (blank edges trimmed).
    pub kept: Vec<String>,
    /// One line per conversion, for the report.
    pub converted: Vec<String>,
}

/// Converts the setting one-liners of a pre-request script. Only statements at the top level
/// count (a setter inside an `if` or a callback is not always run, so it stays a script line).
pub(crate) fn read_pre_request(lines: &[String]) -> SetupScript {
    let mut out = SetupScript::default();
    let mut depth = 0i64;
    let consts = HashMap::new();
    for line in lines {
        let at_top = depth == 0;
        depth = (depth + brace_delta(line)).max(0);
        let t = line.trim();
        if t.is_empty() {
            out.kept.push(line.clone());
            continue;
        }
        if !at_top {
            out.kept.push(line.clone());
            continue;
        }
        let (body, enabled) = match t.strip_prefix("//") {
            Some(rest) => (rest.trim(), false),
            None => (t, true),
        };
        let stmts = split_statements(body);
        let rows: Option<Vec<(bool, KeyValue)>> = if stmts.is_empty() {
            None
        } else {
            stmts
                .iter()
                .map(|st| setting(st, &consts))
                .collect::<Option<Vec<_>>>()
        };
        match rows {
            Some(rows) => {
                for (is_header, mut kv) in rows {
                    kv.enabled = enabled;
                    let what = if is_header { "header" } else { "variable" };
                    out.converted.push(format!(
                        "{}{} became the {what} {} = {}",
                        if enabled { "" } else { "(commented out) " },
                        shorten(body),
                        kv.key,
                        kv.value
                    ));
                    if is_header {
                        out.headers.push(kv);
                        continue;
                    }
                    // The later setter wins, as it would when the script runs; a setter
                    // commented out does not hide a live one.
                    match out.variables.iter().position(|v| v.key == kv.key) {
                        Some(i) if kv.enabled => {
                            out.variables.remove(i);
                            out.variables.push(kv);
                        }
                        Some(_) => {}
                        None => out.variables.push(kv),
                    }
                }
            }
            None => out.kept.push(line.clone()),
        }
    }
    trim_blank_edges(&mut out.kept);
    out
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// One setting statement: `(false, variable)` or `(true, header)`.
fn setting(stmt: &str, consts: &HashMap<String, String>) -> Option<(bool, KeyValue)> {
    let s = stmt.trim().trim_end_matches(';').trim_end();
    if let Some(rest) = SETTERS.iter().find_map(|p| s.strip_prefix(p)) {
        let (args, after) = balanced(rest.trim_start(), '(', ')')?;
        if !after.trim().is_empty() {
            return None;
        }
        let (name, rest) = string_literal(args.trim_start())?;
        let expr = rest.trim_start().strip_prefix(',')?.trim();
        if name.is_empty() || expr.is_empty() {
            return None;
        }
        let value = value_template(expr, consts)?;
        return Some((false, KeyValue::new(name, value)));
    }
    for p in [
        "pm.request.headers.add",
        "pm.request.headers.upsert",
        "pm.request.addHeader",
    ] {
        if let Some(rest) = s.strip_prefix(p) {
            let (args, after) = balanced(rest.trim_start(), '(', ')')?;
            if !after.trim().is_empty() {
                return None;
            }
            let args = args.trim();
            // `({key: 'Accept', value: '…'})` or `('Accept: …')`
            if args.starts_with('{') {
                let (obj, tail) = balanced(args, '{', '}')?;
                if !tail.trim().is_empty() {
                    return None;
                }
                let mut key = None;
                let mut value = None;
                for field in split_top(obj, ',') {
                    let (k, v) = field.split_once(':')?;
                    let k = k.trim().trim_matches(|c| c == '"' || c == '\'');
                    match k {
                        "key" => key = Some(value_template(v.trim(), consts)?),
                        "value" => value = Some(value_template(v.trim(), consts)?),
                        "disabled" if v.trim() == "false" => {}
                        _ => return None,
                    }
                }
                let key = key.filter(|k| !k.trim().is_empty())?;
                return Some((true, KeyValue::new(key, value.unwrap_or_default())));
            }
            let (text, tail) = string_literal(args)?;
            if !tail.trim().is_empty() {
                return None;
            }
            let (k, v) = text.split_once(':')?;
            let k = k.trim();
            if k.is_empty() || k.contains(char::is_whitespace) {
                return None;
            }
            return Some((true, KeyValue::new(k, v.trim())));
        }
    }
    None
}

/// A value that is a string, a number, a boolean, or a template expression.
fn value_template(expr: &str, consts: &HashMap<String, String>) -> Option<String> {
    let e = expr.trim();
    if matches!(e, "true" | "false") || (!e.is_empty() && e.parse::<f64>().is_ok()) {
        return Some(e.to_string());
    }
    expr_template(e, consts)
}

// ---------------------------------------------------------------------------------------------
// Client-credentials sign-in in a collection pre-request script.

/// Recognises a pre-request script that POSTs `grant_type=client_credentials` with
/// `pm.sendRequest`, and reads what it can of the token URL, client id, secret and scope.
pub(crate) fn client_credentials(lines: &[String]) -> Option<ClientCredentials> {
    let text = lines.join("\n");
    if !text.contains("pm.sendRequest") || !text.contains("client_credentials") {
        return None;
    }
    let mut defaults = Vec::new();
    let consts = constants(&text, &mut defaults);
    let mut cc = ClientCredentials {
        token_url: find_key_expr(&text, "url")
            .and_then(|e| expr_template(e, &consts))
            .unwrap_or_default(),
        ..ClientCredentials::default()
    };
    let param = |name: &str| -> String {
        keyed_value(&text, name, &consts)
            .or_else(|| form_value(&text, name, &consts))
            .or_else(|| find_key_expr(&text, name).and_then(|e| expr_template(e, &consts)))
            .unwrap_or_default()
    };
    cc.client_id = param("client_id");
    cc.client_secret = param("client_secret");
    // `'Authorization': 'Basic ' + btoa(clientId + ':' + clientSecret)`
    if let Some((id, secret)) = basic_credentials(&text, &consts) {
        cc.client_authentication = "basic".into();
        if cc.client_id.is_empty() {
            cc.client_id = id;
        }
        if cc.client_secret.is_empty() {
            cc.client_secret = secret;
        }
    }
    cc.defaults = defaults;
    cc.scope = param("scope");
    cc.resource = param("resource");
    if cc.resource.is_empty() {
        cc.resource = param("audience");
    }
    for stmt in text.split(['\n', ';']) {
        let s = stmt.trim();
        if !s.contains("access_token") {
            continue;
        }
        let s = s.trim_start_matches(|c: char| c == '}' || c == ')' || c.is_whitespace());
        let s = s.split_once("=>").map(|(_, r)| r.trim()).unwrap_or(s);
        let s = s.trim_start_matches('{').trim();
        if let Some(rest) = SETTERS.iter().find_map(|p| s.strip_prefix(p))
            && let Some(args) = rest.trim_start().strip_prefix('(')
            && let Some((name, _)) = string_literal(args.trim_start())
        {
            cc.token_variable = name;
            break;
        }
    }
    Some(cc)
}

/// `const NAME = <expr>` definitions whose value can be written as a template.
fn constants(text: &str, defaults: &mut Vec<KeyValue>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for stmt in split_top(text, ';').into_iter().flat_map(|s| s.split('\n')) {
        let s = stmt.trim();
        let Some(rest) = ["var ", "let ", "const "]
            .iter()
            .find_map(|k| s.strip_prefix(k))
        else {
            continue;
        };
        let Some((name, expr)) = rest.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let expr = expr.trim().trim_end_matches(';');
        if !is_ident(name) {
            continue;
        }
        // `pm.environment.get('client_id') || 'my-app'`: the variable, with a default.
        if expr.contains("||")
            && let [first, fallback] = split_top(expr, '|').as_slice()
            && let Some(t) = expr_template(first, &map)
            && let Some((lit, tail)) = string_literal(fallback.trim())
            && tail.trim().is_empty()
        {
            if let Some(var) = t.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
                && !var.contains("{{")
            {
                defaults.push(KeyValue::new(var, &lit));
            }
            map.insert(name.to_string(), t);
            continue;
        }
        if let Some(t) = expr_template(expr, &map) {
            map.insert(name.to_string(), t);
        }
    }
    map
}

/// The client id and secret of an HTTP Basic header built in the script:
/// `btoa(a + ':' + b)` or `CryptoJS.enc.Base64.stringify(CryptoJS.enc.Utf8.parse(a + ':' + b))`.
fn basic_credentials(text: &str, consts: &HashMap<String, String>) -> Option<(String, String)> {
    for opener in ["btoa(", "Utf8.parse(", "Buffer.from("] {
        let Some(pos) = text.find(opener) else {
            continue;
        };
        let from = text.get(pos + opener.len() - 1..)?;
        let (inner, _) = balanced(from, '(', ')')?;
        let inner = inner.split_once(",").map(|(a, _)| a).unwrap_or(inner);
        let parts = split_top(inner, '+');
        if let [a, colon, b] = parts.as_slice()
            && string_literal(colon.trim()).is_some_and(|(c, t)| c == ":" && t.trim().is_empty())
        {
            return Some((expr_template(a, consts)?, expr_template(b, consts)?));
        }
    }
    None
}

/// `key: <expr>` (or `"key": <expr>`) anywhere in the text: the expression up to the next
/// `,` or `}` at the same depth.
fn find_key_expr<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(pos) = text.get(from..).and_then(|r| r.find(key)) {
        let start = from + pos;
        let end = start + key.len();
        from = end;
        let before = text.get(..start).and_then(|b| b.chars().next_back());
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '=' || c == '&') {
            continue;
        }
        let after = text.get(end..)?;
        let after = after.strip_prefix(['"', '\'']).unwrap_or(after);
        let Some(rest) = after.trim_start().strip_prefix(':') else {
            continue;
        };
        return Some(expr_until(rest));
    }
    None
}

/// The expression at the start of `s`, up to `,`, `}` or a newline at depth 0.
fn expr_until(s: &str) -> &str {
    let mut depth = 0i32;
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
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return s.get(..i).unwrap_or(s).trim(),
            ')' | ']' | '}' => depth -= 1,
            ',' | '\n' | ';' if depth == 0 => return s.get(..i).unwrap_or(s).trim(),
            _ => {}
        }
    }
    s.trim()
}

/// `{ key: 'client_id', value: <expr> }`.
fn keyed_value(text: &str, name: &str, consts: &HashMap<String, String>) -> Option<String> {
    for q in ['\'', '"'] {
        let needle = format!("{q}{name}{q}");
        let mut from = 0;
        while let Some(pos) = text.get(from..).and_then(|r| r.find(&needle)) {
            let after = text.get(from + pos + needle.len()..)?;
            from += pos + needle.len();
            let Some(rest) = after.trim_start().strip_prefix(',') else {
                continue;
            };
            let rest = rest.trim_start();
            let rest = rest
                .strip_prefix("value")
                .or_else(|| rest.strip_prefix("\"value\""))
                .or_else(|| rest.strip_prefix("'value'"));
            let Some(rest) = rest.and_then(|r| r.trim_start().strip_prefix(':')) else {
                continue;
            };
            if let Some(t) = expr_template(expr_until(rest), consts) {
                return Some(t);
            }
        }
    }
    None
}

/// `name=<value>` inside a form-encoded string, possibly continued by `' + expr + '`.
fn form_value(text: &str, name: &str, consts: &HashMap<String, String>) -> Option<String> {
    let needle = format!("{name}=");
    let mut from = 0;
    let start = loop {
        let pos = text.get(from..)?.find(&needle)? + from;
        let before = text.get(..pos).and_then(|b| b.chars().next_back());
        from = pos + needle.len();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            break pos + needle.len();
        }
    };
    // Which quote are we inside? The last quote char before `start` on the same statement.
    let head = text.get(..start)?;
    let quote = head.chars().rev().find(|c| matches!(c, '\'' | '"' | '`'))?;
    let mut out = String::new();
    let mut rest = text.get(start..)?;
    loop {
        // inside a literal
        let end = rest.find(['&', quote])?;
        out.push_str(rest.get(..end)?);
        if rest.get(end..)?.starts_with('&') {
            return Some(out);
        }
        rest = rest.get(end + 1..)?.trim_start();
        let Some(r) = rest.strip_prefix('+') else {
            return Some(out);
        };
        rest = r.trim_start();
        // expressions until the next string literal
        loop {
            if let Some(c) = rest.chars().next()
                && matches!(c, '\'' | '"' | '`')
            {
                rest = rest.get(1..)?;
                break;
            }
            let part_end = {
                let e = expr_until(rest);
                let plus = split_top(e, '+');
                plus.first().map(|p| p.len()).unwrap_or(e.len())
            };
            let part = rest.get(..part_end)?;
            out.push_str(&expr_template(part.trim(), consts)?);
            rest = rest.get(part_end..)?.trim_start();
            match rest.strip_prefix('+') {
                Some(r) => rest = r.trim_start(),
                None => return Some(out),
            }
        }
    }
}

/// A JavaScript expression of string literals, `pm.environment.get("x")` and known constants
/// joined by `+`, as a `{{x}}` template.
fn expr_template(expr: &str, consts: &HashMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let parts = split_top(expr.trim(), '+');
    if parts.is_empty() {
        return None;
    }
    for part in parts {
        let part = part.trim();
        if let Some((text, rest)) = string_literal(part) {
            if !rest.trim().is_empty() {
                return None;
            }
            if part.starts_with('`') {
                out.push_str(&template_literal(&text, consts)?);
            } else {
                out.push_str(&text);
            }
            continue;
        }
        if let Some(v) = consts.get(part) {
            out.push_str(v);
            continue;
        }
        let mut done = false;
        for getter in [
            "pm.environment.get",
            "pm.variables.get",
            "pm.collectionVariables.get",
            "pm.globals.get",
            "postman.getEnvironmentVariable",
            "postman.getGlobalVariable",
            "pm.variables.replaceIn",
            "encodeURIComponent",
        ] {
            if let Some(rest) = part.strip_prefix(getter)
                && let Some((arg, after)) = balanced(rest.trim_start(), '(', ')')
                && after.trim().is_empty()
            {
                if getter == "encodeURIComponent" {
                    out.push_str(&expr_template(arg, consts)?);
                } else {
                    let (name, tail) = string_literal(arg.trim())?;
                    if !tail.trim().is_empty() {
                        return None;
                    }
                    if getter == "pm.variables.replaceIn" {
                        out.push_str(&name);
                    } else {
                        out.push_str(&format!("{{{{{name}}}}}"));
                    }
                }
                done = true;
                break;
            }
        }
        if !done {
            return None;
        }
    }
    Some(out)
}

/// `` `${base}/token` `` with the `${…}` parts as templates.
fn template_literal(text: &str, consts: &HashMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find("${") {
        out.push_str(rest.get(..pos)?);
        let after = rest.get(pos + 1..)?;
        let (inner, tail) = balanced(after, '{', '}')?;
        out.push_str(&expr_template(inner, consts)?);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(String::from).collect()
    }

    fn cap(v: &str, p: &str) -> Capture {
        Capture {
            variable: v.into(),
            source: CaptureSource::Body,
            path: p.into(),
        }
    }

    #[test]
    fn exec_shapes() {
        let v = serde_json::json!(["a\r", "b\nc\r"]);
        assert_eq!(exec_lines(&v), vec!["a", "b", "c"]);
        let v = serde_json::json!("x\r\ny");
        assert_eq!(exec_lines(&v), vec!["x", "y"]);
    }

    #[test]
    fn setters_become_captures() {
        let r = read_test_script(&lines(
            r#"pm.environment.set("a", pm.response.json().x.y[0]);
pm.collectionVariables.set('b', pm.response.json()["entry"][1]["full-url"]);
pm.globals.set("c", pm.response.headers.get("Content-Location"));
console.log("done");"#,
        ));
        assert_eq!(
            r.captures,
            vec![
                cap("a", "$.x.y[0]"),
                cap("b", "$.entry[1][\"full-url\"]"),
                Capture {
                    variable: "c".into(),
                    source: CaptureSource::Header,
                    path: "Content-Location".into()
                }
            ]
        );
        assert_eq!(r.kept, vec!["console.log(\"done\");"]);
    }

    #[test]
    fn legacy_and_alias_with_guards() {
        let r = read_test_script(&lines(
            "var jsonData = JSON.parse(responseBody);\r\npostman.setEnvironmentVariable(\"bearerToken\", jsonData.access_token);",
        ));
        assert_eq!(r.captures, vec![cap("bearerToken", "$.access_token")]);
        assert!(r.kept.is_empty(), "{:?}", r.kept);

        let r = read_test_script(&lines(
            r#"pm.test("Status code is 200", function () {
    pm.response.to.have.status(200);
});
if (pm.response.code == 200) {
    const jsonData = pm.response.json();
    // remember the second id
    pm.environment.set("pid", jsonData.entry[1].resource.id);
}
"#,
        ));
        assert_eq!(r.captures, vec![cap("pid", "$.entry[1].resource.id")]);
        assert_eq!(r.kept, vec!["    // remember the second id"]);
    }

    #[test]
    fn status_tests_stay_without_captures_and_others_keep_guards() {
        let src = lines(
            r#"pm.test("ok", function () {
    pm.response.to.have.status(200);
});"#,
        );
        let r = read_test_script(&src);
        assert!(r.captures.is_empty());
        assert_eq!(r.kept, src);

        let r = read_test_script(&lines(
            r#"if (pm.response.code === 201) {
    pm.environment.set("id", pm.response.json().id);
    postman.setNextRequest("Read");
}"#,
        ));
        assert_eq!(r.captures, vec![cap("id", "$.id")]);
        assert_eq!(r.kept.len(), 3);
        assert_eq!(r.next_request, vec!["postman.setNextRequest(\"Read\");"]);
    }

    #[test]
    fn alias_kept_when_still_used() {
        let r = read_test_script(&lines(
            "const body = pm.response.json();\npm.environment.set(\"a\", body.id);\nconsole.log(body.total);",
        ));
        assert_eq!(r.captures, vec![cap("a", "$.id")]);
        assert_eq!(
            r.kept,
            vec![
                "const body = pm.response.json();",
                "console.log(body.total);"
            ]
        );
    }

    #[test]
    fn one_line_guards() {
        let r = read_test_script(&lines(
            "if (pm.response.code == 200) { pm.environment.set(\"t\", pm.response.json().token); }\npm.test(\"s\", () => { pm.response.to.have.status(200); });",
        ));
        assert_eq!(r.captures, vec![cap("t", "$.token")]);
        assert!(r.kept.is_empty());
    }

    #[test]
    fn non_data_values_are_kept() {
        let src = lines(
            "pm.environment.set(\"a\", \"literal\");\npm.environment.set(\"b\", pm.response.json().x + 1);",
        );
        let r = read_test_script(&src);
        assert!(r.captures.is_empty());
        assert_eq!(r.kept, src);
    }

    #[test]
    fn client_credentials_script() {
        let src = lines(
            r#"const tokenUrl = pm.environment.get("authority") + "/" + pm.environment.get("tenantId") + "/oauth2/v2.0/token";
pm.sendRequest({
    url: tokenUrl,
    method: 'POST',
    header: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: {
        mode: 'urlencoded',
        urlencoded: [
            { key: 'grant_type', value: 'client_credentials' },
            { key: 'client_id', value: pm.environment.get('clientId') },
            { key: 'client_secret', value: pm.environment.get('clientSecret') },
            { key: 'scope', value: pm.environment.get('fhirurl') + '/.default' }
        ]
    }
}, function (err, res) {
    pm.environment.set('bearerToken', res.json().access_token);
});"#,
        );
        let cc = client_credentials(&src).unwrap();
        assert_eq!(cc.token_url, "{{authority}}/{{tenantId}}/oauth2/v2.0/token");
        assert_eq!(cc.client_id, "{{clientId}}");
        assert_eq!(cc.client_secret, "{{clientSecret}}");
        assert_eq!(cc.scope, "{{fhirurl}}/.default");
        assert_eq!(cc.token_variable, "bearerToken");

        let raw = lines(
            r#"pm.sendRequest({ url: 'https://login.example.com/' + pm.environment.get("tenant") + '/oauth2/token', method: 'POST',
  body: { mode: 'raw', raw: 'grant_type=client_credentials&client_id=' + pm.environment.get("cid") + '&client_secret=' + pm.environment.get("csec") + '&resource=https://fhir.example.com' }
}, (e, r) => { pm.environment.set("tok", r.json().access_token) });"#,
        );
        let cc = client_credentials(&raw).unwrap();
        assert_eq!(
            cc.token_url,
            "https://login.example.com/{{tenant}}/oauth2/token"
        );
        assert_eq!(cc.client_id, "{{cid}}");
        assert_eq!(cc.client_secret, "{{csec}}");
        assert_eq!(cc.resource, "https://fhir.example.com");
        assert_eq!(cc.token_variable, "tok");
        assert!(client_credentials(&lines("pm.sendRequest('x')")).is_none());
    }
}
