//! Mu stacks in the fast VM (spec/12-threads-stacks.md): each one a fixed-size
//! mapped region with a guard page below it, never moved (a `uptr` may point
//! into an `ALLOCA` cell, and C frames sit on Mu stacks), switched by
//! corosensei's coroutines.
//!
//! Every Mu stack of a run, the first included, is a coroutine; the thread's
//! scheduler loop ([`run_first`]) runs on the host stack and resumes whichever
//! stack the thread is bound to. SWAPSTACK (`rt_swapstack`) suspends the
//! running stack, telling the loop which stack to resume and how; values
//! travel in the context's return words, an exception in `Ctx::exc`. A stack
//! resumes where it suspended, inside its own `rt_swapstack`, which returns
//! `NORMAL` (values) or `EXCEPTION` to the compiled SWAPSTACK; a stack that has
//! not started calls its bottom function's entry point with the values.
//!
//! Per stack the loop saves and restores what the context holds for the
//! running stack: the shadow-stack chain (the collector walks every suspended
//! stack's too), the client's frame records, the cookie and the depth.
//!
//! A stack is killed, or left behind when the run ends, by forgetting its
//! coroutine ([`Coroutine::force_reset`]): nothing on a suspended stack needs
//! dropping (compiled frames, C frames and `rt_swapstack`'s frame, which holds
//! no value with a destructor across the switch).

use crate::runtime::{Ctx, EXCEPTION, NORMAL, STOP, StopCode};
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use spec_model::rules::RuleId;

/// How a stack resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// With values, in the context's return words.
    Values,
    /// With the exception in `Ctx::exc`.
    Exception,
}

/// What a stack asks of the scheduler loop as it gives the thread up.
#[derive(Clone, Copy, Debug)]
pub enum Swap {
    /// SWAPSTACK: bind the thread to another stack.
    Stack {
        /// The stack to bind the thread to.
        to: u32,
        /// Whether the stack giving the thread up dies (`KILL_OLD`).
        kill: bool,
        /// What the swappee receives.
        how: Resume,
    },
    /// NEWTHREAD: the new thread runs at once; this one waits its turn.
    Spawn(u32),
    /// The thread waits on a futex: another one runs.
    Wait,
}

type Co = Coroutine<Resume, Swap, i32, DefaultStack>;

/// Where a thread is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ThreadState {
    Runnable,
    /// In the waiting queue of a location (an object's serial and an offset, or
    /// 0 and an address outside the heap), until woken or until the virtual
    /// clock reaches `deadline`.
    Waiting {
        key: (u64, u64),
        deadline: Option<u64>,
        order: u64,
    },
    Done,
}

/// A Mu thread: green, on the host's one OS thread.
#[derive(Debug)]
struct Thread {
    /// The stack it is bound to.
    stack: u32,
    /// Its first stack.
    first: u32,
    state: ThreadState,
    /// Its budgets left, while it is not running.
    fuel: u64,
    alloc: u64,
    /// Its thread-local reference (a root).
    local: u64,
    /// What its futex wait gives when it resumes (0 woken, -3 timed out).
    wake: i32,
    /// What its stack receives when it first runs.
    start: Option<Resume>,
}

/// How a thread ended, for the runner to make its outcome of.
#[derive(Clone, Copy, Debug)]
pub struct Ended {
    /// The thread's number.
    pub thread: u32,
    /// The bottom function of its first stack.
    pub func: u32,
    /// The status its entry returned (`STOP`: `Ctx::stop` says why).
    pub status: i32,
}

/// A stack's state (threads-stacks.rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Unbound, resumable.
    Ready,
    /// A thread is bound to it.
    Active,
    /// Killed.
    Dead,
}

/// The context's per-stack words, kept while the stack is not running.
#[derive(Clone, Copy, Debug)]
struct Saved {
    roots: u64,
    frames: u64,
    osr_target: u64,
    cookie: u64,
    cookie_depth: u64,
    depth: u64,
    /// `Ctx::stack_limit` of the stack.
    limit: u64,
}

