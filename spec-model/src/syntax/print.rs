//! The canonical text form of a bundle. Parsing the printed form of any bundle
//! gives the same bundle (a property test in `tests/roundtrip.rs` checks it).
//!
//! Canonical means: one definition per line, blocks and instructions indented,
//! local names sugared back to `%x` where they belong to the enclosing scope,
//! integers in decimal, floating-point constants as the shortest literal that
//! reads back to the same bits (`bitsf(..)` for NaNs other than `nanf`).

use super::ast::*;
use std::fmt::Write;

/// Prints a bundle in canonical form.
pub fn print_bundle(b: &Bundle) -> String {
    let mut out = String::new();
    for d in &b.defs {
        print_top(&mut out, d);
    }
    out
}

struct Cx<'a> {
    version: Option<&'a str>,
    block: Option<&'a str>,
}

fn sugar(prefix: Option<&str>, n: &Name) -> String {
    if let Some(p) = prefix
        && let Some(rest) = n.as_str().strip_prefix(p).and_then(|r| r.strip_prefix('.'))
        && !rest.is_empty()
    {
        return format!("%{rest}");
    }
    format!("@{}", n.as_str())
}

impl Cx<'_> {
    fn v(&self, i: &Ident) -> String {
        sugar(self.block, &i.name)
    }
    fn b(&self, i: &Ident) -> String {
        sugar(self.version, &i.name)
    }
    fn vs(&self, v: &[Ident]) -> String {
        let parts: Vec<String> = v.iter().map(|i| self.v(i)).collect();
        format!("({})", parts.join(" "))
    }
    fn dest(&self, d: &Dest) -> String {
        format!("{}{}", self.b(&d.block), self.vs(&d.args))
    }
    fn exc(&self, e: &Option<ExcClause>) -> String {
        match e {
            Some(e) => format!(" EXC({} {})", self.dest(&e.nor), self.dest(&e.exc)),
            None => String::new(),
        }
    }
    fn ka(&self, k: &[Ident]) -> String {
        if k.is_empty() {
            String::new()
        } else {
            format!(" KEEPALIVE{}", self.vs(k))
        }
    }
}

fn g(i: &Ident) -> String {
    format!("@{}", i.name.as_str())
}
fn gs(v: &[Ident]) -> String {
    v.iter().map(g).collect::<Vec<_>>().join(" ")
}

/// A `float` literal that reads back to exactly these bits.
pub fn float_literal(bits: u32) -> String {
    let v = f32::from_bits(bits);
    if v.is_nan() {
        if bits == f32::NAN.to_bits() {
            "nanf".into()
        } else {
            format!("bitsf({bits:#x})")
        }
    } else if v.is_infinite() {
        if v > 0.0 {
            "+inff".into()
        } else {
            "-inff".into()
        }
    } else {
        format!("{}f", decimal(format!("{v:?}")))
    }
}

/// A `double` literal that reads back to exactly these bits.
pub fn double_literal(bits: u64) -> String {
    let v = f64::from_bits(bits);
    if v.is_nan() {
        if bits == f64::NAN.to_bits() {
            "nand".into()
        } else {
            format!("bitsd({bits:#x})")
        }
    } else if v.is_infinite() {
        if v > 0.0 {
            "+infd".into()
        } else {
            "-infd".into()
        }
    } else {
        format!("{}d", decimal(format!("{v:?}")))
    }
}

/// Rust's shortest round-trip form, made to fit `d+.d+(e[+-]d+)?`.
fn decimal(s: String) -> String {
    match s.split_once('e') {
        Some((m, e)) if !m.contains('.') => format!("{m}.0e{e}"),
        _ => s,
    }
}

