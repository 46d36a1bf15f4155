//! The conformance runner (spec/07-corpus.md): runs conformance scripts on the
//! reference model, on the fast VM, or on an outside implementation through a small
//! process protocol, and judges every assertion.

pub mod expect;
pub mod script;

use expect::Expectations;
use script::{AssertKind, Call, Script, Section};
use serde::Serialize;
use spec_model::client::{ClientValue, ScriptAction, Scripted, TrapAnswer};
use spec_model::outcome::{self, OutValue, render_trace};
use spec_model::run::{Model, Observe, Request, RunError};
use spec_model::{Budgets, Loaded, RuleId, load};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Where assertions run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The reference model.
    Spec,
    /// The fast VM, without and with GC stress.
    Fast,
    /// An outside implementation: a shell command speaking the protocol of
    /// spec/07-corpus.md.
    Impl(String),
}

impl Engine {
    /// The engine's name in reports and in the expectations file.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Spec => "spec",
            Engine::Fast => "fast",
            Engine::Impl(_) => "impl",
        }
    }
}

/// How a skip begins when the fast VM does not compile what the call runs (the
/// corpus tests of `cargo test` treat it as a failure).
pub const NOT_COMPILED: &str = "not compiled by the fast VM";

/// The judgement of one assertion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "snake_case")]
pub enum Verdict {
    /// It held.
    Pass,
    /// It did not; why.
    Fail(String),
    /// It failed, and the expectations file says it does.
    ExpectedFail(String),
    /// It was not run on this engine; why.
    Skip(String),
}

/// One judged assertion.
#[derive(Clone, Debug, Serialize)]
pub struct Checked {
    /// `FILE:LINE`.
    pub test: String,
    /// The engine.
    pub engine: &'static str,
    /// The judgement.
    pub verdict: Verdict,
}

/// What running one script gave.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileReport {
    /// Every assertion's judgement, in file order.
    pub checked: Vec<Checked>,
    /// For each call assertion run on the model: the test and how often each rule
    /// fired (indexed by `RuleId as usize`).
    #[serde(skip)]
    pub fired: Vec<(String, Vec<u64>)>,
}

/// Settings of a conformance run.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Expected failures and opt-outs.
    pub expectations: Expectations,
    /// On a failed model run, show the last rules that fired.
    pub explain: bool,
}

/// Runs the script at `path`, named `name` (its path relative to the corpus root)
/// in reports, on `engine`.
pub fn run_file(path: &Path, name: &str, engine: &Engine, cfg: &Config) -> FileReport {
    let mut report = FileReport::default();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.fail(format!("{name}:1"), engine, format!("cannot read it: {e}"));
            return report;
        }
    };
    let script = match script::parse(name, &text) {
        Ok(s) => s,
        Err(e) => {
            report.fail(format!("{name}:1"), engine, e);
            return report;
        }
    };
    run_script(
        &script,
        path.parent().unwrap_or(Path::new(".")),
        engine,
        cfg,
        &mut report,
    );
    // Expected failures, checked in both directions.
    for c in &mut report.checked {
        if !cfg.expectations.expects_failure(c.engine, &c.test) {
            continue;
        }
        c.verdict = match std::mem::replace(&mut c.verdict, Verdict::Pass) {
            Verdict::Fail(why) => Verdict::ExpectedFail(why),
            Verdict::Pass => Verdict::Fail(
                "passes, but the expectations file lists it as an expected failure".into(),
            ),
            other => other,
        };
    }
    report
}

impl FileReport {
    fn push(&mut self, test: String, engine: &Engine, verdict: Verdict) {
        self.checked.push(Checked {
            test,
            engine: engine.name(),
            verdict,
        });
    }

    fn fail(&mut self, test: String, engine: &Engine, why: String) {
        self.push(test, engine, Verdict::Fail(why));
    }
}

fn run_script(script: &Script, dir: &Path, engine: &Engine, cfg: &Config, out: &mut FileReport) {
    let en = engine.name();
    if let Some(f) = script
        .features
        .iter()
        .find(|f| cfg.expectations.opted_out(en, f))
    {
        for s in &script.sections {
            for a in &s.asserts {
                let why = format!("{en} opted out of feature `{f}`");
                out.push(
                    format!("{}:{}", script.file, a.line),
                    engine,
                    Verdict::Skip(why),
                );
            }
        }
        return;
    }
    let libs = match build_clibs(dir, &script.clib) {
        Ok(l) => l,
        Err(e) => {
            out.fail(format!("{}:1", script.file), engine, e);
            return;
        }
    };
    if !matches!(engine, Engine::Impl(_)) {
        for l in &libs {
            if let Err(e) = spec_model::load_library(&l.display().to_string()) {
                out.fail(format!("{}:1", script.file), engine, e.to_string());
                return;
            }
        }
    }
    for s in &script.sections {
        let (bundle_name, text) = match s.bundle_file.as_ref() {
            Some(f) => match std::fs::read_to_string(dir.join(f)) {
                Ok(t) => (f.clone(), t),
                Err(e) => {
                    out.fail(
                        format!("{}:{}", script.file, s.line),
                        engine,
                        format!("cannot read the bundle {f}: {e}"),
                    );
                    continue;
                }
            },
            None => (script.file.clone(), s.text.clone()),
        };
        let ctx = SectionCx {
            script,
            section: s,
            engine,
            cfg,
            bundle_name: &bundle_name,
            text: &text,
            dir,
        };
        match engine {
            Engine::Spec | Engine::Fast => ctx.on_engine(out),
            Engine::Impl(cmd) => ctx.on_impl(cmd, &libs, out),
        }
    }
}

