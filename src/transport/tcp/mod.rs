//! The TCP transport: how the ranks of one job reach each other across hosts (and, with
//! `OXIMPI_TRANSPORT=tcp`, on one host too).
//!
//! Start-up (see `runtime`): each rank that has TCP peers binds a listener on the address
//! [`addr::listen_address`] picks, publishes it (its *card*, `ip:port`) in the PMI KVS
//! before the PMI barrier, and reads its peers' cards after it — as MPICH's ch4 exchanges
//! its netmod addresses. Connections are then made lazily, on the first message.
//!
//! Each direction keeps one connection for good: a rank writes to a peer on the first
//! connection it has with it, the one the peer opened to us if there is one (its way
//! back), else one it opens itself and reads as well; it reads every connection it has
//! with the peer. So a pair that takes turns (a ping-pong) shares one connection both
//! ways, as MPICH's ch4/UCX and Open MPI's btl/tcp do, and each segment's acknowledgement
//! rides on the next message the other way instead of costing a segment of its own on
//! the latency path (see [`Tcp::way_back`]). Nothing has to be arbitrated: two ranks that
//! send to each other at once each open one and each write on their own, and the order of
//! each direction is the order of one TCP stream, so MPI's non-overtaking rule holds per
//! (peer, communicator).
//!
//! Threads: no thread per peer. One *reader* per process polls the listener and the
//! connections still in their handshake (non-blocking, under the admission rules of
//! `sock::gate`: deadline, cap). The authenticated inbound connections are read by the
//! rank's own thread while it is in an MPI call (`inbound`: no hand-over), and by the
//! reader only while the rank is away (`presence`: asleep on its doorbell, or computing
//! outside MPI), which then queues the frames in the inbox and rings the doorbell. A rank
//! whose node has no other rank sleeps in `poll(2)` on its connections itself
//! ([`Tcp::sleep_on_sockets`]): the kernel wakes it when a frame comes. Received frames
//! land in reused buffers (`pool`).
//! Reads of our memory (rendezvous pulls) that the rank's own thread finds are answered
//! by it, whatever their size; those the reader thread finds, by one *pull server* thread
//! per process. Sends are written by the calling thread, except that the eager messages
//! sent to one peer in one progress pass after the first are held and written together
//! (`coalesce`). A peer whose connection fails is *lost* (`liveness`). The rank's own
//! thread, in an MPI call, never sleeps inside a transfer while the engine would still
//! spin: a socket that is not ready is retried without blocking for the spin time first
//! (`rawio`), as MPICH's and Open MPI's progress engines poll non-blocking sockets.
//!
//! Large messages: the engine's rendezvous reads the sender's memory with
//! `Fabric::read_remote` (CMA on one host). Over TCP the receiver sends a `PULL` naming the
//! sender's ranges; the sender (its own thread when it is in an MPI call, else its pull
//! server) writes them with `send(2)` straight from the
//! user's buffer (valid until the receiver's FIN, as for CMA) and the receiver's reader
//! `recv(2)`s them straight into the destination ranges: the whole message is never
//! copied on either side. The engine's pulls do not wait ([`Tcp::start_pull`]): the answer
//! is read into place by whichever thread reads the connection next — the rank's own
//! progress pass, or the reader thread while the rank sleeps, which then rings the doorbell
//! — and [`Tcp::ended_pulls`] tells the engine, so the pulls of a window overlap (issue
//! 14). A blocking [`Tcp::pull`] reads the answer itself while it waits (spinning a while,
//! see [`PULL_SPIN`], before it sleeps until the reader thread has it). A rank that finds a
//! pull while it polls answers it itself: no thread hand-over on either side when both
//! ranks are in MPI calls. The reader thread never blocks in a write (it only
//! writes held messages without waiting, see `coalesce`), and an answer is
//! written only after the inbound set is unlocked, so two ranks answering each other's
//! pulls cannot deadlock: each one's data is read by the other's reader thread meanwhile.
//!
//! Authentication: every connection proves the job's key by the HMAC-SHA256
//! challenge-response of [`wire`] before a byte of MPI traffic is read from it; a failing
//! connection is dropped and logged, and the job goes on. The key is
//! `SHA-256(OXIMPI_JOB_SECRET)` when the launcher sets that variable (our mpiexec), else a
//! random key rank 0 puts in the KVS before the barrier. What this protects against: any
//! process or host that can reach the port but is not part of the job (port scanners,
//! other users, a stale rank of an earlier job) cannot inject or request data, and cannot
//! read a rank's memory through `PULL`. What it does not: anyone who can read the launcher's
//! environment or the KVS (the same user on the hosts, the process manager) knows the key;
//! traffic is neither encrypted nor integrity-protected after the handshake, so an
//! attacker on the path can read it or hijack an authenticated connection.

