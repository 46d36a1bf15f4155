//! The abstract syntax of the Mu IR text format (UIR).
//!
//! Naming conventions, as in the WebAssembly reference interpreter's `ast.ml`:
//! `t` a type name, `s` a signature name, `v` a value name, `b` a block name,
//! `d` a top-level definition, `i` an instruction.
//!
//! Every [`Name`] is a *global* name without its `@`: local names are desugared by
//! the parser as the Mu specification says (`%x` in block `%b` of version `%v1` of
//! `@f` is `@f.v1.b.x`), so two `%x` in two blocks are two names, and a global name
//! may be written for a local value anywhere. The printer sugars them back.
//!
//! Spans record where a node came from; they are not part of its identity, so two
//! trees that differ only in spans compare equal.

use std::fmt;
use std::rc::Rc;

/// A byte range in one of the bundle's source files.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    /// Index of the file in the [`crate::syntax::SourceMap`].
    pub file: u32,
    /// First byte.
    pub lo: u32,
    /// One past the last byte.
    pub hi: u32,
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}
impl Eq for Span {}

impl Span {
    /// The span from the start of `self` to the end of `other` (same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            lo: self.lo,
            hi: other.hi.max(self.lo),
        }
    }
}

/// A fully qualified global name, without the leading `@`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(pub Rc<str>);

impl Name {
    /// A name from its text (without `@`).
    pub fn new(s: &str) -> Name {
        Name(Rc::from(s))
    }
    /// The text of the name, without `@`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}

/// A name as it occurs in the text, with where it occurs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The desugared global name.
    pub name: Name,
    /// Where it was written.
    pub span: Span,
}

/// A whole bundle: the definitions of one or more files, in order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Bundle {
    /// Top-level definitions in source order.
    pub defs: Vec<TopLevel>,
}

/// A top-level definition. Fields are named after the grammar's.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopLevel {
    /// `.typedef @T = ctor`
    TypeDef {
        name: Ident,
        ctor: TypeCtor,
        span: Span,
    },
    /// `.funcsig @S = (@P..) -> (@R..)`
    FuncSig {
        name: Ident,
        params: Vec<Ident>,
        rets: Vec<Ident>,
        span: Span,
    },
    /// `.const @c <@T> = ctor`
    Const {
        name: Ident,
        ty: Ident,
        value: ConstCtor,
        span: Span,
    },
    /// `.global @g <@T>`
    Global { name: Ident, ty: Ident, span: Span },
    /// `.funcdecl @f <@S>`
    FuncDecl { name: Ident, sig: Ident, span: Span },
    /// `.funcdef @f VERSION %v <@S> { blocks }`
    FuncDef(FuncDef),
    /// `.expose @e = @f #CC @cookie`
    Expose {
        name: Ident,
        func: Ident,
        cc: Flag,
        cookie: Ident,
        span: Span,
    },
}

impl TopLevel {
    /// The span of the whole definition.
    pub fn span(&self) -> Span {
        match self {
            TopLevel::TypeDef { span, .. }
            | TopLevel::FuncSig { span, .. }
            | TopLevel::Const { span, .. }
            | TopLevel::Global { span, .. }
            | TopLevel::FuncDecl { span, .. }
            | TopLevel::Expose { span, .. } => *span,
            TopLevel::FuncDef(f) => f.span,
        }
    }
}

/// A type constructor (the right-hand side of `.typedef`).
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeCtor {
    Int(u32),
    Float,
    Double,
    Void,
    Ref(Ident),
    IRef(Ident),
    WeakRef(Ident),
    Struct(Vec<Ident>),
    Array(Ident, u64),
    /// `hybrid<@F.. @V>`: fixed fields, then the variable part's element type.
    Hybrid(Vec<Ident>, Ident),
    FuncRef(Ident),
    UPtr(Ident),
    UFuncPtr(Ident),
    /// `stackref`: a Mu stack (threads-stacks.rest).
    StackRef,
    /// `threadref`: a Mu thread.
    ThreadRef,
    /// A type of full Mu outside muni's executable subset (`threadref`, `vector`, ...).
    Other(OtherType),
}

/// Types of full Mu that muni parses and type-checks but does not execute.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OtherType {
    FrameCursorRef,
    IrBuilderRef,
    TagRef64,
    Vector(Ident, u64),
    /// `int<n>` with n > 64.
    WideInt(u32),
}

