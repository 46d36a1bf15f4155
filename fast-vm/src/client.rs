//! The fast VM's side of the client interface (spec/11): the runtime functions
//! JIT code calls at a `TRAP` (`rt_trap`), at a call of a function with no version
//! (`rt_undefined`, from the hidden version `lower::undefined_function` compiles)
//! and in a frame the client popped to (`rt_osr_resume`), and the client context
//! ([`MuCtx`]) a trap handler is given, over the run's heap and, in client mode,
//! the frame records compiled code keeps (`lower::RECORD_WORDS`).
//!
//! On-stack replacement without moving native frames: `pop_frames_to` makes the
//! trap answer `REPLACED` with the frame's record in `Ctx::osr_target`; every
//! frame above returns it at once (unlinking itself as on any return), and the
//! frame popped to finds its own record there and asks `rt_osr_resume` how it
//! goes on: with the client's values as its CALL's results, with its exception,
//! or by calling the frame the client pushed (through the function's entry point,
//! whose results are then the CALL's).

use super::*;
use crate::lower::{CALL_SIG_SHIFT, IN_NATIVE, Kept, NO_SITE};
use runtime::REPLACED;
use runtime::Words;
use spec_model::client::{
    AtomicRmwOp, CResult, ClientError, ClientValue, Cursor, Handle, MuCtx, MuId, NewThread, Start,
    Table, TrapAnswer, TrapEvent, TrapHandler, TrapKind, shared,
};

/// What a held value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A value of `Held::ty`, one word per leaf.
    Value,
    /// A `ref` to an object of `Held::ty`.
    Ref,
    /// An `iref` to a location of `Held::ty`.
    IRef,
    /// A `funcref` (the function's stub or code).
    Func,
    /// A `uptr` or `ufuncptr`.
    Ptr,
    /// A `stackref` the client made: the stack's number.
    Stack,
    /// A `threadref` the client made: the thread's number.
    Thread,
}

/// A value the client holds.
#[derive(Clone, Debug)]
struct Held {
    kind: Kind,
    ty: TypeId,
    words: Vec<u64>,
}

impl Held {
    /// A value of type `t` from its leaves' words.
    fn of(types: &spec_model::ir::Types, t: TypeId, words: Vec<u64>) -> Held {
        let (kind, ty) = match types.get(t) {
            Type::Ref(r) | Type::WeakRef(r) => (Kind::Ref, *r),
            Type::IRef(r) => (Kind::IRef, *r),
            Type::FuncRef(_) => (Kind::Func, t),
            Type::UPtr(_) | Type::UFuncPtr(_) => (Kind::Ptr, t),
            _ => (Kind::Value, t),
        };
        Held { kind, ty, words }
    }

    fn word(kind: Kind, ty: TypeId, w: u64) -> Held {
        Held {
            kind,
            ty,
            words: vec![w],
        }
    }

    /// The indices of the words that are references (roots for a collection).
    fn ref_words(&self, types: &spec_model::ir::Types) -> Vec<usize> {
        match self.kind {
            Kind::Ref | Kind::IRef => vec![0],
            Kind::Value => lower::ref_leaves(types, self.ty),
            Kind::Func | Kind::Ptr | Kind::Stack | Kind::Thread => Vec::new(),
        }
    }
}

/// How a frame the client popped to goes on (`rt_osr_resume`).
#[derive(Debug)]
pub(crate) struct OsrPlan {
    status: i32,
    /// The CALL's results (NORMAL), or the pushed frame's arguments.
    words: Vec<u64>,
    exc: u64,
    /// The function of the frame the client pushed, and that frame's depth.
    push: Option<(u32, u64)>,
}

/// Where a frame cursor is.
#[derive(Clone, Copy, Debug)]
enum Pos {
    /// At the frame of this record.
    Record(u64),
    /// At the native frames below the frame of this record.
    Native(u64),
    /// At the frame the client pushed, of this function (it has not started).
    Pushed(u32),
    /// At the trap's frame, in a program without frame records.
    Top,
}

/// A frame as its record and its function's frame table say
/// (`lower::RECORD_WORDS`).
#[derive(Clone, Copy, Debug)]
struct FrameRec {
    /// The record of the frame below (0: none).
    prev: u64,
    func: u32,
    ver: u32,
    /// The instruction it is at (0: none yet, or unnamed).
    inst: u32,
    /// Its site word: `IN_NATIVE`, a CALL's signature, or 0.
    site: u64,
    depth: u64,
}

/// The frame of record `rec`.
fn record(rec: u64) -> FrameRec {
    let p = rec as *const u64;
    // SAFETY: `rec` is the address of a frame record of a live frame: compiled code
    // links only records of frames that have not returned (`Ctx::frames`).
    let w = unsafe { [0, 1, 2, 3, 4].map(|i| p.add(i).read()) };
    let table = w[1] as *const u64;
    // SAFETY: word 1 is the function's frame table, data of the program's JIT
    // module (alive as long as the program): the two IDs, then two words per
    // site, and word 3 is one of its sites or NO_SITE.
    let (func, ver, inst, site) = unsafe {
        let (func, ver) = (table.read() as u32, table.add(1).read() as u32);
        match usize::try_from(w[3]).ok().filter(|_| w[3] != NO_SITE) {
            Some(k) => (
                func,
                ver,
                table.add(2 + 2 * k).read() as u32,
                table.add(3 + 2 * k).read(),
            ),
            None => (func, ver, 0, 0),
        }
    };
    FrameRec {
        prev: w[0],
        func,
        ver,
        inst,
        site,
        depth: w[4],
    }
}

/// The client context of one trap, in the fast VM.
struct FastCtx<'a, 'm> {
    program: &'a Program<'m>,
    ctx: *mut Ctx,
    handles: Table<Held>,
    cursors: Table<Pos>,
    /// The trap's keep-alive values (an undefined function's arguments).
    kept: Vec<Held>,
    /// The IDs of the trap's frame (what a program without records shows).
    top_ids: [u32; 3],
    /// The trap's frame's record (0: the program keeps none).
    top: u64,
    /// On-stack replacement so far: the record popped to, the function pushed.
    popped_to: Option<u64>,
    pushed: Option<u32>,
    /// The context of a run's start (`on_start`): the stack has no frame yet.
    at_start: bool,
    /// What the trap's frame takes when resumed (the TRAP's result types).
    expect: Vec<TypeId>,
}

