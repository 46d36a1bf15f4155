//! Memory layout (spec/05-layout.md): the x86-64 SysV layout of every native-safe
//! type, and muni's choice for the reference types (8 bytes, 8-aligned).
//!
//! Rules: `layout.scalar`, `layout.struct` (each field at the lowest offset
//! aligned for it; size rounded up to the alignment: tail padding),
//! `layout.array` (element stride = element size), `layout.hybrid` (a C struct
//! with a flexible array member: the variable part starts at the fixed part's end
//! aligned to the element, before tail padding).

use crate::ir::{Type, TypeId, Types};

/// Size and alignment of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `sizeof`
    pub size: u64,
    /// `_Alignof`
    pub align: u64,
}

fn align_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a).saturating_mul(a)
}

/// Size and alignment of `t` (`layout.scalar`, `layout.struct`, `layout.array`).
/// A hybrid's layout here is that of its fixed part with a zero-length variable part.
pub fn layout(types: &Types, t: TypeId) -> Layout {
    match types.get(t) {
        Type::Int(n) => {
            let size = match n {
                0..=8 => 1,
                9..=16 => 2,
                17..=32 => 4,
                _ => 8,
            };
            Layout { size, align: size }
        }
        Type::Float => Layout { size: 4, align: 4 },
        Type::Double => Layout { size: 8, align: 8 },
        Type::Void => Layout { size: 0, align: 1 },
        Type::Ref(_)
        | Type::IRef(_)
        | Type::WeakRef(_)
        | Type::FuncRef(_)
        | Type::UPtr(_)
        | Type::UFuncPtr(_)
        | Type::Other(_) => Layout { size: 8, align: 8 },
        Type::Struct(fs) => {
            let (end, align) =
                fields(types, fs).fold((0, 1), |(_, a), (off, l)| (off + l.size, a.max(l.align)));
            Layout {
                size: align_up(end, align),
                align,
            }
        }
        Type::Array(e, n) => {
            let l = layout(types, *e);
            Layout {
                size: l.size.saturating_mul(*n),
                align: l.align,
            }
        }
        Type::Hybrid(fs, v) => hybrid_layout(types, fs, *v, 0).0,
    }
}

/// Offsets and layouts of consecutive fields (`layout.struct`).
pub fn fields<'a>(types: &'a Types, fs: &'a [TypeId]) -> impl Iterator<Item = (u64, Layout)> + 'a {
    let mut end = 0u64;
    fs.iter().map(move |f| {
        let l = layout(types, *f);
        let off = align_up(end, l.align);
        end = off.saturating_add(l.size);
        (off, l)
    })
}

/// Offset of field `i` of a struct or hybrid's fixed part.
pub fn field_offset(types: &Types, fs: &[TypeId], i: usize) -> u64 {
    fields(types, fs).nth(i).map(|(o, _)| o).unwrap_or(0)
}

/// Layout of a hybrid with `n` elements, and the offset of its variable part
/// (`layout.hybrid`).
pub fn hybrid_layout(types: &Types, fs: &[TypeId], v: TypeId, n: u64) -> (Layout, u64) {
    let (end, align) =
        fields(types, fs).fold((0, 1), |(_, a), (off, l)| (off + l.size, a.max(l.align)));
    let vl = layout(types, v);
    let align = align.max(vl.align);
    let var_off = align_up(end, vl.align);
    let size = align_up(var_off.saturating_add(vl.size.saturating_mul(n)), align);
    (Layout { size, align }, var_off)
}

/// Size of an object of type `t` with `n` variable-part elements (hybrids), as the
/// allocation budget counts it.
pub fn alloc_size(types: &Types, t: TypeId, n: u64) -> u64 {
    match types.get(t) {
        Type::Hybrid(fs, v) => hybrid_layout(types, fs, *v, n).0.size,
        _ => layout(types, t).size,
    }
}
