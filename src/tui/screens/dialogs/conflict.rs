//! A file changed on disk by another program (an editor, `git pull`) while fhirside had it
//! open. The store refuses to write over it; this dialog lets the user choose: reload it from
//! disk, keep their version (write it over the file), or save their version as a copy and
//! reload the original. The screen that owns the file carries the choice out.

use std::any::Any;
use std::path::PathBuf;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{Dialog, centered, dialog_block};
use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::{Cx, Handled, Intent, View, environments, request};
use crate::workspace::NodePath;

/// What the conflicting file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictOn {
    Request(NodePath),
    Environment(String),
}

/// What the user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Reload,
    KeepMine,
    SaveCopy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub on: ConflictOn,
    /// Which file changed (a request's, an environment's own, or `secrets.toml`).
    pub file: PathBuf,
}

impl Conflict {
    pub fn message(&self) -> String {
        format!(
            "{} was changed by another program since fhirside read it. Nothing was written.",
            self.file.display()
        )
    }

    /// The intent that carries `choice` out, for the screen that owns the file.
    pub fn resolve(&self, choice: Choice) -> Intent {
        match &self.on {
            ConflictOn::Request(path) => Intent::Request(request::Msg::Resolve {
                path: path.clone(),
                file: self.file.clone(),
                choice,
            }),
            ConflictOn::Environment(name) => Intent::Environments(environments::Msg::Resolve {
                name: name.clone(),
                file: self.file.clone(),
                choice,
            }),
        }
    }
}

impl Dialog for Conflict {
    fn ctx(&self) -> Ctx {
        Ctx::Conflict
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let choice = match action {
            Some(Action::Reload) => Choice::Reload,
            Some(Action::KeepMine) => Choice::KeepMine,
            Some(Action::SaveCopy) => Choice::SaveCopy,
            Some(Action::Close) => {
                cx.info(format!(
                    "Not saved: {} is as the other program left it; your edits are still here.",
                    self.file.display()
                ));
                return Handled::Close;
            }
            _ => return Handled::Yes,
        };
        cx.intent(self.resolve(choice));
        Handled::Close
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let r = centered(area, 76, 12);
        let mut lines = vec![
            Line::raw(""),
            Line::styled(self.message(), theme.text),
            Line::raw(""),
        ];
        for (b, keys) in v
            .model
            .keymap
            .bindings()
            .filter(|(b, _)| b.ctx == Ctx::Conflict)
        {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{:>5}", keys.first().map(String::as_str).unwrap_or("")),
                    theme.key_hint,
                ),
                Span::styled(format!("  {}", b.help), theme.dim),
            ]));
        }
        frame.render_widget(Clear, r);
        frame.render_widget(
            Paragraph::new(lines)
                .block(dialog_block("Changed on disk", theme))
                .wrap(Wrap { trim: false }),
            r,
        );
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