/// The right-hand side of `.const`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstCtor {
    /// An integer literal, as written (range-checked against the type by the verifier).
    Int(i128),
    /// An integer literal of 65 to 128 bits, as sign and magnitude (only a constant of
    /// `int<n>` with n > 64 can take it).
    WideInt(bool, u128),
    /// A `float` literal, as its bits.
    Float(u32),
    /// A `double` literal, as its bits.
    Double(u64),
    /// `{@a @b ...}`: struct, array or vector constant.
    List(Vec<Ident>),
    /// `NULL`
    Null,
    /// `EXTERN "sym"`: the address of a C symbol (`uptr`/`ufuncptr` only).
    Extern(String),
}

/// A `#FLAG`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The text after `#`.
    pub name: Rc<str>,
    /// Where it was written.
    pub span: Span,
}

/// `.funcdef`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncDef {
    /// The function.
    pub name: Ident,
    /// The version (`@f.v1`).
    pub version: Ident,
    /// The signature.
    pub sig: Ident,
    /// Basic blocks; the first is the entry block.
    pub blocks: Vec<Block>,
    /// The whole definition.
    pub span: Span,
}

/// A basic block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The block's name (`@f.v1.b`).
    pub name: Ident,
    /// Normal parameters `(<@T> %x ..)`.
    pub params: Vec<(Ident, Ident)>,
    /// The exceptional parameter `[%e]`.
    pub exc_param: Option<Ident>,
    /// Instructions; the last is the terminator.
    pub insts: Vec<Inst>,
}

/// An instruction with its results and optional name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inst {
    /// Result variables (`%r =` or `(%a %b) =`).
    pub results: Vec<Ident>,
    /// The instruction's own name (`[%n]`).
    pub id: Option<Ident>,
    /// What it does.
    pub kind: InstKind,
    /// The whole instruction.
    pub span: Span,
}

/// A destination clause `%b(%a ..)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dest {
    /// Target block.
    pub block: Ident,
    /// Arguments for its normal parameters.
    pub args: Vec<Ident>,
}

/// `EXC(%nor(..) %exc(..))`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExcClause {
    /// Normal destination.
    pub nor: Dest,
    /// Exceptional destination.
    pub exc: Dest,
}

/// How a thread binds to a stack (`SWAPSTACK`, `NEWTHREAD`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewStackClause {
    /// `PASS_VALUES <Ts> (vs)`
    PassValues(Vec<Ident>, Vec<Ident>),
    /// `THROW_EXC %e`
    ThrowExc(Ident),
}

/// Binary operations.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Udiv,
    Sdiv,
    Urem,
    Srem,
    Shl,
    Lshr,
    Ashr,
    And,
    Or,
    Xor,
    Fadd,
    Fsub,
    Fmul,
    Fdiv,
    Frem,
}

/// Comparisons.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Sge,
    Sgt,
    Sle,
    Slt,
    Uge,
    Ugt,
    Ule,
    Ult,
    Ffalse,
    Ftrue,
    Funo,
    Fueq,
    Fune,
    Fugt,
    Fuge,
    Fult,
    Fule,
    Ford,
    Foeq,
    Fone,
    Fogt,
    Foge,
    Folt,
    Fole,
}

/// Conversions.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConvOp {
    Trunc,
    Zext,
    Sext,
    Fptrunc,
    Fpext,
    Fptoui,
    Fptosi,
    Uitofp,
    Sitofp,
    Bitcast,
    Refcast,
    Ptrcast,
}

/// Memory orders.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemOrd {
    NotAtomic,
    Relaxed,
    Consume,
    Acquire,
    Release,
    AcqRel,
    SeqCst,
}

/// `ATOMICRMW` operations.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RmwOp {
    Xchg,
    Add,
    Sub,
    And,
    Nand,
    Or,
    Xor,
    Max,
    Min,
    Umax,
    Umin,
}

