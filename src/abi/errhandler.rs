//! Errhandler objects and the error-code queries.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use crate::error::{class, MpiError};
use crate::handle::{kind, obj, predefined, HandleTable, KIND_BUILTIN};
use crate::mpi_fn;
use crate::object::errhandler::{Errhandler, ErrhandlerKind};
use parking_lot::Mutex;
use std::os::raw::{c_char, c_int};
use std::sync::Arc;

/// User errhandlers.
pub static ERRHANDLERS: HandleTable<Errhandler> = HandleTable::new(obj::ERRHANDLER);

/// The handle of each live user errhandler and the references the program holds to it. As
/// in MPICH, MPI_*_get_errhandler returns the handle of the errhandler the object uses (the
/// same value at every call) and adds a reference; MPI_Errhandler_free drops one, and the
/// handle goes away with the last. (The objects themselves keep their errhandler by value,
/// so freeing the handle never affects them.)
static HELD: Mutex<Vec<(Errhandler, c_int, usize)>> = Mutex::new(Vec::new());

/// A new handle for user errhandler `e`, held once.
fn register(e: Errhandler) -> c_int {
    let h = ERRHANDLERS.insert(Arc::new(e.clone()));
    HELD.lock().push((e, h, 1));
    h
}

/// The handle of user errhandler `e` with one more reference: its live handle if it has
/// one, else a new one (the program freed every handle it had).
pub fn hold(e: &Errhandler) -> c_int {
    let mut held = HELD.lock();
    if let Some(entry) = held.iter_mut().find(|(x, _, _)| x == e) {
        entry.2 += 1;
        return entry.1;
    }
    drop(held);
    register(e.clone())
}

/// Drops one reference to user handle `h`; false if `h` is no live errhandler handle.
fn release(h: c_int) -> bool {
    let mut held = HELD.lock();
    let Some(i) = held.iter().position(|(_, x, _)| *x == h) else {
        return false;
    };
    held[i].2 -= 1;
    if held[i].2 == 0 {
        held.swap_remove(i);
        ERRHANDLERS.remove(h);
    }
    true
}

mpi_fn!(MPI_Errhandler_free, PMPI_Errhandler_free, (errhandler: *mut c_int), |_ctx| {
    // SAFETY: `errhandler` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(errhandler, "errhandler") }?;
    let builtin = kind(h) == KIND_BUILTIN && crate::handle::obj_type(h) == obj::ERRHANDLER;
    if !builtin && !release(h) {
        return Err(MpiError::arg(class::ERR_ARG, "errhandler", format!("invalid errhandler handle {h:#x}")));
    }
    // SAFETY: `errhandler` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errhandler, predefined::ERRHANDLER_NULL, "errhandler") }
});

mpi_fn!(MPI_Error_class, PMPI_Error_class, (errorcode: c_int, errorclass: *mut c_int), |_ctx| {
    if !super::errors::is_valid(errorcode) {
        return Err(MpiError::arg(class::ERR_ARG, "errorcode", format!("{errorcode} is not a valid error code")));
    }
    // SAFETY: `errorclass` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errorclass, super::errors::class_of(errorcode), "errorclass") }
});

mpi_fn!(MPI_Error_string, PMPI_Error_string, (errorcode: c_int, string: *mut c_char, resultlen: *mut c_int), |_ctx| {
    let s = super::errors::string_of(errorcode)
        .ok_or_else(|| MpiError::arg(class::ERR_ARG, "errorcode", format!("{errorcode} is not a valid error code")))?;
    // SAFETY: `string` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write_str(string, super::consts::MAX_ERROR_STRING, &s, resultlen, "string") }
});

/// Registers a user errhandler function for objects of `kind`.
/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
unsafe fn create(kind: ErrhandlerKind, f: usize, out: *mut c_int) -> Result<(), MpiError> {
    if f == 0 {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "function",
            "null function pointer",
        ));
    }
    // SAFETY: `out` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(out, predefined::ERRHANDLER_NULL, "errhandler") }?;
    // SAFETY: `out` is the C caller's, null or valid for this use (MPI contract).
    unsafe {
        arg::write(
            out,
            register(Errhandler::User { kind, func: f }),
            "errhandler",
        )
    }
}

/// An errhandler function pointer as C passes it.
type ErrFn = Option<unsafe extern "C" fn(*mut c_int, *mut c_int)>;

fn addr(f: ErrFn) -> usize {
    f.map(|f| f as usize).unwrap_or(0)
}

