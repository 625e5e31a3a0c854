//! The FHIR browser end to end in a pseudo-terminal against the built-in demo:
//! lookup → open a patient → related data → follow a reference → back → paging.

mod support;

use std::time::Duration;

use support::Pty;

#[test]
fn lookup_open_follow_back_and_page() {
    let mut pty = Pty::spawn(&["--demo"], 120, 35);
    pty.wait_for_text("Azure FHIR service").unwrap();
    pty.send("f");
    pty.wait_for_text("Find a patient").unwrap();
    pty.send("smith");
    // The search runs after a pause in typing; the demo signs in by itself first.
    pty.wait_for_text_within("MRN-", Duration::from_secs(10))
        .unwrap();
    assert!(pty.screen_text().contains("name = smith"));
    pty.enter();
    pty.wait_for_text("o observations").unwrap();
    assert!(
        pty.screen_text().contains("Smith ·"),
        "{}",
        pty.screen_text()
    );
    // The patient's observations as a table.
    pty.send("o");
    pty.wait_for_text("Observation?patient=").unwrap();
    pty.wait_for_text("searchset").unwrap();
    pty.enter();
    pty.wait_for_text("/Observation/").unwrap();
    // The address shows while the page loads; Tab needs the page itself.
    pty.wait_for_text("\"resourceType\": \"Observation\"")
        .unwrap();
    // Tab jumps to the first reference (the subject); Enter follows it.
    pty.tab();
    pty.wait_for(
        |s| {
            let text = s.contents();
            text.lines()
                .any(|l| l.contains("▶") && l.contains("\"reference\": \"Patient/"))
        },
        None,
    )
    .unwrap();
    pty.enter();
    pty.wait_for_text("4/4").unwrap();
    pty.wait_for_text("o observations").unwrap();
    // Back, like a browser.
    pty.send("<");
    pty.wait_for_text("3/4").unwrap();
    // Esc goes back one page; q leaves the browser.
    pty.esc();
    pty.wait_for_text("2/4").unwrap();
    pty.send("q");
    pty.wait_for_text_gone("FHIR browser").unwrap();
    // Paging: the patients list follows its next link.
    pty.send("f");
    pty.wait_for_text("Find a patient").unwrap();
    // Esc closes the lookup bar, back to the page under it; q leaves the browser.
    pty.esc();
    pty.wait_for_text_gone("Find a patient").unwrap();
    pty.wait_for_text("FHIR browser").unwrap();
    pty.send("q");
    pty.wait_for_text_gone("FHIR browser").unwrap();
    pty.send("2");
    pty.send("jjjj");
    pty.enter();
    pty.ctrl_r();
    pty.wait_for_text("200 OK").unwrap();
    pty.send("4");
    pty.send("o");
    pty.wait_for_text("links:").unwrap();
    pty.send("n");
    pty.wait_for_text("ct=").unwrap();
    pty.wait_for_text("searchset").unwrap();
    pty.ctrl_c();
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    pty.assert_terminal_restored();
}

#[test]
fn lookup_patient_chart_lab_row_plot() {
    let mut pty = Pty::spawn(&["--demo"], 120, 35);
    pty.wait_for_text("Azure FHIR service").unwrap();
    pty.send("f");
    pty.wait_for_text("Find a patient").unwrap();
    pty.send("smith");
    pty.wait_for_text_within("MRN-", Duration::from_secs(10))
        .unwrap();
    pty.enter();
    pty.wait_for_text("V chart").unwrap();
    // The chart: $everything, read and built off the UI thread, vitals first.
    pty.send("V");
    pty.wait_for_text_within("Blood pressure (mmHg)", Duration::from_secs(10))
        .unwrap();
    let screen = pty.screen_text();
    assert!(screen.contains("from $everything:"), "{screen}");
    assert!(screen.contains("Chart ready in "), "{screen}");
    // The labs table: latest result per code, its range and flag; Enter plots the row.
    pty.tab();
    pty.wait_for_text("Hemoglobin A1c").unwrap();
    assert!(pty.screen_text().contains("Range"), "{}", pty.screen_text());
    pty.send("j");
    pty.enter();
    pty.wait_for_text("Esc back to the table").unwrap();
    // Esc: the table again, then the patient.
    pty.esc();
    pty.wait_for_text("Trend").unwrap();
    pty.esc();
    pty.wait_for_text("o observations").unwrap();
    pty.wait_for_text_gone("Patient chart").unwrap();
    pty.ctrl_c();
    assert!(pty.wait_exit(Duration::from_secs(5)).is_some());
    pty.assert_terminal_restored();
}
