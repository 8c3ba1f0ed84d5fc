//! The one registry of pollers: progress functions of the layers above point-to-point.
//! Every wait and test of the engine runs them outside the engine lock; each must not block
//! (if it is busy in another thread it returns at once) and says whether it did work.

use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// The registered pollers. A poller is registered once (by address) and stays: an idle
/// one costs a load of its own counter.
#[derive(Default)]
pub struct Registry {
    pollers: RwLock<Vec<&'static dyn Poller>>,
    /// Any poller registered (lets the hot path skip the read lock).
    any: AtomicBool,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers `p` (a second registration of the same poller is ignored).
    pub fn add(&self, p: &'static dyn Poller) {
        let addr = |q: &dyn Poller| q as *const dyn Poller as *const () as usize;
        if self.pollers.read().iter().any(|q| addr(*q) == addr(p)) {
            return;
        }
        let mut list = self.pollers.write();
        if !list.iter().any(|q| addr(*q) == addr(p)) {
            list.push(p);
        }
        self.any.store(true, Ordering::Release);
    }

    /// Runs every poller; true if any did work.
    #[inline]
    pub fn run(&self) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        // Pollers never register pollers, so running them under the read lock is safe,
        // and it costs no allocation on the waiting path.
        let mut did = false;
        for p in self.pollers.read().iter() {
            did |= p.poll();
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
}
