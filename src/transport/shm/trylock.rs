//! A lock that is only ever tried: `try_lock` either takes it or returns None, nobody waits.
//! With no waiter to wake, unlocking is a plain release store instead of the atomic
//! read-modify-write a blocking mutex's unlock needs to look for parked threads.
//!
//! Why it matters here (issue 13): the sender's state is unlocked right after a fast-box
//! record is written into the shared ring, and the receiver's right after it read one. A
//! locked instruction at that point (parking_lot's unlock is a `lock cmpxchg`) waits for the
//! store buffer, i.e. for the ring's cache line to travel to this core; a plain store lets
//! that happen in the background. (The same reason Linux's `spin_unlock` is a plain store on
//! x86, and the test-and-set lock of Herlihy and Shavit, "The Art of Multiprocessor
//! Programming", ch. 7.)
//!
//! Taking it costs a `lock cmpxchg` only in shared mode (MPI_THREAD_MULTIPLE): in exclusive
//! mode (`crate::transport::exclusive`: at most one thread in the library, by the program's thread
//! level) it is a plain load and store of the same flag, which still answers None to a
//! second `try_lock` while a guard is live, so a nested use sees the lock taken as before.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) struct TryLock<T> {
    held: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and at most one guard exists at a time:
// in shared mode `try_lock`'s compare-exchange makes it so across threads; in exclusive mode
// only one thread is in the library at a time and calls of different threads are ordered by
// the program's synchronization (the MPI thread-level contract and the audit of our own
// threads in `crate::transport::exclusive`), and the flag keeps that thread from taking two guards. So
// sharing the lock hands `T` to one thread at a time: `T: Send` suffices, as for
// `std::sync::Mutex`.
unsafe impl<T: Send> Sync for TryLock<T> {}

impl<T> TryLock<T> {
    pub fn new(value: T) -> Self {
        TryLock {
            held: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The value if no other guard is live; None otherwise (no waiting).
    #[inline]
    pub fn try_lock(&self) -> Option<TryGuard<'_, T>> {
        self.try_lock_in(crate::transport::exclusive::shared())
    }

    /// `try_lock` in the given mode (`shared_mode`: the process's mode, read once).
    #[inline]
    fn try_lock_in(&self, shared_mode: bool) -> Option<TryGuard<'_, T>> {
        // (A plain load first: a taken lock costs no locked instruction.)
        if self.held.load(Ordering::Relaxed) {
            return None;
        }
        if !shared_mode {
            // One thread in the library: no other can be between the load and this store.
            self.held.store(true, Ordering::Relaxed);
            return Some(TryGuard { lock: self });
        }
        if self
            .held
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        Some(TryGuard { lock: self })
    }
}

pub(crate) struct TryGuard<'a, T> {
    lock: &'a TryLock<T>,
}

impl<T> Deref for TryGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (see `try_lock`), and it lives no longer than
        // the lock it borrows.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for TryGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for TryGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Release: the next holder sees every write made under this guard.
        self.lock.held.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_guard_at_a_time() {
        let l = TryLock::new(1);
        {
            let mut g = l.try_lock().expect("free");
            *g += 1;
            assert!(l.try_lock().is_none());
        }
        assert_eq!(*l.try_lock().expect("free again"), 2);
    }

    #[test]
    fn exclusive_mode_still_one_guard_at_a_time() {
        // (The process's mode is shared in tests; this takes the exclusive path directly.)
        let l = TryLock::new(1);
        {
            let mut g = l.try_lock_in(false).expect("free");
            *g += 1;
            assert!(l.try_lock_in(false).is_none());
            assert!(l.try_lock_in(true).is_none());
        }
        assert_eq!(*l.try_lock_in(false).expect("free again"), 2);
    }

    #[test]
    fn threads_never_hold_it_together() {
        let l = std::sync::Arc::new(TryLock::new((0u64, 0u64)));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || {
                    let mut taken = 0;
                    while taken < 10_000 {
                        if let Some(mut g) = l.try_lock() {
                            // Both halves move together only if no one else is inside.
                            g.0 += 1;
                            std::hint::spin_loop();
                            g.1 += 1;
                            taken += 1;
                        }
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let g = l.try_lock().expect("free");
        assert_eq!(*g, (40_000, 40_000));
    }
}
