//! Stacks as values (spec/12-threads-stacks.md): `@uvm.new_stack`,
//! `@uvm.current_stack`, `@uvm.kill_stack` and SWAPSTACK, with the states of
//! threads-stacks.rest ("States of Stacks and Frames").
//!
//! Every stack of a run has a number, in the order the run made them (0 is the
//! stack the run started on), and a state: `READY<Ts>`, `ACTIVE` or `DEAD`. The
//! stack the thread is bound to keeps its frames in [`Machine::frames`]; the
//! others keep theirs here. A `READY` stack's top frame is where it resumes:
//! either a frame that has not started (the bottom frame of a new stack, whose
//! `Ts` are its function's parameters) or a frame paused at a SWAPSTACK
//! `RET_WITH<Ts>`.

use super::*;

/// How many stacks a run may hold that are not `DEAD` (`stack.new-exhausted`).
pub const MAX_LIVE_STACKS: usize = 1000;

/// The state of a stack (threads-stacks.rest): that of its top frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackStatus {
    /// Unbound; it resumes when given values of these types (or an exception).
    Ready(Vec<TypeId>),
    /// A thread is bound to it.
    Active,
    /// Killed: it has no frames and can never be bound again.
    Dead,
}

/// A Mu stack of the run.
#[derive(Clone, Debug)]
pub struct MuStack<'m> {
    /// Its frames, bottom first (empty while it is the bound one: they are in
    /// [`Machine::frames`] then).
    pub frames: Vec<Frame<'m>>,
    /// Its state.
    pub status: StackStatus,
}

/// What a binding gives the stack it binds (the new-stack clause).
#[derive(Clone, Debug)]
pub(super) enum Given {
    Values(Vec<TypeId>, Vec<Value>),
    Exception(Value),
}

impl<'m> Machine<'m> {
    /// `stack.new`, `stack.new-exhausted`, `stack.current`, `stack.kill`,
    /// `stack.kill-not-ready`, `stack.swap`, `stack.swap-throw`,
    /// `stack.swap-kill`, `stack.not-ready`, `stack.type-mismatch`.
    pub(super) fn stack_op(&mut self, op: &'m Op, r: &[u32]) -> R<Step> {
        match op {
            Op::NewStack { func, exc, .. } => self.new_stack(*func, exc, r),
            Op::CommInst(CommInst::CurrentStack) => {
                self.set(r, 0, Value::Stack(Some(self.stack)));
                self.next(&None, RuleId::CurrentStack)
            }
            Op::CommInst(CommInst::KillStack(s)) => {
                let Some(n) = self.ready_stack(*s)? else {
                    return Self::end(RuleId::KillNotReady, Outcome::Ub(RuleId::KillNotReady));
                };
                self.kill(n);
                self.next(&None, RuleId::KillStack)
            }
            Op::SwapStack {
                swappee,
                ret_with,
                bind,
                ..
            } => {
                let given = match bind {
                    Bind::Values(ts, vs) => Given::Values(ts.clone(), self.vals(vs)?),
                    Bind::Throw(e) => Given::Exception(self.val(*e)?),
                };
                self.swap(*swappee, ret_with.as_deref(), given)
            }
            _ => Err(ModelError::Bug("stack_op of another instruction".into())),
        }
    }

    /// A new stack for the function `func` refers to, its bottom frame not started.
    fn new_stack(&mut self, func: Operand, exc: &Option<Exc>, r: &[u32]) -> R<Step> {
        let Value::FuncRef(Some(f)) = self.val(func)? else {
            return Self::end(RuleId::CallNull, Outcome::Trap(TrapCode::NullCall));
        };
        let live = self
            .stacks
            .iter()
            .filter(|s| s.status != StackStatus::Dead)
            .count();
        if live >= MAX_LIVE_STACKS {
            return self.fail(
                exc,
                RuleId::NewStackExhausted,
                RuleId::NewStackExhausted,
                Outcome::Exhausted(Budget::Stack),
            );
        }
        let m = self.module;
        let function = &m.funcs[f as usize];
        let Some(body) = &function.body else {
            return Err(not_runnable(function));
        };
        let params = m.types.sig(function.sig).params.clone();
        let n = u32::try_from(self.stacks.len()).unwrap_or(u32::MAX);
        self.stacks.push(MuStack {
            frames: vec![Frame::at_entry(f, body, true, None)],
            status: StackStatus::Ready(params),
        });
        self.set(r, 0, Value::Stack(Some(n)));
        self.next(exc, RuleId::NewStack)
    }

