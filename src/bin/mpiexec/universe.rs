//! The running universe: every job this mpiexec serves (the command line's, or the
//! singleton's, and the ones they spawn). One thread, one `poll` over every PMI socket,
//! every stdout/stderr pipe, the name-service sockets and the signal pipe. Decides when the
//! universe ends and with which exit code.
//!
//! Ending rules (see the launcher contract in design.md); a "process" is any rank of any job:
//! * all processes exit 0 (or never spoke PMI) → 0; otherwise the first failing one's code;
//! * a process dies by a signal, exits after PMI `init` without `finalize`, calls PMI
//!   `abort` (its code is the exit code), or the timeout expires → every other process
//!   group gets SIGTERM, then SIGKILL after [`KILL_GRACE`]; one line on stderr says why;
//! * mpiexec ends when every process of every job has exited: a job that ends normally
//!   while others (spawned ones) still run simply waits for them.
//!
//! The singleton (`--singleton`) is the one process that is not our child: it ends when its
//! PMI socket closes — normally after PMI `finalize`, as a failure before it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use mpi::pmi::wire::{Message, MAX_LINE};
use mpi::transport::{fd, process};

use crate::args::{JobSpec, Section};
use crate::hosts;
use crate::line_guard::{BoundedLines, Line};
use crate::names::NameService;
use crate::pmi_server::{spawn_failure, Event, KvsSpaces, PmiServer};
use crate::pollset::PollSet;
use crate::signals;
use crate::spawn::{self, SpawnRequest};
use crate::start::{self, JobResources, Started};
use crate::stdio::{self, LineForwarder};

#[path = "universe_ft.rs"]
mod ft;
#[path = "universe_output.rs"]
mod output;
mod remote;

pub use remote::RemoteJob;

/// Time between SIGTERM and SIGKILL when we end a job.
const KILL_GRACE: Duration = Duration::from_millis(500);
/// Time ranks get to handle a signal forwarded from the user before SIGKILL.
const FORWARD_GRACE: Duration = Duration::from_secs(2);
/// After every rank exited, how long to wait for pipes still held open by their children.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

/// How a process ended.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Exited(ExitStatus),
    /// The singleton closed its PMI socket.
    Disconnected,
}

/// One process of one job.
struct Proc {
    job: usize,
    rank: u32,
    pid: u32,
    /// `None` for the singleton, which is not our child.
    child: Option<Child>,
    pmi: Option<UnixStream>,
    pmi_in: BoundedLines,
    stdout: Option<File>,
    stderr: Option<File>,
    out_fwd: LineForwarder,
    err_fwd: LineForwarder,
    /// `-outfile-pattern`/`-errfile-pattern`: the rank's output goes there, not to ours.
    out_file: Option<File>,
    err_file: Option<File>,
    /// A rank on another host, reached through its proxy.
    remote: Option<remote::RemoteRank>,
    ended: Option<Ending>,
}

/// One job: its PMI server and resources. Its processes are `procs[first..first + size]`.
struct Job {
    server: PmiServer,
    first: usize,
    /// Kept open for the job's lifetime (its children inherited the memfd).
    _res: Option<JobResources>,
    /// A rank exited (cleanly) while others may wait in a barrier that can never complete.
    someone_left: Option<u32>,
}

/// What spawned jobs inherit from the command line.
pub struct SpawnDefaults {
    pub genv: Vec<(String, String)>,
    pub inherit_env: bool,
    pub label: bool,
    pub universe_size: u32,
    /// The most processes one spawn request may start (see `spawn::max_spawn`).
    pub max_spawn: u32,
    /// `-outfile-pattern` and `-errfile-pattern` (see `hosts::expand_pattern`).
    pub outfile_pattern: Option<String>,
    pub errfile_pattern: Option<String>,
    /// The command line's hosts, when it ran the job through proxies (None: this host only).
    pub hosts: Option<SpawnHosts>,
}

/// Where spawned processes may run in a multi-host universe.
pub struct SpawnHosts {
    /// The host list (`-hosts`, `-f`, `--host`).
    pub list: Vec<crate::args::HostSlots>,
    /// The launcher and the other multi-host options, for the spawned jobs' proxies.
    pub options: crate::args::HostOptions,
    /// Slots of the list taken so far (the first job's ranks, then spawned processes
    /// placed by default): the next spawn starts at the next slot.
    pub used: u64,
}

