//! Requests: handles, the wait/test families, request status, cancel, start, free, and
//! generalized requests.

#![deny(unsafe_op_in_unsafe_fn)]

use super::arg;
use super::grequest::{
    call_cancel, call_free, call_query, finish_grequest, grequest_status, wait_extended,
};
// (Re-exported: other faces reach them through this module.)
pub use super::grequest::{set_grequest_f77, PMPI_Grequest_complete, PMPI_Grequest_start};
use super::status::{self, MPI_Status};
use crate::error::{class, MpiError};
use crate::handle::{self, obj, predefined, KIND_BUILTIN, KIND_DIRECT, KIND_INDIRECT};
use crate::mpi_fn;
use crate::p2p::engine::Checked;
use crate::p2p::request::ReapSink;
use crate::p2p::{Kind, MsgId, Reaped, ReqId, Started, Status};
use crate::runtime::{self, NodeEngine};
use std::os::raw::c_int;

#[inline]
pub fn handle_of(id: ReqId) -> c_int {
    handle::make(KIND_INDIRECT, obj::REQUEST, id.0)
}

/// The index bit of a quick send's handle: a builtin request handle (as MPICH's
/// pre-completed lightweight requests are builtin; MPI_MESSAGE_NO_PROC is builtin index 0)
/// whose other index bits are the low bits of the send's sequence number (see
/// `p2p::engine::quick`).
const QUICK_BIT: u32 = 1 << 25;
const QUICK_BITS: u32 = QUICK_BIT - 1;

/// The handle of a started nonblocking send.
#[inline]
pub fn started_handle(s: Started) -> c_int {
    match s {
        Started::Quick(seq) => {
            handle::make(KIND_BUILTIN, obj::REQUEST, QUICK_BIT | (seq & QUICK_BITS))
        }
        Started::Req(id) => handle_of(id),
    }
}

/// The sequence bits of a quick send's handle; None for any other handle.
#[inline]
fn quick_seq(h: c_int) -> Option<u32> {
    let i = handle::index(h);
    (handle::kind(h) == KIND_BUILTIN && handle::obj_type(h) == obj::REQUEST && i & QUICK_BIT != 0)
        .then_some(i & QUICK_BITS)
}

/// The status a completed send reports (what a send request of the slab reports).
fn sent_status() -> Status {
    Status::default()
}

/// What a request handle names for the request calls.
enum Named {
    Null,
    Req(ReqId),
    /// A quick send: complete, no request behind it.
    Sent,
}

/// A request handle → what it names: a quick send's handle names a request only once
/// MPI_Cancel made one for it.
#[inline]
fn resolve(e: &NodeEngine, h: c_int) -> Result<Named, MpiError> {
    if let Some(seq) = quick_seq(h) {
        return Ok(match e.quick_req(seq, QUICK_BITS) {
            Some(id) => Named::Req(id),
            None => Named::Sent,
        });
    }
    Ok(match id_of(e, h)? {
        None => Named::Null,
        Some(id) => Named::Req(id),
    })
}

/// Entry `i` of a resolved array is a quick send without a request (complete).
#[inline]
fn is_sent(hs: &[c_int], ids: &[Option<ReqId>], i: usize) -> bool {
    ids[i].is_none() && quick_seq(hs[i]).is_some()
}

/// The first entry of a resolved array that is a complete quick send.
fn first_sent(hs: &[c_int], ids: &[Option<ReqId>]) -> Option<usize> {
    (0..ids.len()).find(|&i| is_sent(hs, ids, i))
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
    match decode(h)? {
        Some(id) if !e.is_valid(id) => Err(bad_handle(h)),
        id => Ok(id),
    }
}

/// A request handle's id by its bits alone (None for MPI_REQUEST_NULL); whether the
/// request is live is the engine's to say.
#[inline]
fn decode(h: c_int) -> Result<Option<ReqId>, MpiError> {
    if h == predefined::REQUEST_NULL {
        return Ok(None);
    }
    if handle::kind(h) == KIND_INDIRECT && handle::obj_type(h) == obj::REQUEST {
        return Ok(Some(ReqId(handle::index(h))));
    }
    Err(bad_handle(h))
}

