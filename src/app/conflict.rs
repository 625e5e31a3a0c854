//! A file changed on disk by another program (an editor, `git pull`) while fhirside had it
//! open. The store refuses to write over it; this dialog lets the user choose: reload it from
//! disk, keep their version (write it over the file), or save their version as a copy and
//! reload the original.

use std::path::PathBuf;

use super::state::{App, Overlay, body_area};
use crate::workspace::{NodePath, SavedRequest, StoreError};

/// What the conflicting file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictOn {
    Request(NodePath),
    Environment(String),
}

/// The dialog: which request or environment, and which file on disk changed (an environment's
/// own file, or `secrets.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub on: ConflictOn,
    pub file: PathBuf,
}

impl Conflict {
    pub fn message(&self) -> String {
        format!(
            "{} was changed by another program since fhirside read it. Nothing was written.",
            self.file.display()
        )
    }

    /// The choices, as (key, what it does).
    pub const CHOICES: [(&'static str, &'static str); 4] = [
        ("r", "reload it from disk (your edits are dropped)"),
        ("k", "keep mine: write my version over it"),
        ("c", "save mine as a copy, then reload it"),
        ("Esc", "decide later (your edits stay unsaved)"),
    ];
}

impl App {
    /// A save failed: a file changed on disk opens the dialog; anything else is said as is.
    pub fn save_failed(&mut self, e: StoreError, on: ConflictOn) {
        match e {
            StoreError::ChangedOnDisk(file) => {
                let c = Conflict { on, file };
                self.error(c.message());
                self.overlay = Some(Overlay::Conflict(c));
            }
            e => self.error(e.to_string()),
        }
    }

    pub fn conflict_key(&mut self, name: &str, c: Conflict) {
        match name {
            "r" | "R" => {
                self.reload_from_disk(&c);
            }
            "k" | "K" => self.keep_mine(c),
            "c" | "C" => self.save_as_copy(&c),
            "esc" | "q" => self.info(format!(
                "Not saved: {} is as the other program left it; your edits are still here.",
                c.file.display()
            )),
            _ => self.overlay = Some(Overlay::Conflict(c)),
        }
    }

    fn reload_from_disk(&mut self, c: &Conflict) -> bool {
        let loaded = match &c.on {
            ConflictOn::Request(path) => self.store.reload_request(path).map(|spec| {
                if let Some(r) = self.ws.request_mut(path) {
                    r.spec = spec.clone();
                }
                if let Some(ed) = self.editors.get_mut(path) {
                    ed.body = body_area(&spec.body.text);
                    ed.draft = spec.clone();
                    ed.saved = spec;
                    ed.url = None;
                    ed.body_editing = false;
                }
            }),
            ConflictOn::Environment(name) => self.store.reload_environment(name).map(|env| {
                if let Some(e) = self.ws.environment_mut(name) {
                    *e = env;
                }
            }),
        };
        match loaded {
            Ok(()) => {
                self.info(format!("Reloaded {} from disk.", c.file.display()));
                true
            }
            Err(p) => {
                self.error(format!(
                    "It could not be read again ({p}); nothing changed."
                ));
                false
            }
        }
    }

    fn keep_mine(&mut self, c: Conflict) {
        self.store.accept_disk_version(&c.file);
        match c.on {
            ConflictOn::Request(path) => {
                if self.open.as_ref() == Some(&path) {
                    self.save_open();
                }
            }
            ConflictOn::Environment(name) => {
                self.save_environment(&name);
                if self.overlay.is_none() {
                    self.info(format!("Saved your version over {}.", c.file.display()));
                }
            }
        }
    }

    fn save_as_copy(&mut self, c: &Conflict) {
        let copied = match &c.on {
            ConflictOn::Request(path) => self.copy_request(path),
            ConflictOn::Environment(name) => self.copy_environment(name),
        };
        match copied {
            Ok(copy) => {
                if self.reload_from_disk(c) {
                    self.info(format!(
                        "Your version is saved as '{copy}'; {} was reloaded from disk.",
                        c.file.display()
                    ));
                }
            }
            Err(e) => self.error(format!("The copy was not saved: {e}")),
        }
    }

    /// Saves the request's draft beside it under a free name and opens that copy.
    fn copy_request(&mut self, path: &NodePath) -> Result<String, StoreError> {
        let (Some(parent), Some(ed)) = (path.parent(), self.editors.get(path)) else {
            return Err(StoreError::Serialise(
                self.store.request_path(path),
                "the request is not open".into(),
            ));
        };
        let mut spec = ed.draft.clone();
        let name = self
            .ws
            .folder(&parent)
            .map(|f| f.free_name(&format!("{} mine", path.last())))
            .unwrap_or_else(|| format!("{} mine", path.last()));
        spec.name = format!("{} (mine)", spec.name);
        let copy = parent.child(&name);
        self.store.save_request(&copy, &spec)?;
        if let Some(f) = self.ws.folder_mut(&parent) {
            f.requests.push(SavedRequest {
                file_stem: name.clone(),
                spec,
            });
            f.sort();
        }
        self.open_request(&copy);
        Ok(name)
    }

    /// Saves the environment as it is in fhirside under a free name.
    fn copy_environment(&mut self, name: &str) -> Result<String, StoreError> {
        let Some(mut env) = self.ws.environment(name).cloned() else {
            return Err(StoreError::Serialise(
                self.store.env_path(name),
                "the environment is gone".into(),
            ));
        };
        let copy = (1..)
            .map(|i| match i {
                1 => format!("{name}-mine"),
                i => format!("{name}-mine-{i}"),
            })
            .find(|n| self.ws.environment(n).is_none() && !self.store.env_path(n).exists())
            .unwrap_or_else(|| format!("{name}-mine"));
        env.name = copy.clone();
        self.store.create_environment(&env)?;
        self.ws.environments.push(env);
        Ok(copy)
    }
}
