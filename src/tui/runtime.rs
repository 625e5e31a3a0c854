//! The one dispatcher: carries the app's commands out — to the worker, the history actor, the
//! terminal (clipboard, `$EDITOR`) and the workspace's files — and feeds what comes back to
//! the app as messages, until nothing is left to do. The event loop, the benchmarks and the
//! tests all drive the app through it, so they exercise the same path.
//!
//! It owns the store (the workspace on disk): screens never write files themselves.

use std::collections::VecDeque;

use super::app::App;
use super::msg::{
    Background, Command, DiskError, DiskJob, DiskOp, DiskResult, DiskValue, ImportJob, Imported,
    Msg,
};
use crate::worker::history::HistoryHandle;
use crate::worker::{WorkerCommand, WorkerHandle};
use crate::workspace::jobs::JobStore;
use crate::workspace::{Folder, NodePath, Store, StoreError};

/// What the runtime needs of the terminal.
pub trait Host {
    /// Puts text on the clipboard (OSC 52).
    fn copy(&mut self, text: &str) -> std::io::Result<()>;
    /// Hands the terminal to `$EDITOR` on `text` and takes it back.
    fn edit(&mut self, text: &str, extension: &str) -> Result<String, String>;
}

/// A host with no terminal: copies and edits are recorded (tests, benchmarks).
#[derive(Debug, Default)]
pub struct Headless {
    pub copied: Vec<String>,
    /// What the "editor" returns: the text unchanged when `None`.
    pub edit_result: Option<Result<String, String>>,
}

impl Host for Headless {
    fn copy(&mut self, text: &str) -> std::io::Result<()> {
        self.copied.push(text.to_string());
        Ok(())
    }

    fn edit(&mut self, text: &str, _extension: &str) -> Result<String, String> {
        self.edit_result
            .clone()
            .unwrap_or_else(|| Ok(text.to_string()))
    }
}

pub struct Runtime {
    pub store: Store,
    pub job_store: Option<JobStore>,
    pub worker: Option<WorkerHandle>,
    pub history: Option<HistoryHandle>,
    /// Worker commands, kept when there is no worker (tests read them).
    pub unsent: Vec<WorkerCommand>,
    /// Where background tasks (imports) report to the event loop. Without it (tests,
    /// benchmarks) they run at once, inside `dispatch`.
    pub background: Option<tokio::sync::mpsc::UnboundedSender<Background>>,
}

impl Runtime {
    pub fn new(store: Store, job_store: Option<JobStore>) -> Self {
        Self {
            store,
            job_store,
            worker: None,
            history: None,
            unsent: Vec::new(),
            background: None,
        }
    }

    /// One message through the app, then everything it asked for.
    pub fn update(&mut self, app: &mut App, msg: Msg, host: &mut dyn Host) {
        let commands = app.update(msg);
        self.dispatch(app, commands, host);
    }

    /// Carries out `commands`, feeding their results back into the app, until none are left.
    pub fn dispatch(&mut self, app: &mut App, commands: Vec<Command>, host: &mut dyn Host) {
        let mut queue: VecDeque<Command> = commands.into();
        while let Some(cmd) = queue.pop_front() {
            let follow = match cmd {
                Command::Worker(c) => {
                    match &self.worker {
                        Some(w) => w.send(c),
                        None => self.unsent.push(c),
                    }
                    None
                }
                Command::History(call) => {
                    if let Some(h) = &self.history {
                        h.call(call);
                    }
                    None
                }
                Command::Copy(text) => match host.copy(&text) {
                    Ok(()) => None,
                    Err(e) => Some(Msg::Intent(super::screens::Intent::Error(format!(
                        "The text could not be copied: {e}."
                    )))),
                },
                Command::EditExternally { text, extension } => {
                    Some(Msg::ExternalEditDone(host.edit(&text, extension)))
                }
                Command::Disk(DiskJob { op, reply }) => {
                    let result = self.disk(op);
                    match (reply, result) {
                        (Some(reply), r) => Some(Msg::Intent(reply(r))),
                        (None, Err(e)) => {
                            Some(Msg::Intent(super::screens::Intent::Error(e.to_string())))
                        }
                        (None, Ok(_)) => None,
                    }
                }
                Command::Import(job) => self.import(job),
            };
            if let Some(msg) = follow {
                queue.extend(app.update(msg));
            }
        }
    }

