//! Importing files into a workspace folder: each file is read, its collections are written
//! under names not yet used (each as one tree renamed into place, so an interrupted import
//! leaves a collection whole or absent), and what the files carried besides (environments,
//! sign-in settings) is prepared as environments.
//!
//! The slow part, [`into_workspace`], needs only the workspace folder, so it can run off the
//! UI thread with progress and cancellation; [`ImportOutcome::commit`] then adds the result to
//! the in-memory workspace and writes the environments through the store (they may hold
//! secrets, which the store keeps in `secrets.toml`). The CLI and the TUI both go this way.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{ImportFormat, ImportReport, import_file, sign_in};
use crate::workspace::names::fold_case;
use crate::workspace::tree::{self, TreeError, WrittenTree};
use crate::workspace::{Collection, Environment, Folder, Store, Workspace, file_safe_name};

/// How far an import has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// The file being imported (counting from 0) and how many there are.
    pub file: usize,
    pub files: usize,
    /// Request files of the current file written so far, and how many it has.
    pub written: usize,
    pub total: usize,
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOutcome {
    pub path: PathBuf,
    /// What was imported, or why nothing of the file was (one sentence naming the file).
    pub result: Result<FileImported, String>,
}

/// What one file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileImported {
    pub format: ImportFormat,
    pub report: ImportReport,
    /// Directory names of the collections written (under `collections/`).
    pub collections: Vec<String>,
}

/// An environment the import would add, written by [`ImportOutcome::commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEnvironment {
    pub environment: Environment,
    /// Which file it came from (an index into [`ImportOutcome::files`]).
    pub file: usize,
    /// Made from a collection's sign-in settings rather than read from an environment file.
    pub sign_in: bool,
}

/// What [`into_workspace`] did: collections are on disk already; environments are not yet.
#[derive(Debug, Default)]
pub struct ImportOutcome {
    pub files: Vec<FileOutcome>,
    /// Collections written, to add to the in-memory workspace.
    pub collections: Vec<Collection>,
    pub environments: Vec<PendingEnvironment>,
    /// The user stopped the import: the file being written then left nothing behind, and the
    /// files after it were not read.
    pub cancelled: bool,
    written: Vec<WrittenTree>,
}

/// Reads `files` and writes their collections into the workspace at `root`. `taken` holds
/// collection directory names the caller's workspace uses (the disk is checked as well).
/// `progress` is called as request files are written; setting `cancel` stops at the next
/// request file, removing the unfinished collection.
pub fn into_workspace(
    root: &Path,
    files: &[PathBuf],
    taken: &[String],
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> ImportOutcome {
    let mut out = ImportOutcome::default();
    let mut used: HashSet<String> = taken.iter().map(|n| fold_case(n)).collect();
    if let Ok(entries) = std::fs::read_dir(root.join("collections")) {
        for e in entries.flatten() {
            used.insert(fold_case(&e.file_name().to_string_lossy()));
        }
    }
    for (index, path) in files.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            out.cancelled = true;
            break;
        }
        let mut at = Progress {
            file: index,
            files: files.len(),
            ..Progress::default()
        };
        progress(at);
        // The schemas the collection's files point at are written meanwhile, on the core
        // the parse leaves idle (once per run; later files find them done).
        let imported = std::thread::scope(|s| {
            s.spawn(|| {
                use crate::workspace::schemas::{FileKind, prepare};
                prepare(
                    root,
                    &[FileKind::Collection, FileKind::Folder, FileKind::Request],
                )
            });
            import_file(path)
        });
        let imported = match imported {
            Ok(i) => i,
            Err(e) => {
                out.files.push(FileOutcome {
                    path: path.clone(),
                    result: Err(e.to_string()),
                });
                continue;
            }
        };
        let format = imported.format;
        let mut written_here = Vec::new();
        let mut collections = Vec::new();
        let mut failure = None;
        at.total = imported.collections.iter().map(|c| count(&c.root)).sum();
        for mut c in imported.collections {
            let title = c.title().to_string();
            let name = unused_name(&file_safe_name(&title), |n| used.contains(&fold_case(n)));
            c.root.name = name.clone();
            c.root.set_title(&title);
            let before = at.written;
            let mut tell = |n: usize| {
                at.written = before + n;
                progress(at);
            };
            match tree::write_new_collection(root, &c, &mut tell, cancel) {
                Ok(w) => {
                    used.insert(fold_case(&name));
                    at.written = before + count(&c.root);
                    written_here.push(w);
                    collections.push(c);
                }
                Err(TreeError::Cancelled) => {
                    out.cancelled = true;
                    failure = Some(format!(
                        "{}: stopped; nothing of it was written",
                        path.display()
                    ));
                    break;
                }
                Err(e) => {
                    failure = Some(format!("{}: {e}", path.display()));
                    break;
                }
            }
        }
        if let Some(message) = failure {
            // A file is imported whole or not at all: undo its collections written so far.
            for w in &written_here {
                let _ = std::fs::remove_dir_all(&w.dir);
            }
            for c in &collections {
                used.remove(&fold_case(&c.root.name));
            }
            out.files.push(FileOutcome {
                path: path.clone(),
                result: Err(message),
            });
            if out.cancelled {
                break;
            }
            continue;
        }
        let names: Vec<String> = collections.iter().map(|c| c.root.name.clone()).collect();
        for env in imported.environments {
            out.environments.push(PendingEnvironment {
                environment: env,
                file: index,
                sign_in: false,
            });
        }
        let mut report = imported.report;
        let collection_title = collections.first().map(|c| c.title().to_string());
        if let Some(title) = &collection_title {
            for env in sign_in::sign_in_environments(title, &mut report) {
                out.environments.push(PendingEnvironment {
                    environment: env,
                    file: index,
                    sign_in: true,
                });
            }
        }
        out.written.extend(written_here);
        out.collections.extend(collections);
        out.files.push(FileOutcome {
            path: path.clone(),
            result: Ok(FileImported {
                format,
                report,
                collections: names,
            }),
        });
    }
    out
}

