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
    Status::empty()
}

/// Writes `s` to the caller's status unless it passed MPI_STATUS_IGNORE (or null). The
/// empty status (null and inactive requests) is written whole, MPI_ERROR = MPI_SUCCESS
/// included, as the standard defines it; MPICH 4.0.2 leaves MPI_ERROR as it was there.
#[inline]
pub fn store(p: *mut MPI_Status, s: &Status) {
    if p.is_null() || p as usize == IGNORE {
        return;
    }
    // SAFETY: a non-null, non-IGNORE status pointer is a valid MPI_Status by the MPI contract.
    let st = unsafe { &mut *p };
    st.fill(s);
    if s.is_empty() {
        st.MPI_ERROR = 0;
    }
}

/// Stores the empty status.
pub fn store_empty(p: *mut MPI_Status) {
    store(p, &empty());
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

// ---------------------------------------------------------------------------------------
// Conversions between the C status and the Fortran ones. With the MPICH ABI all three are
// the same five ints (count_lo, count_hi_and_cancelled, source, tag, error), so each
// conversion is a checked copy; the IGNORE sentinels are not valid arguments.

use super::ptr;
use crate::error::{class, MpiError};
use crate::mpi_fn;

/// Copies five ints from `from` to `to`, refusing null and the IGNORE sentinels.
fn copy_status(from: *const c_int, to: *mut c_int) -> Result<(), MpiError> {
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
    let src = ptr::slice(from, 5, "status")?;
    ptr::slice_mut(to, 5, "status")?.copy_from_slice(src);
    Ok(())
}

mpi_fn!(MPI_Status_c2f, PMPI_Status_c2f, (c_status: *const MPI_Status, f_status: *mut c_int), |_ctx| {
    copy_status(c_status as *const c_int, f_status)
});
mpi_fn!(MPI_Status_f2c, PMPI_Status_f2c, (f_status: *const c_int, c_status: *mut MPI_Status), |_ctx| {
    copy_status(f_status, c_status as *mut c_int)
});
mpi_fn!(MPI_Status_f082c, PMPI_Status_f082c, (f08_status: *const c_int, c_status: *mut MPI_Status), |_ctx| {
    copy_status(f08_status, c_status as *mut c_int)
});
mpi_fn!(MPI_Status_c2f08, PMPI_Status_c2f08, (c_status: *const MPI_Status, f08_status: *mut c_int), |_ctx| {
    copy_status(c_status as *const c_int, f08_status)
});
mpi_fn!(MPI_Status_f082f, PMPI_Status_f082f, (f08_status: *const c_int, f_status: *mut c_int), |_ctx| {
    copy_status(f08_status, f_status)
});
mpi_fn!(MPI_Status_f2f08, PMPI_Status_f2f08, (f_status: *const c_int, f08_status: *mut c_int), |_ctx| {
    copy_status(f_status, f08_status)
});
