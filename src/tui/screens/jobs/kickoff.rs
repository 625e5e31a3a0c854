//! Starting an operation from the jobs screen: `n` picks the operation, its form fills the
//! kick-off; a bulk delete first counts what matches (a dry run: the same search with
//! `_summary=count`), then asks for the resource type (or the count) typed back, and only then
//! starts; an import and a reindex ask once.

use super::{Cx, Intent, Jobs, Msg};
use crate::tui::model::Purpose;
use crate::tui::screens::dialogs::confirm::Confirm;
use crate::tui::screens::dialogs::prompt::Prompt;
use crate::worker::export::ops::INITIAL_LOAD_WARNING;
use crate::worker::export::{BulkDeleteParams, ImportMode, Kickoff, OpKind};
use crate::worker::{HttpError, Received, RequestId, WorkerCommand};

/// A bulk delete between its form and its start.
#[derive(Debug)]
pub struct DryRun {
    pub id: RequestId,
    pub params: BulkDeleteParams,
    /// What matched, once the count came back.
    pub count: Option<u64>,
}

/// The picker's line for an operation.
pub(super) fn describe(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Export => "$export — write resources to NDJSON files (FHIR Data Exporter)",
        OpKind::Import => "$import — load NDJSON files from storage (FHIR Data Importer)",
        OpKind::BulkDelete => {
            "$bulk-delete — delete search matches (FHIR Data Writer; hard: Contributor)"
        }
        OpKind::Reindex => "$reindex — index new search parameters (FHIR Data Contributor)",
    }
}

/// What to type to confirm a delete of `count` resources: the resource type, or at system
/// level the count.
pub(super) fn confirmation_word(p: &BulkDeleteParams, count: u64) -> String {
    p.type_.clone().unwrap_or_else(|| count.to_string())
}

/// The total of a `_summary=count` searchset.
pub(super) fn bundle_total(body: &[u8]) -> Result<u64, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "The count answer is not JSON.".to_string())?;
    if v.get("resourceType").and_then(|r| r.as_str()) != Some("Bundle") {
        return Err("The count answer is not a Bundle.".into());
    }
    v.get("total").and_then(|t| t.as_u64()).ok_or_else(|| {
        "The server's Bundle has no total, so the dry run cannot say how many would be deleted."
            .into()
    })
}

impl Jobs {
    /// Start on the form: a bulk delete counts first; the others ask, then start.
    pub(super) fn submit_op_form(&mut self, cx: &mut Cx) {
        let Some(form) = self.op_form.as_ref() else {
            return;
        };
        let start = match form.kickoff() {
            Ok(s) => s,
            Err(e) => {
                cx.error(e);
                return;
            }
        };
        let base = cx.model.fhir_base();
        if base.is_empty() {
            cx.error("Set fhirurl in the active environment first.");
            return;
        }
        match start {
            Kickoff::BulkDelete(params) => {
                let id = cx.model.next_request_id();
                let url = params.count_url(&base);
                cx.fhir_get(id, &url, Purpose::JobDryRun, "counting");
                cx.info(format!("Dry run: counting {}…", params.target()));
                self.dry_run = Some(DryRun {
                    id,
                    params,
                    count: None,
                });
            }
            Kickoff::Import(p) => {
                let warn = if p.mode == ImportMode::InitialLoad {
                    format!(" {INITIAL_LOAD_WARNING}")
                } else {
                    String::new()
                };
                let files = p.inputs.len();
                cx.open(Confirm::new(
                    format!(
                        "Import {} ({})?{warn}",
                        super::plural(files, "file"),
                        p.mode.label()
                    ),
                    Intent::Jobs(Msg::Start(Box::new(Kickoff::Import(p)))),
                ));
            }
            other @ Kickoff::Reindex(_) => cx.open(Confirm::new(
                "Start a reindex? It reads every resource of the types and slows the service while it runs.",
                Intent::Jobs(Msg::Start(Box::new(other))),
            )),
            Kickoff::Export(_) => {}
        }
    }

    /// The dry run's answer: how many match, then the typed confirmation.
    pub fn on_dry_run(
        &mut self,
        id: RequestId,
        result: Result<Box<Received>, HttpError>,
        cx: &mut Cx,
    ) {
        let Some(run) = self.dry_run.as_mut().filter(|r| r.id == id) else {
            return;
        };
        let count = match &result {
            Err(e) => Err(format!("The dry run could not count: {e}")),
            Ok(r) if r.response.status >= 400 => Err(format!(
                "The dry run was refused ({}): the search is not valid here, so nothing was deleted.",
                r.response.status
            )),
            Ok(r) => bundle_total(&r.response.body),
        };
        let count = match count {
            Ok(c) => c,
            Err(e) => {
                cx.error(e);
                self.dry_run = None;
                return;
            }
        };
        if count == 0 {
            cx.info(format!(
                "Dry run: nothing matches {}; nothing to delete.",
                run.params.target()
            ));
            self.dry_run = None;
            return;
        }
        run.count = Some(count);
        let word = confirmation_word(&run.params, count);
        let how = if run.params.hard {
            "hard-delete"
        } else {
            "delete"
        };
        let excluded = if run.params.excluded_types.is_empty() {
            String::new()
        } else {
            " (the count includes the excluded types)".into()
        };
        // The count and the search in the status bar, where they fit; the prompt's title (72
        // columns) keeps what to type.
        cx.info(format!(
            "Dry run: {count} resources match {}{excluded}.",
            run.params.target()
        ));
        cx.open(Prompt::new(
            format!("{count} match — type {word} to {how} them"),
            "",
            |t| Some(Intent::Jobs(Msg::ConfirmDelete(t.to_string()))),
        ));
    }

    pub(super) fn confirm_delete(&mut self, typed: &str, cx: &mut Cx) {
        let Some(run) = self.dry_run.take() else {
            return;
        };
        let Some(count) = run.count else {
            return;
        };
        let word = confirmation_word(&run.params, count);
        if typed.trim() != word {
            cx.error(format!(
                "'{}' is not {word}: nothing was deleted.",
                typed.trim()
            ));
            return;
        }
        self.start(Kickoff::BulkDelete(run.params), cx);
    }

    /// Sends the kick-off for the active environment; the job comes back as an event.
    pub(super) fn start(&mut self, start: Kickoff, cx: &mut Cx) {
        let base = cx.model.fhir_base();
        let env = cx.model.active_env.clone().unwrap_or_default();
        let auth = cx.model.plan_for_env(&env, &base);
        let insecure = cx.model.active_environment().is_some_and(|e| e.insecure);
        cx.info(format!("Starting the {}…", start.kind().noun()));
        cx.worker(WorkerCommand::StartOperation {
            env,
            base,
            start: Box::new(start),
            insecure,
            auth,
        });
        self.op_form = None;
        self.selected = cx.model.jobs.list.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_and_totals() {
        let p = BulkDeleteParams::parse_target("Observation?status=cancelled").unwrap();
        assert_eq!(confirmation_word(&p, 12), "Observation");
        let p = BulkDeleteParams::parse_target("?_lastUpdated=lt2000").unwrap();
        assert_eq!(confirmation_word(&p, 12), "12");
        assert_eq!(
            bundle_total(br#"{"resourceType":"Bundle","type":"searchset","total":7}"#),
            Ok(7)
        );
        assert!(bundle_total(br#"{"resourceType":"Bundle"}"#).is_err());
        assert!(bundle_total(b"<html>").is_err());
    }
}
