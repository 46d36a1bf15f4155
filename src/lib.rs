//! The `muni` tool's library: the corpus format that `cargo test` and the CLI share.
#![deny(missing_docs)]

pub mod corpus;
