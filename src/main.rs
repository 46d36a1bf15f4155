//! `muni`: check, run and trace Mu IR bundles on the reference model.

use clap::{Args, Parser, Subcommand};
use spec_model::{Budgets, LoadError, Loaded, ModelError, Outcome, load};
use std::io::Write;
use std::process::ExitCode;

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
    /// Run corpus files (default: corpus/) on the reference model and check their
    /// expected outcomes; prints `N passed, N failed` last.
    Conform {
        /// Files or folders of `.uir` corpus files.
        paths: Vec<String>,
        /// The engine: `spec`, `fast` or `both`.
        #[arg(long, default_value = "spec", value_parser = ["spec", "fast", "both"])]
        engine: String,
    },
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
            fuel_checks: true,
            trace_native: a.trace_native,
        };
        let program = match fast_vm::Program::compile_with(&loaded.module, options) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("muni: {e}");
                return ExitCode::from(2);
            }
        };
        let run = if a.trace_native {
            program.run_traced(f, &args, budgets, a.gc_stress)
        } else {
            program
                .run_with(f, &args, budgets, a.gc_stress)
                .map(|(o, _)| (o, Vec::new()))
        };
        return match run {
            Ok((o, events)) => {
                for line in spec_model::outcome::render_trace(&events) {
                    println!("{line}");
                }
                print_outcome(&o, a.json);
                ExitCode::SUCCESS
            }
            Err(fast_vm::FastError::Unsupported(why)) => {
                eprintln!("muni: {why}");
                println!("unsupported fast-vm");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("muni: {e}");
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

fn corpus_files(path: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            corpus_files(&e, out);
        }
    } else if path.extension().is_some_and(|e| e == "uir") {
        out.push(path.to_path_buf());
    }
}

fn conform(paths: &[String], engine: &str) -> ExitCode {
    let roots: Vec<String> = if paths.is_empty() {
        vec!["corpus".into()]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for r in &roots {
        let p = std::path::Path::new(r);
        if !p.exists() {
            eprintln!("muni: {r} does not exist");
            return ExitCode::from(2);
        }
        corpus_files(p, &mut files);
    }
    let (mut passed, mut failed, mut skipped, mut traces) = (0usize, 0usize, 0usize, 0usize);
    for f in &files {
        let name = f.display().to_string();
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                failed += 1;
                println!("FAIL {name}\n{e}");
                continue;
            }
        };
        let mut report = String::new();
        if engine != "fast"
            && let Err(r) = muni::corpus::check_file(&name, &text)
        {
            report.push_str(&r);
        }
        if engine != "spec" {
            match muni::corpus::check_file_fast(&name, &text) {
                Ok(stats) => {
                    skipped += stats.skipped;
                    traces += stats.traces;
                }
                Err(r) => report.push_str(&r),
            }
        }
        if report.is_empty() {
            passed += 1;
        } else {
            failed += 1;
            print!("FAIL {name}\n{report}");
        }
    }
    if skipped > 0 {
        println!("(the fast VM skipped {skipped} runs: expected ub, or not compiled yet)");
    }
    if traces > 0 {
        println!("(the fast VM's native trace matched the model's in {traces} runs)");
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn layout(files: &[String], ty: Option<&str>, sig: Option<&str>, json: bool) -> ExitCode {
    let loaded = match load_files(files) {
        Ok(l) => l,
        Err(e) => return report_load_error(e, json),
    };
    let types = &loaded.module.types;
    let lookup = |what: &str, names: &[String]| {
        let n = what.strip_prefix('@').unwrap_or(what);
        names.iter().position(|x| x == n).map(|i| i as u32)
    };
    if let Some(t) = ty {
        let Some(id) = lookup(t, &types.names) else {
            eprintln!("muni: {t} is not a type of this bundle");
            return ExitCode::from(2);
        };
        let r = spec_model::layout::report(types, id);
        if json {
            println!("{}", serde_json::to_string(&r).unwrap_or_default());
        } else {
            print!("{}", r.render());
        }
    }
    if let Some(s) = sig {
        let Some(id) = lookup(s, &types.sig_names) else {
            eprintln!("muni: {s} is not a signature of this bundle");
            return ExitCode::from(2);
        };
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
        Command::Conform { paths, engine } => conform(&paths, &engine),
        Command::Layout {
            files,
            ty,
            sig,
            json,
        } => layout(&files, ty.as_deref(), sig.as_deref(), json),
    }
}
