//! The running job: one thread, one `poll` over every PMI socket, every stdout/stderr pipe
//! and the signal pipe. Decides when the job ends and with which exit code.
//!
//! Ending rules (see the launcher contract in the brief / design.md):
//! * all ranks exit 0 (or never spoke PMI) → 0; otherwise the first failing rank's code;
//! * a rank dies by a signal, exits after PMI `init` without `finalize`, calls PMI `abort`,
//!   or the timeout expires → every other rank's process group gets SIGTERM, then SIGKILL
//!   after [`KILL_GRACE`]; one line on stderr says why.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use mpi::pmi::wire::LineBuffer;
use mpi::transport::{fd, process};

use crate::pmi_server::{Event, PmiServer};
use crate::signals;
use crate::start::Started;
use crate::stdio::LineForwarder;

/// Time between SIGTERM and SIGKILL when we end a job.
const KILL_GRACE: Duration = Duration::from_millis(500);
/// Time ranks get to handle a signal forwarded from the user before SIGKILL.
const FORWARD_GRACE: Duration = Duration::from_secs(2);
/// After every rank exited, how long to wait for pipes still held open by their children.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

struct Rank {
    rank: u32,
    pid: u32,
    child: Child,
    pmi: Option<UnixStream>,
    pmi_in: LineBuffer,
    stdout: Option<File>,
    stderr: Option<File>,
    out_fwd: LineForwarder,
    err_fwd: LineForwarder,
    status: Option<ExitStatus>,
}

/// The job is being ended: signals were sent, SIGKILL follows at `kill_at`.
struct Teardown {
    kill_at: Instant,
    killed: bool,
}

pub struct Job {
    ranks: Vec<Rank>,
    server: PmiServer,
    signals: process::SignalPipe,
    exit_code: Option<i32>,
    teardown: Option<Teardown>,
    timeout: Option<(Duration, Instant)>,
    all_exited_at: Option<Instant>,
    /// Signals forwarded from the user so far (a second one means SIGKILL now).
    user_signals: u32,
    /// A rank exited (cleanly) while others may wait in a barrier that can never complete.
    someone_left: Option<u32>,
}

enum Source {
    Signals,
    Pmi(usize),
    Stdout(usize),
    Stderr(usize),
}

impl Job {
    pub fn new(
        started: Vec<Started>,
        server: PmiServer,
        signals: process::SignalPipe,
        label: bool,
        timeout: Option<Duration>,
    ) -> Job {
        let ranks = started
            .into_iter()
            .map(|s| Rank {
                rank: s.rank,
                pid: s.child.id(),
                child: s.child,
                pmi: Some(s.pmi),
                pmi_in: LineBuffer::new(),
                stdout: Some(s.stdout),
                stderr: Some(s.stderr),
                out_fwd: LineForwarder::new(s.rank, label),
                err_fwd: LineForwarder::new(s.rank, label),
                status: None,
            })
            .collect();
        Job {
            ranks,
            server,
            signals,
            exit_code: None,
            teardown: None,
            timeout: timeout.map(|t| (t, Instant::now() + t)),
            all_exited_at: None,
            user_signals: 0,
            someone_left: None,
        }
    }

    /// Ends the job right away (e.g. a later rank failed to start), with `code`.
    pub fn fail_now(&mut self, code: i32) {
        self.exit_code.get_or_insert(code);
        self.begin_teardown(libc::SIGTERM, KILL_GRACE);
    }

