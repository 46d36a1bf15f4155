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

/// An object's storage: zeroed bytes whose start is 16-aligned, so that the address
/// of a pinned object suits any C type.
#[derive(Clone, Debug, Default)]
pub struct Storage {
    buf: Vec<u8>,
    base: usize,
    len: usize,
}

impl Storage {
    /// `len` zeroed bytes.
    pub fn zeroed(len: usize) -> Storage {
        let buf = vec![0u8; len + 15];
        let base = buf.as_ptr().align_offset(16).min(15);
        Storage { buf, base, len }
    }
    /// A copy of `other` at a new address.
    pub fn moved_from(other: &Storage) -> Storage {
        let mut s = Storage::zeroed(other.len);
        s.bytes_mut().copy_from_slice(other.bytes());
        s
    }
    /// The contents.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[self.base..self.base + self.len]
    }
    /// The contents, for writing.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.base..self.base + self.len]
    }
    /// The address of the first byte.
    pub fn addr(&self) -> u64 {
        self.buf.as_ptr() as u64 + self.base as u64
    }
    /// The number of bytes.
    pub fn len(&self) -> u64 {
        self.len as u64
    }
    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
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
    pub bytes: Storage,
    /// Reference-typed fields by offset (absent means NULL).
    pub refs: BTreeMap<u64, Value>,
    /// False once an alloca's frame has returned.
    pub live: bool,
    /// Instances of its locations in the pin multiset.
    pub pins: u32,
    /// Whether it was ever pinned (its address may be known outside the model).
    pub exposed: bool,
}

/// All objects of a run, and where their storage is.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    /// Objects by id.
    pub objs: Vec<Obj>,
    /// Start address of each object's current storage.
    ranges: BTreeMap<u64, ObjId>,
    /// Storage that an exposed object left behind when it moved or died, kept so that
    /// its addresses are never reused and stale pointers into it are recognised.
    graves: BTreeMap<u64, (ObjId, Storage)>,
}

/// What an address points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The current storage of an object, at this offset.
    Obj(ObjId, u64),
    /// Storage an object has left (it moved after its last unpin, or died).
    Grave(ObjId, u64),
    /// Memory the model does not own.
    Native,
}

impl Memory {
    /// Allocates a zeroed object.
    pub fn alloc(&mut self, types: &Types, ty: TypeId, var_len: u64, space: Space) -> ObjId {
        let size = layout::alloc_size(types, ty, var_len);
        let id = ObjId::try_from(self.objs.len()).unwrap_or(ObjId::MAX);
        let bytes = Storage::zeroed(usize::try_from(size).unwrap_or(0));
        self.ranges.insert(bytes.addr(), id);
        self.objs.push(Obj {
            ty,
            var_len,
            space,
            bytes,
            refs: BTreeMap::new(),
            live: true,
            pins: 0,
            exposed: false,
        });
        id
    }

    /// Ends an alloca cell's lifetime.
    pub fn kill(&mut self, obj: ObjId) {
        let Some(o) = self.objs.get_mut(obj as usize) else {
            return;
        };
        o.live = false;
        o.refs.clear();
        let old = std::mem::take(&mut o.bytes);
        self.ranges.remove(&old.addr());
        if o.exposed {
            self.graves.insert(old.addr(), (obj, old));
        }
    }

    /// Gives an object new storage (its contents copied); the old storage becomes a
    /// grave. What the model does when the last pin of an object goes.
    pub fn relocate(&mut self, obj: ObjId) {
        let o = &mut self.objs[obj as usize];
        let new = Storage::moved_from(&o.bytes);
        let old = std::mem::replace(&mut o.bytes, new);
        self.ranges.remove(&old.addr());
        self.ranges.insert(o.bytes.addr(), obj);
        self.graves.insert(old.addr(), (obj, old));
    }

    /// What `addr` points into.
    pub fn place(&self, addr: u64) -> Place {
        if let Some((start, obj)) = self.ranges.range(..=addr).next_back() {
            let len = self.objs[*obj as usize].bytes.len();
            if addr - start < len.max(1) {
                return Place::Obj(*obj, addr - start);
            }
        }
        if let Some((start, (obj, st))) = self.graves.range(..=addr).next_back()
            && addr - start < st.len().max(1)
        {
            return Place::Grave(*obj, addr - start);
        }
        Place::Native
    }

