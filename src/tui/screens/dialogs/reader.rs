//! Text to read: an import report, a curl command, the load problems at start, an error
//! file's issues. Lines wrap to the dialog's width and scrolling stops at the end.

use std::any::Any;
use std::cell::Cell;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Dialog, centered, dialog_block, wrap_words};
use crate::tui::keys::{Action, Ctx};
use crate::tui::msg::Command;
use crate::tui::screens::{Cx, Handled, View};
use crate::tui::style::Theme;

/// How a line of the text is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Text,
    Dim,
    Heading,
    Error,
    Warning,
    Ok,
}

impl Tone {
    fn style(self, theme: &Theme) -> ratatui::style::Style {
        match self {
            Tone::Text => theme.text,
            Tone::Dim => theme.dim,
            Tone::Heading => theme.accent.add_modifier(ratatui::style::Modifier::BOLD),
            Tone::Error => theme.error,
            Tone::Warning => theme.warning,
            Tone::Ok => theme.ok,
        }
    }
}

pub struct Reader {
    pub title: String,
    pub lines: Vec<(Tone, String)>,
    /// What `c` copies (`None`: the text cannot be copied, e.g. it is not the user's).
    copy: Option<String>,
    pub scroll: usize,
    /// The rows and viewport height of the last frame, to stop scrolling at the end.
    rows: Cell<usize>,
    height: Cell<usize>,
}

impl Reader {
    pub fn new(title: impl Into<String>, lines: Vec<(Tone, String)>) -> Self {
        Self {
            title: title.into(),
            lines,
            copy: None,
            scroll: 0,
            rows: Cell::new(usize::MAX),
            height: Cell::new(1),
        }
    }

    /// Plain text, a line each.
    pub fn text(title: impl Into<String>, text: &str) -> Self {
        Self::new(
            title,
            text.lines().map(|l| (Tone::Text, l.to_string())).collect(),
        )
    }

    /// `c` copies `text` (the curl command itself, not its wrapped rows).
    pub fn copyable(mut self, text: String) -> Self {
        self.copy = Some(text);
        self
    }

    fn max_scroll(&self) -> usize {
        self.rows.get().saturating_sub(self.height.get())
    }
}

impl Dialog for Reader {
    fn ctx(&self) -> Ctx {
        Ctx::Reader
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let page = self.height.get().max(1);
        let max = self.max_scroll();
        self.scroll = match action {
            Some(Action::Close) => return Handled::Close,
            Some(Action::Copy) => {
                match &self.copy {
                    Some(t) => {
                        cx.command(Command::Copy(t.clone()));
                        cx.info("Copied (OSC 52).");
                    }
                    None => cx.info("This text is not for copying."),
                }
                return Handled::Yes;
            }
            Some(Action::Down) => self.scroll + 1,
            Some(Action::Up) => self.scroll.saturating_sub(1),
            Some(Action::PageDown) => self.scroll + page,
            Some(Action::PageUp) => self.scroll.saturating_sub(page),
            Some(Action::Top) => 0,
            Some(Action::Bottom) => max,
            _ => return Handled::Yes,
        }
        .min(max);
        Handled::Yes
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let width = 110u16.min(area.width.saturating_sub(2));
        let text_width = width.saturating_sub(4) as usize;
        let rows: Vec<Line> = self
            .lines
            .iter()
            .flat_map(|(tone, text)| {
                wrap_words(text, text_width)
                    .into_iter()
                    .map(|l| Line::styled(l, tone.style(theme)))
            })
            .collect();
        let r = centered(area, width, rows.len() as u16 + 4);
        frame.render_widget(Clear, r);
        let block = dialog_block(&self.title, theme);
        let inner = block.inner(r);
        frame.render_widget(block, r);
        let [body, hint] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)])
            .areas(inner.inner(ratatui::layout::Margin::new(1, 0)));
        self.rows.set(rows.len());
        self.height.set(body.height as usize);
        let scroll = self.scroll.min(self.max_scroll());
        frame.render_widget(
            Paragraph::new(rows).scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
            body,
        );
        let mut hints = Vec::new();
        if self.max_scroll() > 0 {
            hints.push(Span::styled(
                format!(
                    "{}–{} of {}  ",
                    scroll + 1,
                    (scroll + body.height as usize).min(self.rows.get()),
                    self.rows.get()
                ),
                theme.dim,
            ));
        }
        for (key, label) in v.model.keymap.hints(Ctx::Reader) {
            if label == "copy" && self.copy.is_none() {
                continue;
            }
            hints.push(Span::styled(key, theme.key_hint));
            hints.push(Span::styled(format!(" {label}  "), theme.dim));
        }
        frame.render_widget(Paragraph::new(Line::from(hints)), hint);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
