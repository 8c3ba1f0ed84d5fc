//! The point-to-point engine: protocols over a `Fabric`, the matching queues and the
//! request slab, behind one lock that is held during progress and released while a
//! blocked caller sleeps on its doorbell.
//!
//! Protocols. A message that fits a cell goes EAGER (data in the cell; a synchronous send
//! asks for a SACK when matched). A larger one sends RTS. From `OXIMPI_CMA_MIN` up, or
//! behind another large message still streaming (see `default_cma_min` for the figures,
//! `pipeline::single_copy` for the rule), the RTS carries the sender's address and the
//! receiver, once matched, reads the data straight from the sender's memory (single copy)
//! and sends FIN; from `OXIMPI_CMA_SPLIT` up it reads only the first half while the sender,
//! asked with PUT, writes the second into the receiver's buffer (`rendezvous`'s split
//! copy). Otherwise, and where the kernel forbids reads or the sender's data is
//! not contiguous, the receiver answers CTS and the sender streams DATA cells, which the
//! receiver copies out while the sender fills the next ones (two copies, pipelined). A
//! read that cannot finish at once (a TCP pull) leaves the receive pending while the
//! engine goes on, so the reads of a window overlap (`rendezvous`). Messages to oneself
//! never touch the fabric.
//!
//! The engine's parts, one file each: `send`, `recv`, `pipeline` (a large message's
//! sending side: eager frame, RTS, the DATA cells after a CTS), `rendezvous` (the
//! receiver's side: single-copy read and FIN, or CTS), `protocol` (the cells as they
//! arrive, the backlog), `completion` (completing, waiting, testing, freeing), `persistent`
//! (init/start), `probe` (probe and matched probe), `cancel`, `fail` (ending operations a
//! peer's failure or a revoke makes impossible). The blocking loop and its policy are `crate::progress`'s.
//!
//! The lock is a `ModeMutex` (`transport::exclusive`): a real mutex when the job runs
//! MPI_THREAD_MULTIPLE, a re-entry check costing no locked instruction at the lower levels,
//! where the program promises one thread in the library at a time (issue 13).

use super::buffered::Buffers;
use super::data::Data;
use super::data::TypeKeep;
use super::fabric::Fabric;
use super::header::{flag, kind, Header};
use super::matching::{Body, Bytes, Posted, Queues, Unexpected, ANY_SOURCE};
use super::request::{Kind, Mode, Persist, Phase, ReqId, Slab, Starter, Status};
use crate::error::{class, MpiError};
use crate::progress::{Poller, Registry, WaitPolicy};
use crate::settings::{self, Value};
use crate::tool::{counters, event};
use crate::transport::exclusive::{ModeGuard, ModeMutex};
use crate::transport::mem::UserPtr;
use parking_lot::Mutex;
use std::collections::VecDeque;

mod cancel;
mod completion;
pub use completion::{Checked, Reaped};
mod fail;
pub use fail::Pending;
mod persistent;
mod pipeline;
mod probe;
mod protocol;
mod quick;
pub use quick::Started;
mod recv;
mod rendezvous;
mod send;

/// A cell-sized message waiting for a free cell, in send order.
#[derive(Debug)]
enum Out {
    /// First cell of a send (EAGER or RTS) of request `req`.
    Start { req: ReqId },
    /// A control message.
    Ctrl { dst: usize, h: Header },
}

/// Everything the engine lock protects.
pub struct State {
    pub q: Queues,
    pub reqs: Slab,
    backlog: VecDeque<Out>,
    streaming: Vec<ReqId>,
    /// Messages taken by MPI_Mprobe, waiting for MPI_Mrecv.
    messages: Vec<Option<Unexpected>>,
    free_messages: Vec<usize>,
    /// Single-copy reads allowed (cleared on the first EPERM/ENOSYS).
    pub(super) cma: bool,
    /// Single-copy reads in flight for matched receives (TCP pulls), finished by
    /// `finish_reads` in every progress pass (see `rendezvous`).
    reads: Vec<rendezvous::Read>,
    /// Single-copy receives whose sender is writing part of the data (split copy), waiting
    /// for its PUT_DONE (see `rendezvous`).
    puts: Vec<rendezvous::Put>,
    /// Rendezvous sends below `Engine::cma_min` streaming through cells, or waiting for the
    /// CTS that starts it (`pipeline::single_copy`); pruned there when they are over.
    pipelined: Vec<ReqId>,
    /// Requests completed since the last wake-up check (to ring sleeping threads).
    completions: u64,
    /// Partitioned requests initialised so far per (context, peer, tag, is_send): the next
    /// one's place in the init order (see `Piece::pair`).
    pub(super) part_seq: std::collections::HashMap<(u32, u32, i32, bool), u16>,
    /// Started partitioned receives waiting for pieces, with their pair number.
    pub(super) part_posted: Vec<(Posted, u16)>,
    /// The envelopes of the last quick sends (see `quick`).
    sent: quick::SentLog,
}

