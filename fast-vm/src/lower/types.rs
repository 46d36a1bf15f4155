//! Mu types as Cranelift sees them: the type of a scalar, the leaves of an
//! aggregate, the signature of a Mu function, the leaves the collector traces.

use super::*;

/// The Cranelift type of an SSA value of Mu type `t`, if the fast VM handles it.
pub fn cl_type(types: &Types, t: TypeId) -> Option<ClType> {
    Some(match types.get(t) {
        Type::Int(n) => match n {
            0..=8 => I8,
            9..=16 => I16,
            17..=32 => I32,
            _ => I64,
        },
        Type::Float => F32,
        Type::Double => F64,
        Type::Ref(_)
        | Type::IRef(_)
        | Type::WeakRef(_)
        | Type::FuncRef(_)
        | Type::UPtr(_)
        | Type::UFuncPtr(_)
        | Type::StackRef => I64,
        _ => return None,
    })
}

/// The scalar leaves of a value of type `t`, in order, with their byte offsets and
/// Cranelift types: a scalar is one leaf, a struct or array the leaves of its
/// fields or elements. `None` for types no SSA value has here.
pub fn leaves(types: &Types, t: TypeId) -> Option<Vec<(u64, ClType)>> {
    if let Some(c) = cl_type(types, t) {
        return Some(vec![(0, c)]);
    }
    let mut out = Vec::new();
    match types.get(t) {
        Type::Struct(fs) => {
            for ((off, _), f) in layout::fields(types, fs).zip(fs) {
                out.extend(leaves(types, *f)?.into_iter().map(|(o, c)| (off + o, c)));
            }
        }
        Type::Array(e, n) => {
            let es = layout::layout(types, *e).size;
            let inner = leaves(types, *e)?;
            // A value is one SSA value per leaf: past this many, no.
            if inner
                .len()
                .saturating_mul(usize::try_from(*n).unwrap_or(usize::MAX))
                > MAX_LEAVES
            {
                return None;
            }
            for i in 0..*n {
                out.extend(inner.iter().map(|(o, c)| (i * es + o, *c)));
            }
        }
        _ => return None,
    }
    (out.len() <= MAX_LEAVES).then_some(out)
}

/// The most scalar leaves a value may have (results and client-trap values have
/// [`crate::runtime::RET_SLOTS`] words of room).
pub const MAX_LEAVES: usize = 4096;

/// The Cranelift signature of a Mu function (tail convention).
pub fn mu_signature(types: &Types, s: SigId) -> Option<Signature> {
    let mut sig = Signature::new(CallConv::Tail);
    // The context, then the call depth of this frame (the stack budget).
    sig.params.push(AbiParam::new(I64));
    sig.params.push(AbiParam::new(I64));
    for p in &types.sig(s).params {
        sig.params.extend(
            leaves(types, *p)?
                .into_iter()
                .map(|(_, c)| AbiParam::new(c)),
        );
    }
    let mut n = 0;
    for r in &types.sig(s).rets {
        n += leaves(types, *r)?.len();
    }
    if n > crate::runtime::RET_SLOTS {
        return None;
    }
    // The status, and the first result word in a register (the rest go
    // through the context's return words).
    sig.returns.push(AbiParam::new(I32));
    sig.returns.push(AbiParam::new(I64));
    Some(sig)
}

/// The indices, among the leaves of a value of type `t`, of those the collector
/// traces (`ref`, `iref`, `weakref`): a scalar reference is its own leaf 0, a
/// struct or array has its reference fields' leaves.
pub fn ref_leaves(types: &Types, t: TypeId) -> Vec<usize> {
    fn walk(types: &Types, t: TypeId, k: &mut usize, out: &mut Vec<usize>) {
        match types.get(t) {
            Type::Struct(fs) => fs.iter().for_each(|f| walk(types, *f, k, out)),
            Type::Array(e, n) => (0..*n).for_each(|_| walk(types, *e, k, out)),
            Type::Ref(_) | Type::IRef(_) | Type::WeakRef(_) => {
                out.push(*k);
                *k += 1;
            }
            _ => *k += 1,
        }
    }
    let mut out = Vec::new();
    if leaves(types, t).is_some() {
        walk(types, t, &mut 0, &mut out);
    }
    out
}
