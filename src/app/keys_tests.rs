//! Remapped keys, driven through the whole app.

use super::{App, Overlay};
use crate::app::tests::seeded_app;
use crate::app::{Command, Msg, Pane};
use crate::tui::keys::file::KEYS_FILE;
use crate::worker::WorkerCommand;
use crate::workspace::NodePath;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;

fn press(app: &mut App, code: KeyCode, m: KeyModifiers) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(code, m)))
}

fn sends(cmds: &[Command]) -> bool {
    cmds.iter()
        .any(|c| matches!(c, Command::Worker(WorkerCommand::Send { .. })))
}

fn app_with_keys(dir: &Path, keys: &str) -> App {
    let mut app = seeded_app(dir);
    std::fs::write(dir.join(KEYS_FILE), keys).unwrap();
    app.init_keys(None);
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    app.open_request(&NodePath(vec![
        "Azure FHIR service".into(),
        "Capability statement".into(),
    ]));
    app
}

#[test]
fn a_remapped_key_triggers_the_action_and_the_old_one_no_longer_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_keys(dir.path(), "[global]\nsend = \"f9\"\n");
    assert!(app.overlay.is_none(), "no problems to report");
    let ctrl = KeyModifiers::CONTROL;
    assert!(!sends(&press(&mut app, KeyCode::Char('r'), ctrl)));
    assert!(!sends(&press(&mut app, KeyCode::F(5), KeyModifiers::NONE)));
    assert!(sends(&press(&mut app, KeyCode::F(9), KeyModifiers::NONE)));
}

#[test]
fn a_key_kept_in_the_list_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_keys(dir.path(), "[global]\nsend = [\"ctrl-r\", \"f9\"]\n");
    assert!(sends(&press(
        &mut app,
        KeyCode::Char('r'),
        KeyModifiers::CONTROL
    )));
}

#[test]
fn the_remapped_send_works_while_editing_the_url_but_letters_still_type() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_keys(
        dir.path(),
        "[global]\nsend = [\"f9\", \"x\"]\n[request]\nedit_url = \"U\"\n",
    );
    app.focus = Pane::Request;
    assert!(press(&mut app, KeyCode::Char('u'), KeyModifiers::NONE).is_empty());
    assert!(
        app.open_editor().is_some_and(|e| e.url.is_none()),
        "u no longer edits"
    );
    press(&mut app, KeyCode::Char('U'), KeyModifiers::SHIFT);
    assert!(
        app.open_editor().is_some_and(|e| e.url.is_some()),
        "U edits the URL"
    );
    assert!(!sends(&press(
        &mut app,
        KeyCode::Char('x'),
        KeyModifiers::NONE
    )));
    let url = app.open_editor().and_then(|e| e.url.as_ref()).unwrap();
    assert!(
        url.lines().join("").ends_with('x'),
        "x was typed into the URL"
    );
    assert!(!sends(&press(
        &mut app,
        KeyCode::Char('r'),
        KeyModifiers::CONTROL
    )));
    assert!(sends(&press(&mut app, KeyCode::F(9), KeyModifiers::NONE)));
}

#[test]
fn a_remapped_save_saves_from_the_url_editor() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_keys(dir.path(), "[global]\nsave = \"f2\"\n");
    app.focus = Pane::Request;
    press(&mut app, KeyCode::Char('u'), KeyModifiers::NONE);
    press(&mut app, KeyCode::Char('z'), KeyModifiers::NONE);
    press(&mut app, KeyCode::F(2), KeyModifiers::NONE);
    let ed = app.open_editor().unwrap();
    assert!(ed.url.is_none(), "the URL was committed");
    let file = dir
        .path()
        .join("collections/Azure FHIR service/Capability statement.toml");
    let saved = std::fs::read_to_string(file).unwrap();
    assert!(saved.contains("/metadataz"), "{saved}");
}

#[test]
fn conflicts_open_the_problems_dialog_and_the_app_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_keys(dir.path(), "[global]\nsend = \"ctrl-s\"\n");
    assert!(matches!(app.overlay, Some(Overlay::Problems { .. })));
    assert_eq!(app.keymap.conflicts().len(), 1);
    assert!(app.problems.is_empty(), "a conflict is not a broken file");
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(app.overlay.is_none());
    assert!(sends(&press(
        &mut app,
        KeyCode::Char('s'),
        KeyModifiers::CONTROL
    )));
}

#[test]
fn a_broken_file_is_listed_as_a_problem_and_the_defaults_stay() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_keys(dir.path(), "[global]\nsend = \"f9\"\nbogus = 1\n");
    assert!(matches!(app.overlay, Some(Overlay::Problems { .. })));
    assert_eq!(app.problems.len(), 1);
    assert_eq!(
        (app.problems[0].line, app.problems[0].column),
        (Some(3), Some(1))
    );
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(sends(&press(
        &mut app,
        KeyCode::Char('r'),
        KeyModifiers::CONTROL
    )));
}
