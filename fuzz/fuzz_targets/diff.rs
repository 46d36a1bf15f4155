//! Generated programs (difftest's generator reading libFuzzer's bytes) on both
//! engines: outcome, final globals and native trace agree, with and without GC
//! stress, and no generated program loads badly or has undefined behaviour.
#![no_main]
use difftest::{Verdict, check, program_of};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    difftest::load_clib().expect("the C library builds");
    let p = program_of(data);
    match check(&p, &[false, true]).verdict {
        Verdict::Agree | Verdict::Unsupported(_) => {}
        v => panic!("{v:?}\n{}\nentry {} {:?}", p.text, p.entry, p.args),
    }
});
