//! The machine as the third oracle of the calling convention (spec/08-layout-abi.md
//! §8.3): an assembly stub, built by gcc, takes the place of a C function and
//! records what arrives in every argument register, `%al` and the outgoing stack
//! area, then returns a chosen pattern in rax, rdx, xmm0 and xmm1 (or through the
//! sret buffer). The same call, with the same values, is made by C compiled by gcc
//! (the ground truth), by the model's `CCALL` (libffi) and by the fast VM's
//! generated code. The other way round, a second stub loads the registers and the
//! stack from an image and calls a function that stores what it received: a gcc
//! function, and an exposed Mu function on each engine.
//!
//! Where the ABI defines the bytes (every byte of every scalar of every argument
//! and result, at the place the rules put it; `%al` of a variadic call) each
//! capture must hold exactly the values passed. The places come from the rules:
//! the layout of each type is `sysv::solve_type`'s, and the locations are the
//! rules' answer for the call, which the caller supplies (`sysv::solve_sig`, or
//! an engine's answer that `sysv::check_sig` has shown to be the rules' only one).
//! Padding, the unused parts of registers and the bytes past the arguments are
//! not compared.

use spec_model::machine::{read_native, symbol, write_native};
use spec_model::{Budgets, load, load_library};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use sysv::{CType, Loc, RetAnswer, Scalar, Sig, SigAnswer};

/// The stubs, with `TAG` for the names of one build.
const STUB: &str = include_str!("capture_stub.c");

/// Offsets in a record or image (see capture_stub.c).
const RAX: usize = 48;
const XMM: usize = 56;
const STACK_BYTES: usize = 184;
const STACK: usize = 192;
const STACK_MAX: usize = 65536;
/// Offsets in the result pattern and in the record the injector makes of results.
const RET_RDX: usize = 8;
const RET_XMM0: usize = 16;
const RET_XMM1: usize = 32;
const RET_SRET_SIZE: usize = 48;
const RET_SRET: usize = 56;

/// One call to capture.
#[derive(Debug, Clone)]
pub struct Case {
    /// What it is, in words.
    pub name: String,
    /// The C signature (`variadic`: gcc calls through a variadic prototype; Mu,
    /// which has none, through the types of the actual arguments).
    pub sig: Sig,
    /// The rules' answer about its locations.
    pub rules: SigAnswer,
}

/// Who made or received the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Party {
    /// C compiled by gcc.
    Gcc,
    /// The reference model (libffi).
    Model,
    /// The fast VM (Cranelift).
    Fast,
}

impl Party {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Party::Gcc => "gcc",
            Party::Model => "model",
            Party::Fast => "fast VM",
        }
    }
}

/// The verdict on one case.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verdict {
    /// The case's name.
    pub name: String,
    /// The signature.
    pub sig: String,
    /// Who was captured calling (C → stub).
    pub calls: Vec<Party>,
    /// Who was called by the injector (stub → function).
    pub callbacks: Vec<Party>,
    /// Why some party was not tried (a type Mu cannot express).
    pub not_tried: Option<String>,
    /// Every byte that differed from the rules' placement of the values, in words.
    pub problems: Vec<String>,
}

/// The layout facts the placement needs, from the rules.
#[derive(Default)]
struct Layouts(HashMap<CType, (u64, Vec<(u64, Scalar)>)>);

impl Layouts {
    /// The size of `t` and its scalar leaves (offset, kind) in declaration order,
    /// array elements in turn.
    fn of(&mut self, t: &CType) -> Result<(u64, Vec<(u64, Scalar)>), String> {
        if let Some(l) = self.0.get(t) {
            return Ok(l.clone());
        }
        let ans =
            sysv::solve_type(t).ok_or_else(|| format!("the rules give no layout of `{t}`"))?;
        let mut offsets = ans.offsets.iter().copied();
        let mut leaves = Vec::new();
        self.walk(t, 0, &mut offsets, &mut leaves)?;
        self.0.insert(t.clone(), (ans.size, leaves.clone()));
        Ok((ans.size, leaves))
    }

    /// `offsets` are the rules' field offsets in preorder (an array's first
    /// element's fields included), from the outermost type.
    fn walk(
        &mut self,
        t: &CType,
        base: u64,
        offsets: &mut impl Iterator<Item = u64>,
        out: &mut Vec<(u64, Scalar)>,
    ) -> Result<(), String> {
        match t {
            CType::Scalar(s) => out.push((base, *s)),
            CType::Struct(fs) => {
                for f in fs {
                    let off = offsets.next().ok_or("the rules' offsets ran out")?;
                    self.walk(f, off, offsets, out)?;
                }
            }
            CType::Array(e, n) => {
                let first = out.len();
                self.walk(e, base, offsets, out)?;
                let stride = self.of(e)?.0;
                let one: Vec<(u64, Scalar)> = out[first..].to_vec();
                for i in 1..*n {
                    out.extend(one.iter().map(|(o, s)| (o + i * stride, *s)));
                }
            }
            CType::Hybrid(..) => return Err(format!("`{t}` is never passed by value")),
        }
        Ok(())
    }
}