pub mod addr;
mod coalesce;
pub mod hmac;
mod inbound;
mod keys;
mod liveness;
mod pool;
mod presence;
mod rawio;
mod reader;
mod recvbuf;
#[cfg(test)]
mod tests;
pub mod wire;

pub use keys::{key_from_env, key_from_hex, random_bytes, sock_token, to_hex};
pub(crate) use presence::EventFd;

use super::mem::UserPtr;
use super::sock::gate;
use super::sock::inbox::Inbox;
use super::sock::Frame;
use parking_lot::{Condvar, Mutex};
use rawio::{read_exact_by, Wait};
use reader::Reader;
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How long a connector waits for each step of the listener's side of the handshake.
const HANDSHAKE_DEADLINE: Duration = gate::HANDSHAKE_DEADLINE;
/// How long a connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest message sent eagerly in a frame of its own (`Fabric::send_frame`) rather
/// than by rendezvous: 128 KiB (MPICH ch3's `MPIR_CVAR_CH3_EAGER_MAX_MSG_SIZE` too). Above
/// it the receiver's pull moves the data in place, with no copy on either side; an eager
/// frame costs the receiver a copy out of its frame buffer, which a ping-pong pays on its
/// critical path, and an unexpected one is buffered whole.
///
/// History (issue 14): session 18 raised it to 1 MiB because each pull blocked until its
/// answer came; session 19 (tcp16) made the pulls overlap but kept 1 MiB, because a window
/// of rendezvous messages still streamed at 2-3 GB/s against ~6 GB/s in eager frames
/// (bench/tcp.sh at 128 KiB, OxiMPI / best peer: window 256-512 KiB 0.47-0.48, ping-pong
/// 256 KiB 0.99; at 1 MiB the 256 KiB-2 MiB ping-pong was 1.12-2.50 behind). The cause
/// (tcp17): the receiver of a rendezvous answer, with no copy to make between receives,
/// retried its empty socket in a system-call loop that slowed the sender's copy into the
/// socket (see `rawio::pause_for`). With the receiver pausing instead, measured between the
/// namespace hosts of tests-hosts (bench/p2p.c, one build with both limits read from the
/// environment, runs alternating with Open MPI, load 13-14 from other work; MB/s or one-way
/// us, 2 rounds), 128 KiB with the pause / 1 MiB without / Open MPI: window 256 KiB 4411
/// 3139 / 5754 6009 / 2499 3913, 512 KiB 4622 3689 / 6129 6490 / 3670 1652, 1 MiB 4808
/// 4697 / 4334 6380 / 2240 1556, 2 MiB 4155 4450 / 2415 2507 / 2644 1778, 4 MiB 4247 4288
/// / 2082 2151 / 2576 1750; ping-pong 256 KiB 69 75 / 105 132 / 76 71, 512 KiB 142 125 /
/// 240 302 / 325 87, 1 MiB 216 244 / 461 571 / 604 360, 4 MiB 890 1124 / 1377 1521 / 2811
/// 1480. The committed build (the pause of `rawio::pause_for`) against the one before
/// (eager frames to 1 MiB, no pause) and Open MPI, same binary, ranks at `chrt -f 10`, the
/// 3 rounds in the machine's fast state at a load of 10-12: window 256 KiB 2204 4495 4387
/// / 5906 5993 5843 / 2735 2726 2881, 512 KiB 4593 4746 4652 / 6446 6467 6404 / 3882 3404
/// 3473, 2 MiB 4373 4806 4703 / 2014 2501 2520 / 3072 3000 2934, 4 MiB 3210 4300 4373 /
/// 2292 2449 2571 / 3001 3350 2979; ping-pong 128 KiB (eager either way) 57 58 59 / 56 57
/// 58 / 51 52 49, 256 KiB 70 70 71 / 103 103 103 / 75 74 72, 512 KiB 117 122 168 / 232
/// 222 227 / 251 91 94, 4 MiB 1111 1132 928 / 1344 1282 1556 / 1477 1523 1476. Left
/// behind Open MPI: the 128 KiB and 512 KiB ping-pong.
pub const FRAME_EAGER_MAX: usize = 128 << 10;
/// The least time a blocking pull ([`Tcp::pull`]) reads its answer itself before it
/// sleeps until the reader thread has it (the answer of a peer that is in an MPI call comes
/// within a round trip); it spins the engine's spin time when that is longer.
const PULL_SPIN: Duration = Duration::from_micros(200);

