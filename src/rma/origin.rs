//! The origin side: epoch bookkeeping, issuing requests, tracking the replies of the get
//! family, and flushes (remote completion through an acknowledged FLUSH or UNLOCK).

use super::win::Win;
use super::wire::{kind, Request, REQ_TAG};
use crate::error::{class, MpiError};
use crate::p2p::{Data, Mode, RecvArgs, ReqId, SendArgs, Status};
use crate::transport::mem::OwnedBytes;
use std::sync::atomic::Ordering;

/// Reply tags cycle below this (requests use tag 0).
const TAG_LIMIT: i32 = 1 << 29;

/// A reply the origin waits for.
struct Pending {
    target: usize,
    recv: ReqId,
    /// The user's request (MPI_Rget & co.), completed with the reply.
    user: Option<ReqId>,
}

/// Where this origin stands with fences. As in MPICH, a fence only opens an epoch that
/// may be used: until an operation is issued in it, a lock, lock_all or start may take
/// over (the fence epoch then ends); once an operation was issued, any other access or
/// exposure epoch is an MPI_ERR_RMA_SYNC until the next fence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fence {
    /// No fence epoch (never fenced, MPI_MODE_NOSUCCEED, or another epoch took over).
    Closed,
    /// A fence opened an epoch in which nothing has been issued yet.
    Issued,
    /// Operations were issued in the fence epoch.
    Active,
}

/// Epoch state and in-flight traffic of one window at this origin.
pub struct Origin {
    pub fence: Fence,
    /// PSCW access epoch: the target ranks of MPI_Win_start.
    pub start: Option<Vec<usize>>,
    /// MPI_Win_post exposure epoch: the origin ranks.
    pub post: Option<Vec<usize>>,
    /// Passive target: lock type held at each rank (wire LOCK_* value), 0 when none.
    pub locks: Vec<u8>,
    /// The lock was taken with MPI_MODE_NOCHECK (no lock message was sent).
    pub nocheck: Vec<bool>,
    pub lock_all: bool,
    /// Operations sent to a rank since its last remote completion.
    pub dirty: Vec<bool>,
    next_tag: i32,
    pending: Vec<Pending>,
    /// Sends in flight (each holds its encoded request).
    outbox: Vec<ReqId>,
}

fn sync_error(msg: impl Into<String>) -> MpiError {
    MpiError::new(class::ERR_RMA_SYNC, msg)
}

impl Origin {
    pub fn new(n: usize) -> Origin {
        Origin {
            fence: Fence::Closed,
            start: None,
            post: None,
            locks: vec![0; n],
            nocheck: vec![false; n],
            lock_all: false,
            dirty: vec![false; n],
            next_tag: 1,
            pending: Vec::new(),
            outbox: Vec::new(),
        }
    }

    pub fn tag(&mut self) -> i32 {
        let t = self.next_tag;
        self.next_tag = if t + 1 >= TAG_LIMIT { 1 } else { t + 1 };
        t
    }

    /// May this process access `target` now?
    pub fn may_access(&self, target: usize) -> bool {
        self.fence != Fence::Closed
            || self.lock_all
            || self.locks[target] != 0
            || self.start.as_ref().is_some_and(|g| g.contains(&target))
    }

    pub fn passive(&self, target: usize) -> bool {
        self.lock_all || self.locks[target] != 0
    }

    /// Some passive-target epoch is open.
    pub fn passive_any(&self) -> bool {
        self.lock_all || self.locks.iter().any(|&l| l != 0)
    }

    /// A lock, lock_all, start or post (`what`) may open now as far as fences go: not once
    /// the fence epoch has carried operations.
    pub fn check_fence(&self, what: &str) -> Result<(), MpiError> {
        if self.fence == Fence::Active {
            return Err(sync_error(format!(
                "{what} inside a fence epoch in which operations were issued \
                 (end it with MPI_Win_fence first)"
            )));
        }
        Ok(())
    }

    /// A new access epoch (lock, lock_all, start) ends a fence epoch that carried nothing.
    pub fn take_over_fence(&mut self) {
        if self.fence == Fence::Issued {
            self.fence = Fence::Closed;
        }
    }

    /// No access or exposure epoch other than a fence's is open (MPI_Win_free, fence).
    pub fn check_closed(&self) -> Result<(), MpiError> {
        if self.start.is_some() {
            return Err(sync_error("an access epoch (MPI_Win_start) is still open"));
        }
        if self.post.is_some() {
            return Err(sync_error("an exposure epoch (MPI_Win_post) is still open"));
        }
        if self.lock_all || self.locks.iter().any(|&l| l != 0) {
            return Err(sync_error("a passive-target epoch (lock) is still open"));
        }
        Ok(())
    }

    /// Forgets sends that have completed (their buffers go).
    fn reap_sends(&mut self, win: &Win) {
        let e = win.engine();
        if self.outbox.is_empty() {
            return;
        }
        let mut st = e.lock();
        let before = self.outbox.len();
        self.outbox.retain(|id| e.reap(&mut st, *id).is_none());
        win.in_flight
            .fetch_sub(before - self.outbox.len(), Ordering::AcqRel);
    }
}

/// Sends request `req` to `target` (the caller holds the window's origin state).
pub(crate) fn send(
    win: &Win,
    o: &mut Origin,
    target: usize,
    req: &Request,
) -> Result<(), MpiError> {
    let e = win.engine();
    o.reap_sends(win);
    let id = e.isend(SendArgs {
        ep: win.comm.peer(target),
        ctx: win.comm.context_id,
        src: win.comm.rank as i32,
        tag: REQ_TAG,
        mode: Mode::Standard,
        data: Data::owned_bytes(OwnedBytes::new(req.encode())),
        owner: 0,
    })?;
    win.in_flight.fetch_add(1, Ordering::AcqRel);
    o.outbox.push(id);
    Ok(())
}

