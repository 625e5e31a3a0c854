//! A yes/no question. What "yes" (and, if anything, "no") does is an intent given when the
//! question is asked, so the dialog knows nothing of what it confirms.

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{Dialog, centered, dialog_block, wrap_words};
use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::{Cx, Handled, Intent, View};

pub struct Confirm {
    pub message: String,
    yes: Option<Intent>,
    no: Option<Intent>,
}

impl Confirm {
    pub fn new(message: impl Into<String>, yes: Intent) -> Self {
        Self {
            message: message.into(),
            yes: Some(yes),
            no: None,
        }
    }

    /// What "no" (or Esc) does besides closing.
    pub fn or_else(mut self, no: Intent) -> Self {
        self.no = Some(no);
        self
    }
}

impl Dialog for Confirm {
    fn ctx(&self) -> Ctx {
        Ctx::Confirm
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let chosen = match action {
            Some(Action::Yes) => self.yes.take(),
            Some(Action::No) => self.no.take(),
            _ => return Handled::Yes,
        };
        if let Some(i) = chosen {
            cx.intent(i);
        }
        Handled::Close
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let width = 64u16.min(area.width.saturating_sub(2));
        let text = wrap_words(&self.message, width.saturating_sub(2) as usize);
        let r = centered(area, width, text.len() as u16 + 5);
        let mut lines = vec![Line::raw("")];
        lines.extend(text.into_iter().map(|l| Line::styled(l, theme.text)));
        lines.push(Line::raw(""));
        let key = |a| {
            v.model
                .keymap
                .label(Ctx::Confirm, a)
                .unwrap_or_else(|| "?".into())
        };
        // Esc is named beside the first "no" key only while it is one of them.
        let esc_says_no = v.model.keymap.lookup_name(Ctx::Confirm, "esc") == Some(Action::No);
        let mut spans = vec![
            Span::styled(key(Action::Yes), theme.key_hint),
            Span::styled(" yes   ", theme.dim),
            Span::styled(key(Action::No), theme.key_hint),
        ];
        if esc_says_no && key(Action::No) != "Esc" {
            spans.push(Span::styled(" / Esc", theme.key_hint));
        }
        spans.push(Span::styled(" no", theme.dim));
        lines.push(Line::from(spans));
        frame.render_widget(Clear, r);
        frame.render_widget(
            Paragraph::new(lines)
                .block(dialog_block("Confirm", theme))
                .wrap(Wrap { trim: false }),
            r,
        );
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
