//! Saving drafts: writing the open request, the choices of a conflict over its file, and taking
//! each write's result in.

use std::path::PathBuf;

use super::{Done, Msg, Request};
use crate::tui::msg::{DiskOp, DiskResult, DiskValue};
use crate::tui::screens::dialogs::conflict::{Choice as ConflictChoice, ConflictOn};
use crate::tui::screens::{Cx, Intent, saved_or_conflict};
use crate::workspace::NodePath;

impl Request {
    /// `Ctrl-S`: writes the open request.
    pub fn save_open(&mut self, cx: &mut Cx) {
        let Some(path) = cx.model.open.clone() else {
            cx.info("Nothing to save: no request is open.");
            return;
        };
        let Some(ed) = self.editors.get(&path) else {
            return;
        };
        let spec = Box::new(ed.draft.clone());
        let conflict = saved_or_conflict(ConflictOn::Request(path.clone()));
        cx.disk(
            DiskOp::SaveRequest {
                path: path.clone(),
                spec: (*spec).clone(),
            },
            move |r| match r {
                Ok(v) => Intent::Request(Msg::Done(Done::Saved { path, spec }, Ok(v))),
                Err(e) => conflict(Err(e)),
            },
        );
    }

    pub(super) fn resolve(
        &mut self,
        path: NodePath,
        file: PathBuf,
        choice: ConflictChoice,
        cx: &mut Cx,
    ) {
        match choice {
            ConflictChoice::Reload => cx.disk(DiskOp::ReloadRequest(path.clone()), move |r| {
                Intent::Request(Msg::Done(
                    Done::Reloaded {
                        path,
                        file,
                        copy: None,
                    },
                    r,
                ))
            }),
            ConflictChoice::KeepMine => cx.disk(DiskOp::AcceptDiskVersion(file), move |r| {
                Intent::Request(Msg::Done(Done::KeptMine { path }, r))
            }),
            ConflictChoice::SaveCopy => {
                let (Some(parent), Some(ed)) = (path.parent(), self.editors.get(&path)) else {
                    cx.error("The copy was not saved: the request is not open.");
                    return;
                };
                let mut spec = ed.draft.clone();
                let name = cx
                    .model
                    .ws
                    .folder(&parent)
                    .map(|f| f.free_name(&format!("{} mine", path.last())))
                    .unwrap_or_else(|| format!("{} mine", path.last()));
                spec.name = format!("{} (mine)", spec.name);
                let copy = parent.child(&name);
                let spec = Box::new(spec);
                let op = DiskOp::SaveRequest {
                    path: copy.clone(),
                    spec: (*spec).clone(),
                };
                cx.disk(op, move |r| {
                    Intent::Request(Msg::Done(
                        Done::Copied {
                            path,
                            file,
                            copy,
                            spec,
                        },
                        r,
                    ))
                });
            }
        }
    }

    pub(super) fn done(&mut self, done: Done, result: DiskResult, cx: &mut Cx) {
        match (done, result) {
            (Done::Saved { path, spec }, Ok(v)) => {
                if let Some(r) = cx.model.ws.request_mut(&path) {
                    r.spec = (*spec).clone();
                }
                if let Some(ed) = self.editors.get_mut(&path) {
                    ed.saved = *spec;
                }
                match v {
                    DiskValue::Written(file) => cx.info(format!("Saved {}.", file.display())),
                    _ => cx.info("Saved."),
                }
            }
            (Done::Reloaded { path, file, copy }, Ok(DiskValue::Request(spec))) => {
                if let Some(r) = cx.model.ws.request_mut(&path) {
                    r.spec = spec.clone();
                }
                if let Some(ed) = self.editors.get_mut(&path) {
                    ed.set_draft(spec.clone());
                    ed.saved = spec;
                    ed.url = None;
                    ed.body_editing = false;
                }
                cx.info(match copy {
                    Some(copy) => format!(
                        "Your version is saved as '{copy}'; {} was reloaded from disk.",
                        file.display()
                    ),
                    None => format!("Reloaded {} from disk.", file.display()),
                });
            }
            (Done::Reloaded { .. }, Err(e)) => cx.error(format!(
                "It could not be read again ({e}); nothing changed."
            )),
            (
                Done::Copied {
                    path,
                    file,
                    copy,
                    spec,
                },
                Ok(_),
            ) => {
                if let Some(f) = copy.parent().and_then(|p| cx.model.ws.folder_mut(&p)) {
                    f.requests.push(crate::workspace::SavedRequest {
                        file_stem: copy.last().to_string(),
                        spec: *spec,
                    });
                    f.sort();
                }
                let name = copy.last().to_string();
                cx.intent(Intent::OpenRequest(copy));
                cx.disk(DiskOp::ReloadRequest(path.clone()), move |r| {
                    Intent::Request(Msg::Done(
                        Done::Reloaded {
                            path,
                            file,
                            copy: Some(name),
                        },
                        r,
                    ))
                });
            }
            (Done::Copied { .. }, Err(e)) => cx.error(format!("The copy was not saved: {e}")),
            (Done::KeptMine { path }, Ok(_)) => {
                if cx.model.open.as_ref() == Some(&path) {
                    self.save_open(cx);
                }
            }
            (_, Err(e)) => cx.error(e.to_string()),
            (_, Ok(_)) => {}
        }
    }
}
