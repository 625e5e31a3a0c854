//! End-to-end tests: the real `fhirside` binary in a pseudo-terminal, driven by keys and read
//! back through a `vt100` screen model, talking only to a stub server on 127.0.0.1.

mod support;

use std::fs;
use std::time::{Duration, Instant};

use support::{Key, Pty, spawn_fhir_stub, stub_workspace, write_env, write_request};

/// Everything a test waits for should be quick; this bounds each single wait.
const T: Duration = Duration::from_secs(5);

fn ok<T>(r: Result<T, String>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// Opens the `n`-th request (0-based) of the first collection: focus Collections, go to the
/// top (the collection row), move down `n + 1` rows and press Enter.
fn open_request(pty: &mut Pty, n: usize, title: &str) {
    pty.send("2");
    pty.send("g");
    for _ in 0..=n {
        pty.send("j");
    }
    pty.enter();
    ok(pty.wait_for_text_within(title, T));
}

/// Checks that the pretty-printed body is highlighted: the key `"resourceType"` has a colour
/// that is neither the default nor the colour of its string value.
fn assert_json_key_highlighted(pty: &Pty) {
    let screen = pty.screen();
    let line = "\"resourceType\": \"CapabilityStatement\"";
    let (row, col) = pty
        .find(line)
        .unwrap_or_else(|| panic!("{line} not on screen:\n{}", screen.contents()));
    let key_cell = screen.cell(row, col + 1).expect("key cell");
    let value_col = col + "\"resourceType\": ".len() as u16 + 1;
    let value_cell = screen.cell(row, value_col).expect("value cell");
    assert_eq!(key_cell.contents(), "r");
    assert_eq!(value_cell.contents(), "C");
    let key = key_cell.fgcolor();
    let value = value_cell.fgcolor();
    assert_ne!(
        key,
        vt100::Color::Default,
        "the JSON key is not highlighted (default colour)"
    );
    assert_ne!(
        key, value,
        "the JSON key and its string value have the same colour ({key:?})"
    );
    // The whole key, quotes included, is one token.
    for i in 0.."\"resourceType\"".len() as u16 {
        assert_eq!(
            screen.cell(row, col + i).unwrap().fgcolor(),
            key,
            "cell {i} of the key has another colour"
        );
    }
}

fn quit_cleanly(pty: &mut Pty) {
    pty.send("q");
    let status = pty
        .wait_exit(T)
        .unwrap_or_else(|| panic!("fhirside did not exit after q:\n{}", pty.screen_text()));
    assert!(status.success(), "exit status after q: {status}");
    pty.assert_terminal_restored();
}

#[test]
fn send_saved_request_shows_highlighted_pretty_body_and_quits_cleanly() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Metadata", T));
    assert!(
        pty.screen().alternate_screen(),
        "the TUI should run on the alternate screen"
    );

    open_request(&mut pty, 0, "Test/Metadata");
    ok(pty.wait_for_text_within("Nothing sent yet", T));
    pty.ctrl_r();
    ok(pty.wait_for_text_within("200 OK", T));
    ok(pty.wait_for_text_within("\"resourceType\": \"CapabilityStatement\"", T));
    // Pretty-printed: the compact body from the server is shown one member per line.
    ok(pty.wait_for_text_within("\"fhirVersion\": \"4.0.1\"", T));
    assert!(stub.hits().iter().any(|h| h == "/metadata"));
    assert_json_key_highlighted(&pty);

    quit_cleanly(&mut pty);
}

#[test]
fn narrow_terminal_shows_tab_strip_and_the_same_flow_works() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let mut pty = Pty::spawn_workspace(ws.path(), 80, 24);
    ok(pty.wait_for_text_within("Metadata", T));
    let first_row = pty.screen().rows(0, 80).next().unwrap_or_default();
    for tab in ["1 Environments", "2 Collections", "3 Request", "4 Response"] {
        assert!(
            first_row.contains(tab),
            "tab strip lacks {tab:?}: {first_row:?}"
        );
    }

    // Only one pane at a time: the request opens (◂ marks it) while Collections keeps the
    // screen; 3 shows it.
    open_request(&mut pty, 0, "Metadata ◂");
    pty.send("3");
    ok(pty.wait_for_text_within("Test/Metadata", T));
    ok(pty.wait_for_text_within("{{fhirurl}}/metadata", T));
    pty.ctrl_r();
    ok(pty.wait_for(|_| stub.hits().iter().any(|h| h == "/metadata"), Some(T)));
    pty.send("4");
    ok(pty.wait_for_text_within("200 OK", T));
    ok(pty.wait_for_text_within("\"resourceType\": \"CapabilityStatement\"", T));
    assert_json_key_highlighted(&pty);
    quit_cleanly(&mut pty);
}

