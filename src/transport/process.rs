//! Safe wrappers for process-level syscalls std lacks: signalling a process group,
//! leaving at once (`_exit`), turning signals into bytes on a pipe (so a poll loop can wait
//! for them), tying a child's life to its launcher (the parent-death signal), and asking
//! whether stdin is a terminal we may not read from.

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

/// Arms (`Some(sig)`) or disarms (`None`) the signal the kernel sends this process when
/// its parent dies (`prctl(PR_SET_PDEATHSIG)`).
///
/// With `Some`, `parent` closes the race where the parent died before the call: if our
/// parent is no longer `parent` (we were re-parented to init or a subreaper), the signal is
/// raised at once, as the kernel would have done. Pass the parent's pid as the launcher
/// announced it; `None` skips the check.
///
/// The setting survives `execve` (except into set-user-ID programs) and is cleared in the
/// children of `fork`. "Parent" means the *thread* that forked us: a launcher must start
/// its children from a thread that lives as long as it does (mpiexec: its main thread).
pub fn set_parent_death_signal(sig: Option<i32>, parent: Option<u32>) -> io::Result<()> {
    let sig = sig.unwrap_or(0);
    if !(0..=64).contains(&sig) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: PR_SET_PDEATHSIG takes a signal number (0 = none) and touches no memory.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if sig != 0 {
        if let Some(parent) = parent {
            if !parent_is(parent) {
                // SAFETY: raise has no memory effects; it delivers `sig` to this thread.
                unsafe { libc::raise(sig) };
            }
        }
    }
    Ok(())
}

/// A descriptor that becomes readable (`POLLIN`) when process `pid` exits: `pidfd_open(2)`
/// (Linux 5.3). Lets a thread wait for a process's end in `poll` instead of checking on a
/// timer. Err(ENOSYS) on older kernels, EPERM/ENOSYS under seccomp filters that refuse it,
/// ESRCH if `pid` is gone already.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    // SAFETY: pidfd_open takes a pid and flags and touches no memory of ours; on success it
    // returns a new descriptor that nobody else owns.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by the kernel, is open, and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// True while `pid` is our parent process.
pub fn parent_is(pid: u32) -> bool {
    // SAFETY: getppid has no preconditions.
    let ppid = unsafe { libc::getppid() };
    u32::try_from(ppid).is_ok_and(|p| p == pid)
}

/// Makes the program `cmd` starts die by SIGKILL when the calling thread's process dies,
/// even by `kill -9` and even before the program reaches MPI_Init (or if it never does).
/// Call on the thread that spawns and that lives as long as the launcher.
pub fn die_with_launcher(cmd: &mut Command) {
    // SAFETY: getpid has no preconditions.
    let launcher = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the forked child before exec and only makes the
    // async-signal-safe calls prctl, getppid and _exit; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The launcher died between fork and prctl: the kernel will not tell us.
            if libc::getppid() != launcher {
                libc::_exit(137);
            }
            Ok(())
        });
    }
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
    fn parent_death_signal_arms_and_disarms() {
        // SAFETY (test): getppid has no preconditions.
        let ppid = unsafe { libc::getppid() } as u32;
        assert!(parent_is(ppid));
        assert!(!parent_is(ppid.wrapping_add(1)));
        // Armed with our real parent: nothing is raised (SIGURG's default is to ignore it,
        // so even a wrong raise would not end the test run).
        set_parent_death_signal(Some(libc::SIGURG), Some(ppid)).unwrap();
        let mut now: libc::c_int = -1;
        // SAFETY (test): PR_GET_PDEATHSIG writes the current signal into `now`.
        unsafe { libc::prctl(libc::PR_GET_PDEATHSIG, &mut now as *mut libc::c_int) };
        assert_eq!(now, libc::SIGURG);
        set_parent_death_signal(None, None).unwrap();
        assert!(set_parent_death_signal(Some(1000), None).is_err());
        let mut now: libc::c_int = -1;
        // SAFETY (test): PR_GET_PDEATHSIG writes the current signal into `now`.
        unsafe { libc::prctl(libc::PR_GET_PDEATHSIG, &mut now as *mut libc::c_int) };
        assert_eq!(now, 0);
    }

    #[test]
    fn a_child_dies_with_its_launcher() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        die_with_launcher(&mut cmd);
        // Spawn from a short-lived thread: the parent-death signal follows the thread that
        // forked, so the thread's end stands for the launcher's death.
        let child = std::thread::spawn(move || cmd.spawn().unwrap())
            .join()
            .unwrap();
        let pid = child.id();
        let mut child = child;
        let t0 = std::time::Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                t0.elapsed() < std::time::Duration::from_secs(10),
                "pid {pid} lived on"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }

    #[test]
    fn kill_group_refuses_dangerous_targets() {
        assert!(kill_group(0, 0).is_err());
        assert!(kill_group(1, 0).is_err());
        assert!(kill_group(u32::MAX, 0).is_err());
    }
}
