//! Application state: everything the view draws from. Changed only by `update`.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use ratatui_textarea::TextArea;

use super::response::ResponseView;
use crate::worker::RequestId;
use crate::workspace::{LoadProblem, NodePath, RequestSpec, Store, Workspace};

/// The four panes, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Environments,
    Collections,
    Request,
    Response,
}

impl Pane {
    pub const ALL: [Pane; 4] = [
        Pane::Environments,
        Pane::Collections,
        Pane::Request,
        Pane::Response,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Environments => "Environments",
            Pane::Collections => "Collections",
            Pane::Request => "Request",
            Pane::Response => "Response",
        }
    }

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Collection,
    Folder,
    Request,
}

/// One visible line of the collections tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub path: NodePath,
    pub depth: usize,
    pub kind: RowKind,
    pub name: String,
    pub method: String,
    pub expanded: bool,
}

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
}

/// An open request with its unsaved edits. Kept per request, so switching loses nothing.
pub struct RequestEditor {
    pub path: NodePath,
    pub draft: RequestSpec,
    pub saved: RequestSpec,
    pub tab: EditorTab,
    pub row: usize,
    pub body: TextArea<'static>,
    pub body_editing: bool,
    /// Some while the URL line is being edited.
    pub url: Option<TextArea<'static>>,
}

impl RequestEditor {
    pub fn new(path: NodePath, spec: RequestSpec) -> Self {
        let body = body_area(&spec.body.text);
        Self {
            path,
            draft: spec.clone(),
            saved: spec,
            tab: EditorTab::Params,
            row: 0,
            body,
            body_editing: false,
            url: None,
        }
    }

    pub fn dirty(&self) -> bool {
        self.draft != self.saved
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
}

pub fn body_area(text: &str) -> TextArea<'static> {
    let lines: Vec<String> = if text.is_empty() {
        vec![String::new()]
    } else {
        text.split('\n')
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect()
    };
    let mut t = TextArea::new(lines);
    t.set_tab_length(2);
    t.set_hard_tab_indent(false);
    t
}

pub fn line_area(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.replace(['\n', '\r'], " ")]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

/// What a confirmation dialog does on "yes".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    DeleteEnvironment(String),
    DeleteNode { path: NodePath, is_request: bool },
    SendAnyway,
    QuitDiscarding,
    RestoreDrafts,
    CancelJob(String),
    ClearHistory,
}

/// What a one-line prompt's text is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptFor {
    NewEnvironment,
    RenameEnvironment(String),
    DuplicateEnvironment(String),
    NewRequest(NodePath),
    NewFolder(NodePath),
    NewCollection,
    RenameNode {
        path: NodePath,
        is_request: bool,
    },
    CurlInto(NodePath),
    SearchBody,
    GotoLine,
    ImportFile,
    /// Save the history entry with this id as a new request.
    SaveHistoryEntry(i64),
    FilterBody,
}

/// Which table row a key/value dialog edits (`None` index: a new row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvTarget {
    EnvVar { env: String, index: Option<usize> },
    AuthField { env: String, field: &'static str },
    Query(Option<usize>),
    Header(Option<usize>),
    Form(Option<usize>),
    Capture(Option<usize>),
}

// Only one overlay exists at a time, so the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    Problems {
        scroll: u16,
    },
    Palette {
        input: TextArea<'static>,
        selected: usize,
    },
    Confirm {
        message: String,
        on_yes: Confirmed,
    },
    Prompt {
        title: String,
        input: TextArea<'static>,
        purpose: PromptFor,
    },
    KeyValue {
        title: String,
        key: TextArea<'static>,
        value: TextArea<'static>,
        on_key: bool,
        target: KvTarget,
    },
    Method {
        selected: usize,
    },
    Move {
        from: NodePath,
        is_request: bool,
        targets: Vec<NodePath>,
        selected: usize,
    },
    EnvEditor {
        env: String,
        row: usize,
        reveal: bool,
    },
    /// Sign-in settings of an environment.
    AuthEditor {
        env: String,
        row: usize,
    },
    /// A running interactive sign-in (device code, browser).
    SignIn {
        env: String,
        view: super::auth::SignInView,
    },
    /// Text to read (a curl command, an import report).
    Text {
        title: String,
        text: String,
        scroll: u16,
    },
    /// The export jobs.
    Jobs {
        selected: usize,
    },
    /// The bulk-export kick-off form.
    /// The capability explorer: resource types and what the server supports for each.
    Capabilities {
        selected: usize,
        scroll: u16,
    },
    ExportForm(Box<super::export_form::ExportForm>),
    /// A file changed on disk by another program: reload, keep mine, or save a copy.
    Conflict(super::conflict::Conflict),
    /// The decoded token of an environment.
    TokenViewer {
        env: String,
        scroll: u16,
    },
    /// The history screen; its state is `App::history_view`, kept while it is closed.
    History,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Error,
}

