//! `Shm`: one rank's attachment to the node segment, and the cell tokens it hands out.

use super::doorbell::Doorbell;
use super::futex::SharedFutex;
use super::layout::{self, Ctl, Layout};
use super::mapping::{self, Mapping};
use super::queue::{Dequeue, Links, Mpsc};
use super::{ShmConfig, HDR_BYTES};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// A cell of mine, allocated and not yet sent: a token (global cell index), not a reference,
/// so the engine can keep it across calls. Not Clone: exactly one owner.
#[derive(Debug)]
pub struct Cell {
    idx: u32,
}

/// A cell delivered to me, until [`Shm::release`] gives it back to its owner.
#[derive(Debug)]
pub struct Received {
    idx: u32,
    src: u32,
    len: u32,
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
    /// My cells never handed out yet are `fresh..cells_per_rank` (process-local: a zeroed
    /// segment needs no initialisation pass, so no start-up barrier is needed).
    fresh: AtomicU32,
    polling: AtomicBool,
    allocating: AtomicBool,
    /// The last `alloc` found no cell: `wait` then also watches my free queue.
    starved: AtomicBool,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Shm>();
};

/// Holds a per-process consumer flag for the duration of a dequeue.
struct TryGuard<'a>(&'a AtomicBool);
impl<'a> TryGuard<'a> {
    fn take(flag: &'a AtomicBool) -> Option<Self> {
        flag.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| TryGuard(flag))
    }
}
impl Drop for TryGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

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

impl Shm {
    /// Map the job's segment from an inherited memfd (created empty by mpiexec). Every local
    /// rank calls this with the same `nlocal`/`cfg`; each grows the fd to the computed size
    /// (idempotent) and maps it. No start-up barrier is needed: zeroed memory is a valid state.
    /// Each local rank attaches exactly once per segment (which of its cells were never used
    /// is remembered in the process, not in the segment).
    pub fn from_fd(fd: RawFd, nlocal: usize, me: usize, cfg: &ShmConfig) -> io::Result<Shm> {
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
            fresh: AtomicU32::new(0),
            polling: AtomicBool::new(false),
            allocating: AtomicBool::new(false),
            starved: AtomicBool::new(false),
        };
        shm.claim_header()?;
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        shm.ctl(me, Ctl::Pid).store(pid as u32, Ordering::Release);
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
        Doorbell {
            seq: self.ctl(rank, Ctl::BellSeq),
            sleepers: self.ctl(rank, Ctl::BellSleepers),
        }
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

    /// A free cell of mine, or None when all are in flight (or another thread of this process
    /// is allocating right now): progress and retry, or `wait`.
    pub fn alloc(&self) -> Option<Cell> {
        let _g = TryGuard::take(&self.allocating)?;
        let idx = match self.free(self.me).dequeue() {
            Dequeue::Item(tok) => Some(tok - 1),
            Dequeue::Empty | Dequeue::Pending => {
                let f = self.fresh.load(Ordering::Relaxed);
                (f < self.lay.cells_per_rank as u32).then(|| {
                    self.fresh.store(f + 1, Ordering::Relaxed);
                    (self.me * self.lay.cells_per_rank) as u32 + f
                })
            }
        };
        self.starved.store(idx.is_none(), Ordering::SeqCst);
        idx.map(|idx| Cell { idx })
    }

    /// Return a cell that will not be sent after all.
    pub fn free_unsent(&self, c: Cell) {
        self.free(self.me).enqueue(c.idx + 1);
    }

    fn cell_ptr(&self, idx: u32) -> *mut u8 {
        // SAFETY: `idx` comes from a Cell/Received token, always < ncells; the offset is in
        // bounds of the mapping.
        unsafe { self.map.base().add(self.lay.cell(idx as usize)) }
    }

    /// The 48 header bytes of a cell I hold.
    pub fn header_mut<'a>(&'a self, c: &'a mut Cell) -> &'a mut [u8; HDR_BYTES] {
        // SAFETY: the cell is exclusively ours while we hold its unique `Cell` token (it is in
        // no queue); the borrow of the token bounds the borrow of its memory.
        unsafe { &mut *(self.cell_ptr(c.idx).add(layout::C_HDR) as *mut [u8; HDR_BYTES]) }
    }

    /// The whole payload area (`payload_capacity()` bytes) of a cell I hold.
    pub fn payload_mut<'a>(&'a self, c: &'a mut Cell) -> &'a mut [u8] {
        self.parts_mut(c).1
    }

