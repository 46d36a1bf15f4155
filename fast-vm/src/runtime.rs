//! The fast VM's runtime: the context JIT code reads and writes, the heap with its
//! moving collector, and the functions JIT code calls.
//!
//! JIT code sees one [`Ctx`] per run through a pointer; its fields are at fixed
//! offsets (`#[repr(C)]`). Compiled Mu functions return a status: [`NORMAL`],
//! [`EXCEPTION`] (the exception is in `Ctx::exc`) or [`STOP`] (the run ended; why is
//! in `Ctx::stop`). Results travel in `Ctx::ret`.
//!
//! Roots are precise: before every safepoint (a call or an allocation) compiled code
//! stores the references it still needs into its shadow-stack frame, a stack slot
//! `[previous frame, count, refs…]` linked from `Ctx::roots`, and reloads them
//! after, so the collector may move what they point to. The collector runs inside
//! `rt_alloc`: it frees what no root reaches and moves every object that is not
//! pinned, except objects of [`LARGE`] bytes or more in storage of their own;
//! `--gc-stress` collects at every allocation and moves those too.

use rustc_hash::FxHashMap;
use spec_model::ir::{TypeId, Types};
use spec_model::layout;
use spec_model::outcome::NativeEvent;
use std::collections::BTreeMap;

/// The function returned normally; its results are in `Ctx::ret`.
pub const NORMAL: i32 = 0;
/// The function is unwinding with the exception in `Ctx::exc`.
pub const EXCEPTION: i32 = 1;
/// The run ended; `Ctx::stop` says why.
pub const STOP: i32 = 2;
/// The client popped this frame (on-stack replacement): it returns at once, up
/// to the frame `Ctx::osr_target` records, which then goes on as the client said.
pub const REPLACED: i32 = 3;

/// Why a run stopped (`Ctx::stop`).
#[allow(missing_docs)]
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCode {
    None = 0,
    Fuel = 1,
    Alloc = 2,
    Stack = 3,
    DivByZero = 4,
    NullRef = 5,
    NullCall = 6,
    ThreadExit = 7,
    /// A client trap; `Ctx::detail` is the trap's index in the program's trap table.
    ClientTrap = 8,
    /// A function the fast VM cannot run; `Ctx::detail` is its index.
    Unsupported = 9,
    /// A THROW out of a function native code called.
    ExceptionIntoNative = 10,
    /// `@uvm.native.unexpose` of a pointer no exposure of this run made.
    UnexposeUnknown = 11,
    /// A function with no version trapped and the client stopped the run;
    /// `Ctx::detail` is the function, its arguments are in `Ctx::ret`.
    Undefined = 12,
    /// The client answered what the thread cannot do (`Program`'s client error
    /// says what).
    ClientError = 13,
    /// Undefined behaviour the fast VM detects; `Ctx::detail` is the rule (a
    /// `RuleId` as a number).
    Ub = 14,
    /// The thread waits on a futex, and no thread can wake it.
    Deadlock = 15,
}

/// Room for results and client-trap values, in 64-bit slots.
pub const RET_SLOTS: usize = 256;

/// The state a run shares with JIT code.
#[repr(C)]
#[derive(Debug)]
pub struct Ctx {
    /// Fuel left.
    pub fuel: u64,
    /// Mu frames on the stack.
    pub depth: u64,
    /// The stack budget.
    pub max_depth: u64,
    /// The lowest the native stack pointer may go before a call: the running
    /// stack's mapping, with room above its guard page for the runtime and C.
    pub stack_limit: u64,
    /// Allocation bytes left.
    pub alloc_left: u64,
    /// Why the run stopped.
    pub stop: u64,
    /// Detail of the stop.
    pub detail: u64,
    /// The exception being thrown.
    pub exc: u64,
    /// The heap.
    pub heap: *mut Heap<'static>,
    /// The global cells' memory.
    pub globals: *mut u8,
    /// The innermost shadow-stack frame (0: none).
    pub roots: u64,
    /// The innermost frame record (client mode; 0: none): `[previous, function
    /// ID, version ID, instruction ID, depth]`, which the client's cursors walk.
    pub frames: u64,
    /// On-stack replacement: the frame record the thread rebinds to, once the
    /// frames above it have returned `REPLACED` (0: none).
    pub osr_target: u64,
    /// The cookie of the exposure native code last called through.
    pub cookie: u64,
    /// The depth of the frame that exposure called (`get_cookie` there gives `cookie`).
    pub cookie_depth: u64,
    /// The running program (for compiling exposures).
    pub program: *const std::ffi::c_void,
    /// The next free byte of the nursery: compiled code allocates by bumping it.
    pub bump: u64,
    /// The end of the nursery (0 under GC stress: every allocation calls rt_alloc).
    pub limit: u64,
    /// Results, client-trap values.
    pub ret: [u64; RET_SLOTS],
}

