//! The jobs screen: every bulk export with its live state (polled by the worker), the selected
//! one's manifest and downloads, and the kick-off form. Jobs live in the shared model (a `202`
//! in the Response pane starts one); this screen holds only its cursor, the picked outputs and
//! the form. `Esc` in the form goes back to the list.

mod draw;
pub mod export_form;
mod files;
mod kickoff;
pub mod op_form;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use crossterm::event::KeyEvent;

pub use export_form::ExportForm;
use export_form::FormOutcome;
pub use op_form::OpForm;

use super::dialogs::confirm::Confirm;

use super::response::{Outcome, ResponseView};
use super::{Cx, Handled, Intent};
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::DownloadState;
use crate::tui::msg::DiskOp;
use crate::worker::export::{
    DownloadEvent, DownloadReport, ExportJob, ExportParams, ExportScope, JobState,
};
use crate::worker::{HttpResponse, WorkerCommand};

/// Which of a finished job's files (outputs, then error files) to download, and where the
/// cursor is in that list.
#[derive(Debug, Clone, Default)]
pub struct OutputsView {
    pub job: Option<String>,
    /// Keys move through the files rather than the jobs.
    pub focus: bool,
    pub row: usize,
    pub picked: BTreeSet<usize>,
}

pub enum Msg {
    /// The operation picked for `n` (an index into `OpKind::ALL`).
    Pick(usize),
    /// Start this job (confirmed).
    Start(Box<crate::worker::export::Kickoff>),
    /// The text typed to confirm a bulk delete.
    ConfirmDelete(String),
    Cancel(String),
    Remove(String),
    /// The jobs folder as it is now: jobs another fhirside started appear and are watched.
    Scanned(Vec<ExportJob>),
}

#[derive(Default)]
pub struct Jobs {
    /// When the jobs folder was last read for jobs started elsewhere.
    pub scanned_at: Option<std::time::Instant>,
    pub selected: usize,
    pub outputs: OutputsView,
    /// The kick-off form, while it is open.
    pub form: Option<Box<ExportForm>>,
    /// The kick-off form of another operation, while it is open.
    pub op_form: Option<Box<OpForm>>,
    /// A bulk delete waiting for its dry run's count, then for its confirmation.
    pub dry_run: Option<kickoff::DryRun>,
    /// The types `n` found for the export form (the server's, when known).
    offered_types: Option<Vec<String>>,
}

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
            "_anonymizationConfig" => p.anonymization_config = Some(v.into_owned()),
            "_anonymizationConfigEtag" => p.anonymization_config_etag = Some(v.into_owned()),
            _ => {}
        }
    }
    p
}

/// Polling resumes for every unfinished job (at start).
pub fn resume(cx: &mut Cx) {
    let jobs: Vec<ExportJob> = cx
        .model
        .jobs
        .list
        .iter()
        .filter(|j| !j.state.is_terminal())
        .cloned()
        .collect();
    for j in jobs {
        let auth = cx.model.plan_for_env(&j.env, &j.kickoff_url);
        cx.worker(WorkerCommand::WatchJob {
            job: Box::new(j),
            auth,
        });
    }
}

/// A kick-off answer (`202` + `Content-Location`) becomes a job being watched; returns its
/// status URL.
pub fn watch_accepted(cx: &mut Cx, request_url: &str, response: &HttpResponse) -> Option<String> {
    if response.status != 202 || !request_url.contains("$export") {
        return None;
    }
    let status_url = response.header("content-location")?.to_string();
    let env = cx.model.active_env.clone().unwrap_or_default();
    // A status URL on an origin the environment's token may not go to is never saved or polled.
    if let Some(e) = cx.model.active_environment() {
        let policy = crate::worker::credentials::CredentialPolicy::for_environment(
            e,
            &cx.model.session_vars,
        );
        if let Err(refusal) = policy.status_url(&status_url) {
            cx.error(refusal.to_string());
            return None;
        }
    }
    let params = ExportParams {
        insecure: cx.model.active_environment().is_some_and(|e| e.insecure),
        ..params_from_url(request_url)
    };
    let job = ExportJob::accepted(&env, request_url, &status_url, params);
    cx.disk_quietly(DiskOp::SaveJob(Box::new(job.clone())));
    let auth = cx.model.plan_for_env(&job.env, &job.kickoff_url);
    cx.worker(WorkerCommand::WatchJob {
        job: Box::new(job.clone()),
        auth,
    });
    let jobs = cx.model.keymap.say(Ctx::Global, Action::Jobs);
    // Short enough for an 80-column status bar beside the environment and token.
    cx.info(format!(
        "Export accepted: watching the job ({jobs} shows jobs)."
    ));
    cx.model.jobs.list.push(job);
    Some(status_url)
}

