//! The executable reference semantics of Mu IR.
#![deny(missing_docs)]

pub mod diag;
pub mod ir;
pub mod layout;
pub mod syntax;
pub mod verify;
