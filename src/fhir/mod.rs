//! Knowledge of the FHIR format: bundles, OperationOutcomes, CapabilityStatements, references,
//! and how a typed patient lookup becomes a search.
//!
//! Everything here is pure (no I/O) and tolerant: servers send missing fields, wrong types and
//! extensions, and none of it may panic. Parsers answer `None`/empty for what they cannot read.
//! Nothing assumes a particular server: paging links stay opaque, totals may be absent.

pub mod bundle;
pub mod capability;
pub mod columns;
pub mod lookup;
pub mod outcome;
pub mod patient;
pub mod reference;
mod util;

#[cfg(test)]
mod testutil;

pub use bundle::{BundleView, EntryView, Links, is_bundle};
pub use capability::{
    COMMON_PARAMS, Capabilities, ResourceCaps, SearchParam, base_param_name, unsupported_params,
};
pub use columns::{Column, cell, columns_for, summary as resource_summary};
pub use lookup::{LookupQuery, age, age_label, interpret};
pub use outcome::{Issue, parse_outcome, summary as outcome_summary};
pub use patient::PatientSummary;
pub use reference::{is_under_base, references_in_line, resolve_reference};
pub use util::R4_RESOURCE_TYPES;
