//! Checking and lowering function bodies (spec/03-verifier-errors.md, spec/04-instructions.md).

use super::{Entity, Verifier};
use crate::ir::*;
use crate::syntax::ast::{self, BinOp, CmpOp, ConvOp, Ident, InstKind, Name, RmwOp, Span};
use rustc_hash::FxHashMap as HashMap;

use super::POISON;

struct BlockSig {
    index: u32,
    params: Vec<TypeId>,
}

/// Per-function state.
struct Cx {
    rets: Vec<TypeId>,
    blocks: HashMap<Name, BlockSig>,
    /// Values in scope in the current block.
    scope: HashMap<Name, (u32, TypeId)>,
    slot_types: Vec<TypeId>,
}

impl Cx {
    fn slot(&mut self, name: &Name, t: TypeId) -> u32 {
        let s = u32::try_from(self.slot_types.len()).unwrap_or(u32::MAX);
        self.slot_types.push(t);
        self.scope.insert(name.clone(), (s, t));
        s
    }
}

fn is_terminator(op: &Op) -> bool {
    match op {
        Op::Branch(_)
        | Op::Branch2 { .. }
        | Op::Switch { .. }
        | Op::TailCall { .. }
        | Op::Ret(_)
        | Op::Throw(_)
        | Op::WpBranch { .. }
        | Op::Trap { watch: Some(_), .. }
        | Op::SwapStack { ret_with: None, .. } => true,
        Op::CommInst(CommInst::ThreadExit) => true,
        _ => op.exc().is_some(),
    }
}

/// Gives `op` its `EXC` clause, if it is a kind that may have one: among binary
/// operations only divisions, which can trap.
fn set_exc(op: &mut Op, e: Exc) -> bool {
    if let Op::BinOp { op: b, .. } = op
        && !matches!(b, BinOp::Udiv | BinOp::Sdiv | BinOp::Urem | BinOp::Srem)
    {
        return false;
    }
    match op.exc_mut() {
        Some(slot) => {
            *slot = Some(e);
            true
        }
        None => false,
    }
}

fn exc_clause(k: &InstKind) -> Option<&ast::ExcClause> {
    match k {
        InstKind::BinOp { exc, .. }
        | InstKind::Call { exc, .. }
        | InstKind::New { exc, .. }
        | InstKind::NewHybrid { exc, .. }
        | InstKind::Alloca { exc, .. }
        | InstKind::AllocaHybrid { exc, .. }
        | InstKind::Load { exc, .. }
        | InstKind::Store { exc, .. }
        | InstKind::CmpXchg { exc, .. }
        | InstKind::AtomicRmw { exc, .. }
        | InstKind::Trap { exc, .. }
        | InstKind::CCall { exc, .. }
        | InstKind::SwapStack { exc, .. }
        | InstKind::NewThread { exc, .. }
        | InstKind::CommInst { exc, .. } => exc.as_ref(),
        _ => None,
    }
}

impl Verifier {
    pub(super) fn check_func(&mut self, f: &ast::FuncDef) {
        let Some(Entity::Func(fid)) = self.names.get(&f.name.name).map(|e| e.0) else {
            return;
        };
        let sig = self.m.funcs[fid as usize].sig;
        if sig == SigId::MAX || self.m.funcs[fid as usize].unsupported.is_some() {
            // Its signature did not resolve, or is one full Mu predefines; that is
            // reported already.
            return;
        }
        let s = self.m.types.sig(sig).clone();
        let ndiags = self.diags.len();
        if !f
            .version
            .name
            .as_str()
            .starts_with(&format!("{}.", f.name.name.as_str()))
        {
            // A version written as a global name may be anything; only its uniqueness matters.
        }
        self.define(&f.version, Entity::Local);
        let mut cx = Cx {
            rets: s.rets.clone(),
            blocks: HashMap::default(),
            scope: HashMap::default(),
            slot_types: Vec::new(),
        };
        if f.blocks.is_empty() {
            self.err(
                "empty-function",
                f.name.span,
                format!("{} has no entry block", f.name.name),
            );
            return;
        }
        for (i, b) in f.blocks.iter().enumerate() {
            self.define(&b.name, Entity::Local);
            let params = b
                .params
                .iter()
                .filter_map(|(t, _)| self.type_ref(t))
                .collect();
            cx.blocks.insert(
                b.name.name.clone(),
                BlockSig {
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                    params,
                },
            );
            for (_, v) in &b.params {
                self.define(v, Entity::Local);
            }
            if let Some(e) = &b.exc_param {
                self.define(e, Entity::Local);
            }
            for inst in &b.insts {
                for r in &inst.results {
                    self.define(r, Entity::Local);
                }
                if let Some(id) = &inst.id {
                    self.define(id, Entity::Local);
                }
            }
        }
        // The entry block receives the function's arguments.
        let entry = &f.blocks[0];
        let entry_types: Vec<TypeId> = cx
            .blocks
            .get(&entry.name.name)
            .map(|b| b.params.clone())
            .unwrap_or_default();
        let same = entry_types.len() == s.params.len()
            && entry_types
                .iter()
                .zip(&s.params)
                .all(|(a, b)| self.m.types.same(*a, *b));
        if !same {
            self.err(
                "entry-params",
                entry.name.span,
                format!(
                    "the entry block's parameters must be those of {}",
                    self.m.types.show_sig(sig)
                ),
            );
        }
        if let Some(e) = &entry.exc_param {
            self.err(
                "entry-params",
                e.span,
                "the entry block has no exceptional parameter",
            );
        }
        if self.invalid_since(ndiags) {
            return;
        }
        if let Some(d) = self.diags[ndiags..].first() {
            // A block parameter's type is outside the subset.
            self.m.funcs[fid as usize].unsupported = Some(d.message.clone());
            return;
        }
        self.in_func = true;
        self.fn_unsupported = None;
        let mut blocks = Vec::new();
        for b in &f.blocks {
            blocks.push(self.check_block(&mut cx, b));
        }
        self.in_func = false;
        if let Some(why) = self.fn_unsupported.take() {
            self.m.funcs[fid as usize].unsupported = Some(why);
            return;
        }
        self.m.funcs[fid as usize].body = Some(Body {
            version: f.version.name.clone(),
            blocks,
            slots: u32::try_from(cx.slot_types.len()).unwrap_or(u32::MAX),
            slot_types: cx.slot_types,
        });
    }

