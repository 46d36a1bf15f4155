//! Where a difftest run spends its time, over N programs: generating, loading
//! (parse and verify), the model's run, and for each build of the fast VM its
//! compile and its run.
//!
//! `cargo run --release -p muni-difftest --example phases [N]`

use difftest::{BUILDS, Build, Campaign, Config, Verdict, check, run_fast, run_model};
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let show = std::env::args().nth(2).is_some();
    // Generator settings as for `muni difftest --set`, from $MUNI_SET (comma-separated).
    let set: Vec<String> = std::env::var("MUNI_SET")
        .map(|s| s.split(',').map(String::from).collect())
        .unwrap_or_default();
    let config = Config::default().with_settings(&set).expect("valid settings");
    let campaign = Campaign::new(1, config).expect("the C libraries build");
    let mut t = [Duration::ZERO; 3];
    let mut builds = [Duration::ZERO; 4];
    let mut both = [Duration::ZERO; 4];
    let mut runs = Duration::ZERO;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut bad = 0;
    for _ in 0..n {
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect();
        let s = Instant::now();
        let p = campaign.program(&bytes);
        t[0] += s.elapsed();
        let s = Instant::now();
        let l = match spec_model::load(&[("generated.uir", &p.text)]) {
            Ok(l) => l,
            Err(e) => {
                bad += 1;
                if show {
                    println!("{}\n{}", p.text, e.render());
                    return;
                }
                continue;
            }
        };
        t[1] += s.elapsed();
        let s = Instant::now();
        let m = run_model(&l, &p);
        t[2] += s.elapsed();
        let out_of_fuel = m.as_ref().is_ok_and(|m| m.observed.outcome == "exhausted fuel");
        for (k, (trace, fuel)) in BUILDS.iter().enumerate() {
            if !fuel && out_of_fuel {
                continue;
            }
            let s = Instant::now();
            let f = l.func(&p.entry).expect("entry");
            let prog = fast_vm::Program::compile_roots(
                &l.module,
                fast_vm::Options {
                    fuel_checks: *fuel,
                    trace_native: *trace,
                },
                &[f],
            );
            builds[k] += s.elapsed();
            drop(prog);
            let s = Instant::now();
            let _ = run_fast(&l, &p, *trace, *fuel, &[false]);
            let all = s.elapsed();
            runs += all.saturating_sub(builds[k] / 1_000_000); // rough: see below
            both[k] += all;
        }
        if show {
            let c = check(&p, true);
            if !matches!(c.verdict, Verdict::Agree) {
                println!("{}\n{:?} {:?}\n{:?}", p.text, p.entry, p.args, c.verdict);
                return;
            }
        }
    }
    let _ = runs;
    let total: Duration = t.iter().chain(&both).sum();
    let row = |name: &str, d: Duration| {
        println!(
            "{name:<34} {:>8.1} µs/program  {:>5.1}%",
            d.as_secs_f64() * 1e6 / n as f64,
            100.0 * d.as_secs_f64() / total.as_secs_f64()
        );
    };
    for (name, d) in ["generate", "load (parse, verify)", "model run"].iter().zip(t) {
        row(name, d);
    }
    for (k, (trace, fuel)) in BUILDS.iter().enumerate() {
        let b = Build {
            trace: *trace,
            fuel: *fuel,
            stress: false,
        };
        row(&format!("fast VM {}: compile", b.name()), builds[k]);
        row(&format!("fast VM {}: compile+run+compare", b.name()), both[k]);
    }
    println!("{}", cranelift_codegen::timing::take_current());
    let cs = fast_vm::codecache::stats();
    println!("functions compiled {} reused from the cache {}", cs.compiled, cs.reused);
    println!(
        "total {:>8.1} µs/program ({:.0} programs/s); {bad} did not load",
        total.as_secs_f64() * 1e6 / n as f64,
        n as f64 / total.as_secs_f64()
    );
}
