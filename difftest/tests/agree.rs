//! Properties of the generator and of the two engines on what it generates.

use difftest::{Verdict, check, program_of, strategy};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every generated program loads, is free of undefined behaviour on the model,
    /// and both engines give the same outcome, final globals and native trace,
    /// with and without GC stress.
    #[test]
    fn engines_agree_on_generated_programs(bytes in strategy(4096)) {
        difftest::load_clib().map_err(TestCaseError::fail)?;
        let p = program_of(&bytes);
        let c = check(&p, &[false, true]);
        prop_assert!(
            matches!(c.verdict, Verdict::Agree),
            "{:?}\n{}\n{} {:?}",
            c.verdict,
            p.text.split_once(".expose @cb_native").map_or("", |x| x.1),
            p.entry,
            p.args
        );
    }
}
