//! Requests: handles, the wait/test families, request status, cancel, start, free, and
//! generalized requests.

use super::ptr;
use super::status::{self, MPI_Status};
use crate::error::{class, MpiError};
use crate::handle::{self, obj, predefined, KIND_DIRECT, KIND_INDIRECT};
use crate::mpi_fn;
use crate::p2p::{Kind, MsgId, ReqId, Status};
use crate::runtime::{self, NodeEngine};
use std::os::raw::{c_int, c_void};

#[inline]
pub fn handle_of(id: ReqId) -> c_int {
    handle::make(KIND_INDIRECT, obj::REQUEST, id.0)
}

pub fn msg_handle(m: MsgId) -> c_int {
    handle::make(KIND_DIRECT, obj::REQUEST, m.0)
}

pub fn msg_id(h: c_int) -> Option<MsgId> {
    (handle::kind(h) == KIND_DIRECT && handle::obj_type(h) == obj::REQUEST)
        .then(|| MsgId(handle::index(h)))
}

/// A request handle → its id; None for MPI_REQUEST_NULL.
#[inline]
pub(crate) fn id_of(e: &NodeEngine, h: c_int) -> Result<Option<ReqId>, MpiError> {
    if h == predefined::REQUEST_NULL {
        return Ok(None);
    }
    if handle::kind(h) == KIND_INDIRECT && handle::obj_type(h) == obj::REQUEST {
        let id = ReqId(handle::index(h));
        if e.is_valid(id) {
            return Ok(Some(id));
        }
    }
    Err(MpiError::arg(
        class::ERR_REQUEST,
        "request",
        format!("invalid request handle {h:#x}"),
    ))
}

fn engine() -> Result<&'static NodeEngine, MpiError> {
    Ok(&runtime::rt()?.engine)
}

/// One request for a send and a receive (Isendrecv), reporting errors on `comm`.
pub fn pair(w: ReqId, r: ReqId, keep: Option<Box<[u8]>>, comm: c_int) -> Result<ReqId, MpiError> {
    let e = engine()?;
    let id = e.join(&[w, r], r, keep);
    e.set_owner(id, comm);
    Ok(id)
}

// ---------------------------------------------------------------------------------------
// Generalized requests: ext = [query_fn, free_fn, cancel_fn, extra_state]

type QueryFn = unsafe extern "C" fn(*mut c_void, *mut MPI_Status) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut c_void) -> c_int;
type CancelFn = unsafe extern "C" fn(*mut c_void, c_int) -> c_int;

/// Runs the query and free callbacks of a completed generalized request.
fn finish_grequest(ext: [usize; 4]) -> Result<Status, MpiError> {
    let mut st = MPI_Status::default();
    let extra = ext[3] as *mut c_void;
    // SAFETY: the functions were registered by MPI_Grequest_start with these signatures.
    let q: QueryFn = unsafe { std::mem::transmute(ext[0]) };
    let rc = unsafe { q(extra, &mut st) };
    // SAFETY: as above.
    let f: FreeFn = unsafe { std::mem::transmute(ext[1]) };
    let rc2 = unsafe { f(extra) };
    let s = Status {
        source: st.MPI_SOURCE,
        tag: st.MPI_TAG,
        error: st.MPI_ERROR,
        bytes: st.bytes(),
        cancelled: st.cancelled(),
    };
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

/// Waits for request `id` and returns its status (callbacks of generalized requests run
/// here, outside the engine lock).
fn wait_id(e: &NodeEngine, id: ReqId) -> Result<Status, MpiError> {
    let (kind, ext, _) = e
        .kind_of(id)
        .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "invalid request"))?;
    let s = e.wait(id);
    if kind == Kind::Grequest {
        return finish_grequest(ext);
    }
    Ok(s)
}

fn test_id(e: &NodeEngine, id: ReqId) -> Result<Option<Status>, MpiError> {
    let (kind, ext, _) = e
        .kind_of(id)
        .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "invalid request"))?;
    match e.test(id) {
        None => Ok(None),
        Some(_) if kind == Kind::Grequest => finish_grequest(ext).map(Some),
        Some(s) => Ok(Some(s)),
    }
}

/// After completion: a non-persistent request's handle becomes MPI_REQUEST_NULL.
fn retire(e: &NodeEngine, h: &mut c_int, id: ReqId) {
    if !e.is_valid(id) {
        *h = predefined::REQUEST_NULL;
    }
}

/// Errors of request `id` are reported on its communicator.
fn on_owner(ctx: &mut super::Ctx, e: &NodeEngine, id: ReqId) {
    if let Some(o) = e.owner_of(id) {
        if o != 0 {
            ctx.on_comm(o);
        }
    }
}

