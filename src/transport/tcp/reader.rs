//! The reader thread of a rank's TCP transport: one `poll(2)` loop over the listener, the
//! connections still in their handshake (non-blocking, under `sock::gate`'s admission rules)
//! and every authenticated inbound connection (shared with the rank's own progress, see
//! `inbound`). `read_frame` handles one frame for whichever thread read its type: cells go
//! to the inbox (and ring the rank's doorbell), PULL requests to the pull server, pull
//! answers straight into the destination memory.

use super::inbound::{pollin, Inbound};
use super::keys::random_bytes;
use super::presence::LOOK;
use super::recvbuf::FrameBytes;
use super::{wire, Serve, Tcp, HANDSHAKE_DEADLINE};
use crate::transport::sock::{gate, Frame};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Instant;

/// Rejected connections reported on stderr, before going quiet.
const MAX_REPORTS: u32 = 20;

/// A connection in its handshake, read without blocking.
struct Handshake {
    conn: TcpStream,
    from: SocketAddr,
    nonce: [u8; wire::NONCE],
    buf: Vec<u8>,
}

enum Step {
    More,
    Done(usize),
    Fail(String),
}

/// The reader thread's state.
pub(super) struct Reader {
    tcp: Arc<Tcp>,
    listener: TcpListener,
    pending: gate::Pending<Handshake>,
    reports: u32,
}

impl Reader {
    pub(super) fn new(tcp: Arc<Tcp>, listener: TcpListener) -> Reader {
        Reader {
            tcp,
            listener,
            pending: gate::Pending::new(gate::MAX_PENDING, HANDSHAKE_DEADLINE),
            reports: 0,
        }
    }

    /// `oximpi: rank N: rejected a TCP connection from ADDR: reason` (the first few).
    fn reject(&mut self, from: SocketAddr, why: &str) {
        self.reports += 1;
        if self.reports <= MAX_REPORTS {
            eprintln!(
                "oximpi: rank {}: rejected a TCP connection from {from}: {why}{}",
                self.tcp.me,
                if self.reports == MAX_REPORTS {
                    " (further rejections are not reported)"
                } else {
                    ""
                }
            );
        }
    }

