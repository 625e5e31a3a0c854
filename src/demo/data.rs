//! Deterministic synthetic population (patients with observations,
//! encounters, conditions and one Group) generated from a seed, so the demo
//! needs no downloads and every run with the same seed looks the same.

use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::clinical::{self, Directory, Person};
use super::store::Store;
use super::util::fold;

pub(super) const MRN_SYSTEM: &str = "http://hospital.example.org/mrn";
pub(super) const GROUP_SIZE: usize = 100;

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

const PRACTITIONERS: &[(&str, &str, &str)] = &[
    ("Amara", "Okonkwo", "female"),
    ("Henrik", "Lindqvist", "male"),
    ("Mei", "Takahashi", "female"),
    ("Rafael", "Moreno", "male"),
    ("Claire", "Fitzgerald", "female"),
    ("Tomasz", "Wiśniewski", "male"),
    ("Leila", "Haddad", "female"),
    ("Samuel", "Adeyemi", "male"),
];
/// (name, organization index)
const LOCATIONS: &[(&str, usize)] = &[
    ("Fhirside General Hospital — Emergency Department", 0),
    ("Harbour Lane Family Practice", 1),
    ("Elm Road Health Centre", 1),
];
const ORGANIZATIONS: &[&str] = &["Fhirside General Hospital", "Harbour Lane Primary Care"];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn guid(rng: &mut StdRng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Practitioners (each with a PractitionerRole), organizations and
/// locations: the directory the clinical resources refer to.
fn directory(store: &mut Store, rng: &mut StdRng, at: DateTime<Utc>) -> Directory {
    let mut dir = Directory {
        practitioners: Vec::new(),
        organizations: Vec::new(),
        locations: Vec::new(),
    };
    for (n, name) in ORGANIZATIONS.iter().enumerate() {
        let id = guid(rng);
        let org = json!({
            "resourceType": "Organization",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": format!("19{:08}", 40_000 + n * 7)}],
            "active": true,
            "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov", "display": "Healthcare Provider"}]}],
            "name": name,
            "telecom": [{"system": "phone", "value": format!("+1-555-010-{:04}", 1000 + n)}],
            "address": [{"line": [STREETS[n]], "city": CITIES[0].0, "state": CITIES[0].1, "country": CITIES[0].2}]
        });
        store.seed("Organization", &id, org, at);
        dir.organizations.push((id, name.to_string()));
    }
    for (name, org) in LOCATIONS {
        let id = guid(rng);
        let (org_id, org_name) = &dir.organizations[*org];
        let loc = json!({
            "resourceType": "Location",
            "status": "active",
            "name": name,
            "mode": "instance",
            "managingOrganization": {"reference": format!("Organization/{org_id}"), "display": org_name},
        });
        store.seed("Location", &id, loc, at);
        dir.locations.push((id, name.to_string(), *org));
    }
    for (n, (given, family, gender)) in PRACTITIONERS.iter().enumerate() {
        let id = guid(rng);
        let display = format!("Dr. {given} {family}");
        let prac = json!({
            "resourceType": "Practitioner",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": format!("15{:08}", 10_000 + n * 13)}],
            "active": true,
            "name": [{"use": "official", "text": display, "family": family, "given": [given], "prefix": ["Dr."]}],
            "gender": gender,
        });
        store.seed("Practitioner", &id, prac, at);
        // Everyone works at the practice; the first two also at the hospital.
        let org_ix = if n < 2 { 0 } else { 1 };
        let loc_ix = if n < 2 { 0 } else { 1 + n % 2 };
        let (org_id, org_name) = &dir.organizations[org_ix];
        let (loc_id, loc_name, _) = &dir.locations[loc_ix];
        let role = json!({
            "resourceType": "PractitionerRole",
            "active": true,
            "practitioner": {"reference": format!("Practitioner/{id}"), "display": display},
            "organization": {"reference": format!("Organization/{org_id}"), "display": org_name},
            "location": [{"reference": format!("Location/{loc_id}"), "display": loc_name}],
            "code": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/practitioner-role", "code": "doctor", "display": "Doctor"}]}],
            "specialty": [{"coding": [{"system": "http://snomed.info/sct", "code": if n < 2 { "773568002" } else { "419772000" }, "display": if n < 2 { "Emergency medicine" } else { "Family practice" }}]}],
        });
        store.seed("PractitionerRole", &guid(rng), role, at);
        dir.practitioners.push((id, display));
    }
    dir
}

