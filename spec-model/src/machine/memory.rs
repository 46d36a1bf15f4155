//! Mu memory (spec/05-memory.md): heap objects, global cells and alloca cells,
//! each a byte array in the native layout plus the reference-typed fields, which
//! stay symbolic (a map from offset to reference value).
//!
//! Rules checked on every access: `mem.dead-alloca`, `mem.out-of-bounds`,
//! `mem.type-mismatch` (the location must hold a value of the accessed type).

use super::value::{Loc, ObjId, Value, mask};
use crate::ir::{FuncId, GlobalId, Type, TypeId, Types};
use crate::layout::{self, fields, hybrid_layout};
use crate::rules::RuleId;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Which memory space an object lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// Created by NEW / NEWHYBRID.
    Heap,
    /// A `.global` cell.
    Global(GlobalId),
    /// Created by ALLOCA / ALLOCAHYBRID in the frame at this depth.
    Stack,
}

/// One memory object.
#[derive(Clone, Debug)]
pub struct Obj {
    /// Its type (the allocated type).
    pub ty: TypeId,
    /// Number of variable-part elements (hybrids).
    pub var_len: u64,
    /// Its space.
    pub space: Space,
    /// The native-layout bytes of its non-reference parts.
    pub bytes: Vec<u8>,
    /// Reference-typed fields by offset (absent means NULL).
    pub refs: BTreeMap<u64, Value>,
    /// False once an alloca's frame has returned.
    pub live: bool,
}

/// All objects of a run.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    /// Objects by id.
    pub objs: Vec<Obj>,
}

impl Memory {
    /// Allocates a zeroed object.
    pub fn alloc(&mut self, types: &Types, ty: TypeId, var_len: u64, space: Space) -> ObjId {
        let size = layout::alloc_size(types, ty, var_len);
        let id = ObjId::try_from(self.objs.len()).unwrap_or(ObjId::MAX);
        self.objs.push(Obj {
            ty,
            var_len,
            space,
            bytes: vec![0; usize::try_from(size).unwrap_or(0)],
            refs: BTreeMap::new(),
            live: true,
        });
        id
    }

    /// Ends an alloca cell's lifetime.
    pub fn kill(&mut self, obj: ObjId) {
        if let Some(o) = self.objs.get_mut(obj as usize) {
            o.live = false;
            o.bytes = Vec::new();
            o.refs.clear();
        }
    }

    /// Checks that `loc` may be accessed at type `ty` (`mem.dead-alloca`,
    /// `mem.out-of-bounds`, `mem.type-mismatch`).
    pub fn check(&self, types: &Types, loc: Loc, ty: TypeId) -> Result<(), RuleId> {
        let o = &self.objs[loc.obj as usize];
        if !o.live {
            return Err(RuleId::DeadAlloca);
        }
        let size = layout::layout(types, ty).size;
        if loc
            .off
            .checked_add(size)
            .is_none_or(|end| end > self.end(types, loc.obj))
        {
            return Err(RuleId::OutOfBounds);
        }
        if !holds(types, o.ty, o.var_len, loc.off, ty) {
            return Err(RuleId::TypeMismatch);
        }
        Ok(())
    }

    /// One past the last byte of an object's contents: its size, except that a
    /// hybrid ends with its last element, before any tail padding.
    pub fn end(&self, types: &Types, obj: ObjId) -> u64 {
        let o = &self.objs[obj as usize];
        match types.get(o.ty) {
            Type::Hybrid(fs, v) => {
                let (_, var_off) = hybrid_layout(types, fs, *v, 0);
                var_off + layout::layout(types, *v).size.saturating_mul(o.var_len)
            }
            _ => o.bytes.len() as u64,
        }
    }

    /// Reads a value of type `ty` at a checked location.
    pub fn load(&self, types: &Types, loc: Loc, ty: TypeId) -> Value {
        let o = &self.objs[loc.obj as usize];
        read(types, o, loc.off, ty)
    }

    /// Writes a value of type `ty` at a checked location.
    pub fn store(&mut self, types: &Types, loc: Loc, ty: TypeId, v: &Value) {
        let o = &mut self.objs[loc.obj as usize];
        write(types, o, loc.off, ty, v);
    }
}

