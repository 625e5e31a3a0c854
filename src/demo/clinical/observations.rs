//! A visit's measurements: vitals (BP panel, heart rate, weight, BMI, temperature, SpO2) and labs
//! with reference ranges and flags, grouped in DiagnosticReports.

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::json;

use super::{Cond, Ctx, Diagnosis, LOINC, normal, quantity, round};

#[allow(clippy::too_many_arguments)]
pub(super) fn vitals(
    cx: &mut Ctx,
    dx: &[Diagnosis],
    enc: &str,
    at: DateTime<Utc>,
    age: f64,
    adult_height: f64,
    base_bmi: f64,
    drift: &mut f64,
    acute: bool,
) {
    let height = if age >= 18.0 {
        adult_height
    } else {
        (0.5 + age * 0.065).min(adult_height)
    };
    *drift = (*drift + normal(cx.rng, 0.0, 0.8)).clamp(-6.0, 6.0);
    let bmi_now = if age >= 18.0 {
        base_bmi
    } else {
        16.0 + age * 0.15
    };
    let weight = round((bmi_now * height * height + *drift).max(3.0), 1);
    let bmi = round(weight / (height * height), 1);
    if age >= 3.0 {
        let (mut sys, mut dia) = (normal(cx.rng, 118.0, 7.0), normal(cx.rng, 76.0, 4.0));
        if let Some(m) = Ctx::since(dx, Cond::Hypertension, at) {
            // Rising in the half year before diagnosis, high at it, easing once treated.
            let lift = if m < -6.0 {
                0.0
            } else if m < 1.0 {
                30.0 * ((m + 6.0) / 7.0).clamp(0.0, 1.0)
            } else {
                (30.0 - m.min(12.0) * 1.2).max(16.0)
            };
            sys += lift;
            dia += lift * 0.55;
        }
        let bp = json!({
            "component": [
                {"code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}], "text": "Systolic blood pressure"},
                 "valueQuantity": quantity(round(sys, 0), "mm[Hg]", "mmHg")},
                {"code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}], "text": "Diastolic blood pressure"},
                 "valueQuantity": quantity(round(dia, 0), "mm[Hg]", "mmHg")}
            ]
        });
        cx.vital(
            enc,
            at,
            &[("85354-9", "Blood pressure panel with all children optional")],
            bp,
        );
    }
    let hr_mean = if age < 12.0 { 95.0 } else { 72.0 } + if acute { 14.0 } else { 0.0 };
    let hr = round(normal(cx.rng, hr_mean, 6.0), 0);
    cx.vital(
        enc,
        at,
        &[("8867-4", "Heart rate")],
        json!({"valueQuantity": quantity(hr, "/min", "beats/minute")}),
    );
    cx.vital(
        enc,
        at,
        &[("29463-7", "Body weight")],
        json!({"valueQuantity": quantity(weight, "kg", "kg")}),
    );
    if age >= 2.0 {
        cx.vital(
            enc,
            at,
            &[("39156-5", "Body mass index (BMI) [Ratio]")],
            json!({"valueQuantity": quantity(bmi, "kg/m2", "kg/m2")}),
        );
    }
    // Temperature and SpO2 are taken at acute visits and at about one routine visit in three.
    if !acute && !cx.rng.random_bool(0.35) {
        return;
    }
    let temp = if acute && cx.rng.random_bool(0.6) {
        normal(cx.rng, 38.4, 0.3)
    } else {
        normal(cx.rng, 36.8, 0.2)
    };
    cx.vital(
        enc,
        at,
        &[("8310-5", "Body temperature")],
        json!({"valueQuantity": quantity(round(temp, 1), "Cel", "°C")}),
    );
    let spo2_mean = if cx.has(dx, Cond::Asthma, at) {
        95.0
    } else {
        97.5
    } - if acute { 2.0 } else { 0.0 };
    let spo2 = round(normal(cx.rng, spo2_mean, 0.8).min(100.0), 0);
    cx.vital(
        enc,
        at,
        &[
            (
                "59408-5",
                "Oxygen saturation in Arterial blood by Pulse oximetry",
            ),
            ("2708-6", "Oxygen saturation in Arterial blood"),
        ],
        json!({"valueQuantity": quantity(spo2, "%", "%")}),
    );
}

