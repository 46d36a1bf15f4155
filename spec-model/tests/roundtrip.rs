//! Property: parsing the printed form of any bundle gives the same bundle.

use proptest::prelude::*;
use spec_model::syntax::print::print_bundle;
use spec_model::syntax::*;
use std::rc::Rc;

/// Names: a small pool so that local-looking names (`f.v1.b.x`) and collisions occur.
fn name() -> impl Strategy<Value = Ident> {
    prop_oneof![
        prop::sample::select(vec![
            "i64",
            "T",
            "S",
            "c",
            "g",
            "f",
            "f.v1",
            "f.v1.b",
            "f.v1.b.x",
            "f.v1.c.y",
            "uvm.native.pin",
            "a-b_c.9"
        ]),
        "[a-zA-Z0-9_.-]{1,8}".prop_map(|s| Box::leak(s.into_boxed_str()) as &str),
    ]
    .prop_map(|s| Ident {
        name: Name::new(s),
        span: Span::default(),
    })
}

fn names(max: usize) -> impl Strategy<Value = Vec<Ident>> {
    prop::collection::vec(name(), 0..=max)
}

fn flag() -> impl Strategy<Value = Flag> {
    "[A-Z_]{1,8}".prop_map(|s| Flag {
        name: Rc::from(s.as_str()),
        span: Span::default(),
    })
}

fn dest() -> impl Strategy<Value = Dest> {
    (name(), names(3)).prop_map(|(block, args)| Dest { block, args })
}

fn exc() -> impl Strategy<Value = Option<ExcClause>> {
    prop::option::of((dest(), dest()).prop_map(|(nor, exc)| ExcClause { nor, exc }))
}

fn ord() -> impl Strategy<Value = MemOrd> {
    prop::sample::select(vec![
        MemOrd::NotAtomic,
        MemOrd::Relaxed,
        MemOrd::Consume,
        MemOrd::Acquire,
        MemOrd::Release,
        MemOrd::AcqRel,
        MemOrd::SeqCst,
    ])
}

