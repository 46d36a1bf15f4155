//! The verified, name-resolved form of a bundle that both engines execute.
//!
//! The verifier produces a [`Module`]: every name resolved to an index, every
//! instruction typed, every local value given a frame slot. Types are compared
//! structurally ([`Types::same`]); anonymous types (the `iref<T>` of a global cell,
//! say) are added to the table as needed.

use crate::syntax::ast::{BinOp, CmpOp, ConvOp, Name, RmwOp, Span};
use rustc_hash::FxHashMap as HashMap;

/// Index of a type in [`Types`].
pub type TypeId = u32;
/// Index of a signature in [`Module::sigs`].
pub type SigId = u32;
/// Index of a constant.
pub type ConstId = u32;
/// Index of a global cell.
pub type GlobalId = u32;
/// Index of a function.
pub type FuncId = u32;

/// A Mu type (type-system chapter of the Mu spec, spec/02-types.md).
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Int(u32),
    Float,
    Double,
    Void,
    Ref(TypeId),
    IRef(TypeId),
    WeakRef(TypeId),
    Struct(Vec<TypeId>),
    Array(TypeId, u64),
    /// Fixed fields, then the variable part's element type.
    Hybrid(Vec<TypeId>, TypeId),
    FuncRef(SigId),
    UPtr(TypeId),
    UFuncPtr(SigId),
    /// `stackref`: NULL or a Mu stack (spec/12-threads-stacks.md).
    StackRef,
    /// `threadref`: NULL or a Mu thread.
    ThreadRef,
    /// A type of full Mu that muni does not execute (named for messages).
    Other(&'static str),
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Sig {
    /// Parameter types.
    pub params: Vec<TypeId>,
    /// Return types.
    pub rets: Vec<TypeId>,
}

/// The type table with its structural equality.
#[derive(Clone, Debug, Default)]
pub struct Types {
    /// All types; ids index this.
    pub types: Vec<Type>,
    /// Display names (the typedef's name, or a spelled-out form for anonymous types).
    pub names: Vec<String>,
    /// Signatures.
    pub sigs: Vec<Sig>,
    /// Display names of signatures.
    pub sig_names: Vec<String>,
    anon: HashMap<Type, TypeId>,
}

impl Types {
    /// The type with this id.
    pub fn get(&self, t: TypeId) -> &Type {
        &self.types[t as usize]
    }
    /// The signature with this id.
    pub fn sig(&self, s: SigId) -> &Sig {
        &self.sigs[s as usize]
    }
    /// Adds a named type.
    pub fn push(&mut self, ty: Type, name: String) -> TypeId {
        let id = u32::try_from(self.types.len()).unwrap_or(u32::MAX);
        self.types.push(ty);
        self.names.push(name);
        id
    }
    /// Adds a named signature.
    pub fn push_sig(&mut self, sig: Sig, name: String) -> SigId {
        let id = u32::try_from(self.sigs.len()).unwrap_or(u32::MAX);
        self.sigs.push(sig);
        self.sig_names.push(name);
        id
    }
    /// The type named `name` (with or without `@`).
    pub fn named(&self, name: &str) -> Option<TypeId> {
        let n = name.strip_prefix('@').unwrap_or(name);
        self.names.iter().position(|x| x == n).map(|i| i as TypeId)
    }
    /// The signature named `name` (with or without `@`).
    pub fn sig_named(&self, name: &str) -> Option<SigId> {
        let n = name.strip_prefix('@').unwrap_or(name);
        self.sig_names
            .iter()
            .position(|x| x == n)
            .map(|i| i as SigId)
    }
    /// An anonymous type, created once.
    pub fn anon(&mut self, ty: Type) -> TypeId {
        if let Some(id) = self.anon.get(&ty) {
            return *id;
        }
        let name = match &ty {
            Type::IRef(t) => format!("iref<@{}>", self.names[*t as usize]),
            Type::Ref(t) => format!("ref<@{}>", self.names[*t as usize]),
            Type::UPtr(t) => format!("uptr<@{}>", self.names[*t as usize]),
            Type::FuncRef(s) => format!("funcref<@{}>", self.sig_names[*s as usize]),
            Type::UFuncPtr(s) => format!("ufuncptr<@{}>", self.sig_names[*s as usize]),
            Type::Int(n) => format!("int<{n}>"),
            Type::StackRef => "stackref".into(),
            Type::ThreadRef => "threadref".into(),
            other => format!("{other:?}"),
        };
        let id = self.push(ty.clone(), name);
        self.anon.insert(ty, id);
        id
    }
    /// How a type is written in messages: `@name`.
    pub fn show(&self, t: TypeId) -> String {
        let n = &self.names[t as usize];
        if n.contains('<') {
            n.clone()
        } else {
            format!("@{n}")
        }
    }
    /// How a signature is written in messages.
    pub fn show_sig(&self, s: SigId) -> String {
        format!("@{}", self.sig_names[s as usize])
    }

    /// Structural equality, coinductive over recursive types.
    pub fn same(&self, a: TypeId, b: TypeId) -> bool {
        let mut assumed = Vec::new();
        self.same_in(a, b, &mut assumed)
    }
    /// Structural equality of signatures.
    pub fn same_sig(&self, a: SigId, b: SigId) -> bool {
        let mut assumed = Vec::new();
        self.same_sig_in(a, b, &mut assumed)
    }
    fn same_in(&self, a: TypeId, b: TypeId, assumed: &mut Vec<(u32, u32)>) -> bool {
        if a == b || assumed.contains(&(a, b)) {
            return true;
        }
        assumed.push((a, b));
        let all = |xs: &[TypeId], ys: &[TypeId], assumed: &mut Vec<(u32, u32)>| {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(ys)
                    .all(|(x, y)| self.same_in(*x, *y, assumed))
        };
        match (self.get(a), self.get(b)) {
            (Type::Int(n), Type::Int(m)) => n == m,
            (Type::Float, Type::Float)
            | (Type::Double, Type::Double)
            | (Type::Void, Type::Void) => true,
            (Type::Ref(x), Type::Ref(y))
            | (Type::IRef(x), Type::IRef(y))
            | (Type::WeakRef(x), Type::WeakRef(y))
            | (Type::UPtr(x), Type::UPtr(y)) => self.same_in(*x, *y, assumed),
            (Type::Struct(xs), Type::Struct(ys)) => all(xs, ys, assumed),
            (Type::Array(x, n), Type::Array(y, m)) => n == m && self.same_in(*x, *y, assumed),
            (Type::Hybrid(xs, x), Type::Hybrid(ys, y)) => {
                all(xs, ys, assumed) && self.same_in(*x, *y, assumed)
            }
            (Type::FuncRef(s), Type::FuncRef(r)) | (Type::UFuncPtr(s), Type::UFuncPtr(r)) => {
                self.same_sig_in(*s, *r, assumed)
            }
            (Type::StackRef, Type::StackRef) | (Type::ThreadRef, Type::ThreadRef) => true,
            (Type::Other(x), Type::Other(y)) => x == y,
            _ => false,
        }
    }
    fn same_sig_in(&self, a: SigId, b: SigId, assumed: &mut Vec<(u32, u32)>) -> bool {
        if a == b {
            return true;
        }
        let (x, y) = (self.sig(a), self.sig(b));
        x.params.len() == y.params.len()
            && x.rets.len() == y.rets.len()
            && x.params
                .iter()
                .zip(&y.params)
                .all(|(p, q)| self.same_in(*p, *q, assumed))
            && x.rets
                .iter()
                .zip(&y.rets)
                .all(|(p, q)| self.same_in(*p, *q, assumed))
    }

    /// `int<n>`: its width.
    pub fn int_width(&self, t: TypeId) -> Option<u32> {
        match self.get(t) {
            Type::Int(n) => Some(*n),
            _ => None,
        }
    }
    /// `float` or `double`.
    pub fn is_fp(&self, t: TypeId) -> bool {
        matches!(self.get(t), Type::Float | Type::Double)
    }
    /// `uptr` or `ufuncptr`.
    pub fn is_ptr(&self, t: TypeId) -> bool {
        matches!(self.get(t), Type::UPtr(_) | Type::UFuncPtr(_))
    }
    /// A reference type the GC traces (`ref`, `iref`, `weakref`, `funcref`, or an
    /// unsupported reference type).
    pub fn is_traced(&self, t: TypeId) -> bool {
        matches!(
            self.get(t),
            Type::Ref(_)
                | Type::IRef(_)
                | Type::WeakRef(_)
                | Type::FuncRef(_)
                | Type::StackRef
                | Type::ThreadRef
                | Type::Other(_)
        )
    }
    /// The first type of full Mu outside muni's subset that `t` is or holds in place
    /// (as a field, element or variable part; not behind a reference): such a type
    /// has no layout or value in muni.
    pub fn inline_other(&self, t: TypeId) -> Option<TypeId> {
        match self.get(t) {
            Type::Other(_) => Some(t),
            Type::Struct(fs) => fs.iter().find_map(|f| self.inline_other(*f)),
            Type::Array(e, _) => self.inline_other(*e),
            Type::Hybrid(fs, v) => fs
                .iter()
                .chain(std::iter::once(v))
                .find_map(|f| self.inline_other(*f)),
            _ => None,
        }
    }
    /// Native-safe (spec/02-types.md `type.native-safe`): no traced type inside.
    pub fn native_safe(&self, t: TypeId) -> bool {
        let mut seen = Vec::new();
        self.native_safe_in(t, &mut seen)
    }
    fn native_safe_in(&self, t: TypeId, seen: &mut Vec<TypeId>) -> bool {
        if seen.contains(&t) {
            return true;
        }
        seen.push(t);
        match self.get(t) {
            Type::Int(_) | Type::Float | Type::Double | Type::Void => true,
            Type::UPtr(x) => self.native_safe_in(*x, seen),
            Type::UFuncPtr(s) => {
                let sig = self.sig(*s).clone();
                sig.params
                    .iter()
                    .chain(&sig.rets)
                    .all(|p| self.native_safe_in(*p, seen))
            }
            Type::Struct(fs) => fs.clone().iter().all(|f| self.native_safe_in(*f, seen)),
            Type::Array(e, _) => self.native_safe_in(*e, seen),
            Type::Hybrid(fs, v) => {
                let (fs, v) = (fs.clone(), *v);
                fs.iter().all(|f| self.native_safe_in(*f, seen)) && self.native_safe_in(v, seen)
            }
            Type::Ref(_)
            | Type::IRef(_)
            | Type::WeakRef(_)
            | Type::FuncRef(_)
            | Type::StackRef
            | Type::ThreadRef
            | Type::Other(_) => false,
        }
    }
    /// EQ-comparable: int, pointers and the general reference types.
    pub fn eq_comparable(&self, t: TypeId) -> bool {
        matches!(
            self.get(t),
            Type::Int(_)
                | Type::UPtr(_)
                | Type::UFuncPtr(_)
                | Type::Ref(_)
                | Type::IRef(_)
                | Type::FuncRef(_)
                | Type::StackRef
                | Type::ThreadRef
        )
    }
    /// ULT-comparable: int, pointers and `iref`.
    pub fn ult_comparable(&self, t: TypeId) -> bool {
        matches!(
            self.get(t),
            Type::Int(_) | Type::UPtr(_) | Type::UFuncPtr(_) | Type::IRef(_)
        )
    }
}

/// An operand: a local slot or a global SSA variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A frame slot (parameter or instruction result of the current block).
    Local(u32),
    /// A `.const`.
    Const(ConstId),
    /// A `.global` cell (its value is an `iref` to the cell).
    Global(GlobalId),
    /// A function (its value is a `funcref`).
    Func(FuncId),
    /// A static `.expose` (its value is a `ufuncptr`).
    Expose(u32),
}