fn op_error(s: &Status) -> Result<(), MpiError> {
    if s.error != 0 {
        return Err(MpiError::new(
            s.error,
            format!(
                "request completed with error (source {}, tag {})",
                s.source, s.tag
            ),
        ));
    }
    Ok(())
}

mpi_fn!(MPI_Wait, PMPI_Wait, (request: *mut c_int, status: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let mut h = ptr::read(request, "request")?;
    let s = match id_of(e, h)? {
        None => status::empty(),
        Some(id) => {
            on_owner(ctx, e, id);
            // The request is gone once waited for, even when a generalized request's
            // callback reports an error: the handle becomes MPI_REQUEST_NULL either way.
            let r = wait_id(e, id);
            retire(e, &mut h, id);
            ptr::write(request, h, "request")?;
            r?
        }
    };
    status::store(status, &s);
    op_error(&s)
});

mpi_fn!(MPI_Test, PMPI_Test, (request: *mut c_int, flag: *mut c_int, status: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let mut h = ptr::read(request, "request")?;
    let s = match id_of(e, h)? {
        None => Some(status::empty()),
        Some(id) => {
            on_owner(ctx, e, id);
            let s = test_id(e, id)?;
            if s.is_some() {
                retire(e, &mut h, id);
                ptr::write(request, h, "request")?;
            }
            s
        }
    };
    ptr::write(flag, s.is_some() as c_int, "flag")?;
    match s {
        Some(s) => {
            status::store(status, &s);
            op_error(&s)
        }
        None => Ok(()),
    }
});

/// Resolves every handle of an array (null entries → None).
/// `ids` with inactive persistent requests counted as null (the any/some calls).
fn active(e: &NodeEngine, ids: Vec<Option<ReqId>>) -> Vec<Option<ReqId>> {
    ids.into_iter()
        .map(|id| id.filter(|&id| !e.is_inactive(id)))
        .collect()
}

/// Errors are reported on the communicator of the first request.
fn ids(ctx: &mut super::Ctx, e: &NodeEngine, hs: &[c_int]) -> Result<Vec<Option<ReqId>>, MpiError> {
    let v: Vec<Option<ReqId>> = hs.iter().map(|&h| id_of(e, h)).collect::<Result<_, _>>()?;
    if let Some(id) = v.iter().flatten().next() {
        on_owner(ctx, e, *id);
    }
    Ok(v)
}

/// Completes entry `i` that is done: stores status, retires the handle.
fn take(
    e: &NodeEngine,
    hs: &mut [c_int],
    i: usize,
    id: ReqId,
    s: Status,
    statuses: *mut MPI_Status,
    pos: usize,
    multi: bool,
) -> Status {
    retire(e, &mut hs[i], id);
    status::store_at(statuses, pos, &s, multi);
    s
}

fn in_status_error(any_err: bool) -> Result<(), MpiError> {
    if any_err {
        Err(MpiError::new(
            class::ERR_IN_STATUS,
            "one or more requests failed: see the statuses",
        ))
    } else {
        Ok(())
    }
}

mpi_fn!(MPI_Waitall, PMPI_Waitall, (count: c_int, requests: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let hs = ptr::slice_mut(requests, count.max(0) as usize, "array_of_requests")?;
    let ids = ids(ctx, e, hs)?;
    let mut any_err = false;
    for (i, id) in ids.into_iter().enumerate() {
        let s = match id {
            None => status::empty(),
            Some(id) => {
                let s = wait_id(e, id)?;
                retire(e, &mut hs[i], id);
                s
            }
        };
        any_err |= s.error != 0;
        status::store_at(statuses, i, &s, true);
    }
    in_status_error(any_err)
});

mpi_fn!(MPI_Testall, PMPI_Testall, (count: c_int, requests: *mut c_int, flag: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let hs = ptr::slice_mut(requests, count.max(0) as usize, "array_of_requests")?;
    let ids = ids(ctx, e, hs)?;
    // Complete only if all are complete: check first without reaping.
    let all = ids.iter().all(|id| id.map(|id| e.peek(id).is_some()).unwrap_or(true));
    ptr::write(flag, all as c_int, "flag")?;
    if !all {
        return Ok(());
    }
    let mut any_err = false;
    for (i, id) in ids.into_iter().enumerate() {
        let s = match id {
            None => status::empty(),
            Some(id) => {
                let s = wait_id(e, id)?;
                retire(e, &mut hs[i], id);
                s
            }
        };
        any_err |= s.error != 0;
        status::store_at(statuses, i, &s, true);
    }
    in_status_error(any_err)
});

