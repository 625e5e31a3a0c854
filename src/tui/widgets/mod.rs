//! Small reusable pieces: pane frames, the tab strip, the status bar, template highlighting.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};

use crate::app::{App, Pane, StatusKind};
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

/// The strip of pane names shown in the narrow layout.
pub fn pane_tabs(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    for p in Pane::ALL {
        let label = format!(" {} {} ", p.index() + 1, p.title());
        spans.push(Span::styled(
            label,
            if p == app.focus {
                theme.selected
            } else {
                theme.dim
            },
        ));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn status_bar(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = vec![
        Span::styled(" env ", theme.dim),
        Span::styled(
            app.active_env.clone().unwrap_or_else(|| "none".into()),
            theme.accent,
        ),
        Span::styled(" │ ", theme.dim),
    ];
    // Always on while it applies: certificate checks are off for this environment.
    if app.active_environment().is_some_and(|e| e.insecure) {
        spans.push(Span::styled("⚠ TLS certificates NOT checked", theme.error));
        spans.push(Span::styled(" │ ", theme.dim));
    }
    if let Some((text, level)) = app.token_status() {
        let style = match level {
            crate::app::auth::Level::Ok => theme.ok,
            crate::app::auth::Level::Warn => theme.warning,
            crate::app::auth::Level::Bad => theme.error,
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::styled(" │ ", theme.dim));
    }
    if let Some(flight) = app.in_flight.values().next() {
        spans.push(Span::styled(
            format!(
                "{} {} {} {:.1}s  Esc cancels",
                SPINNER[(app.frame % SPINNER.len() as u64) as usize],
                flight.method,
                shorten(&flight.url, 40),
                flight.started.elapsed().as_secs_f32()
            ),
            theme.warning,
        ));
        spans.push(Span::styled(" │ ", theme.dim));
    } else if let Some(status) = &app.status {
        let style = match status.kind {
            StatusKind::Info => theme.text,
            StatusKind::Error => theme.error,
        };
        spans.push(Span::styled(status.text.clone(), style));
        spans.push(Span::styled(" │ ", theme.dim));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let mut hint_spans = Vec::new();
    let mut width = 0;
    let budget = (area.width as usize).saturating_sub(used + 1);
    // A screen or dialog on top has its own keys; the pane's hints would mislead.
    let hints = if matches!(
        app.overlay,
        None | Some(crate::app::Overlay::EnvEditor { .. })
    ) {
        app.keymap.hints(app.context_for_focus())
    } else {
        Vec::new()
    };
    for (key, help) in hints {
        let w = key.chars().count() + help.chars().count() + 3;
        if width + w > budget {
            break;
        }
        width += w;
        hint_spans.push(Span::styled(key, theme.key_hint));
        hint_spans.push(Span::styled(format!(" {help}  "), theme.dim));
    }
    spans.extend(hint_spans);
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status_bar),
        area,
    );
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
