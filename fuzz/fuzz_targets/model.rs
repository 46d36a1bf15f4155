//! Any text that verifies: every function runs to an outcome within small budgets,
//! never a panic and never a model bug.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spec_model::{Budgets, ModelError};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(l) = spec_model::load(&[("fuzz.uir", &text)]) else { return };
    for (_, r) in l.run_every_function(Budgets { fuel: 50_000, alloc: 1 << 20, stack: 128 }) {
        if let Err(ModelError::Bug(b)) = r {
            panic!("model bug: {b}");
        }
    }
});