/// A destination clause.
#[derive(Clone, Debug)]
pub struct Dest {
    /// Index of the block in its function.
    pub block: u32,
    /// Arguments for the block's normal parameters.
    pub args: Vec<Operand>,
}

/// A `WATCHPOINT`'s ID and destinations.
#[derive(Clone, Debug)]
pub struct Watch {
    /// The watchpoint ID the client enables and disables.
    pub wpid: u64,
    /// Where it branches, disabled.
    pub dis: Dest,
    /// Where it goes on, enabled and resumed with values.
    pub ena: Dest,
}

/// An exception clause.
#[derive(Clone, Debug)]
pub struct Exc {
    /// Normal destination.
    pub nor: Dest,
    /// Exceptional destination.
    pub exc: Dest,
}

/// A constant's value.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstValue {
    /// Integers and pointers (bits, zero-extended).
    Int(u64),
    /// A `float`'s bits.
    Float(u32),
    /// A `double`'s bits.
    Double(u64),
    /// Struct or array constant: element constants.
    List(Vec<ConstId>),
    /// `NULL` of a reference type.
    Null,
    /// The address of a C symbol (resolved at load time by the native interface).
    Extern(String),
    /// A global cell's `iref`: an element of a list constant such as `{@g1 @f1}`.
    Global(GlobalId),
    /// A function's `funcref`: an element of a list constant such as `{@g1 @f1}`.
    Func(FuncId),
}

