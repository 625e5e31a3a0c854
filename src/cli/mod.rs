//! Headless commands and the glue that starts the TUI (demo setup, workspace opening).

pub mod demo;
pub mod duration;
