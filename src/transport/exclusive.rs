//! The process's locking mode, and the engine's lock that follows it (issue 13).
//!
//! *Shared* mode is what MPI_THREAD_MULTIPLE needs: the engine's state is behind a blocking
//! mutex and the segment's process-local states behind test-and-set flags, each a locked
//! instruction (`lock cmpxchg`) to take and, for the mutex, another to release. On x86 a
//! locked instruction waits for the store buffer to drain, i.e. for the cache line just
//! written into the shared segment to reach this core: ~15 ns each here, 2-4 per message.
//!
//! *Exclusive* mode is for a job whose provided level is MPI_THREAD_SINGLE, FUNNELED or
//! SERIALIZED: the program promises that at most one of its threads is in the library at a
//! time (MPI 4.1 section 11.6: SINGLE and FUNNELED, one thread calls MPI; SERIALIZED, the
//! calls "are never made concurrently from two distinct threads", so the program's own
//! synchronization orders them). The locks then take no locked instruction: a plain "held"
//! flag (Relaxed load and store) still catches a re-entry from the same thread, which would
//! be a bug of ours, and turns it into a panic naming the lock, as `RefCell` does, instead of
//! two live `&mut` to the same state. MPICH does the same (MPID_THREAD_CS_ENTER is empty
//! below MPI_THREAD_MULTIPLE), as does Open MPI (`opal_using_threads()` false).
//!
//! Who else could take these locks while the program's one thread is in MPI (audit, session
//! 14): the threads OxiMPI starts are the launcher reaper (`pmi::client`: waits for the
//! child), the launcher watch (`pmi::watch`: polls the PMI socket, then exits the process),
//! the TCP reader and pull server (`transport::tcp`: their own inbox, connection and pull
//! locks), and the socket transport's acceptor and readers (`transport::sock`: its own
//! inbox). None touches the engine's state or the segment's `local`/`rx` states. The signal
//! handlers (`shm::named`'s fatal-signal unlink, `transport::process`'s signal pipe that the
//! fault detector and mpiexec read) only unlink a name or write a byte on a pipe. So the
//! program's promise covers every thread that takes these locks. (One caller is outside the
//! point-to-point calls: reading MPI_T's queue-length variables takes the engine lock in
//! the tool's thread. Below MULTIPLE that read counts as a call into the library under the
//! same promise; a tool that reads them from another thread while the program is in MPI
//! needs MPI_THREAD_MULTIPLE or `OXIMPI_LOCKS=shared`.)
//!
//! The switches (`runtime`): the engine starts shared (`SHARED` is true until told
//! otherwise, so unit tests and any use before the level is known lock for real); MPI_Init
//! and MPI_Init_thread that give less than MULTIPLE to a process whose engine they started
//! turn exclusive before returning (no other thread may call MPI before MPI_Init returns);
//! MPI_Session_init (sessions give MULTIPLE) turns shared before it returns, which is safe
//! because the caller is, by the level in force until then, the only thread in the library,
//! and no lock is held across MPI calls. Once shared, a process stays shared.
//! `OXIMPI_LOCKS=shared` keeps shared mode at every level (for A/B measurements).

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::lock_api::RawMutex as _;

/// True: shared mode (real locks). See the module doc for who changes it and when.
static SHARED: AtomicBool = AtomicBool::new(true);

/// True when the locks must exclude threads (MPI_THREAD_MULTIPLE, or not known yet).
#[inline]
pub fn shared() -> bool {
    // Relaxed: the mode only changes while a single thread is in the library (see
    // `set_shared`), and the program's own synchronization orders that call before any
    // other thread's next MPI call.
    SHARED.load(Ordering::Relaxed)
}

/// Sets the mode. The caller must be the only thread in the library and hold none of the
/// locks that follow the mode (see the module doc for the two places that call it).
pub fn set_shared(on: bool) {
    SHARED.store(on, Ordering::Release);
}

/// A mutex that is a real one in shared mode and a re-entry check in exclusive mode.
pub struct ModeMutex<T> {
    raw: parking_lot::RawMutex,
    /// Exclusive mode: a guard taken in exclusive mode is live.
    held: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard. In shared mode a guard exists only
// while `raw` is locked, which excludes every other thread, as `parking_lot::Mutex` does. In
// exclusive mode the MPI thread-level contract (SINGLE, FUNNELED: one thread calls MPI;
// SERIALIZED: calls never overlap and the program's synchronization between them gives the
// happens-before) and the audit in the module doc (no thread of ours takes these locks)
// mean guards of different threads never overlap and are ordered; `held` keeps one thread
// from holding two. So `T` goes to one thread at a time: `T: Send` suffices.
unsafe impl<T: Send> Sync for ModeMutex<T> {}

impl<T> ModeMutex<T> {
    pub fn new(value: T) -> Self {
        ModeMutex {
            raw: parking_lot::RawMutex::INIT,
            held: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the lock: waits for it in shared mode; in exclusive mode panics if this thread
    /// already holds it (a re-entry: the bug `RefCell::borrow_mut` reports the same way).
    #[inline]
    pub fn lock(&self) -> ModeGuard<'_, T> {
        self.lock_in(shared())
    }

    /// `lock` in the given mode (`shared_mode`: the process's mode, read once).
    #[inline]
    fn lock_in(&self, shared_mode: bool) -> ModeGuard<'_, T> {
        if shared_mode {
            self.raw.lock();
            return ModeGuard {
                lock: self,
                shared: true,
            };
        }
        if self.held.load(Ordering::Relaxed) {
            reentered();
        }
        self.held.store(true, Ordering::Relaxed);
        ModeGuard {
            lock: self,
            shared: false,
        }
    }
}

#[cold]
#[inline(never)]
fn reentered() -> ! {
    panic!(
        "oximpi: the engine lock was taken twice (a re-entry inside the library, or two \
         threads in MPI at once at a thread level below MPI_THREAD_MULTIPLE)"
    )
}

/// The live hold of a [`ModeMutex`]; releases it when dropped.
pub struct ModeGuard<'a, T> {
    lock: &'a ModeMutex<T>,
    /// The mode it was taken in (released the same way).
    shared: bool,
}

impl<T> Deref for ModeGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (see `ModeMutex`'s Sync argument), and it lives
        // no longer than the lock it borrows.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for ModeGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for ModeGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if self.shared {
            // SAFETY: this guard was made by `lock` after `raw.lock()` in this thread, and
            // is the only one: the raw mutex is locked and ours to unlock.
            unsafe { self.lock.raw.unlock() };
        } else {
            // Release, not Relaxed: free on x86 (a plain store either way), and it keeps
            // the state's writes before the flag for the compiler.
            self.lock.held.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The mode is process-wide and cargo runs tests in parallel threads: these tests
    // switch nothing, they take each mode's path through `lock_in`.

    #[test]
    fn shared_mode_excludes_threads() {
        let m = std::sync::Arc::new(ModeMutex::new((0u64, 0u64)));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        let mut g = m.lock_in(true);
                        g.0 += 1;
                        std::hint::spin_loop();
                        g.1 += 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*m.lock_in(true), (40_000, 40_000));
    }

    #[test]
    fn exclusive_mode_releases_and_catches_reentry() {
        let m = ModeMutex::new(1);
        {
            let mut g = m.lock_in(false);
            *g += 1;
            assert!(m.held.load(Ordering::Relaxed));
            let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(m.lock_in(false));
            }));
            assert!(again.is_err(), "a second hold in exclusive mode must panic");
        }
        assert!(!m.held.load(Ordering::Relaxed));
        assert_eq!(*m.lock_in(false), 2);
    }
}
