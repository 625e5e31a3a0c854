//! A FHIRPath test set: the expressions people type into a FHIR body, with what they give,
//! and the errors (as sentences) for what is wrong or not supported.

use serde_json::{Value, json};

use super::*;

fn patient() -> Value {
    json!({
        "resourceType": "Patient", "id": "p1", "active": true,
        "name": [
            {"use": "official", "family": "Smith", "given": ["Ann", "Marie"]},
            {"use": "nickname", "family": "Smithy", "given": ["Annie"]}
        ],
        "telecom": [{"system": "phone", "value": "555-1"}, {"system": "email", "value": "a@x.org"}],
        "birthDate": "1961-04-02",
        "extension": [{"url": "http://x/race", "valueString": "n/a"}]
    })
}

fn bundle() -> Value {
    json!({
        "resourceType": "Bundle", "type": "searchset",
        "entry": [
            {"resource": patient()},
            {"resource": {"resourceType": "Observation", "id": "o1", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                "valueQuantity": {"value": 72, "unit": "/min"},
                "effectiveDateTime": "2024-01-02"}},
            {"resource": {"resourceType": "Observation", "id": "o2", "status": "final",
                "valueString": "regular", "effectiveDateTime": "2022-05-01"}},
            {"resource": {"resourceType": "Observation", "id": "o3", "status": "amended",
                "valueQuantity": {"value": 80.5, "unit": "kg"},
                "effectiveDateTime": "2023-07-09"}}
        ]
    })
}

fn ok(on: &Value, expr: &str) -> Vec<Value> {
    match evaluate(on, expr) {
        Ok(v) => v,
        Err(e) => panic!("{expr}: {e}"),
    }
}

