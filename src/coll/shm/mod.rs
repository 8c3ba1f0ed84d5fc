//! Shared-memory collectives: blocking barrier, bcast, reduce, allreduce, and gather,
//! scatter, allgather and alltoall of equal blocks, on intracommunicators whose ranks all
//! live on this node: through a region of shared memory per communicator instead of
//! messages, with no schedule and no request. Small messages are staged through the
//! region's slots (`ops`; longer than a slot, a slot at a time); from `route::DIRECT_MIN`
//! on, when every rank may read the others' memory, the readers copy straight from the
//! source's buffer (`direct`; a 2-rank broadcast splits the copy between the reader, which
//! reads half, and the root, which writes the other half into the reader's buffer).
//! Reductions above `route::REDUCE_MAX` take the schedules when
//! every rank has a core; when ranks outnumber cores they go single-copy, large allreduces
//! split among the ranks (`direct::split`: reduce-scatter, then allgather), and large
//! broadcasts pipelined along a chain of the ranks (`direct::chain`). `route` holds these
//! choices.
//!
//! The scheme is the flag-based release/gather of MPICH's ch4 posix `release_gather` and
//! Open MPI's `coll/sm` and `coll/xhc` (see also Graham and Shipman, "MPI support for
//! multi-core architectures: optimized shared memory collectives", EuroPVM/MPI 2008),
//! flattened for the few ranks of a node: every rank has a control line with `seq`, the
//! number of the collective call it has reached, and two data slots used alternately by
//! odd and even calls (for messages of up to `coll_region::INLINE` bytes, two inline slots
//! in the control line itself, so that the data travel with the call number). A rank publishes by writing its slot and then storing the call's
//! number; readers wait for the number and read the slot. A rank writes its slot for call
//! `s` only once every other rank has reached call `s - 1` (so nobody still reads what it
//! wrote for call `s - 2`); two slots make that wait rare. Reductions gather every rank's
//! contribution and fold them in rank order (non-commutative operations stay correct).
//!
//! Waiting: first a waiter keeps the communicator spread over the CPUs (at most
//! `ceil(ranks / cpus)` ranks on one CPU, `ShmComm::spread`: the scheduler packs ranks that
//! take turns on a CPU and leaves them packed while they yield); then a short spin on the
//! flags when every local rank has a core and no other rank of the communicator last
//! waited on this CPU; then the waiter yields its core (the rank
//! it waits for may be the one that needs it), running a round of the engine's progress
//! every few yields (a peer's point-to-point transfer or a nonblocking schedule may need
//! it). Past [`YIELD_FOR`] it announces in its control line whom it waits for and which
//! call (one rank, or all) and sleeps on its process's doorbell (a futex); the publisher
//! that completes that condition, and only that one, rings exactly that rank's doorbell,
//! as inbound point-to-point traffic does. While nobody sleeps a publish is a store and a
//! read of the others' sleep words. Open MPI, oversubscribed, also yields in its progress
//! loop (`mpi_yield_when_idle`). Sleeping at once (a futex hand-off to the awaited rank)
//! measured slower here: a futex hand-off costs 1.5 us against 0.9 us for a yield between
//! two processes on one CPU, and waking a CPU that went idle costs tens of microseconds in
//! a virtual machine (4 ranks on 2 cores: barrier 11.8 us sleeping at once, 5.3 yielding).
//!
//! The region is made on a communicator's first collective that can use it (`table`), all
//! members agreeing; communicators that cannot (ranks on several nodes, processes of other
//! jobs, a failed mapping) keep using the schedules, as do large reductions, messages beyond
//! a slot when single-copy reads are forbidden, intercommunicators, the v and w forms and
//! the nonblocking and persistent forms.

mod direct;
mod ops;
mod route;
mod table;

pub use ops::{
    allgather, allreduce, alltoall, barrier, bcast, block_bytes, gather, reduce, scatter,
};
pub use route::{takes, Op};
pub use table::{get, Locate};

use crate::p2p::NodeEngine;
use crate::progress::nap::Naps;
use crate::transport::coll_region::{Awaits, Region, INLINE};
use crate::transport::fabric::Fabric;
use crate::transport::mem::UserPtr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Bytes of a data slot: the most a staged call moves (longer messages take several).
pub const SLOT: usize = 16 * 1024;

/// Polls of a flag before a waiting rank turns to the engine's blocking loop (when every
/// local rank has a core; oversubscribed ranks go there at once).
const SPIN: u32 = 4000;

