//! Environment: init/finalize, thread levels, abort, versions, processor name, timers.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::consts::*;
use crate::error::{class, MpiError};
use crate::{mpi_fn, mpi_fn_value, runtime};
use std::os::raw::{c_char, c_int};

/// `required` is checked: MPICH 4.0.2 takes any int without a word (and gives
/// MPI_THREAD_SINGLE, or leaves `provided` unwritten, for values out of range); a clear
/// error is kinder than a level nobody asked for.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn init_common(required: c_int, provided: *mut c_int) -> Result<(), MpiError> {
    if !(THREAD_SINGLE..=THREAD_MULTIPLE).contains(&required) {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "required",
            format!("{required} is not a thread level"),
        ));
    }
    let p = runtime::init(required)?;
    // A spawned job meets its parents before MPI_Init returns (MPI_Comm_get_parent); dpm sits
    // above the runtime, so the call is made here rather than in runtime::init.
    crate::dpm::spawn::connect_parent(crate::runtime::rt()?)?;
    if !provided.is_null() {
        // SAFETY: `provided` is the C caller's, null or valid for this use (MPI contract).
        unsafe { arg::write(provided, p, "provided") }?;
    }
    Ok(())
}

// MPI_Init gives MPI_THREAD_SINGLE, or what MPIR_CVAR_DEFAULT_THREAD_LEVEL says (MPICH).
mpi_fn!(MPI_Init, PMPI_Init, (_argc: *mut c_int, _argv: *mut *mut *mut c_char), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { init_common(runtime::default_thread_level()?, std::ptr::null_mut()) }
});

mpi_fn!(MPI_Init_thread, PMPI_Init_thread, (_argc: *mut c_int, _argv: *mut *mut *mut c_char, required: c_int, provided: *mut c_int), |_ctx| {
    if provided.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "provided", "null pointer"));
    }
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { init_common(required, provided) }
});

mpi_fn!(MPI_Finalize, PMPI_Finalize, (), |_ctx| {
    runtime::finalize()
});

mpi_fn!(MPI_Initialized, PMPI_Initialized, (flag: *mut c_int), |_ctx| {
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, runtime::initialized() as c_int, "flag") }
});

mpi_fn!(MPI_Finalized, PMPI_Finalized, (flag: *mut c_int), |_ctx| {
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, runtime::finalized() as c_int, "flag") }
});

mpi_fn!(MPI_Query_thread, PMPI_Query_thread, (provided: *mut c_int), |_ctx| {
    runtime::rt()?;
    // SAFETY: `provided` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(provided, runtime::thread_level(), "provided") }
});

mpi_fn!(MPI_Is_thread_main, PMPI_Is_thread_main, (flag: *mut c_int), |_ctx| {
    let rt = runtime::rt()?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, (std::thread::current().id() == rt.main_thread) as c_int, "flag") }
});

// The job ends whatever `comm` is: the standard lets an implementation abort every process
// (MPICH does too), and a launcher cannot end part of a job cleanly. An invalid `comm` must
// not stop the abort, so it is only named in the message.
mpi_fn!(MPI_Abort, PMPI_Abort, (comm: c_int, errorcode: c_int), |_ctx| {
    let rank = runtime::get().map(|r| r.rank).unwrap_or(0);
    let msg = format!("MPI_Abort(comm={comm:#x}, errorcode={errorcode}) called by rank {rank}");
    runtime::abort(errorcode, &msg)
});

mpi_fn!(MPI_Get_version, PMPI_Get_version, (version: *mut c_int, subversion: *mut c_int), |_ctx| {
    // SAFETY: `version` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(version, 4, "version") }?;
    // SAFETY: `subversion` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(subversion, 1, "subversion") }
});

/// What MPI_Get_library_version says: the ABI is the face this build exports (libmpi.so.12
/// speaks MPICH's, libmpi_abi.so.1 the MPI 5.0 standard's).
#[cfg(not(feature = "std-abi"))]
pub const LIBRARY_VERSION: &str = concat!(
    "OxiMPI ",
    env!("CARGO_PKG_VERSION"),
    " (MPI 4.1, MPICH ABI)"
);
#[cfg(feature = "std-abi")]
pub const LIBRARY_VERSION: &str = concat!(
    "OxiMPI ",
    env!("CARGO_PKG_VERSION"),
    " (MPI 4.1, MPI 5.0 standard ABI)"
);

mpi_fn!(MPI_Get_library_version, PMPI_Get_library_version, (version: *mut c_char, resultlen: *mut c_int), |_ctx| {
    // SAFETY: `version` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(version, MAX_LIBRARY_VERSION_STRING, LIBRARY_VERSION, resultlen, "version") }
});

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

mpi_fn!(MPI_Get_processor_name, PMPI_Get_processor_name, (name: *mut c_char, resultlen: *mut c_int), |_ctx| {
    // SAFETY: `name` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(name, MAX_PROCESSOR_NAME, &hostname(), resultlen, "name") }
});

/// Seconds on the host's monotonic clock, as MPICH's MPI_Wtime (clock_gettime on
/// CLOCK_MONOTONIC): every rank of a host reads the same clock, and the call is the vDSO
/// read and one conversion. (`Instant` since a per-process epoch cost 116 instructions and
/// ~50 ns a call, more than a third of a timed 0-byte collective; this ~35 ns.)
fn monotonic_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists on every Linux, so
    // the call cannot fail (a failure would leave the zeros, never undefined memory).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

mpi_fn_value!(MPI_Wtime, PMPI_Wtime, () -> f64, fallback 0.0, { monotonic_seconds() });

mpi_fn_value!(MPI_Wtick, PMPI_Wtick, () -> f64, fallback 1e-9, { 1e-9 });
