//! A received response as the Response pane shows it: status, headers, and the body prepared
//! once (pretty-printed, line-indexed) for fast drawing.

use std::time::Duration;

use crate::view_body::{BodyKind, LazyHighlighter};
use crate::worker::HttpResponse;
use crate::worker::body::PreparedBody;
use crate::worker::capture::CaptureOutcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseTab {
    Body,
    Headers,
    Raw,
}

impl ResponseTab {
    pub const ALL: [ResponseTab; 3] = [ResponseTab::Body, ResponseTab::Headers, ResponseTab::Raw];
}

pub enum Outcome {
    Received {
        response: Box<HttpResponse>,
        body: Box<PreparedBody>,
    },
    Failed(String),
}

pub struct ResponseView {
    /// `GET https://…` with secrets redacted.
    pub request_line: String,
    pub outcome: Outcome,
    pub captures: Vec<CaptureOutcome>,
    pub tab: ResponseTab,
    pub scroll: usize,
    pub hscroll: usize,
    pub wrap: bool,
    pub highlighter: LazyHighlighter,
    pub raw_highlighter: LazyHighlighter,
    pub received_at: chrono::DateTime<chrono::Local>,
    /// What sign-in did for this exchange (sent without a token, retried after a 401).
    pub auth_note: Option<String>,
}

impl ResponseView {
    pub fn new(request_line: String, outcome: Outcome, captures: Vec<CaptureOutcome>) -> Self {
        let kind = match &outcome {
            Outcome::Received { body, .. } => body.kind,
            Outcome::Failed(_) => BodyKind::Text,
        };
        let raw_kind = if kind == BodyKind::Json {
            BodyKind::Text
        } else {
            kind
        };
        Self {
            request_line,
            outcome,
            captures,
            tab: ResponseTab::Body,
            scroll: 0,
            hscroll: 0,
            wrap: false,
            highlighter: LazyHighlighter::new(kind),
            raw_highlighter: LazyHighlighter::new(raw_kind),
            received_at: chrono::Local::now(),
            auth_note: None,
        }
    }

    /// Lines in the current tab, for scrolling bounds.
    pub fn line_count(&self) -> usize {
        match &self.outcome {
            Outcome::Failed(_) => 1,
            Outcome::Received { response, body } => match self.tab {
                ResponseTab::Body => body.pretty.line_count(),
                ResponseTab::Raw => body.raw.line_count(),
                ResponseTab::Headers => response.headers.len() + 1,
            },
        }
    }

    pub fn elapsed(&self) -> Option<Duration> {
        match &self.outcome {
            Outcome::Received { response, .. } => Some(response.elapsed),
            Outcome::Failed(_) => None,
        }
    }
}

/// "1.2 KB" style sizes.
pub fn human_size(n: usize) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MB");
    }
}
