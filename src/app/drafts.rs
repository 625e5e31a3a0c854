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

    /// Writes every dirty request's draft and removes drafts that are no longer needed. A file
    /// in `.drafts/` that is not a draft fhirside can read is never written over or removed.
    pub fn save_drafts(&self) {
        let dir = self.drafts_dir();
        let dirty: Vec<_> = self.editors.values().filter(|e| e.dirty()).collect();
        let mut keep = Vec::new();
        let mut index = 0;
        for ed in dirty {
            let file = DraftFile {
                path: ed.path.0.clone(),
                spec: ed.draft.clone(),
            };
            let Ok(text) = toml::to_string_pretty(&file) else {
                continue;
            };
            // The next name that is free or holds one of our own drafts.
            let name = loop {
                let name = format!("draft-{index}.toml");
                index += 1;
                let p = dir.join(&name);
                if !p.exists() || read_draft(&p).is_ok() {
                    break name;
                }
            };
            if crate::workspace::atomic::write_atomic(&dir.join(&name), text.as_bytes(), false)
                .is_ok()
            {
                keep.push(name);
            }
        }
        remove_own_drafts(&dir, &keep);
    }

    pub fn discard_drafts(&mut self) {
        self.pending_drafts.clear();
        remove_own_drafts(&self.drafts_dir(), &[]);
    }

    /// At start: drafts left by a session that ended without saving are offered back. One that
    /// cannot be read is listed with the load problems (file, line, column) and left alone.
    pub fn offer_drafts(&mut self) {
        let Ok(rd) = std::fs::read_dir(self.drafts_dir()) else {
            return;
        };
        let mut paths: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| is_draft_name(p))
            .collect();
        paths.sort();
        let mut drafts = Vec::new();
        let mut broken = 0;
        for p in paths {
            match read_draft(&p) {
                Ok(d) => drafts.push((NodePath(d.path), d.spec)),
                Err(problem) => {
                    self.problems.push(problem);
                    broken += 1;
                }
            }
        }
        if broken > 0 {
            self.error(format!(
                "{broken} draft file(s) in {} could not be read and were left as they are.",
                self.drafts_dir().display()
            ));
        }
        if drafts.is_empty() {
            if broken > 0 && self.overlay.is_none() {
                self.overlay = Some(Overlay::Problems { scroll: 0 });
            }
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

fn is_draft_name(p: &std::path::Path) -> bool {
    p.extension().is_some_and(|e| e == "toml")
        && !p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

fn read_draft(path: &std::path::Path) -> Result<DraftFile, crate::workspace::LoadProblem> {
    crate::workspace::store::parse_toml_file(path)
}

/// Removes the drafts fhirside wrote (those that parse) except `keep`, then the folder if empty.
fn remove_own_drafts(dir: &std::path::Path, keep: &[String]) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            // A temporary file left by a killed save is never user data.
            let stale_temp = name.starts_with('.') && name.contains(".tmp-");
            if stale_temp || is_draft_name(&p) && !keep.contains(&name) && read_draft(&p).is_ok() {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    // Fails, as it should, while anything is left in it.
    let _ = std::fs::remove_dir(dir);
}
