//! The in-memory shape of a workspace: environments, collections, folders and saved requests.
//!
//! Kept free of I/O so the UI, the CLI and tests can build and inspect workspaces directly;
//! `store` maps this shape onto TOML files.

use serde::{Deserialize, Serialize};

pub use super::names::{SiblingNames, file_safe_name};

mod environment;
mod request;

pub use environment::{
    AuthConfig, AuthKind, DEFAULT_TIMEOUT_SECS, DEFAULT_TOKEN_VARIABLE, Environment, TokenFlavor,
};
pub use request::{
    Body, BodyKind, Capture, CaptureSource, Example, KeptScript, METHODS, OAuth2Settings,
    RequestAuth, RequestSpec,
};

/// One `key = value` row of an environment, collection, query or header table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyValue {
    pub key: String,
    #[serde(default)]
    pub value: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            enabled: true,
        }
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A variable of an environment. Secret values never live in the environment file:
/// they are kept in `secrets.toml` and joined back in on load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub key: String,
    pub value: String,
    pub enabled: bool,
    pub secret: bool,
}

impl Variable {
    pub fn plain(key: &str, value: &str) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            enabled: true,
            secret: false,
        }
    }

    pub fn secret(key: &str, value: &str) -> Self {
        Self {
            secret: true,
            ..Self::plain(key, value)
        }
    }
}

/// Keys that hold credentials even when nobody marked them secret (a Postman Vault
/// reference `vault:NAME` always does).
pub fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    vault_reference(key).is_some()
        || ["secret", "password", "token", "apikey", "api_key", "bearer"]
            .iter()
            .any(|needle| k.contains(needle))
}

/// The prefix of a Postman Vault reference, `{{vault:NAME}}`.
pub const VAULT_PREFIX: &str = "vault:";

/// `NAME` when the variable name `vault:NAME` is a Postman Vault reference: a secret that no
/// file holds. Imports keep these references as written; the sender is to ask for the value
/// when sending (as a secret: masked, never written to a file or to history) and keep it for
/// the session only.
pub fn vault_reference(variable: &str) -> Option<&str> {
    variable
        .trim()
        .strip_prefix(VAULT_PREFIX)
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

/// A folder of requests and sub-folders. The collection root is a folder too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Folder {
    /// Directory name on disk: the node's address in a [`NodePath`]. See [`Folder::title`] for
    /// the name to show.
    pub name: String,
    /// The real name when it is not a safe file name (`Admin/Users`, `CON`, a very long one);
    /// `None` when it equals `name`. For a collection root, the collection's name.
    pub title: Option<String>,
    /// Position among its sibling folders (lower first, ties by name): the source order of
    /// an import. Postman interleaves folders and requests; an import numbers both from the
    /// same count, so an export can give the original order back.
    pub seq: u32,
    /// Not used on a collection root (the collection has its own).
    pub description: String,
    /// Variables for every request under this folder, between the collection's and the
    /// request's own (see [`Workspace::variables_for`]). Not used on a collection root.
    pub variables: Vec<KeyValue>,
    /// Header rows added to every request under this folder (a request's own header of the
    /// same name wins; see [`Workspace::headers_for`]). Not used on a collection root.
    pub headers: Vec<KeyValue>,
    pub folders: Vec<Folder>,
    pub requests: Vec<SavedRequest>,
}

/// A request together with its file stem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedRequest {
    pub file_stem: String,
    pub spec: RequestSpec,
}

/// A collection: a folder tree plus variables shared by its requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Collection {
    pub root: Folder,
    pub variables: Vec<KeyValue>,
    pub description: String,
    /// Authentication inherited by requests whose `auth` is not set.
    pub auth: Option<RequestAuth>,
    /// Collection-level script lines kept but not run.
    pub scripts: Vec<KeptScript>,
    /// Header rows added to every request of the collection (a folder's or the request's own
    /// header of the same name wins).
    pub headers: Vec<KeyValue>,
    /// OAuth2 settings kept from an import for export (see [`OAuth2Settings`]).
    pub oauth2: Option<OAuth2Settings>,
}