/// Field offsets of [`Ctx`] for the code generator.
pub mod offsets {
    use super::Ctx;
    /// `Ctx::fuel`
    pub const FUEL: i32 = std::mem::offset_of!(Ctx, fuel) as i32;
    /// `Ctx::depth`
    pub const DEPTH: i32 = std::mem::offset_of!(Ctx, depth) as i32;
    /// `Ctx::max_depth`
    pub const MAX_DEPTH: i32 = std::mem::offset_of!(Ctx, max_depth) as i32;
    /// `Ctx::stack_limit`
    pub const STACK_LIMIT: i32 = std::mem::offset_of!(Ctx, stack_limit) as i32;
    /// `Ctx::alloc_left`
    pub const ALLOC_LEFT: i32 = std::mem::offset_of!(Ctx, alloc_left) as i32;
    /// `Ctx::stop`
    pub const STOP: i32 = std::mem::offset_of!(Ctx, stop) as i32;
    /// `Ctx::detail`
    pub const DETAIL: i32 = std::mem::offset_of!(Ctx, detail) as i32;
    /// `Ctx::exc`
    pub const EXC: i32 = std::mem::offset_of!(Ctx, exc) as i32;
    /// `Ctx::globals`
    pub const GLOBALS: i32 = std::mem::offset_of!(Ctx, globals) as i32;
    /// `Ctx::roots`
    pub const ROOTS: i32 = std::mem::offset_of!(Ctx, roots) as i32;
    /// `Ctx::frames`
    pub const FRAMES: i32 = std::mem::offset_of!(Ctx, frames) as i32;
    /// `Ctx::osr_target`
    pub const OSR_TARGET: i32 = std::mem::offset_of!(Ctx, osr_target) as i32;
    /// `Ctx::cookie`
    pub const COOKIE: i32 = std::mem::offset_of!(Ctx, cookie) as i32;
    /// `Ctx::cookie_depth`
    pub const COOKIE_DEPTH: i32 = std::mem::offset_of!(Ctx, cookie_depth) as i32;
    /// `Ctx::bump`
    pub const BUMP: i32 = std::mem::offset_of!(Ctx, bump) as i32;
    /// `Ctx::limit`
    pub const LIMIT: i32 = std::mem::offset_of!(Ctx, limit) as i32;
    /// `Ctx::ret`
    pub const RET: i32 = std::mem::offset_of!(Ctx, ret) as i32;
}

/// One heap object.
#[derive(Debug)]
pub struct Obj {
    /// Payload size in bytes.
    pub size: u64,
    /// Its type.
    pub ty: TypeId,
    /// Variable-part length (hybrids).
    pub var_len: u64,
    /// Allocation number: an object's identity across moves.
    pub serial: u64,
    /// Instances of its locations in the pin multiset.
    pub pins: u32,
    storage: Storage,
}

