//! Drawing: `draw` lays out the panes and overlays from the app state. Panes only read state,
//! except for the highlighter caches of the response body, which fill in as lines are seen.

pub mod browser;
pub mod history;
pub mod jobs;
pub mod overlays;
pub mod panes;

#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::{App, Pane};
pub use crate::tui::style::Theme;
use crate::tui::widgets;

/// Below this width the panes are shown one at a time with a tab strip.
pub const NARROW_WIDTH: u16 = 100;

pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme) {
    let area = frame.area();
    let [main, status] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    app.pane_areas.clear();
    if area.width < NARROW_WIDTH {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(main);
        // Each tab label is a click target: " N Title " and a space between.
        let mut x = tabs.x;
        for p in Pane::ALL {
            let w = (p.title().len() + 4) as u16;
            let width = w.min(tabs.right().saturating_sub(x));
            app.pane_areas.push((
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
        widgets::pane_tabs(frame, tabs, app, theme);
        draw_pane(frame, pane, app, theme, app.focus);
    } else {
        let left_width = (area.width * 3 / 10).clamp(28, 44);
        let [left, right] =
            Layout::horizontal([Constraint::Length(left_width), Constraint::Fill(1)]).areas(main);
        let env_height = (app.ws.environments.len() as u16 + 2).clamp(4, 9);
        let [envs, colls] =
            Layout::vertical([Constraint::Length(env_height), Constraint::Fill(1)]).areas(left);
        let [req, resp] =
            Layout::vertical([Constraint::Percentage(42), Constraint::Fill(1)]).areas(right);
        app.pane_areas.extend([
            (Pane::Environments, envs),
            (Pane::Collections, colls),
            (Pane::Request, req),
            (Pane::Response, resp),
        ]);
        draw_pane(frame, envs, app, theme, Pane::Environments);
        draw_pane(frame, colls, app, theme, Pane::Collections);
        draw_pane(frame, req, app, theme, Pane::Request);
        draw_pane(frame, resp, app, theme, Pane::Response);
    }
    if app.browsing {
        browser::draw(frame, main, app, theme);
    }
    if history::showing(app) {
        history::draw(frame, main, app, theme);
    }
    widgets::status_bar(frame, status, app, theme);
    overlays::draw(frame, area, app, theme);
}

fn draw_pane(frame: &mut Frame, area: Rect, app: &mut App, theme: &Theme, pane: Pane) {
    let focused = app.focus == pane && app.overlay.is_none();
    match pane {
        Pane::Environments => panes::environments::draw(frame, area, app, theme, focused),
        Pane::Collections => panes::collections::draw(frame, area, app, theme, focused),
        Pane::Request => panes::request::draw(frame, area, app, theme, focused),
        Pane::Response => panes::response::draw(frame, area, app, theme, focused),
    }
}
