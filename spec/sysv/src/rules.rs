//! The psABI's rules as Z3 constraints (x86-64 psABI 1.0, §3.1.2 "Data Representation"
//! and §3.2.3 "Parameter Passing"; shared/notes/sysv-abi-and-backends.md §1). They are
//! written from the text, declaratively: a field's offset is *the lowest offset at or
//! after the previous field's end that is a multiple of its alignment*, not the result
//! of a rounding formula, and so on. The unknowns (sizes, offsets, classes, locations)
//! are left to the solver; an engine's answer is checked by asserting it alongside.
//!
//! Every constraint carries a label in words, which is what a failed check reports.

use crate::ty::{CType, Class, Loc, Scalar, Sig};
use z3::ast::{BV, Bool};

/// A labelled constraint.
#[derive(Debug, Clone)]
pub struct Rule {
    /// What it says, in words.
    pub label: String,
    /// The constraint.
    pub term: Bool,
    /// Whether it is a layout rule (§3.1.2), which alone determine sizes and
    /// offsets.
    pub layout: bool,
}

/// The rules for one type or call, as they are built.
#[derive(Debug, Default)]
pub struct Rules {
    /// Every constraint, labelled.
    pub rules: Vec<Rule>,
    /// Every unknown of the layout rules (sizes, alignments, offsets, also inside
    /// array elements).
    pub layout_vars: Vec<BV>,
    /// The functional form: every unknown replaced by the term that computes it
    /// (offsets by rounding up, and so on). `prove` shows the two forms agree.
    pub functional: bool,
    /// Every struct laid out: its fields' (offset, size, alignment), relative to
    /// the struct, and its size and alignment (for the sanity lemmas).
    pub structs: Vec<StructFacts>,
    fresh: usize,
}

/// A struct's fields laid out: each with its offset, their end, their
/// alignments and their facts.
type LaidOut = (Vec<(BV, Node)>, BV, Vec<BV>, Vec<FieldFacts>);

/// One field's (offset, size, alignment).
pub type FieldFacts = (BV, BV, BV);

/// A struct's fields, with its size and alignment.
pub type StructFacts = (Vec<FieldFacts>, BV, BV);

/// A type's unknowns.
#[derive(Debug, Clone)]
pub struct TyTerms {
    /// `sizeof`.
    pub size: BV,
    /// `_Alignof`.
    pub align: BV,
    /// Every struct field's offset from the outermost type, in preorder (see
    /// `TypeAnswer::offsets`), with a description of the field.
    pub offsets: Vec<(String, BV)>,
    /// Passed in memory.
    pub memory: Bool,
    /// The class of eightbyte 0..8 (NO_CLASS past the end, and when in memory).
    pub classes: Vec<BV>,
    /// Whether the type is a hybrid (never passed by value: no classification).
    pub hybrid: bool,
    /// How many eightbytes it may have at most (the rest are absent by its
    /// structure).
    pub eightbytes: usize,
}

/// A call's unknowns.
#[derive(Debug, Clone)]
pub struct SigTerms {
    /// Each argument's type.
    pub params: Vec<TyTerms>,
    /// Each argument's eightbyte locations (eight of them, `Nowhere` past the end).
    pub arg_locs: Vec<Vec<BV>>,
    /// Each argument's stack offset, or -1.
    pub arg_stack: Vec<BV>,
    /// The result's type.
    pub ret: Option<TyTerms>,
    /// The result's eightbyte locations.
    pub ret_locs: Vec<BV>,
    /// Whether the result comes back through a hidden pointer.
    pub sret: Bool,
    /// `%al`, for a variadic call.
    pub al: Option<BV>,
    /// How many integer registers the call uses (the hidden sret pointer too).
    pub gprs: BV,
    /// How many vector registers the arguments use.
    pub sses: BV,
}

/// The number of eightbytes the rules track: past eight the argument is MEMORY
/// (§3.2.3, "If the size of an object is larger than eight eightbytes…").
pub const EIGHTBYTES: usize = 8;

/// The width of every number in the constraints. Bit-vectors, not integers: z3
/// bit-blasts the sums and comparisons and propagates a fixed answer through them
/// at once, where its integer solver needed tens of milliseconds per type. Sizes
/// and offsets stay below 2^16 (a bigger type is refused before it gets here).
pub const W: u32 = 16;

