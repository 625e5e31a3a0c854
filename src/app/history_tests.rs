//! The history screen and session restore, driven by keys against a real (in-memory) history
//! store: the actor's answers are computed with the same function the actor uses.

use super::tests::{key, path, response, seeded_app, set_fhirurl, typed};
use super::*;
use crate::history::{Exchange, HistoryStore, Limits, Outcome, Source};
use crate::worker::history::answer;
use crate::worker::{WorkerCommand, WorkerEvent};

pub(crate) struct Harness {
    pub(crate) app: App,
    pub(crate) store: HistoryStore,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut app = seeded_app(dir.path());
        set_fhirurl(&mut app, "http://fhir.test");
        app.history_enabled = true;
        Self {
            app,
            store: HistoryStore::in_memory(Limits::default()).unwrap(),
            _dir: dir,
        }
    }

    /// Runs history calls against the store until none are left; returns the other commands.
    pub(crate) fn run(&mut self, mut cmds: Vec<Command>) -> Vec<Command> {
        let mut rest = Vec::new();
        while !cmds.is_empty() {
            let mut next = Vec::new();
            for c in cmds {
                match c {
                    Command::History(call) => {
                        let ev = answer(&mut self.store, call);
                        next.extend(self.app.update(Msg::Worker(WorkerEvent::History(ev))));
                    }
                    other => rest.push(other),
                }
            }
            cmds = next;
        }
        rest
    }

    pub(crate) fn key(&mut self, name: &str) -> Vec<Command> {
        let cmds = key(&mut self.app, name);
        self.run(cmds)
    }

    pub(crate) fn record(
        &mut self,
        method: &str,
        url: &str,
        status: u16,
        body: &str,
        saved: Option<&str>,
    ) {
        self.store
            .record(&Exchange {
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
            })
            .unwrap();
    }

    fn view(&self) -> &history::HistoryView {
        self.app.history_view.as_deref().expect("history view")
    }
}

const PATIENTS: &str = "Azure FHIR service / List patients";

pub(crate) fn seed_three(h: &mut Harness) {
    h.record(
        "GET",
        "http://fhir.test/Patient",
        200,
        r#"{"resourceType":"Bundle","total":1}"#,
        Some(PATIENTS),
    );
    h.record("GET", "http://fhir.test/Nope", 404, "{}", None);
    h.record(
        "GET",
        "http://fhir.test/Patient",
        200,
        r#"{"resourceType":"Bundle","total":2}"#,
        Some(PATIENTS),
    );
}

