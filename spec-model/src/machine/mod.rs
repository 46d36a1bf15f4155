//! The small-step machine (spec/04-instructions.md, spec/06-outcomes.md).
//!
//! A configuration is explicit data: one thread with a flat stack of frames (each
//! its function, block, instruction index, value slots and alloca cells), the
//! memory (heap objects, global cells, alloca cells) and the budgets. [`Machine::step`]
//! applies exactly one rule and returns its id; a rule that ends the run also
//! returns the [`Outcome`].
//!
//! `Err` from a step is never an outcome: [`ModelError::Unsupported`] means the
//! program reached something the model cannot execute (a function outside muni's
//! subset, a signature libffi cannot express), and [`ModelError::Bug`] means
//! verified code reached a state that cannot happen.
//!
//! The native interface lives beside the core: `memory.rs` (storage C can see,
//! graves), `native.rs` (the unsafe boundary: raw memory, dlsym, libffi calls and
//! closures) and `ccall.rs` (CCALL and callbacks).

mod arith;
mod ccall;
mod client;
pub mod memory;
pub(crate) mod native;
mod stacks;
mod threads;
pub use arith::rmw;
pub use client::{HIDDEN_VERSION_COST, returns_match};
pub use native::{read as read_native, symbol, symbol_name, write as write_native};
pub use stacks::{MAX_LIVE_STACKS, MuStack, StackStatus};
pub use threads::{MAX_THREADS, MuThread, ThreadState};
use value::sext;
pub mod value;

use crate::client::TrapHandler;
use crate::ir::*;
use crate::layout;
use crate::outcome::{Budget, IRefBase, NativeEvent, OutValue, Outcome, TrapCode};
use crate::rules::RuleId;
use crate::syntax::ast::{BinOp, CmpOp, ConvOp, RmwOp, Span};
use arith::Num;
use ccall::expose;
use memory::{Memory, Place, Space};
use std::collections::HashMap;
use std::rc::Rc;
pub use value::{Loc, ObjId, Value};

/// Budgets of a run (spec/06-outcomes.md `budget.*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budgets {
    /// Instructions; a block charges its length when it is entered.
    pub fuel: u64,
    /// Bytes allocated by NEW, NEWHYBRID, ALLOCA and ALLOCAHYBRID, cumulative.
    pub alloc: u64,
    /// Mu frames on the stack.
    pub stack: u32,
}

impl Default for Budgets {
    /// 10^7 instructions, 256 MiB, 10,000 frames: enough for real programs, small
    /// enough that a runaway one ends in about a second.
    fn default() -> Self {
        Budgets {
            fuel: 10_000_000,
            alloc: 256 << 20,
            stack: 10_000,
        }
    }
}

/// Why the model stopped without an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// The program reached a construct the model does not execute; `code` is its
    /// `unsupported` code (spec/03-verifier-errors.md).
    Unsupported {
        /// `native-interface` or `not-runnable`.
        code: &'static str,
        /// What was reached.
        message: String,
    },
    /// The run could not start: no such function, or arguments that do not fit.
    Usage(String),
    /// Verified code reached an impossible state: a bug in muni.
    Bug(String),
}

/// A function the model cannot run: declared only, or using a construct outside the subset.
fn not_runnable(f: &Func) -> ModelError {
    let message = match &f.unsupported {
        Some(why) => format!("{} cannot run: {why}", f.name),
        None => format!("{} is declared but not defined", f.name),
    };
    ModelError::Unsupported {
        code: "not-runnable",
        message,
    }
}

fn native(what: &str) -> ModelError {
    ModelError::Unsupported {
        code: "native-interface",
        message: format!("{what} come with the native interface"),
    }
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelError::Unsupported { code, message } => write!(f, "unsupported {code}: {message}"),
            ModelError::Usage(s) => write!(f, "{s}"),
            ModelError::Bug(s) => write!(f, "model bug: {s}"),
        }
    }
}

type R<T> = Result<T, ModelError>;

/// The schedule's state for seed 0.
const DEFAULT_SCHEDULE: u64 = 0x9e37_79b9_7f4a_7c15;

/// What one step did.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The rule applied.
    pub rule: RuleId,
    /// The outcome, if the rule ended the run.
    pub outcome: Option<Outcome>,
}

/// A Mu stack frame.
#[derive(Clone, Debug)]
pub struct Frame<'m> {
    /// The function.
    pub func: FuncId,
    /// The version the frame runs, fixed when it was pushed (a later bundle's
    /// version does not change it); `None`: the function had no version, and the
    /// frame is its hidden version's trap (uvm-ir.rest).
    pub body: Option<&'m Body>,
    /// A frame the client pushed (`push_frame`) that has not started: the thread's
    /// next values are its arguments.
    pub fresh: bool,
    /// Current block.
    pub block: u32,
    /// Index of the current instruction in the block.
    pub pc: u32,
    /// Values of the local variables (parameters and results), by slot.
    pub slots: Vec<Value>,
    /// Alloca cells of this frame; they die when it is popped.
    pub allocas: Vec<ObjId>,
    /// The exposure's cookie if native code called this frame's function.
    pub cookie: Option<u64>,
}

impl<'m> Frame<'m> {
    /// A frame of `func` running `body` from its entry block, its slots zero:
    /// `fresh` if the client pushed it, `cookie` if native code called it.
    fn at_entry(func: FuncId, body: &'m Body, fresh: bool, cookie: Option<u64>) -> Self {
        Frame {
            func,
            body: Some(body),
            fresh,
            block: 0,
            pc: 0,
            slots: vec![Value::Int(0); body.slots as usize],
            allocas: Vec::new(),
            cookie,
        }
    }
}

/// Where a memory access goes.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// A Mu location, through an `iref`: checked at the location's type.
    Loc(Loc),
    /// Bytes of a pinned object, through a pointer.
    Pinned(ObjId, u64),
    /// Memory the model does not own.
    Native(u64),
}

/// The configuration of the machine.
#[derive(Debug)]
pub struct Machine<'m> {
    /// The program.
    pub module: &'m Module,
    /// Mu memory.
    pub mem: Memory,
    /// The object of each global cell.
    pub globals: Vec<ObjId>,
    /// The frames of the stack the thread is bound to; the last is the current one.
    pub frames: Vec<Frame<'m>>,
    /// Every stack of the run, by number (spec/12): the bound one's frames are
    /// in `frames`.
    pub stacks: Vec<MuStack<'m>>,
    /// The number of the stack the thread is bound to.
    pub stack: u32,
    /// The thread's first stack, whose bottom frame may return (the thread
    /// ends); from another stack's it is `stack.bottom-return`.
    pub first_stack: u32,
    /// Every thread of the run, by number (spec/12 §12.8): the running one's
    /// state is in the fields above and below, the others' here.
    pub mu_threads: Vec<MuThread>,
    /// The number of the running thread.
    pub thread: u32,
    /// The running thread's state (it waits on a futex, or ended).
    pub thread_state: ThreadState,
    /// The running thread's thread-local reference.
    pub threadlocal: Value,
    /// The state of the seeded schedule (`Machine::schedule_seed`).
    pub schedule: u64,
    /// The virtual clock of timed waits, in nanoseconds: it moves only when
    /// no thread can step.
    pub clock: u64,
    /// Futex waits so far (their queue order).
    waits: u64,
    /// The budgets each thread starts with.
    budgets: Budgets,
    /// What the data-race rule knows, once a second thread exists (spec/12
    /// §12.11).
    races: Option<Box<threads::Races>>,
    /// Fuel left.
    pub fuel: u64,
    /// Allocation bytes left.
    pub alloc_left: u64,
    /// Maximum number of frames.
    pub stack_max: u32,
    /// Steps taken.
    pub steps: u64,
    /// How often each rule fired, indexed by `RuleId as usize`.
    pub rule_counts: Vec<u64>,
    /// The thread's pin multiset: instances of each pinned location (`None` is NULL).
    pub pins: HashMap<Option<Loc>, u32>,
    /// Events at the native boundary, when recording (`--trace-native`).
    pub trace: Option<Vec<NativeEvent>>,
    /// How often each instruction ran, when counting (the differential tester's
    /// statistics of what ran).
    pub profile: Option<Profile>,
    consts: Vec<Option<Value>>,
    /// The C function pointer of each static `.expose`.
    static_exposes: Vec<Option<native::Exposure>>,
    /// Exposures made by `@uvm.native.expose`, by code address.
    exposures: HashMap<u64, native::Exposure>,
    /// Call interfaces by signature.
    cifs: HashMap<SigId, Rc<libffi::middle::Cif>>,
    /// What a function native code called returned, for the callback to hand to C.
    callback_return: Option<Vec<Value>>,
    /// The callbacks C is in, innermost last: the stack of each callback's
    /// frame and its index there (C's frames are on the host's stack, so they
    /// return in this order: spec/12 §12.7).
    native_calls: Vec<(u32, usize)>,
    /// An outcome reached inside a callback, waiting for C to return to the CCALL.
    pending: Option<(RuleId, Outcome)>,
    /// A model error inside a callback, likewise.
    pending_error: Option<ModelError>,
    /// The client's trap handler (`set_trap_handler`); without one, the first TRAP
    /// ends the run with `client_trap`.
    pub client: Option<Box<dyn TrapHandler>>,
    /// Where the client's `load_bundle` loads (without: it is an error).
    pub bundles: Option<&'m crate::load::Bundles<'m>>,
    /// The stacks and threads the client made in this run (`new_stack`,
    /// `new_thread`); each thread starts when the one before it has ended.
    pub threads: crate::client::Threads<Value>,
    /// The watchpoint IDs the client enabled in this run (none at its start).
    pub watchpoints: std::collections::BTreeSet<u64>,
    /// Whether the client loaded a bundle in this run (the profile counts only
    /// the first module's versions).
    loaded: bool,
}

