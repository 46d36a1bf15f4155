//! The conformance suite in `cargo test`: one trial per (script, engine)
//! (libtest-mimic), judged with corpus/expectations.toml, plus the rule-coverage
//! gate: every rule of the semantics fires in some corpus test.

use libtest_mimic::{Arguments, Trial};
use muni::conform::{self, Config, Engine, Verdict};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut paths: Vec<PathBuf> = Vec::new();
    conform::script_files(&root, &mut paths);
    assert!(
        paths.len() >= 30,
        "the corpus has {} scripts; expected at least 30",
        paths.len()
    );
    let expectations = conform::expect::Expectations::read(&root.join("expectations.toml"))
        .expect("corpus/expectations.toml reads");
    let cfg = Arc::new(Config {
        expectations,
        explain: true,
    });
    let mut trials = Vec::new();
    for engine in [Engine::Spec, Engine::Fast] {
        for p in &paths {
            let (p, root, cfg, engine) = (p.clone(), root.clone(), cfg.clone(), engine.clone());
            let name = conform::test_name(&root, &p);
            trials.push(Trial::test(
                format!("{}::{name}", engine.name()),
                move || {
                    let report = conform::run_file(&p, &name, &engine, &cfg);
                    // A call the fast VM does not compile is skipped by `muni conform`
                    // (other implementers see the count); here it fails: the fast VM
                    // compiles everything the model runs.
                    let failures: Vec<String> = report
                        .checked
                        .iter()
                        .filter_map(|c| match &c.verdict {
                            Verdict::Fail(why) => Some(format!("{}: {why}", c.test)),
                            Verdict::Skip(why) if why.starts_with(conform::NOT_COMPILED) => {
                                Some(format!("{}: {why}", c.test))
                            }
                            _ => None,
                        })
                        .collect();
                    if failures.is_empty() {
                        Ok(())
                    } else {
                        Err(failures.join("\n").into())
                    }
                },
            ));
        }
    }
    let cfg2 = cfg.clone();
    trials.push(Trial::test("spec::rule-coverage", move || {
        let reports: Vec<_> = paths
            .iter()
            .map(|p| conform::run_file(p, &conform::test_name(&root, p), &Engine::Spec, &cfg2))
            .collect();
        let missing: Vec<&str> = conform::coverage(&reports)
            .into_iter()
            .filter(|(_, _, tests)| tests.is_empty())
            .map(|(r, _, _)| r.id())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("rules no corpus test fires: {}", missing.join(", ")).into())
        }
    }));
    libtest_mimic::run(&args, trials).exit();
}
