//! Checking an answer: (1) the rules and the answer together are satisfiable, so the
//! answer conforms; (2) the rules and the *negation* of the answer are not, so the
//! rules determine the answer and agreement means something. When (1) fails, the
//! rules alone are solved for the one answer they admit, every item that differs is
//! said in words, and the rules of an unsatisfiable core name what breaks.

use crate::rules::{EIGHTBYTES, Rules, SigTerms, TyTerms, num, num_i};
use crate::ty::{ArgAnswer, CType, Class, Loc, RetAnswer, Sig, SigAnswer, TypeAnswer, ordinal};
use std::fmt;
use z3::ast::{BV, Bool};
use z3::{Model, SatResult, Solver};

/// An answer the rules reject (or rules that do not determine an answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The type or call, as C writes it.
    pub subject: String,
    /// Each item of the answer that differs from the rules', in words.
    pub problems: Vec<String>,
    /// The rules that rule the answer out (from an unsatisfiable core).
    pub broken: Vec<String>,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.subject, self.problems.join("; "))?;
        for b in &self.broken {
            write!(f, "\n  broken: {b}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Number,
    Class,
    Loc,
    Memory,
    StackOffset,
}

/// One item of an answer: its unknown, the answer's value, and how to say it.
struct Item {
    what: String,
    term: BV,
    given: i64,
    kind: Kind,
    /// For a location: the class of its eightbyte (said in the message).
    class: Option<BV>,
}

impl Item {
    fn new(what: String, term: &BV, given: i64, kind: Kind) -> Item {
        Item {
            what,
            term: term.clone(),
            given,
            kind,
            class: None,
        }
    }

    fn holds(&self) -> Bool {
        self.term.eq(num_i(self.given))
    }
}

/// A number of the constraints read back as signed (-1: not on the stack).
fn signed(v: u64) -> i64 {
    i64::from(v as u16 as i16)
}

fn bool_int(b: &Bool) -> BV {
    b.ite(&num(1), &num(0))
}

fn class_name(v: i64) -> String {
    u64::try_from(v)
        .ok()
        .and_then(|v| Class::ALL.get(usize::try_from(v).ok()?))
        .map(|c| c.name().to_string())
        .unwrap_or_else(|| format!("class {v}"))
}

fn loc_name(v: i64) -> String {
    u64::try_from(v)
        .ok()
        .and_then(Loc::of_code)
        .map(|l| l.to_string())
        .unwrap_or_else(|| format!("location {v}"))
}

fn say(item: &Item, rule: i64, model: &Model) -> String {
    let given = item.given;
    match item.kind {
        Kind::Number => format!("{} is {rule}, but the answer says {given}", item.what),
        Kind::Class => format!(
            "{} is {}, but the answer says {}",
            item.what,
            class_name(rule),
            class_name(given)
        ),
        Kind::Loc => {
            let class = item
                .class
                .as_ref()
                .and_then(|c| model.eval(c, true)?.as_u64().map(signed))
                .map(|c| format!(" is {} and", class_name(c)))
                .unwrap_or_default();
            let goes = if rule == Loc::Stack.code() as i64 {
                "goes on the stack with the whole argument".to_string()
            } else if rule == Loc::Nowhere.code() as i64 {
                "goes nowhere".to_string()
            } else {
                format!("goes in {}", loc_name(rule))
            };
            format!(
                "{}{class} {goes}, but the answer puts it in {}",
                item.what,
                loc_name(given)
            )
        }
        Kind::Memory => {
            let how = |m: i64| if m == 1 { "in MEMORY" } else { "in registers" };
            format!(
                "{} is passed {}, but the answer passes it {}",
                item.what,
                how(rule),
                how(given)
            )
        }
        Kind::StackOffset => {
            let at = |o: i64| {
                if o < 0 {
                    "not on the stack".to_string()
                } else {
                    format!("at stack offset {o}")
                }
            };
            format!(
                "{} is {}, but the answer puts it {}",
                item.what,
                at(rule),
                at(given)
            )
        }
    }
}

fn type_items(
    t: &CType,
    terms: &TyTerms,
    ans: &TypeAnswer,
    subject: &str,
) -> Result<Vec<Item>, String> {
    let mut items = vec![
        Item::new(
            format!("the size of {subject}"),
            &terms.size,
            ans.size as i64,
            Kind::Number,
        ),
        Item::new(
            format!("the alignment of {subject}"),
            &terms.align,
            ans.align as i64,
            Kind::Number,
        ),
    ];
    if ans.offsets.len() != terms.offsets.len() {
        return Err(format!(
            "the answer gives {} field offsets, but {t} has {} fields",
            ans.offsets.len(),
            terms.offsets.len()
        ));
    }
    for ((what, term), off) in terms.offsets.iter().zip(&ans.offsets) {
        items.push(Item::new(
            format!("the offset of {what}"),
            term,
            *off as i64,
            Kind::Number,
        ));
    }
    if !terms.hybrid {
        items.push(Item::new(
            subject.to_string(),
            &bool_int(&terms.memory),
            i64::from(ans.classes.is_none()),
            Kind::Memory,
        ));
        if let Some(cs) = &ans.classes {
            for (k, c) in terms.classes.iter().enumerate() {
                let given = cs.get(k).copied().unwrap_or(Class::NoClass);
                items.push(Item::new(
                    format!("the {} eightbyte of {subject}", ordinal(k)),
                    c,
                    given.code() as i64,
                    Kind::Class,
                ));
            }
            if cs.len() > EIGHTBYTES {
                return Err(format!(
                    "the answer gives {} eightbytes, more than eight",
                    cs.len()
                ));
            }
        }
    }
    Ok(items)
}

fn sig_items(sig: &Sig, terms: &SigTerms, ans: &SigAnswer) -> Result<Vec<Item>, String> {
    if ans.args.len() != sig.params.len() {
        return Err(format!(
            "the answer places {} arguments, but the call has {}",
            ans.args.len(),
            sig.params.len()
        ));
    }
    let mut items = Vec::new();
    for (a, ((t, arg), p)) in sig
        .params
        .iter()
        .zip(&ans.args)
        .zip(&terms.params)
        .enumerate()
    {
        let ArgAnswer { eightbytes, stack } = arg;
        if eightbytes.len() > EIGHTBYTES {
            return Err(format!(
                "argument {} has {} eightbytes in the answer",
                a + 1,
                eightbytes.len()
            ));
        }
        for k in 0..EIGHTBYTES {
            let given = eightbytes.get(k).copied().unwrap_or(Loc::Nowhere);
            let mut item = Item::new(
                format!("the {} eightbyte of argument {} `{t}`", ordinal(k), a + 1),
                &terms.arg_locs[a][k],
                given.code() as i64,
                Kind::Loc,
            );
            item.class = Some(p.classes[k].clone());
            items.push(item);
        }
        items.push(Item::new(
            format!("argument {} `{t}`", a + 1),
            &terms.arg_stack[a],
            stack.map(|s| s as i64).unwrap_or(-1),
            Kind::StackOffset,
        ));
    }
    let (sret, regs): (bool, &[Loc]) = match &ans.ret {
        RetAnswer::Void => (false, &[]),
        RetAnswer::Regs(r) => (false, r),
        RetAnswer::Sret => (true, &[]),
    };
    if let Some(t) = &sig.ret {
        items.push(Item::new(
            format!("the result `{t}`"),
            &bool_int(&terms.sret),
            i64::from(sret),
            Kind::Memory,
        ));
        for k in 0..EIGHTBYTES {
            let given = regs.get(k).copied().unwrap_or(Loc::Nowhere);
            let mut item = Item::new(
                format!("the {} eightbyte of the result `{t}`", ordinal(k)),
                &terms.ret_locs[k],
                given.code() as i64,
                Kind::Loc,
            );
            item.class = terms.ret.as_ref().map(|r| r.classes[k].clone());
            items.push(item);
        }
    } else if ans.ret != RetAnswer::Void {
        return Err("the call returns nothing, but the answer returns something".into());
    }
    Ok(items)
}

thread_local! {
    /// One solver per thread, used level by level: creating a solver costs z3
    /// several milliseconds, a push and pop tens of microseconds. It is made anew
    /// every `FRESH_AFTER` queries: what a solver keeps across pops grows, to
    /// gigabytes over ten thousand types.
    static SOLVER: std::cell::RefCell<(Solver, usize)> =
        std::cell::RefCell::new((new_solver(), 0));
}

/// Queries a solver answers before it is replaced.
const FRESH_AFTER: usize = 500;

fn new_solver() -> Solver {
    Solver::new_for_logic("QF_BV").unwrap_or_default()
}

/// Runs `f` with the thread's solver holding the rules (only the layout rules if
/// `layout_only`) and `extra`; they are gone again afterwards.
fn query<R>(
    rules: &Rules,
    layout_only: bool,
    extra: &[Bool],
    f: impl FnOnce(&Solver, SatResult) -> R,
) -> R {
    SOLVER.with(|cell| {
        let mut held = cell.borrow_mut();
        held.1 += 1;
        if held.1 > FRESH_AFTER {
            *held = (new_solver(), 1);
        }
        let s = &held.0;
        s.push();
        for r in rules.rules.iter().filter(|r| r.layout || !layout_only) {
            s.assert(&r.term);
        }
        for e in extra {
            s.assert(e);
        }
        let r = f(s, s.check());
        s.pop(1);
        r
    })
}

/// Solves the layout rules, shows they admit no other layout, and gives the
/// layout pinned: every layout unknown equal to its value. With the layout
/// pinned, the classes and locations follow by propagation, which z3 does fast;
/// with it free, z3 searches the layout again in every query.
fn pinned_layout(rules: &Rules) -> Result<Vec<Bool>, String> {
    let pins = query(rules, true, &[], |s, r| {
        if r != SatResult::Sat {
            return Err(
                "the layout rules are unsatisfiable (is the type larger than 64 KiB?)".to_string(),
            );
        }
        let m = s.get_model().ok_or("z3 gave no model")?;
        rules
            .layout_vars
            .iter()
            .map(|v| Ok(v.eq(m.eval(v, true).ok_or("z3 gave no value")?)))
            .collect::<Result<Vec<Bool>, String>>()
    })?;
    if pins.is_empty() {
        return Ok(pins);
    }
    let other = Bool::or(&pins.iter().map(|p| p.not()).collect::<Vec<_>>());
    match query(rules, true, &[other], |_, r| r) {
        SatResult::Unsat => Ok(pins),
        SatResult::Sat => Err("the layout rules admit more than one layout".into()),
        SatResult::Unknown => Err("z3 gave up on the layout".into()),
    }
}

/// Checks `items` against `rules`; `subject` names the type or call.
fn judge(
    rules: &Rules,
    items: &[Item],
    als: &[(BV, i64)],
    subject: &str,
) -> Result<(), Disagreement> {
    let fail = |problems: Vec<String>, broken: Vec<String>| Disagreement {
        subject: subject.to_string(),
        problems,
        broken,
    };
    let pins = pinned_layout(rules).map_err(|e| fail(vec![e], vec![]))?;
    let holds: Vec<Bool> = items.iter().map(Item::holds).collect();
    let mut all = pins.clone();
    all.extend(holds.iter().cloned());
    // %al is a range, not a value: it is checked with the rest but not for
    // uniqueness.
    for (term, given) in als {
        all.push(term.eq(num_i(*given)));
    }
    match query(rules, false, &all, |_, r| r) {
        SatResult::Sat => {
            // Uniqueness: with the one layout, no other classes or locations.
            let mut step = pins.clone();
            step.push(Bool::or(&holds.iter().map(|h| h.not()).collect::<Vec<_>>()));
            query(rules, false, &step, |s, r| match r {
                SatResult::Unsat => Ok(()),
                SatResult::Sat => {
                    let m = s.get_model();
                    let other = items
                        .iter()
                        .filter_map(|i| {
                            let v = m.as_ref()?.eval(&i.term, true)?.as_u64().map(signed)?;
                            (v != i.given).then(|| format!("{} could also be {v}", i.what))
                        })
                        .collect();
                    Err(fail(
                        other,
                        vec!["the rules admit more than one answer".into()],
                    ))
                }
                SatResult::Unknown => Err(fail(vec!["z3 gave up on uniqueness".into()], vec![])),
            })
        }
        SatResult::Unknown => Err(fail(vec!["z3 gave up".into()], vec![])),
        SatResult::Unsat => query(rules, false, &pins, |s, r| {
            let m = match (r, s.get_model()) {
                (SatResult::Sat, Some(m)) => m,
                _ => {
                    return Err(fail(
                        vec!["the rules themselves are unsatisfiable".into()],
                        vec![],
                    ));
                }
            };
            let value = |i: &Item| m.eval(&i.term, true).and_then(|v| v.as_u64()).map(signed);
            let wrong: Vec<&Item> = items.iter().filter(|i| value(i) != Some(i.given)).collect();
            let mut problems: Vec<String> = wrong
                .iter()
                .map(|i| say(i, value(i).unwrap_or(0), &m))
                .collect();
            if let Some((_, given)) = als.first().filter(|_| wrong.is_empty()) {
                problems.push(format!(
                    "%al must be at least the number of vector registers the arguments use and at most 8, but the answer sets it to {given}"
                ));
                return Err(fail(problems, vec!["for a variadic call, %al is at least the number of vector registers the arguments use and at most 8 (§3.5.7)".into()]));
            }
            Err(fail(problems, core(rules, &wrong)))
        }),
    }
}

/// The labels of the rules in an unsatisfiable core of `rules` and the wrong items.
fn core(rules: &Rules, wrong: &[&Item]) -> Vec<String> {
    let s = Solver::new();
    let mut labels = Vec::new();
    for (i, r) in rules.rules.iter().enumerate() {
        let p = Bool::new_const(format!("rule{i}"));
        s.assert_and_track(r.term.clone(), &p);
        labels.push((p, r.label.clone()));
    }
    for (i, w) in wrong.iter().enumerate() {
        s.assert_and_track(w.holds(), &Bool::new_const(format!("answer{i}")));
    }
    if s.check() != SatResult::Unsat {
        return Vec::new();
    }
    let core = s.get_unsat_core();
    let mut out: Vec<String> = labels
        .into_iter()
        .filter(|(p, _)| core.contains(p))
        .map(|(_, l)| l)
        .collect();
    // The most specific rules come last in building order; a few are enough.
    out.reverse();
    out.truncate(3);
    out
}

fn type_case(rules: &mut Rules, t: &CType, ans: &TypeAnswer) -> Result<Vec<Item>, Disagreement> {
    let subject = format!("`{t}`");
    let terms = rules.ty(t, &subject);
    type_items(t, &terms, ans, &subject).map_err(|e| Disagreement {
        subject: t.to_string(),
        problems: vec![e],
        broken: vec![],
    })
}

type SigCase = (Vec<Item>, Option<(BV, i64)>);

fn sig_case(rules: &mut Rules, sig: &Sig, ans: &SigAnswer) -> Result<SigCase, Disagreement> {
    let terms = rules.sig(sig);
    let items = sig_items(sig, &terms, ans).map_err(|e| Disagreement {
        subject: sig.to_string(),
        problems: vec![e],
        broken: vec![],
    })?;
    let al = match (&terms.al, ans.al) {
        (Some(term), Some(v)) => Some((term.clone(), i64::from(v))),
        _ => None,
    };
    Ok((items, al))
}

/// Checks an answer about a type.
pub fn check_type(t: &CType, ans: &TypeAnswer) -> Result<(), Disagreement> {
    let mut rules = Rules::new();
    let items = type_case(&mut rules, t, ans)?;
    judge(&rules, &items, &[], &t.to_string())
}

/// Checks an answer about a call.
pub fn check_sig(sig: &Sig, ans: &SigAnswer) -> Result<(), Disagreement> {
    let mut rules = Rules::new();
    let (items, al) = sig_case(&mut rules, sig, ans)?;
    judge(&rules, &items, al.as_slice(), &sig.to_string())
}

fn eval(m: &Model, x: &BV) -> i64 {
    m.eval(x, true)
        .and_then(|v| v.as_u64().map(signed))
        .unwrap_or(-1)
}

fn solved(rules: &Rules) -> Option<Model> {
    let pins = pinned_layout(rules).ok()?;
    query(rules, false, &pins, |s, r| {
        (r == SatResult::Sat).then(|| s.get_model()).flatten()
    })
}

fn type_answer(m: &Model, terms: &TyTerms) -> TypeAnswer {
    let size = eval(m, &terms.size).max(0) as u64;
    let memory = m
        .eval(&terms.memory, true)
        .and_then(|b| b.as_bool())
        .unwrap_or(true);
    let n = size.div_ceil(8) as usize;
    TypeAnswer {
        size,
        align: eval(m, &terms.align).max(0) as u64,
        offsets: terms
            .offsets
            .iter()
            .map(|(_, o)| eval(m, o).max(0) as u64)
            .collect(),
        classes: (!memory && !terms.hybrid).then(|| {
            terms.classes[..n.min(EIGHTBYTES)]
                .iter()
                .map(|c| {
                    Class::ALL
                        .get(eval(m, c) as usize)
                        .copied()
                        .unwrap_or(Class::Memory)
                })
                .collect()
        }),
    }
}

/// The one answer the rules admit for a type.
pub fn solve_type(t: &CType) -> Option<TypeAnswer> {
    let mut rules = Rules::new();
    let terms = rules.ty(t, &format!("`{t}`"));
    Some(type_answer(&solved(&rules)?, &terms))
}

/// The one answer the rules admit for a call (`%al`: the least it may be).
pub fn solve_sig(sig: &Sig) -> Option<SigAnswer> {
    let mut rules = Rules::new();
    let terms = rules.sig(sig);
    let m = solved(&rules)?;
    let loc = |x: &BV| Loc::of_code(eval(&m, x) as u64).unwrap_or(Loc::Nowhere);
    let args = terms
        .params
        .iter()
        .enumerate()
        .map(|(a, p)| {
            let n = (eval(&m, &p.size).max(0) as u64).div_ceil(8) as usize;
            let stack = eval(&m, &terms.arg_stack[a]);
            ArgAnswer {
                eightbytes: terms.arg_locs[a][..n.min(EIGHTBYTES)]
                    .iter()
                    .map(loc)
                    .collect(),
                stack: u64::try_from(stack).ok(),
            }
        })
        .collect();
    let ret = match &terms.ret {
        None => RetAnswer::Void,
        Some(r) => {
            if m.eval(&terms.sret, true)
                .and_then(|b| b.as_bool())
                .unwrap_or(false)
            {
                RetAnswer::Sret
            } else {
                let n = (eval(&m, &r.size).max(0) as u64).div_ceil(8) as usize;
                RetAnswer::Regs(
                    terms.ret_locs[..n.min(EIGHTBYTES)]
                        .iter()
                        .map(loc)
                        .collect(),
                )
            }
        }
    };
    let al = terms.al.as_ref().map(|_| {
        // The least value: the number of vector registers the arguments use.
        let mut used = 0u8;
        for locs in &terms.arg_locs {
            for l in locs {
                if let Loc::Xmm(_) = loc(l) {
                    used += 1;
                }
            }
        }
        used
    });
    Some(SigAnswer { args, ret, al })
}
