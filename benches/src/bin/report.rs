//! `cargo run --release -p muni-benches --bin report`: runs the same kernels on the
//! fast VM, on the reference model and as C compiled by gcc -O2, in one process,
//! and prints the times and ratios (best of several repetitions, this machine).

use fast_vm::Program;
use muni_benches::{KERNELS, REPORT_BUDGETS, REPORT_MU, build_c_kernels, c_kernel};
use spec_model::load;
use spec_model::machine::Value;
use spec_model::run::{Engine, Request};
use std::time::{Duration, Instant};

fn best<T>(reps: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("at least one repetition"))
}

fn main() {
    build_c_kernels();
    let loaded = load(&[("report.uir", REPORT_MU)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let mut program = Program::compile(&loaded.module, false).expect("compiles");
    let budgets = REPORT_BUDGETS;
    println!("| kernel | gcc -O2 | fast VM | fast / gcc | model | model / fast |");
    println!("|---|---|---|---|---|---|");
    for &(label, k, n) in KERNELS {
        let model_too = k == "fib";
        let f = loaded.func(&format!("@k_{k}")).expect("kernel exists");
        let ck = c_kernel(k);
        let (tf, rf) = best(5, || {
            program
                .run(&Request::new(f, &[Value::Int(n)], budgets))
                .expect("fast VM runs")
                .outcome
                .to_string()
        });
        // SAFETY: the kernel takes and returns a long.
        let (tc, rc) = best(5, || unsafe { ck(n as i64) });
        assert_eq!(
            rf,
            format!("return {rc}"),
            "{label}: the fast VM and C disagree"
        );
        let model = if !model_too {
            "—".to_string()
        } else {
            let n_model = n - 7; // fib(20): the model is slow
            let nm = n_model.to_string();
            let (tm, _) = best(1, || {
                loaded
                    .run(&format!("@k_{k}"), &[&nm], budgets)
                    .expect("model runs")
            });
            let (tfs, _) = best(5, || {
                program
                    .run(&Request::new(f, &[Value::Int(n_model)], budgets))
                    .expect("fast VM runs")
            });
            format!(
                "{:.1} ms (fib({n_model})) | {:.0}x",
                tm.as_secs_f64() * 1e3,
                tm.as_secs_f64() / tfs.as_secs_f64()
            )
        };
        let model_cols = if model == "—" {
            "— | —".to_string()
        } else {
            model
        };
        println!(
            "| {label} | {:.2} ms | {:.2} ms | {:.2} | {model_cols} |",
            tc.as_secs_f64() * 1e3,
            tf.as_secs_f64() * 1e3,
            tf.as_secs_f64() / tc.as_secs_f64()
        );
    }
    let f = loaded.func("@k_pin").expect("kernel exists");
    let (tp, _) = best(5, || {
        program
            .run(&Request::new(f, &[Value::Int(1_000_000)], budgets))
            .expect("runs")
    });
    println!(
        "| 1M pin/unpin pairs | — | {:.2} ms | {:.1} ns per pair | — | — |",
        tp.as_secs_f64() * 1e3,
        tp.as_secs_f64() * 1e9 / 1e6
    );
}
