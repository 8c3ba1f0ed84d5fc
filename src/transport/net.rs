//! The engine's fabric in a real process: the node's shared-memory segment for the ranks
//! of our job on this host, and sockets for processes of other jobs (dynamic processes).
//!
//! Fabric indices: `0..nlocal` are shared-memory slots; `nlocal + i` is socket peer `i`.
//! Cells always come from our segment; a cell bound for a socket peer is written to the
//! socket and goes straight back to our free list. The doorbell is the segment's: socket
//! reader threads ring it, so one sleep covers both transports.

use super::fabric::{Fabric, HDR_BYTES};
use super::links::{Links, Stream};
use super::mem::UserPtr;
use super::shm::{cma, Cell, Received, Shm};
use super::sock::{Card, Frame, Sockets};
use std::io;
use std::sync::Arc;
use std::time::Duration;

pub struct Net {
    pub shm: Arc<Shm>,
    pub sock: Arc<Sockets>,
    nlocal: usize,
}

pub enum Rx {
    Shm(Received),
    Sock(Frame),
}

impl Net {
    pub fn new(shm: Shm) -> Net {
        let nlocal = shm.nlocal();
        let cap = shm.payload_capacity();
        Net {
            shm: Arc::new(shm),
            sock: Arc::new(Sockets::new(cap)),
            nlocal,
        }
    }

    /// Tells the socket side who we are; its readers ring our doorbell.
    pub fn set_identity(&self, me: Card) {
        let shm = Arc::clone(&self.shm);
        let slot = shm.me();
        self.sock.set_identity(me, Box::new(move || shm.ring(slot)));
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
    fn send(&self, dst: usize, mut c: Cell, len: usize) {
        if dst < self.nlocal {
            return self.shm.send(dst, c, len);
        }
        let peer = dst - self.nlocal;
        let (h, p) = self.shm.parts_mut(&mut c);
        if let Err(e) = self.sock.send(peer, &h[..], &p[..len]) {
            eprintln!(
                "oximpi: cannot send to process {:#x}: {e}",
                self.sock.gpid_of(peer).unwrap_or(0)
            );
        }
        self.shm.free_unsent(c);
    }
    #[inline]
    fn poll(&self) -> Option<Rx> {
        if let Some(r) = self.shm.poll() {
            return Some(Rx::Shm(r));
        }
        self.sock.poll().map(Rx::Sock)
    }
    #[inline]
    fn src(&self, r: &Rx) -> usize {
        match r {
            Rx::Shm(r) => r.src(),
            Rx::Sock(f) => self.nlocal + f.src,
        }
    }
    #[inline]
    fn header<'a>(&'a self, r: &'a Rx) -> &'a [u8; HDR_BYTES] {
        match r {
            Rx::Shm(r) => self.shm.header(r),
            Rx::Sock(f) => f.buf[..HDR_BYTES].try_into().expect("frame header"),
        }
    }
    #[inline]
    fn payload<'a>(&'a self, r: &'a Rx) -> &'a [u8] {
        match r {
            Rx::Shm(r) => self.shm.payload(r),
            Rx::Sock(f) => &f.buf[HDR_BYTES..],
        }
    }
    #[inline]
    fn release(&self, r: Rx) {
        if let Rx::Shm(r) = r {
            self.shm.release(r)
        }
    }
    fn ticket(&self) -> u32 {
        self.shm.doorbell_ticket()
    }
    fn wait_since(&self, ticket: u32, timeout: Duration) {
        if self.sock.has_inbound() {
            return;
        }
        self.shm.wait_since(ticket, timeout)
    }
    fn ring(&self, dst: usize) {
        // Socket peers are woken by their own reader threads when our frame lands.
        if dst < self.nlocal {
            self.shm.ring(dst)
        }
    }
    fn pid_of(&self, local: usize) -> i32 {
        if local < self.nlocal {
            self.shm.pid_of(local)
        } else {
            self.sock.pid_of(local - self.nlocal)
        }
    }
    fn read_remote(
        &self,
        local: usize,
        remote: &[(usize, usize)],
        dst: &[(UserPtr, usize)],
    ) -> io::Result<usize> {
        cma::read_into(self.pid_of(local), remote, dst)
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
