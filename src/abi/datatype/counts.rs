//! Element counts of a received message: MPI_Get_count, MPI_Get_elements and
//! MPI_Status_set_elements, decoded from the byte count the status carries.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

use crate::abi::status::MPI_Status as Status;

const STATUS_IGNORE: usize = crate::abi::consts::STATUS_IGNORE;

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn status_bytes(st: *const Status) -> Result<u64, MpiError> {
    if st as usize == STATUS_IGNORE {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "status",
            "MPI_STATUS_IGNORE has no count",
        ));
    }
    // SAFETY: `st` is the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { arg::read(st, "status") }?.bytes())
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn set_status_bytes(st: *mut Status, bytes: u64) -> Result<(), MpiError> {
    if st as usize == STATUS_IGNORE {
        return Err(MpiError::arg(class::ERR_ARG, "status", "MPI_STATUS_IGNORE"));
    }
    // SAFETY: `st` is the C caller's, null or valid for this use (MPI contract).
    let mut s = unsafe { arg::read(st as *const Status, "status") }?;
    s.set_bytes(bytes);
    // SAFETY: `st` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(st, s, "status") }
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn count(st: *const Status, h: c_int) -> Result<Option<u64>, MpiError> {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let bytes = unsafe { status_bytes(st) }?;
    Ok(get_any(h, "datatype")?.count_of(bytes))
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn elements(st: *const Status, h: c_int) -> Result<Option<u64>, MpiError> {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let bytes = unsafe { status_bytes(st) }?;
    let dt = get_any(h, "datatype")?;
    // Of a predefined type, a byte count that ends inside an element gives MPI_UNDEFINED;
    // of a derived type, whole basic elements are counted and a cut one is not (MPICH).
    if dt.is_predefined() && dt.size() > 0 && bytes % dt.size() != 0 {
        return Ok(None);
    }
    Ok(Some(dt.elements_of(bytes)))
}

/// MPI_UNDEFINED for a partial result or one an int cannot hold.
fn int_or_undefined(v: Option<u64>) -> c_int {
    v.and_then(|v| c_int::try_from(v).ok()).unwrap_or(UNDEFINED)
}

fn count_or_undefined(v: Option<u64>) -> Count {
    v.map_or(UNDEFINED as Count, |v| v as Count)
}

mpi_fn!(MPI_Get_count, PMPI_Get_count, (status: *const Status, datatype: c_int, count_: *mut c_int), |_ctx| {
    // SAFETY: `count_` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(count_, int_or_undefined(count(status, datatype)?), "count") }
});
mpi_fn!(MPI_Get_count_c, PMPI_Get_count_c, (status: *const Status, datatype: c_int, count_: *mut Count), |_ctx| {
    // SAFETY: `count_` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(count_, count_or_undefined(count(status, datatype)?), "count") }
});
mpi_fn!(MPI_Get_elements, PMPI_Get_elements, (status: *const Status, datatype: c_int, count_: *mut c_int), |_ctx| {
    // SAFETY: `count_` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(count_, int_or_undefined(elements(status, datatype)?), "count") }
});
mpi_fn!(MPI_Get_elements_x, PMPI_Get_elements_x, (status: *const Status, datatype: c_int, count_: *mut Count), |_ctx| {
    // SAFETY: `count_` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(count_, count_or_undefined(elements(status, datatype)?), "count") }
});
mpi_fn!(MPI_Get_elements_c, PMPI_Get_elements_c, (status: *const Status, datatype: c_int, count_: *mut Count), |_ctx| {
    // SAFETY: `count_` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(count_, count_or_undefined(elements(status, datatype)?), "count") }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn set_elements(st: *mut Status, h: c_int, n: i64) -> Result<(), MpiError> {
    let n = count_arg(n, "count")? as u64;
    let bytes = get_any(h, "datatype")?.bytes_of_elements(n);
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { set_status_bytes(st, bytes) }
}

mpi_fn!(MPI_Status_set_elements, PMPI_Status_set_elements, (status: *mut Status, datatype: c_int, count_: c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { set_elements(status, datatype, count_ as i64) }
});
mpi_fn!(MPI_Status_set_elements_x, PMPI_Status_set_elements_x, (status: *mut Status, datatype: c_int, count_: Count), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { set_elements(status, datatype, count_) }
});
mpi_fn!(MPI_Status_set_elements_c, PMPI_Status_set_elements_c, (status: *mut Status, datatype: c_int, count_: Count), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { set_elements(status, datatype, count_) }
});
