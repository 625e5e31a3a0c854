//! The chart screen through keys and worker answers (the real app and runtime, no network):
//! `$everything` paged, the fallback to searches, bounds on what a server may lead it to, and
//! what it draws at 80x24, 120x35 and 160x48.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{State, Tab};
use crate::tui::model::InFlight;
use crate::tui::screens::Screen;
use crate::tui::testing::Rig;
use crate::worker::{HttpResponse, Received, RequestId, WorkerCommand, WorkerEvent};

const BASE: &str = "http://fhir.test/fhir";

fn coded(system: &str, code: &str, display: &str) -> Value {
    json!({"coding": [{"system": system, "code": code, "display": display}], "text": display})
}

fn loinc(code: &str, display: &str) -> Value {
    coded("http://loinc.org", code, display)
}

fn qty(v: f64, code: &str, unit: &str) -> Value {
    json!({"value": v, "system": "http://unitsofmeasure.org", "code": code, "unit": unit})
}

fn day(i: i64) -> String {
    (chrono::NaiveDate::from_ymd_opt(2022, 1, 10).unwrap() + chrono::Duration::days(i * 121))
        .to_string()
}

/// Eight visits over two and a half years: vitals at each, labs at every other, the care
/// around them. Deterministic.
pub(super) fn patient_resources() -> Vec<Value> {
    let mut out = Vec::new();
    let vital = |id: String, date: &str, code: &str, name: &str, extra: Value| {
        let mut o = json!({
            "resourceType": "Observation", "id": id, "status": "final",
            "category": [{"coding": [{"code": "vital-signs"}]}],
            "code": loinc(code, name), "effectiveDateTime": format!("{date}T10:00:00Z"),
        });
        if let (Value::Object(o), Value::Object(e)) = (&mut o, extra) {
            o.extend(e);
        }
        o
    };
    for i in 0..8i64 {
        let d = day(i);
        let f = i as f64;
        out.push(json!({
            "resourceType": "Encounter", "id": format!("e{i}"), "status": "finished",
            "class": {"code": "AMB", "display": "ambulatory"},
            "type": [{"text": "Follow-up encounter"}],
            "period": {"start": format!("{d}T10:00:00Z"), "end": format!("{d}T10:30:00Z")},
        }));
        out.push(vital(format!("bp{i}"), &d, "85354-9", "Blood pressure panel", json!({"component": [
            {"code": loinc("8480-6", "Systolic blood pressure"), "valueQuantity": qty(152.0 - 3.0 * f, "mm[Hg]", "mmHg")},
            {"code": loinc("8462-4", "Diastolic blood pressure"), "valueQuantity": qty(96.0 - 2.0 * f, "mm[Hg]", "mmHg")},
        ]})));
        out.push(vital(
            format!("hr{i}"),
            &d,
            "8867-4",
            "Heart rate",
            json!({"valueQuantity": qty(70.0 + (i % 3) as f64 * 4.0, "/min", "beats/minute")}),
        ));
        out.push(vital(
            format!("w{i}"),
            &d,
            "29463-7",
            "Body weight",
            json!({"valueQuantity": qty(92.0 - 0.8 * f, "kg", "kg")}),
        ));
        out.push(vital(
            format!("bmi{i}"),
            &d,
            "39156-5",
            "Body mass index",
            json!({"valueQuantity": qty(30.1 - 0.3 * f, "kg/m2", "kg/m2")}),
        ));
        if i % 3 == 0 {
            out.push(vital(
                format!("t{i}"),
                &d,
                "8310-5",
                "Body temperature",
                json!({"valueQuantity": qty(36.7 + 0.1 * (i % 2) as f64, "Cel", "°C")}),
            ));
            out.push(vital(
                format!("o{i}"),
                &d,
                "59408-5",
                "Oxygen saturation",
                json!({"valueQuantity": qty(97.0, "%", "%")}),
            ));
        }
        if i % 2 == 0 {
            let a1c = 8.1 - 0.4 * f;
            out.push(json!({
                "resourceType": "Observation", "id": format!("a{i}"), "status": "final",
                "category": [{"coding": [{"code": "laboratory"}]}],
                "code": loinc("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
                "effectiveDateTime": format!("{d}T10:20:00Z"),
                "valueQuantity": qty(a1c, "%", "%"),
                "interpretation": [{"coding": [{"code": if a1c > 5.6 { "H" } else { "N" }}]}],
                "referenceRange": [{"low": {"value": 4.0}, "high": {"value": 5.6}}],
            }));
            out.push(json!({
                "resourceType": "Observation", "id": format!("c{i}"), "status": "final",
                "category": [{"coding": [{"code": "laboratory"}]}],
                "code": loinc("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"),
                "effectiveDateTime": format!("{d}T10:20:00Z"),
                "valueQuantity": qty(210.0 - 6.0 * f, "mg/dL", "mg/dL"),
                "interpretation": [{"coding": [{"code": if i < 2 { "H" } else { "N" }}]}],
                "referenceRange": [{"high": {"value": 200.0}}],
            }));
        }
    }
    out.push(json!({
        "resourceType": "Condition", "id": "cond1", "code": {"text": "Diabetes mellitus type 2"},
        "clinicalStatus": {"coding": [{"code": "active"}]}, "onsetDateTime": "2021-12-01",
    }));
    out.push(json!({
        "resourceType": "MedicationRequest", "id": "m1", "status": "active",
        "medicationCodeableConcept": {"text": "metformin 500 MG"}, "authoredOn": day(0),
        "dosageInstruction": [{"text": "One tablet daily"}],
    }));
    out.push(json!({
        "resourceType": "Procedure", "id": "p1", "status": "completed",
        "code": {"text": "12 lead electrocardiogram"}, "performedDateTime": day(1),
    }));
    for r in &mut out {
        r["subject"] = json!({"reference": "Patient/p1"});
    }
    out
}

pub(super) fn bundle(resources: &[Value], next: Option<&str>) -> Value {
    let mut b = json!({
        "resourceType": "Bundle", "type": "searchset",
        "entry": resources.iter().map(|r| json!({"resource": r, "search": {"mode": "match"}})).collect::<Vec<_>>(),
    });
    if let Some(n) = next {
        b["link"] = json!([{"relation": "next", "url": n}]);
    }
    b
}

fn received(status: u16, body: &Value) -> Box<Received> {
    let response = HttpResponse {
        status,
        reason: String::new(),
        version: "HTTP/1.1".into(),
        headers: vec![("content-type".into(), "application/fhir+json".into())],
        body: serde_json::to_vec(body).unwrap().into(),
        spool: None,
        elapsed: Duration::ZERO,
        final_url: BASE.into(),
    };
    let body = crate::worker::body::prepare(&response);
    let search = crate::fhir::handling::SearchNotes::of(&response.body, &response.final_url);
    Box::new(Received {
        response,
        body,
        auth_note: None,
        search,
        fhir: None,
    })
}

/// A rig showing patient p1 in the browser, on a server at [`BASE`].
pub(super) fn rig_on_patient(dir: &std::path::Path) -> Rig {
    let mut rig = Rig::seeded(dir);
    rig.set_fhirurl("azure", BASE);
    let patient = json!({"resourceType": "Patient", "id": "p1",
        "name": [{"family": "Smith", "given": ["Ann"]}], "gender": "female", "birthDate": "1961-04-02"});
    let r = received(200, &patient);
    let loaded = crate::tui::screens::browser::understand_parts(&r.response, &r.body);
    rig.app.browser.show(format!("{BASE}/Patient/p1"), loaded);
    rig.app.screen = Some(Screen::Browser);
    rig
}

/// The resource type a search URL under [`BASE`] asks for (`Observation` of `…/Observation?…`).
fn type_in(url: &str) -> String {
    let path = url.trim_start_matches(&format!("{BASE}/"));
    path.split('?').next().unwrap_or(path).to_string()
}

/// The GETs among `cmds`, as (id, url).
pub(super) fn sends(cmds: &[WorkerCommand]) -> Vec<(RequestId, String)> {
    cmds.iter()
        .filter_map(|c| match c {
            WorkerCommand::Send { id, request, .. } => Some((*id, request.url.clone())),
            _ => None,
        })
        .collect()
}

/// Runs the chart jobs among `cmds` as the worker would, feeding their results back, until
/// none is left; the other commands given along the way.
fn run_jobs(rig: &mut Rig, cmds: Vec<WorkerCommand>) -> Vec<WorkerCommand> {
    let mut rest = Vec::new();
    let mut todo = cmds;
    for _ in 0..100 {
        let mut more = Vec::new();
        for c in todo {
            match c {
                WorkerCommand::Chart(job) => {
                    let id = job.id();
                    let result = job.run();
                    more.extend(rig.worker_event(WorkerEvent::Chart { id, result }));
                }
                other => rest.push(other),
            }
        }
        if more.is_empty() {
            break;
        }
        todo = more;
    }
    rest
}

pub(super) fn answer(
    rig: &mut Rig,
    id: RequestId,
    status: u16,
    body: &Value,
) -> Vec<WorkerCommand> {
    let cmds = rig.worker_event(WorkerEvent::Response {
        id,
        result: Ok(received(status, body)),
    });
    run_jobs(rig, cmds)
}

/// Opens the chart of p1 and answers its `$everything` with every resource on one page.
pub(super) fn ready_rig(dir: &std::path::Path) -> Rig {
    let mut rig = rig_on_patient(dir);
    let cmds = rig.key("V");
    let (id, _) = sends(&cmds)[0].clone();
    answer(&mut rig, id, 200, &bundle(&patient_resources(), None));
    if let State::Ready(b) = &mut rig.app.chart.state {
        b.took = Duration::from_millis(42);
    }
    rig.app.model.status = None;
    rig
}

#[test]
fn v_on_a_patient_fetches_everything_page_by_page_then_builds_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    let cmds = rig.key("V");
    assert_eq!(rig.app.screen, Some(Screen::Chart));
    let s = sends(&cmds);
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].1,
        format!(
            "{BASE}/Patient/p1/$everything?_type=Observation,Encounter,Condition,Procedure,MedicationRequest"
        )
    );
    assert!(rig.app.chart.busy());
    let all = patient_resources();
    let (first, second) = all.split_at(all.len() / 2);
    let next = format!("{BASE}/Patient/p1/$everything?ct=page2");
    let cmds = answer(&mut rig, s[0].0, 200, &bundle(first, Some(&next)));
    let s2 = sends(&cmds);
    assert_eq!(s2.len(), 1, "the next page is fetched");
    assert_eq!(s2[0].1, next);
    assert!(matches!(rig.app.chart.state, State::Loading(_)));
    answer(&mut rig, s2[0].0, 200, &bundle(second, None));
    let State::Ready(b) = &rig.app.chart.state else {
        panic!("not built")
    };
    assert_eq!(
        b.source,
        format!("from $everything: 2 pages, {} entries", all.len())
    );
    let keys: Vec<&str> = b.chart.vitals.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "85354-9", "8867-4", "59408-5", "8310-5", "29463-7", "39156-5"
        ]
    );
    assert_eq!(b.chart.labs.len(), 2);
    assert_eq!(b.chart.timeline.len(), 11);
    assert!(
        rig.status().starts_with("Chart ready in "),
        "{}",
        rig.status()
    );
    assert!(!rig.app.chart.busy());
    assert!(rig.app.model.in_flight.is_empty());
}

