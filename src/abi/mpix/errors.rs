//! MPIX_Delete_error_class/_code/_string: MPICH 4.0.2's names for what MPI 4.1 calls
//! MPI_Remove_error_class/_code/_string (a user-defined class, code or string really goes:
//! the value is no longer valid, MPI_Error_string no longer knows it). One implementation
//! (`abi::errors::remove_*`); the only difference is the class of a failure: MPICH reports
//! every refusal of these calls (a predefined class, an unknown value) as MPI_ERR_OTHER
//! (its "**predeferrclass" / "**mpix_delete_error_*" codes), so the message is kept and the
//! class becomes MPI_ERR_OTHER.

#![deny(unsafe_op_in_unsafe_fn)]

use crate::abi::errors;
use crate::error::{class, MpiError};
use crate::mpi_fn;
use std::os::raw::c_int;

fn as_mpich(r: Result<(), MpiError>) -> Result<(), MpiError> {
    r.map_err(|e| MpiError::new(class::ERR_OTHER, e.message))
}

mpi_fn!(MPIX_Delete_error_class, PMPIX_Delete_error_class, (errorclass: c_int), |_ctx| {
    as_mpich(errors::remove_class(errorclass))
});

mpi_fn!(MPIX_Delete_error_code, PMPIX_Delete_error_code, (errorcode: c_int), |_ctx| {
    as_mpich(errors::remove_code(errorcode))
});

mpi_fn!(MPIX_Delete_error_string, PMPIX_Delete_error_string, (errorcode: c_int), |_ctx| {
    as_mpich(errors::remove_string(errorcode))
});
