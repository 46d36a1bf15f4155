//! The campaign's random C library: a few hundred C functions with random
//! signatures, made from the campaign seed alone, so that every program of a
//! campaign (and its reproducers) can call them. Signatures mix integers of every
//! C width and signedness, floats and doubles, structs of mixed scalars, arrays
//! and nested structs, out-pointers and callbacks, up to 16 arguments (past the
//! six INTEGER and eight SSE registers). Each function folds every argument into a
//! checksum, reads and then writes through its out-pointers, calls its callbacks
//! with arguments made from the checksum and folds their results in, and returns a
//! value made from the checksum. gcc builds the source once per seed (cached by
//! content, `spec_model::clib::build`).
//!
//! The C code has no undefined behaviour: the checksum is unsigned, NaNs are folded
//! as one canonical pattern (their payloads are unspecified in Mu), and floats made
//! from the checksum are small integers scaled by powers of two, or one of the
//! special values.

use super::types::{Sig, Ty};
use std::fmt::Write;

/// A C type of the library.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CTy {
    /// `intN_t` or `uintN_t`.
    Int {
        /// 8, 16, 32 or 64.
        bits: u32,
        /// `intN_t` (else `uintN_t`).
        signed: bool,
    },
    /// `float`.
    F32,
    /// `double`.
    F64,
    /// `struct sN` (by index).
    Struct(usize),
    /// An array field `T f[n]` (only inside structs).
    Array(Box<CTy>, u32),
    /// `T *`: an out-pointer the function reads and then writes.
    Ptr(Box<CTy>),
    /// A callback: `cbN_t` (by index of its signature).
    FnPtr(usize),
}

/// A C signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CSig {
    /// Parameters.
    pub params: Vec<CTy>,
    /// The result (`None`: void).
    pub ret: Option<CTy>,
}

/// One function of the library.
#[derive(Clone, Debug)]
pub struct CFunc {
    /// Its symbol.
    pub name: String,
    /// Its signature.
    pub sig: CSig,
    /// How many times it calls each of its callbacks (1 to 3).
    pub calls: u32,
}

/// The library of one campaign seed.
#[derive(Clone, Debug)]
pub struct Library {
    /// The seed it was made from.
    pub seed: u64,
    /// Struct types, by index (fields refer only to earlier ones).
    pub structs: Vec<Vec<CTy>>,
    /// Callback signatures, by index.
    pub callbacks: Vec<CSig>,
    /// The functions.
    pub funcs: Vec<CFunc>,
}

/// A small deterministic generator (splitmix64): the library depends on the seed
/// alone, not on a crate's version of a random number generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.range(0, 99) < percent
    }
}

impl Library {
    /// The library of campaign `seed`, with `n` functions.
    pub fn new(seed: u64, n: usize) -> Library {
        let mut rng = Rng(seed ^ 0x6d75_6e69_636c_6962);
        let mut lib = Library {
            seed,
            structs: Vec::new(),
            callbacks: Vec::new(),
            funcs: Vec::new(),
        };
        // Small structs (at most 16 bytes, passed in registers) half the time:
        // floats and ints share their eightbytes in every order.
        for k in 0..40 {
            if k % 2 == 0 {
                lib.small_struct(&mut rng);
            } else {
                lib.new_struct(&mut rng, 0);
            }
        }
        for _ in 0..10 {
            let params = (0..rng.range(0, 6))
                .map(|_| lib.value_ty(&mut rng, false))
                .collect();
            let ret = lib.ret_ty(&mut rng);
            lib.callbacks.push(CSig { params, ret });
        }
        for k in 0..n {
            let nparams = match rng.range(0, 9) {
                0..=5 => rng.range(0, 6),
                6..=8 => rng.range(6, 12),
                _ => rng.range(12, 16),
            };
            // A fifth of the functions lean to floating point: the eight SSE
            // registers run out before the six INTEGER ones.
            let fp = rng.chance(20);
            let mut callbacks = 0;
            let params = (0..nparams)
                .map(|_| match rng.range(0, 99) {
                    _ if fp && rng.chance(60) => {
                        if rng.chance(70) {
                            [CTy::F64, CTy::F32][rng.range(0, 1) as usize].clone()
                        } else {
                            CTy::Struct(rng.range(0, lib.structs.len() as u32 - 1) as usize)
                        }
                    }
                    0..=7 => CTy::Ptr(Box::new(lib.value_ty(&mut rng, false))),
                    8..=14 if callbacks < 2 => {
                        callbacks += 1;
                        CTy::FnPtr(rng.range(0, lib.callbacks.len() as u32 - 1) as usize)
                    }
                    _ => lib.value_ty(&mut rng, true),
                })
                .collect();
            let ret = lib.ret_ty(&mut rng);
            lib.funcs.push(CFunc {
                name: format!("mu_r{:x}_{k}", seed),
                sig: CSig { params, ret },
                calls: rng.range(1, 3),
            });
        }
        lib
    }

