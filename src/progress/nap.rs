//! How long a blocked thread sleeps on its doorbell before it runs progress again.
//!
//! Every condition a waiter sleeps on rings its doorbell when it comes true (a peer's send,
//! a TCP reader's arrival, a completion by another thread), so the sleep's timeout is a
//! safety net, not the way a waiter learns of work. It still costs: each timed wake-up is a
//! timer interrupt, two context switches and a round of progress, ~30 us of CPU in this
//! project's virtual machine (a bare `futex_wait` with a 100 ms timeout: 30 wake-ups in 3 s,
//! 0.9 ms of CPU). With a fixed 100 ms nap a rank blocked 3 s in MPI_Recv woke 30 times and
//! used 0.0028-0.0035 s of CPU, a barrier 0.0041-0.0046 s (bench/idle.c; issue 13 asks for
//! 0.002).
//!
//! So a wait's naps grow: the first lasts `FIRST`, each next one twice the last, up to
//! `LONGEST`; the sequence starts again whenever the wait makes progress. A wait of a
//! few hundred milliseconds sleeps as before; one of seconds wakes about once a second.
//!
//! The exception is a fault-tolerant run (`-disable-auto-cleanup`): there the launcher's
//! failure notice is a signal that writes a pipe (`ft::detector`), which only a round of
//! progress reads, so naps stay at `FIRST` and a blocked rank learns of a failure within
//! that time, as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The first nap of a wait, and every nap when notices need polling.
pub const FIRST: Duration = Duration::from_millis(100);

/// The longest nap: a lost ring (a defect) or an unrung notice costs at most this.
pub const LONGEST: Duration = Duration::from_millis(1000);

/// Set when some notice reaches a blocked rank only through a round of progress.
static POLLED_NOTICES: AtomicBool = AtomicBool::new(false);

/// Says that from now on a notice arrives that nobody rings for (the fault-tolerant run's
/// failure signal): naps stay short.
pub fn poll_notices() {
    POLLED_NOTICES.store(true, Ordering::Relaxed);
}

/// The naps of one wait.
#[derive(Debug, Default)]
pub struct Naps {
    /// Naps taken since the wait started or last made progress.
    taken: u32,
}

impl Naps {
    pub fn new() -> Naps {
        Naps { taken: 0 }
    }

    /// The wait made progress: the next nap is the first again.
    pub fn reset(&mut self) {
        self.taken = 0;
    }

    /// How long the next nap may last.
    pub fn next(&mut self) -> Duration {
        if POLLED_NOTICES.load(Ordering::Relaxed) {
            return FIRST;
        }
        let d = FIRST.saturating_mul(1 << self.taken.min(16)).min(LONGEST);
        self.taken = self.taken.saturating_add(1);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naps_double_up_to_the_longest_and_start_again_after_progress() {
        let mut n = Naps::new();
        let ms: Vec<u128> = (0..7).map(|_| n.next().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000, 1000]);
        n.reset();
        assert_eq!(n.next(), FIRST);
        for _ in 0..100 {
            assert!(n.next() <= LONGEST);
        }
    }
}
