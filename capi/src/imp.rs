//! The functions behind muni.h's tables (spec/13-c-api.md), over the Rust client
//! interface of either engine (`spec_model::client`).
//!
//! A VM holds the bundles loaded so far and the threads the client made; nothing
//! runs until `muni_execute`, which starts the first thread the client made as
//! the run's own and the others after it (spec/11 §11.7), on the engine the
//! options chose, and calls the client's trap handler with a context on the
//! trapping thread. A context made by `new_context` works before `muni_execute`:
//! it loads bundles, looks up IDs, makes values from C values and functions, and
//! makes stacks and threads. A trap handler's context also reaches the engine:
//! the heap, cursors and keep-alive values, pinning and loading bundles mid-run.
//!
//! Every failure goes to the error channel (`muni_error`, after the standard
//! fields of each table): a stable code and a message, and the function returns
//! its type's zero. Handles (`MuValue`) are numbers into the context's table; a
//! NULL, a deleted or a wrong-kind handle is an error, never a crash.
//!
//! Every `unsafe` here is at the C boundary: the pointers C passes in.
//!
//! # Safety
//!
//! Every table function (`vm_…`, `ctx_…`) has one contract, stated here rather
//! than on each: its `MuVM *` or `MuCtx *` is NULL or a live table of this
//! library, and every other pointer is what muapi.h says (a NUL-terminated
//! string, an array of the given length, an out-parameter the caller owns).
#![allow(clippy::missing_safety_doc)]

use crate::tables::{self, MuCtx, MuTrapHandler, MuVM, MuValue, MuValuesFreer};
use spec_model::client::{
    ClientValue, Cursor, Handle, MuCtx as RustCtx, MuVM as _, NewThread, TrapAnswer, TrapEvent,
    TrapHandler,
};
use spec_model::run::{Engine, Model, Request};
use spec_model::{Budgets, Bundles, Loaded, load};
use std::ffi::{CStr, CString, c_char, c_int, c_void};

/// The options of `muni_new_vm`.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// `engine=spec|fast`.
    pub fast: bool,
    /// `gc-stress=0|1` (fast VM).
    pub gc_stress: bool,
    /// `fuel=N`, `alloc=BYTES`, `stack=FRAMES`.
    pub budgets: Budgets,
    /// `lib=PATH`: libraries loaded for `EXTERN`s.
    pub libs: Vec<String>,
}

impl Options {
    /// Parses `"engine=fast gc-stress=1 fuel=1000000 lib=./x.so"`.
    pub fn parse(text: &str) -> Result<Options, String> {
        let mut o = Options {
            fast: false,
            gc_stress: false,
            budgets: Budgets::default(),
            libs: Vec::new(),
        };
        for word in text.split_whitespace() {
            let (k, v) = word
                .split_once('=')
                .ok_or_else(|| format!("`{word}`: an option is KEY=VALUE"))?;
            let num = || {
                v.parse::<u64>()
                    .map_err(|_| format!("`{word}`: a number expected"))
            };
            match k {
                "engine" => {
                    o.fast = match v {
                        "spec" => false,
                        "fast" => true,
                        _ => return Err(format!("`{word}`: the engine is spec or fast")),
                    }
                }
                "gc-stress" => o.gc_stress = num()? != 0,
                "fuel" => o.budgets.fuel = num()?,
                "alloc" => o.budgets.alloc = num()?,
                "stack" => {
                    o.budgets.stack = u32::try_from(num()?)
                        .map_err(|_| format!("`{word}`: at most {} frames", u32::MAX))?
                }
                "lib" => o.libs.push(v.to_string()),
                _ => return Err(format!("`{word}`: no such option")),
            }
        }
        Ok(o)
    }
}

/// The last error, for `muni_error`, and the one it last gave (whose strings
/// stay valid until the next `muni_error`).
#[derive(Debug, Default)]
struct Channel {
    code: Option<CString>,
    message: Option<CString>,
    shown: (Option<CString>, Option<CString>),
}

impl Channel {
    fn set(&mut self, code: &str, message: &str) {
        self.code = CString::new(code).ok();
        self.message = CString::new(message.replace('\0', " ")).ok();
    }

    /// The code (NULL if none since the last call) and the message; then the
    /// channel is clear. The strings stay valid until the next call.
    fn take(&mut self, message: *mut *const c_char) -> *const c_char {
        self.shown = (self.code.take(), self.message.take());
        let code = self
            .shown
            .0
            .as_ref()
            .map_or(std::ptr::null(), |c| c.as_ptr());
        if !message.is_null() {
            let m = self
                .shown
                .1
                .as_ref()
                .map_or(std::ptr::null(), |m| m.as_ptr());
            // SAFETY: the caller passes NULL or a pointer to a `const char *` it owns.
            unsafe { *message = m };
        }
        code
    }
}

/// A thread the client made before `muni_execute`.
#[derive(Debug, Clone)]
struct Pending {
    func: String,
    args: Vec<Val>,
}

/// What a VM holds.
#[derive(Debug)]
pub struct Vm {
    options: Options,
    bundles: Vec<(String, String)>,
    loaded: Option<Loaded>,
    handler: (MuTrapHandler, usize),
    /// Stacks made before the run: their bottom function's name, and whether a
    /// thread took it.
    stacks: Vec<(String, bool)>,
    pending: Vec<Pending>,
    channel: Channel,
    names: Vec<CString>,
    contexts: Vec<*mut MuCtx>,
}

/// A value a context holds for C.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    /// An integer of `len` bits.
    Int(u64, u32),
    /// A `float`'s bits.
    Float(u32),
    /// A `double`'s bits.
    Double(u64),
    /// A function, by name (before the run).
    Func(String),
    /// A stack made before the run, by number.
    Stack(usize),
    /// A thread made before the run, by number.
    Thread(usize),
    /// A value the engine holds (in a trap handler).
    Engine(Handle),
    /// A frame cursor (in a trap handler).
    Cursor(Cursor),
}

impl Val {
    fn kind(&self) -> &'static str {
        match self {
            Val::Int(..) => "an int",
            Val::Float(_) => "a float",
            Val::Double(_) => "a double",
            Val::Func(_) => "a funcref",
            Val::Stack(_) => "a stackref",
            Val::Thread(_) => "a threadref",
            Val::Engine(_) => "an engine value",
            Val::Cursor(_) => "a frame cursor",
        }
    }
}

/// What a context holds.
#[derive(Debug)]
pub struct Ctx {
    vm: *mut Vm,
    values: Vec<Option<Val>>,
    /// The engine's context while a trap handler runs.
    trap: Option<*mut dyn RustCtx>,
    channel: Channel,
    names: Vec<CString>,
}

