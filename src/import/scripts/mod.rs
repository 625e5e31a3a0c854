//! Reading the handful of Postman script idioms that are really data: "save this field of the
//! response into that variable" becomes a capture rule, and a collection pre-request script
//! that fetches a client-credentials token becomes a sign-in hint. Everything else is kept as
//! lines that fhirside shows but does not run.
//!
//! This is a line-and-statement matcher, not a JavaScript parser: anything it does not
//! recognise exactly is kept as written.

use std::collections::HashMap;

use serde_json::Value;

use crate::workspace::{Capture, CaptureSource};

mod pre_request;
mod syntax;
#[cfg(test)]
mod tests;

pub(crate) use pre_request::{SetupScript, client_credentials, read_pre_request};
pub(crate) use syntax::{balanced, is_ident, path_key, string_literal};
use syntax::{contains_word, matching_close, split_statements};

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
