//! Drawing the chart: a header (patient, where the data came from, notes), a tab strip, and
//! the vitals (one chart at a time when small, a grid when large), the labs table (or one lab
//! plotted), or the timeline.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, BorderType, Borders, Chart as ChartWidget, Clear, Dataset, GraphType, Paragraph,
    Row, Table, TableState, Wrap,
};

use super::{Built, Chart, State, Tab};
use crate::fhir::chart::{Trend, format_value};
use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::View;
use crate::tui::style::Theme;
use crate::tui::widgets::{SPINNER, hint_spans, shorten};

/// From this size on the vitals are shown as a grid.
const GRID_WIDTH: u16 = 140;
const GRID_HEIGHT: u16 = 40;

/// The smallest chart in the grid.
const MIN_CELL_HEIGHT: u16 = 10;

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

impl Chart {
    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let name = self
            .patient
            .as_ref()
            .map(|(_, n)| n.clone())
            .unwrap_or_default();
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Thick)
            .border_style(theme.border_focused)
            .title(Span::styled(
                format!(
                    " Patient chart · {} ",
                    shorten(&name, area.width.saturating_sub(20) as usize)
                ),
                theme.title_focused,
            ));
        let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        let [body, hints] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let mut hint = hint_spans(&v.model.keymap, Ctx::Chart, theme);
        let say = |a: Action| v.model.keymap.say(Ctx::Chart, a);
        hint.push(Span::styled(
            format!(
                "· {} all keys",
                v.model.keymap.say(Ctx::Global, Action::Help)
            ),
            theme.dim,
        ));
        frame.render_widget(Paragraph::new(Line::from(hint)), hints);
        match &self.state {
            State::Idle => {}
            State::Loading(f) => {
                let spinner = SPINNER[(v.model.frame % SPINNER.len() as u64) as usize];
                let received: usize = f
                    .on_wire
                    .keys()
                    .filter_map(|id| v.model.receiving.get(id))
                    .map(|r| r.received)
                    .sum();
                let mut line = format!("{spinner} {}", f.progress_line());
                if received > 0 {
                    line.push_str(&format!(" · {}", crate::text::human_size(received)));
                }
                let lines = vec![
                    Line::styled(line, theme.warning),
                    Line::styled(format!("{} cancels.", say(Action::Back)), theme.dim),
                ];
                frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
            }
            State::Failed(e) => {
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::styled(format!("✗ {e}"), theme.error),
                        Line::styled(
                            format!(
                                "{} tries again · {} goes back to the patient.",
                                say(Action::Refresh),
                                say(Action::Back)
                            ),
                            theme.dim,
                        ),
                    ])
                    .wrap(Wrap { trim: false }),
                    body,
                );
            }
            State::Ready(b) => self.draw_built(frame, body, b, theme, &say(Action::Back)),
        }
    }

    fn draw_built(&self, frame: &mut Frame, area: Rect, b: &Built, theme: &Theme, back: &str) {
        let mut head = vec![Line::from(vec![
            Span::styled(b.source.clone(), theme.text),
            Span::styled(
                format!(
                    " · {} observations · built in {} ms",
                    b.chart.observations,
                    b.took.as_millis()
                ),
                theme.dim,
            ),
        ])];
        let notes: Vec<&String> = b.notes.iter().chain(b.chart.notes.iter()).collect();
        // Notes take at most a third of a small screen; the rest are counted.
        let room = (area.height / 6).max(1) as usize;
        for n in notes.iter().take(room) {
            head.push(Line::styled(format!("⚠ {n}"), theme.warning));
        }
        if notes.len() > room {
            head.push(Line::styled(
                format!("⚠ and {} more notes", notes.len() - room),
                theme.warning,
            ));
        }
        let c = &b.chart;
        let tabs = [
            (Tab::Vitals, format!("Vitals {}", c.vitals.len())),
            (Tab::Labs, format!("Labs {}", c.labs.len())),
            (Tab::Timeline, format!("Timeline {}", c.timeline.len())),
        ];
        let mut strip = Vec::new();
        for (t, label) in tabs {
            let style = if t == self.tab {
                theme.tab_active
            } else {
                theme.dim
            };
            strip.push(Span::styled(format!(" {label} "), style));
            strip.push(Span::styled("│", theme.dim));
        }
        strip.pop();
        head.push(Line::from(strip));
        let [head_area, rest] =
            Layout::vertical([Constraint::Length(head.len() as u16), Constraint::Fill(1)])
                .areas(area);
        frame.render_widget(Paragraph::new(head), head_area);
        match (self.tab, self.plotted) {
            (Tab::Vitals, _) => self.draw_vitals(frame, rest, b, theme),
            (Tab::Labs, Some(i)) => {
                if let (Some(row), Some(plot)) = (c.labs.get(i), b.labs.get(i)) {
                    let [chart, foot] =
                        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(rest);
                    trend_chart(frame, chart, &row.trend, plot, None, true, theme);
                    let flag = row
                        .flag
                        .as_ref()
                        .map(|f| format!(" · flag {}", f.code))
                        .unwrap_or_default();
                    let range = row
                        .trend
                        .range
                        .as_ref()
                        .map(|r| format!(" · range {}", r.label()))
                        .unwrap_or_default();
                    frame.render_widget(
                        Paragraph::new(Line::styled(
                            format!(
                                "{} values{range}{flag} · {back} back to the table",
                                row.trend.point_count()
                            ),
                            theme.dim,
                        )),
                        foot,
                    );
                }
            }
            (Tab::Labs, None) => self.draw_labs(frame, rest, b, theme),
            (Tab::Timeline, _) => self.draw_timeline(frame, rest, b, theme),
        }
    }

    fn draw_vitals(&self, frame: &mut Frame, area: Rect, b: &Built, theme: &Theme) {
        let vitals = &b.chart.vitals;
        if vitals.is_empty() {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "No vital signs with a number for this patient.",
                    theme.dim,
                )),
                area,
            );
            return;
        }
        let selected = self.vital.min(vitals.len() - 1);
        if area.width < GRID_WIDTH || area.height < GRID_HEIGHT.saturating_sub(8) {
            let step = format!(" {}/{} ‹ › ", selected + 1, vitals.len());
            trend_chart(
                frame,
                area,
                &vitals[selected],
                &b.vitals[selected],
                Some(step),
                true,
                theme,
            );
            return;
        }
        // The grid: two columns (three when very wide), as many rows as fit; the rows shown
        // follow the selection.
        let cols: usize = if area.width >= 240 { 3 } else { 2 };
        let fit_rows = (area.height / MIN_CELL_HEIGHT).max(1) as usize;
        let rows_needed = vitals.len().div_ceil(cols);
        let rows = rows_needed.min(fit_rows);
        let first_row = (selected / cols).saturating_sub(rows - 1);
        let row_areas = Layout::vertical(vec![Constraint::Fill(1); rows]).split(area);
        for (r, row_area) in row_areas.iter().enumerate() {
            let col_areas = Layout::horizontal(vec![Constraint::Fill(1); cols]).split(*row_area);
            for (c, cell) in col_areas.iter().enumerate() {
                let i = (first_row + r) * cols + c;
                if let (Some(t), Some(p)) = (vitals.get(i), b.vitals.get(i)) {
                    trend_chart(frame, *cell, t, p, None, i == selected, theme);
                }
            }
        }
    }

    fn draw_labs(&self, frame: &mut Frame, area: Rect, b: &Built, theme: &Theme) {
        let labs = &b.chart.labs;
        if labs.is_empty() {
            frame.render_widget(
                Paragraph::new(Line::styled("No lab results for this patient.", theme.dim)),
                area,
            );
            return;
        }
        let rows: Vec<Row> = labs
            .iter()
            .map(|l| {
                let latest = l
                    .latest()
                    .map(|p| {
                        if l.trend.unit.is_empty() {
                            format_value(p.value)
                        } else {
                            format!("{} {}", format_value(p.value), l.trend.unit)
                        }
                    })
                    .unwrap_or_default();
                let (flag, flag_style) = match &l.flag {
                    Some(f) if f.abnormal => (f.code.clone(), theme.error),
                    Some(f) => (f.code.clone(), theme.ok),
                    None => (String::new(), theme.dim),
                };
                let values: Vec<f64> = l
                    .trend
                    .series
                    .first()
                    .map(|s| s.points.iter().map(|p| p.value).collect())
                    .unwrap_or_default();
                Row::new(vec![
                    Span::styled(l.trend.title.clone(), theme.text),
                    Span::styled(latest, theme.text.add_modifier(Modifier::BOLD)),
                    Span::styled(flag, flag_style),
                    Span::styled(
                        l.trend
                            .range
                            .as_ref()
                            .map(|r| r.label())
                            .unwrap_or_default(),
                        theme.dim,
                    ),
                    Span::styled(sparkline(&values, 12), theme.accent),
                    Span::styled(
                        l.latest().map(|p| date_only(&p.date)).unwrap_or_default(),
                        theme.dim,
                    ),
                ])
            })
            .collect();
        let header = Row::new(["Test", "Latest", "Flag", "Range", "Trend", "Date"])
            .style(theme.header_name.add_modifier(Modifier::BOLD));
        let table = Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(14),
                Constraint::Length(4),
                Constraint::Length(10),
                Constraint::Length(12),
                Constraint::Length(10),
            ],
        )
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selected);
        let mut st = TableState::default().with_selected(Some(self.lab.min(labs.len() - 1)));
        frame.render_stateful_widget(table, area, &mut st);
    }

    fn draw_timeline(&self, frame: &mut Frame, area: Rect, b: &Built, theme: &Theme) {
        let events = &b.chart.timeline;
        if events.is_empty() {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "No encounters, conditions, procedures or medications for this patient.",
                    theme.dim,
                )),
                area,
            );
            return;
        }
        let rows: Vec<Row> = events
            .iter()
            .map(|e| {
                let mut detail = e.detail.clone();
                if let Some(end) = &e.end {
                    // Ending the day it began: only the time.
                    let same_day =
                        !e.date.is_empty() && end.starts_with(date_only(&e.date).as_str());
                    let end = match end.split_once(' ') {
                        Some((_, time)) if same_day => time,
                        _ => end.as_str(),
                    };
                    let word = match e.kind {
                        crate::fhir::chart::EventKind::Condition => "abated",
                        _ => "until",
                    };
                    if !detail.is_empty() {
                        detail.push_str(" · ");
                    }
                    detail.push_str(&format!("{word} {end}"));
                }
                let date = if e.date.is_empty() {
                    "no date".to_string()
                } else {
                    e.date.clone()
                };
                Row::new(vec![
                    Span::styled(date, theme.dim),
                    Span::styled(e.kind.label(), theme.accent),
                    Span::styled(e.title.clone(), theme.text),
                    Span::styled(detail, theme.dim),
                ])
            })
            .collect();
        let header = Row::new(["When", "Kind", "What", "Details"])
            .style(theme.header_name.add_modifier(Modifier::BOLD));
        let table = Table::new(
            rows,
            [
                Constraint::Length(16),
                Constraint::Length(10),
                Constraint::Fill(3),
                Constraint::Fill(2),
            ],
        )
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selected);
        let mut st = TableState::default().with_selected(Some(self.event.min(events.len() - 1)));
        frame.render_stateful_widget(table, area, &mut st);
    }
}

