//! URLs without a scheme: given the one the file's other URLs use, and said so once.

use crate::import::ImportReport;
use crate::workspace::{KeyValue, RequestSpec};

/// URLs without `http://` or `https://`. REST Client sends them with `http://`; fhirside
/// gives them the scheme the file's other URLs use (else `http://`), and says so once.
#[derive(Default)]
pub(super) struct Schemes {
    /// How many URLs (and URL-like variable values) of the file use each scheme.
    seen: std::collections::BTreeMap<String, usize>,
    /// Requests whose URL gets the file's scheme in front.
    fix: Vec<usize>,
    /// Requests whose URL starts with a variable the file does not define (its value may or
    /// may not hold a scheme): named in one warning.
    unknown: Vec<(String, String)>,
}

impl Schemes {
    pub(super) fn check(
        &mut self,
        spec: &mut RequestSpec,
        vars: &[KeyValue],
        captured: &[&str],
        raw_headers: &[(String, String)],
        index: usize,
    ) {
        if let Some((scheme, _)) = spec.url.split_once("://") {
            *self.seen.entry(scheme.to_ascii_lowercase()).or_default() += 1;
            return;
        }
        if let Some(rest) = spec.url.strip_prefix("{{")
            && let Some(end) = rest.find("}}")
        {
            let var = rest.get(..end).unwrap_or("").trim();
            if captured.contains(&var) {
                return;
            }
            // Follow file variables a few levels.
            let mut value: Option<String> = None;
            let mut name = var.to_string();
            for _ in 0..5 {
                let Some(v) = vars.iter().find(|kv| kv.key == name) else {
                    break;
                };
                value = Some(v.value.clone());
                match v.value.strip_prefix("{{").and_then(|r| r.split_once("}}")) {
                    Some((inner, _)) => name = inner.trim().to_string(),
                    None => break,
                }
            }
            match value {
                Some(v) if v.contains("://") => {
                    if let Some((scheme, _)) = v.split_once("://") {
                        *self.seen.entry(scheme.to_ascii_lowercase()).or_default() += 1;
                    }
                }
                Some(_) => self.fix.push(index),
                None => self.unknown.push((spec.name.clone(), var.to_string())),
            }
            return;
        }
        if spec.url.starts_with('/')
            && let Some((_, host)) = raw_headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        {
            spec.url = format!("{}{}", host.trim(), spec.url);
            spec.headers.retain(|h| !h.key.eq_ignore_ascii_case("host"));
        }
        self.fix.push(index);
    }

    pub(super) fn apply(&self, specs: &mut [RequestSpec], report: &mut ImportReport) {
        let scheme = self
            .seen
            .iter()
            .filter(|(s, _)| matches!(s.as_str(), "http" | "https"))
            .max_by_key(|(s, n)| (**n, s.as_str() == "https"))
            .map(|(s, _)| s.clone());
        if !self.fix.is_empty() {
            let (scheme, why) = match scheme {
                Some(s) => (s, "the scheme the file's other URLs use"),
                None => ("http".to_string(), "as REST Client sends them"),
            };
            let mut names = Vec::new();
            for i in &self.fix {
                if let Some(spec) = specs.get_mut(*i) {
                    spec.url = format!("{scheme}://{}", spec.url);
                    names.push(format!("'{}'", spec.name));
                }
            }
            report.warnings.push(format!(
                "{} URL{} had no http:// or https://; {} now start{} with {scheme}://, {why}: {}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                if names.len() == 1 { "it" } else { "they" },
                if names.len() == 1 { "s" } else { "" },
                list_some(&names)
            ));
        }
        if !self.unknown.is_empty() {
            let mut vars: Vec<String> = self
                .unknown
                .iter()
                .map(|(_, v)| format!("{{{{{v}}}}}"))
                .collect();
            vars.sort();
            vars.dedup();
            report.warnings.push(format!(
                "{} URL{} with {} which the file does not define; make sure {} value starts with http:// or https://",
                self.unknown.len(),
                if self.unknown.len() == 1 { " starts" } else { "s start" },
                vars.join(", "),
                if vars.len() == 1 { "its" } else { "each" }
            ));
        }
    }
}

/// `a, b, c and 4 more`.
fn list_some(items: &[String]) -> String {
    const SHOWN: usize = 5;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items.get(..SHOWN).unwrap_or_default().join(", "),
            items.len() - SHOWN
        )
    }
}