fn count(f: &Folder) -> usize {
    f.requests.len() + f.folders.iter().map(count).sum::<usize>()
}

/// `base`, or `base (2)`, `base (3)`… : the first name `taken` says is free.
fn unused_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = base.to_string();
    let mut n = 2u64;
    while taken(&name) {
        name = format!("{base} ({n})");
        n += 1;
    }
    name
}

/// One line of what an import wrote, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Collection {
        name: String,
        dir: PathBuf,
    },
    Environment {
        name: String,
        file: PathBuf,
        sign_in: bool,
    },
}

/// The import's result as the user sees it: per file, what was written and the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub files: Vec<FileSummary>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub path: PathBuf,
    pub written: Vec<Written>,
    /// The import report, or why the file was not imported.
    pub result: Result<ImportReport, String>,
}

impl ImportSummary {
    /// Files that could not be imported (or were stopped).
    pub fn failures(&self) -> usize {
        self.files.iter().filter(|f| f.result.is_err()).count()
    }

    /// Requests imported, over all files.
    pub fn requests(&self) -> usize {
        self.files
            .iter()
            .filter_map(|f| f.result.as_ref().ok())
            .map(|r| r.imported)
            .sum()
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            for w in &file.written {
                match w {
                    Written::Collection { name, dir } => {
                        writeln!(f, "collection '{name}' written to {}", dir.display())?
                    }
                    Written::Environment {
                        name,
                        file,
                        sign_in: false,
                    } => writeln!(f, "environment '{name}' written to {}", file.display())?,
                    Written::Environment {
                        name,
                        file,
                        sign_in: true,
                    } => writeln!(
                        f,
                        "environment '{name}' written to {} with the collection's sign-in settings (add fhirurl and the other variables it uses; S on it in fhirside edits them)",
                        file.display()
                    )?,
                }
            }
            match &file.result {
                Ok(report) => writeln!(f, "{report}")?,
                Err(e) => writeln!(f, "not imported: {e}\n")?,
            }
        }
        if self.cancelled {
            writeln!(
                f,
                "Import stopped: files not listed above were not read, and nothing of the file being written was kept."
            )?;
        }
        Ok(())
    }
}

