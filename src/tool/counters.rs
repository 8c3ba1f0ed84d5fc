//! The engine's counters, which MPI_T shows as performance variables (`tool::pvar`).
//!
//! The layers that do the work bump them (point-to-point, the transports, the progress
//! loop, collective schedules); nothing here knows those layers. Every counter is a relaxed
//! atomic on its own cache line, so a bump costs one uncontended add and a tool reading
//! from another thread never blocks the engine. Counts are per process and never reset:
//! a tool's "reset" moves that handle's baseline (see `pvar`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One counter, alone on its cache line.
#[repr(align(64))]
pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }
    #[inline]
    pub fn sub(&self, n: u64) {
        self.0.fetch_sub(n, Relaxed);
    }
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
    /// Raises the counter to `v` if `v` is larger (a high-water mark).
    #[inline]
    pub fn max(&self, v: u64) {
        self.0.fetch_max(v, Relaxed);
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

/// Messages that arrived before a matching receive was posted, now queued.
pub static UNEXPECTED_LEN: Counter = Counter::new();
/// The longest the unexpected queue has been.
pub static UNEXPECTED_HWM: Counter = Counter::new();
/// Receives posted and not yet matched.
pub static POSTED_LEN: Counter = Counter::new();

/// Nanoseconds blocked calls spent waiting (spinning, yielding or asleep).
pub static BLOCKED_NS: Counter = Counter::new();
/// Steps (send, receive, reduce, copy) collective schedules completed.
pub static SCHED_STEPS: Counter = Counter::new();

/// A message joined the unexpected queue.
#[inline]
pub fn unexpected_pushed() {
    UNEXPECTED_LEN.add(1);
    UNEXPECTED_HWM.max(UNEXPECTED_LEN.get());
}
