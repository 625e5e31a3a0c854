//! Text for people, shared by the TUI and the CLI: sizes (and, later, the terminal sanitiser).

pub mod size;

pub use size::human_size;