fn scalar_size(s: Scalar) -> u64 {
    match s {
        Scalar::I8 => 1,
        Scalar::I16 => 2,
        Scalar::I32 | Scalar::Float => 4,
        Scalar::I64 | Scalar::Double | Scalar::Ptr => 8,
        Scalar::I128 | Scalar::LongDouble => 16,
    }
}

/// The value of the `j`-th leaf of a case, as its bytes: integers of every byte,
/// floats in [1, 2) (exact in decimal, never NaN).
fn value(s: Scalar, j: u64) -> Vec<u8> {
    let mut h = j.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut mix = || {
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
        h
    };
    match s {
        Scalar::Float => (1.0f32 + (mix() % (1 << 20)) as f32 / (1 << 20) as f32)
            .to_bits()
            .to_le_bytes()
            .to_vec(),
        Scalar::Double => (1.0f64 + (mix() % (1 << 40)) as f64 / (1u64 << 40) as f64)
            .to_bits()
            .to_le_bytes()
            .to_vec(),
        Scalar::Ptr => (mix() & 0x0000_7FFF_FFFF_FFF8).to_le_bytes().to_vec(),
        _ => {
            let n = scalar_size(s) as usize;
            let mut b = mix().to_le_bytes().to_vec();
            b.extend(mix().to_le_bytes());
            b.truncate(n);
            b
        }
    }
}

fn le(b: &[u8]) -> u128 {
    b.iter().rev().fold(0u128, |a, x| a << 8 | u128::from(*x))
}

/// A leaf's value as a C literal.
fn c_literal(s: Scalar, b: &[u8]) -> String {
    let v = le(b);
    match s {
        Scalar::I8 => format!("(uint8_t)0x{v:x}u"),
        Scalar::I16 => format!("(uint16_t)0x{v:x}u"),
        Scalar::I32 => format!("0x{v:x}u"),
        Scalar::I64 => format!("0x{v:x}ull"),
        Scalar::Ptr => format!("(void *)0x{v:x}ull"),
        Scalar::I128 => format!(
            "(((unsigned __int128)0x{:x}ull << 64) | 0x{:x}ull)",
            v >> 64,
            v as u64
        ),
        Scalar::Float => format!("{:?}f", f32::from_bits(v as u32)),
        Scalar::Double | Scalar::LongDouble => format!("{:?}", f64::from_bits(v as u64)),
    }
}

/// A leaf's value as a Mu literal (`None`: Mu has no such scalar).
fn mu_literal(s: Scalar, b: &[u8]) -> Option<String> {
    let v = le(b);
    Some(match s {
        Scalar::I8 | Scalar::I16 | Scalar::I32 | Scalar::I64 | Scalar::Ptr => v.to_string(),
        Scalar::Float => format!("{:?}f", f32::from_bits(v as u32)),
        Scalar::Double => format!("{:?}d", f64::from_bits(v as u64)),
        Scalar::I128 | Scalar::LongDouble => return None,
    })
}

fn c_scalar(s: Scalar) -> &'static str {
    match s {
        Scalar::I8 => "uint8_t",
        Scalar::I16 => "uint16_t",
        Scalar::I32 => "uint32_t",
        Scalar::I64 => "uint64_t",
        Scalar::I128 => "unsigned __int128",
        Scalar::Float => "float",
        Scalar::Double => "double",
        Scalar::LongDouble => "long double",
        Scalar::Ptr => "void *",
    }
}

fn mu_scalar(s: Scalar) -> Option<&'static str> {
    Some(match s {
        Scalar::I8 => "@i8",
        Scalar::I16 => "@i16",
        Scalar::I32 => "@i32",
        Scalar::I64 => "@i64",
        Scalar::Float => "@float",
        Scalar::Double => "@double",
        Scalar::Ptr => "@ptr",
        Scalar::I128 | Scalar::LongDouble => return None,
    })
}

/// The C and Mu text of a build, with names for types and constants.
#[derive(Default)]
struct Text {
    c: String,
    mu: String,
    c_types: HashMap<CType, String>,
    mu_types: HashMap<CType, String>,
    fresh: usize,
}

impl Text {
    fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// A C declaration of `name` with type `t`.
    fn c_decl(&mut self, t: &CType, name: &str) -> String {
        match t {
            CType::Array(e, n) => self.c_decl(e, &format!("{name}[{n}]")),
            _ => format!("{} {name}", self.c_type(t)),
        }
    }

    /// The C name of a scalar or struct type.
    fn c_type(&mut self, t: &CType) -> String {
        match t {
            CType::Scalar(s) => c_scalar(*s).to_string(),
            _ => {
                if let Some(n) = self.c_types.get(t) {
                    return n.clone();
                }
                let CType::Struct(fs) = t else {
                    return "void".into();
                };
                let fields: Vec<String> = fs
                    .iter()
                    .enumerate()
                    .map(|(i, f)| self.c_decl(f, &format!("f{i}")) + ";")
                    .collect();
                let n = self.fresh("c");
                let _ = writeln!(self.c, "typedef struct {{ {} }} {n};", fields.join(" "));
                self.c_types.insert(t.clone(), n.clone());
                n
            }
        }
    }

