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
    /// The last search in this response's current tab.
    pub search: Option<BodySearch>,
    /// Put back from history at start (an earlier session's answer, not sent now).
    pub restored: bool,
}

/// Matches of a search in the body, and which one is current.
pub struct BodySearch {
    pub needle: String,
    pub tab: ResponseTab,
    pub matches: Vec<crate::view_body::Match>,
    pub current: usize,
    /// The search stopped at this many matches.
    pub capped: bool,
}

/// At most this many matches are collected (a one-letter search in a big body).
pub const MAX_MATCHES: usize = 100_000;

impl ResponseView {
    /// The text of the current tab (Body or Raw).
    pub fn tab_text(&self) -> Option<&crate::view_body::BodyText> {
        match (&self.outcome, self.tab) {
            (Outcome::Received { body, .. }, ResponseTab::Body) => Some(&body.pretty),
            (Outcome::Received { body, .. }, ResponseTab::Raw) => Some(&body.raw),
            _ => None,
        }
    }

    pub fn search_for(&mut self, needle: &str) -> Option<String> {
        let text = self.tab_text()?;
        let opts = crate::view_body::SearchOptions {
            case_insensitive: true,
            max_matches: MAX_MATCHES,
        };
        let matches = crate::view_body::find_all(text, needle, opts);
        let capped = matches.len() >= MAX_MATCHES;
        let from = self.scroll;
        let current = matches.iter().position(|m| m.line >= from).unwrap_or(0);
        let found = matches.len();
        self.search = Some(BodySearch {
            needle: needle.to_string(),
            tab: self.tab,
            matches,
            current,
            capped,
        });
        self.scroll_to_current();
        Some(if found == 0 {
            format!("No match for '{needle}'.")
        } else {
            self.search_status()
        })
    }

    pub fn step_search(&mut self, forward: bool) -> Option<String> {
        let s = self.search.as_mut().filter(|s| !s.matches.is_empty())?;
        let n = s.matches.len();
        s.current = if forward {
            (s.current + 1) % n
        } else {
            (s.current + n - 1) % n
        };
        self.scroll_to_current();
        Some(self.search_status())
    }

    fn scroll_to_current(&mut self) {
        if let Some(m) = self.search.as_ref().and_then(|s| s.matches.get(s.current)) {
            self.scroll = m.line.saturating_sub(3);
        }
    }

    pub fn search_status(&self) -> String {
        match &self.search {
            Some(s) if !s.matches.is_empty() => format!(
                "'{}': match {} of {}{}",
                s.needle,
                s.current + 1,
                s.matches.len(),
                if s.capped { "+" } else { "" }
            ),
            Some(s) => format!("No match for '{}'.", s.needle),
            None => String::new(),
        }
    }
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
            search: None,
            restored: false,
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
