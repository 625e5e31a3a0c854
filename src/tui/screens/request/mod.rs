//! The Request pane: the open request's method and URL, and tabs for query parameters,
//! headers, body and capture rules. It keeps every opened request's draft, sends the open one
//! (through the one request-preparation path, after the questions worth asking), copies it as
//! curl, saves it, and carries out the choices of a conflict over a request's file.

mod draw;
pub mod editor;
mod saving;
mod send;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};

pub use editor::{EditorTab, RequestEditor};

use super::dialogs::choice::Choice;
use super::dialogs::conflict::Choice as ConflictChoice;
use super::dialogs::key_value::KeyValue;
use super::dialogs::method_picker::MethodPicker;
use super::{Cx, Intent};
use crate::tui::keys::{Action, Ctx, key_name};
use crate::tui::msg::{Command, DiskResult};
use crate::tui::widgets::text_field::TextField;
use crate::workspace::{BodyKind, Capture, CaptureSource, KeyValue as Kv, NodePath, RequestSpec};

#[allow(clippy::large_enum_variant)] // moved once, never kept (see `tui::msg::Msg`)
pub enum Msg {
    SetMethod(String),
    /// Start editing the open request's URL.
    EditUrl,
    /// A query parameter, header or form field (a new one when `index` is `None`).
    SetRow {
        tab: EditorTab,
        index: Option<usize>,
        key: String,
        value: String,
    },
    SetCapture {
        index: Option<usize>,
        variable: String,
        source: String,
    },
    /// A body kind chosen; `edit` starts editing it.
    SetBodyKind {
        kind: BodyKind,
        edit: bool,
    },
    /// The search parameters the server does not list were accepted for this request.
    AllowParams {
        path: NodePath,
        params: Vec<String>,
    },
    /// The user said yes to sending `env`'s requests without a token while signing in fails:
    /// remembered for the session, and the open request goes again.
    AllowUnsigned(String),
    /// The value of a Postman Vault secret (`{{vault:NAME}}`), typed when sending: kept for
    /// the session only (a secret by its name, so redacted everywhere), then the send goes on.
    VaultValue {
        variable: String,
        value: String,
    },
    /// A request was renamed (its display name changed).
    Renamed {
        path: NodePath,
        name: String,
    },
    Resolve {
        path: NodePath,
        file: PathBuf,
        choice: ConflictChoice,
    },
    Done(Done, DiskResult),
}

pub enum Done {
    Saved {
        path: NodePath,
        spec: Box<RequestSpec>,
    },
    Reloaded {
        path: NodePath,
        file: PathBuf,
        copy: Option<String>,
    },
    Copied {
        path: NodePath,
        file: PathBuf,
        copy: NodePath,
        spec: Box<RequestSpec>,
    },
    KeptMine {
        path: NodePath,
    },
}

#[derive(Default)]
pub struct Request {
    pub editors: HashMap<NodePath, RequestEditor>,
    /// Unlisted search parameters the user chose to send anyway, per request, this session.
    allowed_params: HashSet<(NodePath, Vec<String>)>,
}

impl Request {
    pub fn open(&self, model_open: Option<&NodePath>) -> Option<&RequestEditor> {
        model_open.and_then(|p| self.editors.get(p))
    }

    fn open_mut(&mut self, cx: &Cx) -> Option<&mut RequestEditor> {
        let path = cx.model.open.as_ref()?;
        self.editors.get_mut(path)
    }

    pub fn has_unsaved(&self) -> bool {
        self.editors.values().any(RequestEditor::dirty)
    }

    pub fn dirty_count(&self) -> usize {
        self.editors.values().filter(|e| e.dirty()).count()
    }

    /// The draft of an opened request, if it has one.
    pub fn draft_of(&self, path: &NodePath) -> Option<RequestSpec> {
        self.editors.get(path).map(|e| e.draft.clone())
    }

    /// Makes `path` the open request, keeping its draft if it was opened before.
    pub fn open_request(&mut self, path: &NodePath, cx: &mut Cx) -> bool {
        if !self.editors.contains_key(path) {
            let Some(saved) = cx.model.ws.request(path) else {
                return false;
            };
            self.editors.insert(
                path.clone(),
                RequestEditor::new(path.clone(), saved.spec.clone()),
            );
        }
        cx.model.open = Some(path.clone());
        true
    }

    /// The keymap context of the pane now: while text is edited, the editing keys.
    pub fn ctx(&self, open: Option<&NodePath>) -> Ctx {
        if self.open(open).is_some_and(RequestEditor::editing) {
            Ctx::Editing
        } else {
            Ctx::Request
        }
    }

