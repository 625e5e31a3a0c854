//! The files' TOML shapes (environment, collection, folder, secrets) and turning them into the model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::workspace::model::{
    AuthConfig, Collection, DEFAULT_TIMEOUT_SECS, Environment, Folder, KeptScript, KeyValue,
    OAuth2Settings, RequestAuth, Variable,
};

/// On-disk shape of an environment file.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(in crate::workspace) struct EnvFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) auth: Option<AuthConfig>,
    /// Skip TLS certificate checks for this environment (see `Environment::insecure`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) insecure: bool,
    /// Other origins that may receive the FHIR token (see `Environment::trusted_origins`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) trusted_origins: Vec<String>,
    /// Hosts that get a storage token (see `Environment::storage_hosts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) storage_hosts: Option<Vec<String>>,
    /// Send `Prefer: handling=strict` with searches (see `Environment::strict`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) strict: bool,
    #[serde(default)]
    pub(super) variables: Vec<VarFile>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct VarFile {
    pub(super) key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) value: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub(super) enabled: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub(super) secret: bool,
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

/// On-disk shape of `_collection.toml`.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(in crate::workspace) struct CollectionFile {
    /// The collection's real name, when its directory name had to differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    variables: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    headers: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth: Option<RequestAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    oauth2: Option<OAuth2Settings>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scripts: Vec<KeptScript>,
}

impl CollectionFile {
    pub(in crate::workspace) fn of(c: &Collection) -> Self {
        CollectionFile {
            name: c.root.title.clone(),
            description: c.description.clone(),
            variables: c.variables.clone(),
            headers: c.headers.clone(),
            auth: c.auth.clone(),
            oauth2: c.oauth2.clone(),
            scripts: c.scripts.clone(),
        }
    }

    /// Whether the file would say anything (an empty one is not written).
    pub(in crate::workspace) fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_empty()
            && self.variables.is_empty()
            && self.headers.is_empty()
            && self.auth.is_none()
            && self.oauth2.is_none()
            && self.scripts.is_empty()
    }

    pub(super) fn into_collection(self, mut root: Folder) -> Collection {
        root.title = self.name.filter(|n| *n != root.name);
        Collection {
            root,
            variables: self.variables,
            description: self.description,
            auth: self.auth,
            scripts: self.scripts,
            headers: self.headers,
            oauth2: self.oauth2,
        }
    }
}

/// On-disk shape of a folder's `_folder.toml`: what a folder holds besides its children.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(in crate::workspace) struct FolderFile {
    /// The folder's real name, when its directory name had to differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    seq: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    variables: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    headers: Vec<KeyValue>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl FolderFile {
    pub(in crate::workspace) fn of(f: &Folder) -> Self {
        FolderFile {
            name: f.title.clone(),
            seq: f.seq,
            description: f.description.clone(),
            variables: f.variables.clone(),
            headers: f.headers.clone(),
        }
    }

    pub(in crate::workspace) fn is_empty(&self) -> bool {
        *self == FolderFile::default()
    }

    pub(super) fn apply(self, f: &mut Folder) {
        f.title = self.name.filter(|n| *n != f.name);
        f.seq = self.seq;
        f.description = self.description;
        f.variables = self.variables;
        f.headers = self.headers;
    }
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct SecretsFile {
    #[serde(default)]
    pub(super) environments: BTreeMap<String, BTreeMap<String, String>>,
}

/// An environment from its file, with secret values joined in from `secrets.toml`.
pub(super) fn env_from_file(
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
        strict: file.strict,
    }
}