fn bad_handle(h: c_int) -> MpiError {
    MpiError::arg(
        class::ERR_REQUEST,
        "request",
        format!("invalid request handle {h:#x}"),
    )
}

pub(super) fn engine() -> Result<&'static NodeEngine, MpiError> {
    Ok(&runtime::rt()?.engine)
}

/// One request for a send and a receive (Isendrecv), reporting errors on `comm`.
pub fn pair(w: ReqId, r: ReqId, keep: Option<Box<[u8]>>, comm: c_int) -> Result<ReqId, MpiError> {
    let e = engine()?;
    let id = e.join(&[w, r], r, keep);
    e.set_owner(id, comm);
    Ok(id)
}

/// Waits for request `id` and returns its status (callbacks of generalized requests run
/// here, outside the engine lock).
fn wait_id(e: &NodeEngine, id: ReqId) -> Result<Status, MpiError> {
    let (kind, ext, _) = e
        .kind_of(id)
        .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "invalid request"))?;
    let s = e.wait(id);
    if kind == Kind::Grequest {
        return finish_grequest(id, ext);
    }
    Ok(s)
}

fn test_id(e: &NodeEngine, id: ReqId) -> Result<Option<Status>, MpiError> {
    let (kind, ext, _) = e
        .kind_of(id)
        .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "invalid request"))?;
    match e.test(id) {
        None => Ok(None),
        Some(_) if kind == Kind::Grequest => finish_grequest(id, ext).map(Some),
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
    // SAFETY: `request` and `status` are from the C caller, null or valid for this use by
    // the MPI contract (MPI_STATUS_IGNORE is handled by `status::out`).
    let (mut req, mut status) = unsafe { (arg::inout(request, "request")?, status::out(status, "status")?) };
    let e = engine()?;
    let mut h = req.get();
    let s = match resolve(e, h)? {
        Named::Null => status::empty(),
        Named::Sent => {
            req.set(predefined::REQUEST_NULL);
            sent_status()
        }
        Named::Req(id) => {
            on_owner(ctx, e, id);
            // The request is gone once waited for, even when a generalized request's
            // callback reports an error: the handle becomes MPI_REQUEST_NULL either way.
            let r = wait_id(e, id);
            retire(e, &mut h, id);
            req.set(h);
            r?
        }
    };
    status.store(&s);
    op_error(&s)
});

mpi_fn!(MPI_Test, PMPI_Test, (request: *mut c_int, flag: *mut c_int, status: *mut MPI_Status), |ctx| {
    // SAFETY: `request`, `flag` and `status` are from the C caller, null or valid for this
    // use by the MPI contract.
    let (mut req, mut flag, mut status) = unsafe {
        (arg::inout(request, "request")?, arg::out(flag, "flag")?, status::out(status, "status")?)
    };
    let e = engine()?;
    let mut h = req.get();
    let s = match resolve(e, h)? {
        Named::Null => Some(status::empty()),
        Named::Sent => {
            req.set(predefined::REQUEST_NULL);
            Some(sent_status())
        }
        Named::Req(id) => {
            on_owner(ctx, e, id);
            let s = test_id(e, id)?;
            if s.is_some() {
                retire(e, &mut h, id);
                req.set(h);
            }
            s
        }
    };
    flag.set(s.is_some() as c_int);
    match s {
        Some(s) => {
            status.store(&s);
            op_error(&s)
        }
        None => Ok(()),
    }
});

/// `ids` with inactive persistent requests counted as null (the any/some calls).
fn active(e: &NodeEngine, ids: Vec<Option<ReqId>>) -> Vec<Option<ReqId>> {
    ids.into_iter()
        .map(|id| id.filter(|&id| !e.is_inactive(id)))
        .collect()
}

/// Resolves every handle of an array (null entries and quick sends without a request →
/// None), checking them under one engine lock (none when no entry names a request); errors
/// are reported on the communicator of the first request.
fn ids(ctx: &mut super::Ctx, e: &NodeEngine, hs: &[c_int]) -> Result<Vec<Option<ReqId>>, MpiError> {
    checked_ids(ctx, e, hs).map(|(v, _)| v)
}

