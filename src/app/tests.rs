//! Action → state tests for `App::update`: keys in, state and commands out, no terminal.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::response::Outcome;
use super::*;
use crate::worker::{HttpResponse, Received, WorkerCommand, WorkerEvent, body};
use crate::workspace::seed::seed_if_new;
use crate::workspace::{NodePath, Store};

pub(crate) fn seeded_app(dir: &std::path::Path) -> App {
    let (mut store, mut ws, problems) = Store::load(dir);
    seed_if_new(&mut store, &mut ws).unwrap();
    App::new(store, ws, problems, None)
}

pub(crate) fn key(app: &mut App, name: &str) -> Vec<Command> {
    let ev = match name {
        "enter" => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
        "esc" => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        "tab" => KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE),
        "space" => KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE),
        "ctrl-r" => KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL),
        "ctrl-s" => KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL),
        "ctrl-p" => KeyEvent::new(KeyCode::Char('p'), KeyModifiers::CONTROL),
        s if s.chars().count() == 1 => {
            let c = s.chars().next().unwrap();
            let m = if c.is_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            KeyEvent::new(KeyCode::Char(c), m)
        }
        other => panic!("unknown key {other}"),
    };
    app.update(Msg::Key(ev))
}

pub(crate) fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, &c.to_string());
    }
}

pub(crate) fn path(parts: &[&str]) -> NodePath {
    NodePath(parts.iter().map(|s| s.to_string()).collect())
}

pub(crate) fn response(status: u16, content_type: &str, body: &str) -> Box<Received> {
    let response = HttpResponse {
        spool: None,
        status,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        headers: vec![("content-type".into(), content_type.into())],
        body: body.as_bytes().to_vec().into(),
        elapsed: Duration::from_millis(42),
        final_url: "http://fhir.test/metadata".into(),
    };
    let body = body::prepare(&response);
    Box::new(Received {
        response,
        body,
        auth_note: None,
    })
}

pub(crate) fn set_fhirurl(app: &mut App, url: &str) {
    app.ws.environment_mut("azure").unwrap().set("fhirurl", url);
}

#[test]
fn opening_and_sending_a_request_dispatches_to_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    set_fhirurl(&mut app, "http://fhir.test");
    // Collections is focused; row 0 is the collection, row 2 "Capability statement".
    key(&mut app, "j");
    key(&mut app, "j");
    key(&mut app, "enter");
    assert_eq!(
        app.open,
        Some(path(&["Azure FHIR service", "Capability statement"]))
    );
    let cmds = key(&mut app, "ctrl-r");
    let [Command::Worker(WorkerCommand::Send { id, request, .. })] = cmds.as_slice() else {
        panic!("expected one send, got {cmds:?}");
    };
    assert_eq!(request.url, "http://fhir.test/metadata");
    assert!(app.busy());
    app.update(Msg::Worker(WorkerEvent::Response {
        id: *id,
        result: Ok(response(
            200,
            "application/fhir+json",
            r#"{"resourceType":"CapabilityStatement"}"#,
        )),
    }));
    assert!(!app.busy());
    let view = app.responses.get(app.open.as_ref().unwrap()).unwrap();
    let Outcome::Received { body, .. } = &view.outcome else {
        panic!()
    };
    assert_eq!(
        body.pretty.line(1),
        "  \"resourceType\": \"CapabilityStatement\""
    );
}

#[test]
fn unresolved_variables_ask_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    key(&mut app, "j"); // Get token: uses {{tenantid}} which the template leaves empty…
    key(&mut app, "enter");
    // …empty counts as set; remove the variable so it is really unresolved.
    app.ws
        .environment_mut("azure")
        .unwrap()
        .variables
        .retain(|v| v.key != "tenantid");
    let cmds = key(&mut app, "ctrl-r");
    assert!(cmds.is_empty());
    let Some(Overlay::Confirm { message, .. }) = &app.overlay else {
        panic!("no confirm")
    };
    assert!(message.contains("{{tenantid}}"), "{message}");
    let cmds = key(&mut app, "y");
    assert!(matches!(
        cmds.as_slice(),
        [Command::Worker(WorkerCommand::Send { .. })]
    ));
}

#[test]
fn esc_cancels_the_request_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    key(&mut app, "j");
    key(&mut app, "j");
    key(&mut app, "enter");
    let cmds = key(&mut app, "ctrl-r");
    let [Command::Worker(WorkerCommand::Send { id, .. })] = cmds.as_slice() else {
        panic!()
    };
    let id = *id;
    let cmds = key(&mut app, "esc");
    assert!(
        matches!(cmds.as_slice(), [Command::Worker(WorkerCommand::Cancel { id: c })] if *c == id)
    );
    assert!(!app.busy());
    // A late answer for the cancelled request is dropped.
    app.update(Msg::Worker(WorkerEvent::Response {
        id,
        result: Ok(response(200, "text/plain", "late")),
    }));
    assert!(app.responses.is_empty());
}

