//! Which route a collective call takes: through the region's slots, single-copy
//! (`direct`), or the schedules, by operation and size. The thresholds were measured on
//! this project's 2-core machine (issue 13); each says where.

use super::ShmComm;

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

/// Whether a message of `bytes` (per rank and reader, beyond a slot) of `op` takes the
/// single-copy route when ranks outnumber cores; the others take the schedules. Measured
/// at 4 ranks on 2 cores (issue 13, bench/coll.c, medians of 5 alternating runs, single-copy
/// / scheduled, us): bcast 256 KiB 37 / 156, 1 MiB 271 / 525; gather 32 KiB 14 / 7.6,
/// 256 KiB 83 / 139, 1 MiB 544 / 540; alltoall 32 KiB 22 / 29, 256 KiB 222 / 228; but
/// allgather 256 KiB 292 / 203, 1 MiB 1557 / 988, and scatter 1 MiB 238 / 198, where every
/// rank of the single-copy route reads the whole message while the schedules' trees and
/// rings spread it. Reductions: no difference (reduce 32 KiB 14 / 16, allreduce 35 / 31).
pub fn single_copy_oversubscribed(op: Op, bytes: u64) -> bool {
    match op {
        Op::Bcast | Op::Alltoall => true,
        Op::Gather => bytes >= 128 * 1024,
        Op::Reduce | Op::Allreduce | Op::Scatter | Op::Allgather => false,
    }
}

/// Whether a call of `op` (None: a barrier) moving `bytes` (per rank and reader) goes
/// through `c`'s region. Without single-copy reads, what does not fit a slot goes to the
/// schedules, whose pipelined copies beat a run of slot-sized calls. When ranks outnumber
/// cores, only the operations [`single_copy_oversubscribed`] names take the single-copy
/// route.
pub fn takes(c: &ShmComm, op: Option<Op>, bytes: u64) -> bool {
    if bytes > op.map_or(0, limit) {
        return false;
    }
    bytes <= super::SLOT as u64
        || (c.single_copy_ok()
            && (!c.oversubscribed() || op.is_some_and(|op| single_copy_oversubscribed(op, bytes))))
}

impl ShmComm {
    /// Whether a message of `bytes` (per source and reader) goes single-copy, its sources
    /// publishing `entries` descriptors each.
    pub(super) fn single_copy(&self, bytes: u64, entries: usize) -> bool {
        bytes >= DIRECT_MIN && super::direct::fits(self, entries)
    }
}
