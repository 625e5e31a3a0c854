//! The Collections pane through keys: folders and requests created, renamed, moved and deleted,
//! on disk as in the tree.

use crate::tui::screens::dialogs::move_to::MoveTo;
use crate::tui::testing::{Rig, path};

/// A folder named with characters a directory name cannot hold keeps its real name: in the
/// tree now, in its `_folder.toml`, and after the workspace is read again.
#[test]
fn a_new_folder_keeps_its_real_name() {
    let dir = tempfile::tempdir().unwrap();
    let coll = dir.path().join("collections/Azure FHIR service");
    let mut rig = Rig::seeded(dir.path());
    rig.key("A");
    rig.typed("Admin/Users");
    rig.key("enter");
    let rows = rig.app.tree.rows(&rig.app.model.ws);
    assert!(rows.iter().any(|r| r.name == "Admin/Users"), "{rows:?}");
    let meta = std::fs::read_to_string(coll.join("Admin-Users/_folder.toml")).unwrap();
    assert!(meta.contains("Admin/Users"), "{meta}");
    let (_, ws, _) = crate::workspace::Store::load(dir.path());
    let f = ws
        .folder(&path(&["Azure FHIR service", "Admin-Users"]))
        .expect("the folder");
    assert_eq!(f.title(), "Admin/Users");
}

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

/// A Postman collection as another tool exports it, with `n` requests in one folder.
fn postman_collection(name: &str, n: usize) -> String {
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "name": format!("Request {i}"),
                "request": {"method": "GET", "url": format!("{{{{fhirurl}}}}/Patient/{i}")}
            })
        })
        .collect();
    serde_json::json!({
        "info": {
            "name": name,
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
        },
        "item": [{"name": "Patients", "item": items}]
    })
    .to_string()
}

#[test]
fn an_import_ends_in_its_report_and_the_collection_is_in_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.postman_collection.json");
    std::fs::write(&file, postman_collection("Imported API", 3)).unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.key("I");
    rig.typed(&format!("'{}'", file.display()));
    rig.key("enter");
    let report = rig
        .top::<crate::tui::screens::dialogs::reader::Reader>()
        .expect("the import report");
    assert_eq!(report.title, "Import report");
    assert!(rig.app.model.import.is_none());
    assert!(rig.app.model.ws.collection("Imported API").is_some());
    assert!(
        dir.path()
            .join("collections/Imported API/Patients/Request 2.toml")
            .is_file()
    );
    rig.key("esc");
    let screen = rig.draw(120, 35);
    assert!(screen.contains("Imported API"), "{screen}");
}

/// The real way: the import runs on the runtime's thread while keys still work, and its end
/// comes back as a message.
#[test]
fn an_import_runs_off_the_ui_thread_and_reports_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.postman_collection.json");
    std::fs::write(&file, postman_collection("Big", 1500)).unwrap();
    let mut rig = Rig::seeded(dir.path());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    rig.runtime.background = Some(tx);
    rig.key("I");
    rig.typed(&file.display().to_string());
    rig.key("enter");
    // Back at once, with the progress dialog open and the import running.
    assert!(rig.app.model.import.is_some());
    let screen = rig.draw(80, 24);
    assert!(
        screen.contains("Importing big.postman_collection.json"),
        "{screen}"
    );
    assert!(screen.contains("Esc stop the import"), "{screen}");
    // A second import is refused while this one runs.
    rig.msg(crate::tui::msg::Msg::Intent(
        crate::tui::screens::Intent::Collections(super::Msg::Import(file.clone())),
    ));
    assert!(rig.status().contains("running already"), "{}", rig.status());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let b = match rx.try_recv() {
            Ok(b) => b,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            }
            Err(e) => panic!("the import did not end: {e}"),
        };
        let done = matches!(b, crate::tui::msg::Background::ImportDone(_));
        rig.msg(crate::tui::msg::Msg::Background(b));
        if done {
            break;
        }
    }
    assert!(rig.app.model.import.is_none());
    let report = rig
        .top::<crate::tui::screens::dialogs::reader::Reader>()
        .expect("the import report");
    assert_eq!(report.title, "Import report");
    let big = rig.app.model.ws.collection("Big").expect("imported");
    assert_eq!(big.root.folders[0].requests.len(), 1500);
}

/// `Esc` in the progress dialog asks the import to stop, says so, and keeps the dialog until
/// the import has really ended (its report says what was kept).
#[test]
fn esc_stops_an_import_and_the_dialog_says_so() {
    use crate::tui::screens::dialogs::import_progress::ImportProgressDialog;
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    rig.app.model.import = Some(crate::tui::model::ImportRun {
        files: vec!["/tmp/x.json".into()],
        progress: Some(crate::import::into_workspace::Progress {
            file: 0,
            files: 1,
            written: 1200,
            total: 4000,
        }),
        cancel: cancel.clone(),
        started: std::time::Instant::now(),
    });
    rig.msg(crate::tui::msg::Msg::Intent(
        crate::tui::screens::Intent::Open(Box::new(ImportProgressDialog)),
    ));
    assert!(rig.draw(80, 24).contains("1,200 of 4,000 requests written"));
    rig.key("esc");
    assert!(cancel.load(std::sync::atomic::Ordering::Relaxed));
    assert!(rig.top::<ImportProgressDialog>().is_some());
    assert!(rig.draw(80, 24).contains("Stopping"));
}
