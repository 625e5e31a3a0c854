//! The persisted model of an asynchronous job (`jobs/ID.toml`): a bulk `$export`, or one of
//! Azure's other async operations (`$import`, `$bulk-delete`, `$reindex`); what was asked, where
//! to poll, what is known so far and the polling pace to resume with. Plain data with serde, so the
//! workspace can store it without knowing the worker; the worker drives it (`worker::export`).
//! No tokens: a job names its environment, whose sign-in supplies them.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::fhir::bulk::{Manifest, Progress};

/// Which resources to export.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportScope {
    /// `[base]/$export`: everything.
    #[default]
    System,
    /// `[base]/Patient/$export`: all patients' compartments.
    Patient,
    /// `[base]/Group/{id}/$export`: the group members' compartments.
    Group(String),
}

/// The kick-off parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExportParams {
    #[serde(default)]
    pub scope: ExportScope,
    /// `_type` (empty = all types the server exports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// `_since`, as typed (a FHIR instant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// `_typeFilter` entries, e.g. `Observation?code=8867-4`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub type_filter: Vec<String>,
    /// `_container` (Azure: the storage container to write to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// `_outputFormat`, e.g. `application/fhir+ndjson`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    /// `_anonymizationConfig`: the name of an anonymization configuration in the storage
    /// account's `anonymization` container (Azure's de-identified export; system level only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymization_config: Option<String>,
    /// `_anonymizationConfigEtag`: the configuration blob's ETag, to pin its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymization_config_etag: Option<String>,
    /// The environment's `insecure` opt-in (no certificate checks), kept with the job so polls
    /// and downloads after a restart honour it. Not a query parameter.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
}

/// Why an anonymized export cannot start, said before anything is sent.
///
/// microsoft/fhir-server declares anonymized export at system level only
/// (`Data/OperationDefinition/anonymized-export.json`: `"system": true, "type": false,
/// "instance": false`; Azure's "Export de-identified data" page shows `[base]/$export` only),
/// and `ExportController.ValidateForAnonymizedExport` refuses it without `_container`
/// (`ContainerIsRequiredForAnonymizedExport`) and an ETag without a configuration
/// (`ConfigLocationRequiredForAnonymizedExport`).
pub fn anonymization_problem(p: &ExportParams) -> Option<String> {
    let set = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
    let config = set(&p.anonymization_config);
    let etag = set(&p.anonymization_config_etag);
    if !config && !etag {
        return None;
    }
    if p.scope != ExportScope::System {
        let level = match p.scope {
            ExportScope::Patient => "Patient/$export",
            _ => "Group/[id]/$export",
        };
        return Some(format!(
            "Anonymized export runs at system level only ($export), not {level}: choose scope system, or empty _anonymizationConfig."
        ));
    }
    if !config {
        return Some(
            "_anonymizationConfigEtag pins a configuration's version: name the configuration in _anonymizationConfig too.".into(),
        );
    }
    if !set(&p.container) {
        return Some(
            "Anonymized export needs _container: the service writes de-identified files only into a named container.".into(),
        );
    }
    None
}

/// Which asynchronous operation a job is. Job files written before there was a choice have no
/// `kind` and load as exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    #[default]
    Export,
    Import,
    BulkDelete,
    Reindex,
}

impl OpKind {
    pub const ALL: [OpKind; 4] = [
        OpKind::Export,
        OpKind::Import,
        OpKind::BulkDelete,
        OpKind::Reindex,
    ];

    /// The operation's name as the server spells it (`$bulk-delete`).
    pub fn label(self) -> &'static str {
        match self {
            OpKind::Export => "$export",
            OpKind::Import => "$import",
            OpKind::BulkDelete => "$bulk-delete",
            OpKind::Reindex => "$reindex",
        }
    }

    /// The operation in a sentence ("The bulk delete failed").
    pub fn noun(self) -> &'static str {
        match self {
            OpKind::Export => "export",
            OpKind::Import => "import",
            OpKind::BulkDelete => "bulk delete",
            OpKind::Reindex => "reindex",
        }
    }
}

