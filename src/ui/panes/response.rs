//! The response: status line, then Body (pretty, highlighted), Headers and Raw tabs. Only the
//! visible lines are highlighted and drawn, so large bodies scroll smoothly.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::response::{Outcome, ResponseTab, ResponseView, human_size};
use crate::app::{App, Pane};
use crate::ui::Theme;
use crate::ui::widgets::{SPINNER, pane_block, shorten};
use crate::view_body::{BodyText, LazyHighlighter};
use crate::worker::capture::CaptureOutcome;

pub fn draw(frame: &mut Frame, area: Rect, app: &mut App, theme: &Theme, focused: bool) {
    let block = pane_block(Pane::Response, "", focused, theme);
    let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(block, area);
    let Some(path) = app.open.clone() else {
        return;
    };
    if let Some(flight) = app.in_flight.values().find(|f| f.path == path) {
        let s = SPINNER[(app.frame % SPINNER.len() as u64) as usize];
        let line = Line::from(vec![
            Span::styled(format!("{s} waiting for {} ", flight.method), theme.warning),
            Span::styled(
                shorten(&flight.url, inner.width.saturating_sub(30) as usize),
                theme.text,
            ),
            Span::styled(
                format!(
                    "  {:.1} s · Esc cancels",
                    flight.started.elapsed().as_secs_f32()
                ),
                theme.dim,
            ),
        ]);
        frame.render_widget(Paragraph::new(line), inner);
        return;
    }
    let Some(view) = app.responses.get_mut(&path) else {
        let hint = Line::styled(
            "Nothing sent yet. Ctrl-R (or F5) sends the request.",
            theme.dim,
        );
        frame.render_widget(Paragraph::new(vec![Line::raw(""), hint]), inner);
        return;
    };
    draw_view(frame, inner, view, theme);
}

