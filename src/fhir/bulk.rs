//! Bulk Data (`$export`) shapes a server sends back: the completion manifest and the
//! `X-Progress` text of a status answer. Pure and tolerant, like the rest of `fhir`; the jobs that
//! hold them live in `workspace::export_job`, the polling in `worker::export`.
//!
//! A percentage is reported only when the server wrote one; anything else stays text, so the
//! jobs pane never shows a number the server did not send.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One file of the manifest (`output` or `error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestOutput {
    #[serde(rename = "type", default)]
    pub type_: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// The completion manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default)]
    pub requires_access_token: bool,
    #[serde(default)]
    pub output: Vec<ManifestOutput>,
    /// Files of OperationOutcomes about resources that could not be exported.
    #[serde(default)]
    pub error: Vec<ManifestOutput>,
}

fn loose_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn loose_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn loose_str(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn outputs(v: &Value, key: &str) -> Vec<ManifestOutput> {
    let items: &[Value] = match v.get(key) {
        Some(Value::Array(a)) => a,
        Some(one @ Value::Object(_)) => std::slice::from_ref(one),
        _ => &[],
    };
    items
        .iter()
        .filter_map(|o| {
            Some(ManifestOutput {
                type_: loose_str(o, "type").unwrap_or_default(),
                url: loose_str(o, "url")?,
                count: o.get("count").and_then(loose_u64),
            })
        })
        .collect()
}

impl Manifest {
    /// Reads a manifest, tolerating missing fields, numbers as strings and single objects where
    /// arrays belong. `None` when `v` is not a JSON object; entries without a `url` are dropped.
    pub fn from_json(v: &Value) -> Option<Manifest> {
        if !v.is_object() {
            return None;
        }
        Some(Manifest {
            transaction_time: loose_str(v, "transactionTime"),
            request: loose_str(v, "request"),
            requires_access_token: v
                .get("requiresAccessToken")
                .and_then(loose_bool)
                .unwrap_or(false),
            output: outputs(v, "output"),
            error: outputs(v, "error"),
        })
    }

    /// Resources announced across the output files (files without a count are not included).
    pub fn total_count(&self) -> u64 {
        self.output.iter().filter_map(|o| o.count).sum()
    }
}

/// What `X-Progress` said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// "42%", "60% complete, Please wait...", "42.5 %".
    Percent(f64),
    /// "3 of 10", "3/10".
    Fraction { done: u64, total: u64 },
    /// Anything else, trimmed ("writing", "in-progress").
    Text(String),
}

impl Progress {
    /// Between 0 and 1 when the server gave a number (for a gauge), else `None`.
    pub fn ratio(&self) -> Option<f64> {
        match self {
            Progress::Percent(p) => Some((p / 100.0).clamp(0.0, 1.0)),
            Progress::Fraction { done, total } if *total > 0 => {
                Some((*done as f64 / *total as f64).clamp(0.0, 1.0))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Percent(p) if p.fract() == 0.0 => write!(f, "{p:.0}%"),
            Progress::Percent(p) => write!(f, "{p}%"),
            Progress::Fraction { done, total } => write!(f, "{done} of {total}"),
            Progress::Text(t) => f.write_str(t),
        }
    }
}

/// A decimal number starting at byte `i` of `s` (digits, optionally `.digits`): its value and
/// the byte after it.
fn number_at(s: &str, i: usize) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let mut j = i;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j == i {
        return None;
    }
    if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
    }
    let v: f64 = s.get(i..j)?.parse().ok()?;
    v.is_finite().then_some((v, j))
}

fn skip_spaces(b: &[u8], mut j: usize) -> usize {
    while j < b.len() && b[j] == b' ' {
        j += 1;
    }
    j
}

/// Starts of numbers: a digit not preceded by a digit, a dot or a letter.
fn number_starts(s: &str) -> impl Iterator<Item = usize> + '_ {
    let b = s.as_bytes();
    (0..b.len()).filter(move |&i| {
        b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
    })
}

