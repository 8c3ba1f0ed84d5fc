//! Generalized requests (MPI_Grequest_start/complete) and MPICH's extended ones
//! (MPIX_Grequest_class_create, MPIX_Grequest_class_allocate, MPIX_Grequest_start).
//!
//! A generalized request is an engine request of kind `Grequest` whose `ext` words are
//! `[query_fn, free_fn, cancel_fn, extra_state]`; its callbacks run outside the engine lock.
//! MPICH's extension adds two callbacks (MPICH's `MPIR_Grequest_fns`):
//! * `poll_fn(extra_state, status)`: MPICH calls it from its progress engine so a request
//!   whose completion nobody else drives (an I/O library's) can notice it and call
//!   MPI_Grequest_complete. Here it is a poller of the progress registry: every wait and
//!   test of any request runs it for every incomplete extended request.
//! * `wait_fn(count, extra_states, timeout, status)`: a blocking wait; MPI_Waitall calls it
//!   for each incomplete extended request (count 1) until the request is complete, as
//!   MPICH 4.0.2 does (its MPI_Wait does not: it polls, and so do we - checked against
//!   MPICH by tests-c/mpix_grequest).
//! MPICH requires all five callbacks to be non-null, and so do we.
//! A class (MPIX_Grequest_class) is the five callbacks kept under one handle.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::request::{engine, handle_of, id_of};
use super::status::MPI_Status;
use crate::error::{class, MpiError};
use crate::handle::{self, obj, KIND_DIRECT};
use crate::mpi_fn;
use crate::p2p::{Kind, ReqId, Status};
use crate::progress::registry::FnPoller;
use parking_lot::Mutex;
use std::os::raw::{c_int, c_void};

type QueryFn = unsafe extern "C" fn(*mut c_void, *mut MPI_Status) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut c_void) -> c_int;
type CancelFn = unsafe extern "C" fn(*mut c_void, c_int) -> c_int;
// MPICH's MPIR_Grequest_f77_*_function: the Fortran callbacks of MPICH's own libmpifort,
// every argument by reference and the error in a last MPI_Fint out-argument.
type F77QueryFn = unsafe extern "C" fn(*mut c_void, *mut c_int, *mut c_int);
type F77FreeFn = unsafe extern "C" fn(*mut c_void, *mut c_int);
type F77CancelFn = unsafe extern "C" fn(*mut c_void, *mut c_int, *mut c_int);

/// The generalized requests whose callbacks are Fortran ones (MPII_Grequest_set_lang_f77,
/// called by MPICH's libmpifort right after MPI_Grequest_start); an entry goes when the
/// free callback has run.
static F77_GREQUESTS: parking_lot::Mutex<Vec<ReqId>> = parking_lot::Mutex::new(Vec::new());

fn is_f77(id: ReqId) -> bool {
    F77_GREQUESTS.lock().contains(&id)
}

/// Marks generalized request `h` as having Fortran callbacks (MPICH's
/// MPII_Grequest_set_lang_f77, which returns nothing: another handle is ignored).
pub fn set_grequest_f77(h: c_int) {
    let Ok(e) = engine() else { return };
    let Ok(Some(id)) = id_of(e, h) else { return };
    if matches!(e.kind_of(id), Some((Kind::Grequest, _, _))) {
        let mut t = F77_GREQUESTS.lock();
        if !t.contains(&id) {
            t.push(id);
        }
    }
}

/// Calls the query callback of generalized request `id` (callbacks `ext`) into `st`.
pub(super) fn call_query(id: ReqId, ext: [usize; 4], st: &mut MPI_Status) -> c_int {
    let extra = ext[3] as *mut c_void;
    if is_f77(id) {
        // SAFETY: registered by MPICH's MPI_GREQUEST_START binding as a Fortran query
        // function (MPII_Grequest_set_lang_f77).
        let q: F77QueryFn = unsafe { std::mem::transmute(ext[0]) };
        // A Fortran status is the C one's ints (MPICH's PMPI_Status_f2c copies them); it is
        // taken only if the callback succeeded, as MPICH does.
        let mut fst = MPI_Status::default();
        let mut ierr: c_int = 0;
        // SAFETY: the user's Fortran callback with by-reference arguments to our locals.
        unsafe { q(extra, &mut fst as *mut MPI_Status as *mut c_int, &mut ierr) };
        if ierr == 0 {
            *st = fst;
        }
        return ierr;
    }
    // SAFETY: the functions were registered by MPI_Grequest_start with these signatures.
    let q: QueryFn = unsafe { std::mem::transmute(ext[0]) };
    // SAFETY: the user's callback, called with the arguments its MPI signature takes.
    unsafe { q(extra, st) }
}

