//! Snapshot tests of the whole screen with ratatui's TestBackend, at the wide and narrow sizes.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::app::tests::{response, seeded_app};
use crate::app::{App, Command, Msg, Pane};
use crate::worker::{WorkerCommand, WorkerEvent};
use crate::workspace::NodePath;

fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| super::draw(f, app, &super::Theme::dark()))
        .unwrap();
    format!("{}", terminal.backend())
}

/// The demo flow's main screen: the capability statement sent and answered.
fn app_with_response(dir: &std::path::Path) -> App {
    let mut app = seeded_app(dir);
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    let path = NodePath(vec![
        "Azure FHIR service".into(),
        "Capability statement".into(),
    ]);
    app.open_request(&path);
    let cmds = app.apply(crate::app::Action::Send);
    let Some(Command::Worker(WorkerCommand::Send { id, .. })) = cmds.into_iter().next() else {
        panic!()
    };
    let body = r#"{"resourceType":"CapabilityStatement","status":"active","date":"2026-11-29","fhirVersion":"4.0.1","format":["application/fhir+json"],"rest":[{"mode":"server","resource":[{"type":"Patient","interaction":[{"code":"read"},{"code":"search-type"}]}]}]}"#;
    app.update(Msg::Worker(WorkerEvent::Response {
        id,
        result: Ok(response(200, "application/fhir+json", body)),
    }));
    if let Some(v) = app.responses.get_mut(&path) {
        v.received_at = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00+00:00")
            .unwrap()
            .with_timezone(&chrono::Local);
    }
    app.status = None;
    app
}

fn strip_clock(s: String) -> String {
    // The local time zone of the machine running the test must not change the snapshot.
    let re_time = |line: &str| -> String {
        match line.find(" ms · ") {
            Some(_) => {
                let mut out = String::new();
                let mut rest = line;
                while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
                    let candidate = &rest[i..];
                    if candidate.len() >= 8
                        && candidate.as_bytes()[2] == b':'
                        && candidate.as_bytes()[5] == b':'
                    {
                        out.push_str(&rest[..i]);
                        out.push_str("HH:MM:SS");
                        rest = &candidate[8..];
                    } else {
                        out.push_str(&rest[..=i]);
                        rest = &rest[i + 1..];
                    }
                }
                out.push_str(rest);
                out
            }
            None => line.to_string(),
        }
    };
    s.lines().map(re_time).collect::<Vec<_>>().join("\n")
}

#[test]
fn main_screen_120x35() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_response(dir.path());
    insta::assert_snapshot!(strip_clock(render(&mut app, 120, 35)));
}

#[test]
fn main_screen_80x24_shows_one_pane_with_tabs() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_response(dir.path());
    app.focus = Pane::Response;
    insta::assert_snapshot!(strip_clock(render(&mut app, 80, 24)));
}

#[test]
fn request_editor_with_json_error_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    let path = NodePath(vec!["Azure FHIR service".into(), "Create patient".into()]);
    app.open_request(&path);
    app.focus = Pane::Request;
    let ed = app.open_editor_mut().unwrap();
    ed.tab = crate::app::EditorTab::Body;
    ed.draft.body.text = "{\n  \"resourceType\": \"Patient\",\n  \"active\": tru\n}".into();
    insta::assert_snapshot!(render(&mut app, 80, 24));
}

