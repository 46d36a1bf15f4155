//! The executable reference semantics of Mu IR: parser, verifier, SysV layout and
//! the small-step machine.
//!
//! ```
//! use spec_model::{load, Budgets};
//! let text = "
//!   .typedef @i64 = int<64>
//!   .funcsig @sig = (@i64) -> (@i64)
//!   .const @one <@i64> = 1
//!   .funcdef @inc VERSION %v1 <@sig> {
//!     %entry(<@i64> %x):
//!       %y = ADD <@i64> %x @one
//!       RET %y
//!   }";
//! let bundle = load(&[("inc.uir", text)]).unwrap();
//! let out = bundle.run("@inc", &["41"], Budgets::default()).unwrap();
//! assert_eq!(out.to_string(), "return 42");
//! ```
#![deny(missing_docs)]

pub mod clib;
pub mod client;
pub mod diag;
pub mod ir;
pub mod layout;
pub mod machine;
pub mod outcome;
pub mod rules;
pub mod run;
pub mod syntax;
pub mod verify;

mod load;
pub use load::{Bundles, LoadError, Loaded, load, parse_literal};
pub use machine::native::load_library;
pub use machine::{Budgets, Machine, ModelError};
pub use outcome::Outcome;
pub use rules::RuleId;
