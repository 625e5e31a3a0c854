//! `App::update`: the only place state changes. It never awaits; anything that needs I/O beyond
//! small workspace saves is returned as a `Command` for the event loop and the worker.

use std::time::Instant;

use crossterm::event::{KeyEvent, MouseEvent, MouseEventKind};

use super::response::{Outcome, ResponseTab, ResponseView};
use super::state::*;
use crate::tui::keys::action::Action;
use crate::tui::keys::bindings::Ctx;
use crate::worker::capture::{self, CaptureOutcome};
use crate::worker::prepare::{Seed, prepare};
use crate::worker::{HttpError, RequestId, WorkerCommand, WorkerEvent};
use crate::workspace::seed::template_environment;
use crate::workspace::template::redact;
use crate::workspace::{
    BodyKind, Capture, CaptureSource, Environment, Folder, KeyValue, LoadProblem, METHODS,
    NodePath, RequestSpec, SavedRequest, Store, Variable, Workspace,
};

/// Everything that can happen to the app.
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    Worker(WorkerEvent),
    /// Spinner and clock refresh while something runs.
    Tick,
    /// The external editor closed: the new body, or why it failed.
    ExternalEditDone(Result<String, String>),
}

/// Work for the event loop.
#[derive(Debug)]
pub enum Command {
    Worker(WorkerCommand),
    /// Ask the history actor for something; the answer comes back as a worker event.
    History(super::history::HistoryCall),
    /// Put text on the clipboard with OSC 52 (works over SSH).
    Copy(String),
    /// Suspend the TUI and edit `text` in `$EDITOR`.
    EditExternally {
        text: String,
        extension: &'static str,
    },
}

const PAGE: usize = 10;

impl App {
    pub fn new(
        store: Store,
        ws: Workspace,
        problems: Vec<LoadProblem>,
        active_env: Option<String>,
    ) -> Self {
        let active_env = active_env
            .filter(|n| ws.environment(n).is_some())
            .or_else(|| ws.environments.first().map(|e| e.name.clone()));
        let env_selected = active_env
            .as_ref()
            .and_then(|n| ws.environments.iter().position(|e| &e.name == n))
            .unwrap_or(0);
        let expanded = ws
            .collections
            .iter()
            .map(|c| NodePath(vec![c.root.name.clone()]))
            .collect();
        let (job_store, jobs, job_problems) = crate::workspace::jobs::JobStore::load(store.root());
        let mut problems = problems;
        problems.extend(job_problems);
        let overlay = (!problems.is_empty()).then_some(Overlay::Problems { scroll: 0 });
        Self {
            store,
            ws,
            problems,
            active_env,
            focus: Pane::Collections,
            env_selected,
            tree_selected: 0,
            expanded,
            open: None,
            editors: Default::default(),
            responses: Default::default(),
            in_flight: Default::default(),
            overlay,
            status: None,
            session_vars: Vec::new(),
            next_request_id: 1,
            quit: false,
            frame: 0,
            browser: None,
            browsing: false,
            jobs,
            job_store: Some(job_store),
            downloads: Default::default(),
            file_progress: Default::default(),
            outputs: Default::default(),
            capabilities: Default::default(),
            caps_requests: Default::default(),
            pending_drafts: Vec::new(),
            theme: crate::tui::style::Theme::dark(),
            themes: vec![crate::tui::style::Theme::dark()],
            color_depth: crate::tui::style::theme_file::ColorDepth::Ansi16,
            keymap: Default::default(),
            tokens: Default::default(),
            pane_areas: Vec::new(),
            history_enabled: false,
            history_problem: None,
            history_write_failed: false,
            history_usage: (0, 0),
            history_view: None,
            pending_history_action: None,
            session_broken: false,
            session_saved: None,
            restore_places: Vec::new(),
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Paste(text) => {
                self.on_paste(&text);
                Vec::new()
            }
            Msg::Mouse(m) => {
                self.on_mouse(m);
                Vec::new()
            }
            Msg::Worker(ev) => self.on_worker(ev),
            Msg::Tick => {
                self.frame = self.frame.wrapping_add(1);
                self.lookup_tick()
            }
            Msg::ExternalEditDone(result) => {
                match result {
                    Ok(text) => {
                        if let Some(ed) = self.open_editor_mut() {
                            let text = text.strip_suffix('\n').unwrap_or(&text).to_string();
                            ed.body = body_area(&text);
                            ed.draft.body.text = text;
                            if ed.draft.body.kind == BodyKind::None {
                                ed.draft.body.kind = BodyKind::Json;
                            }
                        }
                        self.info("Body updated from the editor (Ctrl-S saves it).");
                    }
                    Err(e) => self.error(e),
                }
                Vec::new()
            }
        }
    }