impl Collection {
    /// The collection's directory name, its address in a [`NodePath`].
    pub fn name(&self) -> &str {
        &self.root.name
    }

    /// The name to show (may hold characters its directory name cannot).
    pub fn title(&self) -> &str {
        self.root.title()
    }
}

/// Where a node sits: the collection's directory, then folders, then (for a request) its file stem.
/// The same path names the file on disk, so it doubles as a stable id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodePath(pub Vec<String>);

impl NodePath {
    pub fn collection(&self) -> Option<&str> {
        self.0.first().map(String::as_str)
    }

    pub fn child(&self, name: &str) -> NodePath {
        let mut v = self.0.clone();
        v.push(name.into());
        NodePath(v)
    }

    pub fn parent(&self) -> Option<NodePath> {
        if self.0.len() <= 1 {
            None
        } else {
            Some(NodePath(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    pub fn last(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or("")
    }

    /// `Collection/Folder/Request`, as the CLI and palette show it.
    pub fn display(&self) -> String {
        self.0.join("/")
    }
}

/// Why a typed request address found no single request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("no saved request '{wanted}'. Requests: {}", if known.is_empty() { "(none)".to_string() } else { known.join(", ") })]
    NotFound { wanted: String, known: Vec<String> },
    #[error("'{wanted}' names more than one request; give one of these addresses: {}", candidates.join(", "))]
    Ambiguous {
        wanted: String,
        candidates: Vec<String>,
    },
}

/// Everything fhirside keeps in a workspace folder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Workspace {
    pub environments: Vec<Environment>,
    pub collections: Vec<Collection>,
}

impl Workspace {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    pub fn environment_mut(&mut self, name: &str) -> Option<&mut Environment> {
        self.environments.iter_mut().find(|e| e.name == name)
    }

    pub fn collection(&self, dir: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.root.name == dir)
    }

    /// The folder at `path` (a collection root or a sub-folder).
    pub fn folder(&self, path: &NodePath) -> Option<&Folder> {
        let (first, rest) = path.0.split_first()?;
        let mut folder = &self.collection(first)?.root;
        for name in rest {
            folder = folder.folders.iter().find(|f| &f.name == name)?;
        }
        Some(folder)
    }

    pub fn folder_mut(&mut self, path: &NodePath) -> Option<&mut Folder> {
        let (first, rest) = path.0.split_first()?;
        let mut folder = &mut self
            .collections
            .iter_mut()
            .find(|c| &c.root.name == first)?
            .root;
        for name in rest {
            folder = folder.folders.iter_mut().find(|f| &f.name == name)?;
        }
        Some(folder)
    }

    pub fn request(&self, path: &NodePath) -> Option<&SavedRequest> {
        let parent = path.parent()?;
        self.folder(&parent)?
            .requests
            .iter()
            .find(|r| r.file_stem == path.last())
    }

    pub fn request_mut(&mut self, path: &NodePath) -> Option<&mut SavedRequest> {
        let parent = path.parent()?;
        let stem = path.last().to_string();
        self.folder_mut(&parent)?
            .requests
            .iter_mut()
            .find(|r| r.file_stem == stem)
    }

    /// Every request with its path, in tree order.
    pub fn all_requests(&self) -> Vec<(NodePath, &SavedRequest)> {
        fn walk<'a>(f: &'a Folder, path: NodePath, out: &mut Vec<(NodePath, &'a SavedRequest)>) {
            for r in &f.requests {
                out.push((path.child(&r.file_stem), r));
            }
            for sub in &f.folders {
                walk(sub, path.child(&sub.name), out);
            }
        }
        let mut out = Vec::new();
        for c in &self.collections {
            walk(&c.root, NodePath(vec![c.root.name.clone()]), &mut out);
        }
        out
    }

    /// The folders from the collection root down to the node at `path` (a request's parent
    /// folders, or a folder and its parents), outermost first.
    fn folder_chain(&self, path: &NodePath) -> Vec<&Folder> {
        let mut out = Vec::new();
        let Some((first, rest)) = path.0.split_first() else {
            return out;
        };
        let Some(c) = self.collection(first) else {
            return out;
        };
        let mut folder = &c.root;
        out.push(folder);
        for name in rest {
            match folder.folders.iter().find(|f| &f.name == name) {
                Some(f) => {
                    folder = f;
                    out.push(f);
                }
                None => break,
            }
        }
        out
    }

    /// The variables a request (or anything under a folder) sees besides the environment's,
    /// innermost first, so the first enabled match wins: the request's own, then each folder
    /// from the nearest outwards, then the collection's. Pass it as the template context's
    /// collection variables.
    pub fn variables_for(&self, path: &NodePath) -> Vec<KeyValue> {
        let mut out = Vec::new();
        if let Some(r) = self.request(path) {
            out.extend(r.spec.variables.iter().cloned());
        }
        let chain = self.folder_chain(path);
        for f in chain.iter().skip(1).rev() {
            out.extend(f.variables.iter().cloned());
        }
        if let Some(c) = path.collection().and_then(|n| self.collection(n)) {
            out.extend(c.variables.iter().cloned());
        }
        out
    }

    /// The header rows a request inherits from its collection and folders, outermost first:
    /// enabled rows only, a nearer folder's row replacing an outer one of the same name, and
    /// none the request sets itself (enabled). Add them to the request's own headers to send.
    pub fn headers_for(&self, path: &NodePath) -> Vec<KeyValue> {
        let mut out: Vec<KeyValue> = Vec::new();
        let mut layer = |rows: &[KeyValue]| {
            for h in rows
                .iter()
                .filter(|h| h.enabled && !h.key.trim().is_empty())
            {
                out.retain(|o| !o.key.eq_ignore_ascii_case(&h.key));
                out.push(h.clone());
            }
        };
        if let Some(c) = path.collection().and_then(|n| self.collection(n)) {
            layer(&c.headers);
        }
        for f in self.folder_chain(path).iter().skip(1) {
            layer(&f.headers);
        }
        if let Some(r) = self.request(path) {
            out.retain(|o| {
                !r.spec
                    .headers
                    .iter()
                    .any(|h| h.enabled && h.key.eq_ignore_ascii_case(&o.key))
            });
        }
        out
    }

    /// Finds a request from what a user typed: its address as `fhirside list` prints it
    /// (`Collection/Folder/Request`, directory and file names: always unique), or the names
    /// shown (collection, folder and request names, any part may be either), compared without
    /// case. An exact address always wins, so every address `list` prints finds its request.
    pub fn find_request(&self, wanted: &str) -> Result<NodePath, AddressError> {
        let parts: Vec<&str> = wanted
            .split('/')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let all = self.all_requests();
        if let Some((p, _)) = all.iter().find(|(p, _)| p.0 == parts) {
            return Ok(p.clone());
        }
        let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
        let by_address: Vec<&NodePath> = all
            .iter()
            .map(|(p, _)| p)
            .filter(|p| p.0.len() == parts.len() && p.0.iter().zip(&parts).all(|(a, b)| same(a, b)))
            .collect();
        if let [one] = by_address.as_slice() {
            return Ok((*one).clone());
        }
        let matches: Vec<NodePath> = all
            .iter()
            .filter(|(p, r)| {
                if p.0.len() != parts.len() {
                    return false;
                }
                let titles = self.titles_of(p, &r.spec.name);
                p.0.iter()
                    .zip(&titles)
                    .zip(&parts)
                    .all(|((dir, title), want)| same(dir, want) || same(title, want))
            })
            .map(|(p, _)| p.clone())
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(AddressError::NotFound {
                wanted: wanted.to_string(),
                known: all.iter().map(|(p, _)| p.display()).collect(),
            }),
            many => Err(AddressError::Ambiguous {
                wanted: wanted.to_string(),
                candidates: many.iter().map(NodePath::display).collect(),
            }),
        }
    }

