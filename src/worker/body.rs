//! Prepares a received body for display — detection, pretty-printing, line index — off the UI
//! thread, so a large body never freezes input. A large JSON body is prepared in two steps:
//! first its top lines (shown at once), then the whole of it, while the UI shows progress.

use std::sync::Arc;

use bytes::Bytes;

use super::http::HttpResponse;
use super::spool::{SpoolFile, SpoolText};
use crate::view_body::filter::{FilterOutput, ParsedInput, run_filter_keeping_input};
use crate::view_body::{
    BodyKind, BodyText, Progress, detect_kind, hex_preview, pretty_json_body_shared,
    pretty_json_preview,
};

/// JSON bodies larger than this are shown as a preview first, then in full.
pub const PREVIEW_ABOVE: usize = 2 * 1024 * 1024;
/// Lines in that first preview.
pub const PREVIEW_LINES: usize = 2_000;

/// The body made ready for display. Built off the UI thread for large bodies.
pub struct PreparedBody {
    pub kind: BodyKind,
    /// What the Body tab shows: pretty JSON, or the text as it came.
    pub pretty: BodyText,
    /// The body as received (shared with the response, not copied), for the Raw tab.
    pub raw: BodyText,
    /// Why the body is shown as it came rather than pretty-printed.
    pub note: Option<String>,
    /// Set while the full pretty-print runs in the background; `pretty` holds its top lines.
    pub pending: Option<Pending>,
    /// A body received into a temporary file: its lines are read from there.
    pub spooled: Option<Arc<SpoolText>>,
}

impl std::fmt::Debug for PreparedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedBody")
            .field("kind", &self.kind)
            .field("lines", &self.pretty.line_count())
            .field("pending", &self.pending.is_some())
            .finish()
    }
}

/// A pretty-print still running. Dropping it (the view replaced or closed) stops the work.
pub struct Pending {
    pub progress: Arc<Progress>,
    /// Input bytes to print.
    pub total: usize,
    finish: Option<Finish>,
}

impl Pending {
    /// Share of the work done, 0.0–1.0.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            return 1.0;
        }
        (self.progress.done() as f64 / self.total as f64).clamp(0.0, 1.0)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.progress.cancel();
    }
}

/// The rest of a two-step preparation, to run on a blocking thread.
pub struct Finish {
    bytes: Bytes,
    kind: BodyKind,
    progress: Arc<Progress>,
}

impl Finish {
    /// The whole body prepared, or `None` if the view stopped wanting it.
    pub fn run(self) -> Option<PreparedBody> {
        let body = prepare_bytes(self.kind, &self.bytes, Some(&self.progress));
        (!self.progress.is_cancelled()).then_some(body)
    }
}

impl PreparedBody {
    /// Another holder of the same texts (they are shared, not copied), without the background
    /// step, which stays with this one.
    pub fn share(&self) -> PreparedBody {
        PreparedBody {
            kind: self.kind,
            pretty: self.pretty.clone(),
            raw: self.raw.clone(),
            note: self.note.clone(),
            pending: None,
            spooled: self.spooled.clone(),
        }
    }

    /// The background step, if one is due (taken once, by the worker).
    pub fn take_finish(&mut self) -> Option<Finish> {
        self.pending.as_mut().and_then(|p| p.finish.take())
    }
}

/// Lines in the top of a body shown while the rest still arrives.
pub const HEAD_LINES: usize = 200;

/// The top lines of a JSON body still arriving, pretty-printed from its first bytes `head`
/// (the last, perhaps cut, line left out); `None` if the head does not start like JSON.
pub fn head_preview(head: &[u8]) -> Option<BodyText> {
    let first = head.iter().find(|b| !b.is_ascii_whitespace())?;
    if !matches!(first, b'{' | b'[') {
        return None;
    }
    let preview = pretty_json_preview(head, HEAD_LINES);
    let mut text = preview.text;
    if !preview.complete {
        // The head ends mid-token or mid-line: keep the lines known to be whole.
        let keep = text.rfind('\n').unwrap_or(0);
        text.truncate(keep);
    }
    (!text.is_empty()).then(|| BodyText::new(text))
}