/// One lab day: HbA1c, glucose and creatinine (a metabolic panel report);
/// `yearly` adds haemoglobin (CBC report) and the lipid panel.
pub(super) fn labs(cx: &mut Ctx, dx: &[Diagnosis], enc: &str, at: DateTime<Utc>, yearly: bool) {
    let female = cx.person.female;
    // HbA1c and glucose: climbing to diagnosis, easing on metformin.
    let (a1c, glucose) = match Ctx::since(dx, Cond::Diabetes, at) {
        Some(m) if m >= -12.0 => {
            let peak = if m < 0.0 {
                6.0 + 1.8 * (m + 12.0) / 12.0
            } else {
                7.8 - (m.min(9.0) / 9.0) * 0.9
            };
            (
                normal(cx.rng, peak, 0.25),
                normal(cx.rng, 100.0 + (peak - 5.4) * 30.0, 10.0),
            )
        }
        _ => (normal(cx.rng, 5.3, 0.2), normal(cx.rng, 90.0, 7.0)),
    };
    let mut chem = Vec::new();
    chem.push(cx.lab(
        enc,
        at,
        ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
        round(a1c, 1),
        ("%", "%"),
        Some(4.0),
        Some(5.6),
    ));
    chem.push(cx.lab(
        enc,
        at,
        ("2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
        round(glucose, 0),
        ("mg/dL", "mg/dL"),
        Some(70.0),
        Some(99.0),
    ));
    let creat_mean = if female { 0.8 } else { 1.0 }
        + if cx.has(dx, Cond::Diabetes, at) {
            0.25
        } else {
            0.0
        };
    let (lo, hi) = if female { (0.59, 1.04) } else { (0.74, 1.35) };
    let creat = round(normal(cx.rng, creat_mean, 0.08), 2);
    chem.push(cx.lab(
        enc,
        at,
        ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
        creat,
        ("mg/dL", "mg/dL"),
        Some(lo),
        Some(hi),
    ));
    cx.report(enc, at, ("51990-0", "Basic metabolic panel - Blood"), &chem);
    if !yearly {
        return;
    }
    // Haemoglobin: low with anaemia (improving on iron).
    let hb_mean = match (Ctx::since(dx, Cond::Anemia, at), female) {
        (Some(m), f) if m >= -3.0 => {
            (if f { 10.4 } else { 11.4 }) + (m.clamp(0.0, 6.0) / 6.0) * 1.5
        }
        (_, true) => 13.6,
        (_, false) => 15.1,
    };
    let (lo, hi) = if female { (12.0, 15.5) } else { (13.5, 17.5) };
    let hb_value = round(normal(cx.rng, hb_mean, 0.35), 1);
    let hb = cx.lab(
        enc,
        at,
        ("718-7", "Hemoglobin [Mass/volume] in Blood"),
        hb_value,
        ("g/dL", "g/dL"),
        Some(lo),
        Some(hi),
    );
    cx.report(
        enc,
        at,
        ("58410-2", "CBC panel - Blood by Automated count"),
        &[hb],
    );
    {
        let high = match Ctx::since(dx, Cond::Hyperlipidemia, at) {
            Some(m) if m >= -12.0 => {
                if m < 3.0 {
                    1.0
                } else {
                    0.55
                }
            }
            _ => 0.0,
        };
        let total = normal(cx.rng, 180.0 + 70.0 * high, 10.0);
        let hdl = normal(cx.rng, if female { 58.0 } else { 48.0 }, 5.0);
        let tg = normal(cx.rng, 120.0 + 80.0 * high, 15.0);
        let ldl = total - hdl - tg / 5.0;
        let results = vec![
            cx.lab(
                enc,
                at,
                ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"),
                round(total, 0),
                ("mg/dL", "mg/dL"),
                None,
                Some(200.0),
            ),
            cx.lab(
                enc,
                at,
                ("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma"),
                round(tg, 0),
                ("mg/dL", "mg/dL"),
                None,
                Some(150.0),
            ),
            cx.lab(
                enc,
                at,
                (
                    "2085-9",
                    "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
                ),
                round(hdl, 0),
                ("mg/dL", "mg/dL"),
                Some(40.0),
                None,
            ),
            cx.lab(
                enc,
                at,
                (
                    "18262-6",
                    "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
                ),
                round(ldl, 0),
                ("mg/dL", "mg/dL"),
                None,
                Some(130.0),
            ),
        ];
        cx.report(
            enc,
            at,
            ("57698-3", "Lipid panel with direct LDL - Serum or Plasma"),
            &results,
        );
    }
}
