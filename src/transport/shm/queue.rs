//! The intrusive multi-producer / single-consumer queue (Nemesis style) that carries cells.
//!
//! Elements are *tokens* (`1..`), not pointers, because the segment is mapped at different
//! addresses in different processes. Token 0 ([`NIL`]) means "none", so a zero-filled
//! segment is a set of empty queues. Every element owns one link word (its `next`), found
//! through [`Links`].
//!
//! Producers: `prev = tail.swap(e)`, then link `e` behind `prev` (or publish it as `head` if
//! the queue was empty). Between the swap and the link store a producer may be preempted —
//! common with more ranks than cores. The consumer never waits for it: if the head element
//! has no successor yet but is no longer the tail, the head stays where it is and `dequeue`
//! reports [`Dequeue::Pending`] ("empty for now"); the element is delivered by a later call
//! once its link is written. The head element is never handed out before its link is known,
//! so a producer can never write into a cell that has already been recycled.
//!
//! FIFO per producer holds: a producer's enqueues are ordered by its tail swaps, and the list
//! order is the swap order.

use super::sync::{AtomicU32, Ordering};

/// The "no element" token.
pub(crate) const NIL: u32 = 0;

/// Where each element's link word lives.
pub(crate) trait Links {
    /// The link word of element `token` (`token != NIL`).
    fn next(&self, token: u32) -> &AtomicU32;
}

/// Outcome of [`Mpsc::dequeue`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Dequeue {
    Item(u32),
    /// Nothing enqueued.
    Empty,
    /// An element is at the head but a producer that enqueued after it has not yet written
    /// its link: try again later (the producer's doorbell check follows its link store).
    Pending,
}

/// A queue: its two words (kept on separate cache lines by the segment layout) and the links.
pub(crate) struct Mpsc<'a, L: Links> {
    /// Consumer's end. Written by the consumer, and by a producer that finds the queue empty.
    pub head: &'a AtomicU32,
    /// Producers' end, the last element or NIL.
    pub tail: &'a AtomicU32,
    pub links: &'a L,
}

impl<L: Links> Mpsc<'_, L> {
    /// Append `token`. Any number of producers may call this concurrently. The caller must own
    /// the element (it is in no queue). Writes made to the element before this call are
    /// visible to the consumer that dequeues it (release/acquire on the link or head word).
    pub fn enqueue(&self, token: u32) {
        debug_assert_ne!(token, NIL);
        self.links.next(token).store(NIL, Ordering::Relaxed);
        // AcqRel: acquire orders our link store after the consumer's reset of `head` when it
        // emptied the queue; release publishes our NIL link before anyone can follow `prev`.
        let prev = self.tail.swap(token, Ordering::AcqRel);
        if prev == NIL {
            self.head.store(token, Ordering::Release);
        } else {
            self.links.next(prev).store(token, Ordering::Release);
        }
    }

    /// Take the oldest element. Only one consumer at a time (the caller guarantees it).
    pub fn dequeue(&self) -> Dequeue {
        let first = self.head.load(Ordering::Acquire);
        if first == NIL {
            // A producer may be between its swap and its head store: that is empty-for-now,
            // and its doorbell check comes after the store.
            return Dequeue::Empty;
        }
        let next = self.links.next(first).load(Ordering::Acquire);
        if next != NIL {
            self.head.store(next, Ordering::Relaxed);
            return Dequeue::Item(first);
        }
        // `first` looks like the last element. Clear head *before* releasing the tail: once
        // the tail is NIL a producer may publish a new head, which we must not overwrite.
        self.head.store(NIL, Ordering::Relaxed);
        match self
            .tail
            .compare_exchange(first, NIL, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Dequeue::Item(first),
            Err(_) => {
                // A producer swapped the tail after `first` and owes `first` its link. No
                // producer writes `head` while the tail is non-NIL, so restoring it is safe.
                let next = self.links.next(first).load(Ordering::Acquire);
                if next != NIL {
                    self.head.store(next, Ordering::Relaxed);
                    Dequeue::Item(first)
                } else {
                    self.head.store(first, Ordering::Relaxed);
                    Dequeue::Pending
                }
            }
        }
    }

    /// Would `dequeue` return an item right now? Read-only, callable from any thread; used by
    /// the sleep protocol's re-check, so the loads are SeqCst (they pair with the producers'
    /// fence before their doorbell check).
    pub fn has_deliverable(&self) -> bool {
        let first = self.head.load(Ordering::SeqCst);
        if first == NIL {
            return false;
        }
        self.links.next(first).load(Ordering::SeqCst) != NIL
            || self.tail.load(Ordering::SeqCst) == first
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    struct VecLinks(Vec<AtomicU32>);
    impl Links for VecLinks {
        fn next(&self, token: u32) -> &AtomicU32 {
            &self.0[token as usize]
        }
    }

    fn fresh(n: usize) -> (AtomicU32, AtomicU32, VecLinks) {
        let links = VecLinks((0..=n).map(|_| AtomicU32::new(NIL)).collect());
        (AtomicU32::new(NIL), AtomicU32::new(NIL), links)
    }

    #[test]
    fn fifo_single_thread() {
        let (h, t, l) = fresh(8);
        let q = Mpsc {
            head: &h,
            tail: &t,
            links: &l,
        };
        assert_eq!(q.dequeue(), Dequeue::Empty);
        for i in 1..=8 {
            q.enqueue(i);
        }
        for i in 1..=8 {
            assert!(q.has_deliverable());
            assert_eq!(q.dequeue(), Dequeue::Item(i));
        }
        assert_eq!(q.dequeue(), Dequeue::Empty);
        assert!(!q.has_deliverable());
        // Reuse after draining.
        q.enqueue(3);
        assert_eq!(q.dequeue(), Dequeue::Item(3));
    }

    /// Reproduce the preempted-producer state by hand: tail swapped, link not yet written.
    #[test]
    fn pending_link_is_reported_not_waited_for() {
        let (h, t, l) = fresh(4);
        let q = Mpsc {
            head: &h,
            tail: &t,
            links: &l,
        };
        q.enqueue(1);
        // Producer of element 2 did its swap, then was "preempted".
        l.next(2).store(NIL, Ordering::Relaxed);
        let prev = t.swap(2, Ordering::AcqRel);
        assert_eq!(prev, 1);
        assert!(!q.has_deliverable());
        assert_eq!(q.dequeue(), Dequeue::Pending);
        assert_eq!(q.dequeue(), Dequeue::Pending);
        // A third producer completes fully behind the stalled one.
        q.enqueue(3);
        assert_eq!(q.dequeue(), Dequeue::Pending);
        // The stalled producer resumes.
        l.next(1).store(2, Ordering::Release);
        assert_eq!(q.dequeue(), Dequeue::Item(1));
        assert_eq!(q.dequeue(), Dequeue::Item(2));
        assert_eq!(q.dequeue(), Dequeue::Item(3));
        assert_eq!(q.dequeue(), Dequeue::Empty);
    }
}