/// The demo's sample import files, when the active environment's storage is a stand-in on
/// this machine (a `storage_hosts` entry that is a loopback origin, as `--demo` writes it): a
/// new user's first import then needs no URL typed. Real storage accounts get nothing filled in.
fn local_import_samples(cx: &Cx) -> Option<String> {
    let env = cx.model.active_environment()?;
    let origin = env.storage_hosts.as_ref()?.iter().find_map(|h| {
        let u = url::Url::parse(h).ok()?;
        let local = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        local.then(|| h.trim_end_matches('/').to_string())
    })?;
    Some(format!(
        "{origin}/import/Patient.ndjson:Patient {origin}/import/Observation.ndjson:Observation"
    ))
}

/// A job after a poll (or a cancel): said when its state changes, saved, kept.
pub fn on_job(job: ExportJob, cx: &mut Cx) {
    let before = cx.model.jobs.get(&job.id).map(|j| j.state);
    if before != Some(job.state) {
        // Said of the job's own operation: an import's end is not "Export finished: 0 files".
        let noun = job.kind.noun();
        let mut what = noun.to_string();
        if let Some(first) = what.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        let (jobs, download) = (
            cx.model.keymap.say(Ctx::Global, Action::Jobs),
            cx.model.keymap.say(Ctx::Jobs, Action::Download),
        );
        match job.state {
            JobState::Complete if job.kind == crate::worker::export::OpKind::Export => {
                cx.info(format!(
                    "Export finished: {}. {jobs} shows the manifest; {download} downloads.",
                    draw::result_summary(&job)
                ))
            }
            JobState::Complete => cx.info(format!(
                "{what} finished: {}. {jobs} shows the result.",
                draw::result_summary(&job)
            )),
            JobState::Failed => cx.error(format!(
                "{what} failed: {}",
                job.outcome.clone().unwrap_or_default()
            )),
            JobState::Cancelled => cx.info(format!("{what} cancelled.")),
            _ => {}
        }
    }
    cx.disk_quietly(DiskOp::SaveJob(Box::new(job.clone())));
    let list = &mut cx.model.jobs.list;
    match list.iter_mut().find(|j| j.id == job.id) {
        Some(slot) => *slot = job,
        None => list.push(job),
    }
}

pub fn on_download(job: String, event: DownloadEvent, cx: &mut Cx) {
    if let DownloadEvent::Progress(p) = event {
        let jobs = &mut cx.model.jobs;
        jobs.file_progress
            .entry(job.clone())
            .or_default()
            .insert(p.name.clone(), (p.file_done, p.file_total));
        jobs.downloads.insert(job, DownloadState::Running(Some(p)));
    }
}

pub fn on_download_done(job: String, result: Result<Box<DownloadReport>, String>, cx: &mut Cx) {
    let preview = match cx.model.jobs.preview_after_download.take() {
        Some((j, name)) if j == job && result.is_ok() => Some(name),
        other => {
            cx.model.jobs.preview_after_download = other;
            None
        }
    };
    if let Some(name) = preview {
        cx.model
            .jobs
            .downloads
            .insert(job.clone(), DownloadState::Done(result));
        files::preview_error_file(&job, &name, cx);
        return;
    }
    match &result {
        Ok(r) if r.all_good() => cx.info(format!(
            "Downloaded {} into {}.",
            plural(r.files.len(), "file"),
            r.dir.display()
        )),
        Ok(r) => cx.error(format!(
            "Downloaded into {} with problems: {} failed, {} with a line count that differs from the manifest.",
            r.dir.display(),
            r.failures().count(),
            r.mismatches().count()
        )),
        Err(e) => cx.error(e.clone()),
    }
    cx.model
        .jobs
        .downloads
        .insert(job, DownloadState::Done(result));
}