#[derive(Debug, Clone)]
pub struct Status {
    pub text: String,
    pub kind: StatusKind,
}

/// A request on the wire.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub path: NodePath,
    pub started: Instant,
    pub method: String,
    pub url: String,
    pub secrets: Vec<String>,
}

pub struct App {
    pub store: Store,
    pub ws: Workspace,
    pub problems: Vec<LoadProblem>,
    pub active_env: Option<String>,
    pub focus: Pane,
    pub env_selected: usize,
    pub tree_selected: usize,
    pub expanded: HashSet<NodePath>,
    pub open: Option<NodePath>,
    pub editors: HashMap<NodePath, RequestEditor>,
    pub responses: HashMap<NodePath, ResponseView>,
    pub in_flight: HashMap<RequestId, InFlight>,
    pub overlay: Option<Overlay>,
    pub status: Option<Status>,
    /// Values captured from responses this session (tokens among them): never written to disk.
    pub session_vars: Vec<(String, String)>,
    pub next_request_id: u64,
    pub quit: bool,
    /// Animation frame for spinners; advanced by ticks only while something is running.
    pub frame: u64,
    /// The FHIR browser (lookup, bundles, references) and whether it is on screen.
    pub browser: Option<super::browser::Browser>,
    pub browsing: bool,
    /// Bulk-export jobs (saved in the workspace's `jobs/`) and their downloads.
    pub jobs: Vec<crate::worker::export::ExportJob>,
    pub job_store: Option<crate::workspace::jobs::JobStore>,
    pub downloads: super::jobs::Downloads,
    pub file_progress: std::collections::HashMap<String, super::jobs::FileProgress>,
    pub outputs: super::jobs::OutputsView,
    /// Each environment's CapabilityStatement, fetched once per session.
    pub capabilities: std::collections::HashMap<String, super::capabilities::CapsState>,
    pub caps_requests: std::collections::HashMap<crate::worker::RequestId, String>,
    /// The interface colours in use, the themes to choose from, and the terminal's colour depth.
    pub theme: crate::tui::style::Theme,
    pub themes: Vec<crate::tui::style::Theme>,
    pub color_depth: crate::tui::style::theme_file::ColorDepth,
    /// The key bindings in force: the defaults with `keys.toml` laid over them.
    pub keymap: crate::tui::keys::keymap::Keymap,
    /// Drafts from a session that ended with unsaved edits, until restored or discarded.
    pub pending_drafts: Vec<(NodePath, RequestSpec)>,
    /// Where each pane (or, in the narrow layout, its tab) was last drawn, for mouse clicks.
    pub pane_areas: Vec<(Pane, ratatui::layout::Rect)>,
    /// Each environment's token, as far as the UI knows.
    pub tokens: std::collections::HashMap<String, super::auth::TokenState>,
    /// Whether exchanges are recorded (the history file opened), and why not.
    pub history_enabled: bool,
    pub history_problem: Option<String>,
    /// A write failed once already (said once, not on every request).
    pub history_write_failed: bool,
    /// Entries and bytes kept, as of the last list.
    pub history_usage: (u64, u64),
    pub history_view: Option<Box<super::history::HistoryView>>,
    pub pending_history_action: Option<super::history::PendingAction>,
    /// The session file could not be read: it is not written over.
    pub session_broken: bool,
    /// What the session file holds now (written again only when this changes).
    pub session_saved: Option<super::session::Session>,
    /// Responses to put back from history, with their tab and scroll.
    pub restore_places: Vec<super::session::ResponsePlace>,
}
