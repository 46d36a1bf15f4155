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
//!
//! `ccall.al` (spec/10-ccall-callbacks.md): a CCALL passes in `%al` the number of
//! vector registers its arguments use, as libffi (the model) does, so that a
//! variadic C function can be called with a funcsig of the actual arguments.
//! Cranelift never sets `%al` (wasmtime#1030), so the call goes through a
//! trampoline ([`al_plan`], [`al_trampoline`]).

use crate::lower::leaves;
use cranelift_codegen::ir::types::{F32, F64, I8, I16, I32, I64};
use cranelift_codegen::ir::{
    AbiParam, ArgumentPurpose, InstBuilder, MemFlagsData, Signature, Type as ClType, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use cranelift_module::{FuncId, FuncOrDataId, Linkage, Module as _};
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

/// Where a CCALL's trampoline finds the real callee: the extra, last argument of
/// the call (`ccall.al`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlTarget {
    /// In this argument register (0..6: rdi, rsi, rdx, rcx, r8, r9).
    Reg(u8),
    /// On the stack, this many bytes into the outgoing argument area.
    Stack(u32),
}

/// `ccall.al`: what a call with C signature `csig` puts in `%al`, and where the
/// extra argument that carries the callee's address lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AlPlan {
    /// The vector (xmm) registers the arguments use, 0..=8.
    pub xmm: u8,
    /// Where the callee's address goes.
    pub target: AlTarget,
}

const ARG_REGS: [&str; 6] = ["rdi", "rsi", "rdx", "rcx", "r8", "r9"];

/// `ccall.al`: the plan of a call with C signature `csig` (as [`c_signature`]
/// makes it) and one more `I64` parameter at the end, the callee's address.
/// Places the parameters exactly as Cranelift's x64 SystemV `compute_arg_locs`
/// does (0.135): each `StructArgument(n)` takes the next `n` bytes of the stack;
/// any other parameter the next register of its class, else the next 8 stack
/// bytes (the sizes are multiples of 8, so no padding comes in between). The
/// frontend budgeted the registers, so the F32/F64 parameters Cranelift puts in
/// xmm0-7 are exactly the SSE eightbytes in registers; those past the eighth are
/// on the stack and not counted. `None` for a parameter type C signatures never
/// have.
pub fn al_plan(csig: &Signature) -> Option<AlPlan> {
    let (mut gpr, mut xmm, mut stack) = (0u8, 0u8, 0u32);
    for p in &csig.params {
        if let ArgumentPurpose::StructArgument(size) = p.purpose {
            stack = stack.checked_add(size)?;
            continue;
        }
        match p.value_type {
            I8 | I16 | I32 | I64 if gpr < 6 => gpr += 1,
            F32 | F64 if xmm < 8 => xmm += 1,
            I8 | I16 | I32 | I64 | F32 | F64 => stack = stack.checked_add(8)?,
            _ => return None,
        }
    }
    let target = if gpr < 6 {
        AlTarget::Reg(gpr)
    } else if i32::try_from(stack.checked_add(8)?).is_ok() {
        // The trampoline's disp32 is signed.
        AlTarget::Stack(stack)
    } else {
        return None;
    };
    Some(AlPlan { xmm, target })
}

impl AlPlan {
    /// The trampoline's machine code: `mov $xmm, %eax` then `jmp *%reg` or
    /// `jmp *OFF(%rsp)`, OFF = 8 + the target's offset in the argument area (the
    /// return address is at 0(%rsp) on entry). The callee sees the call's
    /// arguments unchanged, and returns straight to the caller.
    pub fn code(self) -> Vec<u8> {
        // mov $imm32, %eax (zero-extends into %rax; %al = xmm).
        let mut code = vec![0xb8, self.xmm, 0, 0, 0];
        match self.target {
            // jmp *%reg: FF /4, ModRM 11 100 reg (REX.B for r8, r9).
            AlTarget::Reg(r) => {
                let n = [7u8, 6, 2, 1, 8, 9][usize::from(r)];
                if n >= 8 {
                    code.push(0x41);
                }
                code.extend([0xff, 0xe0 | (n & 7)]);
            }
            // jmp *disp32(%rsp): FF /4, ModRM 10 100 100, SIB 00 100 100, disp32.
            AlTarget::Stack(off) => {
                code.extend([0xff, 0xa4, 0x24]);
                code.extend((off + 8).to_le_bytes());
            }
        }
        code
    }

    /// The trampoline's symbol: one per distinct plan in a JIT module.
    pub fn name(self) -> String {
        match self.target {
            AlTarget::Reg(r) => format!("muni_ccall_al{}_{}", self.xmm, ARG_REGS[usize::from(r)]),
            AlTarget::Stack(off) => format!("muni_ccall_al{}_sp{}", self.xmm, off + 8),
        }
    }
}

