//! JSON Schemas of the workspace's files.
