//! CCALL agrees with gcc: a C library built here by gcc exports, for 45 struct shapes
//! (mixed INTEGER/SSE eightbytes, more than 16 bytes, nested structs, arrays
//! inside, pointers), functions that take and return them by value; each takes a
//! checksum of every field. The model calls them directly, through exposed Mu
//! functions that C calls back (a struct returned to C, a struct passed to Mu and on
//! to C), after five ints that leave one register, and with six `{u64, f32}`
//! arguments (libffi#848). Every result is checked against the checksum computed
//! here from the values' definition, on both engines: the reference model (which
//! calls through libffi) and the fast VM (which lowers the calls itself), the latter
//! with and without GC stress.

use spec_model::outcome::render_trace;
use spec_model::run::{Engine, Model, Request};
use spec_model::{Budgets, load, load_library};
use std::fmt::Write;
use std::process::Command;

#[derive(Clone, Copy, PartialEq)]
enum K {
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    Ptr,
}

enum F {
    S(K),
    Arr(K, usize),
    Nest(Vec<F>),
}

use F::*;
use K::*;

fn shapes() -> Vec<Vec<F>> {
    vec![
        vec![S(U8)],
        vec![S(U16)],
        vec![S(U32)],
        vec![S(U64)],
        vec![S(F32)],
        vec![S(F64)],
        vec![S(Ptr)],
        vec![S(U8), S(F64)],
        vec![S(F32), S(F32)],
        vec![S(F32), S(F32), S(F32)],
        vec![S(F64), S(F64)],
        vec![S(U64), S(U64)],
        vec![S(U64), S(F32)],
        vec![S(F32), S(U64)],
        vec![S(U32), S(F32), S(U32)],
        vec![S(U16), S(U8), S(F32)],
        vec![S(F64), S(U8)],
        vec![S(U64), S(U64), S(U64)],
        vec![S(F64), S(F64), S(F64)],
        vec![S(U8), S(F64), S(U8)],
        vec![S(F32), S(F32), S(F32), S(F32), S(F32)],
        vec![S(U64), S(U64), S(U64), S(U64)],
        vec![Nest(vec![S(U8), S(U16)]), S(U32)],
        vec![S(F32), Nest(vec![S(F32), S(F32)])],
        vec![Nest(vec![S(F64)]), Nest(vec![S(U8)])],
        vec![S(U8), Nest(vec![S(U64), S(F32)])],
        vec![Nest(vec![S(U32), S(U32)]), Nest(vec![S(F32), S(F32)])],
        vec![Arr(U8, 3)],
        vec![Arr(F32, 3)],
        vec![Arr(U16, 5), S(F64)],
        vec![Arr(F64, 2)],
        vec![Arr(U8, 9)],
        vec![Arr(U32, 2), Arr(F32, 2)],
        vec![Arr(F32, 4)],
        vec![Arr(U8, 16)],
        vec![Arr(U8, 17)],
        vec![S(U8), S(U16), S(U32), S(U64)],
        vec![S(F32), S(U8), S(F32), S(U8)],
        vec![S(Ptr), S(F64)],
        vec![S(Ptr), S(Ptr)],
        vec![S(Ptr), S(U8), S(F32)],
        vec![S(F64), S(Ptr), S(U8)],
        vec![S(U16), S(F32), S(U16), S(F32)],
        vec![Nest(vec![Arr(F32, 2), S(U8)]), S(F64)],
        vec![Nest(vec![Nest(vec![S(U8)]), S(F32)]), Arr(U16, 2)],
    ]
}

fn c_type(k: K) -> &'static str {
    match k {
        U8 => "uint8_t",
        U16 => "uint16_t",
        U32 => "uint32_t",
        U64 => "uint64_t",
        F32 => "float",
        F64 => "double",
        Ptr => "void *",
    }
}