/// A `.const` definition.
#[derive(Clone, Debug)]
pub struct Const {
    /// Its name.
    pub name: Name,
    /// Its type.
    pub ty: TypeId,
    /// Its value.
    pub value: ConstValue,
}

/// A `.global` cell.
#[derive(Clone, Debug)]
pub struct Global {
    /// Its name.
    pub name: Name,
    /// The type of the cell's content.
    pub ty: TypeId,
}

/// A static `.expose`.
#[derive(Clone, Debug)]
pub struct Expose {
    /// Its name.
    pub name: Name,
    /// The exposed function.
    pub func: FuncId,
    /// The cookie constant.
    pub cookie: ConstId,
}

/// Common instructions (`COMMINST`) in muni's subset.
#[allow(missing_docs)]
#[derive(Clone, Debug)]
pub enum CommInst {
    /// `@uvm.thread_exit`
    ThreadExit,
    /// `@uvm.native.pin <T> (x)`: `T` is `ref<U>` or `iref<U>`.
    Pin {
        /// The operand's type.
        ty: TypeId,
        /// The reference.
        x: Operand,
    },
    /// `@uvm.native.unpin <T> (x)`
    Unpin {
        /// The operand's type.
        ty: TypeId,
        /// The reference.
        x: Operand,
    },
    /// `@uvm.native.expose [#CC] <[sig]> (f cookie)`
    Expose {
        /// The signature.
        sig: SigId,
        /// The function.
        f: Operand,
        /// The cookie.
        cookie: Operand,
    },
    /// `@uvm.native.unexpose [#CC] (p)`
    Unexpose {
        /// The exposed pointer.
        p: Operand,
    },
    /// `@uvm.native.get_cookie`
    GetCookie,
    /// `@uvm.kill_stack (s)`
    KillStack(Operand),
    /// `@uvm.current_stack`
    CurrentStack,
    /// `@uvm.get_threadlocal`
    GetThreadLocal,
    /// `@uvm.set_threadlocal (r)`
    SetThreadLocal(Operand),
    /// `@uvm.futex.wait <T> (loc val)` and `wait_timeout <T> (loc val timeout)`.
    FutexWait {
        ty: TypeId,
        loc: Operand,
        val: Operand,
        timeout: Option<Operand>,
    },
    /// `@uvm.futex.wake <T> (loc n)`
    FutexWake {
        ty: TypeId,
        loc: Operand,
        n: Operand,
    },
    /// `@uvm.futex.cmp_requeue <T> (src dst expected n)`
    FutexRequeue {
        ty: TypeId,
        src: Operand,
        dst: Operand,
        expected: Operand,
        n: Operand,
    },
}

