//! The Response pane's body view through keys and worker events: folding, filters, NDJSON
//! records, a large body arriving in two steps. No terminal, no network.

use super::view::SubKind;
use super::{ResponseTab, ResponseView};
use crate::tui::model::StatusKind;
use crate::tui::screens::Pane;
use crate::tui::screens::dialogs::prompt::Prompt;
use crate::tui::testing::{Rig, path as node, received};
use crate::worker::{WorkerCommand, WorkerEvent};
use crate::workspace::NodePath;

fn path() -> NodePath {
    node(&["Azure FHIR service", "Capability statement"])
}

/// A rig whose open request got `body` back, with the Response pane focused.
fn answered(dir: &std::path::Path, content_type: &str, body: &str) -> Rig {
    let mut rig = Rig::seeded(dir);
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.open(&path());
    let id = rig.send();
    rig.answer(id, received(200, content_type, body));
    if let Some(v) = rig.app.response.responses.get_mut(&path()) {
        v.received_at = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00+00:00")
            .unwrap()
            .with_timezone(&chrono::Local);
    }
    rig.app.focus = Pane::Response;
    rig.app.model.status = None;
    rig
}

fn view(rig: &Rig) -> &ResponseView {
    rig.app.response.responses.get(&path()).unwrap()
}

fn render(rig: &mut Rig, w: u16, h: u16) -> String {
    let text = rig.draw(w, h);
    // The receive time depends on the machine's time zone.
    let time = view(rig).received_at.format("%H:%M:%S").to_string();
    text.lines()
        .map(|l| match l.find(" ms · ") {
            Some(_) => l.replace(&time, "HH:MM:SS"),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn backspaces(rig: &mut Rig, n: usize) {
    for _ in 0..n {
        rig.key("backspace");
    }
}

/// Runs the filter command the way the worker would, and delivers its result.
fn run_filter_command(rig: &mut Rig, cmds: Vec<WorkerCommand>) {
    let [WorkerCommand::Filter(job)] = <[WorkerCommand; 1]>::try_from(cmds).unwrap() else {
        panic!("expected a filter command")
    };
    let (id, generation) = (job.id, job.generation);
    let result = job.run();
    rig.worker_event(WorkerEvent::Filtered {
        id,
        generation,
        result,
    });
}

const BUNDLE: &str = r#"{"resourceType":"Bundle","type":"searchset","total":3,"entry":[{"fullUrl":"http://fhir.test/Patient/a","resource":{"resourceType":"Patient","id":"a","name":[{"family":"Kirk"}]}},{"fullUrl":"http://fhir.test/Patient/b","resource":{"resourceType":"Patient","id":"b","name":[{"family":"Spock"}]}},{"fullUrl":"http://fhir.test/Observation/o","resource":{"resourceType":"Observation","id":"o","status":"final"}}]}"#;

#[test]
fn folding_with_keys_and_a_snapshot_of_the_folded_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = answered(dir.path(), "application/fhir+json", BUNDLE);
    // Z 2 folds every entry.
    rig.key("Z");
    assert!(rig.status().contains("Fold at which depth"));
    rig.key("2");
    assert_eq!(rig.status(), "3 blocks folded at depth 2.");
    assert_eq!(view(&rig).pretty.fold_count(), 3);
    let screen = render(&mut rig, 100, 24);
    assert!(screen.contains("{ … 2 keys },"), "{screen}");
    insta::assert_snapshot!(screen);
    // z on a folded entry opens it; z inside it folds it again.
    rig.key("G");
    rig.key("k");
    rig.key("k");
    let line = view(&rig).pretty.cursor_line();
    assert!(view(&rig).pretty.is_folded_header(line));
    rig.key("z");
    assert_eq!(view(&rig).pretty.fold_count(), 2);
    rig.key("j");
    rig.key("z");
    assert_eq!(view(&rig).pretty.fold_count(), 3);
    // Z 0 unfolds all; a key other than a digit cancels.
    rig.key("Z");
    rig.key("0");
    assert_eq!(view(&rig).pretty.fold_count(), 0);
    rig.key("Z");
    rig.key("x");
    assert!(rig.status().contains("cancelled"));
    assert!(!view(&rig).awaiting_depth);
}

#[test]
fn search_and_goto_open_folds() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = answered(dir.path(), "application/fhir+json", BUNDLE);
    rig.key("Z");
    rig.key("1");
    assert_eq!(view(&rig).pretty.fold_count(), 1, "the entry array");
    rig.key("/");
    rig.typed("spock");
    rig.key("enter");
    assert_eq!(rig.status(), "'spock': match 1 of 1");
    let pane = &view(&rig).pretty;
    assert!(pane.text.line(pane.cursor_line()).contains("Spock"));
    assert_eq!(pane.fold_count(), 0);
    rig.key("Z");
    rig.key("1");
    rig.key(":");
    rig.typed("12");
    rig.key("enter");
    assert_eq!(view(&rig).pretty.cursor_line(), 11);
}

#[test]
fn search_moves_to_the_match_while_typing() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = answered(dir.path(), "application/fhir+json", BUNDLE);
    rig.key("/");
    rig.typed("spo");
    // Before Enter: the cursor is on the match and the count is said.
    assert!(rig.top::<Prompt>().is_some());
    assert_eq!(rig.status(), "'spo': match 1 of 1");
    let pane = &view(&rig).pretty;
    assert!(pane.text.line(pane.cursor_line()).contains("Spock"));
    rig.typed("x");
    assert_eq!(rig.status(), "No match for 'spox'.");
    rig.key("enter");
    assert!(!rig.dialog_open());
}

