//! Completion and waiting: completing requests (and the joined requests they are parts of),
//! the blocking loop (`progress::block_on` with the engine's protocols as its first stage and
//! the registry's pollers as its second), reaping, testing and freeing requests, and the
//! requests a higher layer completes itself.

use super::*;
use crate::p2p::request::ReapSink;

impl<F: Fabric> Engine<F> {
    /// Marks request `id` complete (recycling it if the user already freed it).
    pub fn complete(&self, st: &mut State, id: ReqId) {
        let Some(r) = st.reqs.get_mut(id) else { return };
        if r.done {
            return;
        }
        if r.cancel_pending {
            // The receiver's answer to MPI_Cancel decides (see `cancel_answered`).
            r.proto_done = true;
            return;
        }
        r.mark_done();
        // What a joined parent takes from this part (read before a release below).
        let parent = r.parent.map(|p| {
            let gives = r.gives_status || (r.gives_error && r.status.error != 0);
            (p, r.status, gives)
        });
        st.completions += 1;
        if r.freed {
            st.reqs.release(id);
        }
        if let Some((p, status, gives)) = parent {
            let finished = match st.reqs.get_mut(p) {
                Some(pr) => {
                    if gives {
                        pr.status = status;
                    } else if status.cancelled {
                        // The send a buffered-mode request stands for was cancelled.
                        pr.status.cancelled = true;
                    }
                    pr.pending -= 1;
                    pr.pending == 0
                }
                None => false,
            };
            if finished {
                self.complete(st, p);
            }
        }
    }

    /// One request standing for several (Isendrecv): it completes when all parts have,
    /// with the status of `status_from`. `keep` lives until then.
    pub fn join(&self, parts: &[ReqId], status_from: ReqId, keep: Option<Box<[u8]>>) -> ReqId {
        let mut st = self.lock();
        let parent = st.reqs.alloc(Kind::Schedule);
        st.reqs.get_mut(parent).expect("fresh").keep = keep;
        self.attach_parts(&mut st, parent, parts, status_from, false);
        parent
    }

    /// A started persistent request of a higher layer completes when all `parts` have;
    /// it takes the status of `status_from` only if that carries an error.
    pub fn join_into(&self, parent: ReqId, parts: &[ReqId], status_from: ReqId) {
        let mut st = self.lock();
        self.attach_parts(&mut st, parent, parts, status_from, true);
    }

    /// Makes `parts` parts of `parent` (see `join`); parts already done count at once.
    fn attach_parts(
        &self,
        st: &mut State,
        parent: ReqId,
        parts: &[ReqId],
        status_from: ReqId,
        errors_only: bool,
    ) {
        for &c in parts {
            let Some(r) = st.reqs.get_mut(c) else {
                continue;
            };
            if r.done {
                let s = r.status;
                st.reqs.release(c);
                if c == status_from && (!errors_only || s.error != 0) {
                    if let Some(p) = st.reqs.get_mut(parent) {
                        p.status = s;
                    }
                }
            } else {
                r.parent = Some(parent);
                r.gives_status = c == status_from && !errors_only;
                r.gives_error = c == status_from && errors_only;
                r.freed = true;
                if let Some(p) = st.reqs.get_mut(parent) {
                    p.pending += 1;
                }
            }
        }
        if st.reqs.get(parent).is_some_and(|p| p.pending == 0) {
            self.complete(st, parent);
        }
    }

    /// The registry of higher layers' progress (see `progress::registry`).
    pub fn pollers(&self) -> &Registry {
        &self.pollers
    }

    /// Completes a request from outside the engine (generalized requests, schedules) and
    /// wakes threads that sleep waiting for it.
    pub fn complete_external(&self, id: ReqId) {
        let mut st = self.lock();
        self.complete(&mut st, id);
        drop(st);
        if self.policy.anyone_asleep() {
            self.fab.ring(self.fab.me());
        }
    }

    /// Registers the progress of a higher layer (see `progress::registry`).
    pub fn add_poller(&self, p: &'static dyn Poller) {
        self.pollers.add(p);
    }

    /// Runs the registered pollers; true if any did work.
    #[inline]
    pub fn run_pollers(&self) -> bool {
        self.pollers.run()
    }

