//! Where the local ranks run: each rank's CPU hint in its control block (`Ctl::Cpu`), and
//! the check a blocked call makes when it starts waiting.
//!
//! Why, with a core for every rank: a blocked rank spins (1 ms, `progress::WaitPolicy`).
//! The scheduler may still put two ranks on one CPU (it wakes a sleeper on its waker's CPU,
//! and on a loaded machine the other core is taken), and then the spinner keeps the CPU
//! from the very rank it waits for until its time slice ends: bench/p2p.c measured
//! bandwidth windows of 8-64 B taking ~4 ms instead of ~10 us, and with both ranks held on
//! one CPU a ping-pong of 1 ms a message (issue 13). The collectives' region has the same
//! remedy for its own waits (`cpu::move_off`, whose move this reuses); a
//! point-to-point wait may be for any local rank, so the hints live here, in the node
//! segment every local rank maps.
//!
//! Why, with more ranks than cores (issue 13, "two ping-pong pairs, 4 ranks on 2 cores"):
//! an oversubscribed rank does not spin, it yields, so every rank stays runnable and each
//! message costs its receiver's CPU one switch to the receiver. Where the kernel started the
//! ranks then decides the latency for the whole run (bench/pingpong.c, 8 B one way, session
//! 17, 2-core VM): pairs each on a CPU of their own 1.9-2.1 us; pairs split over the CPUs
//! 2.2-2.6 us; three ranks on one CPU and one alone 3.2-4.2 us, and the last is where the
//! kernel left most runs. Its load balancer does not fix that in time: ranks that yield all
//! the time look cache-hot, which its migration cost rule (`task_hot`) keeps where they are,
//! and a busy domain is balanced only every few tens of milliseconds — a benchmark, or an
//! application phase, is over by then. So oversubscribed ranks place themselves (`target`):
//! in blocks of consecutive ranks, one block a CPU, the placement MPI launchers give by
//! default when they map ranks to cores, and the one that keeps the partners of
//! neighbour exchanges and of the first rounds of tree and recursive-doubling collectives
//! (r and r^1) on one CPU, where a message costs a switch and no cache line crosses cores.
//! The lowest rank of a block leads: leaders spread out over the CPUs, the others go to
//! their leader's. Open MPI leaves placement to the kernel (its `mpi_yield_when_idle` only
//! yields), so its latency here depends on the launch's luck (1.9-4 us).
//!
//! The hint is written when a blocked call starts waiting, and only when it changed (the
//! line stays in the writer's cache). It may be stale: a rank that moved since it last
//! waited. A stale hint costs at most the spin of one wait (yields instead, which on an
//! idle CPU return at once), or one move too many; the owner corrects it at its next wait.

use super::*;
use crate::transport::cpu::{current_cpu, move_off, move_to, usable_cpus};
use std::sync::atomic::AtomicBool;

