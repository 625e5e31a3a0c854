//! `T`: a token decoded offline (a terminal jwt.ms): warnings first, then the header and the
//! claims with what each means. Decoded once, when the dialog opens; drawing only lays it out,
//! long explanations wrapping under their own column.

use std::any::Any;
use std::cell::Cell;
use std::time::SystemTime;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Dialog, centered, dialog_block, wrap_words};
use crate::tui::keys::{Action, Ctx};
use crate::tui::msg::Command;
use crate::tui::screens::{Cx, Handled, View};
use crate::worker::auth::jwt::{self, ViewLine};

const NAME_COLUMN: usize = 21;

pub struct TokenViewer {
    pub env: String,
    /// Where the token came from, for the title ("automatic sign-in", "a capture", …).
    pub source: String,
    token: String,
    /// The decoded lines, as `fhirside token` prints them (`jwt::describe`).
    pub rows: Vec<ViewLine>,
    pub scroll: usize,
    lines: Cell<usize>,
    height: Cell<usize>,
}

impl TokenViewer {
    /// Decodes `token` now against what the environment expects; `notes` (e.g. "the last
    /// request sent another token") come first.
    pub fn new(
        env: String,
        source: String,
        token: String,
        expect: &jwt::Expectations,
        notes: Vec<String>,
    ) -> Self {
        let mut rows: Vec<ViewLine> = notes.into_iter().map(ViewLine::Note).collect();
        rows.extend(jwt::describe(&token, expect, SystemTime::now()));
        Self {
            env,
            source,
            token,
            rows,
            scroll: 0,
            lines: Cell::new(0),
            height: Cell::new(1),
        }
    }
}

