//! Outcomes of a run (spec/06-outcomes.md), printed exactly as decisions.md says:
//! `return V…`, `trap CODE`, `ub RULE`, `exhausted fuel|alloc|stack`,
//! `client_trap NAME V…`.

use crate::rules::RuleId;
use crate::syntax::print::{double_literal, float_literal};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// A defined error with no exception clause to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrapCode {
    /// Integer division or remainder by zero.
    DivByZero,
    /// LOAD, STORE, CMPXCHG or ATOMICRMW through NULL.
    NullRef,
    /// CALL or TAILCALL of a NULL funcref.
    NullCall,
    /// THROW with no handler in any frame.
    UncaughtException,
    /// `@uvm.native.unexpose` of a pointer no dynamic exposure made.
    UnexposeUnknown,
    /// THROW out of a function native code called.
    ExceptionIntoNative,
    /// The thread waits on a futex, and no thread can ever wake it (spec/12).
    Deadlock,
}

impl TrapCode {
    /// The code as printed.
    pub fn code(self) -> &'static str {
        match self {
            TrapCode::DivByZero => "div_by_zero",
            TrapCode::NullRef => "null_ref",
            TrapCode::NullCall => "null_call",
            TrapCode::UncaughtException => "uncaught_exception",
            TrapCode::UnexposeUnknown => "unexpose_unknown",
            TrapCode::ExceptionIntoNative => "exception_into_native",
            TrapCode::Deadlock => "deadlock",
        }
    }
}

/// A budget that can run out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// Instructions.
    Fuel,
    /// Bytes allocated.
    Alloc,
    /// Mu frames.
    Stack,
}

impl Budget {
    /// The word as printed.
    pub fn word(self) -> &'static str {
        match self {
            Budget::Fuel => "fuel",
            Budget::Alloc => "alloc",
            Budget::Stack => "stack",
        }
    }
}

/// A value in an outcome, self-describing so that it prints without the module.
#[derive(Clone, Debug, PartialEq)]
pub enum OutValue {
    /// `int<n>` bits.
    Int {
        /// Width.
        width: u32,
        /// Bits, zero-extended.
        bits: u64,
    },
    /// `float` bits.
    Float(u32),
    /// `double` bits.
    Double(u64),
    /// A reference to an object (`None` is NULL).
    Ref(Option<u32>),
    /// An internal reference: object (or global cell name) and offset.
    IRef(Option<(IRefBase, u64)>),
    /// A function reference, by name.
    FuncRef(Option<String>),
    /// A raw address outside Mu memory.
    Ptr(u64),
    /// An address inside a pinned Mu object: the object and the offset.
    MuPtr(u32, u64),
    /// An address inside a pinned global cell: its name and the offset.
    GlobalPtr(String, u64),
    /// The C function pointer of an exposure of this Mu function.
    Exposed(String),
    /// A stack, by number in the order the run made them (0: the run's first);
    /// `None` is NULL.
    Stack(Option<u32>),
    /// A thread, by number in the order the run made them (0: the run's
    /// first); `None` is NULL.
    Thread(Option<u32>),
    /// A struct or array.
    Agg(Vec<OutValue>),
    /// A reference or address into Mu memory that names no live object: what an
    /// engine that lost track of an object shows (never the reference model).
    Dangling,
}

/// What an internal reference points into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IRefBase {
    /// A heap object or alloca cell, by object id.
    Obj(u32),
    /// A global cell, by name.
    Global(String),
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The function returned these values (`@uvm.thread_exit`: none).
    Return(Vec<OutValue>),
    /// A defined error.
    Trap(TrapCode),
    /// Undefined behaviour detected by the model.
    Ub(RuleId),
    /// A budget ran out.
    Exhausted(Budget),
    /// A TRAP instruction handed control to the client.
    ClientTrap {
        /// The trap's name (its `[%name]` or first result).
        name: String,
        /// Its KEEPALIVE values.
        values: Vec<OutValue>,
    },
}

/// Numbers objects by first appearance, so that outcomes compare up to renaming.
/// One renaming can span several renderings (an outcome, the final globals and a
/// native trace), so that the identity of objects across them is compared too.
#[derive(Clone, Debug, Default)]
pub struct Renamer(HashMap<u32, usize>);

impl Renamer {
    /// The number of object `o` in this renaming (the next free one if new).
    pub fn get(&mut self, o: u32) -> usize {
        let n = self.0.len();
        *self.0.entry(o).or_insert(n + 1)
    }
}

