//! Where a difftest check spends its time, over N programs at the default
//! configuration (or `$MUNI_SET`, comma-separated `NAME=VALUE`s): generating,
//! loading (parse and verify), the model's runs (every input), and for each build
//! of the fast VM its compile and its runs with the comparison. With
//! `$MUNI_CLIENT` set, every build is compiled for a client (`Options::client`).
//!
//! `cargo run --release -p muni-difftest --example phases [N]`

use difftest::{BUILDS, Build, Campaign, Config, run_fast, run_model};
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let set: Vec<String> = std::env::var("MUNI_SET")
        .map(|s| s.split(',').map(String::from).collect())
        .unwrap_or_default();
    let config = Config::default()
        .with_settings(&set)
        .expect("valid settings");
    let campaign = Campaign::new(1, config).expect("the C libraries build");
    let mut t = [Duration::ZERO; 3];
    let mut compile = [Duration::ZERO; 4];
    let mut cached = [Duration::ZERO; 4];
    let mut misses = [0u64; 4];
    let mut runs = [Duration::ZERO; 4];
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut inputs = 0;
    let start = Instant::now();
    for _ in 0..n {
        let bytes = difftest::xorshift_bytes(&mut rng, 4096);
        let s = Instant::now();
        let p = campaign.program(&bytes);
        t[0] += s.elapsed();
        let s = Instant::now();
        let Ok(l) = spec_model::load(&[("generated.uir", &p.text)]) else {
            continue;
        };
        t[1] += s.elapsed();
        let s = Instant::now();
        let models: Vec<_> = p.inputs.iter().map(|i| run_model(&l, &p, i)).collect();
        t[2] += s.elapsed();
        inputs += p.inputs.len();
        let all: Vec<usize> = (0..p.inputs.len()).collect();
        let fueled: Vec<usize> = all
            .iter()
            .copied()
            .filter(|i| {
                models[*i]
                    .as_ref()
                    .is_ok_and(|m| m.observed.outcome.to_string() != "exhausted fuel")
            })
            .collect();
        let f = l.func(&p.entry).expect("entry");
        for (k, (trace, fuel)) in BUILDS.iter().enumerate() {
            let ins = if *fuel { &all } else { &fueled };
            let opts = fast_vm::Options {
                fuel_checks: *fuel,
                trace_native: *trace,
                client: std::env::var("MUNI_CLIENT").is_ok(),
            };
            let before = fast_vm::codecache::stats().compiled;
            let s = Instant::now();
            let _ = fast_vm::Program::compile_roots(&l.module, opts, &[f]);
            compile[k] += s.elapsed();
            misses[k] += fast_vm::codecache::stats().compiled - before;
            // Again, every function from the compiled-code cache.
            let s = Instant::now();
            let _ = fast_vm::Program::compile_roots(&l.module, opts, &[f]);
            let hit = s.elapsed();
            cached[k] += hit;
            // Compiles again (all hits), then runs and compares: the runs' time is
            // this less a cached compile's.
            let s = Instant::now();
            let _ = run_fast(&l, &p, *trace, *fuel, &[false], ins);
            runs[k] += s.elapsed().saturating_sub(hit);
        }
    }
    let wall = start.elapsed();
    let row = |name: &str, d: Duration| {
        println!(
            "{name:<48} {:>8.1} µs/program",
            d.as_secs_f64() * 1e6 / n as f64
        );
    };
    for (name, d) in [
        "generate",
        "load (parse, verify)",
        "model runs (every input)",
    ]
    .iter()
    .zip(t)
    {
        row(name, d);
    }
    for (k, (trace, fuel)) in BUILDS.iter().enumerate() {
        let b = Build {
            trace: *trace,
            fuel: *fuel,
            stress: false,
        };
        row(
            &format!(
                "fast VM {}: compile ({:.1} compiled a program)",
                b.name(),
                misses[k] as f64 / n as f64
            ),
            compile[k],
        );
        row(
            &format!("fast VM {}: compile, all cached", b.name()),
            cached[k],
        );
        row(&format!("fast VM {}: runs, compare", b.name()), runs[k]);
    }
    let cs = fast_vm::codecache::stats();
    println!(
        "{:.1} inputs a program; functions compiled {} reused from the cache {}",
        inputs as f64 / n as f64,
        cs.compiled,
        cs.reused
    );
    println!("{}", cranelift_codegen::timing::take_current());
    println!(
        "wall {:.1} µs/program (a check does every line once but the all-cached compiles)",
        wall.as_secs_f64() * 1e6 / n as f64
    );
}