/// What an instruction does.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstKind {
    BinOp {
        op: BinOp,
        flags: Vec<Flag>,
        ty: Ident,
        a: Ident,
        b: Ident,
        exc: Option<ExcClause>,
    },
    Cmp {
        op: CmpOp,
        ty: Ident,
        a: Ident,
        b: Ident,
    },
    Conv {
        op: ConvOp,
        from: Ident,
        to: Ident,
        x: Ident,
    },
    Select {
        cond_ty: Ident,
        ty: Ident,
        cond: Ident,
        a: Ident,
        b: Ident,
    },
    Branch(Dest),
    Branch2 {
        cond: Ident,
        t: Dest,
        f: Dest,
    },
    Switch {
        ty: Ident,
        x: Ident,
        default: Dest,
        cases: Vec<(Ident, Dest)>,
    },
    Call {
        sig: Ident,
        callee: Ident,
        args: Vec<Ident>,
        exc: Option<ExcClause>,
        keepalive: Vec<Ident>,
    },
    TailCall {
        sig: Ident,
        callee: Ident,
        args: Vec<Ident>,
    },
    Ret(Vec<Ident>),
    Throw(Ident),
    ExtractValue {
        ty: Ident,
        index: u64,
        x: Ident,
    },
    InsertValue {
        ty: Ident,
        index: u64,
        x: Ident,
        v: Ident,
    },
    New {
        ty: Ident,
        exc: Option<ExcClause>,
    },
    NewHybrid {
        ty: Ident,
        len_ty: Ident,
        len: Ident,
        exc: Option<ExcClause>,
    },
    Alloca {
        ty: Ident,
        exc: Option<ExcClause>,
    },
    AllocaHybrid {
        ty: Ident,
        len_ty: Ident,
        len: Ident,
        exc: Option<ExcClause>,
    },
    GetIRef {
        ty: Ident,
        x: Ident,
    },
    GetFieldIRef {
        ptr: bool,
        ty: Ident,
        index: u64,
        x: Ident,
    },
    GetElemIRef {
        ptr: bool,
        ty: Ident,
        index_ty: Ident,
        x: Ident,
        index: Ident,
    },
    ShiftIRef {
        ptr: bool,
        ty: Ident,
        off_ty: Ident,
        x: Ident,
        off: Ident,
    },
    GetVarPartIRef {
        ptr: bool,
        ty: Ident,
        x: Ident,
    },
    Load {
        ptr: bool,
        ord: MemOrd,
        ty: Ident,
        loc: Ident,
        exc: Option<ExcClause>,
    },
    Store {
        ptr: bool,
        ord: MemOrd,
        ty: Ident,
        loc: Ident,
        v: Ident,
        exc: Option<ExcClause>,
    },
    CmpXchg {
        ptr: bool,
        weak: bool,
        ord_succ: MemOrd,
        ord_fail: MemOrd,
        ty: Ident,
        loc: Ident,
        expected: Ident,
        desired: Ident,
        exc: Option<ExcClause>,
    },
    AtomicRmw {
        ptr: bool,
        ord: MemOrd,
        op: RmwOp,
        ty: Ident,
        loc: Ident,
        v: Ident,
        exc: Option<ExcClause>,
    },
    Fence(MemOrd),
    Trap {
        tys: Vec<Ident>,
        exc: Option<ExcClause>,
        keepalive: Vec<Ident>,
    },
    /// `WATCHPOINT wpid <Ts> %dis %ena WPEXC(%exc)? KEEPALIVE(..)`.
    Watchpoint {
        wpid: u64,
        tys: Vec<Ident>,
        dis: Dest,
        ena: Dest,
        wpexc: Option<Dest>,
        keepalive: Vec<Ident>,
    },
    /// `WPBRANCH wpid %dis %ena`.
    WpBranch {
        wpid: u64,
        dis: Dest,
        ena: Dest,
    },
    CCall {
        cc: Flag,
        fty: Ident,
        sig: Ident,
        callee: Ident,
        args: Vec<Ident>,
        exc: Option<ExcClause>,
        keepalive: Vec<Ident>,
    },
    /// `SWAPSTACK %s RET_WITH<Ts>|KILL_OLD PASS_VALUES<Us>(vs)|THROW_EXC %e EXC(..) KEEPALIVE(..)`
    SwapStack {
        swappee: Ident,
        /// `RET_WITH<Ts>`: the types this stack resumes with; `None` is `KILL_OLD`.
        ret_with: Option<Vec<Ident>>,
        new: NewStackClause,
        exc: Option<ExcClause>,
        keepalive: Vec<Ident>,
    },
    /// `NEWTHREAD %s THREADLOCAL(%t)? PASS_VALUES<Ts>(vs)|THROW_EXC %e EXC(..)`
    NewThread {
        stack: Ident,
        threadlocal: Option<Ident>,
        new: NewStackClause,
        exc: Option<ExcClause>,
    },
    CommInst {
        name: Ident,
        flags: Vec<Flag>,
        tys: Vec<Ident>,
        sigs: Vec<Ident>,
        args: Vec<Ident>,
        exc: Option<ExcClause>,
        keepalive: Vec<Ident>,
    },
    /// An instruction of full Mu outside muni's subset (`NEWTHREAD`, `SWAPSTACK`, ...),
    /// kept so that the rest of the bundle can still be checked.
    Unsupported(Rc<str>),
}
