//! Loads a workspace folder into the model and writes changes back, one small TOML file per
//! environment and per request so teams can keep collections in git.
//!
//! Layout:
//! ```text
//! environments/NAME.toml            variables (secret ones without their value)
//! secrets.toml                      secret values, mode 0600
//! collections/COLL/_collection.toml collection variables and description
//! collections/COLL/FOLDER/REQ.toml  one saved request
//! ```
//! A file that fails to parse is reported (file, line, column), skipped, and never written over.
//! A file changed on disk since it was read is not clobbered either: the save fails with a
//! conflict the UI reports.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::atomic::write_atomic;
use super::model::{
    AuthConfig, Collection, DEFAULT_TIMEOUT_SECS, Environment, Folder, KeptScript, KeyValue,
    NodePath, RequestAuth, RequestSpec, SavedRequest, Variable, Workspace,
};

pub const COLLECTION_META: &str = "_collection.toml";
pub const SECRETS_FILE: &str = "secrets.toml";

/// A file that could not be loaded, with where the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{path} could not be written: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0} did not parse when fhirside started, so it is left as it is; fix or remove it first"
    )]
    Broken(PathBuf),
    #[error(
        "{0} was changed by another program since fhirside read it; reload the workspace (or remove the file) before saving"
    )]
    ChangedOnDisk(PathBuf),
    #[error("{0} already exists")]
    Exists(PathBuf),
    #[error("{0} could not be serialised: {1}")]
    Serialise(PathBuf, String),
}

