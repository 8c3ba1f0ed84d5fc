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
//! read whole under the set's lock, and a frame starts with a non-blocking read of its
//! type byte, so a thread that finds the data already taken goes on instead of blocking.
//! A connection that ended is only marked `closed` by a caller; the reader removes it.

use super::rawio::{try_byte, Byte};
use super::Tcp;
use parking_lot::Mutex;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};

/// An authenticated connection from peer `src`.
pub(super) struct Inbound {
    pub conn: TcpStream,
    pub src: usize,
    /// It ended (the peer was lost or said goodbye); the reader removes it.
    pub closed: bool,
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
    /// the inbox is empty. Does nothing if another thread is reading.
    pub(super) fn pump(&self) {
        let Some(mut set) = self.inbound.try_lock() else {
            return;
        };
        let Conns { list, fds } = &mut *set;
        if list.is_empty() {
            return;
        }
        // A few connections: one non-blocking read each costs no more than a poll(2) and
        // saves it when a frame waits (the common case for a spinning receiver).
        if list.len() <= FEW {
            for c in list.iter_mut() {
                self.drain(c);
            }
            return;
        }
        fds.clear();
        fds.extend(list.iter().map(|c| pollin(c.conn.as_raw_fd())));
        if !matches!(crate::transport::fd::poll(fds, 0), Ok(n) if n > 0) {
            return;
        }
        for (c, f) in list.iter_mut().zip(fds.iter()) {
            if f.revents != 0 {
                self.drain(c);
            }
        }
    }

    /// Reads every frame that has arrived on `c` (the caller holds the set's lock). An end
    /// without `BYE`, or a broken stream, loses the peer (see `liveness`).
    pub(super) fn drain(&self, c: &mut Inbound) {
        while !c.closed {
            match try_byte(c.conn.as_raw_fd()) {
                Ok(Byte::None) => return,
                Ok(Byte::End) => {
                    c.closed = true;
                    if !self.has_departed(c.src) {
                        self.lose(
                            c.src,
                            "its connection ended without a goodbye (the process died or hung \
                             up)"
                            .into(),
                        );
                    }
                }
                Ok(Byte::Got(t)) => {
                    if let Err(e) = super::reader::read_frame(self, t, &mut c.conn, c.src) {
                        c.closed = true;
                        self.lose(c.src, format!("its connection broke: {e}"));
                    }
                }
                Err(e) => {
                    c.closed = true;
                    self.lose(c.src, format!("its connection broke: {e}"));
                }
            }
        }
    }
}
