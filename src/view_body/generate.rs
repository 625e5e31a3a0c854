//! Deterministic generator of a realistic FHIR searchset Bundle (compact JSON,
//! one line), shared by benchmarks and tests.

use std::fmt::Write;

const GIVEN: &[&str] = &[
    "James",
    "Mary",
    "Zoë",
    "Jürgen",
    "Aiko",
    "Oluwaseun",
    "María José",
    "Li",
    "Noah",
    "Amelia",
    "Søren",
    "Fatima",
    "Chloé",
    "Mateo",
    "Ingrid",
    "Kwame",
];
const FAMILY: &[&str] = &[
    "Smith",
    "O'Brien",
    "García",
    "Nguyen",
    "Müller",
    "Kowalski",
    "Okafor",
    "Tanaka",
    "Johansson",
    "Rossi",
    "Dubois",
    "Novák",
    "Haddad",
    "Silva",
    "Jensen",
    "Ivanova",
];
const CITY: &[&str] = &[
    "Springfield",
    "Boston",
    "Zürich",
    "Montréal",
    "Lagos",
    "Ōsaka",
    "São Paulo",
    "Oslo",
];
const STREET: &[&str] = &[
    "Main St",
    "Elm Street",
    "Bahnhofstraße",
    "Rue de la Paix",
    "High Rd",
];

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        let n = v.len().max(1) as u64;
        v.get((self.next() % n) as usize).copied().unwrap_or("")
    }
}

/// A searchset Bundle with `patients` Patient entries (about 2.5 KB each, so
/// 20 000 patients ≈ 50 MB), compact JSON on one line. Deterministic.
#[doc(hidden)]
pub fn generate_searchset(patients: usize) -> String {
    let mut r = Lcg(0x5eed_f41d);
    let mut s = String::with_capacity(patients * 2600 + 512);
    let _ = write!(
        s,
        r#"{{"resourceType":"Bundle","id":"b0d1e5f0-5e7a-4c1e-9d3b-searchset","meta":{{"lastUpdated":"2024-05-01T12:00:00.000+00:00"}},"type":"searchset","total":{patients},"link":[{{"relation":"self","url":"https://fhir.example.org/r4/Patient?_count={patients}&name=smith"}},{{"relation":"next","url":"https://fhir.example.org/r4/Patient?_count={patients}&_getpages=abc&_getpagesoffset={patients}"}}],"entry":["#
    );
    for i in 0..patients {
        if i > 0 {
            s.push(',');
        }
        let given = r.pick(GIVEN);
        let given2 = r.pick(GIVEN);
        let family = r.pick(FAMILY);
        let city = r.pick(CITY);
        let street = r.pick(STREET);
        let year = 1930 + r.next() % 90;
        let month = 1 + r.next() % 12;
        let day = 1 + r.next() % 28;
        let gender = if r.next().is_multiple_of(2) {
            "female"
        } else {
            "male"
        };
        let mrn = 100_000 + r.next() % 900_000;
        let lat = (r.next() % 180_000) as f64 / 1000.0 - 90.0;
        let lon = (r.next() % 360_000) as f64 / 1000.0 - 180.0;
        let phone = r.next() % 10_000_000;
        let score = (r.next() % 1000) as f64 / 1000.0;
        let _ = write!(
            s,
            concat!(
                r#"{{"fullUrl":"https://fhir.example.org/r4/Patient/pat-{i}","resource":{{"resourceType":"Patient","id":"pat-{i}","#,
                r#""meta":{{"versionId":"{v}","lastUpdated":"2024-04-{d:02}T08:15:30.123+00:00","profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]}},"#,
                r#""text":{{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><b>{given} {family}</b>, {gender}, born {year}-{month:02}-{day:02}</p><p>MRN: {mrn}</p></div>"}},"#,
                r#""extension":[{{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{{"url":"ombCategory","valueCoding":{{"system":"urn:oid:2.16.840.1.113883.6.238","code":"2106-3","display":"White"}}}},{{"url":"text","valueString":"White"}}]}},"#,
                r#"{{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex","valueCode":"{bs}"}},"#,
                r#"{{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueAddress":{{"city":"{city}","country":"US"}}}}],"#,
                r#""identifier":[{{"use":"usual","type":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR","display":"Medical Record Number"}}],"text":"Medical Record Number"}},"system":"http://hospital.example.org/mrn","value":"{mrn}"}},"#,
                r#"{{"use":"official","type":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"SS"}}]}},"system":"http://hl7.org/fhir/sid/us-ssn","value":"999-{a:02}-{b:04}"}}],"#,
                r#""active":true,"name":[{{"use":"official","family":"{family}","given":["{given}","{given2}"],"prefix":["{prefix}"]}},{{"use":"nickname","given":["{given}"]}}],"#,
                r#""telecom":[{{"system":"phone","value":"+1 555 {phone:07}","use":"home"}},{{"system":"email","value":"patient{i}@example.org","use":"work","rank":2}}],"#,
                r#""gender":"{gender}","birthDate":"{year}-{month:02}-{day:02}","deceasedBoolean":false,"#,
                r#""address":[{{"use":"home","type":"both","text":"{n} {street}, {city}","line":["{n} {street}","Apt {apt}"],"city":"{city}","district":"County {dist}","state":"MA","postalCode":"0{zip:04}","country":"US","period":{{"start":"2010-01-01"}},"#,
                r#""extension":[{{"url":"http://hl7.org/fhir/StructureDefinition/geolocation","extension":[{{"url":"latitude","valueDecimal":{lat:.6}}},{{"url":"longitude","valueDecimal":{lon:.6}}}]}}]}}],"#,
                r#""maritalStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Married"}}],"text":"Married"}},"#,
                r#""communication":[{{"language":{{"coding":[{{"system":"urn:ietf:bcp:47","code":"en-US","display":"English (United States)"}}]}},"preferred":true}}],"#,
                r#""managingOrganization":{{"reference":"Organization/org-{org}","display":"Example Hospital \"North\""}}}},"#,
                r#""search":{{"mode":"match","score":{score}}}}}"#
            ),
            i = i,
            v = 1 + r.next() % 5,
            d = 1 + r.next() % 28,
            given = given,
            given2 = given2,
            family = family,
            gender = gender,
            year = year,
            month = month,
            day = day,
            mrn = mrn,
            bs = if gender == "female" { "F" } else { "M" },
            city = city,
            a = r.next() % 100,
            b = r.next() % 10_000,
            prefix = if gender == "female" { "Ms." } else { "Mr." },
            phone = phone,
            n = 1 + r.next() % 999,
            street = street,
            apt = 1 + r.next() % 99,
            dist = r.next() % 20,
            zip = r.next() % 10_000,
            lat = lat,
            lon = lon,
            org = r.next() % 50,
            score = score,
        );
    }
    s.push_str("]}");
    s
}