/// Prepares the whole body now.
pub fn prepare(resp: &HttpResponse) -> PreparedBody {
    if let Some(file) = &resp.spool {
        return prepare_spooled(resp, file);
    }
    let kind = detect_kind(resp.content_type(), &resp.body);
    prepare_bytes(kind, &resp.body, None)
}

/// Like [`prepare`], but a large JSON body comes back as its first [`PREVIEW_LINES`] lines
/// with a [`Finish`] to run next (see [`PreparedBody::take_finish`]).
pub fn prepare_for_view(resp: &HttpResponse) -> PreparedBody {
    if let Some(file) = &resp.spool {
        return prepare_spooled(resp, file);
    }
    let kind = detect_kind(resp.content_type(), &resp.body);
    if kind != BodyKind::Json || resp.body.len() <= PREVIEW_ABOVE {
        return prepare_bytes(kind, &resp.body, None);
    }
    let preview = pretty_json_preview(&resp.body, PREVIEW_LINES);
    if preview.complete || preview.error.is_some() {
        // Small enough after all, or broken early: no point in a second step.
        return prepare_bytes(kind, &resp.body, None);
    }
    let progress = Arc::new(Progress::default());
    PreparedBody {
        kind,
        pretty: BodyText::new(preview.text),
        raw: raw_text(&resp.body),
        note: None,
        spooled: None,
        pending: Some(Pending {
            progress: progress.clone(),
            total: resp.body.len(),
            finish: Some(Finish {
                bytes: resp.body.clone(),
                kind,
                progress,
            }),
        }),
    }
}

fn raw_text(bytes: &Bytes) -> BodyText {
    BodyText::from_utf8_bytes(bytes.clone())
        .unwrap_or_else(|b| BodyText::new(String::from_utf8_lossy(&b).into_owned()))
}

fn prepare_bytes(kind: BodyKind, bytes: &Bytes, progress: Option<&Progress>) -> PreparedBody {
    let (pretty, raw, note) = match kind {
        BodyKind::Json => {
            let raw = raw_text(bytes);
            let pretty = pretty_json_body_shared(bytes, progress);
            match pretty {
                Ok(p) => (p, raw, None),
                Err(e) => (
                    raw.clone(),
                    raw,
                    Some(format!(
                        "The body is labelled JSON but is not valid JSON (line {}, column {}: {}); shown as received.",
                        e.line, e.column, e.message
                    )),
                ),
            }
        }
        BodyKind::Binary => {
            let hex = BodyText::new(hex_preview(bytes, 4096).join("\n"));
            (
                hex.clone(),
                hex,
                Some(format!(
                    "Binary or non-UTF-8 body of {} bytes; showing a hex preview of the first 4 KiB.",
                    bytes.len()
                )),
            )
        }
        _ => {
            let raw = raw_text(bytes);
            (raw.clone(), raw, None)
        }
    };
    PreparedBody {
        kind,
        pretty,
        raw,
        note,
        pending: None,
        spooled: None,
    }
}

/// A body on disk: its kind from the Content-Type and its first bytes, its lines indexed.
fn prepare_spooled(resp: &HttpResponse, file: &Arc<SpoolFile>) -> PreparedBody {
    let size = crate::text::human_size(usize::try_from(file.len()).unwrap_or(usize::MAX));
    let limit = crate::text::human_size(super::spool::spool_above());
    let text = match SpoolText::index(file.clone()) {
        Ok(t) => t,
        Err(e) => {
            let msg = format!(
                "The {size} body was saved to a temporary file, but reading it back failed: {e}."
            );
            let empty = BodyText::default();
            return PreparedBody {
                kind: BodyKind::Text,
                pretty: empty.clone(),
                raw: empty,
                note: Some(msg),
                pending: None,
                spooled: None,
            };
        }
    };
    let mut head = text.head(64 * 1024);
    // A character cut at the end of the sample is not a sign of binary data.
    if let Err(e) = std::str::from_utf8(&head)
        && e.error_len().is_none()
    {
        head.truncate(e.valid_up_to());
    }
    let kind = detect_kind(resp.content_type(), &head);
    if kind == BodyKind::Binary {
        let hex = BodyText::new(hex_preview(&head, 4096).join("\n"));
        return PreparedBody {
            kind,
            pretty: hex.clone(),
            raw: hex,
            note: Some(format!(
                "Binary or non-UTF-8 body of {size}, saved to a temporary file; showing a hex preview of the first 4 KiB."
            )),
            pending: None,
            spooled: None,
        };
    }
    PreparedBody {
        kind,
        pretty: BodyText::default(),
        raw: BodyText::default(),
        note: Some(format!(
            "{size} body (above {limit}): kept in a temporary file and shown from there as it came; search, folds and filters need it in memory."
        )),
        pending: None,
        spooled: Some(Arc::new(text)),
    }
}

