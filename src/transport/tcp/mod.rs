//! The TCP transport: how the ranks of one job reach each other across hosts (and, with
//! `OXIMPI_TRANSPORT=tcp`, on one host too).
//!
//! Start-up (see `runtime`): each rank that has TCP peers binds a listener on the address
//! [`addr::listen_address`] picks, publishes it (its *card*, `ip:port`) in the PMI KVS
//! before the PMI barrier, and reads its peers' cards after it — as MPICH's ch4 exchanges
//! its netmod addresses. Connections are then made lazily, on the first message.
//!
//! Connections are one-way, as in the socket engine (`sock`): a rank writes to a peer on
//! the connection *it* opened, and reads what the peer sends on the connection the peer
//! opened. Two ranks that send to each other at once each open one, and nothing has to be
//! arbitrated: the simultaneous-connect race of a shared connection cannot happen, and the
//! order of each direction is the order of one TCP stream, so MPI's non-overtaking rule
//! holds per (peer, communicator). The price is two descriptors per pair of ranks that
//! talk both ways.
//!
//! Threads: no thread per peer. One *reader* per process polls the listener, the
//! connections still in their handshake (non-blocking, under the admission rules of
//! `sock::gate`: deadline, cap) and every authenticated inbound connection; it reads
//! frames into the inbox and rings the rank's doorbell (the engine sleeps on it). One
//! *pull server* per process answers the peers' rendezvous reads. Sends are written by
//! the calling thread.
//!
//! Large messages: the engine's rendezvous reads the sender's memory with
//! `Fabric::read_remote` (CMA on one host). Over TCP the receiver sends a `PULL` naming the
//! sender's ranges; the sender's pull server writes them with `send(2)` straight from the
//! user's buffer (valid until the receiver's FIN, as for CMA) and the receiver's reader
//! `recv(2)`s them straight into the destination ranges: the whole message is never
//! copied on either side. Pulls are answered by the server thread, not the reader, so a
//! reader never blocks on a write and two ranks pulling from each other cannot deadlock.
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
pub mod hmac;
pub mod wire;

use super::mem::UserPtr;
use super::sock::gate;
use super::sock::inbox::Inbox;
use super::sock::Frame;
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How long a connector waits for each step of the listener's side of the handshake.
const HANDSHAKE_DEADLINE: Duration = gate::HANDSHAKE_DEADLINE;
/// How long a connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Rejected connections reported on stderr, before going quiet.
const MAX_REPORTS: u32 = 20;

/// The job's 32-byte key from `OXIMPI_JOB_SECRET`, if the launcher set it.
pub fn key_from_env() -> Option<[u8; 32]> {
    let s = std::env::var("OXIMPI_JOB_SECRET").ok()?;
    Some(hmac::hmac_sha256(s.as_bytes(), &[b"oximpi-tcp key"]))
}

/// `n` random bytes from the kernel (getrandom(2)).
pub fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    let mut got = 0;
    while got < N {
        // SAFETY: writes at most N - got bytes into b[got..], which is ours.
        let n = unsafe { libc::getrandom(b[got..].as_mut_ptr().cast(), N - got, 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        got += n as usize;
    }
    Ok(b)
}

/// Lower-case hex (keys in the KVS).
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A 32-byte key from 64 hex digits.
pub fn key_from_hex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut k = [0u8; 32];
    for (i, o) in k.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(k)
}

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
}

/// A rendezvous read in flight: where the bytes go and how it ended.
struct Pull {
    peer: usize,
    dst: Vec<(usize, usize)>,
    done: Mutex<Option<io::Result<usize>>>,
    cv: Condvar,
}

/// A peer's request for our memory, for the pull server.
struct Serve {
    to: usize,
    id: u64,
    ranges: Vec<(usize, usize)>,
}

