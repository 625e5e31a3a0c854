//! Pick one of a few choices (a body kind, …); what the choice does is a function given when
//! the list opens.

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Clear, List, ListItem, ListState};

use super::{Dialog, centered, dialog_block, list_move};
use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::{Cx, Handled, Intent, View};

pub struct Choice {
    pub title: String,
    pub choices: Vec<String>,
    pub selected: usize,
    on_choose: Box<dyn FnMut(usize) -> Intent>,
}

impl Choice {
    pub fn new(
        title: impl Into<String>,
        choices: Vec<String>,
        selected: usize,
        on_choose: impl FnMut(usize) -> Intent + 'static,
    ) -> Self {
        Self {
            title: title.into(),
            selected: selected.min(choices.len().saturating_sub(1)),
            choices,
            on_choose: Box::new(on_choose),
        }
    }
}

impl Dialog for Choice {
    fn ctx(&self) -> Ctx {
        Ctx::Picker
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        if let Some(s) = list_move(action, self.selected, self.choices.len(), 5) {
            self.selected = s;
            return Handled::Yes;
        }
        match action {
            Some(Action::Close) => Handled::Close,
            Some(Action::Activate) if !self.choices.is_empty() => {
                cx.intent((self.on_choose)(self.selected));
                Handled::Close
            }
            _ => Handled::Yes,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let width = self
            .choices
            .iter()
            .map(|c| c.chars().count())
            .chain([self.title.chars().count() + 2])
            .max()
            .unwrap_or(10) as u16
            + 4;
        let r = centered(area, width, self.choices.len() as u16 + 2);
        frame.render_widget(Clear, r);
        let items: Vec<ListItem> = self
            .choices
            .iter()
            .map(|c| ListItem::new(c.clone()))
            .collect();
        let list = List::new(items)
            .block(dialog_block(&self.title, v.theme))
            .highlight_style(v.theme.selected);
        let mut st = ListState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(list, r, &mut st);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
