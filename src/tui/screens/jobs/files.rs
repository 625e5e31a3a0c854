//! A finished job's files: which a job has (an export's manifest, an import's error files),
//! downloading the picked ones, and previewing an error file's OperationOutcomes in place.

use super::{Cx, Jobs};
use crate::fhir::bulk::{Manifest, ManifestOutput};
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::DownloadState;
use crate::tui::screens::dialogs::reader::{Reader, Tone};
use crate::worker::WorkerCommand;
use crate::worker::export::{ExportJob, OpKind, OpResult};

impl Jobs {
    /// Downloads the picked files (none picked: every output) into `exports/JOB/`.
    pub(super) fn download(&mut self, mut j: ExportJob, cx: &mut Cx) {
        // An import's error files are downloaded like an export's.
        j.manifest = files_of(&j);
        if let Some(m) = j.manifest.as_mut() {
            let picked = &self.outputs.picked;
            let outputs = m.output.len();
            if picked.is_empty() {
                m.error.clear();
            } else {
                m.output = m
                    .output
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| picked.contains(i))
                    .map(|(_, o)| o.clone())
                    .collect();
                m.error = m
                    .error
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| picked.contains(&(outputs + i)))
                    .map(|(_, o)| o.clone())
                    .collect();
                // Error files are fetched like outputs.
                let errors = std::mem::take(&mut m.error);
                m.output.extend(errors);
            }
        }
        cx.model.jobs.file_progress.remove(&j.id);
        // Patient data: the folders are made private (0700) before anything lands there.
        let dir = match crate::workspace::jobs::export_dir(&cx.model.root, &j.id) {
            Ok(d) => d,
            Err(e) => {
                cx.error(format!("The download folder could not be made: {e}."));
                return;
            }
        };
        cx.model
            .jobs
            .downloads
            .insert(j.id.clone(), DownloadState::Running(None));
        let auth = cx.model.plan_for_env(&j.env, &j.kickoff_url);
        cx.info(format!("Downloading into {}…", dir.display()));
        cx.worker(WorkerCommand::DownloadJob {
            job: Box::new(j),
            dir,
            auth,
        });
    }

    /// Enter on an error file: its OperationOutcome issues, from the downloaded copy (fetched
    /// first when it is not on disk yet).
    pub(super) fn show_error_file(&self, job: &ExportJob, cx: &mut Cx) {
        let Some(m) = files_of(job) else {
            return;
        };
        let Some(i) = self.outputs.row.checked_sub(m.output.len()) else {
            let say = |a: Action| cx.model.keymap.say(Ctx::Jobs, a);
            let msg = format!(
                "{} shows an error file's issues; this row is an output ({} picks it).",
                say(Action::Activate),
                say(Action::Toggle)
            );
            cx.info(msg);
            return;
        };
        let Some(file) = m.error.get(i) else {
            return;
        };
        let name = file_name(&file.url);
        let path = cx.model.root.join("exports").join(&job.id).join(&name);
        if path.is_file() {
            preview_error_file(&job.id, &name, cx);
            return;
        }
        // Fetch just this file (with the storage token where it lives), then show it.
        let mut one = job.clone();
        one.manifest = Some(Manifest {
            output: vec![file.clone()],
            error: Vec::new(),
            ..m.clone()
        });
        // As a plain file list: `download` takes the manifest as it is.
        one.kind = OpKind::Export;
        cx.model.jobs.preview_after_download = Some((job.id.clone(), name));
        Jobs::default().download(one, cx);
    }
}

/// The last path segment of a file URL (its name in the download folder).
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    path.rsplit('/').next().unwrap_or("").to_string()
}

