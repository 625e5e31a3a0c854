//! Status answers that differ by operation (see `ops` for the shapes). Whatever is not
//! particular to an operation (throttling, 401, 404, failures with an OperationOutcome) goes
//! through the export protocol's interpretation in `job`.

use std::time::SystemTime;

use serde_json::Value;

use super::job::{ExportJob, JobState, OpKind, PollResult, explain_body, fail};
use super::ops::{
    ReindexStatus, bulk_delete_result, import_result, reindex_result, reindex_status,
};
use super::progress::{Progress, retry_hint};
use super::schedule::Answer;
use crate::worker::http::HttpResponse;

fn json(resp: &HttpResponse) -> Option<Value> {
    serde_json::from_slice::<Value>(&resp.body).ok()
}

fn ended(job: &mut ExportJob) {
    job.next_poll_at = None;
    job.progress = None;
    job.last_error = None;
}

/// The operation's own reading of `resp`, or `None` for the shared one.
pub(super) fn interpret(
    job: &mut ExportJob,
    resp: &HttpResponse,
    now: SystemTime,
) -> Option<PollResult> {
    match (job.kind, resp.status) {
        (OpKind::Export, _) => None,
        // ImportController.cs answers a cancelled job's status with 400 "User requested
        // cancellation of operation."
        (OpKind::Import, 400) if job.state == JobState::Cancelled => {
            ended(job);
            Some(PollResult::Gone)
        }
        (OpKind::Import, 200) => Some(match json(resp).as_ref().and_then(import_result) {
            Some(r) => {
                ended(job);
                job.state = JobState::Complete;
                job.result = Some(r);
                PollResult::Complete
            }
            None => not_a_result(job, resp),
        }),
        (OpKind::BulkDelete, 202) => {
            // Running: the shared reading, plus the Issues the server lists ("Job In Progress").
            let r = super::job::interpret_shared(job, resp, now);
            if let Some(v) = json(resp) {
                job.result = Some(bulk_delete_result(&v));
            }
            Some(r)
        }
        (OpKind::BulkDelete, 200) => Some(match json(resp) {
            Some(v) => {
                let r = bulk_delete_result(&v);
                let cancelled = matches!(&r, super::ops::OpResult::BulkDelete { issues, .. }
                    if issues.iter().any(|i| i.to_ascii_lowercase().contains("cancel")));
                ended(job);
                job.result = Some(r);
                if cancelled {
                    job.state = JobState::Cancelled;
                    PollResult::Gone
                } else {
                    job.state = JobState::Complete;
                    PollResult::Complete
                }
            }
            None => not_a_result(job, resp),
        }),
        // A reindex job answers 200 whatever its state; its record says which.
        (OpKind::Reindex, 200) => Some(match json(resp).as_ref().and_then(reindex_result) {
            None => not_a_result(job, resp),
            Some(r) => {
                let status = reindex_status(&r);
                let progress = r
                    .field("progress")
                    .and_then(|p| p.trim().parse::<f64>().ok())
                    .filter(|p| p.is_finite());
                let failure = r
                    .field("failureReason")
                    .or_else(|| r.field("error"))
                    .map(str::to_string);
                job.result = Some(r);
                match status {
                    ReindexStatus::Completed => {
                        ended(job);
                        job.state = JobState::Complete;
                        PollResult::Complete
                    }
                    ReindexStatus::Canceled => {
                        ended(job);
                        job.state = JobState::Cancelled;
                        PollResult::Gone
                    }
                    ReindexStatus::Failed => fail(
                        job,
                        format!(
                            "The reindex job failed{}",
                            failure.map(|f| format!(": {f}")).unwrap_or_default()
                        ),
                    ),
                    ReindexStatus::Running => {
                        job.state = JobState::InProgress;
                        job.progress = progress.map(Progress::Percent);
                        job.last_error = None;
                        let hint = retry_hint(
                            resp.header("x-ms-retry-after-ms"),
                            resp.header("retry-after"),
                            now,
                        );
                        job.schedule_next(Answer::Running, hint, now);
                        PollResult::Running
                    }
                }
            }
        }),
        _ => None,
    }
}

fn not_a_result(job: &mut ExportJob, resp: &HttpResponse) -> PollResult {
    let why = format!(
        "The server answered the {} status with {} but the body is not the status it should be: {}",
        job.kind.noun(),
        resp.status,
        explain_body(resp).unwrap_or_else(|| "the body is empty".into())
    );
    fail(job, why)
}
