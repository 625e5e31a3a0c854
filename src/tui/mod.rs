//! The terminal side: raw mode and the alternate screen (always restored), and the event loop
//! that feeds input, worker events and ticks into `App::update`.

pub mod clipboard;
pub mod editor;
pub mod event_loop;
pub mod keys;
pub mod style;
pub mod terminal;
pub mod widgets;