fn print_top(out: &mut String, d: &TopLevel) {
    let _ = match d {
        TopLevel::TypeDef { name, ctor, .. } => {
            writeln!(out, ".typedef {} = {}", g(name), type_ctor(ctor))
        }
        TopLevel::FuncSig {
            name, params, rets, ..
        } => {
            writeln!(
                out,
                ".funcsig {} = ({}) -> ({})",
                g(name),
                gs(params),
                gs(rets)
            )
        }
        TopLevel::Const {
            name, ty, value, ..
        } => {
            let v = match value {
                ConstCtor::Int(i) => i.to_string(),
                ConstCtor::WideInt(neg, v) => format!("{}{v}", if *neg { "-" } else { "" }),
                ConstCtor::Float(b) => float_literal(*b),
                ConstCtor::Double(b) => double_literal(*b),
                ConstCtor::List(v) => format!("{{{}}}", gs(v)),
                ConstCtor::Null => "NULL".into(),
                ConstCtor::Extern(s) => format!("EXTERN {}", quote(s)),
            };
            writeln!(out, ".const {} <{}> = {}", g(name), g(ty), v)
        }
        TopLevel::Global { name, ty, .. } => writeln!(out, ".global {} <{}>", g(name), g(ty)),
        TopLevel::FuncDecl { name, sig, .. } => writeln!(out, ".funcdecl {} <{}>", g(name), g(sig)),
        TopLevel::Expose {
            name,
            func,
            cc,
            cookie,
            ..
        } => {
            writeln!(
                out,
                ".expose {} = {} #{} {}",
                g(name),
                g(func),
                cc.name,
                g(cookie)
            )
        }
        TopLevel::FuncDef(f) => {
            print_func(out, f);
            Ok(())
        }
    };
}

fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn type_ctor(c: &TypeCtor) -> String {
    match c {
        TypeCtor::Int(n) => format!("int<{n}>"),
        TypeCtor::Float => "float".into(),
        TypeCtor::Double => "double".into(),
        TypeCtor::Void => "void".into(),
        TypeCtor::Ref(t) => format!("ref<{}>", g(t)),
        TypeCtor::IRef(t) => format!("iref<{}>", g(t)),
        TypeCtor::WeakRef(t) => format!("weakref<{}>", g(t)),
        TypeCtor::Struct(fs) => format!("struct<{}>", gs(fs)),
        TypeCtor::Array(t, n) => format!("array<{} {n}>", g(t)),
        TypeCtor::Hybrid(fs, v) if fs.is_empty() => format!("hybrid<{}>", g(v)),
        TypeCtor::Hybrid(fs, v) => format!("hybrid<{} {}>", gs(fs), g(v)),
        TypeCtor::FuncRef(s) => format!("funcref<{}>", g(s)),
        TypeCtor::UPtr(t) => format!("uptr<{}>", g(t)),
        TypeCtor::UFuncPtr(s) => format!("ufuncptr<{}>", g(s)),
        TypeCtor::StackRef => "stackref".into(),
        TypeCtor::ThreadRef => "threadref".into(),
        TypeCtor::Other(o) => match o {
            OtherType::FrameCursorRef => "framecursorref".into(),
            OtherType::IrBuilderRef => "irbuilderref".into(),
            OtherType::TagRef64 => "tagref64".into(),
            OtherType::Vector(t, n) => format!("vector<{} {n}>", g(t)),
            OtherType::WideInt(n) => format!("int<{n}>"),
        },
    }
}

fn print_func(out: &mut String, f: &FuncDef) {
    let fname = f.name.name.as_str();
    let cx = Cx {
        version: Some(fname),
        block: None,
    };
    let _ = writeln!(
        out,
        ".funcdef {} VERSION {} <{}> {{",
        g(&f.name),
        sugar(Some(fname), &f.version.name),
        g(&f.sig)
    );
    let vcx = Cx {
        version: Some(f.version.name.as_str()),
        block: None,
    };
    let _ = cx;
    for b in &f.blocks {
        let bcx = Cx {
            version: vcx.version,
            block: Some(b.name.name.as_str()),
        };
        let params: Vec<String> = b
            .params
            .iter()
            .map(|(t, v)| format!("<{}> {}", g(t), bcx.v(v)))
            .collect();
        let exc = b
            .exc_param
            .as_ref()
            .map(|e| format!(" [{}]", bcx.v(e)))
            .unwrap_or_default();
        let _ = writeln!(out, "    {}({}){}:", vcx.b(&b.name), params.join(" "), exc);
        for i in &b.insts {
            let _ = writeln!(out, "        {}", inst(&bcx, i));
        }
    }
    out.push_str("}\n");
}

fn inst(cx: &Cx<'_>, i: &Inst) -> String {
    let mut s = String::new();
    match i.results.len() {
        0 => {}
        1 => {
            let _ = write!(s, "{} = ", cx.v(&i.results[0]));
        }
        _ => {
            let _ = write!(s, "{} = ", cx.vs(&i.results));
        }
    }
    if let Some(id) = &i.id {
        let _ = write!(s, "[{}] ", cx.v(id));
    }
    s.push_str(&inst_body(cx, &i.kind));
    s
}

