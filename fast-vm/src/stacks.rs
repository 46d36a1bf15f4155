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
pub struct Swap {
    /// The stack to bind the thread to.
    to: u32,
    /// Whether the stack giving the thread up dies (`KILL_OLD`).
    kill: bool,
    /// What the swappee receives.
    how: Resume,
}

type Co = Coroutine<Resume, Swap, i32, DefaultStack>;

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
}

impl Saved {
    const FRESH: Saved = Saved {
        roots: 0,
        frames: 0,
        osr_target: 0,
        cookie: 0,
        cookie_depth: u64::MAX,
        depth: 1,
    };
    fn of(ctx: &Ctx) -> Saved {
        Saved {
            roots: ctx.roots,
            frames: ctx.frames,
            osr_target: ctx.osr_target,
            cookie: ctx.cookie,
            cookie_depth: ctx.cookie_depth,
            depth: ctx.depth,
        }
    }
    fn restore(&self, ctx: &mut Ctx) {
        ctx.roots = self.roots;
        ctx.frames = self.frames;
        ctx.osr_target = self.osr_target;
        ctx.cookie = self.cookie;
        ctx.cookie_depth = self.cookie_depth;
        ctx.depth = self.depth;
    }
}

/// One Mu stack.
struct Rec {
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

/// The stacks of a run, by number in the order the run made them.
#[derive(Debug, Default)]
pub struct Stacks {
    recs: Vec<Rec>,
    /// The stack the thread is bound to.
    current: u32,
    /// The thread's first stack.
    first: u32,
    /// Bytes of each stack's mapping.
    size: usize,
}

/// The limit the model has too (`stack.new-exhausted`).
const MAX_LIVE: usize = spec_model::machine::MAX_LIVE_STACKS;

thread_local! {
    /// Stacks earlier runs on this thread gave back, with their sizes: mapping
    /// one costs a system call and its page faults each time.
    static SPARE: std::cell::RefCell<Vec<DefaultStack>> = const { std::cell::RefCell::new(Vec::new()) };
}

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
            .filter(|(i, r)| *i as u32 != self.current && r.status == Status::Ready)
            .map(|(_, r)| r.saved.roots)
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
        entry: crate::Entry,
        ctx: *mut Ctx,
        args: Option<*const u64>,
    ) -> Option<u32> {
        if self.live() >= MAX_LIVE {
            return None;
        }
        let n = u32::try_from(self.recs.len()).ok()?;
        let stack = take_stack(self.size)?;
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
            co: Some(Box::new(co)),
            status: Status::Ready,
            saved: Saved::FRESH,
            yielder: std::ptr::null(),
        });
        Some(n)
    }
}

/// Runs a thread whose first stack calls `entry` with `words`: the
/// scheduler loop, on the host stack, until the first stack's bottom function
/// returns or the run stops. Gives the status the thread ended with (`STOP`
/// with `Ctx::stop` set when it stopped, or when a stack other than the first
/// returned from its bottom frame: `stack.bottom-return`).
///
/// # Safety
/// `ctx` must be the run's live context, its heap and globals set up, and
/// `entry` an entry point of its program for a function whose parameters
/// `words` holds.
pub unsafe fn run_first(ctx: &mut Ctx, entry: crate::Entry, words: &[u64]) -> i32 {
    let c: *mut Ctx = ctx;
    // SAFETY: the heap pointer is set by the runner and outlives the run.
    let st = unsafe { &mut (*ctx.heap).stacks };
    if st.size == 0 {
        st.size = stack_bytes(ctx.max_depth);
    }
    let Some(first) = st.make(entry, c, Some(words.as_ptr())) else {
        ctx.stop = StopCode::Stack as u64;
        return STOP;
    };
    st.first = first;
    st.current = first;
    st.recs[first as usize].status = Status::Active;
    Saved::FRESH.restore(ctx);
    let mut how = Resume::Values;
    loop {
        // SAFETY: as above; the table is re-read after every resume, since the
        // stack that ran may have grown it.
        let st = unsafe { &mut (*(*c).heap).stacks };
        let cur = st.current;
        let co: *mut Co = match st.recs[cur as usize].co.as_mut() {
            Some(co) => &mut **co,
            None => return STOP,
        };
        // SAFETY: `co` is boxed, so it stays put while the stack that runs
        // grows the table; nothing else touches this coroutine while it runs
        // (only a READY stack can be killed, and this one is ACTIVE).
        let result = unsafe { (*co).resume(how) };
        // SAFETY: as above.
        let st = unsafe { &mut (*(*c).heap).stacks };
        match result {
            CoroutineResult::Yield(Swap { to, kill, how: h }) => {
                if kill && let Some(mut co) = st.recs[cur as usize].co.take() {
                    // SAFETY: as in `Stacks::finish`.
                    unsafe { co.force_reset() };
                    give_back(*co);
                }
                let next = &mut st.recs[to as usize];
                next.status = Status::Active;
                // SAFETY: `c` is the live context.
                next.saved.restore(unsafe { &mut *c });
                st.current = to;
                how = h;
            }
            CoroutineResult::Return(status) => {
                st.recs[cur as usize].status = Status::Dead;
                if let Some(co) = st.recs[cur as usize].co.take() {
                    give_back(*co);
                }
                if cur == st.first || status == STOP {
                    st.finish();
                    return status;
                }
                // SAFETY: `c` is the live context.
                let ctx = unsafe { &mut *c };
                ctx.stop = StopCode::Ub as u64;
                ctx.detail = RuleId::BottomReturn as u64;
                st.finish();
                return STOP;
            }
        }
    }
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
    st.make(entry, ctx, None).map_or(0, |n| u64::from(n) + 1)
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
    match unsafe { (*y).suspend(Swap { to, kill, how }) } {
        Resume::Values => NORMAL,
        Resume::Exception => EXCEPTION,
    }
}
