//! The engine's fabric in a real process: the node's shared-memory segment for the ranks
//! of our job on this host, TCP for the ranks of our job on other hosts (or all of them
//! with `OXIMPI_TRANSPORT=tcp`), and Unix sockets for processes of other jobs (dynamic
//! processes).
//!
//! Fabric indices: `0..nlocal` are shared-memory slots; `nlocal + i` is TCP peer `i`
//! (`i < ntcp`); `nlocal + ntcp + i` is socket peer `i`. Cells always come from our
//! segment; a cell bound for a TCP or socket peer is written to its connection and goes
//! straight back to our free list (a small message to a TCP peer takes no cell at all:
//! `send_small` writes it to the connection from the user's memory). The doorbell is the
//! segment's: the TCP and socket reader threads ring it, so one sleep covers every
//! transport.

use super::fabric::{Fabric, LostPeer, ReadStart, ShortHeader, HDR_BYTES};
use super::links::{Links, Stream};
use super::mem::UserPtr;
use super::shm::{cma, Cell, Received, Shm};
use super::sock::{Card, Frame, Sockets};
use super::tcp::{EventFd, Tcp};
use parking_lot::Mutex;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct Net {
    pub shm: Arc<Shm>,
    pub sock: Arc<Sockets>,
    tcp: Option<Arc<Tcp>>,
    nlocal: usize,
    ntcp: usize,
    bell: Arc<Bell>,
    /// One thread at a time sleeps on the sockets (see `wait_since`).
    socket_sleeper: Mutex<()>,
}

/// This rank's doorbell as its own threads ring it (the TCP and socket readers, a thread
/// that completes another's request): the node segment's futex, and an eventfd for a
/// thread that sleeps in `poll(2)` on its TCP connections instead of on the futex.
struct Bell {
    shm: Arc<Shm>,
    slot: usize,
    /// Made only when a thread may sleep on its sockets (TCP peers, no other rank on the node).
    fd: Option<EventFd>,
    /// A thread sleeps on the sockets and `fd`.
    polled: AtomicBool,
}

impl Bell {
    fn ring(&self) {
        self.shm.ring(self.slot);
        // After the futex's count (SeqCst): a sleeper that set `polled` before its last look
        // at the count either saw our ring or is signalled here.
        if let Some(fd) = &self.fd {
            if self.polled.load(Ordering::SeqCst) {
                fd.signal();
            }
        }
    }
}

pub enum Rx {
    Shm(Received),
    Tcp(Frame),
    Sock(Frame),
}

impl Net {
    /// `Fabric::send` and `send_eager`: cell `c` (`len` payload bytes) to `dst` through the
    /// node segment, TCP (`eager`: a user's eager message, which TCP may hold, see
    /// tcp::coalesce) or a socket peer's connection; the cell is free again afterwards.
    #[inline]
    fn send_cell(&self, dst: usize, mut c: Cell, len: usize, eager: bool) {
        if dst < self.nlocal {
            return self.shm.send(dst, c, len);
        }
        let (h, p) = self.shm.parts_mut(&mut c);
        if let Some((tcp, i)) = self.tcp_peer(dst) {
            // A failure loses the peer: reported once by `tcp` and through `lost_peers`.
            let _ = if eager {
                tcp.send_eager(i, &h[..], &p[..len])
            } else {
                tcp.send(i, &h[..], &p[..len])
            };
            return self.shm.free_unsent(c);
        }
        let peer = dst - self.sock_base();
        if let Err(e) = self.sock.send(peer, &h[..], &p[..len]) {
            eprintln!(
                "oximpi: cannot send to process {:#x}: {e}",
                self.sock.gpid_of(peer).unwrap_or(0)
            );
        }
        self.shm.free_unsent(c);
    }

    /// `tcp`: the listener and configuration of our TCP peers, when the job has any.
    pub fn new(
        shm: Shm,
        tcp: Option<(super::tcp::Listener, super::tcp::Config)>,
    ) -> io::Result<Net> {
        let nlocal = shm.nlocal();
        let cap = shm.payload_capacity();
        let shm = Arc::new(shm);
        // Only our own threads ring us when no other rank shares the node segment: then a
        // waiting thread may sleep on its sockets and an eventfd instead of the futex.
        let fd = match (&tcp, nlocal) {
            (Some(_), 1) => Some(EventFd::new()?),
            _ => None,
        };
        let bell = Arc::new(Bell {
            slot: shm.me(),
            shm: Arc::clone(&shm),
            fd,
            polled: AtomicBool::new(false),
        });
        let tcp = match tcp {
            Some((l, cfg)) => {
                let bell = Arc::clone(&bell);
                Some(Tcp::start(l, cfg, Box::new(move || bell.ring()))?)
            }
            None => None,
        };
        Ok(Net {
            shm,
            sock: Arc::new(Sockets::new(cap)),
            ntcp: tcp.as_ref().map_or(0, |t| t.count()),
            tcp,
            nlocal,
            bell,
            socket_sleeper: Mutex::new(()),
        })
    }

