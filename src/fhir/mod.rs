//! Knowledge of the FHIR format: bundles, OperationOutcomes, CapabilityStatements, references,
//! and how a typed patient lookup becomes a search.
