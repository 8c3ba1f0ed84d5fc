//! MPI_Status as MPICH lays it out (20 bytes), and conversion from the core's status.

#![deny(unsafe_op_in_unsafe_fn)]

use crate::p2p::Status;
use std::marker::PhantomData;
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
    Status::empty()
}

/// The caller's status output argument, checked at the start of the call: where the call
/// stores its one status, or nowhere for MPI_STATUS_IGNORE. Checking first means a bad
/// argument fails before a message is received or a request completed, so nothing is lost.
pub struct StatusOut<'a> {
    p: *mut MPI_Status,
    _caller: PhantomData<&'a mut MPI_Status>,
}

/// Checks a status output argument: MPI_STATUS_IGNORE stores nothing; a null pointer is
/// MPI_ERR_ARG (MPICH's `MPIR_ERRTEST_ARGNULL(status, "status")`: MPI_STATUS_IGNORE is not
/// NULL). MPICH checks in every call with a status argument, except ROMIO's MPI_File_*
/// which write through it and crash; we refuse it there too.
///
/// # Safety
/// `p` is null, MPI_STATUS_IGNORE, or valid for reads and writes of one MPI_Status during
/// `'a`.
#[inline]
pub unsafe fn out<'a>(p: *mut MPI_Status, arg: &str) -> Result<StatusOut<'a>, MpiError> {
    if p.is_null() {
        return Err(MpiError::arg(
            class::ERR_ARG,
            arg,
            "null pointer (MPI_STATUS_IGNORE is the way to ignore a status)",
        ));
    }
    Ok(StatusOut {
        p: if p as usize == IGNORE {
            std::ptr::null_mut()
        } else {
            p
        },
        _caller: PhantomData,
    })
}

impl StatusOut<'_> {
    /// Stores `s` unless the caller passed MPI_STATUS_IGNORE. The empty status (null and
    /// inactive requests) is written whole, MPI_ERROR = MPI_SUCCESS included, as the
    /// standard defines it; MPICH 4.0.2 leaves MPI_ERROR as it was there.
    #[inline]
    pub fn store(&mut self, s: &Status) {
        if self.p.is_null() {
            return;
        }
        // SAFETY: a non-IGNORE pointer was checked non-null by `out`, whose caller vouched
        // for it during 'a, which `self` cannot outlive.
        let mut st = unsafe { self.p.read() };
        st.fill(s);
        if s.is_empty() {
            st.MPI_ERROR = 0;
        }
        // SAFETY: as above.
        unsafe { self.p.write(st) };
    }

    /// Stores the empty status.
    pub fn store_empty(&mut self) {
        self.store(&empty());
    }
}

/// The caller's array of statuses (one per request), checked at the start of the call.
pub struct StatusesOut<'a> {
    p: *mut MPI_Status,
    n: usize,
    _caller: PhantomData<&'a mut [MPI_Status]>,
}

/// Checks an array-of-statuses argument of `n` entries: MPI_STATUSES_IGNORE stores
/// nothing; null with `n > 0` is MPI_ERR_ARG, as MPICH's wait/test-all/some.
///
/// # Safety
/// `p` is null, MPI_STATUSES_IGNORE, or valid for reads and writes of `n` MPI_Status
/// during `'a`.
#[inline]
pub unsafe fn out_array<'a>(
    p: *mut MPI_Status,
    n: usize,
    arg: &str,
) -> Result<StatusesOut<'a>, MpiError> {
    if p.is_null() && n > 0 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            arg,
            "null array (MPI_STATUSES_IGNORE is the way to ignore statuses)",
        ));
    }
    Ok(StatusesOut {
        p: if p as usize == IGNORE {
            std::ptr::null_mut()
        } else {
            p
        },
        n,
        _caller: PhantomData,
    })
}

impl StatusesOut<'_> {
    /// Stores `s` into entry `i` (unless MPI_STATUSES_IGNORE), with its error field when
    /// `set_error` (the multiple-completion calls set it).
    #[inline]
    pub fn store(&mut self, i: usize, s: &Status, set_error: bool) {
        if self.p.is_null() {
            return;
        }
        assert!(i < self.n, "status index {i} past the array of {}", self.n);
        // SAFETY: a non-IGNORE array was checked non-null by `out_array` (n > 0 here),
        // whose caller vouched for n entries during 'a; i < n.
        let p = unsafe { self.p.add(i) };
        // SAFETY: as above.
        let mut st = unsafe { p.read() };
        st.fill(s);
        if set_error {
            st.MPI_ERROR = s.error;
        }
        // SAFETY: as above.
        unsafe { p.write(st) };
    }
}

// ---------------------------------------------------------------------------------------
// Conversions between the C status and the Fortran ones. With the MPICH ABI all three are
// the same five ints (count_lo, count_hi_and_cancelled, source, tag, error), so each
// conversion is a checked copy; the IGNORE sentinels are not valid arguments.

use super::arg;
use crate::error::{class, MpiError};
use crate::mpi_fn;

/// Copies five ints from `from` to `to`, refusing null and the IGNORE sentinels.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn copy_status(from: *const c_int, to: *mut c_int) -> Result<(), MpiError> {
    let ignored = |p: usize| {
        p == IGNORE
            || [
                &super::symbols::MPI_F_STATUS_IGNORE,
                &super::symbols::MPI_F08_STATUS_IGNORE,
            ]
            .iter()
            .any(|s| s.get() as usize == p)
    };
    if ignored(from as usize) || ignored(to as usize) {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "status",
            "MPI_STATUS_IGNORE is not a status to convert",
        ));
    }
    // SAFETY: `from` is the C caller's, null or valid for this use (MPI contract).
    let src = unsafe { arg::slice(from, 5, "status") }?;
    // SAFETY: `to` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::slice_mut(to, 5, "status") }?.copy_from_slice(src);
    Ok(())
}

mpi_fn!(MPI_Status_c2f, PMPI_Status_c2f, (c_status: *const MPI_Status, f_status: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { copy_status(c_status as *const c_int, f_status) }
});
mpi_fn!(MPI_Status_f2c, PMPI_Status_f2c, (f_status: *const c_int, c_status: *mut MPI_Status), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { copy_status(f_status, c_status as *mut c_int) }
});
mpi_fn!(MPI_Status_f082c, PMPI_Status_f082c, (f08_status: *const c_int, c_status: *mut MPI_Status), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { copy_status(f08_status, c_status as *mut c_int) }
});
mpi_fn!(MPI_Status_c2f08, PMPI_Status_c2f08, (c_status: *const MPI_Status, f08_status: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { copy_status(c_status as *const c_int, f08_status) }
});
mpi_fn!(MPI_Status_f082f, PMPI_Status_f082f, (f08_status: *const c_int, f_status: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { copy_status(f08_status, f_status) }
});
mpi_fn!(MPI_Status_f2f08, PMPI_Status_f2f08, (f_status: *const c_int, f08_status: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { copy_status(f_status, f08_status) }
});
