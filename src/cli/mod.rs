//! Headless commands and the glue that starts the TUI (demo setup, imports, `run`).

pub mod bulk;
pub mod demo;
pub mod duration;
pub mod history;
pub mod import;
pub mod keygen;
pub mod run;
pub mod token;
