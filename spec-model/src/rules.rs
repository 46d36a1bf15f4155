//! Rule ids (spec chapters 04–06). Every step of the machine names the rule it
//! applied; `ub` outcomes name the rule that detected the undefined behaviour.

macro_rules! rules {
    ($( $(#[$doc:meta])* $v:ident = $id:literal, )*) => {
        /// A rule of the semantics, by its stable id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId { $( $(#[$doc])* $v, )* }
        impl RuleId {
            /// Every rule, in spec order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$v,)*];
            /// The stable id, e.g. `int.div-zero-trap`.
            pub fn id(self) -> &'static str {
                match self { $(RuleId::$v => $id,)* }
            }
            /// The rule with this id.
            pub fn from_id(s: &str) -> Option<RuleId> {
                match s { $($id => Some(RuleId::$v),)* _ => None }
            }
            /// Does this rule detect undefined behaviour (a `ub` outcome)?
            pub fn is_ub(self) -> bool {
                UB_RULES.contains(&self.id())
            }
        }
    };
}

/// The rules whose outcome is `ub RULE`: only the model promises to detect them,
/// and generated programs must never reach them.
const UB_RULES: [&str; 18] = [
    "mem.null-navigation",
    "mem.out-of-bounds",
    "mem.dead-alloca",
    "mem.type-mismatch",
    "mem.empty-var-part",
    "pin.unmatched-unpin",
    "ptr.out-of-bounds",
    "ptr.ref-field",
    "ptr.use-after-unpin",
    "ptr.unmapped",
    "ccall.bad-callee",
    "ccall.stale-pointer",
    "stack.not-ready",
    "stack.type-mismatch",
    "stack.kill-not-ready",
    "stack.bottom-return",
    "futex.negative-count",
    "thread.data-race",
];

rules! {
    /// ADD SUB MUL AND OR XOR: modulo 2^n.
    IntArith = "int.arith",
    /// SHL LSHR ASHR: the shift amount is taken modulo the next power of two >= n.
    IntShift = "int.shift",
    /// UDIV SDIV UREM SREM with a non-zero divisor; signed overflow truncates.
    IntDiv = "int.div",
    /// Division by zero with an exception clause: continue exceptionally.
    IntDivZeroExc = "int.div-zero-exc",
    /// Division by zero without one: `trap div_by_zero` (muni refines Mu's UB).
    IntDivZeroTrap = "int.div-zero-trap",
    /// FADD FSUB FMUL FDIV FREM: IEEE 754, round to nearest even.
    FloatArith = "float.arith",
    /// EQ NE, signed and unsigned comparisons of ints and pointers.
    CmpInt = "cmp.int",
    /// The sixteen floating-point predicates.
    CmpFloat = "cmp.float",
    /// EQ NE of references (identity), ULT.. of irefs into the same object.
    CmpRef = "cmp.ref",
    /// TRUNC ZEXT SEXT.
    ConvInt = "conv.int",
    /// FPTRUNC FPEXT.
    ConvFloat = "conv.float",
    /// FPTOUI FPTOSI: round toward zero, saturate, NaN gives 0 (muni refinement).
    ConvFpToInt = "conv.fp-to-int",
    /// UITOFP SITOFP: round to nearest even.
    ConvIntToFp = "conv.int-to-fp",
    /// BITCAST between int and floating point of one width.
    ConvBitcast = "conv.bitcast",
    /// REFCAST: the same reference at another type.
    ConvRefcast = "conv.refcast",
    /// PTRCAST: the address as an integer, truncated or zero-extended.
    ConvPtrcast = "conv.ptrcast",
    /// SELECT.
    Select = "select",
    /// EXTRACTVALUE.
    AggExtract = "agg.extract",
    /// INSERTVALUE.
    AggInsert = "agg.insert",
    /// BRANCH.
    Branch = "ctl.branch",
    /// BRANCH2.
    Branch2 = "ctl.branch2",
    /// SWITCH.
    Switch = "ctl.switch",
    /// CALL: push a frame for the callee.
    Call = "call.call",
    /// CALL or TAILCALL of NULL: `trap null_call` (muni refines Mu's UB).
    CallNull = "call.null-callee",
    /// CALL beyond the stack budget with an exception clause: continue exceptionally.
    CallStackExc = "call.stack-exc",
    /// CALL beyond the stack budget without one: `exhausted stack`.
    CallStackExhausted = "call.stack-exhausted",
    /// TAILCALL: replace the frame.
    TailCall = "call.tailcall",
    /// RET to a Mu caller.
    Ret = "call.ret",
    /// RET from the first frame: the run ends with `return`.
    RetTop = "call.ret-top",
    /// THROW caught by a CALL with an exception clause.
    Throw = "exc.throw",
    /// THROW that no frame catches: `trap uncaught_exception`.
    ThrowUncaught = "exc.uncaught",
    /// NEW.
    New = "mem.new",
    /// NEWHYBRID.
    NewHybrid = "mem.new-hybrid",
    /// ALLOCA.
    Alloca = "mem.alloca",
    /// ALLOCAHYBRID.
    AllocaHybrid = "mem.alloca-hybrid",
    /// Allocation beyond the budget with an exception clause: continue exceptionally.
    AllocExc = "mem.alloc-exc",
    /// Allocation beyond the budget without one: `exhausted alloc`.
    AllocExhausted = "mem.alloc-exhausted",
    /// GETIREF.
    GetIRef = "mem.getiref",
    /// GETFIELDIREF.
    GetFieldIRef = "mem.getfieldiref",
    /// GETELEMIREF.
    GetElemIRef = "mem.getelemiref",
    /// SHIFTIREF.
    ShiftIRef = "mem.shiftiref",
    /// GETVARPARTIREF.
    GetVarPartIRef = "mem.getvarpartiref",
    /// LOAD.
    Load = "mem.load",
    /// STORE.
    Store = "mem.store",
    /// CMPXCHG.
    CmpXchg = "mem.cmpxchg",
    /// ATOMICRMW.
    AtomicRmw = "mem.atomicrmw",
    /// FENCE (one thread: no effect).
    Fence = "mem.fence",
    /// A memory access through NULL with an exception clause: continue exceptionally.
    NullAccessExc = "mem.null-exc",
    /// A memory access through NULL without one: `trap null_ref` (refines Mu's UB).
    NullAccessTrap = "mem.null-trap",
    /// UB: addressing (GETIREF, GETFIELDIREF, ...) through a NULL reference.
    NullNavigation = "mem.null-navigation",
    /// UB: an index or offset outside the object.
    OutOfBounds = "mem.out-of-bounds",
    /// UB: an access to an alloca cell whose frame has returned.
    DeadAlloca = "mem.dead-alloca",
    /// UB: an access at a type the location does not have.
    TypeMismatch = "mem.type-mismatch",
    /// UB: GETVARPARTIREF of a hybrid whose variable part is empty.
    EmptyVarPart = "mem.empty-var-part",
    /// TRAP: control goes to the client's trap handler; the thread resumes with
    /// values, throws, ends, or the run stops with `client_trap` (spec/11).
    ClientTrap = "trap.client",
    /// An enabled WATCHPOINT hands control to the client as a TRAP does; resumed
    /// with values, it goes on to its `ena` destination with them as results,
    /// thrown at, to its WPEXC destination or up the stack (spec/11 §11.8).
    Watchpoint = "trap.watchpoint",
    /// A disabled WATCHPOINT branches to its `dis` destination, with no results.
    WatchpointOff = "ctl.watchpoint-off",
    /// WPBRANCH goes to `ena` if its watchpoint is enabled, else to `dis`.
    WpBranch = "ctl.wpbranch",
    /// `@uvm.thread_exit`: the thread ends with `return` and no values, and its
    /// stack dies (spec/12 §12.8).
    ThreadExit = "thread.exit",
    /// The client rebinds the thread passing values: they are the TRAP's results
    /// (a CALL's, in a frame the client popped to; the arguments, in a frame it
    /// pushed), and the thread goes on (spec/11).
    ClientResume = "client.resume",
    /// The client rebinds the thread throwing an exception: it is thrown at the
    /// top frame's current instruction (its exception clause, or up the stack).
    ClientThrow = "client.throw",
    /// The client ends the thread: the run returns no values.
    ClientExit = "client.exit",
    /// A call of a function with no version runs its hidden version: a trap to the
    /// client with the arguments as keep-alive values; rebound with no values,
    /// the function is called again with them, at its newest version.
    UndefinedFunction = "client.undefined-function",
    /// The client loads a bundle while the thread is trapped: calls that start
    /// after it run the versions it defines; live frames keep theirs.
    LoadBundle = "client.load-bundle",
    /// On-stack replacement: the client pops frames down to a cursor's
    /// (`pop_frames_to`) or pushes a frame of a function's newest version
    /// (`push_frame`).
    Osr = "client.osr",
    /// A thread the client made with `new_thread` starts once the threads before
    /// it have ended, on the stack it was bound to (spec/11 §11.7).
    ClientNewThread = "client.new-thread",
    /// The client's handler gets a context as the run starts, before its thread
    /// runs (spec/11 §11.9).
    ClientStart = "client.start",
    /// `@uvm.new_stack`: a new stack whose bottom frame is `READY` for the
    /// function's parameters, numbered after the stacks before it (spec/12 §12.2).
    NewStack = "stack.new",
    /// `@uvm.new_stack` when the run already has as many live stacks as it may:
    /// continue exceptionally with NULL, or `exhausted stack` without a clause.
    NewStackExhausted = "stack.new-exhausted",
    /// `@uvm.current_stack`: the stack the thread is bound to.
    CurrentStack = "stack.current",
    /// `@uvm.kill_stack`: a `READY` stack becomes `DEAD`; its frames are gone.
    KillStack = "stack.kill",
    /// SWAPSTACK RET_WITH<Ts> PASS_VALUES: this stack becomes `READY<Ts>` at the
    /// instruction, and the thread goes on on the swappee with the values.
    Swap = "stack.swap",
    /// SWAPSTACK RET_WITH<Ts> THROW_EXC: as `stack.swap`, the swappee receiving
    /// the exception (its instruction's exception clause, or up its stack).
    SwapThrow = "stack.swap-throw",
    /// SWAPSTACK KILL_OLD: this stack becomes `DEAD`, and the swappee receives
    /// the values or the exception.
    SwapKill = "stack.swap-kill",
    /// UB: binding a thread to a stack that is NULL or not `READY` (the thread's
    /// own, another thread's, or a dead one).
    StackNotReady = "stack.not-ready",
    /// UB: passing values whose types are not the swappee's `READY<Ts>`.
    StackTypeMismatch = "stack.type-mismatch",
    /// UB: `@uvm.kill_stack` of a stack that is NULL or not `READY`.
    KillNotReady = "stack.kill-not-ready",
    /// UB: a RET or an exception out of the bottom frame of a stack that is not
    /// its thread's first stack (on the first, the thread ends: `call.ret-top`,
    /// `exc.uncaught`).
    BottomReturn = "stack.bottom-return",
    /// NEWTHREAD: a new thread, with budgets of its own, bound to a `READY`
    /// stack that receives the values or the exception when it first runs.
    NewThread = "thread.new",
    /// NEWTHREAD when the run holds as many threads as it may: continue
    /// exceptionally with NULL, or `exhausted stack` without a clause.
    NewThreadExhausted = "thread.new-exhausted",
    /// `@uvm.get_threadlocal`: the thread's thread-local reference.
    GetThreadLocal = "thread.get-local",
    /// `@uvm.set_threadlocal`: sets it.
    SetThreadLocal = "thread.set-local",
    /// A thread waits on a futex forever, no thread able to wake it:
    /// `trap deadlock` for it.
    Deadlock = "thread.deadlock",
    /// `@uvm.futex.wait` / `wait_timeout` of a location holding the value: the
    /// thread waits in the location's queue; woken, the result is 0.
    FutexWait = "futex.wait",
    /// A wait of a location that does not hold the value: -1 at once.
    FutexMismatch = "futex.wait-mismatch",
    /// A `wait_timeout` whose deadline the virtual clock reached: -3.
    FutexTimeout = "futex.timeout",
    /// `@uvm.futex.wake`: wakes up to N waiting threads, first queued first;
    /// the result is how many.
    FutexWake = "futex.wake",
    /// `@uvm.futex.cmp_requeue` of a location holding the expected value:
    /// wakes up to N and moves the rest to the other location's queue.
    FutexRequeue = "futex.requeue",
    /// `cmp_requeue` of a location not holding it: -1.
    FutexRequeueMismatch = "futex.requeue-mismatch",
    /// UB: two accesses of one location by two threads, at least one of them a
    /// write and one not atomic, neither happening before the other.
    DataRace = "thread.data-race",
    /// UB: a negative thread count to `wake` or `cmp_requeue`.
    FutexNegative = "futex.negative-count",
    /// A block is entered with less fuel than its length: `exhausted fuel`.
    FuelExhausted = "budget.fuel",
    /// `@uvm.native.pin`: one more instance of the location in the pin multiset; the
    /// result is its address (0 for NULL).
    Pin = "pin.pin",
    /// `@uvm.native.unpin`: one instance fewer; when an object's last pin goes, the
    /// object moves.
    Unpin = "pin.unpin",
    /// UB: an unpin with no matching instance in the multiset.
    UnmatchedUnpin = "pin.unmatched-unpin",
    /// UB: a PTR access into Mu memory outside every pinned object (past the end of
    /// a pinned object, or into one that is not pinned).
    PtrOutOfBounds = "ptr.out-of-bounds",
    /// UB: a PTR access that overlaps a reference field.
    PtrRefField = "ptr.ref-field",
    /// UB: a PTR access through an address an object had before it moved or died.
    PtrUseAfterUnpin = "ptr.use-after-unpin",
    /// UB: a PTR access where no memory is mapped.
    PtrUnmapped = "ptr.unmapped",
    /// `@uvm.native.get_cookie`: 0 when called from Mu, the exposure's cookie when
    /// called from native code.
    GetCookie = "native.get-cookie",
    /// CCALL #DEFAULT: call the C function with the arguments in the SysV convention.
    CCall = "ccall.call",
    /// Every CCALL passes in `%al` the number of vector registers its arguments
    /// use, exactly (libffi's `ffi_call` loads it), so variadic C functions work.
    CCallAl = "ccall.al",
    /// UB: CCALL of NULL or of an address in Mu memory.
    CCallBadCallee = "ccall.bad-callee",
    /// UB: a CCALL argument points into Mu memory that is not pinned now.
    CCallStalePointer = "ccall.stale-pointer",
    /// C calls an exposed function: a frame for it is pushed, marked with the cookie.
    Callback = "native.callback",
    /// RET from a function native code called: the values go back to C.
    CallbackReturn = "native.callback-return",
    /// `@uvm.native.expose`: a new C function pointer that calls the Mu function.
    Expose = "native.expose",
    /// `@uvm.native.unexpose`: the pointer is no longer valid.
    Unexpose = "native.unexpose",
    /// Unexposing a pointer that no dynamic exposure made: `trap unexpose_unknown`.
    UnexposeUnknown = "native.unexpose-unknown",
    /// THROW that would unwind into native frames: `trap exception_into_native`
    /// (Mu leaves it implementation-defined).
    ThrowIntoNative = "exc.into-native",
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