    fn scalar(rng: &mut Rng) -> CTy {
        match rng.range(0, 9) {
            0..=5 => CTy::Int {
                bits: [8, 16, 32, 64][rng.range(0, 3) as usize],
                signed: rng.chance(50),
            },
            6 | 7 => CTy::F64,
            _ => CTy::F32,
        }
    }

    fn new_struct(&mut self, rng: &mut Rng, depth: u32) -> usize {
        let n = rng.range(1, 6);
        let fields = (0..n)
            .map(|_| match rng.range(0, 9) {
                0 | 1 => CTy::Array(Box::new(Library::scalar(rng)), rng.range(1, 4)),
                2 if depth < 2 && !self.structs.is_empty() => {
                    CTy::Struct(rng.range(0, self.structs.len() as u32 - 1) as usize)
                }
                _ => Library::scalar(rng),
            })
            .collect();
        self.structs.push(fields);
        self.structs.len() - 1
    }

    /// A struct of at most 16 bytes: two to four scalars of at most eight bytes,
    /// or a float array, in any order.
    fn small_struct(&mut self, rng: &mut Rng) {
        let mut fields = Vec::new();
        let mut size = 0u32;
        for _ in 0..rng.range(2, 4) {
            let f = match rng.range(0, 5) {
                0 => CTy::F32,
                1 => CTy::F64,
                2 => CTy::Array(Box::new(CTy::F32), rng.range(1, 3)),
                _ => CTy::Int {
                    bits: [8, 16, 32, 64][rng.range(0, 3) as usize],
                    signed: rng.chance(50),
                },
            };
            let (sz, al) = match &f {
                CTy::F32 => (4, 4),
                CTy::F64 => (8, 8),
                CTy::Array(_, n) => (4 * n, 4),
                CTy::Int { bits, .. } => (bits / 8, bits / 8),
                _ => (8, 8),
            };
            let at = size.div_ceil(al) * al;
            if at + sz > 16 {
                break;
            }
            size = at + sz;
            fields.push(f);
        }
        if fields.is_empty() {
            fields.push(CTy::F32);
        }
        self.structs.push(fields);
    }

    /// A parameter type: a scalar, or a struct (more often for the register-budget
    /// cases when `many`).
    fn value_ty(&mut self, rng: &mut Rng, many: bool) -> CTy {
        if rng.chance(if many { 30 } else { 25 }) {
            CTy::Struct(rng.range(0, self.structs.len() as u32 - 1) as usize)
        } else {
            Library::scalar(rng)
        }
    }

    fn ret_ty(&mut self, rng: &mut Rng) -> Option<CTy> {
        match rng.range(0, 9) {
            0 | 1 => None,
            2..=4 => Some(CTy::Struct(
                rng.range(0, self.structs.len() as u32 - 1) as usize
            )),
            _ => Some(Library::scalar(rng)),
        }
    }

    /// The Mu type of a C type.
    pub fn mu(&self, t: &CTy) -> Ty {
        match t {
            CTy::Int { bits, .. } => Ty::Int(*bits),
            CTy::F32 => Ty::Float,
            CTy::F64 => Ty::Double,
            CTy::Struct(i) => Ty::Struct(self.structs[*i].iter().map(|f| self.mu(f)).collect()),
            CTy::Array(e, n) => Ty::Array(Box::new(self.mu(e)), u64::from(*n)),
            CTy::Ptr(e) => Ty::UPtr(Box::new(self.mu(e))),
            CTy::FnPtr(i) => Ty::UFuncPtr(Box::new(self.mu_sig(&self.callbacks[*i]))),
        }
    }

    /// The Mu signature of a C signature.
    pub fn mu_sig(&self, s: &CSig) -> Sig {
        Sig {
            params: s.params.iter().map(|p| self.mu(p)).collect(),
            rets: s.ret.iter().map(|r| self.mu(r)).collect(),
        }
    }

