//! The client's side of a run: what the language runtime above the VM answers when
//! a thread traps to it (uvm-client-interface.rest, "Trap Handling"; spec/11).
//!
//! Both engines take the same [`TrapHandler`], so one piece of client code drives
//! the model and the fast VM alike. At each `TRAP` the engine hands the handler a
//! [`TrapEvent`] (the trap's name and its `KEEPALIVE` values, as the outcome line
//! shows them) and does what the [`TrapAnswer`] says: rebind the thread to its
//! stack passing values (`MU_REBIND_PASS_VALUES`: the TRAP's results), rebind it
//! throwing an exception (`MU_REBIND_THROW_EXC`), end the thread
//! (`MU_THREAD_EXIT`), or stop the run there, which is what the simplest client,
//! [`EndAtFirstTrap`], does: the run's outcome is `client_trap NAME V…`.

use crate::ir::FuncId;
use crate::outcome::OutValue;

/// A Mu ID (uvm-client-interface.rest, "Identifiers"): every name a bundle
/// defines has one, given in load order from 1; 0 is no entity.
pub type MuId = u32;

/// A value the client context holds for the client (`MuValue`): made by the
/// context's functions, valid until the handler returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle(pub u32);

/// A frame cursor (`MuFCRefValue`), made by [`MuCtx::new_cursor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cursor(pub u32);

/// A client interface call that could not be done: a stable code and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientError {
    /// The code (`client.no-such-id`, `client.bad-handle`, a load error's code...).
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
}

impl ClientError {
    /// An error with this code.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ClientError {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ClientError {}

/// What a client interface call gives.
pub type CResult<T> = Result<T, ClientError>;

/// The binary operations of `atomicrmw` (`MuBinOptr`): those of `ATOMICRMW`.
pub use crate::syntax::ast::RmwOp as AtomicRmwOp;

/// The values or cursors a client context holds, by number (`Handle`, `Cursor`).
#[derive(Clone, Debug)]
pub struct Table<T>(Vec<Option<T>>);

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table(Vec::new())
    }
}

impl<T> Table<T> {
    /// Keeps `x`; its number.
    pub fn push(&mut self, x: T) -> u32 {
        self.0.push(Some(x));
        u32::try_from(self.0.len() - 1).unwrap_or(u32::MAX)
    }

    /// The entry `k`, if it is there.
    pub fn get(&self, k: u32) -> Option<&T> {
        self.0.get(k as usize).and_then(Option::as_ref)
    }

    /// Replaces entry `k`, if it is there.
    pub fn set(&mut self, k: u32, x: T) {
        if let Some(Some(e)) = self.0.get_mut(k as usize) {
            *e = x;
        }
    }

    /// Drops entry `k`.
    pub fn remove(&mut self, k: u32) {
        if let Some(e) = self.0.get_mut(k as usize) {
            *e = None;
        }
    }

    /// Every entry, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.0.iter_mut().flatten()
    }

    /// Drops the entries `keep` refuses.
    pub fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        for e in &mut self.0 {
            if e.as_ref().is_some_and(|x| !keep(x)) {
                *e = None;
            }
        }
    }
}

/// The part of the client interface that does not depend on how an engine holds
/// values: both engines' contexts answer through these, so they refuse the same
/// calls with the same codes and compute the same steps.
pub mod shared {
    use super::{CResult, ClientError, MuId};
    use crate::ir::{Module, Type, TypeId, Types};
    use crate::layout;

    fn err<T>(code: &'static str, message: impl Into<String>) -> CResult<T> {
        Err(ClientError::new(code, message))
    }

    /// The type an ID names.
    pub fn type_of(m: &Module, id: MuId) -> CResult<TypeId> {
        m.name_of(id).and_then(|n| m.types.named(&n)).map_or_else(
            || err("client.no-such-type", format!("ID {id} is not a type")),
            Ok,
        )
    }