/// Issues an operation to `target`. With `reply`, the target's answer is received into it
/// and, if `user` is set, a request completing with it is returned; without, the data
/// already left the user's buffer (local completion) and a completed request is returned
/// when `user` is set.
pub fn issue(
    win: &Win,
    target: usize,
    mut req: Request,
    reply: Option<Data>,
    user: bool,
) -> Result<Option<ReqId>, MpiError> {
    let e = win.engine();
    let mut o = win.origin.lock();
    if !o.may_access(target) {
        return Err(sync_error(format!(
            "no access epoch is open to rank {target} (fence, start or lock first)"
        )));
    }
    if user
        && !o.passive(target)
        && matches!(req.kind, kind::PUT | kind::GET | kind::ACC | kind::GACC)
    {
        return Err(sync_error(
            "request-based operations need a passive-target epoch (lock or lock_all)",
        ));
    }
    let mut user_req = None;
    if let Some(data) = reply {
        let tag = o.tag();
        req.reply_tag = tag;
        let recv = e.irecv(RecvArgs {
            ctx: win.comm.context_id,
            src: target as i32,
            tag,
            data,
            owner: 0,
        });
        if user {
            user_req = Some(e.external(crate::p2p::Kind::Schedule, [0; 4]));
        }
        win.pending[target].fetch_add(1, Ordering::AcqRel);
        o.pending.push(Pending {
            target,
            recv,
            user: user_req,
        });
    } else if user {
        user_req = Some(e.completed(Status::default()));
    }
    send(win, &mut o, target, &req)?;
    o.dirty[target] = true;
    // (Lock, lock_all and start close an unused fence epoch, so an open one is the
    // epoch this operation belongs to.)
    if o.fence == Fence::Issued {
        o.fence = Fence::Active;
    }
    Ok(user_req)
}

/// Poller share: completes the get-family operations whose reply arrived.
pub(crate) fn advance(win: &Win) -> bool {
    let e = win.engine();
    let Some(mut o) = win.origin.try_lock() else {
        return false;
    };
    o.reap_sends(win);
    if o.pending.is_empty() {
        return false;
    }
    let mut done = Vec::new();
    {
        let mut st = e.lock();
        let mut i = 0;
        while i < o.pending.len() {
            if let Some(s) = e.reap(&mut st, o.pending[i].recv) {
                done.push((o.pending.swap_remove(i), s));
            } else {
                i += 1;
            }
        }
    }
    let did = !done.is_empty();
    for (p, s) in done {
        if let Some(u) = p.user {
            e.set_status(
                u,
                Status {
                    error: if s.error == class::ERR_TRUNCATE {
                        0
                    } else {
                        s.error
                    },
                    ..s
                },
            );
            e.complete_external(u);
        }
        win.pending[p.target].fetch_sub(1, Ordering::AcqRel);
    }
    did
}

/// Waits until the replies expected from `target` (every target for None) have arrived.
pub fn wait_replies(win: &Win, target: Option<usize>) {
    let e = win.engine();
    let outstanding = || match target {
        Some(t) => win.pending[t].load(Ordering::Acquire),
        None => win.pending.iter().map(|p| p.load(Ordering::Acquire)).sum(),
    };
    if outstanding() == 0 {
        return;
    }
    e.wait_until(|_, _| (outstanding() == 0).then_some(()));
}

/// Sends `kind` (FLUSH or UNLOCK) to every rank of `targets` and waits for their
/// acknowledgements: every operation sent before is then complete at its target. Reports
/// the first error a target saw in those operations.
pub fn acknowledged(win: &Win, targets: &[usize], what: u8) -> Result<(), MpiError> {
    if targets.is_empty() {
        return Ok(());
    }
    let e = win.engine();
    for &t in targets {
        wait_replies(win, Some(t));
    }
    // Each acknowledgement (the target's first error code, 4 bytes) lands in a block its
    // receive holds: should a send below fail, the posted receives keep their memory.
    let mut acks = Vec::with_capacity(targets.len());
    let mut recvs = Vec::with_capacity(targets.len());
    {
        let mut o = win.origin.lock();
        for &t in targets {
            let tag = o.tag();
            let ack = OwnedBytes::zeroed(4);
            recvs.push(e.irecv(RecvArgs {
                ctx: win.comm.context_id,
                src: t as i32,
                tag,
                data: Data::owned_bytes(ack.clone()),
                owner: 0,
            }));
            acks.push(ack);
            send(win, &mut o, t, &Request::control(what, tag))?;
            o.dirty[t] = false;
        }
    }
    for id in recvs {
        e.wait(id);
    }
    for (i, mut a) in acks.into_iter().enumerate() {
        let code = a.to_vec().ok_or_else(|| {
            MpiError::intern(
                "an RMA acknowledgement is still held by its receive after it completed",
            )
        })?;
        let err = i32::from_le_bytes([code[0], code[1], code[2], code[3]]);
        if err != 0 {
            return Err(MpiError::new(
                err,
                format!(
                    "an operation on rank {} of the window failed at the target",
                    targets[i]
                ),
            ));
        }
    }
    Ok(())
}

/// The ranks with operations not yet known complete.
pub fn dirty_targets(win: &Win) -> Vec<usize> {
    let o = win.origin.lock();
    (0..o.dirty.len()).filter(|&t| o.dirty[t]).collect()
}
