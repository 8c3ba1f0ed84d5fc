//! The socket transport: how a process reaches processes outside its job (spawned
//! children, parents, jobs met through MPI_Comm_connect/accept or MPI_Comm_join).
//!
//! Each process that takes part listens (started lazily, the first time dynamic processes
//! are used) on a Unix socket for processes of its host and on a TCP socket for those of
//! other hosts. Others know it by its *card* — its process id, which names the Unix socket,
//! and the token connectors must prove they know — and by its *place* (`place`): its host
//! and TCP address. A connection to a process on our host (same kernel and network
//! namespace) uses its Unix socket, and learns its OS pid for single-copy reads; one to
//! another host uses TCP. Either way the listener challenges the connector, who answers
//! with an HMAC under the secret (`wire`): the secret never travels, so somebody who can
//! reach the TCP port — anybody on the network — cannot get in, and is dropped and logged. Traffic to a peer goes on a connection we open to its card; traffic
//! from it arrives on the connection it opened to ours. So each direction has one ordered
//! stream and nobody needs to arbitrate who connects — MPI's non-overtaking order holds
//! per direction.
//!
//! Threads: one accepts connections and reads their hellos, all from one poll loop under
//! the admission rules of [`gate`] (deadline, cap on pending connections, back-off when out
//! of descriptors), so strangers on the host cannot exhaust the listener or slow the job;
//! one per *authenticated* inbound connection reads frames into the
//! inbox and rings the process's doorbell (the engine sleeps on it), so a blocked rank
//! wakes for socket traffic exactly as for shared memory. Sending writes the frame in the
//! caller's thread: the peer's reader always drains, so a write never waits on the peer's
//! MPI calls.
//!
//! Unix addresses are in the abstract namespace (nothing to clean up in the file system).
//! Ports (MPI_Open_port) are reached the same way; a port's name holds its process's place
//! and a random secret of the port, so — as with MPICH, where anyone who has a port's name
//! may connect — the name is the authorization, yet the secret is proved, never sent.

pub mod conn;
pub mod gate;
pub mod inbox;
pub mod place;
pub mod wire;

use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

pub use conn::Conn;
pub use place::Place;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wire::Hello;

/// How a process is reached: its process id (whose bits name its listening address) and
/// the token its job's processes accept. The OS pid is learnt from the process's hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Card {
    pub gpid: u64,
    pub token: u64,
}

impl Card {
    /// The abstract socket name the process listens on.
    pub fn name(&self) -> String {
        format!("oximpi-{:016x}", self.gpid)
    }