/// How often each instruction of a module ran: one count per instruction of each
/// function, blocks in order.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// Per function, the index in `counts` of each block's first instruction.
    starts: Vec<Vec<usize>>,
    /// Per function, a count per instruction.
    counts: Vec<Vec<u64>>,
}

impl Profile {
    /// All counts zero, for the functions of `m`.
    pub fn new(m: &Module) -> Profile {
        let mut p = Profile::default();
        for f in &m.funcs {
            let mut starts = Vec::new();
            let mut n = 0;
            for b in f.body.iter().flat_map(|b| &b.blocks) {
                starts.push(n);
                n += b.insts.len();
            }
            p.starts.push(starts);
            p.counts.push(vec![0; n]);
        }
        p
    }

    fn hit(&mut self, f: FuncId, b: u32, i: u32) {
        let Some(start) = self.starts.get(f as usize).and_then(|s| s.get(b as usize)) else {
            return;
        };
        if let Some(c) = self.counts[f as usize].get_mut(start + i as usize) {
            *c += 1;
        }
    }

    /// How often instruction `i` of block `b` of function `f` ran.
    pub fn count(&self, f: FuncId, b: u32, i: u32) -> u64 {
        self.starts
            .get(f as usize)
            .and_then(|s| s.get(b as usize))
            .and_then(|start| self.counts[f as usize].get(start + i as usize))
            .copied()
            .unwrap_or(0)
    }
}

fn null_value(types: &Types, t: TypeId) -> Value {
    match types.get(t) {
        Type::StackRef => Value::Stack(None),
        Type::ThreadRef => Value::Thread(None),
        Type::IRef(_) => Value::IRef(None),
        Type::FuncRef(_) => Value::FuncRef(None),
        Type::UPtr(_) | Type::UFuncPtr(_) => Value::Ptr(0),
        _ => Value::Ref(None),
    }
}

fn const_value(m: &Module, globals: &[ObjId], c: ConstId) -> Option<Value> {
    let k = &m.consts[c as usize];
    Some(match &k.value {
        ConstValue::Int(b) if m.types.is_ptr(k.ty) => Value::Ptr(*b),
        ConstValue::Int(b) => Value::Int(*b),
        ConstValue::Float(b) => Value::Float(f32::from_bits(*b)),
        ConstValue::Double(b) => Value::Double(f64::from_bits(*b)),
        ConstValue::Null => null_value(&m.types, k.ty),
        ConstValue::List(cs) => {
            let vs: Option<Vec<Value>> = cs.iter().map(|c| const_value(m, globals, *c)).collect();
            Value::Agg(Rc::from(vs?))
        }
        ConstValue::Extern(sym) => Value::Ptr(native::symbol(sym)?),
        ConstValue::Global(g) => Value::IRef(Some(Loc {
            obj: globals[*g as usize],
            off: 0,
        })),
        ConstValue::Func(f) => Value::FuncRef(Some(*f)),
    })
}

fn num(types: &Types, t: TypeId) -> Num {
    match types.get(t) {
        Type::Int(n) => Num::Int(*n),
        Type::Float => Num::F32,
        Type::Double => Num::F64,
        _ => Num::Int(64),
    }
}

impl<'m> Machine<'m> {
    /// A machine with the module's global cells allocated and no thread running.
    pub fn new(module: &'m Module, budgets: Budgets) -> Self {
        let mut mem = Memory::default();
        let globals = module.globals.iter().enumerate().map(|(i, g)| {
            mem.alloc(
                &module.types,
                g.ty,
                0,
                Space::Global(u32::try_from(i).unwrap_or(u32::MAX)),
            )
        });
        let globals: Vec<ObjId> = globals.collect();
        let consts = (0..module.consts.len())
            .map(|c| const_value(module, &globals, u32::try_from(c).unwrap_or(0)))
            .collect();
        let static_exposes = module
            .exposes
            .iter()
            .map(|e| {
                let cookie = match module.consts[e.cookie as usize].value {
                    ConstValue::Int(c) => c,
                    _ => 0,
                };
                expose(module, e.func, module.funcs[e.func as usize].sig, cookie)
            })
            .collect();
        Machine {
            module,
            mem,
            globals,
            frames: Vec::new(),
            stacks: vec![MuStack {
                frames: Vec::new(),
                status: StackStatus::Active,
            }],
            stack: 0,
            first_stack: 0,
            mu_threads: vec![MuThread::first(budgets)],
            thread: 0,
            thread_state: ThreadState::Runnable,
            threadlocal: Value::Ref(None),
            schedule: DEFAULT_SCHEDULE,
            clock: 0,
            waits: 0,
            budgets,
            races: None,
            fuel: budgets.fuel,
            alloc_left: budgets.alloc,
            stack_max: budgets.stack,
            steps: 0,
            rule_counts: vec![0; RuleId::ALL.len()],
            pins: HashMap::new(),
            trace: None,
            profile: None,
            consts,
            static_exposes,
            exposures: HashMap::new(),
            cifs: HashMap::new(),
            callback_return: None,
            native_calls: Vec::new(),
            pending: None,
            pending_error: None,
            client: None,
            bundles: None,
            threads: crate::client::Threads::default(),
            watchpoints: std::collections::BTreeSet::new(),
            loaded: false,
        }
    }

    /// Calls `func` with `args` from the client: pushes the first frame and enters
    /// its entry block. Returns an outcome if the run ends at once.
    pub fn start(&mut self, func: FuncId, args: Vec<Value>) -> R<Option<Outcome>> {
        if let Some(b) = self.bundles {
            b.restart();
        }
        self.threads = crate::client::Threads::default();
        self.watchpoints.clear();
        self.reset_stacks();
        let f = &self.module.funcs[func as usize];
        if f.body.is_none() {
            return Err(not_runnable(f));
        }
        if self.stack_max == 0 {
            self.rule_counts[RuleId::CallStackExhausted as usize] += 1;
            return Ok(Some(Outcome::Exhausted(Budget::Stack)));
        }
        // The client's context before the thread starts (`client.start`): the
        // run's stack is made after it, with the function's newest version.
        self.client_start();
        let Some(body) = &self.module.funcs[func as usize].body else {
            return Err(not_runnable(&self.module.funcs[func as usize]));
        };
        self.frames.push(Frame::at_entry(func, body, false, None));
        Ok(self.enter(0, args, None))
    }

