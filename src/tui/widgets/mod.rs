//! Small reusable pieces: pane frames, key hints, template highlighting, masking, text fields.

pub mod fuzzy;
pub mod text_field;

use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders};

use crate::tui::keys::{Ctx, Keymap};
use crate::tui::screens::Pane;
use crate::tui::style::Theme;
use crate::workspace::template::{Context, Lookup, Segment, segments};

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn pane_block<'a>(pane: Pane, extra: &str, focused: bool, theme: &Theme) -> Block<'a> {
    let title = if extra.is_empty() {
        format!(" {} {} ", pane.index() + 1, pane.title())
    } else {
        format!(" {} {} · {} ", pane.index() + 1, pane.title(), extra)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        })
        .title(Span::styled(
            title,
            if focused {
                theme.title_focused
            } else {
                theme.title
            },
        ))
}

pub fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let head: String = s.chars().take(keep / 2).collect();
    let tail: String = s.chars().skip(n - (keep - keep / 2)).collect();
    format!("{head}…{tail}")
}

/// A template with `{{var}}` coloured: green when it resolves, red when it does not.
pub fn template_line<'a>(text: &str, ctx: &Context, base: Style, theme: &Theme) -> Vec<Span<'a>> {
    segments(text)
        .into_iter()
        .map(|seg| match seg {
            Segment::Text(r) => Span::styled(text[r].to_string(), base),
            Segment::Var { name, range } => {
                let style = match ctx.lookup(&name) {
                    Lookup::Value { .. } => theme.var_resolved,
                    Lookup::Unresolved => theme.var_unresolved,
                };
                Span::styled(text[range].to_string(), style)
            }
        })
        .collect()
}

/// `••••••` for secret values unless revealed.
pub fn mask(value: &str, secret: bool, reveal: bool) -> String {
    if secret && !reveal && !value.is_empty() {
        "••••••••".into()
    } else {
        value.to_string()
    }
}

/// The hinted keys of `ctx` as `key label` pairs, for a dialog's or screen's last line.
pub fn hint_spans(keymap: &Keymap, ctx: Ctx, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (key, label) in keymap.hints(ctx) {
        spans.push(Span::styled(key, theme.key_hint));
        spans.push(Span::styled(format!(" {label}  "), theme.dim));
    }
    spans
}
