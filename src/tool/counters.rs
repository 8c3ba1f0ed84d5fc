//! The engine's counters, which MPI_T shows as performance variables (`tool::pvar`).
//!
//! The layers that do the work bump them (point-to-point, the transports, the progress
//! loop, collective schedules); nothing here knows those layers. Every counter is a relaxed
//! atomic on its own cache line, bumped without a locked instruction (see `Counter::add`),
//! and a tool reading from another thread never blocks the engine. Counts are per process and never reset:
//! a tool's "reset" moves that handle's baseline (see `pvar`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One counter, alone on its cache line.
#[repr(align(64))]
pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }
    /// A plain load and store, not a locked add: the hot path pays about a nanosecond.
    /// Two threads bumping the same counter at the same instant (MPI_THREAD_MULTIPLE) can
    /// lose one count; MPI_T reports these variables as not atomic.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
    /// Raises the counter to `v` if `v` is larger (a high-water mark). A plain load first:
    /// `fetch_max` is a locked compare-exchange loop on x86, paid on every unexpected
    /// message, while the mark rarely moves (a queue's length repeats, the mark stays).
    #[inline]
    pub fn max(&self, v: u64) {
        if v > self.0.load(Relaxed) {
            self.0.fetch_max(v, Relaxed);
        }
    }
}

impl Default for Counter {
    fn default() -> Self {
        Counter::new()
    }
}

/// Messages and bytes sent and received through one transport.
pub struct Traffic {
    pub msgs_sent: Counter,
    pub bytes_sent: Counter,
    pub msgs_recvd: Counter,
    pub bytes_recvd: Counter,
}

impl Traffic {
    const fn new() -> Traffic {
        Traffic {
            msgs_sent: Counter::new(),
            bytes_sent: Counter::new(),
            msgs_recvd: Counter::new(),
            bytes_recvd: Counter::new(),
        }
    }
}

/// Point-to-point traffic through the node's shared memory.
pub static SHM: Traffic = Traffic::new();
/// Point-to-point traffic through sockets (processes of other jobs).
pub static SOCK: Traffic = Traffic::new();

/// Messages sent eagerly (the payload travels with the envelope).
pub static EAGER_SENDS: Counter = Counter::new();
/// Messages sent with the rendezvous protocol.
pub static RNDV_SENDS: Counter = Counter::new();
/// Rendezvous payloads moved by a single copy (process_vm_readv).
pub static SINGLE_COPY_READS: Counter = Counter::new();

/// The longest the unexpected queue has been.
pub static UNEXPECTED_HWM: Counter = Counter::new();

/// Nanoseconds blocked calls spent waiting once they had polled for a while (from the
/// waiting policy's first clock reading, after 64 polls or at the first sleep, to the end).
pub static BLOCKED_NS: Counter = Counter::new();
/// Steps (send, receive, reduce, copy) collective schedules started.
pub static SCHED_STEPS: Counter = Counter::new();

/// The lengths of the matching queues (unexpected, posted) are the engine's own state: the
/// runtime registers a reader at MPI_Init, and a tool's read takes the engine's lock once
/// (from the tool's thread, never from inside the engine).
type QueueReader = Box<dyn Fn() -> (u64, u64) + Send + Sync>;
static QUEUES: std::sync::OnceLock<QueueReader> = std::sync::OnceLock::new();

/// Registers the reader of the queue lengths (the first registration stays).
pub fn set_queue_reader(f: impl Fn() -> (u64, u64) + Send + Sync + 'static) {
    let _ = QUEUES.set(Box::new(f));
}

/// (unexpected, posted) now; (0, 0) before MPI_Init.
pub fn queue_lengths() -> (u64, u64) {
    QUEUES.get().map_or((0, 0), |f| f())
}
