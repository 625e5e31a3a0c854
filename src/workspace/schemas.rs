//! JSON Schemas of the workspace's own files, generated from the types that read them, and the
//! `#:schema` directive at the top of every file the store writes, so an editor with a TOML
//! language server (taplo, Even Better TOML) validates and completes it. The directive is a
//! path relative to the file, to a copy of the schema kept in the workspace's `.schemas/`:
//! it works offline, in a clone of a team's repository, and always matches this version.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;

use super::model::RequestSpec;
use super::settings::Settings;
use super::store::{COLLECTION_META, CollectionFile, EnvFile, FOLDER_META, FolderFile};

/// The workspace folder that holds the schemas the directives point at.
pub const SCHEMA_DIR: &str = ".schemas";

/// The kinds of file the store writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Environment,
    Request,
    Collection,
    Folder,
    Settings,
}

impl FileKind {
    pub const ALL: [FileKind; 5] = [
        FileKind::Environment,
        FileKind::Request,
        FileKind::Collection,
        FileKind::Folder,
        FileKind::Settings,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FileKind::Environment => "environment",
            FileKind::Request => "request",
            FileKind::Collection => "collection",
            FileKind::Folder => "folder",
            FileKind::Settings => "settings",
        }
    }

    /// `environment.schema.json`, …
    pub fn file_name(self) -> String {
        format!("{}.schema.json", self.name())
    }

    /// The schema, generated from the type the file is read into.
    pub fn schema(self) -> serde_json::Value {
        match self {
            FileKind::Environment => schema_of::<EnvFile>(
                "fhirside environment",
                "environments/NAME.toml: variables (secret values live in secrets.toml), the timeout, sign-in settings ([auth]) and the TLS opt-out.",
            ),
            FileKind::Request => schema_of::<RequestSpec>(
                "fhirside request",
                "collections/COLLECTION/…/NAME.toml: one saved request.",
            ),
            FileKind::Collection => schema_of::<CollectionFile>(
                "fhirside collection",
                "collections/COLLECTION/_collection.toml: the collection's description, variables, inherited auth and kept scripts.",
            ),
            FileKind::Folder => schema_of::<FolderFile>(
                "fhirside folder",
                "collections/COLLECTION/…/FOLDER/_folder.toml: the folder's real name, position, variables and headers.",
            ),
            FileKind::Settings => schema_of::<Settings>(
                "fhirside settings",
                "settings.toml: the workspace's theme, history bounds and large-body threshold.",
            ),
        }
    }

    /// The schema as the file `schemas/` and `.schemas/` hold.
    pub fn schema_text(self) -> String {
        pretty(&self.schema())
    }

    /// Which kind `path` (inside the workspace `root`) is, if any.
    pub fn of(root: &Path, path: &Path) -> Option<FileKind> {
        let rel = path.strip_prefix(root).ok()?;
        let parts: Vec<&str> = rel
            .components()
            .map(|c| match c {
                Component::Normal(p) => p.to_str(),
                _ => None,
            })
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            ["settings.toml"] => Some(FileKind::Settings),
            ["environments", f] if f.ends_with(".toml") => Some(FileKind::Environment),
            ["collections", _, .., f] if *f == COLLECTION_META => Some(FileKind::Collection),
            ["collections", _, .., f] if *f == FOLDER_META => Some(FileKind::Folder),
            ["collections", _, .., f] if f.ends_with(".toml") => Some(FileKind::Request),
            _ => None,
        }
    }
}

