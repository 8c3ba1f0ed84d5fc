//! Which route a collective call takes: through the region's slots, single-copy
//! (`direct`), or the schedules, by operation and size. The thresholds were measured on
//! this project's 2-core machine (issue 13); each says where.

use super::ShmComm;

/// Smallest message (per source and reader) that goes single-copy (`direct`) when the
/// communicator can: below it, staging through the slots costs less than the system call;
/// from 32 KiB on the single copy wins (2 ranks, issue 13: gather 32 KiB 6.4 us staged,
/// 3.3 us single-copy). Broadcasts start later ([`bcast_single_copy`]).
pub const DIRECT_MIN: u64 = 32 * 1024;

/// The collectives that can go through the region, for [`takes`].
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

/// Largest reduction through the region when every local rank has a core: beyond it the
/// schedules' reductions (2 ranks: the other rank's input read once, single-copy, by the
/// point-to-point engine, and folded) beat both single-copy routes here. Measured at 2
/// ranks under the other helpers' load (issue 13, bench/coll.c --scale 0.5, medians of 9
/// alternating runs, us, schedules / split / whole read): reduce 256 KiB 17.2 / 34.1 /
/// 22.1, 1 MiB 62.9 / 136 / 98.6; allreduce 256 KiB 26.0 / 32.4 / 26.8, 1 MiB 91.3 / 126 /
/// 105. Each hand-off of the region's routes costs a scheduling round when the machine
/// is busy (the waits yield), and the split has three per call. Earlier, idle: reduce
/// 1 MiB 69 us whole read, 54 us by the schedules.
pub const REDUCE_MAX: u64 = 128 * 1024;

/// Smallest allreduce that, when ranks outnumber cores, goes single-copy, split among the
/// ranks (`direct::split`: a single-copy reduce-scatter, then an allgather of the reduced
/// blocks) instead of the schedules or every rank reading every input whole; measured with
/// [`single_copy_oversubscribed`] (the bench's sizes: 32 KiB goes whole, 256 KiB split),
/// then at the sizes between (issue 13, bench/coll.c --sweep --scale 0.3, 2 cores, medians
/// of 5 alternating runs, us, schedules / split / whole read / Open MPI 5 ob1+sm): 4 ranks
/// 32 KiB 38 / 47 / 44 / 55, 64 KiB 73 / 60 / 75 / 72; 3 ranks 64 KiB 48 / 44 / - / -;
/// 8 ranks (3 runs) 64 KiB 253 / 194 / - / -.
pub const SPLIT_MIN: u64 = 64 * 1024;

/// Whether a single-copy reduction of `bytes` is split among the ranks (`direct::split`)
/// rather than read whole by each rank that needs the result. Only oversubscribed
/// allreduces from [`SPLIT_MIN`] (see [`single_copy_oversubscribed`]); a reduce is best
/// read whole by its root then: the other ranks only publish and wait, one hand-off each.
pub fn split(c: &ShmComm, allreduce: bool, bytes: u64) -> bool {
    allreduce && c.oversubscribed() && bytes >= SPLIT_MIN
}

/// Smallest broadcast pipelined along a chain of the ranks (`direct::chain`) when ranks
/// outnumber cores, but by no more than twice. Measured with bench/coll.c --scale 0.3
/// (issue 13, 2 cores, alternating runs under the lead's test load, medians, us, whole
/// read / chain / Open MPI 5 ob1+sm): 4 ranks, quiet rounds, 256 KiB 78 / 55 / 88, 1 MiB
/// 410 / 230 / 300; medians of 7: 256 KiB 81 / 59 / 46, 1 MiB 478 / 295 / 366; 3 ranks:
/// 256 KiB 61 / 35 / 61, 1 MiB 293 / 159 / 277. At 8 ranks the chain is 7 hand-offs deep
/// and lost at 1 MiB (742 / 949 / 832; a binary tree 771): those keep the whole read.
pub const CHAIN_MIN: u64 = 256 * 1024;