    /// The names shown for each part of a request's path: collection, folders, request.
    fn titles_of(&self, path: &NodePath, request_name: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .folder_chain(path)
            .iter()
            .map(|f| f.title().to_string())
            .collect();
        out.push(request_name.to_string());
        out
    }

    /// Every collection and folder path, for the "move to" picker.
    pub fn all_folders(&self) -> Vec<NodePath> {
        fn walk(f: &Folder, path: NodePath, out: &mut Vec<NodePath>) {
            out.push(path.clone());
            for sub in &f.folders {
                walk(sub, path.child(&sub.name), out);
            }
        }
        let mut out = Vec::new();
        for c in &self.collections {
            walk(&c.root, NodePath(vec![c.root.name.clone()]), &mut out);
        }
        out
    }
}

impl Folder {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// A folder named `title`, in a directory whose name is `title` made safe.
    pub fn titled(title: &str) -> Self {
        let mut f = Folder::new(&file_safe_name(title));
        f.set_title(title);
        f
    }

    /// The name to show: the real name, which may differ from the directory name.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    /// Sets the name to show, keeping `title` empty when it equals the directory name.
    pub fn set_title(&mut self, title: &str) {
        self.title = (title != self.name).then(|| title.to_string());
    }

    /// Keeps siblings in the order shown: folders by (seq, name), requests by (seq, name).
    pub fn sort(&mut self) {
        self.folders
            .sort_by(|a, b| (a.seq, &a.name).cmp(&(b.seq, &b.name)));
        self.requests
            .sort_by(|a, b| (a.spec.seq, &a.spec.name).cmp(&(b.spec.seq, &b.spec.name)));
        for f in &mut self.folders {
            f.sort();
        }
    }

