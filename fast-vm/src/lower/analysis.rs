//! The analyses lowering uses: which self-calls become an accumulator loop,
//! which callees have a base case the caller can answer, the operands each
//! instruction uses, the references live after each instruction, and the slots
//! that are never NULL.

use super::*;

/// A function `f` whose blocks may end `%r1 = CALL @f (…); %r = ADD %x %r1; RET %r`
/// is compiled as a loop: such a tail jumps back to the head with `acc + x`, and
/// every `RET v` returns `acc + v` (ADD wraps, so it is associative and
/// commutative, and the result is exactly the recursion's). The head carries the
/// call depth, so the stack budget runs out exactly where the calls would have.
#[derive(Clone, Debug)]
pub(super) struct Accumulator {
    pub(super) head: Block,
    pub(super) acc: Value,
    pub(super) ty: TypeId,
    pub(super) sites: Vec<usize>,
}

/// Where a base case's operand comes from: a parameter of the callee (by index) or
/// a constant.
#[derive(Clone, Copy, Debug)]
pub(super) enum Src {
    Param(usize),
    Const(u32),
}

/// A callee whose entry block is `%c = CMP a b; BRANCH2 %c …` where one target is a
/// block that only returns a parameter or a constant: the caller can make the test
/// and, in the base case, have the answer without a call.
#[derive(Clone, Copy, Debug)]
pub(super) struct BaseCase {
    pub(super) op: CmpOp,
    pub(super) ty: TypeId,
    pub(super) a: Src,
    pub(super) b: Src,
    /// The base case is taken when the comparison holds.
    pub(super) on_true: bool,
    pub(super) ret: Src,
}

pub(super) fn base_case(module: &Module, g: u32) -> Option<BaseCase> {
    let f = module.funcs.get(g as usize)?;
    let body = f.body.as_ref()?;
    let types = &module.types;
    let sig = types.sig(f.sig);
    let scalar = |t: &TypeId| cl_type(types, *t).is_some() && types.int_width(*t).is_some();
    if sig.rets.len() != 1 || !scalar(&sig.rets[0]) || !sig.params.iter().all(scalar) {
        return None;
    }
    let entry = body.blocks.first()?;
    let [cmp, br] = &entry.insts[..] else {
        return None;
    };
    let (Op::Cmp { op, ty, a, b }, Op::Branch2 { cond, t, f: fd }) = (&cmp.op, &br.op) else {
        return None;
    };
    if *cond != Operand::Local(*cmp.results.first()?) || types.int_width(*ty).is_none() {
        return None;
    }
    let in_entry = |o: &Operand| match o {
        Operand::Local(s) => entry.params.iter().position(|p| p == s).map(Src::Param),
        Operand::Const(k) => Some(Src::Const(*k)),
        _ => None,
    };
    let (a, b) = (in_entry(a)?, in_entry(b)?);
    [(t, true), (fd, false)]
        .into_iter()
        .find_map(|(d, on_true)| {
            let blk = body.blocks.get(d.block as usize)?;
            let ([ret], None) = (&blk.insts[..], blk.exc_param) else {
                return None;
            };
            let Op::Ret(vs) = &ret.op else { return None };
            let [v] = &vs[..] else { return None };
            let ret = match v {
                Operand::Local(s) => {
                    let j = blk.params.iter().position(|p| p == s)?;
                    in_entry(d.args.get(j)?)?
                }
                Operand::Const(k) => Src::Const(*k),
                _ => return None,
            };
            Some(BaseCase {
                op: *op,
                ty: *ty,
                a,
                b,
                on_true,
                ret,
            })
        })
}

/// The blocks of `func` whose last three instructions are a self-call without an
/// exception clause, an ADD of its result and something computed before, and a
/// RET of that sum, in a function with one integer result.
pub(super) fn accumulator_sites(module: &Module, func: &Func) -> Vec<usize> {
    let Some(body) = &func.body else {
        return Vec::new();
    };
    let types = &module.types;
    let rets = &types.sig(func.sig).rets;
    if rets.len() != 1 || types.int_width(rets[0]).is_none() {
        return Vec::new();
    }
    let me = module.funcs.iter().position(|f| std::ptr::eq(f, func));
    body.blocks
        .iter()
        .enumerate()
        .filter(|(_, blk)| {
            let [.., call, add, ret] = &blk.insts[..] else {
                return false;
            };
            let Op::Call {
                callee: Operand::Func(g),
                exc: None,
                ..
            } = &call.op
            else {
                return false;
            };
            let Op::BinOp {
                op: BinOp::Add,
                ty,
                a,
                b,
                exc: None,
            } = &add.op
            else {
                return false;
            };
            let [r1] = call.results[..] else {
                return false;
            };
            let [sum] = add.results[..] else {
                return false;
            };
            let uses_r1 = |o: &Operand| *o == Operand::Local(r1);
            Some(*g as usize) == me
                && types.same(*ty, rets[0])
                && (uses_r1(a) != uses_r1(b))
                && matches!(&ret.op, Op::Ret(vs) if vs[..] == [Operand::Local(sum)])
        })
        .map(|(i, _)| i)
        .collect()
}

