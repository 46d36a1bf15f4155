//! Statistics of a difftest run, of what ran rather than of what was written:
//! verdicts, the outcome mix, the fast-VM builds compared, the instructions and
//! operators the model executed (per width and per predicate), rule firings, the
//! C functions called, throughput; and the floors below which an operator, width
//! or rule is flagged as too rarely exercised.

use crate::{Checked, Verdict};
use serde::Serialize;
use spec_model::RuleId;
use spec_model::ir::{Module, Op, Type, TypeId, Types};
use spec_model::machine::Profile;
use spec_model::syntax::print::{bin_op_name, cmp_op_name, conv_op_name};
use std::collections::BTreeMap;

/// Executions of each operator at each width expected per 20,000 programs.
pub const OP_FLOOR: u64 = 100;
/// Firings of each defined-behaviour rule expected per 20,000 programs.
pub const RULE_FLOOR: u64 = 20;

/// How a statistics key names a type: `i37`, `float`, `double`, `ref`, `struct`…
fn kind(types: &Types, t: TypeId) -> String {
    match types.get(t) {
        Type::Int(n) => format!("i{n}"),
        Type::Float => "float".into(),
        Type::Double => "double".into(),
        Type::Void => "void".into(),
        Type::Ref(_) => "ref".into(),
        Type::IRef(_) => "iref".into(),
        Type::WeakRef(_) => "weakref".into(),
        Type::Struct(_) => "struct".into(),
        Type::Array(..) => "array".into(),
        Type::Hybrid(..) => "hybrid".into(),
        Type::FuncRef(_) => "funcref".into(),
        Type::UPtr(_) => "uptr".into(),
        Type::UFuncPtr(_) => "ufuncptr".into(),
        Type::StackRef => "stackref".into(),
        Type::ThreadRef => "threadref".into(),
        Type::Other(n) => (*n).into(),
    }
}

/// The statistics keys of one instruction: `ADD i37`, `FUNE float`,
/// `SELECT struct`; an int-to-int conversion counts once at its source width and
/// once at its destination (`TRUNC i64→`, `TRUNC →i37`), every other conversion
/// at its pair (`FPTOUI double→i5`); other instructions by name.
fn keys(types: &Types, slot_types: &[TypeId], results: &[u32], op: &Op) -> Vec<String> {
    match op {
        Op::BinOp { op, ty, .. } => vec![format!("{} {}", bin_op_name(*op), kind(types, *ty))],
        Op::Cmp { op, ty, .. } => vec![format!("{} {}", cmp_op_name(*op), kind(types, *ty))],
        Op::Conv { op, from, to, .. } => {
            let (f, t) = (kind(types, *from), kind(types, *to));
            let name = conv_op_name(*op);
            if types.int_width(*from).is_some() && types.int_width(*to).is_some() {
                vec![format!("{name} {f}→"), format!("{name} →{t}")]
            } else {
                vec![format!("{name} {f}→{t}")]
            }
        }
        Op::Select { .. } => {
            let t = results.first().map(|r| slot_types[*r as usize]);
            let k = t.map_or("?".into(), |t| match types.get(t) {
                Type::Int(_) => "int".to_string(),
                _ => kind(types, t),
            });
            vec![format!("SELECT {k}")]
        }
        _ => vec![op.name().to_string()],
    }
}

/// What the model executed in some runs of one module, by statistics key.
pub fn executed(m: &Module, profiles: &[&Profile]) -> Vec<(String, u64)> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for (fi, f) in m.funcs.iter().enumerate() {
        let Some(body) = &f.body else { continue };
        for (bi, b) in body.blocks.iter().enumerate() {
            for (ii, inst) in b.insts.iter().enumerate() {
                let n: u64 = profiles
                    .iter()
                    .map(|p| p.count(fi as u32, bi as u32, ii as u32))
                    .sum();
                if n == 0 {
                    continue;
                }
                for k in keys(&m.types, &body.slot_types, &inst.results, &inst.op) {
                    *out.entry(k).or_default() += n;
                }
            }
        }
    }
    out.into_iter().collect()
}

