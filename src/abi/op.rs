//! Reduction operations: MPI_Op_create(_c), MPI_Op_free, MPI_Op_commutative,
//! MPI_Reduce_local(_c). User functions are kept as closures that make the C call.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::coll;
use super::consts::IN_PLACE;
use super::pt2pt::data;
use crate::coll::reduce;
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::mpi_fn;
use crate::op::user::{Op, UserOp};
use crate::op::PredefOp;
use std::os::raw::{c_int, c_void};
use std::sync::Arc;

/// User operations.
pub static OPS: HandleTable<UserOp> = HandleTable::new(obj::OP);

type UserFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_int, *mut c_int);
type UserFnC = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut i64, *mut c_int);

/// Handle of MPI_MAX; the other predefined ops follow in `PredefOp::ALL`'s order (MPICH's
/// mpi.h), up to MPI_NO_OP (0x5800000e).
const FIRST_PREDEF_OP: u32 = 0x5800_0001;

/// The predefined op behind an MPICH op handle; None for anything else, including
/// MPI_OP_NULL and user ops.
pub(crate) fn predef_op(h: c_int) -> Option<PredefOp> {
    let idx = (h as u32).checked_sub(FIRST_PREDEF_OP)? as usize;
    PredefOp::ALL.get(idx).copied()
}

/// The MPICH handle of a predefined op (the inverse of `predef_op`; only the tests need it).
#[cfg(test)]
fn predef_handle(op: PredefOp) -> c_int {
    (FIRST_PREDEF_OP + op as u32) as c_int
}

/// The operation behind handle `h`.
pub fn get(h: c_int) -> Result<Op, MpiError> {
    if let Some(p) = predef_op(h) {
        return Ok(Op::Predef(p));
    }
    if h == predefined::OP_NULL {
        return Err(MpiError::arg(class::ERR_OP, "op", "MPI_OP_NULL"));
    }
    OPS.get(h)
        .map(Op::User)
        .ok_or_else(|| MpiError::arg(class::ERR_OP, "op", format!("invalid op handle {h:#x}")))
}

/// Registers a user operation; its handle. The standard-ABI face registers its callers here
/// too (one closure per op: no trampoline, so no limit on distinct functions).
pub(crate) fn insert(call: Box<crate::op::user::UserCall>, commute: bool) -> c_int {
    OPS.insert(Arc::new(UserOp { commute, call }))
}

/// Calls `f(byte offset, n)` over `count` elements of a datatype of extent `extent` in pieces
/// of at most INT_MAX elements: what an `int`-count MPI_User_function can take in one call.
pub(crate) fn in_int_pieces(count: u64, extent: i64, mut f: impl FnMut(isize, &mut c_int)) {
    let mut done = 0u64;
    while done < count {
        let mut n = (count - done).min(c_int::MAX as u64) as c_int;
        f((done as i64 * extent) as isize, &mut n);
        done += n.max(1) as u64;
    }
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn create(
    call: Box<crate::op::user::UserCall>,
    commute: c_int,
    op: *mut c_int,
) -> Result<(), MpiError> {
    if op.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "op", "null pointer"));
    }
    let h = insert(call, commute != 0);
    // SAFETY: `op` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(op, h, "op") }
}

mpi_fn!(MPI_Op_create, PMPI_Op_create, (user_fn: Option<UserFn>, commute: c_int, op: *mut c_int), |_ctx| {
    let f = user_fn.ok_or_else(|| MpiError::arg(class::ERR_ARG, "user_fn", "null function"))?;
    let call = move |a: usize, b: usize, count: u64, dt: i32, extent: i64| {
        in_int_pieces(count, extent, |off, n| {
            let mut d = dt;
            // SAFETY: the user registered `f` as an MPI_User_function; the buffers hold
            // `count` elements of `dt` in its memory layout for the duration of the call.
            unsafe {
                f(
                    (a as *mut u8).wrapping_offset(off) as *mut c_void,
                    (b as *mut u8).wrapping_offset(off) as *mut c_void,
                    n,
                    &mut d,
                )
            }
        })
    };
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create(Box::new(call), commute, op) }
});

