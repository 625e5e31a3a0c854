//! What an action does at the root: palette and global actions, pane actions, cancelling, and
//! opening the token viewer, history and the browser.

use crossterm::event::KeyEvent;

use super::App;
use crate::tui::keys::Action;
use crate::tui::screens::dialogs::capabilities::CapabilitiesDialog;
use crate::tui::screens::dialogs::confirm::Confirm;
use crate::tui::screens::dialogs::help::Help;
use crate::tui::screens::dialogs::palette::Palette;
use crate::tui::screens::dialogs::sign_in_settings::SignInSettings;
use crate::tui::screens::dialogs::token_viewer::TokenViewer;
use crate::tui::screens::history::History;
use crate::tui::screens::{Cx, Intent, Outbox, Pane, Screen};

impl App {
    /// An action for whatever has the focus (the mouse wheel's way in).
    pub(super) fn act_on_focus(&mut self, action: Action, out: &mut Outbox) {
        let key = KeyEvent::from(crossterm::event::KeyCode::Null);
        if let Some(top) = self.dialogs.last_mut() {
            let mut cx = Cx {
                model: &mut self.model,
                out,
            };
            top.on_key(&key, Some(action), &mut cx);
            return;
        }
        match self.screen {
            Some(Screen::Browser) => {
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.browser.on_key(&key, Some(action), &mut cx);
            }
            Some(Screen::Chart) => {
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.chart.on_key(&key, Some(action), &mut cx);
            }
            Some(Screen::History) => {
                if let Some(h) = self.history.as_mut() {
                    let mut cx = Cx {
                        model: &mut self.model,
                        out,
                    };
                    h.on_key(&key, Some(action), &mut cx);
                }
            }
            Some(Screen::Jobs) => {
                let mut cx = Cx {
                    model: &mut self.model,
                    out,
                };
                self.jobs.on_key(&key, Some(action), &mut cx, |_| None);
            }
            None => self.apply(action, out),
        }
    }

    /// The environment an environment action is about: the selected one in the Environments
    /// pane, else the active one.
    pub(super) fn env_for_action(&self) -> Option<String> {
        if self.focus == Pane::Environments
            && self.screen.is_none()
            && let Some(name) = self.envs.selected_name(&self.model.ws)
        {
            return Some(name);
        }
        self.model.active_env.clone()
    }

    /// An action on the main screen: global ones here, the rest for the focused pane.
    pub fn apply(&mut self, action: Action, out: &mut Outbox) {
        let env = self.env_for_action();
        let open = self.model.open.clone();
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        match action {
            Action::Send => self.request.send(false, &mut cx),
            Action::Save => self.request.save_open(&mut cx),
            Action::Cancel => self.cancel(out),
            Action::FocusNext => self.focus = Pane::ALL[(self.focus.index() + 1) % 4],
            Action::FocusPrev => self.focus = Pane::ALL[(self.focus.index() + 3) % 4],
            Action::FocusEnvironments => self.focus = Pane::Environments,
            Action::FocusCollections => self.focus = Pane::Collections,
            Action::FocusRequest => self.focus = Pane::Request,
            Action::FocusResponse => self.focus = Pane::Response,
            Action::Palette => {
                let p = Palette::new(self.style.names(), self.style.theme.name.clone());
                self.dialogs.push(Box::new(p));
            }
            Action::Help => {
                let ctx = self.focus_ctx();
                self.dialogs.push(Box::new(Help::new(ctx)));
            }
            Action::Quit => {
                let dirty = self.request.dirty_count();
                if dirty == 0 {
                    self.quit = true;
                } else {
                    cx.open(Confirm::new(
                        format!(
                            "{dirty} request{} unsaved edits. Quit and discard them?",
                            if dirty == 1 { " has" } else { "s have" }
                        ),
                        Intent::Quit,
                    ));
                }
            }
            Action::ForceQuit => self.quit = true,
            Action::SignIn => {
                if let Some(env) = env {
                    self.sign_in(env, out);
                }
            }
            Action::SignInSettings => {
                if let Some(env) = env {
                    let config = self
                        .model
                        .ws
                        .environment(&env)
                        .and_then(|e| e.auth.clone())
                        .unwrap_or_default();
                    self.dialogs
                        .push(Box::new(SignInSettings::new(env, config)));
                }
            }
            Action::Lookup => {
                if self.browser.open_lookup("", &mut cx) {
                    self.screen = Some(Screen::Browser);
                }
                self.ensure_capabilities(out);
            }
            Action::Chart => self.open_chart(out),
            Action::Capabilities => {
                self.dialogs.push(Box::new(CapabilitiesDialog::default()));
                self.ensure_capabilities(out);
            }
            Action::Jobs => {
                self.screen = Some(Screen::Jobs);
                self.jobs.scanned_at = None;
                self.scan_jobs(out);
            }
            Action::History => self.open_history(None, out),
            Action::RequestHistory => match open {
                Some(p) => self.open_history(Some(p.0.join(" / ")), out),
                None => cx.info("Open a request first; its earlier answers are listed with p."),
            },
            Action::OpenInBrowser => self.open_response_in_browser(out),
            Action::IfMatch => {
                let etag = self.response.etag(open.as_ref());
                self.request.add_if_match(etag, &mut cx);
            }
            Action::TokenViewer => self.open_token_viewer(env, out),
            _ => self.pane_action(action, out),
        }
    }