#[test]
fn without_everything_it_searches_each_type_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    let cmds = rig.key("V");
    let (id, _) = sends(&cmds)[0].clone();
    let oo = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-supported"}]});
    let cmds = answer(&mut rig, id, 404, &oo);
    let s = sends(&cmds);
    let urls: Vec<&str> = s.iter().map(|(_, u)| u.as_str()).collect();
    assert_eq!(
        urls,
        [
            format!("{BASE}/Observation?patient=p1&_sort=-date&_count=200"),
            format!("{BASE}/Encounter?patient=p1&_sort=-date&_count=100"),
            format!("{BASE}/Condition?patient=p1&_count=100"),
            format!("{BASE}/Procedure?patient=p1&_sort=-date&_count=100"),
            format!("{BASE}/MedicationRequest?patient=p1&_count=100"),
        ]
    );
    let all = patient_resources();
    for (id, url) in s {
        let t = type_in(&url);
        let of_type: Vec<Value> = all
            .iter()
            .filter(|r| r["resourceType"] == t.as_str())
            .cloned()
            .collect();
        answer(&mut rig, id, 200, &bundle(&of_type, None));
    }
    let State::Ready(b) = &rig.app.chart.state else {
        panic!("not built")
    };
    assert!(
        b.source.starts_with(
            "from searches per type (the server answered 404 to $everything): 5 pages"
        ),
        "{}",
        b.source
    );
    assert_eq!(b.chart.vitals.len(), 6);
    assert_eq!(b.chart.timeline.len(), 11);
}

