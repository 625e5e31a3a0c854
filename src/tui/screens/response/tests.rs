//! The Response pane's body view through keys and worker events: folding, filters, NDJSON
//! records, a large body arriving in two steps. No terminal, no network.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::response::{ResponseTab, SubKind};
use super::tests::{response, seeded_app};
use super::*;
use crate::worker::{WorkerCommand, WorkerEvent};
use crate::workspace::NodePath;

fn press(app: &mut App, name: &str) -> Vec<Command> {
    let ev = match name {
        "enter" => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
        "esc" => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        s => {
            let c = s.chars().next().unwrap();
            let m = if c.is_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            KeyEvent::new(KeyCode::Char(c), m)
        }
    };
    app.update(Msg::Key(ev))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, &c.to_string());
    }
}

fn path() -> NodePath {
    NodePath(vec![
        "Azure FHIR service".into(),
        "Capability statement".into(),
    ])
}

/// An app whose open request got `body` back, with the Response pane focused.
fn answered(dir: &std::path::Path, content_type: &str, body: &str) -> App {
    let mut app = seeded_app(dir);
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    app.open_request(&path());
    let cmds = app.apply(Action::Send);
    let Some(Command::Worker(WorkerCommand::Send { id, .. })) = cmds.into_iter().next() else {
        panic!("no send")
    };
    app.update(Msg::Worker(WorkerEvent::Response {
        id,
        result: Ok(response(200, content_type, body)),
    }));
    if let Some(v) = app.responses.get_mut(&path()) {
        v.received_at = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00+00:00")
            .unwrap()
            .with_timezone(&chrono::Local);
    }
    app.focus = Pane::Response;
    app.status = None;
    app
}

fn view(app: &App) -> &super::response::ResponseView {
    app.responses.get(&path()).unwrap()
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| crate::ui::draw(f, app, &crate::tui::style::Theme::dark()))
        .unwrap();
    let text = format!("{}", terminal.backend());
    // The receive time depends on the machine's time zone.
    text.lines()
        .map(|l| match l.find(" ms · ") {
            Some(_) => l.replace(
                &view(app).received_at.format("%H:%M:%S").to_string(),
                "HH:MM:SS",
            ),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn status(app: &App) -> String {
    app.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

/// Runs the filter command the way the worker would, and delivers its result.
fn run_filter_command(app: &mut App, cmds: Vec<Command>) {
    let [Command::Worker(WorkerCommand::Filter(job))] = <[Command; 1]>::try_from(cmds).unwrap()
    else {
        panic!("expected a filter command")
    };
    let (id, generation) = (job.id, job.generation);
    let result = job.run();
    app.update(Msg::Worker(WorkerEvent::Filtered {
        id,
        generation,
        result,
    }));
}

const BUNDLE: &str = r#"{"resourceType":"Bundle","type":"searchset","total":3,"entry":[{"fullUrl":"http://fhir.test/Patient/a","resource":{"resourceType":"Patient","id":"a","name":[{"family":"Kirk"}]}},{"fullUrl":"http://fhir.test/Patient/b","resource":{"resourceType":"Patient","id":"b","name":[{"family":"Spock"}]}},{"fullUrl":"http://fhir.test/Observation/o","resource":{"resourceType":"Observation","id":"o","status":"final"}}]}"#;

#[test]
fn folding_with_keys_and_a_snapshot_of_the_folded_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = answered(dir.path(), "application/fhir+json", BUNDLE);
    // Z 2 folds every entry.
    press(&mut app, "Z");
    assert!(status(&app).contains("Fold at which depth"));
    press(&mut app, "2");
    assert_eq!(status(&app), "3 blocks folded at depth 2.");
    assert_eq!(view(&app).pretty.fold_count(), 3);
    let screen = render(&mut app, 100, 24);
    assert!(screen.contains("{ … 2 keys },"), "{screen}");
    insta::assert_snapshot!(screen);
    // z on a folded entry opens it; z inside it folds it again.
    press(&mut app, "G");
    press(&mut app, "k");
    press(&mut app, "k");
    let line = view(&app).pretty.cursor_line();
    assert!(view(&app).pretty.is_folded_header(line));
    press(&mut app, "z");
    assert_eq!(view(&app).pretty.fold_count(), 2);
    press(&mut app, "j");
    press(&mut app, "z");
    assert_eq!(view(&app).pretty.fold_count(), 3);
    // Z 0 unfolds all; a key other than a digit cancels.
    press(&mut app, "Z");
    press(&mut app, "0");
    assert_eq!(view(&app).pretty.fold_count(), 0);
    press(&mut app, "Z");
    press(&mut app, "x");
    assert!(status(&app).contains("cancelled"));
    assert!(!view(&app).awaiting_depth);
}

#[test]
fn search_and_goto_open_folds() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = answered(dir.path(), "application/fhir+json", BUNDLE);
    press(&mut app, "Z");
    press(&mut app, "1");
    assert_eq!(view(&app).pretty.fold_count(), 1, "the entry array");
    press(&mut app, "/");
    typed(&mut app, "spock");
    press(&mut app, "enter");
    assert_eq!(status(&app), "'spock': match 1 of 1");
    let pane = &view(&app).pretty;
    assert!(pane.text.line(pane.cursor_line()).contains("Spock"));
    assert_eq!(pane.fold_count(), 0);
    press(&mut app, "Z");
    press(&mut app, "1");
    press(&mut app, ":");
    typed(&mut app, "12");
    press(&mut app, "enter");
    assert_eq!(view(&app).pretty.cursor_line(), 11);
}

#[test]
fn search_moves_to_the_match_while_typing() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = answered(dir.path(), "application/fhir+json", BUNDLE);
    press(&mut app, "/");
    typed(&mut app, "spo");
    // Before Enter: the cursor is on the match and the count is said.
    assert!(matches!(app.overlay, Some(Overlay::Prompt { .. })));
    assert_eq!(status(&app), "'spo': match 1 of 1");
    let pane = &view(&app).pretty;
    assert!(pane.text.line(pane.cursor_line()).contains("Spock"));
    typed(&mut app, "x");
    assert_eq!(status(&app), "No match for 'spox'.");
    press(&mut app, "enter");
    assert!(app.overlay.is_none());
}