    /// Runs progress until `f` returns Some: each round runs the registry's pollers (outside
    /// the engine lock), then the engine's protocols and `f` under it. How the round repeats
    /// (spin, yield, sleep on the doorbell) is `progress::block_on`'s policy.
    pub fn wait_until<R>(&self, mut f: impl FnMut(&Self, &mut State) -> Option<R>) -> R {
        let others = self.fab.remote_peers();
        crate::progress::block_on(&self.policy, &self.fab, others, || {
            let polled = self.run_pollers();
            let mut st = self.lock();
            let did = self.progress(&mut st) | polled;
            (did, f(self, &mut st))
        })
    }

    /// Waits for request `id` and frees it (unless persistent); returns its status.
    pub fn wait(&self, id: ReqId) -> Status {
        // A request that is already complete (an eager send, a receive progress matched
        // earlier) returns without a progress round, as MPICH's MPI_Wait does: a window of
        // Isends then MPI_Waitall would otherwise poll every transport once per request.
        if let Some(s) = self.reap(&mut self.lock(), id) {
            return s;
        }
        self.wait_until(|e, st| e.reap(st, id))
    }

    /// If `id` is complete: its status, and the request freed (persistent ones become
    /// inactive). An inactive persistent request reports the empty status.
    pub fn reap(&self, st: &mut State, id: ReqId) -> Option<Status> {
        reap_now(st, id)
    }

    /// Waits until every request of `ids` can be reaped, then reaps them all under one
    /// lock (the core of MPI_Waitall), handing each entry to `sink` under that lock
    /// (`ReapSink::plain` for a plain request, `ReapSink::reaped` for the others, None for
    /// a null entry or a request no longer live: see `reap_all`): the caller stores
    /// statuses and handles there, with no array of results built and walked again. An
    /// array whose requests are already complete (a window of eager sends) costs one lock
    /// and no progress round; otherwise the blocking loop checks the array from the first
    /// request not yet complete on.
    pub fn wait_all<S: ReapSink + ?Sized>(&self, ids: &[Option<ReqId>], sink: &mut S) {
        let mut from = 0;
        {
            let mut st = self.lock();
            if all_reapable(&st, ids, &mut from) {
                return reap_all(&mut st, ids, sink);
            }
        }
        self.wait_rest(ids, from, sink)
    }

    /// `check_all` and `wait_all` in one: the array is checked under the lock of the first
    /// reap attempt (MPI_Waitall's check, one pass and one lock fewer per call: issue 13,
    /// a window's 64 receives). Err with the index of a stale entry (nothing reaped). An
    /// array holding generalized requests is checked only, not waited for: their wait
    /// callbacks must run first, outside the lock (the caller then uses `wait_all`).
    pub fn wait_all_checked<S: ReapSink + ?Sized>(
        &self,
        ids: &[Option<ReqId>],
        sink: &mut S,
    ) -> Result<Checked, usize> {
        let mut from = 0;
        let c = {
            let mut st = self.lock();
            let c = check_in(&st, ids)?;
            if c.grequests {
                return Ok(c);
            }
            if all_reapable(&st, ids, &mut from) {
                reap_all(&mut st, ids, sink);
                return Ok(c);
            }
            c
        };
        self.wait_rest(ids, from, sink);
        Ok(c)
    }

    /// The blocking part of `wait_all`: progress until the entries of `ids` from `from` on
    /// can be reaped (those before can), then all of them reaped into `sink`.
    fn wait_rest<S: ReapSink + ?Sized>(
        &self,
        ids: &[Option<ReqId>],
        mut from: usize,
        sink: &mut S,
    ) {
        self.wait_until(|_, st| all_reapable(st, ids, &mut from).then(|| reap_all(st, ids, sink)))
    }

    /// One progress round, then every request of `ids` reaped into `sink` (as in
    /// `wait_all`) if all can be: true; false (nothing reaped) otherwise (the core of
    /// MPI_Testall).
    pub fn test_all<S: ReapSink + ?Sized>(&self, ids: &[Option<ReqId>], sink: &mut S) -> bool {
        self.run_pollers();
        let mut st = self.lock();
        self.progress(&mut st);
        let all = all_reapable(&st, ids, &mut 0);
        if all {
            reap_all(&mut st, ids, sink);
        }
        all
    }

