//! The native layout against gcc: 2,500 random native-safe struct and hybrid types
//! (nesting, arrays, every scalar) are written both as Mu and as C, and gcc compiles
//! `_Static_assert`s of muni's `sizeof`, `_Alignof` and `offsetof` for each of them.
//! (The other oracle, the rules as Z3 constraints, is `spec/sysv`, judged in the
//! root crate's tests/abi.rs: only that crate links libz3.)

use spec_model::ir::Type;
use spec_model::layout::{fields, hybrid_layout, layout};
use std::fmt::Write;
use std::process::Command;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Scalars as (Mu type name, C type). Odd int widths take the smallest C type
/// that holds them, as spec/05-memory.md `layout.scalar` says.
const SCALARS: &[(&str, &str)] = &[
    ("i1", "uint8_t"),
    ("i6", "uint8_t"),
    ("i8", "int8_t"),
    ("i16", "int16_t"),
    ("i24", "uint32_t"),
    ("i32", "int32_t"),
    ("i52", "uint64_t"),
    ("i64", "int64_t"),
    ("float", "float"),
    ("double", "double"),
    ("ptr", "void *"),
    ("fp", "void (*%s)(void)"),
];

const PRELUDE: &str = "
.typedef @i1 = int<1>
.typedef @i6 = int<6>
.typedef @i8 = int<8>
.typedef @i16 = int<16>
.typedef @i24 = int<24>
.typedef @i32 = int<32>
.typedef @i52 = int<52>
.typedef @i64 = int<64>
.typedef @float = float
.typedef @double = double
.typedef @void = void
.typedef @ptr = uptr<@void>
.funcsig @v_v = () -> ()
.typedef @fp = ufuncptr<@v_v>
";

fn c_field(cty: &str, name: &str, count: Option<u64>) -> String {
    let arr = count.map(|n| format!("[{n}]")).unwrap_or_default();
    if cty.contains("%s") {
        cty.replace("%s", &format!("{name}{arr}"))
    } else {
        format!("{cty} {name}{arr}")
    }
}