fn err<T>(code: &'static str, message: impl Into<String>) -> CResult<T> {
    Err(ClientError::new(code, message))
}

impl<'a, 'm> FastCtx<'a, 'm> {
    #[allow(
        clippy::mut_from_ref,
        reason = "the context is the run's, not the handler's"
    )]
    fn c(&self) -> &'static mut Ctx {
        // SAFETY: the context of the run, which outlives the handler's call, and
        // which JIT code does not touch while the handler runs.
        unsafe { &mut *self.ctx }
    }

    #[allow(clippy::mut_from_ref, reason = "as for `c`")]
    fn heap(&self) -> &'static mut Heap<'static> {
        // SAFETY: as above; the heap lives as long as the run.
        unsafe { &mut *self.c().heap }
    }

    fn types(&self) -> &'m spec_model::ir::Types {
        &self.program.module().types
    }

    /// A context for a trap of the run `ctx` of `program`: its keep-alive values,
    /// the IDs of its frame and that frame's record (0: none).
    fn new(
        program: &'a Program<'m>,
        ctx: *mut Ctx,
        kept: Vec<Held>,
        top_ids: [u32; 3],
        top: u64,
    ) -> Self {
        FastCtx {
            program,
            ctx,
            handles: Table::default(),
            cursors: Table::default(),
            kept,
            top_ids,
            top,
            popped_to: None,
            pushed: None,
            at_start: false,
            expect: Vec::new(),
        }
    }

    fn keep(&mut self, h: Held) -> Handle {
        Handle(self.handles.push(h))
    }

    fn get(&self, h: Handle) -> CResult<&Held> {
        match self.handles.get(h.0) {
            Some(x) => Ok(x),
            None => err("client.bad-handle", format!("no value {}", h.0)),
        }
    }

    /// The stack a `stackref` handle names.
    fn stack(&self, h: Handle) -> CResult<u32> {
        match self.get(h)? {
            Held {
                kind: Kind::Stack,
                words,
                ..
            } => Ok(words.first().copied().unwrap_or(0) as u32),
            _ => err("client.not-a-stack", "the value is not a stackref"),
        }
    }

    /// What a client value that names a held value (a keep-alive value or a
    /// handle) holds.
    fn held(&self, v: &ClientValue) -> Option<&Held> {
        match v {
            ClientValue::Kept(i) => self.kept.get(*i),
            ClientValue::Handle(h) => self.handles.get(h.0),
            _ => None,
        }
    }

    /// A view of the run's memory, as outcomes show it.
    fn view(&self) -> View<'_, 'm> {
        let heap = self.heap();
        heap.flush(self.c().bump);
        View {
            program: self.program,
            // SAFETY: the heap is the run's, of this program's module.
            heap: unsafe { &*(heap as *const Heap<'static>).cast::<Heap<'m>>() },
            globals: self.c().globals as u64,
        }
    }

    /// Allocates `size` bytes of type `ty`, every handle and keep-alive value a
    /// root if the heap collects.
    fn alloc(&mut self, ty: TypeId, len: u64) -> CResult<Handle> {
        let types = self.types();
        let size = layout::alloc_size(types, ty, len);
        let mut roots: Vec<*mut u64> = Vec::new();
        for h in self.handles.iter_mut().chain(self.kept.iter_mut()) {
            for i in h.ref_words(types) {
                if let Some(w) = h.words.get_mut(i) {
                    roots.push(w);
                }
            }
        }
        // SAFETY: the run's context; the roots are words of the client's values,
        // which live across the call.
        let addr = unsafe { runtime::alloc_rooted(self.ctx, size, u64::from(ty), len, &roots) };
        if addr == 0 {
            return err("client.alloc-exhausted", "the allocation budget is spent");
        }
        Ok(self.keep(Held::word(Kind::Ref, ty, addr)))
    }

    /// The address an `iref` handle holds and its referent type.
    fn iref(&self, h: Handle) -> CResult<(u64, TypeId)> {
        match self.get(h)? {
            Held {
                kind: Kind::IRef,
                ty,
                words,
            } => match words.first() {
                Some(0) | None => err("client.undefined-behaviour", "mem.null-navigation"),
                Some(a) => Ok((*a, *ty)),
            },
            _ => err("client.not-an-iref", "the value is not an iref"),
        }
    }

    /// `addr` moved by `delta` bytes, checked to stay in its object.
    fn moved(&mut self, addr: u64, delta: i128, ty: TypeId) -> CResult<Handle> {
        let to = (i128::from(addr) + delta) as u64;
        let view = self.view();
        if let Some(o) = view.heap.find(addr)
            && (to < o.base || to > o.base + o.size)
        {
            return err("client.undefined-behaviour", "mem.out-of-bounds");
        }
        Ok(self.keep(Held::word(Kind::IRef, ty, to)))
    }

    /// The location an access through `h` reaches: in a live object or a cell.
    fn access(&self, h: Handle) -> CResult<(u64, TypeId)> {
        let (a, ty) = self.iref(h)?;
        if self.view().base(a).is_none() {
            return err("client.undefined-behaviour", "mem.dead-alloca");
        }
        Ok((a, ty))
    }

    fn value_words(&self, h: Handle, ty: TypeId) -> CResult<Vec<u64>> {
        let x = self.get(h)?;
        shared::storable(self.types(), x.ty, ty)?;
        Ok(match (self.types().get(ty), &x.words[..]) {
            (Type::Int(n), [w]) => vec![w & mask(*n)],
            _ => x.words.clone(),
        })
    }

    fn pos(&self, c: Cursor) -> CResult<Pos> {
        match self.cursors.get(c.0) {
            Some(p) => Ok(*p),
            None => err("client.bad-cursor", format!("no cursor {}", c.0)),
        }
    }

    /// The top frame now.
    fn top_pos(&self) -> Pos {
        match (self.pushed, self.popped_to, self.top) {
            (Some(g), _, _) => Pos::Pushed(g),
            (None, Some(r), _) => Pos::Record(r),
            (None, None, 0) => Pos::Top,
            (None, None, r) => Pos::Record(r),
        }
    }

    /// The IDs (function, version, instruction) of the frame at `p`.
    fn ids(&self, p: Pos) -> [u32; 3] {
        match p {
            Pos::Top => self.top_ids,
            Pos::Record(r) => {
                let f = record(r);
                [f.func, f.ver, f.inst]
            }
            Pos::Native(_) => [0; 3],
            Pos::Pushed(g) => {
                let m = self.program.module();
                let f = &m.funcs[g as usize];
                let ver = f.body.as_ref().and_then(|b| m.id_of(b.version.as_str()));
                [m.id_of(f.name.as_str()).unwrap_or(0), ver.unwrap_or(0), 0]
            }
        }
    }

    /// The words a client value gives a value of type `ty`.
    fn words_of(&self, v: &ClientValue, ty: TypeId) -> Result<Vec<u64>, String> {
        let types = self.types();
        let bad = || {
            Err(format!(
                "the client's {v:?} is not a value of {}",
                types.show(ty)
            ))
        };
        Ok(match (v, types.get(ty)) {
            (ClientValue::Int(b), Type::Int(n)) => vec![b & mask(*n)],
            (ClientValue::Int(b), Type::UPtr(_) | Type::UFuncPtr(_)) => vec![*b],
            (ClientValue::Float(b), Type::Float) => vec![u64::from(*b)],
            (ClientValue::Double(b), Type::Double) => vec![*b],
            (ClientValue::Null, Type::Ref(_) | Type::IRef(_) | Type::FuncRef(_)) => vec![0],
            (ClientValue::Kept(_) | ClientValue::Handle(_), t) => {
                let Some(h) = self.held(v).filter(|h| !h.words.is_empty()) else {
                    return bad();
                };
                let fits = match (h.kind, t) {
                    (Kind::Ref, Type::Ref(_) | Type::WeakRef(_))
                    | (Kind::IRef, Type::IRef(_))
                    | (Kind::Func, Type::FuncRef(_))
                    | (Kind::Ptr, Type::UPtr(_) | Type::UFuncPtr(_)) => true,
                    (Kind::Value, _) => {
                        std::mem::discriminant(types.get(h.ty)) == std::mem::discriminant(t)
                    }
                    _ => false,
                };
                if !fits {
                    return bad();
                }
                match (t, &h.words[..]) {
                    (Type::Int(n), [w]) => vec![w & mask(*n)],
                    _ => h.words.clone(),
                }
            }
            _ => return bad(),
        })
    }

    /// The words of `vs` as values of `tys`.
    fn all_words(&self, vs: &[ClientValue], tys: &[TypeId]) -> Result<Vec<u64>, String> {
        if vs.len() != tys.len() {
            return Err(format!(
                "the client passed {} values; {} are expected",
                vs.len(),
                tys.len()
            ));
        }
        let mut out = Vec::new();
        for (v, t) in vs.iter().zip(tys) {
            out.extend(self.words_of(v, *t)?);
        }
        if out.len() > RET_SLOTS {
            return Err("too many values".into());
        }
        Ok(out)
    }

    /// The exception word of a client value.
    fn exception(&self, v: &ClientValue) -> Result<u64, String> {
        match v {
            ClientValue::Null => Ok(0),
            ClientValue::Kept(_) | ClientValue::Handle(_) => match self.held(v) {
                Some(Held {
                    kind: Kind::Ref,
                    words,
                    ..
                }) => Ok(words[0]),
                _ => Err(format!("the client threw {v:?}, which is not a reference")),
            },
            _ => Err(format!("the client threw {v:?}, not a reference")),
        }
    }

    /// The result types of the CALL the frame of record `rec` is at.
    fn call_results(&self, rec: u64) -> Option<Vec<TypeId>> {
        let sig = (record(rec).site >> CALL_SIG_SHIFT).checked_sub(1)?;
        let types = &self.program.module().types;
        let sig = u32::try_from(sig).ok()?;
        (sig < types.sigs.len() as u32).then(|| types.sig(sig).rets.clone())
    }

    /// What the thread does after the handler: `answer` at the top frame as the
    /// client left it; `expect` is what the trap's own frame takes when resumed
    /// (the TRAP's results; nothing for an undefined function's hidden version).
    fn rebind(self, answer: TrapAnswer, expect: &[TypeId]) -> i32 {
        let program = self.program;
        let fail = |c: &mut Ctx, why: String| {
            *program.client_error.borrow_mut() = Some(why);
            c.stop = StopCode::ClientError as u64;
            runtime::STOP
        };
        let c = self.c();
        let (resume, throw) = match &answer {
            TrapAnswer::Stop | TrapAnswer::ExitThread => unreachable!("answered before"),
            TrapAnswer::Resume(vs) => (Some(vs), None),
            TrapAnswer::Throw(v) => (None, Some(v)),
        };
        let exc = match throw.map(|v| self.exception(v)) {
            Some(Ok(e)) => Some(e),
            Some(Err(why)) => return fail(c, why),
            None => None,
        };
        let module = program.module();
        let params = |g: u32| {
            module
                .types
                .sig(module.funcs[g as usize].sig)
                .params
                .clone()
        };
        let top_depth = if self.top == 0 {
            c.depth
        } else {
            record(self.top).depth
        };
        match (self.popped_to.filter(|r| *r != self.top), self.pushed) {
            (Some(r), pushed) => {
                // Frames above `r` return REPLACED up to it (`rt_osr_resume`).
                let depth = record(r).depth;
                let plan = match (resume, exc, pushed) {
                    (_, Some(e), _) => OsrPlan {
                        status: EXCEPTION,
                        words: Vec::new(),
                        exc: e,
                        push: None,
                    },
                    (Some(vs), None, Some(g)) => match self.all_words(vs, &params(g)) {
                        Ok(words) => OsrPlan {
                            status: NORMAL,
                            words,
                            exc: 0,
                            push: Some((g, depth + 1)),
                        },
                        Err(why) => return fail(c, why),
                    },
                    (Some(vs), None, None) => {
                        let Some(tys) = self.call_results(r) else {
                            return fail(c, "the frame popped to is not at a CALL".into());
                        };
                        match self.all_words(vs, &tys) {
                            Ok(words) => OsrPlan {
                                status: NORMAL,
                                words,
                                exc: 0,
                                push: None,
                            },
                            Err(why) => return fail(c, why),
                        }
                    }
                    (None, None, _) => unreachable!("an answer resumes or throws"),
                };
                *program.osr.borrow_mut() = Some(plan);
                c.osr_target = r;
                REPLACED
            }
            (None, Some(g)) => {
                if let Some(e) = exc {
                    // The pushed frame never ran: the exception is thrown at the trap.
                    c.exc = e;
                    return EXCEPTION;
                }
                let words = match self.all_words(resume.map_or(&[][..], |v| v), &params(g)) {
                    Ok(w) => w,
                    Err(why) => return fail(c, why),
                };
                // SAFETY: the trap's frame and those below are live.
                unsafe { call_entry(program, c, g, top_depth + 1, &words) }
            }
            (None, None) => {
                if let Some(e) = exc {
                    c.exc = e;
                    return EXCEPTION;
                }
                match self.all_words(resume.map_or(&[][..], |v| v), expect) {
                    Ok(words) => {
                        c.ret[..words.len()].copy_from_slice(&words);
                        NORMAL
                    }
                    Err(why) => fail(c, why),
                }
            }
        }
    }
}

