//! `fhirside import` and `fhirside export`: files from and for other tools, written into the
//! workspace without overwriting anything already there.

use std::path::Path;

use crate::import::{import_file, postman_export::export_collection};
use crate::workspace::{Environment, NodePath, Store, Workspace};

/// `base`, or `base (2)`, `base (3)`… : the first name `taken` says is free.
fn unused_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while taken(&name) {
        name = format!("{base} ({n})");
        n += 1;
    }
    name
}

/// Writes an imported environment under a name not yet used.
fn add_environment(
    store: &mut Store,
    ws: &mut Workspace,
    mut env: Environment,
) -> Result<String, String> {
    env.name = unused_name(&env.name, |n| {
        ws.environment(n).is_some() || store.env_path(n).exists()
    });
    store.create_environment(&env).map_err(|e| e.to_string())?;
    let name = env.name.clone();
    ws.environments.push(env);
    Ok(name)
}

/// Imports each file; returns the report to print.
pub fn import_files(
    store: &mut Store,
    ws: &mut Workspace,
    files: &[std::path::PathBuf],
) -> Result<String, String> {
    let mut out = String::new();
    for file in files {
        let imported = import_file(file).map_err(|e| e.to_string())?;
        let mut collection_name = String::new();
        for mut c in imported.collections {
            let dir_of = |store: &Store, n: &str| store.node_dir(&NodePath(vec![n.to_string()]));
            let name = unused_name(&c.root.name, |n| {
                ws.collection(n).is_some() || dir_of(store, n).exists()
            });
            c.root.name = name.clone();
            store.save_collection(&c).map_err(|e| e.to_string())?;
            out.push_str(&format!(
                "collection '{name}' written to {}\n",
                dir_of(store, &name).display()
            ));
            collection_name = name;
            ws.collections.push(c);
        }
        for env in imported.environments {
            let name = add_environment(store, ws, env)?;
            out.push_str(&format!(
                "environment '{name}' written to {}\n",
                store.env_path(&name).display()
            ));
        }
        // Sign-in settings the collection carried become an environment that does the same.
        if let Some(env) =
            crate::import::sign_in::sign_in_environment(&collection_name, &imported.report)
        {
            let name = add_environment(store, ws, env)?;
            out.push_str(&format!(
                "environment '{name}' written with the collection's sign-in settings (add fhirurl and the other variables it uses; S on it in fhirside edits them)\n"
            ));
        }
        out.push_str(&format!("{}\n", imported.report));
    }
    Ok(out)
}

/// Writes a collection as Postman v2.1 JSON.
pub fn export_postman(ws: &Workspace, collection: &str, out: &Path) -> Result<(), String> {
    let c = ws
        .collections
        .iter()
        .find(|c| c.root.name.eq_ignore_ascii_case(collection))
        .ok_or_else(|| format!("no collection '{collection}'"))?;
    let json = serde_json::to_string_pretty(&export_collection(c)).map_err(|e| e.to_string())?;
    crate::workspace::atomic::write_atomic(out, json.as_bytes(), false)
        .map_err(|e| format!("{}: {e}", out.display()))
}
