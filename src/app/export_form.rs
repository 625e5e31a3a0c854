//! The bulk-export kick-off form: scope, `_type` (from the server's CapabilityStatement when one
//! was received this session), `_since`, `_typeFilter`, `_container`, `_outputFormat`.

use ratatui_textarea::TextArea;

use super::state::{App, Overlay, line_area};
use super::update::Command;
use crate::worker::WorkerCommand;
use crate::worker::export::{ExportParams, ExportScope};
use crate::workspace::RequestSpec;

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
    pub group: TextArea<'static>,
    pub since: TextArea<'static>,
    pub type_filter: TextArea<'static>,
    pub container: TextArea<'static>,
    pub output_format: TextArea<'static>,
    /// Resource types with whether each is picked.
    pub types: Vec<(String, bool)>,
    /// Where the list of types came from.
    pub types_from_server: bool,
    pub row: usize,
}

/// The form's rows: fixed fields, then one row per resource type, then "start".
pub const FIELD_ROWS: [&str; 6] = [
    "scope",
    "group id",
    "_since",
    "_typeFilter",
    "_container",
    "_outputFormat",
];

impl ExportForm {
    pub fn rows(&self) -> usize {
        FIELD_ROWS.len() + self.types.len() + 1
    }

    pub fn text_mut(&mut self, row: usize) -> Option<&mut TextArea<'static>> {
        match row {
            1 => Some(&mut self.group),
            2 => Some(&mut self.since),
            3 => Some(&mut self.type_filter),
            4 => Some(&mut self.container),
            5 => Some(&mut self.output_format),
            _ => None,
        }
    }

    pub fn params(&self) -> Result<ExportParams, String> {
        let text = |t: &TextArea| t.lines().join("").trim().to_string();
        let opt = |t: &TextArea| Some(text(t)).filter(|s| !s.is_empty());
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
        Ok(ExportParams {
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
            insecure: false,
        })
    }
}

impl App {
    /// The resource types the server listed in a CapabilityStatement received this session.
    fn server_types(&self) -> Option<Vec<String>> {
        if let Some(caps) = self.active_capabilities() {
            let types: Vec<String> = caps
                .resource_types()
                .into_iter()
                .map(str::to_string)
                .collect();
            if !types.is_empty() {
                return Some(types);
            }
        }
        self.responses.values().find_map(|v| match &v.outcome {
            super::response::Outcome::Received { response, .. } => {
                let json: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
                let caps = crate::fhir::Capabilities::parse(&json)?;
                let types: Vec<String> = caps
                    .resource_types()
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                (!types.is_empty()).then_some(types)
            }
            _ => None,
        })
    }

    pub fn open_export_form(&mut self) {
        let (types, from_server) = match self.server_types() {
            Some(t) => (t, true),
            None => (COMMON_TYPES.iter().map(|s| s.to_string()).collect(), false),
        };
        let form = ExportForm {
            scope: 0,
            group: line_area(""),
            since: line_area(""),
            type_filter: line_area(""),
            container: line_area(""),
            output_format: line_area(""),
            types: types.into_iter().map(|t| (t, false)).collect(),
            types_from_server: from_server,
            row: 0,
        };
        self.overlay = Some(Overlay::ExportForm(Box::new(form)));
    }

    /// Keys of the form; `None` leaves it open.
    pub fn on_export_form_key(
        &mut self,
        mut form: Box<ExportForm>,
        name: &str,
        key: crossterm::event::KeyEvent,
    ) -> Vec<Command> {
        let rows = form.rows();
        let start_row = rows - 1;
        match name {
            "esc" => return Vec::new(),
            "down" | "tab" => form.row = (form.row + 1) % rows,
            "up" | "backtab" => form.row = (form.row + rows - 1) % rows,
            "ctrl-r" => return self.start_export(form),
            "enter" if form.row == start_row => return self.start_export(form),
            "enter" => form.row = (form.row + 1).min(start_row),
            "space" | "left" | "right" if form.row == 0 => {
                form.scope = if name == "left" {
                    (form.scope + 2) % 3
                } else {
                    (form.scope + 1) % 3
                };
            }
            "space" if form.row >= FIELD_ROWS.len() && form.row < start_row => {
                if let Some(t) = form.types.get_mut(form.row - FIELD_ROWS.len()) {
                    t.1 = !t.1;
                }
            }
            _ => {
                let row = form.row;
                if let Some(t) = form.text_mut(row) {
                    t.input(key);
                }
            }
        }
        self.overlay = Some(Overlay::ExportForm(form));
        Vec::new()
    }

    fn start_export(&mut self, form: Box<ExportForm>) -> Vec<Command> {
        let mut params = match form.params() {
            Ok(p) => p,
            Err(e) => {
                self.error(e);
                self.overlay = Some(Overlay::ExportForm(form));
                return Vec::new();
            }
        };
        let base = self.fhir_base();
        if base.is_empty() {
            self.error("Set fhirurl in the active environment first.");
            return Vec::new();
        }
        let url = format!("{base}/$export");
        let auth = self.active_environment().and_then(|env| {
            crate::worker::auth::plan_for(
                env,
                &self.session_vars,
                &RequestSpec::new("export", "GET", &url),
                &url,
            )
            .ok()
            .flatten()
        });
        let env = self.active_env.clone().unwrap_or_default();
        params.insecure = self.active_environment().is_some_and(|e| e.insecure);
        self.info("Starting the export…");
        self.overlay = Some(Overlay::Jobs {
            selected: self.jobs.len(),
        });
        vec![Command::Worker(WorkerCommand::StartExport {
            env,
            base,
            params: Box::new(params),
            auth,
        })]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_builds_parameters() {
        let mut f = ExportForm {
            scope: 2,
            group: line_area("demo-cohort"),
            since: line_area("2024-01-01T00:00:00Z"),
            type_filter: line_area(""),
            container: line_area("export"),
            output_format: line_area(""),
            types: vec![("Patient".into(), true), ("Observation".into(), false)],
            types_from_server: false,
            row: 0,
        };
        let p = f.params().unwrap();
        assert_eq!(p.scope, ExportScope::Group("demo-cohort".into()));
        assert_eq!(p.types, vec!["Patient"]);
        assert_eq!(p.container.as_deref(), Some("export"));
        f.group = line_area(" ");
        assert!(f.params().is_err());
    }
}
