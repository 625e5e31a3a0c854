//! The bulk-export kick-off form: scope, `_type` (from the server's CapabilityStatement when one
//! was received this session), `_since`, `_typeFilter`, `_container`, `_outputFormat`, and
//! Azure's anonymized export (`_anonymizationConfig`, `_anonymizationConfigEtag`: system level
//! only, refused with the reason at Patient or Group level).

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};

use crate::tui::keys::{Action, Ctx};
use crate::tui::screens::Cx;
use crate::tui::widgets::text_field::TextField;
use crate::worker::WorkerCommand;
use crate::worker::export::{ExportParams, ExportScope};
use crate::workspace::export_job::anonymization_problem;

/// Types offered when no CapabilityStatement has been seen.
const COMMON_TYPES: [&str; 8] = [
    "Patient",
    "Observation",
    "Encounter",
    "Condition",
    "MedicationRequest",
    "Procedure",
    "AllergyIntolerance",
    "DiagnosticReport",
];

pub struct ExportForm {
    /// 0 system, 1 all patients, 2 a group.
    pub scope: usize,
    pub group: TextField,
    pub since: TextField,
    pub type_filter: TextField,
    pub container: TextField,
    pub output_format: TextField,
    pub anonymization_config: TextField,
    pub anonymization_config_etag: TextField,
    /// Resource types with whether each is picked.
    pub types: Vec<(String, bool)>,
    /// Where the list of types came from.
    pub types_from_server: bool,
    pub row: usize,
    /// Letters typed on the type list (jump to the first type they start), and when.
    typed: String,
    typed_at: Option<Instant>,
}

/// The form's rows: fixed fields, then one row per resource type, then "start".
pub const FIELD_ROWS: [&str; 8] = [
    "scope",
    "group id",
    "_since",
    "_typeFilter",
    "_container",
    "_outputFormat",
    "_anonymizationConfig",
    "_anonymizationConfigEtag",
];

impl ExportForm {
    pub fn rows(&self) -> usize {
        FIELD_ROWS.len() + self.types.len() + 1
    }

    pub fn text_mut(&mut self, row: usize) -> Option<&mut TextField> {
        match row {
            1 => Some(&mut self.group),
            2 => Some(&mut self.since),
            3 => Some(&mut self.type_filter),
            4 => Some(&mut self.container),
            5 => Some(&mut self.output_format),
            6 => Some(&mut self.anonymization_config),
            7 => Some(&mut self.anonymization_config_etag),
            _ => None,
        }
    }

    /// The text field of row `row`, to draw.
    pub fn text(&self, row: usize) -> Option<&TextField> {
        match row {
            1 => Some(&self.group),
            2 => Some(&self.since),
            3 => Some(&self.type_filter),
            4 => Some(&self.container),
            5 => Some(&self.output_format),
            6 => Some(&self.anonymization_config),
            7 => Some(&self.anonymization_config_etag),
            _ => None,
        }
    }

    pub fn params(&self) -> Result<ExportParams, String> {
        let text = |t: &TextField| t.text().trim().to_string();
        let opt = |t: &TextField| Some(text(t)).filter(|s| !s.is_empty());
        let scope = match self.scope {
            0 => ExportScope::System,
            1 => ExportScope::Patient,
            _ => {
                let id = text(&self.group);
                if id.is_empty() {
                    return Err("A Group export needs the group id.".into());
                }
                ExportScope::Group(id)
            }
        };
        let p = ExportParams {
            scope,
            types: self
                .types
                .iter()
                .filter(|(_, on)| *on)
                .map(|(t, _)| t.clone())
                .collect(),
            since: opt(&self.since),
            type_filter: opt(&self.type_filter)
                .map(|f| f.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            container: opt(&self.container),
            output_format: opt(&self.output_format),
            anonymization_config: opt(&self.anonymization_config),
            anonymization_config_etag: opt(&self.anonymization_config_etag),
            insecure: false,
        };
        match anonymization_problem(&p) {
            Some(why) => Err(why),
            None => Ok(p),
        }
    }
}

impl ExportForm {
    /// Why the anonymized export filled in cannot start at this scope (or without a container),
    /// shown under the form before Start.
    pub fn anonymization_warning(&self) -> Option<String> {
        let opt = |t: &TextField| Some(t.text().trim().to_string()).filter(|s| !s.is_empty());
        anonymization_problem(&ExportParams {
            scope: match self.scope {
                0 => ExportScope::System,
                1 => ExportScope::Patient,
                _ => ExportScope::Group(String::new()),
            },
            container: opt(&self.container),
            anonymization_config: opt(&self.anonymization_config),
            anonymization_config_etag: opt(&self.anonymization_config_etag),
            ..Default::default()
        })
    }

    /// A form offering `types` (from the server's CapabilityStatement when `from_server`).
    pub fn new(types: Vec<String>, from_server: bool) -> Self {
        Self {
            scope: 0,
            group: TextField::line(""),
            since: TextField::line(""),
            type_filter: TextField::line(""),
            container: TextField::line(""),
            output_format: TextField::line(""),
            anonymization_config: TextField::line(""),
            anonymization_config_etag: TextField::line(""),
            types: types.into_iter().map(|t| (t, false)).collect(),
            types_from_server: from_server,
            row: 0,
            typed: String::new(),
            typed_at: None,
        }
    }