/// The operands an instruction's destinations pass (used after it runs).
pub(super) fn dest_uses(op: &Op) -> Vec<Operand> {
    let mut out = Vec::new();
    match op {
        Op::Branch(d) => out.extend(&d.args),
        Op::Branch2 { t, f, .. } => {
            out.extend(&t.args);
            out.extend(&f.args);
        }
        Op::Switch { default, cases, .. } => {
            out.extend(&default.args);
            for (_, d) in cases {
                out.extend(&d.args);
            }
        }
        Op::WpBranch { dis, ena, .. } => {
            out.extend(&dis.args);
            out.extend(&ena.args);
        }
        Op::Trap {
            watch: Some(w),
            exc,
            ..
        } => {
            out.extend(&w.dis.args);
            out.extend(&w.ena.args);
            if let Some(e) = exc {
                out.extend(&e.exc.args);
            }
        }
        _ => {
            if let Some(e) = op.exc() {
                out.extend(&e.nor.args);
                out.extend(&e.exc.args);
            }
        }
    }
    out
}

/// Every operand an instruction reads, its destinations' arguments included.
pub(crate) fn uses(op: &Op) -> Vec<Operand> {
    let mut out = dest_uses(op);
    match op {
        Op::BinOp { a, b, .. } | Op::Cmp { a, b, .. } => out.extend([*a, *b]),
        Op::Conv { x, .. }
        | Op::GetIRef { x }
        | Op::GetFieldIRef { x, .. }
        | Op::GetVarPartIRef { x, .. } => out.push(*x),
        Op::ExtractValue { x, .. } => out.push(*x),
        Op::InsertValue { x, v, .. } => out.extend([*x, *v]),
        Op::Select { cond, a, b } => out.extend([*cond, *a, *b]),
        Op::Branch2 { cond, .. } => out.push(*cond),
        Op::Switch { x, cases, .. } => {
            out.push(*x);
            out.extend(cases.iter().map(|(k, _)| *k));
        }
        Op::Call { callee, args, .. }
        | Op::TailCall { callee, args, .. }
        | Op::CCall { callee, args, .. } => {
            out.push(*callee);
            out.extend(args);
        }
        Op::Ret(vs) => out.extend(vs),
        Op::Throw(x) => out.push(*x),
        Op::NewHybrid { len, .. } | Op::AllocaHybrid { len, .. } => out.push(*len),
        Op::GetElemIRef { x, index, .. } => out.extend([*x, *index]),
        Op::ShiftIRef { x, off, .. } => out.extend([*x, *off]),
        Op::Load { loc, .. } => out.push(*loc),
        Op::Store { loc, v, .. } | Op::AtomicRmw { loc, v, .. } => out.extend([*loc, *v]),
        Op::CmpXchg {
            loc,
            expected,
            desired,
            ..
        } => out.extend([*loc, *expected, *desired]),
        Op::Trap { keepalive, .. } => out.extend(keepalive),
        Op::CommInst(c) => match c {
            CommInst::Pin { x, .. } | CommInst::Unpin { x, .. } => out.push(*x),
            CommInst::Expose { f, cookie, .. } => out.extend([*f, *cookie]),
            CommInst::Unexpose { p } | CommInst::KillStack(p) | CommInst::SetThreadLocal(p) => {
                out.push(*p)
            }
            CommInst::ThreadExit
            | CommInst::GetCookie
            | CommInst::CurrentStack
            | CommInst::GetThreadLocal => {}
            CommInst::FutexWait {
                loc, val, timeout, ..
            } => {
                out.extend([*loc, *val]);
                out.extend(timeout);
            }
            CommInst::FutexWake { loc, n, .. } => out.extend([*loc, *n]),
            CommInst::FutexRequeue {
                src,
                dst,
                expected,
                n,
                ..
            } => out.extend([*src, *dst, *expected, *n]),
        },
        Op::NewThread {
            stack,
            threadlocal,
            bind,
            ..
        } => {
            out.push(*stack);
            out.extend(threadlocal);
            match bind {
                spec_model::ir::Bind::Values(_, vs) => out.extend(vs),
                spec_model::ir::Bind::Throw(e) => out.push(*e),
            }
        }
        Op::NewStack { func, .. } => out.push(*func),
        Op::SwapStack {
            swappee,
            bind,
            keepalive,
            ..
        } => {
            out.push(*swappee);
            match bind {
                spec_model::ir::Bind::Values(_, vs) => out.extend(vs),
                spec_model::ir::Bind::Throw(e) => out.push(*e),
            }
            out.extend(keepalive);
        }
        Op::New { .. } | Op::Alloca { .. } | Op::Branch(_) | Op::Fence | Op::WpBranch { .. } => {}
    }
    out
}

