//! Foreign calls and callbacks (spec/10-ccall-callbacks.md): `ccall.call`,
//! `ccall.al`, `ccall.bad-callee`, `ccall.stale-pointer`, `native.callback`,
//! `native.callback-return`.
//!
//! A CCALL encodes each argument in its native layout and calls the C function
//! through libffi (the bundled libffi, decisions.md). While C runs, the machine is
//! registered as the one exposed functions re-enter: a callback pushes a Mu frame
//! marked with its cookie and runs the machine until that frame returns. An outcome
//! reached inside a callback (a trap, UB, a budget) cannot unwind C's frames, so the
//! callback returns zero to C and the run ends with that outcome when C returns to
//! the CCALL.

use super::memory::{self, Place};
use super::{Machine, ModelError, R, Step, Value, native};
use crate::ir::{Exc, FuncId, Module, Operand, SigId, Type, TypeId};
use crate::layout;
use crate::outcome::{Budget, NativeEvent, Outcome};
use crate::rules::RuleId;
use std::ffi::c_void;
use std::rc::Rc;

/// A C function pointer that runs `func` when called (`.expose`, `@uvm.native.expose`).
pub(super) fn expose(
    module: &Module,
    func: FuncId,
    sig: SigId,
    cookie: u64,
) -> Option<native::Exposure> {
    let cif = native::cif(&module.types, sig)?;
    native::Exposure::new(
        cif,
        native::ExposeData {
            func,
            sig,
            cookie,
            run: callback,
        },
    )
}