    /// True while anything is animating, so the loop knows to tick.
    pub fn busy(&self) -> bool {
        !self.in_flight.is_empty()
            || matches!(self.overlay, Some(Overlay::SignIn { .. }))
            || self.browser_busy()
            || self
                .responses
                .values()
                .any(|v| v.preparing().is_some() || v.filtering.is_some())
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            kind: StatusKind::Info,
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            kind: StatusKind::Error,
        });
    }

    pub fn active_environment(&self) -> Option<&Environment> {
        self.active_env
            .as_deref()
            .and_then(|n| self.ws.environment(n))
    }

    pub fn open_editor(&self) -> Option<&RequestEditor> {
        self.open.as_ref().and_then(|p| self.editors.get(p))
    }

    pub fn open_editor_mut(&mut self) -> Option<&mut RequestEditor> {
        let path = self.open.clone()?;
        self.editors.get_mut(&path)
    }

    pub fn context_for_focus(&self) -> Ctx {
        if matches!(self.overlay, Some(Overlay::EnvEditor { .. })) {
            return Ctx::EnvEditor;
        }
        match self.focus {
            Pane::Environments => Ctx::Environments,
            Pane::Collections => Ctx::Collections,
            Pane::Request => Ctx::Request,
            Pane::Response => Ctx::Response,
        }
    }

    /// The collections tree as visible rows.
    pub fn tree_rows(&self) -> Vec<TreeRow> {
        fn walk(
            app: &App,
            f: &Folder,
            path: NodePath,
            depth: usize,
            kind: RowKind,
            out: &mut Vec<TreeRow>,
        ) {
            let expanded = app.expanded.contains(&path);
            out.push(TreeRow {
                path: path.clone(),
                depth,
                kind,
                name: f.name.clone(),
                method: String::new(),
                expanded,
            });
            if !expanded {
                return;
            }
            for r in &f.requests {
                out.push(TreeRow {
                    path: path.child(&r.file_stem),
                    depth: depth + 1,
                    kind: RowKind::Request,
                    name: r.spec.name.clone(),
                    method: r.spec.method.clone(),
                    expanded: false,
                });
            }
            for sub in &f.folders {
                walk(
                    app,
                    sub,
                    path.child(&sub.name),
                    depth + 1,
                    RowKind::Folder,
                    out,
                );
            }
        }
        let mut out = Vec::new();
        for c in &self.ws.collections {
            walk(
                self,
                &c.root,
                NodePath(vec![c.root.name.clone()]),
                0,
                RowKind::Collection,
                &mut out,
            );
        }
        out
    }

    fn select_path(&mut self, path: &NodePath) {
        // Make sure every ancestor is expanded so the row is visible.
        let mut p = path.parent();
        while let Some(pp) = p {
            self.expanded.insert(pp.clone());
            p = pp.parent();
        }
        if let Some(i) = self.tree_rows().iter().position(|r| &r.path == path) {
            self.tree_selected = i;
        }
    }

    // ----- keys -------------------------------------------------------------------------

    fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if key.kind == crossterm::event::KeyEventKind::Release {
            return Vec::new();
        }
        if self.overlay.is_some() && !matches!(self.overlay, Some(Overlay::EnvEditor { .. })) {
            return self.on_overlay_key(key);
        }
        let name = crate::tui::keys::key_name(&key);
        if self.browsing && self.overlay.is_none() {
            if name == "ctrl-c" {
                self.quit = true;
                return Vec::new();
            }
            if let Some(cmds) = self.on_browser_key(&name, key) {
                return cmds;
            }
            // Over the browser only help, the palette and the token viewer reach the keymap.
            return match self.keymap.lookup_name(Ctx::Global, &name) {
                Some(a @ (Action::Help | Action::Palette | Action::TokenViewer)) => self.apply(a),
                _ => Vec::new(),
            };
        }
        // Text editing in the request pane takes keys first.
        if self.focus == Pane::Request
            && self.overlay.is_none()
            && let Some(cmds) = self.on_request_text_key(key, &name)
        {
            return cmds;
        }
        if self.focus == Pane::Response && self.response_depth_key(&name) {
            return Vec::new();
        }
        let ctx = self.context_for_focus();
        match self.keymap.lookup(ctx, &key) {
            Some(action) => self.apply(action),
            None => Vec::new(),
        }
    }

    /// Keys while the URL or the body is being edited. `None`: not editing, use the keymap.
    fn on_request_text_key(&mut self, key: KeyEvent, name: &str) -> Option<Vec<Command>> {
        // Tab in the URL line completes a resource type or search parameter first.
        if name == "tab"
            && self.open_editor().is_some_and(|e| e.url.is_some())
            && self.complete_url()
        {
            return Some(Vec::new());
        }
        let command = self.keymap.in_text_editor(name);
        let ed = self.open_editor_mut()?;
        if let Some(url) = ed.url.as_mut() {
            match name {
                "enter" | "tab" => {
                    let text = url.lines().join("");
                    ed.url = None;
                    ed.draft.url = text.trim().to_string();
                    ed.draft.split_query_from_url();
                }
                "esc" => ed.url = None,
                _ if matches!(command, Some(Action::Send | Action::Save)) => {
                    let text = url.lines().join("");
                    ed.url = None;
                    ed.draft.url = text.trim().to_string();
                    ed.draft.split_query_from_url();
                    return command.map(|a| self.apply(a));
                }
                _ => {
                    url.input(key);
                }
            }
            return Some(Vec::new());
        }
        if ed.body_editing {
            match name {
                "esc" => ed.body_editing = false,
                "ctrl-c" => return Some(self.apply(Action::ForceQuit)),
                _ if command == Some(Action::Save) => return Some(self.apply(Action::Save)),
                _ if command == Some(Action::Send) => return Some(self.apply(Action::Send)),
                _ => {
                    ed.body.input(key);
                    ed.draft.body.text = ed.body.lines().join("\n");
                }
            }
            return Some(Vec::new());
        }
        None
    }

    fn on_paste(&mut self, text: &str) {
        // Shell line continuations join lines (a pasted multi-line curl command).
        let clean = |t: &str| {
            t.replace("\\\r\n", " ")
                .replace("\\\n", " ")
                .replace("\r\n", "\n")
                .replace('\r', "\n")
        };
        match &mut self.overlay {
            Some(Overlay::Prompt { input, .. }) | Some(Overlay::Palette { input, .. }) => {
                input.insert_str(clean(text).replace('\n', " "));
                return;
            }
            Some(Overlay::KeyValue {
                key, value, on_key, ..
            }) => {
                let t = if *on_key { key } else { value };
                t.insert_str(clean(text).replace('\n', " "));
                return;
            }
            Some(_) => return,
            None => {}
        }
        if self.focus != Pane::Request {
            return;
        }
        if let Some(ed) = self.open_editor_mut() {
            if let Some(url) = ed.url.as_mut() {
                url.insert_str(clean(text).replace('\n', ""));
            } else if ed.body_editing {
                ed.body.insert_str(clean(text));
                ed.draft.body.text = ed.body.lines().join("\n");
            }
        }
    }

    fn on_mouse(&mut self, m: MouseEvent) {
        // Dialogs and the browser keep the keyboard's focus; clicks elsewhere do nothing there.
        let modal = self.overlay.is_some() || self.browsing;
        match m.kind {
            MouseEventKind::Down(crossterm::event::MouseButton::Left) if !modal => {
                let hit = self.pane_areas.iter().find(|(_, r)| {
                    r.x <= m.column
                        && m.column < r.x + r.width
                        && r.y <= m.row
                        && m.row < r.y + r.height
                });
                if let Some((pane, _)) = hit {
                    self.focus = *pane;
                }
            }
            // The wheel scrolls what has the focus (or the open dialog's list).
            MouseEventKind::ScrollDown => {
                self.apply(Action::Down);
                self.apply(Action::Down);
                self.apply(Action::Down);
            }
            MouseEventKind::ScrollUp => {
                self.apply(Action::Up);
                self.apply(Action::Up);
                self.apply(Action::Up);
            }
            _ => {}
        }
    }

    pub fn apply(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Send => return self.send(false),
            Action::Save => self.save_open(),
            Action::Cancel => return self.cancel(),
            Action::FocusNext => self.focus = Pane::ALL[(self.focus.index() + 1) % 4],
            Action::FocusPrev => self.focus = Pane::ALL[(self.focus.index() + 3) % 4],
            Action::FocusEnvironments => self.focus = Pane::Environments,
            Action::FocusCollections => self.focus = Pane::Collections,
            Action::FocusRequest => self.focus = Pane::Request,
            Action::FocusResponse => self.focus = Pane::Response,
            Action::Palette => {
                self.overlay = Some(Overlay::Palette {
                    input: line_area(""),
                    selected: 0,
                });
            }
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::Quit => self.request_quit(),
            Action::ForceQuit => self.quit = true,
            Action::Close => self.overlay = None,
            Action::SignIn => {
                let env = self.env_for_action();
                return self.sign_in(env);
            }
            Action::SignInSettings => {
                if let Some(env) = self.env_for_action() {
                    self.overlay = Some(Overlay::AuthEditor { env, row: 0 });
                }
            }
            Action::Lookup => {
                self.open_lookup();
                return self.ensure_capabilities();
            }
            Action::Capabilities => {
                self.overlay = Some(Overlay::Capabilities {
                    selected: 0,
                    scroll: 0,
                });
                return self.ensure_capabilities();
            }
            Action::Jobs => self.overlay = Some(Overlay::Jobs { selected: 0 }),
            Action::History => return self.open_history(None),
            Action::RequestHistory => return self.open_request_history(),
            Action::OpenInBrowser => self.open_response_in_browser(),
            Action::IfMatch => self.add_if_match(),
            Action::CopyCurl | Action::CopyCurlWithSecrets => {
                return self.copy_curl(action == Action::CopyCurlWithSecrets);
            }
            Action::TokenViewer => match self.env_for_action() {
                Some(env)
                    if matches!(
                        self.tokens.get(&env),
                        Some(super::auth::TokenState::Valid(_))
                    ) =>
                {
                    self.overlay = Some(Overlay::TokenViewer { env, scroll: 0 });
                }
                Some(env) => self.info(format!(
                    "No token for '{env}' yet: s in Environments signs in."
                )),
                None => self.info("No environment is active."),
            },
            _ => {
                if matches!(self.overlay, Some(Overlay::EnvEditor { .. })) {
                    self.env_editor_action(action);
                } else {
                    return match self.focus {
                        Pane::Environments => {
                            self.environments_action(action);
                            Vec::new()
                        }
                        Pane::Collections => {
                            self.collections_action(action);
                            Vec::new()
                        }
                        Pane::Request => self.request_action(action),
                        Pane::Response => self.response_action(action),
                    };
                }
            }
        }
        Vec::new()
    }

    /// `y` / `Y`: the open request as a curl command, shown and copied with OSC 52. The
    /// environment's token is included only in the version with secrets.
    fn copy_curl(&mut self, with_secrets: bool) -> Vec<Command> {
        let Some(path) = self.open.clone() else {
            self.info("Open a request first.");
            return Vec::new();
        };
        let Some(spec) = self.editors.get(&path).map(|e| e.draft.clone()) else {
            return Vec::new();
        };
        let prepared = prepare(&Seed {
            workspace: &self.ws,
            path: Some(&path),
            spec: &spec,
            environment: self.active_environment(),
            overrides: &self.session_vars,
        });
        let mut built = prepared.clone();
        if let Some(plan) = &prepared.auth {
            let token = match self.tokens.get(&plan.env) {
                Some(super::auth::TokenState::Valid(t)) => t.access_token.clone(),
                _ => format!("{{{{{}}}}}", plan.auth.token_variable),
            };
            built
                .request
                .headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            built
                .request
                .headers
                .push(("Authorization".into(), format!("Bearer {token}")));
        }
        let r = &built.request;
        let text = if with_secrets {
            crate::import::curl::to_curl(&r.method, &r.url, &r.headers, r.body.as_deref(), false)
        } else {
            crate::import::curl::to_curl_redacting(
                &r.method,
                &r.url,
                &r.headers,
                r.body.as_deref(),
                &built.secrets,
            )
        };
        let title = if with_secrets {
            "curl — WITH secrets and token (copied; treat it as a password)"
        } else {
            "curl — secrets and Authorization redacted (copied; Y copies with them)"
        };
        self.overlay = Some(Overlay::Text {
            title: title.into(),
            text: text.clone(),
            scroll: 0,
        });
        vec![Command::Copy(text)]
    }

    /// `I`: an `If-Match` header from the last answer's `ETag`, for a safe update.
    fn add_if_match(&mut self) {
        let Some(path) = self.open.clone() else {
            return;
        };
        let etag = self.responses.get(&path).and_then(|v| match &v.outcome {
            Outcome::Received { response, .. } => response.header("etag").map(str::to_string),
            Outcome::Failed(_) => None,
        });
        let Some(etag) = etag else {
            self.info("The last answer to this request has no ETag (read the resource first).");
            return;
        };
        if let Some(ed) = self.editors.get_mut(&path) {
            ed.draft
                .headers
                .retain(|h| !h.key.eq_ignore_ascii_case("if-match"));
            ed.draft.headers.push(KeyValue::new("If-Match", &etag));
            self.info(format!("If-Match: {etag} added (Ctrl-S keeps it)."));
        }
    }

    fn request_quit(&mut self) {
        let dirty = self.editors.values().filter(|e| e.dirty()).count();
        if dirty == 0 {
            self.quit = true;
        } else {
            self.overlay = Some(Overlay::Confirm {
                message: format!(
                    "{dirty} request{} unsaved edits. Quit and discard them?",
                    if dirty == 1 { " has" } else { "s have" }
                ),
                on_yes: Confirmed::QuitDiscarding,
            });
        }
    }

    // ----- environments ------------------------------------------------------------------

    /// The environment an environment action is about: the selected one in the Environments
    /// pane, else the active one.
    fn env_for_action(&self) -> Option<String> {
        if self.focus == Pane::Environments
            && let Some(e) = self.ws.environments.get(self.env_selected)
        {
            return Some(e.name.clone());
        }
        self.active_env.clone()
    }

    fn environments_action(&mut self, action: Action) {
        let count = self.ws.environments.len();
        let selected = self
            .ws
            .environments
            .get(self.env_selected)
            .map(|e| e.name.clone());
        match action {
            Action::Up => self.env_selected = self.env_selected.saturating_sub(1),
            Action::Down => {
                self.env_selected = (self.env_selected + 1).min(count.saturating_sub(1))
            }
            Action::Top => self.env_selected = 0,
            Action::Bottom => self.env_selected = count.saturating_sub(1),
            Action::Activate => {
                if let Some(name) = selected {
                    self.info(format!("Environment '{name}' is active."));
                    self.active_env = Some(name);
                }
            }
            Action::Edit | Action::Right => {
                if let Some(env) = selected {
                    self.overlay = Some(Overlay::EnvEditor {
                        env,
                        row: 0,
                        reveal: false,
                    });
                }
            }
            Action::New => self.prompt("New environment name", "", PromptFor::NewEnvironment),
            Action::Rename => {
                if let Some(name) = selected {
                    self.prompt(
                        "Rename environment",
                        &name.clone(),
                        PromptFor::RenameEnvironment(name),
                    );
                }
            }
            Action::Duplicate => {
                if let Some(name) = selected {
                    self.prompt(
                        "Name of the copy",
                        &format!("{name} copy"),
                        PromptFor::DuplicateEnvironment(name),
                    );
                }
            }
            Action::Delete => {
                if let Some(name) = selected {
                    self.overlay = Some(Overlay::Confirm {
                        message: format!("Delete environment '{name}' and its secrets?"),
                        on_yes: Confirmed::DeleteEnvironment(name),
                    });
                }
            }
            _ => {}
        }
    }

    fn env_editor_action(&mut self, action: Action) {
        let Some(Overlay::EnvEditor { env, row, reveal }) = &mut self.overlay else {
            return;
        };
        let env_name = env.clone();
        let Some(environment) = self.ws.environment_mut(&env_name) else {
            self.overlay = None;
            return;
        };
        let count = environment.variables.len();
        let mut changed = false;
        match action {
            Action::Up => *row = row.saturating_sub(1),
            Action::Down => *row = (*row + 1).min(count.saturating_sub(1)),
            Action::Top => *row = 0,
            Action::Bottom => *row = count.saturating_sub(1),
            Action::Reveal => *reveal = !*reveal,
            Action::Toggle => {
                if let Some(v) = environment.variables.get_mut(*row) {
                    v.enabled = !v.enabled;
                    changed = true;
                }
            }
            Action::ToggleSecret => {
                if let Some(v) = environment.variables.get_mut(*row) {
                    v.secret = !v.secret;
                    changed = true;
                }
            }
            Action::Delete if *row < count => {
                environment.variables.remove(*row);
                *row = (*row).min(count.saturating_sub(2));
                changed = true;
            }
            Action::Edit | Action::New => {
                let index = (action == Action::Edit && *row < count).then_some(*row);
                let (k, v, secret) = index
                    .and_then(|i| environment.variables.get(i))
                    .map(|v| (v.key.clone(), v.value.clone(), v.secret))
                    .unwrap_or_default();
                let masked = secret && !*reveal;
                // The editor overlay stays underneath: reopen it after the dialog.
                self.kv_dialog(
                    if masked {
                        "Variable (secret: value hidden, v in the table shows it)"
                    } else {
                        "Variable"
                    },
                    &k,
                    &v,
                    KvTarget::EnvVar {
                        env: env_name.clone(),
                        index,
                    },
                );
                if masked && let Some(Overlay::KeyValue { value, .. }) = &mut self.overlay {
                    value.set_mask_char('•');
                }
            }
            _ => {}
        }
        if changed {
            self.save_environment(&env_name);
        }
    }

    pub(super) fn save_environment(&mut self, name: &str) {
        if let Some(env) = self.ws.environment(name).cloned()
            && let Err(e) = self.store.save_environment(&env)
        {
            self.save_failed(
                e,
                super::conflict::ConflictOn::Environment(name.to_string()),
            );
        }
    }

    // ----- collections -------------------------------------------------------------------

    fn collections_action(&mut self, action: Action) {
        let rows = self.tree_rows();
        let count = rows.len();
        let row = rows.get(self.tree_selected).cloned();
        match action {
            Action::Up => self.tree_selected = self.tree_selected.saturating_sub(1),
            Action::Down => {
                self.tree_selected = (self.tree_selected + 1).min(count.saturating_sub(1))
            }
            Action::PageUp => self.tree_selected = self.tree_selected.saturating_sub(PAGE),
            Action::PageDown => {
                self.tree_selected = (self.tree_selected + PAGE).min(count.saturating_sub(1))
            }
            Action::Top => self.tree_selected = 0,
            Action::Bottom => self.tree_selected = count.saturating_sub(1),
            Action::Right => {
                if let Some(r) = row.filter(|r| r.kind != RowKind::Request) {
                    self.expanded.insert(r.path);
                }
            }
            Action::Left => {
                if let Some(r) = row {
                    if r.kind != RowKind::Request && r.expanded {
                        self.expanded.remove(&r.path);
                    } else if let Some(parent) = r.path.parent() {
                        self.select_path(&parent);
                    }
                }
            }
            Action::Activate => match row {
                Some(r) if r.kind == RowKind::Request => {
                    self.open_request(&r.path);
                }
                Some(r) if !self.expanded.remove(&r.path) => {
                    self.expanded.insert(r.path);
                }
                Some(_) => {}
                None => {}
            },
            Action::New | Action::NewFolder => {
                let folder = match &row {
                    Some(r) if r.kind == RowKind::Request => r.path.parent(),
                    Some(r) => Some(r.path.clone()),
                    None => None,
                };
                match folder {
                    Some(f) if action == Action::New => {
                        self.prompt("New request name", "", PromptFor::NewRequest(f))
                    }
                    Some(f) => self.prompt("New folder name", "", PromptFor::NewFolder(f)),
                    None => self.prompt("New collection name", "", PromptFor::NewCollection),
                }
            }
            Action::PasteCurl => {
                let folder = match &row {
                    Some(r) if r.kind == RowKind::Request => r.path.parent(),
                    Some(r) => Some(r.path.clone()),
                    None => None,
                };
                match folder {
                    Some(f) => self.prompt(
                        "Paste a curl command (Enter creates the request)",
                        "",
                        PromptFor::CurlInto(f),
                    ),
                    None => self.info("Create or select a collection first (c)."),
                }
            }
            Action::Import => self.prompt(
                "File to import: Postman collection or environment, .http, or curl",
                "",
                PromptFor::ImportFile,
            ),
            Action::NewCollection => {
                self.prompt("New collection name", "", PromptFor::NewCollection)
            }
            Action::Rename => {
                if let Some(r) = row {
                    let is_request = r.kind == RowKind::Request;
                    self.prompt(
                        if is_request {
                            "Rename request"
                        } else {
                            "Rename folder"
                        },
                        &r.name,
                        PromptFor::RenameNode {
                            path: r.path,
                            is_request,
                        },
                    );
                }
            }
            Action::Duplicate => {
                if let Some(r) = row {
                    self.duplicate_node(&r);
                }
            }
            Action::Move => {
                if let Some(r) = row.filter(|r| r.kind != RowKind::Collection) {
                    let is_request = r.kind == RowKind::Request;
                    let current_parent = r.path.parent();
                    let targets: Vec<NodePath> = self
                        .ws
                        .all_folders()
                        .into_iter()
                        .filter(|t| Some(t) != current_parent.as_ref())
                        .filter(|t| is_request || !t.0.starts_with(&r.path.0))
                        .collect();
                    if targets.is_empty() {
                        self.info("There is no other folder to move it to.");
                    } else {
                        self.overlay = Some(Overlay::Move {
                            from: r.path,
                            is_request,
                            targets,
                            selected: 0,
                        });
                    }
                }
            }
            Action::Delete => {
                if let Some(r) = row {
                    let what = match r.kind {
                        RowKind::Request => format!("request '{}'", r.name),
                        RowKind::Folder => format!("folder '{}' and everything in it", r.name),
                        RowKind::Collection => {
                            format!("collection '{}' and everything in it", r.name)
                        }
                    };
                    self.overlay = Some(Overlay::Confirm {
                        message: format!("Delete {what}?"),
                        on_yes: Confirmed::DeleteNode {
                            path: r.path,
                            is_request: r.kind == RowKind::Request,
                        },
                    });
                }
            }
            _ => {}
        }
    }

    pub fn open_request(&mut self, path: &NodePath) {
        if !self.editors.contains_key(path) {
            let Some(saved) = self.ws.request(path) else {
                return;
            };
            let editor = RequestEditor::new(path.clone(), saved.spec.clone());
            self.editors.insert(path.clone(), editor);
        }
        self.open = Some(path.clone());
        self.select_path(path);
    }

    fn duplicate_node(&mut self, row: &TreeRow) {
        let Some(parent) = row.path.parent() else {
            self.info(
                "Collections are duplicated by copying their folder; use a new collection instead.",
            );
            return;
        };
        let Some(folder) = self.ws.folder(&parent) else {
            return;
        };
        let copy_name = folder.free_name(&format!("{} copy", row.name));
        let new_path = parent.child(&copy_name);
        let result = if row.kind == RowKind::Request {
            let Some(mut spec) = self.ws.request(&row.path).map(|r| r.spec.clone()) else {
                return;
            };
            // Copy the draft if there are unsaved edits: that is what the user sees.
            if let Some(ed) = self.editors.get(&row.path) {
                spec = ed.draft.clone();
            }
            spec.name = copy_name.clone();
            self.store.save_request(&new_path, &spec).map(|_| {
                if let Some(f) = self.ws.folder_mut(&parent) {
                    f.requests.push(SavedRequest {
                        file_stem: copy_name.clone(),
                        spec,
                    });
                    f.sort();
                }
            })
        } else {
            let Some(mut sub) = self.ws.folder(&row.path).cloned() else {
                return;
            };
            sub.name = copy_name.clone();
            save_folder_tree(&mut self.store, &sub, &new_path).map(|_| {
                if let Some(f) = self.ws.folder_mut(&parent) {
                    f.folders.push(sub);
                    f.sort();
                }
            })
        };
        match result {
            Ok(()) => {
                self.select_path(&new_path);
                self.info(format!("Duplicated as '{copy_name}'."));
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    // ----- request editor ----------------------------------------------------------------

    fn request_action(&mut self, action: Action) -> Vec<Command> {
        let Some(ed) = self.open_editor_mut() else {
            if matches!(action, Action::Edit | Action::EditUrl | Action::New) {
                self.info("Open a request from Collections first (Enter on it).");
            }
            return Vec::new();
        };
        let rows = ed.row_count();
        match action {
            Action::Up => ed.row = ed.row.saturating_sub(1),
            Action::Down => ed.row = (ed.row + 1).min(rows.saturating_sub(1)),
            Action::Top => ed.row = 0,
            Action::Bottom => ed.row = rows.saturating_sub(1),
            Action::NextTab | Action::Right => {
                let i = EditorTab::ALL
                    .iter()
                    .position(|t| *t == ed.tab)
                    .unwrap_or(0);
                ed.tab = EditorTab::ALL[(i + 1) % EditorTab::ALL.len()];
                ed.row = 0;
            }
            Action::PrevTab | Action::Left => {
                let i = EditorTab::ALL
                    .iter()
                    .position(|t| *t == ed.tab)
                    .unwrap_or(0);
                ed.tab = EditorTab::ALL[(i + EditorTab::ALL.len() - 1) % EditorTab::ALL.len()];
                ed.row = 0;
            }
            Action::EditUrl => ed.url = Some(line_area(&ed.draft.url)),
            Action::PickMethod => {
                let selected = METHODS
                    .iter()
                    .position(|m| *m == ed.draft.method)
                    .unwrap_or(0);
                self.overlay = Some(Overlay::Method { selected });
            }
            Action::CycleBodyKind => {
                ed.draft.body.kind = match ed.draft.body.kind {
                    BodyKind::None => BodyKind::Json,
                    BodyKind::Json => BodyKind::Text,
                    BodyKind::Text => BodyKind::Form,
                    BodyKind::Form => BodyKind::None,
                };
                ed.tab = EditorTab::Body;
                ed.row = 0;
            }
            Action::ExternalEdit => {
                let extension = if ed.draft.body.kind == BodyKind::Json {
                    "json"
                } else {
                    "txt"
                };
                ed.tab = EditorTab::Body;
                return vec![Command::EditExternally {
                    text: ed.draft.body.text.clone(),
                    extension,
                }];
            }
            Action::Toggle => {
                let row = ed.row;
                if let Some(kv) = table_rows_mut(ed).and_then(|t| t.get_mut(row)) {
                    kv.enabled = !kv.enabled;
                }
            }
            Action::Delete => {
                let row = ed.row;
                if ed.tab == EditorTab::Captures {
                    if row < ed.draft.captures.len() {
                        ed.draft.captures.remove(row);
                    }
                } else if let Some(t) = table_rows_mut(ed)
                    && row < t.len()
                {
                    t.remove(row);
                }
                ed.row = ed.row.min(ed.row_count().saturating_sub(1));
            }
            Action::Edit | Action::New => {
                let index = (action == Action::Edit && ed.row < rows).then_some(ed.row);
                match ed.tab {
                    EditorTab::Body if ed.draft.body.kind != BodyKind::Form => {
                        if action == Action::Edit {
                            if ed.draft.body.kind == BodyKind::None {
                                ed.draft.body.kind = BodyKind::Json;
                            }
                            ed.body_editing = true;
                        }
                    }
                    EditorTab::Captures => {
                        let (k, v) = index
                            .and_then(|i| ed.draft.captures.get(i))
                            .map(|c| {
                                let src = match c.source {
                                    CaptureSource::Body => c.path.clone(),
                                    CaptureSource::Header => format!("header:{}", c.path),
                                };
                                (c.variable.clone(), src)
                            })
                            .unwrap_or_else(|| (String::new(), "$.".into()));
                        self.kv_dialog(
                            "Capture: variable ← $.json.path or header:Name",
                            &k,
                            &v,
                            KvTarget::Capture(index),
                        );
                    }
                    tab => {
                        let (k, v) = index
                            .and_then(|i| match tab {
                                EditorTab::Params => ed.draft.query.get(i),
                                EditorTab::Headers => ed.draft.headers.get(i),
                                _ => ed.draft.body.form.get(i),
                            })
                            .map(|kv| (kv.key.clone(), kv.value.clone()))
                            .unwrap_or_default();
                        let (title, target) = match tab {
                            EditorTab::Params => ("Query parameter", KvTarget::Query(index)),
                            EditorTab::Headers => ("Header", KvTarget::Header(index)),
                            _ => ("Form field", KvTarget::Form(index)),
                        };
                        self.kv_dialog(title, &k, &v, target);
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn save_open(&mut self) {
        let Some(path) = self.open.clone() else {
            self.info("Nothing to save: no request is open.");
            return;
        };
        let Some(ed) = self.editors.get(&path) else {
            return;
        };
        let spec = ed.draft.clone();
        match self.store.save_request(&path, &spec) {
            Ok(()) => {
                if let Some(r) = self.ws.request_mut(&path) {
                    r.spec = spec.clone();
                }
                if let Some(ed) = self.editors.get_mut(&path) {
                    ed.saved = spec;
                }
                let file = self.store.request_path(&path);
                self.info(format!("Saved {}.", file.display()));
            }
            Err(e) => self.save_failed(e, super::conflict::ConflictOn::Request(path)),
        }
    }

    // ----- sending ----------------------------------------------------------------------

    fn send(&mut self, anyway: bool) -> Vec<Command> {
        let Some(path) = self.open.clone() else {
            self.info("Open a request from Collections first (Enter on it), then Ctrl-R sends it.");
            return Vec::new();
        };
        let Some(ed) = self.editors.get(&path) else {
            return Vec::new();
        };
        let spec = ed.draft.clone();
        let env = self.active_environment().cloned();
        let mut built = prepare(&Seed {
            workspace: &self.ws,
            path: Some(&path),
            spec: &spec,
            environment: env.as_ref(),
            overrides: &self.session_vars,
        });
        let plan = built.auth.take();
        if let Some(e) = built.auth_problem.take() {
            self.error(format!("{e}; sending without sign-in."));
        }
        if !built.unresolved.is_empty() && !anyway {
            let names: Vec<String> = built
                .unresolved
                .iter()
                .map(|n| format!("{{{{{n}}}}}"))
                .collect();
            self.overlay = Some(Overlay::Confirm {
                message: format!(
                    "{} {} no value in environment '{}'. Send anyway?",
                    names.join(", "),
                    if names.len() == 1 { "has" } else { "have" },
                    self.active_env.as_deref().unwrap_or("(none)")
                ),
                on_yes: Confirmed::SendAnyway,
            });
            return Vec::new();
        }
        // A FHIR create or update is checked against its URL before it goes out.
        if !anyway && spec.body.kind == BodyKind::Json {
            let body = built
                .request
                .body
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let problems =
                crate::fhir::check_write(&built.request.method, &built.request.url, &body);
            if !problems.is_empty() {
                self.overlay = Some(Overlay::Confirm {
                    message: format!("{} Send anyway?", problems.join(" ")),
                    on_yes: Confirmed::SendAnyway,
                });
                return Vec::new();
            }
        }
        if !anyway && self.unsupported_warning(&built.request.url) {
            return Vec::new();
        }
        // One request per saved request at a time: a new send replaces the old one.
        let mut cmds = Vec::new();
        let previous: Vec<RequestId> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.path == path)
            .map(|(id, _)| *id)
            .collect();
        for id in previous {
            self.in_flight.remove(&id);
            cmds.push(Command::Worker(WorkerCommand::Cancel { id }));
        }
        let id = RequestId(self.next_request_id);
        self.next_request_id += 1;
        self.in_flight.insert(
            id,
            InFlight {
                path: path.clone(),
                started: Instant::now(),
                method: built.request.method.clone(),
                url: redact(&built.request.url, &built.secrets),
                secrets: built.secrets.clone(),
            },
        );
        if !matches!(
            self.status,
            Some(Status {
                kind: StatusKind::Error,
                ..
            })
        ) {
            self.status = None;
        }
        let mut meta = self.record_meta(
            crate::history::Source::Request,
            env.as_ref(),
            built.secrets.clone(),
        );
        meta.saved = Some(self.saved_name(&path));
        cmds.push(Command::Worker(WorkerCommand::Send {
            id,
            request: built.request,
            auth: plan,
            record: self.history_enabled.then(|| Box::new(meta)),
        }));
        cmds
    }

    /// Esc: cancels the open request's exchange, or, when that one is not running, every
    /// request in flight (the status bar shows them and offers Esc).
    fn cancel(&mut self) -> Vec<Command> {
        let open = self.open.clone();
        let mut ids: Vec<RequestId> = self
            .in_flight
            .iter()
            .filter(|(_, f)| Some(&f.path) == open.as_ref())
            .map(|(id, _)| *id)
            .collect();
        if ids.is_empty() && self.focus == Pane::Response && self.response_back() {
            return Vec::new();
        }
        if ids.is_empty() {
            ids = self.in_flight.keys().copied().collect();
        }
        if ids.is_empty() {
            return Vec::new();
        }
        self.info("Request cancelled.");
        ids.into_iter()
            .map(|id| {
                self.in_flight.remove(&id);
                Command::Worker(WorkerCommand::Cancel { id })
            })
            .collect()
    }

    fn on_worker(&mut self, ev: WorkerEvent) -> Vec<Command> {
        match ev {
            WorkerEvent::Job(job) => self.on_job(*job),
            WorkerEvent::ExportRefused(e) => self.error(format!("The export was not started: {e}")),
            WorkerEvent::Download { job, event } => self.on_download(job, *event),
            WorkerEvent::DownloadDone { job, result } => self.on_download_done(job, result),
            WorkerEvent::Auth(ev) => self.on_auth_event(ev),
            WorkerEvent::History(ev) => return self.on_history_event(ev),
            WorkerEvent::BodyReady { id, body } => self.on_body_ready(id, *body),
            WorkerEvent::Filtered {
                id,
                generation,
                result,
            } => self.on_filtered(id, generation, result),
            WorkerEvent::Response { id, result } => {
                if self.on_caps_response(id, &result) {
                    return Vec::new();
                }
                if let Some(cmds) = self.on_resend_response(id, &result) {
                    return cmds;
                }
                let result = match self.in_flight.contains_key(&id) {
                    true => result,
                    false => {
                        self.on_browse_response(id, result);
                        return Vec::new();
                    }
                };
                let Some(flight) = self.in_flight.remove(&id) else {
                    return Vec::new(); // cancelled or replaced: drop the late answer
                };
                let mut cmds = Vec::new();
                let request_line = format!("{} {}", flight.method, flight.url);
                let captures_rules: Vec<Capture> = self
                    .editors
                    .get(&flight.path)
                    .map(|e| e.draft.captures.clone())
                    .or_else(|| {
                        self.ws
                            .request(&flight.path)
                            .map(|r| r.spec.captures.clone())
                    })
                    .unwrap_or_default();
                let view = match result {
                    Ok(received) => {
                        let received = *received;
                        let captured = capture::apply(&captures_rules, &received.response);
                        let url = received.response.final_url.clone();
                        cmds.extend(self.maybe_start_job(&url, &received.response));
                        self.apply_captures(&captured);
                        if let Some(note) = &received.auth_note {
                            self.error(note.clone());
                        }
                        if let Some(note) =
                            crate::worker::http::retry_after_note(&received.response)
                        {
                            self.error(note);
                        }
                        let mut view = ResponseView::new(
                            request_line,
                            Outcome::Received {
                                response: Box::new(received.response),
                                body: Box::new(received.body),
                            },
                            captured,
                        );
                        view.auth_note = received.auth_note;
                        view.request_id = Some(id);
                        view
                    }
                    Err(HttpError::Cancelled) => return Vec::new(),
                    Err(e) => {
                        let text = redact(&e.to_string(), &flight.secrets);
                        self.error(text.clone());
                        ResponseView::new(request_line, Outcome::Failed(text), Vec::new())
                    }
                };
                self.keep_response(flight.path, view);
                return cmds;
            }
        }
        Vec::new()
    }

    fn apply_captures(&mut self, outcomes: &[CaptureOutcome]) {
        let mut set = Vec::new();
        for o in outcomes {
            if let CaptureOutcome::Set { variable, value } = o {
                self.session_vars.retain(|(k, _)| k != variable);
                self.session_vars.push((variable.clone(), value.clone()));
                set.push(variable.clone());
            }
        }
        if !set.is_empty() {
            self.info(format!("Captured {} for this session.", set.join(", ")));
        }
    }

    // ----- response ---------------------------------------------------------------------

    fn response_action(&mut self, action: Action) -> Vec<Command> {
        let Some(view) = self.open.clone().and_then(|p| self.responses.get_mut(&p)) else {
            return Vec::new();
        };
        match action {
            Action::Search | Action::Filter if view.spool_active() => {
                self.error(super::response::ON_DISK);
            }
            Action::Search => {
                let initial = view
                    .pane()
                    .and_then(|p| p.search.as_ref())
                    .map(|s| s.needle.clone())
                    .unwrap_or_default();
                self.prompt("Search the body", &initial, PromptFor::SearchBody);
            }
            Action::GotoLine => self.prompt("Go to line", "", PromptFor::GotoLine),
            Action::Filter => {
                let initial = view.last_filter.clone();
                self.prompt(
                    "Filter with jq (shortcuts: resources, ids, types, issues)",
                    &initial,
                    PromptFor::FilterBody,
                );
            }
            Action::NextTab | Action::PrevTab => {
                let i = ResponseTab::ALL
                    .iter()
                    .position(|t| *t == view.tab)
                    .unwrap_or(0);
                let n = ResponseTab::ALL.len();
                view.tab = ResponseTab::ALL[if action == Action::NextTab {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                }];
            }
            _ => match view.act(action) {
                Some(Ok(msg)) if !msg.is_empty() => self.info(msg),
                Some(Err(e)) => self.error(e),
                _ => {}
            },
        }
        Vec::new()
    }

    // ----- overlays ---------------------------------------------------------------------

    fn prompt(&mut self, title: &str, initial: &str, purpose: PromptFor) {
        self.overlay = Some(Overlay::Prompt {
            title: title.into(),
            input: line_area(initial),
            purpose,
        });
    }

    fn kv_dialog(&mut self, title: &str, key: &str, value: &str, target: KvTarget) {
        let on_key = key.is_empty();
        self.overlay = Some(Overlay::KeyValue {
            title: title.into(),
            key: line_area(key),
            value: line_area(value),
            on_key,
            target,
        });
    }

    fn on_overlay_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let name = crate::tui::keys::key_name(&key);
        if name == "ctrl-c" {
            self.quit = true;
            return Vec::new();
        }
        let Some(overlay) = self.overlay.take() else {
            return Vec::new();
        };
        match overlay {
            Overlay::Help { scroll } => {
                if let Some(s) = scroll_key(&name, scroll) {
                    self.overlay = Some(Overlay::Help { scroll: s });
                }
            }
            Overlay::Problems { scroll } => {
                if let Some(s) = scroll_key(&name, scroll) {
                    self.overlay = Some(Overlay::Problems { scroll: s });
                }
            }
            Overlay::Palette {
                mut input,
                mut selected,
            } => {
                let items = self.palette_items(&input.lines().join(""));
                match name.as_str() {
                    "esc" => {}
                    "enter" => {
                        if let Some(item) = items.get(selected) {
                            return self.run_palette_item(item.clone());
                        }
                    }
                    "down" | "ctrl-n" | "tab" => {
                        selected = (selected + 1).min(items.len().saturating_sub(1));
                        self.overlay = Some(Overlay::Palette { input, selected });
                    }
                    "up" | "ctrl-p" | "backtab" => {
                        selected = selected.saturating_sub(1);
                        self.overlay = Some(Overlay::Palette { input, selected });
                    }
                    _ => {
                        input.input(key);
                        self.overlay = Some(Overlay::Palette { input, selected: 0 });
                    }
                }
            }
            Overlay::Conflict(c) => self.conflict_key(&name, c),
            Overlay::Confirm { message, on_yes } => match name.as_str() {
                "y" | "Y" | "enter" => return self.confirmed(on_yes),
                "n" | "N" | "esc" | "q" => {
                    if on_yes == Confirmed::RestoreDrafts {
                        self.discard_drafts();
                        self.info("Drafts discarded.");
                    }
                    if on_yes == Confirmed::ClearHistory {
                        self.overlay = Some(Overlay::History);
                    }
                }
                _ => self.overlay = Some(Overlay::Confirm { message, on_yes }),
            },
            Overlay::Prompt {
                title,
                mut input,
                purpose,
            } => match name.as_str() {
                "esc" => {
                    // Back to the screen the prompt was asked from.
                    if matches!(purpose, PromptFor::SaveHistoryEntry(_)) {
                        self.overlay = Some(Overlay::History);
                    }
                }
                "enter" => {
                    let text = input.lines().join("").trim().to_string();
                    if text.is_empty() {
                        self.overlay = Some(Overlay::Prompt {
                            title,
                            input,
                            purpose,
                        });
                    } else if purpose == PromptFor::FilterBody {
                        return self.start_filter(&text);
                    } else {
                        self.prompt_done(purpose, &text);
                    }
                }
                _ => {
                    input.input(key);
                    if purpose == PromptFor::SearchBody {
                        self.search_as_you_type(&input.lines().join(""));
                    }
                    self.overlay = Some(Overlay::Prompt {
                        title,
                        input,
                        purpose,
                    });
                }
            },
            Overlay::KeyValue {
                title,
                key: mut k,
                mut value,
                mut on_key,
                target,
            } => match name.as_str() {
                "esc" => self.after_kv(&target),
                "tab" | "backtab" | "up" | "down" => {
                    on_key = !on_key;
                    self.overlay = Some(Overlay::KeyValue {
                        title,
                        key: k,
                        value,
                        on_key,
                        target,
                    });
                }
                "enter" => {
                    let kt = k.lines().join("").trim().to_string();
                    let vt = value.lines().join("");
                    if kt.is_empty() {
                        self.overlay = Some(Overlay::KeyValue {
                            title,
                            key: k,
                            value,
                            on_key: true,
                            target,
                        });
                    } else {
                        self.kv_done(&target, kt, vt);
                        self.after_kv(&target);
                    }
                }
                _ => {
                    if on_key {
                        k.input(key)
                    } else {
                        value.input(key)
                    };
                    self.overlay = Some(Overlay::KeyValue {
                        title,
                        key: k,
                        value,
                        on_key,
                        target,
                    });
                }
            },
            Overlay::Method { mut selected } => match name.as_str() {
                "esc" | "q" => {}
                "j" | "down" => {
                    selected = (selected + 1).min(METHODS.len() - 1);
                    self.overlay = Some(Overlay::Method { selected });
                }
                "k" | "up" => {
                    selected = selected.saturating_sub(1);
                    self.overlay = Some(Overlay::Method { selected });
                }
                "enter" | "space" => {
                    if let Some(ed) = self.open_editor_mut() {
                        ed.draft.method = METHODS[selected].to_string();
                    }
                }
                other => {
                    // First letter picks: g, p (POST), u (PUT), a (PATCH), d, h, o.
                    let pick = match other {
                        "g" => Some(0),
                        "p" => Some(1),
                        "u" => Some(2),
                        "a" => Some(3),
                        "d" => Some(4),
                        "h" => Some(5),
                        "o" => Some(6),
                        _ => None,
                    };
                    match pick {
                        Some(i) => {
                            if let Some(ed) = self.open_editor_mut() {
                                ed.draft.method = METHODS[i].to_string();
                            }
                        }
                        None => self.overlay = Some(Overlay::Method { selected }),
                    }
                }
            },
            Overlay::Move {
                from,
                is_request,
                targets,
                mut selected,
            } => match name.as_str() {
                "esc" | "q" => {}
                "j" | "down" => {
                    selected = (selected + 1).min(targets.len().saturating_sub(1));
                    self.overlay = Some(Overlay::Move {
                        from,
                        is_request,
                        targets,
                        selected,
                    });
                }
                "k" | "up" => {
                    selected = selected.saturating_sub(1);
                    self.overlay = Some(Overlay::Move {
                        from,
                        is_request,
                        targets,
                        selected,
                    });
                }
                "enter" => {
                    if let Some(dest) = targets.get(selected).cloned() {
                        self.move_node(&from, &dest, is_request);
                    }
                }
                _ => {
                    self.overlay = Some(Overlay::Move {
                        from,
                        is_request,
                        targets,
                        selected,
                    })
                }
            },
            Overlay::EnvEditor { .. } => {}
            Overlay::AuthEditor { env, mut row } => {
                let fields = super::auth::AUTH_FIELDS;
                match name.as_str() {
                    "esc" | "q" => {}
                    "j" | "down" => {
                        row = (row + 1).min(fields.len() - 1);
                        self.overlay = Some(Overlay::AuthEditor { env, row });
                    }
                    "k" | "up" => {
                        row = row.saturating_sub(1);
                        self.overlay = Some(Overlay::AuthEditor { env, row });
                    }
                    "s" => return self.sign_in(Some(env)),
                    "enter" | "space" | "e" => {
                        let field = fields[row.min(fields.len() - 1)];
                        let Some(e) = self.ws.environment_mut(&env) else {
                            return Vec::new();
                        };
                        let mut config = e.auth.clone().unwrap_or_default();
                        match field {
                            "kind" => {
                                let i = crate::workspace::AuthKind::ALL
                                    .iter()
                                    .position(|k| *k == config.kind)
                                    .unwrap_or(0);
                                config.kind = crate::workspace::AuthKind::ALL
                                    [(i + 1) % crate::workspace::AuthKind::ALL.len()];
                            }
                            "flavor" => {
                                use crate::workspace::TokenFlavor;
                                config.flavor = match config.flavor {
                                    TokenFlavor::EntraV1 => TokenFlavor::EntraV2,
                                    TokenFlavor::EntraV2 => TokenFlavor::Oauth2,
                                    TokenFlavor::Oauth2 => TokenFlavor::EntraV1,
                                };
                            }
                            _ => {
                                let value = super::auth::auth_field_value(&config, field)
                                    .unwrap_or_default();
                                self.kv_dialog(
                                    "Sign-in setting (empty = default)",
                                    field,
                                    &value,
                                    KvTarget::AuthField {
                                        env: env.clone(),
                                        field,
                                    },
                                );
                                if let Some(Overlay::KeyValue { on_key, .. }) = &mut self.overlay {
                                    *on_key = false;
                                }
                                return Vec::new();
                            }
                        }
                        e.auth = Some(config);
                        self.save_environment(&env);
                        self.overlay = Some(Overlay::AuthEditor { env, row });
                    }
                    _ => self.overlay = Some(Overlay::AuthEditor { env, row }),
                }
            }
            Overlay::SignIn { env, view } => match name.as_str() {
                "esc" | "q" => return self.cancel_sign_in(env),
                "c" | "y" => {
                    let text = match &view {
                        super::auth::SignInView::DeviceCode { prompt, .. } => {
                            Some(prompt.user_code.clone())
                        }
                        super::auth::SignInView::Browser { url, .. } => Some(url.clone()),
                        super::auth::SignInView::Waiting { .. } => None,
                    };
                    self.overlay = Some(Overlay::SignIn { env, view });
                    if let Some(t) = text {
                        return vec![Command::Copy(t)];
                    }
                }
                _ => self.overlay = Some(Overlay::SignIn { env, view }),
            },
            Overlay::Jobs { selected } => return self.on_jobs_key(&name, selected),
            Overlay::History => return self.on_history_key(key, &name),
            Overlay::Capabilities {
                mut selected,
                mut scroll,
            } => {
                let count = self
                    .active_capabilities()
                    .map(|c| c.resources.len())
                    .unwrap_or(0);
                match name.as_str() {
                    "esc" | "q" | "C" => return Vec::new(),
                    "j" | "down" => {
                        selected = (selected + 1).min(count.saturating_sub(1));
                        scroll = 0;
                    }
                    "k" | "up" => {
                        selected = selected.saturating_sub(1);
                        scroll = 0;
                    }
                    "pagedown" | "ctrl-d" | "space" => scroll = scroll.saturating_add(10),
                    "pageup" | "ctrl-u" => scroll = scroll.saturating_sub(10),
                    _ => {}
                }
                self.overlay = Some(Overlay::Capabilities { selected, scroll });
            }
            Overlay::ExportForm(form) => return self.on_export_form_key(form, &name, key),
            Overlay::Text {
                title,
                text,
                scroll,
            } => {
                if let Some(s) = scroll_key(&name, scroll) {
                    self.overlay = Some(Overlay::Text {
                        title,
                        text,
                        scroll: s,
                    });
                }
            }
            Overlay::TokenViewer { env, scroll } => match name.as_str() {
                "c" | "y" => {
                    let token = match self.tokens.get(&env) {
                        Some(super::auth::TokenState::Valid(t)) => Some(t.access_token.clone()),
                        _ => None,
                    };
                    self.overlay = Some(Overlay::TokenViewer { env, scroll });
                    if let Some(t) = token {
                        self.info(
                            "Token copied to the clipboard (OSC 52). Treat it as a password.",
                        );
                        return vec![Command::Copy(t)];
                    }
                }
                _ => {
                    if let Some(s) = scroll_key(&name, scroll) {
                        self.overlay = Some(Overlay::TokenViewer { env, scroll: s });
                    }
                }
            },
        }
        Vec::new()
    }

    fn after_kv(&mut self, target: &KvTarget) {
        if let KvTarget::AuthField { env, field } = target {
            let row = super::auth::AUTH_FIELDS
                .iter()
                .position(|f| f == field)
                .unwrap_or(0);
            self.overlay = Some(Overlay::AuthEditor {
                env: env.clone(),
                row,
            });
            return;
        }
        if let KvTarget::EnvVar { env, index } = target {
            let row = index.unwrap_or_else(|| {
                self.ws
                    .environment(env)
                    .map(|e| e.variables.len().saturating_sub(1))
                    .unwrap_or(0)
            });
            self.overlay = Some(Overlay::EnvEditor {
                env: env.clone(),
                row,
                reveal: false,
            });
        }
    }

    fn kv_done(&mut self, target: &KvTarget, key: String, value: String) {
        match target {
            KvTarget::EnvVar { env, index } => {
                let Some(e) = self.ws.environment_mut(env) else {
                    return;
                };
                match index.and_then(|i| e.variables.get_mut(i)) {
                    Some(v) => {
                        v.key = key;
                        v.value = value;
                    }
                    None => {
                        let secret = crate::workspace::looks_secret(&key);
                        e.variables.push(Variable {
                            key,
                            value,
                            enabled: true,
                            secret,
                        });
                    }
                }
                let env = env.clone();
                self.save_environment(&env);
            }
            KvTarget::AuthField { env, field } => {
                let Some(e) = self.ws.environment_mut(env) else {
                    return;
                };
                let mut config = e.auth.clone().unwrap_or_default();
                match super::auth::set_auth_field(&mut config, field, &value) {
                    Ok(()) => {
                        e.auth = Some(config);
                        let env = env.clone();
                        self.save_environment(&env);
                    }
                    Err(msg) => self.error(msg),
                }
            }
            KvTarget::Capture(index) => {
                let Some(ed) = self.open_editor_mut() else {
                    return;
                };
                let (source, path) = match value.strip_prefix("header:") {
                    Some(h) => (CaptureSource::Header, h.trim().to_string()),
                    None => (CaptureSource::Body, value.trim().to_string()),
                };
                let c = Capture {
                    variable: key,
                    source,
                    path,
                };
                match index.and_then(|i| ed.draft.captures.get_mut(i)) {
                    Some(slot) => *slot = c,
                    None => {
                        ed.draft.captures.push(c);
                        ed.row = ed.draft.captures.len() - 1;
                    }
                }
            }
            KvTarget::Query(index) | KvTarget::Header(index) | KvTarget::Form(index) => {
                let Some(ed) = self.open_editor_mut() else {
                    return;
                };
                let table = match target {
                    KvTarget::Query(_) => &mut ed.draft.query,
                    KvTarget::Header(_) => &mut ed.draft.headers,
                    _ => &mut ed.draft.body.form,
                };
                match index.and_then(|i| table.get_mut(i)) {
                    Some(kv) => {
                        kv.key = key;
                        kv.value = value;
                    }
                    None => {
                        table.push(KeyValue::new(key, value));
                        ed.row = table.len() - 1;
                    }
                }
                if matches!(target, KvTarget::Form(_)) {
                    ed.draft.body.kind = BodyKind::Form;
                }
            }
        }
    }

    /// Searches while the search prompt is typed in, on bodies small enough to search between
    /// two keys without a pause; bigger ones are searched when Enter is pressed.
    fn search_as_you_type(&mut self, text: &str) {
        const INCREMENTAL_BYTES: usize = 8 * 1024 * 1024;
        let view = self.open.clone().and_then(|p| self.responses.get_mut(&p));
        let Some(pane) = view.and_then(|v| v.pane_mut()) else {
            return;
        };
        if text.is_empty() || pane.text.text().len() > INCREMENTAL_BYTES {
            return;
        }
        let status = pane.search_for(text);
        self.info(status);
    }

    fn prompt_done(&mut self, purpose: PromptFor, text: &str) {
        let name = crate::workspace::file_safe_name(text);
        let result: Result<String, String> = match purpose {
            PromptFor::NewEnvironment => {
                if self.ws.environment(&name).is_some() {
                    Err(format!("An environment named '{name}' already exists."))
                } else {
                    let env = template_environment(&name);
                    self.store.create_environment(&env).map_err(|e| e.to_string()).map(|_| {
                        self.ws.environments.push(env);
                        self.ws.environments.sort_by(|a, b| a.name.cmp(&b.name));
                        self.env_selected = self.ws.environments.iter().position(|e| e.name == name).unwrap_or(0);
                        format!("Environment '{name}' created from the Azure template; press e to edit it.")
                    })
                }
            }
            PromptFor::DuplicateEnvironment(src) => match self.ws.environment(&src).cloned() {
                Some(mut env) if self.ws.environment(&name).is_none() => {
                    env.name = name.clone();
                    self.store
                        .create_environment(&env)
                        .map_err(|e| e.to_string())
                        .map(|_| {
                            self.ws.environments.push(env);
                            self.ws.environments.sort_by(|a, b| a.name.cmp(&b.name));
                            self.env_selected = self
                                .ws
                                .environments
                                .iter()
                                .position(|e| e.name == name)
                                .unwrap_or(0);
                            format!("Environment copied to '{name}'.")
                        })
                }
                Some(_) => Err(format!("An environment named '{name}' already exists.")),
                None => Err("That environment is gone.".into()),
            },
            PromptFor::RenameEnvironment(old) => {
                if old == name {
                    Ok(String::new())
                } else if self.ws.environment(&name).is_some() {
                    Err(format!("An environment named '{name}' already exists."))
                } else if let Some(mut env) = self.ws.environment(&old).cloned() {
                    env.name = name.clone();
                    self.store
                        .rename_environment(&env, &old)
                        .map_err(|e| e.to_string())
                        .map(|_| {
                            if let Some(e) = self.ws.environment_mut(&old) {
                                e.name = name.clone();
                            }
                            self.ws.environments.sort_by(|a, b| a.name.cmp(&b.name));
                            if self.active_env.as_deref() == Some(old.as_str()) {
                                self.active_env = Some(name.clone());
                            }
                            format!("Renamed to '{name}'.")
                        })
                } else {
                    Err("That environment is gone.".into())
                }
            }
            PromptFor::NewCollection => {
                if self.ws.collection(&name).is_some() {
                    Err(format!("A collection named '{name}' already exists."))
                } else {
                    let path = NodePath(vec![name.clone()]);
                    self.store
                        .create_folder(&path)
                        .map_err(|e| e.to_string())
                        .map(|_| {
                            self.ws.collections.push(crate::workspace::Collection {
                                root: Folder::new(&name),
                                ..Default::default()
                            });
                            self.ws
                                .collections
                                .sort_by(|a, b| a.root.name.cmp(&b.root.name));
                            self.select_path(&path);
                            format!("Collection '{name}' created.")
                        })
                }
            }
            PromptFor::NewFolder(parent) => match self.ws.folder(&parent) {
                Some(f) if f.free_name(&name) == name => {
                    let path = parent.child(&name);
                    self.store
                        .create_folder(&path)
                        .map_err(|e| e.to_string())
                        .map(|_| {
                            if let Some(f) = self.ws.folder_mut(&parent) {
                                f.folders.push(Folder::new(&name));
                                f.sort();
                            }
                            self.select_path(&path);
                            format!("Folder '{name}' created.")
                        })
                }
                Some(_) => Err(format!("'{name}' already exists there.")),
                None => Err("That folder is gone.".into()),
            },
            PromptFor::NewRequest(parent) => {
                let spec = RequestSpec::new(text.trim(), "GET", "{{fhirurl}}/");
                self.add_request(&parent, spec).map(|_| {
                    self.focus = Pane::Request;
                    if let Some(ed) = self.open_editor_mut() {
                        ed.url = Some(line_area(&ed.draft.url));
                    }
                    "Request created: type its URL, Enter when done.".to_string()
                })
            }
            PromptFor::SaveHistoryEntry(id) => self.save_history_entry(id, text),
            PromptFor::CurlInto(folder) => match crate::import::curl::parse_curl_with_notes(text) {
                Ok((spec, notes)) => self.add_request(&folder, spec).map(|path| {
                    let mut msg = format!("Request '{}' created from curl.", path.last());
                    for n in notes {
                        msg.push(' ');
                        msg.push_str(&n);
                    }
                    msg
                }),
                Err(e) => Err(e.to_string()),
            },
            PromptFor::SearchBody => {
                let view = self.open.clone().and_then(|p| self.responses.get_mut(&p));
                match view.and_then(|v| v.pane_mut()) {
                    Some(pane) => Ok(pane.search_for(text)),
                    None => Err("This tab has no body to search.".into()),
                }
            }
            PromptFor::GotoLine => match text.trim().parse::<usize>() {
                Ok(n) if n > 0 => {
                    if let Some(v) = self.open.clone().and_then(|p| self.responses.get_mut(&p)) {
                        v.goto_line(n - 1);
                    }
                    Ok(String::new())
                }
                _ => Err(format!("'{text}' is not a line number.")),
            },
            // Started from the prompt itself (it sends a command to the worker).
            PromptFor::FilterBody => Ok(String::new()),
            PromptFor::ImportFile => {
                let path = std::path::PathBuf::from(text.trim());
                match crate::cli::import::import_files(&mut self.store, &mut self.ws, &[path]) {
                    Ok(report) => {
                        for c in &self.ws.collections {
                            self.expanded.insert(NodePath(vec![c.root.name.clone()]));
                        }
                        self.ws
                            .collections
                            .sort_by(|a, b| a.root.name.cmp(&b.root.name));
                        self.ws.environments.sort_by(|a, b| a.name.cmp(&b.name));
                        self.overlay = Some(Overlay::Text {
                            title: "Import report".into(),
                            text: report,
                            scroll: 0,
                        });
                        Ok(String::new())
                    }
                    Err(e) => Err(e),
                }
            }
            PromptFor::RenameNode { path, is_request } => {
                self.rename_node(&path, is_request, text.trim())
            }
        };
        match result {
            Ok(msg) if msg.is_empty() => {}
            Ok(msg) => self.info(msg),
            Err(e) => self.error(e),
        }
    }

    /// Saves a new request at the end of `folder` (under a free file name) and opens it.
    pub(super) fn add_request(
        &mut self,
        folder: &NodePath,
        mut spec: RequestSpec,
    ) -> Result<NodePath, String> {
        let f = self.ws.folder(folder).ok_or("That folder is gone.")?;
        let stem = f.free_name(&spec.name);
        spec.seq = f.requests.iter().map(|r| r.spec.seq).max().unwrap_or(0) + 1;
        let path = folder.child(&stem);
        self.store
            .save_request(&path, &spec)
            .map_err(|e| e.to_string())?;
        if let Some(f) = self.ws.folder_mut(folder) {
            f.requests.push(SavedRequest {
                file_stem: stem,
                spec,
            });
            f.sort();
        }
        self.open_request(&path);
        Ok(path)
    }

    fn rename_node(
        &mut self,
        path: &NodePath,
        is_request: bool,
        display: &str,
    ) -> Result<String, String> {
        let name = crate::workspace::file_safe_name(display);
        let Some(parent) = path.parent() else {
            // A collection: rename its directory.
            if self.ws.collection(&name).is_some() {
                return Err(format!("A collection named '{name}' already exists."));
            }
            let to = NodePath(vec![name.clone()]);
            self.store
                .move_node(path, &to, false)
                .map_err(|e| e.to_string())?;
            if let Some(c) = self
                .ws
                .collections
                .iter_mut()
                .find(|c| c.root.name == path.last())
            {
                c.root.name = name.clone();
            }
            self.rekey(path, &to);
            self.select_path(&to);
            return Ok(format!("Renamed to '{name}'."));
        };
        let to = parent.child(&name);
        if &to != path {
            if self
                .ws
                .folder(&parent)
                .is_some_and(|f| f.free_name(&name) != name)
            {
                return Err(format!("'{name}' already exists there."));
            }
            self.store
                .move_node(path, &to, is_request)
                .map_err(|e| e.to_string())?;
        }
        if is_request {
            let mut spec = self
                .ws
                .request(path)
                .map(|r| r.spec.clone())
                .ok_or("That request is gone.")?;
            spec.name = display.to_string();
            self.store
                .save_request(&to, &spec)
                .map_err(|e| e.to_string())?;
            if let Some(r) = self.ws.request_mut(path) {
                r.file_stem = name.clone();
                r.spec = spec.clone();
            }
            if let Some(ed) = self.editors.get_mut(path) {
                ed.draft.name = spec.name.clone();
                ed.saved.name = spec.name.clone();
            }
        } else if let Some(f) = self.ws.folder_mut(path) {
            f.name = name.clone();
        }
        if let Some(f) = self.ws.folder_mut(&parent) {
            f.sort();
        }
        self.rekey(path, &to);
        self.select_path(&to);
        Ok(format!("Renamed to '{display}'."))
    }

    fn move_node(&mut self, from: &NodePath, dest: &NodePath, is_request: bool) {
        let Some(folder) = self.ws.folder(dest) else {
            return;
        };
        let name = from.last().to_string();
        if folder.free_name(&name) != name {
            self.error(format!("'{name}' already exists in {}.", dest.display()));
            return;
        }
        let to = dest.child(&name);
        if let Err(e) = self.store.move_node(from, &to, is_request) {
            self.error(e.to_string());
            return;
        }
        let Some(src_parent) = from.parent() else {
            return;
        };
        if is_request {
            let taken = self.ws.folder_mut(&src_parent).and_then(|f| {
                let i = f.requests.iter().position(|r| r.file_stem == name)?;
                Some(f.requests.remove(i))
            });
            if let (Some(r), Some(f)) = (taken, self.ws.folder_mut(dest)) {
                f.requests.push(r);
                f.sort();
            }
        } else {
            let taken = self.ws.folder_mut(&src_parent).and_then(|f| {
                let i = f.folders.iter().position(|x| x.name == name)?;
                Some(f.folders.remove(i))
            });
            if let (Some(x), Some(f)) = (taken, self.ws.folder_mut(dest)) {
                f.folders.push(x);
                f.sort();
            }
        }
        self.rekey(from, &to);
        self.select_path(&to);
        self.info(format!("Moved to {}.", dest.display()));
    }

    /// After a rename or move, keeps open editors, responses and expansion under the new path.
    fn rekey(&mut self, from: &NodePath, to: &NodePath) {
        let remap = |p: &NodePath| -> Option<NodePath> {
            p.0.starts_with(&from.0).then(|| {
                let mut v = to.0.clone();
                v.extend_from_slice(&p.0[from.0.len()..]);
                NodePath(v)
            })
        };
        let editors: Vec<NodePath> = self
            .editors
            .keys()
            .filter_map(|p| remap(p).map(|_| p.clone()))
            .collect();
        for p in editors {
            if let (Some(mut ed), Some(np)) = (self.editors.remove(&p), remap(&p)) {
                ed.path = np.clone();
                self.editors.insert(np, ed);
            }
        }
        let responses: Vec<NodePath> = self
            .responses
            .keys()
            .filter(|p| remap(p).is_some())
            .cloned()
            .collect();
        for p in responses {
            if let (Some(r), Some(np)) = (self.responses.remove(&p), remap(&p)) {
                self.responses.insert(np, r);
            }
        }
        for f in self.in_flight.values_mut() {
            if let Some(np) = remap(&f.path) {
                f.path = np;
            }
        }
        self.expanded = self
            .expanded
            .iter()
            .map(|p| remap(p).unwrap_or_else(|| p.clone()))
            .collect();
        if let Some(np) = self.open.as_ref().and_then(remap) {
            self.open = Some(np);
        }
    }

    fn confirmed(&mut self, what: Confirmed) -> Vec<Command> {
        match what {
            Confirmed::SendAnyway => return self.send(true),
            Confirmed::ClearHistory => {
                self.overlay = Some(Overlay::History);
                return vec![Command::History(super::history::HistoryCall::Clear)];
            }
            Confirmed::QuitDiscarding => {
                for ed in self.editors.values_mut() {
                    ed.draft = ed.saved.clone();
                }
                self.discard_drafts();
                self.quit = true;
            }
            Confirmed::RestoreDrafts => self.restore_drafts(),
            Confirmed::CancelJob(id) => return self.cancel_job(&id),
            Confirmed::DeleteEnvironment(name) => match self.store.delete_environment(&name) {
                Ok(()) => {
                    self.ws.environments.retain(|e| e.name != name);
                    if self.active_env.as_deref() == Some(name.as_str()) {
                        self.active_env = self.ws.environments.first().map(|e| e.name.clone());
                    }
                    self.env_selected = self
                        .env_selected
                        .min(self.ws.environments.len().saturating_sub(1));
                    self.info(format!("Environment '{name}' deleted."));
                }
                Err(e) => self.error(e.to_string()),
            },
            Confirmed::DeleteNode { path, is_request } => {
                match self.store.delete_node(&path, is_request) {
                    Ok(()) => {
                        match path.parent() {
                            None => self.ws.collections.retain(|c| c.root.name != path.last()),
                            Some(parent) => {
                                if let Some(f) = self.ws.folder_mut(&parent) {
                                    if is_request {
                                        f.requests.retain(|r| r.file_stem != path.last());
                                    } else {
                                        f.folders.retain(|x| x.name != path.last());
                                    }
                                }
                            }
                        }
                        let gone = |p: &NodePath| p.0.starts_with(&path.0);
                        self.editors.retain(|p, _| !gone(p));
                        self.responses.retain(|p, _| !gone(p));
                        if self.open.as_ref().is_some_and(gone) {
                            self.open = None;
                        }
                        let rows = self.tree_rows().len();
                        self.tree_selected = self.tree_selected.min(rows.saturating_sub(1));
                        self.info(format!("Deleted {}.", path.display()));
                    }
                    Err(e) => self.error(e.to_string()),
                }
            }
        }
        Vec::new()
    }
}

/// Scrolling keys in a read-only overlay; `None` closes it.
fn scroll_key(name: &str, scroll: u16) -> Option<u16> {
    match name {
        "j" | "down" => Some(scroll.saturating_add(1)),
        "k" | "up" => Some(scroll.saturating_sub(1)),
        "pagedown" | "space" | "ctrl-d" => Some(scroll.saturating_add(10)),
        "pageup" | "ctrl-u" => Some(scroll.saturating_sub(10)),
        "g" | "home" => Some(0),
        _ => None,
    }
}

fn table_rows_mut(ed: &mut RequestEditor) -> Option<&mut Vec<KeyValue>> {
    match ed.tab {
        EditorTab::Params => Some(&mut ed.draft.query),
        EditorTab::Headers => Some(&mut ed.draft.headers),
        EditorTab::Body if ed.draft.body.kind == BodyKind::Form => Some(&mut ed.draft.body.form),
        _ => None,
    }
}

fn save_folder_tree(
    store: &mut Store,
    folder: &Folder,
    path: &NodePath,
) -> Result<(), crate::workspace::StoreError> {
    store.create_folder(path)?;
    for r in &folder.requests {
        store.save_request(&path.child(&r.file_stem), &r.spec)?;
    }
    for sub in &folder.folders {
        save_folder_tree(store, sub, &path.child(&sub.name))?;
    }
    Ok(())
}
