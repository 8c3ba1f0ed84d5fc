//! Attribute keyvals and the per-object attribute lists (communicators, datatypes, windows).
//!
//! The callbacks are C functions stored as addresses; `abi::attr` calls them. An attribute
//! holds its keyval by `Arc`, so a keyval freed by the user lives on until its last
//! attribute is deleted (as MPI requires), and entries are matched by identity, never by
//! handle value (a freed handle may be reused by a new keyval).

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyvalKind {
    Comm,
    Type,
    Win,
}

#[derive(Debug)]
pub struct Keyval {
    pub kind: KeyvalKind,
    /// Copy callback address (0 = MPI_*_NULL_COPY_FN: the attribute is not copied).
    pub copy_fn: usize,
    /// Delete callback address (0 = MPI_*_NULL_DELETE_FN).
    pub delete_fn: usize,
    pub extra_state: usize,
    /// The handle the user knows this keyval by (passed to the callbacks).
    handle: AtomicI32,
    /// MPI_*_free_keyval was called. Keyvals are reference-counted, as in MPICH: the
    /// attributes still set hold it (and its handle stays valid, so freeing it again through
    /// a copy of the handle is no error); it is gone once the last of them is deleted.
    freed: AtomicBool,
}

impl Keyval {
    pub fn new(kind: KeyvalKind, copy_fn: usize, delete_fn: usize, extra_state: usize) -> Self {
        Keyval {
            kind,
            copy_fn,
            delete_fn,
            extra_state,
            handle: AtomicI32::new(0),
            freed: AtomicBool::new(false),
        }
    }

    pub fn handle(&self) -> i32 {
        self.handle.load(Ordering::Relaxed)
    }

    pub fn set_handle(&self, h: i32) {
        self.handle.store(h, Ordering::Relaxed)
    }

    /// Marks the keyval freed by the user; false if it already was.
    pub fn mark_freed(&self) -> bool {
        !self.freed.swap(true, Ordering::Relaxed)
    }

    pub fn is_freed(&self) -> bool {
        self.freed.load(Ordering::Relaxed)
    }
}

/// Who set an attribute, as MPICH's MPIR_Attr_type records it: C (the value is a `void *`),
/// Fortran's MPI_*_SET_ATTR (an INTEGER(MPI_ADDRESS_KIND)) or MPI-1's MPI_ATTR_PUT (an
/// INTEGER). A reader of the other language sees it as MPICH shows it ([`Attr::seen_by`]),
/// and the copy and delete callbacks are told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    Ptr,
    Aint,
    Int,
}

impl AttrKind {
    /// MPICH's MPIR_Attr_type value (MPIR_ATTR_PTR 0, MPIR_ATTR_AINT 1, MPIR_ATTR_INT 3),
    /// which MPICH's libmpifort passes in and its attribute proxies are given.
    pub fn mpich_code(self) -> i32 {
        match self {
            AttrKind::Ptr => 0,
            AttrKind::Aint => 1,
            AttrKind::Int => 3,
        }
    }

    /// The kind of an MPIR_Attr_type value (any other value is taken as C's).
    pub fn from_mpich_code(code: i32) -> AttrKind {
        match code {
            1 => AttrKind::Aint,
            3 => AttrKind::Int,
            _ => AttrKind::Ptr,
        }
    }

    /// Fortran's kinds: the value is an integer, not a pointer.
    pub fn is_integer(self) -> bool {
        self != AttrKind::Ptr
    }
}

/// One attribute. The value is boxed so that its address, which C readers of a Fortran
/// attribute get (MPICH's convention), stays valid until the attribute is set again or
/// deleted, however the list grows.
#[derive(Debug)]
pub struct Attr {
    pub keyval: Arc<Keyval>,
    value: Box<usize>,
    pub kind: AttrKind,
}

impl Attr {
    pub fn value(&self) -> usize {
        *self.value
    }

    /// The value as a reader of kind `reader` gets it (MPICH's MPII_Comm_get_attr): C
    /// reading an attribute Fortran set gets the address of the integer; every other
    /// reader gets the value as stored (so Fortran reading C's attribute gets the pointer
    /// as an integer).
    pub fn seen_by(&self, reader: AttrKind) -> usize {
        if reader == AttrKind::Ptr && self.kind.is_integer() {
            &*self.value as *const usize as usize
        } else {
            *self.value
        }
    }
}