/// Does an object of type `obj_ty` hold a value of type `want` at `off`?
fn holds(types: &Types, obj_ty: TypeId, var_len: u64, off: u64, want: TypeId) -> bool {
    if off == 0 && types.same(obj_ty, want) {
        return true;
    }
    match types.get(obj_ty) {
        Type::Struct(fs) => field_holds(types, fs, off, want),
        Type::Array(e, n) => {
            let es = layout::layout(types, *e).size;
            es > 0 && off / es < *n && holds(types, *e, 0, off % es, want)
        }
        Type::Hybrid(fs, v) => {
            let (_, var_off) = hybrid_layout(types, fs, *v, 0);
            let vs = layout::layout(types, *v).size;
            if off >= var_off && vs > 0 && (off - var_off) / vs < var_len {
                holds(types, *v, 0, (off - var_off) % vs, want)
            } else {
                field_holds(types, fs, off, want)
            }
        }
        Type::WeakRef(t) => {
            off == 0 && matches!(types.get(want), Type::Ref(u) if types.same(*u, *t))
        }
        _ => false,
    }
}

fn field_holds(types: &Types, fs: &[TypeId], off: u64, want: TypeId) -> bool {
    fields(types, fs)
        .zip(fs)
        .find(|((o, l), _)| off >= *o && off < o + l.size.max(1))
        .is_some_and(|((o, _), f)| holds(types, *f, 0, off - o, want))
}

fn null_of(types: &Types, ty: TypeId) -> Value {
    match types.get(ty) {
        Type::IRef(_) => Value::IRef(None),
        Type::FuncRef(_) => Value::FuncRef(None),
        _ => Value::Ref(None),
    }
}

fn read_uint(bytes: &[u8], off: u64, size: u64) -> u64 {
    let mut buf = [0u8; 8];
    let (o, s) = (off as usize, size as usize);
    buf[..s].copy_from_slice(&bytes[o..o + s]);
    u64::from_le_bytes(buf)
}

fn write_uint(bytes: &mut [u8], off: u64, size: u64, v: u64) {
    let (o, s) = (off as usize, size as usize);
    bytes[o..o + s].copy_from_slice(&v.to_le_bytes()[..s]);
}

fn read(types: &Types, o: &Obj, off: u64, ty: TypeId) -> Value {
    match types.get(ty) {
        Type::Int(n) => {
            Value::Int(read_uint(&o.bytes, off, layout::layout(types, ty).size) & mask(*n))
        }
        Type::Float => Value::Float(f32::from_bits(read_uint(&o.bytes, off, 4) as u32)),
        Type::Double => Value::Double(f64::from_bits(read_uint(&o.bytes, off, 8))),
        Type::UPtr(_) | Type::UFuncPtr(_) => Value::Ptr(read_uint(&o.bytes, off, 8)),
        Type::Ref(_) | Type::IRef(_) | Type::WeakRef(_) | Type::FuncRef(_) | Type::Other(_) => o
            .refs
            .get(&off)
            .cloned()
            .unwrap_or_else(|| null_of(types, ty)),
        Type::Struct(fs) => {
            let vs: Vec<Value> = fields(types, fs)
                .zip(fs)
                .map(|((fo, _), f)| read(types, o, off + fo, *f))
                .collect();
            Value::Agg(Rc::from(vs))
        }
        Type::Array(e, n) => {
            let es = layout::layout(types, *e).size;
            let vs: Vec<Value> = (0..*n).map(|i| read(types, o, off + i * es, *e)).collect();
            Value::Agg(Rc::from(vs))
        }
        Type::Void | Type::Hybrid(..) => Value::Agg(Rc::from(Vec::new())),
    }
}

fn write(types: &Types, o: &mut Obj, off: u64, ty: TypeId, v: &Value) {
    match (types.get(ty), v) {
        (Type::Int(_), Value::Int(b)) | (Type::UPtr(_) | Type::UFuncPtr(_), Value::Ptr(b)) => {
            write_uint(&mut o.bytes, off, layout::layout(types, ty).size, *b);
        }
        (Type::Float, Value::Float(f)) => write_uint(&mut o.bytes, off, 4, u64::from(f.to_bits())),
        (Type::Double, Value::Double(d)) => write_uint(&mut o.bytes, off, 8, d.to_bits()),
        (Type::Struct(fs), Value::Agg(vs)) => {
            let offs: Vec<u64> = fields(types, fs).map(|(fo, _)| fo).collect();
            for ((fo, f), v) in offs.iter().zip(fs.clone()).zip(vs.iter()) {
                write(types, o, off + fo, f, v);
            }
        }
        (Type::Array(e, _), Value::Agg(vs)) => {
            let (e, es) = (*e, layout::layout(types, *e).size);
            for (i, v) in vs.iter().enumerate() {
                write(types, o, off + i as u64 * es, e, v);
            }
        }
        (_, Value::Ref(None) | Value::IRef(None) | Value::FuncRef(None)) => {
            o.refs.remove(&off);
        }
        (_, v) => {
            o.refs.insert(off, v.clone());
        }
    }
}

/// The function a `funcref` value names (for messages).
pub fn func_name(m: &crate::ir::Module, f: FuncId) -> String {
    format!("{}", m.funcs[f as usize].name)
}
