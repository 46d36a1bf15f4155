//! Function bodies: a typed pool of the values the current block can see, a state
//! of typed values carried from block to block, and one generator per statement
//! family (the families and their weights are [`crate::config::Config`]'s).
//!
//! Values are block-local in Mu, so every block starts from its parameters: the
//! state, plus what a destination passes. A value of a type the pool lacks is
//! made on the spot (a constant, a conversion of another value, an allocation).
//! Every value remembers whether it is a reference known not to be NULL (only
//! those are navigated: navigating NULL is undefined) and whether it lives in
//! this frame's stack (ALLOCA: it never escapes the frame).

use super::clib::CTy;
use super::types::{Sig, Ty};
use super::{Prog, int_width};
use arbitrary::Unstructured;
use std::fmt::Write;

/// A value the current block can use.
#[derive(Clone, Debug)]
struct Val {
    ty: Ty,
    name: String,
    /// A reference or internal reference known not to be NULL.
    nonnull: bool,
    /// Derived from an ALLOCA of this frame: must not outlive it.
    local: bool,
    /// Read by an instruction of this block (or passed on): else it is folded
    /// into the accumulator, so that what it computed is observed.
    used: bool,
}

/// The statement families, in the order of the config's weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    IntArith,
    IntDiv,
    Shift,
    Compare,
    Convert,
    Float,
    Select,
    Aggregate,
    Memory,
    Global,
    Atomic,
    Pin,
    CCall,
    Call,
    Throw,
    Loop,
    Rare,
    Client,
    Stack,
}

struct Fg<'a, 'l, 'b> {
    p: &'a mut Prog<'l>,
    u: &'a mut Unstructured<'b>,
    out: String,
    pool: Vec<Val>,
    /// The types carried from block to block.
    state: Vec<Ty>,
    next: usize,
    /// This function's index among `@f0 … @fN` (`usize::MAX` for callbacks).
    index: usize,
    /// 0 for `@fN`, 1 for callbacks C calls.
    level: u32,
    rets: Vec<Ty>,
    unguarded: bool,
    throws: bool,
    weights: Vec<(Family, u32)>,
    /// Statements left in this function (bounds its size, and so compile time).
    budget: usize,
    /// Instructions written so far, and how many the function stops at.
    lines: usize,
    max_lines: usize,
    /// A callback that may itself call C functions that call back (nesting).
    nests: bool,
    /// The accumulator of the current block: every value no instruction reads is
    /// folded into it, and it reaches the observed `@gsum` (the last of the state).
    acc: String,
}

/// The text of function `name` with signature `sig`.
pub(super) fn function(
    p: &mut Prog<'_>,
    u: &mut Unstructured<'_>,
    name: &str,
    sig: &Sig,
    index: usize,
    level: u32,
) -> String {
    let c = p.cfg.clone();
    let weights = vec![
        (Family::IntArith, c.w_int_arith),
        (Family::IntDiv, c.w_int_div),
        (Family::Shift, c.w_shift),
        (Family::Compare, c.w_compare),
        (Family::Convert, c.w_convert),
        (Family::Float, c.w_float),
        (Family::Select, c.w_select),
        (Family::Aggregate, c.w_aggregate),
        (Family::Memory, c.w_memory),
        (Family::Global, c.w_global),
        (Family::Atomic, c.w_atomic),
        (Family::Pin, c.w_pin),
        (Family::CCall, c.w_ccall),
        (Family::Call, c.w_call),
        (Family::Throw, c.w_throw),
        (Family::Loop, c.w_loop),
        (Family::Rare, c.w_rare),
        (Family::Client, c.w_client),
        (Family::Stack, c.w_stack),
    ];
    let unguarded = u.int_in_range(0..=99u32).unwrap_or(100) < c.unguarded;
    let throws = index != 0 && u.int_in_range(0..=99u32).unwrap_or(100) < c.throwing;
    let blocks = if level > 0 {
        u.int_in_range(1..=2usize).unwrap_or(1)
    } else {
        u.int_in_range(1..=c.blocks as usize).unwrap_or(1)
    };
    let per_block = if level > 0 { 2 } else { c.statements as usize };
    let mut g = Fg {
        p,
        u,
        out: String::new(),
        pool: Vec::new(),
        state: Vec::new(),
        next: 0,
        index,
        level,
        rets: sig.rets.clone(),
        unguarded,
        throws,
        weights,
        budget: blocks * per_block,
        acc: "@Z".into(),
        lines: 0,
        nests: false,
        max_lines: if level > 0 {
            c.max_insts as usize / 3
        } else {
            c.max_insts as usize
        },
    };
    g.body(name, sig, blocks, per_block);
    g.out
}

/// An int literal of width `n`: the edges (0, 1, -1, the minimum and maximum)
/// half the time, else any bits.
pub(super) fn int_literal(u: &mut Unstructured<'_>, n: u32) -> String {
    let mask = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    let bits = match u.int_in_range(0..=9u8).unwrap_or(0) {
        0 => 0,
        1 => 1,
        2 => mask,
        3 => 1u64 << (n - 1),
        4 => mask >> 1,
        5 => u.int_in_range(0..=16u64).unwrap_or(0) & mask,
        _ => u.arbitrary::<u64>().unwrap_or(0) & mask,
    };
    // Printed signed when the top bit is set: literals of int<n> run from
    // -2^(n-1) to 2^n - 1.
    if n > 1 && bits >> (n - 1) & 1 == 1 && u.ratio(1u8, 2).unwrap_or(false) {
        let v = (bits | !mask) as i64;
        v.to_string()
    } else {
        bits.to_string()
    }
}

/// A float (or double) literal: the special values (signed zeros, infinities,
/// NaN, the smallest subnormal) a third of the time, else small numbers or any
/// bits.
pub(super) fn float_literal(u: &mut Unstructured<'_>, double: bool) -> String {
    let sfx = if double { "d" } else { "f" };
    match u.int_in_range(0..=11u8).unwrap_or(0) {
        0 => format!("0.0{sfx}"),
        1 => format!("-0.0{sfx}"),
        2 => format!("+inf{sfx}"),
        3 => format!("-inf{sfx}"),
        4 => format!("nan{sfx}"),
        5 if double => "bitsd(0x1)".into(),
        5 => "bitsf(0x1)".into(),
        6..=8 => {
            let n = u.int_in_range(-64..=64i32).unwrap_or(0);
            format!("{}.{}{sfx}", n, u.int_in_range(0..=9u8).unwrap_or(5))
        }
        _ if double => format!("bitsd(0x{:x})", u.arbitrary::<u64>().unwrap_or(0)),
        _ => format!("bitsf(0x{:x})", u.arbitrary::<u32>().unwrap_or(0)),
    }
}

const INT_OPS: [&str; 6] = ["ADD", "SUB", "MUL", "AND", "OR", "XOR"];
const DIV_OPS: [&str; 4] = ["UDIV", "SDIV", "UREM", "SREM"];
const SHIFT_OPS: [&str; 3] = ["SHL", "LSHR", "ASHR"];
const INT_CMPS: [&str; 10] = [
    "EQ", "NE", "SGE", "SGT", "SLE", "SLT", "UGE", "UGT", "ULE", "ULT",
];
const FLOAT_CMPS: [&str; 16] = [
    "FTRUE", "FFALSE", "FUNO", "FUEQ", "FUNE", "FUGT", "FUGE", "FULT", "FULE", "FORD", "FOEQ",
    "FONE", "FOGT", "FOGE", "FOLT", "FOLE",
];
const FLOAT_OPS: [&str; 5] = ["FADD", "FSUB", "FMUL", "FDIV", "FREM"];
const RMW_OPS: [&str; 11] = [
    "XCHG", "ADD", "SUB", "AND", "NAND", "OR", "XOR", "MAX", "MIN", "UMAX", "UMIN",
];

