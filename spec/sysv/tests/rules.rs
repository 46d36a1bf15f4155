//! The rules answer the psABI's own examples and the calls observed with gcc 12 in
//! shared/notes/sysv-abi-and-backends.md §6.3, and check and reject answers.

use sysv::{ArgAnswer, CType, Class, Loc, RetAnswer, Scalar, Sig, SigAnswer, TypeAnswer};
use sysv::{check_sig, check_type, solve_sig, solve_type};

fn s(x: Scalar) -> CType {
    CType::Scalar(x)
}
fn st(fs: Vec<CType>) -> CType {
    CType::Struct(fs)
}
use Scalar::*;

fn regs(ls: &[Loc]) -> ArgAnswer {
    ArgAnswer {
        eightbytes: ls.to_vec(),
        stack: None,
    }
}

#[test]
fn layouts_and_classes_follow_the_text() {
    let t = st(vec![s(Double), s(I32)]);
    let a = solve_type(&t).expect("solvable");
    assert_eq!(
        a,
        TypeAnswer {
            size: 16,
            align: 8,
            offsets: vec![0, 8],
            classes: Some(vec![Class::Sse, Class::Integer])
        }
    );
    check_type(&t, &a).expect("the rules' own answer passes");
    // {char, double}: INTEGER, SSE. {float, float, float}: SSE SSE.
    let a = solve_type(&st(vec![s(I8), s(Double)])).expect("solvable");
    assert_eq!(a.classes, Some(vec![Class::Integer, Class::Sse]));
    let a = solve_type(&st(vec![s(Float), s(Float), s(Float)])).expect("solvable");
    assert_eq!(
        (a.size, a.classes),
        (12, Some(vec![Class::Sse, Class::Sse]))
    );
    // Over 16 bytes: MEMORY. long double: X87 X87UP. __int128: two INTEGERs.
    assert_eq!(
        solve_type(&st(vec![s(I64), s(I64), s(I64)]))
            .expect("solvable")
            .classes,
        None
    );
    assert_eq!(
        solve_type(&s(LongDouble)).expect("solvable").classes,
        Some(vec![Class::X87, Class::X87Up])
    );
    assert_eq!(
        solve_type(&st(vec![s(I8), s(I128)]))
            .expect("solvable")
            .size,
        32
    );
    // A flexible array member starts at the fixed part's end aligned for it.
    let h = CType::Hybrid(vec![s(I64), s(I8)], Box::new(s(I8)));
    assert_eq!(
        solve_type(&h).expect("solvable"),
        TypeAnswer {
            size: 16,
            align: 8,
            offsets: vec![0, 8, 9],
            classes: None
        }
    );
}

#[test]
fn calls_observed_with_gcc() {
    // 5 × int, {long, long}, long: the struct on the stack, the long in r9.
    let mut params = vec![s(I32); 5];
    params.push(st(vec![s(I64), s(I64)]));
    params.push(s(I64));
    let sig = Sig {
        params,
        ret: None,
        variadic: None,
    };
    let a = solve_sig(&sig).expect("solvable");
    assert_eq!(
        a.args[5],
        ArgAnswer {
            eightbytes: vec![Loc::Stack, Loc::Stack],
            stack: Some(0)
        }
    );
    assert_eq!(a.args[6], regs(&[Loc::Arg(5)]));
    check_sig(&sig, &a).expect("the rules' own answer passes");
    // {float × 3}: xmm0 (x, y packed), xmm1 (z).
    let sig = Sig {
        params: vec![st(vec![s(Float); 3])],
        ret: None,
        variadic: None,
    };
    assert_eq!(
        solve_sig(&sig).expect("solvable").args[0],
        regs(&[Loc::Xmm(0), Loc::Xmm(1)])
    );
    // Variadic (ptr, 1.5, 2.5): %al at least 2.
    let sig = Sig {
        params: vec![s(Ptr), s(Double), s(Double)],
        ret: None,
        variadic: Some(1),
    };
    let a = solve_sig(&sig).expect("solvable");
    assert_eq!(a.al, Some(2));
    assert!(
        check_sig(
            &sig,
            &SigAnswer {
                al: Some(1),
                ..a.clone()
            }
        )
        .is_err()
    );
    check_sig(&sig, &SigAnswer { al: Some(8), ..a }).expect("any bound up to 8");
    // sret with other arguments: the buffer in rdi, the int in rsi.
    let sig = Sig {
        params: vec![s(I32)],
        ret: Some(st(vec![s(I64); 3])),
        variadic: None,
    };
    let a = solve_sig(&sig).expect("solvable");
    assert_eq!(
        (a.ret.clone(), a.args[0].clone()),
        (RetAnswer::Sret, regs(&[Loc::Arg(1)]))
    );
    // {double, long} returns in xmm0 and rax.
    let sig = Sig {
        params: vec![],
        ret: Some(st(vec![s(Double), s(I64)])),
        variadic: None,
    };
    assert_eq!(
        solve_sig(&sig).expect("solvable").ret,
        RetAnswer::Regs(vec![Loc::Xmm(0), Loc::Rax])
    );
    // A 16-aligned argument on the stack after one eightbyte of stack arguments.
    let mut params = vec![s(I64); 7];
    params.push(s(I128));
    let sig = Sig {
        params,
        ret: Some(s(LongDouble)),
        variadic: None,
    };
    let a = solve_sig(&sig).expect("solvable");
    assert_eq!(a.args[6].stack, Some(0));
    assert_eq!(a.args[7].stack, Some(16));
    assert_eq!(a.ret, RetAnswer::Regs(vec![Loc::St0, Loc::St0High]));
}

#[test]
fn a_wrong_answer_is_said_in_words() {
    let t = st(vec![s(Double), s(I32)]);
    let wrong = TypeAnswer {
        size: 16,
        align: 8,
        offsets: vec![0, 8],
        classes: Some(vec![Class::Sse, Class::Sse]),
    };
    let e = check_type(&t, &wrong).expect_err("wrong");
    let text = e.to_string();
    assert!(
        text.contains(
            "the second eightbyte of `{double, int}` is INTEGER, but the answer says SSE"
        ),
        "{text}"
    );
    let sig = Sig {
        params: vec![t.clone()],
        ret: None,
        variadic: None,
    };
    let wrong = SigAnswer {
        args: vec![regs(&[Loc::Xmm(0), Loc::Xmm(1)])],
        ret: RetAnswer::Void,
        al: None,
    };
    let text = check_sig(&sig, &wrong).expect_err("wrong").to_string();
    assert!(
        text.contains("the second eightbyte of argument 1 `{double, int}` is INTEGER and goes in rdi, but the answer puts it in xmm1"),
        "{text}"
    );
}
