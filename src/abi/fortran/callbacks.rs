//! Generalized requests and user data representations: Fortran callbacks called
//! through C trampolines that carry the Fortran conventions.

use super::fort;
use super::rt::*;
use crate::abi::{io::datarep::*, request::*};
use std::mem::transmute;
use std::os::raw::{c_char, c_int, c_void};

// Generalized requests: the extra state becomes a record of the three Fortran functions,
// freed after the free function ran (the C layer calls it exactly once).

type QueryF = unsafe extern "C" fn(*const i64, *mut Fint, *mut Fint);
type FreeF = unsafe extern "C" fn(*const i64, *mut Fint);
type CancelF = unsafe extern "C" fn(*const i64, *const Fint, *mut Fint);

struct Grequest {
    query: QueryF,
    free: FreeF,
    cancel: CancelF,
    extra: i64,
}

unsafe extern "C" fn greq_query(extra: *mut c_void, st: *mut c_void) -> c_int {
    let g = &*(extra as *const Grequest);
    let mut ierr = MPI_SUCCESS;
    (g.query)(&g.extra, st as *mut Fint, &mut ierr);
    ierr
}
unsafe extern "C" fn greq_free(extra: *mut c_void) -> c_int {
    let g = Box::from_raw(extra as *mut Grequest);
    let mut ierr = MPI_SUCCESS;
    (g.free)(&g.extra, &mut ierr);
    ierr
}
unsafe extern "C" fn greq_cancel(extra: *mut c_void, complete: c_int) -> c_int {
    let g = &*(extra as *const Grequest);
    let mut ierr = MPI_SUCCESS;
    // LOGICAL: gfortran's .TRUE. is 1.
    let c: Fint = (complete != 0) as Fint;
    (g.cancel)(&g.extra, &c, &mut ierr);
    ierr
}

fort! { [pmpi_grequest_start, pmpi_grequest_start__, PMPI_GREQUEST_START, mpi_grequest_start,
    mpi_grequest_start_, mpi_grequest_start__, MPI_GREQUEST_START]
pmpi_grequest_start_ (query: *const c_void, free: *const c_void, cancel: *const c_void, extra: *const i64,
    request: *mut Fint, ierror: *mut Fint) {
    if query.is_null() || free.is_null() || cancel.is_null() {
        // Let the C layer report the null function.
        set_ierr(ierror, PMPI_Grequest_start(0, 0, 0, std::ptr::null_mut(), request));
        return;
    }
    let rec = Box::into_raw(Box::new(Grequest {
        query: transmute::<*const c_void, QueryF>(query),
        free: transmute::<*const c_void, FreeF>(free),
        cancel: transmute::<*const c_void, CancelF>(cancel),
        extra: rd(extra),
    }));
    let r = PMPI_Grequest_start(greq_query as *const () as usize, greq_free as *const () as usize, greq_cancel as *const () as usize,
        rec as *mut c_void, request);
    if r != MPI_SUCCESS {
        drop(Box::from_raw(rec));
    }
    set_ierr(ierror, r);
} }

// ---------------------------------------------------------------------------------------
// User data representations: conversion and extent functions with Fortran conventions.
// The C library calls its conversion functions with arguments by value
// (MPI_Datarep_conversion_function(_c)); a Fortran one takes them all by reference, and its
// count is INTEGER (MPI_Register_datarep) or INTEGER(MPI_COUNT_KIND) (MPI_Register_datarep_c,
// mpi_f08 only). `N` is that count's kind; the trampolines are instantiated for both.

type ConvF<N> = unsafe extern "C" fn(
    *mut c_void,
    *const Fint,
    *const N,
    *mut c_void,
    *const i64,
    *const i64,
    *mut Fint,
);
type ExtentF = unsafe extern "C" fn(*const Fint, *mut i64, *const i64, *mut Fint);

/// The extra state the C library keeps for a Fortran representation: the Fortran functions
/// and the user's extra state (an INTEGER(MPI_ADDRESS_KIND) passed by reference).
struct Datarep<N> {
    read: Option<ConvF<N>>,
    write: Option<ConvF<N>>,
    extent: ExtentF,
    extra: i64,
}

