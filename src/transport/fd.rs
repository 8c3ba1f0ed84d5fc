//! Safe wrappers for the few file-descriptor syscalls that std does not offer: adopting a
//! socket inherited from the launcher (`PMI_FD`), toggling close-on-exec so a chosen fd
//! survives into a child, creating the job's memfd, and `poll`.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

/// Fails unless `fd` is an open socket.
fn check_socket(fd: RawFd) -> io::Result<()> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: fstat only writes into the zeroed stat buffer we pass; a bad fd gives EBADF.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("fd {fd} is not a socket"),
        ));
    }
    Ok(())
}

/// Takes ownership of an inherited, open stream socket `fd` (e.g. `PMI_FD`) and marks it
/// close-on-exec so programs the rank starts do not inherit it. Fails, without taking
/// ownership, if `fd` is not an open socket. The caller must not adopt the same fd twice.
pub fn adopt_inherited_socket(fd: RawFd) -> io::Result<UnixStream> {
    check_socket(fd)?;
    // SAFETY: fd is open (fstat succeeded); F_SETFD only changes its flags.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is an open socket that nothing else in this process owns (the caller's
    // contract), so the UnixStream becomes its single owner.
    Ok(unsafe { UnixStream::from_raw_fd(fd) })
}

/// Sets or clears close-on-exec on `fd`.
pub fn set_cloexec(fd: BorrowedFd<'_>, cloexec: bool) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: the borrow guarantees raw is open for the duration of these two calls.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let new = if cloexec {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(raw, libc::F_SETFD, new) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Creates an anonymous memory file (size 0, close-on-exec).
pub fn memfd_create(name: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: name is a valid NUL-terminated string; the returned fd is new and ours.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Marks every fd >= `first` close-on-exec, so fds this process inherited from its own
/// parent do not leak into the children it starts.
pub fn cloexec_from(first: RawFd) -> io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    let first = first.max(0) as libc::c_uint;
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC closes nothing; it only sets flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == 0 {
        return Ok(());
    }
    // Kernels before 5.11: walk /proc/self/fd instead.
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd >= first as RawFd)
        .collect();
    for fd in fds {
        // SAFETY: F_SETFD on an fd that may have closed meanwhile (e.g. read_dir's own)
        // just fails with EBADF; it touches no memory.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// `poll(2)`: waits until one of `fds` is ready or `timeout_ms` passes (-1: forever).
/// Returns the number of ready entries; `Err(Interrupted)` when a signal arrived.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: the pointer and length describe the caller's slice, which poll only
    // reads and writes within bounds.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::{AsFd, IntoRawFd};

    #[test]
    fn adopt_refuses_non_sockets_and_bad_fds() {
        assert!(adopt_inherited_socket(-1).is_err());
        let f = std::fs::File::open("/dev/null").unwrap();
        assert!(adopt_inherited_socket(f.as_raw_fd()).is_err());
    }

    #[test]
    fn adopted_socket_works_and_is_cloexec() {
        let (a, b) = UnixStream::pair().unwrap();
        set_cloexec(b.as_fd(), false).unwrap();
        let mut b = adopt_inherited_socket(b.into_raw_fd()).unwrap();
        // SAFETY (test): reading flags of an fd we own.
        let flags = unsafe { libc::fcntl(b.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        (&a).write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        b.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
    }

    #[test]
    fn memfd_and_poll() {
        let m = memfd_create(c"test").unwrap();
        assert!(m.as_raw_fd() >= 0);
        let (a, _b) = UnixStream::pair().unwrap();
        let mut fds = [libc::pollfd {
            fd: a.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        assert_eq!(poll(&mut fds, 0).unwrap(), 0);
        (&_b).write_all(b"x").unwrap();
        assert_eq!(poll(&mut fds, 1000).unwrap(), 1);
        assert!(fds[0].revents & libc::POLLIN != 0);
    }
}

/// A socket the user owns (MPI_Comm_join's `fd`), read and written without taking it over:
/// dropping it leaves the fd open.
pub struct BorrowedSocket(RawFd);

impl BorrowedSocket {
    /// Fails unless `fd` is an open socket.
    pub fn new(fd: RawFd) -> io::Result<BorrowedSocket> {
        check_socket(fd)?;
        Ok(BorrowedSocket(fd))
    }
}

impl io::Read for BorrowedSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: buf is a valid writable region of buf.len() bytes; the fd stays open
            // for the call (the user's contract for MPI_Comm_join).
            let n = unsafe { libc::recv(self.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl io::Write for BorrowedSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            // SAFETY: buf is a valid readable region; MSG_NOSIGNAL turns a closed peer into
            // EPIPE instead of killing the process with SIGPIPE.
            let n =
                unsafe { libc::send(self.0, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A connected stream socket whose writes never raise SIGPIPE (a C program linking us keeps
/// SIGPIPE's default action, which would kill it when a peer goes away): a dead peer is an
/// EPIPE error instead.
pub struct NoSigPipe(pub UnixStream);

impl io::Read for NoSigPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(&mut self.0, buf)
    }
}

impl io::Write for NoSigPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(&mut BorrowedSocket(self.0.as_raw_fd()), buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
