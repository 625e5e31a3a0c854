//! Snapshots of the main screen (the four panes, the status bar) at the wide, narrow and large
//! sizes, after the demo flow's first step: the capability statement sent and answered.

use crate::tui::screens::Pane;
use crate::tui::testing::{Rig, path, received};

/// The demo flow's main screen: the capability statement sent and answered.
pub(crate) fn rig_with_response(dir: &std::path::Path) -> Rig {
    let mut rig = Rig::seeded(dir);
    rig.set_fhirurl("azure", "http://fhir.test");
    let p = path(&["Azure FHIR service", "Capability statement"]);
    rig.open(&p);
    let id = rig.send();
    let body = r#"{"resourceType":"CapabilityStatement","status":"active","date":"2026-11-29","fhirVersion":"4.0.1","format":["application/fhir+json"],"rest":[{"mode":"server","resource":[{"type":"Patient","interaction":[{"code":"read"},{"code":"search-type"}]}]}]}"#;
    rig.answer(id, received(200, "application/fhir+json", body));
    if let Some(v) = rig.app.response.responses.get_mut(&p) {
        v.received_at = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00+00:00")
            .unwrap()
            .with_timezone(&chrono::Local);
    }
    rig.app.model.status = None;
    // As after opening it with Enter in the tree, which keeps the focus.
    rig.app.focus = Pane::Collections;
    rig
}

/// The receive time, in the machine's time zone, as `HH:MM:SS` on the response's status line.
pub(crate) fn strip_clock(s: &str) -> String {
    let re_time = |line: &str| -> String {
        if !line.contains(" ms · ") {
            return line.to_string();
        }
        let mut out = String::new();
        let mut rest = line;
        while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
            let candidate = &rest[i..];
            if candidate.len() >= 8
                && candidate.as_bytes()[2] == b':'
                && candidate.as_bytes()[5] == b':'
            {
                out.push_str(&rest[..i]);
                out.push_str("HH:MM:SS");
                rest = &candidate[8..];
            } else {
                out.push_str(&rest[..=i]);
                rest = &rest[i + 1..];
            }
        }
        out.push_str(rest);
        out
    };
    s.lines().map(re_time).collect::<Vec<_>>().join("\n")
}

#[test]
fn main_screen_120x35() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_response(dir.path());
    insta::assert_snapshot!(strip_clock(&rig.draw(120, 35)));
}

#[test]
fn main_screen_80x24_shows_one_pane_with_tabs() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_response(dir.path());
    rig.app.focus = Pane::Response;
    insta::assert_snapshot!(strip_clock(&rig.draw(80, 24)));
}

#[test]
fn main_screen_160x48() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_with_response(dir.path());
    let screen = strip_clock(&rig.draw(160, 48));
    assert!(screen.contains("\"fhirVersion\": \"4.0.1\""), "{screen}");
    insta::assert_snapshot!(screen);
}
