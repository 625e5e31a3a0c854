//! Colours: the themes (TOML files, built in and the workspace's own) adapted to the terminal's
//! colour depth.

pub mod theme;
pub mod theme_file;

pub use theme::Theme;
