//! The authenticated connections from our peers, read by whichever thread gets there first:
//! the reader thread (while the rank computes or sleeps) or the rank itself from inside
//! `Fabric::poll` (while it spins in a blocking call).
//!
//! Why both: with only the reader thread, every message waits until the scheduler runs it,
//! and a rank spinning in MPI_Recv holds the very core it needs — on a host whose cores are
//! all busy the spin phase (a millisecond) ran out before the reader got in, so the latency
//! was a millisecond. MPICH's sockets are read by the progress engine of the waiting thread
//! itself; this does the same while keeping the reader for the time nobody polls.
//!
//! The rule that makes two readers safe: only the reader thread adds or removes
//! connections (so indices stay put between its `poll(2)` and its reads), every frame is
//! read whole under the set's lock, and a connection is read with one non-blocking
//! `recv(2)` into its buffer (`recvbuf`), so a thread that finds the data already taken
//! goes on instead of blocking. A connection that ended is only marked `closed` by a
//! caller; the reader removes it.

use super::rawio::Wait;
use super::recvbuf::{Fill, RecvBuf};
use super::{Frame, Serve, Tcp};
use parking_lot::Mutex;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;

/// An authenticated connection with peer `src`: one it opened to us, or the way back of
/// one we opened to it (`ours`, see `Tcp::out`).
pub(super) struct Inbound {
    pub conn: TcpStream,
    pub src: usize,
    /// We opened it: the peer writes on it only if it had no connection of its own to us.
    pub ours: bool,
    /// The peer has written on it (at least one `recv` got bytes).
    pub heard: bool,
    /// It ended (the peer was lost or said goodbye); the reader removes it.
    pub closed: bool,
    /// What has arrived and is not yet parsed.
    pub rx: RecvBuf,
    /// The rank's own last read of it emptied the socket: its next `pump` skips it once
    /// (see `Tcp::pump`).
    pub just_drained: bool,
}

impl Inbound {
    /// Whether its end (or failure) tells that the peer is gone: not for the way back of a
    /// connection we opened that the peer never wrote on. When both ranks connected at
    /// once, each writes on its own connection, and the other's ends when its process
    /// exits, with no `BYE` on it (that went on the one it wrote on, which may be read
    /// later): that end is no loss. Our own writes on such a connection still find a peer
    /// that is gone (`Tcp::write_to`), as before connections were shared.
    pub fn tells_health(&self) -> bool {
        !self.ours || self.heard
    }

    pub fn new(conn: TcpStream, src: usize, ours: bool) -> Inbound {
        Inbound {
            conn,
            src,
            ours,
            heard: false,
            closed: false,
            rx: RecvBuf::default(),
            just_drained: false,
        }
    }
}

/// The connections and a reusable `poll(2)` array.
#[derive(Default)]
pub(super) struct Conns {
    pub list: Vec<Inbound>,
    fds: Vec<libc::pollfd>,
}

pub(super) type Set = Mutex<Conns>;

/// Up to this many connections, `pump` reads each without a `poll(2)` first.
const FEW: usize = 4;

