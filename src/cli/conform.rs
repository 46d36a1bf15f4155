//! `muni conform`: the conformance scripts judged on the model, the fast VM or an
//! outside implementation; `--isolate` runs each script in a child; `--emit-json`
//! writes the scripts' JSON twins.

use clap::Args;
use muni::conform;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ConformArgs {
    /// Scripts or folders of scripts (default: corpus/).
    pub paths: Vec<String>,
    /// The engine: `spec`, `fast` or `both`.
    #[arg(long, default_value = "spec", value_parser = ["spec", "fast", "both"])]
    pub engine: String,
    /// Judge an outside implementation instead: a shell command that speaks the
    /// protocol of spec/07-corpus.md.
    #[arg(long = "impl", value_name = "COMMAND")]
    pub implementation: Option<String>,
    /// Run each script in a child process, so that a crash is a failed test.
    #[arg(long)]
    pub isolate: bool,
    /// The expectations file (default: expectations.toml of the corpus root).
    #[arg(long, value_name = "FILE")]
    pub expect: Option<String>,
    /// On a failed model run, show the last rules the model applied.
    #[arg(long)]
    pub explain: bool,
    /// Write the JSON twin of every script into DIR (mirroring the corpus) and stop.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "target/conform-json")]
    pub emit_json: Option<String>,
    /// Print every judgement as a JSON line, then the totals as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The scripts named on the command line, each with its corpus root.
pub(crate) fn scripts(paths: &[String]) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let roots: Vec<String> = if paths.is_empty() {
        vec!["corpus".into()]
    } else {
        paths.to_vec()
    };
    let mut out = Vec::new();
    for r in &roots {
        let p = Path::new(r);
        if !p.exists() {
            return Err(format!("muni: {r} does not exist"));
        }
        let root = conform::corpus_root(p);
        let mut files = Vec::new();
        conform::script_files(p, &mut files);
        out.extend(files.into_iter().map(|f| (f, root.clone())));
    }
    Ok(out)
}