type R<T> = Result<T, (&'static str, String)>;

fn err<T>(code: &'static str, message: impl Into<String>) -> R<T> {
    Err((code, message.into()))
}

/// The VM behind a `MuVM *`.
///
/// SAFETY (for callers): `mvm` is NULL or a table `muni_new_vm` made and
/// `muni_close_vm` has not freed.
unsafe fn vm<'a>(mvm: *mut MuVM) -> Option<&'a mut Vm> {
    if mvm.is_null() {
        return None;
    }
    // SAFETY: by the caller's contract the table is live and its header is the
    // `Vm` `muni_new_vm` boxed.
    unsafe { ((*mvm).header as *mut Vm).as_mut() }
}

/// The context behind a `MuCtx *` (same contract as [`vm`]).
unsafe fn ctx<'a>(c: *mut MuCtx) -> Option<&'a mut Ctx> {
    if c.is_null() {
        return None;
    }
    // SAFETY: the table is live (`new_context` made it, `close_context` has not
    // freed it) and its header is its boxed `Ctx`.
    unsafe { ((*c).header as *mut Ctx).as_mut() }
}

/// A C string argument.
unsafe fn string(p: *const c_char) -> R<String> {
    if p.is_null() {
        return err("capi.null-argument", "a NULL string");
    }
    // SAFETY: the API takes NUL-terminated strings (MuName, char *).
    Ok(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

impl Ctx {
    fn vm(&mut self) -> &mut Vm {
        // SAFETY: a context never outlives its VM: `muni_close_vm` frees the
        // contexts it made first.
        unsafe { &mut *self.vm }
    }

    fn hold(&mut self, v: Val) -> MuValue {
        self.values.push(Some(v));
        self.values.len() as MuValue
    }

    fn val(&self, h: MuValue) -> R<Val> {
        if h.is_null() {
            return err("capi.null-handle", "a NULL handle");
        }
        match self.values.get(h as usize - 1) {
            Some(Some(v)) => Ok(v.clone()),
            Some(None) => err("capi.deleted-handle", "a handle used after delete_value"),
            None => err("capi.bad-handle", "not a handle of this context"),
        }
    }

    fn trap(&mut self) -> R<&mut dyn RustCtx> {
        match self.trap {
            // SAFETY: set only while the engine's trap handler call runs, to the
            // context it was given.
            Some(t) => Ok(unsafe { &mut *t }),
            None => err(
                "capi.not-in-trap",
                "only a trap handler's context reaches the engine",
            ),
        }
    }

    /// A handle as a value the engine takes.
    fn client_value(&mut self, h: MuValue) -> R<ClientValue> {
        Ok(match self.val(h)? {
            Val::Int(bits, _) => ClientValue::Int(bits),
            Val::Float(b) => ClientValue::Float(b),
            Val::Double(b) => ClientValue::Double(b),
            Val::Engine(e) => ClientValue::Handle(e),
            Val::Func(name) => ClientValue::Handle(engine_func(self.trap()?, &name)?),
            other => {
                return err(
                    "capi.wrong-kind",
                    format!("{} cannot be passed", other.kind()),
                );
            }
        })
    }

    fn id_of(&mut self, name: &str) -> R<u32> {
        let id = match self.trap {
            Some(_) => self.trap()?.id_of(name),
            None => self.vm().loaded.as_ref().and_then(|l| l.module.id_of(name)),
        };
        id.ok_or(("client.no-such-id", format!("no entity is named {name}")))
    }

    fn name_of(&mut self, id: u32) -> R<String> {
        let name = match self.trap {
            Some(_) => self.trap()?.name_of(id),
            None => self.vm().loaded.as_ref().and_then(|l| l.module.name_of(id)),
        };
        name.ok_or(("client.no-such-id", format!("no entity has ID {id}")))
    }
}

/// The engine's funcref of a function named before the run.
fn engine_func(t: &mut dyn RustCtx, name: &str) -> R<Handle> {
    let id = t
        .id_of(name)
        .ok_or(("client.no-such-id", format!("no {name}")))?;
    t.handle_from_id(id).map_err(engine_err)
}

fn engine_err(e: spec_model::client::ClientError) -> (&'static str, String) {
    (e.code, e.message)
}

/// Runs `f` on the context, putting a failure in its error channel; `zero` is
/// what the function then returns.
unsafe fn with_ctx<T>(c: *mut MuCtx, zero: T, f: impl FnOnce(&mut Ctx) -> R<T>) -> T {
    // SAFETY: the C caller passes a context `new_context` made (or NULL, caught).
    let Some(cx) = (unsafe { ctx(c) }) else {
        return zero;
    };
    match f(cx) {
        Ok(v) => v,
        Err((code, message)) => {
            cx.channel.set(code, &message);
            zero
        }
    }
}

unsafe fn with_vm<T>(mvm: *mut MuVM, zero: T, f: impl FnOnce(&mut Vm) -> R<T>) -> T {
    // SAFETY: the C caller passes a table `muni_new_vm` made (or NULL, caught).
    let Some(v) = (unsafe { vm(mvm) }) else {
        return zero;
    };
    match f(v) {
        Ok(x) => x,
        Err((code, message)) => {
            v.channel.set(code, &message);
            zero
        }
    }
}

/// For the stubs of generate.rs: a VM function muni does not support.
///
/// # Safety
/// `mvm` is NULL or a live table.
pub unsafe fn unsupported_vm(mvm: *mut MuVM, name: &str) {
    // SAFETY: forwarded contract.
    unsafe {
        with_vm(mvm, (), |_| {
            err(
                "capi.unsupported",
                format!("muni does not support MuVM.{name}"),
            )
        })
    }
}

/// For the stubs of generate.rs: a context function muni does not support.
///
/// # Safety
/// `c` is NULL or a live table.
pub unsafe fn unsupported_ctx(c: *mut MuCtx, name: &str) {
    // SAFETY: forwarded contract.
    unsafe {
        with_ctx(c, (), |_| {
            err(
                "capi.unsupported",
                format!("muni does not support MuCtx.{name}"),
            )
        })
    }
}

// ---- The entry points ----

/// `muni_new_vm`: a VM with these options, or NULL if one is unknown or a
/// library does not load (the reason goes to stderr: there is no VM to hold it).
///
/// # Safety
/// `options` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn muni_new_vm(options: *const c_char) -> *mut MuVM {
    let text = if options.is_null() {
        String::new()
    } else {
        // SAFETY: a NUL-terminated string, by the contract.
        unsafe { CStr::from_ptr(options) }
            .to_string_lossy()
            .into_owned()
    };
    let options = match Options::parse(&text) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("muni_new_vm: {e}");
            return std::ptr::null_mut();
        }
    };
    for lib in &options.libs {
        if let Err(e) = spec_model::load_library(lib) {
            eprintln!("muni_new_vm: {e}");
            return std::ptr::null_mut();
        }
    }
    let vm = Box::new(Vm {
        options,
        bundles: Vec::new(),
        loaded: None,
        handler: (None, 0),
        stacks: Vec::new(),
        pending: Vec::new(),
        channel: Channel::default(),
        names: Vec::new(),
        contexts: Vec::new(),
    });
    Box::into_raw(Box::new(tables::vm_table(Box::into_raw(vm).cast())))
}

