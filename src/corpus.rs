//! Corpus files (spec/07-corpus.md): Mu IR bundles whose expected outcomes are
//! written in comments, next to what they check.
//!
//! - `// run: @f(ARGS) == OUTCOME` runs `@f` with literal arguments and expects the
//!   outcome line exactly; budgets may follow the call: `@f() [fuel=100 stack=8] == exhausted fuel`.
//! - `//~ KIND CODE` at the end of a line expects a diagnostic of that kind
//!   (`malformed`, `invalid`, `unsupported`) and code on that line. Every diagnostic
//!   must be expected and every expectation met, so forgotten annotations fail.

use spec_model::{Budgets, load};
use std::fmt::Write;

/// One `// run:` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDirective {
    /// Line number (1-based).
    pub line: usize,
    /// Function name with `@`.
    pub func: String,
    /// Argument literals.
    pub args: Vec<String>,
    /// Budgets for this run.
    pub budgets: Budgets,
    /// The expected outcome line.
    pub expect: String,
}

/// One `//~` annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagDirective {
    /// Line number (1-based).
    pub line: usize,
    /// `malformed`, `invalid` or `unsupported`.
    pub kind: String,
    /// The code.
    pub code: String,
}

/// The directives of a corpus file.
#[derive(Clone, Debug, Default)]
pub struct Directives {
    /// Runs and their expected outcomes.
    pub runs: Vec<RunDirective>,
    /// Expected diagnostics.
    pub diags: Vec<DiagDirective>,
}

/// Reads the directives of a corpus file.
pub fn parse_directives(text: &str) -> Result<Directives, String> {
    let mut d = Directives::default();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if let Some(rest) = l.trim_start().strip_prefix("// run:") {
            d.runs
                .push(parse_run(line, rest).map_err(|e| format!("line {line}: {e}"))?);
        }
        if let Some(pos) = l.find("//~") {
            let mut w = l[pos + 3..].split_whitespace();
            let (Some(kind), Some(code)) = (w.next(), w.next()) else {
                return Err(format!("line {line}: `//~` needs a kind and a code"));
            };
            d.diags.push(DiagDirective {
                line,
                kind: kind.into(),
                code: code.into(),
            });
        }
    }
    Ok(d)
}

fn parse_run(line: usize, s: &str) -> Result<RunDirective, String> {
    let (call, expect) = s.split_once("==").ok_or("a run needs `== OUTCOME`")?;
    let call = call.trim();
    let open = call.find('(').ok_or("a run calls `@f(ARGS)`")?;
    let close = call.rfind(')').ok_or("a run calls `@f(ARGS)`")?;
    let func = call[..open].trim().to_string();
    let args = call[open + 1..close]
        .split_whitespace()
        .map(String::from)
        .collect();
    let mut budgets = Budgets::default();
    let opts = call[close + 1..].trim();
    if let Some(opts) = opts.strip_prefix('[').and_then(|o| o.strip_suffix(']')) {
        for kv in opts.split_whitespace() {
            let (k, v) = kv.split_once('=').ok_or("budgets are `name=value`")?;
            let n: u64 = v.parse().map_err(|_| format!("`{v}` is not a number"))?;
            match k {
                "fuel" => budgets.fuel = n,
                "alloc" => budgets.alloc = n,
                "stack" => {
                    budgets.stack = u32::try_from(n).map_err(|_| "stack budget too large")?
                }
                _ => return Err(format!("unknown budget `{k}`")),
            }
        }
    } else if !opts.is_empty() {
        return Err(format!("unexpected `{opts}` after the call"));
    }
    Ok(RunDirective {
        line,
        func,
        args,
        budgets,
        expect: expect.trim().to_string(),
    })
}

/// Runs one corpus file on the model. `Ok` with how often each rule fired
/// (indexed by `RuleId as usize`) if every expectation holds; otherwise a report of
/// what differed.
pub fn check_file(name: &str, text: &str) -> Result<Vec<u64>, String> {
    let mut fired = vec![0u64; spec_model::RuleId::ALL.len()];
    let d = parse_directives(text)?;
    if d.runs.is_empty() && d.diags.is_empty() {
        return Err(format!("{name} has no `// run:` or `//~` directive"));
    }
    let mut report = String::new();
    let (loaded, found) = match load(&[(name, text)]) {
        Ok(l) => {
            let found = l.unsupported.clone();
            (Some(l), found)
        }
        Err(e) => (None, e.diags.clone()),
    };
    let sources = {
        let mut s = spec_model::syntax::SourceMap::new();
        s.add(name, text);
        s
    };
    let mut found: Vec<(usize, String, String)> = found
        .iter()
        .map(|g| {
            (
                sources.line_col(g.span).0,
                g.severity.word().to_string(),
                g.code.to_string(),
            )
        })
        .collect();
    for e in &d.diags {
        match found
            .iter()
            .position(|f| f.0 == e.line && f.1 == e.kind && f.2 == e.code)
        {
            Some(i) => {
                found.remove(i);
            }
            None => {
                let _ = writeln!(
                    report,
                    "{name}:{}: expected `{} {}`, not reported",
                    e.line, e.kind, e.code
                );
            }
        }
    }
    for (line, kind, code) in &found {
        let _ = writeln!(report, "{name}:{line}: unexpected `{kind} {code}`");
    }
    if let Some(l) = &loaded {
        for r in &d.runs {
            let args: Vec<&str> = r.args.iter().map(String::as_str).collect();
            let got = match l.run_counting(&r.func, &args, r.budgets) {
                Ok((o, counts)) => {
                    for (f, c) in fired.iter_mut().zip(counts) {
                        *f += c;
                    }
                    o.to_string()
                }
                Err(e) => format!("error: {e}"),
            };
            if got != r.expect {
                let _ = writeln!(
                    report,
                    "{name}:{}: {}: expected `{}`, got `{got}`",
                    r.line, r.func, r.expect
                );
            }
        }
    } else if !d.runs.is_empty() {
        let _ = writeln!(
            report,
            "{name}: the bundle does not load, so its runs cannot happen"
        );
    }
    if report.is_empty() {
        Ok(fired)
    } else {
        Err(report)
    }
}

