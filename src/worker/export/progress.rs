//! Reading the `Retry-After` hint of a bulk-export status answer (seconds or an HTTP-date).
//! `X-Progress` is read by [`crate::fhir::bulk`]; re-exported here for the drivers.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime, Utc};

pub use crate::fhir::bulk::{Progress, parse_progress};

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

/// Azure's `x-ms-retry-after-ms` (microsoft/fhir-server adds it beside `Retry-After` on 429s:
/// `src/Microsoft.Health.Fhir.Api/Features/Headers/HeaderDictionaryExtensions.cs`) is a wait in
/// milliseconds, believed from 20 ms to 60 s; it is honoured before `Retry-After`.
pub const MS_RETRY_MIN: Duration = Duration::from_millis(20);
pub const MS_RETRY_MAX: Duration = Duration::from_secs(60);

/// The wait a throttled answer asks for: `x-ms-retry-after-ms` (clamped to 20 ms – 60 s)
/// before `Retry-After` (seconds or a date).
pub fn retry_hint(
    x_ms_retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let ms = x_ms_retry_after_ms
        .map(str::trim)
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| Duration::from_secs_f64((v / 1000.0).min(1e9)).clamp(MS_RETRY_MIN, MS_RETRY_MAX));
    ms.or_else(|| retry_after.and_then(|v| parse_retry_after(v, now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_milliseconds_come_first_and_are_clamped() {
        let now = SystemTime::UNIX_EPOCH;
        let ms = |v: &str| retry_hint(Some(v), Some("7"), now);
        assert_eq!(ms("1500"), Some(Duration::from_millis(1500)));
        assert_eq!(ms("1"), Some(MS_RETRY_MIN));
        assert_eq!(ms("99999999999999999999"), Some(MS_RETRY_MAX));
        assert_eq!(
            ms("NaN"),
            Some(Duration::from_secs(7)),
            "unreadable: Retry-After"
        );
        assert_eq!(ms("-5"), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_hint(None, Some("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_hint(None, None, now), None);
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
