//! The Z3 statement of the SysV ABI (spec/sysv) against the model: random types and
//! calls have the model's answer checked (the rules admit it and no other), the
//! bounded proof runs for two fields, and three planted wrong classifiers are
//! rejected with a sentence that says what breaks.

use muni::abi;
use spec_model::ir::Types;
use sysv::{ArgAnswer, CType, Loc, RetAnswer, Scalar, Sig, SigAnswer, TypeAnswer};

/// xorshift64*, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const SCALARS: [Scalar; 7] = [
    Scalar::I8,
    Scalar::I16,
    Scalar::I32,
    Scalar::I64,
    Scalar::Float,
    Scalar::Double,
    Scalar::Ptr,
];

fn random_type(rng: &mut Rng, depth: u32) -> CType {
    let scalar = |rng: &mut Rng| CType::Scalar(SCALARS[rng.below(7) as usize]);
    match rng.below(if depth == 0 { 2 } else { 5 }) {
        0 => scalar(rng),
        1 => CType::Array(Box::new(scalar(rng)), 1 + rng.below(4)),
        _ => {
            let n = 1 + rng.below(4);
            CType::Struct((0..n).map(|_| random_type(rng, depth - 1)).collect())
        }
    }
}

/// C passes no arrays by value: parameters and results are scalars or structs.
fn scalar(rng: &mut Rng) -> CType {
    CType::Scalar(SCALARS[rng.below(7) as usize])
}

fn random_struct(rng: &mut Rng) -> CType {
    let n = 1 + rng.below(5);
    CType::Struct((0..n).map(|_| random_type(rng, 2)).collect())
}

fn model_type(t: &CType) -> TypeAnswer {
    let mut types = Types::default();
    let id = abi::mu_type(&mut types, t).expect("a Mu type");
    abi::type_answer(&types, id)
}

fn model_sig(s: &Sig) -> SigAnswer {
    let mut types = Types::default();
    let id = abi::mu_sig(&mut types, s).expect("a Mu signature");
    abi::sig_answer(&types, id)
}

/// Random types (structs nested three deep, arrays, every scalar) and random calls
/// of up to 16 arguments mixing structs, integers and floats past the register
/// budget: the rules admit the model's answers and no others.
#[test]
fn random_types_and_calls_agree_with_the_rules() {
    let mut rng = Rng(0x05EE_DAB1_2026);
    let types: Vec<CType> = (0..300).map(|_| random_struct(&mut rng)).collect();
    for t in &types {
        if let Err(e) = sysv::check_type(t, &model_type(t)) {
            panic!("{e}");
        }
    }
    for _ in 0..60 {
        let n = rng.below(17) as usize;
        let params: Vec<CType> = (0..n)
            .map(|_| {
                if rng.below(2) == 0 {
                    random_struct(&mut rng)
                } else {
                    scalar(&mut rng)
                }
            })
            .collect();
        let ret = match rng.below(3) {
            0 => None,
            1 => Some(scalar(&mut rng)),
            _ => Some(random_struct(&mut rng)),
        };
        let sig = Sig {
            params,
            ret,
            variadic: None,
        };
        if let Err(e) = sysv::check_sig(&sig, &model_sig(&sig)) {
            panic!("{e}");
        }
    }
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
