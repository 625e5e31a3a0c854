//! The chart in the session file (it comes back on its view, fetched again) and in the
//! palette (from a patient, from the main screen with none yet).

use super::tests::{answer, bundle, patient_resources, ready_rig, rig_on_patient, sends};
use super::{State, Tab};
use crate::tui::screens::Screen;
use crate::tui::session::SESSION_FILE;
use crate::tui::testing::Rig;
use crate::worker::RequestId;

const BASE: &str = "http://fhir.test/fhir";

/// A new run on the workspace in `dir` (on a server at [`BASE`]) restoring its session file;
/// the GETs that sent, as (id, url).
fn restored(dir: &std::path::Path) -> (Rig, Vec<(RequestId, String)>) {
    let mut rig = Rig::seeded(dir);
    rig.set_fhirurl("azure", BASE);
    let cmds = rig.app.restore_session(false);
    let sent = sends(&rig.dispatch(cmds));
    (rig, sent)
}

#[test]
fn the_chart_comes_back_from_the_session_on_its_view_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = ready_rig(dir.path());
    rig.key("tab"); // labs
    rig.key("j");
    rig.key("enter"); // the second lab row plotted
    assert_eq!(
        (rig.app.chart.tab, rig.app.chart.plotted),
        (Tab::Labs, Some(1))
    );
    rig.save_session();
    let text = std::fs::read_to_string(dir.path().join(SESSION_FILE)).unwrap();
    assert!(text.contains("[chart]"), "{text}");
    assert!(text.contains("patient = \"p1\""), "{text}");
    assert!(text.contains("tab = \"labs\""), "{text}");
    drop(rig);

    let (mut rig, sent) = restored(dir.path());
    assert_eq!(rig.app.screen, Some(Screen::Chart));
    let urls: Vec<&str> = sent.iter().map(|(_, u)| u.as_str()).collect();
    assert!(
        urls.contains(&format!("{BASE}/Patient/p1").as_str()),
        "the patient's page under the chart: {urls:?}"
    );
    let (id, _) = sent
        .iter()
        .find(|(_, u)| u.contains("/$everything"))
        .expect("the chart is fetched again")
        .clone();
    answer(&mut rig, id, 200, &bundle(&patient_resources(), None));
    assert!(matches!(rig.app.chart.state, State::Ready(_)));
    let c = &rig.app.chart;
    assert_eq!((c.tab, c.lab, c.plotted), (Tab::Labs, 1, Some(1)));
    assert_eq!(c.patient.as_ref().map(|p| p.0.as_str()), Some("p1"));
    // Back from the restored chart: the plot, then the patient.
    rig.key("esc");
    rig.key("esc");
    assert_eq!(rig.app.screen, Some(Screen::Browser));
}

#[test]
fn a_restored_selection_past_the_new_data_is_kept_within_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(SESSION_FILE),
        "[chart]\npatient = \"p1\"\nname = \"Ann\"\ntab = \"labs\"\nvital = 40\nlab = 9\nevent = 99\nplotted = 9\n",
    )
    .unwrap();
    let (mut rig, sent) = restored(dir.path());
    let (id, _) = sent[0].clone();
    answer(&mut rig, id, 200, &bundle(&patient_resources(), None));
    let c = &rig.app.chart;
    assert!(matches!(c.state, State::Ready(_)));
    assert_eq!((c.vital, c.lab, c.event, c.plotted), (5, 1, 10, None));
    // A chart session with an id that is not a FHIR id goes nowhere (nothing is sent).
    std::fs::write(
        dir.path().join(SESSION_FILE),
        "[chart]\npatient = \"../../x\"\n",
    )
    .unwrap();
    let (rig, sent) = restored(dir.path());
    assert!(sent.is_empty());
    assert!(matches!(rig.app.chart.state, State::Failed(_)));
}

#[test]
fn the_palette_charts_the_patient_on_screen_or_finds_one_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut rig = rig_on_patient(dir.path());
    rig.key("ctrl-p");
    rig.typed("patient chart");
    let items =
        crate::tui::screens::dialogs::palette::items(&rig.app.model, &[], "", "patient chart");
    assert_eq!(
        (items[0].label.as_str(), items[0].key.as_deref()),
        ("Patient chart: vitals plotted, labs, timeline", Some("V"))
    );
    let sent = sends(&rig.key("enter"));
    assert_eq!(rig.app.screen, Some(Screen::Chart));
    assert!(
        sent.iter()
            .any(|(_, u)| u.starts_with(&format!("{BASE}/Patient/p1/$everything"))),
        "{sent:?}"
    );

    // From the main screen with no patient anywhere: the lookup, and what to do next.
    let dir = tempfile::tempdir().unwrap();
    let mut rig = Rig::seeded(dir.path());
    rig.set_fhirurl("azure", BASE);
    rig.key("ctrl-p");
    rig.typed("patient chart");
    rig.key("enter");
    assert_eq!(rig.app.screen, Some(Screen::Browser));
    assert!(rig.app.browser.lookup.is_some());
    assert!(
        rig.status().contains("then V charts them"),
        "{}",
        rig.status()
    );
}
