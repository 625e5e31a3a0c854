//! The workspace: environments and collections as readable TOML files, secrets kept apart,
//! templating, and the seed a new workspace starts with.

pub mod atomic;
pub mod export_job;
pub mod jobs;
pub mod location;
pub mod model;
pub mod schemas;
pub mod seed;
pub mod settings;
pub mod store;
pub mod template;

pub use model::*;
pub use store::{LoadProblem, Store, StoreError};
