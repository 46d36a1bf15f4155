//! The compile driver: a module to a [`Program`], one function per phase.
//!
//! 1. [`Build::new`]: a JIT module whose memory comes from the pool, with the
//!    runtime's entry points as symbols and imports;
//! 2. [`Build::declare_functions`]: a declaration for every function the
//!    compilation reaches whose signature the fast VM handles, and one for the C
//!    entry point of every static `.expose`;
//! 3. [`Build::lower_functions`]: each function to CLIF on its own (one that
//!    cannot be compiled becomes a stub that stops the run as unsupported);
//! 4. [`Build::define_functions`]: each body, with its small callees inlined, to
//!    machine code (through the code cache);
//! 5. [`Build::define_exposes`]: the C entry points of the static exposes;
//! 6. [`Build::define_entries`]: the SystemV entry points the runner calls;
//! 7. [`Build::finish`]: finalized code, its addresses, and the program.

use super::*;
use cranelift_codegen::isa::TargetFrontendConfig;

/// What the phases of one compilation share.
struct Build<'m> {
    module: &'m Module,
    options: Options,
    reach: Reach,
    jit: JITModule,
    rt: lower::Runtime,
    /// `rt_current`, which expose wrappers call.
    current_id: ClFuncId,
    /// The declaration of each Mu function (`None`: not compiled).
    ids: Vec<Option<ClFuncId>>,
    /// Each compiled function's slot (client mode).
    slots: Vec<Option<cranelift_module::DataId>>,
    /// The declaration of each static `.expose`'s C entry point.
    expose_ids: Vec<Option<ClFuncId>>,
    global_offsets: Vec<u64>,
    globals_size: u64,
    /// Addresses of EXTERN constants, by constant id.
    externs: Vec<Option<u64>>,
    fe: TargetFrontendConfig,
    fctx: FunctionBuilderContext,
    cctx: cranelift_codegen::Context,
}

/// Client traps and why functions were not compiled, from lowering.
struct Lowered {
    bodies: Vec<Option<cranelift_codegen::ir::Function>>,
    traps: Vec<TrapInfo>,
    not_compiled: Vec<Option<String>>,
}

/// Compiles what `roots` reach (all of `module` without roots).
pub(crate) fn compile<'m>(
    module: &'m Module,
    options: Options,
    roots: Option<&[u32]>,
) -> Result<Program<'m>, FastError> {
    // A client's bundles may name the static exposure of any function compiled:
    // in client mode each of those is compiled too.
    let mut reach = reachable(module, roots);
    if options.client {
        for (k, e) in module.exposes.iter().enumerate() {
            reach.exposes[k] |= reach.funcs[e.func as usize];
        }
    }
    let mut b = Build::new(module, options, reach)?;
    b.declare_functions()?;
    let lowered = b.lower_functions()?;
    b.define_functions(&lowered.bodies)?;
    b.define_exposes()?;
    let entry_ids = b.define_entries(roots)?;
    let program = b.finish(entry_ids, lowered)?;
    program.fill_slots(&program.base);
    Ok(program)
}

fn bug(e: &dyn std::fmt::Display) -> FastError {
    FastError::Bug(e.to_string())
}

/// A SystemV signature of these parameters and one result.
fn sysv(params: &[cranelift_codegen::ir::Type], ret: cranelift_codegen::ir::Type) -> Signature {
    let mut s = Signature::new(CallConv::SystemV);
    s.params.extend(params.iter().map(|t| AbiParam::new(*t)));
    s.returns.push(AbiParam::new(ret));
    s
}

