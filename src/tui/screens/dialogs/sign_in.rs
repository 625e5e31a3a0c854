//! An interactive sign-in in progress (device code, or a browser with a loopback redirect):
//! what to open and type, the `ssh -L` line for SSH users, and a spinner while fhirside waits.
//! Sized by its wrapped rows (the authorize URL wraps to several), scrolling when they do not
//! fit; `c` copies the address or code itself, never the box around it.

use std::any::Any;
use std::cell::Cell;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Dialog, centered, dialog_block, wrap_words};
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::SignInView;
use crate::tui::msg::Command;
use crate::tui::screens::{Cx, Handled, Intent, View};
use crate::tui::style::Theme;
use crate::tui::widgets::SPINNER;

pub struct SignIn {
    pub env: String,
    pub scroll: usize,
    rows: Cell<usize>,
    height: Cell<usize>,
}

impl SignIn {
    pub fn new(env: String) -> Self {
        Self {
            env,
            scroll: 0,
            rows: Cell::new(0),
            height: Cell::new(1),
        }
    }

    /// The dialog's text for `view`, each line with its style, before wrapping.
    fn text(
        &self,
        view: &SignInView,
        spinner: &str,
        theme: &Theme,
        copy_key: &str,
    ) -> Vec<(String, ratatui::style::Style)> {
        let mut lines = Vec::new();
        match view {
            SignInView::Waiting { flow } => {
                lines.push((
                    format!("{spinner} Starting {flow} for '{}'…", self.env),
                    theme.text,
                ));
            }
            SignInView::DeviceCode { prompt, shown_at } => {
                lines.push(("On any device with a browser, open".into(), theme.text));
                lines.push((String::new(), theme.text));
                lines.push((
                    prompt.verification_uri.clone(),
                    theme
                        .accent
                        .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                ));
                lines.push((String::new(), theme.text));
                lines.push(("and enter the code".into(), theme.text));
                lines.push((String::new(), theme.text));
                let spaced: String = prompt.user_code.chars().flat_map(|c| [c, ' ']).collect();
                lines.push((
                    format!("    {}", spaced.trim_end()),
                    theme
                        .warning
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                ));
                lines.push((String::new(), theme.text));
                let left = prompt
                    .expires_in
                    .saturating_sub(shown_at.elapsed())
                    .as_secs();
                lines.push((
                    format!(
                        "{spinner} waiting for you to sign in · code expires in {}:{:02} · polling every {} s",
                        left / 60,
                        left % 60,
                        prompt.interval.as_secs()
                    ),
                    theme.dim,
                ));
            }
            SignInView::Browser { url, port, opened } => {
                lines.push((
                    if *opened {
                        "A browser was opened for the sign-in. If it did not appear, open:"
                            .to_string()
                    } else {
                        format!("Open this address in a browser to sign in ({copy_key} copies it):")
                    },
                    theme.text,
                ));
                lines.push((String::new(), theme.text));
                lines.push((url.clone(), theme.accent));
                lines.push((String::new(), theme.text));
                lines.push((
                    format!("The browser returns to http://localhost:{port}/ on this machine. Over SSH, forward the port first:"),
                    theme.text,
                ));
                lines.push((
                    format!("    ssh -L {port}:localhost:{port} <this host>"),
                    theme.warning,
                ));
                lines.push((String::new(), theme.text));
                lines.push((format!("{spinner} waiting for the redirect…"), theme.dim));
            }
        }
        lines
    }
}

impl Dialog for SignIn {
    fn ctx(&self) -> Ctx {
        Ctx::SignIn
    }

