//! Where a difftest run spends its time: generating, loading (parse and verify),
//! the model's run, the fast VM's compile and its run, over N programs.
//!
//! `cargo run --release -p muni-difftest --example phases [N]`

use difftest::{BUDGETS, program_of, run_model};
use std::time::{Duration, Instant};

fn main() {
    difftest::load_clib().expect("the C library builds");
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let mut t = [Duration::ZERO; 5];
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..n {
        let bytes: Vec<u8> = (0..2048)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect();
        let s = Instant::now();
        let p = program_of(&bytes);
        t[0] += s.elapsed();
        let s = Instant::now();
        let Ok(l) = spec_model::load(&[("generated.uir", &p.text)]) else {
            continue;
        };
        t[1] += s.elapsed();
        let s = Instant::now();
        let _ = run_model(&l, &p);
        t[2] += s.elapsed();
        let f = l.func(&p.entry).expect("entry");
        let s = Instant::now();
        let prog = fast_vm::Program::compile_roots(
            &l.module,
            fast_vm::Options {
                fuel_checks: true,
                trace_native: true,
            },
            &[f],
        )
        .expect("compiles");
        t[3] += s.elapsed();
        let s = Instant::now();
        let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
        let argv = l.args(f, &args).expect("args");
        let _ = prog.run_traced_observing(f, &argv, BUDGETS, false, &[]);
        t[4] += s.elapsed();
    }
    // The fixed cost: the prelude with a trivial @f0.
    let text = format!(
        "{}.funcdef @f0 VERSION %v1 <@sig> {{ %e(<@i64> %a <@i64> %b): RET %a }}\n",
        difftest::generate::PRELUDE
    );
    let l = spec_model::load(&[("t.uir", &text)]).expect("loads");
    let s = Instant::now();
    for _ in 0..50 {
        let _ = fast_vm::Program::compile_roots(
            &l.module,
            fast_vm::Options {
                fuel_checks: true,
                trace_native: true,
            },
            &[5],
        );
    }
    println!(
        "prelude alone: fast compile {:.1} µs",
        s.elapsed().as_secs_f64() * 1e6 / 50.0
    );
    let total: Duration = t.iter().sum();
    for (name, d) in ["generate", "load", "model run", "fast compile", "fast run"]
        .iter()
        .zip(t)
    {
        println!(
            "{name:<13} {:>8.1} µs/program  {:>5.1}%",
            d.as_secs_f64() * 1e6 / n as f64,
            100.0 * d.as_secs_f64() / total.as_secs_f64()
        );
    }
    println!(
        "total         {:>8.1} µs/program ({:.0} programs/s)",
        total.as_secs_f64() * 1e6 / n as f64,
        n as f64 / total.as_secs_f64()
    );
}
