//! The client's part of a run (spec/11): `trap.client`, `thread.exit` and the
//! `client.*` rules, and the client context ([`MuCtx`]) the model hands a trap
//! handler (uvm-client-interface.rest, "Trap Handling", "Stack introspection",
//! "On-stack replacement").
//!
//! At a trap the thread is unbound from its stack: the handler sees the frames as
//! they are, may change them (pop to a cursor, push a frame), load bundles,
//! allocate and pin; then its answer rebinds the thread to the top frame as it
//! left it: passing values (the TRAP's results, a CALL's results in a frame popped
//! to, the arguments of a pushed frame, or nothing for an undefined function's
//! hidden version, which then calls the function again) or throwing.

use super::*;
use crate::client::{
    AtomicRmwOp, CResult, ClientError, ClientValue, Cursor, Handle, MuCtx, MuId, NewThread, Start,
    Table, TrapAnswer, TrapEvent, TrapKind, shared,
};

/// The fuel an undefined function's hidden version costs: its one block has two
/// instructions (uvm-ir.rest).
pub const HIDDEN_VERSION_COST: u64 = 2;

/// A value the client holds: its type, except that a reference holds its
/// referent's (the model's references do not carry one).
#[derive(Clone, Debug)]
pub(super) struct Held {
    ty: TypeId,
    value: Value,
}

impl Held {
    fn of(types: &Types, t: TypeId, value: Value) -> Held {
        let ty = match types.get(t) {
            Type::Ref(r) | Type::IRef(r) | Type::WeakRef(r) => *r,
            _ => t,
        };
        Held { ty, value }
    }
}

impl<'m> Machine<'m> {
    /// `trap.client`, `trap.watchpoint`, `ctl.watchpoint-off`, `thread.exit`: TRAP,
    /// and a WATCHPOINT whose ID the client enabled, hand control to the client's handler
    /// with its KEEPALIVE values, and the thread does what the handler answers
    /// (`client.resume`, `client.throw`, `client.exit`), or the run stops with
    /// `client_trap NAME V…` (also what happens without a handler).
    /// `@uvm.thread_exit` ends the thread.
    pub(super) fn client(&mut self, op: &'m Op, _r: &[u32]) -> R<Step> {
        match op {
            Op::Trap {
                name,
                keepalive,
                watch,
                ..
            } => {
                let mut kind = TrapKind::Trap;
                if let Some(w) = watch {
                    // Its enabled-ness is decided as it starts (instruction-set.rest).
                    if !self.watchpoints.contains(&w.wpid) {
                        return self.goto(&w.dis, None, RuleId::WatchpointOff);
                    }
                    self.rule_counts[RuleId::Watchpoint as usize] += 1;
                    kind = TrapKind::Watchpoint;
                }
                let values = keepalive
                    .iter()
                    .map(|o| self.operand_out(*o))
                    .collect::<R<Vec<_>>>()?;
                let kept = self.held_operands(self.frames.len() - 1, keepalive)?;
                let event = TrapEvent {
                    kind,
                    name: format!("@{}", name.as_str()),
                    keepalive: values.clone(),
                };
                self.hand_to_client(event, kept, name.as_str(), values)
            }
            Op::CommInst(CommInst::ThreadExit) => {
                Self::end(RuleId::ThreadExit, Outcome::Return(Vec::new()))
            }
            _ => Err(ModelError::Bug("client of another instruction".into())),
        }
    }

    /// `client.undefined-function`: the call of `f`, which has no version, pushes a
    /// frame of its hidden version and traps to the client with the arguments
    /// (uvm-ir.rest, "Function Definition and Declaration").
    pub(super) fn undefined_function(
        &mut self,
        f: FuncId,
        args: Vec<Value>,
        rule: RuleId,
        cookie: Option<u64>,
    ) -> R<Step> {
        // The hidden version's block (TRAP, TAILCALL) is paid for as any block.
        if self.fuel < HIDDEN_VERSION_COST {
            return Self::end(RuleId::FuelExhausted, Outcome::Exhausted(Budget::Fuel));
        }
        self.fuel -= HIDDEN_VERSION_COST;
        let m = self.module;
        let params = &m.types.sig(m.funcs[f as usize].sig).params;
        let values: Vec<OutValue> = params
            .iter()
            .zip(&args)
            .map(|(t, v)| self.out(*t, v))
            .collect();
        let kept = params
            .iter()
            .zip(&args)
            .map(|(t, v)| Held::of(&m.types, *t, v.clone()))
            .collect();
        self.frames.push(Frame {
            func: f,
            body: None,
            fresh: false,
            block: 0,
            pc: 0,
            slots: args,
            allocas: Vec::new(),
            cookie,
        });
        // The call that got here, and the hidden version's trap.
        self.rule_counts[rule as usize] += 1;
        self.rule_counts[RuleId::UndefinedFunction as usize] += 1;
        let name = m.funcs[f as usize].name.as_str().to_string();
        let event = TrapEvent {
            kind: TrapKind::UndefinedFunction,
            name: format!("@{name}"),
            keepalive: values.clone(),
        };
        self.hand_to_client(event, kept, &name, values)
    }

