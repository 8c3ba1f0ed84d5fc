//! Lost TCP peers: how a failed connect or write, or a peer that hangs up mid-job, reaches
//! the layers above instead of leaving a sender or a waiting receiver blocked.
//!
//! A peer is *lost* when our connect to it fails (refused, unreachable, timed out, or it
//! cannot prove the job's key), when a write to it fails (reset, broken pipe), or when its
//! connection to us breaks or ends without a `BYE` frame. From then on every send or pull
//! to it fails at once (no new connect that could wait `CONNECT_TIMEOUT` each time), its
//! pulls in flight fail, the loss is queued for [`Fabric::lost_peers`] (each peer once,
//! with its rank and the reason) and the rank's doorbell is rung so a blocked waiter wakes
//! up to see it.
//!
//! A normal exit is not a loss: when the process exits (after MPI_Finalize, or an `exit()`
//! without it, which the launcher judges), an `atexit` handler writes `BYE` on every
//! connection we write on, so the peers know the end of stream that follows is a goodbye
//! (the end of a connection the peer opened and we never wrote on is no news to it, see
//! `Inbound::tells_health`).
//! A process killed by a signal, or a host that vanishes, sends none. The handler only
//! `try_lock`s each connection: a thread that is mid-write when the process exits keeps
//! its connection, and that peer then sees a loss (an exit in the middle of a send is an
//! erroneous program anyway). Sends that fail to a peer that said goodbye are not reported
//! as losses: it finished, and a trailing control cell to it has no one to serve.
//!
//! This mirrors MPICH's ch3/ch4 sockets, which turn a closed or reset connection into a
//! "communication error with rank N" on the operations of that peer instead of waiting.
//!
//! [`Fabric::lost_peers`]: crate::transport::fabric::Fabric::lost_peers

use super::{wire, Tcp};
use parking_lot::Mutex;
use std::io::{self, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once, Weak};

/// What we know of a peer's health.
#[derive(Default)]
pub(super) struct Health {
    /// Why it was lost (set once).
    lost: Mutex<Option<String>>,
    /// It said goodbye (`BYE`): its end of stream is a normal exit.
    departed: AtomicBool,
}

impl Tcp {
    /// Peer `i` can no longer be reached: fail what waits on it and report it once.
    pub(super) fn lose(&self, i: usize, reason: String) {
        let Some(peer) = self.peers.get(i) else {
            return;
        };
        {
            let mut lost = peer.health.lost.lock();
            if lost.is_some() {
                return;
            }
            *lost = Some(reason.clone());
        }
        // try_lock: a caller may hold it (it drops its broken stream itself).
        if let Some(mut out) = peer.out.try_lock() {
            *out = None;
        }
        if !peer.health.departed.load(Ordering::Acquire) {
            eprintln!(
                "oximpi: rank {}: lost rank {} over TCP: {reason}",
                self.me, peer.rank
            );
            self.lost.lock().push((i, reason));
            self.any_lost.store(true, Ordering::Release);
        }
        self.fail_pulls_of(i);
        (self.waker)();
    }

    /// The error of an operation on peer `i` if it is lost.
    pub(super) fn check_alive(&self, i: usize) -> io::Result<()> {
        match self.peers.get(i).map(|p| p.health.lost.lock().clone()) {
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no such TCP peer")),
            Some(Some(why)) => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!("rank {} was lost: {why}", self.rank_of(i)),
            )),
            Some(None) => Ok(()),
        }
    }

    /// Peer `i` sent `BYE`.
    pub(super) fn departed(&self, i: usize) {
        if let Some(p) = self.peers.get(i) {
            p.health.departed.store(true, Ordering::Release);
        }
    }

    /// Peer `i` opened a new connection to us: whatever goodbye came before, it is back.
    pub(super) fn returned(&self, i: usize) {
        if let Some(p) = self.peers.get(i) {
            p.health.departed.store(false, Ordering::Release);
        }
    }

    /// True when peer `i` said goodbye.
    pub(super) fn has_departed(&self, i: usize) -> bool {
        self.peers
            .get(i)
            .is_some_and(|p| p.health.departed.load(Ordering::Acquire))
    }

    /// The peers lost since the last call: (peer index, reason), each once.
    ///
    /// The caller is about to fail the operations that wait on failed peers, lost here or
    /// known from elsewhere (the launcher's notice of a death can come before we read the
    /// dead rank's last frames): so the next poll that finds the inbox empty reads every
    /// connection, passing over none (`just_drained`) and waiting for a thread that is
    /// reading one, and what a dead peer sent before it died is delivered before a receive
    /// it matches could be failed. A loss found here is already behind its frames: a
    /// connection is read to its end before its end loses the peer (`drain`).
    pub fn lost_peers(&self) -> Vec<(usize, String)> {
        self.settle.store(true, Ordering::Release);
        // Every progress round asks: one atomic load when nothing was lost.
        if !self.any_lost.load(Ordering::Acquire) {
            return Vec::new();
        }
        // Cleared before the take: a loss pushed meanwhile is taken now or flagged again.
        self.any_lost.store(false, Ordering::Release);
        std::mem::take(&mut *self.lost.lock())
    }

    /// Writes `BYE` on every connection we write on and closes our side of it.
    pub fn say_goodbye(&self) {
        for p in &self.peers {
            let Some(mut out) = p.out.try_lock() else {
                continue;
            };
            if let Some(s) = out.as_mut() {
                // What `send_eager` held goes before the goodbye (see `coalesce`).
                let _ = p
                    .held
                    .try_lock()
                    .map(|mut held| s.write_all(&std::mem::take(&mut *held)));
                let _ = s.write_all(&[wire::BYE]);
                let _ = s.shutdown(Shutdown::Write);
            }
            *out = None;
        }
    }
}

/// The transports to say goodbye for at exit (one per process in a job; unit tests make
/// several). Weak: registering does not keep a transport alive.
static AT_EXIT: Mutex<Vec<Weak<Tcp>>> = Mutex::new(Vec::new());

/// Makes `tcp` say goodbye when the process exits normally.
pub(super) fn goodbye_at_exit(tcp: &Arc<Tcp>) {
    static REGISTER: Once = Once::new();
    AT_EXIT.lock().push(Arc::downgrade(tcp));
    REGISTER.call_once(|| {
        // SAFETY: `at_exit` is an `extern "C" fn()` that cannot unwind (it catches panics)
        // and lives as long as the library.
        unsafe {
            libc::atexit(at_exit);
        }
    });
}

extern "C" fn at_exit() {
    let _ = std::panic::catch_unwind(|| {
        // try_lock: a thread that exits while another registers must not hang the exit.
        let Some(all) = AT_EXIT.try_lock() else {
            return;
        };
        for t in all.iter().filter_map(Weak::upgrade) {
            t.say_goodbye();
        }
    });
}
