//! References to follow: finds `"reference": "Patient/123"` in the lines of a pretty-printed
//! response body (so the viewer can underline them and jump on Enter) and turns a reference
//! into the absolute URL to fetch.
//!
//! Relative references resolve against the FHIR base, or, when the resource being viewed came
//! from another server (its URL is not under the base), against that server's base. Absolute
//! http(s) URLs are returned as they are: the caller decides with [`is_under_base`] whether
//! to attach its token. Contained (`#id`) and `urn:` references have nothing to fetch.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use std::ops::Range;

use super::util::looks_like_type;

/// Characters escaped in a path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The `"reference"` values on one line of JSON text: for each, the byte range of the string
/// contents (between the quotes, as written) and the decoded reference. Strings are tracked
/// properly, so `"reference"` inside another string value is not taken.
pub fn references_in_line(line: &str) -> Vec<(Range<usize>, String)> {
    let strings = json_strings(line);
    let mut out = Vec::new();
    for (i, s) in strings.iter().enumerate() {
        if s.value != "reference" {
            continue;
        }
        let Some(next) = strings.get(i + 1) else {
            continue;
        };
        // Only `"reference"` `:` `"…"` with nothing but whitespace between.
        let between = line
            .get(s.end + 1..next.start.saturating_sub(1))
            .unwrap_or("");
        if between.trim() != ":" {
            continue;
        }
        if !next.value.trim().is_empty() {
            out.push((next.start..next.end, next.value.clone()));
        }
    }
    out
}

struct JsonString {
    /// Byte offset just after the opening quote.
    start: usize,
    /// Byte offset of the closing quote (or the line end when unterminated).
    end: usize,
    value: String,
}

/// The JSON string literals on a line (contents range and decoded value). A string left open
/// at the end of the line is included with what it has.
fn json_strings(line: &str) -> Vec<JsonString> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '"' {
            continue;
        }
        let start = i + 1;
        let mut value = String::new();
        let mut end = line.len();
        while let Some((j, c)) = chars.next() {
            match c {
                '"' => {
                    end = j;
                    break;
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 't')) => value.push('\t'),
                    Some((_, 'r')) => value.push('\r'),
                    Some((_, 'b')) => value.push('\u{8}'),
                    Some((_, 'f')) => value.push('\u{c}'),
                    Some((_, 'u')) => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        if let Some(ch) =
                            u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            value.push(ch);
                        }
                    }
                    Some((_, other)) => value.push(other),
                    None => {}
                },
                other => value.push(other),
            }
        }
        out.push(JsonString { start, end, value });
    }
    out
}

/// The absolute URL to fetch for a reference, or `None` when there is nothing to fetch
/// (contained `#id`, `urn:uuid:`/`urn:oid:`, other schemes, malformed references).
///
/// * `Type/id` and `Type/id/_history/vid` → `{base}/Type/id[...]`, where `base` is
///   `fhir_base`, unless `current_url` (the URL of the resource that holds the reference) is
///   an absolute URL outside `fhir_base` whose own base can be told from a `Type/id` at its
///   end; then that server's base is used, as FHIR prescribes.
/// * Conditional references `Type?param=value` → the search URL.
/// * Absolute `http(s)://` URLs → returned unchanged.
pub fn resolve_reference(
    reference: &str,
    fhir_base: &str,
    current_url: Option<&str>,
) -> Option<String> {
    let r = reference.trim();
    if r.is_empty() || r.starts_with('#') || r.chars().any(char::is_whitespace) {
        return None;
    }
    let lower = r.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return url::Url::parse(r).ok().map(|_| r.to_string());
    }
    let head = r.split('?').next().unwrap_or(r);
    if lower.starts_with("urn:") || head.contains("://") || has_scheme(head) {
        return None;
    }
    let base = current_url
        .filter(|u| !is_under_base(u, fhir_base))
        .and_then(base_of_resource_url)
        .unwrap_or_else(|| fhir_base.trim().trim_end_matches('/').to_string());
    if base.is_empty() {
        return None;
    }
    let r = r.trim_start_matches('/');

    // Conditional reference: `Patient?identifier=x|1`.
    if let Some((type_, query)) = r.split_once('?') {
        return (looks_like_type(type_) && !query.is_empty())
            .then(|| format!("{base}/{type_}?{query}"));
    }
    let segments: Vec<&str> = r.split('/').collect();
    let valid_id = |s: &str| !s.is_empty() && s.len() <= 256;
    let ok = match segments.as_slice() {
        [t, id] => looks_like_type(t) && valid_id(id),
        [t, id, h, v] => looks_like_type(t) && valid_id(id) && *h == "_history" && valid_id(v),
        _ => false,
    };
    if !ok {
        return None;
    }
    let path: Vec<String> = segments
        .iter()
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    Some(format!("{base}/{}", path.join("/")))
}

