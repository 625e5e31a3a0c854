//! What flows through the app: messages in (keys, worker events, results of disk work), commands
//! out (to the worker, the history actor, the terminal, the disk). `App::update` turns one into
//! the other; `runtime` carries commands out and brings their results back as messages.

use std::path::PathBuf;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::history::HistoryCall;
use crate::worker::export::ExportJob;
use crate::worker::{WorkerCommand, WorkerEvent};
use crate::workspace::{Environment, Folder, NodePath, RequestSpec, StoreError};

use super::screens::Intent;
use super::session::Session;

/// Everything that can happen to the app.
// Messages are moved once, from the one who sends to the one who handles: boxing the large
// variant would add an allocation to each without saving anything kept.
#[allow(clippy::large_enum_variant)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    /// The terminal's new size (also the size the first frame is drawn at).
    Resize(u16, u16),
    Worker(WorkerEvent),
    /// Spinner and clock refresh while something runs.
    Tick,
    /// The external editor closed: the new body, or why it failed.
    ExternalEditDone(Result<String, String>),
    /// Something a screen asked for, coming back (the result of disk work, among others).
    Intent(Intent),
    /// Work the runtime runs on a thread of its own (an import), reporting back.
    Background(Background),
}

/// What a background task reports. `Send`: it crosses from the task's thread to the loop.
#[derive(Debug)]
pub enum Background {
    ImportProgress(crate::import::into_workspace::Progress),
    /// The import ended (done, stopped or failed): its files are written but not yet known to
    /// the store and the workspace, which [`DiskOp::CommitImport`] does on the UI thread.
    ImportDone(Box<crate::import::into_workspace::ImportOutcome>),
}

/// An import to run off the UI thread.
#[derive(Debug)]
pub struct ImportJob {
    pub files: Vec<PathBuf>,
    /// Collection names already in the workspace (new ones get a free name).
    pub taken: Vec<String>,
    /// Set to stop: the collection being written is left out whole.
    pub cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Work for the runtime.
#[allow(clippy::large_enum_variant)] // moved once, never kept (see `Msg`)
pub enum Command {
    Worker(WorkerCommand),
    /// Ask the history actor for something; the answer comes back as a worker event.
    History(HistoryCall),
    /// Put text on the clipboard with OSC 52 (works over SSH).
    Copy(String),
    /// Suspend the TUI and edit `text` in `$EDITOR`.
    EditExternally {
        text: String,
        extension: &'static str,
    },
    /// Write to (or read from) the workspace; `reply` turns the result into a message.
    Disk(DiskJob),
    /// Import files on a thread of the runtime's; progress and the end come back as
    /// [`Msg::Background`].
    Import(ImportJob),
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Worker(c) => f.debug_tuple("Worker").field(c).finish(),
            Command::History(c) => f.debug_tuple("History").field(c).finish(),
            Command::Copy(_) => f.write_str("Copy(..)"),
            Command::EditExternally { extension, .. } => {
                write!(f, "EditExternally({extension})")
            }
            Command::Disk(job) => f.debug_tuple("Disk").field(&job.op).finish(),
            Command::Import(job) => f.debug_tuple("Import").field(&job.files).finish(),
        }
    }
}

/// Work on the workspace's files, done by the runtime (which owns the store), never inside
/// `update`.
#[derive(Debug)]
pub enum DiskOp {
    /// Write a request file (new or existing).
    SaveRequest {
        path: NodePath,
        spec: RequestSpec,
    },
    SaveEnvironment(Environment),
    CreateEnvironment(Environment),
    RenameEnvironment {
        env: Environment,
        old: String,
    },
    DeleteEnvironment(String),
    /// A collection (a one-part path) or a folder, with its real name and place kept in its
    /// meta file when the directory name cannot hold them.
    CreateFolder {
        path: NodePath,
        folder: Folder,
    },
    /// A folder and everything in it, written at `path` (a duplicate).
    WriteTree {
        path: NodePath,
        folder: Folder,
    },
    MoveNode {
        from: NodePath,
        to: NodePath,
        is_request: bool,
    },
    /// A request renamed: its file moved (when the name changes) and written again.
    RenameRequest {
        from: NodePath,
        to: NodePath,
        spec: RequestSpec,
    },
    DeleteNode {
        path: NodePath,
        is_request: bool,
    },
    ReloadRequest(NodePath),
    ReloadEnvironment(String),
    /// The user chose their version over a file another program changed.
    AcceptDiskVersion(PathBuf),
    SaveJob(Box<ExportJob>),
    /// Read the jobs folder again (jobs started by `fhirside export` in another terminal).
    ScanJobs,
    RemoveJob(String),
    /// Remember the theme in `settings.toml`.
    RememberTheme(String),
    /// Make an import's written files known to the store, and write its environments;
    /// `ws` is the workspace as the app has it (new names are chosen against it).
    CommitImport {
        outcome: Box<crate::import::into_workspace::ImportOutcome>,
        ws: Box<crate::workspace::Workspace>,
    },
    /// Unsaved edits, kept in `.drafts/` (the whole set: others are removed).
    WriteDrafts(Vec<(NodePath, RequestSpec)>),
    /// Remove the drafts fhirside wrote.
    DiscardDrafts,
    WriteSession(Box<Session>),
}

/// What disk work gave back, when more than "done".
#[derive(Debug)]
pub enum DiskValue {
    Done,
    Request(RequestSpec),
    Environment(Environment),
    /// An import: the collections and environments written, and the report.
    Imported(Box<Imported>),
    /// Where the file went (for the message).
    Written(PathBuf),
    Jobs(Vec<ExportJob>),
}

/// What an import added, for the app to take into its workspace.
#[derive(Debug, Default)]
pub struct Imported {
    pub collections: Vec<crate::workspace::Collection>,
    pub environments: Vec<Environment>,
    pub report: String,
    /// No file could be imported.
    pub failed: bool,
    /// The user stopped it.
    pub cancelled: bool,
}

/// A disk failure as the screens see it: the store's own error (a file changed on disk opens
/// the conflict dialog) or a sentence.
#[derive(Debug)]
pub enum DiskError {
    Store(StoreError),
    Other(String),
}

impl std::fmt::Display for DiskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiskError::Store(e) => e.fmt(f),
            DiskError::Other(e) => f.write_str(e),
        }
    }
}

pub type DiskResult = Result<DiskValue, DiskError>;

/// Turns the result of disk work into the message the asking screen handles.
pub type Reply = Box<dyn FnOnce(DiskResult) -> Intent + Send>;

pub struct DiskJob {
    pub op: DiskOp,
    pub reply: Option<Reply>,
}
