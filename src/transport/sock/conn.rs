//! One connection of the socket transport: a Unix socket to a process on this host, or a
//! TCP connection to one on another host. Writes never raise SIGPIPE (a C program linking
//! us keeps SIGPIPE's default action): a peer that went away is an EPIPE error.

use crate::transport::fd::BorrowedSocket;
use crate::transport::links::Stream;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

pub enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.set_nonblocking(on),
            Conn::Tcp(s) => s.set_nonblocking(on),
        }
    }

    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.set_read_timeout(t),
            Conn::Tcp(s) => s.set_read_timeout(t),
        }
    }

    pub fn is_tcp(&self) -> bool {
        matches!(self, Conn::Tcp(_))
    }
}

impl AsRawFd for Conn {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Conn::Unix(s) => s.as_raw_fd(),
            Conn::Tcp(s) => s.as_raw_fd(),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // send(2) with MSG_NOSIGNAL, as for the user's socket of MPI_Comm_join (the check
        // that the fd is a socket costs one fstat per write, off the shared-memory path).
        BorrowedSocket::new(self.as_raw_fd())?.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream for Conn {
    fn set_read_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        Conn::set_read_timeout(self, t)
    }
}
