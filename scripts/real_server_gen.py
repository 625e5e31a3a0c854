#!/usr/bin/env python3
"""Realistic patients for scripts/real_server_chart.sh, POSTed one resource at a time to a FHIR
server on this machine (the URL is the only argument; it must be on 127.0.0.1).

Three patients (one a diabetic named Smith), three years of quarterly visits: an Encounter, a
blood-pressure panel with its systolic/diastolic components, heart rate, weight, BMI, body
temperature, SpO2; labs (HbA1c, glucose, total cholesterol, creatinine, haemoglobin) with
reference ranges and H/L/N flags; Conditions with onset (and one abatement), Procedures and
MedicationRequests. Deterministic: the same numbers every run.
"""

import json
import random
import sys
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/")
if urllib.parse.urlparse(BASE).hostname not in ("127.0.0.1", "localhost"):
    sys.exit("real_server_gen.py: the server must be on 127.0.0.1")

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
posted = 0


def post(resource):
    global posted
    req = urllib.request.Request(
        f"{BASE}/{resource['resourceType']}",
        data=json.dumps(resource).encode(),
        headers={"Content-Type": "application/fhir+json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        if r.status >= 300:
            sys.exit(f"POST {resource['resourceType']} answered {r.status}")
    posted += 1


def qty(value, unit, code=None):
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


def concept(code, display, system=LOINC):
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def category(code):
    return [{"coding": [{"system": CAT, "code": code}]}]


def flag(value, low, high):
    code = "H" if value > high else "L" if low is not None and value < low else "N"
    return [{"coding": [{"system": INTERP, "code": code}]}]


def observation(oid, pid, enc, when, code, display, cat, **rest):
    o = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": category(cat),
        "code": concept(code, display),
        "subject": {"reference": f"Patient/{pid}"},
        "encounter": {"reference": f"Encounter/{enc}"},
        "effectiveDateTime": when,
    }
    o.update(rest)
    return o


PATIENTS = [
    ("smith-anna", "Smith", "Anna", "female", "1961-04-12", True),
    ("smith-john", "Smith", "John", "male", "1978-09-30", False),
    ("garcia-maria", "Garcia", "Maria", "female", "1990-01-05", False),
]


def patient(pid, family, given, gender, born, diabetic):
    rnd = random.Random(pid)
    post({
        "resourceType": "Patient",
        "id": pid,
        "active": True,
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": gender,
        "birthDate": born,
    })
    if diabetic:
        post({
            "resourceType": "Condition",
            "id": f"{pid}-dm2",
            "clinicalStatus": concept("active", "Active", "http://terminology.hl7.org/CodeSystem/condition-clinical"),
            "code": concept("44054006", "Diabetes mellitus type 2", "http://snomed.info/sct"),
            "subject": {"reference": f"Patient/{pid}"},
            "onsetDateTime": "2022-02-10",
        })
    post({
        "resourceType": "Condition",
        "id": f"{pid}-bronchitis",
        "clinicalStatus": concept("resolved", "Resolved", "http://terminology.hl7.org/CodeSystem/condition-clinical"),
        "code": concept("10509002", "Acute bronchitis", "http://snomed.info/sct"),
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": "2023-01-14",
        "abatementDateTime": "2023-02-02",
    })
    weight = rnd.uniform(62, 90)
    height = rnd.uniform(1.58, 1.86)
    for visit in range(12):  # quarterly for three years
        year, month = 2022 + visit // 4, 1 + 3 * (visit % 4)
        day = rnd.randint(3, 26)
        when = f"{year}-{month:02d}-{day:02d}T{rnd.randint(8, 16):02d}:{rnd.choice(['05', '20', '40'])}:00Z"
        enc = f"{pid}-enc{visit}"
        post({
            "resourceType": "Encounter",
            "id": enc,
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
            "type": [concept("185349003", "Encounter for check up", "http://snomed.info/sct")],
            "subject": {"reference": f"Patient/{pid}"},
            "period": {"start": when, "end": when[:11] + "17:00:00Z"},
        })
        sys_bp = round(rnd.gauss(138 if diabetic else 121, 6))
        dia_bp = round(rnd.gauss(86 if diabetic else 78, 4))
        post(observation(f"{enc}-bp", pid, enc, when, "85354-9", "Blood pressure panel", "vital-signs", component=[
            {"code": concept("8480-6", "Systolic blood pressure"), "valueQuantity": qty(sys_bp, "mmHg", "mm[Hg]")},
            {"code": concept("8462-4", "Diastolic blood pressure"), "valueQuantity": qty(dia_bp, "mmHg", "mm[Hg]")},
        ]))
        post(observation(f"{enc}-hr", pid, enc, when, "8867-4", "Heart rate", "vital-signs",
                         valueQuantity=qty(round(rnd.gauss(74, 6)), "beats/minute", "/min")))
        weight += rnd.uniform(-1.2, 1.5 if diabetic else 0.8)
        post(observation(f"{enc}-wt", pid, enc, when, "29463-7", "Body weight", "vital-signs",
                         valueQuantity=qty(round(weight, 1), "kg")))
        post(observation(f"{enc}-bmi", pid, enc, when, "39156-5", "Body mass index", "vital-signs",
                         valueQuantity=qty(round(weight / height ** 2, 1), "kg/m2", "kg/m2")))
        post(observation(f"{enc}-temp", pid, enc, when, "8310-5", "Body temperature", "vital-signs",
                         valueQuantity=qty(round(rnd.gauss(36.8, 0.3), 1), "Cel")))
        post(observation(f"{enc}-spo2", pid, enc, when, "59408-5", "Oxygen saturation", "vital-signs",
                         valueQuantity=qty(round(rnd.gauss(97, 1)), "%")))
        labs = [
            ("4548-4", "Hemoglobin A1c", "%", rnd.gauss(7.8 if diabetic else 5.3, 0.4), 4.0, 5.6),
            ("2339-0", "Glucose", "mg/dL", rnd.gauss(155 if diabetic else 92, 12), 70, 99),
            ("2093-3", "Cholesterol", "mg/dL", rnd.gauss(205, 18), None, 200),
            ("2160-0", "Creatinine", "mg/dL", rnd.gauss(0.95, 0.12), 0.6, 1.2),
            ("718-7", "Hemoglobin", "g/dL", rnd.gauss(13.8, 0.9), 12.0, 17.5),
        ]
        for code, name, unit, value, low, high in labs:
            value = round(value, 1 if value < 30 else 0)
            post(observation(f"{enc}-{code}", pid, enc, when, code, name, "laboratory",
                             valueQuantity=qty(value, unit),
                             referenceRange=[{"high": qty(high, unit)} if low is None
                                             else {"low": qty(low, unit), "high": qty(high, unit)}],
                             interpretation=flag(value, low, high)))
        if visit % 4 == 1:
            post({
                "resourceType": "Procedure",
                "id": f"{enc}-ecg",
                "status": "completed",
                "code": concept("29303009", "Electrocardiographic procedure", "http://snomed.info/sct"),
                "subject": {"reference": f"Patient/{pid}"},
                "performedDateTime": when,
            })
    if diabetic:
        post({
            "resourceType": "MedicationRequest",
            "id": f"{pid}-metformin",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": concept("860975", "Metformin 500 MG Oral Tablet", "http://www.nlm.nih.gov/research/umls/rxnorm"),
            "subject": {"reference": f"Patient/{pid}"},
            "authoredOn": "2022-02-10",
            "dosageInstruction": [{"text": "500 mg twice daily with meals"}],
        })


for p in PATIENTS:
    patient(*p)
print(f"posted {posted} resources to {BASE}")
