//! The FHIR browser screen: a page of the visit history (bundle table, patient summary,
//! OperationOutcome, JSON with references), and the patient lookup bar over it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Clear, Paragraph, Row, Table, TableState, Wrap,
};

use super::{Browser, Loaded, Lookup, Page, PageContent};
use crate::fhir::{
    BundleView, Column, EntryView, cell, columns_for, outcome_summary, references_in_line,
};
use crate::tui::keys::{Action, Ctx, Keymap};
use crate::tui::screens::View;
use crate::tui::style::Theme;
use crate::tui::widgets::hint_spans;
use crate::tui::widgets::{SPINNER, shorten};
use crate::view_body::{JsonLineState, highlight_json_line};

impl Browser {
    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let (b, theme) = (self, v.theme);
        let spinner = SPINNER[(v.model.frame % SPINNER.len() as u64) as usize];
        let title = match b.current() {
            Some(p) => format!(
                " FHIR browser · {}/{} · {} ",
                b.pos + 1,
                b.pages.len(),
                shorten(&p.url, area.width.saturating_sub(30) as usize)
            ),
            None => " FHIR browser ".into(),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Thick)
            .border_style(theme.border_focused)
            .title(Span::styled(title, theme.title_focused));
        let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        let [body, hints] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        match b.current() {
            Some(page) => draw_page(frame, body, page, theme, spinner),
            None => {
                frame.render_widget(
                    Paragraph::new(Line::styled("Type to find a patient.", theme.dim)),
                    body,
                );
            }
        }
        let mut hint = if b.lookup.is_some() {
            hint_spans(&v.model.keymap, b.ctx(), theme)
        } else {
            page_hints(&v.model.keymap, b.current(), theme)
        };
        if b.lookup.is_some() {
            hint.push(Span::styled(
                "· words=name, a date=birthdate (>1990), M/F, system|value or MRN, field:value",
                theme.dim,
            ));
        } else {
            hint.push(Span::styled(
                format!(
                    "· {} all keys",
                    v.model.keymap.say(Ctx::Global, Action::Help)
                ),
                theme.dim,
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(hint)), hints);
        if let Some(l) = &b.lookup {
            draw_lookup(frame, body, l, theme, spinner, &v.model.keymap);
        }
    }
}

/// The browser's hints for the page shown, without the ones that do nothing there: `next`
/// only for a bundle with a next page, `chart` only for a patient.
fn page_hints(keymap: &Keymap, page: Option<&Page>, theme: &Theme) -> Vec<Span<'static>> {
    let loaded = page.and_then(|p| match &p.content {
        PageContent::Loaded(l) => Some(l),
        _ => None,
    });
    let has_next = loaded
        .and_then(|l| l.bundle.as_ref())
        .is_some_and(|b| b.links.next.is_some());
    let is_patient = loaded.is_some_and(|l| l.patient.is_some());
    let hide = |key: &str| {
        (!has_next && keymap.label(Ctx::Browser, Action::NextPage).as_deref() == Some(key))
            || (!is_patient && keymap.label(Ctx::Browser, Action::Chart).as_deref() == Some(key))
    };
    let mut spans = Vec::new();
    for (key, label) in keymap.hints(Ctx::Browser) {
        if hide(&key) {
            continue;
        }
        spans.push(Span::styled(key, theme.key_hint));
        spans.push(Span::styled(format!(" {label}  "), theme.dim));
    }
    spans
}

fn draw_page(frame: &mut Frame, area: Rect, page: &Page, theme: &Theme, spinner: &str) {
    match &page.content {
        PageContent::Loading => {
            frame.render_widget(
                Paragraph::new(Line::styled(format!("{spinner} loading…"), theme.warning)),
                area,
            );
        }
        PageContent::Failed(e) => {
            frame.render_widget(
                Paragraph::new(Line::styled(format!("✗ {e}"), theme.error))
                    .wrap(Wrap { trim: false }),
                area,
            );
        }
        PageContent::Loaded(l) => draw_loaded(frame, area, page, l, theme),
    }
}