/// Index of the first complete request among `ids`, reaped; None if none is.
fn first_done(e: &NodeEngine, ids: &[Option<ReqId>]) -> Result<Option<(usize, Status)>, MpiError> {
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            if e.peek(*id).is_some() {
                return Ok(Some((i, wait_id(e, *id)?)));
            }
        }
    }
    Ok(None)
}

mpi_fn!(MPI_Waitany, PMPI_Waitany, (count: c_int, requests: *mut c_int, index: *mut c_int, status: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let hs = ptr::slice_mut(requests, count.max(0) as usize, "array_of_requests")?;
    let ids = active(e, ids(ctx, e, hs)?);
    if ids.iter().all(|i| i.is_none()) {
        ptr::write(index, super::consts::UNDEFINED, "index")?;
        status::store_empty(status);
        return Ok(());
    }
    // Sleep in the engine until one is done, then reap it outside the lock.
    let live: Vec<(usize, ReqId)> = ids.iter().enumerate().filter_map(|(i, id)| id.map(|id| (i, id))).collect();
    let i = e.wait_until(|_, st| live.iter().find(|(_, id)| st.reqs.get(*id).map(|r| r.done || (r.persist.is_some() && !r.active)).unwrap_or(true)).map(|(i, _)| *i));
    let id = ids[i].expect("live entry");
    let s = wait_id(e, id)?;
    take(e, hs, i, id, s, status, 0, false);
    ptr::write(index, i as c_int, "index")?;
    op_error(&s)
});

mpi_fn!(MPI_Testany, PMPI_Testany, (count: c_int, requests: *mut c_int, index: *mut c_int, flag: *mut c_int, status: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let hs = ptr::slice_mut(requests, count.max(0) as usize, "array_of_requests")?;
    let ids = active(e, ids(ctx, e, hs)?);
    if ids.iter().all(|i| i.is_none()) {
        ptr::write(flag, 1, "flag")?;
        ptr::write(index, super::consts::UNDEFINED, "index")?;
        status::store_empty(status);
        return Ok(());
    }
    match first_done(e, &ids)? {
        Some((i, s)) => {
            take(e, hs, i, ids[i].expect("live"), s, status, 0, false);
            ptr::write(flag, 1, "flag")?;
            ptr::write(index, i as c_int, "index")?;
            op_error(&s)
        }
        None => {
            ptr::write(flag, 0, "flag")?;
            ptr::write(index, super::consts::UNDEFINED, "index")
        }
    }
});

/// Reaps every complete request; returns how many.
fn some(
    e: &NodeEngine,
    hs: &mut [c_int],
    ids: &[Option<ReqId>],
    indices: *mut c_int,
    statuses: *mut MPI_Status,
) -> Result<(usize, bool), MpiError> {
    let mut n = 0;
    let mut any_err = false;
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = *id else { continue };
        if e.peek(id).is_none() {
            continue;
        }
        let s = wait_id(e, id)?;
        take(e, hs, i, id, s, statuses, n, true);
        ptr::slice_mut(indices, n + 1, "array_of_indices")?[n] = i as c_int;
        any_err |= s.error != 0;
        n += 1;
    }
    Ok((n, any_err))
}

mpi_fn!(MPI_Waitsome, PMPI_Waitsome, (incount: c_int, requests: *mut c_int, outcount: *mut c_int, indices: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let hs = ptr::slice_mut(requests, incount.max(0) as usize, "array_of_requests")?;
    let ids = active(e, ids(ctx, e, hs)?);
    if ids.iter().all(|i| i.is_none()) {
        return ptr::write(outcount, super::consts::UNDEFINED, "outcount");
    }
    let live: Vec<ReqId> = ids.iter().flatten().copied().collect();
    e.wait_until(|_, st| live.iter().any(|id| st.reqs.get(*id).map(|r| r.done || (r.persist.is_some() && !r.active)).unwrap_or(true)).then_some(()));
    let (n, err) = some(e, hs, &ids, indices, statuses)?;
    ptr::write(outcount, n as c_int, "outcount")?;
    in_status_error(err)
});

mpi_fn!(MPI_Testsome, PMPI_Testsome, (incount: c_int, requests: *mut c_int, outcount: *mut c_int, indices: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let hs = ptr::slice_mut(requests, incount.max(0) as usize, "array_of_requests")?;
    let ids = active(e, ids(ctx, e, hs)?);
    if ids.iter().all(|i| i.is_none()) {
        return ptr::write(outcount, super::consts::UNDEFINED, "outcount");
    }
    let (n, err) = some(e, hs, &ids, indices, statuses)?;
    ptr::write(outcount, n as c_int, "outcount")?;
    in_status_error(err)
});