    /// Calls the handler with a context for this trap, then does what it answers.
    fn hand_to_client(
        &mut self,
        event: TrapEvent,
        kept: Vec<Held>,
        name: &str,
        values: Vec<OutValue>,
    ) -> R<Step> {
        let stop = Outcome::ClientTrap {
            name: name.to_string(),
            values,
        };
        let Some(mut client) = self.client.take() else {
            return Self::end(RuleId::ClientTrap, stop);
        };
        let mut cx = ModelCtx {
            m: self,
            handles: Table::default(),
            cursors: Table::default(),
            kept: kept.clone(),
            stacks: HashMap::new(),
        };
        let answer = client.on_trap(&mut cx, &event);
        let handles = cx.handles;
        self.client = Some(client);
        let held = |v: &ClientValue| -> Option<Held> {
            match v {
                ClientValue::Kept(i) => kept.get(*i).cloned(),
                ClientValue::Handle(h) => handles.get(h.0).cloned(),
                _ => None,
            }
        };
        match answer {
            TrapAnswer::Stop => Self::end(RuleId::ClientTrap, stop),
            TrapAnswer::ExitThread => Self::end(RuleId::ClientExit, Outcome::Return(Vec::new())),
            TrapAnswer::Resume(vs) => {
                let vs = vs.iter().map(|v| (v.clone(), held(v))).collect::<Vec<_>>();
                self.rebind_passing(name, &vs)
            }
            TrapAnswer::Throw(v) => {
                let e = match (&v, held(&v)) {
                    (ClientValue::Null, _) => Value::Ref(None),
                    (
                        _,
                        Some(Held {
                            value: x @ Value::Ref(_),
                            ..
                        }),
                    ) => x,
                    _ => {
                        return Err(ModelError::Usage(format!(
                            "the client threw {v:?} at {name}, which is not a reference"
                        )));
                    }
                };
                self.rebind_throwing(name, e)
            }
        }
    }

    /// `client.resume`: the thread goes on with `vs` at the top frame.
    fn rebind_passing(&mut self, name: &str, vs: &[(ClientValue, Option<Held>)]) -> R<Step> {
        let Some(top) = self.frames.last() else {
            return Err(ModelError::Usage(
                "the client left no frame to rebind to".into(),
            ));
        };
        let wrong = |n: usize| {
            Err(ModelError::Usage(format!(
                "the client resumed {name} with {} values; {n} are expected",
                vs.len()
            )))
        };
        match (top.body, top.fresh) {
            (None, _) => {
                // The hidden version tail-calls the function again, as the next
                // step (`Machine::apply`).
                if !vs.is_empty() {
                    return wrong(0);
                }
                Ok(Step {
                    rule: RuleId::ClientResume,
                    outcome: None,
                })
            }
            (Some(body), true) => {
                let params = &body.blocks[0].params;
                if params.len() != vs.len() {
                    return wrong(params.len());
                }
                let mut args = Vec::new();
                for (p, v) in params.iter().zip(vs) {
                    args.push(self.client_value(v, body.slot_types[*p as usize])?);
                }
                self.frame().fresh = false;
                Ok(match self.enter(0, args, None) {
                    Some(o) => Step {
                        rule: RuleId::FuelExhausted,
                        outcome: Some(o),
                    },
                    None => Step {
                        rule: RuleId::ClientResume,
                        outcome: None,
                    },
                })
            }
            (Some(_), false) => {
                let Some(inst) = self.current() else {
                    return Err(ModelError::Bug("a frame past its end".into()));
                };
                let (tys, exc, ena) = match &inst.op {
                    Op::Trap {
                        tys, exc, watch, ..
                    } => (tys.clone(), exc, watch.as_ref().map(|w| &w.ena)),
                    Op::Call { sig, exc, .. } => {
                        (self.module.types.sig(*sig).rets.clone(), exc, None)
                    }
                    _ => {
                        return Err(ModelError::Usage(
                            "the top frame is not at a TRAP or a CALL".into(),
                        ));
                    }
                };
                if tys.len() != vs.len() {
                    return wrong(tys.len());
                }
                for (i, (v, t)) in vs.iter().zip(&tys).enumerate() {
                    let x = self.client_value(v, *t)?;
                    self.set(&inst.results, i, x);
                }
                match (exc, ena) {
                    // A WATCHPOINT without WPEXC goes on to `ena`.
                    (None, Some(d)) => self.goto(d, None, RuleId::ClientResume),
                    _ => self.next(exc, RuleId::ClientResume),
                }
            }
        }
    }

    /// `client.throw`: `e` is thrown at the top frame's current instruction; a
    /// frame that has not started (pushed, or an undefined function's) throws it
    /// to the frame below.
    fn rebind_throwing(&mut self, name: &str, e: Value) -> R<Step> {
        let Some(top) = self.frames.last() else {
            return Err(ModelError::Usage(format!(
                "the client threw at {name} with no frame left"
            )));
        };
        let exc = if top.body.is_none() || top.fresh {
            &None
        } else {
            match self.current().map(|i| &i.op) {
                Some(Op::Trap { exc, .. } | Op::Call { exc, .. }) => exc,
                _ => {
                    return Err(ModelError::Usage(
                        "the top frame is not at a TRAP or a CALL".into(),
                    ));
                }
            }
        };
        match exc {
            Some(x) => self.goto(&x.exc, Some(e), RuleId::ClientThrow),
            None => {
                let s = self.throw(e)?;
                Ok(match s.outcome {
                    None => Step {
                        rule: RuleId::ClientThrow,
                        outcome: None,
                    },
                    Some(_) => s,
                })
            }
        }
    }

