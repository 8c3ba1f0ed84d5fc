//! Shared-memory collectives: blocking barrier, bcast, reduce, allreduce, and gather,
//! scatter and allgather of equal blocks, for messages that fit a slot ([`SLOT`]), on
//! intracommunicators whose ranks all live on this node: through a region of shared memory
//! per communicator instead of messages, with no schedule and no request.
//!
//! The scheme is the flag-based release/gather of MPICH's ch4 posix `release_gather` and
//! Open MPI's `coll/sm` and `coll/xhc` (see also Graham and Shipman, "MPI support for
//! multi-core architectures: optimized shared memory collectives", EuroPVM/MPI 2008),
//! flattened for the few ranks of a node: every rank has a control line with `seq`, the
//! number of the collective call it has reached, and two data slots used alternately by
//! odd and even calls. A rank publishes by writing its slot and then storing the call's
//! number; readers wait for the number and read the slot. A rank writes its slot for call
//! `s` only once every other rank has reached call `s - 1` (so nobody still reads what it
//! wrote for call `s - 2`); two slots make that wait rare. Reductions gather every rank's
//! contribution and fold them in rank order (non-commutative operations stay correct).
//!
//! Waiting: a short spin on the flags, then the engine's blocking loop (which keeps the
//! point-to-point engine progressing, yields, and sleeps on the process's doorbell); a
//! rank entering that loop says so in its control line, and a publisher rings exactly the
//! sleeping ranks' doorbells.
//!
//! The region is made on a communicator's first collective that can use it (`table`), all
//! members agreeing; communicators that cannot (ranks on several nodes, processes of other
//! jobs, a failed mapping) keep using the schedules, as do large messages, intercommunicators
//! and the nonblocking and persistent forms.

mod ops;
mod table;

pub use ops::{allgather, allreduce, barrier, bcast, gather, reduce, scatter};
pub use table::{get, Locate};

use crate::p2p::NodeEngine;
use crate::transport::coll_region::Region;
use crate::transport::fabric::Fabric;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of a data slot: the largest message (bcast, reduce, allreduce) that goes through
/// the region.
pub const SLOT: usize = 16 * 1024;

/// Polls of a flag before a waiting rank turns to the engine's blocking loop (when every
/// local rank has a core; oversubscribed ranks go there at once).
const SPIN: u32 = 4000;

/// One communicator's shared-memory collective state in this process.
pub struct ShmComm {
    region: Region,
    me: usize,
    n: usize,
    /// Fabric index of each rank: whose doorbell to ring.
    bell_of: Vec<usize>,
    /// Flag polls before sleeping.
    spin: u32,
    /// Number of the last call made.
    seq: AtomicU64,
    /// Every other rank was seen at this call number or later.
    others_at: AtomicU64,
}

impl ShmComm {
    fn new(region: Region, me: usize, bell_of: Vec<usize>, oversubscribed: bool) -> Self {
        ShmComm {
            n: region.ranks(),
            region,
            me,
            bell_of,
            spin: if oversubscribed { 0 } else { SPIN },
            seq: AtomicU64::new(0),
            others_at: AtomicU64::new(0),
        }
    }

    /// Starts the next call: its number.
    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Waits until `ready()` holds: spins a while, then blocks in the engine's loop as a
    /// declared sleeper (see the module doc).
    fn wait(&self, e: &NodeEngine, ready: impl Fn() -> bool) {
        for _ in 0..self.spin {
            if ready() {
                return;
            }
            std::hint::spin_loop();
        }
        if ready() {
            return;
        }
        self.region.sleep_begin(self.me);
        e.wait_until(|_, _| ready().then_some(()));
        self.region.sleep_end(self.me);
    }

    /// Publishes call `s` for this rank and rings whoever sleeps.
    fn publish(&self, e: &NodeEngine, s: u64) {
        self.region.publish(self.me, s);
        if self.region.anyone_sleeping() {
            for r in (0..self.n).filter(|&r| r != self.me) {
                if self.region.sleeping(r) {
                    e.fab.ring(self.bell_of[r]);
                }
            }
        }
    }

    /// Whether every other rank has reached call `s`.
    fn all_at(&self, s: u64) -> bool {
        (0..self.n).all(|r| r == self.me || self.region.seq(r) >= s)
    }

    /// Waits until every other rank has reached call `s`.
    fn wait_all(&self, e: &NodeEngine, s: u64) {
        if self.others_at.load(Ordering::Relaxed) >= s {
            return;
        }
        self.wait(e, || self.all_at(s));
        let low = (0..self.n)
            .filter(|&r| r != self.me)
            .map(|r| self.region.seq(r))
            .min()
            .unwrap_or(s);
        self.others_at.fetch_max(low, Ordering::Relaxed);
    }

    /// Before writing this rank's slot for call `s`: every reader of what it wrote for call
    /// `s - 2` (the same slot) is done, which they are once they reached call `s - 1`.
    fn slot_free(&self, e: &NodeEngine, s: u64) {
        if s > 2 {
            self.wait_all(e, s - 1);
        }
    }

    /// Waits until rank `r` has reached call `s`.
    fn wait_for(&self, e: &NodeEngine, r: usize, s: u64) {
        self.wait(e, || self.region.seq(r) >= s);
    }
}
