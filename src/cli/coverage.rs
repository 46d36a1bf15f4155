//! `muni coverage`: each spec rule and the corpus tests (and, with `--generated N`,
//! generated programs) that make it fire.

use super::conform::scripts;
use muni::conform;
use std::process::ExitCode;

pub(crate) fn coverage(paths: &[String], json: bool, generated: Option<u64>) -> ExitCode {
    let files = match scripts(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let cfg = conform::Config::default();
    let reports: Vec<conform::FileReport> = files
        .iter()
        .map(|(p, root)| {
            conform::run_file(
                p,
                &conform::test_name(root, p),
                &conform::Engine::Spec,
                &cfg,
            )
        })
        .collect();
    let rows = conform::coverage(&reports);
    let missing = rows.iter().filter(|r| r.2.is_empty()).count();
    let gen_counts = match generated.map(super::difftest::generated_rule_counts) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            eprintln!("muni: {e}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let gen_of = |r: &spec_model::RuleId| {
        gen_counts
            .as_ref()
            .map(|c| c.get(*r as usize).copied().unwrap_or(0))
    };
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(r, n, tests)| {
                serde_json::json!({"rule": r.id(), "fired": n, "tests": tests, "generated": gen_of(r)})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let gen_head = if gen_counts.is_some() {
            " generated"
        } else {
            ""
        };
        println!(
            "{:<28} {:>9}{gen_head}  corpus tests that fire it",
            "rule", "fired"
        );
        for (r, n, tests) in &rows {
            let shown: Vec<&str> = tests.iter().take(3).map(String::as_str).collect();
            let more = if tests.len() > 3 {
                format!(" and {} more", tests.len() - 3)
            } else {
                String::new()
            };
            let list = if tests.is_empty() {
                "NONE".to_string()
            } else {
                format!("{}{more}", shown.join(", "))
            };
            let g = gen_of(r).map_or(String::new(), |g| format!(" {g:>9}"));
            println!("{:<28} {:>9}{g}  {list}", r.id(), n);
        }
        let covered = rows.len() - missing;
        println!(
            "{covered} of {} rules have a corpus test ({:.0}%)",
            rows.len(),
            100.0 * covered as f64 / rows.len().max(1) as f64
        );
    }
    if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