/// The universe is being ended: signals were sent, SIGKILL follows at `kill_at`.
struct Teardown {
    kill_at: Instant,
    killed: bool,
}

pub struct Universe {
    jobs: Vec<Job>,
    procs: Vec<Proc>,
    kvs: KvsSpaces,
    names: NameService,
    defaults: SpawnDefaults,
    signals: process::SignalPipe,
    exit_code: Option<i32>,
    teardown: Option<Teardown>,
    timeout: Option<(Duration, Instant)>,
    all_exited_at: Option<Instant>,
    /// Signals forwarded from the user so far (a second one means SIGKILL now).
    user_signals: u32,
    /// The proxies of a multi-host job (empty on one host).
    proxies: Vec<remote::ProxyLink>,
    /// The proxy of rank 0 while our stdin is forwarded to it.
    stdin_to: Option<usize>,
}

enum Source {
    Signals,
    Pmi(usize),
    Stdout(usize),
    Stderr(usize),
    Names(RawFd),
    Proxy(usize),
    /// Our stdin, forwarded to rank 0 on another host.
    Stdin,
}

impl Universe {
    pub fn new(
        names: NameService,
        defaults: SpawnDefaults,
        signals: process::SignalPipe,
        timeout: Option<Duration>,
    ) -> Universe {
        Universe {
            jobs: Vec::new(),
            procs: Vec::new(),
            kvs: KvsSpaces::default(),
            names,
            defaults,
            signals,
            exit_code: None,
            teardown: None,
            timeout: timeout.map(|t| (t, Instant::now() + t)),
            all_exited_at: None,
            user_signals: 0,
            proxies: Vec::new(),
            stdin_to: None,
        }
    }

    /// Adds a started job (its processes in rank order) with `preput` in its kvs.
    pub fn add_job(
        &mut self,
        started: Vec<Started>,
        res: JobResources,
        preput: &[(String, String)],
    ) -> usize {
        let job = self.jobs.len();
        let appnums = started.iter().map(|s| s.appnum).collect();
        let server = PmiServer::new(res.kvsname.clone(), appnums, self.defaults.universe_size);
        self.kvs.create(
            server.kvsname(),
            server
                .initial_kvs()
                .into_iter()
                .chain(preput.iter().cloned()),
        );
        let first = self.procs.len();
        let here = spawn::own_hostname();
        for s in started {
            let mut p = self.new_proc(job, s.rank, &here);
            p.pid = s.child.id();
            p.child = Some(s.child);
            p.pmi = Some(s.pmi);
            p.stdout = Some(s.stdout);
            p.stderr = Some(s.stderr);
            self.procs.push(p);
        }
        self.push_job(server, first, res);
        job
    }

    fn push_job(&mut self, server: PmiServer, first: usize, res: JobResources) {
        self.jobs.push(Job {
            server,
            first,
            _res: Some(res),
            someone_left: None,
        });
    }

    /// Adds the singleton: a one-process job whose process `pid` (our parent) is already
    /// running and talks PMI on `sock`.
    pub fn add_singleton(&mut self, sock: UnixStream, pid: u32) {
        let kvsname = format!("kvs_{}_0", std::process::id());
        let server = PmiServer::new(kvsname, vec![0], self.defaults.universe_size);
        self.kvs.create(server.kvsname(), server.initial_kvs());
        self.jobs.push(Job {
            server,
            first: self.procs.len(),
            _res: None,
            someone_left: None,
        });
        self.procs.push(Proc {
            job: self.jobs.len() - 1,
            rank: 0,
            pid,
            child: None,
            pmi: Some(sock),
            pmi_in: BoundedLines::new(),
            stdout: None,
            stderr: None,
            out_fwd: LineForwarder::new(None),
            err_fwd: LineForwarder::new(None),
            out_file: None,
            err_file: None,
            remote: None,
            ended: None,
        });
    }

