//! Random C types and calls, and the pitfall cases, for checking the model against
//! the Z3 statement of the SysV ABI (`muni abi random`) and for the machine capture
//! (`capture`).
//!
//! The types are what Mu can express: structs nested three deep of every integer
//! width, `float`, `double`, pointers and arrays of them. The calls have up to 16
//! arguments, mixing structs, integers and floats past the register budget.

use super::{mu_sig, mu_type, sig_answer, type_answer};
use spec_model::ir::Types;
use sysv::{CType, Scalar, Sig};

/// xorshift64*, so that every run from a seed is the same.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The scalars Mu can pass: every integer width, `float`, `double` and pointers.
pub const SCALARS: [Scalar; 7] = [
    Scalar::I8,
    Scalar::I16,
    Scalar::I32,
    Scalar::I64,
    Scalar::Float,
    Scalar::Double,
    Scalar::Ptr,
];

/// A scalar.
pub fn scalar(rng: &mut Rng) -> CType {
    CType::Scalar(SCALARS[rng.below(SCALARS.len() as u64) as usize])
}

/// A field: a scalar, an array of one, or (above depth 0) a struct.
pub fn field(rng: &mut Rng, depth: u32) -> CType {
    match rng.below(if depth == 0 { 2 } else { 5 }) {
        0 => scalar(rng),
        1 => CType::Array(Box::new(scalar(rng)), 1 + rng.below(4)),
        _ => {
            let n = 1 + rng.below(4);
            CType::Struct((0..n).map(|_| field(rng, depth - 1)).collect())
        }
    }
}

/// A struct of one to five fields, nested up to three deep.
pub fn structure(rng: &mut Rng) -> CType {
    let n = 1 + rng.below(5);
    CType::Struct((0..n).map(|_| field(rng, 2)).collect())
}

/// A call of up to 16 arguments, half structs and half scalars, returning
/// nothing, a scalar or a struct.
pub fn call(rng: &mut Rng) -> Sig {
    let n = rng.below(17) as usize;
    let params = (0..n)
        .map(|_| {
            if rng.below(2) == 0 {
                structure(rng)
            } else {
                scalar(rng)
            }
        })
        .collect();
    let ret = match rng.below(3) {
        0 => None,
        1 => Some(scalar(rng)),
        _ => Some(structure(rng)),
    };
    Sig {
        params,
        ret,
        variadic: None,
    }
}

fn s(x: Scalar) -> CType {
    CType::Scalar(x)
}

fn st(fields: Vec<CType>) -> CType {
    CType::Struct(fields)
}

/// The pitfalls of shared/notes/sysv-abi-and-backends.md §0 and §6.3 that Mu can
/// express, named: a split at r9, `{float, float, double}`, sret with other
/// arguments, varargs `%al`, six `{u64, f32}` (libffi#848), and the observed gcc
/// cases. (The 16-aligned struct on the stack needs `__int128` or `long double`,
/// which Mu cannot express yet; `capture::gcc_only` has it.)
pub fn pitfalls() -> Vec<(&'static str, Sig)> {
    use Scalar::*;
    let ll = st(vec![s(I64), s(I64)]);
    let uf = st(vec![s(I64), s(Float)]);
    let big = st(vec![s(I64), s(I64), s(I64)]);
    let ffd = st(vec![s(Float), s(Float), s(Double)]);
    let sig = |params: Vec<CType>, ret: Option<CType>| Sig {
        params,
        ret,
        variadic: None,
    };
    let mut r9 = vec![s(I32); 5];
    r9.push(ll.clone());
    r9.push(s(I64));
    vec![
        (
            "a split at r9: f(int ×5, {long, long}, long)",
            sig(r9, None),
        ),
        (
            "{float, float, double} as argument and result",
            sig(vec![ffd.clone(), s(Double), ffd.clone()], Some(ffd)),
        ),
        (
            "sret with other arguments: {long ×3} f(long, double, {long ×3}, int)",
            sig(
                vec![s(I64), s(Double), big.clone(), s(I32)],
                Some(big.clone()),
            ),
        ),
        (
            "varargs %al: long f(void *, ...) called with (ptr, 1.5, 2.5)",
            Sig {
                params: vec![s(Ptr), s(Double), s(Double)],
                ret: Some(s(I64)),
                variadic: Some(1),
            },
        ),
        (
            "six {u64, f32} (libffi#848)",
            sig(vec![uf; 6], Some(s(I64))),
        ),
        (
            "{char, double}: rdi + xmm0",
            sig(vec![st(vec![s(I8), s(Double)])], None),
        ),
        (
            "{float ×3}: xmm0 packed, xmm1",
            sig(
                vec![st(vec![s(Float), s(Float), s(Float)])],
                Some(st(vec![s(Float), s(Float), s(Float)])),
            ),
        ),
        ("{long ×3} by value on the stack", sig(vec![big], None)),
        (
            "{double, long} returned in xmm0 and rax",
            sig(vec![], Some(st(vec![s(Double), s(I64)]))),
        ),
        (
            "nine doubles and seven longs: both budgets exhausted",
            sig(
                [vec![s(Double); 9], vec![s(I64); 7]].concat(),
                Some(s(Double)),
            ),
        ),
    ]
}

/// The model's layout and classification of a C type, as an answer.
pub fn model_type(t: &CType) -> Option<sysv::TypeAnswer> {
    let mut types = Types::default();
    let id = mu_type(&mut types, t)?;
    Some(type_answer(&types, id))
}

