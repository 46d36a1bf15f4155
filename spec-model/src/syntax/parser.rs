//! Recursive-descent parser for UIR (spec/01-syntax.md), after refimpl2's `UIR.g4`.
//!
//! Syntax errors stop the parse with one `malformed` diagnostic. Constructs of full
//! Mu outside muni's subset parse to [`InstKind::Unsupported`] (or
//! [`TypeCtor::Other`]) with an `unsupported` diagnostic, and parsing goes on.

use super::ast::*;
use super::lexer::{Tok, Token, lex};
use crate::diag::{Diagnostic, Severity};
use std::rc::Rc;

type PResult<T> = Result<T, Diagnostic>;

/// Parses one file of a bundle. On success, returns the definitions and any
/// `unsupported` diagnostics; on a syntax error, the `malformed` diagnostic.
pub fn parse_file(file: u32, src: &str) -> Result<(Bundle, Vec<Diagnostic>), Diagnostic> {
    let mut p = Parser::new(lex(file, src)?);
    let mut defs = Vec::new();
    while !p.at_eof() {
        defs.push(p.top_level()?);
    }
    Ok((Bundle { defs }, p.unsupported))
}

/// Parses `src` as one constant constructor (`42`, `-1.5d`, `NULL`, `{1 2}`) and
/// nothing after it.
pub fn parse_const(file: u32, src: &str) -> Result<ConstCtor, Diagnostic> {
    let mut p = Parser::new(lex(file, src)?);
    let c = p.const_ctor()?;
    if !p.at_eof() {
        return p.expected("the end after a constant");
    }
    Ok(c)
}

/// Instruction keywords of full Mu that muni does not execute.
const UNSUPPORTED_INSTS: &[&str] = &[
    "EXTRACTELEMENT",
    "INSERTELEMENT",
    "SHUFFLEVECTOR",
    "GETFIXEDPARTIREF",
    "NEWSTACK",
    "PHI",
    "LANDINGPAD",
    "ICALL",
    "IINVOKE",
    "INVOKE",
    "RETVOID",
];

const INST_KEYWORDS: &[&str] = &[
    "ADD",
    "SUB",
    "MUL",
    "UDIV",
    "SDIV",
    "UREM",
    "SREM",
    "SHL",
    "LSHR",
    "ASHR",
    "AND",
    "OR",
    "XOR",
    "FADD",
    "FSUB",
    "FMUL",
    "FDIV",
    "FREM",
    "EQ",
    "NE",
    "SGE",
    "SGT",
    "SLE",
    "SLT",
    "UGE",
    "UGT",
    "ULE",
    "ULT",
    "FFALSE",
    "FTRUE",
    "FUNO",
    "FUEQ",
    "FUNE",
    "FUGT",
    "FUGE",
    "FULT",
    "FULE",
    "FORD",
    "FOEQ",
    "FONE",
    "FOGT",
    "FOGE",
    "FOLT",
    "FOLE",
    "TRUNC",
    "ZEXT",
    "SEXT",
    "FPTRUNC",
    "FPEXT",
    "FPTOUI",
    "FPTOSI",
    "UITOFP",
    "SITOFP",
    "BITCAST",
    "REFCAST",
    "PTRCAST",
    "SELECT",
    "BRANCH",
    "BRANCH2",
    "SWITCH",
    "CALL",
    "TAILCALL",
    "RET",
    "THROW",
    "EXTRACTVALUE",
    "INSERTVALUE",
    "NEW",
    "NEWHYBRID",
    "ALLOCA",
    "ALLOCAHYBRID",
    "GETIREF",
    "GETFIELDIREF",
    "GETELEMIREF",
    "SHIFTIREF",
    "GETVARPARTIREF",
    "LOAD",
    "STORE",
    "CMPXCHG",
    "ATOMICRMW",
    "FENCE",
    "TRAP",
    "WATCHPOINT",
    "WPBRANCH",
    "CCALL",
    "COMMINST",
];

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    unsupported: Vec<Diagnostic>,
    /// `f.v1` while inside a function version.
    version: Option<Rc<str>>,
    /// `f.v1.b` while inside a block.
    block: Option<Rc<str>>,
}

/// What a local name denotes where it is written.
#[derive(Clone, Copy)]
enum Scope {
    Version,
    Block,
    Value,
}

