//! Small helpers shared by the demo server modules: time formatting, GUIDs,
//! FHIR date ranges, accent folding, HTML escaping and query encoding.

use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, TimeZone, Timelike, Utc};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// FHIR `instant` as Azure renders it, e.g. `2024-01-02T03:04:05.678+00:00`.
pub(super) fn fhir_instant(t: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis().min(999)
    )
}

/// FHIR dateTime with seconds precision, e.g. `2024-01-02T03:04:05+00:00`.
pub(super) fn fhir_datetime(t: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// RFC 7231 date for `Last-Modified`.
pub(super) fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

pub(super) fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Characters escaped when rebuilding query strings for Bundle links. Keeps
/// `:`, `,`, `|` and `/` readable like Azure does.
const QUERY_SET: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b'?')
    .add(b'<')
    .add(b'>');

pub(super) fn encode_query(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, QUERY_SET),
                utf8_percent_encode(v, QUERY_SET)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Parses an `application/x-www-form-urlencoded` string into ordered pairs.
pub(super) fn parse_query(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(super) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const FOLDS: &[(&str, &str)] = &[
    ("a", "àáâãäåāăąǎạảấầẩẫậắằẳẵặ"),
    ("c", "çćĉċč"),
    ("d", "ďđð"),
    ("e", "èéêëēĕėęěẹẻẽếềểễệ"),
    ("g", "ĝğġģ"),
    ("h", "ĥħ"),
    ("i", "ìíîïĩīĭįıǐịỉ"),
    ("j", "ĵ"),
    ("k", "ķ"),
    ("l", "ĺļľŀł"),
    ("n", "ñńņňŉ"),
    ("o", "òóôõöøōŏőǒọỏốồổỗộớờởỡợơ"),
    ("r", "ŕŗř"),
    ("s", "śŝşšș"),
    ("t", "ţťŧț"),
    ("u", "ùúûüũūŭůűųǔụủứừửữựư"),
    ("w", "ŵ"),
    ("y", "ýÿŷỳỵỷỹ"),
    ("z", "źżž"),
    ("ss", "ß"),
    ("ae", "æ"),
    ("oe", "œ"),
    ("th", "þ"),
];

/// Lower-cases and strips common Latin diacritics so that `zoe` finds `Zoë`
/// and `nguyen` finds `Nguyễn`.
pub(super) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        match FOLDS.iter().find(|(_, set)| set.contains(c)) {
            Some((base, _)) => out.push_str(base),
            None => out.push(c),
        }
    }
    out
}

/// A half-open time range `[start, end)` that a FHIR date/dateTime covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DateRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

fn day_start(y: i32, m: u32, d: u32) -> Option<DateTime<Utc>> {
    let nd = NaiveDate::from_ymd_opt(y, m, d)?;
    Some(Utc.from_utc_datetime(&nd.and_hms_opt(0, 0, 0)?))
}