impl<'m> Build<'m> {
    /// Phase 1: the JIT module, the runtime's symbols and their imports, and the
    /// layout of the global cells and EXTERN addresses the code embeds.
    fn new(module: &'m Module, options: Options, reach: Reach) -> Result<Self, FastError> {
        let isa = host_isa()?;
        let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
        jb.memory_provider(Box::new(jitmem::PooledMemory::default()));
        jb.symbol("muni_rt_alloc", runtime::rt_alloc as *const u8);
        jb.symbol("muni_rt_pin", runtime::rt_pin as *const u8);
        jb.symbol("muni_rt_current", runtime::rt_current as *const u8);
        jb.symbol("muni_rt_expose", rt_expose as *const u8);
        jb.symbol("muni_rt_unexpose", rt_unexpose as *const u8);
        jb.symbol("muni_rt_watch", rt_watch as *const u8);
        jb.symbol("muni_rt_unpin", runtime::rt_unpin as *const u8);
        jb.symbol("muni_rt_fmod", runtime::rt_fmod as *const u8);
        jb.symbol("muni_rt_fmodf", runtime::rt_fmodf as *const u8);
        jb.symbol("muni_rt_trace", rt_trace as *const u8);
        jb.symbol("muni_rt_trap", client::rt_trap as *const u8);
        jb.symbol("muni_rt_osr_resume", client::rt_osr_resume as *const u8);
        jb.symbol("muni_rt_undefined", client::rt_undefined as *const u8);
        for (name, f) in crate::stacks::symbols() {
            jb.symbol(name, f);
        }
        let mut jit = JITModule::new(jb);
        let mut import = |name: &str, sig: &Signature| {
            jit.declare_function(name, Linkage::Import, sig)
                .map_err(|e| bug(&e))
        };
        let (f64t, f32t) = (
            cranelift_codegen::ir::types::F64,
            cranelift_codegen::ir::types::F32,
        );
        let alloc = import("muni_rt_alloc", &sysv(&[I64, I64, I64, I64], I64))?;
        let pin = import("muni_rt_pin", &sysv(&[I64, I64], I64))?;
        let unpin = import("muni_rt_unpin", &sysv(&[I64, I64], I64))?;
        let current_id = import("muni_rt_current", &{
            let mut s = Signature::new(CallConv::SystemV);
            s.returns.push(AbiParam::new(I64));
            s
        })?;
        let expose = import("muni_rt_expose", &sysv(&[I64, I64, I64], I64))?;
        let unexpose = import("muni_rt_unexpose", &sysv(&[I64, I64], I64))?;
        let watch = import("muni_rt_watch", &sysv(&[I64, I64], I64))?;
        let trace = if options.trace_native {
            let mut s = Signature::new(CallConv::SystemV);
            s.params.extend([I64; 5].map(AbiParam::new));
            Some(import("muni_rt_trace", &s)?)
        } else {
            None
        };
        let fmod = import("muni_rt_fmod", &sysv(&[f64t, f64t], f64t))?;
        let fmodf = import("muni_rt_fmodf", &sysv(&[f32t, f32t], f32t))?;
        let trap = import("muni_rt_trap", &sysv(&[I64, I64], I32))?;
        let osr_resume = import("muni_rt_osr_resume", &sysv(&[I64], I32))?;
        let undefined = import("muni_rt_undefined", &sysv(&[I64, I64], I32))?;
        let new_stack = import("muni_rt_new_stack", &sysv(&[I64, I64], I64))?;
        let current_stack = import("muni_rt_current_stack", &sysv(&[I64], I64))?;
        let kill_stack = import("muni_rt_kill_stack", &sysv(&[I64, I64], I32))?;
        let swapstack = import("muni_rt_swapstack", &sysv(&[I64, I64, I64], I32))?;
        let new_thread = import("muni_rt_new_thread", &sysv(&[I64; 4], I32))?;
        let get_threadlocal = import("muni_rt_get_threadlocal", &sysv(&[I64], I64))?;
        let set_threadlocal = import("muni_rt_set_threadlocal", &sysv(&[I64; 2], I64))?;
        let futex_wait = import("muni_rt_futex_wait", &sysv(&[I64; 5], I32))?;
        let futex_wake = import("muni_rt_futex_wake", &sysv(&[I64; 3], I32))?;
        let futex_requeue = import("muni_rt_futex_requeue", &sysv(&[I64; 6], I32))?;
        let rt = lower::Runtime {
            alloc,
            pin,
            expose,
            unexpose,
            watch,
            unpin,
            fmod,
            fmodf,
            trace,
            trap,
            osr_resume,
            undefined,
            new_stack,
            current_stack,
            kill_stack,
            swapstack,
            new_thread,
            get_threadlocal,
            set_threadlocal,
            futex_wait,
            futex_wake,
            futex_requeue,
        };
        let types = &module.types;
        let mut global_offsets = Vec::new();
        let mut end = 0u64;
        for g in &module.globals {
            let l = layout::layout(types, g.ty);
            let off = end.div_ceil(l.align.max(1)) * l.align.max(1);
            global_offsets.push(off);
            end = off + l.size;
        }
        let externs = extern_addresses(module);
        let fe = jit.target_config();
        let cctx = jit.make_context();
        Ok(Build {
            module,
            options,
            reach,
            jit,
            rt,
            current_id,
            ids: Vec::new(),
            slots: Vec::new(),
            expose_ids: Vec::new(),
            global_offsets,
            globals_size: end,
            externs,
            fe,
            fctx: FunctionBuilderContext::new(),
            cctx,
        })
    }

    /// Phase 2: every reached function with a signature the fast VM handles gets a
    /// declaration, and so does the C entry point of each reached static `.expose`.
    fn declare_functions(&mut self) -> Result<(), FastError> {
        let (module, types) = (self.module, &self.module.types);
        for (i, f) in module.funcs.iter().enumerate() {
            let sig = mu_signature(types, f.sig).filter(|_| self.reach.funcs[i]);
            let id = match &sig {
                Some(s) => Some(
                    self.jit
                        .declare_function(&format!("mu{i}"), Linkage::Local, s)
                        .map_err(|e| bug(&e))?,
                ),
                None => None,
            };
            self.ids.push(id);
            let slot = match id {
                Some(_) if self.options.client => Some(slot_data(&mut self.jit, i, 0)?),
                _ => None,
            };
            self.slots.push(slot);
        }
        for (k, e) in module.exposes.iter().enumerate() {
            let sig = module.funcs[e.func as usize].sig;
            let id = match (ccall::c_signature(types, sig), self.ids[e.func as usize]) {
                (Some((cs, _, _)), Some(_)) if self.reach.exposes[k] => Some(
                    self.jit
                        .declare_function(&format!("expose{k}"), Linkage::Local, &cs)
                        .map_err(|e| bug(&e))?,
                ),
                _ => None,
            };
            self.expose_ids.push(id);
        }
        Ok(())
    }

