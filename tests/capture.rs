//! The machine as the third oracle (src/abi/capture.rs): gcc-built C, the model's
//! CCALL (libffi) and the fast VM's CCALL call an assembly stub that records the
//! argument registers, `%al` and the stack, and a second stub calls gcc's and each
//! engine's exposed callee from a register image. Every byte the ABI defines must be
//! where the rules put it, for the pitfall cases and for random calls; and a wrong
//! placement is caught.

use muni::abi::capture::{self, Case, Party};
use muni::abi::random::{self, Rng};
use sysv::{Loc, RetAnswer};

fn case(name: &str, sig: sysv::Sig) -> Case {
    let rules = sysv::solve_sig(&sig).expect("the rules answer");
    Case {
        name: name.to_string(),
        sig,
        rules,
    }
}

/// Every pitfall of the notes' table, and 40 random calls of up to 16 arguments:
/// gcc, the model and the fast VM agree byte for byte with the rules, both ways.
#[test]
fn the_machine_agrees_with_the_rules() {
    let mut cases: Vec<Case> = random::pitfalls()
        .into_iter()
        .chain(random::gcc_only())
        .map(|(n, s)| case(n, s))
        .collect();
    let mut rng = Rng(0xCA97_0BE5);
    for i in 0..40 {
        let sig = random::call(&mut rng);
        cases.push(case(&format!("random call {i}"), sig));
    }
    let verdicts = capture::run(&cases).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verdicts.len(), cases.len());
    let all = [Party::Gcc, Party::Model, Party::Fast];
    for v in &verdicts {
        assert!(
            v.problems.is_empty(),
            "{}: {}\n{:#?}",
            v.name,
            v.sig,
            v.problems
        );
        if v.not_tried.is_some() {
            // `{__int128}`: Mu cannot express it yet, gcc alone is captured.
            assert_eq!(v.calls, [Party::Gcc], "{}", v.name);
            assert_eq!(v.callbacks, [Party::Gcc], "{}", v.name);
        } else {
            assert_eq!(v.calls, all, "{}", v.name);
            let variadic = v.name.starts_with("varargs");
            let want: &[Party] = if variadic { &[] } else { &all };
            assert_eq!(v.callbacks, want, "{}", v.name);
        }
    }
}

/// The capture compares real bytes: told that `{double, long}` comes back with its
/// eightbytes swapped, and that `{long, long}` after five ints goes in r8 and r9
/// rather than on the stack, every party is caught out.
#[test]
fn a_wrong_placement_is_caught() {
    let pitfalls = random::pitfalls();
    let find = |prefix: &str| {
        let (n, s) = pitfalls
            .iter()
            .find(|(n, _)| n.starts_with(prefix))
            .expect("a pitfall")
            .clone();
        case(n, s)
    };
    let mut swapped = find("{double, long} returned");
    swapped.rules.ret = RetAnswer::Regs(vec![Loc::Rax, Loc::Xmm(0)]);
    let mut split = find("a split at r9");
    split.rules.args[5].eightbytes = vec![Loc::Arg(4), Loc::Arg(5)];
    split.rules.args[5].stack = None;
    let verdicts = capture::run(&[swapped, split]).unwrap_or_else(|e| panic!("{e}"));
    for party in ["gcc", "model", "fast VM"] {
        assert!(
            verdicts[0]
                .problems
                .iter()
                .any(|p| p.starts_with(&format!("call, {party}:"))
                    && p.contains("the result's byte 0 of the double at +0 (from rax)")),
            "{:#?}",
            verdicts[0].problems
        );
        assert!(
            verdicts[1]
                .problems
                .iter()
                .any(|p| p.starts_with(&format!("call, {party}:"))
                    && p.contains("argument 6 `{long, long}`: byte 0 of the long at +0")),
            "{:#?}",
            verdicts[1].problems
        );
    }
}