struct SectionCx<'a> {
    script: &'a Script,
    section: &'a Section,
    engine: &'a Engine,
    cfg: &'a Config,
    bundle_name: &'a str,
    text: &'a str,
    /// The script's folder, where the bundle files client lines load are.
    dir: &'a Path,
}

/// A diagnostic as assertions see it: (line, kind, code).
type Found = (usize, String, String);

impl SectionCx<'_> {
    fn test(&self, line: usize) -> String {
        format!("{}:{line}", self.script.file)
    }

    fn calls(&self) -> impl Iterator<Item = (usize, &Call)> {
        self.section.asserts.iter().filter_map(|a| match &a.kind {
            AssertKind::Call(c) => Some((a.line, c)),
            AssertKind::Diagnostic { .. } => None,
        })
    }

    /// `assert_ub` is the model's alone (spec §7.3): other engines skip it and the
    /// state checks after it.
    fn skip_ub(&self, line: usize, call: &Call, out: &mut FileReport) {
        let why = "undefined behaviour is checked on the model only";
        out.push(self.test(line), self.engine, Verdict::Skip(why.into()));
        for a in &call.after {
            let why = "after undefined behaviour".to_string();
            out.push(self.test(a.line), self.engine, Verdict::Skip(why));
        }
    }

    fn load(&self) -> (Option<Loaded>, Vec<Found>) {
        let (loaded, diags) = match load(&[(self.bundle_name, self.text)]) {
            Ok(l) => {
                let d = l.unsupported.clone();
                (Some(l), d)
            }
            Err(e) => (None, e.diags.clone()),
        };
        let mut sources = spec_model::syntax::SourceMap::new();
        sources.add(self.bundle_name, self.text);
        let found = diags
            .iter()
            .map(|g| {
                (
                    sources.line_col(g.span).0,
                    g.severity.word().to_string(),
                    g.code.to_string(),
                )
            })
            .collect();
        (loaded, found)
    }

    /// Every expected diagnostic reported, and nothing else.
    fn judge_diagnostics(&self, mut found: Vec<Found>, out: &mut FileReport) {
        for a in &self.section.asserts {
            let AssertKind::Diagnostic { kind, code } = &a.kind else {
                continue;
            };
            let line = if self.section.bundle_file.is_some() {
                None
            } else {
                Some(a.line)
            };
            let hit = found
                .iter()
                .position(|f| line.is_none_or(|l| f.0 == l) && &f.1 == kind && &f.2 == code);
            let verdict = match hit {
                Some(i) => {
                    found.remove(i);
                    Verdict::Pass
                }
                None => Verdict::Fail(format!("expected `{kind} {code}` here, not reported")),
            };
            out.push(self.test(a.line), self.engine, verdict);
        }
        for (line, kind, code) in found {
            out.fail(
                self.test(line),
                self.engine,
                format!("unexpected `{kind} {code}`"),
            );
        }
    }

    /// Runs the section's calls on muni's own engine, the model or the fast VM,
    /// through [`spec_model::run::Engine`], and judges what each run shows.
    fn on_engine(&self, out: &mut FileReport) {
        let (loaded, found) = self.load();
        let first = found.first().map(|f| format!("{} {}", f.1, f.2));
        if *self.engine == Engine::Spec {
            self.judge_diagnostics(found, out);
        } else {
            for a in &self.section.asserts {
                if let AssertKind::Diagnostic { .. } = a.kind {
                    let why = "the fast VM shares the model's parser and verifier".to_string();
                    out.push(self.test(a.line), self.engine, Verdict::Skip(why));
                }
            }
        }
        let Some(l) = loaded else {
            for (line, _) in self.calls() {
                let why = format!(
                    "the bundle does not load ({}), so the call cannot run",
                    first.clone().unwrap_or_default()
                );
                out.fail(self.test(line), self.engine, why);
            }
            return;
        };
        let bundles = spec_model::Bundles::new(&l);
        let calls: Vec<(usize, &Call)> = self.calls().collect();
        let mut builds = match Builds::new(self.engine, &l, &bundles, &calls) {
            Ok(b) => b,
            Err(e) => {
                for (line, _) in self.calls() {
                    let why = format!("does not compile: {e}");
                    out.fail(self.test(line), self.engine, why);
                }
                return;
            }
        };
        for (line, call) in self.calls() {
            if call.assertion == "assert_ub" && *self.engine != Engine::Spec {
                self.skip_ub(line, call, out);
                continue;
            }
            self.call_on(&l, &mut builds, line, call, out);
        }
    }

    /// Runs one call on every build it needs and judges the assertion, its client
    /// lines and its state checks: each holds only if it holds on every run.
    fn call_on(
        &self,
        l: &Loaded,
        builds: &mut Builds<'_>,
        line: usize,
        call: &Call,
        out: &mut FileReport,
    ) {
        let skip = |why: &str| Verdict::Skip(why.to_string());
        let args: Vec<&str> = call.args.iter().map(String::as_str).collect();
        let (f, argv) = match l
            .func(&call.func)
            .and_then(|f| l.args(f, &args).map(|a| (f, a)))
        {
            Ok(x) => x,
            Err(e) => {
                let why = if *self.engine == Engine::Spec {
                    format!("the model could not run it: {e}")
                } else {
                    e
                };
                out.fail(self.test(line), self.engine, why);
                return;
            }
        };
        let observe: Vec<(u32, bool)> = call
            .after
            .iter()
            .filter_map(|a| {
                let g = l
                    .module
                    .globals
                    .iter()
                    .position(|g| same_name(g.name.as_str(), &a.global))?;
                Some((g as u32, a.deref))
            })
            .collect();
        let budgets = Budgets::from(call.budgets);
        let traced =
            call.trace.is_some() && !self.cfg.expectations.opted_out(self.engine.name(), "trace");
        let mut verdict = Verdict::Pass;
        let mut seen_state: Vec<Vec<Option<OutValue>>> = Vec::new();
        let mut seen_threads: Vec<Vec<spec_model::Outcome>> = Vec::new();
        let mut client_lines: Vec<(usize, Verdict)> = Vec::new();
        for run in builds.runs(call, traced) {
            let client = scripted(call, self.dir);
            let engine = builds.engine(run.build);
            engine.set_trap_handler(
                client
                    .clone()
                    .map(|c| Box::new(c) as Box<dyn spec_model::client::TrapHandler>),
            );
            let request = Request {
                gc_stress: run.gc_stress,
                trace: run.trace,
                observe: Observe::Globals(observe.clone()),
                ..Request::new(f, &argv, budgets)
            };
            let result = engine.run(&request);
            engine.set_trap_handler(None);
            if let Some(c) = &client {
                // Each line keeps its first failure over the runs.
                let now = client_verdicts(call, c, &run.who);
                if client_lines.is_empty() {
                    client_lines = now;
                } else {
                    for (kept, v) in client_lines.iter_mut().zip(now) {
                        if kept.1 == Verdict::Pass {
                            *kept = v;
                        }
                    }
                }
            }
            let seen = match result {
                Ok(seen) => seen,
                Err(RunError::Unsupported { why, .. }) if *self.engine != Engine::Spec => {
                    verdict = Verdict::Skip(format!("{NOT_COMPILED}: {why}"));
                    break;
                }
                Err(e) => {
                    verdict =
                        Verdict::Fail(format!("{} could not run {}: {e}", run.who, call.func));
                    break;
                }
            };
            if let Some(rules) = &seen.rules {
                out.fired.push((self.test(line), rules.clone()));
            }
            if verdict == Verdict::Pass
                && let Some(want) = &call.expected
                && !outcome::denotes(want, &seen.outcome)
            {
                let mut why = format!(
                    "{}: expected `{want}`, {} gives `{}`",
                    call.func, run.who, seen.outcome
                );
                if self.cfg.explain && *self.engine == Engine::Spec {
                    why.push_str(&explain(l, &request));
                }
                verdict = Verdict::Fail(why);
            }
            if verdict == Verdict::Pass
                && run.trace
                && let Some(want) = &call.trace
            {
                verdict = trace_verdict(
                    want,
                    &render_trace(seen.trace.as_deref().unwrap_or_default()),
                );
            }
            seen_state.push(seen.globals);
            seen_threads.push(seen.threads);
        }
        if verdict == Verdict::Pass && call.trace.is_some() && !traced {
            verdict = skip("opted out of native traces");
        }
        let ran = !matches!(verdict, Verdict::Skip(_));
        out.push(self.test(line), self.engine, verdict);
        for (line, v) in client_lines {
            let v = if ran { v } else { skip("the call did not run") };
            out.push(self.test(line), self.engine, v);
        }
        for (i, a) in call.after.iter().enumerate() {
            let v = if !ran {
                skip("the call did not run")
            } else if observe.len() != call.after.len() {
                Verdict::Fail(format!("{} is not a global of the bundle", a.global))
            } else {
                // The state must hold on every run (the fast VM: without and with
                // GC stress alike).
                seen_state
                    .iter()
                    .map(|s| state_verdict(a, s.get(i).and_then(Option::as_ref)))
                    .find(|v| *v != Verdict::Pass)
                    .unwrap_or(Verdict::Pass)
            };
            out.push(self.test(a.line), self.engine, v);
        }
        for t in &call.threads {
            let v = if !ran {
                skip("the call did not run")
            } else {
                seen_threads
                    .iter()
                    .map(|ts| match ts.get(t.thread - 1) {
                        Some(o) if outcome::denotes(&t.expected, o) => Verdict::Pass,
                        Some(o) => Verdict::Fail(format!(
                            "thread {}: expected `{}`, got `{o}`",
                            t.thread, t.expected
                        )),
                        None => Verdict::Fail(format!(
                            "thread {}: the run made {} threads",
                            t.thread,
                            ts.len()
                        )),
                    })
                    .find(|v| *v != Verdict::Pass)
                    .unwrap_or(Verdict::Pass)
            };
            out.push(self.test(t.line), self.engine, v);
        }
    }

    fn on_impl(&self, cmd: &str, libs: &[PathBuf], out: &mut FileReport) {
        let en = self.engine.name();
        // The bundle as muni loads it, to read the answers' values at their types.
        let (typed, _) = self.load();
        // The bundle goes over in canonical text when it parses, as written otherwise.
        let parsed = spec_model::syntax::parse_file(0, self.text).ok();
        let text = match &parsed {
            Some((b, _)) => spec_model::syntax::print::print_bundle(b),
            None => self.text.to_string(),
        };
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => {
                out.fail(
                    self.test(self.section.line),
                    self.engine,
                    format!("no temporary folder: {e}"),
                );
                return;
            }
        };
        let file = dir.path().join("bundle.uir");
        if let Err(e) = std::fs::write(&file, &text) {
            out.fail(self.test(self.section.line), self.engine, e.to_string());
            return;
        }
        let lib_list = libs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        // Malformed and invalid bundles: the implementation must refuse them with
        // one of the expected codes (lines are muni's own business).
        let refusals: Vec<(usize, &str, &str)> = self
            .section
            .asserts
            .iter()
            .filter_map(|a| match &a.kind {
                AssertKind::Diagnostic { kind, code } if kind != "unsupported" => {
                    Some((a.line, kind.as_str(), code.as_str()))
                }
                _ => None,
            })
            .collect();
        for a in &self.section.asserts {
            if let AssertKind::Diagnostic { kind, .. } = &a.kind
                && kind == "unsupported"
            {
                let why = "`unsupported` is about muni's own subset".to_string();
                out.push(self.test(a.line), self.engine, Verdict::Skip(why));
            }
        }
        if !refusals.is_empty() {
            // An implementation reports its first problem: a malformed bundle never
            // reaches verification, so it must answer one of the malformed codes.
            let kind = if refusals.iter().any(|r| r.1 == "malformed") {
                "malformed"
            } else {
                "invalid"
            };
            let codes: Vec<String> = refusals
                .iter()
                .filter(|r| r.1 == kind)
                .map(|r| format!("{} {}", r.1, r.2))
                .collect();
            let answer = invoke(
                cmd,
                &file,
                None,
                &[],
                Budgets::default(),
                &lib_list,
                false,
                &[],
                &Client {
                    answers: Vec::new(),
                    dir: self.dir,
                },
            );
            let verdict = match &answer {
                Ok(a) if codes.contains(&a.outcome) => Verdict::Pass,
                Ok(a) => Verdict::Fail(format!(
                    "expected `{}`, the implementation gives `{}`",
                    codes.join("` or `"),
                    a.outcome
                )),
                Err(e) => Verdict::Fail(e.clone()),
            };
            for (line, k, _) in &refusals {
                let v = if *k == kind {
                    verdict.clone()
                } else {
                    Verdict::Skip("the bundle is malformed before it can be invalid".into())
                };
                out.push(self.test(*line), self.engine, v);
            }
        }
        for (line, call) in self.calls() {
            if call.assertion == "assert_ub" {
                self.skip_ub(line, call, out);
                continue;
            }
            let want_trace = call.trace.is_some() && !self.cfg.expectations.opted_out(en, "trace");
            let state = !self.cfg.expectations.opted_out(en, "state");
            let observe: Vec<String> = if state {
                call.after
                    .iter()
                    .map(|a| format!("{}{}", if a.deref { "*" } else { "" }, a.global))
                    .collect()
            } else {
                Vec::new()
            };
            let client = Client {
                answers: call.client.iter().map(|c| c.answer.clone()).collect(),
                dir: self.dir,
            };
            let answer = invoke(
                cmd,
                &file,
                Some(&call.func),
                &call.args,
                Budgets::from(call.budgets),
                &lib_list,
                want_trace,
                &observe,
                &client,
            );
            let a = match answer {
                Ok(a) => a,
                Err(e) => {
                    out.fail(self.test(line), self.engine, e);
                    for c in &call.client {
                        let why = Verdict::Skip("the call failed".into());
                        out.push(self.test(c.line), self.engine, why);
                    }
                    for a in &call.after {
                        out.push(
                            self.test(a.line),
                            self.engine,
                            Verdict::Skip("the call failed".into()),
                        );
                    }
                    continue;
                }
            };
            let mut verdict = Verdict::Pass;
            if let Some(want) = &call.expected
                && !answer_denotes(typed.as_ref(), &call.func, want, &a.outcome)
            {
                verdict = Verdict::Fail(format!(
                    "{}: expected `{want}`, the implementation gives `{}`",
                    call.func, a.outcome
                ));
            }
            if verdict == Verdict::Pass
                && let Some(want) = &call.trace
            {
                verdict = if want_trace {
                    trace_verdict(want, &a.trace)
                } else {
                    Verdict::Skip("opted out of native traces".into())
                };
            }
            out.push(self.test(line), self.engine, verdict);
            let mut traps = 0;
            for step in &call.client {
                if step.trap == "start" {
                    let why = "the protocol does not report how the start's actions went";
                    out.push(self.test(step.line), self.engine, Verdict::Skip(why.into()));
                    continue;
                }
                let i = traps;
                traps += 1;
                let v = match a.traps.get(i) {
                    Some(shown) if *shown == step.trap => Verdict::Pass,
                    Some(shown) => Verdict::Fail(format!(
                        "trap {}: expected `{}`, the implementation shows the client `{shown}`",
                        i + 1,
                        step.trap
                    )),
                    None => Verdict::Fail(format!(
                        "expected trap {} of the run at `{}`; the implementation reported {}",
                        i + 1,
                        step.trap,
                        a.traps.len()
                    )),
                };
                out.push(self.test(step.line), self.engine, v);
            }
            for t in &call.threads {
                let why = "the protocol does not report the outcomes of other threads";
                out.push(self.test(t.line), self.engine, Verdict::Skip(why.into()));
            }
            for after in &call.after {
                let v = if !state {
                    Verdict::Skip("opted out of state checks".into())
                } else {
                    let key = format!("{}{}", if after.deref { "*" } else { "" }, after.global);
                    match a.state.get(&key) {
                        Some(got) if state_denotes(typed.as_ref(), after, got) => Verdict::Pass,
                        Some(got) => Verdict::Fail(format!(
                            "{key}: expected `{}`, got `{got}`",
                            after.expected
                        )),
                        None => Verdict::Fail(format!("the implementation did not report {key}")),
                    }
                };
                out.push(self.test(after.line), self.engine, v);
            }
        }
    }
}

