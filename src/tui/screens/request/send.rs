//! Sending the open request and copying it as curl, through the one request-preparation path,
//! after the questions worth asking.

use super::{Msg, Request};
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::{InFlight, Purpose};
use crate::tui::msg::Command;
use crate::tui::screens::dialogs::confirm::Confirm;
use crate::tui::screens::dialogs::reader::Reader;
use crate::tui::screens::{Cx, Intent};
use crate::worker::WorkerCommand;
use crate::workspace::BodyKind;

impl Request {
    /// `Ctrl-R`: sends the open request, after asking what is worth asking (unresolved
    /// variables, a write whose body does not match its URL, search parameters the server does
    /// not list); `anyway` skips the questions.
    pub fn send(&mut self, anyway: bool, cx: &mut Cx) {
        let Some(path) = cx.model.open.clone() else {
            let send = cx.model.keymap.say(Ctx::Global, Action::Send);
            let open = cx.model.keymap.say(Ctx::Collections, Action::Activate);
            cx.info(format!(
                "Open a request from Collections first ({open} on it), then {send} sends it."
            ));
            return;
        };
        let Some(ed) = self.editors.get(&path) else {
            return;
        };
        let spec = ed.draft.clone();
        let mut built = cx.model.prepare(Some(&path), &spec);
        if let Some(e) = built.auth_problem.take() {
            cx.error(format!("{e}; sending without sign-in."));
        }
        let env_name = cx.model.active_env.clone();
        // A Postman Vault reference has no value in any file: ask for it, masked, one at a time.
        if let Some(variable) = built
            .unresolved
            .iter()
            .find(|n| crate::workspace::vault_reference(n).is_some())
            .cloned()
        {
            let name = crate::workspace::vault_reference(&variable)
                .unwrap_or(&variable)
                .to_string();
            let mut prompt = crate::tui::screens::dialogs::prompt::Prompt::new(
                format!(
                    "Postman Vault secret '{name}' (kept for this session only, never written to a file)"
                ),
                "",
                move |text| {
                    Some(Intent::Request(Msg::VaultValue {
                        variable: variable.clone(),
                        value: text.to_string(),
                    }))
                },
            );
            prompt.field.mask('•');
            cx.open(prompt);
            return;
        }
        if !built.unresolved.is_empty() && !anyway {
            let names: Vec<String> = built
                .unresolved
                .iter()
                .map(|n| format!("{{{{{n}}}}}"))
                .collect();
            cx.open(Confirm::new(
                format!(
                    "{} {} no value in environment '{}'. Send anyway?",
                    names.join(", "),
                    if names.len() == 1 { "has" } else { "have" },
                    env_name.as_deref().unwrap_or("(none)")
                ),
                Intent::Send { anyway: true },
            ));
            return;
        }
        // A FHIR create or update is checked against its URL before it goes out.
        if !anyway && spec.body.kind == BodyKind::Json {
            let body = built
                .request
                .body
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let problems =
                crate::fhir::check_write(&built.request.method, &built.request.url, &body);
            if !problems.is_empty() {
                cx.open(Confirm::new(
                    format!("{} Send anyway?", problems.join(" ")),
                    Intent::Send { anyway: true },
                ));
                return;
            }
        }
        if !anyway && let Some(caps) = cx.model.active_capabilities() {
            let unknown = crate::fhir::unsupported_params(caps, &built.request.url);
            if !unknown.is_empty()
                && !self
                    .allowed_params
                    .contains(&(path.clone(), unknown.clone()))
            {
                cx.open(Confirm::new(
                    format!(
                        "The server's CapabilityStatement does not list {}: it may ignore {} or answer 400. Send anyway (asked once for this request)?",
                        unknown.join(", "),
                        if unknown.len() == 1 { "it" } else { "them" }
                    ),
                    Intent::Request(Msg::AllowParams { path, params: unknown }),
                ));
                return;
            }
        }
        // Signing in fails → not sent unsigned, unless the user said so once (asked on failure).
        if let Some(plan) = built.auth.as_mut() {
            plan.refuse_unsigned = !cx.model.allow_unsigned.contains(&plan.env);
        }
        if let Some(note) = doubled_slash(&built.request.url) {
            cx.info(note);
        } else {
            cx.model.clear_info();
        }
        // One request per saved request at a time: a new send replaces the old one.
        let previous: Vec<_> = cx
            .model
            .in_flight
            .iter()
            .filter(|(_, f)| f.purpose == Purpose::Saved(path.clone()))
            .map(|(id, _)| *id)
            .collect();
        for id in previous {
            cx.model.in_flight.remove(&id);
            cx.worker(WorkerCommand::Cancel { id });
        }
        let id = cx.model.next_request_id();
        cx.model.in_flight.insert(
            id,
            InFlight::starting(
                Purpose::Saved(path.clone()),
                &built.request.method,
                &built.request.url,
                built.secrets.clone(),
            ),
        );
        let mut record = cx.model.record_meta(
            crate::history::Source::Request,
            env_name.as_deref(),
            built.secrets.clone(),
        );
        if let Some(meta) = record.as_mut() {
            meta.saved = Some(path.0.join(" / "));
        }
        cx.worker(WorkerCommand::Send {
            id,
            request: built.request,
            auth: built.auth,
            record,
            read_fhir: false,
        });
    }

    /// `y` / `Y`: the open request as a curl command, shown and copied with OSC 52. The
    /// environment's token is included only in the version with secrets.
    pub(super) fn copy_curl(&mut self, with_secrets: bool, cx: &mut Cx) {
        let Some(path) = cx.model.open.clone() else {
            cx.info("Open a request first.");
            return;
        };
        let Some(spec) = self.editors.get(&path).map(|e| e.draft.clone()) else {
            return;
        };
        let mut built = cx.model.prepare(Some(&path), &spec);
        // The token is shown only where the policy lets it go (what send would do).
        let permitted = built.auth.as_ref().filter(|plan| {
            plan.policy
                .permit(
                    "The request",
                    &built.request.url,
                    crate::worker::credentials::Credential::FhirToken,
                )
                .is_ok()
        });
        if let Some(plan) = permitted.cloned() {
            let token = match cx.model.valid_token(&plan.env) {
                Some(t) => t.access_token.clone(),
                None => format!("{{{{{}}}}}", plan.auth.token_variable),
            };
            built
                .request
                .headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            built
                .request
                .headers
                .push(("Authorization".into(), format!("Bearer {token}")));
        }
        let r = &built.request;
        let text = if with_secrets {
            crate::import::curl::to_curl(&r.method, &r.url, &r.headers, r.body.as_deref(), false)
        } else {
            crate::import::curl::to_curl_redacting(
                &r.method,
                &r.url,
                &r.headers,
                r.body.as_deref(),
                &built.secrets,
            )
        };
        let title = if with_secrets {
            "curl — WITH secrets and token (copied; treat it as a password)".to_string()
        } else {
            format!(
                "curl — secrets and Authorization redacted (copied; {} copies with them)",
                cx.model
                    .keymap
                    .say(Ctx::Request, Action::CopyCurlWithSecrets)
            )
        };
        cx.command(Command::Copy(text.clone()));
        cx.open(Reader::text(&title, &text).copyable(text));
    }
}
/// A note when the URL holds `//` after its host (a base variable ending in `/`, then
/// `{{base}}/metadata`): servers answer 404 or a redirect for it.
pub(super) fn doubled_slash(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.split(['?', '#']).next().unwrap_or("");
    path.contains("//").then(|| {
        "The URL has '//' in its path (a base variable ending in '/' before '/…'?); sent as it is."
            .to_string()
    })
}