/// Calls the free callback of generalized request `id`; its Fortran mark goes with it.
pub(super) fn call_free(id: ReqId, ext: [usize; 4]) -> c_int {
    let extra = ext[3] as *mut c_void;
    forget_extended(id);
    let f77 = {
        let mut t = F77_GREQUESTS.lock();
        let had = t.contains(&id);
        t.retain(|x| *x != id);
        had
    };
    if f77 {
        // SAFETY: registered by MPICH's Fortran binding as a Fortran free function.
        let f: F77FreeFn = unsafe { std::mem::transmute(ext[1]) };
        let mut ierr: c_int = 0;
        // SAFETY: the user's Fortran callback with by-reference arguments to our locals.
        unsafe { f(extra, &mut ierr) };
        return ierr;
    }
    // SAFETY: registered by MPI_Grequest_start with this signature.
    let f: FreeFn = unsafe { std::mem::transmute(ext[1]) };
    // SAFETY: the user's callback, called with the arguments its MPI signature takes.
    unsafe { f(extra) }
}

/// Calls the cancel callback of generalized request `id` (`done`: already complete).
pub(super) fn call_cancel(id: ReqId, ext: [usize; 4], done: bool) -> c_int {
    let extra = ext[3] as *mut c_void;
    if is_f77(id) {
        // SAFETY: registered by MPICH's Fortran binding as a Fortran cancel function.
        let c: F77CancelFn = unsafe { std::mem::transmute(ext[2]) };
        let (mut complete, mut ierr): (c_int, c_int) = (done as c_int, 0);
        // SAFETY: the user's Fortran callback with by-reference arguments to our locals.
        unsafe { c(extra, &mut complete, &mut ierr) };
        return ierr;
    }
    // SAFETY: registered by MPI_Grequest_start with this signature.
    let c: CancelFn = unsafe { std::mem::transmute(ext[2]) };
    // SAFETY: the user's callback, called with the arguments its MPI signature takes.
    unsafe { c(extra, done as c_int) }
}

/// The status a generalized request's query callback filled in.
pub(super) fn grequest_status(st: &MPI_Status) -> Status {
    Status {
        source: st.MPI_SOURCE,
        tag: st.MPI_TAG,
        error: st.MPI_ERROR,
        bytes: st.bytes(),
        cancelled: st.cancelled(),
    }
}

/// Runs the query and free callbacks of a completed generalized request.
pub(super) fn finish_grequest(id: ReqId, ext: [usize; 4]) -> Result<Status, MpiError> {
    let mut st = MPI_Status::default();
    let rc = call_query(id, ext, &mut st);
    let rc2 = call_free(id, ext);
    let s = grequest_status(&st);
    for rc in [rc, rc2] {
        if rc != 0 {
            return Err(MpiError::new(
                super::errors::class_of(rc),
                format!("generalized request callback returned error {rc}"),
            ));
        }
    }
    Ok(s)
}

mpi_fn!(MPI_Grequest_start, PMPI_Grequest_start, (query_fn: usize, free_fn: usize, cancel_fn: usize, extra_state: *mut c_void, request: *mut c_int), |_ctx| {
    if query_fn == 0 || free_fn == 0 || cancel_fn == 0 {
        return Err(MpiError::arg(class::ERR_ARG, "query_fn/free_fn/cancel_fn", "null function"));
    }
    let e = engine()?;
    let id = e.external(Kind::Grequest, [query_fn, free_fn, cancel_fn, extra_state as usize]);
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, handle_of(id), "request") }
});