fn err(on: &Value, expr: &str) -> String {
    match evaluate(on, expr) {
        Ok(v) => panic!("{expr} gave {v:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn paths_and_the_issue_examples() {
    let p = patient();
    assert_eq!(
        ok(&p, "Patient.name.where(use='official').family"),
        [json!("Smith")]
    );
    assert_eq!(
        ok(&p, "name.given"),
        [json!("Ann"), json!("Marie"), json!("Annie")]
    );
    assert_eq!(ok(&p, "Patient.name[1].given.first()"), [json!("Annie")]);
    assert_eq!(
        ok(&p, "Observation.id"),
        Vec::<Value>::new(),
        "another type is empty"
    );
    let b = bundle();
    assert_eq!(
        ok(
            &b,
            "Bundle.entry.resource.ofType(Observation).value.ofType(Quantity).value"
        ),
        [json!(72), json!(80.5)]
    );
    assert_eq!(
        ok(
            &b,
            "Bundle.entry.resource.ofType(Observation).value.ofType(String)"
        ),
        [json!("regular")]
    );
    assert_eq!(ok(&b, "entry.resource.ofType(Patient).id"), [json!("p1")]);
    assert_eq!(
        ok(&b, "entry.resource.where(status = 'final').id"),
        [json!("o1"), json!("o2")]
    );
}

#[test]
fn functions_on_collections() {
    let b = bundle();
    let obs = "Bundle.entry.resource.ofType(Observation)";
    assert_eq!(ok(&b, &format!("{obs}.count()")), [json!(3)]);
    assert_eq!(
        ok(&b, &format!("{obs}.exists(status = 'amended')")),
        [json!(true)]
    );
    assert_eq!(
        ok(&b, &format!("{obs}.all(status = 'final')")),
        [json!(false)]
    );
    assert_eq!(
        ok(&b, &format!("{obs}.status.distinct()")),
        [json!("final"), json!("amended")]
    );
    assert_eq!(ok(&b, &format!("{obs}.last().id")), [json!("o3")]);
    assert_eq!(
        ok(&b, &format!("{obs}.tail().id")),
        [json!("o2"), json!("o3")]
    );
    assert_eq!(ok(&b, &format!("{obs}.skip(1).take(1).id")), [json!("o2")]);
    assert_eq!(
        ok(&b, &format!("{obs}.select(id & ':' & status).first()")),
        [json!("o1:final")]
    );
    assert_eq!(
        ok(&b, &format!("{obs}.where(effective > @2023-01-01).id")),
        [json!("o1"), json!("o3")]
    );
    assert_eq!(
        ok(&b, &format!("{obs}.value.ofType(Quantity).value.sum()")),
        [json!(152.5)]
    );
    assert_eq!(ok(&b, "entry.empty()"), [json!(false)]);
    assert_eq!(ok(&b, "nothing.empty()"), [json!(true)]);
    assert_eq!(
        ok(&b, "entry.resource.id.where($this.startsWith('o')).count()"),
        [json!(3)]
    );
    assert_eq!(ok(&b, "entry.resource.select($index).last()"), [json!(3)]);
    assert_eq!(
        ok(&b, "(entry.resource.id | entry.resource.id).count()"),
        [json!(4)]
    );
    assert!(ok(&b, "descendants().count()")[0].as_u64().unwrap() > 30);
}

#[test]
fn operators_strings_and_logic() {
    let p = patient();
    assert_eq!(ok(&p, "1 + 2 * 3"), [json!(7)]);
    assert_eq!(ok(&p, "(1 + 2) * 3"), [json!(9)]);
    assert_eq!(ok(&p, "7 div 2"), [json!(3)]);
    assert_eq!(ok(&p, "7 mod 2"), [json!(1)]);
    assert_eq!(
        ok(&p, "1 / 0"),
        Vec::<Value>::new(),
        "division by zero is empty"
    );
    assert_eq!(ok(&p, "-2.5 + 1"), [json!(-1.5)]);
    assert_eq!(ok(&p, "'a' + 'b'"), [json!("ab")]);
    assert_eq!(ok(&p, "name.first().family.upper()"), [json!("SMITH")]);
    assert_eq!(ok(&p, "name.first().family.substring(1, 2)"), [json!("mi")]);
    assert_eq!(ok(&p, "name.first().family.length()"), [json!(5)]);
    assert_eq!(
        ok(&p, "name.given.join(', ')"),
        [json!("Ann, Marie, Annie")]
    );
    assert_eq!(ok(&p, "'Ann' in name.given"), [json!(true)]);
    assert_eq!(ok(&p, "name.given contains 'Bob'"), [json!(false)]);
    assert_eq!(ok(&p, "active and birthDate < @1970-01-01"), [json!(true)]);
    assert_eq!(ok(&p, "active or nothing"), [json!(true)]);
    assert_eq!(
        ok(&p, "nothing and true"),
        Vec::<Value>::new(),
        "unknown and true is empty"
    );
    assert_eq!(ok(&p, "false and nothing"), [json!(false)]);
    assert_eq!(ok(&p, "active.not()"), [json!(false)]);
    assert_eq!(
        ok(&p, "name.family = 'Smith'"),
        [json!(false)],
        "two families, one value"
    );
    assert_eq!(ok(&p, "name.first().family ~ ' smith '"), [json!(true)]);
    assert_eq!(ok(&p, "id = 'p1' implies active"), [json!(true)]);
    assert_eq!(ok(&p, "iif(active, 'yes', 'no')"), [json!("yes")]);
    assert_eq!(
        ok(&p, "telecom.where(system='email').value"),
        [json!("a@x.org")]
    );
    assert_eq!(ok(&p, "extension('http://x/race').value"), [json!("n/a")]);
    assert_eq!(ok(&p, "birthDate is String"), [json!(true)]);
    assert_eq!(ok(&p, "%resource.id"), [json!("p1")]);
    assert_eq!(ok(&p, "`id`"), [json!("p1")]);
    assert_eq!(ok(&p, "{}.count()"), [json!(0)]);
    assert_eq!(ok(&p, "'12'.toInteger() + 1"), [json!(13)]);
    // Arguments are evaluated where the call stands, not on its input.
    assert_eq!(
        ok(&p, "name.first().given.union(name.last().given)"),
        [json!("Ann"), json!("Marie"), json!("Annie")]
    );
    assert_eq!(
        ok(&p, "name.where(given.exists($this = 'Annie')).family"),
        [json!("Smithy")]
    );
}

#[test]
fn errors_are_sentences() {
    let p = patient();
    assert_eq!(
        err(&p, "name.where(use = 'official'"),
        "The expression is not valid FHIRPath: ',' or ')' was expected, not the end."
    );
    assert_eq!(
        err(&p, "name..family"),
        "The expression is not valid FHIRPath: a name was expected after '.', not '.'."
    );
    assert_eq!(
        err(&p, "name.family #"),
        "The expression is not valid FHIRPath: '#' at column 13 is not FHIRPath."
    );
    assert_eq!(
        err(&p, "'open"),
        "The expression is not valid FHIRPath: a ' at column 1 is never closed."
    );
    assert_eq!(
        err(&p, "name family"),
        "The expression is not valid FHIRPath: 'family' at column 6 was not expected."
    );
    assert_eq!(
        err(&p, ""),
        "The expression is not valid FHIRPath: the expression is empty."
    );
    assert_eq!(
        err(&p, "name.frobnicate()"),
        "FHIRPath's function 'frobnicate()' is not supported here."
    );
    assert_eq!(
        err(&p, "managingOrganization.resolve()"),
        "FHIRPath's resolve() is not supported here."
    );
    assert_eq!(err(&p, "name.where()"), "where() takes one condition.");
    assert_eq!(
        err(&p, "name.given.where(true) > 1"),
        "The expression failed: '>' needs a single value, not 3."
    );
    assert_eq!(
        err(&p, "name.given.single()"),
        "The expression failed: single() found 3 values."
    );
    assert_eq!(
        err(&p, "name.ofType(1)"),
        "The expression failed: ofType() takes a type name such as Quantity."
    );
    assert_eq!(
        err(&p, "%secret"),
        "FHIRPath's %secret is not supported here."
    );
    let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    assert_eq!(
        err(&p, &deep),
        format!("The expression nests more than {MAX_NESTING} levels deep.")
    );
}

#[test]
fn bodies_are_read_once_and_bounded() {
    let cancel = AtomicBool::new(false);
    let body = serde_json::to_vec(&bundle()).unwrap();
    let out = run_fhirpath(&body, false, "entry.resource.id", &cancel).unwrap();
    assert_eq!(out.results, 4);
    assert_eq!(out.text.line(0), "\"p1\"");
    let out = run_fhirpath(b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n\n", true, "id", &cancel).unwrap();
    assert_eq!(out.results, 2);
    let e = run_fhirpath(b"{nope", false, "id", &cancel).unwrap_err();
    assert!(e.to_string().starts_with("The body is not JSON"), "{e}");
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    assert!(run_fhirpath(deep.as_bytes(), false, "descendants()", &cancel).is_err());
    cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        run_fhirpath(&body, false, "entry", &cancel).unwrap_err(),
        FhirPathError::Cancelled
    );
}

#[test]
fn the_prefix_chooses_fhirpath() {
    assert_eq!(strip_prefix("fp: name.family"), Some("name.family"));
    assert_eq!(strip_prefix("  fhirpath:Patient.id"), Some("Patient.id"));
    assert_eq!(strip_prefix(".entry[0]"), None);
    assert_eq!(strip_prefix("fpx"), None);
}