/// The attributes of one object, in the order they were first set.
#[derive(Debug, Default)]
pub struct AttrList {
    entries: Vec<Attr>,
}

impl AttrList {
    fn find(&self, k: &Arc<Keyval>) -> Option<&Attr> {
        self.entries.iter().find(|a| Arc::ptr_eq(&a.keyval, k))
    }

    /// The value and kind stored under `k`.
    pub fn get(&self, k: &Arc<Keyval>) -> Option<(usize, AttrKind)> {
        self.find(k).map(|a| (a.value(), a.kind))
    }

    /// The value under `k` as a reader of kind `reader` gets it ([`Attr::seen_by`]).
    pub fn get_as(&self, k: &Arc<Keyval>, reader: AttrKind) -> Option<usize> {
        self.find(k).map(|a| a.seen_by(reader))
    }

    /// Stores `v` of kind `kind` under `k` (in place if set before, as MPICH does); returns
    /// the value and kind it replaces.
    pub fn set(&mut self, k: &Arc<Keyval>, v: usize, kind: AttrKind) -> Option<(usize, AttrKind)> {
        match self.entries.iter_mut().find(|a| Arc::ptr_eq(&a.keyval, k)) {
            Some(a) => {
                let old = (std::mem::replace(&mut *a.value, v), a.kind);
                a.kind = kind;
                Some(old)
            }
            None => {
                self.entries.push(Attr {
                    keyval: k.clone(),
                    value: Box::new(v),
                    kind,
                });
                None
            }
        }
    }

    pub fn remove(&mut self, k: &Arc<Keyval>) -> Option<(usize, AttrKind)> {
        let i = self
            .entries
            .iter()
            .position(|a| Arc::ptr_eq(&a.keyval, k))?;
        let a = self.entries.remove(i);
        Some((a.value(), a.kind))
    }

    /// The attribute set last (MPICH deletes the last set first).
    pub fn last(&self) -> Option<(Arc<Keyval>, usize, AttrKind)> {
        self.entries
            .last()
            .map(|a| (a.keyval.clone(), a.value(), a.kind))
    }

    /// Every attribute, in order (for copying them to a new object).
    pub fn snapshot(&self) -> Vec<(Arc<Keyval>, usize, AttrKind)> {
        self.entries
            .iter()
            .map(|a| (a.keyval.clone(), a.value(), a.kind))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyval() -> Arc<Keyval> {
        Arc::new(Keyval::new(KeyvalKind::Comm, 0, 0, 0))
    }

    #[test]
    fn c_reads_fortran_attributes_through_their_address() {
        let (k, mut l) = (keyval(), AttrList::default());
        l.set(&k, 42, AttrKind::Aint);
        assert_eq!(l.get_as(&k, AttrKind::Aint), Some(42));
        // The address C gets is the boxed value's, which holds 42.
        let boxed = |l: &AttrList| -> (usize, usize) {
            let a = l.find(&k).unwrap();
            (&*a.value as *const usize as usize, *a.value)
        };
        let p = l.get_as(&k, AttrKind::Ptr).unwrap();
        assert_eq!(boxed(&l), (p, 42));
        // Setting again keeps the address (MPICH updates the value in place).
        l.set(&k, 7, AttrKind::Int);
        assert_eq!(l.get_as(&k, AttrKind::Ptr), Some(p));
        assert_eq!(boxed(&l), (p, 7));
    }

    #[test]
    fn fortran_reads_c_attributes_as_the_pointer_value() {
        let (k, mut l) = (keyval(), AttrList::default());
        l.set(&k, 0x1000, AttrKind::Ptr);
        assert_eq!(l.get_as(&k, AttrKind::Aint), Some(0x1000));
        assert_eq!(l.get_as(&k, AttrKind::Ptr), Some(0x1000));
        assert_eq!(l.remove(&k), Some((0x1000, AttrKind::Ptr)));
        assert!(l.is_empty());
    }

    #[test]
    fn kinds_have_mpich_codes() {
        for k in [AttrKind::Ptr, AttrKind::Aint, AttrKind::Int] {
            assert_eq!(AttrKind::from_mpich_code(k.mpich_code()), k);
        }
    }
}