    fn check_block(&mut self, cx: &mut Cx, b: &ast::Block) -> Block {
        cx.scope.clear();
        let mut params = Vec::new();
        for (t, v) in &b.params {
            if let Some(t) = self.type_ref(t) {
                self.check_value_type(t, v.span, "a block parameter");
                if matches!(self.m.types.get(t), Type::Other(_)) {
                    self.unsupported(
                        "unsupported-type",
                        v.span,
                        format!("a parameter of type {}", self.m.types.show(t)),
                    );
                }
                params.push(cx.slot(&v.name, t));
            }
        }
        let exc_param = b.exc_param.as_ref().map(|e| {
            let void = self.m.types.anon(Type::Void);
            let t = self.m.types.anon(Type::Ref(void));
            cx.slot(&e.name, t)
        });
        let mut insts = Vec::new();
        let n = b.insts.len();
        if n == 0 {
            self.err(
                "missing-terminator",
                b.name.span,
                format!("{} has no instructions", b.name.name),
            );
        }
        for (i, inst) in b.insts.iter().enumerate() {
            let Some(op) = self.check_inst(cx, inst) else {
                continue;
            };
            let term = is_terminator(&op);
            if term && i + 1 != n {
                self.err(
                    "terminator-not-last",
                    inst.span,
                    "a terminator must be the last instruction of its block",
                );
            }
            if !term && i + 1 == n {
                self.err("missing-terminator", inst.span, "the last instruction of a block must be a terminator (a branch, RET, THROW, TAILCALL or an instruction with EXC)");
            }
            let results = inst
                .results
                .iter()
                .filter_map(|r| cx.scope.get(&r.name).map(|x| x.0))
                .collect();
            let keepalive = match &inst.kind {
                ast::InstKind::Call { keepalive, .. } => {
                    self.local_values(cx, keepalive).unwrap_or_default()
                }
                _ => Vec::new(),
            };
            insts.push(Inst {
                results,
                op,
                span: inst.span,
                name: inst
                    .id
                    .as_ref()
                    .or(inst.results.first())
                    .map(|i| i.name.clone()),
                keepalive,
            });
        }
        Block {
            name: b.name.name.clone(),
            params,
            exc_param,
            insts,
        }
    }

    /// Resolves an operand in the current block.
    fn operand(&mut self, cx: &Cx, id: &Ident) -> Option<(Operand, TypeId)> {
        let (o, t) = match cx.scope.get(&id.name) {
            Some((s, t)) => (Operand::Local(*s), *t),
            None => self.global_operand(id)?,
        };
        if let Type::Other(what) = self.m.types.get(t)
            && *what != POISON
        {
            let what = *what;
            self.unsupported(
                "unsupported-type",
                id.span,
                format!("{} is a {what}, outside the subset muni executes", id.name),
            );
            return None;
        }
        Some((o, t))
    }

    /// An operand that must have type `want`.
    fn operand_of(&mut self, cx: &Cx, id: &Ident, want: TypeId) -> Option<Operand> {
        let (o, t) = self.operand(cx, id)?;
        if matches!(self.m.types.get(t), Type::Other(POISON)) {
            self.poisoned = true;
            return None;
        }
        if !self.m.types.same(t, want) {
            let (a, b) = (self.m.types.show(t), self.m.types.show(want));
            self.err(
                "type-mismatch",
                id.span,
                format!("{} has type {a}, but {b} is required here", id.name),
            );
            return None;
        }
        Some(o)
    }

