//! What screens and dialogs ask of the root: open a dialog or a screen, focus a pane, tell
//! another screen something, and the replies of disk work.

use super::App;
use crate::tui::msg::{DiskOp, Msg};
use crate::tui::screens::{Cx, Intent, Outbox, Pane, Screen};

impl App {
    pub(super) fn apply_intent(&mut self, intent: Intent, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        match intent {
            Intent::Open(d) => self.dialogs.push(d),
            Intent::CloseDialog => {
                self.dialogs.pop();
            }
            Intent::Focus(p) => {
                self.focus = p;
                self.screen = None;
            }
            Intent::Show(s) => self.screen = s,
            Intent::Key(k) => {
                let cmds = self.update(Msg::Key(k));
                out.commands.extend(cmds);
            }
            Intent::Action(a) => self.apply(a, out),
            Intent::PaneAction(pane, a) => {
                self.focus = pane;
                self.screen = None;
                self.apply(a, out);
            }
            Intent::OpenRequest(path) => {
                if self.request.open_request(&path, &mut cx) {
                    self.tree.select_path(&cx.model.ws, &path);
                    if self.screen.is_none() {
                        self.focus = Pane::Request;
                    }
                }
            }
            Intent::Rekey { from, to } => {
                self.request.rekey(&from, &to);
                self.response.rekey(&from, &to);
                let model = &mut cx.model;
                for f in model.in_flight.values_mut() {
                    if let crate::tui::model::Purpose::Saved(p) = &f.purpose
                        && let Some(np) = crate::tui::screens::collections::rekeyed(p, &from, &to)
                    {
                        f.purpose = crate::tui::model::Purpose::Saved(np);
                    }
                }
                if let Some(np) = model
                    .open
                    .as_ref()
                    .and_then(|p| crate::tui::screens::collections::rekeyed(p, &from, &to))
                {
                    model.open = Some(np);
                }
            }
            Intent::Forget(path) => {
                self.request.forget(&path);
                self.response.forget(&path);
                if cx
                    .model
                    .open
                    .as_ref()
                    .is_some_and(|p| p.0.starts_with(&path.0))
                {
                    cx.model.open = None;
                }
            }
            Intent::Send { anyway } => self.request.send(anyway, &mut cx),
            Intent::Quit => {
                // Confirmed: unsaved edits are discarded (their drafts too).
                for ed in self.request.editors.values_mut() {
                    ed.draft = ed.saved.clone();
                }
                self.pending_drafts.clear();
                cx.disk_quietly(DiskOp::DiscardDrafts);
                self.quit = true;
            }
            Intent::UseTheme(name) => {
                if self.style.use_theme(&name) {
                    let shown = name.clone();
                    cx.disk(DiskOp::RememberTheme(name), move |r| match r {
                        Ok(crate::tui::msg::DiskValue::Written(p)) => Intent::Info(format!(
                            "Theme '{shown}' (remembered in {}).",
                            p.display()
                        )),
                        Ok(_) => Intent::Info(format!("Theme '{shown}'.")),
                        Err(e) => Intent::Error(format!(
                            "Theme '{shown}' is used but could not be remembered: {e}"
                        )),
                    });
                } else {
                    cx.error(format!("No theme named '{name}'."));
                }
            }
            Intent::Drafts(restore) => self.answer_drafts(restore, out),
            Intent::SignIn(env) => self.sign_in(env, out),
            Intent::CancelSignIn(env) => self.cancel_sign_in(env, out),
            Intent::Environments(m) => self.envs.update(m, &mut cx),
            Intent::Collections(m) => self.tree.update(m, &mut cx),
            Intent::Request(m) => self.request.update(m, &mut cx),
            Intent::Response(m) => self.response.update(m, &mut cx),
            Intent::Browser(m) => {
                self.browser.update(m, &mut cx);
                self.screen = Some(Screen::Browser);
            }
            Intent::Chart(m) => {
                self.chart.update(m, &mut cx);
                self.screen = Some(Screen::Chart);
            }
            Intent::History(m) => {
                if let Some(h) = self.history.as_mut() {
                    h.update(m, &mut cx);
                }
            }
            Intent::Jobs(m) => self.jobs.update(m, &mut cx),
            Intent::Info(t) => cx.info(t),
            Intent::Error(t) => cx.error(t),
            Intent::None => {}
        }
    }
}
