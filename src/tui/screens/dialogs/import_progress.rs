//! An import running on the runtime's thread: which file, how many requests are written, and
//! `Esc` to stop it (the collection being written is then left out whole). Closes itself when
//! the import ends; the report follows.

use std::any::Any;
use std::sync::atomic::Ordering;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Gauge, Paragraph};

use super::{Dialog, centered, dialog_block, wrap_words};
use crate::text::size::count;
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::{ImportRun, Model};
use crate::tui::screens::{Cx, Handled, View};
use crate::tui::widgets::SPINNER;

pub struct ImportProgressDialog;

/// The line under the file name: how far the current file has come.
pub fn progress_line(run: &ImportRun) -> String {
    if run.stopping() {
        return "Stopping: the collection being written is left out whole…".into();
    }
    match run.progress {
        Some(p) if p.total > 0 => {
            let files = if p.files > 1 {
                format!("file {} of {}: ", p.file + 1, p.files)
            } else {
                String::new()
            };
            format!(
                "{files}{} of {} requests written",
                count(p.written as u64),
                count(p.total as u64)
            )
        }
        _ => "Reading the file…".into(),
    }
}

impl Dialog for ImportProgressDialog {
    fn ctx(&self) -> Ctx {
        Ctx::Progress
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        if action == Some(Action::Cancel)
            && let Some(run) = cx.model.import.as_ref()
        {
            run.cancel.store(true, Ordering::Relaxed);
        }
        // Stays open until the import has really ended: its report comes next.
        Handled::Yes
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let Some(run) = v.model.import.as_ref() else {
            return;
        };
        let theme = v.theme;
        let width = 64u16.min(area.width.saturating_sub(2));
        let inner = width.saturating_sub(4) as usize;
        let names: Vec<String> = run
            .files
            .iter()
            .map(|f| {
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| f.display().to_string())
            })
            .collect();
        let spinner = SPINNER[(v.model.frame as usize) % SPINNER.len()];
        let head = wrap_words(&format!("{spinner} Importing {}", names.join(", ")), inner);
        let r = centered(area, width, head.len() as u16 + 7);
        frame.render_widget(Clear, r);
        frame.render_widget(dialog_block("Import", theme), r);
        let body = Rect {
            x: r.x + 2,
            y: r.y + 1,
            width: r.width.saturating_sub(4),
            height: r.height.saturating_sub(2),
        };
        let mut lines: Vec<Line> = vec![Line::raw("")];
        lines.extend(head.into_iter().map(|l| Line::styled(l, theme.text)));
        lines.push(Line::styled(progress_line(run), theme.dim));
        let text_rows = lines.len() as u16;
        frame.render_widget(Paragraph::new(lines), body);
        if let Some(p) = run.progress.filter(|p| p.total > 0) {
            let gauge_at = Rect {
                y: body.y + text_rows + 1,
                height: 1,
                ..body
            };
            if gauge_at.y < r.y + r.height.saturating_sub(1) {
                let ratio = (p.written as f64 / p.total as f64).clamp(0.0, 1.0);
                frame.render_widget(
                    Gauge::default()
                        .ratio(ratio)
                        .gauge_style(theme.accent)
                        .label(""),
                    gauge_at,
                );
            }
        }
        let key = v
            .model
            .keymap
            .label(Ctx::Progress, Action::Cancel)
            .unwrap_or_else(|| "Esc".into());
        let hint_at = Rect {
            y: r.y + r.height.saturating_sub(2),
            height: 1,
            ..body
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(key, theme.key_hint),
                Span::styled(" stop the import", theme.dim),
            ])),
            hint_at,
        );
    }

    fn sync(&mut self, model: &Model) -> bool {
        model.import.is_some()
    }

    fn busy(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