/// The body of every exposed function: find the machine this thread is running
/// inside a CCALL, run the Mu function on it, hand the result back.
///
/// # Safety
/// Called by libffi with `args` pointing to the arguments of `data.sig` and
/// `result` to a buffer for its result.
unsafe fn callback(data: &native::ExposeData, args: *const *const c_void, result: *mut u8) {
    let raw = native::current();
    if raw.is_null() {
        return; // Not inside a CCALL of a machine on this thread: nothing to run it on.
    }
    // SAFETY: `raw` was registered by `Machine::ccall` from `&mut self` for the
    // duration of the C call, and the machine is not used through any other path
    // until that call returns.
    let m = unsafe { &mut *raw.cast::<Machine<'_>>() };
    let types = &m.module.types;
    let sig = types.sig(data.sig);
    let ret = sig.rets.first().copied();
    let ret_size = ret.map_or(0, |t| layout::layout(types, t).size as usize);
    // SAFETY: libffi's result buffer holds the result, and at least one `ffi_arg`.
    let out = unsafe { std::slice::from_raw_parts_mut(result, ret_size.max(8)) };
    out.fill(0);
    if m.pending.is_some() || m.pending_error.is_some() {
        return;
    }
    let mut vals = Vec::new();
    for (i, t) in sig.params.iter().enumerate() {
        let size = layout::layout(types, *t).size as usize;
        // SAFETY: argument i of the signature is at `args[i]`, `size` bytes long.
        let bytes = unsafe { std::slice::from_raw_parts((*args.add(i)).cast::<u8>(), size) };
        vals.push(memory::decode(types, bytes, 0, *t));
    }
    if let (Some(vs), Some(t)) = (m.run_callback(data.func, vals, data.cookie), ret)
        && let Some(v) = vs.first()
    {
        let mut buf = vec![0u8; ret_size];
        memory::encode(types, &mut buf, 0, t, v);
        match (types.get(t), v) {
            // A small integer result is returned widened to a whole register.
            (Type::Int(n), Value::Int(b)) if ret_size < 8 => {
                let wide = super::value::sext(*b, *n) as u64;
                out[..8].copy_from_slice(&wide.to_le_bytes());
            }
            _ => out[..ret_size].copy_from_slice(&buf),
        }
    }
}

impl Machine<'_> {
    /// `native.callback`: native code called `func`; run it to its return.
    /// `None` if the run ended inside (the outcome is then pending).
    fn run_callback(&mut self, func: FuncId, args: Vec<Value>, cookie: u64) -> Option<Vec<Value>> {
        let base = self.frames.len();
        self.rule_counts[RuleId::Callback as usize] += 1;
        if self.trace.is_some() {
            let sig = self.module.funcs[func as usize].sig;
            let params = self.module.types.sig(sig).params.clone();
            let args_out = params
                .iter()
                .zip(&args)
                .map(|(t, v)| self.out(*t, v))
                .collect();
            let name = self.module.funcs[func as usize].name.as_str().to_string();
            self.record(NativeEvent::Callback {
                func: name,
                args: args_out,
            });
        }
        if self.frames.len() >= self.stack_max as usize {
            self.pending = Some((
                RuleId::CallStackExhausted,
                Outcome::Exhausted(Budget::Stack),
            ));
            return None;
        }
        self.native_calls.push((self.stack, base));
        let r = self.run_callback_frame(func, args, cookie, base);
        self.native_calls.pop();
        r
    }

    /// [`Machine::run_callback`] once the callback is recorded.
    fn run_callback_frame(
        &mut self,
        func: FuncId,
        args: Vec<Value>,
        cookie: u64,
        base: usize,
    ) -> Option<Vec<Value>> {
        match self.push_frame_from(func, args, RuleId::Callback, Some(cookie)) {
            Err(e) => {
                self.pending_error = Some(e);
                return None;
            }
            Ok(Step {
                outcome: Some(o),
                rule,
            }) => {
                self.unwind_to(base);
                self.pending = Some((rule, o));
                return None;
            }
            Ok(_) => {}
        }
        loop {
            match self.step_threads() {
                Err(e) => {
                    self.unwind_to(base);
                    self.pending_error = Some(e);
                    return None;
                }
                Ok(Step {
                    outcome: Some(o),
                    rule,
                }) => {
                    self.unwind_to(base);
                    self.pending = Some((rule, o));
                    return None;
                }
                Ok(_) => {
                    if let Some(vals) = self.callback_return.take() {
                        if self.trace.is_some() {
                            let sig = self.module.funcs[func as usize].sig;
                            let rets = self.module.types.sig(sig).rets.clone();
                            let out = rets
                                .iter()
                                .zip(&vals)
                                .map(|(t, v)| self.out(*t, v))
                                .collect();
                            self.record(NativeEvent::CallbackReturn(out));
                        }
                        return Some(vals);
                    }
                }
            }
        }
    }

    fn unwind_to(&mut self, base: usize) {
        while self.frames.len() > base {
            self.pop_frame();
        }
    }

    /// Records a native-boundary event when tracing.
    pub(super) fn record(&mut self, e: NativeEvent) {
        if let Some(t) = self.trace.as_mut() {
            t.push(e);
        }
    }

    /// Whether a pointer value (at any depth of an argument) points into Mu memory
    /// that is not pinned now.
    fn stale_pointer(&self, t: TypeId, v: &Value) -> bool {
        let types = &self.module.types;
        match (types.get(t), v) {
            (Type::UPtr(_) | Type::UFuncPtr(_), Value::Ptr(p)) => match self.mem.place(*p) {
                Place::Obj(o, _) => self.mem.objs[o as usize].pins == 0,
                Place::Grave(..) => true,
                Place::Native => false,
            },
            (Type::Struct(fs), Value::Agg(vs)) => fs
                .iter()
                .zip(vs.iter())
                .any(|(f, v)| self.stale_pointer(*f, v)),
            (Type::Array(e, _), Value::Agg(vs)) => vs.iter().any(|v| self.stale_pointer(*e, v)),
            _ => false,
        }
    }

    /// How the native trace names a callee: the EXTERN symbol it was written as, the
    /// Mu function an exposure runs, the symbol the dynamic linker knows, or the address.
    fn callee_name(&self, callee: Operand, fp: u64) -> String {
        let module = self.module;
        if let Operand::Const(c) = callee
            && let crate::ir::ConstValue::Extern(sym) = &module.consts[c as usize].value
        {
            return sym.clone();
        }
        if let Some(f) = self.exposed_func(fp) {
            return format!("{} (exposed)", module.funcs[f as usize].name);
        }
        native::symbol_name(fp).unwrap_or_else(|| format!("{fp:#x}"))
    }

    /// `ccall.call`, `ccall.al`, `ccall.bad-callee`, `ccall.stale-pointer`.
    pub(super) fn ccall(
        &mut self,
        sig: SigId,
        callee: Operand,
        args: &[Operand],
        exc: &Option<Exc>,
        r: &[u32],
    ) -> R<Step> {
        let fp = self.val(callee)?.bits();
        if fp == 0 || self.mem.place(fp) != Place::Native {
            return Self::end(RuleId::CCallBadCallee, Outcome::Ub(RuleId::CCallBadCallee));
        }
        let module = self.module;
        let types = &module.types;
        let s = types.sig(sig);
        let vals = self.vals(args)?;
        if s.params
            .iter()
            .zip(&vals)
            .any(|(t, v)| self.stale_pointer(*t, v))
        {
            return Self::end(
                RuleId::CCallStalePointer,
                Outcome::Ub(RuleId::CCallStalePointer),
            );
        }
        let cif = match self.cifs.get(&sig) {
            Some(c) => c.clone(),
            None => {
                let Some(c) = native::cif(types, sig) else {
                    return Err(ModelError::Unsupported {
                        code: "native-interface",
                        message: format!(
                            "libffi cannot express the signature {}",
                            types.show_sig(sig)
                        ),
                    });
                };
                let c = Rc::new(c);
                self.cifs.insert(sig, c.clone());
                c
            }
        };
        let bufs: Vec<Vec<u8>> = s
            .params
            .iter()
            .zip(&vals)
            .map(|(t, v)| {
                let mut b = vec![0u8; layout::layout(types, *t).size as usize];
                memory::encode(types, &mut b, 0, *t, v);
                b
            })
            .collect();
        let ret = s.rets.first().copied();
        let ret_size = ret.map_or(0, |t| layout::layout(types, t).size as usize);
        // The call is recorded before C runs, so that callbacks nest inside it in the
        // trace; its result is filled in when C returns.
        let event = if self.trace.is_some() {
            let args = s
                .params
                .iter()
                .zip(&vals)
                .map(|(t, v)| self.out(*t, v))
                .collect();
            let callee = self.callee_name(callee, fp);
            self.record(NativeEvent::CCall {
                callee,
                args,
                result: None,
            });
            self.trace.as_ref().map(|t| t.len() - 1)
        } else {
            None
        };
        // `ccall.al`: every call C receives has %al set, by libffi (`native::call`).
        self.rule_counts[RuleId::CCallAl as usize] += 1;
        let raw: *mut c_void = (self as *mut Self).cast();
        // SAFETY: the verifier checked the callee's type against the signature; the
        // model cannot know what C function is really at `fp` (Mu: arguments are read
        // "strictly according to the ABI"), and that is the program's contract. While C
        // runs, the machine is reached only through `raw` (by callbacks).
        let bytes =
            native::with_current(raw, || unsafe { native::call(&cif, fp, &bufs, ret_size) });
        let result = ret.map(|t| memory::decode(types, &bytes, 0, t));
        // A run that ended while C ran (a callback trapped, threw into native code or
        // ran out of a budget) never receives the result: the event keeps none.
        let ended = self.pending_error.is_some() || self.pending.is_some();
        if let (Some(i), Some(t), Some(v), false) = (event, ret, result.as_ref(), ended) {
            let out = self.out(t, v);
            if let Some(NativeEvent::CCall { result, .. }) =
                self.trace.as_mut().and_then(|tr| tr.get_mut(i))
            {
                *result = Some(out);
            }
        }
        if let Some(e) = self.pending_error.take() {
            return Err(e);
        }
        if let Some((rule, o)) = self.pending.take() {
            return Self::end(rule, o);
        }
        if let Some(v) = result {
            self.set(r, 0, v);
        }
        self.next(exc, RuleId::CCall)
    }
}
