//! The workspace's own settings (`settings.toml`): choices fhirside remembers, like the theme.

use serde::{Deserialize, Serialize};

use super::state::App;
use crate::ui::Theme;

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
    match crate::workspace::store::parse_toml_file(&path) {
        Ok(s) => (s, None),
        Err(p) => (Settings::default(), Some(p.to_string())),
    }
}

impl App {
    /// Switches the theme now and remembers the choice in `settings.toml`.
    pub fn use_theme(&mut self, name: &str) {
        let Some(t) = self.themes.iter().find(|t| t.name == name).cloned() else {
            self.error(format!("No theme named '{name}'."));
            return;
        };
        self.theme = crate::ui::theme_file::adapt(&t, self.color_depth);
        let path = self.store.root().join(SETTINGS_FILE);
        let (mut settings, problem) = load_settings(self.store.root());
        if let Some(p) = problem {
            self.error(format!("{p}; the theme is used but not remembered."));
            return;
        }
        settings.theme = Some(name.to_string());
        let result = toml::to_string_pretty(&settings)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                crate::workspace::atomic::write_atomic(&path, text.as_bytes(), false)
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(()) => self.info(format!(
                "Theme '{name}' (remembered in {}).",
                path.display()
            )),
            Err(e) => self.error(format!(
                "Theme '{name}' is used but could not be remembered: {e}"
            )),
        }
    }

    /// Loads the themes (built-in and the workspace's `themes/`) and picks the remembered one.
    pub fn init_themes(
        &mut self,
        requested: Option<&str>,
        depth: crate::ui::theme_file::ColorDepth,
    ) -> Vec<String> {
        let (themes, mut problems) =
            crate::ui::theme_file::load_themes(&self.store.root().join("themes"));
        let (settings, problem) = load_settings(self.store.root());
        problems.extend(problem);
        // The other setting read at start-up: where large bodies go.
        problems.extend(crate::worker::spool::configure(settings.spool_above_mb));
        let name = requested
            .map(str::to_string)
            .or(settings.theme)
            .unwrap_or_else(|| crate::ui::theme_file::DEFAULT_THEME.into());
        if !themes.iter().any(|t| t.name == name) {
            problems.push(format!("No theme named '{name}'; using the default."));
        }
        let chosen: Theme = crate::ui::theme_file::pick_theme(&themes, &name);
        self.color_depth = depth;
        self.theme = crate::ui::theme_file::adapt(&chosen, depth);
        self.themes = themes;
        problems
    }
}