    /// Keys while the URL or the body is being edited; `false`: not editing.
    pub fn on_text_key(&mut self, key: &KeyEvent, cx: &mut Cx) -> bool {
        let Some(path) = cx.model.open.clone() else {
            return false;
        };
        if !self.editors.get(&path).is_some_and(RequestEditor::editing) {
            return false;
        }
        let keymap = &cx.model.keymap;
        let editing = keymap.lookup(Ctx::Editing, key);
        let text = keymap.lookup(Ctx::Text, key);
        let global = keymap.in_text_editor(&key_name(key));
        let Some(ed) = self.editors.get_mut(&path) else {
            return false;
        };
        if let Some(url) = ed.url.as_mut() {
            match editing {
                Some(Action::Finish) => ed.commit_url(),
                Some(Action::Close) => ed.url = None,
                Some(Action::Complete) => {
                    let caps = cx.model.active_capabilities().cloned().unwrap_or_default();
                    match complete_url(url, &caps) {
                        Some((done, shown)) => {
                            ed.completed_eq = done.ends_with('=');
                            url.set_text(&done);
                            if let Some(s) = shown {
                                cx.info(s);
                            }
                        }
                        None => ed.commit_url(),
                    }
                }
                _ if matches!(global, Some(Action::Send | Action::Save)) => {
                    ed.commit_url();
                    cx.intent(Intent::Action(global.unwrap_or(Action::Save)));
                }
                _ => {
                    let swallow = ed.completed_eq && key.code == KeyCode::Char('=');
                    ed.completed_eq = false;
                    if !swallow {
                        url.input(key, text);
                    }
                }
            }
            return true;
        }
        match editing {
            Some(Action::Close) => ed.body_editing = false,
            _ if global == Some(Action::ForceQuit) => cx.intent(Intent::Quit),
            _ if matches!(global, Some(Action::Send | Action::Save)) => {
                cx.intent(Intent::Action(global.unwrap_or(Action::Save)))
            }
            _ => {
                ed.body.input(key, text);
                ed.draft.body.text = ed.body.text();
            }
        }
        true
    }

    /// Pasted text goes into the field being edited.
    pub fn on_paste(&mut self, text: &str, cx: &Cx) {
        let Some(ed) = self.open_mut(cx) else {
            return;
        };
        // Shell line continuations join lines (a pasted multi-line curl command).
        let clean = text.replace("\\\r\n", " ").replace("\\\n", " ");
        if let Some(url) = ed.url.as_mut() {
            url.paste(&clean.replace(['\r', '\n'], ""));
        } else if ed.body_editing {
            ed.body.paste(&clean);
            ed.draft.body.text = ed.body.text();
        }
    }

