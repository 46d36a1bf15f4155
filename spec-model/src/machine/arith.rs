//! Arithmetic, comparison and conversion (spec/04-instructions.md §Basic
//! operations): pure functions on values, one per rule family.

use super::value::{Value, mask, sext};
use crate::syntax::ast::{BinOp, CmpOp, ConvOp, RmwOp};

/// `int.arith`, `int.shift`, `int.div` at width `n`. `None` means a zero divisor.
/// ADD SUB MUL wrap modulo 2^n; SDIV/SREM overflow (MIN / -1) truncates to n bits;
/// shifts use the lowest m bits of the amount, where 2^m is the smallest power of
/// two >= n, and shifting by n or more gives 0 (or the sign for ASHR).
pub fn int_binop(op: BinOp, n: u32, a: u64, b: u64) -> Option<u64> {
    let m = mask(n);
    let r = match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::Udiv => a.checked_div(b)?,
        BinOp::Urem => a.checked_rem(b)?,
        BinOp::Sdiv => {
            if b == 0 {
                return None;
            }
            sext(a, n).wrapping_div(sext(b, n)) as u64
        }
        BinOp::Srem => {
            if b == 0 {
                return None;
            }
            sext(a, n).wrapping_rem(sext(b, n)) as u64
        }
        BinOp::Shl | BinOp::Lshr | BinOp::Ashr => {
            let amount = b & u64::from(n.next_power_of_two() - 1);
            if amount >= u64::from(n) {
                match op {
                    BinOp::Ashr if sext(a, n) < 0 => u64::MAX,
                    _ => 0,
                }
            } else {
                match op {
                    BinOp::Shl => a << amount,
                    BinOp::Lshr => a >> amount,
                    _ => (sext(a, n) >> amount) as u64,
                }
            }
        }
        BinOp::Fadd | BinOp::Fsub | BinOp::Fmul | BinOp::Fdiv | BinOp::Frem => a,
    };
    Some(r & m)
}

/// Whether a binary operation is a division (it may continue exceptionally).
pub fn is_div(op: BinOp) -> bool {
    matches!(op, BinOp::Udiv | BinOp::Sdiv | BinOp::Urem | BinOp::Srem)
}

/// Whether a binary operation is a shift.
pub fn is_shift(op: BinOp) -> bool {
    matches!(op, BinOp::Shl | BinOp::Lshr | BinOp::Ashr)
}

/// `float.arith` on f64 (f32 operations are computed in f32 by the caller).
pub fn fop64(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Fadd => a + b,
        BinOp::Fsub => a - b,
        BinOp::Fmul => a * b,
        BinOp::Fdiv => a / b,
        _ => a % b,
    }
}

/// `float.arith` on f32.
pub fn fop32(op: BinOp, a: f32, b: f32) -> f32 {
    match op {
        BinOp::Fadd => a + b,
        BinOp::Fsub => a - b,
        BinOp::Fmul => a * b,
        BinOp::Fdiv => a / b,
        _ => a % b,
    }
}

/// `cmp.int`: integer and pointer comparisons at width `n`.
pub fn cmp_int(op: CmpOp, n: u32, a: u64, b: u64) -> bool {
    let (sa, sb) = (sext(a, n), sext(b, n));
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Sge => sa >= sb,
        CmpOp::Sgt => sa > sb,
        CmpOp::Sle => sa <= sb,
        CmpOp::Slt => sa < sb,
        CmpOp::Uge => a >= b,
        CmpOp::Ugt => a > b,
        CmpOp::Ule => a <= b,
        CmpOp::Ult => a < b,
        _ => false,
    }
}

/// `cmp.float`: the sixteen predicates of the Mu spec's table.
pub fn cmp_float(op: CmpOp, a: f64, b: f64) -> bool {
    let uno = a.is_nan() || b.is_nan();
    match op {
        CmpOp::Ffalse => false,
        CmpOp::Ftrue => true,
        CmpOp::Funo => uno,
        CmpOp::Ford => !uno,
        CmpOp::Foeq => !uno && a == b,
        CmpOp::Fone => !uno && a != b,
        CmpOp::Fogt => !uno && a > b,
        CmpOp::Foge => !uno && a >= b,
        CmpOp::Folt => !uno && a < b,
        CmpOp::Fole => !uno && a <= b,
        CmpOp::Fueq => uno || a == b,
        CmpOp::Fune => uno || a != b,
        CmpOp::Fugt => uno || a > b,
        CmpOp::Fuge => uno || a >= b,
        CmpOp::Fult => uno || a < b,
        CmpOp::Fule => uno || a <= b,
        _ => false,
    }
}