fn draw_loaded(frame: &mut Frame, area: Rect, page: &Page, l: &Loaded, theme: &Theme) {
    let mut head: Vec<Line> = Vec::new();
    let mut status = vec![Span::styled(
        format!("{}", l.status),
        theme.status_code(l.status),
    )];
    if let Some(bundle) = &l.bundle {
        status.push(Span::styled(
            format!(
                " · {} · {} · {}",
                bundle
                    .bundle_type
                    .clone()
                    .unwrap_or_else(|| "bundle".into()),
                bundle.count_label(),
                bundle.table_type().unwrap_or("no entries")
            ),
            theme.text,
        ));
        let links: Vec<&str> = [
            bundle.links.first.as_ref().map(|_| "0 first"),
            bundle.links.previous.as_ref().map(|_| "p previous"),
            bundle.links.next.as_ref().map(|_| "n next"),
            bundle.links.last.as_ref().map(|_| "$ last"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !links.is_empty() {
            status.push(Span::styled(
                format!("   links: {}", links.join(", ")),
                theme.dim,
            ));
        }
    }
    head.push(Line::from(status));
    if let Some(issues) = &l.outcome {
        for issue in issues {
            let style = if issue.is_error() {
                theme.error
            } else {
                theme.warning
            };
            head.push(Line::styled(
                format!(
                    "{} ({}): {}{}",
                    issue.severity,
                    issue.code,
                    issue.message(),
                    if issue.expression.is_empty() {
                        String::new()
                    } else {
                        format!("  at {}", issue.expression.join(", "))
                    }
                ),
                style,
            ));
        }
    } else if let Some(bundle) = &l.bundle {
        if let Some(note) = crate::fhir::handling::ignored_note(&l.ignored) {
            head.push(Line::styled(
                crate::text::sanitize::for_line(&note).into_owned(),
                theme.warning,
            ));
        }
        let outcomes: Vec<_> = bundle
            .outcomes()
            .filter_map(|e| l.json.as_ref().and_then(|j| bundle.resource(j, e)))
            .collect();
        for o in outcomes {
            if let Some(issues) = crate::fhir::parse_outcome(o) {
                head.push(Line::styled(
                    format!("server note: {}", outcome_summary(&issues)),
                    theme.warning,
                ));
            }
        }
    }
    if let Some(p) = &l.patient {
        head.push(Line::styled(
            p.headline(p.identifiers.is_empty()),
            theme.accent.add_modifier(Modifier::BOLD),
        ));
        if !p.identifiers.is_empty() {
            let ids: Vec<String> = p
                .identifiers
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            head.push(Line::styled(
                format!("identifiers: {}", ids.join(" · ")),
                theme.text,
            ));
        }
        if let Some(a) = &p.address {
            head.push(Line::styled(format!("address: {a}"), theme.text));
        }
        if !p.telecom.is_empty() {
            head.push(Line::styled(
                format!("telecom: {}", p.telecom.join(" · ")),
                theme.text,
            ));
        }
        head.push(Line::styled(
            "o observations · e encounters · c conditions · E $everything · V chart",
            theme.key_hint,
        ));
    }
    head.push(Line::raw(""));
    let [head_area, rest] =
        Layout::vertical([Constraint::Length(head.len() as u16), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(head), head_area);
    match (&l.bundle, &l.json) {
        (Some(bundle), Some(json)) if !page.json_view => {
            bundle_table(frame, rest, bundle, json, page.selected, theme)
        }
        _ => json_lines(frame, rest, l, page.selected, theme),
    }
}

fn bundle_table(
    frame: &mut Frame,
    area: Rect,
    bundle: &BundleView,
    json: &serde_json::Value,
    selected: usize,
    theme: &Theme,
) {
    let cols = columns_for(bundle.table_type().unwrap_or("mixed"));
    let entries: Vec<&EntryView> = bundle.entries.iter().filter(|e| !e.is_outcome()).collect();
    if entries.is_empty() {
        frame.render_widget(Paragraph::new(Line::styled("No entries.", theme.dim)), area);
        return;
    }
    resource_table(frame, area, bundle, json, &entries, cols, selected, theme);
}

/// Entries of a bundle as rows of `cols`; included (not matched) entries are dimmed.
#[allow(clippy::too_many_arguments)]
fn resource_table(
    frame: &mut Frame,
    area: Rect,
    bundle: &BundleView,
    json: &serde_json::Value,
    entries: &[&EntryView],
    cols: &[Column],
    selected: usize,
    theme: &Theme,
) {
    let today = chrono::Local::now().date_naive();
    let cells: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let res = bundle.resource(json, e);
            cols.iter()
                .map(|c| res.map(|r| cell(r, *c, today)).unwrap_or_default())
                .collect()
        })
        .collect();
    // Each column as wide as its widest cell (ids are often 36-character UUIDs), within a cap;
    // when they do not fit, the last (least telling) columns go rather than every cell being
    // cut to a stub.
    let widths: Vec<u16> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let content = cells
                .iter()
                .map(|row| unicode_width::UnicodeWidthStr::width(row[i].as_str()))
                .max()
                .unwrap_or(0)
                .max(c.title().len());
            u16::try_from(content.min(48)).unwrap_or(48)
        })
        .collect();
    let mut shown = cols.len();
    while shown > 1
        && widths[..shown]
            .iter()
            .map(|w| w + 2)
            .sum::<u16>()
            .saturating_sub(2)
            > area.width
    {
        shown -= 1;
    }
    let cols = &cols[..shown];
    let rows: Vec<Row> = entries
        .iter()
        .zip(cells)
        .map(|(e, row)| {
            let style = if e.search_mode.as_deref() == Some("include") {
                theme.dim
            } else {
                theme.text
            };
            Row::new(row.into_iter().take(shown).collect::<Vec<_>>()).style(style)
        })
        .collect();
    let widths: Vec<Constraint> = widths[..shown]
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i + 1 == shown {
                Constraint::Min(*w)
            } else {
                Constraint::Length(*w)
            }
        })
        .collect();
    let header = Row::new(cols.iter().map(|c| c.title()).collect::<Vec<_>>())
        .style(theme.header_name.add_modifier(Modifier::BOLD));
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(theme.selected)
        .column_spacing(2);
    let mut st =
        TableState::default().with_selected(Some(selected.min(entries.len().saturating_sub(1))));
    frame.render_stateful_widget(table, area, &mut st);
}

