//! The per-rank doorbell: how a blocked rank sleeps without burning a core and how a peer
//! wakes it without a syscall when it is awake.
//!
//! Two words in shared memory: `seq`, a futex word bumped by every ring, and `sleepers`, the
//! number of threads of the owning process inside [`Doorbell::sleep`]. The protocol is the
//! classic Dekker pairing, and it is model-checked under loom (see the tests below):
//!
//! * sleeper: `t = seq` (its *ticket*), `sleepers += 1`, SeqCst fence, re-check the condition
//!   (e.g. "my inbound queue has a deliverable cell"), `futex_wait(seq, t)` unless it holds.
//! * waker after making the condition true: SeqCst fence, if `sleepers > 0`: `seq += 1`,
//!   `futex_wake(seq)`.
//!
//! Either the sleeper's re-check sees the condition, or the waker sees the sleeper and bumps
//! `seq` after the ticket was read, so `futex_wait` returns at once or is woken. A plain
//! [`Doorbell::ring`] bumps `seq` unconditionally (no condition to re-check), so a ring that
//! lands any time after the ticket was taken ends the sleep.

use super::sync::{fence, AtomicU32, Ordering};
use std::time::Duration;

/// The futex operations, abstracted so loom can model them.
pub(crate) trait Futex {
    /// Block while `*word == expected`, at most `timeout` (None: no limit). May return early.
    fn wait(&self, word: &AtomicU32, expected: u32, timeout: Option<Duration>);
    /// Wake every thread blocked on `word`.
    fn wake_all(&self, word: &AtomicU32);
}

pub(crate) struct Doorbell<'a> {
    pub seq: &'a AtomicU32,
    pub sleepers: &'a AtomicU32,
}

impl Doorbell<'_> {
    /// The current ring count; pass it to [`Doorbell::sleep`] to not miss rings after now.
    pub fn ticket(&self) -> u32 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Sleep until `ready()` holds, a ring after `ticket`, or `timeout`. May return early.
    pub fn sleep<F: Futex>(
        &self,
        futex: &F,
        ticket: u32,
        ready: impl FnOnce() -> bool,
        timeout: Option<Duration>,
    ) {
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !ready() {
            futex.wait(self.seq, ticket, timeout);
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Call after making a sleeper's condition true: wakes it if it sleeps. Costs a fence and
    /// a load when nobody sleeps.
    pub fn notify<F: Futex>(&self, futex: &F) {
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            self.seq.fetch_add(1, Ordering::SeqCst);
            futex.wake_all(self.seq);
        }
    }

    /// Unconditional ring: ends any sleep whose ticket predates this call.
    pub fn ring<F: Futex>(&self, futex: &F) {
        self.seq.fetch_add(1, Ordering::SeqCst);
        // Pairs with the sleeper's fence between `sleepers += 1` and its read of `seq`: either
        // it sees our bump or we see it. (SeqCst RMW + load would do in the C++ model; the
        // explicit fence also keeps the loom model, which weakens SeqCst accesses, exact.)
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            futex.wake_all(self.seq);
        }
    }
}

/// Model checks: no lost wake-up. Run with
/// `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release --lib transport::shm`
#[cfg(all(test, loom))]
mod loom_tests {
    use super::super::queue::{Dequeue, Links, Mpsc, NIL};
    use super::*;
    use loom::sync::{Arc, Condvar, Mutex};
    use loom::thread;

    /// A futex modelled by a mutex and condition variable: the value check and the block are
    /// atomic with respect to `wake_all`, as the kernel's are. No timeouts: a lost wake-up
    /// shows up as a loom deadlock.
    #[derive(Default)]
    struct ModelFutex {
        m: Mutex<()>,
        cv: Condvar,
    }
    impl Futex for ModelFutex {
        fn wait(&self, word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
            assert!(timeout.is_none());
            let g = self.m.lock().unwrap();
            if word.load(Ordering::SeqCst) == expected {
                drop(self.cv.wait(g).unwrap());
            }
        }
        fn wake_all(&self, _word: &AtomicU32) {
            let _g = self.m.lock().unwrap();
            self.cv.notify_all();
        }
    }