fn write_value(f: &mut String, v: &OutValue, r: &mut Renamer) {
    use std::fmt::Write;
    let _ = match v {
        OutValue::Int { width: 1, bits } => write!(f, "{bits}"),
        OutValue::Int { width, bits } => {
            write!(f, "{}", crate::machine::value::sext(*bits, *width))
        }
        // NaN sign and payload are unspecified (spec/06-outcomes.md `outcome.nan`): every
        // NaN prints as the canonical one, so outcome lines compare as values do.
        OutValue::Float(b) if f32::from_bits(*b).is_nan() => write!(f, "nanf"),
        OutValue::Double(b) if f64::from_bits(*b).is_nan() => write!(f, "nand"),
        OutValue::Float(b) => write!(f, "{}", float_literal(*b)),
        OutValue::Double(b) => write!(f, "{}", double_literal(*b)),
        OutValue::Ref(None)
        | OutValue::IRef(None)
        | OutValue::FuncRef(None)
        | OutValue::Stack(None)
        | OutValue::Thread(None) => write!(f, "NULL"),
        OutValue::Stack(Some(n)) => write!(f, "stack#{n}"),
        OutValue::Thread(Some(n)) => write!(f, "thread#{n}"),
        OutValue::Ref(Some(o)) => write!(f, "obj#{}", r.get(*o)),
        OutValue::IRef(Some((IRefBase::Obj(o), off))) => write!(f, "obj#{}+{off}", r.get(*o)),
        OutValue::IRef(Some((IRefBase::Global(g), off))) => write!(f, "@{g}+{off}"),
        OutValue::FuncRef(Some(n)) => write!(f, "@{n}"),
        OutValue::Ptr(p) => write!(f, "{p:#x}"),
        OutValue::MuPtr(o, off) => write!(f, "&obj#{}+{off}", r.get(*o)),
        OutValue::GlobalPtr(g, off) => write!(f, "&@{g}+{off}"),
        OutValue::Exposed(n) => write!(f, "exposed@{n}"),
        OutValue::Dangling => write!(f, "dangling"),
        OutValue::Agg(vs) => {
            f.push('{');
            for (i, v) in vs.iter().enumerate() {
                if i > 0 {
                    f.push(' ');
                }
                write_value(f, v, r);
            }
            f.push('}');
            Ok(())
        }
    };
}

/// `v` with its objects numbered in the renaming `r` and every NaN canonical: two
/// values that render alike under one renaming are equal once so renamed, so
/// engines' results compare without being printed.
pub fn renamed(v: &OutValue, r: &mut Renamer) -> OutValue {
    let o = |o: &u32, r: &mut Renamer| u32::try_from(r.get(*o)).unwrap_or(u32::MAX);
    match v {
        OutValue::Ref(Some(x)) => OutValue::Ref(Some(o(x, r))),
        OutValue::IRef(Some((IRefBase::Obj(x), off))) => {
            OutValue::IRef(Some((IRefBase::Obj(o(x, r)), *off)))
        }
        OutValue::MuPtr(x, off) => OutValue::MuPtr(o(x, r), *off),
        OutValue::Float(b) if f32::from_bits(*b).is_nan() => OutValue::Float(0x7fc0_0000),
        OutValue::Double(b) if f64::from_bits(*b).is_nan() => {
            OutValue::Double(0x7ff8_0000_0000_0000)
        }
        OutValue::Agg(vs) => OutValue::Agg(vs.iter().map(|v| renamed(v, r)).collect()),
        other => other.clone(),
    }
}

/// An event with its values [`renamed`].
pub fn renamed_event(e: &NativeEvent, r: &mut Renamer) -> NativeEvent {
    let list = |vs: &[OutValue], r: &mut Renamer| vs.iter().map(|v| renamed(v, r)).collect();
    match e {
        NativeEvent::Pin(v) => NativeEvent::Pin(renamed(v, r)),
        NativeEvent::Unpin(v) => NativeEvent::Unpin(renamed(v, r)),
        NativeEvent::CCall {
            callee,
            args,
            result,
        } => {
            let args = list(args, r);
            NativeEvent::CCall {
                callee: callee.clone(),
                args,
                result: result.as_ref().map(|v| renamed(v, r)),
            }
        }
        NativeEvent::Callback { func, args } => NativeEvent::Callback {
            func: func.clone(),
            args: list(args, r),
        },
        NativeEvent::CallbackReturn(vs) => NativeEvent::CallbackReturn(list(vs, r)),
    }
}

