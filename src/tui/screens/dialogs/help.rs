//! `?`: the keys in force (`keys.toml` included). The context that had the focus comes first,
//! then every other one; `/` narrows the list to keys or descriptions holding a word.

use std::any::Any;
use std::cell::Cell;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Dialog, centered, dialog_block, wrap_words};
use crate::tui::keys::{Action, Ctx, Keymap};
use crate::tui::screens::{Cx, Handled, View};
use crate::tui::style::Theme;
use crate::tui::widgets::text_field::TextField;

const KEY_COLUMN: usize = 22;

pub struct Help {
    /// Listed first (and, for panes, followed by the global keys).
    pub first: Ctx,
    pub scroll: usize,
    /// The search being typed, while `/` is active.
    searching: Option<TextField>,
    query: String,
    rows: Cell<usize>,
    height: Cell<usize>,
}

impl Help {
    pub fn new(first: Ctx) -> Self {
        Self {
            first,
            scroll: 0,
            searching: None,
            query: String::new(),
            rows: Cell::new(usize::MAX),
            height: Cell::new(1),
        }
    }

    /// The contexts in the order shown.
    fn order(&self) -> Vec<Ctx> {
        let mut order = vec![self.first];
        if self.first.falls_back_to_global() {
            order.push(Ctx::Global);
        }
        if let Some(next) = self.first.falls_back_to() {
            order.push(next);
        }
        let rest: Vec<Ctx> = Ctx::ALL
            .iter()
            .copied()
            .filter(|c| !order.contains(c))
            .collect();
        order.extend(rest);
        order
    }

    /// The rows of the help text for `width` columns.
    pub fn lines(&self, keymap: &Keymap, width: usize, theme: &Theme) -> Vec<Line<'static>> {
        let query = self.query.to_lowercase();
        let text_width = width.saturating_sub(KEY_COLUMN).max(10);
        let mut lines = Vec::new();
        for ctx in self.order() {
            let matching: Vec<_> = keymap
                .bindings()
                .filter(|(b, _)| b.ctx == ctx)
                .filter(|(b, keys)| {
                    query.is_empty()
                        || b.help.to_lowercase().contains(&query)
                        || keys.iter().any(|k| k.to_lowercase() == query)
                })
                .collect();
            if matching.is_empty() {
                continue;
            }
            lines.push(Line::styled(
                ctx.title(),
                theme.accent.add_modifier(Modifier::BOLD),
            ));
            for (b, keys) in matching {
                let keys = if keys.is_empty() {
                    Span::styled(format!("  {:<20}", "(no key)"), theme.dim)
                } else {
                    Span::styled(format!("  {:<20}", keys.join(", ")), theme.key_hint)
                };
                let mut parts = wrap_words(b.help, text_width).into_iter();
                let first = parts.next().unwrap_or_default();
                lines.push(Line::from(vec![keys, Span::styled(first, theme.text)]));
                for more in parts {
                    lines.push(Line::from(vec![
                        Span::raw(" ".repeat(KEY_COLUMN)),
                        Span::styled(more, theme.text),
                    ]));
                }
            }
            lines.push(Line::raw(""));
        }
        if lines.is_empty() {
            lines.push(Line::styled(
                format!("No key does '{}'.", self.query),
                theme.dim,
            ));
        }
        lines
    }

    fn max_scroll(&self) -> usize {
        self.rows.get().saturating_sub(self.height.get())
    }
}

impl Dialog for Help {
    fn ctx(&self) -> Ctx {
        Ctx::Help
    }

    fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        if let Some(field) = self.searching.as_mut() {
            // While typing a search: the prompt's Finish keeps it, Close drops it, the rest is text.
            match cx.model.keymap.lookup(Ctx::Prompt, key) {
                Some(Action::Finish) => self.searching = None,
                Some(Action::Close) => {
                    self.searching = None;
                    self.query.clear();
                }
                _ => {
                    let a = cx.model.keymap.lookup(Ctx::Text, key);
                    field.input(key, a);
                    self.query = field.text();
                }
            }
            self.scroll = 0;
            return Handled::Yes;
        }
        let page = self.height.get().max(1);
        let max = self.max_scroll();
        self.scroll = match action {
            Some(Action::Close) if !self.query.is_empty() => {
                self.query.clear();
                0
            }
            Some(Action::Close) => return Handled::Close,
            Some(Action::Search) => {
                self.searching = Some(TextField::line(&self.query));
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
        let r = centered(area, 100, area.height.saturating_sub(2));
        frame.render_widget(Clear, r);
        let block = dialog_block("Keys", theme);
        let inner = block.inner(r);
        frame.render_widget(block, r);
        let [body, foot] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let lines = self.lines(&v.model.keymap, body.width as usize, theme);
        self.rows.set(lines.len());
        self.height.set(body.height as usize);
        let scroll = self.scroll.min(self.max_scroll());
        frame.render_widget(
            Paragraph::new(lines).scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
            body,
        );
        match &self.searching {
            Some(field) => {
                let [label, f] =
                    Layout::horizontal([Constraint::Length(8), Constraint::Fill(1)]).areas(foot);
                frame.render_widget(
                    Paragraph::new(Span::styled(" search ", theme.accent)),
                    label,
                );
                field.draw(frame, f, true, theme);
            }
            None => {
                let mut hints = vec![Span::styled(
                    if self.query.is_empty() {
                        String::new()
                    } else {
                        format!(" keys matching '{}' · ", self.query)
                    },
                    theme.dim,
                )];
                for (key, label) in v.model.keymap.hints(Ctx::Help) {
                    hints.push(Span::styled(key, theme.key_hint));
                    hints.push(Span::styled(format!(" {label}  "), theme.dim));
                }
                let keys = |a: &[Action]| v.model.keymap.labels(Ctx::Help, a);
                hints.push(Span::styled(
                    format!(
                        "{} {} {} scroll",
                        keys(&[Action::Down, Action::Up]),
                        keys(&[Action::PageDown, Action::PageUp]),
                        keys(&[Action::Top, Action::Bottom])
                    ),
                    theme.dim,
                ));
                frame.render_widget(Paragraph::new(Line::from(hints)), foot);
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> String {
        lines
            .iter()
            .map(|l| {
                l.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_focused_context_comes_first_and_search_narrows_the_list() {
        let keymap = Keymap::default();
        let theme = Theme::dark();
        let mut help = Help::new(Ctx::Response);
        let all = text(&help.lines(&keymap, 100, &theme));
        assert!(all.starts_with("Response pane"), "{}", &all[..40]);
        assert!(all.find("Everywhere") < all.find("Collections pane"));
        help.query = "fold".into();
        let some = text(&help.lines(&keymap, 100, &theme));
        assert!(some.contains("fold / unfold"));
        assert!(!some.contains("send the open request"));
    }

    /// `?` on the main screen (Collections focused), as the user opens it.
    fn help_rig(dir: &std::path::Path) -> crate::tui::testing::Rig {
        let mut rig = crate::tui::testing::Rig::seeded(dir);
        rig.key("?");
        assert!(rig.top::<Help>().is_some());
        rig
    }

    #[test]
    fn help_overlay_lists_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut rig = help_rig(dir.path());
        let screen = rig.draw(120, 35);
        assert!(screen.contains("ctrl-r, f5"), "{screen}");
        insta::assert_snapshot!(screen);
    }

    #[test]
    fn help_overlay_160x48() {
        let dir = tempfile::tempdir().unwrap();
        let mut rig = help_rig(dir.path());
        insta::assert_snapshot!(rig.draw(160, 48));
    }

    #[test]
    fn help_overlay_80x24() {
        let dir = tempfile::tempdir().unwrap();
        let mut rig = help_rig(dir.path());
        insta::assert_snapshot!(rig.draw(80, 24));
    }
}