/// [`ids`], and whether any entry is a generalized request.
fn checked_ids(
    ctx: &mut super::Ctx,
    e: &NodeEngine,
    hs: &[c_int],
) -> Result<(Vec<Option<ReqId>>, bool), MpiError> {
    let v = decoded_ids(e, hs)?;
    if v.iter().all(Option::is_none) {
        return Ok((v, false));
    }
    let c = e.check_all(&v).map_err(|i| bad_handle(hs[i]))?;
    on_first_owner(ctx, &c);
    Ok((v, c.grequests))
}

/// Every handle of an array by its bits (null entries and quick sends without a request →
/// None), not yet checked live.
fn decoded_ids(e: &NodeEngine, hs: &[c_int]) -> Result<Vec<Option<ReqId>>, MpiError> {
    let mut v = Vec::with_capacity(hs.len());
    for &h in hs {
        // A request of the slab (a window's receives) by one compare of the kind and type
        // bits; quick sends, null and bad handles take `decoded_other`.
        v.push(if (h as u32) >> 26 == SLAB_HANDLE_BITS {
            Some(ReqId(handle::index(h)))
        } else {
            decoded_other(e, h)?
        });
    }
    Ok(v)
}

/// The top six bits (kind, object type) of a handle of a request of the slab
/// (`handle_of`).
const SLAB_HANDLE_BITS: u32 = KIND_INDIRECT << 4 | obj::REQUEST;

/// `decoded_ids` for an entry that is not a handle of the slab.
#[inline]
fn decoded_other(e: &NodeEngine, h: c_int) -> Result<Option<ReqId>, MpiError> {
    Ok(match quick_seq(h) {
        Some(seq) => e.quick_req(seq, QUICK_BITS),
        None => decode(h)?,
    })
}

/// Errors of an array call are reported on the communicator of its first request.
fn on_first_owner(ctx: &mut super::Ctx, c: &Checked) {
    if let Some(o) = c.owner.filter(|&o| o != 0) {
        ctx.on_comm(o);
    }
}

/// The length of a request array: a negative one is MPI_ERR_COUNT (MPICH's
/// `MPIR_ERRTEST_COUNT`), never taken as 0.
fn count_of(n: c_int, arg: &str) -> Result<usize, MpiError> {
    usize::try_from(n)
        .map_err(|_| MpiError::arg(class::ERR_COUNT, arg, format!("negative count {n}")))
}

/// The arguments of the multiple-completion calls, checked before anything completes: a
/// negative count (MPI_ERR_COUNT), a null request array, status array or index array
/// with a positive count (MPI_ERR_ARG, as MPICH; MPI_STATUSES_IGNORE is not null).
struct Many<'a> {
    hs: &'a mut [c_int],
    statuses: status::StatusesOut<'a>,
}

/// # Safety
/// `requests` is null or an array of `count` handles, `statuses` null, MPI_STATUSES_IGNORE
/// or an array of `count` statuses, both the caller's for `'a`.
unsafe fn many<'a>(
    count: c_int,
    count_arg: &str,
    requests: *mut c_int,
    statuses: *mut MPI_Status,
) -> Result<Many<'a>, MpiError> {
    let n = count_of(count, count_arg)?;
    // SAFETY: by this function's contract.
    unsafe {
        Ok(Many {
            hs: arg::slice_mut(requests, n, "array_of_requests")?,
            statuses: status::out_array(statuses, n, "array_of_statuses")?,
        })
    }
}