/// Fills `store` with the population; `now` anchors clinical dates and
/// `meta.lastUpdated` (seeded resources are stamped in the past 30 days).
pub(super) fn populate(store: &mut Store, seed: u64, patients: usize, now: DateTime<Utc>) {
    let mut rng = StdRng::seed_from_u64(seed);
    // Clinical dates are relative to a fixed day so content is deterministic.
    let anchor = Utc
        .with_ymd_and_hms(2025, 6, 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    // Seeded resources are stamped 2 ms apart, ending before `now`.
    let mut serial: i64 = 0;
    let origin = now - ChronoDuration::days(30);
    let mut stamp = || {
        serial += 1;
        origin + ChronoDuration::milliseconds(serial * 2)
    };
    let mut dir_rng = StdRng::seed_from_u64(seed ^ 0x5eed_d1ec_7042);
    let dir = directory(store, &mut dir_rng, origin);
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
        let gp = n % dir.practitioners.len().max(1);
        let (gp_id, gp_name) = dir.practitioners[gp].clone();
        let (org_id, org_name) = dir.organizations[1].clone();
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
            }],
            "generalPractitioner": [{"reference": format!("Practitioner/{gp_id}"), "display": gp_name}],
            "managingOrganization": {"reference": format!("Organization/{org_id}"), "display": org_name}
        });
        store.seed("Patient", &pid, patient, stamp());
        let rich = members.len() < GROUP_SIZE;
        if rich {
            members.push(pid.clone());
        }
        let display = format!("{given} {family}");
        let birth_dt = Utc.from_utc_datetime(&birth.and_hms_opt(0, 0, 0).unwrap_or_default());
        // Each patient's story has its own stream, so the population's names do
        // not depend on how much clinical data is generated.
        let mut clinical_rng =
            StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ n as u64);
        let person = Person {
            id: &pid,
            display: &display,
            female: gender == "female",
            birth: birth_dt,
            gp,
            rich,
        };
        clinical::generate(store, &mut clinical_rng, &mut stamp, &person, &dir, anchor);
    }
    let group = json!({
        "resourceType": "Group",
        "type": "person",
        "actual": true,
        "name": "Demo cohort",
        "quantity": members.len(),
        "member": members.iter().map(|m| json!({"entity": {"reference": format!("Patient/{m}")}})).collect::<Vec<_>>()
    });
    store.seed("Group", super::DEMO_GROUP_ID, group, stamp());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let now = Utc::now();
        let mut a = Store::default();
        populate(&mut a, 42, 1000, now);
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
        let obs = a.all_live("Observation");
        assert!(obs.len() >= 15_000, "{}", obs.len());
        let oa: Vec<_> = obs
            .iter()
            .map(|(_, r)| r["effectiveDateTime"].clone())
            .collect();
        let ob: Vec<_> = b
            .all_live("Observation")
            .iter()
            .map(|(_, r)| r["effectiveDateTime"].clone())
            .collect();
        assert_eq!(oa, ob, "clinical data is deterministic too");
        for t in [
            "Practitioner",
            "PractitionerRole",
            "Organization",
            "Location",
            "Procedure",
            "MedicationRequest",
            "AllergyIntolerance",
            "DiagnosticReport",
        ] {
            assert!(!a.all_live(t).is_empty(), "{t}");
        }
        let group = a.live("Group", super::super::DEMO_GROUP_ID).expect("group");
        assert_eq!(group["member"].as_array().map(Vec::len), Some(GROUP_SIZE));
    }

    fn value_of(o: &Value) -> f64 {
        o.pointer("/valueQuantity/value")
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    }

    #[test]
    fn values_follow_the_conditions() {
        let mut s = Store::default();
        populate(&mut s, 42, 100, Utc::now());
        let code_of = |r: &Value| {
            r.pointer("/code/coding/0/code")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let onset = |pid: &str, code: &str| {
            s.all_live("Condition").into_iter().find_map(|(_, c)| {
                (c.pointer("/subject/reference").and_then(Value::as_str) == Some(pid)
                    && code_of(&c).as_deref() == Some(code))
                .then(|| c["onsetDateTime"].as_str().unwrap_or("").to_string())
            })
        };
        // (sum, count) of HbA1c after a diabetes diagnosis / without one, and of
        // systolic pressure after a hypertension diagnosis / without one.
        let mut acc = [(0.0f64, 0usize); 4];
        let mut flagged_high = 0;
        let mut add = |i: usize, v: f64| {
            acc[i].0 += v;
            acc[i].1 += 1;
        };
        for (_, o) in s.all_live("Observation") {
            let pid = o
                .pointer("/subject/reference")
                .and_then(Value::as_str)
                .unwrap_or("");
            let when = o["effectiveDateTime"].as_str().unwrap_or("").to_string();
            match code_of(&o).as_deref() {
                Some("4548-4") => match onset(pid, "44054006") {
                    Some(on) if when >= on => {
                        add(0, value_of(&o));
                        if o.pointer("/interpretation/0/coding/0/code") == Some(&json!("H")) {
                            flagged_high += 1;
                        }
                    }
                    Some(_) => {}
                    None => add(1, value_of(&o)),
                },
                Some("85354-9") => {
                    assert_eq!(
                        o.pointer("/component/0/code/coding/0/code"),
                        Some(&json!("8480-6"))
                    );
                    assert_eq!(
                        o.pointer("/component/1/code/coding/0/code"),
                        Some(&json!("8462-4"))
                    );
                    let sys = o
                        .pointer("/component/0/valueQuantity/value")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0);
                    match onset(pid, "38341003") {
                        Some(on) if when >= on => add(2, sys),
                        Some(_) => {}
                        None => add(3, sys),
                    }
                }
                _ => {}
            }
        }
        let mean = |i: usize| acc[i].0 / acc[i].1.max(1) as f64;
        assert!(acc.iter().all(|(_, n)| *n > 0), "{acc:?}");
        assert!(
            mean(0) > 6.8 && mean(1) < 5.7,
            "HbA1c {} vs {}",
            mean(0),
            mean(1)
        );
        assert!(
            flagged_high * 10 >= acc[0].1 * 9,
            "diabetics' HbA1c flagged H"
        );
        assert!(
            mean(2) > 132.0 && mean(3) < 125.0,
            "systolic {} vs {}",
            mean(2),
            mean(3)
        );
    }
}