    /// A value the client passes in, as a value of type `t`.
    fn client_value(&self, v: &(ClientValue, Option<Held>), t: TypeId) -> R<Value> {
        let types = &self.module.types;
        let bad = || {
            Err(ModelError::Usage(format!(
                "the client's {:?} is not a value of {}",
                v.0,
                types.show(t)
            )))
        };
        Ok(match (&v.0, types.get(t)) {
            (ClientValue::Int(b), Type::Int(n)) => Value::Int(b & value::mask(*n)),
            (ClientValue::Int(b), Type::UPtr(_) | Type::UFuncPtr(_)) => Value::Ptr(*b),
            (ClientValue::Float(b), Type::Float) => Value::Float(f32::from_bits(*b)),
            (ClientValue::Double(b), Type::Double) => Value::Double(f64::from_bits(*b)),
            (ClientValue::Null, Type::Ref(_) | Type::IRef(_) | Type::FuncRef(_)) => {
                null_value(types, t)
            }
            (ClientValue::Kept(_) | ClientValue::Handle(_), ty) => {
                let Some(h) = &v.1 else { return bad() };
                match (&h.value, ty) {
                    (Value::Int(b), Type::Int(n)) => Value::Int(b & value::mask(*n)),
                    (Value::Float(_), Type::Float)
                    | (Value::Double(_), Type::Double)
                    | (Value::Ref(_), Type::Ref(_))
                    | (Value::IRef(_), Type::IRef(_))
                    | (Value::FuncRef(_), Type::FuncRef(_))
                    | (Value::Ptr(_), Type::UPtr(_) | Type::UFuncPtr(_))
                    | (Value::Agg(_), Type::Struct(_) | Type::Array(..)) => h.value.clone(),
                    _ => return bad(),
                }
            }
            _ => return bad(),
        })
    }

    /// The values of operands `os` in frame `fr`, as the client holds them.
    fn held_operands(&self, fr: usize, os: &[Operand]) -> R<Vec<Held>> {
        let m = self.module;
        let frame = self.frames.get(fr);
        let mut out = Vec::new();
        for o in os {
            let (t, v) = match *o {
                Operand::Local(s) => {
                    let frame = frame.ok_or_else(|| ModelError::Bug("no frame".into()))?;
                    let body = frame.body.ok_or_else(|| ModelError::Bug("hidden".into()))?;
                    (body.slot_types[s as usize], frame.slots[s as usize].clone())
                }
                Operand::Const(c) => (m.consts[c as usize].ty, self.val(*o)?),
                // Irefs of global cells, funcrefs, exposures: the type does not
                // show in their values.
                Operand::Global(g) => {
                    out.push(Held {
                        ty: m.globals[g as usize].ty,
                        value: self.val(*o)?,
                    });
                    continue;
                }
                Operand::Func(_) | Operand::Expose(_) => (0, self.val(*o)?),
            };
            out.push(Held::of(&m.types, t, v));
        }
        Ok(out)
    }

    /// After a bundle the client loaded: `m` is the module, and the global cells,
    /// constants and static exposures it adds exist.
    fn switch_to(&mut self, m: &'m Module) {
        self.module = m;
        self.loaded = true;
        for (i, g) in m.globals.iter().enumerate().skip(self.globals.len()) {
            let space = Space::Global(u32::try_from(i).unwrap_or(u32::MAX));
            self.globals.push(self.mem.alloc(&m.types, g.ty, 0, space));
        }
        for c in self.consts.len()..m.consts.len() {
            let v = const_value(m, &self.globals, u32::try_from(c).unwrap_or(0));
            self.consts.push(v);
        }
        for e in m.exposes.iter().skip(self.static_exposes.len()) {
            let cookie = match m.consts[e.cookie as usize].value {
                ConstValue::Int(c) => c,
                _ => 0,
            };
            let x = expose(m, e.func, m.funcs[e.func as usize].sig, cookie);
            self.static_exposes.push(x);
        }
    }
}

/// Where a frame cursor is.
#[derive(Clone, Copy, Debug)]
enum Pos {
    /// At Mu frame `i` (0 is the bottom).
    Mu(usize),
    /// At the native frames below Mu frame `i`, which native code called.
    Native(usize),
}

impl<'m> Machine<'m> {
    /// `client.new-thread`: once the thread before it has ended, the next thread
    /// the client made starts on its stack, whose bottom frame receives the
    /// values (entering the function) or the exception (which the frame, not yet
    /// started, re-throws: `trap uncaught_exception`). Fuel and allocation go on
    /// from the threads before; the stack budget is the new stack's own. `None`:
    /// no thread waits; otherwise an outcome if the thread ends at once.
    pub fn start_next(&mut self) -> Option<R<Option<Outcome>>> {
        let p = self.threads.next_to_start()?;
        self.reset_threads();
        self.bind_first_stack();
        self.rule_counts[RuleId::ClientNewThread as usize] += 1;
        let m = self.module;
        let f = &m.funcs[p.func as usize];
        let Some(body) = &f.body else {
            return Some(Err(not_runnable(f)));
        };
        if self.stack_max == 0 {
            self.rule_counts[RuleId::CallStackExhausted as usize] += 1;
            return Some(Ok(Some(Outcome::Exhausted(Budget::Stack))));
        }
        self.frames.push(Frame::at_entry(p.func, body, false, None));
        Some(match p.start {
            Start::Values(args) => Ok(self.enter(0, args, None)),
            Start::Exc(e) => self.throw(e).map(|s| s.outcome),
        })
    }
}