#[test]
fn filter_shows_a_labelled_view_and_esc_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = answered(dir.path(), "application/fhir+json", BUNDLE);
    press(&mut app, "F");
    typed(&mut app, ".entry[].resource.id");
    let cmds = press(&mut app, "enter");
    assert!(app.busy(), "a running filter animates");
    assert!(view(&app).filtering.is_some());
    let screen = render(&mut app, 100, 24);
    assert!(
        screen.contains("filtering with '.entry[].resource.id'"),
        "{screen}"
    );
    run_filter_command(&mut app, cmds);
    let v = view(&app);
    let sub = v.sub.as_ref().expect("a filter view");
    assert_eq!(sub.kind, SubKind::Filter(".entry[].resource.id".into()));
    assert_eq!(sub.label, "filter: .entry[].resource.id · 3 results");
    assert_eq!(sub.pane.text.text(), "\"a\"\n\"b\"\n\"o\"");
    let screen = render(&mut app, 160, 24);
    assert!(
        screen.contains("filter: .entry[].resource.id · 3 results · Esc back"),
        "{screen}"
    );
    // Moving and searching work inside the filter view.
    press(&mut app, "j");
    assert_eq!(view(&app).sub.as_ref().unwrap().pane.cursor_line(), 1);
    // Esc: back to the whole body.
    press(&mut app, "esc");
    assert!(view(&app).sub.is_none());
    assert_eq!(view(&app).tab, ResponseTab::Body);
    // A shortcut, offered the last expression again.
    press(&mut app, "F");
    let Some(Overlay::Prompt { input, .. }) = &app.overlay else {
        panic!("no prompt")
    };
    assert_eq!(input.lines().join(""), ".entry[].resource.id");
    app.overlay = None;
    let cmds = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('F'),
        KeyModifiers::SHIFT,
    )));
    assert!(cmds.is_empty());
    for _ in 0..25 {
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Backspace,
            KeyModifiers::NONE,
        )));
    }
    typed(&mut app, "types");
    let cmds = press(&mut app, "enter");
    run_filter_command(&mut app, cmds);
    assert_eq!(
        view(&app).sub.as_ref().unwrap().pane.text.text(),
        "{\n  \"Observation\": 1,\n  \"Patient\": 2\n}"
    );
}

#[test]
fn filter_errors_are_sentences_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = answered(dir.path(), "application/fhir+json", BUNDLE);
    press(&mut app, "F");
    typed(&mut app, ".entry[");
    let cmds = press(&mut app, "enter");
    run_filter_command(&mut app, cmds);
    let v = view(&app);
    assert!(v.sub.is_none());
    let err = v.filter_error.clone().unwrap();
    assert!(
        err.starts_with("The filter is not valid jq: expected"),
        "{err}"
    );
    assert_eq!(app.status.as_ref().unwrap().kind, StatusKind::Error);
    let screen = render(&mut app, 120, 24);
    assert!(screen.contains("The filter is not valid jq"), "{screen}");
    press(&mut app, "esc");
    assert!(view(&app).filter_error.is_none());
    // A stale result (a newer filter was started) is dropped.
    press(&mut app, "F");
    for _ in 0..10 {
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Backspace,
            KeyModifiers::NONE,
        )));
    }
    typed(&mut app, ".type");
    let first = press(&mut app, "enter");
    press(&mut app, "F");
    for _ in 0..10 {
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Backspace,
            KeyModifiers::NONE,
        )));
    }
    typed(&mut app, ".total");
    let second = press(&mut app, "enter");
    run_filter_command(&mut app, first);
    assert!(
        view(&app).sub.is_none(),
        "the older filter's answer is ignored"
    );
    run_filter_command(&mut app, second);
    assert_eq!(view(&app).sub.as_ref().unwrap().pane.text.text(), "3");
}

