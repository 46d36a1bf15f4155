//! Run-time values of SSA variables.

use crate::ir::FuncId;
use std::rc::Rc;

/// Index of a memory object (heap object, global cell or alloca cell).
pub type ObjId = u32;

/// A location in Mu memory: an object and a byte offset into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    /// The object.
    pub obj: ObjId,
    /// Byte offset in the object's layout.
    pub off: u64,
}

/// The value of an SSA variable.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `int<n>`: the bits, zero-extended to 64.
    Int(u64),
    /// `float`.
    Float(f32),
    /// `double`.
    Double(f64),
    /// `ref<T>`: NULL or an object.
    Ref(Option<ObjId>),
    /// `iref<T>`: NULL or a location.
    IRef(Option<Loc>),
    /// `funcref<sig>`: NULL or a function.
    FuncRef(Option<FuncId>),
    /// `uptr<T>`, `ufuncptr<sig>`: an address.
    Ptr(u64),
    /// `stackref`: NULL or a stack, by number (0 the run's first).
    Stack(Option<u32>),
    /// `threadref`: NULL or a thread, by number (0 the run's first).
    Thread(Option<u32>),
    /// A struct or array value.
    Agg(Rc<[Value]>),
}

impl Value {
    /// The integer bits (0 for non-integers, which verified code never asks for).
    #[inline]
    pub fn bits(&self) -> u64 {
        match self {
            Value::Int(b) | Value::Ptr(b) => *b,
            _ => 0,
        }
    }
}

/// The mask of the low `n` bits.
#[inline]
pub fn mask(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// Sign-extends the low `n` bits to 64.
#[inline]
pub fn sext(v: u64, n: u32) -> i64 {
    let s = 64 - n.min(64);
    ((v << s) as i64) >> s
}