fn p(ptr: bool) -> &'static str {
    if ptr { " PTR" } else { "" }
}

/// The canonical text of an instruction body (no results).
fn inst_body(cx: &Cx<'_>, k: &InstKind) -> String {
    match k {
        InstKind::BinOp {
            op,
            flags,
            ty,
            a,
            b,
            exc,
        } => {
            let fl = if flags.is_empty() {
                String::new()
            } else {
                format!(
                    " [{}]",
                    flags
                        .iter()
                        .map(|f| format!("#{}", f.name))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            };
            format!(
                "{}{fl} <{}> {} {}{}",
                bin_op_name(*op),
                g(ty),
                cx.v(a),
                cx.v(b),
                cx.exc(exc)
            )
        }
        InstKind::Cmp { op, ty, a, b } => {
            format!("{} <{}> {} {}", cmp_op_name(*op), g(ty), cx.v(a), cx.v(b))
        }
        InstKind::Conv { op, from, to, x } => {
            format!("{} <{} {}> {}", conv_op_name(*op), g(from), g(to), cx.v(x))
        }
        InstKind::Select {
            cond_ty,
            ty,
            cond,
            a,
            b,
        } => {
            format!(
                "SELECT <{} {}> {} {} {}",
                g(cond_ty),
                g(ty),
                cx.v(cond),
                cx.v(a),
                cx.v(b)
            )
        }
        InstKind::Branch(d) => format!("BRANCH {}", cx.dest(d)),
        InstKind::Branch2 { cond, t, f } => {
            format!("BRANCH2 {} {} {}", cx.v(cond), cx.dest(t), cx.dest(f))
        }
        InstKind::Switch {
            ty,
            x,
            default,
            cases,
        } => {
            let cs: Vec<String> = cases
                .iter()
                .map(|(k, d)| format!("{} {}", cx.v(k), cx.dest(d)))
                .collect();
            format!(
                "SWITCH <{}> {} {} {{ {} }}",
                g(ty),
                cx.v(x),
                cx.dest(default),
                cs.join(" ")
            )
        }
        InstKind::Call {
            sig,
            callee,
            args,
            exc,
            keepalive,
        } => {
            format!(
                "CALL <{}> {} {}{}{}",
                g(sig),
                cx.v(callee),
                cx.vs(args),
                cx.exc(exc),
                cx.ka(keepalive)
            )
        }
        InstKind::TailCall { sig, callee, args } => {
            format!("TAILCALL <{}> {} {}", g(sig), cx.v(callee), cx.vs(args))
        }
        InstKind::Ret(v) => format!("RET {}", cx.vs(v)),
        InstKind::Throw(v) => format!("THROW {}", cx.v(v)),
        InstKind::ExtractValue { ty, index, x } => {
            format!("EXTRACTVALUE <{} {index}> {}", g(ty), cx.v(x))
        }
        InstKind::InsertValue { ty, index, x, v } => {
            format!("INSERTVALUE <{} {index}> {} {}", g(ty), cx.v(x), cx.v(v))
        }
        InstKind::New { ty, exc } => format!("NEW <{}>{}", g(ty), cx.exc(exc)),
        InstKind::Alloca { ty, exc } => format!("ALLOCA <{}>{}", g(ty), cx.exc(exc)),
        InstKind::NewHybrid {
            ty,
            len_ty,
            len,
            exc,
        } => {
            format!(
                "NEWHYBRID <{} {}> {}{}",
                g(ty),
                g(len_ty),
                cx.v(len),
                cx.exc(exc)
            )
        }
        InstKind::AllocaHybrid {
            ty,
            len_ty,
            len,
            exc,
        } => {
            format!(
                "ALLOCAHYBRID <{} {}> {}{}",
                g(ty),
                g(len_ty),
                cx.v(len),
                cx.exc(exc)
            )
        }
        InstKind::GetIRef { ty, x } => format!("GETIREF <{}> {}", g(ty), cx.v(x)),
        InstKind::GetFieldIRef { ptr, ty, index, x } => {
            format!("GETFIELDIREF{} <{} {index}> {}", p(*ptr), g(ty), cx.v(x))
        }
        InstKind::GetElemIRef {
            ptr,
            ty,
            index_ty,
            x,
            index,
        } => {
            format!(
                "GETELEMIREF{} <{} {}> {} {}",
                p(*ptr),
                g(ty),
                g(index_ty),
                cx.v(x),
                cx.v(index)
            )
        }
        InstKind::ShiftIRef {
            ptr,
            ty,
            off_ty,
            x,
            off,
        } => {
            format!(
                "SHIFTIREF{} <{} {}> {} {}",
                p(*ptr),
                g(ty),
                g(off_ty),
                cx.v(x),
                cx.v(off)
            )
        }
        InstKind::GetVarPartIRef { ptr, ty, x } => {
            format!("GETVARPARTIREF{} <{}> {}", p(*ptr), g(ty), cx.v(x))
        }
        InstKind::Load {
            ptr,
            ord,
            ty,
            loc,
            exc,
        } => {
            format!(
                "LOAD{} {} <{}> {}{}",
                p(*ptr),
                mem_ord_name(*ord),
                g(ty),
                cx.v(loc),
                cx.exc(exc)
            )
        }
        InstKind::Store {
            ptr,
            ord,
            ty,
            loc,
            v,
            exc,
        } => {
            format!(
                "STORE{} {} <{}> {} {}{}",
                p(*ptr),
                mem_ord_name(*ord),
                g(ty),
                cx.v(loc),
                cx.v(v),
                cx.exc(exc)
            )
        }
        InstKind::CmpXchg {
            ptr,
            weak,
            ord_succ,
            ord_fail,
            ty,
            loc,
            expected,
            desired,
            exc,
        } => format!(
            "CMPXCHG{}{} {} {} <{}> {} {} {}{}",
            p(*ptr),
            if *weak { " WEAK" } else { "" },
            mem_ord_name(*ord_succ),
            mem_ord_name(*ord_fail),
            g(ty),
            cx.v(loc),
            cx.v(expected),
            cx.v(desired),
            cx.exc(exc)
        ),
        InstKind::AtomicRmw {
            ptr,
            ord,
            op,
            ty,
            loc,
            v,
            exc,
        } => format!(
            "ATOMICRMW{} {} {} <{}> {} {}{}",
            p(*ptr),
            mem_ord_name(*ord),
            rmw_op_name(*op),
            g(ty),
            cx.v(loc),
            cx.v(v),
            cx.exc(exc)
        ),
        InstKind::Fence(o) => format!("FENCE {}", mem_ord_name(*o)),
        InstKind::Trap {
            tys,
            exc,
            keepalive,
        } => format!("TRAP <{}>{}{}", gs(tys), cx.exc(exc), cx.ka(keepalive)),
        InstKind::Watchpoint {
            wpid,
            tys,
            dis,
            ena,
            wpexc,
            keepalive,
        } => format!(
            "WATCHPOINT {wpid} <{}> {} {}{}{}",
            gs(tys),
            cx.dest(dis),
            cx.dest(ena),
            wpexc
                .as_ref()
                .map(|d| format!(" WPEXC({})", cx.dest(d)))
                .unwrap_or_default(),
            cx.ka(keepalive)
        ),
        InstKind::WpBranch { wpid, dis, ena } => {
            format!("WPBRANCH {wpid} {} {}", cx.dest(dis), cx.dest(ena))
        }
        InstKind::CCall {
            cc,
            fty,
            sig,
            callee,
            args,
            exc,
            keepalive,
        } => format!(
            "CCALL #{} <{} {}> {} {}{}{}",
            cc.name,
            g(fty),
            g(sig),
            cx.v(callee),
            cx.vs(args),
            cx.exc(exc),
            cx.ka(keepalive)
        ),
        InstKind::NewThread {
            stack,
            threadlocal,
            new,
            exc,
        } => {
            let tl = match threadlocal {
                Some(t) => format!(" THREADLOCAL({})", cx.v(t)),
                None => String::new(),
            };
            let new = match new {
                NewStackClause::PassValues(ts, vs) => {
                    format!("PASS_VALUES <{}> {}", gs(ts), cx.vs(vs))
                }
                NewStackClause::ThrowExc(e) => format!("THROW_EXC {}", cx.v(e)),
            };
            format!("NEWTHREAD {}{tl} {new}{}", cx.v(stack), cx.exc(exc))
        }
        InstKind::SwapStack {
            swappee,
            ret_with,
            new,
            exc,
            keepalive,
        } => {
            let cur = match ret_with {
                Some(ts) => format!("RET_WITH <{}>", gs(ts)),
                None => "KILL_OLD".into(),
            };
            let new = match new {
                NewStackClause::PassValues(ts, vs) => {
                    format!("PASS_VALUES <{}> {}", gs(ts), cx.vs(vs))
                }
                NewStackClause::ThrowExc(e) => format!("THROW_EXC {}", cx.v(e)),
            };
            format!(
                "SWAPSTACK {} {cur} {new}{}{}",
                cx.v(swappee),
                cx.exc(exc),
                cx.ka(keepalive)
            )
        }
        InstKind::CommInst {
            name,
            flags,
            tys,
            sigs,
            args,
            exc,
            keepalive,
        } => {
            let mut s = format!("COMMINST {}", g(name));
            if !flags.is_empty() {
                let fl: Vec<String> = flags.iter().map(|f| format!("#{}", f.name)).collect();
                let _ = write!(s, " [{}]", fl.join(" "));
            }
            if !tys.is_empty() {
                let _ = write!(s, " <{}>", gs(tys));
            }
            if !sigs.is_empty() {
                let _ = write!(s, " <[{}]>", gs(sigs));
            }
            let _ = write!(s, " {}{}{}", cx.vs(args), cx.exc(exc), cx.ka(keepalive));
            s
        }
        InstKind::Unsupported(w) => format!("{w} // unsupported"),
    }
}

/// The keyword of a binary operation.
pub fn bin_op_name(op: BinOp) -> &'static str {
    use BinOp::*;
    match op {
        Add => "ADD",
        Sub => "SUB",
        Mul => "MUL",
        Udiv => "UDIV",
        Sdiv => "SDIV",
        Urem => "UREM",
        Srem => "SREM",
        Shl => "SHL",
        Lshr => "LSHR",
        Ashr => "ASHR",
        And => "AND",
        Or => "OR",
        Xor => "XOR",
        Fadd => "FADD",
        Fsub => "FSUB",
        Fmul => "FMUL",
        Fdiv => "FDIV",
        Frem => "FREM",
    }
}