/// How a thread binds to a stack (the new-stack clause of `SWAPSTACK`).
#[derive(Clone, Debug)]
pub enum Bind {
    /// `PASS_VALUES <Ts> (vs)`: the types and the values.
    Values(Vec<TypeId>, Vec<Operand>),
    /// `THROW_EXC e`
    Throw(Operand),
}

/// A lowered instruction. Types are those written in the instruction.
#[allow(missing_docs)]
#[derive(Clone, Debug)]
pub enum Op {
    BinOp {
        op: BinOp,
        ty: TypeId,
        a: Operand,
        b: Operand,
        exc: Option<Exc>,
    },
    Cmp {
        op: CmpOp,
        ty: TypeId,
        a: Operand,
        b: Operand,
    },
    Conv {
        op: ConvOp,
        from: TypeId,
        to: TypeId,
        x: Operand,
    },
    Select {
        cond: Operand,
        a: Operand,
        b: Operand,
    },
    Branch(Dest),
    Branch2 {
        cond: Operand,
        t: Dest,
        f: Dest,
    },
    Switch {
        x: Operand,
        default: Dest,
        cases: Vec<(Operand, Dest)>,
    },
    Call {
        sig: SigId,
        callee: Operand,
        args: Vec<Operand>,
        exc: Option<Exc>,
    },
    TailCall {
        sig: SigId,
        callee: Operand,
        args: Vec<Operand>,
    },
    Ret(Vec<Operand>),
    Throw(Operand),
    ExtractValue {
        ty: TypeId,
        index: u32,
        x: Operand,
    },
    InsertValue {
        ty: TypeId,
        index: u32,
        x: Operand,
        v: Operand,
    },
    New {
        ty: TypeId,
        exc: Option<Exc>,
    },
    NewHybrid {
        ty: TypeId,
        len_ty: TypeId,
        len: Operand,
        exc: Option<Exc>,
    },
    Alloca {
        ty: TypeId,
        exc: Option<Exc>,
    },
    AllocaHybrid {
        ty: TypeId,
        len_ty: TypeId,
        len: Operand,
        exc: Option<Exc>,
    },
    GetIRef {
        x: Operand,
    },
    GetFieldIRef {
        ptr: bool,
        ty: TypeId,
        index: u32,
        x: Operand,
    },
    GetElemIRef {
        ptr: bool,
        ty: TypeId,
        index_ty: TypeId,
        x: Operand,
        index: Operand,
    },
    ShiftIRef {
        ptr: bool,
        ty: TypeId,
        off_ty: TypeId,
        x: Operand,
        off: Operand,
    },
    GetVarPartIRef {
        ptr: bool,
        ty: TypeId,
        x: Operand,
    },
    Load {
        ptr: bool,
        /// Not `NOT_ATOMIC`: a synchronising access (spec/12 §12.11).
        atomic: bool,
        ty: TypeId,
        loc: Operand,
        exc: Option<Exc>,
    },
    Store {
        ptr: bool,
        atomic: bool,
        ty: TypeId,
        loc: Operand,
        v: Operand,
        exc: Option<Exc>,
    },
    CmpXchg {
        ptr: bool,
        ty: TypeId,
        loc: Operand,
        expected: Operand,
        desired: Operand,
        exc: Option<Exc>,
    },
    AtomicRmw {
        ptr: bool,
        op: RmwOp,
        ty: TypeId,
        loc: Operand,
        v: Operand,
        exc: Option<Exc>,
    },
    Fence,
    Trap {
        name: Name,
        tys: Vec<TypeId>,
        exc: Option<Exc>,
        keepalive: Vec<Operand>,
        /// A `WATCHPOINT`: its ID and its destinations. Enabled, it traps as a
        /// TRAP does and goes on to `ena` with the results (its `WPEXC` is the
        /// `exc` clause, `nor` being `ena`); disabled, it branches to `dis`.
        watch: Option<Box<Watch>>,
    },
    /// `WPBRANCH wpid %dis %ena`: to `ena` if the watchpoint is enabled.
    WpBranch {
        wpid: u64,
        dis: Dest,
        ena: Dest,
    },
    CCall {
        sig: SigId,
        callee: Operand,
        args: Vec<Operand>,
        exc: Option<Exc>,
    },
    /// `@uvm.new_stack <[sig]> (func)`: a new stack whose bottom frame is `READY`
    /// for the function's parameters.
    NewStack {
        sig: SigId,
        func: Operand,
        exc: Option<Exc>,
    },
    /// `NEWTHREAD stack THREADLOCAL(t)? PASS_VALUES<Ts>(vs)|THROW_EXC e`: a new
    /// thread bound to the stack.
    NewThread {
        stack: Operand,
        threadlocal: Option<Operand>,
        bind: Bind,
        exc: Option<Exc>,
    },
    /// `SWAPSTACK swappee RET_WITH<Ts>|KILL_OLD PASS_VALUES<Us>(vs)|THROW_EXC e`;
    /// `ret_with` `None` is `KILL_OLD`.
    SwapStack {
        swappee: Operand,
        ret_with: Option<Vec<TypeId>>,
        bind: Bind,
        exc: Option<Exc>,
        keepalive: Vec<Operand>,
    },
    CommInst(CommInst),
}

