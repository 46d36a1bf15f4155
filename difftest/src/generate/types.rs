//! The generator's types and the declarations a program needs: every type,
//! signature and constant is written once, under a name, in the order in which it
//! was first needed (so that what it names comes first). Types the prelude
//! declares keep the prelude's names.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::fmt::Write;

/// A Mu type, as the generator builds them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    /// `int<n>`, 1 ≤ n ≤ 64.
    Int(u32),
    /// `float`.
    Float,
    /// `double`.
    Double,
    /// `void` (only behind references).
    Void,
    /// `ref<T>`.
    Ref(Box<Ty>),
    /// `iref<T>`.
    IRef(Box<Ty>),
    /// `uptr<T>`.
    UPtr(Box<Ty>),
    /// `ufuncptr<sig>`.
    UFuncPtr(Box<Sig>),
    /// `funcref<sig>`.
    FuncRef(Box<Sig>),
    /// `struct<…>`.
    Struct(Vec<Ty>),
    /// `array<T n>`.
    Array(Box<Ty>, u64),
    /// `hybrid<fixed… var>`.
    Hybrid(Vec<Ty>, Box<Ty>),
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sig {
    /// Parameter types.
    pub params: Vec<Ty>,
    /// Result types.
    pub rets: Vec<Ty>,
}

impl Ty {
    /// `int<64>`.
    pub const I64: Ty = Ty::Int(64);

