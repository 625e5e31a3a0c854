//! The environments list: which one is active, and a way into its variables.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};

use crate::app::{App, Pane};
use crate::tui::style::Theme;
use crate::tui::widgets::pane_block;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let block = pane_block(Pane::Environments, "", focused, theme);
    if app.ws.environments.is_empty() {
        let p = ratatui::widgets::Paragraph::new(vec![Line::styled(
            "No environments. Press a to add one.",
            theme.dim,
        )])
        .block(block);
        frame.render_widget(p, area);
        return;
    }
    let items: Vec<ListItem> = app
        .ws
        .environments
        .iter()
        .map(|env| {
            let active = app.active_env.as_deref() == Some(env.name.as_str());
            let marker = if active { "● " } else { "  " };
            let mut spans = vec![
                Span::styled(marker, theme.ok),
                Span::styled(
                    env.name.clone(),
                    if active { theme.accent } else { theme.text },
                ),
            ];
            spans.push(Span::styled(
                format!("  {} vars", env.variables.len()),
                theme.dim,
            ));
            if env.insecure {
                spans.push(Span::styled("  ⚠ insecure TLS", theme.error));
            }
            ListItem::new(Line::from(spans))
        })
        .collect();
    let list = List::new(items).block(block).highlight_style(if focused {
        theme.selected
    } else {
        theme.selected_unfocused
    });
    let mut state = ListState::default().with_selected(Some(app.env_selected));
    frame.render_stateful_widget(list, area, &mut state);
}