/// A resource type and a number (imported, deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeCount {
    #[serde(rename = "type")]
    pub type_: String,
    pub count: u64,
}

/// One line of an import's result: a file read (`output`) or its error file (`error`, NDJSON
/// OperationOutcomes, one per line that could not be imported).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportFile {
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The input file this line is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_url: Option<String>,
    /// Where the error file is (error lines only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What an operation other than `$export` ended (or stands) with. An export's result is its
/// manifest (`ExportJob::manifest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OpResult {
    /// `$import`: resources imported per input file, and the error files.
    Import {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transaction_time: Option<String>,
        #[serde(default)]
        output: Vec<ImportFile>,
        #[serde(default)]
        error: Vec<ImportFile>,
    },
    /// `$bulk-delete`: `ResourceDeletedCount` per type, and the issues the server reported.
    BulkDelete {
        #[serde(default)]
        deleted: Vec<TypeCount>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        issues: Vec<String>,
    },
    /// `$reindex`: the job record's fields (status, progress, counts), as the server sent them.
    Reindex {
        #[serde(default)]
        fields: Vec<NamedValue>,
    },
}

/// One `name = value` of a status record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedValue {
    pub name: String,
    pub value: String,
}

impl OpResult {
    /// A reindex record's field.
    pub fn field(&self, name: &str) -> Option<&str> {
        match self {
            OpResult::Reindex { fields } => fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.value.as_str()),
            _ => None,
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Kicked off (202), not polled yet.
    Accepted,
    /// The status URL answered 202 (or a transient error) at the last poll.
    InProgress,
    /// The manifest arrived.
    Complete,
    /// The server reported the job failed; see `outcome`.
    Failed,
    /// Cancelled by us (DELETE accepted).
    Cancelled,
}

impl JobState {
    /// Whether polling should stop.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Complete | JobState::Failed | JobState::Cancelled
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            JobState::Accepted => "accepted",
            JobState::InProgress => "in progress",
            JobState::Complete => "complete",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// A bulk export job: what was asked, where to poll, and what is known so far. No tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportJob {
    /// A UUID (also the job's file name in the workspace).
    pub id: String,
    /// Which operation (old files without it: an export).
    #[serde(default)]
    pub kind: OpKind,
    /// The environment it runs against (its sign-in supplies the tokens).
    pub env: String,
    pub kickoff_url: String,
    pub status_url: String,
    #[serde(default)]
    pub params: ExportParams,
    pub state: JobState,
    #[serde(with = "time_text")]
    pub kicked_off_at: SystemTime,
    #[serde(
        default,
        with = "time_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_poll_at: Option<SystemTime>,
    #[serde(
        default,
        with = "time_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_poll_at: Option<SystemTime>,
    #[serde(default)]
    pub polls: u32,
    /// Polls answered `429 Too Many Requests` (the jobs screen shows how throttled a job is).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttled: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    /// The last transient problem (throttling, network); cleared by a good answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Manifest>,
    /// The result (or latest status record) of an operation other than `$export`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<OpResult>,
    /// The last poll's answer in a line ("202 Accepted · X-Progress: in progress").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_answer: Option<String>,
    /// When a poll last saw something change (state, progress, the answer); the jobs screen
    /// says "no progress for N min" from it while the server answers a bare 202.
    #[serde(
        default,
        with = "time_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub changed_at: Option<SystemTime>,
    /// Why the job failed: the OperationOutcome's summary, or a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default)]
    pub schedule: Schedule,
    /// The polling pace (not saved; defaults after a restart).
    #[serde(skip)]
    pub policy: PollPolicy,
}

impl ExportJob {
    /// A job whose kick-off was just accepted.
    pub fn accepted(env: &str, kickoff_url: &str, status_url: &str, params: ExportParams) -> Self {
        Self::accepted_op(OpKind::Export, env, kickoff_url, status_url, params)
    }