/// `scheme:` at the start (letters, digits, `+`, `-`, `.` then `:`) as in `mailto:`, `oid:`.
fn has_scheme(r: &str) -> bool {
    r.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// The service base of an absolute resource URL: what comes before `Type/id` (optionally
/// followed by `/_history/vid`). `None` when the URL does not end that way.
fn base_of_resource_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let segments: Vec<&str> = parsed.path_segments()?.filter(|s| !s.is_empty()).collect();
    let n = segments.len();
    let type_index = if n >= 4 && segments.get(n - 2) == Some(&"_history") {
        n - 4
    } else if n >= 2 {
        n - 2
    } else {
        return None;
    };
    if !segments.get(type_index).is_some_and(|t| looks_like_type(t)) {
        return None;
    }
    let mut base = format!("{}://{}", parsed.scheme(), parsed.host_str()?);
    if let Some(port) = parsed.port() {
        base.push_str(&format!(":{port}"));
    }
    for s in segments.get(..type_index)? {
        base.push('/');
        base.push_str(s);
    }
    Some(base)
}

/// Whether `url` is on the same server (scheme, host, port) as `base` and its path is at or
/// below the base path (on a segment boundary). False when either does not parse.
pub fn is_under_base(url: &str, base: &str) -> bool {
    let (Ok(u), Ok(b)) = (url::Url::parse(url.trim()), url::Url::parse(base.trim())) else {
        return false;
    };
    if u.scheme() != b.scheme()
        || u.host_str().map(str::to_ascii_lowercase) != b.host_str().map(str::to_ascii_lowercase)
        || u.port_or_known_default() != b.port_or_known_default()
        || u.cannot_be_a_base()
    {
        return false;
    }
    let base_path = b.path().trim_end_matches('/');
    let path = u.path();
    match path.strip_prefix(base_path) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BASE: &str = "https://fhir.example.org/r4";

    #[test]
    fn finds_references_in_lines() {
        let line = r#"    "reference": "Patient/123","#;
        let refs = references_in_line(line);
        assert_eq!(refs.len(), 1);
        let (range, r) = &refs[0];
        assert_eq!(r, "Patient/123");
        assert_eq!(&line[range.clone()], "Patient/123");

        let compact = r#"{"subject":{"reference":"Patient/1","display":"A"},"performer":[{"reference" : "Practitioner\/p\u0031"}]}"#;
        let refs = references_in_line(compact);
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[1].1, "Practitioner/p1");
        assert_eq!(&compact[refs[1].0.clone()], r#"Practitioner\/p\u0031"#);

        assert!(references_in_line(r#"  "display": "reference: Patient/1""#).is_empty());
        assert!(references_in_line(r#"  "div": "\"reference\": \"Patient/1\"""#).is_empty());
        assert!(references_in_line(r#"  "reference": 12"#).is_empty());
        assert!(references_in_line(r#"  "reference": """#).is_empty());
        assert!(references_in_line(r#"  "reference""#).is_empty());
        assert!(references_in_line("").is_empty());
        // Non-ASCII before the value keeps byte ranges right.
        let line = r#"  "display": "Zoë", "reference": "Patient/é""#;
        let refs = references_in_line(line);
        assert_eq!(&line[refs[0].0.clone()], "Patient/é");
        // Unterminated string at the end of the line.
        let refs = references_in_line(r#""reference": "Patient/1"#);
        assert_eq!(refs[0].1, "Patient/1");
    }

    #[test]
    fn resolves_references() {
        assert_eq!(
            resolve_reference("Patient/123", BASE, None).as_deref(),
            Some("https://fhir.example.org/r4/Patient/123")
        );
        assert_eq!(
            resolve_reference(
                "Patient/123/_history/2",
                "https://fhir.example.org/r4/",
                None
            )
            .as_deref(),
            Some("https://fhir.example.org/r4/Patient/123/_history/2")
        );
        assert_eq!(
            resolve_reference("https://other.org/fhir/Patient/9", BASE, None).as_deref(),
            Some("https://other.org/fhir/Patient/9")
        );
        assert_eq!(resolve_reference("#contained-1", BASE, None), None);
        assert_eq!(resolve_reference("urn:uuid:0a1b", BASE, None), None);
        assert_eq!(resolve_reference("urn:oid:1.2.3", BASE, None), None);
        assert_eq!(resolve_reference("mailto:x@y", BASE, None), None);
        assert_eq!(resolve_reference("ftp://x/Patient/1", BASE, None), None);
        assert_eq!(resolve_reference("Patient", BASE, None), None);
        assert_eq!(resolve_reference("patient/1", BASE, None), None);
        assert_eq!(resolve_reference("Patient/1/_history", BASE, None), None);
        assert_eq!(resolve_reference("Patient/1/x/2", BASE, None), None);
        assert_eq!(resolve_reference("", BASE, None), None);
        assert_eq!(resolve_reference("Patient/1", "", None), None);
        assert_eq!(
            resolve_reference("Patient?identifier=http://h|1", BASE, None).as_deref(),
            Some("https://fhir.example.org/r4/Patient?identifier=http://h|1")
        );
        // A resource fetched from another server resolves against that server.
        assert_eq!(
            resolve_reference(
                "Patient/5",
                BASE,
                Some("https://other.org:8443/fhir/Observation/1/_history/3")
            )
            .as_deref(),
            Some("https://other.org:8443/fhir/Patient/5")
        );
        assert_eq!(
            resolve_reference(
                "Patient/5",
                BASE,
                Some("https://fhir.example.org/r4/Observation/1")
            )
            .as_deref(),
            Some("https://fhir.example.org/r4/Patient/5")
        );
        assert_eq!(
            resolve_reference("Patient/5", BASE, Some("not a url")).as_deref(),
            Some("https://fhir.example.org/r4/Patient/5")
        );
        assert_eq!(
            resolve_reference("Patient/a%b", BASE, None).as_deref(),
            Some("https://fhir.example.org/r4/Patient/a%25b")
        );
    }

    #[test]
    fn under_base() {
        assert!(is_under_base("https://fhir.example.org/r4/Patient/1", BASE));
        assert!(is_under_base(
            "https://FHIR.example.org:443/r4",
            "https://fhir.example.org/r4/"
        ));
        assert!(!is_under_base(
            "https://fhir.example.org/r40/Patient/1",
            BASE
        ));
        assert!(!is_under_base("http://fhir.example.org/r4/Patient/1", BASE));
        assert!(!is_under_base(
            "https://fhir.example.org.evil.com/r4/Patient/1",
            BASE
        ));
        assert!(!is_under_base(
            "https://fhir.example.org:8443/r4/Patient/1",
            BASE
        ));
        assert!(is_under_base("https://h/Patient/1", "https://h"));
        assert!(!is_under_base("Patient/1", BASE));
    }

    proptest! {
        #[test]
        fn never_panic(line in "\\PC{0,80}", base in "\\PC{0,30}", cur in "\\PC{0,30}") {
            for (range, _) in references_in_line(&line) {
                prop_assert!(line.get(range).is_some());
            }
            let _ = resolve_reference(&line, &base, Some(&cur));
            let _ = resolve_reference(&line, BASE, Some(&cur));
            let _ = is_under_base(&line, &base);
        }

        #[test]
        fn json_shaped_lines(s in "(\"reference\"|\"|\\\\|:| |Patient/1|\\\\u00|é)*") {
            for (range, _) in references_in_line(&s) {
                prop_assert!(s.get(range).is_some());
            }
        }
    }
}