/// A number.
pub fn num(v: u64) -> BV {
    BV::from_u64(v, W)
}

/// A number given as signed (wrapping: -1 is all ones).
pub fn num_i(v: i64) -> BV {
    BV::from_i64(v, W)
}

/// An unknown number.
pub fn num_var(name: String) -> BV {
    BV::new_const(name, W)
}

/// The sum of some numbers.
pub fn add(xs: &[&BV]) -> BV {
    match xs.split_first() {
        None => num(0),
        Some((first, rest)) => rest.iter().fold((*first).clone(), |a, b| a.bvadd(*b)),
    }
}

fn int(v: u64) -> BV {
    num(v)
}

fn cls(c: Class) -> BV {
    int(c.code())
}

fn loc(l: Loc) -> BV {
    int(l.code())
}

fn and(bs: &[Bool]) -> Bool {
    if bs.is_empty() {
        Bool::from_bool(true)
    } else {
        Bool::and(bs)
    }
}

fn or(bs: &[Bool]) -> Bool {
    if bs.is_empty() {
        Bool::from_bool(false)
    } else {
        Bool::or(bs)
    }
}

fn sum(xs: &[BV]) -> BV {
    add(&xs.iter().collect::<Vec<_>>())
}

/// How many of `classes` are `c`.
fn count_class(classes: &[BV], c: Class) -> BV {
    count(&classes.iter().map(|x| x.eq(cls(c))).collect::<Vec<_>>())
}

fn count(bs: &[Bool]) -> BV {
    sum(&bs
        .iter()
        .map(|b| b.ite(&int(1), &int(0)))
        .collect::<Vec<_>>())
}

/// `x` is a multiple of the alignment `a`, a power of two (every scalar's
/// alignment is, and an aggregate's is one of its members'): its low bits are zero.
fn aligned(x: &BV, a: &BV) -> Bool {
    x.bvand(a.bvsub(int(1))).eq(int(0))
}

/// `x` is the lowest offset at or after `lo` that is a multiple of `a`.
fn lowest_aligned(x: &BV, lo: &BV, a: &BV) -> Bool {
    Bool::and(&[x.bvuge(lo), aligned(x, a), x.bvult(add(&[lo, a]))])
}

fn max(a: &BV, b: &BV) -> BV {
    a.bvuge(b).ite(a, b)
}

/// `x` rounded up to a multiple of the power of two `a` (the functional form).
fn align_up(x: &BV, a: &BV) -> BV {
    let mask = a.bvsub(int(1));
    x.bvadd(&mask).bvand(mask.bvnot())
}

/// The scalar table of Figure 3.1: size, alignment, and the class of each of its
/// eightbytes.
pub fn scalar_facts(s: Scalar) -> (u64, u64, &'static [Class]) {
    match s {
        Scalar::I8 => (1, 1, &[Class::Integer]),
        Scalar::I16 => (2, 2, &[Class::Integer]),
        Scalar::I32 => (4, 4, &[Class::Integer]),
        Scalar::I64 | Scalar::Ptr => (8, 8, &[Class::Integer]),
        Scalar::I128 => (16, 16, &[Class::Integer, Class::Integer]),
        Scalar::Float => (4, 4, &[Class::Sse]),
        Scalar::Double => (8, 8, &[Class::Sse]),
        Scalar::LongDouble => (16, 16, &[Class::X87, Class::X87Up]),
    }
}

/// The merge of two classes in one eightbyte (§3.2.3, rule 4 a–f).
pub fn merge(a: &BV, b: &BV) -> BV {
    let is = |x: &BV, c: Class| x.eq(cls(c));
    let x87 = |x: &BV| {
        or(&[
            is(x, Class::X87),
            is(x, Class::X87Up),
            is(x, Class::ComplexX87),
        ])
    };
    // (a) equal: that class. (b) NO_CLASS and X: X. (c) MEMORY involved: MEMORY.
    // (d) INTEGER involved: INTEGER. (e) an x87 class involved: MEMORY. (f) SSE.
    a.eq(b).ite(
        a,
        &is(a, Class::NoClass).ite(
            b,
            &is(b, Class::NoClass).ite(
                a,
                &or(&[is(a, Class::Memory), is(b, Class::Memory)]).ite(
                    &cls(Class::Memory),
                    &or(&[is(a, Class::Integer), is(b, Class::Integer)]).ite(
                        &cls(Class::Integer),
                        &or(&[x87(a), x87(b)]).ite(&cls(Class::Memory), &cls(Class::Sse)),
                    ),
                ),
            ),
        ),
    )
}