    /// The palette's "Patient chart": the patient on the browser's page charted (as `V` there),
    /// else the chart last shown, else the lookup to find the patient first.
    pub(super) fn open_chart(&mut self, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        let on_patient = self.browser.lookup.is_none()
            && self
                .browser
                .current()
                .is_some_and(|p| p.patient().is_some_and(|s| s.id.is_some()));
        if on_patient {
            let key = KeyEvent::from(crossterm::event::KeyCode::Null);
            self.screen = Some(Screen::Browser);
            self.browser.on_key(&key, Some(Action::Chart), &mut cx);
        } else if self.chart.patient.is_some() {
            self.screen = Some(Screen::Chart);
        } else if self.browser.open_lookup("", &mut cx) {
            self.screen = Some(Screen::Browser);
            let chart = cx
                .model
                .keymap
                .say(crate::tui::keys::Ctx::Browser, Action::Chart);
            let open = cx
                .model
                .keymap
                .say(crate::tui::keys::Ctx::Lookup, Action::Activate);
            cx.info(format!(
                "Find the patient and open them ({open}); then {chart} charts them."
            ));
            self.ensure_capabilities(out);
        }
    }

    pub(super) fn pane_action(&mut self, action: Action, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        match self.focus {
            Pane::Environments => {
                self.envs.on_action(action, &mut cx);
            }
            Pane::Collections => {
                let request = &self.request;
                self.tree
                    .on_action(action, &mut cx, &|p| request.draft_of(p));
            }
            Pane::Request => {
                self.request.on_action(action, &mut cx);
            }
            Pane::Response => {
                self.response.on_action(action, &mut cx);
            }
        }
    }

    /// Esc on the main screen: cancels the open request's exchange, else goes back from a
    /// filter or record in the Response pane, else cancels every request in flight.
    pub(super) fn cancel(&mut self, out: &mut Outbox) {
        use crate::tui::model::Purpose;
        let open = self.model.open.clone();
        let mut ids: Vec<_> = self
            .model
            .in_flight
            .iter()
            .filter(|(_, f)| {
                open.as_ref()
                    .is_some_and(|p| f.purpose == Purpose::Saved(p.clone()))
            })
            .map(|(id, _)| *id)
            .collect();
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        if ids.is_empty() && self.focus == Pane::Response && self.response.back(&mut cx) {
            return;
        }
        if ids.is_empty() {
            ids = cx
                .model
                .in_flight
                .iter()
                .filter(|(_, f)| matches!(f.purpose, Purpose::Saved(_)))
                .map(|(id, _)| *id)
                .collect();
        }
        if ids.is_empty() {
            return;
        }
        cx.info("Request cancelled.");
        for id in ids {
            cx.model.in_flight.remove(&id);
            cx.model.receiving.remove(&id);
            cx.worker(crate::worker::WorkerCommand::Cancel { id });
        }
    }