/// A jq filter to run over a response body (see [`crate::view_body::filter`]).
#[derive(Debug)]
pub struct FilterJob {
    pub id: super::RequestId,
    pub generation: u64,
    pub input: Bytes,
    pub ndjson: bool,
    pub expr: String,
    pub cancel: Arc<std::sync::atomic::AtomicBool>,
}

impl FilterJob {
    pub fn run(self) -> Result<Box<FilterOutput>, String> {
        let mut out = None;
        self.run_then(|r| out = Some(r));
        out.unwrap_or_else(|| Err("The filter stopped.".into()))
    }

    /// Runs the filter, gives `deliver` its result, and only then frees the parsed body
    /// (which takes longer than parsing it: see [`ParsedInput`]) and gives its memory back.
    pub fn run_then(self, deliver: impl FnOnce(Result<Box<FilterOutput>, String>)) {
        crate::memory::on_filter_heap(|| self.run_here(deliver));
        // The parsed input is gone now; glibc's part of its memory goes back to the system,
        // not only to this thread's malloc arena (the filter heap's part went when it ended).
        crate::memory::trim::return_free_memory();
    }

    fn run_here(self, deliver: impl FnOnce(Result<Box<FilterOutput>, String>)) {
        // `fp:` / `fhirpath:` before the expression: FHIRPath instead of jq.
        let (out, parsed) = match crate::view_body::fhirpath::strip_prefix(&self.expr) {
            Some(fp) => (
                crate::view_body::fhirpath::run_fhirpath(
                    &self.input,
                    self.ndjson,
                    fp,
                    &self.cancel,
                )
                .map_err(|e| e.to_string()),
                ParsedInput::default(),
            ),
            None => {
                let (out, parsed) =
                    run_filter_keeping_input(&self.input, self.ndjson, &self.expr, &self.cancel);
                (out.map_err(|e| e.to_string()), parsed)
            }
        };
        // What the evaluation freed goes back before the result is shown; the parsed input,
        // slower to free than to parse, after.
        crate::memory::give_back_filter_pages();
        deliver(out.map(Box::new));
        drop(parsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn resp(ct: &str, body: Vec<u8>) -> HttpResponse {
        HttpResponse {
            spool: None,
            status: 200,
            reason: "OK".into(),
            version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), ct.into())],
            body: body.into(),
            elapsed: Duration::ZERO,
            final_url: "http://x/".into(),
        }
    }

    #[test]
    fn large_json_comes_as_a_preview_then_in_full() {
        let text = crate::view_body::generate_searchset(2_000);
        assert!(text.len() > PREVIEW_ABOVE);
        let r = resp("application/fhir+json", text.clone().into_bytes());
        let mut first = prepare_for_view(&r);
        assert_eq!(first.pretty.line_count(), PREVIEW_LINES);
        assert_eq!(first.raw.as_bytes(), text.as_bytes());
        let finish = first.take_finish().expect("a second step");
        assert!(first.take_finish().is_none(), "taken once");
        let full = finish.run().expect("not cancelled");
        assert!(full.pending.is_none());
        let whole = prepare(&r);
        assert_eq!(full.pretty, whole.pretty);
        assert_eq!(full.pretty.line(0), "{");
        // The preview is the top of the full text.
        for l in 0..PREVIEW_LINES {
            assert_eq!(first.pretty.line(l), full.pretty.line(l));
        }
        assert_eq!(first.pending.as_ref().map(|p| p.total), Some(text.len()));
    }

    #[test]
    fn a_heads_preview_keeps_only_whole_lines() {
        let text = crate::view_body::generate_observations(500);
        let whole = prepare(&resp("application/json", text.clone().into_bytes()));
        // Cut inside a string: the cut line is left out, the others are the body's own.
        let head = head_preview(&text.as_bytes()[..5_000]).unwrap();
        assert!(head.line_count() > 20);
        for l in 0..head.line_count() {
            assert_eq!(head.line(l), whole.pretty.line(l));
        }
        let head = head_preview(&text.as_bytes()[..64 * 1024]).unwrap();
        assert_eq!(head.line_count(), HEAD_LINES - 1);
        assert!(head_preview(b"  <html>").is_none());
        assert!(head_preview(b"").is_none());
    }

    #[test]
    fn dropping_the_preview_cancels_the_second_step() {
        let text = crate::view_body::generate_searchset(2_000);
        let r = resp("application/json", text.into_bytes());
        let mut first = prepare_for_view(&r);
        let finish = first.take_finish().unwrap();
        drop(first);
        assert!(finish.run().is_none());
    }

    #[test]
    fn a_spooled_body_is_read_from_its_file() {
        let mut f = SpoolFile::create().unwrap();
        f.write_all(b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n").unwrap();
        f.flush().unwrap();
        let mut r = resp("application/fhir+ndjson", Vec::new());
        r.spool = Some(Arc::new(f));
        let b = prepare_for_view(&r);
        assert_eq!(b.kind, BodyKind::NdJson);
        let t = b.spooled.expect("read from the file");
        assert_eq!(t.line_count(), 2);
        assert_eq!(t.line(1, 1024), "{\"id\":\"b\"}");
        assert!(b.note.unwrap().contains("temporary file"));
        let mut f = SpoolFile::create().unwrap();
        f.write_all(&[0xff, 0xfe, 0, 1]).unwrap();
        let mut r = resp("application/octet-stream", Vec::new());
        r.spool = Some(Arc::new(f));
        let b = prepare(&r);
        assert_eq!(b.kind, BodyKind::Binary);
        assert!(b.spooled.is_none());
        assert!(b.pretty.line(0).contains("ff fe"), "{}", b.pretty.line(0));
    }

    #[test]
    fn a_fhirpath_prefix_runs_fhirpath_instead_of_jq() {
        let job = |expr: &str| FilterJob {
            id: super::super::RequestId(1),
            generation: 0,
            input: Bytes::from_static(br#"{"resourceType":"Patient","name":[{"family":"Smith"}]}"#),
            ndjson: false,
            expr: expr.into(),
            cancel: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let out = job("fp: Patient.name.family").run().unwrap();
        assert_eq!(out.text.line(0), "\"Smith\"");
        let out = job("fhirpath:name.family.upper()").run().unwrap();
        assert_eq!(out.text.line(0), "\"SMITH\"");
        assert!(
            job("fp: name.(")
                .run()
                .unwrap_err()
                .contains("not valid FHIRPath")
        );
        assert_eq!(
            job(".name[0].family").run().unwrap().text.line(0),
            "\"Smith\""
        );
    }

    #[test]
    fn small_and_non_json_bodies_are_prepared_at_once() {
        let r = resp("application/json", br#"{"a":1}"#.to_vec());
        let mut b = prepare_for_view(&r);
        assert!(b.take_finish().is_none());
        assert_eq!(b.pretty.line(1), "  \"a\": 1");
        let big_text = "line\n".repeat(1_000_000);
        let r = resp("text/plain", big_text.into_bytes());
        let b = prepare_for_view(&r);
        assert!(b.pending.is_none());
        assert_eq!(b.pretty.line_count(), 1_000_000);
        let r = resp("application/json", vec![b'{', 0xff, b'}']);
        let b = prepare_for_view(&r);
        assert_eq!(b.kind, BodyKind::Binary);
        assert!(b.note.unwrap().contains("hex preview"));
    }
}
