//! Runs every corpus file on the model, one trial per file (libtest-mimic).

use libtest_mimic::{Arguments, Trial};
use spec_model::RuleId;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "uir") {
            out.push(p);
        }
    }
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut paths = Vec::new();
    files(&root, &mut paths);
    assert!(
        paths.len() >= 30,
        "the corpus has {} files; expected at least 30",
        paths.len()
    );
    let mut trials: Vec<Trial> = paths
        .iter()
        .cloned()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            Trial::test(format!("spec::{name}"), move || {
                let text = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
                muni::corpus::check_file(&name, &text)
                    .map(|_| ())
                    .map_err(Into::into)
            })
        })
        .collect();
    // The fast VM gives the expected outcome wherever it runs (ub expectations and
    // what it does not compile yet are skipped).
    for p in &paths {
        let p = p.clone();
        let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
        trials.push(Trial::test(format!("fast::{name}"), move || {
            let text = std::fs::read_to_string(&p).map_err(|e| e.to_string())?;
            muni::corpus::check_file_fast(&name, &text)
                .map(|_| ())
                .map_err(Into::into)
        }));
    }
    // Every rule of the semantics fires in at least one corpus run.
    trials.push(Trial::test("spec::rule-coverage", move || {
        let mut fired = vec![0u64; RuleId::ALL.len()];
        for p in &paths {
            let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
            if let Ok(counts) = muni::corpus::check_file(&p.display().to_string(), &text) {
                fired.iter_mut().zip(counts).for_each(|(f, c)| *f += c);
            }
        }
        let missing: Vec<&str> = RuleId::ALL
            .iter()
            .filter(|r| fired[**r as usize] == 0)
            .map(|r| r.id())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("rules no corpus run fires: {}", missing.join(", ")).into())
        }
    }));
    libtest_mimic::run(&args, trials).exit();
}