#[test]
fn filter_shows_a_labelled_view_and_esc_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = answered(dir.path(), "application/fhir+json", BUNDLE);
    rig.key("F");
    rig.typed(".entry[].resource.id");
    let cmds = rig.key("enter");
    assert!(rig.app.busy(), "a running filter animates");
    assert!(view(&rig).filtering.is_some());
    let screen = render(&mut rig, 100, 24);
    assert!(
        screen.contains("filtering with '.entry[].resource.id'"),
        "{screen}"
    );
    run_filter_command(&mut rig, cmds);
    let v = view(&rig);
    let sub = v.sub.as_ref().expect("a filter view");
    assert_eq!(sub.kind, SubKind::Filter(".entry[].resource.id".into()));
    assert_eq!(sub.label, "filter: .entry[].resource.id · 3 results");
    assert_eq!(sub.pane.text.text(), "\"a\"\n\"b\"\n\"o\"");
    let screen = render(&mut rig, 160, 24);
    assert!(
        screen.contains("filter: .entry[].resource.id · 3 results · Esc back"),
        "{screen}"
    );
    // Moving and searching work inside the filter view.
    rig.key("j");
    assert_eq!(view(&rig).sub.as_ref().unwrap().pane.cursor_line(), 1);
    // Esc: back to the whole body.
    rig.key("esc");
    assert!(view(&rig).sub.is_none());
    assert_eq!(view(&rig).tab, ResponseTab::Body);
    // A shortcut, offered the last expression again.
    rig.key("F");
    let prompt = rig.top::<Prompt>().expect("no prompt");
    assert_eq!(prompt.text(), ".entry[].resource.id");
    rig.app.dialogs.clear();
    let cmds = rig.key("F");
    assert!(cmds.is_empty());
    backspaces(&mut rig, 25);
    rig.typed("types");
    let cmds = rig.key("enter");
    run_filter_command(&mut rig, cmds);
    assert_eq!(
        view(&rig).sub.as_ref().unwrap().pane.text.text(),
        "{\n  \"Observation\": 1,\n  \"Patient\": 2\n}"
    );
}

