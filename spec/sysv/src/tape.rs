//! The functional form's terms, evaluated at concrete selectors without z3.
//!
//! A bounded proof compares an implementation with the rules' functional form at
//! every assignment of field kinds, hundreds of thousands of them. Substituting the
//! kinds into the z3 terms and simplifying costs milliseconds a shape; the terms are
//! the same for every shape of a skeleton, so they are flattened once into a tape,
//! a topologically ordered list of the bit-vector and Boolean operations they are
//! made of, which is then run per shape in microseconds. Only the operations the
//! rules use are understood; any other makes [`Tape::new`] fail, and the proof
//! falls back on z3. The proof also checks a sample of shapes against z3's own
//! evaluation, so the tape is itself under test.

use crate::rules::W;
use std::collections::HashMap;
use z3::ast::{Ast, BV, Dynamic};

/// One operation of a tape; operands are indices of earlier steps.
#[derive(Debug, Clone)]
enum Op {
    Const(u64),
    Sel(usize),
    Eq(usize, usize),
    Ite(usize, usize, usize),
    And(Vec<usize>),
    Or(Vec<usize>),
    Not(usize),
    Add(Vec<usize>),
    Sub(usize, usize),
    Mul(Vec<usize>),
    BvAnd(Vec<usize>),
    BvOr(Vec<usize>),
    BvNot(usize),
    Ule(usize, usize),
    Ult(usize, usize),
}

/// Terms over selectors, flattened.
#[derive(Debug, Clone)]
pub struct Tape {
    ops: Vec<Op>,
    outputs: Vec<usize>,
}

const MASK: u64 = (1 << W) - 1;

impl Tape {
    /// Flattens `terms`, whose only free constants are `sels`. Fails, naming it,
    /// on an operation or constant it does not know.
    pub fn new(terms: &[BV], sels: &[BV]) -> Result<Tape, String> {
        let mut tape = Tape {
            ops: Vec::new(),
            outputs: Vec::new(),
        };
        let sel_of: HashMap<Dynamic, usize> = sels
            .iter()
            .enumerate()
            .map(|(i, s)| (Dynamic::from_ast(s), i))
            .collect();
        let mut seen: HashMap<Dynamic, usize> = HashMap::new();
        for t in terms {
            let i = tape.node(&Dynamic::from_ast(t), &sel_of, &mut seen)?;
            tape.outputs.push(i);
        }
        Ok(tape)
    }

    /// The step computing `t`, added after its operands (iteratively: the terms
    /// are deep).
    fn node(
        &mut self,
        t: &Dynamic,
        sel_of: &HashMap<Dynamic, usize>,
        seen: &mut HashMap<Dynamic, usize>,
    ) -> Result<usize, String> {
        let mut stack = vec![(t.clone(), false)];
        while let Some((n, expanded)) = stack.pop() {
            if seen.contains_key(&n) {
                continue;
            }
            let kids = n.children();
            if !expanded {
                stack.push((n.clone(), true));
                for k in kids.iter().rev() {
                    if !seen.contains_key(k) {
                        stack.push((k.clone(), false));
                    }
                }
                continue;
            }
            let a: Vec<usize> = kids.iter().map(|k| seen[k]).collect();
            let op = self.op(&n, a, sel_of)?;
            self.ops.push(op);
            seen.insert(n, self.ops.len() - 1);
        }
        Ok(seen[t])
    }

    fn op(
        &self,
        n: &Dynamic,
        a: Vec<usize>,
        sel_of: &HashMap<Dynamic, usize>,
    ) -> Result<Op, String> {
        let unknown = || format!("the tape does not know `{n}`");
        if !n.is_app() {
            return Err(format!("the tape does not know `{n}`"));
        }
        let two = |a: &[usize]| match a {
            [x, y] => Ok((*x, *y)),
            _ => Err(unknown()),
        };
        let one = |a: &[usize]| match a {
            [x] => Ok(*x),
            _ => Err(unknown()),
        };
        // By the operation's SMT-LIB name: the numbering of `Z3_decl_kind` differs
        // between libz3 versions, and the system's need not be the one z3-sys
        // was generated from.
        if let Some(c) = n.as_bv().and_then(|b| b.as_u64()) {
            return Ok(Op::Const(c));
        }
        if let Some(c) = n.as_bool().and_then(|b| b.as_bool()) {
            return Ok(Op::Const(u64::from(c)));
        }
        if let Some(i) = sel_of.get(n) {
            return Ok(Op::Sel(*i));
        }
        Ok(match n.decl().name().as_str() {
            "=" => {
                let (x, y) = two(&a)?;
                Op::Eq(x, y)
            }
            "if" | "ite" => match a[..] {
                [c, x, y] => Op::Ite(c, x, y),
                _ => return Err(unknown()),
            },
            "and" => Op::And(a),
            "or" => Op::Or(a),
            "not" => Op::Not(one(&a)?),
            "bvadd" => Op::Add(a),
            "bvsub" => {
                let (x, y) = two(&a)?;
                Op::Sub(x, y)
            }
            "bvmul" => Op::Mul(a),
            "bvand" => Op::BvAnd(a),
            "bvor" => Op::BvOr(a),
            "bvnot" => Op::BvNot(one(&a)?),
            "bvule" => {
                let (x, y) = two(&a)?;
                Op::Ule(x, y)
            }
            "bvuge" => {
                let (x, y) = two(&a)?;
                Op::Ule(y, x)
            }
            "bvult" => {
                let (x, y) = two(&a)?;
                Op::Ult(x, y)
            }
            "bvugt" => {
                let (x, y) = two(&a)?;
                Op::Ult(y, x)
            }
            _ => return Err(unknown()),
        })
    }