impl Machine<'_> {
    /// `client.start`: the client's handler gets a context on the run's fresh
    /// state before the thread's first instruction (`TrapHandler::on_start`).
    pub(super) fn client_start(&mut self) {
        let Some(mut client) = self.client.take() else {
            return;
        };
        let mut cx = ModelCtx {
            m: self,
            handles: Table::default(),
            cursors: Table::default(),
            kept: Vec::new(),
            stacks: HashMap::new(),
        };
        client.on_start(&mut cx);
        self.client = Some(client);
        self.rule_counts[RuleId::ClientStart as usize] += 1;
    }
}

/// The model's client context for one trap.
struct ModelCtx<'a, 'm> {
    m: &'a mut Machine<'m>,
    handles: Table<Held>,
    cursors: Table<Pos>,
    /// The trap's keep-alive values (`ClientValue::Kept`).
    kept: Vec<Held>,
    /// The handles that are stackrefs or threadrefs (their `Held` is a
    /// placeholder): which stack or thread.
    stacks: HashMap<u32, Made>,
}

/// A stack or a thread the client made, as a handle names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Made {
    Stack(u32),
    Thread(u32),
}

fn err<T>(code: &'static str, message: impl Into<String>) -> CResult<T> {
    Err(ClientError::new(code, message))
}

fn ub<T>(rule: RuleId) -> CResult<T> {
    err("client.undefined-behaviour", format!("{rule}"))
}

impl<'m> ModelCtx<'_, 'm> {
    fn keep(&mut self, h: Held) -> Handle {
        Handle(self.handles.push(h))
    }

    fn get(&self, h: Handle) -> CResult<&Held> {
        match self.handles.get(h.0) {
            Some(x) => Ok(x),
            None => err("client.bad-handle", format!("no value {}", h.0)),
        }
    }

    fn types(&self) -> &'m Types {
        &self.m.module.types
    }

    /// The location an `iref` handle holds, and its referent type.
    fn iref(&self, h: Handle) -> CResult<(Loc, TypeId)> {
        match self.get(h)? {
            Held {
                ty,
                value: Value::IRef(Some(l)),
            } => Ok((*l, *ty)),
            Held {
                value: Value::IRef(None),
                ..
            } => ub(RuleId::NullNavigation),
            _ => err("client.not-an-iref", "the value is not an iref"),
        }
    }

    /// A location moved by `delta` bytes within its object, with a new referent.
    fn moved(&mut self, l: Loc, delta: i128, ty: TypeId) -> CResult<Handle> {
        let mem = &self.m.mem;
        let off = i128::from(l.off) + delta;
        if !mem.objs[l.obj as usize].live {
            return ub(RuleId::DeadAlloca);
        }
        if off < 0 || off > i128::from(mem.end(self.types(), l.obj)) {
            return ub(RuleId::OutOfBounds);
        }
        Ok(self.keep(Held {
            ty,
            value: Value::IRef(Some(Loc {
                obj: l.obj,
                off: off as u64,
            })),
        }))
    }

    /// The location an access through `h` reaches, checked.
    fn access(&self, h: Handle) -> CResult<(Loc, TypeId)> {
        let (l, ty) = self.iref(h)?;
        match self.m.mem.check(self.types(), l, ty) {
            Ok(()) => Ok((l, ty)),
            Err(u) => ub(u),
        }
    }

    fn value_of(&self, h: Handle, ty: TypeId) -> CResult<Value> {
        let held = self.get(h)?;
        shared::storable(self.types(), held.ty, ty)?;
        let v = held.value.clone();
        Ok(match (self.types().get(ty), v) {
            (Type::Int(n), Value::Int(b)) => Value::Int(b & value::mask(*n)),
            (_, v) => v,
        })
    }

    fn key(&self, h: Handle) -> CResult<Option<Loc>> {
        match &self.get(h)?.value {
            Value::Ref(o) => Ok(o.map(|obj| Loc { obj, off: 0 })),
            Value::IRef(l) => Ok(*l),
            _ => err("client.not-a-reference", "pin takes a ref or an iref"),
        }
    }

    fn pos(&self, c: Cursor) -> CResult<Pos> {
        match self.cursors.get(c.0) {
            Some(p) => Ok(*p),
            None => err("client.bad-cursor", format!("no cursor {}", c.0)),
        }
    }

    fn mu_frame(&self, c: Cursor) -> CResult<Option<&Frame<'m>>> {
        Ok(match self.pos(c)? {
            Pos::Mu(i) => Some(&self.m.frames[i]),
            Pos::Native(_) => None,
        })
    }

    fn alloc(&mut self, ty: TypeId, len: u64) -> CResult<Handle> {
        let types = self.types();
        let size = layout::alloc_size(types, ty, len);
        if size > self.m.alloc_left {
            return err("client.alloc-exhausted", "the allocation budget is spent");
        }
        self.m.alloc_left -= size;
        let obj = self.m.mem.alloc(types, ty, len, Space::Heap);
        Ok(self.keep(Held {
            ty,
            value: Value::Ref(Some(obj)),
        }))
    }
}

