//! The moving collector: unpinned objects really move, pinned ones do not, and
//! programs cannot tell, whatever the references are held in (SSA values across
//! calls and allocations, interior references, heap fields, global cells).

use fast_vm::Program;
use spec_model::machine::Value;
use spec_model::{Budgets, load};

const PROGRAM: &str = r"
.typedef @i1 = int<1>
.typedef @i64 = int<64>
.typedef @void = void
.typedef @ptri64 = uptr<@i64>
.typedef @refi64 = ref<@i64>
.typedef @irefi64 = iref<@i64>
.typedef @Node = struct<@i64 @refNode>
.typedef @refNode = ref<@Node>
.typedef @irefNode = iref<@Node>
.typedef @irefrefNode = iref<@refNode>
.funcsig @moves_sig = () -> (@i1 @i1)
.funcsig @list_sig = (@i64) -> (@i64)
.funcsig @churn_sig = (@i64) -> (@i1 @i1 @i64)
.const @ZERO <@i64> = 0
.const @ONE <@i64> = 1
.const @SEVEN <@i64> = 7
.const @NIL <@refNode> = NULL
.global @head <@refNode>

// A stays pinned, B is unpinned: after collections, A's address is the same and
// B's is not.
.funcdef @moves VERSION %v1 <@moves_sig> {
    %entry():
        %a = NEW <@i64>
        %b = NEW <@i64>
        %pa = COMMINST @uvm.native.pin <@refi64> (%a)
        %pb = COMMINST @uvm.native.pin <@refi64> (%b)
        COMMINST @uvm.native.unpin <@refi64> (%b)
        %junk = NEW <@i64>
        %pa2 = COMMINST @uvm.native.pin <@refi64> (%a)
        %pb2 = COMMINST @uvm.native.pin <@refi64> (%b)
        %same = EQ <@ptri64> %pa %pa2
        %moved = NE <@ptri64> %pb %pb2
        RET (%same %moved)
}

// Pins A (bump-allocated in the nursery), allocates n junk objects so that
// collections happen without GC stress, and checks A stayed put and kept its value
// while B, unpinned, moved.
.funcdef @churn VERSION %v1 <@churn_sig> {
    %entry(<@i64> %n):
        %a = NEW <@i64>
        %b = NEW <@i64>
        %ia = GETIREF <@i64> %a
        STORE <@i64> %ia @SEVEN
        %pa = COMMINST @uvm.native.pin <@refi64> (%a)
        %pb = COMMINST @uvm.native.pin <@refi64> (%b)
        COMMINST @uvm.native.unpin <@refi64> (%b)
        BRANCH %loop(%n %a %b %pa %pb)
    %loop(<@i64> %k <@refi64> %a <@refi64> %b <@ptri64> %pa <@ptri64> %pb):
        %more = SGT <@i64> %k @ZERO
        BRANCH2 %more %junk(%k %a %b %pa %pb) %check(%a %b %pa %pb)
    %junk(<@i64> %k <@refi64> %a <@refi64> %b <@ptri64> %pa <@ptri64> %pb):
        %j = NEW <@Node>
        %k1 = SUB <@i64> %k @ONE
        BRANCH %loop(%k1 %a %b %pa %pb)
    %check(<@refi64> %a <@refi64> %b <@ptri64> %pa <@ptri64> %pb):
        %pa2 = COMMINST @uvm.native.pin <@refi64> (%a)
        %pb2 = COMMINST @uvm.native.pin <@refi64> (%b)
        %same = EQ <@ptri64> %pa %pa2
        %moved = NE <@ptri64> %pb %pb2
        %ia = GETIREF <@i64> %a
        %v = LOAD <@i64> %ia
        RET (%same %moved %v)
}

