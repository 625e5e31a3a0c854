//! Changes to the tree: new requests, rename, duplicate, and taking each into the workspace once
//! the runtime has written it.

use super::{Collections, Done, Msg, Node, RowKind, Then, TreeRow, rekeyed};
use crate::tui::msg::{DiskOp, DiskResult, DiskValue};
use crate::tui::screens::dialogs::reader::Reader;
use crate::tui::screens::{Cx, Intent, Pane};
use crate::workspace::{Collection, NodePath, RequestSpec, SavedRequest, file_safe_name};

impl Collections {
    pub(super) fn duplicate(
        &mut self,
        row: &TreeRow,
        cx: &mut Cx,
        draft_of: &dyn Fn(&NodePath) -> Option<RequestSpec>,
    ) {
        let ws = &cx.model.ws;
        let Some(parent) = row.path.parent() else {
            cx.info(
                "Collections are duplicated by copying their folder; use a new collection instead.",
            );
            return;
        };
        let Some(folder) = ws.folder(&parent) else {
            return;
        };
        let copy_name = folder.free_name(&format!("{} copy", row.name));
        let path = parent.child(&copy_name);
        if row.kind == RowKind::Request {
            let Some(mut spec) =
                draft_of(&row.path).or_else(|| ws.request(&row.path).map(|r| r.spec.clone()))
            else {
                return;
            };
            spec.name = copy_name;
            let op = DiskOp::SaveRequest {
                path: path.clone(),
                spec: spec.clone(),
            };
            cx.disk(op, move |r| {
                Intent::Collections(Msg::Done(
                    Done::Duplicated {
                        path,
                        node: Node::Request(Box::new(spec)),
                    },
                    r,
                ))
            });
        } else {
            let Some(mut sub) = ws.folder(&row.path).cloned() else {
                return;
            };
            sub.name = copy_name;
            let op = DiskOp::WriteTree {
                path: path.clone(),
                folder: sub.clone(),
            };
            cx.disk(op, move |r| {
                Intent::Collections(Msg::Done(
                    Done::Duplicated {
                        path,
                        node: Node::Folder(Box::new(sub)),
                    },
                    r,
                ))
            });
        }
    }

    /// Writes `spec` as a new request at the end of `folder` (under a free file name).
    pub(super) fn add(
        &mut self,
        cx: &mut Cx,
        folder: &NodePath,
        mut spec: RequestSpec,
        then: Then,
        note: String,
    ) {
        let Some(f) = cx.model.ws.folder(folder) else {
            cx.error("That folder is gone.");
            return;
        };
        let stem = f.free_name(&spec.name);
        spec.seq = f.requests.iter().map(|r| r.spec.seq).max().unwrap_or(0) + 1;
        let path = folder.child(&stem);
        let spec = Box::new(spec);
        let op = DiskOp::SaveRequest {
            path: path.clone(),
            spec: (*spec).clone(),
        };
        cx.disk(op, move |r| {
            Intent::Collections(Msg::Done(
                Done::Added {
                    path,
                    spec,
                    then,
                    note,
                },
                r,
            ))
        });
    }

    pub(super) fn rename(
        &mut self,
        cx: &mut Cx,
        path: NodePath,
        is_request: bool,
        display: String,
    ) {
        let name = file_safe_name(&display);
        let ws = &cx.model.ws;
        let Some(parent) = path.parent() else {
            // A collection: rename its directory.
            if ws.collection(&name).is_some() {
                cx.error(format!("A collection named '{name}' already exists."));
                return;
            }
            let to = NodePath(vec![name.clone()]);
            let op = DiskOp::MoveNode {
                from: path.clone(),
                to: to.clone(),
                is_request: false,
            };
            let note = format!("Renamed to '{name}'.");
            cx.disk(op, move |r| {
                Intent::Collections(Msg::Done(
                    Done::Moved {
                        from: path,
                        to,
                        is_request: false,
                        note,
                    },
                    r,
                ))
            });
            return;
        };
        let to = parent.child(&name);
        if to != path
            && ws
                .folder(&parent)
                .is_some_and(|f| f.free_name(&name) != name)
        {
            cx.error(format!("'{name}' already exists there."));
            return;
        }
        if !is_request {
            let note = format!("Renamed to '{display}'.");
            let op = DiskOp::MoveNode {
                from: path.clone(),
                to: to.clone(),
                is_request,
            };
            cx.disk(op, move |r| {
                Intent::Collections(Msg::Done(
                    Done::Moved {
                        from: path,
                        to,
                        is_request,
                        note,
                    },
                    r,
                ))
            });
            return;
        }
        let Some(mut spec) = ws.request(&path).map(|r| r.spec.clone()) else {
            cx.error("That request is gone.");
            return;
        };
        spec.name = display.clone();
        let spec = Box::new(spec);
        // Moved (when the file name changes) and written with its new display name, as one job.
        let op = DiskOp::RenameRequest {
            from: path.clone(),
            to: to.clone(),
            spec: (*spec).clone(),
        };
        cx.disk(op, move |r| {
            Intent::Collections(Msg::Done(
                Done::Renamed {
                    path,
                    to,
                    spec,
                    display,
                },
                r,
            ))
        });
    }

