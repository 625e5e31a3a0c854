//! Drawing the Request pane: method and URL (variables green when they resolve, red when they
//! do not), then the tab's table, body or capture rules.

use crate::tui::keys::{Action, Ctx, Keymap};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, TableState};

use super::{EditorTab, Request, RequestEditor};
use crate::tui::screens::{Pane, View};
use crate::tui::style::Theme;
use crate::tui::widgets::{pane_block, template_line};
use crate::view_body::{JsonLineState, highlight_json_line, validate_json};
use crate::worker::prepare::Seed;
use crate::workspace::template::Context;
use crate::workspace::{BodyKind, KeyValue};

impl Request {
    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let (theme, focused) = (v.theme, v.focused);
        let model = v.model;
        let Some(ed) = self.open(model.open.as_ref()) else {
            let block = pane_block(Pane::Request, "", focused, theme);
            let lines = vec![
                Line::raw(""),
                Line::styled("  No request open.", theme.dim),
                Line::styled(
                    format!(
                        "  Pick one in Collections ({}), or {} to find it by name.",
                        model.keymap.say(Ctx::Collections, Action::Activate),
                        model.keymap.say(Ctx::Global, Action::Palette)
                    ),
                    theme.dim,
                ),
            ];
            frame.render_widget(Paragraph::new(lines).block(block), area);
            return;
        };
        let title = format!(
            "{}{}",
            ed.path.display(),
            if ed.dirty() { " *" } else { "" }
        );
        let block = pane_block(Pane::Request, &title, focused, theme);
        let inner = block.inner(area).inner(ratatui::layout::Margin::new(1, 0));
        frame.render_widget(block, area);
        if inner.height < 3 {
            return;
        }
        // The same context a send would use, so green/red variables tell the truth.
        let seed = Seed {
            workspace: &model.ws,
            path: Some(&ed.path),
            spec: &ed.draft,
            environment: model.active_environment(),
            overrides: &model.session_vars,
        };
        let scope = seed.scope();
        let ctx = seed.context(&scope);

        let [url_row, tabs_row, _gap, content] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(0),
            Constraint::Fill(1),
        ])
        .areas(inner);

        // Method and URL.
        let method = format!(" {} ", ed.draft.method);
        let method_width = method.chars().count() as u16 + 1;
        let [m_area, u_area] =
            Layout::horizontal([Constraint::Length(method_width), Constraint::Fill(1)])
                .areas(url_row);
        frame.render_widget(
            Paragraph::new(Span::styled(
                method,
                theme
                    .method(&ed.draft.method)
                    .add_modifier(Modifier::REVERSED),
            )),
            m_area,
        );
        if let Some(url) = &ed.url {
            url.draw(frame, u_area, true, theme);
        } else {
            let mut spans = if ed.draft.url.is_empty() {
                vec![Span::styled(
                    format!(
                        "press {} to type the URL",
                        model.keymap.say(
                            crate::tui::keys::Ctx::Request,
                            crate::tui::keys::Action::EditUrl
                        )
                    ),
                    theme.dim,
                )]
            } else {
                template_line(&ed.draft.url, &ctx, theme.text, theme)
            };
            let query = ed.draft.full_url();
            if let Some(q) = query
                .strip_prefix(ed.draft.url.as_str())
                .filter(|q| !q.is_empty())
            {
                spans.extend(template_line(q, &ctx, theme.dim, theme));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), u_area);
        }

        // Tabs.
        let mut tab_spans = Vec::new();
        for tab in EditorTab::ALL {
            let label = match tab {
                EditorTab::Params => format!("Params ({})", ed.draft.query.len()),
                EditorTab::Headers => format!("Headers ({})", ed.draft.headers.len()),
                EditorTab::Body => format!("Body ({})", body_kind_name(ed.draft.body.kind)),
                EditorTab::Captures => format!("Captures ({})", ed.draft.captures.len()),
            };
            tab_spans.push(Span::styled(
                label,
                if tab == ed.tab {
                    theme.tab_active
                } else {
                    theme.dim
                },
            ));
            tab_spans.push(Span::raw("   "));
        }
        frame.render_widget(Paragraph::new(Line::from(tab_spans)), tabs_row);

        match ed.tab {
            EditorTab::Params => kv_table(
                frame,
                content,
                &ed.draft.query,
                ed.row,
                &ctx,
                theme,
                focused,
                &format!(
                    "No query parameters. {} adds one; ?a=b typed in the URL lands here too.",
                    model.keymap.say(Ctx::Request, Action::New)
                ),
            ),
            EditorTab::Headers => kv_table(
                frame,
                content,
                &ed.draft.headers,
                ed.row,
                &ctx,
                theme,
                focused,
                &format!(
                    "No headers. {} adds one.",
                    model.keymap.say(Ctx::Request, Action::New)
                ),
            ),
            EditorTab::Body => body(frame, content, ed, &ctx, theme, focused, &model.keymap),
            EditorTab::Captures => captures(frame, content, ed, theme, focused, &model.keymap),
        }
    }
}

pub(super) fn body_kind_name(kind: BodyKind) -> &'static str {
    match kind {
        BodyKind::None => "none",
        BodyKind::Json => "json",
        BodyKind::Text => "text",
        BodyKind::Form => "form",
    }
}

