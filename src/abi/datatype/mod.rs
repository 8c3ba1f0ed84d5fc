//! Datatype chapter: handle resolution and every MPI_Type_*, MPI_Pack*, MPI_Unpack*,
//! MPI_Get_count / MPI_Get_elements, address and deprecated MPI-1 function.
//!
//! Each `int` function and its `_c` twin share one body; the core lives in
//! `crate::datatype`.
//!
//! Here: handles, commit and free, extents and sizes, names and addresses; the type
//! constructors are in `constructors`, the envelope and contents queries in `contents`, the
//! element counts of a status in `counts`, and packing in `pack`.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod builtins;
mod constructors;
mod contents;
mod counts;
mod pack;
pub use constructors::*;
pub use contents::*;
pub use counts::*;
pub use pack::*;

use crate::abi::arg;
use crate::abi::consts::UNDEFINED;
use crate::datatype::{self, construct, f90, subarray, Datatype, TypeRef};
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::transport::mem::UserPtr;
use crate::{mpi_fn, mpi_fn_value};
use parking_lot::Mutex;
use std::ops::Deref;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Arc;

type Aint = i64;
type Count = i64;

/// User-defined datatypes.
pub static TYPES: HandleTable<Datatype> = HandleTable::new(obj::DATATYPE);

/// A resolved datatype handle: a predefined type or a user one kept alive by the Arc.
pub enum DtRef {
    Builtin(&'static Datatype),
    User(Arc<Datatype>),
}

impl Deref for DtRef {
    type Target = Datatype;
    #[inline]
    fn deref(&self) -> &Datatype {
        match self {
            DtRef::Builtin(d) => d,
            DtRef::User(d) => d,
        }
    }
}

/// Resolves a datatype handle for use in communication, packing, or anything that reads
/// or writes data (`arg` names the argument): the type must be committed.
#[inline]
pub fn get(h: c_int, arg: &str) -> Result<DtRef, MpiError> {
    let d = get_any(h, arg)?;
    if !d.is_committed() {
        return Err(MpiError::arg(
            class::ERR_TYPE,
            arg,
            "datatype has not been committed (MPI_Type_commit)",
        ));
    }
    Ok(d)
}

/// Resolves a datatype handle committed or not (constructors, queries, commit itself).
#[inline]
pub fn get_any(h: c_int, arg: &str) -> Result<DtRef, MpiError> {
    if let Some(id) = builtins::builtin_of(h) {
        return Ok(DtRef::Builtin(datatype::builtin(id)));
    }
    if h == predefined::DATATYPE_NULL {
        return Err(MpiError::arg(class::ERR_TYPE, arg, "MPI_DATATYPE_NULL"));
    }
    TYPES.get(h).map(DtRef::User).ok_or_else(|| {
        MpiError::arg(
            class::ERR_TYPE,
            arg,
            format!("invalid datatype handle {h:#x}"),
        )
    })
}

/// A handle as a constructor component.
fn tref(h: c_int, arg: &str) -> Result<TypeRef, MpiError> {
    component(h, get_any(h, arg)?)
}

/// `d`, resolved from handle `h`, as the datatype model names a component: a builtin by
/// its id, a user type by its object.
pub fn component(h: c_int, d: DtRef) -> Result<TypeRef, MpiError> {
    Ok(match d {
        DtRef::Builtin(d) => {
            let id = builtins::builtin_of(h).ok_or_else(|| {
                MpiError::intern(format!(
                    "{h:#x} resolved to a builtin type without being one"
                ))
            })?;
            TypeRef::Predefined(id, d)
        }
        DtRef::User(d) => TypeRef::Derived(d),
    })
}

/// Registers a new type and stores its handle in `*out`.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn publish(dt: Datatype, out: *mut c_int) -> Result<(), MpiError> {
    if out.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "newtype", "null pointer"));
    }
    // SAFETY: `out` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(out, TYPES.insert(Arc::new(dt)), "newtype") }
}