/// The engines a section's calls run on: the model; or the fast VM compiled with
/// fuel checks, without them, and with the native trace.
struct Builds<'l> {
    engines: Vec<Box<dyn spec_model::run::Engine + 'l>>,
}

/// One run of a call: on which build, how, and how verdicts name it.
struct PlannedRun {
    build: usize,
    gc_stress: bool,
    trace: bool,
    who: String,
}

impl<'l> Builds<'l> {
    fn new(
        engine: &Engine,
        l: &'l Loaded,
        bundles: &'l spec_model::Bundles<'l>,
        calls: &[(usize, &Call)],
    ) -> Result<Builds<'l>, String> {
        if *engine == Engine::Spec {
            return Ok(Builds {
                engines: vec![Box::new(Model::new(l))],
            });
        }
        // A section whose clients load bundles is compiled for a client.
        let client = for_a_client(&l.module, acting_clients(calls));
        let compile = |fuel_checks: bool, trace_native: bool| {
            let options = fast_vm::Options {
                fuel_checks,
                trace_native,
                client,
            };
            let p =
                fast_vm::Program::compile_with(&l.module, options).map_err(|e| e.to_string())?;
            p.set_bundles(Some(bundles));
            Ok::<Box<dyn spec_model::run::Engine + 'l>, String>(Box::new(p))
        };
        Ok(Builds {
            engines: vec![
                compile(true, false)?,
                compile(false, false)?,
                compile(true, true)?,
            ],
        })
    }

    fn engine(&mut self, build: usize) -> &mut dyn spec_model::run::Engine {
        &mut *self.engines[build]
    }

    /// The runs `call` needs: the model's one, recording the trace when the call
    /// checks it; the fast VM's without and with GC stress, with fuel checks only
    /// where the run needs them, and a traced run when the call checks the trace.
    fn runs(&self, call: &Call, traced: bool) -> Vec<PlannedRun> {
        let run = |build, gc_stress, trace, who: &str| PlannedRun {
            build,
            gc_stress,
            trace,
            who: who.to_string(),
        };
        if self.engines.len() == 1 {
            return vec![run(0, false, traced, "the model")];
        }
        let budgets = Budgets::from(call.budgets);
        let with_fuel = budgets.fuel != Budgets::default().fuel
            || call.expected.as_deref() == Some("exhausted fuel");
        let build = if with_fuel { 0 } else { 1 };
        let mut runs = vec![
            run(build, false, false, "the fast VM"),
            run(build, true, false, "the fast VM with --gc-stress"),
        ];
        if traced {
            runs.push(run(2, false, true, "the fast VM traced"));
        }
        runs
    }
}

