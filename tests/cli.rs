//! The command line as users see it: outcome lines, diagnostics, exit codes.

mod common;
use common::muni;
use std::process::Command;

#[test]
fn run_prints_the_outcome_line() {
    let (code, out, _) = muni(&["run", "corpus/core/factorial.uir"]);
    assert_eq!((code, out.as_str()), (0, "return 2432902008176640000\n"));
    let (_, out, _) = muni(&["run", "corpus/core/factorial.uir", "--fn", "@fact", "5"]);
    assert_eq!(out, "return 120\n");
}

#[test]
fn budgets_end_runs() {
    let (_, out, _) = muni(&["run", "corpus/budget/fuel_forever.uir", "--fn", "@spin"]);
    assert_eq!(out, "exhausted fuel\n");
    let (_, out, _) = muni(&["run", "corpus/budget/stack.uir", "--fn", "@forever"]);
    assert_eq!(out, "exhausted stack\n");
    let (_, out, _) = muni(&[
        "run",
        "corpus/core/sum_loop.uir",
        "--fn",
        "@sum",
        "3",
        "--fuel",
        "18",
    ]);
    assert_eq!(out, "exhausted fuel\n");
}

#[test]
fn json_outcome() {
    let (_, out, _) = muni(&[
        "run",
        "--json",
        "corpus/core/multi_return.uir",
        "--fn",
        "@divmod",
        "17",
        "5",
    ]);
    assert_eq!(
        out.trim(),
        r#"{"kind":"return","values":["3","2"],"line":"return 3 2"}"#
    );
}

#[test]
fn check_reports_located_diagnostics() {
    let (code, _, err) = muni(&["check", "corpus/invalid/type_mismatch.uir"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("corpus/invalid/type_mismatch.uir:12:31"),
        "{err}"
    );
    assert!(err.contains("[type-mismatch]"), "{err}");
    assert!(err.contains("^^"), "a caret snippet: {err}");
    let (code, _, _) = muni(&["check", "corpus/core/gcd.uir"]);
    assert_eq!(code, 0);
}

#[test]
fn run_of_an_invalid_bundle_prints_its_code() {
    let (code, out, _) = muni(&["run", "corpus/malformed/int_width.uir"]);
    assert_eq!((code, out.as_str()), (1, "malformed bad-int-width\n"));
}

#[test]
fn trace_names_each_rule() {
    let (code, out, _) = muni(&[
        "trace",
        "corpus/int/div_zero.uir",
        "--fn",
        "@guarded",
        "1",
        "0",
    ]);
    assert_eq!(code, 0);
    let rules: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(rules, ["int.div-zero-exc", "call.ret-top", "return"]);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let (code, _, err) = muni(&["run", "corpus/core/gcd.uir", "--fn", "@gcd", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("takes 2 arguments"), "{err}");
    let (code, _, _) = muni(&["run", "corpus/core/gcd.uir", "--fn", "@nope"]);
    assert_eq!(code, 2);
}

#[test]
fn native_trace_and_libraries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let c = dir.path().join("twice.c");
    let so = dir.path().join("libtwice.so");
    std::fs::write(&c, "long muni_cli_twice(long x) { return 2 * x; }\n").expect("write C");
    let ok = Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&c)
        .status()
        .expect("gcc runs");
    assert!(ok.success());
    let uir = dir.path().join("twice.uir");
    std::fs::write(
        &uir,
        "
.typedef @i64 = int<64>
.funcsig @s = (@i64) -> (@i64)
.typedef @fp = ufuncptr<@s>
.const @twice <@fp> = EXTERN \"muni_cli_twice\"
.funcdef @main VERSION %v1 <@s> {
    %e(<@i64> %x):
        %y = CCALL #DEFAULT <@fp @s> @twice (%x)
        RET %y
}
",
    )
    .expect("write uir");
    let uir = uir.to_str().expect("utf-8");
    let so = so.to_str().expect("utf-8");
    let (code, out, _) = muni(&["run", uir, "21", "--lib", so, "--trace-native"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "ccall muni_cli_twice(21) -> 42\nreturn 42\n")
    );
    // The fast VM records the same trace.
    let (code, out, _) = muni(&[
        "run",
        uir,
        "21",
        "--lib",
        so,
        "--trace-native",
        "--engine",
        "fast",
    ]);
    assert_eq!(
        (code, out.as_str()),
        (0, "ccall muni_cli_twice(21) -> 42\nreturn 42\n")
    );
    // Without the library the symbol does not resolve, and muni says which.
    let (code, out, err) = muni(&["run", uir, "21"]);
    assert_eq!((code, out.as_str()), (1, "invalid unresolved-extern\n"));
    assert!(err.contains("muni_cli_twice"), "{err}");
}

#[test]
fn layout_prints_offsets_and_classes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let uir = dir.path().join("t.uir");
    std::fs::write(
        &uir,
        ".typedef @i8 = int<8>\n.typedef @double = double\n.typedef @CD = struct<@i8 @double>\n",
    )
    .expect("write");
    let (code, out, _) = muni(&["layout", uir.to_str().expect("utf-8"), "--type", "@CD"]);
    assert_eq!(code, 0);
    assert!(out.contains("@CD: offset 0, size 16, align 8"), "{out}");
    assert!(
        out.contains("field 1 @double: offset 8, size 8, align 8"),
        "{out}"
    );
    assert!(out.contains("passed by value as: INTEGER SSE"), "{out}");
    // A type of full Mu outside the subset has no layout in muni: said, not guessed.
    std::fs::write(
        &uir,
        ".typedef @i8 = int<8>\n.typedef @w = int<128>\n.typedef @S = struct<@i8 @w>\n",
    )
    .expect("write");
    let (code, out, err) = muni(&["layout", uir.to_str().expect("utf-8"), "--type", "@S"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("@S holds @w"), "{err}");
}

