//! `C`: the server's CapabilityStatement as a list of resource types, with each type's
//! interactions, operations and search parameters (the documentation column only when the
//! server wrote some).

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, List, ListItem, ListState, Paragraph, Wrap};

use super::{Dialog, centered, dialog_block, list_move, wrap_words};
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::CapsState;
use crate::tui::screens::{Cx, Handled, View};

#[derive(Default)]
pub struct CapabilitiesDialog {
    pub selected: usize,
    pub scroll: u16,
}

impl Dialog for CapabilitiesDialog {
    fn ctx(&self) -> Ctx {
        Ctx::Capabilities
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let count = cx
            .model
            .active_capabilities()
            .map(|c| c.resources.len())
            .unwrap_or(0);
        match action {
            Some(Action::Close) => return Handled::Close,
            Some(Action::PageDown) => self.scroll = self.scroll.saturating_add(10),
            Some(Action::PageUp) => self.scroll = self.scroll.saturating_sub(10),
            a => {
                if let Some(s) = list_move(a, self.selected, count, 10) {
                    self.selected = s;
                    self.scroll = 0;
                }
            }
        }
        Handled::Yes
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let r = centered(
            area,
            area.width.saturating_sub(4),
            area.height.saturating_sub(2),
        );
        frame.render_widget(Clear, r);
        let title = format!("Capabilities of {}", v.model.fhir_base());
        let block = dialog_block(&title, theme);
        let inner = block.inner(r);
        frame.render_widget(block, r);
        let state = v
            .model
            .active_env
            .as_deref()
            .and_then(|e| v.model.capabilities.get(e));
        let message = |text: String, style| {
            Paragraph::new(Line::styled(text, style)).wrap(Wrap { trim: false })
        };
        let caps = match state {
            Some(CapsState::Ready(c)) => c,
            Some(CapsState::Loading) => {
                frame.render_widget(message("Fetching /metadata…".into(), theme.warning), inner);
                return;
            }
            Some(CapsState::Failed(e)) => {
                frame.render_widget(message(format!("✗ {e}"), theme.error), inner);
                return;
            }
            None => {
                frame.render_widget(
                    message(
                        "Set fhirurl in the active environment first.".into(),
                        theme.dim,
                    ),
                    inner,
                );
                return;
            }
        };
        let [header, main, hint] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(1),
        ])
        .areas(inner.inner(Margin::new(1, 0)));
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "FHIR {} · {} · {} resource types",
                    caps.fhir_version.clone().unwrap_or_else(|| "?".into()),
                    caps.software
                        .clone()
                        .unwrap_or_else(|| "server software not named".into()),
                    caps.resources.len()
                ),
                theme.dim,
            )),
            header,
        );
        let [list, detail] =
            Layout::horizontal([Constraint::Length(28), Constraint::Fill(1)]).areas(main);
        let items: Vec<ListItem> = caps
            .resources
            .iter()
            .map(|r| ListItem::new(r.type_.clone()))
            .collect();
        let l = List::new(items).highlight_style(theme.selected);
        let selected = self.selected.min(caps.resources.len().saturating_sub(1));
        let mut st =
            ListState::default().with_selected((!caps.resources.is_empty()).then_some(selected));
        frame.render_stateful_widget(l, list, &mut st);
        let Some(res) = caps.resources.get(selected) else {
            return;
        };
        let width = detail.width.saturating_sub(14) as usize;
        let mut lines = vec![Line::styled(
            res.type_.clone(),
            theme.accent.add_modifier(Modifier::BOLD),
        )];
        let mut labelled = |label: &str, text: String| {
            for (i, part) in wrap_words(&text, width).into_iter().enumerate() {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{:<14}", if i == 0 { label } else { "" }),
                        theme.dim,
                    ),
                    Span::raw(part),
                ]));
            }
        };
        labelled("interactions", res.interactions.join(", "));
        if !res.operations.is_empty() {
            labelled("operations", res.operations.join(", "));
        }
        if !caps.system_operations.is_empty() {
            labelled("system ops", caps.system_operations.join(", "));
        }
        lines.push(Line::raw(""));
        match &res.search_params {
            None => lines.push(Line::styled(
                "The statement does not list search parameters for this type.",
                theme.dim,
            )),
            Some(params) => {
                let documented = params.iter().any(|p| {
                    p.documentation
                        .as_deref()
                        .is_some_and(|d| !d.trim().is_empty())
                });
                let name_w = params
                    .iter()
                    .map(|p| p.name.len())
                    .max()
                    .unwrap_or(10)
                    .clamp(16, 32)
                    + 2;
                lines.push(Line::styled(
                    format!(
                        "{:<name_w$}{:<12}{}",
                        "search parameter",
                        "type",
                        if documented { "documentation" } else { "" }
                    ),
                    theme.header_name.add_modifier(Modifier::BOLD),
                ));
                for p in params {
                    lines.push(Line::from(vec![
                        Span::styled(format!("{:<name_w$}", p.name), theme.text),
                        Span::styled(
                            format!("{:<12}", p.type_.clone().unwrap_or_default()),
                            theme.accent,
                        ),
                        Span::styled(
                            if documented {
                                p.documentation.clone().unwrap_or_default()
                            } else {
                                String::new()
                            },
                            theme.dim,
                        ),
                    ]));
                }
            }
        }
        frame.render_widget(
            Paragraph::new(lines).scroll((self.scroll, 0)),
            detail.inner(Margin::new(1, 0)),
        );
        let mut hints = crate::tui::widgets::hint_spans(&v.model.keymap, Ctx::Capabilities, theme);
        let keys = |a: &[Action]| v.model.keymap.labels(Ctx::Capabilities, a);
        hints.push(Span::styled(
            format!(
                "{} type · {} scroll · {} in the URL line completes types and parameters",
                keys(&[Action::Down, Action::Up]),
                keys(&[Action::PageDown, Action::PageUp]),
                v.model.keymap.say(Ctx::Editing, Action::Complete)
            ),
            theme.dim,
        ));
        frame.render_widget(Paragraph::new(Line::from(hints)), hint);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
