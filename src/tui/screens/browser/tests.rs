//! The FHIR browser: page sizes and the bounded page history, and snapshots of what it shows —
//! a patient table, a patient summary, an OperationOutcome, the lookup's results.

use super::*;
use crate::tui::screens::Screen;
use crate::tui::testing::{Rig, mask_digits, received};

#[test]
fn count_adjusts_and_drops_continuation() {
    assert_eq!(
        adjust_count("http://x/Patient?name=a", true),
        "http://x/Patient?name=a&_count=20"
    );
    assert_eq!(
        adjust_count("http://x/Patient?_count=50&ct=abc", false),
        "http://x/Patient?_count=25"
    );
    assert_eq!(
        adjust_count("http://x/Patient?_count=800", true),
        "http://x/Patient?_count=1000"
    );
    // A typed count above Azure's 1000 (or past u32 halfway) is clamped, not doubled.
    assert_eq!(
        adjust_count("http://x/Patient?_count=4000000000", true),
        "http://x/Patient?_count=1000"
    );
    assert_eq!(
        adjust_count("http://x/Patient?_count=5000", false),
        "http://x/Patient?_count=500"
    );
}

#[test]
fn the_page_history_is_bounded() {
    let mut b = Browser::default();
    for i in 0..MAX_PAGES + 10 {
        b.push(format!("http://x/{i}"), PageContent::Loading);
    }
    assert_eq!(b.pages.len(), MAX_PAGES);
    assert_eq!(b.pos, MAX_PAGES - 1);
    assert_eq!(b.pages[0].url, "http://x/10");
}

fn loaded(status: u16, body: &str) -> Loaded {
    understand(received(status, "application/fhir+json", body))
}

/// The browser open on one page, `url`, that answered `l`.
fn rig_browsing(dir: &std::path::Path, url: &str, l: Loaded) -> Rig {
    let mut rig = Rig::seeded(dir);
    rig.app.browser.show(url.into(), l);
    rig.app.screen = Some(Screen::Browser);
    rig
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
    let mut rig = rig_browsing(
        dir.path(),
        "http://fhir.test/Patient?name=m",
        loaded(200, PATIENTS),
    );
    let screen = rig.draw(120, 20);
    assert!(screen.contains("Zoë Anne Müller"), "{screen}");
    assert!(screen.contains("MRN-000123"), "{screen}");
    // Ages depend on today's date: mask digits in the age columns only by masking all digits.
    insta::assert_snapshot!(mask_digits(&screen));
}

#[test]
fn browser_patient_summary() {
    let dir = tempfile::tempdir().unwrap();
    let patient =
        serde_json::from_str::<serde_json::Value>(PATIENTS).unwrap()["entry"][0]["resource"]
            .to_string();
    let mut rig = rig_browsing(
        dir.path(),
        "http://fhir.test/Patient/p1",
        loaded(200, &patient),
    );
    let screen = rig.draw(120, 20);
    assert!(screen.contains("o observations"), "{screen}");
    insta::assert_snapshot!(mask_digits(&screen));
}

#[test]
fn browser_operation_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let oo = r#"{"resourceType":"OperationOutcome","issue":[
      {"severity":"error","code":"invalid","diagnostics":"The search parameter 'colour' is not supported for resource type 'Patient'.","expression":["Patient.colour"]},
      {"severity":"warning","code":"informational","diagnostics":"_count was clamped to 1000."}]}"#;
    let mut rig = rig_browsing(
        dir.path(),
        "http://fhir.test/Patient?colour=blue",
        loaded(400, oo),
    );
    let screen = rig.draw(120, 20);
    assert!(screen.contains("error"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// The `f` lookup with a page of results, as after typing a name.
fn rig_with_lookup_results(dir: &std::path::Path) -> Rig {
    let mut rig = Rig::seeded(dir);
    rig.set_fhirurl("azure", "http://fhir.test");
    rig.key("f");
    assert_eq!(rig.app.screen, Some(Screen::Browser));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let query = crate::fhir::lookup::interpret("müller", today);
    let lookup = rig.app.browser.lookup.as_mut().unwrap();
    lookup.input.set_text("müller");
    lookup.searched = query.to_query_string();
    lookup.explanation = query.explanation.clone();
    lookup.results = Some(Ok(Box::new(loaded(200, PATIENTS))));
    rig
}

#[test]
fn patient_lookup_table_160x48() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_lookup_results(dir.path());
    let screen = rig.draw(160, 48);
    assert!(screen.contains("Zoë Anne Müller"), "{screen}");
    assert!(screen.contains("José O'Brien"), "{screen}");
    insta::assert_snapshot!(mask_digits(&screen));
}

#[test]
fn patient_lookup_table_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_lookup_results(dir.path());
    let screen = rig.draw(80, 24);
    assert!(screen.contains("Müller"), "{screen}");
    insta::assert_snapshot!(mask_digits(&screen));
}

