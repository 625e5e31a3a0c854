//! Request bodies: body lines joined with `< path` includes read in (bounded), and the body kind
//! told from the headers.

use std::path::{Path, PathBuf};

use crate::import::ImportReport;
use crate::import::curl::form_body;
use crate::workspace::{Body, BodyKind, KeyValue};

/// The largest body file an include may pull into a request.
const MAX_INCLUDE_BYTES: u64 = 16 * 1024 * 1024;

/// Joins body lines, replacing `< path` include lines with the file's content.
pub(super) fn body_with_includes(
    lines: &[(usize, String)],
    base: &Path,
    at: &str,
    report: &mut ImportReport,
) -> String {
    let mut lines: Vec<&(usize, String)> = lines.iter().collect();
    while lines.last().is_some_and(|(_, l)| l.trim().is_empty()) {
        lines.pop();
    }
    let mut out: Vec<String> = Vec::new();
    for (n, l) in lines {
        let t = l.trim();
        let include = t
            .strip_prefix("<@")
            .map(|r| {
                // `<@latin1 path` names an encoding first
                let r = r.trim_start();
                match r.split_once(char::is_whitespace) {
                    Some((enc, p)) if !enc.contains(['/', '\\', '.']) => p,
                    _ => r,
                }
            })
            .or_else(|| t.strip_prefix("< "))
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let Some(file) = include else {
            out.push(l.clone());
            continue;
        };
        let p = PathBuf::from(file);
        let full = if p.is_absolute() { p } else { base.join(p) };
        // The file being imported may come from anyone: it may only pull in files from its
        // own folder, never `~/.ssh/id_rsa` or `../../secrets`.
        let inside = match (full.canonicalize(), base.canonicalize()) {
            (Ok(f), Ok(b)) => f.starts_with(&b),
            _ => true, // missing: reported below as unreadable
        };
        if !inside {
            report.warnings.push(format!(
                "{at}: body file {file} (line {n}) is outside the .http file's folder, so it was not read; the include line is kept"
            ));
            out.push(l.clone());
            continue;
        }
        let size = std::fs::metadata(&full).map(|m| m.len()).unwrap_or(0);
        if size > MAX_INCLUDE_BYTES {
            report.warnings.push(format!(
                "{at}: body file {file} (line {n}) is {size} bytes, more than the {MAX_INCLUDE_BYTES} fhirside reads into a request; the include line is kept"
            ));
            out.push(l.clone());
            continue;
        }
        match std::fs::read(&full) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(s) => {
                    report.converted.push(format!(
                        "{at}: the body is the content of {file} as it was at import ({} bytes); later changes to that file are not followed",
                        s.len()
                    ));
                    out.push(s.strip_suffix('\n').unwrap_or(&s).to_string())
                }
                Err(_) => {
                    report.warnings.push(format!(
                        "{at}: body file {file} (line {n}) is not UTF-8 text; the include line is kept"
                    ));
                    out.push(l.clone());
                }
            },
            Err(e) => {
                report.warnings.push(format!(
                    "{at}: body file {file} (line {n}) could not be read ({e}); the include line is kept"
                ));
                out.push(l.clone());
            }
        }
    }
    out.join("\n")
}

pub(super) fn body_of(text: &str, headers: &[KeyValue], vars: &[KeyValue]) -> Body {
    if text.trim().is_empty() {
        return Body::default();
    }
    let mut ct = headers
        .iter()
        .find(|h| h.key.eq_ignore_ascii_case("content-type"))
        .map(|h| h.value.clone())
        .unwrap_or_default();
    // `Content-Type: {{contentType}}` with a file variable: look through it.
    for _ in 0..5 {
        let Some(name) = ct
            .trim()
            .strip_prefix("{{")
            .and_then(|r| r.strip_suffix("}}"))
            .map(str::trim)
        else {
            break;
        };
        match vars.iter().find(|v| v.key == name) {
            Some(v) => ct = v.value.clone(),
            None => {
                ct.clear();
                break;
            }
        }
    }
    let ct = ct.to_ascii_lowercase();
    if ct.contains("x-www-form-urlencoded") {
        let joined: String = text.lines().map(str::trim).collect();
        return form_body(&joined);
    }
    let json = ct.contains("json")
        || (ct.is_empty() && matches!(text.trim_start().chars().next(), Some('{' | '[')));
    Body {
        kind: if json { BodyKind::Json } else { BodyKind::Text },
        text: text.to_string(),
        form: Vec::new(),
    }
}
