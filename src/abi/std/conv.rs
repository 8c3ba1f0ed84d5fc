//! Calls that return a value instead of an error code (handle conversions, MPI_Wtime,
//! MPI_Aint_add/diff), the MPI_Abi_* queries of the standard face, and the attribute
//! queries whose predefined values are themselves constants to translate.

use super::abi_calls;
use super::callbacks::{face, out_handle};
use super::handles as h;
use super::mpich as imp;
use super::tables as t;
use super::values as v;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicI32, Ordering};

/// MPI_X_toint gives the MPICH-ABI handle (the Fortran integer handle of both faces);
/// MPI_X_fromint the standard handle of one.
macro_rules! int_conv {
    ($($to:ident $pto:ident $from:ident $pfrom:ident $inp:path, $out:path;)*) => {$(
        #[no_mangle]
        pub extern "C" fn $pto(h: usize) -> c_int {
            $inp(h)
        }
        #[no_mangle]
        pub extern "C" fn $to(h: usize) -> c_int {
            $pto(h)
        }
        #[no_mangle]
        pub extern "C" fn $pfrom(i: c_int) -> usize {
            $out(i)
        }
        #[no_mangle]
        pub extern "C" fn $from(i: c_int) -> usize {
            $pfrom(i)
        }
    )*};
}

int_conv! {
    MPI_Comm_toint PMPI_Comm_toint MPI_Comm_fromint PMPI_Comm_fromint h::comm_in, h::comm_out;
    MPI_Errhandler_toint PMPI_Errhandler_toint MPI_Errhandler_fromint PMPI_Errhandler_fromint h::errh_in, h::errh_out;
    MPI_Group_toint PMPI_Group_toint MPI_Group_fromint PMPI_Group_fromint h::group_in, h::group_out;
    MPI_Info_toint PMPI_Info_toint MPI_Info_fromint PMPI_Info_fromint h::info_in, h::info_out;
    MPI_Message_toint PMPI_Message_toint MPI_Message_fromint PMPI_Message_fromint h::msg_in, h::msg_out;
    MPI_Op_toint PMPI_Op_toint MPI_Op_fromint PMPI_Op_fromint h::op_in, h::op_out;
    MPI_Request_toint PMPI_Request_toint MPI_Request_fromint PMPI_Request_fromint h::req_in, h::req_out;
    MPI_Session_toint PMPI_Session_toint MPI_Session_fromint PMPI_Session_fromint h::session_in, h::session_out;
    MPI_Type_toint PMPI_Type_toint MPI_Type_fromint PMPI_Type_fromint h::dtype_in, h::dtype_out;
    MPI_Win_toint PMPI_Win_toint MPI_Win_fromint PMPI_Win_fromint h::win_in, h::win_out;
}

/// Files are pointers in both ABIs; their integer form is the MPICH face's table index.
#[no_mangle]
pub extern "C" fn PMPI_File_toint(file: usize) -> c_int {
    // SAFETY: a value function of the MPICH face; any value is accepted.
    unsafe { imp::PMPI_File_toint(h::file_in(file)) }
}
#[no_mangle]
pub extern "C" fn MPI_File_toint(file: usize) -> c_int {
    PMPI_File_toint(file)
}
#[no_mangle]
pub extern "C" fn PMPI_File_fromint(file: c_int) -> usize {
    // SAFETY: as PMPI_File_toint.
    h::file_out(unsafe { imp::PMPI_File_fromint(file) })
}
#[no_mangle]
pub extern "C" fn MPI_File_fromint(file: c_int) -> usize {
    PMPI_File_fromint(file)
}

#[no_mangle]
pub extern "C" fn PMPI_Wtime() -> f64 {
    // SAFETY: no arguments.
    unsafe { imp::PMPI_Wtime() }
}
#[no_mangle]
pub extern "C" fn MPI_Wtime() -> f64 {
    PMPI_Wtime()
}
#[no_mangle]
pub extern "C" fn PMPI_Wtick() -> f64 {
    // SAFETY: no arguments.
    unsafe { imp::PMPI_Wtick() }
}
#[no_mangle]
pub extern "C" fn MPI_Wtick() -> f64 {
    PMPI_Wtick()
}
#[no_mangle]
pub extern "C" fn PMPI_Aint_add(base: isize, disp: isize) -> isize {
    // SAFETY: plain integers.
    unsafe { imp::PMPI_Aint_add(base as _, disp as _) as isize }
}
#[no_mangle]
pub extern "C" fn MPI_Aint_add(base: isize, disp: isize) -> isize {
    PMPI_Aint_add(base, disp)
}
#[no_mangle]
pub extern "C" fn PMPI_Aint_diff(addr1: isize, addr2: isize) -> isize {
    // SAFETY: plain integers.
    unsafe { imp::PMPI_Aint_diff(addr1 as _, addr2 as _) as isize }
}
#[no_mangle]
pub extern "C" fn MPI_Aint_diff(addr1: isize, addr2: isize) -> isize {
    PMPI_Aint_diff(addr1, addr2)
}

// ---------------------------------------------------------------------------------------
// MPI_Abi_*
// ---------------------------------------------------------------------------------------

