//! The layer's own vocabulary: C types and signatures as the psABI speaks of them,
//! and an engine's answer (layout, classes, locations) about one of them. Nothing
//! here depends on muni's IR, so the rules cannot borrow the code they judge.

use serde::Serialize;
use std::fmt;

/// A scalar of psABI Figure 3.1 (LP64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Scalar {
    /// `char` (any signedness), and `_Bool`.
    I8,
    /// `short`.
    I16,
    /// `int`.
    I32,
    /// `long`, `long long`.
    I64,
    /// `__int128`: classified as two INTEGER eightbytes.
    I128,
    /// `float`.
    Float,
    /// `double`.
    Double,
    /// `long double` (x87): X87, X87UP.
    LongDouble,
    /// Any data or function pointer.
    Ptr,
}

impl Scalar {
    /// The C spelling.
    pub fn c_name(self) -> &'static str {
        match self {
            Scalar::I8 => "char",
            Scalar::I16 => "short",
            Scalar::I32 => "int",
            Scalar::I64 => "long",
            Scalar::I128 => "__int128",
            Scalar::Float => "float",
            Scalar::Double => "double",
            Scalar::LongDouble => "long double",
            Scalar::Ptr => "void *",
        }
    }
}

/// A C type: a scalar, a struct, an array, or a struct with a flexible array member
/// (a Mu hybrid).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum CType {
    /// A scalar.
    Scalar(Scalar),
    /// A struct of these fields, in order.
    Struct(Vec<CType>),
    /// `T[n]`.
    Array(Box<CType>, u64),
    /// A struct of these fields followed by a flexible array member of this element
    /// type. It is never passed by value.
    Hybrid(Vec<CType>, Box<CType>),
}

impl fmt::Display for CType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CType::Scalar(s) => f.write_str(s.c_name()),
            CType::Struct(fs) => {
                f.write_str("{")?;
                for (i, t) in fs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("}")
            }
            CType::Array(e, n) => write!(f, "{e}[{n}]"),
            CType::Hybrid(fs, v) => {
                f.write_str("{")?;
                for t in fs {
                    write!(f, "{t}, ")?;
                }
                write!(f, "{v}[]}}")
            }
        }
    }
}

/// A function signature as C declares it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Sig {
    /// The parameters' types, in order.
    pub params: Vec<CType>,
    /// The result type, or `None` for `void`.
    pub ret: Option<CType>,
    /// For a variadic function: how many of `params` are the fixed ones (the rest
    /// are the values passed for `...`).
    pub variadic: Option<usize>,
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ret {
            Some(t) => write!(f, "{t} f(")?,
            None => f.write_str("void f(")?,
        }
        for (i, t) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if self.variadic == Some(i) {
                f.write_str("... ")?;
            }
            write!(f, "{t}")?;
        }
        if self.variadic == Some(self.params.len()) {
            f.write_str(", ...")?;
        }
        f.write_str(")")
    }
}

/// The class of one eightbyte (psABI §3.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Class {
    /// Padding only, or nothing.
    NoClass,
    /// General-purpose registers.
    Integer,
    /// The low half of a vector register.
    Sse,
    /// The upper half of the last vector register used.
    SseUp,
    /// The x87 stack (returned in `%st0`, passed in memory).
    X87,
    /// The upper part of an X87 value.
    X87Up,
    /// A complex x87 value.
    ComplexX87,
    /// In memory.
    Memory,
}

impl Class {
    /// Every class; `Class::ALL[c.code()] == c`.
    pub const ALL: [Class; 8] = [
        Class::NoClass,
        Class::Integer,
        Class::Sse,
        Class::SseUp,
        Class::X87,
        Class::X87Up,
        Class::ComplexX87,
        Class::Memory,
    ];

    /// The class's number in the constraints.
    pub fn code(self) -> u64 {
        self as u64
    }

    /// The psABI's name.
    pub fn name(self) -> &'static str {
        match self {
            Class::NoClass => "NO_CLASS",
            Class::Integer => "INTEGER",
            Class::Sse => "SSE",
            Class::SseUp => "SSEUP",
            Class::X87 => "X87",
            Class::X87Up => "X87UP",
            Class::ComplexX87 => "COMPLEX_X87",
            Class::Memory => "MEMORY",
        }
    }
}

