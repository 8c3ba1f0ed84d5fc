//! Operations as collectives see them: a predefined op, or a user function registered with
//! MPI_Op_create. The C call of a user function lives in `abi::op` (the only place allowed
//! `unsafe`); here it is an opaque callable.

use super::PredefOp;
use std::sync::Arc;

/// Calls a user reduction: `(in, inout, count, datatype handle, datatype extent)`, both
/// addresses in the memory layout of `count` elements of the datatype (the extent lets an
/// `int`-count function be called in pieces).
pub type UserCall = dyn Fn(usize, usize, u64, i32, i64) + Send + Sync;

pub struct UserOp {
    pub commute: bool,
    pub call: Box<UserCall>,
}

#[derive(Clone)]
pub enum Op {
    Predef(PredefOp),
    User(Arc<UserOp>),
}

impl Op {
    pub fn is_commutative(&self) -> bool {
        match self {
            Op::Predef(p) => p.is_commutative(),
            Op::User(u) => u.commute,
        }
    }
}
