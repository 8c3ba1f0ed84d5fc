//! Local reduction of typed buffers: `inout = in op inout` for `count` elements of a
//! datatype, both buffers in the datatype's memory layout. Used by every reducing schedule
//! step and by MPI_Reduce_local.

use crate::error::{class, MpiError};
use crate::op::user::Op;
use crate::op::{self, PredefOp};
use crate::p2p::{Data, TypeKeep};
use crate::transport::mem::UserPtr;

/// Checks locally, before any communication, that `op` may reduce `dt` (collectives and
/// MPI_Reduce_local). As MPICH, the pair is checked whatever the count, and MPI_REPLACE /
/// MPI_NO_OP, which only the accumulate functions take, are refused.
pub fn check(op: &Op, dt: &TypeKeep) -> Result<(), MpiError> {
    let Op::Predef(p) = op else { return Ok(()) };
    if p.is_accumulate_only() {
        return Err(MpiError::arg(
            class::ERR_OP,
            "op",
            format!("{} is only valid in accumulate operations", p.name()),
        ));
    }
    check_predef(*p, dt)
}

fn check_predef(p: PredefOp, dt: &TypeKeep) -> Result<(), MpiError> {
    match dt.basic {
        Some(b) if op::allowed(p, b) => Ok(()),
        Some(b) => Err(MpiError::arg(
            class::ERR_OP,
            "op",
            format!("{} is not defined for datatype kind {b:?}", p.name()),
        )),
        // A derived type holding no data has no basic type: nothing to reduce.
        None if dt.size() == 0 => Ok(()),
        None => Err(MpiError::arg(
            class::ERR_OP,
            "op",
            format!(
                "{} needs a datatype built from a single predefined type",
                p.name()
            ),
        )),
    }
}

/// `inout = inp op inout` over `count` elements of `dt` (`dt_handle` is what a user
/// function receives). Both pointers are buffer addresses as the user would pass them.
pub fn reduce(
    op: &Op,
    dt: &TypeKeep,
    dt_handle: i32,
    inp: UserPtr,
    inout: UserPtr,
    count: u64,
) -> Result<(), MpiError> {
    if count == 0 || dt.size() == 0 {
        return Ok(());
    }
    let p = match op {
        Op::User(u) => {
            (u.call)(inp.addr(), inout.addr(), count, dt_handle, dt.extent());
            return Ok(());
        }
        Op::Predef(p) => *p,
    };
    let basic = dt
        .basic
        .ok_or_else(|| MpiError::new(class::ERR_OP, "reduction on a mixed datatype"))?;
    let bytes = (count * dt.size()) as usize;
    let elems = bytes / op::elem_size(basic, op::Layout::Packed).max(1);
    if dt.is_contiguous() {
        let (a, b) = (inp.offset(dt.true_lb), inout.offset(dt.true_lb));
        a.with_slice(0, bytes, |a| {
            b.with_slice_mut(0, bytes, |b| op::apply(p, basic, a, b, elems))
        })?;
        return Ok(());
    }
    // Scattered or padded elements: reduce packed copies, then scatter the result back.
    let din = Data::new(inp, count, dt.clone());
    let dio = Data::new(inout, count, dt.clone());
    let mut a = vec![0u8; bytes];
    let mut b = vec![0u8; bytes];
    din.pack(0, &mut a);
    dio.pack(0, &mut b);
    op::apply(p, basic, &a, &mut b, elems)?;
    dio.unpack(0, &b);
    Ok(())
}