    /// `T`: the token the next request to the active environment's FHIR service will send,
    /// decoded, and where it came from.
    pub(super) fn open_token_viewer(&mut self, env: Option<String>, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        let Some(env) = env else {
            cx.info("No environment is active.");
            return;
        };
        // The same rule the worker sends by (`worker::auth::current`): the user's own token
        // (captured or hand-set) while it lasts, else the signed-in one.
        let now = std::time::SystemTime::now();
        let cached = cx.model.valid_token(&env).cloned();
        let plan = cx.model.ws.environment(&env).and_then(|e| {
            let base = e.get("fhirurl").unwrap_or("").trim_end_matches('/');
            let probe = format!("{base}/metadata");
            let spec = crate::workspace::RequestSpec::new("token", "GET", &probe);
            crate::worker::auth::plan_for(e, &cx.model.session_vars, &spec, &probe)
                .ok()
                .flatten()
        });
        let (expect, next) = match &plan {
            Some(p) => (
                crate::worker::auth::expectations(&p.auth),
                crate::worker::auth::current::next_token(
                    p.given.as_ref(),
                    &[],
                    cached.as_ref(),
                    p.auth.kind,
                    now,
                ),
            ),
            // No sign-in configured: only the user's own {{bearerToken}} can be shown.
            None => (
                Default::default(),
                cx.model
                    .ws
                    .environment(&env)
                    .and_then(|e| {
                        crate::worker::auth::token_in_variable(
                            e,
                            &cx.model.session_vars,
                            crate::workspace::DEFAULT_TOKEN_VARIABLE,
                        )
                    })
                    .map(|g| (g.value, g.origin)),
            ),
        };
        let Some((token, origin)) = next else {
            cx.info(format!(
                "No token for '{env}' yet: s in Environments signs in."
            ));
            return;
        };
        let source = format!("the next request sends it; from {}", origin.label());
        let mut notes = Vec::new();
        if let Some(sent) = crate::worker::auth::current::last_sent(&env)
            && sent.token != token
        {
            notes.push(format!(
                "The last request sent a different token, from {}; the next one sends this.",
                sent.origin.label()
            ));
        }
        cx.open(TokenViewer::new(env, source, token, &expect, notes));
    }

    /// `H` (or `p` with `saved`): the history screen, refreshed.
    pub(super) fn open_history(&mut self, saved: Option<String>, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        if !cx.model.history.enabled {
            let why = cx
                .model
                .history
                .problem
                .clone()
                .unwrap_or_else(|| "History is off in this session.".into());
            cx.error(why);
            return;
        }
        let keep = self.history.as_ref().is_some_and(|h| h.saved == saved);
        if !keep {
            self.history = Some(History::new(saved));
        }
        self.screen = Some(Screen::History);
        if let Some(h) = self.history.as_mut() {
            h.refresh(&mut cx);
        }
    }

    /// `o` in the Response pane: the open request's answer as a browser page, without a refetch.
    pub(super) fn open_response_in_browser(&mut self, out: &mut Outbox) {
        use crate::tui::screens::response::Outcome;
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        let Some(view) = self.response.view(cx.model.open.as_ref()) else {
            cx.info("Send the request first; its answer opens in the browser.");
            return;
        };
        let Outcome::Received { response, body } = &view.outcome else {
            cx.info("The request failed; there is nothing to browse.");
            return;
        };
        let received = Box::new(crate::worker::Received {
            response: (**response).clone(),
            body: body.share(),
            auth_note: None,
            search: Default::default(),
            fhir: None,
        });
        self.browser.read_answer(received, &mut cx);
        self.screen = Some(Screen::Browser);
    }
}
