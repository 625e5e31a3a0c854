//! The history screen: the list of recorded exchanges with the filter line, one entry's
//! request and response (in the same body viewer as live responses), or a diff of two bodies.

use crate::tui::keys::{Action, Ctx, Keymap};
use crate::tui::screens::response::ResponseKeys;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Clear, Paragraph, Row, Table, TableState, Wrap,
};

use super::{History, Loaded, Mode};
use crate::history::diff::DiffLine;
use crate::history::{Source, Summary};
use crate::text::human_size;
use crate::tui::screens::View;
use crate::tui::style::Theme;

fn when(at_ms: i64, today: chrono::NaiveDate) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms)
        .map(|t| {
            let t = t.with_timezone(&chrono::Local);
            if t.date_naive() == today {
                t.format("%H:%M:%S").to_string()
            } else {
                t.format("%b %d %H:%M").to_string()
            }
        })
        .unwrap_or_default()
}

impl History {
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        frame.render_widget(Clear, area);
        let usage = v.model.history.usage;
        let view = self;
        let title = match (&view.saved, &view.mode) {
            (_, Mode::Diff { old, new, .. }) => format!(" History · #{old} → #{new} "),
            (_, Mode::Detail { id, .. }) => format!(" History · entry #{id} "),
            (Some(s), _) => format!(" History of {s} (x: every request) "),
            (None, _) => format!(
                " History · {} kept ({}) ",
                usage.0,
                human_size(usage.1 as usize)
            ),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(theme.border_focused)
            .title(Span::styled(title, theme.title_focused));
        let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
        frame.render_widget(block, area);
        let [body, hints] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let hint: Vec<(String, &str)> = if view.editing_filter {
            vec![
                (
                    String::new(),
                    "words, GET, 4xx, err, env:NAME, since:2h, until:2026-11-28",
                ),
                (v.model.keymap.say(Ctx::Prompt, Action::Finish), "done"),
            ]
        } else {
            view.hints(&v.model.keymap)
        };
        // As many hints as fit, whole, in order of use.
        let mut spans = Vec::new();
        let mut used = 0;
        for (key, label) in &hint {
            let w = key.chars().count() + label.chars().count() + 3;
            if used + w > hints.width as usize {
                break;
            }
            used += w;
            if !key.is_empty() {
                spans.push(Span::styled(format!("{key} "), theme.key_hint));
            }
            spans.push(Span::styled(format!("{label}  "), theme.dim));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), hints);
        match &mut view.mode {
            Mode::List => list(frame, body, view, theme, &v.model.ws, &v.model.keymap),
            Mode::Detail {
                loaded,
                error,
                request_scroll,
                ..
            } => match (loaded, error) {
                (_, Some(e)) => frame.render_widget(
                    Paragraph::new(Line::styled(e.clone(), theme.error)).wrap(Wrap { trim: false }),
                    body,
                ),
                (Some(l), None) => {
                    let keys = ResponseKeys::for_history_entry(&v.model.keymap);
                    detail(frame, body, l, *request_scroll, theme, &keys)
                }
                (None, None) => {
                    frame.render_widget(Paragraph::new(Line::styled("Loading…", theme.dim)), body)
                }
            },
            Mode::Diff {
                diff,
                error,
                scroll,
                old,
                new,
            } => {
                let lines: Vec<Line> = match (diff, error) {
                    (_, Some(e)) => vec![Line::styled(e.clone(), theme.error)],
                    (None, None) => vec![Line::styled("Comparing…", theme.dim)],
                    (Some(d), None) if d.identical() => vec![Line::styled(
                        format!(
                            "The bodies of #{old} and #{new} are the same (after pretty-printing)."
                        ),
                        theme.ok,
                    )],
                    (Some(d), None) => {
                        let mut out = vec![Line::from(vec![
                            Span::styled(format!("#{old} → #{new}  "), theme.text),
                            Span::styled(format!("−{} ", d.removed), theme.error),
                            Span::styled(format!("+{}", d.added), theme.ok),
                        ])];
                        out.extend(d.lines.iter().skip(*scroll).take(body.height as usize).map(
                            |l| match l {
                                DiffLine::Hunk(h) => Line::styled(h.clone(), theme.accent),
                                DiffLine::Same(t) => Line::styled(format!("  {t}"), theme.dim),
                                DiffLine::Removed(t) => Line::styled(format!("- {t}"), theme.error),
                                DiffLine::Added(t) => Line::styled(format!("+ {t}"), theme.ok),
                            },
                        ));
                        out
                    }
                };
                frame.render_widget(Paragraph::new(lines), body);
            }
        }
    }
}