    /// Connects to the process: its Unix socket if it is on this host, else its TCP one.
    fn connect_once(&self) -> io::Result<Conn> {
        let place = place::lookup(self.gpid);
        if place.is_local() {
            let a = SocketAddr::from_abstract_name(self.name().as_bytes())?;
            return UnixStream::connect_addr(&a).map(Conn::Unix);
        }
        let addr = place.tcp.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!(
                    "process {:#x} is on another host and listens on no TCP address",
                    self.gpid
                ),
            )
        })?;
        let s = TcpStream::connect(addr)?;
        // Frames are written whole; small ones must not wait for Nagle's timer.
        s.set_nodelay(true)?;
        Ok(Conn::Tcp(s))
    }

    /// Connects, waiting a while for a process that has not started listening yet (it
    /// does as soon as it takes part in anything that involves another job).
    fn connect(&self) -> io::Result<Conn> {
        let t0 = std::time::Instant::now();
        let mut pause = Duration::from_micros(100);
        loop {
            match self.connect_once() {
                Ok(s) => return Ok(s),
                Err(e)
                    if e.kind() == io::ErrorKind::ConnectionRefused
                        && t0.elapsed() < CONNECT_PATIENCE =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// How long a connection to a process that is not listening yet is retried.
const CONNECT_PATIENCE: Duration = Duration::from_secs(60);
/// How long a connector waits for the listener's challenge (a listener drops connections
/// whose hello has not come within `gate::HANDSHAKE_DEADLINE`; this is far longer, since a
/// listener resting for want of descriptors answers late).
const CHALLENGE_WAIT: Duration = Duration::from_secs(60);

/// The connector's half of the handshake: reads the challenge, answers with `hello` under
/// `key` (see `wire`).
fn greet(conn: &mut Conn, key: u64, hello: &Hello) -> io::Result<()> {
    conn.set_read_timeout(Some(CHALLENGE_WAIT))?;
    let mut nonce = [0u8; wire::NONCE_BYTES];
    conn.read_exact(&mut nonce)?;
    conn.set_read_timeout(None)?;
    conn.write_all(&wire::encode_hello(key, &nonce, hello))
}

/// The address our TCP listener binds: the TCP transport's choice (OXIMPI_TCP_IFACE, else
/// the address of the host's name), port chosen by the kernel.
fn tcp_listener() -> io::Result<TcpListener> {
    let iface = std::env::var("OXIMPI_TCP_IFACE").ok();
    let ip = match (place::address_hint(), &iface) {
        // A process of this host found it already (see `place::hint_from`); an interface
        // named for us alone is looked up.
        (Some(ip), None) => std::net::IpAddr::V4(ip),
        _ => super::tcp::addr::listen_address(iface.as_deref())?,
    };
    TcpListener::bind((ip, 0))
}

/// A random 64-bit value (std's hasher keys come from the OS's random source).
pub fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}

/// A process outside our job.
struct Peer {
    card: Card,
    /// Its OS pid, from its hello (0 until it has connected to us).
    pid: std::sync::atomic::AtomicU32,
    /// Our connection to it (opened on the first send).
    out: Mutex<Option<Conn>>,
}

/// An open port: its secret, and the connections waiting for MPI_Comm_accept.
struct PortState {
    secret: u64,
    waiting: VecDeque<Conn>,
}

/// A frame received from peer `src` (its index in the peer table).
pub struct Frame {
    pub src: usize,
    /// Header then payload.
    pub buf: Vec<u8>,
}

pub struct Sockets {
    me: OnceLock<Card>,
    /// Where we listen, once we do.
    listening: OnceLock<Place>,
    start_lock: Mutex<()>,
    peers: RwLock<Vec<Arc<Peer>>>,
    /// `peers.len()`, readable without the lock (the engine asks on every blocking call).
    npeers: AtomicUsize,
    by_gpid: Mutex<HashMap<u64, usize>>,
    inbox: inbox::Inbox,
    /// Our open ports by number (MPI_Open_port).
    ports: Mutex<HashMap<u64, PortState>>,
    next_port: AtomicU64,
    /// Wakes this process's sleeping threads (its doorbell).
    waker: OnceLock<Box<dyn Fn() + Send + Sync>>,
    max_payload: usize,
}

impl Sockets {
    /// `max_payload`: the largest frame payload accepted (the engine's cell size).
    pub fn new(max_payload: usize) -> Sockets {
        Sockets {
            me: OnceLock::new(),
            listening: OnceLock::new(),
            start_lock: Mutex::new(()),
            peers: RwLock::new(Vec::new()),
            npeers: AtomicUsize::new(0),
            by_gpid: Mutex::new(HashMap::new()),
            inbox: inbox::Inbox::default(),
            ports: Mutex::new(HashMap::new()),
            next_port: AtomicU64::new(1),
            waker: OnceLock::new(),
            max_payload,
        }
    }

    /// Sets who we are (once, at start-up) and how to wake our sleeping threads.
    pub fn set_identity(&self, me: Card, waker: Box<dyn Fn() + Send + Sync>) {
        let _ = self.me.set(me);
        let _ = self.waker.set(waker);
    }

    fn my_card(&self) -> io::Result<Card> {
        self.me
            .get()
            .copied()
            .ok_or_else(|| io::Error::other("socket transport used before start-up"))
    }

    fn wake(&self) {
        if let Some(w) = self.waker.get() {
            w();
        }
    }

    /// Our card, after making sure we listen (the listener starts on first use).
    pub fn card(self: &Arc<Self>) -> io::Result<Card> {
        self.listen().map(|(card, _)| card)
    }

    /// Where we listen (starting to, if we did not yet).
    pub fn place(self: &Arc<Self>) -> io::Result<Place> {
        self.listen().map(|(_, place)| place)
    }

    fn listen(self: &Arc<Self>) -> io::Result<(Card, Place)> {
        let card = self.my_card()?;
        if let Some(p) = self.listening.get() {
            return Ok((card, *p));
        }
        let _g = self.start_lock.lock();
        if let Some(p) = self.listening.get() {
            return Ok((card, *p));
        }
        let unix = UnixListener::bind_addr(&SocketAddr::from_abstract_name(card.name())?)?;
        // Without a TCP listener only processes of this host can reach us: say so once, and
        // go on (a job on one host needs no more).
        let tcp = tcp_listener()
            .and_then(|l| {
                let a = match l.local_addr()? {
                    std::net::SocketAddr::V4(a) => a,
                    std::net::SocketAddr::V6(_) => {
                        return Err(io::Error::other("an IPv6 address (IPv4 only)"))
                    }
                };
                Ok((l, a))
            })
            .map_err(|e| {
                eprintln!(
                    "oximpi: processes of other hosts cannot reach this one: no TCP listener: {e}"
                )
            })
            .ok();
        let place = Place {
            host: place::this_host(),
            tcp: tcp.as_ref().map(|(_, a): &(TcpListener, SocketAddrV4)| *a),
        };
        place::learn(card.gpid, place);
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("oximpi-accept".into())
            .spawn(move || me.accept_loop(unix, tcp.map(|(l, _)| l), card.token))?;
        let _ = self.listening.set(place);
        Ok((card, place))
    }

    /// The listeners' one thread: accepts, challenges, reads hellos without blocking, and
    /// hands each authenticated connection on (see the module doc and [`gate`]).
    fn accept_loop(self: Arc<Self>, unix: UnixListener, tcp: Option<TcpListener>, token: u64) {
        use std::os::fd::AsRawFd;
        let nonblocking = unix.set_nonblocking(true).and_then(|()| match &tcp {
            Some(l) => l.set_nonblocking(true),
            None => Ok(()),
        });
        if nonblocking.is_err() {
            eprintln!("oximpi: cannot make the socket listener non-blocking; not listening");
            return;
        }
        let mut listeners = vec![unix.as_raw_fd()];
        listeners.extend(tcp.as_ref().map(|l| l.as_raw_fd()));
        let nl = listeners.len();
        let mut pending: gate::Pending<Handshake> =
            gate::Pending::new(gate::MAX_PENDING, gate::HANDSHAKE_DEADLINE);
        let mut resting_until: Option<std::time::Instant> = None;
        let mut warned = Warned::default();
        let mut fds: Vec<libc::pollfd> = Vec::new();
        loop {
            let now = std::time::Instant::now();
            if resting_until.is_some_and(|t| now >= t) {
                resting_until = None;
            }
            fds.clear();
            let listening = resting_until.is_none();
            if listening {
                fds.extend(listeners.iter().map(|&fd| pollin(fd)));
            }
            fds.extend(pending.iter().map(|h| pollin(h.conn.as_raw_fd())));
            let timeout = gate::poll_timeout_ms(
                now,
                pending.next_deadline().into_iter().chain(resting_until),
            );
            if let Err(e) = super::fd::poll(&mut fds, timeout) {
                // EINTR: at once. Anything else (ENOMEM) would fail again at once: rest.
                if e.kind() != io::ErrorKind::Interrupted {
                    std::thread::sleep(gate::ACCEPT_BACKOFF);
                }
                continue;
            }
            let now = std::time::Instant::now();
            let skip = if listening { nl } else { 0 };
            // Hellos first, so a connection that is complete is never evicted by the
            // newcomers accepted below.
            let ready: Vec<usize> = (0..pending.len())
                .filter(|&i| fds[skip + i].revents != 0)
                .collect();
            let mut done = Vec::new();
            // From the back, so removing one keeps the indices still to visit valid.
            for &i in ready.iter().rev() {
                let step = match pending.get_mut(i) {
                    Some(h) => h.advance(token, |p| self.port_secret(p)),
                    None => continue,
                };
                match step {
                    Step::More => {}
                    Step::Done(hello) => {
                        if let Some(h) = pending.remove(i) {
                            done.push((h.conn, hello));
                        }
                    }
                    Step::Fail(e) => {
                        if let Some(h) = pending.remove(i) {
                            warned.rejected(&h.conn, &e);
                        }
                    }
                }
            }
            // In arrival order.
            done.reverse();
            for (conn, hello) in done {
                self.admitted(conn, hello);
            }
            for k in 0..nl {
                if !listening || fds[k].revents == 0 {
                    continue;
                }
                // A bounded batch per round keeps the loop fair to pending hellos.
                for _ in 0..gate::MAX_PENDING {
                    let got = if k == 0 {
                        gate::accept_with(now, || {
                            let (s, _) = unix.accept()?;
                            s.set_nonblocking(true)?;
                            Ok(Conn::Unix(s))
                        })
                    } else {
                        gate::accept_with(now, || {
                            let l = tcp.as_ref().expect("a second listener is TCP's");
                            let (s, _) = l.accept()?;
                            s.set_nonblocking(true)?;
                            s.set_nodelay(true)?;
                            Ok(Conn::Tcp(s))
                        })
                    };
                    match got {
                        gate::Accepted::Conn(conn) => match Handshake::new(conn) {
                            // The evicted connection is dropped (closed) here.
                            Ok(h) => drop(pending.admit(h, now)),
                            Err((conn, e)) => warned.rejected(&conn, &e),
                        },
                        gate::Accepted::Drained => break,
                        gate::Accepted::Rest(until, e) => {
                            warned.resting(&e);
                            resting_until = Some(until);
                            break;
                        }
                    }
                }
            }
            drop(pending.expire(now));
        }
    }

    /// The secret of our open port `port`.
    pub fn port_secret(&self, port: u64) -> Option<u64> {
        self.ports.lock().get(&port).map(|p| p.secret)
    }

    /// An authenticated connection: either read the peer's frames until it closes (on a
    /// thread of its own), or hand the connection to the port it asked for.
    fn admitted(self: &Arc<Self>, conn: Conn, hello: Hello) {
        // Everything after the hello is read with blocking calls.
        if conn.set_nonblocking(false).is_err() {
            return;
        }
        match hello {
            Hello::Port { port } => {
                let mut ports = self.ports.lock();
                if let Some(p) = ports.get_mut(&port) {
                    p.waiting.push_back(conn);
                    drop(ports);
                    self.wake();
                }
            }
            Hello::Peer {
                gpid,
                pid,
                token,
                place,
            } => {
                // Proven by the MAC: where it listens, and (on this host) its pid for
                // single-copy reads; a pid of another host means nothing here.
                place::learn(gpid, place);
                let pid = if place.is_local() && !conn.is_tcp() {
                    pid
                } else {
                    0
                };
                let me = Arc::clone(self);
                let spawned = std::thread::Builder::new()
                    .name("oximpi-sock".into())
                    .spawn(move || me.read_frames(conn, gpid, pid, token));
                if let Err(e) = spawned {
                    eprintln!("oximpi: cannot serve process {gpid:#x}: no thread: {e}");
                }
            }
        }
    }

    /// Reads frames from peer `gpid` until it closes its connection.
    fn read_frames(&self, mut conn: Conn, gpid: u64, pid: u32, token: u64) {
        let src = self.peer(Card { gpid, token });
        if let Some(p) = self.peers.read().get(src) {
            p.pid.store(pid, Ordering::Relaxed);
        }
        loop {
            match wire::read_frame(&mut conn, self.max_payload) {
                Ok(Some(buf)) => {
                    self.inbox.push(Frame { src, buf });
                    self.wake();
                }
                Ok(None) => return,
                Err(e) => {
                    eprintln!("oximpi: connection from process {gpid:#x} broken: {e}");
                    return;
                }
            }
        }
    }

    /// The index of process `card.gpid` in the peer table, adding it if new.
    pub fn peer(&self, card: Card) -> usize {
        let mut by = self.by_gpid.lock();
        if let Some(&i) = by.get(&card.gpid) {
            return i;
        }
        let mut peers = self.peers.write();
        let i = peers.len();
        peers.push(Arc::new(Peer {
            card,
            pid: std::sync::atomic::AtomicU32::new(0),
            out: Mutex::new(None),
        }));
        by.insert(card.gpid, i);
        self.npeers.store(i + 1, Ordering::Release);
        i
    }

    /// The index of process `gpid`, if known.
    pub fn find(&self, gpid: u64) -> Option<usize> {
        self.by_gpid.lock().get(&gpid).copied()
    }

    /// Number of peers known (indices are `0..count`).
    #[inline]
    pub fn count(&self) -> usize {
        self.npeers.load(Ordering::Acquire)
    }

    pub fn card_of(&self, i: usize) -> Option<Card> {
        self.peers.read().get(i).map(|p| p.card)
    }

    pub fn gpid_of(&self, i: usize) -> Option<u64> {
        self.card_of(i).map(|c| c.gpid)
    }

    pub fn pid_of(&self, i: usize) -> i32 {
        self.peers
            .read()
            .get(i)
            .map(|p| p.pid.load(Ordering::Relaxed) as i32)
            .unwrap_or(0)
    }

    /// Sends one frame to peer `i`, connecting first if needed.
    pub fn send(self: &Arc<Self>, i: usize, hdr: &[u8], payload: &[u8]) -> io::Result<()> {
        let peer = self
            .peers
            .read()
            .get(i)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such peer"))?;
        let mut out = peer.out.lock();
        if out.is_none() {
            // Listen first: the peer may answer through us.
            let (me, place) = self.listen()?;
            let mut s = peer.card.connect()?;
            let hello = Hello::Peer {
                gpid: me.gpid,
                pid: std::process::id(),
                token: me.token,
                place,
            };
            greet(&mut s, peer.card.token, &hello)?;
            *out = Some(s);
        }
        let s = out.as_mut().expect("connected above");
        let r = wire::write_frame(s, hdr, payload);
        if r.is_err() {
            *out = None;
        }
        r
    }

    /// True when frames wait in the inbox (one atomic load: cheap on the shm hot path).
    #[inline]
    pub fn has_inbound(&self) -> bool {
        self.inbox.has_inbound()
    }

    pub fn poll(&self) -> Option<Frame> {
        self.inbox.poll()
    }

    // ----------------------------------------------------------------------------------
    // Ports (MPI_Open_port): connections that bring two roots together.

    /// Opens a port: the card to put in its name — our process id with the port's own
    /// random secret as the token — and its number.
    pub fn open_port(self: &Arc<Self>) -> io::Result<(Card, u64)> {
        let card = self.card()?;
        let port = self.next_port.fetch_add(1, Ordering::Relaxed);
        let secret = u64::from_le_bytes(super::tcp::random_bytes::<8>()?);
        self.ports.lock().insert(
            port,
            PortState {
                secret,
                waiting: VecDeque::new(),
            },
        );
        Ok((
            Card {
                gpid: card.gpid,
                token: secret,
            },
            port,
        ))
    }

    /// Closes a port; connections waiting on it are dropped. False if it was not open.
    pub fn close_port(&self, port: u64) -> bool {
        self.ports.lock().remove(&port).is_some()
    }

    pub fn port_is_open(&self, port: u64) -> bool {
        self.ports.lock().contains_key(&port)
    }

    /// A connection waiting on `port`, if any. Connections whose other end has hung up
    /// (a connector that gave up waiting, see MPI_Comm_connect's timeout) are dropped: an
    /// accept must meet a connector that is still there.
    pub fn take_connection(&self, port: u64) -> Option<Conn> {
        let mut ports = self.ports.lock();
        let q = &mut ports.get_mut(&port)?.waiting;
        while let Some(c) = q.pop_front() {
            if !hung_up(&c) {
                return Some(c);
            }
        }
        None
    }

    /// Connects to port `port` of the process with `card` (its token: the port's secret,
    /// from the port's name; where it listens: `place`, learnt from the name too).
    pub fn connect_port(card: &Card, port: u64) -> io::Result<Conn> {
        // A port's owner listens already (opening the port started it).
        let mut s = card.connect_once()?;
        greet(&mut s, card.token, &Hello::Port { port })?;
        Ok(s)
    }
}

fn pollin(fd: std::os::fd::RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// A connection whose hello is being read, without blocking, a few bytes at a time.
struct Handshake {
    conn: Conn,
    /// The challenge sent to it.
    nonce: [u8; wire::NONCE_BYTES],
    buf: Vec<u8>,
}

enum Step {
    More,
    Done(Hello),
    Fail(io::Error),
}

impl Handshake {
    /// Sends the challenge to a new connection (16 bytes into an empty socket buffer: a
    /// non-blocking write takes them whole).
    fn new(mut conn: Conn) -> Result<Handshake, (Conn, io::Error)> {
        let nonce = match super::tcp::random_bytes::<{ wire::NONCE_BYTES }>() {
            Ok(n) => n,
            Err(e) => return Err((conn, e)),
        };
        match conn.write(&nonce) {
            Ok(n) if n == nonce.len() => Ok(Handshake {
                conn,
                nonce,
                buf: Vec::with_capacity(96),
            }),
            Ok(_) => Err((conn, io::Error::other("could not send the challenge whole"))),
            Err(e) => Err((conn, e)),
        }
    }

    /// Reads what has arrived, never past the end of the hello.
    fn advance(&mut self, token: u64, port_secret: impl Fn(u64) -> Option<u64>) -> Step {
        use std::io::Read;
        loop {
            let want = if self.buf.len() < wire::HELLO_PREFIX {
                wire::HELLO_PREFIX
            } else {
                match wire::hello_len(&self.buf) {
                    Ok(n) => n,
                    Err(e) => return Step::Fail(e),
                }
            };
            if self.buf.len() == want {
                return match wire::read_hello(&self.buf, &self.nonce, token, &port_secret) {
                    Ok(h) => Step::Done(h),
                    Err(e) => Step::Fail(e),
                };
            }
            let mut chunk = [0u8; 128];
            // Never past the hello (nor past the chunk: a longer hello takes several reads).
            let room = (want - self.buf.len()).min(chunk.len());
            match self.conn.read(&mut chunk[..room]) {
                Ok(0) => {
                    return Step::Fail(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "closed before its hello",
                    ))
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::More,
                Err(e) => return Step::Fail(e),
            }
        }
    }
}

/// Problems on the listener are reported once each, so a flood cannot flood stderr too.
#[derive(Default)]
struct Warned {
    rejected: bool,
    resting: bool,
}

impl Warned {
    fn rejected(&mut self, conn: &Conn, e: &io::Error) {
        // A connector that just closes is no news; garbage or a wrong secret is.
        if e.kind() == io::ErrorKind::InvalidData && !self.rejected {
            self.rejected = true;
            let from = match conn {
                Conn::Tcp(s) => s
                    .peer_addr()
                    .map(|a| format!(" from {a}"))
                    .unwrap_or_default(),
                Conn::Unix(_) => String::new(),
            };
            eprintln!(
                "oximpi: rejected a connection{from} to this process's socket: {e} (further \
                 rejections are not reported)"
            );
        }
    }

    fn resting(&mut self, e: &io::Error) {
        if !self.resting {
            self.resting = true;
            eprintln!(
                "oximpi: cannot accept connections for now: {e}; retrying every {} ms",
                gate::ACCEPT_BACKOFF.as_millis()
            );
        }
    }
}

/// True if the peer of `s` has closed its end (or the socket failed).
fn hung_up(s: &Conn) -> bool {
    use std::os::fd::AsRawFd;
    let mut p = [libc::pollfd {
        fd: s.as_raw_fd(),
        events: libc::POLLIN | libc::POLLRDHUP,
        revents: 0,
    }];
    match super::fd::poll(&mut p, 0) {
        Ok(0) => false,
        Ok(_) => p[0].revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends() -> (Arc<Sockets>, Arc<Sockets>, Arc<AtomicUsize>) {
        let rings = Arc::new(AtomicUsize::new(0));
        let a = Arc::new(Sockets::new(1024));
        let b = Arc::new(Sockets::new(1024));
        let r = rings.clone();
        let key = random_u64() & !0xff;
        b.set_identity(
            Card {
                gpid: key | 2,
                token: 5,
            },
            Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
            }),
        );
        a.set_identity(
            Card {
                gpid: key | 1,
                token: 6,
            },
            Box::new(|| {}),
        );
        (a, b, rings)
    }

    #[test]
    fn frames_in_order_and_the_peer_is_learnt() {
        let (a, b, rings) = ends();
        let bcard = b.card().unwrap();
        let i = a.peer(bcard);
        let hdr = [3u8; crate::transport::fabric::HDR_BYTES];
        for k in 0..100u32 {
            a.send(i, &hdr, &k.to_le_bytes()).unwrap();
        }
        let mut got = 0u32;
        let t0 = std::time::Instant::now();
        while got < 100 {
            if let Some(f) = b.poll() {
                let acard = a.my_card().unwrap();
                assert_eq!(b.card_of(f.src), Some(acard));
                assert_eq!(b.pid_of(f.src), std::process::id() as i32);
                assert_eq!(&f.buf[48..], &got.to_le_bytes());
                got += 1;
            } else {
                assert!(t0.elapsed() < Duration::from_secs(20), "frames lost");
                std::thread::yield_now();
            }
        }
        assert!(rings.load(Ordering::SeqCst) >= 1);
    }

    #[test]
    fn a_flood_of_idle_and_garbage_connections_does_not_stop_the_traffic() {
        let (a, b, _) = ends();
        let bcard = b.card().unwrap();
        let addr = SocketAddr::from_abstract_name(bcard.name().as_bytes()).unwrap();
        // Three times the cap of idle connections, and some garbage hellos.
        let mut idle = Vec::new();
        for k in 0..3 * gate::MAX_PENDING {
            let mut c = UnixStream::connect_addr(&addr).unwrap();
            if k % 8 == 0 {
                let _ = c.write_all(b"GET / HTTP/1.0\r\n\r\n");
            }
            idle.push(c);
        }
        let i = a.peer(bcard);
        let hdr = [3u8; crate::transport::fabric::HDR_BYTES];
        for k in 0..10u32 {
            a.send(i, &hdr, &k.to_le_bytes()).unwrap();
        }
        let t0 = std::time::Instant::now();
        let mut got = 0;
        while got < 10 {
            if b.poll().is_some() {
                got += 1;
            } else {
                assert!(t0.elapsed() < Duration::from_secs(20), "frames lost");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        // Most idle connections were closed by the listener (evicted): after the challenge,
        // reading gives EOF, or a reset where the listener left unread garbage behind.
        let mut closed = 0;
        for c in &idle {
            c.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 64];
            loop {
                match io::Read::read(&mut &*c, &mut buf) {
                    Ok(0) => closed += 1,
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::ConnectionReset => closed += 1,
                    _ => {}
                }
                break;
            }
        }
        assert!(closed >= 2 * gate::MAX_PENDING - 1, "only {closed} closed");
    }

    /// Waits for `n` frames at `b`; returns the peer index of the last.
    fn receive(b: &Sockets, n: u32) -> usize {
        let t0 = std::time::Instant::now();
        let mut got = 0;
        let mut src = usize::MAX;
        while got < n {
            if let Some(f) = b.poll() {
                assert_eq!(&f.buf[48..], &got.to_le_bytes());
                src = f.src;
                got += 1;
            } else {
                assert!(t0.elapsed() < Duration::from_secs(20), "frames lost");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        src
    }

    #[test]
    fn over_tcp_strangers_are_rejected_and_peers_get_through() {
        let (a, b, _) = ends();
        let bcard = b.card().unwrap();
        let Some(addr) = b.place().unwrap().tcp else {
            eprintln!("no TCP listener on this machine: nothing to test");
            return;
        };
        // Strangers on the network: garbage, a hello under a guessed token, and a replay of
        // a correct hello made for another challenge. Each is closed by the listener.
        let mut strangers = Vec::new();
        for guess in [None, Some(bcard.token ^ 1), Some(bcard.token)] {
            let mut c = TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut nonce = [0u8; wire::NONCE_BYTES];
            c.read_exact(&mut nonce).unwrap();
            let hello = Hello::Peer {
                gpid: 77,
                pid: 1,
                token: 1,
                place: Place::default(),
            };
            let bytes = match guess {
                None => b"GET / HTTP/1.0\r\n\r\n".to_vec(),
                Some(t) if t == bcard.token => wire::encode_hello(t, &[0u8; 16], &hello),
                Some(t) => wire::encode_hello(t, &nonce, &hello),
            };
            c.write_all(&bytes).unwrap();
            strangers.push(c);
        }
        for mut c in strangers {
            let mut byte = [0u8; 1];
            match c.read(&mut byte) {
                Ok(0) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
                r => panic!("a stranger's connection was kept: {r:?}"),
            }
        }
        assert_eq!(b.find(77), None, "a stranger became a peer");
        // A peer of "another host" (a made-up host id) is reached over TCP.
        place::learn(
            bcard.gpid,
            Place {
                host: place::this_host() ^ 1,
                tcp: Some(addr),
            },
        );
        let i = a.peer(bcard);
        let hdr = [3u8; crate::transport::fabric::HDR_BYTES];
        for k in 0..10u32 {
            a.send(i, &hdr, &k.to_le_bytes()).unwrap();
        }
        let src = receive(&b, 10);
        assert_eq!(b.card_of(src), Some(a.my_card().unwrap()));
        let out = a.peers.read()[i].out.lock().as_ref().map(Conn::is_tcp);
        assert_eq!(out, Some(true));
    }

    #[test]
    fn ports_take_only_connections_with_the_token() {
        let (_a, b, _) = ends();
        let (card, port) = b.open_port().unwrap();
        let mut bad = card;
        bad.token ^= 1;
        let _stranger = Sockets::connect_port(&bad, port).unwrap();
        let _c = Sockets::connect_port(&card, port).unwrap();
        let t0 = std::time::Instant::now();
        let mut n = 0;
        while t0.elapsed() < Duration::from_secs(1) {
            if b.take_connection(port).is_some() {
                n += 1;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(n, 1);
        assert!(b.close_port(port));
        assert!(!b.close_port(port));
    }
}
