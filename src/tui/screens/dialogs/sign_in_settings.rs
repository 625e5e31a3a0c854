//! `S`: an environment's sign-in settings. The kind (and the token endpoint's flavor) is
//! picked from a list, only the fields that kind uses are shown, text fields are edited in
//! place, and nothing is written until the user saves (`Ctrl-S`, or `s` to save and sign in).

use std::any::Any;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Row, Table, TableState};

use super::confirm::Confirm;
use super::{Dialog, centered, dialog_block};
use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::{Cx, Handled, Intent, View, environments};
use crate::tui::widgets::mask;
use crate::tui::widgets::text_field::TextField;
use crate::workspace::{AuthConfig, AuthKind, TokenFlavor};

const FLAVORS: [TokenFlavor; 3] = [
    TokenFlavor::EntraV1,
    TokenFlavor::EntraV2,
    TokenFlavor::Oauth2,
];

/// The settings a kind uses, in the order shown (after `kind`).
pub fn fields_of(kind: AuthKind) -> &'static [&'static str] {
    match kind {
        AuthKind::None => &[],
        AuthKind::Bearer => &["token", "token_variable"],
        AuthKind::ClientCredentials => &[
            "flavor",
            "client_id",
            "client_secret",
            "client_secret_command",
            "audience",
            "scope",
            "token_url",
            "token_variable",
        ],
        AuthKind::AuthorizationCode => &[
            "flavor",
            "client_id",
            "client_secret",
            "audience",
            "scope",
            "authorize_url",
            "token_url",
            "redirect_port",
            "redirect_path",
            "token_variable",
        ],
        AuthKind::DeviceCode => &[
            "flavor",
            "client_id",
            "audience",
            "scope",
            "device_code_url",
            "token_url",
            "token_variable",
        ],
        AuthKind::Command => &["command", "command_timeout_secs", "token_variable"],
        AuthKind::PrivateKeyJwt => &[
            "flavor",
            "client_id",
            "key_file",
            "key_command",
            "certificate_file",
            "algorithm",
            "key_id",
            "audience",
            "scope",
            "token_url",
            "token_variable",
        ],
    }
}

/// What an unset field means, shown dimmed beside it.
pub fn field_default(field: &str) -> &'static str {
    match field {
        "client_id" => "{{clientid}}",
        "client_secret" => "{{clientsecret}} (from secrets.toml)",
        "client_secret_command" => "none; e.g. a vault CLI that prints the secret, run at sign-in",
        "audience" => "{{fhirurl}}",
        "scope" => {
            "v1: none (resource = audience); v2: {audience}/.default; user sign-in adds offline_access"
        }
        "token_url" => "{{authority}}/{{tenantid}}/oauth2/token (v2: …/oauth2/v2.0/token)",
        "authorize_url" => "{{authority}}/{{tenantid}}/oauth2/v2.0/authorize",
        "device_code_url" => "{{authority}}/{{tenantid}}/oauth2/v2.0/devicecode",
        "redirect_port" => "8400 (redirect URI http://localhost:8400/)",
        "redirect_path" => "/",
        "command" => {
            "e.g. az account get-access-token --resource {{fhirurl}} --query accessToken -o tsv"
        }
        "command_timeout_secs" => "60",
        "token" => "{{bearerToken}}",
        "token_variable" => "bearerToken",
        "key_file" => "none; the PEM private key's path (fhirside keygen makes one)",
        "key_command" => "none; a command that prints the PEM private key (a vault CLI)",
        "certificate_file" => {
            "Entra: the certificate in the key file (its thumbprint goes in x5t#S256)"
        }
        "algorithm" => "Entra: PS256; SMART: RS384 (RSA key) or ES384 (EC key)",
        "key_id" => "SMART: the key's RFC 7638 thumbprint (as fhirside keygen prints it)",
        _ => "",
    }
}

fn flavor_label(f: TokenFlavor) -> &'static str {
    match f {
        TokenFlavor::EntraV1 => "Entra ID v1",
        TokenFlavor::EntraV2 => "Entra ID v2",
        TokenFlavor::Oauth2 => "any OAuth2 server",
    }
}

pub fn field_value(c: &AuthConfig, field: &str) -> Option<String> {
    match field {
        "kind" => Some(c.kind.label().to_string()),
        "flavor" => Some(flavor_label(c.flavor).to_string()),
        "client_id" => c.client_id.clone(),
        "client_secret" => c.client_secret.clone(),
        "client_secret_command" => c.client_secret_command.clone(),
        "audience" => c.audience.clone(),
        "scope" => c.scope.clone(),
        "token_url" => c.token_url.clone(),
        "authorize_url" => c.authorize_url.clone(),
        "device_code_url" => c.device_code_url.clone(),
        "redirect_port" => c.redirect_port.map(|p| p.to_string()),
        "redirect_path" => c.redirect_path.clone(),
        "command" => c.command.clone(),
        "command_timeout_secs" => c.command_timeout_secs.map(|p| p.to_string()),
        "token" => c.token.clone(),
        "token_variable" => c.token_variable.clone(),
        "key_file" => c.key_file.clone(),
        "key_command" => c.key_command.clone(),
        "certificate_file" => c.certificate_file.clone(),
        "algorithm" => c.algorithm.clone(),
        "key_id" => c.key_id.clone(),
        _ => None,
    }
}