    /// A C initialiser of `t` from the leaves' values, in order.
    fn c_init(&mut self, t: &CType, vals: &mut impl Iterator<Item = (Scalar, Vec<u8>)>) -> String {
        match t {
            CType::Scalar(_) => vals
                .next()
                .map(|(s, b)| c_literal(s, &b))
                .unwrap_or_default(),
            CType::Struct(fs) => {
                let parts: Vec<String> = fs.iter().map(|f| self.c_init(f, vals)).collect();
                format!("{{ {} }}", parts.join(", "))
            }
            CType::Array(e, n) => {
                let parts: Vec<String> = (0..*n).map(|_| self.c_init(e, vals)).collect();
                format!("{{ {} }}", parts.join(", "))
            }
            CType::Hybrid(..) => String::new(),
        }
    }

    /// A C expression of type `t` with these values.
    fn c_value(&mut self, t: &CType, vals: &mut impl Iterator<Item = (Scalar, Vec<u8>)>) -> String {
        match t {
            CType::Scalar(_) => self.c_init(t, vals),
            _ => {
                let ty = self.c_type(t);
                format!("({ty}){}", self.c_init(t, vals))
            }
        }
    }

    /// The Mu name of a type (`None`: not expressible in Mu).
    fn mu_type(&mut self, t: &CType) -> Option<String> {
        if let CType::Scalar(s) = t {
            return mu_scalar(*s).map(str::to_string);
        }
        if let Some(n) = self.mu_types.get(t) {
            return Some(n.clone());
        }
        let body = match t {
            CType::Struct(fs) => {
                let fs: Vec<String> = fs.iter().map(|f| self.mu_type(f)).collect::<Option<_>>()?;
                format!("struct<{}>", fs.join(" "))
            }
            CType::Array(e, n) => format!("array<{} {n}>", self.mu_type(e)?),
            _ => return None,
        };
        let n = self.fresh("@t");
        let _ = writeln!(self.mu, ".typedef {n} = {body}");
        self.mu_types.insert(t.clone(), n.clone());
        Some(n)
    }

    /// A Mu constant of type `t` with these values.
    fn mu_const(
        &mut self,
        t: &CType,
        vals: &mut impl Iterator<Item = (Scalar, Vec<u8>)>,
    ) -> Option<String> {
        let ty = self.mu_type(t)?;
        let body = match t {
            CType::Scalar(_) => {
                let (s, b) = vals.next()?;
                mu_literal(s, &b)?
            }
            CType::Struct(fs) => {
                let parts: Vec<String> = fs
                    .iter()
                    .map(|f| self.mu_const(f, vals))
                    .collect::<Option<_>>()?;
                format!("{{{}}}", parts.join(" "))
            }
            CType::Array(e, n) => {
                let parts: Vec<String> = (0..*n)
                    .map(|_| self.mu_const(e, vals))
                    .collect::<Option<_>>()?;
                format!("{{{}}}", parts.join(" "))
            }
            CType::Hybrid(..) => return None,
        };
        let n = self.fresh("@k");
        let _ = writeln!(self.mu, ".const {n} <{ty}> = {body}");
        Some(n)
    }
}

/// A value's scalar leaves: offset, kind and bytes.
type Leaves = Vec<(u64, Scalar, Vec<u8>)>;

/// One case, prepared: the values, where the rules put them, and its text.
struct Prepared {
    /// The case's number in the whole run (which picks its values).
    index: usize,
    /// Per argument: its leaves (offset, kind, value bytes).
    args: Vec<Leaves>,
    /// The result's leaves, and its size.
    ret: Option<(u64, Leaves)>,
    /// The register and stack image of the arguments: (record offset, byte, what).
    placed: Vec<(usize, u8, String)>,
    /// The bytes of the outgoing stack area.
    stack_bytes: usize,
    /// Vector registers the arguments use.
    sse: u8,
    /// Where the callee stores each argument in the out buffer.
    arg_out: Vec<usize>,
    /// The bytes of the out buffer the arguments take.
    out_size: usize,
    /// Whether Mu can express it.
    mu: bool,
}

fn loc_name(l: Loc) -> String {
    match l {
        Loc::Arg(r) => sysv::ty::ARG_GPRS
            .get(r as usize)
            .copied()
            .unwrap_or("?")
            .into(),
        Loc::Rax => "rax".into(),
        Loc::Rdx => "rdx".into(),
        Loc::Xmm(n) => format!("xmm{n}"),
        Loc::XmmHigh(n) => format!("the upper half of xmm{n}"),
        Loc::St0 => "st0".into(),
        Loc::St0High => "st0's upper part".into(),
        Loc::Nowhere => "nowhere".into(),
        Loc::Stack => "the stack".into(),
    }
}

