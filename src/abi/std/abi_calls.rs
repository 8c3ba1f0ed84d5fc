//! MPI_Abi_get_version, MPI_Abi_get_info, MPI_Abi_get_fortran_info,
//! MPI_Abi_get_fortran_booleans, MPI_Abi_set_fortran_booleans, MPI_Abi_set_fortran_info
//! (MPI 5.0 section 20.x) with MPICH-ABI handles: exported by libmpi.so.12, and wrapped by
//! the standard face of libmpi_abi.so.1 like every other function.
//!
//! What libmpi.so.12 answers is what MPICH 5's libmpi.so.12 answers: MPI_Abi_get_version
//! gives -1.-1 ("not the standard ABI"), so a loader that probes a library (mpi4py's) does
//! not take an MPICH-ABI library for a standard-ABI one; the other queries describe the
//! library's types as the standard asks. The standard-ABI face reports version 1.0.

use super::super::arg;
use crate::error::{class, MpiError};
use crate::mpi_fn;
use crate::object::info::Info;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::os::raw::{c_int, c_void};

/// MPI_Abi_get_version of an MPICH-ABI library (MPICH 5's libmpi.so.12 answers -1, -1).
pub const MPICH_ABI_VERSION: (c_int, c_int) = (-1, -1);

/// The Fortran LOGICAL values a Fortran binding layered on this library told it
/// (MPI_Abi_set_fortran_booleans), by LOGICAL size in bytes.
static BOOLEANS: Mutex<Option<HashMap<c_int, (Vec<u8>, Vec<u8>)>>> = Mutex::new(None);
/// What such a binding told about its Fortran types (MPI_Abi_set_fortran_info).
static FORTRAN_INFO: Mutex<Option<Info>> = Mutex::new(None);

/// Does this build carry its own Fortran bindings? libmpi.so.12 does (gfortran's LOGICAL:
/// .TRUE. is 1, .FALSE. is 0, INTEGER/REAL 4 bytes); the standard-ABI library does not,
/// so there the values are known only once a binding sets them.
const BUILT_IN_FORTRAN: bool = cfg!(not(feature = "std-abi"));

const LOGICAL_SIZES: [c_int; 5] = [1, 2, 4, 8, 16];

fn check_logical_size(size: c_int) -> Result<usize, MpiError> {
    if LOGICAL_SIZES.contains(&size) {
        Ok(size as usize)
    } else {
        Err(MpiError::arg(
            class::ERR_ARG,
            "logical_size",
            format!("{size} is not the size of a Fortran LOGICAL kind (1, 2, 4, 8 or 16)"),
        ))
    }
}

/// The integer `v` as a little-endian `size`-byte Fortran LOGICAL.
fn logical_bytes(v: u8, size: usize) -> Vec<u8> {
    let mut b = vec![0u8; size];
    b[0] = v;
    b
}

/// The C types' sizes (MPI_Abi_get_info's keys).
fn abi_info() -> Info {
    let mut i = Info::new();
    i.set("mpi_aint_size", &std::mem::size_of::<isize>().to_string());
    i.set("mpi_count_size", &std::mem::size_of::<i64>().to_string());
    i.set("mpi_offset_size", &std::mem::size_of::<i64>().to_string());
    i
}

/// The Fortran types' sizes (those of the library's MPI_LOGICAL, MPI_INTEGER, MPI_REAL and
/// MPI_DOUBLE_PRECISION) and which optional kinds exist: those the MPICH-ABI header defines
/// a datatype for (MPI_LOGICALn, MPI_REAL2, MPI_COMPLEX4 and MPI_INTEGER16 have none in
/// MPICH 4's ABI). A binding's MPI_Abi_set_fortran_info wins.
fn fortran_info() -> Info {
    let mut i = Info::new();
    for (k, v) in [
        ("mpi_logical_size", "4"),
        ("mpi_integer_size", "4"),
        ("mpi_real_size", "4"),
        ("mpi_double_precision_size", "8"),
    ] {
        i.set(k, v);
    }
    let supported = [
        ("integer1", true),
        ("integer2", true),
        ("integer4", true),
        ("integer8", true),
        ("integer16", false),
        ("real2", false),
        ("real4", true),
        ("real8", true),
        ("real16", true),
        ("complex4", false),
        ("complex8", true),
        ("complex16", true),
        ("complex32", true),
        ("double_complex", true),
        ("logical1", false),
        ("logical2", false),
        ("logical4", false),
        ("logical8", false),
        ("logical16", false),
    ];
    for (k, yes) in supported {
        i.set(
            &format!("mpi_{k}_supported"),
            if yes { "true" } else { "false" },
        );
    }
    if let Some(set) = FORTRAN_INFO.lock().as_ref() {
        for (k, v) in set.iter() {
            i.set(k, v);
        }
    }
    i
}