impl Op {
    /// The instruction's name as written (`ADD`, `SLT`, `CCALL`,
    /// `@uvm.native.pin`): what statistics count.
    pub fn name(&self) -> &'static str {
        use crate::syntax::print::{bin_op_name, cmp_op_name, conv_op_name};
        match self {
            Op::BinOp { op, .. } => bin_op_name(*op),
            Op::Cmp { op, .. } => cmp_op_name(*op),
            Op::Conv { op, .. } => conv_op_name(*op),
            Op::Select { .. } => "SELECT",
            Op::Branch(_) => "BRANCH",
            Op::Branch2 { .. } => "BRANCH2",
            Op::Switch { .. } => "SWITCH",
            Op::Call { .. } => "CALL",
            Op::TailCall { .. } => "TAILCALL",
            Op::Ret(_) => "RET",
            Op::Throw(_) => "THROW",
            Op::ExtractValue { .. } => "EXTRACTVALUE",
            Op::InsertValue { .. } => "INSERTVALUE",
            Op::New { .. } => "NEW",
            Op::NewHybrid { .. } => "NEWHYBRID",
            Op::Alloca { .. } => "ALLOCA",
            Op::AllocaHybrid { .. } => "ALLOCAHYBRID",
            Op::GetIRef { .. } => "GETIREF",
            Op::GetFieldIRef { .. } => "GETFIELDIREF",
            Op::GetElemIRef { .. } => "GETELEMIREF",
            Op::ShiftIRef { .. } => "SHIFTIREF",
            Op::GetVarPartIRef { .. } => "GETVARPARTIREF",
            Op::Load { .. } => "LOAD",
            Op::Store { .. } => "STORE",
            Op::CmpXchg { .. } => "CMPXCHG",
            Op::AtomicRmw { .. } => "ATOMICRMW",
            Op::Fence => "FENCE",
            Op::Trap { watch: None, .. } => "TRAP",
            Op::Trap { watch: Some(_), .. } => "WATCHPOINT",
            Op::WpBranch { .. } => "WPBRANCH",
            Op::CCall { .. } => "CCALL",
            Op::CommInst(c) => match c {
                CommInst::ThreadExit => "@uvm.thread_exit",
                CommInst::Pin { .. } => "@uvm.native.pin",
                CommInst::Unpin { .. } => "@uvm.native.unpin",
                CommInst::Expose { .. } => "@uvm.native.expose",
                CommInst::Unexpose { .. } => "@uvm.native.unexpose",
                CommInst::GetCookie => "@uvm.native.get_cookie",
                CommInst::KillStack(_) => "@uvm.kill_stack",
                CommInst::CurrentStack => "@uvm.current_stack",
                CommInst::GetThreadLocal => "@uvm.get_threadlocal",
                CommInst::SetThreadLocal(_) => "@uvm.set_threadlocal",
                CommInst::FutexWait { timeout: None, .. } => "@uvm.futex.wait",
                CommInst::FutexWait { .. } => "@uvm.futex.wait_timeout",
                CommInst::FutexWake { .. } => "@uvm.futex.wake",
                CommInst::FutexRequeue { .. } => "@uvm.futex.cmp_requeue",
            },
            Op::NewStack { .. } => "@uvm.new_stack",
            Op::SwapStack { .. } => "SWAPSTACK",
            Op::NewThread { .. } => "NEWTHREAD",
        }
    }

    /// The instruction's `EXC` clause, for the kinds that can have one.
    pub fn exc(&self) -> Option<&Exc> {
        match self {
            Op::BinOp { exc, .. }
            | Op::Call { exc, .. }
            | Op::New { exc, .. }
            | Op::NewHybrid { exc, .. }
            | Op::Alloca { exc, .. }
            | Op::AllocaHybrid { exc, .. }
            | Op::Load { exc, .. }
            | Op::Store { exc, .. }
            | Op::CmpXchg { exc, .. }
            | Op::AtomicRmw { exc, .. }
            | Op::Trap { exc, .. }
            | Op::NewStack { exc, .. }
            | Op::SwapStack { exc, .. }
            | Op::NewThread { exc, .. }
            | Op::CCall { exc, .. } => exc.as_ref(),
            _ => None,
        }
    }
    /// The place of the instruction's `EXC` clause, for the kinds that can have one
    /// (the same kinds as [`Op::exc`]).
    pub fn exc_mut(&mut self) -> Option<&mut Option<Exc>> {
        match self {
            Op::BinOp { exc, .. }
            | Op::Call { exc, .. }
            | Op::New { exc, .. }
            | Op::NewHybrid { exc, .. }
            | Op::Alloca { exc, .. }
            | Op::AllocaHybrid { exc, .. }
            | Op::Load { exc, .. }
            | Op::Store { exc, .. }
            | Op::CmpXchg { exc, .. }
            | Op::AtomicRmw { exc, .. }
            | Op::Trap { exc, .. }
            | Op::NewStack { exc, .. }
            | Op::SwapStack { exc, .. }
            | Op::NewThread { exc, .. }
            | Op::CCall { exc, .. } => Some(exc),
            _ => None,
        }
    }
}

