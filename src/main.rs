//! `muni`: check, run and trace Mu IR bundles; run the conformance suite.

use clap::{Args, Parser, Subcommand};
mod difftest_cli;

use muni::conform;
use spec_model::{Budgets, LoadError, Loaded, ModelError, Outcome, load};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A difftest check allocates and frees small blocks at a high rate (Cranelift's
/// per-function data, the model's values and frames): with glibc's malloc that was
/// a sixth of a run's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Executable semantics of the Mu micro-VM's native interface.
#[derive(Parser, Debug)]
#[command(name = "muni", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and verify a bundle (one or more files, in order).
    Check {
        /// The bundle's files.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Run a function and print its outcome line.
    Run(RunArgs),
    /// Run a function, printing one line per step: the rule applied and the instruction.
    Trace(RunArgs),
    /// Print the native layout of a type (size, alignment, field offsets, SysV
    /// classification), or the SysV lowering of a call with a signature.
    Layout {
        /// The bundle's files.
        #[arg(required = true)]
        files: Vec<String>,
        /// The type (e.g. `@Point`).
        #[arg(long = "type", value_name = "@T", required_unless_present = "sig")]
        ty: Option<String>,
        /// A signature: where each argument and the result go.
        #[arg(long, value_name = "@S")]
        sig: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run conformance scripts (default: corpus/) and judge every assertion; prints
    /// `N passed, N failed` last.
    Conform(ConformArgs),
    /// List each spec rule with the corpus tests that fire it; fails if a rule has
    /// none.
    Coverage {
        /// Scripts or folders (default: corpus/).
        paths: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also run this many generated programs (difftest's generator, seed 1) on
        /// the model and show how often each rule fires in them.
        #[arg(long, value_name = "N")]
        generated: Option<u64>,
    },
    /// Generate programs, run each on the model and the fast VM, and compare
    /// outcomes, final globals and native traces; exit 1 on any divergence.
    Difftest(difftest_cli::Settings),
    /// Shrink a program on which the engines disagree, keeping the disagreement.
    Reduce {
        /// The program (a reproducer difftest wrote, or any bundle).
        case: String,
        /// The function to call (default: the reproducer's assertion).
        #[arg(long = "fn")]
        func: Option<String>,
        /// Its arguments.
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        /// Also compare with GC stress.
        #[arg(long)]
        gc_stress: bool,
        /// The seed of the campaign the case came from (its random C library).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Answer one request of the conformance protocol (spec/07-corpus.md) with a
    /// muni engine: what `muni conform --impl` expects of an implementation.
    Impl {
        /// The engine that answers.
        #[arg(long, default_value = "spec", value_parser = ["spec", "fast"])]
        engine: String,
        /// The bundle.
        bundle: String,
        /// The function to call (none: only load the bundle).
        func: Option<String>,
        /// Its arguments, as Mu literals (everything after FUNC, `-0.0d` included).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Args, Debug)]
struct ConformArgs {
    /// Scripts or folders of scripts (default: corpus/).
    paths: Vec<String>,
    /// The engine: `spec`, `fast` or `both`.
    #[arg(long, default_value = "spec", value_parser = ["spec", "fast", "both"])]
    engine: String,
    /// Judge an outside implementation instead: a shell command that speaks the
    /// protocol of spec/07-corpus.md.
    #[arg(long = "impl", value_name = "COMMAND")]
    implementation: Option<String>,
    /// Run each script in a child process, so that a crash is a failed test.
    #[arg(long)]
    isolate: bool,
    /// The expectations file (default: expectations.toml of the corpus root).
    #[arg(long, value_name = "FILE")]
    expect: Option<String>,
    /// On a failed model run, show the last rules the model applied.
    #[arg(long)]
    explain: bool,
    /// Write the JSON twin of every script into DIR (mirroring the corpus) and stop.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "target/conform-json")]
    emit_json: Option<String>,
    /// Print every judgement as a JSON line, then the totals as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The bundle's file (repeat `--with FILE` for more files loaded before it).
    file: String,
    /// Arguments for the function's parameters, as Mu literals (`42`, `1.5d`, `NULL`).
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// Files loaded before FILE, e.g. shared type definitions.
    #[arg(long = "with", value_name = "FILE")]
    with: Vec<String>,
    /// The engine: `spec`, the reference model, or `fast`, the Cranelift JIT.
    #[arg(long, default_value = "spec", value_parser = ["spec", "fast"])]
    engine: String,
    /// The function to call.
    #[arg(long = "fn", default_value = "@main")]
    func: String,
    /// Fuel: instructions the run may execute.
    #[arg(long, default_value_t = Budgets::default().fuel)]
    fuel: u64,
    /// Bytes the run may allocate.
    #[arg(long, default_value_t = Budgets::default().alloc)]
    alloc: u64,
    /// Mu frames the stack may hold.
    #[arg(long, default_value_t = Budgets::default().stack)]
    stack: u32,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
    /// Shared libraries whose symbols EXTERN constants may name (dlopen'ed first).
    #[arg(long = "lib", value_name = "PATH.so")]
    libs: Vec<String>,
    /// Print the native trace (CCALLs, callbacks, pins, unpins) before the outcome.
    #[arg(long)]
    trace_native: bool,
    /// With --engine fast: collect at every allocation, moving every unpinned object.
    #[arg(long)]
    gc_stress: bool,
    /// With --engine fast: compile without fuel checks (the run then has no fuel
    /// budget), as for runs that need none.
    #[arg(long)]
    no_fuel_checks: bool,
}

fn read_files(names: &[String]) -> Result<Vec<(String, String)>, String> {
    names
        .iter()
        .map(|n| {
            std::fs::read_to_string(n)
                .map(|t| (n.clone(), t))
                .map_err(|e| format!("muni: cannot read {n}: {e}"))
        })
        .collect()
}

fn load_files(names: &[String]) -> Result<Loaded, Result<LoadError, String>> {
    let files = read_files(names).map_err(Err)?;
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    load(&refs).map_err(Ok)
}

fn report_load_error(e: Result<LoadError, String>, json: bool) -> ExitCode {
    match e {
        Ok(e) => {
            eprint!("{}", e.render());
            if json {
                let d = &e.diags[0];
                let v = serde_json::json!({
                    "kind": d.severity.word(), "detail": d.code,
                    "location": d.location(&e.sources), "line": e.outcome(),
                });
                println!("{v}");
            } else {
                println!("{}", e.outcome());
            }
        }
        Err(msg) => eprintln!("{msg}"),
    }
    ExitCode::FAILURE
}

fn print_outcome(o: &Outcome, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string(&o.to_json()).unwrap_or_default()
        );
    } else {
        println!("{o}");
    }
}

/// The end of a fast-VM run that a fatal signal stopped:
/// `crash SIGSEGV at @f+0x1c (address 0x8)`.
fn print_crash(c: &fast_vm::crash::Crash, at: &str, json: bool) {
    let addr = c.has_address().then(|| format!("{:#x}", c.addr));
    if json {
        let v = serde_json::json!({
            "kind": "crash", "signal": c.signal_name(), "at": at, "address": addr,
        });
        println!("{v}");
    } else {
        let addr = addr.map(|a| format!(" (address {a})")).unwrap_or_default();
        println!("crash {} at {at}{addr}", c.signal_name());
    }
}

fn model_error(e: ModelError) -> ExitCode {
    match &e {
        ModelError::Unsupported { code, message } => {
            eprintln!("muni: {message}");
            println!("unsupported {code}");
        }
        ModelError::Usage(s) => eprintln!("muni: {s}"),
        ModelError::Bug(s) => {
            eprintln!("muni: internal error (a bug in muni, please report it): {s}")
        }
    }
    ExitCode::from(2)
}

fn run(a: &RunArgs, trace: bool) -> ExitCode {
    for lib in &a.libs {
        if let Err(e) = spec_model::load_library(lib) {
            eprintln!("muni: {e}");
            return ExitCode::from(2);
        }
    }
    let mut names = a.with.clone();
    names.push(a.file.clone());
    let loaded = match load_files(&names) {
        Ok(l) => l,
        Err(e) => return report_load_error(e, a.json),
    };
    let budgets = Budgets {
        fuel: a.fuel,
        alloc: a.alloc,
        stack: a.stack,
    };
    let f = match loaded.func(&a.func) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("muni: {msg}");
            return ExitCode::from(2);
        }
    };
    let argv: Vec<&str> = a.args.iter().map(String::as_str).collect();
    let args = match loaded.args(f, &argv) {
        Ok(v) => v,
        Err(msg) => {
            eprintln!("muni: {msg}");
            return ExitCode::from(2);
        }
    };
    if a.engine == "fast" {
        if trace {
            eprintln!("muni: the step trace is the reference model's (--engine spec)");
            return ExitCode::from(2);
        }
        let options = fast_vm::Options {
            fuel_checks: !a.no_fuel_checks,
            trace_native: a.trace_native,
        };
        let program = match fast_vm::Program::compile_with(&loaded.module, options) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("muni: {e}");
                return ExitCode::from(2);
            }
        };
        // A program with undefined behaviour may crash compiled code: the run goes
        // on in a copy of this process, and a fatal signal is reported as the
        // run's end (which signal, and where) instead of killing muni.
        let contained = fast_vm::crash::contain(|| {
            let run = if a.trace_native {
                program.run_traced(f, &args, budgets, a.gc_stress)
            } else {
                program
                    .run_with(f, &args, budgets, a.gc_stress)
                    .map(|(o, _)| (o, Vec::new()))
            };
            match run {
                Ok((o, events)) => {
                    for line in spec_model::outcome::render_trace(&events) {
                        println!("{line}");
                    }
                    print_outcome(&o, a.json);
                    0
                }
                Err(fast_vm::FastError::Unsupported(why)) => {
                    eprintln!("muni: {why}");
                    println!("unsupported fast-vm");
                    2
                }
                Err(e) => {
                    eprintln!("muni: {e}");
                    2
                }
            }
        });
        return match contained {
            Ok(Ok(code)) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
            Ok(Err(crash)) => {
                print_crash(&crash, &program.locate(crash.pc), a.json);
                ExitCode::from(1)
            }
            Err(e) => {
                eprintln!("muni: cannot start the run: {e}");
                ExitCode::from(2)
            }
        };
    }
    let mut m = loaded.machine(budgets);
    if a.trace_native {
        m.trace = Some(Vec::new());
    }
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let outcome = match m.start(f, args) {
        Err(e) => return model_error(e),
        Ok(Some(o)) => o,
        Ok(None) => loop {
            let span = m.current_span();
            match m.step() {
                Err(e) => {
                    let _ = out.flush();
                    return model_error(e);
                }
                Ok(s) => {
                    if trace {
                        let text = span.map(|s| loaded.snippet(s)).unwrap_or_default();
                        let _ = writeln!(out, "{:<22} {}", s.rule.id(), text);
                    }
                    if let Some(o) = s.outcome {
                        break o;
                    }
                }
            }
        },
    };
    if let Some(events) = &m.trace {
        for line in spec_model::outcome::render_trace(events) {
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = out.flush();
    drop(out);
    print_outcome(&outcome, a.json);
    ExitCode::SUCCESS
}

/// The scripts named on the command line, each with its corpus root.
fn scripts(paths: &[String]) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let roots: Vec<String> = if paths.is_empty() {
        vec!["corpus".into()]
    } else {
        paths.to_vec()
    };
    let mut out = Vec::new();
    for r in &roots {
        let p = Path::new(r);
        if !p.exists() {
            return Err(format!("muni: {r} does not exist"));
        }
        let root = conform::corpus_root(p);
        let mut files = Vec::new();
        conform::script_files(p, &mut files);
        out.extend(files.into_iter().map(|f| (f, root.clone())));
    }
    Ok(out)
}

fn conform(a: &ConformArgs) -> ExitCode {
    let files = match scripts(&a.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &a.emit_json {
        return emit_json(&files, Path::new(dir));
    }
    let expect_path = a
        .expect
        .as_ref()
        .map(PathBuf::from)
        .or_else(|| {
            files
                .first()
                .map(|(_, root)| root.join("expectations.toml"))
        })
        .filter(|p| a.expect.is_some() || p.exists());
    let expectations = match &expect_path {
        Some(p) => match conform::expect::Expectations::read(p) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("muni: {e}");
                return ExitCode::from(2);
            }
        },
        None => conform::expect::Expectations::default(),
    };
    let cfg = conform::Config {
        expectations,
        explain: a.explain,
    };
    let engines: Vec<conform::Engine> = match (&a.implementation, a.engine.as_str()) {
        (Some(cmd), _) => vec![conform::Engine::Impl(cmd.clone())],
        (None, "fast") => vec![conform::Engine::Fast],
        (None, "both") => vec![conform::Engine::Spec, conform::Engine::Fast],
        _ => vec![conform::Engine::Spec],
    };
    let mut totals = conform::Totals::default();
    let mut crashed = 0usize;
    for (path, root) in &files {
        let name = conform::test_name(root, path);
        for engine in &engines {
            let report = if a.isolate {
                match isolated(a, path, engine, expect_path.as_deref()) {
                    Ok(r) => r,
                    Err(why) => {
                        crashed += 1;
                        println!("FAIL {name} [{}]: {why}", engine.name());
                        continue;
                    }
                }
            } else {
                conform::run_file(path, &name, engine, &cfg)
            };
            for c in &report.checked {
                if a.json {
                    println!("{}", serde_json::to_string(c).unwrap_or_default());
                } else if let conform::Verdict::Fail(why) = &c.verdict {
                    println!("FAIL {} [{}]: {why}", c.test, c.engine);
                }
            }
            totals.add(&report);
        }
    }
    let failed = totals.failed + crashed;
    if a.json {
        let v = serde_json::json!({
            "passed": totals.passed, "failed": failed,
            "expected_failures": totals.expected_failures, "skipped": totals.skipped,
        });
        println!("{v}");
    } else {
        let mut skipped: Vec<_> = totals.skipped.iter().collect();
        skipped.sort();
        for (why, n) in skipped {
            println!("({n} skipped: {why})");
        }
        if totals.expected_failures > 0 {
            println!(
                "({} expected failures, as the expectations file lists)",
                totals.expected_failures
            );
        }
        println!("{} passed, {failed} failed", totals.passed);
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs one script in a child `muni conform --json`, so that a crash in native
/// code is a failed test and not a dead runner.
fn isolated(
    a: &ConformArgs,
    path: &Path,
    engine: &conform::Engine,
    expect: Option<&Path>,
) -> Result<conform::FileReport, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut c = std::process::Command::new(exe);
    c.arg("conform").arg(path).arg("--json");
    match engine {
        conform::Engine::Impl(cmd) => {
            c.arg("--impl").arg(cmd);
        }
        e => {
            c.arg("--engine").arg(e.name());
        }
    }
    if let Some(p) = expect {
        c.arg("--expect").arg(p);
    }
    if a.explain {
        c.arg("--explain");
    }
    let o = c.output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&o.stdout);
    let mut report = conform::FileReport::default();
    let mut lines = stdout.lines().peekable();
    let mut finished = false;
    while let Some(l) = lines.next() {
        if lines.peek().is_none() {
            finished = l.contains("\"passed\"");
            break;
        }
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
            let test = v["test"].as_str().unwrap_or_default().to_string();
            let detail = v["verdict"]["detail"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let verdict = match v["verdict"]["verdict"].as_str() {
                Some("pass") => conform::Verdict::Pass,
                Some("expected_fail") => conform::Verdict::ExpectedFail(detail),
                Some("skip") => conform::Verdict::Skip(detail),
                _ => conform::Verdict::Fail(detail),
            };
            report.checked.push(conform::Checked {
                test,
                engine: engine.name(),
                verdict,
            });
        }
    }
    if !finished {
        return Err(match o.status.code() {
            Some(c) => format!("the child runner ended early (exit status {c})"),
            None => "the child runner crashed (killed by a signal)".to_string(),
        });
    }
    Ok(report)
}

