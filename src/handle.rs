//! Handles as MPICH lays them out, and the tables that hold user objects.
//!
//! A handle is a 32-bit int: bits 30–31 the kind (invalid, builtin, direct, indirect),
//! bits 26–29 the object type, the rest an index. Predefined objects are `BUILTIN` (a
//! builtin datatype also carries its size in bits 8–15) or, for the MPICH pair types,
//! `DIRECT`. Objects the user creates get `INDIRECT` handles that index a table here.

use parking_lot::RwLock;
use std::sync::Arc;

pub const KIND_INVALID: u32 = 0;
pub const KIND_BUILTIN: u32 = 1;
pub const KIND_DIRECT: u32 = 2;
pub const KIND_INDIRECT: u32 = 3;

/// Object types (bits 26–29), MPICH's numbering.
pub mod obj {
    pub const COMM: u32 = 0x1;
    pub const GROUP: u32 = 0x2;
    pub const DATATYPE: u32 = 0x3;
    pub const FILE: u32 = 0x4;
    pub const ERRHANDLER: u32 = 0x5;
    pub const OP: u32 = 0x6;
    pub const INFO: u32 = 0x7;
    pub const WIN: u32 = 0x8;
    pub const KEYVAL: u32 = 0x9;
    pub const ATTR: u32 = 0xa;
    pub const REQUEST: u32 = 0xb;
    pub const GREQ_CLASS: u32 = 0xd;
    pub const SESSION: u32 = 0xe;
}

const INDEX_MASK: u32 = (1 << 26) - 1;

#[inline]
pub fn kind(h: i32) -> u32 {
    (h as u32) >> 30
}

#[inline]
pub fn obj_type(h: i32) -> u32 {
    ((h as u32) >> 26) & 0xf
}

#[inline]
pub fn index(h: i32) -> u32 {
    (h as u32) & INDEX_MASK
}

#[inline]
pub const fn make(kind: u32, obj: u32, index: u32) -> i32 {
    ((kind << 30) | (obj << 26) | index) as i32
}

/// The null handle of an object type (kind invalid, index 0), e.g. MPI_COMM_NULL.
#[inline]
pub const fn null(obj: u32) -> i32 {
    make(KIND_INVALID, obj, 0)
}

/// Predefined handle values of the MPICH ABI that the core needs to recognise.
pub mod predefined {
    use super::*;
    pub const COMM_NULL: i32 = null(obj::COMM);
    pub const COMM_WORLD: i32 = make(KIND_BUILTIN, obj::COMM, 0);
    pub const COMM_SELF: i32 = make(KIND_BUILTIN, obj::COMM, 1);
    pub const GROUP_NULL: i32 = null(obj::GROUP);
    pub const GROUP_EMPTY: i32 = make(KIND_BUILTIN, obj::GROUP, 0);
    pub const DATATYPE_NULL: i32 = null(obj::DATATYPE);
    pub const REQUEST_NULL: i32 = null(obj::REQUEST);
    pub const MESSAGE_NULL: i32 = null(obj::REQUEST);
    pub const MESSAGE_NO_PROC: i32 = make(KIND_BUILTIN, obj::REQUEST, 0);
    pub const ERRHANDLER_NULL: i32 = null(obj::ERRHANDLER);
    pub const ERRORS_ARE_FATAL: i32 = make(KIND_BUILTIN, obj::ERRHANDLER, 0);
    pub const ERRORS_RETURN: i32 = make(KIND_BUILTIN, obj::ERRHANDLER, 1);
    pub const ERRORS_THROW_EXCEPTIONS: i32 = make(KIND_BUILTIN, obj::ERRHANDLER, 2);
    pub const ERRORS_ABORT: i32 = make(KIND_BUILTIN, obj::ERRHANDLER, 3);
    pub const OP_NULL: i32 = null(obj::OP);
    pub const INFO_NULL: i32 = null(obj::INFO);
    pub const INFO_ENV: i32 = make(KIND_BUILTIN, obj::INFO, 1);
    pub const WIN_NULL: i32 = null(obj::WIN);
    pub const SESSION_NULL: i32 = null(obj::SESSION);
    pub const KEYVAL_INVALID: i32 = null(obj::KEYVAL);
}

