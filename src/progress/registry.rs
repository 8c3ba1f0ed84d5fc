//! The one registry of pollers: progress functions of the layers above point-to-point.
//! Every wait and test of the engine runs them outside the engine lock; each must not block
//! (if it is busy in another thread it returns at once) and says whether it did work.

use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Something that advances operations in flight.
pub trait Poller: Send + Sync {
    /// Advances what it can without blocking; true if anything moved.
    fn poll(&self) -> bool;
}

/// A plain function as a poller.
pub struct FnPoller(pub fn() -> bool);

impl Poller for FnPoller {
    fn poll(&self) -> bool {
        (self.0)()
    }
}

/// Pollers the registry holds without a lock (the layers register three today).
const SLOTS: usize = 8;

/// The registered pollers. A poller is registered once (by address) and stays: an idle
/// one costs a load of its own state. Every wait round runs them, so reading takes no
/// lock: pollers live in write-once slots published by a count (Release on add, Acquire
/// on run); registration, which is rare, is serialised by a mutex. Past `SLOTS` they go
/// to a list behind a read lock.
#[derive(Default)]
pub struct Registry {
    slots: [OnceLock<&'static dyn Poller>; SLOTS],
    /// Slots filled (a prefix of `slots`).
    count: AtomicUsize,
    /// Serialises `add`.
    adding: Mutex<()>,
    /// The pollers beyond the slots.
    more: RwLock<Vec<&'static dyn Poller>>,
    /// `more` is not empty (lets `run` skip its lock).
    any_more: AtomicBool,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers `p` (a second registration of the same poller is ignored).
    pub fn add(&self, p: &'static dyn Poller) {
        let addr = |q: &dyn Poller| q as *const dyn Poller as *const () as usize;
        let _adding = self.adding.lock();
        let n = self.count.load(Ordering::Relaxed);
        let known = self.slots[..n]
            .iter()
            .filter_map(|s| s.get())
            .chain(self.more.read().iter())
            .any(|q| addr(*q) == addr(p));
        if known {
            return;
        }
        if n < SLOTS {
            // Slot `n` is empty: only `add` fills slots, under `adding`.
            let _ = self.slots[n].set(p);
            self.count.store(n + 1, Ordering::Release);
        } else {
            self.more.write().push(p);
            self.any_more.store(true, Ordering::Release);
        }
    }

    /// Runs every poller; true if any did work.
    #[inline]
    pub fn run(&self) -> bool {
        let n = self.count.load(Ordering::Acquire);
        let mut did = false;
        for s in &self.slots[..n.min(SLOTS)] {
            if let Some(p) = s.get() {
                did |= p.poll();
            }
        }
        if self.any_more.load(Ordering::Acquire) {
            // Pollers never register pollers, so running them under the read lock is safe.
            for p in self.more.read().iter() {
                did |= p.poll();
            }
        }
        did
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    static CALLS: AtomicUsize = AtomicUsize::new(0);
    fn count() -> bool {
        CALLS.fetch_add(1, Ordering::Relaxed);
        true
    }
    static P: FnPoller = FnPoller(count);

    #[test]
    fn registered_once_and_run() {
        let r = Registry::new();
        assert!(!r.run());
        r.add(&P);
        r.add(&P);
        let before = CALLS.load(Ordering::Relaxed);
        assert!(r.run());
        assert_eq!(CALLS.load(Ordering::Relaxed) - before, 1);
    }

    static HITS: [AtomicUsize; 11] = [const { AtomicUsize::new(0) }; 11];
    struct Hit(usize);
    impl Poller for Hit {
        fn poll(&self) -> bool {
            HITS[self.0].fetch_add(1, Ordering::Relaxed);
            false
        }
    }
    static MANY: [Hit; 11] = [
        Hit(0),
        Hit(1),
        Hit(2),
        Hit(3),
        Hit(4),
        Hit(5),
        Hit(6),
        Hit(7),
        Hit(8),
        Hit(9),
        Hit(10),
    ];

    /// More pollers than lock-free slots: each still runs exactly once per round, and a
    /// repeated registration past the slots is ignored too.
    #[test]
    fn beyond_the_slots_each_runs_once() {
        let r = Registry::new();
        for p in MANY.iter().chain(MANY.iter()) {
            r.add(p);
        }
        assert!(!r.run());
        for h in HITS.iter() {
            assert_eq!(h.load(Ordering::Relaxed), 1);
        }
    }
}
