//! Any text that verifies: every function runs to an outcome within small budgets,
//! never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spec_model::Budgets;
use spec_model::machine::zero_value;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(l) = spec_model::load(&[("fuzz.uir", &text)]) else { return };
    let budgets = Budgets { fuel: 50_000, alloc: 1 << 20, stack: 128 };
    for (i, f) in l.module.funcs.iter().enumerate() {
        if f.body.is_none() {
            continue;
        }
        let args = l.module.types.sig(f.sig).params.iter().map(|t| zero_value(&l.module.types, *t)).collect();
        let mut m = l.machine(budgets);
        if let Ok(None) = m.start(i as u32, args) {
            let _ = m.run();
        }
    }
});
