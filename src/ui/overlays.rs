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
use crate::app::{App, Overlay};
use crate::tui::keys::bindings::Ctx;
use crate::tui::widgets::mask;
use crate::workspace::METHODS;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(overlay) = &app.overlay else { return };
    match overlay {
        Overlay::Help { scroll } => help(frame, area, app, *scroll, theme),
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
        Overlay::Conflict(c) => conflict(frame, area, c, theme),
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
        Overlay::AuthEditor { env, row } => auth_editor(frame, area, app, env, *row, theme),
        Overlay::Capabilities { selected, scroll } => {
            capabilities(frame, area, app, *selected, *scroll, theme)
        }
        Overlay::Jobs { selected } => super::jobs::draw(frame, area, app, *selected, theme),
        Overlay::ExportForm(form) => super::jobs::draw_form(frame, area, form, theme),
        Overlay::Text {
            title,
            text,
            scroll,
        } => {
            let r = centered(
                area,
                110,
                (text.lines().count() as u16 + 4).min(area.height.saturating_sub(2)),
            );
            frame.render_widget(Clear, r);
            let mut lines: Vec<Line> = text
                .lines()
                .map(|l| Line::styled(l.to_string(), theme.text))
                .collect();
            lines.push(Line::raw(""));
            lines.push(Line::styled("j/k scroll · Esc closes", theme.dim));
            frame.render_widget(
                Paragraph::new(lines)
                    .block(dialog_block(title, theme))
                    .wrap(Wrap { trim: false })
                    .scroll((*scroll, 0)),
                r,
            );
        }
        Overlay::SignIn { env, view } => sign_in(frame, area, app, env, view, theme),
        // Drawn by `ui::history` (it needs the body viewer's mutable state).
        Overlay::History => {}
        Overlay::TokenViewer { env, scroll } => token_viewer(frame, area, app, env, *scroll, theme),
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

/// The keys in force (`keys.toml` included), context by context.
fn help(frame: &mut Frame, area: Rect, app: &App, scroll: u16, theme: &Theme) {
    let r = centered(area, 96, area.height.saturating_sub(4));
    frame.render_widget(Clear, r);
    // Help text wraps under itself, clear of the 22-column key column.
    let text_width = (r.width as usize).saturating_sub(2 + 22).max(10);
    let mut lines = Vec::new();
    for ctx in Ctx::ALL {
        lines.push(Line::styled(
            ctx.title(),
            theme.accent.add_modifier(Modifier::BOLD),
        ));
        for (b, keys) in app.keymap.bindings().filter(|(b, _)| b.ctx == ctx) {
            let keys = if keys.is_empty() {
                Span::styled(format!("  {:<20}", "(no key)"), theme.dim)
            } else {
                Span::styled(format!("  {:<20}", keys.join(", ")), theme.key_hint)
            };
            let mut parts = wrap_words(b.help, text_width).into_iter();
            let first = parts.next().unwrap_or_default();
            lines.push(Line::from(vec![keys, Span::styled(first, theme.text)]));
            for more in parts {
                lines.push(Line::from(vec![
                    Span::raw(" ".repeat(22)),
                    Span::styled(more, theme.text),
                ]));
            }
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

/// `text` in lines of at most `width` characters, broken between words where it can be.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let fits = line.chars().count() + 1 + word.chars().count() <= width;
        if !line.is_empty() && !fits {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}

/// Files that could not be loaded, then key-binding conflicts and how each was settled.
fn problems(frame: &mut Frame, area: Rect, app: &App, scroll: u16, theme: &Theme) {
    let conflicts = app.keymap.conflicts();
    let items = app.problems.len() + conflicts.len();
    let sections = usize::from(!app.problems.is_empty()) + usize::from(!conflicts.is_empty());
    let r = centered(
        area,
        90,
        ((items * 2 + sections * 2 + 4) as u16).min(area.height.saturating_sub(2)),
    );
    frame.render_widget(Clear, r);
    let mut lines = Vec::new();
    if !app.problems.is_empty() {
        lines.push(Line::styled(
            "These files could not be loaded. They were skipped and will not be written over:",
            theme.text,
        ));
        lines.push(Line::raw(""));
        for p in &app.problems {
            lines.push(Line::styled(format!("• {p}"), theme.error));
        }
        lines.push(Line::raw(""));
    }
    if !conflicts.is_empty() {
        lines.push(Line::styled(
            "Key bindings in conflict. fhirside started with them settled like this:",
            theme.text,
        ));
        lines.push(Line::raw(""));
        for c in conflicts {
            lines.push(Line::styled(format!("• {c}"), theme.warning));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        "Fix them in an editor and restart fhirside. Esc closes this.",
        theme.dim,
    ));
    let title = if app.problems.is_empty() {
        "Key binding conflicts"
    } else {
        "Workspace problems"
    };
    let block = dialog_block(title, theme);
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

fn auth_editor(frame: &mut Frame, area: Rect, app: &App, env: &str, row: usize, theme: &Theme) {
    use crate::app::auth::{AUTH_FIELDS, auth_field_default, auth_field_value};
    let r = centered(
        area,
        110,
        (AUTH_FIELDS.len() as u16 + 6).min(area.height.saturating_sub(2)),
    );
    frame.render_widget(Clear, r);
    let block = dialog_block(&format!("Sign-in settings of '{env}'"), theme);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let config = app
        .ws
        .environment(env)
        .and_then(|e| e.auth.clone())
        .unwrap_or_default();
    let [table_area, hint] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(2)]).areas(inner);
    let rows: Vec<Row> = AUTH_FIELDS
        .iter()
        .map(|f| {
            let value = auth_field_value(&config, f);
            let shown = match (value, *f) {
                (Some(v), "client_secret" | "token") if !v.contains("{{") => mask(&v, true, false),
                (Some(v), _) => v,
                (None, _) => String::new(),
            };
            let default = if shown.is_empty() {
                format!("default: {}", auth_field_default(f))
            } else {
                String::new()
            };
            Row::new(vec![
                Line::styled(f.to_string(), theme.header_name),
                Line::from(vec![
                    Span::styled(shown, theme.text),
                    Span::styled(default, theme.dim),
                ]),
            ])
        })
        .collect();
    let table = Table::new(rows, [Constraint::Length(22), Constraint::Fill(1)])
        .row_highlight_style(theme.selected);
    let mut st = TableState::default().with_selected(Some(row.min(AUTH_FIELDS.len() - 1)));
    frame.render_stateful_widget(table, table_area, &mut st);
    let hints = Line::from(vec![
        Span::styled("Enter", theme.key_hint),
        Span::styled(" edit (kind and flavor cycle)  ", theme.dim),
        Span::styled("s", theme.key_hint),
        Span::styled(" sign in now  ", theme.dim),
        Span::styled("Esc", theme.key_hint),
        Span::styled(
            " close   Saved as you go. Secrets: put {{clientsecret}} here, its value in the variables.",
            theme.dim,
        ),
    ]);
    frame.render_widget(Paragraph::new(hints).wrap(Wrap { trim: true }), hint);
}

fn sign_in(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    env: &str,
    view: &crate::app::auth::SignInView,
    theme: &Theme,
) {
    use crate::app::auth::SignInView;
    let spinner = crate::tui::widgets::SPINNER
        [(app.frame % crate::tui::widgets::SPINNER.len() as u64) as usize];
    let mut lines = vec![Line::raw("")];
    match view {
        SignInView::Waiting { flow } => {
            lines.push(Line::styled(
                format!("{spinner} Starting {flow} for '{env}'…"),
                theme.text,
            ));
        }
        SignInView::DeviceCode { prompt, shown_at } => {
            lines.push(Line::styled(
                "On any device with a browser, open",
                theme.text,
            ));
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!("    {}", prompt.verification_uri),
                theme
                    .accent
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ));
            lines.push(Line::raw(""));
            lines.push(Line::styled("and enter the code", theme.text));
            lines.push(Line::raw(""));
            let spaced: String = prompt.user_code.chars().flat_map(|c| [c, ' ']).collect();
            lines.push(Line::styled(
                format!("    {}", spaced.trim_end()),
                theme
                    .warning
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ));
            lines.push(Line::raw(""));
            let left = prompt
                .expires_in
                .saturating_sub(shown_at.elapsed())
                .as_secs();
            lines.push(Line::styled(
                format!("{spinner} waiting for you to sign in · code expires in {}:{:02} · polling every {} s", left / 60, left % 60, prompt.interval.as_secs()),
                theme.dim,
            ));
        }
        SignInView::Browser { url, port, opened } => {
            lines.push(Line::styled(
                if *opened {
                    "A browser was opened for the sign-in. If it did not appear, open:"
                } else {
                    "Open this address in a browser to sign in:"
                },
                theme.text,
            ));
            lines.push(Line::raw(""));
            lines.push(Line::styled(url.clone(), theme.accent));
            lines.push(Line::raw(""));
            lines.push(Line::styled(format!("The browser returns to http://localhost:{port}/ on this machine. Over SSH, forward the port first:"), theme.text));
            lines.push(Line::styled(
                format!("    ssh -L {port}:localhost:{port} <this host>"),
                theme.warning,
            ));
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!("{spinner} waiting for the redirect…"),
                theme.dim,
            ));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("c", theme.key_hint),
        Span::styled(" copy the code / address (OSC 52)   ", theme.dim),
        Span::styled("Esc", theme.key_hint),
        Span::styled(" cancel sign-in", theme.dim),
    ]));
    let r = centered(area, 96, lines.len() as u16 + 2);
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(dialog_block(&format!("Sign in — {env}"), theme))
            .wrap(Wrap { trim: false }),
        r,
    );
}