/// Writes the JSON twin of each script: its headers, bundles (as written, and in
/// canonical text when they parse) and assertions with their lines.
fn emit_json(files: &[(PathBuf, PathBuf)], dir: &Path) -> ExitCode {
    let mut written = 0;
    for (path, root) in files {
        let name = conform::test_name(root, path);
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("muni: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        let script = match conform::script::parse(&name, &text) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("muni: {e}");
                return ExitCode::from(2);
            }
        };
        let sections: Vec<serde_json::Value> = script
            .sections
            .iter()
            .map(|s| {
                let canonical = spec_model::syntax::parse_file(0, &s.text)
                    .ok()
                    .map(|(b, _)| spec_model::syntax::print::print_bundle(&b));
                serde_json::json!({
                    "name": s.name, "line": s.line, "bundle_file": s.bundle_file,
                    "text": s.text, "canonical": canonical, "assertions": s.asserts,
                })
            })
            .collect();
        let twin = serde_json::json!({
            "file": name, "features": script.features, "clib": script.clib,
            "sections": sections,
        });
        let out = dir.join(format!("{name}.json"));
        let written_ok = out
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::write(
                    &out,
                    serde_json::to_string_pretty(&twin).unwrap_or_default(),
                )
            });
        if let Err(e) = written_ok {
            eprintln!("muni: {}: {e}", out.display());
            return ExitCode::from(2);
        }
        written += 1;
    }
    println!("wrote {written} JSON twins to {}", dir.display());
    ExitCode::SUCCESS
}