fn inst_kind() -> impl Strategy<Value = InstKind> {
    use BinOp::*;
    use CmpOp::*;
    use ConvOp::*;
    let binop = prop::sample::select(vec![
        Add, Sub, Mul, Udiv, Sdiv, Urem, Srem, Shl, Lshr, Ashr, And, Or, Xor, Fadd, Fsub, Fmul,
        Fdiv, Frem,
    ]);
    let cmpop = prop::sample::select(vec![
        Eq, Ne, Sge, Sgt, Sle, Slt, Uge, Ugt, Ule, Ult, Ffalse, Ftrue, Funo, Fueq, Fune, Fugt,
        Fuge, Fult, Fule, Ford, Foeq, Fone, Fogt, Foge, Folt, Fole,
    ]);
    let convop = prop::sample::select(vec![
        Trunc, Zext, Sext, Fptrunc, Fpext, Fptoui, Fptosi, Uitofp, Sitofp, Bitcast, Refcast,
        Ptrcast,
    ]);
    let rmw = prop::sample::select(vec![
        RmwOp::Xchg,
        RmwOp::Add,
        RmwOp::Sub,
        RmwOp::And,
        RmwOp::Nand,
        RmwOp::Or,
        RmwOp::Xor,
        RmwOp::Max,
        RmwOp::Min,
        RmwOp::Umax,
        RmwOp::Umin,
    ]);
    prop_oneof![
        (
            binop,
            prop::collection::vec(flag(), 0..2),
            name(),
            name(),
            name(),
            exc()
        )
            .prop_map(|(op, flags, ty, a, b, exc)| InstKind::BinOp {
                op,
                flags,
                ty,
                a,
                b,
                exc
            }),
        (cmpop, name(), name(), name()).prop_map(|(op, ty, a, b)| InstKind::Cmp { op, ty, a, b }),
        (convop, name(), name(), name()).prop_map(|(op, from, to, x)| InstKind::Conv {
            op,
            from,
            to,
            x
        }),
        (name(), name(), name(), name(), name()).prop_map(|(cond_ty, ty, cond, a, b)| {
            InstKind::Select {
                cond_ty,
                ty,
                cond,
                a,
                b,
            }
        }),
        dest().prop_map(InstKind::Branch),
        (name(), dest(), dest()).prop_map(|(cond, t, f)| InstKind::Branch2 { cond, t, f }),
        (
            name(),
            name(),
            dest(),
            prop::collection::vec((name(), dest()), 0..3)
        )
            .prop_map(|(ty, x, default, cases)| InstKind::Switch {
                ty,
                x,
                default,
                cases
            }),
        (name(), name(), names(3), exc(), names(2)).prop_map(
            |(sig, callee, args, exc, keepalive)| InstKind::Call {
                sig,
                callee,
                args,
                exc,
                keepalive
            }
        ),
        (name(), name(), names(3)).prop_map(|(sig, callee, args)| InstKind::TailCall {
            sig,
            callee,
            args
        }),
        names(3).prop_map(InstKind::Ret),
        name().prop_map(InstKind::Throw),
        (name(), any::<u64>(), name()).prop_map(|(ty, index, x)| InstKind::ExtractValue {
            ty,
            index,
            x
        }),
        (name(), any::<u64>(), name(), name())
            .prop_map(|(ty, index, x, v)| InstKind::InsertValue { ty, index, x, v }),
        (name(), exc()).prop_map(|(ty, exc)| InstKind::New { ty, exc }),
        (name(), exc()).prop_map(|(ty, exc)| InstKind::Alloca { ty, exc }),
        (name(), name(), name(), exc()).prop_map(|(ty, len_ty, len, exc)| InstKind::NewHybrid {
            ty,
            len_ty,
            len,
            exc
        }),
        (name(), name(), name(), exc()).prop_map(|(ty, len_ty, len, exc)| InstKind::AllocaHybrid {
            ty,
            len_ty,
            len,
            exc
        }),
        (name(), name()).prop_map(|(ty, x)| InstKind::GetIRef { ty, x }),
        (any::<bool>(), name(), any::<u64>(), name())
            .prop_map(|(ptr, ty, index, x)| InstKind::GetFieldIRef { ptr, ty, index, x }),
        (any::<bool>(), name(), name(), name(), name()).prop_map(
            |(ptr, ty, index_ty, x, index)| InstKind::GetElemIRef {
                ptr,
                ty,
                index_ty,
                x,
                index
            }
        ),
        (any::<bool>(), name(), name(), name(), name()).prop_map(|(ptr, ty, off_ty, x, off)| {
            InstKind::ShiftIRef {
                ptr,
                ty,
                off_ty,
                x,
                off,
            }
        }),
        (any::<bool>(), name(), name()).prop_map(|(ptr, ty, x)| InstKind::GetVarPartIRef {
            ptr,
            ty,
            x
        }),
        (any::<bool>(), ord(), name(), name(), exc()).prop_map(|(ptr, ord, ty, loc, exc)| {
            InstKind::Load {
                ptr,
                ord,
                ty,
                loc,
                exc,
            }
        }),
        (any::<bool>(), ord(), name(), name(), name(), exc()).prop_map(
            |(ptr, ord, ty, loc, v, exc)| InstKind::Store {
                ptr,
                ord,
                ty,
                loc,
                v,
                exc
            }
        ),
        (
            any::<(bool, bool)>(),
            ord(),
            ord(),
            name(),
            name(),
            name(),
            name(),
            exc()
        )
            .prop_map(
                |((ptr, weak), ord_succ, ord_fail, ty, loc, expected, desired, exc)| {
                    InstKind::CmpXchg {
                        ptr,
                        weak,
                        ord_succ,
                        ord_fail,
                        ty,
                        loc,
                        expected,
                        desired,
                        exc,
                    }
                }
            ),
        (any::<bool>(), ord(), rmw, name(), name(), name(), exc()).prop_map(
            |(ptr, ord, op, ty, loc, v, exc)| InstKind::AtomicRmw {
                ptr,
                ord,
                op,
                ty,
                loc,
                v,
                exc
            }
        ),
        ord().prop_map(InstKind::Fence),
        (names(2), exc(), names(3)).prop_map(|(tys, exc, keepalive)| InstKind::Trap {
            tys,
            exc,
            keepalive
        }),
        (flag(), name(), name(), name(), names(3), exc(), names(2)).prop_map(
            |(cc, fty, sig, callee, args, exc, keepalive)| {
                InstKind::CCall {
                    cc,
                    fty,
                    sig,
                    callee,
                    args,
                    exc,
                    keepalive,
                }
            }
        ),
        (
            name(),
            prop::collection::vec(flag(), 0..2),
            names(2),
            names(2),
            names(2),
            exc(),
            names(2)
        )
            .prop_map(|(name, flags, tys, sigs, args, exc, keepalive)| {
                InstKind::CommInst {
                    name,
                    flags,
                    tys,
                    sigs,
                    args,
                    exc,
                    keepalive,
                }
            }),
        (
            name(),
            prop::option::of(names(2)),
            new_stack_clause(),
            exc(),
            names(2)
        )
            .prop_map(|(swappee, ret_with, new, exc, keepalive)| {
                InstKind::SwapStack {
                    swappee,
                    ret_with,
                    new,
                    exc,
                    keepalive,
                }
            }),
        (name(), prop::option::of(name()), new_stack_clause(), exc()).prop_map(
            |(stack, threadlocal, new, exc)| InstKind::NewThread {
                stack,
                threadlocal,
                new,
                exc,
            }
        ),
    ]
}

