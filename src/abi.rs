//! The bridge between muni's engines and the Z3 statement of the SysV ABI
//! (`muni-sysv`): Mu types as the layer's C types, and the model's layout,
//! classification and call lowering as answers for the layer to judge.

pub mod capture;
pub mod random;

use spec_model::ir::{SigId, Type, TypeId, Types};
use spec_model::layout::classify::{ArgLocation, Class as MuClass, Passing, classify, lower_call};
use spec_model::layout::{fields, hybrid_layout, layout};
use sysv::{ArgAnswer, CType, Class, Loc, RetAnswer, Scalar, Sig, SigAnswer, TypeAnswer};

/// The C type of a native-safe Mu type (`None` for reference types and `void`).
pub fn ctype(types: &Types, t: TypeId) -> Option<CType> {
    Some(match types.get(t) {
        Type::Int(n) => CType::Scalar(match n {
            0..=8 => Scalar::I8,
            9..=16 => Scalar::I16,
            17..=32 => Scalar::I32,
            33..=64 => Scalar::I64,
            _ => return None,
        }),
        Type::Float => CType::Scalar(Scalar::Float),
        Type::Double => CType::Scalar(Scalar::Double),
        Type::UPtr(_) | Type::UFuncPtr(_) => CType::Scalar(Scalar::Ptr),
        Type::Struct(fs) => {
            CType::Struct(fs.iter().map(|f| ctype(types, *f)).collect::<Option<_>>()?)
        }
        Type::Array(e, n) => CType::Array(Box::new(ctype(types, *e)?), *n),
        Type::Hybrid(fs, v) => CType::Hybrid(
            fs.iter().map(|f| ctype(types, *f)).collect::<Option<_>>()?,
            Box::new(ctype(types, *v)?),
        ),
        _ => return None,
    })
}

/// The C signature of a Mu signature whose types are all native-safe.
pub fn csig(types: &Types, s: SigId) -> Option<Sig> {
    let sig = types.sig(s);
    if sig.rets.len() > 1 {
        return None;
    }
    Some(Sig {
        params: sig
            .params
            .iter()
            .map(|t| ctype(types, *t))
            .collect::<Option<_>>()?,
        ret: match sig.rets.first() {
            Some(t) => Some(ctype(types, *t)?),
            None => None,
        },
        variadic: None,
    })
}

/// A C type as Mu types in `types` (`None` for what Mu cannot express: `__int128`
/// and `long double`).
pub fn mu_type(types: &mut Types, t: &CType) -> Option<TypeId> {
    let ty = match t {
        CType::Scalar(s) => match s {
            Scalar::I8 => Type::Int(8),
            Scalar::I16 => Type::Int(16),
            Scalar::I32 => Type::Int(32),
            Scalar::I64 => Type::Int(64),
            Scalar::Float => Type::Float,
            Scalar::Double => Type::Double,
            Scalar::Ptr => {
                let v = types.anon(Type::Void);
                Type::UPtr(v)
            }
            Scalar::I128 | Scalar::LongDouble => return None,
        },
        CType::Struct(fs) => Type::Struct(
            fs.iter()
                .map(|f| mu_type(types, f))
                .collect::<Option<_>>()?,
        ),
        CType::Array(e, n) => Type::Array(mu_type(types, e)?, *n),
        CType::Hybrid(fs, v) => {
            let fs = fs
                .iter()
                .map(|f| mu_type(types, f))
                .collect::<Option<_>>()?;
            Type::Hybrid(fs, mu_type(types, v)?)
        }
    };
    Some(types.anon(ty))
}

/// A C signature as a Mu signature in `types`.
pub fn mu_sig(types: &mut Types, s: &Sig) -> Option<SigId> {
    let params = s
        .params
        .iter()
        .map(|t| mu_type(types, t))
        .collect::<Option<_>>()?;
    let rets = match &s.ret {
        Some(t) => vec![mu_type(types, t)?],
        None => Vec::new(),
    };
    Some(types.push_sig(spec_model::ir::Sig { params, rets }, String::new()))
}

/// Field offsets in the layer's preorder (`TypeAnswer::offsets`).
fn offsets(types: &Types, t: TypeId, base: u64, out: &mut Vec<u64>) {
    match types.get(t) {
        Type::Struct(fs) => {
            for ((o, _), f) in fields(types, fs).zip(fs) {
                out.push(base + o);
                offsets(types, *f, base + o, out);
            }
        }
        Type::Array(e, _) => offsets(types, *e, base, out),
        Type::Hybrid(fs, v) => {
            for ((o, _), f) in fields(types, fs).zip(fs) {
                out.push(base + o);
                offsets(types, *f, base + o, out);
            }
            let (_, var_off) = hybrid_layout(types, fs, *v, 0);
            out.push(base + var_off);
            offsets(types, *v, base + var_off, out);
        }
        _ => {}
    }
}

