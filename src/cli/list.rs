//! `fhirside list`: the workspace's environments and requests, a line each.

use super::exit::{CliResult, Exit};
use super::out::{self, Stdout};
use crate::workspace::{LoadProblem, Workspace};

pub fn run(ws: &Workspace, problems: &[LoadProblem], stdout: &mut Stdout) -> CliResult {
    for p in problems {
        out::warning(p);
    }
    for env in &ws.environments {
        stdout.line(format!("environment  {}", out::field(&env.name)))?;
    }
    for (path, r) in ws.all_requests() {
        stdout.line(format!(
            "request      {:<7} {}",
            out::field(&r.spec.method),
            out::field(&path.display())
        ))?;
    }
    stdout.flush()?;
    Ok(Exit::Ok)
}
