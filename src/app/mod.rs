//! Application state, actions and the update function (the "model" and "update" of the
//! ratatui app structure). Nothing here draws or does network I/O.

pub mod auth;
#[doc(hidden)]
pub mod bench;
pub mod body_pane;
pub mod browser;
pub mod capabilities;
pub mod conflict;
pub mod drafts;
pub mod export_form;
pub mod fuzzy;
pub mod history;
pub mod jobs;
pub mod kept;
pub mod palette;
pub mod response;
mod response_flow;
pub mod session;
pub mod settings;
pub mod spool_pane;
pub mod state;
pub mod update;
pub mod viewport;

#[cfg(test)]
pub(crate) mod history_tests;
#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod response_tests;
#[cfg(test)]
pub(crate) mod tests;

pub use crate::tui::keys::Action;
pub use history::HistoryCall;
pub use state::*;
pub use update::{Command, Msg};
