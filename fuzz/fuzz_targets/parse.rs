//! Any text: the parser and verifier answer with diagnostics, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = spec_model::load(&[("fuzz.uir", &text)]) {
        let _ = e.render();
    }
});