/// Renders one value as outcome lines print it (objects numbered from 1 within
/// this value): what `after:` checks of a conformance script compare.
pub fn render_value(v: &OutValue) -> String {
    render_value_in(v, &mut Renamer::default())
}

/// Renders one value, numbering its objects in the renaming `r`.
pub fn render_value_in(v: &OutValue, r: &mut Renamer) -> String {
    let mut s = String::new();
    write_value(&mut s, v, r);
    s
}

fn values(vs: &[OutValue], r: &mut Renamer) -> String {
    let mut s = String::new();
    for v in vs {
        s.push(' ');
        write_value(&mut s, v, r);
    }
    s
}

impl Outcome {
    /// The outcome line, numbering objects in the renaming `r` (the `Display` form
    /// starts a renaming of its own).
    pub fn render_in(&self, r: &mut Renamer) -> String {
        match self {
            Outcome::Return(vs) => format!("return{}", values(vs, r)),
            Outcome::Trap(c) => format!("trap {}", c.code()),
            Outcome::Ub(rule) => format!("ub {}", rule.id()),
            Outcome::Exhausted(b) => format!("exhausted {}", b.word()),
            Outcome::ClientTrap { name, values: vs } => {
                format!("client_trap @{name}{}", values(vs, r))
            }
        }
    }
}

/// Whether the outcome line `want`, as a conformance script or an outside
/// implementation writes it, denotes `got`: the same kind of end, and each value
/// a literal of the value's own type equal to it, so `return 0x2a` and `return 42`
/// both denote a return of the `int<64>` 42, `return -1` and `return 255` both
/// denote the `int<8>` of bits 0xff, any NaN literal denotes any NaN, and
/// `obj#N` names objects by first appearance (one renaming for the line).
pub fn denotes(want: &str, got: &Outcome) -> bool {
    let words = split_values(want.trim());
    let (head, rest) = match words.split_first() {
        Some((h, r)) => (h.as_str(), r),
        None => return false,
    };
    let mut r = Renamer::default();
    match got {
        Outcome::Return(vs) => head == "return" && values_denote(rest, vs, &mut r),
        Outcome::ClientTrap { name, values } => {
            head == "client_trap"
                && rest
                    .first()
                    .is_some_and(|n| n.trim_start_matches('@') == name.trim_start_matches('@'))
                && values_denote(&rest[1..], values, &mut r)
        }
        other => words.join(" ") == other.to_string(),
    }
}

/// Whether the literal `want` denotes the value `got` (see [`denotes`]); objects
/// are numbered in the renaming `r`.
pub fn value_denotes(want: &str, got: &OutValue, r: &mut Renamer) -> bool {
    use crate::syntax::ast::ConstCtor;
    let want = want.trim();
    match got {
        OutValue::Int { width, bits } => {
            let mask = if *width >= 64 {
                u64::MAX
            } else {
                (1u64 << width) - 1
            };
            match crate::load::parse_literal(want) {
                // Two's complement at the value's width: -1 and 255 are one int<8>.
                Ok(ConstCtor::Int(i)) => (i as u64) & mask == *bits & mask,
                _ => false,
            }
        }
        OutValue::Float(b) => match crate::load::parse_literal(want) {
            Ok(ConstCtor::Float(w)) => {
                w == *b || (f32::from_bits(w).is_nan() && f32::from_bits(*b).is_nan())
            }
            _ => false,
        },
        OutValue::Double(b) => match crate::load::parse_literal(want) {
            Ok(ConstCtor::Double(w)) => {
                w == *b || (f64::from_bits(w).is_nan() && f64::from_bits(*b).is_nan())
            }
            _ => false,
        },
        OutValue::Agg(vs) => match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(inner) => values_denote(&split_values(inner), vs, r),
            None => false,
        },
        other => want == render_value_in(other, r),
    }
}