    /// A value of type `have` may go where `want` is (`store`, `cmpxchg`,
    /// `atomicrmw`): the same type, or `client.type-mismatch`. The handles of
    /// functions and exposures carry no type (`have` 0, in both engines) and are
    /// not checked.
    pub fn storable(types: &Types, have: TypeId, want: TypeId) -> CResult<()> {
        if have == 0 || types.same(have, want) {
            Ok(())
        } else {
            Err(ClientError::new(
                "client.type-mismatch",
                format!("a {} where a {} goes", types.show(have), types.show(want)),
            ))
        }
    }

    /// A type of this form the bundles define (for values the client makes).
    pub fn type_like(types: &Types, want: &Type) -> CResult<TypeId> {
        match types.types.iter().position(|t| t == want) {
            Some(i) => Ok(i as TypeId),
            None => err(
                "client.no-such-type",
                format!("the bundles have no type {want:?}"),
            ),
        }
    }

    /// The type `new_fixed` of ID `id` allocates.
    pub fn fixed_type(m: &Module, id: MuId) -> CResult<TypeId> {
        let t = type_of(m, id)?;
        if matches!(m.types.get(t), Type::Hybrid(..) | Type::Void) {
            return err("client.type-mismatch", "new_fixed of a hybrid or void");
        }
        Ok(t)
    }

    /// The type `new_hybrid` of ID `id` allocates.
    pub fn hybrid_type(m: &Module, id: MuId) -> CResult<TypeId> {
        let t = type_of(m, id)?;
        if !matches!(m.types.get(t), Type::Hybrid(..)) {
            return err(
                "client.type-mismatch",
                "new_hybrid of a type that is not a hybrid",
            );
        }
        Ok(t)
    }

    /// `get_field_iref` on an iref to a `ty`: the byte step and the field's type.
    pub fn field_step(types: &Types, ty: TypeId, field: usize) -> CResult<(i128, TypeId)> {
        let (Type::Struct(fs) | Type::Hybrid(fs, _)) = types.get(ty) else {
            return err("client.type-mismatch", "get_field_iref of a non-struct");
        };
        let Some(f) = fs.get(field) else {
            return err("client.bad-index", format!("no field {field}"));
        };
        Ok((i128::from(layout::field_offset(types, fs, field)), *f))
    }

    /// `get_elem_iref`: the step to element `index` of an array `ty`, and the
    /// element type (an index past the end is `mem.out-of-bounds`).
    pub fn elem_step(types: &Types, ty: TypeId, index: u64) -> CResult<(i128, TypeId)> {
        let Type::Array(e, n) = *types.get(ty) else {
            return err("client.type-mismatch", "get_elem_iref of a non-array");
        };
        if index >= n {
            return err("client.undefined-behaviour", "mem.out-of-bounds");
        }
        let es = layout::layout(types, e).size;
        Ok((i128::from(index) * i128::from(es), e))
    }

    /// `shift_iref`: the step of `offset` elements of type `ty`.
    pub fn shift_step(types: &Types, ty: TypeId, offset: i64) -> (i128, TypeId) {
        let size = layout::layout(types, ty).size;
        (i128::from(offset) * i128::from(size), ty)
    }

    /// `get_var_part_iref` on an iref to a hybrid `ty`: the step to its variable
    /// part and the element type.
    pub fn var_part_step(types: &Types, ty: TypeId) -> CResult<(i128, TypeId)> {
        let Type::Hybrid(fs, v) = types.get(ty) else {
            return err("client.type-mismatch", "get_var_part_iref of a non-hybrid");
        };
        let (_, var_off) = layout::hybrid_layout(types, fs, *v, 0);
        Ok((i128::from(var_off), *v))
    }
}