/// `2024-03-05 10:32` → `2024-03-05`.
fn date_only(d: &str) -> String {
    d.split(' ').next().unwrap_or(d).to_string()
}

/// The last `width` values as block characters, low to high.
pub(super) fn sparkline(values: &[f64], width: usize) -> String {
    let tail = &values[values.len().saturating_sub(width)..];
    let (lo, hi) = tail
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    tail.iter()
        .map(|v| {
            if hi > lo {
                let i = ((v - lo) / (hi - lo) * 7.0).round() as usize;
                SPARK[i.min(7)]
            } else {
                SPARK[3]
            }
        })
        .collect()
}

/// The colours of the series of one chart, in order.
fn series_style(i: usize, theme: &Theme) -> Style {
    match i {
        0 => theme.accent,
        1 => theme.warning,
        2 => theme.ok,
        _ => theme.text,
    }
}

/// One trend as a braille line chart in a box: its name and unit on the left of the title,
/// the latest value and date on the right.
fn trend_chart(
    frame: &mut Frame,
    area: Rect,
    trend: &Trend,
    plot: &super::Plot,
    step: Option<String>,
    selected: bool,
    theme: &Theme,
) {
    let mut title = vec![Span::styled(
        if trend.unit.is_empty() {
            format!(" {} ", trend.title)
        } else {
            format!(" {} ({}) ", trend.title, trend.unit)
        },
        theme.title_focused,
    )];
    // Several series: their names in their colours, as the legend (a legend box inside the
    // plot would hide the points under it).
    if trend.series.len() > 1 {
        for (i, s) in trend.series.iter().enumerate() {
            title.push(Span::styled(
                format!("━ {} ", s.name),
                series_style(i, theme),
            ));
        }
    }
    let latest = format!(
        " {} · {} ",
        trend.latest_text(),
        trend.latest_date().map(date_only).unwrap_or_default()
    );
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(if selected {
            theme.border_focused
        } else {
            theme.border
        })
        .title(Line::from(title))
        .title(Line::styled(latest, theme.accent.add_modifier(Modifier::BOLD)).right_aligned());
    if let Some(step) = step {
        block = block.title_bottom(Line::styled(step, theme.dim).right_aligned());
    }
    let mut datasets: Vec<Dataset> = plot
        .range
        .iter()
        .map(|line| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.dim)
                .data(line)
        })
        .collect();
    for (i, data) in plot.data.iter().enumerate() {
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(series_style(i, theme))
                .data(data),
        );
    }
    let x_axis = Axis::default()
        .style(theme.dim)
        .bounds(plot.x)
        .labels(plot.x_labels.iter().map(|l| Span::raw(l.clone())));
    let y_axis = Axis::default()
        .style(theme.dim)
        .bounds(plot.y)
        .labels(plot.y_labels.iter().map(|l| Span::raw(l.clone())));
    let chart = ChartWidget::new(datasets)
        .block(block)
        .x_axis(x_axis)
        .y_axis(y_axis)
        .legend_position(None);
    frame.render_widget(chart, area);
}
