//! The blocking loop and its waiting policy. A blocked call runs progress until its
//! condition holds: spinning for a while (a message from a running peer usually arrives
//! within microseconds), then yielding a few times, then sleeping on the doorbell so a
//! blocked rank does not burn a core. Any progress starts the spin phase again.

use super::nap::Naps;
use crate::settings::{self, Value};
use crate::tool::counters;
use crate::transport::fabric::Fabric;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// What a blocked caller sleeps on: a ticket taken before the last check for work, and a
/// sleep that ends when the doorbell rings after that ticket (or inbound traffic arrives, or
/// the timeout passes). Every fabric is one.
pub trait Doorbell {
    fn ticket(&self) -> u32;
    fn sleep_since(&self, ticket: u32, timeout: Duration);
    /// Asked when a wait starts (once per spin phase, spin or not): true when a peer last
    /// waited on this CPU, so a spin would hold the CPU it needs. The fabric may first move
    /// the caller to another CPU: off a peer's, or, with more ranks than cores, to its block's
    /// (see `Fabric::peer_on_my_cpu`).
    fn peer_on_my_cpu(&self) -> bool;
}

impl<F: Fabric> Doorbell for F {
    #[inline]
    fn ticket(&self) -> u32 {
        Fabric::ticket(self)
    }
    #[inline]
    fn sleep_since(&self, ticket: u32, timeout: Duration) {
        self.wait_since(ticket, timeout)
    }
    #[inline]
    fn peer_on_my_cpu(&self) -> bool {
        Fabric::peer_on_my_cpu(self)
    }
}

/// How long a blocked call spins and yields before it sleeps, and who sleeps now.
pub struct WaitPolicy {
    spin: Duration,
    yields: u32,
    /// OXIMPI_SPIN was given: the spin time is the user's, whatever the load.
    spin_fixed: bool,
    cpus: usize,
    /// Processes of our job on this host.
    nlocal: usize,
    /// Threads asleep on the doorbell (whoever completes a request rings it if any).
    pub sleepers: AtomicU32,
}

impl WaitPolicy {
    /// The policy for a process with `nlocal` ranks of its job on this host: spin only
    /// while every local rank can have a core; oversubscribed ranks yield and go to sleep
    /// quickly so the ones with work get the CPU. OXIMPI_SPIN (or MPI_T before MPI_Init)
    /// fixes the spin time.
    pub fn new(nlocal: usize) -> WaitPolicy {
        let cpus = crate::transport::cpu::usable_cpus();
        let (spin_us, yields) = if nlocal <= cpus { (1000, 20) } else { (0, 50) };
        let spin_env = settings::SPIN.get_u64();
        let spin = Duration::from_micros(spin_env.unwrap_or(spin_us));
        settings::SPIN.set_effective(Value::Unsigned(spin.as_micros() as u64));
        WaitPolicy {
            spin,
            yields,
            spin_fixed: spin_env.is_some(),
            cpus,
            nlocal,
            sleepers: AtomicU32::new(0),
        }
    }

    /// Spin time and yields for a blocked call when we talk to `others` processes of other
    /// jobs (spawned children, parents): they share this host's cores too, so once the
    /// processes we know outnumber the cores a blocked call stops spinning, as ranks of an
    /// oversubscribed job do.
    pub fn limits(&self, others: usize) -> (Duration, u32) {
        if others == 0 || self.spin_fixed || self.nlocal + others <= self.cpus {
            (self.spin, self.yields)
        } else {
            (Duration::ZERO, self.yields.max(50))
        }
    }

    /// True if a thread sleeps on the doorbell (a completion must ring it).
    #[inline]
    pub fn anyone_asleep(&self) -> bool {
        self.sleepers.load(Ordering::SeqCst) > 0
    }
}