/// A type laid out: its size and alignment, and what its eightbytes see.
#[derive(Debug, Clone)]
enum Node {
    Scalar(Scalar),
    /// Fields at these offsets (relative to the node's start).
    Struct(Vec<(BV, Node)>),
    /// `n` elements of this stride.
    Array(Box<Node>, u64, BV),
    /// The fixed part; the variable part is not passed by value.
    Hybrid(Vec<(BV, Node)>),
    /// One of several types, by a selector (symbolic field kinds).
    Choice(BV, Vec<Node>),
}

/// An upper bound on the size and alignment of a shape, from its structure alone
/// (every field at most its alignment minus one past the previous end). Eightbytes
/// at or past the bound cannot exist, so their classes are NO_CLASS without terms
/// for them: the terms z3 is given shrink by as much.
fn bound(s: &Shape) -> (u64, u64) {
    match s {
        Shape::Known(CType::Scalar(x)) => {
            let (size, align, _) = scalar_facts(*x);
            (size, align)
        }
        Shape::Known(CType::Array(e, n)) => {
            let (b, a) = bound(&Shape::Known((**e).clone()));
            (b.saturating_mul(*n), a)
        }
        Shape::Known(CType::Struct(fs)) => bound(&Shape::Struct(
            fs.iter().cloned().map(Shape::Known).collect(),
        )),
        Shape::Known(CType::Hybrid(fs, v)) => {
            let mut fs: Vec<Shape> = fs.iter().cloned().map(Shape::Known).collect();
            fs.push(Shape::Known((**v).clone()));
            bound(&Shape::Struct(fs))
        }
        Shape::Choice(_, menu) => menu
            .iter()
            .map(|t| bound(&Shape::Known(t.clone())))
            .fold((0, 1), |(b, a), (b2, a2)| (b.max(b2), a.max(a2))),
        Shape::Struct(fs) => {
            let (mut size, mut align) = (0u64, 1u64);
            for f in fs {
                let (b, a) = bound(f);
                size = size.saturating_add(b).saturating_add(a - 1);
                align = align.max(a);
            }
            (size.saturating_add(align - 1), align)
        }
    }
}

/// One of the types of `menu`, chosen by the value of `sel` (used by the bounded
/// proofs): only scalars and arrays of scalars, which have no unknowns of their own.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A known type.
    Known(CType),
    /// `menu[sel]`.
    Choice(BV, Vec<CType>),
    /// A struct of these shapes.
    Struct(Vec<Shape>),
}

impl Rules {
    /// No rules yet.
    pub fn new() -> Rules {
        Rules::default()
    }

    /// No rules yet, in the functional form.
    pub fn functional() -> Rules {
        Rules {
            functional: true,
            ..Rules::default()
        }
    }

    fn rule(&mut self, label: impl Into<String>, term: Bool) {
        self.rules.push(Rule {
            label: label.into(),
            term,
            layout: false,
        });
    }

    fn layout_rule(&mut self, label: impl Into<String>, term: Bool) {
        self.rules.push(Rule {
            label: label.into(),
            term,
            layout: true,
        });
    }

    fn layout_var(&mut self, what: &str) -> BV {
        let v = self.var(what);
        self.layout_vars.push(v.clone());
        v
    }

    fn var(&mut self, what: &str) -> BV {
        self.fresh += 1;
        num_var(format!("{what}#{}", self.fresh))
    }

    /// `x` defined as `term`: in the functional form the term itself; otherwise a
    /// new unknown and the rule that it equals the term.
    fn define(&mut self, what: &str, label: String, term: BV) -> BV {
        if self.functional {
            return term;
        }
        let v = self.var(what);
        self.rule(label, v.eq(&term));
        v
    }

    /// The lowest offset at or after `lo` that is a multiple of `a`: an unknown and
    /// the layout rule that says so, or (functional form) `lo` rounded up.
    fn lowest(&mut self, what: &str, label: String, lo: &BV, a: &BV) -> BV {
        if self.functional {
            return align_up(lo, a);
        }
        let v = self.layout_var(what);
        self.layout_rule(label, lowest_aligned(&v, lo, a));
        v
    }

