//! The blocking loop and its waiting policy. A blocked call runs progress until its
//! condition holds: spinning for a while (a message from a running peer usually arrives
//! within microseconds), then yielding a few times, then sleeping on the doorbell so a
//! blocked rank does not burn a core. Any progress starts the spin phase again.

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
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
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
        }
        if asleep {
            bell.sleep_since(ticket, Duration::from_millis(100));
            policy.sleepers.fetch_sub(1, Ordering::SeqCst);
            asleep = spin_start.is_some();
            continue;
        }
        // Read the clock only every 64 polls: it costs more than a poll.
        spins += 1;
        if !spin.is_zero()
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
