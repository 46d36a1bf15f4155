//! The fast VM against C compiled by gcc -O2 on the report's kernels: each kernel
//! is a criterion group with a `fast_vm` and a `gcc_O2` function, so the two are
//! measured in one run. Run: `cargo bench -p muni-benches --bench fast`
//! (`cargo run --release -p muni-benches --bin report` prints the ratios as a table).

use criterion::{Criterion, criterion_group, criterion_main};
use fast_vm::Program;
use muni_benches::{KERNELS, REPORT_BUDGETS, REPORT_MU, build_c_kernels, c_kernel};
use spec_model::load;
use spec_model::machine::Value;
use spec_model::run::{Engine, Request};
use std::hint::black_box;

fn fast_vs_gcc(c: &mut Criterion) {
    build_c_kernels();
    let loaded = load(&[("report.uir", REPORT_MU)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let mut program = Program::compile(&loaded.module, false).expect("compiles");
    let budgets = REPORT_BUDGETS;
    for &(_, k, n) in KERNELS {
        let f = loaded.func(&format!("@k_{k}")).expect("kernel exists");
        let ck = c_kernel(k);
        let mut g = c.benchmark_group(k);
        g.sample_size(20);
        g.bench_function("fast_vm", |b| {
            b.iter(|| {
                program
                    .run(&Request::new(f, &[Value::Int(black_box(n))], budgets))
                    .expect("runs")
            });
        });
        // SAFETY: the kernel takes and returns a long.
        g.bench_function("gcc_O2", |b| b.iter(|| unsafe { ck(black_box(n as i64)) }));
        g.finish();
    }
    let f = loaded.func("@k_pin").expect("kernel exists");
    c.benchmark_group("pin")
        .bench_function("fast_vm_1M_pairs", |b| {
            b.iter(|| {
                program
                    .run(&Request::new(f, &[Value::Int(1_000_000)], budgets))
                    .expect("runs")
            });
        });
}

criterion_group!(benches, fast_vs_gcc);
criterion_main!(benches);
