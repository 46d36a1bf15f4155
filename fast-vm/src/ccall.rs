//! The SysV x86-64 calling convention for CCALL and exposed functions, done by the
//! fast VM itself (Cranelift lowers each parameter on its own, so struct passing is
//! the frontend's job; shared/notes/sysv-abi-and-backends.md §0).
//!
//! `spec_model::layout::classify` decides, for each argument and the result,
//! registers or memory, counting the 6 INTEGER and 8 SSE registers itself so that a
//! struct never splits between a register and the stack. A value in registers
//! travels as one Cranelift value per eightbyte (INTEGER: `i64` packed from its
//! leaves; SSE: `f64`, `f32`, or two `f32` packed into an `f64`); one in memory as a
//! `StructArgument` copy; a MEMORY result through a `StructReturn` buffer.

use crate::lower::leaves;
use cranelift_codegen::ir::types::{F32, F64, I8, I16, I32, I64};
use cranelift_codegen::ir::{
    AbiParam, ArgumentPurpose, InstBuilder, MemFlagsData, Signature, Type as ClType, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use spec_model::ir::{SigId, TypeId, Types};
use spec_model::layout::classify::{ArgLocation, Class, Passing, classify, lower_call};
use spec_model::layout::layout;

/// How one value crosses the boundary.
#[derive(Clone, Debug)]
pub enum Crossing {
    /// Nothing crosses (zero-sized).
    Nothing,
    /// A scalar, as itself.
    Scalar(ClType),
    /// An aggregate in registers: one Cranelift type per eightbyte.
    Eightbytes(Vec<ClType>),
    /// An aggregate in memory, `size` bytes (argument: StructArgument; result: sret).
    Memory(u64),
}

fn scalar(types: &Types, t: TypeId) -> Option<ClType> {
    crate::lower::cl_type(types, t)
}

/// How a value of type `t` at location `loc` crosses.
pub fn crossing(types: &Types, t: TypeId, in_memory: bool) -> Option<Crossing> {
    if let Some(c) = scalar(types, t) {
        return Some(Crossing::Scalar(c));
    }
    if in_memory {
        return Some(Crossing::Memory(layout(types, t).size));
    }
    Some(match classify(types, t) {
        Passing::Ignored => Crossing::Nothing,
        Passing::Memory => Crossing::Memory(layout(types, t).size),
        Passing::Registers(classes) => {
            let ls = leaves(types, t)?;
            let tys = classes
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let here: Vec<_> = ls.iter().filter(|(o, _)| o / 8 == j as u64).collect();
                    match c {
                        Class::Sse if here.len() == 1 && here[0].1 == F32 => F32,
                        Class::Sse => F64,
                        _ => I64,
                    }
                })
                .collect();
            Crossing::Eightbytes(tys)
        }
    })
}

/// The C signature of `s` and how each parameter and the result cross.
pub fn c_signature(
    types: &Types,
    s: SigId,
) -> Option<(Signature, Vec<Crossing>, Option<Crossing>)> {
    let lowering = lower_call(types, s);
    let sig = types.sig(s);
    let mut cs = Signature::new(CallConv::SystemV);
    let ret = match sig.rets.first() {
        Some(t) => Some(crossing(types, *t, lowering.sret)?),
        None => None,
    };
    if let Some(Crossing::Memory(_)) = ret {
        cs.params
            .push(AbiParam::special(I64, ArgumentPurpose::StructReturn));
    }
    let mut params = Vec::new();
    for (t, loc) in sig.params.iter().zip(&lowering.args) {
        let c = crossing(types, *t, matches!(loc, ArgLocation::Stack(_)))?;
        match &c {
            Crossing::Nothing => {}
            Crossing::Scalar(ct) => {
                let p = AbiParam::new(*ct);
                cs.params
                    .push(if *ct == I8 || *ct == I16 { p.sext() } else { p });
            }
            Crossing::Eightbytes(tys) => cs.params.extend(tys.iter().map(|t| AbiParam::new(*t))),
            Crossing::Memory(size) => {
                let size = u32::try_from(size.div_ceil(8) * 8).ok()?;
                cs.params.push(AbiParam::special(
                    I64,
                    ArgumentPurpose::StructArgument(size),
                ));
            }
        }
        params.push(c);
    }
    match &ret {
        Some(Crossing::Scalar(ct)) => cs.returns.push(AbiParam::new(*ct)),
        Some(Crossing::Eightbytes(tys)) => cs.returns.extend(tys.iter().map(|t| AbiParam::new(*t))),
        _ => {}
    }
    Some((cs, params, ret))
}