impl Dialog for TokenViewer {
    fn ctx(&self) -> Ctx {
        Ctx::TokenViewer
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let page = self.height.get().max(1);
        let max = self.lines.get().saturating_sub(self.height.get());
        self.scroll = match action {
            Some(Action::Close) => return Handled::Close,
            Some(Action::Copy) => {
                cx.command(Command::Copy(self.token.clone()));
                cx.info("Token copied to the clipboard (OSC 52). Treat it as a password.");
                return Handled::Yes;
            }
            Some(Action::Down) => self.scroll + 1,
            Some(Action::Up) => self.scroll.saturating_sub(1),
            Some(Action::PageDown) => self.scroll + page,
            Some(Action::PageUp) => self.scroll.saturating_sub(page),
            _ => return Handled::Yes,
        }
        .min(max);
        Handled::Yes
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let r = centered(area, 120, area.height.saturating_sub(2));
        frame.render_widget(Clear, r);
        let block = dialog_block(&format!("Token of '{}' — {}", self.env, self.source), theme);
        let inner = block.inner(r).inner(Margin::new(1, 0));
        frame.render_widget(block, r);
        let [body, hint] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let width = body.width as usize;
        let value_width = width.saturating_sub(NAME_COLUMN + 2).max(10);
        let mut lines: Vec<Line> = Vec::new();
        for row in &self.rows {
            match row {
                ViewLine::Warning(w) => {
                    for l in wrap_words(&format!("⚠ {w}"), width) {
                        lines.push(Line::styled(l, theme.warning));
                    }
                }
                ViewLine::Fine(t) => lines.push(Line::styled(format!("✓ {t}"), theme.ok)),
                ViewLine::Note(t) => {
                    for l in wrap_words(t, width) {
                        lines.push(Line::styled(l, theme.dim));
                    }
                }
                ViewLine::Section(h) => lines.push(Line::styled(
                    h.clone(),
                    theme.accent.add_modifier(Modifier::BOLD),
                )),
                ViewLine::Blank => lines.push(Line::raw("")),
                ViewLine::Field {
                    name,
                    value,
                    explain,
                } => {
                    // The value, then its explanation, both wrapped under the value column.
                    let mut parts: Vec<(String, ratatui::style::Style)> =
                        wrap_words(value, value_width)
                            .into_iter()
                            .map(|l| (l, theme.text))
                            .collect();
                    if !explain.is_empty() {
                        parts.extend(
                            wrap_words(explain, value_width)
                                .into_iter()
                                .map(|l| (l, theme.dim)),
                        );
                    }
                    for (i, (text, style)) in parts.into_iter().enumerate() {
                        let label = if i == 0 {
                            format!("  {name:<w$}", w = NAME_COLUMN - 2)
                        } else {
                            " ".repeat(NAME_COLUMN)
                        };
                        lines.push(Line::from(vec![
                            Span::styled(label, theme.header_name),
                            Span::raw(" "),
                            Span::styled(text, style),
                        ]));
                    }
                }
            }
        }
        self.lines.set(lines.len());
        self.height.set(body.height as usize);
        let scroll = self
            .scroll
            .min(lines.len().saturating_sub(body.height as usize));
        frame.render_widget(
            Paragraph::new(lines).scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
            body,
        );
        let mut hints = crate::tui::widgets::hint_spans(&v.model.keymap, Ctx::TokenViewer, theme);
        hints.push(Span::styled("j/k scroll", theme.dim));
        frame.render_widget(Paragraph::new(Line::from(hints)), hint);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::TokenViewer;
    use crate::tui::model::TokenState;
    use crate::tui::testing::Rig;

    /// A JWT (unsigned) with the demo's header and these claims.
    fn jwt(claims: &str) -> String {
        use base64::Engine;
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            enc(r#"{"typ":"JWT","alg":"RS256"}"#),
            enc(claims)
        )
    }

    /// The seeded workspace, and the name of its active environment.
    fn seeded_with_env(dir: &std::path::Path) -> (Rig, String) {
        let rig = Rig::seeded(dir);
        let env = rig
            .app
            .model
            .active_env
            .clone()
            .expect("an active environment");
        (rig, env)
    }

    /// The seeded workspace's `azure` environment signed in with `access_token`.
    fn signed_in(dir: &std::path::Path, access_token: String) -> Rig {
        let mut rig = Rig::seeded(dir);
        rig.set_client_credentials("azure", "https://ws-svc.fhir.azurehealthcareapis.com");
        rig.app.model.tokens.insert(
            "azure".into(),
            TokenState::Valid(crate::worker::auth::Token {
                access_token,
                expires_at: None,
                refresh_token: None,
                obtained_at: std::time::SystemTime::now(),
            }),
        );
        rig
    }

    /// A token as the demo issues it, decoded in the viewer with its warnings.
    #[test]
    fn token_viewer_explains_claims_and_warns() {
        let dir = tempfile::tempdir().unwrap();
        // Times far in the future so the snapshot does not depend on today's date; no roles.
        let token = jwt(
            r#"{"aud":"https://management.azure.com/","iss":"https://sts.windows.net/t/","tid":"t","appid":"c"}"#,
        );
        let mut rig = signed_in(dir.path(), token);
        rig.key("T");
        assert!(rig.top::<TokenViewer>().is_some(), "{}", rig.status());
        let screen = rig.draw(120, 35);
        assert!(
            screen.contains("aud is https://management.azure.com/"),
            "{screen}"
        );
        assert!(screen.contains("no roles and no scp"), "{screen}");
        insta::assert_snapshot!(screen);
    }

    /// After the walkthrough's "Get token" captured `access_token` into `{{bearerToken}}`, `T`
    /// shows that token — the one the next request sends — not the cached sign-in token.
    #[test]
    fn a_captured_token_is_the_one_shown() {
        let dir = tempfile::tempdir().unwrap();
        let sub = |sub: &str| jwt(&format!(r#"{{"sub":"{sub}","exp":4102444800}}"#));
        let mut rig = signed_in(dir.path(), sub("from-sign-in"));
        rig.app
            .model
            .set_session_var("bearerToken", sub("from-capture"));
        rig.key("T");
        let viewer = rig.top::<TokenViewer>().expect("viewer open");
        assert!(viewer.source.contains("a capture"), "{}", viewer.source);
        let screen = rig.draw(120, 35);
        assert!(screen.contains("from-capture"), "{screen}");
        assert!(!screen.contains("from-sign-in"), "{screen}");
    }

    /// An environment with no sign-in whose file holds a `bearerToken` sends that token: `T`
    /// shows it, named as set by hand (the same rule `worker::auth::token_in_variable` gives
    /// the worker), where it once said there was no token.
    #[test]
    fn a_hand_set_token_without_sign_in_is_shown() {
        let dir = tempfile::tempdir().unwrap();
        let (mut rig, env) = seeded_with_env(dir.path());
        rig.set_fhirurl(&env, "http://127.0.0.1:9/fhir");
        if let Some(e) = rig.app.model.ws.environment_mut(&env) {
            e.auth = None;
            e.set("bearerToken", "hand-set-token");
        }
        rig.key("T");
        let viewer = rig.top::<TokenViewer>().expect("viewer open");
        assert!(viewer.source.contains("set by hand"), "{}", viewer.source);
        assert_eq!(viewer.token, "hand-set-token");
    }

    /// A sign-in that finishes after the user captured a token keeps the user's in
    /// `{{bearerToken}}` and says so; a later renewal replaces only its own earlier copy.
    #[test]
    fn sign_in_does_not_overwrite_a_captured_token() {
        use crate::worker::WorkerEvent;
        use crate::worker::auth::{AuthEvent, Token};
        let dir = tempfile::tempdir().unwrap();
        let (mut rig, env) = seeded_with_env(dir.path());
        let token = |v: &str| Token {
            access_token: v.into(),
            expires_at: None,
            refresh_token: None,
            obtained_at: std::time::SystemTime::now(),
        };
        let acquired = |v: &str, renewed| {
            WorkerEvent::Auth(AuthEvent::Acquired {
                env: env.clone(),
                token: token(v),
                variable: "bearerToken".into(),
                renewed,
            })
        };
        let var = |rig: &Rig| {
            rig.app
                .model
                .session_vars
                .iter()
                .find(|(k, _)| k == "bearerToken")
                .map(|(_, v)| v.clone())
        };
        // Nothing there: mirrored; renewed: replaced.
        rig.worker_event(acquired("auto-1", false));
        assert_eq!(var(&rig).as_deref(), Some("auto-1"));
        rig.worker_event(acquired("auto-2", true));
        assert_eq!(var(&rig).as_deref(), Some("auto-2"));
        // The user's capture: kept through a renewal, and the status bar says so.
        rig.app
            .model
            .set_session_var("bearerToken", "captured".into());
        rig.worker_event(acquired("auto-3", true));
        assert_eq!(var(&rig).as_deref(), Some("captured"));
        assert!(
            rig.status().contains("keeps the token you put there"),
            "{}",
            rig.status()
        );
    }
}
