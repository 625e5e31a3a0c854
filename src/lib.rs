//! fhirside: a keyboard-driven terminal workbench for FHIR servers.
//!
//! The crate is split the way data flows: `tui` reads the terminal and runs the event loop,
//! `app` holds state and turns actions into commands, `ui` draws the panes, `worker` does all
//! network I/O, `workspace` is the files on disk, `fhir` is knowledge of the FHIR format.

pub mod workspace;