fn json_lines(frame: &mut Frame, area: Rect, l: &Loaded, selected: usize, theme: &Theme) {
    let height = area.height as usize;
    let total = l.text.line_count();
    let start = selected
        .saturating_sub(height / 2)
        .min(total.saturating_sub(height));
    let mut state = JsonLineState::default();
    let lines: Vec<Line> = (start..(start + height).min(total))
        .map(|n| {
            let text = l.text.line(n);
            let refs = references_in_line(&text);
            let mut spans: Vec<Span> = highlight_json_line(&text, &mut state)
                .into_iter()
                .map(|s| {
                    let mut style = theme.token(s.kind);
                    if refs
                        .iter()
                        .any(|(r, _)| r.start <= s.range.start && s.range.end <= r.end + 1)
                    {
                        style = style.add_modifier(Modifier::UNDERLINED);
                    }
                    Span::styled(text.get(s.range).unwrap_or("").to_string(), style)
                })
                .collect();
            if n == selected {
                spans.insert(0, Span::styled("▶ ", theme.accent));
                for s in spans.iter_mut().skip(1) {
                    s.style = s.style.add_modifier(Modifier::BOLD);
                }
            } else {
                spans.insert(0, Span::raw("  "));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_lookup(
    frame: &mut Frame,
    area: Rect,
    l: &Lookup,
    theme: &Theme,
    spinner: &str,
    keymap: &Keymap,
) {
    let h = area.height.min(24);
    let r = Rect {
        x: area.x,
        y: area.y,
        width: area.width,
        height: h,
    };
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.border_focused)
        .title(Span::styled(" Find a patient ", theme.title_focused));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let [input_row, expl_row, results] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    let [p, f] = Layout::horizontal([Constraint::Length(2), Constraint::Fill(1)]).areas(input_row);
    frame.render_widget(Paragraph::new(Span::styled("› ", theme.accent)), p);
    l.input.draw(frame, f, true, theme);
    let expl = if l.pending.is_some() {
        format!("{spinner} searching: {}", l.explanation.join(", "))
    } else {
        l.explanation.join(", ")
    };
    frame.render_widget(Paragraph::new(Line::styled(expl, theme.dim)), expl_row);
    match &l.results {
        None => {}
        Some(Err(e)) => frame.render_widget(
            Paragraph::new(Line::styled(format!("✗ {e}"), theme.error)),
            results,
        ),
        Some(Ok(loaded)) => match (&loaded.bundle, &loaded.json) {
            (Some(bundle), Some(json)) => {
                let cols = columns_for("Patient");
                let matches: Vec<_> = bundle.matches().collect();
                if matches.is_empty() {
                    let msg = if let Some(issues) = &loaded.outcome {
                        outcome_summary(issues)
                    } else {
                        "No patient matches.".into()
                    };
                    frame.render_widget(Paragraph::new(Line::styled(msg, theme.dim)), results);
                    return;
                }
                let [table, foot] =
                    Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(results);
                resource_table(
                    frame, table, bundle, json, &matches, cols, l.selected, theme,
                );
                let first = (l.page - 1) * super::LOOKUP_PAGE + 1;
                let last = first + matches.len() - 1;
                let of = match (bundle.total, &bundle.links.next) {
                    (Some(t), _) => format!(" of {t}"),
                    (None, Some(_)) => format!(" of {last}+"),
                    (None, None) => String::new(),
                };
                // The keys in force (keys.toml may move them), as the status bar names them.
                let more = if bundle.links.next.is_some() {
                    format!(" · {} more", keymap.say(Ctx::Lookup, Action::NextPage))
                } else {
                    String::new()
                };
                let back = if bundle.links.previous.is_some() {
                    format!(" · {} back", keymap.say(Ctx::Lookup, Action::PrevPage))
                } else {
                    String::new()
                };
                frame.render_widget(
                    Paragraph::new(Line::styled(
                        format!("patients {first}–{last}{of}{more}{back}"),
                        theme.dim,
                    )),
                    foot,
                );
            }
            _ => {
                let msg = match &loaded.outcome {
                    Some(issues) => format!("{}: {}", loaded.status, outcome_summary(issues)),
                    None => format!("The server answered {} without a Bundle.", loaded.status),
                };
                frame.render_widget(
                    Paragraph::new(Line::styled(msg, theme.error)).wrap(Wrap { trim: false }),
                    results,
                );
            }
        },
    }
}