/// `muni_close_vm`: frees the VM and every context it made.
///
/// # Safety
/// `mvm` is NULL or a live table; it is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn muni_close_vm(mvm: *mut MuVM) {
    if mvm.is_null() {
        return;
    }
    // SAFETY: a live table from `muni_new_vm`, whose header is its boxed Vm; both
    // were made by Box::into_raw and are freed once, here.
    unsafe {
        let vm = Box::from_raw((*mvm).header as *mut Vm);
        for c in &vm.contexts {
            free_ctx(*c);
        }
        drop(vm);
        drop(Box::from_raw(mvm));
    }
}

/// Frees a context table and its Ctx.
///
/// SAFETY (for callers): `c` came from `new_ctx` and is freed once.
unsafe fn free_ctx(c: *mut MuCtx) {
    // SAFETY: by the caller's contract.
    unsafe {
        drop(Box::from_raw((*c).header as *mut Ctx));
        drop(Box::from_raw(c));
    }
}

fn new_ctx(vm: *mut Vm, trap: Option<*mut dyn RustCtx>) -> *mut MuCtx {
    let cx = Box::new(Ctx {
        vm,
        values: Vec::new(),
        trap,
        channel: Channel::default(),
        names: Vec::new(),
    });
    Box::into_raw(Box::new(tables::ctx_table(Box::into_raw(cx).cast())))
}

/// The client's trap handler, as the engines call it.
struct CHandler {
    vm: *mut Vm,
    /// The threads after the first, to make as the run starts.
    later: Vec<Pending>,
}

impl std::fmt::Debug for CHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the C client's trap handler")
    }
}

impl TrapHandler for CHandler {
    fn on_start(&mut self, rust: &mut dyn RustCtx) {
        // SAFETY: the engine's context outlives this call, and `cx` (which holds
        // it) is freed before the call returns.
        let rust: *mut dyn RustCtx = unsafe { std::mem::transmute(rust) };
        let c = new_ctx(self.vm, Some(rust));
        for p in std::mem::take(&mut self.later) {
            // SAFETY: `c` was just made and is freed below.
            unsafe {
                with_ctx(c, (), |cx| {
                    let args = p
                        .args
                        .iter()
                        .map(|a| {
                            let h = cx.hold(a.clone());
                            cx.client_value(h)
                        })
                        .collect::<R<Vec<_>>>()?;
                    let t = cx.trap()?;
                    let f = engine_func(t, &p.func)?;
                    let s = t.new_stack(f).map_err(engine_err)?;
                    t.new_thread(s, NewThread::PassValues(args))
                        .map_err(engine_err)?;
                    Ok(())
                })
            };
        }
        // SAFETY: made above, freed once.
        unsafe { free_ctx(c) };
    }

    fn on_trap(&mut self, rust: &mut dyn RustCtx, _trap: &TrapEvent) -> TrapAnswer {
        // SAFETY: the VM outlives the run (`muni_execute` holds it).
        let (handler, userdata) = unsafe { (*self.vm).handler };
        let Some(handler) = handler else {
            return TrapAnswer::Stop;
        };
        // SAFETY: as in on_start: the engine's context outlives this call.
        let rust: *mut dyn RustCtx = unsafe { std::mem::transmute(rust) };
        let c = new_ctx(self.vm, Some(rust));
        let mut result: u32 = 0;
        let mut new_stack: MuValue = std::ptr::null_mut();
        let mut values: *mut MuValue = std::ptr::null_mut();
        let mut nvalues: usize = 0;
        let mut freer: MuValuesFreer = None;
        let mut freerdata: *mut c_void = std::ptr::null_mut();
        let mut exception: MuValue = std::ptr::null_mut();
        // SAFETY: a C function with MuTrapHandler's signature, the client's; every
        // pointer passed is to a local that outlives the call.
        unsafe {
            handler(
                c,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
                &mut result,
                &mut new_stack,
                &mut values,
                &mut nvalues,
                &mut freer,
                &mut freerdata,
                &mut exception,
                userdata as *mut c_void,
            )
        };
        let answer = match result {
            0 => Ok(TrapAnswer::ExitThread),
            1 => {
                let hs: Vec<MuValue> = if values.is_null() {
                    Vec::new()
                } else {
                    // SAFETY: the handler set `values` to an array of `nvalues`
                    // handles (muapi.h), which stays valid until its freer runs.
                    unsafe { std::slice::from_raw_parts(values, nvalues) }.to_vec()
                };
                // SAFETY: `c` is live until freed below.
                unsafe {
                    with_ctx(c, None, |cx| {
                        hs.iter()
                            .map(|h| cx.client_value(*h))
                            .collect::<R<Vec<_>>>()
                            .map(Some)
                    })
                }
                .map(TrapAnswer::Resume)
                .ok_or(())
            }
            2 => {
                // SAFETY: as above.
                unsafe { with_ctx(c, None, |cx| cx.client_value(exception).map(Some)) }
                    .map(TrapAnswer::Throw)
                    .ok_or(())
            }
            _ => Err(()),
        };
        if let Some(free) = freer {
            // SAFETY: the handler's own freer, with its own data (muapi.h).
            unsafe { free(values, freerdata) };
        }
        // SAFETY: made above, freed once; the handler may not keep it.
        unsafe { free_ctx(c) };
        answer.unwrap_or(TrapAnswer::Stop)
    }
}