/// Sets a text field; an empty value goes back to the default. Errors are sentences.
pub fn set_field(c: &mut AuthConfig, field: &str, value: &str) -> Result<(), String> {
    let v = value.trim();
    let opt = || (!v.is_empty()).then(|| v.to_string());
    let num = |what: &str| -> Result<Option<u64>, String> {
        if v.is_empty() {
            Ok(None)
        } else {
            v.parse()
                .map(Some)
                .map_err(|_| format!("{what} must be a whole number"))
        }
    };
    match field {
        "client_id" => c.client_id = opt(),
        "client_secret" => c.client_secret = opt(),
        "client_secret_command" => c.client_secret_command = opt(),
        "audience" => c.audience = opt(),
        "scope" => c.scope = opt(),
        "token_url" => c.token_url = opt(),
        "authorize_url" => c.authorize_url = opt(),
        "device_code_url" => c.device_code_url = opt(),
        "redirect_port" => {
            c.redirect_port = num("redirect_port")?
                .map(|n| {
                    u16::try_from(n).map_err(|_| "redirect_port must be below 65536".to_string())
                })
                .transpose()?
        }
        "redirect_path" => {
            c.redirect_path = opt().map(|p| {
                if p.starts_with('/') {
                    p
                } else {
                    format!("/{p}")
                }
            })
        }
        "command" => c.command = opt(),
        "command_timeout_secs" => c.command_timeout_secs = num("command_timeout_secs")?,
        "token" => c.token = opt(),
        "token_variable" => c.token_variable = opt(),
        "key_file" => c.key_file = opt(),
        "key_command" => c.key_command = opt(),
        "certificate_file" => c.certificate_file = opt(),
        "algorithm" => c.algorithm = opt().map(|a| a.to_ascii_uppercase()),
        "key_id" => c.key_id = opt(),
        other => return Err(format!("'{other}' is picked from a list, not typed")),
    }
    Ok(())
}

/// What the Enter key opened on the selected row.
enum Editing {
    Text(Box<TextField>),
    /// A list to pick from (the kind or the flavor), with the highlighted choice.
    Pick(usize),
}

pub struct SignInSettings {
    pub env: String,
    pub draft: AuthConfig,
    saved: AuthConfig,
    pub row: usize,
    editing: Option<Editing>,
    problem: Option<String>,
}

impl SignInSettings {
    pub fn new(env: String, config: AuthConfig) -> Self {
        Self {
            env,
            saved: config.clone(),
            draft: config,
            row: 0,
            editing: None,
            problem: None,
        }
    }

    /// The rows shown: `kind`, then the fields the kind uses.
    pub fn rows(&self) -> Vec<&'static str> {
        let mut rows = vec!["kind"];
        rows.extend_from_slice(fields_of(self.draft.kind));
        rows
    }

    fn field(&self) -> &'static str {
        let rows = self.rows();
        rows[self.row.min(rows.len() - 1)]
    }

    pub fn dirty(&self) -> bool {
        self.draft != self.saved
    }

    fn choices(field: &str) -> Vec<String> {
        match field {
            "kind" => AuthKind::ALL
                .iter()
                .map(|k| k.label().to_string())
                .collect(),
            _ => FLAVORS
                .iter()
                .map(|f| flavor_label(*f).to_string())
                .collect(),
        }
    }

    fn save(&mut self, cx: &mut Cx, then_sign_in: bool) {
        cx.intent(Intent::Environments(environments::Msg::SetAuth {
            env: self.env.clone(),
            config: Box::new(self.draft.clone()),
        }));
        self.saved = self.draft.clone();
        if then_sign_in {
            cx.intent(Intent::SignIn(self.env.clone()));
        }
    }

    fn on_edit_key(&mut self, key: &KeyEvent, cx: &mut Cx) -> Handled {
        let field = self.field();
        // A choice list takes the picker's keys, a text field the prompt's (keys.toml remaps both).
        match self.editing.as_mut() {
            Some(Editing::Pick(i)) => {
                let n = Self::choices(field).len();
                match cx.model.keymap.lookup(Ctx::Picker, key) {
                    Some(Action::Down) => *i = (*i + 1).min(n - 1),
                    Some(Action::Up) => *i = i.saturating_sub(1),
                    Some(Action::Activate) => {
                        let i = *i;
                        if field == "kind" {
                            self.draft.kind = AuthKind::ALL[i.min(AuthKind::ALL.len() - 1)];
                        } else {
                            self.draft.flavor = FLAVORS[i.min(FLAVORS.len() - 1)];
                        }
                        self.editing = None;
                    }
                    Some(Action::Close) => self.editing = None,
                    _ => {}
                }
            }
            Some(Editing::Text(t)) => match cx.model.keymap.lookup(Ctx::Prompt, key) {
                Some(Action::Finish) => {
                    let value = t.text();
                    match set_field(&mut self.draft, field, &value) {
                        Ok(()) => {
                            self.problem = None;
                            self.editing = None;
                        }
                        Err(e) => self.problem = Some(e),
                    }
                }
                Some(Action::Close) => {
                    self.problem = None;
                    self.editing = None;
                }
                _ => {
                    let a = cx.model.keymap.lookup(Ctx::Text, key);
                    t.input(key, a);
                }
            },
            None => {}
        }
        Handled::Yes
    }
}

