//! fhirside: a keyboard-driven terminal workbench for FHIR servers.
//!
//! The crate is split the way data flows, dependencies pointing one way:
//! `main` → `tui` (the workbench: screens, event loop, runtime) | `cli` (headless verbs) →
//! `worker` (all network I/O: an actor for HTTP, sign-in, export jobs), `history`, `import` →
//! `workspace` (the files on disk), `fhir` (FHIR knowledge), `view_body` (bodies prepared for
//! display), `text` (sizes and text for people). `demo` is the built-in stand-in FHIR service.
//! `memory` is the allocator (a heap of its own for filters) and the crate's only unsafe code.

pub mod cli;
pub mod demo;
pub mod fhir;
pub mod history;
pub mod import;
mod memory;
pub mod text;
pub mod tui;
pub mod view_body;
pub mod worker;
pub mod workspace;