/// The VM as the client holds it between runs (`MuVM`, uvm-client-interface.rest):
/// both engines implement it, so the same client code sets up either. A client
/// context (`MuCtx`) exists while a trap handler runs; `new_context` outside a
/// trap comes with threads and stacks.
pub trait MuVM {
    /// `id_of`: the ID of a name.
    fn id_of(&self, name: &str) -> Option<MuId>;
    /// `name_of`: the name of an ID.
    fn name_of(&self, id: MuId) -> Option<String>;
    /// `set_trap_handler`: the handler every trap of the runs to come calls
    /// (`None`: the first trap stops the run).
    fn set_trap_handler(&mut self, handler: Option<Box<dyn TrapHandler>>);
}

/// The client context a trap handler is given (`MuCtx`, uvm-client-interface.rest):
/// the VM as the client sees it while the thread that trapped is unbound from its
/// stack. Both engines implement it, so one handler drives either. Only one thread
/// runs, so every memory order behaves as `SEQ_CST` and none is taken.
pub trait MuCtx {
    /// `id_of`: the ID of a name (`@f`, `@f.v1.entry.t`).
    fn id_of(&self, name: &str) -> Option<MuId>;
    /// `name_of`: the name of an ID.
    fn name_of(&self, id: MuId) -> Option<String>;
    /// `load_bundle`: loads a text bundle after every one so far, all or nothing.
    /// Calls that start after it run the versions it defines; live frames keep
    /// theirs. A conflict is an error with the verifier's code (`duplicate-name`,
    /// `signature-mismatch`...).
    fn load_bundle(&mut self, name: &str, text: &str) -> CResult<()>;

    /// `handle_from_sint*`/`uint*`, `handle_from_ptr`/`fp`: a value of the
    /// integer or pointer type `ty` from its low bits.
    fn handle_from_int(&mut self, ty: MuId, bits: u64) -> CResult<Handle>;
    /// `handle_from_sint8(num, len)` … `handle_from_uint64` of muapi.h: an
    /// `int<len>` from the low bits, of whichever `int<len>` type the bundles
    /// have (`client.type-mismatch` if none).
    fn handle_from_int_len(&mut self, len: u32, bits: u64) -> CResult<Handle>;
    /// `handle_from_float`.
    fn handle_from_float(&mut self, v: f32) -> CResult<Handle>;
    /// `handle_from_double`.
    fn handle_from_double(&mut self, v: f64) -> CResult<Handle>;
    /// `handle_from_const`, `handle_from_global` (the cell's `iref`),
    /// `handle_from_func` (a `funcref`), `handle_from_expose`: the value of a
    /// named constant, global cell, function or static exposure.
    fn handle_from_id(&mut self, id: MuId) -> CResult<Handle>;
    /// `NULL` of the reference type `ty` (`ref`, `iref`, `funcref`).
    fn null(&mut self, ty: MuId) -> CResult<Handle>;
    /// `handle_to_sint*`/`uint*`/`ptr`/`fp`: the bits of an integer or pointer.
    fn handle_to_int(&self, h: Handle) -> CResult<u64>;
    /// `handle_to_float`, `handle_to_double` (a float widens).
    fn handle_to_double(&self, h: Handle) -> CResult<f64>;
    /// The value as an outcome line shows it (objects numbered by the engine).
    fn show(&self, h: Handle) -> CResult<OutValue>;
    /// `ref_eq`: two references (`ref`, `iref`, `funcref`) are the same.
    fn ref_eq(&self, a: Handle, b: Handle) -> CResult<bool>;
    /// `delete_value`: the handle goes.
    fn delete_value(&mut self, h: Handle);

