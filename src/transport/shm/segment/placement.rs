//! Where the local ranks run: each rank's CPU hint in its control block (`Ctl::Cpu`), and
//! the check a blocked call makes before it spins.
//!
//! Why: a blocked rank spins (1 ms, `progress::WaitPolicy`) when every local rank can have
//! a core. The scheduler may still put two ranks on one CPU (it wakes a sleeper on its
//! waker's CPU, and on a loaded machine the other core is taken), and then the spinner
//! keeps the CPU from the very rank it waits for until its time slice ends: bench/p2p.c
//! measured bandwidth windows of 8-64 B taking ~4 ms instead of ~10 us, and with both
//! ranks held on one CPU a ping-pong of 1 ms a message (issue 13). The collectives' region
//! has the same remedy for its own waits (`coll_region::move_off`, whose move this
//! reuses); a point-to-point wait may be for any local rank, so the hints live here, in
//! the node segment every local rank maps.
//!
//! The hint is written when a blocked call starts waiting, and only when it changed (the
//! line stays in the writer's cache). It may be stale: a rank that moved since it last
//! waited. A stale hint costs at most the spin of one wait (yields instead, which on an
//! idle CPU return at once); the owner corrects it at its next wait.

use super::*;
use crate::transport::coll_region::{current_cpu, move_off};

impl Shm {
    /// Called when a blocked call of mine starts waiting: true when another local rank last
    /// waited on the CPU I run on, so that spinning would keep it off the CPU (the caller
    /// then yields instead). Of two ranks on one CPU the higher one first moves to a CPU
    /// no local rank last waited on, and then spins as usual (the lower one stays, so they
    /// do not both move). Records where I run as my hint for the others.
    pub fn peer_on_my_cpu(&self) -> bool {
        let Some(cpu) = current_cpu() else {
            return false;
        };
        let n = self.lay.nlocal;
        let shared = |r: usize| r != self.me && self.cpu_hint(r) == Some(cpu);
        if (0..self.me).any(shared) {
            let mut busy: Vec<u32> = (0..n)
                .filter(|&r| r != self.me)
                .filter_map(|r| self.cpu_hint(r))
                .collect();
            busy.push(cpu);
            if let Some(to) = move_off(&busy) {
                self.set_cpu_hint(to);
                return false;
            }
        }
        self.set_cpu_hint(cpu);
        (0..n).any(shared)
    }

    /// The CPU local rank `r` last started a wait on, if it said.
    pub(crate) fn cpu_hint(&self, r: usize) -> Option<u32> {
        self.ctl(r, Ctl::Cpu).load(Ordering::Relaxed).checked_sub(1)
    }

    /// Records my hint (stored only on a change: the others read the line).
    fn set_cpu_hint(&self, cpu: u32) {
        let w = self.ctl(self.me, Ctl::Cpu);
        if w.load(Ordering::Relaxed) != cpu + 1 {
            w.store(cpu + 1, Ordering::Relaxed);
        }
    }

    /// Tests: sets local rank `r`'s hint as if it had waited on `cpu`.
    #[cfg(test)]
    pub(crate) fn set_cpu_hint_of(&self, r: usize, cpu: u32) {
        self.ctl(r, Ctl::Cpu).store(cpu + 1, Ordering::Relaxed);
    }
}
