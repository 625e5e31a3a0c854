//! The response: status line, then Body (pretty, highlighted), Headers and Raw tabs. Only the
//! visible lines are highlighted and drawn, so large bodies scroll smoothly.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::body_pane::{BodyPane, group_digits};
use super::keys::ResponseKeys;
use super::spool_pane::{DRAW_LINE_BYTES, SpoolPane};
use super::view::{Outcome, ResponseTab, ResponseView};
use crate::text::human_size;
use crate::tui::model::{Purpose, Receiving};
use crate::tui::screens::{Pane, View};
use crate::tui::style::Theme;
use crate::tui::widgets::{SPINNER, pane_block, shorten};
use crate::view_body::{BodyKind, BodyText, JsonLineState, TokenKind, highlight_json_line_capped};
use crate::worker::capture::CaptureOutcome;

impl super::Response {
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let model = v.model;
        let block = pane_block(Pane::Response, "", v.focused, theme);
        let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
        frame.render_widget(block, area);
        let Some(path) = model.open.clone() else {
            return;
        };
        let keys = ResponseKeys::for_response(&model.keymap);
        let sending = model
            .in_flight
            .iter()
            .find(|(_, f)| f.purpose == Purpose::Saved(path.clone()));
        if let Some((id, flight)) = sending {
            let s = SPINNER[(model.frame % SPINNER.len() as u64) as usize];
            let line = Line::from(vec![
                Span::styled(format!("{s} waiting for {} ", flight.method), theme.warning),
                Span::styled(
                    shorten(&flight.url, inner.width.saturating_sub(30) as usize),
                    theme.text,
                ),
                Span::styled(
                    format!(
                        "  {:.1} s · {} cancels",
                        flight.started.elapsed().as_secs_f32(),
                        keys.cancel
                    ),
                    theme.dim,
                ),
            ]);
            let mut lines = vec![line];
            let receiving = model.receiving.get(id);
            if let Some(p) = receiving.filter(|p| p.received > 0) {
                lines.push(receive_line(p, theme, inner.width));
            }
            if let Some(head) = receiving.and_then(|p| p.head.as_deref()) {
                let rows = (inner.height as usize).saturating_sub(lines.len() + 1);
                lines.push(Line::raw(""));
                lines.extend(head_lines(head, inner.width as usize, rows, theme));
            }
            frame.render_widget(Paragraph::new(lines), inner);
            return;
        }
        let Some(view) = self.responses.get_mut(&path) else {
            let send = model.keymap.say(
                crate::tui::keys::Ctx::Global,
                crate::tui::keys::Action::Send,
            );
            let hint = Line::styled(
                format!("Nothing sent yet. {send} sends the request."),
                theme.dim,
            );
            frame.render_widget(Paragraph::new(vec![Line::raw(""), hint]), inner);
            return;
        };
        draw_view(frame, inner, view, theme, model.frame, &keys);
    }
}