/// Pretty JSON with a final newline (what the committed files hold).
pub fn pretty(value: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

fn schema_of<T: JsonSchema>(title: &str, description: &str) -> serde_json::Value {
    // Draft 7: what taplo and most editors' validators read. TOML has no null: an absent key
    // is how a file says "not set".
    let mut settings = SchemaSettings::draft07();
    settings.transforms.push(Box::new(without_null));
    let mut schema = settings.into_generator().into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    schema.insert("description".into(), description.into());
    schema.to_value()
}

/// Removes the `null` that schemars adds to every `Option`: `"type": ["string", "null"]`
/// becomes `"string"`, `anyOf: [X, {"type": "null"}]` becomes X.
fn without_null(schema: &mut schemars::Schema) {
    if let Some(obj) = schema.as_object_mut() {
        if let Some(serde_json::Value::Array(types)) = obj.get_mut("type") {
            types.retain(|t| t != "null");
            if let [only] = types.as_slice() {
                let only = only.clone();
                obj.insert("type".into(), only);
            }
        }
        let null = serde_json::json!({ "type": "null" });
        if let Some(serde_json::Value::Array(any)) = obj.get("anyOf")
            && any.len() == 2
            && any.contains(&null)
            && let Some(serde_json::Value::Object(other)) =
                any.iter().find(|s| **s != null).cloned()
        {
            obj.remove("anyOf");
            for (k, v) in other {
                obj.entry(k).or_insert(v);
            }
        }
        if obj.get("default") == Some(&serde_json::Value::Null) {
            obj.remove("default");
        }
    }
    schemars::transform::transform_subschemas(&mut without_null, schema);
}

/// `text` (a file the store is about to write at `path`) with the `#:schema` directive on top,
/// and the schema it names written into the workspace's `.schemas/` if it is not there yet.
/// Files of no known kind (`secrets.toml`) are returned as they are.
pub fn with_directive<'a>(root: &Path, path: &Path, text: &'a [u8]) -> Cow<'a, [u8]> {
    let Some(kind) = FileKind::of(root, path) else {
        return Cow::Borrowed(text);
    };
    if text.starts_with(b"#:schema ") {
        return Cow::Borrowed(text);
    }
    ensure_schema_file(root, kind);
    let depth = path
        .strip_prefix(root)
        .map(|r| r.components().count().saturating_sub(1))
        .unwrap_or(0);
    let mut out = format!(
        "#:schema {}{SCHEMA_DIR}/{}\n",
        "../".repeat(depth),
        kind.file_name()
    )
    .into_bytes();
    out.extend_from_slice(text);
    Cow::Owned(out)
}

/// Writes the schemas of `kinds` into the workspace's `.schemas/` now (once per run, as
/// [`with_directive`] would at the first file of each kind). An import calls this on a
/// second thread while it parses, so generating and writing them (about 0.3 s after a
/// 50 MB parse, most of it the allocator) is not on the way of the request files.
pub fn prepare(root: &Path, kinds: &[FileKind]) {
    for kind in kinds {
        ensure_schema_file(root, *kind);
    }
}

/// Writes `.schemas/KIND.schema.json` once per run and workspace, when it differs. A failure
/// only costs the editor's help, never the save.
fn ensure_schema_file(root: &Path, kind: FileKind) {
    static DONE: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let file = root.join(SCHEMA_DIR).join(kind.file_name());
    let Ok(mut done) = DONE.lock() else {
        return;
    };
    let done = done.get_or_insert_with(HashSet::new);
    if done.contains(&file) {
        return;
    }
    let text = kind.schema_text();
    if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
        let _ = std::fs::create_dir_all(root.join(SCHEMA_DIR));
        let _ = super::atomic::write_atomic(&file, text.as_bytes(), false);
    }
    done.insert(file);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_place() {
        let root = Path::new("/ws");
        let of = |p: &str| FileKind::of(root, &root.join(p));
        assert_eq!(of("environments/dev.toml"), Some(FileKind::Environment));
        assert_eq!(
            of("collections/C/_collection.toml"),
            Some(FileKind::Collection)
        );
        assert_eq!(of("collections/C/F/G/R.toml"), Some(FileKind::Request));
        assert_eq!(of("collections/C/R.toml"), Some(FileKind::Request));
        assert_eq!(of("settings.toml"), Some(FileKind::Settings));
        assert_eq!(of("secrets.toml"), None);
        assert_eq!(of("environments/x.json"), None);
    }

    #[test]
    fn the_directive_points_at_the_workspace_copy_from_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let file = root.join("collections/C/F/R.toml");
        let out = with_directive(root, &file, b"name = \"R\"\n");
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "#:schema ../../../.schemas/request.schema.json\nname = \"R\"\n"
        );
        let schema = root.join(".schemas/request.schema.json");
        assert_eq!(
            std::fs::read_to_string(schema).unwrap(),
            FileKind::Request.schema_text()
        );
        let secrets = with_directive(root, &root.join("secrets.toml"), b"x");
        assert_eq!(&*secrets, b"x");
    }
}