/// `muni_execute`: runs the threads made so far, the first as the run's own, on
/// the engine the options chose; a run that does not end normally is reported
/// on the error channel (`capi.run-ended`).
///
/// # Safety
/// `mvm` is NULL or a live table.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn muni_execute(mvm: *mut MuVM) {
    // SAFETY: forwarded contract.
    unsafe {
        with_vm(mvm, (), |vm| {
            let vm_ptr: *mut Vm = vm;
            let mut threads = std::mem::take(&mut vm.pending).into_iter();
            let Some(first) = threads.next() else {
                return err("capi.no-thread", "no thread was made to execute");
            };
            let loaded = vm
                .loaded
                .as_ref()
                .ok_or(("capi.no-bundle", "no bundle is loaded".to_string()))?;
            let f = loaded
                .func(&first.func)
                .map_err(|e| ("client.no-such-id", e))?;
            let literals: Vec<String> = first.args.iter().map(literal).collect::<R<_>>()?;
            let refs: Vec<&str> = literals.iter().map(String::as_str).collect();
            let args = loaded
                .args(f, &refs)
                .map_err(|e| ("capi.bad-argument", e))?;
            let handler = CHandler {
                vm: vm_ptr,
                later: threads.collect(),
            };
            let request = Request {
                gc_stress: vm.options.gc_stress,
                ..Request::new(f, &args, vm.options.budgets)
            };
            let bundles = Bundles::new(loaded);
            let seen = if vm.options.fast {
                let options = fast_vm::Options {
                    fuel_checks: true,
                    trace_native: false,
                    client: true,
                };
                let mut program = fast_vm::Program::compile_with(&loaded.module, options)
                    .map_err(|e| ("capi.not-compiled", e.to_string()))?;
                program.set_bundles(Some(&bundles));
                program.set_trap_handler(Some(Box::new(handler)));
                program.run(&request)
            } else {
                let mut model = Model::new(loaded);
                model.set_trap_handler(Some(Box::new(handler)));
                model.run(&request)
            };
            let seen = seen.map_err(|e| ("capi.run-failed", e.to_string()))?;
            let outcomes: Vec<String> = std::iter::once(&seen.outcome)
                .chain(&seen.threads)
                .map(|o| o.to_string())
                .collect();
            let bad: Vec<&String> = outcomes
                .iter()
                .filter(|o| !(o.starts_with("return") || o.starts_with("thread_exit")))
                .collect();
            if !bad.is_empty() {
                return err(
                    "capi.run-ended",
                    format!("the threads ended: {}", outcomes.join(", ")),
                );
            }
            Ok(())
        })
    }
}

/// A value made before the run, as a Mu literal for the first thread's arguments.
fn literal(v: &Val) -> R<String> {
    Ok(match v {
        Val::Int(bits, _) => bits.to_string(),
        Val::Float(b) => {
            let f = f32::from_bits(*b);
            if f.is_nan() {
                "nanf".into()
            } else {
                format!("{f:?}f")
            }
        }
        Val::Double(b) => {
            let d = f64::from_bits(*b);
            if d.is_nan() {
                "nand".into()
            } else {
                format!("{d:?}d")
            }
        }
        other => {
            return err(
                "capi.bad-argument",
                format!("{} cannot start a thread", other.kind()),
            );
        }
    })
}

// ---- MuVM ----

/// `MuVM.new_context`.
pub unsafe extern "C" fn vm_new_context(mvm: *mut MuVM) -> *mut MuCtx {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_vm(mvm, std::ptr::null_mut(), |vm| {
            let c = new_ctx(vm, None);
            vm.contexts.push(c);
            Ok(c)
        })
    }
}

/// `MuVM.id_of`.
pub unsafe extern "C" fn vm_id_of(mvm: *mut MuVM, name: *mut c_char) -> u32 {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_vm(mvm, 0, |vm| {
            let n = string(name)?;
            vm.loaded
                .as_ref()
                .and_then(|l| l.module.id_of(&n))
                .ok_or(("client.no-such-id", format!("no entity is named {n}")))
        })
    }
}

/// `MuVM.name_of`.
pub unsafe extern "C" fn vm_name_of(mvm: *mut MuVM, id: u32) -> *mut c_char {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_vm(mvm, std::ptr::null_mut(), |vm| {
            let n = vm
                .loaded
                .as_ref()
                .and_then(|l| l.module.name_of(id))
                .ok_or(("client.no-such-id", format!("no entity has ID {id}")))?;
            let c = CString::new(n).map_err(|_| ("capi.bad-name", String::new()))?;
            let p = c.as_ptr() as *mut c_char;
            vm.names.push(c);
            Ok(p)
        })
    }
}

/// `MuVM.set_trap_handler`.
pub unsafe extern "C" fn vm_set_trap_handler(
    mvm: *mut MuVM,
    handler: MuTrapHandler,
    userdata: *mut c_void,
) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_vm(mvm, (), |vm| {
            vm.handler = (handler, userdata as usize);
            Ok(())
        })
    }
}

/// `MuVM.muni_error`: the code of the last error on this VM (NULL: none since
/// the last call), its message in `*message`; then forgets it.
pub unsafe extern "C" fn vm_muni_error(
    mvm: *mut MuVM,
    message: *mut *const c_char,
) -> *const c_char {
    // SAFETY: forwarded contract of the table.
    let Some(vm) = (unsafe { vm(mvm) }) else {
        return std::ptr::null();
    };
    vm.channel.take(message)
}

// ---- MuCtx ----

/// `MuCtx.muni_error` (as the VM's, for this context's calls).
pub unsafe extern "C" fn ctx_muni_error(
    c: *mut MuCtx,
    message: *mut *const c_char,
) -> *const c_char {
    // SAFETY: forwarded contract of the table.
    let Some(cx) = (unsafe { ctx(c) }) else {
        return std::ptr::null();
    };
    cx.channel.take(message)
}

/// `MuCtx.id_of`.
pub unsafe extern "C" fn ctx_id_of(c: *mut MuCtx, name: *mut c_char) -> u32 {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, 0, |cx| {
            let n = string(name)?;
            cx.id_of(&n)
        })
    }
}

/// `MuCtx.name_of`.
pub unsafe extern "C" fn ctx_name_of(c: *mut MuCtx, id: u32) -> *mut c_char {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| {
            let n = cx.name_of(id)?;
            let s = CString::new(n).map_err(|_| ("capi.bad-name", String::new()))?;
            let p = s.as_ptr() as *mut c_char;
            cx.names.push(s);
            Ok(p)
        })
    }
}

/// `MuCtx.close_context`: frees a context from `new_context` (a trap handler's
/// is freed when the handler returns; closing it is refused).
pub unsafe extern "C" fn ctx_close_context(c: *mut MuCtx) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            if cx.trap.is_some() {
                return err(
                    "capi.trap-context",
                    "a trap handler's context closes when the handler returns",
                );
            }
            let vm = cx.vm();
            vm.contexts.retain(|x| *x != c);
            Ok(())
        })
    };
    // SAFETY: still live (only removed from the VM's list, or refused above).
    let in_trap = unsafe { ctx(c) }.is_none_or(|cx| cx.trap.is_some());
    if !in_trap {
        // SAFETY: a `new_context` context, removed from its VM's list, freed once.
        unsafe { free_ctx(c) };
    }
}

