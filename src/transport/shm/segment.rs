//! `Shm`: one rank's attachment to the node segment, and the cell tokens it hands out.
//!
//! Under a foreign launcher the segment has a name in /dev/shm for the moments between its
//! creation and the attachment of every local rank. No name may outlive the job (issue 15):
//! the creator removes it once all are attached, when its `Shm` is dropped (a failed
//! MPI_Init), and from a fatal-signal handler armed for exactly that window (see
//! `super::named`); a name left by a creator killed with SIGKILL carries the creator's pid
//! and start time, so the next job on the host that finds it removes it.
//!
//! This file makes and attaches the segment; `send` and `recv` are the two sides of the
//! message path.

use super::doorbell::Doorbell;
use super::fastbox;
use super::futex::SharedFutex;
use super::layout::{self, Ctl, Layout};
use super::mapping::{self, Mapping};
use super::named;
use super::queue::{Dequeue, Links, Mpsc};
use super::trylock::TryLock;
use super::{ShmConfig, HDR_BYTES};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

mod placement;
mod recv;
mod send;
#[cfg(test)]
pub(crate) use send::SMALL_MAX;

/// A cell of mine, allocated and not yet sent: a token (global cell index), not a reference,
/// so the engine can keep it across calls. Not Clone: exactly one owner.
#[derive(Debug)]
pub struct Cell {
    idx: u32,
}

/// A message delivered to me — in a cell, or in the sender's fast-box ring to me — until
/// [`Shm::release`] gives the cell back to its owner or the ring's lines to the sender.
#[derive(Debug)]
pub struct Received {
    /// The cell's global index, or the ring record's position.
    idx: u32,
    src: u32,
    len: u32,
    /// From a ring: where its record ends, its payload offset and its header (rebuilt from
    /// the record's compact form, see `fastbox`).
    boxed: Option<Boxed>,
}

#[derive(Debug)]
struct Boxed {
    end: u32,
    off: u32,
    hdr: [u8; HDR_BYTES],
}

impl Received {
    /// Local rank that sent (and owns) the cell.
    pub fn src(&self) -> usize {
        self.src as usize
    }
    /// Payload bytes the sender wrote.
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One local rank's view of the node segment. `Send + Sync`; any thread may call any method.
/// Consuming operations (`poll`, `alloc`) are serialised per process by a non-blocking flag:
/// a thread that finds another thread inside simply gets `None`, as if the queue were empty.
pub struct Shm {
    map: Mapping,
    lay: Layout,
    me: usize,
    /// The sending side's process-local state. Taken with `try_lock` only (a thread that
    /// finds it taken gets no cell, or sends through the queue): it serialises the free
    /// queue's consumer and the writers of my fast boxes.
    local: TryLock<Spare>,
    /// Per destination: my cells queued to it and not yet back in my hands. A fast box is
    /// used only while this is 0 (see `fastbox` for why that keeps FIFO order).
    in_queue: Box<[AtomicU32]>,
    /// Per cell of mine (index from my first cell): the destination it was last queued to.
    queued_to: Box<[AtomicU32]>,
    /// The receiving side's process-local state; `try_lock` only, like `local`.
    rx: TryLock<RxState>,
    /// Per sender: a record of its ring to me is handed out and not released yet (records
    /// are released in order: the next one waits). Set under `rx`; cleared by `release`
    /// without it (a plain store: no lock after the record was read).
    out_boxes: Box<[AtomicBool]>,
    /// `RxState::deferred` holds a message (read without the lock by the sleep re-check).
    has_deferred: AtomicBool,
    /// The last `drain_boxes` left no record in any ring to me and no deferred cell: the
    /// `poll` that follows it in a progress pass need not scan the rings again (it looks
    /// at the queue alone, and clears this). Process-local, Relaxed: a record published
    /// after the drain waits for the next pass, as it would had it come a moment later.
    rings_clear: AtomicBool,
    /// Per sender: where its next record in its ring to me starts (written under `rx`,
    /// read without it by the sleep re-check).
    rx_pos: Box<[AtomicU32]>,
    /// Offsets of my inbound queue's head word and of line 0 of the ring from local rank 0
    /// to me (the others follow at `FBOX_STRIDE`): what the lock-free peek of `poll` loads.
    in_head_off: usize,
    rx_ring_row: usize,
    /// The last `alloc` found no cell: `wait` then also watches my free queue.
    starved: AtomicBool,
    /// This process is registered for process barriers (`futex::process_barrier_registered`)
    /// and said so in its `barrier_word`: its sleeps issue one, and its
    /// notifications of ranks that said the same need no fence (see `doorbell`).
    process_barrier: bool,
    /// The /dev/shm name this process created for the segment, until it is removed.
    name: parking_lot::Mutex<Option<String>>,
}

/// Cells of mine that are not in flight, and those never handed out.
struct Spare {
    /// Cells handed back to me (LIFO: the last one used is still in my cache).
    cells: Vec<u32>,
    /// Per destination: my side of my fast-box ring to it.
    rings: Vec<fastbox::Tx>,
    /// My cells never handed out yet are `fresh..cells_per_rank` (process-local: a zeroed
    /// segment needs no initialisation pass, so no start-up barrier is needed).
    fresh: u32,
}

struct RxState {
    /// A queued cell taken while its sender's fast box held an older message: delivered
    /// right after that message.
    deferred: Option<Received>,
    /// Where the next scan of the fast boxes starts (round robin: no sender starves).
    next_box: usize,
}

/// Marks a cell that was never queued to anyone (`queued_to`).
const NO_DST: u32 = u32::MAX;

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Shm>();
};