impl Saved {
    const FRESH: Saved = Saved {
        roots: 0,
        frames: 0,
        osr_target: 0,
        cookie: 0,
        cookie_depth: u64::MAX,
        depth: 1,
        limit: 0,
    };
    fn of(ctx: &Ctx) -> Saved {
        Saved {
            roots: ctx.roots,
            frames: ctx.frames,
            osr_target: ctx.osr_target,
            cookie: ctx.cookie,
            cookie_depth: ctx.cookie_depth,
            depth: ctx.depth,
            limit: ctx.stack_limit,
        }
    }
    fn restore(&self, ctx: &mut Ctx) {
        ctx.roots = self.roots;
        ctx.frames = self.frames;
        ctx.osr_target = self.osr_target;
        ctx.cookie = self.cookie;
        ctx.cookie_depth = self.cookie_depth;
        ctx.depth = self.depth;
        ctx.stack_limit = self.limit;
    }
}

/// One Mu stack.
struct Rec {
    /// Its bottom function.
    func: u32,
    /// Its coroutine, boxed so that it stays put while the table grows (None
    /// once dead).
    co: Option<Box<Co>>,
    status: Status,
    saved: Saved,
    /// The coroutine's yielder, once it has started.
    yielder: *const Yielder<Resume, Swap>,
}

impl std::fmt::Debug for Rec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rec")
            .field("status", &self.status)
            .field("started", &!self.yielder.is_null())
            .finish()
    }
}

/// The stacks and threads of a run, each by number in the order the run
/// made them.
#[derive(Debug, Default)]
pub struct Stacks {
    recs: Vec<Rec>,
    /// The stack the running thread is bound to.
    current: u32,
    /// Bytes of each stack's mapping.
    size: usize,
    threads: Vec<Thread>,
    /// The running thread.
    thread: u32,
    /// The fuel each thread starts with.
    fuel: u64,
    /// The virtual clock of timed waits (spec/12 §12.9).
    clock: u64,
    /// Futex waits so far (their queue order).
    waits: u64,
}

/// The limit the model has too (`stack.new-exhausted`).
const MAX_LIVE: usize = spec_model::machine::MAX_LIVE_STACKS;