    /// Phase 3: each declared function to CLIF on its own. One that cannot be
    /// compiled gets a body that stops the run as unsupported, and the reason.
    fn lower_functions(&mut self) -> Result<Lowered, FastError> {
        let module = self.module;
        let types = &module.types;
        let mut out = Lowered {
            bodies: vec![None; module.funcs.len()],
            traps: Vec::new(),
            not_compiled: vec![None; module.funcs.len()],
        };
        for (i, f) in module.funcs.iter().enumerate() {
            if self.ids[i].is_none() {
                out.not_compiled[i] = Some(if self.reach.funcs[i] {
                    format!("{} has aggregate parameters or results", f.name)
                } else {
                    format!("{} is not reachable from the functions compiled", f.name)
                });
                continue;
            };
            let sig =
                mu_signature(types, f.sig).ok_or_else(|| FastError::Bug("signature".into()))?;
            let before = out.traps.len();
            let calls_missing = f.body.as_ref().is_some_and(|b| {
                b.blocks
                    .iter()
                    .flat_map(|bl| &bl.insts)
                    .any(|inst| match &inst.op {
                        spec_model::ir::Op::Call {
                            callee: spec_model::ir::Operand::Func(g),
                            ..
                        }
                        | spec_model::ir::Op::TailCall {
                            callee: spec_model::ir::Operand::Func(g),
                            ..
                        } => self.ids[*g as usize].is_none(),
                        _ => false,
                    })
            });
            let result = if calls_missing {
                Err(lower::NotCompiled(
                    "a call of a function with aggregate parameters".into(),
                ))
            } else {
                self.cctx.func.signature = sig.clone();
                self.cctx.func.name = UserFuncName::user(0, i as u32);
                let info = if self.options.client {
                    Some(frame_table(&mut self.jit, i, 0)?)
                } else {
                    None
                };
                let env = Env {
                    module,
                    jit: &mut self.jit,
                    funcs: &self.ids,
                    rt: self.rt,
                    exposes: &self.expose_ids,
                    global_offsets: &self.global_offsets,
                    externs: &self.externs,
                    traps: &mut out.traps,
                    fuel: self.options.fuel_checks,
                    client: self.options.client,
                    info,
                    slots: &self.slots,
                    frontend: self.fe,
                };
                let b = FunctionBuilder::new(&mut self.cctx.func, &mut self.fctx);
                let table = if f.body.is_none() && f.unsupported.is_none() && self.options.client {
                    // A function with no version: its hidden version traps to the
                    // client (`client.undefined-function`).
                    Ok(lower::undefined_function(env, b, i as u32))
                } else {
                    lower_function(env, b, f)
                };
                if let Some(info) = info {
                    let words = table.as_deref().unwrap_or(&[0, 0]);
                    define_table(&mut self.jit, info, words)?;
                }
                table.map(|_| ())
            };
            if let Err(e) = result {
                out.traps.truncate(before);
                out.not_compiled[i] = Some(e.0);
                self.unsupported_stub(&sig, i);
            }
            out.bodies[i] = Some(std::mem::replace(
                &mut self.cctx.func,
                cranelift_codegen::ir::Function::new(),
            ));
            self.jit.clear_context(&mut self.cctx);
        }
        Ok(out)
    }

    /// The body of function `i` that could not be compiled: it stops the run with
    /// `StopCode::Unsupported` and the function's index.
    fn unsupported_stub(&mut self, sig: &Signature, i: usize) {
        // The abandoned builder left its state behind.
        self.fctx = FunctionBuilderContext::new();
        self.jit.clear_context(&mut self.cctx);
        self.cctx.func.signature = sig.clone();
        let b = FunctionBuilder::new(&mut self.cctx.func, &mut self.fctx);
        unsupported_body(b, i, self.fe);
    }