/// No `$everything`, `patient=` ignored (every patient's resources come back, as fhirsnake
/// does) and `_sort` refused with 400 (as servers without sorting may: FHIR makes it optional).
#[test]
fn a_server_that_ignores_patient_and_refuses_sort_still_gives_only_this_patients_chart() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    let cmds = rig.key("V");
    let (id, _) = sends(&cmds)[0].clone();
    let mut pending = sends(&answer(&mut rig, id, 404, &json!({})));
    let mine = patient_resources();
    let mut theirs = patient_resources();
    for r in &mut theirs {
        r["subject"] = json!({"reference": "Patient/p2"});
        r["id"] = json!(format!("other-{}", r["id"].as_str().unwrap()));
    }
    let mut asked = Vec::new();
    let mut rounds = 0;
    while let Some((id, url)) = pending.pop() {
        rounds += 1;
        assert!(rounds < 20, "unbounded retries");
        asked.push(url.clone());
        if url.contains("_sort=") {
            let oo = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error",
                "code": "not-supported", "diagnostics": "_sort is not supported"}]});
            pending.extend(sends(&answer(&mut rig, id, 400, &oo)));
            continue;
        }
        let t = type_in(&url);
        let of_type: Vec<Value> = mine
            .iter()
            .chain(&theirs)
            .filter(|r| r["resourceType"] == t.as_str())
            .cloned()
            .collect();
        pending.extend(sends(&answer(&mut rig, id, 200, &bundle(&of_type, None))));
    }
    assert!(
        asked.contains(&format!("{BASE}/Observation?patient=p1&_count=200")),
        "asked again without _sort: {asked:?}"
    );
    let State::Ready(b) = &rig.app.chart.state else {
        panic!("not built")
    };
    // Only p1's values: the other patient's (same codes, other ids) are not plotted.
    let refs: Vec<&str> = b
        .chart
        .vitals
        .iter()
        .flat_map(|t| &t.series)
        .flat_map(|s| &s.points)
        .filter_map(|p| p.reference.as_deref())
        .collect();
    assert!(!refs.is_empty());
    assert!(refs.iter().all(|r| !r.contains("other-")), "{refs:?}");
    assert_eq!(b.chart.timeline.len(), 11);
    let notes = b.notes.join("\n");
    assert!(
        notes.contains("The Observation search was refused with _sort=-date (400: "),
        "{notes}"
    );
    assert!(
        notes.contains("The server ignored patient=p1: 57 resources of other patients left out (Observation 46, Encounter 8, Condition 1, MedicationRequest 1, Procedure 1)."),
        "{notes}"
    );
}