    /// The run's first stack, number 0, with the thread bound to it.
    fn reset_stacks(&mut self) {
        self.frames.clear();
        self.stacks = vec![MuStack {
            frames: Vec::new(),
            status: StackStatus::Active,
        }];
        self.stack = 0;
        self.first_stack = 0;
        self.native_calls.clear();
        self.reset_threads();
    }

    /// One thread again, the running one, with the run's budgets left as
    /// they are.
    fn reset_threads(&mut self) {
        self.mu_threads = vec![MuThread::first(self.budgets)];
        self.thread = 0;
        self.thread_state = ThreadState::Runnable;
        self.threadlocal = Value::Ref(None);
        self.clock = 0;
        self.waits = 0;
        self.races = None;
    }

    /// Sets the seed of the schedule that interleaves threads (spec/12
    /// §12.10): each seed gives one interleaving, the same every time.
    pub fn schedule_seed(&mut self, seed: u64) {
        self.schedule = seed ^ DEFAULT_SCHEDULE;
        if self.schedule == 0 {
            self.schedule = DEFAULT_SCHEDULE;
        }
    }

    /// Makes a new stack the thread's first, and binds the thread to it.
    fn bind_first_stack(&mut self) {
        let n = u32::try_from(self.stacks.len()).unwrap_or(u32::MAX);
        let old = std::mem::take(&mut self.frames);
        self.stacks[self.stack as usize].frames = old;
        if self.stacks[self.stack as usize].status == StackStatus::Active {
            self.stacks[self.stack as usize].status = StackStatus::Dead;
        }
        self.stacks.push(MuStack {
            frames: Vec::new(),
            status: StackStatus::Active,
        });
        self.stack = n;
        self.first_stack = n;
    }

    /// Runs to the end: until every thread has ended.
    pub fn run(&mut self) -> R<Outcome> {
        loop {
            if let Some(o) = self.step_threads()?.outcome {
                return Ok(o);
            }
        }
    }

