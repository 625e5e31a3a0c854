use serde_json::{Value, json};

use super::*;

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";

fn coded(code: &str, display: &str) -> Value {
    json!({"coding": [{"system": LOINC, "code": code, "display": display}], "text": display})
}

fn qty(v: f64, code: &str, unit: &str) -> Value {
    json!({"value": v, "system": UCUM, "code": code, "unit": unit})
}

fn vital(id: &str, date: &str, code: &str, name: &str, value: Value) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": coded(code, name),
        "effectiveDateTime": date,
        "valueQuantity": value,
    })
}

fn bp(id: &str, date: &str, sys: f64, dia: f64) -> Value {
    json!({
        "resourceType": "Observation", "id": id,
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": coded("85354-9", "Blood pressure panel"),
        "effectiveDateTime": date,
        "component": [
            {"code": coded("8480-6", "Systolic blood pressure"), "valueQuantity": qty(sys, "mm[Hg]", "mmHg")},
            {"code": coded("8462-4", "Diastolic blood pressure"), "valueQuantity": qty(dia, "mm[Hg]", "mmHg")},
        ]
    })
}

fn lab(id: &str, date: &str, value: f64, flag: &str) -> Value {
    json!({
        "resourceType": "Observation", "id": id,
        "category": [{"coding": [{"code": "laboratory"}]}],
        "code": coded("4548-4", "Hemoglobin A1c"),
        "effectiveDateTime": date,
        "valueQuantity": qty(value, "%", "%"),
        "interpretation": [{"coding": [{"code": flag}]}],
        "referenceRange": [{"low": {"value": 4.0}, "high": {"value": 5.6}}],
    })
}

fn chart_of(resources: &[Value]) -> PatientChart {
    build(resources.iter().flat_map(facts_of).collect())
}

fn page(resources: &[Value], next: Option<&str>) -> Vec<u8> {
    let mut b = json!({
        "resourceType": "Bundle", "type": "searchset",
        "entry": resources.iter().map(|r| json!({"resource": r, "search": {"mode": "match"}})).collect::<Vec<_>>(),
    });
    if let Some(n) = next {
        b["link"] = json!([{"relation": "next", "url": n}]);
    }
    serde_json::to_vec(&b).unwrap()
}

#[test]
fn the_blood_pressure_panel_gives_systolic_and_diastolic_series() {
    let c = chart_of(&[
        bp("b2", "2024-02-01", 130.0, 85.0),
        bp("b1", "2024-01-01", 120.0, 80.0),
    ]);
    assert_eq!(c.vitals.len(), 1);
    let t = &c.vitals[0];
    assert_eq!(t.key, "85354-9");
    assert_eq!(t.title, "Blood pressure");
    assert_eq!(t.unit, "mmHg");
    let names: Vec<&str> = t.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Systolic", "Diastolic"]);
    let sys: Vec<f64> = t.series[0].points.iter().map(|p| p.value).collect();
    assert_eq!(sys, [120.0, 130.0], "oldest first");
    assert_eq!(t.latest_text(), "130/85 mmHg");
    assert_eq!(t.latest_date(), Some("2024-02-01"));
    assert_eq!(c.observations, 2);
    assert!(c.labs.is_empty());
}

#[test]
fn systolic_and_diastolic_sent_apart_join_the_blood_pressure_chart() {
    let c = chart_of(&[
        vital(
            "s",
            "2024-01-01",
            "8480-6",
            "Systolic",
            qty(121.0, "mm[Hg]", "mmHg"),
        ),
        vital(
            "d",
            "2024-01-01",
            "8462-4",
            "Diastolic",
            qty(79.0, "mm[Hg]", "mmHg"),
        ),
    ]);
    assert_eq!(c.vitals.len(), 1);
    assert_eq!(c.vitals[0].key, "85354-9");
    assert_eq!(c.vitals[0].series.len(), 2);
}