pub(crate) fn conform(a: &ConformArgs) -> ExitCode {
    let files = match scripts(&a.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &a.emit_json {
        return emit_json(&files, Path::new(dir));
    }
    let expect_path = a
        .expect
        .as_ref()
        .map(PathBuf::from)
        .or_else(|| {
            files
                .first()
                .map(|(_, root)| root.join("expectations.toml"))
        })
        .filter(|p| a.expect.is_some() || p.exists());
    let expectations = match &expect_path {
        Some(p) => match conform::expect::Expectations::read(p) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("muni: {e}");
                return ExitCode::from(2);
            }
        },
        None => conform::expect::Expectations::default(),
    };
    let cfg = conform::Config {
        expectations,
        explain: a.explain,
    };
    let engines: Vec<conform::Engine> = match (&a.implementation, a.engine.as_str()) {
        (Some(cmd), _) => vec![conform::Engine::Impl(cmd.clone())],
        (None, "fast") => vec![conform::Engine::Fast],
        (None, "both") => vec![conform::Engine::Spec, conform::Engine::Fast],
        _ => vec![conform::Engine::Spec],
    };
    let mut totals = conform::Totals::default();
    let mut crashed = 0usize;
    for (path, root) in &files {
        let name = conform::test_name(root, path);
        for engine in &engines {
            let report = if a.isolate {
                match isolated(a, path, engine, expect_path.as_deref()) {
                    Ok(r) => r,
                    Err(why) => {
                        crashed += 1;
                        println!("FAIL {name} [{}]: {why}", engine.name());
                        continue;
                    }
                }
            } else {
                conform::run_file(path, &name, engine, &cfg)
            };
            for c in &report.checked {
                if a.json {
                    println!("{}", serde_json::to_string(c).unwrap_or_default());
                } else if let conform::Verdict::Fail(why) = &c.verdict {
                    println!("FAIL {} [{}]: {why}", c.test, c.engine);
                }
            }
            totals.add(&report);
        }
    }
    let failed = totals.failed + crashed;
    if a.json {
        let v = serde_json::json!({
            "passed": totals.passed, "failed": failed,
            "expected_failures": totals.expected_failures, "skipped": totals.skipped,
        });
        println!("{v}");
    } else {
        let mut skipped: Vec<_> = totals.skipped.iter().collect();
        skipped.sort();
        for (why, n) in skipped {
            println!("({n} skipped: {why})");
        }
        if totals.expected_failures > 0 {
            println!(
                "({} expected failures, as the expectations file lists)",
                totals.expected_failures
            );
        }
        println!("{} passed, {failed} failed", totals.passed);
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs one script in a child `muni conform --json`, so that a crash in native
/// code is a failed test and not a dead runner.
fn isolated(
    a: &ConformArgs,
    path: &Path,
    engine: &conform::Engine,
    expect: Option<&Path>,
) -> Result<conform::FileReport, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut c = std::process::Command::new(exe);
    c.arg("conform").arg(path).arg("--json");
    match engine {
        conform::Engine::Impl(cmd) => {
            c.arg("--impl").arg(cmd);
        }
        e => {
            c.arg("--engine").arg(e.name());
        }
    }
    if let Some(p) = expect {
        c.arg("--expect").arg(p);
    }
    if a.explain {
        c.arg("--explain");
    }
    let o = c.output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&o.stdout);
    let mut report = conform::FileReport::default();
    let mut lines = stdout.lines().peekable();
    let mut finished = false;
    while let Some(l) = lines.next() {
        if lines.peek().is_none() {
            finished = l.contains("\"passed\"");
            break;
        }
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
            let test = v["test"].as_str().unwrap_or_default().to_string();
            let detail = v["verdict"]["detail"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let verdict = match v["verdict"]["verdict"].as_str() {
                Some("pass") => conform::Verdict::Pass,
                Some("expected_fail") => conform::Verdict::ExpectedFail(detail),
                Some("skip") => conform::Verdict::Skip(detail),
                _ => conform::Verdict::Fail(detail),
            };
            report.checked.push(conform::Checked {
                test,
                engine: engine.name(),
                verdict,
            });
        }
    }
    if !finished {
        return Err(match o.status.code() {
            Some(c) => format!("the child runner ended early (exit status {c})"),
            None => "the child runner crashed (killed by a signal)".to_string(),
        });
    }
    Ok(report)
}

/// Writes the JSON twin of each script: its headers, bundles (as written, and in
/// canonical text when they parse) and assertions with their lines.
fn emit_json(files: &[(PathBuf, PathBuf)], dir: &Path) -> ExitCode {
    let mut written = 0;
    for (path, root) in files {
        let name = conform::test_name(root, path);
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("muni: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        let script = match conform::script::parse(&name, &text) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("muni: {e}");
                return ExitCode::from(2);
            }
        };
        let sections: Vec<serde_json::Value> = script
            .sections
            .iter()
            .map(|s| {
                let canonical = spec_model::syntax::parse_file(0, &s.text)
                    .ok()
                    .map(|(b, _)| spec_model::syntax::print::print_bundle(&b));
                serde_json::json!({
                    "name": s.name, "line": s.line, "bundle_file": s.bundle_file,
                    "text": s.text, "canonical": canonical, "assertions": s.asserts,
                })
            })
            .collect();
        let twin = serde_json::json!({
            "file": name, "features": script.features, "clib": script.clib,
            "sections": sections,
        });
        let out = dir.join(format!("{name}.json"));
        let written_ok = out
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::write(
                    &out,
                    serde_json::to_string_pretty(&twin).unwrap_or_default(),
                )
            });
        if let Err(e) = written_ok {
            eprintln!("muni: {}: {e}", out.display());
            return ExitCode::from(2);
        }
        written += 1;
    }
    println!("wrote {written} JSON twins to {}", dir.display());
    ExitCode::SUCCESS
}