thread_local! {
    /// Stacks earlier runs on this thread gave back, with their sizes: mapping
    /// one costs a system call and its page faults each time.
    static SPARE: std::cell::RefCell<Vec<DefaultStack>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Room a stack keeps above its guard page for the runtime and the C code
/// CCALLs run (a call that would go lower ends as `exhausted stack`).
const HEADROOM: u64 = 256 << 10;

/// Stacks a thread keeps for later runs.
const SPARE_STACKS: usize = 8;

/// The mapping a stack gets for a stack budget of `frames`: room for the
/// frames at a kilobyte each, with a mebibyte more for the runtime and the C
/// code CCALLs run on it (the guard page lies below).
pub fn stack_bytes(frames: u64) -> usize {
    let b = (1u64 << 20).saturating_add(frames.saturating_mul(1 << 10));
    usize::try_from(b.min(1 << 30)).unwrap_or(1 << 30)
}

fn take_stack(size: usize) -> Option<DefaultStack> {
    use corosensei::stack::Stack;
    let spare = SPARE.with_borrow_mut(|s| {
        let i = s.iter().position(|st| {
            st.base().get() - st.limit().get() >= size
                && st.base().get() - st.limit().get() < size + (1 << 20)
        })?;
        Some(s.swap_remove(i))
    });
    spare.or_else(|| DefaultStack::new(size).ok())
}

fn give_back(co: Co) {
    let st = co.into_stack();
    SPARE.with_borrow_mut(|s| {
        if s.len() < SPARE_STACKS {
            s.push(st);
        }
    });
}

impl Stacks {
    /// Stops every stack still suspended: the run is over. Their coroutines
    /// are forgotten, and their mappings kept for later runs.
    pub fn finish(&mut self) {
        for r in &mut self.recs {
            if let Some(mut co) = r.co.take() {
                // SAFETY: nothing on a suspended Mu stack needs dropping (the
                // module comment): compiled frames, C frames, and the frame of
                // `rt_swapstack`, which holds only plain values across the switch.
                unsafe { co.force_reset() };
                give_back(*co);
            }
            r.status = Status::Dead;
        }
    }

    /// The shadow-stack chains of the stacks not running: roots for the
    /// collector.
    pub fn suspended_roots(&self) -> impl Iterator<Item = u64> + '_ {
        self.recs
            .iter()
            .enumerate()
            .filter(|(i, r)| *i as u32 != self.current && r.status != Status::Dead)
            .map(|(_, r)| r.saved.roots)
    }

    /// The threads' thread-local references: roots for the collector.
    pub fn locals(&mut self) -> impl Iterator<Item = *mut u64> + '_ {
        self.threads.iter_mut().map(|t| &mut t.local as *mut u64)
    }

    /// The next thread after the running one that may run.
    fn next_runnable(&self) -> Option<u32> {
        let n = self.threads.len();
        (1..=n)
            .map(|k| (self.thread as usize + k) % n)
            .find(|&i| self.threads[i].state == ThreadState::Runnable)
            .map(|i| i as u32)
    }

    /// Saves the running thread's budgets, and makes `t` the running thread,
    /// its bound stack's words in the context.
    fn switch_thread(&mut self, ctx: &mut Ctx, t: u32) {
        let cur = &mut self.threads[self.thread as usize];
        cur.stack = self.current;
        cur.fuel = ctx.fuel;
        cur.alloc = ctx.alloc_left;
        self.thread = t;
        let next = &self.threads[t as usize];
        self.current = next.stack;
        ctx.fuel = next.fuel;
        ctx.alloc_left = next.alloc;
        self.recs[next.stack as usize].saved.restore(ctx);
    }

    fn live(&self) -> usize {
        self.recs
            .iter()
            .filter(|r| r.status != Status::Dead)
            .count()
    }

    /// A new stack whose bottom frame calls `entry` with the values it is
    /// first given: its number, or `None` if the run holds as many as it may.
    /// `args`: where the bottom frame reads its arguments (else the return words).
    fn make(
        &mut self,
        func: u32,
        entry: crate::Entry,
        ctx: *mut Ctx,
        args: Option<*const u64>,
    ) -> Option<u32> {
        if self.live() >= MAX_LIVE {
            return None;
        }
        let n = u32::try_from(self.recs.len()).ok()?;
        let stack = take_stack(self.size)?;
        let limit = {
            use corosensei::stack::Stack;
            stack.limit().get() as u64 + HEADROOM
        };
        let co = Co::with_stack(stack, move |y: &Yielder<Resume, Swap>, how: Resume| {
            // SAFETY: the context outlives every stack of its run (the loop
            // finishes them before it returns), and this stack runs alone.
            let c = unsafe { &mut *ctx };
            // SAFETY: the heap lives as long as the context.
            let st = unsafe { &mut (*c.heap).stacks };
            st.recs[n as usize].yielder = y;
            match how {
                // The bottom frame has not started: it re-throws.
                Resume::Exception => EXCEPTION,
                // SAFETY: `entry` is the entry point of the stack's bottom
                // function, whose parameters the swapper passed in the return
                // words (`stack.type-mismatch` is undefined otherwise); it reads
                // them all before it calls the function.
                Resume::Values => unsafe { entry(ctx, args.unwrap_or(c.ret.as_ptr())) },
            }
        });
        self.recs.push(Rec {
            func,
            co: Some(Box::new(co)),
            status: Status::Ready,
            saved: Saved {
                limit,
                ..Saved::FRESH
            },
            yielder: std::ptr::null(),
        });
        Some(n)
    }
}

