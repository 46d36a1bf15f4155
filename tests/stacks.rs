//! Overflow on a swapped-to stack (spec/12 §12.7) ends as the model says, and
//! never kills the process: the fast VM checks the stack budget and its
//! mapping's room before every call, so no run reaches the guard page.

mod common;
use common::muni;

const BUNDLE: &str = "tests/bundles/deep_stacks.uir";

/// `muni run` of `func` with `args`: the outcome line (the process must exit,
/// not die of a signal).
fn run(func: &str, args: &[&str]) -> String {
    let mut all = vec!["run", BUNDLE, "--fn", func];
    all.extend(args);
    let (code, out, err) = muni(&all);
    assert!(code >= 0, "muni died of a signal: {err}");
    out.trim().to_string()
}

#[test]
fn both_engines_overflow_a_swapped_to_stack_alike() {
    for stack in ["50", "10000", "100000"] {
        let fuel = ["--fuel", "100000000", "--stack", stack];
        for func in ["@main", "@main_down"] {
            let spec = run(func, &[&fuel[..], &["--engine", "spec"]].concat());
            let fast = run(func, &[&fuel[..], &["--engine", "fast"]].concat());
            let gc = run(
                func,
                &[&fuel[..], &["--engine", "fast", "--gc-stress"]].concat(),
            );
            assert_eq!(spec, fast, "{func} --stack {stack}");
            assert_eq!(spec, gc, "{func} --stack {stack}");
        }
    }
    let n: u64 = 100_000 - 1;
    assert_eq!(
        run("@main", &["--fuel", "100000000", "--stack", "100000"]),
        format!("return {n}")
    );
}

#[test]
fn a_budget_beyond_the_mapping_ends_as_exhausted_stack_not_a_crash() {
    // 10^8 frames do not fit in a stack's 1 GiB mapping: the fast VM's check of
    // the mapping's room ends the recursion first, before the guard page.
    let args = [
        "--engine",
        "fast",
        "--stack",
        "100000000",
        "--fuel",
        "2000000000",
    ];
    assert_eq!(run("@main_down", &args), "exhausted stack");
    let probe = run("@main", &args);
    let depth: u64 = probe
        .strip_prefix("return ")
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("{probe}"));
    assert!(depth > 1_000_000, "{probe}");
}
