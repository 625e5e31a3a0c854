//! The jobs screen: every bulk export with its live state, and the selected one's manifest and
//! download progress. Shows only what the server says: no invented percentages.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Clear, Gauge, Paragraph, Row, Table, TableState, Wrap,
};

use super::Theme;
use super::overlays::centered;
use crate::app::App;
use crate::app::jobs::DownloadState;
use crate::text::human_size;
use crate::tui::widgets::{SPINNER, shorten};
use crate::worker::auth::jwt::human;
use crate::worker::export::{ExportJob, JobState};

fn since(t: std::time::SystemTime) -> u64 {
    std::time::SystemTime::now()
        .duration_since(t)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn ago(t: Option<std::time::SystemTime>) -> String {
    match t {
        Some(t) => format!("{} ago", human(since(t))),
        None => "—".into(),
    }
}

/// The URL from its path on (`/$export?_type=Patient`), or the whole text when it has no host.
fn url_path(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url)
}

fn state_style(theme: &Theme, s: JobState) -> ratatui::style::Style {
    match s {
        JobState::Complete => theme.ok,
        JobState::Failed => theme.error,
        JobState::Cancelled => theme.dim,
        _ => theme.warning,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, selected: usize, theme: &Theme) {
    let r = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(" Bulk export jobs ", theme.title_focused));
    let inner = block.inner(r).inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(block, r);
    let spinner = SPINNER[(app.frame % SPINNER.len() as u64) as usize];
    if app.jobs.is_empty() {
        let lines = vec![
            Line::raw(""),
            Line::styled(
                "No export jobs yet. Send a $export request (like the seeded Export): when the server",
                theme.text,
            ),
            Line::styled(
                "answers 202 with a Content-Location, the job appears here and is polled live.",
                theme.text,
            ),
            Line::raw(""),
            Line::styled("Esc closes.", theme.dim),
        ];
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let list_h = (app.jobs.len() as u16 + 1).min(inner.height / 2).max(2);
    let [list, detail, hints] = Layout::vertical([
        Constraint::Length(list_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let now = std::time::SystemTime::now();
    // Narrow screens keep what tells the jobs apart and how far they are (state, kick-off,
    // elapsed, polls, progress) instead of squeezing every column into a stub.
    let all_widths = [
        Constraint::Length(12),
        Constraint::Fill(1), // replaced by the kick-off width below
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(11),
        Constraint::Length(10),
        Constraint::Min(26),
    ];
    let wide = list.width >= 110;
    let keep: &[usize] = if wide {
        &[0, 1, 2, 3, 4, 5, 6, 7]
    } else {
        &[0, 1, 3, 7]
    };
    // The kick-off column's share of the width (the other columns are fixed, one space apart).
    let fixed: usize = if wide {
        12 + 9 + 9 + 6 + 11 + 10 + 26 + 7
    } else {
        12 + 9 + 26 + 3
    };
    let kickoff_width = (list.width as usize).saturating_sub(fixed).max(8);
    let pick = |cells: Vec<Line<'static>>| -> Vec<Line<'static>> {
        cells
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, c)| c)
            .collect()
    };
    let rows: Vec<Row> = app
        .jobs
        .iter()
        .map(|j| {
            let running = !j.state.is_terminal();
            let progress = match (&j.progress, running) {
                (Some(p), _) => p.to_string(),
                (None, true) => format!("{spinner} running (no X-Progress)"),
                (None, false) => String::new(),
            };
            let next = j
                .next_poll_at
                .filter(|_| running)
                .map(|t| {
                    format!(
                        "in {}",
                        human(t.duration_since(now).map(|d| d.as_secs()).unwrap_or(0))
                    )
                })
                .unwrap_or_else(|| "—".into());
            Row::new(pick(vec![
                Line::styled(j.state.label().to_string(), state_style(theme, j.state)),
                Line::raw(if j.kickoff_url.chars().count() <= kickoff_width {
                    j.kickoff_url.clone()
                } else {
                    // The job's server is the environment's: the path says which export it is.
                    shorten(url_path(&j.kickoff_url), kickoff_width)
                }),
                Line::raw(
                    chrono::DateTime::<chrono::Local>::from(j.kicked_off_at)
                        .format("%H:%M:%S")
                        .to_string(),
                ),
                Line::raw(human(since(j.kicked_off_at))),
                Line::raw(j.polls.to_string()),
                Line::raw(ago(j.last_poll_at)),
                Line::raw(next),
                Line::raw(progress),
            ]))
        })
        .collect();
    let header = Row::new(pick(
        [
            "state",
            "kick-off",
            "started",
            "elapsed",
            "polls",
            "last poll",
            "next poll",
            "progress",
        ]
        .into_iter()
        .map(Line::raw)
        .collect(),
    ))
    .style(theme.header_name.add_modifier(Modifier::BOLD));
    let widths: Vec<Constraint> = keep
        .iter()
        .map(|&i| match i {
            1 => Constraint::Length(kickoff_width as u16),
            _ => all_widths[i],
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(theme.selected);
    let mut st = TableState::default().with_selected(Some(selected.min(app.jobs.len() - 1)));
    frame.render_stateful_widget(table, list, &mut st);
    if let Some(job) = app.jobs.get(selected.min(app.jobs.len() - 1)) {
        details(frame, detail, app, job, theme);
    }
    frame.render_widget(
        Paragraph::new(Line::styled(
            if hints.width >= 92 {
                "j/k choose · n new · x cancel · Tab, space pick outputs · D download · d remove · Esc close"
            } else {
                "j/k · n new · x cancel · Tab/space pick · D download · d remove · Esc"
            },
            theme.dim,
        )),
        hints,
    );
}

fn details(frame: &mut Frame, area: Rect, app: &App, job: &ExportJob, theme: &Theme) {
    let mut lines = vec![
        Line::raw(""),
        Line::from(vec![
            Span::styled("status URL  ", theme.dim),
            Span::raw(job.status_url.clone()),
        ]),
    ];
    if let Some(e) = &job.last_error {
        lines.push(Line::styled(format!("last problem: {e}"), theme.warning));
    }
    if let Some(o) = &job.outcome {
        lines.push(Line::styled(format!("server says: {o}"), theme.error));
    }
    let mut gauge_ratio = job.progress.as_ref().and_then(|p| p.ratio());
    let mut gauge_label = None;
    if let Some(m) = &job.manifest {
        lines.push(Line::from(vec![
            Span::styled("transactionTime  ", theme.dim),
            Span::raw(m.transaction_time.clone().unwrap_or_default()),
            Span::styled(
                format!("   requiresAccessToken {}", m.requires_access_token),
                theme.dim,
            ),
        ]));
        lines.push(Line::styled(
            format!("{:<24}{:>10}  url", "type", "count"),
            theme.header_name.add_modifier(Modifier::BOLD),
        ));
        let view = Some(&app.outputs).filter(|v| v.job.as_deref() == Some(job.id.as_str()));
        for (i, o) in m.output.iter().enumerate() {
            let picked = view.is_some_and(|v| v.picked.contains(&i));
            let cursor = view.is_some_and(|v| v.focus && v.row == i);
            let text = format!(
                "{} {:<24}{:>10}  {}",
                if picked { "[x]" } else { "[ ]" },
                o.type_,
                o.count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                o.url
            );
            lines.push(Line::styled(
                text,
                if cursor { theme.selected } else { theme.text },
            ));
        }
        lines.push(Line::styled(
            "Tab moves into the outputs · space picks · D downloads the picked ones (none picked: all)",
            theme.dim,
        ));
        for e in &m.error {
            lines.push(Line::styled(format!("error file: {e:?}"), theme.error));
        }
    }
    match app.downloads.get(&job.id) {
        Some(DownloadState::Running(p)) => {
            if let Some(p) = p.as_ref().filter(|p| p.all_total_known && p.all_total > 0) {
                gauge_ratio = Some(p.all_done as f64 / p.all_total as f64);
                gauge_label = Some(format!(
                    "download {} of {} · {}/s",
                    human_size(p.all_done as usize),
                    human_size(p.all_total as usize),
                    human_size(p.bytes_per_sec as usize)
                ));
            }
            let text = match p {
                Some(p) => format!(
                    "downloading {} · {} of {} · {}/s",
                    p.name,
                    human_size(p.all_done as usize),
                    if p.all_total_known {
                        human_size(p.all_total as usize)
                    } else {
                        "?".into()
                    },
                    human_size(p.bytes_per_sec as usize)
                ),
                None => "starting the download…".into(),
            };
            lines.push(Line::styled(text, theme.warning));
            for (name, (done, total)) in app.file_progress.get(&job.id).into_iter().flatten() {
                let bar = match total {
                    Some(t) if *t > 0 => {
                        let filled =
                            ((*done as f64 / *t as f64) * 20.0).round().clamp(0.0, 20.0) as usize;
                        format!(
                            "[{}{}] {} of {}",
                            "█".repeat(filled),
                            "·".repeat(20 - filled),
                            human_size(*done as usize),
                            human_size(*t as usize)
                        )
                    }
                    _ => format!("[{}] {}", "·".repeat(20), human_size(*done as usize)),
                };
                lines.push(Line::styled(format!("  {bar}  {name}"), theme.text));
            }
        }
        Some(DownloadState::Done(Ok(r))) => {
            lines.push(Line::styled(
                format!("downloaded into {}", r.dir.display()),
                theme.ok,
            ));
            for f in &r.files {
                let style = if f.error.is_some() || f.count_mismatch() {
                    theme.error
                } else {
                    theme.text
                };
                let note = f
                    .error
                    .clone()
                    .or_else(|| f.mismatch_note())
                    .unwrap_or_else(|| "ok".into());
                lines.push(Line::styled(
                    format!(
                        "  {}  {}  {} lines  {note}",
                        f.path.display(),
                        human_size(f.bytes as usize),
                        f.lines.unwrap_or(0)
                    ),
                    style,
                ));
            }
        }
        Some(DownloadState::Done(Err(e))) => lines.push(Line::styled(e.clone(), theme.error)),
        None => {}
    }
    let [gauge_row, text] = Layout::vertical([
        Constraint::Length(if gauge_ratio.is_some() { 1 } else { 0 }),
        Constraint::Fill(1),
    ])
    .areas(area);
    if let Some(ratio) = gauge_ratio {
        let mut gauge = Gauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .gauge_style(theme.accent);
        if let Some(label) = gauge_label {
            gauge = gauge.label(label);
        }
        frame.render_widget(gauge, gauge_row);
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text);
}

/// The kick-off form: fixed fields, a checklist of resource types, and Start.
pub fn draw_form(
    frame: &mut Frame,
    area: Rect,
    form: &crate::app::export_form::ExportForm,
    theme: &Theme,
) {
    use crate::app::export_form::FIELD_ROWS;
    let r = centered(area, 90, area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(" Start a bulk export ", theme.title_focused));
    let inner = block.inner(r).inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(block, r);
    let rows = form.rows();
    // Fixed fields, the types title, the checklist (with Start), the hints.
    let mut constraints: Vec<Constraint> = vec![Constraint::Length(1); FIELD_ROWS.len() + 1];
    constraints.push(Constraint::Fill(1));
    constraints.push(Constraint::Length(1));
    let areas = Layout::vertical(constraints).split(inner);
    let label_style = |row: usize| {
        if form.row == row {
            theme.selected
        } else {
            theme.header_name
        }
    };
    for (i, name) in FIELD_ROWS.iter().enumerate() {
        let [l, v] =
            Layout::horizontal([Constraint::Length(16), Constraint::Fill(1)]).areas(areas[i]);
        frame.render_widget(
            Paragraph::new(Span::styled(format!("{name:<15}"), label_style(i))),
            l,
        );
        if i == 0 {
            let choices = [
                "system ($export)",
                "all patients (Patient/$export)",
                "a group (Group/{id}/$export)",
            ];
            let spans: Vec<Span> = choices
                .iter()
                .enumerate()
                .flat_map(|(k, c)| {
                    let style = if k == form.scope {
                        theme.tab_active
                    } else {
                        theme.dim
                    };
                    [Span::styled(c.to_string(), style), Span::raw("   ")]
                })
                .collect();
            frame.render_widget(Paragraph::new(Line::from(spans)), v);
        } else {
            let t = match i {
                1 => &form.group,
                2 => &form.since,
                3 => &form.type_filter,
                4 => &form.container,
                _ => &form.output_format,
            };
            let mut t = t.clone();
            t.set_cursor_line_style(ratatui::style::Style::new());
            if form.row != i {
                t.set_cursor_style(theme.dim);
            }
            frame.render_widget(&t, v);
        }
    }
    let types_title = if form.types_from_server {
        "_type — from the server's CapabilityStatement (none picked: all)"
    } else {
        "_type — common types; send Capability statement to list the server's own (none picked: all)"
    };
    frame.render_widget(
        Paragraph::new(Span::styled(types_title, theme.dim)),
        areas[FIELD_ROWS.len()],
    );
    // The type checklist in columns on the remaining rows would be long: show a window around the cursor.
    let list_area = areas[FIELD_ROWS.len() + 1];
    let first_type = FIELD_ROWS.len();
    let per = list_area.height.max(1) as usize;
    let cur = form
        .row
        .saturating_sub(first_type)
        .min(form.types.len().saturating_sub(1));
    let start = cur.saturating_sub(per.saturating_sub(1));
    let lines: Vec<Line> = form
        .types
        .iter()
        .enumerate()
        .skip(start)
        .take(per.saturating_sub(1))
        .map(|(k, (t, on))| {
            let style = if form.row == first_type + k {
                theme.selected
            } else {
                theme.text
            };
            Line::styled(format!("[{}] {t}", if *on { "x" } else { " " }), style)
        })
        .chain(std::iter::once(Line::styled(
            "  Start export (Enter)",
            if form.row == rows - 1 {
                theme.selected
            } else {
                theme.key_hint
            },
        )))
        .collect();
    frame.render_widget(Paragraph::new(lines), list_area);
    frame.render_widget(
        Paragraph::new(Line::styled(
            "↑↓/Tab move · type in fields · space picks (scope, types) · Enter on Start or Ctrl-R starts · Esc cancels",
            theme.dim,
        )),
        areas[FIELD_ROWS.len() + 2],
    );
}
