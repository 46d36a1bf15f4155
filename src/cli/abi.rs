//! `muni abi`: the Z3 statement of the SysV ABI (spec/08-layout-abi.md §8.2)
//! against muni. `check` judges the layout and classification of every
//! native-safe type of a bundle and the lowering of every CCALL and exposed
//! signature; `prove` runs the bounded proofs.

use super::*;
use muni::abi;
use serde::Serialize;
use spec_model::ir::{Op, Type};

#[derive(Serialize)]
struct Verdict {
    what: String,
    subject: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

pub(crate) fn check(files: &[String], json: bool) -> ExitCode {
    let loaded = match load_files(files) {
        Ok(l) => l,
        Err(e) => return report_load_error(e, json),
    };
    let module = &loaded.module;
    let types = &module.types;
    let mut verdicts = Vec::new();
    let mut say = |what: &str, subject: String, r: Result<(), sysv::Disagreement>| {
        verdicts.push(Verdict {
            what: what.to_string(),
            subject,
            ok: r.is_ok(),
            problem: r.err().map(|d| d.to_string()),
        });
    };
    // Every named native-safe type that has a layout of its own.
    for (i, name) in types.names.iter().enumerate() {
        let t = i as u32;
        if !name.starts_with('@') || matches!(types.get(t), Type::Void) || !types.native_safe(t) {
            continue;
        }
        let Some(ct) = abi::ctype(types, t) else {
            continue;
        };
        let answer = abi::type_answer(types, t);
        say(
            "type",
            format!("{name} = {ct}"),
            sysv::check_type(&ct, &answer),
        );
    }
    // The signatures that cross to C: CCALLs and exposed functions.
    let mut sigs = Vec::new();
    for f in &module.funcs {
        for b in f.body.iter().flat_map(|b| &b.blocks) {
            for i in &b.insts {
                if let Op::CCall { sig, .. } = &i.op {
                    sigs.push(*sig);
                }
            }
        }
    }
    sigs.extend(
        module
            .exposes
            .iter()
            .map(|e| module.funcs[e.func as usize].sig),
    );
    sigs.sort_unstable();
    sigs.dedup();
    for s in sigs {
        let name = types.sig_names.get(s as usize).cloned().unwrap_or_default();
        let Some(cs) = abi::csig(types, s) else {
            say(
                "call",
                name,
                Err(sysv::Disagreement {
                    subject: types.show_sig(s),
                    problems: vec!["not a C signature".into()],
                    broken: vec![],
                }),
            );
            continue;
        };
        let answer = abi::sig_answer(types, s);
        say(
            "call",
            format!("{name} = {cs}"),
            sysv::check_sig(&cs, &answer),
        );
    }
    let bad = verdicts.iter().filter(|v| !v.ok).count();
    if json {
        println!("{}", serde_json::to_string(&verdicts).unwrap_or_default());
    } else {
        for v in &verdicts {
            match &v.problem {
                None => println!("ok    {} {}", v.what, v.subject),
                Some(p) => println!(
                    "FAIL  {} {}\n      {}",
                    v.what,
                    v.subject,
                    p.replace('\n', "\n      ")
                ),
            }
        }
        println!(
            "{} checked, {} disagree with the rules",
            verdicts.len(),
            bad
        );
    }
    if bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

pub(crate) fn prove(max_fields: usize, threads: usize, json: bool) -> ExitCode {
    let t0 = std::time::Instant::now();
    let rows = sysv::prove::prove(max_fields, &abi::ModelAbi, threads);
    let failed: usize = rows.iter().map(|r| r.failures.len()).sum();
    if json {
        println!("{}", serde_json::to_string(&rows).unwrap_or_default());
    } else {
        println!(
            "shapes: structs of up to {max_fields} fields in all, nested at most 2 deep, over {} field kinds ({})",
            sysv::prove::menu().len(),
            sysv::prove::menu()
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "{:>6} {:>9} {:>9} {:>12} {:>12}  result",
            "fields", "skeletons", "shapes", "symbolic s", "enumerated s"
        );
        for r in &rows {
            println!(
                "{:>6} {:>9} {:>9} {:>12.1} {:>12.1}  {}",
                r.fields,
                r.skeletons,
                r.shapes,
                r.symbolic_secs,
                r.enumerated_secs,
                if r.failures.is_empty() {
                    "proved".to_string()
                } else {
                    format!("{} FAILED", r.failures.len())
                }
            );
            for f in &r.failures {
                println!("  {}", f.replace('\n', "\n  "));
            }
        }
        let shapes: u64 = rows.iter().map(|r| r.shapes).sum();
        println!(
            "{shapes} shapes: the model's layout, classes and locations equal the rules' ({:.1} s wall on {threads} threads)",
            t0.elapsed().as_secs_f64()
        );
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

pub(crate) fn random(o: &abi::random::Options, json: bool) -> ExitCode {
    let r = abi::random::run(o);
    if json {
        println!("{}", serde_json::to_string(&r).unwrap_or_default());
    } else {
        println!(
            "types: {} random structs checked against the rules ({:.1} s wall on {} threads)",
            r.types, r.type_secs, o.threads
        );
        println!(
            "calls: {} checked, {} of them the pitfall cases ({:.1} s wall)",
            r.sigs,
            abi::random::pitfalls().len(),
            r.sig_secs
        );
        for d in &r.disagreements {
            println!("FAIL  {}", d.replace('\n', "\n      "));
        }
        println!("{} disagree with the rules", r.disagreements.len());
        if let Some(e) = &r.capture_error {
            println!("captures: could not run: {e}");
        }
        let parties =
            |ps: &[abi::capture::Party]| ps.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
        let mut agree = 0;
        for c in &r.captures {
            let named = !c.name.starts_with("random call");
            if c.problems.is_empty() {
                agree += 1;
            }
            if named || !c.problems.is_empty() {
                println!(
                    "{}  {}\n      {}\n      calls by {}; callbacks to {}{}",
                    if c.problems.is_empty() {
                        "ok  "
                    } else {
                        "FAIL"
                    },
                    c.name,
                    c.sig,
                    parties(&c.calls),
                    if c.callbacks.is_empty() {
                        "none (variadic)".to_string()
                    } else {
                        parties(&c.callbacks)
                    },
                    c.not_tried
                        .as_ref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                );
                for p in c.problems.iter().take(8) {
                    println!("      {p}");
                }
                if c.problems.len() > 8 {
                    println!("      … and {} more", c.problems.len() - 8);
                }
            }
        }
        let three = r
            .captures
            .iter()
            .filter(|c| c.problems.is_empty() && c.calls.len() == 3)
            .count();
        println!(
            "captures: {agree} of {} calls agree byte for byte with the rules, {three} of them across gcc, the model and the fast VM in both directions ({:.1} s)",
            r.captures.len(),
            r.capture_secs
        );
    }
    if r.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
