//! Colours: the themes (TOML files, built in and the workspace's own) adapted to the terminal's
//! colour depth.

pub mod depth;
pub mod theme;
pub mod theme_file;

pub use theme::{Background, Theme};

use theme_file::ColorDepth;

/// The themes to choose from, the one in use (adapted to the terminal), and the terminal's
/// colour depth.
#[derive(Clone)]
pub struct Style {
    pub theme: Theme,
    pub themes: Vec<Theme>,
    pub depth: ColorDepth,
}

impl Default for Style {
    fn default() -> Self {
        Self {
            theme: Theme::dark(),
            themes: vec![Theme::dark()],
            depth: ColorDepth::Ansi16,
        }
    }
}

impl Style {
    /// Loads the themes (built-in and the workspace's `themes/`) and picks `requested`, else the
    /// one remembered in `settings.toml`, else the default. Returns what went wrong, as
    /// sentences (a broken theme file, an unknown name).
    pub fn load(
        root: &std::path::Path,
        requested: Option<&str>,
        depth: ColorDepth,
    ) -> (Style, Vec<String>) {
        let (themes, mut problems) = theme_file::load_themes(&root.join("themes"));
        let (settings, problem) = crate::workspace::settings::load_settings(root);
        problems.extend(problem);
        let name = requested
            .map(str::to_string)
            .or(settings.theme)
            .unwrap_or_else(|| theme_file::DEFAULT_THEME.into());
        if !themes.iter().any(|t| t.name == name) {
            problems.push(format!("No theme named '{name}'; using the default."));
        }
        let chosen = theme_file::pick_theme(&themes, &name);
        let style = Style {
            theme: theme_file::adapt(&chosen, depth),
            themes,
            depth,
        };
        (style, problems)
    }

    /// Switches to `name`; false when there is no such theme.
    pub fn use_theme(&mut self, name: &str) -> bool {
        match self.themes.iter().find(|t| t.name == name) {
            Some(t) => {
                self.theme = theme_file::adapt(t, self.depth);
                true
            }
            None => false,
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.themes.iter().map(|t| t.name.clone()).collect()
    }
}