#[test]
fn vitals_are_grouped_by_loinc_code_in_a_fixed_order_with_the_units_sent() {
    let c = chart_of(&[
        vital(
            "w",
            "2024-01-01",
            "29463-7",
            "Body weight",
            qty(80.5, "kg", "kg"),
        ),
        vital(
            "h",
            "2024-01-01",
            "8867-4",
            "Heart rate",
            qty(72.0, "/min", "beats/minute"),
        ),
        bp("b", "2024-01-01", 120.0, 80.0),
        vital(
            "h2",
            "2024-03-01",
            "8867-4",
            "Heart rate",
            qty(75.0, "/min", "beats/minute"),
        ),
    ]);
    let keys: Vec<&str> = c.vitals.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["85354-9", "8867-4", "29463-7"]);
    let hr = &c.vitals[1];
    assert_eq!(
        hr.unit, "beats/minute",
        "the server's label, not a conversion"
    );
    assert_eq!(hr.point_count(), 2);
    assert_eq!(hr.latest_text(), "75 beats/minute");
    assert_eq!(c.vitals[2].latest_text(), "80.5 kg");
}

#[test]
fn a_code_in_two_units_is_refused_and_said() {
    let c = chart_of(&[
        vital(
            "a",
            "2024-01-01",
            "29463-7",
            "Body weight",
            qty(80.0, "kg", "kg"),
        ),
        vital(
            "b",
            "2024-02-01",
            "29463-7",
            "Body weight",
            qty(176.0, "[lb_av]", "lb"),
        ),
        vital(
            "h",
            "2024-01-01",
            "8867-4",
            "Heart rate",
            qty(72.0, "/min", "/min"),
        ),
    ]);
    assert_eq!(c.vitals.len(), 1, "weight is not plotted: {:?}", c.vitals);
    assert_eq!(c.vitals[0].key, "8867-4");
    let note = c.notes.join(" ");
    assert!(note.contains("Body weight (29463-7)"), "{note}");
    assert!(note.contains("[lb_av]") && note.contains("kg"), "{note}");
    // Same UCUM code, different labels: one unit.
    let c = chart_of(&[
        vital("a", "2024-01-01", "8867-4", "HR", qty(70.0, "/min", "/min")),
        vital(
            "b",
            "2024-02-01",
            "8867-4",
            "HR",
            qty(71.0, "/min", "beats/minute"),
        ),
    ]);
    assert_eq!(c.vitals.len(), 1);
    assert!(c.notes.is_empty(), "{:?}", c.notes);
}

#[test]
fn observations_without_a_number_are_skipped_and_counted() {
    let text = json!({
        "resourceType": "Observation", "id": "t", "code": coded("8867-4", "HR"),
        "effectiveDateTime": "2024-01-01", "valueString": "regular"
    });
    let absent = json!({
        "resourceType": "Observation", "id": "u", "code": coded("8867-4", "HR"),
        "effectiveDateTime": "2024-01-02", "dataAbsentReason": {"text": "asked"}
    });
    let undated = json!({
        "resourceType": "Observation", "id": "v", "code": coded("8867-4", "HR"),
        "valueQuantity": qty(70.0, "/min", "/min")
    });
    let c = chart_of(&[
        text,
        absent,
        undated,
        vital("h", "2024-01-03", "8867-4", "HR", qty(70.0, "/min", "/min")),
    ]);
    assert_eq!(c.vitals.len(), 1);
    assert_eq!(c.vitals[0].point_count(), 1);
    assert_eq!(c.observations, 4);
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("3 Observations without a number")),
        "{:?}",
        c.notes
    );
}

#[test]
fn labs_keep_the_latest_result_its_range_and_flag_and_what_came_before() {
    let c = chart_of(&[
        lab("l1", "2023-01-01", 6.1, "H"),
        lab("l3", "2024-01-01", 5.4, "N"),
        lab("l2", "2023-06-01", 7.2, "H"),
    ]);
    assert_eq!(c.labs.len(), 1);
    let row = &c.labs[0];
    let latest = row.latest().unwrap();
    assert_eq!(latest.value, 5.4);
    assert_eq!(latest.reference.as_deref(), Some("Observation/l3"));
    let flag = row.flag.as_ref().unwrap();
    assert_eq!(flag.code, "N");
    assert!(!flag.abnormal);
    assert_eq!(row.trend.range.as_ref().unwrap().label(), "4–5.6");
    let history: Vec<f64> = row.trend.series[0].points.iter().map(|p| p.value).collect();
    assert_eq!(history, [6.1, 7.2, 5.4]);
    assert!(c.vitals.is_empty());
}

