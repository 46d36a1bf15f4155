//! The fast VM's runtime: the context JIT code reads and writes, the heap, and the
//! functions JIT code calls.
//!
//! JIT code sees one [`Ctx`] per run through a pointer; its fields are at fixed
//! offsets (`#[repr(C)]`). Compiled Mu functions return a status: [`NORMAL`],
//! [`EXCEPTION`] (the exception is in `Ctx::exc`) or [`STOP`] (the run ended; why is
//! in `Ctx::stop`). Results travel in `Ctx::ret`.

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
}

/// Room for results and client-trap values, in 64-bit slots.
pub const RET_SLOTS: usize = 64;

/// The state a run shares with JIT code.
#[repr(C)]
#[derive(Debug)]
pub struct Ctx {
    /// Fuel left (offset 0).
    pub fuel: u64,
    /// Mu frames on the stack (offset 8).
    pub depth: u64,
    /// The stack budget (offset 16).
    pub max_depth: u64,
    /// Allocation bytes left (offset 24).
    pub alloc_left: u64,
    /// Why the run stopped (offset 32).
    pub stop: u64,
    /// Detail of the stop (offset 40).
    pub detail: u64,
    /// The exception being thrown (offset 48).
    pub exc: u64,
    /// The heap (offset 56).
    pub heap: *mut Heap,
    /// The global cells' memory (offset 64).
    pub globals: *mut u8,
    /// Results, client-trap values (offset 72).
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
    /// `Ctx::ret`
    pub const RET: i32 = 72;
}

/// An object: where its payload is and how large it is.
#[derive(Clone, Copy, Debug)]
pub struct ObjInfo {
    /// Payload address.
    pub addr: u64,
    /// Payload size.
    pub size: u64,
}

/// The heap: zeroed, 16-aligned chunks that never move (the moving collector comes
/// later), and a table of objects by address for reporting outcomes.
#[derive(Debug, Default)]
pub struct Heap {
    chunks: Vec<Vec<u128>>,
    /// Objects in allocation order.
    pub objects: Vec<ObjInfo>,
}

impl Heap {
    /// Allocates `size` zeroed bytes, 16-aligned.
    pub fn alloc(&mut self, size: u64) -> u64 {
        let words = usize::try_from(size.div_ceil(16).max(1)).unwrap_or(usize::MAX);
        let chunk = vec![0u128; words];
        let addr = chunk.as_ptr() as u64;
        self.chunks.push(chunk);
        self.objects.push(ObjInfo { addr, size });
        addr
    }

    /// The object containing `addr` (or starting at it, for empty objects), and the offset.
    pub fn find(&self, addr: u64) -> Option<(usize, u64)> {
        // Objects are separate allocations; a linear scan from the newest keeps this simple
        // and is only used to report outcomes.
        self.objects
            .iter()
            .enumerate()
            .rev()
            .find(|(_, o)| addr >= o.addr && addr - o.addr < o.size.max(1))
            .map(|(i, o)| (i, addr - o.addr))
    }
}

/// `rt_alloc(ctx, size) -> addr`: allocates from the heap, or returns 0 when the
/// allocation budget is short (the caller then continues exceptionally or stops).
///
/// # Safety
/// `ctx` must point to the run's live [`Ctx`].
pub unsafe extern "C" fn rt_alloc(ctx: *mut Ctx, size: u64) -> u64 {
    // SAFETY: JIT code passes the pointer it was given, which points to the live Ctx.
    let ctx = unsafe { &mut *ctx };
    if size > ctx.alloc_left {
        return 0;
    }
    ctx.alloc_left -= size;
    // SAFETY: the heap pointer is set by the runner before JIT code runs and outlives it.
    unsafe { &mut *ctx.heap }.alloc(size)
}

/// `fmod` for FREM on doubles.
pub extern "C" fn rt_fmod(a: f64, b: f64) -> f64 {
    a % b
}

/// `fmodf` for FREM on floats.
pub extern "C" fn rt_fmodf(a: f32, b: f32) -> f32 {
    a % b
}
