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
            // SAFETY: recv(2) writes only [addr + off, addr + len): memory of an operation
            // whose caller is blocked in `Tcp::pull` until this read ends (the MPI contract
            // keeps it valid and untouched meanwhile), or the slice `recv_exact` borrows
            // mutably for the call.
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

/// Copies `src` to address `addr` of this process (the part of a pull's answer that was
/// already buffered).
///
/// # Safety
/// `[addr, addr + src.len())` must be writable memory of this process that no live
/// reference covers (a pull's destination while its caller waits in `Tcp::pull`).
pub(super) unsafe fn copy_to_addr(addr: usize, src: &[u8]) {
    if src.is_empty() {
        return;
    }
    // SAFETY: the caller guarantees the range is writable and unaliased.
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), addr as *mut u8, src.len()) }
}

/// Fills `out` from socket `fd`, blocking until all of it has come (MSG_WAITALL: one
/// wake-up, not one per segment).
pub(super) fn recv_exact(fd: RawFd, out: &mut [u8]) -> io::Result<()> {
    raw_io(fd, out.as_mut_ptr() as usize, out.len(), Way::Recv)
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

/// Writes all of `parts`, in order, with as few sendmsg(2) calls as the socket allows (one
/// for a cell: header and payload together) and MSG_NOSIGNAL: a peer that is gone gives
/// EPIPE, never a SIGPIPE that would kill a C program.
pub(super) fn send_all(fd: RawFd, parts: &[&[u8]]) -> io::Result<()> {
    send_iov(
        fd,
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| libc::iovec {
                iov_base: p.as_ptr() as *mut libc::c_void,
                iov_len: p.len(),
            })
            .collect(),
    )
}

/// Writes `head` then the (address, length) ranges of this process's memory, as
/// [`send_all`]: the kernel reads the ranges (a range that is not mapped gives EFAULT,
/// never a crash), without a reference to them.
pub(super) fn send_gather(fd: RawFd, head: &[u8], ranges: &[(usize, usize)]) -> io::Result<()> {
    let mut iov = Vec::with_capacity(1 + ranges.len());
    iov.push(libc::iovec {
        iov_base: head.as_ptr() as *mut libc::c_void,
        iov_len: head.len(),
    });
    iov.extend(
        ranges
            .iter()
            .filter(|r| r.1 > 0)
            .map(|&(a, l)| libc::iovec {
                iov_base: a as *mut libc::c_void,
                iov_len: l,
            }),
    );
    send_iov(fd, iov)
}

/// Most entries one sendmsg(2) takes (Linux's IOV_MAX).
const IOV_MAX: usize = 1024;

/// Writes every byte the entries of `iov` describe, in order.
fn send_iov(fd: RawFd, mut iov: Vec<libc::iovec>) -> io::Result<()> {
    let mut first = 0;
    while first < iov.len() {
        // SAFETY: zeroed msghdr is a valid empty header; we then point it at up to IOV_MAX
        // entries of `iov[first..]`, which describe the caller's slices (alive for this
        // call) or memory the rendezvous contract keeps valid; the kernel only reads them.
        let n = unsafe {
            let mut m: libc::msghdr = std::mem::zeroed();
            m.msg_iov = iov[first..].as_mut_ptr();
            m.msg_iovlen = (iov.len() - first).min(IOV_MAX);
            libc::sendmsg(fd, &m, libc::MSG_NOSIGNAL)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut n = n as usize;
        while first < iov.len() && n >= iov[first].iov_len {
            n -= iov[first].iov_len;
            first += 1;
        }
        if n > 0 {
            let v = &mut iov[first];
            // SAFETY: n < iov_len: the new base stays inside the same range.
            v.iov_base = unsafe { v.iov_base.cast::<u8>().add(n).cast() };
            v.iov_len -= n;
        }
    }
    Ok(())
}
