//! The conformance runner as implementers use it: an outside implementation behind
//! `--impl`, child processes with `--isolate`, the JSON twins, and the expectations
//! file checked in both directions.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

mod common;
use common::muni_out as muni;

const MUNI: &str = env!("CARGO_BIN_EXE_muni");

/// A shell script standing in for someone else's VM.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("writes");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

fn last_line(out: &str) -> &str {
    out.lines().last().unwrap_or_default()
}

#[test]
fn an_outside_implementation_that_answers_right_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The muni binary behind a shell script, answering with the fast VM.
    let good = script(
        dir.path(),
        "good-vm",
        &format!("exec {MUNI} impl --engine fast \"$@\""),
    );
    let cmd = good.display().to_string();
    let (code, out) = muni(&[
        "conform",
        "corpus/core",
        "corpus/invalid",
        "corpus/native/pin.uir",
        "--impl",
        &cmd,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(last_line(&out).ends_with(" 0 failed"), "{out}");
    let passed: usize = last_line(&out)
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 30, "{out}");
}

#[test]
fn an_outside_implementation_that_answers_wrong_fails_where_it_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Right about everything but factorial: it answers every call of @fact with 0.
    let bad = script(
        dir.path(),
        "bad-vm",
        &format!(
            "if [ \"$2\" = \"@fact\" ]; then echo 'return 0'; else exec {MUNI} impl \"$@\"; fi"
        ),
    );
    let cmd = bad.display().to_string();
    let (code, out) = muni(&["conform", "corpus/core", "--impl", &cmd]);
    assert_eq!(code, 1, "{out}");
    let fails: Vec<&str> = out.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert!(!fails.is_empty(), "{out}");
    assert!(
        fails
            .iter()
            .all(|l| l.starts_with("FAIL core/factorial.uir:") && l.contains("[impl]")),
        "only factorial fails: {out}"
    );
    assert!(
        fails[0].contains("the implementation gives `return 0`"),
        "{out}"
    );
    // One that crashes or prints nothing fails every assertion, and says so.
    let dead = script(dir.path(), "dead-vm", "kill -SEGV $$");
    let (code, out) = muni(&[
        "conform",
        "corpus/core/gcd.uir",
        "--impl",
        &dead.display().to_string(),
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("printed no outcome"), "{out}");
}

#[test]
fn isolated_runs_give_the_same_totals() {
    let (code, together) = muni(&["conform", "corpus/int", "corpus/native"]);
    assert_eq!(code, 0, "{together}");
    let (code, apart) = muni(&["conform", "corpus/int", "corpus/native", "--isolate"]);
    assert_eq!(code, 0, "{apart}");
    assert_eq!(last_line(&together), last_line(&apart));
}

#[test]
fn the_json_twins_carry_every_assertion_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().display().to_string();
    let (code, out) = muni(&["conform", "corpus", "--emit-json", &out_dir]);
    assert_eq!(code, 0, "{out}");
    let twin = std::fs::read_to_string(dir.path().join("core/factorial.uir.json")).expect("twin");
    let v: serde_json::Value = serde_json::from_str(&twin).expect("json");
    let asserts = &v["sections"][0]["assertions"];
    let first = &asserts[0];
    assert_eq!(first["type"], "call");
    assert_eq!(first["assertion"], "assert_return");
    assert!(first["line"].as_u64().is_some_and(|l| l > 0));
    assert!(
        v["sections"][0]["canonical"]
            .as_str()
            .is_some_and(|t| t.contains(".funcdef"))
    );
    let invalid =
        std::fs::read_to_string(dir.path().join("invalid/undefined.uir.json")).expect("twin");
    assert!(
        invalid.contains("\"diagnostic\"") && invalid.contains("undefined-name"),
        "{invalid}"
    );
}

