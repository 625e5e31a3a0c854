//! An open request with its unsaved edits, kept per request so switching loses nothing.

use crate::tui::widgets::text_field::TextField;
use crate::workspace::{KeyValue, NodePath, RequestSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorTab {
    Params,
    Headers,
    Body,
    Captures,
}

impl EditorTab {
    pub const ALL: [EditorTab; 4] = [
        EditorTab::Params,
        EditorTab::Headers,
        EditorTab::Body,
        EditorTab::Captures,
    ];

    /// The next (or previous) tab, round.
    pub fn step(self, forward: bool) -> EditorTab {
        let i = Self::ALL.iter().position(|t| *t == self).unwrap_or(0);
        let n = Self::ALL.len();
        Self::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

pub struct RequestEditor {
    pub path: NodePath,
    pub draft: RequestSpec,
    pub saved: RequestSpec,
    pub tab: EditorTab,
    pub row: usize,
    pub body: TextField,
    pub body_editing: bool,
    /// Some while the URL line is being edited.
    pub url: Option<TextField>,
    /// A completion just added `=`: a `=` typed right after it is not doubled.
    pub completed_eq: bool,
}

impl RequestEditor {
    pub fn new(path: NodePath, spec: RequestSpec) -> Self {
        Self {
            path,
            body: TextField::lines(&spec.body.text),
            draft: spec.clone(),
            saved: spec,
            tab: EditorTab::Params,
            row: 0,
            body_editing: false,
            url: None,
            completed_eq: false,
        }
    }

    pub fn dirty(&self) -> bool {
        self.draft != self.saved
    }

    /// Whether keys are text now (the URL line or the body is being edited).
    pub fn editing(&self) -> bool {
        self.url.is_some() || self.body_editing
    }

    /// Rows in the table of the current tab.
    pub fn row_count(&self) -> usize {
        match self.tab {
            EditorTab::Params => self.draft.query.len(),
            EditorTab::Headers => self.draft.headers.len(),
            EditorTab::Body => self.draft.body.form.len(),
            EditorTab::Captures => self.draft.captures.len(),
        }
    }

    /// The key/value rows of the current tab, when it has them.
    pub fn table_mut(&mut self) -> Option<&mut Vec<KeyValue>> {
        match self.tab {
            EditorTab::Params => Some(&mut self.draft.query),
            EditorTab::Headers => Some(&mut self.draft.headers),
            EditorTab::Body if self.draft.body.kind == crate::workspace::BodyKind::Form => {
                Some(&mut self.draft.body.form)
            }
            _ => None,
        }
    }

    /// The URL line's edit kept: query parameters typed into it move to the Params tab.
    pub fn commit_url(&mut self) {
        if let Some(url) = self.url.take() {
            self.draft.url = url.text().trim().to_string();
            self.draft.split_query_from_url();
        }
    }

    /// Replaces the draft (a reload, a restored draft, a body from `$EDITOR`).
    pub fn set_draft(&mut self, spec: RequestSpec) {
        self.body = TextField::lines(&spec.body.text);
        self.draft = spec;
    }
}
