//! Datatypes: type maps, their flattened form, and pack/unpack.
//!
//! A `Datatype` is described by its size, bounds, and a compact layout tree (see
//! [`layout`]) that pack, unpack and pipelined transfers walk from any byte position of
//! the packed stream, so a transfer can stop and resume in the middle of an element. A
//! type whose element is one block with extent == size is contiguous: it is never packed.
//!
//! Each type also keeps the arguments it was built from ([`Contents`]) for
//! MPI_Type_get_envelope / MPI_Type_get_contents.
//!
//! Module map: `builtin` (the predefined types), `layout` (the tree and its walk),
//! `construct` (every type constructor and the bound rules), `subarray` (subarray and
//! darray), `external32`, `f90` (Fortran-parameterised types, match_size, value_index),
//! `elements` (get_count / get_elements / set_elements arithmetic).

pub mod builtin;
pub use builtin::{Builtin, BUILTINS};
pub mod construct;
pub mod elements;
pub mod external32;
pub mod f90;
pub mod layout;
pub mod subarray;

#[cfg(test)]
mod constructor_tests;

use crate::transport::mem::UserPtr;
use layout::{Elem, Node};
use parking_lot::Mutex;
use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// What a predefined type holds; reductions and external32 dispatch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basic {
    /// MPI_CHAR and MPI_CHARACTER: reduced as signed 8-bit integers, as MPICH does.
    Char,
    /// MPI_WCHAR: no reduction is defined on it (MPI 4.1 §6.9.2, MPICH refuses them all).
    WChar,
    Byte,
    Packed,
    /// MPI_LB / MPI_UB: zero-size markers.
    Marker,
    Bool,
    Logical,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    F32,
    F64,
    /// x87 80-bit extended precision stored in 16 bytes (long double).
    F80,
    C32,
    C64,
    C80,
    PairF32I32,
    PairF64I32,
    PairI64I32,
    PairI16I32,
    PairI32I32,
    PairF80I32,
    PairF32F32,
    PairF64F64,
}

/// MPI_COMBINER_* values (MPICH's).
pub mod combiner {
    pub const NAMED: i32 = 1;
    pub const DUP: i32 = 2;
    pub const CONTIGUOUS: i32 = 3;
    pub const VECTOR: i32 = 4;
    pub const HVECTOR: i32 = 6;
    pub const INDEXED: i32 = 7;
    pub const HINDEXED: i32 = 9;
    pub const INDEXED_BLOCK: i32 = 10;
    pub const STRUCT: i32 = 12;
    pub const SUBARRAY: i32 = 13;
    pub const DARRAY: i32 = 14;
    pub const F90_REAL: i32 = 15;
    pub const F90_COMPLEX: i32 = 16;
    pub const F90_INTEGER: i32 = 17;
    pub const RESIZED: i32 = 18;
    pub const HINDEXED_BLOCK: i32 = 19;
}

/// A component type named in a constructor: a predefined type (kept with its id, which
/// get_contents turns back into the caller's handle) or a derived one (kept alive here even after the user frees
/// its handle).
#[derive(Clone)]
pub enum TypeRef {
    Predefined(Builtin, &'static Datatype),
    Derived(Arc<Datatype>),
}

impl TypeRef {
    pub fn dt(&self) -> &Datatype {
        match self {
            TypeRef::Predefined(_, d) => d,
            TypeRef::Derived(d) => d,
        }
    }
}

/// The arguments a type was built from, laid out as MPI_Type_get_contents returns them.
/// Types built by a large-count (`_c`) constructor put their counts and displacements in
/// `counts`; the others never use `counts`.
#[derive(Clone)]
pub struct Contents {
    pub combiner: i32,
    pub ints: Vec<i32>,
    pub addrs: Vec<i64>,
    pub counts: Vec<i64>,
    pub types: Vec<TypeRef>,
}

impl Contents {
    pub fn named() -> Self {
        Contents::new(combiner::NAMED)
    }

    pub fn new(combiner: i32) -> Self {
        Contents {
            combiner,
            ints: Vec::new(),
            addrs: Vec::new(),
            counts: Vec::new(),
            types: Vec::new(),
        }
    }

    /// True when the type came from a `_c` constructor (its envelope needs the `_c` query).
    pub fn is_large(&self) -> bool {
        !self.counts.is_empty()
    }
}

pub struct Datatype {
    /// Bytes of data in one element.
    pub size: u64,
    pub lb: i64,
    pub ub: i64,
    pub true_lb: i64,
    pub true_ub: i64,
    /// The basic type, when every element of the map is of that one type.
    pub basic: Option<Basic>,
    /// Basic elements in one element (MPI_Get_elements); a pair type counts two.
    pub elements: u64,
    /// Alignment used to pad struct extents (the largest alignment of the basic types).
    pub align: u64,
    /// One element's bytes, in type-map order.
    pub layout: Node,
    contiguous: bool,
    pub contents: Contents,
    pub name: Mutex<String>,
    committed: AtomicBool,
    /// Reserved for the attributes chapter (MPI_Type_set_attr & co.): whatever per-type
    /// attribute store it needs. Nothing in `datatype` reads it.
    pub attributes: Mutex<Option<Box<dyn Any + Send + Sync>>>,
}

impl fmt::Debug for Datatype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Datatype")
            .field("name", &*self.name.lock())
            .field("combiner", &self.contents.combiner)
            .field("size", &self.size)
            .field("lb", &self.lb)
            .field("ub", &self.ub)
            .field("true_lb", &self.true_lb)
            .field("true_ub", &self.true_ub)
            .field("basic", &self.basic)
            .finish()
    }
}

