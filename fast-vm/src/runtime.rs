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
//! pinned; `--gc-stress` collects at every allocation.

use spec_model::ir::{TypeId, Types};
use spec_model::layout;
use std::collections::{BTreeMap, HashMap};

/// The function returned normally; its results are in `Ctx::ret`.
pub const NORMAL: i32 = 0;
/// The function is unwinding with the exception in `Ctx::exc`.
pub const EXCEPTION: i32 = 1;
/// The run ended; `Ctx::stop` says why.
pub const STOP: i32 = 2;

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
}

/// Room for results and client-trap values, in 64-bit slots.
pub const RET_SLOTS: usize = 64;

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
    /// The cookie of the exposure native code last called through.
    pub cookie: u64,
    /// The depth of the frame that exposure called (`get_cookie` there gives `cookie`).
    pub cookie_depth: u64,
    /// The running program (for compiling exposures).
    pub program: *const std::ffi::c_void,
    /// Results, client-trap values.
    pub ret: [u64; RET_SLOTS],
}

/// Field offsets of [`Ctx`] for the code generator.
pub mod offsets {
    /// `Ctx::fuel`
    pub const FUEL: i32 = 0;
    /// `Ctx::depth`
    pub const DEPTH: i32 = 8;
    /// `Ctx::max_depth`
    pub const MAX_DEPTH: i32 = 16;
    /// `Ctx::alloc_left`
    pub const ALLOC_LEFT: i32 = 24;
    /// `Ctx::stop`
    pub const STOP: i32 = 32;
    /// `Ctx::detail`
    pub const DETAIL: i32 = 40;
    /// `Ctx::exc`
    pub const EXC: i32 = 48;
    /// `Ctx::globals`
    pub const GLOBALS: i32 = 64;
    /// `Ctx::roots`
    pub const ROOTS: i32 = 72;
    /// `Ctx::cookie`
    pub const COOKIE: i32 = 80;
    /// `Ctx::cookie_depth`
    pub const COOKIE_DEPTH: i32 = 88;
    /// `Ctx::ret`
    pub const RET: i32 = 104;
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
    storage: Vec<u128>,
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

/// The heap: objects in zeroed, 16-aligned storage of their own, by address.
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
    pub pins: HashMap<u64, u32>,
    /// Exposures made by `@uvm.native.expose` in this run, by address (a multiset).
    pub exposed: HashMap<u64, u32>,
    /// What the collector did.
    pub stats: GcStats,
}

impl<'m> Heap<'m> {
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
            pins: HashMap::new(),
            exposed: HashMap::new(),
            stats: GcStats::default(),
        }
    }

    /// Allocates a zeroed object.
    pub fn alloc(&mut self, size: u64, ty: TypeId, var_len: u64) -> u64 {
        let words = usize::try_from(size.div_ceil(16).max(1)).unwrap_or(usize::MAX);
        let storage = vec![0u128; words];
        let addr = storage.as_ptr() as u64;
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

    /// The object containing `addr` (an empty object only at its address), and the offset.
    pub fn find(&self, addr: u64) -> Option<(u64, &Obj)> {
        let (base, o) = self.objects.range(..=addr).next_back()?;
        (addr - base < o.size.max(1)).then_some((*base, o))
    }

    /// Offsets of the reference fields of an object.
    fn refs_of(&self, o: &Obj) -> Vec<u64> {
        let mut out = Vec::new();
        layout::ref_offsets(self.types, o.ty, o.var_len, 0, &mut out);
        out
    }

    /// Whether a collection is due.
    fn due(&self) -> bool {
        self.stress || self.since_gc >= self.threshold
    }

    /// Collects: frees what `roots` do not reach and moves every unpinned object,
    /// updating every root and every reference field.
    ///
    /// # Safety
    /// Every address in `roots` must point to a readable and writable word holding a
    /// reference (or 0, or any non-heap value, which is left alone).
    pub unsafe fn collect(&mut self, roots: &[*mut u64]) {
        self.stats.collections += 1;
        self.since_gc = 0;
        let mut all_roots: Vec<*mut u64> = roots.to_vec();
        let (gbase, gtypes) = self.globals.clone();
        for (off, ty) in gtypes {
            let mut rs = Vec::new();
            layout::ref_offsets(self.types, ty, 0, 0, &mut rs);
            all_roots.extend(rs.iter().map(|r| (gbase + off + r) as *mut u64));
        }
        // Mark from the roots and the pinned objects.
        let mut marked: Vec<u64> = Vec::new();
        let mut seen = std::collections::HashSet::new();
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
            let Some((base, o)) = self.find(v) else {
                continue;
            };
            if !seen.insert(base) {
                continue;
            }
            marked.push(base);
            for off in self.refs_of(o) {
                // SAFETY: `off` is a reference field inside the object's storage.
                work.push(unsafe { ((base + off) as *const u64).read() });
            }
        }
        // Free what is not marked.
        let dead: Vec<u64> = self
            .objects
            .keys()
            .filter(|a| !seen.contains(a))
            .copied()
            .collect();
        for a in dead {
            self.objects.remove(&a);
            self.stats.freed += 1;
        }
        // Move every unpinned object; remember where each went.
        let mut moved: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        for base in marked {
            let Some(o) = self.objects.get(&base) else {
                continue;
            };
            if o.pins > 0 {
                continue;
            }
            let Some(mut o) = self.objects.remove(&base) else {
                continue;
            };
            let storage = o.storage.clone();
            let new = storage.as_ptr() as u64;
            o.storage = storage;
            moved.insert(base, (new, o.size));
            self.objects.insert(new, o);
            self.stats.moved += 1;
        }
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
            .map(|(a, o)| (*a, self.refs_of(o)))
            .collect();
        for (a, offs) in fields {
            for off in offs {
                fix((a + off) as *mut u64);
            }
        }
    }
}

/// `rt_alloc(ctx, size, ty, var_len) -> addr`: allocates, collecting first when due;
/// returns 0 when the allocation budget is short (the caller then continues
/// exceptionally or stops).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`], whose shadow-stack chain is intact.
pub unsafe extern "C" fn rt_alloc(ctx: *mut Ctx, size: u64, ty: u64, var_len: u64) -> u64 {
    // SAFETY: JIT code passes the pointer it was given, which points to the live Ctx.
    let ctx = unsafe { &mut *ctx };
    if size > ctx.alloc_left {
        return 0;
    }
    ctx.alloc_left -= size;
    // SAFETY: the heap pointer is set by the runner before JIT code runs and outlives it.
    let heap = unsafe { &mut *ctx.heap };
    if heap.due() {
        let mut roots: Vec<*mut u64> = vec![&mut ctx.exc];
        let mut frame = ctx.roots;
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
        // SAFETY: every root is a word of the context or of a live shadow frame.
        unsafe { heap.collect(&roots) };
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
    *heap.pins.entry(addr).or_insert(0) += 1;
    if let Some((base, _)) = heap.find(addr).map(|(b, o)| (b, o.size))
        && let Some(o) = heap.objects.get_mut(&base)
    {
        o.pins += 1;
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
    let Some(n) = heap.pins.get_mut(&addr) else {
        return 0;
    };
    *n -= 1;
    if *n == 0 {
        heap.pins.remove(&addr);
    }
    if let Some((base, _)) = heap.find(addr).map(|(b, o)| (b, o.size))
        && let Some(o) = heap.objects.get_mut(&base)
    {
        o.pins = o.pins.saturating_sub(1);
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
