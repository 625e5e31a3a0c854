//! A name and a value: a variable, a header, a query parameter, a form field, a capture rule.
//! What Enter does with the pair is a function given when the dialog opens.

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Dialog, centered, dialog_block};
use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::{Cx, Handled, Intent, View};
use crate::tui::widgets::text_field::TextField;

type OnPair = Box<dyn FnMut(String, String) -> Intent>;

pub struct KeyValue {
    pub title: String,
    pub key: TextField,
    pub value: TextField,
    /// Which field has the cursor.
    pub on_key: bool,
    on_submit: OnPair,
}

impl KeyValue {
    /// The cursor starts on the name when it is empty, else on the value.
    pub fn new(
        title: impl Into<String>,
        key: &str,
        value: &str,
        on_submit: impl FnMut(String, String) -> Intent + 'static,
    ) -> Self {
        Self {
            title: title.into(),
            key: TextField::line(key),
            value: TextField::line(value),
            on_key: key.is_empty(),
            on_submit: Box::new(on_submit),
        }
    }

    /// The value is a secret: shown as dots.
    pub fn masked(mut self) -> Self {
        self.value.mask('•');
        self
    }

    /// Start on the value whatever the name (a setting whose name is fixed).
    pub fn value_first(mut self) -> Self {
        self.on_key = false;
        self
    }
}

impl Dialog for KeyValue {
    fn ctx(&self) -> Ctx {
        Ctx::KeyValue
    }

    fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        match action {
            Some(Action::Close) => Handled::Close,
            Some(Action::NextField) => {
                self.on_key = !self.on_key;
                Handled::Yes
            }
            Some(Action::Finish) => {
                let k = self.key.text().trim().to_string();
                if k.is_empty() {
                    self.on_key = true;
                    return Handled::Yes;
                }
                cx.intent((self.on_submit)(k, self.value.text()));
                Handled::Close
            }
            _ => {
                let text_action = cx.model.keymap.lookup(Ctx::Text, key);
                let field = if self.on_key {
                    &mut self.key
                } else {
                    &mut self.value
                };
                field.input(key, text_action);
                Handled::Yes
            }
        }
    }

    fn on_paste(&mut self, text: &str) -> bool {
        if self.on_key {
            self.key.paste(text);
        } else {
            self.value.paste(text);
        }
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let r = centered(area, 80, 8);
        frame.render_widget(Clear, r);
        let block = dialog_block(&self.title, theme);
        let inner = block.inner(r).inner(Margin::new(1, 1));
        frame.render_widget(block, r);
        let [k_row, v_row, _, hint] = Layout::vertical([Constraint::Length(1); 4]).areas(inner);
        let [kl, kf] =
            Layout::horizontal([Constraint::Length(8), Constraint::Fill(1)]).areas(k_row);
        let [vl, vf] =
            Layout::horizontal([Constraint::Length(8), Constraint::Fill(1)]).areas(v_row);
        let label = |text: &'static str, on: bool| {
            Paragraph::new(Span::styled(
                text,
                if on { theme.accent } else { theme.dim },
            ))
        };
        frame.render_widget(label("name", self.on_key), kl);
        frame.render_widget(label("value", !self.on_key), vl);
        self.key.draw(frame, kf, self.on_key, theme);
        self.value.draw(frame, vf, !self.on_key, theme);
        let hints = crate::tui::widgets::hint_spans(&v.model.keymap, Ctx::KeyValue, theme);
        frame.render_widget(Paragraph::new(Line::from(hints)), hint);
    }

    fn takes_text(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