/// `MuCtx.load_bundle`: a text bundle, loaded after every one so far, all or
/// nothing (a failure says the verifier's code).
pub unsafe extern "C" fn ctx_load_bundle(c: *mut MuCtx, buf: *mut c_char, sz: usize) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            if buf.is_null() && sz > 0 {
                return err("capi.null-argument", "a NULL bundle");
            }
            let bytes = if sz == 0 {
                &[][..]
            } else {
                // SAFETY: `buf` holds `sz` bytes (muapi.h: buf:array:sz).
                std::slice::from_raw_parts(buf as *const u8, sz)
            };
            let text = String::from_utf8_lossy(bytes).into_owned();
            if let Some(t) = cx.trap {
                let name = format!("bundle{}", cx.vm().bundles.len() + 1);
                // SAFETY: the engine's context, live while the handler runs.
                return (*t).load_bundle(&name, &text).map_err(engine_err);
            }
            let vm = cx.vm();
            let name = format!("bundle{}.uir", vm.bundles.len() + 1);
            let mut all = vm.bundles.clone();
            all.push((name, text));
            let refs: Vec<(&str, &str)> =
                all.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
            let loaded = load(&refs).map_err(|e| {
                let code = e.diags.first().map_or("load-error", |d| d.code);
                ("client.load-failed", format!("{code}: {}", e.render()))
            })?;
            vm.bundles = all;
            vm.loaded = Some(loaded);
            Ok(())
        })
    }
}

macro_rules! from_int {
    ($name:ident, $t:ty) => {
        #[doc = concat!("`MuCtx.", stringify!($name), "`: an `int<len>` of `num`'s low bits.")]
        pub unsafe extern "C" fn $name(c: *mut MuCtx, num: $t, len: c_int) -> MuValue {
            // SAFETY: forwarded contract of the table.
            unsafe {
                with_ctx(c, std::ptr::null_mut(), |cx| {
                    let len = u32::try_from(len)
                        .ok()
                        .filter(|l| (1..=64).contains(l))
                        .ok_or(("capi.bad-length", format!("int<{len}>: 1 to 64 bits")))?;
                    let mask = if len == 64 {
                        u64::MAX
                    } else {
                        (1u64 << len) - 1
                    };
                    let bits = num as i64 as u64 & mask;
                    if let Some(t) = cx.trap {
                        // SAFETY: the engine's context, live while the handler runs.
                        let h = (*t).handle_from_int_len(len, bits).map_err(engine_err)?;
                        return Ok(cx.hold(Val::Engine(h)));
                    }
                    Ok(cx.hold(Val::Int(bits, len)))
                })
            }
        }
    };
}

from_int!(ctx_handle_from_sint8, i8);
from_int!(ctx_handle_from_uint8, u8);
from_int!(ctx_handle_from_sint16, i16);
from_int!(ctx_handle_from_uint16, u16);
from_int!(ctx_handle_from_sint32, i32);
from_int!(ctx_handle_from_uint32, u32);
from_int!(ctx_handle_from_sint64, i64);
from_int!(ctx_handle_from_uint64, u64);

/// `MuCtx.handle_from_float`.
pub unsafe extern "C" fn ctx_handle_from_float(c: *mut MuCtx, num: f32) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| match cx.trap {
            // SAFETY: the engine's context, live while the handler runs.
            Some(t) => Ok(cx.hold(Val::Engine(
                (*t).handle_from_float(num).map_err(engine_err)?,
            ))),
            None => Ok(cx.hold(Val::Float(num.to_bits()))),
        })
    }
}

/// `MuCtx.handle_from_double`.
pub unsafe extern "C" fn ctx_handle_from_double(c: *mut MuCtx, num: f64) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| match cx.trap {
            // SAFETY: the engine's context, live while the handler runs.
            Some(t) => Ok(cx.hold(Val::Engine(
                (*t).handle_from_double(num).map_err(engine_err)?,
            ))),
            None => Ok(cx.hold(Val::Double(num.to_bits()))),
        })
    }
}

/// The integer bits of a handle (and its width, if the context knows it).
fn int_of(cx: &mut Ctx, h: MuValue) -> R<(u64, Option<u32>)> {
    match cx.val(h)? {
        Val::Int(b, len) => Ok((b, Some(len))),
        Val::Engine(e) => Ok((cx.trap()?.handle_to_int(e).map_err(engine_err)?, None)),
        other => err("capi.wrong-kind", format!("{} is not an int", other.kind())),
    }
}

macro_rules! to_int {
    ($name:ident, $t:ty, $signed:expr) => {
        #[doc = concat!("`MuCtx.", stringify!($name), "`.")]
        pub unsafe extern "C" fn $name(c: *mut MuCtx, opnd: MuValue) -> $t {
            // SAFETY: forwarded contract of the table.
            unsafe {
                with_ctx(c, 0, |cx| {
                    let (bits, len) = int_of(cx, opnd)?;
                    // A signed reading sign-extends from the value's width.
                    let v = match (len, $signed) {
                        (Some(l), true) if l < 64 => ((bits << (64 - l)) as i64 >> (64 - l)) as u64,
                        _ => bits,
                    };
                    Ok(v as $t)
                })
            }
        }
    };
}

to_int!(ctx_handle_to_sint8, i8, true);
to_int!(ctx_handle_to_uint8, u8, false);
to_int!(ctx_handle_to_sint16, i16, true);
to_int!(ctx_handle_to_uint16, u16, false);
to_int!(ctx_handle_to_sint32, i32, true);
to_int!(ctx_handle_to_uint32, u32, false);
to_int!(ctx_handle_to_sint64, i64, true);
to_int!(ctx_handle_to_uint64, u64, false);

/// `MuCtx.handle_to_float`.
pub unsafe extern "C" fn ctx_handle_to_float(c: *mut MuCtx, opnd: MuValue) -> f32 {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, 0.0, |cx| match cx.val(opnd)? {
            Val::Float(b) => Ok(f32::from_bits(b)),
            Val::Engine(e) => Ok(cx.trap()?.handle_to_double(e).map_err(engine_err)? as f32),
            other => err(
                "capi.wrong-kind",
                format!("{} is not a float", other.kind()),
            ),
        })
    }
}

/// `MuCtx.handle_to_double`.
pub unsafe extern "C" fn ctx_handle_to_double(c: *mut MuCtx, opnd: MuValue) -> f64 {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, 0.0, |cx| match cx.val(opnd)? {
            Val::Double(b) => Ok(f64::from_bits(b)),
            Val::Engine(e) => cx.trap()?.handle_to_double(e).map_err(engine_err),
            other => err(
                "capi.wrong-kind",
                format!("{} is not a double", other.kind()),
            ),
        })
    }
}

