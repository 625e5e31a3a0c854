//! The Collections pane: collections, folders and saved requests as a tree. It owns every
//! change to the tree — new requests, folders and collections, rename, duplicate, move, delete,
//! requests made from curl or from history, imports — each written by the runtime first and
//! taken into the workspace when the write succeeded.

use std::collections::HashSet;
use std::path::PathBuf;

#[cfg(test)]
mod tests;
mod tree;
mod writes;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

use super::dialogs::confirm::Confirm;
use super::dialogs::import_progress::ImportProgressDialog;
use super::dialogs::move_to::MoveTo;
use super::dialogs::prompt::Prompt;
use super::{Cx, Intent, Pane, View};
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::ImportRun;
use crate::tui::msg::{Command, DiskOp, DiskResult, ImportJob};
use crate::tui::widgets::{SPINNER, pane_block};
use crate::workspace::{Folder, NodePath, RequestSpec, Workspace, file_safe_name};

pub use tree::{Badge, RowKind, TreeRow, rekeyed, tree_rows};

const PAGE: usize = 10;

/// What to do once a new request is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Open it and start typing its URL.
    EditUrl,
    /// Open it in the Request pane.
    Open,
}

#[allow(clippy::large_enum_variant)] // moved once, never kept (see `tui::msg::Msg`)
pub enum Msg {
    NewRequest {
        parent: NodePath,
        name: String,
    },
    NewFolder {
        parent: NodePath,
        name: String,
    },
    NewCollection(String),
    Rename {
        path: NodePath,
        is_request: bool,
        display: String,
    },
    Move {
        from: NodePath,
        dest: NodePath,
        is_request: bool,
    },
    Delete {
        path: NodePath,
        is_request: bool,
    },
    /// A request to write at the end of `folder` (a curl paste, a history entry saved).
    Add {
        folder: NodePath,
        spec: Box<RequestSpec>,
        then: Then,
        note: String,
    },
    PasteCurl {
        folder: NodePath,
        text: String,
    },
    Import(PathBuf),
    ImportProgress(crate::import::into_workspace::Progress),
    ImportDone(Box<crate::import::into_workspace::ImportOutcome>),
    Done(Done, DiskResult),
}

pub enum Done {
    Created {
        path: NodePath,
        folder: Box<Folder>,
        collection: bool,
    },
    Added {
        path: NodePath,
        spec: Box<RequestSpec>,
        then: Then,
        note: String,
    },
    Duplicated {
        path: NodePath,
        node: Node,
    },
    Moved {
        from: NodePath,
        to: NodePath,
        is_request: bool,
        note: String,
    },
    Renamed {
        path: NodePath,
        to: NodePath,
        spec: Box<RequestSpec>,
        display: String,
    },
    Deleted {
        path: NodePath,
        is_request: bool,
    },
    Imported,
}

/// A duplicated node, to take into the tree once written.
pub enum Node {
    Request(Box<RequestSpec>),
    Folder(Box<Folder>),
}

#[derive(Debug, Default)]
pub struct Collections {
    pub selected: usize,
    pub expanded: HashSet<NodePath>,
}

impl Collections {
    /// Every collection expanded (as at start).
    pub fn new(ws: &Workspace) -> Self {
        Self {
            selected: 0,
            expanded: ws
                .collections
                .iter()
                .map(|c| NodePath(vec![c.root.name.clone()]))
                .collect(),
        }
    }

    pub fn rows(&self, ws: &Workspace) -> Vec<TreeRow> {
        tree_rows(ws, &self.expanded)
    }

    /// Puts the cursor on `path`, expanding its ancestors so it is visible.
    pub fn select_path(&mut self, ws: &Workspace, path: &NodePath) {
        let mut p = path.parent();
        while let Some(pp) = p {
            self.expanded.insert(pp.clone());
            p = pp.parent();
        }
        if let Some(i) = self.rows(ws).iter().position(|r| &r.path == path) {
            self.selected = i;
        }
    }

    pub fn selected_row(&self, ws: &Workspace) -> Option<TreeRow> {
        self.rows(ws).get(self.selected).cloned()
    }

    /// The folder a new request goes into: the selected folder, or the selected request's.
    fn target_folder(row: &Option<TreeRow>) -> Option<NodePath> {
        match row {
            Some(r) if r.kind == RowKind::Request => r.path.parent(),
            Some(r) => Some(r.path.clone()),
            None => None,
        }
    }

