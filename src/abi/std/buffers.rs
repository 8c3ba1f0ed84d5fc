//! Buffered-send buffers and MPI_Get_version: where the standard ABI's header promises
//! something MPICH's differs on.
//!
//! MPI_BSEND_OVERHEAD is 512 in the standard ABI and 96 in MPICH's, so a standard-ABI
//! program sizes its buffers with 416 bytes more per message than the implementation
//! reserves. The face hands the implementation the buffer less that difference (and adds
//! it back on detach): a buffer the program sized for k messages of its own accounting
//! holds at least k messages, and one too small for a single message is still refused
//! (MPI_ERR_BUFFER), as the standard's header lets the program expect.

use super::callbacks::face;
use super::handles as h;
use super::mpich as imp;
use super::tables as t;
use super::values as v;
use std::os::raw::{c_int, c_void};

/// Bytes per message the standard-ABI program reserves beyond what the implementation does.
const EXTRA: i64 = t::STD_BSEND_OVERHEAD as i64 - crate::abi::consts::BSEND_OVERHEAD as i64;

/// The standard's MPI_BUFFER_AUTOMATIC.
const STD_AUTOMATIC: usize = 2;

fn size_in(buffer: *mut c_void, size: i64) -> i64 {
    if buffer as usize == STD_AUTOMATIC {
        size
    } else {
        (size - EXTRA).max(0)
    }
}

/// After a detach: the standard's MPI_BUFFER_AUTOMATIC for MPICH's, the size as attached.
///
/// # Safety
/// `addr` and `size` are the user's (NULL or writable).
unsafe fn detached<T: Copy + TryFrom<i64> + Into<i64>>(addr: *mut c_void, size: *mut T) {
    if addr.is_null() {
        return;
    }
    let slot = addr as *mut *mut c_void;
    // SAFETY: addr is the user's void ** slot, filled by the call.
    unsafe {
        if v::buf_in(STD_AUTOMATIC as *const c_void) == *slot as *const c_void {
            *slot = STD_AUTOMATIC as *mut c_void;
        } else if !size.is_null() && !(*slot).is_null() {
            // (No buffer attached: NULL and 0, as the implementation said.)
            if let Ok(s) = T::try_from((*size).into() + EXTRA) {
                *size = s;
            }
        }
    }
}

macro_rules! attach {
    ($mpi:ident, $pmpi:ident, $cnt:ty $(, $obj:ident : $conv:path)?) => {
        face!($mpi, $pmpi, ($($obj: usize,)? buffer: *mut c_void, size: $cnt) {
            let s = size_in(buffer, size as i64) as $cnt;
            v::err_out(imp::$pmpi($($conv($obj),)? v::buf_in(buffer) as *mut c_void, s))
        });
    };
}
macro_rules! detach {
    ($mpi:ident, $pmpi:ident, $cnt:ty $(, $obj:ident : $conv:path)?) => {
        face!($mpi, $pmpi, ($($obj: usize,)? buffer_addr: *mut c_void, size: *mut $cnt) {
            let rc = imp::$pmpi($($conv($obj),)? buffer_addr, size);
            if rc == 0 {
                detached(buffer_addr, size);
            }
            v::err_out(rc)
        });
    };
}
attach!(MPI_Buffer_attach, PMPI_Buffer_attach, c_int);
attach!(MPI_Buffer_attach_c, PMPI_Buffer_attach_c, i64);
attach!(MPI_Comm_attach_buffer, PMPI_Comm_attach_buffer, c_int, comm: h::comm_in);
attach!(MPI_Comm_attach_buffer_c, PMPI_Comm_attach_buffer_c, i64, comm: h::comm_in);
attach!(MPI_Session_attach_buffer, PMPI_Session_attach_buffer, c_int, session: h::session_in);
attach!(MPI_Session_attach_buffer_c, PMPI_Session_attach_buffer_c, i64, session: h::session_in);
detach!(MPI_Buffer_detach, PMPI_Buffer_detach, c_int);
detach!(MPI_Buffer_detach_c, PMPI_Buffer_detach_c, i64);
detach!(MPI_Comm_detach_buffer, PMPI_Comm_detach_buffer, c_int, comm: h::comm_in);
detach!(MPI_Comm_detach_buffer_c, PMPI_Comm_detach_buffer_c, i64, comm: h::comm_in);
detach!(MPI_Session_detach_buffer, PMPI_Session_detach_buffer, c_int, session: h::session_in);
detach!(MPI_Session_detach_buffer_c, PMPI_Session_detach_buffer_c, i64, session: h::session_in);

/// The MPI version of mpi_abi.h (MPI_VERSION 5, MPI_SUBVERSION 0): the standard ABI is an
/// MPI 5.0 interface, and a program built against that header checks it finds 5.0 (as
/// MPICH 5's libmpi_abi.so.1 reports). The MPICH face keeps its own answer.
pub const STD_MPI_VERSION: (c_int, c_int) = (5, 0);

face!(MPI_Get_version, PMPI_Get_version, (version: *mut c_int, subversion: *mut c_int) {
    // Checks the pointers as the MPICH face does.
    let rc = imp::PMPI_Get_version(version, subversion);
    if rc == 0 {
        *version = STD_MPI_VERSION.0;
        *subversion = STD_MPI_VERSION.1;
    }
    v::err_out(rc)
});
