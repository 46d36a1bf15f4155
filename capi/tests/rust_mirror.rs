//! Seven of the C clients' scenarios through the Rust client interface: the same bundle
//! (read out of the C source), the same handler logic, on both engines, must print
//! the C client's `// expect:` lines. So the C API adds nothing and loses nothing
//! between the client and the engine.

use spec_model::client::{ClientValue, MuCtx, TrapAnswer, TrapEvent, TrapHandler};
use spec_model::run::{Engine, Model, Request};
use spec_model::{Budgets, Bundles, load};
use std::cell::RefCell;
use std::rc::Rc;

/// The bundle of a C client: its `BUNDLE` string literal, unescaped.
fn bundle_of(c: &str) -> String {
    let start = c.find("static const char *BUNDLE =").expect("a BUNDLE");
    let mut out = String::new();
    for line in c[start..].lines().skip(1) {
        let l = line.trim();
        let Some(body) = l.strip_prefix('"') else {
            break;
        };
        let body = body.trim_end_matches(';').trim_end_matches('"');
        out.push_str(
            &body
                .replace("\\n", "\n")
                .replace("\\\"", "\"")
                .replace("\\\\", "\\"),
        );
        if l.ends_with(';') {
            break;
        }
    }
    out
}

fn expected(c: &str) -> Vec<String> {
    c.lines()
        .filter_map(|l| l.strip_prefix("// expect: "))
        .map(str::to_string)
        .collect()
}

type Step = fn(&mut dyn MuCtx, &str, &mut Vec<String>) -> TrapAnswer;

#[derive(Clone)]
struct Mirror {
    step: Step,
    log: Rc<RefCell<Vec<String>>>,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mirror")
    }
}

impl TrapHandler for Mirror {
    fn on_trap(&mut self, ctx: &mut dyn MuCtx, trap: &TrapEvent) -> TrapAnswer {
        let mut log = self.log.borrow_mut();
        (self.step)(ctx, &trap.name, &mut log)
    }
}

/// The first keep-alive value of the top frame, as an integer.
fn kept(ctx: &mut dyn MuCtx, i: usize) -> u64 {
    let c = ctx.new_cursor().expect("a cursor");
    let ks = ctx.dump_keepalives(c).expect("keep-alives");
    ctx.close_cursor(c).expect("closed");
    ctx.handle_to_int(ks[i]).expect("an int")
}

/// Runs `@func` (with `args`) of the C client's bundle on both engines with
/// `step` as the handler, and checks the lines against the client's.
fn mirror(
    client: &str,
    func: &str,
    args: &[&str],
    pre: fn(&spec_model::Loaded) -> Vec<String>,
    step: Step,
) {
    let c = std::fs::read_to_string(format!("tests/c/{client}")).expect("the C client");
    let want = expected(&c);
    let loaded = load(&[(client, &bundle_of(&c))]).unwrap_or_else(|e| panic!("{}", e.render()));
    let bundles = Bundles::new(&loaded);
    let f = loaded.func(func).expect("the function");
    let argv = loaded.args(f, args).expect("arguments");
    let options = fast_vm::Options {
        fuel_checks: true,
        trace_native: false,
        client: true,
    };
    let program = fast_vm::Program::compile_with(&loaded.module, options).expect("compiles");
    program.set_bundles(Some(&bundles));
    let mut engines: Vec<Box<dyn Engine + '_>> =
        vec![Box::new(Model::new(&loaded)), Box::new(program)];
    for vm in &mut engines {
        let log = Rc::new(RefCell::new(Vec::new()));
        vm.set_trap_handler(Some(Box::new(Mirror {
            step,
            log: log.clone(),
        })));
        let seen = vm
            .run(&Request::new(f, &argv, Budgets::default()))
            .expect("the run");
        let mut got = pre(&loaded);
        got.extend(log.take());
        got.push(if seen.outcome.to_string().starts_with("return") {
            "execute: ok".to_string()
        } else {
            format!("execute: {}", seen.outcome)
        });
        assert_eq!(got, want, "{client} on {}", vm.name());
    }
}

#[test]
fn resume_as_in_c() {
    let ids = |l: &spec_model::Loaded| {
        let id = l.module.id_of("@add").unwrap_or(0);
        vec![
            format!("id_of @add: {}", if id != 0 { "nonzero" } else { "zero" }),
            format!("name_of: {}", l.module.name_of(id).unwrap_or_default()),
        ]
    };
    mirror("resume.c", "@add", &["40", "1"], ids, |ctx, name, log| {
        let v = kept(ctx, 0);
        log.push(format!("trap at {name} with {v}"));
        if name == "@add.v1.entry.t" {
            TrapAnswer::Resume(vec![ClientValue::Int(6)])
        } else {
            TrapAnswer::Resume(vec![])
        }
    });
}

