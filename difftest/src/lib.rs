//! Differential testing of the fast VM against the reference model: a generator of
//! UB-free programs with two front ends (a proptest [`strategy`] whose shrinking
//! works on the bytes the generator reads, and [`generate::generate`] over an
//! `arbitrary::Unstructured` for libFuzzer), a runner that executes each program on
//! both engines (the fast VM without and with GC stress), the comparator of
//! decisions.md, statistics, and the reducer behind `muni reduce`.
#![deny(missing_docs)]

pub mod generate;
pub mod reduce;
pub mod stats;

use proptest::strategy::Strategy;
use spec_model::outcome::{OutValue, render_trace, render_value};
use spec_model::{Budgets, Loaded, load};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Budgets of a generated program's run: small, so that every run ends quickly.
pub const BUDGETS: Budgets = Budgets {
    fuel: 20_000,
    alloc: 1 << 20,
    stack: 64,
};

/// The globals every program has, and whether their final state is the cell or
/// the object it refers to.
const OBSERVED: [(&str, bool); 5] = [
    ("g_i", false),
    ("g_d", false),
    ("g_s", false),
    ("g_h", true),
    ("g_a", false),
];

/// The C library generated programs call, built by gcc and loaded into the process
/// once (its symbols are then visible to both engines' `EXTERN`s).
pub fn load_clib() -> Result<PathBuf, String> {
    static LIB: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let lib = LIB.get_or_init(|| {
        let so = spec_model::clib::build("difftest", CLIB_SOURCE)?;
        spec_model::load_library(&so.display().to_string())?;
        Ok(so)
    });
    lib.clone()
}

/// The C library's source (difftest/clib/difftest.c).
pub const CLIB_SOURCE: &str = include_str!("../clib/difftest.c");

/// Everything an engine's run shows: the outcome line, the final globals and the
/// native trace, all rendered up to a renaming of objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The outcome line.
    pub outcome: String,
    /// `@g == V` (or `@g -> V` for the object a reference global points to).
    pub globals: Vec<String>,
    /// The native trace, one event a line.
    pub trace: Vec<String>,
}

impl Observed {
    fn render(outcome: String, seen: &[Option<OutValue>], trace: Vec<String>) -> Observed {
        let globals = OBSERVED
            .iter()
            .zip(seen)
            .map(|((g, deref), v)| {
                let v = v.as_ref().map_or_else(|| "none".to_string(), render_value);
                format!("@{g} {} {v}", if *deref { "->" } else { "==" })
            })
            .collect();
        Observed {
            outcome,
            globals,
            trace,
        }
    }

    /// What differs from `other`, if anything.
    pub fn diff(&self, other: &Observed) -> Option<String> {
        if self.outcome != other.outcome {
            return Some(format!("outcome `{}` vs `{}`", self.outcome, other.outcome));
        }
        for (a, b) in self.globals.iter().zip(&other.globals) {
            if a != b {
                return Some(format!("final state `{a}` vs `{b}`"));
            }
        }
        if self.trace != other.trace {
            let i = self
                .trace
                .iter()
                .zip(&other.trace)
                .position(|(a, b)| a != b)
                .unwrap_or(self.trace.len().min(other.trace.len()));
            let at = |t: &[String]| t.get(i).cloned().unwrap_or_else(|| "(end)".into());
            return Some(format!(
                "native trace event {}: `{}` vs `{}`",
                i + 1,
                at(&self.trace),
                at(&other.trace)
            ));
        }
        None
    }
}

/// How one program fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Both engines agree (with and without GC stress).
    Agree,
    /// They do not: what differs, and in which mode.
    Diverge(String),
    /// The program does not load (a generator bug, counted as a rejected input).
    Rejected(String),
    /// The model found undefined behaviour: a generator bug.
    GeneratorUb(String),
    /// The fast VM does not compile something in it yet.
    Unsupported(String),
}

/// The result of checking one program.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The verdict.
    pub verdict: Verdict,
    /// The model's outcome line (empty if it did not run).
    pub outcome: String,
    /// How often each rule fired on the model (indexed by `RuleId as usize`).
    pub rules: Vec<u64>,
    /// The instructions of the program, by name.
    pub ops: Vec<&'static str>,
}

/// The observed globals of a loaded program: index and whether to look through
/// the reference (every generated program has them all).
fn observed_globals(l: &Loaded) -> Vec<(u32, bool)> {
    OBSERVED
        .iter()
        .filter_map(|(g, deref)| {
            let gi = l
                .module
                .globals
                .iter()
                .position(|x| x.name.as_str().trim_start_matches('@') == *g)?;
            Some((gi as u32, *deref))
        })
        .collect()
}

/// Runs `p` on the model.
pub fn run_model(l: &Loaded, p: &generate::Program) -> Result<(Observed, Vec<u64>), String> {
    let f = l.func(&p.entry)?;
    let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
    let argv = l.args(f, &args)?;
    let mut m = l.machine(BUDGETS);
    m.trace = Some(Vec::new());
    let o = match m.start(f, argv) {
        Ok(Some(o)) => o,
        Ok(None) => m.run().map_err(|e| e.to_string())?,
        Err(e) => return Err(e.to_string()),
    };
    let seen: Vec<Option<OutValue>> = observed_globals(l)
        .into_iter()
        .map(|(g, deref)| {
            let cell = m.global_out(g);
            if deref {
                m.object_out(&cell)
            } else {
                Some(cell)
            }
        })
        .collect();
    let trace = render_trace(m.trace.as_deref().unwrap_or_default());
    Ok((
        Observed::render(o.to_string(), &seen, trace),
        m.rule_counts.clone(),
    ))
}