    /// The instruction the current frame is at, if any.
    pub fn current(&self) -> Option<&'m Inst> {
        let fr = self.frames.last()?;
        let body = fr.body?;
        body.blocks
            .get(fr.block as usize)?
            .insts
            .get(fr.pc as usize)
    }

    /// Where the current instruction is written.
    pub fn current_span(&self) -> Option<Span> {
        self.current().map(|i| i.span)
    }

    fn frame(&mut self) -> &mut Frame<'m> {
        let n = self.frames.len() - 1;
        &mut self.frames[n]
    }

    /// The version the current frame runs.
    fn body(&self) -> &'m Body {
        self.frames
            .last()
            .and_then(|f| f.body)
            .expect("only frames of defined versions run")
    }

    #[inline]
    fn val(&self, o: Operand) -> R<Value> {
        Ok(match o {
            Operand::Local(s) => self.frames[self.frames.len() - 1].slots[s as usize].clone(),
            Operand::Const(c) => match &self.consts[c as usize] {
                Some(v) => v.clone(),
                None => {
                    return Err(native("EXTERN constants"));
                }
            },
            Operand::Global(g) => Value::IRef(Some(Loc {
                obj: self.globals[g as usize],
                off: 0,
            })),
            Operand::Func(f) => Value::FuncRef(Some(f)),
            Operand::Expose(e) => match &self.static_exposes[e as usize] {
                Some(x) => Value::Ptr(x.code()),
                None => return Err(native("exposed functions with this signature")),
            },
        })
    }

    fn vals(&self, os: &[Operand]) -> R<Vec<Value>> {
        os.iter().map(|o| self.val(*o)).collect()
    }

    #[inline]
    fn set(&mut self, results: &[u32], i: usize, v: Value) {
        if let Some(s) = results.get(i) {
            self.frame().slots[*s as usize] = v;
        }
    }

    /// Enters block `b` of the current frame with `args` (and the exception for its
    /// exceptional parameter), charging its length in fuel (`budget.fuel`).
    fn enter(&mut self, b: u32, args: Vec<Value>, exc: Option<Value>) -> Option<Outcome> {
        let fr = self.frames.len() - 1;
        let body = self.body();
        let block = &body.blocks[b as usize];
        let cost = block.insts.len() as u64;
        if self.fuel < cost {
            return Some(Outcome::Exhausted(Budget::Fuel));
        }
        self.fuel -= cost;
        let frame = &mut self.frames[fr];
        for (p, a) in block.params.iter().zip(args) {
            frame.slots[*p as usize] = a;
        }
        if let (Some(p), Some(e)) = (block.exc_param, exc) {
            frame.slots[p as usize] = e;
        }
        frame.block = b;
        frame.pc = 0;
        None
    }

    /// Takes a destination: `rule`, or `budget.fuel` if the block cannot be paid for.
    fn goto(&mut self, d: &Dest, exc: Option<Value>, rule: RuleId) -> R<Step> {
        let args = self.vals(&d.args)?;
        Ok(self.enter_as(d.block, args, exc, rule))
    }

    /// Enters block `b` as `rule`, or ends the run as `budget.fuel` if the block
    /// cannot be paid for.
    fn enter_as(&mut self, b: u32, args: Vec<Value>, exc: Option<Value>, rule: RuleId) -> Step {
        match self.enter(b, args, exc) {
            Some(o) => Step {
                rule: RuleId::FuelExhausted,
                outcome: Some(o),
            },
            None => Step {
                rule,
                outcome: None,
            },
        }
    }

    /// Continues normally: to the next instruction, or to the normal destination.
    fn next(&mut self, exc: &Option<Exc>, rule: RuleId) -> R<Step> {
        match exc {
            Some(e) => self.goto(&e.nor, None, rule),
            None => {
                self.frame().pc += 1;
                Ok(Step {
                    rule,
                    outcome: None,
                })
            }
        }
    }

    /// Continues exceptionally with a NULL exception, or ends the run with `otherwise`.
    fn fail(
        &mut self,
        exc: &Option<Exc>,
        exc_rule: RuleId,
        rule: RuleId,
        otherwise: Outcome,
    ) -> R<Step> {
        match exc {
            Some(e) => self.goto(&e.exc, Some(Value::Ref(None)), exc_rule),
            None => Ok(Step {
                rule,
                outcome: Some(otherwise),
            }),
        }
    }

    fn end(rule: RuleId, o: Outcome) -> R<Step> {
        Ok(Step {
            rule,
            outcome: Some(o),
        })
    }

    /// Applies one rule.
    pub fn step(&mut self) -> R<Step> {
        if let (Some(p), Some(fr), false) = (&mut self.profile, self.frames.last(), self.loaded) {
            p.hit(fr.func, fr.block, fr.pc);
        }
        let s = self.apply()?;
        self.rule_counts[s.rule as usize] += 1;
        Ok(s)
    }

    /// The rule dispatch: each instruction goes to the function of its rule family.
    fn apply(&mut self) -> R<Step> {
        if let Some(fr) = self.frames.pop_if(|f| f.body.is_none()) {
            // An undefined function's hidden version, rebound with no values: it
            // tail-calls the function again (`client.undefined-function`).
            self.steps += 1;
            return self.push_frame_from(fr.func, fr.slots, RuleId::TailCall, fr.cookie);
        }
        let Some(inst) = self.current() else {
            return Err(ModelError::Bug("step with no current instruction".into()));
        };
        self.steps += 1;
        let r = &inst.results;
        match &inst.op {
            Op::BinOp { op, ty, a, b, exc } => self.binop(*op, *ty, *a, *b, exc, r),
            Op::Cmp { op, ty, a, b } => self.cmp(*op, *ty, *a, *b, r),
            Op::Conv { op, from, to, x } => self.conv(*op, *from, *to, *x, r),
            Op::Select { .. } => self.select(&inst.op, r),
            Op::ExtractValue { .. } | Op::InsertValue { .. } => self.aggregate(&inst.op, r),
            Op::Branch(_) | Op::Branch2 { .. } | Op::Switch { .. } | Op::WpBranch { .. } => {
                self.control(&inst.op)
            }
            Op::Call {
                callee, args, exc, ..
            } => self.call(*callee, args, exc),
            Op::TailCall { callee, args, .. } => self.tailcall(*callee, args),
            Op::Ret(vs) => self.ret(vs),
            Op::Throw(x) => {
                let e = self.val(*x)?;
                self.throw(e)
            }
            Op::New { ty, exc } => self.alloc(*ty, None, exc, r, Space::Heap),
            Op::NewHybrid { ty, len, exc, .. } => self.alloc(*ty, Some(*len), exc, r, Space::Heap),
            Op::Alloca { ty, exc } => self.alloc(*ty, None, exc, r, Space::Stack),
            Op::AllocaHybrid { ty, len, exc, .. } => {
                self.alloc(*ty, Some(*len), exc, r, Space::Stack)
            }
            Op::GetIRef { .. }
            | Op::GetFieldIRef { .. }
            | Op::GetElemIRef { .. }
            | Op::ShiftIRef { .. }
            | Op::GetVarPartIRef { .. } => self.address(&inst.op, r),
            Op::Load { .. }
            | Op::Store { .. }
            | Op::CmpXchg { .. }
            | Op::AtomicRmw { .. }
            | Op::Fence => self.memory(&inst.op, r),
            Op::Trap { .. } | Op::CommInst(CommInst::ThreadExit) => self.client(&inst.op, r),
            Op::CommInst(
                CommInst::Pin { .. }
                | CommInst::Unpin { .. }
                | CommInst::GetCookie
                | CommInst::Expose { .. }
                | CommInst::Unexpose { .. },
            )
            | Op::CCall { .. } => self.native_boundary(&inst.op, r),
            Op::NewThread { .. }
            | Op::CommInst(
                CommInst::GetThreadLocal
                | CommInst::SetThreadLocal(_)
                | CommInst::FutexWait { .. }
                | CommInst::FutexWake { .. }
                | CommInst::FutexRequeue { .. },
            ) => self.thread_op(&inst.op, r),
            Op::NewStack { .. }
            | Op::SwapStack { .. }
            | Op::CommInst(CommInst::KillStack(_) | CommInst::CurrentStack) => {
                self.stack_op(&inst.op, r)
            }
        }
    }

    /// `select`: SELECT picks one of two values by an `int<1>` condition.
    fn select(&mut self, op: &'m Op, r: &[u32]) -> R<Step> {
        match op {
            Op::Select { cond, a, b } => {
                let v = if self.val(*cond)?.bits() == 1 {
                    self.val(*a)?
                } else {
                    self.val(*b)?
                };
                self.set(r, 0, v);
                self.next(&None, RuleId::Select)
            }
            _ => Err(ModelError::Bug("select of another instruction".into())),
        }
    }

    /// `agg.extract`, `agg.insert`: EXTRACTVALUE and INSERTVALUE on struct values.
    fn aggregate(&mut self, op: &'m Op, r: &[u32]) -> R<Step> {
        match op {
            Op::ExtractValue { index, x, .. } => {
                let Value::Agg(vs) = self.val(*x)? else {
                    return Err(ModelError::Bug("EXTRACTVALUE of a non-struct".into()));
                };
                self.set(r, 0, vs[*index as usize].clone());
                self.next(&None, RuleId::AggExtract)
            }
            Op::InsertValue { index, x, v, .. } => {
                let Value::Agg(vs) = self.val(*x)? else {
                    return Err(ModelError::Bug("INSERTVALUE of a non-struct".into()));
                };
                let mut vs = vs.to_vec();
                vs[*index as usize] = self.val(*v)?;
                self.set(r, 0, Value::Agg(Rc::from(vs)));
                self.next(&None, RuleId::AggInsert)
            }
            _ => Err(ModelError::Bug("aggregate of another instruction".into())),
        }
    }

    /// `ctl.branch`, `ctl.branch2`, `ctl.switch`, `ctl.wpbranch`: BRANCH, BRANCH2,
    /// SWITCH and WPBRANCH (by whether its watchpoint is enabled) go to a
    /// destination of the function, passing its arguments.
    fn control(&mut self, op: &'m Op) -> R<Step> {
        match op {
            Op::Branch(d) => self.goto(d, None, RuleId::Branch),
            Op::Branch2 { cond, t, f } => {
                let d = if self.val(*cond)?.bits() == 1 { t } else { f };
                self.goto(d, None, RuleId::Branch2)
            }
            Op::Switch { x, default, cases } => {
                let x = self.val(*x)?;
                for (k, d) in cases {
                    if self.val(*k)? == x {
                        return self.goto(d, None, RuleId::Switch);
                    }
                }
                self.goto(default, None, RuleId::Switch)
            }
            Op::WpBranch { wpid, dis, ena } => {
                let d = if self.watchpoints.contains(wpid) {
                    ena
                } else {
                    dis
                };
                self.goto(d, None, RuleId::WpBranch)
            }
            _ => Err(ModelError::Bug("control of another instruction".into())),
        }
    }

    /// `mem.getiref`, `mem.getfieldiref`, `mem.getelemiref`, `mem.shiftiref`,
    /// `mem.getvarpartiref` (and, as undefined behaviour, `mem.null-navigation`,
    /// `mem.out-of-bounds`, `mem.empty-var-part`): addressing, through irefs or, with
    /// PTR, through pointers.
    fn address(&mut self, op: &'m Op, r: &[u32]) -> R<Step> {
        match op {
            Op::GetIRef { x } => match self.val(*x)? {
                Value::Ref(Some(o)) => {
                    self.set(r, 0, Value::IRef(Some(Loc { obj: o, off: 0 })));
                    self.next(&None, RuleId::GetIRef)
                }
                _ => Self::end(RuleId::NullNavigation, Outcome::Ub(RuleId::NullNavigation)),
            },
            Op::GetFieldIRef { ptr, ty, index, x } => {
                let fs = match self.module.types.get(*ty) {
                    Type::Struct(fs) | Type::Hybrid(fs, _) => fs,
                    _ => return Err(ModelError::Bug("GETFIELDIREF of a non-struct".into())),
                };
                let off = layout::field_offset(&self.module.types, fs, *index as usize);
                self.navigate(*ptr, *x, RuleId::GetFieldIRef, r, |_, _| {
                    Ok(i128::from(off))
                })
            }
            Op::GetElemIRef {
                ptr,
                ty,
                index_ty,
                x,
                index,
            } => {
                let Type::Array(e, n) = *self.module.types.get(*ty) else {
                    return Err(ModelError::Bug("GETELEMIREF of a non-array".into()));
                };
                let es = layout::layout(&self.module.types, e).size;
                let w = self.module.types.int_width(*index_ty).unwrap_or(64);
                let i = value::sext(self.val(*index)?.bits(), w);
                let in_range = i >= 0 && (i as u64) < n;
                let ptr = *ptr;
                self.navigate(ptr, *x, RuleId::GetElemIRef, r, move |_, _| {
                    if !ptr && !in_range {
                        return Err(RuleId::OutOfBounds);
                    }
                    Ok(i128::from(i) * i128::from(es))
                })
            }
            Op::ShiftIRef {
                ptr,
                ty,
                off_ty,
                x,
                off,
            } => {
                let size = layout::layout(&self.module.types, *ty).size;
                let w = self.module.types.int_width(*off_ty).unwrap_or(64);
                let k = value::sext(self.val(*off)?.bits(), w);
                self.navigate(*ptr, *x, RuleId::ShiftIRef, r, move |_, _| {
                    Ok(i128::from(k) * i128::from(size))
                })
            }
            Op::GetVarPartIRef { ptr, ty, x } => {
                let Type::Hybrid(fs, v) = self.module.types.get(*ty) else {
                    return Err(ModelError::Bug("GETVARPARTIREF of a non-hybrid".into()));
                };
                let (_, var_off) = layout::hybrid_layout(&self.module.types, fs, *v, 0);
                let ptr = *ptr;
                self.navigate(ptr, *x, RuleId::GetVarPartIRef, r, move |mem, loc| {
                    if !ptr && mem.objs[loc.obj as usize].var_len == 0 {
                        return Err(RuleId::EmptyVarPart);
                    }
                    Ok(i128::from(var_off))
                })
            }
            _ => Err(ModelError::Bug("address of another instruction".into())),
        }
    }

    /// `mem.load`, `mem.store`, `mem.cmpxchg`, `mem.atomicrmw`, `mem.fence` (with
    /// `mem.null-exc`, `mem.null-trap` and the `ptr.*` rules of the access): memory
    /// accesses of every space.
    fn memory(&mut self, op: &'m Op, r: &[u32]) -> R<Step> {
        match op {
            Op::Load {
                ptr,
                atomic,
                ty,
                loc,
                exc,
            } => {
                let t = match self.access(*ptr, *loc, *ty, exc)? {
                    Ok(t) => t,
                    Err(stop) => return Ok(stop),
                };
                if let Err(u) = self.ordered(t, *atomic, false) {
                    return Self::end(u, Outcome::Ub(u));
                }
                let v = match self.read(t, *ty) {
                    Ok(v) => v,
                    Err(u) => return Self::end(u, Outcome::Ub(u)),
                };
                self.set(r, 0, v);
                self.next(exc, RuleId::Load)
            }
            Op::Store {
                ptr,
                atomic,
                ty,
                loc,
                v,
                exc,
            } => {
                let t = match self.access(*ptr, *loc, *ty, exc)? {
                    Ok(t) => t,
                    Err(stop) => return Ok(stop),
                };
                if let Err(u) = self.ordered(t, *atomic, true) {
                    return Self::end(u, Outcome::Ub(u));
                }
                let v = self.val(*v)?;
                if let Err(u) = self.write(t, *ty, &v) {
                    return Self::end(u, Outcome::Ub(u));
                }
                self.next(exc, RuleId::Store)
            }
            Op::CmpXchg {
                ptr,
                ty,
                loc,
                expected,
                desired,
                exc,
            } => {
                let t = match self.access(*ptr, *loc, *ty, exc)? {
                    Ok(t) => t,
                    Err(stop) => return Ok(stop),
                };
                if let Err(u) = self.ordered(t, true, true) {
                    return Self::end(u, Outcome::Ub(u));
                }
                let old = match self.read(t, *ty) {
                    Ok(v) => v,
                    Err(u) => return Self::end(u, Outcome::Ub(u)),
                };
                let ok = old == self.val(*expected)?;
                if ok {
                    let d = self.val(*desired)?;
                    if let Err(u) = self.write(t, *ty, &d) {
                        return Self::end(u, Outcome::Ub(u));
                    }
                }
                self.set(r, 0, old);
                self.set(r, 1, Value::Int(u64::from(ok)));
                self.next(exc, RuleId::CmpXchg)
            }
            Op::AtomicRmw {
                ptr,
                op,
                ty,
                loc,
                v,
                exc,
            } => {
                let t = match self.access(*ptr, *loc, *ty, exc)? {
                    Ok(t) => t,
                    Err(stop) => return Ok(stop),
                };
                if let Err(u) = self.ordered(t, true, true) {
                    return Self::end(u, Outcome::Ub(u));
                }
                let old = match self.read(t, *ty) {
                    Ok(v) => v,
                    Err(u) => return Self::end(u, Outcome::Ub(u)),
                };
                let v = self.val(*v)?;
                let new = match (op, self.module.types.int_width(*ty)) {
                    (RmwOp::Xchg, _) | (_, None) => v,
                    (op, Some(n)) => Value::Int(arith::rmw(*op, n, old.bits(), v.bits())),
                };
                if let Err(u) = self.write(t, *ty, &new) {
                    return Self::end(u, Outcome::Ub(u));
                }
                self.set(r, 0, old);
                self.next(exc, RuleId::AtomicRmw)
            }
            Op::Fence => self.next(&None, RuleId::Fence),
            _ => Err(ModelError::Bug("memory of another instruction".into())),
        }
    }

    /// `pin.pin`, `pin.unpin`, `native.get-cookie`, `ccall.call`, `native.expose`,
    /// `native.unexpose`, `native.unexpose-unknown`: the native interface's
    /// instructions (pinning, CCALL, exposing Mu functions to C).
    fn native_boundary(&mut self, op: &'m Op, r: &[u32]) -> R<Step> {
        match op {
            Op::CommInst(CommInst::Pin { x, .. }) => self.pin(*x, r),
            Op::CommInst(CommInst::Unpin { x, .. }) => self.unpin(*x),
            Op::CommInst(CommInst::GetCookie) => {
                let cookie = self.frames.last().and_then(|f| f.cookie).unwrap_or(0);
                self.set(r, 0, Value::Int(cookie));
                self.next(&None, RuleId::GetCookie)
            }
            Op::CCall {
                sig,
                callee,
                args,
                exc,
            } => self.ccall(*sig, *callee, args, exc, r),
            Op::CommInst(CommInst::Expose { sig, f, cookie }) => {
                let Value::FuncRef(Some(func)) = self.val(*f)? else {
                    return Self::end(RuleId::CallNull, Outcome::Trap(TrapCode::NullCall));
                };
                let cookie = self.val(*cookie)?.bits();
                let Some(x) = expose(self.module, func, *sig, cookie) else {
                    return Err(native("exposed functions with this signature"));
                };
                let code = x.code();
                self.exposures.insert(code, x);
                self.set(r, 0, Value::Ptr(code));
                self.next(&None, RuleId::Expose)
            }
            Op::CommInst(CommInst::Unexpose { p }) => {
                let code = self.val(*p)?.bits();
                if self.exposures.remove(&code).is_none() {
                    return Self::end(
                        RuleId::UnexposeUnknown,
                        Outcome::Trap(TrapCode::UnexposeUnknown),
                    );
                }
                self.next(&None, RuleId::Unexpose)
            }
            _ => Err(ModelError::Bug(
                "native_boundary of another instruction".into(),
            )),
        }
    }

    /// `int.*`, `float.arith`.
    fn binop(
        &mut self,
        op: BinOp,
        ty: TypeId,
        a: Operand,
        b: Operand,
        exc: &Option<Exc>,
        r: &[u32],
    ) -> R<Step> {
        let (a, b) = (self.val(a)?, self.val(b)?);
        let (v, rule) = match (a, b) {
            (Value::Int(x), Value::Int(y)) => {
                let n = self.module.types.int_width(ty).unwrap_or(64);
                match arith::int_binop(op, n, x, y) {
                    Some(v) => {
                        let rule = if arith::is_div(op) {
                            RuleId::IntDiv
                        } else if arith::is_shift(op) {
                            RuleId::IntShift
                        } else {
                            RuleId::IntArith
                        };
                        (Value::Int(v), rule)
                    }
                    None => {
                        return self.fail(
                            exc,
                            RuleId::IntDivZeroExc,
                            RuleId::IntDivZeroTrap,
                            Outcome::Trap(TrapCode::DivByZero),
                        );
                    }
                }
            }
            (Value::Float(x), Value::Float(y)) => {
                (Value::Float(arith::fop32(op, x, y)), RuleId::FloatArith)
            }
            (Value::Double(x), Value::Double(y)) => {
                (Value::Double(arith::fop64(op, x, y)), RuleId::FloatArith)
            }
            _ => {
                return Err(ModelError::Bug(
                    "binary operation on mismatched values".into(),
                ));
            }
        };
        self.set(r, 0, v);
        self.next(exc, rule)
    }

    /// `cmp.int`, `cmp.float`, `cmp.ref`.
    fn cmp(&mut self, op: CmpOp, ty: TypeId, a: Operand, b: Operand, r: &[u32]) -> R<Step> {
        let (a, b) = (self.val(a)?, self.val(b)?);
        let (res, rule) = match (&a, &b) {
            (Value::Int(x), Value::Int(y)) => (
                arith::cmp_int(op, self.module.types.int_width(ty).unwrap_or(64), *x, *y),
                RuleId::CmpInt,
            ),
            (Value::Ptr(x), Value::Ptr(y)) => (arith::cmp_int(op, 64, *x, *y), RuleId::CmpInt),
            (Value::Float(x), Value::Float(y)) => (
                arith::cmp_float(op, f64::from(*x), f64::from(*y)),
                RuleId::CmpFloat,
            ),
            (Value::Double(x), Value::Double(y)) => {
                (arith::cmp_float(op, *x, *y), RuleId::CmpFloat)
            }
            (Value::IRef(Some(x)), Value::IRef(Some(y)))
                if !matches!(op, CmpOp::Eq | CmpOp::Ne) =>
            {
                // Ordered comparison of irefs: defined within one object.
                let res = x.obj == y.obj && arith::cmp_int(op, 64, x.off, y.off);
                (res, RuleId::CmpRef)
            }
            _ => {
                let eq = a == b;
                (if op == CmpOp::Ne { !eq } else { eq }, RuleId::CmpRef)
            }
        };
        self.set(r, 0, Value::Int(u64::from(res)));
        self.next(&None, rule)
    }

    /// `conv.*`.
    fn conv(&mut self, op: ConvOp, from: TypeId, to: TypeId, x: Operand, r: &[u32]) -> R<Step> {
        let x = self.val(x)?;
        let t = &self.module.types;
        let v = match op {
            ConvOp::Refcast => x,
            // The address as an integer: truncated or zero-extended.
            ConvOp::Ptrcast if t.is_ptr(to) => Value::Ptr(x.bits()),
            _ => arith::convert(op, num(t, from), num(t, to), &x),
        };
        let rule = match op {
            ConvOp::Trunc | ConvOp::Zext | ConvOp::Sext => RuleId::ConvInt,
            ConvOp::Fptrunc | ConvOp::Fpext => RuleId::ConvFloat,
            ConvOp::Fptoui | ConvOp::Fptosi => RuleId::ConvFpToInt,
            ConvOp::Uitofp | ConvOp::Sitofp => RuleId::ConvIntToFp,
            ConvOp::Bitcast => RuleId::ConvBitcast,
            ConvOp::Refcast => RuleId::ConvRefcast,
            ConvOp::Ptrcast => RuleId::ConvPtrcast,
        };
        self.set(r, 0, v);
        self.next(&None, rule)
    }

    /// Where a memory access at type `ty` goes, or the step that ends it:
    /// through an `iref`, `mem.null-exc`/`mem.null-trap` for NULL and the UB rules of
    /// `Memory::check`; through a pointer, the `ptr.*` rules.
    fn access(
        &mut self,
        ptr: bool,
        loc: Operand,
        ty: TypeId,
        exc: &Option<Exc>,
    ) -> R<Result<Target, Step>> {
        let ub = |u: RuleId| {
            Ok(Err(Step {
                rule: u,
                outcome: Some(Outcome::Ub(u)),
            }))
        };
        if ptr {
            let addr = self.val(loc)?.bits();
            let size = layout::layout(&self.module.types, ty).size;
            return match self.mem.place(addr) {
                Place::Obj(o, off) => {
                    let obj = &self.mem.objs[o as usize];
                    if obj.pins == 0 || off + size > self.mem.end(&self.module.types, o) {
                        ub(RuleId::PtrOutOfBounds)
                    } else if self.mem.overlaps_ref(&self.module.types, o, off, size) {
                        ub(RuleId::PtrRefField)
                    } else {
                        Ok(Ok(Target::Pinned(o, off)))
                    }
                }
                Place::Grave(..) => ub(RuleId::PtrUseAfterUnpin),
                Place::Native => Ok(Ok(Target::Native(addr))),
            };
        }
        let Value::IRef(l) = self.val(loc)? else {
            return Err(ModelError::Bug("memory access through a non-iref".into()));
        };
        let Some(l) = l else {
            let stop = self.fail(
                exc,
                RuleId::NullAccessExc,
                RuleId::NullAccessTrap,
                Outcome::Trap(TrapCode::NullRef),
            )?;
            return Ok(Err(stop));
        };
        match self.mem.check(&self.module.types, l, ty) {
            Ok(()) => Ok(Ok(Target::Loc(l))),
            Err(u) => ub(u),
        }
    }

    /// Reads a value of type `ty` at a target (`ptr.unmapped` if native memory is not there).
    fn read(&self, t: Target, ty: TypeId) -> Result<Value, RuleId> {
        let types = &self.module.types;
        match t {
            Target::Loc(l) => Ok(self.mem.load(types, l, ty)),
            Target::Pinned(o, off) => Ok(memory::decode(
                types,
                self.mem.objs[o as usize].bytes.bytes(),
                off,
                ty,
            )),
            Target::Native(addr) => {
                let mut buf = vec![0u8; layout::layout(types, ty).size as usize];
                if !native::read(addr, &mut buf) {
                    return Err(RuleId::PtrUnmapped);
                }
                Ok(memory::decode(types, &buf, 0, ty))
            }
        }
    }

    /// Writes a value of type `ty` at a target.
    fn write(&mut self, t: Target, ty: TypeId, v: &Value) -> Result<(), RuleId> {
        let types = &self.module.types;
        match t {
            Target::Loc(l) => self.mem.store(types, l, ty, v),
            Target::Pinned(o, off) => memory::encode(
                types,
                self.mem.objs[o as usize].bytes.bytes_mut(),
                off,
                ty,
                v,
            ),
            Target::Native(addr) => {
                let mut buf = vec![0u8; layout::layout(types, ty).size as usize];
                memory::encode(types, &mut buf, 0, ty, v);
                if !native::write(addr, &buf) {
                    return Err(RuleId::PtrUnmapped);
                }
            }
        }
        Ok(())
    }

    /// `pin.pin`: one more instance of the location in the pin multiset; the
    /// result is its address (0 for NULL).
    fn pin(&mut self, x: Operand, r: &[u32]) -> R<Step> {
        let key = self.pin_key(x)?;
        match self.pin_loc(key) {
            Ok(addr) => {
                self.set(r, 0, Value::Ptr(addr));
                self.next(&None, RuleId::Pin)
            }
            Err(u) => Self::end(u, Outcome::Ub(u)),
        }
    }

    fn pin_key(&self, x: Operand) -> R<Option<Loc>> {
        match self.val(x)? {
            Value::Ref(o) => Ok(o.map(|obj| Loc { obj, off: 0 })),
            Value::IRef(l) => Ok(l),
            _ => Err(ModelError::Bug("pin of a non-reference".into())),
        }
    }

    /// Pins a location (from Mu or from the client): its address, or the UB.
    pub(super) fn pin_loc(&mut self, key: Option<Loc>) -> Result<u64, RuleId> {
        let addr = match key {
            None => 0,
            Some(l) => {
                let obj = &mut self.mem.objs[l.obj as usize];
                if !obj.live {
                    return Err(RuleId::DeadAlloca);
                }
                obj.pins += 1;
                obj.exposed = true;
                obj.bytes.addr() + l.off
            }
        };
        *self.pins.entry(key).or_insert(0) += 1;
        if self.trace.is_some() {
            let loc = self.loc_out(key);
            self.record(NativeEvent::Pin(loc));
        }
        Ok(addr)
    }

    /// `pin.unpin`, `pin.unmatched-unpin`: one instance fewer; an object whose last
    /// pin goes moves, so its old address is stale from now on.
    fn unpin(&mut self, x: Operand) -> R<Step> {
        let key = self.pin_key(x)?;
        match self.unpin_loc(key) {
            Ok(()) => self.next(&None, RuleId::Unpin),
            Err(u) => Self::end(u, Outcome::Ub(u)),
        }
    }

    /// Unpins a location (from Mu or from the client), or the UB.
    pub(super) fn unpin_loc(&mut self, key: Option<Loc>) -> Result<(), RuleId> {
        match self.pins.get_mut(&key) {
            Some(n) if *n > 0 => *n -= 1,
            _ => return Err(RuleId::UnmatchedUnpin),
        }
        if self.pins.get(&key) == Some(&0) {
            self.pins.remove(&key);
        }
        if self.trace.is_some() {
            let loc = self.loc_out(key);
            self.record(NativeEvent::Unpin(loc));
        }
        if let Some(l) = key {
            let obj = &mut self.mem.objs[l.obj as usize];
            obj.pins -= 1;
            if obj.pins == 0 && obj.live {
                self.mem.relocate(l.obj);
            }
        }
        Ok(())
    }

    /// `mem.getfieldiref` and friends: adds a byte offset to an iref (checked to stay
    /// in the object, `mem.out-of-bounds`) or to a pointer (plain arithmetic).
    fn navigate(
        &mut self,
        ptr: bool,
        x: Operand,
        rule: RuleId,
        r: &[u32],
        delta: impl FnOnce(&Memory, Loc) -> Result<i128, RuleId>,
    ) -> R<Step> {
        let v = match self.val(x)? {
            Value::Ptr(p) => {
                let d = delta(&self.mem, Loc { obj: 0, off: 0 }).unwrap_or(0);
                Value::Ptr((i128::from(p) + d) as u64)
            }
            Value::IRef(Some(l)) if !ptr => {
                let d = match delta(&self.mem, l) {
                    Ok(d) => d,
                    Err(u) => return Self::end(u, Outcome::Ub(u)),
                };
                let off = i128::from(l.off) + d;
                let size = i128::from(self.mem.end(&self.module.types, l.obj));
                if !self.mem.objs[l.obj as usize].live {
                    return Self::end(RuleId::DeadAlloca, Outcome::Ub(RuleId::DeadAlloca));
                }
                if off < 0 || off > size {
                    return Self::end(RuleId::OutOfBounds, Outcome::Ub(RuleId::OutOfBounds));
                }
                Value::IRef(Some(Loc {
                    obj: l.obj,
                    off: off as u64,
                }))
            }
            _ => return Self::end(RuleId::NullNavigation, Outcome::Ub(RuleId::NullNavigation)),
        };
        self.set(r, 0, v);
        self.next(&None, rule)
    }

    /// `mem.new`, `mem.new-hybrid`, `mem.alloca`, `mem.alloca-hybrid`, `mem.alloc-exc`,
    /// `mem.alloc-exhausted`.
    fn alloc(
        &mut self,
        ty: TypeId,
        len: Option<Operand>,
        exc: &Option<Exc>,
        r: &[u32],
        space: Space,
    ) -> R<Step> {
        let n = match len {
            Some(l) => self.val(l)?.bits(),
            None => 0,
        };
        let size = layout::alloc_size(&self.module.types, ty, n);
        if size > self.alloc_left {
            return self.fail(
                exc,
                RuleId::AllocExc,
                RuleId::AllocExhausted,
                Outcome::Exhausted(Budget::Alloc),
            );
        }
        self.alloc_left -= size;
        let obj = self.mem.alloc(&self.module.types, ty, n, space);
        let (v, rule) = match (space, len.is_some()) {
            (Space::Stack, hybrid) => {
                self.frame().allocas.push(obj);
                (
                    Value::IRef(Some(Loc { obj, off: 0 })),
                    if hybrid {
                        RuleId::AllocaHybrid
                    } else {
                        RuleId::Alloca
                    },
                )
            }
            (_, hybrid) => (
                Value::Ref(Some(obj)),
                if hybrid {
                    RuleId::NewHybrid
                } else {
                    RuleId::New
                },
            ),
        };
        self.set(r, 0, v);
        self.next(exc, rule)
    }

    fn callee(&self, c: Operand) -> R<Option<FuncId>> {
        match self.val(c)? {
            Value::FuncRef(f) => Ok(f),
            _ => Err(ModelError::Bug("call of a non-funcref".into())),
        }
    }

    /// `call.call`, `call.null-callee`, `call.stack-exc`, `call.stack-exhausted`.
    fn call(&mut self, callee: Operand, args: &[Operand], exc: &Option<Exc>) -> R<Step> {
        let Some(f) = self.callee(callee)? else {
            return Self::end(RuleId::CallNull, Outcome::Trap(TrapCode::NullCall));
        };
        if self.frames.len() >= self.stack_max as usize {
            return self.fail(
                exc,
                RuleId::CallStackExc,
                RuleId::CallStackExhausted,
                Outcome::Exhausted(Budget::Stack),
            );
        }
        let args = self.vals(args)?;
        self.push_frame(f, args, RuleId::Call)
    }

    fn push_frame(&mut self, f: FuncId, args: Vec<Value>, rule: RuleId) -> R<Step> {
        self.push_frame_from(f, args, rule, None)
    }

    /// Pushes a frame for `f`; `cookie` is set when native code called it.
    fn push_frame_from(
        &mut self,
        f: FuncId,
        args: Vec<Value>,
        rule: RuleId,
        cookie: Option<u64>,
    ) -> R<Step> {
        let m = self.module;
        let func = &m.funcs[f as usize];
        let Some(body) = &func.body else {
            if func.unsupported.is_some() || self.client.is_none() {
                return Err(not_runnable(func));
            }
            return self.undefined_function(f, args, rule, cookie);
        };
        self.frames.push(Frame::at_entry(f, body, false, cookie));
        Ok(self.enter_as(0, args, None, rule))
    }

    fn pop_frame(&mut self) -> Option<Frame<'m>> {
        let fr = self.frames.pop()?;
        for a in &fr.allocas {
            self.mem.kill(*a);
        }
        Some(fr)
    }

    /// `call.tailcall`.
    fn tailcall(&mut self, callee: Operand, args: &[Operand]) -> R<Step> {
        let Some(f) = self.callee(callee)? else {
            return Self::end(RuleId::CallNull, Outcome::Trap(TrapCode::NullCall));
        };
        let args = self.vals(args)?;
        let cookie = self.pop_frame().and_then(|fr| fr.cookie);
        self.push_frame_from(f, args, RuleId::TailCall, cookie)
    }

    /// `call.ret`, `call.ret-top`.
    fn ret(&mut self, vs: &[Operand]) -> R<Step> {
        let vals = self.vals(vs)?;
        let Some(fr) = self.pop_frame() else {
            return Err(ModelError::Bug("RET with no frame".into()));
        };
        if fr.cookie.is_some() {
            // Native code called this function: the values go back to it, which
            // the host can do only for the innermost callback.
            if self.native_calls.last() != Some(&(self.stack, self.frames.len())) {
                return Err(ModelError::Unsupported {
                    code: "native-interface",
                    message: "a callback returning to C frames entered before another \
                              stack's (the model runs C on the host's stack: spec/12 §12.7)"
                        .into(),
                });
            }
            self.callback_return = Some(vals);
            return Ok(Step {
                rule: RuleId::CallbackReturn,
                outcome: None,
            });
        }
        if self.frames.is_empty() {
            if self.stack != self.first_stack {
                return Self::end(RuleId::BottomReturn, Outcome::Ub(RuleId::BottomReturn));
            }
            let m = self.module;
            let rets = &m.types.sig(m.funcs[fr.func as usize].sig).rets;
            let out = rets
                .iter()
                .zip(&vals)
                .map(|(t, v)| self.out(*t, v))
                .collect();
            return Self::end(RuleId::RetTop, Outcome::Return(out));
        }
        let Some(call) = self.current() else {
            return Err(ModelError::Bug("return to nowhere".into()));
        };
        // A CALL, or a TRAP under a frame the client pushed (spec/11), whose
        // results `push_frame` checked.
        let (Op::Call { exc, .. } | Op::Trap { exc, .. }) = &call.op else {
            return Err(ModelError::Bug("return to a non-CALL".into()));
        };
        for (i, v) in vals.into_iter().enumerate() {
            self.set(&call.results, i, v);
        }
        if let (Op::Trap { watch: Some(w), .. }, None) = (&call.op, exc) {
            // A WATCHPOINT without WPEXC goes on to `ena`.
            return self.goto(&w.ena, None, RuleId::Ret);
        }
        self.next(exc, RuleId::Ret)
    }

    /// `exc.throw`, `exc.uncaught`: unwinds to the nearest CALL with an exception clause.
    fn throw(&mut self, e: Value) -> R<Step> {
        loop {
            if self.pop_frame().is_some_and(|fr| fr.cookie.is_some()) {
                return Self::end(
                    RuleId::ThrowIntoNative,
                    Outcome::Trap(TrapCode::ExceptionIntoNative),
                );
            }
            let Some(call) = self.current() else {
                if self.stack != self.first_stack {
                    return Self::end(RuleId::BottomReturn, Outcome::Ub(RuleId::BottomReturn));
                }
                return Self::end(
                    RuleId::ThrowUncaught,
                    Outcome::Trap(TrapCode::UncaughtException),
                );
            };
            if let Op::Call { exc: Some(x), .. } | Op::Trap { exc: Some(x), .. } = &call.op {
                return self.goto(&x.exc, Some(e), RuleId::Throw);
            }
        }
    }

    /// The Mu function an exposure at `code` runs.
    fn exposed_func(&self, code: u64) -> Option<FuncId> {
        self.exposures
            .get(&code)
            .or_else(|| {
                self.static_exposes
                    .iter()
                    .flatten()
                    .find(|x| x.code() == code)
            })
            .map(|x| x.func())
    }

    /// A pinned location as it appears in the native trace.
    fn loc_out(&self, l: Option<Loc>) -> OutValue {
        OutValue::IRef(l.map(|l| {
            let base = match self.mem.objs[l.obj as usize].space {
                Space::Global(g) => {
                    IRefBase::Global(self.module.globals[g as usize].name.as_str().to_string())
                }
                _ => IRefBase::Obj(l.obj),
            };
            (base, l.off)
        }))
    }

    /// A value as it appears in an outcome.
    pub fn out(&self, ty: TypeId, v: &Value) -> OutValue {
        let t = &self.module.types;
        match (t.get(ty), v) {
            (Type::Int(n), Value::Int(b)) => OutValue::Int {
                width: *n,
                bits: *b,
            },
            (_, Value::Float(f)) => OutValue::Float(f.to_bits()),
            (_, Value::Double(d)) => OutValue::Double(d.to_bits()),
            (_, Value::Ref(o)) => OutValue::Ref(*o),
            (_, Value::IRef(l)) => OutValue::IRef(l.map(|l| {
                let base = match self.mem.objs[l.obj as usize].space {
                    Space::Global(g) => {
                        IRefBase::Global(self.module.globals[g as usize].name.as_str().to_string())
                    }
                    _ => IRefBase::Obj(l.obj),
                };
                (base, l.off)
            })),
            (_, Value::FuncRef(f)) => OutValue::FuncRef(
                f.map(|f| self.module.funcs[f as usize].name.as_str().to_string()),
            ),
            (_, Value::Ptr(p)) => match self.mem.place(*p) {
                Place::Obj(o, off) => match self.mem.objs[o as usize].space {
                    Space::Global(g) => OutValue::GlobalPtr(
                        self.module.globals[g as usize].name.as_str().to_string(),
                        off,
                    ),
                    _ => OutValue::MuPtr(o, off),
                },
                _ => match self.exposed_func(*p) {
                    Some(f) => {
                        OutValue::Exposed(self.module.funcs[f as usize].name.as_str().to_string())
                    }
                    None => OutValue::Ptr(*p),
                },
            },
            (Type::Struct(fs), Value::Agg(vs)) => OutValue::Agg(
                fs.iter()
                    .zip(vs.iter())
                    .map(|(f, v)| self.out(*f, v))
                    .collect(),
            ),
            (Type::Array(e, _), Value::Agg(vs)) => {
                OutValue::Agg(vs.iter().map(|v| self.out(*e, v)).collect())
            }
            (_, Value::Int(b)) => OutValue::Int {
                width: 64,
                bits: *b,
            },
            (_, Value::Agg(vs)) => OutValue::Agg(vs.iter().map(|v| self.out(ty, v)).collect()),
            (_, Value::Stack(s)) => OutValue::Stack(*s),
            (_, Value::Thread(t)) => OutValue::Thread(*t),
        }
    }

    /// The value of global cell `g` now, as outcomes print values (the state a
    /// conformance script's `after: @g == V` checks).
    pub fn global_out(&self, g: u32) -> OutValue {
        let ty = self.module.globals[g as usize].ty;
        let loc = Loc {
            obj: self.globals[g as usize],
            off: 0,
        };
        self.out(ty, &self.mem.load(&self.module.types, loc, ty))
    }

    /// The contents of the object `v` refers to (`after: @g -> V`): its value, or
    /// for a hybrid its fixed fields followed by the variable part as one
    /// aggregate. `None` if `v` is not a reference to a live object.
    pub fn object_out(&self, v: &OutValue) -> Option<OutValue> {
        let (OutValue::Ref(Some(obj)) | OutValue::IRef(Some((IRefBase::Obj(obj), 0)))) = v else {
            return None;
        };
        let o = self.mem.objs.get(*obj as usize).filter(|o| o.live)?;
        let types = &self.module.types;
        let at = |off: u64, ty: TypeId| {
            let loc = Loc { obj: *obj, off };
            self.out(ty, &self.mem.load(types, loc, ty))
        };
        Some(match types.get(o.ty) {
            Type::Hybrid(fs, var) => {
                let mut parts: Vec<OutValue> = layout::fields(types, fs)
                    .zip(fs)
                    .map(|((off, _), f)| at(off, *f))
                    .collect();
                let (_, var_off) = layout::hybrid_layout(types, fs, *var, o.var_len);
                let size = layout::layout(types, *var).size;
                parts.push(OutValue::Agg(
                    (0..o.var_len)
                        .map(|i| at(var_off + i * size, *var))
                        .collect(),
                ));
                OutValue::Agg(parts)
            }
            _ => at(0, o.ty),
        })
    }

    fn operand_out(&self, o: Operand) -> R<OutValue> {
        let m = self.module;
        let ty = match o {
            Operand::Local(s) => self.body().slot_types[s as usize],
            Operand::Const(c) => m.consts[c as usize].ty,
            Operand::Global(_) | Operand::Func(_) | Operand::Expose(_) => 0,
        };
        Ok(self.out(ty, &self.val(o)?))
    }
}

