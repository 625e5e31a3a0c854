//! Dialogs drawn over the panes: help, load problems, palette, confirmations, prompts, pickers
//! and the environment variables editor.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Clear, List, ListItem, ListState, Paragraph, Row, Table,
    TableState, Wrap,
};
use ratatui_textarea::TextArea;

use super::Theme;
use super::widgets::mask;
use crate::app::keymap::{BINDINGS, Ctx};
use crate::app::{App, Overlay};
use crate::workspace::METHODS;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(overlay) = &app.overlay else { return };
    match overlay {
        Overlay::Help { scroll } => help(frame, area, *scroll, theme),
        Overlay::Problems { scroll } => problems(frame, area, app, *scroll, theme),
        Overlay::Palette { input, selected } => palette(frame, area, app, input, *selected, theme),
        Overlay::Confirm { message, .. } => {
            let r = centered(area, 64, 7);
            let block = dialog_block("Confirm", theme);
            let lines = vec![
                Line::raw(""),
                Line::styled(message.clone(), theme.text),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("y", theme.key_hint),
                    Span::styled(" yes   ", theme.dim),
                    Span::styled("n", theme.key_hint),
                    Span::styled(" / Esc no", theme.dim),
                ]),
            ];
            frame.render_widget(Clear, r);
            frame.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                r,
            );
        }
        Overlay::Prompt { title, input, .. } => {
            let r = centered(area, 60, 5);
            frame.render_widget(Clear, r);
            let block = dialog_block(title, theme);
            let inner = block.inner(r);
            frame.render_widget(block, r);
            let [field, hint] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)])
                .areas(inner.inner(ratatui::layout::Margin::new(1, 1)));
            input_field(frame, field, input, true, theme);
            frame.render_widget(
                Paragraph::new(Line::styled("Enter confirms · Esc cancels", theme.dim)),
                hint,
            );
        }
        Overlay::KeyValue {
            title,
            key,
            value,
            on_key,
            ..
        } => {
            let r = centered(area, 72, 8);
            frame.render_widget(Clear, r);
            let block = dialog_block(title, theme);
            let inner = block.inner(r).inner(ratatui::layout::Margin::new(1, 1));
            frame.render_widget(block, r);
            let [k_row, v_row, _, hint] = Layout::vertical([Constraint::Length(1); 4]).areas(inner);
            let [kl, kf] =
                Layout::horizontal([Constraint::Length(8), Constraint::Fill(1)]).areas(k_row);
            let [vl, vf] =
                Layout::horizontal([Constraint::Length(8), Constraint::Fill(1)]).areas(v_row);
            frame.render_widget(
                Paragraph::new(Span::styled(
                    "name",
                    if *on_key { theme.accent } else { theme.dim },
                )),
                kl,
            );
            frame.render_widget(
                Paragraph::new(Span::styled(
                    "value",
                    if *on_key { theme.dim } else { theme.accent },
                )),
                vl,
            );
            input_field(frame, kf, key, *on_key, theme);
            input_field(frame, vf, value, !*on_key, theme);
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "Tab switches field · Enter saves · Esc cancels",
                    theme.dim,
                )),
                hint,
            );
        }
        Overlay::Method { selected } => {
            let r = centered(area, 24, METHODS.len() as u16 + 2);
            frame.render_widget(Clear, r);
            let items: Vec<ListItem> = METHODS
                .iter()
                .map(|m| ListItem::new(Span::styled(*m, theme.method(m))))
                .collect();
            let list = List::new(items)
                .block(dialog_block("Method", theme))
                .highlight_style(theme.selected);
            let mut st = ListState::default().with_selected(Some(*selected));
            frame.render_stateful_widget(list, r, &mut st);
        }
        Overlay::Move {
            targets,
            selected,
            from,
            ..
        } => {
            let r = centered(area, 60, (targets.len() as u16 + 2).min(20));
            frame.render_widget(Clear, r);
            let items: Vec<ListItem> = targets.iter().map(|t| ListItem::new(t.display())).collect();
            let list = List::new(items)
                .block(dialog_block(&format!("Move '{}' to…", from.last()), theme))
                .highlight_style(theme.selected);
            let mut st = ListState::default().with_selected(Some(*selected));
            frame.render_stateful_widget(list, r, &mut st);
        }
        Overlay::EnvEditor { env, row, reveal } => {
            env_editor(frame, area, app, env, *row, *reveal, theme)
        }
    }
}

fn dialog_block<'a>(title: &str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(format!(" {title} "), theme.title_focused))
}

fn input_field(
    frame: &mut Frame,
    area: Rect,
    input: &TextArea<'static>,
    active: bool,
    theme: &Theme,
) {
    let mut t = input.clone();
    t.set_cursor_line_style(Style::new());
    if active {
        t.set_style(theme.text.add_modifier(Modifier::UNDERLINED));
        t.set_cursor_style(Style::new().add_modifier(Modifier::REVERSED));
    } else {
        t.set_style(theme.dim);
        t.set_cursor_style(theme.dim);
    }
    frame.render_widget(&t, area);
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

fn help(frame: &mut Frame, area: Rect, scroll: u16, theme: &Theme) {
    let r = centered(area, 78, area.height.saturating_sub(4));
    frame.render_widget(Clear, r);
    let mut lines = Vec::new();
    for ctx in [
        Ctx::Global,
        Ctx::Environments,
        Ctx::EnvEditor,
        Ctx::Collections,
        Ctx::Request,
        Ctx::Response,
    ] {
        lines.push(Line::styled(
            ctx.title(),
            theme.accent.add_modifier(Modifier::BOLD),
        ));
        for b in BINDINGS.iter().filter(|b| b.ctx == ctx) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<20}", b.keys.join(", ")), theme.key_hint),
                Span::styled(b.help, theme.text),
            ]));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        "While editing the URL or body",
        theme.accent.add_modifier(Modifier::BOLD),
    ));
    lines.push(Line::from(vec![
        Span::styled(format!("  {:<20}", "enter / esc"), theme.key_hint),
        Span::raw("finish the URL / stop editing the body"),
    ]));
    lines.push(Line::from(vec![
        Span::styled(format!("  {:<20}", "ctrl-r, ctrl-s"), theme.key_hint),
        Span::raw("send / save without leaving the editor"),
    ]));
    let block = dialog_block("Keys — j/k scroll, Esc closes", theme);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), r);
}

