//! Differential testing of the fast VM against the reference model: a generator of
//! UB-free programs (proptest and `arbitrary` front ends), a both-engine runner, the
//! comparator, the shrinker and statistics. Work on it starts with the difftest
//! issue; this crate is its place in the workspace.
#![deny(missing_docs)]
