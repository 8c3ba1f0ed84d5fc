//! The receiving side of a rank's attachment: the next message (deferred, fast boxes, then
//! the inbound queue), its header and payload, giving its cell back, and the doorbell.

use super::*;

impl Shm {
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
