//! `Ctrl-P`: every command, request, environment and theme by fuzzy name, each command with its
//! key, so the palette also teaches the keys.

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, List, ListItem, ListState, Paragraph};

use super::{Dialog, centered, dialog_block, list_move};
use crate::tui::keys::{Action, Ctx, Keymap};
use crate::tui::model::Model;
use crate::tui::screens::{Cx, Handled, Intent, Pane, View};
use crate::tui::widgets::fuzzy;
use crate::tui::widgets::text_field::TextField;
use crate::workspace::NodePath;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Request(NodePath),
    Environment(String),
    /// An action, and the pane it belongs to (`None`: a global one).
    Command(Option<Pane>, Action),
    Theme(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub target: Target,
    pub label: String,
    /// The key that does the same, when there is one.
    pub key: Option<String>,
}

impl Item {
    pub fn kind_label(&self) -> &'static str {
        match self.target {
            Target::Request(_) => "request",
            Target::Environment(_) => "environment",
            Target::Command(..) => "command",
            Target::Theme(_) => "theme",
        }
    }
}

/// The commands the palette offers, with the pane whose key runs them.
const COMMANDS: &[(Option<Pane>, Action, &str)] = &[
    (None, Action::Send, "Send the open request"),
    (None, Action::Save, "Save the open request"),
    (None, Action::Lookup, "Find a patient"),
    (
        None,
        Action::Chart,
        "Patient chart: vitals plotted, labs, timeline",
    ),
    (None, Action::Jobs, "Jobs: bulk exports"),
    (None, Action::History, "History of every exchange"),
    (None, Action::Capabilities, "Capability explorer"),
    (None, Action::TokenViewer, "Show the token, decoded"),
    (Some(Pane::Environments), Action::New, "New environment"),
    (Some(Pane::Environments), Action::SignIn, "Sign in now"),
    (
        Some(Pane::Environments),
        Action::SignInSettings,
        "Sign-in settings",
    ),
    (
        Some(Pane::Environments),
        Action::Edit,
        "Edit the environment's variables",
    ),
    (Some(Pane::Collections), Action::New, "New request"),
    (
        Some(Pane::Collections),
        Action::NewCollection,
        "New collection",
    ),
    (
        Some(Pane::Collections),
        Action::Import,
        "Import a Postman, .http or curl file",
    ),
    (
        Some(Pane::Collections),
        Action::PasteCurl,
        "New request from a curl command",
    ),
    (
        Some(Pane::Request),
        Action::CopyCurl,
        "Copy the request as curl",
    ),
    (
        Some(Pane::Request),
        Action::ExternalEdit,
        "Edit the body in $EDITOR",
    ),
    (Some(Pane::Response), Action::Filter, "Filter the body (jq)"),
    (
        Some(Pane::Response),
        Action::RequestHistory,
        "Earlier answers of this request",
    ),
    (None, Action::Help, "Show keys"),
    (None, Action::Quit, "Quit"),
];

fn ctx_of(pane: Option<Pane>) -> Ctx {
    match pane {
        None => Ctx::Global,
        Some(Pane::Environments) => Ctx::Environments,
        Some(Pane::Collections) => Ctx::Collections,
        Some(Pane::Request) => Ctx::Request,
        Some(Pane::Response) => Ctx::Response,
    }
}

/// The key shown beside a command. The chart's key is the browser's (`V` on a patient):
/// from anywhere else the palette entry opens what it needs first (see `App::open_chart`).
fn key_of(keymap: &Keymap, pane: Option<Pane>, action: Action) -> Option<String> {
    let ctx = match action {
        Action::Chart => Ctx::Browser,
        _ => ctx_of(pane),
    };
    keymap.label(ctx, action)
}

