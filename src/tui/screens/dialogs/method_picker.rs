//! The method picker: a list of HTTP methods; typing a method's first letter picks it.

use std::any::Any;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Clear, List, ListItem, ListState};

use super::{Dialog, centered, dialog_block, list_move};
use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::{Cx, Handled, Intent, View, request};
use crate::workspace::METHODS;

pub struct MethodPicker {
    pub selected: usize,
}

impl MethodPicker {
    pub fn new(current: &str) -> Self {
        Self {
            selected: METHODS.iter().position(|m| *m == current).unwrap_or(0),
        }
    }
}

/// The method a letter picks: g, p (POST), u (PUT), a (PATCH), d, h, o.
fn by_letter(c: char) -> Option<usize> {
    Some(match c {
        'g' => 0,
        'p' => 1,
        'u' => 2,
        'a' => 3,
        'd' => 4,
        'h' => 5,
        'o' => 6,
        _ => return None,
    })
    .filter(|i| *i < METHODS.len())
}

impl Dialog for MethodPicker {
    fn ctx(&self) -> Ctx {
        Ctx::Picker
    }

    fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        if let Some(s) = list_move(action, self.selected, METHODS.len(), 5) {
            self.selected = s;
            return Handled::Yes;
        }
        let pick = match (action, key.code) {
            (Some(Action::Close), _) => return Handled::Close,
            (Some(Action::Activate), _) => Some(self.selected),
            (None, KeyCode::Char(c)) => by_letter(c),
            _ => None,
        };
        match pick {
            Some(i) => {
                cx.intent(Intent::Request(request::Msg::SetMethod(
                    METHODS[i].to_string(),
                )));
                Handled::Close
            }
            None => Handled::Yes,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let r = centered(area, 24, METHODS.len() as u16 + 2);
        frame.render_widget(Clear, r);
        let items: Vec<ListItem> = METHODS
            .iter()
            .map(|m| ListItem::new(Span::styled(*m, v.theme.method(m))))
            .collect();
        let list = List::new(items)
            .block(dialog_block("Method", v.theme))
            .highlight_style(v.theme.selected);
        let mut st = ListState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(list, r, &mut st);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
