//! The sending side of a rank's attachment: taking one of my cells, filling it, and handing
//! it to the receiver through our fast box or its inbound queue.

use super::*;
use crate::transport::fabric::ShortHeader;

/// The largest payload `send_small` takes (see `fabric::SMALL_SEND_MAX`).
pub(crate) const SMALL_MAX: usize = crate::transport::fabric::SMALL_SEND_MAX;
// `push_box` hands the payload to the ring as it is: it must fit one record.
const _: () = assert!(SMALL_MAX <= fastbox::MAX_PAYLOAD);

impl Shm {
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
        // (Stored only on a change: a SeqCst store is a full barrier, and the sleep re-check
        // only needs the value to be current.)
        if self.starved.load(Ordering::Relaxed) != idx.is_none() {
            self.starved.store(idx.is_none(), Ordering::SeqCst);
        }
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

    /// Sends `len` bytes of cell `c` through my fast-box ring to `dst` if that keeps FIFO
    /// order and the ring has room; gives the cell back when it does not.
    fn try_box(&self, dst: usize, c: Cell, len: usize) -> Result<(), Cell> {
        if !self.lay.fboxes || dst == self.me || len > fastbox::MAX_PAYLOAD {
            return Err(c);
        }
        let Some(mut sp) = self.local.try_lock() else {
            return Err(c);
        };
        let cell = self.cell_ptr(c.idx);
        // SAFETY: the cell is ours (we hold its token): its header and its first `len`
        // payload bytes (`send` checked len <= the cell's payload) are ours to read.
        let (hdr, payload) = unsafe {
            (
                &*(cell.add(layout::C_HDR) as *const [u8; HDR_BYTES]),
                std::slice::from_raw_parts(cell.add(layout::CELL_META), len),
            )
        };
        if !self.push_box(&mut sp, dst, hdr, payload) {
            return Err(c);
        }
        sp.cells.push(c.idx);
        drop(sp);
        self.bell(dst).notify(&SharedFutex);
        Ok(())
    }

    /// Sends a small message — `hdr` and `payload` straight from the caller's memory —
    /// through my fast-box ring to `dst`, with no cell: no allocation, no staging copy
    /// (issue 13). False (nothing sent) when the ring cannot take it now: `dst` is me or
    /// not local, the payload is over `SMALL_MAX`, another thread of this
    /// process is sending, a cell of mine queued to `dst` is still out (FIFO), or the ring
    /// is full; the caller then sends a cell. (Inlined into `Net::send_small`: one call
    /// fewer per message.)
    #[inline]
    pub fn send_small(&self, dst: usize, hdr: &[u8; HDR_BYTES], payload: &[u8]) -> bool {
        self.send_small_by(
            dst,
            payload.len(),
            #[inline(always)]
            |sp| self.push_box(sp, dst, hdr, payload),
        )
    }

    /// `send_small` of a message whose header comes in its short form (`h`, see
    /// `fabric::ShortHeader`): the record is written from the envelope's parts (one line up
    /// to 32 bytes, `fastbox::Ring::push_short`), with no 48-byte header built on the way.
    /// The same checks, order and answer as `send_small`.
    #[inline(always)]
    pub fn send_small_short(&self, dst: usize, h: &ShortHeader, payload: &[u8]) -> bool {
        self.send_small_by(
            dst,
            payload.len(),
            #[inline(always)]
            |sp| {
                if !self.fifo_allows_box(dst) {
                    return false;
                }
                // SAFETY: as in `push_box`: we hold `local` (`sp`), and only this process
                // writes rings from `self.me`; the ring lies in the mapping.
                unsafe {
                    self.fbox(self.me, dst)
                        .push_short(&mut sp.rings[dst], &h.head, h.sreq, payload)
                }
            },
        )
    }

    /// What both small sends share: the checks that send a message of `len` bytes to `dst`
    /// elsewhere, `local` taken for `push` (which writes the record, false when FIFO order
    /// or a full ring forbids it), and the receiver's doorbell once it is written.
    #[inline(always)]
    fn send_small_by(&self, dst: usize, len: usize, push: impl FnOnce(&mut Spare) -> bool) -> bool {
        if !self.lay.fboxes || dst == self.me || dst >= self.lay.nlocal || len > SMALL_MAX {
            return false;
        }
        let Some(mut sp) = self.local.try_lock() else {
            return false;
        };
        if !push(&mut sp) {
            return false;
        }
        drop(sp);
        self.local_bell(dst).notify(&SharedFutex);
        true
    }

    /// Whether a ring message to `dst` keeps FIFO order: not while a cell queued to `dst` is
    /// not back (see `alloc`), which it could overtake. (Cells come back through `alloc`,
    /// one per call: a sender streaming through the queue stays on it. Taking them all back
    /// here made a window of 512 B - 1 KiB messages alternate between ring and queue, at a
    /// third of the bandwidth.)
    #[inline(always)]
    fn fifo_allows_box(&self, dst: usize) -> bool {
        self.in_queue[dst].load(Ordering::Relaxed) == 0
    }

    /// Writes a record into my ring to `dst` (the caller holds `local`, as `sp`); false
    /// when FIFO order forbids it or the ring is full.
    #[inline]
    fn push_box(&self, sp: &mut Spare, dst: usize, hdr: &[u8; HDR_BYTES], payload: &[u8]) -> bool {
        if !self.fifo_allows_box(dst) {
            return false;
        }
        // SAFETY: this process writes its rings only holding `local` (held by the caller),
        // and only this process writes rings from `self.me`; the ring lies in the mapping.
        unsafe {
            self.fbox(self.me, dst)
                .push_small(&mut sp.rings[dst], hdr, payload)
        }
    }

    /// Return a cell that will not be sent after all.
    pub fn free_unsent(&self, c: Cell) {
        self.free(self.me).enqueue(c.idx + 1);
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
}