/// Runs a thread whose first stack calls `entry` (of function `func`) with
/// `words`, and every thread it makes: the scheduler loop, on the host stack.
/// Threads are green (spec/12 §12.10): one runs at a time, until it swaps
/// stacks (the loop binds it to the swappee), makes a thread (which runs at
/// once), waits on a futex or ends; then the next one that may run, in
/// number order from it. With none, the first deadline of a timed wait passes
/// on the virtual clock, and with none of those the waiting threads are
/// deadlocked. `on_end` makes each thread's outcome as it ends (before
/// another runs), and answers whether the run stops there; undefined
/// behaviour stops it too.
///
/// # Safety
/// `ctx` must be the run's live context, its heap and globals set up, and
/// `entry` an entry point of its program for a function whose parameters
/// `words` holds.
pub unsafe fn run_first(
    ctx: &mut Ctx,
    func: u32,
    entry: crate::Entry,
    words: &[u64],
    on_end: &mut dyn FnMut(&mut Ctx, Ended) -> bool,
) {
    let c: *mut Ctx = ctx;
    // SAFETY: the heap pointer is set by the runner and outlives the run.
    let st = unsafe { &mut (*ctx.heap).stacks };
    if st.size == 0 {
        // The run's first thread: the fuel every thread it or a client
        // thread makes starts with (a client thread goes on from the budgets
        // the threads before it left, spec/11 §11.7).
        st.size = stack_bytes(ctx.max_depth);
        st.fuel = ctx.fuel;
    }
    let Some(first) = st.make(func, entry, c, Some(words.as_ptr())) else {
        ctx.stop = StopCode::Stack as u64;
        on_end(
            ctx,
            Ended {
                thread: 0,
                func,
                status: STOP,
            },
        );
        return;
    };
    st.clock = 0;
    st.waits = 0;
    st.threads = vec![Thread {
        stack: first,
        first,
        state: ThreadState::Runnable,
        fuel: ctx.fuel,
        alloc: ctx.alloc_left,
        local: 0,
        wake: 0,
        start: None,
    }];
    st.thread = 0;
    st.current = first;
    st.recs[first as usize].status = Status::Active;
    st.recs[first as usize].saved.restore(ctx);
    let mut how = Resume::Values;
    loop {
        // SAFETY: as above; the table is re-read after every resume, since the
        // stack that ran may have grown it.
        let st = unsafe { &mut (*(*c).heap).stacks };
        let cur = st.current;
        let co: *mut Co = match st.recs[cur as usize].co.as_mut() {
            Some(co) => &mut **co,
            None => return,
        };
        // SAFETY: `co` is boxed, so it stays put while the stack that runs
        // grows the table; nothing else touches this coroutine while it runs
        // (only a READY stack can be killed, and this one is ACTIVE).
        let result = unsafe { (*co).resume(how) };
        // SAFETY: as above.
        let st = unsafe { &mut (*(*c).heap).stacks };
        // SAFETY: `c` is the live context.
        let ctx = unsafe { &mut *c };
        match result {
            CoroutineResult::Yield(Swap::Stack { to, kill, how: h }) => {
                if kill && let Some(mut co) = st.recs[cur as usize].co.take() {
                    // SAFETY: as in `Stacks::finish`.
                    unsafe { co.force_reset() };
                    give_back(*co);
                }
                let next = &mut st.recs[to as usize];
                next.status = Status::Active;
                next.saved.restore(ctx);
                st.current = to;
                how = h;
            }
            CoroutineResult::Yield(Swap::Spawn(t)) => {
                st.switch_thread(ctx, t);
                how = st.threads[t as usize]
                    .start
                    .take()
                    .unwrap_or(Resume::Values);
            }
            CoroutineResult::Yield(Swap::Wait) => match next_thread(st, ctx, on_end) {
                Some(h) => how = h,
                None => return,
            },
            CoroutineResult::Return(mut status) => {
                st.recs[cur as usize].status = Status::Dead;
                if let Some(co) = st.recs[cur as usize].co.take() {
                    give_back(*co);
                }
                let t = st.thread;
                if cur != st.threads[t as usize].first && status != STOP {
                    // Out of the bottom frame of a stack the thread swapped to.
                    ctx.stop = StopCode::Ub as u64;
                    ctx.detail = RuleId::BottomReturn as u64;
                    status = STOP;
                }
                let ub = status == STOP && ctx.stop == StopCode::Ub as u64;
                st.threads[t as usize].state = ThreadState::Done;
                let func = st.recs[cur as usize].func;
                let stop = on_end(
                    ctx,
                    Ended {
                        thread: t,
                        func,
                        status,
                    },
                );
                // SAFETY: as above (`on_end` may have looked at the heap).
                let st = unsafe { &mut (*(*c).heap).stacks };
                if ub || stop {
                    st.finish();
                    return;
                }
                ctx.stop = 0;
                ctx.detail = 0;
                match next_thread(st, ctx, on_end) {
                    Some(h) => how = h,
                    None => return,
                }
            }
        }
    }
}

