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

type ConvF = unsafe extern "C" fn(
    *mut c_void,
    *const Fint,
    *const Fint,
    *mut c_void,
    *const i64,
    *const i64,
    *mut Fint,
);
type ExtentF = unsafe extern "C" fn(*const Fint, *mut i64, *const i64, *mut Fint);

struct Datarep {
    read: Option<ConvF>,
    write: Option<ConvF>,
    extent: ExtentF,
    extra: i64,
}

unsafe fn conv(
    f: ConvF,
    userbuf: *mut c_void,
    dt: c_int,
    count: c_int,
    filebuf: *mut c_void,
    pos: i64,
    extra: i64,
) -> c_int {
    let mut ierr = MPI_SUCCESS;
    f(userbuf, &dt, &count, filebuf, &pos, &extra, &mut ierr);
    ierr
}
unsafe extern "C" fn datarep_read(
    userbuf: *mut c_void,
    dt: c_int,
    count: c_int,
    filebuf: *mut c_void,
    pos: i64,
    extra: *mut c_void,
) -> c_int {
    let d = &*(extra as *const Datarep);
    match d.read {
        Some(f) => conv(f, userbuf, dt, count, filebuf, pos, d.extra),
        None => MPI_ERR_OTHER,
    }
}
unsafe extern "C" fn datarep_write(
    userbuf: *mut c_void,
    dt: c_int,
    count: c_int,
    filebuf: *mut c_void,
    pos: i64,
    extra: *mut c_void,
) -> c_int {
    let d = &*(extra as *const Datarep);
    match d.write {
        Some(f) => conv(f, userbuf, dt, count, filebuf, pos, d.extra),
        None => MPI_ERR_OTHER,
    }
}
unsafe extern "C" fn datarep_extent(dt: c_int, extent: *mut i64, extra: *mut c_void) -> c_int {
    let d = &*(extra as *const Datarep);
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
    // `use mpi_f08`'s is a module procedure of mpi_f08_callbacks (libmpifort.so.12).
    static F08: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let f08 = *F08.get_or_init(|| f08(c"__mpi_f08_callbacks_MOD_mpi_conversion_fn_null"));
    f.is_null()
        || f as usize == f08
        || [
            pmpi_conversion_fn_null_ as *const () as usize,
            mpi_conversion_fn_null_ as *const () as usize,
            mpi_conversion_fn_null as *const () as usize,
            mpi_conversion_fn_null__ as *const () as usize,
            MPI_CONVERSION_FN_NULL as *const () as usize,
        ]
        .contains(&(f as usize))
}

fort! { [pmpi_register_datarep, pmpi_register_datarep__, PMPI_REGISTER_DATAREP, mpi_register_datarep,
    mpi_register_datarep_, mpi_register_datarep__, MPI_REGISTER_DATAREP]
pmpi_register_datarep_ (datarep: *const c_char, read: *const c_void, write: *const c_void,
    extent: *const c_void, extra: *const i64, ierror: *mut Fint, datarep_len: usize) {
    let name = str_in(datarep, datarep_len);
    let conv_of = |f: *const c_void| if is_conversion_null(f) { None } else { Some(transmute::<*const c_void, ConvF>(f)) };
    let (rf, wf) = (conv_of(read), conv_of(write));
    if extent.is_null() {
        set_ierr(ierror, PMPI_Register_datarep(name.as_ptr() as _, transmute::<usize, _>(0usize),
            transmute::<usize, _>(0usize), transmute::<usize, _>(0usize), std::ptr::null_mut()));
        return;
    }
    // A representation stays registered for the life of the program, and so does this record.
    let rec = Box::into_raw(Box::new(Datarep { read: rf, write: wf, extent: transmute::<*const c_void, ExtentF>(extent),
        extra: rd(extra) }));
    let rd_c = if rf.is_some() { datarep_read as *const () as usize } else { 0 };
    let wr_c = if wf.is_some() { datarep_write as *const () as usize } else { 0 };
    let r = PMPI_Register_datarep(name.as_ptr() as _, transmute::<usize, _>(rd_c), transmute::<usize, _>(wr_c),
        transmute::<usize, _>(datarep_extent as *const () as usize), rec as *mut c_void);
    if r != MPI_SUCCESS {
        drop(Box::from_raw(rec));
    }
    set_ierr(ierror, r);
} }