/// Whether an outside implementation's outcome line `got` is the outcome `want`
/// names: a `return` line read at the function's result types and compared as
/// values (§11.0), any other line word by word.
fn answer_denotes(l: Option<&Loaded>, func: &str, want: &str, got: &str) -> bool {
    if let Some(l) = l
        && let Some(f) = l.module.func(func)
    {
        let types = &l.module.types;
        let rets = &types.sig(l.module.funcs[f as usize].sig).rets;
        if let Some(o) = outcome::read_return(types, rets, got) {
            return outcome::denotes(want, &o);
        }
    }
    want.split_whitespace().eq(got.split_whitespace())
}

/// Whether an outside implementation's `after:` value `got` is the one `a`
/// expects: read at the cell's type (or the referent's, for `->`) and compared
/// as a value, or as text when it cannot be read so.
fn state_denotes(l: Option<&Loaded>, a: &script::After, got: &str) -> bool {
    let typed = l.and_then(|l| {
        let m = &l.module;
        let g = m
            .globals
            .iter()
            .find(|g| same_name(g.name.as_str(), &a.global))?;
        let ty = match (a.deref, m.types.get(g.ty)) {
            (false, _) => g.ty,
            (true, spec_model::ir::Type::Ref(t)) => *t,
            (true, _) => return None,
        };
        outcome::read_value(&m.types, ty, got)
    });
    match typed {
        Some(v) => outcome::value_denotes(&a.expected, &v, &mut outcome::Renamer::default()),
        None => a.expected.split_whitespace().eq(got.split_whitespace()),
    }
}