/// On-disk shape of an environment file.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct EnvFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth: Option<AuthConfig>,
    /// Skip TLS certificate checks for this environment (see `Environment::insecure`).
    #[serde(default, skip_serializing_if = "is_false")]
    insecure: bool,
    /// Other origins that may receive the FHIR token (see `Environment::trusted_origins`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    trusted_origins: Vec<String>,
    /// Hosts that get a storage token (see `Environment::storage_hosts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    storage_hosts: Option<Vec<String>>,
    #[serde(default)]
    variables: Vec<VarFile>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct VarFile {
    key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    value: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    enabled: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    secret: bool,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct CollectionFile {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    variables: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth: Option<RequestAuth>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scripts: Vec<KeptScript>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SecretsFile {
    #[serde(default)]
    environments: BTreeMap<String, BTreeMap<String, String>>,
}

/// The workspace folder: knows where each file lives, which ones are broken, and when each was read.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    broken: HashSet<PathBuf>,
    seen: HashMap<PathBuf, Option<SystemTime>>,
    secrets: SecretsFile,
    secrets_ok: bool,
}

impl Store {
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn env_path(&self, name: &str) -> PathBuf {
        self.root.join("environments").join(format!("{name}.toml"))
    }

    pub fn node_dir(&self, path: &NodePath) -> PathBuf {
        let mut p = self.root.join("collections");
        for part in &path.0 {
            p.push(part);
        }
        p
    }

    pub fn request_path(&self, path: &NodePath) -> PathBuf {
        let mut p = self.node_dir(path);
        p.set_extension(match p.extension() {
            // A stem with a dot ("v1.2") keeps it: append rather than replace.
            Some(ext) => format!("{}.toml", ext.to_string_lossy()),
            None => "toml".into(),
        });
        p
    }

    /// Loads everything under `root`, collecting problems instead of stopping at the first.
    pub fn load(root: &Path) -> (Store, Workspace, Vec<LoadProblem>) {
        let mut store = Store {
            root: root.to_path_buf(),
            broken: HashSet::new(),
            seen: HashMap::new(),
            secrets: SecretsFile::default(),
            secrets_ok: true,
        };
        let mut problems = Vec::new();
        store.load_secrets(&mut problems);
        let mut ws = Workspace::default();

        for path in sorted_entries(&root.join("environments"), |p| {
            p.is_file() && p.extension().is_some_and(|e| e == "toml")
        }) {
            let name = file_stem(&path);
            if let Some(file) = store.read_toml::<EnvFile>(&path, &mut problems) {
                let env = env_from_file(&name, file, store.secrets.environments.get(&name));
                ws.environments.push(env);
            }
        }

        for dir in sorted_entries(&root.join("collections"), |p| p.is_dir()) {
            let name = file_stem_full(&dir);
            let meta_path = dir.join(COLLECTION_META);
            let meta = if meta_path.exists() {
                store.read_toml::<CollectionFile>(&meta_path, &mut problems)
            } else {
                Some(CollectionFile::default())
            };
            let meta = meta.unwrap_or_default();
            let mut root_folder = store.load_folder(&dir, &name, &mut problems);
            root_folder.sort();
            ws.collections.push(Collection {
                root: root_folder,
                variables: meta.variables,
                description: meta.description,
                auth: meta.auth,
                scripts: meta.scripts,
            });
        }
        (store, ws, problems)
    }

    fn load_folder(&mut self, dir: &Path, name: &str, problems: &mut Vec<LoadProblem>) -> Folder {
        let mut folder = Folder::new(name);
        for entry in sorted_entries(dir, |_| true) {
            let entry_name = file_stem_full(&entry);
            if entry_name.starts_with('.') {
                continue;
            }
            if entry.is_dir() {
                let sub = self.load_folder(&entry, &entry_name, problems);
                folder.folders.push(sub);
            } else if entry.extension().is_some_and(|e| e == "toml")
                && entry_name != COLLECTION_META
                && let Some(spec) = self.read_toml::<RequestSpec>(&entry, problems)
            {
                folder.requests.push(SavedRequest {
                    file_stem: file_stem(&entry),
                    spec,
                });
            }
        }
        folder
    }

    fn load_secrets(&mut self, problems: &mut Vec<LoadProblem>) {
        let path = self.root.join(SECRETS_FILE);
        if !path.exists() {
            return;
        }
        #[cfg(unix)]
        if let Ok(meta) = fs::metadata(&path) {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                problems.push(LoadProblem {
                    path: path.clone(),
                    line: None,
                    column: None,
                    message: format!(
                        "is readable by other users (mode {mode:o}), so its secrets were not loaded; run `chmod 600 {}`",
                        path.display()
                    ),
                });
                self.secrets_ok = false;
                self.broken.insert(path);
                return;
            }
        }
        match self.read_toml::<SecretsFile>(&path, problems) {
            Some(s) => self.secrets = s,
            None => self.secrets_ok = false,
        }
    }

    fn read_toml<T: serde::de::DeserializeOwned>(
        &mut self,
        path: &Path,
        problems: &mut Vec<LoadProblem>,
    ) -> Option<T> {
        self.seen.insert(path.to_path_buf(), mtime(path));
        match parse_toml_file(path) {
            Ok(v) => Some(v),
            Err(p) => {
                problems.push(p);
                self.broken.insert(path.to_path_buf());
                None
            }
        }
    }

    /// Writes `bytes` to `path` unless that would clobber a broken file or someone else's edit.
    fn write(&mut self, path: &Path, bytes: &[u8], private: bool) -> Result<(), StoreError> {
        if self.broken.contains(path) {
            return Err(StoreError::Broken(path.to_path_buf()));
        }
        let on_disk = mtime(path);
        match self.seen.get(path) {
            Some(known) if *known != on_disk => {
                return Err(StoreError::ChangedOnDisk(path.to_path_buf()));
            }
            None if on_disk.is_some() => return Err(StoreError::ChangedOnDisk(path.to_path_buf())),
            _ => {}
        }
        let bytes = super::schemas::with_directive(&self.root, path, bytes);
        write_atomic(path, &bytes, private).map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.seen.insert(path.to_path_buf(), mtime(path));
        Ok(())
    }

    fn remove_file(&mut self, path: &Path) -> Result<(), StoreError> {
        if self.broken.contains(path) {
            return Err(StoreError::Broken(path.to_path_buf()));
        }
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        self.seen.remove(path);
        Ok(())
    }

    /// Saves an environment file and its secret values (into `secrets.toml`).
    pub fn save_environment(&mut self, env: &Environment) -> Result<(), StoreError> {
        let file = EnvFile {
            timeout_secs: (env.timeout_secs != DEFAULT_TIMEOUT_SECS).then_some(env.timeout_secs),
            auth: env.auth.clone(),
            insecure: env.insecure,
            trusted_origins: env.trusted_origins.clone(),
            storage_hosts: env.storage_hosts.clone(),
            variables: env
                .variables
                .iter()
                .map(|v| VarFile {
                    key: v.key.clone(),
                    value: if v.secret {
                        String::new()
                    } else {
                        v.value.clone()
                    },
                    enabled: v.enabled,
                    secret: v.secret,
                })
                .collect(),
        };
        let path = self.env_path(&env.name);
        let text = to_toml(&path, &file)?;
        let secrets: BTreeMap<String, String> = env
            .variables
            .iter()
            .filter(|v| v.secret && !v.value.is_empty())
            .map(|v| (v.key.clone(), v.value.clone()))
            .collect();
        self.set_env_secrets(&env.name, secrets)?;
        self.write(&path, text.as_bytes(), false)
    }

    fn set_env_secrets(
        &mut self,
        env: &str,
        secrets: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let current = self.secrets.environments.get(env);
        let unchanged = match current {
            Some(c) => *c == secrets,
            None => secrets.is_empty(),
        };
        if unchanged {
            return Ok(());
        }
        let path = self.root.join(SECRETS_FILE);
        if !self.secrets_ok {
            return Err(StoreError::Broken(path));
        }
        let previous = self.secrets.environments.clone();
        if secrets.is_empty() {
            self.secrets.environments.remove(env);
        } else {
            self.secrets.environments.insert(env.to_string(), secrets);
        }
        let text = to_toml(&path, &self.secrets)?;
        let result = self.write(&path, text.as_bytes(), true);
        if result.is_err() {
            self.secrets.environments = previous;
        }
        result
    }

    pub fn create_environment(&mut self, env: &Environment) -> Result<(), StoreError> {
        let path = self.env_path(&env.name);
        if path.exists() {
            return Err(StoreError::Exists(path));
        }
        self.save_environment(env)
    }

    pub fn delete_environment(&mut self, name: &str) -> Result<(), StoreError> {
        self.set_env_secrets(name, BTreeMap::new())?;
        let path = self.env_path(name);
        self.remove_file(&path)
    }

    pub fn rename_environment(&mut self, env: &Environment, old: &str) -> Result<(), StoreError> {
        let new_path = self.env_path(&env.name);
        if new_path.exists() {
            return Err(StoreError::Exists(new_path));
        }
        self.save_environment(env)?;
        self.set_env_secrets(old, BTreeMap::new())?;
        let old_path = self.env_path(old);
        self.remove_file(&old_path)
    }

    pub fn save_request(&mut self, path: &NodePath, spec: &RequestSpec) -> Result<(), StoreError> {
        let file = self.request_path(path);
        let text = to_toml(&file, spec)?;
        self.write(&file, text.as_bytes(), false)
    }

    pub fn save_collection_meta(&mut self, c: &Collection) -> Result<(), StoreError> {
        let dir = self.node_dir(&NodePath(vec![c.root.name.clone()]));
        let path = dir.join(COLLECTION_META);
        let file = CollectionFile {
            description: c.description.clone(),
            variables: c.variables.clone(),
            auth: c.auth.clone(),
            scripts: c.scripts.clone(),
        };
        let text = to_toml(&path, &file)?;
        self.write(&path, text.as_bytes(), false)
    }

    pub fn create_folder(&mut self, path: &NodePath) -> Result<(), StoreError> {
        let dir = self.node_dir(path);
        if dir.exists() {
            return Err(StoreError::Exists(dir));
        }
        fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir, source })
    }

    /// Writes a whole collection (used by seeding and imports).
    pub fn save_collection(&mut self, c: &Collection) -> Result<(), StoreError> {
        fn walk(store: &mut Store, f: &Folder, path: NodePath) -> Result<(), StoreError> {
            fs::create_dir_all(store.node_dir(&path)).map_err(|source| StoreError::Io {
                path: store.node_dir(&path),
                source,
            })?;
            for r in &f.requests {
                store.save_request(&path.child(&r.file_stem), &r.spec)?;
            }
            for sub in &f.folders {
                walk(store, sub, path.child(&sub.name))?;
            }
            Ok(())
        }
        walk(self, &c.root, NodePath(vec![c.root.name.clone()]))?;
        if !c.variables.is_empty()
            || !c.description.is_empty()
            || c.auth.is_some()
            || !c.scripts.is_empty()
        {
            self.save_collection_meta(c)?;
        }
        Ok(())
    }

    /// Deletes a request file or a whole folder/collection directory.
    pub fn delete_node(&mut self, path: &NodePath, is_request: bool) -> Result<(), StoreError> {
        if is_request {
            let file = self.request_path(path);
            return self.remove_file(&file);
        }
        let dir = self.node_dir(path);
        if let Some(b) = self.broken.iter().find(|b| b.starts_with(&dir)) {
            return Err(StoreError::Broken(b.clone()));
        }
        fs::remove_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.clone(),
            source,
        })?;
        self.seen.retain(|p, _| !p.starts_with(&dir));
        Ok(())
    }

    /// Renames or moves a node on disk: `from` and `to` are full node paths.
    pub fn move_node(
        &mut self,
        from: &NodePath,
        to: &NodePath,
        is_request: bool,
    ) -> Result<(), StoreError> {
        let (src, dst) = if is_request {
            (self.request_path(from), self.request_path(to))
        } else {
            (self.node_dir(from), self.node_dir(to))
        };
        if dst.exists() {
            return Err(StoreError::Exists(dst));
        }
        if let Some(b) = self.broken.iter().find(|b| b.starts_with(&src)) {
            return Err(StoreError::Broken(b.clone()));
        }
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        fs::rename(&src, &dst).map_err(|source| StoreError::Io {
            path: src.clone(),
            source,
        })?;
        let moved: Vec<(PathBuf, Option<SystemTime>)> = self
            .seen
            .iter()
            .filter(|(p, _)| p.starts_with(&src))
            .map(|(p, t)| (p.clone(), *t))
            .collect();
        for (p, t) in moved {
            self.seen.remove(&p);
            if let Ok(rest) = p.strip_prefix(&src) {
                let new = if rest.as_os_str().is_empty() {
                    dst.clone()
                } else {
                    dst.join(rest)
                };
                self.seen.insert(new, t);
            }
        }
        Ok(())
    }

    /// Reads a saved request again from disk (after another program changed it); from now on
    /// saves compare against this version.
    pub fn reload_request(&mut self, path: &NodePath) -> Result<RequestSpec, LoadProblem> {
        let file = self.request_path(path);
        let stamp = mtime(&file);
        let spec = parse_toml_file(&file)?;
        self.seen.insert(file, stamp);
        Ok(spec)
    }

    /// Reads an environment again from disk, with its secret values from `secrets.toml` (read
    /// again too, if it changed).
    pub fn reload_environment(&mut self, name: &str) -> Result<Environment, LoadProblem> {
        let secrets_path = self.root.join(SECRETS_FILE);
        if self.secrets_ok
            && self.seen.get(&secrets_path).copied().flatten() != mtime(&secrets_path)
        {
            let stamp = mtime(&secrets_path);
            if stamp.is_some() {
                #[cfg(unix)]
                if let Ok(meta) = fs::metadata(&secrets_path) {
                    use std::os::unix::fs::PermissionsExt;
                    if meta.permissions().mode() & 0o077 != 0 {
                        return Err(LoadProblem {
                            path: secrets_path.clone(),
                            line: None,
                            column: None,
                            message: "is now readable by other users, so it was not read again; run `chmod 600` on it".into(),
                        });
                    }
                }
                self.secrets = parse_toml_file(&secrets_path)?;
            }
            self.seen.insert(secrets_path, stamp);
        }
        let path = self.env_path(name);
        let stamp = mtime(&path);
        let file: EnvFile = parse_toml_file(&path)?;
        self.seen.insert(path, stamp);
        Ok(env_from_file(
            name,
            file,
            self.secrets.environments.get(name),
        ))
    }

    /// The user chose to keep their version of a file another program changed: the next save
    /// writes over what is on disk now (a later change by someone else is still caught).
    pub fn accept_disk_version(&mut self, path: &Path) {
        self.seen.insert(path.to_path_buf(), mtime(path));
    }

    /// Problems that would stop a save of `path`, for showing before the user edits.
    pub fn is_broken(&self, path: &Path) -> bool {
        self.broken.contains(path)
    }
}

