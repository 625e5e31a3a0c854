//! Which workspace a command works on, and which environment it uses when none is named.
//!
//! A workspace named with `--workspace` must exist: a mistyped path is an error naming it,
//! never a new workspace (`fhirside init DIR` makes one). The default places (`./.fhirside`,
//! else the user's config folder) need nothing: the config folder is created on first use.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::demo::{DEMO_ENV, DemoArgs, prepare_workspace};
use super::exit::{CliError, Exit};
use super::out;
use crate::demo::DemoServer;
use crate::workspace::location::resolve_workspace_dir;
use crate::workspace::seed::seed_if_new;
use crate::workspace::{LoadProblem, Store, Workspace};

/// The TUI's session file, of which the command line reads only the active environment.
const SESSION_FILE: &str = ".session.toml";

/// What opening a workspace gives a command (or the TUI).
pub struct Opened {
    pub store: Store,
    pub ws: Workspace,
    pub problems: Vec<LoadProblem>,
    /// The environment the command line named (`--env`), or the demo's.
    pub active_env: Option<String>,
    pub server: Option<DemoServer>,
    /// The demo's temporary workspace, removed when this is dropped.
    pub temp_dir: Option<TempDir>,
}

/// How to open it.
pub struct OpenOptions<'a> {
    pub workspace: Option<&'a Path>,
    pub env: Option<&'a str>,
    pub demo: Option<&'a DemoArgs>,
    /// Give a new (empty) workspace the template environment and collection (the TUI does;
    /// read-only commands do not write).
    pub seed: bool,
}

/// Finds, checks and loads the workspace; with `demo`, starts the demo service and points the
/// workspace at it.
pub async fn open_workspace(o: OpenOptions<'_>) -> Result<Opened, CliError> {
    let temp_dir = match (o.demo, o.workspace) {
        (Some(_), None) => Some(
            tempfile::tempdir()
                .map_err(|e| CliError::Failed(format!("no temporary folder for the demo: {e}")))?,
        ),
        _ => None,
    };
    let dir = match (&temp_dir, o.workspace) {
        (Some(t), _) => t.path().to_path_buf(),
        (None, Some(given)) => {
            check_given_workspace(given)?;
            given.to_path_buf()
        }
        (None, None) => resolve_workspace_dir(None, &current_dir()),
    };
    let (mut store, mut ws, problems) = Store::load(&dir);
    let mut active_env = o.env.map(str::to_string);
    let mut server = None;
    if let Some(demo) = o.demo {
        let options = demo.options().map_err(CliError::Usage)?;
        let s = DemoServer::start(0, options)
            .await
            .map_err(|e| CliError::Failed(format!("the demo service did not start: {e}")))?;
        prepare_workspace(&mut store, &mut ws, &s).map_err(|e| CliError::Failed(e.to_string()))?;
        active_env = active_env.or_else(|| Some(DEMO_ENV.to_string()));
        server = Some(s);
    } else if o.seed && problems.is_empty() {
        seed_if_new(&mut store, &mut ws).map_err(|e| CliError::Failed(e.to_string()))?;
    }
    Ok(Opened {
        store,
        ws,
        problems,
        active_env,
        server,
        temp_dir,
    })
}

/// `--workspace DIR` names an existing folder, or it is a usage error that names it.
fn check_given_workspace(dir: &Path) -> Result<(), CliError> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(CliError::Usage(format!(
            "the workspace {} is a file, not a folder",
            dir.display()
        ))),
        Err(_) => Err(CliError::Usage(format!(
            "there is no workspace at {}: create one with `fhirside init {}`",
            dir.display(),
            dir.display()
        ))),
    }
}

fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// `fhirside init [DIR]`: a new workspace with the template environment and the walkthrough's
/// collection. A folder that already holds a workspace is left as it is.
pub fn init(dir: Option<&Path>, workspace: Option<&Path>) -> Result<Exit, CliError> {
    let dir = dir
        .or(workspace)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| current_dir().join(".fhirside"));
    if dir.exists() && !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is a file, not a folder",
            dir.display()
        )));
    }
    create_private_dir(&dir)
        .map_err(|e| CliError::Failed(format!("{} could not be created: {e}", dir.display())))?;
    let (mut store, mut ws, problems) = Store::load(&dir);
    if !problems.is_empty() {
        for p in &problems {
            out::warning(p);
        }
        return Err(CliError::Failed(format!(
            "{} already holds a workspace with problems; it is left as it is",
            dir.display()
        )));
    }
    let created = seed_if_new(&mut store, &mut ws).map_err(|e| CliError::Failed(e.to_string()))?;
    if created {
        out::note(format_args!(
            "fhirside: created a workspace in {} (environment 'azure', collection '{}')",
            dir.display(),
            crate::workspace::seed::SEED_COLLECTION
        ));
    } else {
        out::note(format_args!(
            "fhirside: {} already holds a workspace; nothing was changed",
            dir.display()
        ));
    }
    Ok(Exit::Ok)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Why an environment was chosen without `--env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvChoice {
    Named(String),
    Only(String),
    Active(String),
    None,
}

/// The environment a command uses: the one named, else the workspace's only one, else the one
/// active in the TUI's last session.
pub fn choose_environment(ws: &Workspace, root: &Path, named: Option<&str>) -> EnvChoice {
    if let Some(n) = named {
        return EnvChoice::Named(n.to_string());
    }
    if let [only] = ws.environments.as_slice() {
        return EnvChoice::Only(only.name.clone());
    }
    match session_active_env(root) {
        Some(a) if ws.environment(&a).is_some() => EnvChoice::Active(a),
        _ => EnvChoice::None,
    }
}

impl EnvChoice {
    /// The name, saying on stderr how it was chosen when it was not named.
    pub fn announce(self) -> Option<String> {
        match self {
            EnvChoice::Named(n) => Some(n),
            EnvChoice::Only(n) => {
                out::note(format_args!(
                    "fhirside: using environment '{}' (the workspace's only one)",
                    out::field(&n)
                ));
                Some(n)
            }
            EnvChoice::Active(n) => {
                out::note(format_args!(
                    "fhirside: using environment '{}' (active in the last session)",
                    out::field(&n)
                ));
                Some(n)
            }
            EnvChoice::None => None,
        }
    }
}

/// The `active_env` of `.session.toml`, if the file reads.
fn session_active_env(root: &Path) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Active {
        active_env: Option<String>,
    }
    let text = std::fs::read_to_string(root.join(SESSION_FILE)).ok()?;
    toml::from_str::<Active>(&text).ok()?.active_env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::Environment;

    #[test]
    fn the_only_or_the_active_environment() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::default();
        ws.environments.push(Environment::new("dev"));
        assert_eq!(
            choose_environment(&ws, dir.path(), None),
            EnvChoice::Only("dev".into())
        );
        ws.environments.push(Environment::new("prod"));
        assert_eq!(choose_environment(&ws, dir.path(), None), EnvChoice::None);
        std::fs::write(
            dir.path().join(SESSION_FILE),
            "active_env = \"prod\"\nfocus = \"tree\"\n",
        )
        .unwrap();
        assert_eq!(
            choose_environment(&ws, dir.path(), None),
            EnvChoice::Active("prod".into())
        );
        assert_eq!(
            choose_environment(&ws, dir.path(), Some("dev")),
            EnvChoice::Named("dev".into())
        );
        // An active environment that is gone is not used.
        std::fs::write(dir.path().join(SESSION_FILE), "active_env = \"old\"\n").unwrap();
        assert_eq!(choose_environment(&ws, dir.path(), None), EnvChoice::None);
    }

    #[tokio::test]
    async fn a_workspace_that_is_not_there_is_named_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let typo = dir.path().join("wrokspace");
        let err = open_workspace(OpenOptions {
            workspace: Some(&typo),
            env: None,
            demo: None,
            seed: true,
        })
        .await
        .err()
        .expect("an error");
        assert_eq!(err.exit(), Exit::Usage);
        assert!(err.to_string().contains("wrokspace"), "{err}");
        assert!(!typo.exists());
    }
}