/// Stores leaf values as one word each in a stack slot (as `rt_trace` reads them)
/// and gives its address.
pub fn trace_words(b: &mut FunctionBuilder<'_>, vals: &[Value]) -> Value {
    let ss = b.create_sized_stack_slot(cranelift_codegen::ir::StackSlotData::new(
        cranelift_codegen::ir::StackSlotKind::ExplicitSlot,
        u32::try_from(8 * vals.len().max(1)).unwrap_or(u32::MAX),
        3,
    ));
    for (i, v) in vals.iter().enumerate() {
        let w = to_bits(b, *v);
        b.ins()
            .stack_store(I64, w, ss, i32::try_from(8 * i).unwrap_or(i32::MAX));
    }
    b.ins().stack_addr(I64, ss, 0)
}

fn to_bits(b: &mut FunctionBuilder<'_>, v: Value) -> Value {
    match b.func.dfg.value_type(v) {
        I64 => v,
        F64 => b.ins().bitcast(I64, MemFlagsData::new(), v),
        F32 => {
            let i = b.ins().bitcast(I32, MemFlagsData::new(), v);
            b.ins().uextend(I64, i)
        }
        _ => b.ins().uextend(I64, v),
    }
}

fn from_bits(b: &mut FunctionBuilder<'_>, w: Value, t: ClType) -> Value {
    match t {
        I64 => w,
        F64 => b.ins().bitcast(F64, MemFlagsData::new(), w),
        F32 => {
            let i = b.ins().ireduce(I32, w);
            b.ins().bitcast(F32, MemFlagsData::new(), i)
        }
        _ => b.ins().ireduce(t, w),
    }
}

/// Packs an aggregate's leaves into its eightbytes.
pub fn pack(
    b: &mut FunctionBuilder<'_>,
    types: &Types,
    t: TypeId,
    vals: &[Value],
    tys: &[ClType],
) -> Vec<Value> {
    let ls = leaves(types, t).unwrap_or_default();
    tys.iter()
        .enumerate()
        .map(|(j, et)| {
            let here: Vec<(u64, Value)> = ls
                .iter()
                .zip(vals)
                .filter(|((o, _), _)| o / 8 == j as u64)
                .map(|((o, _), v)| (o - 8 * j as u64, *v))
                .collect();
            if *et == F32
                || (*et == F64 && here.len() == 1 && b.func.dfg.value_type(here[0].1) == F64)
            {
                return here[0].1;
            }
            let mut acc = b.ins().iconst(I64, 0);
            for (off, v) in here {
                let bits = to_bits(b, v);
                let shifted = if off == 0 {
                    bits
                } else {
                    b.ins().ishl_imm_s(bits, (off * 8) as i64)
                };
                acc = b.ins().bor(acc, shifted);
            }
            if *et == F64 {
                b.ins().bitcast(F64, MemFlagsData::new(), acc)
            } else {
                acc
            }
        })
        .collect()
}

