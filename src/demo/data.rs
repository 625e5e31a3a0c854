//! Deterministic synthetic population (patients with observations,
//! encounters, conditions and one Group) generated from a seed, so the demo
//! needs no downloads and every run with the same seed looks the same.

use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::store::Store;
use super::util::fold;

pub const MRN_SYSTEM: &str = "http://hospital.example.org/mrn";
pub const GROUP_SIZE: usize = 100;

const GIVEN_F: &[&str] = &[
    "Zoë", "Björk", "Amélie", "Chloé", "Sofía", "Emma", "Olivia", "Aoife", "Mia", "Ingrid",
    "Anaïs", "Priya", "Fatima", "Hana", "Léa", "Maja", "Grace", "Yuki", "Siobhán", "Ana",
];
const GIVEN_M: &[&str] = &[
    "José",
    "Björn",
    "Liam",
    "Noah",
    "Mateo",
    "Hiroshi",
    "Lars",
    "Omar",
    "Jürgen",
    "François",
    "Seán",
    "Thiago",
    "Wei",
    "Mohammed",
    "Ethan",
    "Lucas",
    "Minh",
    "Ravi",
    "Kwame",
    "Pedro",
];
const FAMILY: &[&str] = &[
    "Müller",
    "O'Brien",
    "Nguyễn",
    "García",
    "Smith",
    "Johnson",
    "Østergaard",
    "Kowalski",
    "Dubois",
    "Rossi",
    "Schäfer",
    "Jónsdóttir",
    "Núñez",
    "Peña",
    "Brown",
    "Williams",
    "Tanaka",
    "Kim",
    "Andersson",
    "van der Berg",
    "MacDonald",
    "Silva",
    "Çelik",
    "Åberg",
    "Papadopoulos",
    "Okafor",
    "Lefèvre",
    "Horváth",
    "Patel",
    "Chen",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Boston", "MA", "US"),
    ("Seattle", "WA", "US"),
    ("Austin", "TX", "US"),
    ("München", "BY", "DE"),
    ("Zürich", "ZH", "CH"),
    ("Montréal", "QC", "CA"),
    ("Dublin", "D", "IE"),
    ("Göteborg", "O", "SE"),
    ("São Paulo", "SP", "BR"),
    ("Kraków", "MA", "PL"),
];
const STREETS: &[&str] = &[
    "Main Street",
    "Oak Avenue",
    "Hauptstraße",
    "Rue de la Paix",
    "Elm Road",
    "Bahnhofstrasse",
    "Harbour Lane",
    "Maple Drive",
    "Rua Augusta",
    "Church Street",
];

