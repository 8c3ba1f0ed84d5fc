//! Which communicator a pending operation belongs to, so that a failure or a revoke can
//! end exactly the operations it concerns. Kept once the runtime started (`enabled`; a
//! revoke works in any run): every communicator registers its context block and groups
//! when it is made (`object::comm`) and leaves when it is dropped.
//!
//! Collectives: in a fault-tolerant run, every pending operation of a collective (on the
//! collective context of a communicator, or the local-group context of an
//! intercommunicator) whose communicator has a failed member ends with
//! MPIX_ERR_PROC_FAILED, whoever its peer is. A member waiting in a collective for a live
//! member that already left it with that error would otherwise wait for ever; since every
//! survivor learns of the failure (the detector is perfect), every survivor's collective
//! ends, with success if it finished before, else with the error (ULFM allows the outcome
//! to differ between members). Collectives started on a communicator with a known failed
//! member fail at the call (`check_collective`) until it is shrunk; the agreements are
//! exempt.

use super::agree::is_agree_tag;
use crate::object::group::Group;
use crate::p2p::engine::Pending;
use crate::p2p::{NodeEngine, ANY_SOURCE};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

static ENABLED: AtomicBool = AtomicBool::new(false);
static FAULT_TOLERANT: AtomicBool = AtomicBool::new(false);

/// Context block base → (local group, remote group of an intercommunicator). Several
/// entries may share a base for a while (a communicator and a temporary copy): the newest
/// answers.
type Entry = (Arc<Group>, Option<Arc<Group>>);
static COMMS: Mutex<Option<HashMap<u32, Vec<Entry>>>> = Mutex::new(None);

/// Starts keeping the registry (once, at start-up, after OXIMPI_FT was read).
pub fn enable() {
    let ft = matches!(
        crate::settings::FT.current(),
        Some(crate::settings::Value::Switch(true))
    );
    FAULT_TOLERANT.store(ft, Ordering::Release);
    ENABLED.store(true, Ordering::Release);
}

/// A fault-tolerant run (OXIMPI_FT, set by `mpiexec -disable-auto-cleanup`): ranks may
/// fail and the job goes on. Paths that wait on other ranks without the engine's
/// failure sweep (the shared-memory collectives) must not be taken then.
#[inline]
pub fn fault_tolerant() -> bool {
    FAULT_TOLERANT.load(Ordering::Relaxed)
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Acquire)
}

const fn base(ctx: u32) -> u32 {
    ctx - ctx % crate::object::context::STRIDE
}

pub fn register(ctx: u32, group: &Arc<Group>, remote: Option<&Arc<Group>>) {
    if !enabled() {
        return;
    }
    COMMS
        .lock()
        .get_or_insert_with(HashMap::new)
        .entry(base(ctx))
        .or_default()
        .push((group.clone(), remote.cloned()));
}

/// The communicator with this block and these groups is gone.
pub fn forget(ctx: u32, group: &Arc<Group>) {
    if !enabled() {
        return;
    }
    let mut m = COMMS.lock();
    let Some(map) = m.as_mut() else { return };
    if let Some(v) = map.get_mut(&base(ctx)) {
        if let Some(i) = v.iter().rposition(|(g, _)| Arc::ptr_eq(g, group)) {
            v.remove(i);
        }
        if v.is_empty() {
            map.remove(&base(ctx));
            super::forget_context(base(ctx));
        }
    }
}