    /// `new_fixed`: a heap object of the fixed-size type `ty` (an allocation as `NEW`
    /// makes: the allocation budget applies).
    fn new_fixed(&mut self, ty: MuId) -> CResult<Handle>;
    /// `new_hybrid`: a hybrid with `len` elements in its variable part.
    fn new_hybrid(&mut self, ty: MuId, len: u64) -> CResult<Handle>;
    /// `get_iref`: the `iref` of an object's start.
    fn get_iref(&mut self, r: Handle) -> CResult<Handle>;
    /// `get_field_iref`: a struct or hybrid field.
    fn get_field_iref(&mut self, ir: Handle, field: usize) -> CResult<Handle>;
    /// `get_elem_iref`: an array element.
    fn get_elem_iref(&mut self, ir: Handle, index: u64) -> CResult<Handle>;
    /// `shift_iref`: `offset` elements on.
    fn shift_iref(&mut self, ir: Handle, offset: i64) -> CResult<Handle>;
    /// `get_var_part_iref`: a hybrid's first variable element.
    fn get_var_part_iref(&mut self, ir: Handle) -> CResult<Handle>;
    /// `load` through an `iref`.
    fn load(&mut self, ir: Handle) -> CResult<Handle>;
    /// `store` through an `iref`.
    fn store(&mut self, ir: Handle, v: Handle) -> CResult<()>;
    /// `cmpxchg` (strong): the old value, and whether it was `expected` and
    /// became `desired`.
    fn cmpxchg(&mut self, ir: Handle, expected: Handle, desired: Handle)
    -> CResult<(Handle, bool)>;
    /// `atomicrmw`: the old value.
    fn atomicrmw(&mut self, op: AtomicRmwOp, ir: Handle, v: Handle) -> CResult<Handle>;

    /// `pin`: adds the location (`ref` or `iref`) to the trapping thread's pin
    /// multiset and gives its address (`uptr`).
    fn pin(&mut self, r: Handle) -> CResult<Handle>;
    /// `unpin`: removes one instance of the location.
    fn unpin(&mut self, r: Handle) -> CResult<()>;
    /// `expose` (`MU_CC_DEFAULT`): a C function pointer that calls `func` with
    /// `cookie`.
    fn expose(&mut self, func: Handle, cookie: u64) -> CResult<Handle>;
    /// `unexpose`: the pointer stops being valid.
    fn unexpose(&mut self, ptr: Handle) -> CResult<()>;

    /// `new_cursor`: a cursor at the top frame of the trapping stack.
    fn new_cursor(&mut self) -> CResult<Cursor>;
    /// `next_frame`: the cursor moves to the frame below.
    fn next_frame(&mut self, c: Cursor) -> CResult<()>;
    /// `copy_cursor`.
    fn copy_cursor(&mut self, c: Cursor) -> CResult<Cursor>;
    /// `close_cursor`.
    fn close_cursor(&mut self, c: Cursor) -> CResult<()>;
    /// `cur_func`: the frame's function (0 for a native frame).
    fn cur_func(&self, c: Cursor) -> CResult<MuId>;
    /// `cur_func_ver`: the frame's version (0 for a native frame or an undefined
    /// function's hidden version).
    fn cur_func_ver(&self, c: Cursor) -> CResult<MuId>;
    /// `cur_inst`: the frame's current instruction (0 for a frame just pushed,
    /// an undefined function's, or a native one).
    fn cur_inst(&self, c: Cursor) -> CResult<MuId>;
    /// `dump_keepalives`: the `KEEPALIVE` values of the frame's current
    /// instruction (an undefined function's arguments).
    fn dump_keepalives(&mut self, c: Cursor) -> CResult<Vec<Handle>>;

    /// `pop_frames_to`: every frame above the cursor's goes; the thread then
    /// resumes that frame at its CALL, with the answer's values as the call's
    /// results (or the answer's exception thrown there).
    fn pop_frames_to(&mut self, c: Cursor) -> CResult<()>;
    /// `push_frame`: a new frame of the current version of `func` (a `funcref`)
    /// on top; the answer's values are its arguments.
    fn push_frame(&mut self, func: Handle) -> CResult<()>;