#[test]
fn editing_the_url_moves_query_into_the_table_and_save_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    key(&mut app, "j");
    key(&mut app, "j");
    key(&mut app, "enter");
    key(&mut app, "3");
    key(&mut app, "u");
    typed(&mut app, "?_summary=true");
    key(&mut app, "enter");
    let ed = app.open_editor().unwrap();
    assert_eq!(ed.draft.url, "{{fhirurl}}/metadata");
    assert_eq!(ed.draft.query[0].key, "_summary");
    assert!(ed.dirty());
    key(&mut app, "ctrl-s");
    assert!(!app.open_editor().unwrap().dirty());
    let text = std::fs::read_to_string(
        dir.path()
            .join("collections/Azure FHIR service/Capability statement.toml"),
    )
    .unwrap();
    assert!(text.contains("_summary"), "{text}");
}

#[test]
fn quitting_with_unsaved_edits_asks() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    key(&mut app, "j");
    key(&mut app, "enter");
    key(&mut app, "3");
    key(&mut app, "M");
    key(&mut app, "d"); // method DELETE
    assert_eq!(app.open_editor().unwrap().draft.method, "DELETE");
    key(&mut app, "q");
    assert!(!app.quit);
    assert!(matches!(app.overlay, Some(Overlay::Confirm { .. })));
    key(&mut app, "n");
    assert!(!app.quit);
    key(&mut app, "q");
    key(&mut app, "y");
    assert!(app.quit);
}

#[test]
fn new_folder_request_rename_move_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    // New folder under the collection (row 0).
    key(&mut app, "A");
    typed(&mut app, "Patients");
    key(&mut app, "enter");
    assert!(
        dir.path()
            .join("collections/Azure FHIR service/Patients")
            .is_dir()
    );
    // New request inside it: selection is on the new folder.
    key(&mut app, "a");
    typed(&mut app, "Find Smith");
    key(&mut app, "enter");
    let req = path(&["Azure FHIR service", "Patients", "Find Smith"]);
    assert_eq!(app.open, Some(req.clone()));
    assert!(
        dir.path()
            .join("collections/Azure FHIR service/Patients/Find Smith.toml")
            .is_file()
    );
    key(&mut app, "esc"); // leave the URL field
    // Rename it from the tree.
    key(&mut app, "2");
    key(&mut app, "r");
    for _ in 0.."Find Smith".len() {
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Backspace,
            KeyModifiers::NONE,
        )));
    }
    typed(&mut app, "Smiths");
    key(&mut app, "enter");
    let renamed = path(&["Azure FHIR service", "Patients", "Smiths"]);
    assert_eq!(app.open, Some(renamed.clone()));
    assert!(
        dir.path()
            .join("collections/Azure FHIR service/Patients/Smiths.toml")
            .is_file()
    );
    // Move it to the collection root.
    key(&mut app, "m");
    let Some(Overlay::Move { targets, .. }) = &app.overlay else {
        panic!("no move picker")
    };
    assert_eq!(targets[0], path(&["Azure FHIR service"]));
    key(&mut app, "enter");
    assert!(
        dir.path()
            .join("collections/Azure FHIR service/Smiths.toml")
            .is_file()
    );
    assert_eq!(app.open, Some(path(&["Azure FHIR service", "Smiths"])));
    // Delete asks, then removes the file.
    key(&mut app, "d");
    key(&mut app, "y");
    assert!(
        !dir.path()
            .join("collections/Azure FHIR service/Smiths.toml")
            .exists()
    );
    assert_eq!(app.open, None);
}

#[test]
fn palette_jumps_to_a_request_and_switches_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    key(&mut app, "ctrl-p");
    typed(&mut app, "list pat");
    key(&mut app, "enter");
    assert_eq!(
        app.open,
        Some(path(&["Azure FHIR service", "List patients"]))
    );
    assert_eq!(app.focus, Pane::Request);
    // A second environment, chosen from the palette.
    key(&mut app, "1");
    key(&mut app, "a");
    typed(&mut app, "prod");
    key(&mut app, "enter");
    key(&mut app, "ctrl-p");
    typed(&mut app, "use prod");
    key(&mut app, "enter");
    assert_eq!(app.active_env.as_deref(), Some("prod"));
}