    /// `ref<T>`.
    pub fn r#ref(t: Ty) -> Ty {
        Ty::Ref(Box::new(t))
    }

    /// `iref<T>`.
    pub fn iref(t: Ty) -> Ty {
        Ty::IRef(Box::new(t))
    }

    /// The int width, for `int<n>`.
    pub fn width(&self) -> Option<u32> {
        match self {
            Ty::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// `float` or `double`.
    pub fn is_fp(&self) -> bool {
        matches!(self, Ty::Float | Ty::Double)
    }

    /// Has a constant of every value: ints, floats, and NULL of reference and
    /// pointer types, and aggregates of those.
    pub fn has_constants(&self) -> bool {
        match self {
            Ty::Void | Ty::Hybrid(..) => false,
            Ty::Struct(fs) => fs.iter().all(Ty::has_constants),
            Ty::Array(e, _) => e.has_constants(),
            _ => true,
        }
    }

    /// Holds a reference the collector traces (in place, not behind a pointer).
    pub fn holds_refs(&self) -> bool {
        match self {
            Ty::Ref(_) | Ty::IRef(_) => true,
            Ty::Struct(fs) | Ty::Hybrid(fs, _) if fs.iter().any(Ty::holds_refs) => true,
            Ty::Hybrid(_, v) => v.holds_refs(),
            Ty::Array(e, _) => e.holds_refs(),
            _ => false,
        }
    }

    /// Native-safe: no traced reference anywhere inside (CCALL, pinning and PTR
    /// accesses need it).
    pub fn native_safe(&self) -> bool {
        match self {
            Ty::Ref(_) | Ty::IRef(_) | Ty::FuncRef(_) => false,
            Ty::UPtr(t) => t.native_safe(),
            Ty::UFuncPtr(s) => s.params.iter().chain(&s.rets).all(Ty::native_safe),
            Ty::Struct(fs) => fs.iter().all(Ty::native_safe),
            Ty::Array(e, _) => e.native_safe(),
            Ty::Hybrid(fs, v) => fs.iter().all(Ty::native_safe) && v.native_safe(),
            _ => true,
        }
    }

    /// The scalar leaves in order (a scalar is its own).
    pub fn leaves(&self) -> usize {
        match self {
            Ty::Struct(fs) => fs.iter().map(Ty::leaves).sum(),
            Ty::Array(e, n) => e.leaves() * usize::try_from(*n).unwrap_or(0),
            _ => 1,
        }
    }

    /// A short key for statistics: `i37`, `float`, `ref`, `struct`, …
    pub fn kind(&self) -> String {
        match self {
            Ty::Int(n) => format!("i{n}"),
            Ty::Float => "float".into(),
            Ty::Double => "double".into(),
            Ty::Void => "void".into(),
            Ty::Ref(_) => "ref".into(),
            Ty::IRef(_) => "iref".into(),
            Ty::UPtr(_) => "uptr".into(),
            Ty::UFuncPtr(_) => "ufuncptr".into(),
            Ty::FuncRef(_) => "funcref".into(),
            Ty::Struct(_) => "struct".into(),
            Ty::Array(..) => "array".into(),
            Ty::Hybrid(..) => "hybrid".into(),
        }
    }
}

/// The declarations of one program: names for types, signatures and constants,
/// and their text in the order they were made.
#[derive(Clone, Debug, Default)]
pub struct Decls {
    /// Names of the definitions written so far, by their definition text
    /// (`int<64>` → `@i64`), the prelude's included.
    by_def: HashMap<String, String>,
    /// Every name taken, the prelude's included.
    taken: HashSet<String>,
    types: HashMap<Ty, std::sync::Arc<str>>,
    sigs: HashMap<Sig, std::sync::Arc<str>>,
    consts: HashMap<(std::sync::Arc<str>, String), String>,
    /// Declarations made for this program, in order.
    pub text: String,
    n: usize,
}

impl Decls {
    /// Declarations that start from the prelude's `.typedef`, `.funcsig` and
    /// `.const` lines, whose names the program then uses for the same definitions.
    pub fn with_prelude(prelude: &str) -> Decls {
        let mut d = Decls::default();
        for line in prelude.lines() {
            let line = line.trim();
            let (kind, rest) = match line.split_once(' ') {
                Some(x) => x,
                None => continue,
            };
            let key = match kind {
                ".typedef" | ".funcsig" => rest
                    .split_once(" = ")
                    .map(|(n, def)| (n.to_string(), format!("{kind} {}", def.trim()))),
                ".const" => rest
                    .split_once(' ')
                    .map(|(n, def)| (n.to_string(), format!(".const {}", def.trim()))),
                _ => None,
            };
            if let Some((name, def)) = key {
                d.taken.insert(name.clone());
                d.by_def.entry(def).or_insert(name);
            }
        }
        d
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("@{prefix}{}", self.n)
    }

    /// The name of a definition `kind def` (`.typedef int<64>`), made if new.
    fn named(&mut self, kind: &str, def: &str, prefix: &str) -> String {
        let key = format!("{kind} {def}");
        if let Some(n) = self.by_def.get(&key) {
            return n.clone();
        }
        let name = match (kind, def.strip_prefix("int<")) {
            (".typedef", Some(w)) => format!("@i{}", w.trim_end_matches('>')),
            _ => self.fresh(prefix),
        };
        let name = if self.taken.contains(&name) {
            self.fresh(prefix)
        } else {
            name
        };
        self.taken.insert(name.clone());
        match kind {
            ".const" => {
                let (ty, value) = def.split_once(" = ").unwrap_or((def, "0"));
                let _ = writeln!(self.text, ".const {name} {ty} = {value}");
            }
            _ => {
                let _ = writeln!(self.text, "{kind} {name} = {def}");
            }
        }
        self.by_def.insert(key, name.clone());
        name
    }

    /// The name of type `t` (`@i64`, `@t12`).
    pub fn ty(&mut self, t: &Ty) -> std::sync::Arc<str> {
        if let Some(n) = self.types.get(t) {
            return n.clone();
        }
        let def = match t {
            Ty::Int(n) => format!("int<{n}>"),
            Ty::Float => "float".into(),
            Ty::Double => "double".into(),
            Ty::Void => "void".into(),
            Ty::Ref(x) => format!("ref<{}>", self.ty(x)),
            Ty::IRef(x) => format!("iref<{}>", self.ty(x)),
            Ty::UPtr(x) => format!("uptr<{}>", self.ty(x)),
            Ty::UFuncPtr(s) => format!("ufuncptr<{}>", self.sig(s)),
            Ty::FuncRef(s) => format!("funcref<{}>", self.sig(s)),
            Ty::Struct(fs) => {
                let names: Vec<std::sync::Arc<str>> = fs.iter().map(|f| self.ty(f)).collect();
                format!("struct<{}>", names.join(" "))
            }
            Ty::Array(e, n) => format!("array<{} {n}>", self.ty(e)),
            Ty::Hybrid(fs, v) => {
                let mut names: Vec<std::sync::Arc<str>> = fs.iter().map(|f| self.ty(f)).collect();
                names.push(self.ty(v));
                format!("hybrid<{}>", names.join(" "))
            }
        };
        let name: std::sync::Arc<str> = self.named(".typedef", &def, "t").into();
        self.types.insert(t.clone(), name.clone());
        name
    }

    /// The name of signature `s`.
    pub fn sig(&mut self, s: &Sig) -> std::sync::Arc<str> {
        if let Some(n) = self.sigs.get(s) {
            return n.clone();
        }
        let ps: Vec<std::sync::Arc<str>> = s.params.iter().map(|t| self.ty(t)).collect();
        let rs: Vec<std::sync::Arc<str>> = s.rets.iter().map(|t| self.ty(t)).collect();
        let def = format!("({}) -> ({})", ps.join(" "), rs.join(" "));
        let name: std::sync::Arc<str> = self.named(".funcsig", &def, "s").into();
        self.sigs.insert(s.clone(), name.clone());
        name
    }

    /// A constant of type `t` whose value is written `value` (`5`, `1.5d`, `NULL`,
    /// `{@k1 @k2}`, `EXTERN "sym"`).
    pub fn konst(&mut self, t: &Ty, value: &str) -> String {
        let tn = self.ty(t);
        let key = (tn.clone(), value.to_string());
        if let Some(n) = self.consts.get(&key) {
            return n.clone();
        }
        let name = self.named(".const", &format!("<{tn}> = {value}"), "k");
        self.consts.insert(key, name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_come_once_in_dependency_order_and_reuse_the_prelude() {
        let mut d =
            Decls::with_prelude(".typedef @i64 = int<64>\n.typedef @S1 = struct<@i64 @i8>\n");
        let s = Ty::Struct(vec![Ty::I64, Ty::Int(8)]);
        assert_eq!(&*d.ty(&Ty::I64), "@i64");
        let i8n = d.ty(&Ty::Int(8));
        assert_eq!(&*i8n, "@i8");
        assert_eq!(&*d.ty(&s), "@S1");
        let r = d.ty(&Ty::r#ref(Ty::Struct(vec![Ty::Double])));
        assert_eq!(d.ty(&Ty::r#ref(Ty::Struct(vec![Ty::Double]))), r);
        let k = d.konst(&Ty::I64, "5");
        assert_eq!(d.konst(&Ty::I64, "5"), k);
        let text = &d.text;
        let pos = |needle: &str| text.find(needle).unwrap_or(usize::MAX);
        assert!(pos("= double") < pos("= struct<"), "{text}");
        assert!(pos("= struct<") < pos("= ref<"), "{text}");
        assert!(!text.contains("int<64>"), "{text}");
    }
}
