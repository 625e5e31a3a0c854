//! Worker events, each routed to the screen that asked: answers by the purpose recorded when
//! the request was sent, job and download progress to the jobs, sign-in to the model and its
//! dialog, history answers to the history screen (or session restore).

use std::time::{Duration, Instant, SystemTime};

use super::App;
use crate::tui::model::{CapsState, InFlight, Purpose, SignInView, TokenState};
use crate::tui::screens::dialogs::sign_in::SignIn;
use crate::tui::screens::{Cx, Outbox, Screen, jobs};
use crate::worker::auth::AuthEvent;
use crate::worker::history::HistoryEvent;
use crate::worker::{HttpError, HttpRequest, Received, RequestId, WorkerCommand, WorkerEvent};
use crate::workspace::AuthKind;

impl App {
    pub(super) fn on_worker(&mut self, ev: WorkerEvent, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        match ev {
            WorkerEvent::Job(job) => jobs::on_job(*job, &mut cx),
            WorkerEvent::ExportRefused(e) => cx.error(format!("The job was not started: {e}")),
            WorkerEvent::Download { job, event } => jobs::on_download(job, *event, &mut cx),
            WorkerEvent::DownloadDone { job, result } => {
                jobs::on_download_done(job, result, &mut cx)
            }
            WorkerEvent::Auth(ev) => self.on_auth_event(ev, out),
            WorkerEvent::History(HistoryEvent::Latest { saved, entry }) => {
                self.on_latest_entry(&saved, entry.map(|e| *e));
            }
            WorkerEvent::History(ev) => {
                let showing = self.screen == Some(Screen::History);
                if let Some(h) = self.history.as_mut() {
                    h.on_event(ev, &mut cx, showing);
                } else if let HistoryEvent::RecordFailed(e) = ev
                    && !cx.model.history.write_failed
                {
                    cx.model.history.write_failed = true;
                    cx.error(format!("History could not be written: {e}"));
                }
            }
            WorkerEvent::Chart { id, result } => self.chart.on_step(id, result, &mut cx),
            WorkerEvent::BodyReady { id, body } => self.response.on_body_ready(id, *body),
            WorkerEvent::Filtered {
                id,
                generation,
                result,
            } => self.response.on_filtered(id, generation, result, &mut cx),
            WorkerEvent::Receiving {
                id,
                received,
                total,
                spooling,
            } => {
                if cx.model.in_flight.contains_key(&id) {
                    let r = cx.model.receiving.entry(id).or_default();
                    r.received = received;
                    r.total = total;
                    r.spooling = spooling;
                }
            }
            WorkerEvent::BodyHead { id, head } => {
                if cx.model.in_flight.contains_key(&id) {
                    let r = cx.model.receiving.entry(id).or_default();
                    r.head = Some(std::sync::Arc::from(head));
                }
            }
            WorkerEvent::Response { id, result } => self.on_response(id, result, out),
        }
    }

    fn on_response(
        &mut self,
        id: RequestId,
        result: Result<Box<Received>, HttpError>,
        out: &mut Outbox,
    ) {
        self.model.receiving.remove(&id);
        // Cancelled or replaced: the late answer is dropped.
        let Some(flight) = self.model.in_flight.remove(&id) else {
            return;
        };
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        match flight.purpose.clone() {
            Purpose::Saved(path) => {
                let rules = self
                    .request
                    .editors
                    .get(&path)
                    .map(|e| e.draft.captures.clone())
                    .or_else(|| cx.model.ws.request(&path).map(|r| r.spec.captures.clone()))
                    .unwrap_or_default();
                self.response
                    .on_answer(path, flight, id, result, &rules, &mut cx);
            }
            Purpose::Browser => self.browser.on_answer(id, result, &mut cx),
            Purpose::Chart => self.chart.on_answer(id, result, &mut cx),
            Purpose::JobDryRun => self.jobs.on_dry_run(id, result, &mut cx),
            Purpose::Resend => {
                if let Some(h) = self.history.as_mut() {
                    h.on_resent(id, &result, &mut cx);
                }
            }
            Purpose::Capabilities(env) => {
                let base = cx.model.fhir_base();
                let state = match &result {
                    Ok(r) => match serde_json::from_slice::<serde_json::Value>(&r.response.body)
                        .ok()
                        .as_ref()
                        .and_then(crate::fhir::Capabilities::parse)
                    {
                        Some(c) => CapsState::Ready(Box::new(c)),
                        None => CapsState::Failed(format!(
                            "{base}/metadata answered {} without a CapabilityStatement.",
                            r.response.status
                        )),
                    },
                    Err(e) => CapsState::Failed(e.to_string()),
                };
                cx.model.capabilities.insert(env, state);
            }
        }
    }

    /// Fetches `/metadata` for the active environment the first time it is needed.
    pub(super) fn ensure_capabilities(&mut self, out: &mut Outbox) {
        let model = &mut self.model;
        let Some(env) = model.active_env.clone() else {
            return;
        };
        let base = model.fhir_base();
        if base.is_empty() || base.contains("{{") || model.capabilities.contains_key(&env) {
            return;
        }
        let id = model.next_request_id();
        model.capabilities.insert(env.clone(), CapsState::Loading);
        let url = format!("{base}/metadata");
        model.in_flight.insert(
            id,
            InFlight::starting(Purpose::Capabilities(env), "GET", &url, Vec::new()),
        );
        let request = HttpRequest {
            method: "GET".into(),
            url,
            headers: vec![("Accept".into(), "application/fhir+json".into())],
            body: None,
            timeout: Duration::from_secs(30),
            insecure: model.active_environment().is_some_and(|e| e.insecure),
        };
        // Fetched on its own, not asked for: not worth a history entry.
        out.commands
            .push(crate::tui::msg::Command::Worker(WorkerCommand::Send {
                id,
                request,
                auth: None,
                record: None,
                read_fhir: false,
            }));
    }

