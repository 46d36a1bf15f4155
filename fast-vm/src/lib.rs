//! The fast VM: an optimizing Cranelift JIT for verified Mu IR, with its own runtime.
//!
//! [`Program::compile`] turns every function of a [`spec_model::ir::Module`] into
//! machine code at Cranelift's `speed` level, with small callees inlined
//! (`inline`); [`Program::run`] calls one with fresh state (heap, global cells,
//! budgets) and reports the same [`Outcome`] as the reference model.
//!
//! Mu-to-Mu calls use Cranelift's `tail` convention: `(ctx, depth, args…) ->
//! (status, first result word)`. `depth` is the frame's call depth (the stack
//! budget is a compare against it); further result words and the exception value
//! go through the run's context (`runtime::Ctx`). Everything that faces C is
//! SystemV (`ccall`). The heap (`runtime`) allocates with an inline bump pointer
//! and moves every unpinned object but large ones when it collects, with roots on a
//! shadow stack.
//!
//! Not compiled yet (such a function stops the run as `unsupported`): aggregate
//! parameters and results of Mu-to-Mu calls, and the rarer forms `lower` names in
//! its `unsupported` findings.
#![deny(missing_docs)]

mod ccall;
mod client;
pub mod codecache;
mod compile;
pub mod crash;
mod inline;
pub mod jitmem;
mod lower;
pub mod runtime;
mod stacks;

use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature, UserFuncName};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId as ClFuncId, Linkage, Module as _};
use lower::{Env, TrapInfo, leaves, lower_function, mu_signature};
pub use runtime::GcStats;
use runtime::{Ctx, EXCEPTION, Heap, NORMAL, RET_SLOTS, StopCode};
use spec_model::Budgets;
use spec_model::client::TrapHandler;
use spec_model::ir::{ConstValue, Module, SigId, Type, TypeId};
use spec_model::layout;
use spec_model::machine::Value;
use spec_model::outcome::{Budget, IRefBase, NativeEvent, OutValue, Outcome, TrapCode};

/// Why the fast VM could not give an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FastError {
    /// The program reached a function the fast VM does not compile yet.
    Unsupported(String),
    /// The run could not start (no such function, wrong arguments).
    Usage(String),
    /// Cranelift rejected generated code: a bug in the fast VM.
    Bug(String),
}

impl std::fmt::Display for FastError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FastError::Unsupported(s) => write!(f, "unsupported: {s}"),
            FastError::Usage(s) => write!(f, "{s}"),
            FastError::Bug(s) => write!(f, "fast VM bug: {s}"),
        }
    }
}

type Entry = unsafe extern "C" fn(*mut Ctx, *const u64) -> i32;

/// What compiling more code during a run needs.
struct Dynamic {
    /// Freed with the program (a JIT module on its own leaks its code).
    jit: std::mem::ManuallyDrop<JITModule>,
    ids: Vec<Option<ClFuncId>>,
    current_id: ClFuncId,
    trace_id: Option<ClFuncId>,
    frontend: cranelift_codegen::isa::TargetFrontendConfig,
    /// C entry points made by `@uvm.native.expose`, by (function, cookie).
    wrappers: std::collections::HashMap<(u32, u64), u64>,
    count: usize,
    /// What compiling a bundle the client loads needs (client mode).
    rt: lower::Runtime,
    options: Options,
    expose_ids: Vec<Option<ClFuncId>>,
    /// Each function's slot (client mode).
    slots: Vec<Option<cranelift_module::DataId>>,
    /// Entry points compiled when a run first needed them, by the function they
    /// call.
    entries: std::collections::HashMap<ClFuncId, Entry>,
    /// How many functions and exposures the compiled program has (a run's loads
    /// add after).
    base_ids: usize,
    base_exposes: usize,
}

impl Drop for Dynamic {
    fn drop(&mut self) {
        // SAFETY: the JIT is taken once, here, and never used again. Its code is
        // freed: the program's runs are over (each borrows the program), and a C
        // function pointer to it kept past the program would be the embedder's
        // use after free, as with any library unloaded.
        unsafe { std::mem::ManuallyDrop::take(&mut self.jit).free_memory() };
    }
}

impl Dynamic {
    /// The C entry point of `func` with `cookie`, compiled on first use.
    fn wrapper(&mut self, module: &Module, func: u32, cookie: u64) -> Option<u64> {
        if let Some(a) = self.wrappers.get(&(func, cookie)) {
            return Some(*a);
        }
        let fid = self.ids.get(func as usize).copied().flatten()?;
        let sig = module.funcs[func as usize].sig;
        let (cs, _, _) = ccall::c_signature(&module.types, sig)?;
        self.count += 1;
        let wid = self
            .jit
            .declare_function(&format!("dynexpose{}", self.count), Linkage::Local, &cs)
            .ok()?;
        let mut cctx = self.jit.make_context();
        let env = compile::WrapperEnv {
            current: self.current_id,
            trace: self.trace_id,
            frontend: self.frontend,
        };
        let x = compile::Exposure {
            func,
            sig,
            fid,
            slot: self.slots.get(func as usize).copied().flatten(),
            cookie,
        };
        let mut fctx = FunctionBuilderContext::new();
        compile::define_wrapper(
            &mut self.jit,
            &mut cctx,
            &mut fctx,
            env,
            &module.types,
            &x,
            wid,
        )
        .ok()?;
        self.jit.finalize_definitions().ok()?;
        let addr = self.jit.get_finalized_function(wid) as u64;
        self.wrappers.insert((func, cookie), addr);
        Some(addr)
    }
}

