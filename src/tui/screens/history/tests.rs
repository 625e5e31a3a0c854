//! The history screen driven by keys against the workspace's real history file and the real
//! history actor (the rig feeds its answers back): the list and its filter, an entry, a diff,
//! re-send, save as a request, copy as curl, clear; and snapshots of them.

use super::{History, Mode};
use crate::history::{Exchange, HistoryStore, Outcome, Source};
use crate::tui::screens::dialogs::confirm::Confirm;
use crate::tui::screens::dialogs::prompt::Prompt;
use crate::tui::screens::{Pane, Screen};
use crate::tui::testing::{Rig, path, received};
use crate::worker::WorkerCommand;

pub(crate) const PATIENTS: &str = "Azure FHIR service / List patients";

/// A seeded workspace with history on and `http://fhir.test` as the FHIR base.
pub(crate) fn history_rig(dir: &std::path::Path) -> Rig {
    let mut rig = Rig::seeded(dir).with_history();
    rig.set_fhirurl("azure", "http://fhir.test");
    rig
}

/// An answered exchange of the `azure` environment, its token already redacted.
pub(crate) fn exchange(
    method: &str,
    url: &str,
    status: u16,
    body: &str,
    saved: Option<&str>,
) -> Exchange {
    Exchange {
        at_ms: crate::history::now_ms(),
        source: Source::Request,
        env: Some("azure".into()),
        saved: saved.map(str::to_string),
        method: method.into(),
        url: url.into(),
        request_headers: vec![
            ("Accept".into(), "application/fhir+json".into()),
            ("Authorization".into(), "Bearer <redacted>".into()),
        ],
        request_body: None,
        outcome: Outcome::Answered {
            status,
            reason: "OK".into(),
            headers: vec![("Content-Type".into(), "application/fhir+json".into())],
            elapsed_ms: 5,
            size: body.len() as u64,
            body: body.as_bytes().to_vec(),
            truncated: false,
        },
    }
}

/// Two answers of the saved "List patients" (#1, #3) around a 404 of another URL (#2).
pub(crate) fn seed_three(rig: &mut Rig) {
    rig.record(exchange(
        "GET",
        "http://fhir.test/Patient",
        200,
        r#"{"resourceType":"Bundle","total":1}"#,
        Some(PATIENTS),
    ));
    rig.record(exchange("GET", "http://fhir.test/Nope", 404, "{}", None));
    rig.record(exchange(
        "GET",
        "http://fhir.test/Patient",
        200,
        r#"{"resourceType":"Bundle","total":2}"#,
        Some(PATIENTS),
    ));
}

fn screen(rig: &Rig) -> &History {
    rig.app.history.as_ref().expect("the history screen")
}

fn showing(rig: &Rig) -> bool {
    rig.app.screen == Some(Screen::History) && !rig.dialog_open()
}

/// Entries and bytes in the history file, read apart from the actor.
fn usage(dir: &std::path::Path) -> (u64, u64) {
    let file = dir.join(crate::history::HISTORY_FILE);
    HistoryStore::open(&file, Default::default())
        .unwrap()
        .usage()
        .unwrap()
}

fn typed_with_spaces(rig: &mut Rig, text: &str) {
    for c in text.chars() {
        let name = if c == ' ' {
            "space".to_string()
        } else {
            c.to_string()
        };
        rig.key(&name);
    }
}

