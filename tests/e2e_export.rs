//! A bulk export end to end in a pseudo-terminal against the built-in demo: kick off from the
//! form, watch it finish, download and check the files.

mod support;

use std::time::Duration;

use support::Pty;

#[test]
fn kick_off_watch_and_download() {
    let mut pty = Pty::spawn(
        // The files are on the demo's storage stand-in, which refuses requests without a
        // storage-audience token and x-ms-version, as Azure Storage does.
        &["--demo", "--export-duration", "2s", "--progress-headers"],
        120,
        35,
    );
    pty.wait_for_text("Azure FHIR service").unwrap();
    pty.send("J");
    pty.wait_for_text("No jobs yet").unwrap();
    pty.send("n");
    pty.wait_for_text("Start which operation?").unwrap();
    pty.send("\r");
    pty.wait_for_text("Start a bulk export").unwrap();
    pty.ctrl_r();
    pty.wait_for_text("status URL").unwrap();
    // The demo sends X-Progress when asked: a percentage appears, then the manifest.
    pty.wait_for_text_within("Patient-1.ndjson", Duration::from_secs(20))
        .unwrap();
    pty.wait_for_text("complete").unwrap();
    // Pick only the first output (AllergyIntolerance, the types sort by name), then download.
    pty.send("\t");
    pty.send(" ");
    pty.wait_for_text("[x] AllergyIntolerance").unwrap();
    pty.send("D");
    pty.wait_for_text_within("downloaded 1 file into", Duration::from_secs(20))
        .unwrap();
    let screen = pty.screen_text();
    // The file's line, and its "ok" (on the same line, or the next when the path is long).
    let lines: Vec<&str> = screen.lines().collect();
    let downloaded: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(".ndjson ") && lines[i].contains(" lines"))
        .collect();
    assert_eq!(downloaded.len(), 1, "{screen}");
    let at = downloaded[0];
    assert!(
        lines[at].contains("AllergyIntolerance-1.ndjson"),
        "{screen}"
    );
    assert!(
        lines[at].contains("lines  ok")
            || lines
                .get(at + 1)
                .is_some_and(|l| l.trim_start_matches(['│', ' ']).starts_with("ok")),
        "{screen}"
    );
    assert!(!screen.contains("differs"), "{screen}");
    pty.ctrl_c();
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    pty.assert_terminal_restored();
}

/// The real binary: `n` → `$bulk-delete` → type and search → the dry run's count → the type
/// typed back → the job runs to its ResourceDeletedCount.
#[test]
fn a_bulk_delete_counts_confirms_and_completes() {
    let mut pty = Pty::spawn(&["--demo", "--export-duration", "1s"], 120, 35);
    pty.wait_for_text("Azure FHIR service").unwrap();
    pty.send("J");
    pty.wait_for_text("No jobs yet").unwrap();
    pty.send("n");
    pty.wait_for_text("Start which operation?").unwrap();
    pty.send("\x1b[B");
    pty.send("\x1b[B");
    pty.send("\r");
    pty.wait_for_text("Start $bulk-delete").unwrap();
    pty.send("Observation");
    pty.send("\x1b[B");
    pty.send("code=8867-4");
    pty.ctrl_r();
    pty.wait_for_text_within(
        "resources match Observation?code=8867-4",
        Duration::from_secs(10),
    )
    .unwrap();
    pty.send("Observation");
    pty.send("\r");
    pty.wait_for_text_within("ResourceDeletedCount", Duration::from_secs(20))
        .unwrap();
    pty.wait_for_text("complete").unwrap();
    assert!(
        pty.screen_text().contains("$bulk-delete"),
        "{}",
        pty.screen_text()
    );
}
