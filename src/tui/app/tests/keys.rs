//! Remapped keys (`keys.toml`), driven through the whole app: the new key works, the old one no
//! longer does, help and the status bar show the new one, and problems are reported.

use crate::tui::keys::file::KEYS_FILE;
use crate::tui::screens::Pane;
use crate::tui::screens::dialogs::reader::Reader;
use crate::tui::testing::{Rig, path};
use crate::worker::WorkerCommand;

fn sends(cmds: &[WorkerCommand]) -> bool {
    cmds.iter().any(|c| matches!(c, WorkerCommand::Send { .. }))
}

/// A seeded workspace with `keys` as its `keys.toml`.
fn rig_with_keys(dir: &std::path::Path, keys: &str) -> Rig {
    let mut rig = Rig::seeded(dir);
    std::fs::write(dir.join(KEYS_FILE), keys).unwrap();
    rig.app.init_keys(None);
    rig
}

/// The same, with "Capability statement" open and a FHIR base set.
fn open_with_keys(dir: &std::path::Path, keys: &str) -> Rig {
    let mut rig = rig_with_keys(dir, keys);
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.open(&path(&["Azure FHIR service", "Capability statement"]));
    rig
}

fn problems_open(rig: &Rig) -> bool {
    rig.app.dialogs.iter().any(|d| {
        d.as_any()
            .downcast_ref::<Reader>()
            .is_some_and(|r| r.title == "Workspace problems" || r.title == "Key binding conflicts")
    })
}

#[test]
fn a_remapped_key_triggers_the_action_and_the_old_one_no_longer_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = open_with_keys(dir.path(), "[global]\nsend = \"f9\"\n");
    assert!(!rig.dialog_open(), "no problems to report");
    assert!(!sends(&rig.key("ctrl-r")));
    assert!(!sends(&rig.key("f5")));
    assert!(sends(&rig.key("f9")));
}

#[test]
fn a_key_kept_in_the_list_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = open_with_keys(dir.path(), "[global]\nsend = [\"ctrl-r\", \"f9\"]\n");
    assert!(sends(&rig.key("ctrl-r")));
}

#[test]
fn the_remapped_send_works_while_editing_the_url_but_letters_still_type() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = open_with_keys(
        dir.path(),
        "[global]\nsend = [\"f9\", \"x\"]\n[request]\nedit_url = \"U\"\n",
    );
    // x is also the Response pane's copy_request_id: the conflict is reported first.
    assert!(problems_open(&rig));
    rig.key("esc");
    rig.app.focus = Pane::Request;
    assert!(rig.key("u").is_empty());
    assert!(
        rig.editor().is_some_and(|e| e.url.is_none()),
        "u no longer edits"
    );
    rig.key("U");
    assert!(
        rig.editor().is_some_and(|e| e.url.is_some()),
        "U edits the URL"
    );
    assert!(!sends(&rig.key("x")));
    let url = rig.editor().and_then(|e| e.url.as_ref()).unwrap().text();
    assert!(url.ends_with('x'), "x was typed into the URL: {url}");
    assert!(!sends(&rig.key("ctrl-r")));
    assert!(sends(&rig.key("f9")));
}

#[test]
fn a_remapped_save_saves_from_the_url_editor() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = open_with_keys(dir.path(), "[global]\nsave = \"f2\"\n");
    rig.app.focus = Pane::Request;
    rig.keys(&["u", "z", "f2"]);
    assert!(rig.editor().unwrap().url.is_none(), "the URL was committed");
    let file = dir
        .path()
        .join("collections/Azure FHIR service/Capability statement.toml");
    let saved = std::fs::read_to_string(file).unwrap();
    assert!(saved.contains("/metadataz"), "{saved}");
}

#[test]
fn conflicts_open_the_problems_dialog_and_the_app_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = open_with_keys(dir.path(), "[global]\nsend = \"ctrl-s\"\n");
    assert!(problems_open(&rig));
    assert_eq!(rig.app.model.keymap.conflicts().len(), 1);
    assert!(
        rig.app.model.problems.is_empty(),
        "a conflict is not a broken file"
    );
    rig.key("esc");
    assert!(!rig.dialog_open());
    assert!(sends(&rig.key("ctrl-s")));
}

