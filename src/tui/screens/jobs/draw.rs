//! The jobs screen: every bulk export with its live state, and the selected one's manifest and
//! download progress. Shows only what the server says: no invented percentages.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Clear, Gauge, Paragraph, Row, Table, TableState, Wrap,
};

use super::export_form::{ExportForm, FIELD_ROWS};
use super::{Jobs, plural};
use crate::text::human_size;
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::{DownloadState, Model};
use crate::tui::screens::View;
use crate::tui::screens::dialogs::centered;
use crate::tui::style::Theme;
use crate::tui::widgets::{SPINNER, hint_spans, shorten};
use crate::worker::auth::jwt::human;
use crate::worker::export::{ExportJob, JobState, OpKind, OpResult};

/// A running job that shows no change for this long gets "no progress for N min".
pub(super) const QUIET_HINT_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// The status part of a last answer ("202 Accepted · X-Progress: …" → "202 Accepted").
fn short_answer(a: &str) -> String {
    a.split(" · ").next().unwrap_or(a).to_string()
}

/// An ended job's result in a few words (the progress column).
pub(super) fn result_summary(j: &ExportJob) -> String {
    match &j.result {
        Some(OpResult::Import { output, error, .. }) => {
            let n: u64 = output.iter().filter_map(|o| o.count).sum();
            let bad: u64 = error.iter().filter_map(|o| o.count).sum();
            format!("{n} imported, {bad} failed")
        }
        Some(OpResult::BulkDelete { deleted, .. }) => {
            let n: u64 = deleted.iter().map(|d| d.count).sum();
            format!("{n} deleted")
        }
        Some(r @ OpResult::Reindex { .. }) => r.field("status").unwrap_or("").to_string(),
        None => j
            .manifest
            .as_ref()
            .map(|m| plural(m.output.len(), "file"))
            .unwrap_or_default(),
    }
}

/// The result of an operation other than `$export`, line by line.
fn result_lines(lines: &mut Vec<Line<'static>>, job: &ExportJob, theme: &Theme) {
    let head = theme.header_name.add_modifier(Modifier::BOLD);
    match &job.result {
        Some(OpResult::Import { output, .. }) => {
            lines.push(Line::styled(
                format!("    {:<24}{:>10}  input", "type", "imported"),
                head,
            ));
            for o in output {
                lines.push(Line::styled(
                    format!(
                        "    {:<24}{:>10}  {}",
                        o.type_,
                        o.count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                        o.input_url.clone().unwrap_or_default()
                    ),
                    theme.text,
                ));
            }
        }
        Some(OpResult::BulkDelete { deleted, issues }) => {
            if job.state.is_terminal() || !deleted.is_empty() {
                lines.push(Line::styled(
                    format!("    {:<24}{:>10}", "ResourceDeletedCount", ""),
                    head,
                ));
                if deleted.is_empty() {
                    lines.push(Line::styled("    nothing was deleted", theme.dim));
                }
            }
            for d in deleted {
                lines.push(Line::styled(
                    format!("    {:<24}{:>10}", d.type_, d.count),
                    theme.text,
                ));
            }
            for i in issues {
                lines.push(Line::styled(format!("issue  {i}"), theme.dim));
            }
        }
        Some(OpResult::Reindex { fields }) => {
            for f in fields.iter().filter(|f| {
                matches!(
                    f.name.as_str(),
                    "status"
                        | "progress"
                        | "totalResourcesToReindex"
                        | "resourcesSuccessfullyReindexed"
                        | "resources"
                        | "startTime"
                        | "endTime"
                        | "failureReason"
                )
            }) {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<32}", f.name), theme.dim),
                    Span::raw(f.value.clone()),
                ]));
            }
        }
        None => {}
    }
}

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