impl MuCtx for ModelCtx<'_, '_> {
    fn id_of(&self, name: &str) -> Option<MuId> {
        self.m.module.id_of(name)
    }

    fn name_of(&self, id: MuId) -> Option<String> {
        self.m.module.name_of(id)
    }

    fn load_bundle(&mut self, name: &str, text: &str) -> CResult<()> {
        let Some(bundles) = self.m.bundles else {
            return err(
                "client.no-loading",
                "this run was started without a place to load bundles",
            );
        };
        match bundles.load(name, text) {
            Ok(module) => {
                self.m.switch_to(module);
                self.m.rule_counts[RuleId::LoadBundle as usize] += 1;
                Ok(())
            }
            Err(e) => Err(ClientError::new(e.code(), e.render())),
        }
    }

    fn handle_from_int(&mut self, ty: MuId, bits: u64) -> CResult<Handle> {
        let t = shared::type_of(self.m.module, ty)?;
        let value = match self.types().get(t) {
            Type::Int(n) => Value::Int(bits & value::mask(*n)),
            Type::UPtr(_) | Type::UFuncPtr(_) => Value::Ptr(bits),
            _ => return err("client.type-mismatch", "not an integer or pointer type"),
        };
        Ok(self.keep(Held { ty: t, value }))
    }

    fn handle_from_int_len(&mut self, len: u32, bits: u64) -> CResult<Handle> {
        let ty = shared::type_like(self.types(), &Type::Int(len))?;
        Ok(self.keep(Held {
            ty,
            value: Value::Int(bits & value::mask(len)),
        }))
    }

    fn handle_from_float(&mut self, v: f32) -> CResult<Handle> {
        let ty = shared::type_like(self.types(), &Type::Float)?;
        Ok(self.keep(Held {
            ty,
            value: Value::Float(v),
        }))
    }

    fn handle_from_double(&mut self, v: f64) -> CResult<Handle> {
        let ty = shared::type_like(self.types(), &Type::Double)?;
        Ok(self.keep(Held {
            ty,
            value: Value::Double(v),
        }))
    }

    fn handle_from_id(&mut self, id: MuId) -> CResult<Handle> {
        let m = self.m.module;
        let Some(name) = m.name_of(id) else {
            return err("client.no-such-id", format!("no entity has ID {id}"));
        };
        let bare = name.trim_start_matches('@');
        let operand = if let Some(f) = m.func(bare) {
            Operand::Func(f)
        } else if let Some(g) = m.global_index.get(&crate::syntax::ast::Name::new(bare)) {
            Operand::Global(*g)
        } else if let Some(c) = m.consts.iter().position(|c| c.name.as_str() == bare) {
            Operand::Const(c as ConstId)
        } else if let Some(e) = m.exposes.iter().position(|e| e.name.as_str() == bare) {
            Operand::Expose(e as u32)
        } else {
            return err(
                "client.no-such-id",
                format!("{name} is not a constant, global cell, function or exposure"),
            );
        };
        let held = self
            .m
            .held_operands(0, &[operand])
            .map_err(|e| ClientError::new("client.not-available", format!("{e:?}")))?;
        Ok(self.keep(held.into_iter().next().expect("one operand")))
    }

    fn null(&mut self, ty: MuId) -> CResult<Handle> {
        let t = shared::type_of(self.m.module, ty)?;
        let types = self.types();
        match types.get(t) {
            Type::Ref(_) | Type::IRef(_) | Type::FuncRef(_) => {
                Ok(self.keep(Held::of(types, t, null_value(types, t))))
            }
            _ => err("client.type-mismatch", "NULL is of a reference type"),
        }
    }

    fn handle_to_int(&self, h: Handle) -> CResult<u64> {
        if self.stacks.contains_key(&h.0) {
            return err("client.type-mismatch", "not an integer or pointer");
        }
        match self.get(h)?.value {
            Value::Int(b) | Value::Ptr(b) => Ok(b),
            _ => err("client.type-mismatch", "not an integer or pointer"),
        }
    }

    fn handle_to_double(&self, h: Handle) -> CResult<f64> {
        match self.get(h)?.value {
            Value::Float(f) => Ok(f64::from(f)),
            Value::Double(d) => Ok(d),
            _ => err("client.type-mismatch", "not a float or double"),
        }
    }

    fn show(&self, h: Handle) -> CResult<OutValue> {
        if self.stacks.contains_key(&h.0) {
            return err(
                "client.type-mismatch",
                "a stackref or threadref shows no value",
            );
        }
        let x = self.get(h)?;
        Ok(self.m.out(x.ty, &x.value))
    }

