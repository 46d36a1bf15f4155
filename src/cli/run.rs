//! `muni run` and `muni trace`: one function of a bundle on the model (with its
//! step trace) or on the fast VM.

use super::*;
use clap::Args;
use spec_model::Budgets;
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