/// A lookup page of 20 patients with a next link, `total` when given, page `page` of the
/// results.
fn rig_with_many_results(dir: &std::path::Path, total: Option<usize>, page: usize) -> Rig {
    let entries: Vec<String> = (0..LOOKUP_PAGE)
        .map(|i| {
            let n = (page - 1) * LOOKUP_PAGE + i + 1;
            format!(
                r#"{{"fullUrl":"http://fhir.test/Patient/{n}","resource":{{"resourceType":"Patient","id":"6f1c2a4e-9b3d-4c8e-a1f0-{n:012}","name":[{{"family":"Müller","given":["Anna{n}"]}}],"gender":"female","birthDate":"1970-01-01"}},"search":{{"mode":"match"}}}}"#
            )
        })
        .collect();
    let total = total
        .map(|t| format!(r#""total":{t},"#))
        .unwrap_or_default();
    let bundle = format!(
        r#"{{"resourceType":"Bundle","type":"searchset",{total}"link":[{{"relation":"next","url":"http://fhir.test/Patient?name=m%C3%BCller&ct=p{page}"}}],"entry":[{}]}}"#,
        entries.join(",")
    );
    let mut rig = rig_with_lookup_results(dir);
    let lookup = rig.app.browser.lookup.as_mut().unwrap();
    lookup.results = Some(Ok(Box::new(loaded(200, &bundle))));
    lookup.page = page;
    rig
}

#[test]
fn patient_lookup_many_results_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_many_results(dir.path(), Some(143), 1);
    let screen = rig.draw(80, 24);
    assert!(screen.contains("of 143"), "{screen}");
    insta::assert_snapshot!(mask_digits(&screen));
}

#[test]
fn patient_lookup_many_results_120x35() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_many_results(dir.path(), Some(143), 2);
    let screen = rig.draw(120, 35);
    assert!(screen.contains("21–40 of 143"), "{screen}");
    insta::assert_snapshot!(mask_digits(&screen));
}

#[test]
fn patient_lookup_without_a_total_says_more() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_many_results(dir.path(), None, 1);
    let screen = rig.draw(120, 35);
    assert!(screen.contains("20+"), "{screen}");
    insta::assert_snapshot!(mask_digits(&screen));
}

/// The lookup's foot names the paging keys in force: after keys.toml moves "more results" to
/// `n`, it says `n more`, not `PgDn more`.
#[test]
fn the_lookup_foot_names_remapped_paging_keys() {
    use crate::tui::keys::keymap::{Origin, Override};
    use crate::tui::keys::{Action, Ctx, Keymap};
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_many_results(dir.path(), Some(143), 1);
    rig.app.model.keymap = Keymap::build(&[Override {
        ctx: Ctx::Lookup,
        action: Action::NextPage,
        keys: vec!["ctrl-n".into()],
        origin: Origin {
            file: "keys.toml".into(),
            line: 1,
            column: 1,
            layer: 1,
        },
    }]);
    let screen = rig.draw(120, 35);
    assert!(screen.contains("Ctrl-N more"), "{screen}");
    assert!(!screen.contains("PgDn more"), "{screen}");
}

/// A searchset whose `self` link lost a sent parameter says so above the table.
#[test]
fn a_dropped_search_parameter_is_said_above_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"http://fhir.test/Patient?gender=female"}],"entry":[]}"#;
    let mut r = received(200, "application/fhir+json", body);
    r.response.final_url = "http://fhir.test/Patient?gender=female&nmae=Ann".into();
    let l = understand_parts(&r.response, &r.body);
    assert_eq!(l.ignored, ["nmae"]);
    let mut rig = rig_browsing(
        dir.path(),
        "http://fhir.test/Patient?gender=female&nmae=Ann",
        l,
    );
    let screen = rig.draw(120, 30);
    assert!(
        screen.contains("the server ignored: nmae — set strict = true to be told"),
        "{screen}"
    );
}
