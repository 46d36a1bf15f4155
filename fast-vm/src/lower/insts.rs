//! One Mu instruction at a time: the dispatch from each instruction to its
//! lowering (arithmetic, memory, calls and control have their own rooms).

use super::*;

impl Cx<'_, '_> {
    pub(super) fn inst(&mut self, op: &Op, r: &[u32]) -> Result<(), NotCompiled> {
        match op {
            Op::BinOp { op, ty, a, b, exc } => {
                let (a, b) = (self.val(*a)?, self.val(*b)?);
                let v = self.binop(*op, *ty, a, b, exc)?;
                self.set(r, 0, v);
                self.next(exc)?;
            }
            Op::Cmp { op, ty, a, b } => {
                let (a, b) = (self.val(*a)?, self.val(*b)?);
                let v = self.cmp(*op, *ty, a, b);
                self.set(r, 0, v);
            }
            Op::Conv { op, from, to, x } => {
                let x = self.val(*x)?;
                let v = self.conv(*op, *from, *to, x)?;
                self.set(r, 0, v);
            }
            Op::Select { cond, a, b } => {
                let c = self.val(*cond)?;
                let (a, b) = (self.flat(*a)?, self.flat(*b)?);
                let vs: Vec<Value> = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| self.b.ins().select(c, *x, *y))
                    .collect();
                let t = self.slot_type(r)?;
                self.set_flat(r, 0, t, vs);
            }
            Op::Branch(d) => {
                if self.duplicable(d.block) {
                    self.duplicate(d)?;
                } else {
                    self.jump(d, None)?;
                }
            }
            Op::Branch2 { cond, t, f } => {
                let c = self.val(*cond)?;
                let ta = self.dest_args(t, None)?;
                let fa = self.dest_args(f, None)?;
                let (tb, fb) = (self.blocks[t.block as usize], self.blocks[f.block as usize]);
                self.b.ins().brif(c, tb, &bargs(&ta), fb, &bargs(&fa));
            }
            Op::Switch { x, default, cases } => self.switch(*x, default, cases)?,
            Op::WpBranch { wpid, dis, ena } => {
                let on = self.watch_enabled(*wpid);
                let da = self.dest_args(dis, None)?;
                let ea = self.dest_args(ena, None)?;
                let (db, eb) = (
                    self.blocks[dis.block as usize],
                    self.blocks[ena.block as usize],
                );
                self.b.ins().brif(on, eb, &bargs(&ea), db, &bargs(&da));
            }
            Op::Call {
                sig,
                callee,
                args,
                exc,
            } => self.call(*sig, *callee, args, exc, r)?,
            Op::TailCall { sig, callee, args } => {
                // The callee takes this frame's place, at its depth.
                let mut argv = vec![self.ctx, self.depth];
                argv.extend(self.vals(args)?);
                self.leave();
                match callee {
                    Operand::Func(f) if !self.env.client => {
                        let fr = self.func_ref(*f);
                        self.b.ins().return_call(fr, &argv);
                    }
                    other => {
                        let fp = self.callee_code(*other)?;
                        let s = mu_signature(self.types(), *sig)
                            .ok_or_else(|| unsupported("an aggregate signature"))?;
                        let sr = self.b.import_signature(s);
                        self.b.ins().return_call_indirect(sr, fp, &argv);
                    }
                }
            }
            Op::Ret(vs) => {
                let mut vals = self.vals(vs)?;
                // Under accumulator recursion elimination the result is acc + v.
                if let (Some(acc), [v]) = (self.acc.clone(), &vals[..]) {
                    vals = vec![self.binop(BinOp::Add, acc.ty, acc.acc, *v, &None)?];
                }
                let mut first = None;
                for (i, v) in vals.into_iter().enumerate() {
                    let w = self.widen(v);
                    if i == 0 {
                        first = Some(w);
                    } else {
                        self.store_ctx(w, offsets::RET + 8 * i as i32);
                    }
                }
                self.leave();
                let s = self.b.ins().iconst(I32, i64::from(NORMAL));
                match first {
                    Some(w) => {
                        self.b.ins().return_(&[s, w]);
                    }
                    None => self.return_status(s),
                }
            }
            Op::Throw(x) => {
                let e = self.val(*x)?;
                self.leave();
                self.store_ctx(e, offsets::EXC);
                let s = self.b.ins().iconst(I32, i64::from(EXCEPTION));
                self.return_status(s);
            }
            Op::New { ty, exc } => {
                let size = layout::alloc_size(self.types(), *ty, 0);
                self.alloc_fixed(size, *ty, exc, r)?;
            }
            Op::Alloca { ty, exc } => {
                let size = layout::alloc_size(self.types(), *ty, 0);
                self.alloc_fixed(size, *ty, exc, r)?;
            }
            Op::NewHybrid {
                ty,
                len_ty,
                len,
                exc,
            }
            | Op::AllocaHybrid {
                ty,
                len_ty,
                len,
                exc,
            } => {
                let Type::Hybrid(fs, v) = self.types().get(*ty).clone() else {
                    return Err(unsupported("a hybrid"));
                };
                let (l0, var_off) = layout::hybrid_layout(self.types(), &fs, v, 0);
                let vs = layout::layout(self.types(), v).size.max(1);
                let n = self.val(*len)?;
                let n = if self.width(*len_ty) < 64 {
                    self.b.ins().uextend(I64, n)
                } else {
                    n
                };
                // A length whose size does not fit in 64 bits cannot be allocated.
                let limit = (u64::MAX - var_off - l0.align) / vs;
                let huge = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::UnsignedGreaterThan, n, limit as i64);
                self.fail_if(huge, exc, StopCode::Alloc)?;
                let bytes = self.b.ins().imul_imm_s(n, vs as i64);
                let end = self
                    .b
                    .ins()
                    .iadd_imm_s(bytes, (var_off + l0.align - 1) as i64);
                let size = self.b.ins().band_imm_s(end, -(l0.align as i64));
                self.alloc(size, *ty, n, exc, r)?;
            }
            Op::GetIRef { x } => {
                let v = self.val(*x)?;
                self.set(r, 0, v);
            }
            Op::GetFieldIRef { ty, index, x, .. } => {
                let fs = match self.types().get(*ty) {
                    Type::Struct(fs) | Type::Hybrid(fs, _) => fs.clone(),
                    _ => return Err(unsupported("GETFIELDIREF of this type")),
                };
                let off = layout::field_offset(self.types(), &fs, *index as usize);
                let x = self.val(*x)?;
                let v = self.b.ins().iadd_imm_s(x, off as i64);
                self.set(r, 0, v);
            }
            Op::GetElemIRef {
                ty,
                index_ty,
                x,
                index,
                ..
            } => {
                let Type::Array(e, _) = *self.types().get(*ty) else {
                    return Err(unsupported("GETELEMIREF"));
                };
                let size = layout::layout(self.types(), e).size;
                let v = self.index(*x, *index, *index_ty, size)?;
                self.set(r, 0, v);
            }
            Op::ShiftIRef {
                ty, off_ty, x, off, ..
            } => {
                let size = layout::layout(self.types(), *ty).size;
                let v = self.index(*x, *off, *off_ty, size)?;
                self.set(r, 0, v);
            }
            Op::GetVarPartIRef { ty, x, .. } => {
                let Type::Hybrid(fs, v) = self.types().get(*ty).clone() else {
                    return Err(unsupported("a hybrid"));
                };
                let (_, var_off) = layout::hybrid_layout(self.types(), &fs, v, 0);
                let x = self.val(*x)?;
                let v = self.b.ins().iadd_imm_s(x, var_off as i64);
                self.set(r, 0, v);
            }
            Op::Load {
                ptr, ty, loc, exc, ..
            } => {
                let ls =
                    leaves(self.types(), *ty).ok_or_else(|| unsupported("a load of this type"))?;
                let addr = self.address(*ptr, *loc, exc)?;
                let vs: Vec<Value> = ls
                    .iter()
                    .map(|(off, t)| {
                        self.b.ins().load(
                            *t,
                            MemFlagsData::new(),
                            addr,
                            i32::try_from(*off).unwrap_or(0),
                        )
                    })
                    .collect();
                let t = match self.types().get(*ty) {
                    Type::WeakRef(_) => self.slot_type(r)?,
                    _ => *ty,
                };
                self.set_flat(r, 0, t, vs);
                self.next(exc)?;
            }
            Op::Store {
                ptr,
                ty,
                loc,
                v,
                exc,
                ..
            } => {
                let ls =
                    leaves(self.types(), *ty).ok_or_else(|| unsupported("a store of this type"))?;
                let addr = self.address(*ptr, *loc, exc)?;
                let vs = self.flat(*v)?;
                for ((off, _), v) in ls.iter().zip(vs) {
                    self.b.ins().store(
                        MemFlagsData::new(),
                        v,
                        addr,
                        i32::try_from(*off).unwrap_or(0),
                    );
                }
                self.next(exc)?;
            }
            Op::CmpXchg {
                ptr,
                ty,
                loc,
                expected,
                desired,
                exc,
            } => {
                let t = cl_type(self.types(), *ty)
                    .ok_or_else(|| unsupported("CMPXCHG of an aggregate"))?;
                let addr = self.address(*ptr, *loc, exc)?;
                let (e, d) = (self.val(*expected)?, self.val(*desired)?);
                let old = self.b.ins().load(t, MemFlagsData::new(), addr, 0);
                let eq = self.b.ins().icmp(IntCC::Equal, old, e);
                let new = self.b.ins().select(eq, d, old);
                self.b.ins().store(MemFlagsData::new(), new, addr, 0);
                self.set(r, 0, old);
                self.set(r, 1, eq);
                self.next(exc)?;
            }
            Op::AtomicRmw {
                ptr,
                op,
                ty,
                loc,
                v,
                exc,
            } => {
                let t = cl_type(self.types(), *ty)
                    .ok_or_else(|| unsupported("ATOMICRMW of an aggregate"))?;
                let n = self.width(*ty);
                let addr = self.address(*ptr, *loc, exc)?;
                let v = self.val(*v)?;
                let old = self.b.ins().load(t, MemFlagsData::new(), addr, 0);
                let new = match op {
                    RmwOp::Xchg => v,
                    RmwOp::Add => self.b.ins().iadd(old, v),
                    RmwOp::Sub => self.b.ins().isub(old, v),
                    RmwOp::And => self.b.ins().band(old, v),
                    RmwOp::Nand => {
                        let a = self.b.ins().band(old, v);
                        self.b.ins().bnot(a)
                    }
                    RmwOp::Or => self.b.ins().bor(old, v),
                    RmwOp::Xor => self.b.ins().bxor(old, v),
                    RmwOp::Max | RmwOp::Min => {
                        let (so, sv) = (self.sview(old, n), self.sview(v, n));
                        let cc = if *op == RmwOp::Max {
                            IntCC::SignedGreaterThanOrEqual
                        } else {
                            IntCC::SignedLessThanOrEqual
                        };
                        let keep = self.b.ins().icmp(cc, so, sv);
                        self.b.ins().select(keep, old, v)
                    }
                    RmwOp::Umax => self.b.ins().umax(old, v),
                    RmwOp::Umin => self.b.ins().umin(old, v),
                };
                let new = self.norm(new, n);
                self.b.ins().store(MemFlagsData::new(), new, addr, 0);
                self.set(r, 0, old);
                self.next(exc)?;
            }
            Op::Fence => {}
            Op::Trap {
                name,
                tys: results,
                exc,
                keepalive,
                watch,
            } => {
                if let Some(w) = watch {
                    // Disabled, to `dis`; enabled, a TRAP that goes on to `ena`.
                    let on = self.watch_enabled(w.wpid);
                    let trap = self.b.create_block();
                    let da = self.dest_args(&w.dis, None)?;
                    let db = self.blocks[w.dis.block as usize];
                    self.b.ins().brif(on, trap, &[], db, &bargs(&da));
                    self.b.switch_to_block(trap);
                    self.b.set_cold_block(trap);
                }
                let body = self
                    .func
                    .body
                    .as_ref()
                    .ok_or_else(|| unsupported("a body"))?;
                use spec_model::outcome::{IRefBase, OutValue};
                let module = self.env.module;
                let mut tys = Vec::new();
                let mut k = 0;
                for o in keepalive {
                    let t = match o {
                        Operand::Local(s) => body.slot_types[*s as usize],
                        Operand::Const(c) => module.consts[*c as usize].ty,
                        Operand::Global(g) => {
                            let name = module.globals[*g as usize].name.as_str().to_string();
                            tys.push(Kept::Known(OutValue::IRef(Some((
                                IRefBase::Global(name),
                                0,
                            )))));
                            continue;
                        }
                        Operand::Func(f) => {
                            let name = module.funcs[*f as usize].name.as_str().to_string();
                            tys.push(Kept::Known(OutValue::FuncRef(Some(name))));
                            continue;
                        }
                        Operand::Expose(e) => {
                            let f = module.exposes[*e as usize].func;
                            let name = module.funcs[f as usize].name.as_str().to_string();
                            tys.push(Kept::Known(OutValue::Exposed(name)));
                            continue;
                        }
                    };
                    tys.push(Kept::Words(t));
                    for v in self.flat(*o)? {
                        if k >= crate::runtime::RET_SLOTS {
                            return Err(unsupported("this many KEEPALIVE values"));
                        }
                        let w = self.widen(v);
                        self.store_ctx(w, offsets::RET + 8 * k as i32);
                        k += 1;
                    }
                }
                let index = self.env.traps.len() as i64;
                let ids = [
                    module.id_of(self.func.name.as_str()).unwrap_or(0),
                    module.id_of(body.version.as_str()).unwrap_or(0),
                    self.inst_id,
                ];
                self.env.traps.push(TrapInfo {
                    name: name.as_str().to_string(),
                    values: tys,
                    results: results.clone(),
                    ids,
                    watch: watch.is_some(),
                });
                // The client's handler runs in the runtime (`rt_trap`) and answers
                // with a status: resume (the results in the return words), throw
                // (the exception in the context), or stop.
                let live = self.spill()?;
                self.mark(Site::Trap);
                let trap = self.import(self.env.rt.trap);
                let index = self.b.ins().iconst(I64, index);
                let call = self.b.ins().call(trap, &[self.ctx, index]);
                let status = self.b.inst_results(call)[0];
                self.reload(&live);
                self.after_status(status, None, results, exc, r)?;
                if let (Some(w), None) = (watch, exc) {
                    // Without WPEXC: resumed, on to `ena` with the results.
                    self.jump(&w.ena, None)?;
                }
            }
            Op::CommInst(CommInst::ThreadExit) => self.stop(StopCode::ThreadExit, 0),
            Op::NewThread {
                stack,
                threadlocal,
                bind,
                exc,
            } => self.new_thread(*stack, *threadlocal, bind, exc, r)?,
            Op::CommInst(CommInst::GetThreadLocal) => {
                let rt = self.import(self.env.rt.get_threadlocal);
                let call = self.b.ins().call(rt, &[self.ctx]);
                let v = self.b.inst_results(call)[0];
                self.set(r, 0, v);
            }
            Op::CommInst(CommInst::SetThreadLocal(x)) => {
                let v = self.val(*x)?;
                let rt = self.import(self.env.rt.set_threadlocal);
                self.b.ins().call(rt, &[self.ctx, v]);
            }
            Op::CommInst(CommInst::FutexWait {
                ty,
                loc,
                val,
                timeout,
            }) => {
                let l = self.val(*loc)?;
                let v = self.val(*val)?;
                let v = self.widen(v);
                let w = i64::from(self.width(*ty));
                let bits = self.b.ins().iconst(I64, w);
                let t = match timeout {
                    Some(t) => self.val(*t)?,
                    None => self.b.ins().iconst(I64, -1),
                };
                // Other threads run meanwhile: a safepoint.
                let live = self.spill()?;
                let rt = self.import(self.env.rt.futex_wait);
                let call = self.b.ins().call(rt, &[self.ctx, l, v, bits, t]);
                let res = self.b.inst_results(call)[0];
                self.reload(&live);
                self.set(r, 0, res);
            }
            Op::CommInst(CommInst::FutexWake { loc, n, .. }) => {
                let l = self.val(*loc)?;
                let n = self.val(*n)?;
                let n = self.widen(n);
                let rt = self.import(self.env.rt.futex_wake);
                let call = self.b.ins().call(rt, &[self.ctx, l, n]);
                let res = self.b.inst_results(call)[0];
                self.set(r, 0, res);
            }
            Op::CommInst(CommInst::FutexRequeue {
                ty,
                src,
                dst,
                expected,
                n,
            }) => {
                let s = self.val(*src)?;
                let d = self.val(*dst)?;
                let e = self.val(*expected)?;
                let e = self.widen(e);
                let n = self.val(*n)?;
                let n = self.widen(n);
                let w = i64::from(self.width(*ty));
                let bits = self.b.ins().iconst(I64, w);
                let rt = self.import(self.env.rt.futex_requeue);
                let call = self.b.ins().call(rt, &[self.ctx, s, d, e, bits, n]);
                let res = self.b.inst_results(call)[0];
                self.set(r, 0, res);
            }