/// Where byte `b` (of its eightbyte) of a value in `l` sits in a record.
fn arg_place(l: Loc, b: usize) -> Option<usize> {
    match l {
        Loc::Arg(r) => Some(r as usize * 8 + b),
        Loc::Xmm(n) => Some(XMM + n as usize * 16 + b),
        Loc::XmmHigh(n) => Some(XMM + n as usize * 16 + 8 + b),
        _ => None,
    }
}

/// Where byte `b` of a result eightbyte in `l` sits in a result pattern.
fn ret_place(l: Loc, b: usize) -> Option<usize> {
    match l {
        Loc::Rax => Some(b),
        Loc::Rdx => Some(RET_RDX + b),
        Loc::Xmm(0) => Some(RET_XMM0 + b),
        Loc::Xmm(1) => Some(RET_XMM1 + b),
        Loc::XmmHigh(0) => Some(RET_XMM0 + 8 + b),
        Loc::XmmHigh(1) => Some(RET_XMM1 + 8 + b),
        _ => None,
    }
}

fn prepare(k: usize, case: &Case, layouts: &mut Layouts) -> Result<Prepared, String> {
    let mut j = (k as u64) << 16;
    let mut leaves_of = |t: &CType, layouts: &mut Layouts| -> Result<_, String> {
        let (size, ls) = layouts.of(t)?;
        let vals = ls
            .into_iter()
            .map(|(o, s)| {
                j += 1;
                (o, s, value(s, j))
            })
            .collect::<Vec<_>>();
        Ok((size, vals))
    };
    let mut args = Vec::new();
    let mut arg_out = Vec::new();
    let mut out_end = 0usize;
    let mut placed = Vec::new();
    let mut stack_bytes = 0usize;
    let mut sse = std::collections::BTreeSet::new();
    if case.rules.args.len() != case.sig.params.len() {
        return Err("the rules' answer has the wrong number of arguments".into());
    }
    for (i, (t, a)) in case.sig.params.iter().zip(&case.rules.args).enumerate() {
        let (size, ls) = leaves_of(t, layouts)?;
        arg_out.push(out_end);
        out_end = (out_end + size as usize).div_ceil(16) * 16;
        for (off, s, bytes) in &ls {
            for (b, v) in bytes.iter().enumerate() {
                let at = *off as usize + b;
                let what = format!(
                    "argument {} `{t}`: byte {b} of the {} at +{off}",
                    i + 1,
                    s.c_name()
                );
                let place = match a.stack {
                    Some(st) => Some(STACK + st as usize + at),
                    None => {
                        let l = a.eightbytes.get(at / 8).copied().unwrap_or(Loc::Nowhere);
                        if let Loc::Xmm(n) | Loc::XmmHigh(n) = l {
                            sse.insert(n);
                        }
                        arg_place(l, at % 8)
                    }
                };
                let Some(p) = place else {
                    return Err(format!("{what}: the rules put it nowhere"));
                };
                placed.push((p, *v, what));
            }
        }
        if let Some(st) = a.stack {
            stack_bytes = stack_bytes.max((st as usize + size as usize).div_ceil(8) * 8);
        }
        args.push(ls);
    }
    if stack_bytes > STACK_MAX || out_end > STACK_MAX {
        return Err("the arguments need more than 64 KiB".into());
    }
    let ret = match &case.sig.ret {
        Some(t) => Some(leaves_of(t, layouts)?),
        None => None,
    };
    let mu = case.sig.params.iter().chain(&case.sig.ret).all(|t| {
        let mut types = spec_model::ir::Types::default();
        super::mu_type(&mut types, t).is_some()
    });
    Ok(Prepared {
        index: k,
        args,
        ret,
        placed,
        stack_bytes,
        sse: sse.len() as u8,
        arg_out,
        out_size: out_end,
        mu,
    })
}

/// The result pattern: bytes that are never a NaN in any float position.
fn pattern(n: usize, salt: usize) -> Vec<u8> {
    (0..n)
        .map(|i| 0x11 + ((i * 7 + salt) % 0x2f) as u8)
        .collect()
}

/// The generated text of every case.
fn generate(cases: &[Case], prepared: &[Prepared], tag: &str) -> Text {
    let mut t = Text::default();
    t.c.push_str("#include <stdint.h>\n#include <string.h>\n");
    t.c.push_str(&STUB.replace("TAG", tag));
    t.mu.push_str(
        ".typedef @i8 = int<8>\n.typedef @i16 = int<16>\n.typedef @i32 = int<32>\n\
         .typedef @i64 = int<64>\n.typedef @float = float\n.typedef @double = double\n\
         .typedef @void = void\n.typedef @ptr = uptr<@void>\n\
         .funcsig @unit = () -> ()\n.typedef @unit_fp = ufuncptr<@unit>\n\
         .funcsig @inject_sig = (@unit_fp) -> ()\n.typedef @inject_fp = ufuncptr<@inject_sig>\n\
         .const @ZERO <@i64> = 0\n",
    );
    let _ = writeln!(
        t.mu,
        ".const @OUT <@ptr> = EXTERN \"muni_capture_out_{tag}\""
    );
    let _ = writeln!(
        t.mu,
        ".const @INJECT <@inject_fp> = EXTERN \"muni_inject_{tag}\""
    );
    for (k, (case, p)) in cases.iter().zip(prepared).enumerate() {
        let sig = &case.sig;
        gcc_caller(&mut t, k, sig, p, tag);
        if p.mu {
            mu_caller(&mut t, k, sig, p, tag);
        }
        if sig.variadic.is_some() {
            continue;
        }
        gcc_callee(&mut t, k, sig, p, tag);
        if p.mu {
            mu_callee(&mut t, k, sig, p);
        }
    }
    t
}