/// (LOINC code, display, unit, min, max, decimals, category)
const OBS: &[(&str, &str, &str, f64, f64, u32, &str)] = &[
    (
        "8867-4",
        "Heart rate",
        "/min",
        52.0,
        110.0,
        0,
        "vital-signs",
    ),
    (
        "8480-6",
        "Systolic blood pressure",
        "mm[Hg]",
        98.0,
        168.0,
        0,
        "vital-signs",
    ),
    (
        "8462-4",
        "Diastolic blood pressure",
        "mm[Hg]",
        58.0,
        102.0,
        0,
        "vital-signs",
    ),
    (
        "29463-7",
        "Body weight",
        "kg",
        48.0,
        118.0,
        1,
        "vital-signs",
    ),
    (
        "8310-5",
        "Body temperature",
        "Cel",
        36.0,
        38.6,
        1,
        "vital-signs",
    ),
    (
        "2339-0",
        "Glucose [Mass/volume] in Blood",
        "mg/dL",
        70.0,
        190.0,
        0,
        "laboratory",
    ),
    (
        "39156-5",
        "Body mass index (BMI) [Ratio]",
        "kg/m2",
        18.0,
        36.0,
        1,
        "vital-signs",
    ),
];
const UNIT_DISPLAY: &[(&str, &str)] = &[
    ("/min", "beats/minute"),
    ("mm[Hg]", "mmHg"),
    ("kg", "kg"),
    ("Cel", "°C"),
    ("mg/dL", "mg/dL"),
    ("kg/m2", "kg/m2"),
];
/// (SNOMED code, display)
const CONDITIONS: &[(&str, &str)] = &[
    ("44054006", "Diabetes mellitus type 2"),
    ("38341003", "Hypertensive disorder"),
    ("195967001", "Asthma"),
    ("55822004", "Hyperlipidemia"),
    ("35489007", "Depressive disorder"),
    ("40055000", "Chronic sinusitis"),
    ("233604007", "Pneumonia"),
    ("68566005", "Urinary tract infectious disease"),
    ("271737000", "Anemia"),
];
/// (v3 ActCode, display)
const ENC_CLASS: &[(&str, &str)] = &[
    ("AMB", "ambulatory"),
    ("IMP", "inpatient encounter"),
    ("EMER", "emergency"),
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn guid(rng: &mut StdRng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn instant(t: DateTime<Utc>) -> String {
    super::util::fhir_datetime(t)
}

fn round(v: f64, decimals: u32) -> f64 {
    let f = 10f64.powi(decimals as i32);
    (v * f).round() / f
}

/// Fills `store` with the population; `now` anchors clinical dates and
/// `meta.lastUpdated` (seeded resources are stamped in the past 30 days).
pub fn populate(store: &mut Store, seed: u64, patients: usize, now: DateTime<Utc>) {
    let mut rng = StdRng::seed_from_u64(seed);
    // Clinical dates are relative to a fixed day so content is deterministic.
    let anchor = Utc
        .with_ymd_and_hms(2025, 6, 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let total_estimate = (patients * 8).max(1) as i64;
    let mut serial: i64 = 0;
    let stamp = |serial: &mut i64| {
        *serial += 1;
        now - ChronoDuration::days(30)
            + ChronoDuration::milliseconds(*serial * (30 * 86_400_000 / total_estimate / 2).max(1))
    };
    let mut members = Vec::new();
    for n in 0..patients {
        let pid = guid(&mut rng);
        let r: f64 = rng.random();
        let gender = if r < 0.485 {
            "female"
        } else if r < 0.97 {
            "male"
        } else if r < 0.985 {
            "other"
        } else {
            "unknown"
        };
        let given = if gender == "male" || (gender != "female" && rng.random_bool(0.5)) {
            *pick(&mut rng, GIVEN_M)
        } else {
            *pick(&mut rng, GIVEN_F)
        };
        let middle = if rng.random_bool(0.3) {
            Some(*pick(
                &mut rng,
                if gender == "male" { GIVEN_M } else { GIVEN_F },
            ))
        } else {
            None
        };
        let family = *pick(&mut rng, FAMILY);
        let birth = NaiveDate::from_ymd_opt(
            rng.random_range(1932..=2023),
            rng.random_range(1..=12),
            rng.random_range(1..=28),
        )
        .unwrap_or_default();
        let (city, state, country) = *pick(&mut rng, CITIES);
        let street = format!("{} {}", rng.random_range(1..400), pick(&mut rng, STREETS));
        let mut givens = vec![json!(given)];
        if let Some(m) = middle {
            givens.push(json!(m));
        }
        let email_local: String = format!("{}.{}", fold(given), fold(family))
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let mrn = format!("MRN-{:06}", n + 1);
        let patient = json!({
            "resourceType": "Patient",
            "identifier": [{
                "use": "usual",
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number"}]},
                "system": MRN_SYSTEM,
                "value": mrn
            }],
            "active": true,
            "name": [{
                "use": "official",
                "text": format!("{} {}", givens.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "), family),
                "family": family,
                "given": givens
            }],
            "telecom": [
                {"system": "phone", "value": format!("+1-555-{:03}-{:04}", rng.random_range(100..999), rng.random_range(0..10000)), "use": if rng.random_bool(0.6) { "mobile" } else { "home" }},
                {"system": "email", "value": format!("{email_local}{}@example.com", n + 1)}
            ],
            "gender": gender,
            "birthDate": format!("{:04}-{:02}-{:02}", birth.year(), birth.month(), birth.day()),
            "address": [{
                "use": "home",
                "line": [street],
                "city": city,
                "state": state,
                "postalCode": format!("{:05}", rng.random_range(1000..99999)),
                "country": country
            }]
        });
        let at = stamp(&mut serial);
        store.seed("Patient", &pid, patient, at);
        if members.len() < super::data::GROUP_SIZE {
            members.push(pid.clone());
        }
        let subject =
            json!({"reference": format!("Patient/{pid}"), "display": format!("{given} {family}")});
        let birth_dt = Utc.from_utc_datetime(&birth.and_hms_opt(0, 0, 0).unwrap_or_default());
        let span_days = (anchor - birth_dt).num_days().clamp(30, 5 * 365);
        let random_time = |rng: &mut StdRng| {
            anchor - ChronoDuration::days(rng.random_range(1..span_days))
                + ChronoDuration::minutes(rng.random_range(8 * 60..18 * 60))
        };

        let mut encounter_ids = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let eid = guid(&mut rng);
            let (cls, cls_display) = *pick(&mut rng, ENC_CLASS);
            let start = random_time(&mut rng);
            let end = if cls == "IMP" {
                start + ChronoDuration::days(rng.random_range(1..8))
            } else {
                start + ChronoDuration::minutes(rng.random_range(15..240))
            };
            let in_progress = rng.random_bool(0.05);
            let mut period = json!({"start": instant(start)});
            if !in_progress {
                period["end"] = json!(instant(end));
            }
            let enc = json!({
                "resourceType": "Encounter",
                "status": if in_progress { "in-progress" } else { "finished" },
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": cls, "display": cls_display},
                "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "185349003", "display": "Encounter for check up"}]}],
                "subject": subject,
                "period": period
            });
            store.seed("Encounter", &eid, enc, stamp(&mut serial));
            encounter_ids.push((eid, start));
        }

        for _ in 0..rng.random_range(2..=6) {
            let oid = guid(&mut rng);
            let (code, display, unit, lo, hi, dec, cat) = *pick(&mut rng, OBS);
            let value = round(rng.random_range(lo..hi), dec);
            let (enc_id, enc_start) = pick(&mut rng, &encounter_ids).clone();
            let unit_display = UNIT_DISPLAY
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, d)| *d)
                .unwrap_or(unit);
            let obs = json!({
                "resourceType": "Observation",
                "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": cat, "display": if cat == "laboratory" { "Laboratory" } else { "Vital Signs" }}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}], "text": display},
                "subject": subject,
                "encounter": {"reference": format!("Encounter/{enc_id}")},
                "effectiveDateTime": instant(enc_start + ChronoDuration::minutes(rng.random_range(0..60))),
                "valueQuantity": {"value": value, "unit": unit_display, "system": "http://unitsofmeasure.org", "code": unit}
            });
            store.seed("Observation", &oid, obs, stamp(&mut serial));
        }

        for _ in 0..rng.random_range(0..=2) {
            let cid = guid(&mut rng);
            let (code, display) = *pick(&mut rng, CONDITIONS);
            let active = rng.random_bool(0.7);
            let cond = json!({
                "resourceType": "Condition",
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": if active { "active" } else { "resolved" }}]},
                "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item", "display": "Problem List Item"}]}],
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}], "text": display},
                "subject": subject,
                "onsetDateTime": instant(random_time(&mut rng))
            });
            store.seed("Condition", &cid, cond, stamp(&mut serial));
        }
    }
    let group = json!({
        "resourceType": "Group",
        "type": "person",
        "actual": true,
        "name": "Demo cohort",
        "quantity": members.len(),
        "member": members.iter().map(|m| json!({"entity": {"reference": format!("Patient/{m}")}})).collect::<Vec<_>>()
    });
    store.seed("Group", super::DEMO_GROUP_ID, group, stamp(&mut serial));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_fast() {
        let now = Utc::now();
        let started = std::time::Instant::now();
        let mut a = Store::default();
        populate(&mut a, 42, 1000, now);
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        let mut b = Store::default();
        populate(&mut b, 42, 1000, now);
        let pa: Vec<_> = a
            .all_live("Patient")
            .into_iter()
            .map(|(_, r)| r["name"].clone())
            .collect();
        let pb: Vec<_> = b
            .all_live("Patient")
            .into_iter()
            .map(|(_, r)| r["name"].clone())
            .collect();
        assert_eq!(pa.len(), 1000);
        assert_eq!(pa, pb);
        assert!(a.all_live("Observation").len() >= 2000);
        let group = a.live("Group", super::super::DEMO_GROUP_ID).expect("group");
        assert_eq!(group["member"].as_array().map(Vec::len), Some(GROUP_SIZE));
    }
}