fn problems(frame: &mut Frame, area: Rect, app: &App, scroll: u16, theme: &Theme) {
    let r = centered(
        area,
        90,
        (app.problems.len() as u16 * 2 + 6).min(area.height.saturating_sub(2)),
    );
    frame.render_widget(Clear, r);
    let mut lines = vec![
        Line::styled(
            "These files could not be loaded. They were skipped and will not be written over:",
            theme.text,
        ),
        Line::raw(""),
    ];
    for p in &app.problems {
        lines.push(Line::styled(format!("• {p}"), theme.error));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Fix them in an editor and restart fhirside. Esc closes this.",
        theme.dim,
    ));
    let block = dialog_block("Workspace problems", theme);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        r,
    );
}

fn palette(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    input: &TextArea<'static>,
    selected: usize,
    theme: &Theme,
) {
    let r = centered(area, 80, area.height.saturating_sub(6).min(22));
    frame.render_widget(Clear, r);
    let block = dialog_block("Go to — type to filter, Enter opens", theme);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let [field, list_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let [prompt, f] = Layout::horizontal([Constraint::Length(2), Constraint::Fill(1)]).areas(field);
    frame.render_widget(Paragraph::new(Span::styled("› ", theme.accent)), prompt);
    input_field(frame, f, input, true, theme);
    let items = app.palette_items(&input.lines().join(""));
    let list_items: Vec<ListItem> = items
        .iter()
        .map(|it| {
            ListItem::new(Line::from(vec![
                Span::styled(format!("{:<12}", it.kind_label()), theme.dim),
                Span::styled(it.label.clone(), theme.text),
            ]))
        })
        .collect();
    let list = List::new(list_items).highlight_style(theme.selected);
    let mut st = ListState::default()
        .with_selected((!items.is_empty()).then_some(selected.min(items.len().saturating_sub(1))));
    frame.render_stateful_widget(list, list_area, &mut st);
}

fn env_editor(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    env: &str,
    row: usize,
    reveal: bool,
    theme: &Theme,
) {
    let r = centered(area, 100, area.height.saturating_sub(4));
    frame.render_widget(Clear, r);
    let active = app.active_env.as_deref() == Some(env);
    let title = format!(
        "Environment '{env}'{} — variables",
        if active { " (active)" } else { "" }
    );
    let block = dialog_block(&title, theme);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let Some(e) = app.ws.environment(env) else {
        return;
    };
    let [table_area, hint] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(2)]).areas(inner);
    let rows: Vec<Row> = e
        .variables
        .iter()
        .map(|v| {
            let session = app
                .session_vars
                .iter()
                .rev()
                .find(|(k, _)| k == &v.key)
                .filter(|_| active);
            let (value, note) = match session {
                Some((_, val)) => (mask(val, true, reveal), "  (captured this session)"),
                None => (mask(&v.value, v.secret, reveal), ""),
            };
            let style = if v.enabled {
                theme.text
            } else {
                theme.dim.add_modifier(Modifier::CROSSED_OUT)
            };
            Row::new(vec![
                Line::styled(
                    if v.enabled { "✓" } else { "·" },
                    if v.enabled { theme.ok } else { theme.dim },
                ),
                Line::styled(
                    v.key.clone(),
                    if v.enabled { theme.header_name } else { style },
                ),
                Line::from(vec![
                    Span::styled(value, style),
                    Span::styled(note, theme.dim),
                ]),
                Line::styled(if v.secret { "secret" } else { "" }, theme.warning),
            ])
        })
        .collect();
    let header = Row::new(vec!["", "name", "value", ""]).style(theme.dim);
    let table = Table::new(
        rows,
        [
            Constraint::Length(2),
            Constraint::Length(18),
            Constraint::Fill(1),
            Constraint::Length(7),
        ],
    )
    .header(header)
    .row_highlight_style(theme.selected);
    let mut st = TableState::default().with_selected(
        (!e.variables.is_empty()).then_some(row.min(e.variables.len().saturating_sub(1))),
    );
    frame.render_stateful_widget(table, table_area, &mut st);
    let hints = Line::from(vec![
        Span::styled("Enter", theme.key_hint),
        Span::styled(" edit  ", theme.dim),
        Span::styled("a", theme.key_hint),
        Span::styled(" add  ", theme.dim),
        Span::styled("space", theme.key_hint),
        Span::styled(" on/off  ", theme.dim),
        Span::styled("s", theme.key_hint),
        Span::styled(" secret  ", theme.dim),
        Span::styled("v", theme.key_hint),
        Span::styled(if reveal { " hide  " } else { " reveal  " }, theme.dim),
        Span::styled("d", theme.key_hint),
        Span::styled(" delete  ", theme.dim),
        Span::styled("Esc", theme.key_hint),
        Span::styled(" close   ", theme.dim),
        Span::styled(
            "Saved as you go; secret values go to secrets.toml (0600).",
            theme.dim,
        ),
    ]);
    frame.render_widget(Paragraph::new(hints).wrap(Wrap { trim: true }), hint);
}