#[test]
fn a_capability_statement_without_everything_goes_straight_to_searches() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    let caps = json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server",
        "resource": [{"type": "Patient", "operation": [{"name": "match"}]}]}]});
    let caps = crate::fhir::Capabilities::parse(&caps).unwrap();
    rig.app.model.capabilities.insert(
        "azure".into(),
        crate::tui::model::CapsState::Ready(Box::new(caps)),
    );
    let cmds = rig.key("V");
    let s = sends(&cmds);
    assert_eq!(s.len(), 5, "{s:?}");
    assert!(s.iter().all(|(_, u)| !u.contains("$everything")));
}

#[test]
fn next_links_are_followed_only_under_the_base_and_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    let cmds = rig.key("V");
    let (id, _) = sends(&cmds)[0].clone();
    let page = bundle(
        &patient_resources()[..3],
        Some("http://elsewhere.test/steal?ct=1"),
    );
    let cmds = answer(&mut rig, id, 200, &page);
    assert!(
        sends(&cmds).is_empty(),
        "a link off the server is not followed"
    );
    let State::Ready(b) = &rig.app.chart.state else {
        panic!("built from what there was")
    };
    assert!(
        b.notes
            .iter()
            .any(|n| n.contains("not under http://fhir.test/fhir")),
        "{:?}",
        b.notes
    );
    // A server that always has a next page is read for a bounded number of pages.
    let cmds = rig.key("r");
    let mut pending = sends(&cmds);
    let mut pages = 0;
    while let Some((id, _)) = pending.pop() {
        pages += 1;
        assert!(pages <= super::fetch::MAX_EVERYTHING_PAGES, "unbounded");
        let next = format!("{BASE}/Patient/p1/$everything?ct={pages}");
        let cmds = answer(&mut rig, id, 200, &bundle(&[], Some(&next)));
        pending.extend(sends(&cmds));
    }
    assert_eq!(pages, super::fetch::MAX_EVERYTHING_PAGES);
    let State::Ready(b) = &rig.app.chart.state else {
        panic!("built after the last page")
    };
    assert!(
        b.notes
            .iter()
            .any(|n| n.contains("the most the chart reads")),
        "{:?}",
        b.notes
    );
}