/// The standard ABI this face implements (MPI_ABI_VERSION.MPI_ABI_SUBVERSION of mpi_abi.h).
pub const STD_ABI_VERSION: (c_int, c_int) = (1, 0);

face!(MPI_Abi_get_version, PMPI_Abi_get_version, (abi_major: *mut c_int, abi_minor: *mut c_int) {
    // Checks the pointers as the MPICH face does, then answers for the standard ABI.
    let rc = abi_calls::PMPI_Abi_get_version(abi_major, abi_minor);
    if rc == 0 {
        *abi_major = STD_ABI_VERSION.0;
        *abi_minor = STD_ABI_VERSION.1;
    }
    v::err_out(rc)
});

face!(MPI_Abi_get_info, PMPI_Abi_get_info, (info: *mut usize) {
    out_handle(info, h::info_out, |p| abi_calls::PMPI_Abi_get_info(p))
});

face!(MPI_Abi_get_fortran_info, PMPI_Abi_get_fortran_info, (info: *mut usize) {
    out_handle(info, h::info_out, |p| abi_calls::PMPI_Abi_get_fortran_info(p))
});

face!(MPI_Abi_set_fortran_info, PMPI_Abi_set_fortran_info, (info: usize) {
    v::err_out(abi_calls::PMPI_Abi_set_fortran_info(h::info_in(info)))
});

face!(MPI_Abi_get_fortran_booleans, PMPI_Abi_get_fortran_booleans, (logical_size: c_int, logical_true: *mut c_void, logical_false: *mut c_void, is_set: *mut c_int) {
    v::err_out(abi_calls::PMPI_Abi_get_fortran_booleans(logical_size, logical_true, logical_false, is_set))
});

face!(MPI_Abi_set_fortran_booleans, PMPI_Abi_set_fortran_booleans, (logical_size: c_int, logical_true: *mut c_void, logical_false: *mut c_void) {
    v::err_out(abi_calls::PMPI_Abi_set_fortran_booleans(logical_size, logical_true, logical_false))
});

// ---------------------------------------------------------------------------------------
// Predefined attributes
// ---------------------------------------------------------------------------------------

/// The standard values of MPI_HOST and MPI_IO (ranks, possibly MPI_PROC_NULL or
/// MPI_ANY_SOURCE), stored where the attribute pointer can point: the values are the same
/// for every communicator of the process.
static HOST: AtomicI32 = AtomicI32::new(0);
static IO: AtomicI32 = AtomicI32::new(0);
/// The standard's window flavors and memory models, for MPI_WIN_CREATE_FLAVOR/MPI_WIN_MODEL.
static FLAVORS: [c_int; 4] = [311, 312, 313, 314];
static MODELS: [c_int; 2] = [321, 322];

/// Replaces the pointer in `*val` (an attribute value that points to an int) by one to the
/// translated int.
unsafe fn repoint(val: *mut c_void, f: impl FnOnce(c_int) -> *const c_int) {
    let slot = val as *mut *const c_int;
    // SAFETY: the call stored a pointer to an int into the user's void * slot.
    unsafe {
        let p = *slot;
        if !p.is_null() {
            *slot = f(*p);
        }
    }
}

fn rank_cell(cell: &'static AtomicI32, r: c_int) -> *const c_int {
    cell.store(v::rank_out(r), Ordering::Relaxed);
    cell.as_ptr()
}

fn const_in(table: &'static [c_int], std_val: c_int) -> *const c_int {
    table
        .iter()
        .find(|&&x| x == std_val)
        .map_or(std::ptr::null(), |x| x as *const c_int)
}

macro_rules! comm_get_attr {
    ($mpi:ident, $pmpi:ident) => {
        face!($mpi, $pmpi, (comm: usize, keyval: c_int, attribute_val: *mut c_void, flag: *mut c_int) {
            let rc = imp::$pmpi(h::comm_in(comm), v::keyval_in(keyval), attribute_val, flag);
            if rc == 0 && !flag.is_null() && *flag != 0 && !attribute_val.is_null() {
                match keyval {
                    503 => repoint(attribute_val, |r| rank_cell(&HOST, r)),
                    502 => repoint(attribute_val, |r| rank_cell(&IO, r)),
                    _ => {}
                }
            }
            v::err_out(rc)
        });
    };
}
comm_get_attr!(MPI_Comm_get_attr, PMPI_Comm_get_attr);
comm_get_attr!(MPI_Attr_get, PMPI_Attr_get);

face!(MPI_Win_get_attr, PMPI_Win_get_attr, (win: usize, keyval: c_int, attribute_val: *mut c_void, flag: *mut c_int) {
    let rc = imp::PMPI_Win_get_attr(h::win_in(win), v::keyval_in(keyval), attribute_val, flag);
    if rc == 0 && !flag.is_null() && *flag != 0 && !attribute_val.is_null() {
        match keyval {
            604 => repoint(attribute_val, |f| const_in(&FLAVORS, t::flavor_out(f))),
            605 => repoint(attribute_val, |m| const_in(&MODELS, t::model_out(m))),
            _ => {}
        }
    }
    v::err_out(rc)
});