mpi_fn!(MPI_Abi_get_version, PMPI_Abi_get_version, (abi_major: *mut c_int, abi_minor: *mut c_int), |_ctx| {
    // SAFETY: `abi_major` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(abi_major, MPICH_ABI_VERSION.0, "abi_major") }?;
    // SAFETY: `abi_minor` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(abi_minor, MPICH_ABI_VERSION.1, "abi_minor") }
});

mpi_fn!(MPI_Abi_get_info, PMPI_Abi_get_info, (info: *mut c_int), |_ctx| {
    let h = super::super::info::new_handle(abi_info());
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info, h, "info") }
});

mpi_fn!(MPI_Abi_get_fortran_info, PMPI_Abi_get_fortran_info, (info: *mut c_int), |_ctx| {
    let h = super::super::info::new_handle(fortran_info());
    // SAFETY: `info` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(info, h, "info") }
});

mpi_fn!(MPI_Abi_set_fortran_info, PMPI_Abi_set_fortran_info, (info: c_int), |_ctx| {
    let i = super::super::info::get(info, "info")?.lock().clone();
    *FORTRAN_INFO.lock() = Some(i);
    Ok(())
});

mpi_fn!(MPI_Abi_get_fortran_booleans, PMPI_Abi_get_fortran_booleans, (logical_size: c_int, logical_true: *mut c_void, logical_false: *mut c_void, is_set: *mut c_int), |_ctx| {
    let size = check_logical_size(logical_size)?;
    let set = BOOLEANS.lock().as_ref().and_then(|m| m.get(&logical_size).cloned());
    let (t, f, known) = match set {
        Some((t, f)) => (t, f, true),
        None => (logical_bytes(1, size), logical_bytes(0, size), BUILT_IN_FORTRAN),
    };
    // SAFETY: the caller's buffers hold `logical_size` bytes each (MPI contract).
    let tt = unsafe { arg::slice_mut(logical_true as *mut u8, size, "logical_true") }?;
    // SAFETY: as above.
    let ff = unsafe { arg::slice_mut(logical_false as *mut u8, size, "logical_false") }?;
    tt.copy_from_slice(&t);
    ff.copy_from_slice(&f);
    // SAFETY: `is_set` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(is_set, known as c_int, "is_set") }
});

mpi_fn!(MPI_Abi_set_fortran_booleans, PMPI_Abi_set_fortran_booleans, (logical_size: c_int, logical_true: *mut c_void, logical_false: *mut c_void), |_ctx| {
    let size = check_logical_size(logical_size)?;
    // SAFETY: the caller's buffers hold `logical_size` bytes each (MPI contract).
    let t = unsafe { arg::slice(logical_true as *const u8, size, "logical_true") }?.to_vec();
    // SAFETY: as above.
    let f = unsafe { arg::slice(logical_false as *const u8, size, "logical_false") }?.to_vec();
    if t == f {
        return Err(MpiError::arg(class::ERR_ARG, "logical_true", "equals logical_false"));
    }
    if size == crate::op::logical::SIZE {
        // MPI_LOGICAL's reductions read and write these words from now on.
        let word = |b: &[u8]| {
            let mut w = [0u8; 4];
            w.copy_from_slice(b);
            i32::from_ne_bytes(w)
        };
        crate::op::logical::set(word(&t), word(&f));
    }
    BOOLEANS.lock().get_or_insert_with(HashMap::new).insert(logical_size, (t, f));
    Ok(())
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_sizes_are_checked() {
        assert!(check_logical_size(4).is_ok());
        assert!(check_logical_size(3).is_err());
        assert_eq!(logical_bytes(1, 4), vec![1, 0, 0, 0]);
    }

    #[test]
    fn abi_info_has_the_three_sizes() {
        let i = abi_info();
        assert_eq!(i.get("mpi_aint_size"), Some("8"));
        assert_eq!(i.get("mpi_count_size"), Some("8"));
        assert_eq!(i.get("mpi_offset_size"), Some("8"));
    }
}