    /// Phase 4: each body, with its small callees inlined, to machine code.
    fn define_functions(
        &mut self,
        bodies: &[Option<cranelift_codegen::ir::Function>],
    ) -> Result<(), FastError> {
        let by_id: rustc_hash::FxHashMap<u32, usize> = self
            .ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| id.map(|id| (id.as_u32(), i)))
            .collect();
        for (i, f) in self.module.funcs.iter().enumerate() {
            let (Some(id), Some(body)) = (self.ids[i], &bodies[i]) else {
                continue;
            };
            self.cctx.func = body.clone();
            // A client may redefine any callee: nothing is inlined for it.
            if !self.options.client {
                self.cctx
                    .inline(inline::Inliner {
                        bodies,
                        by_id: &by_id,
                        grown: 0,
                    })
                    .map_err(|e| FastError::Bug(format!("{}: inlining: {e:?}", f.name)))?;
            }
            codecache::define(&mut self.jit, id, &mut self.cctx)
                .map_err(|e| FastError::Bug(format!("{}: {e}", f.name)))?;
            self.jit.clear_context(&mut self.cctx);
        }
        Ok(())
    }

    /// Phase 5: the C entry point of each static `.expose`, a wrapper that enters
    /// Mu with the exposure's cookie.
    fn define_exposes(&mut self) -> Result<(), FastError> {
        let (module, types) = (self.module, &self.module.types);
        let env = WrapperEnv {
            current: self.current_id,
            trace: self.rt.trace,
            frontend: self.fe,
        };
        for (k, e) in module.exposes.iter().enumerate() {
            let (Some(wid), Some(fid)) = (self.expose_ids[k], self.ids[e.func as usize]) else {
                continue;
            };
            let x = Exposure {
                func: e.func,
                sig: module.funcs[e.func as usize].sig,
                fid,
                slot: self.slots[e.func as usize],
                cookie: cookie_of(module, e),
            };
            define_wrapper(
                &mut self.jit,
                &mut self.cctx,
                &mut self.fctx,
                env,
                types,
                &x,
                wid,
            )
            .map_err(|why| FastError::Bug(format!("expose {k}: {why}")))?;
        }
        Ok(())
    }

    /// Phase 6: the SystemV entry points the runner calls, `(ctx, args) -> status`,
    /// one for each root (every function without roots).
    fn define_entries(
        &mut self,
        roots: Option<&[u32]>,
    ) -> Result<Vec<Option<ClFuncId>>, FastError> {
        let module = self.module;
        let mut entry_ids = Vec::new();
        for (i, f) in module.funcs.iter().enumerate() {
            // Without roots, each entry point is compiled when a run first needs it
            // (`Program::entry_of`).
            let is_root = roots.is_some_and(|r| r.contains(&(i as u32)));
            let Some(id) = self.ids[i].filter(|_| is_root) else {
                entry_ids.push(None);
                continue;
            };
            let eid = self
                .jit
                .declare_function(
                    &format!("entry{i}"),
                    Linkage::Local,
                    &sysv(&[I64, I64], I32),
                )
                .map_err(|e| bug(&e))?;
            entry_body(
                &mut self.jit,
                &mut self.cctx,
                &mut self.fctx,
                module,
                i,
                id,
                self.slots[i],
                self.fe,
            )?;
            codecache::define(&mut self.jit, eid, &mut self.cctx)
                .map_err(|e| FastError::Bug(format!("entry {}: {e}", f.name)))?;
            self.jit.clear_context(&mut self.cctx);
            entry_ids.push(Some(eid));
        }
        Ok(entry_ids)
    }

    /// Phase 7: the code finalized, the addresses the runner and the runtime need,
    /// and the program that owns the JIT module from now on.
    fn finish(
        mut self,
        entry_ids: Vec<Option<ClFuncId>>,
        lowered: Lowered,
    ) -> Result<Program<'m>, FastError> {
        self.jit.finalize_definitions().map_err(|e| bug(&e))?;
        let jit = self.jit;
        let entries = entry_ids
            .iter()
            .map(|e| {
                e.map(|id| {
                    let p = jit.get_finalized_function(id);
                    // SAFETY: `p` is the code of an entry point defined above with the
                    // SystemV signature (ctx, args) -> status, which `Entry` spells.
                    unsafe { std::mem::transmute::<*const u8, Entry>(p) }
                })
            })
            .collect();
        let addr = |ids: &[Option<ClFuncId>]| -> Vec<u64> {
            ids.iter()
                .map(|id| id.map_or(0, |id| jit.get_finalized_function(id) as u64))
                .collect()
        };
        // In client mode a funcref is the address of the function's slot, which
        // holds the code of its current version.
        let (code, toc) = if self.options.client {
            (slot_addresses(&jit, &self.slots), addr(&self.ids))
        } else {
            (addr(&self.ids), Vec::new())
        };
        let expose_addrs: Vec<Option<u64>> = self
            .expose_ids
            .iter()
            .map(|id| id.map(|id| jit.get_finalized_function(id) as u64))
            .collect();
        let static_exposes = expose_addrs
            .iter()
            .zip(&self.module.exposes)
            .filter_map(|(a, e)| a.map(|a| (a, e.func)))
            .collect();
        let base = Versions {
            module: self.module,
            code,
            not_compiled: lowered.not_compiled,
            traps: lowered.traps,
            global_offsets: self.global_offsets,
            globals_size: self.globals_size,
            toc,
            grown: false,
            chain: 0,
        };
        let base_ids = self.ids.len();
        let base_exposes = self.expose_ids.len();
        Ok(Program {
            static_exposes,
            expose_addrs,
            trace_native: self.options.trace_native,
            jit: std::cell::RefCell::new(Dynamic {
                jit: std::mem::ManuallyDrop::new(jit),
                ids: self.ids,
                current_id: self.current_id,
                trace_id: self.rt.trace,
                frontend: self.fe,
                wrappers: std::collections::HashMap::new(),
                count: 0,
                rt: self.rt,
                options: self.options,
                expose_ids: self.expose_ids,
                slots: self.slots,
                entries: std::collections::HashMap::new(),
                base_ids,
                base_exposes,
            }),
            entries,
            now: std::cell::RefCell::new(base.clone()),
            base,
            fuel_checks: self.options.fuel_checks,
            client_mode: self.options.client,
            bundles: std::cell::Cell::new(None),
            client: std::cell::RefCell::new(None),
            client_error: std::cell::RefCell::new(None),
            osr: std::cell::RefCell::new(None),
            grown: std::cell::RefCell::new(std::collections::HashMap::new()),
        })
    }
}

