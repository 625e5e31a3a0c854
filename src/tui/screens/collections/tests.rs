//! The Collections pane through keys: folders and requests created, renamed, moved and deleted,
//! on disk as in the tree.

use crate::tui::screens::dialogs::move_to::MoveTo;
use crate::tui::testing::{Rig, path};

#[test]
fn new_folder_request_rename_move_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let coll = dir.path().join("collections/Azure FHIR service");
    let mut rig = Rig::seeded(dir.path());
    // New folder under the collection (row 0).
    rig.key("A");
    rig.typed("Patients");
    rig.key("enter");
    assert!(coll.join("Patients").is_dir());
    // New request inside it: selection is on the new folder.
    rig.key("a");
    rig.typed("Find Smith");
    rig.key("enter");
    let req = path(&["Azure FHIR service", "Patients", "Find Smith"]);
    assert_eq!(rig.app.model.open, Some(req));
    assert!(coll.join("Patients/Find Smith.toml").is_file());
    rig.key("esc"); // leave the URL field
    // Rename it from the tree.
    rig.keys(&["2", "r"]);
    for _ in 0.."Find Smith".len() {
        rig.key("backspace");
    }
    rig.typed("Smiths");
    rig.key("enter");
    let renamed = path(&["Azure FHIR service", "Patients", "Smiths"]);
    assert_eq!(rig.app.model.open, Some(renamed));
    assert!(coll.join("Patients/Smiths.toml").is_file());
    // Move it to the collection root.
    rig.key("m");
    let picker = rig.top::<MoveTo>().expect("no move picker");
    assert_eq!(picker.targets[0], path(&["Azure FHIR service"]));
    rig.key("enter");
    assert!(coll.join("Smiths.toml").is_file());
    assert_eq!(
        rig.app.model.open,
        Some(path(&["Azure FHIR service", "Smiths"]))
    );
    // Delete asks, then removes the file.
    rig.keys(&["d", "y"]);
    assert!(!coll.join("Smiths.toml").exists());
    assert_eq!(rig.app.model.open, None);
}

#[test]
fn enter_on_a_request_opens_it_and_the_tree_keeps_the_focus() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.keys(&["j", "j", "enter"]);
    assert_eq!(
        rig.app.model.open,
        Some(path(&["Azure FHIR service", "Capability statement"]))
    );
    assert_eq!(rig.app.focus, crate::tui::screens::Pane::Collections);
    // One pane at a time: the tree stays on screen, marking the open request.
    let screen = rig.draw(80, 24);
    assert!(screen.contains("Capability statement ◂"), "{screen}");
}