/// A table of user objects of one type, addressed by INDIRECT handles.
///
/// Reads (every call that names a handle) take a shared lock and clone an `Arc`; inserts
/// and removals take the exclusive lock. Freed slots are reused, so handle values recur
/// as MPI permits, and the table does not grow with dup/free cycles.
pub struct HandleTable<T> {
    obj: u32,
    slots: RwLock<Slots<T>>,
}

struct Slots<T> {
    items: Vec<Option<Arc<T>>>,
    free: Vec<u32>,
}

impl<T> HandleTable<T> {
    pub const fn new(obj: u32) -> Self {
        HandleTable {
            obj,
            slots: RwLock::new(Slots {
                items: Vec::new(),
                free: Vec::new(),
            }),
        }
    }

    /// Stores `v` and returns its new handle.
    pub fn insert(&self, v: Arc<T>) -> i32 {
        let mut s = self.slots.write();
        let idx = match s.free.pop() {
            Some(i) => {
                s.items[i as usize] = Some(v);
                i
            }
            None => {
                s.items.push(Some(v));
                (s.items.len() - 1) as u32
            }
        };
        make(KIND_INDIRECT, self.obj, idx)
    }

    /// The object behind `h`, if `h` is a live handle of this table.
    #[inline]
    pub fn get(&self, h: i32) -> Option<Arc<T>> {
        if kind(h) != KIND_INDIRECT || obj_type(h) != self.obj {
            return None;
        }
        self.slots
            .read()
            .items
            .get(index(h) as usize)
            .and_then(|o| o.clone())
    }

    /// Removes the object behind `h`; the handle value may then be reused.
    pub fn remove(&self, h: i32) -> Option<Arc<T>> {
        if kind(h) != KIND_INDIRECT || obj_type(h) != self.obj {
            return None;
        }
        let mut s = self.slots.write();
        let i = index(h);
        let v = s.items.get_mut(i as usize).and_then(|o| o.take());
        if v.is_some() {
            s.free.push(i);
        }
        v
    }

    /// Puts `v` behind the live handle `h` (an object finished after its handle was given
    /// out, e.g. by MPI_Comm_idup). False, and nothing stored, if `h` is not live.
    pub fn replace(&self, h: i32, v: Arc<T>) -> bool {
        if kind(h) != KIND_INDIRECT || obj_type(h) != self.obj {
            return false;
        }
        let mut s = self.slots.write();
        match s.items.get_mut(index(h) as usize) {
            Some(slot @ Some(_)) => {
                *slot = Some(v);
                true
            }
            _ => false,
        }
    }

    /// Number of live objects (for leak checks in tests).
    pub fn live(&self) -> usize {
        let s = self.slots.read();
        s.items.len() - s.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_values_match_mpich() {
        assert_eq!(predefined::COMM_WORLD, 0x4400_0000);
        assert_eq!(predefined::COMM_SELF, 0x4400_0001);
        assert_eq!(predefined::COMM_NULL, 0x0400_0000);
        assert_eq!(predefined::REQUEST_NULL, 0x2c00_0000);
        assert_eq!(predefined::MESSAGE_NO_PROC, 0x6c00_0000);
        assert_eq!(predefined::ERRORS_ABORT, 0x5400_0003);
        assert_eq!(predefined::INFO_ENV, 0x5c00_0001);
        assert_eq!(predefined::SESSION_NULL, 0x3800_0000);
        assert_eq!(predefined::GROUP_EMPTY, 0x4800_0000);
    }

    #[test]
    fn table_reuses_slots_and_rejects_foreign_handles() {
        let t: HandleTable<u32> = HandleTable::new(obj::COMM);
        let a = t.insert(Arc::new(1));
        let b = t.insert(Arc::new(2));
        assert_ne!(a, b);
        assert_eq!(kind(a), KIND_INDIRECT);
        assert_eq!(*t.get(b).unwrap(), 2);
        assert!(t.get(make(KIND_INDIRECT, obj::GROUP, index(a))).is_none());
        assert_eq!(*t.remove(a).unwrap(), 1);
        assert!(t.get(a).is_none());
        let c = t.insert(Arc::new(3));
        assert_eq!(c, a);
        assert_eq!(t.live(), 2);
    }
}
