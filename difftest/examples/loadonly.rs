fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..2000 { let _ = spec_model::load(&[("g.uir", &text)]); }
    println!("{:.1} µs per load", t.elapsed().as_secs_f64() * 1e6 / 2000.0);
}