#[test]
fn filter_errors_are_sentences_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = answered(dir.path(), "application/fhir+json", BUNDLE);
    rig.key("F");
    rig.typed(".entry[");
    let cmds = rig.key("enter");
    run_filter_command(&mut rig, cmds);
    let v = view(&rig);
    assert!(v.sub.is_none());
    let err = v.filter_error.clone().unwrap();
    assert!(
        err.starts_with("The filter is not valid jq: expected"),
        "{err}"
    );
    assert_eq!(
        rig.app.model.status.as_ref().unwrap().kind,
        StatusKind::Error
    );
    let screen = render(&mut rig, 120, 24);
    assert!(screen.contains("The filter is not valid jq"), "{screen}");
    rig.key("esc");
    assert!(view(&rig).filter_error.is_none());
    // A stale result (a newer filter was started) is dropped.
    rig.key("F");
    backspaces(&mut rig, 10);
    rig.typed(".type");
    let first = rig.key("enter");
    rig.key("F");
    backspaces(&mut rig, 10);
    rig.typed(".total");
    let second = rig.key("enter");
    run_filter_command(&mut rig, first);
    assert!(
        view(&rig).sub.is_none(),
        "the older filter's answer is ignored"
    );
    run_filter_command(&mut rig, second);
    assert_eq!(view(&rig).sub.as_ref().unwrap().pane.text.text(), "3");
}

const NDJSON: &str = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n{\"resourceType\":\"Patient\",\"id\":\"p2\",\"active\":true}\n{\"resourceType\":\"Observation\",\"id\":\"o3\"}\n";

#[test]
fn ndjson_records_are_lines_and_open_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = answered(dir.path(), "application/fhir+ndjson", NDJSON);
    assert_eq!(view(&rig).record_position().unwrap(), "record 1 of 3");
    rig.key("}");
    assert_eq!(view(&rig).record_position().unwrap(), "record 2 of 3");
    let screen = render(&mut rig, 100, 24);
    assert!(screen.contains("record 2 of 3"), "{screen}");
    rig.key("enter");
    let v = view(&rig);
    let sub = v.sub.as_ref().expect("the record view");
    assert_eq!(sub.kind, SubKind::Record(1));
    assert_eq!(sub.pane.text.line(3), "  \"active\": true");
    rig.key("}");
    assert_eq!(view(&rig).record_position().unwrap(), "record 3 of 3");
    assert!(
        view(&rig)
            .sub
            .as_ref()
            .unwrap()
            .pane
            .text
            .text()
            .contains("\"o3\"")
    );
    rig.key("}");
    assert_eq!(
        view(&rig).record_position().unwrap(),
        "record 3 of 3",
        "stays at the last"
    );
    rig.key("{");
    rig.key("{");
    assert_eq!(view(&rig).record_position().unwrap(), "record 1 of 3");
    rig.key("esc");
    assert!(view(&rig).sub.is_none());
    assert_eq!(
        view(&rig).pretty.cursor_line(),
        0,
        "the list is at the record last seen"
    );
    // A filter runs on each record.
    rig.key("F");
    rig.typed(".id");
    let cmds = rig.key("enter");
    run_filter_command(&mut rig, cmds);
    assert_eq!(
        view(&rig).sub.as_ref().unwrap().pane.text.text(),
        "\"p1\"\n\"p2\"\n\"o3\""
    );
}

#[test]
fn record_keys_explain_themselves_on_other_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = answered(dir.path(), "application/fhir+json", BUNDLE);
    rig.key("}");
    assert!(rig.status().contains("NDJSON"));
}