    /// `s`: sign in now with the environment's flow.
    pub(super) fn sign_in(&mut self, env: String, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        let Some(e) = cx.model.ws.environment(&env) else {
            return;
        };
        let Some(config) = e.auth.clone().filter(|a| a.kind != AuthKind::None) else {
            let key = cx.model.keymap.say(
                crate::tui::keys::Ctx::Environments,
                crate::tui::keys::Action::SignInSettings,
            );
            cx.info(format!(
                "'{env}' has no sign-in configured: press {key} to set it up."
            ));
            return;
        };
        let ctx = crate::workspace::template::Context {
            overrides: &cx.model.session_vars,
            environment: cx.model.ws.environment(&env),
            collection: &[],
        };
        match crate::worker::auth::resolve_auth(&config, &ctx) {
            Ok(auth) => cx.worker(WorkerCommand::SignIn {
                env,
                auth: Box::new(auth),
            }),
            Err(e) => cx.error(e.to_string()),
        }
    }

    pub(super) fn cancel_sign_in(&mut self, env: String, out: &mut Outbox) {
        self.model.sign_ins.remove(&env);
        out.commands.push(crate::tui::msg::Command::Worker(
            WorkerCommand::CancelSignIn { env },
        ));
    }

    /// Shows the sign-in dialog for `env` unless it is already up.
    fn show_sign_in(&mut self, env: &str) {
        let up = self.dialogs.iter().any(|d| {
            d.as_any()
                .downcast_ref::<SignIn>()
                .is_some_and(|s| s.env == env)
        });
        if !up {
            self.dialogs.push(Box::new(SignIn::new(env.to_string())));
        }
    }

    pub(super) fn on_auth_event(&mut self, ev: AuthEvent, out: &mut Outbox) {
        let mut cx = Cx {
            model: &mut self.model,
            out,
        };
        match ev {
            AuthEvent::Started { env, flow } => {
                cx.model
                    .tokens
                    .insert(env.clone(), TokenState::Acquiring { flow });
                let interactive = flow.contains("device") || flow.contains("browser");
                if interactive {
                    cx.model
                        .sign_ins
                        .insert(env.clone(), SignInView::Waiting { flow });
                    self.show_sign_in(&env);
                } else if cx.model.active_env.as_deref() == Some(env.as_str()) {
                    cx.info(format!("Signing in to '{env}' ({flow})…"));
                }
            }
            AuthEvent::DeviceCode { env, prompt } => {
                cx.model.sign_ins.insert(
                    env.clone(),
                    SignInView::DeviceCode {
                        prompt,
                        shown_at: Instant::now(),
                    },
                );
                self.show_sign_in(&env);
            }
            AuthEvent::Browser {
                env,
                url,
                port,
                opened,
            } => {
                cx.model
                    .sign_ins
                    .insert(env.clone(), SignInView::Browser { url, port, opened });
                self.show_sign_in(&env);
            }
            AuthEvent::Acquired {
                env,
                token,
                variable,
                renewed,
            } => {
                cx.model.sign_ins.remove(&env);
                let active = cx.model.active_env.as_deref() == Some(env.as_str());
                let kept = active && !cx.model.mirror_token(&variable, &token.access_token);
                let life = token
                    .expires_at
                    .and_then(|e| e.duration_since(SystemTime::now()).ok())
                    .map(|d| {
                        format!(
                            ", valid for {}",
                            crate::worker::auth::jwt::human(d.as_secs())
                        )
                    })
                    .unwrap_or_default();
                let verb = if renewed {
                    "Token renewed"
                } else {
                    "Signed in"
                };
                // Another environment's renewals are its own business: not in this status bar.
                if kept {
                    let viewer = cx.model.keymap.say(
                        crate::tui::keys::Ctx::Global,
                        crate::tui::keys::Action::TokenViewer,
                    );
                    cx.info(format!(
                        "{verb} for '{env}'{life}; {{{{{variable}}}}} keeps the token you put there, sent while it lasts ({viewer} shows which)."
                    ));
                } else if active {
                    cx.info(format!(
                        "{verb} for '{env}'{life}; {{{{{variable}}}}} holds it for this session."
                    ));
                } else if !renewed {
                    cx.info(format!(
                        "Signed in to '{env}' (not the active environment){life}."
                    ));
                }
                cx.model.tokens.insert(env, TokenState::Valid(token));
            }
            AuthEvent::Failed { env, error } => {
                cx.model.sign_ins.remove(&env);
                let active = cx.model.active_env.as_deref() == Some(env.as_str());
                cx.error(if active {
                    error.clone()
                } else {
                    format!("Sign-in of '{env}' failed: {error}")
                });
                cx.model.tokens.insert(env, TokenState::Failed(error));
            }
            AuthEvent::Cancelled { env } => {
                cx.model.sign_ins.remove(&env);
                cx.model.tokens.remove(&env);
                cx.info("Sign-in cancelled.");
            }
        }
    }
}
