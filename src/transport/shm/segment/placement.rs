//! Where the local ranks run: each rank's CPU hint in its control block (`Ctl::Cpu`), and
//! the check a blocked call makes when it starts waiting.
//!
//! Why, with a core for every rank: a blocked rank spins (1 ms, `progress::WaitPolicy`).
//! The scheduler may still put two ranks on one CPU (it wakes a sleeper on its waker's CPU,
//! and on a loaded machine the other core is taken), and then the spinner keeps the CPU
//! from the very rank it waits for until its time slice ends: bench/p2p.c measured
//! bandwidth windows of 8-64 B taking ~4 ms instead of ~10 us, and with both ranks held on
//! one CPU a ping-pong of 1 ms a message (issue 13). The collectives' region has the same
//! remedy for its own waits (`coll_region::move_off`, whose move this reuses); a
//! point-to-point wait may be for any local rank, so the hints live here, in the node
//! segment every local rank maps.
//!
//! Why, with more ranks than cores (issue 13, "two ping-pong pairs, 4 ranks on 2 cores"):
//! an oversubscribed rank does not spin, it yields, so every rank stays runnable and each
//! message costs its receiver's CPU one switch to the receiver. Where the kernel started the
//! ranks then decides the latency for the whole run: three ranks on one CPU and one alone
//! on the other made each message wait behind two other ranks' turns (3.2-4.2 us one way
//! against 1.9-2.6 us with two ranks a CPU, bench/pingpong.c, session 17). The kernel's load
//! balancer does not fix it in time: ranks that yield all the time look cache-hot, which
//! its migration cost rule (`task_hot`) keeps where they are, and a busy domain is balanced
//! only every few tens of milliseconds — a benchmark, or an application phase, is over by
//! then. So a rank that starts a wait on a CPU holding more ranks than another CPU moves
//! itself there (`balance`): each move lowers the sum of the squares of the ranks per CPU,
//! so the moves stop once the CPUs hold as even a share as the hints can tell. Open MPI
//! leaves placement to the kernel (its `mpi_yield_when_idle` only yields); ranks that even
//! themselves out make the latency stop depending on the launch's luck.
//!
//! The hint is written when a blocked call starts waiting, and only when it changed (the
//! line stays in the writer's cache). It may be stale: a rank that moved since it last
//! waited. A stale hint costs at most the spin of one wait (yields instead, which on an
//! idle CPU return at once), or one move too many; the owner corrects it at its next wait.

use super::*;
use crate::transport::coll_region::{current_cpu, move_off};

/// CPUs whose ranks `balance` counts (on the stack, per wait). A rank on a higher CPU, or
/// seeing a hint that names one, does not balance: it could not tell that CPU's load.
const COUNTED_CPUS: usize = 256;

impl Shm {
    /// Called when a blocked call of mine starts waiting: true when another local rank last
    /// waited on the CPU I run on, so that spinning would keep it off the CPU (the caller
    /// then yields instead). Records where I run as my hint for the others. Before that I
    /// may move:
    /// * with more local ranks than CPUs, to a CPU holding fewer ranks than mine does
    ///   (`balance`, module doc);
    /// * otherwise, of two ranks on one CPU the higher one moves to a CPU no local rank
    ///   last waited on, and then spins as usual (the lower one stays, so they do not both
    ///   move).
    pub fn peer_on_my_cpu(&self) -> bool {
        let Some(cpu) = current_cpu() else {
            return false;
        };
        let n = self.lay.nlocal;
        let shared = |r: usize| r != self.me && self.cpu_hint(r) == Some(cpu);
        let to = if n > allowed_cpus() {
            self.balance(cpu)
        } else if (0..self.me).any(shared) {
            let mut busy: Vec<u32> = (0..n)
                .filter(|&r| r != self.me)
                .filter_map(|r| self.cpu_hint(r))
                .collect();
            busy.push(cpu);
            move_off(&busy)
        } else {
            None
        };
        let now = to.unwrap_or(cpu);
        self.set_cpu_hint(now);
        (0..n).any(|r| r != self.me && self.cpu_hint(r) == Some(now))
    }

