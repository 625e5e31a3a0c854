//! A patient's clinical story, deterministic from the seed: conditions with
//! onset dates, visits every few months with vitals (BP panel with
//! components, heart rate, weight, BMI, temperature, SpO2), labs with
//! reference ranges and H/L/N flags (HbA1c, glucose, lipid panel,
//! creatinine, haemoglobin) grouped in DiagnosticReports, the medications a
//! condition calls for, a few procedures and allergies. Values follow the
//! conditions: a diabetic's HbA1c climbs towards diagnosis and eases on
//! metformin, a hypertensive's pressure is high until treated.
//!
//! Sizes (chosen for start-up time and memory, see README "Demo"): members
//! of the demo Group get three years of visits every 3–5 months with labs
//! at every other visit; everyone else one year of visits every 4–8 months
//! with one lab day. Temperature and SpO2 are taken at acute visits and at
//! about a third of routine ones.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::store::Store;
use super::util::fhir_datetime;

mod care;
mod observations;
use care::{allergies, medication, procedure, procedure_for};
use observations::{labs, vitals};

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const UCUM: &str = "http://unitsofmeasure.org";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

/// The shared directory a patient's care refers to.
pub(super) struct Directory {
    /// (Practitioner id, display)
    pub practitioners: Vec<(String, String)>,
    /// (Organization id, display)
    pub organizations: Vec<(String, String)>,
    /// (Location id, display, index of its organization)
    pub locations: Vec<(String, String, usize)>,
}

/// What the generator needs to know about the patient.
pub(super) struct Person<'a> {
    pub id: &'a str,
    pub display: &'a str,
    pub female: bool,
    pub birth: DateTime<Utc>,
    /// Index into the directory's practitioners (the GP).
    pub gp: usize,
    /// Rich history (three years) or a short one (one year).
    pub rich: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cond {
    Diabetes,
    Hypertension,
    Hyperlipidemia,
    Asthma,
    Anemia,
    Depression,
}

impl Cond {
    /// (SNOMED code, display)
    fn code(self) -> (&'static str, &'static str) {
        match self {
            Cond::Diabetes => ("44054006", "Diabetes mellitus type 2"),
            Cond::Hypertension => ("38341003", "Hypertensive disorder"),
            Cond::Hyperlipidemia => ("55822004", "Hyperlipidemia"),
            Cond::Asthma => ("195967001", "Asthma"),
            Cond::Anemia => ("271737000", "Anemia"),
            Cond::Depression => ("35489007", "Depressive disorder"),
        }
    }
    /// (RxNorm code, display, dosage text)
    fn medication(self) -> Option<(&'static str, &'static str, &'static str)> {
        Some(match self {
            Cond::Diabetes => (
                "860975",
                "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
                "One tablet daily with the evening meal",
            ),
            Cond::Hypertension => ("314076", "lisinopril 10 MG Oral Tablet", "One tablet daily"),
            Cond::Hyperlipidemia => (
                "617312",
                "atorvastatin 20 MG Oral Tablet",
                "One tablet daily at bedtime",
            ),
            Cond::Asthma => (
                "745679",
                "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
                "Two puffs every four to six hours as needed",
            ),
            Cond::Anemia => (
                "310325",
                "ferrous sulfate 325 MG Oral Tablet",
                "One tablet daily",
            ),
            Cond::Depression => return None,
        })
    }
}

/// A diagnosed condition and when it began.
struct Diagnosis {
    cond: Cond,
    onset: DateTime<Utc>,
}

struct Ctx<'a, 'b> {
    store: &'a mut Store,
    rng: &'a mut StdRng,
    stamp: &'a mut dyn FnMut() -> DateTime<Utc>,
    person: &'a Person<'b>,
    dir: &'a Directory,
    counts: &'a mut Counts,
}

/// How many resources of each kind were made (for the generator's tests).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counts {
    pub observations: usize,
    pub encounters: usize,
}

fn guid(rng: &mut StdRng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// A roughly normal value (sum of three uniforms), deterministic from the rng.
fn normal(rng: &mut StdRng, mean: f64, sd: f64) -> f64 {
    let u: f64 = (0..3).map(|_| rng.random_range(-1.0..1.0)).sum::<f64>();
    mean + u * sd
}

fn years(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_days() as f64 / 365.25
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"coding": [{"system": system, "code": code, "display": display}], "text": display})
}