#[test]
fn help_overlay_lists_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    app.apply(crate::app::Action::Help);
    let screen = render(&mut app, 120, 35);
    assert!(screen.contains("ctrl-r, f5"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn environment_editor_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("clientsecret", "super-secret-value");
    app.overlay = Some(crate::app::Overlay::EnvEditor {
        env: "azure".into(),
        row: 4,
        reveal: false,
    });
    let screen = render(&mut app, 120, 35);
    assert!(!screen.contains("super-secret-value"));
    insta::assert_snapshot!(screen);
    app.overlay = Some(crate::app::Overlay::EnvEditor {
        env: "azure".into(),
        row: 4,
        reveal: true,
    });
    assert!(render(&mut app, 120, 35).contains("super-secret-value"));
}

/// A token as the demo issues it, decoded in the viewer with its warnings.
#[test]
fn token_viewer_explains_claims_and_warns() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    {
        let env = app.ws.environment_mut("azure").unwrap();
        env.set("tenantid", "t");
        env.set("clientid", "c");
        env.set("clientsecret", "s");
        env.set("fhirurl", "https://ws-svc.fhir.azurehealthcareapis.com");
    }
    let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    // Times far in the future so the snapshot does not depend on today's date; no roles.
    let token = format!(
        "{}.{}.sig",
        enc(r#"{"typ":"JWT","alg":"RS256"}"#),
        enc(
            r#"{"aud":"https://management.azure.com/","iss":"https://sts.windows.net/t/","tid":"t","appid":"c"}"#
        )
    );
    let now = std::time::SystemTime::now();
    app.tokens.insert(
        "azure".into(),
        crate::app::auth::TokenState::Valid(crate::worker::auth::Token {
            access_token: token,
            expires_at: None,
            refresh_token: None,
            obtained_at: now,
        }),
    );
    app.overlay = Some(crate::app::Overlay::TokenViewer {
        env: "azure".into(),
        scroll: 0,
    });
    let screen = render(&mut app, 120, 35);
    assert!(
        screen.contains("aud is https://management.azure.com/"),
        "{screen}"
    );
    assert!(screen.contains("no roles and no scp"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// The jobs screen mid-export: what the server said, no invented percentage.
#[test]
fn jobs_screen_mid_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_jobs(dir.path());
    app.jobs[0].kickoff_url = "http://fhir.test/$export?_type=Patient".into();
    app.overlay = Some(crate::app::Overlay::Jobs { selected: 1 });
    let screen = render(&mut app, 120, 35);
    assert!(screen.contains("42%"), "{screen}");
    assert!(screen.contains("running (no X-Progress)"), "{screen}");
    assert!(screen.contains("429 Too Many Requests"), "{screen}");
    // Times move on: keep only the stable parts in the snapshot.
    let stable: String = screen
        .lines()
        .map(|l| {
            l.chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(stable);
}

fn loaded(status: u16, body: &str) -> Box<crate::app::browser::Loaded> {
    let r = response(status, "application/fhir+json", body);
    Box::new(crate::app::browser::understand(&r))
}

fn browser_with(app: &mut App, url: &str, l: Box<crate::app::browser::Loaded>) {
    use crate::app::browser::{Browser, Page, PageContent};
    app.browser = Some(Browser {
        pages: vec![Page {
            url: url.into(),
            content: PageContent::Loaded(l),
            json_view: false,
            selected: 0,
            pending: None,
        }],
        pos: 0,
        lookup: None,
        requests: Default::default(),
    });
    app.browsing = true;
}

const PATIENTS: &str = r#"{"resourceType":"Bundle","type":"searchset","total":2,
 "link":[{"relation":"next","url":"http://fhir.test/Patient?ct=abc"}],
 "entry":[
  {"fullUrl":"http://fhir.test/Patient/p1","resource":{"resourceType":"Patient","id":"p1","meta":{"lastUpdated":"2024-03-05T10:32:11Z"},
    "name":[{"use":"official","family":"Müller","given":["Zoë","Anne"]},{"use":"nickname","given":["Zo"]}],
    "gender":"female","birthDate":"1901-02-03",
    "identifier":[{"type":{"coding":[{"code":"MR"}],"text":"MRN"},"system":"http://hospital.example.org/mrn","value":"MRN-000123"}],
    "address":[{"line":["1 Main St"],"city":"Springfield","postalCode":"12345","country":"US"}],
    "telecom":[{"system":"phone","value":"+1-555-0100","use":"mobile"}]},
   "search":{"mode":"match"}},
  {"fullUrl":"http://fhir.test/Patient/p2","resource":{"resourceType":"Patient","id":"p2","name":[{"text":"José O'Brien"}],"gender":"male","birthDate":"1950"},
   "search":{"mode":"match"}}]}"#;

#[test]
fn browser_patient_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    browser_with(
        &mut app,
        "http://fhir.test/Patient?name=m",
        loaded(200, PATIENTS),
    );
    let screen = render(&mut app, 120, 20);
    assert!(screen.contains("Zoë Anne Müller"), "{screen}");
    assert!(screen.contains("MRN-000123"), "{screen}");
    // Ages depend on today's date: mask digits in the age columns only by masking all digits.
    let masked: String = screen
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect();
    insta::assert_snapshot!(masked);
}

#[test]
fn browser_patient_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    let patient = serde_json::json!(
        serde_json::from_str::<serde_json::Value>(PATIENTS).unwrap()["entry"][0]["resource"]
    )
    .to_string();
    browser_with(
        &mut app,
        "http://fhir.test/Patient/p1",
        loaded(200, &patient),
    );
    let screen = render(&mut app, 120, 20);
    assert!(screen.contains("o observations"), "{screen}");
    let masked: String = screen
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect();
    insta::assert_snapshot!(masked);
}

#[test]
fn browser_operation_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    let oo = r#"{"resourceType":"OperationOutcome","issue":[
      {"severity":"error","code":"invalid","diagnostics":"The search parameter 'colour' is not supported for resource type 'Patient'.","expression":["Patient.colour"]},
      {"severity":"warning","code":"informational","diagnostics":"_count was clamped to 1000."}]}"#;
    browser_with(
        &mut app,
        "http://fhir.test/Patient?colour=blue",
        loaded(400, oo),
    );
    let screen = render(&mut app, 120, 20);
    assert!(screen.contains("error"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// A click focuses the pane under it (wide), or the tab under it (narrow).
#[test]
fn clicks_focus_panes_and_tabs() {
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
    let mut app = seeded_app(dir.path());
    render(&mut app, 120, 35);
    app.update(click(100, 30));
    assert_eq!(app.focus, Pane::Response);
    app.update(click(5, 1));
    assert_eq!(app.focus, Pane::Environments);
    let screen = render(&mut app, 80, 24);
    let col = screen.lines().next().unwrap().find("3 Request").unwrap() as u16;
    app.update(click(col, 0));
    assert_eq!(app.focus, Pane::Request);
}

// ----- the larger screen (160x48), and the narrow one where the views above lack it ---------

/// Digits masked: ages and times move on with the clock.
fn masked(screen: &str) -> String {
    screen
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

#[test]
fn main_screen_160x48() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_response(dir.path());
    let screen = strip_clock(render(&mut app, 160, 48));
    assert!(screen.contains("\"fhirVersion\": \"4.0.1\""), "{screen}");
    insta::assert_snapshot!(screen);
}

/// The `f` lookup with a page of results, as after typing a name.
fn app_with_lookup_results(dir: &std::path::Path) -> App {
    let mut app = seeded_app(dir);
    app.ws
        .environment_mut("azure")
        .unwrap()
        .set("fhirurl", "http://fhir.test");
    app.open_lookup();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let query = crate::fhir::lookup::interpret("müller", today);
    let lookup = app
        .browser
        .as_mut()
        .and_then(|b| b.lookup.as_mut())
        .unwrap();
    lookup.input.insert_str("müller");
    lookup.searched = query.to_query_string();
    lookup.explanation = query.explanation.clone();
    lookup.results = Some(Ok(loaded(200, PATIENTS)));
    app
}

#[test]
fn patient_lookup_table_160x48() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_lookup_results(dir.path());
    let screen = render(&mut app, 160, 48);
    assert!(screen.contains("Zoë Anne Müller"), "{screen}");
    assert!(screen.contains("José O'Brien"), "{screen}");
    insta::assert_snapshot!(masked(&screen));
}

#[test]
fn patient_lookup_table_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_lookup_results(dir.path());
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("Müller"), "{screen}");
    insta::assert_snapshot!(masked(&screen));
}

