//! Key bindings: one table maps keys to actions per context, and the help overlay and status-bar
//! hints are drawn from the same table, so what is documented is what works.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Where a binding applies. `Global` bindings work everywhere unless a pane binds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Global,
    Environments,
    Collections,
    Request,
    Response,
    EnvEditor,
}

impl Ctx {
    /// Every context, in the order the help overlay and the README list them.
    pub const ALL: [Ctx; 6] = [
        Ctx::Global,
        Ctx::Environments,
        Ctx::EnvEditor,
        Ctx::Collections,
        Ctx::Request,
        Ctx::Response,
    ];

    /// The context's table name in `keys.toml` (`[global]`, `[env_editor]`, …).
    pub fn name(self) -> &'static str {
        match self {
            Ctx::Global => "global",
            Ctx::Environments => "environments",
            Ctx::Collections => "collections",
            Ctx::Request => "request",
            Ctx::Response => "response",
            Ctx::EnvEditor => "env_editor",
        }
    }

    /// Whether keys this context does not bind fall through to the `Global` bindings (the
    /// variables editor is a dialog with keys of its own).
    pub fn falls_back_to_global(self) -> bool {
        !matches!(self, Ctx::Global | Ctx::EnvEditor)
    }

    pub fn title(self) -> &'static str {
        match self {
            Ctx::Global => "Everywhere",
            Ctx::Environments => "Environments pane",
            Ctx::Collections => "Collections pane",
            Ctx::Request => "Request pane",
            Ctx::Response => "Response pane",
            Ctx::EnvEditor => "Environment variables",
        }
    }
}

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

use Action as A;
use Ctx::*;

