//! The request-array calls (MPI_Waitall and friends, MPI_Startall, MPI_Request_get_status_*):
//! arrays of pointer-sized handles and of eight-int statuses become arrays of MPICH ints and
//! five-int statuses for the call, and are written back after it (completed requests become
//! MPI_REQUEST_NULL in the user's array).

use super::callbacks::face;
use super::handles as h;
use super::mpich as imp;
use super::status::{self as st, Status};
use super::values as v;
use std::os::raw::c_int;

/// The user's request array as MPICH handles; writes them back on `store`.
struct Requests {
    m: Vec<c_int>,
    user: *mut usize,
}

impl Requests {
    /// # Safety
    /// `user` is NULL or points to `n` request handles.
    unsafe fn new(user: *mut usize, n: c_int) -> Requests {
        let n = if user.is_null() { 0 } else { n.max(0) as usize };
        // SAFETY: n readable handles by the caller's contract.
        let m = (0..n).map(|i| h::req_in(unsafe { *user.add(i) })).collect();
        Requests { m, user }
    }
    fn ptr(&mut self) -> *mut c_int {
        if self.user.is_null() {
            std::ptr::null_mut()
        } else {
            self.m.as_mut_ptr()
        }
    }
    /// # Safety
    /// As for `new`.
    unsafe fn store(&self) {
        for (i, &r) in self.m.iter().enumerate() {
            // SAFETY: i < n.
            unsafe { *self.user.add(i) = h::req_out(r) };
        }
    }
}

/// How many statuses of an array a *some call filled.
unsafe fn filled(outcount: *const c_int) -> usize {
    if outcount.is_null() {
        0
    } else {
        // SAFETY: non-null: the user's outcount, set by the call.
        unsafe { (*outcount).max(0) as usize }
    }
}

face!(MPI_Waitall, PMPI_Waitall, (count: c_int, array_of_requests: *mut usize, array_of_statuses: *mut Status) {
    let mut r = Requests::new(array_of_requests, count);
    let mut s = st::Array::new(array_of_statuses, r.m.len());
    let rc = imp::PMPI_Waitall(count, r.ptr(), s.ptr() as _);
    r.store();
    s.write_back(r.m.len());
    v::err_out(rc)
});

face!(MPI_Testall, PMPI_Testall, (count: c_int, array_of_requests: *mut usize, flag: *mut c_int, array_of_statuses: *mut Status) {
    let mut r = Requests::new(array_of_requests, count);
    let mut s = st::Array::new(array_of_statuses, r.m.len());
    let rc = imp::PMPI_Testall(count, r.ptr(), flag as _, s.ptr() as _);
    r.store();
    s.write_back(r.m.len());
    v::err_out(rc)
});

face!(MPI_Waitany, PMPI_Waitany, (count: c_int, array_of_requests: *mut usize, index: *mut c_int, status: *mut Status) {
    let mut r = Requests::new(array_of_requests, count);
    let mut m = st::Mpich::default();
    let sp = st::mpich_ptr(status, &mut m);
    let rc = imp::PMPI_Waitany(count, r.ptr(), index, sp as _);
    r.store();
    st::write_std(status, &m);
    v::err_out(rc)
});

face!(MPI_Testany, PMPI_Testany, (count: c_int, array_of_requests: *mut usize, index: *mut c_int, flag: *mut c_int, status: *mut Status) {
    let mut r = Requests::new(array_of_requests, count);
    let mut m = st::Mpich::default();
    let sp = st::mpich_ptr(status, &mut m);
    let rc = imp::PMPI_Testany(count, r.ptr(), index, flag as _, sp as _);
    r.store();
    st::write_std(status, &m);
    v::err_out(rc)
});

/// MPI_Waitsome / MPI_Testsome: the filled statuses are the first *outcount.
macro_rules! some {
    ($mpi:ident, $pmpi:ident) => {
        face!($mpi, $pmpi, (incount: c_int, array_of_requests: *mut usize, outcount: *mut c_int, array_of_indices: *mut c_int, array_of_statuses: *mut Status) {
            let mut r = Requests::new(array_of_requests, incount);
            let mut s = st::Array::new(array_of_statuses, r.m.len());
            let rc = imp::$pmpi(incount, r.ptr(), outcount, array_of_indices, s.ptr() as _);
            r.store();
            s.write_back(filled(outcount).min(r.m.len()));
            v::err_out(rc)
        });
    };
}
some!(MPI_Waitsome, PMPI_Waitsome);
some!(MPI_Testsome, PMPI_Testsome);

face!(MPI_Startall, PMPI_Startall, (count: c_int, array_of_requests: *mut usize) {
    let mut r = Requests::new(array_of_requests, count);
    let rc = imp::PMPI_Startall(count, r.ptr() as _);
    r.store();
    v::err_out(rc)
});

face!(MPI_Request_get_status_all, PMPI_Request_get_status_all, (count: c_int, array_of_requests: *const usize, flag: *mut c_int, array_of_statuses: *mut Status) {
    let mut r = Requests::new(array_of_requests as *mut usize, count);
    let mut s = st::Array::new(array_of_statuses, r.m.len());
    let rc = imp::PMPI_Request_get_status_all(count, r.ptr() as _, flag as _, s.ptr() as _);
    s.write_back(r.m.len());
    v::err_out(rc)
});

face!(MPI_Request_get_status_any, PMPI_Request_get_status_any, (count: c_int, array_of_requests: *const usize, index: *mut c_int, flag: *mut c_int, status: *mut Status) {
    let mut r = Requests::new(array_of_requests as *mut usize, count);
    let mut m = st::Mpich::default();
    let sp = st::mpich_ptr(status, &mut m);
    let rc = imp::PMPI_Request_get_status_any(count, r.ptr() as _, index, flag, sp as _);
    st::write_std(status, &m);
    v::err_out(rc)
});

face!(MPI_Request_get_status_some, PMPI_Request_get_status_some, (incount: c_int, array_of_requests: *const usize, outcount: *mut c_int, array_of_indices: *mut c_int, array_of_statuses: *mut Status) {
    let mut r = Requests::new(array_of_requests as *mut usize, incount);
    let mut s = st::Array::new(array_of_statuses, r.m.len());
    let rc = imp::PMPI_Request_get_status_some(incount, r.ptr() as _, outcount, array_of_indices, s.ptr() as _);
    s.write_back(filled(outcount).min(r.m.len()));
    v::err_out(rc)
});