fn category(code: &str) -> Value {
    let display = match code {
        "vital-signs" => "Vital Signs",
        "laboratory" => "Laboratory",
        _ => code,
    };
    json!([{"coding": [{"system": OBS_CATEGORY, "code": code, "display": display}]}])
}

fn quantity(value: f64, unit: &str, display_unit: &str) -> Value {
    json!({"value": value, "unit": display_unit, "system": UCUM, "code": unit})
}

/// H / L / N against a reference range.
fn flag(value: f64, low: Option<f64>, high: Option<f64>) -> Value {
    let (code, display) = if high.is_some_and(|h| value > h) {
        ("H", "High")
    } else if low.is_some_and(|l| value < l) {
        ("L", "Low")
    } else {
        ("N", "Normal")
    };
    json!([{"coding": [{"system": INTERPRETATION, "code": code, "display": display}]}])
}

fn reference(t: &str, id: &str, display: &str) -> Value {
    json!({"reference": format!("{t}/{id}"), "display": display})
}

impl Ctx<'_, '_> {
    fn subject(&self) -> Value {
        reference("Patient", self.person.id, self.person.display)
    }

    fn gp(&self) -> Value {
        let (id, name) = &self.dir.practitioners[self.person.gp];
        reference("Practitioner", id, name)
    }

    fn seed(&mut self, rtype: &str, resource: Value) -> String {
        let id = guid(self.rng);
        let at = (self.stamp)();
        self.store.seed(rtype, &id, resource, at);
        id
    }

    fn has(&self, dx: &[Diagnosis], c: Cond, at: DateTime<Utc>) -> bool {
        dx.iter().any(|d| d.cond == c && d.onset <= at)
    }

    /// Months since the condition was diagnosed (negative before).
    fn since(dx: &[Diagnosis], c: Cond, at: DateTime<Utc>) -> Option<f64> {
        dx.iter()
            .find(|d| d.cond == c)
            .map(|d| years(d.onset, at) * 12.0)
    }

    fn vital(
        &mut self,
        enc: &str,
        at: DateTime<Utc>,
        code: &[(&str, &str)],
        value: Value,
    ) -> String {
        let display = code[0].1;
        let codings: Vec<Value> = code
            .iter()
            .map(|(c, d)| json!({"system": LOINC, "code": c, "display": d}))
            .collect();
        self.counts.observations += 1;
        let mut obs = json!({
            "resourceType": "Observation",
            "status": "final",
            "category": category("vital-signs"),
            "code": {"coding": codings, "text": display},
            "subject": self.subject(),
            "encounter": {"reference": format!("Encounter/{enc}")},
            "effectiveDateTime": fhir_datetime(at),
        });
        if let Value::Object(extra) = value
            && let Value::Object(o) = &mut obs
        {
            o.extend(extra);
        }
        self.seed("Observation", obs)
    }

    #[allow(clippy::too_many_arguments)]
    fn lab(
        &mut self,
        enc: &str,
        at: DateTime<Utc>,
        (code, display): (&str, &str),
        value: f64,
        (unit, unit_display): (&str, &str),
        low: Option<f64>,
        high: Option<f64>,
    ) -> String {
        let mut range = json!({});
        if let Some(l) = low {
            range["low"] = quantity(l, unit, unit_display);
        }
        if let Some(h) = high {
            range["high"] = quantity(h, unit, unit_display);
        }
        self.counts.observations += 1;
        let obs = json!({
            "resourceType": "Observation",
            "status": "final",
            "category": category("laboratory"),
            "code": coding(LOINC, code, display),
            "subject": self.subject(),
            "encounter": {"reference": format!("Encounter/{enc}")},
            "effectiveDateTime": fhir_datetime(at),
            "issued": super::util::fhir_instant(at + ChronoDuration::hours(4)),
            "valueQuantity": quantity(value, unit, unit_display),
            "interpretation": flag(value, low, high),
            "referenceRange": [range],
        });
        self.seed("Observation", obs)
    }

