//! Compiled code reused across compilations (Cranelift's incremental cache): a
//! function whose final CLIF was compiled before, in this program or an earlier
//! one on the same thread, is not compiled again. The key is the function's
//! whole stencil with the ISA and its flags, kept as the bytes their `Hash`
//! writes and compared whole (Cranelift's own key is a SHA-256 of the same bytes,
//! which took an eighth of a cached compile), so a hit is exactly the code a
//! compilation would give; external names (callees, imports) are fixed up for
//! the module at hand. The differential tester compiles every program in four
//! builds, which share every function that the native trace and fuel checks do
//! not change, and every program reaches the same library functions.
//!
//! Cranelift's verifier runs once on each function's CLIF before it is compiled
//! (the flag that runs it after every pass is off); a function taken from the
//! cache was verified when it was compiled.

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::incremental_cache::{serialize_compiled, try_finish_recompile};
use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::TargetIsa;
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module as _, ModuleReloc};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::hash::{Hash, Hasher};

/// Bytes of keys and compiled code a thread keeps before it starts afresh.
const LIMIT: usize = 64 << 20;

/// The store behind the cache, with its figures.
#[derive(Default)]
struct Store {
    map: FxHashMap<Box<[u8]>, Vec<u8>>,
    bytes: usize,
    stats: CacheStats,
    /// The key of the function at hand, written afresh for each.
    key: KeyBytes,
}

/// A `Hasher` that keeps what it is given: the bytes of a key.
#[derive(Default)]
struct KeyBytes(Vec<u8>);

impl Hasher for KeyBytes {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// Not a hash: keys are compared whole. (`Hash` implementations only write.)
    fn finish(&self) -> u64 {
        self.0.len() as u64
    }
}

impl KeyBytes {
    /// Writes the key of `func` for `isa`: what Cranelift's `compute_cache_key`
    /// hashes.
    fn set(&mut self, isa: &dyn TargetIsa, func: &Function) {
        self.0.clear();
        func.stencil.hash(self);
        isa.name().hash(self);
        isa.triple().hash(self);
        isa.flags().hash(self);
        isa.isa_flags_hash_key().hash(self);
    }
}

/// What the cache has done on this thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Functions compiled.
    pub compiled: u64,
    /// Functions whose compiled code came from the cache.
    pub reused: u64,
}

impl Store {
    /// Keeps `val` under the key at hand.
    fn insert(&mut self, val: Vec<u8>) {
        let size = self.key.0.len() + val.len();
        if self.bytes + size > LIMIT {
            self.map.clear();
            self.bytes = 0;
        }
        self.bytes += size;
        self.map.insert(self.key.0.as_slice().into(), val);
    }
}

thread_local! {
    static STORE: RefCell<Store> = RefCell::new(Store::default());
}

/// The cache's figures on this thread so far.
pub fn stats() -> CacheStats {
    STORE.with_borrow(|s| s.stats)
}

/// Compiles the function in `cctx` (verified first), or takes its code from the
/// cache, and defines it as `id` in `jit`.
pub(crate) fn define(jit: &mut JITModule, id: FuncId, cctx: &mut Context) -> Result<(), String> {
    let isa = jit.isa();
    let code = STORE.with_borrow_mut(|store| {
        store.key.set(isa, &cctx.func);
        if let Some(blob) = store.map.get(store.key.0.as_slice())
            && let Ok(code) = try_finish_recompile(&cctx.func, blob)
        {
            store.stats.reused += 1;
            return Ok(code);
        }
        cranelift_codegen::verify_function(&cctx.func, isa).map_err(|e| format!("{e:?}"))?;
        let stencil = cctx
            .compile_stencil(isa, &mut ControlPlane::default())
            .map_err(|e| format!("{e:?}"))?;
        let (stencil, blob) = serialize_compiled(stencil);
        if let Ok(blob) = blob {
            store.insert(blob);
        }
        store.stats.compiled += 1;
        Ok::<_, String>(stencil.apply_params(&cctx.func.params))
    })?;
    let relocs: Vec<ModuleReloc> = code
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &cctx.func, id))
        .collect();
    jit.define_function_bytes(
        id,
        u64::from(code.buffer.alignment),
        code.code_buffer(),
        &relocs,
    )
    .map_err(|e| format!("{e:?}"))
}
