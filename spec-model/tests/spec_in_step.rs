//! The spec, the model and the diagnostics stay in step: every rule id has a
//! heading in spec/, and every diagnostic code is documented in chapter 3.

use spec_model::RuleId;
use spec_model::diag::CODES;

fn spec_text() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let mut out = String::new();
    for e in std::fs::read_dir(dir).expect("spec/ exists").flatten() {
        // The chapters; spec/sysv is the Z3 statement of the ABI, a crate.
        if e.path().extension().is_some_and(|x| x == "md") {
            out.push_str(&std::fs::read_to_string(e.path()).expect("readable"));
        }
    }
    out
}

#[test]
fn every_rule_has_one_heading() {
    let spec = spec_text();
    for r in RuleId::ALL {
        let heading = format!("### `{}`", r.id());
        let n = spec.lines().filter(|l| l.trim() == heading).count();
        assert_eq!(n, 1, "rule {} has {n} headings in spec/", r.id());
        assert_eq!(RuleId::from_id(r.id()), Some(*r));
    }
}

#[test]
fn every_code_is_documented() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/03-verifier-errors.md");
    let ch3 = std::fs::read_to_string(dir).expect("chapter 3 exists");
    for (code, _) in CODES {
        assert!(
            ch3.contains(&format!("| `{code}` |")),
            "code {code} is not in spec/03-verifier-errors.md"
        );
    }
}