// Builds a list of n nodes holding 1..n from the global @head, an interior
// reference to the current node's value kept across each allocation, then sums it.
.funcdef @list VERSION %v1 <@list_sig> {
    %entry(<@i64> %n):
        BRANCH %build(%n @ONE)
    %build(<@i64> %n <@i64> %i):
        %more = SLE <@i64> %i %n
        BRANCH2 %more %add(%n %i) %sum0()
    %add(<@i64> %n <@i64> %i):
        %node = NEW <@Node>
        %in = GETIREF <@Node> %node
        %val = GETFIELDIREF <@Node 0> %in
        %junk = NEW <@i64>
        STORE <@i64> %val %i
        %next = GETFIELDIREF <@Node 1> %in
        %old = LOAD <@refNode> @head
        STORE <@refNode> %next %old
        STORE <@refNode> @head %node
        %i1 = ADD <@i64> %i @ONE
        BRANCH %build(%n %i1)
    %sum0():
        %h = LOAD <@refNode> @head
        BRANCH %walk(%h @ZERO)
    %walk(<@refNode> %p <@i64> %s):
        %end = EQ <@refNode> %p @NIL
        BRANCH2 %end %done(%s) %step(%p %s)
    %step(<@refNode> %p <@i64> %s):
        %ip = GETIREF <@Node> %p
        %v = GETFIELDIREF <@Node 0> %ip
        %x = LOAD <@i64> %v
        %s1 = ADD <@i64> %s %x
        %nx = GETFIELDIREF <@Node 1> %ip
        %q = LOAD <@refNode> %nx
        BRANCH %walk(%q %s1)
    %done(<@i64> %s):
        RET %s
}
";

#[test]
fn unpinned_objects_move_and_pinned_ones_stay() {
    let l = load(&[("gc.uir", PROGRAM)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let p = Program::compile(&l.module, true).expect("compiles");
    let f = l.func("@moves").expect("exists");
    let (o, stats) = p.run_with(f, &[], Budgets::default(), true).expect("runs");
    assert_eq!(o.to_string(), "return 1 1");
    assert!(stats.collections >= 1 && stats.moved >= 1, "{stats:?}");
    // The model agrees: it moves an object when its last pin goes.
    assert_eq!(
        l.run("@moves", &[], Budgets::default())
            .expect("runs")
            .to_string(),
        "return 1 1"
    );
}

#[test]
fn collections_keep_every_reference_right() {
    let l = load(&[("gc.uir", PROGRAM)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let p = Program::compile(&l.module, true).expect("compiles");
    let f = l.func("@list").expect("exists");
    for n in [0u64, 1, 10, 300] {
        let want = format!("return {}", n * (n + 1) / 2);
        let (o, stats) = p
            .run_with(f, &[Value::Int(n)], Budgets::default(), true)
            .expect("runs");
        assert_eq!(o.to_string(), want, "n = {n} with GC stress");
        if n > 0 {
            // Every allocation collected; the junk objects were freed, the nodes moved.
            assert!(
                stats.collections >= 2 * n && stats.freed >= n - 1 && stats.moved >= n,
                "{stats:?}"
            );
        }
        let (o, _) = p
            .run_with(f, &[Value::Int(n)], Budgets::default(), false)
            .expect("runs");
        assert_eq!(o.to_string(), want, "n = {n}");
        assert_eq!(
            l.run("@list", &[&n.to_string()], Budgets::default())
                .expect("model runs")
                .to_string(),
            want
        );
    }
}

#[test]
fn nursery_objects_survive_collections_without_stress() {
    let l = load(&[("gc.uir", PROGRAM)]).unwrap_or_else(|e| panic!("{}", e.render()));
    let p = Program::compile(&l.module, true).expect("compiles");
    // 300,000 nodes and as many junk objects: several nursery collections.
    let n = 300_000u64;
    let f = l.func("@list").expect("exists");
    let (o, stats) = p
        .run_with(f, &[Value::Int(n)], Budgets::default(), false)
        .expect("runs");
    assert_eq!(o.to_string(), format!("return {}", n * (n + 1) / 2));
    assert!(
        stats.collections >= 2 && stats.moved >= n && stats.freed >= n / 2,
        "{stats:?}"
    );
    let f = l.func("@churn").expect("exists");
    let (o, stats) = p
        .run_with(f, &[Value::Int(n)], Budgets::default(), false)
        .expect("runs");
    assert_eq!(o.to_string(), "return 1 1 7");
    assert!(stats.collections >= 2, "{stats:?}");
    assert_eq!(
        l.run("@churn", &["1000"], Budgets::default())
            .expect("model runs")
            .to_string(),
        "return 1 1 7"
    );
}
