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
//!
//! The waker's fence comes right after it wrote a message into shared memory, on every send:
//! it waits until that cache line has moved to the receiver's core. Where the kernel allows
//! it (`light`), the pairing is made asymmetric instead: the waker only keeps the compiler
//! from reordering, and the sleeper — the slow path, after a spin — issues
//! `membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)`, which runs a full barrier on every CPU that
//! runs a registered process at that moment (the others passed one when they were switched
//! out). A waker whose load of `sleepers` came before that barrier had its message store
//! made visible by it, so the sleeper's re-check sees the message. This is the asymmetric
//! fence of liburcu's `sys_membarrier` flavour (Desnoyers et al., "User-Level
//! Implementations of Read-Copy Update", IEEE TPDS 2012) and of Folly's
//! `asymmetricHeavyBarrier`.
//!
//! Loom cannot model an interprocessor interrupt, so under `--cfg loom` the light waker
//! keeps a real SeqCst fence and the model futex's process barrier is another one: that is
//! exactly what membarrier guarantees the pair acts as (membarrier(2): every running thread
//! of a registered process passes "through a state where all memory accesses to user-space
//! addresses match program order" during the call, which turns the waker's compiler barrier
//! into a full fence against the sleeper's; the man page's own example is this pairing). The
//! tests run the light pairing (the code path with the extra barrier in `sleep`) beside the
//! symmetric one.

use super::sync::{fence, AtomicU32, Ordering};
use std::time::Duration;

/// The futex operations, abstracted so loom can model them.
pub(crate) trait Futex {
    /// A full barrier on every running thread of every process registered for it (see the
    /// module doc); only called on a `light` doorbell.
    fn process_barrier(&self) {}
    /// Block while `*word == expected`, at most `timeout` (None: no limit). May return early.
    fn wait(&self, word: &AtomicU32, expected: u32, timeout: Option<Duration>);
    /// Wake every thread blocked on `word`.
    fn wake_all(&self, word: &AtomicU32);
}

pub(crate) struct Doorbell<'a> {
    pub seq: &'a AtomicU32,
    pub sleepers: &'a AtomicU32,
    /// The asymmetric pairing (module doc): for `notify`, the owner's sleep issues a process
    /// barrier that reaches this process, so no fence is needed here; for `sleep`, this
    /// process promised that barrier.
    pub light: bool,
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
        if self.light {
            futex.process_barrier();
        }
        if !ready() {
            futex.wait(self.seq, ticket, timeout);
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Call after making a sleeper's condition true: wakes it if it sleeps. Costs a fence (none
    /// when `light`) and a load when nobody sleeps.
    #[inline]
    pub fn notify<F: Futex>(&self, futex: &F) {
        if self.light {
            light_fence();
        } else {
            fence(Ordering::SeqCst);
        }
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

/// The waker's half of the asymmetric pairing (module doc): only the order of this thread's
/// own accesses, the sleeper's process barrier does the rest. Under loom, the full fence it
/// stands for.
#[inline(always)]
fn light_fence() {
    #[cfg(not(loom))]
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
    #[cfg(loom)]
    fence(Ordering::SeqCst);
}

/// Model checks: no lost wake-up. Run with
/// `scripts/loom.sh` (the crate loom/ builds this file under `--cfg loom`)
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
        /// What membarrier guarantees the pairing acts as (module doc).
        fn process_barrier(&self) {
            fence(Ordering::SeqCst);
        }
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
        light: bool,
    }
    impl Links for World {
        fn next(&self, t: u32) -> &AtomicU32 {
            &self.links[t as usize]
        }
    }
    impl World {
        fn new(n: usize, light: bool) -> Arc<Self> {
            Arc::new(World {
                head: AtomicU32::new(NIL),
                tail: AtomicU32::new(NIL),
                links: (0..=n).map(|_| AtomicU32::new(NIL)).collect(),
                seq: AtomicU32::new(0),
                sleepers: AtomicU32::new(0),
                futex: ModelFutex::default(),
                light,
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
                light: self.light,
            }
        }
    }

    /// Producers enqueue then notify; the consumer polls and otherwise sleeps with no timeout.
    /// Includes the case where the consumer sleeps on a Pending queue (a producer preempted
    /// between its swap and its link store) — that producer's notify must wake it.
    fn producers_wake_sleeping_consumer(producers: usize, light: bool) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(move || {
            let w = World::new(producers, light);
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
        producers_wake_sleeping_consumer(1, false);
    }

    #[test]
    fn two_producers_no_lost_wakeup() {
        producers_wake_sleeping_consumer(2, false);
    }

    #[test]
    fn one_producer_no_lost_wakeup_light() {
        producers_wake_sleeping_consumer(1, true);
    }

    #[test]
    fn two_producers_no_lost_wakeup_light() {
        producers_wake_sleeping_consumer(2, true);
    }

    /// A plain ring (no queue condition) after the ticket was taken always ends the sleep.
    #[test]
    fn ring_after_ticket_wakes() {
        ring_wakes(false);
        ring_wakes(true);
    }

    fn ring_wakes(light: bool) {
        loom::model(move || {
            let w = World::new(0, light);
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
        light: bool,
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
                light: self.light,
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
        cell_round_trips(false);
    }

    /// [`cell_round_trips_between_sleeping_ranks`] with the asymmetric pairing.
    #[test]
    fn cell_round_trips_between_sleeping_ranks_light() {
        cell_round_trips(true);
    }

    fn cell_round_trips(light: bool) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(move || {
            let n = Arc::new(Node {
                light,
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
