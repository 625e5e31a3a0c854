//! Dialogs: one file each, kept on a stack over the screens. A dialog owns its state, takes
//! keys under its own keymap context, and says what it wants done as intents; the root only
//! stacks, routes and draws them.

pub mod capabilities;
pub mod choice;
pub mod confirm;
pub mod conflict;
pub mod env_editor;
pub mod help;
pub mod import_progress;
pub mod key_value;
pub mod method_picker;
pub mod move_to;
pub mod palette;
pub mod prompt;
pub mod reader;
pub mod sign_in;
pub mod sign_in_settings;
pub mod token_viewer;

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders};

use super::{Cx, Handled, View};
use crate::tui::keys::{Action, Ctx};
use crate::tui::style::Theme;

/// A dialog on the stack.
pub trait Dialog: Any {
    /// The keymap context its keys are looked up in (and listed under in help and hints).
    fn ctx(&self) -> Ctx;

    /// A key, with the action the keymap gives it in [`Dialog::ctx`] (if any). Keys with no
    /// action are text for dialogs that take text, and ignored by the others.
    fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled;

    /// Pasted text; true when the dialog took it.
    fn on_paste(&mut self, _text: &str) -> bool {
        false
    }

    fn draw(&self, frame: &mut Frame, area: Rect, view: &View);

    /// Whether keys are text here (a field has the cursor): `Alt`+letter is then a readline
    /// key, not an `Esc` glued to a letter.
    fn takes_text(&self) -> bool {
        false
    }

    /// Called after every update with the model as it now is; `false` closes the dialog (the
    /// sign-in it shows has ended, the environment it edits is gone).
    fn sync(&mut self, _model: &crate::tui::model::Model) -> bool {
        true
    }

    /// Whether it animates (the loop then ticks).
    fn busy(&self) -> bool {
        false
    }

    fn as_any(&self) -> &dyn Any;
}

/// The frame every dialog is drawn in.
pub fn dialog_block<'a>(title: &str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(format!(" {title} "), theme.title_focused))
}

/// A rectangle of at most `w`×`h` in the middle of `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(10.min(area.width));
    let h = h.min(area.height.saturating_sub(2)).max(3.min(area.height));
    Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    }
}

/// `text` in lines of at most `width` columns, broken between words where it can be (a word
/// longer than the line is cut).
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let width = width.max(1);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let fits = line.width() + 1 + word.width() <= width;
        if !line.is_empty() && !fits {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        let mut rest = word;
        while rest.width() > width {
            let cut = rest
                .char_indices()
                .scan(0, |w, (i, c)| {
                    *w += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
                    Some((i, *w))
                })
                .take_while(|(_, w)| *w <= width)
                .last()
                .map(|(i, _)| i + rest[i..].chars().next().map_or(1, char::len_utf8))
                .unwrap_or(rest.len());
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            out.push(rest[..cut].to_string());
            rest = &rest[cut..];
        }
        line.push_str(rest);
    }
    out.push(line);
    out
}

/// Keys that move through a list of `len` rows; `None` when `action` is not one of them.
pub fn list_move(
    action: Option<Action>,
    selected: usize,
    len: usize,
    page: usize,
) -> Option<usize> {
    let last = len.saturating_sub(1);
    Some(match action? {
        Action::Down => (selected + 1).min(last),
        Action::Up => selected.saturating_sub(1),
        Action::PageDown => (selected + page).min(last),
        Action::PageUp => selected.saturating_sub(page),
        Action::Top => 0,
        Action::Bottom => last,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_by_display_width_and_long_words_are_cut() {
        assert_eq!(wrap_words("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap_words("abcdefgh", 3), vec!["abc", "def", "gh"]);
        // Wide characters take two columns each.
        assert_eq!(
            wrap_words("日本語テキスト", 6),
            vec!["日本語", "テキス", "ト"]
        );
    }

    #[test]
    fn list_moves_stay_inside_the_list() {
        assert_eq!(list_move(Some(Action::Down), 2, 3, 10), Some(2));
        assert_eq!(list_move(Some(Action::Up), 0, 3, 10), Some(0));
        assert_eq!(list_move(Some(Action::PageDown), 0, 30, 10), Some(10));
        assert_eq!(list_move(Some(Action::Bottom), 0, 0, 10), Some(0));
        assert_eq!(list_move(Some(Action::Activate), 0, 3, 10), None);
    }
}
