//! Template rewriting: REST Client built-ins to fhirside's, chained references to variables set by
//! capture rules.

use std::collections::HashSet;

use crate::import::ImportReport;
use crate::workspace::{Capture, CaptureSource};

/// Rewrites templates: REST Client built-ins to fhirside's, chained references to variables.
pub(super) struct Converter<'a> {
    pub(super) names: &'a [Option<String>],
    /// (target request index, capture)
    pub(super) pending: Vec<(usize, Capture)>,
    pub(super) report: &'a mut ImportReport,
    pub(super) noted: HashSet<String>,
}

impl Converter<'_> {
    fn note_converted(&mut self, key: &str, msg: String) {
        if self.noted.insert(format!("c:{key}")) {
            self.report.converted.push(msg);
        }
    }

    fn note_warning(&mut self, key: &str, msg: String) {
        if self.noted.insert(format!("w:{key}")) {
            self.report.warnings.push(msg);
        }
    }

    /// The request that `name` refers to from request `consumer`: the latest one with that
    /// name before the consumer, else the last one in the file.
    fn target(&self, name: &str, consumer: usize) -> Option<usize> {
        let named: Vec<usize> = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.as_deref() == Some(name))
            .map(|(i, _)| i)
            .collect();
        named
            .iter()
            .rev()
            .find(|i| **i < consumer)
            .or(named.last())
            .copied()
    }

    pub(super) fn convert(&mut self, text: &str, consumer: usize, at: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest.get(start + 2..).and_then(|r| r.find("}}")) else {
                break;
            };
            out.push_str(rest.get(..start).unwrap_or(""));
            let inner = rest.get(start + 2..start + 2 + len).unwrap_or("");
            let original = rest.get(start..start + 4 + len).unwrap_or("");
            out.push_str(&self.one(inner.trim(), original, consumer, at));
            rest = rest.get(start + 4 + len..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    fn one(&mut self, inner: &str, original: &str, consumer: usize, at: &str) -> String {
        if let Some(b) = inner.strip_prefix('$') {
            let (head, arg) = match b.split_once(char::is_whitespace) {
                Some((h, a)) => (h, a.trim()),
                None => (b, ""),
            };
            return match (head, arg) {
                ("dotenv", a) if !a.is_empty() => {
                    let a = a.trim_start_matches('%');
                    self.note_converted(
                        &format!("dotenv {a}"),
                        format!("{{{{$dotenv {a}}}}} became {{{{$env {a}}}}} (read from the process environment)"),
                    );
                    format!("{{{{$env {a}}}}}")
                }
                ("processEnv", a) if !a.is_empty() => {
                    format!("{{{{$processEnv {}}}}}", a.trim_start_matches('%'))
                }
                ("guid" | "randomUUID" | "timestamp" | "isoTimestamp" | "randomInt", "") => {
                    original.to_string()
                }
                ("datetime", a)
                    if a.starts_with("iso8601") && a.split_whitespace().count() == 1 =>
                {
                    self.note_converted(
                        "datetime",
                        "{{$datetime iso8601}} became {{$isoTimestamp}}".into(),
                    );
                    "{{$isoTimestamp}}".into()
                }
                ("randomInt", _) => {
                    self.note_warning(
                        "randomInt",
                        format!("{at}: {original}: fhirside's {{{{$randomInt}}}} takes no range (0–999); the range was dropped"),
                    );
                    "{{$randomInt}}".into()
                }
                _ => {
                    self.note_warning(
                        original,
                        format!("{at}: {original} is not a fhirside built-in; kept as written (it will show as unresolved)"),
                    );
                    original.to_string()
                }
            };
        }
        let Some((name, tail)) = inner.split_once(".response.").or_else(|| {
            inner
                .split_once(".request.")
                .map(|(n, _)| (n, "\u{0}request"))
        }) else {
            return original.to_string();
        };
        if tail == "\u{0}request" {
            self.note_warning(
                original,
                format!("{at}: {original} reads the request of '{name}', which fhirside cannot capture; kept as written"),
            );
            return original.to_string();
        }
        let Some(target) = self.target(name, consumer) else {
            self.note_warning(
                original,
                format!("{at}: {original} refers to a request named '{name}' that is not in the file; kept as written"),
            );
            return original.to_string();
        };
        let (variable, capture) = if let Some(p) = tail
            .strip_prefix("body.")
            .or_else(|| (tail == "body").then_some(""))
        {
            let p = p.trim();
            if p.starts_with('/') {
                self.note_warning(
                    original,
                    format!("{at}: {original} uses XPath, which fhirside cannot capture; kept as written"),
                );
                return original.to_string();
            }
            let path = if p.is_empty() || p == "*" || p == "$" {
                "$".to_string()
            } else if p.starts_with('$') {
                p.to_string()
            } else {
                format!("$.{p}")
            };
            let short = path
                .strip_prefix("$.")
                .or_else(|| path.strip_prefix('$'))
                .unwrap_or(&path);
            let variable = if short.is_empty() {
                format!("{name}.body")
            } else {
                format!("{name}.{short}")
            };
            (
                variable.clone(),
                Capture {
                    variable,
                    source: CaptureSource::Body,
                    path,
                },
            )
        } else if let Some(h) = tail.strip_prefix("headers.") {
            let variable = format!("{name}.headers.{}", h.trim());
            (
                variable.clone(),
                Capture {
                    variable,
                    source: CaptureSource::Header,
                    path: h.trim().to_string(),
                },
            )
        } else {
            self.note_warning(
                original,
                format!("{at}: {original} is not a chained reference fhirside understands; kept as written"),
            );
            return original.to_string();
        };
        self.pending.push((target, capture));
        format!("{{{{{variable}}}}}")
    }
}
