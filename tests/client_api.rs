//! The client interface (`MuCtx`) on both engines: the same client code drives the
//! model and the fast VM (compiled for a client, with and without GC stress)
//! through the scenarios of uvm-client-interface.rest and uvm-ir.rest, and every
//! engine must show the client the same things and end the same way (spec/11).

use spec_model::client::{
    ClientValue, MuCtx, MuVM, NewThread, TrapAnswer, TrapEvent, TrapHandler, TrapKind,
};
use spec_model::run::{Engine, Model, Request};
use spec_model::{Budgets, Bundles, load};
use std::cell::RefCell;
use std::rc::Rc;

const BUNDLE: &str = r#"
.typedef @i64 = int<64>
.typedef @i1 = int<1>
.typedef @void = void
.typedef @refi64 = ref<@i64>
.typedef @refvoid = ref<@void>
.funcsig @i_i = (@i64) -> (@i64)
.funcsig @v_i = () -> (@i64)
.typedef @fp_i_i = ufuncptr<@i_i>
.const @ZERO <@i64> = 0
.const @ONE <@i64> = 1
.const @SIX <@i64> = 6
.const @FORTYTWO <@i64> = 42

// Resumed with values.
.funcdef @resume VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %r = [%t] TRAP <@i64> KEEPALIVE(%x)
        %s = ADD <@i64> %r %x
        RET %s
}

// Thrown into the trapping frame's exception clause.
.funcdef @throw_here VERSION %v1 <@v_i> {
    %entry():
        %o = NEW <@i64>
        %oi = GETIREF <@i64> %o
        STORE <@i64> %oi @FORTYTWO
        %r = [%t] TRAP <@i64> EXC(%ok(%r) %caught()) KEEPALIVE(%o)
    %ok(<@i64> %v):
        RET %v
    %caught() [%e]:
        %ec = REFCAST <@refvoid @refi64> %e
        %i = GETIREF <@i64> %ec
        %k = LOAD <@i64> %i
        RET %k
}

// Lazy resolution: @lazy has no version until the client loads one.
.funcdecl @lazy <@i_i>
.funcdef @calls_lazy VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %r = [%c] CALL <@i_i> @lazy (%x)
        %s = ADD <@i64> %r @ONE
        RET %s
}

// Redefined while its first activation is live.
.funcdef @count VERSION %v1 <@i_i> {
    %entry(<@i64> %n):
        %k = [%t] TRAP <@i64> KEEPALIVE(%n)
        %z = EQ <@i64> %n @ZERO
        BRANCH2 %z %done(%k) %more(%n %k)
    %more(<@i64> %m <@i64> %k1):
        %m1 = SUB <@i64> %m @ONE
        %r = [%c] CALL <@i_i> @count (%m1)
        %s = ADD <@i64> %r %k1
        RET %s
    %done(<@i64> %k2):
        RET %k2
}

// On-stack replacement: the client pops @inner's frame and pushes one of
// @inner's new version on @outer's.
.funcdef @outer VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %r = [%c] CALL <@i_i> @inner (%x)
        %s = ADD <@i64> %r @ONE
        RET %s
}
.funcdef @inner VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %y = [%t] TRAP <@i64> KEEPALIVE(%x)
        RET %y
}

// Pinning and exposing from the client.
.funcdef @square VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %y = MUL <@i64> %x %x
        RET %y
}
.funcdef @native VERSION %v1 <@v_i> {
    %entry():
        %o = NEW <@i64>
        %oi = GETIREF <@i64> %o
        STORE <@i64> %oi @FORTYTWO
        %fp = [%pin] TRAP <@fp_i_i> KEEPALIVE(%o)
        %r = CCALL #DEFAULT <@fp_i_i @i_i> %fp (@SIX)
        [%done] TRAP <> KEEPALIVE(%o %fp)
        RET %r
}