/// A job's files as a manifest: an export's own; an import's error files (NDJSON
/// OperationOutcomes, on the service's storage account).
pub(super) fn files_of(job: &ExportJob) -> Option<Manifest> {
    match (&job.kind, &job.result) {
        (OpKind::Export, _) => job.manifest.clone(),
        (
            OpKind::Import,
            Some(OpResult::Import {
                error,
                transaction_time,
                ..
            }),
        ) => {
            let error: Vec<ManifestOutput> = error
                .iter()
                .filter_map(|e| {
                    Some(ManifestOutput {
                        type_: e.type_.clone(),
                        url: e.url.clone()?,
                        count: e.count,
                    })
                })
                .collect();
            (!error.is_empty()).then(|| Manifest {
                transaction_time: transaction_time.clone(),
                // ImportController.cs: the error files are on the service's storage account,
                // read with a storage token, not the FHIR one.
                requires_access_token: false,
                error,
                ..Default::default()
            })
        }
        _ => None,
    }
}

/// Shows a downloaded error file's issues.
pub(super) fn preview_error_file(job: &str, name: &str, cx: &mut Cx) {
    let path = cx.model.root.join("exports").join(job).join(name);
    // Read a bounded amount: error files can be long; the first issues tell the story.
    let text = match read_prefix(&path, 1024 * 1024) {
        Ok(t) => t,
        Err(_) => {
            let key = |a| cx.model.keymap.say(crate::tui::keys::Ctx::Jobs, a);
            let text = format!(
                "Download the error file first ({} picks it, {} downloads); then {} shows its issues.",
                key(crate::tui::keys::Action::Toggle),
                key(crate::tui::keys::Action::Download),
                key(crate::tui::keys::Action::Activate),
            );
            cx.info(text);
            return;
        }
    };
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate().take(500) {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(line) else {
            lines.push((Tone::Warning, format!("line {}: not JSON", n + 1)));
            continue;
        };
        match crate::fhir::parse_outcome(&json) {
            Some(issues) => {
                for issue in issues {
                    lines.push((
                        if issue.is_error() {
                            Tone::Error
                        } else {
                            Tone::Warning
                        },
                        error_file_line(&issue),
                    ));
                }
            }
            None => lines.push((
                Tone::Dim,
                format!("line {}: not an OperationOutcome", n + 1),
            )),
        }
    }
    if lines.is_empty() {
        lines.push((Tone::Dim, "The file is empty.".into()));
    }
    cx.open(Reader::new(format!("Error file {name}"), lines));
}

/// One issue of an import error file. Azure writes where (`diagnostics`: "Failed to process
/// resource at line: N …") and why (`details.text`) and no code (microsoft/fhir-server
/// `ImportErrorSerializer.cs`), so both texts are shown and an empty code is left out.
fn error_file_line(issue: &crate::fhir::Issue) -> String {
    let code = if issue.code.is_empty() {
        String::new()
    } else {
        format!(" ({})", issue.code)
    };
    let mut text = issue.message();
    if let Some(why) = issue
        .details_text
        .as_ref()
        .filter(|d| issue.diagnostics.is_some() && !d.is_empty())
    {
        text = format!("{text}: {why}");
    }
    format!("{}{code}: {text}", issue.severity)
}

fn read_prefix(path: &std::path::Path, max: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(max as u64)
        .read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_azure_import_error_says_where_and_why() {
        let oo = serde_json::json!({"resourceType": "OperationOutcome", "issue": [{
            "severity": "error",
            "diagnostics": "Failed to process resource at line: 1 with stream start offset: 363",
            "details": {"text": "The effectiveDateTime 'not a date' is not a dateTime."}}]});
        let issues = crate::fhir::parse_outcome(&oo).unwrap();
        assert_eq!(
            error_file_line(&issues[0]),
            "error: Failed to process resource at line: 1 with stream start offset: 363: The effectiveDateTime 'not a date' is not a dateTime."
        );
        let coded = serde_json::json!({"resourceType": "OperationOutcome", "issue": [{
            "severity": "error", "code": "invalid", "details": {"text": "bad"}}]});
        let issues = crate::fhir::parse_outcome(&coded).unwrap();
        assert_eq!(error_file_line(&issues[0]), "error (invalid): bad");
    }
}
