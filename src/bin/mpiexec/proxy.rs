//! Proxy mode (`mpiexec --proxy ADDR INDEX`): the part of a multi-host job that runs on one
//! host. mpiexec starts one per host through the launcher command (ssh, rsh, a
//! `-launcher-exec` command, or directly for this host and `-launcher fork`).
//!
//! The proxy reads the job secret from the first line of its stdin (never from its command
//! line, which any user of the host can read), connects back to mpiexec at ADDR, proves the
//! secret (see `auth`), says which host INDEX it is, and receives its ranks (`frames::Job`).
//! It creates the node segment for them, starts them as mpiexec starts ranks on one host,
//! and then relays: PMI bytes and stdio of each rank go up unparsed, PMI replies and signals
//! come down, exits are reported with their raw wait status. mpiexec decides everything
//! else (barriers, aborts, the job's end), so a job behaves the same on one host or many.
//!
//! If the control stream closes or fails while ranks run (mpiexec died, even by `kill -9`:
//! the kernel closes its sockets), or stays silent past the liveness timeout (the link or
//! mpiexec's host vanished, which sends nothing; mpiexec is stopped; see `liveness`: it
//! pings us when it has nothing else to say, and we ping it), the proxy kills its ranks at
//! once and exits with 1; the ranks also watch the proxy itself (PMI hang-up, parent
//! death), so nothing outlives the launcher.

use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdin};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use mpi::transport::{fd, process};

use crate::auth::{self, Side};
use crate::frames::{write_all_waiting, Frame, FrameReader, ProxyJob};
use crate::liveness::{self, Liveness};
use crate::pollset::PollSet;
use crate::start::{self, JobResources, Launch};

/// How long the proxy tries to reach mpiexec.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// After every rank exited, how long to wait for output still held by their children.
const DRAIN_GRACE: Duration = Duration::from_millis(200);
/// Why we lost mpiexec when its end of the control stream closed (no news once every rank
/// ended).
const STREAM_ENDED: &str = "the connection ended";

/// One rank of this host.
struct Rank {
    rank: u32,
    child: Child,
    pmi: Option<UnixStream>,
    stdout: Option<File>,
    stderr: Option<File>,
    exited: bool,
}

enum Source {
    Control,
    Signals,
    Pmi(usize),
    Out(usize, bool),
}

/// Runs the proxy; the return value is its exit code (mpiexec judges the job, not this).
pub fn run(addr: &str, index: u32) -> i32 {
    match serve(addr, index) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mpiexec proxy {index}: {e}");
            1
        }
    }
}

/// The secret: the first line of stdin, in hex as the ranks get it.
fn read_secret() -> io::Result<String> {
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    let secret = line.trim().to_string();
    if secret.len() < 32 || !secret.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no job secret on stdin (the proxy is started by mpiexec only)",
        ));
    }
    Ok(secret)
}

