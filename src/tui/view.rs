//! Drawing the whole screen from the app: the layout (computed, never stored, so the mouse
//! finds panes the same way), the four panes or one of them with a tab strip when narrow, the
//! full screen on top, the dialogs, and the status bar. Drawing only reads, except for the
//! screens' own caches (highlighted lines).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, NARROW_WIDTH};
use super::keys::{Action, Ctx};
use super::model::{Level, Purpose, StatusKind};
use super::screens::collections::Badge;
use super::screens::{Pane, Screen, View};
use super::widgets::{SPINNER, shorten};
use crate::workspace::NodePath;

/// Where each pane (or, in the narrow layout, its tab) is, for drawing and for mouse clicks.
pub struct MainLayout {
    pub narrow: bool,
    /// The click target of each pane: the pane itself, or its tab in the narrow layout.
    pub targets: Vec<(Pane, Rect)>,
    /// Where panes are drawn (one, in the narrow layout).
    pub panes: Vec<(Pane, Rect)>,
    pub tabs: Option<Rect>,
    pub main: Rect,
    pub status: Rect,
}

impl MainLayout {
    pub fn hit(&self, column: u16, row: u16) -> Option<Pane> {
        self.targets
            .iter()
            .find(|(_, r)| {
                r.x <= column && column < r.x + r.width && r.y <= row && row < r.y + r.height
            })
            .map(|(p, _)| *p)
    }
}

pub fn main_layout(area: Rect, app: &App) -> MainLayout {
    let [main, status] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    if area.width < NARROW_WIDTH {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(main);
        // Each tab label is a click target: " N Title " and a space between.
        let mut targets = Vec::new();
        let mut x = tabs.x;
        for p in Pane::ALL {
            let w = (p.title().len() + 4) as u16;
            let width = w.min(tabs.right().saturating_sub(x));
            targets.push((
                p,
                Rect {
                    x,
                    y: tabs.y,
                    width,
                    height: 1,
                },
            ));
            x = x.saturating_add(w + 1);
        }
        return MainLayout {
            narrow: true,
            targets,
            panes: vec![(app.focus, pane)],
            tabs: Some(tabs),
            main,
            status,
        };
    }
    let left_width = (area.width * 3 / 10).clamp(28, 44);
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Fill(1)]).areas(main);
    // As many rows as there are environments (two lines of border), a third of the column at most.
    let env_height =
        (app.model.ws.environments.len() as u16 + 2).clamp(5, (left.height / 3).max(5));
    let [envs, colls] =
        Layout::vertical([Constraint::Length(env_height), Constraint::Fill(1)]).areas(left);
    let [req, resp] =
        Layout::vertical([Constraint::Percentage(42), Constraint::Fill(1)]).areas(right);
    let panes = vec![
        (Pane::Environments, envs),
        (Pane::Collections, colls),
        (Pane::Request, req),
        (Pane::Response, resp),
    ];
    MainLayout {
        narrow: false,
        targets: panes.clone(),
        panes,
        tabs: None,
        main,
        status,
    }
}

pub fn draw(frame: &mut Frame, app: &mut App) {
    let area = frame.area();
    let layout = main_layout(area, app);
    let theme = app.style.theme.clone();
    let over = app.screen.is_some() || !app.dialogs.is_empty();
    if let Some(tabs) = layout.tabs {
        pane_tabs(frame, tabs, app.focus, &theme);
    }
    for (pane, rect) in &layout.panes {
        let view = View {
            model: &app.model,
            theme: &theme,
            focused: app.focus == *pane && !over,
        };
        match pane {
            Pane::Environments => app.envs.draw(frame, *rect, &view),
            Pane::Collections => {
                let (request, response) = (&app.request, &app.response);
                let model = &app.model;
                let badge = |p: &NodePath| Badge {
                    dirty: request.editors.get(p).is_some_and(|e| e.dirty()),
                    sending: model
                        .in_flight
                        .values()
                        .any(|f| f.purpose == Purpose::Saved(p.clone())),
                    status: response.status_of(p),
                };
                app.tree.draw(frame, *rect, &view, &badge);
            }
            Pane::Request => app.request.draw(frame, *rect, &view),
            Pane::Response => app.response.draw(frame, *rect, &view),
        }
    }
    let view = View {
        model: &app.model,
        theme: &theme,
        focused: app.dialogs.is_empty(),
    };
    match app.screen {
        Some(Screen::Browser) => app.browser.draw(frame, layout.main, &view),
        Some(Screen::Chart) => app.chart.draw(frame, layout.main, &view),
        Some(Screen::History) => {
            if let Some(h) = app.history.as_mut() {
                h.draw(frame, layout.main, &view);
            }
        }
        Some(Screen::Jobs) => app.jobs.draw(frame, layout.main, &view),
        None => {}
    }
    for d in &app.dialogs {
        d.draw(frame, area, &view);
    }
    status_bar(frame, layout.status, app, &theme);
}

