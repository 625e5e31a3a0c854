//! FHIRPath over a body, beside jq: `Patient.name.where(use='official').family`,
//! `Bundle.entry.resource.ofType(Observation).value.ofType(Quantity).value`.
//!
//! Written here rather than taken from a crate (re-checked 2026-12-02, README "Why our own
//! evaluator"): tlq-fhirpath resolves types from FHIR packages a registry client downloads;
//! octofhir-fhirpath 0.5 needs rustc 1.98, and 0.4.57 loses choice types without a type model
//! (its R4 model brings reqwest 0.13, aws-lc-sys and a clashing libsqlite3-sys), fails on names
//! starting with `not` and costs minutes of build; helios-fhirpath pins `serde = "=1.0.224"`
//! (our jsonwebtoken needs ^1.0.228); ferrobridge-fhirpath is BUSL and fhirpathrs has no
//! licence. This is the
//! part of FHIRPath (N1) people type to look into a resource, evaluated over the JSON as it
//! is: paths (choice types by their JSON names, `value` finds `valueQuantity`), indexers,
//! `where`/`select`/`ofType`/`exists`/`all`, the collection, string and conversion functions,
//! comparison, boolean and arithmetic operators, union. What it does not know (`resolve()`,
//! terminology, quantities with units, `matches`) is an error naming it, never a wrong answer.
//!
//! Bounded: the body is parsed by serde_json (128 levels of nesting at most), expressions
//! nest at most [`MAX_NESTING`] deep, results and output are capped like jq's.

use std::sync::atomic::AtomicBool;

use serde_json::Value;

use eval::{Evaluator, Item, Scope};

use super::filter::{FilterOutput, MAX_OUTPUT_BYTES, MAX_RESULTS};
use super::{BodyText, pretty_json};

/// Parentheses, calls and operators nest at most this deep in an expression.
pub const MAX_NESTING: usize = 64;

/// The filter-line prefixes that mean FHIRPath rather than jq.
pub const PREFIXES: &[&str] = &["fhirpath:", "fp:"];

/// The expression after a FHIRPath prefix (`fp: name.family`), or `None` for jq.
pub fn strip_prefix(expr: &str) -> Option<&str> {
    let t = expr.trim_start();
    PREFIXES
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .map(str::trim)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirPathError {
    #[error("The expression is not valid FHIRPath: {0}.")]
    Syntax(String),
    #[error("FHIRPath's {0} is not supported here.")]
    Unsupported(String),
    #[error("{0}() takes {1}.")]
    Arity(String, &'static str),
    #[error("The expression failed: {0}.")]
    Eval(String),
    #[error("The body is not JSON, so FHIRPath cannot read it ({0}).")]
    Input(String),
    #[error("The expression nests more than {MAX_NESTING} levels deep.")]
    TooDeep,
    #[error("The output is larger than {} MiB; narrow it down.", MAX_OUTPUT_BYTES >> 20)]
    TooLarge,
    #[error("Filter stopped.")]
    Cancelled,
}

type R<T> = Result<T, FhirPathError>;

/// Evaluates `expr` over the JSON in `input` (each record of NDJSON): the results one after
/// another, pretty-printed, as the jq filter gives them.
pub fn run_fhirpath(
    input: &[u8],
    ndjson: bool,
    expr: &str,
    cancel: &AtomicBool,
) -> R<FilterOutput> {
    let ast = parse(expr)?;
    let inputs: Vec<Value> = if ndjson {
        input
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(|l| serde_json::from_slice(l).map_err(|e| FhirPathError::Input(e.to_string())))
            .collect::<R<_>>()?
    } else {
        vec![serde_json::from_slice(input).map_err(|e| FhirPathError::Input(e.to_string()))?]
    };
    let mut out = String::new();
    let mut results = 0;
    let mut capped = false;
    'inputs: for root in inputs {
        let ev = Evaluator {
            root: &root,
            cancel,
        };
        let focus = vec![Item::of(root.clone())];
        for item in ev.eval(&ast, &focus, &Scope::default())? {
            if results >= MAX_RESULTS {
                capped = true;
                break 'inputs;
            }
            results += 1;
            let compact = item.value.to_string();
            let pretty = pretty_json(compact.as_bytes()).unwrap_or(compact);
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&pretty);
            if out.len() > MAX_OUTPUT_BYTES {
                return Err(FhirPathError::TooLarge);
            }
        }
    }
    Ok(FilterOutput {
        text: BodyText::new(out),
        results,
        capped,
    })
}

/// Evaluates `expr` on one resource: the results as JSON values (for tests and the CLI).
pub fn evaluate(resource: &Value, expr: &str) -> R<Vec<Value>> {
    let ast = parse(expr)?;
    let cancel = AtomicBool::new(false);
    let ev = Evaluator {
        root: resource,
        cancel: &cancel,
    };
    let focus = vec![Item::of(resource.clone())];
    Ok(ev
        .eval(&ast, &focus, &Scope::default())?
        .into_iter()
        .map(|i| i.value)
        .collect())
}

mod eval;
mod functions;
mod parse;

use parse::parse;

#[cfg(test)]
mod tests;
