//! A panic gives the terminal back: raw mode, the alternate screen, mouse reporting and
//! bracketed paste are all undone before the message is printed.

mod support;

use std::time::Duration;

use support::{Pty, stub_workspace};

#[test]
fn a_panic_restores_the_terminal_and_prints_its_message() {
    let ws = stub_workspace("http://127.0.0.1:9");
    let dir = ws.path().to_str().unwrap();
    let mut pty = Pty::spawn_with_env(
        &["--workspace", dir],
        120,
        35,
        &[("FHIRSIDE_TEST_PANIC_ON_KEY", "1"), ("RUST_BACKTRACE", "0")],
    );
    pty.wait_for_text("Collections").unwrap();
    // Everything that must be undone is in effect before the panic.
    assert!(pty.screen().alternate_screen());
    assert_eq!(pty.cooked_mode(), Some(false), "raw mode while running");
    assert!(pty.screen().bracketed_paste());
    pty.send("j");
    let status = pty
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running:\n{}", pty.screen_text()));
    assert!(!status.success(), "a panic exits with failure: {status}");
    pty.assert_terminal_restored();
    // The message is readable on the normal screen, not lost on the alternate one.
    pty.wait_for_text("panicking on the first key").unwrap();
}
