//! Differential testing of the fast VM against the reference model.
//!
//! A [`Campaign`] (a seed and a generator [`Config`]) makes programs with the
//! generator ([`generate`]) from bytes: proptest's, whose shrinking then works on
//! the bytes ([`strategy`]), or libFuzzer's. [`check`] runs each program on the
//! model and on every build of the fast VM users can get ([`BUILDS`]: with and
//! without the native trace, with and without fuel checks, each also with a
//! collection at every allocation under GC stress) and compares what
//! decisions.md says is observable, under one renaming of objects: the outcome,
//! every global cell and the objects they reach, and (for the builds that record
//! it) the native trace. Statistics ([`stats`]) count what the model executed;
//! the reducer ([`reduce`]) is behind `muni reduce`.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod generate;
pub mod reduce;
pub mod stats;

pub use config::Config;
use generate::Program;
use generate::clib::Library;
use proptest::strategy::Strategy;
use spec_model::client::MuVM;
use spec_model::ir::Type;
use spec_model::machine::Profile;
use spec_model::outcome::{
    Budget, NativeEvent, OutValue, Outcome, Renamer, renamed, renamed_event, render_trace_in,
    render_value, render_value_in,
};
use spec_model::run::{Engine, Model, Observation, Observe, Request, RunError};
use spec_model::{Budgets, Loaded, load};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// Budgets of a generated program's run: small, so that every run ends quickly.
pub const BUDGETS: Budgets = Budgets {
    fuel: 20_000,
    alloc: 1 << 20,
    stack: 64,
};

/// How many of the objects the globals reach are compared.
pub const MAX_OBJECTS: usize = 64;

/// Functions in a campaign's random C library.
pub const LIBRARY_FUNCTIONS: usize = 300;

/// The fixed C library's source (difftest/clib/difftest.c): the hybrids and the
/// callback of the generator's fixed statements.
pub const CLIB_SOURCE: &str = include_str!("../clib/difftest.c");

/// The fixed C library, built by gcc and loaded into the process once (its symbols
/// are then visible to both engines' `EXTERN`s).
pub fn load_clib() -> Result<PathBuf, String> {
    static LIB: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let lib = LIB.get_or_init(|| {
        let so = spec_model::clib::build("difftest", CLIB_SOURCE)?;
        spec_model::load_library(&so.display().to_string())?;
        Ok(so)
    });
    lib.clone()
}

/// Builds and loads the random library of a seed (once per process and seed).
fn load_random(lib: &Library) -> Result<PathBuf, String> {
    static LIBS: OnceLock<Mutex<HashMap<u64, PathBuf>>> = OnceLock::new();
    let libs = LIBS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut libs = libs.lock().map_err(|_| "a job panicked".to_string())?;
    if let Some(p) = libs.get(&lib.seed) {
        return Ok(p.clone());
    }
    let so = spec_model::clib::build(&format!("difftest-r{:x}", lib.seed), &lib.source())?;
    spec_model::load_library(&so.display().to_string())?;
    libs.insert(lib.seed, so.clone());
    Ok(so)
}

/// A campaign: its seed, the generator's configuration, and its C libraries,
/// built and loaded.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// The seed (of the byte strings and of the random C library).
    pub seed: u64,
    /// The generator's configuration (each program may draw its own around it).
    pub config: Config,
    /// The random C library.
    pub library: Library,
    /// The fixed C library's shared object.
    pub fixed_lib: PathBuf,
    /// The random C library's shared object.
    pub random_lib: PathBuf,
}

impl Campaign {
    /// Builds and loads the libraries of campaign `seed`.
    pub fn new(seed: u64, config: Config) -> Result<Campaign, String> {
        let fixed_lib = load_clib()?;
        let library = Library::new(seed, LIBRARY_FUNCTIONS);
        let random_lib = load_random(&library)?;
        Ok(Campaign {
            seed,
            config,
            library,
            fixed_lib,
            random_lib,
        })
    }

    /// The program a byte string generates.
    pub fn program(&self, bytes: &[u8]) -> Program {
        generate::generate(
            &mut arbitrary::Unstructured::new(bytes),
            &self.config,
            &self.library,
        )
    }

    /// The random C library's source.
    pub fn library_source(&self) -> String {
        self.library.source()
    }
}