/// `PASS_VALUES <Ts> (vs)` or `THROW_EXC e`.
fn new_stack_clause() -> impl Strategy<Value = NewStackClause> {
    prop_oneof![
        (names(2), names(2)).prop_map(|(ts, vs)| NewStackClause::PassValues(ts, vs)),
        name().prop_map(NewStackClause::ThrowExc),
    ]
}

fn inst() -> impl Strategy<Value = Inst> {
    (names(3), prop::option::of(name()), inst_kind()).prop_map(|(results, id, kind)| Inst {
        results,
        id,
        kind,
        span: Span::default(),
    })
}

fn block() -> impl Strategy<Value = Block> {
    (
        name(),
        prop::collection::vec((name(), name()), 0..3),
        prop::option::of(name()),
        prop::collection::vec(inst(), 0..5),
    )
        .prop_map(|(name, params, exc_param, insts)| Block {
            name,
            params,
            exc_param,
            insts,
        })
}

fn type_ctor() -> impl Strategy<Value = TypeCtor> {
    prop_oneof![
        (1u32..=64).prop_map(TypeCtor::Int),
        Just(TypeCtor::Float),
        Just(TypeCtor::Double),
        Just(TypeCtor::Void),
        name().prop_map(TypeCtor::Ref),
        name().prop_map(TypeCtor::IRef),
        name().prop_map(TypeCtor::WeakRef),
        names(4).prop_map(TypeCtor::Struct),
        (name(), any::<u64>()).prop_map(|(t, n)| TypeCtor::Array(t, n)),
        (names(3), name()).prop_map(|(f, v)| TypeCtor::Hybrid(f, v)),
        name().prop_map(TypeCtor::FuncRef),
        name().prop_map(TypeCtor::UPtr),
        name().prop_map(TypeCtor::UFuncPtr),
        Just(TypeCtor::StackRef),
        Just(TypeCtor::ThreadRef),
        Just(TypeCtor::Other(OtherType::TagRef64)),
        (name(), any::<u64>()).prop_map(|(t, n)| TypeCtor::Other(OtherType::Vector(t, n))),
        (65u32..).prop_map(|n| TypeCtor::Other(OtherType::WideInt(n))),
    ]
}