/// Runs `p` on the fast VM, without and with GC stress when `stress` says so.
pub fn run_fast(
    l: &Loaded,
    p: &generate::Program,
    modes: &[bool],
    fuel_checks: bool,
) -> Result<Vec<(bool, Observed)>, fast_vm::FastError> {
    let f = l.func(&p.entry).map_err(fast_vm::FastError::Usage)?;
    let program = fast_vm::Program::compile_roots(
        &l.module,
        fast_vm::Options {
            fuel_checks,
            trace_native: true,
        },
        &[f],
    )?;
    let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
    let argv = l.args(f, &args).map_err(fast_vm::FastError::Usage)?;
    let observe = observed_globals(l);
    modes
        .iter()
        .map(|&stress| {
            let (o, events, seen) =
                program.run_traced_observing(f, &argv, BUDGETS, stress, &observe)?;
            Ok((
                stress,
                Observed::render(o.to_string(), &seen, render_trace(&events)),
            ))
        })
        .collect()
}

/// Checks one program: the model, then the fast VM in each mode, compared.
pub fn check(p: &generate::Program, modes: &[bool]) -> Checked {
    let mut c = Checked {
        verdict: Verdict::Agree,
        outcome: String::new(),
        rules: Vec::new(),
        ops: Vec::new(),
    };
    let l = match load(&[("generated.uir", &p.text)]) {
        Ok(l) => l,
        Err(e) => {
            c.verdict = Verdict::Rejected(e.render());
            return c;
        }
    };
    c.ops = op_names(&l);
    let (model, rules) = match run_model(&l, p) {
        Ok(x) => x,
        Err(e) => {
            c.verdict = Verdict::Rejected(format!("the model cannot run it: {e}"));
            return c;
        }
    };
    c.rules = rules;
    c.outcome = model.outcome.clone();
    if model.outcome.starts_with("ub ") {
        c.verdict = Verdict::GeneratorUb(model.outcome);
        return c;
    }
    // Without fuel checks the fast VM can only be held to a run that did not need
    // them.
    let fuel_checks = p.fuel_checks || model.outcome == "exhausted fuel";
    match run_fast(&l, p, modes, fuel_checks) {
        Ok(runs) => {
            for (stress, fast) in runs {
                if let Some(d) = model.diff(&fast) {
                    let mode = if stress {
                        " (fast VM with --gc-stress)"
                    } else {
                        ""
                    };
                    c.verdict = Verdict::Diverge(format!("{d}{mode}"));
                    break;
                }
            }
        }
        Err(fast_vm::FastError::Unsupported(why)) => c.verdict = Verdict::Unsupported(why),
        Err(e) => c.verdict = Verdict::Diverge(format!("the fast VM failed: {e}")),
    }
    c
}

fn op_names(l: &Loaded) -> Vec<&'static str> {
    let mut out = Vec::new();
    for f in &l.module.funcs {
        let Some(b) = &f.body else { continue };
        for blk in &b.blocks {
            for i in &blk.insts {
                out.push(i.op.name());
            }
        }
    }
    out
}

/// The proptest front end: programs from byte strings, which proptest shrinks.
pub fn strategy(max_bytes: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(proptest::num::u8::ANY, 64..max_bytes)
}

/// The program a byte string generates.
pub fn program_of(bytes: &[u8]) -> generate::Program {
    generate::generate(&mut arbitrary::Unstructured::new(bytes))
}

/// The conformance script that pins down the model's answer for a program: the
/// program with its assertions (outcome, final globals, native trace).
pub fn reproducer(p: &generate::Program, why: &str) -> String {
    let mut s = String::new();
    s.push_str("//! features: native generated\n");
    s.push_str("//! clib: difftest.c\n");
    s.push_str("// A program difftest generated, on which the engines disagreed:\n");
    for l in why.lines() {
        s.push_str(&format!("//   {l}\n"));
    }
    s.push_str("// The assertions are the reference model's answer.\n");
    if let Ok(l) = load(&[("generated.uir", &p.text)])
        && let Ok((m, _)) = run_model(&l, p)
    {
        let call = format!("{}({})", p.entry, p.args.join(" "));
        let (kw, rest) = m.outcome.split_once(' ').unwrap_or((&m.outcome, ""));
        let kw = match kw {
            "return" => "assert_return",
            "trap" => "assert_trap",
            "exhausted" => "assert_exhaustion",
            "ub" => "assert_ub",
            _ => "assert_client_trap",
        };
        let b = BUDGETS;
        s.push_str(&format!(
            "// {kw} {call} [fuel={} alloc={} stack={}] {rest}\n",
            b.fuel, b.alloc, b.stack
        ));
        for e in &m.trace {
            s.push_str(&format!("// | {e}\n"));
        }
        for g in &m.globals {
            s.push_str(&format!("// after: {g}\n"));
        }
    }
    s.push_str(&p.text);
    s
}
