//! Threads (spec/12 §12.8–§12.11): `NEWTHREAD`, `@uvm.thread_exit`, the
//! thread-local reference, the futex, and the seeded schedule that interleaves
//! threads one step at a time.
//!
//! The running thread's state is where a one-thread machine keeps it: its
//! bound stack's frames in [`Machine::frames`], its pin multiset, fuel and
//! allocation budget in their fields. The other threads keep theirs here, and
//! a switch exchanges them. Every thread has its own budgets, the run's
//! (`thread.new`), and the run ends when every thread has ended; its outcome
//! is the first thread's.

use super::*;
use stacks::Given;

/// How many threads a run may hold that have not ended (`thread.new-exhausted`).
pub const MAX_THREADS: usize = 64;

/// Where a thread is.
#[derive(Clone, Debug, PartialEq)]
pub enum ThreadState {
    /// It may take the next step.
    Runnable,
    /// In a futex's waiting queue (the location), until woken or, for a
    /// `wait_timeout`, until the virtual clock reaches `deadline`; `slot` is
    /// the wait's result.
    Waiting {
        /// The location it waits on.
        loc: Loc,
        /// When its wait times out, if it does.
        deadline: Option<u64>,
        /// The frame slot of the wait's result.
        slot: Option<u32>,
        /// Queued how many waits after the run started (wakes go in this order).
        order: u64,
    },
    /// Ended.
    Done,
}

/// A thread that is not the running one.
#[derive(Clone, Debug)]
pub struct MuThread {
    /// The stack it is bound to.
    pub stack: u32,
    /// Its first stack.
    pub first_stack: u32,
    /// Its pin multiset.
    pub pins: HashMap<Option<Loc>, u32>,
    /// Its fuel left.
    pub fuel: u64,
    /// Its allocation budget left.
    pub alloc_left: u64,
    /// Its thread-local reference.
    pub local: Value,
    /// Where it is.
    pub state: ThreadState,
    /// How it ended.
    pub outcome: Option<Outcome>,
    /// What its stack receives as it first runs (`NEWTHREAD`'s new-stack clause).
    start: Option<Given>,
}

impl MuThread {
    /// The run's first thread, bound to stack 0.
    pub(super) fn first(budgets: Budgets) -> MuThread {
        MuThread {
            stack: 0,
            first_stack: 0,
            pins: HashMap::new(),
            fuel: budgets.fuel,
            alloc_left: budgets.alloc,
            local: Value::Ref(None),
            state: ThreadState::Runnable,
            outcome: None,
            start: None,
        }
    }
}