    /// A job of operation `kind` whose kick-off was just accepted.
    pub fn accepted_op(
        kind: OpKind,
        env: &str,
        kickoff_url: &str,
        status_url: &str,
        params: ExportParams,
    ) -> Self {
        ExportJob {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            env: env.to_string(),
            kickoff_url: kickoff_url.to_string(),
            status_url: status_url.to_string(),
            params,
            state: JobState::Accepted,
            kicked_off_at: SystemTime::now(),
            last_poll_at: None,
            next_poll_at: None,
            polls: 0,
            throttled: 0,
            progress: None,
            last_error: None,
            manifest: None,
            result: None,
            last_answer: None,
            changed_at: None,
            outcome: None,
            schedule: Schedule::default(),
            policy: PollPolicy::default(),
        }
    }

    /// How long the job has gone without a visible change while it still runs (`None` when it
    /// has ended). Measured from the last change, else from the kick-off.
    pub fn quiet_for(&self, now: SystemTime) -> Option<Duration> {
        if self.state.is_terminal() {
            return None;
        }
        let since = self.changed_at.unwrap_or(self.kicked_off_at);
        Some(now.duration_since(since).unwrap_or(Duration::ZERO))
    }

    /// How long until the next poll is due (zero when overdue or unscheduled but running;
    /// `None` when the job is finished).
    pub fn due_in(&self, now: SystemTime) -> Option<Duration> {
        if self.state.is_terminal() {
            return None;
        }
        Some(
            self.next_poll_at
                .and_then(|t| t.duration_since(now).ok())
                .unwrap_or(Duration::ZERO),
        )
    }
}

/// Tuning of the schedule (defaults for real servers; tests may start faster, never below 1 s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// First interval when the server gives no hint.
    pub initial: Duration,
    /// Growth per answer without a hint.
    pub factor: f64,
    /// Largest interval without a hint, and largest back-off after errors.
    pub ceiling: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial: Duration::from_secs(1),
            factor: 1.5,
            ceiling: Duration::from_secs(60),
        }
    }
}

/// The schedule's memory between polls (kept with the job so a resumed job keeps its pace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Schedule {
    /// The interval used for the next unhinted poll, in milliseconds (0 = not started).
    #[serde(default)]
    pub interval_ms: u64,
    /// Consecutive troubled answers.
    #[serde(default)]
    pub troubles: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// RFC 3339 text for times in job files.
mod time_text {
    use std::time::SystemTime;

    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn format(t: SystemTime) -> String {
        DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    pub(super) fn parse(s: &str) -> Option<SystemTime> {
        DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|d| SystemTime::from(d.with_timezone(&Utc)))
    }

