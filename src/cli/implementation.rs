//! `muni impl`: one request of the conformance protocol, answered by the model or
//! the fast VM (what `muni conform --impl` speaks to).

use super::*;
use spec_model::Budgets;
use spec_model::run::{Observe, Request};

/// `muni impl`: one request of the conformance protocol, answered by a muni engine.
pub(crate) fn implementation(
    engine: &str,
    bundle: &str,
    func: Option<&str>,
    args: &[String],
) -> ExitCode {
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
    // The client: the answers of the call's client lines, one a line.
    let answers: Vec<String> = env("MUNI_CLIENT")
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    let dir = std::path::PathBuf::from(env("MUNI_CLIENT_DIR").unwrap_or_else(|| ".".into()));
    let client = (!answers.is_empty()).then(|| muni::conform::scripted_from(&answers, &dir));
    let acting = answers.iter().any(|a| muni::conform::acts(a));
    let bundles = spec_model::Bundles::new(&loaded);
    let options = fast_vm::Options {
        fuel_checks: true,
        trace_native: trace,
        client: client.is_some() && muni::conform::for_a_client(&loaded.module, acting),
    };
    let mut vm = match open_engine(engine, &loaded, &bundles, options) {
        Ok(vm) => vm,
        Err(e) => {
            eprintln!("muni: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(c) = &client {
        vm.set_trap_handler(Some(Box::new(c.clone())));
    }
    let request = Request {
        trace,
        observe: Observe::Globals(observe.iter().map(|(g, d, _)| (*g, *d)).collect()),
        ..Request::new(f, &argv, budgets)
    };
    let (outcome, events, seen) = match vm.run(&request) {
        Ok(o) => (o.outcome, o.trace.unwrap_or_default(), o.globals),
        Err(e) => return run_error(e),
    };
    for e in spec_model::outcome::render_trace(&events) {
        println!("| {e}");
    }
    // The traps the client was shown.
    let shown = client.as_ref().map(|c| c.seen()).unwrap_or_default();
    for t in &shown {
        println!("> {}", muni::conform::shown_trap(t));
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