/// A small deterministic generator for the schedule (xorshift64*).
fn next_random(s: &mut u64) -> u64 {
    let mut x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

impl<'m> Machine<'m> {
    /// `thread.new`, `thread.new-exhausted`, `thread.get-local`,
    /// `thread.set-local`, `futex.wait`, `futex.wait-mismatch`, `futex.wake`,
    /// `futex.requeue`, `futex.requeue-mismatch`, `futex.negative-count`.
    pub(super) fn thread_op(&mut self, op: &'m Op, r: &[u32]) -> R<Step> {
        match op {
            Op::NewThread {
                stack,
                threadlocal,
                bind,
                exc,
            } => {
                let given = match bind {
                    Bind::Values(ts, vs) => Given::Values(ts.clone(), self.vals(vs)?),
                    Bind::Throw(e) => Given::Exception(self.val(*e)?),
                };
                let local = match threadlocal {
                    Some(t) => self.val(*t)?,
                    None => Value::Ref(None),
                };
                self.new_thread(*stack, given, local, exc, r)
            }
            Op::CommInst(CommInst::GetThreadLocal) => {
                self.set(r, 0, self.threadlocal.clone());
                self.next(&None, RuleId::GetThreadLocal)
            }
            Op::CommInst(CommInst::SetThreadLocal(x)) => {
                self.threadlocal = self.val(*x)?;
                self.next(&None, RuleId::SetThreadLocal)
            }
            Op::CommInst(CommInst::FutexWait {
                ty,
                loc,
                val,
                timeout,
            }) => {
                let Value::IRef(Some(l)) = self.val(*loc)? else {
                    return Self::end(RuleId::NullNavigation, Outcome::Ub(RuleId::NullNavigation));
                };
                let now = match self.read(Target::Loc(l), *ty) {
                    Ok(v) => v,
                    Err(u) => return Self::end(u, Outcome::Ub(u)),
                };
                if let Err(u) = self.ordered(Target::Loc(l), true, false) {
                    return Self::end(u, Outcome::Ub(u));
                }
                if now != self.val(*val)? {
                    self.set(r, 0, Value::Int(u64::from(u32::MAX)));
                    return self.next(&None, RuleId::FutexMismatch);
                }
                let deadline = match timeout {
                    Some(t) => Some(self.clock.saturating_add(self.val(*t)?.bits())),
                    None => None,
                };
                // Woken, the wait gives 0; a timeout writes -3 over it.
                self.set(r, 0, Value::Int(0));
                self.waits += 1;
                self.thread_state = ThreadState::Waiting {
                    loc: l,
                    deadline,
                    slot: r.first().copied(),
                    order: self.waits,
                };
                self.next(&None, RuleId::FutexWait)
            }
            Op::CommInst(CommInst::FutexWake { loc, n, .. }) => {
                let Value::IRef(Some(l)) = self.val(*loc)? else {
                    return Self::end(RuleId::NullNavigation, Outcome::Ub(RuleId::NullNavigation));
                };
                let Some(n) = self.count(*n)? else {
                    return Self::end(RuleId::FutexNegative, Outcome::Ub(RuleId::FutexNegative));
                };
                let woken = self.wake(l, n, None);
                self.set(r, 0, Value::Int(woken));
                self.next(&None, RuleId::FutexWake)
            }
            Op::CommInst(CommInst::FutexRequeue {
                ty,
                src,
                dst,
                expected,
                n,
            }) => {
                let (Value::IRef(Some(s)), Value::IRef(Some(d))) =
                    (self.val(*src)?, self.val(*dst)?)
                else {
                    return Self::end(RuleId::NullNavigation, Outcome::Ub(RuleId::NullNavigation));
                };
                let Some(n) = self.count(*n)? else {
                    return Self::end(RuleId::FutexNegative, Outcome::Ub(RuleId::FutexNegative));
                };
                let now = match self.read(Target::Loc(s), *ty) {
                    Ok(v) => v,
                    Err(u) => return Self::end(u, Outcome::Ub(u)),
                };
                if now != self.val(*expected)? {
                    self.set(r, 0, Value::Int(u64::from(u32::MAX)));
                    return self.next(&None, RuleId::FutexRequeueMismatch);
                }
                let woken = self.wake(s, n, Some(d));
                self.set(r, 0, Value::Int(woken));
                self.next(&None, RuleId::FutexRequeue)
            }
            _ => Err(ModelError::Bug("thread_op of another instruction".into())),
        }
    }

    /// A futex count (`int<32>`): `None` if negative.
    fn count(&self, n: Operand) -> R<Option<u64>> {
        let n = sext(self.val(n)?.bits(), 32);
        Ok(u64::try_from(n).ok())
    }

    /// Wakes up to `n` threads waiting on `l`, first queued first; with
    /// `requeue`, the rest wait on that location from now on. How many woke.
    fn wake(&mut self, l: Loc, n: u64, requeue: Option<Loc>) -> u64 {
        let mut queue: Vec<(u64, usize)> = self
            .mu_threads
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t.state {
                ThreadState::Waiting { loc, order, .. }
                    if loc == l && i != self.thread as usize =>
                {
                    Some((order, i))
                }
                _ => None,
            })
            .collect();
        queue.sort_unstable();
        let mut woken = 0;
        for (_, i) in queue {
            if woken < n {
                self.mu_threads[i].state = ThreadState::Runnable;
                // What the waker did happens before what the woken thread does.
                if let Some(r) = self.races.as_mut() {
                    let c = r.clocks[self.thread as usize].clone();
                    join(&mut r.clocks[i], &c);
                }
                woken += 1;
            } else if let (Some(d), ThreadState::Waiting { loc, .. }) =
                (requeue, &mut self.mu_threads[i].state)
            {
                *loc = d;
            }
        }
        woken
    }

    /// `NEWTHREAD`: a thread bound to `READY` stack `s` (`stack.not-ready`,
    /// `stack.type-mismatch` otherwise), with its own budgets, which receives
    /// `given` when it first runs.
    fn new_thread(
        &mut self,
        s: Operand,
        given: Given,
        local: Value,
        exc: &Option<Exc>,
        r: &[u32],
    ) -> R<Step> {
        let Some(n) = self.ready_stack(s)? else {
            return Self::end(RuleId::StackNotReady, Outcome::Ub(RuleId::StackNotReady));
        };
        if !self.ready_for(n, &given) {
            return Self::end(
                RuleId::StackTypeMismatch,
                Outcome::Ub(RuleId::StackTypeMismatch),
            );
        }
        let live = self
            .mu_threads
            .iter()
            .filter(|t| t.state != ThreadState::Done)
            .count();
        if live >= MAX_THREADS {
            return self.fail(
                exc,
                RuleId::NewThreadExhausted,
                RuleId::NewThreadExhausted,
                Outcome::Exhausted(Budget::Stack),
            );
        }
        self.stacks[n as usize].status = StackStatus::Active;
        let t = u32::try_from(self.mu_threads.len()).unwrap_or(u32::MAX);
        // Fuel is each thread's own; the heap is shared, so the allocation
        // budget is split: half of what this thread has left goes.
        let alloc = self.alloc_left / 2;
        self.alloc_left -= alloc;
        self.mu_threads.push(MuThread {
            stack: n,
            first_stack: n,
            pins: HashMap::new(),
            fuel: self.budgets.fuel,
            alloc_left: alloc,
            local,
            state: ThreadState::Runnable,
            outcome: None,
            start: Some(given),
        });
        let races = self.races.get_or_insert_with(Default::default);
        races.spawn(self.thread as usize, t as usize);
        self.set(r, 0, Value::Thread(Some(t)));
        self.next(exc, RuleId::NewThread)
    }

    /// Saves the running thread's state and makes thread `t` the running one.
    fn switch_thread(&mut self, t: u32) {
        if t == self.thread {
            return;
        }
        let cur = self.thread as usize;
        let frames = std::mem::take(&mut self.frames);
        self.stacks[self.stack as usize].frames = frames;
        let c = &mut self.mu_threads[cur];
        c.stack = self.stack;
        c.first_stack = self.first_stack;
        c.pins = std::mem::take(&mut self.pins);
        c.fuel = self.fuel;
        c.alloc_left = self.alloc_left;
        c.local = std::mem::replace(&mut self.threadlocal, Value::Ref(None));
        c.state = std::mem::replace(&mut self.thread_state, ThreadState::Runnable);
        let n = &mut self.mu_threads[t as usize];
        self.stack = n.stack;
        self.first_stack = n.first_stack;
        self.pins = std::mem::take(&mut n.pins);
        self.fuel = n.fuel;
        self.alloc_left = n.alloc_left;
        self.threadlocal = std::mem::replace(&mut n.local, Value::Ref(None));
        self.thread_state = std::mem::replace(&mut n.state, ThreadState::Runnable);
        self.frames = std::mem::take(&mut self.stacks[self.stack as usize].frames);
        self.thread = t;
    }

    /// The state of thread `i`, the running one's included.
    fn state_of(&self, i: usize) -> &ThreadState {
        if i == self.thread as usize {
            &self.thread_state
        } else {
            &self.mu_threads[i].state
        }
    }

    /// The threads that may step.
    fn runnable(&self) -> Vec<u32> {
        (0..self.mu_threads.len())
            .filter(|&i| *self.state_of(i) == ThreadState::Runnable)
            .map(|i| i as u32)
            .collect()
    }

    /// One step of the run: the schedule picks the thread (a seeded choice
    /// among those that may step, never while C is running a callback), which
    /// takes its step; a thread that ends, or waits, gives way. The outcome
    /// comes when every thread has ended: the first thread's.
    pub fn step_threads(&mut self) -> R<Step> {
        self.pick_thread();
        self.step_picked()
    }

    /// The schedule's choice of the thread that takes the next step (a
    /// seeded choice among those that may, never while C runs a callback).
    pub fn pick_thread(&mut self) {
        let runnable = self.runnable();
        if runnable.len() > 1
            && self.native_calls.is_empty()
            && next_random(&mut self.schedule).is_multiple_of(4)
        {
            let k = (next_random(&mut self.schedule) % runnable.len() as u64) as usize;
            self.switch_thread(runnable[k]);
        }
    }

    /// The step of the thread [`Machine::pick_thread`] chose.
    pub fn step_picked(&mut self) -> R<Step> {
        if self.mu_threads.len() == 1 {
            let step = self.step()?;
            if step.outcome.is_none() && self.thread_state != ThreadState::Runnable {
                return self.give_way(step.rule);
            }
            return Ok(step);
        }
        let step = match self.mu_threads[self.thread as usize].start.take() {
            Some(given) => self.resume(given, RuleId::NewThread)?,
            None => self.step()?,
        };
        let Some(o) = step.outcome.clone() else {
            if self.thread_state != ThreadState::Runnable {
                return self.give_way(step.rule);
            }
            return Ok(step);
        };
        if matches!(o, Outcome::Ub(_)) {
            // Undefined behaviour ends the run.
            return Ok(step);
        }
        self.end_thread(o);
        self.give_way(step.rule)
    }

    /// The running thread has ended with `o`: its stack dies.
    fn end_thread(&mut self, o: Outcome) {
        let frames = std::mem::take(&mut self.frames);
        for fr in &frames {
            for a in &fr.allocas {
                self.mem.kill(*a);
            }
        }
        self.stacks[self.stack as usize].status = StackStatus::Dead;
        self.thread_state = ThreadState::Done;
        self.mu_threads[self.thread as usize].outcome = Some(o);
    }

    /// The running thread cannot go on: another one runs; with none that may,
    /// the virtual clock moves to the first deadline of a timed wait, which
    /// times out (`futex.timeout`), and with none of those every waiting thread
    /// is deadlocked (`thread.deadlock`: `trap deadlock`). When every thread
    /// has ended, the run's outcome is the first thread's.
    fn give_way(&mut self, rule: RuleId) -> R<Step> {
        loop {
            if let Some(&t) = self.runnable().first() {
                self.switch_thread(t);
                return Ok(Step {
                    rule,
                    outcome: None,
                });
            }
            let deadline = (0..self.mu_threads.len())
                .filter_map(|i| match self.state_of(i) {
                    ThreadState::Waiting {
                        deadline: Some(d),
                        order,
                        ..
                    } => Some((*d, *order, i)),
                    _ => None,
                })
                .min();
            if let Some((d, _, i)) = deadline {
                self.clock = self.clock.max(d);
                self.switch_thread(i as u32);
                if let ThreadState::Waiting { slot: Some(s), .. } = self.thread_state {
                    let top = self.frames.len() - 1;
                    self.frames[top].slots[s as usize] = Value::Int(u64::from(u32::MAX - 2));
                }
                self.thread_state = ThreadState::Runnable;
                self.rule_counts[RuleId::FutexTimeout as usize] += 1;
                return Ok(Step {
                    rule,
                    outcome: None,
                });
            }
            let waiting: Vec<usize> = (0..self.mu_threads.len())
                .filter(|&i| matches!(self.state_of(i), ThreadState::Waiting { .. }))
                .collect();
            if waiting.is_empty() {
                // What a later thread of the client goes on from: the first
                // thread's budgets as it ended (whichever ended last).
                if self.thread != 0 {
                    self.fuel = self.mu_threads[0].fuel;
                    self.alloc_left = self.mu_threads[0].alloc_left;
                }
                let first = self.mu_threads[0].outcome.clone();
                return Ok(Step {
                    rule,
                    outcome: Some(first.unwrap_or(Outcome::Return(Vec::new()))),
                });
            }
            for i in waiting {
                self.switch_thread(i as u32);
                self.rule_counts[RuleId::Deadlock as usize] += 1;
                self.end_thread(Outcome::Trap(TrapCode::Deadlock));
            }
        }
    }

    /// How each thread `NEWTHREAD` made ended, in the order they were made.
    pub fn thread_outcomes(&self) -> Vec<Outcome> {
        self.mu_threads
            .iter()
            .skip(1)
            .map(|t| {
                t.outcome
                    .clone()
                    .unwrap_or(Outcome::Trap(TrapCode::Deadlock))
            })
            .collect()
    }
}

