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
use crate::worker::auth::jwt;

const NAME_COLUMN: usize = 21;

/// One row of the viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Warning(String),
    Ok(String),
    Note(String),
    Heading(&'static str),
    Claim {
        name: String,
        value: String,
        explain: String,
    },
    Blank,
}

pub struct TokenViewer {
    pub env: String,
    /// Where the token came from, for the title ("automatic sign-in", "captured", …).
    pub source: String,
    token: String,
    pub rows: Vec<Row>,
    pub scroll: usize,
    lines: Cell<usize>,
    height: Cell<usize>,
}

impl TokenViewer {
    /// Decodes `token` now; `audience` is what the environment expects in `aud`.
    pub fn new(env: String, source: String, token: String, audience: &str) -> Self {
        let rows = decode_rows(&token, audience, SystemTime::now());
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

/// The rows for a token: warnings, header, claims.
pub fn decode_rows(token: &str, audience: &str, now: SystemTime) -> Vec<Row> {
    let mut rows = Vec::new();
    let Some(d) = jwt::decode(token) else {
        rows.push(Row::Note(
            "This token is not a JWT (an opaque token): nothing to decode.".into(),
        ));
        return rows;
    };
    for w in jwt::warnings(&d, audience, now) {
        rows.push(Row::Warning(w));
    }
    if rows.is_empty() {
        rows.push(Row::Ok(
            "audience matches, roles or scopes present, not expired".into(),
        ));
    }
    rows.push(Row::Blank);
    rows.push(Row::Heading("Header"));
    if let Some(obj) = d.header.as_object() {
        for (k, v) in obj {
            rows.push(Row::Claim {
                name: k.clone(),
                value: v.to_string(),
                explain: String::new(),
            });
        }
    }
    rows.push(Row::Blank);
    rows.push(Row::Heading("Claims"));
    if let Some(obj) = d.claims.as_object() {
        for (k, v) in obj {
            let value = if matches!(k.as_str(), "iat" | "nbf" | "exp") {
                jwt::time_claim(v, now).unwrap_or_else(|| v.to_string())
            } else {
                match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }
            };
            rows.push(Row::Claim {
                name: k.clone(),
                value,
                explain: jwt::explain_claim(k).to_string(),
            });
        }
    }
    rows
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
                Row::Warning(w) => {
                    for l in wrap_words(&format!("⚠ {w}"), width) {
                        lines.push(Line::styled(l, theme.warning));
                    }
                }
                Row::Ok(t) => lines.push(Line::styled(format!("✓ {t}"), theme.ok)),
                Row::Note(t) => {
                    for l in wrap_words(t, width) {
                        lines.push(Line::styled(l, theme.dim));
                    }
                }
                Row::Heading(h) => {
                    lines.push(Line::styled(*h, theme.accent.add_modifier(Modifier::BOLD)))
                }
                Row::Blank => lines.push(Line::raw("")),
                Row::Claim {
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
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Decoded here, offline; the signature is not checked.",
            theme.dim,
        ));
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

    /// A token as the demo issues it, decoded in the viewer with its warnings.
    #[test]
    fn token_viewer_explains_claims_and_warns() {
        use base64::Engine;
        let dir = tempfile::tempdir().unwrap();
        let mut rig = Rig::seeded(dir.path());
        rig.set_client_credentials("azure", "https://ws-svc.fhir.azurehealthcareapis.com");
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        // Times far in the future so the snapshot does not depend on today's date; no roles.
        let token = format!(
            "{}.{}.sig",
            enc(r#"{"typ":"JWT","alg":"RS256"}"#),
            enc(
                r#"{"aud":"https://management.azure.com/","iss":"https://sts.windows.net/t/","tid":"t","appid":"c"}"#
            )
        );
        rig.app.model.tokens.insert(
            "azure".into(),
            TokenState::Valid(crate::worker::auth::Token {
                access_token: token,
                expires_at: None,
                refresh_token: None,
                obtained_at: std::time::SystemTime::now(),
            }),
        );
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
}