/// The running thread cannot go on: the next one that may runs; with none,
/// the earliest timed wait times out (the clock moves to its deadline); with
/// none of those, every waiting thread ends with `trap deadlock`, and `None`
/// says the run is over. Gives how the next one resumes.
fn next_thread(
    st: &mut Stacks,
    ctx: &mut Ctx,
    on_end: &mut dyn FnMut(&mut Ctx, Ended) -> bool,
) -> Option<Resume> {
    if let Some(t) = st.next_runnable() {
        st.switch_thread(ctx, t);
        return Some(
            st.threads[t as usize]
                .start
                .take()
                .unwrap_or(Resume::Values),
        );
    }
    let timed = st
        .threads
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match t.state {
            ThreadState::Waiting {
                deadline: Some(d),
                order,
                ..
            } => Some((d, order, i)),
            _ => None,
        })
        .min();
    if let Some((d, _, i)) = timed {
        st.clock = st.clock.max(d);
        st.threads[i].state = ThreadState::Runnable;
        st.threads[i].wake = -3;
        st.switch_thread(ctx, i as u32);
        return Some(Resume::Values);
    }
    let waiting: Vec<usize> = (0..st.threads.len())
        .filter(|&i| matches!(st.threads[i].state, ThreadState::Waiting { .. }))
        .collect();
    for i in waiting {
        st.threads[i].state = ThreadState::Done;
        let func = st.recs[st.threads[i].first as usize].func;
        ctx.stop = StopCode::Deadlock as u64;
        let e = Ended {
            thread: i as u32,
            func,
            status: STOP,
        };
        if on_end(ctx, e) {
            break;
        }
    }
    // What a later thread of the client goes on from: the first thread's
    // budgets as it ended (whichever ended last).
    if st.thread != 0 {
        ctx.fuel = st.threads[0].fuel;
        ctx.alloc_left = st.threads[0].alloc;
    }
    st.finish();
    None
}

/// `rt_new_stack(ctx, func) -> stackref`: a new stack for the function whose
/// funcref is `func` (`stack.new`); 0 when the run holds as many stacks as it
/// may (`stack.new-exhausted`: the caller continues exceptionally or stops).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub unsafe extern "C" fn rt_new_stack(ctx: *mut Ctx, func: u64) -> u64 {
    // SAFETY: as the caller promises.
    let c = unsafe { &mut *ctx };
    // SAFETY: the program pointer is set by the runner and outlives the run.
    let program = unsafe { &*c.program.cast::<crate::Program<'_>>() };
    let Some(entry) = program
        .func_of_code(func)
        .and_then(|f| program.entry_of(u32::try_from(f).ok()?))
    else {
        return 0;
    };
    // SAFETY: the heap lives as long as the context.
    let st = unsafe { &mut (*c.heap).stacks };
    let f = u32::try_from(program.func_of_code(func).unwrap_or(0)).unwrap_or(0);
    st.make(f, entry, ctx, None).map_or(0, |n| u64::from(n) + 1)
}

/// `rt_current_stack(ctx) -> stackref` (`stack.current`).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub unsafe extern "C" fn rt_current_stack(ctx: *mut Ctx) -> u64 {
    // SAFETY: as the caller promises; the heap lives as long as the context.
    let st = unsafe { &(*(*ctx).heap).stacks };
    u64::from(st.current) + 1
}

/// Stops the run with `ub RULE`: returns `STOP`.
fn ub(ctx: &mut Ctx, rule: RuleId) -> i32 {
    ctx.stop = StopCode::Ub as u64;
    ctx.detail = rule as u64;
    STOP
}

/// The number of the `READY` stack `s` (a stackref: number + 1, 0 NULL).
fn ready(st: &Stacks, s: u64) -> Option<u32> {
    let n = u32::try_from(s.checked_sub(1)?).ok()?;
    (st.recs.get(n as usize)?.status == Status::Ready).then_some(n)
}