#[test]
fn the_same_observation_on_two_pages_counts_once() {
    let b = bp("b", "2024-01-01", 120.0, 80.0);
    let c = chart_of(&[b.clone(), b]);
    assert_eq!(c.vitals[0].series[0].points.len(), 1);
    assert_eq!(c.observations, 1);
}

#[test]
fn the_timeline_is_newest_first_with_onset_and_abatement() {
    let c = chart_of(&[
        json!({"resourceType": "Encounter", "id": "e1", "status": "finished",
               "class": {"code": "AMB", "display": "ambulatory"},
               "type": [{"text": "Check up"}],
               "period": {"start": "2023-05-01T09:00:00Z", "end": "2023-05-01T09:30:00Z"}}),
        json!({"resourceType": "Condition", "id": "c1", "code": {"text": "Hypertension"},
               "clinicalStatus": {"coding": [{"code": "resolved"}]},
               "onsetDateTime": "2022-01-10", "abatementDateTime": "2023-02-01"}),
        json!({"resourceType": "Procedure", "id": "p1", "status": "completed",
               "code": {"text": "ECG"}, "performedPeriod": {"start": "2024-01-01T10:00:00Z"}}),
        json!({"resourceType": "MedicationRequest", "id": "m1", "status": "active",
               "medicationCodeableConcept": {"text": "lisinopril 10 MG"},
               "authoredOn": "2022-01-11", "dosageInstruction": [{"text": "One daily"}]}),
        json!({"resourceType": "Procedure", "id": "p2", "code": {"text": "Undated"}}),
        json!({"resourceType": "Patient", "id": "x"}),
    ]);
    let titles: Vec<&str> = c.timeline.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "ECG",
            "Check up",
            "lisinopril 10 MG",
            "Hypertension",
            "Undated"
        ]
    );
    let cond = &c.timeline[3];
    assert_eq!(cond.kind, EventKind::Condition);
    assert_eq!(cond.date, "2022-01-10");
    assert_eq!(cond.end.as_deref(), Some("2023-02-01"));
    assert_eq!(cond.detail, "resolved");
    assert_eq!(c.timeline[1].detail, "ambulatory · finished");
    assert_eq!(c.timeline[1].end.as_deref(), Some("2023-05-01 09:30"));
    assert_eq!(c.timeline[2].detail, "active · One daily");
    assert_eq!(c.timeline[1].reference.as_deref(), Some("Encounter/e1"));
}

#[test]
fn a_page_gives_its_facts_and_next_link() {
    let bytes = page(
        &[
            bp("b", "2024-01-01", 120.0, 80.0),
            lab("l", "2024-01-01", 5.0, "N"),
        ],
        Some("http://x/fhir/Patient/1/$everything?ct=abc"),
    );
    let p = read_page(&bytes).unwrap();
    assert_eq!(p.entries, 2);
    assert_eq!(p.facts.len(), 3, "two components and a lab");
    assert_eq!(
        p.next.as_deref(),
        Some("http://x/fhir/Patient/1/$everything?ct=abc")
    );
}

#[test]
fn a_search_page_keeps_only_the_patients_resources() {
    // What fhirsnake sends for `Observation?patient=p1`: everyone's Observations.
    let with = |mut r: Value, subject: Option<&str>| {
        if let Some(s) = subject {
            r["subject"] = json!({"reference": s});
        }
        r
    };
    let bytes = page(
        &[
            with(lab("mine", "2024-01-01", 5.0, "N"), Some("Patient/p1")),
            with(
                lab("abs", "2024-02-01", 5.1, "N"),
                Some("http://x/fhir/Patient/p1"),
            ),
            with(
                lab("ver", "2024-03-01", 5.2, "N"),
                Some("Patient/p1/_history/2"),
            ),
            with(lab("other", "2024-01-01", 9.0, "H"), Some("Patient/p12")),
            with(lab("prefix", "2024-01-01", 9.0, "H"), Some("Patient/xp1")),
            with(lab("nobody", "2024-01-01", 9.0, "H"), None),
        ],
        None,
    );
    let p = read_page_for(&bytes, Some("p1")).unwrap();
    assert_eq!((p.facts.len(), p.others, p.entries), (3, 3, 6));
    // `$everything` pages (and callers that give no patient) are not filtered.
    assert_eq!(read_page(&bytes).unwrap().facts.len(), 6);
}