pub struct Tcp {
    me: u32,
    key: [u8; 32],
    peers: Vec<Peer>,
    idx_of: HashMap<u32, usize>,
    inbox: Inbox,
    pulls: Mutex<HashMap<u64, Arc<Pull>>>,
    next_pull: AtomicU64,
    waker: Box<dyn Fn() + Send + Sync>,
    max_payload: usize,
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
                })
                .collect(),
            idx_of,
            inbox: Inbox::default(),
            pulls: Mutex::new(HashMap::new()),
            next_pull: AtomicU64::new(1),
            waker,
            max_payload: cfg.max_payload,
        });
        l.listener.set_nonblocking(true)?;
        let (tx, rx) = mpsc::channel::<Serve>();
        let me = Arc::clone(&tcp);
        std::thread::Builder::new()
            .name("oximpi-tcp-pull".into())
            .spawn(move || me.serve_pulls(rx))?;
        let me = Arc::clone(&tcp);
        std::thread::Builder::new()
            .name("oximpi-tcp".into())
            .spawn(move || Reader::new(me, l.listener, tx).run())?;
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

    pub fn poll(&self) -> Option<Frame> {
        self.inbox.poll()
    }

    /// Our connection to peer `i`, opened and authenticated if it is not yet.
    fn out(&self, i: usize) -> io::Result<parking_lot::MutexGuard<'_, Option<TcpStream>>> {
        let peer = self
            .peers
            .get(i)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such TCP peer"))?;
        let mut out = peer.out.lock();
        if out.is_none() {
            *out = Some(self.connect(peer)?);
        }
        Ok(out)
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
        let mut out = self.out(i)?;
        let s = out.as_mut().expect("connected by out()");
        let r = s
            .write_all(&wire::cell_head(hdr, payload.len()))
            .and_then(|()| s.write_all(payload));
        if r.is_err() {
            *out = None;
        }
        r
    }

    /// Our world rank.
    pub fn me(&self) -> u32 {
        self.me
    }

    /// The rank of peer `i`.
    pub fn rank_of(&self, i: usize) -> u32 {
        self.peers.get(i).map(|p| p.rank).unwrap_or(u32::MAX)
    }

    /// Reads `remote` ranges of peer `i`'s memory into `dst` (see the module doc); returns
    /// the bytes read. Blocks until the peer's pull server has answered.
    pub fn pull(
        &self,
        i: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
    ) -> io::Result<usize> {
        let id = self.next_pull.fetch_add(1, Ordering::Relaxed);
        let p = Arc::new(Pull {
            peer: i,
            dst: dst.iter().map(|(p, l)| (p.addr(), *l)).collect(),
            done: Mutex::new(None),
            cv: Condvar::new(),
        });
        self.pulls.lock().insert(id, Arc::clone(&p));
        let sent = self.out(i).and_then(|mut out| {
            let s = out.as_mut().expect("connected by out()");
            let r = s.write_all(&wire::pull(id, remote));
            if r.is_err() {
                *out = None;
            }
            r
        });
        if let Err(e) = sent {
            self.pulls.lock().remove(&id);
            return Err(e);
        }
        let mut done = p.done.lock();
        loop {
            if let Some(r) = done.take() {
                return r;
            }
            p.cv.wait(&mut done);
        }
    }

    /// The pull server's thread: answers each peer's PULL by writing the ranges from our
    /// memory into our connection to it.
    fn serve_pulls(self: Arc<Self>, rx: mpsc::Receiver<Serve>) {
        while let Ok(req) = rx.recv() {
            let total: u64 = req.ranges.iter().map(|r| r.1 as u64).sum();
            let r = self.out(req.to).and_then(|mut out| {
                let s = out.as_mut().expect("connected by out()");
                let r = s.write_all(&wire::data_head(req.id, total)).and_then(|()| {
                    req.ranges
                        .iter()
                        .try_for_each(|&(a, l)| raw_io(s.as_raw_fd(), a, l, Way::Send))
                });
                if r.is_err() {
                    // A half-written answer leaves the stream unusable: the peer sees the
                    // connection close and fails its pull.
                    *out = None;
                }
                r
            });
            if let Err(e) = r {
                eprintln!(
                    "oximpi: rank {}: cannot answer rank {}'s read over TCP: {e}",
                    self.me,
                    self.rank_of(req.to)
                );
            }
        }
    }

    fn finish_pull(&self, id: u64, r: io::Result<usize>) {
        if let Some(p) = self.pulls.lock().remove(&id) {
            *p.done.lock() = Some(r);
            p.cv.notify_all();
        }
    }

    /// Peer `i`'s connection to us ended: its answers will not come.
    fn fail_pulls_of(&self, i: usize) {
        let ids: Vec<u64> = self
            .pulls
            .lock()
            .iter()
            .filter(|(_, p)| p.peer == i)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.finish_pull(
                id,
                Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the peer's connection closed before it answered",
                )),
            );
        }
    }
}

