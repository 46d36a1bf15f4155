//! Syntax trees the parser accepts, printed and reparsed: the verifier answers
//! every one with a module or diagnostics, never a panic, and printing is stable
//! (the printed form of a parsed bundle parses to the same printed form).
#![no_main]
use libfuzzer_sys::fuzz_target;
use spec_model::syntax::{parse_file, print::print_bundle};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok((bundle, _)) = parse_file(0, &text) else { return };
    let printed = print_bundle(&bundle);
    let (again, _) = parse_file(0, &printed).expect("the printer's output parses");
    assert_eq!(print_bundle(&again), printed, "printing is not stable");
    let _ = spec_model::verify::verify(&again);
});
