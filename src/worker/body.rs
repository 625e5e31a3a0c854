//! Prepares a received body for display — detection, pretty-printing, line index — off the UI
//! thread, so a large body never freezes input.

use super::http::HttpResponse;
use crate::view_body::{BodyKind, BodyText, detect_kind, hex_preview, pretty_json_body};

/// The body made ready for display. Built off the UI thread for large bodies.
pub struct PreparedBody {
    pub kind: BodyKind,
    /// What the Body tab shows: pretty JSON, or the text as it came.
    pub pretty: BodyText,
    /// The body as received (lossy UTF-8), for the Raw tab.
    pub raw: BodyText,
    /// Why the body is shown as it came rather than pretty-printed.
    pub note: Option<String>,
}

pub fn prepare(resp: &HttpResponse) -> PreparedBody {
    let kind = detect_kind(resp.content_type(), &resp.body);
    let raw_text = String::from_utf8_lossy(&resp.body).into_owned();
    let (pretty, note) = match kind {
        BodyKind::Json => match pretty_json_body(&resp.body) {
            Ok(p) => (p, None),
            Err(e) => (
                BodyText::new(raw_text.clone()),
                Some(format!(
                    "The body is labelled JSON but is not valid JSON (line {}, column {}: {}); shown as received.",
                    e.line, e.column, e.message
                )),
            ),
        },
        BodyKind::Binary => (
            BodyText::new(hex_preview(&resp.body, 4096).join("\n")),
            Some(format!(
                "Binary or non-UTF-8 body of {} bytes; showing a hex preview of the first 4 KB.",
                resp.body.len()
            )),
        ),
        _ => (BodyText::new(raw_text.clone()), None),
    };
    let raw = if kind == BodyKind::Binary {
        pretty.clone()
    } else {
        BodyText::new(raw_text)
    };
    PreparedBody {
        kind,
        pretty,
        raw,
        note,
    }
}