    /// Starts an import on a thread of its own, reporting through `background`; without a
    /// loop to report to, runs it here and hands back its end.
    fn import(&mut self, job: ImportJob) -> Option<Msg> {
        use crate::import::into_workspace::into_workspace;
        let root = self.store.root().to_path_buf();
        let ImportJob {
            files,
            taken,
            cancel,
        } = job;
        let Some(tx) = self.background.clone() else {
            let outcome = into_workspace(&root, &files, &taken, &mut |_| {}, &cancel);
            return Some(Msg::Background(Background::ImportDone(Box::new(outcome))));
        };
        let names = files.clone();
        let spawned = std::thread::Builder::new()
            .name("fhirside-import".into())
            .spawn(move || {
                let mut last = std::time::Instant::now();
                let mut progress = |p| {
                    // Ten redraws a second at most, however fast files are written.
                    if last.elapsed() >= std::time::Duration::from_millis(100) {
                        last = std::time::Instant::now();
                        let _ = tx.send(Background::ImportProgress(p));
                    }
                };
                let names = files.clone();
                let outcome = crate::worker::guard::guarded_blocking("The import", || {
                    into_workspace(&root, &files, &taken, &mut progress, &cancel)
                })
                .unwrap_or_else(|sentence| failed_import(names, &sentence));
                let _ = tx.send(Background::ImportDone(Box::new(outcome)));
            });
        match spawned {
            Ok(_) => None,
            Err(e) => Some(Msg::Background(Background::ImportDone(Box::new(
                failed_import(names, &format!("the import could not start: {e}")),
            )))),
        }
    }

    /// Does one piece of disk work.
    pub fn disk(&mut self, op: DiskOp) -> DiskResult {
        let s = &mut self.store;
        let store =
            |r: Result<(), StoreError>| r.map(|_| DiskValue::Done).map_err(DiskError::Store);
        match op {
            DiskOp::SaveRequest { path, spec } => s
                .save_request(&path, &spec)
                .map(|_| DiskValue::Written(s.request_path(&path)))
                .map_err(DiskError::Store),
            DiskOp::SaveEnvironment(env) => store(s.save_environment(&env)),
            DiskOp::CreateEnvironment(env) => store(s.create_environment(&env)),
            DiskOp::RenameEnvironment { env, old } => store(s.rename_environment(&env, &old)),
            DiskOp::DeleteEnvironment(name) => store(s.delete_environment(&name)),
            DiskOp::CreateFolder { path, folder } => store(create_folder(s, &path, folder)),
            DiskOp::WriteTree { path, folder } => store(write_tree(s, &folder, &path)),
            DiskOp::MoveNode {
                from,
                to,
                is_request,
            } => store(s.move_node(&from, &to, is_request)),
            DiskOp::RenameRequest { from, to, spec } => store((|| {
                if from != to {
                    s.move_node(&from, &to, true)?;
                }
                s.save_request(&to, &spec)
            })()),
            DiskOp::DeleteNode { path, is_request } => store(s.delete_node(&path, is_request)),
            DiskOp::ReloadRequest(path) => s
                .reload_request(&path)
                .map(DiskValue::Request)
                .map_err(|p| DiskError::Other(p.to_string())),
            DiskOp::ReloadEnvironment(name) => s
                .reload_environment(&name)
                .map(DiskValue::Environment)
                .map_err(|p| DiskError::Other(p.to_string())),
            DiskOp::AcceptDiskVersion(path) => {
                s.accept_disk_version(&path);
                Ok(DiskValue::Done)
            }
            DiskOp::SaveJob(job) => match self.job_store.as_mut() {
                Some(js) => js
                    .save(&job)
                    .map(|_| DiskValue::Done)
                    .map_err(DiskError::Store),
                None => Ok(DiskValue::Done),
            },
            DiskOp::ScanJobs => {
                let (_, jobs, _) = JobStore::load(s.root());
                Ok(DiskValue::Jobs(jobs))
            }
            DiskOp::RemoveJob(id) => match self.job_store.as_mut() {
                Some(js) => js
                    .remove(&id)
                    .map(|_| DiskValue::Done)
                    .map_err(DiskError::Store),
                None => Ok(DiskValue::Done),
            },
            DiskOp::RememberTheme(name) => remember_theme(s.root(), &name),
            DiskOp::CommitImport { outcome, ws } => commit_import(s, *ws, *outcome),
            DiskOp::WriteDrafts(drafts) => {
                super::drafts::write_all(s.root(), &drafts);
                Ok(DiskValue::Done)
            }
            DiskOp::DiscardDrafts => {
                super::drafts::discard(s.root());
                Ok(DiskValue::Done)
            }
            DiskOp::WriteSession(session) => {
                let path = s.root().join(super::session::SESSION_FILE);
                let mut text = toml::to_string_pretty(&*session).map_err(|e| {
                    DiskError::Other(format!("The session could not be written: {e}"))
                })?;
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                crate::workspace::atomic::write_atomic(&path, text.as_bytes(), false)
                    .map(|_| DiskValue::Written(path))
                    .map_err(|e| DiskError::Other(format!("The session could not be written: {e}")))
            }
        }
    }
}