/// A build of the fast VM: how it was compiled, and how it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Build {
    /// Compiled with the native trace (it records CCALLs, callbacks and pins).
    pub trace: bool,
    /// Compiled with fuel checks.
    pub fuel: bool,
    /// Run with a collection at every allocation.
    pub stress: bool,
}

/// The compilations every program runs on: the untraced ones are what `muni run
/// --engine fast`, the benchmarks and users get.
pub const BUILDS: [(bool, bool); 4] = [(true, true), (false, true), (true, false), (false, false)];

impl Build {
    /// How reports name it: `untraced, no fuel checks, gc stress`.
    pub fn name(&self) -> String {
        let mut s = String::from(if self.trace { "traced" } else { "untraced" });
        if !self.fuel {
            s.push_str(", no fuel checks");
        }
        if self.stress {
            s.push_str(", gc stress");
        }
        s
    }
}

/// Everything a run shows, under one renaming of objects (outcome first, then
/// the global cells, the objects they reach and the native trace), with every NaN
/// canonical: two runs show the same iff these are equal. Printed only to report
/// a difference or to write a reproducer.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// How the run ended, its values renamed.
    pub outcome: Outcome,
    /// How the threads its client made ended, in order.
    threads: Vec<Outcome>,
    /// Every global cell: its name and value.
    globals: Vec<(String, OutValue)>,
    /// The objects the cells reach, breadth first: number and contents.
    objects: Vec<(usize, OutValue)>,
    /// The native trace (None: the build does not record it).
    trace: Option<Vec<NativeEvent>>,
    /// What the client saw and did, a line per trap.
    client: Vec<String>,
}

impl Observed {
    /// What `seen`, a run with [`Observe::Heap`], shows: every cell named by
    /// `names`, in order; `client` is the client's log of the run.
    fn new(seen: &Observation, names: &[String], client: Vec<String>) -> Observed {
        let mut r = Renamer::default();
        let outcome = seen.outcome.renamed(&mut r);
        let threads = seen.threads.iter().map(|o| o.renamed(&mut r)).collect();
        let globals = names
            .iter()
            .zip(&seen.globals)
            .map(|(n, v)| {
                let v = v.clone().unwrap_or(OutValue::Dangling);
                (n.clone(), renamed(&v, &mut r))
            })
            .collect();
        let objects = seen
            .objects
            .iter()
            .map(|(o, v)| (r.get(*o), renamed(v, &mut r)))
            .collect();
        let trace = seen
            .trace
            .as_ref()
            .map(|t| t.iter().map(|e| renamed_event(e, &mut r)).collect());
        Observed {
            outcome,
            threads,
            globals,
            objects,
            trace,
            client,
        }
    }

    /// `@g == V` for every global cell, then `obj#N -> V` for every object they
    /// reach, numbered as in the outcome line.
    pub fn state(&self) -> Vec<String> {
        // The values are renamed already: a renaming in the same order numbers
        // them the same.
        let mut r = Renamer::default();
        let _ = self.outcome.render_in(&mut r);
        for t in &self.threads {
            let _ = t.render_in(&mut r);
        }
        let mut out: Vec<String> = self
            .globals
            .iter()
            .map(|(n, v)| format!("@{n} == {}", render_value_in(v, &mut r)))
            .collect();
        for (o, v) in &self.objects {
            let n = r.get(u32::try_from(*o).unwrap_or(u32::MAX));
            out.push(format!("obj#{n} -> {}", render_value_in(v, &mut r)));
        }
        out
    }

    /// The native trace, one event a line.
    pub fn trace(&self) -> Option<Vec<String>> {
        let mut r = Renamer::default();
        let _ = self.outcome.render_in(&mut r);
        for t in &self.threads {
            let _ = t.render_in(&mut r);
        }
        for (_, v) in &self.globals {
            let _ = render_value_in(v, &mut r);
        }
        for (o, v) in &self.objects {
            r.get(u32::try_from(*o).unwrap_or(u32::MAX));
            let _ = render_value_in(v, &mut r);
        }
        self.trace.as_ref().map(|t| render_trace_in(t, &mut r))
    }