    /// Checks under one lock that every request of `ids` is live: Ok with the owner of the
    /// first one (None if all entries are null) and whether any is a generalized request
    /// (only those may owe a wait callback), or Err with the index of a stale one.
    pub fn check_all(&self, ids: &[Option<ReqId>]) -> Result<Checked, usize> {
        check_in(&self.lock(), ids)
    }

    /// Test without waiting.
    pub fn test(&self, id: ReqId) -> Option<Status> {
        self.run_pollers();
        let mut st = self.lock();
        self.progress(&mut st);
        self.reap(&mut st, id)
    }

    /// Status of `id` if complete, without freeing it (MPI_Request_get_status).
    pub fn peek(&self, id: ReqId) -> Option<Status> {
        self.run_pollers();
        let mut st = self.lock();
        self.progress(&mut st);
        let r = st.reqs.get(id)?;
        if r.persist.is_some() && !r.active && !r.done {
            return Some(Status::empty());
        }
        r.done.then_some(r.status)
    }

    pub fn is_valid(&self, id: ReqId) -> bool {
        self.lock().reqs.get(id).is_some()
    }

    /// MPI_Request_free: forget the request; an active one completes in the background.
    pub fn free(&self, id: ReqId) {
        let mut st = self.lock();
        let Some(r) = st.reqs.get_mut(id) else { return };
        if r.done || (r.persist.is_some() && !r.active) || r.kind == Kind::Done {
            st.reqs.release(id);
        } else {
            r.freed = true;
            r.persist = None;
        }
    }

    /// A request that is already complete with `status` (e.g. MPI_PROC_NULL operations).
    pub fn completed(&self, status: Status) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(Kind::Done);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.status = status;
        r.done = true;
        id
    }

    /// A request completed later by `complete_external` (generalized requests, schedules).
    pub fn external(&self, kind: Kind, ext: [usize; 4]) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(kind);
        st.reqs.get_mut(id).expect("fresh").ext = ext;
        id
    }

    /// A persistent request started and completed by a higher layer (persistent
    /// collectives): inactive until `activate`, reusable after each completion.
    /// `starter` is what MPI_Start calls for it.
    pub fn external_persistent(&self, kind: Kind, ext: [usize; 4], starter: Starter) -> ReqId {
        let mut st = self.lock();
        let id = st.reqs.alloc(kind);
        let r = st.reqs.get_mut(id).expect("fresh");
        r.ext = ext;
        r.persist = Some(Box::new(Persist::External(starter)));
        id
    }

    /// Marks an external persistent request active (its owner's MPI_Start).
    pub fn activate(&self, id: ReqId) -> Result<(), MpiError> {
        let mut st = self.lock();
        let r = st
            .reqs
            .get_mut(id)
            .ok_or_else(|| MpiError::arg(class::ERR_REQUEST, "request", "not a valid request"))?;
        r.restart()
    }

    /// Sets the status an external request reports.
    pub fn set_status(&self, id: ReqId, s: Status) {
        if let Some(r) = self.lock().reqs.get_mut(id) {
            r.status = s;
        }
    }

    pub fn kind_of(&self, id: ReqId) -> Option<(Kind, [usize; 4], bool)> {
        self.lock().reqs.get(id).map(|r| (r.kind, r.ext, r.done))
    }

    /// True for a persistent request that is not started (MPI treats it like a null
    /// request in the any/some completion calls).
    pub fn is_inactive(&self, id: ReqId) -> bool {
        self.lock()
            .reqs
            .get(id)
            .map(|r| r.persist.is_some() && !r.active && !r.done)
            .unwrap_or(false)
    }

    /// True when the user freed the request while it was still active.
    pub fn is_freed(&self, id: ReqId) -> bool {
        self.lock().reqs.get(id).map(|r| r.freed).unwrap_or(false)
    }

    /// The opaque owner of a request (see `Req::owner`).
    pub fn owner_of(&self, id: ReqId) -> Option<i32> {
        self.lock().reqs.get(id).map(|r| r.owner)
    }

    pub fn set_owner(&self, id: ReqId, owner: i32) {
        if let Some(r) = self.lock().reqs.get_mut(id) {
            r.owner = owner;
        }
    }
}