/// A C array of `n` integers of either width, widened to i64.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn ints<T: Copy + Into<i64>>(
    p: *const T,
    n: usize,
    arg: &str,
) -> Result<Vec<i64>, MpiError> {
    // SAFETY: `p` is the C caller's, null or valid for this use (MPI contract).
    Ok(unsafe { arg::slice(p, n, arg) }?
        .iter()
        .map(|&x| x.into())
        .collect())
}

fn count_arg(n: i64, arg: &str) -> Result<usize, MpiError> {
    usize::try_from(n)
        .map_err(|_| MpiError::arg(class::ERR_COUNT, arg, format!("negative count {n}")))
}

/// Narrows a value for an `int` output; too large values are an error (MPI 4.0 §5.1).
fn to_int(v: i64, arg: &str) -> Result<c_int, MpiError> {
    c_int::try_from(v).map_err(|_| {
        MpiError::arg(
            class::ERR_VALUE_TOO_LARGE,
            arg,
            format!("{v} does not fit in an int; use the _c variant"),
        )
    })
}

// ---------------------------------------------------------------- commit / free

mpi_fn!(MPI_Type_commit, PMPI_Type_commit, (datatype: *mut c_int), |_ctx| {
    // SAFETY: `datatype` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(datatype, "datatype") }?;
    get_any(h, "datatype")?.commit();
    Ok(())
});

mpi_fn!(MPI_Type_free, PMPI_Type_free, (datatype: *mut c_int), |_ctx| {
    // SAFETY: `datatype` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(datatype, "datatype") }?;
    let d = get_any(h, "datatype")?;
    match &*d {
        d if d.contents.combiner == datatype::combiner::NAMED => {
            return Err(MpiError::arg(class::ERR_TYPE, "datatype", "predefined datatypes cannot be freed"));
        }
        // The f90 types are predefined by the standard: the handle stays valid for the
        // next MPI_Type_create_f90_* (MPICH also accepts this call).
        d if d.is_predefined() => {}
        d => {
            // Attributes go first, through their delete callbacks; users of the type
            // (pending requests, types built from it) hold their Arc.
            super::attr::type_free_attrs(h, d)?;
            TYPES.remove(h);
        }
    }
    // SAFETY: `datatype` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(datatype, predefined::DATATYPE_NULL, "datatype") }
});

// ---------------------------------------------------------------- extents and sizes

fn size_of(h: c_int) -> Result<u64, MpiError> {
    Ok(get_any(h, "datatype")?.size())
}

mpi_fn!(MPI_Type_size, PMPI_Type_size, (datatype: c_int, size: *mut c_int), |_ctx| {
    let s = size_of(datatype)?;
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, if s > c_int::MAX as u64 { UNDEFINED } else { s as c_int }, "size") }
});
mpi_fn!(MPI_Type_size_x, PMPI_Type_size_x, (datatype: c_int, size: *mut Count), |_ctx| {
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, size_of(datatype)? as i64, "size") }
});
mpi_fn!(MPI_Type_size_c, PMPI_Type_size_c, (datatype: c_int, size: *mut Count), |_ctx| {
    // SAFETY: `size` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(size, size_of(datatype)? as i64, "size") }
});

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn extent(h: c_int, lb: *mut i64, ext: *mut i64, true_bounds: bool) -> Result<(), MpiError> {
    let d = get_any(h, "datatype")?;
    let (l, e) = if true_bounds {
        (d.true_lb, d.true_ub - d.true_lb)
    } else {
        (d.lb, d.extent())
    };
    // SAFETY: `lb` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(lb, l, "lb") }?;
    // SAFETY: `ext` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(ext, e, "extent") }
}