/// Where an object's bytes are.
#[derive(Debug)]
enum Storage {
    /// Its own allocation.
    Own(#[allow(dead_code, reason = "held only so the bytes stay allocated")] Vec<u128>),
    /// A nursery chunk, by index.
    Nursery(usize),
}

/// Bytes of one nursery chunk.
pub const CHUNK: u64 = 256 << 10;

/// Objects of at least this many bytes are not moved by a collection (without GC
/// stress).
pub const LARGE: u64 = 256 << 10;

/// The header compiled code writes before an object in the nursery: size, type.
pub const HEADER: u64 = 16;

/// An object compiled code bump-allocated in a nursery chunk and that no pin nor
/// collection has made an [`Obj`] of yet.
#[derive(Clone, Copy, Debug)]
struct Young {
    addr: u64,
    size: u64,
    ty: TypeId,
    serial: u64,
}

/// A nursery chunk.
#[derive(Debug)]
struct Chunk {
    /// Its bytes (None once freed).
    mem: Option<Vec<u128>>,
    start: u64,
    /// Its young objects, by address.
    young: Vec<Young>,
    /// Objects in [`Heap::objects`] whose storage is in this chunk (pinned ones).
    live: u64,
    /// Bytes from the start that compiled code has bumped through (so far as
    /// registered): what must be zeroed before the chunk is used again.
    used: u64,
}

/// What an object is, wherever it lives.
#[derive(Clone, Copy, Debug)]
pub struct ObjInfo {
    /// Its address.
    pub base: u64,
    /// Payload size in bytes.
    pub size: u64,
    /// Its type.
    pub ty: TypeId,
    /// Variable-part length (hybrids).
    pub var_len: u64,
    /// Allocation number.
    pub serial: u64,
    /// Pin count.
    pub pins: u32,
    /// The nursery chunk of a young object (not in [`Heap::objects`]).
    young: Option<usize>,
}

/// What the collector has done in a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Collections.
    pub collections: u64,
    /// Objects moved.
    pub moved: u64,
    /// Objects freed.
    pub freed: u64,
}

/// The heap: objects in zeroed, 16-aligned storage of their own, by address, and
/// the young objects compiled code bump-allocates in nursery chunks. A collection
/// moves every unpinned survivor (large ones only under GC stress) into storage of
/// its own and frees the chunks no pinned object is in; young objects that die
/// cost nothing but their bytes.
#[derive(Debug)]
pub struct Heap<'m> {
    types: &'m Types,
    /// Objects by payload address.
    pub objects: BTreeMap<u64, Obj>,
    serials: u64,
    since_gc: u64,
    /// Collect at every allocation.
    pub stress: bool,
    /// Bytes allocated between collections in normal mode.
    pub threshold: u64,
    /// The global cells: their base address and their types with offsets.
    pub globals: (u64, Vec<(u64, TypeId)>),
    /// The pin multiset, by address.
    pub pins: FxHashMap<u64, u32>,
    /// Exposures made by `@uvm.native.expose` in this run, by address (a multiset).
    pub exposed: FxHashMap<u64, u32>,
    /// What the collector did.
    pub stats: GcStats,
    /// The native trace, when the run records one (`--trace-native`).
    pub trace: Option<Vec<NativeEvent>>,
    /// Trace indices of the CCALLs still running (their results come later).
    pub open_calls: Vec<usize>,
    /// Nursery chunks (freed once no object lives in them).
    chunks: Vec<Chunk>,
    /// The chunks holding young objects (those allocated since the last collection).
    nursery: Vec<usize>,
    /// The chunk compiled code bumps in, and how far its objects are registered.
    current: Option<(usize, u64)>,
    /// The stacks and threads the client made in this run; the arguments of the
    /// threads waiting to start are roots.
    pub threads: spec_model::client::Threads<Words>,
    /// The watchpoint IDs the client enabled in this run.
    pub watchpoints: rustc_hash::FxHashSet<u64>,
    /// The run's Mu stacks.
    pub stacks: crate::stacks::Stacks,
}

/// A value as words, with the indices of those that are references.
#[derive(Clone, Debug, Default)]
pub struct Words {
    /// The leaves' words.
    pub words: Vec<u64>,
    /// Which of them are references (roots while the value waits).
    pub refs: Vec<usize>,
}

impl<'m> Heap<'m> {
    /// The types of a module that grew by a bundle the client loaded (the ids
    /// of the old ones stay).
    pub fn set_types(&mut self, types: &'m Types) {
        self.types = types;
    }

    /// An empty heap for a module's types.
    pub fn new(types: &'m Types) -> Self {
        Heap {
            types,
            objects: BTreeMap::new(),
            serials: 0,
            since_gc: 0,
            stress: false,
            threshold: 4 << 20,
            globals: (0, Vec::new()),
            pins: FxHashMap::default(),
            exposed: FxHashMap::default(),
            stats: GcStats::default(),
            trace: None,
            open_calls: Vec::new(),
            chunks: Vec::new(),
            nursery: Vec::new(),
            current: None,
            threads: spec_model::client::Threads::default(),
            watchpoints: rustc_hash::FxHashSet::default(),
            stacks: crate::stacks::Stacks::default(),
        }
    }