    pub(super) fn run(mut self) {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut resting_until: Option<Instant> = None;
        let mut beats = 0;
        loop {
            let now = Instant::now();
            if resting_until.is_some_and(|t| now >= t) {
                resting_until = None;
            }
            let listening = resting_until.is_none();
            // The rank's connections only while the rank does not read them (`presence`).
            let watching = self.tcp.presence.reader_watches(&mut beats);
            // A rank away from MPI leaves its held small messages to us (see `coalesce`).
            if watching {
                self.tcp.flush_all(true);
            }
            fds.clear();
            fds.push(pollin(self.tcp.presence.wake.raw()));
            if listening {
                fds.push(pollin(self.listener.as_raw_fd()));
            }
            fds.extend(self.pending.iter().map(|h| pollin(h.conn.as_raw_fd())));
            // Only this thread removes connections: the indices hold until the reads. While
            // the rank reads its sockets itself it may hold the set for a whole large frame
            // (a 4 MiB pull answer streams for a millisecond or more): then this look passes
            // (the ended connections are removed at a later one) rather than wait for the
            // lock, spinning, yielding and sleeping on it and making the rank's unlock a
            // futex wake-up (strace of the 4 MiB window of bench/p2p.c over the veth pair:
            // 1036 sched_yield and 67 futex calls of this thread in 256 messages).
            {
                let set = match watching {
                    true => Some(self.tcp.inbound.lock()),
                    false => self.tcp.inbound.try_lock(),
                };
                if let Some(mut set) = set {
                    let mut i = 0;
                    while i < set.list.len() {
                        if set.list[i].closed {
                            let c = set.list.swap_remove(i);
                            // The peer's answers come on the connection it writes on.
                            if c.tells_health() {
                                self.tcp.fail_pulls_of(c.src);
                            }
                        } else {
                            i += 1;
                        }
                    }
                    if watching {
                        fds.extend(set.list.iter().map(|c| pollin(c.conn.as_raw_fd())));
                    }
                }
            }
            let timeout = gate::poll_timeout_ms(
                now,
                self.pending
                    .next_deadline()
                    .into_iter()
                    .chain(resting_until)
                    .chain(Some(now + LOOK)),
            );
            if let Err(e) = crate::transport::fd::poll(&mut fds, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    std::thread::sleep(gate::ACCEPT_BACKOFF);
                }
                continue;
            }
            // After the poll: a connection accepted now gets its whole deadline (the poll
            // may have slept until an older one's).
            let now = Instant::now();
            let skip = 1 + usize::from(listening);
            let npending = self.pending.len();
            // Frames first (the job's traffic); what the rank read meanwhile is simply gone.
            if watching {
                let mut set = self.tcp.inbound.lock();
                let ready = fds[skip + npending..].iter().map(|f| f.revents != 0);
                for (c, _) in set.list.iter_mut().zip(ready).filter(|(_, r)| *r) {
                    self.tcp.drain(c, None, None);
                }
            }
            let ready: Vec<usize> = (0..npending)
                .filter(|&i| fds[skip + i].revents != 0)
                .collect();
            for &i in ready.iter().rev() {
                let step = match self.pending.get_mut(i) {
                    Some(h) => h.advance(&self.tcp),
                    None => continue,
                };
                match step {
                    Step::More => {}
                    Step::Done(src) => {
                        if let Some(h) = self.pending.remove(i) {
                            self.admit(h, src);
                        }
                    }
                    Step::Fail(why) => {
                        if let Some(h) = self.pending.remove(i) {
                            self.reject(h.from, &why);
                        }
                    }
                }
            }
            if listening && fds[1].revents != 0 {
                for _ in 0..gate::MAX_PENDING {
                    let l = &self.listener;
                    match gate::accept_with(now, || {
                        let (s, a) = l.accept()?;
                        s.set_nonblocking(true)?;
                        Ok((s, a))
                    }) {
                        gate::Accepted::Conn((conn, from)) => self.greet(conn, from, now),
                        gate::Accepted::Drained => break,
                        gate::Accepted::Rest(until, e) => {
                            eprintln!(
                                "oximpi: rank {}: cannot accept TCP connections for now: {e}",
                                self.tcp.me
                            );
                            resting_until = Some(until);
                            break;
                        }
                    }
                }
            }
            for h in self.pending.expire(now) {
                self.reject(h.from, "no handshake within the deadline");
            }
        }
    }

    /// A new connection: send our hello and wait (in the poll loop) for its answer.
    fn greet(&mut self, mut conn: TcpStream, from: SocketAddr, now: Instant) {
        let nonce = match random_bytes::<{ wire::NONCE }>() {
            Ok(n) => n,
            Err(e) => return self.reject(from, &format!("no random nonce: {e}")),
        };
        let hello = wire::server_hello(self.tcp.me, &nonce);
        // A fresh socket's buffer takes the few bytes at once.
        match conn.write(&hello) {
            Ok(n) if n == hello.len() => {}
            _ => return self.reject(from, "could not send the handshake"),
        }
        let h = Handshake {
            conn,
            from,
            nonce,
            buf: Vec::with_capacity(wire::CLIENT_HELLO),
        };
        if let Some(old) = self.pending.admit(h, now) {
            self.reject(old.from, "evicted: too many connections in their handshake");
        }
    }

    /// An authenticated connector: send our proof, then read its frames.
    ///
    /// The connection joins the inbound set under the same lock as the proof is written:
    /// the connector sends its first frame only once it has the proof, so no frame can
    /// arrive on a connection the rank's polls do not see yet (a rank that sent one message
    /// and died could otherwise be failed by the launcher's notice before the reader thread
    /// had added its connection, and the message be lost).
    fn admit(&mut self, mut h: Handshake, src: usize) {
        let nc: [u8; wire::NONCE] = h.buf[12..44].try_into().expect("nonce");
        let peer = self.tcp.rank_of(src);
        let proof = wire::listener_proof(&self.tcp.key, self.tcp.me, peer, &nc, &h.nonce);
        let _ = h.conn.set_nodelay(true);
        let mut set = self.tcp.inbound.lock();
        let ok = matches!(h.conn.write(&proof), Ok(n) if n == proof.len())
            && h.conn.set_nonblocking(false).is_ok();
        if ok {
            // Whatever goodbye came before, the peer is back (before a frame of it is read).
            self.tcp.returned(src);
            set.list.push(Inbound::new(h.conn, src, false));
            drop(set);
            // A rank asleep on its sockets polls the new one from now on.
            (self.tcp.waker)();
        } else {
            drop(set);
            self.reject(h.from, "could not send the proof");
        }
    }
}