#[test]
fn a_broken_file_is_listed_as_a_problem_and_the_defaults_stay() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = open_with_keys(dir.path(), "[global]\nsend = \"f9\"\nbogus = 1\n");
    assert!(problems_open(&rig));
    let problems = &rig.app.model.problems;
    assert_eq!(problems.len(), 1);
    assert_eq!((problems[0].line, problems[0].column), (Some(3), Some(1)));
    rig.key("esc");
    assert!(sends(&rig.key("ctrl-r")));
}

#[test]
fn help_and_status_bar_show_the_remapped_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_keys(dir.path(), "[global]\nsend = \"f9\"\nquit = []\n");
    let screen = rig.draw(120, 35);
    assert!(screen.contains("F9 send"), "{screen}");
    assert!(!screen.contains("Ctrl-R send"), "{screen}");
    assert!(!screen.contains("q quit"), "{screen}");
    rig.key("?");
    let screen = rig.draw(120, 35);
    assert!(
        screen.contains("f9                  send the open request"),
        "{screen}"
    );
    assert!(screen.contains("(no key)            quit"), "{screen}");
    assert!(!screen.contains("ctrl-r, f5"), "{screen}");
}

#[test]
fn key_conflicts_are_listed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let keys =
        "[global]\nsend = [\"f9\", \"ctrl-s\"]\n\n[request]\nedit = [\"enter\", \"ctrl-p\"]\n";
    let mut rig = rig_with_keys(dir.path(), keys);
    assert_eq!(rig.app.model.keymap.conflicts().len(), 2);
    assert!(rig.draw(120, 35).contains("Key binding conflicts"));
    // The same file named without the temporary folder, so the snapshot's line breaks hold
    // wherever the test runs.
    let overrides =
        crate::tui::keys::file::parse_keys(std::path::Path::new("keys.toml"), 1, keys).unwrap();
    rig.app.model.keymap = crate::tui::keys::keymap::Keymap::build(&overrides);
    rig.app.dialogs.clear();
    rig.app.report_problems();
    insta::assert_snapshot!(rig.draw(120, 35));
}

#[test]
fn the_request_pane_names_the_keys_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let keys =
        "[collections]\nactivate = \"o\"\n\n[request]\nnew = \"+\"\nexternal_edit = \"ctrl-e\"\n";
    let mut rig = rig_with_keys(dir.path(), keys);
    let screen = rig.draw(120, 35);
    assert!(screen.contains("Pick one in Collections (o)"), "{screen}");
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.open(&path(&["Azure FHIR service", "Capability statement"]));
    let screen = rig.draw(120, 35);
    assert!(
        screen.contains("No query parameters. + adds one"),
        "{screen}"
    );
    rig.app.focus = Pane::Request;
    rig.key("ctrl-e");
    assert_eq!(
        rig.status(),
        "Choose the body kind first; Ctrl-E then opens $EDITOR."
    );
}

#[test]
fn the_sign_in_settings_lists_and_fields_take_the_picker_and_prompt_keys() {
    use crate::tui::screens::dialogs::sign_in_settings::SignInSettings;
    let dir = tempfile::tempdir().unwrap();
    let keys = "[picker]\nactivate = \"ctrl-o\"\n\n[prompt]\nfinish = \"ctrl-o\"\n";
    let mut rig = rig_with_keys(dir.path(), keys);
    rig.app.focus = Pane::Environments;
    rig.key("S");
    let before = rig
        .top::<SignInSettings>()
        .expect("the settings")
        .draft
        .kind;
    rig.key("enter");
    let screen = rig.draw(120, 35);
    assert!(screen.contains("Ctrl-O choose"), "{screen}");
    rig.key("j");
    rig.key("enter");
    assert_eq!(
        rig.top::<SignInSettings>().unwrap().draft.kind,
        before,
        "Enter no longer chooses"
    );
    rig.key("ctrl-o");
    assert_ne!(rig.top::<SignInSettings>().unwrap().draft.kind, before);
}