fn token_viewer(frame: &mut Frame, area: Rect, app: &App, env: &str, scroll: u16, theme: &Theme) {
    use crate::worker::auth::jwt;
    let r = centered(area, 110, area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let mut lines = Vec::new();
    let Some(crate::app::auth::TokenState::Valid(token)) = app.tokens.get(env) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let audience = app
        .ws
        .environment(env)
        .and_then(|e| {
            let ctx = crate::workspace::template::Context {
                overrides: &app.session_vars,
                environment: Some(e),
                collection: &[],
            };
            e.auth
                .as_ref()
                .and_then(|c| crate::worker::auth::resolve_auth(c, &ctx).ok())
                .map(|a| a.audience)
        })
        .unwrap_or_default();
    match jwt::decode(&token.access_token) {
        None => lines.push(Line::styled(
            "This token is not a JWT (an opaque token): nothing to decode.",
            theme.dim,
        )),
        Some(d) => {
            for w in jwt::warnings(&d, &audience, now) {
                lines.push(Line::styled(format!("⚠ {w}"), theme.warning));
            }
            if lines.is_empty() {
                lines.push(Line::styled(
                    "✓ audience matches, roles or scopes present, not expired",
                    theme.ok,
                ));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "Header",
                theme.accent.add_modifier(Modifier::BOLD),
            ));
            if let Some(obj) = d.header.as_object() {
                for (k, v) in obj {
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {k:<19}"), theme.header_name),
                        Span::styled(v.to_string(), theme.text),
                    ]));
                }
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "Claims",
                theme.accent.add_modifier(Modifier::BOLD),
            ));
            if let Some(obj) = d.claims.as_object() {
                for (k, v) in obj {
                    let shown = if matches!(k.as_str(), "iat" | "nbf" | "exp") {
                        jwt::time_claim(v, now).unwrap_or_else(|| v.to_string())
                    } else {
                        match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        }
                    };
                    let explain = jwt::explain_claim(k);
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {k:<19}"), theme.header_name),
                        Span::styled(shown, theme.text),
                        Span::styled(
                            if explain.is_empty() {
                                String::new()
                            } else {
                                format!("   {explain}")
                            },
                            theme.dim,
                        ),
                    ]));
                }
            }
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Decoded here, offline; the signature is not checked. c copies the token (treat it as a password). Esc closes.", theme.dim));
    let block = dialog_block(&format!("Token of '{env}'"), theme);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        r,
    );
}