/// "1 file", "3 files".
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The types the server listed in a CapabilityStatement received this session, from the
/// capability cache or an answer kept in the Response pane.
pub fn server_types<'a>(
    cx: &Cx,
    kept: impl Iterator<Item = &'a ResponseView>,
) -> Option<Vec<String>> {
    let from = |caps: &crate::fhir::Capabilities| {
        let types: Vec<String> = caps
            .resource_types()
            .into_iter()
            .map(str::to_string)
            .collect();
        (!types.is_empty()).then_some(types)
    };
    if let Some(t) = cx.model.active_capabilities().and_then(from) {
        return Some(t);
    }
    // Kept bodies can be large: only small ones that say they are a CapabilityStatement are read.
    kept.filter_map(|v| match &v.outcome {
        Outcome::Received { response, .. }
            if response.body.len() < 4 * 1024 * 1024
                && response
                    .body
                    .windows(19)
                    .any(|w| w == b"CapabilityStatement") =>
        {
            let json: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
            crate::fhir::Capabilities::parse(&json)
                .as_ref()
                .and_then(from)
        }
        _ => None,
    })
    .next()
}

impl Jobs {
    pub fn ctx(&self) -> Ctx {
        if self.form.is_some() || self.op_form.is_some() {
            Ctx::ExportForm
        } else {
            Ctx::Jobs
        }
    }

    /// Opens the kick-off form with `types` to pick from (the server's, when known).
    pub fn open_form(&mut self, types: Option<Vec<String>>) {
        self.form = Some(Box::new(match types {
            Some(t) => ExportForm::new(t, true),
            None => ExportForm::with_common_types(),
        }));
    }

    pub fn on_paste(&mut self, text: &str) {
        if let Some(f) = self.op_form.as_mut() {
            let row = f.row;
            if let Some(t) = f.text_mut(row) {
                t.paste(text);
            }
        }
        if let Some(f) = self.form.as_mut() {
            let row = f.row;
            if let Some(t) = f.text_mut(row) {
                t.paste(text);
            }
        }
    }

    pub fn update(&mut self, msg: Msg, cx: &mut Cx) {
        match msg {
            Msg::Pick(i) => match crate::worker::export::OpKind::ALL.get(i) {
                Some(crate::worker::export::OpKind::Export) | None => {
                    let types = self.offered_types.take();
                    self.open_form(types);
                }
                Some(kind) => {
                    let mut form = OpForm::new(*kind);
                    if *kind == crate::worker::export::OpKind::Import
                        && let Some(inputs) = local_import_samples(cx)
                    {
                        form.set_text(1, &inputs);
                    }
                    self.op_form = Some(Box::new(form));
                }
            },
            Msg::Start(start) => self.start(*start, cx),
            Msg::ConfirmDelete(text) => self.confirm_delete(&text, cx),
            Msg::Cancel(id) => {
                let Some(job) = cx.model.jobs.get(&id).cloned() else {
                    return;
                };
                let auth = cx.model.plan_for_env(&job.env, &job.kickoff_url);
                cx.worker(WorkerCommand::CancelJob {
                    job: Box::new(job),
                    auth,
                });
            }
            Msg::Scanned(found) => {
                for job in found {
                    if cx.model.jobs.get(&job.id).is_some() {
                        continue;
                    }
                    if !job.state.is_terminal() {
                        let auth = cx.model.plan_for_env(&job.env, &job.kickoff_url);
                        cx.worker(WorkerCommand::WatchJob {
                            job: Box::new(job.clone()),
                            auth,
                        });
                    }
                    cx.info("A job started elsewhere (fhirside export) appeared in the list.");
                    cx.model.jobs.list.push(job);
                }
            }
            Msg::Remove(id) => {
                cx.disk_quietly(DiskOp::RemoveJob(id.clone()));
                let jobs = &mut cx.model.jobs;
                jobs.list.retain(|x| x.id != id);
                jobs.downloads.remove(&id);
                jobs.file_progress.remove(&id);
                self.selected = self.selected.min(jobs.list.len().saturating_sub(1));
            }
        }
    }