    /// The common types, for servers whose CapabilityStatement was not seen.
    pub fn with_common_types() -> Self {
        Self::new(COMMON_TYPES.iter().map(|s| s.to_string()).collect(), false)
    }

    /// Whether row `row` is a text field.
    pub fn is_text_row(&self, row: usize) -> bool {
        (1..FIELD_ROWS.len()).contains(&row)
    }

    /// Whether the cursor is on the list of types.
    fn on_types(&self) -> bool {
        self.row >= FIELD_ROWS.len() && self.row < self.rows() - 1
    }

    /// Letters typed on the type list jump to the first type they start (a pause starts a new
    /// word), so a 53-type list needs a few keys, not 45.
    fn type_ahead(&mut self, c: char) {
        let fresh = self
            .typed_at
            .is_none_or(|t| t.elapsed() > Duration::from_millis(1200));
        if fresh {
            self.typed.clear();
        }
        self.typed.push(c.to_ascii_lowercase());
        self.typed_at = Some(Instant::now());
        if let Some(i) = self
            .types
            .iter()
            .position(|(t, _)| t.to_lowercase().starts_with(&self.typed))
        {
            self.row = FIELD_ROWS.len() + i;
        }
    }

    /// A key; `Close` goes back to the jobs list, `Yes` (ctrl-r, Enter on Start) starts.
    pub fn on_key(&mut self, key: &KeyEvent, action: Option<Action>, cx: &mut Cx) -> FormOutcome {
        let rows = self.rows();
        let start_row = rows - 1;
        let in_text = self.text_mut(self.row).is_some();
        match action {
            Some(Action::Close) => return FormOutcome::Back,
            Some(Action::Down) => self.row = (self.row + 1) % rows,
            Some(Action::Up) => self.row = (self.row + rows - 1) % rows,
            Some(Action::Send) => return FormOutcome::Start,
            Some(Action::Activate) if self.row == start_row => return FormOutcome::Start,
            Some(Action::Activate) => self.row = (self.row + 1).min(start_row),
            Some(a @ (Action::Toggle | Action::Left | Action::Right)) if self.row == 0 => {
                self.scope = if a == Action::Left {
                    (self.scope + 2) % 3
                } else {
                    (self.scope + 1) % 3
                };
            }
            Some(Action::Toggle) if self.on_types() => {
                if let Some(t) = self.types.get_mut(self.row - FIELD_ROWS.len()) {
                    t.1 = !t.1;
                }
            }
            _ if in_text => {
                let a = cx.model.keymap.lookup(Ctx::Text, key);
                if let Some(t) = self.text_mut(self.row) {
                    t.input(key, a);
                }
            }
            _ if self.on_types() => {
                if let KeyCode::Char(c) = key.code
                    && c.is_alphanumeric()
                {
                    self.type_ahead(c);
                }
            }
            _ => {}
        }
        FormOutcome::Stay
    }
}

/// What a key did to the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormOutcome {
    Stay,
    Back,
    Start,
}

/// The kick-off command for the active environment, or why there is none.
pub fn start_command(form: &ExportForm, cx: &mut Cx) -> Result<WorkerCommand, String> {
    let mut params = form.params()?;
    let base = cx.model.fhir_base();
    if base.is_empty() {
        return Err("Set fhirurl in the active environment first.".into());
    }
    let url = format!("{base}/$export");
    let env = cx.model.active_env.clone().unwrap_or_default();
    let auth = cx.model.plan_for_env(&env, &url);
    params.insecure = cx.model.active_environment().is_some_and(|e| e.insecure);
    Ok(WorkerCommand::StartExport {
        env,
        base,
        params: Box::new(params),
        auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_builds_parameters() {
        let mut f = ExportForm::new(vec!["Patient".into(), "Observation".into()], false);
        f.scope = 2;
        f.group = TextField::line("demo-cohort");
        f.since = TextField::line("2024-01-01T00:00:00Z");
        f.container = TextField::line("export");
        f.types[0].1 = true;
        let p = f.params().unwrap();
        assert_eq!(p.scope, ExportScope::Group("demo-cohort".into()));
        assert_eq!(p.types, vec!["Patient"]);
        assert_eq!(p.container.as_deref(), Some("export"));
        f.group = TextField::line(" ");
        assert!(f.params().is_err());
    }

    #[test]
    fn anonymized_export_is_refused_with_the_reason_below_system_level() {
        let mut f = ExportForm::new(vec!["Patient".into()], false);
        f.anonymization_config = TextField::line("safe-harbor.json");
        f.container = TextField::line("deid");
        let p = f.params().expect("system level");
        assert_eq!(p.anonymization_config.as_deref(), Some("safe-harbor.json"));
        f.scope = 1;
        let why = f.params().expect_err("Patient level");
        assert!(why.contains("system level only"), "{why}");
        f.scope = 0;
        f.container = TextField::line("");
        assert!(f.params().expect_err("no container").contains("_container"));
    }

    #[test]
    fn typing_on_the_type_list_jumps_to_a_type() {
        let types = ["Account", "Observation", "Organization", "Patient"];
        let mut f = ExportForm::new(types.iter().map(|t| t.to_string()).collect(), true);
        f.row = FIELD_ROWS.len();
        f.type_ahead('o');
        assert_eq!(f.row, FIELD_ROWS.len() + 1);
        f.type_ahead('r');
        assert_eq!(f.row, FIELD_ROWS.len() + 2, "or… is Organization");
    }
}
