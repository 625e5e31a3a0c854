//! Input to the topmost thing: keys (through the keymap, under the context that has the focus),
//! pasted text and the mouse.

use crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};

use super::App;
use crate::tui::keys::{Action, Ctx, key_name};
use crate::tui::screens::{Cx, Handled, Outbox, Pane, Screen};

impl App {
    pub(super) fn on_key(&mut self, key: &KeyEvent, out: &mut Outbox) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        let name = key_name(key);
        // Ctrl-C always leaves, whatever has the focus.
        if name == "ctrl-c" {
            self.quit = true;
            return;
        }
        if self.glued_escape(key, out) {
            return;
        }
        let keymap = &self.model.keymap;
        if let Some(top) = self.dialogs.last_mut() {
            let action = keymap.lookup(top.ctx(), key);
            let mut cx = Cx {
                model: &mut self.model,
                out,
            };
            if top.on_key(key, action, &mut cx) == Handled::Close {
                self.dialogs.pop();
            }
            return;
        }
        if let Some(screen) = self.screen {
            self.on_screen_key(screen, key, out);
            return;
        }
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        if self.focus == Pane::Request && self.request.on_text_key(key, &mut cx) {
            return;
        }
        if self.focus == Pane::Response && self.response.depth_key(&name, &mut cx) {
            return;
        }
        let ctx = self.focus_ctx();
        if let Some(action) = self.model.keymap.lookup(ctx, key) {
            self.apply(action, out);
        }
    }

    /// Whether keys are text where the focus is (a field has the cursor).
    pub(super) fn focus_takes_text(&self) -> bool {
        if let Some(d) = self.dialogs.last() {
            return d.takes_text();
        }
        match self.screen {
            Some(Screen::Browser) => self.browser.lookup.is_some(),
            Some(Screen::Chart) => false,
            Some(Screen::History) => self.history.as_ref().is_some_and(|h| h.editing_filter),
            Some(Screen::Jobs) => self
                .jobs
                .form
                .as_ref()
                .is_some_and(|f| f.is_text_row(f.row)),
            None => {
                self.focus == Pane::Request
                    && self
                        .request
                        .open(self.model.open.as_ref())
                        .is_some_and(|e| e.editing())
            }
        }
    }

    /// An `Esc` that arrived glued to the next key (a fast typist, one SSH packet) reads as
    /// `Alt`+key: when that means nothing where the focus is, it is taken as `Esc`, then the
    /// key — as terminal editors do with their escape timeout.
    pub(super) fn glued_escape(&mut self, key: &KeyEvent, out: &mut Outbox) -> bool {
        use crossterm::event::{KeyCode, KeyModifiers};
        // An upper-case letter after Esc arrives as Alt+Shift+letter.
        let rest = key.modifiers.difference(KeyModifiers::ALT);
        if !key.modifiers.contains(KeyModifiers::ALT)
            || !(rest.is_empty() || rest == KeyModifiers::SHIFT)
            || !matches!(key.code, KeyCode::Char(_))
        {
            return false;
        }
        let keymap = &self.model.keymap;
        let ctx = self.focus_ctx();
        let means_something = keymap.lookup(ctx, key).is_some()
            || (self.focus_takes_text() && keymap.lookup(Ctx::Text, key).is_some());
        if means_something {
            return false;
        }
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        let plain = KeyEvent::new(key.code, rest);
        self.on_key(&esc, out);
        self.settle(out);
        self.on_key(&plain, out);
        true
    }

    /// A key on a full screen; keys it does not take may be global ones that make sense there.
    pub(super) fn on_screen_key(&mut self, screen: Screen, key: &KeyEvent, out: &mut Outbox) {
        let keymap = &self.model.keymap;
        let handled = match screen {
            Screen::Browser => {
                let action = keymap.lookup(self.browser.ctx(), key);
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.browser.on_key(key, action, &mut cx)
            }
            Screen::Chart => {
                let action = keymap.lookup(Ctx::Chart, key);
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                // Going back from the chart is going back to the patient.
                match self.chart.on_key(key, action, &mut cx) {
                    Handled::Close => {
                        self.screen = Some(Screen::Browser);
                        Handled::Yes
                    }
                    h => h,
                }
            }
            Screen::History => match self.history.as_mut() {
                Some(h) => {
                    let ctx = h.ctx();
                    let action = keymap
                        .lookup(ctx, key)
                        .or_else(|| ctx.falls_back_to().and_then(|c| keymap.lookup(c, key)));
                    let mut cx = Cx {
                        model: &mut self.model,
                        out,
                    };
                    h.on_key(key, action, &mut cx)
                }
                None => Handled::Close,
            },
            Screen::Jobs => {
                let action = keymap.lookup(self.jobs.ctx(), key);
                let kept: Vec<&crate::tui::screens::response::ResponseView> =
                    self.response.responses.values().collect();
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.jobs.on_key(key, action, &mut cx, |cx| {
                    crate::tui::screens::jobs::server_types(cx, kept.into_iter())
                })
            }
        };
        match handled {
            Handled::Close => self.screen = None,
            Handled::Yes => {}
            Handled::No => {
                // Over a screen only the global keys that open something else reach the keymap.
                if let Some(
                    a @ (Action::Help
                    | Action::Palette
                    | Action::TokenViewer
                    | Action::Jobs
                    | Action::History
                    | Action::Lookup
                    | Action::Capabilities
                    | Action::Quit),
                ) = self.model.keymap.lookup(Ctx::Global, key)
                {
                    self.apply(a, out);
                }
            }
        }
    }

    pub(super) fn on_paste(&mut self, text: &str) {
        if let Some(d) = self.dialogs.last_mut() {
            d.on_paste(text);
            return;
        }
        match self.screen {
            Some(Screen::Browser) => self.browser.on_paste(text),
            Some(Screen::Jobs) => self.jobs.on_paste(text),
            Some(Screen::History | Screen::Chart) => {}
            None if self.focus == Pane::Request => {
                let out = &mut Outbox::default();
                let cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.request.on_paste(text, &cx);
            }
            None => {}
        }
    }

    pub(super) fn on_mouse(&mut self, m: MouseEvent, out: &mut Outbox) {
        // Dialogs and full screens keep the keyboard's focus; clicks elsewhere do nothing there.
        let modal = !self.dialogs.is_empty() || self.screen.is_some();
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) if !modal => {
                let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
                let layout = crate::tui::view::main_layout(area, self);
                if let Some(pane) = layout.hit(m.column, m.row) {
                    self.focus = pane;
                }
            }
            // The wheel scrolls what has the focus (or the open dialog's list).
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let action = if m.kind == MouseEventKind::ScrollDown {
                    Action::Down
                } else {
                    Action::Up
                };
                for _ in 0..3 {
                    self.act_on_focus(action, out);
                }
            }
            _ => {}
        }
    }
}
