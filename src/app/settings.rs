//! Theme choice at start-up and from the palette, remembered in the workspace's `settings.toml`.

use super::state::{App, Overlay};
use crate::tui::keys::file::load_keymap;
use crate::tui::style::Theme;
use crate::workspace::LoadProblem;
use crate::workspace::settings::{SETTINGS_FILE, load_settings};
use std::path::{Path, PathBuf};

impl App {
    /// Switches the theme now and remembers the choice in `settings.toml`.
    pub fn use_theme(&mut self, name: &str) {
        let Some(t) = self.themes.iter().find(|t| t.name == name).cloned() else {
            self.error(format!("No theme named '{name}'."));
            return;
        };
        self.theme = crate::tui::style::theme_file::adapt(&t, self.color_depth);
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
        depth: crate::tui::style::theme_file::ColorDepth,
    ) -> Vec<String> {
        let (themes, mut problems) =
            crate::tui::style::theme_file::load_themes(&self.store.root().join("themes"));
        let (settings, problem) = load_settings(self.store.root());
        problems.extend(problem);
        // The other setting read at start-up: where large bodies go.
        problems.extend(crate::worker::spool::configure(settings.spool_above_mb));
        let name = requested
            .map(str::to_string)
            .or(settings.theme)
            .unwrap_or_else(|| crate::tui::style::theme_file::DEFAULT_THEME.into());
        if !themes.iter().any(|t| t.name == name) {
            problems.push(format!("No theme named '{name}'; using the default."));
        }
        let chosen: Theme = crate::tui::style::theme_file::pick_theme(&themes, &name);
        self.color_depth = depth;
        self.theme = crate::tui::style::theme_file::adapt(&chosen, depth);
        self.themes = themes;
        problems
    }
}

impl App {
    /// Loads the key bindings: `user_dir`'s `keys.toml` (if given), then the workspace's.
    /// Broken files and settled conflicts are shown in the problems dialog at start.
    pub fn init_keys(&mut self, user_dir: Option<&Path>) {
        let mut dirs: Vec<PathBuf> = user_dir.map(Path::to_path_buf).into_iter().collect();
        dirs.push(self.store.root().to_path_buf());
        let (keymap, problems) = load_keymap(&dirs);
        self.keymap = keymap;
        self.problems
            .extend(problems.into_iter().map(LoadProblem::from));
        let report = !self.problems.is_empty() || !self.keymap.conflicts().is_empty();
        if report && self.overlay.is_none() {
            self.overlay = Some(Overlay::Problems { scroll: 0 });
        }
    }
}