/// The computed shape of a type, before it gets its contents and name.
pub struct Shape {
    pub size: u64,
    pub lb: i64,
    pub ub: i64,
    pub true_lb: i64,
    pub true_ub: i64,
    pub basic: Option<Basic>,
    pub elements: u64,
    pub align: u64,
    pub layout: Node,
}

impl Datatype {
    /// A type with the given shape and constructor arguments: uncommitted, unnamed.
    pub fn from_shape(s: Shape, contents: Contents) -> Self {
        let contiguous =
            s.size == 0 || (s.layout.as_block().is_some() && s.ub - s.lb == s.size as i64);
        Datatype {
            size: s.size,
            lb: s.lb,
            ub: s.ub,
            true_lb: s.true_lb,
            true_ub: s.true_ub,
            basic: s.basic,
            elements: s.elements,
            align: s.align,
            layout: s.layout,
            contiguous,
            contents,
            name: Mutex::new(String::new()),
            committed: AtomicBool::new(false),
            attributes: Mutex::new(None),
        }
    }

    /// The shape of this type (to build another type with the same layout).
    pub fn shape(&self) -> Shape {
        Shape {
            size: self.size,
            lb: self.lb,
            ub: self.ub,
            true_lb: self.true_lb,
            true_ub: self.true_ub,
            basic: self.basic,
            elements: self.elements,
            align: self.align,
            layout: self.layout.clone(),
        }
    }

    #[inline]
    pub fn size(&self) -> u64 {
        self.size
    }

    #[inline]
    pub fn extent(&self) -> i64 {
        self.ub - self.lb
    }

    /// True when `count` elements occupy exactly `count * size` bytes with no gaps, the
    /// data of element `i` starting at `buf + true_lb + i * size`, so they can be copied
    /// without packing.
    #[inline]
    pub fn is_contiguous(&self) -> bool {
        self.contiguous
    }

    /// When the packed stream of `count` elements at `buf` is the plain memory
    /// `[buf + off, buf + off + count * size)`, byte for byte in the same order: `Some(off)`.
    /// This is the one predicate for copying without packing. Having no gaps is not enough:
    /// the type map must also be in increasing memory order (an indexed type with
    /// displacements {2,1,0} has no gaps, but packs reversed), which is what a single
    /// layout block means (blocks merge only when the next one follows in memory). Several
    /// elements also need extent == size (a resized type repeats with a stride).
    #[inline]
    pub fn contiguous_run(&self, count: u64) -> Option<i64> {
        if self.size == 0 || count == 0 {
            return Some(self.true_lb);
        }
        if self.contiguous {
            return Some(self.true_lb);
        }
        match self.layout.as_block() {
            Some((off, _)) if count == 1 => Some(off),
            _ => None,
        }
    }

    /// Predefined types (and the cached Fortran-parameterised ones) cannot be freed.
    pub fn is_predefined(&self) -> bool {
        matches!(
            self.contents.combiner,
            combiner::NAMED | combiner::F90_REAL | combiner::F90_COMPLEX | combiner::F90_INTEGER
        )
    }

    #[inline]
    pub fn is_committed(&self) -> bool {
        self.committed.load(Ordering::Acquire)
    }

    pub fn commit(&self) {
        self.committed.store(true, Ordering::Release);
    }

    /// Copies packed bytes `[offset, offset + out.len())` of the stream formed by `count`
    /// elements at `buf` into `out`. Returns the number of bytes written (less than
    /// `out.len()` only at the end of the stream). With MPI_BOTTOM, `buf` is null and the
    /// type's offsets are absolute addresses.
    pub fn pack(&self, buf: UserPtr, count: u64, offset: u64, out: &mut [u8]) -> usize {
        let mut done = 0usize;
        self.walk(count, offset, out.len() as u64, |src_off, len, pos| {
            buf.read(src_off, &mut out[pos as usize..(pos + len) as usize]);
            done += len as usize;
        });
        done
    }

    /// Scatters `inp` into packed positions `[offset, offset + inp.len())` of the stream
    /// formed by `count` elements at `buf`. Returns the number of bytes consumed.
    pub fn unpack(&self, buf: UserPtr, count: u64, offset: u64, inp: &[u8]) -> usize {
        let mut done = 0usize;
        self.walk(count, offset, inp.len() as u64, |dst_off, len, pos| {
            buf.write(dst_off, &inp[pos as usize..(pos + len) as usize]);
            done += len as usize;
        });
        done
    }

