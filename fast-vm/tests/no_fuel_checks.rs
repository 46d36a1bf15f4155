//! Code compiled without fuel checks, where the fast VM answers a callee's base
//! case at the call site (no fuel is charged for the callee's entry block, so it
//! may): a reference live across such a call is reloaded after the real call, which
//! a collection may have moved, and the two paths join. difftest's generator found
//! the join missing (the reloaded reference did not dominate its uses: Cranelift
//! rejected the code).

use fast_vm::{Options, Program};
use spec_model::machine::Value;
use spec_model::{Budgets, load};

const PROGRAM: &str = r"
.typedef @i64 = int<64>
.typedef @refi64 = ref<@i64>
.funcsig @sig = (@i64 @i64) -> (@i64)
.funcsig @main_sig = (@i64) -> (@i64)
.const @ONE <@i64> = 1
.const @K3 <@i64> = 3
.funcdef @fibish VERSION %v1 <@sig> {
    %entry(<@i64> %n <@i64> %k):
        %c = SLT <@i64> %n @K3
        BRANCH2 %c %base(%k) %more(%n %k)
    %base(<@i64> %a):
        RET %a
    %more(<@i64> %n <@i64> %k):
        %n1 = SUB <@i64> %n @ONE
        %n2 = SUB <@i64> %n @K3
        %o = NEW <@i64>
        %x = CALL <@sig> @fibish (%n1 %k)
        %y = CALL <@sig> @fibish (%n2 %x)
        %s = ADD <@i64> %x %y
        RET %s
}
.funcdef @main VERSION %v1 <@main_sig> {
    %entry(<@i64> %n):
        %o = NEW <@i64>
        %oi = GETIREF <@i64> %o
        STORE <@i64> %oi %n
        %r = CALL <@sig> @fibish (%n %n)
        %oi2 = GETIREF <@i64> %o
        %v = LOAD <@i64> %oi2
        %s = ADD <@i64> %r %v
        RET %s
}
";

#[test]
fn a_reference_live_across_a_call_answered_at_the_call_site_survives_a_collection() {
    let l = load(&[("t.uir", PROGRAM)]).expect("loads");
    let f = l.func("@main").expect("@main");
    let program = Program::compile_with(
        &l.module,
        Options {
            fuel_checks: false,
            trace_native: false,
            client: false,
        },
    )
    .expect("compiles without fuel checks");
    for n in [1i64, 2, 7] {
        let args = [Value::Int(n as u64)];
        let model = l
            .run("@main", &[&n.to_string()], Budgets::default())
            .expect("model");
        for stress in [false, true] {
            let (fast, _) = program
                .run_with(f, &args, Budgets::default(), stress)
                .expect("runs");
            assert_eq!(fast, model, "@main({n}), gc stress {stress}");
        }
    }
}