impl Links for Shm {
    fn next(&self, token: u32) -> &AtomicU32 {
        let idx = token as usize - 1;
        // A token outside the segment can only come from memory corruption by a peer; stop
        // here rather than touch memory outside the mapping.
        assert!(
            idx < self.lay.ncells(),
            "oximpi shm: corrupt cell token {token}"
        );
        self.word(self.lay.cell(idx) + layout::C_NEXT)
    }
}

impl Drop for Shm {
    fn drop(&mut self) {
        // A creator that never got to unlink (a failed MPI_Init) removes the name now.
        let _ = self.unlink_name();
    }
}

impl Shm {
    /// Map the job's segment from an inherited memfd (created empty by mpiexec). Every local
    /// rank calls this with the same `nlocal`/`cfg`; each grows the fd to the computed size
    /// (idempotent) and maps it. No start-up barrier is needed: zeroed memory is a valid state.
    /// Each local rank attaches exactly once per segment (which of its cells were never used
    /// is remembered in the process, not in the segment).
    /// The fd is marked close-on-exec: programs the rank starts must not inherit the job's
    /// memory (mpiexec clears the flag only for the exec of the rank itself).
    pub fn from_fd(fd: RawFd, nlocal: usize, me: usize, cfg: &ShmConfig) -> io::Result<Shm> {
        // SAFETY: F_GETFD/F_SETFD only read and change the flags of `fd`; a bad fd is EBADF.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let lay = Layout::new(nlocal, cfg)?;
        Shm::attach(Mapping::of_fd(fd, lay.total, true)?, lay, me)
    }

    /// Under a foreign launcher, local rank 0 creates the named object (fails if it exists);
    /// the others [`Shm::open_named`] it after a PMI barrier.
    pub fn create_named(name: &str, nlocal: usize, me: usize, cfg: &ShmConfig) -> io::Result<Shm> {
        let lay = Layout::new(nlocal, cfg)?;
        let fd = mapping::open_named(name, true)?;
        let map = Mapping::of_fd(fd.as_raw_fd(), lay.total, true);
        if map.is_err() {
            let _ = mapping::unlink_named(name);
        }
        Shm::attach(map?, lay, me)
    }

    /// Under a foreign launcher, the node's first rank (`rank`: its rank in the job) creates
    /// the segment under a fresh name and owns that name: it is removed by
    /// [`Shm::unlink_name`] once every local rank has attached, when this `Shm` is dropped
    /// (a failed MPI_Init), or by a fatal signal that arrives before (a handler is armed for
    /// that window). Names left by dead jobs are swept first. The others find the name
    /// ([`Shm::segment_name`], published through PMI) and [`Shm::open_named`] it.
    pub fn create_node_segment(
        rank: u32,
        nlocal: usize,
        me: usize,
        cfg: &ShmConfig,
    ) -> io::Result<Shm> {
        named::sweep_stale(std::path::Path::new(named::SHM_DIR));
        let name = named::fresh_name(rank);
        named::arm(&name);
        let created = Shm::create_named(&name, nlocal, me, cfg);
        match created {
            Ok(shm) => {
                *shm.name.lock() = Some(name);
                Ok(shm)
            }
            Err(e) => {
                // create_named removed the name if it made it; the window is closed.
                named::disarm();
                Err(e)
            }
        }
    }

