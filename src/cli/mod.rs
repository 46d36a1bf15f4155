//! The subcommands of `muni`, one file each, and what several of them share:
//! reading and loading bundle files, and printing outcomes and errors.

pub mod abi;
pub mod check;
pub mod conform;
pub mod coverage;
pub mod difftest;
pub mod implementation;
pub mod layout;
pub mod reduce;
pub mod run;

use spec_model::run::{Engine, Model, RunError};
use spec_model::{Bundles, LoadError, Loaded, Outcome, load};
use std::process::ExitCode;

pub(crate) fn read_files(names: &[String]) -> Result<Vec<(String, String)>, String> {
    names
        .iter()
        .map(|n| {
            std::fs::read_to_string(n)
                .map(|t| (n.clone(), t))
                .map_err(|e| format!("muni: cannot read {n}: {e}"))
        })
        .collect()
}

/// Loads bundle files in order, after building and loading the C libraries their
/// `//! clib: FILE.c` headers name (as the conformance harness does), so that
/// their `EXTERN`s resolve.
pub(crate) fn load_files(names: &[String]) -> Result<Loaded, Result<LoadError, String>> {
    let files = read_files(names).map_err(Err)?;
    for (name, text) in &files {
        let sources: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("//! clib:"))
            .flat_map(|rest| rest.split_whitespace().map(str::to_string))
            .collect();
        if sources.is_empty() {
            continue;
        }
        let dir = std::path::Path::new(name)
            .parent()
            .unwrap_or(std::path::Path::new("."));
        for lib in muni::conform::build_clibs(dir, &sources).map_err(Err)? {
            spec_model::load_library(&lib.to_string_lossy()).map_err(Err)?;
        }
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    load(&refs).map_err(Ok)
}

pub(crate) fn report_load_error(e: Result<LoadError, String>, json: bool) -> ExitCode {
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

pub(crate) fn print_outcome(o: &Outcome, json: bool) {
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
pub(crate) fn print_crash(c: &fast_vm::crash::Crash, at: &str, json: bool) {
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

/// The engine `name` (`spec` or `fast`) over `loaded`: the model, or the fast VM
/// compiled as `options` say, loading what its client loads into `bundles`.
pub(crate) fn open_engine<'l>(
    name: &str,
    loaded: &'l Loaded,
    bundles: &'l Bundles<'l>,
    options: fast_vm::Options,
) -> Result<Box<dyn Engine + 'l>, String> {
    if name == "fast" {
        let program =
            fast_vm::Program::compile_with(&loaded.module, options).map_err(|e| e.to_string())?;
        program.set_bundles(Some(bundles));
        Ok(Box::new(program))
    } else {
        Ok(Box::new(Model::new(loaded)))
    }
}

/// Reports a run that did not end in an outcome: `unsupported CODE` on stdout
/// when the engine cannot run it, the reason on stderr; exit status 2.
pub(crate) fn run_error(e: RunError) -> ExitCode {
    match e {
        RunError::Unsupported { code, why } => {
            eprintln!("muni: {why}");
            println!("unsupported {code}");
        }
        RunError::Usage(s) => eprintln!("muni: {s}"),
        RunError::Failed(s) => {
            eprintln!("muni: internal error (a bug in muni, please report it): {s}")
        }
    }
    ExitCode::from(2)
}