impl<'m> Program<'m> {
    /// After the client loaded a bundle (client mode): `module` is the program
    /// now. Each function it gives a new version, and each function it adds, is
    /// compiled into the JIT, and the functions' slots point at the new code,
    /// so that calls that start from now on run it; frames running older
    /// versions go on in their code, which stays. New global cells go after the
    /// old ones in the globals' memory.
    ///
    /// The same bundles loaded in the same order give the same code: what a run
    /// compiled for a sequence of loads (`text` the latest) is kept, and a later
    /// run that loads the same sequence takes it instead of compiling again.
    pub(crate) fn grow(
        &self,
        module: &'m Module,
        ctx: &mut Ctx,
        text: &str,
    ) -> Result<(), FastError> {
        let mut d = self
            .jit
            .try_borrow_mut()
            .map_err(|_| bug(&"the JIT is busy"))?;
        let d = &mut *d;
        let mut now = self.now.borrow_mut();
        let key = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (now.chain, text).hash(&mut h);
            h.finish()
        };
        let cached = self.grown.borrow().get(&key).cloned();
        match cached {
            Some(g) => {
                now.global_offsets = g.global_offsets;
                now.globals_size = g.globals_size;
                now.not_compiled = g.not_compiled;
                now.traps = g.traps;
                now.toc = g.toc;
                now.code = g.code;
                d.ids = g.ids;
                d.slots = g.slots;
                d.expose_ids = g.expose_ids;
                d.wrappers.extend(g.wrappers);
            }
            None => {
                let wrappers = self.compile_growth(module, d, &mut now)?;
                let g = Grown {
                    global_offsets: now.global_offsets.clone(),
                    globals_size: now.globals_size,
                    not_compiled: now.not_compiled.clone(),
                    traps: now.traps.clone(),
                    toc: now.toc.clone(),
                    code: now.code.clone(),
                    ids: d.ids.clone(),
                    slots: d.slots.clone(),
                    expose_ids: d.expose_ids.clone(),
                    wrappers,
                };
                self.grown.borrow_mut().insert(key, g);
            }
        }
        d.expose_ids.resize(module.exposes.len(), None);
        // SAFETY: the heap of the run, which lives as long as it, and is a heap of
        // this program's types (`'static` only in the context's spelling).
        let heap = unsafe { &mut *ctx.heap.cast::<Heap<'m>>() };
        let old_globals = heap.globals.1.len();
        for (g, off) in module
            .globals
            .iter()
            .zip(&now.global_offsets)
            .skip(old_globals)
        {
            heap.globals.1.push((*off, g.ty));
        }
        self.fill_slots(&now);
        now.module = module;
        now.grown = true;
        now.chain = key;
        heap.set_types(&module.types);
        Ok(())
    }

