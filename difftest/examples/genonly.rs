use difftest::{Campaign, Config};
fn main() {
    let set: Vec<String> = std::env::var("MUNI_SET").map(|s| s.split(',').map(String::from).collect()).unwrap_or_default();
    let c = Campaign::new(1, Config::default().with_settings(&set).unwrap()).unwrap();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let t = std::time::Instant::now();
    let mut total = 0;
    let mut insts = 0;
    let mut loadt = std::time::Duration::ZERO;
    for _ in 0..1000 {
        let bytes: Vec<u8> = (0..4096).map(|_| { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; rng as u8 }).collect();
        let p = c.program(&bytes);
        if std::env::args().nth(1).as_deref() == Some("show") { println!("{}", p.text); return; }
        total += p.text.len();
        insts += p.text.lines().filter(|l| l.starts_with("        ")).count();
        if std::env::args().nth(1).is_some() { let s = std::time::Instant::now(); let _ = spec_model::load(&[("g.uir", &p.text)]); loadt += s.elapsed(); }
    }
    println!("{:.1} µs/program gen, {} bytes, {} insts avg; load {:.1} µs", t.elapsed().as_secs_f64()*1e3 - loadt.as_secs_f64()*1e3, total/1000, insts/1000, loadt.as_secs_f64()*1e3);
}