/// Retires entry `i`, whose request completed with status `s` (returned).
fn take(e: &NodeEngine, hs: &mut [c_int], i: usize, id: ReqId, s: Status) -> Status {
    retire(e, &mut hs[i], id);
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

/// What storing a reaped array found so far: any status with an error, and the first
/// error to return (a stale handle, a generalized request's callback).
#[derive(Default)]
struct Stored {
    any_err: bool,
    first_err: Option<MpiError>,
}

impl Stored {
    fn result(self) -> Result<(), MpiError> {
        if let Some(e) = self.first_err {
            return Err(e);
        }
        in_status_error(self.any_err)
    }
}

/// Stores the status of entry `i` of an array reaped by `Engine::wait_all`/`test_all`
/// and retires its handle: the common end of MPI_Waitall and of a successful MPI_Testall.
/// Every entry is stored and retired even after an error (the engine has already let go
/// of every request); the first error is kept in `out`. A generalized request's callbacks
/// run here: the caller holds no engine lock for such an entry (see `reap_into`).
#[inline(always)]
fn store_one(m: &mut Many, ids: &[Option<ReqId>], i: usize, r: Option<Reaped>, out: &mut Stored) {
    let s = match r {
        None if is_sent(m.hs, ids, i) => {
            m.hs[i] = predefined::REQUEST_NULL;
            sent_status()
        }
        None if ids[i].is_none() => status::empty(),
        // Freed by another thread since the check: as MPI_Wait on a stale handle.
        None => {
            out.first_err.get_or_insert(bad_handle(m.hs[i]));
            return;
        }
        Some(r) => {
            if !r.live {
                m.hs[i] = predefined::REQUEST_NULL;
            }
            if r.kind != Kind::Grequest {
                r.status
            } else {
                match finish_grequest(ids[i].expect("reaped entry"), r.ext) {
                    Ok(s) => s,
                    Err(e) => {
                        out.first_err.get_or_insert(e);
                        return;
                    }
                }
            }
        }
    };
    out.any_err |= s.error != 0;
    m.statuses.store(i, &s, true);
}

/// The sink of an array reap that stores each entry into the caller's arrays as it is
/// reaped (`store_one`), under the engine lock (only user memory is written there).
struct Store<'s, 'a> {
    m: &'s mut Many<'a>,
    ids: &'s [Option<ReqId>],
    out: &'s mut Stored,
}

impl ReapSink for Store<'_, '_> {
    /// A plain request (never a generalized one): `store_one`'s `Some` case without the
    /// `Reaped` built and matched.
    #[inline(always)]
    fn plain(&mut self, i: usize, s: &Status, _: Kind) {
        self.m.hs[i] = predefined::REQUEST_NULL;
        self.out.any_err |= s.error != 0;
        self.m.statuses.store(i, s, true);
    }

    #[inline(always)]
    fn reaped(&mut self, i: usize, r: Option<Reaped>) {
        store_one(self.m, self.ids, i, r, self.out)
    }
}

/// The sink that collects what was reaped, to be stored once the engine lock is let go
/// (generalized requests' callbacks run while storing).
struct Collect(Vec<Option<Reaped>>);

impl ReapSink for Collect {
    fn plain(&mut self, _: usize, s: &Status, kind: Kind) {
        self.0.push(Some(Reaped {
            status: *s,
            kind,
            ext: [0; 4],
            live: false,
        }));
    }

    fn reaped(&mut self, _: usize, r: Option<Reaped>) {
        self.0.push(r);
    }
}

/// Runs `reap` (an `Engine::wait_all`/`test_all` call given its sink) and stores what it
/// reaped into `m`. Without generalized requests every entry is stored by the sink itself,
/// under the engine lock (`Store`); with them, the reaped entries are collected first
/// (`Collect`), and stored once the lock is let go, for their callbacks. None when `reap`
/// reaped nothing (a Testall that found a request not complete).
fn reap_into(
    m: &mut Many,
    ids: &[Option<ReqId>],
    grequests: bool,
    reap: impl FnOnce(&mut dyn ReapSink) -> bool,
) -> Option<Result<(), MpiError>> {
    let mut out = Stored::default();
    if grequests {
        let mut reaped = Collect(Vec::with_capacity(ids.len()));
        if !reap(&mut reaped) {
            return None;
        }
        for (i, r) in reaped.0.into_iter().enumerate() {
            store_one(m, ids, i, r, &mut out);
        }
    } else if !reap(&mut Store {
        m,
        ids,
        out: &mut out,
    }) {
        return None;
    }
    Some(out.result())
}

mpi_fn!(MPI_Waitall, PMPI_Waitall, (count: c_int, requests: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    // SAFETY: `requests` and `statuses` are from the C caller, arrays of `count` entries
    // (or null / MPI_STATUSES_IGNORE) by the MPI contract.
    let mut m = unsafe { many(count, "count", requests, statuses) }?;
    let e = engine()?;
    let ids = decoded_ids(e, m.hs)?;
    let mut out = Stored::default();
    if ids.iter().all(Option::is_none) {
        // (A window of quick sends names no request: nothing to wait for.)
        (0..ids.len()).for_each(|i| store_one(&mut m, &ids, i, None, &mut out));
        return out.result();
    }
    // The check and the wait under one lock; each entry stored straight from the engine's
    // reap loop (a sink it inlines).
    let mut sink = Store {
        m: &mut m,
        ids: &ids,
        out: &mut out,
    };
    let c = e
        .wait_all_checked(&ids, &mut sink)
        .map_err(|i| bad_handle(m.hs[i]))?;
    on_first_owner(ctx, &c);
    if !c.grequests {
        return out.result();
    }
    // Only generalized requests may have a wait callback to drive; checked, nothing reaped.
    let live: Vec<ReqId> = ids.iter().flatten().copied().collect();
    wait_extended(&live)?;
    reap_into(&mut m, &ids, true, |sink| {
        e.wait_all(&ids, sink);
        true
    })
    .unwrap_or(Ok(()))
});

mpi_fn!(MPI_Testall, PMPI_Testall, (count: c_int, requests: *mut c_int, flag: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    // SAFETY: as in MPI_Waitall; `flag` is the caller's output argument.
    let (mut m, mut flag) = unsafe { (many(count, "count", requests, statuses)?, arg::out(flag, "flag")?) };
    let e = engine()?;
    let (ids, grequests) = checked_ids(ctx, e, m.hs)?;
    // Complete only if all are complete (nothing is reaped otherwise).
    let done = reap_into(&mut m, &ids, grequests, |sink| e.test_all(&ids, sink));
    flag.set(done.is_some() as c_int);
    done.unwrap_or(Ok(()))
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
    let n = count_of(count, "count")?;
    // SAFETY: `requests` (of `count` entries), `index` and `status` are from the C caller,
    // null or valid for this use by the MPI contract.
    let (hs, mut index, mut status) = unsafe {
        (arg::slice_mut(requests, n, "array_of_requests")?, arg::out(index, "index")?, status::out(status, "status")?)
    };
    let e = engine()?;
    let ids = active(e, ids(ctx, e, hs)?);
    if let Some(i) = first_sent(hs, &ids) {
        hs[i] = predefined::REQUEST_NULL;
        status.store(&sent_status());
        index.set(i as c_int);
        return Ok(());
    }
    if ids.iter().all(|i| i.is_none()) {
        index.set(super::consts::UNDEFINED);
        status.store_empty();
        return Ok(());
    }
    // Sleep in the engine until one is done, then reap it outside the lock.
    let live: Vec<(usize, ReqId)> = ids.iter().enumerate().filter_map(|(i, id)| id.map(|id| (i, id))).collect();
    let i = e.wait_until(|_, st| live.iter().find(|(_, id)| st.reqs.get(*id).map(|r| r.done || (r.persist.is_some() && !r.active)).unwrap_or(true)).map(|(i, _)| *i));
    let id = ids[i].expect("live entry");
    let s = take(e, hs, i, id, wait_id(e, id)?);
    status.store(&s);
    index.set(i as c_int);
    op_error(&s)
});

mpi_fn!(MPI_Testany, PMPI_Testany, (count: c_int, requests: *mut c_int, index: *mut c_int, flag: *mut c_int, status: *mut MPI_Status), |ctx| {
    let n = count_of(count, "count")?;
    // SAFETY: as in MPI_Waitany; `flag` is the caller's output argument.
    let (hs, mut index, mut flag, mut status) = unsafe {
        (arg::slice_mut(requests, n, "array_of_requests")?, arg::out(index, "index")?, arg::out(flag, "flag")?, status::out(status, "status")?)
    };
    let e = engine()?;
    let ids = active(e, ids(ctx, e, hs)?);
    if let Some(i) = first_sent(hs, &ids) {
        hs[i] = predefined::REQUEST_NULL;
        status.store(&sent_status());
        flag.set(1);
        index.set(i as c_int);
        return Ok(());
    }
    if ids.iter().all(|i| i.is_none()) {
        flag.set(1);
        index.set(super::consts::UNDEFINED);
        status.store_empty();
        return Ok(());
    }
    match first_done(e, &ids)? {
        Some((i, s)) => {
            take(e, hs, i, ids[i].expect("live"), s);
            status.store(&s);
            flag.set(1);
            index.set(i as c_int);
            op_error(&s)
        }
        None => {
            flag.set(0);
            index.set(super::consts::UNDEFINED);
            Ok(())
        }
    }
});

/// The arguments of the some calls: the request array, the indices and the statuses, each
/// of `incount` entries, and `outcount`, all checked before anything completes.
struct SomeArgs<'a> {
    m: Many<'a>,
    indices: &'a mut [c_int],
    outcount: arg::Out<'a, c_int>,
}

