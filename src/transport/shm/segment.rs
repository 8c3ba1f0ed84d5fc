//! `Shm`: one rank's attachment to the node segment, and the cell tokens it hands out.
//!
//! Under a foreign launcher the segment has a name in /dev/shm for the moments between its
//! creation and the attachment of every local rank. No name may outlive the job (issue 15):
//! the creator removes it once all are attached, when its `Shm` is dropped (a failed
//! MPI_Init), and from a fatal-signal handler armed for exactly that window (see
//! [`named`]); a name left by a creator killed with SIGKILL carries the creator's pid and
//! start time, so the next job on the host that finds it removes it.

use super::doorbell::Doorbell;
use super::fastbox;
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

/// A message delivered to me — in a cell, or in the sender's fast box to me — until
/// [`Shm::release`] gives the cell back to its owner or empties the box.
#[derive(Debug)]
pub struct Received {
    idx: u32,
    src: u32,
    len: u32,
    boxed: bool,
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
    local: parking_lot::Mutex<Spare>,
    /// Per destination: my cells queued to it and not yet back in my hands. A fast box is
    /// used only while this is 0 (see `fastbox` for why that keeps FIFO order).
    in_queue: Box<[AtomicU32]>,
    /// Per cell of mine (index from my first cell): the destination it was last queued to.
    queued_to: Box<[AtomicU32]>,
    /// The receiving side's process-local state; `try_lock` only, like `local`.
    rx: parking_lot::Mutex<RxState>,
    /// `RxState::deferred` holds a message (read without the lock by the sleep re-check).
    has_deferred: AtomicBool,
    /// The last `alloc` found no cell: `wait` then also watches my free queue.
    starved: AtomicBool,
    /// The /dev/shm name this process created for the segment, until it is removed.
    name: parking_lot::Mutex<Option<String>>,
}

/// Cells of mine that are not in flight, and those never handed out.
struct Spare {
    /// Cells handed back to me (LIFO: the last one used is still in my cache).
    cells: Vec<u32>,
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
    /// Bit `s`: the box from local rank `s` is handed out and not released yet.
    out_boxes: u64,
}

/// Where a boxed payload of `len` bytes sits in its box.
fn box_payload(len: usize) -> usize {
    if len <= layout::INLINE_BYTES {
        layout::C_INLINE
    } else {
        layout::CELL_META
    }
}

/// Marks a cell that was never queued to anyone (`queued_to`).
const NO_DST: u32 = u32::MAX;

