//! `fhirside run --all-pages`: every page of a search as NDJSON.

use std::path::PathBuf;

use super::exit::{CliError, CliResult};
use super::out::Stdout;
use crate::workspace::Workspace;

pub struct PagesArgs {
    pub request: String,
    pub env: Option<String>,
    pub vars: Vec<(String, String)>,
    pub out: Option<PathBuf>,
    pub max: Option<u64>,
    pub history_root: Option<PathBuf>,
}

pub async fn run(_ws: &Workspace, _args: PagesArgs, _stdout: &mut Stdout) -> CliResult {
    Err(CliError::Failed("--all-pages is not written yet".into()))
}