    /// The alignment of an aggregate: "Structures and unions assume the alignment
    /// of their most strictly aligned component."
    fn strictest(&mut self, name: &str, aligns: &[BV]) -> BV {
        if self.functional {
            return aligns.iter().fold(int(1), |m, a| max(&m, a));
        }
        let align = self.layout_var("align");
        let mut ge: Vec<Bool> = aligns.iter().map(|a| align.bvuge(a)).collect();
        let eq: Vec<Bool> = aligns.iter().map(|a| align.eq(a)).collect();
        ge.push(or(&eq));
        self.layout_rule(
            format!("the alignment of {name} is that of its most strictly aligned member (§3.1.2)"),
            and(&ge),
        );
        align
    }

    /// The fields of a struct (or a hybrid's fixed part) laid out one after another;
    /// pushes their offsets (relative to the struct) and returns the fields, their
    /// end and their alignments.
    fn fields(&mut self, fs: &[Shape], name: &str, offsets: &mut Vec<(String, BV)>) -> LaidOut {
        let mut facts = Vec::new();
        let mut fields = Vec::new();
        let mut end = int(0);
        let mut aligns = Vec::new();
        for (i, f) in fs.iter().enumerate() {
            let fname = format!("field {i} of {name}");
            let mut inner = Vec::new();
            let (node, fsize, falign) = self.layout(f, &fname, &mut inner);
            let after = if i == 0 {
                "the start".to_string()
            } else {
                format!("field {}", i - 1)
            };
            let off = self.lowest(
                "off",
                format!("{fname} is at the lowest offset after {after} that is a multiple of its alignment (§3.1.2, \"each member is assigned to the lowest available offset with the appropriate alignment\")"),
                &end,
                &falign,
            );
            offsets.push((fname, off.clone()));
            offsets.extend(inner.into_iter().map(|(n, o)| (n, add(&[&off, &o]))));
            end = add(&[&off, &fsize]);
            facts.push((off.clone(), fsize, falign.clone()));
            aligns.push(falign);
            fields.push((off, node));
        }
        (fields, end, aligns, facts)
    }

    /// The layout of `t` (§3.1.2): the node with its size and alignment. Pushes the
    /// offset of every field, relative to `t`, in preorder.
    fn layout(&mut self, t: &Shape, name: &str, offsets: &mut Vec<(String, BV)>) -> (Node, BV, BV) {
        match t {
            Shape::Known(CType::Scalar(s)) => {
                let (size, align, _) = scalar_facts(*s);
                (Node::Scalar(*s), int(size), int(align))
            }
            Shape::Known(CType::Array(e, n)) => {
                // "Arrays … have the alignment of their element"; the elements follow
                // one another with no padding between them, so the stride is the
                // element's size (a multiple of its alignment). The fields of the
                // first element are listed; the others repeat them.
                let (node, size, align) = self.layout(
                    &Shape::Known((**e).clone()),
                    &format!("an element of {name}"),
                    offsets,
                );
                (
                    Node::Array(Box::new(node), *n, size.clone()),
                    size.bvmul(int(*n)),
                    align,
                )
            }
            Shape::Known(CType::Struct(fs)) => {
                let fs: Vec<Shape> = fs.iter().cloned().map(Shape::Known).collect();
                self.layout(&Shape::Struct(fs), name, offsets)
            }
            Shape::Struct(fs) => {
                let (fields, end, aligns, facts) = self.fields(fs, name, offsets);
                let align = self.strictest(name, &aligns);
                // "The size of any object is always a multiple of the object's
                // alignment": the end, rounded up (tail padding).
                let size = self.lowest(
                    "size",
                    format!("the size of {name} is its end rounded up to a multiple of its alignment (§3.1.2, tail padding)"),
                    &end,
                    &align,
                );
                self.structs.push((facts, size.clone(), align.clone()));
                (Node::Struct(fields), size, align)
            }
            Shape::Known(CType::Hybrid(fs, v)) => {
                let fs: Vec<Shape> = fs.iter().cloned().map(Shape::Known).collect();
                let (fields, end, mut aligns, _) = self.fields(&fs, name, offsets);
                let vname = format!("the variable part of {name}");
                let mut inner = Vec::new();
                let (_, _, valign) = self.layout(&Shape::Known((**v).clone()), &vname, &mut inner);
                let var_off = self.lowest(
                    "var",
                    format!("{vname} starts at the lowest offset after the fixed part that is a multiple of the element's alignment (C11 §6.7.2.1 ¶18, flexible array member)"),
                    &end,
                    &valign,
                );
                offsets.push((vname, var_off.clone()));
                offsets.extend(inner.into_iter().map(|(n, o)| (n, add(&[&var_off, &o]))));
                aligns.push(valign);
                let align = self.strictest(name, &aligns);
                let size = self.lowest(
                    "size",
                    format!("the size of {name} is the start of its variable part rounded up to a multiple of its alignment (§3.1.2, tail padding)"),
                    &var_off,
                    &align,
                );
                (Node::Hybrid(fields), size, align)
            }
            Shape::Choice(sel, menu) => {
                let mut alts = Vec::new();
                let (mut size, mut align) = (int(0), int(1));
                for (i, t) in menu.iter().enumerate().rev() {
                    let mut none = Vec::new();
                    let (n, sz, al) = self.layout(&Shape::Known(t.clone()), name, &mut none);
                    let here = sel.eq(int(i as u64));
                    size = here.ite(&sz, &size);
                    align = here.ite(&al, &align);
                    alts.push(n);
                }
                alts.reverse();
                (Node::Choice(sel.clone(), alts), size, align)
            }
        }
    }