fn mask(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// Calls function `g` at depth `depth` with argument words `words` through its
/// entry point; its results are in the context's return words.
///
/// # Safety
/// `c` is the run's context, and the run's frames below are live.
unsafe fn call_entry(program: &Program<'_>, c: &mut Ctx, g: u32, depth: u64, words: &[u64]) -> i32 {
    let Some(entry) = program.entry_of(g) else {
        *program.client_error.borrow_mut() = Some(format!(
            "{} has no entry point",
            program.module().funcs[g as usize].name
        ));
        c.stop = StopCode::ClientError as u64;
        return runtime::STOP;
    };
    let saved = c.depth;
    c.depth = depth;
    // SAFETY: `entry` was compiled for `g`'s parameters, which `words` holds.
    let status = unsafe { entry(c, words.as_ptr()) };
    c.depth = saved;
    status
}

/// The handler of the run, the trap's values, and what it answers: shared by
/// `rt_trap` and `rt_undefined`.
fn ask_client(
    program: &Program<'_>,
    event: &TrapEvent,
    fx: &mut FastCtx<'_, '_>,
) -> Option<TrapAnswer> {
    let Ok(mut client) = program.client.try_borrow_mut() else {
        return None;
    };
    let handler = client.as_mut()?;
    Some(handler.on_trap(fx, event))
}

/// `client.start`: the client's handler gets a context on the run's fresh state
/// before the thread's first instruction (`TrapHandler::on_start`).
pub(crate) fn client_start(program: &Program<'_>, ctx: *mut Ctx) {
    let Ok(mut client) = program.client.try_borrow_mut() else {
        return;
    };
    let Some(handler) = client.as_mut() else {
        return;
    };
    let mut fx = FastCtx::new(program, ctx, Vec::new(), [0; 3], 0);
    fx.at_start = true;
    handler.on_start(&mut fx);
}

/// `rt_trap(ctx, index) -> status` (`trap.client`): hands TRAP number `index`
/// (its KEEPALIVE values in the context's return words) to the client's handler
/// and returns what the thread does: NORMAL with the TRAP's results in the return
/// words, EXCEPTION with the exception in the context, STOP (the handler ended
/// the thread or stopped the run, or there is no handler), or REPLACED (the
/// client popped frames).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`], whose `program` is the program
/// running.
pub(crate) unsafe extern "C" fn rt_trap(ctx: *mut Ctx, index: u64) -> i32 {
    // SAFETY: JIT code passes its context; `program` was set by the run, which
    // borrows the program for the whole run.
    let program = unsafe { &*(*ctx).program.cast::<Program<'_>>() };
    // SAFETY: as above.
    let c = unsafe { &mut *ctx };
    let stop = |c: &mut Ctx, code: StopCode| {
        c.stop = code as u64;
        c.detail = index;
        runtime::STOP
    };
    let Some(t) = program.trap_info(index as usize) else {
        return stop(c, StopCode::ClientTrap);
    };
    let types = &program.module().types;
    let words = c.ret;
    let mut at = 0usize;
    let mut kept = Vec::new();
    for k in &t.values {
        match k {
            Kept::Words(ty) => {
                let n = leaves(types, *ty).map_or(1, |l| l.len());
                let w = words[at..(at + n).min(RET_SLOTS)].to_vec();
                at += n;
                kept.push(Held::of(types, *ty, w));
            }
            Kept::Known(_) => kept.push(Held {
                kind: Kind::Value,
                ty: 0,
                words: Vec::new(),
            }),
        }
    }
    let top = if program.client_mode { c.frames } else { 0 };
    let mut fx = FastCtx::new(program, ctx, kept, t.ids, top);
    fx.expect = t.results.clone();
    let keepalive = {
        let view = fx.view();
        let mut words = words.iter().copied();
        t.values
            .iter()
            .map(|k| match k {
                Kept::Words(ty) => view.out(*ty, &mut words),
                Kept::Known(v) => v.clone(),
            })
            .collect()
    };
    let event = TrapEvent {
        kind: if t.watch {
            TrapKind::Watchpoint
        } else {
            TrapKind::Trap
        },
        name: format!("@{}", t.name),
        keepalive,
    };
    match ask_client(program, &event, &mut fx) {
        None | Some(TrapAnswer::Stop) => {
            // The outcome shows the values as the trap had them.
            stop(c, StopCode::ClientTrap)
        }
        Some(TrapAnswer::ExitThread) => stop(c, StopCode::ThreadExit),
        Some(answer) => fx.rebind(answer, &t.results),
    }
}

/// `rt_undefined(ctx, f) -> status` (`client.undefined-function`): the hidden
/// version of function `f`, which has none, traps with its arguments (in the
/// return words). NORMAL: it is rebound with no values and calls `f` again with
/// the arguments in the return words (where the client may have moved objects);
/// EXCEPTION: throw to the caller; STOP; REPLACED.
///
/// # Safety
/// As for `rt_trap`.
pub(crate) unsafe extern "C" fn rt_undefined(ctx: *mut Ctx, f: u64) -> i32 {
    // SAFETY: as for rt_trap.
    let program = unsafe { &*(*ctx).program.cast::<Program<'_>>() };
    // SAFETY: as above.
    let c = unsafe { &mut *ctx };
    let module = program.module();
    let types = &module.types;
    let func = &module.funcs[f as usize];
    let params = types.sig(func.sig).params.clone();
    let kept: Vec<Held> = params
        .iter()
        .enumerate()
        .map(|(k, t)| Held::of(types, *t, vec![c.ret[k]]))
        .collect();
    let ids = [module.id_of(func.name.as_str()).unwrap_or(0), 0, 0];
    let mut fx = FastCtx::new(program, ctx, kept, ids, c.frames);
    let keepalive = {
        let view = fx.view();
        let mut words = c.ret.iter().copied();
        params.iter().map(|t| view.out(*t, &mut words)).collect()
    };
    let event = TrapEvent {
        kind: TrapKind::UndefinedFunction,
        name: func.name.to_string(),
        keepalive,
    };
    let answer = ask_client(program, &event, &mut fx);
    // The arguments as the client left them (a collection may have moved them).
    for (k, h) in fx.kept.iter().enumerate() {
        c.ret[k] = h.words[0];
    }
    match answer {
        None | Some(TrapAnswer::Stop) => {
            c.stop = StopCode::Undefined as u64;
            c.detail = f;
            runtime::STOP
        }
        Some(TrapAnswer::ExitThread) => {
            c.stop = StopCode::ThreadExit as u64;
            runtime::STOP
        }
        Some(answer) => fx.rebind(answer, &[]),
    }
}

/// `rt_osr_resume(ctx) -> status`: the frame the client popped to goes on as the
/// client said (its record was in `Ctx::osr_target`).
///
/// # Safety
/// As for `rt_trap`.
pub(crate) unsafe extern "C" fn rt_osr_resume(ctx: *mut Ctx) -> i32 {
    // SAFETY: as for rt_trap.
    let program = unsafe { &*(*ctx).program.cast::<Program<'_>>() };
    // SAFETY: as above.
    let c = unsafe { &mut *ctx };
    c.osr_target = 0;
    let Some(plan) = program.osr.borrow_mut().take() else {
        c.stop = StopCode::ClientError as u64;
        *program.client_error.borrow_mut() = Some("a frame was replaced with no plan".into());
        return runtime::STOP;
    };
    match plan.push {
        // SAFETY: the frame popped to is running this; the frames below are live.
        Some((g, depth)) => unsafe { call_entry(program, c, g, depth, &plan.words) },
        None => {
            c.ret[..plan.words.len()].copy_from_slice(&plan.words);
            c.exc = plan.exc;
            plan.status
        }
    }
}

impl MuCtx for FastCtx<'_, '_> {
    fn id_of(&self, name: &str) -> Option<MuId> {
        self.program.module().id_of(name)
    }

    fn name_of(&self, id: MuId) -> Option<String> {
        self.program.module().name_of(id)
    }

    fn load_bundle(&mut self, name: &str, text: &str) -> CResult<()> {
        if !self.program.client_mode {
            return err(
                "client.no-loading",
                "the program was compiled without Options::client",
            );
        }
        let Some(bundles) = self.program.bundles.get() else {
            return err(
                "client.no-loading",
                "this run was started without a place to load bundles",
            );
        };
        let module = bundles
            .load(name, text)
            .map_err(|e| ClientError::new(e.code(), e.render()))?;
        self.program
            .grow(module, self.c(), text)
            .map_err(|e| ClientError::new("client.not-compiled", e.to_string()))
    }

    fn handle_from_int(&mut self, ty: MuId, bits: u64) -> CResult<Handle> {
        let t = shared::type_of(self.program.module(), ty)?;
        let h = match self.types().get(t) {
            Type::Int(n) => Held::word(Kind::Value, t, bits & mask(*n)),
            Type::UPtr(_) | Type::UFuncPtr(_) => Held::word(Kind::Ptr, t, bits),
            _ => return err("client.type-mismatch", "not an integer or pointer type"),
        };
        Ok(self.keep(h))
    }

    fn handle_from_int_len(&mut self, len: u32, bits: u64) -> CResult<Handle> {
        let ty = shared::type_like(self.types(), &Type::Int(len))?;
        Ok(self.keep(Held::word(Kind::Value, ty, bits & mask(len))))
    }

    fn handle_from_float(&mut self, v: f32) -> CResult<Handle> {
        let ty = shared::type_like(self.types(), &Type::Float)?;
        Ok(self.keep(Held::word(Kind::Value, ty, u64::from(v.to_bits()))))
    }

    fn handle_from_double(&mut self, v: f64) -> CResult<Handle> {
        let ty = shared::type_like(self.types(), &Type::Double)?;
        Ok(self.keep(Held::word(Kind::Value, ty, v.to_bits())))
    }

    fn handle_from_id(&mut self, id: MuId) -> CResult<Handle> {
        let m = self.program.module();
        let Some(name) = m.name_of(id) else {
            return err("client.no-such-id", format!("no entity has ID {id}"));
        };
        let bare = name.trim_start_matches('@');
        let h = if let Some(f) = m.func(bare) {
            let code = self.program.now.borrow().code.get(f as usize).copied();
            match code {
                Some(c) if c != 0 => Held::word(Kind::Func, 0, c),
                _ => return err("client.not-compiled", format!("{name} is not compiled")),
            }
        } else if let Some(g) = m
            .global_index
            .get(&spec_model::syntax::ast::Name::new(bare))
        {
            let off = self.program.now.borrow().global_offsets[*g as usize];
            Held::word(
                Kind::IRef,
                m.globals[*g as usize].ty,
                self.c().globals as u64 + off,
            )
        } else if let Some(k) = m.consts.iter().position(|c| c.name.as_str() == bare) {
            let c = &m.consts[k];
            let words = match &c.value {
                ConstValue::Int(b) | ConstValue::Double(b) => vec![*b],
                ConstValue::Float(b) => vec![u64::from(*b)],
                ConstValue::Null => vec![0],
                ConstValue::Extern(s) => vec![spec_model::machine::symbol(s).unwrap_or(0)],
                _ => {
                    return err(
                        "client.not-available",
                        "list constants are not handed to the client",
                    );
                }
            };
            Held::of(&m.types, c.ty, words)
        } else if let Some(k) = m.exposes.iter().position(|e| e.name.as_str() == bare) {
            // A static `.expose`: its C entry point. Like a function's, the
            // handle carries no type (as in the model).
            match self.program.expose_addrs.get(k).copied().flatten() {
                Some(a) => Held::word(Kind::Ptr, 0, a),
                None => return err("client.not-compiled", format!("{name} is not compiled")),
            }
        } else {
            return err(
                "client.no-such-id",
                format!("{name} is not a constant, global cell or function"),
            );
        };
        Ok(self.keep(h))
    }

    fn null(&mut self, ty: MuId) -> CResult<Handle> {
        let t = shared::type_of(self.program.module(), ty)?;
        match self.types().get(t) {
            Type::Ref(_) | Type::IRef(_) | Type::FuncRef(_) => {
                let h = Held::of(self.types(), t, vec![0]);
                Ok(self.keep(h))
            }
            _ => err("client.type-mismatch", "NULL is of a reference type"),
        }
    }

    fn handle_to_int(&self, h: Handle) -> CResult<u64> {
        let x = self.get(h)?;
        match (x.kind, self.types().get(x.ty), &x.words[..]) {
            (Kind::Ptr, _, [w]) | (Kind::Value, Type::Int(_), [w]) => Ok(*w),
            _ => err("client.type-mismatch", "not an integer or pointer"),
        }
    }

    fn handle_to_double(&self, h: Handle) -> CResult<f64> {
        let x = self.get(h)?;
        match (x.kind, self.types().get(x.ty), &x.words[..]) {
            (Kind::Value, Type::Float, [w]) => Ok(f64::from(f32::from_bits(*w as u32))),
            (Kind::Value, Type::Double, [w]) => Ok(f64::from_bits(*w)),
            _ => err("client.type-mismatch", "not a float or double"),
        }
    }

    fn show(&self, h: Handle) -> CResult<OutValue> {
        let x = self.get(h)?.clone();
        let view = self.view();
        let w = x.words.first().copied().unwrap_or(0);
        Ok(match x.kind {
            Kind::Value => view.out(x.ty, &mut x.words.iter().copied()),
            Kind::Ref => view.leaf(&Type::Ref(0), w),
            Kind::IRef => view.leaf(&Type::IRef(0), w),
            Kind::Func => view.leaf(&Type::FuncRef(0), w),
            Kind::Ptr => view.leaf(&Type::UPtr(0), w),
            Kind::Stack | Kind::Thread => {
                return err(
                    "client.type-mismatch",
                    "a stackref or threadref shows no value",
                );
            }
        })
    }

    fn ref_eq(&self, a: Handle, b: Handle) -> CResult<bool> {
        let (x, y) = (self.get(a)?, self.get(b)?);
        match (x.kind, y.kind) {
            (Kind::Ref, Kind::Ref) | (Kind::IRef, Kind::IRef) | (Kind::Func, Kind::Func) => {
                Ok(x.words == y.words)
            }
            _ => err("client.type-mismatch", "ref_eq compares two references"),
        }
    }

    fn delete_value(&mut self, h: Handle) {
        self.handles.remove(h.0);
    }

    fn new_fixed(&mut self, ty: MuId) -> CResult<Handle> {
        let t = shared::fixed_type(self.program.module(), ty)?;
        self.alloc(t, 0)
    }

    fn new_hybrid(&mut self, ty: MuId, len: u64) -> CResult<Handle> {
        let t = shared::hybrid_type(self.program.module(), ty)?;
        self.alloc(t, len)
    }

    fn get_iref(&mut self, r: Handle) -> CResult<Handle> {
        let x = self.get(r)?.clone();
        match (x.kind, x.words.first()) {
            (Kind::Ref, Some(0)) => err("client.undefined-behaviour", "mem.null-navigation"),
            (Kind::Ref, Some(a)) => Ok(self.keep(Held::word(Kind::IRef, x.ty, *a))),
            _ => err("client.not-a-reference", "get_iref takes a ref"),
        }
    }

    fn get_field_iref(&mut self, ir: Handle, field: usize) -> CResult<Handle> {
        let (a, ty) = self.iref(ir)?;
        let (delta, f) = shared::field_step(self.types(), ty, field)?;
        self.moved(a, delta, f)
    }

    fn get_elem_iref(&mut self, ir: Handle, index: u64) -> CResult<Handle> {
        let (a, ty) = self.iref(ir)?;
        let (delta, e) = shared::elem_step(self.types(), ty, index)?;
        self.moved(a, delta, e)
    }

    fn shift_iref(&mut self, ir: Handle, offset: i64) -> CResult<Handle> {
        let (a, ty) = self.iref(ir)?;
        let (delta, t) = shared::shift_step(self.types(), ty, offset);
        self.moved(a, delta, t)
    }

    fn get_var_part_iref(&mut self, ir: Handle) -> CResult<Handle> {
        let (a, ty) = self.iref(ir)?;
        let (delta, v) = shared::var_part_step(self.types(), ty)?;
        if self.view().heap.find(a).is_some_and(|o| o.var_len == 0) {
            return err("client.undefined-behaviour", "mem.empty-var-part");
        }
        self.moved(a, delta, v)
    }

    fn load(&mut self, ir: Handle) -> CResult<Handle> {
        let (a, ty) = self.access(ir)?;
        let types = self.types();
        // SAFETY: `a` is in a live object or a global cell (`access`), of type `ty`.
        let Some(words) = (unsafe { load_words(types, a, ty) }) else {
            return err("client.type-mismatch", "a value of this type");
        };
        Ok(self.keep(Held::of(types, ty, words)))
    }

    fn store(&mut self, ir: Handle, v: Handle) -> CResult<()> {
        let (a, ty) = self.access(ir)?;
        let words = self.value_words(v, ty)?;
        // SAFETY: as for load.
        unsafe { store_words(self.types(), a, ty, &words) };
        Ok(())
    }

    fn cmpxchg(
        &mut self,
        ir: Handle,
        expected: Handle,
        desired: Handle,
    ) -> CResult<(Handle, bool)> {
        let (a, ty) = self.access(ir)?;
        let types = self.types();
        // SAFETY: as for load.
        let old = unsafe { load_words(types, a, ty) }.unwrap_or_default();
        let ok = old == self.value_words(expected, ty)?;
        if ok {
            let d = self.value_words(desired, ty)?;
            // SAFETY: as for load.
            unsafe { store_words(types, a, ty, &d) };
        }
        Ok((self.keep(Held::of(types, ty, old)), ok))
    }

    fn atomicrmw(&mut self, op: AtomicRmwOp, ir: Handle, v: Handle) -> CResult<Handle> {
        let (a, ty) = self.access(ir)?;
        let types = self.types();
        let Some(n) = types.int_width(ty) else {
            return err("client.type-mismatch", "atomicrmw of a non-integer");
        };
        // SAFETY: as for load.
        let old = unsafe { load_words(types, a, ty) }.unwrap_or_default();
        let x = self.value_words(v, ty)?;
        let new = spec_model::machine::rmw(op, n, old[0], x[0]);
        // SAFETY: as for load.
        unsafe { store_words(types, a, ty, &[new]) };
        Ok(self.keep(Held::of(types, ty, old)))
    }

    fn pin(&mut self, r: Handle) -> CResult<Handle> {
        let x = self.get(r)?;
        let (Kind::Ref | Kind::IRef) = x.kind else {
            return err("client.not-a-reference", "pin takes a ref or an iref");
        };
        let a = x.words[0];
        // SAFETY: the run's context.
        let addr = unsafe { runtime::rt_pin(self.ctx, a) };
        Ok(self.keep(Held::word(Kind::Ptr, 0, addr)))
    }

    fn unpin(&mut self, r: Handle) -> CResult<()> {
        let x = self.get(r)?;
        let (Kind::Ref | Kind::IRef) = x.kind else {
            return err("client.not-a-reference", "unpin takes a ref or an iref");
        };
        let a = x.words[0];
        if !self.heap().pins.contains_key(&a) {
            return err("client.undefined-behaviour", "pin.unmatched-unpin");
        }
        // SAFETY: the run's context.
        unsafe { runtime::rt_unpin(self.ctx, a) };
        Ok(())
    }

    fn expose(&mut self, func: Handle, cookie: u64) -> CResult<Handle> {
        let x = self.get(func)?;
        let (Kind::Func, Some(&code)) = (x.kind, x.words.first()) else {
            return err("client.not-a-function", "expose takes a non-NULL funcref");
        };
        // SAFETY: the run's context.
        let addr = unsafe { rt_expose(self.ctx, code, cookie) };
        if addr == 0 {
            return err(
                "client.not-native-safe",
                "the function's signature cannot face C",
            );
        }
        Ok(self.keep(Held::word(Kind::Ptr, 0, addr)))
    }

    fn unexpose(&mut self, ptr: Handle) -> CResult<()> {
        let a = self.handle_to_int(ptr)?;
        // SAFETY: the run's context.
        if unsafe { rt_unexpose(self.ctx, a) } != 0 {
            return err(
                "native.unexpose-unknown",
                "no exposure of this run made the pointer",
            );
        }
        Ok(())
    }

    fn new_cursor(&mut self) -> CResult<Cursor> {
        if self.at_start {
            return err("client.no-frame", "the stack has no frames");
        }
        let p = self.top_pos();
        Ok(Cursor(self.cursors.push(p)))
    }

    fn next_frame(&mut self, c: Cursor) -> CResult<()> {
        let next = match self.pos(c)? {
            Pos::Top => {
                return err(
                    "client.no-frame-records",
                    "the program was compiled without frame records (Options::client)",
                );
            }
            Pos::Pushed(_) => match (self.popped_to, self.top) {
                (Some(r), _) => Pos::Record(r),
                (None, 0) => Pos::Top,
                (None, r) => Pos::Record(r),
            },
            Pos::Record(r) => {
                let prev = record(r).prev;
                if prev == 0 {
                    return err("client.no-frame", "the cursor is at the bottom frame");
                }
                if record(prev).site & IN_NATIVE != 0 {
                    Pos::Native(r)
                } else {
                    Pos::Record(prev)
                }
            }
            Pos::Native(r) => Pos::Record(record(r).prev),
        };
        self.cursors.set(c.0, next);
        Ok(())
    }

    fn copy_cursor(&mut self, c: Cursor) -> CResult<Cursor> {
        let p = self.pos(c)?;
        Ok(Cursor(self.cursors.push(p)))
    }

    fn close_cursor(&mut self, c: Cursor) -> CResult<()> {
        self.pos(c)?;
        self.cursors.remove(c.0);
        Ok(())
    }

    fn cur_func(&self, c: Cursor) -> CResult<MuId> {
        Ok(self.ids(self.pos(c)?)[0])
    }

    fn cur_func_ver(&self, c: Cursor) -> CResult<MuId> {
        Ok(self.ids(self.pos(c)?)[1])
    }

    fn cur_inst(&self, c: Cursor) -> CResult<MuId> {
        Ok(self.ids(self.pos(c)?)[2])
    }

    fn dump_keepalives(&mut self, c: Cursor) -> CResult<Vec<Handle>> {
        let p = self.pos(c)?;
        let at_trap = match p {
            Pos::Top => true,
            Pos::Record(r) => r == self.top && self.popped_to.is_none(),
            Pos::Pushed(_) => return Ok(Vec::new()),
            Pos::Native(_) => {
                return err(
                    "client.native-frame",
                    "a native frame has no keep-alive values",
                );
            }
        };
        if !at_trap {
            return err(
                "client.unsupported",
                "the fast VM keeps the KEEPALIVE values of the trap's frame only",
            );
        }
        let kept = self.kept.clone();
        Ok(kept.into_iter().map(|h| self.keep(h)).collect())
    }

    fn pop_frames_to(&mut self, c: Cursor) -> CResult<()> {
        let Pos::Record(r) = self.pos(c)? else {
            return match self.pos(c)? {
                Pos::Top => Ok(()),
                _ => err("client.native-frame", "only a Mu frame can be popped to"),
            };
        };
        if record(r).ver == 0 {
            return err(
                "client.undefined-function",
                "an undefined function's frame cannot be popped to",
            );
        }
        // Every frame above `r` is Mu: no native frames in between.
        let mut cur = self.popped_to.unwrap_or(self.top);
        while cur != r {
            let prev = record(cur).prev;
            if prev == 0 {
                return err("client.bad-cursor", "the cursor's frame is gone");
            }
            if record(prev).site & IN_NATIVE != 0 {
                return err(
                    "client.native-frame",
                    "native frames lie between the top and the cursor's frame",
                );
            }
            cur = prev;
        }
        self.popped_to = Some(r);
        self.pushed = None;
        // Cursors above the frame are gone with their frames (stacks grow down).
        self.cursors.retain(|p| match p {
            Pos::Record(x) | Pos::Native(x) => *x >= r,
            Pos::Pushed(_) => false,
            Pos::Top => true,
        });
        Ok(())
    }

    fn push_frame(&mut self, func: Handle) -> CResult<()> {
        if self.at_start {
            return err("client.no-frame", "the stack has no frames");
        }
        if !self.program.client_mode {
            return err(
                "client.no-frame-records",
                "the program was compiled without Options::client",
            );
        }
        let x = self.get(func)?;
        let (Kind::Func, Some(&code)) = (x.kind, x.words.first()) else {
            return err(
                "client.not-a-function",
                "push_frame takes a non-NULL funcref",
            );
        };
        let Some(g) = self.program.func_of_code(code) else {
            return err("client.not-a-function", "no such function");
        };
        if self.program.module().funcs[g].body.is_none() {
            return err(
                "client.undefined-function",
                "push_frame of a function with no version",
            );
        }
        if self.pushed.is_some() {
            return err("client.unsupported", "muni pushes one frame per trap");
        }
        let top = self.popped_to.unwrap_or(self.top);
        if record(top).ver == 0 {
            return err(
                "client.undefined-function",
                "a frame cannot be pushed on an undefined function's",
            );
        }
        if record(top).depth + 1 > self.c().max_depth {
            return err("client.stack-exhausted", "the stack budget is full");
        }
        // The frame below must take what the pushed one returns.
        let takes = match self.popped_to {
            Some(r) => self.call_results(r).unwrap_or_default(),
            None => self.expect.clone(),
        };
        let m = self.program.module();
        let gives = &m.types.sig(m.funcs[g].sig).rets;
        if !spec_model::machine::returns_match(&m.types, gives, &takes) {
            return err(
                "client.type-mismatch",
                format!(
                    "{} returns {} values of other types than the frame below takes",
                    m.funcs[g].name,
                    gives.len()
                ),
            );
        }
        self.pushed = Some(g as u32);
        Ok(())
    }

    fn new_stack(&mut self, func: Handle) -> CResult<Handle> {
        let x = self.get(func)?;
        let (Kind::Func, Some(&code)) = (x.kind, x.words.first()) else {
            return err(
                "client.not-a-function",
                "new_stack takes a non-NULL funcref",
            );
        };
        let Some(g) = self.program.func_of_code(code) else {
            return err("client.not-a-function", "no such function");
        };
        if self.program.module().funcs[g].body.is_none() {
            return err(
                "client.undefined-function",
                "new_stack of a function with no version",
            );
        }
        let s = self.heap().threads.new_stack(g as u32);
        Ok(self.keep(Held::word(Kind::Stack, 0, u64::from(s))))
    }

    fn new_thread(&mut self, stack: Handle, how: NewThread) -> CResult<Handle> {
        let s = self.stack(stack)?;
        let f = self.heap().threads.ready(s)?;
        let types = self.types();
        let start = match &how {
            NewThread::PassValues(vs) => {
                let m = self.program.module();
                let params = &types.sig(m.funcs[f as usize].sig).params;
                if params.len() != vs.len() {
                    return err(
                        "client.type-mismatch",
                        format!(
                            "{} takes {} values, {} given",
                            m.funcs[f as usize].name,
                            params.len(),
                            vs.len()
                        ),
                    );
                }
                let mut vals = Vec::new();
                for (v, t) in vs.iter().zip(params) {
                    let words = self
                        .words_of(v, *t)
                        .map_err(|e| ClientError::new("client.type-mismatch", e))?;
                    vals.push(Words {
                        words,
                        refs: lower::ref_leaves(types, *t),
                    });
                }
                Start::Values(vals)
            }
            NewThread::ThrowExc(v) => {
                let e = self
                    .exception(v)
                    .map_err(|e| ClientError::new("client.type-mismatch", e))?;
                Start::Exc(Words {
                    words: vec![e],
                    refs: vec![0],
                })
            }
        };
        let t = self.heap().threads.bind(s, start)?;
        Ok(self.keep(Held::word(Kind::Thread, 0, u64::from(t))))
    }

    fn kill_stack(&mut self, stack: Handle) -> CResult<()> {
        let s = self.stack(stack)?;
        self.heap().threads.kill(s)
    }

    fn enable_watchpoint(&mut self, wpid: u64) {
        self.heap().watchpoints.insert(wpid);
    }

    fn disable_watchpoint(&mut self, wpid: u64) {
        self.heap().watchpoints.remove(&wpid);
    }
}

impl spec_model::client::MuVM for Program<'_> {
    fn id_of(&self, name: &str) -> Option<MuId> {
        self.module().id_of(name)
    }

    fn name_of(&self, id: MuId) -> Option<String> {
        self.module().name_of(id)
    }

    fn set_trap_handler(&mut self, handler: Option<Box<dyn TrapHandler>>) {
        Program::set_trap_handler(self, handler);
    }
}