#[test]
fn pages_that_are_not_bundles_are_sentences() {
    let e = read_page(b"{not json").unwrap_err();
    assert!(
        e.to_string().starts_with("The answer is not JSON (line 1"),
        "{e}"
    );
    let e = read_page(br#"{"resourceType":"Patient"}"#).unwrap_err();
    assert_eq!(e.to_string(), "The answer is a Patient, not a Bundle.");
    let oo = br#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"no such patient"}]}"#;
    let e = read_page(oo).unwrap_err();
    assert!(e.to_string().contains("no such patient"), "{e}");
}

#[test]
fn hostile_pages_do_not_panic_and_give_nothing_wrong() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(read_page(deep.as_bytes()).is_err(), "nesting is bounded");
    let cases = [
        json!({"resourceType": "Bundle", "entry": "nope"}),
        json!({"resourceType": "Bundle", "entry": [1, null, "x", {"resource": 5}]}),
        json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation",
            "code": 7, "effectiveDateTime": ["2024"], "valueQuantity": {"value": "72"}}}]}),
        json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation",
            "code": {"coding": "x"}, "effectiveDateTime": "2024-01-01",
            "component": [{"code": null}, 3, {"valueQuantity": {"value": 1}}]}}]}),
        json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Encounter",
            "period": {"start": 2024}, "type": {"coding": [{}]}, "class": []}}]}),
        json!({"resourceType": "Bundle", "link": [{"relation": "next", "url": 5}]}),
    ];
    for c in cases {
        let p = read_page(&serde_json::to_vec(&c).unwrap()).unwrap();
        let chart = build(p.facts);
        assert!(chart.vitals.is_empty() && chart.labs.is_empty(), "{c}");
    }
    // Control and reordering characters never reach a label; long names are cut.
    let evil = format!("Heart\u{1b}[31m rate\u{202e}{}", "x".repeat(500));
    let c = chart_of(&[vital(
        "h",
        "2024-01-01",
        "12345-6",
        &evil,
        qty(72.0, "/min", "/\u{7}min"),
    )]);
    let t = &c
        .vitals
        .first()
        .or(c.labs.first().map(|l| &l.trend))
        .unwrap();
    assert!(
        !t.title.contains('\u{1b}') && !t.title.contains('\u{202e}'),
        "{:?}",
        t.title
    );
    assert!(t.title.chars().count() <= MAX_LABEL);
    assert!(!t.unit.contains('\u{7}'));
}

#[test]
fn a_series_keeps_only_its_latest_points() {
    let many: Vec<Value> = (0..MAX_POINTS + 5)
        .map(|i| {
            let day = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()
                + chrono::Duration::days(i as i64);
            vital(
                &format!("h{i}"),
                &day.to_string(),
                "8867-4",
                "HR",
                qty(60.0 + (i % 20) as f64, "/min", "/min"),
            )
        })
        .collect();
    let c = chart_of(&many);
    let s = &c.vitals[0].series[0];
    assert_eq!(s.points.len(), MAX_POINTS);
    assert_eq!(s.points[0].date, "2000-01-06");
    assert!(c.notes.iter().any(|n| n.contains("only the latest")));
}

#[test]
fn values_read_as_people_write_them() {
    assert_eq!(format_value(120.0), "120");
    assert_eq!(format_value(5.60), "5.6");
    assert_eq!(format_value(0.123456), "0.123");
    assert_eq!(format_value(-2.5), "-2.5");
}
