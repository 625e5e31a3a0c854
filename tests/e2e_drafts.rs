//! A dropped SSH connection loses nothing: unsaved edits survive SIGHUP (and SIGKILL, within a
//! moment) and are offered back at the next start.

mod support;

use std::time::Duration;

use support::{Pty, stub_workspace};

fn edit_the_url(pty: &mut Pty) {
    pty.wait_for_text("Collections").unwrap();
    pty.send("2");
    pty.send("j");
    pty.enter();
    pty.wait_for_text("{{fhirurl}}/metadata").unwrap();
    pty.send("3");
    pty.send("u");
    pty.send("?_summary=true");
    pty.enter();
    pty.wait_for_text("*").unwrap();
}

#[test]
fn unsaved_edits_survive_sighup_and_are_offered_back() {
    let ws = stub_workspace("http://127.0.0.1:9");
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    edit_the_url(&mut pty);
    pty.signal("HUP");
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    pty.assert_terminal_restored();
    // The request file is untouched; the draft is beside it.
    let file = std::fs::read_to_string(ws.path().join("collections/Test/Metadata.toml")).unwrap();
    assert!(!file.contains("_summary"), "{file}");
    assert!(ws.path().join(".drafts").is_dir());

    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    pty.wait_for_text("unsaved edits to Test/Metadata").unwrap();
    pty.send("y");
    pty.wait_for_text("restored").unwrap();
    pty.send("3");
    pty.wait_for_text("_summary=true").unwrap();
    // Saved now: the draft is gone and the file has the edit.
    pty.send("\x13"); // Ctrl-S
    pty.wait_for_text("Saved").unwrap();
    pty.send("q");
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    let file = std::fs::read_to_string(ws.path().join("collections/Test/Metadata.toml")).unwrap();
    assert!(file.contains("_summary"), "{file}");
    assert!(!ws.path().join(".drafts").exists());
}

#[test]
fn drafts_can_be_discarded_and_quitting_with_discard_leaves_none() {
    let ws = stub_workspace("http://127.0.0.1:9");
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    edit_the_url(&mut pty);
    pty.signal("TERM");
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    pty.wait_for_text("Restore them").unwrap();
    pty.send("n");
    pty.wait_for_text("Drafts discarded").unwrap();
    edit_the_url(&mut pty);
    pty.send("q");
    pty.wait_for_text("Quit and discard").unwrap();
    pty.send("y");
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    assert!(!ws.path().join(".drafts").exists());
}

/// A draft is deleted only after the user answers: SIGHUP, SIGTERM or Ctrl-C while the start-up
/// question is open keeps it for the next start.
#[test]
fn drafts_survive_a_signal_while_the_restore_question_is_open() {
    let ws = stub_workspace("http://127.0.0.1:9");
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    edit_the_url(&mut pty);
    pty.signal("HUP");
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    for signal in ["TERM", "HUP", "INT"] {
        let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
        pty.wait_for_text("Restore them").unwrap();
        pty.signal(signal);
        assert!(pty.wait_exit(Duration::from_secs(5)).is_some(), "{signal}");
        pty.assert_terminal_restored();
    }
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    pty.wait_for_text("Restore them").unwrap();
    pty.send("y");
    pty.wait_for_text("restored").unwrap();
    pty.send("3");
    pty.wait_for_text("_summary=true").unwrap();
}

/// `E` hands the terminal to `$EDITOR` and takes it back without asking the terminal anything
/// (under tmux or SSH an answer can be late or lost, and the old code exited then: this test's
/// terminal answers no queries, like such a tmux). The edit is kept, nothing is lost.
#[test]
fn the_body_is_edited_in_editor_and_the_workbench_comes_back() {
    let ws = stub_workspace("http://127.0.0.1:9");
    let script = ws.path().join("edit.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\n# A scripted editor: writes the body, as a person would in vi.\nprintf '{\"resourceType\": \"Parameters\"}' > \"$1\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let script = script.to_string_lossy().into_owned();
    let root = ws.path().to_string_lossy().into_owned();
    let mut pty = Pty::spawn_with_env(
        &["--workspace", &root],
        120,
        35,
        &[("EDITOR", script.as_str()), ("VISUAL", "")],
    );
    pty.wait_for_text("Collections").unwrap();
    pty.send("2");
    pty.send("j");
    pty.enter();
    pty.wait_for_text("{{fhirurl}}/metadata").unwrap();
    pty.send("3");
    // No body yet: E first asks which kind (only choosing a kind gives a request a body).
    pty.send("E");
    pty.wait_for_text("Body kind").unwrap();
    pty.enter(); // json
    pty.wait_for_text("Body (json)").unwrap();
    pty.send("E");
    pty.wait_for_text("Body updated from the editor").unwrap();
    pty.wait_for_text("Parameters").unwrap();
    pty.send("\x13"); // Ctrl-S
    pty.wait_for_text("Saved").unwrap();
    pty.send("q");
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    pty.assert_terminal_restored();
    let file = std::fs::read_to_string(ws.path().join("collections/Test/Metadata.toml")).unwrap();
    assert!(file.contains("Parameters"), "{file}");
}