impl ImportOutcome {
    /// Adds the collections to `ws`, lets `store` know their files, and writes the
    /// environments under names not yet used. An environment that cannot be written is
    /// reported in its file's summary; the collections stay.
    pub fn commit(self, store: &mut Store, ws: &mut Workspace) -> ImportSummary {
        for w in &self.written {
            store.adopt(w);
        }
        let mut summary = ImportSummary {
            files: Vec::new(),
            cancelled: self.cancelled,
        };
        let mut by_dir = std::collections::HashMap::new();
        for w in &self.written {
            if let Some(name) = w.dir.file_name() {
                by_dir.insert(name.to_string_lossy().into_owned(), w.dir.clone());
            }
        }
        for file in &self.files {
            let written = match &file.result {
                Ok(i) => i
                    .collections
                    .iter()
                    .map(|name| Written::Collection {
                        name: name.clone(),
                        dir: by_dir
                            .get(name)
                            .cloned()
                            .unwrap_or_else(|| store.root().join("collections").join(name)),
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            summary.files.push(FileSummary {
                path: file.path.clone(),
                written,
                result: file.result.clone().map(|i| i.report),
            });
        }
        ws.collections.extend(self.collections);
        for pending in self.environments {
            let Some(slot) = summary.files.get_mut(pending.file) else {
                continue;
            };
            let mut env = pending.environment;
            env.name = unused_name(&env.name, |n| {
                ws.environments
                    .iter()
                    .any(|e| fold_case(&e.name) == fold_case(n))
                    || store.env_path(n).exists()
            });
            match store.create_environment(&env) {
                Ok(()) => {
                    slot.written.push(Written::Environment {
                        name: env.name.clone(),
                        file: store.env_path(&env.name),
                        sign_in: pending.sign_in,
                    });
                    ws.environments.push(env);
                }
                Err(e) => {
                    if let Ok(report) = &mut slot.result {
                        report
                            .warnings
                            .push(format!("environment '{}' was not written: {e}", env.name));
                    }
                }
            }
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLLECTION: &str = r#"{"info": {"name": "Admin/Tools"}, "item": [
        {"name": "Folder B", "item": [{"name": "b", "request": {"method": "GET", "url": "http://x/b"}}]},
        {"name": "Folder A", "item": [{"name": "a", "request": {"method": "GET", "url": "http://x/a"}}]}
    ]}"#;

    #[test]
    fn writes_collections_under_unused_names_and_commits() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.postman_collection.json");
        std::fs::write(&file, COLLECTION).unwrap();
        let ws_dir = dir.path().join("ws");
        let (mut store, mut ws, _) = Store::load(&ws_dir);
        let never = AtomicBool::new(false);
        let mut seen = Vec::new();
        let files = [file.clone(), file.clone(), dir.path().join("missing.json")];
        let out = into_workspace(&ws_dir, &files, &[], &mut |p| seen.push(p), &never);
        assert!(!out.cancelled);
        let summary = out.commit(&mut store, &mut ws);
        assert_eq!(summary.failures(), 1);
        assert_eq!(summary.requests(), 4);
        let names: Vec<&str> = ws.collections.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["Admin-Tools", "Admin-Tools (2)"]);
        assert_eq!(ws.collections[0].title(), "Admin/Tools");
        assert!(seen.iter().any(|p| p.total == 2 && p.written == 2));
        let text = summary.to_string();
        assert!(
            text.contains("collection 'Admin-Tools (2)' written to"),
            "{text}"
        );
        assert!(
            text.contains("not imported:") && text.contains("missing.json"),
            "{text}"
        );
        // what is on disk loads back the same, and saving an imported request is no conflict
        let (_, back, problems) = Store::load(&ws_dir);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back.collections, ws.collections);
        let path =
            crate::workspace::NodePath(vec!["Admin-Tools".into(), "Folder B".into(), "b".into()]);
        let spec = ws.request(&path).unwrap().spec.clone();
        store.save_request(&path, &spec).unwrap();
    }

    #[test]
    fn a_cancelled_import_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.json");
        std::fs::write(&file, COLLECTION).unwrap();
        let ws_dir = dir.path().join("ws");
        let cancel = AtomicBool::new(false);
        let out = into_workspace(
            &ws_dir,
            &[file],
            &[],
            &mut |p| {
                if p.total > 0 {
                    cancel.store(true, Ordering::Relaxed)
                }
            },
            &cancel,
        );
        assert!(out.cancelled);
        assert!(out.collections.is_empty());
        let left: Vec<_> = std::fs::read_dir(ws_dir.join("collections"))
            .map(|d| d.flatten().collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");
    }
}