            Op::NewStack { func, exc, .. } => {
                let f = self.val(*func)?;
                let nonnull = self.b.ins().icmp_imm_s(IntCC::NotEqual, f, 0);
                self.check_or_stop(nonnull, StopCode::NullCall);
                let rt = self.import(self.env.rt.new_stack);
                let call = self.b.ins().call(rt, &[self.ctx, f]);
                let s = self.b.inst_results(call)[0];
                // `stack.new-exhausted`: 0.
                let none = self.b.ins().icmp_imm_s(IntCC::Equal, s, 0);
                self.fail_if(none, exc, StopCode::Stack)?;
                self.set(r, 0, s);
                self.next(exc)?;
            }
            Op::CommInst(CommInst::CurrentStack) => {
                let rt = self.import(self.env.rt.current_stack);
                let call = self.b.ins().call(rt, &[self.ctx]);
                let s = self.b.inst_results(call)[0];
                self.set(r, 0, s);
            }
            Op::CommInst(CommInst::KillStack(x)) => {
                let s = self.val(*x)?;
                let rt = self.import(self.env.rt.kill_stack);
                let call = self.b.ins().call(rt, &[self.ctx, s]);
                let status = self.b.inst_results(call)[0];
                self.after_status(status, None, &[], &None, &[])?;
            }
            Op::SwapStack {
                swappee,
                ret_with,
                bind,
                exc,
                ..
            } => self.swapstack(*swappee, ret_with.as_deref(), bind, exc, r)?,
            Op::CommInst(CommInst::Pin { x, .. }) => {
                let x = self.val(*x)?;
                let pin = self.import(self.env.rt.pin);
                let c = self.b.ins().call(pin, &[self.ctx, x]);
                let v = self.b.inst_results(c)[0];
                self.set(r, 0, v);
            }
            Op::CommInst(CommInst::Unpin { x, .. }) => {
                let x = self.val(*x)?;
                let unpin = self.import(self.env.rt.unpin);
                self.b.ins().call(unpin, &[self.ctx, x]);
            }
            Op::CommInst(CommInst::GetCookie) => {
                // The cookie if native code called this very frame, else 0.
                let at = self.load_ctx(I64, offsets::COOKIE_DEPTH);
                let cookie = self.load_ctx(I64, offsets::COOKIE);
                let here = self.b.ins().icmp(IntCC::Equal, self.depth, at);
                let z = self.b.ins().iconst(I64, 0);
                let v = self.b.ins().select(here, cookie, z);
                self.set(r, 0, v);
            }
            Op::CommInst(CommInst::Expose { f, cookie, .. }) => {
                let fv = self.val(*f)?;
                let nonnull = self.b.ins().icmp_imm_s(IntCC::NotEqual, fv, 0);
                self.check_or_stop(nonnull, StopCode::NullCall);
                let c = self.val(*cookie)?;
                let rt_expose = self.import(self.env.rt.expose);
                let call = self.b.ins().call(rt_expose, &[self.ctx, fv, c]);
                let addr = self.b.inst_results(call)[0];
                let ok = self.b.ins().icmp_imm_s(IntCC::NotEqual, addr, 0);
                self.check_or_stop(ok, StopCode::Unsupported);
                self.set(r, 0, addr);
            }
            Op::CommInst(CommInst::Unexpose { p }) => {
                let pv = self.val(*p)?;
                let rt_unexpose = self.import(self.env.rt.unexpose);
                let call = self.b.ins().call(rt_unexpose, &[self.ctx, pv]);
                let unknown = self.b.inst_results(call)[0];
                let ok = self.b.ins().icmp_imm_s(IntCC::Equal, unknown, 0);
                self.check_or_stop(ok, StopCode::UnexposeUnknown);
            }
            Op::CCall {
                sig,
                callee,
                args,
                exc,
            } => self.ccall(*sig, *callee, args, exc, r)?,
            Op::ExtractValue { ty, index, x } => {
                let ranges = self.field_ranges(*ty)?;
                let all = self.flat(*x)?;
                let part = all[ranges[*index as usize].clone()].to_vec();
                let Type::Struct(fs) = self.types().get(*ty) else {
                    return Err(unsupported("EXTRACTVALUE"));
                };
                let ft = fs[*index as usize];
                self.set_flat(r, 0, ft, part);
            }
            Op::InsertValue { ty, index, x, v } => {
                let ranges = self.field_ranges(*ty)?;
                let mut all = self.flat(*x)?;
                let new = self.flat(*v)?;
                all.splice(ranges[*index as usize].clone(), new);
                self.set_flat(r, 0, *ty, all);
            }
        }
        Ok(())
    }

    /// SWITCH: the cases whose values are below [`TABLE`] through one jump table,
    /// as C compilers do, and the others compared one by one first.
    pub(super) fn switch(
        &mut self,
        x: Operand,
        default: &Dest,
        cases: &[(Operand, Dest)],
    ) -> Result<(), NotCompiled> {
        /// Case values below this go through the jump table.
        const TABLE: u64 = 64;
        let module = self.env.module;
        let xv = self.val(x)?;
        let value = |k: &Operand| match k {
            Operand::Const(c) => match module.consts[*c as usize].value {
                ConstValue::Int(b) => Some(b),
                _ => None,
            },
            _ => None,
        };
        let mut table: Vec<(u64, &Dest)> = Vec::new();
        for (k, d) in cases {
            match value(k) {
                Some(v) if v < TABLE => table.push((v, d)),
                _ => {
                    let k = self.val(*k)?;
                    let eq = self.b.ins().icmp(IntCC::Equal, xv, k);
                    let args = self.dest_args(d, None)?;
                    let next = self.b.create_block();
                    let target = self.blocks[d.block as usize];
                    self.b.ins().brif(eq, target, &bargs(&args), next, &[]);
                    self.b.switch_to_block(next);
                }
            }
        }
        if table.is_empty() {
            return self.jump(default, None);
        }
        let n = table.iter().map(|(v, _)| *v).max().unwrap_or(0) + 1;
        let call = |cx: &mut Self, d: &Dest| -> Result<_, NotCompiled> {
            let args = cx.dest_args(d, None)?;
            let target = cx.blocks[d.block as usize];
            Ok(cx.b.func.dfg.block_call(target, &bargs(&args)))
        };
        // Each entry its own block call: Cranelift rewrites each one's arguments,
        // so entries must not share one.
        let def = call(self, default)?;
        let mut entries = Vec::with_capacity(n as usize);
        for v in 0..n {
            let d = table
                .iter()
                .find(|(k, _)| *k == v)
                .map_or(default, |(_, d)| *d);
            entries.push(call(self, d)?);
        }
        let jt = self
            .b
            .create_jump_table(cranelift_codegen::ir::JumpTableData::new(def, &entries));
        // Values past the table take the default entry.
        let in_range = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThan, xv, n as i64);
        let idx = match self.b.func.dfg.value_type(xv) {
            I64 => self.b.ins().ireduce(I32, xv),
            I32 => xv,
            _ => self.b.ins().uextend(I32, xv),
        };
        let past = self.b.ins().iconst(I32, n as i64);
        let idx = self.b.ins().select(in_range, idx, past);
        self.b.ins().br_table(idx, jt);
        Ok(())
    }
}