#[test]
fn a_sent_request_is_recorded_with_its_environment_saved_name_and_secrets() {
    let mut h = Harness::new();
    h.app
        .ws
        .environment_mut("azure")
        .unwrap()
        .set("clientsecret", "s3cr3t-value");
    h.app
        .session_vars
        .push(("bearerToken".into(), "eyJcaptured".into()));
    key(&mut h.app, "j");
    key(&mut h.app, "j");
    key(&mut h.app, "enter");
    let cmds = key(&mut h.app, "ctrl-r");
    let [Command::Worker(WorkerCommand::Send { record, .. })] = cmds.as_slice() else {
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
    h.app.history_enabled = false;
    let cmds = key(&mut h.app, "ctrl-r");
    assert!(
        matches!(
            cmds.as_slice(),
            [
                ..,
                Command::Worker(WorkerCommand::Send { record: None, .. })
            ]
        ),
        "{cmds:?}"
    );
}

#[test]
fn the_list_is_newest_first_and_the_filter_narrows_it() {
    let mut h = Harness::new();
    seed_three(&mut h);
    h.key("H");
    assert!(matches!(h.app.overlay, Some(Overlay::History)));
    let urls: Vec<_> = h.view().rows.iter().map(|r| r.id).collect();
    assert_eq!(urls, vec![3, 2, 1]);
    assert_eq!(h.app.history_usage.0, 3);
    h.key("/");
    for c in "4xx".chars() {
        h.key(&c.to_string());
    }
    assert_eq!(h.view().rows.len(), 1);
    assert_eq!(h.view().rows[0].status, Some(404));
    h.key("enter");
    assert!(!h.view().editing_filter);
    // A filter it cannot read is explained, and the list stays as it was.
    h.key("/");
    typed_history(&mut h, " since:soon");
    assert!(
        h.view()
            .filter_error
            .as_deref()
            .is_some_and(|e| e.contains("'soon' is not a time")),
        "{:?}",
        h.view().filter_error
    );
}

fn typed_history(h: &mut Harness, text: &str) {
    for c in text.chars() {
        let name = if c == ' ' {
            "space".to_string()
        } else {
            c.to_string()
        };
        h.key(&name);
    }
}

#[test]
fn an_entry_opens_in_the_body_viewer_and_two_answers_compare() {
    let mut h = Harness::new();
    seed_three(&mut h);
    h.key("H");
    h.key("enter");
    let history::HistoryMode::Detail {
        loaded: Some(l), ..
    } = &h.view().mode
    else {
        panic!("not loaded")
    };
    let super::response::Outcome::Received { body, .. } = &l.view.outcome else {
        panic!()
    };
    assert_eq!(body.pretty.line(2), "  \"total\": 2");
    // d: against the previous answer of the same saved request (#1, skipping #2).
    h.key("d");
    let history::HistoryMode::Diff { old, new, diff, .. } = &h.view().mode else {
        panic!("no diff")
    };
    assert_eq!((*old, *new), (1, 3));
    let d = diff.as_ref().expect("diff answered");
    assert_eq!((d.removed, d.added), (1, 1));
    h.key("esc");
    // m marks #2; d on #3 compares with it.
    h.key("j");
    h.key("m");
    assert_eq!(h.view().mark, Some(2));
    h.key("k");
    h.key("d");
    assert!(matches!(
        h.view().mode,
        history::HistoryMode::Diff { old: 2, new: 3, .. }
    ));
}

#[test]
fn re_send_goes_out_again_without_the_old_credential_and_is_recorded_as_such() {
    let mut h = Harness::new();
    seed_three(&mut h);
    h.key("H");
    let cmds = h.key("r");
    let [
        Command::Worker(WorkerCommand::Send {
            id,
            request,
            record,
            ..
        }),
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
    // The answer: the list comes back, newest first.
    h.record("GET", "http://fhir.test/Patient", 200, "{}", Some(PATIENTS));
    let cmds = h.app.update(Msg::Worker(WorkerEvent::Response {
        id: *id,
        result: Ok(response(200, "application/fhir+json", "{}")),
    }));
    h.run(cmds);
    assert!(matches!(h.view().mode, history::HistoryMode::List));
    assert_eq!(h.view().rows[0].id, 4);
    assert!(
        h.app
            .status
            .as_ref()
            .is_some_and(|s| s.text.contains("Sent again: 200")),
        "{:?}",
        h.app.status
    );
}

#[test]
fn a_request_that_lost_a_secret_to_redaction_is_not_re_sent() {
    let mut h = Harness::new();
    h.record(
        "GET",
        "http://fhir.test/Patient?access_token=<redacted>",
        200,
        "{}",
        None,
    );
    h.key("H");
    let cmds = h.key("r");
    assert!(cmds.is_empty(), "{cmds:?}");
    let status = h.app.status.as_ref().unwrap();
    assert!(status.text.contains("secrets removed"), "{}", status.text);
}

#[test]
fn an_entry_saved_as_a_request_gets_its_variables_back() {
    let mut h = Harness::new();
    seed_three(&mut h);
    h.key("H");
    h.key("j");
    h.key("s");
    let Some(Overlay::Prompt { input, .. }) = &h.app.overlay else {
        panic!("no prompt: {:?}", h.app.status)
    };
    assert_eq!(input.lines().join(""), "GET Nope");
    h.key("esc");
    assert!(
        matches!(h.app.overlay, Some(Overlay::History)),
        "back to the entry"
    );
    h.key("s");
    h.key("enter");
    let saved = path(&["Azure FHIR service", "GET Nope"]);
    let req = h.app.ws.request(&saved).unwrap_or_else(|| {
        panic!(
            "not saved: {:?} {:?}",
            h.app.status,
            h.app.overlay.is_some()
        )
    });
    assert_eq!(req.spec.url, "{{fhirurl}}/Nope");
    assert!(
        !req.spec
            .headers
            .iter()
            .any(|kv| kv.key.eq_ignore_ascii_case("authorization"))
    );
    assert_eq!(h.app.open, Some(saved));
}

#[test]
fn y_copies_the_recorded_request_as_curl_without_credentials() {
    let mut h = Harness::new();
    seed_three(&mut h);
    h.key("H");
    let cmds = h.key("y");
    let [Command::Copy(text)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert!(text.starts_with("curl"), "{text}");
    assert!(text.contains("http://fhir.test/Patient"), "{text}");
    assert!(text.contains("Authorization: <redacted>"), "{text}");
}

#[test]
fn clearing_asks_first() {
    let mut h = Harness::new();
    seed_three(&mut h);
    h.key("H");
    h.key("D");
    assert!(matches!(h.app.overlay, Some(Overlay::Confirm { .. })));
    h.key("n");
    assert!(
        matches!(h.app.overlay, Some(Overlay::History)),
        "back to the list"
    );
    assert_eq!(h.store.usage().unwrap().0, 3);
    h.key("D");
    h.key("y");
    assert_eq!(h.store.usage().unwrap().0, 0);
    assert!(h.view().rows.is_empty());
    assert!(matches!(h.app.overlay, Some(Overlay::History)));
}

#[test]
fn p_lists_the_open_requests_earlier_answers() {
    let mut h = Harness::new();
    seed_three(&mut h);
    let p = path(&["Azure FHIR service", "List patients"]);
    h.app.open_request(&p);
    h.app.focus = Pane::Response;
    h.key("p");
    assert_eq!(h.view().saved.as_deref(), Some(PATIENTS));
    let ids: Vec<_> = h.view().rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![3, 1]);
    // x shows every request again.
    h.key("x");
    assert_eq!(h.view().rows.len(), 3);
}

#[test]
fn the_session_comes_back_with_its_response_from_history() {
    let mut h = Harness::new();
    seed_three(&mut h);
    let p = path(&["Azure FHIR service", "List patients"]);
    h.app.open_request(&p);
    let cmds = {
        // An answer on screen, the cursor on its fourth line.
        let r = *response(200, "application/fhir+json", r#"{"a":1,"b":2,"c":3}"#);
        let mut view = super::response::ResponseView::new(
            "GET x".into(),
            super::response::Outcome::Received {
                response: Box::new(r.response),
                body: Box::new(r.body),
            },
            Vec::new(),
        );
        view.goto_line(3);
        h.app.responses.insert(p.clone(), view);
        h.app.focus = Pane::Response;
        h.app.save_session();
        Vec::<Command>::new()
    };
    h.run(cmds);
    assert!(h.app.store.root().join(session::SESSION_FILE).exists());

    // A new start in the same workspace.
    let (store, ws, problems) = crate::workspace::Store::load(h.app.store.root());
    let mut app = App::new(store, ws, problems, None);
    app.history_enabled = true;
    h.app = app;
    let cmds = h.app.restore_session(false);
    assert_eq!(h.app.open, Some(p.clone()));
    assert_eq!(h.app.focus, Pane::Response);
    h.run(cmds);
    let view = h.app.responses.get(&p).expect("restored from history");
    assert!(view.restored);
    assert_eq!(view.line_count(), 4);
    assert_eq!(view.pane().map(|p| p.cursor_line()), Some(3));
}

#[test]
fn a_broken_session_file_is_reported_and_never_written_over() {
    let mut h = Harness::new();
    let file = h.app.store.root().join(session::SESSION_FILE);
    std::fs::write(&file, "focus = \n").unwrap();
    let cmds = h.app.restore_session(false);
    assert!(cmds.is_empty());
    assert!(
        h.app
            .status
            .as_ref()
            .is_some_and(|s| s.text.contains(".session.toml:1:")),
        "{:?}",
        h.app.status
    );
    h.app.focus = Pane::Request;
    h.app.save_session();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "focus = \n");
    let _ = typed;
}

#[test]
fn the_browser_comes_back_with_its_lookup_or_page() {
    let mut h = Harness::new();
    h.key("f");
    for c in "smith".chars() {
        h.key(&c.to_string());
    }
    h.app.save_session();
    let text = std::fs::read_to_string(h.app.store.root().join(session::SESSION_FILE)).unwrap();
    assert!(text.contains("lookup = \"smith\""), "{text}");

    let restart = |h: &mut Harness| -> Vec<Command> {
        let (store, ws, problems) = crate::workspace::Store::load(h.app.store.root());
        h.app = App::new(store, ws, problems, None);
        set_fhirurl(&mut h.app, "http://fhir.test");
        h.app.restore_session(false)
    };
    let cmds = restart(&mut h);
    assert!(h.app.browsing);
    let sent: Vec<String> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Worker(WorkerCommand::Send { request, .. }) => Some(request.url.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1, "{cmds:?}");
    assert!(sent[0].starts_with("http://fhir.test/Patient?"), "{sent:?}");
    assert!(sent[0].contains("smith"), "{sent:?}");

    // A page rather than a lookup: fetched again.
    h.app.browser = None;
    h.app.browsing = false;
    let cmds = h.app.browse_to("http://fhir.test/Patient/7".into());
    drop(cmds);
    h.app.save_session();
    let cmds = restart(&mut h);
    assert!(
        cmds.iter().any(|c| matches!(c, Command::Worker(WorkerCommand::Send { request, .. }) if request.url == "http://fhir.test/Patient/7")),
        "{cmds:?}"
    );
}