#[test]
fn a_large_body_arrives_as_a_preview_then_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let big = crate::view_body::generate_searchset(2_000);
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.open(&path());
    let id = rig.send();
    let mut answer = received(200, "application/fhir+json", "{}");
    answer.response.body = big.clone().into_bytes().into();
    answer.body = crate::worker::body::prepare_for_view(&answer.response);
    let finish = answer.body.take_finish().expect("a second step");
    rig.answer(id, answer);
    rig.app.focus = Pane::Response;
    assert!(view(&rig).preparing().is_some());
    assert!(rig.app.busy(), "progress animates");
    let screen = render(&mut rig, 120, 30);
    assert!(screen.contains("preparing the whole body"), "{screen}");
    // Keys work on the preview meanwhile.
    rig.keys(&["j", "j", "/"]);
    rig.typed("pat-1\"");
    rig.key("enter");
    let before = view(&rig).pretty.cursor_line();
    let full = finish.run().unwrap();
    let lines = full.pretty.line_count();
    rig.worker_event(WorkerEvent::BodyReady {
        id,
        body: Box::new(full),
    });
    let v = view(&rig);
    assert!(v.preparing().is_none());
    assert_eq!(v.pretty.text.line_count(), lines);
    assert_eq!(v.pretty.cursor_line(), before, "the place is kept");
    assert!(!rig.app.busy());
    let screen = render(&mut rig, 120, 30);
    assert!(!screen.contains("preparing"), "{screen}");
    rig.key("G");
    assert_eq!(view(&rig).pretty.cursor_line(), lines - 1);
}

#[test]
fn a_body_arriving_shows_bytes_received() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.open(&path());
    let id = rig.send();
    // The worker reports what it receives as events; the pane shows the latest.
    rig.worker_event(WorkerEvent::Receiving {
        id,
        received: 100 * 1024 * 1024,
        total: Some(400 * 1024 * 1024),
        spooling: true,
    });
    let screen = rig.draw(160, 30);
    assert!(
        screen.contains("received 100.0 MiB of 400.0 MiB  █████░░░░░░░░░░░░░░░   25%"),
        "{screen}"
    );
    assert!(screen.contains("into a temporary file"), "{screen}");
    // Once it is answered, the progress is gone.
    rig.answer(id, received(200, "text/plain", "done"));
    let screen = rig.draw(160, 30);
    assert!(!screen.contains("received"), "{screen}");
}

/// A created resource's answer carries a long `Location` and Azure's request id: at 80 and 120
/// columns the id is shown whole (support tickets need every character) and the Location and
/// request line give way instead of pushing it off the pane's edge.
#[test]
fn the_request_id_is_never_cut_by_the_pane_edge() {
    let id = "8c5e0b1f-6d2a-4c8e-9f3b-2a7d5e1c9b40";
    for width in [80u16, 120, 160] {
        let dir = tempfile::tempdir().unwrap();
        let mut rig = Rig::seeded(dir.path());
        rig.set_fhirurl("azure", "http://fhir.test");
        rig.open(&path());
        let sent = rig.send();
        let mut answer = received(
            201,
            "application/fhir+json",
            r#"{"resourceType":"Patient"}"#,
        );
        answer.response.headers.extend([
            ("x-request-id".to_string(), id.to_string()),
            (
                "location".to_string(),
                format!("http://fhir.test/Patient/{}/_history/1", "a".repeat(64)),
            ),
            ("etag".to_string(), "W/\"1\"".to_string()),
        ]);
        rig.answer(sent, answer);
        rig.app.focus = Pane::Response;
        let screen = rig.draw(width, 30);
        assert!(
            screen.lines().any(|l| l.contains(id)),
            "at {width} columns the request id is cut:\n{screen}"
        );
    }
}

