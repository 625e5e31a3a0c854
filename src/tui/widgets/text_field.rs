//! Text fields: one line (URL, prompts, names) or many (the request body), with the readline
//! keys people type without thinking (`Ctrl-U`, `Ctrl-W`, `Ctrl-A`/`E`, `Ctrl-K`, `Alt-B`/`F`),
//! taken from the keymap's `[text]` context so they are listed in help and can be remapped.
//! Plain keys (characters, Backspace, Delete, arrows, Home/End) always edit.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{CursorMove, TextArea};

use crate::tui::keys::Action;
use crate::tui::style::Theme;

#[derive(Clone)]
pub struct TextField {
    area: TextArea<'static>,
    multi_line: bool,
}

impl std::fmt::Debug for TextField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TextField").field(&self.text()).finish()
    }
}

impl TextField {
    /// One line, the cursor at its end.
    pub fn line(text: &str) -> Self {
        let mut area = TextArea::new(vec![text.replace(['\n', '\r'], " ")]);
        area.move_cursor(CursorMove::End);
        Self {
            area,
            multi_line: false,
        }
    }

    /// Many lines (a body), the cursor at the start.
    pub fn lines(text: &str) -> Self {
        let lines: Vec<String> = if text.is_empty() {
            vec![String::new()]
        } else {
            text.split('\n')
                .map(|l| l.trim_end_matches('\r').to_string())
                .collect()
        };
        let mut area = TextArea::new(lines);
        area.set_tab_length(2);
        area.set_hard_tab_indent(false);
        Self {
            area,
            multi_line: true,
        }
    }

    pub fn text(&self) -> String {
        if self.multi_line {
            self.area.lines().join("\n")
        } else {
            self.area.lines().join("")
        }
    }

    pub fn is_empty(&self) -> bool {
        self.area.lines().iter().all(String::is_empty)
    }

    /// Replaces the text (the cursor goes to its end on one line, to the start on many).
    pub fn set_text(&mut self, text: &str) {
        let masked = self.area.mask_char();
        *self = if self.multi_line {
            Self::lines(text)
        } else {
            Self::line(text)
        };
        if let Some(c) = masked {
            self.area.set_mask_char(c);
        }
    }

    /// Recalled text shown selected: typing replaces it, a movement key keeps it to edit.
    pub fn set_recalled(&mut self, text: &str) {
        self.set_text(text);
        if !text.is_empty() {
            self.area.move_cursor(CursorMove::Head);
            self.area.start_selection();
            self.area.move_cursor(CursorMove::End);
        }
    }

    pub fn mask(&mut self, c: char) {
        self.area.set_mask_char(c);
    }

    /// Inserts pasted text (newlines become spaces on one line).
    pub fn paste(&mut self, text: &str) {
        let text = if self.multi_line {
            text.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            text.replace(['\r', '\n'], " ")
        };
        self.replace_selection();
        self.area.insert_str(text);
    }

    fn replace_selection(&mut self) {
        if self.area.is_selecting() {
            self.area.cut();
        }
    }

    /// Applies a key: a text action from the `[text]` context, else plain editing. Returns
    /// whether the key was used.
    pub fn input(&mut self, key: &KeyEvent, action: Option<Action>) -> bool {
        let a = &mut self.area;
        if let Some(action) = action {
            match action {
                Action::LineStart => a.move_cursor(CursorMove::Head),
                Action::LineEnd => a.move_cursor(CursorMove::End),
                Action::DeleteToStart => {
                    a.cancel_selection();
                    a.delete_line_by_head();
                }
                Action::DeleteToEnd => {
                    a.cancel_selection();
                    a.delete_line_by_end();
                }
                Action::DeleteWordBack => {
                    a.cancel_selection();
                    a.delete_word();
                }
                Action::DeleteWordForward => {
                    a.cancel_selection();
                    a.delete_next_word();
                }
                Action::WordBack => a.move_cursor(CursorMove::WordBack),
                Action::WordForward => a.move_cursor(CursorMove::WordForward),
                Action::Undo => {
                    a.undo();
                }
                Action::Redo => {
                    a.redo();
                }
                _ => return false,
            }
            return true;
        }
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let movement = |a: &mut TextArea, m: CursorMove| {
            a.cancel_selection();
            a.move_cursor(m);
        };
        match key.code {
            KeyCode::Char(_) if plain => {
                self.replace_selection();
                self.area.input_without_shortcuts(*key)
            }
            KeyCode::Backspace | KeyCode::Delete if self.area.is_selecting() => {
                self.area.cut();
                true
            }
            KeyCode::Backspace | KeyCode::Delete => self.area.input_without_shortcuts(*key),
            KeyCode::Enter if self.multi_line => {
                self.replace_selection();
                self.area.insert_newline();
                true
            }
            KeyCode::Tab if self.multi_line => self.area.insert_tab(),
            KeyCode::Left => {
                movement(&mut self.area, CursorMove::Back);
                true
            }
            KeyCode::Right => {
                movement(&mut self.area, CursorMove::Forward);
                true
            }
            KeyCode::Up if self.multi_line => {
                movement(&mut self.area, CursorMove::Up);
                true
            }
            KeyCode::Down if self.multi_line => {
                movement(&mut self.area, CursorMove::Down);
                true
            }
            KeyCode::Home => {
                movement(&mut self.area, CursorMove::Head);
                true
            }
            KeyCode::End => {
                movement(&mut self.area, CursorMove::End);
                true
            }
            KeyCode::PageUp if self.multi_line => {
                self.area.scroll(ratatui_textarea::Scrolling::PageUp);
                true
            }
            KeyCode::PageDown if self.multi_line => {
                self.area.scroll(ratatui_textarea::Scrolling::PageDown);
                true
            }
            _ => false,
        }
    }

