//! `fhirside import` and `fhirside export`: files from and for other tools, written into the
//! workspace without overwriting anything already there. The work itself is
//! `import::into_workspace`; this is the command's glue (Ctrl-C, progress, exit code).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::exit::{CliError, CliResult, Exit};
use super::out::{self, Stdout};
use crate::import::into_workspace::{ImportSummary, Progress, into_workspace};
use crate::import::postman_export::export_collection;
use crate::workspace::{Store, Workspace};

/// Imports each file and returns the report to show, or the report as an error when no file
/// could be imported. The TUI's import prompt still calls this (on the UI thread); it is to
/// move to [`into_workspace`] off the UI thread and [`ImportOutcome::commit`].
///
/// [`ImportOutcome::commit`]: crate::import::into_workspace::ImportOutcome::commit
pub fn import_files(
    store: &mut Store,
    ws: &mut Workspace,
    files: &[PathBuf],
) -> Result<String, String> {
    let taken: Vec<String> = ws
        .collections
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let never = AtomicBool::new(false);
    let root = store.root().to_path_buf();
    let outcome = into_workspace(&root, files, &taken, &mut |_| {}, &never);
    let summary = outcome.commit(store, ws);
    if summary.failures() == summary.files.len() && !summary.files.is_empty() {
        Err(summary.to_string().trim_end().to_string())
    } else {
        Ok(summary.to_string())
    }
}

/// `fhirside import FILES`: imports off the async runtime's threads, stops cleanly on Ctrl-C
/// or SIGTERM (the collection being written is left out whole), shows progress on a terminal,
/// prints the report. Exit: ok when every file was imported, failed otherwise, interrupted
/// (130) when stopped.
pub async fn import_command(
    store: &mut Store,
    ws: &mut Workspace,
    files: Vec<PathBuf>,
    stdout: &mut Stdout,
) -> CliResult {
    let taken: Vec<String> = ws
        .collections
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    // The process ends after the import: its heaps may grow in large steps (fewer system
    // calls while the collection is parsed; see the function).
    crate::memory::trim::grow_heaps_in_steps(64 << 20);
    let root = store.root().to_path_buf();
    let cancel = Arc::new(AtomicBool::new(false));
    let show_progress = out::stderr_is_terminal();
    let flag = cancel.clone();
    let mut work = tokio::task::spawn_blocking(move || {
        let mut last_shown = std::time::Instant::now();
        let mut progress = |p: Progress| {
            if show_progress && p.total > 0 && last_shown.elapsed().as_millis() >= 100 {
                last_shown = std::time::Instant::now();
                redraw_progress(&format!(
                    "importing file {} of {}: {} of {} requests written",
                    p.file + 1,
                    p.files,
                    p.written,
                    p.total
                ));
            }
        };
        let out = into_workspace(&root, &files, &taken, &mut progress, &flag);
        if show_progress {
            redraw_progress("");
        }
        out
    });
    let outcome = loop {
        tokio::select! {
            done = &mut work => break done,
            _ = stop_signal() => {
                cancel.store(true, Ordering::Relaxed);
                redraw_progress("");
                out::note("fhirside: stopping the import…");
            }
        }
    };
    let outcome =
        outcome.map_err(|e| CliError::Failed(format!("the import stopped unexpectedly: {e}")))?;
    let summary: ImportSummary = outcome.commit(store, ws);
    stdout.text(summary.to_string())?;
    stdout.flush()?;
    Ok(if summary.cancelled {
        Exit::Interrupted
    } else if summary.failures() > 0 {
        Exit::Failed
    } else {
        Exit::Ok
    })
}

/// Rewrites the progress line on stderr (a terminal: checked by the caller), sanitised.
fn redraw_progress(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[K{}", out::field(text));
    let _ = err.flush();
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Writes a collection as Postman v2.1 JSON.
pub fn export_postman(ws: &Workspace, collection: &str, out: &Path) -> Result<(), String> {
    let wanted = collection.to_lowercase();
    let c = ws
        .collections
        .iter()
        .find(|c| c.name().to_lowercase() == wanted)
        .or_else(|| {
            ws.collections
                .iter()
                .find(|c| c.title().to_lowercase() == wanted)
        })
        .ok_or_else(|| format!("no collection '{collection}'"))?;
    let json = serde_json::to_string_pretty(&export_collection(c)).map_err(|e| e.to_string())?;
    crate::workspace::atomic::write_atomic(out, json.as_bytes(), false)
        .map_err(|e| format!("{}: {e}", out.display()))
}
