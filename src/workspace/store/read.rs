//! Reading and listing the folder: text with the position of a bad byte, TOML with the position of
//! an error, modification times, directory entries in a stable order.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::{LoadProblem, StoreError};

/// Reads a file as UTF-8 text; a problem names the file, and for bytes that are not UTF-8 the
/// line and column of the first bad one.
pub fn read_text(path: &Path) -> Result<String, LoadProblem> {
    let problem = |line, column, message: String| LoadProblem {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let bytes = fs::read(path).map_err(|e| problem(None, None, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..good]);
        let (l, c) = line_col(&prefix, good);
        problem(Some(l), Some(c), "is not UTF-8 text".into())
    })
}

/// Reads and parses a TOML file; any problem names the file, and where toml can tell, the line
/// and column.
pub fn parse_toml_file<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LoadProblem> {
    let text = read_text(path)?;
    parse_toml_text(path, &text)
}

/// Parses `text` (read from `path`), mapping an error to a `LoadProblem` with its position.
pub fn parse_toml_text<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, LoadProblem> {
    toml::from_str::<T>(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_col(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        LoadProblem {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })
}

pub(in crate::workspace) fn to_toml<T: Serialize>(
    path: &Path,
    value: &T,
) -> Result<String, StoreError> {
    toml::to_string_pretty(value)
        .map_err(|e| StoreError::Serialise(path.to_path_buf(), e.to_string()))
}

pub(super) fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Temporary files left by a save that was killed half-way (see `atomic`): never user data.
fn is_stale_temp(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.contains(".tmp-"))
}

pub(super) fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                if is_stale_temp(p) {
                    let _ = fs::remove_file(p);
                    return false;
                }
                keep(p)
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

pub(super) fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(super) fn file_stem_full(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}