fn app_with_jobs(dir: &std::path::Path) -> App {
    use crate::worker::export::{ExportJob, ExportParams, JobState, Progress};
    let mut app = seeded_app(dir);
    let mut with_progress = ExportJob::accepted(
        "azure",
        "http://fhir.test/$export?_type=Patient,Observation",
        "http://fhir.test/_operations/export/1",
        ExportParams::default(),
    );
    with_progress.state = JobState::InProgress;
    with_progress.polls = 4;
    with_progress.progress = Some(Progress::Percent(42.0));
    let mut bare = ExportJob::accepted(
        "azure",
        "http://fhir.test/Group/g/$export",
        "http://fhir.test/_operations/export/2",
        ExportParams::default(),
    );
    bare.state = JobState::InProgress;
    bare.polls = 2;
    bare.last_error = Some("429 Too Many Requests; retrying in 5 s".into());
    app.jobs = vec![with_progress, bare];
    app.overlay = Some(crate::app::Overlay::Jobs { selected: 0 });
    app
}

#[test]
fn jobs_screen_160x48() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_jobs(dir.path());
    let screen = render(&mut app, 160, 48);
    assert!(screen.contains("42%"), "{screen}");
    insta::assert_snapshot!(masked(&screen));
}

#[test]
fn jobs_screen_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_jobs(dir.path());
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("42%"), "{screen}");
    insta::assert_snapshot!(masked(&screen));
}