/// Reads a file as UTF-8 text; a problem names the file, and for bytes that are not UTF-8 the
/// line and column of the first bad one.
pub fn read_text(path: &Path) -> Result<String, LoadProblem> {
    let problem = |line, column, message: String| LoadProblem {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let bytes = fs::read(path).map_err(|e| problem(None, None, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..good]);
        let (l, c) = line_col(&prefix, good);
        problem(Some(l), Some(c), "is not UTF-8 text".into())
    })
}

/// Reads and parses a TOML file; any problem names the file, and where toml can tell, the line
/// and column.
pub fn parse_toml_file<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LoadProblem> {
    let text = read_text(path)?;
    parse_toml_text(path, &text)
}

/// Parses `text` (read from `path`), mapping an error to a `LoadProblem` with its position.
pub fn parse_toml_text<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, LoadProblem> {
    toml::from_str::<T>(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_col(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        LoadProblem {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })
}

/// An environment from its file, with secret values joined in from `secrets.toml`.
fn env_from_file(
    name: &str,
    file: EnvFile,
    secrets: Option<&BTreeMap<String, String>>,
) -> Environment {
    let variables = file
        .variables
        .into_iter()
        .map(|v| {
            let value = if v.secret {
                secrets
                    .and_then(|s| s.get(&v.key))
                    .cloned()
                    .unwrap_or(v.value)
            } else {
                v.value
            };
            Variable {
                key: v.key,
                value,
                enabled: v.enabled,
                secret: v.secret,
            }
        })
        .collect();
    Environment {
        name: name.to_string(),
        variables,
        timeout_secs: file.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS),
        auth: file.auth,
        insecure: file.insecure,
        trusted_origins: file.trusted_origins,
        storage_hosts: file.storage_hosts,
    }
}