    /// Allocates a zeroed object.
    pub fn alloc(&mut self, size: u64, ty: TypeId, var_len: u64) -> u64 {
        let words = usize::try_from(size.div_ceil(16).max(1)).unwrap_or(usize::MAX);
        let storage = vec![0u128; words];
        let addr = storage.as_ptr() as u64;
        let storage = Storage::Own(storage);
        self.serials += 1;
        self.since_gc += size;
        self.objects.insert(
            addr,
            Obj {
                size,
                ty,
                var_len,
                serial: self.serials,
                pins: 0,
                storage,
            },
        );
        addr
    }

    /// Registers the objects compiled code bump-allocated in the current chunk up
    /// to `bump` (each behind a header: size, type) as young objects.
    pub fn flush(&mut self, bump: u64) {
        let Some((ci, mut p)) = self.current else {
            return;
        };
        while p < bump {
            // SAFETY: [p, bump) holds headers and objects written by compiled code in
            // the current chunk, which is live.
            let (size, ty) = unsafe { ((p as *const u64).read(), ((p + 8) as *const u64).read()) };
            let addr = p + HEADER;
            self.serials += 1;
            self.chunks[ci].young.push(Young {
                addr,
                size,
                ty: ty as TypeId,
                serial: self.serials,
            });
            p = addr + size.div_ceil(16) * 16;
        }
        self.chunks[ci].used = p - self.chunks[ci].start;
        self.current = Some((ci, p));
    }

    /// A fresh nursery chunk for compiled code: its start and end.
    fn refill(&mut self) -> (u64, u64) {
        let mem = spare_chunk();
        let start = mem.as_ptr() as u64;
        self.chunks.push(Chunk {
            mem: Some(mem),
            start,
            young: Vec::new(),
            live: 0,
            used: 0,
        });
        let ci = self.chunks.len() - 1;
        self.nursery.push(ci);
        self.current = Some((ci, start));
        self.since_gc += CHUNK;
        (start, start + CHUNK)
    }

    /// After a collection: forgets the young objects (the survivors moved out) and
    /// frees the chunks no pinned object is in.
    fn empty_nursery(&mut self) {
        self.current = None;
        for ci in self.nursery.drain(..) {
            self.chunks[ci].young = Vec::new();
        }
        // Chunks kept for pinned objects (earlier ones too) stay allocated until
        // their last object goes.
        for c in &mut self.chunks {
            if c.live == 0
                && let Some(m) = c.mem.take()
            {
                give_back(m, c.used);
            }
        }
        while self.chunks.last().is_some_and(|c| c.mem.is_none()) {
            self.chunks.pop();
        }
    }

    /// The object containing `addr` (an empty object only at its address).
    pub fn find(&self, addr: u64) -> Option<ObjInfo> {
        if let Some((base, o)) = self.objects.range(..=addr).next_back()
            && addr - base < o.size.max(1)
        {
            return Some(ObjInfo {
                base: *base,
                size: o.size,
                ty: o.ty,
                var_len: o.var_len,
                serial: o.serial,
                pins: o.pins,
                young: None,
            });
        }
        for &ci in &self.nursery {
            let c = &self.chunks[ci];
            if addr < c.start || addr >= c.start + CHUNK {
                continue;
            }
            let i = c.young.partition_point(|y| y.addr <= addr);
            let y = c.young.get(i.checked_sub(1)?)?;
            return (addr - y.addr < y.size.max(1)).then_some(ObjInfo {
                base: y.addr,
                size: y.size,
                ty: y.ty,
                var_len: 0,
                serial: y.serial,
                pins: 0,
                young: Some(ci),
            });
        }
        None
    }

    /// Every live object: those with an [`Obj`] and the young ones.
    pub fn all_objects(&self) -> Vec<ObjInfo> {
        let mut out: Vec<ObjInfo> = self.objects.keys().filter_map(|a| self.find(*a)).collect();
        for &ci in &self.nursery {
            for y in &self.chunks[ci].young {
                if !self.objects.contains_key(&y.addr) {
                    out.push(ObjInfo {
                        base: y.addr,
                        size: y.size,
                        ty: y.ty,
                        var_len: 0,
                        serial: y.serial,
                        pins: 0,
                        young: Some(ci),
                    });
                }
            }
        }
        out
    }

