//! Unsaved edits survive a dropped connection: dirty requests are written to the workspace's
//! `.drafts/` (atomically, often, and on every exit), and the next start offers them back.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::state::{App, Confirmed, Overlay};
use crate::workspace::{NodePath, RequestSpec};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftFile {
    path: Vec<String>,
    spec: RequestSpec,
}

impl App {
    fn drafts_dir(&self) -> PathBuf {
        self.store.root().join(".drafts")
    }

    pub fn has_unsaved(&self) -> bool {
        self.editors.values().any(|e| e.dirty())
    }

    /// Writes every dirty request's draft and removes drafts that are no longer needed.
    pub fn save_drafts(&self) {
        let dir = self.drafts_dir();
        let dirty: Vec<_> = self.editors.values().filter(|e| e.dirty()).collect();
        if dirty.is_empty() {
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
        let mut keep = Vec::new();
        for (i, ed) in dirty.iter().enumerate() {
            let file = DraftFile {
                path: ed.path.0.clone(),
                spec: ed.draft.clone(),
            };
            if let Ok(text) = toml::to_string_pretty(&file) {
                let name = format!("draft-{i}.toml");
                if crate::workspace::atomic::write_atomic(&dir.join(&name), text.as_bytes(), false)
                    .is_ok()
                {
                    keep.push(name);
                }
            }
        }
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !keep.contains(&name) && name.ends_with(".toml") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    pub fn discard_drafts(&mut self) {
        self.pending_drafts.clear();
        let _ = std::fs::remove_dir_all(self.drafts_dir());
    }

    /// At start: drafts left by a session that ended without saving are offered back.
    pub fn offer_drafts(&mut self) {
        let Ok(rd) = std::fs::read_dir(self.drafts_dir()) else {
            return;
        };
        let mut drafts = Vec::new();
        for e in rd.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            if let Ok(d) = toml::from_str::<DraftFile>(&text) {
                drafts.push((NodePath(d.path), d.spec));
            }
        }
        if drafts.is_empty() {
            return;
        }
        let names: Vec<String> = drafts.iter().map(|(p, _)| p.display()).collect();
        self.pending_drafts = drafts;
        if self.overlay.is_none() {
            self.overlay = Some(Overlay::Confirm {
                message: format!(
                    "The last session ended with unsaved edits to {}. Restore them (y), or discard them (n)?",
                    names.join(", ")
                ),
                on_yes: Confirmed::RestoreDrafts,
            });
        }
    }

    /// Opens each draft as an unsaved edit of its request (still there after a restart).
    pub fn restore_drafts(&mut self) {
        let drafts = std::mem::take(&mut self.pending_drafts);
        let mut restored = 0;
        for (path, spec) in drafts {
            if self.ws.request(&path).is_none() {
                continue;
            }
            self.open_request(&path);
            if let Some(ed) = self.editors.get_mut(&path) {
                ed.body = super::state::body_area(&spec.body.text);
                ed.draft = spec;
                restored += 1;
            }
        }
        self.info(format!(
            "{restored} draft(s) restored as unsaved edits: Ctrl-S saves them."
        ));
    }
}
