//! The Z3 statement of the SysV ABI (spec/sysv) against the model: random C types
//! and calls, and random Mu types (odd integer widths, function pointers, hybrids),
//! have the model's answer checked (the rules admit it and no other), the bounded
//! proof runs for two fields, and three planted wrong classifiers are rejected with
//! a sentence that says what breaks.

use muni::abi::{self, random};
use spec_model::ir::{Type, TypeId, Types};
use sysv::{ArgAnswer, CType, Loc, RetAnswer, Scalar, Sig, SigAnswer, TypeAnswer};

fn model_type(t: &CType) -> TypeAnswer {
    random::model_type(t).expect("a Mu type")
}

fn model_sig(s: &Sig) -> SigAnswer {
    random::model_sig(s).expect("a Mu signature")
}

/// Random types (structs nested three deep, arrays, every scalar) and random calls
/// of up to 16 arguments mixing structs, integers and floats past the register
/// budget: the rules admit the model's answers and no others.
#[test]
fn random_types_and_calls_agree_with_the_rules() {
    let report = random::run(&random::Options {
        types: 300,
        sigs: 60,
        capture: 0,
        seed: 0x05EE_DAB1_2026,
        threads: 2,
    });
    assert_eq!(report.types, 300);
    assert_eq!(report.sigs, 60 + random::pitfalls().len());
    assert!(
        report.disagreements.is_empty(),
        "{:#?}",
        report.disagreements
    );
}

/// A random native-safe Mu type: integers of every width from 1 to 64 (laid out as
/// the smallest C integer that holds them, `layout.scalar`), floats, data and
/// function pointers, arrays, structs; at the top a struct, or a hybrid one time in
/// three.
fn mu_type(rng: &mut random::Rng, types: &mut Types, depth: u32, top: bool) -> TypeId {
    let pick = if top {
        7
    } else {
        rng.below(if depth == 0 { 5 } else { 8 })
    };
    let ty = match pick {
        0 => Type::Int(1 + rng.below(64) as u32),
        1 => Type::Float,
        2 => Type::Double,
        3 => {
            let v = types.anon(Type::Void);
            Type::UPtr(v)
        }
        4 => {
            let sig = types.push_sig(
                spec_model::ir::Sig {
                    params: vec![],
                    rets: vec![],
                },
                String::new(),
            );
            Type::UFuncPtr(sig)
        }
        5 => {
            let e = mu_type(rng, types, 0, false);
            Type::Array(e, 1 + rng.below(5))
        }
        _ => {
            let fs = (0..1 + rng.below(4))
                .map(|_| mu_type(rng, types, depth - 1, false))
                .collect();
            if top && rng.below(3) == 0 {
                let v = mu_type(rng, types, 0, false);
                Type::Hybrid(fs, v)
            } else {
                Type::Struct(fs)
            }
        }
    };
    types.anon(ty)
}

/// The layout rules of spec/05-memory.md (`layout.struct`, `layout.hybrid`: each
/// field at the lowest offset aligned for it after the previous one, the variable
/// part at the fixed part's end aligned for its element, the size rounded up to the
/// strictest alignment) hold for 400 random Mu types, odd integer widths and
/// hybrids among them, and admit no other layout than the model's.
#[test]
fn mu_layouts_are_the_rules_only_answer() {
    let mut rng = random::Rng(0x9E37_79B9_7F4A_7C15);
    let mut types = Types::default();
    let mut hybrids = 0;
    for _ in 0..400 {
        let t = mu_type(&mut rng, &mut types, 3, true);
        hybrids += usize::from(matches!(types.get(t), Type::Hybrid(..)));
        let ct = abi::ctype(&types, t).expect("a C type");
        if let Err(e) = sysv::check_type(&ct, &abi::type_answer(&types, t)) {
            panic!("{e}");
        }
    }
    assert!(hybrids > 80, "the generator made {hybrids} hybrids");
}

#[test]
fn the_bounded_proof_holds_for_two_fields() {
    let rows = sysv::prove::prove(2, &abi::ModelAbi, 1);
    assert_eq!(rows.iter().map(|r| r.shapes).sum::<u64>(), 520);
    for r in &rows {
        assert!(r.failures.is_empty(), "{:?}", r.failures);
    }
}

fn s(x: Scalar) -> CType {
    CType::Scalar(x)
}

/// A classifier that splits `{long, long}` between r9 and the stack when one
/// register is left.
#[test]
fn a_split_between_r9_and_the_stack_is_rejected() {
    let mut params = vec![s(Scalar::I32); 5];
    params.push(CType::Struct(vec![s(Scalar::I64), s(Scalar::I64)]));
    params.push(s(Scalar::I64));
    let sig = Sig {
        params,
        ret: None,
        variadic: None,
    };
    let mut wrong = model_sig(&sig);
    wrong.args[5] = ArgAnswer {
        eightbytes: vec![Loc::Arg(5), Loc::Stack],
        stack: Some(0),
    };
    wrong.args[6] = ArgAnswer {
        eightbytes: vec![Loc::Stack],
        stack: Some(8),
    };
    let text = sysv::check_sig(&sig, &wrong)
        .expect_err("rejected")
        .to_string();
    assert!(
        text.contains("the first eightbyte of argument 6 `{long, long}` is INTEGER and goes on the stack with the whole argument, but the answer puts it in r9"),
        "{text}"
    );
    assert!(
        text.contains("the first eightbyte of argument 7 `long` is INTEGER and goes in r9"),
        "{text}"
    );
}

/// A classifier that merges per field instead of per overlap: each field's own
/// merged class goes to every eightbyte the field touches.
#[test]
fn merging_per_field_instead_of_per_overlap_is_rejected() {
    // {float, {float, int}}: the inner struct straddles the eightbytes; per overlap
    // the first eightbyte is SSE (two floats), the second INTEGER.
    let t = CType::Struct(vec![
        s(Scalar::Float),
        CType::Struct(vec![s(Scalar::Float), s(Scalar::I32)]),
    ]);
    let mut wrong = model_type(&t);
    wrong.classes = Some(vec![sysv::Class::Integer, sysv::Class::Integer]);
    let text = sysv::check_type(&t, &wrong)
        .expect_err("rejected")
        .to_string();
    assert!(
        text.contains(
            "the first eightbyte of `{float, {float, int}}` is SSE, but the answer says INTEGER"
        ),
        "{text}"
    );
    assert!(text.contains("broken: "), "{text}");
}

/// A classifier that returns `{double, long}` with its parts swapped.
#[test]
fn a_swapped_result_is_rejected() {
    let sig = Sig {
        params: vec![],
        ret: Some(CType::Struct(vec![s(Scalar::Double), s(Scalar::I64)])),
        variadic: None,
    };
    let right = model_sig(&sig);
    assert_eq!(right.ret, RetAnswer::Regs(vec![Loc::Xmm(0), Loc::Rax]));
    let wrong = SigAnswer {
        ret: RetAnswer::Regs(vec![Loc::Rax, Loc::Xmm(0)]),
        ..right
    };
    let text = sysv::check_sig(&sig, &wrong)
        .expect_err("rejected")
        .to_string();
    assert!(
        text.contains("the first eightbyte of the result `{double, long}` is SSE and goes in xmm0, but the answer puts it in rax"),
        "{text}"
    );
}