/// # Safety
/// As [`many`], and `indices` null or an array of `incount` ints, `outcount` null or valid
/// for a write.
unsafe fn some_args<'a>(
    incount: c_int,
    requests: *mut c_int,
    outcount: *mut c_int,
    indices: *mut c_int,
    statuses: *mut MPI_Status,
) -> Result<SomeArgs<'a>, MpiError> {
    // SAFETY: by this function's contract.
    unsafe {
        let m = many(incount, "incount", requests, statuses)?;
        let n = m.hs.len();
        Ok(SomeArgs {
            indices: arg::slice_mut(indices, n, "array_of_indices")?,
            outcount: arg::out(outcount, "outcount")?,
            m,
        })
    }
}

/// Reaps every complete request; returns how many and whether one failed.
fn some(
    e: &NodeEngine,
    a: &mut SomeArgs,
    ids: &[Option<ReqId>],
) -> Result<(usize, bool), MpiError> {
    let mut n = 0;
    let mut any_err = false;
    for (i, id) in ids.iter().enumerate() {
        let s = match *id {
            None if is_sent(a.m.hs, ids, i) => {
                a.m.hs[i] = predefined::REQUEST_NULL;
                sent_status()
            }
            None => continue,
            Some(id) => {
                if e.peek(id).is_none() {
                    continue;
                }
                take(e, a.m.hs, i, id, wait_id(e, id)?)
            }
        };
        a.m.statuses.store(n, &s, true);
        a.indices[n] = i as c_int;
        any_err |= s.error != 0;
        n += 1;
    }
    Ok((n, any_err))
}