/// The model's lowering of a call, as an answer.
pub fn model_sig(s: &Sig) -> Option<sysv::SigAnswer> {
    let mut types = Types::default();
    let id = mu_sig(&mut types, s)?;
    Some(sig_answer(&types, id))
}

/// What `muni abi random` does.
#[derive(Debug, Clone)]
pub struct Options {
    /// Random struct types to check.
    pub types: usize,
    /// Random calls to check (the pitfalls come on top).
    pub sigs: usize,
    /// How many of the checked calls to capture from the machine (the pitfalls
    /// come on top).
    pub capture: usize,
    /// The seed of the generator.
    pub seed: u64,
    /// Threads (z3 contexts) to check on.
    pub threads: usize,
}

/// What it found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Types checked.
    pub types: usize,
    /// Seconds for them (wall).
    pub type_secs: f64,
    /// Calls checked, the pitfalls among them.
    pub sigs: usize,
    /// Seconds for them (wall).
    pub sig_secs: f64,
    /// Every disagreement with the rules, in words.
    pub disagreements: Vec<String>,
    /// The machine captures, one per call.
    pub captures: Vec<super::capture::Verdict>,
    /// Seconds for building and running them.
    pub capture_secs: f64,
    /// Why the captures could not run at all.
    pub capture_error: Option<String>,
}

impl Report {
    /// Whether everything agreed.
    pub fn ok(&self) -> bool {
        self.disagreements.is_empty()
            && self.capture_error.is_none()
            && self.captures.iter().all(|c| c.problems.is_empty())
    }
}

/// Runs `check` on every item on `threads` threads; the failures with the
/// items' indices, in order.
fn in_parallel<T: Sync>(
    items: &[T],
    threads: usize,
    check: impl Fn(&T) -> Option<String> + Sync,
) -> Vec<(usize, String)> {
    sysv::prove::on_threads(items, threads, check)
        .into_iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, e?)))
        .collect()
}

/// The pitfall that Mu cannot express yet: a 16-aligned struct on the stack after
/// an odd number of stack eightbytes (`{__int128}` after six ints and a long). Only
/// gcc makes this call; the rules say where its bytes go.
pub fn gcc_only() -> Vec<(&'static str, Sig)> {
    let mut params = vec![s(Scalar::I32); 6];
    params.push(s(Scalar::I64));
    params.push(st(vec![s(Scalar::I128)]));
    vec![(
        "a 16-aligned struct on the stack: f(int ×6, long, {__int128})",
        Sig {
            params,
            ret: Some(s(Scalar::I64)),
            variadic: None,
        },
    )]
}

/// Checks random types and calls (and the pitfalls) against the rules, then
/// captures the pitfalls and the first `capture` calls from the machine.
pub fn run(o: &Options) -> Report {
    use std::time::Instant;
    let mut rng = Rng(o.seed);
    let types: Vec<CType> = (0..o.types).map(|_| structure(&mut rng)).collect();
    let mut sigs: Vec<(String, Sig)> = pitfalls()
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .collect();
    for i in 0..o.sigs {
        sigs.push((format!("random call {}", i + 1), call(&mut rng)));
    }
    let t0 = Instant::now();
    let mut disagreements: Vec<String> = in_parallel(&types, o.threads, |t| match model_type(t) {
        None => Some(format!("`{t}`: Mu cannot express it")),
        Some(a) => sysv::check_type(t, &a).err().map(|d| d.to_string()),
    })
    .into_iter()
    .map(|(_, e)| e)
    .collect();
    let type_secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let sig_failures = in_parallel(&sigs, o.threads, |(name, sg)| match model_sig(sg) {
        None => Some(format!("{name} `{sg}`: Mu cannot express it")),
        Some(a) => sysv::check_sig(sg, &a)
            .err()
            .map(|d| format!("{name}: {d}")),
    });
    disagreements.extend(sig_failures.iter().map(|(_, e)| e.clone()));
    let sig_secs = t1.elapsed().as_secs_f64();
    // The captures: every call checked above is the rules' only answer, so the
    // model's answer is where the rules put the bytes.
    let t2 = Instant::now();
    let pitfall_count = pitfalls().len();
    let mut cases = Vec::new();
    let mut capture_error = None;
    for (i, (name, sg)) in sigs.iter().enumerate().take(pitfall_count + o.capture) {
        let failed = sig_failures.iter().any(|(j, _)| *j == i);
        if let Some(rules) = model_sig(sg).filter(|_| !failed) {
            cases.push(super::capture::Case {
                name: name.clone(),
                sig: sg.clone(),
                rules,
            });
        }
    }
    for (name, sg) in gcc_only() {
        match sysv::solve_sig(&sg) {
            Some(rules) => cases.push(super::capture::Case {
                name: name.to_string(),
                sig: sg,
                rules,
            }),
            None => capture_error = Some(format!("{name}: the rules give no answer")),
        }
    }
    let captures = match super::capture::run(&cases) {
        Ok(v) => v,
        Err(e) => {
            capture_error = Some(e);
            Vec::new()
        }
    };
    Report {
        types: types.len(),
        type_secs,
        sigs: sigs.len(),
        sig_secs,
        disagreements,
        captures,
        capture_secs: t2.elapsed().as_secs_f64(),
        capture_error,
    }
}