/// A new, empty collection or folder; its meta file only when there is something to say (a
/// real name that is not a safe directory name, a place among imported siblings).
fn create_folder(store: &mut Store, path: &NodePath, folder: Folder) -> Result<(), StoreError> {
    store.create_folder(path)?;
    if path.0.len() == 1 {
        if folder.title.is_some() {
            store.save_collection_meta(&crate::workspace::Collection {
                root: folder,
                ..Default::default()
            })?;
        }
        Ok(())
    } else {
        store.save_folder_meta(path, &folder)
    }
}

fn write_tree(store: &mut Store, folder: &Folder, path: &NodePath) -> Result<(), StoreError> {
    store.create_folder(path)?;
    for r in &folder.requests {
        store.save_request(&path.child(&r.file_stem), &r.spec)?;
    }
    for sub in &folder.folders {
        write_tree(store, sub, &path.child(&sub.name))?;
    }
    Ok(())
}

/// Remembers the theme in `settings.toml`; a broken settings file is never written over.
fn remember_theme(root: &std::path::Path, name: &str) -> DiskResult {
    let path = root.join(crate::workspace::settings::SETTINGS_FILE);
    let (mut settings, problem) = crate::workspace::settings::load_settings(root);
    if let Some(p) = problem {
        return Err(DiskError::Other(format!("{p}; the file is left as it is")));
    }
    settings.theme = Some(name.to_string());
    let text = toml::to_string_pretty(&settings).map_err(|e| DiskError::Other(e.to_string()))?;
    // A settings file fhirside writes points editors at its schema, like every other file.
    let bytes = crate::workspace::schemas::with_directive(root, &path, text.as_bytes());
    crate::workspace::atomic::write_atomic(&path, &bytes, false)
        .map(|_| DiskValue::Written(path))
        .map_err(|e| DiskError::Other(e.to_string()))
}

/// An import that ended before reading anything: each file says why.
fn failed_import(
    files: Vec<std::path::PathBuf>,
    why: &str,
) -> crate::import::into_workspace::ImportOutcome {
    let mut outcome = crate::import::into_workspace::ImportOutcome::default();
    outcome.files = files
        .into_iter()
        .map(|path| crate::import::into_workspace::FileOutcome {
            result: Err(format!("{}: {why}", path.display())),
            path,
        })
        .collect();
    outcome
}

/// Adds an import's written files to the store and writes its environments; what is new is
/// handed back for the app's workspace, with the report.
fn commit_import(
    store: &mut Store,
    mut ws: crate::workspace::Workspace,
    outcome: crate::import::into_workspace::ImportOutcome,
) -> DiskResult {
    let before_c: Vec<String> = ws.collections.iter().map(|c| c.root.name.clone()).collect();
    let before_e: Vec<String> = ws.environments.iter().map(|e| e.name.clone()).collect();
    let summary = outcome.commit(store, &mut ws);
    Ok(DiskValue::Imported(Box::new(Imported {
        collections: ws
            .collections
            .into_iter()
            .filter(|c| !before_c.contains(&c.root.name))
            .collect(),
        environments: ws
            .environments
            .into_iter()
            .filter(|e| !before_e.contains(&e.name))
            .collect(),
        report: summary.to_string(),
        failed: summary.failures() == summary.files.len() && !summary.files.is_empty(),
        cancelled: summary.cancelled,
    })))
}