    /// Calls `f(buffer_offset, len, stream_pos_relative)` for each contiguous piece of the
    /// packed byte range `[offset, offset + max)` (clipped to the stream's end). Pieces
    /// that touch in memory are merged, so the calls are as few as the layout allows.
    pub fn walk(&self, count: u64, offset: u64, max: u64, mut f: impl FnMut(i64, u64, u64)) {
        let mut pend: Option<(i64, u64, u64)> = None;
        self.walk_typed(count, offset, max, |off, len, pos, _| {
            if let Some((po, pl, _)) = &mut pend {
                if *po + *pl as i64 == off {
                    *pl += len;
                    return;
                }
            }
            if let Some((po, pl, pp)) = pend.replace((off, len, pos)) {
                f(po, pl, pp);
            }
        });
        if let Some((po, pl, pp)) = pend {
            f(po, pl, pp);
        }
    }

    /// Like [`walk`](Self::walk), without merging, and naming the basic element kind of
    /// each piece (pieces never mix kinds). Used by external32 and get_elements.
    pub fn walk_typed(
        &self,
        count: u64,
        offset: u64,
        max: u64,
        mut f: impl FnMut(i64, u64, u64, Elem),
    ) {
        let total = self.size.saturating_mul(count);
        if self.size == 0 || offset >= total {
            return;
        }
        let end = total.min(offset.saturating_add(max));
        let ext = self.extent();
        let mut elem = offset / self.size;
        let mut pos = 0u64;
        let mut at = offset;
        while at < end {
            let s = at - elem * self.size;
            let e = (end - elem * self.size).min(self.size);
            self.layout
                .walk(elem as i64 * ext, s, e, pos, &mut |o, l, p, k| {
                    f(o, l, p, k)
                });
            pos += e - s;
            at += e - s;
            elem += 1;
        }
    }
}

/// MPI_BYTE, the type of every internal byte stream (collective and RMA payloads, group
/// exchanges).
#[inline]
pub fn byte() -> &'static Datatype {
    builtin(Builtin::Byte)
}

/// The predefined types' objects, in [`Builtin`] order (made once, on first use).
fn builtins() -> &'static [Datatype] {
    static TABLE: OnceLock<Vec<Datatype>> = OnceLock::new();
    TABLE.get_or_init(|| builtin::BUILTINS.iter().map(builtin::make).collect())
}

/// The datatype object of predefined type `id`.
#[inline]
pub fn builtin(id: Builtin) -> &'static Datatype {
    &builtins()[id as usize]
}

impl Datatype {
    /// Which predefined type this is, if it is one (the object itself, not a copy).
    pub fn builtin_id(&self) -> Option<Builtin> {
        // An address inside the table names its entry; anything else is not a builtin.
        let all = builtins();
        let at = (self as *const Datatype as usize).checked_sub(all.as_ptr() as usize)?;
        let i = at / std::mem::size_of::<Datatype>();
        (at % std::mem::size_of::<Datatype>() == 0 && i < all.len()).then(|| Builtin::ALL[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::mem::OwnedBytes;

    #[test]
    fn pair_type_packs_without_padding() {
        let dt = builtin(Builtin::ShortInt);
        assert_eq!((dt.size(), dt.extent()), (6, 8));
        assert!(!dt.is_contiguous());
        assert_eq!(dt.elements, 2);
        let src = OwnedBytes::new((0..16).collect::<Vec<u8>>());
        let mut out = [0u8; 12];
        let n = dt.pack(src.ptr(), 2, 0, &mut out);
        assert_eq!(n, 12);
        assert_eq!(out, [0, 1, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15]);
        // Resume in the middle of an element.
        let mut part = [0u8; 5];
        let n = dt.pack(src.ptr(), 2, 3, &mut part);
        assert_eq!(n, 5);
        assert_eq!(part, [5, 6, 7, 8, 9]);
        let mut back = OwnedBytes::zeroed(16);
        dt.unpack(back.ptr(), 2, 0, &out);
        let back = back.to_vec().unwrap();
        assert_eq!(&back[0..2], &[0, 1]);
        assert_eq!(&back[4..10], &[4, 5, 6, 7, 8, 9]);
        assert_eq!(&back[12..16], &[12, 13, 14, 15]);
    }

    #[test]
    fn builtins_are_made_in_id_order() {
        for (i, d) in builtin::BUILTINS.iter().enumerate() {
            assert_eq!(d.id as usize, i, "{}", d.name);
            let t = builtin(d.id);
            assert_eq!(*t.name.lock(), d.name);
            assert_eq!(t.size, d.size);
        }
        assert_eq!(builtin::BUILTINS.len(), Builtin::ALL.len());
        assert!(builtin(Builtin::Double).is_contiguous());
    }

    #[test]
    fn two_int_is_one_contiguous_block_of_two_elements() {
        let dt = builtin(Builtin::TwoInt);
        assert!(dt.is_contiguous());
        assert_eq!(dt.elements, 2);
    }
}
