//! `cargo run --release -p muni-benches --bin report`: runs the same kernels on the
//! fast VM, on the reference model and as C compiled by gcc -O2, in one process,
//! and prints the times and ratios (best of several repetitions, this machine).

use fast_vm::Program;
use muni_benches::{REPORT_C, REPORT_MU};
use spec_model::machine::Value;
use spec_model::{Budgets, load, load_library};
use std::process::Command;
use std::time::{Duration, Instant};

type CKernel = unsafe extern "C" fn(i64) -> i64;

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

fn c_kernel(name: &str) -> CKernel {
    let c = std::ffi::CString::new(name).expect("no NUL");
    // SAFETY: dlsym only reads the name; the library was loaded with RTLD_GLOBAL.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) };
    assert!(!p.is_null(), "{name} not found");
    // SAFETY: every c_* kernel in REPORT_C has the C type long(long).
    unsafe { std::mem::transmute::<*mut libc::c_void, CKernel>(p) }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("kernels.c");
    let lib = dir.path().join("libkernels.so");
    std::fs::write(&src, REPORT_C).expect("write C");
    let ok = Command::new("gcc")
        .args(["-O2", "-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .expect("gcc runs");
    assert!(ok.success(), "gcc failed");
    load_library(lib.to_str().expect("utf-8 path")).expect("load kernels");
    let loaded = load(&[("report.uir", REPORT_MU)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let program = Program::compile(&loaded.module, false).expect("compiles");
    let budgets = Budgets {
        fuel: u64::MAX,
        alloc: u64::MAX,
        stack: 1_000_000,
    };
    let kernels: &[(&str, &str, u64, &str)] = &[
        ("recursive fib(27)", "fib", 27, "fib"),
        (
            "loop over a heap array of 1M structs",
            "structs",
            1_000_000,
            "",
        ),
        (
            "memcpy-like loop, 1M words through PTR",
            "copy",
            1_000_000,
            "",
        ),
        ("1M CCALLs of a trivial C function", "ccall", 1_000_000, ""),
        ("qsort of 100k ints, Mu comparator", "qsort", 100_000, ""),
        ("1M small allocations", "alloc", 1_000_000, ""),
    ];
    println!("| kernel | gcc -O2 | fast VM | fast / gcc | model | model / fast |");
    println!("|---|---|---|---|---|---|");
    for (label, k, n, model_too) in kernels {
        let f = loaded.func(&format!("@k_{k}")).expect("kernel exists");
        let ck = c_kernel(&format!("c_{k}"));
        let (tf, rf) = best(5, || {
            program
                .run(f, &[Value::Int(*n)], budgets)
                .expect("fast VM runs")
                .to_string()
        });
        // SAFETY: the kernel takes and returns a long.
        let (tc, rc) = best(5, || unsafe { ck(*n as i64) });
        assert_eq!(
            rf,
            format!("return {rc}"),
            "{label}: the fast VM and C disagree"
        );
        let model = if model_too.is_empty() {
            "—".to_string()
        } else {
            let n_model = *n - 7; // fib(20): the model is slow
            let nm = n_model.to_string();
            let (tm, _) = best(1, || {
                loaded
                    .run(&format!("@k_{k}"), &[&nm], budgets)
                    .expect("model runs")
            });
            let (tfs, _) = best(5, || {
                program
                    .run(f, &[Value::Int(n_model)], budgets)
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
            .run(f, &[Value::Int(1_000_000)], budgets)
            .expect("runs")
    });
    println!(
        "| 1M pin/unpin pairs | — | {:.2} ms | {:.1} ns per pair | — | — |",
        tp.as_secs_f64() * 1e3,
        tp.as_secs_f64() * 1e9 / 1e6
    );
}
