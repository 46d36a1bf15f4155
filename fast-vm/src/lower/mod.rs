//! Mu IR to Cranelift IR, one Mu function at a time.
//!
//! Mu functions use Cranelift's `tail` convention (so `TAILCALL` is a real tail
//! call): parameters are the context pointer then the Mu parameters; the one result
//! is a status (`runtime::NORMAL`, `EXCEPTION`, `STOP`), Mu results travel in
//! `Ctx::ret`. A Mu block is a Cranelift block with the same parameters (plus the
//! exceptional parameter, NULL when the block is entered normally), and charges its
//! length in fuel when entered. Values of `int<n>` live in the smallest of
//! i8/i16/i32/i64 holding them, with the unused high bits zero.
//!
//! The rooms: this file holds the function driver ([`lower_function`]) and what
//! every instruction shares (values and slots, the context, spills around
//! safepoints, exits, fuel, jumps); [`types`] Mu types as Cranelift types and
//! leaves; `insts` the dispatch of each instruction and SWITCH; `arith` binary
//! operations, comparisons and conversions; `memory` addressing and allocation;
//! `calls` CALL, TAILCALL and CCALL; `analysis` the analyses (accumulator loops,
//! base cases, uses, live references, non-NULL slots).

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

mod analysis;
mod arith;
mod calls;
mod insts;
mod memory;
mod stubs;
mod types;

pub(crate) use analysis::uses;
use analysis::{Accumulator, Src, accumulator_sites, base_case};
pub use analysis::{live_refs, non_null};
pub use stubs::undefined_function;
pub use types::{cl_type, leaves, mu_signature, ref_leaves};

/// Words in a frame record (client mode): previous record, the function's frame
/// table, unused, the site the frame is at (an index into the table; `NO_SITE`
/// when it has not reached one), depth. The frame table is data of the function's
/// own, `[function ID, version ID, (instruction ID, site word) per site]`: kept
/// out of the code, the IDs (which depend on the whole program) leave the code the
/// same across programs, so the code cache finds it.
pub const RECORD_WORDS: usize = 5;

/// A record's site before the frame reaches one.
pub const NO_SITE: u64 = u64::MAX;

/// The site word of a CCALL carries this bit.
pub const IN_NATIVE: u64 = 1 << 32;

/// The site word of a CALL carries its signature + 1 from this bit on (what a
/// client popping to the frame resumes it with).
pub const CALL_SIG_SHIFT: u32 = 33;

/// What a frame waits in, as its record says (`Cx::mark`).
#[derive(Clone, Copy, Debug)]
pub(super) enum Site {
    /// A TRAP.
    Trap,
    /// A CCALL.
    Native,
    /// A CALL of this signature.
    Call(SigId),
}

/// A client trap's name and its keep-alive values, by index.
#[derive(Clone, Debug)]
pub struct TrapInfo {
    /// The trap's name.
    pub name: String,
    /// Its KEEPALIVE values, in order.
    pub values: Vec<Kept>,
    /// The types of its results (what a client resuming it passes).
    pub results: Vec<TypeId>,
    /// The Mu IDs of its function, version and instruction (what a cursor at
    /// its frame shows).
    pub ids: [u32; 3],
    /// Whether it is an enabled WATCHPOINT's trap.
    pub watch: bool,
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
    /// `rt_watch`, whether a watchpoint is enabled.
    pub watch: ClFuncId,
    /// `rt_unpin`.
    pub unpin: ClFuncId,
    /// `rt_fmod`.
    pub fmod: ClFuncId,
    /// `rt_fmodf`.
    pub fmodf: ClFuncId,
    /// `rt_trace`, when compiling with the native trace.
    pub trace: Option<ClFuncId>,
    /// `rt_trap`, the client's trap handler.
    pub trap: ClFuncId,
    /// `rt_osr_resume`, how a frame the client popped to goes on (client mode).
    pub osr_resume: ClFuncId,
    /// `rt_undefined`, the hidden version's trap (client mode).
    pub undefined: ClFuncId,
    /// `rt_new_stack`.
    pub new_stack: ClFuncId,
    /// `rt_current_stack`.
    pub current_stack: ClFuncId,
    /// `rt_kill_stack`.
    pub kill_stack: ClFuncId,
    /// `rt_swapstack`.
    pub swapstack: ClFuncId,
    /// `rt_new_thread`.
    pub new_thread: ClFuncId,
    /// `rt_get_threadlocal`.
    pub get_threadlocal: ClFuncId,
    /// `rt_set_threadlocal`.
    pub set_threadlocal: ClFuncId,
    /// `rt_futex_wait`.
    pub futex_wait: ClFuncId,
    /// `rt_futex_wake`.
    pub futex_wake: ClFuncId,
    /// `rt_futex_requeue`.
    pub futex_requeue: ClFuncId,
}