fn connect(addr: &str) -> io::Result<TcpStream> {
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let targets: Vec<_> = addr.to_socket_addrs()?.collect();
    loop {
        let mut last = io::Error::other(format!("{addr} has no address"));
        for t in &targets {
            match TcpStream::connect_timeout(t, Duration::from_secs(5)) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                last.kind(),
                format!("cannot reach mpiexec at {addr}: {last}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn serve(addr: &str, index: u32) -> io::Result<i32> {
    let secret = read_secret()?;
    let mut ctl = connect(addr)?;
    ctl.set_nodelay(true)?;
    ctl.set_read_timeout(Some(CONNECT_TIMEOUT))?;
    auth::handshake(&mut ctl, secret.as_bytes(), Side::Proxy)
        .map_err(|e| io::Error::new(e.kind(), format!("handshake with {addr}: {e}")))?;
    ctl.write_all(&index.to_be_bytes())?;
    let mut reader = FrameReader::default();
    let job = loop {
        if let Some(f) = reader.next_frame()? {
            match f {
                Frame::Job(j) => break j,
                other => {
                    return Err(io::Error::other(format!(
                        "expected the job first, got {other:?}"
                    )))
                }
            }
        }
        let mut buf = [0u8; 64 * 1024];
        match ctl.read(&mut buf)? {
            0 => return Err(io::Error::other("mpiexec closed the connection")),
            n => reader.push(&buf[..n]),
        }
    };
    ctl.set_read_timeout(None)?;
    let mut wanted = crate::signals::FORWARDED.to_vec();
    wanted.push(libc::SIGCHLD);
    let sigpipe = process::SignalPipe::install(&wanted)?;
    let res = JobResources::for_host(secret)?;
    let mut stdin = None;
    let ranks = start_ranks(&job, &res, &mut ctl, &mut stdin)?;
    ctl.set_nonblocking(true)?;
    let timeout = (job.liveness_ms > 0).then(|| Duration::from_millis(job.liveness_ms.into()));
    Proxy {
        ctl,
        live: Liveness::new(timeout, Instant::now()),
        reader,
        ranks,
        signals: sigpipe,
        host: job.host,
        all_exited_at: None,
        stdin,
    }
    .run()
}

/// Starts the host's ranks, telling mpiexec each one's pid (or why it did not start).
fn start_ranks(
    job: &ProxyJob,
    res: &JobResources,
    ctl: &mut TcpStream,
    stdin: &mut Option<Sender<Vec<u8>>>,
) -> io::Result<Vec<Rank>> {
    fd::set_cloexec(res.shm.as_fd(), false)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let local_size = job.ranks.len() as u32;
    let mut ranks = Vec::new();
    for (local, r) in job.ranks.iter().enumerate() {
        let mut cmd = start::rank_command(&r.argv, job.bind_core.then_some(local % cores));
        cmd.env_clear();
        cmd.envs(r.env.iter().map(|(k, v)| (k, v)));
        if let Some(w) = &r.wdir {
            cmd.current_dir(w);
        }
        let launch = Launch {
            rank: r.rank,
            size: job.size,
            local_rank: local as u32,
            local_size,
            res,
        };
        // Rank 0 reads mpiexec's stdin, as on one host.
        let gets_stdin = r.rank == 0;
        match start::spawn_rank(cmd, &launch, gets_stdin).and_then(|(mut child, pmi, sin)| {
            let (out, err) = start::take_output(&mut child)?;
            Ok((child, pmi, sin, out, err))
        }) {
            Ok((child, pmi, sin, out, err)) => {
                if let Some(sin) = sin {
                    *stdin = Some(stdin_writer(sin));
                }
                Frame::Started {
                    rank: r.rank,
                    pid: child.id(),
                }
                .send(ctl)?;
                ranks.push(Rank {
                    rank: r.rank,
                    child,
                    pmi: Some(pmi),
                    stdout: Some(out),
                    stderr: Some(err),
                    exited: false,
                });
            }
            Err(e) => {
                Frame::StartFailed {
                    rank: r.rank,
                    msg: format!("({}): {e}", r.argv[0]),
                }
                .send(ctl)?;
            }
        }
    }
    fd::set_cloexec(res.shm.as_fd(), true)?;
    Ok(ranks)
}

struct Proxy {
    ctl: TcpStream,
    /// When we last heard from mpiexec and last wrote to it.
    live: Liveness,
    reader: FrameReader,
    ranks: Vec<Rank>,
    signals: process::SignalPipe,
    host: String,
    all_exited_at: Option<Instant>,
    /// Rank 0's stdin, when it runs here (dropped at the end of mpiexec's stdin).
    stdin: Option<Sender<Vec<u8>>>,
}

impl Proxy {
    /// Serves until every rank ended; if the stream to mpiexec fails, the ranks end too.
    fn run(mut self) -> io::Result<i32> {
        match self.event_loop() {
            Ok(code) => Ok(code),
            Err(e) => Ok(self.lost_mpiexec(&e.to_string())),
        }
    }

    fn event_loop(&mut self) -> io::Result<i32> {
        let mut set = PollSet::new();
        loop {
            self.reap()?;
            if self.ranks.iter().all(|r| r.exited) {
                let since = *self.all_exited_at.get_or_insert_with(Instant::now);
                let open = self
                    .ranks
                    .iter()
                    .any(|r| r.stdout.is_some() || r.stderr.is_some());
                if !open || since.elapsed() >= DRAIN_GRACE {
                    let unfinished: Vec<Frame> = self
                        .ranks
                        .iter()
                        .flat_map(|r| {
                            [(false, r.stdout.is_some()), (true, r.stderr.is_some())]
                                .into_iter()
                                .filter(|(_, open)| *open)
                                .map(|(err, _)| Frame::OutputEnd { rank: r.rank, err })
                        })
                        .collect();
                    for f in unfinished {
                        self.send(f)?;
                    }
                    return Ok(0);
                }
            }
            self.pollset(&mut set);
            let now = Instant::now();
            let timeout = match (self.all_exited_at, self.live.next_deadline()) {
                (Some(_), _) => 50,
                (None, Some(at)) => liveness::poll_ms(now, at),
                (None, None) => -1,
            };
            match fd::poll(&mut set.fds, timeout) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for (pfd, src) in set.fds.iter().zip(&set.sources) {
                if pfd.revents == 0 {
                    continue;
                }
                match *src {
                    Source::Control => {
                        if !self.read_control()? {
                            return Ok(self.lost_mpiexec(STREAM_ENDED));
                        }
                    }
                    Source::Signals => self.on_signals(),
                    Source::Pmi(i) => self.read_pmi(i)?,
                    Source::Out(i, err) => self.read_output(i, err)?,
                }
            }
            if let Some(why) = self.check_liveness()? {
                return Ok(self.lost_mpiexec(&why));
            }
        }
    }

    /// Pings mpiexec when we have been quiet; the reason to give up when it has been silent
    /// past the timeout.
    fn check_liveness(&mut self) -> io::Result<Option<String>> {
        let now = Instant::now();
        if let Some(silent) = self.live.silent_for(now) {
            return Ok(Some(format!(
                "no word from mpiexec for {:.1} s (the link or its host is down, or it is \
                 stopped; {} sets this timeout)",
                silent.as_secs_f64(),
                liveness::TIMEOUT_VAR
            )));
        }
        if self.live.ping_due(now) {
            self.send(Frame::Ping)?;
        }
        Ok(None)
    }

    fn pollset(&self, set: &mut PollSet<Source>) {
        set.clear();
        let mut add = |fd: i32, src: Source| set.add(fd, src);
        add(self.ctl.as_raw_fd(), Source::Control);
        add(self.signals.fd(), Source::Signals);
        for (i, r) in self.ranks.iter().enumerate() {
            if let Some(s) = &r.pmi {
                add(s.as_raw_fd(), Source::Pmi(i));
            }
            if let Some(f) = &r.stdout {
                add(f.as_raw_fd(), Source::Out(i, false));
            }
            if let Some(f) = &r.stderr {
                add(f.as_raw_fd(), Source::Out(i, true));
            }
        }
    }

    /// Writes a frame to mpiexec (waiting while its receive buffer is full).
    fn send(&mut self, f: Frame) -> io::Result<()> {
        self.live.sent(Instant::now());
        write_all_waiting(&mut self.ctl, &f.encode())
    }

    /// Reads what mpiexec sent; false when the stream ended.
    fn read_control(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 64 * 1024];
        loop {
            match self.ctl.read(&mut buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.live.heard(Instant::now());
                    self.reader.push(&buf[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return Ok(false),
            }
        }
        loop {
            let frame = match self.reader.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(true),
                Err(e) => {
                    eprintln!("mpiexec proxy on {}: {e}", self.host);
                    return Ok(false);
                }
            };
            match frame {
                Frame::ToRank { rank, data } => {
                    if let Some(r) = self.ranks.iter_mut().find(|r| r.rank == rank) {
                        if let Some(s) = r.pmi.as_mut() {
                            // A rank that went away is judged by its exit, not here.
                            let _ = write_all_waiting(s, &data);
                        }
                    }
                }
                Frame::Stdin { data } if data.is_empty() => self.stdin = None,
                Frame::Stdin { data } => {
                    if let Some(tx) = &self.stdin {
                        // Rank 0 may have closed its stdin: the rest is dropped, as on one host.
                        let _ = tx.send(data);
                    }
                }
                Frame::Signal { rank, sig } => {
                    if let Some(r) = self.ranks.iter().find(|r| r.rank == rank && !r.exited) {
                        let _ = process::kill_group(r.child.id(), sig);
                    }
                }
                // Its arrival already counted as a sign of life.
                Frame::Ping => {}
                other => {
                    eprintln!(
                        "mpiexec proxy on {}: unexpected frame from mpiexec: {other:?}",
                        self.host
                    );
                    return Ok(false);
                }
            }
        }
    }

    /// mpiexec is gone (`why`: how we know): nothing can judge the job any more, so it
    /// ends here and now.
    fn lost_mpiexec(&mut self, why: &str) -> i32 {
        let running: Vec<u32> = self
            .ranks
            .iter()
            .filter(|r| !r.exited)
            .map(|r| r.rank)
            .collect();
        if running.is_empty() {
            // The job's end was near: only say why the stream failed, if it did.
            if why != STREAM_ENDED {
                eprintln!("mpiexec proxy on {}: {why}", self.host);
            }
            return 0;
        }
        eprintln!(
            "mpiexec proxy on {}: lost mpiexec: {why}; killing ranks {running:?}",
            self.host
        );
        for r in self.ranks.iter_mut().filter(|r| !r.exited) {
            let _ = process::kill_group(r.child.id(), libc::SIGKILL);
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
        1
    }

    /// Signals sent to the proxy itself go to its ranks (mpiexec judges their exits).
    fn on_signals(&mut self) {
        for sig in self.signals.drain() {
            if sig == libc::SIGCHLD {
                continue;
            }
            for r in self.ranks.iter().filter(|r| !r.exited) {
                let _ = process::kill_group(r.child.id(), sig);
            }
        }
    }

    fn read_pmi(&mut self, i: usize) -> io::Result<()> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let Some(s) = self.ranks[i].pmi.as_mut() else {
                return Ok(());
            };
            match s.read(&mut buf) {
                Ok(0) => {
                    self.ranks[i].pmi = None;
                    return Ok(());
                }
                Ok(n) => {
                    let rank = self.ranks[i].rank;
                    self.send(Frame::FromRank {
                        rank,
                        data: buf[..n].to_vec(),
                    })?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(_) => {
                    self.ranks[i].pmi = None;
                    return Ok(());
                }
            }
        }
    }

    fn read_output(&mut self, i: usize, err: bool) -> io::Result<()> {
        let r = &mut self.ranks[i];
        let rank = r.rank;
        let pipe = if err { &mut r.stderr } else { &mut r.stdout };
        let Some(f) = pipe.as_mut() else {
            return Ok(());
        };
        let mut buf = [0u8; 64 * 1024];
        match f.read(&mut buf) {
            Ok(0) | Err(_) => {
                *pipe = None;
                self.send(Frame::OutputEnd { rank, err })
            }
            Ok(n) => self.send(Frame::Output {
                rank,
                err,
                data: buf[..n].to_vec(),
            }),
        }
    }

    /// Reports ranks that ended, after forwarding what they said on PMI before dying.
    fn reap(&mut self) -> io::Result<()> {
        for i in 0..self.ranks.len() {
            if self.ranks[i].exited {
                continue;
            }
            let status = match self.ranks[i].child.try_wait() {
                Ok(Some(s)) => s,
                _ => continue,
            };
            self.read_pmi(i)?;
            self.ranks[i].exited = true;
            self.ranks[i].pmi = None;
            let rank = self.ranks[i].rank;
            self.send(Frame::Exited {
                rank,
                status: status.into_raw(),
            })?;
        }
        Ok(())
    }
}

/// Writes what it is sent to rank 0's stdin on a thread of its own (the rank may not read
/// for a long time; the event loop never waits for it). Dropping the sender closes stdin.
fn stdin_writer(mut sin: ChildStdin) -> Sender<Vec<u8>> {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let _ = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            for data in rx {
                if sin.write_all(&data).is_err() {
                    break;
                }
            }
        });
    tx
}