fn const_ctor() -> impl Strategy<Value = ConstCtor> {
    let max = i128::from(u64::MAX);
    prop_oneof![
        (-max..=max).prop_map(ConstCtor::Int),
        (any::<bool>(), (u128::from(u64::MAX) + 1)..)
            .prop_map(|(neg, v)| ConstCtor::WideInt(neg, v)),
        any::<u32>().prop_map(ConstCtor::Float),
        any::<u64>().prop_map(ConstCtor::Double),
        names(3).prop_map(ConstCtor::List),
        Just(ConstCtor::Null),
        ".{1,12}".prop_map(ConstCtor::Extern),
    ]
}

fn top_level() -> impl Strategy<Value = TopLevel> {
    let s = Span::default();
    prop_oneof![
        (name(), type_ctor()).prop_map(move |(name, ctor)| TopLevel::TypeDef {
            name,
            ctor,
            span: s
        }),
        (name(), names(3), names(2)).prop_map(move |(name, params, rets)| TopLevel::FuncSig {
            name,
            params,
            rets,
            span: s
        }),
        (name(), name(), const_ctor()).prop_map(move |(name, ty, value)| TopLevel::Const {
            name,
            ty,
            value,
            span: s
        }),
        (name(), name()).prop_map(move |(name, ty)| TopLevel::Global { name, ty, span: s }),
        (name(), name()).prop_map(move |(name, sig)| TopLevel::FuncDecl { name, sig, span: s }),
        (name(), name(), flag(), name()).prop_map(move |(name, func, cc, cookie)| {
            TopLevel::Expose {
                name,
                func,
                cc,
                cookie,
                span: s,
            }
        }),
        (name(), name(), name(), prop::collection::vec(block(), 0..4)).prop_map(
            move |(name, version, sig, blocks)| TopLevel::FuncDef(FuncDef {
                name,
                version,
                sig,
                blocks,
                span: s
            })
        ),
    ]
}

fn bundle() -> impl Strategy<Value = Bundle> {
    prop::collection::vec(top_level(), 0..8).prop_map(|defs| Bundle { defs })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Printing then parsing is the identity on syntax trees.
    #[test]
    fn print_then_parse_is_identity(b in bundle()) {
        let text = print_bundle(&b);
        let parsed = parse_file(0, &text);
        prop_assert!(parsed.is_ok(), "the printed form does not parse: {:?}\n{}", parsed.err(), text);
        let (back, _) = parsed.unwrap_or_default();
        prop_assert_eq!(&back, &b, "{}", text);
    }
}

/// The corpus, printed and parsed again, is unchanged (as the Wasm test suite
/// round-trips every file).
#[test]
fn corpus_round_trips() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut n = 0;
    for dir in std::fs::read_dir(&root).expect("corpus/ exists") {
        let dir = dir.expect("readable").path();
        for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if !f.path().is_file() {
                continue;
            }
            let text = std::fs::read_to_string(f.path()).expect("readable");
            let Ok((b, _)) = parse_file(0, &text) else {
                continue;
            };
            let printed = print_bundle(&b);
            let (again, _) = parse_file(0, &printed).expect("printed corpus parses");
            assert_eq!(again, b, "{}", f.path().display());
            n += 1;
        }
    }
    assert!(n >= 30, "only {n} corpus files parsed");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// No syntax tree makes the verifier panic, and whatever verifies runs on the
    /// machine within small budgets without panicking.
    #[test]
    fn random_trees_never_panic(b in bundle()) {
        let text = print_bundle(&b);
        if let Ok(l) = spec_model::load(&[("gen.uir", &text)]) {
            spec_model_test_support::run_all(&l);
        }
    }
}

mod spec_model_test_support {
    use spec_model::{Budgets, Loaded, ModelError};

    /// Runs every runnable function with zero arguments and small budgets; a model
    /// bug is a failure.
    pub fn run_all(l: &Loaded) {
        for (f, r) in l.run_every_function(Budgets {
            fuel: 20_000,
            alloc: 1 << 20,
            stack: 64,
        }) {
            if let Err(ModelError::Bug(b)) = r {
                panic!("model bug in {}: {b}", l.module.funcs[f as usize].name);
            }
        }
    }
}
