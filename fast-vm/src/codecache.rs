//! Compiled code reused across compilations (Cranelift's incremental cache): a
//! function whose final CLIF was compiled before, in this program or an earlier
//! one on the same thread, is not compiled again. The key is the function's
//! whole stencil with the ISA and its flags, so a hit is exactly the code a
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
use cranelift_codegen::incremental_cache::{
    CacheKeyHash, compute_cache_key, serialize_compiled, try_finish_recompile,
};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module as _, ModuleReloc};
use rustc_hash::FxHashMap;
use std::cell::RefCell;

/// Bytes of compiled code a thread keeps before it starts afresh.
const LIMIT: usize = 64 << 20;

/// The store behind the cache, with its figures.
#[derive(Default)]
struct Store {
    map: FxHashMap<CacheKeyHash, Vec<u8>>,
    bytes: usize,
    stats: CacheStats,
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
    fn insert(&mut self, key: CacheKeyHash, val: Vec<u8>) {
        if self.bytes + val.len() > LIMIT {
            self.map.clear();
            self.bytes = 0;
        }
        self.bytes += val.len();
        self.map.insert(key, val);
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
    let key = compute_cache_key(isa, &cctx.func);
    let code = STORE.with_borrow_mut(|store| {
        if let Some(blob) = store.map.get(&key)
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
            store.insert(key, blob);
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