impl Jobs {
    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let app = v.model;
        let selected = self.selected;
        if let Some(form) = &self.form {
            draw_form(frame, area, form, v);
            return;
        }
        if let Some(form) = &self.op_form {
            draw_op_form(frame, area, form, v);
            return;
        }
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
            .title(Span::styled(" Jobs ", theme.title_focused));
        let inner = block.inner(r).inner(ratatui::layout::Margin::new(1, 0));
        frame.render_widget(block, r);
        let jobs = &app.jobs.list;
        if jobs.is_empty() {
            let lines = vec![
                Line::raw(""),
                Line::styled(
                    "No jobs yet. Send a $export request (like the seeded Export): when the server answers 202 with a Content-Location, the job appears here and is polled live.",
                    theme.text,
                ),
                Line::raw(""),
                Line::styled(
                    format!(
                        "{} starts one here ($export, $import, $bulk-delete, $reindex); {} closes.",
                        app.keymap.say(Ctx::Jobs, Action::New),
                        app.keymap.say(Ctx::Jobs, Action::Close),
                    ),
                    theme.dim,
                ),
            ];
            // Wrapped: at 80 columns the sentence does not fit a line.
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
            return;
        }
        let list_h = (jobs.len() as u16 + 1).min(inner.height / 2).max(2);
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
            Constraint::Length(16),
            Constraint::Length(9),
            Constraint::Min(26),
            Constraint::Length(12),
        ];
        let wide = list.width >= 110;
        let keep: &[usize] = if wide {
            &[0, 8, 1, 2, 3, 5, 6, 7]
        } else {
            &[0, 8, 3, 7]
        };
        // The kick-off column's share of the width (the other columns are fixed, one space apart).
        let fixed: usize = if wide {
            12 + 12 + 9 + 9 + 16 + 9 + 26 + 7
        } else {
            12 + 12 + 9 + 26 + 4
        };
        let kickoff_width = (list.width as usize).saturating_sub(fixed).max(8);
        let pick = |cells: Vec<Line<'static>>| -> Vec<Line<'static>> {
            let mut cells: Vec<Option<Line<'static>>> = cells.into_iter().map(Some).collect();
            keep.iter()
                .filter_map(|&i| cells.get_mut(i).and_then(Option::take))
                .collect()
        };
        let rows: Vec<Row> = jobs
            .iter()
            .map(|j| {
                let running = !j.state.is_terminal();
                // The indicator turns once per answered poll: it shows the server answering,
                // not progress nobody reported.
                let tick = SPINNER[(j.polls as usize) % SPINNER.len()];
                let quiet = j
                    .quiet_for(now)
                    .filter(|q| *q >= QUIET_HINT_AFTER)
                    .map(|q| format!("no progress for {} min", q.as_secs() / 60))
                    .unwrap_or_default();
                let progress = match (&j.progress, running) {
                    (Some(p), _) if quiet.is_empty() => p.to_string(),
                    (Some(p), _) => format!("{p} · {quiet}"),
                    (None, true) if quiet.is_empty() => format!("{tick} running (no X-Progress)"),
                    (None, true) => format!("{tick} {quiet}"),
                    (None, false) => result_summary(j),
                };
                // The status only: how long ago is in the job's details (a column cannot
                // hold "202 Accepted · 10m 59s ago").
                let answer = match &j.last_answer {
                    Some(a) => short_answer(a),
                    None => ago(j.last_poll_at),
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
                    Line::raw(human(elapsed(j))),
                    Line::raw(j.polls.to_string()),
                    Line::raw(answer),
                    Line::raw(next),
                    Line::raw(progress),
                    Line::raw(j.kind.label()),
                ]))
            })
            .collect();
        let header = Row::new(pick(
            [
                "state",
                "kick-off",
                "since",
                "elapsed",
                "polls",
                "last answer",
                "next poll",
                "progress",
                "operation",
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
        let mut st = TableState::default().with_selected(Some(selected.min(jobs.len() - 1)));
        frame.render_stateful_widget(table, list, &mut st);
        if let Some(job) = jobs.get(selected.min(jobs.len() - 1)) {
            self.details(frame, detail, app, job, theme);
        }
        let mut hint = hint_spans(&app.keymap, self.ctx(), theme);
        if jobs.len() as u16 + 1 > list_h {
            hint.insert(
                0,
                Span::styled(
                    format!("job {} of {} · ", selected + 1, jobs.len()),
                    theme.dim,
                ),
            );
        }
        frame.render_widget(Paragraph::new(Line::from(hint)), hints);
    }

    fn details(&self, frame: &mut Frame, area: Rect, app: &Model, job: &ExportJob, theme: &Theme) {
        let mut lines = vec![
            Line::raw(""),
            Line::from(vec![
                Span::styled("status URL  ", theme.dim),
                Span::raw(job.status_url.clone()),
            ]),
        ];
        if job.throttled > 0 {
            lines.push(Line::styled(
                format!(
                    "the server asked to slow down {}",
                    plural(job.throttled as usize, "time")
                ),
                theme.warning,
            ));
        }
        if let Some(e) = &job.last_error {
            lines.push(Line::styled(format!("last problem: {e}"), theme.warning));
        }
        if let Some(o) = &job.outcome {
            lines.push(Line::styled(format!("server says: {o}"), theme.error));
        }
        if let Some(a) = &job.last_answer {
            lines.push(Line::from(vec![
                Span::styled("last answer ", theme.dim),
                Span::raw(a.clone()),
                Span::styled(
                    match job.last_poll_at {
                        Some(_) => format!(" · {}   polls {}", ago(job.last_poll_at), job.polls),
                        None => format!("   polls {}", job.polls),
                    },
                    theme.dim,
                ),
            ]));
        }
        result_lines(&mut lines, job, theme);
        let mut gauge_ratio = job.progress.as_ref().and_then(|p| p.ratio());
        let mut gauge_label = None;
        if let Some(m) = &super::files::files_of(job) {
            if job.kind == OpKind::Export {
                lines.push(Line::from(vec![
                    Span::styled("transactionTime  ", theme.dim),
                    Span::raw(m.transaction_time.clone().unwrap_or_default()),
                    Span::styled(
                        format!("   requiresAccessToken {}", m.requires_access_token),
                        theme.dim,
                    ),
                ]));
            }
            let view = Some(&self.outputs).filter(|v| v.job.as_deref() == Some(job.id.as_str()));
            let files: Vec<(&str, &crate::worker::export::ManifestOutput)> = m
                .output
                .iter()
                .map(|o| ("", o))
                .chain(m.error.iter().map(|o| ("error file", o)))
                .collect();
            let type_w = files
                .iter()
                .map(|(k, o)| o.type_.len() + k.len() + 1)
                .max()
                .unwrap_or(4)
                .clamp(4, 32);
            lines.push(Line::styled(
                format!("    {:<type_w$}{:>10}  url", "type", "count"),
                theme.header_name.add_modifier(Modifier::BOLD),
            ));
            for (i, (kind, o)) in files.iter().enumerate() {
                let picked = view.is_some_and(|v| v.picked.contains(&i));
                let cursor = view.is_some_and(|v| v.focus && v.row == i);
                let label = if kind.is_empty() {
                    o.type_.clone()
                } else {
                    format!("{} {kind}", o.type_)
                };
                let text = format!(
                    "{} {label:<type_w$}{:>10}  {}",
                    if picked { "[x]" } else { "[ ]" },
                    o.count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                    o.url
                );
                let style = match (cursor, kind.is_empty()) {
                    (true, _) => theme.selected,
                    (false, true) => theme.text,
                    (false, false) => theme.error,
                };
                lines.push(Line::styled(text, style));
            }
            // The keys in force (keys.toml may move them), as the status bar names them.
            let key = |a: Action| app.keymap.say(Ctx::Jobs, a);
            let (tab, pick, download, open) = (
                key(Action::NextTab),
                key(Action::Toggle),
                key(Action::Download),
                key(Action::Activate),
            );
            lines.push(Line::styled(
                if job.kind == OpKind::Export {
                    format!(
                        "{tab} moves into the files · {pick} picks · {download} downloads the picked ones (none picked: all outputs) · {open} on an error file shows its issues"
                    )
                } else {
                    format!(
                        "{tab} moves into the error files · {open} shows one's issues (fetched with the storage token) · {pick} picks · {download} downloads"
                    )
                },
                theme.dim,
            ));
        }
        match app.jobs.downloads.get(&job.id) {
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
                for (name, (done, total)) in
                    app.jobs.file_progress.get(&job.id).into_iter().flatten()
                {
                    let bar = match total {
                        Some(t) if *t > 0 => {
                            let filled = ((*done as f64 / *t as f64) * 20.0)
                                .round()
                                .clamp(0.0, 20.0) as usize;
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
                    format!(
                        "downloaded {} into {}",
                        plural(r.files.len(), "file"),
                        r.dir.display()
                    ),
                    theme.ok,
                ));
                let name_w = r
                    .files
                    .iter()
                    .map(|f| {
                        f.path
                            .file_name()
                            .map_or(0, |n| n.to_string_lossy().chars().count())
                    })
                    .max()
                    .unwrap_or(8)
                    .min(40);
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
                    let name = f
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    lines.push(Line::styled(
                        format!(
                            "  {name:<name_w$}  {:>9}  {:>12}  {note}",
                            human_size(f.bytes as usize),
                            plural(f.lines.unwrap_or(0) as usize, "line")
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
}

/// How long a job ran: until now while it runs, until its last poll once it ended.
fn elapsed(j: &ExportJob) -> u64 {
    let end = match (j.state.is_terminal(), j.last_poll_at) {
        (true, Some(t)) => t,
        _ => std::time::SystemTime::now(),
    };
    end.duration_since(j.kicked_off_at)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The kick-off form: fixed fields, a checklist of resource types, and Start.
fn draw_form(frame: &mut Frame, area: Rect, form: &ExportForm, v: &View) {
    let theme = v.theme;
    let r = centered(
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(2),
    );
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
    let warning = form.anonymization_warning();
    let mut constraints: Vec<Constraint> = vec![Constraint::Length(1); FIELD_ROWS.len() + 1];
    constraints.push(Constraint::Fill(1));
    // A refusal gets two rows (wrapped): it says why Start will not start.
    constraints.push(Constraint::Length(if warning.is_some() { 2 } else { 1 }));
    let areas = Layout::vertical(constraints).split(inner);
    let label_style = |row: usize| {
        if form.row == row {
            theme.selected
        } else {
            theme.header_name
        }
    };
    let label_width = FIELD_ROWS.iter().map(|n| n.len()).max().unwrap_or(15) as u16 + 1;
    for (i, name) in FIELD_ROWS.iter().enumerate() {
        let [l, val] = Layout::horizontal([Constraint::Length(label_width), Constraint::Fill(1)])
            .areas(areas[i]);
        frame.render_widget(Paragraph::new(Span::styled(*name, label_style(i))), l);
        if i == 0 {
            // The long names when they fit (about 80 columns of value), else the short ones.
            let choices = if val.width >= 80 {
                [
                    "system ($export)",
                    "all patients (Patient/$export)",
                    "a group (Group/{id}/$export)",
                ]
            } else {
                ["system", "all patients", "a group"]
            };
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
            frame.render_widget(Paragraph::new(Line::from(spans)), val);
        } else if let Some(t) = form.text(i) {
            t.draw(frame, val, form.row == i, theme);
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
    // The last row is Start; the types get the rest, in a window that keeps the cursor in it.
    let visible = (list_area.height as usize).saturating_sub(1).max(1);
    let cur = form
        .row
        .saturating_sub(first_type)
        .min(form.types.len().saturating_sub(1));
    let start = if form.row >= first_type {
        cur.saturating_sub(visible - 1)
    } else {
        0
    };
    let mut lines: Vec<Line> = form
        .types
        .iter()
        .enumerate()
        .skip(start)
        .take(visible)
        .map(|(k, (t, on))| {
            let style = if form.row == first_type + k {
                theme.selected
            } else {
                theme.text
            };
            Line::styled(format!("[{}] {t}", if *on { "x" } else { " " }), style)
        })
        .collect();
    let picked = form.types.iter().filter(|(_, on)| *on).count();
    lines.push(Line::styled(
        format!(
            "  Start export ({}){}",
            v.model.keymap.say(Ctx::ExportForm, Action::Activate),
            if picked > 0 {
                format!(" · {} picked", plural(picked, "type"))
            } else {
                String::new()
            }
        ),
        if form.row == rows - 1 {
            theme.selected
        } else {
            theme.key_hint
        },
    ));
    frame.render_widget(Paragraph::new(lines), list_area);
    // What the service would refuse is said before Start, in place of the hints.
    let hint = match warning {
        Some(why) => Line::styled(why, theme.warning),
        None => {
            let mut hint = hint_spans(&v.model.keymap, crate::tui::keys::Ctx::ExportForm, theme);
            hint.push(Span::styled("· letters jump in the type list", theme.dim));
            Line::from(hint)
        }
    };
    frame.render_widget(
        Paragraph::new(hint).wrap(Wrap { trim: false }),
        areas[FIELD_ROWS.len() + 2],
    );
}

/// The form of `$bulk-delete`, `$import` or `$reindex`.
fn draw_op_form(frame: &mut Frame, area: Rect, form: &super::OpForm, v: &View) {
    use super::op_form::Field;
    let theme = v.theme;
    let r = centered(
        area,
        area.width.saturating_sub(4).min(110),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(
            format!(" Start {} ", form.kind.label()),
            theme.title_focused,
        ));
    let inner = block.inner(r).inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(block, r);
    let mut constraints = vec![Constraint::Length(1); form.fields.len() * 2 + 3];
    constraints.push(Constraint::Fill(1));
    constraints.push(Constraint::Length(1));
    let areas = Layout::vertical(constraints).split(inner);
    for (i, (label, help, field)) in form.fields.iter().enumerate() {
        let style = if form.row == i {
            theme.selected
        } else {
            theme.header_name
        };
        let [l, val] =
            Layout::horizontal([Constraint::Length(20), Constraint::Fill(1)]).areas(areas[i * 2]);
        frame.render_widget(
            Paragraph::new(Span::styled(format!("{label:<19}"), style)),
            l,
        );
        match field {
            Field::Text(t) => t.draw(frame, val, form.row == i, theme),
            Field::Flag(on) => frame.render_widget(
                Paragraph::new(Span::styled(
                    format!("[{}] (space)", if *on { "x" } else { " " }),
                    theme.text,
                )),
                val,
            ),
            Field::Choice(opts, k) => {
                let spans: Vec<Span> = opts
                    .iter()
                    .enumerate()
                    .flat_map(|(n, o)| {
                        let st = if n == *k { theme.tab_active } else { theme.dim };
                        [Span::styled(o.to_string(), st), Span::raw("   ")]
                    })
                    .collect();
                frame.render_widget(Paragraph::new(Line::from(spans)), val);
            }
        }
        frame.render_widget(
            Paragraph::new(Span::styled(format!("{:20}{help}", ""), theme.dim)),
            areas[i * 2 + 1],
        );
    }
    let n = form.fields.len() * 2;
    let start_key = v.model.keymap.say(Ctx::ExportForm, Action::Activate);
    let start = if form.kind == OpKind::BulkDelete {
        format!("  Count what matches ({start_key}) — nothing is deleted before you confirm")
    } else {
        format!("  Start ({start_key})")
    };
    frame.render_widget(
        Paragraph::new(Span::styled(
            start,
            if form.row == form.fields.len() {
                theme.selected
            } else {
                theme.key_hint
            },
        )),
        areas[n + 1],
    );
    if let Some(w) = form.warning() {
        frame.render_widget(
            Paragraph::new(Span::styled(w, theme.warning)).wrap(Wrap { trim: false }),
            areas[n + 3],
        );
    }
    let hint = hint_spans(&v.model.keymap, crate::tui::keys::Ctx::ExportForm, theme);
    frame.render_widget(Paragraph::new(Line::from(hint)), areas[n + 4]);
}
