//! The `muni` tool's library: the conformance-script format and runner that
//! `cargo test` and the CLI share.
#![deny(missing_docs)]

pub mod abi;
pub mod conform;