fn list(
    frame: &mut Frame,
    area: Rect,
    view: &History,
    theme: &Theme,
    ws: &crate::workspace::Workspace,
    keymap: &Keymap,
) {
    let [filter_row, table_area] =
        Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(area);
    let [filter_line, note_line] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(filter_row);
    let [label, field] =
        Layout::horizontal([Constraint::Length(8), Constraint::Fill(1)]).areas(filter_line);
    frame.render_widget(
        Paragraph::new(Span::styled(
            "filter ",
            if view.editing_filter {
                theme.key_hint
            } else {
                theme.dim
            },
        )),
        label,
    );
    let text = view.filter_text();
    if view.editing_filter {
        view.filter.draw(frame, field, true, theme);
    } else if text.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "(none: {} to filter)",
                    keymap.say(Ctx::History, Action::Filter)
                ),
                theme.dim,
            )),
            field,
        );
    } else {
        frame.render_widget(Paragraph::new(Line::styled(text, theme.text)), field);
    }
    let note = if let Some(e) = &view.filter_error {
        Line::styled(e.clone(), theme.error)
    } else if let Some(e) = &view.error {
        Line::styled(e.clone(), theme.error)
    } else if view.loading && view.rows.is_empty() {
        Line::styled("Loading…", theme.dim)
    } else {
        let mark = view
            .mark
            .map(|m| format!(" · #{m} marked for comparing"))
            .unwrap_or_default();
        let count = if view.rows.len() >= super::LIST_LIMIT {
            format!("newest {} shown", view.rows.len())
        } else {
            format!(
                "{} entr{}",
                view.rows.len(),
                if view.rows.len() == 1 { "y" } else { "ies" }
            )
        };
        Line::styled(format!("{count}{mark}"), theme.dim)
    };
    frame.render_widget(Paragraph::new(note), note_line);
    if view.rows.is_empty() && !view.loading {
        let msg = if view.filter_text().trim().is_empty() {
            format!(
                "Nothing recorded yet: every request you send ({}, the browser, fhirside run) is kept here, secrets removed.",
                keymap.say(Ctx::Global, Action::Send)
            )
        } else {
            "No entry matches the filter.".to_string()
        };
        frame.render_widget(
            Paragraph::new(Line::styled(msg, theme.dim)).wrap(Wrap { trim: false }),
            table_area,
        );
        return;
    }
    let today = chrono::Local::now().date_naive();
    let wide = table_area.width >= 100;
    let rows: Vec<Row> = view
        .rows
        .iter()
        .map(|r| {
            let base = r
                .env
                .as_deref()
                .and_then(|e| ws.environment(e))
                .and_then(|e| e.get("fhirurl"));
            row(r, view, theme, today, wide, base)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(6),
        Constraint::Length(if today_only(&view.rows, today) { 8 } else { 12 }),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(9),
    ];
    let mut header = vec!["#", "when", "method", "st", "time", "size"];
    if wide {
        widths.push(Constraint::Length(12));
        header.push("env");
    }
    widths.push(Constraint::Fill(1));
    header.push("url · saved request");
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.header_name.add_modifier(Modifier::BOLD)))
        .row_highlight_style(theme.selected);
    let mut st = TableState::default().with_selected(Some(view.selected));
    frame.render_stateful_widget(table, table_area, &mut st);
}

fn today_only(rows: &[Summary], today: chrono::NaiveDate) -> bool {
    rows.iter().all(|r| {
        chrono::DateTime::from_timestamp_millis(r.at_ms)
            .is_some_and(|t| t.with_timezone(&chrono::Local).date_naive() == today)
    })
}