    struct World {
        head: AtomicU32,
        tail: AtomicU32,
        links: Vec<AtomicU32>,
        seq: AtomicU32,
        sleepers: AtomicU32,
        futex: ModelFutex,
    }
    impl Links for World {
        fn next(&self, t: u32) -> &AtomicU32 {
            &self.links[t as usize]
        }
    }
    impl World {
        fn new(n: usize) -> Arc<Self> {
            Arc::new(World {
                head: AtomicU32::new(NIL),
                tail: AtomicU32::new(NIL),
                links: (0..=n).map(|_| AtomicU32::new(NIL)).collect(),
                seq: AtomicU32::new(0),
                sleepers: AtomicU32::new(0),
                futex: ModelFutex::default(),
            })
        }
        fn q(&self) -> Mpsc<'_, Self> {
            Mpsc {
                head: &self.head,
                tail: &self.tail,
                links: self,
            }
        }
        fn bell(&self) -> Doorbell<'_> {
            Doorbell {
                seq: &self.seq,
                sleepers: &self.sleepers,
            }
        }
    }

    /// Producers enqueue then notify; the consumer polls and otherwise sleeps with no timeout.
    /// Includes the case where the consumer sleeps on a Pending queue (a producer preempted
    /// between its swap and its link store) — that producer's notify must wake it.
    fn producers_wake_sleeping_consumer(producers: usize) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(move || {
            let w = World::new(producers);
            let hs: Vec<_> = (0..producers)
                .map(|p| {
                    let w = w.clone();
                    thread::spawn(move || {
                        w.q().enqueue(p as u32 + 1);
                        w.bell().notify(&w.futex);
                    })
                })
                .collect();
            let mut got = 0;
            while got < producers {
                let t = w.bell().ticket();
                match w.q().dequeue() {
                    Dequeue::Item(_) => got += 1,
                    Dequeue::Empty | Dequeue::Pending => {
                        w.bell()
                            .sleep(&w.futex, t, || w.q().has_deliverable(), None)
                    }
                }
            }
            for h in hs {
                h.join().unwrap();
            }
        });
    }

    #[test]
    fn one_producer_no_lost_wakeup() {
        producers_wake_sleeping_consumer(1);
    }

    #[test]
    fn two_producers_no_lost_wakeup() {
        producers_wake_sleeping_consumer(2);
    }

    /// A plain ring (no queue condition) after the ticket was taken always ends the sleep.
    #[test]
    fn ring_after_ticket_wakes() {
        loom::model(|| {
            let w = World::new(0);
            let flag = Arc::new(AtomicU32::new(0));
            let h = {
                let (w, flag) = (w.clone(), flag.clone());
                thread::spawn(move || {
                    flag.store(1, Ordering::SeqCst);
                    w.bell().ring(&w.futex);
                })
            };
            loop {
                let t = w.bell().ticket();
                if flag.load(Ordering::SeqCst) == 1 {
                    break;
                }
                w.bell().sleep(&w.futex, t, || false, None);
            }
            h.join().unwrap();
        });
    }

    /// Words of one rank in the model: its inbound queue, its free queue, its doorbell.
    #[derive(Default)]
    struct Rank {
        in_head: AtomicU32,
        in_tail: AtomicU32,
        free_head: AtomicU32,
        free_tail: AtomicU32,
        seq: AtomicU32,
        sleepers: AtomicU32,
        futex: ModelFutex,
    }
    struct Node {
        ranks: Vec<Rank>,
        links: Vec<AtomicU32>,
        payload: Vec<AtomicU32>,
    }
    impl Links for Node {
        fn next(&self, t: u32) -> &AtomicU32 {
            &self.links[t as usize]
        }
    }
    impl Node {
        fn inbound(&self, r: usize) -> Mpsc<'_, Self> {
            Mpsc {
                head: &self.ranks[r].in_head,
                tail: &self.ranks[r].in_tail,
                links: self,
            }
        }
        fn free(&self, r: usize) -> Mpsc<'_, Self> {
            Mpsc {
                head: &self.ranks[r].free_head,
                tail: &self.ranks[r].free_tail,
                links: self,
            }
        }
        fn bell(&self, r: usize) -> Doorbell<'_> {
            Doorbell {
                seq: &self.ranks[r].seq,
                sleepers: &self.ranks[r].sleepers,
            }
        }
        /// Dequeue from `q` of rank `r`, sleeping on r's doorbell while nothing is deliverable,
        /// exactly as the real `poll`/`alloc` + `wait` loop does (minus timeouts).
        fn take(&self, r: usize, free: bool) -> u32 {
            loop {
                let q = if free { self.free(r) } else { self.inbound(r) };
                let t = self.bell(r).ticket();
                match q.dequeue() {
                    Dequeue::Item(tok) => return tok,
                    Dequeue::Empty | Dequeue::Pending => {
                        self.bell(r)
                            .sleep(&self.ranks[r].futex, t, || q.has_deliverable(), None)
                    }
                }
            }
        }
    }

    /// The whole cell life cycle between sleeping ranks. Rank 1 owns one cell (token 1) and
    /// sends it twice, so the second send needs the cell back through its free queue; rank 2
    /// sends its cell (token 2) once. Rank 0 receives all three and returns each cell to its
    /// owner. Every wait is a doorbell sleep with no timeout, so any lost wake-up (on the
    /// inbound or the free queue) is a loom deadlock; payloads check publication and FIFO.
    #[test]
    fn cell_round_trips_between_sleeping_ranks() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(|| {
            let n = Arc::new(Node {
                ranks: (0..3).map(|_| Rank::default()).collect(),
                links: (0..3).map(|_| AtomicU32::new(NIL)).collect(),
                payload: (0..3).map(|_| AtomicU32::new(0)).collect(),
            });
            let sender = |rank: usize, rounds: u32| {
                let n = n.clone();
                thread::spawn(move || {
                    let tok = rank as u32;
                    for round in 0..rounds {
                        if round > 0 {
                            assert_eq!(n.take(rank, true), tok);
                        }
                        n.payload[tok as usize].store(10 * tok + round, Ordering::Relaxed);
                        n.inbound(0).enqueue(tok);
                        n.bell(0).notify(&n.ranks[0].futex);
                    }
                })
            };
            let h1 = sender(1, 2);
            let h2 = sender(2, 1);
            let mut next = [0u32; 3];
            for _ in 0..3 {
                let tok = n.take(0, false);
                let p = tok as usize;
                assert_eq!(n.payload[p].load(Ordering::Relaxed), 10 * tok + next[p]);
                next[p] += 1;
                n.free(p).enqueue(tok);
                n.bell(p).notify(&n.ranks[p].futex);
            }
            h1.join().unwrap();
            h2.join().unwrap();
            assert_eq!(next, [0, 2, 1]);
        });
    }
}