impl Parser {
    /// A parser at the first of `toks`, outside any function.
    fn new(toks: Vec<Token>) -> Self {
        Parser {
            toks,
            pos: 0,
            unsupported: Vec::new(),
            version: None,
            block: None,
        }
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }
    fn span(&self) -> Span {
        self.toks[self.pos.min(self.toks.len() - 1)].span
    }
    fn prev_span(&self) -> Span {
        self.toks[self.pos.saturating_sub(1).min(self.toks.len() - 1)].span
    }
    fn at_eof(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }
    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos.min(self.toks.len() - 1)].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn describe(t: &Tok) -> String {
        match t {
            Tok::Global(s) => format!("`@{s}`"),
            Tok::Local(s) => format!("`%{s}`"),
            Tok::Flag(s) => format!("`#{s}`"),
            Tok::Directive(s) => format!("`.{s}`"),
            Tok::Word(s) => format!("`{s}`"),
            Tok::Int(v) => format!("the integer `{v}`"),
            Tok::WideInt(neg, v) => format!("the integer `{}{v}`", if *neg { "-" } else { "" }),
            Tok::FloatLit(_) | Tok::DoubleLit(_) => "a floating-point literal".into(),
            Tok::Str(_) => "a string".into(),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "the end of the file".into(),
        }
    }
    fn error<T>(&self, code: &'static str, msg: impl Into<String>) -> PResult<T> {
        Err(Diagnostic::new(Severity::Malformed, code, self.span(), msg))
    }
    fn expected<T>(&self, what: &str) -> PResult<T> {
        self.error(
            "unexpected-token",
            format!("expected {what}, found {}", Self::describe(self.peek())),
        )
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn punct(&mut self, p: &str) -> PResult<Span> {
        if self.is_punct(p) {
            Ok(self.bump().span)
        } else {
            self.expected(&format!("`{p}`"))
        }
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Word(x) if &**x == w)
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn word(&mut self, w: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            self.expected(&format!("`{w}`"))
        }
    }

    /// A global or local name, desugared in the given scope.
    fn name(&mut self, scope: Scope) -> PResult<Ident> {
        let span = self.span();
        match self.peek().clone() {
            Tok::Global(s) => {
                self.bump();
                Ok(Ident {
                    name: Name(s),
                    span,
                })
            }
            Tok::Local(s) => {
                let prefix = match scope {
                    Scope::Version => self.version.clone(),
                    Scope::Block => self.version.clone(),
                    Scope::Value => self.block.clone(),
                };
                let Some(prefix) = prefix else {
                    return self.error(
                        "local-outside-scope",
                        format!(
                            "`%{s}` is a local name, but there is no enclosing {}",
                            match scope {
                                Scope::Value => "basic block",
                                _ => "function version",
                            }
                        ),
                    );
                };
                self.bump();
                Ok(Ident {
                    name: Name::new(&format!("{prefix}.{s}")),
                    span,
                })
            }
            _ => self.expected("a name"),
        }
    }
    fn global(&mut self) -> PResult<Ident> {
        let span = self.span();
        match self.peek().clone() {
            Tok::Global(s) => {
                self.bump();
                Ok(Ident {
                    name: Name(s),
                    span,
                })
            }
            _ => self.expected("a global name (`@...`)"),
        }
    }
    fn value(&mut self) -> PResult<Ident> {
        self.name(Scope::Value)
    }
    fn int(&mut self) -> PResult<i128> {
        match *self.peek() {
            Tok::Int(v) => {
                self.bump();
                Ok(v)
            }
            Tok::WideInt(..) => Err(Diagnostic::new(
                Severity::Malformed,
                "int-out-of-range",
                self.span(),
                "only a constant of int<n> with n > 64 may be more than 64 bits",
            )),
            _ => self.expected("an integer literal"),
        }
    }
    fn uint(&mut self, what: &str) -> PResult<u64> {
        let span = self.span();
        let v = self.int()?;
        u64::try_from(v).map_err(|_| {
            Diagnostic::new(
                Severity::Malformed,
                "bad-literal",
                span,
                format!("{what} must not be negative"),
            )
        })
    }
    fn flag(&mut self) -> PResult<Flag> {
        let span = self.span();
        match self.peek().clone() {
            Tok::Flag(s) => {
                self.bump();
                Ok(Flag {
                    name: s.clone(),
                    span,
                })
            }
            _ => self.expected("a flag (`#...`)"),
        }
    }

    /// `< @T .. >` with exactly `n` names.
    fn type_args(&mut self, n: usize) -> PResult<Vec<Ident>> {
        self.punct("<")?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.global()?);
        }
        self.punct(">")?;
        Ok(v)
    }
    fn one_type(&mut self) -> PResult<Ident> {
        self.punct("<")?;
        let t = self.global()?;
        self.punct(">")?;
        Ok(t)
    }
    fn two_types(&mut self) -> PResult<(Ident, Ident)> {
        let mut v = self.type_args(2)?.into_iter();
        match (v.next(), v.next()) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => self.expected("two types"),
        }
    }
    /// `( %a %b .. )`
    fn arg_list(&mut self) -> PResult<Vec<Ident>> {
        self.punct("(")?;
        let mut v = Vec::new();
        while !self.eat_punct(")") {
            v.push(self.value()?);
        }
        Ok(v)
    }

    fn top_level(&mut self) -> PResult<TopLevel> {
        let start = self.span();
        let dir = match self.peek() {
            Tok::Directive(d) => d.clone(),
            _ => return self.expected("a top-level definition (`.typedef`, `.funcdef`, ...)"),
        };
        self.bump();
        let def = match &*dir {
            "typedef" => {
                let name = self.global()?;
                self.punct("=")?;
                let ctor = self.type_ctor()?;
                TopLevel::TypeDef {
                    name,
                    ctor,
                    span: start.to(self.prev_span()),
                }
            }
            "funcsig" => {
                let name = self.global()?;
                self.punct("=")?;
                self.punct("(")?;
                let mut params = Vec::new();
                while !self.eat_punct(")") {
                    params.push(self.global()?);
                }
                self.punct("->")?;
                self.punct("(")?;
                let mut rets = Vec::new();
                while !self.eat_punct(")") {
                    rets.push(self.global()?);
                }
                TopLevel::FuncSig {
                    name,
                    params,
                    rets,
                    span: start.to(self.prev_span()),
                }
            }
            "const" => {
                let name = self.global()?;
                let ty = self.one_type()?;
                self.punct("=")?;
                let value = self.const_ctor()?;
                TopLevel::Const {
                    name,
                    ty,
                    value,
                    span: start.to(self.prev_span()),
                }
            }
            "global" => {
                let name = self.global()?;
                let ty = self.one_type()?;
                TopLevel::Global {
                    name,
                    ty,
                    span: start.to(self.prev_span()),
                }
            }
            "funcdecl" => {
                let name = self.global()?;
                let sig = self.one_type()?;
                TopLevel::FuncDecl {
                    name,
                    sig,
                    span: start.to(self.prev_span()),
                }
            }
            "funcdef" => TopLevel::FuncDef(self.func_def(start)?),
            "expose" => {
                let name = self.global()?;
                self.punct("=")?;
                let func = self.global()?;
                let cc = self.flag()?;
                let cookie = self.global()?;
                TopLevel::Expose {
                    name,
                    func,
                    cc,
                    cookie,
                    span: start.to(self.prev_span()),
                }
            }
            _ => {
                return Err(Diagnostic::new(
                    Severity::Malformed,
                    "unknown-directive",
                    start,
                    format!("`.{dir}` is not a top-level definition"),
                ));
            }
        };
        Ok(def)
    }

    fn type_ctor(&mut self) -> PResult<TypeCtor> {
        let span = self.span();
        let Tok::Word(w) = self.peek().clone() else {
            return self.expected("a type constructor");
        };
        self.bump();
        Ok(match &*w {
            "int" => {
                self.punct("<")?;
                let s = self.span();
                let n = self.int()?;
                self.punct(">")?;
                match u32::try_from(n) {
                    Ok(n) if (1..=64).contains(&n) => TypeCtor::Int(n),
                    // Full Mu has wider integers; muni executes up to 64 bits.
                    Ok(n) if n > 64 => TypeCtor::Other(OtherType::WideInt(n)),
                    _ => {
                        return Err(Diagnostic::new(
                            Severity::Malformed,
                            "bad-int-width",
                            s,
                            "an int type has at least 1 bit",
                        ));
                    }
                }
            }
            "float" => TypeCtor::Float,
            "double" => TypeCtor::Double,
            "void" => TypeCtor::Void,
            "ref" => TypeCtor::Ref(self.one_type()?),
            "iref" => TypeCtor::IRef(self.one_type()?),
            "weakref" => TypeCtor::WeakRef(self.one_type()?),
            "uptr" => TypeCtor::UPtr(self.one_type()?),
            "funcref" => TypeCtor::FuncRef(self.one_type()?),
            "ufuncptr" => TypeCtor::UFuncPtr(self.one_type()?),
            "struct" => {
                self.punct("<")?;
                let mut fs = Vec::new();
                while !self.eat_punct(">") {
                    fs.push(self.global()?);
                }
                TypeCtor::Struct(fs)
            }
            "hybrid" => {
                self.punct("<")?;
                let mut fs = Vec::new();
                while !self.eat_punct(">") {
                    fs.push(self.global()?);
                }
                match fs.pop() {
                    Some(v) => TypeCtor::Hybrid(fs, v),
                    None => {
                        return Err(Diagnostic::new(
                            Severity::Malformed,
                            "unexpected-token",
                            span,
                            "a hybrid needs at least its variable part's type",
                        ));
                    }
                }
            }
            "array" | "vector" => {
                self.punct("<")?;
                let t = self.global()?;
                let n = self.uint("a length")?;
                self.punct(">")?;
                if &*w == "array" {
                    TypeCtor::Array(t, n)
                } else {
                    TypeCtor::Other(OtherType::Vector(t, n))
                }
            }
            "threadref" => TypeCtor::ThreadRef,
            "stackref" => TypeCtor::StackRef,
            "framecursorref" => TypeCtor::Other(OtherType::FrameCursorRef),
            "irbuilderref" => TypeCtor::Other(OtherType::IrBuilderRef),
            "tagref64" => TypeCtor::Other(OtherType::TagRef64),
            _ => {
                return Err(Diagnostic::new(
                    Severity::Malformed,
                    "unknown-type-constructor",
                    span,
                    format!("`{w}` is not a type constructor"),
                ));
            }
        })
    }

    fn const_ctor(&mut self) -> PResult<ConstCtor> {
        match self.peek().clone() {
            Tok::Int(v) => {
                self.bump();
                Ok(ConstCtor::Int(v))
            }
            Tok::WideInt(neg, v) => {
                self.bump();
                Ok(ConstCtor::WideInt(neg, v))
            }
            Tok::FloatLit(b) => {
                self.bump();
                Ok(ConstCtor::Float(b))
            }
            Tok::DoubleLit(b) => {
                self.bump();
                Ok(ConstCtor::Double(b))
            }
            Tok::Punct("{") => {
                self.bump();
                let mut v = Vec::new();
                while !self.eat_punct("}") {
                    v.push(self.global()?);
                }
                Ok(ConstCtor::List(v))
            }
            Tok::Word(w) => {
                self.bump();
                match &*w {
                    "NULL" => Ok(ConstCtor::Null),
                    "EXTERN" => match self.peek().clone() {
                        Tok::Str(s) => {
                            self.bump();
                            Ok(ConstCtor::Extern(s.to_string()))
                        }
                        _ => self.expected("a symbol name in quotes"),
                    },
                    "bitsf" | "bitsd" => {
                        self.punct("(")?;
                        let s = self.span();
                        let v = self.int()?;
                        self.punct(")")?;
                        let too_big = |max: u64| {
                            Diagnostic::new(
                                Severity::Malformed,
                                "int-out-of-range",
                                s,
                                format!("the bits must be between 0 and {max:#x}"),
                            )
                        };
                        if &*w == "bitsf" {
                            u32::try_from(v)
                                .map(ConstCtor::Float)
                                .map_err(|_| too_big(u64::from(u32::MAX)))
                        } else {
                            u64::try_from(v)
                                .map(ConstCtor::Double)
                                .map_err(|_| too_big(u64::MAX))
                        }
                    }
                    _ => {
                        self.pos -= 1;
                        self.expected("a constant")
                    }
                }
            }
            _ => self.expected("a constant"),
        }
    }

    fn func_def(&mut self, start: Span) -> PResult<FuncDef> {
        let name = self.global()?;
        self.word("VERSION")?;
        self.version = Some(name.name.0.clone());
        let version = self.name(Scope::Version)?;
        self.version = Some(version.name.0.clone());
        let sig = self.one_type()?;
        self.punct("{")?;
        let mut blocks = Vec::new();
        while !self.eat_punct("}") {
            blocks.push(self.block()?);
        }
        self.version = None;
        self.block = None;
        Ok(FuncDef {
            name,
            version,
            sig,
            blocks,
            span: start.to(self.prev_span()),
        })
    }

    fn block(&mut self) -> PResult<Block> {
        let name = self.name(Scope::Block)?;
        self.block = Some(name.name.0.clone());
        let mut params = Vec::new();
        if self.eat_punct("(") {
            while !self.eat_punct(")") {
                let t = self.one_type()?;
                let v = self.value()?;
                params.push((t, v));
            }
        }
        let exc_param = if self.eat_punct("[") {
            let v = self.value()?;
            self.punct("]")?;
            Some(v)
        } else {
            None
        };
        self.punct(":")?;
        let mut insts = Vec::new();
        while !self.at_block_end() {
            insts.push(self.inst()?);
        }
        Ok(Block {
            name,
            params,
            exc_param,
            insts,
        })
    }

    /// A block ends at `}` or at the next label (`%name(`, `%name:` or `%name [`).
    fn at_block_end(&self) -> bool {
        match self.peek() {
            Tok::Punct("}") | Tok::Eof => true,
            Tok::Local(_) | Tok::Global(_) => {
                matches!(self.peek_at(1), Tok::Punct("(" | ":" | "["))
            }
            _ => false,
        }
    }

    fn inst(&mut self) -> PResult<Inst> {
        let start = self.span();
        let mut results = Vec::new();
        if self.is_punct("(") {
            self.bump();
            while !self.eat_punct(")") {
                results.push(self.value()?);
            }
            self.punct("=")?;
        } else if matches!(self.peek(), Tok::Local(_) | Tok::Global(_)) {
            results.push(self.value()?);
            self.punct("=")?;
        }
        let id = if self.eat_punct("[") {
            let v = self.value()?;
            self.punct("]")?;
            Some(v)
        } else {
            None
        };
        let kind = self.inst_body()?;
        Ok(Inst {
            results,
            id,
            kind,
            span: start.to(self.prev_span()),
        })
    }

    fn dest(&mut self) -> PResult<Dest> {
        let block = self.name(Scope::Block)?;
        let args = if self.is_punct("(") {
            self.arg_list()?
        } else {
            Vec::new()
        };
        Ok(Dest { block, args })
    }
    /// `<@T…>`, the result types of a TRAP or WATCHPOINT (possibly none).
    fn type_list(&mut self) -> PResult<Vec<Ident>> {
        self.punct("<")?;
        let mut tys = Vec::new();
        while !self.eat_punct(">") {
            tys.push(self.global()?);
        }
        Ok(tys)
    }
    fn exc_clause(&mut self) -> PResult<Option<ExcClause>> {
        if !self.eat_word("EXC") {
            return Ok(None);
        }
        self.punct("(")?;
        let nor = self.dest()?;
        let exc = self.dest()?;
        self.punct(")")?;
        Ok(Some(ExcClause { nor, exc }))
    }
    /// `PASS_VALUES <Ts> (vs)` or `THROW_EXC %e`.
    fn new_stack_clause(&mut self) -> PResult<NewStackClause> {
        if self.eat_word("THROW_EXC") {
            return Ok(NewStackClause::ThrowExc(self.value()?));
        }
        if !self.eat_word("PASS_VALUES") {
            return self.expected("PASS_VALUES or THROW_EXC");
        }
        let tys = self.type_list()?;
        let vs = self.arg_list()?;
        Ok(NewStackClause::PassValues(tys, vs))
    }
    fn keepalive(&mut self) -> PResult<Vec<Ident>> {
        if self.eat_word("KEEPALIVE") {
            self.arg_list()
        } else {
            Ok(Vec::new())
        }
    }
    fn mem_ord(&mut self) -> Option<MemOrd> {
        let Tok::Word(w) = self.peek() else {
            return None;
        };
        let o = match &**w {
            "NOT_ATOMIC" => MemOrd::NotAtomic,
            "RELAXED" => MemOrd::Relaxed,
            "CONSUME" => MemOrd::Consume,
            "ACQUIRE" => MemOrd::Acquire,
            "RELEASE" => MemOrd::Release,
            "ACQ_REL" => MemOrd::AcqRel,
            "SEQ_CST" => MemOrd::SeqCst,
            _ => return None,
        };
        self.bump();
        Some(o)
    }
    fn req_mem_ord(&mut self) -> PResult<MemOrd> {
        match self.mem_ord() {
            Some(o) => Ok(o),
            None => self.expected("a memory order (`SEQ_CST`, ...)"),
        }
    }

    fn inst_body(&mut self) -> PResult<InstKind> {
        let span = self.span();
        let Tok::Word(w) = self.peek().clone() else {
            return self.expected("an instruction");
        };
        self.bump();
        if let Some(op) = bin_op(&w) {
            let mut flags = Vec::new();
            if self.eat_punct("[") {
                while !self.eat_punct("]") {
                    flags.push(self.flag()?);
                }
            }
            let ty = self.one_type()?;
            let a = self.value()?;
            let b = self.value()?;
            let exc = self.exc_clause()?;
            return Ok(InstKind::BinOp {
                op,
                flags,
                ty,
                a,
                b,
                exc,
            });
        }
        if let Some(op) = cmp_op(&w) {
            let ty = self.one_type()?;
            let a = self.value()?;
            let b = self.value()?;
            return Ok(InstKind::Cmp { op, ty, a, b });
        }
        if let Some(op) = conv_op(&w) {
            let (from, to) = self.two_types()?;
            let x = self.value()?;
            return Ok(InstKind::Conv { op, from, to, x });
        }
        let ptr = |p: &mut Parser| p.eat_word("PTR");
        Ok(match &*w {
            "SELECT" => {
                let (cond_ty, ty) = self.two_types()?;
                InstKind::Select {
                    cond_ty,
                    ty,
                    cond: self.value()?,
                    a: self.value()?,
                    b: self.value()?,
                }
            }
            "BRANCH" => InstKind::Branch(self.dest()?),
            "BRANCH2" => InstKind::Branch2 {
                cond: self.value()?,
                t: self.dest()?,
                f: self.dest()?,
            },
            "SWITCH" => {
                let ty = self.one_type()?;
                let x = self.value()?;
                let default = self.dest()?;
                self.punct("{")?;
                let mut cases = Vec::new();
                while !self.eat_punct("}") {
                    let k = self.value()?;
                    self.eat_punct(":");
                    let d = self.dest()?;
                    self.eat_punct(";");
                    cases.push((k, d));
                }
                InstKind::Switch {
                    ty,
                    x,
                    default,
                    cases,
                }
            }
            "CALL" => {
                let sig = self.one_type()?;
                let callee = self.value()?;
                let args = self.arg_list()?;
                InstKind::Call {
                    sig,
                    callee,
                    args,
                    exc: self.exc_clause()?,
                    keepalive: self.keepalive()?,
                }
            }
            "TAILCALL" => {
                let sig = self.one_type()?;
                InstKind::TailCall {
                    sig,
                    callee: self.value()?,
                    args: self.arg_list()?,
                }
            }
            "RET" => {
                if self.is_punct("(") {
                    InstKind::Ret(self.arg_list()?)
                } else {
                    InstKind::Ret(vec![self.value()?])
                }
            }
            "THROW" => InstKind::Throw(self.value()?),
            "EXTRACTVALUE" | "INSERTVALUE" => {
                self.punct("<")?;
                let ty = self.global()?;
                let index = self.uint("a field index")?;
                self.punct(">")?;
                let x = self.value()?;
                if &*w == "EXTRACTVALUE" {
                    InstKind::ExtractValue { ty, index, x }
                } else {
                    InstKind::InsertValue {
                        ty,
                        index,
                        x,
                        v: self.value()?,
                    }
                }
            }
            "NEW" => InstKind::New {
                ty: self.one_type()?,
                exc: self.exc_clause()?,
            },
            "ALLOCA" => InstKind::Alloca {
                ty: self.one_type()?,
                exc: self.exc_clause()?,
            },
            "NEWHYBRID" | "ALLOCAHYBRID" => {
                let (ty, len_ty) = self.two_types()?;
                let len = self.value()?;
                let exc = self.exc_clause()?;
                if &*w == "NEWHYBRID" {
                    InstKind::NewHybrid {
                        ty,
                        len_ty,
                        len,
                        exc,
                    }
                } else {
                    InstKind::AllocaHybrid {
                        ty,
                        len_ty,
                        len,
                        exc,
                    }
                }
            }
            "GETIREF" => InstKind::GetIRef {
                ty: self.one_type()?,
                x: self.value()?,
            },
            "GETFIELDIREF" => {
                let ptr = ptr(self);
                self.punct("<")?;
                let ty = self.global()?;
                let index = self.uint("a field index")?;
                self.punct(">")?;
                InstKind::GetFieldIRef {
                    ptr,
                    ty,
                    index,
                    x: self.value()?,
                }
            }
            "GETELEMIREF" => {
                let ptr = ptr(self);
                let (ty, index_ty) = self.two_types()?;
                InstKind::GetElemIRef {
                    ptr,
                    ty,
                    index_ty,
                    x: self.value()?,
                    index: self.value()?,
                }
            }
            "SHIFTIREF" => {
                let ptr = ptr(self);
                let (ty, off_ty) = self.two_types()?;
                InstKind::ShiftIRef {
                    ptr,
                    ty,
                    off_ty,
                    x: self.value()?,
                    off: self.value()?,
                }
            }
            "GETVARPARTIREF" => {
                let ptr = ptr(self);
                InstKind::GetVarPartIRef {
                    ptr,
                    ty: self.one_type()?,
                    x: self.value()?,
                }
            }
            "LOAD" => {
                let ptr = ptr(self);
                let ord = self.mem_ord().unwrap_or(MemOrd::NotAtomic);
                let ty = self.one_type()?;
                InstKind::Load {
                    ptr,
                    ord,
                    ty,
                    loc: self.value()?,
                    exc: self.exc_clause()?,
                }
            }
            "STORE" => {
                let ptr = ptr(self);
                let ord = self.mem_ord().unwrap_or(MemOrd::NotAtomic);
                let ty = self.one_type()?;
                InstKind::Store {
                    ptr,
                    ord,
                    ty,
                    loc: self.value()?,
                    v: self.value()?,
                    exc: self.exc_clause()?,
                }
            }
            "CMPXCHG" => {
                let ptr = ptr(self);
                let weak = self.eat_word("WEAK");
                let ord_succ = self.req_mem_ord()?;
                let ord_fail = self.req_mem_ord()?;
                let ty = self.one_type()?;
                InstKind::CmpXchg {
                    ptr,
                    weak,
                    ord_succ,
                    ord_fail,
                    ty,
                    loc: self.value()?,
                    expected: self.value()?,
                    desired: self.value()?,
                    exc: self.exc_clause()?,
                }
            }
            "ATOMICRMW" => {
                let ptr = ptr(self);
                let ord = self.req_mem_ord()?;
                let op = match self.peek() {
                    Tok::Word(o) => match rmw_op(o) {
                        Some(op) => op,
                        None => {
                            return self.expected("an ATOMICRMW operation (`XCHG`, `ADD`, ...)");
                        }
                    },
                    _ => return self.expected("an ATOMICRMW operation (`XCHG`, `ADD`, ...)"),
                };
                self.bump();
                let ty = self.one_type()?;
                InstKind::AtomicRmw {
                    ptr,
                    ord,
                    op,
                    ty,
                    loc: self.value()?,
                    v: self.value()?,
                    exc: self.exc_clause()?,
                }
            }
            "FENCE" => InstKind::Fence(self.req_mem_ord()?),
            "WATCHPOINT" => {
                let wpid = self.uint("a watchpoint ID")?;
                let tys = self.type_list()?;
                let dis = self.dest()?;
                let ena = self.dest()?;
                let wpexc = if self.eat_word("WPEXC") {
                    self.punct("(")?;
                    let d = self.dest()?;
                    self.punct(")")?;
                    Some(d)
                } else {
                    None
                };
                InstKind::Watchpoint {
                    wpid,
                    tys,
                    dis,
                    ena,
                    wpexc,
                    keepalive: self.keepalive()?,
                }
            }
            "WPBRANCH" => InstKind::WpBranch {
                wpid: self.uint("a watchpoint ID")?,
                dis: self.dest()?,
                ena: self.dest()?,
            },
            "TRAP" => {
                let tys = self.type_list()?;
                InstKind::Trap {
                    tys,
                    exc: self.exc_clause()?,
                    keepalive: self.keepalive()?,
                }
            }
            "CCALL" => {
                let cc = self.flag()?;
                let (fty, sig) = self.two_types()?;
                let callee = self.value()?;
                let args = self.arg_list()?;
                InstKind::CCall {
                    cc,
                    fty,
                    sig,
                    callee,
                    args,
                    exc: self.exc_clause()?,
                    keepalive: self.keepalive()?,
                }
            }
            "NEWTHREAD" => {
                let stack = self.value()?;
                let threadlocal = if self.eat_word("THREADLOCAL") {
                    self.punct("(")?;
                    let t = self.value()?;
                    self.punct(")")?;
                    Some(t)
                } else {
                    None
                };
                let new = self.new_stack_clause()?;
                InstKind::NewThread {
                    stack,
                    threadlocal,
                    new,
                    exc: self.exc_clause()?,
                }
            }
            "SWAPSTACK" => {
                let swappee = self.value()?;
                let ret_with = if self.eat_word("KILL_OLD") {
                    None
                } else if self.eat_word("RET_WITH") {
                    Some(self.type_list()?)
                } else {
                    return self.expected("RET_WITH or KILL_OLD");
                };
                let new = self.new_stack_clause()?;
                InstKind::SwapStack {
                    swappee,
                    ret_with,
                    new,
                    exc: self.exc_clause()?,
                    keepalive: self.keepalive()?,
                }
            }
            "COMMINST" => {
                let name = self.global()?;
                let mut flags = Vec::new();
                // `[#FLAG ...]` is a flag list; `[%name]` starts the next instruction
                // (a COMMINST may end without an argument list).
                if self.is_punct("[") && matches!(self.peek_at(1), Tok::Flag(_) | Tok::Punct("]")) {
                    self.bump();
                    while !self.eat_punct("]") {
                        flags.push(self.flag()?);
                    }
                }
                let mut tys = Vec::new();
                let mut sigs = Vec::new();
                if self.is_punct("<") && !matches!(self.peek_at(1), Tok::Punct("[")) {
                    self.bump();
                    while !self.eat_punct(">") {
                        tys.push(self.global()?);
                    }
                }
                if self.is_punct("<") && matches!(self.peek_at(1), Tok::Punct("[")) {
                    self.bump();
                    self.bump();
                    while !self.eat_punct("]") {
                        sigs.push(self.global()?);
                    }
                    self.punct(">")?;
                }
                let args = if self.is_punct("(") {
                    self.arg_list()?
                } else {
                    Vec::new()
                };
                InstKind::CommInst {
                    name,
                    flags,
                    tys,
                    sigs,
                    args,
                    exc: self.exc_clause()?,
                    keepalive: self.keepalive()?,
                }
            }
            _ if UNSUPPORTED_INSTS.contains(&&*w) => {
                self.skip_instruction();
                self.unsupported.push(Diagnostic::new(
                    Severity::Unsupported,
                    "unsupported-instruction",
                    span,
                    format!("`{w}` is full Mu, outside the subset muni executes"),
                ));
                InstKind::Unsupported(w.clone())
            }
            _ => {
                self.pos -= 1;
                return self.expected("an instruction");
            }
        })
    }

    /// Whether a block label (`%b(<@T> %x ..):` or `%b(..) [%e]:`) starts at token `i`.
    fn label_at(&self, i: usize) -> bool {
        let tok = |k: usize| &self.toks[k.min(self.toks.len() - 1)].tok;
        if !matches!(tok(i + 1), Tok::Punct("(")) {
            return false;
        }
        let mut k = i + 2;
        while !matches!(tok(k), Tok::Punct(")") | Tok::Eof) {
            k += 1;
        }
        matches!(tok(k + 1), Tok::Punct(":" | "["))
    }

    /// Skips the operands of an unsupported instruction: up to the next token that
    /// starts an instruction or a block, or ends the function.
    fn skip_instruction(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                Tok::Eof => return,
                Tok::Punct("(" | "{") => depth += 1,
                Tok::Punct(")") => depth = depth.saturating_sub(1),
                Tok::Punct("}") if depth == 0 => return,
                Tok::Punct("}") => depth -= 1,
                Tok::Local(_) | Tok::Global(_)
                    if depth == 0
                        && (matches!(self.peek_at(1), Tok::Punct("=" | ":"))
                            || self.label_at(self.pos)) =>
                {
                    return;
                }
                Tok::Punct("[")
                    if depth == 0
                        && matches!(self.peek_at(2), Tok::Punct("]"))
                        && matches!(self.peek_at(3), Tok::Word(_)) =>
                {
                    return;
                }
                Tok::Word(w)
                    if depth == 0
                        && (INST_KEYWORDS.contains(&&**w) || UNSUPPORTED_INSTS.contains(&&**w)) =>
                {
                    return;
                }
                _ => {}
            }
            self.bump();
        }
    }
}