    /// A key on the jobs screen (or its form); `Close` leaves the screen. `types` gives the
    /// form its list of types when `n` opens it.
    pub fn on_key(
        &mut self,
        key: &KeyEvent,
        action: Option<Action>,
        cx: &mut Cx,
        types: impl FnOnce(&Cx) -> Option<Vec<String>>,
    ) -> Handled {
        if let Some(form) = self.op_form.as_mut() {
            match form.on_key(key, action, cx) {
                FormOutcome::Stay => {}
                FormOutcome::Back => self.op_form = None,
                FormOutcome::Start => self.submit_op_form(cx),
            }
            return Handled::Yes;
        }
        if let Some(form) = self.form.as_mut() {
            match form.on_key(key, action, cx) {
                FormOutcome::Stay => {}
                FormOutcome::Back => self.form = None,
                FormOutcome::Start => match export_form::start_command(form, cx) {
                    Ok(cmd) => {
                        cx.info("Starting the export…");
                        cx.worker(cmd);
                        self.form = None;
                        self.selected = cx.model.jobs.list.len();
                    }
                    Err(e) => cx.error(e),
                },
            }
            return Handled::Yes;
        }
        let count = cx.model.jobs.list.len();
        let job = cx.model.jobs.list.get(self.selected).cloned();
        let files = job
            .as_ref()
            .and_then(files::files_of)
            .map_or(0, |m| m.output.len() + m.error.len());
        if self.outputs.job.as_deref() != job.as_ref().map(|j| j.id.as_str()) {
            self.outputs = OutputsView {
                job: job.as_ref().map(|j| j.id.clone()),
                ..Default::default()
            };
        }
        if self.outputs.focus {
            match action {
                Some(Action::Down) => {
                    self.outputs.row = (self.outputs.row + 1).min(files.saturating_sub(1));
                    return Handled::Yes;
                }
                Some(Action::Up) => {
                    self.outputs.row = self.outputs.row.saturating_sub(1);
                    return Handled::Yes;
                }
                Some(Action::Toggle) => {
                    let r = self.outputs.row;
                    if !self.outputs.picked.remove(&r) {
                        self.outputs.picked.insert(r);
                    }
                    return Handled::Yes;
                }
                Some(Action::Activate) => {
                    if let Some(j) = &job {
                        self.show_error_file(j, cx);
                    }
                    return Handled::Yes;
                }
                _ => {}
            }
        }
        match action {
            Some(Action::NextTab) => {
                if files > 0 {
                    self.outputs.focus = !self.outputs.focus;
                } else {
                    cx.info("Outputs can be picked once the job is complete.");
                }
            }
            Some(Action::Close) => return Handled::Close,
            Some(Action::New) => {
                self.offered_types = types(cx);
                let choices = crate::worker::export::OpKind::ALL
                    .iter()
                    .map(|k| kickoff::describe(*k).to_string())
                    .collect();
                cx.open(crate::tui::screens::dialogs::choice::Choice::new(
                    "Start which operation?",
                    choices,
                    0,
                    |i| Intent::Jobs(Msg::Pick(i)),
                ));
            }
            Some(Action::Down) => self.selected = (self.selected + 1).min(count.saturating_sub(1)),
            Some(Action::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Action::CancelJob) => match job {
                Some(j) if !j.state.is_terminal() => cx.open(Confirm::new(
                    "Cancel this export on the server (DELETE on its status URL)?",
                    Intent::Jobs(Msg::Cancel(j.id)),
                )),
                Some(j) => {
                    let remove = cx.model.keymap.say(Ctx::Jobs, Action::Delete);
                    cx.info(format!(
                        "This job has ended ({}); there is nothing to cancel. {remove} removes it from the list.",
                        j.state.label()
                    ))
                }
                None => cx.info("No job selected."),
            },
            Some(Action::Download) => match job {
                Some(j) if j.state == JobState::Complete && files::files_of(&j).is_some() => {
                    self.download(j, cx)
                }
                Some(j) if j.kind != crate::worker::export::OpKind::Export => {
                    cx.info(format!("A {} job has no files to download.", j.kind.noun()))
                }
                _ => cx.info("Only a finished job can be downloaded."),
            },
            Some(Action::Delete) => match job {
                Some(j) if j.state.is_terminal() => cx.open(Confirm::new(
                    format!(
                        "Remove this {} job from the list? (Downloaded files stay in exports/.)",
                        j.state.label()
                    ),
                    Intent::Jobs(Msg::Remove(j.id)),
                )),
                Some(_) => {
                    let cancel = cx.model.keymap.say(Ctx::Jobs, Action::CancelJob);
                    cx.info(format!(
                        "Cancel a running job ({cancel}) before removing it."
                    ));
                }
                None => {}
            },
            _ => return Handled::No,
        }
        Handled::Yes
    }
}
