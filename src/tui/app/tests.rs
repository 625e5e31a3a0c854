//! Flows across screens, driven by keys through the real app and runtime (the [`Rig`]): send →
//! response → captures and jobs, cancelling, quitting, the palette, clicks. Session restore and
//! remapped keys have their own files beside this one.

mod keys;
mod main_screen;
mod session;

use crate::tui::screens::Pane;
use crate::tui::screens::dialogs::confirm::Confirm;
use crate::tui::screens::dialogs::env_editor::EnvEditor;
use crate::tui::screens::response::Outcome;
use crate::tui::testing::{Rig, path, received};
use crate::worker::WorkerCommand;

/// Every file under `dir`.
pub(crate) fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn opening_and_sending_a_request_dispatches_to_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://fhir.test");
    // Collections is focused; row 0 is the collection, row 2 "Capability statement".
    rig.keys(&["j", "j", "enter"]);
    assert_eq!(
        rig.app.model.open,
        Some(path(&["Azure FHIR service", "Capability statement"]))
    );
    let cmds = rig.key("ctrl-r");
    let [WorkerCommand::Send { id, request, .. }] = cmds.as_slice() else {
        panic!("expected one send, got {cmds:?}");
    };
    assert_eq!(request.url, "http://fhir.test/metadata");
    assert!(rig.app.busy());
    rig.answer(
        *id,
        received(
            200,
            "application/fhir+json",
            r#"{"resourceType":"CapabilityStatement"}"#,
        ),
    );
    assert!(!rig.app.busy());
    let Outcome::Received { body, .. } = &rig.response().unwrap().outcome else {
        panic!()
    };
    assert_eq!(
        body.pretty.line(1),
        "  \"resourceType\": \"CapabilityStatement\""
    );
}

#[test]
fn esc_cancels_the_request_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.keys(&["j", "j", "enter"]);
    let id = rig.send();
    let cmds = rig.key("esc");
    assert!(
        matches!(cmds.as_slice(), [WorkerCommand::Cancel { id: c }] if *c == id),
        "{cmds:?}"
    );
    assert!(!rig.app.busy());
    // A late answer for the cancelled request is dropped.
    rig.answer(id, received(200, "text/plain", "late"));
    assert!(rig.app.response.responses.is_empty());
}

#[test]
fn quitting_with_unsaved_edits_asks() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.keys(&["j", "enter", "3", "M", "d"]); // method DELETE
    assert_eq!(rig.editor().unwrap().draft.method, "DELETE");
    rig.key("q");
    assert!(!rig.app.quit);
    assert!(rig.top::<Confirm>().is_some());
    rig.key("n");
    assert!(!rig.app.quit);
    rig.keys(&["q", "y"]);
    assert!(rig.app.quit);
}

#[test]
fn palette_jumps_to_a_request_and_switches_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.key("ctrl-p");
    rig.typed("list pat");
    rig.key("enter");
    assert_eq!(
        rig.app.model.open,
        Some(path(&["Azure FHIR service", "List patients"]))
    );
    assert_eq!(rig.app.focus, Pane::Request);
    // A second environment, chosen from the palette.
    rig.keys(&["1", "a"]);
    rig.typed("prod");
    rig.key("enter");
    rig.key("ctrl-p");
    rig.typed("use prod");
    rig.key("enter");
    assert_eq!(rig.app.model.active_env.as_deref(), Some("prod"));
}

#[test]
fn captures_set_session_variables_but_never_write_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.keys(&["j", "enter"]); // Get token, with the bearerToken capture
    let id = rig.send();
    rig.answer(
        id,
        received(
            200,
            "application/json",
            r#"{"access_token":"eyJ.secret.token","expires_in":"3599"}"#,
        ),
    );
    assert_eq!(
        rig.app.model.session_vars,
        vec![("bearerToken".to_string(), "eyJ.secret.token".to_string())]
    );
    // Editing the environment afterwards must not persist the token.
    let editor = EnvEditor::new("azure".into(), &rig.app.model);
    rig.app.dialogs.push(Box::new(editor));
    rig.key("space");
    let env_file = std::fs::read_to_string(dir.path().join("environments/azure.toml")).unwrap();
    assert!(env_file.contains("enabled = false"), "the edit was saved");
    for entry in walk(dir.path()) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(
            !text.contains("eyJ.secret.token"),
            "token written to {}",
            entry.display()
        );
    }
}

