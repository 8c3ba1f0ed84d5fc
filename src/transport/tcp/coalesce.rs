//! Eager messages to one peer coalesced into one write: the second and later eager
//! messages a rank sends a peer between two of its progress passes are held in the peer's
//! buffer and written together, in one sendmsg(2), by the next pass (`Tcp::poll`), before
//! any sleep, when a blocking send returns, before any other write on the connection, or
//! by the reader thread once the rank has left MPI.
//!
//! Why: a window of nonblocking sends (OSU's osu_bw, bench/p2p.c) cost one sendmsg(2)
//! a message, and over the test hosts' veth pair most of a sendmsg is the kernel's TCP work
//! on both ends (tcp11's perf of the 4 KiB window: 88% of the sender's time in sendmsg, 39%
//! of that the receiver's TCP processing, run on the sender's core). Open MPI's btl/tcp
//! queues the fragments of an endpoint whose socket is busy and writes them with one
//! `writev` when it turns writable (`mca_btl_tcp_endpoint_send`, `btl_tcp_frag.c`); UCX's
//! TCP transport (MPICH here) copies short active messages into the endpoint's send buffer.
//! Held here: only the user's eager messages (`Tcp::send_eager`): the cell-less small ones
//! (`Fabric::send_small`) and eager cells (`Fabric::send_eager`) of at most [`HOLD_ONE_MAX`]
//! bytes. Protocol frames (RTS, FIN, acknowledgements), larger eager frames and pull
//! answers are written at once, after what is held (one stream, so the order holds): a FIN
//! held after a Waitall could keep a peer waiting.
//!
//! What is not delayed: the first message after a pass goes at once (a lone message,
//! a ping-pong), so latency does not grow; a message is held only behind another one sent
//! in the same pass, and only until the rank polls, sleeps, returns from a blocking send or
//! writes anything else to that peer. A rank that returns from MPI_Isend and computes
//! without calling MPI again leaves its held bytes to the reader thread, which writes them
//! (never blocking) when it finds the rank away, within `presence::LOOK`.

use super::{rawio, Tcp};
use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;

/// The most bytes held for one peer: the message that reaches it is written with the held
/// ones at once (a window of 64 messages of 256 B and their heads fits; 16 KiB cells go
/// four to a write).
const HELD_MAX: usize = 64 << 10;

/// The largest eager message held; a larger one is written at once (after what is held).
/// Its own figure, not `fabric::SMALL_SEND_MAX` (the cell-less path's, which shared memory
/// may raise): a held message is copied once more, into `held`, and at 32 KiB that gained
/// nothing (A/B over the test hosts' veth pair, 64-message window, medians of 9 alternating
/// rounds, two runs: 32 KiB held 4259 -> 4154 and 3752 -> 3803 MB/s; 16 KiB 2815 -> 4394).
pub const HOLD_ONE_MAX: usize = 16 << 10;

impl Tcp {
    /// Sends one of the user's eager messages (header and payload) to peer `i`: at once if
    /// it is the first to that peer since the last progress pass or larger than
    /// [`HOLD_ONE_MAX`], else held and written with the others by the next flush (see the
    /// module doc).
    pub fn send_eager(&self, i: usize, hdr: &[u8], payload: &[u8]) -> io::Result<()> {
        let peer = &self.peers[i];
        let pass = self.pass.load(Ordering::Relaxed);
        if payload.len() > HOLD_ONE_MAX {
            return self.send(i, hdr, payload);
        }
        if peer.last_pass.load(Ordering::Relaxed) != pass {
            // `write_to` writes what is held first.
            peer.last_pass.store(pass, Ordering::Relaxed);
            return self.send(i, hdr, payload);
        }
        let head = super::wire::cell_head(hdr, payload.len());
        // Appended under our connection's lock, as every write on it is made: the held bytes
        // keep their place in the stream.
        let mut out = self.out(i)?;
        let mut held = peer.held.lock();
        held.extend_from_slice(&head);
        held.extend_from_slice(payload);
        peer.has_held.store(true, Ordering::Relaxed);
        if held.len() < HELD_MAX {
            self.held_any.store(true, Ordering::Release);
            return Ok(());
        }
        drop(held);
        let s = out.as_mut().expect("connected by out()");
        let r = self.write_held(i, s);
        if let Err(e) = &r {
            self.write_failed(i, out, e);
        }
        r
    }

    /// Writes what is held for peer `i` on `s`, our connection to it (its lock held),
    /// waiting for room as the rank's thread does (see `rawio`).
    pub(super) fn write_held(&self, i: usize, s: &mut TcpStream) -> io::Result<()> {
        let peer = &self.peers[i];
        if !peer.has_held.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut held = peer.held.lock();
        let r = rawio::send_all(s.as_raw_fd(), &[&held[..]], self.io_spin.wait());
        // Written, or the connection is broken and the peer lost: nothing to keep either way.
        held.clear();
        peer.has_held.store(false, Ordering::Relaxed);
        r
    }

    /// Writes every peer's held messages (a progress pass, a sleep, a blocking send's
    /// return): one atomic load when nothing is held.
    #[inline]
    pub fn flush(&self) {
        if self.held_any.load(Ordering::Acquire) {
            self.flush_all(false);
        }
    }

    /// A progress pass of the rank: messages sent from now on start a new run.
    #[inline]
    pub(super) fn next_pass(&self) {
        let p = self.pass.load(Ordering::Relaxed);
        self.pass.store(p.wrapping_add(1), Ordering::Relaxed);
        self.flush();
    }

    /// Writes every peer's held messages. `nowait` (the reader thread): only what each
    /// socket takes now, skipping a connection another thread is writing on, so that this
    /// thread never waits on a peer; what is left stays held for the next flush.
    pub(super) fn flush_all(&self, nowait: bool) {
        if !self.held_any.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut left = false;
        for (i, peer) in self.peers.iter().enumerate() {
            if !peer.has_held.load(Ordering::Relaxed) {
                continue;
            }
            let mut out = match nowait {
                true => match peer.out.try_lock() {
                    Some(out) => out,
                    None => {
                        left = true;
                        continue;
                    }
                },
                false => peer.out.lock(),
            };
            let Some(s) = out.as_mut() else {
                // The connection was dropped with its peer: nothing can be written.
                peer.held.lock().clear();
                peer.has_held.store(false, Ordering::Relaxed);
                continue;
            };
            let r = match nowait {
                true => {
                    let mut held = peer.held.lock();
                    let r = rawio::send_ready(s.as_raw_fd(), &held);
                    if let Ok(n) = r {
                        held.drain(..n);
                        left |= !held.is_empty();
                        peer.has_held.store(!held.is_empty(), Ordering::Relaxed);
                    }
                    r.map(drop)
                }
                false => self.write_held(i, s),
            };
            if let Err(e) = &r {
                peer.held.lock().clear();
                peer.has_held.store(false, Ordering::Relaxed);
                self.write_failed(i, out, e);
            }
        }
        if left {
            self.held_any.store(true, Ordering::Release);
        }
    }
}