unsafe fn conv<N>(
    f: Option<ConvF<N>>,
    userbuf: *mut c_void,
    dt: c_int,
    count: N,
    filebuf: *mut c_void,
    pos: i64,
    extra: i64,
) -> c_int {
    // Never None: a missing function is registered as a null C function, not a trampoline.
    let Some(f) = f else { return MPI_ERR_OTHER };
    let mut ierr = MPI_SUCCESS;
    // SAFETY: `f` is the user's Fortran subroutine of this interface; every argument is
    // passed by reference to a local that outlives the call.
    f(userbuf, &dt, &count, filebuf, &pos, &extra, &mut ierr);
    ierr
}
unsafe extern "C" fn datarep_read<N>(
    userbuf: *mut c_void,
    dt: c_int,
    count: N,
    filebuf: *mut c_void,
    pos: i64,
    extra: *mut c_void,
) -> c_int {
    // SAFETY: `extra` is the record register_fortran gave the C library with this
    // trampoline (of the same N); registrations, and so records, live for the program.
    let d = &*(extra as *const Datarep<N>);
    conv(d.read, userbuf, dt, count, filebuf, pos, d.extra)
}
unsafe extern "C" fn datarep_write<N>(
    userbuf: *mut c_void,
    dt: c_int,
    count: N,
    filebuf: *mut c_void,
    pos: i64,
    extra: *mut c_void,
) -> c_int {
    // SAFETY: `extra` is the record register_fortran gave the C library with this
    // trampoline (of the same N); registrations, and so records, live for the program.
    let d = &*(extra as *const Datarep<N>);
    conv(d.write, userbuf, dt, count, filebuf, pos, d.extra)
}
unsafe extern "C" fn datarep_extent<N>(dt: c_int, extent: *mut i64, extra: *mut c_void) -> c_int {
    // SAFETY: `extra` is the record register_fortran gave the C library with this
    // trampoline (of the same N); registrations, and so records, live for the program.
    let d = &*(extra as *const Datarep<N>);
    let mut ierr = MPI_SUCCESS;
    (d.extent)(&dt, extent, &d.extra, &mut ierr);
    ierr
}

// MPI_CONVERSION_FN_NULL (mpif.h declares it EXTERNAL): its address means "no conversion";
// it is never called by the library.
fort! { [pmpi_conversion_fn_null, pmpi_conversion_fn_null__, PMPI_CONVERSION_FN_NULL,
    mpi_conversion_fn_null, mpi_conversion_fn_null_, mpi_conversion_fn_null__, MPI_CONVERSION_FN_NULL]
pmpi_conversion_fn_null_ (_userbuf: *mut c_void, _dt: *const Fint, _count: *const Fint, _filebuf: *mut c_void,
    _pos: *const i64, _extra: *const i64, ierror: *mut Fint) {
    set_ierr(ierror, MPI_SUCCESS);
} }

fn is_conversion_null(f: *const c_void) -> bool {
    // `use mpi_f08`'s are module procedures of mpi_f08_callbacks (libmpifort.so.12).
    static F08: std::sync::OnceLock<[usize; 2]> = std::sync::OnceLock::new();
    let f08_nulls = F08.get_or_init(|| {
        [
            f08(c"__mpi_f08_callbacks_MOD_mpi_conversion_fn_null"),
            f08(c"__mpi_f08_callbacks_MOD_mpi_conversion_fn_null_c"),
        ]
    });
    f.is_null()
        || f08_nulls.contains(&(f as usize))
        || [
            pmpi_conversion_fn_null_ as *const () as usize,
            mpi_conversion_fn_null_ as *const () as usize,
            mpi_conversion_fn_null as *const () as usize,
            mpi_conversion_fn_null__ as *const () as usize,
            MPI_CONVERSION_FN_NULL as *const () as usize,
        ]
        .contains(&(f as usize))
}

/// The C library's conversion function with a count of kind `N`
/// (MPI_Datarep_conversion_function or MPI_Datarep_conversion_function_c).
pub type ConvC<N> =
    unsafe extern "C" fn(*mut c_void, c_int, N, *mut c_void, i64, *mut c_void) -> c_int;
pub type ExtentC = unsafe extern "C" fn(c_int, *mut i64, *mut c_void) -> c_int;

/// Fortran datarep functions as the C library takes them: trampolines, and as extra state a
/// record of the Fortran functions (`rec`).
pub struct Wrapped<N> {
    pub read: Option<ConvC<N>>,
    pub write: Option<ConvC<N>>,
    pub extent: ExtentC,
    pub rec: *mut c_void,
}