#[test]
fn esc_while_fetching_cancels_and_goes_back_to_the_patient() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    let cmds = rig.key("V");
    let (id, _) = sends(&cmds)[0].clone();
    let cmds = rig.key("esc");
    assert!(
        cmds.iter()
            .any(|c| matches!(c, WorkerCommand::Cancel { id: i } if *i == id)),
        "{cmds:?}"
    );
    assert_eq!(rig.app.screen, Some(Screen::Browser));
    assert!(rig.app.model.in_flight.is_empty());
    // A late answer is dropped.
    rig.app.model.in_flight.insert(
        id,
        InFlight {
            purpose: crate::tui::model::Purpose::Chart,
            started: Instant::now(),
            method: "GET".into(),
            url: String::new(),
            secrets: Vec::new(),
        },
    );
    let cmds = answer(&mut rig, id, 200, &bundle(&patient_resources(), None));
    assert!(cmds.is_empty());
    assert!(matches!(rig.app.chart.state, State::Idle));
}

#[test]
fn a_failed_everything_is_a_sentence_and_r_tries_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    let cmds = rig.key("V");
    let (id, _) = sends(&cmds)[0].clone();
    let oo = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "no access"}]});
    answer(&mut rig, id, 403, &oo);
    let State::Failed(e) = &rig.app.chart.state else {
        panic!("not failed")
    };
    assert!(e.starts_with("The $everything answered 403: "), "{e}");
    assert!(e.contains("no access"), "{e}");
    let cmds = rig.key("r");
    assert_eq!(sends(&cmds).len(), 1);
}