    /// What differs from `other` (the model's), if anything; the trace only when
    /// both have one.
    pub fn diff(&self, other: &Observed) -> Option<String> {
        if self.client != other.client {
            let i = self
                .client
                .iter()
                .zip(&other.client)
                .position(|(a, b)| a != b)
                .unwrap_or(self.client.len().min(other.client.len()));
            let at = |c: &[String]| c.get(i).cloned().unwrap_or_else(|| "(no trap)".into());
            return Some(format!(
                "client trap {}: `{}` vs `{}`",
                i + 1,
                at(&other.client),
                at(&self.client)
            ));
        }
        if self.outcome != other.outcome {
            return Some(format!("outcome `{}` vs `{}`", other.outcome, self.outcome));
        }
        if self.threads != other.threads {
            let show = |ts: &[Outcome]| {
                ts.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Some(format!(
                "the client's threads ended `{}` vs `{}`",
                show(&other.threads),
                show(&self.threads)
            ));
        }
        if self.globals != other.globals || self.objects != other.objects {
            let (a, b) = (other.state(), self.state());
            let i = a
                .iter()
                .zip(&b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            let show = |x: Option<&String>| x.cloned().unwrap_or_else(|| "(nothing)".into());
            return Some(format!(
                "final state `{}` vs `{}`",
                show(a.get(i)),
                show(b.get(i))
            ));
        }
        if let (Some(mine), Some(theirs)) = (&self.trace, &other.trace)
            && mine != theirs
        {
            let (theirs, mine) = (
                other.trace().unwrap_or_default(),
                self.trace().unwrap_or_default(),
            );
            let i = theirs
                .iter()
                .zip(&mine)
                .position(|(a, b)| a != b)
                .unwrap_or(mine.len().min(theirs.len()));
            let at = |t: &[String]| t.get(i).cloned().unwrap_or_else(|| "(end)".into());
            return Some(format!(
                "native trace event {}: `{}` vs `{}`",
                i + 1,
                at(&theirs),
                at(&mine)
            ));
        }
        None
    }
}

/// How one program fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every build agrees with the model.
    Agree,
    /// One does not: which, and what differs (or how the fast VM failed).
    Diverge(String),
    /// The program does not load, or the model cannot run it: a generator bug.
    Rejected(String),
    /// The model found undefined behaviour: a generator bug.
    GeneratorUb(String),
    /// The fast VM does not compile something the model runs: a fast-VM gap.
    NotCompiled(String),
}

/// The result of checking one program.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The verdict.
    pub verdict: Verdict,
    /// The model's outcome line for each input (none if it did not run).
    pub outcomes: Vec<String>,
    /// How often each rule fired on the model (indexed by `RuleId as usize`).
    pub rules: Vec<u64>,
    /// What the model executed: statistics keys (`ADD i37`, `FUNE float`) and how
    /// often.
    pub executed: Vec<(String, u64)>,
    /// The C functions of the random library the model called.
    pub c_calls: Vec<String>,
    /// Fast-VM runs compared, by build (one per build and input).
    pub runs: Vec<Build>,
    /// Inputs on which the model ran out of fuel: the builds without fuel checks
    /// do not run them (without fuel they have none to run out of).
    pub out_of_fuel: u64,
}

/// What the model's run gives.
#[derive(Debug)]
pub struct ModelRun {
    /// What it shows.
    pub observed: Observed,
    /// Rule firings.
    pub rules: Vec<u64>,
    /// How often each instruction ran.
    pub profile: Profile,
    /// The native trace's events.
    pub events: Vec<NativeEvent>,
}

/// Runs `p` on the model with the arguments `input`, recording its trace and
/// profile.
pub fn run_model(l: &Loaded, p: &Program, input: &[String]) -> Result<ModelRun, String> {
    run_model_on(&mut Model::new(l).profiling(), l, p, input)
}

/// [`run_model`] on `model`, a model made with [`Model::profiling`]: the runs of
/// one program share it, and with it the bundles its client loads, which are
/// then parsed once.
pub fn run_model_on(
    model: &mut Model<'_>,
    l: &Loaded,
    p: &Program,
    input: &[String],
) -> Result<ModelRun, String> {
    let f = l.func(&p.entry)?;
    let args: Vec<&str> = input.iter().map(String::as_str).collect();
    let argv = l.args(f, &args)?;
    let (seen, observed) =
        observe(model, l, p, f, &argv, true, false).map_err(|e| e.to_string())?;
    Ok(ModelRun {
        observed,
        rules: seen.rules.unwrap_or_default(),
        profile: model.profile().cloned().unwrap_or_default(),
        events: seen.trace.unwrap_or_default(),
    })
}

