//! FHIR dates, dateTimes and instants as seconds since 1970, for ordering and plotting.

use chrono::{DateTime, NaiveDate};

/// `2024`, `2024-03`, `2024-03-05`, `2024-03-05T10:32:11+01:00` (fractions and `Z` too) as
/// seconds since 1970 (UTC); partial dates count from their first day, a dateTime without a
/// zone as UTC. `None` for anything else (and for years outside 1–9999).
pub fn parse_instant(text: &str) -> Option<i64> {
    let s = text.trim();
    if s.len() > 40 {
        return None;
    }
    if let Some((date, _)) = s.split_once('T') {
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(dt.timestamp());
        }
        // A time without a zone (not valid FHIR, but sent): read as UTC, minutes at least.
        let time = &s[date.len() + 1..];
        let day = date_start(date)?;
        let mut parts = time.split(':');
        let h: i64 = parts.next()?.get(..2)?.parse().ok()?;
        let m: i64 = parts.next()?.get(..2)?.parse().ok()?;
        if h > 23 || m > 59 {
            return Some(day);
        }
        return Some(day.saturating_add(h * 3600 + m * 60));
    }
    date_start(s)
}

/// The first second of a (partial) date.
fn date_start(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let y: i32 = digits(parts.next()?, 4)?;
    let m: u32 = parts.next().map_or(Some(1), |p| digits(p, 2))?;
    let d: u32 = parts.next().map_or(Some(1), |p| digits(p, 2))?;
    if parts.next().is_some() || y == 0 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

/// Exactly `n` ASCII digits as a number.
fn digits<T: std::str::FromStr>(s: &str, n: usize) -> Option<T> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::parse_instant;

    #[test]
    fn fhir_dates_of_every_precision() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_instant("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_instant("1970-01-02"), Some(86_400));
        assert_eq!(parse_instant("1970-02"), Some(31 * 86_400));
        assert_eq!(parse_instant("1971"), Some(365 * 86_400));
        assert_eq!(
            parse_instant("2024-03-05T10:32:11.123Z"),
            Some(1_709_634_731)
        );
        assert_eq!(parse_instant("1970-01-01T00:10"), Some(600));
    }

    #[test]
    fn what_is_not_a_date_is_none() {
        for s in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-02-30",
            "24-01-01",
            "0000",
            "2024-1-1",
            "2024-01-01-01",
            "99999-01-01",
            "２０２４",
        ] {
            assert_eq!(parse_instant(s), None, "{s}");
        }
    }
}
