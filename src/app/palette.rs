//! The command palette: jump to any request or environment, or run a command, by fuzzy name.

use super::fuzzy;
use super::state::{App, Pane};
use super::update::Command;
use crate::tui::keys::action::Action;
use crate::workspace::NodePath;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteTarget {
    Request(NodePath),
    Environment(String),
    Command(Action),
    Theme(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaletteItem {
    pub target: PaletteTarget,
    pub label: String,
}

impl PaletteItem {
    pub fn kind_label(&self) -> &'static str {
        match self.target {
            PaletteTarget::Request(_) => "request",
            PaletteTarget::Environment(_) => "environment",
            PaletteTarget::Command(_) => "command",
            PaletteTarget::Theme(_) => "theme",
        }
    }
}

const COMMANDS: &[(Action, &str)] = &[
    (Action::Send, "Send the open request"),
    (Action::Save, "Save the open request"),
    (Action::Help, "Show keys"),
    (Action::Quit, "Quit"),
];

impl App {
    /// Items matching `query`, best first.
    pub fn palette_items(&self, query: &str) -> Vec<PaletteItem> {
        let mut items: Vec<PaletteItem> = self
            .ws
            .all_requests()
            .into_iter()
            .map(|(path, r)| {
                let mut parts = path.0.clone();
                if let Some(last) = parts.last_mut() {
                    *last = r.spec.name.clone();
                }
                PaletteItem {
                    label: format!("{} {}", r.spec.method, parts.join(" / ")),
                    target: PaletteTarget::Request(path),
                }
            })
            .collect();
        items.extend(self.ws.environments.iter().map(|e| PaletteItem {
            target: PaletteTarget::Environment(e.name.clone()),
            label: format!("Use environment {}", e.name),
        }));
        items.extend(self.themes.iter().map(|t| PaletteItem {
            target: PaletteTarget::Theme(t.name.clone()),
            label: format!(
                "Theme {}{}",
                t.name,
                if t.name == self.theme.name {
                    " (in use)"
                } else {
                    ""
                }
            ),
        }));
        items.extend(COMMANDS.iter().map(|(a, label)| PaletteItem {
            target: PaletteTarget::Command(*a),
            label: (*label).into(),
        }));
        if query.trim().is_empty() {
            return items;
        }
        let mut scored: Vec<(i64, usize, PaletteItem)> = items
            .into_iter()
            .enumerate()
            .filter_map(|(i, it)| fuzzy::score(query, &it.label).map(|s| (s, i, it)))
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, _, it)| it).collect()
    }

    pub fn run_palette_item(&mut self, item: PaletteItem) -> Vec<Command> {
        match item.target {
            PaletteTarget::Request(path) => {
                self.open_request(&path);
                self.focus = Pane::Request;
                Vec::new()
            }
            PaletteTarget::Environment(name) => {
                if let Some(i) = self.ws.environments.iter().position(|e| e.name == name) {
                    self.env_selected = i;
                }
                self.info(format!("Environment '{name}' is active."));
                self.active_env = Some(name);
                Vec::new()
            }
            PaletteTarget::Command(action) => self.apply(action),
            PaletteTarget::Theme(name) => {
                self.use_theme(&name);
                Vec::new()
            }
        }
    }
}