/// How long a waiter yields before it sleeps. A sleep costs its waker a system call and,
/// when the sleeper's CPU has gone idle, a wake-up of that CPU (tens of microseconds in a
/// virtual machine); a yield hands the core to a runnable rank in under a microsecond
/// (issue 13: 4 ranks on 2 cores, sleeping after 50 yields: allreduce 8 B 3 -> 23 us per
/// call in some runs). So waiters sleep only in waits long enough that the CPU they would
/// burn matters.
const YIELD_FOR: Duration = Duration::from_millis(2);

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
    /// Most ranks of the communicator that should share a CPU (`spread`).
    quota: usize,
    /// The call under way is single-copy (`direct`): its waits do not move the rank
    /// (`spread`).
    single_copy_call: AtomicBool,
}

impl ShmComm {
    fn new(
        region: Region,
        me: usize,
        bell_of: Vec<usize>,
        oversubscribed: bool,
        direct: bool,
        cpus: usize,
    ) -> Self {
        ShmComm {
            n: region.ranks(),
            quota: region.ranks().div_ceil(cpus.max(1)),
            region,
            me,
            bell_of,
            spin: if oversubscribed { 0 } else { SPIN },
            seq: AtomicU64::new(0),
            others_at: AtomicU64::new(0),
            direct,
            single_copy_call: AtomicBool::new(false),
        }
    }

    /// Bytes of a data slot.
    fn slot_len(&self) -> usize {
        self.region.slot_len()
    }

    /// Starts the next call: its number. A load and a store rather than a read-modify-write
    /// (a locked instruction, tens of cycles on the critical path of every small call): the
    /// calls of one communicator never overlap (MPI forbids concurrent collectives on a
    /// communicator), so no other thread moves this counter meanwhile.
    fn next(&self) -> u64 {
        self.single_copy_call.store(false, Ordering::Relaxed);
        let s = self.seq.load(Ordering::Relaxed) + 1;
        self.seq.store(s, Ordering::Relaxed);
        s
    }

    /// Starts the next call that takes two numbers (`direct`): the first.
    fn next_pair(&self) -> u64 {
        self.next_run(2)
    }

    /// Starts the next single-copy call that takes `count` numbers (`direct`, and
    /// `direct::chain`'s one per chunk): the first.
    fn next_run(&self, count: u64) -> u64 {
        self.single_copy_call.store(true, Ordering::Relaxed);
        self.seq.fetch_add(count, Ordering::Relaxed) + 1
    }

    /// Where rank `r` stages `len` bytes in a call of parity `k`: the inline slot of its
    /// control line when they fit (the reader gets them with the cache line of the call
    /// number: one transfer instead of two on the critical path of a small call), else its
    /// data slot. The ranks of a call all pass the same `len`, so writer and readers agree.
    #[inline]
    fn stage(&self, r: usize, k: usize, len: usize) -> UserPtr {
        if len <= INLINE {
            self.region.inline_slot(r, k)
        } else {
            self.region.slot(r, k)
        }
    }

    /// Whether every rank can read the others' memory (large messages go single-copy).
    pub fn single_copy_ok(&self) -> bool {
        self.direct
    }

    /// More local ranks than cores.
    pub fn oversubscribed(&self) -> bool {
        self.spin == 0
    }

    /// Waits until `ready()` holds, which is `on` reaching call `s`: spins a while, then
    /// sleeps on the doorbell as a declared sleeper between rounds of progress (see the
    /// module doc).
    fn wait(&self, e: &NodeEngine, on: Awaits, s: u64, ready: impl Fn() -> bool) {
        if ready() {
            return;
        }
        for _ in 0..self.spin_now() {
            if ready() {
                return;
            }
            std::hint::spin_loop();
        }
        let mut yields = 0u32;
        let mut since: Option<Instant> = None;
        // Doorbell sleeps between progress rounds: a safety net only (every condition a
        // waiter sleeps on rings its doorbell when it comes true), growing as in the
        // engine's loop (`progress::nap`).
        let mut naps = Naps::new();
        loop {
            if ready() {
                return;
            }
            // Oversubscribed, or spun out: give the core away (the awaited rank may be
            // waiting for it) until YIELD_FOR has passed; progress every few yields. (Polling
            // first when no awaited rank last ran on this CPU measured mixed and lost the
            // barrier, issue 13,
            // 4 ranks on 2 cores, 15 alternating rounds, us, yield at once / 1000 polls
            // first: barrier 2.11 / 2.27, allreduce 8 B 2.40 / 2.64, bcast 8 B 2.09 / 1.86,
            // reduce 8 B 2.16 / 1.50.)
            yields += 1;
            if yields % 8 != 0 {
                std::thread::yield_now();
                continue;
            }
            let started = *since.get_or_insert_with(Instant::now);
            let polled = e.run_pollers();
            if (e.progress(&mut e.lock()) | polled) || ready() {
                naps.reset();
                continue;
            }
            if started.elapsed() < YIELD_FOR {
                std::thread::yield_now();
                continue;
            }
            let ticket = e.fab.ticket();
            self.region.sleep_begin(self.me, on, s);
            if !ready() {
                e.fab.wait_since(ticket, naps.next());
            }
            self.region.sleep_end(self.me);
        }
    }