pub struct Engine<F: Fabric> {
    pub fab: F,
    /// The state, behind the lock whose cost follows the thread level (see the module doc).
    st: ModeMutex<State>,
    /// My endpoint id (world rank).
    pub me: u32,
    /// Local index in the fabric of every endpoint (None: not on this node).
    local_of: Vec<Option<usize>>,
    ep_of_local: Vec<u32>,
    /// One past the last fabric index of a world rank (node slots, then TCP peers); the
    /// processes of other jobs come after.
    nlocal: usize,
    eager_limit: usize,
    /// The smallest rendezvous message to a process on this host that its receiver reads in
    /// one copy; smaller ones stream through cells (`OXIMPI_CMA_MIN`, chosen in `new`).
    cma_min: u64,
    /// The smallest single-copy receive whose copy this process shares with the sender
    /// (`OXIMPI_CMA_SPLIT`, chosen in `new`; 0: never).
    cma_split: u64,
    /// How long a blocked call polls before it yields and then sleeps, and who sleeps.
    policy: WaitPolicy,
    /// The buffers attached for buffered-mode sends (see `buffered`).
    pub(super) buffers: Mutex<Buffers>,
    /// Progress of higher layers (collective schedules, agreements, RMA targets), run
    /// outside the engine lock by every wait and test.
    pollers: Registry,
    /// Set once MPI_Cancel made a request for a quick send: until then no quick handle
    /// names a request, and resolving one needs no lock (see `quick`).
    quick_cancelled: std::sync::atomic::AtomicBool,
}

/// Arguments of a send.
#[derive(Clone, Debug)]
pub struct SendArgs {
    pub ep: u32,
    pub ctx: u32,
    /// My rank in the communicator (what the receiver sees as MPI_SOURCE).
    pub src: i32,
    pub tag: i32,
    pub mode: Mode,
    pub data: Data,
    /// Opaque owner recorded in the request (see `Req::owner`).
    pub owner: i32,
}

/// Arguments of a receive.
#[derive(Clone, Debug)]
pub struct RecvArgs {
    pub ctx: u32,
    pub src: i32,
    pub tag: i32,
    pub data: Data,
    pub owner: i32,
}

/// A message taken by MPI_Mprobe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgId(pub u32);