    /// A key's action while the pane has the focus; `draft_of` gives an open request's unsaved
    /// version (a duplicate copies what the user sees).
    pub fn on_action(
        &mut self,
        action: Action,
        cx: &mut Cx,
        draft_of: &dyn Fn(&NodePath) -> Option<RequestSpec>,
    ) -> bool {
        let rows = self.rows(&cx.model.ws);
        let count = rows.len();
        let row = rows.get(self.selected).cloned();
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(count.saturating_sub(1)),
            Action::PageUp => self.selected = self.selected.saturating_sub(PAGE),
            Action::PageDown => self.selected = (self.selected + PAGE).min(count.saturating_sub(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = count.saturating_sub(1),
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
                        self.select_path(&cx.model.ws, &parent);
                    }
                }
            }
            Action::Activate => match row {
                Some(r) if r.kind == RowKind::Request => {
                    cx.intent(Intent::OpenRequest(r.path));
                    // The tree keeps the focus (and the screen when panes are shown one at a
                    // time): 3 goes to the request.
                    cx.intent(Intent::Focus(Pane::Collections));
                }
                Some(r) if !self.expanded.remove(&r.path) => {
                    self.expanded.insert(r.path);
                }
                _ => {}
            },
            Action::New | Action::NewFolder => match Self::target_folder(&row) {
                Some(parent) if action == Action::New => {
                    cx.open(Prompt::new("New request name", "", move |t| {
                        Some(Intent::Collections(Msg::NewRequest {
                            parent: parent.clone(),
                            name: t.to_string(),
                        }))
                    }))
                }
                Some(parent) => cx.open(Prompt::new("New folder name", "", move |t| {
                    Some(Intent::Collections(Msg::NewFolder {
                        parent: parent.clone(),
                        name: t.to_string(),
                    }))
                })),
                None => open_new_collection(cx),
            },
            Action::NewCollection => open_new_collection(cx),
            Action::PasteCurl => match Self::target_folder(&row) {
                Some(folder) => cx.open(Prompt::new(
                    format!(
                        "Paste a curl command ({} creates the request)",
                        cx.model.keymap.say(Ctx::Prompt, Action::Finish)
                    ),
                    "",
                    move |t| {
                        Some(Intent::Collections(Msg::PasteCurl {
                            folder: folder.clone(),
                            text: t.to_string(),
                        }))
                    },
                )),
                None => {
                    let create = cx.model.keymap.say(Ctx::Collections, Action::NewCollection);
                    cx.info(format!("Create or select a collection first ({create})."));
                }
            },
            Action::Import => cx.open(Prompt::new(
                "File to import: Postman, Insomnia v4, HAR, .http or curl (~ is your home folder)",
                "",
                |t| Some(Intent::Collections(Msg::Import(import_path(t)))),
            )),
            Action::Rename => {
                if let Some(r) = row {
                    let is_request = r.kind == RowKind::Request;
                    let path = r.path.clone();
                    cx.open(Prompt::new(
                        if is_request {
                            "Rename request"
                        } else {
                            "Rename folder"
                        },
                        &r.name,
                        move |t| {
                            Some(Intent::Collections(Msg::Rename {
                                path: path.clone(),
                                is_request,
                                display: t.to_string(),
                            }))
                        },
                    ));
                }
            }
            Action::Duplicate => {
                if let Some(r) = row {
                    self.duplicate(&r, cx, draft_of);
                }
            }
            Action::Move => {
                if let Some(r) = row.filter(|r| r.kind != RowKind::Collection) {
                    let is_request = r.kind == RowKind::Request;
                    let current_parent = r.path.parent();
                    let targets: Vec<NodePath> = cx
                        .model
                        .ws
                        .all_folders()
                        .into_iter()
                        .filter(|t| Some(t) != current_parent.as_ref())
                        .filter(|t| is_request || !t.0.starts_with(&r.path.0))
                        .collect();
                    if targets.is_empty() {
                        cx.info("There is no other folder to move it to.");
                    } else {
                        cx.open(MoveTo {
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
                    cx.open(Confirm::new(
                        format!("Delete {what}?"),
                        Intent::Collections(Msg::Delete {
                            path: r.path,
                            is_request: r.kind == RowKind::Request,
                        }),
                    ));
                }
            }
            _ => return false,
        }
        true
    }

    pub fn update(&mut self, msg: Msg, cx: &mut Cx) {
        match msg {
            Msg::NewCollection(text) => {
                let name = file_safe_name(&text);
                if cx.model.ws.collection(&name).is_some() {
                    cx.error(format!("A collection named '{name}' already exists."));
                    return;
                }
                let path = NodePath(vec![name]);
                let folder = Folder::titled(text.trim());
                cx.disk(
                    DiskOp::CreateFolder {
                        path: path.clone(),
                        folder: folder.clone(),
                    },
                    move |r| {
                        Intent::Collections(Msg::Done(
                            Done::Created {
                                path,
                                folder: Box::new(folder),
                                collection: true,
                            },
                            r,
                        ))
                    },
                );
            }
            Msg::NewFolder {
                parent,
                name: typed,
            } => {
                let name = file_safe_name(&typed);
                match cx.model.ws.folder(&parent) {
                    Some(f) if f.free_name(&name) == name => {
                        let path = parent.child(&name);
                        // After its siblings: imported folders carry their source order.
                        let seq = f
                            .folders
                            .iter()
                            .map(|s| s.seq)
                            .max()
                            .map_or(0, |m| if m > 0 { m.saturating_add(1) } else { 0 });
                        let folder = Folder {
                            seq,
                            ..Folder::titled(typed.trim())
                        };
                        cx.disk(
                            DiskOp::CreateFolder {
                                path: path.clone(),
                                folder: folder.clone(),
                            },
                            move |r| {
                                Intent::Collections(Msg::Done(
                                    Done::Created {
                                        path,
                                        folder: Box::new(folder),
                                        collection: false,
                                    },
                                    r,
                                ))
                            },
                        );
                    }
                    Some(_) => cx.error(format!("'{name}' already exists there.")),
                    None => cx.error("That folder is gone."),
                }
            }
            Msg::NewRequest { parent, name } => {
                let spec = RequestSpec::new(name.trim(), "GET", "{{fhirurl}}/");
                self.add(
                    cx,
                    &parent,
                    spec,
                    Then::EditUrl,
                    format!(
                        "Request created: type its URL, {} when done.",
                        cx.model.keymap.say(Ctx::Editing, Action::Finish)
                    ),
                );
            }
            Msg::Add {
                folder,
                spec,
                then,
                note,
            } => self.add(cx, &folder, *spec, then, note),
            Msg::PasteCurl { folder, text } => {
                match crate::import::curl::parse_curl_with_notes(&text) {
                    Ok((spec, notes)) => {
                        let mut note = format!("Request '{}' created from curl.", spec.name);
                        for n in notes {
                            note.push(' ');
                            note.push_str(&n);
                        }
                        self.add(cx, &folder, spec, Then::Open, note);
                    }
                    Err(e) => cx.error(e.to_string()),
                }
            }
            Msg::Import(file) => {
                if cx.model.import.is_some() {
                    let stop = cx.model.keymap.say(Ctx::Progress, Action::Cancel);
                    cx.error(format!(
                        "An import is running already: wait for it, or stop it with {stop}."
                    ));
                    return;
                }
                let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                cx.model.import = Some(ImportRun {
                    files: vec![file.clone()],
                    progress: None,
                    cancel: cancel.clone(),
                    started: std::time::Instant::now(),
                });
                let taken = cx
                    .model
                    .ws
                    .collections
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect();
                cx.command(Command::Import(ImportJob {
                    files: vec![file],
                    taken,
                    cancel,
                }));
                cx.open(ImportProgressDialog);
            }
            Msg::ImportProgress(p) => {
                if let Some(run) = cx.model.import.as_mut() {
                    run.progress = Some(p);
                }
            }
            Msg::ImportDone(outcome) => {
                cx.model.import = None;
                let ws = Box::new(cx.model.ws.clone());
                cx.disk(DiskOp::CommitImport { outcome, ws }, |r| {
                    Intent::Collections(Msg::Done(Done::Imported, r))
                });
            }
            Msg::Rename {
                path,
                is_request,
                display,
            } => self.rename(cx, path, is_request, display),
            Msg::Move {
                from,
                dest,
                is_request,
            } => {
                let Some(folder) = cx.model.ws.folder(&dest) else {
                    return;
                };
                let name = from.last().to_string();
                if folder.free_name(&name) != name {
                    cx.error(format!("'{name}' already exists in {}.", dest.display()));
                    return;
                }
                let to = dest.child(&name);
                let note = format!("Moved to {}.", dest.display());
                let op = DiskOp::MoveNode {
                    from: from.clone(),
                    to: to.clone(),
                    is_request,
                };
                cx.disk(op, move |r| {
                    Intent::Collections(Msg::Done(
                        Done::Moved {
                            from,
                            to,
                            is_request,
                            note,
                        },
                        r,
                    ))
                });
            }
            Msg::Delete { path, is_request } => {
                let op = DiskOp::DeleteNode {
                    path: path.clone(),
                    is_request,
                };
                cx.disk(op, move |r| {
                    Intent::Collections(Msg::Done(Done::Deleted { path, is_request }, r))
                });
            }
            Msg::Done(done, result) => self.done(done, result, cx),
        }
    }

    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        v: &View,
        badge: &dyn Fn(&NodePath) -> Badge,
    ) {
        let theme = v.theme;
        let model = v.model;
        let block = pane_block(Pane::Collections, "", v.focused, theme);
        let rows = self.rows(&model.ws);
        if rows.is_empty() {
            let p = Paragraph::new(vec![Line::styled(
                format!(
                    "No collections. Press {} to create one.",
                    model.keymap.say(Ctx::Collections, Action::NewCollection)
                ),
                theme.dim,
            )])
            .block(block);
            frame.render_widget(p, area);
            return;
        }
        let items: Vec<ListItem> = rows
            .iter()
            .map(|row| {
                let mut spans = vec![Span::raw("  ".repeat(row.depth))];
                match row.kind {
                    RowKind::Collection | RowKind::Folder => {
                        spans.push(Span::styled(
                            if row.expanded { "▾ " } else { "▸ " },
                            theme.dim,
                        ));
                        let style = if row.kind == RowKind::Collection {
                            theme.accent
                        } else {
                            theme.text
                        };
                        spans.push(Span::styled(row.name.clone(), style));
                    }
                    RowKind::Request => {
                        let b = badge(&row.path);
                        spans.push(Span::styled(
                            format!("{:<6} ", short_method(&row.method)),
                            theme.method(&row.method),
                        ));
                        spans.push(Span::styled(row.name.clone(), theme.text));
                        if b.dirty {
                            spans.push(Span::styled(" *", theme.warning));
                        }
                        if b.sending {
                            let s = SPINNER[(model.frame % SPINNER.len() as u64) as usize];
                            spans.push(Span::styled(format!(" {s}"), theme.warning));
                        } else if let Some(code) = b.status {
                            spans.push(Span::styled(format!(" {code}"), theme.status_code(code)));
                        }
                        if model.open.as_ref() == Some(&row.path) {
                            spans.push(Span::styled(" ◂", theme.accent));
                        }
                    }
                }
                ListItem::new(Line::from(spans))
            })
            .collect();
        let list = List::new(items).block(block).highlight_style(if v.focused {
            theme.selected
        } else {
            theme.selected_unfocused
        });
        let mut state = ListState::default().with_selected(Some(self.selected.min(rows.len() - 1)));
        frame.render_stateful_widget(list, area, &mut state);
    }
}

fn open_new_collection(cx: &mut Cx) {
    cx.open(Prompt::new("New collection name", "", |t| {
        Some(Intent::Collections(Msg::NewCollection(t.to_string())))
    }));
}

fn short_method(m: &str) -> &str {
    match m {
        "DELETE" => "DEL",
        "OPTIONS" => "OPT",
        m => m,
    }
}

/// The path typed in the import prompt: trimmed, quotes a shell would need taken off, and a
/// leading `~` as the home folder (the prompt is not a shell, but people type as if it were).
fn import_path(typed: &str) -> PathBuf {
    let t = typed.trim();
    let t = t
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .or_else(|| t.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
        .unwrap_or(t);
    match t
        .strip_prefix("~/")
        .or(if t == "~" { Some("") } else { None })
    {
        Some(rest) => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(rest),
            None => PathBuf::from(t),
        },
        None => PathBuf::from(t),
    }
}
