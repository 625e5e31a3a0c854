//! A file changed on disk by another program while fhirside has it open is never written over:
//! the save stops, a dialog says so, and the user chooses to reload it, keep their version, or
//! save theirs as a copy. Driven by keys through the real App, drawn in a test terminal.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fhirside::app::{App, Msg, Overlay};
use fhirside::tui::style::Theme;
use fhirside::workspace::{NodePath, Store};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ORIGINAL: &str = "name = \"Get\"\nurl = \"{{fhirurl}}/Patient\"\n";
const THEIRS: &str = "name = \"Get\"\nurl = \"{{fhirurl}}/Observation\"\n";

fn req_path() -> NodePath {
    NodePath(vec!["C".into(), "Get".into()])
}

fn setup(dir: &Path) -> (App, PathBuf) {
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
    let mut app = App::new(store, ws, problems, None);
    app.open_request(&req_path());
    (app, file)
}

fn key(app: &mut App, name: &str) {
    let ev = match name {
        "esc" => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        "ctrl-s" => KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL),
        "space" => KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE),
        s => KeyEvent::new(KeyCode::Char(s.chars().next().unwrap()), KeyModifiers::NONE),
    };
    app.update(Msg::Key(ev));
}

fn screen(app: &mut App) -> String {
    let mut term = Terminal::new(TestBackend::new(120, 34)).unwrap();
    let theme = Theme::dark();
    term.draw(|f| fhirside::ui::draw(f, app, &theme)).unwrap();
    let buf = term.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Edits the open request in fhirside, lets "another program" change its file, and saves.
fn edit_then_conflict(app: &mut App, file: &Path) {
    app.editors.get_mut(&req_path()).unwrap().draft.url = "{{fhirurl}}/Mine".into();
    // A different length and a later time: the change is visible whatever the clock's grain.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(file, THEIRS).unwrap();
    key(app, "ctrl-s");
    assert!(
        matches!(app.overlay, Some(Overlay::Conflict(_))),
        "the save asks instead of writing"
    );
    assert_eq!(std::fs::read_to_string(file).unwrap(), THEIRS);
    let s = screen(app);
    assert!(s.contains("Changed on disk"), "{s}");
    assert!(s.contains("was changed by another program"), "{s}");
    assert!(s.contains("r  reload it from disk"), "{s}");
    assert!(s.contains("k  keep mine"), "{s}");
    assert!(s.contains("c  save mine as a copy"), "{s}");
}

#[test]
fn reload_takes_the_version_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, file) = setup(dir.path());
    edit_then_conflict(&mut app, &file);
    key(&mut app, "r");
    assert!(app.overlay.is_none());
    let ed = &app.editors[&req_path()];
    assert_eq!(ed.draft.url, "{{fhirurl}}/Observation");
    assert!(!ed.dirty());
    assert_eq!(
        app.ws.request(&req_path()).unwrap().spec.url,
        "{{fhirurl}}/Observation"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), THEIRS);
    assert!(screen(&mut app).contains("Reloaded"));
    // Saving after a reload is no conflict.
    app.editors.get_mut(&req_path()).unwrap().draft.url = "{{fhirurl}}/Later".into();
    key(&mut app, "ctrl-s");
    assert!(app.overlay.is_none());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("{{fhirurl}}/Later")
    );
}

#[test]
fn keep_mine_writes_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, file) = setup(dir.path());
    edit_then_conflict(&mut app, &file);
    key(&mut app, "k");
    assert!(app.overlay.is_none());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("{{fhirurl}}/Mine")
    );
    assert!(!app.editors[&req_path()].dirty());
}

#[test]
fn save_as_copy_keeps_both() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, file) = setup(dir.path());
    edit_then_conflict(&mut app, &file);
    key(&mut app, "c");
    assert!(app.overlay.is_none());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), THEIRS);
    let copy = dir.path().join("collections/C/Get mine.toml");
    assert!(
        std::fs::read_to_string(&copy)
            .unwrap()
            .contains("{{fhirurl}}/Mine")
    );
    let copy_path = NodePath(vec!["C".into(), "Get mine".into()]);
    assert_eq!(app.open.as_ref(), Some(&copy_path));
    assert_eq!(
        app.editors[&req_path()].draft.url,
        "{{fhirurl}}/Observation"
    );
    assert!(screen(&mut app).contains("Your version is saved as 'Get mine'"));
    // Both are in the workspace after a restart.
    let (_, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert!(ws.request(&req_path()).is_some() && ws.request(&copy_path).is_some());
}

#[test]
fn esc_writes_nothing_and_keeps_the_edits() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, file) = setup(dir.path());
    edit_then_conflict(&mut app, &file);
    key(&mut app, "x");
    assert!(
        matches!(app.overlay, Some(Overlay::Conflict(_))),
        "other keys do nothing"
    );
    key(&mut app, "esc");
    assert!(app.overlay.is_none());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), THEIRS);
    assert_eq!(app.editors[&req_path()].draft.url, "{{fhirurl}}/Mine");
    // Asked again on the next save.
    key(&mut app, "ctrl-s");
    assert!(matches!(app.overlay, Some(Overlay::Conflict(_))));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), THEIRS);
}

#[test]
fn an_environment_changed_on_disk_is_not_clobbered() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, _) = setup(dir.path());
    let env_file = dir.path().join("environments/dev.toml");
    let theirs = "[[variables]]\nkey = \"fhirurl\"\nvalue = \"http://127.0.0.1:10\"\n\n[[variables]]\nkey = \"added\"\nvalue = \"elsewhere\"\n";
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&env_file, theirs).unwrap();
    // Environments pane, open the variables, disable the first one: that edit saves at once.
    key(&mut app, "1");
    key(&mut app, "e");
    key(&mut app, "space");
    assert!(
        matches!(app.overlay, Some(Overlay::Conflict(_))),
        "{}",
        screen(&mut app)
    );
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), theirs);
    key(&mut app, "c");
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), theirs);
    let env = app.ws.environment("dev").unwrap();
    assert_eq!(env.variables.len(), 2, "reloaded from disk");
    assert_eq!(env.variables[0].value, "http://127.0.0.1:10");
    let mine = std::fs::read_to_string(dir.path().join("environments/dev-mine.toml")).unwrap();
    assert!(mine.contains("enabled = false"), "{mine}");
    assert!(app.ws.environment("dev-mine").is_some());
}