#[test]
fn expected_failures_are_checked_both_ways() {
    let dir = tempfile::tempdir().expect("tempdir");
    // gcd.uir passes on the model: listing one of its assertions as an expected
    // failure is itself a failure.
    let stale = dir.path().join("stale.toml");
    std::fs::write(
        &stale,
        "[[fail]]\nengine = \"spec\"\ntest = \"core/gcd.uir:3\"\nwhy = \"an old bug\"\n",
    )
    .expect("writes");
    let (code, out) = muni(&[
        "conform",
        "corpus/core/gcd.uir",
        "--expect",
        &stale.display().to_string(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("lists it as an expected failure"), "{out}");
    // A wrong implementation whose failure is listed passes, counted apart.
    let bad = script(dir.path(), "bad-vm", "echo 'return 0'");
    let listed = dir.path().join("listed.toml");
    std::fs::write(
        &listed,
        (2..=5)
            .map(|l| {
                format!(
                    "[[fail]]\nengine = \"impl\"\ntest = \"core/gcd.uir:{l}\"\nwhy = \"known\"\n"
                )
            })
            .collect::<String>(),
    )
    .expect("writes");
    let (code, out) = muni(&[
        "conform",
        "corpus/core/gcd.uir",
        "--impl",
        &bad.display().to_string(),
        "--expect",
        &listed.display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("4 expected failures"), "{out}");
}

#[test]
fn a_client_script_is_judged_trap_by_trap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("client.uir");
    // The second trap is shown `1 10`, not `1 11`, and the third never comes.
    std::fs::write(
        &path,
        "// assert_return @f() 10\n\
         // > @f.v1.body.t 0 0 => resume 10\n\
         // > @f.v1.body.t 1 11 => resume 0\n\
         // > @f.v1.body.t 2 10 => resume 0\n\
         .typedef @i64 = int<64>\n\
         .funcsig @v_i = () -> (@i64)\n\
         .const @ZERO <@i64> = 0\n\
         .const @ONE <@i64> = 1\n\
         .const @TWO <@i64> = 2\n\
         .funcdef @f VERSION %v1 <@v_i> {\n\
         %entry():\n\
         BRANCH %head(@ZERO @ZERO)\n\
         %head(<@i64> %i <@i64> %s):\n\
         %more = SLT <@i64> %i @TWO\n\
         BRANCH2 %more %body(%i %s) %done(%s)\n\
         %body(<@i64> %j <@i64> %a):\n\
         %v = [%t] TRAP <@i64> KEEPALIVE(%j %a)\n\
         %a2 = ADD <@i64> %a %v\n\
         %j2 = ADD <@i64> %j @ONE\n\
         BRANCH %head(%j2 %a2)\n\
         %done(<@i64> %r):\n\
         RET %r\n\
         }\n",
    )
    .expect("writes");
    let p = path.display().to_string();
    let (code, out) = muni(&["conform", &p, "--engine", "both"]);
    assert_eq!(code, 1, "{out}");
    for engine in ["spec", "fast"] {
        assert!(
            out.contains(&format!(
                "client.uir:3 [{engine}]: trap 2: expected `@f.v1.body.t 1 11`"
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "client.uir:4 [{engine}]: expected trap 3 of the run"
            )),
            "{out}"
        );
    }
    assert_eq!(last_line(&out), "4 passed, 4 failed", "{out}");
}

/// Client scripts go through the protocol: an implementation whose client is
/// shown the traps the scripts name passes every client line, and one that
/// reports no traps fails each of them.
#[test]
fn client_scripts_reach_an_outside_implementation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = script(
        dir.path(),
        "good-vm",
        &format!("exec {MUNI} impl --engine fast \"$@\""),
    );
    let (code, out) = muni(&[
        "conform",
        "corpus/client/versions.uir",
        "--impl",
        &good.display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(last_line(&out).ends_with(" 0 failed"), "{out}");
    // The same VM with the `> ` lines filtered out of what it prints.
    let blind = script(
        dir.path(),
        "blind-vm",
        &format!("{MUNI} impl --engine spec \"$@\" | grep -v '^> '"),
    );
    let (code, out) = muni(&[
        "conform",
        "corpus/client/versions.uir",
        "--impl",
        &blind.display().to_string(),
    ]);
    assert_ne!(code, 0, "{out}");
    let failed: usize = last_line(&out)
        .split(", ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(failed >= 25, "{out}");
}
