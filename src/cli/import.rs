//! `fhirside import` and `fhirside export`: files from and for other tools, written into the
//! workspace without overwriting anything already there.

use std::path::Path;

use crate::import::{import_file, postman_export::export_collection};
use crate::workspace::{Store, Workspace};

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
            let base = c.root.name.clone();
            let mut name = base.clone();
            let mut n = 2;
            while ws.collection(&name).is_some()
                || store
                    .node_dir(&crate::workspace::NodePath(vec![name.clone()]))
                    .exists()
            {
                name = format!("{base} ({n})");
                n += 1;
            }
            c.root.name = name.clone();
            collection_name = name.clone();
            store.save_collection(&c).map_err(|e| e.to_string())?;
            out.push_str(&format!(
                "collection '{name}' written to {}\n",
                store
                    .node_dir(&crate::workspace::NodePath(vec![name.clone()]))
                    .display()
            ));
            ws.collections.push(c);
        }
        for mut env in imported.environments {
            let base = env.name.clone();
            let mut n = 2;
            while ws.environment(&env.name).is_some() || store.env_path(&env.name).exists() {
                env.name = format!("{base} ({n})");
                n += 1;
            }
            store.create_environment(&env).map_err(|e| e.to_string())?;
            out.push_str(&format!(
                "environment '{}' written to {}\n",
                env.name,
                store.env_path(&env.name).display()
            ));
            ws.environments.push(env);
        }
        // Sign-in settings the collection carried become an environment that does the same.
        if let Some(mut env) =
            crate::import::sign_in::sign_in_environment(&collection_name, &imported.report)
        {
            let base = env.name.clone();
            let mut n = 2;
            while ws.environment(&env.name).is_some() || store.env_path(&env.name).exists() {
                env.name = format!("{base} ({n})");
                n += 1;
            }
            store.create_environment(&env).map_err(|e| e.to_string())?;
            out.push_str(&format!(
                "environment '{}' written with the collection's sign-in settings (add fhirurl and the other variables it uses; S on it in fhirside edits them)\n",
                env.name
            ));
            ws.environments.push(env);
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