#[test]
fn esc_cancels_a_slow_request_promptly_and_the_ui_keeps_responding() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Slow", T));
    open_request(&mut pty, 2, "Test/Slow");
    pty.ctrl_r();
    ok(pty.wait_for_text_within("waiting for GET", T));
    assert!(
        stub.wait_for_hit("/slow", T),
        "the stub never saw /slow: {:?}",
        stub.hits()
    );

    let pressed = Instant::now();
    pty.esc();
    ok(pty.wait_for_text_within("Request cancelled.", Duration::from_secs(2)));
    let took = pressed.elapsed();
    assert!(took < Duration::from_secs(2), "cancel took {took:?}");
    ok(pty.wait_for_text_gone("waiting for GET"));
    assert!(
        !pty.screen_text().contains("Esc cancels"),
        "spinner still shown after cancel"
    );

    // Still alive: help opens and closes.
    pty.send("?");
    ok(pty.wait_for_text_within("j/k PgDn/PgUp g/G scroll", T));
    pty.esc();
    ok(pty.wait_for_text_gone("j/k PgDn/PgUp g/G scroll"));
    // And the late answer never shows up as a response (the server holds it 30 s anyway).
    assert!(!pty.screen_text().contains("200 OK"));
    quit_cleanly(&mut pty);
}