    /// Compiles what `module` adds to the program `now` is (`grow`), the C
    /// entry points of the exposures it adds included: gives their addresses,
    /// by (function, cookie).
    fn compile_growth(
        &self,
        module: &'m Module,
        d: &mut Dynamic,
        now: &mut Versions<'m>,
    ) -> Result<Wrappers, FastError> {
        let old = now.module;
        let types = &module.types;
        // Global cells.
        let mut end = now.globals_size;
        for g in module.globals.iter().skip(now.global_offsets.len()) {
            let l = layout::layout(types, g.ty);
            let off = end.div_ceil(l.align.max(1)) * l.align.max(1);
            now.global_offsets.push(off);
            end = off + l.size;
        }
        if end > self.base.globals_size + GLOBALS_RESERVE {
            return Err(FastError::Unsupported(format!(
                "more than {GLOBALS_RESERVE} bytes of global cells loaded in one run"
            )));
        }
        now.globals_size = end;
        // The functions to compile: new ones, and new versions of old ones.
        let changed: Vec<usize> = (0..module.funcs.len())
            .filter(|i| {
                let new = module.funcs[*i].body.as_ref().map(|b| &b.version);
                let was = old
                    .funcs
                    .get(*i)
                    .map(|f| f.body.as_ref().map(|b| &b.version));
                was != Some(new)
            })
            .collect();
        let mut bodies = Vec::new();
        for i in old.funcs.len()..module.funcs.len() {
            let f = &module.funcs[i];
            let body = match mu_signature(types, f.sig) {
                Some(s) => Some(
                    d.jit
                        .declare_function(&format!("mu{i}.{}", d.count), Linkage::Local, &s)
                        .map_err(|e| bug(&e))?,
                ),
                None => None,
            };
            d.ids.push(body);
            let slot = match body {
                Some(_) => Some(slot_data(&mut d.jit, i, d.count)?),
                None => None,
            };
            d.slots.push(slot);
            bodies.push((i, body));
            now.not_compiled.push(None);
        }
        d.count += 1;
        let externs = extern_addresses(module);
        // The exposures the bundles add: declared now, for the code that names them.
        let first_new = d.expose_ids.len();
        for k in first_new..module.exposes.len() {
            let e = &module.exposes[k];
            let sig = module.funcs[e.func as usize].sig;
            let id = match (ccall::c_signature(types, sig), d.ids[e.func as usize]) {
                (Some((cs, _, _)), Some(_)) => Some(
                    d.jit
                        .declare_function(&format!("expose{k}.{}", d.count), Linkage::Local, &cs)
                        .map_err(|e| bug(&e))?,
                ),
                _ => None,
            };
            d.expose_ids.push(id);
        }
        let mut fctx = FunctionBuilderContext::new();
        let mut cctx = d.jit.make_context();
        let mut defined = Vec::new();
        for &i in &changed {
            let f = &module.funcs[i];
            let Some(sig) = mu_signature(types, f.sig) else {
                now.not_compiled[i] =
                    Some(format!("{} has aggregate parameters or results", f.name));
                continue;
            };
            let id = match bodies.iter().find(|(k, _)| *k == i) {
                Some((_, Some(id))) => *id,
                _ => d
                    .jit
                    .declare_function(&format!("mu{i}.{}", d.count), Linkage::Local, &sig)
                    .map_err(|e| bug(&e))?,
            };
            d.count += 1;
            cctx.func.signature = sig.clone();
            cctx.func.name = UserFuncName::user(0, i as u32);
            let before = now.traps.len();
            let info = frame_table(&mut d.jit, i, d.count)?;
            let env = Env {
                module,
                jit: &mut d.jit,
                funcs: &d.ids,
                rt: d.rt,
                exposes: &d.expose_ids,
                global_offsets: &now.global_offsets,
                externs: &externs,
                traps: &mut now.traps,
                fuel: d.options.fuel_checks,
                client: true,
                info: Some(info),
                slots: &d.slots,
                frontend: d.frontend,
            };
            let b = FunctionBuilder::new(&mut cctx.func, &mut fctx);
            let result = if f.body.is_none() && f.unsupported.is_none() {
                Ok(lower::undefined_function(env, b, i as u32))
            } else {
                lower_function(env, b, f)
            };
            // The table is defined even for a body that failed (nothing reads it).
            define_table(&mut d.jit, info, result.as_deref().unwrap_or(&[0, 0]))?;
            let result = result.map(|_| ());
            if let Err(e) = result {
                now.traps.truncate(before);
                now.not_compiled[i] = Some(e.0);
                fctx = FunctionBuilderContext::new();
                d.jit.clear_context(&mut cctx);
                cctx.func.signature = sig.clone();
                let b = FunctionBuilder::new(&mut cctx.func, &mut fctx);
                unsupported_body(b, i, d.frontend);
            } else {
                now.not_compiled[i] = None;
            }
            codecache::define(&mut d.jit, id, &mut cctx)
                .map_err(|e| FastError::Bug(format!("{}: {e}", f.name)))?;
            d.jit.clear_context(&mut cctx);
            defined.push((i, id));
        }
        // The new exposures' C entry points, which enter Mu with their cookies.
        let env = WrapperEnv {
            current: d.current_id,
            trace: d.trace_id,
            frontend: d.frontend,
        };
        let mut wrapped = Vec::new();
        for k in first_new..module.exposes.len() {
            let e = &module.exposes[k];
            let (Some(wid), Some(fid)) = (d.expose_ids[k], d.ids[e.func as usize]) else {
                continue;
            };
            let x = Exposure {
                func: e.func,
                sig: module.funcs[e.func as usize].sig,
                fid,
                slot: d.slots.get(e.func as usize).copied().flatten(),
                cookie: cookie_of(module, e),
            };
            define_wrapper(&mut d.jit, &mut cctx, &mut fctx, env, types, &x, wid)
                .map_err(|why| FastError::Bug(format!("expose {k}: {why}")))?;
            wrapped.push(((e.func, x.cookie), wid));
        }
        d.jit.finalize_definitions().map_err(|e| bug(&e))?;
        let wrappers: Wrappers = wrapped
            .into_iter()
            .map(|(key, wid)| (key, d.jit.get_finalized_function(wid) as u64))
            .collect();
        d.wrappers.extend(wrappers.iter().copied());
        // The new code for the slots, and the program as it is now.
        now.toc.resize(module.funcs.len(), 0);
        for (i, id) in defined {
            now.toc[i] = d.jit.get_finalized_function(id) as u64;
        }
        let new_slots: Vec<_> = bodies.iter().map(|(i, _)| d.slots[*i]).collect();
        now.code.extend(slot_addresses(&d.jit, &new_slots));
        Ok(wrappers)
    }
}

/// What compiling a sequence of loaded bundles made (`Program::grow`).
#[derive(Clone)]
pub(crate) struct Grown {
    global_offsets: Vec<u64>,
    globals_size: u64,
    not_compiled: Vec<Option<String>>,
    traps: Vec<TrapInfo>,
    toc: Vec<u64>,
    code: Vec<u64>,
    ids: Vec<Option<ClFuncId>>,
    slots: Vec<Option<cranelift_module::DataId>>,
    /// The C entry points of the exposures the bundles add, and their
    /// addresses by (function, cookie).
    expose_ids: Vec<Option<ClFuncId>>,
    wrappers: Wrappers,
}

/// C entry points of exposures: their addresses by (function, cookie).
type Wrappers = Vec<((u32, u64), u64)>;