fn capabilities(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    selected: usize,
    scroll: u16,
    theme: &Theme,
) {
    use crate::app::capabilities::CapsState;
    let r = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, r);
    let title = format!("Capabilities of {}", app.fhir_base());
    let block = dialog_block(&title, theme);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let state = app
        .active_env
        .as_deref()
        .and_then(|e| app.capabilities.get(e));
    let caps = match state {
        Some(CapsState::Ready(c)) => c,
        Some(CapsState::Loading) => {
            frame.render_widget(
                Paragraph::new(Line::styled("Fetching /metadata…", theme.warning)),
                inner,
            );
            return;
        }
        Some(CapsState::Failed(e)) => {
            frame.render_widget(
                Paragraph::new(Line::styled(format!("✗ {e}"), theme.error))
                    .wrap(Wrap { trim: false }),
                inner,
            );
            return;
        }
        None => {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "Set fhirurl in the active environment first.",
                    theme.dim,
                )),
                inner,
            );
            return;
        }
    };
    let [list, detail] =
        Layout::horizontal([Constraint::Length(28), Constraint::Fill(1)]).areas(inner);
    let items: Vec<ListItem> = caps
        .resources
        .iter()
        .map(|r| ListItem::new(r.type_.clone()))
        .collect();
    let header = format!(
        "FHIR {} · {}",
        caps.fhir_version.clone().unwrap_or_else(|| "?".into()),
        caps.software.clone().unwrap_or_default()
    );
    let l = List::new(items)
        .block(Block::default().title(Span::styled(header, theme.dim)))
        .highlight_style(theme.selected);
    let mut st = ListState::default().with_selected(
        (!caps.resources.is_empty())
            .then_some(selected.min(caps.resources.len().saturating_sub(1))),
    );
    frame.render_stateful_widget(l, list, &mut st);
    let Some(res) = caps
        .resources
        .get(selected.min(caps.resources.len().saturating_sub(1)))
    else {
        return;
    };
    let mut lines = vec![
        Line::styled(res.type_.clone(), theme.accent.add_modifier(Modifier::BOLD)),
        Line::from(vec![
            Span::styled("interactions  ", theme.dim),
            Span::raw(res.interactions.join(", ")),
        ]),
    ];
    if !res.operations.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("operations    ", theme.dim),
            Span::raw(res.operations.join(", ")),
        ]));
    }
    if !caps.system_operations.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("system ops    ", theme.dim),
            Span::raw(caps.system_operations.join(", ")),
        ]));
    }
    lines.push(Line::raw(""));
    match &res.search_params {
        None => lines.push(Line::styled(
            "The statement does not list search parameters for this type.",
            theme.dim,
        )),
        Some(params) => {
            lines.push(Line::styled(
                format!("{:<28}{:<12}documentation", "search parameter", "type"),
                theme.header_name.add_modifier(Modifier::BOLD),
            ));
            for p in params {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<28}", p.name), theme.text),
                    Span::styled(
                        format!("{:<12}", p.type_.clone().unwrap_or_default()),
                        theme.accent,
                    ),
                    Span::styled(p.documentation.clone().unwrap_or_default(), theme.dim),
                ]));
            }
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("j/k type · space/PgUp scroll · Esc close · Tab in the URL line completes types and parameters", theme.dim));
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), detail);
}

/// A file changed on disk by another program, and the choices.
fn conflict(frame: &mut Frame, area: Rect, c: &crate::app::conflict::Conflict, theme: &Theme) {
    let r = centered(area, 76, 12);
    let mut lines = vec![
        Line::raw(""),
        Line::styled(c.message(), theme.text),
        Line::raw(""),
    ];
    for (key, what) in crate::app::conflict::Conflict::CHOICES {
        lines.push(Line::from(vec![
            Span::styled(format!("{key:>3}"), theme.key_hint),
            Span::styled(format!("  {what}"), theme.dim),
        ]));
    }
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .block(dialog_block("Changed on disk", theme))
            .wrap(Wrap { trim: false }),
        r,
    );
}
