//! The kick-off forms of `$bulk-delete`, `$import` and `$reindex`: a column of fields (text,
//! yes/no, a choice), then Start. The keys are the export form's (`Ctx::ExportForm`).
//!
//! Bulk delete starts with a dry run (the same search with `_summary=count`), then a typed
//! confirmation, then the job (see `Jobs::on_dry_run`). An InitialLoad import warns that the
//! service takes no writes while it runs. A reindex asks before it starts.

use crossterm::event::KeyEvent;

use super::export_form::FormOutcome;
use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::Cx;
use crate::tui::widgets::text_field::TextField;
use crate::worker::export::ops::is_type_name;
use crate::worker::export::{
    BulkDeleteParams, ImportInput, ImportMode, ImportParams, Kickoff, OpKind, ReindexParams,
};

pub enum Field {
    Text(Box<TextField>),
    Flag(bool),
    /// Options and the picked one.
    Choice(&'static [&'static str], usize),
}

pub struct OpForm {
    pub kind: OpKind,
    /// Label, help, value.
    pub fields: Vec<(&'static str, &'static str, Field)>,
    pub row: usize,
}

const IMPORT_MODES: &[&str] = &["IncrementalLoad", "InitialLoad"];

impl OpForm {
    pub fn new(kind: OpKind) -> OpForm {
        let text = |s: &str| Field::Text(Box::new(TextField::line(s)));
        let fields = match kind {
            OpKind::BulkDelete => vec![
                (
                    "resource type",
                    "empty: every type (system level)",
                    text(""),
                ),
                (
                    "search",
                    "the filter, e.g. status=cancelled&date=lt2020",
                    text(""),
                ),
                (
                    "_hardDelete",
                    "no history kept; needs FHIR Data Contributor",
                    Field::Flag(false),
                ),
                (
                    "_purgeHistory",
                    "also delete old versions",
                    Field::Flag(false),
                ),
                (
                    "excluded types",
                    "system level only, comma separated",
                    text(""),
                ),
                (
                    "_remove-references",
                    "remove references to deleted resources",
                    Field::Flag(false),
                ),
            ],
            OpKind::Import => vec![
                (
                    "mode",
                    "InitialLoad blocks every write while it runs",
                    Field::Choice(IMPORT_MODES, 0),
                ),
                (
                    "inputs",
                    "URL:Type, space separated, on the service's storage",
                    text(""),
                ),
            ],
            OpKind::Reindex => vec![("types", "comma separated; empty: every type", text(""))],
            OpKind::Export => Vec::new(),
        };
        OpForm {
            kind,
            fields,
            row: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.fields.len() + 1
    }

    pub fn text(&self, i: usize) -> String {
        match self.fields.get(i).map(|f| &f.2) {
            Some(Field::Text(t)) => t.text().trim().to_string(),
            _ => String::new(),
        }
    }

    fn flag(&self, i: usize) -> bool {
        matches!(self.fields.get(i).map(|f| &f.2), Some(Field::Flag(true)))
    }

    fn choice(&self, i: usize) -> usize {
        match self.fields.get(i).map(|f| &f.2) {
            Some(Field::Choice(_, k)) => *k,
            _ => 0,
        }
    }

    pub fn text_mut(&mut self, i: usize) -> Option<&mut TextField> {
        match self.fields.get_mut(i).map(|f| &mut f.2) {
            Some(Field::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// Sets a text field (tests, and values carried over).
    pub fn set_text(&mut self, i: usize, s: &str) {
        if let Some(t) = self.text_mut(i) {
            *t = TextField::line(s);
        }
    }

    pub fn set_flag(&mut self, i: usize, on: bool) {
        if let Some(f) = self.fields.get_mut(i) {
            f.2 = Field::Flag(on);
        }
    }

    /// What the form asks for, or why it cannot be started.
    pub fn kickoff(&self) -> Result<Kickoff, String> {
        let list = |s: String| -> Vec<String> {
            s.split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        match self.kind {
            OpKind::BulkDelete => {
                let t = self.text(0);
                let mut p = BulkDeleteParams::parse_target(&format!("{t}?{}", self.text(1)))?;
                p.hard = self.flag(2);
                p.purge_history = self.flag(3);
                p.excluded_types = list(self.text(4));
                p.remove_references = self.flag(5);
                if p.type_.is_some() && !p.excluded_types.is_empty() {
                    return Err("excludedResourceTypes only applies at system level: empty the resource type, or the excluded types.".into());
                }
                if let Some(bad) = p.excluded_types.iter().find(|t| !is_type_name(t)) {
                    return Err(format!("'{bad}' is not a resource type."));
                }
                Ok(Kickoff::BulkDelete(p))
            }
            OpKind::Import => {
                let inputs = self
                    .text(1)
                    .split_whitespace()
                    .map(ImportInput::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                if inputs.is_empty() {
                    return Err("An import needs at least one input (URL:Type).".into());
                }
                let mode = IMPORT_MODES
                    .get(self.choice(0))
                    .and_then(|m| ImportMode::parse(m))
                    .unwrap_or_default();
                Ok(Kickoff::Import(ImportParams { mode, inputs }))
            }
            OpKind::Reindex => {
                let types = list(self.text(0));
                if let Some(bad) = types.iter().find(|t| !is_type_name(t)) {
                    return Err(format!("'{bad}' is not a resource type."));
                }
                Ok(Kickoff::Reindex(ReindexParams { types }))
            }
            OpKind::Export => Err("The export has its own form.".into()),
        }
    }

    /// A warning to show under the form for what is filled in now.
    pub fn warning(&self) -> Option<&'static str> {
        match self.kind {
            OpKind::Import if self.choice(0) == 1 => {
                Some(crate::worker::export::ops::INITIAL_LOAD_WARNING)
            }
            OpKind::BulkDelete if self.flag(2) => {
                Some("_hardDelete: deleted resources keep no history and cannot be restored.")
            }
            OpKind::BulkDelete => Some(
                "A dry run counts what matches first; then you type the type (or the count) to confirm.",
            ),
            OpKind::Reindex => Some(
                "Reindexing reads every resource of the types: the service slows while it runs.",
            ),
            _ => None,
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> FormOutcome {
        let rows = self.rows();
        let start_row = rows - 1;
        match action {
            Some(Action::Close) => return FormOutcome::Back,
            Some(Action::Down) => self.row = (self.row + 1) % rows,
            Some(Action::Up) => self.row = (self.row + rows - 1) % rows,
            Some(Action::Send) => return FormOutcome::Start,
            Some(Action::Activate) if self.row == start_row => return FormOutcome::Start,
            Some(Action::Activate) => self.row = (self.row + 1).min(start_row),
            Some(a @ (Action::Toggle | Action::Left | Action::Right))
                if !matches!(self.fields.get(self.row), Some((_, _, Field::Text(_)))) =>
            {
                match self.fields.get_mut(self.row).map(|f| &mut f.2) {
                    Some(Field::Flag(on)) => *on = !*on,
                    Some(Field::Choice(opts, k)) => {
                        let n = opts.len().max(1);
                        *k = if a == Action::Left {
                            (*k + n - 1) % n
                        } else {
                            (*k + 1) % n
                        };
                    }
                    _ => {}
                }
            }
            _ => {
                let a = cx.model.keymap.lookup(Ctx::Text, key);
                let row = self.row;
                if let Some(t) = self.text_mut(row) {
                    t.input(key, a);
                }
            }
        }
        FormOutcome::Stay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_build_their_kickoffs() {
        let mut f = OpForm::new(OpKind::BulkDelete);
        f.set_text(0, "Observation");
        f.set_text(1, "status=cancelled");
        f.set_flag(2, true);
        let Ok(Kickoff::BulkDelete(p)) = f.kickoff() else {
            panic!()
        };
        assert_eq!(p.type_.as_deref(), Some("Observation"));
        assert_eq!(
            p.query,
            vec![("status".to_string(), "cancelled".to_string())]
        );
        assert!(p.hard);
        f.set_text(4, "Patient");
        assert!(f.kickoff().unwrap_err().contains("system level"));
        f.set_text(0, "");
        assert!(f.kickoff().is_ok());

        let mut f = OpForm::new(OpKind::Import);
        assert!(f.kickoff().is_err());
        f.set_text(
            1,
            "http://s/import/Patient.ndjson:Patient http://s/import/O.ndjson:Observation",
        );
        let Ok(Kickoff::Import(p)) = f.kickoff() else {
            panic!()
        };
        assert_eq!(p.inputs.len(), 2);
        assert_eq!(p.mode, ImportMode::IncrementalLoad);
        assert!(f.warning().is_none());
        f.fields[0].2 = Field::Choice(IMPORT_MODES, 1);
        assert!(f.warning().unwrap().contains("423"));
    }
}