    fn ref_eq(&self, a: Handle, b: Handle) -> CResult<bool> {
        match (&self.get(a)?.value, &self.get(b)?.value) {
            (Value::Ref(x), Value::Ref(y)) => Ok(x == y),
            (Value::IRef(x), Value::IRef(y)) => Ok(x == y),
            (Value::FuncRef(x), Value::FuncRef(y)) => Ok(x == y),
            _ => err("client.type-mismatch", "ref_eq compares two references"),
        }
    }

    fn delete_value(&mut self, h: Handle) {
        self.handles.remove(h.0);
    }

    fn new_fixed(&mut self, ty: MuId) -> CResult<Handle> {
        let t = shared::fixed_type(self.m.module, ty)?;
        self.alloc(t, 0)
    }

    fn new_hybrid(&mut self, ty: MuId, len: u64) -> CResult<Handle> {
        let t = shared::hybrid_type(self.m.module, ty)?;
        self.alloc(t, len)
    }

    fn get_iref(&mut self, r: Handle) -> CResult<Handle> {
        match self.get(r)?.clone() {
            Held {
                ty,
                value: Value::Ref(Some(obj)),
            } => Ok(self.keep(Held {
                ty,
                value: Value::IRef(Some(Loc { obj, off: 0 })),
            })),
            Held {
                value: Value::Ref(None),
                ..
            } => ub(RuleId::NullNavigation),
            _ => err("client.not-a-reference", "get_iref takes a ref"),
        }
    }

    fn get_field_iref(&mut self, ir: Handle, field: usize) -> CResult<Handle> {
        let (l, ty) = self.iref(ir)?;
        let (delta, f) = shared::field_step(self.types(), ty, field)?;
        self.moved(l, delta, f)
    }

    fn get_elem_iref(&mut self, ir: Handle, index: u64) -> CResult<Handle> {
        let (l, ty) = self.iref(ir)?;
        let (delta, e) = shared::elem_step(self.types(), ty, index)?;
        self.moved(l, delta, e)
    }

    fn shift_iref(&mut self, ir: Handle, offset: i64) -> CResult<Handle> {
        let (l, ty) = self.iref(ir)?;
        let (delta, t) = shared::shift_step(self.types(), ty, offset);
        self.moved(l, delta, t)
    }

    fn get_var_part_iref(&mut self, ir: Handle) -> CResult<Handle> {
        let (l, ty) = self.iref(ir)?;
        let (delta, v) = shared::var_part_step(self.types(), ty)?;
        if self.m.mem.objs[l.obj as usize].var_len == 0 {
            return ub(RuleId::EmptyVarPart);
        }
        self.moved(l, delta, v)
    }

    fn load(&mut self, ir: Handle) -> CResult<Handle> {
        let (l, ty) = self.access(ir)?;
        let types = self.types();
        let v = self.m.mem.load(types, l, ty);
        Ok(self.keep(Held::of(types, ty, v)))
    }

    fn store(&mut self, ir: Handle, v: Handle) -> CResult<()> {
        let (l, ty) = self.access(ir)?;
        let v = self.value_of(v, ty)?;
        self.m.mem.store(self.types(), l, ty, &v);
        Ok(())
    }

    fn cmpxchg(
        &mut self,
        ir: Handle,
        expected: Handle,
        desired: Handle,
    ) -> CResult<(Handle, bool)> {
        let (l, ty) = self.access(ir)?;
        let types = self.types();
        let old = self.m.mem.load(types, l, ty);
        let ok = old == self.value_of(expected, ty)?;
        if ok {
            let d = self.value_of(desired, ty)?;
            self.m.mem.store(types, l, ty, &d);
        }
        Ok((self.keep(Held::of(types, ty, old)), ok))
    }

    fn atomicrmw(&mut self, op: AtomicRmwOp, ir: Handle, v: Handle) -> CResult<Handle> {
        let (l, ty) = self.access(ir)?;
        let types = self.types();
        let old = self.m.mem.load(types, l, ty);
        let v = self.value_of(v, ty)?;
        let new = match (op, types.int_width(ty)) {
            (AtomicRmwOp::Xchg, _) => v,
            (op, Some(n)) => Value::Int(arith::rmw(op, n, old.bits(), v.bits())),
            (_, None) => return err("client.type-mismatch", "atomicrmw of a non-integer"),
        };
        self.m.mem.store(types, l, ty, &new);
        Ok(self.keep(Held::of(types, ty, old)))
    }

    fn pin(&mut self, r: Handle) -> CResult<Handle> {
        let key = self.key(r)?;
        match self.m.pin_loc(key) {
            Ok(addr) => {
                self.m.rule_counts[RuleId::Pin as usize] += 1;
                Ok(self.keep(Held {
                    ty: 0,
                    value: Value::Ptr(addr),
                }))
            }
            Err(u) => ub(u),
        }
    }

    fn unpin(&mut self, r: Handle) -> CResult<()> {
        let key = self.key(r)?;
        match self.m.unpin_loc(key) {
            Ok(()) => {
                self.m.rule_counts[RuleId::Unpin as usize] += 1;
                Ok(())
            }
            Err(u) => ub(u),
        }
    }