    /// How the C source spells a type.
    fn c(&self, t: &CTy) -> String {
        match t {
            CTy::Int { bits, signed } => format!("{}int{bits}_t", if *signed { "" } else { "u" }),
            CTy::F32 => "float".into(),
            CTy::F64 => "double".into(),
            CTy::Struct(i) => format!("struct s{i}"),
            CTy::Array(e, _) => self.c(e),
            CTy::Ptr(e) => format!("{} *", self.c(e)),
            CTy::FnPtr(i) => format!("cb{i}_t"),
        }
    }

    /// The statements that fold value `v` of type `t` into `h`.
    fn fold(&self, out: &mut String, t: &CTy, v: &str, indent: &str) {
        match t {
            CTy::Int { .. } => {
                let _ = writeln!(out, "{indent}h = mix(h, (uint64_t){v});");
            }
            CTy::F32 => {
                let _ = writeln!(out, "{indent}h = mix(h, fb32({v}));");
            }
            CTy::F64 => {
                let _ = writeln!(out, "{indent}h = mix(h, fb64({v}));");
            }
            CTy::Struct(i) => {
                let _ = writeln!(out, "{indent}h = fold_s{i}(h, {v});");
            }
            CTy::Array(e, n) => {
                for k in 0..*n {
                    self.fold(out, e, &format!("{v}[{k}]"), indent);
                }
            }
            CTy::Ptr(_) | CTy::FnPtr(_) => {}
        }
    }

    /// An expression of type `t` made from the checksum and the salt `k`.
    fn make(&self, t: &CTy, k: u32) -> String {
        match t {
            CTy::Int { .. } => format!("({})mix(h, {k})", self.c(t)),
            CTy::F32 => format!("mkf32(mix(h, {k}))"),
            CTy::F64 => format!("mkf64(mix(h, {k}))"),
            CTy::Struct(i) => format!("make_s{i}(mix(h, {k}))"),
            CTy::Array(..) | CTy::Ptr(_) | CTy::FnPtr(_) => "0".into(),
        }
    }

