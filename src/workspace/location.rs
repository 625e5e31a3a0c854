//! Which folder is the workspace: `--workspace DIR`, else `./.fhirside` when present, else the
//! user's config folder (`$XDG_CONFIG_HOME/fhirside` or `~/.config/fhirside`).

use std::path::{Path, PathBuf};

pub fn resolve_workspace_dir(explicit: Option<&Path>, cwd: &Path) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    let local = cwd.join(".fhirside");
    if local.is_dir() {
        return local;
    }
    user_config_dir()
}

/// The user's own fhirside folder (`$XDG_CONFIG_HOME/fhirside` or `~/.config/fhirside`): the
/// default workspace, and where settings meant for every workspace (`keys.toml`) live.
pub fn user_config_dir() -> PathBuf {
    config_home().join("fhirside")
}

fn config_home() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x);
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(h) => PathBuf::from(h).join(".config"),
        None => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_then_local_folder() {
        let dir = tempfile::tempdir().unwrap();
        let explicit = dir.path().join("ws");
        assert_eq!(resolve_workspace_dir(Some(&explicit), dir.path()), explicit);
        std::fs::create_dir(dir.path().join(".fhirside")).unwrap();
        assert_eq!(
            resolve_workspace_dir(None, dir.path()),
            dir.path().join(".fhirside")
        );
    }
}