/// How a corpus file fared on the fast VM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FastStats {
    /// Runs whose outcome matched.
    pub passed: usize,
    /// Runs skipped: expected `ub` (the model alone promises to detect it), or
    /// reaching what the fast VM does not compile yet.
    pub skipped: usize,
    /// Runs whose native trace (CCALLs, callbacks, pins) matched the model's.
    pub traces: usize,
}

/// Runs a corpus file's `// run:` lines on the fast VM. `Err` lists the runs whose
/// outcome differs from the expected one.
pub fn check_file_fast(name: &str, text: &str) -> Result<FastStats, String> {
    let d = parse_directives(text)?;
    let mut stats = FastStats::default();
    let Ok(l) = load(&[(name, text)]) else {
        return Ok(stats);
    };
    let mut report = String::new();
    let programs: Vec<(bool, fast_vm::Program<'_>)> = [true, false]
        .into_iter()
        .map(|fuel| fast_vm::Program::compile(&l.module, fuel).map(|p| (fuel, p)))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{name}: {e}"))?;
    let options = fast_vm::Options {
        fuel_checks: true,
        trace_native: true,
    };
    let traced =
        fast_vm::Program::compile_with(&l.module, options).map_err(|e| format!("{name}: {e}"))?;
    for r in &d.runs {
        if r.expect.starts_with("ub ") {
            stats.skipped += 1;
            continue;
        }
        let args: Vec<&str> = r.args.iter().map(String::as_str).collect();
        let (f, argv) = match l
            .func(&r.func)
            .and_then(|f| l.args(f, &args).map(|a| (f, a)))
        {
            Ok(x) => x,
            Err(e) => {
                let _ = writeln!(report, "{name}:{}: {e}", r.line);
                continue;
            }
        };
        let with_fuel = r.budgets.fuel != Budgets::default().fuel || r.expect == "exhausted fuel";
        let program = &programs
            .iter()
            .find(|(fuel, _)| *fuel == with_fuel)
            .expect("both compiled")
            .1;
        // Without and with GC stress (a collection, moving every unpinned object, at
        // every allocation): the outcome must not change.
        for stress in [false, true] {
            let mode = if stress { " with --gc-stress" } else { "" };
            match program.run_with(f, &argv, r.budgets, stress) {
                Ok((o, _)) if o.to_string() == r.expect => stats.passed += 1,
                Ok((o, _)) => {
                    let _ = writeln!(
                        report,
                        "{name}:{}: {}: expected `{}`, the fast VM{mode} gives `{o}`",
                        r.line, r.func, r.expect
                    );
                }
                Err(fast_vm::FastError::Unsupported(_)) => stats.skipped += 1,
                Err(e) => {
                    let _ = writeln!(report, "{name}:{}: {}{mode}: {e}", r.line, r.func);
                }
            }
        }
        // The native trace is part of the outcome: the same events in the same order.
        let mut m = l.machine(r.budgets);
        m.trace = Some(Vec::new());
        let model = match m.start(f, argv.clone()) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => m.run().map(|_| ()),
            Err(e) => Err(e),
        };
        let want = spec_model::outcome::render_trace(m.trace.as_deref().unwrap_or_default());
        match (model, traced.run_traced(f, &argv, r.budgets, false)) {
            (Ok(()), Ok((_, events))) => {
                let got = spec_model::outcome::render_trace(&events);
                if got == want {
                    stats.traces += 1;
                } else {
                    let _ = writeln!(
                        report,
                        "{name}:{}: {}: native traces differ\n  model:   {}\n  fast VM: {}",
                        r.line,
                        r.func,
                        want.join("\n           "),
                        got.join("\n           ")
                    );
                }
            }
            (Err(e), _) => {
                let _ = writeln!(report, "{name}:{}: {}: model: {e}", r.line, r.func);
            }
            (_, Err(fast_vm::FastError::Unsupported(_))) => {}
            (_, Err(e)) => {
                let _ = writeln!(report, "{name}:{}: {} traced: {e}", r.line, r.func);
            }
        }
    }
    if report.is_empty() {
        Ok(stats)
    } else {
        Err(report)
    }
}