const NDJSON: &str = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n{\"resourceType\":\"Patient\",\"id\":\"p2\",\"active\":true}\n{\"resourceType\":\"Observation\",\"id\":\"o3\"}\n";

#[test]
fn ndjson_records_are_lines_and_open_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = answered(dir.path(), "application/fhir+ndjson", NDJSON);
    assert_eq!(view(&app).record_position().unwrap(), "record 1 of 3");
    press(&mut app, "}");
    assert_eq!(view(&app).record_position().unwrap(), "record 2 of 3");
    let screen = render(&mut app, 100, 24);
    assert!(screen.contains("record 2 of 3"), "{screen}");
    press(&mut app, "enter");
    let v = view(&app);
    let sub = v.sub.as_ref().expect("the record view");
    assert_eq!(sub.kind, SubKind::Record(1));
    assert_eq!(sub.pane.text.line(3), "  \"active\": true");
    press(&mut app, "}");
    assert_eq!(view(&app).record_position().unwrap(), "record 3 of 3");
    assert!(
        view(&app)
            .sub
            .as_ref()
            .unwrap()
            .pane
            .text
            .text()
            .contains("\"o3\"")
    );
    press(&mut app, "}");
    assert_eq!(
        view(&app).record_position().unwrap(),
        "record 3 of 3",
        "stays at the last"
    );
    press(&mut app, "{");
    press(&mut app, "{");
    assert_eq!(view(&app).record_position().unwrap(), "record 1 of 3");
    press(&mut app, "esc");
    assert!(view(&app).sub.is_none());
    assert_eq!(
        view(&app).pretty.cursor_line(),
        0,
        "the list is at the record last seen"
    );
    // A filter runs on each record.
    press(&mut app, "F");
    typed(&mut app, ".id");
    let cmds = press(&mut app, "enter");
    run_filter_command(&mut app, cmds);
    assert_eq!(
        view(&app).sub.as_ref().unwrap().pane.text.text(),
        "\"p1\"\n\"p2\"\n\"o3\""
    );
}

#[test]
fn record_keys_explain_themselves_on_other_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = answered(dir.path(), "application/fhir+json", BUNDLE);
    press(&mut app, "}");
    assert!(status(&app).contains("NDJSON"));
}

#[test]
fn a_large_body_arrives_as_a_preview_then_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let big = crate::view_body::generate_searchset(2_000);
    let mut app = seeded_app(dir.path());
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    app.open_request(&path());
    let cmds = app.apply(Action::Send);
    let Some(Command::Worker(WorkerCommand::Send { id, .. })) = cmds.into_iter().next() else {
        panic!()
    };
    let mut received = response(200, "application/fhir+json", "{}");
    received.response.body = big.clone().into_bytes().into();
    received.body = crate::worker::body::prepare_for_view(&received.response);
    let finish = received.body.take_finish().expect("a second step");
    app.update(Msg::Worker(WorkerEvent::Response {
        id,
        result: Ok(received),
    }));
    app.focus = Pane::Response;
    assert!(view(&app).preparing().is_some());
    assert!(app.busy(), "progress animates");
    let screen = render(&mut app, 120, 30);
    assert!(screen.contains("preparing the whole body"), "{screen}");
    // Keys work on the preview meanwhile.
    press(&mut app, "j");
    press(&mut app, "j");
    press(&mut app, "/");
    typed(&mut app, "pat-1\"");
    press(&mut app, "enter");
    let before = view(&app).pretty.cursor_line();
    let full = finish.run().unwrap();
    let lines = full.pretty.line_count();
    app.update(Msg::Worker(WorkerEvent::BodyReady {
        id,
        body: Box::new(full),
    }));
    let v = view(&app);
    assert!(v.preparing().is_none());
    assert_eq!(v.pretty.text.line_count(), lines);
    assert_eq!(v.pretty.cursor_line(), before, "the place is kept");
    assert!(!app.busy());
    let screen = render(&mut app, 120, 30);
    assert!(!screen.contains("preparing"), "{screen}");
    press(&mut app, "G");
    assert_eq!(view(&app).pretty.cursor_line(), lines - 1);
}

#[test]
fn a_body_arriving_shows_bytes_received() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    app.open_request(&path());
    let cmds = app.apply(Action::Send);
    let Some(Command::Worker(WorkerCommand::Send { id, .. })) = cmds.into_iter().next() else {
        panic!()
    };
    // The worker registers the progress of what it receives; the pane reads it.
    let id = crate::worker::RequestId(id.0 + 7_000_000);
    let flight = app.in_flight.drain().next().map(|(_, f)| f).unwrap();
    app.in_flight.insert(id, flight);
    let progress = crate::worker::spool::register(id);
    progress.set_total(Some(400 * 1024 * 1024));
    progress.add(100 * 1024 * 1024);
    progress.set_spooling();
    let screen = render(&mut app, 160, 30);
    assert!(
        screen.contains("received 100.0 MB of 400.0 MB  █████░░░░░░░░░░░░░░░   25%"),
        "{screen}"
    );
    assert!(screen.contains("into a temporary file"), "{screen}");
    crate::worker::spool::unregister(id);
    let screen = render(&mut app, 160, 30);
    assert!(!screen.contains("received"), "{screen}");
}
