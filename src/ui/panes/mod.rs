//! One module per pane; each draws itself from the app state.

pub mod collections;
pub mod environments;
pub mod request;
pub mod response;