// A function that returns nothing, which no TRAP <@i64> can take.
.funcsig @v_v = () -> ()
.funcdef @nothing_back VERSION %v1 <@v_v> {
    %entry():
        RET ()
}

// Threads the client makes, which run after the run's own.
.global @acc <@i64>
.funcdef @spawner VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        [%t] TRAP <> KEEPALIVE(%x)
        RET %x
}
.funcdef @addto VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %a = LOAD <@i64> @acc
        %b = ADD <@i64> %a %x
        STORE <@i64> @acc %b
        RET %b
}
"#;

/// The client code of one scenario: it sees the context, the trap and a log,
/// and answers.
type Step = fn(&mut dyn MuCtx, &TrapEvent, &mut Vec<String>) -> TrapAnswer;

/// What a scenario's client does as the run starts (`on_start`).
type Start = fn(&mut dyn MuCtx, &mut Vec<String>);

/// A client running `step` at every trap (and `start` as the run starts); the
/// log is shared with the test.
#[derive(Clone)]
struct Client {
    step: Step,
    start: Option<Start>,
    log: Rc<RefCell<Vec<String>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Client")
    }
}

impl TrapHandler for Client {
    fn on_trap(&mut self, ctx: &mut dyn MuCtx, trap: &TrapEvent) -> TrapAnswer {
        let mut log = self.log.borrow_mut();
        let kind = match trap.kind {
            TrapKind::Trap => "trap",
            TrapKind::UndefinedFunction => "undefined",
            TrapKind::Watchpoint => "watchpoint",
        };
        log.push(format!("{kind} {}", trap.name));
        (self.step)(ctx, trap, &mut log)
    }

    fn on_start(&mut self, ctx: &mut dyn MuCtx) {
        if let Some(start) = self.start {
            let mut log = self.log.borrow_mut();
            log.push("start".into());
            start(ctx, &mut log);
        }
    }
}

/// The names of the frames from the top: `func version instruction`.
fn frames(ctx: &mut dyn MuCtx) -> Vec<String> {
    let c = ctx.new_cursor().expect("a cursor");
    let mut out = Vec::new();
    loop {
        let name = |id: u32| ctx.name_of(id).unwrap_or_else(|| "0".into());
        let f = ctx.cur_func(c).expect("cur_func");
        let v = ctx.cur_func_ver(c).expect("cur_func_ver");
        let i = ctx.cur_inst(c).expect("cur_inst");
        out.push(format!("{} {} {}", name(f), name(v), name(i)));
        if ctx.next_frame(c).is_err() {
            break;
        }
    }
    ctx.close_cursor(c).expect("close_cursor");
    out
}

/// `func(args)` on every engine with a client running `step`: the outcome line
/// and the client's log, per engine.
fn on_every_engine(func: &str, args: &[&str], step: Step) -> Vec<(String, String, Vec<String>)> {
    starting_on_every_engine(func, args, None, step)
}

