//! MPI_Status across the boundary. The standard's status is eight ints (MPI_SOURCE, MPI_TAG,
//! MPI_ERROR, then five for the implementation); MPICH's is five (the byte count in two
//! words, then MPI_SOURCE, MPI_TAG, MPI_ERROR). The count words travel in the first two
//! internal slots, so a status the user hands back (MPI_Get_count, MPI_Status_set_*) carries
//! everything the MPICH-ABI functions read. MPI_STATUS(ES)_IGNORE is NULL in the standard
//! ABI and `(MPI_Status *)1` in MPICH's.

use super::values as v;
use std::os::raw::c_int;

/// The standard's MPI_Status.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Status {
    pub source: c_int,
    pub tag: c_int,
    pub error: c_int,
    pub internal: [c_int; 5],
}

/// MPICH's MPI_Status.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Mpich {
    pub count_lo: c_int,
    pub count_hi_and_cancelled: c_int,
    pub source: c_int,
    pub tag: c_int,
    pub error: c_int,
}

/// MPICH's MPI_STATUS_IGNORE and MPI_STATUSES_IGNORE.
pub const MPICH_IGNORE: *mut Mpich = crate::abi::consts::STATUS_IGNORE as *mut Mpich;

pub fn to_mpich(s: &Status) -> Mpich {
    Mpich {
        count_lo: s.internal[0],
        count_hi_and_cancelled: s.internal[1],
        source: v::rank_in(s.source),
        tag: v::tag_in(s.tag),
        error: v::err_in(s.error),
    }
}

pub fn to_std(m: &Mpich) -> Status {
    Status {
        source: v::rank_out(m.source),
        tag: v::tag_out(m.tag),
        error: v::err_out(m.error),
        internal: [m.count_lo, m.count_hi_and_cancelled, 0, 0, 0],
    }
}

/// The MPICH status pointer to hand on for the user's `s`: MPICH's ignore value for NULL,
/// else `m` loaded with the user's status (in/out functions read it).
///
/// # Safety
/// `s` is NULL or points to a readable standard status.
pub unsafe fn mpich_ptr(s: *const Status, m: &mut Mpich) -> *mut Mpich {
    if s.is_null() {
        return MPICH_IGNORE;
    }
    // SAFETY: non-null and readable by the caller's contract.
    *m = to_mpich(unsafe { &*s });
    m
}

/// Stores `m` into the user's status `s` (nothing for MPI_STATUS_IGNORE).
///
/// # Safety
/// `s` is NULL or points to a writable standard status.
pub unsafe fn write_std(s: *mut Status, m: &Mpich) {
    if !s.is_null() {
        // SAFETY: non-null and writable by the caller's contract.
        unsafe { *s = to_std(m) };
    }
}

/// As `write_std`, for a status the user passed in (MPI_Status_set_*): an MPI_ERROR value
/// the implementation kept as it was handed (`err_in` of the old value) keeps the user's
/// spelling, so a value that is no error code crosses unchanged.
///
/// # Safety
/// `s` is NULL or points to a readable and writable standard status.
pub unsafe fn write_std_keep(s: *mut Status, m: &Mpich) {
    if s.is_null() {
        return;
    }
    // SAFETY: non-null, readable and writable by the caller's contract.
    unsafe {
        let old = (*s).error;
        let mut new = to_std(m);
        if v::err_in(old) == m.error {
            new.error = old;
        }
        *s = new;
    }
}

/// A scratch array of MPICH statuses for `n` standard ones (or MPICH's ignore value).
pub struct Array {
    buf: Vec<Mpich>,
    user: *mut Status,
}

impl Array {
    /// Status arrays are outputs only: the scratch starts empty.
    pub fn new(user: *mut Status, n: usize) -> Array {
        let buf = if user.is_null() {
            Vec::new()
        } else {
            vec![Mpich::default(); n]
        };
        Array { buf, user }
    }
    pub fn ptr(&mut self) -> *mut Mpich {
        if self.user.is_null() {
            MPICH_IGNORE
        } else {
            self.buf.as_mut_ptr()
        }
    }
    /// Copies the first `n` entries back to the user's array.
    ///
    /// # Safety
    /// As for `new`; `n` is at most the length given there.
    pub unsafe fn write_back(&self, n: usize) {
        if self.user.is_null() {
            return;
        }
        for (i, m) in self.buf.iter().take(n).enumerate() {
            // SAFETY: i < n <= the user's array length.
            unsafe { *self.user.add(i) = to_std(m) };
        }
    }
}
