//! A one-line prompt: a name, a line number, a search, a filter, a file to import. What Enter
//! does with the text is a function given when the prompt opens; searches can also act as the
//! text changes, and filters and searches recall their earlier entries with Up and Down.

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

type OnText = Box<dyn FnMut(&str) -> Option<Intent>>;

pub struct Prompt {
    pub title: String,
    pub field: TextField,
    on_submit: OnText,
    on_change: Option<OnText>,
    on_cancel: Option<Intent>,
    /// Earlier entries, oldest first, and where Up/Down is among them.
    history: Vec<String>,
    recalled: Option<usize>,
}

impl Prompt {
    /// `on_submit` gets the trimmed text when it is not empty; `None` keeps the prompt open.
    pub fn new(
        title: impl Into<String>,
        initial: &str,
        on_submit: impl FnMut(&str) -> Option<Intent> + 'static,
    ) -> Self {
        Self {
            title: title.into(),
            field: TextField::line(initial),
            on_submit: Box::new(on_submit),
            on_change: None,
            on_cancel: None,
            history: Vec::new(),
            recalled: None,
        }
    }

    /// Called with the text after each change (search as you type).
    pub fn on_change(mut self, f: impl FnMut(&str) -> Option<Intent> + 'static) -> Self {
        self.on_change = Some(Box::new(f));
        self
    }

    /// What Esc does besides closing (going back to the screen that asked).
    pub fn on_cancel(mut self, i: Intent) -> Self {
        self.on_cancel = Some(i);
        self
    }

    /// Earlier entries to recall with Up/Down; the newest is shown selected, so typing
    /// replaces it and an arrow key keeps it to edit.
    pub fn with_history(mut self, history: Vec<String>) -> Self {
        if self.field.is_empty()
            && let Some(last) = history.last()
        {
            self.field.set_recalled(last);
            self.recalled = Some(history.len() - 1);
        }
        self.history = history;
        self
    }

    pub fn text(&self) -> String {
        self.field.text()
    }

    fn recall(&mut self, older: bool) {
        if self.history.is_empty() {
            return;
        }
        let last = self.history.len() - 1;
        let next = match (self.recalled, older) {
            (None, true) => Some(last),
            (None, false) => None,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i < last => Some(i + 1),
            (Some(_), false) => None,
        };
        self.recalled = next;
        match next {
            Some(i) => self.field.set_recalled(&self.history[i]),
            None => self.field.set_text(""),
        }
    }

    fn changed(&mut self, cx: &mut Cx) {
        if let Some(f) = self.on_change.as_mut()
            && let Some(i) = f(&self.field.text())
        {
            cx.intent(i);
        }
    }
}

impl Dialog for Prompt {
    fn ctx(&self) -> Ctx {
        Ctx::Prompt
    }

    fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        match action {
            Some(Action::Close) => {
                if let Some(i) = self.on_cancel.take() {
                    cx.intent(i);
                }
                Handled::Close
            }
            Some(Action::Finish) => {
                let text = self.field.text().trim().to_string();
                if text.is_empty() {
                    return Handled::Yes;
                }
                match (self.on_submit)(&text) {
                    Some(i) => {
                        cx.intent(i);
                        Handled::Close
                    }
                    None => Handled::Yes,
                }
            }
            Some(Action::HistoryPrev) => {
                self.recall(true);
                self.changed(cx);
                Handled::Yes
            }
            Some(Action::HistoryNext) => {
                self.recall(false);
                self.changed(cx);
                Handled::Yes
            }
            _ => {
                let text_action = cx.model.keymap.lookup(Ctx::Text, key);
                let before = self.field.text();
                self.field.input(key, text_action);
                if self.field.text() != before {
                    self.changed(cx);
                }
                Handled::Yes
            }
        }
    }

    fn on_paste(&mut self, text: &str) -> bool {
        self.field.paste(text);
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let r = centered(area, 72, 5);
        frame.render_widget(Clear, r);
        let block = dialog_block(&self.title, theme);
        let inner = block.inner(r);
        frame.render_widget(block, r);
        let [field, hint] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)])
            .areas(inner.inner(Margin::new(1, 1)));
        self.field.draw(frame, field, true, theme);
        let mut hints = crate::tui::widgets::hint_spans(&v.model.keymap, Ctx::Prompt, theme);
        if !self.history.is_empty() {
            hints.push(Span::styled("↑↓", theme.key_hint));
            hints.push(Span::styled(" earlier ones", theme.dim));
        }
        frame.render_widget(Paragraph::new(Line::from(hints)), hint);
    }

    fn takes_text(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