mpi_fn!(MPI_Grequest_complete, PMPI_Grequest_complete, (request: c_int), |_ctx| {
    let e = engine()?;
    let id = id_of(e, request)?.ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "MPI_REQUEST_NULL"))?;
    match e.kind_of(id) {
        Some((Kind::Grequest, ext, _)) => {
            // A request the user already freed is gone once complete: its free callback
            // runs now, as nobody will wait for it.
            let freed = e.is_freed(id);
            e.complete_external(id);
            if freed {
                call_free(id, ext);
            }
            Ok(())
        }
        _ => Err(MpiError::arg(class::ERR_REQUEST, "request", "not a generalized request")),
    }
});

// ---------------------------------------------------------------------------------------
// MPICH's extended generalized requests

type PollFn = unsafe extern "C" fn(*mut c_void, *mut MPI_Status) -> c_int;
type WaitFn = unsafe extern "C" fn(c_int, *mut *mut c_void, f64, *mut MPI_Status) -> c_int;

/// The callbacks of a class: query, free, cancel (as MPI_Grequest_start), poll and wait.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Callbacks {
    query: usize,
    free: usize,
    cancel: usize,
    poll: usize,
    wait: usize,
}

/// Classes made by MPIX_Grequest_class_create (never freed: MPICH has no class free call
/// either); the handle's index is the position here.
static CLASSES: Mutex<Vec<Callbacks>> = Mutex::new(Vec::new());

/// Incomplete-or-unfreed extended requests: id, callbacks, extra_state. An entry goes with
/// the request's free callback (`forget_extended`).
static EXTENDED: Mutex<Vec<(ReqId, Callbacks, usize)>> = Mutex::new(Vec::new());

/// Set while a thread runs the poll callbacks: they are not re-entered (a poll_fn that
/// calls MPI_Test would otherwise recurse).
static POLLING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

static POLLER: FnPoller = FnPoller(poll_extended);

fn class_handle(i: usize) -> c_int {
    handle::make(KIND_DIRECT, obj::GREQ_CLASS, i as u32)
}

fn class_of(h: c_int) -> Result<Callbacks, MpiError> {
    let bad = || {
        MpiError::arg(
            class::ERR_ARG,
            "greq_class",
            format!("{h:#x} is not a class made by MPIX_Grequest_class_create"),
        )
    };
    if handle::kind(h) != KIND_DIRECT || handle::obj_type(h) != obj::GREQ_CLASS {
        return Err(bad());
    }
    CLASSES
        .lock()
        .get(handle::index(h) as usize)
        .copied()
        .ok_or_else(bad)
}

fn forget_extended(id: ReqId) {
    EXTENDED.lock().retain(|(r, _, _)| *r != id);
}

/// MPICH's check: every callback is given.
fn check_callbacks(cb: &Callbacks) -> Result<(), MpiError> {
    for (f, name) in [
        (cb.query, "query_fn"),
        (cb.free, "free_fn"),
        (cb.cancel, "cancel_fn"),
        (cb.poll, "poll_fn"),
        (cb.wait, "wait_fn"),
    ] {
        if f == 0 {
            return Err(MpiError::arg(class::ERR_ARG, name, "null function"));
        }
    }
    Ok(())
}

/// Starts an extended generalized request with callbacks `cb`.
fn start_extended(cb: Callbacks, extra: usize) -> Result<ReqId, MpiError> {
    check_callbacks(&cb)?;
    let e = engine()?;
    let id = e.external(Kind::Grequest, [cb.query, cb.free, cb.cancel, extra]);
    EXTENDED.lock().push((id, cb, extra));
    e.add_poller(&POLLER);
    Ok(id)
}

