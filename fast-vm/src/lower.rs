//! Mu IR to Cranelift IR, one Mu function at a time.
//!
//! Mu functions use Cranelift's `tail` convention (so `TAILCALL` is a real tail
//! call): parameters are the context pointer then the Mu parameters; the one result
//! is a status (`runtime::NORMAL`, `EXCEPTION`, `STOP`), Mu results travel in
//! `Ctx::ret`. A Mu block is a Cranelift block with the same parameters (plus the
//! exceptional parameter, NULL when the block is entered normally), and charges its
//! length in fuel when entered. Values of `int<n>` live in the smallest of
//! i8/i16/i32/i64 holding them, with the unused high bits zero.

use crate::runtime::{EXCEPTION, NORMAL, STOP, StopCode, offsets};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::types::{F32, F64, I8, I16, I32, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, FuncRef, InstBuilder, MemFlagsData, Signature, Type as ClType, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use cranelift_module::{FuncId as ClFuncId, Module as _};
use spec_model::ir::{
    CommInst, ConstValue, Dest, Exc, Func, Module, Op, Operand, SigId, Type, TypeId, Types,
};
use spec_model::layout;
use spec_model::syntax::ast::{BinOp, CmpOp, ConvOp, RmwOp};
use std::collections::HashMap;

/// Why a function cannot be compiled (it then stops the run as unsupported).
#[derive(Debug)]
pub struct NotCompiled(pub String);

/// The Cranelift type of an SSA value of Mu type `t`, if the fast VM handles it.
pub fn cl_type(types: &Types, t: TypeId) -> Option<ClType> {
    Some(match types.get(t) {
        Type::Int(n) => match n {
            0..=8 => I8,
            9..=16 => I16,
            17..=32 => I32,
            _ => I64,
        },
        Type::Float => F32,
        Type::Double => F64,
        Type::Ref(_)
        | Type::IRef(_)
        | Type::WeakRef(_)
        | Type::FuncRef(_)
        | Type::UPtr(_)
        | Type::UFuncPtr(_) => I64,
        _ => return None,
    })
}

/// The scalar leaves of a value of type `t`, in order, with their byte offsets and
/// Cranelift types: a scalar is one leaf, a struct or array the leaves of its
/// fields or elements. `None` for types no SSA value has here.
pub fn leaves(types: &Types, t: TypeId) -> Option<Vec<(u64, ClType)>> {
    if let Some(c) = cl_type(types, t) {
        return Some(vec![(0, c)]);
    }
    let mut out = Vec::new();
    match types.get(t) {
        Type::Struct(fs) => {
            for ((off, _), f) in layout::fields(types, fs).zip(fs) {
                out.extend(leaves(types, *f)?.into_iter().map(|(o, c)| (off + o, c)));
            }
        }
        Type::Array(e, n) => {
            let es = layout::layout(types, *e).size;
            let inner = leaves(types, *e)?;
            // A value is one SSA value per leaf: past this many, no.
            if inner
                .len()
                .saturating_mul(usize::try_from(*n).unwrap_or(usize::MAX))
                > MAX_LEAVES
            {
                return None;
            }
            for i in 0..*n {
                out.extend(inner.iter().map(|(o, c)| (i * es + o, *c)));
            }
        }
        _ => return None,
    }
    (out.len() <= MAX_LEAVES).then_some(out)
}

/// The most scalar leaves a value may have (results and client-trap values have
/// [`crate::runtime::RET_SLOTS`] words of room).
pub const MAX_LEAVES: usize = 4096;

/// The Cranelift signature of a Mu function (tail convention).
pub fn mu_signature(types: &Types, s: SigId) -> Option<Signature> {
    let mut sig = Signature::new(CallConv::Tail);
    // The context, then the call depth of this frame (the stack budget).
    sig.params.push(AbiParam::new(I64));
    sig.params.push(AbiParam::new(I64));
    for p in &types.sig(s).params {
        sig.params.extend(
            leaves(types, *p)?
                .into_iter()
                .map(|(_, c)| AbiParam::new(c)),
        );
    }
    let mut n = 0;
    for r in &types.sig(s).rets {
        n += leaves(types, *r)?.len();
    }
    if n > crate::runtime::RET_SLOTS {
        return None;
    }
    // The status, and the first result word in a register (the rest go
    // through the context's return words).
    sig.returns.push(AbiParam::new(I32));
    sig.returns.push(AbiParam::new(I64));
    Some(sig)
}

/// A client trap's name and its keep-alive values, by index.
#[derive(Clone, Debug)]
pub struct TrapInfo {
    /// The trap's name.
    pub name: String,
    /// Its KEEPALIVE values, in order.
    pub values: Vec<Kept>,
}

/// One KEEPALIVE value of a client trap.
#[derive(Clone, Debug)]
pub enum Kept {
    /// A value of this type, in the context's next return words.
    Words(TypeId),
    /// A global cell, function or exposure: known when compiling.
    Known(spec_model::outcome::OutValue),
}

/// The runtime's entry points compiled code calls, as declared in the JIT module.
#[derive(Clone, Copy, Debug)]
pub struct Runtime {
    /// `rt_alloc`.
    pub alloc: ClFuncId,
    /// `rt_pin`.
    pub pin: ClFuncId,
    /// `rt_expose`.
    pub expose: ClFuncId,
    /// `rt_unexpose`.
    pub unexpose: ClFuncId,
    /// `rt_unpin`.
    pub unpin: ClFuncId,
    /// `rt_fmod`.
    pub fmod: ClFuncId,
    /// `rt_fmodf`.
    pub fmodf: ClFuncId,
    /// `rt_trace`, when compiling with the native trace.
    pub trace: Option<ClFuncId>,
}

/// What the lowering of one function needs from the whole program. A callee is
/// imported into the function when it is first called.
pub struct Env<'a> {
    /// The module.
    pub module: &'a Module,
    /// The JIT module the function goes into.
    pub jit: &'a cranelift_jit::JITModule,
    /// The declaration of every Mu function the program compiles.
    pub funcs: &'a [Option<ClFuncId>],
    /// The runtime's entry points.
    pub rt: Runtime,
    /// The C entry point of each static `.expose`.
    pub exposes: &'a [Option<ClFuncId>],
    /// Offsets of the global cells in the globals area.
    pub global_offsets: &'a [u64],
    /// Addresses of EXTERN constants, by constant id (`None`: unresolved).
    pub externs: &'a [Option<u64>],
    /// Client traps found so far (this function's are appended).
    pub traps: &'a mut Vec<TrapInfo>,
    /// Whether to charge fuel (off when the run has no fuel budget).
    pub fuel: bool,
    /// The target, for the function builder.
    pub frontend: cranelift_codegen::isa::TargetFrontendConfig,
}