    /// The class `node`, placed at `base`, gives eightbyte `k`: its fields' classes
    /// merged in order, each field contributing where it overlaps the eightbyte
    /// (§3.2.3 rule 3–4: "each field is classified recursively").
    fn class_at(node: &Node, base: &BV, k: usize) -> BV {
        let lo = int(8 * k as u64);
        let hi = int(8 * k as u64 + 8);
        match node {
            Node::Scalar(s) => {
                let (size, _, classes) = scalar_facts(*s);
                let part = size.min(8);
                let mut acc = cls(Class::NoClass);
                for (j, c) in classes.iter().enumerate() {
                    let start = add(&[base, &int(8 * j as u64)]);
                    let overlaps =
                        Bool::and(&[start.bvult(&hi), add(&[&start, &int(part)]).bvugt(&lo)]);
                    acc = merge(&acc, &overlaps.ite(&cls(*c), &cls(Class::NoClass)));
                }
                acc
            }
            Node::Struct(fs) | Node::Hybrid(fs) => {
                let mut acc = cls(Class::NoClass);
                for (off, f) in fs {
                    acc = merge(&acc, &Rules::class_at(f, &add(&[base, off]), k));
                }
                acc
            }
            Node::Array(e, n, stride) => {
                let mut acc = cls(Class::NoClass);
                // Elements wholly past the eight eightbytes cannot reach eightbyte k
                // (their start is at least the element's index times a stride of at
                // least one byte): they make the type MEMORY by its size instead.
                for i in 0..(*n).min(8 * EIGHTBYTES as u64) {
                    let at = add(&[base, &stride.bvmul(int(i))]);
                    acc = merge(&acc, &Rules::class_at(e, &at, k));
                }
                acc
            }
            Node::Choice(sel, alts) => {
                let mut acc = cls(Class::NoClass);
                for (i, a) in alts.iter().enumerate().rev() {
                    acc = sel
                        .eq(int(i as u64))
                        .ite(&Rules::class_at(a, base, k), &acc);
                }
                acc
            }
        }
    }

    /// The alignment facts of every field: whether each is at a multiple of its
    /// alignment ("If … it has unaligned fields, it is classified as MEMORY").
    fn unaligned(node: &Node, base: &BV, out: &mut Vec<Bool>) {
        match node {
            Node::Struct(fs) | Node::Hybrid(fs) => {
                for (off, f) in fs {
                    let at = add(&[base, off]);
                    if let Node::Scalar(s) = f {
                        let (_, a, _) = scalar_facts(*s);
                        out.push(aligned(&at, &int(a)).not());
                    }
                    Rules::unaligned(f, &at, out);
                }
            }
            _ => {}
        }
    }

