//! Ranks never outlive their launcher (issue 15): a thread that notices the launcher going
//! away and ends the process.
//!
//! Two signs, either enough: the PMI connection hangs up (the launcher's end of the socket
//! closed: our mpiexec or hydra's proxy died, even by `kill -9`, since the kernel closes its
//! sockets), and the parent process changes (`getppid`: the process that started us died and
//! we were re-parented to init or a subreaper). The thread sleeps in `poll(2)` on the socket
//! for hang-up only (`POLLRDHUP`, never `POLLIN`, so PMI traffic does not wake it), on a
//! wake-up socket, and on a pidfd of the parent (`pidfd_open(2)`: readable when it exits).
//! With the pidfd it never wakes while all is well (issue 13's idle rank: a timed wake-up
//! costs ~30 us of CPU in a virtual machine, four a second were a fifth of a blocked rank's
//! CPU); where the kernel refuses pidfds it checks `getppid` on a timer, at most four times a
//! second. It works whatever the rank is doing (blocked in MPI, computing).
//!
//! The rank then writes one line on stderr and ends by `SIGKILL`, as hydra's ranks end when
//! their proxy loses its upstream (hydra sends SIGTERM then SIGKILL; a handler cannot catch
//! the second one, and neither can it here). Watching stops at MPI_Finalize, before the
//! finalize request, so a launcher that closes the connection after the last message is
//! no false alarm. Starting the watcher disarms the parent-death signal our mpiexec arms
//! before exec (transport::process::die_with_launcher): the watcher covers the same case and
//! says why the rank ends.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::transport::{fd, process};

/// How often the parent is checked when no pidfd watches it: well inside the two seconds
/// issue 14 allows.
const PARENT_CHECK_MS: i32 = 250;

/// A running watcher; dropping it (or `stop`) ends the watching.
pub struct Watch {
    stopped: Arc<AtomicBool>,
    wake: UnixStream,
    thread: Option<JoinHandle<()>>,
}

/// What the watcher saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// The launcher's end of the PMI connection closed.
    HungUp,
    /// Our parent process changed.
    Orphaned,
}

impl Watch {
    /// Starts watching `conn` (a descriptor of the PMI socket, if the protocol has one we
    /// can see) and the parent process, on behalf of `rank`. When either goes, the process
    /// ends as described in the module docs.
    pub fn start(rank: u32, conn: Option<OwnedFd>) -> io::Result<Watch> {
        let watch = Watch::start_with(conn, move |gone, launcher| {
            let why = match gone {
                Gone::HungUp => "closed the PMI connection",
                Gone::Orphaned => "has exited",
            };
            let _ = writeln!(
                io::stderr(),
                "oximpi: rank {rank}: the launcher (pid {launcher}) is gone ({why}); exiting"
            );
            let _ = process::kill_pid(std::process::id(), libc::SIGKILL);
            process::exit_now(128 + libc::SIGKILL)
        })?;
        // Our mpiexec starts every rank with a parent-death SIGKILL (for programs that never
        // reach MPI_Init); from here on this watcher takes over, so that the rank says why it
        // ends instead of vanishing. It notices the same death within PARENT_CHECK_MS.
        let _ = process::set_parent_death_signal(None, None);
        Ok(watch)
    }

    /// As `start`, with what to do when the launcher is gone (tests record it instead).
    fn start_with(
        conn: Option<OwnedFd>,
        on_gone: impl FnOnce(Gone, u32) + Send + 'static,
    ) -> io::Result<Watch> {
        let launcher = std::os::unix::process::parent_id();
        let (wake, wake_rx) = UnixStream::pair()?;
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = stopped.clone();
        let thread = std::thread::Builder::new()
            .name("oximpi-launcher-watch".into())
            .spawn(move || {
                if let Some(gone) = wait_for_loss(conn.as_ref(), &wake_rx, launcher, &flag) {
                    if !flag.load(Ordering::Acquire) {
                        on_gone(gone, launcher);
                    }
                }
            })?;
        Ok(Watch {
            stopped,
            wake,
            thread: Some(thread),
        })
    }

    /// Stops watching (at finalize) and waits for the thread, which then drops its
    /// descriptor of the PMI socket.
    pub fn stop(&mut self) {
        self.stopped.store(true, Ordering::Release);
        let _ = (&self.wake).write_all(b"x");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sleeps until the launcher is gone (`Some`) or the watch is stopped (`None`).
fn wait_for_loss(
    conn: Option<&OwnedFd>,
    wake: &UnixStream,
    launcher: u32,
    stopped: &AtomicBool,
) -> Option<Gone> {
    let hangup = libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR;
    // A parent of 1 at start (started by init, or in a container whose init is the
    // launcher) cannot change in a way that tells anything.
    let watch_parent = launcher > 1;
    // Opened before the first `getppid` check below, so an exit in between is seen by one
    // or the other.
    let parent_fd = watch_parent
        .then(|| process::pidfd_open(launcher).ok())
        .flatten();
    let timeout = match (&parent_fd, watch_parent) {
        (None, true) => PARENT_CHECK_MS,
        _ => -1,
    };
    loop {
        if watch_parent && std::os::unix::process::parent_id() != launcher {
            return Some(Gone::Orphaned);
        }
        let mut fds = vec![libc::pollfd {
            fd: wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        if let Some(p) = &parent_fd {
            fds.push(libc::pollfd {
                fd: p.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let conn_at = fds.len();
        if let Some(c) = conn {
            fds.push(libc::pollfd {
                fd: c.as_raw_fd(),
                events: libc::POLLRDHUP,
                revents: 0,
            });
        }
        match fd::poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // poll on our own two descriptors cannot fail otherwise; if it does, the
            // parent check below still runs, paced by a sleep.
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(PARENT_CHECK_MS as u64)),
        }
        if stopped.load(Ordering::Acquire) || fds[0].revents != 0 {
            return None;
        }
        if fds.get(conn_at).is_some_and(|f| f.revents & hangup != 0) {
            return Some(Gone::HungUp);
        }
        // The pidfd turns readable when the parent has exited (its children re-parented
        // already): the same loss the `getppid` check sees.
        if parent_fd.is_some() && fds[1].revents != 0 {
            return Some(Gone::Orphaned);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    #[test]
    fn notices_a_hang_up_quickly_but_not_traffic() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = Watch::start_with(Some(ours.try_clone().unwrap().into()), move |g, _| {
            tx.send((g, Instant::now())).unwrap();
        })
        .unwrap();
        // Traffic from the launcher is no alarm.
        (&theirs).write_all(b"cmd=barrier_out\n").unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(600)).is_err());
        let t0 = Instant::now();
        drop(theirs);
        let (g, when) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(g, Gone::HungUp);
        assert!(when.duration_since(t0) < Duration::from_secs(1));
    }

    #[test]
    fn stopping_first_means_no_alarm() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let (tx, rx) = mpsc::channel::<Gone>();
        let mut w = Watch::start_with(Some(ours.into()), move |g, _| {
            tx.send(g).unwrap();
        })
        .unwrap();
        w.stop();
        drop(theirs);
        assert!(rx.recv_timeout(Duration::from_millis(600)).is_err());
    }

    #[test]
    fn without_a_socket_it_only_watches_the_parent() {
        let (tx, rx) = mpsc::channel::<Gone>();
        let w = Watch::start_with(None, move |g, _| {
            tx.send(g).unwrap();
        })
        .unwrap();
        // The test runner, our parent, is alive.
        assert!(rx.recv_timeout(Duration::from_millis(600)).is_err());
        drop(w);
    }
}
