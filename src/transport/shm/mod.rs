//! The node-local transport: every message between ranks of one node travels through one
//! shared segment (see `layout` for the picture).
//!
//! Small messages (up to 1 KiB) go first through a per-pair fast box (`fastbox`), polled
//! before the queue; the rest of this paragraph is the queue path, which carries everything
//! else and whatever finds its box full.
//!
//! Each local rank owns `cells_per_rank` cells and two MPSC queues (`queue`): its *inbound*
//! queue, where any rank enqueues cells for it, and its *free* queue, where receivers return
//! its cells. Sending is: take a cell of mine ([`Shm::alloc`]), fill the header/payload, enqueue
//! it on the receiver's inbound queue ([`Shm::send`]), and ring the receiver's doorbell only if
//! it sleeps. Receiving is [`Shm::poll`], read, then [`Shm::release`] which returns the cell to
//! its owner. No allocation, lock or syscall on these paths, except the futex wake of a
//! sleeping peer. Memory is linear in the number of local ranks.
//!
//! Large messages use `cma` (single-copy `process_vm_readv`), driven by the p2p engine.
//!
//! Tests: `cargo test --release --lib transport::shm` (includes multi-process tests that
//! re-execute the test binary), the latency measurement
//! `cargo test --release --lib transport::shm::tests::pingpong_latency -- --ignored --nocapture`
//! and the loom model checks of the queue and the doorbell, which compile `sync`, `queue` and
//! `doorbell` on their own in the crate loom/: `scripts/loom.sh`.

mod doorbell;
mod queue;
mod sync;

pub mod cma;
mod fastbox;
mod futex;
mod layout;
mod mapping;
mod named;
mod segment;
#[cfg(test)]
mod tests;
mod trylock;

pub use segment::{Cell, Received, Shm};

/// Registers this process for the doorbell's process barriers (membarrier) now, while it may
/// still have one thread: later it would wait for an RCU grace period (~12 ms here). Call
/// before starting any thread; the segment uses the answer.
pub fn register_process_barrier() {
    futex::process_barrier_registered();
}

/// Bytes of opaque header the p2p engine writes into each cell.
pub const HDR_BYTES: usize = 48;

/// Size of the node segment's cell pools. Every local rank must use the same values (the
/// segment header records them and attaching with different ones fails).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShmConfig {
    /// Cells each rank owns: how many small messages it can have in flight.
    pub cells_per_rank: u32,
    /// Payload bytes per cell (rounded up to 64 in the segment).
    pub cell_payload: u32,
}

impl Default for ShmConfig {
    fn default() -> Self {
        ShmConfig {
            cells_per_rank: 64,
            cell_payload: 32 * 1024,
        }
    }
}

impl ShmConfig {
    /// `OXIMPI_SHM_CELLS` (default 64) and `OXIMPI_SHM_CELL_SIZE` (payload bytes, default
    /// 32 KiB; a `k`/`K` or `m`/`M` suffix is accepted). A malformed or zero value is reported
    /// on stderr and the default is used.
    pub fn from_env() -> Self {
        let d = ShmConfig::default();
        let get = |k: &crate::settings::Knob, default: u32| match k.get_u64() {
            None => default,
            Some(v) => u32::try_from(v).ok().filter(|&v| v > 0).unwrap_or_else(|| {
                eprintln!(
                    "oximpi: ignoring {}={v} (want a positive 32-bit integer), using {default}",
                    k.name
                );
                default
            }),
        };
        ShmConfig {
            cells_per_rank: get(&crate::settings::SHM_CELLS, d.cells_per_rank),
            cell_payload: get(&crate::settings::SHM_CELL_SIZE, d.cell_payload),
        }
    }
}