    /// The type `t` and how it is passed by value, with unknowns named after
    /// `name`.
    pub fn ty(&mut self, t: &CType, name: &str) -> TyTerms {
        let mut offsets = Vec::new();
        let shape = Shape::Known(t.clone());
        let (node, size, align) = self.layout(&shape, name, &mut offsets);
        let hybrid = matches!(t, CType::Hybrid(..));
        let n = (bound(&shape).0.div_ceil(8) as usize).min(EIGHTBYTES);
        self.classify(node, size, align, offsets, name, hybrid, n)
    }

    /// A shape with symbolic field kinds, and how it is passed by value.
    pub fn shape(&mut self, s: &Shape, name: &str) -> TyTerms {
        let mut offsets = Vec::new();
        let (node, size, align) = self.layout(s, name, &mut offsets);
        let n = (bound(s).0.div_ceil(8) as usize).min(EIGHTBYTES);
        self.classify(node, size, align, offsets, name, false, n)
    }

    #[allow(clippy::too_many_arguments)]
    fn classify(
        &mut self,
        node: Node,
        size: BV,
        align: BV,
        offsets: Vec<(String, BV)>,
        name: &str,
        hybrid: bool,
        n: usize,
    ) -> TyTerms {
        if hybrid {
            let classes = (0..EIGHTBYTES).map(|_| cls(Class::NoClass)).collect();
            return TyTerms {
                size,
                align,
                offsets,
                memory: Bool::from_bool(true),
                classes,
                hybrid,
                eightbytes: 0,
            };
        }
        let zero = int(0);
        // Eightbytes at or past the structural bound `n` are absent.
        let raw: Vec<BV> = (0..EIGHTBYTES)
            .map(|k| {
                if k < n {
                    Rules::class_at(&node, &zero, k)
                } else {
                    cls(Class::NoClass)
                }
            })
            .collect();
        let present: Vec<Bool> = (0..EIGHTBYTES)
            .map(|k| {
                if k < n {
                    size.bvugt(int(8 * k as u64))
                } else {
                    Bool::from_bool(false)
                }
            })
            .collect();
        let is = |x: &BV, c: Class| x.eq(cls(c));
        let mut unaligned = Vec::new();
        Rules::unaligned(&node, &zero, &mut unaligned);
        // Rule 1: larger than eight eightbytes, or an unaligned field: MEMORY.
        let big = size.bvugt(int(8 * EIGHTBYTES as u64));
        // Rule 5a: some eightbyte is MEMORY.
        let any_mem = or(&(0..EIGHTBYTES)
            .map(|k| Bool::and(&[present[k].clone(), is(&raw[k], Class::Memory)]))
            .collect::<Vec<_>>());
        // Rule 5b: X87UP not preceded by X87.
        let lone_x87up = or(&(0..EIGHTBYTES)
            .map(|k| {
                let prev_x87 = if k == 0 {
                    Bool::from_bool(false)
                } else {
                    is(&raw[k - 1], Class::X87)
                };
                Bool::and(&[
                    present[k].clone(),
                    is(&raw[k], Class::X87Up),
                    prev_x87.not(),
                ])
            })
            .collect::<Vec<_>>());
        // Rule 5c: more than two eightbytes, and the first is not SSE or another is
        // not SSEUP.
        let not_vector = Bool::and(&[
            size.bvugt(int(16)),
            or(&std::iter::once(is(&raw[0], Class::Sse).not())
                .chain(
                    (1..EIGHTBYTES)
                        .map(|k| Bool::and(&[present[k].clone(), is(&raw[k], Class::SseUp).not()])),
                )
                .collect::<Vec<_>>()),
        ]);
        let is_memory = or(&[big, or(&unaligned), any_mem, lone_x87up, not_vector]);
        let memory = if self.functional {
            is_memory
        } else {
            self.fresh += 1;
            let m = Bool::new_const(format!("memory#{}", self.fresh));
            self.rule(
                format!("{name} is MEMORY when it is larger than eight eightbytes or has an unaligned field (§3.2.3 rule 1), when an eightbyte is MEMORY (5a), when X87UP does not follow X87 (5b), or when it is larger than two eightbytes and is not SSE followed by SSEUP (5c)"),
                m.eq(&is_memory),
            );
            m
        };
        let mut classes = Vec::new();
        // Rule 5d: SSEUP not preceded by SSE or SSEUP becomes SSE.
        let mut prev: Option<BV> = None;
        for k in 0..EIGHTBYTES {
            if k >= n {
                classes.push(cls(Class::NoClass));
                continue;
            }
            let after_sse = match &prev {
                Some(p) => or(&[is(p, Class::Sse), is(p, Class::SseUp)]),
                None => Bool::from_bool(false),
            };
            let fixed = Bool::and(&[is(&raw[k], Class::SseUp), after_sse.not()])
                .ite(&cls(Class::Sse), &raw[k]);
            let c = self.define(
                "class",
                format!(
                    "the {} eightbyte of {name} is the merge of every field that overlaps it (§3.2.3 rule 4), with a stray SSEUP made SSE (5d); NO_CLASS past the end or when in memory",
                    crate::ty::ordinal(k)
                ),
                or(&[memory.clone(), present[k].not()]).ite(&cls(Class::NoClass), &fixed),
            );
            classes.push(c);
            prev = Some(fixed);
        }
        TyTerms {
            size,
            align,
            offsets,
            memory,
            classes,
            hybrid,
            eightbytes: n,
        }
    }

