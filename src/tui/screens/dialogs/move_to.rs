//! Where to move a request or folder: the other folders of the workspace.

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Clear, List, ListItem, ListState};

use super::{Dialog, centered, dialog_block, list_move};
use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::{Cx, Handled, Intent, View, collections};
use crate::workspace::NodePath;

pub struct MoveTo {
    pub from: NodePath,
    pub is_request: bool,
    pub targets: Vec<NodePath>,
    pub selected: usize,
}

impl Dialog for MoveTo {
    fn ctx(&self) -> Ctx {
        Ctx::Picker
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        if let Some(s) = list_move(action, self.selected, self.targets.len(), 10) {
            self.selected = s;
            return Handled::Yes;
        }
        match action {
            Some(Action::Close) => Handled::Close,
            Some(Action::Activate) => {
                if let Some(dest) = self.targets.get(self.selected).cloned() {
                    cx.intent(Intent::Collections(collections::Msg::Move {
                        from: self.from.clone(),
                        dest,
                        is_request: self.is_request,
                    }));
                }
                Handled::Close
            }
            _ => Handled::Yes,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let r = centered(area, 60, (self.targets.len() as u16 + 2).min(20));
        frame.render_widget(Clear, r);
        let items: Vec<ListItem> = self
            .targets
            .iter()
            .map(|t| ListItem::new(t.display()))
            .collect();
        let list = List::new(items)
            .block(dialog_block(
                &format!("Move '{}' to…", self.from.last()),
                v.theme,
            ))
            .highlight_style(v.theme.selected);
        let mut st = ListState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(list, r, &mut st);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