/// Widths for conversions: `Some(n)` for `int<n>`, `None` for FP (then `is_double`).
#[derive(Clone, Copy, Debug)]
pub enum Num {
    /// `int<n>` (or a pointer, as `int<64>`).
    Int(u32),
    /// `float`
    F32,
    /// `double`
    F64,
}

/// `conv.int`, `conv.float`, `conv.fp-to-int`, `conv.int-to-fp`, `conv.bitcast`,
/// `conv.ptrcast`. Returns the result value.
pub fn convert(op: ConvOp, from: Num, to: Num, x: &Value) -> Value {
    let fp = |x: &Value| match x {
        Value::Float(f) => f64::from(*f),
        Value::Double(d) => *d,
        _ => 0.0,
    };
    let make_fp = |v: f64| match to {
        Num::F32 => Value::Float(v as f32),
        _ => Value::Double(v),
    };
    match (op, from, to) {
        (ConvOp::Trunc | ConvOp::Zext, _, Num::Int(m)) => Value::Int(x.bits() & mask(m)),
        (ConvOp::Sext, Num::Int(n), Num::Int(m)) => Value::Int(sext(x.bits(), n) as u64 & mask(m)),
        (ConvOp::Fptrunc | ConvOp::Fpext, _, _) => make_fp(fp(x)),
        (ConvOp::Fptoui, _, Num::Int(m)) => {
            let v = fp(x);
            let r = if v.is_nan() || v <= 0.0 {
                0
            } else if m == 64 {
                v as u64
            } else {
                (v as u64).min(mask(m))
            };
            Value::Int(r)
        }
        (ConvOp::Fptosi, _, Num::Int(m)) => {
            let v = fp(x);
            let (lo, hi) = (-(1i128 << (m - 1)), (1i128 << (m - 1)) - 1);
            let r = if v.is_nan() {
                0
            } else {
                (v as i128).clamp(lo, hi)
            };
            Value::Int(r as u64 & mask(m))
        }
        (ConvOp::Uitofp, Num::Int(_), Num::F32) => Value::Float(x.bits() as f32),
        (ConvOp::Uitofp, Num::Int(_), _) => Value::Double(x.bits() as f64),
        (ConvOp::Sitofp, Num::Int(n), Num::F32) => Value::Float(sext(x.bits(), n) as f32),
        (ConvOp::Sitofp, Num::Int(n), _) => Value::Double(sext(x.bits(), n) as f64),
        (ConvOp::Bitcast, Num::Int(_), Num::F32) => Value::Float(f32::from_bits(x.bits() as u32)),
        (ConvOp::Bitcast, Num::Int(_), _) => Value::Double(f64::from_bits(x.bits())),
        (ConvOp::Bitcast, Num::F32, _) => match x {
            Value::Float(f) => Value::Int(u64::from(f.to_bits())),
            _ => Value::Int(0),
        },
        (ConvOp::Bitcast, _, _) => match x {
            Value::Double(d) => Value::Int(d.to_bits()),
            _ => Value::Int(0),
        },
        (ConvOp::Ptrcast, _, Num::Int(m)) => Value::Int(x.bits() & mask(m)),
        _ => x.clone(),
    }
}

/// `mem.atomicrmw` on integers at width `n`: the new value.
pub fn rmw(op: RmwOp, n: u32, old: u64, v: u64) -> u64 {
    let r = match op {
        RmwOp::Xchg => v,
        RmwOp::Add => old.wrapping_add(v),
        RmwOp::Sub => old.wrapping_sub(v),
        RmwOp::And => old & v,
        RmwOp::Nand => !(old & v),
        RmwOp::Or => old | v,
        RmwOp::Xor => old ^ v,
        RmwOp::Max => {
            if sext(old, n) >= sext(v, n) {
                old
            } else {
                v
            }
        }
        RmwOp::Min => {
            if sext(old, n) <= sext(v, n) {
                old
            } else {
                v
            }
        }
        RmwOp::Umax => old.max(v),
        RmwOp::Umin => old.min(v),
    };
    r & mask(n)
}
