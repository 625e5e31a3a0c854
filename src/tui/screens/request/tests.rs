//! The Request pane through keys: the questions asked before sending, editing the URL, saving,
//! the sign-in plan handed to the worker, completion from the server's capabilities; and a
//! snapshot of the body editor with a JSON error.

use super::EditorTab;
use crate::tui::model::CapsState;
use crate::tui::screens::Pane;
use crate::tui::screens::dialogs::confirm::Confirm;
use crate::tui::testing::{Rig, path};
use crate::worker::WorkerCommand;

#[test]
fn unresolved_variables_ask_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.keys(&["j", "enter"]); // Get token: uses {{tenantid}} which the template leaves empty…
    // …empty counts as set; remove the variable so it is really unresolved.
    rig.app
        .model
        .ws
        .environment_mut("azure")
        .unwrap()
        .variables
        .retain(|v| v.key != "tenantid");
    assert!(rig.key("ctrl-r").is_empty());
    let message = &rig.top::<Confirm>().expect("no confirm").message;
    assert!(message.contains("{{tenantid}}"), "{message}");
    let cmds = rig.key("y");
    assert!(
        matches!(cmds.as_slice(), [WorkerCommand::Send { .. }]),
        "{cmds:?}"
    );
}

#[test]
fn editing_the_url_moves_query_into_the_table_and_save_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.keys(&["j", "j", "enter", "3", "u"]);
    rig.typed("?_summary=true");
    rig.key("enter");
    let ed = rig.editor().unwrap();
    assert_eq!(ed.draft.url, "{{fhirurl}}/metadata");
    assert_eq!(ed.draft.query[0].key, "_summary");
    assert!(ed.dirty());
    rig.key("ctrl-s");
    assert!(!rig.editor().unwrap().dirty());
    let text = std::fs::read_to_string(
        dir.path()
            .join("collections/Azure FHIR service/Capability statement.toml"),
    )
    .unwrap();
    assert!(text.contains("_summary"), "{text}");
}

#[test]
fn sending_under_the_fhir_base_hands_the_worker_an_auth_plan() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_client_credentials("azure", "http://fhir.test");
    rig.open(&path(&["Azure FHIR service", "List patients"]));
    // {{bearerToken}} is empty, but the worker fills it in: no "unresolved" question.
    let cmds = rig.key("ctrl-r");
    let [
        WorkerCommand::Send {
            auth: Some(plan), ..
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(plan.env, "azure");
    assert_eq!(plan.auth.token_variable, "bearerToken");
}

#[test]
fn capabilities_complete_the_url_and_flag_unknown_search_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_token_by_hand("azure", "http://fhir.test");
    let statement = serde_json::json!({
        "resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
        "rest": [{"mode": "server", "resource": [
            {"type": "Patient", "interaction": [{"code": "search-type"}],
             "searchParam": [{"name": "family", "type": "string"}, {"name": "birthdate", "type": "date"}]},
            {"type": "Observation", "searchParam": [{"name": "patient", "type": "reference"}]}
        ]}]
    });
    let caps = crate::fhir::Capabilities::parse(&statement).unwrap();
    rig.app
        .model
        .capabilities
        .insert("azure".into(), CapsState::Ready(Box::new(caps)));
    rig.open(&path(&["Azure FHIR service", "List patients"]));
    rig.keys(&["3", "u"]);
    rig.typed("?fa");
    rig.key("tab");
    let url = rig.editor().unwrap().url.as_ref().unwrap().text();
    assert_eq!(url, "{{fhirurl}}/Patient?family=");
    rig.typed("smith&colour=blue");
    rig.key("enter");
    assert!(rig.key("ctrl-r").is_empty());
    let message = &rig.top::<Confirm>().expect("no question").message;
    assert!(
        message.contains("colour") && !message.contains("family"),
        "{message}"
    );
}