    /// The call `sig` (§3.2.3 "Passing" and "Returning of Values"; §3.5.7 for `%al`).
    pub fn sig(&mut self, sig: &Sig) -> SigTerms {
        let params: Vec<(Shape, String)> = sig
            .params
            .iter()
            .map(|t| (Shape::Known(t.clone()), t.to_string()))
            .collect();
        let ret = sig
            .ret
            .as_ref()
            .map(|t| (Shape::Known(t.clone()), t.to_string()));
        self.call(&params, ret.as_ref(), sig.variadic.is_some())
    }

    /// A call of these parameter and result shapes (each with its name in words).
    pub fn call(
        &mut self,
        params: &[(Shape, String)],
        ret: Option<&(Shape, String)>,
        variadic: bool,
    ) -> SigTerms {
        let ret = ret.map(|(r, t)| self.shape(r, &format!("the result `{t}`")));
        let sret = match &ret {
            Some(r) => r.memory.clone(),
            None => Bool::from_bool(false),
        };
        let is = |x: &BV, c: Class| x.eq(cls(c));
        // Returning: INTEGER eightbytes in rax then rdx, SSE ones in xmm0 then xmm1,
        // SSEUP in the upper half of the last vector register, X87 in st0; MEMORY
        // through a buffer whose address the caller passes in rdi.
        let mut ret_locs = Vec::new();
        for k in 0..EIGHTBYTES {
            let Some(r) = ret.as_ref().filter(|r| k < r.eightbytes) else {
                ret_locs.push(loc(Loc::Nowhere));
                continue;
            };
            let want = {
                let c = &r.classes[k];
                let ints = count_class(&r.classes[..k], Class::Integer);
                let sses = count_class(&r.classes[..k], Class::Sse);
                r.memory.ite(
                    &loc(Loc::Nowhere),
                    &is(c, Class::Integer).ite(
                        &add(&[&loc(Loc::Rax), &ints]),
                        &is(c, Class::Sse).ite(
                            &add(&[&loc(Loc::Xmm(0)), &sses]),
                            &is(c, Class::SseUp).ite(
                                &add(&[&loc(Loc::XmmHigh(0)), &sses, &BV::from_i64(-1, W)]),
                                &is(c, Class::X87).ite(
                                    &loc(Loc::St0),
                                    &is(c, Class::X87Up)
                                        .ite(&loc(Loc::St0High), &loc(Loc::Nowhere)),
                                ),
                            ),
                        ),
                    ),
                )
            };
            let v = self.define(
                "retloc",
                format!("the {} eightbyte of the result comes back in the register its class gives: INTEGER in rax then rdx, SSE in xmm0 then xmm1, X87 in st0; none when it is MEMORY (§3.2.3 \"Returning of Values\")", crate::ty::ordinal(k)),
                want,
            );
            ret_locs.push(v);
        }
        // Passing: a MEMORY result uses up rdi (it "is passed … as if it were the
        // first argument").
        let mut gpr = sret.ite(&int(1), &int(0));
        let mut sse = int(0);
        let mut stack_end = int(0);
        let mut terms = Vec::new();
        let mut arg_locs = Vec::new();
        let mut arg_stack = Vec::new();
        for (a, (shape, t)) in params.iter().enumerate() {
            let p = self.shape(shape, &format!("argument {} `{t}`", a + 1));
            let need_int = count_class(&p.classes, Class::Integer);
            let need_sse = count_class(&p.classes, Class::Sse);
            let x87 = or(&p
                .classes
                .iter()
                .map(|c| {
                    or(&[
                        is(c, Class::X87),
                        is(c, Class::X87Up),
                        is(c, Class::ComplexX87),
                    ])
                })
                .collect::<Vec<_>>());
            // "If there are no registers available for any eightbyte of an argument,
            // the whole argument is passed on the stack."
            let fits = Bool::and(&[
                add(&[&gpr, &need_int]).bvule(int(6)),
                add(&[&sse, &need_sse]).bvule(int(8)),
            ]);
            let on_stack = or(&[p.memory.clone(), x87, fits.not()]);
            let mut locs = Vec::new();
            for k in 0..EIGHTBYTES {
                if k >= p.eightbytes {
                    locs.push(loc(Loc::Nowhere));
                    continue;
                }
                let c = &p.classes[k];
                let ints = count_class(&p.classes[..k], Class::Integer);
                let sses = count_class(&p.classes[..k], Class::Sse);
                let present = p.size.bvugt(int(8 * k as u64));
                let want = present.not().ite(
                    &loc(Loc::Nowhere),
                    &on_stack.ite(
                        &loc(Loc::Stack),
                        &is(c, Class::Integer).ite(
                            &add(&[&gpr, &ints]),
                            &is(c, Class::Sse).ite(
                                &add(&[&loc(Loc::Xmm(0)), &sse, &sses]),
                                &is(c, Class::SseUp).ite(
                                    &add(&[
                                        &loc(Loc::XmmHigh(0)),
                                        &sse,
                                        &sses,
                                        &BV::from_i64(-1, W),
                                    ]),
                                    &loc(Loc::Nowhere),
                                ),
                            ),
                        ),
                    ),
                );
                let v = self.define(
                    "argloc",
                    format!(
                        "the {} eightbyte of argument {} `{t}` takes the next register of its class (rdi rsi rdx rcx r8 r9 for INTEGER, xmm0–xmm7 for SSE), unless the argument goes wholly on the stack: MEMORY or x87, or not every eightbyte fits in the registers left (§3.2.3 \"Passing\")",
                        crate::ty::ordinal(k),
                        a + 1
                    ),
                    want,
                );
                locs.push(v);
            }
            // Stack arguments follow one another in eightbyte slots, each aligned to
            // max(8, its alignment) (__int128 and 16-aligned aggregates: 16).
            let slot_align = max(&p.align, &int(8));
            let padded = self.lowest(
                "padded",
                format!("argument {} `{t}` takes a whole number of eightbytes on the stack (§3.2.3 \"the size of each argument gets rounded up to eightbytes\")", a + 1),
                &p.size,
                &int(8),
            );
            let label = format!(
                "argument {} `{t}`, when on the stack, is at the lowest offset after the previous stack argument aligned to max(8, its alignment); -1 otherwise (§3.2.3, Figure 3.3)",
                a + 1
            );
            let off = if self.functional {
                on_stack.ite(&align_up(&stack_end, &slot_align), &num_i(-1))
            } else {
                let off = self.var("stack");
                self.rule(
                    label,
                    on_stack.ite(
                        &lowest_aligned(&off, &stack_end, &slot_align),
                        &off.eq(num_i(-1)),
                    ),
                );
                off
            };
            stack_end = on_stack.ite(&add(&[&off, &padded]), &stack_end);
            gpr = on_stack.ite(&gpr, &add(&[&gpr, &need_int]));
            sse = on_stack.ite(&sse, &add(&[&sse, &need_sse]));
            terms.push(p);
            arg_locs.push(locs);
            arg_stack.push(off);
        }
        // §3.5.7: for a variadic call, %al is an upper bound on the number of vector
        // registers used, 0–8.
        let al = variadic.then(|| {
            let al = self.var("al");
            self.rule(
                "for a variadic call, %al is at least the number of vector registers the arguments use and at most 8 (§3.5.7)",
                Bool::and(&[al.bvuge(&sse), al.bvule(int(8))]),
            );
            al
        });
        SigTerms {
            params: terms,
            arg_locs,
            arg_stack,
            ret,
            ret_locs,
            sret,
            al,
            gprs: gpr,
            sses: sse,
        }
    }
}
