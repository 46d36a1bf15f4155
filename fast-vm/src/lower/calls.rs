//! Calls: CALL and TAILCALL of Mu functions (the stack-budget check, the
//! accumulator loop and base-case fast paths), and CCALL lowered to SysV.

use super::*;

impl Cx<'_, '_> {
    /// CCALL #DEFAULT through the SysV lowering of `ccall.rs`.
    pub(super) fn ccall(
        &mut self,
        sig: SigId,
        callee: Operand,
        args: &[Operand],
        exc: &Option<Exc>,
        r: &[u32],
    ) -> Result<(), NotCompiled> {
        use crate::ccall::{Crossing, c_signature, load_leaves, pack, store_leaves, unpack};
        let module = self.env.module;
        let types = &module.types;
        let (csig, crossings, ret) =
            c_signature(types, sig).ok_or_else(|| unsupported("this C signature"))?;
        let fp = self.val(callee)?;
        let nonnull = self.b.ins().icmp_imm_s(IntCC::NotEqual, fp, 0);
        self.check_or_stop(nonnull, StopCode::NullCall);
        let slot = |b: &mut FunctionBuilder<'_>, size: u64| {
            let ss = b.create_sized_stack_slot(cranelift_codegen::ir::StackSlotData::new(
                cranelift_codegen::ir::StackSlotKind::ExplicitSlot,
                u32::try_from(size.div_ceil(8) * 8).unwrap_or(u32::MAX),
                3,
            ));
            b.ins().stack_addr(I64, ss, 0)
        };
        let mut argv = Vec::new();
        let sret = match &ret {
            Some(Crossing::Memory(size)) => {
                let a = slot(&mut self.b, *size);
                argv.push(a);
                Some(a)
            }
            _ => None,
        };
        let params = types.sig(sig).params.clone();
        for ((a, t), c) in args.iter().zip(&params).zip(&crossings) {
            let vals = self.flat(*a)?;
            match c {
                Crossing::Nothing => {}
                Crossing::Scalar(_) => argv.push(vals[0]),
                Crossing::Eightbytes(tys) => argv.extend(pack(&mut self.b, types, *t, &vals, tys)),
                Crossing::Memory(size) => {
                    let addr = slot(&mut self.b, *size);
                    store_leaves(&mut self.b, types, *t, &vals, addr);
                    argv.push(addr);
                }
            }
        }
        if let Some(rt_trace) = self.env.rt.trace.map(|t| self.import(t)) {
            let mut leaves = Vec::new();
            for a in args {
                leaves.extend(self.flat(*a)?);
            }
            let words = crate::ccall::trace_words(&mut self.b, &leaves);
            let konst = match callee {
                Operand::Const(c) => u64::from(c) + 1,
                _ => 0,
            };
            let kind = self.b.ins().iconst(I64, crate::TraceKind::CCall as i64);
            let id = self
                .b
                .ins()
                .iconst(I64, (u64::from(sig) | konst << 32) as i64);
            let live = self.spill()?;
            self.b
                .ins()
                .call(rt_trace, &[self.ctx, kind, id, fp, words]);
            self.reload(&live);
        }
        let live = self.spill()?;
        self.mark(Site::Native);
        // Callbacks from C continue counting frames from this one.
        self.store_ctx(self.depth, offsets::DEPTH);
        // `ccall.al`: the call goes through a trampoline that sets %al to the number
        // of vector registers the arguments use and jumps to `fp`, which it finds in
        // one more argument (Cranelift cannot set %al itself, wasmtime#1030).
        let plan = crate::ccall::al_plan(&csig).ok_or_else(|| unsupported("this C signature"))?;
        let tramp = crate::ccall::al_trampoline(self.env.jit, plan)
            .map_err(|e| NotCompiled(format!("the ccall.al trampoline: {e}")))?;
        let tramp = self.import(tramp);
        let tramp = self.b.ins().func_addr(I64, tramp);
        let mut csig = csig;
        csig.params.push(AbiParam::new(I64));
        argv.push(fp);
        let sr = self.b.import_signature(csig);
        let call = self.b.ins().call_indirect(sr, tramp, &argv);
        let results = self.b.inst_results(call).to_vec();
        self.reload(&live);
        // A callback may have ended the run while C was running.
        let stop = self.load_ctx(I64, offsets::STOP);
        let ended = self.b.ins().icmp_imm_s(IntCC::NotEqual, stop, 0);
        let cont = self.b.create_block();
        let up = self.up_block();
        let st = self.b.ins().iconst(I32, i64::from(STOP));
        self.b.ins().brif(ended, up, &bargs(&[st]), cont, &[]);
        self.b.switch_to_block(cont);
        if let Some(t) = types.sig(sig).rets.first().copied() {
            let vals = match ret {
                Some(Crossing::Scalar(_)) => vec![results[0]],
                Some(Crossing::Eightbytes(_)) => unpack(&mut self.b, types, t, &results),
                Some(Crossing::Memory(_)) => load_leaves(&mut self.b, types, t, sret.unwrap_or(fp)),
                _ => Vec::new(),
            };
            if let Some(rt_trace) = self.env.rt.trace.map(|t| self.import(t)) {
                let words = crate::ccall::trace_words(&mut self.b, &vals);
                let kind = self
                    .b
                    .ins()
                    .iconst(I64, crate::TraceKind::CCallReturn as i64);
                let id = self.b.ins().iconst(I64, i64::from(sig));
                let z = self.b.ins().iconst(I64, 0);
                let live = self.spill()?;
                self.b.ins().call(rt_trace, &[self.ctx, kind, id, z, words]);
                self.reload(&live);
            }
            self.set_flat(r, 0, t, vals);
        }
        self.next(exc)
    }

    pub(super) fn call(
        &mut self,
        sig: SigId,
        callee: Operand,
        args: &[Operand],
        exc: &Option<Exc>,
        r: &[u32],
    ) -> Result<(), NotCompiled> {
        let base = match callee {
            // Without fuel accounting a base case can be answered at the call site
            // (with fuel, the callee's entry block would be charged twice).
            // A client may redefine the callee: nothing of it is known here.
            Operand::Func(g)
                if !self.env.fuel && !self.env.client && exc.is_none() && r.len() == 1 =>
            {
                base_case(self.env.module, g)
            }
            _ => None,
        };
        let Some(base) = base else {
            return self.call_general(sig, callee, args, exc, r, false);
        };
        // The frame is counted before the callee's test runs, as the call would.
        self.check_stack(exc)?;
        let argv = self.vals(args)?;
        let src = |cx: &mut Self, s: Src| match s {
            Src::Param(i) => Ok(argv[i]),
            Src::Const(k) => cx.val(Operand::Const(k)),
        };
        let (a, b) = (src(self, base.a)?, src(self, base.b)?);
        let cond = self.cmp(base.op, base.ty, a, b);
        let value = src(self, base.ret)?;
        let (answer, full_call, join) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        let t = self.b.func.dfg.value_type(value);
        let result = self.b.append_block_param(join, t);
        // The references live across the call: the call reloads them (a collection
        // may move what they point to), the answer keeps them, and the join takes
        // whichever it came from.
        let live = self.live.get(self.cur).cloned().unwrap_or_default();
        let before = self.live_values(&live);
        for v in &before {
            let vt = self.b.func.dfg.value_type(*v);
            self.b.append_block_param(join, vt);
        }
        if base.on_true {
            self.b.ins().brif(cond, answer, &[], full_call, &[]);
        } else {
            self.b.ins().brif(cond, full_call, &[], answer, &[]);
        }
        self.b.switch_to_block(answer);
        let mut a = vec![value];
        a.extend(&before);
        self.b.ins().jump(join, &bargs(&a));
        self.b.switch_to_block(full_call);
        self.call_general(sig, callee, args, exc, r, true)?;
        let mut a = vec![self.val(Operand::Local(r[0]))?];
        a.extend(self.live_values(&live));
        self.b.ins().jump(join, &bargs(&a));
        self.b.switch_to_block(join);
        let ps = self.b.block_params(join)[1..].to_vec();
        self.rebind(&live, &ps);
        self.set(r, 0, result);
        Ok(())
    }

    /// The code a call of `callee` (a function, or a funcref value) runs, NULL
    /// checked (`call.null-callee`). In client mode a funcref is the address of
    /// the function's slot, which holds the code of its current version: a later
    /// version retargets every call.
    pub(super) fn callee_code(&mut self, callee: Operand) -> Result<Value, NotCompiled> {
        let fp = match (self.env.client, callee) {
            (true, Operand::Func(f)) => self.slot(f)?,
            _ => {
                let fp = self.val(callee)?;
                let nonnull = self.b.ins().icmp_imm_s(IntCC::NotEqual, fp, 0);
                self.check_or_stop(nonnull, StopCode::NullCall);
                fp
            }
        };
        if !self.env.client {
            return Ok(fp);
        }
        Ok(self.b.ins().load(I64, MemFlagsData::trusted(), fp, 0))
    }

    /// SWAPSTACK through `rt_swapstack`: the values go in the context's return
    /// words (the exception in `Ctx::exc`), the references this frame still
    /// needs in its shadow frame; the stack resumes as a call returns, with
    /// values (the `RET_WITH` results), an exception or a stop.
    pub(super) fn swapstack(
        &mut self,
        swappee: Operand,
        ret_with: Option<&[TypeId]>,
        bind: &spec_model::ir::Bind,
        exc: &Option<Exc>,
        r: &[u32],
    ) -> Result<(), NotCompiled> {
        use crate::stacks::SWAP_KILL;
        let s = self.val(swappee)?;
        let mut mode = self.pass_values(bind)?;
        if ret_with.is_none() {
            mode |= SWAP_KILL;
        }
        let live = self.spill()?;
        // Callbacks from C on this stack, once it resumes, count from here.
        self.store_ctx(self.depth, offsets::DEPTH);
        let m = self.b.ins().iconst(I64, mode as i64);
        let rt = self.import(self.env.rt.swapstack);
        let call = self.b.ins().call(rt, &[self.ctx, s, m]);
        let status = self.b.inst_results(call)[0];
        self.reload(&live);
        match ret_with {
            Some(ts) => self.after_status(status, None, ts, exc, r),
            None => {
                // A killed stack never resumes: only a stop comes back.
                let up = self.up_block();
                self.b.ins().jump(up, &bargs(&[status]));
                Ok(())
            }
        }
    }

    /// NEWTHREAD through `rt_new_thread`: the values go in the context's return
    /// words, as for SWAPSTACK; the new thread runs at once, and this one goes
    /// on when its turn comes (a safepoint), with the threadref in the first
    /// return word (0: `thread.new-exhausted`, which continues exceptionally
    /// or stops).
    pub(super) fn new_thread(
        &mut self,
        stack: Operand,
        threadlocal: Option<Operand>,
        bind: &spec_model::ir::Bind,
        exc: &Option<Exc>,
        r: &[u32],
    ) -> Result<(), NotCompiled> {
        let s = self.val(stack)?;
        let local = match threadlocal {
            Some(t) => self.val(t)?,
            None => self.b.ins().iconst(I64, 0),
        };
        let mode = self.pass_values(bind)?;
        let live = self.spill()?;
        self.store_ctx(self.depth, offsets::DEPTH);
        let m = self.b.ins().iconst(I64, mode as i64);
        let rt = self.import(self.env.rt.new_thread);
        let call = self.b.ins().call(rt, &[self.ctx, s, m, local]);
        let status = self.b.inst_results(call)[0];
        self.reload(&live);
        let ok = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, status, i64::from(NORMAL));
        let cont = self.b.create_block();
        let up = self.up_block();
        self.b.ins().brif(ok, cont, &[], up, &bargs(&[status]));
        self.b.switch_to_block(cont);
        let t = self.load_ctx(I64, offsets::RET);
        let none = self.b.ins().icmp_imm_s(IntCC::Equal, t, 0);
        self.fail_if(none, exc, StopCode::Stack)?;
        self.set(r, 0, t);
        self.next(exc)
    }

    /// Stores what a new-stack clause gives in the context (values in the
    /// return words, an exception in `Ctx::exc`): the mode bits it needs.
    fn pass_values(&mut self, bind: &spec_model::ir::Bind) -> Result<u64, NotCompiled> {
        match bind {
            spec_model::ir::Bind::Values(_, vs) => {
                let mut k = 0;
                for v in vs {
                    for leaf in self.flat(*v)? {
                        let w = self.widen(leaf);
                        if k >= crate::runtime::RET_SLOTS {
                            return Err(unsupported("this many values passed to a stack"));
                        }
                        self.store_ctx(w, offsets::RET + 8 * k as i32);
                        k += 1;
                    }
                }
                Ok(0)
            }
            spec_model::ir::Bind::Throw(e) => {
                let e = self.val(*e)?;
                self.store_ctx(e, offsets::EXC);
                Ok(crate::stacks::SWAP_THROW)
            }
        }
    }

    /// The current values of frame slots `live` (an aggregate's leaves in order).
    pub(super) fn live_values(&self, live: &[u32]) -> Vec<Value> {
        let mut out = Vec::new();
        for s in live {
            if let Some(v) = self.slots.get(s) {
                out.push(*v);
            } else if let Some(vs) = self.aggs.get(s) {
                out.extend(vs);
            }
        }
        out
    }

    /// Binds frame slots `live` to `vals`, as [`Cx::live_values`] laid them out.
    pub(super) fn rebind(&mut self, live: &[u32], vals: &[Value]) {
        let mut k = 0;
        for s in live {
            if self.slots.contains_key(s) {
                self.slots.insert(*s, vals[k]);
                k += 1;
            } else if let Some(vs) = self.aggs.get_mut(s) {
                let n = vs.len();
                vs.copy_from_slice(&vals[k..k + n]);
                k += n;
            }
        }
    }

    /// `call.stack-exhausted` / `call.stack-exc`: a call from this frame needs one
    /// more than the stack budget allows: continue exceptionally or stop.
    pub(super) fn check_stack(&mut self, exc: &Option<Exc>) -> Result<(), NotCompiled> {
        let max = self.load_ctx(I64, offsets::MAX_DEPTH);
        let full = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, self.depth, max);
        // The mapping running short first (a stack budget beyond what it
        // holds) ends the same way, never at the guard page.
        let sp = self.b.ins().get_stack_pointer(I64);
        let limit = self.load_ctx(I64, offsets::STACK_LIMIT);
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        let full = self.b.ins().bor(full, low);
        self.fail_if(full, exc, StopCode::Stack)
    }

    /// A call; `checked`: the stack budget was checked for it already.
    pub(super) fn call_general(
        &mut self,
        sig: SigId,
        callee: Operand,
        args: &[Operand],
        exc: &Option<Exc>,
        r: &[u32],
        checked: bool,
    ) -> Result<(), NotCompiled> {
        // The stack budget: the caller counts the callee's frame.
        if !checked {
            self.check_stack(exc)?;
        }
        let deeper = self.b.ins().iadd_imm_s(self.depth, 1);
        let mut argv = vec![self.ctx, deeper];
        argv.extend(self.vals(args)?);
        let live = self.spill()?;
        self.mark(Site::Call(sig));
        let call = match callee {
            Operand::Func(f) if !self.env.client => {
                let fr = self.func_ref(f);
                self.b.ins().call(fr, &argv)
            }
            other => {
                let fp = self.callee_code(other)?;
                let s = mu_signature(self.types(), sig)
                    .ok_or_else(|| unsupported("an aggregate signature"))?;
                let sr = self.b.import_signature(s);
                self.b.ins().call_indirect(sr, fp, &argv)
            }
        };
        let status = self.b.inst_results(call)[0];
        let word0 = self.b.inst_results(call)[1];
        self.reload(&live);
        let rets = self.types().sig(sig).rets.clone();
        self.after_status(status, Some(word0), &rets, exc, r)
    }

    /// What follows a call that answers with a status, as Mu calls and the
    /// runtime's trap handler do: NORMAL continues with the results (the first
    /// word in `word0` if given, the rest in the context's return words), an
    /// exception goes to the exception clause or up, a stop goes up.
    pub(super) fn after_status(
        &mut self,
        status: Value,
        word0: Option<Value>,
        rets: &[TypeId],
        exc: &Option<Exc>,
        r: &[u32],
    ) -> Result<(), NotCompiled> {
        let normal = self.b.create_block();
        let ok = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, status, i64::from(NORMAL));
        let up = self.up_block();
        if let Some(rec) = self.record_addr() {
            return self.after_status_replacing(status, word0, rets, exc, r, rec);
        }
        match exc {
            // An exception: to the handler. A stop: on up.
            Some(e) => {
                let abnormal = self.b.create_block();
                self.b.ins().brif(ok, normal, &[], abnormal, &[]);
                self.b.switch_to_block(abnormal);
                self.b.set_cold_block(abnormal);
                let is_exc = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::Equal, status, i64::from(EXCEPTION));
                let unwind = self.b.create_block();
                self.b
                    .ins()
                    .brif(is_exc, unwind, &[], up, &bargs(&[status]));
                self.b.switch_to_block(unwind);
                let ev = self.load_ctx(I64, offsets::EXC);
                self.jump(&e.exc, Some(ev))?;
            }
            // An exception or a stop: on up.
            None => {
                self.b.ins().brif(ok, normal, &[], up, &bargs(&[status]));
            }
        }
        self.b.switch_to_block(normal);
        self.results(word0, rets, r)?;
        self.next(exc)
    }

    /// Binds the results `r` of types `rets` (the first word in `word0` if given,
    /// the rest in the context's return words).
    fn results(
        &mut self,
        word0: Option<Value>,
        rets: &[TypeId],
        r: &[u32],
    ) -> Result<(), NotCompiled> {
        let mut k: usize = 0;
        for (i, t) in rets.iter().enumerate() {
            let ls =
                leaves(self.types(), *t).ok_or_else(|| unsupported("a result of this type"))?;
            let mut vs = Vec::new();
            for (_, ct) in ls {
                let w = match word0 {
                    Some(w) if k == 0 => w,
                    _ => self.load_ctx(I64, offsets::RET + 8 * k as i32),
                };
                vs.push(self.narrow(w, ct));
                k += 1;
            }
            self.set_flat(r, i, *t, vs);
        }
        Ok(())
    }

    /// [`Cx::after_status`] in client mode, where a status may also be
    /// `REPLACED`: frames the client popped return it up to the frame it popped
    /// to, whose record is `rec`; that frame asks the runtime how it goes on
    /// (`rt_osr_resume`: with results, an exception, a stop, or `REPLACED` again
    /// when a frame it pushed trapped and the client popped once more).
    fn after_status_replacing(
        &mut self,
        status: Value,
        word0: Option<Value>,
        rets: &[TypeId],
        exc: &Option<Exc>,
        r: &[u32],
        rec: Value,
    ) -> Result<(), NotCompiled> {
        let up = self.up_block();
        let normal = self.b.create_block();
        let w0 = self.b.append_block_param(normal, I64);
        let abnormal = self.b.create_block();
        let st = self.b.append_block_param(abnormal, I32);
        let ok = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, status, i64::from(NORMAL));
        let first = match word0 {
            Some(w) => w,
            None => self.load_ctx(I64, offsets::RET),
        };
        self.b
            .ins()
            .brif(ok, normal, &bargs(&[first]), abnormal, &bargs(&[status]));
        // Not normal: replaced (here, or further down), an exception, a stop.
        self.b.switch_to_block(abnormal);
        self.b.set_cold_block(abnormal);
        let replaced = self.b.create_block();
        let other = self.b.create_block();
        let is_rep = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, st, i64::from(crate::runtime::REPLACED));
        self.b.ins().brif(is_rep, replaced, &[], other, &[]);
        self.b.switch_to_block(replaced);
        let target = self.load_ctx(I64, offsets::OSR_TARGET);
        let here = self.b.ins().icmp(IntCC::Equal, target, rec);
        let resume = self.b.create_block();
        self.b.ins().brif(here, resume, &[], up, &bargs(&[st]));
        self.b.switch_to_block(resume);
        let f = self.import(self.env.rt.osr_resume);
        let call = self.b.ins().call(f, &[self.ctx]);
        let s2 = self.b.inst_results(call)[0];
        let w = self.load_ctx(I64, offsets::RET);
        let ok2 = self.b.ins().icmp_imm_s(IntCC::Equal, s2, i64::from(NORMAL));
        self.b
            .ins()
            .brif(ok2, normal, &bargs(&[w]), abnormal, &bargs(&[s2]));
        // An exception goes to the clause, a stop up.
        self.b.switch_to_block(other);
        match exc {
            Some(e) => {
                let is_exc = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::Equal, st, i64::from(EXCEPTION));
                let unwind = self.b.create_block();
                self.b.ins().brif(is_exc, unwind, &[], up, &bargs(&[st]));
                self.b.switch_to_block(unwind);
                let ev = self.load_ctx(I64, offsets::EXC);
                self.jump(&e.exc, Some(ev))?;
            }
            None => {
                self.b.ins().jump(up, &bargs(&[st]));
            }
        }
        self.b.switch_to_block(normal);
        self.results(Some(w0), rets, r)?;
        self.next(exc)
    }
}