mpi_fn!(MPI_Waitsome, PMPI_Waitsome, (incount: c_int, requests: *mut c_int, outcount: *mut c_int, indices: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    // SAFETY: the arrays (of `incount` entries) and `outcount` are from the C caller, null
    // or valid for this use by the MPI contract.
    let mut a = unsafe { some_args(incount, requests, outcount, indices, statuses) }?;
    let e = engine()?;
    let ids = active(e, ids(ctx, e, a.m.hs)?);
    let sent = first_sent(a.m.hs, &ids).is_some();
    if !sent && ids.iter().all(|i| i.is_none()) {
        a.outcount.set(super::consts::UNDEFINED);
        return Ok(());
    }
    // A quick send is complete: nothing to wait for.
    if !sent {
        let live: Vec<ReqId> = ids.iter().flatten().copied().collect();
        e.wait_until(|_, st| live.iter().any(|id| st.reqs.get(*id).map(|r| r.done || (r.persist.is_some() && !r.active)).unwrap_or(true)).then_some(()));
    }
    let (n, err) = some(e, &mut a, &ids)?;
    a.outcount.set(n as c_int);
    in_status_error(err)
});

mpi_fn!(MPI_Testsome, PMPI_Testsome, (incount: c_int, requests: *mut c_int, outcount: *mut c_int, indices: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    // SAFETY: as in MPI_Waitsome.
    let mut a = unsafe { some_args(incount, requests, outcount, indices, statuses) }?;
    let e = engine()?;
    let ids = active(e, ids(ctx, e, a.m.hs)?);
    if first_sent(a.m.hs, &ids).is_none() && ids.iter().all(|i| i.is_none()) {
        a.outcount.set(super::consts::UNDEFINED);
        return Ok(());
    }
    let (n, err) = some(e, &mut a, &ids)?;
    a.outcount.set(n as c_int);
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
        call_query(id, ext, &mut st);
        return Ok(Some(grequest_status(&st)));
    }
    Ok(Some(s))
}

