//! The client interface on both engines: the same client code (a scripted trap
//! handler) drives the model and the fast VM, and both must show it the same
//! traps and end the same way (spec/11, uvm-client-interface.rest "Trap Handling").

use spec_model::client::{ClientValue, Scripted, TrapAnswer, TrapEvent};
use spec_model::outcome::OutValue;
use spec_model::run::{Engine, Model, Request};
use spec_model::{Budgets, load};

const BUNDLE: &str = r#"
.typedef @i64 = int<64>
.typedef @void = void
.typedef @refi64 = ref<@i64>
.typedef @refvoid = ref<@void>
.funcsig @i_i = (@i64) -> (@i64)
.funcsig @v_i = () -> (@i64)
.funcsig @i_v = (@i64) -> ()
.const @ZERO <@i64> = 0
.const @ONE <@i64> = 1
.const @THREE <@i64> = 3

// The client's values become the TRAP's results.
.funcdef @resume VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %r = [%t] TRAP <@i64> KEEPALIVE(%x)
        %s = ADD <@i64> %r %x
        RET %s
}

// Three traps in a loop, answered in order; the sum shows each answer.
.funcdef @answers VERSION %v1 <@v_i> {
    %entry():
        BRANCH %head(@ZERO @ZERO)
    %head(<@i64> %i <@i64> %sum):
        %more = SLT <@i64> %i @THREE
        BRANCH2 %more %body(%i %sum) %done(%sum)
    %body(<@i64> %j <@i64> %acc):
        %v = [%ask] TRAP <@i64> KEEPALIVE(%j %acc)
        %acc2 = ADD <@i64> %acc %v
        %j2 = ADD <@i64> %j @ONE
        BRANCH %head(%j2 %acc2)
    %done(<@i64> %total):
        RET %total
}

// The client throws the object it was shown into the TRAP's exception clause.
.funcdef @throw_here VERSION %v1 <@v_i> {
    %entry():
        %o = NEW <@i64>
        %oi = GETIREF <@i64> %o
        STORE <@i64> %oi @THREE
        %r = [%t] TRAP <@i64> EXC(%ok(%r) %caught(%o)) KEEPALIVE(%o)
    %ok(<@i64> %v):
        RET %v
    %caught(<@refi64> %mine) [%e]:
        %ec = REFCAST <@refvoid @refi64> %e
        %same = EQ <@refi64> %mine %ec
        %i = GETIREF <@i64> %ec
        %k = LOAD <@i64> %i
        %b = ZEXT <@i1 @i64> %same
        %s = ADD <@i64> %k %b
        RET %s
}
.typedef @i1 = int<1>

// Without an exception clause the exception unwinds to the caller's.
.funcdef @trapper VERSION %v1 <@i_v> {
    %entry(<@i64> %x):
        [%t] TRAP <> KEEPALIVE(%x)
        RET ()
}
.funcdef @throw_up VERSION %v1 <@v_i> {
    %entry():
        CALL <@i_v> @trapper (@THREE) EXC(%ok() %caught())
    %ok():
        RET @ZERO
    %caught() [%e]:
        %isnull = EQ <@refvoid> %e @NULLV
        %z = ZEXT <@i1 @i64> %isnull
        %s = ADD <@i64> %z @ONE
        RET %s
}
.const @NULLV <@refvoid> = NULL

// The client ends the thread.
.funcdef @exit VERSION %v1 <@v_i> {
    %entry():
        [%t] TRAP <> KEEPALIVE(@ONE)
        RET @ONE
}
"#;