struct Cx<'a, 'b> {
    env: Env<'a>,
    b: FunctionBuilder<'b>,
    func: &'a Func,
    ctx: Value,
    /// This frame's call depth, counted as the model counts frames.
    depth: Value,
    blocks: Vec<Block>,
    slots: HashMap<u32, Value>,
    /// The leaves of aggregate values, by frame slot.
    aggs: HashMap<u32, Vec<Value>>,
    /// This function's shadow-stack frame, if it has references to keep.
    shadow: Option<cranelift_codegen::ir::StackSlot>,
    /// The references live after each instruction of the current block.
    live: Vec<Vec<u32>>,
    /// The index of the current instruction.
    cur: usize,
    /// Slots whose reference is never NULL (`non_null`).
    non_null: std::collections::HashSet<u32>,
    /// Accumulator recursion elimination (`accumulator_sites`): the loop head that
    /// stands for a self-call, the accumulator, and the sites (block indices).
    acc: Option<Accumulator>,
    /// The current block ended early (its tail became a jump to the loop head).
    ended: bool,
    /// The function's shared cold exits, filled in at the end: one that stops the
    /// run with each code (detail 0), and `up`, which passes a status to the caller.
    exits: Vec<(StopCode, Block)>,
    up: Option<Block>,
    /// The callees imported into this function so far.
    imported: HashMap<ClFuncId, FuncRef>,
}

/// A function `f` whose blocks may end `%r1 = CALL @f (…); %r = ADD %x %r1; RET %r`
/// is compiled as a loop: such a tail jumps back to the head with `acc + x`, and
/// every `RET v` returns `acc + v` (ADD wraps, so it is associative and
/// commutative, and the result is exactly the recursion's). The head carries the
/// call depth, so the stack budget runs out exactly where the calls would have.
#[derive(Clone, Debug)]
struct Accumulator {
    head: Block,
    acc: Value,
    ty: TypeId,
    sites: Vec<usize>,
}

/// Where a base case's operand comes from: a parameter of the callee (by index) or
/// a constant.
#[derive(Clone, Copy, Debug)]
enum Src {
    Param(usize),
    Const(u32),
}

/// A callee whose entry block is `%c = CMP a b; BRANCH2 %c …` where one target is a
/// block that only returns a parameter or a constant: the caller can make the test
/// and, in the base case, have the answer without a call.
#[derive(Clone, Copy, Debug)]
struct BaseCase {
    op: CmpOp,
    ty: TypeId,
    a: Src,
    b: Src,
    /// The base case is taken when the comparison holds.
    on_true: bool,
    ret: Src,
}

