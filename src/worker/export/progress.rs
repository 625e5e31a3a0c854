//! Reading the hints a bulk-export status answer may carry: `X-Progress` (free text the spec
//! leaves to the server) and `Retry-After` (seconds or an HTTP-date).
//!
//! A percentage is reported only when the server wrote one; anything else stays text, so the
//! jobs pane never shows a number the server did not send.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// Reads a `Retry-After` value: delay-seconds, or an HTTP-date (IMF-fixdate, RFC 850 or asctime)
/// measured from `now` (a date in the past means "now": zero). `None` when unreadable.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|c| c.is_ascii_digit()) {
        // Absurdly large numbers saturate; the schedule clamps them anyway.
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at: DateTime<Utc> = if let Ok(d) = DateTime::parse_from_rfc2822(v) {
        d.with_timezone(&Utc)
    } else {
        let naive = NaiveDateTime::parse_from_str(v, "%A, %d-%b-%y %H:%M:%S GMT")
            .or_else(|_| NaiveDateTime::parse_from_str(v, "%a %b %e %H:%M:%S %Y"))
            .ok()?;
        naive.and_utc()
    };
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06 08:49:37Z
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:39 1994", now),
            Some(Duration::from_secs(2))
        );
        // In the past: now.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }
}