#[test]
fn a_sent_request_is_recorded_with_its_environment_saved_name_and_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    rig.app
        .model
        .ws
        .environment_mut("azure")
        .unwrap()
        .set("clientsecret", "s3cr3t-value");
    rig.app
        .model
        .session_vars
        .push(("bearerToken".into(), "eyJcaptured".into()));
    rig.keys(&["j", "j", "enter"]);
    let cmds = rig.key("ctrl-r");
    let [WorkerCommand::Send { record, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let meta = record.as_ref().expect("recorded");
    assert_eq!(meta.source, Some(Source::Request));
    assert_eq!(meta.env.as_deref(), Some("azure"));
    assert_eq!(
        meta.saved.as_deref(),
        Some("Azure FHIR service / Capability statement")
    );
    assert!(meta.secrets.contains(&"s3cr3t-value".to_string()));
    assert!(meta.secrets.contains(&"eyJcaptured".to_string()));
    // History off: nothing is recorded.
    rig.app.model.history.enabled = false;
    let cmds = rig.key("ctrl-r");
    assert!(
        matches!(
            cmds.as_slice(),
            [.., WorkerCommand::Send { record: None, .. }]
        ),
        "{cmds:?}"
    );
}

#[test]
fn the_list_is_newest_first_and_the_filter_narrows_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    rig.key("H");
    assert!(showing(&rig));
    let ids: Vec<_> = screen(&rig).rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![3, 2, 1]);
    assert_eq!(rig.app.model.history.usage.0, 3);
    rig.key("/");
    rig.typed("4xx");
    assert_eq!(screen(&rig).rows.len(), 1);
    assert_eq!(screen(&rig).rows[0].status, Some(404));
    rig.key("enter");
    assert!(!screen(&rig).editing_filter);
    // A filter it cannot read is explained, and the list stays as it was.
    rig.key("/");
    typed_with_spaces(&mut rig, " since:soon");
    let error = &screen(&rig).filter_error;
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("'soon' is not a time")),
        "{error:?}"
    );
}

#[test]
fn an_entry_opens_in_the_body_viewer_and_two_answers_compare() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    rig.keys(&["H", "enter"]);
    let Mode::Detail {
        loaded: Some(l), ..
    } = &screen(&rig).mode
    else {
        panic!("not loaded")
    };
    let crate::tui::screens::response::Outcome::Received { body, .. } = &l.view.outcome else {
        panic!()
    };
    assert_eq!(body.pretty.line(2), "  \"total\": 2");
    // d: against the previous answer of the same saved request (#1, skipping #2).
    rig.key("d");
    let Mode::Diff { old, new, diff, .. } = &screen(&rig).mode else {
        panic!("no diff")
    };
    assert_eq!((*old, *new), (1, 3));
    let d = diff.as_ref().expect("diff answered");
    assert_eq!((d.removed, d.added), (1, 1));
    rig.key("esc");
    // m marks #2; d on #3 compares with it.
    rig.keys(&["j", "m"]);
    assert_eq!(screen(&rig).mark, Some(2));
    rig.keys(&["k", "d"]);
    assert!(matches!(
        screen(&rig).mode,
        Mode::Diff { old: 2, new: 3, .. }
    ));
}

#[test]
fn re_send_goes_out_again_without_the_old_credential_and_is_recorded_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    rig.key("H");
    let cmds = rig.key("r");
    let [
        WorkerCommand::Send {
            id,
            request,
            record,
            ..
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(request.method, "GET");
    assert_eq!(request.url, "http://fhir.test/Patient");
    assert!(
        !request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization")),
        "{:?}",
        request.headers
    );
    assert!(request.headers.iter().any(|(k, _)| k == "Accept"));
    let meta = record.as_ref().unwrap();
    assert_eq!(meta.source, Some(Source::Resend));
    assert_eq!(meta.saved.as_deref(), Some(PATIENTS));
    // The answer (the worker records it first): the list comes back, newest first.
    rig.record(exchange(
        "GET",
        "http://fhir.test/Patient",
        200,
        "{}",
        Some(PATIENTS),
    ));
    rig.answer(*id, received(200, "application/fhir+json", "{}"));
    assert!(matches!(screen(&rig).mode, Mode::List));
    assert_eq!(screen(&rig).rows[0].id, 4);
    assert!(rig.status().contains("Sent again: 200"), "{}", rig.status());
}

#[test]
fn a_request_that_lost_a_secret_to_redaction_is_not_re_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    rig.record(exchange(
        "GET",
        "http://fhir.test/Patient?access_token=<redacted>",
        200,
        "{}",
        None,
    ));
    rig.key("H");
    let cmds = rig.key("r");
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(rig.status().contains("secrets removed"), "{}", rig.status());
}

#[test]
fn an_entry_saved_as_a_request_gets_its_variables_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    rig.keys(&["H", "j", "s"]);
    let prompt = rig
        .top::<Prompt>()
        .unwrap_or_else(|| panic!("no prompt: {}", rig.status()));
    assert_eq!(prompt.text(), "GET Nope");
    rig.key("esc");
    assert!(showing(&rig), "back to the entry");
    rig.keys(&["s", "enter"]);
    let saved = path(&["Azure FHIR service", "GET Nope"]);
    let req = rig
        .app
        .model
        .ws
        .request(&saved)
        .unwrap_or_else(|| panic!("not saved: {} {}", rig.status(), rig.dialog_open()));
    assert_eq!(req.spec.url, "{{fhirurl}}/Nope");
    assert!(
        !req.spec
            .headers
            .iter()
            .any(|kv| kv.key.eq_ignore_ascii_case("authorization"))
    );
    assert_eq!(rig.app.model.open, Some(saved));
}