/// Smallest broadcast pipelined along the chain when the chain is three hand-offs deep or
/// more (4 ranks): below it every rank reads the root's buffer at once. At 256 KiB the
/// chain's 128 KiB chunks make only two pieces, too few to hide its depth, and the readers
/// of one CPU copy one after the other anyway (issue 13, coll9, bench/coll.c --ops bcast,
/// 4 ranks on 2 cores under chrt -f 10 during the other helpers' load, four sets of 15
/// alternating rounds, medians, us, chain / whole read / Open MPI 5 ob1+sm: 201 / 190 / 201,
/// 211 / 203 / 210, 208 / 198 / 200, 233 / 192 / 206). At 3 ranks (two hand-offs) the
/// chain keeps 256 KiB: whole read there 1.11 and 1.23 times the chain (2 sets of 15).
/// 512 KiB was not measured; 1 MiB stays on the chain (see [`CHAIN_MIN`]).
pub const DEEP_CHAIN_MIN: u64 = 512 * 1024;

/// Whether a single-copy broadcast of `bytes` goes along the chain (`direct::chain`)
/// rather than every rank reading the root's buffer at once (see [`CHAIN_MIN`] and
/// [`DEEP_CHAIN_MIN`]).
pub fn chain(c: &ShmComm, bytes: u64) -> bool {
    let min = if c.n > 3 { DEEP_CHAIN_MIN } else { CHAIN_MIN };
    c.oversubscribed() && c.quota <= 2 && bytes >= min
}

/// Smallest broadcast that goes single-copy (`direct`) when every rank has a core: below
/// it the root stages the message through its slots, a slot at a time, and the readers
/// copy each piece while it fills the next (`super::ops`). At 2 ranks the pipeline of
/// 16 KiB pieces beats the one `process_vm_readv` of the whole message up to 64 KiB and
/// loses from 128 KiB (issue 13, bench/coll.c --sweep, medians of 5 alternating runs, us,
/// single-copy / staged / Open MPI 5: 32 KiB 7.3 / 6.0 / 7.5, 64 KiB 12.2 / 10.2 / 12.4,
/// 128 KiB 16.9 / 18.2 / 17.0).
pub const BCAST_DIRECT_MIN: u64 = 128 * 1024;

/// Whether a broadcast of `bytes` goes single-copy (`direct`, or along the chain) rather
/// than staged through the slots. At 2 ranks from [`DIRECT_MIN`] ([`pair_shared`]). When
/// ranks outnumber cores the staged pipeline wins up to where the chain starts
/// ([`CHAIN_MIN`]): the single copy's two hand-offs each wait for every reader, and a
/// reader that is not running holds up the root (medians of 5 alternating runs, us,
/// single-copy / staged / Open MPI 5: 4 ranks 32 KiB 16.9 / 10.9 / 17.5, 64 KiB 26.0 /
/// 19.8 / 27.9, 128 KiB 51.4 / 37.0 / 48.9; 3 ranks 32 KiB 12.5 / 9.0,
/// 128 KiB 33.8 / 34.3; 8 ranks, 3 runs, 32 KiB 37.9 / 27.1, 128 KiB 104 / 70).
pub fn bcast_single_copy(c: &ShmComm, bytes: u64) -> bool {
    let min = if c.oversubscribed() {
        CHAIN_MIN
    } else if pair_shared(c) {
        DIRECT_MIN
    } else {
        BCAST_DIRECT_MIN
    };
    bytes >= min && c.single_copy(bytes, 1)
}

/// Smallest reduce that goes single-copy (`direct::reduce`, the root reading the other
/// rank's input whole) at 2 ranks with a core each, below [`DIRECT_MIN`]: staged through
/// the slots, a 16 KiB reduce (a slot's worth, one call) took longer than the single-copy
/// 32 KiB one (issue 13, coll13, bench/coll.c --ops reduce --sweep, chrt -f 10, medians of
/// 7 alternating rounds, us: 8 KiB 2.27, 16 KiB 4.05 staged, 32 KiB 3.47 single-copy;
/// Open MPI 5 ob1+sm, 3 runs: 16 KiB 2.63-2.84).
pub const PAIR_REDUCE_DIRECT_MIN: u64 = 16 * 1024;

/// Whether a reduce (not an allreduce) of `bytes` per rank goes single-copy.
pub fn reduce_single_copy(c: &ShmComm, bytes: u64) -> bool {
    let min = if pair_shared(c) {
        PAIR_REDUCE_DIRECT_MIN
    } else {
        DIRECT_MIN
    };
    bytes >= min && super::direct::fits(c, 1)
}