/// What a C entry point calls besides its Mu function: `rt_current`, and
/// `rt_trace` when compiling with the native trace; and the target.
#[derive(Clone, Copy)]
pub(crate) struct WrapperEnv {
    pub current: ClFuncId,
    pub trace: Option<ClFuncId>,
    pub frontend: TargetFrontendConfig,
}

/// A Mu function as a C entry point enters it: its index and signature, its
/// compiled code, its slot (client mode) and the cookie it is entered with.
pub(crate) struct Exposure {
    pub func: u32,
    pub sig: SigId,
    pub fid: ClFuncId,
    pub slot: Option<cranelift_module::DataId>,
    pub cookie: u64,
}

/// The cookie of a static `.expose`.
fn cookie_of(module: &Module, e: &spec_model::ir::Expose) -> u64 {
    match module.consts[e.cookie as usize].value {
        ConstValue::Int(c) => c,
        _ => 0,
    }
}

/// Defines `wid` as the C entry point of `x`: a wrapper that enters the Mu
/// function with the exposure's cookie. The one definition of the static
/// `.expose`s of a compilation and of a client's bundles, and of
/// `@uvm.native.expose` (`Dynamic::wrapper`).
pub(crate) fn define_wrapper(
    jit: &mut JITModule,
    cctx: &mut cranelift_codegen::Context,
    fctx: &mut FunctionBuilderContext,
    env: WrapperEnv,
    types: &spec_model::ir::Types,
    x: &Exposure,
    wid: ClFuncId,
) -> Result<(), String> {
    let (cs, _, _) = ccall::c_signature(types, x.sig).ok_or("a signature C cannot call")?;
    cctx.func.signature = cs;
    let mu_fn = ccall::Callee::of(jit, &mut cctx.func, x.slot, types, x.sig, x.fid)
        .ok_or("an expose wrapper")?;
    let rt_current = jit.declare_func_in_func(env.current, &mut cctx.func);
    let trace = env
        .trace
        .map(|t| (jit.declare_func_in_func(t, &mut cctx.func), x.func));
    let b = FunctionBuilder::new(&mut cctx.func, fctx);
    let calls = ccall::WrapperCalls {
        mu_fn,
        rt_current,
        trace,
    };
    ccall::build_wrapper(b, types, x.sig, calls, x.cookie, env.frontend)
        .ok_or("an expose wrapper")?;
    codecache::define(jit, wid, cctx)?;
    jit.clear_context(cctx);
    Ok(())
}

/// The body of a function the fast VM cannot compile: it stops the run with
/// `StopCode::Unsupported` and the function's index.
fn unsupported_body(mut b: FunctionBuilder<'_>, i: usize, fe: TargetFrontendConfig) {
    let blk = b.create_block();
    b.append_block_params_for_function_params(blk);
    b.switch_to_block(blk);
    let ctx = b.block_params(blk)[0];
    let c = b.ins().iconst(I64, StopCode::Unsupported as i64);
    b.ins()
        .store(MemFlagsData::trusted(), c, ctx, runtime::offsets::STOP);
    let d = b.ins().iconst(I64, i as i64);
    b.ins()
        .store(MemFlagsData::trusted(), d, ctx, runtime::offsets::DETAIL);
    let s = b.ins().iconst(I32, i64::from(runtime::STOP));
    let z = b.ins().iconst(I64, 0);
    b.ins().return_(&[s, z]);
    b.seal_all_blocks();
    b.finalize(fe);
}

/// The body of the SystemV entry point of function `i`, `(ctx, args) -> status`,
/// which calls it (declared as `callee`; through its slot in client mode) with
/// the argument words.
#[allow(
    clippy::too_many_arguments,
    reason = "what one compilation needs, each plain"
)]
fn entry_body(
    jit: &mut JITModule,
    cctx: &mut cranelift_codegen::Context,
    fctx: &mut FunctionBuilderContext,
    module: &Module,
    i: usize,
    callee: ClFuncId,
    slot: Option<cranelift_module::DataId>,
    fe: TargetFrontendConfig,
) -> Result<(), FastError> {
    let types = &module.types;
    let f = &module.funcs[i];
    cctx.func.signature = sysv(&[I64, I64], I32);
    let callee = ccall::Callee::of(jit, &mut cctx.func, slot, types, f.sig, callee)
        .ok_or_else(|| bug(&"an entry point's signature"))?;
    let mut b = FunctionBuilder::new(&mut cctx.func, fctx);
    let blk = b.create_block();
    b.append_block_params_for_function_params(blk);
    b.switch_to_block(blk);
    let (ctx, args) = (b.block_params(blk)[0], b.block_params(blk)[1]);
    let depth = b
        .ins()
        .load(I64, MemFlagsData::trusted(), ctx, runtime::offsets::DEPTH);
    let mut argv = vec![ctx, depth];
    let param_leaves: Vec<_> = types
        .sig(f.sig)
        .params
        .iter()
        .map(|p| leaves(types, *p).unwrap_or_default())
        .flat_map(|l| l.into_iter().map(|(_, t)| t))
        .collect();
    for (k, t) in param_leaves.into_iter().enumerate() {
        let w = b
            .ins()
            .load(I64, MemFlagsData::trusted(), args, 8 * k as i32);
        let v = match t {
            I64 => w,
            cranelift_codegen::ir::types::F64 => b.ins().bitcast(t, MemFlagsData::new(), w),
            cranelift_codegen::ir::types::F32 => {
                let n = b.ins().ireduce(I32, w);
                b.ins().bitcast(t, MemFlagsData::new(), n)
            }
            _ => b.ins().ireduce(t, w),
        };
        argv.push(v);
    }
    let call = callee.call(&mut b, &argv);
    let st = b.inst_results(call)[0];
    // A normal return's first result word came in a register (a stop's
    // trap values are in the context already).
    let word0 = b.inst_results(call)[1];
    let t = MemFlagsData::trusted();
    let old = b.ins().load(I64, t, ctx, runtime::offsets::RET);
    let normal = b.ins().icmp_imm_s(
        cranelift_codegen::ir::condcodes::IntCC::Equal,
        st,
        i64::from(NORMAL),
    );
    let w = b.ins().select(normal, word0, old);
    b.ins().store(t, w, ctx, runtime::offsets::RET);
    b.ins().return_(&[st]);
    b.seal_all_blocks();
    b.finalize(fe);
    Ok(())
}