const VITALS: &[(&str, &str, &str, &str)] = &[
    ("8867-4", "Heart rate", "beats/minute", "/min"),
    ("9279-1", "Respiratory rate", "breaths/minute", "/min"),
    ("8310-5", "Body temperature", "degrees C", "Cel"),
    ("29463-7", "Body weight", "kg", "kg"),
    ("2708-6", "Oxygen saturation", "%", "%"),
];

/// A searchset Bundle of `entries` small vital-sign Observations (about 425 bytes each, so
/// 109,000 entries ≈ 46 MB: many small entries, as a search of Observations returns), compact
/// JSON on one line. Deterministic.
#[doc(hidden)]
pub fn generate_observations(entries: usize) -> String {
    let mut r = Lcg(0x0b5e_7a11);
    let mut s = String::with_capacity(entries * 440 + 512);
    let _ = write!(
        s,
        r#"{{"resourceType":"Bundle","id":"b0d1e5f0-5e7a-4c1e-9d3b-observations","meta":{{"lastUpdated":"2024-05-01T12:00:00.000+00:00"}},"type":"searchset","total":{entries},"link":[{{"relation":"self","url":"https://fhir.example.org/r4/Observation?category=vital-signs&_count={entries}"}}],"entry":["#
    );
    for i in 0..entries {
        if i > 0 {
            s.push(',');
        }
        let (code, display, unit, ucum) = VITALS[(r.next() as usize) % VITALS.len()];
        let _ = write!(
            s,
            concat!(
                r#"{{"fullUrl":"https://fhir.example.org/r4/Observation/obs-{i}","resource":{{"resourceType":"Observation","id":"obs-{i}","#,
                r#""status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"{code}","display":"{display}"}}]}},"#,
                r#""subject":{{"reference":"Patient/pat-{p}"}},"effectiveDateTime":"2024-04-{d:02}T{h:02}:{m:02}:00+00:00","#,
                r#""valueQuantity":{{"value":{v}.{f},"unit":"{unit}","system":"http://unitsofmeasure.org","code":"{ucum}"}}}},"#,
                r#""search":{{"mode":"match"}}}}"#
            ),
            i = i,
            code = code,
            display = display,
            p = r.next() % 20_000,
            d = 1 + r.next() % 28,
            h = r.next() % 24,
            m = r.next() % 60,
            v = 30 + r.next() % 90,
            f = r.next() % 10,
            unit = unit,
            ucum = ucum,
        );
    }
    s.push_str("]}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_valid_deterministic_json() {
        let a = generate_searchset(3);
        assert_eq!(a, generate_searchset(3));
        let v: serde_json::Value = serde_json::from_str(&a).unwrap();
        assert_eq!(v["entry"].as_array().unwrap().len(), 3);
        assert_eq!(v["entry"][2]["resource"]["resourceType"], "Patient");
        assert!(!a.contains('\n'));
        let per = generate_searchset(100).len() / 100;
        assert!((2000..3500).contains(&per), "{per} bytes per patient");
        let o = generate_observations(1_000);
        assert_eq!(o, generate_observations(1_000));
        let v: serde_json::Value = serde_json::from_str(&o).unwrap();
        assert_eq!(v["entry"].as_array().unwrap().len(), 1_000);
        assert_eq!(v["entry"][9]["resource"]["resourceType"], "Observation");
        let per = o.len() / 1_000;
        assert!((400..450).contains(&per), "{per} bytes per observation");
    }
}