impl<N> Wrapped<N> {
    /// Wraps the Fortran procedures at `read`, `write` (null or MPI_CONVERSION_FN_NULL: no
    /// conversion) and `extent` (not null), with the user's extra state value `extra`.
    ///
    /// # Safety
    /// The addresses are Fortran procedures of the datarep interfaces, with a count of kind N.
    pub unsafe fn new(
        read: *const c_void,
        write: *const c_void,
        extent: *const c_void,
        extra: i64,
    ) -> Self {
        let conv_of = |f: *const c_void| {
            if is_conversion_null(f) {
                None
            } else {
                // SAFETY: a Fortran conversion procedure (caller's contract).
                Some(unsafe { transmute::<*const c_void, ConvF<N>>(f) })
            }
        };
        let (rf, wf) = (conv_of(read), conv_of(write));
        let rec = Box::into_raw(Box::new(Datarep {
            read: rf,
            write: wf,
            // SAFETY: a Fortran extent procedure (caller's contract).
            extent: unsafe { transmute::<*const c_void, ExtentF>(extent) },
            extra,
        }));
        Wrapped {
            read: rf.map(|_| datarep_read::<N> as ConvC<N>),
            write: wf.map(|_| datarep_write::<N> as ConvC<N>),
            extent: datarep_extent::<N>,
            rec: rec as *mut c_void,
        }
    }

    /// Frees the record of a registration that failed (a registered one lives for the
    /// program, as the representation does).
    pub fn discard(self) {
        // SAFETY: `rec` came from Box::into_raw in `new` and the C library did not keep it.
        drop(unsafe { Box::from_raw(self.rec as *mut Datarep<N>) });
    }
}

/// A count kind and the C registration that takes conversion functions of that kind.
trait CountKind: Sized + 'static {
    unsafe fn register_c(
        name: *const c_char,
        read: Option<ConvC<Self>>,
        write: Option<ConvC<Self>>,
        extent: Option<ExtentC>,
        extra: *mut c_void,
    ) -> c_int;
}
impl CountKind for c_int {
    unsafe fn register_c(
        name: *const c_char,
        read: Option<ConvC<Self>>,
        write: Option<ConvC<Self>>,
        extent: Option<ExtentC>,
        extra: *mut c_void,
    ) -> c_int {
        PMPI_Register_datarep(name, read, write, extent, extra)
    }
}
impl CountKind for i64 {
    unsafe fn register_c(
        name: *const c_char,
        read: Option<ConvC<Self>>,
        write: Option<ConvC<Self>>,
        extent: Option<ExtentC>,
        extra: *mut c_void,
    ) -> c_int {
        PMPI_Register_datarep_c(name, read, write, extent, extra)
    }
}

/// Registers the Fortran functions `read`, `write`, `extent` (addresses from Fortran) under
/// `name`, wrapped.
unsafe fn register_fortran<N: CountKind>(
    name: &[u8],
    read: *const c_void,
    write: *const c_void,
    extent: *const c_void,
    extra: i64,
) -> c_int {
    let name = name.as_ptr() as *const c_char;
    if extent.is_null() {
        // Let the C layer report the null extent function.
        return N::register_c(name, None, None, None, std::ptr::null_mut());
    }
    let w = Wrapped::<N>::new(read, write, extent, extra);
    let r = N::register_c(name, w.read, w.write, Some(w.extent), w.rec);
    if r != MPI_SUCCESS {
        w.discard();
    }
    r
}

fort! { [pmpi_register_datarep, pmpi_register_datarep__, PMPI_REGISTER_DATAREP, mpi_register_datarep,
    mpi_register_datarep_, mpi_register_datarep__, MPI_REGISTER_DATAREP]
pmpi_register_datarep_ (datarep: *const c_char, read: *const c_void, write: *const c_void,
    extent: *const c_void, extra: *const i64, ierror: *mut Fint, datarep_len: usize) {
    let name = str_in(datarep, datarep_len);
    set_ierr(ierror, register_fortran::<Fint>(&name, read, write, extent, rd(extra)));
} }

// The large-count form exists in mpi_f08 only (MPI 4.1 §19.2; MPICH's `use mpi` and mpif.h
// have no `_c` routines): one name, called by MPI_Register_datarep_c_f08.
fort! { [] pmpi_register_datarep_c_ (datarep: *const c_char, read: *const c_void, write: *const c_void,
    extent: *const c_void, extra: *const i64, ierror: *mut Fint, datarep_len: usize) {
    let name = str_in(datarep, datarep_len);
    set_ierr(ierror, register_fortran::<i64>(&name, read, write, extent, rd(extra)));
} }
