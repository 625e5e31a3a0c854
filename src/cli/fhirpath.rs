//! `--fhirpath EXPR` for `fmt` and `run`: the Response pane's FHIRPath filter as a flag, with
//! its sentences as errors (a bad expression is a usage error; a body that is not JSON, a
//! failure).

use std::sync::atomic::AtomicBool;

use super::exit::CliError;
use super::out;
use crate::view_body::fhirpath::{FhirPathError, run_fhirpath};
use crate::view_body::filter::MAX_RESULTS;

/// The results of `expr` over `bytes` (each record of NDJSON), pretty JSON one after another.
pub fn filter(bytes: &[u8], ndjson: bool, expr: &str) -> Result<String, CliError> {
    let expr = crate::view_body::fhirpath::strip_prefix(expr).unwrap_or(expr);
    match run_fhirpath(bytes, ndjson, expr, &AtomicBool::new(false)) {
        Ok(found) => {
            if found.capped {
                out::warning(format_args!(
                    "only the first {MAX_RESULTS} results are printed; narrow the expression"
                ));
            }
            Ok(found.text.text().to_string())
        }
        Err(
            e @ (FhirPathError::Syntax(_)
            | FhirPathError::Unsupported(_)
            | FhirPathError::Arity(..)
            | FhirPathError::TooDeep),
        ) => Err(CliError::Usage(e.to_string())),
        Err(e) => Err(CliError::Failed(e.to_string())),
    }
}