/// The one run of every engine: `f` with `argv`, `p`'s client answering its
/// traps, observing the heap the globals reach.
fn observe(
    engine: &mut dyn Engine,
    l: &Loaded,
    p: &Program,
    f: u32,
    argv: &[spec_model::machine::Value],
    trace: bool,
    gc_stress: bool,
) -> Result<(Observation, Observed), RunError> {
    let client = client::Client::new(std::rc::Rc::new(p.client.clone()));
    engine.set_trap_handler(Some(Box::new(client.clone())));
    let request = Request {
        trace,
        gc_stress,
        observe: Observe::Heap {
            max_objects: MAX_OBJECTS,
        },
        ..Request::new(f, argv, BUDGETS)
    };
    let seen = engine.run(&request);
    engine.set_trap_handler(None);
    let seen = seen?;
    let names: Vec<String> = l
        .module
        .globals
        .iter()
        .map(|g| g.name.as_str().to_string())
        .collect();
    let observed = Observed::new(&seen, &names, client.take_log());
    Ok((seen, observed))
}

/// The final state of a run of `p` on the model with `input`, as `after:` lines of
/// a conformance script check it: `@g == V`, or `@g -> V` for the object a
/// reference global refers to.
pub fn after_lines(l: &Loaded, p: &Program, input: &[String]) -> Result<Vec<String>, String> {
    let f = l.func(&p.entry)?;
    let args: Vec<&str> = input.iter().map(String::as_str).collect();
    let argv = l.args(f, &args)?;
    let module = &l.module;
    let cells: Vec<(u32, bool)> = (0..module.globals.len() as u32)
        .map(|g| {
            let ty = module.globals[g as usize].ty;
            (g, matches!(module.types.get(ty), Type::Ref(_)))
        })
        .collect();
    let mut model = Model::new(l);
    model.set_trap_handler(Some(Box::new(client::Client::new(std::rc::Rc::new(
        p.client.clone(),
    )))));
    let request = Request {
        observe: Observe::Globals(cells.clone()),
        ..Request::new(f, &argv, BUDGETS)
    };
    let seen = model.run(&request).map_err(|e| e.to_string())?;
    Ok(cells
        .iter()
        .zip(&seen.globals)
        .map(|(&(g, deref), v)| {
            let n = module.globals[g as usize].name.as_str();
            match (deref, v) {
                (true, Some(o)) => format!("@{n} -> {}", render_value(o)),
                (true, None) => format!("@{n} -> none"),
                (false, v) => {
                    let v = v.clone().unwrap_or(OutValue::Dangling);
                    format!("@{n} == {}", render_value(&v))
                }
            }
        })
        .collect())
}

/// Compiles `p` as `trace` and `fuel` say, and runs it on each of `inputs` (by
/// index into the program's inputs), with and without GC stress as `stresses`
/// lists.
pub fn run_fast(
    l: &Loaded,
    p: &Program,
    trace: bool,
    fuel: bool,
    stresses: &[bool],
    inputs: &[usize],
) -> Result<Vec<(Build, usize, Observed)>, RunError> {
    let f = l.func(&p.entry).map_err(RunError::Usage)?;
    let options = fast_vm::Options {
        fuel_checks: fuel,
        trace_native: trace,
        client: p.client.needs_client_mode,
    };
    // In client mode the functions the client's bundles name are roots too.
    let mut roots = vec![f];
    for (_, text) in p.client.lazy.iter().chain(&p.client.redefine) {
        let names = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || "@_.-".contains(c)))
            .filter(|w| w.starts_with('@'));
        roots.extend(names.filter_map(|n| {
            let bare = n.trim_start_matches('@');
            l.module.func(n).or_else(|| {
                // A static exposure: its function.
                let e = l.module.exposes.iter().find(|e| e.name.as_str() == bare)?;
                Some(e.func)
            })
        }));
    }
    let bundles = spec_model::Bundles::new(l);
    let mut program = fast_vm::Program::compile_roots(&l.module, options, &roots)?;
    program.set_bundles(Some(&bundles));
    let mut out = Vec::new();
    for &i in inputs {
        let args: Vec<&str> = p.inputs[i].iter().map(String::as_str).collect();
        let argv = l.args(f, &args).map_err(RunError::Usage)?;
        for &stress in stresses {
            let (_, seen) = observe(&mut program, l, p, f, &argv, trace, stress)?;
            let build = Build {
                trace,
                fuel,
                stress,
            };
            out.push((build, i, seen));
        }
    }
    Ok(out)
}

