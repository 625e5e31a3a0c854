//! Keys: every key goes through one table (`bindings`) to an [`Action`], per context; the
//! defaults can be remapped by `keys.toml` (`file`), and the effective map (`keymap`) is what
//! dispatch, help, hints and the palette all read.

pub mod action;
pub mod bindings;
pub mod file;
pub mod keymap;

pub use action::Action;
pub use bindings::{Ctx, key_name};
pub use keymap::Keymap;
