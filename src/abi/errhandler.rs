//! Errhandler objects and the error-code queries.

use super::ptr;
use crate::error::{class, MpiError};
use crate::handle::{kind, obj, predefined, HandleTable, KIND_BUILTIN};
use crate::mpi_fn;
use crate::object::errhandler::Errhandler;
use std::os::raw::{c_char, c_int};

/// User errhandlers.
pub static ERRHANDLERS: HandleTable<Errhandler> = HandleTable::new(obj::ERRHANDLER);

mpi_fn!(MPI_Errhandler_free, PMPI_Errhandler_free, (errhandler: *mut c_int), |_ctx| {
    let h = ptr::read(errhandler, "errhandler")?;
    let builtin = kind(h) == KIND_BUILTIN && crate::handle::obj_type(h) == obj::ERRHANDLER;
    if !builtin && ERRHANDLERS.remove(h).is_none() {
        return Err(MpiError::arg(class::ERR_ARG, "errhandler", format!("invalid errhandler handle {h:#x}")));
    }
    ptr::write(errhandler, predefined::ERRHANDLER_NULL, "errhandler")
});

mpi_fn!(MPI_Error_class, PMPI_Error_class, (errorcode: c_int, errorclass: *mut c_int), |_ctx| {
    if errorcode < 0 || super::errors::string_of(errorcode).is_none() {
        return Err(MpiError::arg(class::ERR_ARG, "errorcode", format!("{errorcode} is not a valid error code")));
    }
    ptr::write(errorclass, super::errors::class_of(errorcode), "errorclass")
});

mpi_fn!(MPI_Error_string, PMPI_Error_string, (errorcode: c_int, string: *mut c_char, resultlen: *mut c_int), |_ctx| {
    let s = super::errors::string_of(errorcode)
        .ok_or_else(|| MpiError::arg(class::ERR_ARG, "errorcode", format!("{errorcode} is not a valid error code")))?;
    ptr::write_str(string, super::consts::MAX_ERROR_STRING, &s, resultlen, "string")
});