/// Status of a request without freeing it (generalized requests ask their query function).
fn peek_status(e: &NodeEngine, id: ReqId) -> Result<Option<Status>, MpiError> {
    let (kind, ext, _) = e
        .kind_of(id)
        .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "invalid request"))?;
    let Some(s) = e.peek(id) else { return Ok(None) };
    if kind == Kind::Grequest {
        let mut st = MPI_Status::default();
        // SAFETY: registered by MPI_Grequest_start with this signature.
        let q: QueryFn = unsafe { std::mem::transmute(ext[0]) };
        unsafe { q(ext[3] as *mut c_void, &mut st) };
        return Ok(Some(Status {
            source: st.MPI_SOURCE,
            tag: st.MPI_TAG,
            error: st.MPI_ERROR,
            bytes: st.bytes(),
            cancelled: st.cancelled(),
        }));
    }
    Ok(Some(s))
}

mpi_fn!(MPI_Request_get_status, PMPI_Request_get_status, (request: c_int, flag: *mut c_int, status: *mut MPI_Status), |_ctx| {
    let e = engine()?;
    let s = match id_of(e, request)? {
        None => Some(status::empty()),
        Some(id) => peek_status(e, id)?,
    };
    ptr::write(flag, s.is_some() as c_int, "flag")?;
    if let Some(s) = s {
        status::store(status, &s);
    }
    Ok(())
});

mpi_fn!(MPI_Request_get_status_any, PMPI_Request_get_status_any, (count: c_int, requests: *const c_int, index: *mut c_int, flag: *mut c_int, status: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let hs = ptr::slice(requests, count.max(0) as usize, "array_of_requests")?;
    let ids = active(e, ids(ctx, e, hs)?);
    if ids.iter().all(|i| i.is_none()) {
        ptr::write(flag, 1, "flag")?;
        ptr::write(index, super::consts::UNDEFINED, "index")?;
        status::store_empty(status);
        return Ok(());
    }
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            if let Some(s) = peek_status(e, *id)? {
                ptr::write(flag, 1, "flag")?;
                ptr::write(index, i as c_int, "index")?;
                status::store(status, &s);
                return Ok(());
            }
        }
    }
    ptr::write(flag, 0, "flag")?;
    ptr::write(index, super::consts::UNDEFINED, "index")
});

mpi_fn!(MPI_Request_get_status_all, PMPI_Request_get_status_all, (count: c_int, requests: *const c_int, flag: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let hs = ptr::slice(requests, count.max(0) as usize, "array_of_requests")?;
    let ids = ids(ctx, e, hs)?;
    let mut all = Vec::with_capacity(ids.len());
    for id in &ids {
        match id {
            None => all.push(Some(status::empty())),
            Some(id) => all.push(peek_status(e, *id)?),
        }
    }
    let done = all.iter().all(|s| s.is_some());
    ptr::write(flag, done as c_int, "flag")?;
    if done {
        for (i, s) in all.iter().enumerate() {
            status::store_at(statuses, i, s.as_ref().expect("checked"), true);
        }
    }
    Ok(())
});

mpi_fn!(MPI_Request_get_status_some, PMPI_Request_get_status_some, (incount: c_int, requests: *const c_int, outcount: *mut c_int, indices: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    let e = engine()?;
    let hs = ptr::slice(requests, incount.max(0) as usize, "array_of_requests")?;
    let ids = active(e, ids(ctx, e, hs)?);
    if ids.iter().all(|i| i.is_none()) {
        return ptr::write(outcount, super::consts::UNDEFINED, "outcount");
    }
    let mut n = 0;
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id else { continue };
        if let Some(s) = peek_status(e, *id)? {
            ptr::slice_mut(indices, n + 1, "array_of_indices")?[n] = i as c_int;
            status::store_at(statuses, n, &s, true);
            n += 1;
        }
    }
    ptr::write(outcount, n as c_int, "outcount")
});

mpi_fn!(MPI_Request_free, PMPI_Request_free, (request: *mut c_int), |_ctx| {
    let e = engine()?;
    let h = ptr::read(request, "request")?;
    let id = id_of(e, h)?.ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "MPI_REQUEST_NULL"))?;
    let (kind, ext, done) = e.kind_of(id).expect("valid");
    if kind == Kind::Grequest && done {
        e.free(id);
        // SAFETY: registered by MPI_Grequest_start with this signature.
        let f: FreeFn = unsafe { std::mem::transmute(ext[1]) };
        unsafe { f(ext[3] as *mut c_void) };
    } else {
        e.free(id);
    }
    ptr::write(request, predefined::REQUEST_NULL, "request")
});