fn same_name(stored: &str, wanted: &str) -> bool {
    stored.trim_start_matches('@') == wanted.trim_start_matches('@')
}

fn trace_verdict(want: &[String], got: &[String]) -> Verdict {
    if want == got {
        Verdict::Pass
    } else {
        Verdict::Fail(format!(
            "native traces differ\n  expected: {}\n  got:      {}",
            want.join("\n            "),
            got.join("\n            ")
        ))
    }
}

fn state_verdict(a: &script::After, seen: Option<&spec_model::outcome::OutValue>) -> Verdict {
    let arrow = if a.deref { "->" } else { "==" };
    match seen {
        None if a.expected == "none" => Verdict::Pass,
        None => Verdict::Fail(format!("{} refers to no object", a.global)),
        Some(v) => {
            let got = outcome::render_value(v);
            if outcome::value_denotes(&a.expected, v, &mut outcome::Renamer::default()) {
                Verdict::Pass
            } else {
                Verdict::Fail(format!(
                    "after: {} {arrow} expected `{}`, got `{got}`",
                    a.global, a.expected
                ))
            }
        }
    }
}

/// The last rules the model applied before the outcome, for a spec author asking
/// why an assertion changed.
fn explain(l: &Loaded, request: &Request<'_>) -> String {
    const LAST: usize = 8;
    let mut steps: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let _ = Model::new(l).run_stepping(request, |rule, span| {
        let text = span.map(|s| l.snippet(s)).unwrap_or_default();
        steps.push_back(format!("{:<24} {}", rule.id(), text.trim()));
        if steps.len() > LAST {
            steps.pop_front();
        }
    });
    let mut s = String::from("\n  the model's last steps:");
    for line in steps {
        s.push_str("\n    ");
        s.push_str(&line);
    }
    s
}