/// The keys the generator's programs are expected to execute: every operator at
/// every width it generates, every predicate, every conversion pair, SELECT of
/// every kind of type.
pub fn expected() -> Vec<String> {
    let mut out = Vec::new();
    let int = |n: u32| format!("i{n}");
    for op in [
        "ADD", "SUB", "MUL", "AND", "OR", "XOR", "UDIV", "SDIV", "UREM", "SREM", "SHL", "LSHR",
        "ASHR", "EQ", "NE", "SGE", "SGT", "SLE", "SLT", "UGE", "UGT", "ULE", "ULT",
    ] {
        for n in 1..=64 {
            out.push(format!("{op} {}", int(n)));
        }
    }
    for t in ["float", "double"] {
        for op in ["FADD", "FSUB", "FMUL", "FDIV", "FREM"] {
            out.push(format!("{op} {t}"));
        }
        for p in [
            "FTRUE", "FFALSE", "FUNO", "FUEQ", "FUNE", "FUGT", "FUGE", "FULT", "FULE", "FORD",
            "FOEQ", "FONE", "FOGT", "FOGE", "FOLT", "FOLE",
        ] {
            out.push(format!("{p} {t}"));
        }
        for n in 1..=64 {
            out.push(format!("FPTOSI {t}→{}", int(n)));
            out.push(format!("FPTOUI {t}→{}", int(n)));
            out.push(format!("SITOFP {}→{t}", int(n)));
            out.push(format!("UITOFP {}→{t}", int(n)));
        }
    }
    for n in 1..=64 {
        if n > 1 {
            out.push(format!("TRUNC {}→", int(n)));
            out.push(format!("ZEXT →{}", int(n)));
            out.push(format!("SEXT →{}", int(n)));
        }
        if n < 64 {
            out.push(format!("TRUNC →{}", int(n)));
            out.push(format!("ZEXT {}→", int(n)));
            out.push(format!("SEXT {}→", int(n)));
        }
        out.push(format!("PTRCAST {}→uptr", int(n)));
        out.push(format!("PTRCAST uptr→{}", int(n)));
    }
    for k in [
        "FPTRUNC double→float",
        "FPEXT float→double",
        "BITCAST i32→float",
        "BITCAST float→i32",
        "BITCAST i64→double",
        "BITCAST double→i64",
        "REFCAST ref→ref",
        "EQ ref",
        "NE ref",
        "EQ iref",
        "NE iref",
        "ULT iref",
        "ULE iref",
        "UGT iref",
        "UGE iref",
        "EQ funcref",
        "NE funcref",
    ] {
        out.push(k.to_string());
    }
    for k in [
        "int", "float", "double", "ref", "iref", "uptr", "funcref", "struct", "array",
    ] {
        out.push(format!("SELECT {k}"));
    }
    out
}

/// Running totals.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Programs generated.
    pub programs: u64,
    /// Inputs (argument vectors) they ran with, on the model.
    pub inputs: u64,
    /// Programs on which every build agreed with the model.
    pub agreed: u64,
    /// Programs on which one did not.
    pub diverged: u64,
    /// Programs that did not load or the model could not run (generator bugs).
    pub rejected: u64,
    /// Programs where the model found undefined behaviour (generator bugs).
    pub generator_ub: u64,
    /// Programs the fast VM could not compile.
    pub not_compiled: u64,
    /// Outcomes on the model, by kind (`return`, `trap div_by_zero`, …), one per
    /// input.
    pub outcomes: BTreeMap<String, u64>,
    /// Fast-VM runs compared with the model, by build.
    pub runs: BTreeMap<String, u64>,
    /// Inputs on which the model ran out of fuel: the builds without fuel checks
    /// do not run them (they have no fuel to run out of).
    pub out_of_fuel: u64,
    /// What the model executed, by key (`ADD i37`, `FUNE float`, `LOAD`).
    pub executed: BTreeMap<String, u64>,
    /// How often each rule fired, by id.
    pub rules: BTreeMap<String, u64>,
    /// The random C library's functions called, by symbol, with the calls.
    pub c_functions: BTreeMap<String, u64>,
    /// Seconds spent.
    pub seconds: f64,
}