/// C that calls the capture stub with the case's values and keeps the result,
/// and the Mu function that runs it.
fn gcc_caller(t: &mut Text, k: usize, sig: &Sig, p: &Prepared, tag: &str) {
    let ret_c = match &sig.ret {
        Some(r) => t.c_type(r),
        None => "void".into(),
    };
    let param_c: Vec<String> = sig.params.iter().map(|x| t.c_type(x)).collect();
    let proto = match sig.variadic {
        Some(fixed) => {
            let mut ps = param_c[..fixed.min(param_c.len())].to_vec();
            ps.push("...".into());
            ps.join(", ")
        }
        None if param_c.is_empty() => "void".into(),
        None => param_c.join(", "),
    };
    let _ = writeln!(t.c, "typedef {ret_c} (*fn{k})({proto});");
    let mut argv = Vec::new();
    for (x, ls) in sig.params.iter().zip(&p.args) {
        let mut vals = ls.iter().map(|(_, s, b)| (*s, b.clone()));
        argv.push(t.c_value(x, &mut vals));
    }
    let call = format!("((fn{k})(void *)muni_capture_{tag})({})", argv.join(", "));
    let keep = if sig.ret.is_some() {
        format!("{ret_c} r = {call}; memcpy(muni_capture_out_{tag}, &r, sizeof r);")
    } else {
        format!("{call};")
    };
    let _ = writeln!(t.c, "void gcc_call{k}_{tag}(void) {{ {keep} }}");
    let _ = writeln!(
        t.mu,
        ".const @gcc_call{k} <@unit_fp> = EXTERN \"gcc_call{k}_{tag}\"\n\
         .funcdef @drive_gcc{k} VERSION %v1 <@unit> {{\n    %e():\n        \
         CCALL #DEFAULT <@unit_fp @unit> @gcc_call{k} ()\n        RET ()\n}}"
    );
}

/// The Mu signature of a case, and a Mu function that CCALLs the capture stub with
/// the case's values and stores the result where the C caller does.
fn mu_caller(t: &mut Text, k: usize, sig: &Sig, p: &Prepared, tag: &str) {
    let params: Vec<String> = sig
        .params
        .iter()
        .map(|x| t.mu_type(x).unwrap_or_default())
        .collect();
    let ret = sig.ret.as_ref().and_then(|r| t.mu_type(r));
    let _ = writeln!(
        t.mu,
        ".funcsig @sig{k} = ({}) -> ({})\n.typedef @fp{k} = ufuncptr<@sig{k}>\n\
         .const @stub{k} <@fp{k}> = EXTERN \"muni_capture_{tag}\"",
        params.join(" "),
        ret.clone().unwrap_or_default()
    );
    let mut consts = Vec::new();
    for (x, ls) in sig.params.iter().zip(&p.args) {
        let mut vals = ls.iter().map(|(_, s, b)| (*s, b.clone()));
        consts.push(t.mu_const(x, &mut vals).unwrap_or_default());
    }
    let call = format!(
        "CCALL #DEFAULT <@fp{k} @sig{k}> @stub{k} ({})",
        consts.join(" ")
    );
    let body = match &ret {
        Some(r) => {
            let _ = writeln!(t.mu, ".typedef @rp{k} = uptr<{r}>");
            format!(
                "%r = {call}\n        %p = PTRCAST <@ptr @rp{k}> @OUT\n        STORE PTR <{r}> %p %r"
            )
        }
        None => call,
    };
    let _ = writeln!(
        t.mu,
        ".funcdef @mu_call{k} VERSION %v1 <@unit> {{\n    %e():\n        {body}\n        RET ()\n}}"
    );
}