/// The happens-before order of a run with more than one thread, as vector
/// clocks (spec/12 §12.11): each thread's clock, the clock each atomic location
/// was last released with, and the last non-atomic accesses of each location.
#[derive(Clone, Debug, Default)]
pub struct Races {
    /// Per thread, its clock: a time for each thread.
    clocks: Vec<Vec<u64>>,
    /// Per location, the clock of the releases to it (atomic stores, the
    /// futex's wakes).
    sync: HashMap<Loc, Vec<u64>>,
    /// Per location, its last non-atomic write: the thread and its time.
    writes: HashMap<Loc, (usize, u64)>,
    /// Per location, the non-atomic reads since: each thread's last.
    reads: HashMap<Loc, Vec<(usize, u64)>>,
}

/// `a` becomes at least `b`, time by time.
fn join(a: &mut Vec<u64>, b: &[u64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x).max(*y);
    }
}

impl Races {
    /// Thread `t` made thread `n` (NEWTHREAD): what `t` did happens before
    /// what `n` does, not what `t` does next.
    fn spawn(&mut self, t: usize, n: usize) {
        while self.clocks.len() <= n.max(t) {
            let k = self.clocks.len();
            let mut c = vec![0; k + 1];
            c[k] = 1;
            self.clocks.push(c);
        }
        let mut child = self.clocks[t].clone();
        if child.len() <= n {
            child.resize(n + 1, 0);
        }
        child[n] = 1;
        self.clocks[n] = child;
        self.tick(t);
    }

