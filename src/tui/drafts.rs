//! Unsaved edits survive a dropped connection: dirty requests are written to the workspace's
//! `.drafts/` (atomically, often, and on every exit), and the next start offers them back.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::workspace::{LoadProblem, NodePath, RequestSpec};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftFile {
    path: Vec<String>,
    spec: RequestSpec,
}

/// The workspace's drafts folder.
pub fn dir(root: &Path) -> PathBuf {
    root.join(".drafts")
}

/// Writes every draft given and removes the drafts no longer needed. A file in `.drafts/` that
/// is not a draft fhirside can read is never written over or removed.
pub fn write_all(root: &Path, drafts: &[(NodePath, RequestSpec)]) {
    let dir = dir(root);
    let mut keep = Vec::new();
    let mut index = 0;
    for (path, spec) in drafts {
        let file = DraftFile {
            path: path.0.clone(),
            spec: spec.clone(),
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
        if crate::workspace::atomic::write_atomic(&dir.join(&name), text.as_bytes(), false).is_ok()
        {
            keep.push(name);
        }
    }
    remove_own_drafts(&dir, &keep);
}

/// Removes the drafts fhirside wrote.
pub fn discard(root: &Path) {
    remove_own_drafts(&dir(root), &[]);
}

/// Drafts left by a session that ended without saving, and the files that could not be read
/// (reported with file, line and column; left alone).
pub fn read_all(root: &Path) -> (Vec<(NodePath, RequestSpec)>, Vec<LoadProblem>) {
    let Ok(rd) = std::fs::read_dir(dir(root)) else {
        return (Vec::new(), Vec::new());
    };
    let mut paths: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_draft_name(p))
        .collect();
    paths.sort();
    let mut drafts = Vec::new();
    let mut broken = Vec::new();
    for p in paths {
        match read_draft(&p) {
            Ok(d) => drafts.push((NodePath(d.path), d.spec)),
            Err(problem) => broken.push(problem),
        }
    }
    (drafts, broken)
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
