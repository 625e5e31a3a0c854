//! fhirside: a keyboard-driven terminal workbench for FHIR servers.
//!
//! The crate is split the way data flows: `tui` reads the terminal and runs the event loop,
//! `app` holds state and turns actions into commands, `ui` draws the panes, `worker` does all
//! network I/O, `workspace` is the files on disk, `view_body` prepares and highlights response
//! bodies, and `demo` is the built-in stand-in FHIR service.

pub mod app;
pub mod cli;
pub mod demo;
pub mod fhir;
pub mod history;
pub mod import;
pub mod text;
pub mod tui;
pub mod ui;
pub mod view_body;
pub mod worker;
pub mod workspace;
