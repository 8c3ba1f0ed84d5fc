//! Shared-memory collectives: blocking barrier, bcast, reduce, allreduce, and gather,
//! scatter, allgather and alltoall of equal blocks, on intracommunicators whose ranks all
//! live on this node: through a region of shared memory per communicator instead of
//! messages, with no schedule and no request. Small messages are staged through the
//! region's slots (`ops`; longer than a slot, a slot at a time); from [`DIRECT_MIN`] on,
//! when every rank may read the others' memory, the readers copy straight from the
//! source's buffer (`direct`). Reductions above [`REDUCE_MAX`] take the schedules.
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
//! jobs, a failed mapping) keep using the schedules, as do large reductions, messages beyond
//! a slot when single-copy reads are forbidden, intercommunicators, the v and w forms and
//! the nonblocking and persistent forms.

mod direct;
mod ops;
mod table;

pub use ops::{
    allgather, allreduce, alltoall, barrier, bcast, block_bytes, gather, reduce, scatter,
};
pub use table::{get, Locate};

use crate::p2p::NodeEngine;
use crate::transport::coll_region::Region;
use crate::transport::fabric::Fabric;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of a data slot: the most a staged call moves (longer messages take several).
pub const SLOT: usize = 16 * 1024;

/// Smallest message (per source and reader) that goes single-copy (`direct`) when the
/// communicator can: below it, staging through the slots costs less than the system call;
/// from 32 KiB on the single copy wins (2 ranks, issue 13: gather 32 KiB 6.4 us staged,
/// 3.3 us single-copy).
pub const DIRECT_MIN: u64 = 32 * 1024;

/// The collectives that can go through the region, for [`limit`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    Bcast,
    Reduce,
    Allreduce,
    /// Per-rank block sizes for the four below.
    Gather,
    Scatter,
    Allgather,
    Alltoall,
}

/// Largest reduction through the region: beyond it the schedules' pipelined reductions
/// (reduce-scatter, then gather or allgather) do less work per rank than reading every
/// input whole (2 ranks: reduce 1 MiB 69 us here, 54 us by the schedules).
pub const REDUCE_MAX: u64 = 128 * 1024;

/// The largest message (bytes; per-rank block for gathers, scatters and exchanges) that
/// `op` moves through the region; larger ones take the schedules.
pub fn limit(op: Op) -> u64 {
    match op {
        Op::Reduce | Op::Allreduce => REDUCE_MAX,
        Op::Bcast | Op::Gather | Op::Scatter | Op::Allgather | Op::Alltoall => u64::MAX,
    }
}

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
    /// Every rank can read the others' memory (`direct`).
    direct: bool,
}

impl ShmComm {
    fn new(
        region: Region,
        me: usize,
        bell_of: Vec<usize>,
        oversubscribed: bool,
        direct: bool,
    ) -> Self {
        ShmComm {
            n: region.ranks(),
            region,
            me,
            bell_of,
            spin: if oversubscribed { 0 } else { SPIN },
            seq: AtomicU64::new(0),
            others_at: AtomicU64::new(0),
            direct,
        }
    }

    /// Bytes of a data slot.
    fn slot_len(&self) -> usize {
        self.region.slot_len()
    }

    /// Starts the next call: its number.
    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Starts the next call that takes two numbers (`direct`): the first.
    fn next_pair(&self) -> u64 {
        self.seq.fetch_add(2, Ordering::Relaxed) + 1
    }

    /// Whether every rank can read the others' memory (large messages go single-copy).
    pub fn single_copy_ok(&self) -> bool {
        self.direct
    }

    /// More local ranks than cores.
    pub fn oversubscribed(&self) -> bool {
        self.spin == 0
    }

    /// Whether a message of `bytes` (per source and reader) goes single-copy, its sources
    /// publishing `entries` descriptors each.
    fn single_copy(&self, bytes: u64, entries: usize) -> bool {
        bytes >= DIRECT_MIN && direct::fits(self, entries)
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