/// Unpacks an aggregate's leaves from its eightbytes.
pub fn unpack(
    b: &mut FunctionBuilder<'_>,
    types: &Types,
    t: TypeId,
    eightbytes: &[Value],
) -> Vec<Value> {
    let ls = leaves(types, t).unwrap_or_default();
    ls.iter()
        .map(|(off, lt)| {
            let j = (off / 8) as usize;
            let e = eightbytes[j];
            let et = b.func.dfg.value_type(e);
            if et == *lt && off % 8 == 0 {
                return e;
            }
            let bits = to_bits(b, e);
            let shift = (off % 8) * 8;
            let w = if shift == 0 {
                bits
            } else {
                b.ins().ushr_imm_s(bits, shift as i64)
            };
            from_bits(b, w, *lt)
        })
        .collect()
}

/// Stores an aggregate's leaves at `addr`.
pub fn store_leaves(
    b: &mut FunctionBuilder<'_>,
    types: &Types,
    t: TypeId,
    vals: &[Value],
    addr: Value,
) {
    for ((off, _), v) in leaves(types, t).unwrap_or_default().iter().zip(vals) {
        b.ins().store(
            MemFlagsData::new(),
            *v,
            addr,
            i32::try_from(*off).unwrap_or(0),
        );
    }
}

/// Loads an aggregate's leaves from `addr`.
pub fn load_leaves(
    b: &mut FunctionBuilder<'_>,
    types: &Types,
    t: TypeId,
    addr: Value,
) -> Vec<Value> {
    leaves(types, t)
        .unwrap_or_default()
        .iter()
        .map(|(off, lt)| {
            b.ins().load(
                *lt,
                MemFlagsData::new(),
                addr,
                i32::try_from(*off).unwrap_or(0),
            )
        })
        .collect()
}

fn zero(b: &mut FunctionBuilder<'_>, t: ClType) -> Value {
    match t {
        F32 => b.ins().f32const(0.0),
        F64 => b.ins().f64const(0.0),
        _ => b.ins().iconst(t, 0),
    }
}

/// What an expose wrapper calls.
#[derive(Clone, Copy, Debug)]
pub struct WrapperCalls {
    /// The exposed Mu function.
    pub mu_fn: Callee,
    /// `rt_current`, which finds the run on this thread.
    pub rt_current: cranelift_codegen::ir::FuncRef,
    /// `rt_trace` and the function's id, when compiling with the native trace.
    pub trace: Option<(cranelift_codegen::ir::FuncRef, u32)>,
}

/// How compiled code calls a Mu function it names.
#[derive(Clone, Copy, Debug)]
pub enum Callee {
    /// Directly.
    Direct(cranelift_codegen::ir::FuncRef),
    /// Through the function's slot (client mode, the data at this global
    /// value), with the Mu signature `sig`.
    Slot(
        cranelift_codegen::ir::GlobalValue,
        cranelift_codegen::ir::SigRef,
    ),
}

impl Callee {
    /// How code in `func` calls the Mu function of signature `sig` declared in
    /// `jit` as `id`: through its slot `slot` if it has one (client mode).
    pub fn of(
        jit: &mut cranelift_jit::JITModule,
        func: &mut cranelift_codegen::ir::Function,
        slot: Option<cranelift_module::DataId>,
        types: &Types,
        sig: SigId,
        id: cranelift_module::FuncId,
    ) -> Option<Callee> {
        use cranelift_module::Module as _;
        if let Some(slot) = slot {
            let s = crate::lower::mu_signature(types, sig)?;
            let gv = jit.declare_data_in_func(slot, func);
            return Some(Callee::Slot(gv, func.import_signature(s)));
        }
        Some(Callee::Direct(jit.declare_func_in_func(id, func)))
    }

    /// Calls it with `args`.
    pub fn call(self, b: &mut FunctionBuilder<'_>, args: &[Value]) -> cranelift_codegen::ir::Inst {
        match self {
            Callee::Direct(f) => b.ins().call(f, args),
            Callee::Slot(gv, sig) => {
                let at = b.ins().symbol_value(I64, gv);
                let fp = b.ins().load(I64, MemFlagsData::trusted(), at, 0);
                b.ins().call_indirect(sig, fp, args)
            }
        }
    }
}