/// A bound listener, before the cards are exchanged.
pub struct Listener {
    listener: TcpListener,
    card: SocketAddr,
}

impl Listener {
    /// Listens on an ephemeral port of the address `OXIMPI_TCP_IFACE` (or the default)
    /// gives.
    pub fn bind(iface: Option<&str>) -> io::Result<Listener> {
        let ip = addr::listen_address(iface)?;
        let listener = TcpListener::bind((ip, 0))?;
        let card = listener.local_addr()?;
        Ok(Listener { listener, card })
    }

    /// What peers connect to (`ip:port`), for the KVS.
    pub fn card(&self) -> String {
        self.card.to_string()
    }
}

/// Who we are and whom we reach.
pub struct Config {
    pub me: u32,
    pub key: [u8; 32],
    /// World rank and card of every TCP peer, in fabric order.
    pub peers: Vec<(u32, SocketAddr)>,
    /// Largest cell payload accepted.
    pub max_payload: usize,
}

struct Peer {
    rank: u32,
    card: SocketAddr,
    /// Our connection to it (opened on the first send or pull answer).
    out: Mutex<Option<TcpStream>>,
    /// Small messages held for one write (see `coalesce`); changed only under `out`'s
    /// lock, taken after it.
    held: Mutex<Vec<u8>>,
    /// `held` is not empty: changed only under `out`'s lock, so a writer holding it reads
    /// it exactly and passes over `held`'s lock when nothing is held (every direct write).
    has_held: std::sync::atomic::AtomicBool,
    /// The rank's progress pass (`Tcp::pass`) of its last unheld small message to it.
    last_pass: AtomicU64,
    health: liveness::Health,
}

/// A rendezvous read in flight: where the bytes go and who learns how it ended.
///
/// Ownership of `dst`: while the pull is in `Tcp::pulls`, nothing writes to it; the thread
/// that reads its answer takes it out of the map first (`Tcp::take_pull`), writes, and ends
/// it; a loss of the peer ends the pulls still in the map. So each pull ends exactly once,
/// and nothing writes to its memory after its end (the engine may then give the memory
/// back to the program).
struct Pull {
    peer: usize,
    dst: Vec<(usize, usize)>,
    to: Ends,
}

/// Who is told that a pull ended.
enum Ends {
    /// A caller blocked in [`Tcp::pull`].
    Caller {
        done: Mutex<Option<io::Result<usize>>>,
        cv: Condvar,
    },
    /// The engine, through [`Tcp::ended_pulls`] (a pull of [`Tcp::start_pull`]).
    Engine,
}

/// A peer's request for our memory (answered by the rank's own thread or the pull
/// server).
struct Serve {
    to: usize,
    id: u64,
    ranges: Vec<(usize, usize)>,
}