/// One response (status, tabs, body) in `inner`; the history screen shows entries with it too.
pub fn draw_view(
    frame: &mut Frame,
    inner: Rect,
    view: &mut ResponseView,
    theme: &Theme,
    tick: u64,
    keys: &ResponseKeys,
) {
    let capture_rows = if view.captures.is_empty() { 0 } else { 1 };
    let spinner = SPINNER[(tick % SPINNER.len() as u64) as usize];
    let note: Option<Line> = if let Some(f) = &view.filtering {
        Some(Line::styled(
            format!(
                "{spinner} filtering with '{}'… {:.1} s · {} stops",
                f.expr,
                f.started.elapsed().as_secs_f32(),
                keys.back
            ),
            theme.warning,
        ))
    } else if let Some(e) = &view.filter_error {
        Some(Line::styled(
            format!("{e} ({} hides this)", keys.back),
            theme.error,
        ))
    } else if let (Some(p), ResponseTab::Body, None) = (view.preparing(), view.tab, &view.sub) {
        Some(progress_line(spinner, p, theme, inner.width))
    } else if let Some(job) = &view.job {
        Some(Line::styled(
            format!("Accepted: watched as a job on the jobs screen; its status is polled at {job}"),
            theme.accent,
        ))
    } else if let Some(summary) = &view.outcome_summary {
        Some(Line::styled(summary.clone(), theme.error))
    } else if let Some(n) = view.search_note.as_ref().filter(|_| view.sub.is_none()) {
        Some(Line::styled(n.clone(), theme.warning))
    } else {
        match &view.outcome {
            Outcome::Received { body, .. }
                if view.tab == ResponseTab::Body && view.sub.is_none() =>
            {
                body.note.clone().map(|n| Line::styled(n, theme.warning))
            }
            _ => None,
        }
    };
    // A note (an OperationOutcome's diagnostics, a status URL) wraps onto up to three rows
    // rather than being cut at the pane's edge.
    let note_rows = note.as_ref().map_or(0, |n| {
        let width = usize::from(inner.width.max(1));
        n.width().div_ceil(width).clamp(1, 3) as u16
    });
    let [status_row, tabs_row, capture_row, note_row, body_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(capture_rows),
        Constraint::Length(note_rows),
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
            let line = status_line(view, response, status_row.width as usize, theme, keys);
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
    tabs.push(Span::styled(position_text(view), theme.dim));
    if let (ResponseTab::Body, Some(sub)) = (view.tab, &view.sub) {
        tabs.push(Span::styled(
            format!("  {} · {} back", shorten(&sub.label, 60), keys.back),
            theme.accent,
        ));
    }
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
        frame.render_widget(Paragraph::new(n).wrap(Wrap { trim: false }), note_row);
    }

    let height = body_area.height as usize;
    let wrap = view.wrap;
    // The Raw tab is the body as received; the Body tab decodes `\uXXXX` unless `u` says not to.
    let as_received = view.as_received || view.tab == ResponseTab::Raw;
    let lines: Vec<Line> = match view.tab {
        ResponseTab::Headers => {
            let Outcome::Received { response, .. } = &view.outcome else {
                return;
            };
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
            v.into_iter()
                .skip(view.headers_scroll)
                .take(height)
                .collect()
        }
        ResponseTab::Body | ResponseTab::Raw if view.spool_active() => match view.spool.as_mut() {
            Some(sp) => spool_lines(sp, body_area.width as usize, height, wrap, theme),
            None => Vec::new(),
        },
        ResponseTab::Body | ResponseTab::Raw => match view.pane_mut() {
            Some(pane) => body_lines(
                pane,
                body_area.width as usize,
                height,
                wrap,
                as_received,
                theme,
            ),
            None => Vec::new(),
        },
    };
    let mut p = Paragraph::new(lines);
    if wrap {
        p = p.wrap(Wrap { trim: false });
    }
    frame.render_widget(p, body_area);
}

/// `line 12/3,456`, `record 12 of 3,400`, with folds and wrap noted.
fn position_text(view: &ResponseView) -> String {
    let mut s = match (view.record_position(), view.pane()) {
        (Some(r), _) => r,
        (None, None) if view.spool_active() => {
            let (cursor, total) = view
                .spool
                .as_ref()
                .map_or((0, 0), |sp| (sp.view.cursor, sp.line_count()));
            format!(
                "line {}/{}",
                group_digits((cursor + 1).min(total)),
                group_digits(total)
            )
        }
        (None, Some(p)) => {
            let total = p.text.line_count();
            format!(
                "line {}/{}",
                group_digits((p.cursor_line() + 1).min(total)),
                group_digits(total)
            )
        }
        (None, None) => {
            let total = view.line_count();
            format!(
                "line {}/{}",
                group_digits((view.headers_scroll + 1).min(total)),
                group_digits(total)
            )
        }
    };
    if view.preparing().is_some() && view.tab == ResponseTab::Body && view.sub.is_none() {
        // Only the top of the body is there yet.
        s.push('+');
    }
    if let Some(n) = view.pane().map(|p| p.fold_count()).filter(|n| *n > 0) {
        s.push_str(&format!(" · {} folded", group_digits(n)));
    }
    if view.wrap {
        s.push_str(" · wrap");
    }
    s
}