/// Which way [`raw_io`] moves bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    /// From our memory into the socket (answering a pull).
    Send,
    /// From the socket into our memory (a pull's answer).
    Recv,
}

/// Moves exactly `len` bytes between socket `fd` and address `addr` of this process with
/// send(2)/recv(2), without forming a reference to the memory: the kernel copies it (a
/// range that is not mapped gives EFAULT, never a crash).
fn raw_io(fd: RawFd, addr: usize, len: usize, way: Way) -> io::Result<()> {
    let mut off = 0;
    while off < len {
        let (p, n) = ((addr + off) as *mut libc::c_void, len - off);
        let done = match way {
            // SAFETY: send(2) only reads [addr + off, addr + len), which the owner keeps
            // valid until the reader's FIN (the rendezvous contract, as for CMA).
            Way::Send => unsafe { libc::send(fd, p, n, libc::MSG_NOSIGNAL) },
            // SAFETY: recv(2) writes only [addr + off, addr + len), memory of an operation
            // whose caller is blocked in `Tcp::pull` until this read ends (the MPI contract
            // keeps it valid and untouched meanwhile).
            Way::Recv => unsafe { libc::recv(fd, p, n, libc::MSG_WAITALL) },
        };
        match done {
            0 if way == Way::Recv => return Err(io::ErrorKind::UnexpectedEof.into()),
            d if d < 0 => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            d => off += d as usize,
        }
    }
    Ok(())
}

