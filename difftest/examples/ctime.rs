use std::time::Instant;
fn main() {
    let text = ".typedef @i64 = int<64>\n.funcsig @sig = (@i64 @i64) -> (@i64)\n.funcdef @f0 VERSION %v1 <@sig> { %e(<@i64> %a <@i64> %b): RET %a }\n";
    let l = spec_model::load(&[("t.uir", text)]).expect("loads");
    let n = 2000;
    let s = Instant::now();
    for _ in 0..n {
        let _ = fast_vm::Program::compile_roots(&l.module, fast_vm::Options { fuel_checks: false, trace_native: false }, &[0]);
    }
    println!("trivial compile {:.1} µs", s.elapsed().as_secs_f64() * 1e6 / n as f64);
}
