//! Generated programs (difftest's generator reading libFuzzer's bytes) on the model
//! and every build of the fast VM: outcome, final globals and objects, and native
//! trace agree, with and without GC stress. A program that does not load, that the
//! model finds undefined, or that the fast VM does not compile is a finding too.
#![no_main]
use difftest::{Campaign, Config, Verdict, check};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn campaign() -> &'static Campaign {
    static C: OnceLock<Campaign> = OnceLock::new();
    C.get_or_init(|| Campaign::new(1, Config::default()).expect("the C libraries build"))
}

fuzz_target!(|data: &[u8]| {
    let p = campaign().program(data);
    match check(&p, true).verdict {
        Verdict::Agree => {}
        v => panic!("{v:?}\n{}\nentry {} {:?}", p.text, p.entry, p.inputs),
    }
});