mpi_fn!(MPI_Comm_create_errhandler, PMPI_Comm_create_errhandler, (function: ErrFn, errhandler: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create(ErrhandlerKind::Comm, addr(function), errhandler) }
});

mpi_fn!(MPI_Errhandler_create, PMPI_Errhandler_create, (function: ErrFn, errhandler: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create(ErrhandlerKind::Comm, addr(function), errhandler) }
});

mpi_fn!(MPI_Win_create_errhandler, PMPI_Win_create_errhandler, (function: ErrFn, errhandler: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create(ErrhandlerKind::Win, addr(function), errhandler) }
});

mpi_fn!(MPI_File_create_errhandler, PMPI_File_create_errhandler, (function: ErrFn, errhandler: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create(ErrhandlerKind::File, addr(function), errhandler) }
});

mpi_fn!(MPI_Session_create_errhandler, PMPI_Session_create_errhandler, (function: ErrFn, errhandler: *mut c_int), |_ctx| {
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    unsafe { create(ErrhandlerKind::Session, addr(function), errhandler) }
});

mpi_fn!(MPI_Errhandler_set, PMPI_Errhandler_set, (comm: c_int, errhandler: c_int), |_ctx| {
    // SAFETY: same arguments as MPI_Comm_set_errhandler.
    match unsafe { super::comm::PMPI_Comm_set_errhandler(comm, errhandler) } {
        0 => Ok(()),
        // The error was already handled by that call's errhandler; report its class.
        code => Err(MpiError::new(super::errors::class_of(code), "MPI_Comm_set_errhandler failed")),
    }
});

mpi_fn!(MPI_Errhandler_get, PMPI_Errhandler_get, (comm: c_int, errhandler: *mut c_int), |_ctx| {
    // SAFETY: same arguments as MPI_Comm_get_errhandler.
    match unsafe { super::comm::PMPI_Comm_get_errhandler(comm, errhandler) } {
        0 => Ok(()),
        code => Err(MpiError::new(super::errors::class_of(code), "MPI_Comm_get_errhandler failed")),
    }
});

mpi_fn!(MPI_Comm_call_errhandler, PMPI_Comm_call_errhandler, (comm: c_int, errorcode: c_int), |ctx| {
    let c = super::comm::get(ctx, comm)?;
    let h = c.own_errhandler();
    drop(c);
    super::errors::call_handler("MPI_Comm_call_errhandler", super::Target::Comm(comm), h, errorcode);
    Ok(())
});

mpi_fn!(MPI_Win_set_errhandler, PMPI_Win_set_errhandler, (win: c_int, errhandler: c_int), |ctx| {
    let w = super::rma::get(ctx, win)?;
    let e = super::comm::errhandler_of(errhandler)?;
    if let Errhandler::User { kind, .. } = e {
        if kind != ErrhandlerKind::Win {
            return Err(MpiError::arg(class::ERR_ARG, "errhandler", "not a window errhandler"));
        }
    }
    *w.errhandler.lock() = e;
    Ok(())
});

mpi_fn!(MPI_Win_get_errhandler, PMPI_Win_get_errhandler, (win: c_int, errhandler: *mut c_int), |ctx| {
    let w = super::rma::get(ctx, win)?;
    let e = w.errhandler.lock().clone();
    // SAFETY: `errhandler` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errhandler, super::comm::errhandler_handle(&e), "errhandler") }
});

mpi_fn!(MPI_Win_call_errhandler, PMPI_Win_call_errhandler, (win: c_int, errorcode: c_int), |ctx| {
    let w = super::rma::get(ctx, win)?;
    let h = w.errhandler.lock().clone();
    drop(w);
    super::errors::call_handler("MPI_Win_call_errhandler", super::Target::Win(win), h, errorcode);
    Ok(())
});

mpi_fn!(MPI_Session_call_errhandler, PMPI_Session_call_errhandler, (session: c_int, errorcode: c_int), |ctx| {
    let s = super::session::get(ctx, session)?;
    let h = s.errhandler.lock().clone();
    super::errors::call_handler("MPI_Session_call_errhandler", super::Target::Session(session), h, errorcode);
    Ok(())
});

mpi_fn!(MPI_Add_error_class, PMPI_Add_error_class, (errorclass: *mut c_int), |_ctx| {
    // SAFETY: `errorclass` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errorclass, 0, "errorclass") }?;
    // SAFETY: `errorclass` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errorclass, super::errors::add_class(), "errorclass") }
});

