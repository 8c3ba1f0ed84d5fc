//! Who reads the inbound connections: the rank's own thread while it is in an MPI call,
//! the reader thread only while the rank is away (asleep on its doorbell, or computing
//! outside MPI).
//!
//! Why: a reader thread that `poll(2)`s the connections all the time is woken by every
//! frame, even when the rank is spinning on the same sockets and reads the frame itself
//! a moment later. On a host whose cores are all busy that wake-up costs a context switch
//! per message and the two threads fight over the socket's lock (measured: the reader
//! thread woke on about every other message of a ping-pong). MPICH's ch3 sockets and
//! UCX's TCP transport have no such thread: the progress engine polls the sockets itself.
//! We keep the thread for the time nobody polls: a rank computing outside MPI must still
//! answer its peers' rendezvous reads, and must drain its sockets so that two ranks
//! writing large frames to each other cannot both block in `sendmsg`.
//!
//! How the reader knows: the rank bumps [`Presence::beat`] on every read attempt
//! (`Tcp::pump`), and says when it goes to sleep on the doorbell
//! ([`Presence::away`]: the reader is woken through an eventfd and watches at once). The
//! reader looks again every [`LOOK`]: no beat since its last look means the rank is away.
//! The cost of a rank that left MPI is at most one `LOOK` before its sockets are read.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// How often the reader thread looks whether the rank still reads its sockets.
pub(super) const LOOK: Duration = Duration::from_millis(2);

/// A Linux eventfd: a counter that `poll(2)` sees as readable while it is not zero.
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    pub(crate) fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd takes no pointers; a negative result is an error.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just created and nothing else owns it.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Makes the counter non-zero (wakes whoever polls it).
    pub(crate) fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes the 8 bytes of `one`, a local. It cannot fail short of an overflow
        // of the counter (2^64 - 2 signals without a drain), which only delays a wake-up.
        let _ = unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Sets the counter back to zero.
    pub(crate) fn drain(&self) {
        let mut n: u64 = 0;
        // SAFETY: reads 8 bytes into `n`, a local; EAGAIN when it was zero already.
        let _ = unsafe { libc::read(self.0.as_raw_fd(), (&mut n as *mut u64).cast(), 8) };
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// What the rank tells its reader thread.
pub(super) struct Presence {
    /// Bumped by every read attempt of the rank's own threads.
    beats: AtomicU64,
    /// Threads of the rank asleep on the doorbell (not on the sockets themselves).
    away: AtomicU32,
    /// Threads of the rank asleep in `poll(2)` on the sockets themselves.
    on_sockets: AtomicU32,
    /// Wakes the reader thread when a thread goes to sleep.
    pub(super) wake: EventFd,
}

impl Presence {
    pub(super) fn new() -> io::Result<Presence> {
        Ok(Presence {
            beats: AtomicU64::new(0),
            away: AtomicU32::new(0),
            on_sockets: AtomicU32::new(0),
            wake: EventFd::new()?,
        })
    }

    /// The rank is reading its sockets (every `pump`): the reader thread keeps off them.
    #[inline]
    pub(super) fn beat(&self) {
        self.beats.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `sleep` (a sleep on the doorbell) with the reader thread watching the sockets:
    /// it is told before, so a frame that came after the rank's last read rings the bell.
    pub(super) fn away<R>(&self, sleep: impl FnOnce() -> R) -> R {
        self.away.fetch_add(1, Ordering::SeqCst);
        self.wake.signal();
        let r = sleep();
        self.away.fetch_sub(1, Ordering::SeqCst);
        r
    }

    /// Runs `sleep` (the rank's own `poll(2)` on its sockets): the reader keeps off them.
    pub(super) fn on_sockets<R>(&self, sleep: impl FnOnce() -> R) -> R {
        self.on_sockets.fetch_add(1, Ordering::SeqCst);
        let r = sleep();
        self.on_sockets.fetch_sub(1, Ordering::SeqCst);
        r
    }

    /// The reader thread's look: true when it must watch the sockets (a thread of the
    /// rank sleeps on the doorbell, or none reads or sleeps on the sockets: no read attempt
    /// came since the last look).
    pub(super) fn reader_watches(&self, last_beats: &mut u64) -> bool {
        self.wake.drain();
        let now = self.beats.load(Ordering::Relaxed);
        let idle = now == *last_beats;
        *last_beats = now;
        (idle && self.on_sockets.load(Ordering::SeqCst) == 0)
            || self.away.load(Ordering::SeqCst) > 0
    }
}