    /// Polls before yielding in a wait starting now: none when oversubscribed, or when
    /// another rank of the communicator last waited on this CPU (it cannot publish while
    /// this rank spins on it; after a wake-up the scheduler often puts the woken rank beside
    /// its waker: 2 ranks on one core, spinning, 118 us a call where 0.4 otherwise, issue
    /// 13). First the rank keeps the communicator spread over the CPUs (`spread`).
    fn spin_now(&self) -> u32 {
        let Some(cpu) = crate::transport::cpu::current_cpu() else {
            return self.spin;
        };
        let cpu = self.spread(cpu);
        if self.spin == 0 || (0..self.n).any(|r| r != self.me && self.region.cpu(r) == Some(cpu)) {
            0
        } else {
            self.spin
        }
    }

    /// Keeps at most `quota` ranks of the communicator on a CPU (one each when every rank
    /// has a core): a rank that finds `quota` lower ranks last waiting on the CPU it runs on
    /// moves to a CPU that holds fewer (`move_off`; the lower ones stay, so they do not all
    /// move). Records and returns the CPU it runs on. Why: the scheduler packs ranks that
    /// take turns on a CPU (a woken rank lands on its waker's CPU, and this machine's
    /// kernel packs tasks on fewer vCPUs), and then leaves them there while they only
    /// yield: 4 ranks on 2 cores, barrier 2.1 us a call with 2 ranks per CPU, 3.4 with
    /// 3 + 1, 4.3 with all 4 on one CPU (issue 13, the two modes of the 4-rank figures).
    ///
    /// Only the waits of calls staged through the slots move a rank: in single-copy calls
    /// (large messages) the moves measured harmful, 4 ranks on 2 cores under the other
    /// helpers' load (issue 13, 5 alternating rounds, us, before / spreading in every
    /// wait: bcast 1 MiB 428 / 1351, reduce 4 MiB 4943 / 12506, allreduce 1 MiB 973 /
    /// 2054, with 14 times the context switches): a rank then reads megabytes, and the
    /// CPU the kernel chose (away from other load, with the data in its cache) serves it
    /// better than an even spread.
    fn spread(&self, cpu: u32) -> u32 {
        let on = |r: usize, c: u32| r != self.me && self.region.cpu(r) == Some(c);
        let may_move = !self.single_copy_call.load(Ordering::Relaxed);
        if may_move && (0..self.me).filter(|&r| on(r, cpu)).count() >= self.quota {
            let mut full = vec![cpu];
            for c in (0..self.n).filter_map(|r| self.region.cpu(r)) {
                if !full.contains(&c) && (0..self.n).filter(|&r| on(r, c)).count() >= self.quota {
                    full.push(c);
                }
            }
            if let Some(to) = crate::transport::cpu::move_off(&full) {
                self.region.set_cpu(self.me, to);
                return to;
            }
        }
        if self.region.cpu(self.me) != Some(cpu) {
            self.region.set_cpu(self.me, cpu);
        }
        cpu
    }

    /// Publishes call `s` for this rank and wakes whom that releases.
    fn publish(&self, e: &NodeEngine, s: u64) {
        self.region.publish(self.me, s);
        for r in (0..self.n).filter(|&r| r != self.me) {
            if self.region.released(self.me, s, r) {
                e.fab.ring(self.bell_of[r]);
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
        self.wait(e, Awaits::All, s, || self.all_at(s));
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
        self.wait(e, Awaits::One(r), s, || self.region.seq(r) >= s);
    }
}
