//! `muni impl`: one request of the conformance protocol, answered by the model or
//! the fast VM (what `muni conform --impl` speaks to).

use super::*;
use spec_model::Budgets;

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
    let acting = answers
        .iter()
        .any(|a| muni::conform::client_step(a).is_ok_and(|(acts, _)| !acts.is_empty()));
    let bundles = spec_model::Bundles::new(&loaded);
    let (outcome, events, seen) = if engine == "fast" {
        let options = fast_vm::Options {
            fuel_checks: true,
            trace_native: trace,
            client: client.is_some() && muni::conform::for_a_client(&loaded.module, acting),
        };
        let program = match fast_vm::Program::compile_with(&loaded.module, options) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("muni: {e}");
                return ExitCode::from(2);
            }
        };
        program.set_bundles(Some(&bundles));
        if let Some(c) = &client {
            program.set_trap_handler(Some(Box::new(c.clone())));
        }
        let pairs: Vec<(u32, bool)> = observe.iter().map(|(g, d, _)| (*g, *d)).collect();
        let run = program
            .run_observing(f, &argv, budgets, false, &pairs)
            .and_then(|(o, seen)| {
                let events = if trace {
                    // A client of its own for the second run, whose traps are the
                    // first's again.
                    let again =
                        (!answers.is_empty()).then(|| muni::conform::scripted_from(&answers, &dir));
                    program.set_trap_handler(again.map(|c| Box::new(c) as Box<_>));
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
        m.bundles = Some(&bundles);
        if let Some(c) = &client {
            m.client = Some(Box::new(c.clone()));
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