impl Serve {
    fn bytes(&self) -> u64 {
        self.ranges.iter().map(|r| r.1 as u64).sum()
    }
}

pub struct Tcp {
    me: u32,
    key: [u8; 32],
    peers: Vec<Peer>,
    idx_of: HashMap<u32, usize>,
    inbox: Inbox,
    pulls: Mutex<HashMap<u64, Arc<Pull>>>,
    next_pull: AtomicU64,
    /// Pulls of `start_pull` that ended and the engine has not yet been told of.
    ended: Mutex<Vec<(u64, io::Result<usize>)>>,
    /// `ended` is not empty: the check every progress pass with pulls in flight makes
    /// without the lock.
    any_ended: std::sync::atomic::AtomicBool,
    /// The rank's own thread answered a peer's pull in `pump` since `served_pulls` last
    /// looked (see `Fabric::served_reads`).
    served: std::sync::atomic::AtomicBool,
    waker: Box<dyn Fn() + Send + Sync>,
    max_payload: usize,
    /// Peers lost and not yet reported (see `liveness`).
    lost: Mutex<Vec<(usize, String)>>,
    /// `lost` is not empty: the check every progress round makes without the lock.
    any_lost: std::sync::atomic::AtomicBool,
    /// The next `pump` reads every connection, waiting for a thread that is reading one
    /// (set when the layer above asks for lost peers, see `liveness`).
    settle: std::sync::atomic::AtomicBool,
    /// Authenticated connections from our peers (see `inbound`).
    inbound: inbound::Set,
    /// Peers' reads of our memory, for the pull server.
    serve: mpsc::Sender<Serve>,
    /// Whether the rank reads its sockets itself (see `presence`).
    presence: presence::Presence,
    /// Buffers of received frames, given back by the engine's release.
    frames: pool::Pool,
    /// The `poll(2)` array of `sleep_on_sockets`, kept between sleeps.
    sleep_fds: Mutex<Vec<libc::pollfd>>,
    /// How long the rank's own thread retries a socket that is not ready before it
    /// blocks (see `rawio`).
    io_spin: rawio::SpinTime,
    /// Counts the rank's progress passes (`poll`): eager messages to one peer in one pass
    /// are coalesced (see `coalesce`).
    pass: AtomicU64,
    /// Some peer has held messages (see `coalesce`).
    held_any: std::sync::atomic::AtomicBool,
}

impl Tcp {
    /// Starts the reader and the pull server. `waker` rings this rank's doorbell.
    pub fn start(
        l: Listener,
        cfg: Config,
        waker: Box<dyn Fn() + Send + Sync>,
    ) -> io::Result<Arc<Tcp>> {
        let idx_of = cfg
            .peers
            .iter()
            .enumerate()
            .map(|(i, (r, _))| (*r, i))
            .collect();
        let (tx, rx) = mpsc::channel::<Serve>();
        let tcp = Arc::new(Tcp {
            me: cfg.me,
            key: cfg.key,
            peers: cfg
                .peers
                .iter()
                .map(|&(rank, card)| Peer {
                    rank,
                    card,
                    out: Mutex::new(None),
                    held: Mutex::new(Vec::new()),
                    has_held: Default::default(),
                    last_pass: AtomicU64::new(u64::MAX),
                    health: Default::default(),
                })
                .collect(),
            idx_of,
            inbox: Inbox::default(),
            pulls: Mutex::new(HashMap::new()),
            next_pull: AtomicU64::new(1),
            ended: Mutex::new(Vec::new()),
            any_ended: std::sync::atomic::AtomicBool::new(false),
            served: std::sync::atomic::AtomicBool::new(false),
            waker,
            max_payload: cfg.max_payload,
            lost: Mutex::new(Vec::new()),
            any_lost: std::sync::atomic::AtomicBool::new(false),
            settle: std::sync::atomic::AtomicBool::new(false),
            inbound: Default::default(),
            serve: tx,
            presence: presence::Presence::new()?,
            frames: Default::default(),
            sleep_fds: Mutex::new(Vec::new()),
            io_spin: rawio::SpinTime::new(),
            pass: AtomicU64::new(0),
            held_any: std::sync::atomic::AtomicBool::new(false),
        });
        liveness::goodbye_at_exit(&tcp);
        l.listener.set_nonblocking(true)?;
        let me = Arc::clone(&tcp);
        std::thread::Builder::new()
            .name("oximpi-tcp-pull".into())
            .spawn(move || me.serve_pulls(rx))?;
        let me = Arc::clone(&tcp);
        std::thread::Builder::new()
            .name("oximpi-tcp".into())
            .spawn(move || Reader::new(me, l.listener).run())?;
        Ok(tcp)
    }

