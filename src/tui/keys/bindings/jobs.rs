//! The jobs screen's keys: the list and the export form.

use super::super::action::Action as A;
use super::Ctx::*;
use super::{Binding, b};

pub(super) const JOBS: &[Binding] = &[
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
];
