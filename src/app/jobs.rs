//! Bulk-export jobs as the app keeps them: started from any `$export` answered `202` with a
//! `Content-Location`, polled by the worker, saved in the workspace so a restart resumes them.

use std::collections::HashMap;

use super::state::{App, Overlay};
use super::update::Command;
use crate::worker::export::{
    DownloadEvent, DownloadProgress, DownloadReport, ExportJob, ExportParams, ExportScope, JobState,
};
use crate::worker::{AuthPlan, HttpResponse, WorkerCommand};
use crate::workspace::RequestSpec;

/// A download's latest progress, or its result.
#[derive(Debug, Clone)]
pub enum DownloadState {
    Running(Option<DownloadProgress>),
    Done(Result<Box<DownloadReport>, String>),
}

/// Which of a finished job's outputs to download, and where the cursor is in that list.
#[derive(Debug, Clone, Default)]
pub struct OutputsView {
    pub job: Option<String>,
    /// Keys move through the outputs rather than the jobs.
    pub focus: bool,
    pub row: usize,
    pub picked: std::collections::BTreeSet<usize>,
}

/// Per-file download progress: name → (bytes done, size when known).
pub type FileProgress = std::collections::BTreeMap<String, (u64, Option<u64>)>;

/// The kick-off parameters read back from a kick-off URL (for display and the jobs file).
pub fn params_from_url(url: &str) -> ExportParams {
    let mut p = ExportParams::default();
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if let Some(rest) = path.strip_suffix("/$export") {
        if rest.ends_with("/Patient") {
            p.scope = ExportScope::Patient;
        } else if let Some((_, id)) = rest.rsplit_once("/Group/") {
            p.scope = ExportScope::Group(id.to_string());
        }
    }
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "_type" => {
                p.types = v
                    .split(',')
                    .map(str::to_string)
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            "_since" => p.since = Some(v.into_owned()),
            "_typeFilter" => p.type_filter.push(v.into_owned()),
            "_container" => p.container = Some(v.into_owned()),
            "_outputFormat" => p.output_format = Some(v.into_owned()),
            _ => {}
        }
    }
    p
}

impl App {
    fn job_plan(&self, job: &ExportJob) -> Option<AuthPlan> {
        let env = self.ws.environment(&job.env)?;
        let spec = RequestSpec::new("export", "GET", &job.status_url);
        crate::worker::auth::plan_for(env, &self.session_vars, &spec, &job.status_url)
            .ok()
            .flatten()
    }

    /// Whether the screen needs a clock for jobs or downloads.
    pub fn jobs_running(&self) -> bool {
        self.jobs.iter().any(|j| !j.state.is_terminal())
            || self
                .downloads
                .values()
                .any(|d| matches!(d, DownloadState::Running(_)))
    }

    /// Polling resumes for every unfinished job (at start).
    pub fn resume_jobs(&self) -> Vec<Command> {
        self.jobs
            .iter()
            .filter(|j| !j.state.is_terminal())
            .map(|j| {
                Command::Worker(WorkerCommand::WatchJob {
                    job: Box::new(j.clone()),
                    auth: self.job_plan(j),
                })
            })
            .collect()
    }

    /// A kick-off answer (`202` + `Content-Location`) becomes a job being watched.
    pub fn maybe_start_job(&mut self, request_url: &str, response: &HttpResponse) -> Vec<Command> {
        if response.status != 202 || !request_url.contains("$export") {
            return Vec::new();
        }
        let Some(status_url) = response.header("content-location") else {
            return Vec::new();
        };
        let env = self.active_env.clone().unwrap_or_default();
        let params = ExportParams {
            insecure: self.active_environment().is_some_and(|e| e.insecure),
            ..params_from_url(request_url)
        };
        let job = ExportJob::accepted(&env, request_url, status_url, params);
        self.save_job(&job);
        let cmd = Command::Worker(WorkerCommand::WatchJob {
            job: Box::new(job.clone()),
            auth: self.job_plan(&job),
        });
        self.info("Export accepted: fhirside is watching the job (J shows the jobs).");
        self.jobs.push(job);
        vec![cmd]
    }

    fn save_job(&mut self, job: &ExportJob) {
        if let Some(store) = self.job_store.as_mut()
            && let Err(e) = store.save(job)
        {
            self.status = Some(super::state::Status {
                text: e.to_string(),
                kind: super::state::StatusKind::Error,
            });
        }
    }

    pub fn on_job(&mut self, job: ExportJob) {
        let before = self.jobs.iter().find(|j| j.id == job.id).map(|j| j.state);
        if before != Some(job.state) {
            match job.state {
                JobState::Complete => {
                    let files = job.manifest.as_ref().map(|m| m.output.len()).unwrap_or(0);
                    self.info(format!(
                        "Export finished: {files} files. J shows the manifest; D downloads."
                    ));
                }
                JobState::Failed => self.error(format!(
                    "Export failed: {}",
                    job.outcome.clone().unwrap_or_default()
                )),
                JobState::Cancelled => self.info("Export cancelled."),
                _ => {}
            }
        }
        self.save_job(&job);
        match self.jobs.iter_mut().find(|j| j.id == job.id) {
            Some(slot) => *slot = job,
            None => self.jobs.push(job),
        }
    }

    pub fn on_download(&mut self, job: String, event: DownloadEvent) {
        if let DownloadEvent::Progress(p) = event {
            self.file_progress
                .entry(job.clone())
                .or_default()
                .insert(p.name.clone(), (p.file_done, p.file_total));
            self.downloads.insert(job, DownloadState::Running(Some(p)));
        }
    }

