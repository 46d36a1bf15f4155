//! Bounded proofs.
//!
//! The shapes: structs of at most N fields *in all* (a nested struct's fields
//! count), nested at most two deep, whose fields are drawn from [`menu`]: every
//! integer size, `float`, `double`, pointers, and arrays of them. For each
//! arrangement of fields (a skeleton) the field kinds are symbolic, selectors over
//! the menu, and z3 proves, for all kinds at once:
//!
//! 1. the declarative rules agree with their functional form (every offset the
//!    previous end rounded up, and so on) on layout, classes and locations, so they
//!    admit exactly one answer;
//! 2. the sanity lemmas: the size is a multiple of the alignment; every field is at
//!    a multiple of its alignment, after the previous one and inside the struct;
//!    not MEMORY implies at most 16 bytes; a call never uses more than 6 INTEGER or
//!    8 SSE registers, and every eightbyte lands in a register of its kind or on the
//!    stack.
//!
//! Then every assignment of kinds is enumerated, and the implementation's answers
//! for the type and for the call `S f(long ×5, double ×7, S, S)` (one INTEGER and
//! one SSE register left for the first `S`, the stack for the second) are compared
//! with the functional form evaluated by z3 at those kinds. A mismatch is checked
//! again against the declarative rules, which say in words what breaks.

use crate::check::{check_sig, check_type};
use crate::rules::{EIGHTBYTES, Rules, Shape, SigTerms, TyTerms, num};
use crate::tape::Tape;
use crate::ty::{CType, Class, Loc, RetAnswer, Scalar, Sig, SigAnswer, TypeAnswer};
use serde::Serialize;
use std::time::Instant;
use z3::ast::{Ast, BV, Bool};
use z3::{SatResult, Solver};

/// An implementation under proof: its answers about types and calls (`None`: it
/// cannot express the type).
pub trait Implementation: Sync {
    /// Its layout and classification of a type.
    fn type_answer(&self, t: &CType) -> Option<TypeAnswer>;
    /// Its locations for a call.
    fn sig_answer(&self, s: &Sig) -> Option<SigAnswer>;
}

/// The field kinds of the bounded shapes.
pub fn menu() -> Vec<CType> {
    use Scalar::*;
    let arr = |s, n| CType::Array(Box::new(CType::Scalar(s)), n);
    vec![
        CType::Scalar(I8),
        CType::Scalar(I16),
        CType::Scalar(I32),
        CType::Scalar(I64),
        CType::Scalar(Float),
        CType::Scalar(Double),
        CType::Scalar(Ptr),
        arr(I8, 3),
        arr(Float, 3),
        arr(Double, 2),
    ]
}

/// A field of a skeleton: one field of the menu, or a nested struct of this many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// A field of the menu.
    Leaf,
    /// A nested struct of this many fields of the menu.
    Nest(usize),
}

/// Every skeleton with exactly `k` fields of the menu.
pub fn skeletons(k: usize) -> Vec<Vec<Part>> {
    if k == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for first in 1..=k {
        let heads: Vec<Part> = if first == 1 {
            vec![Part::Leaf, Part::Nest(1)]
        } else {
            vec![Part::Nest(first)]
        };
        for rest in skeletons(k - first) {
            for h in &heads {
                let mut s = vec![*h];
                s.extend(rest.iter().copied());
                out.push(s);
            }
        }
    }
    out
}

fn shape_of(parts: &[Part], sels: &[BV], menu: &[CType]) -> Shape {
    let mut i = 0;
    let mut next = || {
        i += 1;
        Shape::Choice(sels[i - 1].clone(), menu.to_vec())
    };
    Shape::Struct(
        parts
            .iter()
            .map(|p| match p {
                Part::Leaf => next(),
                Part::Nest(n) => Shape::Struct((0..*n).map(|_| next()).collect()),
            })
            .collect(),
    )
}

/// The concrete type of a skeleton at these kinds.
pub fn type_of(parts: &[Part], kinds: &[usize], menu: &[CType]) -> CType {
    let mut it = kinds.iter();
    let mut next = || menu[*it.next().unwrap_or(&0)].clone();
    CType::Struct(
        parts
            .iter()
            .map(|p| match p {
                Part::Leaf => next(),
                Part::Nest(n) => CType::Struct((0..*n).map(|_| next()).collect()),
            })
            .collect(),
    )
}

/// The call each shape is tried in.
pub fn probe_sig(t: &CType) -> Sig {
    let mut params = vec![CType::Scalar(Scalar::I64); 5];
    params.extend(vec![CType::Scalar(Scalar::Double); 7]);
    params.push(t.clone());
    params.push(t.clone());
    Sig {
        params,
        ret: Some(t.clone()),
        variadic: None,
    }
}

/// The terms of one skeleton in one form.
struct Form {
    ty: TyTerms,
    call: SigTerms,
    rules: Rules,
}

