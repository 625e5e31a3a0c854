//! Key bindings: one table maps keys to actions per context, and the help overlay, the
//! status-bar hints, the palette and `keys.toml` all read the same table, so what is
//! documented is what works.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Where a binding applies: a pane, a screen, a dialog, or text fields. Pane contexts fall back
/// to the `Global` bindings; screens and dialogs have their own keys only (plus `ctrl-c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Global,
    Environments,
    EnvEditor,
    Collections,
    Request,
    Response,
    /// The URL line or the body while it is being edited.
    Editing,
    /// Every text field: readline keys.
    Text,
    Browser,
    Lookup,
    Chart,
    History,
    HistoryEntry,
    /// Two history entries compared.
    HistoryDiff,
    Jobs,
    ExportForm,
    Confirm,
    Prompt,
    KeyValue,
    Palette,
    Help,
    Reader,
    Picker,
    Conflict,
    SignIn,
    SignInSettings,
    TokenViewer,
    Capabilities,
    /// A long task's progress (an import).
    Progress,
}

impl Ctx {
    /// Every context, in the order the help overlay and the README list them.
    pub const ALL: [Ctx; 29] = [
        Ctx::Global,
        Ctx::Environments,
        Ctx::EnvEditor,
        Ctx::Collections,
        Ctx::Request,
        Ctx::Response,
        Ctx::Editing,
        Ctx::Text,
        Ctx::Browser,
        Ctx::Lookup,
        Ctx::Chart,
        Ctx::History,
        Ctx::HistoryEntry,
        Ctx::HistoryDiff,
        Ctx::Jobs,
        Ctx::ExportForm,
        Ctx::Confirm,
        Ctx::Prompt,
        Ctx::KeyValue,
        Ctx::Palette,
        Ctx::Help,
        Ctx::Reader,
        Ctx::Picker,
        Ctx::Conflict,
        Ctx::SignIn,
        Ctx::SignInSettings,
        Ctx::TokenViewer,
        Ctx::Capabilities,
        Ctx::Progress,
    ];

    /// The context's table name in `keys.toml` (`[global]`, `[env_editor]`, …).
    pub fn name(self) -> &'static str {
        match self {
            Ctx::Global => "global",
            Ctx::Environments => "environments",
            Ctx::EnvEditor => "env_editor",
            Ctx::Collections => "collections",
            Ctx::Request => "request",
            Ctx::Response => "response",
            Ctx::Editing => "editing",
            Ctx::Text => "text",
            Ctx::Browser => "browser",
            Ctx::Lookup => "lookup",
            Ctx::Chart => "chart",
            Ctx::History => "history",
            Ctx::HistoryEntry => "history_entry",
            Ctx::HistoryDiff => "history_diff",
            Ctx::Jobs => "jobs",
            Ctx::ExportForm => "export_form",
            Ctx::Confirm => "confirm",
            Ctx::Prompt => "prompt",
            Ctx::KeyValue => "key_value",
            Ctx::Palette => "palette",
            Ctx::Help => "help",
            Ctx::Reader => "reader",
            Ctx::Picker => "picker",
            Ctx::Conflict => "conflict",
            Ctx::SignIn => "sign_in",
            Ctx::SignInSettings => "sign_in_settings",
            Ctx::TokenViewer => "token_viewer",
            Ctx::Capabilities => "capabilities",
            Ctx::Progress => "progress",
        }
    }

    /// Whether keys this context does not bind fall through to the `Global` bindings (only the
    /// four panes: screens and dialogs have keys of their own).
    pub fn falls_back_to_global(self) -> bool {
        matches!(
            self,
            Ctx::Environments | Ctx::Collections | Ctx::Request | Ctx::Response
        )
    }

    /// Where keys this context does not bind are looked up next (besides `Global` for panes):
    /// an opened history entry is the body viewer with a few keys of its own.
    pub fn falls_back_to(self) -> Option<Ctx> {
        match self {
            Ctx::HistoryEntry => Some(Ctx::Response),
            _ => None,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Ctx::Global => "Everywhere",
            Ctx::Environments => "Environments pane",
            Ctx::EnvEditor => "Environment variables",
            Ctx::Collections => "Collections pane",
            Ctx::Request => "Request pane",
            Ctx::Response => "Response pane",
            Ctx::Editing => "While editing the URL or the body",
            Ctx::Text => "In every text field",
            Ctx::Browser => "FHIR browser",
            Ctx::Lookup => "Patient lookup",
            Ctx::Chart => "Patient chart",
            Ctx::History => "History",
            Ctx::HistoryEntry => "History entry",
            Ctx::HistoryDiff => "History comparison",
            Ctx::Jobs => "Jobs",
            Ctx::ExportForm => "Export kick-off form",
            Ctx::Confirm => "Questions",
            Ctx::Prompt => "One-line prompts",
            Ctx::KeyValue => "Name and value dialogs",
            Ctx::Palette => "Command palette",
            Ctx::Help => "This help",
            Ctx::Reader => "Reports and texts",
            Ctx::Picker => "Pickers (method, folder)",
            Ctx::Conflict => "File changed on disk",
            Ctx::SignIn => "Sign-in dialog",
            Ctx::SignInSettings => "Sign-in settings",
            Ctx::TokenViewer => "Token viewer",
            Ctx::Capabilities => "Capability explorer",
            Ctx::Progress => "Import in progress",
        }
    }
}

