//! An `Esc` glued to the next key — a fast typist, or one SSH packet carrying both — arrives as
//! the bytes of `Alt`+key. While editing, the real binary must read it as `Esc` (leave the
//! editor) then the key (a pane key), not type the key into the text.

mod support;

use std::time::Duration;

use support::{Key, Pty, spawn_fhir_stub, stub_workspace};

const T: Duration = Duration::from_secs(10);

fn ok<T>(r: Result<T, String>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// Opens `Test/Metadata` of the stub workspace.
fn open_metadata(pty: &mut Pty) {
    pty.send("2");
    pty.send("g");
    pty.send("j");
    pty.enter();
    ok(pty.wait_for_text_within("Nothing sent yet", T));
}

/// The screen row holding the request's URL.
fn url_row(pty: &mut Pty) -> String {
    let text = pty.screen_text();
    text.lines()
        .find(|l| l.contains("/metadata"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn esc_glued_to_a_key_while_editing_the_url_leaves_the_editor_and_the_key_acts() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Test", T));
    open_metadata(&mut pty);
    pty.send("3");
    pty.send("u");
    pty.send("?x=1");
    ok(pty.wait_for_text_within("/metadata?x=1", T));
    // Esc and `J` in one write, as one packet delivers them: `J` opens the Jobs screen only
    // when the editor was left; typed into the URL it would read `?x=1J`.
    pty.send_bytes(b"\x1bJ");
    ok(pty.wait_for_text_within("No jobs yet", T));
    assert!(!pty.screen_text().contains("x=1J"), "{}", pty.screen_text());
    pty.esc();
    ok(pty.wait_for_text_gone("No jobs yet"));
    // The URL line is no longer being edited: it kept what was typed before the Esc (or the
    // Esc threw the edit away), and it never got the `J`.
    let row = url_row(&mut pty);
    assert!(!row.contains("x=1J"), "{row}");
    // And what is typed now is a pane key, not text: `Z` does not reach the URL.
    pty.send("Z");
    std::thread::sleep(Duration::from_millis(300));
    let row = url_row(&mut pty);
    assert!(!row.contains('Z'), "{row}");
    pty.send_key(Key::Ctrl('c'));
    assert!(pty.wait_exit(T).is_some());
}