/// Reads an `X-Progress` value.
pub fn parse_progress(x_progress: &str) -> Progress {
    let s = x_progress.trim();
    let b = s.as_bytes();
    // A percentage written as one.
    for i in number_starts(s) {
        if let Some((v, j)) = number_at(s, i) {
            let k = skip_spaces(b, j);
            if b.get(k) == Some(&b'%') {
                return Progress::Percent(v);
            }
        }
    }
    // "3 of 10", "3/10" (whole numbers only).
    for i in number_starts(s) {
        let Some((done, j)) = number_at(s, i) else {
            continue;
        };
        if done.fract() != 0.0 {
            continue;
        }
        let k = skip_spaces(b, j);
        let after = if b.get(k) == Some(&b'/') {
            k + 1
        } else if s
            .get(k..k + 2)
            .is_some_and(|w| w.eq_ignore_ascii_case("of"))
            && b.get(k + 2) == Some(&b' ')
        {
            k + 2
        } else {
            continue;
        };
        let m = skip_spaces(b, after);
        if let Some((total, _)) = number_at(s, m)
            && total.fract() == 0.0
            && total >= done
            && total > 0.0
        {
            return Progress::Fraction {
                done: done as u64,
                total: total as u64,
            };
        }
    }
    Progress::Text(s.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn manifests_are_read_tolerantly() {
        let m = Manifest::from_json(&json!({
            "transactionTime": "2024-01-01T00:00:00Z",
            "request": "http://h/$export",
            "requiresAccessToken": "true",
            "output": [
                {"type": "Patient", "url": "http://h/f/Patient-1.ndjson", "count": 30},
                {"type": "Observation", "url": "http://h/f/Obs.ndjson", "count": "7"},
                {"type": "Encounter", "url": "http://h/f/Enc.ndjson", "count": -1},
                {"type": "Broken"},
                "nonsense"
            ],
            "error": {"type": "OperationOutcome", "url": "http://h/f/err.ndjson"}
        }))
        .unwrap();
        assert!(m.requires_access_token);
        assert_eq!(m.output.len(), 3);
        assert_eq!(m.output[1].count, Some(7));
        assert_eq!(m.output[2].count, None);
        assert_eq!(m.error.len(), 1);
        assert_eq!(m.total_count(), 37);
        let bare = Manifest::from_json(&json!({})).unwrap();
        assert!(bare.output.is_empty() && !bare.requires_access_token);
        assert!(Manifest::from_json(&json!([1, 2])).is_none());
        assert!(Manifest::from_json(&json!("x")).is_none());
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_progress("42%"), Progress::Percent(42.0));
        assert_eq!(
            parse_progress("60% complete, Please wait..."),
            Progress::Percent(60.0)
        );
        assert_eq!(parse_progress("42.5 %"), Progress::Percent(42.5));
        assert_eq!(parse_progress(" progress: 7 % "), Progress::Percent(7.0));
        assert_eq!(parse_progress("step 2: 80% done"), Progress::Percent(80.0));
        assert_eq!(parse_progress("42%").to_string(), "42%");
        assert_eq!(parse_progress("42.5%").to_string(), "42.5%");
    }

    #[test]
    fn fractions() {
        assert_eq!(
            parse_progress("3 of 10"),
            Progress::Fraction { done: 3, total: 10 }
        );
        assert_eq!(
            parse_progress("3/10"),
            Progress::Fraction { done: 3, total: 10 }
        );
        assert_eq!(
            parse_progress("Exported 3 OF 10 types"),
            Progress::Fraction { done: 3, total: 10 }
        );
        assert_eq!(parse_progress("3 of 10").ratio(), Some(0.3));
        assert_eq!(parse_progress("3 of 10").to_string(), "3 of 10");
    }

    #[test]
    fn text_is_never_a_number() {
        assert_eq!(parse_progress("writing"), Progress::Text("writing".into()));
        assert_eq!(
            parse_progress("  in   progress "),
            Progress::Text("in progress".into())
        );
        // Numbers without a percent sign or a total are not percentages.
        assert_eq!(
            parse_progress("42 resources"),
            Progress::Text("42 resources".into())
        );
        assert_eq!(parse_progress("10 of 3"), Progress::Text("10 of 3".into()));
        assert_eq!(parse_progress("v2.3/4"), Progress::Text("v2.3/4".into()));
        assert_eq!(parse_progress("writing").ratio(), None);
        assert_eq!(parse_progress(""), Progress::Text(String::new()));
        assert_eq!(parse_progress("%"), Progress::Text("%".into()));
    }
}