impl Dialog for SignInSettings {
    fn ctx(&self) -> Ctx {
        match self.editing {
            Some(Editing::Text(_)) => Ctx::Text,
            _ => Ctx::SignInSettings,
        }
    }

    fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        if self.editing.is_some() {
            return self.on_edit_key(key, cx);
        }
        let rows = self.rows().len();
        match action {
            Some(Action::Down) => self.row = (self.row + 1).min(rows - 1),
            Some(Action::Up) => self.row = self.row.saturating_sub(1),
            Some(Action::Edit) => {
                let field = self.field();
                self.editing = Some(match field {
                    "kind" => Editing::Pick(
                        AuthKind::ALL
                            .iter()
                            .position(|k| *k == self.draft.kind)
                            .unwrap_or(0),
                    ),
                    "flavor" => Editing::Pick(
                        FLAVORS
                            .iter()
                            .position(|f| *f == self.draft.flavor)
                            .unwrap_or(0),
                    ),
                    _ => {
                        let value = field_value(&self.draft, field).unwrap_or_default();
                        let mut t = TextField::line(&value);
                        if field == "client_secret" && !value.contains("{{") {
                            t.mask('•');
                        }
                        Editing::Text(Box::new(t))
                    }
                });
            }
            Some(Action::Save) => {
                self.save(cx, false);
                cx.info(format!("Sign-in settings of '{}' saved.", self.env));
            }
            Some(Action::SignIn) => {
                self.save(cx, true);
                return Handled::Close;
            }
            Some(Action::Close) if self.dirty() => {
                cx.open(Confirm::new(
                    format!(
                        "The sign-in settings of '{}' have unsaved changes. Close and drop them?",
                        self.env
                    ),
                    Intent::CloseDialog,
                ));
            }
            Some(Action::Close) => return Handled::Close,
            _ => {}
        }
        Handled::Yes
    }

    fn on_paste(&mut self, text: &str) -> bool {
        match self.editing.as_mut() {
            Some(Editing::Text(t)) => {
                t.paste(text);
                true
            }
            _ => false,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let rows = self.rows();
        let picking = match &self.editing {
            Some(Editing::Pick(i)) => Some((*i, Self::choices(self.field()))),
            _ => None,
        };
        let extra = picking.as_ref().map_or(0, |(_, c)| c.len());
        let r = centered(area, 110, (rows.len() + extra) as u16 + 7);
        frame.render_widget(Clear, r);
        let title = format!(
            "Sign-in settings of '{}'{}",
            self.env,
            if self.dirty() { " (unsaved)" } else { "" }
        );
        let block = dialog_block(&title, theme);
        let inner = block.inner(r);
        frame.render_widget(block, r);
        let [table_area, problem, hint] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(2),
            Constraint::Length(1),
        ])
        .areas(inner);
        let mut table_rows: Vec<Row> = Vec::new();
        let mut selected_row = 0;
        for (i, f) in rows.iter().enumerate() {
            if i == self.row {
                selected_row = table_rows.len();
            }
            let value = field_value(&self.draft, f);
            let shown = match (value, *f) {
                (Some(v), "client_secret" | "token") if !v.contains("{{") => mask(&v, true, false),
                (Some(v), _) => v,
                (None, _) => String::new(),
            };
            let default = if shown.is_empty() {
                format!("default: {}", field_default(f))
            } else {
                String::new()
            };
            table_rows.push(Row::new(vec![
                Line::styled(f.to_string(), theme.header_name),
                Line::from(vec![
                    Span::styled(shown, theme.text),
                    Span::styled(default, theme.dim),
                ]),
            ]));
            if i == self.row
                && let Some((chosen, choices)) = &picking
            {
                for (j, c) in choices.iter().enumerate() {
                    let style = if j == *chosen {
                        theme.selected
                    } else {
                        theme.text
                    };
                    table_rows.push(Row::new(vec![
                        Line::raw(""),
                        Line::styled(
                            format!("  {} {c}", if j == *chosen { "›" } else { " " }),
                            style,
                        ),
                    ]));
                }
            }
        }
        let table = Table::new(table_rows, [Constraint::Length(22), Constraint::Fill(1)])
            .row_highlight_style(if picking.is_some() {
                theme.text
            } else {
                theme.selected
            });
        let mut st = TableState::default().with_selected(Some(selected_row));
        frame.render_stateful_widget(table, table_area, &mut st);
        if let Some(Editing::Text(t)) = &self.editing {
            // The field being edited is drawn over its value cell.
            let y = table_area.y + (selected_row as u16).saturating_sub(st.offset() as u16);
            if y < table_area.bottom() {
                let cell = Rect {
                    x: table_area.x + 23,
                    y,
                    width: table_area.width.saturating_sub(23),
                    height: 1,
                };
                frame.render_widget(Clear, cell);
                t.draw(frame, cell, true, theme);
            }
        }
        // Under the table: what went wrong, else the selected field's default in full (the
        // table cuts long ones at its edge), wrapped.
        let note = match (&self.problem, rows.get(self.row)) {
            (Some(p), _) => Some(Span::styled(p.clone(), theme.error)),
            (None, Some(&"client_secret")) => Some(Span::styled(
                "Secrets: put {{clientsecret}} here, its value in the variables (secrets.toml).",
                theme.dim,
            )),
            (None, Some(f)) if !field_default(f).is_empty() => Some(Span::styled(
                format!("{f}, when empty: {}", field_default(f)),
                theme.dim,
            )),
            _ => None,
        };
        if let Some(note) = note {
            frame.render_widget(
                Paragraph::new(Line::from(note)).wrap(ratatui::widgets::Wrap { trim: true }),
                problem,
            );
        }
        let keys = |ctx, actions: &[Action]| v.model.keymap.labels(ctx, actions);
        let hints: Vec<Span> = match &self.editing {
            Some(Editing::Text(_)) => vec![
                Span::styled(keys(Ctx::Prompt, &[Action::Finish]), theme.key_hint),
                Span::styled(" keep  ", theme.dim),
                Span::styled(keys(Ctx::Prompt, &[Action::Close]), theme.key_hint),
                Span::styled(" drop the edit  ", theme.dim),
                Span::styled("empty = the default", theme.dim),
            ],
            Some(Editing::Pick(_)) => vec![
                Span::styled(
                    keys(Ctx::Picker, &[Action::Down, Action::Up]),
                    theme.key_hint,
                ),
                Span::styled(" move  ", theme.dim),
                Span::styled(keys(Ctx::Picker, &[Action::Activate]), theme.key_hint),
                Span::styled(" choose  ", theme.dim),
                Span::styled(keys(Ctx::Picker, &[Action::Close]), theme.key_hint),
                Span::styled(" keep as it was", theme.dim),
            ],
            None => {
                let mut h = Vec::new();
                for (key, label) in v.model.keymap.hints(Ctx::SignInSettings) {
                    h.push(Span::styled(key, theme.key_hint));
                    h.push(Span::styled(format!(" {label}  "), theme.dim));
                }
                h
            }
        };
        frame.render_widget(Paragraph::new(Line::from(hints)), hint);
    }

    fn takes_text(&self) -> bool {
        matches!(self.editing, Some(Editing::Text(_)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_shows_only_its_fields() {
        let mut d = SignInSettings::new("e".into(), AuthConfig::default());
        assert_eq!(d.rows(), vec!["kind"]);
        d.draft.kind = AuthKind::Command;
        assert_eq!(
            d.rows(),
            vec!["kind", "command", "command_timeout_secs", "token_variable"]
        );
        d.draft.kind = AuthKind::ClientCredentials;
        assert!(d.rows().contains(&"client_secret"));
        assert!(!d.rows().contains(&"command"));
        assert!(d.dirty());
    }

    #[test]
    fn fields_are_set_and_cleared_with_sentences_for_bad_values() {
        let mut c = AuthConfig::default();
        set_field(&mut c, "redirect_port", "8400").unwrap();
        assert_eq!(c.redirect_port, Some(8400));
        assert!(set_field(&mut c, "redirect_port", "70000").is_err());
        set_field(&mut c, "redirect_path", "cb").unwrap();
        assert_eq!(c.redirect_path.as_deref(), Some("/cb"));
        set_field(&mut c, "redirect_path", " ").unwrap();
        assert_eq!(c.redirect_path, None);
    }
}
