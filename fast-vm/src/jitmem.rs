//! Memory for compiled code, drawn from chunks each thread keeps mapped.
//!
//! Cranelift's `SystemMemoryProvider` maps fresh pages for about every function and
//! unmaps them with the module, so every compilation pays for the mappings, the
//! protection changes and a page fault per page touched. The differential tester
//! compiles four modules a program, thousands of programs a minute: here a module
//! bump-allocates in 64 KiB chunks, and when it is freed its chunks go back, made
//! writable again, to its thread's pool, still mapped and resident.
//!
//! Protection is as Cranelift's: code becomes read+execute and read-only data
//! read-only when the module is finalized; a chunk finalized once is never
//! written again (later definitions take a new chunk). x86-64 keeps instruction
//! caches coherent, so no cache flush is needed after writing code.

use cranelift_jit::{BranchProtection, JITMemoryKind, JITMemoryProvider};
use cranelift_module::{ModuleError, ModuleResult};
use std::cell::RefCell;
use std::io;

/// The size of a pooled chunk.
const CHUNK: usize = 64 << 10;
/// Chunks a thread keeps for reuse (4 MiB); past this, freed chunks are unmapped.
const POOL_MAX: usize = 64;

thread_local! {
    /// Writable, mapped chunks of `CHUNK` bytes, ready for reuse.
    static POOL: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// One mapping: its address, length, the bytes used, and whether it has been
/// given its final protection.
#[derive(Debug)]
struct Chunk {
    base: usize,
    len: usize,
    used: usize,
    sealed: bool,
}

/// The chunks of one kind of memory.
#[derive(Debug, Default)]
struct Area {
    chunks: Vec<Chunk>,
}

impl Area {
    fn allocate(&mut self, size: usize, align: usize) -> io::Result<*mut u8> {
        let align = align.max(1);
        if let Some(c) = self.chunks.last_mut().filter(|c| !c.sealed) {
            let at = c.used.next_multiple_of(align);
            if at + size <= c.len {
                c.used = at + size;
                return Ok((c.base + at) as *mut u8);
            }
        }
        let len = if size <= CHUNK {
            CHUNK
        } else {
            size.next_multiple_of(page_size())
        };
        let base = match (len == CHUNK)
            .then(|| POOL.with_borrow_mut(Vec::pop))
            .flatten()
        {
            Some(b) => b,
            None => map(len)?,
        };
        self.chunks.push(Chunk {
            base,
            len,
            used: size,
            sealed: false,
        });
        Ok(base as *mut u8)
    }

    /// Gives every chunk not sealed yet the protection `prot`.
    fn seal(&mut self, prot: libc::c_int) -> io::Result<()> {
        for c in self.chunks.iter_mut().filter(|c| !c.sealed) {
            protect(c.base, c.len, prot)?;
            c.sealed = true;
        }
        Ok(())
    }

    /// Returns the chunks to the pool (writable again), or unmaps them.
    fn release(&mut self) {
        for c in self.chunks.drain(..) {
            let writable =
                !c.sealed || protect(c.base, c.len, libc::PROT_READ | libc::PROT_WRITE).is_ok();
            let pooled = writable
                && c.len == CHUNK
                && POOL.with_borrow_mut(|p| {
                    let room = p.len() < POOL_MAX;
                    if room {
                        p.push(c.base);
                    }
                    room
                });
            if !pooled {
                unmap(c.base, c.len);
            }
        }
    }
}

/// A module's memory: code, read-only data and writable data, in pooled chunks.
#[derive(Debug, Default)]
pub struct PooledMemory {
    code: Area,
    readonly: Area,
    writable: Area,
}

// SAFETY: the provider holds addresses of mappings it owns, no references to
// thread-bound data; the pool it returns chunks to is that of the thread that
// frees the module, and any thread's pool is as good as another's.
unsafe impl Send for PooledMemory {}

impl JITMemoryProvider for PooledMemory {
    fn allocate(&mut self, size: usize, align: u64, kind: JITMemoryKind) -> io::Result<*mut u8> {
        let align = usize::try_from(align).map_err(|_| io::Error::other("alignment too big"))?;
        match kind {
            JITMemoryKind::Executable => self.code.allocate(size, align),
            JITMemoryKind::ReadOnly => self.readonly.allocate(size, align),
            JITMemoryKind::Writable => self.writable.allocate(size, align),
        }
    }

    unsafe fn free_memory(&mut self) {
        self.code.release();
        self.readonly.release();
        self.writable.release();
    }

    fn finalize(&mut self, _branch_protection: BranchProtection) -> ModuleResult<()> {
        self.readonly
            .seal(libc::PROT_READ)
            .and_then(|()| self.code.seal(libc::PROT_READ | libc::PROT_EXEC))
            .map_err(|e| ModuleError::Backend(e.into()))
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf reads a constant of the system.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).unwrap_or(4096)
}

/// Maps `len` bytes (a multiple of the page size), readable and writable.
fn map(len: usize) -> io::Result<usize> {
    // SAFETY: an anonymous private mapping at an address the kernel picks
    // touches no existing memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(p as usize)
}

fn protect(base: usize, len: usize, prot: libc::c_int) -> io::Result<()> {
    // SAFETY: [base, base + len) is one whole mapping of this module's, which
    // nothing else uses while the module changes its protection.
    if unsafe { libc::mprotect(base as *mut libc::c_void, len, prot) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn unmap(base: usize, len: usize) {
    // SAFETY: [base, base + len) is one whole mapping of this module's, freed:
    // no code or data of the module is used after `free_memory`.
    unsafe { libc::munmap(base as *mut libc::c_void, len) };
}

/// Asks the kernel not to back this process's anonymous memory with transparent
/// huge pages (`prctl(PR_SET_THP_DISABLE)`), as mimalloc does when told
/// `MIMALLOC_ALLOW_THP=0`. Where THP is `always`, every fresh page the allocator
/// touches is a 2 MiB one the kernel zeroes first; a differential-testing run
/// allocates and frees small blocks at a high rate (Cranelift's per-function data,
/// the model's frames and values) and spent an eighth of its time in that zeroing
/// (`perf`, `clear_page_erms`). The `muni` command calls it first thing. Returns
/// whether the kernel agreed.
pub fn no_transparent_huge_pages() -> bool {
    // SAFETY: PR_SET_THP_DISABLE takes one integer flag and no pointers; it changes
    // only how the kernel backs later page faults of this process.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 }
}