/// Builds the C entry point of an exposed Mu function (`native.callback`): it finds
/// the run on this thread, unpacks the C arguments into leaves, calls the Mu
/// function with the cookie visible to `get_cookie` in its frame, and packs the
/// result. When there is no run, the run has ended, or the function does not return
/// normally, C gets zeros (and a THROW ends the run with `exception_into_native`).
pub fn build_wrapper(
    mut b: FunctionBuilder<'_>,
    types: &Types,
    sig: SigId,
    calls: WrapperCalls,
    cookie: u64,
    frontend: cranelift_codegen::isa::TargetFrontendConfig,
) -> Option<()> {
    use crate::runtime::{EXCEPTION, NORMAL, StopCode, offsets};
    use cranelift_codegen::ir::condcodes::IntCC;
    let WrapperCalls {
        mu_fn,
        rt_current,
        trace,
    } = calls;
    let (csig, crossings, ret) = c_signature(types, sig)?;
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let ret_tys: Vec<ClType> = csig.returns.iter().map(|p| p.value_type).collect();
    let give_up = b.create_block();
    // No run, or the run already ended: zeros.
    let call = b.ins().call(rt_current, &[]);
    let ctx = b.inst_results(call)[0];
    let go = b.create_block();
    b.ins().brif(ctx, go, &[], give_up, &[]);
    b.switch_to_block(go);
    let t = MemFlagsData::trusted();
    let stop = b.ins().load(I64, t, ctx, offsets::STOP);
    let live = b.create_block();
    b.ins().brif(stop, give_up, &[], live, &[]);
    b.switch_to_block(live);
    // Arguments: sret first if any, then each parameter's pieces.
    let mut k = 0;
    let sret = if let Some(Crossing::Memory(_)) = ret {
        k = 1;
        Some(params[0])
    } else {
        None
    };
    let mut args = Vec::new();
    for (pt, c) in types.sig(sig).params.iter().zip(&crossings) {
        match c {
            Crossing::Nothing => {}
            Crossing::Scalar(_) => {
                args.push(params[k]);
                k += 1;
            }
            Crossing::Eightbytes(tys) => {
                let ebs = params[k..k + tys.len()].to_vec();
                args.extend(unpack(&mut b, types, *pt, &ebs));
                k += tys.len();
            }
            Crossing::Memory(_) => {
                args.extend(load_leaves(&mut b, types, *pt, params[k]));
                k += 1;
            }
        }
    }
    // `native.callback`: C called the exposed function, so the trace holds the
    // callback even when the frame it needs is past the stack budget.
    if let Some((rt_trace, func)) = trace {
        let words = trace_words(&mut b, &args);
        let kind = b.ins().iconst(I64, crate::TraceKind::Callback as i64);
        let id = b.ins().iconst(I64, i64::from(func));
        let z = b.ins().iconst(I64, 0);
        b.ins().call(rt_trace, &[ctx, kind, id, z, words]);
    }
    let depth = b.ins().load(I64, t, ctx, offsets::DEPTH);
    let max = b.ins().load(I64, t, ctx, offsets::MAX_DEPTH);
    let full = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, depth, max);
    let sp = b.ins().get_stack_pointer(I64);
    let limit = b.ins().load(I64, t, ctx, offsets::STACK_LIMIT);
    let low = b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
    let full = b.ins().bor(full, low);
    let room = b.create_block();
    let overflow = b.create_block();
    b.ins().brif(full, overflow, &[], room, &[]);
    b.switch_to_block(overflow);
    let code = b.ins().iconst(I64, StopCode::Stack as i64);
    b.ins().store(t, code, ctx, offsets::STOP);
    b.ins().jump(give_up, &[]);
    b.switch_to_block(room);
    let deeper = b.ins().iadd_imm_s(depth, 1);
    let old_cookie = b.ins().load(I64, t, ctx, offsets::COOKIE);
    let old_at = b.ins().load(I64, t, ctx, offsets::COOKIE_DEPTH);
    let c = b.ins().iconst(I64, cookie as i64);
    b.ins().store(t, c, ctx, offsets::COOKIE);
    b.ins().store(t, deeper, ctx, offsets::COOKIE_DEPTH);
    let mut argv = vec![ctx, deeper];
    argv.extend(args);
    let call = mu_fn.call(&mut b, &argv);
    let status = b.inst_results(call)[0];
    let word0 = b.inst_results(call)[1];
    // Nested CCALLs in the callback moved the depth; C sees its own again.
    b.ins().store(t, depth, ctx, offsets::DEPTH);
    b.ins().store(t, old_cookie, ctx, offsets::COOKIE);
    b.ins().store(t, old_at, ctx, offsets::COOKIE_DEPTH);
    let normal = b.create_block();
    let not_normal = b.create_block();
    let is_normal = b.ins().icmp_imm_s(IntCC::Equal, status, i64::from(NORMAL));
    b.ins().brif(is_normal, normal, &[], not_normal, &[]);
    b.switch_to_block(not_normal);
    let is_exc = b
        .ins()
        .icmp_imm_s(IntCC::Equal, status, i64::from(EXCEPTION));
    let into_native = b.create_block();
    b.ins().brif(is_exc, into_native, &[], give_up, &[]);
    b.switch_to_block(into_native);
    let code = b.ins().iconst(I64, StopCode::ExceptionIntoNative as i64);
    b.ins().store(t, code, ctx, offsets::STOP);
    b.ins().jump(give_up, &[]);
    b.switch_to_block(normal);
    // The first result word came in a register; the rest are in the context.
    b.ins().store(t, word0, ctx, offsets::RET);
    if let Some((rt_trace, func)) = trace {
        // The results are in the context's return words already.
        let words = b.ins().iadd_imm_s(ctx, i64::from(offsets::RET));
        let kind = b.ins().iconst(I64, crate::TraceKind::CallbackReturn as i64);
        let id = b.ins().iconst(I64, i64::from(func));
        let z = b.ins().iconst(I64, 0);
        b.ins().call(rt_trace, &[ctx, kind, id, z, words]);
    }
    match (types.sig(sig).rets.first(), &ret) {
        (Some(rt), Some(c)) => {
            let n = leaves(types, *rt)?.len();
            let mut leaf_vals = Vec::new();
            for (i, (_, lt)) in leaves(types, *rt)?.iter().enumerate().take(n) {
                let w = b.ins().load(I64, t, ctx, offsets::RET + 8 * i as i32);
                leaf_vals.push(from_bits(&mut b, w, *lt));
            }
            match c {
                Crossing::Scalar(_) => {
                    b.ins().return_(&leaf_vals);
                }
                Crossing::Eightbytes(tys) => {
                    let ebs = pack(&mut b, types, *rt, &leaf_vals, tys);
                    b.ins().return_(&ebs);
                }
                Crossing::Memory(_) => {
                    store_leaves(&mut b, types, *rt, &leaf_vals, sret?);
                    b.ins().return_(&[]);
                }
                Crossing::Nothing => {
                    b.ins().return_(&[]);
                }
            }
        }
        _ => {
            b.ins().return_(&[]);
        }
    }
    b.switch_to_block(give_up);
    // Zero, in registers or in the caller's result buffer (`native.callback`).
    if let (Some(rt), Some(buf)) = (types.sig(sig).rets.first(), sret) {
        let zs: Vec<Value> = leaves(types, *rt)?
            .iter()
            .map(|(_, lt)| zero(&mut b, *lt))
            .collect();
        store_leaves(&mut b, types, *rt, &zs, buf);
    }
    let zeros: Vec<Value> = ret_tys.iter().map(|t| zero(&mut b, *t)).collect();
    b.ins().return_(&zeros);
    b.seal_all_blocks();
    b.finalize(frontend);
    Some(())
}