    pub fn on_download_done(&mut self, job: String, result: Result<Box<DownloadReport>, String>) {
        match &result {
            Ok(r) if r.all_good() => self.info(format!("Downloaded {} files into {}.", r.files.len(), r.dir.display())),
            Ok(r) => self.error(format!(
                "Downloaded into {} with problems: {} failed, {} with a line count that differs from the manifest.",
                r.dir.display(),
                r.failures().count(),
                r.mismatches().count()
            )),
            Err(e) => self.error(e.clone()),
        }
        self.downloads.insert(job, DownloadState::Done(result));
    }

    /// Keys of the jobs overlay.
    pub fn on_jobs_key(&mut self, name: &str, mut selected: usize) -> Vec<Command> {
        let count = self.jobs.len();
        let job = self.jobs.get(selected).cloned();
        let outputs = job
            .as_ref()
            .and_then(|j| j.manifest.as_ref())
            .map(|m| m.output.len())
            .unwrap_or(0);
        if self.outputs.job.as_deref() != job.as_ref().map(|j| j.id.as_str()) {
            self.outputs = OutputsView {
                job: job.as_ref().map(|j| j.id.clone()),
                ..Default::default()
            };
        }
        if self.outputs.focus {
            let handled = match name {
                "j" | "down" => {
                    self.outputs.row = (self.outputs.row + 1).min(outputs.saturating_sub(1));
                    true
                }
                "k" | "up" => {
                    self.outputs.row = self.outputs.row.saturating_sub(1);
                    true
                }
                "space" => {
                    let r = self.outputs.row;
                    if !self.outputs.picked.remove(&r) {
                        self.outputs.picked.insert(r);
                    }
                    true
                }
                _ => false,
            };
            if handled {
                self.overlay = Some(Overlay::Jobs { selected });
                return Vec::new();
            }
        }
        match name {
            "tab" | "backtab" => {
                if outputs > 0 {
                    self.outputs.focus = !self.outputs.focus;
                } else {
                    self.info("Outputs can be picked once the job is complete.");
                }
            }
            "esc" | "q" | "J" => return Vec::new(),
            "n" => {
                self.open_export_form();
                return Vec::new();
            }
            "j" | "down" => selected = (selected + 1).min(count.saturating_sub(1)),
            "k" | "up" => selected = selected.saturating_sub(1),
            "x" => {
                if let Some(j) = job.filter(|j| !j.state.is_terminal()) {
                    self.overlay = Some(Overlay::Confirm {
                        message: "Cancel this export on the server (DELETE on its status URL)?"
                            .into(),
                        on_yes: super::state::Confirmed::CancelJob(j.id),
                    });
                    return Vec::new();
                }
            }
            "D" => {
                if let Some(mut j) = job.filter(|j| j.state == JobState::Complete) {
                    // Only the picked outputs, when some are picked.
                    if !self.outputs.picked.is_empty()
                        && let Some(m) = j.manifest.as_mut()
                    {
                        let picked = &self.outputs.picked;
                        m.output = m
                            .output
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| picked.contains(i))
                            .map(|(_, o)| o.clone())
                            .collect();
                    }
                    self.file_progress.remove(&j.id);
                    let dir = self.store.root().join("exports").join(&j.id);
                    self.downloads
                        .insert(j.id.clone(), DownloadState::Running(None));
                    let auth = self.job_plan(&j);
                    self.overlay = Some(Overlay::Jobs { selected });
                    self.info(format!("Downloading into {}…", dir.display()));
                    return vec![Command::Worker(WorkerCommand::DownloadJob {
                        job: Box::new(j),
                        dir,
                        auth,
                    })];
                }
                self.info("Only a finished job can be downloaded.");
            }
            "d" | "delete" => {
                if let Some(j) = job.filter(|j| j.state.is_terminal()) {
                    if let Some(store) = self.job_store.as_mut() {
                        let _ = store.remove(&j.id);
                    }
                    self.jobs.retain(|x| x.id != j.id);
                    self.downloads.remove(&j.id);
                    selected = selected.min(self.jobs.len().saturating_sub(1));
                } else {
                    self.info("Cancel a running job (x) before removing it.");
                }
            }
            _ => {}
        }
        self.overlay = Some(Overlay::Jobs { selected });
        Vec::new()
    }

    /// `x` confirmed.
    pub fn cancel_job(&mut self, id: &str) -> Vec<Command> {
        let Some(job) = self.jobs.iter().find(|j| j.id == id).cloned() else {
            return Vec::new();
        };
        let auth = self.job_plan(&job);
        self.overlay = Some(Overlay::Jobs {
            selected: self.jobs.iter().position(|j| j.id == id).unwrap_or(0),
        });
        vec![Command::Worker(WorkerCommand::CancelJob {
            job: Box::new(job),
            auth,
        })]
    }
}

/// Jobs and downloads, kept beside the rest of the app state.
pub type Downloads = HashMap<String, DownloadState>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_from_kickoff_urls() {
        let p = params_from_url(
            "http://x/$export?_container=export&_type=Patient,Observation&_since=2024-01-01",
        );
        assert_eq!(p.scope, ExportScope::System);
        assert_eq!(p.types, vec!["Patient", "Observation"]);
        assert_eq!(p.container.as_deref(), Some("export"));
        assert_eq!(
            params_from_url("http://x/Group/g1/$export").scope,
            ExportScope::Group("g1".into())
        );
        assert_eq!(
            params_from_url("http://x/Patient/$export").scope,
            ExportScope::Patient
        );
    }
}