mpi_fn!(MPI_Cancel, PMPI_Cancel, (request: *mut c_int), |_ctx| {
    let e = engine()?;
    let h = ptr::read(request, "request")?;
    let id = id_of(e, h)?.ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "MPI_REQUEST_NULL"))?;
    let (kind, ext, done) = e.kind_of(id).expect("valid");
    if kind == Kind::Grequest {
        // SAFETY: registered by MPI_Grequest_start with this signature.
        let c: CancelFn = unsafe { std::mem::transmute(ext[2]) };
        let rc = unsafe { c(ext[3] as *mut c_void, done as c_int) };
        if rc != 0 {
            return Err(MpiError::new(super::errors::class_of(rc), "generalized request cancel function failed"));
        }
        return Ok(());
    }
    e.cancel(id)
});

mpi_fn!(MPI_Test_cancelled, PMPI_Test_cancelled, (status: *const MPI_Status, flag: *mut c_int), |_ctx| {
    let s = ptr::read(status, "status")?;
    ptr::write(flag, s.cancelled() as c_int, "flag")
});

mpi_fn!(MPI_Start, PMPI_Start, (request: *mut c_int), |_ctx| {
    let e = engine()?;
    let h = ptr::read(request, "request")?;
    let id = id_of(e, h)?.ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "MPI_REQUEST_NULL"))?;
    e.start(id)
});

mpi_fn!(MPI_Startall, PMPI_Startall, (count: c_int, requests: *mut c_int), |_ctx| {
    let e = engine()?;
    let hs = ptr::slice(requests, count.max(0) as usize, "array_of_requests")?;
    for &h in hs {
        let id = id_of(e, h)?.ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "array_of_requests", "MPI_REQUEST_NULL"))?;
        e.start(id)?;
    }
    Ok(())
});

mpi_fn!(MPI_Grequest_start, PMPI_Grequest_start, (query_fn: usize, free_fn: usize, cancel_fn: usize, extra_state: *mut c_void, request: *mut c_int), |_ctx| {
    if query_fn == 0 || free_fn == 0 || cancel_fn == 0 {
        return Err(MpiError::arg(class::ERR_ARG, "query_fn/free_fn/cancel_fn", "null function"));
    }
    let e = engine()?;
    let id = e.external(Kind::Grequest, [query_fn, free_fn, cancel_fn, extra_state as usize]);
    ptr::write(request, handle_of(id), "request")
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
                // SAFETY: registered by MPI_Grequest_start with this signature.
                let f: FreeFn = unsafe { std::mem::transmute(ext[1]) };
                unsafe { f(ext[3] as *mut c_void) };
            }
            Ok(())
        }
        _ => Err(MpiError::arg(class::ERR_REQUEST, "request", "not a generalized request")),
    }
});

// ---------------------------------------------------------------------------------------
// Status setters and the MPI 5.0 accessors

mpi_fn!(MPI_Status_set_cancelled, PMPI_Status_set_cancelled, (status: *mut MPI_Status, flag: c_int), |_ctx| {
    let mut s = ptr::read(status, "status")?;
    s.set_cancelled(flag != 0);
    ptr::write(status, s, "status")
});

macro_rules! status_field {
    ($get:ident, $pget:ident, $set:ident, $pset:ident, $field:ident) => {
        mpi_fn!($get, $pget, (status: *const MPI_Status, value: *mut c_int), |_ctx| {
            ptr::write(value, ptr::read(status, "status")?.$field, "value")
        });
        mpi_fn!($set, $pset, (status: *mut MPI_Status, value: c_int), |_ctx| {
            let mut s = ptr::read(status, "status")?;
            s.$field = value;
            ptr::write(status, s, "status")
        });
    };
}

status_field!(
    MPI_Status_get_source,
    PMPI_Status_get_source,
    MPI_Status_set_source,
    PMPI_Status_set_source,
    MPI_SOURCE
);
status_field!(
    MPI_Status_get_tag,
    PMPI_Status_get_tag,
    MPI_Status_set_tag,
    PMPI_Status_set_tag,
    MPI_TAG
);
status_field!(
    MPI_Status_get_error,
    PMPI_Status_get_error,
    MPI_Status_set_error,
    PMPI_Status_set_error,
    MPI_ERROR
);