/// Where one eightbyte of an argument or result goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Loc {
    /// The `n`th integer argument register (`rdi rsi rdx rcx r8 r9`).
    Arg(u8),
    /// `rax`.
    Rax,
    /// `rdx` as a result register.
    Rdx,
    /// The low half of `xmm<n>`.
    Xmm(u8),
    /// The upper half of `xmm<n>`.
    XmmHigh(u8),
    /// `%st0`.
    St0,
    /// The upper part of `%st0` (X87UP).
    St0High,
    /// No register (a NO_CLASS eightbyte).
    Nowhere,
    /// On the stack (with the whole argument; its offset is the argument's).
    Stack,
}

/// The integer argument registers, in order.
pub const ARG_GPRS: [&str; 6] = ["rdi", "rsi", "rdx", "rcx", "r8", "r9"];

impl Loc {
    /// The location's number in the constraints.
    pub fn code(self) -> u64 {
        match self {
            Loc::Arg(n) => u64::from(n),
            Loc::Rax => 6,
            Loc::Rdx => 7,
            Loc::Xmm(n) => 8 + u64::from(n),
            Loc::XmmHigh(n) => 16 + u64::from(n),
            Loc::St0 => 24,
            Loc::St0High => 25,
            Loc::Nowhere => 26,
            Loc::Stack => 27,
        }
    }

    /// The location of a number (`Loc::of_code(l.code()) == Some(l)`).
    pub fn of_code(c: u64) -> Option<Loc> {
        let n = u8::try_from(c % 8).ok()?;
        Some(match c {
            0..=5 => Loc::Arg(n),
            6 => Loc::Rax,
            7 => Loc::Rdx,
            8..=15 => Loc::Xmm(n),
            16..=23 => Loc::XmmHigh(n),
            24 => Loc::St0,
            25 => Loc::St0High,
            26 => Loc::Nowhere,
            27 => Loc::Stack,
            _ => return None,
        })
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Arg(n) => f.write_str(ARG_GPRS.get(usize::from(*n)).unwrap_or(&"r?")),
            Loc::Rax => f.write_str("rax"),
            Loc::Rdx => f.write_str("rdx"),
            Loc::Xmm(n) => write!(f, "xmm{n}"),
            Loc::XmmHigh(n) => write!(f, "the upper half of xmm{n}"),
            Loc::St0 => f.write_str("st0"),
            Loc::St0High => f.write_str("the upper part of st0"),
            Loc::Nowhere => f.write_str("no register"),
            Loc::Stack => f.write_str("the stack"),
        }
    }
}

/// An engine's answer about a type: its layout, and how it is passed by value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TypeAnswer {
    /// `sizeof` (of a hybrid: with no elements).
    pub size: u64,
    /// `_Alignof`.
    pub align: u64,
    /// The offset of every struct field, in preorder: a struct's fields in order,
    /// each followed by its own fields' offsets (relative to the outermost type).
    /// Array elements are not listed; a hybrid's variable part comes last.
    pub offsets: Vec<u64>,
    /// How it is passed: `None` for MEMORY, else one class per eightbyte. `None`
    /// for a hybrid, which is never passed by value.
    pub classes: Option<Vec<Class>>,
}

/// An engine's answer about a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SigAnswer {
    /// Each argument: the location of each of its eightbytes, and its stack offset
    /// (from the first stack argument) when any of it is on the stack.
    pub args: Vec<ArgAnswer>,
    /// The result.
    pub ret: RetAnswer,
    /// The value of `%al` at the call, when the engine knows it.
    pub al: Option<u8>,
}

/// Where one argument goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArgAnswer {
    /// One location per eightbyte of the argument.
    pub eightbytes: Vec<Loc>,
    /// The argument's offset in the stack argument area, if it is there.
    pub stack: Option<u64>,
}

/// Where the result comes back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum RetAnswer {
    /// `void`.
    Void,
    /// In registers, one location per eightbyte.
    Regs(Vec<Loc>),
    /// Through a buffer the caller passes in `rdi`; `rax` returns its address.
    Sret,
}

/// "first", "second", … for eightbytes and arguments in messages.
pub fn ordinal(i: usize) -> String {
    const WORDS: [&str; 10] = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth",
    ];
    WORDS
        .get(i)
        .map(|w| (*w).to_string())
        .unwrap_or_else(|| format!("{}th", i + 1))
}