/// The model's answer about a type: `layout` (chapter 5) and `abi.classify`.
pub fn type_answer(types: &Types, t: TypeId) -> TypeAnswer {
    let l = layout(types, t);
    let mut offs = Vec::new();
    offsets(types, t, 0, &mut offs);
    let classes = match types.get(t) {
        Type::Hybrid(..) => None,
        _ => match classify(types, t) {
            Passing::Memory | Passing::Ignored => None,
            Passing::Registers(cs) => Some(cs.iter().map(|c| class(*c)).collect()),
        },
    };
    TypeAnswer {
        size: l.size,
        align: l.align,
        offsets: offs,
        classes,
    }
}

fn class(c: MuClass) -> Class {
    match c {
        MuClass::Integer => Class::Integer,
        MuClass::Sse => Class::Sse,
        MuClass::NoClass => Class::NoClass,
    }
}

fn reg(name: &str, result: bool) -> Loc {
    match name {
        "rax" if result => Loc::Rax,
        "rdx" if result => Loc::Rdx,
        _ => {
            if let Some(n) = name.strip_prefix("xmm").and_then(|n| n.parse().ok()) {
                return Loc::Xmm(n);
            }
            sysv::ty::ARG_GPRS
                .iter()
                .position(|r| *r == name)
                .map(|i| Loc::Arg(i as u8))
                .unwrap_or(Loc::Nowhere)
        }
    }
}

/// Registers per eightbyte: `lower_call` lists registers only for the eightbytes
/// that have a class.
fn per_eightbyte(types: &Types, t: TypeId, regs: &[&str], result: bool) -> Vec<Loc> {
    let mut it = regs.iter();
    match classify(types, t) {
        Passing::Registers(cs) => cs
            .iter()
            .map(|c| match c {
                MuClass::NoClass => Loc::Nowhere,
                _ => it.next().map(|r| reg(r, result)).unwrap_or(Loc::Nowhere),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The model's answer about a call: `abi.registers` and `abi.sret` (what the fast
/// VM lowers CCALLs and exposed functions by).
pub fn sig_answer(types: &Types, s: SigId) -> SigAnswer {
    let low = lower_call(types, s);
    let sig = types.sig(s);
    let args: Vec<ArgAnswer> = sig
        .params
        .iter()
        .zip(&low.args)
        .map(|(t, a)| match a {
            ArgLocation::Ignored => ArgAnswer {
                eightbytes: Vec::new(),
                stack: None,
            },
            ArgLocation::Stack(off) => ArgAnswer {
                eightbytes: vec![Loc::Stack; (layout(types, *t).size.div_ceil(8) as usize).min(8)],
                stack: Some(*off),
            },
            ArgLocation::Registers(r) => ArgAnswer {
                eightbytes: per_eightbyte(types, *t, r, false),
                stack: None,
            },
        })
        .collect();
    let ret = match (sig.rets.first(), &low.result) {
        (None, _) | (_, ArgLocation::Ignored) => RetAnswer::Void,
        (Some(_), _) if low.sret => RetAnswer::Sret,
        (Some(t), ArgLocation::Registers(r)) => RetAnswer::Regs(per_eightbyte(types, *t, r, true)),
        (Some(_), ArgLocation::Stack(_)) => RetAnswer::Sret,
    };
    // `ccall.al`: a CCALL passes in %al the number of vector registers its
    // arguments use.
    let mut xmm: Vec<u8> = args
        .iter()
        .flat_map(|a: &ArgAnswer| &a.eightbytes)
        .filter_map(|l| match l {
            Loc::Xmm(n) => Some(*n),
            _ => None,
        })
        .collect();
    xmm.sort_unstable();
    xmm.dedup();
    SigAnswer {
        args,
        ret,
        al: Some(xmm.len() as u8),
    }
}

/// The reference model as an implementation under proof.
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelAbi;

impl sysv::prove::Implementation for ModelAbi {
    fn type_answer(&self, t: &CType) -> Option<TypeAnswer> {
        let mut types = Types::default();
        let id = mu_type(&mut types, t)?;
        Some(type_answer(&types, id))
    }

    fn sig_answer(&self, s: &Sig) -> Option<SigAnswer> {
        let mut types = Types::default();
        let id = mu_sig(&mut types, s)?;
        Some(sig_answer(&types, id))
    }
}