/// One run of `func` on each engine with a client answering `answers`: the
/// outcome line and the traps the client saw, per engine.
fn both(
    func: &str,
    args: &[&str],
    answers: &[TrapAnswer],
) -> Vec<(String, String, Vec<TrapEvent>)> {
    let loaded = load(&[("client.uir", BUNDLE)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let f = loaded.func(func).expect("a function");
    let argv = loaded.args(f, args).expect("arguments");
    let mut out = Vec::new();

    let program = fast_vm::Program::compile(&loaded.module, true).expect("compiles");
    let mut engines: Vec<Box<dyn Engine + '_>> =
        vec![Box::new(Model::new(&loaded)), Box::new(program)];
    for (engine, gc_stress) in [(0, false), (1, false), (1, true)] {
        let vm = &mut *engines[engine];
        let client = Scripted::new(answers.to_vec());
        vm.set_trap_handler(Some(Box::new(client.clone())));
        let request = Request {
            gc_stress,
            ..Request::new(f, &argv, Budgets::default())
        };
        let o = vm.run(&request).expect("the engine runs it").outcome;
        let name = match (vm.name(), gc_stress) {
            ("spec", _) => "model",
            (_, false) => "fast",
            (_, true) => "fast, gc stress",
        };
        out.push((name.to_string(), o.to_string(), client.seen()));
    }
    out
}

/// Every engine gave `outcome` and showed the client traps named `names`.
fn agree(runs: &[(String, String, Vec<TrapEvent>)], outcome: &str, names: &[&str]) {
    for (engine, o, seen) in runs {
        assert_eq!(o, outcome, "{engine}");
        let got: Vec<&str> = seen.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(got, names, "{engine}");
    }
    let first = &runs[0].2;
    for (engine, _, seen) in &runs[1..] {
        for (a, b) in first.iter().zip(seen) {
            assert_eq!(a.keepalive.len(), b.keepalive.len(), "{engine}");
            for (x, y) in a.keepalive.iter().zip(&b.keepalive) {
                // Objects are numbered by each engine; other values are equal.
                match (x, y) {
                    (OutValue::Ref(Some(_)), OutValue::Ref(Some(_))) => {}
                    _ => assert_eq!(x, y, "{engine}: {a:?} vs {b:?}"),
                }
            }
        }
    }
}

#[test]
fn a_handler_resumes_with_values() {
    let runs = both(
        "@resume",
        &["1"],
        &[TrapAnswer::Resume(vec![ClientValue::Int(41)])],
    );
    agree(&runs, "return 42", &["@resume.v1.entry.t"]);
    assert_eq!(
        runs[0].2[0].keepalive,
        vec![OutValue::Int { width: 64, bits: 1 }]
    );
}

#[test]
fn answers_are_given_in_order_and_the_trap_shows_live_values() {
    let answers = [10, 20, 30].map(|v| TrapAnswer::Resume(vec![ClientValue::Int(v)]));
    let runs = both("@answers", &[], &answers);
    let name = "@answers.v1.body.ask";
    agree(&runs, "return 60", &[name, name, name]);
    let acc: Vec<u64> = runs[0]
        .2
        .iter()
        .map(|e| match e.keepalive[1] {
            OutValue::Int { bits, .. } => bits,
            _ => u64::MAX,
        })
        .collect();
    assert_eq!(acc, [0, 10, 30]);
    // Past the end of its script the client stops the run there.
    let runs = both("@answers", &[], &answers[..1]);
    agree(
        &runs,
        "client_trap @answers.v1.body.ask 1 10",
        &[name, name],
    );
}

#[test]
fn a_handler_throws_into_the_trapping_frames_exception_clause() {
    let runs = both(
        "@throw_here",
        &[],
        &[TrapAnswer::Throw(ClientValue::Kept(0))],
    );
    // The object thrown is the one the frame holds (3 + 1).
    agree(&runs, "return 4", &["@throw_here.v1.entry.t"]);
    // Resumed instead, the result goes to the normal destination.
    let runs = both(
        "@throw_here",
        &[],
        &[TrapAnswer::Resume(vec![ClientValue::Int(7)])],
    );
    agree(&runs, "return 7", &["@throw_here.v1.entry.t"]);
}

#[test]
fn an_exception_thrown_at_a_trap_without_a_clause_unwinds_to_the_caller() {
    let runs = both("@throw_up", &[], &[TrapAnswer::Throw(ClientValue::Null)]);
    agree(&runs, "return 2", &["@trapper.v1.entry.t"]);
}

#[test]
fn a_handler_ends_the_thread_or_stops_the_run() {
    let runs = both("@exit", &[], &[TrapAnswer::ExitThread]);
    agree(&runs, "return", &["@exit.v1.entry.t"]);
    let runs = both("@exit", &[], &[TrapAnswer::Stop]);
    agree(
        &runs,
        "client_trap @exit.v1.entry.t 1",
        &["@exit.v1.entry.t"],
    );
}