/// Parses FHIR date, dateTime or instant with partial precision (`YYYY`,
/// `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm]`).
/// Values without a time zone are taken as UTC.
pub(super) fn parse_date_range(s: &str) -> Option<DateRange> {
    let s = s.trim();
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    match b.len() {
        4 => {
            let y = digits(0..4)? as i32;
            let start = day_start(y, 1, 1)?;
            let end = day_start(y + 1, 1, 1)?;
            Some(DateRange { start, end })
        }
        7 if b[4] == b'-' => {
            let y = digits(0..4)? as i32;
            let m = digits(5..7)?;
            let start = day_start(y, m, 1)?;
            let end = if m == 12 {
                day_start(y + 1, 1, 1)?
            } else {
                day_start(y, m + 1, 1)?
            };
            Some(DateRange { start, end })
        }
        10 if b[4] == b'-' && b[7] == b'-' => {
            let start = day_start(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
            Some(DateRange {
                start,
                end: start + ChronoDuration::days(1),
            })
        }
        n if n > 10 && b[10] == b'T' => {
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                let t = t.with_timezone(&Utc);
                let has_fraction = s.get(19..20) == Some(".");
                let end = if has_fraction {
                    t + ChronoDuration::milliseconds(1)
                } else {
                    t + ChronoDuration::seconds(1)
                };
                return Some(DateRange { start: t, end });
            }
            // Minutes precision or missing zone.
            let (body, offset) = split_zone(s)?;
            let date = day_start(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
            let bb = body.as_bytes();
            let hh = body.get(11..13)?.parse::<i64>().ok()?;
            let mm = body.get(14..16)?.parse::<i64>().ok()?;
            if bb.get(13) != Some(&b':') || hh > 23 || mm > 59 {
                return None;
            }
            let (ss, prec) = match body.len() {
                16 => (0i64, ChronoDuration::minutes(1)),
                19 if bb[16] == b':' => (
                    body.get(17..19)?.parse::<i64>().ok()?,
                    ChronoDuration::seconds(1),
                ),
                n if n > 20 && bb[16] == b':' && bb[19] == b'.' => (
                    body.get(17..19)?.parse::<i64>().ok()?,
                    ChronoDuration::seconds(1),
                ),
                _ => return None,
            };
            if ss > 60 {
                return None;
            }
            let start = date
                + ChronoDuration::hours(hh)
                + ChronoDuration::minutes(mm)
                + ChronoDuration::seconds(ss)
                - ChronoDuration::seconds(offset);
            Some(DateRange {
                start,
                end: start + prec,
            })
        }
        _ => None,
    }
}

/// Splits `...Z` / `...+01:00` off a dateTime; returns (body, offset seconds).
fn split_zone(s: &str) -> Option<(&str, i64)> {
    if let Some(body) = s.strip_suffix('Z') {
        return Some((body, 0));
    }
    if s.len() > 16 {
        let tail_at = s.len() - 6;
        let tail = s.get(tail_at..)?;
        let tb = tail.as_bytes();
        if (tb[0] == b'+' || tb[0] == b'-') && tb[3] == b':' {
            let h: i64 = tail.get(1..3)?.parse().ok()?;
            let m: i64 = tail.get(4..6)?.parse().ok()?;
            let sign = if tb[0] == b'-' { -1 } else { 1 };
            return Some((s.get(..tail_at)?, sign * (h * 3600 + m * 60)));
        }
    }
    Some((s, 0))
}

pub(super) fn unix_now() -> i64 {
    Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents() {
        assert_eq!(fold("Zoë"), "zoe");
        assert_eq!(fold("Nguyễn"), "nguyen");
        assert_eq!(fold("Müller"), "muller");
        assert_eq!(fold("Björk"), "bjork");
    }

    #[test]
    fn partial_dates() {
        let y = parse_date_range("1980").expect("year");
        assert_eq!(fhir_instant(y.start), "1980-01-01T00:00:00.000+00:00");
        assert_eq!(fhir_instant(y.end), "1981-01-01T00:00:00.000+00:00");
        let m = parse_date_range("1980-12").expect("month");
        assert_eq!(fhir_instant(m.end), "1981-01-01T00:00:00.000+00:00");
        let d = parse_date_range("1980-02-29").expect("day");
        assert_eq!(fhir_instant(d.end), "1980-03-01T00:00:00.000+00:00");
        assert!(parse_date_range("1981-02-29").is_none());
        assert!(parse_date_range("abcd").is_none());
        let t = parse_date_range("2024-01-02T03:04:05+01:00").expect("dt");
        assert_eq!(fhir_instant(t.start), "2024-01-02T02:04:05.000+00:00");
        let t = parse_date_range("2024-01-02T03:04").expect("minutes");
        assert_eq!(fhir_instant(t.end), "2024-01-02T03:05:00.000+00:00");
        assert!(parse_date_range("2024-01-02T25:04").is_none());
    }
}
