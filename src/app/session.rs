//! Session restore: where the user was (active environment, open request, selection, expanded
//! folders, focused pane, the screen on top, each response's tab and scroll) is written to the
//! workspace's `.session.toml` shortly after it changes and on every exit, and put back at the
//! next start. Responses themselves come back from history; drafts and export jobs have their
//! own files.

use serde::{Deserialize, Serialize};

use super::response::ResponseTab;
use super::state::{App, Overlay, Pane};
use super::update::Command;
use crate::workspace::NodePath;

pub const SESSION_FILE: &str = ".session.toml";

/// Responses whose place is remembered (the most recently shown first).
const MAX_REMEMBERED: usize = 20;

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
    /// The FHIR browser, when it was on screen.
    pub browser: Option<BrowserPlace>,
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

fn tab_name(t: ResponseTab) -> &'static str {
    match t {
        ResponseTab::Body => "body",
        ResponseTab::Headers => "headers",
        ResponseTab::Raw => "raw",
    }
}

fn tab_from(s: &str) -> ResponseTab {
    match s {
        "headers" => ResponseTab::Headers,
        "raw" => ResponseTab::Raw,
        _ => ResponseTab::Body,
    }
}

/// Reads the session file: `Ok(None)` when there is none; `Err` names the file and position.
pub fn load_session(root: &std::path::Path) -> Result<Option<Session>, String> {
    let path = root.join(SESSION_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
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

impl App {
    /// The session as it is now.
    pub fn session_snapshot(&self) -> Session {
        let selected = self
            .tree_rows()
            .get(self.tree_selected)
            .map(|r| r.path.0.clone());
        let mut expanded: Vec<Vec<String>> = self.expanded.iter().map(|p| p.0.clone()).collect();
        expanded.sort();
        let mut responses: Vec<(&NodePath, &super::response::ResponseView)> =
            self.responses.iter().collect();
        // The open one first, then the newest answers.
        responses.sort_by_key(|(p, v)| {
            (
                Some(*p) != self.open.as_ref(),
                std::cmp::Reverse(v.received_at),
            )
        });
        let responses = responses
            .into_iter()
            .take(MAX_REMEMBERED)
            .map(|(p, v)| ResponsePlace {
                request: p.0.clone(),
                tab: tab_name(v.tab).into(),
                scroll: v.pane().map_or(v.headers_scroll, |pane| pane.cursor_line()),
            })
            .collect();
        let screen = match &self.overlay {
            Some(Overlay::History) => Some("history".to_string()),
            Some(Overlay::Jobs { .. }) => Some("jobs".to_string()),
            _ => None,
        };
        let browser = self
            .browser
            .as_ref()
            .filter(|_| self.browsing)
            .map(|b| BrowserPlace {
                lookup: b
                    .lookup
                    .as_ref()
                    .map(|l| l.input.lines().join(""))
                    .filter(|t| !t.trim().is_empty()),
                url: b.current().map(|p| p.url.clone()),
            })
            .filter(|p| p.lookup.is_some() || p.url.is_some());
        Session {
            browser,
            active_env: self.active_env.clone(),
            focus: Some(self.focus.title().to_ascii_lowercase()),
            open: self.open.as_ref().map(|p| p.0.clone()),
            selected,
            expanded,
            screen,
            history_filter: self
                .history_view
                .as_ref()
                .filter(|v| v.saved.is_none())
                .map(|v| v.filter_text())
                .unwrap_or_default(),
            responses,
        }
    }

    /// Whether the place differs from what the session file holds.
    pub fn session_changed(&self) -> bool {
        !self.session_broken && self.session_saved.as_ref() != Some(&self.session_snapshot())
    }

    /// Writes the session file when it changed since the last write. A broken session file
    /// (reported at start) is never written over.
    pub fn save_session(&mut self) {
        if self.session_broken {
            return;
        }
        let now = self.session_snapshot();
        if self.session_saved.as_ref() == Some(&now) {
            return;
        }
        let Ok(text) = toml::to_string_pretty(&now) else {
            return;
        };
        let path = self.store.root().join(SESSION_FILE);
        if crate::workspace::atomic::write_atomic(&path, text.as_bytes(), false).is_ok() {
            self.session_saved = Some(now);
        }
    }

    /// At start: puts the last session back (what still exists of it), and asks history for
    /// the responses that were on screen. `env_given`: the command line chose the environment.
    pub fn restore_session(&mut self, env_given: bool) -> Vec<Command> {
        let session = match load_session(self.store.root()) {
            Ok(Some(s)) => s,
            Ok(None) => return Vec::new(),
            Err(e) => {
                self.session_broken = true;
                self.error(e);
                return Vec::new();
            }
        };
        self.session_saved = Some(session.clone());
        if !env_given
            && let Some(env) = &session.active_env
            && self.ws.environment(env).is_some()
        {
            self.active_env = Some(env.clone());
            if let Some(i) = self.ws.environments.iter().position(|e| &e.name == env) {
                self.env_selected = i;
            }
        }
        for p in &session.expanded {
            let path = NodePath(p.clone());
            if self.ws.folder(&path).is_some() {
                self.expanded.insert(path);
            }
        }
        if let Some(open) = &session.open {
            let path = NodePath(open.clone());
            if self.ws.request(&path).is_some() {
                self.open_request(&path);
            }
        }
        if let Some(sel) = &session.selected
            && let Some(i) = self.tree_rows().iter().position(|r| &r.path.0 == sel)
        {
            self.tree_selected = i;
        }
        if let Some(f) = &session.focus
            && let Some(p) = Pane::ALL.iter().find(|p| p.title().eq_ignore_ascii_case(f))
        {
            self.focus = *p;
        }
        self.restore_places = session
            .responses
            .iter()
            .filter(|r| self.ws.request(&NodePath(r.request.clone())).is_some())
            .cloned()
            .collect();
        let mut cmds: Vec<Command> = if self.history_enabled {
            self.restore_places
                .iter()
                .map(|r| {
                    Command::History(super::history::HistoryCall::Latest {
                        saved: r.request.join(" / "),
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        // The browser as it was: the lookup searched again, or the page fetched again (GETs).
        if let Some(b) = &session.browser
            && !self.fhir_base().is_empty()
        {
            if let Some(text) = &b.lookup {
                self.open_lookup();
                if let Some(l) = self.browser.as_mut().and_then(|b| b.lookup.as_mut()) {
                    l.input = super::state::line_area(text);
                    l.typed_at = Some(std::time::Instant::now() - super::browser::LOOKUP_DEBOUNCE);
                }
                cmds.extend(self.lookup_tick());
            } else if let Some(url) = &b.url {
                cmds.extend(self.browse_to(url.clone()));
            }
        }
        // Only when nothing else (a problem report, drafts) needs the screen first.
        if self.overlay.is_none() {
            match session.screen.as_deref() {
                Some("history") if self.history_enabled => {
                    let mut c = self.open_history(None);
                    if let Some(v) = self.history_view.as_mut()
                        && !session.history_filter.is_empty()
                    {
                        v.filter = super::state::line_area(&session.history_filter);
                        c = self.open_history(None);
                    }
                    cmds.extend(c);
                }
                Some("jobs") => self.overlay = Some(Overlay::Jobs { selected: 0 }),
                _ => {}
            }
        }
        cmds
    }

    /// A restored request's last answer, from history, back in its Response pane.
    pub fn on_latest_entry(&mut self, saved: &str, entry: Option<crate::history::Entry>) {
        let Some(place) = self
            .restore_places
            .iter()
            .position(|r| r.request.join(" / ") == saved)
            .map(|i| self.restore_places.remove(i))
        else {
            return;
        };
        let path = NodePath(place.request.clone());
        let Some(entry) = entry else {
            return;
        };
        if self.responses.contains_key(&path) {
            return; // answered again since the start
        }
        let mut view = super::history::loaded_entry(entry).view;
        view.tab = tab_from(&place.tab);
        if view.tab == ResponseTab::Headers {
            view.headers_scroll = place.scroll.min(view.line_count().saturating_sub(1));
        } else {
            view.goto_line(place.scroll);
        }
        view.restored = true;
        self.keep_response(path, view);
    }
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
}