/// What an outside implementation answered.
#[derive(Debug, Default)]
struct Answer {
    outcome: String,
    trace: Vec<String>,
    state: HashMap<String, String>,
    /// The traps the implementation's client was shown (`> TRAP` lines).
    traps: Vec<String>,
}

/// A call's client, as the protocol passes it (`MUNI_CLIENT`, `MUNI_CLIENT_DIR`).
struct Client<'a> {
    /// Each client line's answer with its actions, in order.
    answers: Vec<String>,
    /// Where the bundle files they load are.
    dir: &'a Path,
}

/// Runs the implementation once (spec/07-corpus.md, "The implementation protocol").
#[allow(clippy::too_many_arguments)]
fn invoke(
    cmd: &str,
    bundle: &Path,
    func: Option<&str>,
    args: &[String],
    budgets: Budgets,
    libs: &str,
    trace: bool,
    observe: &[String],
    client: &Client<'_>,
) -> Result<Answer, String> {
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg(format!("{cmd} \"$@\""))
        .arg("muni-impl")
        .arg(bundle);
    if let Some(f) = func {
        c.arg(f).args(args);
    }
    c.env("MUNI_FUEL", budgets.fuel.to_string())
        .env("MUNI_ALLOC", budgets.alloc.to_string())
        .env("MUNI_STACK", budgets.stack.to_string())
        .env("MUNI_LIBS", libs)
        .env("MUNI_TRACE", if trace { "1" } else { "0" })
        .env("MUNI_OBSERVE", observe.join(" "))
        .env("MUNI_CLIENT", client.answers.join("\n"))
        .env("MUNI_CLIENT_DIR", client.dir)
        .stdin(std::process::Stdio::null());
    let o = c
        .output()
        .map_err(|e| format!("cannot start `{cmd}`: {e}"))?;
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    let Some(last) = lines.last() else {
        let how = match o.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "killed by a signal".to_string(),
        };
        let err = String::from_utf8_lossy(&o.stderr);
        return Err(format!(
            "the implementation printed no outcome ({how}){}",
            err.lines()
                .last()
                .map(|l| format!(": {l}"))
                .unwrap_or_default()
        ));
    };
    let mut a = Answer {
        outcome: last.trim().to_string(),
        ..Answer::default()
    };
    for l in &lines[..lines.len() - 1] {
        if let Some(ev) = l.strip_prefix('|') {
            a.trace.push(ev.trim().to_string());
        } else if let Some(t) = l.strip_prefix("> ") {
            a.traps.push(t.trim().to_string());
        } else if let Some(rest) = l.strip_prefix("after:") {
            let rest = rest.trim();
            let (key, v) = if let Some((g, v)) = rest.split_once("->") {
                (format!("*{}", g.trim()), v)
            } else if let Some((g, v)) = rest.split_once("==") {
                (g.trim().to_string(), v)
            } else {
                continue;
            };
            a.state.insert(key, v.trim().to_string());
        }
    }
    Ok(a)
}

/// Builds each C source with gcc into a shared library (cached across runs by
/// [`spec_model::clib`], looked up once per process).
pub fn build_clibs(dir: &Path, sources: &[String]) -> Result<Vec<PathBuf>, String> {
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let mut libs = Vec::new();
    for s in sources {
        let src = dir.join(s);
        let src = src
            .canonicalize()
            .map_err(|e| format!("C library {}: {e}", src.display()))?;
        let mut built = BUILT
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .map_err(|_| "the C library cache is poisoned".to_string())?;
        if let Some(l) = built.get(&src) {
            libs.push(l.clone());
            continue;
        }
        let text = std::fs::read_to_string(&src)
            .map_err(|e| format!("C library {}: {e}", src.display()))?;
        let stem = src.file_stem().and_then(|s| s.to_str()).unwrap_or("lib");
        let lib =
            spec_model::clib::build(stem, &text).map_err(|e| format!("{}: {e}", src.display()))?;
        built.insert(src, lib.clone());
        libs.push(lib);
    }
    Ok(libs)
}

/// Totals over a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Assertions that held.
    pub passed: usize,
    /// Assertions that did not.
    pub failed: usize,
    /// Failures the expectations file lists.
    pub expected_failures: usize,
    /// Assertions not run, by reason.
    pub skipped: HashMap<String, usize>,
}

impl Totals {
    /// Adds a file's judgements.
    pub fn add(&mut self, r: &FileReport) {
        for c in &r.checked {
            match &c.verdict {
                Verdict::Pass => self.passed += 1,
                Verdict::Fail(_) => self.failed += 1,
                Verdict::ExpectedFail(_) => self.expected_failures += 1,
                Verdict::Skip(why) => {
                    // Group reasons by their first clause.
                    let key = why.split(':').next().unwrap_or(why).to_string();
                    *self.skipped.entry(key).or_default() += 1;
                }
            }
        }
    }
}