/// Items matching `query`, best first; commands first when nothing is typed.
pub fn items(model: &Model, themes: &[String], theme_in_use: &str, query: &str) -> Vec<Item> {
    let keymap: &Keymap = &model.keymap;
    let mut items: Vec<Item> = COMMANDS
        .iter()
        .map(|(pane, action, label)| Item {
            target: Target::Command(*pane, *action),
            label: (*label).into(),
            key: key_of(keymap, *pane, *action),
        })
        .collect();
    items.extend(model.ws.all_requests().into_iter().map(|(path, r)| {
        let mut parts = path.0.clone();
        if let Some(last) = parts.last_mut() {
            *last = r.spec.name.clone();
        }
        Item {
            label: format!("{} {}", r.spec.method, parts.join(" / ")),
            target: Target::Request(path),
            key: None,
        }
    }));
    items.extend(model.ws.environments.iter().map(|e| Item {
        target: Target::Environment(e.name.clone()),
        label: format!("Use environment {}", e.name),
        key: None,
    }));
    items.extend(themes.iter().map(|t| Item {
        target: Target::Theme(t.clone()),
        label: format!(
            "Theme {t}{}",
            if t == theme_in_use { " (in use)" } else { "" }
        ),
        key: None,
    }));
    if query.trim().is_empty() {
        return items;
    }
    let mut scored: Vec<(i64, usize, Item)> = items
        .into_iter()
        .enumerate()
        .filter_map(|(i, it)| fuzzy::score(query, &it.label).map(|s| (s, i, it)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, it)| it).collect()
}

pub struct Palette {
    pub input: TextField,
    pub selected: usize,
    themes: Vec<String>,
    theme_in_use: String,
}

impl Palette {
    pub fn new(themes: Vec<String>, theme_in_use: String) -> Self {
        Self {
            input: TextField::line(""),
            selected: 0,
            themes,
            theme_in_use,
        }
    }

    pub fn items(&self, model: &Model) -> Vec<Item> {
        items(model, &self.themes, &self.theme_in_use, &self.input.text())
    }
}

impl Dialog for Palette {
    fn ctx(&self) -> Ctx {
        Ctx::Palette
    }

    fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let items = self.items(cx.model);
        if let Some(s) = list_move(
            action.filter(|a| matches!(a, Action::Down | Action::Up)),
            self.selected,
            items.len(),
            10,
        ) {
            self.selected = s;
            return Handled::Yes;
        }
        match action {
            Some(Action::Close) => Handled::Close,
            Some(Action::Activate) => {
                if let Some(item) = items.get(self.selected) {
                    cx.intent(match item.target.clone() {
                        Target::Request(path) => Intent::OpenRequest(path),
                        Target::Environment(name) => Intent::Environments(
                            crate::tui::screens::environments::Msg::Activate(name),
                        ),
                        Target::Theme(name) => Intent::UseTheme(name),
                        Target::Command(None, a) => Intent::Action(a),
                        Target::Command(Some(pane), a) => Intent::PaneAction(pane, a),
                    });
                }
                Handled::Close
            }
            _ => {
                let a = cx.model.keymap.lookup(Ctx::Text, key);
                self.input.input(key, a);
                self.selected = 0;
                Handled::Yes
            }
        }
    }

    fn on_paste(&mut self, text: &str) -> bool {
        self.input.paste(text);
        self.selected = 0;
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let r = centered(area, 84, area.height.saturating_sub(6).min(24));
        frame.render_widget(Clear, r);
        let title = format!(
            "Commands — type to filter, {} runs",
            v.model.keymap.say(Ctx::Palette, Action::Activate)
        );
        let block = dialog_block(&title, theme);
        let inner = block.inner(r);
        frame.render_widget(block, r);
        let [field, list_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
        let [prompt, f] =
            Layout::horizontal([Constraint::Length(2), Constraint::Fill(1)]).areas(field);
        frame.render_widget(Paragraph::new(Span::styled("› ", theme.accent)), prompt);
        self.input.draw(frame, f, true, theme);
        let items = self.items(v.model);
        let key_width = 10;
        let list_items: Vec<ListItem> = items
            .iter()
            .map(|it| {
                ListItem::new(Line::from(vec![
                    Span::styled(format!("{:<12}", it.kind_label()), theme.dim),
                    Span::styled(
                        format!("{:<key_width$}", it.key.clone().unwrap_or_default()),
                        theme.key_hint,
                    ),
                    Span::styled(it.label.clone(), theme.text),
                ]))
            })
            .collect();
        let list = List::new(list_items).highlight_style(theme.selected);
        let mut st = ListState::default().with_selected(
            (!items.is_empty()).then_some(self.selected.min(items.len().saturating_sub(1))),
        );
        frame.render_stateful_widget(list, list_area, &mut st);
    }

    fn takes_text(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