#[test]
fn captures_set_session_variables_but_never_write_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    key(&mut app, "j");
    key(&mut app, "enter"); // Get token, with the bearerToken capture
    let cmds = key(&mut app, "ctrl-r");
    let [Command::Worker(WorkerCommand::Send { id, .. })] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    app.update(Msg::Worker(WorkerEvent::Response {
        id: *id,
        result: Ok(response(
            200,
            "application/json",
            r#"{"access_token":"eyJ.secret.token","expires_in":"3599"}"#,
        )),
    }));
    assert_eq!(
        app.session_vars,
        vec![("bearerToken".to_string(), "eyJ.secret.token".to_string())]
    );
    // Editing the environment afterwards must not persist the token.
    app.overlay = Some(Overlay::EnvEditor {
        env: "azure".into(),
        row: 0,
        reveal: false,
    });
    key(&mut app, "space");
    for entry in walk(dir.path()) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(
            !text.contains("eyJ.secret.token"),
            "token written to {}",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
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
fn environment_variable_edits_are_saved_with_secrets_apart() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    key(&mut app, "1");
    key(&mut app, "e");
    // Row 4 is clientsecret.
    for _ in 0..4 {
        key(&mut app, "j");
    }
    key(&mut app, "enter");
    typed(&mut app, "s3cret-value");
    key(&mut app, "enter");
    assert!(matches!(
        app.overlay,
        Some(Overlay::EnvEditor { row: 4, .. })
    ));
    let env_file = std::fs::read_to_string(dir.path().join("environments/azure.toml")).unwrap();
    assert!(!env_file.contains("s3cret-value"));
    let secrets = std::fs::read_to_string(dir.path().join("secrets.toml")).unwrap();
    assert!(secrets.contains("s3cret-value"));
}

#[test]
fn the_environment_token_goes_only_to_its_fhir_service() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    {
        let env = app.ws.environment_mut("azure").unwrap();
        env.set("tenantid", "t");
        env.set("clientid", "c");
        env.set("clientsecret", "s");
        env.set("fhirurl", "https://ws-svc.fhir.azurehealthcareapis.com");
    }
    let spec = crate::workspace::RequestSpec::new("x", "GET", "x");
    let under = app
        .auth_plan(&spec, "https://ws-svc.fhir.azurehealthcareapis.com/Patient")
        .unwrap();
    assert!(under.is_some());
    let token_endpoint = app
        .auth_plan(&spec, "https://login.microsoftonline.com/t/oauth2/token")
        .unwrap();
    assert!(token_endpoint.is_none());
    // A request with its own auth keeps it.
    let mut own = spec.clone();
    own.auth = Some(crate::workspace::RequestAuth::None);
    assert!(
        app.auth_plan(&own, "https://ws-svc.fhir.azurehealthcareapis.com/Patient")
            .unwrap()
            .is_none()
    );
    // Missing settings are a sentence, but only for requests to the FHIR service.
    app.ws
        .environment_mut("azure")
        .unwrap()
        .variables
        .retain(|v| v.key != "tenantid");
    let err = app
        .auth_plan(&spec, "https://ws-svc.fhir.azurehealthcareapis.com/Patient")
        .unwrap_err();
    assert!(err.contains("tenantid"), "{err}");
    assert!(
        app.auth_plan(&spec, "https://elsewhere.example/x")
            .unwrap()
            .is_none()
    );
}

#[test]
fn sending_under_the_fhir_base_hands_the_worker_an_auth_plan() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    {
        let env = app.ws.environment_mut("azure").unwrap();
        env.set("tenantid", "t");
        env.set("clientid", "c");
        env.set("clientsecret", "s");
        env.set("fhirurl", "http://fhir.test");
    }
    app.open_request(&path(&["Azure FHIR service", "List patients"]));
    // {{bearerToken}} is empty, but the worker fills it in: no "unresolved" question.
    let cmds = app.apply(Action::Send);
    let [
        Command::Worker(WorkerCommand::Send {
            auth: Some(plan), ..
        }),
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(plan.env, "azure");
    assert_eq!(plan.auth.token_variable, "bearerToken");
}