/// One response (status, tabs, body) in `inner`; the history screen shows entries with it too.
pub fn draw_view(frame: &mut Frame, inner: Rect, view: &mut ResponseView, theme: &Theme) {
    let capture_rows = if view.captures.is_empty() { 0 } else { 1 };
    let note = match &view.outcome {
        Outcome::Received { body, .. } if view.tab == ResponseTab::Body => body.note.clone(),
        _ => None,
    };
    let [status_row, tabs_row, capture_row, note_row, body_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(capture_rows),
        Constraint::Length(if note.is_some() { 1 } else { 0 }),
        Constraint::Fill(1),
    ])
    .areas(inner);

    match &view.outcome {
        Outcome::Failed(msg) => {
            let lines = vec![
                Line::styled(format!("✗ {msg}"), theme.error),
                Line::styled(view.request_line.clone(), theme.dim),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
            return;
        }
        Outcome::Received { response, .. } => {
            let line = Line::from(vec![
                Span::styled(
                    format!("{} {}", response.status, response.reason),
                    theme.status_code(response.status),
                ),
                Span::styled(
                    format!(
                        "  {} ms · {} · {}",
                        response.elapsed.as_millis(),
                        human_size(response.body.len()),
                        view.received_at.format("%H:%M:%S")
                    ),
                    theme.dim,
                ),
                Span::styled(
                    if view.restored {
                        "  (from the last session's history)"
                    } else {
                        ""
                    },
                    theme.warning,
                ),
                Span::styled(
                    [("ETag", "etag"), ("Location", "location")]
                        .iter()
                        .filter_map(|(label, h)| {
                            response.header(h).map(|v| format!("  {label} {v}"))
                        })
                        .collect::<String>(),
                    theme.accent,
                ),
                Span::styled(format!("  {}", shorten(&view.request_line, 60)), theme.dim),
            ]);
            frame.render_widget(Paragraph::new(line), status_row);
        }
    }

    let mut tabs = Vec::new();
    for tab in ResponseTab::ALL {
        let label = match tab {
            ResponseTab::Body => "Body",
            ResponseTab::Headers => "Headers",
            ResponseTab::Raw => "Raw",
        };
        tabs.push(Span::styled(
            label,
            if tab == view.tab {
                theme.tab_active
            } else {
                theme.dim
            },
        ));
        tabs.push(Span::raw("   "));
    }
    let total = view.line_count();
    tabs.push(Span::styled(
        format!(
            "line {}/{}{}",
            (view.scroll + 1).min(total),
            total,
            if view.wrap { " · wrap" } else { "" }
        ),
        theme.dim,
    ));
    frame.render_widget(Paragraph::new(Line::from(tabs)), tabs_row);

    if capture_rows > 0 {
        let spans: Vec<Span> = view
            .captures
            .iter()
            .flat_map(|c| match c {
                CaptureOutcome::Set { variable, .. } => {
                    vec![Span::styled(format!("✓ {variable} captured  "), theme.ok)]
                }
                CaptureOutcome::Missing { rule, reason } => {
                    vec![Span::styled(format!("✗ {rule}: {reason}  "), theme.warning)]
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(Line::from(spans)), capture_row);
    }
    if let Some(n) = note {
        frame.render_widget(Paragraph::new(Line::styled(n, theme.warning)), note_row);
    }

    let height = body_area.height as usize;
    let ResponseView {
        outcome,
        tab,
        scroll,
        hscroll,
        wrap,
        highlighter,
        raw_highlighter,
        search,
        ..
    } = view;
    let marks = search.as_ref().filter(|s| s.tab == *tab);
    let Outcome::Received { response, body } = outcome else {
        return;
    };
    let lines: Vec<Line> = match tab {
        ResponseTab::Headers => {
            let mut v = vec![Line::styled(
                format!(
                    "{} {} {}",
                    response.version, response.status, response.reason
                ),
                theme.dim,
            )];
            v.extend(response.headers.iter().map(|(k, val)| {
                Line::from(vec![
                    Span::styled(format!("{k}: "), theme.header_name),
                    Span::styled(val.clone(), theme.text),
                ])
            }));
            v.into_iter().skip(*scroll).take(height).collect()
        }
        ResponseTab::Body => body_lines(
            &body.pretty,
            highlighter,
            *scroll,
            *hscroll,
            height,
            marks,
            theme,
        ),
        ResponseTab::Raw => body_lines(
            &body.raw,
            raw_highlighter,
            *scroll,
            *hscroll,
            height,
            marks,
            theme,
        ),
    };
    let mut p = Paragraph::new(lines);
    if *wrap {
        p = p.wrap(Wrap { trim: false });
    }
    frame.render_widget(p, body_area);
}

/// Highlights and draws only `height` lines from `scroll`, with a line-number gutter.
#[allow(clippy::too_many_arguments)]
fn body_lines(
    text: &BodyText,
    highlighter: &mut LazyHighlighter,
    scroll: usize,
    hscroll: usize,
    height: usize,
    search: Option<&crate::app::response::BodySearch>,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let total = text.line_count();
    let start = scroll.min(total);
    let end = (start + height).min(total);
    let gutter = total.max(1).to_string().len();
    let spans = highlighter.spans_for_lines(text, start..end);
    (start..end)
        .zip(spans)
        .map(|(n, line_spans)| {
            let line = text.line(n);
            let mut out = vec![Span::styled(format!("{:>gutter$} ", n + 1), theme.dim)];
            let mut skipped = 0usize;
            // Search matches on this line: (byte range, is the current match).
            let line_marks: Vec<(std::ops::Range<usize>, bool)> = search
                .map(|s| {
                    let first = s.matches.partition_point(|m| m.line < n);
                    s.matches[first..]
                        .iter()
                        .enumerate()
                        .take_while(|(_, m)| m.line == n)
                        .map(|(i, m)| (m.range.clone(), first + i == s.current))
                        .collect()
                })
                .unwrap_or_default();
            for (s, mark) in split_at_marks(line_spans, &line_marks) {
                let Some(piece) = line.get(s.range.clone()) else {
                    continue;
                };
                let piece_chars = piece.chars().count();
                if skipped + piece_chars <= hscroll {
                    skipped += piece_chars;
                    continue;
                }
                let visible: String = piece
                    .chars()
                    .skip(hscroll.saturating_sub(skipped))
                    .collect();
                skipped += piece_chars;
                let style = match mark {
                    Some(true) => theme.selected,
                    Some(false) => theme
                        .token(s.kind)
                        .add_modifier(ratatui::style::Modifier::REVERSED),
                    None => theme.token(s.kind),
                };
                out.push(Span::styled(visible, style));
            }
            Line::from(out)
        })
        .collect()
}

/// Cuts highlighted spans where search matches start and end, so a match can be drawn over
/// the token colours. `Some(current)` marks pieces inside a match.
fn split_at_marks(
    spans: Vec<crate::view_body::Span>,
    marks: &[(std::ops::Range<usize>, bool)],
) -> Vec<(crate::view_body::Span, Option<bool>)> {
    if marks.is_empty() {
        return spans.into_iter().map(|s| (s, None)).collect();
    }
    let mut out = Vec::with_capacity(spans.len() + marks.len() * 2);
    for s in spans {
        let mut start = s.range.start;
        while start < s.range.end {
            // The mark covering `start`, or the next mark boundary inside this span.
            let inside = marks
                .iter()
                .find(|(r, _)| r.start <= start && start < r.end);
            let end = match inside {
                Some((r, _)) => r.end.min(s.range.end),
                None => marks
                    .iter()
                    .filter(|(r, _)| r.start > start)
                    .map(|(r, _)| r.start)
                    .min()
                    .unwrap_or(s.range.end)
                    .min(s.range.end),
            };
            out.push((
                crate::view_body::Span {
                    range: start..end,
                    kind: s.kind,
                },
                inside.map(|(_, c)| *c),
            ));
            start = end;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view_body::{Span as S, TokenKind};

    #[test]
    fn marks_split_tokens() {
        let spans = vec![
            S {
                range: 0..6,
                kind: TokenKind::Key,
            },
            S {
                range: 6..10,
                kind: TokenKind::String,
            },
        ];
        let out = split_at_marks(spans, &[(4..8, true)]);
        let ranges: Vec<_> = out.iter().map(|(s, m)| (s.range.clone(), *m)).collect();
        assert_eq!(
            ranges,
            vec![
                (0..4, None),
                (4..6, Some(true)),
                (6..8, Some(true)),
                (8..10, None)
            ]
        );
    }
}