    /// Header and payload of a cell I hold, both writable at once.
    pub fn parts_mut<'a>(&'a self, c: &'a mut Cell) -> (&'a mut [u8; HDR_BYTES], &'a mut [u8]) {
        let p = self.cell_ptr(c.idx);
        // SAFETY: as in `header_mut`; the header (bytes 16..64) and payload (64..64+capacity)
        // regions of the cell do not overlap.
        unsafe {
            (
                &mut *(p.add(layout::C_HDR) as *mut [u8; HDR_BYTES]),
                std::slice::from_raw_parts_mut(p.add(layout::CELL_META), self.lay.payload),
            )
        }
    }

    /// Enqueue `c` on local rank `dst`'s inbound queue carrying `len` payload bytes, and ring
    /// `dst` if it sleeps. FIFO per (sender, receiver).
    pub fn send(&self, dst: usize, c: Cell, len: usize) {
        assert!(
            dst < self.lay.nlocal,
            "oximpi shm: send to local rank {dst} of {}",
            self.lay.nlocal
        );
        assert!(
            len <= self.lay.payload,
            "oximpi shm: {len} bytes exceed the cell payload"
        );
        self.word(self.lay.cell(c.idx as usize) + layout::C_LEN)
            .store(len as u32, Ordering::Relaxed);
        self.inbound(dst).enqueue(c.idx + 1);
        self.bell(dst).notify(&SharedFutex);
    }

    /// Next inbound cell, FIFO per sender; None when empty, empty-for-now (a sender is
    /// mid-enqueue) or another thread of this process is polling.
    pub fn poll(&self) -> Option<Received> {
        let _g = TryGuard::take(&self.polling)?;
        match self.inbound(self.me).dequeue() {
            Dequeue::Item(tok) => {
                let idx = tok - 1;
                // Relaxed suffices: the dequeue's acquire made the sender's writes visible.
                let len = self
                    .word(self.lay.cell(idx as usize) + layout::C_LEN)
                    .load(Ordering::Relaxed);
                Some(Received {
                    idx,
                    src: self.lay.owner(idx as usize) as u32,
                    len: len.min(self.lay.payload as u32),
                })
            }
            Dequeue::Empty | Dequeue::Pending => None,
        }
    }

    /// True when `poll` would find a cell now (cheap, read-only).
    pub fn has_inbound(&self) -> bool {
        self.inbound(self.me).has_deliverable()
    }

    /// The sender's header bytes of a received cell.
    pub fn header<'a>(&'a self, r: &'a Received) -> &'a [u8; HDR_BYTES] {
        // SAFETY: until released, the cell is neither written by its owner nor by anyone else;
        // the borrow of `r` (consumed by `release`) bounds this borrow.
        unsafe { &*(self.cell_ptr(r.idx).add(layout::C_HDR) as *const [u8; HDR_BYTES]) }
    }

    /// The `r.len()` payload bytes of a received cell.
    pub fn payload<'a>(&'a self, r: &'a Received) -> &'a [u8] {
        // SAFETY: as in `header`; `len` was clamped to the payload capacity in `poll`.
        unsafe {
            std::slice::from_raw_parts(self.cell_ptr(r.idx).add(layout::CELL_META), r.len as usize)
        }
    }

    /// Give a received cell back to its owner, ringing the owner if it sleeps.
    pub fn release(&self, r: Received) {
        let owner = r.src as usize;
        self.free(owner).enqueue(r.idx + 1);
        self.bell(owner).notify(&SharedFutex);
    }

    /// My doorbell's ring count now. `wait_since(ticket, ..)` ends on any ring after this call;
    /// take the ticket *before* checking the conditions you are about to sleep on.
    pub fn doorbell_ticket(&self) -> u32 {
        self.bell(self.me).ticket()
    }

    /// Sleep until my inbound queue has a deliverable cell, a cell comes back after `alloc`
    /// found none, I am rung, or `timeout` passes. May return early (signals); callers loop.
    pub fn wait(&self, timeout: Duration) {
        self.wait_since(self.doorbell_ticket(), timeout)
    }

    /// `wait`, also ending on any ring since `ticket` was taken.
    pub fn wait_since(&self, ticket: u32, timeout: Duration) {
        let ready = || {
            self.inbound(self.me).has_deliverable()
                || (self.starved.load(Ordering::SeqCst) && self.free(self.me).has_deliverable())
        };
        self.bell(self.me)
            .sleep(&SharedFutex, ticket, ready, Some(timeout));
    }

    /// Wake local rank `dst` if it sleeps (also how a thread wakes its own process).
    pub fn ring(&self, dst: usize) {
        assert!(
            dst < self.lay.nlocal,
            "oximpi shm: ring of local rank {dst} of {}",
            self.lay.nlocal
        );
        self.bell(dst).ring(&SharedFutex);
    }
}
