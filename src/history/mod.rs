//! History: every exchange fhirside sends, kept (with secrets removed) in an SQLite file in the
//! workspace, so "what did that server answer an hour ago?" has an answer, and any past request
//! can be sent again or compared with another.
//!
//! `store` is the database, `redact` removes credentials before anything is written, `filter`
//! turns a one-line query into SQL conditions, and `diff` compares two bodies. The writer runs
//! as an actor (`crate::worker::history`), so the UI never waits on the disk.

pub mod diff;
pub mod filter;
pub mod redact;
pub mod store;

use serde::{Deserialize, Serialize};

pub use filter::Filter;
pub use store::{HistoryError, HistoryStore};

/// The database file, inside the workspace.
pub const HISTORY_FILE: &str = ".history.sqlite3";

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A request sent from the request pane.
    Request,
    /// A request made by the FHIR browser (lookups, pages, references).
    Browser,
    /// `fhirside run`.
    Cli,
    /// Sent again from the history screen.
    Resend,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Request => "request",
            Source::Browser => "browser",
            Source::Cli => "cli",
            Source::Resend => "resend",
        }
    }

    pub fn parse(s: &str) -> Source {
        match s {
            "browser" => Source::Browser,
            "cli" => Source::Cli,
            "resend" => Source::Resend,
            _ => Source::Request,
        }
    }
}

/// What the sender knows about a request that the wire does not: which environment and saved
/// request it belongs to, and which values must never be written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordMeta {
    pub source: Option<Source>,
    pub env: Option<String>,
    /// The saved request's path ("Collection / Folder / Name"), when there is one.
    pub saved: Option<String>,
    /// Secret values used while building the request (and tokens known to the sender).
    pub secrets: Vec<String>,
}

pub use crate::workspace::settings::HistoryLimits as Limits;

/// One exchange to record, already redacted (see [`redact::redact_exchange`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Unix time in milliseconds.
    pub at_ms: i64,
    pub source: Source,
    pub env: Option<String>,
    pub saved: Option<String>,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<Vec<u8>>,
    pub outcome: Outcome,
}

/// How the exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Answered {
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
        elapsed_ms: u64,
        /// The body's full size, even when `body` was truncated.
        size: u64,
        body: Vec<u8>,
        truncated: bool,
    },
    /// No answer: the sentence the user saw.
    Failed { error: String, elapsed_ms: u64 },
}

/// A row of the history list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub id: i64,
    pub at_ms: i64,
    pub source: Source,
    pub env: Option<String>,
    pub saved: Option<String>,
    pub method: String,
    pub url: String,
    /// None when the request failed.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub elapsed_ms: u64,
    pub size: u64,
}

/// A whole entry, for the detail view, re-sending and `--json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub summary: Summary,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<Vec<u8>>,
    pub reason: String,
    pub response_headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub truncated: bool,
}

impl Entry {
    /// Whether redaction removed something the request needs, so it cannot be sent as it was.
    pub fn has_redactions(&self) -> bool {
        let marker = redact::REDACTED;
        let in_body = self
            .request_body
            .as_deref()
            .is_some_and(|b| String::from_utf8_lossy(b).contains(marker));
        self.summary.url.contains(marker)
            || in_body
            || self
                .request_headers
                .iter()
                .any(|(k, v)| v.contains(marker) && !k.eq_ignore_ascii_case("authorization"))
    }
}

/// A question for the history actor (the UI's side; answers come back as events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryCall {
    List {
        query: u64,
        filter: Filter,
        saved: Option<String>,
    },
    Get(i64),
    Diff {
        old: i64,
        new: i64,
    },
    /// The newest entry of a saved request (to restore its response).
    Latest {
        saved: String,
    },
    Clear,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Every environment's secret values (variables marked secret or named like one): never
/// written to history, whichever environment the request used.
pub fn workspace_secrets(ws: &crate::workspace::Workspace) -> Vec<String> {
    ws.environments
        .iter()
        .flat_map(|e| e.variables.iter())
        .filter(|v| v.secret || crate::workspace::looks_secret(&v.key))
        .map(|v| v.value.clone())
        .filter(|v| v.len() >= 4)
        .collect()
}