/// Converts a client-supplied literal to a value of type `t` (`muni run` arguments).
pub fn literal_value(
    m: &Module,
    t: TypeId,
    lit: &crate::syntax::ast::ConstCtor,
) -> Result<Value, String> {
    use crate::syntax::ast::ConstCtor as C;
    let types = &m.types;
    match (types.get(t), lit) {
        (Type::Int(n), C::Int(i)) => {
            let (lo, hi) = (-(1i128 << (n - 1)), (1i128 << n) - 1);
            if *i < lo || *i > hi {
                return Err(format!("{i} does not fit in int<{n}>"));
            }
            Ok(Value::Int(*i as u64 & value::mask(*n)))
        }
        (Type::UPtr(_) | Type::UFuncPtr(_), C::Int(i)) => Ok(Value::Ptr(*i as u64)),
        (Type::Float, C::Float(b)) => Ok(Value::Float(f32::from_bits(*b))),
        (Type::Double, C::Double(b)) => Ok(Value::Double(f64::from_bits(*b))),
        (_, C::Null) => Ok(null_value(types, t)),
        _ => Err(format!("this literal is not a value of {}", types.show(t))),
    }
}

/// The zero value of a type: 0, +0.0, NULL, or an aggregate of zeros (what fresh
/// memory holds).
pub fn zero_value(types: &Types, t: TypeId) -> Value {
    match types.get(t) {
        Type::Int(_) => Value::Int(0),
        Type::Float => Value::Float(0.0),
        Type::Double => Value::Double(0.0),
        Type::Struct(fs) => Value::Agg(fs.iter().map(|f| zero_value(types, *f)).collect()),
        Type::Array(e, n) => Value::Agg(
            (0..(*n).min(1 << 16))
                .map(|_| zero_value(types, *e))
                .collect(),
        ),
        _ => null_value(types, t),
    }
}
