//! Writes N generated programs to a folder (for looking at what the generator makes).
use difftest::{Campaign, Config};
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let dir = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "/tmp/progs".into());
    let c = Campaign::new(1, Config::default()).expect("the C libraries build");
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for k in 0..n {
        let bytes = difftest::xorshift_bytes(&mut rng, 4096);
        std::fs::write(format!("{dir}/p{k}.uir"), c.program(&bytes).text).expect("writes");
    }
}