impl Program<'_> {
    /// The entry point of function `g` (one of a bundle loaded in this run, too),
    /// compiled the first time it is needed.
    pub(crate) fn entry_of(&self, g: u32) -> Option<Entry> {
        if let Some(Some(e)) = self.entries.get(g as usize) {
            return Some(*e);
        }
        let module = self.module();
        let mut d = self.jit.try_borrow_mut().ok()?;
        let callee = d.ids.get(g as usize).copied().flatten()?;
        if let Some(e) = d.entries.get(&callee) {
            return Some(*e);
        }
        d.count += 1;
        let name = format!("entry{g}.{}", d.count);
        let eid = d
            .jit
            .declare_function(&name, Linkage::Local, &sysv(&[I64, I64], I32))
            .ok()?;
        let mut cctx = d.jit.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let fe = d.frontend;
        let slot = d.slots.get(g as usize).copied().flatten();
        entry_body(
            &mut d.jit, &mut cctx, &mut fctx, module, g as usize, callee, slot, fe,
        )
        .ok()?;
        codecache::define(&mut d.jit, eid, &mut cctx).ok()?;
        d.jit.finalize_definitions().ok()?;
        let p = d.jit.get_finalized_function(eid);
        // SAFETY: `p` is an entry point defined above with the SystemV signature
        // (ctx, args) -> status, which `Entry` spells.
        let e = unsafe { std::mem::transmute::<*const u8, Entry>(p) };
        d.entries.insert(callee, e);
        Some(e)
    }
}

/// Declares the frame table of function `i` (client mode; `n` tells the
/// declarations of one program apart).
fn frame_table(
    jit: &mut JITModule,
    i: usize,
    n: usize,
) -> Result<cranelift_module::DataId, FastError> {
    jit.declare_data(&format!("frames{i}.{n}"), Linkage::Local, false, false)
        .map_err(|e| bug(&e))
}

/// Defines a frame table with its words.
fn define_table(
    jit: &mut JITModule,
    id: cranelift_module::DataId,
    words: &[u64],
) -> Result<(), FastError> {
    let mut d = cranelift_module::DataDescription::new();
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    d.define(bytes.into_boxed_slice());
    d.set_align(8);
    jit.define_data(id, &d).map_err(|e| bug(&e))
}

/// Declares the slot of function `i` (client mode; `n` tells the declarations
/// of one program apart): a writable word the program fills (`fill_slots`).
fn slot_data(
    jit: &mut JITModule,
    i: usize,
    n: usize,
) -> Result<cranelift_module::DataId, FastError> {
    let id = jit
        .declare_data(&format!("slot{i}.{n}"), Linkage::Local, true, false)
        .map_err(|e| bug(&e))?;
    let mut d = cranelift_module::DataDescription::new();
    d.define_zeroinit(8);
    d.set_align(8);
    jit.define_data(id, &d).map_err(|e| bug(&e))?;
    Ok(id)
}

/// The addresses of finalized slots (0 for none).
fn slot_addresses(jit: &JITModule, slots: &[Option<cranelift_module::DataId>]) -> Vec<u64> {
    slots
        .iter()
        .map(|s| s.map_or(0, |s| jit.get_finalized_data(s).0 as u64))
        .collect()
}

impl Program<'_> {
    /// Writes the code of each function's current version into its slot (client
    /// mode): what `now` says.
    pub(crate) fn fill_slots(&self, now: &Versions<'_>) {
        if !self.client_mode {
            return;
        }
        for (slot, code) in now.code.iter().zip(&now.toc) {
            if *slot != 0 {
                // SAFETY: `slot` is the address of a slot, an 8-byte writable data
                // object of this program's JIT module, which lives as long as the
                // program; no compiled code runs while it is written.
                unsafe { (*slot as *mut u64).write(*code) };
            }
        }
    }
}

/// The address of each EXTERN constant's symbol, by constant id (`None`:
/// unresolved, or not an EXTERN).
fn extern_addresses(module: &Module) -> Vec<Option<u64>> {
    module
        .consts
        .iter()
        .map(|c| match &c.value {
            ConstValue::Extern(s) => spec_model::machine::symbol(s),
            _ => None,
        })
        .collect()
}