#[test]
fn request_editor_with_json_error_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.open(&path(&["Azure FHIR service", "Create patient"]));
    rig.app.focus = Pane::Request;
    let ed = rig.editor_mut().unwrap();
    ed.tab = EditorTab::Body;
    ed.draft.body.text = "{\n  \"resourceType\": \"Patient\",\n  \"active\": tru\n}".into();
    insta::assert_snapshot!(rig.draw(80, 24));
}

#[test]
fn doubled_slashes_in_the_path_are_noticed_but_not_in_the_scheme_or_query() {
    use super::send::doubled_slash;
    assert!(doubled_slash("https://x.test//metadata").is_some());
    assert!(doubled_slash("https://x.test/metadata").is_none());
    assert!(doubled_slash("https://x.test/Patient?u=http://a").is_none());
}

/// When signing in fails, the request is not sent without a token; the user is asked once,
/// and a yes sends it (and later requests of the environment) without one.
#[test]
fn a_failed_sign_in_asks_once_before_sending_unsigned() {
    use crate::worker::WorkerEvent;
    use crate::worker::http::HttpError;
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_client_credentials("azure", "http://fhir.test");
    rig.open(&path(&["Azure FHIR service", "List patients"]));
    let cmds = rig.key("ctrl-r");
    let [
        WorkerCommand::Send {
            id,
            auth: Some(plan),
            ..
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert!(
        plan.refuse_unsigned,
        "the TUI must not send unsigned unasked"
    );
    rig.worker_event(WorkerEvent::Response {
        id: *id,
        result: Err(HttpError::SignInFailed(
            "invalid_client (AADSTS7000215).".into(),
        )),
    });
    let message = &rig.top::<Confirm>().expect("asked").message;
    assert!(message.contains("AADSTS7000215"), "{message}");
    let cmds = rig.key("y");
    let [
        WorkerCommand::Send {
            auth: Some(plan), ..
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert!(!plan.refuse_unsigned);
    // Asked once: the next send (which replaces the one in flight) goes as the user chose.
    let cmds = rig.key("ctrl-r");
    let plan = cmds
        .iter()
        .find_map(|c| match c {
            WorkerCommand::Send { auth: Some(p), .. } => Some(p),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{cmds:?}"));
    assert!(!plan.refuse_unsigned);
}

/// An imported `{{vault:NAME}}` (a Postman Vault secret no file holds) is asked for when
/// sending, masked; the value is sent, kept for the session only and redacted as a secret.
#[test]
fn a_vault_reference_is_asked_for_when_sending() {
    use crate::tui::screens::dialogs::prompt::Prompt;
    use crate::workspace::KeyValue;
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_token_by_hand("azure", "http://fhir.test");
    rig.open(&path(&["Azure FHIR service", "List patients"]));
    rig.editor_mut()
        .unwrap()
        .draft
        .headers
        .push(KeyValue::new("X-Api-Key", "{{vault:apikey}}"));
    assert!(rig.key("ctrl-r").is_empty());
    let prompt = rig.top::<Prompt>().expect("asked for the vault secret");
    assert!(prompt.title.contains("apikey"), "{}", prompt.title);
    rig.typed("s3cret");
    assert!(!rig.draw(120, 35).contains("s3cret"), "the value is masked");
    let cmds = rig.key("enter");
    let [WorkerCommand::Send { request, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert!(
        request
            .headers
            .iter()
            .any(|(k, v)| k == "X-Api-Key" && v == "s3cret"),
        "{:?}",
        request.headers
    );
    let flight = rig.app.model.in_flight.values().next().unwrap();
    assert!(flight.secrets.contains(&"s3cret".to_string()));
    // Asked once: the session keeps it (the new send replaces the one in flight).
    let cmds = rig.key("ctrl-r");
    assert!(
        cmds.iter().any(|c| matches!(c, WorkerCommand::Send { .. })),
        "{cmds:?}"
    );
    assert!(rig.top::<Prompt>().is_none());
}