/// `received 120.0 MiB of 300.0 MiB  [██████░░░░]  40% · into a temporary file`, as much of it
/// as fits in `width` columns (the bar and the remarks give way first).
fn receive_line(p: &Receiving, theme: &Theme, width: u16) -> Line<'static> {
    let got = format!("  received {}", human_size(p.received));
    let Some(total) = p.total.filter(|t| *t > 0) else {
        return Line::styled(got, theme.text);
    };
    let f = (p.received as f64 / total as f64).clamp(0.0, 1.0);
    let head = format!("{got} of {}  ", human_size(total));
    let spool = if p.spooling {
        " · into a temporary file (too large for memory)"
    } else {
        ""
    };
    let pct = format!("  {:>3.0}%", f * 100.0);
    let tails: &[&str] = if p.spooling {
        &[spool, " · into a temporary file", ""]
    } else {
        &[""]
    };
    let mut line = bar_line(&head, f, &pct, tails, width, theme);
    if let Some(first) = line.spans.first_mut() {
        first.style = theme.text;
    }
    if p.spooling
        && let Some(last) = line
            .spans
            .last_mut()
            .filter(|s| s.content.starts_with(" ·"))
    {
        last.style = theme.warning;
    }
    line
}

/// `⠋ preparing the whole body  ██████░░░░░░░░░░░░░░   31% of 48.0 MiB · keys work meanwhile`,
/// shortened to fit `width` columns.
fn progress_line(
    spinner: &str,
    p: &crate::worker::body::Pending,
    theme: &Theme,
    width: u16,
) -> Line<'static> {
    let f = p.fraction();
    let pct = format!("  {:>3.0}% of {}", f * 100.0, human_size(p.total));
    let long = format!("{spinner} preparing the whole body  ");
    let line = bar_line(
        &long,
        f,
        &pct,
        &[" · keys work meanwhile", ""],
        width,
        theme,
    );
    if line.width() <= width as usize {
        return line;
    }
    bar_line(
        &format!("{spinner} preparing  "),
        f,
        &pct,
        &[""],
        width,
        theme,
    )
}

/// `HEAD ████░░░░ PCT TAIL` with the widest tail and bar (20, 10 or no cells) that fit `width`.
fn bar_line(
    head: &str,
    f: f64,
    pct: &str,
    tails: &[&str],
    width: u16,
    theme: &Theme,
) -> Line<'static> {
    let fixed = head.chars().count() + pct.chars().count();
    let mut choice = (0, "");
    'found: for tail in tails {
        for cells in [20, 10] {
            if fixed + cells + tail.chars().count() <= width as usize {
                choice = (cells, tail);
                break 'found;
            }
        }
    }
    let (cells, tail) = choice;
    let full = ((f * cells as f64).round() as usize).min(cells);
    let mut spans = vec![
        Span::styled(head.to_string(), theme.warning),
        Span::styled("█".repeat(full), theme.accent),
        Span::styled("░".repeat(cells - full), theme.dim),
        Span::styled(pct.to_string(), theme.dim),
    ];
    if !tail.is_empty() {
        spans.push(Span::styled(tail.to_string(), theme.dim));
    }
    Line::from(spans)
}

/// The top `rows` lines of a body still arriving, highlighted as the body will be, with the
/// line-number gutter (so the first frame of the whole body looks the same).
fn head_lines(head: &BodyText, width: usize, rows: usize, theme: &Theme) -> Vec<Line<'static>> {
    let n = head.line_count().min(rows);
    let gutter = n.max(1).to_string().len().max(4);
    (0..n)
        .map(|i| {
            let text = head.line(i);
            let mut spans = Vec::new();
            let mut st = JsonLineState::default();
            highlight_json_line_capped(&text, &mut st, DRAW_LINE_BYTES, &mut spans);
            let mut out = vec![
                Span::styled(format!("{:>gutter$}", i + 1), theme.dim),
                Span::raw(" "),
            ];
            let mut to_skip = 0;
            let mut left = width.saturating_sub(gutter + 1).max(1);
            for s in spans {
                if let Some(visible) = text
                    .get(s.range.clone())
                    .and_then(|piece| clip(piece, &mut to_skip, &mut left))
                {
                    out.push(Span::styled(visible, theme.token(s.kind)));
                }
            }
            Line::from(out)
        })
        .collect()
}