    fn report(
        &mut self,
        enc: &str,
        at: DateTime<Utc>,
        (code, display): (&str, &str),
        results: &[String],
    ) {
        let org = &self.dir.organizations[0];
        let report = json!({
            "resourceType": "DiagnosticReport",
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB", "display": "Laboratory"}]}],
            "code": coding(LOINC, code, display),
            "subject": self.subject(),
            "encounter": {"reference": format!("Encounter/{enc}")},
            "effectiveDateTime": fhir_datetime(at),
            "issued": super::util::fhir_instant(at + ChronoDuration::hours(4)),
            "performer": [reference("Organization", &org.0, &org.1)],
            "result": results.iter().map(|id| json!({"reference": format!("Observation/{id}")})).collect::<Vec<_>>(),
        });
        self.seed("DiagnosticReport", report);
    }
}

/// Which conditions the patient has and when they began, from age and chance.
fn diagnoses(
    rng: &mut StdRng,
    p: &Person,
    window_start: DateTime<Utc>,
    anchor: DateTime<Utc>,
) -> Vec<Diagnosis> {
    let age = years(p.birth, anchor);
    let mut out = Vec::new();
    let mut maybe = |rng: &mut StdRng, cond: Cond, chance: f64, min_age: f64| {
        if age < min_age || !rng.random_bool(chance.clamp(0.0, 1.0)) {
            return;
        }
        // Half are diagnosed inside the charted window (so values visibly change), half before.
        let onset = if rng.random_bool(0.5) {
            let span = (anchor - window_start).num_days().max(60);
            window_start + ChronoDuration::days(rng.random_range(30..span))
        } else {
            let earliest = (age - min_age).max(0.5);
            window_start
                - ChronoDuration::days(rng.random_range(30..(earliest * 365.0) as i64 + 31))
        };
        out.push(Diagnosis {
            cond,
            onset: onset.max(p.birth + ChronoDuration::days(365)),
        });
    };
    maybe(
        rng,
        Cond::Hypertension,
        if age > 45.0 { 0.4 } else { 0.08 },
        18.0,
    );
    maybe(
        rng,
        Cond::Diabetes,
        if age > 45.0 { 0.25 } else { 0.05 },
        25.0,
    );
    maybe(
        rng,
        Cond::Hyperlipidemia,
        if age > 40.0 { 0.3 } else { 0.05 },
        25.0,
    );
    maybe(rng, Cond::Asthma, 0.08, 3.0);
    maybe(rng, Cond::Anemia, if p.female { 0.08 } else { 0.03 }, 1.0);
    maybe(rng, Cond::Depression, 0.07, 14.0);
    out
}