    /// The /dev/shm name of a segment this process created and has not removed yet.
    pub fn segment_name(&self) -> Option<String> {
        self.name.lock().clone()
    }

    /// Removes the segment's name (every local rank is attached; the memory lives on until
    /// the last one unmaps it). Idempotent; nothing to do for a segment without a name.
    pub fn unlink_name(&self) -> io::Result<()> {
        let Some(name) = self.name.lock().take() else {
            return Ok(());
        };
        named::disarm();
        match mapping::unlink_named(&name) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    pub fn open_named(name: &str, nlocal: usize, me: usize, cfg: &ShmConfig) -> io::Result<Shm> {
        let lay = Layout::new(nlocal, cfg)?;
        let fd = mapping::open_named(name, false)?;
        Shm::attach(Mapping::of_fd(fd.as_raw_fd(), lay.total, false)?, lay, me)
    }

    /// Remove the name once every local rank is attached (the memory lives on until the last
    /// rank unmaps it).
    pub fn unlink_named(name: &str) -> io::Result<()> {
        mapping::unlink_named(name)
    }

    fn attach(map: Mapping, lay: Layout, me: usize) -> io::Result<Shm> {
        if me >= lay.nlocal {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("shm: local rank {me} out of range (nlocal {})", lay.nlocal),
            ));
        }
        debug_assert!(map.len() >= lay.total);
        let shm = Shm {
            map,
            lay,
            me,
            local: TryLock::new(Spare {
                cells: Vec::with_capacity(lay.cells_per_rank),
                rings: vec![fastbox::Tx::default(); if lay.fboxes { lay.nlocal } else { 0 }],
                fresh: 0,
            }),
            in_queue: (0..lay.nlocal).map(|_| AtomicU32::new(0)).collect(),
            queued_to: (0..lay.cells_per_rank)
                .map(|_| AtomicU32::new(NO_DST))
                .collect(),
            rx: TryLock::new(RxState {
                deferred: None,
                next_box: 0,
            }),
            out_boxes: (0..lay.nlocal).map(|_| AtomicBool::new(false)).collect(),
            has_deferred: AtomicBool::new(false),
            rings_clear: AtomicBool::new(false),
            rx_pos: (0..lay.nlocal).map(|_| AtomicU32::new(0)).collect(),
            in_head_off: lay.ctl(me, Ctl::InHead),
            rx_ring_row: if lay.fboxes {
                lay.fbox(0, me) + layout::LINE
            } else {
                0
            },
            starved: AtomicBool::new(false),
            process_barrier: super::futex::process_barrier_registered(),
            name: parking_lot::Mutex::new(None),
        };
        shm.claim_header()?;
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        shm.ctl(me, Ctl::Pid).store(pid as u32, Ordering::Release);
        if shm.process_barrier {
            shm.barrier_word(me).store(1, Ordering::Release);
        }
        Ok(shm)
    }

    /// Record (or check) the segment's geometry: the first rank to get here writes it, the
    /// others must find the same values.
    fn claim_header(&self) -> io::Result<()> {
        let expect32 = [
            (layout::H_NLOCAL, self.lay.nlocal as u32),
            (layout::H_CELLS, self.lay.cells_per_rank as u32),
            (layout::H_PAYLOAD, self.lay.payload as u32),
        ];
        let mismatch = |what: &str, found: u64, want: u64| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("shm: segment {what} is {found}, this rank expects {want}"),
            )
        };
        // SAFETY: H_MAGIC is inside the mapping and 8-aligned (the base is page-aligned).
        let magic = unsafe { &*(self.map.base().add(layout::H_MAGIC) as *const AtomicU64) };
        match magic.compare_exchange(0, layout::MAGIC, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {}
            Err(v) if v == layout::MAGIC => {}
            Err(v) => return Err(mismatch("magic", v, layout::MAGIC)),
        }
        for (off, want) in expect32 {
            match self
                .word(off)
                .compare_exchange(0, want, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {}
                Err(v) if v == want => {}
                Err(v) => return Err(mismatch("geometry word", v as u64, want as u64)),
            }
        }
        Ok(())
    }

    fn word(&self, off: usize) -> &AtomicU32 {
        debug_assert!(off.is_multiple_of(4) && off + 4 <= self.lay.total);
        // SAFETY: every caller passes an offset computed by `Layout` (4-aligned, in bounds of
        // the mapping, which lives as long as `self`). Shared words are only accessed
        // atomically, by every process.
        unsafe { &*(self.map.base().add(off) as *const AtomicU32) }
    }

    fn ctl(&self, rank: usize, w: Ctl) -> &AtomicU32 {
        assert!(
            rank < self.lay.nlocal,
            "oximpi shm: local rank {rank} of {}",
            self.lay.nlocal
        );
        self.word(self.lay.ctl(rank, w))
    }

    fn inbound(&self, rank: usize) -> Mpsc<'_, Shm> {
        Mpsc {
            head: self.ctl(rank, Ctl::InHead),
            tail: self.ctl(rank, Ctl::InTail),
            links: self,
        }
    }

    fn free(&self, rank: usize) -> Mpsc<'_, Shm> {
        Mpsc {
            head: self.ctl(rank, Ctl::FreeHead),
            tail: self.ctl(rank, Ctl::FreeTail),
            links: self,
        }
    }

    fn bell(&self, rank: usize) -> Doorbell<'_> {
        assert!(
            rank < self.lay.nlocal,
            "oximpi shm: local rank {rank} of {}",
            self.lay.nlocal
        );
        self.local_bell(rank)
    }

    /// `bell` for a `rank` the caller checked is a local rank, built inline: the small
    /// sends' straight line rings it for every message, and out of line its call, the rank
    /// assertion and the `Doorbell` returned through memory cost ~20 instructions (issue 13).
    #[inline(always)]
    fn local_bell(&self, rank: usize) -> Doorbell<'_> {
        debug_assert!(rank < self.lay.nlocal);
        Doorbell {
            seq: self.word(self.lay.ctl(rank, Ctl::BellSeq)),
            sleepers: self.word(self.lay.ctl(rank, Ctl::BellSleepers)),
            // (Once set, a rank's word stays set: it reads 0 only before the rank attached,
            // and then the fence is kept.)
            light: self.process_barrier && self.barrier_word(rank).load(Ordering::Relaxed) != 0,
        }
    }

    /// Local rank `rank` issues a process barrier before each sleep's re-check (nonzero): the
    /// second word of its `BellSleepers` line, which a notification reads anyway.
    #[inline]
    fn barrier_word(&self, rank: usize) -> &AtomicU32 {
        self.word(self.lay.ctl(rank, Ctl::BellSleepers) + 4)
    }

    pub fn me(&self) -> usize {
        self.me
    }

    pub fn nlocal(&self) -> usize {
        self.lay.nlocal
    }

    /// Cells I own: at most this many of my sends can be in flight.
    pub fn cells_per_rank(&self) -> usize {
        self.lay.cells_per_rank
    }

    /// Payload bytes a cell can carry.
    pub fn payload_capacity(&self) -> usize {
        self.lay.payload
    }

    /// Process id of local rank `local` (0 until that rank has attached).
    pub fn pid_of(&self, local: usize) -> i32 {
        self.ctl(local, Ctl::Pid).load(Ordering::Acquire) as i32
    }

    /// The fast-box ring local rank `from` fills for `to`.
    fn fbox(&self, from: usize, to: usize) -> fastbox::Ring<'_> {
        let off = self.lay.fbox(from, to);
        fastbox::Ring {
            // SAFETY: `Layout::fbox` gives the offset of a pair block inside the mapping for
            // ranks < nlocal: its control line, then the ring's lines.
            lines: unsafe { self.map.base().add(off + layout::LINE) },
            rpos: self.word(off),
        }
    }

    fn cell_ptr(&self, idx: u32) -> *mut u8 {
        // SAFETY: `idx` comes from a Cell/Received token, always < ncells; the offset is in
        // bounds of the mapping.
        unsafe { self.map.base().add(self.lay.cell(idx as usize)) }
    }
}