    /// Number of TCP peers (fabric indices `base..base + count`).
    pub fn count(&self) -> usize {
        self.peers.len()
    }

    /// True when frames wait in the inbox (one atomic load).
    #[inline]
    pub fn has_inbound(&self) -> bool {
        self.inbox.has_inbound()
    }

    /// The next frame: what the reader thread queued, else what this thread can read now
    /// (see `inbound`).
    pub fn poll(&self) -> Option<Frame> {
        self.next_pass();
        if let Some(f) = self.inbox.poll() {
            return Some(f);
        }
        let mut first = None;
        self.pump(Some(&mut first));
        first.or_else(|| self.inbox.poll())
    }

    /// Takes back the buffer of a frame `poll` gave (the engine has done with it).
    pub fn release(&self, f: Frame) {
        self.frames.give(f.buf);
    }

    /// Our connection to peer `i`, opened and authenticated if it is not yet. A peer we
    /// cannot connect to is lost (see `liveness`).
    fn out(&self, i: usize) -> io::Result<parking_lot::MutexGuard<'_, Option<TcpStream>>> {
        self.check_alive(i)?;
        let peer = &self.peers[i];
        let mut out = peer.out.lock();
        if out.is_none() {
            if let Some(s) = self.way_back(i) {
                *out = Some(s);
                return Ok(out);
            }
            match self.connect(peer).and_then(|s| self.read_way_back(s, i)) {
                Ok(s) => *out = Some(s),
                Err(e) => {
                    drop(out);
                    let why = format!("cannot connect to it at {}: {e}", peer.card);
                    self.lose(i, why.clone());
                    return Err(io::Error::new(e.kind(), why));
                }
            }
        }
        Ok(out)
    }

    /// Writes with `write` on our connection to peer `i`; a failed write drops the
    /// connection (a half-written frame leaves it unusable) and loses the peer.
    fn write_to(
        &self,
        i: usize,
        write: impl FnOnce(&mut TcpStream) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut out = self.out(i)?;
        let s = out.as_mut().expect("connected by out()");
        // What `send_eager` held for this peer goes first: one stream, in send order.
        let r = self.write_held(i, s).and_then(|()| write(s));
        if let Err(e) = &r {
            self.write_failed(i, out, e);
        }
        r
    }

    /// A write on our connection to peer `i` (`out`, its lock) failed: the connection is
    /// dropped (a half-written frame leaves it unusable) and the peer lost.
    fn write_failed(
        &self,
        i: usize,
        mut out: parking_lot::MutexGuard<'_, Option<TcpStream>>,
        e: &io::Error,
    ) {
        *out = None;
        drop(out);
        if !self.has_departed(i) {
            self.lose(i, format!("cannot write to it: {e}"));
        }
    }

    /// A second handle on the connection peer `i` opened to us, if it has one: we write on
    /// it too. Why: the acknowledgement of each segment then rides on the data going the
    /// other way. With a connection per direction every message was acknowledged by a
    /// segment of its own, sent and received inside the reader's `recv` on the latency
    /// path (`nstat` in the test hosts' namespaces, 20,000 8 B round trips: 3.6 segments
    /// a round trip, against 2.0 for MPICH/UCX and Open MPI, which use one connection per
    /// pair both ways).
    fn way_back(&self, i: usize) -> Option<TcpStream> {
        let set = self.inbound.lock();
        let c = set
            .list
            .iter()
            .find(|c| c.src == i && !c.ours && !c.closed)?;
        c.conn.try_clone().ok()
    }

    /// Makes the connection `s` we opened to peer `i` readable by our polls (the peer
    /// writes on it when it has no connection of its own to us, see [`Tcp::way_back`]),
    /// before the first frame goes out on it.
    fn read_way_back(&self, s: TcpStream, i: usize) -> io::Result<TcpStream> {
        let back = s.try_clone()?;
        self.inbound
            .lock()
            .list
            .push(inbound::Inbound::new(back, i, true));
        // A rank asleep on its sockets polls the new one from now on.
        (self.waker)();
        Ok(s)
    }

    /// Connects to `peer` and runs the connector's side of the handshake.
    fn connect(&self, peer: &Peer) -> io::Result<TcpStream> {
        let mut s = TcpStream::connect_timeout(&peer.card, CONNECT_TIMEOUT)?;
        s.set_nodelay(true)?;
        // The whole handshake, not each read, must fit the deadline.
        let deadline = Instant::now() + HANDSHAKE_DEADLINE;
        let mut sh = [0u8; wire::SERVER_HELLO];
        read_exact_by(&mut s, &mut sh, deadline)?;
        let (rank, ns) = wire::parse_server_hello(&sh)?;
        if rank != peer.rank {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is rank {rank}, not rank {}", peer.card, peer.rank),
            ));
        }
        let nc = random_bytes::<{ wire::NONCE }>()?;
        s.write_all(&wire::client_hello(&self.key, self.me, rank, &ns, &nc))?;
        let mut proof = [0u8; wire::MAC];
        read_exact_by(&mut s, &mut proof, deadline)?;
        wire::check_listener_proof(&self.key, self.me, rank, &nc, &ns, &proof)?;
        s.set_read_timeout(None)?;
        Ok(s)
    }

    /// Sends one cell (header and payload) to peer `i`.
    pub fn send(&self, i: usize, hdr: &[u8], payload: &[u8]) -> io::Result<()> {
        let head = wire::cell_head(hdr, payload.len());
        self.write_to(i, |s| {
            rawio::send_all(s.as_raw_fd(), &[&head, payload], self.io_spin.wait())
        })
    }

    /// Sends one eager message larger than a cell to peer `i`: a `CELL` frame whose
    /// payload is gathered by the kernel from the operation's memory `data` (no staging
    /// copy). At most [`FRAME_EAGER_MAX`] bytes.
    pub fn send_gather(
        &self,
        i: usize,
        hdr: &[u8; crate::transport::fabric::HDR_BYTES],
        data: &[(UserPtr, usize)],
    ) -> io::Result<()> {
        let total: usize = data.iter().map(|d| d.1).sum();
        if total > FRAME_EAGER_MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("an eager frame of {total} bytes (at most {FRAME_EAGER_MAX})"),
            ));
        }
        let head = wire::cell_head(hdr, total);
        let pieces: Vec<(usize, usize)> = data.iter().map(|(p, l)| (p.addr(), *l)).collect();
        self.write_to(i, |s| {
            rawio::send_gather(s.as_raw_fd(), &head, &pieces, self.io_spin.wait())
        })
    }

    /// Our world rank.
    pub fn me(&self) -> u32 {
        self.me
    }

    /// The rank of peer `i`.
    pub fn rank_of(&self, i: usize) -> u32 {
        self.peers.get(i).map(|p| p.rank).unwrap_or(u32::MAX)
    }

    /// Sends a pull of `remote` ranges of peer `i`'s memory into `dst` (see the module doc)
    /// for `to`; returns its id. The answer is read by whichever thread reads the
    /// connection next.
    fn send_pull(
        &self,
        i: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
        to: Ends,
    ) -> io::Result<(u64, Arc<Pull>)> {
        let id = self.next_pull.fetch_add(1, Ordering::Relaxed);
        let p = Arc::new(Pull {
            peer: i,
            dst: dst.iter().map(|(p, l)| (p.addr(), *l)).collect(),
            to,
        });
        self.pulls.lock().insert(id, Arc::clone(&p));
        let sent = self.write_to(i, |s| s.write_all(&wire::pull(id, remote)));
        if let Err(e) = sent {
            // A failed write lost the peer, which ended the pull if it was still in the map;
            // the caller hears of the failure here instead.
            if self.pulls.lock().remove(&id).is_none() {
                self.ended.lock().retain(|(e, _)| *e != id);
            }
            return Err(pull_failed(e));
        }
        Ok((id, p))
    }

    /// Starts reading `remote` ranges of peer `i`'s memory into `dst` without waiting: the
    /// pull's id, which [`Tcp::ended_pulls`] hands back once the data is in place (or the
    /// peer was lost). `dst` must stay valid and unused until then: the bytes are written
    /// by the rank's own thread when it reads the connection in a progress pass (`pump`),
    /// or by the reader thread while the rank sleeps, which then rings the doorbell. Why:
    /// the engine starts a pull for every rendezvous it matches and goes on, so a window of
    /// large messages streams back to back instead of idling the link for a round trip per
    /// message (issue 14), as Open MPI's ob1 acknowledges every matched rendezvous at once
    /// and its btl/tcp pipelines the fragments.
    pub fn start_pull(
        &self,
        i: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
    ) -> io::Result<u64> {
        self.send_pull(i, remote, dst, Ends::Engine)
            .map(|(id, _)| id)
    }

    /// Hands every pull of [`Tcp::start_pull`] that ended since the last call to `f` (id,
    /// and the bytes read or the error); returns how many. One atomic load when none ended.
    pub fn ended_pulls(&self, mut f: impl FnMut(u64, io::Result<usize>)) -> usize {
        if !self.any_ended.load(Ordering::Acquire) {
            return 0;
        }
        // Cleared before the take: one pushed meanwhile is taken now or flagged again.
        self.any_ended.store(false, Ordering::Release);
        let ended = std::mem::take(&mut *self.ended.lock());
        let n = ended.len();
        for (id, r) in ended {
            f(id, r);
        }
        n
    }

    /// True when the rank's own thread answered a peer's pull since the last call. Why the
    /// engine wants to know: a sender waiting for its FINs sees no message while it writes
    /// the answers of a window, and its waiting policy, counting that as no progress, put it
    /// to sleep after the spin time, leaving the rest of the window's answers to the reader
    /// and pull server threads (a hand-over and a wake-up each).
    pub fn served_pulls(&self) -> bool {
        self.served.load(Ordering::Relaxed) && self.served.swap(false, Ordering::Relaxed)
    }

    /// Reads `remote` ranges of peer `i`'s memory into `dst` (see the module doc); returns
    /// the bytes read. Blocks until the answer is in place.
    pub fn pull(
        &self,
        i: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
    ) -> io::Result<usize> {
        let to = Ends::Caller {
            done: Mutex::new(None),
            cv: Condvar::new(),
        };
        let (_, p) = self.send_pull(i, remote, dst, to)?;
        let Ends::Caller { done, cv } = &p.to else {
            unreachable!("made as a caller's pull above")
        };
        // Read the answer here while it is likely to come soon, then let the reader
        // thread have it. As long as the engine would spin: an answer the reader thread
        // takes over is read with blocking receives, woken per arriving segment, and handed
        // back through a condition variable (strace of the 4 MiB window of bench/p2p.c over
        // the veth pair, 200 us here: the reader thread read 76 of 256 answers).
        let spin = match self.io_spin.wait() {
            Wait::Spin(d) => d.max(PULL_SPIN),
            Wait::Block => PULL_SPIN,
        };
        let spin_until = Instant::now() + spin;
        loop {
            if let Some(r) = done.lock().take() {
                return r;
            }
            if Instant::now() >= spin_until {
                break;
            }
            self.pump(None);
            std::thread::yield_now();
        }
        // The reader thread reads the answer while we sleep (told by `away`).
        self.presence.away(|| {
            let mut done = done.lock();
            loop {
                if let Some(r) = done.take() {
                    return r;
                }
                cv.wait(&mut done);
            }
        })
    }

    /// Runs `sleep` (a sleep on the doorbell) with the reader thread reading the sockets
    /// meanwhile and ringing the doorbell when a frame comes (see `presence`).
    pub fn asleep<R>(&self, sleep: impl FnOnce() -> R) -> R {
        // Nothing held across a sleep (see `coalesce`).
        self.flush();
        self.presence.away(sleep)
    }

    /// The pull server's thread: answers the peers' PULLs it is given.
    fn serve_pulls(self: Arc<Self>, rx: mpsc::Receiver<Serve>) {
        while let Ok(req) = rx.recv() {
            self.answer(req, Wait::Block);
        }
    }

    /// Writes the ranges a peer asked for from our memory into our connection to it,
    /// waiting for room as `wait` says (see `rawio`).
    fn answer(&self, req: Serve, wait: Wait) {
        let total = req.bytes();
        // A half-written answer closes the stream: the peer sees it end and fails its pull.
        // Head and ranges in one sendmsg(2): the head no longer goes out as a segment of its
        // own, a system call before the data.
        let head = wire::data_head(req.id, total);
        let r = self.write_to(req.to, |s| {
            rawio::send_gather(s.as_raw_fd(), &head, &req.ranges, wait)
        });
        // A failure lost the peer, which `write_to` reported; there is no one to tell.
        drop(r);
    }

    /// Takes pull `id` of peer `src` out of the map to write its answer (see [`Pull`]): None
    /// when there is no such pull (it ended when the peer was lost, or the peer answers
    /// what we never asked).
    fn take_pull(&self, id: u64, src: usize) -> Option<Arc<Pull>> {
        let mut pulls = self.pulls.lock();
        match pulls.get(&id) {
            Some(p) if p.peer == src => pulls.remove(&id),
            _ => None,
        }
    }

    /// Tells whoever waits for pull `id` (`p`, out of the map) that it ended with `r`.
    fn end_pull(&self, id: u64, p: &Pull, r: io::Result<usize>) {
        let r = r.map_err(pull_failed);
        match &p.to {
            Ends::Caller { done, cv } => {
                *done.lock() = Some(r);
                cv.notify_all();
            }
            Ends::Engine => {
                self.ended.lock().push((id, r));
                self.any_ended.store(true, Ordering::Release);
                // A waiter asleep on the doorbell wakes to complete the receive.
                (self.waker)();
            }
        }
    }

    /// Peer `i` can no longer answer: ends its pulls that are not being read.
    fn fail_pulls_of(&self, i: usize) {
        let failed: Vec<(u64, Arc<Pull>)> = {
            let mut pulls = self.pulls.lock();
            let ids: Vec<u64> = pulls
                .iter()
                .filter(|(_, p)| p.peer == i)
                .map(|(id, _)| *id)
                .collect();
            ids.into_iter()
                .filter_map(|id| pulls.remove(&id).map(|p| (id, p)))
                .collect()
        };
        for (id, p) in failed {
            self.end_pull(
                id,
                &p,
                Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the peer's connection closed before it answered",
                )),
            );
        }
    }
}

/// A pull's failure as the engine sees it: whatever broke (the peer's connection, a
/// truncated answer, a write that lost the peer), the peer cannot serve this read any more,
/// and the connection is gone (`ConnectionAborted`, which the engine takes for a lost peer,
/// not for a read the kernel forbids).
fn pull_failed(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::ConnectionAborted => e,
        _ => io::Error::new(io::ErrorKind::ConnectionAborted, e.to_string()),
    }
}