/// Runs `step` until it returns `(_, Some(r))`. `step` runs progress once and checks the
/// caller's condition; its first value says whether progress did anything. `others` is the
/// number of processes of other jobs we talk to (see `WaitPolicy::limits`).
///
/// A spin phase starts by asking the doorbell whether a peer last waited on our CPU: then
/// it does not spin but yields at once (a spinner there holds the CPU the peer needs to
/// answer: 1 ms a message, issue 13), as an oversubscribed rank does. An oversubscribed
/// wait asks too, for the fabric's placement of ranks on CPUs (issue 13: two ping-pong
/// pairs on 2 cores took twice as long when the kernel put three ranks on one CPU).
pub fn block_on<R>(
    policy: &WaitPolicy,
    bell: &impl Doorbell,
    others: usize,
    mut step: impl FnMut() -> (bool, Option<R>),
) -> R {
    let mut spins = 0u32;
    let mut yields = 0u32;
    let (spin, max_yields) = policy.limits(others);
    let mut spin_start: Option<Instant> = None;
    // The first clock reading the policy takes: time blocked is counted from there
    // (MPI_T's time_blocked), so a wait that ends within 64 polls reads no clock.
    let mut blocked_since: Option<Instant> = None;
    let mut asleep = false;
    let mut naps = Naps::new();
    // Ask where the peers run once per spin phase (first poll without result).
    let mut ask_cpu = true;
    let mut peer_here = false;
    loop {
        let mut ticket = 0;
        if asleep {
            policy.sleepers.fetch_add(1, Ordering::SeqCst);
            ticket = bell.ticket();
        }
        let (did, done) = step();
        if let Some(r) = done {
            if asleep {
                policy.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
            if let Some(t) = blocked_since {
                counters::BLOCKED_NS.add(t.elapsed().as_nanos() as u64);
            }
            return r;
        }
        if did {
            (spins, yields, spin_start) = (0, 0, None);
            ask_cpu = true;
            naps.reset();
        }
        if asleep {
            bell.sleep_since(ticket, naps.next());
            policy.sleepers.fetch_sub(1, Ordering::SeqCst);
            asleep = spin_start.is_some();
            continue;
        }
        // Read the clock only every 64 polls: it costs more than a poll.
        spins += 1;
        // Asked without a spin too: with more ranks than cores the fabric places the ranks
        // on the CPUs there (`Shm::peer_on_my_cpu`).
        if ask_cpu {
            ask_cpu = false;
            peer_here = bell.peer_on_my_cpu();
        }
        if !spin.is_zero()
            && !peer_here
            && (spins % 64 != 0 || {
                let t = *spin_start.get_or_insert_with(Instant::now);
                blocked_since.get_or_insert(t);
                t.elapsed() < spin
            })
        {
            std::hint::spin_loop();
        } else if yields < max_yields {
            yields += 1;
            std::thread::yield_now();
        } else {
            asleep = true;
            let t = *spin_start.get_or_insert_with(Instant::now);
            blocked_since.get_or_insert(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A doorbell whose peer always last waited on our CPU; it counts the questions and
    /// the sleeps.
    struct PeerHere {
        asked: Cell<u32>,
        slept: Cell<u32>,
    }

    impl Doorbell for PeerHere {
        fn ticket(&self) -> u32 {
            0
        }
        fn sleep_since(&self, _ticket: u32, _timeout: Duration) {
            self.slept.set(self.slept.get() + 1);
        }
        fn peer_on_my_cpu(&self) -> bool {
            self.asked.set(self.asked.get() + 1);
            true
        }
    }

    /// With a peer on our CPU a wait does not spin out its (here 10 s) spin time: it yields
    /// its few times and sleeps; it asks once per spin phase (again after progress).
    #[test]
    fn a_peer_on_my_cpu_stops_the_spin() {
        let policy = WaitPolicy {
            spin: Duration::from_secs(10),
            yields: 3,
            spin_fixed: true,
            cpus: 2,
            nlocal: 2,
            sleepers: AtomicU32::new(0),
        };
        let bell = PeerHere {
            asked: Cell::new(0),
            slept: Cell::new(0),
        };
        let t = Instant::now();
        let mut polls = 0u32;
        block_on(&policy, &bell, 0, || {
            polls += 1;
            // Progress on the 2nd poll (a new spin phase), done after the first sleep.
            (polls == 2, (bell.slept.get() > 0).then_some(()))
        });
        assert!(t.elapsed() < Duration::from_secs(5), "it spun");
        assert_eq!(bell.asked.get(), 2, "one question per spin phase");
        assert_eq!(bell.slept.get(), 1);
        // 1 poll, progress, then 3 yields and the poll that decides to sleep, then the
        // poll after the sleep.
        assert_eq!(polls, 2 + 3 + 1 + 1);
    }
}
