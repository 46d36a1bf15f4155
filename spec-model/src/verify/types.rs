//! Well-formedness of types (spec/02-types.md).

use super::{BUILTIN, Verifier, WIDE_INT};
use crate::ir::{Sig, Type, TypeId};
use crate::syntax::ast::{Ident, OtherType, Span, TypeCtor};

impl Verifier {
    pub(super) fn resolve_type(&mut self, name: &Ident, ctor: &TypeCtor) {
        let Some(super::Entity::Type(id)) = self.names.get(&name.name).map(|e| e.0) else {
            return;
        };
        let ty = match ctor {
            TypeCtor::Int(n) => Type::Int(*n),
            TypeCtor::Float => Type::Float,
            TypeCtor::Double => Type::Double,
            TypeCtor::Void => Type::Void,
            TypeCtor::Ref(t) => Type::Ref(self.type_ref(t).unwrap_or(id)),
            TypeCtor::IRef(t) => Type::IRef(self.type_ref(t).unwrap_or(id)),
            TypeCtor::WeakRef(t) => Type::WeakRef(self.type_ref(t).unwrap_or(id)),
            TypeCtor::UPtr(t) => Type::UPtr(self.type_ref(t).unwrap_or(id)),
            TypeCtor::Struct(fs) => {
                Type::Struct(fs.iter().map(|f| self.type_ref(f).unwrap_or(id)).collect())
            }
            TypeCtor::Array(t, n) => Type::Array(self.type_ref(t).unwrap_or(id), *n),
            TypeCtor::Hybrid(fs, v) => Type::Hybrid(
                fs.iter().map(|f| self.type_ref(f).unwrap_or(id)).collect(),
                self.type_ref(v).unwrap_or(id),
            ),
            TypeCtor::FuncRef(s) | TypeCtor::UFuncPtr(s) if self.is_builtin(s) => {
                self.lookup(s);
                Type::Other(BUILTIN)
            }
            TypeCtor::FuncRef(s) => Type::FuncRef(self.sig_ref(s).unwrap_or(0)),
            TypeCtor::UFuncPtr(s) => Type::UFuncPtr(self.sig_ref(s).unwrap_or(0)),
            TypeCtor::StackRef => Type::StackRef,
            TypeCtor::ThreadRef => Type::ThreadRef,
            TypeCtor::Other(o) => Type::Other(match o {
                OtherType::FrameCursorRef => "framecursorref",
                OtherType::IrBuilderRef => "irbuilderref",
                OtherType::TagRef64 => "tagref64",
                OtherType::Vector(t, _) => {
                    self.type_ref(t);
                    "vector"
                }
                OtherType::WideInt(_) => WIDE_INT,
            }),
        };
        self.m.types.types[id as usize] = ty;
    }

    pub(super) fn resolve_sig(&mut self, name: &Ident, params: &[Ident], rets: &[Ident]) {
        let Some(super::Entity::Sig(id)) = self.names.get(&name.name).map(|e| e.0) else {
            return;
        };
        let params = params.iter().filter_map(|p| self.type_ref(p)).collect();
        let rets = rets.iter().filter_map(|p| self.type_ref(p)).collect();
        self.m.types.sigs[id as usize] = Sig { params, rets };
    }

    /// `type.no-recursion`, `type.hybrid-placement`, `type.void-placement`,
    /// `type.native-safe-pointer`.
    pub(super) fn check_type(&mut self, name: &Ident) {
        let Some(super::Entity::Type(id)) = self.names.get(&name.name).map(|e| e.0) else {
            return;
        };
        let span = name.span;
        let ty = self.m.types.get(id).clone();
        match &ty {
            Type::Struct(fs) => {
                for f in fs {
                    self.check_memory_type(*f, span, "a struct field");
                }
            }
            Type::Array(e, _) => self.check_memory_type(*e, span, "an array element"),
            Type::Hybrid(fs, v) => {
                for f in fs {
                    self.check_memory_type(*f, span, "a hybrid's fixed part");
                }
                self.check_memory_type(*v, span, "a hybrid's variable part");
            }
            Type::UPtr(t) if !self.m.types.native_safe(*t) => {
                let s = self.m.types.show(*t);
                self.err(
                    "not-native-safe",
                    span,
                    format!("uptr<{s}> is not well-formed: {s} is not native-safe"),
                );
            }
            Type::UFuncPtr(s) => {
                let sig = self.m.types.sig(*s).clone();
                if !sig
                    .params
                    .iter()
                    .chain(&sig.rets)
                    .all(|t| self.m.types.native_safe(*t))
                {
                    let n = self.m.types.show_sig(*s);
                    self.err("not-native-safe", span, format!("ufuncptr<{n}> is not well-formed: {n} has a parameter or result that is not native-safe"));
                }
            }
            _ => {}
        }
        if matches!(ty, Type::Struct(_) | Type::Array(..) | Type::Hybrid(..))
            && self.contains_itself(id)
        {
            self.err(
                "recursive-type",
                span,
                format!(
                    "{} contains itself, so it would be infinitely large",
                    name.name
                ),
            );
        }
    }

    fn contains_itself(&self, root: TypeId) -> bool {
        let mut stack = self.parts(root);
        let mut seen = Vec::new();
        while let Some(t) = stack.pop() {
            if t == root {
                return true;
            }
            if !seen.contains(&t) {
                seen.push(t);
                stack.extend(self.parts(t));
            }
        }
        false
    }

    fn parts(&self, t: TypeId) -> Vec<TypeId> {
        match self.m.types.get(t) {
            Type::Struct(fs) => fs.clone(),
            Type::Array(e, _) => vec![*e],
            Type::Hybrid(fs, v) => fs.iter().copied().chain([*v]).collect(),
            _ => Vec::new(),
        }
    }

    /// A type that memory can hold in a field, element or global cell: not
    /// `void`, not `hybrid` (`type.hybrid-placement`, `type.void-placement`).
    pub(crate) fn check_memory_type(&mut self, t: TypeId, span: Span, what: &str) {
        match self.m.types.get(t) {
            Type::Hybrid(..) => {
                self.err("misplaced-type", span, format!("a hybrid cannot be {what}"))
            }
            Type::Void => self.err("misplaced-type", span, format!("void cannot be {what}")),
            _ => {}
        }
    }

    /// A type an SSA variable can have: not `void`, `hybrid` or `weakref`.
    pub(crate) fn check_value_type(&mut self, t: TypeId, span: Span, what: &str) -> bool {
        let bad = match self.m.types.get(t) {
            Type::Hybrid(..) => "a hybrid",
            Type::Void => "void",
            Type::WeakRef(_) => "a weakref (it types memory only)",
            _ => return true,
        };
        self.err(
            "misplaced-type",
            span,
            format!("{bad} cannot be the type of {what}"),
        );
        false
    }
}