#[test]
fn fast_vm_native_trace_nests_callbacks_like_the_model() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/native/callbacks.uir");
    let base = ["run", file, "--fn", "@sort_dynamic", "--trace-native"];
    let (code, model, _) = muni(&base);
    assert_eq!(code, 0);
    // qsort's call opens the trace, each comparison nests inside it as a callback
    // and its return, then qsort returns.
    let lines: Vec<&str> = model.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ccall qsort(") && l.ends_with("exposed@cmp)")),
        "{model}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("callback @cmp(")),
        "{model}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("callback-return ")),
        "{model}"
    );
    for stress in [&[][..], &["--gc-stress"][..]] {
        let mut args = base.to_vec();
        args.extend(["--engine", "fast"]);
        args.extend(stress);
        let (code, fast, err) = muni(&args);
        assert_eq!((code, fast.as_str()), (0, model.as_str()), "{err}");
    }
}

#[test]
fn a_closed_output_pipe_ends_the_run_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    // `muni trace … | head -1`: the reader goes after one line; muni dies of SIGPIPE
    // as a shell pipeline expects, and writes no panic to stderr.
    let mut child = Command::new(env!("CARGO_BIN_EXE_muni"))
        .args([
            "trace",
            "corpus/core/sum_loop.uir",
            "--fn",
            "@sum",
            "100000",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("muni starts");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("a line of trace");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr reads");
    let status = child.wait().expect("muni ends");
    use std::os::unix::process::ExitStatusExt;
    const SIGPIPE: i32 = 13;
    assert_eq!(status.signal(), Some(SIGPIPE), "{status:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_fast_vm_crash_is_reported_as_the_end_of_the_run() {
    // Undefined behaviour the model names; compiled code touches address 8.
    let (code, out, _) = muni(&["run", "corpus/ub/wild_pointer.uir", "--fn", "@poke"]);
    assert_eq!((code, out.as_str()), (0, "ub ptr.unmapped\n"));
    let (code, out, err) = muni(&[
        "run",
        "corpus/ub/wild_pointer.uir",
        "--fn",
        "@poke",
        "--engine",
        "fast",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with("crash SIGSEGV at @poke+0x") && out.ends_with(" (address 0x8)\n"),
        "{out}{err}"
    );
    let (_, out, _) = muni(&[
        "run",
        "corpus/ub/wild_pointer.uir",
        "--fn",
        "@poke",
        "--engine",
        "fast",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(v["kind"], "crash");
    assert_eq!(v["signal"], "SIGSEGV");
    assert_eq!(v["address"], "0x8");
}

#[test]
fn files_are_bundles_loaded_in_order_and_a_later_one_redefines() {
    let (code, out, _) = muni(&["run", "tests/bundles/lib.uir"]);
    assert_eq!((code, out.as_str()), (0, "return 8\n"));
    // patch.uir after lib.uir: @main's call runs @greeting's new version.
    for engine in ["spec", "fast"] {
        let (code, out, err) = muni(&[
            "run",
            "tests/bundles/patch.uir",
            "--with",
            "tests/bundles/lib.uir",
            "--engine",
            engine,
        ]);
        assert_eq!((code, out.as_str()), (0, "return 48\n"), "{engine}: {err}");
    }
    let (code, _, err) = muni(&["check", "tests/bundles/lib.uir", "tests/bundles/patch.uir"]);
    assert_eq!(code, 0, "{err}");
    // A new version must keep the signature; the error names both.
    let (code, _, err) = muni(&[
        "check",
        "tests/bundles/lib.uir",
        "tests/bundles/bad_patch.uir",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("signature-mismatch")
            && err.contains("bad_patch.uir:4:")
            && err.contains("lib.uir:7:"),
        "{err}"
    );
    // The same version twice is a name loaded before.
    let (code, _, err) = muni(&["check", "tests/bundles/lib.uir", "tests/bundles/lib.uir"]);
    assert_eq!(code, 1);
    assert!(err.contains("duplicate-name"), "{err}");
}

/// `muni abi check` on a bundle whose `//! clib:` header names its C library (built
/// and loaded as the conformance harness does): every type and call agrees with
/// the rules. `muni abi random --json` says what it checked and captured.
#[test]
fn abi_check_and_random() {
    let (code, out, err) = muni(&["abi", "check", "corpus/native/abi.uir"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.ends_with(" checked, 0 disagree with the rules\n"),
        "{out}"
    );
    assert!(out.contains("ok    call al_stack_sig = long f(long, long, long, long, long, long, {long, long, long}, double, {double, long})"), "{out}");
    let (code, out, err) = muni(&[
        "abi",
        "random",
        "--types",
        "4",
        "--sigs",
        "3",
        "--capture",
        "2",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["types"], 4);
    let pitfalls = muni::abi::random::pitfalls().len();
    assert_eq!(v["sigs"], 3 + pitfalls);
    assert_eq!(v["disagreements"].as_array().map(Vec::len), Some(0));
    // The pitfalls, two random calls, and the gcc-only `{__int128}` case.
    let caps = v["captures"].as_array().expect("captures");
    assert_eq!(caps.len(), pitfalls + 2 + 1);
    assert!(
        caps.iter()
            .all(|c| c["problems"].as_array().map(Vec::len) == Some(0))
    );
}