/// For each instruction of a block, the reference values (frame slots) still needed
/// after it: what a safepoint there must keep for the collector to update.
pub fn live_refs(
    types: &Types,
    body: &spec_model::ir::Body,
    block: &spec_model::ir::Block,
) -> Vec<Vec<u32>> {
    let mut memo: Vec<Option<bool>> = vec![None; body.slot_types.len()];
    let mut is_ref = |s: u32| {
        *memo[s as usize]
            .get_or_insert_with(|| !ref_leaves(types, body.slot_types[s as usize]).is_empty())
    };
    let n = block.insts.len();
    let mut out = vec![Vec::new(); n];
    let mut later: Vec<u32> = Vec::new();
    for i in (0..n).rev() {
        let inst = &block.insts[i];
        let mut live: Vec<u32> = later.clone();
        for o in dest_uses(&inst.op) {
            if let Operand::Local(s) = o
                && is_ref(s)
                && !live.contains(&s)
            {
                live.push(s);
            }
        }
        live.retain(|s| !inst.results.contains(s));
        live.sort_unstable();
        out[i] = live;
        for o in uses(&inst.op) {
            if let Operand::Local(s) = o
                && is_ref(s)
                && !later.contains(&s)
            {
                later.push(s);
            }
        }
        later.retain(|s| !inst.results.contains(s));
    }
    out
}

/// The frame slots whose reference is never NULL: results of allocations and
/// addressing of such a reference, and block parameters every incoming argument of
/// which is never NULL (an optimistic fixpoint, so loops keep the fact). A LOAD or
/// STORE through one needs no NULL check.
pub fn non_null(body: &spec_model::ir::Body) -> std::collections::HashSet<u32> {
    use std::collections::HashSet;
    let mut set: HashSet<u32> = HashSet::new();
    // Optimistically, every normal block parameter.
    for b in &body.blocks {
        set.extend(&b.params);
    }
    loop {
        let mut next: HashSet<u32> = set
            .iter()
            .filter(|s| body.blocks.iter().any(|b| b.params.contains(s)))
            .copied()
            .collect();
        let known = |o: &Operand, set: &HashSet<u32>| match o {
            Operand::Local(s) => set.contains(s),
            Operand::Global(_) => true,
            _ => false,
        };
        for b in &body.blocks {
            for i in &b.insts {
                let r0 = i.results.first().copied();
                let derived = match &i.op {
                    Op::New { .. }
                    | Op::NewHybrid { .. }
                    | Op::Alloca { .. }
                    | Op::AllocaHybrid { .. } => true,
                    Op::GetIRef { x }
                    | Op::GetFieldIRef { ptr: false, x, .. }
                    | Op::GetElemIRef { ptr: false, x, .. }
                    | Op::ShiftIRef { ptr: false, x, .. }
                    | Op::GetVarPartIRef { ptr: false, x, .. } => known(x, &next) || known(x, &set),
                    _ => false,
                };
                if let (true, Some(r)) = (derived, r0) {
                    next.insert(r);
                }
            }
        }
        // A parameter stays only if every jump to its block passes a known value.
        for b in &body.blocks {
            for i in &b.insts {
                let dests: Vec<&Dest> = match &i.op {
                    Op::Branch(d) => vec![d],
                    Op::Branch2 { t, f, .. } => vec![t, f],
                    Op::Switch { default, cases, .. } => std::iter::once(default)
                        .chain(cases.iter().map(|(_, d)| d))
                        .collect(),
                    Op::WpBranch { dis, ena, .. } => vec![dis, ena],
                    // `ena` is also the `nor` of a WPEXC clause: once is enough.
                    Op::Trap {
                        watch: Some(w),
                        exc,
                        ..
                    } => {
                        if exc.is_some() {
                            vec![&w.dis]
                        } else {
                            vec![&w.dis, &w.ena]
                        }
                    }
                    _ => Vec::new(),
                }
                .into_iter()
                .chain(i.op.exc().map(|e| &e.nor))
                .collect();
                for d in dests {
                    let target = &body.blocks[d.block as usize];
                    for (p, a) in target.params.iter().zip(&d.args) {
                        if !known(a, &next) {
                            next.remove(p);
                        }
                    }
                }
                if let Some(e) = i.op.exc() {
                    let target = &body.blocks[e.exc.block as usize];
                    for (p, a) in target.params.iter().zip(&e.exc.args) {
                        if !known(a, &next) {
                            next.remove(p);
                        }
                    }
                }
            }
        }
        // The entry block's parameters come from the caller: unknown.
        for p in &body.blocks[0].params {
            next.remove(p);
        }
        if next == set {
            return set;
        }
        set = next;
    }
}
