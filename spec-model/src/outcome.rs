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
    /// The C function pointer of an exposure of this Mu function.
    Exposed(String),
    /// A struct or array.
    Agg(Vec<OutValue>),
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
#[derive(Default)]
struct Renamer(HashMap<u32, usize>);

impl Renamer {
    fn get(&mut self, o: u32) -> usize {
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
        OutValue::Ref(None) | OutValue::IRef(None) | OutValue::FuncRef(None) => write!(f, "NULL"),
        OutValue::Ref(Some(o)) => write!(f, "obj#{}", r.get(*o)),
        OutValue::IRef(Some((IRefBase::Obj(o), off))) => write!(f, "obj#{}+{off}", r.get(*o)),
        OutValue::IRef(Some((IRefBase::Global(g), off))) => write!(f, "@{g}+{off}"),
        OutValue::FuncRef(Some(n)) => write!(f, "@{n}"),
        OutValue::Ptr(p) => write!(f, "{p:#x}"),
        OutValue::MuPtr(o, off) => write!(f, "&obj#{}+{off}", r.get(*o)),
        OutValue::Exposed(n) => write!(f, "exposed@{n}"),
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

/// Renders one value as outcome lines print it (objects numbered from 1 within
/// this value): what `after:` checks of a conformance script compare.
pub fn render_value(v: &OutValue) -> String {
    let mut s = String::new();
    write_value(&mut s, v, &mut Renamer::default());
    s
}

fn values(vs: &[OutValue]) -> String {
    let mut r = Renamer::default();
    let mut s = String::new();
    for v in vs {
        s.push(' ');
        write_value(&mut s, v, &mut r);
    }
    s
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Return(vs) => write!(f, "return{}", values(vs)),
            Outcome::Trap(c) => write!(f, "trap {}", c.code()),
            Outcome::Ub(r) => write!(f, "ub {}", r.id()),
            Outcome::Exhausted(b) => write!(f, "exhausted {}", b.word()),
            Outcome::ClientTrap { name, values: vs } => {
                write!(f, "client_trap @{name}{}", values(vs))
            }
        }
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
    let mut r = Renamer::default();
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
            NativeEvent::Pin(v) => format!("pin {}", list(std::slice::from_ref(v), &mut r)),
            NativeEvent::Unpin(v) => format!("unpin {}", list(std::slice::from_ref(v), &mut r)),
            NativeEvent::CCall {
                callee,
                args,
                result,
            } => {
                let a = list(args, &mut r);
                match result {
                    Some(v) => format!(
                        "ccall {callee}({a}) -> {}",
                        list(std::slice::from_ref(v), &mut r)
                    ),
                    None => format!("ccall {callee}({a})"),
                }
            }
            NativeEvent::Callback { func, args } => {
                format!("callback @{func}({})", list(args, &mut r))
            }
            NativeEvent::CallbackReturn(vs) => format!("callback-return {}", list(vs, &mut r)),
        })
        .collect()
}
