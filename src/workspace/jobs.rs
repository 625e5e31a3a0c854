//! Bulk export jobs kept in the workspace, so they survive a restart and can be resumed.
//!
//! Layout: one file per job, `jobs/ID.toml` (ID is the job's UUID). One file per job rather than
//! a single `jobs.toml` because jobs change independently and often (every poll): each save
//! rewrites only that job's small file, several jobs polling at once never overwrite each
//! other's latest state, a damaged file costs only its own job, and removing a job is deleting a
//! file.
//!
//! Like the rest of the workspace, a file that does not parse is reported (`LoadProblem` with
//! line and column) and never written over or removed. No tokens are stored: a job has no token
//! field, and query parameters that carry credentials in output URLs (pre-signed `sig`,
//! `X-Amz-Signature`, `access_token`, …) are replaced with `REDACTED` before saving; such a job
//! gets fresh URLs by polling its status URL again.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::atomic::write_atomic;
use super::export_job::ExportJob;
use super::store::{LoadProblem, StoreError, parse_toml_file};
use crate::fhir::bulk::Manifest;

pub const JOBS_DIR: &str = "jobs";
/// Where jobs' files are downloaded: `exports/JOB/`.
pub const EXPORTS_DIR: &str = "exports";

/// The download folder of job `id` in the workspace at `root`: `exports/` and `exports/ID/`,
/// created or made private (0700), since they hold patient data.
pub fn export_dir(root: &Path, id: &str) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let exports = root.join(EXPORTS_DIR);
    let dir = exports.join(file_stem(id));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    for d in [&exports, &dir] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

/// What replaces a credential in a saved URL.
pub const REDACTED: &str = "REDACTED";

/// The workspace's `jobs/` folder.
#[derive(Debug)]
pub struct JobStore {
    dir: PathBuf,
    broken: HashSet<PathBuf>,
}

/// A job id usable as a file name (UUIDs are; anything else is reduced to the safe characters).
fn file_stem(id: &str) -> String {
    let s: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if s.is_empty() { "job".into() } else { s }
}

impl JobStore {
    /// The job store of the workspace at `root` (nothing is read).
    pub fn new(root: &Path) -> JobStore {
        JobStore {
            dir: root.join(JOBS_DIR),
            broken: HashSet::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{}.toml", file_stem(id)))
    }

    /// Loads every `jobs/*.toml`, oldest kick-off first, collecting problems instead of stopping.
    pub fn load(root: &Path) -> (JobStore, Vec<ExportJob>, Vec<LoadProblem>) {
        let mut store = JobStore::new(root);
        let mut jobs = Vec::new();
        let mut problems = Vec::new();
        let mut paths: Vec<PathBuf> = match fs::read_dir(&store.dir) {
            Ok(rd) => rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.extension().is_some_and(|e| e == "toml")
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        paths.sort();
        for path in paths {
            let problem = |line, column, message: String| LoadProblem {
                path: path.clone(),
                line,
                column,
                message,
            };
            match parse_toml_file::<ExportJob>(&path) {
                Ok(job) => {
                    let stem = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if file_stem(&job.id) != stem {
                        problems.push(problem(
                            None,
                            None,
                            format!(
                                "holds job '{}', which does not match its file name; it was not loaded",
                                job.id
                            ),
                        ));
                        store.broken.insert(path.clone());
                        continue;
                    }
                    jobs.push(job);
                }
                Err(p) => {
                    problems.push(p);
                    store.broken.insert(path.clone());
                }
            }
        }
        jobs.sort_by_key(|j| j.kicked_off_at);
        (store, jobs, problems)
    }

    /// Writes the job atomically (credentials in output URLs redacted). A file that failed to
    /// load is left alone.
    pub fn save(&mut self, job: &ExportJob) -> Result<(), StoreError> {
        let path = self.path_of(&job.id);
        if self.broken.contains(&path) {
            return Err(StoreError::Broken(path));
        }
        let mut copy = job.clone();
        if let Some(m) = copy.manifest.as_mut() {
            redact_manifest(m);
        }
        let text = toml::to_string_pretty(&copy)
            .map_err(|e| StoreError::Serialise(path.clone(), e.to_string()))?;
        write_atomic(&path, text.as_bytes(), false).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })
    }

    /// Deletes the job's file (fine if it is already gone). A broken file is left alone.
    pub fn remove(&mut self, id: &str) -> Result<(), StoreError> {
        let path = self.path_of(id);
        if self.broken.contains(&path) {
            return Err(StoreError::Broken(path));
        }
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }
}

/// Query parameter names that carry credentials.
fn is_credential_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "sig"
            | "signature"
            | "access_token"
            | "token"
            | "code"
            | "x-amz-signature"
            | "x-amz-credential"
            | "x-amz-security-token"
            | "x-goog-signature"
            | "x-goog-credential"
    )
}