pub(super) fn pollin(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

impl Tcp {
    /// Reads the frames that have arrived, without waiting for any; called by `poll` when
    /// the inbox is empty and by a rendezvous read waiting for its answer. Does nothing if
    /// another thread is reading, unless a loss may be acted on (`settle`). The peers'
    /// reads of our memory found here are answered by this thread, once the set is
    /// unlocked (see the module doc).
    ///
    /// `first`: the slot of a poll that takes the first cell read straight back, with no
    /// trip through the inbox (its queue's lock and its counter, taken and given back on
    /// the latency path of every message); only when the inbox is empty, which keeps the
    /// order: frames are queued only under the set's lock, so none older can come in.
    pub(super) fn pump(&self, first: Option<&mut Option<Frame>>) {
        self.presence.beat();
        // After the layer above asked for lost peers (it is about to fail what waits on
        // them, see `lost_peers`): wait for a thread that is reading, and pass over nothing,
        // so every frame that arrived before the loss is delivered before the poll that
        // finds nothing.
        let settle =
            self.settle.load(Ordering::Relaxed) && self.settle.swap(false, Ordering::AcqRel);
        let mut answers = Vec::new();
        {
            let mut set = match settle {
                true => self.inbound.lock(),
                false => match self.inbound.try_lock() {
                    Some(set) => set,
                    None => return,
                },
            };
            let Conns { list, fds } = &mut *set;
            if list.is_empty() {
                return;
            }
            let mut first = first.filter(|_| !self.inbox.has_inbound());
            // A few connections: one non-blocking read each costs no more than a poll(2) and
            // saves it when a frame waits (the common case for a spinning receiver). A
            // connection whose last read here emptied the socket is skipped once: the engine
            // polls again right after it delivers a frame (before the caller can answer it),
            // and that read would find nothing but cost a system call, and the socket's
            // lock, on the latency path (strace of an 8 B ping-pong: recv 61 B, recv EAGAIN,
            // sendmsg). Skipping loses nothing: the next pump reads it, and every sleep
            // watches the sockets with a level-triggered poll(2) (`sleep_on_sockets`, or the
            // reader thread through `presence`).
            if list.len() <= FEW {
                for c in list.iter_mut() {
                    if std::mem::take(&mut c.just_drained) && !settle {
                        continue;
                    }
                    self.drain(c, Some(&mut answers), first.as_deref_mut());
                }
            } else {
                fds.clear();
                fds.extend(list.iter().map(|c| pollin(c.conn.as_raw_fd())));
                if matches!(crate::transport::fd::poll(fds, 0), Ok(n) if n > 0) {
                    for (c, f) in list.iter_mut().zip(fds.iter()) {
                        if f.revents != 0 {
                            self.drain(c, Some(&mut answers), first.as_deref_mut());
                        }
                    }
                }
            }
        }
        if !answers.is_empty() {
            self.served.store(true, Ordering::Relaxed);
        }
        for a in answers {
            // Still reading our sockets: a window's answers take longer than the reader
            // thread's look (`presence::LOOK`), which then took the rank to be away, read the
            // next PULLs itself and handed them to the pull server, whose answers contended
            // with ours for the connection (perf of a 2 MiB window: the rank's thread waiting
            // on the connection's lock between its answers).
            self.presence.beat();
            self.answer(a, self.io_spin.wait());
        }
    }

    /// Sleeps in `poll(2)` on the inbound connections and `bell` (an eventfd the caller's
    /// doorbell signals) until one is readable or `timeout` passes: the rank waits for its
    /// peers in the kernel itself, and the frame that wakes it is read by its own next
    /// `pump`, with no thread hand-over (see `presence`). May return early.
    pub fn sleep_on_sockets(&self, bell: RawFd, timeout: std::time::Duration) {
        // Nothing held across a sleep (see `coalesce`).
        self.flush();
        let mut fds = std::mem::take(&mut *self.sleep_fds.lock());
        fds.clear();
        fds.push(pollin(bell));
        {
            let set = self.inbound.lock();
            fds.extend(
                set.list
                    .iter()
                    .filter(|c| !c.closed)
                    .map(|c| pollin(c.conn.as_raw_fd())),
            );
        }
        // A descriptor the reader closes meanwhile (a lost peer) only ends the sleep early.
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // An error (EINTR) only ends the sleep early too: the caller looks and sleeps again.
        let _ = self
            .presence
            .on_sockets(|| crate::transport::fd::poll(&mut fds, ms));
        *self.sleep_fds.lock() = fds;
    }

    /// Reads every frame that has arrived on `c` (the caller holds the set's lock): one
    /// `recv` takes what is there, the frames in it are handled, and (on the reader thread)
    /// another `recv` is made only if the first filled the buffer. The doorbell rings once, if a cell
    /// went to the inbox. An end
    /// without `BYE`, or a broken stream, loses the peer (see `liveness`). The peers' reads
    /// of our memory go to `answers` when the caller answers them itself (the rank's own
    /// thread), else to the pull server (the reader thread never writes). The first cell
    /// goes to `first` if given and empty, the others to the inbox.
    pub(super) fn drain(
        &self,
        c: &mut Inbound,
        mut answers: Option<&mut Vec<Serve>>,
        mut first: Option<&mut Option<Frame>>,
    ) {
        let mut cells = false;
        while !c.closed {
            let drained = match c.rx.fill(c.conn.as_raw_fd()) {
                Ok(Fill::None) => break,
                Ok(Fill::Got { drained, .. }) => {
                    c.heard = true;
                    drained
                }
                Ok(Fill::End) => {
                    c.closed = true;
                    if c.tells_health() && !self.has_departed(c.src) {
                        self.lose(
                            c.src,
                            "its connection ended without a goodbye (the process died or hung \
                             up)"
                            .into(),
                        );
                    }
                    break;
                }
                Err(e) => {
                    c.closed = true;
                    if c.tells_health() {
                        self.lose(c.src, format!("its connection broke: {e}"));
                    }
                    break;
                }
            };
            while let Some(t) = c.rx.take_byte() {
                // The rank's own thread waits for the rest of a frame as it waits in
                // the engine (see `rawio`); the reader thread blocks.
                let wait = if answers.is_some() {
                    self.io_spin.wait()
                } else {
                    Wait::Block
                };
                let f = c.rx.frame(&c.conn, wait);
                match super::reader::read_frame(self, t, f, c.src, answers.as_deref_mut()) {
                    Ok(None) => {}
                    Ok(Some(cell)) => match first.as_deref_mut() {
                        Some(slot @ None) => *slot = Some(cell),
                        _ => {
                            self.inbox.push(cell);
                            cells = true;
                        }
                    },
                    Err(e) => {
                        c.closed = true;
                        self.lose(c.src, format!("its connection broke: {e}"));
                        break;
                    }
                }
            }
            // Only the rank's own reads mark it (the reader thread is poll-driven), and only
            // when every frame was whole in the buffer: a frame whose body came from the
            // socket past it was still being written, and the next one may follow at once.
            c.just_drained = drained && answers.is_some() && !c.rx.read_past;
            // The rank's own thread goes back to its engine after one buffer's worth, to
            // deliver while the data is in cache (measured: 64 KiB bandwidth about twice as
            // high); the reader thread reads on.
            if drained || answers.is_some() {
                break;
            }
        }
        if cells {
            (self.waker)();
        }
    }
}
