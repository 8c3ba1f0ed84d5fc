//! MPI_Status as MPICH lays it out (20 bytes), and conversion from the core's status.

use crate::p2p::Status;
use std::os::raw::c_int;

#[repr(C)]
#[allow(non_snake_case)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MPI_Status {
    pub count_lo: c_int,
    /// Bit 0: cancelled; bits 1..: the high part of the byte count.
    pub count_hi_and_cancelled: c_int,
    pub MPI_SOURCE: c_int,
    pub MPI_TAG: c_int,
    pub MPI_ERROR: c_int,
}

/// MPI_STATUS_IGNORE / MPI_STATUSES_IGNORE.
pub const IGNORE: usize = 1;

impl MPI_Status {
    pub fn bytes(&self) -> u64 {
        (self.count_lo as u32 as u64) | (((self.count_hi_and_cancelled as u32 >> 1) as u64) << 32)
    }

    pub fn set_bytes(&mut self, n: u64) {
        self.count_lo = n as u32 as c_int;
        self.count_hi_and_cancelled =
            (self.count_hi_and_cancelled & 1) | (((n >> 32) as u32) << 1) as c_int;
    }

    pub fn cancelled(&self) -> bool {
        self.count_hi_and_cancelled & 1 != 0
    }

    pub fn set_cancelled(&mut self, c: bool) {
        self.count_hi_and_cancelled = (self.count_hi_and_cancelled & !1) | c as c_int;
    }

    /// Fills the fields a completed operation reports; MPI_ERROR is left alone (the
    /// standard sets it only in multiple-completion calls).
    pub fn fill(&mut self, s: &Status) {
        self.MPI_SOURCE = s.source;
        self.MPI_TAG = s.tag;
        self.set_bytes(s.bytes);
        self.set_cancelled(s.cancelled);
    }
}

/// The empty status of the standard: any source, any tag, no error, count 0.
pub fn empty() -> Status {
    Status {
        source: crate::abi::consts::ANY_SOURCE,
        tag: crate::abi::consts::ANY_TAG,
        error: 0,
        bytes: 0,
        cancelled: false,
    }
}

/// Writes `s` to the caller's status unless it passed MPI_STATUS_IGNORE (or null).
#[inline]
pub fn store(p: *mut MPI_Status, s: &Status) {
    if p.is_null() || p as usize == IGNORE {
        return;
    }
    // SAFETY: a non-null, non-IGNORE status pointer is a valid MPI_Status by the MPI contract.
    unsafe { (*p).fill(s) };
}

/// Stores `s` into element `i` of a status array (unless MPI_STATUSES_IGNORE), with its
/// error field.
#[inline]
pub fn store_at(p: *mut MPI_Status, i: usize, s: &Status, set_error: bool) {
    if p.is_null() || p as usize == IGNORE {
        return;
    }
    // SAFETY: the caller passes an array with an entry for every request.
    let st = unsafe { &mut *p.add(i) };
    st.fill(s);
    if set_error {
        st.MPI_ERROR = s.error;
    }
}