mpi_fn!(MPI_Request_get_status, PMPI_Request_get_status, (request: c_int, flag: *mut c_int, status: *mut MPI_Status), |_ctx| {
    // SAFETY: `flag` and `status` are from the C caller, null or valid for this use by the
    // MPI contract.
    let (mut flag, mut status) = unsafe { (arg::out(flag, "flag")?, status::out(status, "status")?) };
    let e = engine()?;
    let s = match resolve(e, request)? {
        Named::Null => Some(status::empty()),
        Named::Sent => Some(sent_status()),
        Named::Req(id) => peek_status(e, id)?,
    };
    flag.set(s.is_some() as c_int);
    if let Some(s) = s {
        status.store(&s);
    }
    Ok(())
});

mpi_fn!(MPI_Request_get_status_any, PMPI_Request_get_status_any, (count: c_int, requests: *const c_int, index: *mut c_int, flag: *mut c_int, status: *mut MPI_Status), |ctx| {
    let n = count_of(count, "count")?;
    // SAFETY: `requests` (of `count` entries), `index`, `flag` and `status` are from the C
    // caller, null or valid for this use by the MPI contract.
    let (hs, mut index, mut flag, mut status) = unsafe {
        (arg::slice(requests, n, "array_of_requests")?, arg::out(index, "index")?, arg::out(flag, "flag")?, status::out(status, "status")?)
    };
    let e = engine()?;
    let ids = active(e, ids(ctx, e, hs)?);
    if let Some(i) = first_sent(hs, &ids) {
        flag.set(1);
        index.set(i as c_int);
        status.store(&sent_status());
        return Ok(());
    }
    if ids.iter().all(|i| i.is_none()) {
        flag.set(1);
        index.set(super::consts::UNDEFINED);
        status.store_empty();
        return Ok(());
    }
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            if let Some(s) = peek_status(e, *id)? {
                flag.set(1);
                index.set(i as c_int);
                status.store(&s);
                return Ok(());
            }
        }
    }
    flag.set(0);
    index.set(super::consts::UNDEFINED);
    Ok(())
});

mpi_fn!(MPI_Request_get_status_all, PMPI_Request_get_status_all, (count: c_int, requests: *const c_int, flag: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    let n = count_of(count, "count")?;
    // SAFETY: `requests` and `statuses` (of `count` entries) and `flag` are from the C
    // caller, null or valid for this use by the MPI contract.
    let (hs, mut flag, mut statuses) = unsafe {
        (arg::slice(requests, n, "array_of_requests")?, arg::out(flag, "flag")?, status::out_array(statuses, n, "array_of_statuses")?)
    };
    let e = engine()?;
    let ids = ids(ctx, e, hs)?;
    let mut all = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        match id {
            None if is_sent(hs, &ids, i) => all.push(Some(sent_status())),
            None => all.push(Some(status::empty())),
            Some(id) => all.push(peek_status(e, *id)?),
        }
    }
    let done = all.iter().all(|s| s.is_some());
    flag.set(done as c_int);
    if done {
        for (i, s) in all.iter().enumerate() {
            statuses.store(i, s.as_ref().expect("checked"), true);
        }
    }
    Ok(())
});

mpi_fn!(MPI_Request_get_status_some, PMPI_Request_get_status_some, (incount: c_int, requests: *const c_int, outcount: *mut c_int, indices: *mut c_int, statuses: *mut MPI_Status), |ctx| {
    let n = count_of(incount, "incount")?;
    // SAFETY: the arrays (of `incount` entries) and `outcount` are from the C caller, null
    // or valid for this use by the MPI contract.
    let (hs, indices, mut outcount, mut statuses) = unsafe {
        (
            arg::slice(requests, n, "array_of_requests")?,
            arg::slice_mut(indices, n, "array_of_indices")?,
            arg::out(outcount, "outcount")?,
            status::out_array(statuses, n, "array_of_statuses")?,
        )
    };
    let e = engine()?;
    let ids = active(e, ids(ctx, e, hs)?);
    if first_sent(hs, &ids).is_none() && ids.iter().all(|i| i.is_none()) {
        outcount.set(super::consts::UNDEFINED);
        return Ok(());
    }
    let mut k = 0;
    for (i, id) in ids.iter().enumerate() {
        let s = match id {
            None if is_sent(hs, &ids, i) => Some(sent_status()),
            None => None,
            Some(id) => peek_status(e, *id)?,
        };
        if let Some(s) = s {
            indices[k] = i as c_int;
            statuses.store(k, &s, true);
            k += 1;
        }
    }
    outcount.set(k as c_int);
    Ok(())
});