#[test]
fn y_copies_the_recorded_request_as_curl_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    rig.keys(&["H", "y"]);
    let [text] = rig.host.copied.as_slice() else {
        panic!("{:?}", rig.host.copied)
    };
    assert!(text.starts_with("curl"), "{text}");
    assert!(text.contains("http://fhir.test/Patient"), "{text}");
    assert!(text.contains("Authorization: <redacted>"), "{text}");
}

#[test]
fn clearing_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    rig.keys(&["H", "D"]);
    assert!(rig.top::<Confirm>().is_some());
    rig.key("n");
    assert!(showing(&rig), "back to the list");
    assert_eq!(usage(dir.path()).0, 3);
    rig.keys(&["D", "y"]);
    assert_eq!(usage(dir.path()).0, 0);
    assert!(screen(&rig).rows.is_empty());
    assert!(showing(&rig));
}

#[test]
fn p_lists_the_open_requests_earlier_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    rig.open(&path(&["Azure FHIR service", "List patients"]));
    rig.app.focus = Pane::Response;
    rig.key("p");
    assert_eq!(screen(&rig).saved.as_deref(), Some(PATIENTS));
    let ids: Vec<_> = screen(&rig).rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![3, 1]);
    // x shows every request again.
    rig.key("x");
    assert_eq!(screen(&rig).rows.len(), 3);
}

// ----- snapshots ----------------------------------------------------------------------------

/// The screen as text with times and dates masked: they are local, and the machine's time
/// zone and the clock must not change the snapshot.
fn render(rig: &mut Rig, w: u16, h: u16) -> String {
    let text = rig.draw(w, h);
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let time = i + 8 <= b.len()
            && b[i..i + 8].iter().enumerate().all(|(k, c)| {
                if k == 2 || k == 5 {
                    *c == b':'
                } else {
                    c.is_ascii_digit()
                }
            });
        let date = i + 10 <= b.len()
            && b[i..i + 10].iter().enumerate().all(|(k, c)| {
                if k == 4 || k == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if time {
            out.push_str("hh:mm:ss");
            i += 8;
        } else if date {
            out.push_str("yyyy-mm-dd");
            i += 10;
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[test]
fn history_list_with_a_mark_at_120x35_and_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    rig.keys(&["H", "j", "m"]);
    rig.app.model.status = None;
    insta::assert_snapshot!("history_list_120x35", render(&mut rig, 120, 35));
    insta::assert_snapshot!("history_list_80x24", render(&mut rig, 80, 24));
}

#[test]
fn history_entry_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    seed_three(&mut rig);
    rig.keys(&["H", "enter"]);
    rig.app.model.status = None;
    insta::assert_snapshot!("history_entry_80x24", render(&mut rig, 80, 24));
    rig.key("d");
    insta::assert_snapshot!("history_diff_120x35", render(&mut rig, 120, 35));
}

#[test]
fn close_in_an_entry_steps_out_of_an_opened_record_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = history_rig(dir.path());
    let mut ex = exchange(
        "GET",
        "http://fhir.test/export/Patient-1.ndjson",
        200,
        "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n{\"resourceType\":\"Patient\",\"id\":\"p2\"}\n",
        None,
    );
    if let Outcome::Answered { headers, .. } = &mut ex.outcome {
        *headers = vec![("Content-Type".into(), "application/fhir+ndjson".into())];
    }
    rig.record(ex);
    rig.keys(&["H", "enter"]);
    rig.key("enter");
    assert_eq!(
        rig.status(),
        "} and { step through the records; Esc goes back to the list."
    );
    let entry_open = |rig: &Rig| matches!(screen(rig).mode, super::Mode::Detail { .. });
    rig.key("esc");
    assert!(entry_open(&rig), "Esc left the record, not the entry");
    rig.key("esc");
    assert!(!entry_open(&rig), "a second Esc goes back to the list");
}
