//! C clients of libmuni (tests/c/*.c, and examples/embed.c of the README): each is compiled by gcc against
//! include/muni.h, linked with the libmuni.so this build made, and run once per
//! engine (`engine=spec`, `engine=fast`); its output must be the `// expect:`
//! lines at its top, the same on both. Where valgrind is installed, each run on
//! the model is also run under it, which must find no invalid access and no
//! definite leak.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The libmuni.so of this build: beside the test binary's folder. A test does
/// not depend on a cdylib, so cargo builds it first here (it is up to date, and
/// this is quick, when `cargo build` or `cargo test --workspace` made it).
fn libdir() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "-q", "-p", "muni-capi"]);
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    let ok = build.status().expect("cargo runs");
    assert!(ok.success(), "cargo build -p muni-capi failed");
    let exe = std::env::current_exe().expect("the test binary");
    let deps = exe.parent().expect("deps/").to_path_buf();
    for d in [deps.parent().map(Path::to_path_buf), Some(deps)]
        .into_iter()
        .flatten()
    {
        if d.join("libmuni.so").exists() {
            return d;
        }
    }
    panic!("no libmuni.so near {}", exe.display());
}

fn valgrind() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn expected(src: &str) -> String {
    src.lines()
        .filter_map(|l| {
            l.strip_prefix("// expect: ")
                .or_else(|| (l == "// expect:").then_some(""))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn c_clients_agree_on_both_engines() {
    let lib = libdir();
    let dir = tempfile::tempdir().expect("temp dir");
    // The test clients, and the README's example.
    let mut sources: Vec<PathBuf> = ["tests/c", "examples"]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap_or_else(|e| panic!("{d}: {e}")))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    assert!(!sources.is_empty());
    let mut failures = Vec::new();
    for src in &sources {
        let text = std::fs::read_to_string(src).expect("read C");
        let want = expected(&text);
        let exe = dir.path().join(src.file_stem().expect("a name"));
        let out = Command::new("gcc")
            .args([
                "-std=c11",
                "-Wall",
                "-Werror",
                "-rdynamic",
                "-Iinclude",
                "-o",
            ])
            .arg(&exe)
            .arg(src)
            .arg(format!("-L{}", lib.display()))
            .arg("-lmuni")
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .output()
            .expect("gcc runs");
        assert!(
            out.status.success(),
            "{}: gcc failed:\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        if valgrind() {
            let out = Command::new("valgrind")
                .args([
                    "-q",
                    "--error-exitcode=9",
                    "--leak-check=full",
                    "--errors-for-leak-kinds=definite",
                ])
                .arg(&exe)
                .arg("engine=spec")
                .output()
                .expect("valgrind runs");
            if !out.status.success() || String::from_utf8_lossy(&out.stdout) != want {
                failures.push(format!(
                    "{} under valgrind (exit {:?}):\n{}",
                    src.display(),
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        for engine in ["spec", "fast"] {
            let out = Command::new(&exe)
                .arg(format!("engine={engine}"))
                .output()
                .expect("the client runs");
            let got = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() || got != want {
                failures.push(format!(
                    "{} on {engine} (exit {:?}):\n--- expected\n{want}--- got\n{got}--- stderr\n{}",
                    src.display(),
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