pub(crate) fn bin_op(w: &str) -> Option<BinOp> {
    Some(match w {
        "ADD" => BinOp::Add,
        "SUB" => BinOp::Sub,
        "MUL" => BinOp::Mul,
        "UDIV" => BinOp::Udiv,
        "SDIV" => BinOp::Sdiv,
        "UREM" => BinOp::Urem,
        "SREM" => BinOp::Srem,
        "SHL" => BinOp::Shl,
        "LSHR" => BinOp::Lshr,
        "ASHR" => BinOp::Ashr,
        "AND" => BinOp::And,
        "OR" => BinOp::Or,
        "XOR" => BinOp::Xor,
        "FADD" => BinOp::Fadd,
        "FSUB" => BinOp::Fsub,
        "FMUL" => BinOp::Fmul,
        "FDIV" => BinOp::Fdiv,
        "FREM" => BinOp::Frem,
        _ => return None,
    })
}

pub(crate) fn cmp_op(w: &str) -> Option<CmpOp> {
    Some(match w {
        "EQ" => CmpOp::Eq,
        "NE" => CmpOp::Ne,
        "SGE" => CmpOp::Sge,
        "SGT" => CmpOp::Sgt,
        "SLE" => CmpOp::Sle,
        "SLT" => CmpOp::Slt,
        "UGE" => CmpOp::Uge,
        "UGT" => CmpOp::Ugt,
        "ULE" => CmpOp::Ule,
        "ULT" => CmpOp::Ult,
        "FFALSE" => CmpOp::Ffalse,
        "FTRUE" => CmpOp::Ftrue,
        "FUNO" => CmpOp::Funo,
        "FUEQ" => CmpOp::Fueq,
        "FUNE" => CmpOp::Fune,
        "FUGT" => CmpOp::Fugt,
        "FUGE" => CmpOp::Fuge,
        "FULT" => CmpOp::Fult,
        "FULE" => CmpOp::Fule,
        "FORD" => CmpOp::Ford,
        "FOEQ" => CmpOp::Foeq,
        "FONE" => CmpOp::Fone,
        "FOGT" => CmpOp::Fogt,
        "FOGE" => CmpOp::Foge,
        "FOLT" => CmpOp::Folt,
        "FOLE" => CmpOp::Fole,
        _ => return None,
    })
}

