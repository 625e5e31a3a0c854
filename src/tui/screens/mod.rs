//! Screens: one module per screen, each owning its state, its keys and its drawing.
//!
//! How they compose (read this before adding one):
//! - The main screen is four panes — [`environments`], [`collections`], [`request`],
//!   [`response`] — of which one has the focus. Over it, one full screen may be open
//!   ([`browser`], [`chart`], [`history`], [`jobs`]), and over everything a stack of
//!   [`dialogs`].
//! - Input goes to the topmost thing: the top dialog, else the open full screen, else the
//!   focused pane. Every key is looked up in the keymap first, under that thing's context
//!   ([`crate::tui::keys::Ctx`]), so `keys.toml`, help, hints and the palette all agree.
//! - A screen gets a [`Cx`]: the shared [`Model`] to read and change, and an outbox. It never
//!   sees the worker, the history actor or the disk: it puts [`Command`]s in the outbox (send
//!   this, save that), and [`Intent`]s for the root (open a dialog, focus a pane, tell another
//!   screen something). Results come back as messages: a worker event, or the intent a disk
//!   job was given to reply with.
//! - Drawing reads: `draw(&self, frame, area, &View)` (a screen may fill its own caches, such
//!   as highlighted lines, through interior state it owns, never the model's).
//! - A screen's tests sit beside it.

pub mod browser;
pub mod chart;
pub mod collections;
pub mod dialogs;
pub mod environments;
pub mod history;
pub mod jobs;
pub mod request;
pub mod response;

use super::model::Model;
use super::msg::{Command, DiskJob, DiskOp, DiskResult};
use super::style::Theme;
use crate::workspace::NodePath;

pub use dialogs::Dialog;

/// The four panes of the main screen, in Tab order.
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

/// A full screen over the panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Browser,
    /// A patient's chart, opened from the browser (and going back to it).
    Chart,
    History,
    Jobs,
}

/// What a screen or dialog asks of the root (or, through it, of another screen).
pub enum Intent {
    /// Open a dialog on top of everything.
    Open(Box<dyn Dialog>),
    /// Close the top dialog (the one that asked).
    CloseDialog,
    Focus(Pane),
    /// Open (or bring back) a full screen; `None` goes back to the panes.
    Show(Option<Screen>),
    /// Handle this key again from the top (an Esc glued to the next key, split in two).
    Key(crossterm::event::KeyEvent),
    /// Run an action as if its key had been pressed on the main screen.
    Action(crate::tui::keys::Action),
    /// Focus a pane and run one of its actions (the palette's pane commands).
    PaneAction(Pane, crate::tui::keys::Action),
    /// Open a saved request in the Request pane.
    OpenRequest(NodePath),
    /// A request or folder moved: whatever is kept by path follows it.
    Rekey {
        from: NodePath,
        to: NodePath,
    },
    /// A request or folder was deleted: whatever is kept by path goes.
    Forget(NodePath),
    /// Send the open request; `anyway` skips the questions asked before sending.
    Send {
        anyway: bool,
    },
    Quit,
    /// Use (and remember) a theme.
    UseTheme(String),
    /// The drafts question at start: restore them (true) or discard them.
    Drafts(bool),
    SignIn(String),
    CancelSignIn(String),
    Environments(environments::Msg),
    Collections(collections::Msg),
    Request(request::Msg),
    Response(response::Msg),
    Browser(browser::Msg),
    Chart(chart::Msg),
    History(history::Msg),
    Jobs(jobs::Msg),
    /// Say something in the status line.
    Info(String),
    Error(String),
    /// Nothing to do (a reply whose result needs no handling).
    None,
}

/// The reply for a save: nothing when it worked, the conflict dialog when another program
/// changed the file, else the error as a sentence.
pub fn saved_or_conflict(on: dialogs::conflict::ConflictOn) -> impl FnOnce(DiskResult) -> Intent {
    move |r| match r {
        Ok(_) => Intent::None,
        Err(super::msg::DiskError::Store(crate::workspace::StoreError::ChangedOnDisk(file))) => {
            Intent::Open(Box::new(dialogs::conflict::Conflict { on, file }))
        }
        Err(e) => Intent::Error(e.to_string()),
    }
}

/// What a screen may touch while it handles something: the shared model, and an outbox for
/// commands and intents.
pub struct Cx<'a> {
    pub model: &'a mut Model,
    pub out: &'a mut Outbox,
}

#[derive(Default)]
pub struct Outbox {
    pub commands: Vec<Command>,
    pub intents: Vec<Intent>,
}

impl Cx<'_> {
    pub fn command(&mut self, c: Command) {
        self.out.commands.push(c);
    }

    pub fn worker(&mut self, c: crate::worker::WorkerCommand) {
        self.out.commands.push(Command::Worker(c));
    }

    pub fn intent(&mut self, i: Intent) {
        self.out.intents.push(i);
    }

    pub fn open(&mut self, d: impl Dialog + 'static) {
        self.out.intents.push(Intent::Open(Box::new(d)));
    }

    /// Disk work whose result comes back through `reply`.
    pub fn disk(&mut self, op: DiskOp, reply: impl FnOnce(DiskResult) -> Intent + Send + 'static) {
        self.out.commands.push(Command::Disk(DiskJob {
            op,
            reply: Some(Box::new(reply)),
        }));
    }

    /// Disk work whose failure is said in the status line and whose success needs nothing.
    pub fn disk_quietly(&mut self, op: DiskOp) {
        self.out
            .commands
            .push(Command::Disk(DiskJob { op, reply: None }));
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.model.info(text);
    }

    /// Sends a GET of a FHIR URL as request `id` for `purpose`: prepared like any request of
    /// the active environment (whose sign-in applies only under its FHIR base), asking for
    /// FHIR JSON, recorded in history as the browser's. `doing` names it when sign-in is
    /// configured but cannot be resolved ("browsing" without sign-in).
    pub fn fhir_get(
        &mut self,
        id: crate::worker::RequestId,
        url: &str,
        purpose: super::model::Purpose,
        doing: &str,
    ) {
        // Only the browser keeps the parsed answer; the others read what they need.
        let read_fhir = purpose == super::model::Purpose::Browser;
        let mut prepared = self.model.prepare_get(url);
        if let Some(e) = prepared.auth_problem.take() {
            self.error(format!("{e}; {doing} without sign-in."));
        }
        prepared
            .request
            .headers
            .push(("Accept".into(), "application/fhir+json".into()));
        self.model.in_flight.insert(
            id,
            super::model::InFlight::starting(purpose, "GET", url, prepared.secrets.clone()),
        );
        let env = self.model.active_env.clone();
        let record =
            self.model
                .record_meta(crate::history::Source::Browser, env.as_deref(), Vec::new());
        self.worker(crate::worker::WorkerCommand::Send {
            id,
            request: prepared.request,
            auth: prepared.auth,
            record,
            read_fhir,
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.model.error(text);
    }
}

/// What drawing may read.
pub struct View<'a> {
    pub model: &'a Model,
    pub theme: &'a Theme,
    /// Whether the thing drawn has the keyboard.
    pub focused: bool,
}

/// How a screen or dialog took a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Used; stay open.
    Yes,
    /// Used; close (a dialog) or go back (a full screen).
    Close,
    /// Not this screen's key: the caller may try the next thing down.
    No,
}