/// The value an outside implementation's answer `text` gives at type `ty`, read
/// as outcome lines print values (the inverse of rendering, see [`denotes`]): an
/// integer or float literal at the type's width, an aggregate field by field,
/// and the references and pointers in their printed forms (`obj#N`, `obj#N+OFF`,
/// `@g+OFF`, `&obj#N+OFF`, `&@g+OFF`, `@f`, `exposed@f`, `NULL`, an address).
/// `None`: the text is no value of the type.
pub fn read_value(types: &crate::ir::Types, ty: crate::ir::TypeId, text: &str) -> Option<OutValue> {
    use crate::ir::Type;
    use crate::syntax::ast::ConstCtor;
    let text = text.trim();
    let lit = || crate::load::parse_literal(text).ok();
    match types.get(ty) {
        Type::Int(w) => match lit()? {
            ConstCtor::Int(i) => {
                let mask = if *w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
                Some(OutValue::Int {
                    width: *w,
                    bits: (i as u64) & mask,
                })
            }
            _ => None,
        },
        Type::Float => match lit()? {
            ConstCtor::Float(b) => Some(OutValue::Float(b)),
            _ => None,
        },
        Type::Double => match lit()? {
            ConstCtor::Double(b) => Some(OutValue::Double(b)),
            _ => None,
        },
        Type::Struct(fs) => {
            let words = split_values(text.strip_prefix('{')?.strip_suffix('}')?);
            (words.len() == fs.len())
                .then(|| {
                    words
                        .iter()
                        .zip(fs)
                        .map(|(w, t)| read_value(types, *t, w))
                        .collect()
                })
                .flatten()
                .map(OutValue::Agg)
        }
        Type::Array(e, n) => {
            let words = split_values(text.strip_prefix('{')?.strip_suffix('}')?);
            (words.len() as u64 == *n)
                .then(|| words.iter().map(|w| read_value(types, *e, w)).collect())
                .flatten()
                .map(OutValue::Agg)
        }
        _ => read_printed(text),
    }
}

/// A reference or pointer in its printed form (see [`read_value`]).
fn read_printed(text: &str) -> Option<OutValue> {
    let obj = |t: &str| t.strip_prefix("obj#")?.parse::<u32>().ok();
    let based = |t: &str| -> Option<(String, u64)> {
        let (base, off) = t.rsplit_once('+')?;
        Some((base.to_string(), off.parse().ok()?))
    };
    if text == "NULL" {
        return Some(OutValue::Ref(None));
    }
    if text == "dangling" {
        return Some(OutValue::Dangling);
    }
    if let Some(f) = text.strip_prefix("exposed@") {
        return Some(OutValue::Exposed(f.to_string()));
    }
    if let Some(p) = text.strip_prefix('&') {
        let (base, off) = based(p)?;
        return match (obj(&base), base.strip_prefix('@')) {
            (Some(o), _) => Some(OutValue::MuPtr(o, off)),
            (None, Some(g)) => Some(OutValue::GlobalPtr(g.to_string(), off)),
            _ => None,
        };
    }
    if let Some(o) = obj(text) {
        return Some(OutValue::Ref(Some(o)));
    }
    if let Some(n) = text.strip_prefix("stack#").and_then(|n| n.parse().ok()) {
        return Some(OutValue::Stack(Some(n)));
    }
    if let Some(n) = text.strip_prefix("thread#").and_then(|n| n.parse().ok()) {
        return Some(OutValue::Thread(Some(n)));
    }
    if let Some((base, off)) = based(text) {
        return match (obj(&base), base.strip_prefix('@')) {
            (Some(o), _) => Some(OutValue::IRef(Some((IRefBase::Obj(o), off)))),
            (None, Some(g)) => Some(OutValue::IRef(Some((IRefBase::Global(g.to_string()), off)))),
            _ => None,
        };
    }
    if let Some(f) = text.strip_prefix('@') {
        return Some(OutValue::FuncRef(Some(f.to_string())));
    }
    let hex = text.strip_prefix("0x")?;
    u64::from_str_radix(hex, 16).ok().map(OutValue::Ptr)
}

/// The outcome an outside implementation's answer `text` gives for a function
/// whose results have types `rets`: a `return` line read at those types, or
/// `None` (any other kind of line compares as text).
pub fn read_return(
    types: &crate::ir::Types,
    rets: &[crate::ir::TypeId],
    text: &str,
) -> Option<Outcome> {
    let words = split_values(text.trim());
    let (head, rest) = words.split_first()?;
    if head != "return" || rest.len() != rets.len() {
        return None;
    }
    rest.iter()
        .zip(rets)
        .map(|(w, t)| read_value(types, *t, w))
        .collect::<Option<Vec<_>>>()
        .map(Outcome::Return)
}

fn values_denote(want: &[String], got: &[OutValue], r: &mut Renamer) -> bool {
    want.len() == got.len() && want.iter().zip(got).all(|(w, v)| value_denotes(w, v, r))
}

