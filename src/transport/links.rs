//! The interface the dynamic-process layer (`dpm`) reaches other jobs through: who this
//! process is to them (a `Card`), the processes of other jobs it has met (they become
//! fabric peers beyond the node's slots), ports other jobs connect to, and the byte stream
//! two roots talk over while their jobs meet (`Stream`).
//!
//! `net::Net` implements it with the Unix-socket engine (`sock`); a TCP transport between
//! hosts implements the same trait. Nothing above transport names a socket type.

use std::io::{self, Read, Write};
use std::time::Duration;

pub use super::sock::Card;

/// A connection between two roots: both write a blob, then both read one.
pub trait Stream: Read + Write + Send {
    /// Reads give up after `t` (None: block). Streams that cannot time out ignore it.
    fn set_read_timeout(&mut self, t: Option<Duration>) -> io::Result<()>;
}

impl Stream for super::fd::NoSigPipe {
    fn set_read_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        self.0.set_read_timeout(t)
    }
}

impl Stream for super::fd::BorrowedSocket {
    /// MPI_Comm_join's socket is the user's: its settings are left alone.
    fn set_read_timeout(&mut self, _t: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
}

/// A socket the user connected (MPI_Comm_join), borrowed for the roots' exchange.
pub fn borrow_user_socket(fd: i32) -> io::Result<Box<dyn Stream>> {
    Ok(Box::new(super::fd::BorrowedSocket::new(fd)?))
}

/// Writes one length-prefixed blob (the roots' exchange).
pub fn write_blob(w: &mut dyn Stream, b: &[u8]) -> io::Result<()> {
    super::sock::wire::write_blob(w, b)
}

/// Reads one length-prefixed blob of at most `max` bytes.
pub fn read_blob(r: &mut dyn Stream, max: usize) -> io::Result<Vec<u8>> {
    super::sock::wire::read_blob(r, max)
}

/// Reaching processes of other jobs.
pub trait Links {
    /// Our card, after making sure we listen for other jobs' processes.
    fn listen(&self) -> io::Result<Card>;
    /// The peer number of the process with `card` (learnt if new); its fabric index is the
    /// node's slot count plus this number.
    fn peer(&self, card: Card) -> usize;
    /// The card of peer `i`.
    fn card_of(&self, i: usize) -> Option<Card>;
    /// Opens a port: our card and the port's number (MPI_Open_port).
    fn open_port(&self) -> io::Result<(Card, u64)>;
    /// Closes a port; false if it was not open.
    fn close_port(&self, port: u64) -> bool;
    fn port_is_open(&self, port: u64) -> bool;
    /// A connection waiting on `port`, if any (never blocks).
    fn take_connection(&self, port: u64) -> Option<Box<dyn Stream>>;
    /// Connects to port `port` of the process with `card`.
    fn connect_port(&self, card: &Card, port: u64) -> io::Result<Box<dyn Stream>>;
}
