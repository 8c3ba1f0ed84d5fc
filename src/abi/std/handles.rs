//! Handles across the boundary. A standard-ABI handle is pointer-sized: the predefined ones
//! are the small integers of the standard (below 0x400, tables.rs), and every other handle is
//! the MPICH-ABI `int` handle of the object, zero-extended. MPICH's user handles carry their
//! kind in the top bits (0x4.../0x8.../0xc...), so they never fall below 0x1000 and the two
//! ranges cannot meet; the mapping is a bijection and needs no table of user objects.
//! `MPI_File` is a pointer in both ABIs: only MPI_FILE_NULL differs (0 in MPICH's).

use super::tables as t;
use std::os::raw::c_int;

/// Standard values below this are reserved for predefined handles.
const PREDEFINED_LIMIT: usize = 0x1000;

/// An MPICH-ABI handle that names no object (kind bits 0): a standard value that means
/// nothing for this kind (another kind's constant, a handle MPICH does not have) becomes it,
/// so the implementation reports the argument as invalid.
const INVALID: c_int = 0;

macro_rules! kind {
    ($inp:ident, $out:ident, $to_mpich:path, $to_std:path) => {
        /// Standard handle -> MPICH-ABI handle.
        #[inline]
        pub fn $inp(h: usize) -> c_int {
            match $to_mpich(h) {
                Some(m) => m,
                None if h < PREDEFINED_LIMIT => INVALID,
                None => h as u32 as c_int,
            }
        }
        /// MPICH-ABI handle -> standard handle.
        #[inline]
        pub fn $out(m: c_int) -> usize {
            $to_std(m).unwrap_or(m as u32 as usize)
        }
    };
}

kind!(comm_in, comm_out, t::comm_mpich, t::comm_std);
kind!(group_in, group_out, t::group_mpich, t::group_std);
kind!(dtype_in, dtype_out, t::dtype_mpich, t::dtype_std);
kind!(op_in, op_out, t::op_mpich, t::op_std);
kind!(errh_in, errh_out, t::errh_mpich, t::errh_std);
kind!(req_in, req_out, t::req_mpich, t::req_std);
kind!(msg_in, msg_out, t::msg_mpich, t::msg_std);
kind!(info_in, info_out, t::info_mpich, t::info_std);
kind!(win_in, win_out, t::win_mpich, t::win_std);
kind!(session_in, session_out, t::session_mpich, t::session_std);

/// The standard's MPI_FILE_NULL.
pub const STD_FILE_NULL: usize = 0x118;

/// Standard MPI_File -> MPICH-ABI MPI_File.
#[inline]
pub fn file_in(h: usize) -> usize {
    match h {
        STD_FILE_NULL => crate::abi::io::FILE_NULL,
        // Another kind's predefined constant: a value no file has.
        h if h < PREDEFINED_LIMIT => usize::MAX,
        h => h,
    }
}

/// MPICH-ABI MPI_File -> standard MPI_File.
#[inline]
pub fn file_out(h: usize) -> usize {
    if h == crate::abi::io::FILE_NULL {
        STD_FILE_NULL
    } else {
        h
    }
}