/// How often each rule fired in a set of reports, and which tests fire it.
pub fn coverage(reports: &[FileReport]) -> Vec<(RuleId, u64, Vec<String>)> {
    RuleId::ALL
        .iter()
        .map(|r| {
            let mut n = 0;
            let mut tests = Vec::new();
            for (t, counts) in reports.iter().flat_map(|r| &r.fired) {
                let c = counts.get(*r as usize).copied().unwrap_or(0);
                if c > 0 {
                    n += c;
                    tests.push(t.clone());
                }
            }
            (*r, n, tests)
        })
        .collect()
}

/// The scripts under each path (folders searched in name order).
pub fn script_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            script_files(&e, out);
        }
    } else if path.extension().is_some_and(|e| e == "uir") {
        out.push(path.to_path_buf());
    }
}

/// The corpus root of a path: the nearest folder at or above it that holds
/// `expectations.toml`, else the path itself (or its folder).
pub fn corpus_root(path: &Path) -> PathBuf {
    let start = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    };
    let mut p = start.clone();
    loop {
        if p.join("expectations.toml").exists() {
            return p;
        }
        if !p.pop() || p.as_os_str().is_empty() {
            return start;
        }
    }
}

/// A script's name in reports: its path relative to `root`.
pub fn test_name(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The client's answer written in a script (`resume V…`, `throw V`, `exit`,
/// `stop`; a value is a Mu literal or `$N`, the trap's N-th KEEPALIVE value).
pub fn client_answer(text: &str) -> Result<TrapAnswer, String> {
    client_step(text).map(|(_, a)| a)
}

/// What a client line does before it answers, as written: `load FILE`,
/// `pop N`, `push @f`, separated by `;` before the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Load the bundle in this file (next to the script).
    Load(String),
    /// Pop the frames above the one this many below the top.
    Pop(usize),
    /// Push a frame of this function's newest version.
    Push(String),
    /// Make a stack for this function and a thread on it passing these values
    /// (`new_stack`, `new_thread`).
    Thread(String, Vec<ClientValue>),
    /// Enable the watchpoints of this ID.
    Enable(u64),
    /// Disable them.
    Disable(u64),
}

/// A client line's actions and answer (`load f.uir; pop 1; push @g; resume $0`).
pub fn client_step(text: &str) -> Result<(Vec<Action>, TrapAnswer), String> {
    let mut parts: Vec<&str> = text.split(';').map(str::trim).collect();
    let text = parts.pop().unwrap_or("");
    let value = |w: &str| -> Result<ClientValue, String> {
        if let Some(n) = w.strip_prefix('$') {
            return n
                .parse()
                .map(ClientValue::Kept)
                .map_err(|_| format!("`{w}` is not `$N`"));
        }
        use spec_model::syntax::ConstCtor as C;
        match spec_model::parse_literal(w)? {
            C::Int(i) => Ok(ClientValue::Int(i as u64)),
            C::Float(b) => Ok(ClientValue::Float(b)),
            C::Double(b) => Ok(ClientValue::Double(b)),
            C::Null => Ok(ClientValue::Null),
            _ => Err(format!("`{w}` is not a value a client passes")),
        }
    };
    let mut actions = Vec::new();
    for p in parts {
        let (word, arg) = p.split_once(' ').unwrap_or((p, ""));
        let arg = arg.trim();
        actions.push(match word {
            "load" if !arg.is_empty() => Action::Load(arg.to_string()),
            "pop" => Action::Pop(
                arg.parse()
                    .map_err(|_| format!("`{p}`: pop takes a number of frames"))?,
            ),
            "push" if arg.starts_with('@') => Action::Push(arg.to_string()),
            "enable" | "disable" => {
                let w = arg
                    .parse()
                    .map_err(|_| format!("`{p}`: {word} takes a watchpoint ID"))?;
                if word == "enable" {
                    Action::Enable(w)
                } else {
                    Action::Disable(w)
                }
            }
            "thread" if arg.starts_with('@') => {
                let mut ws = arg.split_whitespace();
                let f = ws.next().unwrap_or_default().to_string();
                Action::Thread(f, ws.map(value).collect::<Result<_, _>>()?)
            }
            _ => {
                return Err(format!(
                    "`{p}` is not load FILE, pop N, push @f, thread @f V…, enable N or disable N"
                ));
            }
        });
    }
    let mut words = text.split_whitespace();
    let answer = match words.next() {
        Some("resume") => TrapAnswer::Resume(words.by_ref().map(value).collect::<Result<_, _>>()?),
        Some("throw") => {
            let v = words.next().ok_or("`throw` takes the value thrown")?;
            TrapAnswer::Throw(value(v)?)
        }
        Some("exit") => TrapAnswer::ExitThread,
        Some("stop") => TrapAnswer::Stop,
        _ => return Err(format!("`{text}` is not resume, throw, exit or stop")),
    };
    if words.next().is_some() {
        return Err(format!("`{text}` has more than its answer"));
    }
    Ok((actions, answer))
}

/// The scripted client of a call (`None` without `// >` lines); the bundle files
/// its lines load are read from `dir` (one that cannot be read fails to load).
fn scripted(call: &Call, dir: &Path) -> Option<Scripted> {
    if call.client.is_empty() {
        return None;
    }
    let answers: Vec<String> = call.client.iter().map(|c| c.answer.clone()).collect();
    Some(scripted_from(&answers, dir))
}

