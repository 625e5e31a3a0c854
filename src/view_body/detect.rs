//! Body kind detection from Content-Type and a sniff of the bytes.

/// How a body is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyKind {
    Json,
    NdJson,
    Xml,
    Html,
    Text,
    Binary,
}

/// Detect the kind from `Content-Type` (may be `None`; parameters such as
/// `; charset=utf-8` are ignored) and the bytes. Invalid UTF-8 is always
/// [`BodyKind::Binary`]; so are media types that are binary by nature
/// (`image/*`, `audio/*`, `video/*`, PDF, zip, gzip).
pub fn detect_kind(content_type: Option<&str>, bytes: &[u8]) -> BodyKind {
    let mime = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if mime.starts_with("image/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || matches!(
            mime.as_str(),
            "application/pdf" | "application/zip" | "application/gzip" | "application/x-gzip"
        )
    {
        return BodyKind::Binary;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return BodyKind::Binary;
    };
    if text.as_bytes().contains(&0) {
        return BodyKind::Binary;
    }
    let suffix = mime.rsplit_once('+').map(|(_, s)| s);
    match mime.as_str() {
        "application/x-ndjson"
        | "application/ndjson"
        | "application/fhir+ndjson"
        | "application/jsonl"
        | "application/x-jsonlines" => return BodyKind::NdJson,
        "application/json" | "text/json" | "application/fhir+json" => return BodyKind::Json,
        "application/xml" | "text/xml" | "application/fhir+xml" => return BodyKind::Xml,
        "text/html" | "application/xhtml+xml" => return BodyKind::Html,
        _ => {}
    }
    match suffix {
        Some("json") => return BodyKind::Json,
        Some("ndjson") => return BodyKind::NdJson,
        Some("xml") => return BodyKind::Xml,
        _ => {}
    }
    if mime.starts_with("text/") && mime != "text/plain" {
        return BodyKind::Text;
    }
    // Unknown, missing, text/plain or octet-stream: sniff.
    sniff(text)
}

fn sniff(text: &str) -> BodyKind {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    match t.as_bytes().first() {
        Some(b'{') => {
            // Several lines each holding one object → NDJSON.
            let mut lines = t.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or("");
            let second = lines.next();
            match second {
                Some(s) if first.ends_with('}') && s.starts_with('{') => BodyKind::NdJson,
                _ => BodyKind::Json,
            }
        }
        Some(b'[') => BodyKind::Json,
        Some(b'<') => {
            let head: String = t.chars().take(256).collect::<String>().to_ascii_lowercase();
            if head.starts_with("<!doctype html") || head.starts_with("<html") {
                BodyKind::Html
            } else {
                BodyKind::Xml
            }
        }
        _ => BodyKind::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BodyKind::*;

    #[test]
    fn by_content_type() {
        let j = b"{}";
        assert_eq!(
            detect_kind(Some("application/fhir+json; fhirVersion=4.0"), j),
            Json
        );
        assert_eq!(detect_kind(Some("application/json;charset=UTF-8"), j), Json);
        assert_eq!(detect_kind(Some("application/vnd.foo+json"), j), Json);
        assert_eq!(detect_kind(Some("application/fhir+ndjson"), j), NdJson);
        assert_eq!(detect_kind(Some("application/x-ndjson"), j), NdJson);
        assert_eq!(detect_kind(Some("application/fhir+xml"), b"<a/>"), Xml);
        assert_eq!(detect_kind(Some("text/xml"), b"<a/>"), Xml);
        assert_eq!(detect_kind(Some("text/html"), b"<p>"), Html);
        assert_eq!(detect_kind(Some("text/css"), b"a{}"), Text);
        assert_eq!(detect_kind(Some("image/png"), b"abc"), Binary);
        assert_eq!(detect_kind(Some("application/json"), b"\xff\xfe"), Binary);
    }

    #[test]
    fn by_sniffing() {
        assert_eq!(detect_kind(None, b"  {\"a\":1}"), Json);
        assert_eq!(detect_kind(None, b"{\"a\":1}\n{\"a\":2}\n"), NdJson);
        assert_eq!(detect_kind(None, b"{\n \"a\": 1\n}"), Json);
        assert_eq!(detect_kind(Some("text/plain"), b"[1]"), Json);
        assert_eq!(
            detect_kind(Some("application/octet-stream"), b"<Bundle/>"),
            Xml
        );
        assert_eq!(detect_kind(None, b"<!DOCTYPE html><html>"), Html);
        assert_eq!(detect_kind(None, b"hello"), Text);
        assert_eq!(detect_kind(None, b""), Text);
        assert_eq!(detect_kind(None, b"a\0b"), Binary);
        assert_eq!(detect_kind(None, b"\x89PNG\r\n\x1a\n\0"), Binary);
    }
}
