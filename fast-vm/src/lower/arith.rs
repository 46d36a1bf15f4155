//! Arithmetic: binary operations at every width (division checks, shift masks),
//! comparisons and conversions.

use super::*;

impl Cx<'_, '_> {
    pub(super) fn binop(
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

    pub(super) fn cmp(&mut self, op: CmpOp, ty: TypeId, a: Value, b: Value) -> Value {
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

    pub(super) fn conv(
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
