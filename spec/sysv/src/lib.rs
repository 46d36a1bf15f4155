//! The x86-64 System V ABI as Z3 constraints, apart from the code it judges.
//!
//! - [`ty`]: C types, signatures and an engine's answer about them (layout,
//!   eightbyte classes, argument and result locations, `%al`).
//! - [`rules`]: the psABI's rules, written from its text as constraints over Z3's
//!   bit-vectors and Booleans (shared/notes/decisions.md: Int, BV, Bool, Solver and
//!   Model only).
//! - [`check`]: an answer satisfies the rules, and no other answer does; or a
//!   sentence naming what breaks.
//! - [`prove`]: bounded proofs: the sanity lemmas of the rules for every shape up to
//!   N fields in all at depth 2 (symbolic field kinds), and an implementation's
//!   answers against the rules for every enumerated shape.
//! - [`tape`]: the rules' functional form run at concrete field kinds without z3,
//!   which makes the enumeration fast.
//!
//! Only this crate links libz3.

pub mod check;
pub mod prove;
pub mod rules;
pub mod tape;
pub mod ty;

pub use check::{Disagreement, check_sig, check_type, solve_sig, solve_type};
pub use ty::{ArgAnswer, CType, Class, Loc, RetAnswer, Scalar, Sig, SigAnswer, TypeAnswer};