/// The strip of pane names shown in the narrow layout.
fn pane_tabs(frame: &mut Frame, area: Rect, focus: Pane, theme: &super::style::Theme) {
    let mut spans = Vec::new();
    for p in Pane::ALL {
        let label = format!(" {} {} ", p.index() + 1, p.title());
        spans.push(Span::styled(
            label,
            if p == focus {
                theme.selected
            } else {
                theme.dim
            },
        ));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The environment, the token, what is running or the last message, then the keys of what has
/// the focus — a dialog's, a screen's, the editing keys while text is typed — as many as fit.
fn status_bar(frame: &mut Frame, area: Rect, app: &App, theme: &super::style::Theme) {
    let model = &app.model;
    let mut spans = vec![
        Span::styled(" env ", theme.dim),
        Span::styled(
            model.active_env.clone().unwrap_or_else(|| "none".into()),
            theme.accent,
        ),
        Span::styled(" │ ", theme.dim),
    ];
    // Always on while it applies: certificate checks are off for this environment.
    if model.active_environment().is_some_and(|e| e.insecure) {
        spans.push(Span::styled("⚠ TLS certificates NOT checked", theme.error));
        spans.push(Span::styled(" │ ", theme.dim));
    }
    if let Some((text, level)) = model.token_status() {
        let style = match level {
            Level::Ok => theme.ok,
            Level::Warn => theme.warning,
            Level::Bad => theme.error,
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::styled(" │ ", theme.dim));
    }
    let sending = model
        .in_flight
        .values()
        .find(|f| matches!(f.purpose, Purpose::Saved(_)));
    if let Some(flight) = sending {
        spans.push(Span::styled(
            format!(
                "{} {} {} {:.1}s  {} cancels",
                SPINNER[(model.frame % SPINNER.len() as u64) as usize],
                flight.method,
                shorten(&flight.url, 40),
                flight.started.elapsed().as_secs_f32(),
                model.keymap.say(Ctx::Global, Action::Cancel)
            ),
            theme.warning,
        ));
        spans.push(Span::styled(" │ ", theme.dim));
    } else if let Some(status) = &model.status {
        let style = match status.kind {
            StatusKind::Info => theme.text,
            StatusKind::Error => theme.error,
        };
        spans.push(Span::styled(status.text.clone(), style));
        spans.push(Span::styled(" │ ", theme.dim));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let budget = (area.width as usize).saturating_sub(used + 1);
    let mut width = 0;
    // A screen whose hints depend on what it shows gives them itself.
    let hints = match (&app.screen, app.history.as_ref()) {
        (Some(Screen::History), Some(h)) if app.dialogs.is_empty() => h.hints(&model.keymap),
        _ => model.keymap.hints(app.focus_ctx()),
    };
    for (key, help) in hints {
        let w = key.chars().count() + help.chars().count() + 3;
        if width + w > budget {
            break;
        }
        width += w;
        spans.push(Span::styled(key, theme.key_hint));
        spans.push(Span::styled(format!(" {help}  "), theme.dim));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status_bar),
        area,
    );
}
