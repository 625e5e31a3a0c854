//! The workspace's own settings (`settings.toml`): choices fhirside remembers (the theme),
//! history bounds, and where large bodies go. Read by the TUI, the CLI and the worker alike.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// History on or off, and its bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::history::Limits>,
    /// Bodies larger than this many MB go to a temporary file instead of memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spool_above_mb: Option<u64>,
    /// A compressed (gzip, brotli) body may decode to at most this many MB (default 4,096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_decoded_mb: Option<u64>,
    /// Export files downloaded at once (default 4, at most 32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_parallel: Option<u8>,
}

pub const SETTINGS_FILE: &str = "settings.toml";

/// Reads `settings.toml`; a broken file is reported (with its position) and left alone. Only a
/// missing file means "no settings": one that cannot be read counts as broken, so it is never
/// written over.
pub fn load_settings(root: &std::path::Path) -> (Settings, Option<String>) {
    let path = root.join(SETTINGS_FILE);
    if std::fs::symlink_metadata(&path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return (Settings::default(), None);
    }
    match super::store::parse_toml_file(&path) {
        Ok(s) => (s, None),
        Err(p) => (Settings::default(), Some(p.to_string())),
    }
}
