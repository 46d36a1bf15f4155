//! SysV x86-64 argument classification (spec/08-layout-abi.md): each eightbyte of a
//! by-value argument or result is INTEGER or SSE, or the whole value is passed in
//! MEMORY; then the register budget (6 INTEGER, 8 SSE) decides where each argument
//! goes, and a MEMORY result is returned through a hidden pointer (sret).
//!
//! Rules: `abi.classify` (merge per eightbyte: INTEGER wins over SSE; larger than 16
//! bytes is MEMORY), `abi.registers` (an argument whose eightbytes do not all fit in
//! the registers left goes wholly on the stack; later arguments may still use
//! registers), `abi.sret` (a MEMORY result takes the first INTEGER register).

use super::{fields, hybrid_layout, layout};
use crate::ir::{SigId, Type, TypeId, Types};
use serde::Serialize;

/// The class of one eightbyte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Class {
    /// Passed in a general-purpose register.
    Integer,
    /// Passed in an XMM register.
    Sse,
    /// Only padding (or nothing) in this eightbyte.
    NoClass,
}

/// How a value of a type is passed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Passing {
    /// Nothing is passed (a zero-sized type).
    Ignored,
    /// In registers, one class per eightbyte.
    Registers(Vec<Class>),
    /// In memory (on the stack for arguments, through sret for results).
    Memory,
}

/// `abi.classify`: how a value of type `t` is passed by value.
pub fn classify(types: &Types, t: TypeId) -> Passing {
    let size = layout(types, t).size;
    if size == 0 {
        return Passing::Ignored;
    }
    if size > 16 {
        return Passing::Memory;
    }
    let n = usize::try_from(size.div_ceil(8)).unwrap_or(2);
    let mut classes = vec![Class::NoClass; n];
    leaves(types, t, 0, &mut |off, c| {
        let i = usize::try_from(off / 8).unwrap_or(0).min(n - 1);
        classes[i] = match (classes[i], c) {
            (Class::Integer, _) | (_, Class::Integer) => Class::Integer,
            (Class::Sse, _) | (_, Class::Sse) => Class::Sse,
            _ => Class::NoClass,
        };
    });
    Passing::Registers(classes)
}

/// Calls `f(offset, class)` for every scalar leaf of `t` at `base`.
fn leaves(types: &Types, t: TypeId, base: u64, f: &mut dyn FnMut(u64, Class)) {
    match types.get(t) {
        Type::Float | Type::Double => f(base, Class::Sse),
        Type::Int(_) | Type::UPtr(_) | Type::UFuncPtr(_) => f(base, Class::Integer),
        Type::Struct(fs) => {
            for ((off, _), ft) in fields(types, fs).zip(fs) {
                leaves(types, *ft, base + off, f);
            }
        }
        Type::Array(e, n) => {
            let es = layout(types, *e).size;
            for i in 0..*n {
                leaves(types, *e, base + i * es, f);
            }
        }
        Type::Hybrid(fs, v) => {
            let _ = hybrid_layout(types, fs, *v, 0);
            for ((off, _), ft) in fields(types, fs).zip(fs) {
                leaves(types, *ft, base + off, f);
            }
        }
        // Reference types never cross to C (the verifier sees to it); void is empty.
        _ => {}
    }
}

/// Where one argument goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ArgLocation {
    /// Nothing is passed.
    Ignored,
    /// In these registers, one per eightbyte (`rdi`.., `xmm0`..).
    Registers(Vec<&'static str>),
    /// On the stack, at this offset from the first stack argument.
    Stack(u64),
}

/// Where the arguments and the result of a call go (`abi.registers`, `abi.sret`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallLowering {
    /// The result: registers, memory (sret) or nothing.
    pub result: ArgLocation,
    /// Whether the result is returned through a hidden pointer in `rdi`.
    pub sret: bool,
    /// Each argument's location.
    pub args: Vec<ArgLocation>,
    /// Bytes of stack arguments.
    pub stack_bytes: u64,
}

const INT_REGS: [&str; 6] = ["rdi", "rsi", "rdx", "rcx", "r8", "r9"];
const SSE_REGS: [&str; 8] = [
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
];

/// `abi.registers`, `abi.sret`: the SysV lowering of a call with signature `s`.
pub fn lower_call(types: &Types, s: SigId) -> CallLowering {
    let sig = types.sig(s);
    let (mut next_int, mut next_sse) = (0usize, 0usize);
    let (result, sret) = match sig.rets.first().map(|t| classify(types, *t)) {
        None | Some(Passing::Ignored) => (ArgLocation::Ignored, false),
        Some(Passing::Memory) => {
            next_int = 1;
            (ArgLocation::Registers(vec!["rax"]), true)
        }
        Some(Passing::Registers(cs)) => {
            let (mut ri, mut rs) = (["rax", "rdx"].iter(), ["xmm0", "xmm1"].iter());
            let regs = cs
                .iter()
                .filter_map(|c| match c {
                    Class::Integer => ri.next().copied(),
                    Class::Sse => rs.next().copied(),
                    Class::NoClass => None,
                })
                .collect();
            (ArgLocation::Registers(regs), false)
        }
    };
    let mut stack = 0u64;
    let mut args = Vec::new();
    for t in &sig.params {
        let on_stack = |stack: &mut u64| {
            let l = layout(types, *t);
            let off = stack.div_ceil(l.align.max(8)) * l.align.max(8);
            *stack = off + l.size.div_ceil(8) * 8;
            ArgLocation::Stack(off)
        };
        args.push(match classify(types, *t) {
            Passing::Ignored => ArgLocation::Ignored,
            Passing::Memory => on_stack(&mut stack),
            Passing::Registers(cs) => {
                let ni = cs.iter().filter(|c| **c == Class::Integer).count();
                let ns = cs.iter().filter(|c| **c == Class::Sse).count();
                if next_int + ni > INT_REGS.len() || next_sse + ns > SSE_REGS.len() {
                    on_stack(&mut stack)
                } else {
                    let regs = cs
                        .iter()
                        .filter_map(|c| match c {
                            Class::Integer => {
                                next_int += 1;
                                Some(INT_REGS[next_int - 1])
                            }
                            Class::Sse => {
                                next_sse += 1;
                                Some(SSE_REGS[next_sse - 1])
                            }
                            Class::NoClass => None,
                        })
                        .collect();
                    ArgLocation::Registers(regs)
                }
            }
        });
    }
    CallLowering {
        result,
        sret,
        args,
        stack_bytes: stack,
    }
}