    /// Runs the job to its end and returns mpiexec's exit code.
    pub fn run(mut self) -> i32 {
        let mut pollfds: Vec<libc::pollfd> = Vec::new();
        let mut sources: Vec<Source> = Vec::new();
        loop {
            self.reap();
            if self.ranks.iter().all(|r| r.status.is_some()) {
                let since = *self.all_exited_at.get_or_insert_with(Instant::now);
                let pipes_open = self
                    .ranks
                    .iter()
                    .any(|r| r.stdout.is_some() || r.stderr.is_some());
                if !pipes_open || since.elapsed() >= DRAIN_GRACE {
                    break;
                }
            }
            self.build_pollset(&mut pollfds, &mut sources);
            match fd::poll(&mut pollfds, self.poll_timeout_ms()) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    eprintln!("mpiexec: poll failed: {e}");
                    self.fail_now(1);
                    continue;
                }
            }
            for (pfd, src) in pollfds.iter().zip(&sources) {
                if pfd.revents == 0 {
                    continue;
                }
                match *src {
                    Source::Signals => self.on_signals(),
                    Source::Pmi(i) => self.read_pmi(i),
                    Source::Stdout(i) => self.read_stdio(i, false),
                    Source::Stderr(i) => self.read_stdio(i, true),
                }
            }
            self.check_timers();
        }
        let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
        for r in &mut self.ranks {
            r.out_fwd.flush(&mut out);
            r.err_fwd.flush(&mut err);
        }
        self.exit_code.unwrap_or(0)
    }

    fn build_pollset(&self, pollfds: &mut Vec<libc::pollfd>, sources: &mut Vec<Source>) {
        pollfds.clear();
        sources.clear();
        let mut add = |fd: i32, src: Source| {
            pollfds.push(libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
            sources.push(src);
        };
        add(self.signals.fd(), Source::Signals);
        for (i, r) in self.ranks.iter().enumerate() {
            if let Some(s) = &r.pmi {
                add(s.as_raw_fd(), Source::Pmi(i));
            }
            if let Some(f) = &r.stdout {
                add(f.as_raw_fd(), Source::Stdout(i));
            }
            if let Some(f) = &r.stderr {
                add(f.as_raw_fd(), Source::Stderr(i));
            }
        }
    }

    /// Milliseconds until the next deadline (-1: none).
    fn poll_timeout_ms(&self) -> i32 {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        if let Some((_, at)) = self.timeout {
            if self.teardown.is_none() {
                consider(at);
            }
        }
        if let Some(t) = &self.teardown {
            if !t.killed {
                consider(t.kill_at);
            }
        }
        if let Some(at) = self.all_exited_at {
            consider(at + DRAIN_GRACE);
        }
        match next {
            None => -1,
            // Round up so we do not wake just before the deadline and spin.
            Some(t) => t
                .saturating_duration_since(Instant::now())
                .as_micros()
                .div_ceil(1000)
                .min(i32::MAX as u128) as i32,
        }
    }

    fn on_signals(&mut self) {
        for sig in self.signals.drain() {
            if sig == libc::SIGCHLD {
                continue; // reap() runs every iteration
            }
            if signals::FORWARDED.contains(&sig) {
                self.user_signals += 1;
                if self.user_signals == 1 {
                    self.exit_code.get_or_insert(128 + sig);
                    self.begin_teardown(sig, FORWARD_GRACE);
                } else {
                    self.kill_all(libc::SIGKILL);
                    if let Some(t) = &mut self.teardown {
                        t.killed = true;
                    }
                }
            }
        }
    }

    fn check_timers(&mut self) {
        let now = Instant::now();
        if let Some((dur, at)) = self.timeout {
            if self.teardown.is_none() && now >= at {
                eprintln!(
                    "mpiexec: job timed out after {} seconds; killing all ranks",
                    fmt_secs(dur)
                );
                self.exit_code = Some(124);
                self.begin_teardown(libc::SIGTERM, KILL_GRACE);
            }
        }
        if let Some(t) = &mut self.teardown {
            if !t.killed && now >= t.kill_at {
                t.killed = true;
                self.kill_all(libc::SIGKILL);
            }
        }
    }

    fn begin_teardown(&mut self, sig: i32, grace: Duration) {
        if self.teardown.is_some() {
            return;
        }
        self.teardown = Some(Teardown {
            kill_at: Instant::now() + grace,
            killed: false,
        });
        self.kill_all(sig);
    }

    fn kill_all(&mut self, sig: i32) {
        for r in self.ranks.iter_mut().filter(|r| r.status.is_none()) {
            // Each rank leads its own process group (its children included).
            if process::kill_group(r.pid, sig).is_err() && sig == libc::SIGKILL {
                let _ = r.child.kill();
            }
        }
    }

    /// Collects exited ranks and applies the ending rules.
    fn reap(&mut self) {
        for i in 0..self.ranks.len() {
            if self.ranks[i].status.is_some() {
                continue;
            }
            let status = match self.ranks[i].child.try_wait() {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(_) => continue,
            };
            // Whatever it said before dying (an abort, a finalize) is already in the socket.
            self.read_pmi(i);
            self.ranks[i].status = Some(status);
            self.ranks[i].pmi = None;
            self.judge_exit(i, status);
        }
        if self.teardown.is_none() && self.server.barrier_waiting() > 0 {
            if let Some(rank) = self.someone_left {
                eprintln!("mpiexec: rank {rank} exited while other ranks wait in a PMI barrier; ending the job");
                self.fail_now(1);
            }
        }
    }

    fn judge_exit(&mut self, i: usize, status: ExitStatus) {
        let (rank, pid) = (self.ranks[i].rank, self.ranks[i].pid);
        let ending = self.teardown.is_some();
        let in_pmi = self.server.initialized(rank) && !self.server.finalized(rank);
        self.someone_left.get_or_insert(rank);
        if let Some(sig) = status.signal() {
            self.exit_code.get_or_insert(128 + sig);
            if !ending {
                eprintln!(
                    "mpiexec: rank {rank} (pid {pid}) killed by signal {sig} ({})",
                    signals::describe(sig)
                );
                self.begin_teardown(libc::SIGTERM, KILL_GRACE);
            }
            return;
        }
        let code = status.code().unwrap_or(1);
        if code != 0 {
            self.exit_code.get_or_insert(code);
        }
        if in_pmi && !ending {
            eprintln!(
                "mpiexec: rank {rank} (pid {pid}) exited with code {code} without PMI finalize; ending the job"
            );
            // An exit 0 without finalize is still a failure of the job.
            self.exit_code
                .get_or_insert(if code == 0 { 1 } else { code });
            self.begin_teardown(libc::SIGTERM, KILL_GRACE);
        }
    }

    fn read_pmi(&mut self, i: usize) {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let Some(sock) = self.ranks[i].pmi.as_mut() else {
                return;
            };
            match sock.read(&mut buf) {
                Ok(0) => {
                    self.ranks[i].pmi = None;
                    return;
                }
                Ok(n) => {
                    self.ranks[i].pmi_in.push(&buf[..n]);
                    self.dispatch_pmi(i);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.ranks[i].pmi = None;
                    return;
                }
            }
        }
    }

    fn dispatch_pmi(&mut self, i: usize) {
        let rank = self.ranks[i].rank;
        let mut replies = Vec::new();
        while let Some(line) = self.ranks[i].pmi_in.next_line() {
            let event = match line {
                Ok(line) => self.server.handle_line(rank, &line, &mut replies),
                Err(e) => {
                    eprintln!("mpiexec: rank {rank}: bad PMI input: {e}");
                    None
                }
            };
            for (to, line) in replies.drain(..) {
                if let Some(sock) = self.ranks.get_mut(to as usize).and_then(|r| r.pmi.as_mut()) {
                    // A rank that stopped reading or went away is judged by its exit, not here.
                    let _ = sock.write_all(line.as_bytes());
                }
            }
            if let Some(Event::Abort { code, message }) = event {
                self.on_abort(i, code, message);
            }
        }
    }

    fn on_abort(&mut self, i: usize, code: i32, message: Option<String>) {
        if self.teardown.is_some() {
            return;
        }
        let (rank, pid) = (self.ranks[i].rank, self.ranks[i].pid);
        match message {
            Some(m) => {
                eprintln!("mpiexec: rank {rank} (pid {pid}) aborted the job with code {code}: {m}")
            }
            None => eprintln!("mpiexec: rank {rank} (pid {pid}) aborted the job with code {code}"),
        }
        // Exit codes are one byte; keep a failure a failure.
        let code = if (0..=255).contains(&code) { code } else { 1 };
        self.exit_code = Some(code);
        self.begin_teardown(libc::SIGTERM, KILL_GRACE);
    }

    fn read_stdio(&mut self, i: usize, is_err: bool) {
        let r = &mut self.ranks[i];
        let (pipe, fwd) = if is_err {
            (&mut r.stderr, &mut r.err_fwd)
        } else {
            (&mut r.stdout, &mut r.out_fwd)
        };
        let Some(f) = pipe.as_mut() else { return };
        let mut buf = [0u8; 64 * 1024];
        // One read per readiness: poll said data (or EOF) is there, so this does not block.
        match f.read(&mut buf) {
            Ok(0) => *pipe = None,
            Ok(n) => {
                if is_err {
                    fwd.push(&buf[..n], &mut io::stderr().lock());
                } else {
                    fwd.push(&buf[..n], &mut io::stdout().lock());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => *pipe = None,
        }
    }
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}