/// Highlights and draws only the `height` visible rows from the pane's top row, with a
/// line-number gutter (the cursor's row marked), folded blocks as one summary line, and at
/// most a screenful of characters from each line (a compact 50 MB body is one line). Strings
/// show `\uXXXX` escapes decoded unless `as_received` (`u`).
fn body_lines(
    pane: &mut BodyPane,
    width: usize,
    height: usize,
    wrap: bool,
    as_received: bool,
    theme: &Theme,
) -> Vec<Line<'static>> {
    pane.view.height = height.max(1);
    pane.keep_cursor_visible();
    let total = pane.text.line_count();
    let gutter = total.max(1).to_string().len();
    let rows: Vec<(usize, usize)> = (pane.view.top..pane.view.top + height)
        .map_while(|r| pane.line_for_row(r).map(|l| (r, l)))
        .collect();
    // Highlight runs of consecutive lines together (folds break the runs).
    let mut spans: Vec<Vec<crate::view_body::Span>> = Vec::with_capacity(rows.len());
    let mut i = 0;
    while let Some(&(_, first)) = rows.get(i) {
        let mut j = i + 1;
        while rows.get(j).is_some_and(|&(_, l)| l == first + (j - i)) {
            j += 1;
        }
        spans.extend(
            pane.highlighter
                .spans_for_lines(&pane.text, first..first + (j - i)),
        );
        i = j;
    }
    let budget = if wrap {
        width.saturating_mul(height).max(1)
    } else {
        width.max(1)
    };
    let search = pane.search.as_ref();
    rows.iter()
        .zip(spans)
        .map(|(&(row, n), line_spans)| {
            let line = pane.text.line(n);
            let gutter_style = if row == pane.view.cursor {
                theme.selected
            } else {
                theme.dim
            };
            let mut out = vec![
                Span::styled(format!("{:>gutter$}", n + 1), gutter_style),
                Span::raw(" "),
            ];
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
            let mut to_skip = pane.hscroll;
            let mut left = budget;
            for (s, mark) in split_at_marks(line_spans, &line_marks) {
                if left == 0 {
                    break;
                }
                let decoded = line.get(s.range.clone()).map(|piece| match s.kind {
                    TokenKind::Key | TokenKind::String if !as_received => {
                        crate::view_body::decode_unicode_escapes(piece)
                    }
                    _ => std::borrow::Cow::Borrowed(piece),
                });
                let Some(visible) = decoded
                    .as_deref()
                    .and_then(|piece| clip(piece, &mut to_skip, &mut left))
                else {
                    continue;
                };
                let style = match mark {
                    Some(true) => theme.selected,
                    Some(false) => theme
                        .token(s.kind)
                        .add_modifier(ratatui::style::Modifier::REVERSED),
                    None => theme.token(s.kind),
                };
                out.push(Span::styled(visible, style));
            }
            if let Some(summary) = pane.fold_summary(n) {
                out.push(Span::styled(summary, theme.accent));
            }
            Line::from(out)
        })
        .collect()
}