    /// The [`Obj`] of the object containing `addr`, making one of a young object
    /// (which then stays in its chunk).
    fn obj_mut(&mut self, addr: u64) -> Option<&mut Obj> {
        let info = self.find(addr)?;
        if let Some(ci) = info.young {
            self.chunks[ci].live += 1;
            self.objects.insert(
                info.base,
                Obj {
                    size: info.size,
                    ty: info.ty,
                    var_len: 0,
                    serial: info.serial,
                    pins: 0,
                    storage: Storage::Nursery(ci),
                },
            );
        }
        self.objects.get_mut(&info.base)
    }

    /// Offsets of the reference fields of an object.
    fn refs_of(&self, ty: TypeId, var_len: u64) -> Vec<u64> {
        let mut out = Vec::new();
        layout::ref_offsets(self.types, ty, var_len, 0, &mut out);
        out
    }

    /// Whether a collection is due.
    fn due(&self) -> bool {
        self.stress || self.since_gc >= self.threshold
    }

    /// Collects: frees what `roots` do not reach and moves every unpinned object
    /// (but large ones without GC stress), updating every root and every reference
    /// field.
    ///
    /// # Safety
    /// Every address in `roots` must point to a readable and writable word holding a
    /// reference (or 0, or any non-heap value, which is left alone).
    pub unsafe fn collect(&mut self, roots: &[*mut u64]) {
        self.stats.collections += 1;
        self.since_gc = 0;
        let mut all_roots: Vec<*mut u64> = roots.to_vec();
        // The values of the threads waiting to start.
        for p in self.threads.pending.iter_mut() {
            let vs: Vec<&mut Words> = match &mut p.start {
                spec_model::client::Start::Values(vs) => vs.iter_mut().collect(),
                spec_model::client::Start::Exc(v) => vec![v],
            };
            for v in vs {
                let Words { words, refs } = v;
                for &i in refs.iter() {
                    if let Some(w) = words.get_mut(i) {
                        all_roots.push(w);
                    }
                }
            }
        }
        let (gbase, gtypes) = self.globals.clone();
        for (off, ty) in gtypes {
            let mut rs = Vec::new();
            layout::ref_offsets(self.types, ty, 0, 0, &mut rs);
            all_roots.extend(rs.iter().map(|r| (gbase + off + r) as *mut u64));
        }
        // Mark from the roots and the pinned objects.
        let mut marked: Vec<ObjInfo> = Vec::new();
        let mut seen = rustc_hash::FxHashSet::default();
        let mut work: Vec<u64> = Vec::new();
        for r in &all_roots {
            // SAFETY: the caller guarantees every root is a readable word.
            work.push(unsafe { r.read() });
        }
        work.extend(
            self.objects
                .iter()
                .filter(|(_, o)| o.pins > 0)
                .map(|(a, _)| *a),
        );
        while let Some(v) = work.pop() {
            let Some(info) = self.find(v) else {
                continue;
            };
            if !seen.insert(info.base) {
                continue;
            }
            marked.push(info);
            for off in self.refs_of(info.ty, info.var_len) {
                // SAFETY: `off` is a reference field inside the object's storage.
                work.push(unsafe { ((info.base + off) as *const u64).read() });
            }
        }
        // Free what is not marked: objects, and the young ones never reached.
        let dead: Vec<u64> = self
            .objects
            .keys()
            .filter(|a| !seen.contains(a))
            .copied()
            .collect();
        for a in dead {
            if let Some(Obj {
                storage: Storage::Nursery(ci),
                ..
            }) = self.objects.remove(&a)
            {
                self.chunks[ci].live -= 1;
            }
            self.stats.freed += 1;
        }
        let young: usize = self
            .nursery
            .iter()
            .map(|&c| self.chunks[c].young.len())
            .sum();
        let young_marked = marked.iter().filter(|i| i.young.is_some()).count();
        self.stats.freed += (young - young_marked) as u64;
        // Move every unpinned survivor into storage of its own; remember where each went.
        // Large objects in storage of their own stay put (a large-object space, as in
        // most production collectors: copying megabytes buys nothing), except under
        // GC stress, which moves everything it may.
        let mut moved: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        for info in marked {
            let large = info.young.is_none() && info.size >= LARGE;
            if info.pins > 0 || (large && !self.stress) {
                continue;
            }
            let words = usize::try_from(info.size.div_ceil(16).max(1)).unwrap_or(usize::MAX);
            let mut copy = vec![0u128; words];
            // SAFETY: the object's bytes [base, base + size) are live storage (its own
            // allocation or its nursery chunk) and do not overlap the new vector.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    info.base as *const u8,
                    copy.as_mut_ptr().cast::<u8>(),
                    info.size as usize,
                );
            };
            let new = copy.as_ptr() as u64;
            if let Some(Obj {
                storage: Storage::Nursery(ci),
                ..
            }) = self.objects.remove(&info.base)
            {
                self.chunks[ci].live -= 1;
            }
            self.objects.insert(
                new,
                Obj {
                    size: info.size,
                    ty: info.ty,
                    var_len: info.var_len,
                    serial: info.serial,
                    pins: 0,
                    storage: Storage::Own(copy),
                },
            );
            moved.insert(info.base, (new, info.size));
            self.stats.moved += 1;
        }
        self.empty_nursery();
        let relocate = |v: u64| -> Option<u64> {
            let (old, (new, size)) = moved.range(..=v).next_back()?;
            (v - old < (*size).max(1)).then(|| new + (v - old))
        };
        let fix = |slot: *mut u64| {
            // SAFETY: every slot passed here is a root or a reference field in live storage.
            let v = unsafe { slot.read() };
            if let Some(n) = relocate(v) {
                // SAFETY: as above.
                unsafe { slot.write(n) };
            }
        };
        for r in &all_roots {
            fix(*r);
        }
        let fields: Vec<(u64, Vec<u64>)> = self
            .objects
            .iter()
            .map(|(a, o)| (*a, self.refs_of(o.ty, o.var_len)))
            .collect();
        for (a, offs) in fields {
            for off in offs {
                fix((a + off) as *mut u64);
            }
        }
    }
}