#[test]
fn help_overlay_160x48() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    app.apply(crate::app::Action::Help);
    insta::assert_snapshot!(render(&mut app, 160, 48));
}

#[test]
fn help_overlay_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = seeded_app(dir.path());
    app.apply(crate::app::Action::Help);
    insta::assert_snapshot!(render(&mut app, 80, 24));
}

// ----- keys.toml on screen -----------------------------------------------------------------

fn app_with_keys(dir: &std::path::Path, keys: &str) -> App {
    let mut app = seeded_app(dir);
    std::fs::write(dir.join("keys.toml"), keys).unwrap();
    app.init_keys(None);
    app
}

#[test]
fn help_and_status_bar_show_the_remapped_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_keys(dir.path(), "[global]\nsend = \"f9\"\nquit = []\n");
    let screen = render(&mut app, 120, 35);
    assert!(screen.contains("f9 send"), "{screen}");
    assert!(!screen.contains("ctrl-r send"), "{screen}");
    assert!(!screen.contains("q quit"), "{screen}");
    app.apply(crate::app::Action::Help);
    let screen = render(&mut app, 120, 35);
    assert!(
        screen.contains("f9                  send the open request"),
        "{screen}"
    );
    assert!(screen.contains("(no key)            quit"), "{screen}");
    assert!(!screen.contains("ctrl-r, f5"), "{screen}");
}

#[test]
fn key_conflicts_are_listed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let keys =
        "[global]\nsend = [\"f9\", \"ctrl-s\"]\n\n[request]\nedit = [\"enter\", \"ctrl-p\"]\n";
    let mut app = app_with_keys(dir.path(), keys);
    assert_eq!(app.keymap.conflicts().len(), 2);
    assert!(render(&mut app, 120, 35).contains("Key binding conflicts"));
    // The same file named without the temporary folder, so the snapshot's line breaks hold
    // wherever the test runs.
    let overrides =
        crate::tui::keys::file::parse_keys(std::path::Path::new("keys.toml"), 1, keys).unwrap();
    app.keymap = crate::tui::keys::keymap::Keymap::build(&overrides);
    insta::assert_snapshot!(render(&mut app, 120, 35));
}