    fn tick(&mut self, t: usize) {
        let c = &mut self.clocks[t];
        if c.len() <= t {
            c.resize(t + 1, 0);
        }
        c[t] += 1;
    }

    /// Whether thread `t` knows of thread `u`'s time `c`.
    fn knows(&self, t: usize, u: usize, c: u64) -> bool {
        u == t || self.clocks[t].get(u).copied().unwrap_or(0) >= c
    }

    /// Thread `t`'s time.
    fn now(&self, t: usize) -> u64 {
        self.clocks[t].get(t).copied().unwrap_or(0)
    }
}

impl Machine<'_> {
    /// `thread.data-race`: the access of `target` (atomic or not, a write or
    /// not) by the running thread, in the happens-before order. An atomic
    /// access acquires what the location was released with, and a write
    /// releases to it; a non-atomic one must know of the last write of the
    /// location by another thread (and a write, of the reads since).
    /// Memory the model does not own is not followed.
    pub(super) fn ordered(
        &mut self,
        target: Target,
        atomic: bool,
        write: bool,
    ) -> Result<(), RuleId> {
        let t = self.thread as usize;
        let Some(r) = self.races.as_mut() else {
            return Ok(());
        };
        let key = match target {
            Target::Loc(l) => l,
            Target::Pinned(obj, off) => Loc { obj, off },
            Target::Native(_) => return Ok(()),
        };
        if atomic {
            if let Some(s) = r.sync.get(&key).cloned() {
                join(&mut r.clocks[t], &s);
            }
            if write {
                let c = r.clocks[t].clone();
                join(r.sync.entry(key).or_default(), &c);
                r.tick(t);
            }
            return Ok(());
        }
        if let Some(&(u, c)) = r.writes.get(&key)
            && !r.knows(t, u, c)
        {
            return Err(RuleId::DataRace);
        }
        let now = r.now(t);
        if write {
            if let Some(rs) = r.reads.get(&key)
                && rs.iter().any(|&(u, c)| !r.knows(t, u, c))
            {
                return Err(RuleId::DataRace);
            }
            r.writes.insert(key, (t, now));
            r.reads.remove(&key);
        } else {
            let rs = r.reads.entry(key).or_default();
            rs.retain(|(u, _)| *u != t);
            rs.push((t, now));
        }
        Ok(())
    }
}