/// `MuCtx.handle_from_func`.
pub unsafe extern "C" fn ctx_handle_from_func(c: *mut MuCtx, id: u32) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| {
            let name = cx.name_of(id)?;
            if let Some(t) = cx.trap {
                // SAFETY: the engine's context, live while the handler runs.
                let h = (*t).handle_from_id(id).map_err(engine_err)?;
                return Ok(cx.hold(Val::Engine(h)));
            }
            let is_func = cx
                .vm()
                .loaded
                .as_ref()
                .is_some_and(|l| l.module.func(&name).is_some());
            if !is_func {
                return err("capi.not-a-function", format!("{name} is not a function"));
            }
            Ok(cx.hold(Val::Func(name)))
        })
    }
}

/// `MuCtx.handle_from_const`, `handle_from_global` (in a trap handler).
pub unsafe extern "C" fn ctx_handle_from_global(c: *mut MuCtx, id: u32) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| {
            let h = cx.trap()?.handle_from_id(id).map_err(engine_err)?;
            Ok(cx.hold(Val::Engine(h)))
        })
    }
}

/// `MuCtx.handle_from_const` (in a trap handler).
pub unsafe extern "C" fn ctx_handle_from_const(c: *mut MuCtx, id: u32) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe { ctx_handle_from_global(c, id) }
}

/// `MuCtx.delete_value`.
pub unsafe extern "C" fn ctx_delete_value(c: *mut MuCtx, opnd: MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            if let Val::Engine(e) = cx.val(opnd)? {
                cx.trap()?.delete_value(e);
            }
            cx.values[opnd as usize - 1] = None;
            Ok(())
        })
    }
}

/// `MuCtx.load`: the value at an iref (a trap handler's context).
pub unsafe extern "C" fn ctx_load(c: *mut MuCtx, _ord: u32, loc: MuValue) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| {
            cx.trap()?;
            let Val::Engine(ir) = cx.val(loc)? else {
                return err("capi.wrong-kind", "load takes an iref");
            };
            let v = cx.trap()?.load(ir).map_err(engine_err)?;
            Ok(cx.hold(Val::Engine(v)))
        })
    }
}

/// `MuCtx.store`: stores an engine value at an iref (a trap handler's context).
pub unsafe extern "C" fn ctx_store(c: *mut MuCtx, _ord: u32, loc: MuValue, newval: MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            cx.trap()?;
            let (Val::Engine(ir), Val::Engine(v)) = (cx.val(loc)?, cx.val(newval)?) else {
                return err(
                    "capi.wrong-kind",
                    "store takes an iref and a value the engine holds",
                );
            };
            cx.trap()?.store(ir, v).map_err(engine_err)
        })
    }
}

/// `MuCtx.new_stack`: a stack whose bottom frame is the function.
pub unsafe extern "C" fn ctx_new_stack(c: *mut MuCtx, func: MuValue) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| match cx.val(func)? {
            Val::Func(name) => {
                let vm = cx.vm();
                vm.stacks.push((name, false));
                let n = vm.stacks.len() - 1;
                Ok(cx.hold(Val::Stack(n)))
            }
            Val::Engine(f) => {
                let s = cx.trap()?.new_stack(f).map_err(engine_err)?;
                Ok(cx.hold(Val::Engine(s)))
            }
            other => err(
                "capi.wrong-kind",
                format!("{} is not a funcref", other.kind()),
            ),
        })
    }
}

/// `MuCtx.new_thread_nor`: a thread on the stack, passing `vals` to its bottom
/// function; before `muni_execute` it waits for it.
pub unsafe extern "C" fn ctx_new_thread_nor(
    c: *mut MuCtx,
    stack: MuValue,
    threadlocal: MuValue,
    vals: *mut MuValue,
    nvals: c_int,
) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| {
            if !threadlocal.is_null() {
                return err("capi.unsupported", "thread-local references");
            }
            let n = usize::try_from(nvals).map_err(|_| ("capi.bad-length", "nvals < 0".into()))?;
            if vals.is_null() && n > 0 {
                return err("capi.null-argument", "NULL values");
            }
            let hs: Vec<MuValue> = if n == 0 {
                Vec::new()
            } else {
                // SAFETY: `vals` holds `nvals` handles (muapi.h: vals:array:nvals).
                std::slice::from_raw_parts(vals, n).to_vec()
            };
            match cx.val(stack)? {
                Val::Stack(s) => {
                    let args = hs.iter().map(|h| cx.val(*h)).collect::<R<Vec<_>>>()?;
                    let vm = cx.vm();
                    let (func, taken) = vm.stacks[s].clone();
                    if taken {
                        return err("client.stack-not-ready", "the stack has a thread already");
                    }
                    vm.stacks[s].1 = true;
                    vm.pending.push(Pending { func, args });
                    let t = vm.pending.len() - 1;
                    Ok(cx.hold(Val::Thread(t)))
                }
                Val::Engine(s) => {
                    let args = hs
                        .iter()
                        .map(|h| cx.client_value(*h))
                        .collect::<R<Vec<_>>>()?;
                    let t = cx
                        .trap()?
                        .new_thread(s, NewThread::PassValues(args))
                        .map_err(engine_err)?;
                    Ok(cx.hold(Val::Engine(t)))
                }
                other => err(
                    "capi.wrong-kind",
                    format!("{} is not a stackref", other.kind()),
                ),
            }
        })
    }
}

/// `MuCtx.new_cursor`: a cursor at the top frame of the trapping stack.
pub unsafe extern "C" fn ctx_new_cursor(c: *mut MuCtx, _stack: MuValue) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| {
            let k = cx.trap()?.new_cursor().map_err(engine_err)?;
            Ok(cx.hold(Val::Cursor(k)))
        })
    }
}

fn cursor(cx: &Ctx, h: MuValue) -> R<Cursor> {
    match cx.val(h)? {
        Val::Cursor(k) => Ok(k),
        other => err(
            "capi.wrong-kind",
            format!("{} is not a frame cursor", other.kind()),
        ),
    }
}

/// `MuCtx.next_frame`.
pub unsafe extern "C" fn ctx_next_frame(c: *mut MuCtx, cur: MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            let k = cursor(cx, cur)?;
            cx.trap()?.next_frame(k).map_err(engine_err)
        })
    }
}

/// `MuCtx.close_cursor`.
pub unsafe extern "C" fn ctx_close_cursor(c: *mut MuCtx, cur: MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            let k = cursor(cx, cur)?;
            cx.trap()?.close_cursor(k).map_err(engine_err)
        })
    }
}

