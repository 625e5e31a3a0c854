//! The history filter: one line of words, like `GET 4xx env:prod since:2h Patient`, turned into
//! conditions. Words that are not a method, a status class or a `key:value` search the URL,
//! the saved request's name and both bodies.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

/// Conditions on history entries; all must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub methods: Vec<String>,
    /// Status classes 1–5 (`2xx`), or 0 for "failed, no answer" (`err`).
    pub status_classes: Vec<u16>,
    pub statuses: Vec<u16>,
    pub env: Option<String>,
    pub saved: Option<String>,
    /// Unix milliseconds, inclusive.
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Each must appear (case-insensitively) in the URL, the saved name or a body.
    pub words: Vec<String>,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Filter {
    /// Parses the filter line; the error names the word it could not understand.
    pub fn parse(line: &str, now_ms: i64) -> Result<Filter, String> {
        let mut f = Filter::default();
        for word in line.split_whitespace() {
            let upper = word.to_ascii_uppercase();
            if METHODS.contains(&upper.as_str()) {
                f.methods.push(upper);
            } else if let Some(class) = status_class(word) {
                f.status_classes.push(class);
            } else if word.len() == 3
                && let Ok(code) = word.parse::<u16>()
                && (100..600).contains(&code)
            {
                f.statuses.push(code);
            } else if let Some((key, value)) = word.split_once(':')
                && ["env", "saved", "since", "until", "status"].contains(&key)
            {
                match key {
                    "env" => f.env = Some(value.to_string()),
                    "saved" => f.saved = Some(value.to_string()),
                    "since" => f.since_ms = Some(when(value, now_ms, false)?),
                    "until" => f.until_ms = Some(when(value, now_ms, true)?),
                    _ => match status_class(value) {
                        Some(c) => f.status_classes.push(c),
                        None => match value.parse::<u16>() {
                            Ok(code) => f.statuses.push(code),
                            Err(_) => {
                                return Err(format!(
                                    "'{word}': a status is a code (404), a class (4xx) or err."
                                ));
                            }
                        },
                    },
                }
            } else {
                f.words.push(word.to_string());
            }
        }
        Ok(f)
    }

    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// The SQL condition (for `WHERE`) and its parameters.
    pub fn to_sql(&self) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value;
        let mut conds: Vec<String> = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        if !self.methods.is_empty() {
            let marks = vec!["?"; self.methods.len()].join(",");
            conds.push(format!("method IN ({marks})"));
            params.extend(self.methods.iter().map(|m| Value::Text(m.clone())));
        }
        let mut status_conds = Vec::new();
        for c in &self.status_classes {
            if *c == 0 {
                status_conds.push("status IS NULL".to_string());
            } else {
                status_conds.push("(status >= ? AND status < ?)".to_string());
                params.push(Value::Integer(i64::from(*c) * 100));
                params.push(Value::Integer(i64::from(*c) * 100 + 100));
            }
        }
        for s in &self.statuses {
            status_conds.push("status = ?".to_string());
            params.push(Value::Integer(i64::from(*s)));
        }
        if !status_conds.is_empty() {
            conds.push(format!("({})", status_conds.join(" OR ")));
        }
        if let Some(env) = &self.env {
            conds.push("env = ?".into());
            params.push(Value::Text(env.clone()));
        }
        if let Some(saved) = &self.saved {
            conds.push("saved LIKE ? ESCAPE '\\'".into());
            params.push(Value::Text(format!("%{}%", like_escape(saved))));
        }
        if let Some(t) = self.since_ms {
            conds.push("at_ms >= ?".into());
            params.push(Value::Integer(t));
        }
        if let Some(t) = self.until_ms {
            conds.push("at_ms <= ?".into());
            params.push(Value::Integer(t));
        }
        for w in &self.words {
            conds.push(
                "(url LIKE ?1 ESCAPE '\\' OR IFNULL(saved,'') LIKE ?1 ESCAPE '\\' \
                 OR CAST(body AS TEXT) LIKE ?1 ESCAPE '\\' \
                 OR CAST(IFNULL(request_body,'') AS TEXT) LIKE ?1 ESCAPE '\\' \
                 OR IFNULL(error,'') LIKE ?1 ESCAPE '\\')"
                    .replace("?1", "?"),
            );
            let p = Value::Text(format!("%{}%", like_escape(w)));
            for _ in 0..5 {
                params.push(p.clone());
            }
        }
        if conds.is_empty() {
            ("1".into(), params)
        } else {
            (conds.join(" AND "), params)
        }
    }
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn status_class(word: &str) -> Option<u16> {
    let w = word.to_ascii_lowercase();
    if w == "err" || w == "error" || w == "failed" {
        return Some(0);
    }
    let b = w.as_bytes();
    (b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && &w[1..] == "xx")
        .then(|| u16::from(b[0] - b'0'))
}

/// `2h`, `30m`, `7d`, `2026-11-28`, or `2026-11-28T10:00` (UTC). `end` makes a bare date mean
/// the end of that day.
fn when(value: &str, now_ms: i64, end: bool) -> Result<i64, String> {
    let bad = || {
        format!("'{value}' is not a time: use 30m, 2h, 7d, 2026-11-28 or 2026-11-28T10:00 (UTC).")
    };
    if let Some(unit) = value.chars().last()
        && let Ok(n) = value[..value.len() - unit.len_utf8()].parse::<i64>()
    {
        let ms = match unit {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            'w' => 7 * 86_400_000,
            _ => return Err(bad()),
        };
        return Ok(now_ms - n.saturating_mul(ms));
    }
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let t = if end {
            d.and_hms_milli_opt(23, 59, 59, 999)
        } else {
            d.and_hms_opt(0, 0, 0)
        }
        .ok_or_else(bad)?;
        return Ok(Utc.from_utc_datetime(&t).timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(value, fmt) {
            return Ok(Utc.from_utc_datetime(&t).timestamp_millis());
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.timestamp_millis());
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn words_are_understood() {
        let f = Filter::parse(
            "get 4xx err 201 env:prod since:2h Patient saved:Lookup",
            NOW,
        )
        .unwrap();
        assert_eq!(f.methods, vec!["GET"]);
        assert_eq!(f.status_classes, vec![4, 0]);
        assert_eq!(f.statuses, vec![201]);
        assert_eq!(f.env.as_deref(), Some("prod"));
        assert_eq!(f.saved.as_deref(), Some("Lookup"));
        assert_eq!(f.since_ms, Some(NOW - 7_200_000));
        assert_eq!(f.words, vec!["Patient"]);
    }

    #[test]
    fn dates_are_utc_days() {
        let f = Filter::parse("since:2026-11-28 until:2026-11-28", NOW).unwrap();
        let day = Utc
            .with_ymd_and_hms(2026, 11, 28, 0, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(f.since_ms, Some(day));
        assert_eq!(f.until_ms, Some(day + 86_400_000 - 1));
    }

    #[test]
    fn bad_times_and_statuses_are_explained() {
        let e = Filter::parse("since:yesterday", NOW).unwrap_err();
        assert!(e.contains("'yesterday' is not a time"), "{e}");
        let e = Filter::parse("status:abc", NOW).unwrap_err();
        assert!(e.contains("status"), "{e}");
    }

    #[test]
    fn empty_filter_matches_all() {
        let f = Filter::parse("   ", NOW).unwrap();
        assert!(f.is_empty());
        assert_eq!(f.to_sql().0, "1");
    }
}