fn row<'a>(
    r: &Summary,
    view: &History,
    theme: &Theme,
    today: chrono::NaiveDate,
    wide: bool,
    base: Option<&str>,
) -> Row<'a> {
    let status = match r.status {
        Some(s) => Span::styled(s.to_string(), theme.status_code(s)),
        None => Span::styled("ERR", theme.error),
    };
    let id = if view.mark == Some(r.id) {
        Span::styled(format!("*{}", r.id), theme.accent)
    } else {
        Span::styled(r.id.to_string(), theme.dim)
    };
    // Under the environment's FHIR base, the rest of the URL is what tells rows apart (so the
    // saved request's name fits); narrow, the path and query say more than the host.
    let relative = base
        .map(|b| b.trim().trim_end_matches('/'))
        .filter(|b| !b.is_empty())
        .and_then(|b| r.url.strip_prefix(b))
        .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
    let shown = if let Some(rest) = relative {
        if rest.is_empty() {
            "/".to_string()
        } else {
            rest.to_string()
        }
    } else if wide {
        r.url.clone()
    } else {
        url::Url::parse(&r.url)
            .ok()
            .filter(|u| u.has_host())
            .map(|u| {
                let q = u.query().map(|q| format!("?{q}")).unwrap_or_default();
                format!("{}{q}", u.path())
            })
            .unwrap_or_else(|| r.url.clone())
    };
    let mut url = vec![Span::styled(shown, theme.text)];
    if let Some(s) = &r.saved {
        url.push(Span::styled(format!("  ({s})"), theme.dim));
    }
    if r.source != Source::Request {
        url.push(Span::styled(
            format!("  [{}]", r.source.as_str()),
            theme.dim,
        ));
    }
    let mut cells = vec![
        Line::from(id),
        Line::styled(when(r.at_ms, today), theme.text),
        Line::styled(r.method.clone(), theme.method(&r.method)),
        Line::from(status),
        Line::styled(format!("{} ms", r.elapsed_ms), theme.dim),
        Line::styled(
            if r.status.is_some() {
                human_size(r.size as usize)
            } else {
                String::new()
            },
            theme.dim,
        ),
    ];
    if wide {
        cells.push(Line::styled(r.env.clone().unwrap_or_default(), theme.dim));
    }
    cells.push(Line::from(url));
    Row::new(cells)
}

fn detail(
    frame: &mut Frame,
    area: Rect,
    l: &mut Loaded,
    request_scroll: u16,
    theme: &Theme,
    keys: &ResponseKeys,
) {
    let e = &l.entry;
    let mut req: Vec<Line> = vec![Line::from(vec![
        Span::styled(
            format!("{} ", e.summary.method),
            theme.method(&e.summary.method),
        ),
        Span::styled(e.summary.url.clone(), theme.text),
    ])];
    let meta = format!(
        "{} · env {} · {}{}",
        chrono::DateTime::from_timestamp_millis(e.summary.at_ms)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default(),
        e.summary.env.as_deref().unwrap_or("none"),
        e.summary.source.as_str(),
        e.summary
            .saved
            .as_ref()
            .map(|s| format!(" · {s}"))
            .unwrap_or_default()
    );
    req.push(Line::styled(meta, theme.dim));
    for (k, v) in &e.request_headers {
        req.push(Line::from(vec![
            Span::styled(format!("{k}: "), theme.header_name),
            Span::styled(v.clone(), theme.text),
        ]));
    }
    if let Some(b) = &e.request_body {
        req.push(Line::raw(""));
        for line in String::from_utf8_lossy(b).lines().take(200) {
            req.push(Line::styled(line.to_string(), theme.text));
        }
    }
    let wanted = req.len() as u16 + 2;
    let req_h = wanted.min(area.height / 3).max(3);
    let [req_area, resp_area] =
        Layout::vertical([Constraint::Length(req_h), Constraint::Fill(1)]).areas(area);
    let block = Block::default()
        .borders(Borders::BOTTOM)
        .border_style(theme.border)
        .title_bottom(Span::styled(" response ", theme.dim));
    let req_inner = block.inner(req_area);
    frame.render_widget(block, req_area);
    let scroll = request_scroll.min(req.len().saturating_sub(1) as u16);
    frame.render_widget(Paragraph::new(req).scroll((scroll, 0)), req_inner);
    // A recorded entry is whole: nothing animates, so the tick does not matter.
    crate::tui::screens::response::draw_view(frame, resp_area, &mut l.view, theme, 0, keys);
}