    /// A process of `job` on `host` that has not started yet: its output forwarders (with
    /// the label and output files the options ask for), no channels.
    fn new_proc(&mut self, job: usize, rank: u32, host: &str) -> Proc {
        let label = self.defaults.label;
        let open = |pattern: &Option<String>| -> Option<File> {
            let path = hosts::expand_pattern(pattern.as_deref()?, rank, job, host);
            match File::create(&path) {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!("mpiexec: cannot create {path} for rank {rank}'s output: {e}");
                    None
                }
            }
        };
        Proc {
            job,
            rank,
            pid: 0,
            child: None,
            pmi: None,
            pmi_in: BoundedLines::new(),
            stdout: None,
            stderr: None,
            out_fwd: LineForwarder::new(label.then(|| stdio::label(job, rank))),
            err_fwd: LineForwarder::new(label.then(|| stdio::label(job, rank))),
            out_file: open(&self.defaults.outfile_pattern),
            err_file: open(&self.defaults.errfile_pattern),
            remote: None,
            ended: None,
        }
    }

    /// Ends the universe right away (e.g. a later rank failed to start), with `code`.
    pub fn fail_now(&mut self, code: i32) {
        self.exit_code.get_or_insert(code);
        self.begin_teardown(libc::SIGTERM, KILL_GRACE);
    }

    /// Runs until every process has ended and returns mpiexec's exit code.
    pub fn run(mut self) -> i32 {
        let mut set = PollSet::new();
        loop {
            self.reap();
            if self.procs.iter().all(|p| p.ended.is_some()) {
                let since = *self.all_exited_at.get_or_insert_with(Instant::now);
                let pipes_open = self.procs.iter().any(|p| {
                    p.stdout.is_some()
                        || p.stderr.is_some()
                        || p.remote.as_ref().is_some_and(|r| r.output_open())
                });
                if !pipes_open || since.elapsed() >= DRAIN_GRACE {
                    break;
                }
            }
            self.build_pollset(&mut set);
            match fd::poll(&mut set.fds, self.poll_timeout_ms()) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    eprintln!("mpiexec: poll failed: {e}");
                    self.fail_now(1);
                    continue;
                }
            }
            for (pfd, src) in set.fds.iter().zip(&set.sources) {
                if pfd.revents == 0 {
                    continue;
                }
                match *src {
                    Source::Signals => self.on_signals(),
                    Source::Stdin => self.read_stdin(),
                    Source::Pmi(i) => self.read_pmi(i),
                    Source::Stdout(i) => self.read_stdio(i, false),
                    Source::Stderr(i) => self.read_stdio(i, true),
                    Source::Names(fd) => self.names.on_readable(fd),
                    Source::Proxy(p) => self.read_proxy(p),
                }
            }
            self.check_timers();
        }
        let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
        for p in &mut self.procs {
            match &mut p.out_file {
                Some(f) => p.out_fwd.flush(f),
                None => p.out_fwd.flush(&mut out),
            }
            match &mut p.err_file {
                Some(f) => p.err_fwd.flush(f),
                None => p.err_fwd.flush(&mut err),
            }
        }
        self.close_proxies();
        self.exit_code.unwrap_or(0)
    }

    fn build_pollset(&self, set: &mut PollSet<Source>) {
        set.clear();
        let mut add = |fd: i32, src: Source| set.add(fd, src);
        add(self.signals.fd(), Source::Signals);
        if self.stdin_to.is_some() {
            add(0, Source::Stdin);
        }
        for fd in self.names.poll_fds() {
            add(fd, Source::Names(fd));
        }
        for (i, fd) in self.proxy_fds() {
            add(fd, Source::Proxy(i));
        }
        for (i, p) in self.procs.iter().enumerate() {
            if let Some(s) = &p.pmi {
                add(s.as_raw_fd(), Source::Pmi(i));
            }
            if let Some(f) = &p.stdout {
                add(f.as_raw_fd(), Source::Stdout(i));
            }
            if let Some(f) = &p.stderr {
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
        if let Some(at) = self.names.next_deadline() {
            consider(at);
        }
        if let Some(at) = self.proxies_deadline() {
            consider(at);
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
                    // Say why the job ends, as hydra does, once.
                    eprintln!(
                        "mpiexec: {} (signal {sig}): forwarding it to every rank and ending \
                         the job (again to kill at once)",
                        signals::describe(sig)
                    );
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
        self.names.on_timer(now);
        self.check_proxies(now);
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
        for i in 0..self.procs.len() {
            if self.procs[i].ended.is_none() {
                self.kill_proc(i, sig);
            }
        }
    }

    fn kill_proc(&mut self, i: usize, sig: i32) {
        if self.procs[i].remote.is_some() {
            self.signal_remote(i, sig);
            return;
        }
        let p = &mut self.procs[i];
        match &mut p.child {
            // Each rank leads its own process group (its children included).
            Some(child) => {
                if process::kill_group(p.pid, sig).is_err() && sig == libc::SIGKILL {
                    let _ = child.kill();
                }
            }
            // The singleton is the user's program, in the user's process group: signal the
            // process alone, and only while it is surely the same process (still our
            // parent) and still in MPI (not finalized).
            None => {
                let finalized = self.jobs[p.job].server.finalized(p.rank);
                if !finalized && std::os::unix::process::parent_id() == p.pid {
                    let _ = process::kill_pid(p.pid, sig);
                }
            }
        }
    }

    /// Collects ended processes and applies the ending rules.
    fn reap(&mut self) {
        for i in 0..self.procs.len() {
            if self.procs[i].ended.is_some() {
                continue;
            }
            let p = &mut self.procs[i];
            let ending = match &mut p.child {
                _ if p.remote.is_some() => match p.remote.as_ref().and_then(|r| r.status) {
                    Some(s) => Ending::Exited(s),
                    None => continue,
                },
                Some(child) => match child.try_wait() {
                    Ok(Some(s)) => Ending::Exited(s),
                    _ => continue,
                },
                None if p.pmi.is_none() => Ending::Disconnected,
                None => continue,
            };
            // Whatever it said before dying (an abort, a finalize) is already in the socket.
            self.read_pmi(i);
            self.procs[i].ended = Some(ending);
            self.procs[i].pmi = None;
            self.judge_end(i, ending);
        }
        if self.teardown.is_some() {
            return;
        }
        for j in 0..self.jobs.len() {
            let job = &self.jobs[j];
            if job.server.barrier_waiting() > 0 && !self.fault_tolerant() {
                if let Some(rank) = job.someone_left {
                    eprintln!(
                        "mpiexec: {} exited while other ranks wait in a PMI barrier; ending the job",
                        who_rank(j, rank)
                    );
                    self.fail_now(1);
                    return;
                }
            }
        }
    }

    fn who(&self, i: usize) -> String {
        let p = &self.procs[i];
        format!("{} (pid {})", who_rank(p.job, p.rank), p.pid)
    }

    fn judge_end(&mut self, i: usize, ending: Ending) {
        let (job, rank) = (self.procs[i].job, self.procs[i].rank);
        let who = self.who(i);
        let ending_now = self.teardown.is_some();
        let server = &self.jobs[job].server;
        let in_pmi = server.initialized(rank) && !server.finalized(rank);
        self.jobs[job].someone_left.get_or_insert(rank);
        let status = match ending {
            Ending::Exited(s) => s,
            Ending::Disconnected => {
                if in_pmi && !ending_now {
                    eprintln!(
                        "mpiexec: the singleton process (pid {}) went away without PMI finalize; ending its spawned jobs",
                        self.procs[i].pid
                    );
                    self.exit_code.get_or_insert(1);
                    self.begin_teardown(libc::SIGTERM, KILL_GRACE);
                }
                return;
            }
        };
        if let Some(sig) = status.signal() {
            if !ending_now && self.fault_tolerant() {
                let how = format!("killed by signal {sig} ({})", signals::describe(sig));
                return self.survive_death(i, 128 + sig, &how);
            }
            self.exit_code.get_or_insert(128 + sig);
            if !ending_now {
                eprintln!(
                    "mpiexec: {who} killed by signal {sig} ({})",
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
        if in_pmi && !ending_now && self.fault_tolerant() {
            let how = format!("exited with code {code} without PMI finalize");
            return self.survive_death(i, if code == 0 { 1 } else { code }, &how);
        }
        if in_pmi && !ending_now {
            eprintln!(
                "mpiexec: {who} exited with code {code} without PMI finalize; ending the job"
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
            let Some(sock) = self.procs[i].pmi.as_mut() else {
                return;
            };
            match sock.read(&mut buf) {
                Ok(0) => {
                    self.procs[i].pmi = None;
                    return;
                }
                Ok(n) => {
                    self.procs[i].pmi_in.push(&buf[..n]);
                    self.dispatch_pmi(i);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.procs[i].pmi = None;
                    return;
                }
            }
        }
    }

    fn send_to(&mut self, i: usize, line: &str) {
        if self.procs.get(i).is_some_and(|p| p.remote.is_some()) {
            self.send_remote(i, line.as_bytes());
            return;
        }
        if let Some(sock) = self.procs.get_mut(i).and_then(|p| p.pmi.as_mut()) {
            // A rank that stopped reading or went away is judged by its exit, not here.
            let _ = sock.write_all(line.as_bytes());
        }
    }

    fn send_msg(&mut self, i: usize, m: Message) {
        // Encoding fails only on bad keys, and every key we send is a literal.
        if let Ok(line) = m.encode() {
            self.send_to(i, &line);
        }
    }

    fn dispatch_pmi(&mut self, i: usize) {
        let (job, rank) = (self.procs[i].job, self.procs[i].rank);
        let mut replies = Vec::new();
        while let Some(line) = self.procs[i].pmi_in.next_line() {
            let event = match line {
                Line::Ok(line) => {
                    self.jobs[job]
                        .server
                        .handle_line(rank, &line, &mut self.kvs, &mut replies)
                }
                Line::TooLong => {
                    // Once per overlong line, however long (see line_guard).
                    eprintln!(
                        "mpiexec: {}: bad PMI input: a line longer than {MAX_LINE} bytes (dropped)",
                        who_rank(job, rank)
                    );
                    let m = Message::new("error")
                        .arg("rc", -1)
                        .arg("msg", format!("PMI_line_longer_than_{MAX_LINE}_bytes"));
                    if let Ok(wire) = m.encode() {
                        replies.push((rank, wire));
                    }
                    None
                }
            };
            let first = self.jobs[job].first;
            for (to, line) in replies.drain(..) {
                self.send_to(first + to as usize, &line);
            }
            match event {
                None => {}
                Some(Event::Abort { code, message }) => self.on_abort(i, code, message),
                Some(Event::Spawn(req)) => {
                    let reply = match self.spawn(&req) {
                        Ok(n) => Message::new("spawn_result").arg("rc", 0).arg("nprocs", n),
                        Err(e) => spawn_failure(&e),
                    };
                    self.send_msg(i, reply);
                }
                Some(Event::Name(req)) => {
                    let reply = self.names.answer(&req);
                    self.send_msg(i, reply);
                }
            }
        }
    }

    fn on_abort(&mut self, i: usize, code: i32, message: Option<String>) {
        if self.teardown.is_some() {
            return;
        }
        let who = self.who(i);
        match message {
            Some(m) => eprintln!("mpiexec: {who} aborted the job with code {code}: {m}"),
            None => eprintln!("mpiexec: {who} aborted the job with code {code}"),
        }
        // Exit codes are one byte; keep a failure a failure.
        let code = if (0..=255).contains(&code) { code } else { 1 };
        self.exit_code = Some(code);
        self.begin_teardown(libc::SIGTERM, KILL_GRACE);
    }

    /// Starts the job `req` asks for; returns how many processes it has. Nothing is left
    /// running when it fails.
    fn spawn(&mut self, req: &SpawnRequest) -> Result<u32, String> {
        if self.teardown.is_some() {
            return Err("the job is ending".into());
        }
        let counts = spawn::plan_counts(&req.cmds)?;
        let total: u64 = counts.iter().map(|&n| u64::from(n)).sum();
        if total > u64::from(self.defaults.max_spawn) {
            return Err(format!(
                "a spawn of {total} processes exceeds this launcher's limit of {} \
                 (OXIMPI_MAX_SPAWN)",
                self.defaults.max_spawn
            ));
        }
        let here = std::env::current_dir().map_err(|e| format!("no working directory: {e}"))?;
        let env_path = self.children_path();
        let placement = self.place_spawn(req, &counts)?;
        let mut sections = Vec::with_capacity(req.cmds.len());
        for (cmd, &n) in req.cmds.iter().zip(&counts) {
            let wdir = cmd.info("wdir").map(|w| here.join(w));
            if let Some(w) = &wdir {
                if !w.is_dir() {
                    return Err(format!("wdir {} is not a directory", w.display()));
                }
            }
            let cwd: &Path = wdir.as_deref().unwrap_or(&here);
            let exe: PathBuf = if n == 0 {
                PathBuf::from(&cmd.exe)
            } else {
                spawn::resolve_exe(&cmd.exe, cwd, cmd.info("path"), env_path.as_deref())?
            };
            let mut argv = vec![exe.to_string_lossy().into_owned()];
            argv.extend(cmd.args.iter().cloned());
            sections.push(Section {
                nprocs: n,
                argv,
                env: vec![("PMI_SPAWNED".to_string(), "1".to_string())],
                wdir,
                arg0: Some(cmd.exe.clone()),
            });
        }
        let spec = JobSpec {
            sections,
            genv: self.defaults.genv.clone(),
            inherit_env: self.defaults.inherit_env,
            label: self.defaults.label,
            timeout: None,
            universe_size: Some(self.defaults.universe_size),
            gwdir: None,
            nameserver: None,
            singleton: None,
            hosts: self
                .defaults
                .hosts
                .as_ref()
                .map(|h| h.options.clone())
                .unwrap_or_else(crate::args::HostOptions::new),
        };
        let res = JobResources::create(self.jobs.len())
            .map_err(|e| format!("cannot set up the job: {e}"))?;
        if let Some(placement) = placement {
            // Through a proxy on each of the children's hosts, as the first job's ranks
            // (their stdio, exit codes and failures are handled the same way).
            let n = placement.host_of.len() as u32;
            let proxies = crate::launch::start_proxies(&spec, &placement, &res.secret)?;
            let appnums = crate::launch::section_of_ranks(&spec)
                .into_iter()
                .map(|a| a as i32)
                .collect();
            let rj = RemoteJob {
                placement,
                proxies,
                appnums,
                forward_stdin: false,
            };
            self.add_remote_job(rj, res, &req.preput);
            return Ok(n);
        }
        let (started, _, error) = start::start_all(&spec, &res, false);
        if let Some(e) = error {
            for mut s in started {
                let _ = process::kill_group(s.child.id(), libc::SIGKILL);
                let _ = s.child.kill();
                let _ = s.child.wait();
            }
            return Err(e);
        }
        let n = started.len() as u32;
        self.add_job(started, res, &req.preput);
        Ok(n)
    }

    /// Where a spawn's processes run, when some run on another host (None: all on this
    /// one, started directly). Each command goes where its `host` (or `hosts`) info key
    /// says — a comma-separated list of `host[:slots]`, filled in turn as hydra does — or
    /// else to the next free slots of the command line's host list.
    fn place_spawn(
        &mut self,
        req: &SpawnRequest,
        counts: &[u32],
    ) -> Result<Option<hosts::Placement>, String> {
        let mut names: Vec<String> = Vec::new();
        let mut used = self.defaults.hosts.as_ref().map_or(0, |h| h.used);
        for (cmd, &n) in req.cmds.iter().zip(counts) {
            let asked = cmd.info("host").or_else(|| cmd.info("hosts"));
            match (asked, &self.defaults.hosts) {
                (Some(list), _) => {
                    let list = crate::args::parse_host_list(list)
                        .map_err(|e| format!("info key host: {e}"))?;
                    names.extend(hosts::next_slots(&list, None, 0, n));
                }
                (None, Some(h)) => {
                    names.extend(hosts::next_slots(&h.list, h.options.ppn, used, n));
                    used += u64::from(n);
                }
                (None, None) => names.extend((0..n).map(|_| "localhost".to_string())),
            }
        }
        if names.iter().all(|h| spawn::host_is_local(h)) {
            if let Some(h) = self.defaults.hosts.as_mut() {
                h.used = used;
            }
            return Ok(None);
        }
        if self.defaults.hosts.is_none() {
            let far = names.iter().find(|h| !spawn::host_is_local(h));
            return Err(format!(
                "host {} is not this host, and this mpiexec runs on this host only (give it \
                 -hosts or -f to run processes elsewhere)",
                far.map(String::as_str).unwrap_or_default()
            ));
        }
        if let Some(h) = self.defaults.hosts.as_mut() {
            h.used = used;
        }
        Ok(Some(hosts::placement_of(&names)))
    }

    /// The PATH the children will have (execvp's default when they have none).
    fn children_path(&self) -> Option<String> {
        if let Some((_, v)) = self.defaults.genv.iter().rev().find(|(k, _)| k == "PATH") {
            return Some(v.clone());
        }
        if self.defaults.inherit_env {
            if let Ok(p) = std::env::var("PATH") {
                return Some(p);
            }
        }
        Some("/bin:/usr/bin".to_string())
    }
}

/// How messages name a rank: `rank 3` in the first job, `job 1 rank 3` in spawned ones.
fn who_rank(job: usize, rank: u32) -> String {
    if job == 0 {
        format!("rank {rank}")
    } else {
        format!("job {job} rank {rank}")
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
