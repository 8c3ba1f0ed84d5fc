//! Blocking byte moves on a TCP stream: the zero-copy send/recv of rendezvous ranges
//! (addresses, not references), reads under a handshake deadline, and skipping bytes.

use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::RawFd;
use std::time::Instant;

/// Which way [`raw_io`] moves bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Way {
    /// From our memory into the socket (answering a pull).
    Send,
    /// From the socket into our memory (a pull's answer).
    Recv,
}

/// Moves exactly `len` bytes between socket `fd` and address `addr` of this process with
/// send(2)/recv(2), without forming a reference to the memory: the kernel copies it (a
/// range that is not mapped gives EFAULT, never a crash).
pub(super) fn raw_io(fd: RawFd, addr: usize, len: usize, way: Way) -> io::Result<()> {
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
pub(super) fn read_exact_by(
    s: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
) -> io::Result<()> {
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
pub(super) fn discard(conn: &mut TcpStream, n: u64) -> io::Result<()> {
    let got = io::copy(&mut (&*conn).take(n), &mut io::sink())?;
    if got < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}