/// Whether a single-copy broadcast or gather is shared between reader and source
/// (`direct::pair_copy`): at 2 ranks, each with a core, the source writes half the
/// message into the reader's buffer while the reader reads the other half. Broadcasts go
/// single-copy from [`DIRECT_MIN`]: with two cores copying, the single copy beats the
/// staged pipeline there (issue 13, bench/coll.c --sweep, 2 ranks, 7 alternating rounds
/// under the other helpers' load, medians, us, staged / shared single copy: 32 KiB
/// 5.86 / 4.88, 64 KiB 10.07 / 7.09; 16 KiB fits a slot). Gathers, whose single copy
/// starts at [`DIRECT_MIN`] anyway, went from 0.77 (64 KiB) to 0.55 (1 MiB) of the time the
/// root's whole read took; scatters, the root writing half of the other rank's block,
/// measured 1.5-2 times slower than that rank's whole read (32 KiB-1 MiB, same runs) and
/// keep it.
pub fn pair_shared(c: &ShmComm) -> bool {
    c.n == 2 && !c.oversubscribed()
}

/// Whether a message of `bytes` (per rank and reader, beyond a slot) of `op` takes the
/// single-copy route when ranks outnumber cores; the others take the schedules. Measured
/// at 4 ranks on 2 cores (issue 13, bench/coll.c, medians of 5 alternating runs, single-copy
/// / scheduled, us): bcast 256 KiB 37 / 156, 1 MiB 271 / 525; gather 32 KiB 14 / 7.6,
/// 256 KiB 83 / 139, 1 MiB 544 / 540; alltoall 32 KiB 22 / 29, 256 KiB 222 / 228; but
/// allgather 256 KiB 292 / 203, 1 MiB 1557 / 988, where every rank of the single-copy
/// route reads the whole message while the schedules' ring spreads it. Scatter lost too
/// (1 MiB 238 / 198) while its root copied its own block before publishing the others';
/// with that copy overlapping their reads it wins (issue 13, coll12, bench/coll.c --ops
/// scatter, chrt -f 10, medians of 7 alternating rounds, us, single-copy / scheduled /
/// Open MPI 5 ob1+sm: 4 ranks 32 KiB 10.0 / 11.5 / 10.8, 256 KiB 26.4 / 50.8 / 40.1,
/// 1 MiB 101 / 200 / 212; 3 rounds at 3 ranks 256 KiB 26.6 / 42.1 / 41.8, at 8 ranks
/// 256 KiB 77 / 132 / 179). Reductions (us, schedules / single-copy whole read / split, medians
/// of 5 alternating runs under the other helpers' load): reduce 32 KiB 18.9 / 18.9 / -,
/// 256 KiB 159 / 90 / 120, 1 MiB 820 / 379 / 643; allreduce 32 KiB 40 / 54 / -, 256 KiB
/// 249 / 268 / 149, 1 MiB 1584 / 1222 / 638 (the split: [`split`]).
pub fn single_copy_oversubscribed(op: Op, bytes: u64) -> bool {
    match op {
        Op::Gather | Op::Reduce => bytes >= 128 * 1024,
        Op::Allreduce => bytes >= SPLIT_MIN,
        Op::Bcast | Op::Alltoall | Op::Scatter => true,
        Op::Allgather => false,
    }
}

/// Whether a call of `op` (None: a barrier) moving `bytes` (per rank and reader) goes
/// through `c`'s region. Without single-copy reads, what does not fit a slot goes to the
/// schedules, whose pipelined copies beat a run of slot-sized calls. When ranks outnumber
/// cores, only the operations [`single_copy_oversubscribed`] names take the single-copy
/// route; otherwise every operation does, reductions up to [`REDUCE_MAX`].
pub fn takes(c: &ShmComm, op: Option<Op>, bytes: u64) -> bool {
    if bytes <= super::SLOT as u64 {
        return true;
    }
    if !c.single_copy_ok() {
        return false;
    }
    if c.oversubscribed() {
        return op.is_some_and(|op| single_copy_oversubscribed(op, bytes));
    }
    !matches!(op, Some(Op::Reduce | Op::Allreduce)) || bytes <= REDUCE_MAX
}

impl ShmComm {
    /// Whether a message of `bytes` (per source and reader) goes single-copy, its sources
    /// publishing `entries` descriptors each.
    pub(super) fn single_copy(&self, bytes: u64, entries: usize) -> bool {
        bytes >= DIRECT_MIN && super::direct::fits(self, entries)
    }
}
