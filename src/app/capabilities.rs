//! The server's CapabilityStatement, fetched once per environment and session: the capability
//! explorer, completion in the URL line, and a warning before sending a search parameter the
//! server does not list.

use std::time::Duration;

use super::state::{App, Confirmed, Overlay};
use super::update::Command;
use crate::fhir::{Capabilities, unsupported_params};
use crate::worker::{HttpRequest, Received, RequestId, WorkerCommand};

pub enum CapsState {
    Loading,
    Ready(Box<Capabilities>),
    Failed(String),
}

impl App {
    /// Fetches `/metadata` for the active environment the first time it is needed.
    pub fn ensure_capabilities(&mut self) -> Vec<Command> {
        let Some(env) = self.active_env.clone() else {
            return Vec::new();
        };
        let base = self.fhir_base();
        if base.is_empty() || base.contains("{{") || self.capabilities.contains_key(&env) {
            return Vec::new();
        }
        let id = RequestId(self.next_request_id);
        self.next_request_id += 1;
        self.capabilities.insert(env.clone(), CapsState::Loading);
        self.caps_requests.insert(id, env);
        let request = HttpRequest {
            method: "GET".into(),
            url: format!("{base}/metadata"),
            headers: vec![("Accept".into(), "application/fhir+json".into())],
            body: None,
            timeout: Duration::from_secs(30),
            insecure: self.active_environment().is_some_and(|e| e.insecure),
        };
        vec![Command::Worker(WorkerCommand::Send {
            id,
            request,
            auth: None,
            // Fetched on its own, not asked for: not worth a history entry.
            record: None,
        })]
    }

    /// A `/metadata` answer; false when `id` was not a capabilities fetch.
    pub fn on_caps_response(
        &mut self,
        id: RequestId,
        result: &Result<Box<Received>, crate::worker::HttpError>,
    ) -> bool {
        let Some(env) = self.caps_requests.remove(&id) else {
            return false;
        };
        let state = match result {
            Ok(r) => match serde_json::from_slice::<serde_json::Value>(&r.response.body)
                .ok()
                .as_ref()
                .and_then(Capabilities::parse)
            {
                Some(c) => CapsState::Ready(Box::new(c)),
                None => CapsState::Failed(format!(
                    "{}/metadata answered {} without a CapabilityStatement.",
                    self.fhir_base(),
                    r.response.status
                )),
            },
            Err(e) => CapsState::Failed(e.to_string()),
        };
        self.capabilities.insert(env, state);
        true
    }

    pub fn active_capabilities(&self) -> Option<&Capabilities> {
        match self.capabilities.get(self.active_env.as_deref()?)? {
            CapsState::Ready(c) => Some(c),
            _ => None,
        }
    }

    /// Search parameters in `url` the server's statement does not list; asks before sending.
    pub fn unsupported_warning(&mut self, url: &str) -> bool {
        let Some(caps) = self.active_capabilities() else {
            return false;
        };
        let unknown = unsupported_params(caps, url);
        if unknown.is_empty() {
            return false;
        }
        self.overlay = Some(Overlay::Confirm {
            message: format!(
                "The server's CapabilityStatement does not list {}: it may ignore {} or answer 400. Send anyway?",
                unknown.join(", "),
                if unknown.len() == 1 { "it" } else { "them" }
            ),
            on_yes: Confirmed::SendAnyway,
        });
        true
    }

    /// Tab in the URL line: completes a resource type after the base, or a search parameter
    /// after `?`/`&`. Returns false when there is nothing to complete.
    pub fn complete_url(&mut self) -> bool {
        let caps = self.active_capabilities().cloned().unwrap_or_default();
        let Some(ed) = self.open_editor_mut() else {
            return false;
        };
        let Some(url) = ed.url.as_mut() else {
            return false;
        };
        let text = url.lines().join("");
        let (head, prefix, candidates) = match text.rfind(['?', '&']) {
            Some(i) => {
                let part = &text[i + 1..];
                if part.contains('=') {
                    return false;
                }
                let path = text[..i].split('?').next().unwrap_or("");
                let type_ = path.rsplit('/').next().unwrap_or("");
                (
                    text[..=i].to_string(),
                    part.to_string(),
                    caps.complete_search_param(type_, part),
                )
            }
            None => {
                let i = text.rfind('/').map(|i| i + 1).unwrap_or(0);
                let part = &text[i..];
                (
                    text[..i].to_string(),
                    part.to_string(),
                    caps.complete_resource_type(part),
                )
            }
        };
        if candidates.is_empty() {
            return false;
        }
        // The longest common prefix of the candidates; a single one is completed in full.
        let mut common = candidates[0].clone();
        for c in &candidates[1..] {
            while !c.starts_with(&common) {
                common.pop();
            }
        }
        if common.len() < prefix.len() {
            common = prefix.clone();
        }
        let suffix = if candidates.len() == 1 && text.contains('?') {
            "="
        } else {
            ""
        };
        let new = format!("{head}{common}{suffix}");
        *url = super::state::line_area(&new);
        if candidates.len() > 1 {
            let shown: Vec<&str> = candidates.iter().take(12).map(String::as_str).collect();
            self.info(format!(
                "{}{}",
                shown.join("  "),
                if candidates.len() > 12 { "  …" } else { "" }
            ));
        }
        true
    }
}

impl Clone for CapsState {
    fn clone(&self) -> Self {
        match self {
            CapsState::Loading => CapsState::Loading,
            CapsState::Ready(c) => CapsState::Ready(c.clone()),
            CapsState::Failed(e) => CapsState::Failed(e.clone()),
        }
    }
}