/// The progress registry's poller: calls poll_fn of every extended request not yet
/// complete (MPICH's MPIR_Grequest_progress_poke). The list is copied first, so the
/// callbacks run with no lock held and may complete or free requests.
fn poll_extended() -> bool {
    use std::sync::atomic::Ordering;
    if POLLING.swap(true, Ordering::Acquire) {
        return false;
    }
    let list: Vec<(ReqId, usize, usize)> = EXTENDED
        .lock()
        .iter()
        .map(|(id, cb, extra)| (*id, cb.poll, *extra))
        .collect();
    let mut did = false;
    if let Ok(e) = engine() {
        for (id, poll, extra) in list {
            if !matches!(e.kind_of(id), Some((Kind::Grequest, _, false))) {
                continue;
            }
            // SAFETY: registered by MPIX_Grequest_start/class_create as a poll function.
            let f: PollFn = unsafe { std::mem::transmute(poll) };
            let mut st = MPI_Status::default();
            // SAFETY: the user's callback, called with the arguments its signature takes.
            unsafe { f(extra as *mut c_void, &mut st) };
            did |= matches!(e.kind_of(id), Some((_, _, true)));
        }
    }
    POLLING.store(false, Ordering::Release);
    did
}

/// Before blocking on `ids`: calls the wait_fn of each extended request among them, one
/// request at a time (count 1, timeout 0), until it is complete, as MPICH 4.0.2's
/// MPI_Waitall does (a wait_fn that returns without completing anything lets progress,
/// and so poll_fn, run between calls). A wait_fn error is returned.
pub(super) fn wait_extended(ids: &[ReqId]) -> Result<(), MpiError> {
    let e = engine()?;
    let pending: Vec<(ReqId, usize, usize)> = {
        let ext = EXTENDED.lock();
        ids.iter()
            .filter_map(|id| ext.iter().find(|(r, cb, _)| r == id && cb.wait != 0))
            .map(|(id, cb, extra)| (*id, cb.wait, *extra))
            .collect()
    };
    for (id, wait, extra) in pending {
        while e.peek(id).is_none() {
            // SAFETY: registered by MPIX_Grequest_start/class_create as a wait function.
            let f: WaitFn = unsafe { std::mem::transmute(wait) };
            let mut state = extra as *mut c_void;
            let mut st = MPI_Status::default();
            // SAFETY: the user's callback, with an array of one extra state.
            let rc = unsafe { f(1, &mut state, 0.0, &mut st) };
            if rc != 0 {
                return Err(MpiError::new(
                    super::errors::class_of(rc),
                    format!("generalized request wait function returned error {rc}"),
                ));
            }
        }
    }
    Ok(())
}

mpi_fn!(MPIX_Grequest_class_create, PMPIX_Grequest_class_create, (query_fn: usize, free_fn: usize, cancel_fn: usize, poll_fn: usize, wait_fn: usize, greq_class: *mut c_int), |_ctx| {
    let cb = Callbacks { query: query_fn, free: free_fn, cancel: cancel_fn, poll: poll_fn, wait: wait_fn };
    check_callbacks(&cb)?;
    // SAFETY: `greq_class` is the C caller's, null or valid for this use (MPI contract).
    let mut out = unsafe { arg::out(greq_class, "greq_class") }?;
    let mut c = CLASSES.lock();
    c.push(cb);
    out.set(class_handle(c.len() - 1));
    Ok(())
});

mpi_fn!(MPIX_Grequest_class_allocate, PMPIX_Grequest_class_allocate, (greq_class: c_int, extra_state: *mut c_void, request: *mut c_int), |_ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    let mut out = unsafe { arg::out(request, "request") }?;
    let id = start_extended(class_of(greq_class)?, extra_state as usize)?;
    out.set(handle_of(id));
    Ok(())
});

mpi_fn!(MPIX_Grequest_start, PMPIX_Grequest_start, (query_fn: usize, free_fn: usize, cancel_fn: usize, poll_fn: usize, wait_fn: usize, extra_state: *mut c_void, request: *mut c_int), |_ctx| {
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    let mut out = unsafe { arg::out(request, "request") }?;
    let cb = Callbacks { query: query_fn, free: free_fn, cancel: cancel_fn, poll: poll_fn, wait: wait_fn };
    let id = start_extended(cb, extra_state as usize)?;
    out.set(handle_of(id));
    Ok(())
});
