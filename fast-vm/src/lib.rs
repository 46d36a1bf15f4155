//! The optimizing Cranelift-JIT engine for Mu IR, with its own runtime (a moving
//! collector that honours pins, SysV `CCALL` lowering, callbacks). It consumes the
//! verified [`spec_model::ir::Module`] and is held to the reference model by
//! `difftest`. Work on it starts with the fast-VM issue; this crate is its place in
//! the workspace.
#![deny(missing_docs)]
