//! `fhirside check`: every file of a workspace validated, each problem as file:line:column.

use std::path::Path;

use super::exit::{CliError, CliResult};
use super::out::Stdout;

pub fn run(_root: &Path, _stdout: &mut Stdout) -> CliResult {
    Err(CliError::Failed("check is not written yet".into()))
}