    fn expose(&mut self, func: Handle, cookie: u64) -> CResult<Handle> {
        let Value::FuncRef(Some(f)) = self.get(func)?.value else {
            return err("client.not-a-function", "expose takes a non-NULL funcref");
        };
        let m = self.m.module;
        let Some(x) = expose(m, f, m.funcs[f as usize].sig, cookie) else {
            return err(
                "client.not-native-safe",
                "the function's signature cannot face C",
            );
        };
        let code = x.code();
        self.m.exposures.insert(code, x);
        self.m.rule_counts[RuleId::Expose as usize] += 1;
        Ok(self.keep(Held {
            ty: 0,
            value: Value::Ptr(code),
        }))
    }

    fn unexpose(&mut self, ptr: Handle) -> CResult<()> {
        let code = self.handle_to_int(ptr)?;
        if self.m.exposures.remove(&code).is_none() {
            return err(
                "native.unexpose-unknown",
                "no exposure of this run made the pointer",
            );
        }
        self.m.rule_counts[RuleId::Unexpose as usize] += 1;
        Ok(())
    }

    fn new_cursor(&mut self) -> CResult<Cursor> {
        let Some(top) = self.m.frames.len().checked_sub(1) else {
            return err("client.no-frame", "the stack has no frames");
        };
        Ok(Cursor(self.cursors.push(Pos::Mu(top))))
    }

    fn next_frame(&mut self, c: Cursor) -> CResult<()> {
        let next = match self.pos(c)? {
            Pos::Mu(i) if self.m.frames[i].cookie.is_some() => Pos::Native(i),
            Pos::Mu(i) | Pos::Native(i) if i > 0 => Pos::Mu(i - 1),
            _ => return err("client.no-frame", "the cursor is at the bottom frame"),
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
        Ok(match self.mu_frame(c)? {
            Some(f) => {
                let m = self.m.module;
                m.id_of(m.funcs[f.func as usize].name.as_str()).unwrap_or(0)
            }
            None => 0,
        })
    }

    fn cur_func_ver(&self, c: Cursor) -> CResult<MuId> {
        Ok(match self.mu_frame(c)?.and_then(|f| f.body) {
            Some(b) => self.m.module.id_of(b.version.as_str()).unwrap_or(0),
            None => 0,
        })
    }

    fn cur_inst(&self, c: Cursor) -> CResult<MuId> {
        let Some(f) = self.mu_frame(c)? else {
            return Ok(0);
        };
        let (Some(body), false) = (f.body, f.fresh) else {
            return Ok(0);
        };
        let inst = &body.blocks[f.block as usize].insts[f.pc as usize];
        Ok(inst
            .name
            .as_ref()
            .and_then(|n| self.m.module.id_of(n.as_str()))
            .unwrap_or(0))
    }

    fn dump_keepalives(&mut self, c: Cursor) -> CResult<Vec<Handle>> {
        let Pos::Mu(i) = self.pos(c)? else {
            return err(
                "client.native-frame",
                "a native frame has no keep-alive values",
            );
        };
        let f = &self.m.frames[i];
        let held = match (f.body, f.fresh) {
            (None, _) => {
                let m = self.m.module;
                let params = &m.types.sig(m.funcs[f.func as usize].sig).params;
                params
                    .iter()
                    .zip(&f.slots)
                    .map(|(t, v)| Held::of(&m.types, *t, v.clone()))
                    .collect()
            }
            (Some(_), true) => Vec::new(),
            (Some(body), false) => {
                let inst = &body.blocks[f.block as usize].insts[f.pc as usize];
                let os = match &inst.op {
                    Op::Trap { keepalive, .. } => keepalive,
                    _ => &inst.keepalive,
                };
                self.m
                    .held_operands(i, os)
                    .map_err(|e| ClientError::new("client.not-available", format!("{e:?}")))?
            }
        };
        Ok(held.into_iter().map(|h| self.keep(h)).collect())
    }

    fn pop_frames_to(&mut self, c: Cursor) -> CResult<()> {
        let Pos::Mu(i) = self.pos(c)? else {
            return err("client.native-frame", "native frames cannot be popped to");
        };
        if self.m.frames[i + 1..].iter().any(|f| f.cookie.is_some()) {
            return err(
                "client.native-frame",
                "native frames lie between the top and the cursor's frame",
            );
        }
        while self.m.frames.len() > i + 1 {
            self.m.pop_frame();
        }
        // Cursors above the frame are gone with their frames.
        self.cursors
            .retain(|p| !matches!(p, Pos::Mu(k) | Pos::Native(k) if *k > i));
        self.m.rule_counts[RuleId::Osr as usize] += 1;
        Ok(())
    }

    fn push_frame(&mut self, func: Handle) -> CResult<()> {
        if self.m.frames.is_empty() {
            return err("client.no-frame", "the stack has no frames");
        }
        let Value::FuncRef(Some(f)) = self.get(func)?.value else {
            return err(
                "client.not-a-function",
                "push_frame takes a non-NULL funcref",
            );
        };
        let Some(body) = &self.m.module.funcs[f as usize].body else {
            return err(
                "client.undefined-function",
                "push_frame of a function with no version",
            );
        };
        if self.m.frames.len() >= self.m.stack_max as usize {
            return err("client.stack-exhausted", "the stack budget is full");
        }
        // The frame below must take what the pushed one returns: a TRAP's or a
        // CALL's results. muni pushes one frame per trap (a frame pushed on a
        // pushed one would have to receive them as its arguments).
        let m = self.m.module;
        let below = &self.m.frames[self.m.frames.len() - 1];
        if below.fresh {
            return err("client.unsupported", "muni pushes one frame per trap");
        }
        let Some(below_body) = below.body else {
            return err(
                "client.undefined-function",
                "a frame cannot be pushed on an undefined function's",
            );
        };
        let at = &below_body.blocks[below.block as usize].insts[below.pc as usize];
        let takes = match &at.op {
            Op::Trap { tys, .. } => tys.clone(),
            Op::Call { sig, .. } => m.types.sig(*sig).rets.clone(),
            _ => {
                return err(
                    "client.no-frame",
                    "the frame below is not at a TRAP or a CALL",
                );
            }
        };
        let gives = &m.types.sig(m.funcs[f as usize].sig).rets;
        if !returns_match(&m.types, gives, &takes) {
            return err(
                "client.type-mismatch",
                format!(
                    "{} returns {} values of other types than the frame below takes",
                    m.funcs[f as usize].name,
                    gives.len()
                ),
            );
        }
        self.m.frames.push(Frame::at_entry(f, body, true, None));
        self.m.rule_counts[RuleId::Osr as usize] += 1;
        Ok(())
    }

    fn new_stack(&mut self, func: Handle) -> CResult<Handle> {
        let Value::FuncRef(Some(f)) = self.get(func)?.value else {
            return err(
                "client.not-a-function",
                "new_stack takes a non-NULL funcref",
            );
        };
        if self.m.module.funcs[f as usize].body.is_none() {
            return err(
                "client.undefined-function",
                "new_stack of a function with no version",
            );
        }
        let s = self.m.threads.new_stack(f);
        Ok(self.made(Made::Stack(s)))
    }

    fn new_thread(&mut self, stack: Handle, how: NewThread) -> CResult<Handle> {
        let s = self.stack(stack)?;
        let f = self.m.threads.ready(s)?;
        let m = self.m.module;
        let start = match &how {
            NewThread::PassValues(vs) => {
                let params = &m.types.sig(m.funcs[f as usize].sig).params;
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
                let vals = params
                    .iter()
                    .zip(vs)
                    .map(|(t, v)| self.passed(v, *t))
                    .collect::<CResult<Vec<_>>>()?;
                Start::Values(vals)
            }
            NewThread::ThrowExc(v) => {
                let held = match v {
                    ClientValue::Null => Some(Value::Ref(None)),
                    ClientValue::Kept(i) => self.kept.get(*i).map(|h| h.value.clone()),
                    ClientValue::Handle(h) if !self.stacks.contains_key(&h.0) => {
                        self.handles.get(h.0).map(|h| h.value.clone())
                    }
                    _ => None,
                };
                match held {
                    Some(e @ Value::Ref(_)) => Start::Exc(e),
                    _ => return err("client.type-mismatch", "new_thread throws a reference"),
                }
            }
        };
        let t = self.m.threads.bind(s, start)?;
        Ok(self.made(Made::Thread(t)))
    }

    fn kill_stack(&mut self, stack: Handle) -> CResult<()> {
        let s = self.stack(stack)?;
        self.m.threads.kill(s)
    }

    fn enable_watchpoint(&mut self, wpid: u64) {
        self.m.watchpoints.insert(wpid);
    }

    fn disable_watchpoint(&mut self, wpid: u64) {
        self.m.watchpoints.remove(&wpid);
    }
}

impl ModelCtx<'_, '_> {
    /// A handle naming a stack or thread the client made.
    fn made(&mut self, x: Made) -> Handle {
        let h = self.keep(Held {
            ty: 0,
            value: Value::Int(0),
        });
        self.stacks.insert(h.0, x);
        h
    }

