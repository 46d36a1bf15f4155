//! `muni run` and `muni trace`: one function of a bundle on the model (with its
//! step trace) or on the fast VM.

use super::*;
use clap::Args;
use spec_model::Budgets;
use spec_model::run::{Engine, Model, Observation, Request, RunError};
use std::io::Write;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The bundle's file (repeat `--with FILE` for more files loaded before it).
    pub file: String,
    /// Arguments for the function's parameters, as Mu literals (`42`, `1.5d`, `NULL`).
    #[arg(allow_negative_numbers = true)]
    pub args: Vec<String>,
    /// Files loaded before FILE, e.g. shared type definitions.
    #[arg(long = "with", value_name = "FILE")]
    pub with: Vec<String>,
    /// The engine: `spec`, the reference model, or `fast`, the Cranelift JIT.
    #[arg(long, default_value = "spec", value_parser = ["spec", "fast"])]
    pub engine: String,
    /// The function to call.
    #[arg(long = "fn", default_value = "@main")]
    pub func: String,
    /// Fuel: instructions the run may execute.
    #[arg(long, default_value_t = Budgets::default().fuel)]
    pub fuel: u64,
    /// Bytes the run may allocate.
    #[arg(long, default_value_t = Budgets::default().alloc)]
    pub alloc: u64,
    /// Mu frames the stack may hold.
    #[arg(long, default_value_t = Budgets::default().stack)]
    pub stack: u32,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
    /// Shared libraries whose symbols EXTERN constants may name (dlopen'ed first).
    #[arg(long = "lib", value_name = "PATH.so")]
    pub libs: Vec<String>,
    /// Print the native trace (CCALLs, callbacks, pins, unpins) before the outcome.
    #[arg(long)]
    pub trace_native: bool,
    /// With --engine fast: collect at every allocation, moving every unpinned object.
    #[arg(long)]
    pub gc_stress: bool,
    /// With --engine fast: compile without fuel checks (the run then has no fuel
    /// budget), as for runs that need none.
    #[arg(long)]
    pub no_fuel_checks: bool,
}

pub(crate) fn run(a: &RunArgs, trace: bool) -> ExitCode {
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
    let request = Request {
        trace: a.trace_native,
        gc_stress: a.gc_stress,
        ..Request::new(f, &args, budgets)
    };
    if a.engine == "fast" {
        if trace {
            eprintln!("muni: the step trace is the reference model's (--engine spec)");
            return ExitCode::from(2);
        }
        let options = fast_vm::Options {
            fuel_checks: !a.no_fuel_checks,
            trace_native: a.trace_native,
            client: false,
        };
        let mut program = match fast_vm::Program::compile_with(&loaded.module, options) {
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
            let code = show(program.run(&request), a.json);
            let _ = std::io::stdout().flush();
            code
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
    let mut model = Model::new(&loaded);
    let seen = if trace {
        // The step trace: each rule as it applies, with the instruction's text.
        let out = std::io::stdout();
        let mut out = std::io::BufWriter::new(out.lock());
        let seen = model.run_stepping(&request, |rule, span| {
            let text = span.map(|s| loaded.snippet(s)).unwrap_or_default();
            let _ = writeln!(out, "{:<22} {}", rule.id(), text);
        });
        let _ = out.flush();
        seen
    } else {
        model.run(&request)
    };
    ExitCode::from(u8::try_from(show(seen, a.json)).unwrap_or(2))
}

/// Prints what a run shows, its native trace and then its outcome, and gives the
/// exit status: 0, or 2 if the run did not end in an outcome.
fn show(seen: Result<Observation, RunError>, json: bool) -> i32 {
    match seen {
        Ok(seen) => {
            for line in spec_model::outcome::render_trace(seen.trace.as_deref().unwrap_or_default())
            {
                println!("{line}");
            }
            print_outcome(&seen.outcome, json);
            // The other threads, as `// thread N:` lines of a corpus script
            // state them (spec/12 §12.8).
            if !json {
                for (i, o) in seen.threads.iter().enumerate() {
                    println!("thread {}: {o}", i + 1);
                }
            }
            0
        }
        Err(e) => {
            let _ = run_error(e);
            2
        }
    }
}