fn mu_type(k: K) -> &'static str {
    match k {
        U8 => "@u8",
        U16 => "@u16",
        U32 => "@u32",
        U64 => "@u64",
        F32 => "@f32",
        F64 => "@f64",
        Ptr => "@ptr",
    }
}

/// Leaves in declaration order, with their C access paths.
fn leaves(fs: &[F], path: &str, out: &mut Vec<(K, String)>) {
    for (i, f) in fs.iter().enumerate() {
        let p = format!("{path}.f{i}");
        match f {
            S(k) => out.push((*k, p)),
            Arr(k, n) => (0..*n).for_each(|j| out.push((*k, format!("{p}[{j}]")))),
            Nest(inner) => leaves(inner, &p, out),
        }
    }
}

/// The C struct definitions (nested ones first) and the Mu typedefs.
fn declare(fs: &[F], name: &str, c: &mut String, mu: &mut String) {
    let mut cf = Vec::new();
    let mut mf = Vec::new();
    for (i, f) in fs.iter().enumerate() {
        match f {
            S(k) => {
                cf.push(format!("{} f{i};", c_type(*k)));
                mf.push(mu_type(*k).to_string());
            }
            Arr(k, n) => {
                cf.push(format!("{} f{i}[{n}];", c_type(*k)));
                let _ = writeln!(mu, ".typedef @{name}_a{i} = array<{} {n}>", mu_type(*k));
                mf.push(format!("@{name}_a{i}"));
            }
            Nest(inner) => {
                let n = format!("{name}_n{i}");
                declare(inner, &n, c, mu);
                cf.push(format!("struct {n} f{i};"));
                mf.push(format!("@{n}"));
            }
        }
    }
    let _ = writeln!(c, "struct {name} {{ {} }};", cf.join(" "));
    let _ = writeln!(mu, ".typedef @{name} = struct<{}>", mf.join(" "));
}

const OFFSET: u64 = 14_695_981_039_346_656_037;
const PRIME: u64 = 1_099_511_628_211;

/// The value of leaf `i` made from `seed`, as the bits the checksum mixes.
fn leaf_bits(k: K, i: u64, seed: u64) -> u64 {
    let v = seed.wrapping_add(i.wrapping_mul(7));
    match k {
        U8 => v as u8 as u64,
        U16 => v as u16 as u64,
        U32 => v as u32 as u64,
        U64 | Ptr => v,
        F32 => u64::from((seed.wrapping_add(i) as f32).to_bits()),
        F64 => (seed.wrapping_add(i) as f64).to_bits(),
    }
}

fn checksum(ls: &[(K, String)], seed: u64) -> u64 {
    ls.iter().enumerate().fold(OFFSET, |h, (i, (k, _))| {
        h.wrapping_mul(PRIME) ^ leaf_bits(*k, i as u64, seed)
    })
}