    /// The C source of the library.
    pub fn source(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "/* muni difftest: the random C library of campaign seed {}. Generated; do not edit. */",
            self.seed
        );
        s.push_str(
            "#include <stdint.h>\n#include <string.h>\n\n\
             static uint64_t mix(uint64_t h, uint64_t v) {\n    \
                 h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);\n    \
                 return h * 0xff51afd7ed558ccdull;\n}\n\
             static uint64_t fb64(double d) {\n    uint64_t b;\n    \
                 if (d != d) return 0x7ff8000000000000ull;\n    \
                 memcpy(&b, &d, 8);\n    return b;\n}\n\
             static uint64_t fb32(float f) {\n    uint32_t b;\n    \
                 if (f != f) return 0x7fc00000u;\n    \
                 memcpy(&b, &f, 4);\n    return b;\n}\n\
             static double mkf64(uint64_t h) {\n    switch (h & 15) {\n    \
                 case 0: return -0.0;\n    case 1: return __builtin_inf();\n    \
                 case 2: return -__builtin_inf();\n    case 3: return __builtin_nan(\"\");\n    \
                 case 4: return 1e300;\n    case 5: return 4.9e-324;\n    \
                 default: return (double)(int32_t)(h >> 16) / (double)(1 << (h >> 8 & 15));\n    }\n}\n\
             static float mkf32(uint64_t h) {\n    switch (h & 15) {\n    \
                 case 0: return -0.0f;\n    case 1: return __builtin_inff();\n    \
                 case 2: return __builtin_nanf(\"\");\n    case 3: return 1e38f;\n    \
                 case 4: return 1.4e-45f;\n    \
                 default: return (float)(int16_t)(h >> 16) / (float)(1 << (h >> 8 & 15));\n    }\n}\n\n",
        );
        for (i, fields) in self.structs.iter().enumerate() {
            let _ = writeln!(s, "struct s{i} {{");
            for (k, f) in fields.iter().enumerate() {
                match f {
                    CTy::Array(e, n) => {
                        let _ = writeln!(s, "    {} f{k}[{n}];", self.c(e));
                    }
                    _ => {
                        let _ = writeln!(s, "    {} f{k};", self.c(f));
                    }
                }
            }
            s.push_str("};\n");
            let _ = writeln!(s, "static uint64_t fold_s{i}(uint64_t h, struct s{i} v) {{");
            for (k, f) in fields.iter().enumerate() {
                self.fold(&mut s, f, &format!("v.f{k}"), "    ");
            }
            s.push_str("    return h;\n}\n");
            let _ = writeln!(s, "static struct s{i} make_s{i}(uint64_t h) {{");
            let _ = writeln!(s, "    struct s{i} v;\n    memset(&v, 0, sizeof v);");
            for (k, f) in fields.iter().enumerate() {
                match f {
                    CTy::Array(e, n) => {
                        for j in 0..*n {
                            let _ = writeln!(
                                s,
                                "    v.f{k}[{j}] = {};",
                                self.make(e, 100 + 8 * k as u32 + j)
                            );
                        }
                    }
                    _ => {
                        let _ = writeln!(s, "    v.f{k} = {};", self.make(f, 100 + 8 * k as u32));
                    }
                }
            }
            s.push_str("    return v;\n}\n");
        }
        for (i, cb) in self.callbacks.iter().enumerate() {
            let ps: Vec<String> = cb.params.iter().map(|p| self.c(p)).collect();
            let ret = cb.ret.as_ref().map_or("void".to_string(), |r| self.c(r));
            let _ = writeln!(
                s,
                "typedef {ret} (*cb{i}_t)({});",
                if ps.is_empty() {
                    "void".into()
                } else {
                    ps.join(", ")
                }
            );
        }
        s.push('\n');
        for (fi, f) in self.funcs.iter().enumerate() {
            let ps: Vec<String> = f
                .sig
                .params
                .iter()
                .enumerate()
                .map(|(k, p)| format!("{} a{k}", self.c(p)))
                .collect();
            let ret = f.sig.ret.as_ref().map_or("void".to_string(), |r| self.c(r));
            let _ = writeln!(
                s,
                "{ret} {}({}) {{",
                f.name,
                if ps.is_empty() {
                    "void".into()
                } else {
                    ps.join(", ")
                }
            );
            let _ = writeln!(s, "    uint64_t h = {}ull;", 0x1234_5678u64 ^ fi as u64);
            for (k, p) in f.sig.params.iter().enumerate() {
                match p {
                    CTy::Ptr(e) => {
                        let _ = writeln!(s, "    if (a{k}) {{");
                        self.fold(&mut s, e, &format!("(*a{k})"), "        ");
                        let _ = writeln!(
                            s,
                            "        *a{k} = {};\n    }}",
                            self.make(e, 50 + k as u32)
                        );
                    }
                    CTy::FnPtr(c) => {
                        let cb = &self.callbacks[*c];
                        let _ = writeln!(s, "    if (a{k}) {{");
                        let _ = writeln!(s, "        for (int i = 0; i < {}; i++) {{", f.calls);
                        let args: Vec<String> = cb
                            .params
                            .iter()
                            .enumerate()
                            .map(|(j, t)| self.make(t, 200 + 16 * k as u32 + j as u32))
                            .collect();
                        let call = format!("a{k}({})", args.join(", "));
                        match &cb.ret {
                            Some(r) => {
                                let _ = writeln!(s, "            {} r = {call};", self.c(r));
                                self.fold(&mut s, r, "r", "            ");
                            }
                            None => {
                                let _ =
                                    writeln!(s, "            {call};\n            h = mix(h, 7);");
                            }
                        }
                        s.push_str("        }\n    }\n");
                    }
                    _ => self.fold(&mut s, p, &format!("a{k}"), "    "),
                }
            }
            match &f.sig.ret {
                Some(r) => {
                    let _ = writeln!(s, "    return {};", self.make(r, 999));
                }
                None => s.push_str("    (void)h;\n"),
            }
            s.push_str("}\n\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_depends_on_the_seed_alone_and_spans_the_register_budget() {
        let a = Library::new(7, 300);
        let b = Library::new(7, 300);
        assert_eq!(a.source(), b.source());
        assert_ne!(a.source(), Library::new(8, 300).source());
        let max = a
            .funcs
            .iter()
            .map(|f| f.sig.params.len())
            .max()
            .unwrap_or(0);
        assert!(max > 8, "{max}");
        assert!(
            a.funcs
                .iter()
                .any(|f| f.sig.params.iter().any(|p| matches!(p, CTy::FnPtr(_))))
        );
        assert!(
            a.funcs
                .iter()
                .any(|f| f.sig.params.iter().any(|p| matches!(p, CTy::Ptr(_))))
        );
        let distinct: std::collections::HashSet<_> = a.funcs.iter().map(|f| &f.sig).collect();
        assert!(distinct.len() > 250, "{}", distinct.len());
    }
}