/// A server that escapes non-ASCII (`M\u00fcller`, as Python, Java and .NET ones do): the Body
/// tab shows `Müller`, `/Müller` finds it, `u` shows the string as received, and the Raw tab is
/// always as received.
#[test]
fn escaped_names_are_shown_decoded_and_found_by_either_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"{"resourceType":"Patient","name":[{"family":"M\u00fcller","given":["Zo\u00EB"]}],"note":"\u001b[31m"}"#;
    let mut rig = answered(dir.path(), "application/fhir+json", body);
    let screen = rig.draw(120, 35);
    assert!(screen.contains("\"Müller\""), "{screen}");
    assert!(screen.contains("\"Zoë\""), "{screen}");
    // A control character stays an escape.
    assert!(screen.contains("\\u001b[31m"), "{screen}");
    rig.key("/");
    rig.typed("Müller");
    rig.key("enter");
    assert_eq!(rig.status(), "'Müller': match 1 of 1");
    rig.key("/");
    rig.key("ctrl-u");
    rig.typed("m\\u00FCller");
    rig.key("enter");
    assert_eq!(rig.status(), "'m\\u00FCller': match 1 of 1");
    rig.key("u");
    assert!(rig.status().contains("as received"), "{}", rig.status());
    let screen = rig.draw(120, 35);
    assert!(screen.contains("M\\u00fcller"), "{screen}");
    assert!(!screen.contains("Müller"), "{screen}");
    rig.key("u");
    assert!(rig.draw(120, 35).contains("Müller"));
}

/// The seed's Export answers 202 with a `Content-Location`: the pane says it is watched as a job
/// and shows the whole status URL, wrapped, at 80 columns (it was cut at the pane's edge).
#[test]
fn an_accepted_export_shows_its_whole_status_url() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = answered(dir.path(), "application/fhir+json", "{}");
    let url = "http://fhir.test/_operations/export/4f1c2a4e-9b3d-4c8e-a1f0-2b7d5e1c9b40";
    if let Some(v) = rig.app.response.responses.get_mut(&path()) {
        v.job = Some(url.into());
    }
    let screen = rig.draw(80, 24);
    assert!(screen.contains("watched as a job"), "{screen}");
    let joined: String = screen
        .lines()
        .map(|l| l.trim_matches(|c| c == '┃' || c == '│' || c == ' '))
        .collect();
    assert!(joined.contains(url), "{screen}");
}

/// A lenient server's searchset: the pane says which sent parameters its `self` link dropped,
/// and the clamp warning inside; from a `strict = true` environment only the server's note.
#[test]
fn a_searchset_says_what_the_server_ignored_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.open(&path());
    let body = r#"{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"http://fhir.test/Patient?gender=female&_count=1000"}],"entry":[{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational","diagnostics":"The '_count' parameter exceeds limit configured for server. Current limit is 1000 while `_count` parameter set to 5000."}]},"search":{"mode":"outcome"}}]}"#;
    let answer = |rig: &mut Rig| {
        let id = rig.send();
        let mut r = received(200, "application/fhir+json", body);
        r.response.final_url = "http://fhir.test/Patient?gender=female&foo=1&_count=5000".into();
        // As the worker reads it, for the URL it was sent to.
        r.search = crate::fhir::handling::SearchNotes::of(&r.response.body, &r.response.final_url);
        rig.answer(id, r);
        rig.app.focus = Pane::Response;
        rig.draw(140, 30)
    };
    let screen = answer(&mut rig);
    let note = view(&rig).search_note.clone().unwrap_or_default();
    assert!(
        note.contains("the server ignored: foo — set strict = true to be told"),
        "{note}"
    );
    assert!(note.contains("server note: information: The '_count' parameter exceeds"));
    assert!(screen.contains("server note: information"), "{screen}");
    if let Some(e) = rig.app.model.ws.environment_mut("azure") {
        e.strict = true;
    }
    answer(&mut rig);
    let note = view(&rig).search_note.clone().unwrap_or_default();
    assert!(!note.contains("ignored"), "{note}");
    assert!(note.contains("server note:"), "{note}");
}