fn form(functional: bool, parts: &[Part], sels: &[BV], menu: &[CType]) -> Form {
    let mut rules = if functional {
        Rules::functional()
    } else {
        Rules::new()
    };
    let shape = shape_of(parts, sels, menu);
    let ty = rules.shape(&shape, "S");
    let mut params: Vec<(Shape, String)> =
        vec![(Shape::Known(CType::Scalar(Scalar::I64)), "long".into()); 5];
    params.extend(vec![
        (
            Shape::Known(CType::Scalar(Scalar::Double)),
            "double".into()
        );
        7
    ]);
    params.push((shape.clone(), "S".into()));
    params.push((shape.clone(), "S".into()));
    let call = rules.call(&params, Some(&(shape, "S".into())), false);
    Form { ty, call, rules }
}

/// Every answer term of a form, in a fixed order, with Bools as 0/1.
fn answer_terms(f: &Form) -> Vec<BV> {
    let b = |x: &Bool| x.ite(&num(1), &num(0));
    let mut out = vec![f.ty.size.clone(), f.ty.align.clone(), b(&f.ty.memory)];
    out.extend(f.ty.offsets.iter().map(|(_, o)| o.clone()));
    out.extend(f.ty.classes.iter().cloned());
    for (locs, st) in f.call.arg_locs.iter().zip(&f.call.arg_stack) {
        out.extend(locs.iter().cloned());
        out.push(st.clone());
    }
    out.extend(f.call.ret_locs.iter().cloned());
    out.push(b(&f.call.sret));
    out
}

/// The same items of an implementation's answers.
fn answer_values(t: &TypeAnswer, s: &SigAnswer) -> Vec<u64> {
    let mut out = vec![t.size, t.align, u64::from(t.classes.is_none())];
    out.extend(t.offsets.iter().copied());
    for k in 0..EIGHTBYTES {
        let c = t
            .classes
            .as_ref()
            .and_then(|c| c.get(k).copied())
            .unwrap_or(Class::NoClass);
        out.push(c.code());
    }
    for a in &s.args {
        for k in 0..EIGHTBYTES {
            out.push(a.eightbytes.get(k).copied().unwrap_or(Loc::Nowhere).code());
        }
        out.push(a.stack.unwrap_or(u64::from(u16::MAX)));
    }
    let (sret, regs): (bool, &[Loc]) = match &s.ret {
        RetAnswer::Sret => (true, &[]),
        RetAnswer::Regs(r) => (false, r),
        RetAnswer::Void => (false, &[]),
    };
    for k in 0..EIGHTBYTES {
        out.push(regs.get(k).copied().unwrap_or(Loc::Nowhere).code());
    }
    out.push(u64::from(sret));
    out
}

fn in_menu(sels: &[BV], n: usize) -> Vec<Bool> {
    sels.iter().map(|s| s.bvult(num(n as u64))).collect()
}

fn unsat(asserts: &[Bool]) -> Result<(), String> {
    let s = Solver::new();
    for a in asserts {
        s.assert(a);
    }
    match s.check() {
        SatResult::Unsat => Ok(()),
        SatResult::Sat => Err(format!(
            "counterexample: {:?}",
            s.get_model().map(|m| m.to_string())
        )),
        SatResult::Unknown => Err("z3 gave up".into()),
    }
}

/// The sanity lemmas over a form (see the module text).
fn lemmas(f: &Form) -> Bool {
    let mut all = Vec::new();
    for (fields, size, align) in &f.rules.structs {
        all.push(size.bvand(align.bvsub(num(1))).eq(num(0)));
        let mut prev_end = num(0);
        for (off, fsize, falign) in fields {
            all.push(off.bvand(falign.bvsub(num(1))).eq(num(0)));
            all.push(off.bvuge(&prev_end));
            prev_end = off.bvadd(fsize);
        }
        all.push(prev_end.bvule(size));
    }
    all.push(Bool::or(&[f.ty.memory.clone(), f.ty.size.bvule(num(16))]));
    all.push(f.call.gprs.bvule(num(6)));
    all.push(f.call.sses.bvule(num(8)));
    for locs in &f.call.arg_locs {
        for l in locs {
            all.push(Bool::or(&[
                l.bvule(num(5)),
                Bool::and(&[
                    l.bvuge(num(Loc::Xmm(0).code())),
                    l.bvule(num(Loc::XmmHigh(7).code())),
                ]),
                l.eq(num(Loc::Nowhere.code())),
                l.eq(num(Loc::Stack.code())),
            ]));
        }
    }
    Bool::and(&all)
}

/// Every how many shapes z3 evaluates the rules too, as a check on the tape.
const SAMPLE: u64 = 997;

/// One line of the proof table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Fields in all.
    pub fields: usize,
    /// Skeletons (arrangements of fields).
    pub skeletons: usize,
    /// Shapes (skeletons × kinds) whose answers were compared.
    pub shapes: u64,
    /// Seconds for the symbolic proofs (forms agree, lemmas).
    pub symbolic_secs: f64,
    /// Seconds for comparing every shape's answers.
    pub enumerated_secs: f64,
    /// What failed, in words.
    pub failures: Vec<String>,
}