impl Fg<'_, '_, '_> {
    // ---- choices ----

    fn int(&mut self, lo: usize, hi: usize) -> usize {
        self.u.int_in_range(lo..=hi).unwrap_or(lo)
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.u.int_in_range(0..=99u32).unwrap_or(100) < percent
    }

    fn pick<'s, T>(&mut self, xs: &'s [T]) -> &'s T {
        let i = self.int(0, xs.len() - 1);
        &xs[i]
    }

    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("%v{}", self.next)
    }

    fn block_name(&mut self) -> String {
        self.next += 1;
        format!("%b{}", self.next)
    }

    fn line(&mut self, s: &str) {
        self.lines += 1;
        let _ = writeln!(self.out, "        {s}");
    }

    /// Writes one instruction, formatted in place.
    fn linef(&mut self, a: std::fmt::Arguments<'_>) {
        self.lines += 1;
        let _ = writeln!(self.out, "        {a}");
    }

    /// Whether the function may take more statements.
    fn room(&self) -> bool {
        self.budget > 0 && self.lines < self.max_lines
    }

    fn ty(&mut self, t: &Ty) -> std::sync::Arc<str> {
        self.p.decls.ty(t)
    }

    fn sig(&mut self, s: &Sig) -> std::sync::Arc<str> {
        self.p.decls.sig(s)
    }

    fn konst(&mut self, t: &Ty, v: &str) -> String {
        self.p.decls.konst(t, v)
    }

    fn int_const(&mut self, w: u32, v: i64) -> String {
        let mask = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
        self.konst(&Ty::Int(w), &((v as u64) & mask).to_string())
    }

    fn push(&mut self, ty: Ty, name: String) {
        self.pool.push(Val {
            ty,
            name,
            nonnull: false,
            local: false,
            used: false,
        });
    }

    fn push_ref(&mut self, ty: Ty, name: String, local: bool) {
        self.pool.push(Val {
            ty,
            name,
            nonnull: true,
            local,
            used: false,
        });
    }

    /// The pool's value `i`, now read.
    fn take(&mut self, i: usize) -> String {
        self.pool[i].used = true;
        self.pool[i].name.clone()
    }

    /// Folds every value of the block no instruction read into the accumulator
    /// (integers zero-extended to 64 bits, floating-point values by their integer
    /// part), and gives the accumulator.
    fn fold(&mut self) -> String {
        let unused: Vec<usize> = (0..self.pool.len())
            .filter(|i| {
                let v = &self.pool[*i];
                !v.used && v.name.starts_with('%') && (v.ty.width().is_some() || v.ty.is_fp())
            })
            .collect();
        let i64n = self.ty(&Ty::I64);
        for i in unused {
            let (ty, x) = (self.pool[i].ty.clone(), self.take(i));
            let bits = match ty {
                Ty::Int(64) => x,
                Ty::Int(_) => {
                    // ZEXT: the cheapest fold (the resizes of `make` test SEXT).
                    let (a, b, r) = (self.ty(&ty), self.ty(&Ty::I64), self.fresh());
                    self.linef(format_args!("{r} = ZEXT <{a} {b}> {x}"));
                    r
                }
                _ => {
                    // Its integer part (saturated; NaN gives 0): two instructions,
                    // where its bits would take four or five.
                    let (fpn, r) = (self.ty(&ty), self.fresh());
                    self.linef(format_args!("{r} = FPTOSI <{fpn} {i64n}> {x}"));
                    r
                }
            };
            let r = self.fresh();
            let acc = self.acc.clone();
            self.linef(format_args!("{r} = XOR <{i64n}> {acc} {bits}"));
            self.acc = r;
        }
        self.acc.clone()
    }

    // ---- values ----

    /// A value of type `t`: from the pool (the recent ones more often), or made.
    fn operand(&mut self, t: &Ty) -> String {
        self.operand_where(t, |_| true)
    }

    /// A value of type `t` that may leave the frame (no ALLOCA cell in it).
    fn escaping(&mut self, t: &Ty) -> String {
        self.operand_where(t, |v| !v.local)
    }

    fn operand_where(&mut self, t: &Ty, ok: impl Fn(&Val) -> bool) -> String {
        let cands: Vec<usize> = (0..self.pool.len())
            .filter(|i| self.pool[*i].ty == *t && ok(&self.pool[*i]))
            .collect();
        if !cands.is_empty() && !self.chance(15) {
            // The values no one read yet first, so that most feed on.
            let fresh: Vec<usize> = cands
                .iter()
                .copied()
                .filter(|i| !self.pool[*i].used)
                .collect();
            let i = if !fresh.is_empty() && self.chance(70) {
                *self.pick(&fresh)
            } else {
                *self.pick(&cands)
            };
            return self.take(i);
        }
        let v = self.make(t);
        self.mark(&v);
        v
    }

    /// Marks the pool's value `name` read.
    fn mark(&mut self, name: &str) {
        if let Some(v) = self.pool.iter_mut().rev().find(|v| v.name == name) {
            v.used = true;
        }
    }

    /// A reference or internal reference of type `t` known not to be NULL.
    fn nonnull(&mut self, t: &Ty, local_ok: bool) -> String {
        let cands: Vec<usize> = (0..self.pool.len())
            .filter(|i| {
                let v = &self.pool[*i];
                v.ty == *t && v.nonnull && (local_ok || !v.local)
            })
            .collect();
        if !cands.is_empty() && !self.chance(20) {
            let i = *self.pick(&cands);
            return self.take(i);
        }
        match t {
            Ty::Ref(x) => self.new_object(x),
            Ty::IRef(x) => {
                let x = (**x).clone();
                self.new_iref(&x, local_ok).0
            }
            _ => self.make(t),
        }
    }

    /// A fresh heap object of type `t`, perhaps with a value stored in it.
    fn new_object(&mut self, t: &Ty) -> String {
        if *t == Ty::Void {
            // A `ref<void>` refers to an object of some other type.
            let o = self.new_object(&Ty::I64);
            let (a, b, r) = (
                self.ty(&Ty::r#ref(Ty::I64)),
                self.ty(&Ty::r#ref(Ty::Void)),
                self.fresh(),
            );
            self.linef(format_args!("{r} = REFCAST <{a} {b}> {o}"));
            self.push_ref(Ty::r#ref(Ty::Void), r.clone(), false);
            return r;
        }
        let (tn, r) = (self.ty(t), self.fresh());
        if let Ty::Hybrid(..) = t {
            let n = self.u.int_in_range(1..=4i64).unwrap_or(1);
            let len = self.int_const(64, n);
            let i64n = self.ty(&Ty::I64);
            self.linef(format_args!("{r} = NEWHYBRID <{tn} {i64n}> {len}"));
            self.push_ref(Ty::r#ref(t.clone()), r.clone(), false);
            return r;
        }
        self.linef(format_args!("{r} = NEW <{tn}>"));
        if self.chance(50) && !matches!(t, Ty::Hybrid(..)) {
            let (i, v) = (self.fresh(), self.escaping(t));
            self.linef(format_args!("{i} = GETIREF <{tn}> {r}"));
            self.linef(format_args!("STORE <{tn}> {i} {v}"));
        }
        self.push_ref(Ty::r#ref(t.clone()), r.clone(), false);
        r
    }

    /// An internal reference to a fresh location of type `t`: a heap object's, a
    /// global cell of that type, or (when `local_ok`) a stack cell. Returns it and
    /// whether it is a stack cell.
    fn new_iref(&mut self, t: &Ty, local_ok: bool) -> (String, bool) {
        let globals: Vec<String> = self
            .p
            .globals
            .iter()
            .filter(|(g, _)| g == t)
            .map(|(_, n)| n.clone())
            .collect();
        if !globals.is_empty() && self.chance(30) {
            return (self.pick(&globals).clone(), false);
        }
        // A location the block already has, half the time.
        let it = Ty::iref(t.clone());
        let known: Vec<usize> = (0..self.pool.len())
            .filter(|i| {
                let v = &self.pool[*i];
                v.ty == it && v.nonnull && (local_ok || !v.local)
            })
            .collect();
        if !known.is_empty() && self.chance(50) {
            let i = *self.pick(&known);
            let local = self.pool[i].local;
            return (self.take(i), local);
        }
        let tn = self.ty(t);
        let r = self.fresh();
        if local_ok && self.chance(25) {
            self.linef(format_args!("{r} = ALLOCA <{tn}>"));
            self.push_ref(Ty::iref(t.clone()), r.clone(), true);
            return (r, true);
        }
        let o = self.new_object(t);
        self.linef(format_args!("{r} = GETIREF <{tn}> {o}"));
        self.push_ref(Ty::iref(t.clone()), r.clone(), false);
        (r, false)
    }

    /// Makes a value of type `t` here.
    fn make(&mut self, t: &Ty) -> String {
        match t {
            Ty::Int(w) => {
                let w = *w;
                let ints = self.ints();
                if ints.is_empty() || self.chance(45) {
                    let lit = int_literal(self.u, w);
                    return self.konst(t, &lit);
                }
                let i = *self.pick(&ints);
                let n = self.pool[i].ty.width().unwrap_or(64);
                let x = self.take(i);
                self.resize(&x, n, w)
            }
            Ty::Float | Ty::Double => {
                let double = *t == Ty::Double;
                if self.chance(50) {
                    let lit = float_literal(self.u, double);
                    return self.konst(t, &lit);
                }
                let x = self.operand(&Ty::I64);
                let (op, r) = (
                    if self.chance(50) { "SITOFP" } else { "UITOFP" },
                    self.fresh(),
                );
                let (i64n, tn) = (self.ty(&Ty::I64), self.ty(t));
                self.linef(format_args!("{r} = {op} <{i64n} {tn}> {x}"));
                self.push(t.clone(), r.clone());
                r
            }
            Ty::Ref(x) => {
                if self.chance(25) {
                    return self.konst(t, "NULL");
                }
                let x = (**x).clone();
                self.new_object(&x)
            }
            Ty::IRef(x) => {
                if self.chance(10) {
                    return self.konst(t, "NULL");
                }
                let x = (**x).clone();
                self.new_iref(&x, false).0
            }
            Ty::UPtr(_) => {
                if self.chance(30) {
                    return self.konst(t, "NULL");
                }
                let x = self.operand(&Ty::I64);
                let (r, i64n, tn) = (self.fresh(), self.ty(&Ty::I64), self.ty(t));
                self.linef(format_args!("{r} = PTRCAST <{i64n} {tn}> {x}"));
                self.push(t.clone(), r.clone());
                r
            }
            Ty::UFuncPtr(s) => {
                let cb = self
                    .p
                    .callbacks
                    .values()
                    .find(|c| c.sig == **s)
                    .map(|c| c.expose.clone());
                match cb {
                    Some(e) if self.chance(80) => e,
                    _ => self.konst(t, "NULL"),
                }
            }
            Ty::FuncRef(s) => {
                let later: Vec<String> = self
                    .p
                    .funcs
                    .iter()
                    .enumerate()
                    .filter(|(j, f)| *j > self.index && self.index != usize::MAX && f.sig == **s)
                    .map(|(_, f)| f.name.clone())
                    .collect();
                if later.is_empty() || self.chance(15) {
                    self.konst(t, "NULL")
                } else {
                    self.pick(&later).clone()
                }
            }
            Ty::Struct(fs) => {
                let base = self.constant(t);
                let mut cur = base;
                let tn = self.ty(t);
                for (i, f) in fs.clone().iter().enumerate() {
                    if self.chance(50) {
                        let v = self.escaping(f);
                        let r = self.fresh();
                        self.linef(format_args!("{r} = INSERTVALUE <{tn} {i}> {cur} {v}"));
                        cur = r;
                    }
                }
                if cur.starts_with('%') {
                    self.push(t.clone(), cur.clone());
                }
                cur
            }
            Ty::Array(e, n) => {
                if self.chance(85) {
                    return self.constant(t);
                }
                // Built in a stack cell, element by element.
                let (tn, a) = (self.ty(t), self.fresh());
                self.linef(format_args!("{a} = ALLOCA <{tn}>"));
                let en = self.ty(e);
                let e = (**e).clone();
                for k in 0..*n {
                    let (p, v) = (self.fresh(), self.operand(&e));
                    let idx = self.int_const(64, k as i64);
                    let i64n = self.ty(&Ty::I64);
                    self.linef(format_args!("{p} = GETELEMIREF <{tn} {i64n}> {a} {idx}"));
                    self.linef(format_args!("STORE <{en}> {p} {v}"));
                }
                let r = self.fresh();
                self.linef(format_args!("{r} = LOAD <{tn}> {a}"));
                self.push(t.clone(), r.clone());
                r
            }
            Ty::Void | Ty::Hybrid(..) => self.konst(&Ty::I64, "0"),
        }
    }

    /// A constant of type `t`, with random values.
    fn constant(&mut self, t: &Ty) -> String {
        match t {
            Ty::Int(w) => {
                let lit = int_literal(self.u, *w);
                self.konst(t, &lit)
            }
            Ty::Float | Ty::Double => {
                let lit = float_literal(self.u, *t == Ty::Double);
                self.konst(t, &lit)
            }
            Ty::Struct(fs) => {
                let parts: Vec<String> = fs.clone().iter().map(|f| self.constant(f)).collect();
                self.konst(t, &format!("{{{}}}", parts.join(" ")))
            }
            Ty::Array(e, n) => {
                let e = (**e).clone();
                let parts: Vec<String> = (0..*n).map(|_| self.constant(&e)).collect();
                self.konst(t, &format!("{{{}}}", parts.join(" ")))
            }
            _ => self.konst(t, "NULL"),
        }
    }

    /// `x` of `int<from>` as `int<to>`: TRUNC, ZEXT or SEXT.
    fn resize(&mut self, x: &str, from: u32, to: u32) -> String {
        if from == to {
            return x.to_string();
        }
        let op = if from > to {
            "TRUNC"
        } else if self.chance(50) {
            "SEXT"
        } else {
            "ZEXT"
        };
        let (a, b, r) = (self.ty(&Ty::Int(from)), self.ty(&Ty::Int(to)), self.fresh());
        self.linef(format_args!("{r} = {op} <{a} {b}> {x}"));
        self.push(Ty::Int(to), r.clone());
        r
    }

    /// Some int of the pool as an `i64` (or a constant).
    fn some_i64(&mut self) -> String {
        let ints = self.ints();
        if ints.is_empty() {
            return self.make(&Ty::I64);
        }
        let i = if self.chance(60) {
            ints[ints.len() - 1]
        } else {
            *self.pick(&ints)
        };
        let n = self.pool[i].ty.width().unwrap_or(64);
        let x = self.take(i);
        let r = self.resize(&x, n, 64);
        if n != 64
            && let Some(v) = self.pool.last_mut()
        {
            v.used = true;
        }
        r
    }

    /// The pool's ints, by index.
    fn ints(&self) -> Vec<usize> {
        (0..self.pool.len())
            .filter(|i| self.pool[*i].ty.width().is_some())
            .collect()
    }

    /// An `int<1>` condition from the pool, or a comparison made for it.
    fn cond(&mut self) -> String {
        let c: Vec<usize> = (0..self.pool.len())
            .filter(|i| self.pool[*i].ty == Ty::Int(1))
            .collect();
        if !c.is_empty() && self.chance(60) {
            let i = *self.pick(&c);
            return self.take(i);
        }
        self.int_compare();
        let i = self.pool.len() - 1;
        self.take(i)
    }

    // ---- the function ----

    fn body(&mut self, name: &str, sig: &Sig, blocks: usize, per_block: usize) {
        let sn = self.sig(sig);
        let version = self.p.version;
        let _ = writeln!(self.out, ".funcdef {name} VERSION {version} <{sn}> {{");
        let params: Vec<(Ty, String)> = sig
            .params
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), format!("%p{i}")))
            .collect();
        let ps: Vec<String> = params
            .iter()
            .map(|(t, n)| format!("<{}> {n}", self.p.decls.ty(t)))
            .collect();
        let _ = writeln!(self.out, "    %entry({}):", ps.join(" "));
        for (t, n) in params {
            self.push(t, n.clone());
            // Parameters are the caller's values: nothing to fold.
            self.mark(&n);
        }
        // The state: some of the parameters' types and some others.
        let n = self.int(1, self.p.cfg.state as usize);
        let mut state = Vec::new();
        for k in 0..n {
            let t = if k < sig.params.len() && self.chance(50) {
                sig.params[k].clone()
            } else {
                self.p.value_ty(self.u, 1)
            };
            // Every block takes the state as parameters, a leaf each: aggregates of
            // more than four leaves stay within blocks (and signatures).
            if t.leaves() <= 4 {
                state.push(t);
            }
        }
        // The accumulator, last.
        state.push(Ty::I64);
        self.state = state;
        if self.level > 0 {
            let c = self.fresh();
            // `()`: without it, a `(` or `[` starting the next line would be read
            // as this instruction's arguments or flags.
            self.linef(format_args!("{c} = COMMINST @uvm.native.get_cookie ()"));
            self.push(Ty::I64, c);
            // Some callbacks call C that calls back again (the cookie is read
            // again before the callback returns), some recurse towards the
            // stack budget: C's frames are not counted, the callbacks' are.
            self.nests = self.chance(40);
            if self.chance(25) {
                self.recursion(false);
            }
        }
        if self.p.redefines == Some(self.index) {
            // Every call of a function the client redefines loads its new
            // version here (the first time in a run), while this frame goes on in
            // the old one.
            let n = self.fresh().replace("%v", "");
            let x = self.some_i64();
            let tag = format!("cr{n}_f{}", self.index);
            self.linef(format_args!("[%{tag}] TRAP <> KEEPALIVE({x})"));
            self.p.redefine_tags.push(tag);
        }
        let spine: Vec<String> = (1..blocks).map(|k| format!("%s{k}")).collect();
        for k in 0..blocks {
            if k > 0 {
                let b = spine[k - 1].clone();
                self.begin(&b, &[]);
            }
            for _ in 0..self.int(1, per_block) {
                if !self.room() {
                    break;
                }
                self.budget -= 1;
                self.statement(false);
            }
            if k + 1 == blocks {
                self.ret();
            } else {
                let next = spine[k].clone();
                let later = spine[k..].to_vec();
                self.terminator(&next, &later);
            }
        }
        let _ = writeln!(self.out, "}}");
    }

    /// The values passed for the state, the accumulator last.
    fn carry(&mut self) -> Vec<String> {
        let state = self.state.clone();
        let mut args: Vec<String> = state[..state.len() - 1]
            .iter()
            .map(|t| match t {
                Ty::Ref(_) | Ty::IRef(_) => self.nonnull(t, false),
                _ => self.escaping(t),
            })
            .collect();
        for a in args.clone() {
            self.mark(&a);
        }
        args.push(self.fold());
        args
    }

    /// Starts a block with the state as parameters, then `extra`.
    fn begin(&mut self, name: &str, extra: &[Ty]) -> Vec<String> {
        let state = self.state.clone();
        let mut header = Vec::new();
        self.pool.clear();
        let mut names = Vec::new();
        for (k, t) in state.iter().chain(extra).enumerate() {
            let v = self.fresh();
            header.push(format!("<{}> {v}", self.ty(t)));
            // The state's references are never NULL (`carry`); what else comes may be.
            let refs = k < state.len() && matches!(t, Ty::Ref(_) | Ty::IRef(_));
            // A parameter counts as read: the jump that passed it keeps its value
            // computed, so it needs no folding here.
            self.pool.push(Val {
                ty: t.clone(),
                name: v.clone(),
                nonnull: refs,
                local: false,
                used: true,
            });
            names.push(v);
        }
        let _ = writeln!(self.out, "    {name}({}):", header.join(" "));
        self.acc = names[state.len() - 1].clone();
        let acc = self.acc.clone();
        self.mark(&acc);
        names[state.len()..].to_vec()
    }

    /// Arguments of a jump that passes the state: `(a b c)`.
    fn dest(&mut self, block: &str, extra: &[String]) -> String {
        let mut args = self.carry();
        args.extend(extra.iter().cloned());
        format!("{block}({})", args.join(" "))
    }

    fn terminator(&mut self, next: &str, later: &[String]) {
        let far = self.pick(later).clone();
        match self.int(0, 3) {
            0 => {
                let d = self.dest(next, &[]);
                self.linef(format_args!("BRANCH {d}"));
            }
            1 if self.p.cfg.w_client > 0 && self.chance(8) => {
                // To `next` or `far` by whether the client enabled watchpoint 1.
                let (a, b) = (self.dest(next, &[]), self.dest(&far, &[]));
                self.linef(format_args!("WPBRANCH 1 {a} {b}"));
            }
            1 => {
                let c = self.cond();
                let (a, b) = (self.dest(next, &[]), self.dest(&far, &[]));
                self.linef(format_args!("BRANCH2 {c} {a} {b}"));
            }
            _ => self.switch(later),
        }
    }

    /// SWITCH on an int of any width, with up to `max_cases` distinct cases.
    fn switch(&mut self, targets: &[String]) {
        let w = int_width(self.u);
        let x = self.operand(&Ty::Int(w));
        let t = self.ty(&Ty::Int(w));
        let n = self.int(1, self.p.cfg.max_cases as usize);
        let mut seen = std::collections::BTreeSet::new();
        let mut cases = Vec::new();
        // Two sets of values for the state, each case passing one.
        let args = [self.carry(), self.carry()];
        for k in 0..n {
            let v = if self.chance(50) {
                k as u64
            } else {
                self.u.arbitrary::<u64>().unwrap_or(0)
            };
            let v = if w >= 64 { v } else { v & ((1u64 << w) - 1) };
            if !seen.insert(v) {
                continue;
            }
            let k = self.konst(&Ty::Int(w), &v.to_string());
            let target = self.pick(targets).clone();
            let a = &args[self.int(0, 1)];
            cases.push(format!("{k} {target}({})", a.join(" ")));
        }
        let target = self.pick(targets).clone();
        let default = format!("{target}({})", args[self.int(0, 1)].join(" "));
        self.linef(format_args!(
            "SWITCH <{t}> {x} {default} {{ {} }}",
            cases.join(" ")
        ));
    }

    /// The results, after folding some values into the observed `@gsum`.
    fn ret(&mut self) {
        if self.level > 0 {
            let c = self.fresh();
            self.linef(format_args!("{c} = COMMINST @uvm.native.get_cookie ()"));
            self.push(Ty::I64, c);
        }
        let acc = self.fold();
        let (old, i64n) = (self.fresh(), self.ty(&Ty::I64));
        self.linef(format_args!(
            "{old} = ATOMICRMW SEQ_CST ADD <{i64n}> @gsum {acc}"
        ));
        let rets = self.rets.clone();
        let vs: Vec<String> = rets.iter().map(|t| self.escaping(t)).collect();
        if let Some(t) = self.tailcall_target() {
            self.tailcall(t);
            return;
        }
        self.linef(format_args!("RET ({})", vs.join(" ")));
    }

    /// A later function with this function's results, for a TAILCALL.
    fn tailcall_target(&mut self) -> Option<usize> {
        if self.index == usize::MAX || !self.chance(15) {
            return None;
        }
        let cands: Vec<usize> = (self.index + 1..self.p.funcs.len())
            .filter(|j| self.p.funcs[*j].sig.rets == self.rets)
            .collect();
        (!cands.is_empty()).then(|| *self.pick(&cands))
    }

    fn tailcall(&mut self, j: usize) {
        let f = self.p.funcs[j].clone();
        let args: Vec<String> = f.sig.params.iter().map(|t| self.escaping(t)).collect();
        let sn = self.sig(&f.sig);
        self.linef(format_args!(
            "TAILCALL <{sn}> {} ({})",
            f.name,
            args.join(" ")
        ));
    }

    // ---- statements ----

    fn statement(&mut self, in_loop: bool) {
        let total: u32 = self.weights.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return self.int_arith();
        }
        let mut x = self.u.int_in_range(0..=total - 1).unwrap_or(0);
        let mut fam = Family::IntArith;
        for (f, w) in &self.weights {
            if x < *w {
                fam = *f;
                break;
            }
            x -= w;
        }
        match fam {
            Family::IntArith => self.int_arith(),
            Family::IntDiv => self.int_div(in_loop),
            Family::Shift => self.shift(),
            Family::Compare => self.compare(),
            Family::Convert => self.convert(),
            Family::Float => self.float(),
            Family::Select => self.select(),
            Family::Aggregate => self.aggregate(),
            Family::Memory => self.memory(in_loop),
            Family::Global => self.global(),
            Family::Atomic => self.atomic(),
            Family::Pin => self.pin(),
            Family::CCall => self.ccall(),
            Family::Call if !in_loop => self.call(),
            Family::Throw if !in_loop && self.throws && self.chance(70) => self.throw(),
            Family::Throw if !in_loop => self.deep_throw(),
            Family::Loop if !in_loop => self.counted_loop(),
            Family::Rare => self.rare(in_loop),
            Family::Client => self.client(in_loop),
            Family::Stack => self.stack(),
            _ => self.int_arith(),
        }
    }

    /// A chain of two to four integer operators at one width, each reading the
    /// one before (dense: the cost of a statement is mostly its operands).
    fn int_arith(&mut self) {
        let w = int_width(self.u);
        let t = Ty::Int(w);
        let tn = self.ty(&t);
        let mut a = self.operand(&t);
        for _ in 0..self.int(2, 4) {
            let op = *self.pick(&INT_OPS);
            let b = self.operand(&t);
            let r = self.fresh();
            self.linef(format_args!("{r} = {op} <{tn}> {a} {b}"));
            self.push(t.clone(), r.clone());
            a = r;
        }
    }

    /// One to three divisions at one width: the divisor made odd (so never zero),
    /// except in functions left unguarded, where it may trap or continue
    /// exceptionally.
    fn int_div(&mut self, in_loop: bool) {
        let w = int_width(self.u);
        let t = Ty::Int(w);
        let tn = self.ty(&t);
        let mut a = self.operand(&t);
        for _ in 0..self.int(1, 3) {
            let op = *self.pick(&DIV_OPS);
            let b = self.operand(&t);
            let r = self.fresh();
            if self.unguarded {
                if !in_loop && self.chance(40) {
                    // A zero divisor continues exceptionally (int.div-zero-exc).
                    self.with_exc(
                        std::slice::from_ref(&t),
                        |_, ok, exc| format!("{r} = {op} <{tn}> {a} {b} EXC({ok} {exc})"),
                        std::slice::from_ref(&r),
                    );
                    return;
                }
                self.linef(format_args!("{r} = {op} <{tn}> {a} {b}"));
            } else {
                // OR with 1 keeps odd divisors, makes even ones odd.
                let one = self.int_const(w, 1);
                let g = self.fresh();
                self.linef(format_args!("{g} = OR <{tn}> {b} {one}"));
                self.linef(format_args!("{r} = {op} <{tn}> {a} {g}"));
            }
            self.push(t.clone(), r.clone());
            a = r;
        }
    }

    /// Two or three shifts at one width, amounts of any value.
    fn shift(&mut self) {
        let w = int_width(self.u);
        let t = Ty::Int(w);
        let tn = self.ty(&t);
        let mut a = self.operand(&t);
        for _ in 0..self.int(2, 3) {
            let op = *self.pick(&SHIFT_OPS);
            let b = self.operand(&t);
            let r = self.fresh();
            self.linef(format_args!("{r} = {op} <{tn}> {a} {b}"));
            self.push(t.clone(), r.clone());
            a = r;
        }
    }

    /// One to four predicates on one pair of ints.
    fn int_compare(&mut self) {
        let w = int_width(self.u);
        let t = Ty::Int(w);
        let (a, b) = (self.operand(&t), self.operand(&t));
        let tn = self.ty(&t);
        for _ in 0..self.int(1, 4) {
            let op = *self.pick(&INT_CMPS);
            let r = self.fresh();
            self.linef(format_args!("{r} = {op} <{tn}> {a} {b}"));
            self.push(Ty::Int(1), r);
        }
    }

    fn compare(&mut self) {
        match self.int(0, 9) {
            0..=4 => self.int_compare(),
            5..=7 => {
                let t = if self.chance(50) {
                    Ty::Float
                } else {
                    Ty::Double
                };
                let (a, b) = (self.operand(&t), self.operand(&t));
                let tn = self.ty(&t);
                for _ in 0..self.int(1, 3) {
                    let op = *self.pick(&FLOAT_CMPS);
                    let r = self.fresh();
                    self.linef(format_args!("{r} = {op} <{tn}> {a} {b}"));
                    self.push(Ty::Int(1), r);
                }
            }
            8 => {
                // References compare by identity (cmp.ref): references, internal
                // references and function references, a third each where the
                // function has them (a function reference may be of a later function).
                let kind = self.int(0, 2);
                let mut refs: Vec<Ty> = self
                    .pool
                    .iter()
                    .map(|v| v.ty.clone())
                    .filter(|t| match kind {
                        0 => matches!(t, Ty::Ref(_)),
                        1 => matches!(t, Ty::IRef(_)),
                        _ => matches!(t, Ty::FuncRef(_)),
                    })
                    .collect();
                if kind == 2 && self.index != usize::MAX {
                    refs.extend(
                        self.p
                            .funcs
                            .iter()
                            .skip(self.index + 1)
                            .map(|f| Ty::FuncRef(Box::new(f.sig.clone()))),
                    );
                }
                if refs.is_empty() {
                    refs = self
                        .pool
                        .iter()
                        .filter(|v| matches!(v.ty, Ty::Ref(_) | Ty::IRef(_) | Ty::FuncRef(_)))
                        .map(|v| v.ty.clone())
                        .collect();
                }
                let Some(t) = refs.last().cloned() else {
                    return self.int_compare();
                };
                let op = if self.chance(50) { "EQ" } else { "NE" };
                let (a, b) = (self.operand(&t), self.operand(&t));
                let (tn, r) = (self.ty(&t), self.fresh());
                self.linef(format_args!("{r} = {op} <{tn}> {a} {b}"));
                self.push(Ty::Int(1), r);
            }
            _ => {
                // Ordered comparison of two internal references into one array.
                let e = super::scalar_ty(self.u);
                let n = self.int(2, 6) as u64;
                let arr = Ty::Array(Box::new(e.clone()), n);
                let base = self.nonnull(&Ty::iref(arr.clone()), true);
                let (an, i64n) = (self.ty(&arr), self.ty(&Ty::I64));
                let (i, j) = (self.index(n), self.index(n));
                let (x, y, r) = (self.fresh(), self.fresh(), self.fresh());
                self.linef(format_args!("{x} = GETELEMIREF <{an} {i64n}> {base} {i}"));
                self.linef(format_args!("{y} = GETELEMIREF <{an} {i64n}> {base} {j}"));
                let op = *self.pick(&["ULT", "ULE", "UGT", "UGE", "EQ", "NE"]);
                let irn = self.ty(&Ty::iref(e));
                self.linef(format_args!("{r} = {op} <{irn}> {x} {y}"));
                self.push(Ty::Int(1), r);
            }
        }
    }

    /// An `i64` index in `0..n`: any value reduced modulo `n`.
    fn index(&mut self, n: u64) -> String {
        let x = self.some_i64();
        let len = self.int_const(64, n as i64);
        let (r, i64n) = (self.fresh(), self.ty(&Ty::I64));
        self.linef(format_args!("{r} = UREM <{i64n}> {x} {len}"));
        self.push(Ty::I64, r.clone());
        r
    }

    fn convert(&mut self) {
        match self.int(0, 12) {
            0..=2 => {
                let from = int_width(self.u);
                let to = match int_width(self.u) {
                    w if w == from => 65 - from.max(1),
                    w => w,
                };
                let x = self.operand(&Ty::Int(from));
                self.resize(&x, from, to.clamp(1, 64));
            }
            3..=8 => {
                // Round trips between ints of any widths and floating point.
                let t = if self.chance(50) {
                    Ty::Float
                } else {
                    Ty::Double
                };
                let mut w = int_width(self.u);
                let mut x = self.operand(&Ty::Int(w));
                // The unsigned conversions a little more often: SITOFP is also
                // how other statements make floating-point operands.
                for _ in 0..self.int(3, 4) {
                    let op = if self.chance(40) { "SITOFP" } else { "UITOFP" };
                    let (a, b, f) = (self.ty(&Ty::Int(w)), self.ty(&t), self.fresh());
                    self.linef(format_args!("{f} = {op} <{a} {b}> {x}"));
                    self.push(t.clone(), f.clone());
                    w = int_width(self.u);
                    let op = if self.chance(40) { "FPTOSI" } else { "FPTOUI" };
                    let (a, b, r) = (self.ty(&t), self.ty(&Ty::Int(w)), self.fresh());
                    // Sometimes of a value of its own, NaN and the infinities included.
                    let src = if self.chance(30) { self.operand(&t) } else { f };
                    self.linef(format_args!("{r} = {op} <{a} {b}> {src}"));
                    self.push(Ty::Int(w), r.clone());
                    x = r;
                }
            }
            12 if self.chance(50) => {
                let (from, to, op) = if self.chance(50) {
                    (Ty::Double, Ty::Float, "FPTRUNC")
                } else {
                    (Ty::Float, Ty::Double, "FPEXT")
                };
                let x = self.operand(&from);
                let (a, b, r) = (self.ty(&from), self.ty(&to), self.fresh());
                self.linef(format_args!("{r} = {op} <{a} {b}> {x}"));
                self.push(to, r);
            }
            9 => {
                // BITCAST: NaN payloads are unspecified, so only ordered values
                // go from floating point to int.
                let (fp, int) = if self.chance(50) {
                    (Ty::Float, Ty::Int(32))
                } else {
                    (Ty::Double, Ty::I64)
                };
                let (fpn, intn) = (self.ty(&fp), self.ty(&int));
                if self.chance(50) {
                    let x = self.operand(&int);
                    let r = self.fresh();
                    self.linef(format_args!("{r} = BITCAST <{intn} {fpn}> {x}"));
                    self.push(fp, r);
                } else {
                    let x = self.operand(&fp);
                    let zero = self.konst(&fp, if fp == Ty::Float { "0.5f" } else { "0.5d" });
                    let (c, s, r) = (self.fresh(), self.fresh(), self.fresh());
                    self.linef(format_args!("{c} = FORD <{fpn}> {x} {x}"));
                    let i1 = self.ty(&Ty::Int(1));
                    self.linef(format_args!("{s} = SELECT <{i1} {fpn}> {c} {x} {zero}"));
                    self.linef(format_args!("{r} = BITCAST <{fpn} {intn}> {s}"));
                    self.push(int, r);
                }
            }
            10 | 11 => {
                // PTRCAST between ints of any widths and a pointer.
                let pt = Ty::UPtr(Box::new(Ty::I64));
                let b = self.ty(&pt);
                for _ in 0..self.int(1, 3) {
                    let w = int_width(self.u);
                    let x = self.operand(&Ty::Int(w));
                    let a = self.ty(&Ty::Int(w));
                    let (p, r) = (self.fresh(), self.fresh());
                    self.linef(format_args!("{p} = PTRCAST <{a} {b}> {x}"));
                    let w2 = int_width(self.u);
                    let c = self.ty(&Ty::Int(w2));
                    self.linef(format_args!("{r} = PTRCAST <{b} {c}> {p}"));
                    self.push(pt.clone(), p);
                    self.push(Ty::Int(w2), r);
                }
            }
            _ => {
                // REFCAST to ref<void> and back.
                let t = Ty::r#ref(self.p.mem_ty(self.u, 1));
                let x = self.operand(&t);
                let v = Ty::r#ref(Ty::Void);
                let (a, b) = (self.ty(&t), self.ty(&v));
                let (r, s) = (self.fresh(), self.fresh());
                self.linef(format_args!("{r} = REFCAST <{a} {b}> {x}"));
                self.linef(format_args!("{s} = REFCAST <{b} {a}> {r}"));
                self.push(v, r);
                self.push(t, s);
            }
        }
    }

    fn float(&mut self) {
        let t = if self.chance(50) {
            Ty::Float
        } else {
            Ty::Double
        };
        let op = *self.pick(&FLOAT_OPS);
        let (a, b) = (self.operand(&t), self.operand(&t));
        let (tn, r) = (self.ty(&t), self.fresh());
        self.linef(format_args!("{r} = {op} <{tn}> {a} {b}"));
        self.push(t, r);
    }

    fn select(&mut self) {
        let t = if self.chance(50) && !self.pool.is_empty() {
            let i = self.int(0, self.pool.len() - 1);
            self.pool[i].ty.clone()
        } else {
            self.p.value_ty(self.u, 0)
        };
        let c = self.cond();
        let (a, b) = (self.operand(&t), self.operand(&t));
        let (i1, tn, r) = (self.ty(&Ty::Int(1)), self.ty(&t), self.fresh());
        self.linef(format_args!("{r} = SELECT <{i1} {tn}> {c} {a} {b}"));
        let nonnull = matches!(t, Ty::Ref(_) | Ty::IRef(_))
            && [&a, &b]
                .iter()
                .all(|n| self.pool.iter().any(|v| v.name == **n && v.nonnull));
        let local = [&a, &b]
            .iter()
            .any(|n| self.pool.iter().any(|v| v.name == **n && v.local));
        self.pool.push(Val {
            ty: t,
            name: r,
            nonnull,
            local,
            used: false,
        });
    }

    fn aggregate(&mut self) {
        let structs: Vec<Ty> = self
            .pool
            .iter()
            .filter(|v| matches!(v.ty, Ty::Struct(_)))
            .map(|v| v.ty.clone())
            .collect();
        let t = match structs.last() {
            Some(t) if self.chance(70) => t.clone(),
            _ => {
                let n = self.int(1, 4);
                Ty::Struct((0..n).map(|_| self.p.value_ty(self.u, 1)).collect())
            }
        };
        let Ty::Struct(fs) = t.clone() else { return };
        let x = self.escaping(&t);
        let tn = self.ty(&t);
        let i = self.int(0, fs.len() - 1);
        if self.chance(50) {
            let r = self.fresh();
            self.linef(format_args!("{r} = EXTRACTVALUE <{tn} {i}> {x}"));
            self.push(fs[i].clone(), r);
        } else {
            let (v, r) = (self.escaping(&fs[i]), self.fresh());
            self.linef(format_args!("{r} = INSERTVALUE <{tn} {i}> {x} {v}"));
            self.push(t, r);
        }
    }

    /// Navigates from `base` (an iref to a `t`) to a random part of it, keeping
    /// indices in range; returns the iref and the part's type.
    fn navigate(&mut self, base: &str, t: &Ty, ptr: bool) -> (String, Ty) {
        let mut cur = base.to_string();
        let mut ty = t.clone();
        let p = if ptr { "PTR " } else { "" };
        while self.chance(60) {
            match ty.clone() {
                Ty::Struct(fs) => {
                    let (tn, i, r) = (self.ty(&ty), self.int(0, fs.len() - 1), self.fresh());
                    self.linef(format_args!("{r} = GETFIELDIREF {p}<{tn} {i}> {cur}"));
                    cur = r;
                    ty = fs[i].clone();
                }
                Ty::Array(e, n) => {
                    let (tn, i64n) = (self.ty(&ty), self.ty(&Ty::I64));
                    let i = self.index(n);
                    let r = self.fresh();
                    self.linef(format_args!("{r} = GETELEMIREF {p}<{tn} {i64n}> {cur} {i}"));
                    cur = r;
                    ty = (*e).clone();
                }
                _ => break,
            }
        }
        (cur, ty)
    }

    fn memory(&mut self, in_loop: bool) {
        match self.int(0, 9) {
            0..=5 => {
                // A location of any memory space, a part of it written and read.
                let t = self.p.mem_ty(self.u, 0);
                let (base, local) = match self.int(0, 2) {
                    0 => {
                        let r = self.nonnull(&Ty::r#ref(t.clone()), false);
                        let (tn, i) = (self.ty(&t), self.fresh());
                        self.linef(format_args!("{i} = GETIREF <{tn}> {r}"));
                        (i, false)
                    }
                    _ => self.new_iref(&t, true),
                };
                let (loc, pt) = self.navigate(&base, &t, false);
                let ptn = self.ty(&pt);
                if self.chance(70) {
                    let v = if local {
                        self.operand(&pt)
                    } else {
                        self.escaping(&pt)
                    };
                    self.linef(format_args!("STORE <{ptn}> {loc} {v}"));
                }
                let r = self.fresh();
                self.linef(format_args!("{r} = LOAD <{ptn}> {loc}"));
                // What a stack cell holds may be another stack cell's address.
                self.pool.push(Val {
                    ty: pt,
                    name: r,
                    nonnull: false,
                    local,
                    used: false,
                });
            }
            6 | 7 => self.hybrid(),
            8 => {
                // A NULL access: null_ref (or the exception clause).
                if !self.chance(self.p.cfg.null_access * 10) {
                    return self.int_arith();
                }
                let t = super::scalar_ty(self.u);
                let null = self.konst(&Ty::iref(t.clone()), "NULL");
                let (tn, r) = (self.ty(&t), self.fresh());
                if !in_loop && self.chance(self.p.cfg.catching) {
                    // ...continues exceptionally (mem.null-exc).
                    self.with_exc(
                        std::slice::from_ref(&t),
                        |_, ok, exc| format!("{r} = LOAD <{tn}> {null} EXC({ok} {exc})"),
                        std::slice::from_ref(&r),
                    );
                    return;
                }
                self.linef(format_args!("{r} = LOAD <{tn}> {null}"));
                self.push(t, r);
            }
            _ => {
                // A reference stored in an object's reference field: a heap graph.
                let inner = self.p.mem_ty(self.u, 1);
                let holder = Ty::Struct(vec![Ty::r#ref(inner.clone()), Ty::I64]);
                let h = self.nonnull(&Ty::r#ref(holder.clone()), false);
                let (hn, i, f) = (self.ty(&holder), self.fresh(), self.fresh());
                self.linef(format_args!("{i} = GETIREF <{hn}> {h}"));
                self.linef(format_args!("{f} = GETFIELDIREF <{hn} 0> {i}"));
                let v = self.escaping(&Ty::r#ref(inner.clone()));
                let rn = self.ty(&Ty::r#ref(inner.clone()));
                self.linef(format_args!("STORE <{rn}> {f} {v}"));
                if let Some(g) = self
                    .p
                    .globals
                    .iter()
                    .find(|(t, _)| *t == Ty::r#ref(holder.clone()))
                    .map(|(_, n)| n.clone())
                {
                    let gn = self.ty(&Ty::r#ref(holder));
                    self.linef(format_args!("STORE <{gn}> {g} {h}"));
                }
                let r = self.fresh();
                self.linef(format_args!("{r} = LOAD <{rn}> {f}"));
                self.push(Ty::r#ref(inner), r);
            }
        }
    }

    /// NEWHYBRID or ALLOCAHYBRID of a random hybrid, its fixed part and an element
    /// of its variable part written and read.
    fn hybrid(&mut self) {
        let fixed = (0..self.int(0, 2))
            .map(|_| super::scalar_ty(self.u))
            .collect::<Vec<_>>();
        let var = self.p.mem_ty(self.u, 2);
        let h = Ty::Hybrid(fixed.clone(), Box::new(var.clone()));
        let lw = [8, 16, 32, 64][self.int(0, 3)];
        let lt = Ty::Int(lw);
        let x = self.some_i64();
        let (i64n, ltn, hn) = (self.ty(&Ty::I64), self.ty(&lt), self.ty(&h));
        // A length of 1 to 8.
        let (m, len, n) = (self.fresh(), self.fresh(), self.fresh());
        let seven = self.int_const(64, 7);
        let one = self.int_const(64, 1);
        self.linef(format_args!("{m} = AND <{i64n}> {x} {seven}"));
        self.linef(format_args!("{len} = ADD <{i64n}> {m} {one}"));
        let len_t = if lw < 64 {
            let t = self.fresh();
            let i64n2 = self.ty(&Ty::I64);
            self.linef(format_args!("{t} = TRUNC <{i64n2} {ltn}> {len}"));
            t
        } else {
            len.clone()
        };
        let (base, local) = if self.chance(30) {
            self.linef(format_args!("{n} = ALLOCAHYBRID <{hn} {ltn}> {len_t}"));
            (n, true)
        } else {
            let o = self.fresh();
            self.linef(format_args!("{o} = NEWHYBRID <{hn} {ltn}> {len_t}"));
            self.linef(format_args!("{n} = GETIREF <{hn}> {o}"));
            self.push_ref(Ty::r#ref(h.clone()), o, false);
            (n, false)
        };
        for (k, f) in fixed.iter().enumerate() {
            if self.chance(50) {
                let (fi, fnm) = (self.fresh(), self.ty(f));
                self.linef(format_args!("{fi} = GETFIELDIREF <{hn} {k}> {base}"));
                let v = self.escaping(f);
                self.linef(format_args!("STORE <{fnm}> {fi} {v}"));
            }
        }
        let (v0, idx, e) = (self.fresh(), self.fresh(), self.fresh());
        self.linef(format_args!("{v0} = GETVARPARTIREF <{hn}> {base}"));
        let y = self.some_i64();
        self.linef(format_args!("{idx} = UREM <{i64n}> {y} {len}"));
        let vn = self.ty(&var);
        self.linef(format_args!("{e} = SHIFTIREF <{vn} {i64n}> {v0} {idx}"));
        let v = if local {
            self.operand(&var)
        } else {
            self.escaping(&var)
        };
        self.linef(format_args!("STORE <{vn}> {e} {v}"));
        let r = self.fresh();
        self.linef(format_args!("{r} = LOAD <{vn}> {e}"));
        self.push(var, r);
    }

    fn global(&mut self) {
        let gs = self.p.globals.clone();
        let (t, g) = self.pick(&gs).clone();
        let (loc, pt) = self.navigate(&g, &t, false);
        let ptn = self.ty(&pt);
        if self.chance(60) {
            let v = self.escaping(&pt);
            self.linef(format_args!("STORE <{ptn}> {loc} {v}"));
        } else {
            let r = self.fresh();
            self.linef(format_args!("{r} = LOAD <{ptn}> {loc}"));
            self.push(pt, r);
        }
    }

    fn atomic(&mut self) {
        let w = if self.chance(50) {
            64
        } else {
            [8, 16, 32, 64][self.int(0, 3)]
        };
        let t = Ty::Int(w);
        let (loc, _) = self.new_iref(&t, true);
        let tn = self.ty(&t);
        match self.int(0, 2) {
            0 => {
                let (e, d) = (self.operand(&t), self.operand(&t));
                let (old, ok) = (self.fresh(), self.fresh());
                self.linef(format_args!(
                    "({old} {ok}) = CMPXCHG SEQ_CST SEQ_CST <{tn}> {loc} {e} {d}"
                ));
                self.push(t.clone(), old);
                self.push(Ty::Int(1), ok);
            }
            1 => {
                let op = *self.pick(&RMW_OPS);
                let (v, old) = (self.operand(&t), self.fresh());
                self.linef(format_args!(
                    "{old} = ATOMICRMW SEQ_CST {op} <{tn}> {loc} {v}"
                ));
                self.push(t.clone(), old);
            }
            _ => self.line("FENCE SEQ_CST"),
        }
        let r = self.fresh();
        self.linef(format_args!("{r} = LOAD <{tn}> {loc}"));
        self.push(t, r);
    }

    /// Pinning: a native-safe object of any memory space pinned, a part of it
    /// written and read through PTR, unpinned, read again through its reference;
    /// or the fixed C library's hybrids read and written by C while pinned.
    fn pin(&mut self) {
        match self.int(0, 3) {
            0 => self.pinned_hybrid(),
            1 => self.mixed_hybrid(),
            _ => {
                let t = loop {
                    let t = self.p.mem_ty(self.u, 1);
                    if t.native_safe() {
                        break t;
                    }
                };
                let (iref, _) = self.new_iref(&t, true);
                let (irn, p) = (self.ty(&Ty::iref(t.clone())), self.fresh());
                self.linef(format_args!(
                    "{p} = COMMINST @uvm.native.pin <{irn}> ({iref})"
                ));
                let (loc, pt) = self.navigate(&p, &t, true);
                let ptn = self.ty(&pt);
                let v = self.escaping(&pt);
                self.linef(format_args!("STORE PTR <{ptn}> {loc} {v}"));
                let r = self.fresh();
                self.linef(format_args!("{r} = LOAD PTR <{ptn}> {loc}"));
                self.linef(format_args!("COMMINST @uvm.native.unpin <{irn}> ({iref})"));
                self.push(pt, r);
                let (tn, r2) = (self.ty(&t), self.fresh());
                self.linef(format_args!("{r2} = LOAD <{tn}> {iref}"));
                self.push(t, r2);
            }
        }
    }

    /// Pin a hybrid, write and read it through PTR, hand it to C, unpin.
    fn pinned_hybrid(&mut self) {
        let len = *self.pick(&["@LEN3", "@LEN5", "@LEN8"]);
        let (i, x) = (self.some_i64(), self.some_i64());
        let names: Vec<String> = (0..7).map(|_| self.fresh()).collect();
        let [h, p, v0, idx, q, l, s] = std::array::from_fn(|k| names[k].clone());
        self.linef(format_args!("{h} = NEWHYBRID <@H @i64> {len}"));
        self.linef(format_args!("{p} = COMMINST @uvm.native.pin <@refH> ({h})"));
        if self.chance(40) {
            // An allocation while pinned: a collection here must leave it in place.
            let junk = self.fresh();
            self.linef(format_args!("{junk} = NEW <@Exc>"));
        }
        self.linef(format_args!("{v0} = GETVARPARTIREF PTR <@H> {p}"));
        if self.chance(50) {
            self.linef(format_args!(
                "CCALL #DEFAULT <@fill_fp @fill_sig> @dt_fill ({v0} {len} {x})"
            ));
        }
        self.linef(format_args!("{idx} = UREM <@i64> {i} {len}"));
        self.linef(format_args!("{q} = SHIFTIREF PTR <@i64 @i64> {v0} {idx}"));
        self.linef(format_args!("STORE PTR <@i64> {q} {x}"));
        self.linef(format_args!("{l} = LOAD PTR <@i64> {q}"));
        self.linef(format_args!(
            "{s} = CCALL #DEFAULT <@sum_fp @sum_sig> @dt_sum ({v0} {len})"
        ));
        self.linef(format_args!("COMMINST @uvm.native.unpin <@refH> ({h})"));
        if self.chance(30) {
            self.linef(format_args!("STORE <@refH> @g_h {h}"));
        }
        self.push(Ty::I64, l);
        self.push(Ty::I64, s);
    }

    /// A hybrid whose variable part starts inside the fixed part's tail padding,
    /// written through irefs and PTR, read and changed by C while pinned, and read
    /// back after the unpin.
    fn mixed_hybrid(&mut self) {
        let len = *self.pick(&["@LEN1", "@LEN3", "@LEN5", "@LEN8"]);
        let (i, x) = (self.some_i64(), self.some_i64());
        let names: Vec<String> = (0..14).map(|_| self.fresh()).collect();
        let [h, ih, f0, f1, v0, idx, e, t32, t8, t16, p, s, last, le] =
            std::array::from_fn(|k| names[k].clone());
        self.linef(format_args!("{h} = NEWHYBRID <@HM @i64> {len}"));
        self.linef(format_args!("{ih} = GETIREF <@HM> {h}"));
        self.linef(format_args!("{f0} = GETFIELDIREF <@HM 0> {ih}"));
        self.linef(format_args!("{t32} = TRUNC <@i64 @i32> {x}"));
        self.linef(format_args!("STORE <@i32> {f0} {t32}"));
        self.linef(format_args!("{f1} = GETFIELDIREF <@HM 1> {ih}"));
        self.linef(format_args!("{t8} = TRUNC <@i64 @i8> {i}"));
        self.linef(format_args!("STORE <@i8> {f1} {t8}"));
        self.linef(format_args!("{v0} = GETVARPARTIREF <@HM> {ih}"));
        self.linef(format_args!("{idx} = UREM <@i64> {i} {len}"));
        self.linef(format_args!("{e} = SHIFTIREF <@i16 @i64> {v0} {idx}"));
        self.linef(format_args!("{t16} = TRUNC <@i64 @i16> {x}"));
        self.linef(format_args!("STORE <@i16> {e} {t16}"));
        self.linef(format_args!(
            "{p} = COMMINST @uvm.native.pin <@refHM> ({h})"
        ));
        self.linef(format_args!(
            "{s} = CCALL #DEFAULT <@hm_fp @hm_sig> @dt_hm ({p} {len})"
        ));
        self.linef(format_args!("COMMINST @uvm.native.unpin <@refHM> ({h})"));
        self.linef(format_args!("{last} = SUB <@i64> {len} @ONE"));
        self.linef(format_args!("{le} = SHIFTIREF <@i16 @i64> {v0} {last}"));
        let l = self.fresh();
        self.linef(format_args!("{l} = LOAD <@i16> {le}"));
        self.push(Ty::Int(16), l);
        self.push(Ty::I64, s);
    }

    /// A CCALL of one of the program's C functions: values for its scalars and
    /// structs, pinned locations of any memory space for its out-pointers, and
    /// exposed Mu functions (static or dynamic) for its callbacks.
    fn ccall(&mut self) {
        let usable: Vec<usize> = self
            .p
            .cfuncs
            .iter()
            .copied()
            .filter(|f| {
                let cf = &self.p.lib.funcs[*f];
                let callbacks = cf
                    .sig
                    .params
                    .iter()
                    .filter(|p| matches!(p, CTy::FnPtr(_)))
                    .count();
                // A nesting callback calls C that calls back once: a chain as
                // deep as the stack budget, not a tree that fuel alone bounds.
                self.level == 0 || callbacks == 0 || (self.nests && callbacks == 1 && cf.calls == 1)
            })
            .collect();
        if usable.is_empty() {
            return if self.level == 0 && self.chance(50) {
                self.fixed_callback()
            } else {
                self.int_arith()
            };
        }
        let f = *self.pick(&usable);
        let cf = self.p.lib.funcs[f].clone();
        let callee = self.p.extern_of(f);
        let sig = self.p.lib.mu_sig(&cf.sig);
        let sn = self.sig(&sig);
        let fpn = self.ty(&Ty::UFuncPtr(Box::new(sig.clone())));
        let mut args = Vec::new();
        // Pinned out-locations: (their iref, its type) to unpin and read back.
        let mut pinned: Vec<(String, Ty)> = Vec::new();
        let mut dynamic = Vec::new();
        for (ct, mt) in cf.sig.params.iter().zip(&sig.params) {
            match (ct, mt) {
                (CTy::Ptr(_), Ty::UPtr(e)) => {
                    if self.chance(8) {
                        args.push(self.konst(mt, "NULL"));
                        continue;
                    }
                    let e = (**e).clone();
                    let (iref, _) = self.new_iref(&e, true);
                    let (en, irn) = (self.ty(&e), self.ty(&Ty::iref(e.clone())));
                    if self.chance(70) {
                        let v = self.escaping(&e);
                        self.linef(format_args!("STORE <{en}> {iref} {v}"));
                    }
                    let p = self.fresh();
                    self.linef(format_args!(
                        "{p} = COMMINST @uvm.native.pin <{irn}> ({iref})"
                    ));
                    args.push(p);
                    pinned.push((iref, e));
                }
                (CTy::FnPtr(c), Ty::UFuncPtr(s)) => {
                    let Some(cb) = self.p.callbacks.get(c).cloned() else {
                        args.push(self.konst(mt, "NULL"));
                        continue;
                    };
                    match self.int(0, 9) {
                        0 => args.push(self.konst(mt, "NULL")),
                        1..=3 => {
                            let (fp, csn) = (self.fresh(), self.sig(s));
                            self.linef(format_args!(
                                "{fp} = COMMINST @uvm.native.expose [#DEFAULT] <[{csn}]> ({} {})",
                                cb.name, cb.cookie
                            ));
                            args.push(fp.clone());
                            dynamic.push(fp);
                        }
                        _ => args.push(cb.expose.clone()),
                    }
                }
                _ => args.push(self.operand(mt)),
            }
        }
        let call = format!("CCALL #DEFAULT <{fpn} {sn}> {callee} ({})", args.join(" "));
        match sig.rets.first().cloned() {
            Some(t) => {
                let r = self.fresh();
                self.linef(format_args!("{r} = {call}"));
                self.push(t, r);
            }
            None => self.line(&call),
        }
        for fp in dynamic {
            self.linef(format_args!(
                "COMMINST @uvm.native.unexpose [#DEFAULT] ({fp})"
            ));
        }
        for (iref, e) in pinned {
            let (en, irn, r) = (self.ty(&e), self.ty(&Ty::iref(e.clone())), self.fresh());
            self.linef(format_args!("COMMINST @uvm.native.unpin <{irn}> ({iref})"));
            self.linef(format_args!("{r} = LOAD <{en}> {iref}"));
            self.push(e, r);
        }
    }

    /// The fixed C library's callback: dt_apply calls `@cb` twice.
    fn fixed_callback(&mut self) {
        let a = self.some_i64();
        let v = self.fresh();
        if self.chance(50) {
            self.linef(format_args!(
                "{v} = CCALL #DEFAULT <@apply_fp @apply_sig> @dt_apply (@cb_native {a})"
            ));
        } else {
            let fp = self.fresh();
            self.linef(format_args!(
                "{fp} = COMMINST @uvm.native.expose [#DEFAULT] <[@cb_sig]> (@cb @K7)"
            ));
            self.linef(format_args!(
                "{v} = CCALL #DEFAULT <@apply_fp @apply_sig> @dt_apply ({fp} {a})"
            ));
            self.linef(format_args!(
                "COMMINST @uvm.native.unexpose [#DEFAULT] ({fp})"
            ));
        }
        self.push(Ty::I64, v);
    }

    /// A call of a later function, direct or through a function reference, with
    /// an exception clause at the configured rate.
    fn call(&mut self) {
        if self.index == usize::MAX || self.index + 1 >= self.p.funcs.len() {
            return self.int_arith();
        }
        let j = self.int(self.index + 1, self.p.funcs.len() - 1);
        let f = self.p.funcs[j].clone();
        let sn = self.sig(&f.sig);
        let callee = if self.chance(20) {
            // Through a function reference (NULL now and then: null_call).
            let ft = Ty::FuncRef(Box::new(f.sig.clone()));
            let (c, r, ftn) = (self.cond(), self.fresh(), self.ty(&ft));
            let other = if self.chance(5) {
                self.konst(&ft, "NULL")
            } else {
                f.name.clone()
            };
            let i1 = self.ty(&Ty::Int(1));
            self.linef(format_args!(
                "{r} = SELECT <{i1} {ftn}> {c} {} {other}",
                f.name
            ));
            r
        } else {
            f.name.clone()
        };
        // The callee may keep what it gets: no stack cell of this frame.
        let args: Vec<String> = f.sig.params.iter().map(|t| self.escaping(t)).collect();
        let results: Vec<String> = f.sig.rets.iter().map(|_| self.fresh()).collect();
        let lhs = match results.len() {
            0 => String::new(),
            1 => format!("{} = ", results[0]),
            _ => format!("({}) = ", results.join(" ")),
        };
        if callee == f.name
            && self.level == 0
            && self.index != usize::MAX
            && self.chance(self.p.cfg.on_thread)
        {
            return self.call_on_thread(j, &f.sig, &args, &results);
        }
        let call = if callee == f.name && self.chance(self.p.cfg.on_stack) {
            // On a new stack: its bottom function calls the callee and swaps
            // back with the results or the exception.
            let (wrapper, wsig) = self.p.stack_wrapper(j);
            let (me, st) = (self.fresh(), self.fresh());
            self.linef(format_args!("{me} = COMMINST @uvm.current_stack"));
            self.linef(format_args!(
                "{st} = COMMINST @uvm.new_stack <[{wsig}]> ({wrapper})"
            ));
            let rets: Vec<String> = f.sig.rets.iter().map(|t| self.ty(t).to_string()).collect();
            let params: Vec<String> = f
                .sig
                .params
                .iter()
                .map(|t| self.ty(t).to_string())
                .collect();
            format!(
                "{lhs}SWAPSTACK {st} RET_WITH <{}> PASS_VALUES <@sref {}> ({me} {})",
                rets.join(" "),
                params.join(" "),
                args.join(" ")
            )
        } else {
            format!("{lhs}CALL <{sn}> {callee} ({})", args.join(" "))
        };
        if self.chance(self.p.cfg.catching) {
            let rets = f.sig.rets.clone();
            self.with_exc(
                &rets,
                |_, ok, exc| format!("{call} EXC({ok} {exc})"),
                &results,
            );
        } else {
            self.line(&call);
            for (t, r) in f.sig.rets.iter().zip(results) {
                self.push(t.clone(), r);
            }
        }
    }

    /// An instruction with an exception clause: the normal destination receives
    /// `results` (of types `tys`); the exceptional one reads the exception (a
    /// `@Exc`, or NULL when a budget ran out), perhaps throws it on, and both join
    /// with values of `tys`.
    fn with_exc(
        &mut self,
        tys: &[Ty],
        inst: impl FnOnce(&mut Self, &str, &str) -> String,
        results: &[String],
    ) {
        let (ok, exc, read, join) = (
            self.block_name(),
            self.block_name(),
            self.block_name(),
            self.block_name(),
        );
        let okd = self.dest(&ok, results);
        let excd = self.dest(&exc, &[]);
        let text = inst(self, &okd, &excd);
        self.line(&text);
        // Normal: pass the results on.
        let got = self.begin(&ok, tys);
        let jd = self.dest(&join, &got);
        self.linef(format_args!("BRANCH {jd}"));
        // Exceptional: NULL (a budget) or an @Exc whose payload is read.
        let state = self.state.clone();
        let mut header = Vec::new();
        self.pool.clear();
        for t in &state {
            let v = self.fresh();
            header.push(format!("<{}> {v}", self.ty(t)));
            let refs = matches!(t, Ty::Ref(_) | Ty::IRef(_));
            self.pool.push(Val {
                ty: t.clone(),
                name: v,
                nonnull: refs,
                local: false,
                used: true,
            });
        }
        let e = self.fresh();
        let _ = writeln!(self.out, "    {exc}({}) [{e}]:", header.join(" "));
        let acc = self.pool[state.len() - 1].name.clone();
        self.mark(&acc);
        self.acc = acc;
        let isnull = self.fresh();
        self.linef(format_args!("{isnull} = EQ <@refvoid> {e} @NULLV"));
        let defaults: Vec<String> = tys.iter().map(|t| self.escaping(t)).collect();
        let nd = self.dest(&join, &defaults);
        let rd = self.dest(&read, std::slice::from_ref(&e));
        self.linef(format_args!("BRANCH2 {isnull} {nd} {rd}"));
        let got = self.begin(&read, &[Ty::r#ref(Ty::Void)]);
        let ev = got[0].clone();
        let (x, xi, f1, payload) = (self.fresh(), self.fresh(), self.fresh(), self.fresh());
        self.linef(format_args!("{x} = REFCAST <@refvoid @refExc> {ev}"));
        self.linef(format_args!("{xi} = GETIREF <@Exc> {x}"));
        self.linef(format_args!("{f1} = GETFIELDIREF <@Exc 1> {xi}"));
        self.linef(format_args!("{payload} = LOAD <@i64> {f1}"));
        self.push(Ty::I64, payload);
        if self.throws && self.chance(10) {
            // Thrown on, to a frame further up.
            self.linef(format_args!("THROW {ev}"));
        } else {
            let vals: Vec<String> = tys.iter().map(|t| self.escaping(t)).collect();
            let jd = self.dest(&join, &vals);
            self.linef(format_args!("BRANCH {jd}"));
        }
        let got = self.begin(&join, tys);
        for (t, v) in tys.iter().zip(got) {
            self.push(t.clone(), v);
        }
    }

    /// THROW of an `@Exc` when a bit of the state says so; a frame above catches
    /// it, or the run ends with `uncaught_exception`.
    fn throw(&mut self) {
        let x = self.some_i64();
        let (t, c) = (self.fresh(), self.fresh());
        let (thr, cont) = (self.block_name(), self.block_name());
        self.linef(format_args!("{t} = AND <@i64> {x} @K3"));
        self.linef(format_args!("{c} = EQ <@i64> {t} @K3"));
        let payload = self.some_i64();
        let cd = self.dest(&cont, &[]);
        self.linef(format_args!("BRANCH2 {c} {thr}({payload}) {cd}"));
        let p = self.fresh();
        let _ = writeln!(self.out, "    {thr}(<@i64> {p}):");
        let (o, oi, f0, f1) = (self.fresh(), self.fresh(), self.fresh(), self.fresh());
        self.linef(format_args!("{o} = NEW <@Exc>"));
        self.linef(format_args!("{oi} = GETIREF <@Exc> {o}"));
        self.linef(format_args!("{f0} = GETFIELDIREF <@Exc 0> {oi}"));
        self.linef(format_args!("STORE <@i64> {f0} @K7"));
        self.linef(format_args!("{f1} = GETFIELDIREF <@Exc 1> {oi}"));
        self.linef(format_args!("STORE <@i64> {f1} {p}"));
        self.linef(format_args!("THROW {o}"));
        self.begin(&cont, &[]);
    }

    /// A counted loop: header, body, exit; rarely endless (fuel runs out).
    fn counted_loop(&mut self) {
        let (head, body, exit) = (self.block_name(), self.block_name(), self.block_name());
        let trips = self.int(1, 8) as i64;
        let n = self.int_const(64, trips);
        let hd = self.dest(&head, &[n]);
        self.linef(format_args!("BRANCH {hd}"));
        let i = self.begin(&head, &[Ty::I64])[0].clone();
        let c = self.fresh();
        self.linef(format_args!("{c} = SGT <@i64> {i} @Z"));
        let bd = self.dest(&body, std::slice::from_ref(&i));
        let ed = self.dest(&exit, &[]);
        self.linef(format_args!("BRANCH2 {c} {bd} {ed}"));
        let i = self.begin(&body, &[Ty::I64])[0].clone();
        for _ in 0..self.int(1, 3) {
            if self.lines < self.max_lines {
                self.statement(true);
            }
        }
        let endless = self.u.int_in_range(0..=999u32).unwrap_or(1000) < self.p.cfg.endless;
        let step = if endless { "@Z" } else { "@ONE" };
        let i1 = self.fresh();
        self.linef(format_args!("{i1} = SUB <@i64> {i} {step}"));
        let hd = self.dest(&head, &[i1]);
        self.linef(format_args!("BRANCH {hd}"));
        self.begin(&exit, &[]);
    }

    /// Recursion to a depth of up to 255, past the stack budget of 64 now and then:
    /// with an exception clause the frame that runs out continues exceptionally.
    fn recursion(&mut self, in_loop: bool) {
        let (x, y) = (self.some_i64(), self.some_i64());
        let (n, v) = (self.fresh(), self.fresh());
        self.linef(format_args!("{n} = AND <@i64> {x} @K4"));
        if !in_loop && self.chance(50) {
            self.with_exc(
                &[Ty::I64],
                |_, ok, exc| format!("{v} = CALL <@sig> @rec ({n} {y}) EXC({ok} {exc})"),
                std::slice::from_ref(&v),
            );
        } else {
            let f = if self.chance(50) { "@rec_exc" } else { "@rec" };
            self.linef(format_args!("{v} = CALL <@sig> {f} ({n} {y})"));
            self.push(Ty::I64, v);
        }
    }

    /// A THROW several frames down (`@deep_throw` recurses, holding a reference
    /// in each frame, and throws at the bottom): caught here, or passed on up.
    fn deep_throw(&mut self) {
        let (x, y) = (self.some_i64(), self.some_i64());
        let (n, v) = (self.fresh(), self.fresh());
        self.linef(format_args!("{n} = AND <@i64> {x} @K15"));
        if self.throws && self.chance(30) {
            self.linef(format_args!("{v} = CALL <@sig> @deep_throw ({n} {y})"));
            self.push(Ty::I64, v);
        } else {
            self.with_exc(
                &[Ty::I64],
                |_, ok, exc| format!("{v} = CALL <@sig> @deep_throw ({n} {y}) EXC({ok} {exc})"),
                std::slice::from_ref(&v),
            );
        }
    }

    /// The rarer rules: recursion to the stack limit, allocation failure, client
    /// traps, thread exit, NULL calls, exposing twice, exceptions into C.
    /// A trap the client answers by its tag (`difftest::client`): `ct…_T`
    /// resumed with a value of type T made from the keep-alive values, `cx…`
    /// thrown at (NULL, into the exception clause), `ce…` ending the thread,
    /// `co…_T…` popping this frame so that the caller's CALL gets values of the
    /// result types T…, `cr…` loading a new version of this function, and `cn…`
    /// making a thread of `@fibish`.
    fn client(&mut self, in_loop: bool) {
        let n = self.fresh().replace("%v", "");
        let x = self.some_i64();
        if self.p.redefines == Some(self.index) && self.chance(40) {
            let tag = format!("cr{n}_f{}", self.index);
            self.linef(format_args!("[%{tag}] TRAP <> KEEPALIVE({x})"));
            self.p.redefine_tags.push(tag);
            return;
        }
        let scalar_rets = self.rets.iter().all(|t| code(t).is_some());
        match self.int(0, 9) {
            5 | 6 if !in_loop => {
                let t = super::scalar_ty(self.u);
                let tn = self.ty(&t);
                let v = self.fresh();
                let tag = format!("cx{n}");
                self.with_exc(
                    std::slice::from_ref(&t),
                    |_, ok, exc| {
                        format!("{v} = [%{tag}] TRAP <{tn}> EXC({ok} {exc}) KEEPALIVE({x})")
                    },
                    std::slice::from_ref(&v),
                );
            }
            // Rarer: the whole program is then compiled for a client.
            7 if self.index != 0
                && self.index != usize::MAX
                && self.level == 0
                && scalar_rets
                && self.chance(40) =>
            {
                let codes: Vec<String> = self.rets.iter().filter_map(code).collect();
                let tag = format!("co{n}_{}", codes.join("_"));
                self.linef(format_args!("[%{tag}] TRAP <> KEEPALIVE({x})"));
                self.p.plan.needs_client_mode = true;
            }
            8 if self.chance(50) => {
                self.linef(format_args!("[%ce{n}] TRAP <> KEEPALIVE({x})"));
            }
            // A thread the client makes, which runs once the run's own has ended.
            9 if self.chance(30) => {
                self.linef(format_args!("[%cn{n}] TRAP <> KEEPALIVE({x} @fibish)"));
            }
            // A WATCHPOINT: disabled, to `dis` with a value of the pool; enabled
            // (the plan's client enables watchpoint 1 at the start), a trap the
            // client resumes with a value (`ct`) or throws at (`cx`, to WPEXC).
            4 if !in_loop && self.chance(40) => {
                if self.chance(50) {
                    self.p.plan.watch = true;
                }
                let t = super::scalar_ty(self.u);
                let tn = self.ty(&t);
                let v = self.fresh();
                let c = code(&t).unwrap_or_else(|| "i64".into());
                let tag = if self.chance(25) {
                    format!("cx{n}")
                } else {
                    format!("ct{n}_{c}")
                };
                let ty = t.clone();
                self.with_exc(
                    std::slice::from_ref(&t),
                    |s, ok, exc| {
                        let block = ok.split('(').next().unwrap_or_default().to_string();
                        let other = s.escaping(&ty);
                        let dis = s.dest(&block, &[other]);
                        format!(
                            "{v} = [%{tag}] WATCHPOINT 1 <{tn}> {dis} {ok} WPEXC({exc}) KEEPALIVE({x})"
                        )
                    },
                    std::slice::from_ref(&v),
                );
            }
            _ => {
                let t = super::scalar_ty(self.u);
                let tn = self.ty(&t);
                let y = self.operand(&t);
                let v = self.fresh();
                let c = code(&t).unwrap_or_else(|| "i64".into());
                self.linef(format_args!(
                    "{v} = [%ct{n}_{c}] TRAP <{tn}> KEEPALIVE({x} {y})"
                ));
                self.push(t, v);
            }
        }
    }

    /// A call of `@f{j}` on a new thread (spec/12 §12.8): the thread's bottom
    /// function calls it and leaves the results (or the exception) in global
    /// cells, then says it is done on a futex; this thread waits once (woken,
    /// or the thread was done already) and takes them. A thread that ends
    /// otherwise never says it is done: this one ends with `trap deadlock`.
    fn call_on_thread(&mut self, j: usize, sig: &Sig, args: &[String], results: &[String]) {
        let w = self.p.thread_wrapper(j);
        let (st, t, r, k, x) = (
            self.fresh(),
            self.fresh(),
            self.fresh(),
            self.fresh(),
            self.fresh(),
        );
        let (b, bi, d) = (self.fresh(), self.fresh(), self.fresh());
        let params: Vec<String> = sig.params.iter().map(|t| self.ty(t).to_string()).collect();
        self.linef(format_args!("{b} = NEW <@Exc>"));
        self.linef(format_args!(
            "{st} = COMMINST @uvm.new_stack <[{}]> ({})",
            w.sig, w.name
        ));
        let mut all = args.to_vec();
        all.push(b.clone());
        self.linef(format_args!(
            "{t} = NEWTHREAD {st} PASS_VALUES <{} @refExc> ({})",
            params.join(" "),
            all.join(" ")
        ));
        self.linef(format_args!("{bi} = GETIREF <@Exc> {b}"));
        self.linef(format_args!("{d} = GETFIELDIREF <@Exc 0> {bi}"));
        self.linef(format_args!(
            "{r} = COMMINST @uvm.futex.wait <@i64> ({d} @Z)"
        ));
        self.linef(format_args!("{k} = LOAD SEQ_CST <@i64> {d}"));
        self.linef(format_args!("{x} = EQ <@i64> {k} @TWO"));
        let (rethrow, cont) = (self.block_name(), self.block_name());
        let cd = self.dest(&cont, &[]);
        self.linef(format_args!("BRANCH2 {x} {rethrow}() {cd}"));
        let _ = writeln!(self.out, "    {rethrow}():");
        let e = self.fresh();
        self.linef(format_args!("{e} = LOAD <@refvoid> {}", w.exc));
        self.linef(format_args!("THROW {e}"));
        self.begin(&cont, &[]);
        for ((ty, cell), res) in sig.rets.iter().zip(&w.results).zip(results) {
            let tn = self.ty(ty);
            self.linef(format_args!("{res} = LOAD <{tn}> {cell}"));
            self.push(ty.clone(), res.clone());
        }
    }

    /// The prelude's coroutines (spec/12): a generator of objects pulled on
    /// another stack, then left unfinished, killed, thrown at or pulled to its
    /// end; or a pin held across swaps.
    fn stack(&mut self) {
        let x = self.some_i64();
        let y = self.some_i64();
        let v = self.fresh();
        let roll = self.int(0, 99);
        if roll < 60 {
            let (n, k) = (self.fresh(), self.fresh());
            self.linef(format_args!("{n} = AND <@i64> {x} @K15"));
            self.linef(format_args!("{k} = AND <@i64> {y} @K15"));
            self.linef(format_args!(
                "{v} = CALL <@pull_sig> @dt_pull ({n} {y} {k} {x})"
            ));
        } else if roll < 78 {
            self.linef(format_args!("{v} = CALL <@sig> @dt_pin_swap ({x} {y})"));
        } else if roll < 92 {
            let n = self.fresh();
            self.linef(format_args!("{n} = AND <@i64> {x} @K15"));
            self.linef(format_args!("{v} = CALL <@sig> @dt_prodcons ({n} {y})"));
        } else if roll < 97 {
            self.linef(format_args!("{v} = CALL <@sig> @dt_many_threads ({x} {y})"));
        } else {
            self.linef(format_args!("{v} = CALL <@sig> @dt_many_stacks ({x} {y})"));
        }
        self.push(Ty::I64, v);
    }

    fn rare(&mut self, in_loop: bool) {
        let x = self.some_i64();
        let y = self.some_i64();
        match self.int(0, 9) {
            0 => self.recursion(in_loop),
            1 => {
                let (n, v) = (self.fresh(), self.fresh());
                if self.chance(50) {
                    self.linef(format_args!("{n} = AND <@i64> {x} @K4"));
                    self.linef(format_args!("{v} = CALL <@sig> @trec ({n} {y})"));
                } else {
                    // Recursion the fast VM turns into a loop with an accumulator;
                    // its depth is bounded here, so that a run without fuel ends.
                    self.linef(format_args!("{n} = AND <@i64> {x} @K15"));
                    self.linef(format_args!("{v} = CALL <@sig> @fibish ({n} {y})"));
                }
                self.push(Ty::I64, v);
            }
            2 if self.chance(40) => {
                let h = self.fresh();
                if !in_loop && self.chance(50) {
                    self.with_exc(
                        &[],
                        |_, ok, exc| format!("{h} = NEWHYBRID <@H @i64> @BIG EXC({ok} {exc})"),
                        &[],
                    );
                } else {
                    self.linef(format_args!("{h} = NEWHYBRID <@H @i64> @BIG"));
                }
            }
            3 if self.chance(25) => {
                let t = self.fresh().replace("%v", "%t");
                self.linef(format_args!("[{t}] TRAP <> KEEPALIVE({x} {y})"));
            }
            4 if !in_loop && self.chance(25) => {
                let (t, c) = (self.fresh(), self.fresh());
                let (stop, cont) = (self.block_name(), self.block_name());
                self.linef(format_args!("{t} = AND <@i64> {x} @K3"));
                self.linef(format_args!("{c} = EQ <@i64> {t} @ONE"));
                let cd = self.dest(&cont, &[]);
                self.linef(format_args!("BRANCH2 {c} {stop}() {cd}"));
                let _ = writeln!(self.out, "    {stop}():");
                self.line("COMMINST @uvm.thread_exit");
                self.begin(&cont, &[]);
            }
            5 if self.chance(25) => {
                let v = self.fresh();
                self.linef(format_args!("{v} = CALL <@sig> @NULLF ({x} {y})"));
                self.push(Ty::I64, v);
            }
            6 if self.chance(25) => {
                let fp = self.fresh();
                self.linef(format_args!(
                    "{fp} = COMMINST @uvm.native.expose [#DEFAULT] <[@cb_sig]> (@cb @K7)"
                ));
                self.linef(format_args!(
                    "COMMINST @uvm.native.unexpose [#DEFAULT] ({fp})"
                ));
                self.linef(format_args!(
                    "COMMINST @uvm.native.unexpose [#DEFAULT] ({fp})"
                ));
            }
            7 if self.level == 0 && self.chance(25) => {
                let v = self.fresh();
                self.linef(format_args!(
                    "{v} = CCALL #DEFAULT <@apply_fp @apply_sig> @dt_apply (@cb_throw_native {x})"
                ));
                self.push(Ty::I64, v);
            }
            8 => {
                // A reference live across a call that allocates: with a collection in
                // the callee, the object moves and the caller must see it where it went.
                let t = self.p.mem_ty(self.u, 1);
                let o = self.new_object(&t);
                let v = self.fresh();
                self.linef(format_args!("{v} = CALL <@sig> @alloc_some ({x} {y})"));
                let (tn, i, l) = (self.ty(&t), self.fresh(), self.fresh());
                self.linef(format_args!("{i} = GETIREF <{tn}> {o}"));
                self.linef(format_args!("{l} = LOAD <{tn}> {i}"));
                self.push(Ty::I64, v);
                self.push(t, l);
            }
            9 if self.level == 0 => {
                let v = self.fresh();
                let t = self.fresh();
                self.linef(format_args!("{t} = ASHR <@i64> {x} @K3"));
                self.linef(format_args!(
                    "{v} = CCALL #DEFAULT <@labs_fp @labs_sig> @labs ({t})"
                ));
                self.push(Ty::I64, v);
            }
            _ => self.int_arith(),
        }
    }
}

/// How a client trap's tag spells a scalar type: `i37`, `f`, `d`.
fn code(t: &Ty) -> Option<String> {
    match t {
        Ty::Int(n) => Some(format!("i{n}")),
        Ty::Float => Some("f".into()),
        Ty::Double => Some("d".into()),
        _ => None,
    }
}