    /// `new_stack`: a stack whose bottom frame will run the function `func` (a
    /// funcref handle) from its start, `READY` with its parameter types; the
    /// handle is a `stackref`.
    fn new_stack(&mut self, func: Handle) -> CResult<Handle>;
    /// `new_thread_nor` / `new_thread_exc` (with a NULL thread-local): a thread
    /// bound to `stack`, which must be `READY`, passing it values of its
    /// parameter types or throwing it an exception; the handle is a `threadref`.
    /// One thread runs at a time: it starts when the threads before it have
    /// ended, the run's own first (`client.new-thread`).
    fn new_thread(&mut self, stack: Handle, how: NewThread) -> CResult<Handle>;
    /// `kill_stack`: a `READY` stack becomes `DEAD`.
    fn kill_stack(&mut self, stack: Handle) -> CResult<()>;

    /// `enable_watchpoint`: every `WATCHPOINT` and `WPBRANCH` of this ID is
    /// enabled from now on in this run.
    fn enable_watchpoint(&mut self, wpid: u64);
    /// `disable_watchpoint`: they are disabled again.
    fn disable_watchpoint(&mut self, wpid: u64);
}

/// How a thread the client makes starts (`new_thread_nor`, `new_thread_exc`).
#[derive(Clone, Debug, PartialEq)]
pub enum NewThread {
    /// Pass these values, of the bottom function's parameter types.
    PassValues(Vec<ClientValue>),
    /// Throw this reference: the bottom frame, which has not started, re-throws
    /// it, and the thread ends with `trap uncaught_exception`.
    ThrowExc(ClientValue),
}

/// The state of a stack the client made (threads-stacks.rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackState {
    /// Its bottom frame waits for a thread.
    Ready,
    /// A thread is bound to it.
    Active,
    /// Killed.
    Dead,
}

/// What a thread the client made starts with, in an engine's values `V`.
#[derive(Clone, Debug)]
pub enum Start<V> {
    /// The bottom function's arguments.
    Values(Vec<V>),
    /// The exception thrown to it.
    Exc(V),
}

/// A thread waiting for the threads before it to end.
#[derive(Clone, Debug)]
pub struct Pending<V> {
    /// The bottom function of its stack.
    pub func: FuncId,
    /// How it starts.
    pub start: Start<V>,
}

/// The stacks and threads the client made in one run (spec/11 §11.7), kept by
/// each engine with its own values `V`; the bookkeeping and its errors are the
/// same in both.
#[derive(Clone, Debug)]
pub struct Threads<V> {
    stacks: Vec<(FuncId, StackState)>,
    /// The threads made and not started, first made first.
    pub pending: std::collections::VecDeque<Pending<V>>,
    made: u32,
}

impl<V> Default for Threads<V> {
    fn default() -> Self {
        Threads {
            stacks: Vec::new(),
            pending: std::collections::VecDeque::new(),
            made: 0,
        }
    }
}

impl<V> Threads<V> {
    /// A new `READY` stack for `func`: its number.
    pub fn new_stack(&mut self, func: FuncId) -> u32 {
        self.stacks.push((func, StackState::Ready));
        (self.stacks.len() - 1) as u32
    }

    /// The bottom function of stack `s`, which must be `READY` (Mu: binding a
    /// stack in another state is undefined; the client gets an error).
    pub fn ready(&self, s: u32) -> CResult<FuncId> {
        match self.stacks.get(s as usize) {
            Some((f, StackState::Ready)) => Ok(*f),
            Some((_, state)) => Err(ClientError::new(
                "client.stack-not-ready",
                format!("the stack is {state:?}, not READY"),
            )),
            None => Err(ClientError::new("client.bad-handle", "no such stack")),
        }
    }

    /// Binds a new thread to `READY` stack `s`: it waits to start. Its number.
    pub fn bind(&mut self, s: u32, start: Start<V>) -> CResult<u32> {
        let func = self.ready(s)?;
        self.stacks[s as usize].1 = StackState::Active;
        self.pending.push_back(Pending { func, start });
        self.made += 1;
        Ok(self.made)
    }

    /// `kill_stack` of `READY` stack `s`.
    pub fn kill(&mut self, s: u32) -> CResult<()> {
        self.ready(s)?;
        self.stacks[s as usize].1 = StackState::Dead;
        Ok(())
    }