/// The visible lines of a body kept on disk, read from the file now: JSON and NDJSON lines
/// highlighted each on its own (a record a line), other text plain.
fn spool_lines(
    sp: &mut SpoolPane,
    width: usize,
    height: usize,
    wrap: bool,
    theme: &Theme,
) -> Vec<Line<'static>> {
    sp.view.height = height.max(1);
    sp.keep_cursor_visible();
    let total = sp.line_count();
    let gutter = total.max(1).to_string().len();
    let budget = if wrap {
        width.saturating_mul(height).max(1)
    } else {
        width.max(1)
    };
    let json = matches!(sp.kind, BodyKind::Json | BodyKind::NdJson);
    (sp.view.top..(sp.view.top + height).min(total))
        .map(|n| {
            let text = sp.text.line(n, DRAW_LINE_BYTES);
            let mut spans = Vec::new();
            if json {
                let mut st = JsonLineState::default();
                highlight_json_line_capped(&text, &mut st, DRAW_LINE_BYTES, &mut spans);
            } else if !text.is_empty() {
                spans.push(crate::view_body::Span {
                    range: 0..text.len(),
                    kind: TokenKind::Plain,
                });
            }
            let mut out = vec![
                Span::styled(
                    format!("{:>gutter$}", n + 1),
                    if n == sp.view.cursor {
                        theme.selected
                    } else {
                        theme.dim
                    },
                ),
                Span::raw(" "),
            ];
            let mut to_skip = sp.hscroll;
            let mut left = budget;
            for s in spans {
                if left == 0 {
                    break;
                }
                let Some(visible) = text
                    .get(s.range.clone())
                    .and_then(|piece| clip(piece, &mut to_skip, &mut left))
                else {
                    continue;
                };
                out.push(Span::styled(visible, theme.token(s.kind)));
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

/// The part of `piece` that shows after `to_skip` characters scrolled off to the left, at most
/// `left` characters; both counters move on. `None` when nothing of it shows.
fn clip(piece: &str, to_skip: &mut usize, left: &mut usize) -> Option<String> {
    let mut chars = piece.chars();
    while *to_skip > 0 && chars.next().is_some() {
        *to_skip -= 1;
    }
    let visible: String = chars.take(*left).collect();
    if visible.is_empty() {
        return None;
    }
    *left -= visible.chars().count();
    Some(visible)
}

/// The Response pane's first row, fitted to `width`: status, time and size always; then the
/// request id (support tickets need it whole, so it goes before anything that can be shortened);
/// then ETag, Location and the request line, shortened into what is left.
fn status_line<'a>(
    view: &ResponseView,
    response: &crate::worker::http::HttpResponse,
    width: usize,
    theme: &Theme,
    keys: &ResponseKeys,
) -> Line<'a> {
    let status = format!("{} {}", response.status, response.reason);
    let meta = format!(
        "  {} ms · {} · {}",
        response.elapsed.as_millis(),
        human_size(response.body.len()),
        view.received_at.format("%H:%M:%S")
    );
    let restored = if view.restored {
        "  (from the last session's history)"
    } else {
        ""
    };
    let id = view.request_id_header().map(|id| {
        if width >= 90 {
            format!("  request id {id} ({} copies)", keys.copy_request_id)
        } else {
            format!("  id {id}")
        }
    });
    let used = |parts: &[&str]| parts.iter().map(|p| p.chars().count()).sum::<usize>();
    let mut left = width.saturating_sub(used(&[
        &status,
        &meta,
        restored,
        id.as_deref().unwrap_or(""),
    ]));
    // What may be shortened, in the order it gives way: the request line first.
    let mut take = |label: &str, value: &str, cap: usize| -> String {
        let room = left.min(cap).saturating_sub(label.chars().count() + 2);
        if room < 16 {
            return String::new();
        }
        let text = format!("  {label}{}", shorten(value, room));
        left = left.saturating_sub(text.chars().count());
        text
    };
    let etag = response
        .header("etag")
        .map(|v| take("ETag ", v, 40))
        .unwrap_or_default();
    let location = response
        .header("location")
        .map(|v| take("Location ", v, 80))
        .unwrap_or_default();
    let request = take("", &view.request_line, 62);
    Line::from(vec![
        Span::styled(status, theme.status_code(response.status)),
        Span::styled(meta, theme.dim),
        Span::styled(restored, theme.warning),
        Span::styled(format!("{etag}{location}"), theme.accent),
        Span::styled(id.unwrap_or_default(), theme.dim),
        Span::styled(request, theme.dim),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view_body::{Span as S, TokenKind};

    #[test]
    fn progress_lines_fit_the_pane() {
        let theme = Theme::default();
        let p = Receiving {
            received: 120 * 1024 * 1024,
            total: Some(300 * 1024 * 1024),
            spooling: true,
            head: None,
        };
        let wide = receive_line(&p, &theme, 200).to_string();
        assert!(
            wide.ends_with("  40% · into a temporary file (too large for memory)"),
            "{wide}"
        );
        for width in [60u16, 76, 118] {
            let line = receive_line(&p, &theme, width);
            assert!(line.width() <= width as usize, "{width}: {line}");
            assert!(line.to_string().contains("received 120.0 MiB of 300.0 MiB"));
            let long = "⠋ preparing the whole body  ";
            let bar = bar_line(
                long,
                0.31,
                "   31% of 44.2 MiB",
                &[" · keys work", ""],
                width,
                &theme,
            );
            assert!(bar.width() <= width as usize, "{width}: {bar}");
        }
        let narrow = bar_line(
            "⠋ preparing  ",
            0.5,
            "   50% of 44.2 MiB",
            &[""],
            41,
            &theme,
        );
        assert_eq!(
            narrow.to_string(),
            "⠋ preparing  █████░░░░░   50% of 44.2 MiB"
        );
    }

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