    /// A key's action while the pane has the focus.
    pub fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        let Some(path) = cx.model.open.clone() else {
            if matches!(action, Action::Edit | Action::EditUrl | Action::New) {
                let open = cx.model.keymap.say(Ctx::Collections, Action::Activate);
                cx.info(format!(
                    "Open a request from Collections first ({open} on it)."
                ));
                return true;
            }
            return false;
        };
        let Some(ed) = self.editors.get_mut(&path) else {
            return false;
        };
        let rows = ed.row_count();
        match action {
            Action::Up => ed.row = ed.row.saturating_sub(1),
            Action::Down => ed.row = (ed.row + 1).min(rows.saturating_sub(1)),
            Action::Top => ed.row = 0,
            Action::Bottom => ed.row = rows.saturating_sub(1),
            Action::NextTab | Action::Right | Action::PrevTab | Action::Left => {
                ed.tab = ed
                    .tab
                    .step(matches!(action, Action::NextTab | Action::Right));
                ed.row = 0;
            }
            Action::EditUrl => ed.url = Some(TextField::line(&ed.draft.url)),
            Action::PickMethod => cx.open(MethodPicker::new(&ed.draft.method)),
            Action::CycleBodyKind => {
                ed.tab = EditorTab::Body;
                ed.row = 0;
                cx.open(body_kind_picker(ed.draft.body.kind, false));
            }
            Action::ExternalEdit => {
                ed.tab = EditorTab::Body;
                if ed.draft.body.kind == BodyKind::None {
                    cx.open(body_kind_picker(BodyKind::Json, false));
                    let editor = cx.model.keymap.say(Ctx::Request, Action::ExternalEdit);
                    cx.info(format!(
                        "Choose the body kind first; {editor} then opens $EDITOR."
                    ));
                    return true;
                }
                let extension = if ed.draft.body.kind == BodyKind::Json {
                    "json"
                } else {
                    "txt"
                };
                cx.command(Command::EditExternally {
                    text: ed.draft.body.text.clone(),
                    extension,
                });
            }
            Action::Toggle => {
                let row = ed.row;
                if let Some(kv) = ed.table_mut().and_then(|t| t.get_mut(row)) {
                    kv.enabled = !kv.enabled;
                }
            }
            Action::Delete => {
                let row = ed.row;
                if ed.tab == EditorTab::Captures {
                    if row < ed.draft.captures.len() {
                        ed.draft.captures.remove(row);
                    }
                } else if let Some(t) = ed.table_mut()
                    && row < t.len()
                {
                    t.remove(row);
                }
                ed.row = ed.row.min(ed.row_count().saturating_sub(1));
            }
            Action::Edit | Action::New => {
                let index = (action == Action::Edit && ed.row < rows).then_some(ed.row);
                match ed.tab {
                    EditorTab::Body if ed.draft.body.kind == BodyKind::None => {
                        // Only choosing a kind gives a request a body.
                        cx.open(body_kind_picker(BodyKind::Json, true));
                    }
                    EditorTab::Body if ed.draft.body.kind != BodyKind::Form => {
                        if action == Action::Edit {
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
                        cx.open(KeyValue::new(
                            "Capture: variable ← $.json.path or header:Name",
                            &k,
                            &v,
                            move |variable, source| {
                                Intent::Request(Msg::SetCapture {
                                    index,
                                    variable,
                                    source,
                                })
                            },
                        ));
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
                        let title = match tab {
                            EditorTab::Params => "Query parameter",
                            EditorTab::Headers => "Header",
                            _ => "Form field",
                        };
                        cx.open(KeyValue::new(title, &k, &v, move |key, value| {
                            Intent::Request(Msg::SetRow {
                                tab,
                                index,
                                key,
                                value,
                            })
                        }));
                    }
                }
            }
            Action::CopyCurl | Action::CopyCurlWithSecrets => {
                self.copy_curl(action == Action::CopyCurlWithSecrets, cx)
            }
            _ => return false,
        }
        true
    }