impl Drop for Heap<'_> {
    fn drop(&mut self) {
        for c in &mut self.chunks {
            if let Some(m) = c.mem.take() {
                give_back(m, c.used);
            }
        }
    }
}

thread_local! {
    /// Nursery chunks runs on this thread have given back, zeroed again.
    static SPARE: std::cell::RefCell<Vec<Vec<u128>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Chunks a thread keeps for later runs.
const SPARE_CHUNKS: usize = 8;

/// A zeroed nursery chunk: one an earlier run gave back, or a new one (a chunk
/// costs a mapping and its page faults, which small runs would pay every time).
fn spare_chunk() -> Vec<u128> {
    SPARE
        .with_borrow_mut(|s| s.pop())
        .unwrap_or_else(|| vec![0u128; (CHUNK / 16) as usize])
}

/// Takes back a chunk no object lives in any more, zeroing the `used` bytes that
/// compiled code bumped through (the rest is still zero) for the next run.
fn give_back(mut m: Vec<u128>, used: u64) {
    SPARE.with_borrow_mut(|s| {
        if s.len() < SPARE_CHUNKS {
            let n = usize::try_from(used.div_ceil(16))
                .unwrap_or(m.len())
                .min(m.len());
            m[..n].fill(0);
            s.push(m);
        }
    });
}

/// `rt_alloc(ctx, size, ty, var_len) -> addr`: allocates, collecting first when due;
/// returns 0 when the allocation budget is short (the caller then continues
/// exceptionally or stops).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`], whose shadow-stack chain is intact.
pub unsafe extern "C" fn rt_alloc(ctx: *mut Ctx, size: u64, ty: u64, var_len: u64) -> u64 {
    // SAFETY: as the caller promises.
    unsafe { alloc_rooted(ctx, size, ty, var_len, &[]) }
}

/// Allocates as `rt_alloc` does, with `extra` roots besides the shadow stack's
/// (the client's handles, when the client allocates).
///
/// # Safety
/// As for `rt_alloc`; every word in `extra` is readable and writable and holds a
/// reference (or 0).
pub unsafe fn alloc_rooted(
    ctx: *mut Ctx,
    size: u64,
    ty: u64,
    var_len: u64,
    extra: &[*mut u64],
) -> u64 {
    // SAFETY: JIT code passes the pointer it was given, which points to the live Ctx.
    let ctx = unsafe { &mut *ctx };
    if size > ctx.alloc_left {
        return 0;
    }
    ctx.alloc_left -= size;
    // SAFETY: the heap pointer is set by the runner before JIT code runs and outlives it.
    let heap = unsafe { &mut *ctx.heap };
    heap.flush(ctx.bump);
    if heap.due() {
        let mut roots: Vec<*mut u64> = vec![&mut ctx.exc];
        roots.extend_from_slice(extra);
        roots.extend(heap.stacks.locals());
        let chains: Vec<u64> = std::iter::once(ctx.roots)
            .chain(heap.stacks.suspended_roots())
            .collect();
        for mut frame in chains {
            while frame != 0 {
                let f = frame as *mut u64;
                // SAFETY: `frame` is a shadow-stack frame compiled code linked into the
                // chain: word 0 the previous frame, word 1 the count, then the references.
                unsafe {
                    let count = f.add(1).read();
                    for i in 0..count {
                        roots.push(f.add(2 + i as usize));
                    }
                    frame = f.read();
                }
            }
        }
        // SAFETY: every root is a word of the context, of a live shadow frame, or
        // one the caller vouches for.
        unsafe { heap.collect(&roots) };
        // The nursery's survivors moved out; compiled code starts a new chunk.
        ctx.bump = 0;
        ctx.limit = 0;
    }
    // A nursery nearly used up is replaced here, where the runtime runs anyway;
    // objects too big for what is left come here each time and get their own storage.
    if !heap.stress && ctx.limit.saturating_sub(ctx.bump) < CHUNK / 4 {
        let (start, end) = heap.refill();
        ctx.bump = start;
        ctx.limit = end;
    }
    heap.alloc(size, u32::try_from(ty).unwrap_or(0), var_len)
}

/// `rt_pin(ctx, addr) -> addr`: one more pin of the object containing `addr`.
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub unsafe extern "C" fn rt_pin(ctx: *mut Ctx, addr: u64) -> u64 {
    // SAFETY: as for rt_alloc.
    let heap = unsafe { &mut *(*ctx).heap };
    // SAFETY: as above.
    heap.flush(unsafe { (*ctx).bump });
    *heap.pins.entry(addr).or_insert(0) += 1;
    if let Some(o) = heap.obj_mut(addr) {
        o.pins += 1;
    }
    if heap.trace.is_some() {
        // SAFETY: as above.
        unsafe { crate::trace_pin(ctx, addr, false) };
    }
    addr
}

/// `rt_unpin(ctx, addr)`: one pin fewer (an unmatched unpin is UB; the fast VM
/// ignores it).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub unsafe extern "C" fn rt_unpin(ctx: *mut Ctx, addr: u64) -> u64 {
    // SAFETY: as for rt_alloc.
    let heap = unsafe { &mut *(*ctx).heap };
    // SAFETY: as above.
    heap.flush(unsafe { (*ctx).bump });
    let Some(n) = heap.pins.get_mut(&addr) else {
        return 0;
    };
    *n -= 1;
    if *n == 0 {
        heap.pins.remove(&addr);
    }
    if let Some(o) = heap.obj_mut(addr) {
        o.pins = o.pins.saturating_sub(1);
    }
    if heap.trace.is_some() {
        // SAFETY: as above.
        unsafe { crate::trace_pin(ctx, addr, true) };
    }
    0
}

/// `fmod` for FREM on doubles.
pub extern "C" fn rt_fmod(a: f64, b: f64) -> f64 {
    a % b
}

/// `fmodf` for FREM on floats.
pub extern "C" fn rt_fmodf(a: f32, b: f32) -> f32 {
    a % b
}

thread_local! {
    /// The context of the run on this thread, for callbacks from C.
    static CURRENT: std::cell::Cell<*mut Ctx> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// Makes `ctx` the one callbacks on this thread run in, until the returned guard drops.
pub fn enter(ctx: *mut Ctx) -> impl Drop {
    struct Leave(*mut Ctx);
    impl Drop for Leave {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    Leave(CURRENT.with(|c| c.replace(ctx)))
}

/// `rt_current() -> ctx`: the context callbacks run in (null outside a run).
pub extern "C" fn rt_current() -> *mut Ctx {
    CURRENT.with(|c| c.get())
}
