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
