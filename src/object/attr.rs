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

/// The attributes of one object, in the order they were first set.
#[derive(Debug, Default, Clone)]
pub struct AttrList {
    pub entries: Vec<(Arc<Keyval>, usize)>,
}

impl AttrList {
    pub fn get(&self, k: &Arc<Keyval>) -> Option<usize> {
        self.entries
            .iter()
            .find(|(kv, _)| Arc::ptr_eq(kv, k))
            .map(|(_, v)| *v)
    }

    /// Stores `v` under `k`; returns the value it replaces.
    pub fn set(&mut self, k: &Arc<Keyval>, v: usize) -> Option<usize> {
        match self.entries.iter_mut().find(|(kv, _)| Arc::ptr_eq(kv, k)) {
            Some(e) => Some(std::mem::replace(&mut e.1, v)),
            None => {
                self.entries.push((k.clone(), v));
                None
            }
        }
    }

    pub fn remove(&mut self, k: &Arc<Keyval>) -> Option<usize> {
        let i = self.entries.iter().position(|(kv, _)| Arc::ptr_eq(kv, k))?;
        Some(self.entries.remove(i).1)
    }
}