/// Makes everything about one patient; returns what was made.
#[allow(clippy::too_many_arguments)]
pub(super) fn generate(
    store: &mut Store,
    rng: &mut StdRng,
    stamp: &mut dyn FnMut() -> DateTime<Utc>,
    person: &Person,
    dir: &Directory,
    anchor: DateTime<Utc>,
) -> Counts {
    let mut counts = Counts::default();
    let span_days = if person.rich { 3 * 365 } else { 365 };
    let window_start =
        (anchor - ChronoDuration::days(span_days)).max(person.birth + ChronoDuration::days(14));
    let dx = diagnoses(rng, person, window_start, anchor);
    let mut cx = Ctx {
        store,
        rng,
        stamp,
        person,
        dir,
        counts: &mut counts,
    };
    for d in &dx {
        let (code, display) = d.cond.code();
        let cond = json!({
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item", "display": "Problem List Item"}]}],
            "code": coding(SNOMED, code, display),
            "subject": cx.subject(),
            "onsetDateTime": fhir_datetime(d.onset),
            "recordedDate": fhir_datetime(d.onset + ChronoDuration::days(2)),
            "recorder": cx.gp(),
        });
        cx.seed("Condition", cond);
    }
    allergies(&mut cx, window_start);
    // Body size: adults keep a height; children grow.
    let adult_height = if person.female {
        normal(cx.rng, 1.63, 0.05)
    } else {
        normal(cx.rng, 1.77, 0.05)
    };
    let base_bmi = normal(cx.rng, 26.0, 3.0)
        + if dx.iter().any(|d| d.cond == Cond::Diabetes) {
            4.0
        } else {
            0.0
        };
    let mut weight_drift = 0.0f64;
    let mut visit = window_start + ChronoDuration::days(cx.rng.random_range(0..60));
    let chronic = !dx.is_empty();
    let mut visit_no = 0usize;
    let mut meds_started: Vec<Cond> = Vec::new();
    while visit < anchor {
        visit_no += 1;
        let acute = cx.rng.random_bool(0.08);
        let at = visit + ChronoDuration::minutes(cx.rng.random_range(8 * 60..17 * 60));
        let age = years(person.birth, at);
        let (loc_id, loc_name, org_ix) = &dir.locations[if acute {
            0
        } else {
            1 + person.gp % (dir.locations.len() - 1)
        }];
        let org = &dir.organizations[*org_ix];
        let (cls, cls_display, type_code, type_display) = if acute {
            ("EMER", "emergency", "50849002", "Emergency room admission")
        } else if chronic {
            ("AMB", "ambulatory", "390906007", "Follow-up encounter")
        } else {
            ("AMB", "ambulatory", "185349003", "Encounter for check up")
        };
        let minutes = if acute {
            cx.rng.random_range(90..360)
        } else {
            cx.rng.random_range(15..45)
        };
        let enc = json!({
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": cls, "display": cls_display},
            "type": [coding(SNOMED, type_code, type_display)],
            "subject": cx.subject(),
            "participant": [{"individual": cx.gp()}],
            "period": {"start": fhir_datetime(at), "end": fhir_datetime(at + ChronoDuration::minutes(minutes))},
            "location": [{"location": reference("Location", loc_id, loc_name)}],
            "serviceProvider": reference("Organization", &org.0, &org.1),
        });
        let enc_id = cx.seed("Encounter", enc);
        cx.counts.encounters += 1;
        vitals(
            &mut cx,
            &dx,
            &enc_id,
            at,
            age,
            adult_height,
            base_bmi,
            &mut weight_drift,
            acute,
        );
        // Labs at every other visit of a rich history, at the first of a short one.
        let lab_day = if person.rich {
            visit_no % 2 == 1
        } else {
            visit_no == 1
        };
        if lab_day || acute {
            let yearly = if person.rich {
                visit_no % 4 == 1
            } else {
                visit_no == 1
            };
            labs(
                &mut cx,
                &dx,
                &enc_id,
                at + ChronoDuration::minutes(20),
                yearly,
            );
        }
        // Treatment starts at the first visit after diagnosis.
        for d in &dx {
            if d.onset <= at && !meds_started.contains(&d.cond) {
                meds_started.push(d.cond);
                medication(&mut cx, d.cond, &enc_id, at);
                procedure_for(&mut cx, d.cond, &enc_id, at);
            }
        }
        if age >= 50.0 && visit_no == 2 {
            procedure(
                &mut cx,
                &enc_id,
                at + ChronoDuration::days(14),
                ("73761001", "Colonoscopy"),
                45,
            );
        }
        let gap = match (person.rich, chronic) {
            (true, true) => cx.rng.random_range(90..150),
            (true, false) => cx.rng.random_range(120..200),
            (false, true) => cx.rng.random_range(120..180),
            (false, false) => cx.rng.random_range(150..240),
        };
        visit += ChronoDuration::days(gap);
    }
    // Conditions diagnosed before the window were treated before it too.
    for d in &dx {
        if !meds_started.contains(&d.cond) && d.onset <= anchor {
            let enc = json!({
                "resourceType": "Encounter",
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
                "type": [coding(SNOMED, "185349003", "Encounter for check up")],
                "subject": cx.subject(),
                "participant": [{"individual": cx.gp()}],
                "period": {"start": fhir_datetime(d.onset), "end": fhir_datetime(d.onset + ChronoDuration::minutes(30))},
            });
            let enc_id = cx.seed("Encounter", enc);
            cx.counts.encounters += 1;
            medication(&mut cx, d.cond, &enc_id, d.onset);
        }
    }
    counts
}