/// The default of `OXIMPI_CMA_MIN` for a job with `host_ranks` ranks on this host.
///
/// Above the eager limit a message either streams through the sender's shared-memory cells
/// (two copies, sender and receiver copying at once, pipelined cell by cell) or is read by
/// the receiver from the sender's memory in one `process_vm_readv` (one copy, by the
/// receiver alone; the kernel pins and maps every page). Measured (bench/p2p.c, 2 ranks,
/// P50, issue 13, base = single copy always vs cells always, alternating rounds):
///   * fast VM state (bench/probe.c line ~55 ns): the cells win the ping-pong up to 1 MiB
///     (64 KiB 9.1 vs 12.5 us, 256 KiB 31.4 vs 43.1, 1 MiB 111 vs 119) and lose it at 2 MiB
///     (234 vs 193 us, all 64 cells full, the sender waits for the receiver); they win the
///     window bandwidth (about 20 vs 13 GB/s);
///   * slow state (line ~150-190 ns, the machine shared): the cells still win the
///     ping-pong (64 KiB 33.2 vs 35.6 us, 256 KiB 121.8 vs 133.6, 512 KiB 235 vs 260) but
///     a window of them collapses (64 KiB-4 MiB 2.4-3.6 GB/s vs 12-13 GB/s read): the
///     pipeline needs both ranks on their CPUs and many cache-line handoffs, a read only
///     the receiver.
/// The state cannot be known, so a message below the threshold goes through the cells
/// only when it is alone (`pipeline::single_copy`): the latency case. Behind another one
/// still streaming (a window, a burst) it is read in one copy, the bandwidth case. With
/// that rule (6 alternating rounds, fast state, base = always read): ping-pong 64 KiB 9.8
/// vs 13.4 us, 128 KiB 17.9 vs 24.2, 256 KiB 34.2 vs 43.8, 512 KiB 64.1 vs 80.0, but 1 MiB
/// 132.5 vs 121.1 (the cells' edge is gone there), window bandwidth equal to base within
/// noise at every size. Hence 1 MiB, until the split copy (`default_cma_split`) halved the
/// read: a lone message read in two halves at once beats the cells from 64 KiB up, in both
/// states (bench/p2p.c, 2 ranks, chrt -f 10, 7 alternating rounds, P50 one-way us, cells vs
/// split read; fast state: 64 KiB 9.2 vs 7.6, 128 KiB 16.9 vs 12.9, 256 KiB 31.9 vs 23.3,
/// 512 KiB 58.9 vs 41.9, 1 MiB 118.3 vs 60.2; slow state, other rounds: 64 KiB 33.0 vs
/// 19.4, 256 KiB 120.5 vs 68.5, 512 KiB 231.5 vs 131.8). Hence 64 KiB; below it (from
/// the eager limit, 32 KiB) the cells still serve a lone message.
///
/// When the host's ranks outnumber its cores a rank often waits for its core: the
/// pipeline then stalls whenever either side is off its CPU, and its second copy takes
/// CPU time another rank needs, while a read needs only the receiver to run. Every
/// rendezvous message is read in one copy there (0), as before this threshold existed.
fn default_cma_min(host_ranks: usize) -> u64 {
    if host_ranks > crate::transport::cpu::usable_cpus() {
        0
    } else {
        64 << 10
    }
}

/// The default of `OXIMPI_CMA_SPLIT` for a job with `host_ranks` ranks on this host.
///
/// A single-copy read is one core's copy while the sender, whose message it is, waits for
/// FIN doing nothing. Open MPI (ob1 + smsc/cma) and MPICH 5 (ch4 IPC) do the same: strace
/// of bench/p2p.c shows one process_vm_readv of the whole message by the receiver per
/// message, ping-pong and window alike. Sharing the copy (the receiver reads the first half
/// while the sender writes the second into the receiver's buffer) puts both cores on it for
/// one extra control message each way. Measured (bench/p2p.c, 2 ranks, chrt -f 10, 7
/// rounds alternating with the library before it, fast state, P50; OXIMPI_CMA_MIN 64 KiB):
/// window bandwidth 64 KiB 10.4 -> 15.4 GB/s, 128 KiB 12.3 -> 20.2, 256 KiB-4 MiB
/// 12.7-13.4 -> 24.3-26.3 (Open MPI and MPICH 5 12.3-13.4); ping-pong 1 MiB 119 -> 61 us,
/// 2 MiB 196 -> 82, 4 MiB 364 -> 165 (peers 360-365). From 64 KiB up, the smallest
/// single-copy message of a lone send (`default_cma_min`): the split pays from there.
/// With more ranks than cores the sender's half takes a core another rank needs, and a
/// sender off its core delays the receive: off (0), as `default_cma_min` does there.
fn default_cma_split(host_ranks: usize) -> u64 {
    if host_ranks > crate::transport::cpu::usable_cpus() {
        0
    } else {
        64 << 10
    }
}

