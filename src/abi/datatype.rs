//! Datatype chapter: handle resolution and the MPI_Type_* functions.

use crate::abi::ptr;
use crate::datatype::{self, Datatype};
use crate::error::{class, MpiError};
use crate::handle::{obj, predefined, HandleTable};
use crate::mpi_fn;
use std::ops::Deref;
use std::os::raw::c_int;
use std::sync::Arc;

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

/// Resolves a datatype handle for use in communication (`arg` names the argument).
#[inline]
pub fn get(h: c_int, arg: &str) -> Result<DtRef, MpiError> {
    if let Some(d) = datatype::predefined(h) {
        return Ok(DtRef::Builtin(d));
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

fn size_of(h: c_int) -> Result<u64, MpiError> {
    Ok(get(h, "datatype")?.size())
}

mpi_fn!(MPI_Type_size, PMPI_Type_size, (datatype: c_int, size: *mut c_int), |_ctx| {
    let s = size_of(datatype)?;
    ptr::write(size, if s > c_int::MAX as u64 { crate::abi::consts::UNDEFINED } else { s as c_int }, "size")
});

mpi_fn!(MPI_Type_size_x, PMPI_Type_size_x, (datatype: c_int, size: *mut i64), |_ctx| {
    ptr::write(size, size_of(datatype)? as i64, "size")
});

mpi_fn!(MPI_Type_size_c, PMPI_Type_size_c, (datatype: c_int, size: *mut i64), |_ctx| {
    ptr::write(size, size_of(datatype)? as i64, "size")
});