    fn on_key(&mut self, _key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> Handled {
        let max = self.rows.get().saturating_sub(self.height.get());
        match action {
            Some(Action::Close) => {
                cx.intent(Intent::CancelSignIn(self.env.clone()));
                Handled::Close
            }
            Some(Action::Down) => {
                self.scroll = (self.scroll + 1).min(max);
                Handled::Yes
            }
            Some(Action::Up) => {
                self.scroll = self.scroll.saturating_sub(1);
                Handled::Yes
            }
            Some(Action::Copy) => {
                let text = match cx.model.sign_ins.get(&self.env) {
                    Some(SignInView::DeviceCode { prompt, .. }) => Some(prompt.user_code.clone()),
                    Some(SignInView::Browser { url, .. }) => Some(url.clone()),
                    _ => None,
                };
                if let Some(t) = text {
                    cx.command(Command::Copy(t));
                    cx.info("Copied to the clipboard (OSC 52).");
                }
                Handled::Yes
            }
            _ => Handled::Yes,
        }
    }

    fn sync(&mut self, model: &crate::tui::model::Model) -> bool {
        model.sign_ins.contains_key(&self.env)
    }

    fn busy(&self) -> bool {
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let theme = v.theme;
        let Some(view) = v.model.sign_ins.get(&self.env) else {
            return;
        };
        let spinner = SPINNER[(v.model.frame % SPINNER.len() as u64) as usize];
        let width = 100u16.min(area.width.saturating_sub(2));
        let text_width = width.saturating_sub(4) as usize;
        let rows: Vec<Line> = self
            .text(
                view,
                spinner,
                theme,
                &v.model.keymap.say(Ctx::SignIn, Action::Copy),
            )
            .into_iter()
            .flat_map(|(text, style)| {
                wrap_words(&text, text_width)
                    .into_iter()
                    .map(move |l| Line::styled(l, style))
            })
            .collect();
        // Rows + a blank + the hints + the border.
        let r = centered(area, width, rows.len() as u16 + 5);
        frame.render_widget(Clear, r);
        let block = dialog_block(&format!("Sign in — {}", self.env), theme);
        let inner = block.inner(r).inner(Margin::new(1, 0));
        frame.render_widget(block, r);
        let [body, hint] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        self.rows.set(rows.len() + 1);
        self.height.set(body.height as usize);
        let scroll = self
            .scroll
            .min(self.rows.get().saturating_sub(body.height as usize));
        let mut all = vec![Line::raw("")];
        all.extend(rows);
        frame.render_widget(
            Paragraph::new(all).scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
            body,
        );
        let mut hints = crate::tui::widgets::hint_spans(&v.model.keymap, Ctx::SignIn, theme);
        if self.rows.get() > body.height as usize {
            hints.push(Span::styled("j/k scroll", theme.dim));
        }
        frame.render_widget(Paragraph::new(Line::from(hints)), hint);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::SignIn;
    use crate::tui::testing::Rig;
    use crate::worker::WorkerEvent;
    use crate::worker::auth::AuthEvent;

    /// An authorize URL as Entra builds it for auth code + PKCE: long enough to wrap to several
    /// rows at every size.
    const URL: &str = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/authorize?response_type=code&client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&redirect_uri=http%3A%2F%2Flocalhost%3A53682%2F&scope=https%3A%2F%2Fws-svc.fhir.azurehealthcareapis.com%2F.default%20offline_access&state=Zx8Qm3kLw0pR7sTt&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

    /// The URL read back from the screen: from where it starts, the rows below it at the same
    /// column up to the dialog's border, joined.
    fn url_as_shown(screen: &str) -> String {
        let rows: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
        let Some((top, col)) = rows.iter().enumerate().find_map(|(i, r)| {
            let line: String = r.iter().collect();
            line.find("https://")
                .map(|byte| (i, line[..byte].chars().count()))
        }) else {
            return String::new();
        };
        let mut url = String::new();
        for row in &rows[top..] {
            let piece: String = row.iter().skip(col).take_while(|c| **c != '│').collect();
            let piece = piece.trim_end();
            if piece.is_empty() {
                break;
            }
            url.push_str(piece);
        }
        url
    }

    fn browser_sign_in(width: u16, height: u16) -> String {
        let dir = tempfile::tempdir().unwrap();
        let mut rig = Rig::seeded(dir.path());
        rig.worker_event(WorkerEvent::Auth(AuthEvent::Browser {
            env: "azure".into(),
            url: URL.into(),
            port: 53682,
            opened: false,
        }));
        assert!(rig.top::<SignIn>().is_some(), "{}", rig.status());
        let screen = rig.draw(width, height);
        // Everything an SSH user needs is on screen: the whole URL (wrapped by rows, no border
        // characters inside it), the forward, the spinner and the keys.
        assert_eq!(url_as_shown(&screen), URL, "{screen}");
        assert!(
            screen.contains("ssh -L 53682:localhost:53682 <this host>"),
            "{screen}"
        );
        assert!(screen.contains("waiting for the redirect"), "{screen}");
        assert!(screen.contains("copy"), "{screen}");
        screen
    }

    #[test]
    fn sign_in_browser_80x24() {
        insta::assert_snapshot!(browser_sign_in(80, 24));
    }

    #[test]
    fn sign_in_browser_120x35() {
        insta::assert_snapshot!(browser_sign_in(120, 35));
    }
}
