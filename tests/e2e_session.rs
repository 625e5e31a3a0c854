//! Whole sessions in a pseudo-terminal against the built-in demo: no secret reaches any file
//! fhirside writes (or a copied curl), and a killed session comes back where it was.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use fhirside::demo::DEMO_CLIENT_SECRET;
use support::{Key, Pty};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Where a JWT (`eyJ….eyJ…`, a header and a payload) starts in `bytes`. Any token the demo
/// issues is one; a continuation token that is merely base64 JSON is not.
fn find_jwt(bytes: &[u8]) -> Option<usize> {
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let mut i = 0;
    while i + 3 <= bytes.len() {
        if &bytes[i..i + 3] == b"eyJ" {
            let mut j = i + 3;
            while j < bytes.len() && b64(bytes[j]) {
                j += 1;
            }
            if bytes.get(j) == Some(&b'.') && bytes[j + 1..].starts_with(b"eyJ") {
                return Some(i);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    None
}

/// The texts put on the clipboard with OSC 52 (`ESC ] 52 ; c ; BASE64 BEL`).
fn osc52_copies(raw: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let start = b"\x1b]52;c;";
    let mut i = 0;
    while let Some(pos) = raw[i..].windows(start.len()).position(|w| w == start) {
        let from = i + pos + start.len();
        let end = raw[from..]
            .iter()
            .position(|b| *b == 0x07 || *b == 0x1b)
            .map_or(raw.len(), |e| from + e);
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&raw[from..end]) {
            out.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        i = end;
    }
    out
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_whole_session_leaves_no_secret_in_any_file_or_copy() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().to_str().unwrap();
    let mut pty = Pty::spawn(
        &["--demo", "--workspace", ws, "--export-duration", "1s"],
        120,
        35,
    );
    pty.wait_for_text("Azure FHIR service").unwrap();
    // Sign in through the saved token request: its answer is captured into {{bearerToken}}.
    pty.send("2");
    pty.send("j");
    pty.enter();
    pty.wait_for_text("Request · Azure FHIR service/Get token")
        .unwrap();
    pty.ctrl_r();
    pty.wait_for_text("Captured bearerToken").unwrap();
    // Copy it as curl (redacted), from the request pane.
    pty.send("3");
    pty.send("y");
    pty.wait_for_text("copied").unwrap();
    pty.esc();
    pty.wait_for_text_gone("copied").unwrap();
    // A FHIR search with the token, and a bulk export that runs to the end.
    pty.send("2");
    pty.send("jjj");
    pty.enter();
    pty.wait_for_text("Request · Azure FHIR service/List patients")
        .unwrap();
    pty.ctrl_r();
    pty.wait_for_text("200 OK").unwrap();
    pty.send("2");
    pty.send("jj");
    pty.enter();
    pty.wait_for_text("Request · Azure FHIR service/Export")
        .unwrap();
    pty.ctrl_r();
    pty.wait_for_text("202").unwrap();
    pty.send("J");
    pty.wait_for_text_within("complete", Duration::from_secs(20))
        .unwrap();
    pty.esc();
    // A patient lookup in the browser.
    pty.send("f");
    pty.send("smith");
    pty.wait_for_text_within("Smith", Duration::from_secs(10))
        .unwrap();
    pty.esc();
    pty.wait_for_text_gone("find a patient").ok();
    // The history screen, and one entry opened.
    pty.send("H");
    pty.wait_for_text("kept").unwrap();
    pty.enter();
    pty.wait_for_text("entry #").unwrap();
    pty.esc();
    pty.esc();
    pty.wait_for_text_gone("kept").unwrap();
    // A forced error: a new request to a port nobody listens on.
    pty.send("2");
    pty.send("a");
    pty.wait_for_text("name").unwrap();
    pty.send("Broken");
    pty.enter();
    pty.wait_for_text("type its URL").unwrap();
    // The URL starts as `{{fhirurl}}/`: replace it.
    for _ in 0.."{{fhirurl}}/".len() {
        pty.send_key(Key::Backspace);
    }
    pty.send("http://127.0.0.1:9/x");
    pty.enter();
    pty.ctrl_r();
    pty.wait_for_text_within("refused", Duration::from_secs(10))
        .unwrap();
    pty.send("q");
    if pty
        .wait_for_text_within("Quit", Duration::from_secs(2))
        .is_ok()
    {
        pty.send("y");
    }
    assert!(pty.wait_exit(Duration::from_secs(10)).is_some());
    pty.pump();

    // Every file fhirside wrote, except the one meant for secrets.
    let mut files = Vec::new();
    walk(dir.path(), &mut files);
    assert!(
        files.iter().any(|f| f.ends_with(".history.sqlite3")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("jobs")),
        "{files:?}"
    );
    for f in &files {
        if f.file_name().is_some_and(|n| n == "secrets.toml") {
            #[cfg(unix)]
            assert_eq!(mode(f), 0o600, "{}", f.display());
            continue;
        }
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !contains(&bytes, DEMO_CLIENT_SECRET.as_bytes()),
            "the client secret is in {}",
            f.display()
        );
        if let Some(at) = find_jwt(&bytes) {
            let from = at.saturating_sub(120);
            let to = (at + 60).min(bytes.len());
            panic!(
                "a token is in {}: …{}…",
                f.display(),
                String::from_utf8_lossy(&bytes[from..to])
            );
        }
    }
    #[cfg(unix)]
    assert_eq!(mode(&dir.path().join(".history.sqlite3")), 0o600);
    // The copied curl is redacted, and nothing on screen ever showed a secret.
    let copies = osc52_copies(&pty.raw);
    assert!(!copies.is_empty(), "nothing was copied");
    for c in &copies {
        assert!(c.starts_with("curl"), "{c}");
        assert!(!c.contains(DEMO_CLIENT_SECRET), "{c}");
        assert!(find_jwt(c.as_bytes()).is_none(), "{c}");
    }
    assert!(!contains(&pty.raw, DEMO_CLIENT_SECRET.as_bytes()));
    assert!(find_jwt(b"x eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig").is_some());
    assert!(find_jwt(b"ct=eyJ2IjoxLCJvIjoxMH0&x").is_none());
    // The history kept the exchanges, the way a script would see them.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fhirside"))
        .args(["--workspace", ws, "history", "--json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let urls: Vec<&str> = rows.iter().filter_map(|r| r["url"].as_str()).collect();
    assert!(urls.iter().any(|u| u.contains("/oauth2/token")), "{urls:?}");
    assert!(urls.iter().any(|u| u.ends_with("/Patient")), "{urls:?}");
    assert!(urls.iter().any(|u| u.contains("$export")), "{urls:?}");
    assert!(urls.iter().any(|u| u.contains("name=smith")), "{urls:?}");
    assert!(
        rows.iter()
            .any(|r| r["status"].is_null()
                && r["error"].as_str().is_some_and(|e| e.contains("refused"))),
        "{rows:?}"
    );
}

#[test]
fn a_killed_session_comes_back_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().to_str().unwrap();
    let mut pty = Pty::spawn(&["--demo", "--workspace", ws], 120, 35);
    pty.wait_for_text("Azure FHIR service").unwrap();
    pty.send("2");
    pty.send("jjj");
    pty.enter();
    pty.wait_for_text("Request · Azure FHIR service/Health check")
        .unwrap();
    pty.ctrl_r();
    pty.wait_for_text("200 OK").unwrap();
    pty.send("4");
    pty.send("jjj");
    pty.wait_for_text("line 4/").unwrap();
    // The place is written a moment after it changes.
    let session = dir.path().join(".session.toml");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&session).unwrap_or_default();
        if text.contains("scroll = 3") && text.contains("focus = \"response\"") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    pty.signal("KILL");
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());

    let mut pty = Pty::spawn(&["--demo", "--workspace", ws], 120, 35);
    pty.wait_for_text("from the last session's history")
        .unwrap();
    pty.wait_for_text("line 4/").unwrap();
    pty.wait_for_text("Request · Azure FHIR service/Health check")
        .unwrap();
    // The response pane has the focus again: j keeps scrolling it.
    pty.send_key(Key::Down);
    pty.wait_for_text("line 5/").unwrap();
    pty.send("q");
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    pty.assert_terminal_restored();
}