/// The client that gives `answers` (client lines' answers with their actions) in
/// order, loading bundle files from `dir`.
pub fn scripted_from(answers: &[String], dir: &Path) -> Scripted {
    let mut client = Scripted::default();
    for text in answers {
        let (actions, start) = match start_step(text) {
            Some(actions) => (actions.unwrap_or_default(), true),
            None => {
                let (actions, answer) = client_step(text).unwrap_or((Vec::new(), TrapAnswer::Stop));
                client.answers.push(answer);
                (actions, false)
            }
        };
        let actions: Vec<ScriptAction> = actions
            .into_iter()
            .map(|a| match a {
                Action::Load(f) => {
                    let text = std::fs::read_to_string(dir.join(&f)).unwrap_or_else(|e| {
                        // Not a bundle: loading it fails with the parser's error.
                        format!("// cannot read {f}: {e}\n!")
                    });
                    ScriptAction::Load(f, text)
                }
                Action::Pop(n) => ScriptAction::Pop(n),
                Action::Push(f) => ScriptAction::Push(f),
                Action::Thread(f, vs) => ScriptAction::Thread(f, vs),
                Action::Enable(w) => ScriptAction::Enable(w),
                Action::Disable(w) => ScriptAction::Disable(w),
            })
            .collect();
        if start {
            client.start = actions;
        } else {
            client.actions.push(actions);
        }
    }
    client
}

/// A start line's actions (`// > start => ACTIONS; go`, spec/11 §11.9): what the
/// client does as the run starts. `None`: the answer is not a start's.
pub fn start_step(text: &str) -> Option<Result<Vec<Action>, String>> {
    let (head, last) = text.rsplit_once(';').unwrap_or(("", text));
    if last.trim() != "go" {
        return None;
    }
    if head.trim().is_empty() {
        return Some(Ok(Vec::new()));
    }
    Some(client_step(&format!("{head}; resume")).map(|(a, _)| a))
}

/// How a client line names the trap it was shown: `@f.v1.b.t V…`, the trap's
/// name and keep-alive values as an outcome line shows them.
pub fn shown_trap(e: &spec_model::client::TrapEvent) -> String {
    let line = spec_model::Outcome::ClientTrap {
        name: e.name.trim_start_matches('@').to_string(),
        values: e.keepalive.clone(),
    }
    .to_string();
    line.trim_start_matches("client_trap ").to_string()
}

/// Whether a section's calls have client scripts that act before answering
/// (their programs are compiled for a client).
fn acting_clients(calls: &[(usize, &Call)]) -> bool {
    calls
        .iter()
        .any(|(_, c)| c.client.iter().any(|s| acts(&s.answer)))
}

/// Whether a client line's answer acts (loads, pops, pushes, makes threads,
/// switches watchpoints) before it answers, a start line's included.
pub fn acts(answer: &str) -> bool {
    match start_step(answer) {
        Some(actions) => actions.is_ok_and(|a| !a.is_empty()),
        None => client_step(answer).is_ok_and(|(a, _)| !a.is_empty()),
    }
}

/// Whether the fast VM compiles `module` for a client that gives `answers`: when
/// the client acts (loads, pops, pushes), or when a function has no version (a
/// call of it traps to the client).
pub fn for_a_client(module: &spec_model::ir::Module, acting: bool) -> bool {
    acting
        || module
            .funcs
            .iter()
            .any(|f| f.body.is_none() && f.unsupported.is_none())
}

/// Each client line's verdict: the trap it answered was the one it names, with
/// those KEEPALIVE values (objects up to a renaming within the line).
fn client_verdicts(call: &Call, client: &Scripted, who: &str) -> Vec<(usize, Verdict)> {
    let seen = client.seen();
    let errors = client.errors();
    // A start line holds if its actions did; the trap lines count the traps.
    let start = call.client.first().filter(|s| s.trap == "start").map(|s| {
        let v = match errors.iter().find(|(k, _)| *k == Scripted::START) {
            Some((_, e)) => Verdict::Fail(format!("start: {who} refused the client: {e}")),
            None => Verdict::Pass,
        };
        (s.line, v)
    });
    let traps = &call.client[usize::from(start.is_some())..];
    start
        .into_iter()
        .chain(traps.iter().enumerate().map(|(i, step)| {
            if let Some((_, e)) = errors.iter().find(|(k, _)| *k == i) {
                let why = format!("trap {}: {who} could not load the bundle: {e}", i + 1);
                return (step.line, Verdict::Fail(why));
            }
            let v = match seen.get(i) {
                None => Verdict::Fail(format!(
                    "expected trap {} of the run at `{}`; {who} trapped {} times",
                    i + 1,
                    step.trap,
                    seen.len()
                )),
                Some(e) => {
                    let shown = shown_trap(e);
                    let trap = spec_model::Outcome::ClientTrap {
                        name: e.name.clone(),
                        values: e.keepalive.clone(),
                    };
                    if outcome::denotes(&format!("client_trap {}", step.trap), &trap) {
                        Verdict::Pass
                    } else {
                        Verdict::Fail(format!(
                            "trap {}: expected `{}`, {who} shows the client `{shown}`",
                            i + 1,
                            step.trap
                        ))
                    }
                }
            };
            (step.line, v)
        }))
        .collect()
}
