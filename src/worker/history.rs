//! The history actor: a thread owning the SQLite connection. The network worker hands it each
//! finished exchange; the UI asks it for lists, entries and diffs. Answers come back as
//! [`WorkerEvent::History`], so the UI never waits on the disk.

use std::path::Path;
use std::sync::mpsc as std_mpsc;

use tokio::sync::mpsc;

use super::WorkerEvent;
use crate::history::diff::{BodyDiff, diff_bodies};
use crate::history::redact::redact_exchange;
use crate::history::{Entry, Exchange, HistoryCall, HistoryStore, Limits, Summary};

/// What the history actor answers.
#[derive(Debug)]
pub enum HistoryEvent {
    /// A new entry was written (the history screen refreshes).
    Recorded {
        id: i64,
    },
    Listed {
        /// Echoes the query's number, so a stale answer can be told from the latest.
        query: u64,
        rows: Result<Vec<Summary>, String>,
        /// Entries and bytes kept in all.
        usage: (u64, u64),
    },
    Entry {
        id: i64,
        entry: Result<Box<Entry>, String>,
    },
    Diff {
        old: i64,
        new: i64,
        diff: Result<Box<BodyDiff>, String>,
    },
    /// The newest entry of a saved request, if it has one.
    Latest {
        saved: String,
        entry: Option<Box<Entry>>,
    },
    Cleared(Result<(), String>),
    /// Writing an exchange failed (a full disk, a locked file): said once on screen.
    RecordFailed(String),
}

enum Cmd {
    Record(Box<Exchange>, Vec<String>),
    Call(HistoryCall),
    Flush(std_mpsc::Sender<()>),
}

/// The way to the history actor. Cloning is cheap; the thread ends when every handle is gone.
#[derive(Clone)]
pub struct HistoryHandle {
    tx: std_mpsc::Sender<Cmd>,
    limits: Limits,
}

impl std::fmt::Debug for HistoryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HistoryHandle")
    }
}

impl HistoryHandle {
    /// Opens the history file and starts the actor. A file that cannot be opened is reported
    /// (and left alone); fhirside then runs without history.
    pub fn open(
        path: &Path,
        limits: Limits,
        events: mpsc::UnboundedSender<WorkerEvent>,
    ) -> Result<Self, String> {
        let store = HistoryStore::open(path, limits).map_err(|e| e.to_string())?;
        Self::start(store, events)
    }

    /// Starts the actor on an open store.
    pub fn start(
        store: HistoryStore,
        events: mpsc::UnboundedSender<WorkerEvent>,
    ) -> Result<Self, String> {
        let limits = store.limits();
        let (tx, rx) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("fhirside-history".into())
            .spawn(move || run(store, rx, events))
            .map_err(|e| format!("History is off: no thread for it ({e})."))?;
        Ok(Self { tx, limits })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Records `x` after removing `secrets` and every other credential from it.
    pub fn record(&self, x: Exchange, secrets: Vec<String>) {
        let _ = self.tx.send(Cmd::Record(Box::new(x), secrets));
    }

    /// Asks something; the answer arrives as a [`WorkerEvent::History`].
    pub fn call(&self, call: HistoryCall) {
        let _ = self.tx.send(Cmd::Call(call));
    }

    /// Waits (up to `timeout`) until everything sent so far is written: before the process
    /// exits, so the last exchange is not lost.
    pub fn flush(&self, timeout: std::time::Duration) {
        let (tx, rx) = std_mpsc::channel();
        if self.tx.send(Cmd::Flush(tx)).is_ok() {
            let _ = rx.recv_timeout(timeout);
        }
    }
}

/// Rows fetched for a list (the screen's title says how many are kept in all).
pub const LIST_LIMIT: usize = 500;

/// Opens the workspace's history as `settings.toml` says. `Ok(None)`: switched off there.
/// `Err`: why there is no history this time (a broken settings or history file, left alone).
pub fn open_workspace_history(
    root: &Path,
    events: mpsc::UnboundedSender<WorkerEvent>,
) -> Result<Option<HistoryHandle>, String> {
    let (settings, problem) = crate::workspace::settings::load_settings(root);
    if let Some(p) = problem {
        return Err(format!("History is off: {p}"));
    }
    let limits = settings.history.unwrap_or_default();
    if !limits.enabled {
        return Ok(None);
    }
    HistoryHandle::open(&root.join(crate::history::HISTORY_FILE), limits, events).map(Some)
}

fn run(
    mut store: HistoryStore,
    rx: std_mpsc::Receiver<Cmd>,
    events: mpsc::UnboundedSender<WorkerEvent>,
) {
    let send = |e: HistoryEvent| {
        let _ = events.send(WorkerEvent::History(e));
    };
    let mut queued: std::collections::VecDeque<Cmd> = Default::default();
    loop {
        let cmd = match queued.pop_front() {
            Some(c) => c,
            None => match rx.recv() {
                Ok(c) => c,
                Err(_) => break,
            },
        };
        // Typing a filter sends a list per key; answer only the newest one waiting.
        let is_list = |c: &Cmd| matches!(c, Cmd::Call(HistoryCall::List { .. }));
        let cmd = if is_list(&cmd) {
            let mut latest = cmd;
            while let Ok(next) = rx.try_recv() {
                if is_list(&next) {
                    latest = next;
                } else {
                    queued.push_back(next);
                }
            }
            latest
        } else {
            cmd
        };
        match cmd {
            Cmd::Record(mut x, secrets) => {
                redact_exchange(&mut x, &secrets);
                match store.record(&x) {
                    Ok(id) => send(HistoryEvent::Recorded { id }),
                    Err(e) => send(HistoryEvent::RecordFailed(e.to_string())),
                }
            }
            Cmd::Call(call) => send(answer(&mut store, call)),
            Cmd::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// Answers one question from the store (the actor's work, callable directly in tests).
pub fn answer(store: &mut HistoryStore, call: HistoryCall) -> HistoryEvent {
    match call {
        HistoryCall::List {
            query,
            filter,
            saved,
        } => {
            let rows = match saved {
                Some(s) => store.for_saved(&s, LIST_LIMIT),
                None => store.list(&filter, LIST_LIMIT),
            };
            HistoryEvent::Listed {
                query,
                rows: rows.map_err(|e| e.to_string()),
                usage: store.usage().unwrap_or_default(),
            }
        }
        HistoryCall::Get(id) => {
            let entry = match store.get(id) {
                Ok(Some(e)) => Ok(Box::new(e)),
                Ok(None) => Err(format!("History entry {id} is gone (dropped as oldest?).")),
                Err(e) => Err(e.to_string()),
            };
            HistoryEvent::Entry { id, entry }
        }
        HistoryCall::Latest { saved } => {
            let entry = store
                .for_saved(&saved, 1)
                .ok()
                .and_then(|rows| rows.first().map(|r| r.id))
                .and_then(|id| store.get(id).ok().flatten())
                .map(Box::new);
            HistoryEvent::Latest { saved, entry }
        }
        HistoryCall::Diff { old, new } => {
            let diff = match (store.get(old), store.get(new)) {
                (Ok(Some(a)), Ok(Some(b))) => Ok(Box::new(diff_bodies(&a.body, &b.body))),
                (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
                _ => Err("One of the two entries is gone from history.".to_string()),
            };
            HistoryEvent::Diff { old, new, diff }
        }
        HistoryCall::Clear => HistoryEvent::Cleared(store.clear().map_err(|e| e.to_string())),
    }
}
