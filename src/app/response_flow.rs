//! The Response pane's work that involves the worker or the key flow: a large body arriving
//! in full after its preview, jq filters run in the background, `Z` + digit, and Esc.

use super::response::{Outcome, ResponseView};
use super::state::App;
use super::update::Command;
use crate::view_body::BodyKind;
use crate::worker::body::{FilterJob, PreparedBody};
use crate::worker::{RequestId, WorkerCommand};

impl App {
    fn open_response_mut(&mut self) -> Option<&mut ResponseView> {
        let path = self.open.clone()?;
        self.responses.get_mut(&path)
    }

    fn response_by_id(&mut self, id: RequestId) -> Option<&mut ResponseView> {
        self.responses
            .values_mut()
            .find(|v| v.request_id == Some(id))
    }

    /// The whole body of a response shown so far as a preview.
    pub(super) fn on_body_ready(&mut self, id: RequestId, body: PreparedBody) {
        if let Some(view) = self.response_by_id(id) {
            view.body_ready(body);
        }
    }

    /// Starts the filter typed in the prompt, off the UI thread.
    pub(super) fn start_filter(&mut self, expr: &str) -> Vec<Command> {
        let Some(view) = self.open_response_mut() else {
            return Vec::new();
        };
        let (Some(id), Outcome::Received { response, body }) = (view.request_id, &view.outcome)
        else {
            self.error("There is no body to filter.");
            return Vec::new();
        };
        if body.spooled.is_some() {
            self.error(super::response::ON_DISK);
            return Vec::new();
        }
        if body.kind == BodyKind::Binary {
            self.error("This body is binary; a jq filter needs JSON.");
            return Vec::new();
        }
        let input = response.body.clone();
        let ndjson = body.kind == BodyKind::NdJson;
        let Some((generation, cancel)) = view.begin_filter(expr) else {
            return Vec::new();
        };
        self.info(format!("Filtering with '{expr}'… (Esc stops)"));
        vec![Command::Worker(WorkerCommand::Filter(Box::new(
            FilterJob {
                id,
                generation,
                input,
                ndjson,
                expr: expr.to_string(),
                cancel,
            },
        )))]
    }

    pub(super) fn on_filtered(
        &mut self,
        id: RequestId,
        generation: u64,
        result: Result<Box<crate::view_body::filter::FilterOutput>, String>,
    ) {
        let failed = result.is_err();
        let Some(msg) = self
            .response_by_id(id)
            .and_then(|v| v.filter_done(generation, result))
        else {
            return;
        };
        if failed {
            self.error(msg);
        } else {
            self.info(msg);
        }
    }

    /// The key after `Z` in the Response pane. True if it was taken.
    pub(super) fn response_depth_key(&mut self, key: &str) -> bool {
        let Some(view) = self.open_response_mut().filter(|v| v.awaiting_depth) else {
            return false;
        };
        let msg = view.fold_depth_key(key);
        if !msg.is_empty() {
            self.info(msg);
        }
        true
    }

    /// Esc in the Response pane: back from a filter or record view. True if it did something.
    pub(super) fn response_back(&mut self) -> bool {
        let done = self.open_response_mut().is_some_and(|v| v.back());
        if done {
            self.status = None;
        }
        done
    }
}