/// `rt_kill_stack(ctx, s) -> status` (`stack.kill`; `stack.kill-not-ready`
/// stops the run).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub unsafe extern "C" fn rt_kill_stack(ctx: *mut Ctx, s: u64) -> i32 {
    // SAFETY: as the caller promises.
    let c = unsafe { &mut *ctx };
    // SAFETY: the heap lives as long as the context.
    let st = unsafe { &mut (*c.heap).stacks };
    let Some(n) = ready(st, s) else {
        return ub(c, RuleId::KillNotReady);
    };
    let r = &mut st.recs[n as usize];
    r.status = Status::Dead;
    if let Some(mut co) = r.co.take() {
        // SAFETY: as in `Stacks::finish`.
        unsafe { co.force_reset() };
        give_back(*co);
    }
    NORMAL
}

/// `SWAPSTACK` kills the stack it leaves (`KILL_OLD`).
pub const SWAP_KILL: u64 = 1;
/// `SWAPSTACK` throws the exception in `Ctx::exc` to the swappee (`THROW_EXC`).
pub const SWAP_THROW: u64 = 2;

/// `rt_swapstack(ctx, swappee, mode) -> status`: SWAPSTACK (`stack.swap`,
/// `stack.swap-throw`, `stack.swap-kill`). The values to pass are in the
/// return words (the exception in `Ctx::exc` with [`SWAP_THROW`]). Returns
/// when a later binding resumes this stack: `NORMAL` with its values in the
/// return words, `EXCEPTION`, or `STOP` (`stack.not-ready`; the types are not
/// checked: a mismatch, `stack.type-mismatch`, is undefined).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`], and compiled code must have
/// stored every reference it still needs in its shadow-stack frame.
pub unsafe extern "C" fn rt_swapstack(ctx: *mut Ctx, swappee: u64, mode: u64) -> i32 {
    // SAFETY: as the caller promises.
    let c = unsafe { &mut *ctx };
    // SAFETY: the heap lives as long as the context.
    let st = unsafe { &mut (*c.heap).stacks };
    let Some(to) = ready(st, swappee) else {
        return ub(c, RuleId::StackNotReady);
    };
    let cur = st.current as usize;
    let kill = mode & SWAP_KILL != 0;
    st.recs[cur].saved = Saved::of(c);
    st.recs[cur].status = if kill { Status::Dead } else { Status::Ready };
    let y = st.recs[cur].yielder;
    let how = if mode & SWAP_THROW != 0 {
        Resume::Exception
    } else {
        Resume::Values
    };
    // SAFETY: `y` is the yielder of the coroutine running now (set as it
    // started), valid while it lives; the loop resumes this stack, or forgets
    // it, and nothing here needs dropping if it does.
    match unsafe { (*y).suspend(Swap::Stack { to, kill, how }) } {
        Resume::Values => NORMAL,
        Resume::Exception => EXCEPTION,
    }
}

/// How many threads a run may hold that have not ended (as the model).
const MAX_THREADS: usize = spec_model::machine::MAX_THREADS;

/// Suspends the running stack with `why`, its words saved: returns when the
/// loop resumes it.
///
/// # Safety
/// As for `rt_swapstack`.
unsafe fn give_up(ctx: &mut Ctx, why: Swap) -> Resume {
    // SAFETY: the heap lives as long as the context.
    let st = unsafe { &mut (*ctx.heap).stacks };
    let cur = st.current as usize;
    st.recs[cur].saved = Saved::of(ctx);
    let y = st.recs[cur].yielder;
    // SAFETY: as in `rt_swapstack`.
    unsafe { (*y).suspend(why) }
}