    pub(super) fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| D::Error::custom(format!("'{s}' is not an RFC 3339 time")))
    }

    pub(super) mod option {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            t: &Option<SystemTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_some(&format(*t)),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<SystemTime>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            match s {
                None => Ok(None),
                Some(s) => parse(&s)
                    .map(Some)
                    .ok_or_else(|| D::Error::custom(format!("'{s}' is not an RFC 3339 time"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::bulk::ManifestOutput;

    fn job() -> ExportJob {
        ExportJob::accepted(
            "e",
            "http://h/$export",
            "http://h/status/1",
            Default::default(),
        )
    }

    #[test]
    fn jobs_round_trip_through_toml() {
        let mut j = job();
        j.params = ExportParams {
            scope: ExportScope::Group("g1".into()),
            types: vec!["Patient".into()],
            ..Default::default()
        };
        j.progress = Some(Progress::Fraction { done: 1, total: 4 });
        j.last_poll_at = Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123));
        j.manifest = Some(Manifest {
            transaction_time: Some("t".into()),
            request: None,
            requires_access_token: true,
            output: vec![ManifestOutput {
                type_: "Patient".into(),
                url: "http://h/p.ndjson".into(),
                count: Some(3),
            }],
            error: vec![],
        });
        j.kicked_off_at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
        let text = toml::to_string_pretty(&j).unwrap();
        let back: ExportJob = toml::from_str(&text).unwrap();
        assert_eq!(back, j, "{text}");
        j.progress = Some(Progress::Percent(42.5));
        let back: ExportJob = toml::from_str(&toml::to_string_pretty(&j).unwrap()).unwrap();
        assert_eq!(back.progress, Some(Progress::Percent(42.5)));
        j.progress = Some(Progress::Text("writing".into()));
        let back: ExportJob = toml::from_str(&toml::to_string_pretty(&j).unwrap()).unwrap();
        assert_eq!(back.progress, Some(Progress::Text("writing".into())));
    }

    #[test]
    fn operation_results_round_trip_through_toml() {
        let results = [
            OpResult::Import {
                transaction_time: Some("2025-01-01T00:00:00Z".into()),
                output: vec![ImportFile {
                    type_: "Patient".into(),
                    count: Some(2),
                    input_url: Some("http://s/import/Patient.ndjson".into()),
                    url: None,
                }],
                error: vec![ImportFile {
                    type_: "OperationOutcome".into(),
                    count: Some(1),
                    input_url: Some("http://s/import/Observation.ndjson".into()),
                    url: Some("http://s/fhirlogs/Observation1_3.ndjson".into()),
                }],
            },
            OpResult::BulkDelete {
                deleted: vec![TypeCount {
                    type_: "Observation".into(),
                    count: 7,
                }],
                issues: vec!["Job In Progress".into()],
            },
            OpResult::Reindex {
                fields: vec![NamedValue {
                    name: "status".into(),
                    value: "Running".into(),
                }],
            },
        ];
        for (kind, r) in [OpKind::Import, OpKind::BulkDelete, OpKind::Reindex]
            .into_iter()
            .zip(results)
        {
            let mut j = ExportJob::accepted_op(
                kind,
                "e",
                "http://h/$x",
                "http://h/s/1",
                Default::default(),
            );
            j.result = Some(r);
            j.last_answer = Some("202 Accepted".into());
            j.changed_at = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
            j.kicked_off_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
            let text = toml::to_string_pretty(&j).unwrap();
            let back: ExportJob = toml::from_str(&text).unwrap();
            assert_eq!(back, j, "{text}");
        }
    }

    /// A job file written before jobs had a kind (an export of the previous release).
    const OLD_JOB_FILE: &str = r#"id = "0b6f8a52-7c39-4d8e-9a51-5d6f1e2a3b4c"
env = "demo"
kickoff_url = "http://127.0.0.1:8080/$export?_type=Patient"
status_url = "http://127.0.0.1:8080/_operations/export/3"
state = "in_progress"
kicked_off_at = "2025-03-01T10:00:00Z"
last_poll_at = "2025-03-01T10:00:05Z"
polls = 2

[params]
types = ["Patient"]

[schedule]
interval_ms = 1500
troubles = 0
"#;

    #[test]
    fn old_job_files_load_as_exports() {
        let j: ExportJob = toml::from_str(OLD_JOB_FILE).unwrap();
        assert_eq!(j.kind, OpKind::Export);
        assert_eq!(j.state, JobState::InProgress);
        assert_eq!(j.result, None);
        assert_eq!(j.last_answer, None);
        assert_eq!(j.params.types, vec!["Patient".to_string()]);
        // Saved again, it says what it is.
        assert!(
            toml::to_string_pretty(&j)
                .unwrap()
                .contains("kind = \"export\"")
        );
    }

    #[test]
    fn quiet_time_counts_from_the_last_change() {
        let mut j = job();
        let t0 = j.kicked_off_at;
        assert_eq!(
            j.quiet_for(t0 + Duration::from_secs(90)),
            Some(Duration::from_secs(90))
        );
        j.changed_at = Some(t0 + Duration::from_secs(60));
        assert_eq!(
            j.quiet_for(t0 + Duration::from_secs(90)),
            Some(Duration::from_secs(30))
        );
        // A clock that went back: zero, not a panic.
        assert_eq!(j.quiet_for(t0), Some(Duration::ZERO));
        j.state = JobState::Complete;
        assert_eq!(j.quiet_for(t0), None);
    }
}
