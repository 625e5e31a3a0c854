//! Session restore: where the user was (active environment, open request, selection, expanded
//! folders, focused pane, the screen on top, each response's tab and scroll) is written to the
//! workspace's `.session.toml` shortly after it changes and on every exit, and put back at the
//! next start. Responses themselves come back from history; drafts and export jobs have their
//! own files.

use serde::{Deserialize, Serialize};

use super::screens::response::ResponseTab;

pub const SESSION_FILE: &str = ".session.toml";

/// Responses whose place is remembered (the most recently shown first).
pub const MAX_REMEMBERED: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Session {
    pub active_env: Option<String>,
    pub focus: Option<String>,
    pub open: Option<Vec<String>>,
    pub selected: Option<Vec<String>>,
    pub expanded: Vec<Vec<String>>,
    /// `history` or `jobs` when one of them was on screen.
    pub screen: Option<String>,
    pub history_filter: String,
    pub responses: Vec<ResponsePlace>,
    /// The FHIR browser, when it was on screen (or under the chart).
    pub browser: Option<BrowserPlace>,
    /// The patient chart, when it was on screen.
    pub chart: Option<ChartPlace>,
}

/// What the patient chart showed: whose, which view, and what was selected there. The data
/// itself is fetched again at restore.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChartPlace {
    pub patient: String,
    pub name: String,
    /// `vitals`, `labs` or `timeline`.
    pub tab: String,
    pub vital: usize,
    pub lab: usize,
    pub event: usize,
    /// The lab row plotted, when one was.
    pub plotted: Option<usize>,
}

/// What the FHIR browser showed: a lookup being typed, or a page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrowserPlace {
    /// The text in the lookup bar (searched again at restore).
    pub lookup: Option<String>,
    /// The page on screen (fetched again at restore).
    pub url: Option<String>,
}

/// Where a request's response was scrolled to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponsePlace {
    pub request: Vec<String>,
    pub tab: String,
    pub scroll: usize,
}

pub fn tab_name(t: ResponseTab) -> &'static str {
    match t {
        ResponseTab::Body => "body",
        ResponseTab::Headers => "headers",
        ResponseTab::Raw => "raw",
    }
}

pub fn tab_from(s: &str) -> ResponseTab {
    match s {
        "headers" => ResponseTab::Headers,
        "raw" => ResponseTab::Raw,
        _ => ResponseTab::Body,
    }
}

/// Reads the session file: `Ok(None)` when there is none; `Err` names the file and position.
pub fn load_session(root: &std::path::Path) -> Result<Option<Session>, String> {
    let path = root.join(SESSION_FILE);
    // Only a missing file means "no session": one that cannot be read (not UTF-8, no
    // permission) is reported and left alone like a file that does not parse.
    let text = match std::fs::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let (l, c) = crate::workspace::store::line_col(
                    &String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]),
                    e.utf8_error().valid_up_to(),
                );
                return Err(format!(
                    "{}:{l}:{c}: not UTF-8 text (the session is not restored, and the file is left alone)",
                    path.display()
                ));
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "{}: {e} (the session is not restored, and the file is left alone)",
                path.display()
            ));
        }
    };
    toml::from_str(&text).map(Some).map_err(|e| {
        let pos = e
            .span()
            .map(|s| {
                let (l, c) = crate::workspace::store::line_col(&text, s.start);
                format!(":{l}:{c}")
            })
            .unwrap_or_default();
        format!(
            "{}{pos}: {} (the session is not restored, and the file is left alone)",
            path.display(),
            e.message().trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_round_trips_through_toml() {
        let s = Session {
            active_env: Some("prod".into()),
            focus: Some("response".into()),
            open: Some(vec!["C".into(), "R".into()]),
            selected: Some(vec!["C".into(), "R".into()]),
            expanded: vec![vec!["C".into()], vec!["C".into(), "F".into()]],
            screen: Some("history".into()),
            history_filter: "GET 4xx".into(),
            browser: Some(BrowserPlace {
                lookup: Some("smith 1970".into()),
                url: None,
            }),
            chart: Some(ChartPlace {
                patient: "p1".into(),
                name: "Ann Smith".into(),
                tab: "labs".into(),
                vital: 1,
                lab: 2,
                event: 0,
                plotted: Some(2),
            }),
            responses: vec![ResponsePlace {
                request: vec!["C".into(), "R".into()],
                tab: "raw".into(),
                scroll: 42,
            }],
        };
        let text = toml::to_string_pretty(&s).unwrap();
        let back: Session = toml::from_str(&text).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_broken_session_file_is_reported_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(SESSION_FILE),
            "active_env = \"x\"\nfocus = [\n",
        )
        .unwrap();
        let e = load_session(dir.path()).unwrap_err();
        assert!(e.contains(".session.toml:"), "{e}");
        assert!(e.contains("left alone"), "{e}");
        assert_eq!(load_session(&dir.path().join("none")), Ok(None));
    }

    #[test]
    fn a_session_file_of_bytes_that_are_not_text_is_reported_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(SESSION_FILE),
            b"focus = \"a\"\n\xff\xfe\x00junk",
        )
        .unwrap();
        let e = load_session(dir.path()).unwrap_err();
        assert!(e.contains("not UTF-8"), "{e}");
        assert!(e.contains(":2:1"), "{e}");
    }
}
