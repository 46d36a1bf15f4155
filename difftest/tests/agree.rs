//! Properties of the generator and of the engines on what it generates.

use difftest::{Campaign, Config, Verdict, check, strategy};
use proptest::prelude::*;
use std::sync::OnceLock;

fn campaign() -> &'static Campaign {
    static C: OnceLock<Campaign> = OnceLock::new();
    C.get_or_init(|| Campaign::new(3, Config::default()).expect("the C libraries build"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every generated program loads, is free of undefined behaviour on the model,
    /// and every build of the fast VM gives the model's outcome, final state and
    /// native trace, with and without GC stress.
    #[test]
    fn every_build_agrees_with_the_model_on_generated_programs(bytes in strategy(4096)) {
        let p = campaign().program(&bytes);
        let c = check(&p, true);
        prop_assert!(matches!(c.verdict, Verdict::Agree), "{:?}\n{}\n{} {:?}", c.verdict, p.text, p.entry, p.inputs);
    }
}