/// Index of a variable in the text of an environment file, or panics.
fn var_block<'a>(text: &'a str, key: &str) -> &'a str {
    let marker = format!("key = \"{key}\"");
    let start = text
        .find(&marker)
        .unwrap_or_else(|| panic!("{key} not in the file:\n{text}"));
    let rest = &text[start..];
    let end = rest.find("[[variables]]").unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn create_environment_and_edit_variables_secrets_go_to_secrets_toml() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let root = ws.path();
    let mut pty = Pty::spawn_workspace(root, 120, 35);
    ok(pty.wait_for_text_within("local", T));

    // 1 a NAME Enter: a new environment from the template, written at once.
    pty.send("1");
    pty.send("a");
    ok(pty.wait_for_text_within("New environment name", T));
    pty.send("staging");
    pty.enter();
    ok(pty.wait_for_text_within("Environment 'staging' created", T));
    let env_file = root.join("environments/staging.toml");
    assert!(env_file.exists(), "{} was not written", env_file.display());
    let original = fs::read_to_string(&env_file).unwrap();
    assert!(original.contains("key = \"tenantid\""), "{original}");

    // e opens the variable table of the selected (new) environment.
    pty.send("e");
    ok(pty.wait_for_text_within("Environment 'staging' — variables", T));
    // Rows: authority, tenantid, subid, clientid, clientsecret, fhirurl, bearerToken.

    // Edit tenantid (row 1): the dialog opens on the value field since the name is set.
    pty.send("j");
    pty.enter();
    ok(pty.wait_for_text_within("Esc cancel  Tab field", T));
    pty.send("my-tenant");
    pty.enter();
    ok(pty.wait_for_text_gone("Esc cancel  Tab field"));
    ok(pty.wait_for_text_within("my-tenant", T));
    let text = fs::read_to_string(&env_file).unwrap();
    assert!(
        var_block(&text, "tenantid").contains("value = \"my-tenant\""),
        "{text}"
    );

    // Edit fhirurl (row 5): clear the value with Ctrl-A Ctrl-K and type a new one; Tab goes to
    // the name field and back.
    for _ in 0..4 {
        pty.send("j");
    }
    pty.enter();
    ok(pty.wait_for_text_within("Esc cancel  Tab field", T));
    pty.send_key(Key::Ctrl('a'));
    pty.send_key(Key::Ctrl('k'));
    pty.send("http://127.0.0.1:9/fhir");
    pty.tab();
    pty.send_key(Key::Ctrl('a'));
    pty.send_key(Key::Ctrl('k'));
    pty.send("baseurl");
    pty.tab();
    pty.send("/r4");
    pty.enter();
    ok(pty.wait_for_text_gone("Esc cancel  Tab field"));
    ok(pty.wait_for_text_within("http://127.0.0.1:9/fhir/r4", T));
    let text = fs::read_to_string(&env_file).unwrap();
    let block = var_block(&text, "baseurl");
    assert!(
        block.contains("value = \"http://127.0.0.1:9/fhir/r4\""),
        "{text}"
    );
    assert!(!text.contains("key = \"fhirurl\""), "{text}");
    assert!(!text.contains("azurehealthcareapis"), "{text}");

    // Edit clientsecret (row 4, a secret): the value goes to secrets.toml only.
    pty.send("k");
    pty.enter();
    ok(pty.wait_for_text_within("Esc cancel  Tab field", T));
    pty.send("s3cr3t-xyz");
    pty.enter();
    ok(pty.wait_for_text_gone("Esc cancel  Tab field"));
    ok(pty.wait_for_text_within("••••••••", T));
    assert!(
        !pty.screen_text().contains("s3cr3t-xyz"),
        "a secret value is shown unmasked"
    );

    // a adds a variable; a name that looks like a credential is made secret.
    pty.send("a");
    ok(pty.wait_for_text_within("Esc cancel  Tab field", T));
    pty.send("apiKey");
    pty.tab();
    pty.send("k3y-value-123");
    pty.enter();
    ok(pty.wait_for_text_gone("Esc cancel  Tab field"));
    ok(pty.wait_for_text_within("apiKey", T));

    let text = fs::read_to_string(&env_file).unwrap();
    assert!(
        !text.contains("s3cr3t-xyz"),
        "secret in the env file:\n{text}"
    );
    assert!(
        !text.contains("k3y-value-123"),
        "secret in the env file:\n{text}"
    );
    assert!(
        var_block(&text, "clientsecret").contains("secret = true"),
        "{text}"
    );
    assert!(
        var_block(&text, "apiKey").contains("secret = true"),
        "{text}"
    );
    let secrets_path = root.join("secrets.toml");
    let secrets = fs::read_to_string(&secrets_path).expect("secrets.toml written");
    assert!(secrets.contains("[environments.staging]"), "{secrets}");
    assert!(
        secrets.contains("clientsecret = \"s3cr3t-xyz\""),
        "{secrets}"
    );
    assert!(secrets.contains("apiKey = \"k3y-value-123\""), "{secrets}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&secrets_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "secrets.toml mode is {mode:o}");
    }

    // Esc closes the table.
    pty.esc();
    ok(pty.wait_for_text_gone("— variables"));
    quit_cleanly(&mut pty);

    // The secret comes back after a restart (joined in from secrets.toml), shown with v.
    let mut pty = Pty::spawn_workspace(root, 120, 35);
    ok(pty.wait_for_text_within("staging", T));
    pty.send("1");
    pty.send("G"); // staging sorts after local
    pty.send("e");
    ok(pty.wait_for_text_within("Environment 'staging' — variables", T));
    pty.send("v");
    ok(pty.wait_for_text_within("s3cr3t-xyz", T));
    ok(pty.wait_for_text_within("k3y-value-123", T));
    pty.esc();
    ok(pty.wait_for_text_gone("— variables"));
    quit_cleanly(&mut pty);
    // Nothing was rewritten by just looking.
    assert_eq!(fs::read_to_string(&env_file).unwrap(), text);
}

#[test]
fn sigterm_restores_the_terminal() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Metadata", T));
    open_request(&mut pty, 0, "Test/Metadata");
    // What must be undone is in effect before the signal.
    assert!(pty.screen().alternate_screen());
    assert_ne!(
        pty.screen().mouse_protocol_mode(),
        vt100::MouseProtocolMode::None
    );
    assert!(pty.screen().bracketed_paste());
    assert_eq!(pty.cooked_mode(), Some(false), "raw mode while running");
    pty.signal("TERM");
    let status = pty
        .wait_exit(T)
        .unwrap_or_else(|| panic!("fhirside ignored SIGTERM:\n{}", pty.screen_text()));
    assert!(status.success(), "exit status after SIGTERM: {status}");
    pty.assert_terminal_restored();
}