#[derive(Clone, Copy)]
pub struct Binding {
    pub ctx: Ctx,
    pub keys: &'static [&'static str],
    pub action: Action,
    pub help: &'static str,
    /// Short label shown in the status bar when the context has focus (empty: not shown).
    pub hint: &'static str,
}

const fn b(
    ctx: Ctx,
    keys: &'static [&'static str],
    action: Action,
    help: &'static str,
    hint: &'static str,
) -> Binding {
    Binding {
        ctx,
        keys,
        action,
        help,
        hint,
    }
}

mod browser;
mod dialogs;
mod history;
mod jobs;
mod main;

/// The table's parts, one file per group of contexts, in the order the help overlay lists them.
const GROUPS: &[&[Binding]] = &[
    main::MAIN,
    browser::BROWSER,
    history::HISTORY,
    jobs::JOBS,
    dialogs::DIALOGS,
];

/// How many bindings the groups hold together.
const fn total(groups: &[&[Binding]]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < groups.len() {
        n += groups[i].len();
        i += 1;
    }
    n
}

/// The groups laid end to end, at compile time.
const fn concat<const N: usize>(groups: &[&[Binding]]) -> [Binding; N] {
    let mut out = [b(Ctx::Global, &[], Action::Quit, "", ""); N];
    let mut k = 0;
    let mut i = 0;
    while i < groups.len() {
        let mut j = 0;
        while j < groups[i].len() {
            out[k] = groups[i][j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

const TABLE: [Binding; total(GROUPS)] = concat(GROUPS);

/// Every key fhirside knows, in the order the help overlay lists them: one table, so help,
/// hints, the palette and `keys.toml` agree.
pub const BINDINGS: &[Binding] = &TABLE;

/// The canonical name of a key press, as written in `BINDINGS`.
pub fn key_name(key: &KeyEvent) -> String {
    let base = match key.code {
        KeyCode::Char(' ') => "space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "backtab".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::Delete => "delete".into(),
        KeyCode::Up => "up".into(),
        KeyCode::Down => "down".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::PageUp => "pageup".into(),
        KeyCode::PageDown => "pagedown".into(),
        KeyCode::F(n) => format!("f{n}"),
        _ => "?unknown".into(),
    };
    let mut name = String::new();
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        name.push_str("ctrl-");
    }
    if key.modifiers.contains(KeyModifiers::ALT) {
        name.push_str("alt-");
    }
    if let KeyCode::Char(c) = key.code {
        // Ctrl combos are case-insensitive; shifted letters are their own keys.
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            if c == ' ' {
                name.push_str("space");
            } else {
                name.push(c.to_ascii_lowercase());
            }
            return name;
        }
    }
    name.push_str(&base);
    name
}

/// Keys without modifiers that are written as words in `BINDINGS` and `keys.toml`.
const NAMED_KEYS: &[&str] = &[
    "space",
    "enter",
    "esc",
    "tab",
    "backtab",
    "backspace",
    "delete",
    "up",
    "down",
    "left",
    "right",
    "home",
    "end",
    "pageup",
    "pagedown",
];

/// Reads a key as written in `BINDINGS` or `keys.toml` (`ctrl-r`, `alt-x`, `G`, `f5`,
/// `pagedown`, `?`) and returns it in the form [`key_name`] gives the same key press, or `None`
/// when it is not a key fhirside can tell apart. Modifier and key words may be in any case
/// (`Ctrl-R` is `ctrl-r`); a single character keeps its case (`G` is shift-g).
pub fn parse_key(text: &str) -> Option<String> {
    let mut rest = text;
    let (mut ctrl, mut alt) = (false, false);
    loop {
        let lower = rest.get(..5).map(str::to_ascii_lowercase);
        if rest.chars().count() > 1 && lower.as_deref() == Some("ctrl-") && !ctrl {
            ctrl = true;
            rest = &rest[5..];
        } else if rest.chars().count() > 1
            && rest.get(..4).map(str::to_ascii_lowercase).as_deref() == Some("alt-")
            && !alt
        {
            alt = true;
            rest = &rest[4..];
        } else {
            break;
        }
    }
    let mut chars = rest.chars();
    let base = match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() && !c.is_whitespace() => {
            if ctrl {
                c.to_ascii_lowercase().to_string()
            } else {
                c.to_string()
            }
        }
        _ => {
            let word = rest.to_ascii_lowercase();
            let function_key = word
                .strip_prefix('f')
                .and_then(|n| n.parse::<u8>().ok())
                .is_some_and(|n| (1..=24).contains(&n) && !word.starts_with("f0"));
            if !NAMED_KEYS.contains(&word.as_str()) && !function_key {
                return None;
            }
            word
        }
    };
    let mut name = String::new();
    if ctrl {
        name.push_str("ctrl-");
    }
    if alt {
        name.push_str("alt-");
    }
    name.push_str(&base);
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn names() {
        assert_eq!(
            key_name(&key(KeyCode::Char('r'), KeyModifiers::CONTROL)),
            "ctrl-r"
        );
        assert_eq!(key_name(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)), "G");
        assert_eq!(
            key_name(&key(KeyCode::Char(' '), KeyModifiers::NONE)),
            "space"
        );
        assert_eq!(key_name(&key(KeyCode::F(5), KeyModifiers::NONE)), "f5");
    }

    #[test]
    fn every_key_in_the_table_reads_back_as_itself() {
        for b in BINDINGS {
            for k in b.keys {
                assert_eq!(parse_key(k).as_deref(), Some(*k), "{k}");
            }
        }
    }

    #[test]
    fn parsed_keys_match_what_a_key_press_is_called() {
        let cases = [
            ("Ctrl-R", key(KeyCode::Char('r'), KeyModifiers::CONTROL)),
            ("ctrl-space", key(KeyCode::Char(' '), KeyModifiers::CONTROL)),
            (
                "alt-ctrl-x",
                key(
                    KeyCode::Char('x'),
                    KeyModifiers::CONTROL | KeyModifiers::ALT,
                ),
            ),
            ("alt-G", key(KeyCode::Char('G'), KeyModifiers::ALT)),
            ("PageDown", key(KeyCode::PageDown, KeyModifiers::NONE)),
            ("F12", key(KeyCode::F(12), KeyModifiers::NONE)),
            ("-", key(KeyCode::Char('-'), KeyModifiers::NONE)),
            ("ctrl--", key(KeyCode::Char('-'), KeyModifiers::CONTROL)),
        ];
        for (text, press) in cases {
            assert_eq!(parse_key(text), Some(key_name(&press)), "{text}");
        }
    }

    #[test]
    fn words_that_are_not_keys_are_refused() {
        for text in [
            "", " ", "ctrl-", "ctrl+r", "shift-x", "f0", "f25", "f05", "enterr", "xy", "\t",
            "alt-", "?unknown",
        ] {
            assert_eq!(parse_key(text), None, "{text:?}");
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for bnd in &BINDINGS[i + 1..] {
                if a.ctx == bnd.ctx {
                    for k in a.keys {
                        assert!(!bnd.keys.contains(k), "{k} bound twice in {:?}", a.ctx);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod readme_tests {
    use super::BINDINGS;

    /// The README is a promise: every key the app binds is documented there, word for word.
    #[test]
    fn readme_lists_every_binding() {
        let readme = include_str!("../../../README.md");
        for b in BINDINGS {
            assert!(
                readme.contains(b.help),
                "README.md does not document '{}'",
                b.help
            );
            for k in b.keys {
                assert!(
                    readme.contains(&format!("`{k}`")),
                    "README.md does not show key `{k}`"
                );
            }
        }
    }
}
