//! `muni difftest` as users run it: totals, JSON statistics, reproducers of the
//! byte strings libFuzzer finds, and the spec authors' baseline.

mod common;
use common::muni_out as muni;

#[test]
fn a_short_run_agrees_and_reports_its_statistics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().display().to_string();
    let (code, text) = muni(&[
        "difftest",
        "--count",
        "150",
        "--seed",
        "7",
        "--gc-stress",
        "--json",
        "--out",
        &out,
    ]);
    assert_eq!(code, 0, "{text}");
    let v: serde_json::Value = serde_json::from_str(text.trim()).expect("JSON statistics");
    assert_eq!(v["programs"], 150);
    assert_eq!(v["agreed"], 150, "{text}");
    assert_eq!(v["rejected"], 0, "{text}");
    assert!(
        v["rules"]["ccall.call"].as_u64().is_some_and(|n| n > 0),
        "{text}"
    );
    assert!(
        v["executed"]["@uvm.native.pin"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{text}"
    );
    // Every build ran every input of every program (the ones without fuel checks
    // all that did not run out of fuel), with and without GC stress.
    let runs = &v["runs"];
    let inputs = v["inputs"].as_u64().expect("inputs");
    let fuel = v["out_of_fuel"].as_u64().unwrap_or(0);
    assert!(inputs > 150, "several inputs a program: {text}");
    for b in [
        "traced",
        "untraced",
        "traced, gc stress",
        "untraced, gc stress",
    ] {
        assert_eq!(runs[b].as_u64(), Some(inputs), "{b}: {text}");
    }
    for b in [
        "traced, no fuel checks",
        "traced, no fuel checks, gc stress",
        "untraced, no fuel checks",
        "untraced, no fuel checks, gc stress",
    ] {
        assert_eq!(runs[b].as_u64(), Some(inputs - fuel), "{b}: {text}");
    }
}

#[test]
fn a_replayed_input_becomes_a_conformance_script_that_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Bytes whose program needs no client that loads bundles: a conformance
    // script cannot replay those loads (`// client:` lines are notes).
    let bytes: Vec<u8> = (0..3000u32)
        .map(|i| (i.wrapping_mul(2_246_822_519) >> 13) as u8)
        .collect();
    let input = dir.path().join("artifact");
    std::fs::write(&input, bytes).expect("writes");
    let out = dir.path().join("out");
    let (code, text) = muni(&[
        "difftest",
        "--replay",
        &input.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(code, 0, "{text}");
    let script = out.join("seed1-case0.conform.uir").display().to_string();
    let (code, text) = muni(&["conform", &script, "--engine", "both"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.ends_with(" 0 failed\n"), "{text}");
}

#[test]
fn a_baseline_replays_unchanged_on_an_unchanged_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("base.json").display().to_string();
    let out = dir.path().display().to_string();
    let (code, text) = muni(&[
        "difftest", "--count", "60", "--record", &base, "--out", &out,
    ]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = muni(&["difftest", "--against", &base]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.ends_with("0 of 60 generated programs changed outcome on the model\n"),
        "{text}"
    );
}

/// A program still running at the deadline stops the run and is left behind. With a
/// deadline of zero every program counts as hung, which exercises the watchdog
/// without a fast-VM bug to make a real hang.
#[test]
fn a_program_past_the_timeout_stops_the_run_and_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().display().to_string();
    let (code, text) = muni(&[
        "difftest",
        "--count",
        "1000000",
        "--timeout",
        "0",
        "--out",
        &out,
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("HANG: a program ran longer than 0 s"),
        "{text}"
    );
    let kept = std::fs::read_to_string(dir.path().join("hang.uir")).expect("hang.uir");
    // The second line is the command that reruns the program; it works as given.
    let command = kept
        .lines()
        .nth(1)
        .and_then(|l| l.strip_prefix("//   muni "))
        .unwrap_or_else(|| panic!("no rerun command in\n{kept}"));
    let args: Vec<&str> = command.split_whitespace().collect();
    let (code, text) = muni(&args);
    // An outcome line (a function without results returns a bare `return`).
    let word = text.split_whitespace().next().unwrap_or_default();
    assert!(
        ["return", "trap", "exhausted", "client_trap"].contains(&word),
        "{command}: {code} {text}"
    );
}

/// `muni reduce` on a live divergence. C's `rand()` has state, so the model's call and
/// the fast VM's call, one after the other in one process, return different numbers:
/// the engines really disagree, as they would on a fast-VM bug. The reducer keeps
/// only what that disagreement needs.
#[test]
fn reduce_shrinks_a_live_divergence_to_what_it_needs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("case.uir");
    let mut text = String::from(
        ".typedef @i32 = int<32>\n.typedef @i64 = int<64>\n.typedef @double = double\n\
         .funcsig @rand_sig = () -> (@i32)\n.typedef @rand_fp = ufuncptr<@rand_sig>\n\
         .const @rand <@rand_fp> = EXTERN \"rand\"\n.const @ONE <@i64> = 1\n\
         .const @HALF <@double> = 0.5d\n.funcsig @v_i = () -> (@i32)\n\
         .funcdef @f VERSION %v1 <@v_i> {\n    %entry():\n",
    );
    for k in 0..12 {
        text.push_str(&format!("        %junk{k} = ADD <@i64> @ONE @ONE\n"));
    }
    text.push_str("        %r = CCALL #DEFAULT <@rand_fp @rand_sig> @rand ()\n");
    text.push_str("        %d = FADD <@double> @HALF @HALF\n        RET %r\n}\n");
    std::fs::write(&case, &text).expect("writes");
    let (code, small) = muni(&["reduce", &case.display().to_string(), "--fn", "@f"]);
    assert_eq!(code, 0, "{small}");
    assert!(small.lines().count() < text.lines().count() - 12, "{small}");
    assert!(
        !small.contains("%junk") && !small.contains("FADD"),
        "{small}"
    );
    assert!(
        small.contains("CCALL") && small.contains("RET %r"),
        "{small}"
    );
    // What is left still loads and still diverges: reducing it again changes nothing.
    let again = dir.path().join("small.uir");
    std::fs::write(&again, &small).expect("writes");
    let (code, smaller) = muni(&["reduce", &again.display().to_string(), "--fn", "@f"]);
    assert_eq!((code, smaller.as_str()), (0, small.as_str()));
}