#[test]
fn sigterm_with_a_request_in_flight_exits_promptly_and_restores_the_terminal() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Slow", T));
    open_request(&mut pty, 2, "Test/Slow");
    pty.ctrl_r();
    ok(pty.wait_for_text_within("waiting for GET", T));
    assert!(stub.wait_for_hit("/slow", T));
    let sent = Instant::now();
    pty.signal("TERM");
    let status = pty.wait_exit(T).unwrap_or_else(|| {
        panic!(
            "fhirside did not exit within {T:?} of SIGTERM with a request in flight:\n{}",
            pty.screen_text()
        )
    });
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "exit took {:?}",
        sent.elapsed()
    );
    assert!(status.success(), "exit status after SIGTERM: {status}");
    pty.assert_terminal_restored();
}

#[test]
fn ctrl_c_quits_at_once_even_with_unsaved_edits() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Metadata", T));
    open_request(&mut pty, 0, "Test/Metadata");
    // Make an unsaved edit: pick another method.
    pty.send("3");
    pty.send("M");
    ok(pty.wait_for_text_within("Method", T));
    pty.send("p");
    ok(pty.wait_for_text_within("Test/Metadata *", T));
    // q asks first…
    pty.send("q");
    ok(pty.wait_for_text_within("unsaved edits. Quit and discard them?", T));
    pty.send("n");
    ok(pty.wait_for_text_gone("Quit and discard them?"));
    // …Ctrl-C does not.
    pty.ctrl_c();
    let status = pty
        .wait_exit(T)
        .unwrap_or_else(|| panic!("no exit after Ctrl-C:\n{}", pty.screen_text()));
    assert!(status.success(), "exit status after Ctrl-C: {status}");
    pty.assert_terminal_restored();
    let saved = fs::read_to_string(ws.path().join("collections/Test/Metadata.toml")).unwrap();
    assert!(saved.contains("method = \"GET\""), "{saved}");
}

