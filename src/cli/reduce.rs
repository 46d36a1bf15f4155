//! `muni reduce CASE`: a program the engines disagree on, made smaller.

use difftest::generate::Program;
use difftest::{Campaign, Config, Verdict, check};
use std::process::ExitCode;

/// `muni reduce CASE`: shrinks a program on which the engines disagree, keeping
/// the disagreement, and prints the smaller program.
pub fn reduce(
    case: &str,
    func: Option<&str>,
    args: &[String],
    gc_stress: bool,
    seed: u64,
) -> ExitCode {
    // The C libraries of the campaign the case came from.
    if let Err(e) = Campaign::new(seed, Config::default()) {
        eprintln!("muni: {e}");
        return ExitCode::from(2);
    }
    let text = match std::fs::read_to_string(case) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("muni: {case}: {e}");
            return ExitCode::from(2);
        }
    };
    // The call: given, or the one the reproducer's assertion makes.
    let (entry, args) = match func {
        Some(f) => (f.to_string(), args.to_vec()),
        None => match text.lines().find_map(|l| {
            let l = l.trim_start().strip_prefix("// assert_")?;
            let call = l.split_once(' ')?.1;
            let (f, rest) = call.split_once('(')?;
            // The arguments end at the parenthesis that closes the call (literals
            // such as `bitsd(0x1)` have their own).
            let mut depth = 0usize;
            let end = rest.char_indices().find_map(|(i, c)| match c {
                '(' => {
                    depth += 1;
                    None
                }
                ')' if depth == 0 => Some(i),
                ')' => {
                    depth -= 1;
                    None
                }
                _ => None,
            })?;
            Some((
                f.trim().to_string(),
                rest[..end].split_whitespace().map(String::from).collect(),
            ))
        }) {
            Some(x) => x,
            None => ("@f0".to_string(), vec!["0".to_string(), "0".to_string()]),
        },
    };
    // The client's plan stays as the reproducer gives it; only the bundle shrinks.
    let plan = difftest::client::plan_from_text(&text);
    let program = |t: &str| Program {
        text: t.to_string(),
        entry: entry.clone(),
        inputs: vec![args.clone()],
        client: plan.clone(),
    };
    let first = check(&program(&text), gc_stress);
    let Verdict::Diverge(why) = first.verdict else {
        eprintln!(
            "muni: the engines agree on {case} ({:?}); nothing to reduce",
            first.verdict
        );
        return ExitCode::from(2);
    };
    let before = text.lines().count();
    let small = difftest::reduce::reduce(&text, |t| {
        matches!(check(&program(t), gc_stress).verdict, Verdict::Diverge(_))
    });
    eprintln!(
        "muni: {before} lines reduced to {} that still diverge ({why})",
        small.lines().count()
    );
    print!("{small}");
    ExitCode::SUCCESS
}
