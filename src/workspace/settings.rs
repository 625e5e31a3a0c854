//! The workspace's own settings (`settings.toml`): choices fhirside remembers (the theme),
//! history bounds, and where large bodies go. Read by the TUI, the CLI and the worker alike.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// History on or off, and its bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryLimits>,
    /// Bodies larger than this many MiB (1,048,576 bytes each) go to a temporary file instead of memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spool_above_mb: Option<u64>,
    /// A compressed (gzip, brotli) body may decode to at most this many MiB (default 4,096).
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

/// The `[history]` table of `settings.toml`: whether exchanges are kept, and the bounds (the
/// oldest entries go first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryLimits {
    /// `false` keeps nothing (and leaves an existing history file alone).
    pub enabled: bool,
    /// Most entries kept.
    pub max_entries: u32,
    /// Most bytes kept across all entries (bodies and headers), in megabytes.
    pub max_total_mb: u32,
    /// Bodies above this many kilobytes are kept truncated (the full size is still shown).
    pub max_body_kb: u32,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            max_entries: 5_000,
            max_total_mb: 256,
            max_body_kb: 2_048,
        }
    }
}

impl HistoryLimits {
    pub fn max_total_bytes(&self) -> u64 {
        u64::from(self.max_total_mb) * 1024 * 1024
    }
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_kb as usize * 1024
    }
}
