//! The tree as rows: what is visible under the expanded nodes, and paths kept across a move.

use std::collections::HashSet;

use crate::workspace::{Folder, NodePath, Workspace};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Collection,
    Folder,
    Request,
}

/// One visible line of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub path: NodePath,
    pub depth: usize,
    pub kind: RowKind,
    pub name: String,
    pub method: String,
    pub expanded: bool,
}

/// What the tree shows beside a request, from other screens (the root fills it in).
#[derive(Debug, Clone, Copy, Default)]
pub struct Badge {
    pub dirty: bool,
    pub sending: bool,
    pub status: Option<u16>,
}

/// The tree as visible rows.
pub fn tree_rows(ws: &Workspace, expanded: &HashSet<NodePath>) -> Vec<TreeRow> {
    fn walk(
        expanded: &HashSet<NodePath>,
        f: &Folder,
        path: NodePath,
        depth: usize,
        kind: RowKind,
        out: &mut Vec<TreeRow>,
    ) {
        let open = expanded.contains(&path);
        out.push(TreeRow {
            path: path.clone(),
            depth,
            kind,
            // The real name (`Admin/Users`), not the directory's safe spelling of it.
            name: f.title().to_string(),
            method: String::new(),
            expanded: open,
        });
        if !open {
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
                expanded,
                sub,
                path.child(&sub.name),
                depth + 1,
                RowKind::Folder,
                out,
            );
        }
    }
    let mut out = Vec::new();
    for c in &ws.collections {
        walk(
            expanded,
            &c.root,
            NodePath(vec![c.root.name.clone()]),
            0,
            RowKind::Collection,
            &mut out,
        );
    }
    out
}

/// `p` moved from under `from` to under `to`, or `None` when it is not under `from`.
pub fn rekeyed(p: &NodePath, from: &NodePath, to: &NodePath) -> Option<NodePath> {
    p.0.starts_with(&from.0).then(|| {
        let mut v = to.0.clone();
        v.extend_from_slice(&p.0[from.0.len()..]);
        NodePath(v)
    })
}