fn base_case(module: &Module, g: u32) -> Option<BaseCase> {
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
fn accumulator_sites(module: &Module, func: &Func) -> Vec<usize> {
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

fn bargs(vs: &[Value]) -> Vec<BlockArg> {
    vs.iter().map(|v| BlockArg::Value(*v)).collect()
}

fn mask(n: u32) -> i64 {
    if n >= 64 {
        -1
    } else {
        ((1u64 << n) - 1) as i64
    }
}

fn bits(t: ClType) -> u32 {
    t.bits()
}

/// Lowers one Mu function into `b` (whose signature is already set).
pub fn lower_function(
    env: Env<'_>,
    b: FunctionBuilder<'_>,
    func: &Func,
) -> Result<(), NotCompiled> {
    let Some(body) = &func.body else {
        return Err(NotCompiled(format!(
            "{} has no body muni can run",
            func.name
        )));
    };
    let mut cx = Cx {
        env,
        b,
        func,
        ctx: Value::from_u32(0),
        depth: Value::from_u32(0),
        blocks: Vec::new(),
        slots: HashMap::new(),
        aggs: HashMap::new(),
        shadow: None,
        live: Vec::new(),
        cur: 0,
        non_null: non_null(body),
        acc: None,
        ended: false,
        exits: Vec::new(),
        up: None,
        imported: HashMap::new(),
    };
    let types = &cx.env.module.types;
    let max_live = body
        .blocks
        .iter()
        .flat_map(|b| live_refs(types, body, b))
        .map(|l| {
            l.iter()
                .map(|s| ref_leaves(types, body.slot_types[*s as usize]).len())
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0);
    // One Cranelift block per Mu block, with its parameters.
    for blk in &body.blocks {
        let cb = cx.b.create_block();
        for p in &blk.params {
            let ls = leaves(types, body.slot_types[*p as usize])
                .ok_or_else(|| unsupported("a block parameter of this type"))?;
            for (_, t) in ls {
                cx.b.append_block_param(cb, t);
            }
        }
        if blk.exc_param.is_some() {
            cx.b.append_block_param(cb, I64);
        }
        cx.blocks.push(cb);
    }
    // The entry: take the context and arguments, enter Mu block 0.
    let entry = cx.b.create_block();
    cx.b.append_block_params_for_function_params(entry);
    cx.b.switch_to_block(entry);
    let params = cx.b.block_params(entry).to_vec();
    cx.ctx = params[0];
    cx.depth = params[1];
    if max_live > 0 {
        // Link this function's shadow-stack frame: [previous, count, refs...].
        let slot =
            cx.b.create_sized_stack_slot(cranelift_codegen::ir::StackSlotData::new(
                cranelift_codegen::ir::StackSlotKind::ExplicitSlot,
                u32::try_from(16 + 8 * max_live).unwrap_or(u32::MAX),
                3,
            ));
        cx.shadow = Some(slot);
        let prev = cx.load_ctx(I64, offsets::ROOTS);
        cx.b.ins().stack_store(I64, prev, slot, 0);
        let zero = cx.b.ins().iconst(I64, 0);
        cx.b.ins().stack_store(I64, zero, slot, 8);
        let addr = cx.b.ins().stack_addr(I64, slot, 0);
        cx.store_ctx(addr, offsets::ROOTS);
    }
    let first = cx.blocks[0];
    let sites = if max_live == 0 {
        accumulator_sites(cx.env.module, func)
    } else {
        Vec::new()
    };
    if sites.is_empty() {
        cx.b.ins().jump(first, &bargs(&params[2..]));
    } else {
        // The loop head: the arguments, the accumulator and the depth.
        let ty = types.sig(func.sig).rets[0];
        let ct = cl_type(types, ty).ok_or_else(|| unsupported("this result"))?;
        let head = cx.b.create_block();
        for p in &params[2..] {
            let t = cx.b.func.dfg.value_type(*p);
            cx.b.append_block_param(head, t);
        }
        let acc = cx.b.append_block_param(head, ct);
        let depth = cx.b.append_block_param(head, I64);
        let zero = cx.b.ins().iconst(ct, 0);
        let mut args = params[2..].to_vec();
        args.extend([zero, params[1]]);
        cx.b.ins().jump(head, &bargs(&args));
        cx.b.switch_to_block(head);
        let hp = cx.b.block_params(head).to_vec();
        cx.depth = depth;
        cx.acc = Some(Accumulator {
            head,
            acc,
            ty,
            sites,
        });
        cx.b.ins().jump(first, &bargs(&hp[..hp.len() - 2]));
    }
    for (i, blk) in body.blocks.iter().enumerate() {
        let cb = cx.blocks[i];
        cx.ended = false;
        cx.b.switch_to_block(cb);
        let ps = cx.b.block_params(cb).to_vec();
        let mut k = 0;
        for slot in &blk.params {
            let t = body.slot_types[*slot as usize];
            let n = leaves(&cx.env.module.types, t).map_or(1, |l| l.len());
            cx.bind(*slot, t, ps[k..k + n].to_vec());
            k += n;
        }
        if let Some(e) = blk.exc_param {
            cx.slots.insert(e, ps[ps.len() - 1]);
        }
        cx.charge_fuel(blk.insts.len() as i64);
        cx.live = live_refs(&cx.env.module.types, body, blk);
        let tail = cx
            .acc
            .as_ref()
            .is_some_and(|a| a.sites.contains(&i))
            .then(|| blk.insts.len() - 3);
        for (k, inst) in blk.insts.iter().enumerate() {
            cx.cur = k;
            if Some(k) == tail {
                cx.loop_back(&blk.insts[k], &blk.insts[k + 1])?;
                break;
            }
            cx.inst(&inst.op, &inst.results)?;
        }
    }
    cx.fill_exits();
    cx.b.seal_all_blocks();
    let fe = cx.env.frontend;
    cx.b.finalize(fe);
    Ok(())
}

fn unsupported(what: &str) -> NotCompiled {
    NotCompiled(format!("{what} is not compiled by the fast VM yet"))
}

impl Cx<'_, '_> {
    fn types(&self) -> &Types {
        &self.env.module.types
    }

    /// The function `id` of the JIT module, imported on first use.
    fn import(&mut self, id: ClFuncId) -> FuncRef {
        if let Some(f) = self.imported.get(&id) {
            return *f;
        }
        // As `Module::declare_func_in_func` does, which needs the module mutably.
        let decl = self.env.jit.declarations().get_function_decl(id);
        let func = &mut *self.b.func;
        let signature = func.import_signature(decl.signature.clone());
        let name = func.declare_imported_user_function(cranelift_codegen::ir::UserExternalName {
            namespace: 0,
            index: id.as_u32(),
        });
        let f = func.import_function(cranelift_codegen::ir::ExtFuncData {
            name: cranelift_codegen::ir::ExternalName::user(name),
            signature,
            colocated: decl.linkage.is_final(),
            patchable: false,
        });
        self.imported.insert(id, f);
        f
    }

    /// Mu function `f` (a function the program does not compile stands for the
    /// runtime's allocator: calls of it are refused before lowering starts).
    fn func_ref(&mut self, f: u32) -> FuncRef {
        let id = self.env.funcs[f as usize].unwrap_or(self.env.rt.alloc);
        self.import(id)
    }

    fn load_ctx(&mut self, ty: ClType, off: i32) -> Value {
        self.b
            .ins()
            .load(ty, MemFlagsData::trusted(), self.ctx, off)
    }

    fn store_ctx(&mut self, v: Value, off: i32) {
        self.b
            .ins()
            .store(MemFlagsData::trusted(), v, self.ctx, off);
    }

    /// Unlinks this function's shadow-stack frame (before every return).
    fn leave(&mut self) {
        if let Some(slot) = self.shadow {
            let prev = self.b.ins().stack_load(I64, I64, slot, 0);
            self.store_ctx(prev, offsets::ROOTS);
        }
    }

    /// Stores the references live after the current instruction into the shadow
    /// frame, so that a collection at this safepoint sees and updates them.
    fn spill(&mut self) -> Result<Vec<u32>, NotCompiled> {
        let live = self.live.get(self.cur).cloned().unwrap_or_default();
        let Some(slot) = self.shadow else {
            return Ok(live);
        };
        let mut refs = Vec::new();
        for s in &live {
            if let Some(v) = self.slots.get(s) {
                refs.push(*v);
            } else {
                let leaves = self
                    .aggs
                    .get(s)
                    .ok_or_else(|| NotCompiled("a reference of another block".into()))?;
                let t = self.slot_type(std::slice::from_ref(s))?;
                for i in ref_leaves(self.types(), t) {
                    refs.push(leaves[i]);
                }
            }
        }
        let n = self.b.ins().iconst(I64, refs.len() as i64);
        self.b.ins().stack_store(I64, n, slot, 8);
        for (i, v) in refs.into_iter().enumerate() {
            self.b.ins().stack_store(I64, v, slot, 16 + 8 * i as i32);
        }
        Ok(live)
    }

    /// Reloads the references a collection may have moved: each reference leaf of
    /// the values `spill` saved, in the same order.
    fn reload(&mut self, live: &[u32]) {
        let Some(slot) = self.shadow else { return };
        let mut k = 0;
        for s in live {
            if self.slots.contains_key(s) {
                let v = self.b.ins().stack_load(I64, I64, slot, 16 + 8 * k);
                self.slots.insert(*s, v);
                k += 1;
            } else if let Ok(t) = self.slot_type(std::slice::from_ref(s)) {
                for i in ref_leaves(self.types(), t) {
                    let v = self.b.ins().stack_load(I64, I64, slot, 16 + 8 * k);
                    if let Some(leaves) = self.aggs.get_mut(s) {
                        leaves[i] = v;
                    }
                    k += 1;
                }
            }
        }
        let z = self.b.ins().iconst(I64, 0);
        self.b.ins().stack_store(I64, z, slot, 8);
    }

    /// Returns `status` with no result word.
    fn return_status(&mut self, status: Value) {
        let z = self.b.ins().iconst(I64, 0);
        self.b.ins().return_(&[status, z]);
    }

    /// Ends the run: records why and returns STOP.
    fn stop(&mut self, code: StopCode, detail: i64) {
        self.leave();
        let c = self.b.ins().iconst(I64, code as i64);
        self.store_ctx(c, offsets::STOP);
        let d = self.b.ins().iconst(I64, detail);
        self.store_ctx(d, offsets::DETAIL);
        let s = self.b.ins().iconst(I32, i64::from(STOP));
        self.return_status(s);
    }

    /// The function's cold exit that stops the run with `code`.
    fn exit(&mut self, code: StopCode) -> Block {
        if let Some((_, b)) = self.exits.iter().find(|(c, _)| *c == code) {
            return *b;
        }
        let b = self.b.create_block();
        self.b.set_cold_block(b);
        self.exits.push((code, b));
        b
    }

    /// The function's cold exit that returns its one parameter, a status, to the
    /// caller (an exception or a stop passing through).
    fn up_block(&mut self) -> Block {
        if let Some(b) = self.up {
            return b;
        }
        let b = self.b.create_block();
        self.b.append_block_param(b, I32);
        self.b.set_cold_block(b);
        self.up = Some(b);
        b
    }

    /// Fills in the shared exits (once the body is lowered).
    fn fill_exits(&mut self) {
        for (code, b) in std::mem::take(&mut self.exits) {
            self.b.switch_to_block(b);
            self.stop(code, 0);
        }
        if let Some(b) = self.up {
            self.b.switch_to_block(b);
            let status = self.b.block_params(b)[0];
            self.leave();
            self.return_status(status);
        }
    }

    /// Continues if `ok` holds, else stops with `code` (at the shared exit).
    fn check_or_stop(&mut self, ok: Value, code: StopCode) {
        let cont = self.b.create_block();
        let bad = self.exit(code);
        self.b.ins().brif(ok, cont, &[], bad, &[]);
        self.b.switch_to_block(cont);
    }

    /// `budget.fuel`: the block's length is charged on entry.
    fn charge_fuel(&mut self, len: i64) {
        if !self.env.fuel {
            return;
        }
        let fuel = self.load_ctx(I64, offsets::FUEL);
        let ok = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, fuel, len);
        self.check_or_stop(ok, StopCode::Fuel);
        let left = self.b.ins().iadd_imm_s(fuel, -len);
        self.store_ctx(left, offsets::FUEL);
    }

    fn val(&mut self, o: Operand) -> Result<Value, NotCompiled> {
        let module = self.env.module;
        Ok(match o {
            Operand::Local(s) => *self
                .slots
                .get(&s)
                .ok_or_else(|| unsupported("a value of another block"))?,
            Operand::Const(c) => {
                let k = &module.consts[c as usize];
                let ty = cl_type(&module.types, k.ty)
                    .ok_or_else(|| unsupported("an aggregate constant"))?;
                match &k.value {
                    ConstValue::Int(b) => self.b.ins().iconst(ty, *b as i64),
                    ConstValue::Float(b) => self.b.ins().f32const(Ieee32::with_bits(*b)),
                    ConstValue::Double(b) => self.b.ins().f64const(Ieee64::with_bits(*b)),
                    ConstValue::Null => self.b.ins().iconst(ty, 0),
                    ConstValue::Extern(sym) => {
                        let addr = self.env.externs[c as usize].ok_or_else(|| {
                            NotCompiled(format!("EXTERN \"{sym}\" is unresolved"))
                        })?;
                        self.b.ins().iconst(I64, addr as i64)
                    }
                    ConstValue::List(_) => return Err(unsupported("an aggregate constant")),
                    ConstValue::Global(g) => return self.val(Operand::Global(*g)),
                    ConstValue::Func(f) => return self.val(Operand::Func(*f)),
                }
            }
            Operand::Global(g) => {
                let base = self.load_ctx(I64, offsets::GLOBALS);
                self.b
                    .ins()
                    .iadd_imm_s(base, self.env.global_offsets[g as usize] as i64)
            }
            Operand::Func(f) => {
                let fr = self.func_ref(f);
                self.b.ins().func_addr(I64, fr)
            }
            Operand::Expose(e) => {
                let id = self.env.exposes[e as usize]
                    .ok_or_else(|| unsupported("an exposure of this signature"))?;
                let fr = self.import(id);
                self.b.ins().func_addr(I64, fr)
            }
        })
    }

    /// The leaves of an operand (one for a scalar).
    fn flat(&mut self, o: Operand) -> Result<Vec<Value>, NotCompiled> {
        match o {
            Operand::Local(s) if self.aggs.contains_key(&s) => Ok(self.aggs[&s].clone()),
            Operand::Const(c)
                if matches!(
                    self.env.module.consts[c as usize].value,
                    ConstValue::List(_)
                ) =>
            {
                self.const_leaves(c)
            }
            _ => Ok(vec![self.val(o)?]),
        }
    }

    fn const_leaves(&mut self, c: u32) -> Result<Vec<Value>, NotCompiled> {
        let module = self.env.module;
        match &module.consts[c as usize].value {
            ConstValue::List(items) => {
                let mut out = Vec::new();
                for i in items {
                    out.extend(self.const_leaves(*i)?);
                }
                Ok(out)
            }
            _ => Ok(vec![self.val(Operand::Const(c))?]),
        }
    }

    /// The leaves of several operands, concatenated.
    fn vals(&mut self, os: &[Operand]) -> Result<Vec<Value>, NotCompiled> {
        let mut out = Vec::new();
        for o in os {
            out.extend(self.flat(*o)?);
        }
        Ok(out)
    }

    /// Binds a frame slot of type `t` to its leaves.
    fn bind(&mut self, slot: u32, t: TypeId, vs: Vec<Value>) {
        if cl_type(self.types(), t).is_some() && vs.len() == 1 {
            self.slots.insert(slot, vs[0]);
        } else {
            self.aggs.insert(slot, vs);
        }
    }

    fn set(&mut self, results: &[u32], i: usize, v: Value) {
        if let Some(s) = results.get(i) {
            self.slots.insert(*s, v);
        }
    }

    fn set_flat(&mut self, results: &[u32], i: usize, t: TypeId, vs: Vec<Value>) {
        if let Some(s) = results.get(i) {
            self.bind(*s, t, vs);
        }
    }

    /// The type of an instruction's first result.
    fn slot_type(&self, r: &[u32]) -> Result<TypeId, NotCompiled> {
        let body = self
            .func
            .body
            .as_ref()
            .ok_or_else(|| unsupported("a body"))?;
        Ok(r.first().map_or(0, |s| body.slot_types[*s as usize]))
    }

    /// Leaf ranges of each field of a struct.
    fn field_ranges(&self, t: TypeId) -> Result<Vec<std::ops::Range<usize>>, NotCompiled> {
        let Type::Struct(fs) = self.types().get(t) else {
            return Err(unsupported("a non-struct aggregate"));
        };
        let mut out = Vec::new();
        let mut k = 0;
        for f in fs {
            let n = leaves(self.types(), *f)
                .ok_or_else(|| unsupported("this field type"))?
                .len();
            out.push(k..k + n);
            k += n;
        }
        Ok(out)
    }

    /// The arguments of a jump to `d`: its arguments, then NULL for an exceptional
    /// parameter (or `exc` on an exceptional edge).
    fn dest_args(&mut self, d: &Dest, exc: Option<Value>) -> Result<Vec<Value>, NotCompiled> {
        let mut args = self.vals(&d.args)?;
        let body = self
            .func
            .body
            .as_ref()
            .ok_or_else(|| unsupported("a body"))?;
        if body.blocks[d.block as usize].exc_param.is_some() {
            let e = match exc {
                Some(e) => e,
                None => self.b.ins().iconst(I64, 0),
            };
            args.push(e);
        }
        Ok(args)
    }

    fn jump(&mut self, d: &Dest, exc: Option<Value>) -> Result<(), NotCompiled> {
        let args = self.dest_args(d, exc)?;
        let target = self.blocks[d.block as usize];
        self.b.ins().jump(target, &bargs(&args));
        Ok(())
    }

    /// The tail `%r1 = CALL @f (args); %r = ADD %x %r1` of an accumulator site: the
    /// stack check the call would make, then back to the loop head with the
    /// arguments, `acc + x` and one frame deeper.
    fn loop_back(
        &mut self,
        call: &spec_model::ir::Inst,
        add: &spec_model::ir::Inst,
    ) -> Result<(), NotCompiled> {
        let (Op::Call { args, .. }, &Op::BinOp { a, b, .. }) = (&call.op, &add.op) else {
            return Err(NotCompiled("an accumulator site".into()));
        };
        let Some(acc) = self.acc.clone() else {
            return Err(NotCompiled("an accumulator site".into()));
        };
        self.check_stack(&None)?;
        let x = if a == Operand::Local(call.results[0]) {
            b
        } else {
            a
        };
        let x = self.val(x)?;
        let sum = self.binop(BinOp::Add, acc.ty, acc.acc, x, &None)?;
        let mut argv = self.vals(&args.clone())?;
        let deeper = self.b.ins().iadd_imm_s(self.depth, 1);
        argv.extend([sum, deeper]);
        self.b.ins().jump(acc.head, &bargs(&argv));
        self.ended = true;
        Ok(())
    }

    /// Is block `b` a loop test worth copying into the blocks that branch to it: a
    /// comparison or two and a BRANCH2, nothing that can fail or reach a safepoint?
    /// Copying it turns a loop whose test is at the top into one tested at the
    /// bottom (one jump less an iteration), as C compilers rotate loops.
    fn duplicable(&self, b: u32) -> bool {
        let Some(body) = &self.func.body else {
            return false;
        };
        let blk = &body.blocks[b as usize];
        let (Some((last, init)), None) = (blk.insts.split_last(), blk.exc_param) else {
            return false;
        };
        init.len() <= 2
            && matches!(last.op, Op::Branch2 { .. })
            && init.iter().all(|i| match &i.op {
                Op::Cmp { .. } => true,
                Op::BinOp { op, exc: None, .. } => {
                    !matches!(op, BinOp::Sdiv | BinOp::Srem | BinOp::Udiv | BinOp::Urem)
                }
                _ => false,
            })
    }

    /// Lowers block `d.block` in place of a branch to it: its parameters bound to
    /// the branch's arguments, its length charged as entering it would.
    fn duplicate(&mut self, d: &Dest) -> Result<(), NotCompiled> {
        let args = self.dest_args(d, None)?;
        let func = self.func;
        let Some(body) = &func.body else {
            return self.jump(d, None);
        };
        let blk = &body.blocks[d.block as usize];
        let mut k = 0;
        for slot in &blk.params {
            let t = body.slot_types[*slot as usize];
            let n = leaves(self.types(), t).map_or(1, |l| l.len());
            self.bind(*slot, t, args[k..k + n].to_vec());
            k += n;
        }
        self.charge_fuel(blk.insts.len() as i64);
        for inst in &blk.insts {
            self.inst(&inst.op, &inst.results)?;
        }
        Ok(())
    }

    /// Continues normally after an instruction that may have an EXC clause.
    fn next(&mut self, exc: &Option<Exc>) -> Result<(), NotCompiled> {
        if let Some(e) = exc {
            self.jump(&e.nor, None)?;
        }
        Ok(())
    }

    /// Continues exceptionally with NULL when `failed`, else falls through.
    fn fail_if(
        &mut self,
        failed: Value,
        exc: &Option<Exc>,
        code: StopCode,
    ) -> Result<(), NotCompiled> {
        let cont = self.b.create_block();
        match exc {
            Some(e) => {
                let bad = self.b.create_block();
                self.b.set_cold_block(bad);
                self.b.ins().brif(failed, bad, &[], cont, &[]);
                self.b.switch_to_block(bad);
                let null = self.b.ins().iconst(I64, 0);
                self.jump(&e.exc, Some(null))?;
            }
            None => {
                let bad = self.exit(code);
                self.b.ins().brif(failed, bad, &[], cont, &[]);
            }
        }
        self.b.switch_to_block(cont);
        Ok(())
    }

    fn width(&self, t: TypeId) -> u32 {
        self.types().int_width(t).unwrap_or(64)
    }

    /// Clears the bits above n.
    fn norm(&mut self, v: Value, n: u32) -> Value {
        let w = bits(self.b.func.dfg.value_type(v));
        if n < w {
            self.b.ins().band_imm_s(v, mask(n))
        } else {
            v
        }
    }

    /// The value with its n-bit sign extended through its container.
    fn sview(&mut self, v: Value, n: u32) -> Value {
        let w = bits(self.b.func.dfg.value_type(v));
        if n < w {
            let s = i64::from(w - n);
            let l = self.b.ins().ishl_imm_s(v, s);
            self.b.ins().sshr_imm_s(l, s)
        } else {
            v
        }
    }

    fn widen(&mut self, v: Value) -> Value {
        let t = self.b.func.dfg.value_type(v);
        match t {
            I64 => v,
            F32 => {
                let b = self.b.ins().bitcast(I32, MemFlagsData::new(), v);
                self.b.ins().uextend(I64, b)
            }
            F64 => self.b.ins().bitcast(I64, MemFlagsData::new(), v),
            _ => self.b.ins().uextend(I64, v),
        }
    }

    fn narrow(&mut self, v: Value, t: ClType) -> Value {
        match t {
            I64 => v,
            F64 => self.b.ins().bitcast(F64, MemFlagsData::new(), v),
            F32 => {
                let b = self.b.ins().ireduce(I32, v);
                self.b.ins().bitcast(F32, MemFlagsData::new(), b)
            }
            _ => self.b.ins().ireduce(t, v),
        }
    }

    fn inst(&mut self, op: &Op, r: &[u32]) -> Result<(), NotCompiled> {
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
                    Operand::Func(f) => {
                        let fr = self.func_ref(*f);
                        self.b.ins().return_call(fr, &argv);
                    }
                    other => {
                        let fp = self.val(*other)?;
                        let nonnull = self.b.ins().icmp_imm_s(IntCC::NotEqual, fp, 0);
                        self.check_or_stop(nonnull, StopCode::NullCall);
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
            Op::Load { ptr, ty, loc, exc } => {
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
                name, keepalive, ..
            } => {
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
                self.env.traps.push(TrapInfo {
                    name: name.as_str().to_string(),
                    values: tys,
                });
                self.stop(StopCode::ClientTrap, index);
                // Instructions after a TRAP are unreachable in this engine; keep the IR valid.
                let dead = self.b.create_block();
                self.b.switch_to_block(dead);
            }
            Op::CommInst(CommInst::ThreadExit) => self.stop(StopCode::ThreadExit, 0),
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
    fn switch(
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

    /// CCALL #DEFAULT through the SysV lowering of `ccall.rs`.
    fn ccall(
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
        // Callbacks from C continue counting frames from this one.
        self.store_ctx(self.depth, offsets::DEPTH);
        let sr = self.b.import_signature(csig);
        let call = self.b.ins().call_indirect(sr, fp, &argv);
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

    /// `x + sext(i) * size`.
    fn index(
        &mut self,
        x: Operand,
        i: Operand,
        ity: TypeId,
        size: u64,
    ) -> Result<Value, NotCompiled> {
        let x = self.val(x)?;
        let i = self.val(i)?;
        let n = self.width(ity);
        let s = self.sview(i, n);
        let s = if n <= 32 || bits(self.b.func.dfg.value_type(s)) < 64 {
            self.b.ins().sextend(I64, s)
        } else {
            s
        };
        let off = self.b.ins().imul_imm_s(s, size as i64);
        Ok(self.b.ins().iadd(x, off))
    }

    /// The address an access uses; NULL irefs continue exceptionally or stop.
    fn address(
        &mut self,
        ptr: bool,
        loc: Operand,
        exc: &Option<Exc>,
    ) -> Result<Value, NotCompiled> {
        let a = self.val(loc)?;
        let known = matches!(loc, Operand::Local(s) if self.non_null.contains(&s))
            || matches!(loc, Operand::Global(_));
        if !ptr && !known {
            let null = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
            self.fail_if(null, exc, StopCode::NullRef)?;
        }
        Ok(a)
    }

    /// A fixed-size allocation: bump the nursery inline (header: size, type), and
    /// call `rt_alloc` only when the nursery or the budget is short.
    fn alloc_fixed(
        &mut self,
        size: u64,
        ty: TypeId,
        exc: &Option<Exc>,
        r: &[u32],
    ) -> Result<(), NotCompiled> {
        use crate::runtime::HEADER;
        let total = HEADER + size.div_ceil(16) * 16;
        let left = self.load_ctx(I64, offsets::ALLOC_LEFT);
        let enough = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, left, size as i64);
        let bump = self.load_ctx(I64, offsets::BUMP);
        let limit = self.load_ctx(I64, offsets::LIMIT);
        let nb = self.b.ins().iadd_imm_s(bump, total as i64);
        let fits = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, nb, limit);
        let ok = self.b.ins().band(enough, fits);
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        // The join takes the object and the references live across: only the slow
        // path can collect (and move what they point to), so only it saves and
        // reloads them.
        self.b.append_block_param(join, I64);
        let live = self.live.get(self.cur).cloned().unwrap_or_default();
        let before = self.live_values(&live);
        for v in &before {
            let vt = self.b.func.dfg.value_type(*v);
            self.b.append_block_param(join, vt);
        }
        self.b.set_cold_block(slow);
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        self.store_ctx(nb, offsets::BUMP);
        let rest = self.b.ins().iadd_imm_s(left, -(size as i64));
        self.store_ctx(rest, offsets::ALLOC_LEFT);
        let sz = self.b.ins().iconst(I64, size as i64);
        self.b.ins().store(MemFlagsData::trusted(), sz, bump, 0);
        let t = self.b.ins().iconst(I64, i64::from(ty));
        self.b.ins().store(MemFlagsData::trusted(), t, bump, 8);
        let addr = self.b.ins().iadd_imm_s(bump, HEADER as i64);
        let mut a = vec![addr];
        a.extend(&before);
        self.b.ins().jump(join, &bargs(&a));
        self.b.switch_to_block(slow);
        let spilled = self.spill()?;
        let sz = self.b.ins().iconst(I64, size as i64);
        let t = self.b.ins().iconst(I64, i64::from(ty));
        let zero = self.b.ins().iconst(I64, 0);
        let alloc = self.import(self.env.rt.alloc);
        let call = self.b.ins().call(alloc, &[self.ctx, sz, t, zero]);
        let addr = self.b.inst_results(call)[0];
        self.reload(&spilled);
        // 0: the allocation budget was short.
        let none = self.b.ins().icmp_imm_s(IntCC::Equal, addr, 0);
        self.fail_if(none, exc, StopCode::Alloc)?;
        let mut a = vec![addr];
        a.extend(self.live_values(&live));
        self.b.ins().jump(join, &bargs(&a));
        self.b.switch_to_block(join);
        let ps = self.b.block_params(join).to_vec();
        self.rebind(&live, &ps[1..]);
        self.set(r, 0, ps[0]);
        self.next(exc)
    }

    /// After an allocation: reload the spilled references; 0 means the allocation
    /// budget was short (continue exceptionally or stop).
    fn allocated(
        &mut self,
        addr: Value,
        live: &[u32],
        exc: &Option<Exc>,
        r: &[u32],
    ) -> Result<(), NotCompiled> {
        self.reload(live);
        let none = self.b.ins().icmp_imm_s(IntCC::Equal, addr, 0);
        self.fail_if(none, exc, StopCode::Alloc)?;
        self.set(r, 0, addr);
        self.next(exc)
    }

    fn alloc(
        &mut self,
        size: Value,
        ty: TypeId,
        var_len: Value,
        exc: &Option<Exc>,
        r: &[u32],
    ) -> Result<(), NotCompiled> {
        let live = self.spill()?;
        let t = self.b.ins().iconst(I64, i64::from(ty));
        let alloc = self.import(self.env.rt.alloc);
        let call = self.b.ins().call(alloc, &[self.ctx, size, t, var_len]);
        let addr = self.b.inst_results(call)[0];
        self.allocated(addr, &live, exc, r)
    }

    fn call(
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
            Operand::Func(g) if !self.env.fuel && exc.is_none() && r.len() == 1 => {
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

    /// The current values of frame slots `live` (an aggregate's leaves in order).
    fn live_values(&self, live: &[u32]) -> Vec<Value> {
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
    fn rebind(&mut self, live: &[u32], vals: &[Value]) {
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
    fn check_stack(&mut self, exc: &Option<Exc>) -> Result<(), NotCompiled> {
        let max = self.load_ctx(I64, offsets::MAX_DEPTH);
        let full = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, self.depth, max);
        self.fail_if(full, exc, StopCode::Stack)
    }

    /// A call; `checked`: the stack budget was checked for it already.
    fn call_general(
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
        let call = match callee {
            Operand::Func(f) => {
                let fr = self.func_ref(f);
                self.b.ins().call(fr, &argv)
            }
            other => {
                let fp = self.val(other)?;
                let nonnull = self.b.ins().icmp_imm_s(IntCC::NotEqual, fp, 0);
                self.check_or_stop(nonnull, StopCode::NullCall);
                let s = mu_signature(self.types(), sig)
                    .ok_or_else(|| unsupported("an aggregate signature"))?;
                let sr = self.b.import_signature(s);
                self.b.ins().call_indirect(sr, fp, &argv)
            }
        };
        let status = self.b.inst_results(call)[0];
        let word0 = self.b.inst_results(call)[1];
        self.reload(&live);
        let normal = self.b.create_block();
        let ok = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, status, i64::from(NORMAL));
        let up = self.up_block();
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
        let rets = self.types().sig(sig).rets.clone();
        let mut k: usize = 0;
        for (i, t) in rets.iter().enumerate() {
            let ls =
                leaves(self.types(), *t).ok_or_else(|| unsupported("a result of this type"))?;
            let mut vs = Vec::new();
            for (_, ct) in ls {
                let w = if k == 0 {
                    word0
                } else {
                    self.load_ctx(I64, offsets::RET + 8 * k as i32)
                };
                vs.push(self.narrow(w, ct));
                k += 1;
            }
            self.set_flat(r, i, *t, vs);
        }
        self.next(exc)
    }

    fn binop(
        &mut self,
        op: BinOp,
        ty: TypeId,
        a: Value,
        b: Value,
        exc: &Option<Exc>,
    ) -> Result<Value, NotCompiled> {
        let n = self.width(ty);
        Ok(match op {
            BinOp::Add => {
                let v = self.b.ins().iadd(a, b);
                self.norm(v, n)
            }
            BinOp::Sub => {
                let v = self.b.ins().isub(a, b);
                self.norm(v, n)
            }
            BinOp::Mul => {
                let v = self.b.ins().imul(a, b);
                self.norm(v, n)
            }
            BinOp::And => self.b.ins().band(a, b),
            BinOp::Or => self.b.ins().bor(a, b),
            BinOp::Xor => self.b.ins().bxor(a, b),
            BinOp::Udiv | BinOp::Urem | BinOp::Sdiv | BinOp::Srem => {
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
                self.fail_if(zero, exc, StopCode::DivByZero)?;
                match op {
                    BinOp::Udiv => self.b.ins().udiv(a, b),
                    BinOp::Urem => self.b.ins().urem(a, b),
                    _ => {
                        // Signed overflow (MIN / -1) truncates: divide by -1 as negation.
                        let (sa, sb) = (self.sview(a, n), self.sview(b, n));
                        let minus1 = self.b.ins().icmp_imm_s(IntCC::Equal, sb, -1);
                        let one = {
                            let t = self.b.func.dfg.value_type(sb);
                            self.b.ins().iconst(t, 1)
                        };
                        let safe = self.b.ins().select(minus1, one, sb);
                        let q = if op == BinOp::Sdiv {
                            self.b.ins().sdiv(sa, safe)
                        } else {
                            self.b.ins().srem(sa, safe)
                        };
                        let special = if op == BinOp::Sdiv {
                            self.b.ins().ineg(sa)
                        } else {
                            {
                                let t = self.b.func.dfg.value_type(sb);
                                self.b.ins().iconst(t, 0)
                            }
                        };
                        let v = self.b.ins().select(minus1, special, q);
                        self.norm(v, n)
                    }
                }
            }
            BinOp::Shl | BinOp::Lshr | BinOp::Ashr => {
                let w = bits(self.b.func.dfg.value_type(a));
                if n == w {
                    match op {
                        BinOp::Shl => self.b.ins().ishl(a, b),
                        BinOp::Lshr => self.b.ins().ushr(a, b),
                        _ => self.b.ins().sshr(a, b),
                    }
                } else {
                    let amt = self
                        .b
                        .ins()
                        .band_imm_s(b, i64::from(n.next_power_of_two() - 1));
                    let big = self.b.ins().icmp_imm_s(
                        IntCC::UnsignedGreaterThanOrEqual,
                        amt,
                        i64::from(n),
                    );
                    let (v, fill) = match op {
                        BinOp::Shl => {
                            let v = self.b.ins().ishl(a, amt);
                            let z = {
                                let t = self.b.func.dfg.value_type(a);
                                self.b.ins().iconst(t, 0)
                            };
                            (v, z)
                        }
                        BinOp::Lshr => {
                            let v = self.b.ins().ushr(a, amt);
                            let z = {
                                let t = self.b.func.dfg.value_type(a);
                                self.b.ins().iconst(t, 0)
                            };
                            (v, z)
                        }
                        _ => {
                            let s = self.sview(a, n);
                            let v = self.b.ins().sshr(s, amt);
                            let f = self.b.ins().sshr_imm_s(s, i64::from(w - 1));
                            (v, f)
                        }
                    };
                    let v = self.b.ins().select(big, fill, v);
                    self.norm(v, n)
                }
            }
            BinOp::Fadd => self.b.ins().fadd(a, b),
            BinOp::Fsub => self.b.ins().fsub(a, b),
            BinOp::Fmul => self.b.ins().fmul(a, b),
            BinOp::Fdiv => self.b.ins().fdiv(a, b),
            BinOp::Frem => {
                let f = if self.b.func.dfg.value_type(a) == F32 {
                    self.import(self.env.rt.fmodf)
                } else {
                    self.import(self.env.rt.fmod)
                };
                let c = self.b.ins().call(f, &[a, b]);
                self.b.inst_results(c)[0]
            }
        })
    }

    fn cmp(&mut self, op: CmpOp, ty: TypeId, a: Value, b: Value) -> Value {
        let n = self.width(ty);
        let int = |cx: &mut Self, cc: IntCC, signed: bool| {
            let (a, b) = if signed {
                (cx.sview(a, n), cx.sview(b, n))
            } else {
                (a, b)
            };
            cx.b.ins().icmp(cc, a, b)
        };
        let float = |cx: &mut Self, cc: FloatCC| cx.b.ins().fcmp(cc, a, b);
        match op {
            CmpOp::Eq => int(self, IntCC::Equal, false),
            CmpOp::Ne => int(self, IntCC::NotEqual, false),
            CmpOp::Sge => int(self, IntCC::SignedGreaterThanOrEqual, true),
            CmpOp::Sgt => int(self, IntCC::SignedGreaterThan, true),
            CmpOp::Sle => int(self, IntCC::SignedLessThanOrEqual, true),
            CmpOp::Slt => int(self, IntCC::SignedLessThan, true),
            CmpOp::Uge => int(self, IntCC::UnsignedGreaterThanOrEqual, false),
            CmpOp::Ugt => int(self, IntCC::UnsignedGreaterThan, false),
            CmpOp::Ule => int(self, IntCC::UnsignedLessThanOrEqual, false),
            CmpOp::Ult => int(self, IntCC::UnsignedLessThan, false),
            CmpOp::Ftrue => self.b.ins().iconst(I8, 1),
            CmpOp::Ffalse => self.b.ins().iconst(I8, 0),
            CmpOp::Funo => float(self, FloatCC::Unordered),
            CmpOp::Ford => float(self, FloatCC::Ordered),
            CmpOp::Foeq => float(self, FloatCC::Equal),
            CmpOp::Fone => float(self, FloatCC::OrderedNotEqual),
            CmpOp::Fogt => float(self, FloatCC::GreaterThan),
            CmpOp::Foge => float(self, FloatCC::GreaterThanOrEqual),
            CmpOp::Folt => float(self, FloatCC::LessThan),
            CmpOp::Fole => float(self, FloatCC::LessThanOrEqual),
            CmpOp::Fueq => float(self, FloatCC::UnorderedOrEqual),
            CmpOp::Fune => float(self, FloatCC::NotEqual),
            CmpOp::Fugt => float(self, FloatCC::UnorderedOrGreaterThan),
            CmpOp::Fuge => float(self, FloatCC::UnorderedOrGreaterThanOrEqual),
            CmpOp::Fult => float(self, FloatCC::UnorderedOrLessThan),
            CmpOp::Fule => float(self, FloatCC::UnorderedOrLessThanOrEqual),
        }
    }

    fn conv(
        &mut self,
        op: ConvOp,
        from: TypeId,
        to: TypeId,
        x: Value,
    ) -> Result<Value, NotCompiled> {
        let tt = cl_type(self.types(), to).ok_or_else(|| unsupported("this conversion"))?;
        let ft = self.b.func.dfg.value_type(x);
        let (n, m) = (self.width(from), self.width(to));
        let resize = |cx: &mut Self, v: Value, signed: bool| {
            let vt = cx.b.func.dfg.value_type(v);
            if bits(vt) > bits(tt) {
                cx.b.ins().ireduce(tt, v)
            } else if bits(vt) < bits(tt) {
                if signed {
                    cx.b.ins().sextend(tt, v)
                } else {
                    cx.b.ins().uextend(tt, v)
                }
            } else {
                v
            }
        };
        Ok(match op {
            ConvOp::Trunc | ConvOp::Zext => {
                let v = resize(self, x, false);
                self.norm(v, m)
            }
            ConvOp::Sext => {
                let s = self.sview(x, n);
                let v = resize(self, s, true);
                self.norm(v, m)
            }
            ConvOp::Fptrunc => self.b.ins().fdemote(F32, x),
            ConvOp::Fpext => self.b.ins().fpromote(F64, x),
            ConvOp::Fptoui => {
                let v = self.b.ins().fcvt_to_uint_sat(I64, x);
                let v = if m < 64 {
                    let lim = self.b.ins().iconst(I64, mask(m));
                    self.b.ins().umin(v, lim)
                } else {
                    v
                };
                resize(self, v, false)
            }
            ConvOp::Fptosi => {
                let v = self.b.ins().fcvt_to_sint_sat(I64, x);
                let v = if m < 64 {
                    let hi = self.b.ins().iconst(I64, (1i64 << (m - 1)) - 1);
                    let lo = self.b.ins().iconst(I64, -(1i64 << (m - 1)));
                    let v = self.b.ins().smin(v, hi);
                    self.b.ins().smax(v, lo)
                } else {
                    v
                };
                let v = resize(self, v, false);
                self.norm(v, m)
            }
            ConvOp::Uitofp => self.b.ins().fcvt_from_uint(tt, x),
            ConvOp::Sitofp => {
                let s = self.sview(x, n);
                self.b.ins().fcvt_from_sint(tt, s)
            }
            ConvOp::Bitcast => self.b.ins().bitcast(tt, MemFlagsData::new(), x),
            ConvOp::Refcast => x,
            ConvOp::Ptrcast => {
                let _ = ft;
                let v = resize(self, x, false);
                if self.types().is_ptr(to) {
                    v
                } else {
                    self.norm(v, m)
                }
            }
        })
    }
}

/// The operands an instruction's destinations pass (used after it runs).
fn dest_uses(op: &Op) -> Vec<Operand> {
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
            CommInst::Unexpose { p } => out.push(*p),
            CommInst::ThreadExit | CommInst::GetCookie => {}
        },
        Op::New { .. } | Op::Alloca { .. } | Op::Branch(_) | Op::Fence => {}
    }
    out
}

/// The indices, among the leaves of a value of type `t`, of those the collector
/// traces (`ref`, `iref`, `weakref`): a scalar reference is its own leaf 0, a
/// struct or array has its reference fields' leaves.
pub fn ref_leaves(types: &Types, t: TypeId) -> Vec<usize> {
    fn walk(types: &Types, t: TypeId, k: &mut usize, out: &mut Vec<usize>) {
        match types.get(t) {
            Type::Struct(fs) => fs.iter().for_each(|f| walk(types, *f, k, out)),
            Type::Array(e, n) => (0..*n).for_each(|_| walk(types, *e, k, out)),
            Type::Ref(_) | Type::IRef(_) | Type::WeakRef(_) => {
                out.push(*k);
                *k += 1;
            }
            _ => *k += 1,
        }
    }
    let mut out = Vec::new();
    if leaves(types, t).is_some() {
        walk(types, t, &mut 0, &mut out);
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