    pub(super) fn done(&mut self, done: Done, result: DiskResult, cx: &mut Cx) {
        let result = match result {
            Ok(v) => v,
            Err(e) => {
                cx.error(e.to_string());
                return;
            }
        };
        let ws = &mut cx.model.ws;
        match done {
            Done::Created {
                path,
                folder,
                collection: true,
            } => {
                let name = folder.title().to_string();
                ws.collections.push(Collection {
                    root: *folder,
                    ..Default::default()
                });
                ws.collections.sort_by(|a, b| a.root.name.cmp(&b.root.name));
                self.select_path(&cx.model.ws, &path);
                cx.info(format!("Collection '{name}' created."));
            }
            Done::Created {
                path,
                folder,
                collection: false,
            } => {
                let name = folder.title().to_string();
                if let Some(f) = path.parent().and_then(|p| ws.folder_mut(&p)) {
                    f.folders.push(*folder);
                    f.sort();
                }
                self.select_path(&cx.model.ws, &path);
                cx.info(format!("Folder '{name}' created."));
            }
            Done::Added {
                path,
                spec,
                then,
                note,
            } => {
                if let Some(f) = path.parent().and_then(|p| ws.folder_mut(&p)) {
                    f.requests.push(SavedRequest {
                        file_stem: path.last().to_string(),
                        spec: *spec,
                    });
                    f.sort();
                }
                self.select_path(&cx.model.ws, &path);
                cx.intent(Intent::OpenRequest(path));
                if then == Then::EditUrl {
                    cx.intent(Intent::Focus(Pane::Request));
                    cx.intent(Intent::Request(crate::tui::screens::request::Msg::EditUrl));
                }
                cx.info(note);
            }
            Done::Duplicated { path, node } => {
                if let Some(f) = path.parent().and_then(|p| ws.folder_mut(&p)) {
                    match node {
                        Node::Request(spec) => f.requests.push(SavedRequest {
                            file_stem: path.last().to_string(),
                            spec: *spec,
                        }),
                        Node::Folder(sub) => f.folders.push(*sub),
                    }
                    f.sort();
                }
                self.select_path(&cx.model.ws, &path);
                cx.info(format!("Duplicated as '{}'.", path.last()));
            }
            Done::Moved {
                from,
                to,
                is_request,
                note,
            } => {
                let name = from.last().to_string();
                match (from.parent(), to.parent()) {
                    (None, _) => {
                        if let Some(c) = ws.collections.iter_mut().find(|c| c.root.name == name) {
                            c.root.name = to.last().to_string();
                        }
                        ws.collections.sort_by(|a, b| a.root.name.cmp(&b.root.name));
                    }
                    (Some(src), Some(dest)) if is_request => {
                        let taken = ws.folder_mut(&src).and_then(|f| {
                            let i = f.requests.iter().position(|r| r.file_stem == name)?;
                            Some(f.requests.remove(i))
                        });
                        if let (Some(mut r), Some(f)) = (taken, ws.folder_mut(&dest)) {
                            r.file_stem = to.last().to_string();
                            f.requests.push(r);
                            f.sort();
                        }
                    }
                    (Some(src), Some(dest)) => {
                        let taken = ws.folder_mut(&src).and_then(|f| {
                            let i = f.folders.iter().position(|x| x.name == name)?;
                            Some(f.folders.remove(i))
                        });
                        if let (Some(mut x), Some(f)) = (taken, ws.folder_mut(&dest)) {
                            x.name = to.last().to_string();
                            f.folders.push(x);
                            f.sort();
                        }
                    }
                    _ => {}
                }
                self.rekey(&from, &to);
                cx.intent(Intent::Rekey {
                    from,
                    to: to.clone(),
                });
                self.select_path(&cx.model.ws, &to);
                cx.info(note);
            }
            Done::Renamed {
                path,
                to,
                spec,
                display,
            } => {
                if let Some(r) = ws.request_mut(&path) {
                    r.file_stem = to.last().to_string();
                    r.spec = (*spec).clone();
                }
                if let Some(f) = to.parent().and_then(|p| ws.folder_mut(&p)) {
                    f.sort();
                }
                self.rekey(&path, &to);
                cx.intent(Intent::Rekey {
                    from: path,
                    to: to.clone(),
                });
                cx.intent(Intent::Request(
                    crate::tui::screens::request::Msg::Renamed {
                        path: to.clone(),
                        name: spec.name.clone(),
                    },
                ));
                self.select_path(&cx.model.ws, &to);
                cx.info(format!("Renamed to '{display}'."));
            }
            Done::Deleted { path, is_request } => {
                match path.parent() {
                    None => ws.collections.retain(|c| c.root.name != path.last()),
                    Some(parent) => {
                        if let Some(f) = ws.folder_mut(&parent) {
                            if is_request {
                                f.requests.retain(|r| r.file_stem != path.last());
                            } else {
                                f.folders.retain(|x| x.name != path.last());
                            }
                        }
                    }
                }
                cx.intent(Intent::Forget(path.clone()));
                let rows = self.rows(&cx.model.ws).len();
                self.selected = self.selected.min(rows.saturating_sub(1));
                cx.info(format!("Deleted {}.", path.display()));
            }
            Done::Imported => {
                let DiskValue::Imported(imported) = result else {
                    return;
                };
                for c in imported.collections {
                    self.expanded.insert(NodePath(vec![c.root.name.clone()]));
                    ws.collections.push(c);
                }
                ws.environments.extend(imported.environments);
                ws.collections.sort_by(|a, b| a.root.name.cmp(&b.root.name));
                ws.environments.sort_by(|a, b| a.name.cmp(&b.name));
                let title = if imported.cancelled {
                    "Import stopped"
                } else if imported.failed {
                    "Import failed"
                } else {
                    "Import report"
                };
                cx.open(Reader::text(title, &imported.report));
            }
        }
    }

    /// After a rename or move, keeps expansion under the new path.
    pub(super) fn rekey(&mut self, from: &NodePath, to: &NodePath) {
        self.expanded = self
            .expanded
            .iter()
            .map(|p| rekeyed(p, from, to).unwrap_or_else(|| p.clone()))
            .collect();
    }
}