/// A compiled module.
pub struct Program<'m> {
    /// The JIT, which `@uvm.native.expose` and the client's `load_bundle` extend
    /// while a run goes on.
    jit: std::cell::RefCell<Dynamic>,
    entries: Vec<Option<Entry>>,
    /// What the compiled program is.
    base: Versions<'m>,
    /// What it is now: a run in which the client loads bundles changes it; the
    /// next run starts from `base` again.
    now: std::cell::RefCell<Versions<'m>>,
    fuel_checks: bool,
    /// Compiled for a client (`Options::client`).
    client_mode: bool,
    /// Where the client's `load_bundle` loads (client mode).
    bundles: std::cell::Cell<Option<&'m spec_model::Bundles<'m>>>,
    trace_native: bool,
    /// The C entry points of the static `.expose`s and their functions.
    static_exposes: Vec<(u64, u32)>,
    /// The C entry point of each static `.expose` of the base bundle, by index
    /// (`None`: not compiled).
    expose_addrs: Vec<Option<u64>>,
    /// The client's trap handler; without one, the first TRAP stops the run.
    client: std::cell::RefCell<Option<Box<dyn TrapHandler>>>,
    /// Why the client's answer could not be done (`StopCode::ClientError`).
    client_error: std::cell::RefCell<Option<String>>,
    /// How the frame the client popped to goes on.
    osr: std::cell::RefCell<Option<client::OsrPlan>>,
    /// What earlier runs compiled for the sequences of bundles they loaded, by
    /// sequence.
    grown: std::cell::RefCell<std::collections::HashMap<u64, compile::Grown>>,
}

/// How [`Program::compile_with`] compiles.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Blocks charge fuel (off: for runs without a fuel budget, which then pay nothing).
    pub fuel_checks: bool,
    /// Compiled code records the native trace (off: it pays nothing for it).
    pub trace_native: bool,
    /// Compiled for a client that looks at frames and loads bundles while a run
    /// goes on (spec/11): every Mu frame keeps a record the client's cursors
    /// walk, every call of a Mu function loads the function's slot (a word of
    /// data holding its current version's code, which a later version
    /// retargets; its address is the funcref), and nothing is
    /// inlined or answered at the call site, since any callee may change.
    pub client: bool,
}

/// The functions and traps of a program as the bundles loaded so far make it.
#[derive(Clone, Debug)]
struct Versions<'m> {
    /// The module of the bundles loaded so far.
    module: &'m Module,
    /// The value of each function's funcref: its code, or in client mode the
    /// address of its slot.
    code: Vec<u64>,
    /// Why functions are not compiled.
    not_compiled: Vec<Option<String>>,
    /// The client traps, by index.
    traps: Vec<TrapInfo>,
    /// Each global cell's offset in the globals' memory, and its size.
    global_offsets: Vec<u64>,
    globals_size: u64,
    /// The code of each function's current version (client mode): what its slot
    /// holds.
    toc: Vec<u64>,
    /// A bundle was loaded since the compilation.
    grown: bool,
    /// The bundles loaded in this run, as one hash of their texts in order (0:
    /// none).
    chain: u64,
}

/// What `rt_trace` records.
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TraceKind {
    /// A CCALL starts: `id` = signature | (EXTERN constant + 1) << 32, `fp` the callee,
    /// `words` the arguments' leaves.
    CCall = 0,
    /// It returned: `words` the result's leaves.
    CCallReturn = 1,
    /// Native code called exposed function `id`; `words` its arguments' leaves.
    Callback = 2,
    /// Exposed function `id` returned; `words` its results' leaves.
    CallbackReturn = 3,
}