    /// With more local ranks than CPUs: moves me off `cpu` to a CPU whose ranks are fewer
    /// than the others on mine, if the hints show one; returns where I moved.
    fn balance(&self, cpu: u32) -> Option<u32> {
        let others = (0..self.lay.nlocal)
            .filter(|&r| r != self.me)
            .map(|r| self.cpu_hint(r));
        let busy = crowded(cpu, others, allowed_cpus())?;
        move_off(&busy)
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

/// The CPUs this process may run on, counted once (its affinity mask at the first wait:
/// `move_off` narrows the mask only for the instant of a move).
fn allowed_cpus() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

/// Whether a rank on `cpu` should move to even out the ranks per CPU, given where the other
/// local ranks last waited (`others`) and the number of CPUs it may use: if so, the CPUs it
/// must not move to — its own and every CPU holding at least as many of the others as its
/// own does — and None if no CPU holds fewer (a CPU no hint names holds none).
///
/// Moving from a CPU with `k` others to one with `j < k` takes the squares' sum from
/// (k+1)^2 + j^2 to k^2 + (j+1)^2, 2(k-j) less, so moves made on fresh hints end.
fn crowded(cpu: u32, others: impl Iterator<Item = Option<u32>>, ncpus: usize) -> Option<Vec<u32>> {
    let mut count = [0u32; COUNTED_CPUS];
    for c in others.flatten() {
        *count.get_mut(c as usize)? += 1;
    }
    let mine = *count.get(cpu as usize)?;
    if mine == 0 {
        return None;
    }
    let mut busy: Vec<u32> = (0..COUNTED_CPUS as u32)
        .filter(|&c| count[c as usize] >= mine)
        .collect();
    if !busy.contains(&cpu) {
        busy.push(cpu);
    }
    (busy.len() < ncpus).then_some(busy)
}

#[cfg(test)]
mod tests {
    use super::crowded;

    fn hints(cpus: &[u32]) -> impl Iterator<Item = Option<u32>> + '_ {
        cpus.iter().map(|&c| Some(c))
    }

    /// 4 ranks on 2 CPUs: of three on one CPU, a rank moves to the CPU with one; two and
    /// two stay.
    #[test]
    fn three_on_one_cpu_move_to_the_lone_one() {
        assert_eq!(crowded(0, hints(&[0, 0, 1]), 2), Some(vec![0]));
        assert_eq!(crowded(1, hints(&[0, 0, 0]), 2), None, "the lone one stays");
        assert_eq!(crowded(0, hints(&[0, 1, 1]), 2), None, "two and two stay");
    }

    /// All four on one CPU: a rank moves, to the CPU no hint names.
    #[test]
    fn all_on_one_cpu_move_to_an_unnamed_one() {
        assert_eq!(crowded(1, hints(&[1, 1, 1]), 2), Some(vec![1]));
        // Unknown hints (ranks that never waited) count for no CPU.
        assert_eq!(
            crowded(1, [None, Some(1), None].into_iter(), 2),
            Some(vec![1])
        );
        assert_eq!(crowded(1, [None, None, None].into_iter(), 2), None);
    }

    /// 5 ranks on 3 CPUs (2, 2, 1): even as can be, nobody moves; 3, 1, 1 moves to either
    /// of the lighter CPUs.
    #[test]
    fn uneven_shares_stop_at_one_apart() {
        assert_eq!(crowded(0, hints(&[0, 1, 1, 2]), 3), None);
        assert_eq!(crowded(0, hints(&[0, 0, 1, 2]), 3), Some(vec![0]));
        assert_eq!(crowded(1, hints(&[0, 0, 1, 2]), 3), None, "one apart: stay");
        assert_eq!(crowded(2, hints(&[0, 0, 0, 1]), 3), None, "alone: stay");
    }

    /// Every CPU as full as mine: nowhere better to go.
    #[test]
    fn no_lighter_cpu_no_move() {
        assert_eq!(crowded(0, hints(&[0, 1, 1, 0]), 2), None);
        assert_eq!(crowded(3, hints(&[0, 1, 2]), 4), None, "alone: stay");
    }

    /// A CPU beyond the counted ones, mine or a peer's: no move (its load is unknown).
    #[test]
    fn cpus_beyond_the_count_stop_the_balance() {
        let far = super::COUNTED_CPUS as u32 + 5;
        assert_eq!(crowded(far, hints(&[far, far]), 2), None);
        assert_eq!(crowded(0, hints(&[0, far, far]), 2), None);
    }
}