/// Checks one program: the model, then every build of the fast VM (each also
/// under GC stress with `gc_stress`), compared.
pub fn check(p: &Program, gc_stress: bool) -> Checked {
    let mut c = Checked {
        verdict: Verdict::Agree,
        outcomes: Vec::new(),
        rules: Vec::new(),
        executed: Vec::new(),
        c_calls: Vec::new(),
        runs: Vec::new(),
        out_of_fuel: 0,
    };
    let l = match load(&[("generated.uir", &p.text)]) {
        Ok(l) => l,
        Err(e) => {
            c.verdict = Verdict::Rejected(e.render());
            return c;
        }
    };
    let mut models = Vec::new();
    let mut model = Model::new(&l).profiling();
    for input in &p.inputs {
        match run_model_on(&mut model, &l, p, input) {
            Ok(m) => models.push(m),
            Err(e) => {
                c.verdict = Verdict::Rejected(format!("the model cannot run it: {e}"));
                return c;
            }
        }
    }
    c.rules = vec![0; spec_model::RuleId::ALL.len()];
    let profiles: Vec<&Profile> = models.iter().map(|m| &m.profile).collect();
    c.executed = stats::executed(&l.module, &profiles);
    for m in &models {
        c.rules.iter_mut().zip(&m.rules).for_each(|(a, b)| *a += b);
        c.outcomes.push(m.observed.outcome.to_string());
        c.c_calls.extend(m.events.iter().filter_map(|e| match e {
            NativeEvent::CCall { callee, .. } if callee.starts_with("mu_r") => Some(callee.clone()),
            _ => None,
        }));
        if let Outcome::Ub(_) = m.observed.outcome {
            c.verdict = Verdict::GeneratorUb(m.observed.outcome.to_string());
            return c;
        }
        if let Some(l) = m.observed.client.iter().find(|l| l.contains(" load: ")) {
            c.verdict = Verdict::Rejected(format!("a bundle the client loads does not: {l}"));
            return c;
        }
    }
    let all: Vec<usize> = (0..p.inputs.len()).collect();
    // Without fuel checks, a build has no fuel to run out of: it runs the inputs
    // on which the model did not, in any thread.
    let fueled: Vec<usize> = all
        .iter()
        .copied()
        .filter(|i| {
            let o = &models[*i].observed;
            std::iter::once(&o.outcome)
                .chain(&o.threads)
                .all(|t| *t != Outcome::Exhausted(Budget::Fuel))
        })
        .collect();
    c.out_of_fuel = (all.len() - fueled.len()) as u64;
    let stresses: &[bool] = if gc_stress { &[false, true] } else { &[false] };
    for (trace, fuel) in BUILDS {
        let inputs = if fuel { &all } else { &fueled };
        if inputs.is_empty() {
            continue;
        }
        let what = Build {
            trace,
            fuel,
            stress: false,
        }
        .name();
        match run_fast(&l, p, trace, fuel, stresses, inputs) {
            Ok(runs) => {
                for (build, i, fast) in runs {
                    c.runs.push(build);
                    if let Some(d) = fast.diff(&models[i].observed) {
                        let on = if p.inputs.len() > 1 {
                            format!(", input {} ({})", i + 1, p.inputs[i].join(" "))
                        } else {
                            String::new()
                        };
                        c.verdict = Verdict::Diverge(format!("{d} (fast VM {}{on})", build.name()));
                        return c;
                    }
                }
            }
            Err(RunError::Unsupported { why, .. }) => {
                c.verdict = Verdict::NotCompiled(format!("{why} (fast VM {what})"));
                return c;
            }
            Err(e) => {
                c.verdict = Verdict::Diverge(format!("the fast VM failed: {e} (fast VM {what})"));
                return c;
            }
        }
    }
    c
}

/// The proptest front end: programs from byte strings, which proptest shrinks.
pub fn strategy(max_bytes: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(proptest::num::u8::ANY, 64..max_bytes)
}