/// `url` with credential-bearing query values replaced by [`REDACTED`].
pub fn redact_url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return url.to_string();
    };
    if !u.query_pairs().any(|(k, _)| is_credential_param(&k)) {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let v = if is_credential_param(&k) {
                REDACTED.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

fn redact_manifest(m: &mut Manifest) {
    for o in m.output.iter_mut().chain(m.error.iter_mut()) {
        o.url = redact_url(&o.url);
    }
}

/// Whether a saved manifest had credentials removed from its URLs (poll the status URL again
/// before downloading).
pub fn manifest_needs_refresh(m: &Manifest) -> bool {
    m.output.iter().chain(m.error.iter()).any(|o| {
        url::Url::parse(&o.url).is_ok_and(|u| {
            u.query_pairs()
                .any(|(k, v)| is_credential_param(&k) && v == REDACTED)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::bulk::ManifestOutput;
    use crate::workspace::export_job::{ExportParams, JobState};

    fn job() -> ExportJob {
        ExportJob::accepted(
            "demo",
            "http://h/$export",
            "http://h/_operations/export/1",
            ExportParams::default(),
        )
    }

    #[test]
    fn save_load_remove() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, jobs, problems) = JobStore::load(dir.path());
        assert!(jobs.is_empty() && problems.is_empty());
        let mut a = job();
        a.state = JobState::InProgress;
        a.polls = 3;
        store.save(&a).unwrap();
        let b = job();
        store.save(&b).unwrap();
        let (_, jobs, problems) = JobStore::load(dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(jobs.len(), 2);
        let loaded = jobs.iter().find(|j| j.id == a.id).unwrap();
        assert_eq!(loaded, &a);
        store.remove(&a.id).unwrap();
        store.remove(&a.id).unwrap();
        let (_, jobs, _) = JobStore::load(dir.path());
        assert_eq!(jobs.len(), 1);
        // No temp files left behind.
        let names: Vec<_> = fs::read_dir(store.dir()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn export_folders_are_private_even_when_they_existed() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("exports")).unwrap();
        fs::set_permissions(
            root.path().join("exports"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let dir = export_dir(root.path(), "../j-1").unwrap();
        assert_eq!(dir, root.path().join("exports").join("j-1"));
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("exports")), 0o700);
    }

    #[test]
    fn broken_files_are_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, _) = JobStore::load(dir.path());
        let a = job();
        store.save(&a).unwrap();
        let path = store.path_of(&a.id);
        let broken = "id = \"x\"\nstate = \"exploded\"\n";
        fs::write(&path, broken).unwrap();
        let (mut store, jobs, problems) = JobStore::load(dir.path());
        assert!(jobs.is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, path);
        assert!(problems[0].line.is_some() && problems[0].column.is_some());
        assert!(matches!(store.save(&a), Err(StoreError::Broken(_))));
        assert!(matches!(store.remove(&a.id), Err(StoreError::Broken(_))));
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);

        // Wrong id for the file name.
        let other = job();
        let mut text = toml::to_string_pretty(&other).unwrap();
        text = text.replace(&other.id, "someone-else");
        let p2 = store.path_of(&other.id);
        fs::write(&p2, text).unwrap();
        let (_, jobs, problems) = JobStore::load(dir.path());
        assert!(jobs.is_empty());
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn no_credentials_saved() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, _) = JobStore::load(dir.path());
        let mut a = job();
        a.state = JobState::Complete;
        a.manifest = Some(Manifest {
            requires_access_token: false,
            output: vec![
                ManifestOutput {
                    type_: "Patient".into(),
                    url: "https://acct.blob.core.windows.net/c/P.ndjson?sv=2024&sig=SECRETSIG&se=x"
                        .into(),
                    count: Some(1),
                },
                ManifestOutput {
                    type_: "Observation".into(),
                    url: "http://h/O.ndjson".into(),
                    count: None,
                },
            ],
            ..Default::default()
        });
        store.save(&a).unwrap();
        let text = fs::read_to_string(store.path_of(&a.id)).unwrap();
        assert!(!text.contains("SECRETSIG"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("bearer"));
        let (_, jobs, _) = JobStore::load(dir.path());
        let m = jobs[0].manifest.as_ref().unwrap();
        assert!(m.output[0].url.contains("sig=REDACTED") && m.output[0].url.contains("sv=2024"));
        assert_eq!(m.output[1].url, "http://h/O.ndjson");
        assert!(manifest_needs_refresh(m));
        assert!(!manifest_needs_refresh(a.manifest.as_ref().unwrap()));
        // The job in memory keeps its working URLs.
        assert!(a.manifest.unwrap().output[0].url.contains("SECRETSIG"));
    }
}