#[test]
fn redefine_as_in_c() {
    mirror(
        "redefine.c",
        "@main",
        &[],
        |_| Vec::new(),
        |ctx, name, log| {
            let v = kept(ctx, 0);
            if name == "@main.v1.entry.t1" {
                log.push(format!("before: {v}"));
                ctx.load_bundle(
                "v2.uir",
                ".const @TWO <@i64> = 2\n.funcdef @f VERSION %v2 <@v_i> {\n    %e():\n        RET @TWO\n}\n",
            )
            .expect("loads");
            } else {
                log.push(format!("after: {v}"));
            }
            TrapAnswer::Resume(vec![])
        },
    );
}

#[test]
fn many_results_as_in_c() {
    mirror(
        "many_results.c",
        "@main",
        &[],
        |_| Vec::new(),
        |ctx, name, log| {
            if name == "@main.v1.entry.get" {
                return TrapAnswer::Resume(vec![
                    ClientValue::Int(1),
                    ClientValue::Int(300),
                    ClientValue::Int(7_000_000),
                ]);
            }
            log.push(format!("sum {}", kept(ctx, 0)));
            TrapAnswer::Resume(vec![])
        },
    );
}

#[test]
fn throw_as_in_c() {
    mirror(
        "throw.c",
        "@main",
        &[],
        |_| Vec::new(),
        |ctx, name, log| {
            if name == "@main.v1.entry.t" {
                return TrapAnswer::Throw(ClientValue::Kept(0));
            }
            log.push(format!("caught {}", kept(ctx, 0)));
            TrapAnswer::Resume(vec![])
        },
    );
}

#[test]
fn globals_as_in_c() {
    mirror(
        "globals.c",
        "@main",
        &[],
        |_| Vec::new(),
        |ctx, name, log| {
            if name == "@main.v1.entry.set" {
                let id = ctx.id_of("@g").expect("@g");
                let g = ctx.handle_from_id(id).expect("its iref");
                let v = ctx.handle_from_int_len(64, 21).expect("an int<64>");
                ctx.store(g, v).expect("stored");
            } else if name == "@main.v1.entry.saw" {
                log.push(format!("Mu read {}", kept(ctx, 0)));
            } else {
                let id = ctx.id_of("@h").expect("@h");
                let h = ctx.handle_from_id(id).expect("its iref");
                let v = ctx.load(h).expect("loaded");
                log.push(format!("C read {}", ctx.handle_to_int(v).expect("an int")));
            }
            TrapAnswer::Resume(vec![])
        },
    );
}

#[test]
fn atomics_as_in_c() {
    mirror(
        "atomics.c",
        "@main",
        &[],
        |_| Vec::new(),
        |ctx, _, log| {
            let id = ctx.id_of("@g").expect("@g");
            let g = ctx.handle_from_id(id).expect("its iref");
            let int = |ctx: &mut dyn MuCtx, v| ctx.handle_from_int_len(64, v).expect("an int");
            let (five, six, seven) = (int(ctx, 5), int(ctx, 6), int(ctx, 7));
            let (old, ok) = ctx.cmpxchg(g, five, six).expect("cmpxchg");
            let old = ctx.handle_to_int(old).expect("an int");
            log.push(format!(
                "cmpxchg 5 -> 6: {}, old {old}",
                if ok { "succeeded" } else { "failed" }
            ));
            let (old, ok) = ctx.cmpxchg(g, five, seven).expect("cmpxchg");
            let old = ctx.handle_to_int(old).expect("an int");
            log.push(format!(
                "cmpxchg 5 -> 7: {}, old {old}",
                if ok { "succeeded" } else { "failed" }
            ));
            let ten = int(ctx, 10);
            let old = ctx
                .atomicrmw(spec_model::client::AtomicRmwOp::Add, g, ten)
                .expect("atomicrmw");
            let old = ctx.handle_to_int(old).expect("an int");
            let now = ctx.load(g).expect("loaded");
            let now = ctx.handle_to_int(now).expect("an int");
            log.push(format!("atomicrmw add 10: old {old}, now {now}"));
            TrapAnswer::Resume(vec![])
        },
    );
}

#[test]
fn frames_as_in_c() {
    mirror(
        "frames.c",
        "@main",
        &[],
        |_| Vec::new(),
        |ctx, _, log| {
            let c = ctx.new_cursor().expect("a cursor");
            for i in 0..3 {
                if i > 0 {
                    ctx.next_frame(c).expect("a frame below");
                }
                let f = ctx.cur_func(c).expect("its function");
                let at = ctx.cur_inst(c).expect("its instruction");
                log.push(format!(
                    "frame {} at {}",
                    ctx.name_of(f).unwrap_or_default(),
                    ctx.name_of(at).unwrap_or_default()
                ));
            }
            let below = ctx.next_frame(c).err().map(|e| e.code).unwrap_or("ok");
            log.push(format!("below the bottom frame: {below}"));
            ctx.close_cursor(c).expect("closed");
            TrapAnswer::Resume(vec![])
        },
    );
}
