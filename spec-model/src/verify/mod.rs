//! The verifier (spec/03-verifier-errors.md): checks that a parsed bundle is
//! well-formed and produces the resolved [`Module`].
//!
//! Invariants it establishes, in order:
//! 1. every name is defined once (`duplicate-name`) and every use names an entity
//!    of the right kind (`undefined-name`, `wrong-kind`);
//! 2. types are well-formed: no struct, array or hybrid contains itself
//!    (`recursive-type`), `hybrid` and `void` appear only as the referent of a
//!    reference or pointer type (`misplaced-type`), `uptr`/`ufuncptr` are over
//!    native-safe types (`not-native-safe`), `weakref` only types memory;
//! 3. constants fit their types (`const-type-mismatch`, `int-out-of-range`);
//! 4. in each function: values are block-local (`not-in-scope`), every
//!    instruction is typed (`type-mismatch`, `bad-type-argument`, `arity`),
//!    destinations exist and their arguments match the parameters
//!    (`undefined-block`, `block-args`), the last instruction and only it is a
//!    terminator (`missing-terminator`, `terminator-not-last`), and `EXC`
//!    appears only where allowed (`exc-not-allowed`).
//!
//!
//! A [`Verifier`] keeps what it resolved, so bundles load one after another
//! ([`Verifier::load`]): a later bundle names what earlier ones define, its
//! `.funcdef` of an existing function is a new version, and every id an earlier
//! bundle was given stays as it was (objects of its types may be alive).

mod func;
mod types;

use crate::diag::{Diagnostic, Severity};
use crate::ir::*;
use crate::syntax::ast::{self, Bundle, Ident, Name, Span, TopLevel};
use rustc_hash::FxHashMap as HashMap;

/// The type of what did not check (an instruction's results, a constant): compatible
/// with nothing, reported never.
pub(crate) const POISON: &str = "<error>";
/// What `Type::Other` holds for `int<n>` with n > 64.
pub(crate) const WIDE_INT: &str = "wide int (more than 64 bits)";
/// What `Type::Other` holds for a type full Mu predefines under `@uvm.`
/// (`@uvm.meta.bytes`), or one built from a signature it predefines.
pub(crate) const BUILTIN: &str = "type predefined by full Mu";

/// What a global name denotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entity {
    Type(TypeId),
    Sig(SigId),
    Const(ConstId),
    Global(GlobalId),
    Func(FuncId),
    Expose(u32),
    /// A function version, block or local value (defined inside a `.funcdef`).
    Local,
}

impl Entity {
    fn kind(self) -> &'static str {
        match self {
            Entity::Type(_) => "a type",
            Entity::Sig(_) => "a function signature",
            Entity::Const(_) => "a constant",
            Entity::Global(_) => "a global cell",
            Entity::Func(_) => "a function",
            Entity::Expose(_) => "an exposed function",
            Entity::Local => "a local name",
        }
    }
}

/// Verifies a bundle. Returns the module unless a diagnostic is `invalid`, and every
/// diagnostic found. Functions that use constructs outside muni's subset get one
/// `unsupported` diagnostic each and no body; the rest of the module is usable.
pub fn verify(bundle: &Bundle) -> (Option<Module>, Vec<Diagnostic>) {
    let mut v = Verifier::default();
    v.run(bundle);
    let ok = v.diags.iter().all(|d| d.severity == Severity::Unsupported);
    (ok.then_some(v.m), v.diags)
}

/// The verifier's state after the bundles loaded so far: the module, and the names
/// and constant definitions the next bundle resolves against.
#[derive(Clone, Debug, Default)]
pub struct Verifier {
    pub(crate) m: Module,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) names: HashMap<Name, (Entity, Span)>,
    /// Constant definitions by id, for lazy evaluation.
    /// `None` for the element constants of list constants (evaluated at once).
    const_defs: Vec<Option<(Ident, Ident, ast::ConstCtor, Span)>>,
    const_state: Vec<u8>,
    /// Set when an operand had the type of an instruction that did not check.
    pub(crate) poisoned: bool,
    /// Whether a function body is being checked.
    pub(crate) in_func: bool,
    /// The first construct outside muni's subset in the current function.
    pub(crate) fn_unsupported: Option<String>,
    /// The type that stands for every type full Mu predefines (see [`BUILTIN`]).
    builtin: Option<TypeId>,
}