#[test]
fn an_export_answered_202_becomes_a_watched_saved_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.app.model.ws.environment_mut("azure").unwrap().auth = None;
    rig.open(&path(&["Azure FHIR service", "Export"]));
    let id = rig.send();
    let mut answer = received(202, "text/plain", "");
    answer.response.headers.push((
        "Content-Location".into(),
        "http://fhir.test/_operations/export/7".into(),
    ));
    answer.response.final_url = "http://fhir.test/$export?_container=export".into();
    let cmds = rig.answer(id, answer);
    let [WorkerCommand::WatchJob { job, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(job.status_url, "http://fhir.test/_operations/export/7");
    assert_eq!(job.params.container.as_deref(), Some("export"));
    assert_eq!(rig.app.model.jobs.list.len(), 1);
    // The message fits an 80-column status bar beside " env demo │ token 59m │ ".
    let said = rig.status();
    assert!(
        said.ends_with("(J shows jobs).") && said.chars().count() <= 54,
        "{said}"
    );
    // Saved in the workspace, and resumed by a new session.
    let saved: Vec<_> = std::fs::read_dir(dir.path().join("jobs"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(saved.len(), 1);
    let mut again = Rig::seeded(dir.path());
    let resumed = again.app.resume_jobs();
    let sent = again.dispatch(resumed);
    assert!(
        matches!(sent.as_slice(), [WorkerCommand::WatchJob { .. }]),
        "{sent:?}"
    );
}

#[test]
fn a_create_whose_body_does_not_match_the_url_asks_first_and_if_match_comes_from_the_etag() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_token_by_hand("azure", "http://fhir.test");
    rig.open(&path(&["Azure FHIR service", "Create patient"]));
    rig.editor_mut().unwrap().draft.body.text = r#"{"resourceType":"Observation"}"#.into();
    assert!(rig.key("ctrl-r").is_empty());
    let message = &rig.top::<Confirm>().expect("a question").message;
    assert!(
        message.contains("Observation") && message.contains("Patient"),
        "{message}"
    );
    rig.key("n");
    assert!(!rig.dialog_open());
    // A correct body goes straight out; its ETag then feeds If-Match.
    rig.editor_mut().unwrap().draft.body.text = r#"{"resourceType":"Patient"}"#.into();
    let id = rig.send();
    let mut answer = received(
        201,
        "application/fhir+json",
        r#"{"resourceType":"Patient","id":"1"}"#,
    );
    answer
        .response
        .headers
        .push(("ETag".into(), "W/\"1\"".into()));
    rig.answer(id, answer);
    rig.key("I");
    let ed = rig.editor().unwrap();
    assert!(
        ed.draft
            .headers
            .iter()
            .any(|h| h.key == "If-Match" && h.value == "W/\"1\""),
        "{:?} / {}",
        ed.draft.headers,
        rig.status()
    );
}

/// A click focuses the pane under it (wide), or the tab under it (narrow).
#[test]
fn clicks_focus_panes_and_tabs() {
    use crate::tui::msg::Msg;
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let click = |column, row| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.draw(120, 35);
    rig.msg(click(100, 30));
    assert_eq!(rig.app.focus, Pane::Response);
    rig.msg(click(5, 1));
    assert_eq!(rig.app.focus, Pane::Environments);
    let screen = rig.draw(80, 24);
    let col = screen.lines().next().unwrap().find("3 Request").unwrap() as u16;
    rig.msg(click(col, 0));
    assert_eq!(rig.app.focus, Pane::Request);
}