/// A C function of the case's signature that stores its arguments in the out
/// buffer and returns the result's values, and the Mu function that has the
/// injector call it.
fn gcc_callee(t: &mut Text, k: usize, sig: &Sig, p: &Prepared, tag: &str) {
    let ret_c = match &sig.ret {
        Some(r) => t.c_type(r),
        None => "void".into(),
    };
    let params: Vec<String> = sig
        .params
        .iter()
        .enumerate()
        .map(|(i, x)| t.c_decl(x, &format!("a{i}")))
        .collect();
    let stores: String = p
        .arg_out
        .iter()
        .enumerate()
        .map(|(i, o)| format!(" memcpy(muni_capture_out_{tag} + {o}, &a{i}, sizeof a{i});"))
        .collect();
    let give = match (&sig.ret, ret_values(p)) {
        (Some(r), Some(vals)) => {
            let mut it = vals.into_iter().map(|(_, s, b)| (s, b));
            format!(" return {};", t.c_value(r, &mut it))
        }
        _ => String::new(),
    };
    let plist = if params.is_empty() {
        "void".to_string()
    } else {
        params.join(", ")
    };
    let _ = writeln!(
        t.c,
        "{ret_c} gcc_callee{k}_{tag}({plist}) {{{stores}{give} }}"
    );
    let _ = writeln!(
        t.mu,
        ".const @gcc_callee{k} <@unit_fp> = EXTERN \"gcc_callee{k}_{tag}\"\n\
         .funcdef @inject_gcc{k} VERSION %v1 <@unit> {{\n    %e():\n        \
         CCALL #DEFAULT <@inject_fp @inject_sig> @INJECT (@gcc_callee{k})\n        RET ()\n}}"
    );
}

/// The same callee in Mu, exposed, and the Mu function that has the injector call
/// it.
fn mu_callee(t: &mut Text, k: usize, sig: &Sig, p: &Prepared) {
    let params: Vec<String> = sig
        .params
        .iter()
        .map(|x| t.mu_type(x).unwrap_or_default())
        .collect();
    let ret_const = match (&sig.ret, ret_values(p)) {
        (Some(r), Some(vals)) => {
            let mut it = vals.into_iter().map(|(_, s, b)| (s, b));
            t.mu_const(r, &mut it)
        }
        _ => None,
    };
    let formals: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, ty)| format!("<{ty}> %a{i}"))
        .collect();
    let mut body = String::new();
    for (i, (ty, o)) in params.iter().zip(&p.arg_out).enumerate() {
        let _ = writeln!(
            t.mu,
            ".const @off{k}_{i} <@i64> = {o}\n.typedef @ap{k}_{i} = uptr<{ty}>"
        );
        let _ = write!(
            body,
            "        %x{i} = ADD <@i64> %base @off{k}_{i}\n        \
             %p{i} = PTRCAST <@i64 @ap{k}_{i}> %x{i}\n        STORE PTR <{ty}> %p{i} %a{i}\n"
        );
    }
    let _ = writeln!(
        t.mu,
        ".funcdef @mu_callee{k} VERSION %v1 <@sig{k}> {{\n    %e({}):\n        \
         %base = PTRCAST <@ptr @i64> @OUT\n{body}        RET ({})\n}}\n\
         .expose @mu_callee{k}_x = @mu_callee{k} #DEFAULT @ZERO\n\
         .funcdef @inject_mu{k} VERSION %v1 <@unit> {{\n    %e():\n        \
         %f = PTRCAST <@fp{k} @unit_fp> @mu_callee{k}_x\n        \
         CCALL #DEFAULT <@inject_fp @inject_sig> @INJECT (%f)\n        RET ()\n}}",
        formals.join(" "),
        ret_const.unwrap_or_default()
    );
}

/// The values a callee returns: the result's leaves from another range.
fn ret_values(p: &Prepared) -> Option<Leaves> {
    let (_, ls) = p.ret.as_ref()?;
    Some(
        ls.iter()
            .enumerate()
            .map(|(i, (o, s, _))| {
                (
                    *o,
                    *s,
                    value(*s, ((p.index as u64) << 16) | 0x8000 | i as u64),
                )
            })
            .collect(),
    )
}

struct Lib {
    tag: String,
}

impl Lib {
    fn addr(&self, what: &str) -> Result<u64, String> {
        let name = format!("{what}_{}", self.tag);
        symbol(&name).ok_or_else(|| format!("`{name}` is not loaded"))
    }

    fn write(&self, what: &str, off: usize, data: &[u8]) -> Result<(), String> {
        let a = self.addr(what)?;
        if write_native(a + off as u64, data) {
            Ok(())
        } else {
            Err(format!("cannot write `{what}`"))
        }
    }

    fn read(&self, what: &str, off: usize, n: usize) -> Result<Vec<u8>, String> {
        let a = self.addr(what)?;
        let mut buf = vec![0; n];
        if read_native(a + off as u64, &mut buf) {
            Ok(buf)
        } else {
            Err(format!("cannot read `{what}`"))
        }
    }
}

const UNSET: u8 = 0xEE;

fn hex(b: u8) -> String {
    format!("{b:02x}")
}

/// Compares the bytes the rules define, returning what differs in words.
fn compare(
    party: Party,
    dir: &str,
    want: &[(usize, u8, String)],
    got: &[u8],
    out: &mut Vec<String>,
) {
    for (at, v, what) in want {
        let g = got.get(*at).copied();
        if g != Some(*v) {
            out.push(format!(
                "{dir}, {}: {what} should be {} but is {}",
                party.name(),
                hex(*v),
                g.map(hex).unwrap_or_else(|| "missing".into())
            ));
        }
    }
}