/// The keyword of a comparison.
pub fn cmp_op_name(op: CmpOp) -> &'static str {
    use CmpOp::*;
    match op {
        Eq => "EQ",
        Ne => "NE",
        Sge => "SGE",
        Sgt => "SGT",
        Sle => "SLE",
        Slt => "SLT",
        Uge => "UGE",
        Ugt => "UGT",
        Ule => "ULE",
        Ult => "ULT",
        Ffalse => "FFALSE",
        Ftrue => "FTRUE",
        Funo => "FUNO",
        Fueq => "FUEQ",
        Fune => "FUNE",
        Fugt => "FUGT",
        Fuge => "FUGE",
        Fult => "FULT",
        Fule => "FULE",
        Ford => "FORD",
        Foeq => "FOEQ",
        Fone => "FONE",
        Fogt => "FOGT",
        Foge => "FOGE",
        Folt => "FOLT",
        Fole => "FOLE",
    }
}

/// The keyword of a conversion.
pub fn conv_op_name(op: ConvOp) -> &'static str {
    use ConvOp::*;
    match op {
        Trunc => "TRUNC",
        Zext => "ZEXT",
        Sext => "SEXT",
        Fptrunc => "FPTRUNC",
        Fpext => "FPEXT",
        Fptoui => "FPTOUI",
        Fptosi => "FPTOSI",
        Uitofp => "UITOFP",
        Sitofp => "SITOFP",
        Bitcast => "BITCAST",
        Refcast => "REFCAST",
        Ptrcast => "PTRCAST",
    }
}

/// The keyword of a memory order.
pub fn mem_ord_name(o: MemOrd) -> &'static str {
    match o {
        MemOrd::NotAtomic => "NOT_ATOMIC",
        MemOrd::Relaxed => "RELAXED",
        MemOrd::Consume => "CONSUME",
        MemOrd::Acquire => "ACQUIRE",
        MemOrd::Release => "RELEASE",
        MemOrd::AcqRel => "ACQ_REL",
        MemOrd::SeqCst => "SEQ_CST",
    }
}

/// The keyword of an `ATOMICRMW` operation.
pub fn rmw_op_name(o: RmwOp) -> &'static str {
    use RmwOp::*;
    match o {
        Xchg => "XCHG",
        Add => "ADD",
        Sub => "SUB",
        And => "AND",
        Nand => "NAND",
        Or => "OR",
        Xor => "XOR",
        Max => "MAX",
        Min => "MIN",
        Umax => "UMAX",
        Umin => "UMIN",
    }
}
