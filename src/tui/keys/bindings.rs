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
        "cancel the request in flight / go back",
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
        "command palette: every command, request, environment and theme",
        "commands",
    ),
    b(
        Global,
        &["?", "f1"],
        A::Help,
        "keys of what has the focus, then all keys",
        "help",
    ),
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
        "jobs: bulk exports, progress, cancel, download",
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
        "show the token the next request will send, decoded",
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
        "delete the variable (asks first)",
        "delete",
    ),
    b(EnvEditor, &["esc", "q"], A::Close, "close", "close"),
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
        "import a file: Postman, Insomnia v4, HAR, .http or curl",
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
        "search the body (case-insensitive, escaped or not)",
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
        &["u"],
        A::ToggleEscapes,
        "show strings as received (\\u escapes) / decoded",
        "",
    ),
    b(
        Response,
        &["x"],
        A::CopyRequestId,
        "copy the answer's request id (x-request-id) for a support ticket",
        "",
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
    b(
        Editing,
        &["enter"],
        A::Finish,
        "URL: keep the edit and stop editing (in the body: a new line)",
        "done",
    ),
    b(
        Editing,
        &["esc"],
        A::Close,
        "stop editing (the URL: drop the edit)",
        "stop",
    ),
    b(
        Editing,
        &["tab"],
        A::Complete,
        "URL: complete a resource type or search parameter",
        "complete",
    ),
    b(
        Text,
        &["ctrl-a"],
        A::LineStart,
        "to the start of the line",
        "",
    ),
    b(Text, &["ctrl-e"], A::LineEnd, "to the end of the line", ""),
    b(
        Text,
        &["ctrl-u"],
        A::DeleteToStart,
        "delete to the start of the line",
        "",
    ),
    b(
        Text,
        &["ctrl-k"],
        A::DeleteToEnd,
        "delete to the end of the line",
        "",
    ),
    b(
        Text,
        &["ctrl-w", "alt-backspace"],
        A::DeleteWordBack,
        "delete the word before the cursor",
        "",
    ),
    b(
        Text,
        &["alt-d"],
        A::DeleteWordForward,
        "delete the word after the cursor",
        "",
    ),
    b(
        Text,
        &["alt-b", "ctrl-left"],
        A::WordBack,
        "back a word",
        "",
    ),
    b(
        Text,
        &["alt-f", "ctrl-right"],
        A::WordForward,
        "forward a word",
        "",
    ),
    b(Text, &["ctrl-z"], A::Undo, "undo", ""),
    b(Text, &["ctrl-y"], A::Redo, "redo", ""),
    b(
        Browser,
        &["j", "down"],
        A::Down,
        "next row (or line in the JSON view)",
        "",
    ),
    b(Browser, &["k", "up"], A::Up, "previous row", ""),
    b(
        Browser,
        &["pagedown", "ctrl-d"],
        A::PageDown,
        "a page down",
        "",
    ),
    b(Browser, &["pageup", "ctrl-u"], A::PageUp, "a page up", ""),
    b(Browser, &["g", "home"], A::Top, "first row", ""),
    b(Browser, &["G", "end"], A::Bottom, "last row", ""),
    b(
        Browser,
        &["enter"],
        A::Activate,
        "open the selected entry or reference",
        "open",
    ),
    b(Browser, &["v"], A::ToggleJson, "table / JSON", "json"),
    b(
        Browser,
        &["tab"],
        A::NextReference,
        "JSON view: the next line with a reference",
        "",
    ),
    b(
        Browser,
        &["backtab"],
        A::PrevReference,
        "JSON view: the previous line with a reference",
        "",
    ),
    b(
        Browser,
        &["esc", "backspace", "<", "alt-left"],
        A::Back,
        "back: the previous page (from the first, out of the browser)",
        "back",
    ),
    b(
        Browser,
        &[">", "alt-right"],
        A::Forward,
        "forward again",
        "",
    ),
    b(Browser, &["r"], A::Refresh, "fetch the page again", ""),
    b(Browser, &["f", "/"], A::Lookup, "find a patient", "find"),
    b(
        Browser,
        &["n"],
        A::NextPage,
        "the server's next page",
        "next",
    ),
    b(
        Browser,
        &["p"],
        A::PrevPage,
        "the server's previous page",
        "",
    ),
    b(Browser, &["0"], A::FirstPage, "the server's first page", ""),
    b(Browser, &["$"], A::LastPage, "the server's last page", ""),
    b(Browser, &["+"], A::MoreCount, "double _count", ""),
    b(Browser, &["-"], A::LessCount, "halve _count", ""),
    b(
        Browser,
        &["o"],
        A::Observations,
        "the patient's Observations",
        "",
    ),
    b(
        Browser,
        &["e"],
        A::Encounters,
        "the patient's Encounters",
        "",
    ),
    b(
        Browser,
        &["c"],
        A::Conditions,
        "the patient's Conditions",
        "",
    ),
    b(
        Browser,
        &["E"],
        A::Everything,
        "the patient's $everything",
        "",
    ),
    b(
        Browser,
        &["V"],
        A::Chart,
        "the patient's chart: vitals plotted, labs, timeline",
        "chart",
    ),
    b(Browser, &["q"], A::Close, "close the browser", "close"),
    b(
        Lookup,
        &["enter"],
        A::Activate,
        "open the selected patient (typed early: the first, when the results come)",
        "open",
    ),
    b(Lookup, &["down", "ctrl-n"], A::Down, "next result", ""),
    b(
        Lookup,
        &["up", "ctrl-p", "backtab"],
        A::Up,
        "previous result",
        "",
    ),
    b(
        Lookup,
        &["tab"],
        A::Complete,
        "complete a field name (family:, …), else next result",
        "",
    ),
    b(
        Lookup,
        &["pagedown"],
        A::NextPage,
        "more results (the server's next page)",
        "more",
    ),
    b(Lookup, &["pageup"], A::PrevPage, "the results before", ""),
    b(
        Lookup,
        &["esc"],
        A::Close,
        "close the lookup (back to the page under it)",
        "close",
    ),
    b(
        Chart,
        &["tab"],
        A::NextTab,
        "next view: vitals, labs, timeline",
        "view",
    ),
    b(Chart, &["backtab"], A::PrevTab, "previous view", ""),
    b(
        Chart,
        &["j", "down"],
        A::Down,
        "next chart, lab or timeline entry",
        "",
    ),
    b(
        Chart,
        &["k", "up"],
        A::Up,
        "previous chart, lab or timeline entry",
        "",
    ),
    b(Chart, &["l", "right"], A::Right, "the next vital chart", ""),
    b(
        Chart,
        &["h", "left"],
        A::Left,
        "the previous vital chart",
        "",
    ),
    b(Chart, &["pagedown", "ctrl-d"], A::PageDown, "ten down", ""),
    b(Chart, &["pageup", "ctrl-u"], A::PageUp, "ten up", ""),
    b(Chart, &["g", "home"], A::Top, "the first chart or row", ""),
    b(Chart, &["G", "end"], A::Bottom, "the last chart or row", ""),
    b(
        Chart,
        &["enter"],
        A::Activate,
        "labs: plot the selected code; timeline: open the entry in the browser",
        "plot/open",
    ),
    b(
        Chart,
        &["r"],
        A::Refresh,
        "fetch the patient's data again",
        "",
    ),
    b(
        Chart,
        &["esc", "backspace", "<", "alt-left"],
        A::Back,
        "back: from a plot to the labs, else to the patient (cancels a fetch)",
        "back",
    ),
    b(Chart, &["q"], A::Close, "back to the patient", ""),
    b(History, &["j", "down"], A::Down, "next entry", ""),
    b(History, &["k", "up"], A::Up, "previous entry", ""),
    b(
        History,
        &["pagedown", "ctrl-d"],
        A::PageDown,
        "a page down",
        "",
    ),
    b(History, &["pageup", "ctrl-u"], A::PageUp, "a page up", ""),
    b(History, &["g", "home"], A::Top, "newest", ""),
    b(History, &["G", "end"], A::Bottom, "oldest", ""),
    b(
        History,
        &["enter", "l", "right"],
        A::Activate,
        "open the entry",
        "open",
    ),
    b(
        History,
        &["/", "f"],
        A::Filter,
        "filter (GET 4xx env:prod since:2h words…)",
        "filter",
    ),
    b(
        History,
        &["x"],
        A::ShowAll,
        "show every request's entries (after p: not only this one's)",
        "all",
    ),
    b(History, &["r"], A::Resend, "send it again", "re-send"),
    b(History, &["s"], A::SaveAs, "save it as a request", "save"),
    b(
        History,
        &["y"],
        A::CopyCurl,
        "copy it as curl (as recorded, without credentials)",
        "curl",
    ),
    b(
        History,
        &["m"],
        A::Mark,
        "mark it (d then compares with the mark)",
        "mark",
    ),
    b(
        History,
        &["d"],
        A::Diff,
        "compare with the mark, or with the previous answer",
        "diff",
    ),
    b(
        History,
        &["D"],
        A::ClearAll,
        "delete the whole history (asks first)",
        "",
    ),
    b(
        History,
        &["esc", "q", "H", "backspace"],
        A::Close,
        "close the history",
        "close",
    ),
    b(
        HistoryEntry,
        &["J"],
        A::ScrollRequestDown,
        "scroll the request down",
        "",
    ),
    b(
        HistoryEntry,
        &["K"],
        A::ScrollRequestUp,
        "scroll the request up",
        "",
    ),
    b(HistoryEntry, &["r"], A::Resend, "send it again", "re-send"),
    b(
        HistoryEntry,
        &["s"],
        A::SaveAs,
        "save it as a request",
        "save",
    ),
    b(
        HistoryEntry,
        &["d"],
        A::Diff,
        "compare with the mark, or with the previous answer",
        "diff",
    ),
    b(
        HistoryEntry,
        &["y"],
        A::CopyCurl,
        "copy it as curl (as recorded)",
        "curl",
    ),
    b(
        HistoryEntry,
        &["esc", "q", "backspace"],
        A::Close,
        "back to the list",
        "back",
    ),
    b(
        HistoryDiff,
        &["j", "down"],
        A::Down,
        "scroll down",
        "scroll",
    ),
    b(HistoryDiff, &["k", "up"], A::Up, "scroll up", ""),
    b(
        HistoryDiff,
        &["pagedown", "ctrl-d", "space"],
        A::PageDown,
        "a page down",
        "page",
    ),
    b(
        HistoryDiff,
        &["pageup", "ctrl-u"],
        A::PageUp,
        "a page up",
        "",
    ),
    b(HistoryDiff, &["g", "home"], A::Top, "to the first line", ""),
    b(
        HistoryDiff,
        &["G", "end"],
        A::Bottom,
        "to the last line",
        "",
    ),
    b(
        HistoryDiff,
        &["esc", "q", "backspace"],
        A::Close,
        "back to the list",
        "back",
    ),
    b(Jobs, &["j", "down"], A::Down, "next job (or output)", ""),
    b(Jobs, &["k", "up"], A::Up, "previous job (or output)", ""),
    b(
        Jobs,
        &["tab", "backtab"],
        A::NextTab,
        "between the jobs and the selected job's outputs",
        "outputs",
    ),
    b(
        Jobs,
        &["space"],
        A::Toggle,
        "pick an output to download",
        "pick",
    ),
    b(
        Jobs,
        &["enter"],
        A::Activate,
        "an error file: show its OperationOutcome issues",
        "",
    ),
    b(Jobs, &["n"], A::New, "new export", "new"),
    b(
        Jobs,
        &["x"],
        A::CancelJob,
        "cancel the job on the server (asks first)",
        "cancel",
    ),
    b(
        Jobs,
        &["D"],
        A::Download,
        "download the picked outputs (none picked: all)",
        "download",
    ),
    b(
        Jobs,
        &["d", "delete"],
        A::Delete,
        "remove a finished job from the list (asks first)",
        "",
    ),
    b(Jobs, &["esc", "q", "J"], A::Close, "close", "close"),
    b(ExportForm, &["down", "tab"], A::Down, "next field", ""),
    b(ExportForm, &["up", "backtab"], A::Up, "previous field", ""),
    b(
        ExportForm,
        &["space"],
        A::Toggle,
        "pick a type / change the scope",
        "pick",
    ),
    b(
        ExportForm,
        &["left"],
        A::Left,
        "scope: the previous choice",
        "",
    ),
    b(
        ExportForm,
        &["right"],
        A::Right,
        "scope: the next choice",
        "",
    ),
    b(
        ExportForm,
        &["enter"],
        A::Activate,
        "next field (on Start: start the export)",
        "",
    ),
    b(
        ExportForm,
        &["ctrl-r"],
        A::Send,
        "start the export",
        "start",
    ),
    b(
        ExportForm,
        &["esc"],
        A::Close,
        "back to the jobs list",
        "back",
    ),
    b(Confirm, &["y", "Y", "enter"], A::Yes, "yes", "yes"),
    b(Confirm, &["n", "N", "esc", "q"], A::No, "no", "no"),
    b(Prompt, &["enter"], A::Finish, "confirm", "confirm"),
    b(Prompt, &["esc"], A::Close, "cancel", "cancel"),
    b(
        Prompt,
        &["up"],
        A::HistoryPrev,
        "an earlier entry (filters and searches remember theirs)",
        "",
    ),
    b(Prompt, &["down"], A::HistoryNext, "a later entry", ""),
    b(KeyValue, &["enter"], A::Finish, "save", "save"),
    b(KeyValue, &["esc"], A::Close, "cancel", "cancel"),
    b(
        KeyValue,
        &["tab", "backtab", "up", "down"],
        A::NextField,
        "between the name and the value",
        "field",
    ),
    b(
        Palette,
        &["enter"],
        A::Activate,
        "run the command / open the item",
        "run",
    ),
    b(
        Palette,
        &["down", "ctrl-n", "tab"],
        A::Down,
        "next item",
        "",
    ),
    b(
        Palette,
        &["up", "ctrl-p", "backtab"],
        A::Up,
        "previous item",
        "",
    ),
    b(Palette, &["esc"], A::Close, "close", "close"),
    b(Help, &["j", "down"], A::Down, "scroll down", ""),
    b(Help, &["k", "up"], A::Up, "scroll up", ""),
    b(
        Help,
        &["pagedown", "space", "ctrl-d"],
        A::PageDown,
        "a page down",
        "",
    ),
    b(Help, &["pageup", "ctrl-u"], A::PageUp, "a page up", ""),
    b(Help, &["g", "home"], A::Top, "to the top", ""),
    b(Help, &["G", "end"], A::Bottom, "to the end", ""),
    b(Help, &["/"], A::Search, "search the keys", "search"),
    b(Help, &["esc", "q", "?"], A::Close, "close", "close"),
    b(Reader, &["j", "down"], A::Down, "scroll down", ""),
    b(Reader, &["k", "up"], A::Up, "scroll up", ""),
    b(
        Reader,
        &["pagedown", "space", "ctrl-d"],
        A::PageDown,
        "a page down",
        "",
    ),
    b(Reader, &["pageup", "ctrl-u"], A::PageUp, "a page up", ""),
    b(Reader, &["g", "home"], A::Top, "to the top", ""),
    b(Reader, &["G", "end"], A::Bottom, "to the end", ""),
    b(Reader, &["c"], A::Copy, "copy the text (OSC 52)", "copy"),
    b(Reader, &["esc", "q", "enter"], A::Close, "close", "close"),
    b(Picker, &["j", "down"], A::Down, "next choice", ""),
    b(Picker, &["k", "up"], A::Up, "previous choice", ""),
    b(
        Picker,
        &["enter", "space"],
        A::Activate,
        "choose (a method: or type its first letter)",
        "choose",
    ),
    b(Picker, &["esc", "q"], A::Close, "cancel", "cancel"),
    b(
        Conflict,
        &["r"],
        A::Reload,
        "reload it from disk (your edits are dropped)",
        "reload",
    ),
    b(
        Conflict,
        &["k"],
        A::KeepMine,
        "keep mine: write my version over it",
        "keep mine",
    ),
    b(
        Conflict,
        &["c"],
        A::SaveCopy,
        "save mine as a copy, then reload it",
        "copy",
    ),
    b(
        Conflict,
        &["esc", "q"],
        A::Close,
        "decide later (your edits stay unsaved)",
        "later",
    ),
    b(
        SignIn,
        &["c", "y"],
        A::Copy,
        "copy the code / the address, cleanly (OSC 52)",
        "copy",
    ),
    b(SignIn, &["j", "down"], A::Down, "scroll down", ""),
    b(SignIn, &["k", "up"], A::Up, "scroll up", ""),
    b(
        SignIn,
        &["esc", "q"],
        A::Close,
        "cancel the sign-in",
        "cancel",
    ),
    b(
        Progress,
        &["esc", "q"],
        A::Cancel,
        "stop (the collection being written is left out whole)",
        "stop",
    ),
    b(SignInSettings, &["j", "down"], A::Down, "next setting", ""),
    b(SignInSettings, &["k", "up"], A::Up, "previous setting", ""),
    b(
        SignInSettings,
        &["enter", "e"],
        A::Edit,
        "change the setting (the kind: from a list)",
        "change",
    ),
    b(
        SignInSettings,
        &["ctrl-s"],
        A::Save,
        "save the settings",
        "save",
    ),
    b(
        SignInSettings,
        &["s"],
        A::SignIn,
        "save and sign in now",
        "sign in",
    ),
    b(
        SignInSettings,
        &["esc", "q"],
        A::Close,
        "close (asks when there are unsaved changes)",
        "close",
    ),
    b(TokenViewer, &["j", "down"], A::Down, "scroll down", ""),
    b(TokenViewer, &["k", "up"], A::Up, "scroll up", ""),
    b(
        TokenViewer,
        &["pagedown", "space", "ctrl-d"],
        A::PageDown,
        "a page down",
        "",
    ),
    b(
        TokenViewer,
        &["pageup", "ctrl-u"],
        A::PageUp,
        "a page up",
        "",
    ),
    b(
        TokenViewer,
        &["c", "y"],
        A::Copy,
        "copy the token (OSC 52; treat it as a password)",
        "copy",
    ),
    b(TokenViewer, &["esc", "q"], A::Close, "close", "close"),
    b(
        Capabilities,
        &["j", "down"],
        A::Down,
        "next resource type",
        "",
    ),
    b(
        Capabilities,
        &["k", "up"],
        A::Up,
        "previous resource type",
        "",
    ),
    b(
        Capabilities,
        &["pagedown", "space", "ctrl-d"],
        A::PageDown,
        "scroll the details down",
        "",
    ),
    b(
        Capabilities,
        &["pageup", "ctrl-u"],
        A::PageUp,
        "scroll the details up",
        "",
    ),
    b(Capabilities, &["esc", "q", "C"], A::Close, "close", "close"),
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
