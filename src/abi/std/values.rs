//! Integer constants and special pointers across the boundary: ranks and tags with their
//! wildcards, error codes, OR-ed mode flags, weights, MPI_IN_PLACE and friends. The
//! enumerations that map one to one (thread levels, combiners, ...) are in tables.rs.

use super::tables as t;
use crate::abi::symbols;
use std::os::raw::{c_int, c_void};

pub use t::{
    combiner_out, compare_out, keyval_in, keyval_out, lock_in, order_in, seek_in, split_type_in,
    thread_in, thread_out, topo_out, typeclass_in,
};
#[cfg(feature = "std-abi-mpit")]
pub use t::{
    t_bind_out, t_cb_safety_in, t_pvar_class_in, t_pvar_class_out, t_scope_out, t_source_order_out,
    t_verbosity_out,
};

/// A negative rank or tag that means nothing in either ABI: standard values that collide
/// with an MPICH special of another meaning become it, so they are reported as invalid.
const BAD_NEGATIVE: c_int = -1_000_000;

/// A rank argument (source, dest, root, target rank).
#[inline]
pub fn rank_in(r: c_int) -> c_int {
    match r {
        t::STD_ANY_SOURCE => t::MPICH_ANY_SOURCE,
        t::STD_PROC_NULL => t::MPICH_PROC_NULL,
        t::STD_ROOT => t::MPICH_ROOT,
        // MPI_ANY_TAG's value, MPICH's MPI_ANY_SOURCE/PROC_NULL/ROOT: invalid as ranks here.
        r if r < 0 && r != t::STD_UNDEFINED => BAD_NEGATIVE.min(r),
        r => r,
    }
}

/// A rank returned (status source, MPI_Cart_shift, translated ranks).
#[inline]
pub fn rank_out(r: c_int) -> c_int {
    match r {
        t::MPICH_ANY_SOURCE => t::STD_ANY_SOURCE,
        t::MPICH_PROC_NULL => t::STD_PROC_NULL,
        t::MPICH_ROOT => t::STD_ROOT,
        r => r,
    }
}

/// A tag argument.
#[inline]
pub fn tag_in(tag: c_int) -> c_int {
    match tag {
        t::STD_ANY_TAG => t::MPICH_ANY_TAG,
        tag if tag < 0 => BAD_NEGATIVE.min(tag),
        tag => tag,
    }
}

/// A tag returned in a status.
#[inline]
pub fn tag_out(tag: c_int) -> c_int {
    if tag == t::MPICH_ANY_TAG {
        t::STD_ANY_TAG
    } else {
        tag
    }
}

/// Bits of an error code that hold its class (MPICH's layout: class in the low 7 bits,
/// the index of the saved message above; user codes have bit 30 set).
const CLASS_MASK: c_int = 0x7f;
const DYN_BIT: c_int = crate::abi::errors::DYN_BIT;

/// An MPICH-ABI error code or class -> the standard's. Classes map through the table;
/// a specific code keeps its message index and gets the standard class in the low bits, so
/// MPI_Error_class and MPI_Error_string find it again; user codes and classes (bit 30)
/// are the same in both.
#[inline]
pub fn err_out(code: c_int) -> c_int {
    if code == 0 || (code & DYN_BIT != 0 && code > 0) {
        return code;
    }
    if let Some(c) = t::class_std(code) {
        return c;
    }
    match t::class_std(code & CLASS_MASK) {
        Some(c) if c <= CLASS_MASK => (code & !CLASS_MASK) | c,
        // An MPI_T class has no room in the low bits: the class alone.
        Some(c) => c,
        None => code,
    }
}

/// The standard's error code or class -> MPICH's (inverse of `err_out`).
#[inline]
pub fn err_in(code: c_int) -> c_int {
    if code == 0 || (code & DYN_BIT != 0 && code > 0) {
        return code;
    }
    if let Some(c) = t::class_mpich(code) {
        return c;
    }
    match t::class_mpich(code & CLASS_MASK) {
        Some(c) if code > CLASS_MASK => (code & !CLASS_MASK) | c,
        _ => code,
    }
}

/// Translates an array of `n` error codes in place (MPI_ERRCODES_IGNORE is NULL in both).
///
/// # Safety
/// `codes` is NULL or points to `n` writable ints.
pub unsafe fn errcodes_out(codes: *mut c_int, n: c_int) {
    if codes.is_null() {
        return;
    }
    for i in 0..n.max(0) as usize {
        // SAFETY: i < n by the caller's contract.
        unsafe { *codes.add(i) = err_out(*codes.add(i)) };
    }
}

fn bits(v: c_int, table: &[(c_int, c_int)], to_mpich: bool) -> c_int {
    let mut known = 0;
    let mut out = 0;
    for &(s, m) in table {
        let (from, to) = if to_mpich { (s, m) } else { (m, s) };
        known |= from;
        if v & from != 0 {
            out |= to;
        }
    }
    // Unknown bits go through unchanged, for the implementation to reject.
    out | (v & !known)
}

pub fn file_mode_in(v: c_int) -> c_int {
    bits(v, t::FILE_MODE_BITS, true)
}
pub fn file_mode_out(v: c_int) -> c_int {
    bits(v, t::FILE_MODE_BITS, false)
}
pub fn win_assert_in(v: c_int) -> c_int {
    bits(v, t::WIN_ASSERT_BITS, true)
}

/// The standard's MPI_UNWEIGHTED and MPI_WEIGHTS_EMPTY (small integers) -> MPICH's
/// (addresses of exported sentinels).
pub fn weights_in(p: *const c_int) -> *const c_int {
    match p as usize {
        10 => symbols::MPI_UNWEIGHTED.0 as *const c_int,
        11 => symbols::MPI_WEIGHTS_EMPTY.0 as *const c_int,
        _ => p,
    }
}

/// The standard's MPI_IN_PLACE ((void *)1) and MPI_BUFFER_AUTOMATIC ((void *)2) -> MPICH's
/// ((void *)-1 and (void *)-2). No buffer lives at address 1 or 2.
pub fn buf_in(p: *const c_void) -> *const c_void {
    match p as usize {
        1 => usize::MAX as *const c_void,
        2 => (usize::MAX - 1) as *const c_void,
        _ => p,
    }
}

/// MPI_DISPLACEMENT_CURRENT: -1 in the standard ABI.
pub fn disp_in(d: i64) -> i64 {
    if d == -1 {
        t::MPICH_DISPLACEMENT_CURRENT
    } else {
        d
    }
}
pub fn disp_out(d: i64) -> i64 {
    if d == t::MPICH_DISPLACEMENT_CURRENT {
        -1
    } else {
        d
    }
}

/// MPI_DISTRIBUTE_* and MPI_DISTRIBUTE_DFLT_DARG of MPI_Type_create_darray.
pub use t::distribute_in;
pub fn darg_in(d: c_int) -> c_int {
    if d == t::STD_DISTRIBUTE_DFLT_DARG {
        t::MPICH_DISTRIBUTE_DFLT_DARG
    } else {
        d
    }
}

/// The standard's MPI_T_PVAR_ALL_HANDLES ((MPI_T_pvar_handle)1) -> MPICH's (the address of
/// an exported sentinel).
pub fn pvar_handle_in(h: usize) -> usize {
    if h == 1 {
        symbols::MPI_T_PVAR_ALL_HANDLES.0 as usize
    } else {
        h
    }
}