/// `n` random struct and hybrid types `@S0`..: (the Mu bundle, the same types as C
/// struct declarations, how many are hybrids). Fields are scalars, earlier structs,
/// or arrays of either.
fn random_types(n: usize) -> (String, String, usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut mu = String::from(PRELUDE);
    let mut c = String::from("#include <stddef.h>\n#include <stdint.h>\n");
    // (Mu name, C type) of the structs made so far, for nesting.
    let mut made: Vec<(String, String)> = Vec::new();
    let mut hybrids = 0;
    for i in 0..n {
        let hybrid = rng.below(6) == 0;
        let nfields = 1 + rng.below(6);
        let mut mu_fields = Vec::new();
        let mut c_fields = Vec::new();
        for f in 0..nfields {
            // A scalar, an earlier struct, or an array of either.
            let (mname, cty) = if !made.is_empty() && rng.below(4) == 0 {
                made[rng.below(made.len() as u64) as usize].clone()
            } else {
                let (m, ct) = SCALARS[rng.below(SCALARS.len() as u64) as usize];
                (m.to_string(), ct.to_string())
            };
            if rng.below(5) == 0 {
                let n = 1 + rng.below(4);
                let aname = format!("A{i}_{f}");
                let _ = writeln!(mu, ".typedef @{aname} = array<@{mname} {n}>");
                mu_fields.push(aname);
                c_fields.push(c_field(&cty, &format!("f{f}"), Some(n)));
            } else {
                mu_fields.push(mname);
                c_fields.push(c_field(&cty, &format!("f{f}"), None));
            }
        }
        let name = format!("S{i}");
        if hybrid {
            let (vm, vc) = SCALARS[rng.below(SCALARS.len() as u64 - 1) as usize];
            let _ = writeln!(
                mu,
                ".typedef @{name} = hybrid<{} @{vm}>",
                mu_fields
                    .iter()
                    .map(|f| format!("@{f}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            c_fields.push(c_field(vc, "fam", Some(0)).replace("[0]", "[]"));
            hybrids += 1;
        } else {
            let _ = writeln!(
                mu,
                ".typedef @{name} = struct<{}>",
                mu_fields
                    .iter()
                    .map(|f| format!("@{f}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            made.push((name.clone(), format!("struct {name}")));
        }
        let _ = writeln!(c, "struct {name} {{ {}; }};", c_fields.join("; "));
    }
    (mu, c, hybrids)
}

#[test]
fn layout_agrees_with_gcc() {
    const N: usize = 2500;
    let (mu, mut c, hybrids) = random_types(N);
    let loaded =
        spec_model::load(&[("layouts.uir", &mu)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let types = &loaded.module.types;
    for i in 0..N {
        let name = format!("S{i}");
        let t = types.named(&name).expect("type exists");
        let mut checks = Vec::new();
        match types.get(t) {
            Type::Struct(fs) => {
                let l = layout(types, t);
                checks.push(format!("sizeof(struct {name}) == {}", l.size));
                checks.push(format!("_Alignof(struct {name}) == {}", l.align));
                for (f, (off, _)) in fields(types, fs).enumerate() {
                    checks.push(format!("offsetof(struct {name}, f{f}) == {off}"));
                }
            }
            Type::Hybrid(fs, v) => {
                let (l, var_off) = hybrid_layout(types, fs, *v, 0);
                checks.push(format!("sizeof(struct {name}) == {}", l.size));
                checks.push(format!("_Alignof(struct {name}) == {}", l.align));
                checks.push(format!("offsetof(struct {name}, fam) == {var_off}"));
                for (f, (off, _)) in fields(types, fs).enumerate() {
                    checks.push(format!("offsetof(struct {name}, f{f}) == {off}"));
                }
            }
            other => panic!("{name} is {other:?}"),
        }
        for check in checks {
            let _ = writeln!(c, "_Static_assert({check}, \"{name}: {check}\");");
        }
    }
    assert!(hybrids > 200, "the generator made {hybrids} hybrids");
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("layouts.c");
    std::fs::write(&src, &c).expect("write C");
    let out = Command::new("gcc")
        .args([
            "-std=c11",
            "-fsyntax-only",
            "-Wno-flexible-array-member-not-at-end",
        ])
        .arg(&src)
        .output()
        .expect("gcc runs");
    let errors = String::from_utf8_lossy(&out.stderr);
    let first: Vec<&str> = errors
        .lines()
        .filter(|l| l.contains("error"))
        .take(10)
        .collect();
    assert!(
        out.status.success(),
        "gcc disagrees with muni's layout:\n{}",
        first.join("\n")
    );
}

/// SysV classification and register assignment on the cases checked against gcc
/// in shared/notes/sysv-abi-and-backends.md §6.3.
#[test]
fn classification_known_cases() {
    use spec_model::layout::classify::{ArgLocation, Class, Passing, classify, lower_call};
    let text = format!(
        "{PRELUDE}
.typedef @CD = struct<@i8 @double>
.typedef @F3 = struct<@float @float @float>
.typedef @L3 = struct<@i64 @i64 @i64>
.typedef @LL = struct<@i64 @i64>
.typedef @UF = struct<@i64 @float>
.typedef @E = struct<>
.funcsig @spill = (@i32 @i32 @i32 @i32 @i32 @LL @i64) -> ()
.funcsig @six = (@UF @UF @UF @UF @UF @UF) -> (@L3)
"
    );
    let l = spec_model::load(&[("abi.uir", &text)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let types = &l.module.types;
    let ty = |n: &str| types.named(n).expect("type");
    let sig = |n: &str| types.sig_named(n).expect("sig");
    use Class::*;
    assert_eq!(
        classify(types, ty("CD")),
        Passing::Registers(vec![Integer, Sse])
    );
    assert_eq!(
        classify(types, ty("F3")),
        Passing::Registers(vec![Sse, Sse])
    );
    assert_eq!(classify(types, ty("L3")), Passing::Memory);
    assert_eq!(
        classify(types, ty("UF")),
        Passing::Registers(vec![Integer, Sse])
    );
    assert_eq!(classify(types, ty("E")), Passing::Ignored);
    // f(5 x int, {long,long}, long): the struct goes to the stack, the long to r9.
    let s = lower_call(types, sig("spill"));
    assert_eq!(s.args[5], ArgLocation::Stack(0));
    assert_eq!(s.args[6], ArgLocation::Registers(vec!["r9"]));
    // Six {u64, f32} with a MEMORY result: sret takes rdi, so the sixth struct no
    // longer finds an INTEGER register and goes wholly to the stack.
    let s = lower_call(types, sig("six"));
    assert!(s.sret);
    assert_eq!(s.args[0], ArgLocation::Registers(vec!["rsi", "xmm0"]));
    assert_eq!(s.args[4], ArgLocation::Registers(vec!["r9", "xmm4"]));
    assert_eq!(s.args[5], ArgLocation::Stack(0));
}