    fn stack(&self, h: Handle) -> CResult<u32> {
        match self.stacks.get(&h.0) {
            Some(Made::Stack(s)) => Ok(*s),
            _ => {
                self.get(h)?;
                err("client.not-a-stack", "the value is not a stackref")
            }
        }
    }

    /// A client value as the model's value of type `t`.
    fn passed(&self, v: &ClientValue, t: TypeId) -> CResult<Value> {
        let held = match v {
            ClientValue::Kept(i) => self.kept.get(*i).cloned(),
            ClientValue::Handle(h) if !self.stacks.contains_key(&h.0) => {
                self.handles.get(h.0).cloned()
            }
            _ => None,
        };
        self.m
            .client_value(&(v.clone(), held), t)
            .map_err(|e| ClientError::new("client.type-mismatch", e.to_string()))
    }
}

impl crate::client::MuVM for Machine<'_> {
    fn id_of(&self, name: &str) -> Option<MuId> {
        self.module.id_of(name)
    }

    fn name_of(&self, id: MuId) -> Option<String> {
        self.module.name_of(id)
    }

    fn set_trap_handler(&mut self, handler: Option<Box<dyn crate::client::TrapHandler>>) {
        self.client = handler;
    }
}

/// Whether a pushed function's results `gives` are what the frame below takes.
pub fn returns_match(types: &Types, gives: &[TypeId], takes: &[TypeId]) -> bool {
    gives.len() == takes.len() && gives.iter().zip(takes).all(|(a, b)| types.same(*a, *b))
}
