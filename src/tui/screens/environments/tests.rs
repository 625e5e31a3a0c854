//! The Environments pane through keys: a variable edited in the variables table is saved at
//! once, a secret's value to `secrets.toml` apart from the environment's file.

use crate::tui::screens::dialogs::env_editor::EnvEditor;
use crate::tui::testing::Rig;

#[test]
fn environment_variable_edits_are_saved_with_secrets_apart() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.keys(&["1", "e"]);
    // Row 4 is clientsecret.
    rig.keys(&["j", "j", "j", "j", "enter"]);
    rig.typed("s3cret-value");
    rig.key("enter");
    assert_eq!(rig.top::<EnvEditor>().map(|e| e.row), Some(4));
    let env_file = std::fs::read_to_string(dir.path().join("environments/azure.toml")).unwrap();
    assert!(!env_file.contains("s3cret-value"));
    let secrets = std::fs::read_to_string(dir.path().join("secrets.toml")).unwrap();
    assert!(secrets.contains("s3cret-value"));
}
