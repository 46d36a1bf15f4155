//! Memory layout (spec/05-layout.md): the x86-64 SysV layout of every native-safe
//! type, and muni's choice for the reference types (8 bytes, 8-aligned).
//!
//! Rules: `layout.scalar`, `layout.struct` (each field at the lowest offset
//! aligned for it; size rounded up to the alignment: tail padding),
//! `layout.array` (element stride = element size), `layout.hybrid` (a C struct
//! with a flexible array member: the variable part starts at the fixed part's end
//! aligned to the element, before tail padding).

pub mod classify;

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
        | Type::StackRef
        | Type::ThreadRef
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

/// A type's layout for `muni layout`: size, alignment, fields (recursively) and
/// how it is passed by value.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// The type, as written.
    pub ty: String,
    /// `sizeof` (a hybrid's with no elements).
    pub size: u64,
    /// `_Alignof`.
    pub align: u64,
    /// Offset from the enclosing type's start.
    pub offset: u64,
    /// Fields or array elements (arrays: the first element only, with `count`).
    pub fields: Vec<Report>,
    /// For arrays: the number of elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// For hybrids: the offset of the variable part and its element's layout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub var_part: Option<Box<Report>>,
    /// SysV classification by value (`None` for types that are not passed by value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passing: Option<classify::Passing>,
}

/// The layout report of `t`, with how it is passed by value.
pub fn report(types: &Types, t: TypeId) -> Report {
    let mut r = report_at(types, t, 0);
    if !matches!(
        types.get(t),
        Type::Hybrid(..) | Type::Array(..) | Type::Void
    ) && types.native_safe(t)
    {
        r.passing = Some(classify::classify(types, t));
    }
    r
}

fn report_at(types: &Types, t: TypeId, offset: u64) -> Report {
    let l = layout(types, t);
    let mut r = Report {
        ty: types.show(t),
        size: l.size,
        align: l.align,
        offset,
        fields: Vec::new(),
        count: None,
        var_part: None,
        passing: None,
    };
    match types.get(t) {
        Type::Struct(fs) => {
            r.fields = fields(types, fs)
                .zip(fs)
                .map(|((o, _), f)| report_at(types, *f, offset + o))
                .collect();
        }
        Type::Array(e, n) => {
            r.fields = vec![report_at(types, *e, offset)];
            r.count = Some(*n);
        }
        Type::Hybrid(fs, v) => {
            r.fields = fields(types, fs)
                .zip(fs)
                .map(|((o, _), f)| report_at(types, *f, offset + o))
                .collect();
            let (_, var_off) = hybrid_layout(types, fs, *v, 0);
            r.var_part = Some(Box::new(report_at(types, *v, offset + var_off)));
        }
        _ => {}
    }
    r
}

impl Report {
    /// The human-readable form: one line per field, indented by nesting.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, 0, None);
        out
    }

    fn render_into(&self, out: &mut String, depth: usize, label: Option<String>) {
        use std::fmt::Write;
        let pad = "  ".repeat(depth);
        let label = label.map(|l| format!("{l} ")).unwrap_or_default();
        let count = self.count.map(|n| format!(" x {n}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "{pad}{label}{}{count}: offset {}, size {}, align {}",
            self.ty, self.offset, self.size, self.align
        );
        for (i, f) in self.fields.iter().enumerate() {
            let l = if self.count.is_some() {
                "element".to_string()
            } else {
                format!("field {i}")
            };
            f.render_into(out, depth + 1, Some(l));
        }
        if let Some(v) = &self.var_part {
            v.render_into(out, depth + 1, Some("variable part".into()));
        }
        if let Some(p) = &self.passing {
            let s = match p {
                classify::Passing::Ignored => "nothing (zero-sized)".to_string(),
                classify::Passing::Memory => "MEMORY".to_string(),
                classify::Passing::Registers(cs) => cs
                    .iter()
                    .map(|c| match c {
                        classify::Class::Integer => "INTEGER",
                        classify::Class::Sse => "SSE",
                        classify::Class::NoClass => "NO_CLASS",
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            let _ = writeln!(out, "{pad}passed by value as: {s}");
        }
    }
}

/// Offsets of the reference-typed fields of a value of type `t` placed at `base`.
pub fn ref_offsets(types: &Types, t: TypeId, var_len: u64, base: u64, out: &mut Vec<u64>) {
    match types.get(t) {
        Type::Ref(_)
        | Type::IRef(_)
        | Type::WeakRef(_)
        | Type::FuncRef(_)
        | Type::StackRef
        | Type::ThreadRef
        | Type::Other(_) => out.push(base),
        Type::Struct(fs) => {
            for ((o, _), f) in fields(types, fs).zip(fs) {
                ref_offsets(types, *f, 0, base + o, out);
            }
        }
        Type::Array(e, n) if !types.native_safe(*e) => {
            let es = layout(types, *e).size;
            for i in 0..*n {
                ref_offsets(types, *e, 0, base + i * es, out);
            }
        }
        Type::Hybrid(fs, v) => {
            for ((o, _), f) in fields(types, fs).zip(fs) {
                ref_offsets(types, *f, 0, base + o, out);
            }
            if !types.native_safe(*v) {
                let (_, var_off) = hybrid_layout(types, fs, *v, 0);
                let vs = layout(types, *v).size;
                for i in 0..var_len {
                    ref_offsets(types, *v, 0, base + var_off + i * vs, out);
                }
            }
        }
        _ => {}
    }
}
