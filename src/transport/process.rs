//! Safe wrappers for process-level syscalls std lacks: signalling a process group,
//! leaving at once (`_exit`), turning signals into bytes on a pipe (so a poll loop can wait
//! for them), and asking whether stdin is a terminal we may not read from.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, Ordering};

/// Sends `sig` to every process of process group `pgid`.
pub fn kill_group(pgid: u32, sig: i32) -> io::Result<()> {
    let pgid =
        libc::pid_t::try_from(pgid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    if pgid <= 1 {
        // kill(-0) or kill(-1) would hit our own group or everything: never.
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: kill has no memory effects; pgid > 1 so this targets exactly one group.
    if unsafe { libc::kill(-pgid, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `sig` to the single process `pid`.
pub fn kill_pid(pid: u32, sig: i32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    if pid <= 1 {
        // kill(0) or kill(1) would hit our own group or init: never.
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: kill has no memory effects; pid > 1 names exactly one process.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Starts `cmd` with the fd `keep` inherited by the new program. Close-on-exec is cleared
/// in the child only (between fork and exec), so threads of this process that start other
/// programs at the same time never leak `keep` into them.
pub fn spawn_keeping_fd(cmd: &mut Command, keep: BorrowedFd<'_>) -> io::Result<Child> {
    let raw = keep.as_raw_fd();
    // SAFETY: the closure runs in the forked child before exec. It only calls fcntl, which
    // is async-signal-safe, allocates nothing and touches no lock; `raw` is open in the
    // parent while `keep` is borrowed (for the whole spawn), so it is open in the child.
    unsafe {
        cmd.pre_exec(move || {
            let flags = libc::fcntl(raw, libc::F_GETFD);
            if flags < 0 || libc::fcntl(raw, libc::F_SETFD, flags & !libc::FD_CLOEXEC) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// Ends the process now with `code`, without running atexit handlers or destructors
/// (which, in a C program that is aborting, could hang or touch broken state).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

/// Write end of the signal pipe, read by the handler; -1 when not installed.
static SIGNAL_PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = SIGNAL_PIPE_WRITE.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: errno is thread-local; we restore it so the interrupted code is not
        // disturbed. write(2) is async-signal-safe; the pipe is non-blocking, so a full
        // pipe drops the byte (the reader is already due to wake up).
        unsafe {
            let errno = *libc::__errno_location();
            libc::write(fd, &byte as *const u8 as *const libc::c_void, 1);
            *libc::__errno_location() = errno;
        }
    }
}

/// Delivers the chosen signals as bytes (the signal number) on a non-blocking pipe.
/// One per process: installing it twice is an error.
pub struct SignalPipe {
    read: OwnedFd,
    _write: OwnedFd,
}

impl SignalPipe {
    pub fn install(signals: &[i32]) -> io::Result<SignalPipe> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe2 writes two fds into the array we pass.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both fds were just created and are owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        if SIGNAL_PIPE_WRITE
            .compare_exchange(-1, write.as_raw_fd(), Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "signal pipe already installed",
            ));
        }
        for &sig in signals {
            // SAFETY: a zeroed sigaction is valid; we set a handler that only does
            // async-signal-safe work, and sigaction copies the struct.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                sa.sa_flags = libc::SA_RESTART
                    | if sig == libc::SIGCHLD {
                        libc::SA_NOCLDSTOP
                    } else {
                        0
                    };
                libc::sigemptyset(&mut sa.sa_mask);
                if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        Ok(SignalPipe {
            read,
            _write: write,
        })
    }

    /// The fd to poll for readability.
    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// The signals received since the last call, in arrival order.
    pub fn drain(&self) -> Vec<i32> {
        let mut out = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: reads into our stack buffer within its length.
            let n = unsafe {
                libc::read(
                    self.read.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                )
            };
            if n <= 0 {
                break;
            }
            out.extend(buf[..n as usize].iter().map(|&b| b as i32));
        }
        out
    }
}

/// True when stdin is a terminal whose foreground process group is not ours: reading it
/// would stop us with SIGTTIN (e.g. `mpiexec ... &` from an interactive shell).
pub fn stdin_is_background_tty() -> bool {
    // SAFETY: isatty, tcgetpgrp and getpgrp only query kernel state about fd 0 and us.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) != libc::getpgrp() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_group_refuses_dangerous_targets() {
        assert!(kill_group(0, 0).is_err());
        assert!(kill_group(1, 0).is_err());
        assert!(kill_group(u32::MAX, 0).is_err());
    }
}