/// Every key fhirside knows, in the order the help overlay lists them.
pub const BINDINGS: &[Binding] = &[
    b(
        Global,
        &["ctrl-r", "f5"],
        A::Send,
        "send the open request",
        "send",
    ),
    b(
        Global,
        &["ctrl-s"],
        A::Save,
        "save the open request",
        "save",
    ),
    b(
        Global,
        &["esc"],
        A::Cancel,
        "cancel the request in flight / close",
        "",
    ),
    b(
        Global,
        &["tab"],
        A::FocusNext,
        "focus the next pane",
        "focus",
    ),
    b(
        Global,
        &["backtab"],
        A::FocusPrev,
        "focus the previous pane",
        "",
    ),
    b(
        Global,
        &["1"],
        A::FocusEnvironments,
        "focus Environments",
        "",
    ),
    b(Global, &["2"], A::FocusCollections, "focus Collections", ""),
    b(Global, &["3"], A::FocusRequest, "focus Request", ""),
    b(Global, &["4"], A::FocusResponse, "focus Response", ""),
    b(
        Global,
        &["ctrl-p"],
        A::Palette,
        "command palette: jump to a request or environment",
        "go to",
    ),
    b(Global, &["?", "f1"], A::Help, "this help", "help"),
    b(
        Global,
        &["q"],
        A::Quit,
        "quit (asks when edits are unsaved)",
        "quit",
    ),
    b(Global, &["ctrl-c"], A::ForceQuit, "quit now", ""),
    b(
        Global,
        &["C"],
        A::Capabilities,
        "capability explorer: the server's resource types and search parameters",
        "",
    ),
    b(
        Global,
        &["J"],
        A::Jobs,
        "bulk-export jobs: progress, cancel, download",
        "jobs",
    ),
    b(
        Global,
        &["H"],
        A::History,
        "history: every exchange sent, filter, re-send, compare",
        "history",
    ),
    b(
        Global,
        &["f"],
        A::Lookup,
        "find a patient (the FHIR browser)",
        "find",
    ),
    b(
        Global,
        &["T"],
        A::TokenViewer,
        "show the active environment's token, decoded",
        "",
    ),
    b(Global, &["j", "down"], A::Down, "move down", ""),
    b(Global, &["k", "up"], A::Up, "move up", ""),
    b(Global, &["h", "left"], A::Left, "collapse / previous", ""),
    b(Global, &["l", "right"], A::Right, "expand / next", ""),
    b(Global, &["g", "home"], A::Top, "go to the top", ""),
    b(Global, &["G", "end"], A::Bottom, "go to the bottom", ""),
    b(Global, &["pageup", "ctrl-u"], A::PageUp, "page up", ""),
    b(
        Global,
        &["pagedown", "ctrl-d"],
        A::PageDown,
        "page down",
        "",
    ),
    b(
        Environments,
        &["enter", "space"],
        A::Activate,
        "make the environment active",
        "use",
    ),
    b(Environments, &["e"], A::Edit, "edit its variables", "edit"),
    b(
        Environments,
        &["a", "n"],
        A::New,
        "new environment (from the Azure template)",
        "new",
    ),
    b(
        Environments,
        &["s"],
        A::SignIn,
        "sign in now (get a new token)",
        "sign in",
    ),
    b(
        Environments,
        &["S"],
        A::SignInSettings,
        "sign-in settings (client credentials, device code, …)",
        "",
    ),
    b(
        Environments,
        &["t"],
        A::TokenViewer,
        "show its token, decoded",
        "",
    ),
    b(Environments, &["r"], A::Rename, "rename", ""),
    b(Environments, &["y"], A::Duplicate, "duplicate", ""),
    b(
        Environments,
        &["d", "delete"],
        A::Delete,
        "delete (asks first)",
        "",
    ),
    b(
        Collections,
        &["enter"],
        A::Activate,
        "open the request / expand a folder",
        "open",
    ),
    b(Collections, &["a", "n"], A::New, "new request here", "new"),
    b(Collections, &["A"], A::NewFolder, "new folder here", ""),
    b(
        Collections,
        &["P"],
        A::PasteCurl,
        "new request from a pasted curl command",
        "",
    ),
    b(
        Collections,
        &["I"],
        A::Import,
        "import a Postman, .http or curl file",
        "",
    ),
    b(Collections, &["c"], A::NewCollection, "new collection", ""),
    b(Collections, &["r"], A::Rename, "rename", ""),
    b(Collections, &["y"], A::Duplicate, "duplicate", ""),
    b(Collections, &["m"], A::Move, "move to another folder", ""),
    b(
        Collections,
        &["d", "delete"],
        A::Delete,
        "delete (asks first)",
        "delete",
    ),
    b(Request, &["u", "i"], A::EditUrl, "edit the URL", "url"),
    b(
        Request,
        &["M"],
        A::PickMethod,
        "choose the method",
        "method",
    ),
    b(
        Request,
        &["]"],
        A::NextTab,
        "next tab: Params / Headers / Body / Captures",
        "tab",
    ),
    b(Request, &["["], A::PrevTab, "previous tab", ""),
    b(
        Request,
        &["enter", "e"],
        A::Edit,
        "edit the selected row or the body",
        "edit",
    ),
    b(Request, &["a"], A::New, "add a row", ""),
    b(
        Request,
        &["I"],
        A::IfMatch,
        "add If-Match with the last answer's ETag",
        "",
    ),
    b(
        Request,
        &["y"],
        A::CopyCurl,
        "copy as curl, secrets and Authorization redacted",
        "",
    ),
    b(
        Request,
        &["Y"],
        A::CopyCurlWithSecrets,
        "copy as curl with secrets (you asked for them)",
        "",
    ),
    b(
        Request,
        &["space"],
        A::Toggle,
        "enable / disable the row",
        "",
    ),
    b(Request, &["d", "delete"], A::Delete, "delete the row", ""),
    b(
        Request,
        &["E"],
        A::ExternalEdit,
        "edit the body in $EDITOR",
        "",
    ),
    b(
        Request,
        &["b"],
        A::CycleBodyKind,
        "body kind: none / json / text / form",
        "",
    ),
    b(
        Response,
        &["]"],
        A::NextTab,
        "next tab: Body / Headers / Raw",
        "tab",
    ),
    b(Response, &["["], A::PrevTab, "previous tab", ""),
    b(Response, &["w"], A::ToggleWrap, "wrap long lines", "wrap"),
    b(
        Response,
        &["/"],
        A::Search,
        "search the body (case-insensitive)",
        "search",
    ),
    b(Response, &["n"], A::SearchNext, "next match", ""),
    b(Response, &["N"], A::SearchPrev, "previous match", ""),
    b(Response, &[":"], A::GotoLine, "go to a line", ""),
    b(
        Response,
        &["z"],
        A::ToggleFold,
        "fold / unfold the object or array at the cursor",
        "fold",
    ),
    b(
        Response,
        &["Z"],
        A::FoldDepth,
        "fold everything at a depth: Z then 1–9 (Z 0 unfolds all)",
        "",
    ),
    b(
        Response,
        &["enter"],
        A::Activate,
        "NDJSON: open the record at the cursor, pretty-printed (JSON: fold / unfold)",
        "",
    ),
    b(
        Response,
        &["}"],
        A::NextRecord,
        "NDJSON: next record (also inside an opened record)",
        "",
    ),
    b(
        Response,
        &["{"],
        A::PrevRecord,
        "NDJSON: previous record",
        "",
    ),
    b(
        Response,
        &["F"],
        A::Filter,
        "filter the body with a jq expression (shortcuts: resources, ids, types, issues)",
        "filter",
    ),
    b(
        Response,
        &["esc"],
        A::Cancel,
        "back from a filter or a record to the whole body (or cancel the request)",
        "",
    ),
    b(
        Response,
        &["o"],
        A::OpenInBrowser,
        "open the answer in the FHIR browser (tables, references)",
        "browse",
    ),
    b(
        Response,
        &["p"],
        A::RequestHistory,
        "earlier answers of this request (d compares two)",
        "earlier",
    ),
    b(EnvEditor, &["j", "down"], A::Down, "move down", ""),
    b(EnvEditor, &["k", "up"], A::Up, "move up", ""),
    b(EnvEditor, &["g", "home"], A::Top, "first variable", ""),
    b(EnvEditor, &["G", "end"], A::Bottom, "last variable", ""),
    b(
        EnvEditor,
        &["enter", "e"],
        A::Edit,
        "edit the variable",
        "edit",
    ),
    b(EnvEditor, &["a"], A::New, "add a variable", "add"),
    b(
        EnvEditor,
        &["space"],
        A::Toggle,
        "enable / disable",
        "on/off",
    ),
    b(
        EnvEditor,
        &["s"],
        A::ToggleSecret,
        "mark secret (kept in secrets.toml)",
        "secret",
    ),
    b(
        EnvEditor,
        &["v"],
        A::Reveal,
        "show / hide secret values",
        "reveal",
    ),
    b(
        EnvEditor,
        &["d", "delete"],
        A::Delete,
        "delete the variable",
        "",
    ),
    b(EnvEditor, &["esc", "q"], A::Close, "close", "close"),
];

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
