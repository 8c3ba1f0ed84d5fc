//! Admission control for a listening socket that strangers can reach (the abstract
//! namespace is open to every user of the host): what keeps a listener from being exhausted
//! by idle, slow or hostile connectors.
//!
//! Rules, shared by every listener of the project (the socket transport's and mpiexec's
//! name server):
//! * connections that have not yet proved who they are ("pending") are served by the
//!   listener's one poll loop: no thread and no blocking read per pending connection;
//! * a pending connection gets [`HANDSHAKE_DEADLINE`] to complete its hello, then is
//!   dropped (a legitimate peer writes its hello right after `connect`, in one write);
//! * at most [`MAX_PENDING`] are pending per listener: one more evicts the oldest, so a
//!   flood cannot block newcomers (a legitimate hello is already in the socket buffer when
//!   it is accepted and is read in the same round, long before it could be evicted);
//! * when `accept` fails for lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
//!   ENOMEM) the listener is left alone for [`ACCEPT_BACKOFF`] instead of being polled
//!   again at once: a level-triggered listener that cannot be drained would spin.
//!
//! The same rules as nginx's and sshd's (`MaxStartups`, `LoginGraceTime`) in miniature.

use std::collections::VecDeque;
use std::io;
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

/// Time a connection may take to present its hello.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(5);
/// Connections waiting for their hello, per listener.
pub const MAX_PENDING: usize = 64;
/// How long a listener rests after running out of descriptors.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Connections waiting for their hello, oldest first, each with its deadline.
pub struct Pending<T> {
    items: VecDeque<(Instant, T)>,
    cap: usize,
    deadline: Duration,
    /// Connections dropped so far because the cap was reached or their time ran out.
    pub dropped: u64,
}

impl<T> Pending<T> {
    pub fn new(cap: usize, deadline: Duration) -> Pending<T> {
        Pending {
            items: VecDeque::new(),
            cap: cap.max(1),
            deadline,
            dropped: 0,
        }
    }

    /// Admits `t` (accepted at `now`); returns the oldest pending connection when the cap
    /// is exceeded, for the caller to drop.
    pub fn admit(&mut self, t: T, now: Instant) -> Option<T> {
        self.items.push_back((now + self.deadline, t));
        if self.items.len() > self.cap {
            self.dropped += 1;
            return self.items.pop_front().map(|(_, t)| t);
        }
        None
    }

    /// Removes and returns the connections whose deadline has passed.
    pub fn expire(&mut self, now: Instant) -> Vec<T> {
        let mut out = Vec::new();
        // Deadlines grow with admission order, so the expired ones are at the front.
        while self.items.front().is_some_and(|(d, _)| *d <= now) {
            if let Some((_, t)) = self.items.pop_front() {
                out.push(t);
            }
        }
        self.dropped += out.len() as u64;
        out
    }

    /// The earliest deadline, if anything is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.items.front().map(|(d, _)| *d)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, t)| t)
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.items.get_mut(i).map(|(_, t)| t)
    }

    /// Removes the `i`-th pending connection (its hello is complete, or it failed).
    pub fn remove(&mut self, i: usize) -> Option<T> {
        self.items.remove(i).map(|(_, t)| t)
    }

    /// Keeps only the connections for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut T) -> bool) {
        self.items.retain_mut(|(_, t)| keep(t));
    }
}

/// What one `accept` on a non-blocking listener gave.
pub enum Accepted<C = UnixStream> {
    /// A new connection, already non-blocking.
    Conn(C),
    /// Nothing more to accept now.
    Drained,
    /// Out of descriptors or memory: rest until the given instant.
    Rest(Instant, io::Error),
}

/// Accepts one connection from a non-blocking `listener`.
pub fn accept_one(listener: &UnixListener, now: Instant) -> Accepted {
    accept_with(now, || {
        let (s, _) = listener.accept()?;
        s.set_nonblocking(true)?;
        Ok(s)
    })
}

/// Accepts one connection with `accept` (an `accept` on a non-blocking listener of any
/// kind that also makes the new connection non-blocking), under the rules above.
pub fn accept_with<C>(now: Instant, mut accept: impl FnMut() -> io::Result<C>) -> Accepted<C> {
    loop {
        match accept() {
            Ok(s) => return Accepted::Conn(s),
            Err(e) => match e.raw_os_error() {
                Some(libc::EINTR) | Some(libc::ECONNABORTED) | Some(libc::EPROTO) => {}
                Some(libc::EAGAIN) => return Accepted::Drained,
                Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS)
                | Some(libc::ENOMEM) => return Accepted::Rest(now + ACCEPT_BACKOFF, e),
                // Anything else is unexpected for a listening socket: rest as well rather
                // than risk a loop that fails at full speed.
                _ => return Accepted::Rest(now + ACCEPT_BACKOFF, e),
            },
        }
    }
}

/// Milliseconds from `now` until the earliest of `deadlines` (-1: none), rounded up so a
/// poll does not wake just before a deadline and spin.
pub fn poll_timeout_ms(now: Instant, deadlines: impl IntoIterator<Item = Instant>) -> i32 {
    match deadlines.into_iter().min() {
        None => -1,
        Some(t) => t
            .saturating_duration_since(now)
            .as_micros()
            .div_ceil(1000)
            .min(i32::MAX as u128) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_evicts_the_oldest_and_deadlines_expire() {
        let t0 = Instant::now();
        let mut p = Pending::new(2, Duration::from_secs(1));
        assert!(p.admit(1, t0).is_none());
        assert!(p.admit(2, t0 + Duration::from_millis(10)).is_none());
        assert_eq!(p.admit(3, t0 + Duration::from_millis(20)), Some(1));
        assert_eq!(p.len(), 2);
        assert_eq!(p.next_deadline(), Some(t0 + Duration::from_millis(1010)));
        assert!(p.expire(t0 + Duration::from_millis(500)).is_empty());
        assert_eq!(p.expire(t0 + Duration::from_millis(1015)), vec![2]);
        assert_eq!(p.iter().copied().collect::<Vec<_>>(), vec![3]);
        assert_eq!(p.dropped, 2);
        assert_eq!(p.remove(0), Some(3));
        assert!(p.is_empty());
        assert_eq!(poll_timeout_ms(t0, None), -1);
        assert_eq!(poll_timeout_ms(t0, [t0 + Duration::from_micros(1500)]), 2);
    }

    #[test]
    fn accept_drains_without_blocking() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("oximpi-gate-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let l = UnixListener::bind_addr(&addr).unwrap();
        l.set_nonblocking(true).unwrap();
        assert!(matches!(accept_one(&l, Instant::now()), Accepted::Drained));
        let _c = UnixStream::connect_addr(&addr).unwrap();
        assert!(matches!(accept_one(&l, Instant::now()), Accepted::Conn(_)));
        assert!(matches!(accept_one(&l, Instant::now()), Accepted::Drained));
    }
}