fn to_toml<T: Serialize>(path: &Path, value: &T) -> Result<String, StoreError> {
    toml::to_string_pretty(value)
        .map_err(|e| StoreError::Serialise(path.to_path_buf(), e.to_string()))
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Temporary files left by a save that was killed half-way (see `atomic`): never user data.
fn is_stale_temp(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.contains(".tmp-"))
}

fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                if is_stale_temp(p) {
                    let _ = fs::remove_file(p);
                    return false;
                }
                keep(p)
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn file_stem_full(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::model::Variable;

    fn env() -> Environment {
        Environment {
            name: "dev".into(),
            variables: vec![
                Variable::plain("fhirurl", "http://localhost:8080"),
                Variable::secret("clientsecret", "s3cr3t-value"),
            ],
            timeout_secs: 12,
            auth: None,
            insecure: false,
            trusted_origins: Vec::new(),
            storage_hosts: None,
        }
    }

    #[test]
    fn environment_round_trips_and_secret_stays_out_of_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, problems) = Store::load(dir.path());
        assert!(problems.is_empty());
        store.save_environment(&env()).unwrap();
        let env_text = fs::read_to_string(dir.path().join("environments/dev.toml")).unwrap();
        assert!(!env_text.contains("s3cr3t-value"), "{env_text}");
        let secrets = fs::read_to_string(dir.path().join(SECRETS_FILE)).unwrap();
        assert!(secrets.contains("s3cr3t-value"));
        let (_, ws, problems) = Store::load(dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(ws.environments, vec![env()]);
    }

    #[test]
    fn requests_and_folders_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, _) = Store::load(dir.path());
        let mut c = Collection {
            root: Folder::new("Azure"),
            variables: vec![KeyValue::new("x", "1")],
            ..Default::default()
        };
        let mut sub = Folder::new("Patients");
        sub.requests.push(SavedRequest {
            file_stem: "Create".into(),
            spec: RequestSpec::new("Create", "POST", "{{fhirurl}}/Patient")
                .json_body("{\n  \"resourceType\": \"Patient\"\n}"),
        });
        c.root.folders.push(sub);
        c.root.requests.push(SavedRequest {
            file_stem: "Metadata".into(),
            spec: RequestSpec::new("Metadata", "GET", "{{fhirurl}}/metadata")
                .header("Accept", "application/fhir+json"),
        });
        store.save_collection(&c).unwrap();
        let (_, ws, problems) = Store::load(dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(ws.collections, vec![c]);
    }

    #[test]
    fn a_broken_file_is_reported_with_position_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let envs = dir.path().join("environments");
        fs::create_dir_all(&envs).unwrap();
        let bad = "[[variables]]\nkey = \"a\"\nvalue = \"unterminated\n";
        fs::write(envs.join("broken.toml"), bad).unwrap();
        fs::write(
            envs.join("good.toml"),
            "[[variables]]\nkey = \"a\"\nvalue = \"b\"\n",
        )
        .unwrap();
        let (mut store, ws, problems) = Store::load(dir.path());
        assert_eq!(ws.environments.len(), 1, "the rest still loads");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(3));
        assert!(problems[0].column.is_some());
        assert!(
            problems[0].to_string().contains("broken.toml:3:"),
            "{}",
            problems[0]
        );
        let err = store
            .save_environment(&Environment::new("broken"))
            .unwrap_err();
        assert!(matches!(err, StoreError::Broken(_)));
        assert_eq!(fs::read_to_string(envs.join("broken.toml")).unwrap(), bad);
    }

    #[test]
    fn the_insecure_opt_in_round_trips_and_is_off_unless_written() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, _) = Store::load(dir.path());
        let mut e = env();
        store.save_environment(&e).unwrap();
        let text = fs::read_to_string(dir.path().join("environments/dev.toml")).unwrap();
        assert!(!text.contains("insecure"), "{text}");
        e.insecure = true;
        store.save_environment(&e).unwrap();
        let text = fs::read_to_string(dir.path().join("environments/dev.toml")).unwrap();
        assert!(text.contains("insecure = true"), "{text}");
        let (_, ws, problems) = Store::load(dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        assert!(ws.environments[0].insecure);
    }

    #[test]
    fn trusted_origins_and_storage_hosts_round_trip_and_are_absent_unless_written() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, _) = Store::load(dir.path());
        let mut e = env();
        store.save_environment(&e).unwrap();
        let path = dir.path().join("environments/dev.toml");
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("trusted_origins") && !text.contains("storage_hosts"),
            "{text}"
        );
        e.trusted_origins = vec!["https://files.example.org".into()];
        e.storage_hosts = Some(vec![]);
        store.save_environment(&e).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("trusted_origins = [\"https://files.example.org\"]"),
            "{text}"
        );
        assert!(text.contains("storage_hosts = []"), "{text}");
        let (_, ws, problems) = Store::load(dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(ws.environments[0].trusted_origins, e.trusted_origins);
        assert_eq!(ws.environments[0].storage_hosts, Some(vec![]));
    }

    #[test]
    fn unknown_keys_are_errors_not_silently_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let envs = dir.path().join("environments");
        fs::create_dir_all(&envs).unwrap();
        fs::write(envs.join("x.toml"), "timeout = 3\n").unwrap();
        let (_, _, problems) = Store::load(dir.path());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("unknown field"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn a_file_changed_by_someone_else_is_not_clobbered() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, _) = Store::load(dir.path());
        store.save_environment(&env()).unwrap();
        let path = dir.path().join("environments/dev.toml");
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&path, "# edited elsewhere\n").unwrap();
        let err = store.save_environment(&env()).unwrap_err();
        assert!(matches!(err, StoreError::ChangedOnDisk(_)), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "# edited elsewhere\n");
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_secrets_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(SECRETS_FILE);
        fs::write(&p, "[environments.dev]\nclientsecret = \"x\"\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let (mut store, _, problems) = Store::load(dir.path());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("chmod 600"));
        assert!(store.save_environment(&env()).is_err());
    }

    #[test]
    fn move_and_delete_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _, _) = Store::load(dir.path());
        let req = NodePath(vec!["C".into(), "A".into()]);
        store
            .create_folder(&NodePath(vec!["C".into(), "F".into()]))
            .unwrap();
        store
            .save_request(&req, &RequestSpec::new("A", "GET", "x"))
            .unwrap();
        let moved = NodePath(vec!["C".into(), "F".into(), "A".into()]);
        store.move_node(&req, &moved, true).unwrap();
        assert!(dir.path().join("collections/C/F/A.toml").exists());
        // Saving after a move must not be mistaken for a conflict.
        store
            .save_request(&moved, &RequestSpec::new("A", "GET", "y"))
            .unwrap();
        store
            .delete_node(&NodePath(vec!["C".into(), "F".into()]), false)
            .unwrap();
        assert!(!dir.path().join("collections/C/F").exists());
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
