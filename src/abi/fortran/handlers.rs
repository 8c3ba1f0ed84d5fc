//! User ops and errhandlers: the C layer calls most of them as they are (same
//! convention in C and Fortran); file errhandlers go through trampolines.

use super::fort;
use super::rt::*;
use crate::abi::{errhandler::*, io::*, op::*};
use std::mem::transmute;
use std::os::raw::{c_int, c_void};

// Callbacks with the same calling convention in C and Fortran (handles are the C ints, all
// arguments by reference): user ops and communicator/window/session errhandlers are given
// to the C layer as they are, as MPICH does.

fort! { [pmpi_op_create, pmpi_op_create__, PMPI_OP_CREATE, mpi_op_create, mpi_op_create_,
    mpi_op_create__, MPI_OP_CREATE]
pmpi_op_create_ (user_fn: *const c_void, commute: *const Fint, op: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Op_create(transmute::<*const c_void, _>(user_fn), rd(commute), op));
} }

fort! { [pmpi_comm_create_errhandler, pmpi_comm_create_errhandler__, PMPI_COMM_CREATE_ERRHANDLER,
    mpi_comm_create_errhandler, mpi_comm_create_errhandler_, mpi_comm_create_errhandler__,
    MPI_COMM_CREATE_ERRHANDLER]
pmpi_comm_create_errhandler_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Comm_create_errhandler(transmute::<*const c_void, _>(f), errhandler));
} }

fort! { [pmpi_errhandler_create, pmpi_errhandler_create__, PMPI_ERRHANDLER_CREATE,
    mpi_errhandler_create, mpi_errhandler_create_, mpi_errhandler_create__, MPI_ERRHANDLER_CREATE]
pmpi_errhandler_create_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Comm_create_errhandler(transmute::<*const c_void, _>(f), errhandler));
} }

fort! { [pmpi_win_create_errhandler, pmpi_win_create_errhandler__, PMPI_WIN_CREATE_ERRHANDLER,
    mpi_win_create_errhandler, mpi_win_create_errhandler_, mpi_win_create_errhandler__,
    MPI_WIN_CREATE_ERRHANDLER]
pmpi_win_create_errhandler_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Win_create_errhandler(transmute::<*const c_void, _>(f), errhandler));
} }

fort! { [pmpi_session_create_errhandler, pmpi_session_create_errhandler__,
    PMPI_SESSION_CREATE_ERRHANDLER, mpi_session_create_errhandler, mpi_session_create_errhandler_,
    mpi_session_create_errhandler__, MPI_SESSION_CREATE_ERRHANDLER]
pmpi_session_create_errhandler_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    set_ierr(ierror, PMPI_Session_create_errhandler(transmute::<*const c_void, _>(f), errhandler));
} }

// A file errhandler gets the file as an INTEGER in Fortran but as an MPI_File (pointer
// sized) in C, so each Fortran handler gets a C trampoline: a fixed set of slots, each
// remembering one Fortran function (MPICH needs none because its proxy is in the core).
type FileErrF = unsafe extern "C" fn(*mut Fint, *mut Fint);
const FILE_ERR_SLOTS: usize = 32;
static FILE_ERR_FNS: [std::sync::atomic::AtomicUsize; FILE_ERR_SLOTS] =
    [const { std::sync::atomic::AtomicUsize::new(0) }; FILE_ERR_SLOTS];

unsafe extern "C" fn file_err_tramp<const I: usize>(file: *mut usize, code: *mut c_int) {
    let f = FILE_ERR_FNS[I].load(std::sync::atomic::Ordering::Acquire);
    if f != 0 {
        let ff: FileErrF = transmute::<usize, FileErrF>(f);
        let mut fh = PMPI_File_c2f(rd(file));
        ff(&mut fh, code);
    }
}

macro_rules! tramps {
    ($($i:literal)*) => { [$(file_err_tramp::<$i> as unsafe extern "C" fn(*mut usize, *mut c_int)),*] };
}
static FILE_ERR_TRAMPS: [unsafe extern "C" fn(*mut usize, *mut c_int); FILE_ERR_SLOTS] =
    tramps!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);

fort! { [pmpi_file_create_errhandler, pmpi_file_create_errhandler__, PMPI_FILE_CREATE_ERRHANDLER,
    mpi_file_create_errhandler, mpi_file_create_errhandler_, mpi_file_create_errhandler__,
    MPI_FILE_CREATE_ERRHANDLER]
pmpi_file_create_errhandler_ (f: *const c_void, errhandler: *mut Fint, ierror: *mut Fint) {
    use std::sync::atomic::Ordering;
    // The same Fortran function reuses its slot.
    let key = f as usize;
    let slot = (0..FILE_ERR_SLOTS).find(|&i| FILE_ERR_FNS[i].load(Ordering::Acquire) == key).or_else(|| {
        (0..FILE_ERR_SLOTS)
            .find(|&i| FILE_ERR_FNS[i].compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire).is_ok())
    });
    let r = match slot {
        Some(i) => PMPI_File_create_errhandler(transmute::<*const c_void, _>(FILE_ERR_TRAMPS[i] as *const c_void),
            errhandler),
        // More distinct Fortran file errhandler functions than slots: reported as an error
        // of the call, through the default file errhandler like any bad argument.
        None => crate::abi::errors::raise(
            &crate::abi::Ctx { func: "MPI_File_create_errhandler", target: crate::abi::Target::File(0) },
            crate::error::MpiError::arg(crate::error::class::ERR_OTHER, "function",
                "more than 32 distinct Fortran file errhandler functions"),
        ),
    };
    set_ierr(ierror, r);
} }