fn coverage(paths: &[String], json: bool, generated: Option<u64>) -> ExitCode {
    let files = match scripts(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let cfg = conform::Config::default();
    let reports: Vec<conform::FileReport> = files
        .iter()
        .map(|(p, root)| {
            conform::run_file(
                p,
                &conform::test_name(root, p),
                &conform::Engine::Spec,
                &cfg,
            )
        })
        .collect();
    let rows = conform::coverage(&reports);
    let missing = rows.iter().filter(|r| r.2.is_empty()).count();
    let gen_counts = match generated.map(difftest_cli::generated_rule_counts) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            eprintln!("muni: {e}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let gen_of = |r: &spec_model::RuleId| {
        gen_counts
            .as_ref()
            .map(|c| c.get(*r as usize).copied().unwrap_or(0))
    };
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(r, n, tests)| {
                serde_json::json!({"rule": r.id(), "fired": n, "tests": tests, "generated": gen_of(r)})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let gen_head = if gen_counts.is_some() {
            " generated"
        } else {
            ""
        };
        println!(
            "{:<28} {:>9}{gen_head}  corpus tests that fire it",
            "rule", "fired"
        );
        for (r, n, tests) in &rows {
            let shown: Vec<&str> = tests.iter().take(3).map(String::as_str).collect();
            let more = if tests.len() > 3 {
                format!(" and {} more", tests.len() - 3)
            } else {
                String::new()
            };
            let list = if tests.is_empty() {
                "NONE".to_string()
            } else {
                format!("{}{more}", shown.join(", "))
            };
            let g = gen_of(r).map_or(String::new(), |g| format!(" {g:>9}"));
            println!("{:<28} {:>9}{g}  {list}", r.id(), n);
        }
        let covered = rows.len() - missing;
        println!(
            "{covered} of {} rules have a corpus test ({:.0}%)",
            rows.len(),
            100.0 * covered as f64 / rows.len().max(1) as f64
        );
    }
    if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `muni impl`: one request of the conformance protocol, answered by a muni engine.
fn implementation(engine: &str, bundle: &str, func: Option<&str>, args: &[String]) -> ExitCode {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    for lib in env("MUNI_LIBS")
        .unwrap_or_default()
        .split(':')
        .filter(|l| !l.is_empty())
    {
        if let Err(e) = spec_model::load_library(lib) {
            eprintln!("muni: {e}");
            return ExitCode::from(2);
        }
    }
    let loaded = match load_files(&[bundle.to_string()]) {
        Ok(l) => l,
        Err(Ok(e)) => {
            println!("{}", e.outcome());
            return ExitCode::SUCCESS;
        }
        Err(Err(msg)) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let Some(func) = func else {
        println!("ok");
        return ExitCode::SUCCESS;
    };
    let num = |k: &str, d: u64| env(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let d = Budgets::default();
    let budgets = Budgets {
        fuel: num("MUNI_FUEL", d.fuel),
        alloc: num("MUNI_ALLOC", d.alloc),
        stack: u32::try_from(num("MUNI_STACK", u64::from(d.stack))).unwrap_or(d.stack),
    };
    let trace = env("MUNI_TRACE").is_some_and(|v| v == "1");
    let observe: Vec<(u32, bool, String)> = env("MUNI_OBSERVE")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|w| {
            let (deref, name) = match w.strip_prefix('*') {
                Some(n) => (true, n),
                None => (false, w),
            };
            let g = loaded.module.globals.iter().position(|g| {
                g.name.as_str().trim_start_matches('@') == name.trim_start_matches('@')
            })?;
            Some((g as u32, deref, name.to_string()))
        })
        .collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (f, argv) = match loaded
        .func(func)
        .and_then(|f| loaded.args(f, &argv).map(|a| (f, a)))
    {
        Ok(x) => x,
        Err(msg) => {
            eprintln!("muni: {msg}");
            return ExitCode::from(2);
        }
    };
    let (outcome, events, seen) = if engine == "fast" {
        let options = fast_vm::Options {
            fuel_checks: true,
            trace_native: trace,
        };
        let program = match fast_vm::Program::compile_with(&loaded.module, options) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("muni: {e}");
                return ExitCode::from(2);
            }
        };
        let pairs: Vec<(u32, bool)> = observe.iter().map(|(g, d, _)| (*g, *d)).collect();
        let run = program
            .run_observing(f, &argv, budgets, false, &pairs)
            .and_then(|(o, seen)| {
                let events = if trace {
                    program.run_traced(f, &argv, budgets, false)?.1
                } else {
                    Vec::new()
                };
                Ok((o, events, seen))
            });
        match run {
            Ok(x) => x,
            Err(e) => {
                eprintln!("muni: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        let mut m = loaded.machine(budgets);
        if trace {
            m.trace = Some(Vec::new());
        }
        let o = match m.start(f, argv) {
            Ok(Some(o)) => o,
            Ok(None) => match m.run() {
                Ok(o) => o,
                Err(e) => return model_error(e),
            },
            Err(e) => return model_error(e),
        };
        let seen = observe
            .iter()
            .map(|(g, deref, _)| {
                let cell = m.global_out(*g);
                if *deref {
                    m.object_out(&cell)
                } else {
                    Some(cell)
                }
            })
            .collect();
        (o, m.trace.take().unwrap_or_default(), seen)
    };
    for e in spec_model::outcome::render_trace(&events) {
        println!("| {e}");
    }
    for ((_, deref, name), v) in observe.iter().zip(seen) {
        let arrow = if *deref { "->" } else { "==" };
        let shown = v.map_or_else(
            || "none".to_string(),
            |v| spec_model::outcome::render_value(&v),
        );
        println!("after: {name} {arrow} {shown}");
    }
    println!("{outcome}");
    ExitCode::SUCCESS
}

fn layout(files: &[String], ty: Option<&str>, sig: Option<&str>, json: bool) -> ExitCode {
    let loaded = match load_files(files) {
        Ok(l) => l,
        Err(e) => return report_load_error(e, json),
    };
    let types = &loaded.module.types;
    if let Some(t) = ty {
        let Some(id) = types.named(t) else {
            eprintln!("muni: {t} is not a type of this bundle");
            return ExitCode::from(2);
        };
        if let Some(o) = types.inline_other(id) {
            eprintln!(
                "muni: {t} holds {}, a type of full Mu outside the subset muni executes; it has no layout here",
                types.show(o)
            );
            return ExitCode::FAILURE;
        }
        let r = spec_model::layout::report(types, id);
        if json {
            println!("{}", serde_json::to_string(&r).unwrap_or_default());
        } else {
            print!("{}", r.render());
        }
    }
    if let Some(s) = sig {
        let Some(id) = types.sig_named(s) else {
            eprintln!("muni: {s} is not a signature of this bundle");
            return ExitCode::from(2);
        };
        let sg = types.sig(id);
        if let Some(o) = sg
            .params
            .iter()
            .chain(&sg.rets)
            .find_map(|t| types.inline_other(*t))
        {
            eprintln!(
                "muni: {s} passes {}, a type of full Mu outside the subset muni executes; it has no calling convention here",
                types.show(o)
            );
            return ExitCode::FAILURE;
        }
        let l = spec_model::layout::classify::lower_call(types, id);
        if json {
            println!("{}", serde_json::to_string(&l).unwrap_or_default());
        } else {
            println!(
                "result: {:?}{}",
                l.result,
                if l.sret {
                    " (sret: the caller's buffer is passed in rdi)"
                } else {
                    ""
                }
            );
            for (i, a) in l.args.iter().enumerate() {
                println!("argument {i}: {a:?}");
            }
            println!("stack arguments: {} bytes", l.stack_bytes);
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    fast_vm::crash::die_on_broken_pipe();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files } => match load_files(&files) {
            Ok(l) if l.unsupported.is_empty() => ExitCode::SUCCESS,
            Ok(l) => {
                for d in &l.unsupported {
                    eprint!("{}", d.render(&l.sources));
                }
                let n = l.unsupported.len();
                eprintln!(
                    "{n} construct{} outside the subset muni executes",
                    if n == 1 { "" } else { "s" }
                );
                ExitCode::FAILURE
            }
            Err(Ok(e)) => {
                eprint!("{}", e.render());
                eprintln!(
                    "{} problem{} found",
                    e.diags.len(),
                    if e.diags.len() == 1 { "" } else { "s" }
                );
                ExitCode::FAILURE
            }
            Err(Err(msg)) => {
                eprintln!("{msg}");
                ExitCode::FAILURE
            }
        },
        Command::Run(a) => run(&a, false),
        Command::Trace(a) => run(&a, true),
        Command::Conform(a) => conform(&a),
        Command::Coverage {
            paths,
            json,
            generated,
        } => coverage(&paths, json, generated),
        Command::Difftest(settings) => difftest_cli::run(&settings),
        Command::Reduce {
            case,
            func,
            args,
            gc_stress,
            seed,
        } => difftest_cli::reduce(&case, func.as_deref(), &args, gc_stress, seed),
        Command::Impl {
            engine,
            bundle,
            func,
            args,
        } => implementation(&engine, &bundle, func.as_deref(), &args),
        Command::Layout {
            files,
            ty,
            sig,
            json,
        } => layout(&files, ty.as_deref(), sig.as_deref(), json),
    }
}
