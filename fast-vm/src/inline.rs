//! Inlining of small Mu functions into their callers, through Cranelift's
//! inlining library.
//!
//! Every Mu function is first lowered to CLIF on its own; then each caller gets the
//! pre-inlining bodies of its small direct callees spliced in, one level deep
//! (a self-recursive function is unrolled once, as gcc does). The lowered body
//! already carries everything the semantics needs at a call boundary (the depth
//! check, fuel, status propagation, the shadow-stack frame), so an inlined call
//! behaves exactly like the call it replaces.

use std::borrow::Cow;

use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName};
use rustc_hash::FxHashMap;

/// Callees with more CLIF instructions than this stay calls.
const MAX_CALLEE_INSTS: usize = 128;
/// A caller grows by at most this many inlined instructions.
const MAX_GROWTH: usize = 512;

/// Decides which calls to inline and supplies the callee bodies.
pub struct Inliner<'a> {
    /// The pre-inlining body of each Mu function, by index (None: not compiled).
    pub bodies: &'a [Option<ir::Function>],
    /// The Mu function index of each Cranelift function id (by `UserExternalName`
    /// index in namespace 0).
    pub by_id: &'a FxHashMap<u32, usize>,
    /// Instructions inlined into the current caller so far.
    pub grown: usize,
}

impl Inline for Inliner<'_> {
    fn inline(
        &mut self,
        caller: &ir::Function,
        _call_inst: ir::Inst,
        call_opcode: ir::Opcode,
        callee: ir::FuncRef,
        _call_args: &[ir::Value],
    ) -> InlineCommand<'_> {
        if call_opcode != ir::Opcode::Call {
            return InlineCommand::KeepCall;
        }
        let ExternalName::User(r) = caller.dfg.ext_funcs[callee].name else {
            return InlineCommand::KeepCall;
        };
        let name = &caller.params.user_named_funcs()[r];
        if name.namespace != 0 {
            return InlineCommand::KeepCall;
        }
        let Some(body) = self
            .by_id
            .get(&name.index)
            .and_then(|&i| self.bodies.get(i))
            .and_then(Option::as_ref)
        else {
            return InlineCommand::KeepCall;
        };
        let size: usize = body
            .layout
            .blocks()
            .map(|b| body.layout.block_insts(b).count())
            .sum();
        if size > MAX_CALLEE_INSTS || self.grown + size > MAX_GROWTH {
            return InlineCommand::KeepCall;
        }
        self.grown += size;
        InlineCommand::Inline {
            callee: Cow::Borrowed(body),
            visit_callee: false,
        }
    }
}