    /// Whether bytes `[off, off + len)` of an object overlap a reference field.
    pub fn overlaps_ref(&self, types: &Types, obj: ObjId, off: u64, len: u64) -> bool {
        let o = &self.objs[obj as usize];
        let mut refs = Vec::new();
        layout::ref_offsets(types, o.ty, o.var_len, 0, &mut refs);
        refs.iter().any(|r| *r < off + len && off < r + 8)
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
            _ => o.bytes.len(),
        }
    }

    /// Reads a value of type `ty` at a checked location.
    pub fn load(&self, types: &Types, loc: Loc, ty: TypeId) -> Value {
        let o = &self.objs[loc.obj as usize];
        read_in(types, o.bytes.bytes(), &o.refs, loc.off, ty)
    }

    /// Writes a value of type `ty` at a checked location.
    pub fn store(&mut self, types: &Types, loc: Loc, ty: TypeId, v: &Value) {
        let o = &mut self.objs[loc.obj as usize];
        write_in(types, o.bytes.bytes_mut(), &mut o.refs, loc.off, ty, v);
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

/// The value of type `ty` at `off` in `bytes` (native-safe parts) and `refs`
/// (reference fields).
fn read_in(
    types: &Types,
    bytes: &[u8],
    refs: &BTreeMap<u64, Value>,
    off: u64,
    ty: TypeId,
) -> Value {
    match types.get(ty) {
        Type::Int(n) => {
            Value::Int(read_uint(bytes, off, layout::layout(types, ty).size) & mask(*n))
        }
        Type::Float => Value::Float(f32::from_bits(read_uint(bytes, off, 4) as u32)),
        Type::Double => Value::Double(f64::from_bits(read_uint(bytes, off, 8))),
        Type::UPtr(_) | Type::UFuncPtr(_) => Value::Ptr(read_uint(bytes, off, 8)),
        Type::Ref(_)
        | Type::IRef(_)
        | Type::WeakRef(_)
        | Type::FuncRef(_)
        | Type::StackRef
        | Type::ThreadRef
        | Type::Other(_) => refs
            .get(&off)
            .cloned()
            .unwrap_or_else(|| null_of(types, ty)),
        Type::Struct(fs) => {
            let vs: Vec<Value> = fields(types, fs)
                .zip(fs)
                .map(|((fo, _), f)| read_in(types, bytes, refs, off + fo, *f))
                .collect();
            Value::Agg(Rc::from(vs))
        }
        Type::Array(e, n) => {
            let es = layout::layout(types, *e).size;
            let vs: Vec<Value> = (0..*n)
                .map(|i| read_in(types, bytes, refs, off + i * es, *e))
                .collect();
            Value::Agg(Rc::from(vs))
        }
        Type::Void | Type::Hybrid(..) => Value::Agg(Rc::from(Vec::new())),
    }
}

/// Writes `v` of type `ty` at `off`.
fn write_in(
    types: &Types,
    bytes: &mut [u8],
    refs: &mut BTreeMap<u64, Value>,
    off: u64,
    ty: TypeId,
    v: &Value,
) {
    match (types.get(ty), v) {
        (Type::Int(_), Value::Int(b)) | (Type::UPtr(_) | Type::UFuncPtr(_), Value::Ptr(b)) => {
            write_uint(bytes, off, layout::layout(types, ty).size, *b);
        }
        (Type::Float, Value::Float(f)) => write_uint(bytes, off, 4, u64::from(f.to_bits())),
        (Type::Double, Value::Double(d)) => write_uint(bytes, off, 8, d.to_bits()),
        (Type::Struct(fs), Value::Agg(vs)) => {
            let offs: Vec<u64> = fields(types, fs).map(|(fo, _)| fo).collect();
            for ((fo, f), v) in offs.iter().zip(fs.clone()).zip(vs.iter()) {
                write_in(types, bytes, refs, off + fo, f, v);
            }
        }
        (Type::Array(e, _), Value::Agg(vs)) => {
            let (e, es) = (*e, layout::layout(types, *e).size);
            for (i, v) in vs.iter().enumerate() {
                write_in(types, bytes, refs, off + i as u64 * es, e, v);
            }
        }
        (_, Value::Ref(None) | Value::IRef(None) | Value::FuncRef(None)) => {
            refs.remove(&off);
        }
        (_, v) => {
            refs.insert(off, v.clone());
        }
    }
}

/// Decodes a value of a native-safe type from bytes in its native layout.
pub fn decode(types: &Types, bytes: &[u8], off: u64, ty: TypeId) -> Value {
    read_in(types, bytes, &BTreeMap::new(), off, ty)
}

/// Encodes a value of a native-safe type into bytes in its native layout.
pub fn encode(types: &Types, bytes: &mut [u8], off: u64, ty: TypeId, v: &Value) {
    write_in(types, bytes, &mut BTreeMap::new(), off, ty, v);
}

/// The function a `funcref` value names (for messages).
pub fn func_name(m: &crate::ir::Module, f: FuncId) -> String {
    format!("{}", m.funcs[f as usize].name)
}