/// Model checks. Run with:
/// `scripts/loom.sh` (the crate loom/ builds this file under `--cfg loom`)
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    struct Shared {
        head: AtomicU32,
        tail: AtomicU32,
        links: Vec<AtomicU32>,
        payload: Vec<AtomicU32>,
    }
    impl Links for Shared {
        fn next(&self, token: u32) -> &AtomicU32 {
            &self.links[token as usize]
        }
    }
    impl Shared {
        fn new(tokens: usize) -> Arc<Self> {
            Arc::new(Shared {
                head: AtomicU32::new(NIL),
                tail: AtomicU32::new(NIL),
                links: (0..=tokens).map(|_| AtomicU32::new(NIL)).collect(),
                payload: (0..=tokens).map(|_| AtomicU32::new(0)).collect(),
            })
        }
        fn inbound(&self) -> Mpsc<'_, Self> {
            Mpsc {
                head: &self.head,
                tail: &self.tail,
                links: self,
            }
        }
    }

    /// `producers` threads each enqueue `per` distinct tokens (payload = sequence number);
    /// the consumer must see each token exactly once, in order per producer, with the payload
    /// the producer wrote (the queue publishes cell contents).
    fn run(producers: usize, per: usize, bound: usize) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(bound);
        b.check(move || {
            let s = Shared::new(producers * per);
            let mut hs = Vec::new();
            for p in 0..producers {
                let s = s.clone();
                hs.push(thread::spawn(move || {
                    for k in 0..per {
                        let tok = (p * per + k + 1) as u32;
                        s.payload[tok as usize].store(k as u32 + 100, Ordering::Relaxed);
                        s.inbound().enqueue(tok);
                    }
                }));
            }
            let mut seen = vec![0usize; producers];
            let mut got = 0;
            while got < producers * per {
                match s.inbound().dequeue() {
                    Dequeue::Item(tok) => {
                        let p = (tok as usize - 1) / per;
                        let k = (tok as usize - 1) % per;
                        assert_eq!(k, seen[p], "FIFO broken for producer {p}");
                        assert_eq!(
                            s.payload[tok as usize].load(Ordering::Relaxed),
                            k as u32 + 100
                        );
                        seen[p] += 1;
                        got += 1;
                    }
                    Dequeue::Empty | Dequeue::Pending => thread::yield_now(),
                }
            }
            assert_eq!(s.inbound().dequeue(), Dequeue::Empty);
            for h in hs {
                h.join().unwrap();
            }
            assert_eq!(s.inbound().dequeue(), Dequeue::Empty);
        });
    }

    #[test]
    fn two_producers_two_each() {
        run(2, 2, 3);
    }

    #[test]
    fn three_producers_one_each() {
        run(3, 1, 3);
    }

    #[test]
    fn three_producers_two_each() {
        run(3, 2, 2);
    }
}