/// `rt_new_thread(ctx, stack, mode, local) -> status`: NEWTHREAD (`thread.new`):
/// a thread bound to `READY` stack `stack`, which runs at once, receiving the
/// values in the return words (the exception in `Ctx::exc` with
/// [`SWAP_THROW`]); this thread goes on when its turn comes, with the
/// threadref in the first return word (0: `thread.new-exhausted`). `STOP`:
/// `stack.not-ready`.
///
/// # Safety
/// As for `rt_swapstack`.
pub unsafe extern "C" fn rt_new_thread(ctx: *mut Ctx, stack: u64, mode: u64, local: u64) -> i32 {
    // SAFETY: as the caller promises.
    let c = unsafe { &mut *ctx };
    // SAFETY: the heap lives as long as the context.
    let st = unsafe { &mut (*c.heap).stacks };
    let Some(n) = ready(st, stack) else {
        return ub(c, RuleId::StackNotReady);
    };
    let live = st
        .threads
        .iter()
        .filter(|t| t.state != ThreadState::Done)
        .count();
    if live >= MAX_THREADS {
        c.ret[0] = 0;
        return NORMAL;
    }
    st.recs[n as usize].status = Status::Active;
    let t = u32::try_from(st.threads.len()).unwrap_or(u32::MAX);
    // Fuel is each thread's own; the allocation budget is split (spec/12 §12.8).
    let alloc = c.alloc_left / 2;
    c.alloc_left -= alloc;
    st.threads.push(Thread {
        stack: n,
        first: n,
        state: ThreadState::Runnable,
        fuel: st.fuel,
        alloc,
        local,
        wake: 0,
        start: Some(if mode & SWAP_THROW != 0 {
            Resume::Exception
        } else {
            Resume::Values
        }),
    });
    // SAFETY: as the caller promises.
    unsafe { give_up(c, Swap::Spawn(t)) };
    c.ret[0] = u64::from(t) + 1;
    NORMAL
}

/// `rt_get_threadlocal(ctx) -> ref` (`thread.get-local`).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub unsafe extern "C" fn rt_get_threadlocal(ctx: *mut Ctx) -> u64 {
    // SAFETY: as the caller promises; the heap lives as long as the context.
    let st = unsafe { &(*(*ctx).heap).stacks };
    st.threads.get(st.thread as usize).map_or(0, |t| t.local)
}

/// `rt_set_threadlocal(ctx, ref)` (`thread.set-local`).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub unsafe extern "C" fn rt_set_threadlocal(ctx: *mut Ctx, r: u64) -> u64 {
    // SAFETY: as the caller promises; the heap lives as long as the context.
    let st = unsafe { &mut (*(*ctx).heap).stacks };
    let t = st.thread as usize;
    if let Some(th) = st.threads.get_mut(t) {
        th.local = r;
    }
    0
}

/// The futex key of location `addr`: the object's serial and the offset in
/// it, which a move does not change, or 0 and the address outside the heap.
fn key(ctx: &Ctx, addr: u64) -> (u64, u64) {
    // SAFETY: the heap lives as long as the context.
    let heap = unsafe { &*ctx.heap };
    match heap.find(addr) {
        Some(o) => (o.serial, addr - o.base),
        None => (0, addr),
    }
}

/// The mask of an `int<bits>` (the model's).
fn mask(bits: u64) -> u64 {
    spec_model::machine::value::mask(u32::try_from(bits).unwrap_or(64))
}

/// The `int<bits>` at `addr`, zero-extended.
///
/// # Safety
/// `addr` must be a live location of that type.
unsafe fn read_int(addr: u64, bits: u64) -> u64 {
    // SAFETY: as the caller promises; Mu locations are aligned to their size.
    let v = unsafe {
        match bits {
            0..=8 => u64::from((addr as *const u8).read()),
            9..=16 => u64::from((addr as *const u16).read()),
            17..=32 => u64::from((addr as *const u32).read()),
            _ => (addr as *const u64).read(),
        }
    };
    v & mask(bits)
}

