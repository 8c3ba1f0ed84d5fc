//! The receiving side of a rank's attachment: the next message (deferred, fast boxes, then
//! the inbound queue), its header and payload, giving its cell back, and the doorbell.

use super::*;

impl Shm {
    /// Next inbound message, FIFO per sender: the fast-box rings (round robin), then the
    /// queue; a queued cell that found older ring messages of its sender waits (deferred)
    /// until that ring is empty. None when empty, empty-for-now (a sender is mid-enqueue) or
    /// another thread of this process is polling.
    #[inline]
    pub fn poll(&self) -> Option<Received> {
        // Right after a `drain_boxes` that emptied the rings (the progress pass's order:
        // issue 13, an empty pass scanned every ring twice) only the queue is looked at.
        if self.rings_clear.load(Ordering::Relaxed) {
            self.rings_clear.store(false, Ordering::Relaxed);
            if self.word(self.in_head_off).load(Ordering::Relaxed) == 0 {
                return None;
            }
            return self.poll_locked();
        }
        // A spinning waiter polls millions of times: the common empty case costs a few
        // loads, no lock and no call.
        if !self.maybe_inbound() {
            return None;
        }
        self.poll_locked()
    }

    /// `poll` once the peek saw something.
    #[inline(never)]
    fn poll_locked(&self) -> Option<Received> {
        let mut rx = self.rx.try_lock()?;
        if let Some(src) = rx.deferred.as_ref().map(|d| d.src as usize) {
            // Older ring messages of its sender first (none newer can come, see `fastbox`).
            if self.box_out(src) {
                return None;
            }
            if let Some(b) = self.take_box(&mut rx, src) {
                return Some(b);
            }
            self.has_deferred.store(false, Ordering::Relaxed);
            return rx.deferred.take();
        }
        if self.lay.fboxes {
            // This runs on every poll of a spinning waiter: one flag load per sender.
            let n = self.lay.nlocal;
            let mut src = rx.next_box;
            for _ in 0..n {
                if src != self.me && !self.box_out(src) {
                    if let Some(b) = self.take_box(&mut rx, src) {
                        rx.next_box = if src + 1 == n { 0 } else { src + 1 };
                        return Some(b);
                    }
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
                    boxed: None,
                };
                // The dequeue's acquire also shows ring messages the sender published before
                // this cell: they are older and go first (see `fastbox`).
                if self.lay.fboxes && !self.box_out(src) {
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

    /// Hands the records waiting in the fast-box rings to me to `f` (the sender's local
    /// index, the header, the payload), oldest first per sender, at most `max` of them: what
    /// `poll`, `header`, `payload` and `release` do per message, for a run of small messages
    /// under one `rx` lock, with one hand-back of each ring's lines and no `Received` built
    /// (issue 13: a window's 64 messages arrive together). `f` returns false to leave the
    /// record where it is (`poll` hands it out next; that ring is drained no further here).
    /// Returns the records `f` consumed. Takes nothing while a queued cell is deferred (its
    /// sender's older ring records must go out first, through `poll`) or a record of the
    /// ring is handed out (records are released in order).
    pub fn drain_boxes(
        &self,
        max: usize,
        mut f: impl FnMut(usize, &[u8; HDR_BYTES], &[u8]) -> bool,
    ) -> usize {
        if !self.lay.fboxes {
            return 0;
        }
        if !self.maybe_inbound() {
            // Nothing anywhere: the `poll` after this need not look at the rings again.
            self.rings_clear.store(true, Ordering::Relaxed);
            return 0;
        }
        self.rings_clear.store(false, Ordering::Relaxed);
        let Some(rx) = self.rx.try_lock() else {
            return 0;
        };
        if rx.deferred.is_some() {
            return 0;
        }
        let n = self.lay.nlocal;
        let mut done = 0;
        // Every ring was read until it was empty (none left a record `f` refused, none was
        // skipped, `max` did not stop the drain).
        let mut clear = true;
        for src in (0..n).filter(|&s| s != self.me) {
            if done == max {
                clear = false;
                break;
            }
            if self.box_out(src) {
                clear = false;
                continue;
            }
            let ring = self.fbox(src, self.me);
            let start = self.rx_pos[src].load(Ordering::Relaxed);
            let mut pos = start;
            loop {
                if done == max {
                    clear = false;
                    break;
                }
                let Some(rec) = ring.take(pos) else { break };
                // SAFETY: the record was just taken from this ring, which we alone read (we
                // hold `rx`); its lines are handed back below, after `f`'s last use of them.
                let payload = unsafe { ring.payload(rec.pos, rec.off, rec.len) };
                if !f(src, &rec.hdr, payload) {
                    clear = false;
                    break;
                }
                pos = rec.end;
                done += 1;
            }
            if pos != start {
                self.rx_pos[src].store(pos, Ordering::Relaxed);
                ring.release(pos);
            }
        }
        self.rings_clear.store(clear, Ordering::Relaxed);
        drop(rx);
        done
    }

    /// The next record of local rank `src`'s ring to me, handed to `f` (header, payload)
    /// and consumed only if `f` takes it (Some(true)); Some(false): left where it is, the
    /// next one `poll` or `drain_boxes` hands out. None: the ring holds nothing now, or it
    /// may not be read here now (no fast boxes, `src` is me or not a local rank, another
    /// thread is receiving, a record of `src` is handed out, or a queued cell is deferred:
    /// older ring records go out through `poll` first). What a blocking receive from
    /// `src` polls (`Fabric::take_small_from`): one ring, not all (`drain_boxes` walks
    /// every one), and without the lock while the ring is empty.
    #[inline]
    pub fn take_box_from(
        &self,
        src: usize,
        f: impl FnOnce(&[u8; HDR_BYTES], &[u8]) -> bool,
    ) -> Option<bool> {
        if !self.lay.fboxes || src == self.me || src >= self.lay.nlocal {
            return None;
        }
        let ring = self.fbox(src, self.me);
        // The lock-free peek: a spinning receiver looks at this one word until the
        // record lands (`rx_pos` is written by this process only, under `rx`).
        if !ring.has_record(self.rx_pos[src].load(Ordering::Relaxed)) {
            return None;
        }
        let rx = self.rx.try_lock()?;
        if rx.deferred.is_some() || self.box_out(src) {
            return None;
        }
        let rec = ring.take(self.rx_pos[src].load(Ordering::Relaxed))?;
        // SAFETY: the record was just taken from this ring, which we alone read (we hold
        // `rx`); its lines are handed back below, after `f`'s last use of them.
        let payload = unsafe { ring.payload(rec.pos, rec.off, rec.len) };
        if !f(&rec.hdr, payload) {
            return Some(false);
        }
        self.rx_pos[src].store(rec.end, Ordering::Relaxed);
        ring.release(rec.end);
        drop(rx);
        Some(true)
    }

    /// Might `poll` find a message? A lock-free peek, false only when it would find nothing:
    /// no deferred cell, my inbound queue's head empty, and no kind word at the read position
    /// of any ring to me. (Relaxed loads: `poll` repeats the checks with the orderings it
    /// needs; a message published just after the peek is seen by the next poll, and a
    /// waiter re-checks with `has_inbound` before it sleeps. `has_deferred` and `rx_pos` are
    /// written by this process only.)
    #[inline]
    fn maybe_inbound(&self) -> bool {
        if self.has_deferred.load(Ordering::Relaxed)
            || self.word(self.in_head_off).load(Ordering::Relaxed) != 0
        {
            return true;
        }
        if !self.lay.fboxes {
            return false;
        }
        let n = self.lay.nlocal;
        let row = self.rx_ring_row;
        for src in 0..n {
            if src == self.me {
                continue;
            }
            let pos = self.rx_pos[src].load(Ordering::Relaxed);
            let line = row + src * layout::FBOX_STRIDE + fastbox::line_offset(pos);
            if self.word(line).load(Ordering::Relaxed) != 0 {
                return true;
            }
        }
        false
    }

    /// A record of local rank `src`'s ring to me is handed out and not released.
    #[inline]
    fn box_out(&self, src: usize) -> bool {
        self.out_boxes[src].load(Ordering::Acquire)
    }

    /// The next record in local rank `src`'s ring to me, if there is one (marked handed
    /// out until released). The caller holds `rx` (`_rx`: the proof), which makes it the
    /// only reader of the rings to me.
    fn take_box(&self, _rx: &mut RxState, src: usize) -> Option<Received> {
        let pos = self.rx_pos[src].load(Ordering::Relaxed);
        let rec = self.fbox(src, self.me).take(pos)?;
        self.rx_pos[src].store(rec.end, Ordering::Relaxed);
        self.out_boxes[src].store(true, Ordering::Relaxed);
        Some(Received {
            idx: rec.pos,
            src: src as u32,
            len: rec.len,
            boxed: Some(Boxed {
                end: rec.end,
                off: rec.off,
                hdr: rec.hdr,
            }),
        })
    }

    /// A ring to me holds a record (SeqCst: for the sleep re-check, see `Doorbell`).
    fn any_box_full(&self) -> bool {
        self.lay.fboxes
            && (0..self.lay.nlocal).any(|s| {
                s != self.me
                    && self
                        .fbox(s, self.me)
                        .has_record(self.rx_pos[s].load(Ordering::SeqCst))
            })
    }

    /// True when `poll` would find a message now (cheap, read-only).
    pub fn has_inbound(&self) -> bool {
        self.has_deferred.load(Ordering::SeqCst)
            || self.any_box_full()
            || self.inbound(self.me).has_deliverable()
    }

    /// The sender's header bytes of a received message.
    pub fn header<'a>(&'a self, r: &'a Received) -> &'a [u8; HDR_BYTES] {
        if let Some(b) = &r.boxed {
            return &b.hdr;
        }
        // SAFETY: until released, the cell is neither written by its owner nor by anyone else;
        // the borrow of `r` (consumed by `release`) bounds this borrow.
        unsafe { &*(self.cell_ptr(r.idx).add(layout::C_HDR) as *const [u8; HDR_BYTES]) }
    }

    /// The `r.len()` payload bytes of a received message.
    pub fn payload<'a>(&'a self, r: &'a Received) -> &'a [u8] {
        match &r.boxed {
            // SAFETY: taken from this ring and not released (`release` consumes `r`, whose
            // borrow bounds this one).
            Some(b) => unsafe {
                self.fbox(r.src as usize, self.me)
                    .payload(r.idx, b.off, r.len)
            },
            // SAFETY: as in `header`; `len` was clamped to the cell's payload in `poll`.
            None => unsafe {
                std::slice::from_raw_parts(
                    self.cell_ptr(r.idx).add(layout::CELL_META),
                    r.len as usize,
                )
            },
        }
    }

    /// Give a received cell back to its owner, ringing the owner if it sleeps; or hand the
    /// lines of a ring record back (nobody waits for that: a sender finding its ring full
    /// queues a cell).
    pub fn release(&self, r: Received) {
        let owner = r.src as usize;
        if let Some(b) = r.boxed {
            self.fbox(owner, self.me).release(b.end);
            // Release: a poll that sees the flag clear sees the ring released.
            self.out_boxes[owner].store(false, Ordering::Release);
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

#[cfg(test)]
mod tests {
    use super::super::super::ShmConfig;
    use super::*;
    use std::os::fd::AsRawFd;

    /// `take_box_from` reads one sender's ring only: None while it is empty (whatever
    /// another sender's ring holds), Some(false) leaving a record `f` refuses (the next
    /// `poll` hands out that same record first, FIFO kept), Some(true) consuming one it
    /// takes; a record handed out by `poll` and not released blocks it (None).
    #[test]
    fn take_box_from_reads_one_ring_in_order() {
        let fd = crate::transport::fd::memfd_create(c"oximpi-test").unwrap();
        let cfg = ShmConfig {
            cells_per_rank: 4,
            cell_payload: 64,
        };
        let r0 = Shm::from_fd(fd.as_raw_fd(), 3, 0, &cfg).unwrap();
        let r1 = Shm::from_fd(fd.as_raw_fd(), 3, 1, &cfg).unwrap();
        let r2 = Shm::from_fd(fd.as_raw_fd(), 3, 2, &cfg).unwrap();
        let hdr = |seq: u8| {
            let mut h = [0u8; HDR_BYTES];
            h[0] = seq;
            h
        };
        assert!(r2.send_small(0, &hdr(20), &[2; 8]));
        assert_eq!(r0.take_box_from(1, |_, _| panic!("nothing from 1")), None);
        assert_eq!(r0.take_box_from(0, |_, _| panic!("not from myself")), None);
        assert_eq!(r0.take_box_from(3, |_, _| panic!("no rank 3")), None);
        for seq in 1..=3u8 {
            assert!(r1.send_small(0, &hdr(seq), &[seq; 16]));
        }
        // Refused: left at the head.
        let mut seen = 0;
        assert_eq!(
            r0.take_box_from(1, |h, p| {
                seen = h[0];
                assert_eq!(p, &[1u8; 16]);
                false
            }),
            Some(false)
        );
        assert_eq!(seen, 1);
        // Taken: the next offer is the next record.
        assert_eq!(r0.take_box_from(1, |h, _| h[0] == 1), Some(true));
        // `poll` hands out record 2 of rank 1 (the round robin may give rank 2's first).
        let mut out = Vec::new();
        let r = loop {
            let r = r0.poll().expect("delivered");
            if r.src() == 1 {
                break r;
            }
            out.push(r0.header(&r)[0]);
            r0.release(r);
        };
        assert_eq!(r0.header(&r)[0], 2);
        assert_eq!(r0.take_box_from(1, |_, _| panic!("2 is handed out")), None);
        r0.release(r);
        assert_eq!(
            r0.take_box_from(1, |h, p| h[0] == 3 && p == [3u8; 16]),
            Some(true)
        );
        assert_eq!(r0.take_box_from(1, |_, _| panic!("empty")), None);
        while let Some(r) = r0.poll() {
            out.push(r0.header(&r)[0]);
            r0.release(r);
        }
        assert_eq!(out, [20]);
    }
}