mpi_fn!(MPI_Request_free, PMPI_Request_free, (request: *mut c_int), |_ctx| {
    let e = engine()?;
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(request, "request") }?;
    let id = match resolve(e, h)? {
        Named::Null => return Err(MpiError::arg(class::ERR_REQUEST, "request", "MPI_REQUEST_NULL")),
        // A quick send: complete, nothing to free but the handle.
        // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
        Named::Sent => return unsafe { arg::write(request, predefined::REQUEST_NULL, "request") },
        Named::Req(id) => id,
    };
    let (kind, ext, done) = e.kind_of(id).expect("valid");
    if kind == Kind::Grequest && done {
        e.free(id);
        call_free(id, ext);
    } else {
        e.free(id);
    }
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(request, predefined::REQUEST_NULL, "request") }
});

mpi_fn!(MPI_Cancel, PMPI_Cancel, (request: *mut c_int), |_ctx| {
    let e = engine()?;
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(request, "request") }?;
    if let Some(seq) = quick_seq(h) {
        // A quick send's cancellation gives it a request, which the handle names from now on.
        return e.cancel_quick(seq, QUICK_BITS);
    }
    let id = id_of(e, h)?.ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "MPI_REQUEST_NULL"))?;
    let (kind, ext, done) = e.kind_of(id).expect("valid");
    if kind == Kind::Grequest {
        let rc = call_cancel(id, ext, done);
        if rc != 0 {
            return Err(MpiError::new(super::errors::class_of(rc), "generalized request cancel function failed"));
        }
        return Ok(());
    }
    e.cancel(id)
});

mpi_fn!(MPI_Test_cancelled, PMPI_Test_cancelled, (status: *const MPI_Status, flag: *mut c_int), |_ctx| {
    // SAFETY: `status` is the C caller's, null or valid for this use (MPI contract).
    let s = unsafe { arg::read(status, "status") }?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, s.cancelled() as c_int, "flag") }
});

mpi_fn!(MPI_Start, PMPI_Start, (request: *mut c_int), |_ctx| {
    let e = engine()?;
    // SAFETY: `request` is the C caller's, null or valid for this use (MPI contract).
    let h = unsafe { arg::read(request, "request") }?;
    let id = id_of(e, h)?.ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "MPI_REQUEST_NULL"))?;
    e.start(id)
});

mpi_fn!(MPI_Startall, PMPI_Startall, (count: c_int, requests: *mut c_int), |_ctx| {
    let e = engine()?;
    let n = count_of(count, "count")?;
    // SAFETY: `requests` is the C caller's array of `count` handles (MPI contract).
    let hs = unsafe { arg::slice(requests, n, "array_of_requests") }?;
    for &h in hs {
        let id = id_of(e, h)?.ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "array_of_requests", "MPI_REQUEST_NULL"))?;
        e.start(id)?;
    }
    Ok(())
});

// ---------------------------------------------------------------------------------------
// Status setters and the MPI 5.0 accessors

mpi_fn!(MPI_Status_set_cancelled, PMPI_Status_set_cancelled, (status: *mut MPI_Status, flag: c_int), |_ctx| {
    // SAFETY: `status` is the C caller's, null or valid for this use (MPI contract).
    let mut s = unsafe { arg::read(status, "status") }?;
    s.set_cancelled(flag != 0);
    // SAFETY: `status` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(status, s, "status") }
});

macro_rules! status_field {
    ($get:ident, $pget:ident, $set:ident, $pset:ident, $field:ident) => {
        mpi_fn!($get, $pget, (status: *const MPI_Status, value: *mut c_int), |_ctx| {
            // SAFETY: `value` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(value, arg::read(status, "status")?.$field, "value") }
        });
        mpi_fn!($set, $pset, (status: *mut MPI_Status, value: c_int), |_ctx| {
            // SAFETY: `status` is the C caller's, null or valid for this use (MPI contract).
            let mut s = unsafe { arg::read(status, "status") }?;
            s.$field = value;
            // SAFETY: `status` is the C caller's, null or valid for this use (MPI contract).
            unsafe { arg::write(status, s, "status") }
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