/// `rt_futex_wait(ctx, loc, val, bits, timeout) -> int<32>` (`futex.wait`,
/// `futex.wait-mismatch`, `futex.timeout`; `timeout` `u64::MAX` for `wait`).
///
/// # Safety
/// As for `rt_swapstack`; `loc` is a live location of `int<bits>`.
pub unsafe extern "C" fn rt_futex_wait(
    ctx: *mut Ctx,
    loc: u64,
    val: u64,
    bits: u64,
    timeout: u64,
) -> i32 {
    // SAFETY: as the caller promises.
    let c = unsafe { &mut *ctx };
    // SAFETY: as the caller promises.
    if unsafe { read_int(loc, bits) } != val & mask(bits) {
        return -1;
    }
    let k = key(c, loc);
    // SAFETY: the heap lives as long as the context.
    let st = unsafe { &mut (*c.heap).stacks };
    st.waits += 1;
    let deadline = (timeout != u64::MAX).then(|| st.clock.saturating_add(timeout));
    let t = st.thread as usize;
    st.threads[t].state = ThreadState::Waiting {
        key: k,
        deadline,
        order: st.waits,
    };
    st.threads[t].wake = 0;
    // SAFETY: as the caller promises.
    unsafe { give_up(c, Swap::Wait) };
    // SAFETY: the heap lives as long as the context.
    let st = unsafe { &(*c.heap).stacks };
    st.threads[st.thread as usize].wake
}

/// Wakes up to `n` threads waiting on `k`, first queued first, moving the
/// rest to `requeue`'s queue if given: how many woke.
fn wake(st: &mut Stacks, k: (u64, u64), n: u64, requeue: Option<(u64, u64)>) -> i32 {
    let mut queue: Vec<(u64, usize)> = st
        .threads
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match t.state {
            ThreadState::Waiting { key, order, .. } if key == k => Some((order, i)),
            _ => None,
        })
        .collect();
    queue.sort_unstable();
    let mut woken: u64 = 0;
    for (_, i) in queue {
        if woken < n {
            st.threads[i].state = ThreadState::Runnable;
            woken += 1;
        } else if let (Some(d), ThreadState::Waiting { key, .. }) =
            (requeue, &mut st.threads[i].state)
        {
            *key = d;
        }
    }
    i32::try_from(woken).unwrap_or(i32::MAX)
}

/// A futex count, an `int<32>` (negative: undefined, and none here).
fn count(n: u64) -> u64 {
    u64::try_from(n as u32 as i32).unwrap_or(0)
}

/// `rt_futex_wake(ctx, loc, n) -> int<32>` (`futex.wake`).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub unsafe extern "C" fn rt_futex_wake(ctx: *mut Ctx, loc: u64, n: u64) -> i32 {
    // SAFETY: as the caller promises.
    let c = unsafe { &mut *ctx };
    let k = key(c, loc);
    // SAFETY: the heap lives as long as the context.
    wake(unsafe { &mut (*c.heap).stacks }, k, count(n), None)
}

/// `rt_futex_requeue(ctx, src, dst, expected, bits, n) -> int<32>`
/// (`futex.requeue`, `futex.requeue-mismatch`).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`]; `src` is a live location of
/// `int<bits>`.
pub unsafe extern "C" fn rt_futex_requeue(
    ctx: *mut Ctx,
    src: u64,
    dst: u64,
    expected: u64,
    bits: u64,
    n: u64,
) -> i32 {
    // SAFETY: as the caller promises.
    let c = unsafe { &mut *ctx };
    // SAFETY: as the caller promises.
    if unsafe { read_int(src, bits) } != expected & mask(bits) {
        return -1;
    }
    let (ks, kd) = (key(c, src), key(c, dst));
    // SAFETY: the heap lives as long as the context.
    wake(unsafe { &mut (*c.heap).stacks }, ks, count(n), Some(kd))
}

/// The runtime functions of this module, by the names compiled code imports.
pub fn symbols() -> [(&'static str, *const u8); 10] {
    [
        ("muni_rt_new_stack", rt_new_stack as *const u8),
        ("muni_rt_current_stack", rt_current_stack as *const u8),
        ("muni_rt_kill_stack", rt_kill_stack as *const u8),
        ("muni_rt_swapstack", rt_swapstack as *const u8),
        ("muni_rt_new_thread", rt_new_thread as *const u8),
        ("muni_rt_get_threadlocal", rt_get_threadlocal as *const u8),
        ("muni_rt_set_threadlocal", rt_set_threadlocal as *const u8),
        ("muni_rt_futex_wait", rt_futex_wait as *const u8),
        ("muni_rt_futex_wake", rt_futex_wake as *const u8),
        ("muni_rt_futex_requeue", rt_futex_requeue as *const u8),
    ]
}