/// The space-separated words of an outcome line or a struct's fields, a `{…}`
/// aggregate being one word.
fn split_values(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

impl Outcome {
    /// The outcome with its values [`renamed`] in `r`: two outcomes that render
    /// alike under one renaming are equal once so renamed.
    pub fn renamed(&self, r: &mut Renamer) -> Outcome {
        let list = |vs: &[OutValue], r: &mut Renamer| vs.iter().map(|v| renamed(v, r)).collect();
        match self {
            Outcome::Return(vs) => Outcome::Return(list(vs, r)),
            Outcome::ClientTrap { name, values } => Outcome::ClientTrap {
                name: name.clone(),
                values: list(values, r),
            },
            other => other.clone(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_in(&mut Renamer::default()))
    }
}

/// The machine-readable form of an outcome (`--json`).
#[derive(Clone, Debug, Serialize)]
pub struct OutcomeJson {
    /// `return`, `trap`, `ub`, `exhausted` or `client_trap`.
    pub kind: &'static str,
    /// The trap code, rule id, budget or trap name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The values, each as printed.
    pub values: Vec<String>,
    /// The whole outcome line.
    pub line: String,
}

impl Outcome {
    /// The `--json` form.
    pub fn to_json(&self) -> OutcomeJson {
        let each = |vs: &[OutValue]| {
            let mut r = Renamer::default();
            vs.iter()
                .map(|v| {
                    let mut s = String::new();
                    write_value(&mut s, v, &mut r);
                    s
                })
                .collect()
        };
        let (kind, detail, vals) = match self {
            Outcome::Return(vs) => ("return", None, each(vs)),
            Outcome::Trap(c) => ("trap", Some(c.code().to_string()), vec![]),
            Outcome::Ub(r) => ("ub", Some(r.id().to_string()), vec![]),
            Outcome::Exhausted(b) => ("exhausted", Some(b.word().to_string()), vec![]),
            Outcome::ClientTrap { name, values } => {
                ("client_trap", Some(format!("@{name}")), each(values))
            }
        };
        OutcomeJson {
            kind,
            detail,
            values: vals,
            line: self.to_string(),
        }
    }
}

/// An event at the native boundary (`muni run --trace-native`).
#[derive(Clone, Debug, PartialEq)]
pub enum NativeEvent {
    /// `@uvm.native.pin` of a location (`None`: NULL).
    Pin(OutValue),
    /// `@uvm.native.unpin`.
    Unpin(OutValue),
    /// A CCALL: the callee (symbol or address), the arguments, the result.
    CCall {
        /// The C function's symbol, or its address.
        callee: String,
        /// The arguments.
        args: Vec<OutValue>,
        /// The result (`None` for void or when the run ended inside).
        result: Option<OutValue>,
    },
    /// Native code called an exposed function.
    Callback {
        /// The Mu function.
        func: String,
        /// The arguments.
        args: Vec<OutValue>,
    },
    /// The exposed function returned to native code.
    CallbackReturn(Vec<OutValue>),
}

/// Renders a native trace, one event a line, objects numbered by first appearance
/// across the whole trace.
pub fn render_trace(events: &[NativeEvent]) -> Vec<String> {
    render_trace_in(events, &mut Renamer::default())
}

/// Renders a native trace, numbering objects in the renaming `r`.
pub fn render_trace_in(events: &[NativeEvent], r: &mut Renamer) -> Vec<String> {
    let list = |vs: &[OutValue], r: &mut Renamer| {
        let mut s = String::new();
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            write_value(&mut s, v, r);
        }
        s
    };
    events
        .iter()
        .map(|e| match e {
            NativeEvent::Pin(v) => format!("pin {}", list(std::slice::from_ref(v), r)),
            NativeEvent::Unpin(v) => format!("unpin {}", list(std::slice::from_ref(v), r)),
            NativeEvent::CCall {
                callee,
                args,
                result,
            } => {
                let a = list(args, r);
                match result {
                    Some(v) => format!(
                        "ccall {callee}({a}) -> {}",
                        list(std::slice::from_ref(v), r)
                    ),
                    None => format!("ccall {callee}({a})"),
                }
            }
            NativeEvent::Callback { func, args } => {
                format!("callback @{func}({})", list(args, r))
            }
            NativeEvent::CallbackReturn(vs) => format!("callback-return {}", list(vs, r)),
        })
        .collect()
}

/// The objects `roots` reach, breadth first in the order references appear:
/// `contents(id)` gives an object's contents (None: no such live object). Both
/// engines list what a run's globals reach with it, so the lists compare (the
/// differential tester's view of the heap).
pub fn reachable(
    roots: &[OutValue],
    max: usize,
    mut contents: impl FnMut(u32) -> Option<OutValue>,
) -> Vec<(u32, OutValue)> {
    fn refs(v: &OutValue, out: &mut Vec<u32>) {
        match v {
            OutValue::Ref(Some(o)) | OutValue::IRef(Some((IRefBase::Obj(o), _))) => out.push(*o),
            OutValue::Agg(vs) => vs.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut queue = Vec::new();
    roots.iter().for_each(|v| refs(v, &mut queue));
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut i = 0;
    while i < queue.len() && out.len() < max {
        let o = queue[i];
        i += 1;
        if !seen.insert(o) {
            continue;
        }
        let c = contents(o).unwrap_or(OutValue::Dangling);
        refs(&c, &mut queue);
        out.push((o, c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(width: u32, bits: u64) -> OutValue {
        OutValue::Int { width, bits }
    }

    /// An outcome line denotes a run's outcome when each literal, read at the type
    /// of the value in its place, is that value: any integer notation, two's
    /// complement at the width, any NaN for a NaN, objects up to renaming.
    #[test]
    fn lines_denote_outcomes_as_values() {
        let ret = |vs: Vec<OutValue>| Outcome::Return(vs);
        assert!(denotes("return 42", &ret(vec![int(64, 42)])));
        assert!(denotes("return 0x2a", &ret(vec![int(64, 42)])));
        assert!(denotes("return -1", &ret(vec![int(8, 0xff)])));
        assert!(denotes("return 255", &ret(vec![int(8, 0xff)])));
        assert!(!denotes("return 254", &ret(vec![int(8, 0xff)])));
        assert!(!denotes("return 42", &ret(vec![int(64, 42), int(64, 1)])));
        assert!(!denotes("trap null_ref", &ret(vec![])));
        assert!(denotes("return", &ret(vec![])));
        let nan = OutValue::Double(0x7ff8_0000_0000_0001);
        assert!(denotes("return nand", &ret(vec![nan.clone()])));
        assert!(!denotes("return 1.5d", &ret(vec![nan])));
        assert!(denotes(
            "return 1.5d",
            &ret(vec![OutValue::Double(1.5f64.to_bits())])
        ));
        let agg = OutValue::Agg(vec![int(32, 7), OutValue::Ref(Some(9))]);
        assert!(denotes(
            "return {7 obj#1} obj#1",
            &ret(vec![agg.clone(), OutValue::Ref(Some(9))])
        ));
        assert!(!denotes(
            "return {7 obj#1} obj#2",
            &ret(vec![agg, OutValue::Ref(Some(9))])
        ));
        assert!(denotes(
            "trap div_by_zero",
            &Outcome::Trap(TrapCode::DivByZero)
        ));
        let trap = Outcome::ClientTrap {
            name: "f.v1.entry.t".into(),
            values: vec![int(64, 3)],
        };
        assert!(denotes("client_trap @f.v1.entry.t 0x3", &trap));
        assert!(!denotes("client_trap @g.v1.entry.t 3", &trap));
    }

    /// An answer read back at its types is the value it prints: reading what an
    /// engine rendered and judging it with `denotes` agrees with the engine.
    #[test]
    fn answers_read_back_at_their_types() {
        let mut types = crate::ir::Types::default();
        let i8t = types.anon(crate::ir::Type::Int(8));
        let dt = types.anon(crate::ir::Type::Double);
        let st = types.anon(crate::ir::Type::Struct(vec![i8t, dt]));
        let o = read_return(&types, &[i8t, st], "return -1 {0x10 nand}").expect("reads");
        assert_eq!(
            o,
            Outcome::Return(vec![
                int(8, 0xff),
                OutValue::Agg(vec![int(8, 16), OutValue::Double(0x7ff8_0000_0000_0000)])
            ])
        );
        assert!(denotes("return 255 {16 nand}", &o));
        assert!(read_return(&types, &[i8t], "return 1.5d").is_none());
        assert!(read_return(&types, &[i8t], "trap null_ref").is_none());
        let rt = types.anon(crate::ir::Type::Ref(i8t));
        assert_eq!(
            read_value(&types, rt, "obj#2"),
            Some(OutValue::Ref(Some(2)))
        );
        assert_eq!(
            read_value(&types, rt, "@g+8"),
            Some(OutValue::IRef(Some((IRefBase::Global("g".into()), 8))))
        );
    }
}