mpi_fn!(MPI_Type_get_extent, PMPI_Type_get_extent, (datatype: c_int, lb: *mut Aint, extent_: *mut Aint), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { extent(datatype, lb, extent_, false) }
});
mpi_fn!(MPI_Type_get_extent_c, PMPI_Type_get_extent_c, (datatype: c_int, lb: *mut Count, extent_: *mut Count), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { extent(datatype, lb, extent_, false) }
});
mpi_fn!(MPI_Type_get_extent_x, PMPI_Type_get_extent_x, (datatype: c_int, lb: *mut Count, extent_: *mut Count), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { extent(datatype, lb, extent_, false) }
});
mpi_fn!(MPI_Type_get_true_extent, PMPI_Type_get_true_extent, (datatype: c_int, true_lb: *mut Aint, true_extent: *mut Aint), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { extent(datatype, true_lb, true_extent, true) }
});
mpi_fn!(MPI_Type_get_true_extent_c, PMPI_Type_get_true_extent_c, (datatype: c_int, true_lb: *mut Count, true_extent: *mut Count), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { extent(datatype, true_lb, true_extent, true) }
});
mpi_fn!(MPI_Type_get_true_extent_x, PMPI_Type_get_true_extent_x, (datatype: c_int, true_lb: *mut Count, true_extent: *mut Count), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { extent(datatype, true_lb, true_extent, true) }
});

mpi_fn!(MPI_Type_extent, PMPI_Type_extent, (datatype: c_int, extent_: *mut Aint), |_ctx| {
    // SAFETY: `extent_` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(extent_, get_any(datatype, "datatype")?.extent(), "extent") }
});
mpi_fn!(MPI_Type_lb, PMPI_Type_lb, (datatype: c_int, displacement: *mut Aint), |_ctx| {
    // SAFETY: `displacement` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(displacement, get_any(datatype, "datatype")?.lb, "displacement") }
});
mpi_fn!(MPI_Type_ub, PMPI_Type_ub, (datatype: c_int, displacement: *mut Aint), |_ctx| {
    // SAFETY: `displacement` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(displacement, get_any(datatype, "datatype")?.ub, "displacement") }
});

// ---------------------------------------------------------------- names

mpi_fn!(MPI_Type_set_name, PMPI_Type_set_name, (datatype: c_int, type_name: *const c_char), |_ctx| {
    let d = get_any(datatype, "datatype")?;
    // SAFETY: `type_name` is the C caller's, null or valid for this use (MPI contract).
    let s = unsafe { arg::cstr(type_name, "type_name") }?;
    let mut n = s.len().min(crate::abi::consts::MAX_OBJECT_NAME - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    *d.name.lock() = s[..n].to_string();
    Ok(())
});

mpi_fn!(MPI_Type_get_name, PMPI_Type_get_name, (datatype: c_int, type_name: *mut c_char, resultlen: *mut c_int), |_ctx| {
    if datatype == predefined::DATATYPE_NULL {
        // MPICH names the null handle too (mpi4py relies on it).
        // SAFETY: `type_name` is the C caller's, null or valid for this use (MPI contract).
        return unsafe { arg::write_str(type_name, crate::abi::consts::MAX_OBJECT_NAME, "MPI_DATATYPE_NULL", resultlen, "type_name") };
    }
    let d = get_any(datatype, "datatype")?;
    if resultlen.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "resultlen", "null pointer"));
    }
    let name = d.name.lock().clone();
    // SAFETY: `type_name` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(type_name, crate::abi::consts::MAX_OBJECT_NAME, &name, resultlen, "type_name") }
});

// ---------------------------------------------------------------- addresses

mpi_fn!(MPI_Get_address, PMPI_Get_address, (location: *const c_void, address: *mut Aint), |_ctx| {
    // SAFETY: `address` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(address, location as usize as i64, "address") }
});
mpi_fn!(MPI_Address, PMPI_Address, (location: *const c_void, address: *mut Aint), |_ctx| {
    // SAFETY: `address` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(address, location as usize as i64, "address") }
});
mpi_fn_value!(MPI_Aint_add, PMPI_Aint_add, (base: Aint, disp: Aint) -> Aint, fallback 0, {
    base.wrapping_add(disp)
});
mpi_fn_value!(MPI_Aint_diff, PMPI_Aint_diff, (addr1: Aint, addr2: Aint) -> Aint, fallback 0, {
    addr1.wrapping_sub(addr2)
});