    /// The names used by this folder's children, as [`SiblingNames`] compares them.
    pub fn sibling_names(&self) -> SiblingNames {
        let mut names = SiblingNames::new();
        for f in &self.folders {
            names.insert(&f.name);
        }
        for r in &self.requests {
            names.insert(&r.file_stem);
        }
        names
    }

    /// A file or directory name not yet used in this folder (compared as a case-insensitive
    /// file system would), derived from `name`.
    pub fn free_name(&self, name: &str) -> String {
        self.sibling_names().allocate(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_query_moves_params_into_table() {
        let mut r = RequestSpec::new(
            "x",
            "GET",
            "{{fhirurl}}/$export?_container=export&_type=Patient&flag",
        );
        r.split_query_from_url();
        assert_eq!(r.url, "{{fhirurl}}/$export");
        assert_eq!(r.query.len(), 3);
        assert_eq!(r.query[2], KeyValue::new("flag", ""));
        assert_eq!(
            r.full_url(),
            "{{fhirurl}}/$export?_container=export&_type=Patient&flag"
        );
    }

    #[test]
    fn disabled_params_are_left_out_of_the_url() {
        let mut r = RequestSpec::new("x", "GET", "http://h/Patient").query_param("name", "smith");
        r.query.push(KeyValue {
            key: "_count".into(),
            value: "5".into(),
            enabled: false,
        });
        assert_eq!(r.full_url(), "http://h/Patient?name=smith");
    }

    #[test]
    fn free_name_avoids_siblings() {
        let mut f = Folder::new("c");
        f.requests.push(SavedRequest {
            file_stem: "List".into(),
            spec: RequestSpec::new("List", "GET", "x"),
        });
        assert_eq!(f.free_name("List"), "List 2");
        assert_eq!(f.free_name("Other"), "Other");
    }

    #[test]
    fn secret_looking_keys() {
        assert!(looks_secret("clientsecret"));
        assert!(looks_secret("bearerToken"));
        assert!(!looks_secret("fhirurl"));
    }
}
