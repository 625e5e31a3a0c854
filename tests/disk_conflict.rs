//! A file changed on disk by another program while fhirside has it open is never written over:
//! the save stops, a dialog says so, and the user chooses to reload it, keep their version, or
//! save theirs as a copy. Driven by keys through the real App, drawn in a test terminal.

use std::path::{Path, PathBuf};

use fhirside::tui::screens::dialogs::conflict::Conflict;
use fhirside::tui::testing::Rig;
use fhirside::workspace::{NodePath, Store};

const ORIGINAL: &str = "name = \"Get\"\nurl = \"{{fhirurl}}/Patient\"\n";
const THEIRS: &str = "name = \"Get\"\nurl = \"{{fhirurl}}/Observation\"\n";

fn req_path() -> NodePath {
    NodePath(vec!["C".into(), "Get".into()])
}

fn setup(dir: &Path) -> (Rig, PathBuf) {
    std::fs::create_dir_all(dir.join("environments")).unwrap();
    std::fs::create_dir_all(dir.join("collections/C")).unwrap();
    std::fs::write(
        dir.join("environments/dev.toml"),
        "[[variables]]\nkey = \"fhirurl\"\nvalue = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let file = dir.join("collections/C/Get.toml");
    std::fs::write(&file, ORIGINAL).unwrap();
    let (store, ws, problems) = Store::load(dir);
    assert!(problems.is_empty(), "{problems:?}");
    let mut rig = Rig::new(store, ws, problems, None);
    rig.open(&req_path());
    (rig, file)
}

fn screen(rig: &mut Rig) -> String {
    rig.draw(120, 34)
}

fn conflict_open(rig: &Rig) -> bool {
    rig.top::<Conflict>().is_some()
}

fn url(rig: &Rig) -> String {
    rig.app.request.editors[&req_path()].draft.url.clone()
}

fn set_url(rig: &mut Rig, url: &str) {
    rig.app
        .request
        .editors
        .get_mut(&req_path())
        .unwrap()
        .draft
        .url = url.into();
}

/// Edits the open request in fhirside, lets "another program" change its file, and saves.
fn edit_then_conflict(rig: &mut Rig, file: &Path) {
    set_url(rig, "{{fhirurl}}/Mine");
    // A different length and a later time: the change is visible whatever the clock's grain.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(file, THEIRS).unwrap();
    rig.key("ctrl-s");
    assert!(conflict_open(rig), "the save asks instead of writing");
    assert_eq!(std::fs::read_to_string(file).unwrap(), THEIRS);
    let s = screen(rig);
    assert!(s.contains("Changed on disk"), "{s}");
    assert!(s.contains("was changed by another program"), "{s}");
    assert!(s.contains("r  reload it from disk"), "{s}");
    assert!(s.contains("k  keep mine"), "{s}");
    assert!(s.contains("c  save mine as a copy"), "{s}");
}

#[test]
fn reload_takes_the_version_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rig, file) = setup(dir.path());
    edit_then_conflict(&mut rig, &file);
    rig.key("r");
    assert!(!rig.dialog_open());
    let ed = &rig.app.request.editors[&req_path()];
    assert_eq!(ed.draft.url, "{{fhirurl}}/Observation");
    assert!(!ed.dirty());
    assert_eq!(
        rig.app.model.ws.request(&req_path()).unwrap().spec.url,
        "{{fhirurl}}/Observation"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), THEIRS);
    assert!(screen(&mut rig).contains("Reloaded"));
    // Saving after a reload is no conflict.
    set_url(&mut rig, "{{fhirurl}}/Later");
    rig.key("ctrl-s");
    assert!(!rig.dialog_open());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("{{fhirurl}}/Later")
    );
}

#[test]
fn keep_mine_writes_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rig, file) = setup(dir.path());
    edit_then_conflict(&mut rig, &file);
    rig.key("k");
    assert!(!rig.dialog_open());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("{{fhirurl}}/Mine")
    );
    assert!(!rig.app.request.editors[&req_path()].dirty());
}

#[test]
fn save_as_copy_keeps_both() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rig, file) = setup(dir.path());
    edit_then_conflict(&mut rig, &file);
    rig.key("c");
    assert!(!rig.dialog_open());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), THEIRS);
    let copy = dir.path().join("collections/C/Get mine.toml");
    assert!(
        std::fs::read_to_string(&copy)
            .unwrap()
            .contains("{{fhirurl}}/Mine")
    );
    let copy_path = NodePath(vec!["C".into(), "Get mine".into()]);
    assert_eq!(rig.app.model.open.as_ref(), Some(&copy_path));
    assert_eq!(url(&rig), "{{fhirurl}}/Observation");
    assert!(screen(&mut rig).contains("Your version is saved as 'Get mine'"));
    // Both are in the workspace after a restart.
    let (_, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert!(ws.request(&req_path()).is_some() && ws.request(&copy_path).is_some());
}

#[test]
fn esc_writes_nothing_and_keeps_the_edits() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rig, file) = setup(dir.path());
    edit_then_conflict(&mut rig, &file);
    rig.key("x");
    assert!(conflict_open(&rig), "other keys do nothing");
    rig.key("esc");
    assert!(!rig.dialog_open());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), THEIRS);
    assert_eq!(url(&rig), "{{fhirurl}}/Mine");
    // Asked again on the next save.
    rig.key("ctrl-s");
    assert!(conflict_open(&rig));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), THEIRS);
}

#[test]
fn an_environment_changed_on_disk_is_not_clobbered() {
    let dir = tempfile::tempdir().unwrap();
    let (mut rig, _) = setup(dir.path());
    let env_file = dir.path().join("environments/dev.toml");
    let theirs = "[[variables]]\nkey = \"fhirurl\"\nvalue = \"http://127.0.0.1:10\"\n\n[[variables]]\nkey = \"added\"\nvalue = \"elsewhere\"\n";
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&env_file, theirs).unwrap();
    // Environments pane, open the variables, disable the first one: that edit saves at once.
    rig.key("1");
    rig.key("e");
    rig.key("space");
    assert!(conflict_open(&rig), "{}", screen(&mut rig));
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), theirs);
    rig.key("c");
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), theirs);
    let env = rig.app.model.ws.environment("dev").unwrap();
    assert_eq!(env.variables.len(), 2, "reloaded from disk");
    assert_eq!(env.variables[0].value, "http://127.0.0.1:10");
    let mine = std::fs::read_to_string(dir.path().join("environments/dev-mine.toml")).unwrap();
    assert!(mine.contains("enabled = false"), "{mine}");
    assert!(rig.app.model.ws.environment("dev-mine").is_some());
}