/// [`on_every_engine`] with a client that also acts as the run starts.
fn starting_on_every_engine(
    func: &str,
    args: &[&str],
    start: Option<Start>,
    step: Step,
) -> Vec<(String, String, Vec<String>)> {
    let loaded = load(&[("client_api.uir", BUNDLE)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let bundles = Bundles::new(&loaded);
    let f = loaded.func(func).expect("a function");
    let argv = loaded.args(f, args).expect("arguments");
    let mut out = Vec::new();

    let options = fast_vm::Options {
        fuel_checks: true,
        trace_native: false,
        client: true,
    };
    let program = fast_vm::Program::compile_with(&loaded.module, options).expect("compiles");
    program.set_bundles(Some(&bundles));
    let mut engines: Vec<Box<dyn Engine + '_>> =
        vec![Box::new(Model::new(&loaded)), Box::new(program)];
    // The same client code on every engine, through `Engine` and `MuVM` alone.
    for (engine, gc_stress) in [(0, false), (1, false), (1, true)] {
        let vm = &mut *engines[engine];
        let client = Client {
            step,
            start,
            log: Rc::default(),
        };
        install(vm, &client);
        let request = Request {
            gc_stress,
            ..Request::new(f, &argv, Budgets::default())
        };
        let o = vm.run(&request).map_or_else(
            |e| format!("error {e}"),
            |seen| {
                // The threads the client made, after the run's own outcome.
                let threads: Vec<String> = seen.threads.iter().map(|o| o.to_string()).collect();
                if threads.is_empty() {
                    seen.outcome.to_string()
                } else {
                    format!("{} | threads: {}", seen.outcome, threads.join(", "))
                }
            },
        );
        let name = match (vm.name(), gc_stress) {
            ("spec", _) => "model",
            (_, false) => "fast",
            (_, true) => "fast, gc stress",
        };
        out.push((name.to_string(), o, client.log.take()));
    }
    out
}

/// Sets `client` as the handler of either engine (`MuVM`, the same code for both).
fn install(vm: &mut dyn MuVM, client: &Client) {
    vm.set_trap_handler(Some(Box::new(client.clone())));
}

/// How a client call went, as the log shows it: `ok` or its error's code.
fn code<T>(r: Result<T, spec_model::client::ClientError>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => e.code.to_string(),
    }
}

/// What `MuVM` says of some names, on either engine.
fn ids(vm: &dyn MuVM) -> Vec<String> {
    [
        "@i64",
        "@count",
        "@count.v1",
        "@count.v1.entry.t",
        "@inner.v1.entry.t",
        "@nothing",
    ]
    .iter()
    .map(|n| match vm.id_of(n) {
        Some(id) => format!("{n} {id} {}", vm.name_of(id).unwrap_or_default()),
        None => format!("{n} none"),
    })
    .collect()
}

#[test]
fn both_engines_give_the_same_ids() {
    let loaded = load(&[("client_api.uir", BUNDLE)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let m = loaded.machine(Budgets::default());
    let program = fast_vm::Program::compile(&loaded.module, true).expect("compiles");
    let (a, b) = (ids(&m), ids(&program));
    assert_eq!(a, b);
    // Each known name comes back from its ID; the unknown one has none.
    assert!(
        a[..5].iter().all(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            w.len() == 3 && w[0] == w[2]
        }),
        "{a:?}"
    );
    assert_eq!(a[5], "@nothing none");
}

/// Every engine gave `outcome` and `log`.
fn assert_all(runs: &[(String, String, Vec<String>)], outcome: &str, log: &[&str]) {
    for (engine, o, l) in runs {
        assert_eq!(o, outcome, "{engine}: outcome");
        assert_eq!(l, log, "{engine}: what the client saw");
    }
}

#[test]
fn a_handler_resumes_with_values() {
    let runs = on_every_engine("@resume", &["5"], |ctx, _, log| {
        let ka = {
            let c = ctx.new_cursor().unwrap();
            ctx.dump_keepalives(c).unwrap()
        };
        let x = ctx.handle_to_int(ka[0]).unwrap();
        log.push(format!("x = {x}"));
        log.extend(frames(ctx));
        let i64t = ctx.id_of("@i64").unwrap();
        let h = ctx.handle_from_int(i64t, x * 10).unwrap();
        TrapAnswer::Resume(vec![ClientValue::Handle(h)])
    });
    assert_all(
        &runs,
        "return 55",
        &[
            "trap @resume.v1.entry.t",
            "x = 5",
            "@resume @resume.v1 @resume.v1.entry.t",
        ],
    );
}

#[test]
fn a_handler_throws_into_the_trapping_frames_exception_clause() {
    let runs = on_every_engine("@throw_here", &[], |ctx, _, log| {
        let c = ctx.new_cursor().unwrap();
        let ka = ctx.dump_keepalives(c).unwrap();
        let i = ctx.get_iref(ka[0]).unwrap();
        let v = ctx.load(i).unwrap();
        log.push(format!(
            "the object holds {}",
            ctx.handle_to_int(v).unwrap()
        ));
        // The client changes it before throwing it.
        let i64t = ctx.id_of("@i64").unwrap();
        let seven = ctx.handle_from_int(i64t, 7).unwrap();
        ctx.store(i, seven).unwrap();
        TrapAnswer::Throw(ClientValue::Handle(ka[0]))
    });
    assert_all(
        &runs,
        "return 7",
        &["trap @throw_here.v1.entry.t", "the object holds 42"],
    );
}

#[test]
fn a_handler_loads_a_bundle_and_resumes_a_funcdecl_call() {
    let runs = on_every_engine("@calls_lazy", &["7"], |ctx, trap, log| {
        log.push(format!("args {:?}", trap.keepalive));
        log.extend(frames(ctx));
        ctx.load_bundle(
            "lazy.uir",
            ".funcdef @lazy VERSION %v1 <@i_i> {\n %entry(<@i64> %x):\n %y = MUL <@i64> %x %x\n RET %y\n}\n",
        )
        .unwrap();
        TrapAnswer::Resume(vec![])
    });
    assert_all(
        &runs,
        "return 50",
        &[
            "undefined @lazy",
            "args [Int { width: 64, bits: 7 }]",
            "@lazy 0 0",
            "@calls_lazy @calls_lazy.v1 @calls_lazy.v1.entry.c",
        ],
    );
}

#[test]
fn a_bundle_that_does_not_load_leaves_the_function_undefined() {
    let runs = on_every_engine("@calls_lazy", &["7"], |ctx, _, log| {
        // A version named as an existing one: all or nothing, with the code.
        let e = ctx
            .load_bundle(
                "bad.uir",
                ".funcdef @lazy VERSION %v1 <@i_i> {\n %entry(<@i64> %x):\n RET %x\n}\n.funcdef @count VERSION %v1 <@i_i> {\n %entry(<@i64> %x):\n RET %x\n}\n",
            )
            .unwrap_err();
        log.push(e.code.to_string());
        TrapAnswer::Stop
    });
    assert_all(
        &runs,
        "client_trap @lazy 7",
        &["undefined @lazy", "duplicate-name"],
    );
}

#[test]
fn a_redefinition_leaves_the_live_activation_on_its_version() {
    let runs = on_every_engine("@count", &["1"], |ctx, _, log| {
        log.extend(frames(ctx));
        let v = ctx.id_of("@count.v2");
        let i64t = ctx.id_of("@i64").unwrap();
        if v.is_none() {
            ctx.load_bundle(
                "count2.uir",
                ".const @THOUSAND <@i64> = 1000\n.funcdef @count VERSION %v2 <@i_i> {\n %entry(<@i64> %n):\n %k = [%t] TRAP <@i64> KEEPALIVE(%n)\n %r = ADD <@i64> %k @THOUSAND\n RET %r\n}\n",
            )
            .unwrap();
            let h = ctx.handle_from_int(i64t, 5).unwrap();
            return TrapAnswer::Resume(vec![ClientValue::Handle(h)]);
        }
        let h = ctx.handle_from_int(i64t, 7).unwrap();
        TrapAnswer::Resume(vec![ClientValue::Handle(h)])
    });
    assert_all(
        &runs,
        "return 1012",
        &[
            "trap @count.v1.entry.t",
            "@count @count.v1 @count.v1.entry.t",
            "trap @count.v2.entry.t",
            "@count @count.v2 @count.v2.entry.t",
            "@count @count.v1 @count.v1.more.c",
        ],
    );
}

#[test]
fn on_stack_replacement_pops_frames_and_pushes_the_new_version() {
    let runs = on_every_engine("@outer", &["5"], |ctx, _, log| {
        ctx.load_bundle(
            "inner2.uir",
            ".const @THREE <@i64> = 3\n.funcdef @inner VERSION %v2 <@i_i> {\n %entry(<@i64> %x):\n %y = MUL <@i64> %x @THREE\n RET %y\n}\n",
        )
        .unwrap();
        let c = ctx.new_cursor().unwrap();
        let x = ctx.dump_keepalives(c).unwrap()[0];
        ctx.next_frame(c).unwrap();
        ctx.pop_frames_to(c).unwrap();
        let inner = ctx.id_of("@inner").unwrap();
        let f = ctx.handle_from_id(inner).unwrap();
        ctx.push_frame(f).unwrap();
        log.extend(frames(ctx));
        TrapAnswer::Resume(vec![ClientValue::Handle(x)])
    });
    assert_all(
        &runs,
        "return 16",
        &[
            "trap @inner.v1.entry.t",
            "@inner @inner.v2 0",
            "@outer @outer.v1 @outer.v1.entry.c",
        ],
    );
}

#[test]
fn popping_to_a_frame_resumes_its_call_with_the_clients_values() {
    let runs = on_every_engine("@outer", &["5"], |ctx, _, _| {
        let c = ctx.new_cursor().unwrap();
        ctx.next_frame(c).unwrap();
        ctx.pop_frames_to(c).unwrap();
        let i64t = ctx.id_of("@i64").unwrap();
        let h = ctx.handle_from_int(i64t, 40).unwrap();
        TrapAnswer::Resume(vec![ClientValue::Handle(h)])
    });
    assert_all(&runs, "return 41", &["trap @inner.v1.entry.t"]);
}

#[test]
fn the_client_pins_unpins_exposes_and_unexposes() {
    let runs = on_every_engine("@native", &[], |ctx, trap, log| {
        let c = ctx.new_cursor().unwrap();
        let ka = ctx.dump_keepalives(c).unwrap();
        if trap.name.ends_with(".pin") {
            let p = ctx.pin(ka[0]).unwrap();
            let shown = ctx.show(p).unwrap();
            log.push(format!(
                "pinned: {}",
                matches!(shown, spec_model::outcome::OutValue::MuPtr(_, 0))
            ));
            let sq = ctx.id_of("@square").unwrap();
            let f = ctx.handle_from_id(sq).unwrap();
            let fp = ctx.expose(f, 9).unwrap();
            return TrapAnswer::Resume(vec![ClientValue::Handle(fp)]);
        }
        ctx.unpin(ka[0]).unwrap();
        log.push(format!(
            "unpin again: {}",
            ctx.unpin(ka[0]).unwrap_err().code
        ));
        ctx.unexpose(ka[1]).unwrap();
        log.push(format!(
            "unexpose again: {}",
            ctx.unexpose(ka[1]).unwrap_err().code
        ));
        TrapAnswer::Resume(vec![])
    });
    assert_all(
        &runs,
        "return 36",
        &[
            "trap @native.v1.entry.pin",
            "pinned: true",
            "trap @native.v1.entry.done",
            "unpin again: client.undefined-behaviour",
            "unexpose again: native.unexpose-unknown",
        ],
    );
}

#[test]
fn a_handler_makes_stacks_and_threads_that_run_after_the_runs_own() {
    let runs = on_every_engine("@spawner", &["5"], |ctx, _, log| {
        let i64t = ctx.id_of("@i64").unwrap();
        let addto = ctx.handle_from_id(ctx.id_of("@addto").unwrap()).unwrap();
        let s1 = ctx.new_stack(addto).unwrap();
        let three = ctx.handle_from_int(i64t, 3).unwrap();
        let pass = |v| NewThread::PassValues(vec![v]);
        log.push(code(ctx.new_thread(s1, pass(ClientValue::Handle(three)))));
        // A stack is bound once; then it is not READY.
        log.push(code(ctx.new_thread(s1, pass(ClientValue::Int(1)))));
        // The wrong values leave the stack READY, to be killed.
        let s2 = ctx.new_stack(addto).unwrap();
        log.push(code(ctx.new_thread(s2, NewThread::PassValues(Vec::new()))));
        log.push(code(ctx.kill_stack(s2)));
        log.push(code(ctx.new_thread(s2, pass(ClientValue::Int(1)))));
        // Thrown to, the bottom frame, not started, re-throws.
        let s3 = ctx.new_stack(addto).unwrap();
        log.push(code(
            ctx.new_thread(s3, NewThread::ThrowExc(ClientValue::Null)),
        ));
        let lazy = ctx.handle_from_id(ctx.id_of("@lazy").unwrap()).unwrap();
        log.push(code(ctx.new_stack(lazy)));
        log.push(code(ctx.new_stack(three)));
        let s4 = ctx.new_stack(addto).unwrap();
        log.push(code(ctx.new_thread(s4, pass(ClientValue::Int(4)))));
        log.push(code(ctx.handle_to_int(s4)));
        TrapAnswer::Resume(Vec::new())
    });
    assert_all(
        &runs,
        "return 5 | threads: return 3, trap uncaught_exception, return 7",
        &[
            "trap @spawner.v1.entry.t",
            "ok",
            "client.stack-not-ready",
            "client.type-mismatch",
            "ok",
            "client.stack-not-ready",
            "ok",
            "client.undefined-function",
            "client.not-a-function",
            "ok",
            "client.type-mismatch",
        ],
    );
}

#[test]
fn a_client_acts_as_the_run_starts() {
    let runs = starting_on_every_engine(
        "@spawner",
        &["2"],
        Some(|ctx, log| {
            // No frame yet.
            log.push(code(ctx.new_cursor()));
            let addto = ctx.handle_from_id(ctx.id_of("@addto").unwrap()).unwrap();
            log.push(code(ctx.push_frame(addto)));
            // The global cell is set before the thread runs; a thread made now
            // runs after the run's own.
            let i64t = ctx.id_of("@i64").unwrap();
            let acc = ctx.handle_from_id(ctx.id_of("@acc").unwrap()).unwrap();
            let hundred = ctx.handle_from_int(i64t, 100).unwrap();
            log.push(code(ctx.store(acc, hundred)));
            let s = ctx.new_stack(addto).unwrap();
            log.push(code(
                ctx.new_thread(s, NewThread::PassValues(vec![ClientValue::Int(1)])),
            ));
        }),
        |ctx, _, log| {
            let acc = ctx.handle_from_id(ctx.id_of("@acc").unwrap()).unwrap();
            let v = ctx.load(acc).unwrap();
            log.push(format!("acc {}", ctx.handle_to_int(v).unwrap()));
            TrapAnswer::Resume(Vec::new())
        },
    );
    assert_all(
        &runs,
        "return 2 | threads: return 101",
        &[
            "start",
            "client.no-frame",
            "client.no-frame",
            "ok",
            "ok",
            "trap @spawner.v1.entry.t",
            "acc 100",
        ],
    );
}

#[test]
fn a_pushed_frame_must_return_what_the_frame_below_takes() {
    let runs = on_every_engine("@outer", &["5"], |ctx, _, log| {
        let nothing = ctx
            .handle_from_id(ctx.id_of("@nothing_back").unwrap())
            .unwrap();
        log.push(code(ctx.push_frame(nothing)));
        let square = ctx.handle_from_id(ctx.id_of("@square").unwrap()).unwrap();
        log.push(code(ctx.push_frame(square)));
        log.push(code(ctx.push_frame(square)));
        // @square(6) returns 36 to @inner's TRAP; @outer adds one.
        TrapAnswer::Resume(vec![ClientValue::Int(6)])
    });
    assert_all(
        &runs,
        "return 37",
        &[
            "trap @inner.v1.entry.t",
            "client.type-mismatch",
            "ok",
            "client.unsupported",
        ],
    );
}