    /// True when a blocked thread sleeps in `poll(2)` on its TCP connections (TCP peers, no
    /// other rank on the node): the kernel wakes it as soon as a frame comes, so spinning
    /// first gains nothing and, on a host whose cores are busy, holds the core its peer or
    /// the kernel's network processing needs (measured over a veth pair: a 1 ms spin made
    /// a 64 KiB stream 2.5x slower, and a ping-pong whose ranks shared a core cost the
    /// whole spin per message). The engine's waiting policy does not use it: on an idle
    /// machine, sleeping at once made an 8 B message over the veth cost 39 us instead of
    /// 6 (waking an idle virtual CPU), see docs/bench-tcp.md.
    pub fn sleeps_on_sockets(&self) -> bool {
        self.bell.fd.is_some()
    }

    /// `wait_since` of a thread that sleeps in `poll(2)` on the TCP connections and the
    /// bell's eventfd: woken by the kernel when a frame arrives, it reads the frame itself
    /// (see `tcp::presence`); only our own threads can ring us, through `Bell::ring`.
    fn sleep_on_sockets(&self, tcp: &Tcp, bell: &EventFd, ticket: u32, timeout: Duration) {
        self.bell.polled.store(true, Ordering::SeqCst);
        if self.shm.doorbell_ticket() == ticket {
            tcp.sleep_on_sockets(bell.raw(), timeout);
        }
        self.bell.polled.store(false, Ordering::SeqCst);
        // Drained before the next sleeper may come (it holds `socket_sleeper`): a signal
        // for it cannot be taken here unless its ring also moved the count it checks.
        bell.drain();
    }

    /// The TCP peer of fabric index `dst`, if it is one.
    #[inline]
    fn tcp_peer(&self, dst: usize) -> Option<(&Tcp, usize)> {
        let i = dst.checked_sub(self.nlocal)?;
        (i < self.ntcp).then(|| (self.tcp.as_deref().expect("ntcp > 0"), i))
    }

    /// The first fabric index of the socket peers.
    #[inline]
    fn sock_base(&self) -> usize {
        self.nlocal + self.ntcp
    }

    /// `send_small` to a peer off the node (TCP), or to a socket peer (false: it takes a
    /// cell). Out of line: the node's straight line does not carry its code.
    #[inline(never)]
    fn send_small_remote(&self, dst: usize, hdr: &[u8; HDR_BYTES], payload: &[u8]) -> bool {
        // A TCP peer: the cell `send` would fill is only copied into the connection, so the
        // header and the user's bytes go there at once, with no cell taken from the segment
        // and given back, nor a copy into it (per 8 B message, hundreds of instructions on
        // the latency path). The same connection as the cells: ordered with them. A failure
        // loses the peer, reported by `tcp` and through `lost_peers`, as in `send`.
        // A run of them to one peer in one progress pass is written in one system call
        // (tcp::coalesce).
        if let Some((tcp, i)) = self.tcp_peer(dst) {
            let _ = tcp.send_eager(i, &hdr[..], payload);
            return true;
        }
        // Socket peers (other jobs) take cells.
        false
    }

    /// Tells the socket side who we are; its readers ring our doorbell.
    pub fn set_identity(&self, me: Card) {
        let bell = Arc::clone(&self.bell);
        self.sock.set_identity(me, Box::new(move || bell.ring()));
    }
}

impl Fabric for Net {
    type Cell = Cell;
    type Rx = Rx;