pub(crate) fn conv_op(w: &str) -> Option<ConvOp> {
    Some(match w {
        "TRUNC" => ConvOp::Trunc,
        "ZEXT" => ConvOp::Zext,
        "SEXT" => ConvOp::Sext,
        "FPTRUNC" => ConvOp::Fptrunc,
        "FPEXT" => ConvOp::Fpext,
        "FPTOUI" => ConvOp::Fptoui,
        "FPTOSI" => ConvOp::Fptosi,
        "UITOFP" => ConvOp::Uitofp,
        "SITOFP" => ConvOp::Sitofp,
        "BITCAST" => ConvOp::Bitcast,
        "REFCAST" => ConvOp::Refcast,
        "PTRCAST" => ConvOp::Ptrcast,
        _ => return None,
    })
}

pub(crate) fn rmw_op(w: &str) -> Option<RmwOp> {
    Some(match w {
        "XCHG" => RmwOp::Xchg,
        "ADD" => RmwOp::Add,
        "SUB" => RmwOp::Sub,
        "AND" => RmwOp::And,
        "NAND" => RmwOp::Nand,
        "OR" => RmwOp::Or,
        "XOR" => RmwOp::Xor,
        "MAX" => RmwOp::Max,
        "MIN" => RmwOp::Min,
        "UMAX" => RmwOp::Umax,
        "UMIN" => RmwOp::Umin,
        _ => return None,
    })
}