    fn operands_of(
        &mut self,
        cx: &Cx,
        ids: &[Ident],
        want: &[TypeId],
        span: Span,
        what: &str,
    ) -> Option<Vec<Operand>> {
        if ids.len() != want.len() {
            self.err(
                "arity",
                span,
                format!("{what} takes {} values, {} given", want.len(), ids.len()),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (id, t) in ids.iter().zip(want) {
            match self.operand_of(cx, id, *t) {
                Some(o) => out.push(o),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn dest(&mut self, cx: &Cx, d: &ast::Dest) -> Option<Dest> {
        let Some(bs) = cx.blocks.get(&d.block.name) else {
            self.err(
                "undefined-block",
                d.block.span,
                format!("{} is not a block of this function version", d.block.name),
            );
            return None;
        };
        let (index, params) = (bs.index, bs.params.clone());
        if index == 0 {
            self.err(
                "entry-block-target",
                d.block.span,
                "the entry block cannot be a branch target",
            );
            return None;
        }
        let args = self.operands_of(
            cx,
            &d.args,
            &params,
            d.block.span,
            &format!("{}", d.block.name),
        )?;
        Some(Dest { block: index, args })
    }

    /// A type argument that must satisfy `ok`.
    fn type_arg(&mut self, id: &Ident, ok: impl Fn(&Type) -> bool, what: &str) -> Option<TypeId> {
        let t = self.type_ref(id)?;
        if let Some(o) = self.m.types.inline_other(t) {
            let what = if o == t {
                format!("{} ({})", id.name, self.m.types.show(t))
            } else {
                format!("{}, which holds {},", id.name, self.m.types.show(o))
            };
            self.unsupported(
                "unsupported-type",
                id.span,
                format!("{what} is outside the subset muni executes"),
            );
            return None;
        }
        if !ok(self.m.types.get(t)) {
            self.err(
                "bad-type-argument",
                id.span,
                format!("{} must be {what}", id.name),
            );
            return None;
        }
        Some(t)
    }

    fn local_values(&mut self, cx: &Cx, ids: &[Ident]) -> Option<Vec<Operand>> {
        let mut out = Vec::new();
        for id in ids {
            out.push(self.operand(cx, id)?.0);
        }
        Some(out)
    }

    fn check_inst(&mut self, cx: &mut Cx, inst: &ast::Inst) -> Option<Op> {
        let ndiags = self.diags.len();
        self.poisoned = false;
        let lowered = self.lower(cx, inst);
        let Some((mut op, result_types)) = lowered else {
            if self.diags.len() == ndiags && !self.poisoned && self.fn_unsupported.is_none() {
                self.err(
                    "invalid-instruction",
                    inst.span,
                    "this instruction is not well-formed",
                );
            }
            // Bind the results to the error type so that later uses do not cascade.
            let poison = self.m.types.anon(Type::Other(POISON));
            for r in &inst.results {
                cx.slot(&r.name, poison);
            }
            return None;
        };
        let exc = exc_clause(&inst.kind);
        let exc_dest = match exc {
            Some(e) => Some(self.dest(cx, &e.exc)?),
            None => None,
        };
        // A WATCHPOINT's WPEXC, which receives no results either.
        let wpexc = match &inst.kind {
            InstKind::Watchpoint { wpexc: Some(d), .. } => Some(self.dest(cx, d)?),
            _ => None,
        };
        if !inst.results.is_empty() && inst.results.len() != result_types.len() {
            self.err(
                "arity",
                inst.span,
                format!(
                    "this instruction has {} results, {} names are given",
                    result_types.len(),
                    inst.results.len()
                ),
            );
        }
        for (r, t) in inst.results.iter().zip(&result_types) {
            cx.slot(&r.name, *t);
        }
        if let (
            InstKind::Watchpoint { ena, .. },
            Op::Trap {
                watch: Some(w),
                exc,
                ..
            },
        ) = (&inst.kind, &mut op)
        {
            w.ena = self.dest(cx, ena)?;
            if let Some(x) = wpexc {
                *exc = Some(Exc {
                    nor: w.ena.clone(),
                    exc: x,
                });
            }
        }
        if let (Some(e), Some(exc_dest)) = (exc, exc_dest) {
            let nor = self.dest(cx, &e.nor)?;
            if !set_exc(&mut op, Exc { nor, exc: exc_dest }) {
                self.err(
                    "exc-not-allowed",
                    inst.span,
                    "this instruction cannot have an exception clause",
                );
                return None;
            }
        }
        Some(op)
    }

    /// Types one instruction and lowers it (without its exception clause).
    fn lower(&mut self, cx: &mut Cx, inst: &ast::Inst) -> Option<(Op, Vec<TypeId>)> {
        let i1 = self.m.types.anon(Type::Int(1));
        Some(match &inst.kind {
            InstKind::BinOp {
                op,
                flags,
                ty,
                a,
                b,
                ..
            } => {
                if let Some(f) = flags.first() {
                    self.unsupported("unsupported-flag", f.span, "binary-operation status flags");
                    return None;
                }
                let is_fp = matches!(
                    op,
                    BinOp::Fadd | BinOp::Fsub | BinOp::Fmul | BinOp::Fdiv | BinOp::Frem
                );
                let t = if is_fp {
                    self.type_arg(
                        ty,
                        |t| matches!(t, Type::Float | Type::Double),
                        "float or double",
                    )?
                } else {
                    self.type_arg(ty, |t| matches!(t, Type::Int(_)), "an int type")?
                };
                let a = self.operand_of(cx, a, t);
                let b = self.operand_of(cx, b, t);
                (
                    Op::BinOp {
                        op: *op,
                        ty: t,
                        a: a?,
                        b: b?,
                        exc: None,
                    },
                    vec![t],
                )
            }
            InstKind::Cmp { op, ty, a, b } => {
                let t = self.type_ref(ty)?;
                let types = &self.m.types;
                let ok = match op {
                    CmpOp::Eq | CmpOp::Ne => types.eq_comparable(t),
                    CmpOp::Sge | CmpOp::Sgt | CmpOp::Sle | CmpOp::Slt => {
                        types.int_width(t).is_some()
                    }
                    CmpOp::Uge | CmpOp::Ugt | CmpOp::Ule | CmpOp::Ult => types.ult_comparable(t),
                    _ => types.is_fp(t),
                };
                if matches!(types.get(t), Type::Other(_)) {
                    self.unsupported(
                        "unsupported-type",
                        ty.span,
                        format!("comparison of {}", self.m.types.show(t)),
                    );
                    return None;
                }
                if !ok {
                    self.err(
                        "bad-type-argument",
                        ty.span,
                        format!("{} cannot be compared this way", ty.name),
                    );
                    return None;
                }
                let a = self.operand_of(cx, a, t);
                let b = self.operand_of(cx, b, t);
                (
                    Op::Cmp {
                        op: *op,
                        ty: t,
                        a: a?,
                        b: b?,
                    },
                    vec![i1],
                )
            }
            InstKind::Conv { op, from, to, x } => {
                let f = self.type_ref(from)?;
                let t = self.type_ref(to)?;
                // Conversions of vectors (and of the other types full Mu has) are
                // well-formed Mu that muni does not execute.
                if [f, t]
                    .iter()
                    .any(|t| matches!(self.m.types.get(*t), Type::Other(w) if *w != POISON))
                {
                    self.unsupported(
                        "unsupported-type",
                        inst.span,
                        format!(
                            "{} of {} to {}",
                            crate::syntax::print::conv_op_name(*op),
                            self.m.types.show(f),
                            self.m.types.show(t)
                        ),
                    );
                    return None;
                }
                if !self.conv_ok(*op, f, t) {
                    let (a, b) = (self.m.types.show(f), self.m.types.show(t));
                    self.err(
                        "bad-type-argument",
                        inst.span,
                        format!(
                            "{} cannot convert {a} to {b}",
                            crate::syntax::print::conv_op_name(*op)
                        ),
                    );
                    return None;
                }
                let x = self.operand_of(cx, x, f)?;
                (
                    Op::Conv {
                        op: *op,
                        from: f,
                        to: t,
                        x,
                    },
                    vec![t],
                )
            }
            InstKind::Select {
                cond_ty,
                ty,
                cond,
                a,
                b,
            } => {
                self.type_arg(cond_ty, |t| matches!(t, Type::Int(1)), "int<1>")?;
                let t = self.type_ref(ty)?;
                if !self.check_value_type(t, ty.span, "SELECT's operands") {
                    return None;
                }
                let c = self.operand_of(cx, cond, i1);
                let a = self.operand_of(cx, a, t);
                let b = self.operand_of(cx, b, t);
                (
                    Op::Select {
                        cond: c?,
                        a: a?,
                        b: b?,
                    },
                    vec![t],
                )
            }
            InstKind::Branch(d) => (Op::Branch(self.dest(cx, d)?), vec![]),
            InstKind::Branch2 { cond, t, f } => {
                let c = self.operand_of(cx, cond, i1);
                let t = self.dest(cx, t);
                let f = self.dest(cx, f);
                (
                    Op::Branch2 {
                        cond: c?,
                        t: t?,
                        f: f?,
                    },
                    vec![],
                )
            }
            InstKind::Switch {
                ty,
                x,
                default,
                cases,
            } => {
                let t = self.type_arg(ty, |t| matches!(t, Type::Int(_)), "an int type")?;
                let x = self.operand_of(cx, x, t)?;
                let default = self.dest(cx, default)?;
                let mut cs = Vec::new();
                for (k, d) in cases {
                    let o = self.operand_of(cx, k, t)?;
                    if !matches!(o, Operand::Const(_)) {
                        self.err("bad-operand", k.span, "SWITCH case values are constants");
                        return None;
                    }
                    cs.push((o, self.dest(cx, d)?));
                }
                (
                    Op::Switch {
                        x,
                        default,
                        cases: cs,
                    },
                    vec![],
                )
            }
            InstKind::Call {
                sig,
                callee,
                args,
                keepalive,
                ..
            } => {
                let s = self.sig_ref(sig)?;
                let fr = self.m.types.anon(Type::FuncRef(s));
                let c = self.operand_of(cx, callee, fr)?;
                let params = self.m.types.sig(s).params.clone();
                let a = self.operands_of(cx, args, &params, callee.span, "the callee")?;
                self.local_values(cx, keepalive)?;
                (
                    Op::Call {
                        sig: s,
                        callee: c,
                        args: a,
                        exc: None,
                    },
                    self.m.types.sig(s).rets.clone(),
                )
            }
            InstKind::TailCall { sig, callee, args } => {
                let s = self.sig_ref(sig)?;
                let fr = self.m.types.anon(Type::FuncRef(s));
                let c = self.operand_of(cx, callee, fr)?;
                let sg = self.m.types.sig(s).clone();
                let a = self.operands_of(cx, args, &sg.params, callee.span, "the callee")?;
                let same = sg.rets.len() == cx.rets.len()
                    && sg
                        .rets
                        .iter()
                        .zip(&cx.rets)
                        .all(|(x, y)| self.m.types.same(*x, *y));
                if !same {
                    self.err(
                        "type-mismatch",
                        sig.span,
                        "a tail-called function must return what the caller returns",
                    );
                    return None;
                }
                (
                    Op::TailCall {
                        sig: s,
                        callee: c,
                        args: a,
                    },
                    vec![],
                )
            }
            InstKind::Ret(vs) => {
                let rets = cx.rets.clone();
                (
                    Op::Ret(self.operands_of(cx, vs, &rets, inst.span, "RET of this function")?),
                    vec![],
                )
            }
            InstKind::Throw(v) => {
                let (o, t) = self.operand(cx, v)?;
                if !matches!(self.m.types.get(t), Type::Ref(_)) {
                    self.err("type-mismatch", v.span, "THROW takes a ref");
                    return None;
                }
                (Op::Throw(o), vec![])
            }
            InstKind::ExtractValue { ty, index, x } => {
                let t = self.type_arg(ty, |t| matches!(t, Type::Struct(_)), "a struct type")?;
                let f = self.field_type(t, *index, ty.span)?;
                let x = self.operand_of(cx, x, t)?;
                (
                    Op::ExtractValue {
                        ty: t,
                        index: u32::try_from(*index).ok()?,
                        x,
                    },
                    vec![f],
                )
            }
            InstKind::InsertValue { ty, index, x, v } => {
                let t = self.type_arg(ty, |t| matches!(t, Type::Struct(_)), "a struct type")?;
                let f = self.field_type(t, *index, ty.span)?;
                let x = self.operand_of(cx, x, t);
                let v = self.operand_of(cx, v, f);
                (
                    Op::InsertValue {
                        ty: t,
                        index: u32::try_from(*index).ok()?,
                        x: x?,
                        v: v?,
                    },
                    vec![t],
                )
            }
            InstKind::New { ty, .. } | InstKind::Alloca { ty, .. } => {
                let t = self.type_arg(
                    ty,
                    |t| !matches!(t, Type::Hybrid(..)),
                    "a fixed-size type (not a hybrid)",
                )?;
                if matches!(inst.kind, InstKind::New { .. }) {
                    (
                        Op::New { ty: t, exc: None },
                        vec![self.m.types.anon(Type::Ref(t))],
                    )
                } else {
                    (
                        Op::Alloca { ty: t, exc: None },
                        vec![self.m.types.anon(Type::IRef(t))],
                    )
                }
            }
            InstKind::NewHybrid {
                ty, len_ty, len, ..
            }
            | InstKind::AllocaHybrid {
                ty, len_ty, len, ..
            } => {
                let t = self.type_arg(ty, |t| matches!(t, Type::Hybrid(..)), "a hybrid type")?;
                let lt = self.type_arg(len_ty, |t| matches!(t, Type::Int(_)), "an int type")?;
                let len = self.operand_of(cx, len, lt)?;
                if matches!(inst.kind, InstKind::NewHybrid { .. }) {
                    (
                        Op::NewHybrid {
                            ty: t,
                            len_ty: lt,
                            len,
                            exc: None,
                        },
                        vec![self.m.types.anon(Type::Ref(t))],
                    )
                } else {
                    (
                        Op::AllocaHybrid {
                            ty: t,
                            len_ty: lt,
                            len,
                            exc: None,
                        },
                        vec![self.m.types.anon(Type::IRef(t))],
                    )
                }
            }
            InstKind::GetIRef { ty, x } => {
                let t = self.type_ref(ty)?;
                let r = self.m.types.anon(Type::Ref(t));
                let x = self.operand_of(cx, x, r)?;
                (Op::GetIRef { x }, vec![self.m.types.anon(Type::IRef(t))])
            }
            InstKind::GetFieldIRef { ptr, ty, index, x } => {
                let t = self.type_arg(
                    ty,
                    |t| matches!(t, Type::Struct(_) | Type::Hybrid(..)),
                    "a struct or hybrid type",
                )?;
                let f = self.field_type(t, *index, ty.span)?;
                let x = {
                    let w = self.loc_type(*ptr, t);
                    self.operand_of(cx, x, w)
                }?;
                (
                    Op::GetFieldIRef {
                        ptr: *ptr,
                        ty: t,
                        index: u32::try_from(*index).ok()?,
                        x,
                    },
                    vec![self.loc_type(*ptr, f)],
                )
            }
            InstKind::GetElemIRef {
                ptr,
                ty,
                index_ty,
                x,
                index,
            } => {
                let t = self.type_arg(ty, |t| matches!(t, Type::Array(..)), "an array type")?;
                let it = self.type_arg(index_ty, |t| matches!(t, Type::Int(_)), "an int type")?;
                let Type::Array(e, _) = self.m.types.get(t).clone() else {
                    return None;
                };
                let x = {
                    let w = self.loc_type(*ptr, t);
                    self.operand_of(cx, x, w)
                };
                let i = self.operand_of(cx, index, it);
                (
                    Op::GetElemIRef {
                        ptr: *ptr,
                        ty: t,
                        index_ty: it,
                        x: x?,
                        index: i?,
                    },
                    vec![self.loc_type(*ptr, e)],
                )
            }
            InstKind::ShiftIRef {
                ptr,
                ty,
                off_ty,
                x,
                off,
            } => {
                let t = self.type_ref(ty)?;
                let ot = self.type_arg(off_ty, |t| matches!(t, Type::Int(_)), "an int type")?;
                let lt = self.loc_type(*ptr, t);
                let x = self.operand_of(cx, x, lt);
                let o = self.operand_of(cx, off, ot);
                (
                    Op::ShiftIRef {
                        ptr: *ptr,
                        ty: t,
                        off_ty: ot,
                        x: x?,
                        off: o?,
                    },
                    vec![lt],
                )
            }
            InstKind::GetVarPartIRef { ptr, ty, x } => {
                let t = self.type_arg(ty, |t| matches!(t, Type::Hybrid(..)), "a hybrid type")?;
                let Type::Hybrid(_, v) = self.m.types.get(t).clone() else {
                    return None;
                };
                let x = {
                    let w = self.loc_type(*ptr, t);
                    self.operand_of(cx, x, w)
                }?;
                (
                    Op::GetVarPartIRef {
                        ptr: *ptr,
                        ty: t,
                        x,
                    },
                    vec![self.loc_type(*ptr, v)],
                )
            }
            InstKind::Load {
                ptr, ord, ty, loc, ..
            } => {
                let t = self.type_arg(
                    ty,
                    |t| !matches!(t, Type::Hybrid(..) | Type::Void),
                    "a type memory holds (not hybrid or void)",
                )?;
                let l = {
                    let w = self.loc_type(*ptr, t);
                    self.operand_of(cx, loc, w)
                }?;
                (
                    Op::Load {
                        ptr: *ptr,
                        atomic: *ord != ast::MemOrd::NotAtomic,
                        ty: t,
                        loc: l,
                        exc: None,
                    },
                    vec![self.strong(t)],
                )
            }
            InstKind::Store {
                ptr,
                ord,
                ty,
                loc,
                v,
                ..
            } => {
                let t = self.type_arg(
                    ty,
                    |t| !matches!(t, Type::Hybrid(..) | Type::Void),
                    "a type memory holds (not hybrid or void)",
                )?;
                let l = {
                    let w = self.loc_type(*ptr, t);
                    self.operand_of(cx, loc, w)
                };
                let v = {
                    let w = self.strong(t);
                    self.operand_of(cx, v, w)
                };
                (
                    Op::Store {
                        ptr: *ptr,
                        atomic: *ord != ast::MemOrd::NotAtomic,
                        ty: t,
                        loc: l?,
                        v: v?,
                        exc: None,
                    },
                    vec![],
                )
            }
            InstKind::CmpXchg {
                ptr,
                ty,
                loc,
                expected,
                desired,
                ..
            } => {
                let t = self.type_arg(
                    ty,
                    |t| {
                        matches!(
                            t,
                            Type::Int(_)
                                | Type::UPtr(_)
                                | Type::UFuncPtr(_)
                                | Type::Ref(_)
                                | Type::IRef(_)
                                | Type::WeakRef(_)
                                | Type::FuncRef(_)
                        )
                    },
                    "an int, pointer or reference type",
                )?;
                let s = self.strong(t);
                let l = {
                    let w = self.loc_type(*ptr, t);
                    self.operand_of(cx, loc, w)
                };
                let e = self.operand_of(cx, expected, s);
                let d = self.operand_of(cx, desired, s);
                (
                    Op::CmpXchg {
                        ptr: *ptr,
                        ty: t,
                        loc: l?,
                        expected: e?,
                        desired: d?,
                        exc: None,
                    },
                    vec![s, i1],
                )
            }
            InstKind::AtomicRmw {
                ptr,
                op,
                ty,
                loc,
                v,
                ..
            } => {
                let t = if *op == RmwOp::Xchg {
                    self.type_arg(
                        ty,
                        |t| {
                            matches!(
                                t,
                                Type::Int(_)
                                    | Type::UPtr(_)
                                    | Type::UFuncPtr(_)
                                    | Type::Ref(_)
                                    | Type::IRef(_)
                                    | Type::WeakRef(_)
                                    | Type::FuncRef(_)
                            )
                        },
                        "an int, pointer or reference type",
                    )?
                } else {
                    self.type_arg(ty, |t| matches!(t, Type::Int(_)), "an int type")?
                };
                let s = self.strong(t);
                let l = {
                    let w = self.loc_type(*ptr, t);
                    self.operand_of(cx, loc, w)
                };
                let v = self.operand_of(cx, v, s);
                (
                    Op::AtomicRmw {
                        ptr: *ptr,
                        op: *op,
                        ty: t,
                        loc: l?,
                        v: v?,
                        exc: None,
                    },
                    vec![s],
                )
            }
            InstKind::Fence(_) => (Op::Fence, vec![]),
            InstKind::Trap { tys, keepalive, .. } | InstKind::Watchpoint { tys, keepalive, .. } => {
                let mut ts = Vec::new();
                for t in tys {
                    let t = self.type_ref(t)?;
                    ts.push(t);
                }
                let ka = self.local_values(cx, keepalive)?;
                let name = inst
                    .id
                    .as_ref()
                    .or(inst.results.first())
                    .map(|i| i.name.clone())
                    .unwrap_or_else(|| Name::new("?"));
                let watch = match &inst.kind {
                    // Disabled, it has no results: `dis` cannot pass them (`ena`
                    // is checked with them, in `check_inst`).
                    InstKind::Watchpoint { wpid, dis, .. } => Some(Box::new(Watch {
                        wpid: *wpid,
                        dis: self.dest(cx, dis)?,
                        ena: Dest {
                            block: 0,
                            args: Vec::new(),
                        },
                    })),
                    _ => None,
                };
                (
                    Op::Trap {
                        name,
                        tys: ts.clone(),
                        exc: None,
                        keepalive: ka,
                        watch,
                    },
                    ts,
                )
            }
            InstKind::WpBranch { wpid, dis, ena } => {
                let dis = self.dest(cx, dis);
                let ena = self.dest(cx, ena);
                (
                    Op::WpBranch {
                        wpid: *wpid,
                        dis: dis?,
                        ena: ena?,
                    },
                    vec![],
                )
            }
            InstKind::NewThread {
                stack,
                threadlocal,
                new,
                ..
            } => {
                let st = self.m.types.anon(Type::StackRef);
                let s = self.operand_of(cx, stack, st);
                let tl = match threadlocal {
                    Some(t) => {
                        let (o, ty) = self.operand(cx, t)?;
                        if !matches!(self.m.types.get(ty), Type::Ref(_)) {
                            self.err("type-mismatch", t.span, "THREADLOCAL takes a ref");
                            return None;
                        }
                        Some(o)
                    }
                    None => None,
                };
                let bind = self.bind_clause(cx, new, inst.span);
                (
                    Op::NewThread {
                        stack: s?,
                        threadlocal: tl,
                        bind: bind?,
                        exc: None,
                    },
                    vec![self.m.types.anon(Type::ThreadRef)],
                )
            }
            InstKind::SwapStack {
                swappee,
                ret_with,
                new,
                keepalive,
                ..
            } => {
                let st = self.m.types.anon(Type::StackRef);
                let s = self.operand_of(cx, swappee, st);
                let mut rets = Vec::new();
                for t in ret_with.iter().flatten() {
                    rets.push(self.type_ref(t)?);
                }
                let bind = self.bind_clause(cx, new, inst.span);
                let ka = self.local_values(cx, keepalive)?;
                (
                    Op::SwapStack {
                        swappee: s?,
                        ret_with: ret_with.as_ref().map(|_| rets.clone()),
                        bind: bind?,
                        exc: None,
                        keepalive: ka,
                    },
                    rets,
                )
            }
            InstKind::CCall {
                cc,
                fty,
                sig,
                callee,
                args,
                keepalive,
                ..
            } => {
                if &*cc.name != "DEFAULT" {
                    self.unsupported(
                        "unsupported-flag",
                        cc.span,
                        format!("calling convention #{} (muni has #DEFAULT)", cc.name),
                    );
                    return None;
                }
                let s = self.sig_ref(sig)?;
                let ft =
                    self.type_arg(fty, |t| matches!(t, Type::UFuncPtr(_)), "a ufuncptr type")?;
                if let Type::UFuncPtr(fs) = *self.m.types.get(ft)
                    && !self.m.types.same_sig(fs, s)
                {
                    self.err(
                        "type-mismatch",
                        sig.span,
                        format!(
                            "{} is a pointer to a function of another signature",
                            fty.name
                        ),
                    );
                    return None;
                }
                let sg = self.m.types.sig(s).clone();
                if sg.rets.len() > 1 {
                    self.err(
                        "ccall-results",
                        sig.span,
                        "CCALL #DEFAULT returns at most one value",
                    );
                    return None;
                }
                if !sg
                    .params
                    .iter()
                    .chain(&sg.rets)
                    .all(|t| self.m.types.native_safe(*t))
                {
                    self.err(
                        "not-native-safe",
                        sig.span,
                        "a CCALL signature has only native-safe types",
                    );
                    return None;
                }
                if sg
                    .params
                    .iter()
                    .chain(&sg.rets)
                    .any(|t| matches!(self.m.types.get(*t), Type::Array(..)))
                {
                    self.err(
                        "ccall-array",
                        sig.span,
                        "arrays are not CCALL parameters or results (put them in a struct)",
                    );
                    return None;
                }
                let c = self.operand_of(cx, callee, ft)?;
                let a = self.operands_of(cx, args, &sg.params, callee.span, "the C function")?;
                self.local_values(cx, keepalive)?;
                (
                    Op::CCall {
                        sig: s,
                        callee: c,
                        args: a,
                        exc: None,
                    },
                    sg.rets,
                )
            }
            InstKind::CommInst {
                name,
                flags,
                tys,
                sigs,
                args,
                keepalive,
                ..
            } => {
                self.local_values(cx, keepalive)?;
                return self.lower_comminst(cx, inst.span, name, flags, tys, sigs, args);
            }
            InstKind::Unsupported(w) => {
                // The parser reported it; suppress what follows from it in this function.
                self.fn_unsupported.get_or_insert_with(|| {
                    format!("`{w}` is full Mu, outside the subset muni executes")
                });
                return None;
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn lower_comminst(
        &mut self,
        cx: &mut Cx,
        span: Span,
        name: &Ident,
        flags: &[ast::Flag],
        tys: &[Ident],
        sigs: &[Ident],
        args: &[Ident],
    ) -> Option<(Op, Vec<TypeId>)> {
        let n = name.name.as_str();
        let want = |v: &mut Verifier, t: usize, s: usize, a: usize| {
            if tys.len() != t || sigs.len() != s || args.len() != a {
                v.err(
                    "arity",
                    span,
                    format!(
                        "{} takes {t} types, {s} signatures and {a} arguments",
                        name.name
                    ),
                );
                return false;
            }
            true
        };
        for f in flags {
            if &*f.name != "DEFAULT" {
                self.unsupported(
                    "unsupported-flag",
                    f.span,
                    format!("calling convention #{} (muni has #DEFAULT)", f.name),
                );
                return None;
            }
        }
        let i64t = self.m.types.anon(Type::Int(64));
        Some(match n {
            "uvm.thread_exit" => {
                if !want(self, 0, 0, 0) {
                    return None;
                }
                (Op::CommInst(CommInst::ThreadExit), vec![])
            }
            "uvm.native.pin" | "uvm.native.unpin" => {
                if !want(self, 1, 0, 1) {
                    return None;
                }
                let t = self.type_arg(
                    &tys[0],
                    |t| matches!(t, Type::Ref(_) | Type::IRef(_)),
                    "a ref or iref type",
                )?;
                let (Type::Ref(u) | Type::IRef(u)) = *self.m.types.get(t) else {
                    return None;
                };
                let x = self.operand_of(cx, &args[0], t)?;
                if n == "uvm.native.unpin" {
                    return Some((Op::CommInst(CommInst::Unpin { ty: t, x }), vec![]));
                }
                if !self.m.types.native_safe(u) {
                    self.err(
                        "not-native-safe",
                        tys[0].span,
                        "pinning gives a uptr, so the referent must be native-safe",
                    );
                    return None;
                }
                (
                    Op::CommInst(CommInst::Pin { ty: t, x }),
                    vec![self.m.types.anon(Type::UPtr(u))],
                )
            }
            "uvm.native.expose" => {
                if !want(self, 0, 1, 2) {
                    return None;
                }
                let s = self.sig_ref(&sigs[0])?;
                let fr = self.m.types.anon(Type::FuncRef(s));
                let f = self.operand_of(cx, &args[0], fr);
                let c = self.operand_of(cx, &args[1], i64t);
                let sg = self.m.types.sig(s).clone();
                if !sg
                    .params
                    .iter()
                    .chain(&sg.rets)
                    .all(|t| self.m.types.native_safe(*t))
                {
                    self.err(
                        "not-native-safe",
                        sigs[0].span,
                        "an exposed function's signature is native-safe",
                    );
                    return None;
                }
                (
                    Op::CommInst(CommInst::Expose {
                        sig: s,
                        f: f?,
                        cookie: c?,
                    }),
                    vec![self.m.types.anon(Type::UFuncPtr(s))],
                )
            }
            "uvm.native.unexpose" => {
                if !want(self, 0, 0, 1) {
                    return None;
                }
                let (p, t) = self.operand(cx, &args[0])?;
                if !matches!(self.m.types.get(t), Type::UFuncPtr(_)) {
                    self.err("type-mismatch", args[0].span, "unexpose takes a ufuncptr");
                    return None;
                }
                (Op::CommInst(CommInst::Unexpose { p }), vec![])
            }
            "uvm.new_stack" => {
                if !want(self, 0, 1, 1) {
                    return None;
                }
                let s = self.sig_ref(&sigs[0])?;
                let fr = self.m.types.anon(Type::FuncRef(s));
                let f = self.operand_of(cx, &args[0], fr)?;
                (
                    Op::NewStack {
                        sig: s,
                        func: f,
                        exc: None,
                    },
                    vec![self.m.types.anon(Type::StackRef)],
                )
            }
            "uvm.kill_stack" => {
                if !want(self, 0, 0, 1) {
                    return None;
                }
                let st = self.m.types.anon(Type::StackRef);
                let x = self.operand_of(cx, &args[0], st)?;
                (Op::CommInst(CommInst::KillStack(x)), vec![])
            }
            "uvm.current_stack" => {
                if !want(self, 0, 0, 0) {
                    return None;
                }
                (
                    Op::CommInst(CommInst::CurrentStack),
                    vec![self.m.types.anon(Type::StackRef)],
                )
            }
            "uvm.get_threadlocal" => {
                if !want(self, 0, 0, 0) {
                    return None;
                }
                let void = self.m.types.anon(Type::Void);
                (
                    Op::CommInst(CommInst::GetThreadLocal),
                    vec![self.m.types.anon(Type::Ref(void))],
                )
            }
            "uvm.set_threadlocal" => {
                if !want(self, 0, 0, 1) {
                    return None;
                }
                let (o, t) = self.operand(cx, &args[0])?;
                if !matches!(self.m.types.get(t), Type::Ref(_)) {
                    self.err("type-mismatch", args[0].span, "set_threadlocal takes a ref");
                    return None;
                }
                (Op::CommInst(CommInst::SetThreadLocal(o)), vec![])
            }
            "uvm.futex.wait"
            | "uvm.futex.wait_timeout"
            | "uvm.futex.wake"
            | "uvm.futex.cmp_requeue" => {
                let nargs = match n {
                    "uvm.futex.wait" | "uvm.futex.wake" => 2,
                    "uvm.futex.wait_timeout" => 3,
                    _ => 4,
                };
                if !want(self, 1, 0, nargs) {
                    return None;
                }
                let t = self.type_arg(&tys[0], |t| matches!(t, Type::Int(_)), "an integer type")?;
                let it = self.m.types.anon(Type::IRef(t));
                let i32t = self.m.types.anon(Type::Int(32));
                let loc = self.operand_of(cx, &args[0], it);
                let op = match n {
                    "uvm.futex.wait" | "uvm.futex.wait_timeout" => {
                        let val = self.operand_of(cx, &args[1], t);
                        let timeout = match args.get(2) {
                            Some(a) => Some(self.operand_of(cx, a, i64t)?),
                            None => None,
                        };
                        CommInst::FutexWait {
                            ty: t,
                            loc: loc?,
                            val: val?,
                            timeout,
                        }
                    }
                    "uvm.futex.wake" => {
                        let k = self.operand_of(cx, &args[1], i32t);
                        CommInst::FutexWake {
                            ty: t,
                            loc: loc?,
                            n: k?,
                        }
                    }
                    _ => {
                        let dst = self.operand_of(cx, &args[1], it);
                        let e = self.operand_of(cx, &args[2], t);
                        let k = self.operand_of(cx, &args[3], i32t);
                        CommInst::FutexRequeue {
                            ty: t,
                            src: loc?,
                            dst: dst?,
                            expected: e?,
                            n: k?,
                        }
                    }
                };
                (Op::CommInst(op), vec![i32t])
            }
            "uvm.native.get_cookie" => {
                if !want(self, 0, 0, 0) {
                    return None;
                }
                (Op::CommInst(CommInst::GetCookie), vec![i64t])
            }
            _ if n.starts_with("uvm.") => {
                self.unsupported(
                    "unsupported-comminst",
                    name.span,
                    format!("{} is outside the subset muni executes", name.name),
                );
                return None;
            }
            _ => {
                self.err(
                    "unknown-comminst",
                    name.span,
                    format!("{} is not a common instruction", name.name),
                );
                return None;
            }
        })
    }

    /// The new-stack clause of `SWAPSTACK`: values of the types it names, or
    /// a `ref` to throw.
    fn bind_clause(&mut self, cx: &Cx, c: &ast::NewStackClause, span: Span) -> Option<Bind> {
        match c {
            ast::NewStackClause::PassValues(tys, vs) => {
                let mut ts = Vec::new();
                for t in tys {
                    ts.push(self.type_ref(t)?);
                }
                let vs = self.operands_of(cx, vs, &ts, span, "the stack")?;
                Some(Bind::Values(ts, vs))
            }
            ast::NewStackClause::ThrowExc(e) => {
                let (o, t) = self.operand(cx, e)?;
                if !matches!(self.m.types.get(t), Type::Ref(_)) {
                    self.err("type-mismatch", e.span, "THROW_EXC takes a ref");
                    return None;
                }
                Some(Bind::Throw(o))
            }
        }
    }

    /// `iref<T>`, or `uptr<T>` with `PTR`.
    fn loc_type(&mut self, ptr: bool, t: TypeId) -> TypeId {
        self.m
            .types
            .anon(if ptr { Type::UPtr(t) } else { Type::IRef(t) })
    }

    /// The SSA type of a value loaded from memory of type `t`: `weakref<U>` loads as `ref<U>`.
    fn strong(&mut self, t: TypeId) -> TypeId {
        match *self.m.types.get(t) {
            Type::WeakRef(u) => self.m.types.anon(Type::Ref(u)),
            _ => t,
        }
    }

    fn field_type(&mut self, t: TypeId, index: u64, span: Span) -> Option<TypeId> {
        let fs = match self.m.types.get(t) {
            Type::Struct(fs) | Type::Hybrid(fs, _) => fs.clone(),
            _ => return None,
        };
        match usize::try_from(index).ok().and_then(|i| fs.get(i)) {
            Some(f) => Some(*f),
            None => {
                self.err(
                    "field-index",
                    span,
                    format!(
                        "{} has {} fields; there is no field {index}",
                        self.m.types.show(t),
                        fs.len()
                    ),
                );
                None
            }
        }
    }

    fn conv_ok(&self, op: ConvOp, f: TypeId, t: TypeId) -> bool {
        let ty = &self.m.types;
        let (a, b) = (ty.get(f), ty.get(t));
        match op {
            ConvOp::Trunc => matches!((a, b), (Type::Int(n), Type::Int(m)) if m < n),
            ConvOp::Zext | ConvOp::Sext => matches!((a, b), (Type::Int(n), Type::Int(m)) if m > n),
            ConvOp::Fptrunc => matches!((a, b), (Type::Double, Type::Float)),
            ConvOp::Fpext => matches!((a, b), (Type::Float, Type::Double)),
            ConvOp::Fptoui | ConvOp::Fptosi => ty.is_fp(f) && ty.int_width(t).is_some(),
            ConvOp::Uitofp | ConvOp::Sitofp => ty.int_width(f).is_some() && ty.is_fp(t),
            ConvOp::Bitcast => {
                matches!(
                    (a, b),
                    (Type::Int(32), Type::Float)
                        | (Type::Float, Type::Int(32))
                        | (Type::Int(64), Type::Double)
                        | (Type::Double, Type::Int(64))
                )
            }
            ConvOp::Refcast => matches!(
                (a, b),
                (Type::Ref(_), Type::Ref(_))
                    | (Type::IRef(_), Type::IRef(_))
                    | (Type::FuncRef(_), Type::FuncRef(_))
            ),
            ConvOp::Ptrcast => {
                let p = |x: &Type| matches!(x, Type::UPtr(_) | Type::UFuncPtr(_) | Type::Int(_));
                p(a) && p(b) && !(matches!(a, Type::Int(_)) && matches!(b, Type::Int(_)))
            }
        }
    }
}