/// Reads the rest of a frame of type `t` from peer `src` and handles it; a cell is returned
/// (the caller delivers it). A peer's read of our memory goes to `answers` if given (the
/// rank's own thread answers it), else to the pull server.
pub(super) fn read_frame(
    tcp: &Tcp,
    t: u8,
    mut f: FrameBytes,
    src: usize,
    answers: Option<&mut Vec<Serve>>,
) -> io::Result<Option<Frame>> {
    match t {
        wire::CELL => {
            let n = wire::u32_of(&mut f)? as usize;
            // A cell, or an eager message in a frame of its own.
            let most = tcp.max_payload.max(super::FRAME_EAGER_MAX);
            if n > most {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a cell of {n} bytes (at most {most})"),
                ));
            }
            let mut buf = tcp.frames.take(crate::transport::fabric::HDR_BYTES + n);
            if let Err(e) = f.read_exact(&mut buf) {
                tcp.frames.give(buf);
                return Err(e);
            }
            return Ok(Some(Frame { src, buf }));
        }
        wire::BYE => tcp.departed(src),
        wire::PULL => {
            let (id, ranges) = wire::read_pull(&mut f)?;
            let req = Serve {
                to: src,
                id,
                ranges,
            };
            match answers {
                Some(v) => v.push(req),
                _ => {
                    let _ = tcp.serve.send(req);
                }
            }
        }
        wire::DATA => {
            let id = wire::u64_of(&mut f)?;
            let len = wire::u64_of(&mut f)?;
            // Ours to write from here on: a loss of the peer meanwhile no longer ends it.
            let p = tcp.take_pull(id, src);
            if len == wire::REFUSED {
                if let Some(p) = p {
                    tcp.end_pull(id, &p, Err(io::Error::other("the peer refused the read")));
                }
                return Ok(None);
            }
            let Some(p) = p else {
                f.skip(len)?;
                return Ok(None);
            };
            let mut left = len;
            for &(a, l) in &p.dst {
                let n = (l as u64).min(left);
                // SAFETY: (a, l) is a destination range of pull `id`, which this thread took
                // out of the map: its owner (a caller blocked in `Tcp::pull`, or the engine
                // with the receive kept pending) leaves the memory valid and unused until
                // `end_pull` below, and no other thread writes to it (see `Pull`).
                if let Err(e) = unsafe { f.to_addr(a, n as usize) } {
                    tcp.end_pull(id, &p, Err(io::Error::new(e.kind(), e.to_string())));
                    return Err(e);
                }
                left -= n;
            }
            // More than the destination holds (never asked for by the engine): skip it. The
            // pull ends only then: a failure on the way ends it once, with the error.
            if let Err(e) = f.skip(left) {
                tcp.end_pull(id, &p, Err(io::Error::new(e.kind(), e.to_string())));
                return Err(e);
            }
            tcp.end_pull(id, &p, Ok((len - left) as usize));
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown frame type {other}"),
            ))
        }
    }
    Ok(None)
}

impl Handshake {
    /// Reads what has arrived of the connector's answer, never past its end.
    fn advance(&mut self, tcp: &Tcp) -> Step {
        loop {
            if self.buf.len() == wire::CLIENT_HELLO {
                let b: &[u8; wire::CLIENT_HELLO] = self.buf[..].try_into().expect("hello length");
                return match wire::check_client_hello(&tcp.key, tcp.me, &self.nonce, b) {
                    Ok((rank, _)) => match tcp.idx_of.get(&rank) {
                        Some(&i) => Step::Done(i),
                        None => Step::Fail(format!("rank {rank} is not a TCP peer of this rank")),
                    },
                    Err(e) => Step::Fail(e.to_string()),
                };
            }
            let mut chunk = [0u8; wire::CLIENT_HELLO];
            let room = wire::CLIENT_HELLO - self.buf.len();
            match self.conn.read(&mut chunk[..room]) {
                Ok(0) => return Step::Fail("closed before completing the handshake".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::More,
                Err(e) => return Step::Fail(e.to_string()),
            }
        }
    }
}