/// An instruction: result slots, operation, source position.
#[derive(Clone, Debug)]
pub struct Inst {
    /// Slots receiving the results.
    pub results: Vec<u32>,
    /// The operation.
    pub op: Op,
    /// Where it is written.
    pub span: Span,
    /// Its name (`[%n]`, else its first result's), whose ID `cur_inst` answers.
    pub name: Option<Name>,
    /// A CALL's `KEEPALIVE` values, which `dump_keepalives` shows while the call
    /// is live (a TRAP's are in its [`Op::Trap`]).
    pub keepalive: Vec<Operand>,
}

/// A basic block.
#[derive(Clone, Debug)]
pub struct Block {
    /// Its name.
    pub name: Name,
    /// Slots of the normal parameters.
    pub params: Vec<u32>,
    /// Slot of the exceptional parameter.
    pub exc_param: Option<u32>,
    /// Instructions; the last is a terminator.
    pub insts: Vec<Inst>,
}

/// A function version's body.
#[derive(Clone, Debug)]
pub struct Body {
    /// The version's name.
    pub version: Name,
    /// Blocks; block 0 is the entry.
    pub blocks: Vec<Block>,
    /// Number of value slots a frame needs.
    pub slots: u32,
    /// The type of each slot.
    pub slot_types: Vec<TypeId>,
}

