//! Native layout and SysV classification of arbitrary native-safe types: never a
//! panic, and the layout's invariants hold (alignment a power of two, size a
//! multiple of it, every field aligned, in order and inside the struct).
#![no_main]
use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use spec_model::ir::Type;
use std::fmt::Write;

const SCALARS: [&str; 9] = [
    "int<8>", "int<16>", "int<32>", "int<64>", "int<1>", "int<24>", "float", "double", "uptr<@s0>",
];

/// Random nested structs and arrays over the scalars, as Mu IR type definitions;
/// `@T` is a struct around the last one.
fn types(u: &mut Unstructured<'_>) -> String {
    let mut out = String::new();
    for (i, s) in SCALARS.iter().enumerate() {
        let _ = writeln!(out, ".typedef @s{i} = {s}");
    }
    let n = u.int_in_range(1..=6usize).unwrap_or(1);
    for k in 0..n {
        let field = |u: &mut Unstructured<'_>| -> String {
            if k > 0 && u.ratio(1u8, 3).unwrap_or(false) {
                format!("@t{}", u.int_in_range(0..=k - 1).unwrap_or(0))
            } else {
                format!("@s{}", u.int_in_range(0..=SCALARS.len() - 1).unwrap_or(0))
            }
        };
        let def = if u.ratio(2u8, 3).unwrap_or(true) {
            let m = u.int_in_range(1..=5usize).unwrap_or(1);
            let fs: Vec<String> = (0..m).map(|_| field(u)).collect();
            format!("struct<{}>", fs.join(" "))
        } else {
            format!("array<{} {}>", field(u), u.int_in_range(1..=9u8).unwrap_or(1))
        };
        let _ = writeln!(out, ".typedef @t{k} = {def}");
    }
    let _ = writeln!(out, ".typedef @T = struct<@t{}>", n - 1);
    out
}

fuzz_target!(|data: &[u8]| {
    let text = types(&mut Unstructured::new(data));
    let l = spec_model::load(&[("layout.uir", &text)]).expect("generated types verify");
    let types = &l.module.types;
    for (t, ty) in types.types.iter().enumerate() {
        let t = t as u32;
        let lay = spec_model::layout::layout(types, t);
        assert!(lay.align.is_power_of_two(), "{text}");
        assert_eq!(lay.size % lay.align, 0, "{text}");
        if let Type::Struct(fs) = ty {
            let mut end = 0;
            for (off, f) in spec_model::layout::fields(types, fs) {
                assert_eq!(off % f.align, 0, "{text}");
                assert!(off >= end && off + f.size <= lay.size, "{text}");
                end = off + f.size;
            }
        }
    }
    let t = types.named("T").expect("@T");
    let r = spec_model::layout::report(types, t);
    let _ = r.render();
    let _ = serde_json::to_string(&r);
});
