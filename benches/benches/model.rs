//! Throughput of the reference model, in steps per second (criterion's
//! "elements"). Run: `cargo bench -p muni-benches --bench model`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use muni_benches::{FIB, HEAP_LOOP, SUM_LOOP};
use spec_model::machine::Value;
use spec_model::run::{Engine, Model, Request};
use spec_model::{Budgets, load};
use std::hint::black_box;

/// Steps one run takes, counted by the machine itself.
fn steps(text: &str, func: &str, arg: u64) -> u64 {
    let l = load(&[("bench.uir", text)]).expect("bench kernel loads");
    let f = l.func(func).expect("function exists");
    let budgets = Budgets {
        fuel: u64::MAX,
        ..Budgets::default()
    };
    let seen = Model::new(&l)
        .run(&Request::new(f, &[Value::Int(arg)], budgets))
        .expect("runs");
    // Every step applies exactly one rule.
    seen.rules.expect("the model counts rules").iter().sum()
}

fn bench_kernel(c: &mut Criterion, name: &str, text: &str, func: &str, arg: u64) {
    let l = load(&[("bench.uir", text)]).expect("bench kernel loads");
    let f = l.func(func).expect("function exists");
    let mut g = c.benchmark_group("model");
    g.throughput(Throughput::Elements(steps(text, func, arg)));
    let budgets = Budgets {
        fuel: u64::MAX,
        ..Budgets::default()
    };
    let mut model = Model::new(&l);
    g.bench_function(name, |b| {
        b.iter(|| {
            let args = [Value::Int(black_box(arg))];
            black_box(model.run(&Request::new(f, &args, budgets)).expect("runs"))
        })
    });
    g.finish();
}

fn model(c: &mut Criterion) {
    bench_kernel(c, "sum_loop_100k", SUM_LOOP, "@sum", 100_000);
    bench_kernel(c, "fib_20", FIB, "@fib", 20);
    bench_kernel(c, "heap_loop_10k", HEAP_LOOP, "@run", 10_000);
}

criterion_group!(benches, model);
criterion_main!(benches);