/// Cases per build: a model run sets up every constant and exposed function of
/// its bundle, so one bundle for thousands of cases would make each run slow.
const CHUNK: usize = 40;

/// Captures every case: gcc, the model and the fast VM calling the stub, and the
/// injector calling gcc's and each engine's callee.
pub fn run(cases: &[Case]) -> Result<Vec<Verdict>, String> {
    let mut verdicts = Vec::new();
    for chunk in cases.chunks(CHUNK) {
        verdicts.extend(run_chunk(chunk, verdicts.len())?);
    }
    Ok(verdicts)
}

/// One build (C library and Mu bundle) for `cases`, the first of which is case
/// number `first` (which picks the values).
fn run_chunk(cases: &[Case], first: usize) -> Result<Vec<Verdict>, String> {
    static BUILDS: AtomicU64 = AtomicU64::new(0);
    let tag = format!(
        "{}_{}",
        std::process::id(),
        BUILDS.fetch_add(1, Ordering::Relaxed)
    );
    let mut layouts = Layouts::default();
    let prepared: Vec<Prepared> = cases
        .iter()
        .enumerate()
        .map(|(k, c)| prepare(first + k, c, &mut layouts).map_err(|e| format!("{}: {e}", c.name)))
        .collect::<Result<_, _>>()?;
    let text = generate(cases, &prepared, &tag);
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let src = dir.path().join("capture.c");
    let so = dir.path().join(format!("libcapture{tag}.so"));
    std::fs::write(&src, &text.c).map_err(|e| format!("{}: {e}", src.display()))?;
    let out = Command::new("gcc")
        .args(["-O1", "-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&src)
        .output()
        .map_err(|e| format!("gcc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "gcc failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    load_library(&so.to_string_lossy())?;
    let loaded = load(&[("capture.uir", &text.mu)]).map_err(|e| e.render())?;
    let program = fast_vm::Program::compile(&loaded.module, true)
        .map_err(|e| format!("the fast VM does not compile the captures: {e}"))?;
    let lib = Lib { tag };
    let run_on = |party: Party, func: &str| -> Result<(), String> {
        let f = loaded.func(func)?;
        let outcome = match party {
            Party::Fast => program
                .run_with(f, &[], Budgets::default(), false)
                .map(|(o, _)| o.to_string())
                .map_err(|e| e.to_string())?,
            _ => loaded
                .run(func, &[], Budgets::default())
                .map(|o| o.to_string())
                .map_err(|e| e.to_string())?,
        };
        if outcome == "return" {
            Ok(())
        } else {
            Err(format!("{func} on the {}: {outcome}", party.name()))
        }
    };
    let mut verdicts = Vec::new();
    for (k, (case, p)) in cases.iter().zip(&prepared).enumerate() {
        let mut v = Verdict {
            name: case.name.clone(),
            sig: case.sig.to_string(),
            calls: Vec::new(),
            callbacks: Vec::new(),
            not_tried: (!p.mu).then(|| "Mu cannot express its types: gcc only".to_string()),
            problems: Vec::new(),
        };
        let ret_size = p.ret.as_ref().map(|r| r.0 as usize).unwrap_or(0);
        let sret = matches!(case.rules.ret, RetAnswer::Sret);
        // The call direction.
        let pat = pattern(RET_SRET + ret_size, p.index);
        let mut want_ret = Vec::new();
        if let (Some((_, ls)), RetAnswer::Regs(locs)) = (&p.ret, &case.rules.ret) {
            for (off, s, bytes) in ls {
                for b in 0..bytes.len() {
                    let at = *off as usize + b;
                    let l = locs.get(at / 8).copied().unwrap_or(Loc::Nowhere);
                    if let Some(src) = ret_place(l, at % 8) {
                        let what = format!(
                            "the result's byte {b} of the {} at +{off} (from {})",
                            s.c_name(),
                            loc_name(l)
                        );
                        want_ret.push((at, pat[src], what));
                    }
                }
            }
        } else if let (Some((_, ls)), true) = (&p.ret, sret) {
            for (off, s, bytes) in ls {
                for b in 0..bytes.len() {
                    let at = *off as usize + b;
                    want_ret.push((
                        at,
                        pat[RET_SRET + at],
                        format!(
                            "the result's byte {b} of the {} at +{off} (through sret)",
                            s.c_name()
                        ),
                    ));
                }
            }
        }
        let parties: &[Party] = if p.mu {
            &[Party::Gcc, Party::Model, Party::Fast]
        } else {
            &[Party::Gcc]
        };
        for &party in parties {
            let mut rec = vec![UNSET; STACK + p.stack_bytes];
            rec[STACK_BYTES..STACK].copy_from_slice(&(p.stack_bytes as u64).to_le_bytes());
            lib.write("muni_capture_rec", 0, &rec)?;
            let mut ret = pat.clone();
            ret[RET_SRET_SIZE..RET_SRET]
                .copy_from_slice(&(if sret { ret_size as u64 } else { 0 }).to_le_bytes());
            lib.write("muni_capture_ret", 0, &ret)?;
            lib.write("muni_capture_out", 0, &vec![UNSET; ret_size])?;
            let func = match party {
                Party::Gcc => format!("@drive_gcc{k}"),
                _ => format!("@mu_call{k}"),
            };
            if let Err(e) = run_on(
                if party == Party::Gcc {
                    Party::Model
                } else {
                    party
                },
                &func,
            ) {
                v.problems.push(format!("call, {}: {e}", party.name()));
                continue;
            }
            let got = lib.read("muni_capture_rec", 0, STACK + p.stack_bytes)?;
            compare(party, "call", &p.placed, &got, &mut v.problems);
            let al = got[RAX];
            // %al: gcc sets it for a variadic call; muni's CCALL for every call
            // (`ccall.al`).
            if (case.sig.variadic.is_some() || party != Party::Gcc) && al != p.sse {
                v.problems.push(format!(
                    "call, {}: %al is {al}, but the arguments use {} vector registers",
                    party.name(),
                    p.sse
                ));
            }
            let got = lib.read("muni_capture_out", 0, ret_size)?;
            compare(party, "call", &want_ret, &got, &mut v.problems);
            v.calls.push(party);
        }
        // The callback direction.
        if case.sig.variadic.is_some() {
            verdicts.push(v);
            continue;
        }
        let mut image = vec![0x5Au8; STACK + p.stack_bytes];
        for (at, b, _) in &p.placed {
            image[*at] = *b;
        }
        image[RAX..RAX + 8].copy_from_slice(&u64::from(p.sse).to_le_bytes());
        image[STACK_BYTES..STACK].copy_from_slice(&(p.stack_bytes as u64).to_le_bytes());
        let sret_buf = lib.addr("muni_inject_sret")?;
        if sret {
            image[0..8].copy_from_slice(&sret_buf.to_le_bytes());
        }
        let out_size = p.out_size.max(ret_size);
        let mut want_args = Vec::new();
        for (i, ls) in p.args.iter().enumerate() {
            for (off, s, bytes) in ls {
                for (b, val) in bytes.iter().enumerate() {
                    let at = p.arg_out[i] + *off as usize + b;
                    want_args.push((
                        at,
                        *val,
                        format!(
                            "argument {} `{}`: byte {b} of the {} at +{off}",
                            i + 1,
                            case.sig.params[i],
                            s.c_name()
                        ),
                    ));
                }
            }
        }
        let rv = ret_values(p);
        let mut want_ret = Vec::new();
        if let (Some(ls), RetAnswer::Regs(locs)) = (&rv, &case.rules.ret) {
            for (off, s, bytes) in ls {
                for (b, val) in bytes.iter().enumerate() {
                    let at = *off as usize + b;
                    let l = locs.get(at / 8).copied().unwrap_or(Loc::Nowhere);
                    if let Some(dst) = ret_place(l, at % 8) {
                        want_ret.push((
                            dst,
                            *val,
                            format!(
                                "the result's byte {b} of the {} at +{off} in {}",
                                s.c_name(),
                                loc_name(l)
                            ),
                        ));
                    }
                }
            }
        }
        let mut want_sret = Vec::new();
        if let (Some(ls), true) = (&rv, sret) {
            for (off, s, bytes) in ls {
                for (b, val) in bytes.iter().enumerate() {
                    let at = *off as usize + b;
                    want_sret.push((
                        at,
                        *val,
                        format!(
                            "the result's byte {b} of the {} at +{off} through sret",
                            s.c_name()
                        ),
                    ));
                }
            }
        }
        for &party in parties {
            lib.write("muni_inject_in", 0, &image)?;
            lib.write("muni_capture_out", 0, &vec![UNSET; out_size])?;
            lib.write("muni_inject_ret", 0, &[UNSET; 48])?;
            lib.write("muni_inject_sret", 0, &vec![UNSET; ret_size])?;
            let (engine, func) = match party {
                Party::Gcc => (Party::Model, format!("@inject_gcc{k}")),
                _ => (party, format!("@inject_mu{k}")),
            };
            if let Err(e) = run_on(engine, &func) {
                v.problems.push(format!("callback, {}: {e}", party.name()));
                continue;
            }
            let got = lib.read("muni_capture_out", 0, out_size)?;
            compare(party, "callback", &want_args, &got, &mut v.problems);
            let regs = lib.read("muni_inject_ret", 0, 48)?;
            compare(party, "callback", &want_ret, &regs, &mut v.problems);
            if sret {
                let got = lib.read("muni_inject_sret", 0, ret_size)?;
                compare(party, "callback", &want_sret, &got, &mut v.problems);
                if regs[..8] != sret_buf.to_le_bytes() {
                    v.problems.push(format!(
                        "callback, {}: rax does not return the sret buffer's address",
                        party.name()
                    ));
                }
            }
            v.callbacks.push(party);
        }
        verdicts.push(v);
    }
    Ok(verdicts)
}