    pub fn update(&mut self, msg: Msg, cx: &mut Cx) {
        match msg {
            Msg::SetMethod(m) => {
                if let Some(ed) = self.open_mut(cx) {
                    ed.draft.method = m;
                }
            }
            Msg::EditUrl => {
                if let Some(ed) = self.open_mut(cx) {
                    ed.url = Some(TextField::line(&ed.draft.url));
                }
            }
            Msg::SetRow {
                tab,
                index,
                key,
                value,
            } => {
                let Some(ed) = self.open_mut(cx) else {
                    return;
                };
                let table = match tab {
                    EditorTab::Params => &mut ed.draft.query,
                    EditorTab::Headers => &mut ed.draft.headers,
                    _ => &mut ed.draft.body.form,
                };
                match index.and_then(|i| table.get_mut(i)) {
                    Some(kv) => {
                        kv.key = key;
                        kv.value = value;
                    }
                    None => {
                        table.push(Kv::new(key, value));
                        ed.row = table.len() - 1;
                    }
                }
                if tab == EditorTab::Body {
                    ed.draft.body.kind = BodyKind::Form;
                }
            }
            Msg::SetCapture {
                index,
                variable,
                source,
            } => {
                let Some(ed) = self.open_mut(cx) else {
                    return;
                };
                let (source, path) = match source.strip_prefix("header:") {
                    Some(h) => (CaptureSource::Header, h.trim().to_string()),
                    None => (CaptureSource::Body, source.trim().to_string()),
                };
                let c = Capture {
                    variable,
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
            Msg::SetBodyKind { kind, edit } => {
                let Some(ed) = self.open_mut(cx) else {
                    return;
                };
                ed.draft.body.kind = kind;
                ed.tab = EditorTab::Body;
                ed.row = 0;
                ed.body_editing = edit && matches!(kind, BodyKind::Json | BodyKind::Text);
            }
            Msg::AllowParams { path, params } => {
                self.allowed_params.insert((path, params));
                self.send(false, cx);
            }
            Msg::AllowUnsigned(env) => {
                cx.model.allow_unsigned.insert(env);
                self.send(true, cx);
            }
            Msg::VaultValue { variable, value } => {
                cx.model.set_session_var(&variable, value);
                self.send(false, cx);
            }
            Msg::Renamed { path, name } => {
                if let Some(ed) = self.editors.get_mut(&path) {
                    ed.draft.name = name.clone();
                    ed.saved.name = name;
                }
            }
            Msg::Resolve { path, file, choice } => self.resolve(path, file, choice, cx),
            Msg::Done(done, result) => self.done(done, result, cx),
        }
    }

    /// The body came back from `$EDITOR`.
    pub fn external_edit_done(&mut self, result: Result<String, String>, cx: &mut Cx) {
        match result {
            Ok(text) => {
                if let Some(ed) = self.open_mut(cx) {
                    let text = text.strip_suffix('\n').unwrap_or(&text).to_string();
                    ed.body = TextField::lines(&text);
                    ed.draft.body.text = text;
                }
                let save = cx.model.keymap.say(Ctx::Global, Action::Save);
                cx.info(format!("Body updated from the editor ({save} saves it)."));
            }
            Err(e) => cx.error(e),
        }
    }

    /// `I`: an `If-Match` header from the last answer's `ETag`, for a safe update.
    pub fn add_if_match(&mut self, etag: Option<String>, cx: &mut Cx) {
        let Some(etag) = etag else {
            cx.info("The last answer to this request has no ETag (read the resource first).");
            return;
        };
        if let Some(ed) = self.open_mut(cx) {
            ed.draft
                .headers
                .retain(|h| !h.key.eq_ignore_ascii_case("if-match"));
            ed.draft.headers.push(Kv::new("If-Match", &etag));
            let save = cx.model.keymap.say(Ctx::Global, Action::Save);
            cx.info(format!("If-Match: {etag} added ({save} keeps it)."));
        }
    }

    /// After a rename or move, open editors follow their request.
    pub fn rekey(&mut self, from: &NodePath, to: &NodePath) {
        let moved: Vec<NodePath> = self
            .editors
            .keys()
            .filter(|p| super::collections::rekeyed(p, from, to).is_some())
            .cloned()
            .collect();
        for p in moved {
            if let (Some(mut ed), Some(np)) = (
                self.editors.remove(&p),
                super::collections::rekeyed(&p, from, to),
            ) {
                ed.path = np.clone();
                self.editors.insert(np, ed);
            }
        }
    }

    /// After a delete, its editors go.
    pub fn forget(&mut self, path: &NodePath) {
        self.editors.retain(|p, _| !p.0.starts_with(&path.0));
    }
}

/// The body kinds to choose from; choosing sends `SetBodyKind`.
fn body_kind_picker(current: BodyKind, edit: bool) -> Choice {
    const KINDS: [BodyKind; 4] = [
        BodyKind::Json,
        BodyKind::Text,
        BodyKind::Form,
        BodyKind::None,
    ];
    let selected = KINDS.iter().position(|k| *k == current).unwrap_or(0);
    Choice::new(
        "Body kind",
        vec![
            "json".into(),
            "text".into(),
            "form (x-www-form-urlencoded)".into(),
            "none".into(),
        ],
        selected,
        move |i| {
            Intent::Request(Msg::SetBodyKind {
                kind: KINDS[i.min(3)],
                edit,
            })
        },
    )
}

/// Tab in the URL line: completes a resource type after the base, or a search parameter after
/// `?`/`&` (adding `=` when only one fits). Returns the new text and, when several fit, a line
/// naming them; `None` when there is nothing to complete.
fn complete_url(
    url: &TextField,
    caps: &crate::fhir::Capabilities,
) -> Option<(String, Option<String>)> {
    let text = url.text();
    let (head, prefix, candidates) = match text.rfind(['?', '&']) {
        Some(i) => {
            let part = &text[i + 1..];
            if part.contains('=') {
                return None;
            }
            let path = text[..i].split('?').next().unwrap_or("");
            let type_ = path.rsplit('/').next().unwrap_or("");
            (
                text[..=i].to_string(),
                part.to_string(),
                caps.complete_search_param(type_, part),
            )
        }
        None => {
            let i = text.rfind('/').map(|i| i + 1).unwrap_or(0);
            let part = &text[i..];
            (
                text[..i].to_string(),
                part.to_string(),
                caps.complete_resource_type(part),
            )
        }
    };
    if candidates.is_empty() {
        return None;
    }
    // The longest common prefix of the candidates; a single one is completed in full.
    let mut common = candidates[0].clone();
    for c in &candidates[1..] {
        while !c.starts_with(&common) {
            common.pop();
        }
    }
    if common.len() < prefix.len() {
        common = prefix.clone();
    }
    let suffix = if candidates.len() == 1 && text.contains('?') {
        "="
    } else {
        ""
    };
    let shown = (candidates.len() > 1).then(|| {
        let names: Vec<&str> = candidates.iter().take(12).map(String::as_str).collect();
        format!(
            "{}{}",
            names.join("  "),
            if candidates.len() > 12 { "  …" } else { "" }
        )
    });
    Some((format!("{head}{common}{suffix}"), shown))
}
