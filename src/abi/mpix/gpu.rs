//! GPU-support queries. OxiMPI has no GPU-aware path (user buffers are host memory to
//! every transport), so it answers as an MPICH built without CUDA, ZE or HIP does: the
//! three `MPIX_Query_*_support` return 0, and MPIX_GPU_query_support sets `is_supported`
//! to 0 for every known GPU type (MPICH's MPIR_GPU_query_support_impl starts from 0 and
//! only a GPU-enabled build sets 1, so a type it does not know is answered 0 as well).

#![deny(unsafe_op_in_unsafe_fn)]

use crate::abi::arg;
use crate::{mpi_fn, mpi_fn_value};
use std::os::raw::c_int;

mpi_fn!(MPIX_GPU_query_support, PMPIX_GPU_query_support, (gpu_type: c_int, is_supported: *mut c_int), |_ctx| {
    // SAFETY: `is_supported` is the C caller's, null or valid for this use (MPI contract).
    let mut out = unsafe { arg::out(is_supported, "is_supported") }?;
    // No GPU type is supported, whichever `gpu_type` asks (see the module docs).
    let _ = gpu_type;
    out.set(0);
    Ok(())
});

mpi_fn_value!(MPIX_Query_cuda_support, PMPIX_Query_cuda_support, () -> c_int, fallback 0, { 0 });
mpi_fn_value!(MPIX_Query_ze_support, PMPIX_Query_ze_support, () -> c_int, fallback 0, { 0 });
mpi_fn_value!(MPIX_Query_hip_support, PMPIX_Query_hip_support, () -> c_int, fallback 0, { 0 });