/// Fills `buf` from `s` before `deadline` (TimedOut after it).
fn read_exact_by(s: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the handshake took too long",
            ));
        }
        s.set_read_timeout(Some(left))?;
        match s.read(&mut buf[got..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Skips `n` bytes of a stream.
fn discard(conn: &mut TcpStream, n: u64) -> io::Result<()> {
    let got = io::copy(&mut (&*conn).take(n), &mut io::sink())?;
    if got < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

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

/// An authenticated connection from peer `src`.
struct Inbound {
    conn: TcpStream,
    src: usize,
}

/// The reader thread's state.
struct Reader {
    tcp: Arc<Tcp>,
    listener: TcpListener,
    serve: mpsc::Sender<Serve>,
    pending: gate::Pending<Handshake>,
    inbound: Vec<Inbound>,
    reports: u32,
}

impl Reader {
    fn new(tcp: Arc<Tcp>, listener: TcpListener, serve: mpsc::Sender<Serve>) -> Reader {
        Reader {
            tcp,
            listener,
            serve,
            pending: gate::Pending::new(gate::MAX_PENDING, HANDSHAKE_DEADLINE),
            inbound: Vec::new(),
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

    fn run(mut self) {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut resting_until: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if resting_until.is_some_and(|t| now >= t) {
                resting_until = None;
            }
            let listening = resting_until.is_none();
            fds.clear();
            if listening {
                fds.push(pollin(self.listener.as_raw_fd()));
            }
            fds.extend(self.pending.iter().map(|h| pollin(h.conn.as_raw_fd())));
            fds.extend(self.inbound.iter().map(|c| pollin(c.conn.as_raw_fd())));
            let timeout = gate::poll_timeout_ms(
                now,
                self.pending
                    .next_deadline()
                    .into_iter()
                    .chain(resting_until),
            );
            if let Err(e) = super::fd::poll(&mut fds, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    std::thread::sleep(gate::ACCEPT_BACKOFF);
                }
                continue;
            }
            // After the poll: a connection accepted now gets its whole deadline (the poll
            // may have slept until an older one's).
            let now = Instant::now();
            let skip = usize::from(listening);
            let npending = self.pending.len();
            // Frames first (the job's traffic), from the back so removals keep indices.
            let ready: Vec<usize> = (0..self.inbound.len())
                .filter(|&i| fds[skip + npending + i].revents != 0)
                .collect();
            for &i in ready.iter().rev() {
                if !self.read_one(i) {
                    let c = self.inbound.swap_remove(i);
                    self.tcp.fail_pulls_of(c.src);
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
            if listening && fds[0].revents != 0 {
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
    fn admit(&mut self, mut h: Handshake, src: usize) {
        let nc: [u8; wire::NONCE] = h.buf[12..44].try_into().expect("nonce");
        let peer = self.tcp.rank_of(src);
        let proof = wire::listener_proof(&self.tcp.key, self.tcp.me, peer, &nc, &h.nonce);
        let ok = matches!(h.conn.write(&proof), Ok(n) if n == proof.len())
            && h.conn.set_nonblocking(false).is_ok();
        if ok {
            let _ = h.conn.set_nodelay(true);
            self.inbound.push(Inbound { conn: h.conn, src });
        } else {
            self.reject(h.from, "could not send the proof");
        }
    }

    /// Reads one frame from inbound connection `i`; false when the connection is over.
    fn read_one(&mut self, i: usize) -> bool {
        let tcp = Arc::clone(&self.tcp);
        let c = &mut self.inbound[i];
        let src = c.src;
        match read_frame(&tcp, &mut c.conn, src, &self.serve) {
            Ok(open) => open,
            Err(e) => {
                eprintln!(
                    "oximpi: rank {}: TCP connection from rank {} broken: {e}",
                    tcp.me,
                    tcp.rank_of(src)
                );
                false
            }
        }
    }
}

/// Reads and handles one frame of peer `src`; Ok(false) at a clean end of stream.
fn read_frame(
    tcp: &Tcp,
    conn: &mut TcpStream,
    src: usize,
    serve: &mpsc::Sender<Serve>,
) -> io::Result<bool> {
    let mut t = [0u8; 1];
    loop {
        match conn.read(&mut t) {
            Ok(0) => return Ok(false),
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    match t[0] {
        wire::CELL => {
            let n = wire::u32_of(conn)? as usize;
            if n > tcp.max_payload {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a cell of {n} bytes (at most {})", tcp.max_payload),
                ));
            }
            let mut buf = vec![0u8; super::fabric::HDR_BYTES + n];
            conn.read_exact(&mut buf)?;
            tcp.inbox.push(Frame { src, buf });
            (tcp.waker)();
        }
        wire::PULL => {
            let (id, ranges) = wire::read_pull(conn)?;
            let _ = serve.send(Serve {
                to: src,
                id,
                ranges,
            });
        }
        wire::DATA => {
            let id = wire::u64_of(conn)?;
            let len = wire::u64_of(conn)?;
            if len == wire::REFUSED {
                tcp.finish_pull(id, Err(io::Error::other("the peer refused the read")));
                return Ok(true);
            }
            let p = tcp.pulls.lock().get(&id).cloned();
            let Some(p) = p.filter(|p| p.peer == src) else {
                discard(conn, len)?;
                return Ok(true);
            };
            let mut left = len;
            for &(a, l) in &p.dst {
                let n = (l as u64).min(left);
                if let Err(e) = raw_io(conn.as_raw_fd(), a, n as usize, Way::Recv) {
                    tcp.finish_pull(id, Err(io::Error::new(e.kind(), e.to_string())));
                    return Err(e);
                }
                left -= n;
            }
            // More than the destination holds (never asked for by the engine): skip it.
            discard(conn, left)?;
            tcp.finish_pull(id, Ok((len - left) as usize));
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown frame type {other}"),
            ))
        }
    }
    Ok(true)
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

fn pollin(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Two TCP endpoints in one process (ranks 0 and 1) on loopback, with `keys`; the
    /// counter counts rank 1's doorbell rings.
    fn pair(keys: [[u8; 32]; 2]) -> (Arc<Tcp>, Arc<Tcp>, Arc<AtomicUsize>) {
        let l0 = Listener::bind(Some("lo")).unwrap();
        let l1 = Listener::bind(Some("lo")).unwrap();
        let (c0, c1) = (l0.card, l1.card);
        let rings = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&rings);
        let cfg = |me: u32, peer: (u32, SocketAddr)| Config {
            me,
            key: keys[me as usize],
            peers: vec![peer],
            max_payload: 1024,
        };
        let t0 = Tcp::start(l0, cfg(0, (1, c1)), Box::new(|| {})).unwrap();
        let t1 = Tcp::start(
            l1,
            cfg(1, (0, c0)),
            Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .unwrap();
        (t0, t1, rings)
    }

    fn next_frame(t: &Tcp) -> Frame {
        let t0 = Instant::now();
        loop {
            if let Some(f) = t.poll() {
                return f;
            }
            assert!(t0.elapsed() < Duration::from_secs(20), "frame lost");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn cells_in_order_both_ways_and_pulls_land_in_place() {
        let (a, b, rings) = pair([[3u8; 32]; 2]);
        let hdr = [9u8; crate::transport::fabric::HDR_BYTES];
        for k in 0..200u32 {
            a.send(0, &hdr, &k.to_le_bytes()).unwrap();
        }
        b.send(0, &hdr, b"back").unwrap();
        for k in 0..200u32 {
            let f = next_frame(&b);
            assert_eq!(f.src, 0);
            assert_eq!(&f.buf[..48], &hdr[..]);
            assert_eq!(&f.buf[48..], &k.to_le_bytes());
        }
        assert!(rings.load(Ordering::SeqCst) >= 1);
        assert_eq!(&next_frame(&a).buf[48..], b"back");
        // b reads 3 MiB of a's memory into two destination pieces, then both pull at once.
        let src: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
        let mut d1 = vec![0u8; 1 << 20];
        let mut d2 = vec![0u8; 2 << 20];
        let got = b
            .pull(
                0,
                &[(src.as_ptr() as usize, src.len())],
                &[
                    (UserPtr::of_mut(&mut d1), d1.len()),
                    (UserPtr::of_mut(&mut d2), d2.len()),
                ],
            )
            .unwrap();
        assert_eq!(got, src.len());
        assert!(d1[..] == src[..1 << 20] && d2[..] == src[1 << 20..]);
        let mut e1 = vec![0u8; src.len()];
        let mut e2 = vec![0u8; src.len()];
        let (pa, pb) = (src.as_ptr() as usize, src.len());
        std::thread::scope(|s| {
            let (a, b) = (&a, &b);
            let (p1, p2) = (UserPtr::of_mut(&mut e1), UserPtr::of_mut(&mut e2));
            s.spawn(move || a.pull(0, &[(pa, pb)], &[(p1, pb)]).unwrap());
            s.spawn(move || b.pull(0, &[(pa, pb)], &[(p2, pb)]).unwrap());
        });
        assert!(e1 == src && e2 == src);
    }

    #[test]
    fn a_connector_without_the_key_is_refused_and_the_listener_goes_on() {
        let (a, b, _) = pair([[1u8; 32], [2u8; 32]]);
        let hdr = [0u8; crate::transport::fabric::HDR_BYTES];
        let e = a.send(0, &hdr, b"x").unwrap_err();
        assert!(
            e.kind() == io::ErrorKind::InvalidData
                || e.kind() == io::ErrorKind::UnexpectedEof
                || e.kind() == io::ErrorKind::ConnectionReset,
            "{e}"
        );
        // The other direction is refused too (b cannot prove the key to a either).
        assert!(b.send(0, &hdr, b"y").is_err());
        assert!(!a.has_inbound() && !b.has_inbound());
    }

    #[test]
    fn keys_from_hex_and_env_secret() {
        let k = random_bytes::<32>().unwrap();
        assert_eq!(key_from_hex(&to_hex(&k)), Some(k));
        assert_eq!(key_from_hex("zz"), None);
        assert_eq!(key_from_hex(&"g".repeat(64)), None);
    }
}
