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

use thiserror::Error;

use super::atomic::write_atomic;
use super::model::{
    Collection, DEFAULT_TIMEOUT_SECS, Environment, Folder, NodePath, RequestSpec, SavedRequest,
    Workspace,
};
use super::tree::{self, WrittenTree};

mod files;
mod read;
#[cfg(test)]
mod tests;

pub(in crate::workspace) use files::{CollectionFile, EnvFile, FolderFile};
use files::{SecretsFile, VarFile, env_from_file};
pub(in crate::workspace) use read::to_toml;
use read::{file_stem, file_stem_full, mtime, sorted_entries};
pub use read::{line_col, parse_toml_file, parse_toml_text, read_text};

pub const COLLECTION_META: &str = "_collection.toml";
/// A folder's own settings (real name, position, variables, headers), in its directory.
pub const FOLDER_META: &str = "_folder.toml";
/// Folders nested deeper than this are reported and not loaded (a bound on the walk).
pub const MAX_FOLDER_DEPTH: usize = 64;
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

        let collections_dir = root.join("collections");
        tree::remove_stale_trees(&collections_dir);
        for dir in sorted_entries(&collections_dir, |p| p.is_dir()) {
            let name = file_stem_full(&dir);
            // Hidden entries are never collections (a tree still being written is one).
            if name.starts_with('.') {
                continue;
            }
            let meta_path = dir.join(COLLECTION_META);
            let meta = if meta_path.exists() {
                store.read_toml::<CollectionFile>(&meta_path, &mut problems)
            } else {
                Some(CollectionFile::default())
            };
            let meta = meta.unwrap_or_default();
            let mut root_folder = store.load_folder(&dir, &name, 0, &mut problems);
            root_folder.sort();
            ws.collections.push(meta.into_collection(root_folder));
        }
        (store, ws, problems)
    }

    fn load_folder(
        &mut self,
        dir: &Path,
        name: &str,
        depth: usize,
        problems: &mut Vec<LoadProblem>,
    ) -> Folder {
        let mut folder = Folder::new(name);
        if depth > 0 {
            let meta_path = dir.join(FOLDER_META);
            if meta_path.exists()
                && let Some(meta) = self.read_toml::<FolderFile>(&meta_path, problems)
            {
                meta.apply(&mut folder);
            }
        }
        for entry in sorted_entries(dir, |_| true) {
            let entry_name = file_stem_full(&entry);
            if entry_name.starts_with('.') {
                continue;
            }
            if entry.is_dir() {
                if depth + 1 > MAX_FOLDER_DEPTH {
                    problems.push(LoadProblem {
                        path: entry.clone(),
                        line: None,
                        column: None,
                        message: format!(
                            "is nested more than {MAX_FOLDER_DEPTH} folders deep; not loaded"
                        ),
                    });
                    self.broken.insert(entry);
                    continue;
                }
                let sub = self.load_folder(&entry, &entry_name, depth + 1, problems);
                folder.folders.push(sub);
            } else if entry.extension().is_some_and(|e| e == "toml")
                && entry_name != COLLECTION_META
                && entry_name != FOLDER_META
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
            strict: env.strict,
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
        let text = to_toml(&path, &CollectionFile::of(c))?;
        self.write(&path, text.as_bytes(), false)
    }

    /// Saves a folder's own settings (real name, position, variables, headers) into its
    /// `_folder.toml`; `path` is the folder's node path (not a collection root).
    pub fn save_folder_meta(&mut self, path: &NodePath, f: &Folder) -> Result<(), StoreError> {
        let file = self.node_dir(path).join(FOLDER_META);
        let meta = FolderFile::of(f);
        if meta.is_empty() && !file.exists() {
            return Ok(());
        }
        let text = to_toml(&file, &meta)?;
        self.write(&file, text.as_bytes(), false)
    }

    /// Takes note of files written by [`tree::write_new_collection`] (on another thread or
    /// before this store existed), so saving them later is not mistaken for a conflict.
    pub fn adopt(&mut self, written: &WrittenTree) {
        for (path, stamp) in &written.files {
            self.seen.insert(path.clone(), *stamp);
        }
    }

    pub fn create_folder(&mut self, path: &NodePath) -> Result<(), StoreError> {
        let dir = self.node_dir(path);
        if dir.exists() {
            return Err(StoreError::Exists(dir));
        }
        fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir, source })
    }

    /// Writes a whole collection (used by seeding). A new collection is written as one tree,
    /// renamed into place at once; an existing one file by file.
    pub fn save_collection(&mut self, c: &Collection) -> Result<(), StoreError> {
        let dir = self.node_dir(&NodePath(vec![c.root.name.clone()]));
        if !dir.exists() {
            let never = std::sync::atomic::AtomicBool::new(false);
            let written = tree::write_new_collection(&self.root, c, &mut |_| {}, &never)
                .map_err(|e| e.into_store_error())?;
            self.adopt(&written);
            return Ok(());
        }
        fn walk(store: &mut Store, f: &Folder, path: NodePath) -> Result<(), StoreError> {
            fs::create_dir_all(store.node_dir(&path)).map_err(|source| StoreError::Io {
                path: store.node_dir(&path),
                source,
            })?;
            if path.0.len() > 1 {
                store.save_folder_meta(&path, f)?;
            }
            for r in &f.requests {
                store.save_request(&path.child(&r.file_stem), &r.spec)?;
            }
            for sub in &f.folders {
                walk(store, sub, path.child(&sub.name))?;
            }
            Ok(())
        }
        walk(self, &c.root, NodePath(vec![c.root.name.clone()]))?;
        if !CollectionFile::of(c).is_empty() {
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