impl Verifier {
    /// Verifies `bundle` as loaded after the ones before (uvm-ir.rest, "Bundle
    /// Loading"), all or nothing: with no `invalid` diagnostic the module grows by
    /// it and the diagnostics (all `unsupported`) are returned; otherwise the
    /// verifier is as it was and the error has every diagnostic.
    pub fn load(&mut self, bundle: &Bundle) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
        let before = self.clone();
        self.diags.clear();
        self.run(bundle);
        let diags = std::mem::take(&mut self.diags);
        if diags.iter().all(|d| d.severity == Severity::Unsupported) {
            Ok(diags)
        } else {
            *self = before;
            Err(diags)
        }
    }

    /// The module of the bundles loaded so far.
    pub fn module(&self) -> &Module {
        &self.m
    }

    pub(crate) fn err(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::new(Severity::Invalid, code, span, msg));
    }
    /// Reports a construct outside muni's subset; inside a function, only the first.
    pub(crate) fn unsupported(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        if self.fn_unsupported.is_some() {
            return;
        }
        let msg = msg.into();
        if self.in_func {
            self.fn_unsupported = Some(msg.clone());
        }
        self.diags
            .push(Diagnostic::new(Severity::Unsupported, code, span, msg));
    }

    /// Whether a diagnostic other than `unsupported` was reported after the first `n`.
    pub(crate) fn invalid_since(&self, n: usize) -> bool {
        self.diags[n..]
            .iter()
            .any(|d| d.severity != Severity::Unsupported)
    }

    pub(crate) fn define(&mut self, id: &Ident, e: Entity) -> bool {
        if let Some((_, first)) = self.names.get(&id.name) {
            let d = Diagnostic::new(
                Severity::Invalid,
                "duplicate-name",
                id.span,
                format!("{} is defined twice", id.name),
            )
            .with_note(*first, "first defined here");
            self.diags.push(d);
            return false;
        }
        self.names.insert(id.name.clone(), (e, id.span));
        let n = u32::try_from(self.m.names.len() + 1).unwrap_or(u32::MAX);
        let bare = Name::new(id.name.as_str().trim_start_matches('@'));
        self.m.names.push(bare.clone());
        self.m.ids.insert(bare, n);
        true
    }

    pub(crate) fn lookup(&mut self, id: &Ident) -> Option<Entity> {
        match self.names.get(&id.name) {
            Some((e, _)) => Some(*e),
            None if self.is_builtin(id) => {
                self.unsupported(
                    "unsupported-builtin",
                    id.span,
                    format!(
                        "{} is predefined by full Mu, outside the subset muni executes",
                        id.name
                    ),
                );
                None
            }
            None => {
                self.err(
                    "undefined-name",
                    id.span,
                    format!("{} is not defined", id.name),
                );
                None
            }
        }
    }

    /// Whether `id` names an entity full Mu predefines (under `@uvm.`, such as
    /// `@uvm.meta.bytes`) that the bundle does not define.
    pub(crate) fn is_builtin(&self, id: &Ident) -> bool {
        !self.names.contains_key(&id.name) && id.name.as_str().starts_with("uvm.")
    }

    /// The type of a type full Mu predefines: outside the subset, like `stackref`, so
    /// that whatever uses it is unsupported while the rest of the bundle loads.
    fn builtin_type(&mut self) -> TypeId {
        if let Some(t) = self.builtin {
            return t;
        }
        let t = self.m.types.anon(Type::Other(BUILTIN));
        self.builtin = Some(t);
        t
    }

    pub(crate) fn type_ref(&mut self, id: &Ident) -> Option<TypeId> {
        let Some(e) = self.lookup(id) else {
            // `lookup` reported it; a predefined type still has a type.
            return self.is_builtin(id).then(|| self.builtin_type());
        };
        match e {
            Entity::Type(t) => Some(t),
            e => {
                self.err(
                    "wrong-kind",
                    id.span,
                    format!("{} is {}, not a type", id.name, e.kind()),
                );
                None
            }
        }
    }

    pub(crate) fn sig_ref(&mut self, id: &Ident) -> Option<SigId> {
        match self.lookup(id)? {
            Entity::Sig(s) => Some(s),
            e => {
                self.err(
                    "wrong-kind",
                    id.span,
                    format!("{} is {}, not a function signature", id.name, e.kind()),
                );
                None
            }
        }
    }

    fn run(&mut self, b: &Bundle) {
        // What earlier bundles loaded: their functions may get new versions here.
        let funcs_before = self.m.funcs.len();
        let consts_before = self.m.consts.len();
        // 1. Names, and ids for every type and signature so that forward references resolve.
        for d in &b.defs {
            match d {
                TopLevel::TypeDef { name, .. } => {
                    let id = self
                        .m
                        .types
                        .push(Type::Void, name.name.as_str().to_string());
                    self.define(name, Entity::Type(id));
                }
                TopLevel::FuncSig { name, .. } => {
                    let id = self
                        .m
                        .types
                        .push_sig(Sig::default(), name.name.as_str().to_string());
                    self.define(name, Entity::Sig(id));
                }
                TopLevel::Const {
                    name,
                    ty,
                    value,
                    span,
                } => {
                    let id = u32::try_from(self.m.consts.len()).unwrap_or(u32::MAX);
                    self.m.consts.push(Const {
                        name: name.name.clone(),
                        ty: 0,
                        value: ConstValue::Null,
                    });
                    self.const_defs
                        .push(Some((name.clone(), ty.clone(), value.clone(), *span)));
                    self.const_state.push(0);
                    self.define(name, Entity::Const(id));
                }
                TopLevel::Global { name, .. } => {
                    let id = u32::try_from(self.m.globals.len()).unwrap_or(u32::MAX);
                    self.m.globals.push(Global {
                        name: name.name.clone(),
                        ty: 0,
                    });
                    self.m.global_index.insert(name.name.clone(), id);
                    self.define(name, Entity::Global(id));
                }
                TopLevel::FuncDecl { name, .. } | TopLevel::FuncDef(ast::FuncDef { name, .. }) => {
                    // A function may be declared and defined; it is one entity. A
                    // later bundle may give it a new version, but not declare it
                    // again (uvm-ir.rest, "Function Definition and Declaration").
                    if let Some((Entity::Func(f), first)) = self.names.get(&name.name).copied() {
                        if f as usize >= funcs_before || matches!(d, TopLevel::FuncDef(_)) {
                            continue;
                        }
                        let d = Diagnostic::new(
                            Severity::Invalid,
                            "duplicate-name",
                            name.span,
                            format!("{} is declared by an earlier bundle", name.name),
                        )
                        .with_note(first, "first defined here");
                        self.diags.push(d);
                        continue;
                    }
                    let id = u32::try_from(self.m.funcs.len()).unwrap_or(u32::MAX);
                    self.m.funcs.push(Func {
                        name: name.name.clone(),
                        sig: SigId::MAX,
                        body: None,
                        unsupported: None,
                    });
                    self.m.func_index.insert(name.name.clone(), id);
                    self.define(name, Entity::Func(id));
                }
                TopLevel::Expose { name, .. } => {
                    let id = u32::try_from(self.m.exposes.len()).unwrap_or(u32::MAX);
                    self.m.exposes.push(Expose {
                        name: name.name.clone(),
                        func: 0,
                        cookie: 0,
                    });
                    self.define(name, Entity::Expose(id));
                }
            }
        }
        // 2. Types and signatures.
        for d in &b.defs {
            match d {
                TopLevel::TypeDef { name, ctor, .. } => self.resolve_type(name, ctor),
                TopLevel::FuncSig {
                    name, params, rets, ..
                } => self.resolve_sig(name, params, rets),
                _ => {}
            }
        }
        if self.invalid_since(0) {
            return;
        }
        for d in &b.defs {
            if let TopLevel::TypeDef { name, .. } = d {
                self.check_type(name);
            }
            if let TopLevel::FuncSig {
                name, params, rets, ..
            } = d
            {
                for p in params.iter().chain(rets) {
                    if let Some(t) = self.type_ref(p) {
                        self.check_value_type(t, p.span, "a parameter or return value");
                    }
                }
                let _ = name;
            }
        }
        if self.invalid_since(0) {
            return;
        }
        // 3. Globals and function signatures (list constants may name them).
        let mut decl_sig: HashMap<Name, (SigId, Span)> = HashMap::default();
        for f in &self.m.funcs[..funcs_before] {
            if f.sig != SigId::MAX
                && let Some((_, span)) = self.names.get(&f.name)
            {
                decl_sig.insert(f.name.clone(), (f.sig, *span));
            }
        }
        for d in &b.defs {
            match d {
                TopLevel::Global { name, ty, .. } => {
                    if let Some(t) = self.type_ref(ty) {
                        self.check_memory_type(t, ty.span, "a global cell");
                        if let Some(Entity::Global(g)) = self.names.get(&name.name).map(|e| e.0) {
                            self.m.globals[g as usize].ty = t;
                        }
                    }
                }
                TopLevel::FuncDecl { name, sig, .. }
                | TopLevel::FuncDef(ast::FuncDef { name, sig, .. }) => {
                    let Some(s) = self.sig_ref(sig) else {
                        if self.is_builtin(sig)
                            && let Some(Entity::Func(f)) = self.names.get(&name.name).map(|e| e.0)
                        {
                            // The function cannot run; an empty signature under the
                            // predefined name keeps every function's signature valid.
                            let s = self
                                .m
                                .types
                                .push_sig(Sig::default(), sig.name.as_str().to_string());
                            let f = &mut self.m.funcs[f as usize];
                            f.sig = s;
                            f.unsupported = Some(format!(
                                "its signature {} is predefined by full Mu",
                                sig.name
                            ));
                        }
                        continue;
                    };
                    if let Some((first, span)) = decl_sig.get(&name.name).copied() {
                        if !self.m.types.same_sig(first, s) {
                            let d = Diagnostic::new(
                                Severity::Invalid,
                                "signature-mismatch",
                                sig.span,
                                format!(
                                    "{} was given the signature {} before",
                                    name.name,
                                    self.m.types.show_sig(first)
                                ),
                            )
                            .with_note(span, "first given here");
                            self.diags.push(d);
                        }
                    } else {
                        decl_sig.insert(name.name.clone(), (s, sig.span));
                    }
                    if let Some(Entity::Func(f)) = self.names.get(&name.name).map(|e| e.0) {
                        self.m.funcs[f as usize].sig = s;
                    }
                }
                _ => {}
            }
        }
        // 4. Constants, then exposes (their cookies are constants).
        for i in consts_before..self.m.consts.len() {
            self.eval_const(u32::try_from(i).unwrap_or(u32::MAX));
        }
        for d in &b.defs {
            if let TopLevel::Expose {
                name,
                func,
                cc,
                cookie,
                ..
            } = d
            {
                self.check_expose(name, func, cc, cookie);
            }
        }
        // 5. Function bodies (constants that did not check have the error type, so
        // their uses report nothing more).
        let mut defined: HashMap<Name, Span> = HashMap::default();
        for d in &b.defs {
            if let TopLevel::FuncDef(f) = d {
                if let Some(first) = defined.get(&f.name.name) {
                    let d = Diagnostic::new(
                        Severity::Invalid,
                        "duplicate-name",
                        f.name.span,
                        format!("{} has two versions in one bundle", f.name.name),
                    )
                    .with_note(*first, "first defined here");
                    self.diags.push(d);
                    continue;
                }
                defined.insert(f.name.name.clone(), f.name.span);
                if let Some(Entity::Func(id)) = self.names.get(&f.name.name).map(|e| e.0)
                    && (id as usize) < funcs_before
                {
                    self.redefine(id);
                }
                self.check_func(f);
            }
        }
    }

    fn check_expose(&mut self, name: &Ident, func: &Ident, cc: &ast::Flag, cookie: &Ident) {
        let Some(Entity::Expose(e)) = self.names.get(&name.name).map(|e| e.0) else {
            return;
        };
        if &*cc.name != "DEFAULT" {
            self.unsupported(
                "unsupported-flag",
                cc.span,
                format!("calling convention #{} (muni has #DEFAULT)", cc.name),
            );
        }
        let f = match self.lookup(func) {
            Some(Entity::Func(f)) => f,
            Some(other) => {
                return self.err(
                    "wrong-kind",
                    func.span,
                    format!("{} is {}, not a function", func.name, other.kind()),
                );
            }
            None => return,
        };
        let c = match self.lookup(cookie) {
            Some(Entity::Const(c)) => c,
            Some(other) => {
                return self.err(
                    "wrong-kind",
                    cookie.span,
                    format!("{} is {}, not a constant", cookie.name, other.kind()),
                );
            }
            None => return,
        };
        if self.m.types.int_width(self.m.consts[c as usize].ty) != Some(64) {
            self.err(
                "type-mismatch",
                cookie.span,
                "a cookie is an int<64> constant",
            );
        }
        let sig = self.m.funcs[f as usize].sig;
        if sig == SigId::MAX {
            return; // Its signature did not resolve; that is reported already.
        }
        let s = self.m.types.sig(sig).clone();
        if !s
            .params
            .iter()
            .chain(&s.rets)
            .all(|t| self.m.types.native_safe(*t))
        {
            self.err(
                "not-native-safe",
                func.span,
                format!("{} has a signature that is not native-safe", func.name),
            );
        }
        self.m.exposes[e as usize].func = f;
        self.m.exposes[e as usize].cookie = c;
    }

    /// The static type of a global SSA variable used as an operand.
    pub(crate) fn global_operand(&mut self, id: &Ident) -> Option<(Operand, TypeId)> {
        match self.lookup(id)? {
            Entity::Const(c) => Some((Operand::Const(c), self.m.consts[c as usize].ty)),
            Entity::Global(g) => {
                let t = self.m.globals[g as usize].ty;
                Some((Operand::Global(g), self.m.types.anon(Type::IRef(t))))
            }
            Entity::Func(f) => {
                let s = self.m.funcs[f as usize].sig;
                let t = if s == SigId::MAX {
                    Type::Other(POISON)
                } else {
                    Type::FuncRef(s)
                };
                Some((Operand::Func(f), self.m.types.anon(t)))
            }
            Entity::Expose(e) => {
                let f = self.m.exposes[e as usize].func;
                let s = self.m.funcs.get(f as usize).map_or(SigId::MAX, |f| f.sig);
                let t = if s == SigId::MAX {
                    Type::Other(POISON)
                } else {
                    Type::UFuncPtr(s)
                };
                Some((Operand::Expose(e), self.m.types.anon(t)))
            }
            Entity::Local => {
                self.err(
                    "not-in-scope",
                    id.span,
                    format!("{} is a local value of another block (values are block-local: pass it as a block argument)", id.name),
                );
                None
            }
            e => {
                self.err(
                    "wrong-kind",
                    id.span,
                    format!("{} is {}, not a value", id.name, e.kind()),
                );
                None
            }
        }
    }

    fn eval_const(&mut self, c: ConstId) -> Option<TypeId> {
        match self.const_state[c as usize] {
            2 => return Some(self.m.consts[c as usize].ty),
            1 => {
                let (name, ..) = self.const_defs[c as usize].clone()?;
                self.err(
                    "recursive-constant",
                    name.span,
                    format!("{} is defined in terms of itself", name.name),
                );
                self.const_state[c as usize] = 3;
                return None;
            }
            3 => return None,
            _ => {}
        }
        self.const_state[c as usize] = 1;
        let Some((_, ty, ctor, span)) = self.const_defs[c as usize].clone() else {
            return Some(self.m.consts[c as usize].ty);
        };
        let r = self.const_value(&ty, &ctor, span);
        match r {
            Some((t, v)) => {
                self.m.consts[c as usize].ty = t;
                self.m.consts[c as usize].value = v;
                self.const_state[c as usize] = 2;
                Some(t)
            }
            None => {
                self.const_state[c as usize] = 3;
                self.m.consts[c as usize].ty = self.m.types.anon(Type::Other(POISON));
                None
            }
        }
    }

    fn const_value(
        &mut self,
        ty: &Ident,
        ctor: &ast::ConstCtor,
        span: Span,
    ) -> Option<(TypeId, ConstValue)> {
        use ast::ConstCtor as C;
        let t = self.type_ref(ty)?;
        let show = self.m.types.show(t);
        let mismatch = |v: &mut Verifier, what: &str| {
            v.err(
                "const-type-mismatch",
                span,
                format!("{} is not a constant of {show}", what),
            );
            None
        };
        let tyv = self.m.types.get(t).clone();
        match (ctor, &tyv) {
            (C::Int(i), Type::Int(n)) => {
                let n = *n;
                let lo = -(1i128 << (n - 1));
                let hi = (1i128 << n) - 1;
                if *i < lo || *i > hi {
                    self.err(
                        "int-out-of-range",
                        span,
                        format!("{i} does not fit in int<{n}>"),
                    );
                    return None;
                }
                let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                // Two's complement of the literal, truncated to n bits.
                Some((t, ConstValue::Int((*i as u64) & mask)))
            }
            (C::Int(i), Type::UPtr(_) | Type::UFuncPtr(_)) => {
                if *i < i128::from(i64::MIN) || *i > i128::from(u64::MAX) {
                    self.err(
                        "int-out-of-range",
                        span,
                        format!("{i} is not a 64-bit address"),
                    );
                    return None;
                }
                Some((t, ConstValue::Int(*i as u64)))
            }
            (C::Float(b), Type::Float) => Some((t, ConstValue::Float(*b))),
            (C::Double(b), Type::Double) => Some((t, ConstValue::Double(*b))),
            (
                C::Null,
                Type::Ref(_)
                | Type::IRef(_)
                | Type::FuncRef(_)
                | Type::StackRef
                | Type::ThreadRef
                | Type::Other(_),
            ) => Some((t, ConstValue::Null)),
            (C::Null, Type::UPtr(_) | Type::UFuncPtr(_)) => Some((t, ConstValue::Int(0))),
            (C::Extern(s), Type::UPtr(_) | Type::UFuncPtr(_)) => {
                if s.is_empty() || s.contains('\0') {
                    self.err(
                        "bad-extern",
                        span,
                        "an EXTERN symbol name is a non-empty C identifier",
                    );
                    return None;
                }
                Some((t, ConstValue::Extern(s.clone())))
            }
            (C::Extern(_), _) => {
                self.err(
                    "extern-not-pointer",
                    span,
                    format!("EXTERN constants are uptr or ufuncptr, not {show}"),
                );
                None
            }
            (C::List(elems), Type::Struct(fs)) => {
                if elems.len() != fs.len() {
                    self.err(
                        "arity",
                        span,
                        format!(
                            "{show} has {} fields, the constant gives {}",
                            fs.len(),
                            elems.len()
                        ),
                    );
                    return None;
                }
                let ids = self.const_elems(elems, fs)?;
                Some((t, ConstValue::List(ids)))
            }
            (C::List(elems), Type::Array(e, n)) => {
                if elems.len() as u64 != *n {
                    self.err(
                        "arity",
                        span,
                        format!(
                            "{show} has {n} elements, the constant gives {}",
                            elems.len()
                        ),
                    );
                    return None;
                }
                let fs = vec![*e; elems.len()];
                let ids = self.const_elems(elems, &fs)?;
                Some((t, ConstValue::List(ids)))
            }
            (C::List(elems), Type::Other(_)) => {
                // Vector constants: check that the elements are constants, no more.
                for e in elems {
                    if let Some(Entity::Const(c)) = self.lookup(e) {
                        self.eval_const(c);
                    }
                }
                Some((t, ConstValue::Null))
            }
            (_, Type::Other(BUILTIN)) => {
                // A constant of a type full Mu predefines: unsupported where used.
                Some((t, ConstValue::Null))
            }
            (C::Int(_) | C::WideInt(..), Type::Other(WIDE_INT)) => {
                // A constant of a wide int: accepted, and unsupported where it is used.
                Some((t, ConstValue::Null))
            }
            (C::WideInt(neg, v), Type::Int(n)) => {
                let sign = if *neg { "-" } else { "" };
                self.err(
                    "int-out-of-range",
                    span,
                    format!("{sign}{v} does not fit in int<{n}>"),
                );
                None
            }
            (C::Int(_) | C::WideInt(..), _) => mismatch(self, "an integer literal"),
            (C::Float(_), _) => mismatch(self, "a float literal"),
            (C::Double(_), _) => mismatch(self, "a double literal"),
            (C::Null, _) => mismatch(self, "NULL"),
            (C::List(_), _) => mismatch(self, "a list"),
        }
    }

    /// A constant of an element of a list constant that names a global cell or a
    /// function (it has the entity's name and is evaluated already).
    fn element_const(&mut self, e: &Ident, ty: TypeId, value: ConstValue) -> ConstId {
        let c = u32::try_from(self.m.consts.len()).unwrap_or(u32::MAX);
        self.m.consts.push(Const {
            name: e.name.clone(),
            ty,
            value,
        });
        self.const_defs.push(None);
        self.const_state.push(2);
        c
    }

    /// A new version of function `f`, which an earlier bundle defined or declared:
    /// the old body goes (frames running it keep their own copy), and so does a
    /// reason the old version could not run, unless its signature is the reason.
    fn redefine(&mut self, f: FuncId) {
        let func = &mut self.m.funcs[f as usize];
        func.body = None;
        if func
            .unsupported
            .as_deref()
            .is_some_and(|why| !why.starts_with("its signature"))
        {
            func.unsupported = None;
        }
    }

    fn const_elems(&mut self, elems: &[Ident], fs: &[TypeId]) -> Option<Vec<ConstId>> {
        let mut ids = Vec::new();
        for (e, f) in elems.iter().zip(fs) {
            let c = match self.lookup(e)? {
                Entity::Const(c) => c,
                // uvm-ir.rest, "Constant Definition": a struct or array constant's
                // elements may be global cells (their irefs) and functions (their
                // funcrefs), as in `{@g1 @f1}`. Each becomes an element constant.
                Entity::Global(g) => {
                    let t = self.m.globals[g as usize].ty;
                    let t = self.m.types.anon(Type::IRef(t));
                    self.element_const(e, t, ConstValue::Global(g))
                }
                Entity::Func(f) => {
                    let s = self.m.funcs[f as usize].sig;
                    if s == SigId::MAX {
                        return None;
                    }
                    let t = self.m.types.anon(Type::FuncRef(s));
                    self.element_const(e, t, ConstValue::Func(f))
                }
                other => {
                    self.err(
                        "wrong-kind",
                        e.span,
                        format!("{} is {}, not a constant", e.name, other.kind()),
                    );
                    return None;
                }
            };
            let ct = self.eval_const(c)?;
            if !self.m.types.same(ct, *f) {
                let (a, b) = (self.m.types.show(ct), self.m.types.show(*f));
                self.err(
                    "type-mismatch",
                    e.span,
                    format!("{} has type {a}, the field needs {b}", e.name),
                );
                return None;
            }
            ids.push(c);
        }
        Some(ids)
    }
}
