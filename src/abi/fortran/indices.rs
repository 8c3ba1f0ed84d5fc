//! Completion routines that return indices: Fortran indices start at 1.

use super::fort;
use super::rt::*;
use crate::abi::request::*;
use std::os::raw::c_int;

// Completion with indices: Fortran indices start at 1.

/// Adds 1 to an index the C call returned, unless it is MPI_UNDEFINED.
unsafe fn index_out(r: c_int, index: *mut Fint) {
    if r == MPI_SUCCESS && rd(index) != MPI_UNDEFINED && rd(index) >= 0 {
        wr(index, rd(index) + 1);
    }
}

unsafe fn indices_out(r: c_int, outcount: *const Fint, indices: *mut Fint) {
    if r == MPI_SUCCESS && rd(outcount) != MPI_UNDEFINED {
        for i in 0..rd(outcount).max(0) as usize {
            *indices.add(i) += 1;
        }
    }
}

fort! { [pmpi_waitany, pmpi_waitany__, PMPI_WAITANY, mpi_waitany, mpi_waitany_, mpi_waitany__, MPI_WAITANY]
pmpi_waitany_ (count: *const Fint, reqs: *mut Fint, index: *mut Fint, st: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Waitany(rd(count), reqs as _, index, status(st) as _);
    index_out(r, index);
    set_ierr(ierror, r);
} }

fort! { [pmpi_testany, pmpi_testany__, PMPI_TESTANY, mpi_testany, mpi_testany_, mpi_testany__, MPI_TESTANY]
pmpi_testany_ (count: *const Fint, reqs: *mut Fint, index: *mut Fint, flag: *mut Fint, st: *mut Fint,
    ierror: *mut Fint) {
    let r = PMPI_Testany(rd(count), reqs as _, index, flag, status(st) as _);
    index_out(r, index);
    set_ierr(ierror, r);
} }

fort! { [pmpi_request_get_status_any, pmpi_request_get_status_any__, PMPI_REQUEST_GET_STATUS_ANY,
    mpi_request_get_status_any, mpi_request_get_status_any_, mpi_request_get_status_any__,
    MPI_REQUEST_GET_STATUS_ANY]
pmpi_request_get_status_any_ (count: *const Fint, reqs: *mut Fint, index: *mut Fint, flag: *mut Fint,
    st: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Request_get_status_any(rd(count), reqs as _, index, flag, status(st) as _);
    index_out(r, index);
    set_ierr(ierror, r);
} }

fort! { [pmpi_waitsome, pmpi_waitsome__, PMPI_WAITSOME, mpi_waitsome, mpi_waitsome_, mpi_waitsome__, MPI_WAITSOME]
pmpi_waitsome_ (incount: *const Fint, reqs: *mut Fint, outcount: *mut Fint, indices: *mut Fint,
    sts: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Waitsome(rd(incount), reqs as _, outcount, indices, statuses(sts) as _);
    indices_out(r, outcount, indices);
    set_ierr(ierror, r);
} }

fort! { [pmpi_testsome, pmpi_testsome__, PMPI_TESTSOME, mpi_testsome, mpi_testsome_, mpi_testsome__, MPI_TESTSOME]
pmpi_testsome_ (incount: *const Fint, reqs: *mut Fint, outcount: *mut Fint, indices: *mut Fint,
    sts: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Testsome(rd(incount), reqs as _, outcount, indices, statuses(sts) as _);
    indices_out(r, outcount, indices);
    set_ierr(ierror, r);
} }

fort! { [pmpi_request_get_status_some, pmpi_request_get_status_some__, PMPI_REQUEST_GET_STATUS_SOME,
    mpi_request_get_status_some, mpi_request_get_status_some_, mpi_request_get_status_some__,
    MPI_REQUEST_GET_STATUS_SOME]
pmpi_request_get_status_some_ (incount: *const Fint, reqs: *mut Fint, outcount: *mut Fint,
    indices: *mut Fint, sts: *mut Fint, ierror: *mut Fint) {
    let r = PMPI_Request_get_status_some(rd(incount), reqs as _, outcount, indices, statuses(sts) as _);
    indices_out(r, outcount, indices);
    set_ierr(ierror, r);
} }