    /// The outputs at these selector values, in order (Booleans as 0 and 1).
    /// `scratch` is reused between runs.
    pub fn run(&self, sels: &[u64], scratch: &mut Vec<u64>) -> Vec<u64> {
        scratch.clear();
        for op in &self.ops {
            let v = |i: &usize| scratch[*i];
            let b = |x: bool| u64::from(x);
            let r = match op {
                Op::Const(c) => *c,
                Op::Sel(i) => sels.get(*i).copied().unwrap_or(0),
                Op::Eq(x, y) => b(v(x) == v(y)),
                Op::Ite(c, x, y) => {
                    if v(c) != 0 {
                        v(x)
                    } else {
                        v(y)
                    }
                }
                Op::And(xs) => b(xs.iter().all(|x| v(x) != 0)),
                Op::Or(xs) => b(xs.iter().any(|x| v(x) != 0)),
                Op::Not(x) => b(v(x) == 0),
                Op::Add(xs) => xs.iter().fold(0u64, |s, x| s.wrapping_add(v(x))) & MASK,
                Op::Sub(x, y) => v(x).wrapping_sub(v(y)) & MASK,
                Op::Mul(xs) => xs.iter().fold(1u64, |s, x| s.wrapping_mul(v(x))) & MASK,
                Op::BvAnd(xs) => xs.iter().fold(MASK, |s, x| s & v(x)),
                Op::BvOr(xs) => xs.iter().fold(0, |s, x| s | v(x)),
                Op::BvNot(x) => !v(x) & MASK,
                Op::Ule(x, y) => b(v(x) <= v(y)),
                Op::Ult(x, y) => b(v(x) < v(y)),
            };
            scratch.push(r);
        }
        self.outputs.iter().map(|&i| scratch[i]).collect()
    }

    /// Steps on the tape.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the tape has no steps.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::num;
    use z3::ast::Bool;

    #[test]
    fn runs_what_z3_simplifies_to() {
        let s = BV::new_const("s", W);
        let t = BV::new_const("t", W);
        let terms = [
            s.bvadd(num(7)).bvand(num(0xFFF8)),
            s.bvult(&t).ite(&s.bvsub(&t), &t.bvmul(num(3))),
            Bool::and(&[s.bvuge(num(2)), t.eq(num(5)).not()]).ite(&num(1), &num(0)),
            s.bvnot(),
        ];
        let tape = Tape::new(&terms, &[s.clone(), t.clone()]).unwrap();
        let mut scratch = Vec::new();
        for (a, b) in [(0u64, 0u64), (1, 2), (9, 5), (3, 4), (0xFFFF, 1)] {
            let got = tape.run(&[a, b], &mut scratch);
            let (ca, cb) = (num(a), num(b));
            let pairs = [(&s, &ca), (&t, &cb)];
            let want: Vec<u64> = terms
                .iter()
                .map(|x| x.substitute(&pairs).simplify().as_u64().unwrap())
                .collect();
            assert_eq!(got, want, "at s={a} t={b}");
        }
    }

    #[test]
    fn refuses_an_operation_it_does_not_know() {
        let s = BV::new_const("s", W);
        let e = Tape::new(&[s.bvudiv(num(3))], std::slice::from_ref(&s)).unwrap_err();
        assert!(e.contains("bvudiv"), "{e}");
        let u = BV::new_const("u", W);
        assert!(Tape::new(&[u], &[s]).is_err());
    }
}