impl<F: Fabric> Engine<F> {
    /// `local_of[ep]` maps endpoints to fabric indices.
    pub fn new(fab: F, me: u32, local_of: Vec<Option<usize>>) -> Self {
        let mut ep_of_local = vec![0; local_of.len()];
        for (ep, l) in local_of.iter().enumerate() {
            if let Some(l) = l {
                if *l >= ep_of_local.len() {
                    ep_of_local.resize(*l + 1, 0);
                }
                ep_of_local[*l] = ep as u32;
            }
        }
        // World ranks may skip node slots (with every peer over TCP, only my own slot of
        // the node segment is used): socket peers start past the highest index.
        let nlocal = local_of.iter().flatten().max().map_or(0, |m| m + 1);
        // The knobs (environment, or MPI_T writes before MPI_Init), and what is in force.
        // The waiting policy counts the ranks that share this host's cores.
        let host_ranks = fab.host_ranks().unwrap_or(nlocal);
        let policy = WaitPolicy::new(host_ranks);
        let cap = fab.payload_capacity();
        let eager_limit = settings::EAGER_LIMIT
            .get_u64()
            .map(|v| (v as usize).min(cap))
            .unwrap_or(cap);
        settings::EAGER_LIMIT.set_effective(Value::Unsigned(eager_limit as u64));
        let cma = settings::CMA.get_switch().unwrap_or(true);
        settings::CMA.set_effective(Value::Switch(cma));
        let cma_min = settings::CMA_MIN
            .get_u64()
            .unwrap_or_else(|| default_cma_min(host_ranks));
        settings::CMA_MIN.set_effective(Value::Unsigned(cma_min));
        let cma_split = settings::CMA_SPLIT
            .get_u64()
            .unwrap_or_else(|| default_cma_split(host_ranks));
        settings::CMA_SPLIT.set_effective(Value::Unsigned(cma_split));
        Engine {
            fab,
            st: ModeMutex::new(State {
                q: Queues::default(),
                reqs: Slab::new(),
                backlog: VecDeque::new(),
                streaming: Vec::new(),
                messages: Vec::new(),
                free_messages: Vec::new(),
                cma,
                reads: Vec::new(),
                puts: Vec::new(),
                pipelined: Vec::new(),
                completions: 0,
                part_seq: Default::default(),
                part_posted: Vec::new(),
                sent: Default::default(),
            }),
            me,
            local_of,
            ep_of_local,
            nlocal,
            eager_limit,
            cma_min,
            cma_split,
            policy,
            buffers: Mutex::new(Buffers::default()),
            pollers: Registry::new(),
            quick_cancelled: Default::default(),
        }
    }

    #[inline]
    pub fn lock(&self) -> ModeGuard<'_, State> {
        self.st.lock()
    }

    /// The fabric index of endpoint `ep`. Endpoints are world ranks first; endpoints from
    /// `local_of.len()` on are processes of other jobs, numbered in the order the fabric
    /// learnt them (socket peer `i` is endpoint `nworld + i`, fabric index `nlocal + i`,
    /// `nlocal` being one past the world ranks' indices).
    #[inline]
    pub(super) fn local(&self, ep: u32) -> Result<usize, MpiError> {
        let ep = ep as usize;
        let nworld = self.local_of.len();
        let found = if ep < nworld {
            self.local_of[ep]
        } else {
            let i = ep - nworld;
            (i < self.fab.remote_peers()).then_some(self.nlocal + i)
        };
        found.ok_or_else(|| {
            MpiError::new(
                class::ERR_OTHER,
                format!("process {ep} is not reachable: only node-local transport is available"),
            )
        })
    }

    /// The endpoint of fabric index `local` (inverse of `local`).
    #[inline]
    fn ep_of(&self, local: usize) -> u32 {
        if local < self.nlocal {
            self.ep_of_local[local]
        } else {
            (self.local_of.len() + local - self.nlocal) as u32
        }
    }

    /// Progresses until nothing this process owes its peers is still queued (control
    /// messages, streamed data): called before leaving at MPI_Finalize.
    pub fn quiesce(&self) {
        // A read in flight, or a shared copy waiting for the sender's part, owes its sender
        // a FIN (the receive may have been freed).
        self.wait_until(|_, st| {
            (st.backlog.is_empty()
                && st.streaming.is_empty()
                && st.reads.is_empty()
                && st.puts.is_empty())
            .then_some(())
        })
    }

    /// Waits until no operation on a context in `ctxs` is still running (what
    /// MPI_Comm_disconnect waits for). Inactive persistent requests do not count.
    pub fn drain_contexts(&self, ctxs: std::ops::Range<u32>) {
        self.wait_until(|_, st| {
            let busy = st
                .reqs
                .any(|r| !r.done && ctxs.contains(&r.ctx) && (r.persist.is_none() || r.active));
            (!busy).then_some(())
        })
    }

    /// Number of live requests (leak checks).
    pub fn live_requests(&self) -> usize {
        self.lock().reqs.live()
    }

    /// True when `src` names a rank that can match (used for ANY_SOURCE checks).
    pub fn any_source() -> i32 {
        ANY_SOURCE
    }
}