/// What happens to pending operation `op`: None (it goes on), MPIX_ERR_REVOKED (its
/// communicator is revoked) or MPIX_ERR_PROC_FAILED (its peer failed). A receive from
/// MPI_ANY_SOURCE ends with MPIX_ERR_PROC_FAILED_PENDING when any member of its
/// communicator failed and `acked(ctx)` does not cover them all (MPICH's rule; here the
/// receive is completed, not left pending - see the module docs of abi::mpix::ulfm).
/// Agreement traffic is exempt from both.
pub fn judge(op: &Pending, acked_all: impl Fn(u32, &[u32]) -> bool) -> Option<i32> {
    if is_agree_tag(op.tag) {
        return None;
    }
    let b = base(op.ctx);
    if super::is_revoked(b) {
        return Some(crate::error::class::ERR_REVOKED);
    }
    if super::epoch() == 0 {
        return None;
    }
    if is_collective(op.ctx) && fault_tolerant() && has_failed_member(b) {
        return Some(crate::error::class::ERR_PROC_FAILED);
    }
    if !op.is_recv {
        return super::is_failed(op.ep).then_some(crate::error::class::ERR_PROC_FAILED);
    }
    let m = COMMS.lock();
    let (g, remote) = m.as_ref()?.get(&b)?.last()?.clone();
    drop(m);
    // Point-to-point on an intercommunicator names ranks of the remote group.
    let peers = remote.unwrap_or(g);
    if op.src == ANY_SOURCE {
        let failed: Vec<u32> = (0..peers.size())
            .map(|r| peers.proc_of(r))
            .filter(|&p| super::is_failed(p))
            .collect();
        if !failed.is_empty() && !acked_all(b, &failed) {
            return Some(crate::error::class::ERR_PROC_FAILED_PENDING);
        }
        return None;
    }
    let r = usize::try_from(op.src).ok()?;
    (r < peers.size() && super::is_failed(peers.proc_of(r)))
        .then_some(crate::error::class::ERR_PROC_FAILED)
}

/// MPIX_ERR_PROC_FAILED for a collective started on the communicator of context `ctx` when
/// one of its members is known to have failed, in a fault-tolerant run (for the collectives'
/// entry: see the module docs). Failing at the call, before any message is sent, keeps the
/// survivors from matching leftovers of an earlier collective that failed half-way (blocking
/// collectives share one tag).
pub fn check_collective(ctx: u32) -> Result<(), crate::error::MpiError> {
    if super::epoch() == 0 || !fault_tolerant() || !has_failed_member(base(ctx)) {
        return Ok(());
    }
    Err(crate::error::MpiError::new(
        crate::error::class::ERR_PROC_FAILED,
        "a member of the communicator failed: its collectives fail until it is shrunk \
         (MPIX_Comm_shrink)",
    ))
}

/// The collective context of a block, or the local-group context of an intercommunicator
/// (see `object::context`: p2p, collective, partitioned, intercomm-local).
fn is_collective(ctx: u32) -> bool {
    matches!(ctx % crate::object::context::STRIDE, 1 | 3)
}

/// True if a member of the communicator of block `b` (either group) failed.
fn has_failed_member(b: u32) -> bool {
    let m = COMMS.lock();
    let Some((g, remote)) = m.as_ref().and_then(|m| m.get(&b)?.last().cloned()) else {
        return false;
    };
    drop(m);
    let any = |g: &Group| (0..g.size()).any(|r| super::is_failed(g.proc_of(r)));
    any(&g) || remote.is_some_and(|r| any(&r))
}

/// Both groups of an intercommunicator as one list every member orders alike: the group
/// holding the lowest endpoint first (endpoints are world ranks within a job). Also says
/// whether `local` came first.
pub fn union(local: &[u32], remote: &[u32]) -> (Vec<u32>, bool) {
    let local_first = local.iter().min() < remote.iter().min();
    let (a, b) = if local_first {
        (local, remote)
    } else {
        (remote, local)
    };
    (a.iter().chain(b).copied().collect(), local_first)
}

/// Ends every pending operation that a failure or revoke made impossible.
pub fn sweep(e: &NodeEngine, acked_all: impl Fn(u32, &[u32]) -> bool) -> usize {
    e.fail_pending(|op| judge(op, &acked_all))
}

/// The endpoints of the members of the communicator of block `ctx` (both groups of an
/// intercommunicator, ordered by `union`), if known.
pub fn members_of(ctx: u32) -> Option<Vec<u32>> {
    let m = COMMS.lock();
    let (g, remote) = m.as_ref()?.get(&base(ctx))?.last()?.clone();
    drop(m);
    let eps = |g: &Group| (0..g.size()).map(|r| g.proc_of(r)).collect::<Vec<u32>>();
    Some(match remote {
        None => eps(&g),
        Some(r) => union(&eps(&g), &eps(&r)).0,
    })
}