#[test]
fn ccall_agrees_with_gcc() {
    let shapes = shapes();
    assert!(shapes.len() >= 40);
    let mut c = String::from("#include <stdint.h>\n#include <string.h>\n");
    c.push_str(
        "static uint64_t mix(uint64_t h, uint64_t v) { return h * 1099511628211ull ^ v; }\n",
    );
    c.push_str("static uint64_t fbits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }\n");
    c.push_str("static uint64_t dbits(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }\n");
    let mut mu = String::from(
        "
.typedef @u8 = int<8>
.typedef @u16 = int<16>
.typedef @u32 = int<32>
.typedef @u64 = int<64>
.typedef @i32 = int<32>
.typedef @f32 = float
.typedef @f64 = double
.typedef @void = void
.typedef @ptr = uptr<@void>
.const @ZERO <@u64> = 0
.const @C1 <@i32> = 1
.const @C2 <@i32> = 2
.const @C3 <@i32> = 3
.const @C4 <@i32> = 4
.const @C5 <@i32> = 5
.const @C6 <@u64> = 6
.funcsig @seed_sig = (@u64) -> (@u64)
",
    );
    let mut all_leaves = Vec::new();
    for (k, fs) in shapes.iter().enumerate() {
        let name = format!("S{k}");
        declare(fs, &name, &mut c, &mut mu);
        let mut ls = Vec::new();
        leaves(fs, "s", &mut ls);
        // take: checksum of every leaf.
        let _ = write!(
            c,
            "uint64_t take{k}(struct {name} s) {{ uint64_t h = 14695981039346656037ull;"
        );
        for (kind, path) in &ls {
            let v = match kind {
                F32 => format!("fbits({path})"),
                F64 => format!("dbits({path})"),
                Ptr => format!("(uint64_t)(uintptr_t){path}"),
                _ => format!("(uint64_t){path}"),
            };
            let _ = write!(c, " h = mix(h, {v});");
        }
        c.push_str(" return h; }\n");
        // give: leaf i is seed + 7i (integers) or (float)(seed + i).
        let _ = write!(
            c,
            "struct {name} give{k}(uint64_t seed) {{ struct {name} s; memset(&s, 0, sizeof s);"
        );
        for (i, (kind, path)) in ls.iter().enumerate() {
            let v = match kind {
                F32 => format!("(float)(seed + {i}u)"),
                F64 => format!("(double)(seed + {i}u)"),
                Ptr => format!("(void *)(uintptr_t)(seed + {}u)", i * 7),
                other => format!("({})(seed + {}u)", c_type(*other), i * 7),
            };
            let _ = write!(c, " {path} = {v};");
        }
        c.push_str(" return s; }\n");
        let _ = writeln!(
            c,
            "uint64_t callback{k}(struct {name} (*f)(uint64_t), uint64_t seed) {{ return take{k}(f(seed)); }}"
        );
        let _ = writeln!(
            c,
            "uint64_t call_with{k}(uint64_t (*f)(struct {name}), uint64_t seed) {{ return f(give{k}(seed)); }}"
        );
        let _ = writeln!(
            c,
            "uint64_t spill{k}(int a, int b, int c, int d, int e, struct {name} s, uint64_t f) {{ return take{k}(s) + a + b + c + d + e + f * 1000; }}"
        );
        let _ = write!(
            mu,
            "
.funcsig @give{k}_sig = (@u64) -> (@{name})
.typedef @give{k}_fp = ufuncptr<@give{k}_sig>
.const @give{k} <@give{k}_fp> = EXTERN \"give{k}\"
.funcsig @take{k}_sig = (@{name}) -> (@u64)
.typedef @take{k}_fp = ufuncptr<@take{k}_sig>
.const @take{k} <@take{k}_fp> = EXTERN \"take{k}\"
.funcsig @callback{k}_sig = (@give{k}_fp @u64) -> (@u64)
.typedef @callback{k}_fp = ufuncptr<@callback{k}_sig>
.const @callback{k} <@callback{k}_fp> = EXTERN \"callback{k}\"
.funcsig @call_with{k}_sig = (@take{k}_fp @u64) -> (@u64)
.typedef @call_with{k}_fp = ufuncptr<@call_with{k}_sig>
.const @call_with{k} <@call_with{k}_fp> = EXTERN \"call_with{k}\"
.funcsig @spill{k}_sig = (@i32 @i32 @i32 @i32 @i32 @{name} @u64) -> (@u64)
.typedef @spill{k}_fp = ufuncptr<@spill{k}_sig>
.const @spill{k} <@spill{k}_fp> = EXTERN \"spill{k}\"
.funcdef @roundtrip{k} VERSION %v1 <@seed_sig> {{
    %e(<@u64> %seed):
        %s = CCALL #DEFAULT <@give{k}_fp @give{k}_sig> @give{k} (%seed)
        %h = CCALL #DEFAULT <@take{k}_fp @take{k}_sig> @take{k} (%s)
        RET %h
}}
.funcdef @make{k} VERSION %v1 <@give{k}_sig> {{
    %e(<@u64> %seed):
        %s = CCALL #DEFAULT <@give{k}_fp @give{k}_sig> @give{k} (%seed)
        RET %s
}}
.expose @make{k}_x = @make{k} #DEFAULT @ZERO
.funcdef @via_callback{k} VERSION %v1 <@seed_sig> {{
    %e(<@u64> %seed):
        %h = CCALL #DEFAULT <@callback{k}_fp @callback{k}_sig> @callback{k} (@make{k}_x %seed)
        RET %h
}}
.funcdef @forward{k} VERSION %v1 <@take{k}_sig> {{
    %e(<@{name}> %s):
        %h = CCALL #DEFAULT <@take{k}_fp @take{k}_sig> @take{k} (%s)
        RET %h
}}
.expose @forward{k}_x = @forward{k} #DEFAULT @ZERO
.funcdef @via_argument{k} VERSION %v1 <@seed_sig> {{
    %e(<@u64> %seed):
        %h = CCALL #DEFAULT <@call_with{k}_fp @call_with{k}_sig> @call_with{k} (@forward{k}_x %seed)
        RET %h
}}
.funcdef @after_five{k} VERSION %v1 <@seed_sig> {{
    %e(<@u64> %seed):
        %s = CCALL #DEFAULT <@give{k}_fp @give{k}_sig> @give{k} (%seed)
        %h = CCALL #DEFAULT <@spill{k}_fp @spill{k}_sig> @spill{k} (@C1 @C2 @C3 @C4 @C5 %s @C6)
        RET %h
}}
"
        );
        all_leaves.push(ls);
    }
    // Six {u64, f32} arguments: the case libffi 3.4.4 gets wrong (libffi#848).
    c.push_str("struct UF { uint64_t i; float f; };\n");
    c.push_str("struct UF give_uf(uint64_t seed) { struct UF s = { seed * 3u, (float)seed }; return s; }\n");
    c.push_str("uint64_t six_uf(struct UF a, struct UF b, struct UF c, struct UF d, struct UF e, struct UF f) {\n");
    c.push_str("  uint64_t h = 14695981039346656037ull; struct UF v[6] = {a, b, c, d, e, f};\n");
    c.push_str("  for (int i = 0; i < 6; i++) { h = mix(h, v[i].i); h = mix(h, fbits(v[i].f)); } return h; }\n");
    mu.push_str(
        "
.typedef @UF = struct<@u64 @f32>
.funcsig @give_uf_sig = (@u64) -> (@UF)
.typedef @give_uf_fp = ufuncptr<@give_uf_sig>
.const @give_uf <@give_uf_fp> = EXTERN \"give_uf\"
.funcsig @six_uf_sig = (@UF @UF @UF @UF @UF @UF) -> (@u64)
.typedef @six_uf_fp = ufuncptr<@six_uf_sig>
.const @six_uf <@six_uf_fp> = EXTERN \"six_uf\"
.const @ONE <@u64> = 1
.funcdef @six VERSION %v1 <@seed_sig> {
    %e(<@u64> %seed):
        %s1 = ADD <@u64> %seed @ONE
        %s2 = ADD <@u64> %s1 @ONE
        %s3 = ADD <@u64> %s2 @ONE
        %s4 = ADD <@u64> %s3 @ONE
        %s5 = ADD <@u64> %s4 @ONE
        %a = CCALL #DEFAULT <@give_uf_fp @give_uf_sig> @give_uf (%seed)
        %b = CCALL #DEFAULT <@give_uf_fp @give_uf_sig> @give_uf (%s1)
        %c = CCALL #DEFAULT <@give_uf_fp @give_uf_sig> @give_uf (%s2)
        %d = CCALL #DEFAULT <@give_uf_fp @give_uf_sig> @give_uf (%s3)
        %ee = CCALL #DEFAULT <@give_uf_fp @give_uf_sig> @give_uf (%s4)
        %f = CCALL #DEFAULT <@give_uf_fp @give_uf_sig> @give_uf (%s5)
        %h = CCALL #DEFAULT <@six_uf_fp @six_uf_sig> @six_uf (%a %b %c %d %ee %f)
        RET %h
}
",
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("shapes.c");
    let lib = dir.path().join("libshapes.so");
    std::fs::write(&src, &c).expect("write C");
    let out = Command::new("gcc")
        .args(["-O1", "-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .output()
        .expect("gcc runs");
    assert!(
        out.status.success(),
        "gcc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    load_library(lib.to_str().expect("utf-8 path")).expect("the library loads");
    let loaded = load(&[("shapes.uir", &mu)]).unwrap_or_else(|e| panic!("{}", e.render()));

    let program = fast_vm::Program::compile(&loaded.module, true).expect("the fast VM compiles it");
    let options = fast_vm::Options {
        fuel_checks: true,
        trace_native: true,
        client: false,
    };
    let mut traced =
        fast_vm::Program::compile_with(&loaded.module, options).expect("the fast VM compiles it");
    let mut failures = Vec::new();
    let mut runs = 0;
    let mut check = |func: &str, seed: u64, want: &str| {
        let seed_s = seed.to_string();
        runs += 1;
        match loaded.run(func, &[&seed_s], Budgets::default()) {
            Ok(o) if o.to_string() == want => {}
            other => failures.push(format!(
                "model {func}({seed}): expected `{want}`, got {other:?}"
            )),
        }
        let f = loaded.func(func).expect("defined");
        let args = loaded.args(f, &[&seed_s]).expect("arguments");
        for stress in [false, true] {
            match program.run_with(f, &args, Budgets::default(), stress) {
                Ok((o, _)) if o.to_string() == want => {}
                other => failures.push(format!(
                    "fast VM (stress {stress}) {func}({seed}): expected `{want}`, got {other:?}"
                )),
            }
        }
        // Both engines trace the same calls with the same struct values.
        let request = Request {
            trace: true,
            ..Request::new(f, &args, Budgets::default())
        };
        let model = match Model::new(&loaded).run(&request) {
            Ok(seen) => render_trace(seen.trace.as_deref().unwrap_or_default()),
            Err(e) => {
                failures.push(format!("model {func}({seed}) traced: {e}"));
                Vec::new()
            }
        };
        if model.is_empty() {
            failures.push(format!("model {func}({seed}): no CCALL traced"));
        }
        match traced.run(&request) {
            Ok(seen) if render_trace(seen.trace.as_deref().unwrap_or_default()) == model => {}
            other => failures.push(format!(
                "fast VM trace {func}({seed}): model {model:?}, fast VM {other:?}"
            )),
        }
    };
    for (k, ls) in all_leaves.iter().enumerate() {
        for (func, seed, expected) in [
            (
                format!("@roundtrip{k}"),
                1000 + k as u64,
                checksum(ls, 1000 + k as u64),
            ),
            (
                format!("@via_callback{k}"),
                2000 + k as u64,
                checksum(ls, 2000 + k as u64),
            ),
            (
                format!("@via_argument{k}"),
                3000 + k as u64,
                checksum(ls, 3000 + k as u64),
            ),
            (
                format!("@after_five{k}"),
                4000 + k as u64,
                checksum(ls, 4000 + k as u64).wrapping_add(15 + 6000),
            ),
        ] {
            check(&func, seed, &format!("return {}", expected as i64));
        }
    }
    let mut h = OFFSET;
    for i in 0..6u64 {
        let seed = 77 + i;
        h = h.wrapping_mul(PRIME) ^ seed.wrapping_mul(3);
        h = h.wrapping_mul(PRIME) ^ u64::from((seed as f32).to_bits());
    }
    check("@six", 77, &format!("return {}", h as i64));
    assert!(
        failures.is_empty(),
        "{} of {} calls disagree with gcc:\n{}",
        failures.len(),
        runs * 3,
        failures.join("\n")
    );
}