    /// The next thread to start, if any.
    pub fn next_to_start(&mut self) -> Option<Pending<V>> {
        self.pending.pop_front()
    }
}

/// A value the client passes into the VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientValue {
    /// An integer or pointer of the receiving type (its low bits).
    Int(u64),
    /// A `float`'s bits.
    Float(u32),
    /// A `double`'s bits.
    Double(u64),
    /// `NULL` of the receiving reference type.
    Null,
    /// The trap's `KEEPALIVE` value at this index, handed back as it is (an object
    /// reference the client holds through the trap).
    Kept(usize),
    /// A value the client context holds.
    Handle(Handle),
}

/// What the thread does after its trap.
#[derive(Clone, Debug, PartialEq)]
pub enum TrapAnswer {
    /// Continue after the TRAP with these values as its results
    /// (`client.trap-resume`).
    Resume(Vec<ClientValue>),
    /// Throw this reference at the TRAP: to its exception clause, or up the stack
    /// like a THROW (`client.trap-throw`).
    Throw(ClientValue),
    /// End the thread: the run returns no values (`client.trap-exit`).
    ExitThread,
    /// Stop the run at the trap: the outcome is `client_trap NAME V…`.
    Stop,
}

/// What called the trap handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TrapKind {
    /// A `TRAP` instruction.
    #[default]
    Trap,
    /// A call of a function with no version: the hidden version's trap
    /// (uvm-ir.rest, "Function Definition and Declaration"). Its keep-alive values
    /// are the arguments; resuming with no values calls the function again (its
    /// newest version, if the handler loaded one); throwing throws to the caller.
    UndefinedFunction,
    /// A `WATCHPOINT` whose ID the client enabled: a TRAP that, resumed with
    /// values, goes on to its `ena` destination.
    Watchpoint,
}

/// A trap handed to the client.
#[derive(Clone, Debug, PartialEq)]
pub struct TrapEvent {
    /// What trapped.
    pub kind: TrapKind,
    /// The TRAP's name (`@f.v1.entry.t`), or the undefined function's (`@f`).
    pub name: String,
    /// Its `KEEPALIVE` values, rendered as in outcomes (objects numbered by the
    /// engine; compare them up to a renaming).
    pub keepalive: Vec<OutValue>,
}

/// The client's trap handler (`set_trap_handler`).
pub trait TrapHandler: std::fmt::Debug {
    /// Called at every `TRAP`, every enabled `WATCHPOINT` and every call of an
    /// undefined function, with a context for this trap; the answer says what the
    /// thread does next.
    fn on_trap(&mut self, ctx: &mut dyn MuCtx, trap: &TrapEvent) -> TrapAnswer;

    /// Called once as a run starts, before its stack is made, with a context on
    /// the run's fresh VM (spec/11 §11.9): what a client does with a context from
    /// `new_context` before it starts a thread. There is no frame yet; the client
    /// may allocate, store, load bundles (the run's stack gets its function's
    /// newest version), enable watchpoints and make stacks and threads, which run
    /// after the run's own thread. The default does nothing.
    fn on_start(&mut self, ctx: &mut dyn MuCtx) {
        let _ = ctx;
    }
}

/// The simplest client: it stops the run at the first trap.
#[derive(Clone, Copy, Debug, Default)]
pub struct EndAtFirstTrap;

impl TrapHandler for EndAtFirstTrap {
    fn on_trap(&mut self, _: &mut dyn MuCtx, _: &TrapEvent) -> TrapAnswer {
        TrapAnswer::Stop
    }
}

/// What a scripted client does at a trap before it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptAction {
    /// `load_bundle` of this bundle `(name, text)`.
    Load(String, String),
    /// `pop_frames_to` the frame this many below the top (a cursor moved on by
    /// `next_frame` so often).
    Pop(usize),
    /// `push_frame` of the newest version of the function of this name.
    Push(String),
    /// `new_stack` of the function of this name, then `new_thread` passing it
    /// these values.
    Thread(String, Vec<ClientValue>),
    /// `enable_watchpoint` of this ID.
    Enable(u64),
    /// `disable_watchpoint` of this ID.
    Disable(u64),
}