/// The conformance script that pins down the model's answer for a program: the
/// program with its assertions (outcome, final globals, native trace). It needs
/// the fixed C library (`difftest.c`) and the campaign's random one (`clib`).
pub fn reproducer(p: &Program, why: &str, clib: &str) -> String {
    let mut s = String::new();
    s.push_str("//! features: native generated\n");
    s.push_str("//! clib: difftest.c\n");
    s.push_str(&format!("//! clib: {clib}\n"));
    s.push_str("// A program difftest generated, on which the engines disagreed:\n");
    for l in why.lines() {
        s.push_str(&format!("//   {l}\n"));
    }
    s.push_str("// The assertions are the reference model's answer.\n");
    if p.client != generate::ClientPlan::default() {
        s.push_str("// Its client (difftest::client) answers traps by their tags and loads:\n");
        s.push_str(&client::plan_to_text(&p.client));
    }
    if let Ok(l) = load(&[("generated.uir", &p.text)]) {
        for input in &p.inputs {
            let Ok(m) = run_model(&l, p, input) else {
                continue;
            };
            let call = format!("{}({})", p.entry, input.join(" "));
            let outcome = m.observed.outcome.to_string();
            let outcome = outcome.as_str();
            let (kw, rest) = outcome.split_once(' ').unwrap_or((outcome, ""));
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
            for e in m.observed.trace().iter().flatten() {
                s.push_str(&format!("// | {e}\n"));
            }
            for g in after_lines(&l, p, input).unwrap_or_default() {
                s.push_str(&format!("// after: {g}\n"));
            }
        }
    }
    s.push_str(&p.text);
    s
}

/// `n` generator bytes from a xorshift64 stream (`state` advances): the same
/// programs on every machine, for the examples that time or dump generated
/// programs without proptest's runner.
pub fn xorshift_bytes(state: &mut u64, n: usize) -> Vec<u8> {
    (0..n)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *state as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec_model::outcome::IRefBase;

    fn observed(objs: [u32; 2], trace_obj: u32, stale: bool) -> Observed {
        let outcome = Outcome::Return(vec![OutValue::Ref(Some(objs[0]))]);
        let globals = [
            OutValue::Ref(Some(objs[1])),
            OutValue::IRef(Some((IRefBase::Obj(objs[0]), 8))),
            OutValue::Double(if stale {
                0x7ff8_0000_0000_0001
            } else {
                0x7ff0_0000_0000_0001
            }),
        ];
        let objects = [(objs[1], OutValue::Agg(vec![OutValue::Ref(Some(objs[0]))]))];
        let trace = [NativeEvent::Pin(OutValue::IRef(Some((
            IRefBase::Obj(trace_obj),
            0,
        ))))];
        let names = ["g".to_string(), "h".to_string(), "d".to_string()];
        let seen = Observation {
            outcome,
            threads: Vec::new(),
            trace: Some(trace.to_vec()),
            globals: globals.into_iter().map(Some).collect(),
            objects: objects.to_vec(),
            rules: None,
        };
        Observed::new(&seen, &names, Vec::new())
    }

    /// Objects compare up to one renaming across the outcome, the globals, the
    /// objects they reach and the trace: other identities agree, the same shape
    /// with one object swapped does not. NaNs compare as NaN.
    #[test]
    fn one_renaming_spans_outcome_state_and_trace() {
        let model = observed([10, 20], 10, false);
        assert_eq!(model.diff(&observed([7, 3], 7, true)), None);
        let d = observed([7, 3], 3, false).diff(&model).expect("differs");
        assert!(
            d.starts_with("native trace event 1: `pin obj#1+0` vs `pin obj#2+0`"),
            "{d}"
        );
        assert_eq!(
            model.state(),
            [
                "@g == obj#2",
                "@h == obj#1+8",
                "@d == nand",
                "obj#2 -> {obj#1}"
            ]
        );
    }

    #[test]
    fn a_reference_to_no_object_prints_as_dangling() {
        let outcome = Outcome::Return(vec![OutValue::Dangling]);
        let seen = Observation {
            outcome,
            threads: Vec::new(),
            trace: None,
            globals: Vec::new(),
            objects: Vec::new(),
            rules: None,
        };
        let o = Observed::new(&seen, &[], Vec::new());
        assert_eq!(o.outcome.to_string(), "return dangling");
    }
}