#[test]
fn an_export_answered_202_becomes_a_watched_saved_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    app.ws.environment_mut("azure").unwrap().auth = None;
    app.open_request(&path(&["Azure FHIR service", "Export"]));
    let cmds = app.apply(Action::Send);
    let [Command::Worker(WorkerCommand::Send { id, .. })] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let mut answer = response(202, "text/plain", "");
    answer.response.headers.push((
        "Content-Location".into(),
        "http://fhir.test/_operations/export/7".into(),
    ));
    answer.response.final_url = "http://fhir.test/$export?_container=export".into();
    let cmds = app.update(Msg::Worker(WorkerEvent::Response {
        id: *id,
        result: Ok(answer),
    }));
    let [Command::Worker(WorkerCommand::WatchJob { job, .. })] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(job.status_url, "http://fhir.test/_operations/export/7");
    assert_eq!(job.params.container.as_deref(), Some("export"));
    assert_eq!(app.jobs.len(), 1);
    // Saved in the workspace, and resumed by a new session.
    let saved: Vec<_> = std::fs::read_dir(dir.path().join("jobs"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(saved.len(), 1);
    let again = seeded_app(dir.path());
    assert!(matches!(
        again.resume_jobs().as_slice(),
        [Command::Worker(WorkerCommand::WatchJob { .. })]
    ));
}

#[test]
fn the_export_form_starts_an_export_with_the_chosen_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    key(&mut app, "J");
    key(&mut app, "n");
    assert!(matches!(app.overlay, Some(Overlay::ExportForm(_))));
    // Scope: a group, with its id.
    key(&mut app, "space");
    key(&mut app, "space");
    app.update(Msg::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)));
    typed(&mut app, "demo-cohort");
    // Down to the first type (Patient) and pick it.
    for _ in 0..5 {
        app.update(Msg::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)));
    }
    key(&mut app, "space");
    let cmds = key(&mut app, "ctrl-r");
    let [Command::Worker(WorkerCommand::StartExport { base, params, .. })] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(base, "http://fhir.test");
    assert_eq!(
        params.scope,
        crate::worker::export::ExportScope::Group("demo-cohort".into())
    );
    assert_eq!(params.types, vec!["Patient"]);
}

#[test]
fn a_create_whose_body_does_not_match_the_url_asks_first_and_if_match_comes_from_the_etag() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    app.ws.environment_mut("azure").unwrap().auth = None;
    app.session_vars.push(("bearerToken".into(), "t".into()));
    let p = path(&["Azure FHIR service", "Create patient"]);
    app.open_request(&p);
    app.open_editor_mut().unwrap().draft.body.text = r#"{"resourceType":"Observation"}"#.into();
    let cmds = app.apply(Action::Send);
    assert!(cmds.is_empty());
    let Some(Overlay::Confirm { message, .. }) = &app.overlay else {
        panic!("no question")
    };
    assert!(
        message.contains("Observation") && message.contains("Patient"),
        "{message}"
    );
    app.overlay = None;
    // A correct body goes straight out; its ETag then feeds If-Match.
    app.open_editor_mut().unwrap().draft.body.text = r#"{"resourceType":"Patient"}"#.into();
    let cmds = app.apply(Action::Send);
    let [Command::Worker(WorkerCommand::Send { id, .. })] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let mut answer = response(
        201,
        "application/fhir+json",
        r#"{"resourceType":"Patient","id":"1"}"#,
    );
    answer
        .response
        .headers
        .push(("ETag".into(), "W/\"1\"".into()));
    app.update(Msg::Worker(WorkerEvent::Response {
        id: *id,
        result: Ok(answer),
    }));
    app.apply(Action::IfMatch);
    let ed = app.open_editor().unwrap();
    assert!(
        ed.draft
            .headers
            .iter()
            .any(|h| h.key == "If-Match" && h.value == "W/\"1\"")
    );
}

#[test]
fn capabilities_complete_the_url_and_flag_unknown_search_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    app.ws.environment_mut("azure").unwrap().auth = None;
    app.session_vars.push(("bearerToken".into(), "t".into()));
    let statement = serde_json::json!({
        "resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
        "rest": [{"mode": "server", "resource": [
            {"type": "Patient", "interaction": [{"code": "search-type"}],
             "searchParam": [{"name": "family", "type": "string"}, {"name": "birthdate", "type": "date"}]},
            {"type": "Observation", "searchParam": [{"name": "patient", "type": "reference"}]}
        ]}]
    });
    let caps = crate::fhir::Capabilities::parse(&statement).unwrap();
    app.capabilities.insert(
        "azure".into(),
        super::capabilities::CapsState::Ready(Box::new(caps)),
    );
    app.open_request(&path(&["Azure FHIR service", "List patients"]));
    key(&mut app, "3");
    key(&mut app, "u");
    typed(&mut app, "?fa");
    key(&mut app, "tab");
    let url = app
        .open_editor()
        .unwrap()
        .url
        .as_ref()
        .unwrap()
        .lines()
        .join("");
    assert_eq!(url, "{{fhirurl}}/Patient?family=");
    typed(&mut app, "smith&colour=blue");
    key(&mut app, "enter");
    let cmds = app.apply(Action::Send);
    assert!(cmds.is_empty());
    let Some(Overlay::Confirm { message, .. }) = &app.overlay else {
        panic!("no question")
    };
    assert!(
        message.contains("colour") && !message.contains("family"),
        "{message}"
    );
}
