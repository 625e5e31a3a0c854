//! Session restore: where the user was comes back on the next start (the open request and its
//! answer from history, the focus, the browser's lookup or page); a broken session file is
//! reported and never written over.

use crate::tui::msg::Msg;
use crate::tui::screens::history::tests::{history_rig, seed_three};
use crate::tui::screens::response::{Outcome, ResponseView};
use crate::tui::screens::{Pane, Screen, browser};
use crate::tui::session::SESSION_FILE;
use crate::tui::testing::{Rig, path, received};
use crate::worker::WorkerCommand;

#[test]
fn the_session_comes_back_with_its_response_from_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    let p = path(&["Azure FHIR service", "List patients"]);
    rig.open(&p);
    // An answer on screen, the cursor on its fourth line.
    let r = *received(200, "application/fhir+json", r#"{"a":1,"b":2,"c":3}"#);
    let mut view = ResponseView::new(
        "GET x".into(),
        Outcome::Received {
            response: Box::new(r.response),
            body: Box::new(r.body),
        },
        Vec::new(),
    );
    view.goto_line(3);
    rig.app.response.responses.insert(p.clone(), view);
    rig.app.focus = Pane::Response;
    rig.save_session();
    assert!(dir.path().join(SESSION_FILE).exists());

    // A new start in the same workspace.
    drop(rig);
    let mut rig = history_rig(dir.path());
    let cmds = rig.app.restore_session(false);
    assert_eq!(rig.app.model.open, Some(p.clone()));
    assert_eq!(rig.app.focus, Pane::Response);
    rig.dispatch(cmds);
    let view = rig
        .app
        .response
        .responses
        .get(&p)
        .expect("restored from history");
    assert!(view.restored);
    assert_eq!(view.line_count(), 4);
    assert_eq!(view.pane().map(|p| p.cursor_line()), Some(3));
}

#[test]
fn a_broken_session_file_is_reported_and_never_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    let file = dir.path().join(SESSION_FILE);
    std::fs::write(&file, "focus = \n").unwrap();
    let cmds = rig.app.restore_session(false);
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(
        rig.status().contains(".session.toml:1:"),
        "{}",
        rig.status()
    );
    rig.app.focus = Pane::Request;
    rig.save_session();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "focus = \n");
}

/// A new start in `dir`'s workspace (with its FHIR base set) and the session restored; the
/// requests that sends.
fn restart(dir: &std::path::Path) -> (Rig, Vec<WorkerCommand>) {
    let mut rig = Rig::seeded(dir);
    rig.set_fhirurl("azure", "http://fhir.test");
    let cmds = rig.app.restore_session(false);
    let sent = rig.dispatch(cmds);
    (rig, sent)
}

fn sent_urls(cmds: &[WorkerCommand]) -> Vec<String> {
    cmds.iter()
        .filter_map(|c| match c {
            WorkerCommand::Send { request, .. } => Some(request.url.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_browser_comes_back_with_its_lookup_or_page() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    rig.key("f");
    rig.typed("smith");
    rig.save_session();
    let text = std::fs::read_to_string(dir.path().join(SESSION_FILE)).unwrap();
    assert!(text.contains("lookup = \"smith\""), "{text}");
    drop(rig);

    let (mut rig, sent) = restart(dir.path());
    assert_eq!(rig.app.screen, Some(Screen::Browser));
    let sent = sent_urls(&sent);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].starts_with("http://fhir.test/Patient?"), "{sent:?}");
    assert!(sent[0].contains("smith"), "{sent:?}");

    // A page rather than a lookup: fetched again.
    rig.app.browser = browser::Browser::default();
    rig.app.screen = None;
    rig.msg(Msg::Intent(browser::browse(
        "http://fhir.test/Patient/7".into(),
    )));
    rig.save_session();
    drop(rig);
    let (_, sent) = restart(dir.path());
    assert!(
        sent_urls(&sent).contains(&"http://fhir.test/Patient/7".to_string()),
        "{sent:?}"
    );
}

/// A page under the FHIR base is kept as its path, so it comes back where the base is now: the
/// demo starts on a new port every run (restoring it asked the old port and said "Connection
/// refused"), and a user may move `fhirurl`. A page on another server is kept whole.
#[test]
fn a_restored_page_follows_the_fhir_base_when_it_moves() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://127.0.0.1:41001");
    rig.msg(Msg::Intent(browser::browse(
        "http://127.0.0.1:41001/Patient/7?_elements=name".into(),
    )));
    rig.save_session();
    let text = std::fs::read_to_string(dir.path().join(SESSION_FILE)).unwrap();
    assert!(
        text.contains("url = \"/Patient/7?_elements=name\""),
        "{text}"
    );
    drop(rig);

    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://127.0.0.1:52002");
    let cmds = rig.app.restore_session(false);
    let sent = sent_urls(&rig.dispatch(cmds));
    assert!(
        sent.contains(&"http://127.0.0.1:52002/Patient/7?_elements=name".to_string()),
        "{sent:?}"
    );
    drop(rig);

    // Elsewhere: kept as it was.
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://127.0.0.1:52002");
    rig.msg(Msg::Intent(browser::browse(
        "http://other.test/Patient/9".into(),
    )));
    rig.save_session();
    let text = std::fs::read_to_string(dir.path().join(SESSION_FILE)).unwrap();
    assert!(
        text.contains("url = \"http://other.test/Patient/9\""),
        "{text}"
    );
}
