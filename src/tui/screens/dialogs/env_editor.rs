//! `e` on an environment: its variables as a table (name, value, enabled, secret), secret
//! values masked until `v`. Every change is saved at once by the Environments screen.

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Row, Table, TableState, Wrap};

use super::confirm::Confirm;
use super::key_value::KeyValue;
use super::{Dialog, centered, dialog_block, list_move};
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::Model;
use crate::tui::screens::environments::Msg as EnvMsg;
use crate::tui::screens::{Cx, Handled, Intent, View};
use crate::tui::widgets::mask;

pub struct EnvEditor {
    pub env: String,
    pub row: usize,
    pub reveal: bool,
    /// How many variables there were at the last look, to follow one just added.
    known: usize,
}

impl EnvEditor {
    pub fn new(env: String, model: &Model) -> Self {
        let known = model.ws.environment(&env).map_or(0, |e| e.variables.len());
        Self {
            env,
            row: 0,
            reveal: false,
            known,
        }
    }
}

impl Dialog for EnvEditor {
    fn ctx(&self) -> Ctx {
        Ctx::EnvEditor
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let Some(environment) = cx.model.ws.environment(&self.env) else {
            return Handled::Close;
        };
        let count = environment.variables.len();
        if let Some(r) = list_move(action, self.row, count, 10) {
            self.row = r;
            return Handled::Yes;
        }
        let env = self.env.clone();
        let index = self.row;
        match action {
            Some(Action::Close) => return Handled::Close,
            Some(Action::Reveal) => self.reveal = !self.reveal,
            Some(Action::Toggle) if index < count => {
                cx.intent(Intent::Environments(EnvMsg::ToggleVariable { env, index }))
            }
            Some(Action::ToggleSecret) if index < count => {
                cx.intent(Intent::Environments(EnvMsg::ToggleSecret { env, index }))
            }
            Some(Action::Delete) if index < count => {
                let name = environment.variables[index].key.clone();
                cx.open(Confirm::new(
                    format!("Delete the variable '{name}' of '{env}'?"),
                    Intent::Environments(EnvMsg::DeleteVariable { env, index }),
                ));
            }
            Some(a @ (Action::Edit | Action::New)) => {
                let index = (a == Action::Edit && index < count).then_some(index);
                let (k, v, secret) = index
                    .and_then(|i| environment.variables.get(i))
                    .map(|v| (v.key.clone(), v.value.clone(), v.secret))
                    .unwrap_or_default();
                let masked = secret && !self.reveal;
                let title = if masked {
                    "Variable (secret: value hidden, v in the table shows it)"
                } else {
                    "Variable"
                };
                let dialog = KeyValue::new(title, &k, &v, move |key, value| {
                    Intent::Environments(EnvMsg::SetVariable {
                        env: env.clone(),
                        index,
                        key,
                        value,
                    })
                });
                if masked {
                    cx.open(dialog.masked());
                } else {
                    cx.open(dialog);
                }
            }
            _ => {}
        }
        Handled::Yes
    }

    fn sync(&mut self, model: &Model) -> bool {
        let Some(e) = model.ws.environment(&self.env) else {
            return false;
        };
        let now = e.variables.len();
        if now > self.known {
            self.row = now - 1;
        }
        self.known = now;
        self.row = self.row.min(now.saturating_sub(1));
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let model = v.model;
        let r = centered(area, 100, area.height.saturating_sub(4));
        frame.render_widget(Clear, r);
        let active = model.active_env.as_deref() == Some(self.env.as_str());
        let title = format!(
            "Environment '{}'{} — variables",
            self.env,
            if active { " (active)" } else { "" }
        );
        let block = dialog_block(&title, theme);
        let inner = block.inner(r);
        frame.render_widget(block, r);
        let Some(e) = model.ws.environment(&self.env) else {
            return;
        };
        let [table_area, hint] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(2)]).areas(inner);
        let name_width = e
            .variables
            .iter()
            .map(|v| unicode_width::UnicodeWidthStr::width(v.key.as_str()))
            .max()
            .unwrap_or(8)
            .clamp(8, 32) as u16
            + 1;
        let rows: Vec<Row> = e
            .variables
            .iter()
            .map(|var| {
                let session = model
                    .session_vars
                    .iter()
                    .rev()
                    .find(|(k, _)| k == &var.key)
                    .filter(|_| active);
                let (value, note) = match session {
                    Some((_, val)) => (mask(val, true, self.reveal), "  (captured this session)"),
                    None => (mask(&var.value, var.secret, self.reveal), ""),
                };
                let style = if var.enabled {
                    theme.text
                } else {
                    theme.dim.add_modifier(Modifier::CROSSED_OUT)
                };
                Row::new(vec![
                    Line::styled(
                        if var.enabled { "✓" } else { "·" },
                        if var.enabled { theme.ok } else { theme.dim },
                    ),
                    Line::styled(
                        var.key.clone(),
                        if var.enabled {
                            theme.header_name
                        } else {
                            style
                        },
                    ),
                    Line::from(vec![
                        Span::styled(value, style),
                        Span::styled(note, theme.dim),
                    ]),
                    Line::styled(if var.secret { "secret" } else { "" }, theme.warning),
                ])
            })
            .collect();
        let header = Row::new(vec!["", "name", "value", ""]).style(theme.dim);
        let table = Table::new(
            rows,
            [
                Constraint::Length(2),
                Constraint::Length(name_width),
                Constraint::Fill(1),
                Constraint::Length(7),
            ],
        )
        .header(header)
        .row_highlight_style(theme.selected);
        let mut st = TableState::default().with_selected(
            (!e.variables.is_empty()).then_some(self.row.min(e.variables.len().saturating_sub(1))),
        );
        frame.render_stateful_widget(table, table_area, &mut st);
        let mut hints = Vec::new();
        for (key, label) in model.keymap.hints(Ctx::EnvEditor) {
            hints.push(Span::styled(key, theme.key_hint));
            let label = if label == "reveal" && self.reveal {
                "hide"
            } else {
                label
            };
            hints.push(Span::styled(format!(" {label}  "), theme.dim));
        }
        hints.push(Span::styled(
            "Saved as you go; secret values go to secrets.toml (0600).",
            theme.dim,
        ));
        frame.render_widget(
            Paragraph::new(Line::from(hints)).wrap(Wrap { trim: true }),
            hint,
        );
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::EnvEditor;
    use crate::tui::testing::Rig;

    #[test]
    fn environment_editor_masks_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let mut rig = Rig::seeded(dir.path());
        rig.app
            .model
            .ws
            .environment_mut("azure")
            .unwrap()
            .set("clientsecret", "super-secret-value");
        let mut editor = EnvEditor::new("azure".into(), &rig.app.model);
        editor.row = 4;
        rig.app.dialogs.push(Box::new(editor));
        let screen = rig.draw(120, 35);
        assert!(!screen.contains("super-secret-value"));
        insta::assert_snapshot!(screen);
        rig.key("v");
        assert!(rig.top::<EnvEditor>().is_some_and(|e| e.reveal));
        assert!(rig.draw(120, 35).contains("super-secret-value"));
    }
}