/// Proves one skeleton: the symbolic part, then every assignment of kinds.
fn prove_skeleton(
    parts: &[Part],
    imp: &dyn Implementation,
    failures: &mut Vec<String>,
) -> (u64, f64, f64) {
    let menu = menu();
    let k: usize = parts
        .iter()
        .map(|p| match p {
            Part::Leaf => 1,
            Part::Nest(n) => *n,
        })
        .sum();
    let sels: Vec<BV> = (0..k)
        .map(|i| BV::new_const(format!("kind{i}"), crate::rules::W))
        .collect();
    let t0 = Instant::now();
    let decl = form(false, parts, &sels, &menu);
    let func = form(true, parts, &sels, &menu);
    let (dt, ft) = (answer_terms(&decl), answer_terms(&func));
    // 1. The declarative rules admit only the functional answer.
    let mut asserts: Vec<Bool> = decl.rules.rules.iter().map(|r| r.term.clone()).collect();
    asserts.extend(in_menu(&sels, menu.len()));
    asserts.push(Bool::or(
        &dt.iter()
            .zip(&ft)
            .map(|(d, f)| d.eq(f).not())
            .collect::<Vec<_>>(),
    ));
    let skel = format!("{parts:?}");
    if let Err(e) = unsat(&asserts) {
        failures.push(format!(
            "{skel}: the declarative rules and their functional form differ: {e}"
        ));
    }
    // 2. The lemmas.
    let mut asserts = in_menu(&sels, menu.len());
    asserts.push(lemmas(&func).not());
    if let Err(e) = unsat(&asserts) {
        failures.push(format!("{skel}: a sanity lemma fails: {e}"));
    }
    let symbolic = t0.elapsed().as_secs_f64();
    // 3. Every assignment of kinds, by the tape of the functional form (z3 itself
    // evaluates the first shape and every SAMPLE-th, and must agree with it).
    let t1 = Instant::now();
    let tape = Tape::new(&ft, &sels);
    let mut scratch = Vec::new();
    let mut kinds = vec![0usize; k];
    let mut shapes = 0u64;
    loop {
        let by_z3 = || {
            let subst: Vec<(BV, BV)> = sels
                .iter()
                .zip(&kinds)
                .map(|(s, v)| (s.clone(), num(*v as u64)))
                .collect();
            let pairs: Vec<(&BV, &BV)> = subst.iter().map(|(a, b)| (a, b)).collect();
            ft.iter()
                .map(|f| f.substitute(&pairs).simplify().as_u64())
                .collect::<Option<Vec<u64>>>()
        };
        let sels_now: Vec<u64> = kinds.iter().map(|v| *v as u64).collect();
        let rules_say = match &tape {
            Ok(tape) => {
                let run = tape.run(&sels_now, &mut scratch);
                if shapes.is_multiple_of(SAMPLE) && by_z3().as_ref() != Some(&run) {
                    failures.push(format!(
                        "{skel} at kinds {kinds:?}: the tape and z3 evaluate the rules differently"
                    ));
                }
                Some(run)
            }
            Err(_) => by_z3(),
        };
        shapes += 1;
        let t = type_of(parts, &kinds, &menu);
        let sig = probe_sig(&t);
        match (imp.type_answer(&t), imp.sig_answer(&sig)) {
            (Some(ta), Some(sa)) => {
                if rules_say.as_ref() != Some(&answer_values(&ta, &sa)) {
                    let why = check_type(&t, &ta)
                        .err()
                        .or_else(|| check_sig(&sig, &sa).err());
                    failures.push(match why {
                        Some(d) => d.to_string(),
                        None => format!("`{t}`: the answers differ from the rules' (but each checks on its own?)"),
                    });
                }
            }
            _ => failures.push(format!("`{t}`: the implementation gives no answer")),
        }
        if failures.len() > 20 {
            break;
        }
        // The next assignment.
        let mut i = 0;
        while i < k {
            kinds[i] += 1;
            if kinds[i] < menu.len() {
                break;
            }
            kinds[i] = 0;
            i += 1;
        }
        if i == k {
            break;
        }
    }
    (shapes, symbolic, t1.elapsed().as_secs_f64())
}

/// `f` of every item, on `threads` threads, in the items' order. Each thread has
/// its own z3 context (z3 0.22's is thread-local), so z3 work parallelises so.
pub fn on_threads<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if let Ok(mut d) = done.lock() {
                        d.push((i, r));
                    }
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_default();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Proves every shape of up to `max_fields` fields, on `threads` threads, one row
/// per field count.
pub fn prove(max_fields: usize, imp: &dyn Implementation, threads: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    for k in 1..=max_fields {
        let skels = skeletons(k);
        let results = on_threads(&skels, threads, |parts| {
            let mut failures = Vec::new();
            let (n, sym, en) = prove_skeleton(parts, imp, &mut failures);
            (n, sym, en, failures)
        });
        rows.push(Row {
            fields: k,
            skeletons: skels.len(),
            shapes: results.iter().map(|r| r.0).sum(),
            symbolic_secs: results.iter().map(|r| r.1).sum(),
            enumerated_secs: results.iter().map(|r| r.2).sum(),
            failures: results.into_iter().flat_map(|r| r.3).collect(),
        });
    }
    rows
}
