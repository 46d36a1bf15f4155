//! A fully cached compile and run of one program, many times (where the fixed cost goes).
use difftest::{Campaign, Config, run_fast};
fn main() {
    let c = Campaign::new(1, Config::default()).unwrap();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..4096).map(|_| { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; rng as u8 }).collect();
    let p = c.program(&bytes);
    let l = spec_model::load(&[("g.uir", &p.text)]).unwrap();
    let f = l.func(&p.entry).unwrap();
    let mode = std::env::args().nth(1).unwrap_or_default();
    let t = std::time::Instant::now();
    for _ in 0..2000 {
        if mode == "compile" {
            let _ = fast_vm::Program::compile_roots(&l.module, fast_vm::Options { fuel_checks: true, trace_native: false }, &[f]);
        } else {
            let _ = run_fast(&l, &p, false, true, &[false]);
        }
    }
    println!("{:.1} µs per {mode}", t.elapsed().as_secs_f64() * 1e6 / 2000.0);
}