/// A function (declared, and defined if it has a body).
#[derive(Clone, Debug)]
pub struct Func {
    /// Its name.
    pub name: Name,
    /// Its signature.
    pub sig: SigId,
    /// The body, if the bundle defines it and muni can execute it.
    pub body: Option<Body>,
    /// Why the body is missing although the bundle defines it: the first construct
    /// outside muni's subset that it uses.
    pub unsupported: Option<String>,
}

/// A verified bundle.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// Types and signatures.
    pub types: Types,
    /// Constants.
    pub consts: Vec<Const>,
    /// Global cells.
    pub globals: Vec<Global>,
    /// Functions.
    pub funcs: Vec<Func>,
    /// Static exposes.
    pub exposes: Vec<Expose>,
    /// Functions by name.
    pub func_index: HashMap<Name, FuncId>,
    /// Global cells by name.
    pub global_index: HashMap<Name, GlobalId>,
    /// The Mu ID of every name, in the order the bundles defined them: ID `i + 1`
    /// is `names[i]` (uvm-client-interface.rest, "Identifiers"; 0 is no entity).
    pub names: Vec<Name>,
    /// IDs by name.
    pub ids: HashMap<Name, u32>,
}

impl Module {
    /// The ID of a name (with or without `@`): `id_of`.
    pub fn id_of(&self, name: &str) -> Option<u32> {
        self.ids
            .get(&Name::new(name.strip_prefix('@').unwrap_or(name)))
            .copied()
    }

    /// The name of an ID, with its `@`: `name_of`.
    pub fn name_of(&self, id: u32) -> Option<String> {
        let i = usize::try_from(id.checked_sub(1)?).ok()?;
        self.names.get(i).map(|n| format!("@{}", n.as_str()))
    }

    /// A function by its name (with or without `@`).
    pub fn func(&self, name: &str) -> Option<FuncId> {
        self.func_index
            .get(&Name::new(name.strip_prefix('@').unwrap_or(name)))
            .copied()
    }
}