mpi_fn!(MPI_Add_error_code, PMPI_Add_error_code, (errorclass: c_int, errorcode: *mut c_int), |_ctx| {
    // SAFETY: `errorcode` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errorcode, 0, "errorcode") }?;
    let c = super::errors::add_code(errorclass)?;
    // SAFETY: `errorcode` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errorcode, c, "errorcode") }
});

mpi_fn!(MPI_Add_error_string, PMPI_Add_error_string, (errorcode: c_int, string: *const c_char), |_ctx| {
    // SAFETY: `string` is the C caller's, null or valid for this use (MPI contract).
    let s = unsafe { arg::cstr(string, "string") }?;
    if s.len() >= super::consts::MAX_ERROR_STRING {
        return Err(MpiError::arg(class::ERR_ARG, "string", "longer than MPI_MAX_ERROR_STRING - 1"));
    }
    super::errors::set_string(errorcode, s)
});

mpi_fn!(MPI_Remove_error_class, PMPI_Remove_error_class, (errorclass: c_int), |_ctx| {
    super::errors::remove_class(errorclass)
});

mpi_fn!(MPI_Remove_error_code, PMPI_Remove_error_code, (errorcode: c_int), |_ctx| {
    super::errors::remove_code(errorcode)
});

mpi_fn!(MPI_Remove_error_string, PMPI_Remove_error_string, (errorcode: c_int), |_ctx| {
    super::errors::remove_string(errorcode)
});

// ---- files ----
//
// MPI_FILE_NULL has an errhandler of its own: the default for files, used by MPI_File_open
// and by file calls given an invalid handle, and inherited by every file at open (MPI 4.1
// §9.3, §14.7). It starts as MPI_ERRORS_RETURN and is per process. Open files keep theirs
// in `io::File::errhandler`.

/// The errhandler of MPI_FILE_NULL.
static FILE_DEFAULT: parking_lot::Mutex<Errhandler> = parking_lot::Mutex::new(Errhandler::Return);

/// The default file errhandler (what errors on MPI_FILE_NULL go through).
pub fn file_default() -> Errhandler {
    FILE_DEFAULT.lock().clone()
}

/// The handle value of MPI_FILE_NULL (`MPI_File` is a pointer in MPICH's ABI).
const FILE_NULL: usize = 0;

/// Resolves argument `file`: MPI_FILE_NULL (None) or an open file. Errors raised after
/// this go to that file's errhandler (MPI_FILE_NULL's for an invalid handle).
fn file_arg(ctx: &mut super::Ctx, file: usize) -> Result<Option<Arc<crate::io::File>>, MpiError> {
    crate::runtime::rt()?;
    ctx.on_file(FILE_NULL);
    if file == FILE_NULL {
        return Ok(None);
    }
    match super::io::lookup(file) {
        Some(f) => {
            ctx.on_file(file);
            Ok(Some(f))
        }
        None => Err(MpiError::arg(
            class::ERR_FILE,
            "file",
            format!("invalid file handle {file:#x}"),
        )),
    }
}

mpi_fn!(MPI_File_set_errhandler, PMPI_File_set_errhandler, (file: usize, errhandler: c_int), |ctx| {
    let f = file_arg(ctx, file)?;
    let e = super::comm::errhandler_of(errhandler)?;
    if let Errhandler::User { kind, .. } = e {
        if kind != ErrhandlerKind::File {
            return Err(MpiError::arg(class::ERR_ARG, "errhandler", "not a file errhandler"));
        }
    }
    match f {
        Some(f) => *f.errhandler.lock() = e,
        None => *FILE_DEFAULT.lock() = e,
    }
    Ok(())
});

/// The errhandler of `f` (None: MPI_FILE_NULL).
fn file_handler(f: &Option<Arc<crate::io::File>>) -> Errhandler {
    match f {
        Some(f) => f.errhandler.lock().clone(),
        None => file_default(),
    }
}

mpi_fn!(MPI_File_get_errhandler, PMPI_File_get_errhandler, (file: usize, errhandler: *mut c_int), |ctx| {
    let f = file_arg(ctx, file)?;
    // SAFETY: `errhandler` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(errhandler, super::comm::errhandler_handle(&file_handler(&f)), "errhandler") }
});

mpi_fn!(MPI_File_call_errhandler, PMPI_File_call_errhandler, (fh: usize, errorcode: c_int), |ctx| {
    let f = file_arg(ctx, fh)?;
    let target = if f.is_some() { fh } else { FILE_NULL };
    super::errors::call_handler("MPI_File_call_errhandler", super::Target::File(target), file_handler(&f), errorcode);
    Ok(())
});