/// `MuCtx.cur_func`.
pub unsafe extern "C" fn ctx_cur_func(c: *mut MuCtx, cur: MuValue) -> u32 {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, 0, |cx| {
            let k = cursor(cx, cur)?;
            cx.trap()?.cur_func(k).map_err(engine_err)
        })
    }
}

/// `MuCtx.cur_inst`.
pub unsafe extern "C" fn ctx_cur_inst(c: *mut MuCtx, cur: MuValue) -> u32 {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, 0, |cx| {
            let k = cursor(cx, cur)?;
            cx.trap()?.cur_inst(k).map_err(engine_err)
        })
    }
}

/// `MuCtx.dump_keepalives`: the frame's keep-alive values into `results`, which
/// has room for as many as the instruction keeps alive.
pub unsafe extern "C" fn ctx_dump_keepalives(c: *mut MuCtx, cur: MuValue, results: *mut MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            let k = cursor(cx, cur)?;
            let hs = cx.trap()?.dump_keepalives(k).map_err(engine_err)?;
            if results.is_null() && !hs.is_empty() {
                return err("capi.null-argument", "NULL results");
            }
            for (i, h) in hs.into_iter().enumerate() {
                let v = cx.hold(Val::Engine(h));
                // SAFETY: the client gives room for every keep-alive value
                // (muapi.h: results:out).
                *results.add(i) = v;
            }
            Ok(())
        })
    }
}

/// The engine value behind a handle (a trap handler's context).
fn engine(cx: &mut Ctx, h: MuValue, what: &str) -> R<Handle> {
    cx.trap()?;
    match cx.val(h)? {
        Val::Engine(e) => Ok(e),
        Val::Func(name) => engine_func(cx.trap()?, &name),
        other => err(
            "capi.wrong-kind",
            format!(
                "{what} takes a value the engine holds, not {}",
                other.kind()
            ),
        ),
    }
}

/// Runs an engine call that makes a value, and holds it.
unsafe fn make(c: *mut MuCtx, f: impl FnOnce(&mut Ctx) -> R<Handle>) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| {
            let h = f(cx)?;
            Ok(cx.hold(Val::Engine(h)))
        })
    }
}

/// `MuCtx.handle_from_expose` (in a trap handler).
pub unsafe extern "C" fn ctx_handle_from_expose(c: *mut MuCtx, id: u32) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe { make(c, |cx| cx.trap()?.handle_from_id(id).map_err(engine_err)) }
}

/// `MuCtx.ref_eq`.
pub unsafe extern "C" fn ctx_ref_eq(c: *mut MuCtx, lhs: MuValue, rhs: MuValue) -> c_int {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, 0, |cx| {
            let (a, b) = (engine(cx, lhs, "ref_eq")?, engine(cx, rhs, "ref_eq")?);
            Ok(c_int::from(cx.trap()?.ref_eq(a, b).map_err(engine_err)?))
        })
    }
}

/// `MuCtx.new_fixed`.
pub unsafe extern "C" fn ctx_new_fixed(c: *mut MuCtx, mu_type: u32) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe { make(c, |cx| cx.trap()?.new_fixed(mu_type).map_err(engine_err)) }
}

/// `MuCtx.new_hybrid`.
pub unsafe extern "C" fn ctx_new_hybrid(c: *mut MuCtx, mu_type: u32, length: MuValue) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            let (n, _) = int_of(cx, length)?;
            cx.trap()?.new_hybrid(mu_type, n).map_err(engine_err)
        })
    }
}

/// `MuCtx.get_iref`.
pub unsafe extern "C" fn ctx_get_iref(c: *mut MuCtx, opnd: MuValue) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            let r = engine(cx, opnd, "get_iref")?;
            cx.trap()?.get_iref(r).map_err(engine_err)
        })
    }
}

/// `MuCtx.get_field_iref`.
pub unsafe extern "C" fn ctx_get_field_iref(c: *mut MuCtx, opnd: MuValue, field: c_int) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            let r = engine(cx, opnd, "get_field_iref")?;
            let f = usize::try_from(field)
                .map_err(|_| ("capi.bad-length", "a negative field".into()))?;
            cx.trap()?.get_field_iref(r, f).map_err(engine_err)
        })
    }
}

/// `MuCtx.get_elem_iref`.
pub unsafe extern "C" fn ctx_get_elem_iref(
    c: *mut MuCtx,
    opnd: MuValue,
    index: MuValue,
) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            let r = engine(cx, opnd, "get_elem_iref")?;
            let (i, _) = int_of(cx, index)?;
            cx.trap()?.get_elem_iref(r, i).map_err(engine_err)
        })
    }
}

/// `MuCtx.shift_iref`.
pub unsafe extern "C" fn ctx_shift_iref(c: *mut MuCtx, opnd: MuValue, offset: MuValue) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            let r = engine(cx, opnd, "shift_iref")?;
            let (o, len) = int_of(cx, offset)?;
            let o = match len {
                Some(l) if l < 64 => ((o << (64 - l)) as i64) >> (64 - l),
                _ => o as i64,
            };
            cx.trap()?.shift_iref(r, o).map_err(engine_err)
        })
    }
}

/// `MuCtx.get_var_part_iref`.
pub unsafe extern "C" fn ctx_get_var_part_iref(c: *mut MuCtx, opnd: MuValue) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            let r = engine(cx, opnd, "get_var_part_iref")?;
            cx.trap()?.get_var_part_iref(r).map_err(engine_err)
        })
    }
}

/// `MuCtx.cmpxchg` (every order behaves as SEQ_CST: one thread runs).
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ctx_cmpxchg(
    c: *mut MuCtx,
    _ord_succ: u32,
    _ord_fail: u32,
    _weak: c_int,
    loc: MuValue,
    expected: MuValue,
    desired: MuValue,
    is_succ: *mut c_int,
) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            let ir = engine(cx, loc, "cmpxchg")?;
            let e = engine(cx, expected, "cmpxchg")?;
            let d = engine(cx, desired, "cmpxchg")?;
            let (old, ok) = cx.trap()?.cmpxchg(ir, e, d).map_err(engine_err)?;
            if !is_succ.is_null() {
                // SAFETY: an out-parameter of the client's (muapi.h: is_succ:out).
                *is_succ = c_int::from(ok);
            }
            Ok(old)
        })
    }
}

