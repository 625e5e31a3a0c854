//! End-to-end tests of `keys.toml`: the real binary reads the workspace's and the user-level
//! file, reports conflicts and mistakes on screen at start, and dispatches the remapped keys.

mod support;

use std::time::{Duration, Instant};

use support::{Key, Pty, spawn_fhir_stub, stub_workspace};

const T: Duration = Duration::from_secs(5);

fn ok<T>(r: Result<T, String>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// Opens the first request of the stub workspace (`Test/Metadata`).
fn open_metadata(pty: &mut Pty) {
    pty.send("2");
    pty.send("g");
    pty.send("j");
    pty.enter();
    ok(pty.wait_for_text_within("Nothing sent yet", T));
}

/// Keeps reading the screen for `d`, so a late answer would have time to arrive.
fn settle(pty: &mut Pty, d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        pty.pump();
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn workspace_keys_remap_send_and_a_conflict_is_shown_at_start() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    std::fs::write(
        ws.path().join("keys.toml"),
        "[global]\nsend = \"f9\"\njobs = \"ctrl-s\"\n",
    )
    .unwrap();
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Key binding conflicts", T));
    // The report wraps its lines where the dialog's width says: read it as running text.
    ok(pty.wait_for_within(T, "'jobs wins' in the report", |s| {
        let text: Vec<String> = s
            .contents()
            .lines()
            .map(|l| l.trim_matches(|c: char| c == '│' || c == ' ').to_string())
            .collect();
        text.join(" ").contains("jobs wins")
    }));
    ok(pty.wait_for_text_within("save has no key left there", T));
    pty.esc();
    ok(pty.wait_for_text_gone("Key binding conflicts"));
    // The status bar hints the remapped key.
    ok(pty.wait_for_text_within("F9 send", T));

    open_metadata(&mut pty);
    pty.ctrl_r();
    settle(&mut pty, Duration::from_millis(600));
    assert!(
        !stub.hits().iter().any(|h| h == "/metadata"),
        "ctrl-r is no longer send"
    );
    pty.send_bytes(b"\x1b[20~"); // F9 as xterm sends it
    ok(pty.wait_for_text_within("200 OK", T));
    assert!(stub.hits().iter().any(|h| h == "/metadata"));
    pty.send_key(Key::Ctrl('c'));
    assert!(pty.wait_exit(T).is_some());
}

#[test]
fn a_broken_user_level_file_is_reported_with_its_position_and_defaults_stay() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let config = tempfile::tempdir().unwrap();
    std::fs::create_dir(config.path().join("fhirside")).unwrap();
    let keys = config.path().join("fhirside").join("keys.toml");
    let text = "[global]\nsend = \"ctrl+r\"\n";
    std::fs::write(&keys, text).unwrap();
    let xdg = config.path().to_string_lossy().to_string();
    let dir = ws.path().to_string_lossy().to_string();
    let mut pty = Pty::spawn_with_env(
        &["--workspace", &dir],
        140,
        35,
        &[("XDG_CONFIG_HOME", &xdg)],
    );
    ok(pty.wait_for_text_within("Workspace problems", T));
    ok(pty.wait_for_text_within("keys.toml:2:8: [global] send: 'ctrl+r' is not a key", T));
    pty.esc();
    ok(pty.wait_for_text_gone("Workspace problems"));
    open_metadata(&mut pty);
    pty.ctrl_r();
    ok(pty.wait_for_text_within("200 OK", T));
    pty.send_key(Key::Ctrl('c'));
    assert!(pty.wait_exit(T).is_some());
    assert_eq!(
        std::fs::read_to_string(&keys).unwrap(),
        text,
        "left as it was"
    );
}