impl Stats {
    /// Adds one checked program.
    pub fn add(&mut self, c: &Checked) {
        self.programs += 1;
        match &c.verdict {
            Verdict::Agree => self.agreed += 1,
            Verdict::Diverge(_) => self.diverged += 1,
            Verdict::Rejected(_) => self.rejected += 1,
            Verdict::GeneratorUb(_) => self.generator_ub += 1,
            Verdict::NotCompiled(_) => self.not_compiled += 1,
        }
        for o in &c.outcomes {
            let kind = match o.split_once(' ') {
                Some(("return", _)) => "return".to_string(),
                Some(("client_trap", _)) => "client_trap".to_string(),
                _ => o.clone(),
            };
            *self.outcomes.entry(kind).or_default() += 1;
        }
        self.inputs += c.outcomes.len() as u64;
        for b in &c.runs {
            *self.runs.entry(b.name()).or_default() += 1;
        }
        self.out_of_fuel += c.out_of_fuel;
        for (k, n) in &c.executed {
            *self.executed.entry(k.clone()).or_default() += n;
        }
        for (r, n) in RuleId::ALL.iter().zip(&c.rules) {
            if *n > 0 {
                *self.rules.entry(r.id().to_string()).or_default() += n;
            }
        }
        for f in &c.c_calls {
            *self.c_functions.entry(f.clone()).or_default() += 1;
        }
    }

    /// Adds another job's totals.
    pub fn merge(&mut self, o: &Stats) {
        self.programs += o.programs;
        self.inputs += o.inputs;
        self.agreed += o.agreed;
        self.diverged += o.diverged;
        self.rejected += o.rejected;
        self.generator_ub += o.generator_ub;
        self.not_compiled += o.not_compiled;
        self.out_of_fuel += o.out_of_fuel;
        let add = |a: &mut BTreeMap<String, u64>, b: &BTreeMap<String, u64>| {
            for (k, v) in b {
                *a.entry(k.clone()).or_default() += v;
            }
        };
        add(&mut self.outcomes, &o.outcomes);
        add(&mut self.runs, &o.runs);
        add(&mut self.executed, &o.executed);
        add(&mut self.rules, &o.rules);
        add(&mut self.c_functions, &o.c_functions);
    }

    /// Programs whose work was not all done: rejected, undefined, not compiled.
    pub fn failed_work(&self) -> u64 {
        self.rejected + self.generator_ub + self.not_compiled
    }

    /// Rules that fired, and rules there are, UB rules left out.
    pub fn rule_coverage(&self) -> (usize, usize) {
        let defined: Vec<&RuleId> = RuleId::ALL.iter().filter(|r| !r.is_ub()).collect();
        let fired = defined
            .iter()
            .filter(|r| self.rules.get(r.id()).is_some_and(|n| *n > 0))
            .count();
        (fired, defined.len())
    }

    /// A floor given per 20,000 programs, for this run's number of programs.
    fn scaled(&self, per_20000: u64) -> u64 {
        (per_20000 * self.programs).div_ceil(20_000).max(1)
    }

    /// Defined-behaviour rules that fired less often than their floor, with
    /// their firings.
    pub fn rules_below_floor(&self) -> Vec<(&'static str, u64)> {
        let floor = self.scaled(RULE_FLOOR);
        RuleId::ALL
            .iter()
            .filter(|r| !r.is_ub())
            .map(|r| (r.id(), self.rules.get(r.id()).copied().unwrap_or(0)))
            .filter(|(_, n)| *n < floor)
            .collect()
    }

    /// Expected keys executed less often than their floor, with their counts.
    pub fn executed_below_floor(&self) -> Vec<(String, u64)> {
        let floor = self.scaled(OP_FLOOR);
        expected()
            .into_iter()
            .map(|k| {
                let n = self.executed.get(&k).copied().unwrap_or(0);
                (k, n)
            })
            .filter(|(_, n)| *n < floor)
            .collect()
    }

