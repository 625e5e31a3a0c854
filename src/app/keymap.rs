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
            name.push(c.to_ascii_lowercase());
            return name;
        }
    }
    name.push_str(&base);
    name
}

/// The action for `key` in `ctx`, falling back to global bindings.
pub fn lookup(ctx: Ctx, key: &KeyEvent) -> Option<Action> {
    let name = key_name(key);
    let find = |c: Ctx| {
        BINDINGS
            .iter()
            .find(|b| b.ctx == c && b.keys.contains(&name.as_str()))
            .map(|b| b.action)
    };
    find(ctx).or_else(|| if ctx == EnvEditor { None } else { find(Global) })
}

/// Short hints for the status bar: the context's hinted bindings, then global ones.
pub fn hints(ctx: Ctx) -> Vec<(String, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| !b.hint.is_empty() && b.ctx == ctx)
        .chain(
            BINDINGS
                .iter()
                .filter(|b| !b.hint.is_empty() && b.ctx == Global && ctx != EnvEditor),
        )
        .map(|b| (b.keys[0].to_string(), b.hint))
        .collect()
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
    fn pane_bindings_win_over_global_ones() {
        let enter = key(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(lookup(Collections, &enter), Some(Action::Activate));
        assert_eq!(lookup(Request, &enter), Some(Action::Edit));
        let j = key(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(lookup(Response, &j), Some(Action::Down));
        assert_eq!(lookup(EnvEditor, &j), Some(Action::Down));
        let r = key(KeyCode::Char('r'), KeyModifiers::NONE);
        assert_eq!(
            lookup(EnvEditor, &r),
            None,
            "the variables editor has its own keys"
        );
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
        let readme = include_str!("../../README.md");
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