#[test]
fn the_top_of_a_large_body_shows_while_the_rest_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.open(&path());
    let id = rig.send();
    let body = crate::view_body::generate_observations(2_000);
    let head = crate::worker::body::head_preview(&body.as_bytes()[..64 * 1024]).unwrap();
    rig.worker_event(WorkerEvent::BodyHead {
        id,
        head: Box::new(head),
    });
    rig.worker_event(WorkerEvent::Receiving {
        id,
        received: 1024 * 1024,
        total: Some(4 * 1024 * 1024),
        spooling: false,
    });
    let screen = rig.draw(120, 30);
    assert!(screen.contains("received 1.0 MiB of 4.0 MiB"), "{screen}");
    assert!(screen.contains("   1 {"), "{screen}");
    assert!(
        screen.contains("   2   \"resourceType\": \"Bundle\","),
        "{screen}"
    );
    // Once it is answered, the whole body replaces the head.
    rig.answer(id, received(200, "application/json", r#"{"a":1}"#));
    let screen = rig.draw(120, 30);
    assert!(!screen.contains("Bundle"), "{screen}");
    assert!(screen.contains("\"a\": 1"), "{screen}");
}

/// The sentences name the keys of keys.toml: with `cancel` moved to Ctrl-G and the record keys
/// to Alt-N / Alt-P, the record, filter and search messages say so, and Ctrl-G does go back.
#[test]
fn messages_name_the_remapped_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(crate::tui::keys::file::KEYS_FILE),
        "[response]\ncancel = \"ctrl-g\"\nnext_record = \"alt-n\"\nprev_record = \"alt-p\"\n",
    )
    .unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.app.init_keys(None);
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.open(&path());
    let id = rig.send();
    let screen = render_plain(&mut rig);
    assert!(screen.contains("Ctrl-G cancels"), "{screen}");
    rig.answer(id, received(200, "application/fhir+ndjson", NDJSON));
    rig.app.focus = Pane::Response;
    rig.key("enter");
    assert_eq!(
        rig.status(),
        "Alt-N and Alt-P step through the records; Ctrl-G goes back to the list."
    );
    assert!(render_plain(&mut rig).contains("record 1 of 3 · Ctrl-G back"));
    rig.key("ctrl-g");
    assert!(view(&rig).sub.is_none(), "Ctrl-G went back to the list");
    rig.key("F");
    rig.typed(".id");
    let cmds = rig.key("enter");
    run_filter_command(&mut rig, cmds);
    assert!(
        rig.status()
            .ends_with("Ctrl-G goes back to the whole body."),
        "{}",
        rig.status()
    );
    rig.key("ctrl-g");
    rig.key("N");
    assert_eq!(rig.status(), "No search yet: / searches the body.");
}

fn render_plain(rig: &mut Rig) -> String {
    rig.draw(160, 24)
}

/// `o` opens the answer in the browser without a refetch; its JSON is read by the worker, not
/// at the key press (the page shows as loading until then).
#[test]
fn o_reads_the_answer_for_the_browser_off_the_ui_thread() {
    use crate::tui::screens::Screen;
    use crate::tui::screens::browser::PageContent;
    let dir = tempfile::tempdir().unwrap();
    let mut rig = answered(dir.path(), "application/fhir+json", BUNDLE);
    let cmds = rig.key("o");
    assert_eq!(rig.app.screen, Some(Screen::Browser));
    assert!(matches!(browser_page(&rig).content, PageContent::Loading));
    let [WorkerCommand::ReadPage { id, mut received }] =
        <[WorkerCommand; 1]>::try_from(cmds).expect("one command")
    else {
        panic!("expected the answer to be read by the worker")
    };
    assert!(
        received.fhir.is_none(),
        "nothing was parsed at the key press"
    );
    received.fhir = Some(Box::new(crate::fhir::page::FhirPage::read(
        &received.response.body,
        &received.response.final_url,
        chrono::Local::now().date_naive(),
    )));
    rig.worker_event(WorkerEvent::Response {
        id,
        result: Ok(received),
    });
    let PageContent::Loaded(l) = &browser_page(&rig).content else {
        panic!("the page did not load")
    };
    assert_eq!(l.bundle.as_ref().map(|b| b.entries.len()), Some(3));
}

fn browser_page(rig: &Rig) -> &crate::tui::screens::browser::Page {
    &rig.app.browser.pages[rig.app.browser.pos]
}