    /// The statistics with their flags, as `--json` prints them: every field of
    /// [`Stats`], then the rules and keys below their floors.
    pub fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            let (fired, rules) = self.rule_coverage();
            o.insert("rules_fired".into(), fired.into());
            o.insert("rules_defined".into(), rules.into());
            o.insert(
                "rules_below_floor".into(),
                serde_json::to_value(self.rules_below_floor()).unwrap_or_default(),
            );
            o.insert(
                "executed_below_floor".into(),
                serde_json::to_value(self.executed_below_floor()).unwrap_or_default(),
            );
            o.insert("programs_per_second".into(), self.rate().into());
        }
        v
    }

    /// Programs checked per second.
    pub fn rate(&self) -> f64 {
        self.programs as f64 / self.seconds.max(1e-9)
    }

    /// One line for the progress bar.
    pub fn line(&self) -> String {
        let (f, t) = self.rule_coverage();
        format!(
            "{} programs, {} diverged, {} not done, rules {f}/{t}, {:.0}/s",
            self.programs,
            self.diverged,
            self.failed_work(),
            self.rate()
        )
    }

    /// The report printed at the end.
    pub fn report(&self) -> String {
        let mut s = format!(
            "programs {} ({} inputs)  agreed {}  diverged {}  rejected {}  generator ub {}  not compiled {}\n",
            self.programs,
            self.inputs,
            self.agreed,
            self.diverged,
            self.rejected,
            self.generator_ub,
            self.not_compiled
        );
        let runs: u64 = self.runs.values().sum();
        s.push_str(&format!(
            "throughput {:.0} programs/s ({:.1} s), {:.0} fast-VM runs/s\n",
            self.rate(),
            self.seconds,
            runs as f64 / self.seconds.max(1e-9)
        ));
        s.push_str("runs compared with the model, by build:");
        for (k, v) in &self.runs {
            s.push_str(&format!("  {k} {v}"));
        }
        s.push('\n');
        s.push_str(&format!(
            "  ({} inputs ran out of fuel on the model: the builds without fuel checks did not run them)\n",
            self.out_of_fuel
        ));
        s.push_str("outcomes:");
        for (k, v) in &self.outcomes {
            s.push_str(&format!("  {k} {v}"));
        }
        s.push('\n');
        let (f, t) = self.rule_coverage();
        s.push_str(&format!(
            "rules fired: {f} of {t} defined-behaviour rules; per 1,000 programs:"
        ));
        for r in RuleId::ALL.iter().filter(|r| !r.is_ub()) {
            let n = self.rules.get(r.id()).copied().unwrap_or(0);
            s.push_str(&format!(
                " {} {:.1}",
                r.id(),
                1000.0 * n as f64 / self.programs.max(1) as f64
            ));
        }
        s.push('\n');
        let low = self.rules_below_floor();
        s.push_str(&format!(
            "rules below the floor of {} firings per 20,000 programs: {}\n",
            RULE_FLOOR,
            if low.is_empty() {
                "none".to_string()
            } else {
                low.iter()
                    .map(|(r, n)| format!("{r} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        let expected = expected();
        let low = self.executed_below_floor();
        let least = expected
            .iter()
            .map(|k| (self.executed.get(k).copied().unwrap_or(0), k))
            .min();
        s.push_str(&format!(
            "executed: {} keys ({} operator, width and predicate keys expected, the least run {}); \
             below the floor of {} per 20,000 programs: {}\n",
            self.executed.len(),
            expected.len(),
            least.map_or("-".into(), |(n, k)| format!("{n} times, {k}")),
            OP_FLOOR,
            if low.is_empty() {
                "none".to_string()
            } else {
                format!(
                    "{} ({})",
                    low.len(),
                    low.iter()
                        .take(12)
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
        let (widths, families) = self.width_summary();
        s.push_str(&format!(
            "executed per width (all integer operators): {widths}\n"
        ));
        s.push_str(&format!("executed per family: {families}\n"));
        let calls: u64 = self.c_functions.values().sum();
        s.push_str(&format!(
            "random C library: {} distinct functions (and signatures) called, {} calls\n",
            self.c_functions.len(),
            calls
        ));
        s
    }

    /// Executions summed per int width, and per instruction name.
    fn width_summary(&self) -> (String, String) {
        let mut widths: BTreeMap<u32, u64> = BTreeMap::new();
        let mut names: BTreeMap<String, u64> = BTreeMap::new();
        for (k, n) in &self.executed {
            let (name, rest) = k.split_once(' ').unwrap_or((k, ""));
            *names.entry(name.to_string()).or_default() += n;
            if let Some(w) = rest.strip_prefix('i').and_then(|w| w.parse::<u32>().ok()) {
                *widths.entry(w).or_default() += n;
            }
        }
        (
            widths
                .iter()
                .map(|(w, n)| format!("i{w} {n}"))
                .collect::<Vec<_>>()
                .join(" "),
            names
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}