    #[inline]
    fn me(&self) -> usize {
        self.shm.me()
    }
    #[inline]
    fn payload_capacity(&self) -> usize {
        self.shm.payload_capacity()
    }
    #[inline]
    fn remote_peers(&self) -> usize {
        self.sock.count()
    }
    #[inline]
    fn alloc(&self) -> Option<Cell> {
        self.shm.alloc()
    }
    #[inline]
    fn header_mut<'a>(&'a self, c: &'a mut Cell) -> &'a mut [u8; HDR_BYTES] {
        self.shm.header_mut(c)
    }
    #[inline]
    fn payload_mut<'a>(&'a self, c: &'a mut Cell) -> &'a mut [u8] {
        self.shm.payload_mut(c)
    }
    #[inline]
    fn send(&self, dst: usize, c: Cell, len: usize) {
        self.send_cell(dst, c, len, false)
    }
    /// A user's eager message in a cell: to a TCP peer it may be held and written with the
    /// others of the progress pass, as `send_small`'s are (tcp::coalesce); protocol frames
    /// take `send` and are never held.
    #[inline]
    fn send_eager(&self, dst: usize, c: Cell, len: usize) {
        self.send_cell(dst, c, len, true)
    }
    /// A local peer's message is in the node segment, behind the doorbell's asymmetric
    /// pairing (transport::shm::doorbell), which keeps no fence: a blocking send drains the
    /// store buffer before it returns. Without it the 0-32 B ping-pong of bench/p2p.c took
    /// 0.296 us instead of 0.272 (session 13, 9 alternating rounds). TCP and socket peers
    /// have nothing to drain, but a TCP peer's small message may be held (see below).
    #[inline]
    fn after_blocking_send(&self, dst: usize) {
        if dst < self.nlocal {
            std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        } else if let Some((tcp, _)) = self.tcp_peer(dst) {
            // A small message held behind others of this pass goes before we return
            // (tcp::coalesce): one atomic load when nothing is held.
            tcp.flush();
        }
    }
    #[inline]
    fn send_small(&self, dst: usize, hdr: &[u8; HDR_BYTES], payload: &[u8]) -> bool {
        if dst < self.nlocal {
            return self.shm.send_small(dst, hdr, payload);
        }
        self.send_small_remote(dst, hdr, payload)
    }
    /// The node segment's ring written from the header's parts (`Shm::send_small_short`);
    /// other peers get the 48 bytes. Always inlined into the engine's straight line: as a
    /// call (it was, as `send_small`) it cost an 8 B MPI_Send ~12 instructions of frame
    /// and argument moves (issue 13).
    #[inline(always)]
    fn send_small_short(&self, dst: usize, h: &ShortHeader, payload: &[u8]) -> bool {
        if dst < self.nlocal {
            return self.shm.send_small_short(dst, h, payload);
        }
        self.send_small_remote(dst, &h.full(payload.len()), payload)
    }
    #[inline]
    fn poll(&self) -> Option<Rx> {
        if let Some(r) = self.shm.poll() {
            return Some(Rx::Shm(r));
        }
        if let Some(f) = self.tcp.as_ref().and_then(|t| t.poll()) {
            return Some(Rx::Tcp(f));
        }
        self.sock.poll().map(Rx::Sock)
    }
    #[inline]
    fn src(&self, r: &Rx) -> usize {
        match r {
            Rx::Shm(r) => r.src(),
            Rx::Tcp(f) => self.nlocal + f.src,
            Rx::Sock(f) => self.sock_base() + f.src,
        }
    }
    #[inline]
    fn header<'a>(&'a self, r: &'a Rx) -> &'a [u8; HDR_BYTES] {
        match r {
            Rx::Shm(r) => self.shm.header(r),
            Rx::Tcp(f) | Rx::Sock(f) => f.buf[..HDR_BYTES].try_into().expect("frame header"),
        }
    }
    #[inline]
    fn payload<'a>(&'a self, r: &'a Rx) -> &'a [u8] {
        match r {
            Rx::Shm(r) => self.shm.payload(r),
            Rx::Tcp(f) | Rx::Sock(f) => &f.buf[HDR_BYTES..],
        }
    }
    #[inline]
    fn release(&self, r: Rx) {
        match r {
            Rx::Shm(r) => self.shm.release(r),
            Rx::Tcp(f) => {
                if let Some(tcp) = &self.tcp {
                    tcp.release(f)
                }
            }
            Rx::Sock(_) => {}
        }
    }
    /// The node segment's fast boxes (local ranks' fabric indices are their local
    /// indices); socket and TCP frames go through `poll`.
    #[inline]
    fn drain_small(
        &self,
        max: usize,
        f: impl FnMut(usize, &[u8; HDR_BYTES], &[u8]) -> bool,
    ) -> usize {
        self.shm.drain_boxes(max, f)
    }
    /// A local rank's ring alone (`Shm::take_box_from`: one ring, a lock-free peek while
    /// it is empty), not the default's drain of every ring; other peers' messages come
    /// through `poll`.
    #[inline]
    fn take_small_from(
        &self,
        peer: usize,
        f: impl FnOnce(&[u8; HDR_BYTES], &[u8]) -> bool,
    ) -> Option<bool> {
        if peer < self.nlocal {
            self.shm.take_box_from(peer, f)
        } else {
            None
        }
    }
    fn peer_on_my_cpu(&self) -> bool {
        self.shm.peer_on_my_cpu()
    }
    fn ticket(&self) -> u32 {
        self.shm.doorbell_ticket()
    }
    fn wait_since(&self, ticket: u32, timeout: Duration) {
        if self.sock.has_inbound() || self.tcp.as_ref().is_some_and(|t| t.has_inbound()) {
            return;
        }
        let Some(tcp) = &self.tcp else {
            return self.shm.wait_since(ticket, timeout);
        };
        if let (Some(fd), Some(_one)) = (&self.bell.fd, self.socket_sleeper.try_lock()) {
            return self.sleep_on_sockets(tcp, fd, ticket, timeout);
        }
        tcp.asleep(|| self.shm.wait_since(ticket, timeout))
    }
    fn ring(&self, dst: usize) {
        // TCP and socket peers are woken by their own reader threads when our frame lands.
        if dst == self.bell.slot {
            self.bell.ring()
        } else if dst < self.nlocal {
            self.shm.ring(dst)
        }
    }
    fn pid_of(&self, local: usize) -> i32 {
        if local < self.nlocal {
            self.shm.pid_of(local)
        } else if self.tcp_peer(local).is_some() {
            // Another host (or forced TCP): no process to read with CMA.
            0
        } else {
            self.sock.pid_of(local - self.sock_base())
        }
    }
    fn read_remote(
        &self,
        local: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
    ) -> io::Result<usize> {
        if let Some((tcp, i)) = self.tcp_peer(local) {
            return tcp.pull(i, remote, dst);
        }
        cma::read_into(self.pid_of(local), remote, dst)
    }
    /// A TCP peer's memory is pulled without waiting (the answer lands in `dst` when a
    /// thread reads the connection, see `Tcp::start_pull`); CMA reads at once.
    fn start_read_remote(
        &self,
        local: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
    ) -> io::Result<ReadStart> {
        if let Some((tcp, i)) = self.tcp_peer(local) {
            return tcp.start_pull(i, remote, dst).map(ReadStart::Pending);
        }
        cma::read_into(self.pid_of(local), remote, dst).map(ReadStart::Done)
    }
    #[inline]
    fn served_reads(&self) -> bool {
        self.tcp.as_ref().is_some_and(|t| t.served_pulls())
    }
    #[inline]
    fn poll_reads(&self, f: impl FnMut(u64, io::Result<usize>)) -> usize {
        match &self.tcp {
            Some(tcp) => tcp.ended_pulls(f),
            None => 0,
        }
    }
    fn frame_eager_limit(&self, dst: usize) -> usize {
        if self.tcp_peer(dst).is_some() {
            super::tcp::FRAME_EAGER_MAX
        } else {
            0
        }
    }
    fn send_frame(
        &self,
        dst: usize,
        hdr: &[u8; HDR_BYTES],
        data: &[(UserPtr, usize)],
    ) -> io::Result<()> {
        match self.tcp_peer(dst) {
            Some((tcp, i)) => tcp.send_gather(i, hdr, data),
            None => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "messages to this peer travel in cells only",
            )),
        }
    }
    fn host_ranks(&self) -> Option<usize> {
        Some(self.nlocal)
    }
    fn lost_peers(&self) -> Vec<LostPeer> {
        let Some(tcp) = &self.tcp else {
            return Vec::new();
        };
        tcp.lost_peers()
            .into_iter()
            .map(|(i, why)| LostPeer {
                index: self.nlocal + i,
                reason: format!("rank {}: {why}", tcp.rank_of(i)),
            })
            .collect()
    }
}

impl Links for Net {
    fn listen(&self) -> io::Result<Card> {
        self.sock.card()
    }
    fn peer(&self, card: Card) -> usize {
        self.sock.peer(card)
    }
    fn card_of(&self, i: usize) -> Option<Card> {
        self.sock.card_of(i)
    }
    fn open_port(&self) -> io::Result<(Card, u64)> {
        self.sock.open_port()
    }
    fn close_port(&self, port: u64) -> bool {
        self.sock.close_port(port)
    }
    fn port_is_open(&self, port: u64) -> bool {
        self.sock.port_is_open(port)
    }
    fn take_connection(&self, port: u64) -> Option<Box<dyn Stream>> {
        self.sock
            .take_connection(port)
            .map(|c| Box::new(c) as Box<dyn Stream>)
    }
    fn connect_port(&self, card: &Card, port: u64) -> io::Result<Box<dyn Stream>> {
        Ok(Box::new(Sockets::connect_port(card, port)?))
    }
}
