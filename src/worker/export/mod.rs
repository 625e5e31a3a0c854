//! Asynchronous jobs — bulk `$export` and Azure's `$import`, `$bulk-delete`, `$reindex`:
//! kick-off, polling on a polite schedule, cancellation, and downloading the
//! manifest's files. Async functions and plain state (no actor of its own), so the worker, the
//! CLI and tests drive it the same way.
//!
//! - [`progress`]: reading `X-Progress` and `Retry-After`;
//! - [`schedule`]: when to poll next (pure);
//! - [`job`]: the job, its manifest, kick-off / poll / cancel;
//! - [`ops`]: the other operations' kick-off requests and status shapes;
//! - [`download`]: fetching the output files, resumable and checked against the manifest.

pub mod download;
pub mod job;
pub mod ops;
mod ops_poll;
pub mod progress;
pub mod schedule;

pub use download::{
    DownloadCredentials, DownloadEvent, DownloadOptions, DownloadProgress, DownloadReport,
    FileReport, credentials_needed, download_all, tokens_for,
};
pub use job::{
    ExportError, ExportJob, ExportParams, ExportScope, FixedToken, JobState, Manifest,
    ManifestOutput, NoToken, OpKind, PollResult, TokenSource, cancel, kickoff, kickoff_op,
    kickoff_request, kickoff_with, poll_once, poll_with, start_with, wait_until_done,
};
pub use ops::{
    BulkDeleteParams, ImportInput, ImportMode, ImportParams, Kickoff, OpResult, ReindexParams,
};
pub use progress::{Progress, parse_progress, parse_retry_after};
pub use schedule::{Answer, PollPolicy, Schedule};
