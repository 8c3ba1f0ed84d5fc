//! Constants of the C header that the C surface interprets (MPICH values).

#![deny(unsafe_op_in_unsafe_fn)]

use std::os::raw::c_int;

pub const UNDEFINED: c_int = -32766;
pub const PROC_NULL: c_int = -1;
pub const ANY_SOURCE: c_int = -2;
pub const ROOT: c_int = -3;
pub const ANY_TAG: c_int = -1;
/// Largest tag we accept (the MPI_TAG_UB attribute).
pub const TAG_UB: c_int = 0x7fff_ffff;
pub const THREAD_SINGLE: c_int = 0;
pub const THREAD_FUNNELED: c_int = 1;
pub const THREAD_SERIALIZED: c_int = 2;
pub const THREAD_MULTIPLE: c_int = 3;
pub const BSEND_OVERHEAD: usize = 96;
pub const MAX_PROCESSOR_NAME: usize = 128;
pub const MAX_ERROR_STRING: usize = 512;
pub const MAX_LIBRARY_VERSION_STRING: usize = 8192;
pub const MAX_OBJECT_NAME: usize = 128;
pub const IN_PLACE: usize = usize::MAX; // (void *)-1
pub const STATUS_IGNORE: usize = 1;