#[test]
fn enter_on_a_lab_plots_it_and_on_the_timeline_opens_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = ready_rig(dir.path());
    rig.keys(&["tab", "j", "enter"]);
    assert_eq!(rig.app.chart.tab, Tab::Labs);
    assert_eq!(rig.app.chart.plotted, Some(1));
    let screen = rig.draw(80, 24);
    assert!(screen.contains("Hemoglobin A1c"), "{screen}");
    assert!(screen.contains("range 4–5.6"), "{screen}");
    rig.key("esc");
    assert_eq!(rig.app.chart.plotted, None);
    assert_eq!(rig.app.screen, Some(Screen::Chart));
    let cmds = rig.keys(&["tab", "enter"]);
    assert_eq!(rig.app.screen, Some(Screen::Browser));
    let s = sends(&cmds);
    assert_eq!(s[0].1, format!("{BASE}/Encounter/e7"));
    rig.key("esc");
    // Back on the patient: V again shows the chart anew.
    assert_eq!(rig.app.screen, Some(Screen::Browser));
}

#[test]
fn vitals_step_one_at_a_time_when_small() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = ready_rig(dir.path());
    let screen = rig.draw(80, 24);
    assert!(screen.contains("Blood pressure (mmHg)"), "{screen}");
    assert!(screen.contains("1/6"), "{screen}");
    rig.key("l");
    let screen = rig.draw(80, 24);
    assert!(screen.contains("Heart rate (beats/minute)"), "{screen}");
    assert!(screen.contains("2/6"), "{screen}");
}

/// The ready chart after `keys`, drawn at `width`x`height`, against the snapshot `name` (the
/// test's own name, so the snapshot files keep theirs).
fn assert_chart_snapshot(name: &str, keys: &[&str], width: u16, height: u16) {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = ready_rig(dir.path());
    rig.keys(keys);
    insta::assert_snapshot!(name, rig.draw(width, height));
}

#[test]
fn snapshot_vitals_80x24() {
    assert_chart_snapshot("snapshot_vitals_80x24", &[], 80, 24);
}

#[test]
fn snapshot_vitals_120x35() {
    assert_chart_snapshot("snapshot_vitals_120x35", &[], 120, 35);
}

#[test]
fn snapshot_vitals_grid_160x48() {
    assert_chart_snapshot("snapshot_vitals_grid_160x48", &[], 160, 48);
}

#[test]
fn snapshot_labs_80x24() {
    assert_chart_snapshot("snapshot_labs_80x24", &["tab"], 80, 24);
}

#[test]
fn snapshot_timeline_120x35() {
    assert_chart_snapshot("snapshot_timeline_120x35", &["tab", "tab"], 120, 35);
}

#[test]
fn capital_c_in_the_browser_still_opens_the_capability_explorer() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    rig.key("C");
    assert!(
        rig.top::<crate::tui::screens::dialogs::capabilities::CapabilitiesDialog>()
            .is_some()
    );
    assert_eq!(rig.app.screen, Some(Screen::Browser));
}

#[test]
fn sparklines_run_low_to_high() {
    assert_eq!(super::draw::sparkline(&[1.0, 2.0, 3.0], 12), "▁▅█");
    assert_eq!(super::draw::sparkline(&[5.0, 5.0], 12), "▄▄");
    assert_eq!(super::draw::sparkline(&[], 12), "");
    assert_eq!(super::draw::sparkline(&[1.0; 20], 12).chars().count(), 12);
}

#[test]
fn the_chart_names_its_keys_as_keys_toml_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    std::fs::write(
        dir.path().join(crate::tui::keys::file::KEYS_FILE),
        "[chart]\nback = [\"ctrl-b\"]\nrefresh = \"R\"\n",
    )
    .unwrap();
    rig.app.init_keys(None);
    let cmds = rig.key("V");
    let (id, _) = sends(&cmds)[0].clone();
    let screen = rig.draw(120, 35);
    assert!(screen.contains("Ctrl-B cancels."), "{screen}");
    let oo = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "no access"}]});
    answer(&mut rig, id, 403, &oo);
    let screen = rig.draw(120, 35);
    assert!(
        screen.contains("R tries again · Ctrl-B goes back to the patient."),
        "{screen}"
    );
    assert_eq!(
        sends(&rig.key("R")).len(),
        1,
        "R is the key that tries again"
    );
}