/// `ccall.al`: the trampoline of `plan` in `jit`, defined on first use (its name
/// is the cache). Its declared signature is empty: calls reach it through its
/// address with their own signature.
pub fn al_trampoline(jit: &mut cranelift_jit::JITModule, plan: AlPlan) -> Result<FuncId, String> {
    let name = plan.name();
    if let Some(FuncOrDataId::Func(id)) = jit.get_name(&name) {
        return Ok(id);
    }
    let id = jit
        .declare_function(&name, Linkage::Local, &Signature::new(CallConv::SystemV))
        .map_err(|e| format!("{name}: {e}"))?;
    jit.define_function_bytes(id, 16, &plan.code(), &[])
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(id)
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

#[cfg(test)]
mod tests {
    use super::*;
    use spec_model::layout::classify::lower_call;

    const SIGS: &str = r"
.typedef @i32 = int<32>
.typedef @i64 = int<64>
.typedef @double = double
.typedef @float = float
.typedef @F3 = struct<@float @float @float>
.typedef @DF = struct<@double @i64>
.typedef @LL = struct<@i64 @i64>
.typedef @Big = struct<@i64 @i64 @i64>
.funcsig @none = () -> ()
.funcsig @two = (@i32 @double @double) -> (@double)
.funcsig @f3 = (@F3 @double) -> (@i64)
.funcsig @ten = (@double @double @double @double @double @double @double @double @double @double) -> (@i64)
.funcsig @sret = (@double) -> (@Big)
.funcsig @split = (@i64 @i64 @i64 @i64 @i64 @LL @i64) -> (@i64)
.funcsig @stack = (@i64 @i64 @i64 @i64 @i64 @i64 @Big @double @DF) -> (@i64)
.funcsig @both = (@i64 @i64 @i64 @i64 @i64 @i64 @i64 @double @double @double @double @double @double @double @double @double) -> ()
";

    /// `ccall.al`: the plan agrees with the model's lowering (the xmm registers its
    /// arguments take; the stack bytes before the extra argument) and with the
    /// expected answers.
    #[test]
    fn al_plans_agree_with_the_lowering() {
        let l = spec_model::load(&[("sigs.uir", SIGS)]).expect("loads");
        let types = &l.module.types;
        let cases = [
            ("@none", 0, AlTarget::Reg(0)),
            ("@two", 2, AlTarget::Reg(1)),
            ("@f3", 3, AlTarget::Reg(0)),
            ("@ten", 8, AlTarget::Reg(0)),
            ("@sret", 1, AlTarget::Reg(1)),
            ("@split", 0, AlTarget::Stack(16)),
            ("@stack", 1, AlTarget::Stack(40)),
            ("@both", 8, AlTarget::Stack(16)),
        ];
        for (name, xmm, target) in cases {
            let s = types.sig_named(name).expect("declared");
            let (csig, _, _) = c_signature(types, s).expect("a C signature");
            let plan = al_plan(&csig).expect("a plan");
            assert_eq!(plan, AlPlan { xmm, target }, "{name}");
            let lowering = lower_call(types, s);
            let in_xmm = lowering
                .args
                .iter()
                .filter_map(|a| match a {
                    ArgLocation::Registers(rs) => Some(rs),
                    _ => None,
                })
                .flatten()
                .filter(|r| r.starts_with("xmm"))
                .count();
            assert_eq!(usize::from(plan.xmm), in_xmm, "{name}: xmm registers");
            if let AlTarget::Stack(off) = plan.target {
                assert_eq!(u64::from(off), lowering.stack_bytes, "{name}: stack bytes");
            }
        }
    }

    /// The trampolines' bytes, as `as` encodes the instructions.
    #[test]
    fn al_trampoline_code() {
        let code = |xmm, target| AlPlan { xmm, target }.code();
        // mov $0x3,%eax; jmp *%rdi
        assert_eq!(code(3, AlTarget::Reg(0)), [0xb8, 3, 0, 0, 0, 0xff, 0xe7]);
        // mov $0x8,%eax; jmp *%rcx
        assert_eq!(code(8, AlTarget::Reg(3)), [0xb8, 8, 0, 0, 0, 0xff, 0xe1]);
        // mov $0x0,%eax; jmp *%r9
        assert_eq!(
            code(0, AlTarget::Reg(5)),
            [0xb8, 0, 0, 0, 0, 0x41, 0xff, 0xe1]
        );
        // mov $0x1,%eax; jmp *0x30(%rsp)
        assert_eq!(
            code(1, AlTarget::Stack(40)),
            [0xb8, 1, 0, 0, 0, 0xff, 0xa4, 0x24, 0x30, 0, 0, 0]
        );
    }
}