#[test]
fn broken_toml_is_reported_with_position_and_left_untouched() {
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path();
    write_env(root, "good", &[("fhirurl", "http://127.0.0.1:9")]);
    let broken_env = root.join("environments/broken.toml");
    let env_bytes: &[u8] = b"[[variables]]\nkey = \"a\"\nvalue = \"unterminated\n";
    fs::write(&broken_env, env_bytes).unwrap();
    write_request(root, "Test", "Metadata", "GET", "{{fhirurl}}/metadata");
    let broken_req = root.join("collections/Test/Broken.toml");
    let req_bytes: &[u8] = b"name = \"Broken\"\nmethod = GET\nurl = \"x\"\n";
    fs::write(&broken_req, req_bytes).unwrap();
    let env_mtime = fs::metadata(&broken_env).unwrap().modified().unwrap();

    let mut pty = Pty::spawn_workspace(root, 120, 35);
    ok(pty.wait_for_text_within("Workspace problems", T));
    let text = pty.screen_text();
    // Wrapped lines are fine; compare without line breaks and the dialog's borders.
    let flat: String = text
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '│' || c.is_whitespace()))
        .collect::<Vec<_>>()
        .join("");
    let has_position = |file: &str, line: usize| {
        let needle = format!("{file}:{line}:");
        flat.find(&needle).is_some_and(|i| {
            flat[i + needle.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
    };
    assert!(
        has_position("environments/broken.toml", 3),
        "no line:column for broken.toml:\n{text}"
    );
    assert!(
        has_position("Test/Broken.toml", 2),
        "no line:column for Broken.toml:\n{text}"
    );

    // Esc closes the dialog; the good files loaded; the workspace was not seeded.
    pty.esc();
    ok(pty.wait_for_text_gone("Workspace problems"));
    let text = pty.screen_text();
    assert!(text.contains("good"), "{text}");
    assert!(text.contains("Metadata"), "{text}");
    assert!(!text.contains("Azure FHIR service"), "{text}");

    // Creating an environment with the broken file's name must not overwrite it.
    pty.send("1");
    pty.send("a");
    ok(pty.wait_for_text_within("New environment name", T));
    pty.send("broken");
    pty.enter();
    ok(pty.wait_for_text_gone("New environment name"));
    ok(pty.wait_for_text_within("already exists", T));
    quit_cleanly(&mut pty);

    assert_eq!(fs::read(&broken_env).unwrap(), env_bytes);
    assert_eq!(fs::read(&broken_req).unwrap(), req_bytes);
    assert_eq!(
        fs::metadata(&broken_env).unwrap().modified().unwrap(),
        env_mtime
    );
    assert!(!root.join("collections/Azure FHIR service").exists());
}

#[test]
fn sighup_exits_and_restores_the_terminal() {
    let ws = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Azure FHIR service", T));
    pty.signal("HUP");
    let status = pty
        .wait_exit(T)
        .unwrap_or_else(|| panic!("fhirside ignored SIGHUP:\n{}", pty.screen_text()));
    assert!(status.success(), "exit status after SIGHUP: {status}");
    pty.assert_terminal_restored();
}

#[test]
fn sigint_restores_the_terminal() {
    let ws = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Azure FHIR service", T));
    pty.signal("INT");
    let status = pty
        .wait_exit(T)
        .unwrap_or_else(|| panic!("fhirside ignored SIGINT:\n{}", pty.screen_text()));
    pty.assert_terminal_restored();
    assert!(status.success(), "exit status after SIGINT: {status}");
}

#[test]
fn resizing_switches_between_wide_and_narrow_layouts() {
    let ws = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Azure FHIR service", T));
    ok(pty.wait_for_text_within("╭ 1 Environments", T));
    pty.resize(80, 24);
    ok(pty.wait_for_within(T, "the tab strip", |s| {
        s.rows(0, 80)
            .next()
            .is_some_and(|r| r.contains("1 Environments   2 Collections"))
    }));
    pty.resize(120, 35);
    ok(pty.wait_for_text_within("╭ 1 Environments", T));
    ok(pty.wait_for_text_within("4 Response", T));
    quit_cleanly(&mut pty);
}

#[test]
fn esc_cancels_what_the_status_bar_advertises_even_after_opening_another_request() {
    let stub = spawn_fhir_stub();
    let ws = stub_workspace(&stub.base_url());
    let mut pty = Pty::spawn_workspace(ws.path(), 120, 35);
    ok(pty.wait_for_text_within("Slow", T));
    open_request(&mut pty, 2, "Test/Slow");
    pty.ctrl_r();
    ok(pty.wait_for_text_within("waiting for GET", T));
    // Open Metadata while Slow is still waiting; the status bar still shows the flight.
    open_request(&mut pty, 0, "Test/Metadata");
    let bar_says_esc_cancels = |s: &vt100::Screen| {
        let (rows, cols) = s.size();
        s.rows(0, cols)
            .nth(rows as usize - 1)
            .is_some_and(|r| r.contains("/slow") && r.contains("Esc cancels"))
    };
    ok(pty.wait_for_within(
        T,
        "the in-flight hint in the status bar",
        bar_says_esc_cancels,
    ));
    pty.esc();
    ok(pty.wait_for_text_within("Request cancelled.", Duration::from_secs(2)));
    quit_cleanly(&mut pty);
}

#[test]
fn request_file_with_an_unknown_key_is_reported_and_never_rewritten() {
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path();
    write_env(root, "local", &[("fhirurl", "http://127.0.0.1:9")]);
    let path = root.join("collections/Test/Metadata.toml");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    // `header` is a typo for `headers`: the user's header must not vanish.
    let bytes: &[u8] = b"name = \"Metadata\"\nmethod = \"GET\"\nurl = \"{{fhirurl}}/metadata\"\n\n\
[[header]]\nkey = \"Accept\"\nvalue = \"application/fhir+json\"\n";
    fs::write(&path, bytes).unwrap();

    let mut pty = Pty::spawn_workspace(root, 120, 35);
    ok(pty.wait_for_text_within("Metadata", T));
    let reported = pty.screen_text().contains("Workspace problems");
    if reported {
        pty.esc();
        ok(pty.wait_for_text_gone("Workspace problems"));
    } else {
        // Not reported: edit and save the request as a user would.
        open_request(&mut pty, 0, "Test/Metadata");
        pty.send("3");
        pty.send("M");
        ok(pty.wait_for_text_within("Method", T));
        pty.send("p");
        ok(pty.wait_for_text_within("Test/Metadata *", T));
        pty.send_key(Key::Ctrl('s'));
        ok(pty.wait_for_text_gone("Test/Metadata *"));
    }
    quit_cleanly(&mut pty);
    let after = fs::read(&path).unwrap();
    assert!(
        reported,
        "the unknown key was not reported; after a save the file is:\n{}",
        String::from_utf8_lossy(&after)
    );
    assert_eq!(after, bytes);
}