/// What `Engine::check_all` found about a request array whose entries are all live.
#[derive(Clone, Copy, Debug)]
pub struct Checked {
    /// The owner of the first non-null entry.
    pub owner: Option<i32>,
    /// Some entry is a generalized request.
    pub grequests: bool,
}

/// What reaping found for one request of an array: its status, what kind of request it
/// was (generalized requests still owe their callbacks), and whether it lives on.
#[derive(Clone, Copy, Debug)]
pub struct Reaped {
    pub status: Status,
    pub kind: Kind,
    /// The request's opaque words: a generalized request's only (zero for the others).
    pub ext: [usize; 4],
    /// A persistent request: inactive now, its handle stays valid.
    pub live: bool,
}

/// May request `r` be reaped: complete, or a persistent request that is not started.
#[inline]
fn reapable(r: &super::super::request::Req) -> bool {
    r.done || (r.persist.is_some() && !r.active)
}

/// `Engine::check_all` under a lock the caller holds.
fn check_in(st: &State, ids: &[Option<ReqId>]) -> Result<Checked, usize> {
    let mut c = Checked {
        owner: None,
        grequests: false,
    };
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            let r = st.reqs.get(*id).ok_or(i)?;
            c.owner.get_or_insert(r.owner);
            c.grequests |= r.kind == Kind::Grequest;
        }
    }
    Ok(c)
}

/// True when every request of `ids` from `*from` on can be reaped; `*from` advances past
/// those that can (they stay so until reaped), so a blocking loop does not rescan them.
fn all_reapable(st: &State, ids: &[Option<ReqId>], from: &mut usize) -> bool {
    while let Some(id) = ids.get(*from) {
        if let Some(id) = id {
            if !st.reqs.get(*id).is_none_or(reapable) {
                return false;
            }
        }
        *from += 1;
    }
    true
}

/// Reaps every request of `ids` (all reapable) into `sink`: a plain request (the common
/// case) by `ReapSink::plain`, its status read and the slot released by
/// `Slab::reap_plain_into` with one lookup; the others by `ReapSink::reaped` (None for null
/// entries and for requests that are no longer live).
#[inline]
fn reap_all<S: ReapSink + ?Sized>(st: &mut State, ids: &[Option<ReqId>], sink: &mut S) {
    for (i, id) in ids.iter().enumerate() {
        match *id {
            Some(id)
                if st
                    .reqs
                    .reap_plain_into(id, |s, kind| sink.plain(i, s, kind)) => {}
            Some(id) => sink.reaped(i, reap_other(st, id)),
            None => sink.reaped(i, None),
        }
    }
}

/// An entry `Slab::reap_plain_into` left alone: read here, then `reap_now`.
#[inline(never)]
fn reap_other(st: &mut State, id: ReqId) -> Option<Reaped> {
    let r = st.reqs.get(id)?;
    let mut reaped = Reaped {
        status: r.status,
        kind: r.kind,
        // Only a generalized request's callbacks read these words (see `Reaped::ext`).
        ext: if r.kind == Kind::Grequest {
            r.ext
        } else {
            [0; 4]
        },
        live: r.persist.is_some(),
    };
    if !reaped.live && r.done {
        st.reqs.release(id);
    } else {
        reaped.status = reap_now(st, id)?;
    }
    Some(reaped)
}

/// `Engine::reap` (a free function: it needs only the state).
fn reap_now(st: &mut State, id: ReqId) -> Option<Status> {
    let r = st.reqs.get_mut(id)?;
    if r.persist.is_some() {
        if !r.active && !r.done {
            return Some(Status::empty());
        }
        if !r.done {
            return None;
        }
        r.done = false;
        r.active = false;
        let s = r.status;
        if let Some(i) = r.inner.take() {
            st.reqs.forget(i);
        }
        return Some(s);
    }
    if !r.done {
        return None;
    }
    let s = r.status;
    st.reqs.release(id);
    Some(s)
}
