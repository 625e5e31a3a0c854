//! The collections tree: collections, folders and saved requests.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

use crate::app::{App, Pane, RowKind};
use crate::tui::style::Theme;
use crate::tui::widgets::{SPINNER, pane_block};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let block = pane_block(Pane::Collections, "", focused, theme);
    let rows = app.tree_rows();
    if rows.is_empty() {
        let p = Paragraph::new(vec![Line::styled(
            "No collections. Press c to create one.",
            theme.dim,
        )])
        .block(block);
        frame.render_widget(p, area);
        return;
    }
    let items: Vec<ListItem> = rows
        .iter()
        .map(|row| {
            let indent = "  ".repeat(row.depth);
            let mut spans = vec![Span::raw(indent)];
            match row.kind {
                RowKind::Collection | RowKind::Folder => {
                    spans.push(Span::styled(
                        if row.expanded { "▾ " } else { "▸ " },
                        theme.dim,
                    ));
                    let style = if row.kind == RowKind::Collection {
                        theme.accent
                    } else {
                        theme.text
                    };
                    spans.push(Span::styled(row.name.clone(), style));
                }
                RowKind::Request => {
                    spans.push(Span::styled(
                        format!("{:<6} ", short_method(&row.method)),
                        theme.method(&row.method),
                    ));
                    spans.push(Span::styled(row.name.clone(), theme.text));
                    if app.editors.get(&row.path).is_some_and(|e| e.dirty()) {
                        spans.push(Span::styled(" *", theme.warning));
                    }
                    if app.in_flight.values().any(|f| f.path == row.path) {
                        let s = SPINNER[(app.frame % SPINNER.len() as u64) as usize];
                        spans.push(Span::styled(format!(" {s}"), theme.warning));
                    } else if let Some(code) =
                        app.responses.get(&row.path).and_then(|r| match &r.outcome {
                            crate::app::response::Outcome::Received { response, .. } => {
                                Some(response.status)
                            }
                            crate::app::response::Outcome::Failed(_) => None,
                        })
                    {
                        spans.push(Span::styled(format!(" {code}"), theme.status_code(code)));
                    }
                    if app.open.as_ref() == Some(&row.path) {
                        spans.push(Span::styled(" ◂", theme.accent));
                    }
                }
            }
            ListItem::new(Line::from(spans))
        })
        .collect();
    let list = List::new(items).block(block).highlight_style(if focused {
        theme.selected
    } else {
        theme.selected_unfocused
    });
    let mut state = ListState::default().with_selected(Some(app.tree_selected.min(rows.len() - 1)));
    frame.render_stateful_widget(list, area, &mut state);
}

fn short_method(m: &str) -> &str {
    match m {
        "DELETE" => "DEL",
        "OPTIONS" => "OPT",
        m => m,
    }
}