impl Shm {
    /// Called when a blocked call of mine starts waiting: true when another local rank last
    /// waited on the CPU I run on, so that spinning would keep it off the CPU (the caller
    /// then yields instead). Records where I run as my hint for the others. Before that I
    /// may move:
    /// * with more local ranks than CPUs, to my block's CPU (`balance`, module doc);
    /// * otherwise, of two ranks on one CPU the higher one moves to a CPU no local rank
    ///   last waited on, and then spins as usual (the lower one stays, so they do not both
    ///   move).
    pub fn peer_on_my_cpu(&self) -> bool {
        let Some(cpu) = current_cpu() else {
            return false;
        };
        let n = self.lay.nlocal;
        let shared = |r: usize| r != self.me && self.cpu_hint(r) == Some(cpu);
        let to = if n > usable_cpus() {
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

    /// With more local ranks than CPUs: moves me toward my block's CPU (`target`, module
    /// doc); returns where I moved. A process that could not go to its leader's CPU (ranks
    /// pinned apart by the user or their launcher) stops trying: it would fail every wait.
    fn balance(&self, cpu: u32) -> Option<u32> {
        if MOVES_REFUSED.load(Ordering::Relaxed) {
            return None;
        }
        match target(self.me, self.lay.nlocal, usable_cpus(), cpu, |r| {
            self.cpu_hint(r)
        }) {
            Target::Stay => None,
            Target::To(c) => {
                let to = move_to(c);
                if to.is_none() {
                    MOVES_REFUSED.store(true, Ordering::Relaxed);
                }
                to
            }
            // None when stale hints name every CPU: the next wait looks again.
            Target::OffOf(busy) => move_off(&busy),
        }
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

/// Set when a move to the leader's CPU failed: ranks are pinned apart, `balance` is off.
static MOVES_REFUSED: AtomicBool = AtomicBool::new(false);

/// Where an oversubscribed rank should run.
#[derive(Debug, PartialEq)]
enum Target {
    Stay,
    /// On this CPU (my group leader's).
    To(u32),
    /// On any CPU but these (a leader that shares its CPU with a lower leader).
    OffOf(Vec<u32>),
}

/// Block placement for `n` local ranks on `ncpus` CPUs: rank r belongs to group
/// r * ncpus / n (consecutive ranks together, as MPI launchers map ranks to cores by
/// default); the lowest rank of each group is its leader. Leaders spread out (of two on one
/// CPU the higher moves to a CPU no other leader last waited on); the others follow their
/// leader's CPU. `cpu` is where rank `me` runs, `hint(r)` where rank r last waited.
fn target(
    me: usize,
    n: usize,
    ncpus: usize,
    cpu: u32,
    hint: impl Fn(usize) -> Option<u32>,
) -> Target {
    let groups = ncpus.min(n);
    if groups < 2 {
        return Target::Stay;
    }
    let group = |r: usize| r * groups / n;
    // The lowest r with r * groups / n == g.
    let leader = |g: usize| (g * n).div_ceil(groups);
    let mine = leader(group(me));
    if mine != me {
        return match hint(mine) {
            Some(c) if c != cpu => Target::To(c),
            _ => Target::Stay,
        };
    }
    let others = (0..groups).map(leader).filter(|&l| l != me);
    if !others.clone().any(|l| l < me && hint(l) == Some(cpu)) {
        return Target::Stay;
    }
    let mut busy: Vec<u32> = others.filter_map(hint).collect();
    busy.push(cpu);
    Target::OffOf(busy)
}

#[cfg(test)]
mod tests {
    use super::{target, Target};

    /// `target` for rank `me` of `hints.len()` on `ncpus` CPUs, running on `cpu`.
    fn at(me: usize, ncpus: usize, cpu: u32, hints: &[Option<u32>]) -> Target {
        target(me, hints.len(), ncpus, cpu, |r| hints[r])
    }

    /// 4 ranks on 2 CPUs: groups {0, 1} and {2, 3}, leaders 0 and 2. Ranks 1 and 3 follow
    /// their leader; a leader alone on its CPU stays.
    #[test]
    fn followers_go_to_their_leader() {
        let h = [Some(0), Some(1), Some(1), Some(0)];
        assert_eq!(at(1, 2, 1, &h), Target::To(0));
        assert_eq!(at(3, 2, 0, &h), Target::To(1));
        assert_eq!(at(0, 2, 0, &h), Target::Stay);
        assert_eq!(at(2, 2, 1, &h), Target::Stay);
        assert_eq!(at(1, 2, 0, &h), Target::Stay, "already there");
        // A leader that never waited gives its followers nothing to go by.
        assert_eq!(
            at(3, 2, 0, &[Some(0), Some(0), None, Some(0)]),
            Target::Stay
        );
    }

    /// Two leaders on one CPU: the higher moves off every leader's CPU, the lower stays.
    #[test]
    fn leaders_spread_out() {
        let h = [Some(0), Some(0), Some(0), Some(0)];
        assert_eq!(at(2, 2, 0, &h), Target::OffOf(vec![0, 0]));
        assert_eq!(at(0, 2, 0, &h), Target::Stay);
        // 6 ranks on 3 CPUs: leaders 0, 2, 4; 4 shares CPU 1 with leader 2.
        let h = [Some(0), None, Some(1), None, Some(1), None];
        assert_eq!(at(4, 3, 1, &h), Target::OffOf(vec![0, 1, 1]));
        assert_eq!(at(2, 3, 1, &h), Target::Stay);
    }

    /// Uneven groups (5 ranks on 2 CPUs: {0, 1, 2}, {3, 4}), and no balance on one CPU.
    #[test]
    fn uneven_groups_and_one_cpu() {
        let h = [Some(0), Some(1), Some(1), Some(1), Some(0)];
        assert_eq!(at(1, 2, 1, &h), Target::To(0));
        assert_eq!(at(2, 2, 1, &h), Target::To(0));
        assert_eq!(at(4, 2, 0, &h), Target::To(1));
        assert_eq!(at(3, 2, 1, &h), Target::Stay);
        assert_eq!(at(1, 1, 1, &h), Target::Stay);
    }
}