mpi_fn!(MPI_Op_create_c, PMPI_Op_create_c, (user_fn: Option<UserFnC>, commute: c_int, op: *mut c_int), |_ctx| {
    let f = user_fn.ok_or_else(|| MpiError::arg(class::ERR_ARG, "user_fn", "null function"))?;
    let call = move |a: usize, b: usize, count: u64, dt: i32, _extent: i64| {
        let mut n = count as i64;
        let mut d = dt;
        // SAFETY: the user registered `f` as an MPI_User_function_c; the buffers hold
        // `count` elements of `dt` in its memory layout for the duration of the call.
        unsafe { f(a as *mut c_void, b as *mut c_void, &mut n, &mut d) };
    };
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create(Box::new(call), commute, op) }
});

mpi_fn!(MPI_Op_free, PMPI_Op_free, (op: *mut c_int), |_ctx| {
    // SAFETY: `op` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(op, "op") }?;
    if predef_op(h).is_some() {
        return Err(MpiError::arg(class::ERR_OP, "op", "cannot free a predefined op"));
    }
    // Collectives in flight keep their own reference to the function.
    OPS.remove(h)
        .ok_or_else(|| MpiError::arg(class::ERR_OP, "op", format!("invalid op handle {h:#x}")))?;
    // SAFETY: `op` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(op, predefined::OP_NULL, "op") }
});

mpi_fn!(MPI_Op_commutative, PMPI_Op_commutative, (op: c_int, commute: *mut c_int), |_ctx| {
    let o = get(op)?;
    // SAFETY: `commute` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(commute, o.is_commutative() as c_int, "commute") }
});

fn reduce_local(
    inbuf: *const c_void,
    inoutbuf: *mut c_void,
    count: i64,
    dt: c_int,
    op: c_int,
) -> Result<(), MpiError> {
    let o = get(op)?;
    // MPI_IN_PLACE is no buffer here (MPICH: MPI_ERR_BUFFER); it must never be read.
    for (p, arg) in [(inbuf, "inbuf"), (inoutbuf as *const c_void, "inoutbuf")] {
        if p as usize == IN_PLACE {
            return Err(MpiError::arg(
                class::ERR_BUFFER,
                arg,
                "MPI_IN_PLACE is not allowed in MPI_Reduce_local",
            ));
        }
    }
    let a = data(inbuf, count, dt)?;
    let b = data(inoutbuf, count, dt)?;
    coll::check_alias(inbuf, inoutbuf, count > 0, "inoutbuf")?;
    reduce::check(&o, &a.dt)?;
    reduce::reduce(&o, &a.dt, dt, a.ptr, b.ptr, count as u64)
}

mpi_fn!(MPI_Reduce_local, PMPI_Reduce_local, (inbuf: *const c_void, inoutbuf: *mut c_void, count: c_int, datatype: c_int, op: c_int), |_ctx| {
    reduce_local(inbuf, inoutbuf, count as i64, datatype, op)
});

mpi_fn!(MPI_Reduce_local_c, PMPI_Reduce_local_c, (inbuf: *const c_void, inoutbuf: *mut c_void, count: i64, datatype: c_int, op: c_int), |_ctx| {
    reduce_local(inbuf, inoutbuf, count, datatype, op)
});

#[cfg(test)]
mod tests {
    use super::{predef_handle, predef_op};
    use crate::op::PredefOp::{self, Max, Minloc, NoOp, Sum};

    #[test]
    fn handles_round_trip_with_mpich_values() {
        assert_eq!(predef_op(0x58000001), Some(Max));
        assert_eq!(predef_op(0x58000003), Some(Sum));
        assert_eq!(predef_op(0x5800000b), Some(Minloc));
        assert_eq!(predef_op(0x5800000e), Some(NoOp));
        for op in PredefOp::ALL {
            assert_eq!(predef_op(predef_handle(op)), Some(op));
            assert!(op.name().starts_with("MPI_"));
        }
        assert_eq!(Sum.name(), "MPI_SUM");
        assert_eq!(NoOp.name(), "MPI_NO_OP");
        for bad in [
            0x18000000u32,
            0x58000000,
            0x5800000f,
            0x98000000,
            0,
            0xffffffff,
        ] {
            assert_eq!(predef_op(bad as i32), None, "{bad:#x}");
        }
    }
}