/// `MuCtx.atomicrmw`.
pub unsafe extern "C" fn ctx_atomicrmw(
    c: *mut MuCtx,
    _ord: u32,
    op: u32,
    loc: MuValue,
    opnd: MuValue,
) -> MuValue {
    use spec_model::client::AtomicRmwOp as Op;
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            let op = match op {
                0x00 => Op::Xchg,
                0x01 => Op::Add,
                0x02 => Op::Sub,
                0x03 => Op::And,
                0x04 => Op::Nand,
                0x05 => Op::Or,
                0x06 => Op::Xor,
                0x07 => Op::Max,
                0x08 => Op::Min,
                0x09 => Op::Umax,
                0x0A => Op::Umin,
                _ => return err("capi.bad-flag", format!("no atomicrmw operation {op:#x}")),
            };
            let ir = engine(cx, loc, "atomicrmw")?;
            let v = engine(cx, opnd, "atomicrmw")?;
            cx.trap()?.atomicrmw(op, ir, v).map_err(engine_err)
        })
    }
}

/// `MuCtx.pin`.
pub unsafe extern "C" fn ctx_pin(c: *mut MuCtx, loc: MuValue) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            let r = engine(cx, loc, "pin")?;
            cx.trap()?.pin(r).map_err(engine_err)
        })
    }
}

/// `MuCtx.unpin`.
pub unsafe extern "C" fn ctx_unpin(c: *mut MuCtx, loc: MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            let r = engine(cx, loc, "unpin")?;
            cx.trap()?.unpin(r).map_err(engine_err)
        })
    }
}

/// `MuCtx.handle_to_ptr`: the address of a `uptr` value.
pub unsafe extern "C" fn ctx_handle_to_ptr(c: *mut MuCtx, opnd: MuValue) -> *mut c_void {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| {
            Ok(int_of(cx, opnd)?.0 as usize as *mut c_void)
        })
    }
}

/// `MuCtx.handle_to_fp`: the address of a `ufuncptr` value.
pub unsafe extern "C" fn ctx_handle_to_fp(c: *mut MuCtx, opnd: MuValue) -> tables::MuCFP {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, None, |cx| {
            let a = int_of(cx, opnd)?.0 as usize;
            // SAFETY: a `ufuncptr` is a C function's address (or 0, None); the
            // client calls it at its own risk, as muapi.h says.
            Ok(std::mem::transmute::<usize, tables::MuCFP>(a))
        })
    }
}

/// `MuCtx.handle_from_ptr`: a `uptr` of type `mu_type`.
pub unsafe extern "C" fn ctx_handle_from_ptr(
    c: *mut MuCtx,
    mu_type: u32,
    ptr: *mut c_void,
) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| match cx.trap {
            // SAFETY: the engine's context, live while the handler runs.
            Some(t) => Ok(cx.hold(Val::Engine(
                (*t).handle_from_int(mu_type, ptr as u64)
                    .map_err(engine_err)?,
            ))),
            None => {
                cx.name_of(mu_type)?;
                Ok(cx.hold(Val::Int(ptr as u64, 64)))
            }
        })
    }
}

/// `MuCtx.expose`: a C function pointer that calls the Mu function.
pub unsafe extern "C" fn ctx_expose(
    c: *mut MuCtx,
    func: MuValue,
    call_conv: u32,
    cookie: MuValue,
) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        make(c, |cx| {
            if call_conv != 0 {
                return err("capi.bad-flag", "the calling convention is MU_CC_DEFAULT");
            }
            let f = engine(cx, func, "expose")?;
            let (k, _) = int_of(cx, cookie)?;
            cx.trap()?.expose(f, k).map_err(engine_err)
        })
    }
}

/// `MuCtx.unexpose`.
pub unsafe extern "C" fn ctx_unexpose(c: *mut MuCtx, call_conv: u32, value: MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            if call_conv != 0 {
                return err("capi.bad-flag", "the calling convention is MU_CC_DEFAULT");
            }
            let p = engine(cx, value, "unexpose")?;
            cx.trap()?.unexpose(p).map_err(engine_err)
        })
    }
}

/// `MuCtx.cur_func_ver`.
pub unsafe extern "C" fn ctx_cur_func_ver(c: *mut MuCtx, cur: MuValue) -> u32 {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, 0, |cx| {
            let k = cursor(cx, cur)?;
            cx.trap()?.cur_func_ver(k).map_err(engine_err)
        })
    }
}

/// `MuCtx.copy_cursor`.
pub unsafe extern "C" fn ctx_copy_cursor(c: *mut MuCtx, cur: MuValue) -> MuValue {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, std::ptr::null_mut(), |cx| {
            let k = cursor(cx, cur)?;
            let k2 = cx.trap()?.copy_cursor(k).map_err(engine_err)?;
            Ok(cx.hold(Val::Cursor(k2)))
        })
    }
}

/// `MuCtx.pop_frames_to`.
pub unsafe extern "C" fn ctx_pop_frames_to(c: *mut MuCtx, cur: MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            let k = cursor(cx, cur)?;
            cx.trap()?.pop_frames_to(k).map_err(engine_err)
        })
    }
}

/// `MuCtx.push_frame` (on the trapping stack).
pub unsafe extern "C" fn ctx_push_frame(c: *mut MuCtx, _stack: MuValue, func: MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            let f = engine(cx, func, "push_frame")?;
            cx.trap()?.push_frame(f).map_err(engine_err)
        })
    }
}

/// `MuCtx.kill_stack`.
pub unsafe extern "C" fn ctx_kill_stack(c: *mut MuCtx, stack: MuValue) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| match cx.val(stack)? {
            Val::Stack(s) => {
                let vm = cx.vm();
                if vm.stacks[s].1 {
                    return err("client.stack-not-ready", "the stack has a thread");
                }
                vm.stacks[s].1 = true;
                Ok(())
            }
            Val::Engine(s) => cx.trap()?.kill_stack(s).map_err(engine_err),
            other => err(
                "capi.wrong-kind",
                format!("{} is not a stackref", other.kind()),
            ),
        })
    }
}

/// `MuCtx.enable_watchpoint`.
pub unsafe extern "C" fn ctx_enable_watchpoint(c: *mut MuCtx, wpid: u32) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            cx.trap()?.enable_watchpoint(u64::from(wpid));
            Ok(())
        })
    }
}

/// `MuCtx.disable_watchpoint`.
pub unsafe extern "C" fn ctx_disable_watchpoint(c: *mut MuCtx, wpid: u32) {
    // SAFETY: forwarded contract of the table.
    unsafe {
        with_ctx(c, (), |cx| {
            cx.trap()?.disable_watchpoint(u64::from(wpid));
            Ok(())
        })
    }
}

/// `MuCtx.fence`: one thread runs, so there is nothing to order.
pub unsafe extern "C" fn ctx_fence(c: *mut MuCtx, _ord: u32) {
    // SAFETY: forwarded contract of the table.
    unsafe { with_ctx(c, (), |_| Ok(())) }
}
