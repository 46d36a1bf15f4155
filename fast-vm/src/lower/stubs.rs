//! The code of client mode that belongs to no Mu instruction: the hidden version
//! of a function with no version.

use super::*;

/// The hidden version of function `f`, which has none (uvm-ir.rest, "Function
/// Definition and Declaration"): `TRAP <> KEEPALIVE(args)` then `TAILCALL` of
/// `f` with the same arguments. Its frame has a record (version 0, no
/// instruction); its block costs [`spec_model::machine::HIDDEN_VERSION_COST`]
/// fuel; the trap is `rt_undefined`, which sees the arguments in the context's
/// return words and answers NORMAL (call again), EXCEPTION (throw to the
/// caller), STOP or REPLACED.
/// Returns its frame table.
pub fn undefined_function(env: Env<'_>, mut b: FunctionBuilder<'_>, f: u32) -> Vec<u64> {
    let module = env.module;
    let t = MemFlagsData::trusted();
    let blk = b.create_block();
    b.append_block_params_for_function_params(blk);
    b.switch_to_block(blk);
    let params = b.block_params(blk).to_vec();
    let (ctx, depth) = (params[0], params[1]);
    let ret = |b: &mut FunctionBuilder<'_>, status: i32| {
        let s = b.ins().iconst(I32, i64::from(status));
        let z = b.ins().iconst(I64, 0);
        b.ins().return_(&[s, z]);
    };
    if env.fuel {
        let cost = spec_model::machine::HIDDEN_VERSION_COST as i64;
        let fuel = b.ins().load(I64, t, ctx, offsets::FUEL);
        let ok = b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, fuel, cost);
        let (paid, short) = (b.create_block(), b.create_block());
        b.ins().brif(ok, paid, &[], short, &[]);
        b.switch_to_block(short);
        b.set_cold_block(short);
        let c = b.ins().iconst(I64, StopCode::Fuel as i64);
        b.ins().store(t, c, ctx, offsets::STOP);
        ret(&mut b, STOP);
        b.switch_to_block(paid);
        let left = b.ins().iadd_imm_s(fuel, -cost);
        b.ins().store(t, left, ctx, offsets::FUEL);
    }
    // The frame's record.
    let rec = b.create_sized_stack_slot(cranelift_codegen::ir::StackSlotData::new(
        cranelift_codegen::ir::StackSlotKind::ExplicitSlot,
        8 * RECORD_WORDS as u32,
        3,
    ));
    let prev = b.ins().load(I64, t, ctx, offsets::FRAMES);
    b.ins().stack_store(I64, prev, rec, 0);
    let id = module
        .id_of(module.funcs[f as usize].name.as_str())
        .unwrap_or(0);
    let table = match env.info {
        Some(info) => {
            let gv = env.jit.declare_data_in_func(info, b.func);
            b.ins().symbol_value(I64, gv)
        }
        None => b.ins().iconst(I64, 0),
    };
    b.ins().stack_store(I64, table, rec, 8);
    let z = b.ins().iconst(I64, 0);
    b.ins().stack_store(I64, z, rec, 16);
    let none = b.ins().iconst(I64, NO_SITE as i64);
    b.ins().stack_store(I64, none, rec, 24);
    b.ins().stack_store(I64, depth, rec, 32);
    let addr = b.ins().stack_addr(I64, rec, 0);
    b.ins().store(t, addr, ctx, offsets::FRAMES);
    // The arguments, for the client, in the return words.
    let args = &params[2..];
    let kinds: Vec<ClType> = args.iter().map(|a| b.func.dfg.value_type(*a)).collect();
    for (k, a) in args.iter().enumerate() {
        let w = widen(&mut b, *a);
        b.ins().store(t, w, ctx, offsets::RET + 8 * k as i32);
    }
    let trap = import_in(env.jit, b.func, env.rt.undefined);
    let fv = b.ins().iconst(I64, i64::from(f));
    let call = b.ins().call(trap, &[ctx, fv]);
    let status = b.inst_results(call)[0];
    b.ins().store(t, prev, ctx, offsets::FRAMES);
    let (again, out) = (b.create_block(), b.create_block());
    let normal = b.ins().icmp_imm_s(IntCC::Equal, status, i64::from(NORMAL));
    b.ins().brif(normal, again, &[], out, &[]);
    // Rebound with no values: call the function again, at its slot now, with the
    // arguments as the client left them (a collection may have moved objects).
    b.switch_to_block(again);
    let mut argv = vec![ctx, depth];
    for (k, ty) in kinds.iter().enumerate() {
        let w = b.ins().load(I64, t, ctx, offsets::RET + 8 * k as i32);
        argv.push(narrow(&mut b, w, *ty));
    }
    let slot = env.slots.get(f as usize).copied().flatten();
    let fp = match slot {
        Some(id) => {
            let gv = env.jit.declare_data_in_func(id, b.func);
            let at = b.ins().symbol_value(I64, gv);
            b.ins().load(I64, t, at, 0)
        }
        None => b.ins().iconst(I64, 0),
    };
    let sig = b.func.signature.clone();
    let sr = b.import_signature(sig);
    b.ins().return_call_indirect(sr, fp, &argv);
    b.switch_to_block(out);
    let z = b.ins().iconst(I64, 0);
    b.ins().return_(&[status, z]);
    b.seal_all_blocks();
    b.finalize(env.frontend);
    // The hidden version: version 0, no sites.
    vec![u64::from(id), 0]
}