/// What the lowering of one function needs from the whole program. A callee is
/// imported into the function when it is first called.
pub struct Env<'a> {
    /// The module.
    pub module: &'a Module,
    /// The JIT module the function goes into (lowering defines in it the
    /// `ccall.al` trampolines its CCALLs need).
    pub jit: &'a mut cranelift_jit::JITModule,
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
    /// Compiled for a client (`Options::client`): frame records, calls through
    /// the callees' slots, nothing answered at a call site.
    pub client: bool,
    /// The function's frame table (client mode), which the caller defines with
    /// what lowering returns.
    pub info: Option<cranelift_module::DataId>,
    /// Each function's slot (client mode): a word of data holding the code of its
    /// current version, which a call loads; its address is the funcref.
    pub slots: &'a [Option<cranelift_module::DataId>],
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
    /// This frame's record (client mode): `[previous, function ID, version ID,
    /// instruction ID, depth]`, linked from `Ctx::frames`.
    record: Option<cranelift_codegen::ir::StackSlot>,
    /// The Mu ID of the instruction being lowered (0: it has no name).
    inst_id: u32,
    /// The frame table so far (client mode).
    table: Vec<u64>,
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
/// Returns the function's frame table (client mode; empty otherwise).
pub fn lower_function(
    env: Env<'_>,
    b: FunctionBuilder<'_>,
    func: &Func,
) -> Result<Vec<u64>, NotCompiled> {
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
        record: None,
        inst_id: 0,
        table: Vec::new(),
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
    if cx.env.client {
        let module = cx.env.module;
        let ids = [
            module.id_of(func.name.as_str()).unwrap_or(0),
            module.id_of(body.version.as_str()).unwrap_or(0),
        ];
        cx.push_record(ids);
    }
    let first = cx.blocks[0];
    let sites = if max_live == 0 && !cx.env.client {
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
            cx.inst_id = inst
                .name
                .as_ref()
                .and_then(|n| cx.env.module.id_of(n.as_str()))
                .unwrap_or(0);
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
    Ok(cx.table)
}

fn unsupported(what: &str) -> NotCompiled {
    NotCompiled(format!("{what} is not compiled by the fast VM yet"))
}

impl Cx<'_, '_> {
    fn types(&self) -> &Types {
        &self.env.module.types
    }

    /// The function `id` of the JIT module, imported on first use.
    /// Whether watchpoint `wpid` is enabled now (`rt_watch`, which never
    /// collects): a truth value.
    pub(super) fn watch_enabled(&mut self, wpid: u64) -> Value {
        let f = self.import(self.env.rt.watch);
        let id = self.b.ins().iconst(I64, wpid as i64);
        let c = self.b.ins().call(f, &[self.ctx, id]);
        let r = self.b.inst_results(c)[0];
        self.b.ins().icmp_imm_u(IntCC::NotEqual, r, 0)
    }

    fn import(&mut self, id: ClFuncId) -> FuncRef {
        if let Some(f) = self.imported.get(&id) {
            return *f;
        }
        let f = import_in(self.env.jit, self.b.func, id);
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

    /// Unlinks this function's shadow-stack frame and its record (before every
    /// return).
    fn leave(&mut self) {
        if let Some(slot) = self.shadow {
            let prev = self.b.ins().stack_load(I64, I64, slot, 0);
            self.store_ctx(prev, offsets::ROOTS);
        }
        if let Some(rec) = self.record {
            let prev = self.b.ins().stack_load(I64, I64, rec, 0);
            self.store_ctx(prev, offsets::FRAMES);
        }
    }

    /// Links this frame's record (client mode): its frame table (whose first
    /// words are the function and version IDs `ids`), no site yet, and its depth.
    pub(crate) fn push_record(&mut self, ids: [u32; 2]) {
        let Some(info) = self.env.info else { return };
        self.table = ids.iter().map(|i| u64::from(*i)).collect();
        let rec = self
            .b
            .create_sized_stack_slot(cranelift_codegen::ir::StackSlotData::new(
                cranelift_codegen::ir::StackSlotKind::ExplicitSlot,
                8 * RECORD_WORDS as u32,
                3,
            ));
        let prev = self.load_ctx(I64, offsets::FRAMES);
        self.b.ins().stack_store(I64, prev, rec, 0);
        let gv = self.env.jit.declare_data_in_func(info, self.b.func);
        let table = self.b.ins().symbol_value(I64, gv);
        self.b.ins().stack_store(I64, table, rec, 8);
        let none = self.b.ins().iconst(I64, NO_SITE as i64);
        self.b.ins().stack_store(I64, none, rec, 24);
        self.b.ins().stack_store(I64, self.depth, rec, 32);
        let addr = self.b.ins().stack_addr(I64, rec, 0);
        self.store_ctx(addr, offsets::FRAMES);
        self.record = Some(rec);
    }

    /// Notes in the frame record that the frame is at the current instruction:
    /// a trap, a CCALL (`Site::Native`, below which native frames may call back
    /// into Mu), or a CALL of signature `sig`.
    pub(super) fn mark(&mut self, site: Site) {
        if let Some(rec) = self.record {
            let word = match site {
                Site::Trap => 0,
                Site::Native => IN_NATIVE,
                Site::Call(sig) => (u64::from(sig) + 1) << CALL_SIG_SHIFT,
            };
            let k = (self.table.len() - 2) / 2;
            self.table.extend([u64::from(self.inst_id), word]);
            let v = self.b.ins().iconst(I64, k as i64);
            self.b.ins().stack_store(I64, v, rec, 24);
        }
    }

    /// The address of function `f`'s slot (client mode).
    pub(super) fn slot(&mut self, f: u32) -> Result<Value, NotCompiled> {
        let id = self
            .env
            .slots
            .get(f as usize)
            .copied()
            .flatten()
            .ok_or_else(|| unsupported("a call of a function with aggregate parameters"))?;
        let gv = self.env.jit.declare_data_in_func(id, self.b.func);
        Ok(self.b.ins().symbol_value(I64, gv))
    }

    /// This frame's record's address (client mode).
    pub(super) fn record_addr(&mut self) -> Option<Value> {
        let rec = self.record?;
        Some(self.b.ins().stack_addr(I64, rec, 0))
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
            // In client mode a funcref is the address of the function's slot.
            Operand::Func(f) if self.env.client => self.slot(f)?,
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
        widen(&mut self.b, v)
    }

    fn narrow(&mut self, v: Value, t: ClType) -> Value {
        narrow(&mut self.b, v, t)
    }
}

/// A leaf value as the 64-bit word that holds it in the context.
pub(crate) fn widen(b: &mut FunctionBuilder<'_>, v: Value) -> Value {
    let t = b.func.dfg.value_type(v);
    match t {
        I64 => v,
        F32 => {
            let w = b.ins().bitcast(I32, MemFlagsData::new(), v);
            b.ins().uextend(I64, w)
        }
        F64 => b.ins().bitcast(I64, MemFlagsData::new(), v),
        _ => b.ins().uextend(I64, v),
    }
}

/// The leaf of type `t` a word holds.
pub(crate) fn narrow(b: &mut FunctionBuilder<'_>, v: Value, t: ClType) -> Value {
    match t {
        I64 => v,
        F64 => b.ins().bitcast(F64, MemFlagsData::new(), v),
        F32 => {
            let w = b.ins().ireduce(I32, v);
            b.ins().bitcast(F32, MemFlagsData::new(), w)
        }
        _ => b.ins().ireduce(t, v),
    }
}

/// Imports the JIT module's function `id` into `func` (as
/// `Module::declare_func_in_func` does, which needs the module mutably).
pub(crate) fn import_in(
    jit: &cranelift_jit::JITModule,
    func: &mut cranelift_codegen::ir::Function,
    id: ClFuncId,
) -> FuncRef {
    let decl = jit.declarations().get_function_decl(id);
    let signature = func.import_signature(decl.signature.clone());
    let name = func.declare_imported_user_function(cranelift_codegen::ir::UserExternalName {
        namespace: 0,
        index: id.as_u32(),
    });
    func.import_function(cranelift_codegen::ir::ExtFuncData {
        name: cranelift_codegen::ir::ExternalName::user(name),
        signature,
        colocated: decl.linkage.is_final(),
        patchable: false,
    })
}