const _: () = assert!(layout::FBOX_MAX_RANKS <= 64, "RxState::out_boxes is a u64");

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
            local: parking_lot::Mutex::new(Spare {
                cells: Vec::with_capacity(lay.cells_per_rank),
                fresh: 0,
            }),
            in_queue: (0..lay.nlocal).map(|_| AtomicU32::new(0)).collect(),
            queued_to: (0..lay.cells_per_rank)
                .map(|_| AtomicU32::new(NO_DST))
                .collect(),
            rx: parking_lot::Mutex::new(RxState {
                deferred: None,
                next_box: 0,
                out_boxes: 0,
            }),
            has_deferred: AtomicBool::new(false),
            starved: AtomicBool::new(false),
            name: parking_lot::Mutex::new(None),
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
        let mut sp = self.local.try_lock()?;
        // Cells back from receivers first: that keeps `in_queue` current, so a sender that
        // streams through the queue stays on it (no alternating with the box) and one that
        // stopped returns to the box after a few sends.
        let idx = self.reclaim_one().or_else(|| sp.cells.pop()).or_else(|| {
            let f = sp.fresh;
            (f < self.lay.cells_per_rank as u32).then(|| {
                sp.fresh = f + 1;
                self.first_cell() + f
            })
        });
        self.starved.store(idx.is_none(), Ordering::SeqCst);
        idx.map(|idx| Cell { idx })
    }

    /// Global index of my first cell.
    fn first_cell(&self) -> u32 {
        (self.me * self.lay.cells_per_rank) as u32
    }

    /// Takes one cell back from my free queue (the caller holds `local`), and forgets where
    /// it had been queued to.
    fn reclaim_one(&self) -> Option<u32> {
        match self.free(self.me).dequeue() {
            Dequeue::Item(tok) => {
                let idx = tok - 1;
                if let Some(q) = self.queued_to.get((idx - self.first_cell()) as usize) {
                    let dst = q.swap(NO_DST, Ordering::Relaxed);
                    if let Some(n) = self.in_queue.get(dst as usize) {
                        n.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                Some(idx)
            }
            Dequeue::Empty | Dequeue::Pending => None,
        }
    }

    /// The full flag of the box local rank `from` fills for `to`.
    fn box_flag(&self, from: usize, to: usize) -> &AtomicU32 {
        self.word(self.lay.fbox(from, to) + layout::C_NEXT)
    }

    fn box_ptr(&self, from: usize, to: usize) -> *mut u8 {
        // SAFETY: `Layout::fbox` gives an offset inside the mapping for ranks < nlocal.
        unsafe { self.map.base().add(self.lay.fbox(from, to)) }
    }

    /// Sends `len` bytes of cell `c` through my fast box to `dst` if that keeps FIFO order
    /// and the box is empty; gives the cell back when it does not.
    fn try_box(&self, dst: usize, c: Cell, len: usize) -> Result<(), Cell> {
        if !self.lay.fboxes || dst == self.me || len > layout::FBOX_PAYLOAD {
            return Err(c);
        }
        let Some(mut sp) = self.local.try_lock() else {
            return Err(c);
        };
        // While a cell queued to `dst` is not back (see `alloc`), a boxed message could
        // overtake it.
        if self.in_queue[dst].load(Ordering::Relaxed) != 0 {
            return Err(c);
        }
        let full = self.box_flag(self.me, dst);
        if !fastbox::is_free(full) {
            return Err(c);
        }
        let cell = self.cell_ptr(c.idx);
        let bx = self.box_ptr(self.me, dst);
        // SAFETY: the cell is ours (we hold its token) and its header and first `len`
        // payload bytes are in bounds (len <= FBOX_PAYLOAD, or <= INLINE_BYTES at C_INLINE, and
        // `send` checked len <= the cell's payload). The box is written only by this process
        // (holding `local`) and only while its flag says empty: its receiver does not read
        // it then (see `fastbox`). Cell and box do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                cell.add(layout::C_HDR),
                bx.add(layout::C_HDR),
                HDR_BYTES,
            );
            std::ptr::copy_nonoverlapping(
                cell.add(layout::CELL_META),
                bx.add(box_payload(len)),
                len,
            );
        }
        self.word(self.lay.fbox(self.me, dst) + layout::C_LEN)
            .store(len as u32, Ordering::Relaxed);
        fastbox::publish(full);
        sp.cells.push(c.idx);
        drop(sp);
        self.bell(dst).notify(&SharedFutex);
        Ok(())
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
        let c = match self.try_box(dst, c, len) {
            Ok(()) => return,
            Err(c) => c,
        };
        if self.lay.fboxes {
            self.in_queue[dst].fetch_add(1, Ordering::Relaxed);
            self.queued_to[(c.idx - self.first_cell()) as usize]
                .store(dst as u32, Ordering::Relaxed);
        }
        self.word(self.lay.cell(c.idx as usize) + layout::C_LEN)
            .store(len as u32, Ordering::Relaxed);
        self.inbound(dst).enqueue(c.idx + 1);
        self.bell(dst).notify(&SharedFutex);
    }

    /// Next inbound message, FIFO per sender: a deferred one, then the fast boxes (round
    /// robin), then the queue. None when empty, empty-for-now (a sender is mid-enqueue) or
    /// another thread of this process is polling.
    pub fn poll(&self) -> Option<Received> {
        let mut rx = self.rx.try_lock()?;
        if let Some(r) = rx.deferred.take() {
            self.has_deferred.store(false, Ordering::Relaxed);
            return Some(r);
        }
        if self.lay.fboxes {
            // This runs on every poll of a spinning waiter: flags only, no iterator chains.
            let n = self.lay.nlocal;
            let row = self.lay.fbox(0, self.me) + layout::C_NEXT;
            let mut src = rx.next_box;
            for _ in 0..n {
                if src != self.me
                    && rx.out_boxes & (1 << src) == 0
                    && fastbox::is_full(self.word(row + src * layout::FBOX_STRIDE))
                {
                    rx.next_box = if src + 1 == n { 0 } else { src + 1 };
                    return self.take_box(&mut rx, src);
                }
                src = if src + 1 == n { 0 } else { src + 1 };
            }
        }
        match self.inbound(self.me).dequeue() {
            Dequeue::Item(tok) => {
                let idx = tok - 1;
                // Relaxed suffices: the dequeue's acquire made the sender's writes visible.
                let len = self
                    .word(self.lay.cell(idx as usize) + layout::C_LEN)
                    .load(Ordering::Relaxed);
                let src = self.lay.owner(idx as usize);
                let r = Received {
                    idx,
                    src: src as u32,
                    len: len.min(self.lay.payload as u32),
                    boxed: false,
                };
                // The dequeue's acquire also shows a box message the sender published before
                // this cell: that one is older and goes first (see `fastbox`).
                if self.lay.fboxes && rx.out_boxes & (1 << src) == 0 {
                    if let Some(b) = self.take_box(&mut rx, src) {
                        rx.deferred = Some(r);
                        self.has_deferred.store(true, Ordering::Relaxed);
                        return Some(b);
                    }
                }
                Some(r)
            }
            Dequeue::Empty | Dequeue::Pending => None,
        }
    }

    /// The message in local rank `src`'s box to me, if there is one (marked handed out).
    fn take_box(&self, rx: &mut RxState, src: usize) -> Option<Received> {
        if !fastbox::is_full(self.box_flag(src, self.me)) {
            return None;
        }
        // Relaxed: the flag's acquire made the sender's writes visible.
        let len = self
            .word(self.lay.fbox(src, self.me) + layout::C_LEN)
            .load(Ordering::Relaxed);
        rx.out_boxes |= 1 << src;
        Some(Received {
            idx: 0,
            src: src as u32,
            len: len.min(layout::FBOX_PAYLOAD as u32),
            boxed: true,
        })
    }

    /// A box to me is full (SeqCst: for the sleep re-check, see `Doorbell`).
    fn any_box_full(&self) -> bool {
        self.lay.fboxes
            && (0..self.lay.nlocal)
                .any(|s| s != self.me && self.box_flag(s, self.me).load(Ordering::SeqCst) != 0)
    }

    /// True when `poll` would find a message now (cheap, read-only).
    pub fn has_inbound(&self) -> bool {
        self.has_deferred.load(Ordering::SeqCst)
            || self.any_box_full()
            || self.inbound(self.me).has_deliverable()
    }

    /// Offset of a received message's payload from `rx_ptr`.
    fn rx_payload(&self, r: &Received) -> usize {
        if r.boxed {
            box_payload(r.len as usize)
        } else {
            layout::CELL_META
        }
    }

    /// Start of a received message's memory (the cell or the box, laid out alike).
    fn rx_ptr(&self, r: &Received) -> *mut u8 {
        if r.boxed {
            self.box_ptr(r.src as usize, self.me)
        } else {
            self.cell_ptr(r.idx)
        }
    }

    /// The sender's header bytes of a received cell.
    pub fn header<'a>(&'a self, r: &'a Received) -> &'a [u8; HDR_BYTES] {
        // SAFETY: until released, the cell is neither written by its owner nor by anyone else;
        // the borrow of `r` (consumed by `release`) bounds this borrow.
        unsafe { &*(self.rx_ptr(r).add(layout::C_HDR) as *const [u8; HDR_BYTES]) }
    }

    /// The `r.len()` payload bytes of a received cell.
    pub fn payload<'a>(&'a self, r: &'a Received) -> &'a [u8] {
        // SAFETY: as in `header` (a box is not rewritten until released either); `len` was
        // clamped to the cell's or the box's payload capacity in `poll`.
        unsafe {
            std::slice::from_raw_parts(self.rx_ptr(r).add(self.rx_payload(r)), r.len as usize)
        }
    }

    /// Give a received cell back to its owner, ringing the owner if it sleeps; or empty the
    /// box it came in (nobody waits for that: a sender finding its box full queues a cell).
    pub fn release(&self, r: Received) {
        let owner = r.src as usize;
        if r.boxed {
            fastbox::clear(self.box_flag(owner, self.me));
            // Only the poller's thread can be in `poll`; a release from another thread
            // waits for it (rare: the engine releases under its lock).
            self.rx.lock().out_boxes &= !(1 << owner);
            return;
        }
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
            self.has_inbound()
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

/// Names of node segments in /dev/shm: how they are made, swept when stale, and removed from
/// a fatal-signal handler.
///
/// A name is `oximpi-<pid>-<start>-<rank>`: the creator's pid and its start time (field 22
/// of /proc/PID/stat, in clock ticks since boot), so a later job can tell a live creator
/// from a dead one whose pid was reused. Older names `oximpi-<pid>-<rank>` are judged by
/// the pid alone.
pub(crate) mod named {
    use std::cell::UnsafeCell;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};

    pub const SHM_DIR: &str = "/dev/shm";
    const PREFIX: &str = "oximpi-";

    /// The start time of process `pid`, `None` if there is no such process.
    fn start_time(pid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
        let rest = &stat[stat.rfind(')')? + 1..];
        rest.split_whitespace().nth(19)?.parse().ok()
    }

    /// A new name for the segment of the job rank `rank` creates.
    pub fn fresh_name(rank: u32) -> String {
        let pid = std::process::id();
        let start = start_time(pid).unwrap_or(0);
        format!("/{PREFIX}{pid}-{start}-{rank}")
    }

    /// True when the segment named `file` (without the slash) was made by a process that
    /// is gone. Names that are not ours are never judged stale.
    pub fn is_stale(file: &str) -> bool {
        let Some(rest) = file.strip_prefix(PREFIX) else {
            return false;
        };
        let parts: Vec<&str> = rest.split('-').collect();
        let nums: Option<Vec<u64>> = parts.iter().map(|p| p.parse().ok()).collect();
        let Some(nums) = nums else { return false };
        let (pid, start) = match nums[..] {
            [pid, start, _rank] => (pid, Some(start)),
            [pid, _rank] => (pid, None),
            _ => return false,
        };
        let Ok(pid) = u32::try_from(pid) else {
            return false;
        };
        match (start_time(pid), start) {
            (None, _) => true,
            (Some(now), Some(then)) => then != 0 && now != then,
            (Some(_), None) => false,
        }
    }

    /// Removes the segments of `dir` whose creator is gone (ours only: the directory is
    /// sticky, so another user's would not go anyway). Returns how many were removed.
    pub fn sweep_stale(dir: &Path) -> usize {
        use std::os::unix::fs::MetadataExt;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        let mut removed = 0;
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if !is_stale(name) || e.metadata().map_or(true, |m| m.uid() != me) {
                continue;
            }
            if std::fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// Signals whose default action ends the process and that a handler can catch.
    const FATAL: [libc::c_int; 9] = [
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGTERM,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGABRT,
        libc::SIGFPE,
        libc::SIGILL,
    ];

    /// What the handler needs, written before it is armed and only read while it is.
    struct Slot {
        /// "/dev/shm/oximpi-...\0"
        path: UnsafeCell<[u8; 128]>,
        old: UnsafeCell<[libc::sigaction; FATAL.len()]>,
    }
    // SAFETY: written only by `arm` while ARMED is false and no handler of ours is
    // installed; read by the handler and `disarm` only after ARMED was set (release/acquire).
    unsafe impl Sync for Slot {}

    static SLOT: Slot = Slot {
        path: UnsafeCell::new([0; 128]),
        // SAFETY: an all-zero sigaction is a valid value (SIG_DFL, empty mask).
        old: UnsafeCell::new(unsafe { std::mem::zeroed() }),
    };
    /// A name is waiting to be removed and our handlers are installed.
    static ARMED: AtomicBool = AtomicBool::new(false);
    /// Serialises arm/disarm (one segment window at a time per process).
    static BUSY: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_fatal(sig: libc::c_int) {
        if ARMED.swap(false, Ordering::AcqRel) {
            // SAFETY: ARMED was set after `path` was written, and nobody writes it while
            // set. unlink(2) is async-signal-safe.
            unsafe { libc::unlink(SLOT.path.get() as *const libc::c_char) };
        }
        // Put back what was there and deliver the signal to it: the program (or the
        // default action) handles it as if we had never been here.
        if let Some(i) = FATAL.iter().position(|&s| s == sig) {
            // SAFETY: `old` was filled by `arm` before any handler was installed and is
            // only read now; sigaction and raise are async-signal-safe. The signal is
            // blocked while we run, so the raise is delivered when we return.
            unsafe {
                let old = &(*SLOT.old.get())[i];
                libc::sigaction(sig, old, std::ptr::null_mut());
                libc::raise(sig);
            }
        }
    }

    /// Installs the handlers that remove `name` if a fatal signal comes before [`disarm`].
    /// Does nothing (the name is still removed on the other paths) if a window is open.
    pub fn arm(name: &str) {
        let path = format!("{SHM_DIR}{name}");
        if path.len() >= 128 || BUSY.swap(true, Ordering::AcqRel) {
            return;
        }
        // SAFETY: BUSY is ours and ARMED is false: no handler of ours reads SLOT now.
        unsafe {
            let buf = &mut *SLOT.path.get();
            buf.fill(0);
            buf[..path.len()].copy_from_slice(path.as_bytes());
        }
        for (i, &sig) in FATAL.iter().enumerate() {
            // SAFETY: we fill a zeroed sigaction with a handler that does only
            // async-signal-safe work; the old action is saved into SLOT, ours alone.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_fatal as *const () as libc::sighandler_t;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                let old = &mut (*SLOT.old.get())[i];
                libc::sigaction(sig, std::ptr::null(), old);
                // A signal the program ignores stays ignored: it cannot end us.
                if old.sa_sigaction == libc::SIG_IGN {
                    continue;
                }
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
        ARMED.store(true, Ordering::Release);
    }

    /// Closes the window: the handlers installed by [`arm`] give the signals back to
    /// whatever had them before (unless the program has changed them since).
    pub fn disarm() {
        if !BUSY.load(Ordering::Acquire) {
            return;
        }
        ARMED.store(false, Ordering::Release);
        for (i, &sig) in FATAL.iter().enumerate() {
            // SAFETY: reading the current action into a local, then restoring the saved one
            // (SLOT.old is stable while BUSY is set).
            unsafe {
                let mut now: libc::sigaction = std::mem::zeroed();
                libc::sigaction(sig, std::ptr::null(), &mut now);
                if now.sa_sigaction == on_fatal as *const () as libc::sighandler_t {
                    libc::sigaction(sig, &(*SLOT.old.get())[i], std::ptr::null_mut());
                }
            }
        }
        BUSY.store(false, Ordering::Release);
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stale_names_are_those_of_dead_creators() {
            let me = std::process::id();
            let start = start_time(me).unwrap();
            assert!(!is_stale(&format!("oximpi-{me}-{start}-0")));
            assert!(is_stale(&format!("oximpi-{me}-{}-0", start + 1)));
            assert!(!is_stale(&format!("oximpi-{me}-0")));
            // pid_max is at most 2^22: this pid cannot exist.
            assert!(is_stale("oximpi-4194305-7-0"));
            assert!(is_stale("oximpi-4194305-0"));
            for other in ["oximpi-x-1-0", "mpich-1-2", "oximpi-1-2-3-4", "oximpi-"] {
                assert!(!is_stale(other), "{other}");
            }
            let fresh = fresh_name(3);
            assert!(!is_stale(&fresh[1..]), "{fresh}");
        }

        #[test]
        fn the_creator_removes_its_name_on_every_path() {
            use crate::transport::shm::{Shm, ShmConfig};
            let cfg = ShmConfig {
                cells_per_rank: 2,
                cell_payload: 16,
            };
            let exists = |n: &str| Path::new(&format!("{SHM_DIR}{n}")).exists();
            // Dropped before the peers attached (a failed MPI_Init): the name goes.
            let a = Shm::create_node_segment(7, 2, 0, &cfg).unwrap();
            let name = a.segment_name().unwrap();
            assert!(exists(&name));
            drop(a);
            assert!(!exists(&name));
            // The normal path: peers open it, the creator unlinks it, twice is harmless.
            let a = Shm::create_node_segment(8, 2, 0, &cfg).unwrap();
            let name = a.segment_name().unwrap();
            let _b = Shm::open_named(&name, 2, 1, &cfg).unwrap();
            a.unlink_name().unwrap();
            a.unlink_name().unwrap();
            assert!(!exists(&name) && a.segment_name().is_none());
            // The handlers were given back: SIGTERM's action is what it was (default here).
            let mut now: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY (test): reads the current action into a local.
            unsafe { libc::sigaction(libc::SIGTERM, std::ptr::null(), &mut now) };
            assert_ne!(
                now.sa_sigaction,
                on_fatal as *const () as libc::sighandler_t
            );
        }

        #[test]
        fn sweep_removes_only_stale_files() {
            let dir = std::env::temp_dir().join(format!("oximpi-sweep-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let live = &fresh_name(0)[1..];
            for f in ["oximpi-4194305-7-0", live, "unrelated"] {
                std::fs::write(dir.join(f), b"").unwrap();
            }
            assert_eq!(sweep_stale(&dir), 1);
            assert!(dir.join(live).exists() && dir.join("unrelated").exists());
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
