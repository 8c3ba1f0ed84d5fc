//! The socket to a wire-protocol launcher (PMI-1 or PMI-2) and the environment it is
//! announced in: inherited as `PMI_FD`, or dialled at hydra's `PMI_PORT`.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

use super::error::PmiError;
use crate::transport::fd;

/// The socket to the launcher. Both kinds are close-on-exec: std opens dialled sockets
/// with `SOCK_CLOEXEC`, and an inherited one is marked at adoption.
pub(super) enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    /// Adopts the inherited socket named by `PMI_FD`'s `value`.
    pub(super) fn inherited(value: &str) -> Result<Conn, PmiError> {
        let bad = |why: String| PmiError::Env {
            var: "PMI_FD",
            value: value.to_string(),
            why,
        };
        let raw: i32 = value.trim().parse().map_err(|e| bad(format!("{e}")))?;
        let sock = fd::adopt_inherited_socket(raw).map_err(|e| bad(e.to_string()))?;
        Ok(Conn::Unix(sock))
    }

    /// Dials `PMI_PORT`'s `addr` (`host:port`).
    pub(super) fn dial(addr: &str) -> Result<Conn, PmiError> {
        let sock = TcpStream::connect(addr).map_err(|e| PmiError::Env {
            var: "PMI_PORT",
            value: addr.to_string(),
            why: e.to_string(),
        })?;
        let _ = sock.set_nodelay(true);
        Ok(Conn::Tcp(sock))
    }

    pub(super) fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.write_all(b),
            Conn::Tcp(s) => s.write_all(b),
        }
    }

    /// One `read(2)`, retried when a signal interrupts it; `Err(Closed)` at end of stream.
    pub(super) fn read_some(&mut self, b: &mut [u8]) -> Result<usize, PmiError> {
        loop {
            let r = match self {
                Conn::Unix(s) => s.read(b),
                Conn::Tcp(s) => s.read(b),
            };
            return match r {
                Ok(0) => Err(PmiError::Closed),
                Ok(n) => Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e.into()),
            };
        }
    }

    /// Sets how long a read may block (`None`: forever).
    pub(super) fn set_read_timeout(&self, t: Option<std::time::Duration>) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.set_read_timeout(t),
            Conn::Tcp(s) => s.set_read_timeout(t),
        }
    }

    /// A second descriptor of the same socket (close-on-exec), for the watcher that notices
    /// the launcher hanging up (see `watch`).
    pub(super) fn watch_handle(&self) -> io::Result<OwnedFd> {
        Ok(match self {
            Conn::Unix(s) => s.try_clone()?.into(),
            Conn::Tcp(s) => s.try_clone()?.into(),
        })
    }
}

/// The value of `var`, unless unset or empty.
pub(super) fn env_var(var: &'static str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// The value of `var` as a number; a clear error when unset or malformed.
pub(super) fn env_u32(var: &'static str) -> Result<u32, PmiError> {
    let value = env_var(var).ok_or(PmiError::Env {
        var,
        value: String::new(),
        why: "not set".into(),
    })?;
    value.trim().parse().map_err(|e| PmiError::Env {
        var,
        value: value.clone(),
        why: format!("{e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, IntoRawFd};

    /// Whether `fd` is close-on-exec, from `/proc/self/fdinfo` (`flags` is octal; 02000000
    /// is O_CLOEXEC).
    fn cloexec(fd: i32) -> bool {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
            .unwrap();
        flags & 0o2000000 != 0
    }

    #[test]
    fn the_launcher_socket_and_its_watch_handle_are_close_on_exec() {
        let (a, _b) = UnixStream::pair().unwrap();
        fd::set_cloexec(std::os::fd::AsFd::as_fd(&a), false).unwrap();
        let raw = a.into_raw_fd();
        assert!(!cloexec(raw));
        let conn = Conn::inherited(&raw.to_string()).unwrap();
        assert!(
            cloexec(raw),
            "PMI_FD must not leak into programs the rank starts"
        );
        let watch = conn.watch_handle().unwrap();
        assert!(cloexec(watch.as_raw_fd()));
    }

    #[test]
    fn a_bad_pmi_fd_is_a_clear_error() {
        for bad in ["x", "-1"] {
            let e = Conn::inherited(bad).err().unwrap().to_string();
            assert!(e.contains("PMI_FD"), "{e}");
        }
    }
}
