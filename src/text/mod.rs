//! Text for people, shared by the TUI and the CLI: sizes, and the terminal sanitiser.

pub mod sanitize;
pub mod size;

pub use size::human_size;