/// A client that answers the traps of a run in order from a script, doing what
/// the script says first (load a bundle, pop frames, push one), and records what
/// it was shown (in a log its clones share, so the caller keeps one to read
/// after handing the other to an engine); past the end of the script it stops
/// the run, and so it does when an action fails (the error is logged).
#[derive(Clone, Debug, Default)]
pub struct Scripted {
    /// The answers, first trap first.
    pub answers: Vec<TrapAnswer>,
    /// What to do before each answer.
    pub actions: Vec<Vec<ScriptAction>>,
    /// What to do as the run starts, before its thread runs (`on_start`).
    pub start: Vec<ScriptAction>,
    /// The traps seen so far.
    pub seen: std::rc::Rc<std::cell::RefCell<Vec<TrapEvent>>>,
    /// Actions that failed: the trap's number (from 0; [`Scripted::START`] for
    /// the start's) and the error.
    pub errors: std::rc::Rc<std::cell::RefCell<Vec<(usize, ClientError)>>>,
}

impl Scripted {
    /// The number [`Scripted::errors`] gives the start's actions.
    pub const START: usize = usize::MAX;

    /// A client with these answers.
    pub fn new(answers: Vec<TrapAnswer>) -> Self {
        Scripted {
            answers,
            ..Default::default()
        }
    }

    /// The traps seen so far.
    pub fn seen(&self) -> Vec<TrapEvent> {
        self.seen.borrow().clone()
    }

    /// The actions that failed so far.
    pub fn errors(&self) -> Vec<(usize, ClientError)> {
        self.errors.borrow().clone()
    }
}

impl TrapHandler for Scripted {
    fn on_trap(&mut self, ctx: &mut dyn MuCtx, trap: &TrapEvent) -> TrapAnswer {
        let mut seen = self.seen.borrow_mut();
        let k = seen.len();
        seen.push(trap.clone());
        for a in self.actions.get(k).into_iter().flatten() {
            if let Err(e) = act(ctx, a) {
                self.errors.borrow_mut().push((k, e));
                return TrapAnswer::Stop;
            }
        }
        self.answers.get(k).cloned().unwrap_or(TrapAnswer::Stop)
    }

    fn on_start(&mut self, ctx: &mut dyn MuCtx) {
        for a in &self.start {
            if let Err(e) = act(ctx, a) {
                self.errors.borrow_mut().push((Self::START, e));
                return;
            }
        }
    }
}

/// Does one scripted action.
fn act(ctx: &mut dyn MuCtx, a: &ScriptAction) -> CResult<()> {
    match a {
        ScriptAction::Load(name, text) => ctx.load_bundle(name, text),
        ScriptAction::Pop(n) => {
            let c = ctx.new_cursor()?;
            for _ in 0..*n {
                ctx.next_frame(c)?;
            }
            ctx.pop_frames_to(c)?;
            ctx.close_cursor(c)
        }
        ScriptAction::Push(f) => {
            let id = ctx
                .id_of(f)
                .ok_or_else(|| ClientError::new("client.no-such-id", format!("no {f}")))?;
            let h = ctx.handle_from_id(id)?;
            ctx.push_frame(h)
        }
        ScriptAction::Thread(f, values) => {
            let id = ctx
                .id_of(f)
                .ok_or_else(|| ClientError::new("client.no-such-id", format!("no {f}")))?;
            let func = ctx.handle_from_id(id)?;
            let stack = ctx.new_stack(func)?;
            ctx.new_thread(stack, NewThread::PassValues(values.clone()))
                .map(|_| ())
        }
        ScriptAction::Enable(w) => {
            ctx.enable_watchpoint(*w);
            Ok(())
        }
        ScriptAction::Disable(w) => {
            ctx.disable_watchpoint(*w);
            Ok(())
        }
    }
}