    /// The number of the `READY` stack `s` holds, or `None` if it is NULL or in
    /// another state.
    pub(super) fn ready_stack(&self, s: Operand) -> R<Option<u32>> {
        let Value::Stack(Some(n)) = self.val(s)? else {
            return Ok(None);
        };
        Ok(match self.stacks.get(n as usize) {
            Some(MuStack {
                status: StackStatus::Ready(_),
                ..
            }) => Some(n),
            _ => None,
        })
    }

    /// Whether `READY` stack `n` may receive `given`: values of its types, or
    /// an exception.
    pub(super) fn ready_for(&self, n: u32, given: &Given) -> bool {
        match (given, &self.stacks[n as usize].status) {
            (Given::Values(ts, _), StackStatus::Ready(want)) => {
                ts.len() == want.len()
                    && ts
                        .iter()
                        .zip(want)
                        .all(|(a, b)| self.module.types.same(*a, *b))
            }
            _ => true,
        }
    }

    /// Kills `READY` stack `n`: its frames go, and their alloca cells die.
    fn kill(&mut self, n: u32) {
        let frames = std::mem::take(&mut self.stacks[n as usize].frames);
        for fr in &frames {
            for a in &fr.allocas {
                self.mem.kill(*a);
            }
        }
        self.stacks[n as usize].status = StackStatus::Dead;
    }

    /// SWAPSTACK: unbinds the thread from this stack, leaving it `READY<Ts>` at
    /// this instruction (`ret_with`) or killing it, and binds it to the
    /// swappee, which receives `given`.
    fn swap(&mut self, swappee: Operand, ret_with: Option<&[TypeId]>, given: Given) -> R<Step> {
        let Some(to) = self.ready_stack(swappee)? else {
            return Self::end(RuleId::StackNotReady, Outcome::Ub(RuleId::StackNotReady));
        };
        if !self.ready_for(to, &given) {
            return Self::end(
                RuleId::StackTypeMismatch,
                Outcome::Ub(RuleId::StackTypeMismatch),
            );
        }
        let from = self.stack;
        let rule = match (ret_with, &given) {
            (None, _) => RuleId::SwapKill,
            (Some(_), Given::Values(..)) => RuleId::Swap,
            (Some(_), Given::Exception(_)) => RuleId::SwapThrow,
        };
        // Unbind: this stack keeps its frames, the top one paused here, or dies.
        let frames = std::mem::take(&mut self.frames);
        self.stacks[from as usize].frames = frames;
        match ret_with {
            Some(ts) => self.stacks[from as usize].status = StackStatus::Ready(ts.to_vec()),
            None => self.kill(from),
        }
        // Bind: the swappee's frames become the thread's.
        self.frames = std::mem::take(&mut self.stacks[to as usize].frames);
        self.stacks[to as usize].status = StackStatus::Active;
        self.stack = to;
        self.resume(given, rule)
    }

    /// The thread, just bound to its stack, goes on from the top frame's
    /// resumption point with what the binding gave (threads-stacks.rest,
    /// "Resumption Point"): a frame that has not started enters its entry block
    /// with the values or re-throws the exception; a frame paused at a
    /// SWAPSTACK takes the values as its results, or the exception at the
    /// instruction (its clause, or up the stack).
    pub(super) fn resume(&mut self, given: Given, rule: RuleId) -> R<Step> {
        let Some(top) = self.frames.last_mut() else {
            return Err(ModelError::Bug("bound a stack with no frames".into()));
        };
        if top.fresh {
            top.fresh = false;
            return match given {
                Given::Values(_, vs) => Ok(self.enter_as(0, vs, None, rule)),
                Given::Exception(e) => {
                    self.rule_counts[rule as usize] += 1;
                    self.throw(e)
                }
            };
        }
        let Some(inst) = self.current() else {
            return Err(ModelError::Bug("resumed nowhere".into()));
        };
        let Op::SwapStack { exc, .. } = &inst.op else {
            return Err(ModelError::Bug("resumed at a non-SWAPSTACK".into()));
        };
        match given {
            Given::Values(_, vs) => {
                for (i, v) in vs.into_iter().enumerate() {
                    self.set(&inst.results, i, v);
                }
                self.next(exc, rule)
            }
            Given::Exception(e) => match exc {
                Some(x) => self.goto(&x.exc, Some(e), rule),
                None => {
                    self.rule_counts[rule as usize] += 1;
                    self.throw(e)
                }
            },
        }
    }
}