/// `rt_trace(ctx, kind, id, fp, words)`: records a native-boundary event (only code
/// compiled with [`Options::trace_native`] calls it).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`]; `words` must hold a word per leaf of
/// the values the event carries.
unsafe extern "C" fn rt_trace(ctx: *mut Ctx, kind: u64, id: u64, fp: u64, words: *const u64) {
    // SAFETY: as for rt_expose.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as above.
    let program = unsafe { &*ctx.program.cast::<Program<'_>>() };
    // SAFETY: as above.
    let heap = unsafe { &mut *ctx.heap };
    if heap.trace.is_none() {
        return;
    }
    heap.flush(ctx.bump);
    let module = program.module();
    let types = &module.types;
    let view = View {
        program,
        heap,
        globals: ctx.globals as u64,
    };
    let values = |tys: &[TypeId]| {
        let n: usize = tys
            .iter()
            .map(|t| leaves(types, *t).map_or(0, |l| l.len()))
            .sum();
        // SAFETY: the caller passes a word per leaf of these types.
        let ws = unsafe { std::slice::from_raw_parts(words, n) };
        let mut it = ws.iter().copied();
        tys.iter()
            .map(|t| view.out(*t, &mut it))
            .collect::<Vec<_>>()
    };
    let event = if kind == TraceKind::CCall as u64 {
        let sig = (id & 0xffff_ffff) as SigId;
        let args = values(&types.sig(sig).params);
        let konst = (id >> 32).checked_sub(1);
        let callee = match konst.map(|c| &module.consts[c as usize].value) {
            Some(ConstValue::Extern(sym)) => sym.clone(),
            _ => program.callee_name(fp),
        };
        Some(NativeEvent::CCall {
            callee,
            args,
            result: None,
        })
    } else if kind == TraceKind::CCallReturn as u64 {
        let sig = id as SigId;
        let result = values(&types.sig(sig).rets).pop();
        if let Some(i) = heap.open_calls.pop()
            && let Some(NativeEvent::CCall { result: r, .. }) =
                heap.trace.as_mut().and_then(|t| t.get_mut(i))
        {
            *r = result;
        }
        None
    } else {
        let f = &module.funcs[id as usize];
        let sig = types.sig(f.sig);
        if kind == TraceKind::Callback as u64 {
            Some(NativeEvent::Callback {
                func: f.name.as_str().to_string(),
                args: values(&sig.params),
            })
        } else {
            Some(NativeEvent::CallbackReturn(values(&sig.rets)))
        }
    };
    if let Some(e) = event
        && let Some(t) = heap.trace.as_mut()
    {
        // A CCALL waits for its result, unless it has none (then no CCallReturn
        // event comes for it).
        if matches!(e, NativeEvent::CCall { .. })
            && !types.sig((id & 0xffff_ffff) as SigId).rets.is_empty()
        {
            heap.open_calls.push(t.len());
        }
        t.push(e);
    }
}

/// Records a pin or unpin of `addr` (called by `rt_pin`/`rt_unpin` when tracing).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub(crate) unsafe fn trace_pin(ctx: *mut Ctx, addr: u64, unpin: bool) {
    // SAFETY: as for rt_trace.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as above.
    let program = unsafe { &*ctx.program.cast::<Program<'_>>() };
    // SAFETY: as above.
    let heap = unsafe { &mut *ctx.heap };
    heap.flush(ctx.bump);
    let loc = {
        let view = View {
            program,
            heap,
            globals: ctx.globals as u64,
        };
        OutValue::IRef(if addr == 0 { None } else { view.base(addr) })
    };
    if let Some(t) = heap.trace.as_mut() {
        t.push(if unpin {
            NativeEvent::Unpin(loc)
        } else {
            NativeEvent::Pin(loc)
        });
    }
}

/// `rt_expose(ctx, funcref, cookie) -> ufuncptr` (`native.expose`): the C entry
/// point of the function, compiled on first use; 0 if its signature cannot cross.
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`], whose `program` is the running program.
unsafe extern "C" fn rt_expose(ctx: *mut Ctx, funcref: u64, cookie: u64) -> u64 {
    // SAFETY: JIT code passes its context; `program` was set by `Program::run_with`,
    // which borrows the program for the whole run.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as above.
    let program = unsafe { &*ctx.program.cast::<Program<'_>>() };
    let Some(func) = program.func_of_code(funcref) else {
        return 0;
    };
    let Ok(mut dynamic) = program.jit.try_borrow_mut() else {
        return 0;
    };
    let Some(addr) = dynamic.wrapper(program.module(), func as u32, cookie) else {
        return 0;
    };
    // SAFETY: the heap pointer is live for the run.
    let heap = unsafe { &mut *ctx.heap };
    *heap.exposed.entry(addr).or_insert(0) += 1;
    addr
}

/// `rt_unexpose(ctx, ufuncptr) -> 0 | 1` (`native.unexpose`): 1 if no exposure of
/// this run made the pointer (`native.unexpose-unknown`).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
unsafe extern "C" fn rt_unexpose(ctx: *mut Ctx, addr: u64) -> u64 {
    // SAFETY: as for rt_expose.
    let heap = unsafe { &mut *(*ctx).heap };
    match heap.exposed.get_mut(&addr) {
        Some(n) if *n > 0 => {
            *n -= 1;
            0
        }
        _ => 1,
    }
}

/// `rt_watch(ctx, wpid) -> 0 | 1` (`trap.watchpoint`, `ctl.watchpoint-off`,
/// `ctl.wpbranch`): whether the client enabled watchpoint `wpid` in this run.
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
unsafe extern "C" fn rt_watch(ctx: *mut Ctx, wpid: u64) -> u64 {
    // SAFETY: as for rt_expose.
    let heap = unsafe { &*(*ctx).heap };
    u64::from(heap.watchpoints.contains(&wpid))
}

impl std::fmt::Debug for Program<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("functions", &self.entries.len())
            .finish()
    }
}

impl<'m> Program<'m> {
    /// Compiles every function of `module`. With `fuel_checks` false, blocks do not
    /// charge fuel (for runs without a fuel budget).
    pub fn compile(module: &'m Module, fuel_checks: bool) -> Result<Program<'m>, FastError> {
        Self::compile_with(
            module,
            Options {
                fuel_checks,
                trace_native: false,
                client: false,
            },
        )
    }

    /// Compiles every function of `module` as `options` say.
    pub fn compile_with(module: &'m Module, options: Options) -> Result<Program<'m>, FastError> {
        compile::compile(module, options, None)
    }

    /// Compiles only what the functions `roots` can reach (through calls, function
    /// references and exposures): only they can be run. The differential tester
    /// compiles each generated program this way, leaving its unused library
    /// functions alone. In client mode the roots must also name every function
    /// the bundles a client loads call.
    pub fn compile_roots(
        module: &'m Module,
        options: Options,
        roots: &[u32],
    ) -> Result<Program<'m>, FastError> {
        compile::compile(module, options, Some(roots))
    }

    /// Sets the client's trap handler (`MuVM.set_trap_handler`), which every TRAP
    /// of later runs calls; `None`: the first TRAP stops the run.
    pub fn set_trap_handler(&self, handler: Option<Box<dyn TrapHandler>>) {
        *self.client.borrow_mut() = handler;
    }

    /// Where the instruction at `pc` is, for a crash report: a library or the
    /// runtime (by the dynamic loader), or the compiled function it falls in
    /// (`@f+0x1c`, by the nearest function start below it).
    pub fn locate(&self, pc: u64) -> String {
        if pc == 0 {
            return "an unknown instruction".into();
        }
        if let Some(native) = crash::native_location(pc) {
            return native;
        }
        let now = self.now.borrow();
        let nearest = now
            .code
            .iter()
            .enumerate()
            .filter(|(_, start)| **start != 0 && **start <= pc)
            .max_by_key(|(_, start)| **start);
        match nearest {
            Some((f, start)) if pc - start < 1 << 20 => {
                format!("{}+{:#x}", now.module.funcs[f].name, pc - start)
            }
            _ => format!("{pc:#x}"),
        }
    }

    /// The function whose C entry point (a static `.expose` or one made by
    /// `@uvm.native.expose`) is at `fp`.
    fn exposed_func(&self, fp: u64) -> Option<u32> {
        self.static_exposes
            .iter()
            .find(|(a, _)| *a == fp)
            .map(|(_, f)| *f)
            .or_else(|| {
                let d = self.jit.try_borrow().ok()?;
                d.wrappers
                    .iter()
                    .find(|(_, a)| **a == fp)
                    .map(|((f, _), _)| *f)
            })
    }

    /// How the native trace names a C callee at `fp` (as the model does): an exposed
    /// function, a symbol the dynamic linker knows, or the address.
    fn callee_name(&self, fp: u64) -> String {
        if let Some(f) = self.exposed_func(fp) {
            return format!("{} (exposed)", self.module().funcs[f as usize].name);
        }
        spec_model::machine::symbol_name(fp).unwrap_or_else(|| format!("{fp:#x}"))
    }

    /// Why function `f` stops as unsupported, if it does.
    pub fn not_compiled(&self, f: u32) -> Option<String> {
        self.now
            .borrow()
            .not_compiled
            .get(f as usize)
            .cloned()
            .flatten()
    }

    /// The module of the bundles loaded so far.
    fn module(&self) -> &'m Module {
        self.now.borrow().module
    }

    /// Trap `i`.
    fn trap_info(&self, i: usize) -> Option<TrapInfo> {
        self.now.borrow().traps.get(i).cloned()
    }

    /// Where the client's `load_bundle` loads in the runs to come (a program
    /// compiled with `Options::client`; without, loading is an error).
    pub fn set_bundles(&self, bundles: Option<&'m spec_model::Bundles<'m>>) {
        self.bundles.set(bundles);
    }

    /// The function whose funcref is `w`.
    fn func_of_code(&self, w: u64) -> Option<usize> {
        if w == 0 {
            return None;
        }
        self.now.borrow().code.iter().position(|c| *c == w)
    }

    /// Runs function `f` with `args` under `budgets`, on fresh state, and gives
    /// the outcome with what the collector did: the collector's own tests look at
    /// its figures. Every run path goes through [`spec_model::run::Engine::run`];
    /// with `gc_stress`, the collector runs at every allocation and moves every
    /// unpinned object.
    pub fn run_with(
        &self,
        f: u32,
        args: &[Value],
        budgets: Budgets,
        gc_stress: bool,
    ) -> Result<(Outcome, GcStats), FastError> {
        self.run_inner(f, args, budgets, gc_stress, false, &[])
            .map(|(o, s, ..)| (o, s))
    }

    fn run_inner(
        &self,
        f: u32,
        args: &[Value],
        budgets: Budgets,
        gc_stress: bool,
        trace: bool,
        observe: &[(u32, bool)],
    ) -> Result<RunResult, FastError> {
        self.run_inner_with(f, args, budgets, gc_stress, trace, observe, |_| {})
    }

    /// A run; `after` sees the heap and the globals before they go.
    #[allow(clippy::too_many_arguments, reason = "the run's settings, each plain")]
    fn run_inner_with(
        &self,
        f: u32,
        args: &[Value],
        budgets: Budgets,
        gc_stress: bool,
        trace: bool,
        observe: &[(u32, bool)],
        after: impl FnOnce(&View<'_, '_>),
    ) -> Result<RunResult, FastError> {
        // Each run starts from the compiled program: what a client loaded in the
        // run before is gone (as a new VM would have it).
        if self.now.borrow().grown {
            *self.now.borrow_mut() = self.base.clone();
            self.fill_slots(&self.base);
            if let Ok(mut d) = self.jit.try_borrow_mut() {
                let (ids, exposes) = (d.base_ids, d.base_exposes);
                d.ids.truncate(ids);
                d.slots.truncate(ids);
                d.expose_ids.truncate(exposes);
                // Functions past the compiled ones were the last run's.
                d.wrappers.retain(|(f, _), _| (*f as usize) < ids);
            }
        }
        if let Some(b) = self.bundles.get() {
            b.restart();
        }
        let module = self.base.module;
        let types = &module.types;
        let Some(entry) = self.entry_of(f) else {
            return Err(FastError::Unsupported(
                self.not_compiled(f)
                    .unwrap_or_else(|| "no such function".into()),
            ));
        };
        if budgets.stack == 0 {
            return Ok((
                Outcome::Exhausted(Budget::Stack),
                GcStats::default(),
                trace.then(Vec::new),
                Vec::new(),
                Vec::new(),
            ));
        }
        let params = &types.sig(module.funcs[f as usize].sig).params;
        if params.len() != args.len() {
            return Err(FastError::Usage(format!(
                "{} takes {} arguments",
                module.funcs[f as usize].name,
                params.len()
            )));
        }
        let mut words: Vec<u64> = Vec::new();
        for a in args {
            value_words(a, &mut words);
        }
        let mut heap = Heap::new(types);
        heap.stress = gc_stress;
        if trace {
            heap.trace = Some(Vec::new());
        }
        // A client may load bundles with more global cells: they go after these.
        let reserve = if self.client_mode { GLOBALS_RESERVE } else { 0 };
        let mut globals = vec![
            0u128;
            usize::try_from((self.base.globals_size + reserve).div_ceil(16))
                .unwrap_or(0)
                .max(1)
        ];
        let gtypes = module
            .globals
            .iter()
            .zip(&self.base.global_offsets)
            .map(|(g, off)| (*off, g.ty))
            .collect();
        heap.globals = (globals.as_ptr() as u64, gtypes);
        let mut ctx = Box::new(Ctx {
            fuel: if self.fuel_checks {
                budgets.fuel
            } else {
                u64::MAX
            },
            depth: 1,
            max_depth: u64::from(budgets.stack),
            stack_limit: 0,
            alloc_left: budgets.alloc,
            stop: 0,
            detail: 0,
            exc: 0,
            heap: (&mut heap as *mut Heap<'_>).cast::<Heap<'static>>(),
            globals: globals.as_mut_ptr().cast(),
            roots: 0,
            frames: 0,
            osr_target: 0,
            cookie: 0,
            cookie_depth: u64::MAX,
            program: (self as *const Program<'_>).cast(),
            bump: 0,
            limit: 0,
            ret: [0; RET_SLOTS],
        });
        client::client_start(self, &mut *ctx);
        let gbase = globals.as_ptr() as u64;
        // The run's thread and the threads it makes; then each thread the
        // client made, one at a time, with the threads it makes.
        let (outcome, mut threads) = self.run_threads(&mut ctx, f, entry, &words, gbase)?;
        while !matches!(outcome, Outcome::Ub(_))
            && let Some(p) = heap.threads.next_to_start()
        {
            match self.run_thread(p, &mut ctx, gbase)? {
                Ok((o, made)) => {
                    threads.push(o);
                    threads.extend(made);
                }
                Err(o) => threads.push(o),
            }
        }
        let view = View {
            program: self,
            heap: &heap,
            globals: globals.as_ptr() as u64,
        };
        let seen = observe
            .iter()
            .map(|&(g, deref)| {
                let g = g as usize;
                let addr = view.globals + self.base.global_offsets.get(g).copied().unwrap_or(0);
                let ty = module.globals.get(g)?.ty;
                let v = view.read(addr, ty);
                if !deref {
                    return Some(v);
                }
                let target = match types.get(ty) {
                    Type::Ref(_) | Type::IRef(_) => {
                        // SAFETY: `addr` is the global's cell inside `globals`, which
                        // is still alive; cells are 8-aligned for references.
                        unsafe { (addr as *const u64).read() }
                    }
                    _ => 0,
                };
                let o = self.heap_object(&heap, target)?;
                Some(view.object(&o))
            })
            .collect::<Vec<_>>();
        after(&view);
        let stats = heap.stats;
        Ok((outcome, stats, heap.trace.take(), seen, threads))
    }

    /// `client.new-thread`: the thread `p` the client made runs on the run's heap
    /// and globals, with the fuel and allocation budget the threads before it
    /// left, on a stack of its own, until it ends. An exception thrown to it is
    /// re-thrown by its bottom frame, which has not started. Gives the status its
    /// entry returned, or the outcome if it ended before it ran.
    fn run_thread(
        &self,
        p: spec_model::client::Pending<runtime::Words>,
        ctx: &mut Ctx,
        globals: u64,
    ) -> Result<Result<(Outcome, Vec<Outcome>), Outcome>, FastError> {
        let values = match p.start {
            spec_model::client::Start::Exc(_) => {
                return Ok(Err(Outcome::Trap(TrapCode::UncaughtException)));
            }
            spec_model::client::Start::Values(vs) => vs,
        };
        let Some(entry) = self.entry_of(p.func) else {
            return Err(FastError::Unsupported(
                self.not_compiled(p.func)
                    .unwrap_or_else(|| "no such function".into()),
            ));
        };
        if ctx.max_depth == 0 {
            return Ok(Err(Outcome::Exhausted(Budget::Stack)));
        }
        let words: Vec<u64> = values.into_iter().flat_map(|v| v.words).collect();
        ctx.depth = 1;
        ctx.stop = 0;
        ctx.detail = 0;
        ctx.exc = 0;
        ctx.roots = 0;
        ctx.frames = 0;
        ctx.osr_target = 0;
        ctx.cookie = 0;
        ctx.cookie_depth = u64::MAX;
        // The client's values were checked against the function's parameters.
        self.run_threads(ctx, p.func, entry, &words, globals)
            .map(Ok)
    }

    /// Runs a thread whose first stack calls `entry` (function `func`) with
    /// `words`, and the threads it makes (spec/12): how it ended, and how each
    /// thread it made did, in the order they were made. Undefined behaviour in
    /// any of them is the outcome.
    fn run_threads(
        &self,
        ctx: &mut Ctx,
        func: u32,
        entry: Entry,
        words: &[u64],
        globals: u64,
    ) -> Result<(Outcome, Vec<Outcome>), FastError> {
        let mut outs: Vec<(u32, Result<Outcome, FastError>)> = Vec::new();
        let heap = ctx.heap.cast::<Heap<'m>>();
        {
            let _current = runtime::enter(ctx);
            let mut on_end = |c: &mut Ctx, e: stacks::Ended| -> bool {
                // SAFETY: no Mu code runs while a thread's end is looked at, and
                // the heap lives as long as the run.
                let heap = unsafe { &mut *heap };
                heap.flush(c.bump);
                let o = self.ended(e.status, c, heap, globals, e.func);
                let stop = o.is_err();
                outs.push((e.thread, o));
                stop
            };
            // SAFETY: `entry` was compiled for the function's parameters, which
            // `words` holds in order; `ctx` and the heap and globals it points to
            // live across the call, and callbacks from C find the context
            // through `enter`.
            unsafe { stacks::run_first(ctx, func, entry, words, &mut on_end) };
        }
        outs.sort_by_key(|(t, _)| *t);
        let mut first = None;
        let mut made = Vec::new();
        let mut ub = None;
        for (t, o) in outs {
            let o = o?;
            if matches!(o, Outcome::Ub(_)) {
                ub = Some(o.clone());
            }
            if t == 0 {
                first = Some(o);
            } else {
                made.push(o);
            }
        }
        let outcome = ub
            .or(first)
            .ok_or_else(|| FastError::Bug("the run's thread did not end".into()))?;
        Ok((outcome, made))
    }

    /// How a thread whose bottom function is `f` ended, from the status its
    /// entry returned and what the context holds.
    fn ended(
        &self,
        status: i32,
        ctx: &Ctx,
        heap: &Heap<'m>,
        globals: u64,
        f: u32,
    ) -> Result<Outcome, FastError> {
        let module = self.base.module;
        let types = &module.types;
        let view = View {
            program: self,
            heap,
            globals,
        };
        Ok(match status {
            NORMAL => {
                let rets = &types.sig(module.funcs[f as usize].sig).rets;
                let mut words = ctx.ret.iter().copied();
                Outcome::Return(rets.iter().map(|t| view.out(*t, &mut words)).collect())
            }
            EXCEPTION => Outcome::Trap(TrapCode::UncaughtException),
            _ => match ctx.stop {
                x if x == StopCode::Fuel as u64 => Outcome::Exhausted(Budget::Fuel),
                x if x == StopCode::Alloc as u64 => Outcome::Exhausted(Budget::Alloc),
                x if x == StopCode::Stack as u64 => Outcome::Exhausted(Budget::Stack),
                x if x == StopCode::DivByZero as u64 => Outcome::Trap(TrapCode::DivByZero),
                x if x == StopCode::NullRef as u64 => Outcome::Trap(TrapCode::NullRef),
                x if x == StopCode::NullCall as u64 => Outcome::Trap(TrapCode::NullCall),
                x if x == StopCode::ThreadExit as u64 => Outcome::Return(Vec::new()),
                x if x == StopCode::Deadlock as u64 => Outcome::Trap(TrapCode::Deadlock),
                x if x == StopCode::Ub as u64 => Outcome::Ub(
                    spec_model::rules::RuleId::ALL
                        .get(ctx.detail as usize)
                        .copied()
                        .unwrap_or(spec_model::rules::RuleId::BottomReturn),
                ),
                x if x == StopCode::ExceptionIntoNative as u64 => {
                    Outcome::Trap(TrapCode::ExceptionIntoNative)
                }
                x if x == StopCode::UnexposeUnknown as u64 => {
                    Outcome::Trap(TrapCode::UnexposeUnknown)
                }
                x if x == StopCode::Undefined as u64 => {
                    let m = self.module();
                    let func = &m.funcs[ctx.detail as usize];
                    let mut words = ctx.ret.iter().copied();
                    let values = m
                        .types
                        .sig(func.sig)
                        .params
                        .iter()
                        .map(|t| view.out(*t, &mut words))
                        .collect();
                    Outcome::ClientTrap {
                        name: func.name.as_str().to_string(),
                        values,
                    }
                }
                x if x == StopCode::ClientError as u64 => {
                    let why = self.client_error.borrow_mut().take().unwrap_or_default();
                    return Err(FastError::Usage(why));
                }
                x if x == StopCode::ClientTrap as u64 => {
                    let Some(t) = self.trap_info(ctx.detail as usize) else {
                        return Err(FastError::Bug("no such trap".into()));
                    };
                    let mut words = ctx.ret.iter().copied();
                    let values = t
                        .values
                        .iter()
                        .map(|k| match k {
                            lower::Kept::Words(ty) => view.out(*ty, &mut words),
                            lower::Kept::Known(v) => v.clone(),
                        })
                        .collect();
                    Outcome::ClientTrap {
                        name: t.name.clone(),
                        values,
                    }
                }
                x if x == StopCode::Unsupported as u64 => {
                    let why = self
                        .not_compiled(ctx.detail as u32)
                        .unwrap_or_else(|| "unsupported".into());
                    return Err(FastError::Unsupported(why));
                }
                other => return Err(FastError::Bug(format!("unknown stop code {other}"))),
            },
        })
    }

    fn heap_object(&self, heap: &Heap<'_>, addr: u64) -> Option<runtime::ObjInfo> {
        heap.find(addr).filter(|o| o.base == addr)
    }
}

impl From<FastError> for spec_model::run::RunError {
    fn from(e: FastError) -> Self {
        use spec_model::run::RunError;
        match e {
            FastError::Unsupported(why) => RunError::Unsupported {
                code: "fast-vm",
                why,
            },
            FastError::Usage(s) => RunError::Usage(s),
            FastError::Bug(s) => RunError::Failed(format!("fast VM bug: {s}")),
        }
    }
}

impl spec_model::run::Engine for Program<'_> {
    fn name(&self) -> &'static str {
        "fast"
    }

    fn run(
        &mut self,
        r: &spec_model::run::Request<'_>,
    ) -> Result<spec_model::run::Observation, spec_model::run::RunError> {
        use spec_model::run::{Observation, Observe};
        if r.trace && !self.trace_native {
            return Err(FastError::Usage(
                "the program was compiled without the native trace".into(),
            )
            .into());
        }
        let cells: Vec<(u32, bool)> = match &r.observe {
            Observe::Outcome => Vec::new(),
            Observe::Globals(cells) => cells.clone(),
            Observe::Heap { .. } => (0..self.base.module.globals.len() as u32)
                .map(|g| (g, false))
                .collect(),
        };
        let mut objects = Vec::new();
        let (outcome, _, trace, globals, threads) = self.run_inner_with(
            r.func,
            r.args,
            r.budgets,
            r.gc_stress,
            r.trace,
            &cells,
            |view| {
                if let Observe::Heap { max_objects } = r.observe {
                    objects = view.reachable(max_objects);
                }
            },
        )?;
        Ok(Observation {
            outcome,
            threads,
            trace,
            globals,
            objects,
            rules: None,
        })
    }
}

/// Bytes of global cells that bundles a client loads during a run may add
/// (client mode).
pub const GLOBALS_RESERVE: u64 = 64 << 10;

/// What a run gives back: outcome, GC figures, native trace, observed globals,
/// and how the threads the client made ended.
type RunResult = (
    Outcome,
    GcStats,
    Option<Vec<NativeEvent>>,
    Vec<Option<OutValue>>,
    Vec<Outcome>,
);

/// The target: this machine, Cranelift's `speed` level, frame pointers kept; made
/// once per thread (finding the CPU's features takes a while).
fn host_isa() -> Result<cranelift_codegen::isa::OwnedTargetIsa, FastError> {
    use cranelift_codegen::settings::Configurable;
    thread_local! {
        static ISA: std::cell::OnceCell<Result<cranelift_codegen::isa::OwnedTargetIsa, FastError>> =
            const { std::cell::OnceCell::new() };
    }
    ISA.with(|cell| {
        cell.get_or_init(|| {
            let bug = |e: &dyn std::fmt::Display| FastError::Bug(e.to_string());
            let mut flags = cranelift_codegen::settings::builder();
            flags.set("opt_level", "speed").map_err(|e| bug(&e))?;
            // The verifier runs once on each function's CLIF (`codecache::define`).
            flags.set("enable_verifier", "false").map_err(|e| bug(&e))?;
            flags
                .set("preserve_frame_pointers", "true")
                .map_err(|e| bug(&e))?;
            cranelift_native::builder()
                .map_err(|e| FastError::Bug(e.to_string()))?
                .finish(cranelift_codegen::settings::Flags::new(flags))
                .map_err(|e| bug(&e))
        })
        .clone()
    })
}

/// What a compilation covers: functions and static exposures.
struct Reach {
    funcs: Vec<bool>,
    exposes: Vec<bool>,
}

/// Everything `roots` reach (all of the module without roots): the closure over
/// the functions and exposures their bodies name.
fn reachable(module: &Module, roots: Option<&[u32]>) -> Reach {
    let Some(roots) = roots else {
        return Reach {
            funcs: vec![true; module.funcs.len()],
            exposes: vec![true; module.exposes.len()],
        };
    };
    let mut r = Reach {
        funcs: vec![false; module.funcs.len()],
        exposes: vec![false; module.exposes.len()],
    };
    let mut work: Vec<u32> = roots.to_vec();
    while let Some(f) = work.pop() {
        let Some(seen) = r.funcs.get_mut(f as usize) else {
            continue;
        };
        if *seen {
            continue;
        }
        *seen = true;
        let Some(body) = &module.funcs[f as usize].body else {
            continue;
        };
        for inst in body.blocks.iter().flat_map(|b| &b.insts) {
            for o in lower::uses(&inst.op) {
                match o {
                    spec_model::ir::Operand::Func(g) => work.push(g),
                    spec_model::ir::Operand::Const(c) => const_funcs(module, c, &mut work),
                    spec_model::ir::Operand::Expose(e) => {
                        if let Some(x) = r.exposes.get_mut(e as usize) {
                            *x = true;
                        }
                        work.push(module.exposes[e as usize].func);
                    }
                    _ => {}
                }
            }
        }
    }
    r
}

/// The functions a constant names (the `funcref` elements of a list constant).
fn const_funcs(module: &Module, c: u32, out: &mut Vec<u32>) {
    match &module.consts[c as usize].value {
        ConstValue::Func(f) => out.push(*f),
        ConstValue::List(items) => items.iter().for_each(|i| const_funcs(module, *i, out)),
        _ => {}
    }
}

/// A value's bits as JIT code passes them (integers zero-extended).
fn value_words(v: &Value, out: &mut Vec<u64>) {
    match v {
        Value::Int(b) | Value::Ptr(b) => out.push(*b),
        Value::Float(f) => out.push(u64::from(f.to_bits())),
        Value::Double(d) => out.push(d.to_bits()),
        Value::Agg(vs) => vs.iter().for_each(|v| value_words(v, out)),
        _ => out.push(0),
    }
}

/// The words of the leaves of a value of type `t` at `addr` (in the native
/// layout); `None` if the type has no leaves the fast VM handles.
///
/// # Safety
/// `addr` must be readable for the layout of `t`.
unsafe fn load_words(types: &spec_model::ir::Types, addr: u64, t: TypeId) -> Option<Vec<u64>> {
    let ls = leaves(types, t)?;
    Some(
        ls.iter()
            .map(|(off, ct)| {
                let p = addr + off;
                // SAFETY: the caller vouches for the layout of `t` at `addr`, whose
                // leaves lie at these offsets.
                unsafe {
                    match ct.bytes() {
                        1 => u64::from((p as *const u8).read_unaligned()),
                        2 => u64::from((p as *const u16).read_unaligned()),
                        4 => u64::from((p as *const u32).read_unaligned()),
                        _ => (p as *const u64).read_unaligned(),
                    }
                }
            })
            .collect(),
    )
}

/// Writes the words of the leaves of a value of type `t` at `addr`.
///
/// # Safety
/// `addr` must be writable for the layout of `t`, and `words` hold its leaves.
unsafe fn store_words(types: &spec_model::ir::Types, addr: u64, t: TypeId, words: &[u64]) {
    let Some(ls) = leaves(types, t) else { return };
    for ((off, ct), w) in ls.iter().zip(words) {
        let p = addr + off;
        // SAFETY: as the caller promises.
        unsafe {
            match ct.bytes() {
                1 => (p as *mut u8).write_unaligned(*w as u8),
                2 => (p as *mut u16).write_unaligned(*w as u16),
                4 => (p as *mut u32).write_unaligned(*w as u32),
                _ => (p as *mut u64).write_unaligned(*w),
            }
        }
    }
}

/// Reads results back as the model prints them.
struct View<'a, 'm> {
    program: &'a Program<'m>,
    heap: &'a Heap<'m>,
    globals: u64,
}

impl View<'_, '_> {
    /// The objects the global cells reach ([`reachable`]).
    fn reachable(&self, max: usize) -> Vec<(u32, OutValue)> {
        let m = self.program.module();
        let offsets = self.program.now.borrow().global_offsets.clone();
        let roots: Vec<OutValue> = m
            .globals
            .iter()
            .zip(&offsets)
            .map(|(g, off)| self.read(self.globals + off, g.ty))
            .collect();
        // Objects by identity, listed the first time one is needed.
        let mut by_serial: Option<std::collections::HashMap<u32, runtime::ObjInfo>> = None;
        spec_model::outcome::reachable(&roots, max, |s| {
            let map = by_serial.get_or_insert_with(|| {
                self.heap
                    .all_objects()
                    .into_iter()
                    .map(|o| (o.serial as u32, o))
                    .collect()
            });
            map.get(&s).map(|o| self.object(o))
        })
    }

    /// Reads a value of type `t` from memory at `addr` (in the native layout).
    fn read(&self, addr: u64, t: TypeId) -> OutValue {
        let types = &self.program.module().types;
        // SAFETY: `addr` is a global cell or a live heap object of type `t`.
        let Some(words) = (unsafe { load_words(types, addr, t) }) else {
            return OutValue::Agg(Vec::new());
        };
        self.out(t, &mut words.into_iter())
    }

    /// The contents of a heap object, as the model's `Machine::object_out` gives them.
    fn object(&self, o: &runtime::ObjInfo) -> OutValue {
        let types = &self.program.module().types;
        match types.get(o.ty) {
            Type::Hybrid(fs, var) => {
                let mut parts: Vec<OutValue> = layout::fields(types, fs)
                    .zip(fs)
                    .map(|((off, _), f)| self.read(o.base + off, *f))
                    .collect();
                let (_, var_off) = layout::hybrid_layout(types, fs, *var, o.var_len);
                let size = layout::layout(types, *var).size;
                parts.push(OutValue::Agg(
                    (0..o.var_len)
                        .map(|i| self.read(o.base + var_off + i * size, *var))
                        .collect(),
                ));
                OutValue::Agg(parts)
            }
            _ => self.read(o.base, o.ty),
        }
    }

    fn base(&self, addr: u64) -> Option<(IRefBase, u64)> {
        let now = self.program.now.borrow();
        if addr >= self.globals && addr < self.globals + now.globals_size.max(1) {
            let off = addr - self.globals;
            let m = now.module;
            let (g, start) = now
                .global_offsets
                .iter()
                .enumerate()
                .rev()
                .find(|(_, o)| **o <= off)?;
            return Some((
                IRefBase::Global(m.globals[g].name.as_str().to_string()),
                off - start,
            ));
        }
        self.heap
            .find(addr)
            .map(|o| (IRefBase::Obj(o.serial as u32), addr - o.base))
    }

    /// Decodes a value of type `t` from the words its leaves occupy.
    fn out(&self, t: TypeId, words: &mut impl Iterator<Item = u64>) -> OutValue {
        let m = self.program.module();
        match m.types.get(t) {
            Type::Struct(fs) => {
                return OutValue::Agg(fs.iter().map(|f| self.out(*f, words)).collect());
            }
            Type::Array(e, n) => {
                return OutValue::Agg((0..*n).map(|_| self.out(*e, words)).collect());
            }
            _ => {}
        }
        let w = words.next().unwrap_or(0);
        self.leaf(m.types.get(t), w)
    }

    /// Decodes a leaf of type `ty` from its word.
    fn leaf(&self, ty: &Type, w: u64) -> OutValue {
        let m = self.program.module();
        match ty {
            Type::Int(n) => OutValue::Int {
                width: *n,
                bits: w & if *n >= 64 { u64::MAX } else { (1 << n) - 1 },
            },
            Type::Float => OutValue::Float(w as u32),
            Type::Double => OutValue::Double(w),
            // A reference the heap does not know is the fast VM's error, shown as such.
            Type::Ref(_) | Type::WeakRef(_) if w == 0 => OutValue::Ref(None),
            Type::Ref(_) | Type::WeakRef(_) => match self.heap.find(w) {
                Some(o) => OutValue::Ref(Some(o.serial as u32)),
                None => OutValue::Dangling,
            },
            Type::IRef(_) if w == 0 => OutValue::IRef(None),
            Type::IRef(_) => match self.base(w) {
                Some(b) => OutValue::IRef(Some(b)),
                None => OutValue::Dangling,
            },
            Type::FuncRef(_) => OutValue::FuncRef((w != 0).then(|| {
                let i = self.program.func_of_code(w);
                i.map_or_else(
                    || format!("{w:#x}"),
                    |i| m.funcs[i].name.as_str().to_string(),
                )
            })),
            Type::StackRef => OutValue::Stack(w.checked_sub(1).map(|n| n as u32)),
            Type::UPtr(_) | Type::UFuncPtr(_) => match self.heap.find(w) {
                Some(o) => OutValue::MuPtr(o.serial as u32, w - o.base),
                None if w != 0 && matches!(self.base(w), Some((IRefBase::Global(_), _))) => {
                    match self.base(w) {
                        Some((IRefBase::Global(g), off)) => OutValue::GlobalPtr(g, off),
                        _ => OutValue::Ptr(w),
                    }
                }
                None => match self.program.exposed_func(w) {
                    Some(f) => OutValue::Exposed(m.funcs[f as usize].name.as_str().to_string()),
                    None => OutValue::Ptr(w),
                },
            },
            _ => OutValue::Ptr(w),
        }
    }
}