    /// The cursor's (row, column) in the text, for tests and for drawing.
    pub fn cursor(&self) -> (usize, usize) {
        let c = self.area.cursor();
        (c.0, c.1)
    }

    /// Draws it; `active` shows the cursor.
    pub fn draw(&self, frame: &mut Frame, area: Rect, active: bool, theme: &Theme) {
        let mut t = self.area.clone();
        t.set_cursor_line_style(Style::new());
        t.set_selection_style(theme.selected);
        if active {
            let underline = if self.multi_line {
                Modifier::empty()
            } else {
                Modifier::UNDERLINED
            };
            t.set_style(theme.text.add_modifier(underline));
            t.set_cursor_style(Style::new().add_modifier(Modifier::REVERSED));
        } else {
            t.set_style(theme.dim);
            t.set_cursor_style(theme.dim);
        }
        frame.render_widget(&t, area);
    }

    /// The text area itself, for the body editor's own drawing (line numbers, styles).
    pub fn area(&self) -> &TextArea<'static> {
        &self.area
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(f: &mut TextField, s: &str) {
        for c in s.chars() {
            f.input(&k(KeyCode::Char(c)), None);
        }
    }

    #[test]
    fn readline_keys_clear_delete_words_and_move() {
        let mut f = TextField::line("");
        typed(&mut f, "family smith");
        f.input(&k(KeyCode::Char('w')), Some(Action::DeleteWordBack));
        assert_eq!(f.text(), "family ");
        f.input(&k(KeyCode::Char('a')), Some(Action::LineStart));
        typed(&mut f, "x");
        assert_eq!(f.text(), "xfamily ");
        f.input(&k(KeyCode::Char('k')), Some(Action::DeleteToEnd));
        assert_eq!(f.text(), "x");
        f.input(&k(KeyCode::Char('e')), Some(Action::LineEnd));
        typed(&mut f, "yz");
        f.input(&k(KeyCode::Char('u')), Some(Action::DeleteToStart));
        assert_eq!(
            f.text(),
            "",
            "Ctrl-U clears to the start, not one character"
        );
    }

    #[test]
    fn a_recalled_text_is_replaced_by_typing_and_kept_by_arrows() {
        let mut f = TextField::line("");
        f.set_recalled("types");
        typed(&mut f, "ids");
        assert_eq!(f.text(), "ids", "typing replaces the recalled expression");
        f.set_recalled("types");
        f.input(&k(KeyCode::End), None);
        typed(&mut f, "!");
        assert_eq!(f.text(), "types!", "a movement key keeps it for editing");
    }

    #[test]
    fn one_line_fields_take_no_newlines() {
        let mut f = TextField::line("a\nb");
        assert_eq!(f.text(), "a b");
        f.paste("c\r\nd");
        assert_eq!(f.text(), "a bc  d");
        f.input(&k(KeyCode::Enter), None);
        assert_eq!(f.text(), "a bc  d");
        let mut body = TextField::lines("{\n}");
        body.input(&k(KeyCode::Enter), None);
        assert_eq!(body.text(), "\n{\n}");
    }
}