#[allow(clippy::too_many_arguments)]
fn kv_table(
    frame: &mut Frame,
    area: Rect,
    rows: &[KeyValue],
    selected: usize,
    ctx: &Context,
    theme: &Theme,
    focused: bool,
    empty: &str,
) {
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(empty.to_string(), theme.dim)),
            area,
        );
        return;
    }
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|kv| {
            let style = if kv.enabled {
                theme.text
            } else {
                theme.dim.add_modifier(Modifier::CROSSED_OUT)
            };
            Row::new(vec![
                Line::styled(
                    if kv.enabled { "✓" } else { "·" },
                    if kv.enabled { theme.ok } else { theme.dim },
                ),
                Line::styled(
                    kv.key.clone(),
                    if kv.enabled { theme.header_name } else { style },
                ),
                Line::from(if kv.enabled {
                    template_line(&kv.value, ctx, style, theme)
                } else {
                    vec![Span::styled(kv.value.clone(), style)]
                }),
            ])
        })
        .collect();
    let table = Table::new(
        table_rows,
        [
            Constraint::Length(2),
            Constraint::Percentage(30),
            Constraint::Fill(1),
        ],
    )
    .row_highlight_style(if focused {
        theme.selected
    } else {
        theme.selected_unfocused
    });
    let mut state = TableState::default().with_selected(Some(selected.min(rows.len() - 1)));
    frame.render_stateful_widget(table, area, &mut state);
}

fn body(
    frame: &mut Frame,
    area: Rect,
    ed: &RequestEditor,
    ctx: &Context,
    theme: &Theme,
    focused: bool,
    keymap: &Keymap,
) {
    let say = |a: Action| keymap.say(Ctx::Request, a);
    match ed.draft.body.kind {
        BodyKind::None => {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!(
                        "No body. {} or {} chooses a body kind (json, text, form); {} then opens $EDITOR.",
                        say(Action::Edit),
                        say(Action::CycleBodyKind),
                        say(Action::ExternalEdit)
                    ),
                    theme.dim,
                )),
                area,
            );
        }
        BodyKind::Form => kv_table(
            frame,
            area,
            &ed.draft.body.form,
            ed.row,
            ctx,
            theme,
            focused,
            &format!("No form fields. {} adds one.", say(Action::New)),
        ),
        kind => {
            let [text_area, check] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
            if ed.body_editing {
                let mut t = ed.body.area().clone();
                t.set_cursor_line_style(Style::new());
                t.set_line_number_style(theme.dim);
                t.set_cursor_style(Style::new().add_modifier(Modifier::REVERSED));
                frame.render_widget(&t, text_area);
            } else {
                let mut state = JsonLineState::default();
                let lines: Vec<Line> = ed
                    .draft
                    .body
                    .text
                    .lines()
                    .take(text_area.height as usize)
                    .map(|l| {
                        if kind == BodyKind::Json {
                            let spans = highlight_json_line(l, &mut state);
                            Line::from(
                                spans
                                    .into_iter()
                                    .map(|s| {
                                        Span::styled(l[s.range].to_string(), theme.token(s.kind))
                                    })
                                    .collect::<Vec<_>>(),
                            )
                        } else {
                            Line::from(template_line(l, ctx, theme.text, theme))
                        }
                    })
                    .collect();
                frame.render_widget(Paragraph::new(lines), text_area);
            }
            let status = if kind == BodyKind::Json {
                let text = &ed.draft.body.text;
                if text.trim().is_empty() {
                    Line::styled("empty body", theme.dim)
                } else {
                    match validate_json(text.as_bytes()) {
                        Ok(()) => Line::styled("✓ valid JSON", theme.ok),
                        Err(e) if text.contains("{{") => Line::styled(
                            format!(
                                "JSON check: line {}, column {}: {} (templates are filled in before sending)",
                                e.line, e.column, e.message
                            ),
                            theme.warning,
                        ),
                        Err(e) => Line::styled(
                            format!(
                                "✗ JSON error at line {}, column {}: {}",
                                e.line, e.column, e.message
                            ),
                            theme.error,
                        ),
                    }
                }
            } else {
                Line::styled("plain text body", theme.dim)
            };
            let hint = if ed.body_editing {
                format!(
                    "  · {} stops editing",
                    keymap.say(Ctx::Editing, Action::Close)
                )
            } else {
                format!(
                    "  · {} edits · {}: $EDITOR",
                    say(Action::Edit),
                    say(Action::ExternalEdit)
                )
            };
            frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(status.to_string(), status.style),
                    Span::styled(hint, theme.dim),
                ])),
                check,
            );
        }
    }
}

fn captures(
    frame: &mut Frame,
    area: Rect,
    ed: &RequestEditor,
    theme: &Theme,
    focused: bool,
    keymap: &Keymap,
) {
    if ed.draft.captures.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "No capture rules. {} adds one: a variable set from $.json.path or header:Name after a 2xx answer.",
                    keymap.say(Ctx::Request, Action::New)
                ),
                theme.dim,
            )),
            area,
        );
        return;
    }
    let rows: Vec<Row> = ed
        .draft
        .captures
        .iter()
        .map(|c| Row::new(vec![Line::styled(c.to_string(), theme.text)]))
        .collect();
    let table = Table::new(rows, [Constraint::Fill(1)]).row_highlight_style(if focused {
        theme.selected
    } else {
        theme.selected_unfocused
    });
    let mut state =
        TableState::default().with_selected(Some(ed.row.min(ed.draft.captures.len() - 1)));
    frame.render_stateful_widget(table, area, &mut state);
}
