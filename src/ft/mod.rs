//! Fault tolerance (ULFM, as MPICH's MPIX_Comm_* extensions): which processes failed, which
//! communicators are revoked, and the fault-tolerant agreement that revoke-proof recovery
//! (MPIX_Comm_agree, MPIX_Comm_shrink) is built on.
//!
//! The failure detector is the launcher: started with `-disable-auto-cleanup` (ours or
//! hydra's), a launcher does not end the job when a rank dies; it records the dead ranks
//! in the job's KVS under `PMI_dead_processes` (hydra's key and format, "1,3-5") and sends
//! SIGUSR1 to the survivors (`detector`). A notice names ranks that have exited, so the
//! detector is perfect: never wrong, and complete once the notice arrives. Everything here
//! relies on that (see `agree`).
//!
//! The process-wide state (failed world ranks, revoked contexts) is kept here; what it
//! means for pending operations (which receive names a failed rank in which communicator)
//! is decided above, where communicators' groups are known (`abi::mpix::ulfm`), and done by
//! the engine (`p2p::engine::fail`).

pub mod agree;
pub mod detector;
pub mod members;
pub mod revoke;
pub mod shrink;
pub mod steps;

use parking_lot::Mutex;
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// World ranks known to have failed (only grows).
static FAILED: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
/// Bumped each time `FAILED` grows (the hot path's cheap check).
static EPOCH: AtomicU64 = AtomicU64::new(0);
/// Context ids (block bases) of revoked communicators of this process.
static REVOKED: Mutex<Option<HashSet<u32>>> = Mutex::new(None);
static ANY_REVOKED: AtomicBool = AtomicBool::new(false);

/// Adds `ranks` to the failed set; true if any was new.
pub fn add_failed(ranks: impl IntoIterator<Item = u32>) -> bool {
    let mut f = FAILED.lock();
    let mut grew = false;
    for r in ranks {
        grew |= f.insert(r);
    }
    if grew {
        EPOCH.fetch_add(1, Ordering::SeqCst);
    }
    grew
}

/// How many times the failed set grew (0: nobody failed).
#[inline]
pub fn epoch() -> u64 {
    EPOCH.load(Ordering::Acquire)
}

pub fn is_failed(ep: u32) -> bool {
    epoch() != 0 && FAILED.lock().contains(&ep)
}

/// The failed world ranks, in order.
pub fn failed() -> Vec<u32> {
    FAILED.lock().iter().copied().collect()
}

/// Marks the communicator whose context block starts at `ctx` revoked; true if it was not.
pub fn revoke(ctx: u32) -> bool {
    let mut r = REVOKED.lock();
    let fresh = r.get_or_insert_with(HashSet::new).insert(ctx);
    ANY_REVOKED.store(true, Ordering::Release);
    fresh
}

#[inline]
pub fn is_revoked(ctx: u32) -> bool {
    // Every communicator lookup asks (abi::comm::get): one load unless something was revoked.
    ANY_REVOKED.load(Ordering::Acquire) && revoked_slow(ctx)
}

#[inline(never)]
fn revoked_slow(ctx: u32) -> bool {
    REVOKED.lock().as_ref().is_some_and(|s| s.contains(&ctx))
}

#[inline]
pub fn any_revoked() -> bool {
    ANY_REVOKED.load(Ordering::Acquire)
}

/// The communicator of context block `ctx` is gone (its id may be reused): forget that it
/// was revoked.
pub fn forget_context(ctx: u32) {
    if let Some(s) = REVOKED.lock().as_mut() {
        s.remove(&ctx);
    }
    if let Some(m) = ACKED.lock().as_mut() {
        m.remove(&ctx);
    }
}

/// ULFM state of one communicator: the failed members acknowledged by
/// MPIX_Comm_failure_ack, and the number of agreements run on it.
#[derive(Default, Debug)]
pub struct CommFt {
    /// World ranks acknowledged as failed (what MPIX_Comm_failure_get_acked returns).
    pub acked: Mutex<Vec<u32>>,
    /// Agreements started (each uses its own tag, the same on every member).
    pub agree_seq: std::sync::atomic::AtomicU32,
}

/// Acknowledgements per context block (read by `members::judge` for MPI_ANY_SOURCE
/// receives, which the communicator object cannot be reached from).
static ACKED: Mutex<Option<std::collections::HashMap<u32, Vec<u32>>>> = Mutex::new(None);

/// Records that the communicator of block `ctx` acknowledged `ranks`.
pub fn set_acked(ctx: u32, ranks: &[u32]) {
    ACKED
        .lock()
        .get_or_insert_with(Default::default)
        .insert(ctx, ranks.to_vec());
}

/// True if every rank of `failed` is acknowledged on block `ctx`.
pub fn acked_all(ctx: u32, failed: &[u32]) -> bool {
    let a = ACKED.lock();
    let acked = a.as_ref().and_then(|m| m.get(&ctx));
    failed.iter().all(|r| acked.is_some_and(|v| v.contains(r)))
}
