//! Memory: addressing (GETIREF … SHIFTIREF, PTR or not) and allocation
//! (NEW, NEWHYBRID, ALLOCA, ALLOCAHYBRID: the inline nursery bump and its slow path).

use super::*;

impl Cx<'_, '_> {
    /// `x + sext(i) * size`.
    pub(super) fn index(
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
    pub(super) fn address(
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
    pub(super) fn alloc_fixed(
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
    pub(super) fn allocated(
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

    pub(super) fn alloc(
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
}
