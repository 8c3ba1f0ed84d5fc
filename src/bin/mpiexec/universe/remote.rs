//! The universe's side of a multi-host job: ranks on other hosts are processes like the
//! local ones, except that their PMI bytes, output, signals and exits travel through the
//! control stream of their host's proxy (see `proxy` and `frames`). Everything the ending
//! rules need (exit statuses, PMI abort, finalize) arrives in order on that stream, so the
//! rules in the parent module apply unchanged.
//!
//! A proxy is lost when its stream ends or fails, when it stops reading for 30 s (a write
//! to it fails, see `frames::write_all_waiting`), or when it says nothing (not even a ping)
//! for the liveness timeout (`liveness`: a vanished link or a stopped proxy gives no other
//! sign). Its ranks that had not ended count as killed, the job ends as when a rank dies,
//! and one line on stderr names the host and the reason. The proxy's launcher is then
//! killed after `LAUNCHER_GRACE` (with `-launcher-exec` or a direct start, that is the
//! proxy itself, stopped or not; its ranks follow it, see `pmi::watch`). So when a host
//! vanishes, mpiexec ends within the timeout + `KILL_GRACE` + `LAUNCHER_GRACE` (92.5 s by
//! default), and the proxy, if it still runs, kills its ranks within the timeout.

use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use super::{PmiServer, Universe, KILL_GRACE};
use crate::frames::{write_all_waiting, Frame, FrameReader};
use crate::hosts::{self, Placement};
use crate::launch::ProxyConn;
use crate::liveness::{self, Liveness};
use crate::start::JobResources;

/// How long the proxies' launchers (ssh, ...) get to exit after the job ended.
const LAUNCHER_GRACE: Duration = Duration::from_secs(2);

/// A rank on another host.
pub struct RemoteRank {
    pub proxy: usize,
    /// Its raw wait status, once its proxy reported the exit.
    pub status: Option<ExitStatus>,
    out_open: bool,
    err_open: bool,
}

impl RemoteRank {
    /// Whether output may still arrive from the rank (or from its children).
    pub fn output_open(&self) -> bool {
        self.out_open || self.err_open
    }
}

/// A connected proxy.
pub struct ProxyLink {
    host: String,
    stream: Option<TcpStream>,
    reader: FrameReader,
    launcher: Child,
    /// The index in `procs` of the job's rank 0 (rank r is `first + r`).
    first: usize,
    /// When we last heard from it and last wrote to it.
    live: Liveness,
}

/// A job whose ranks run on the hosts of `placement`, served by `proxies` (one per host,
/// in the order of `placement.hosts`).
pub struct RemoteJob {
    pub placement: Placement,
    pub proxies: Vec<ProxyConn>,
    /// The appnum (section) of every rank.
    pub appnums: Vec<i32>,
    /// Forward our stdin to rank 0 (not when reading it would stop us).
    pub forward_stdin: bool,
}

impl Universe {
    /// Adds the command line's job, started on several hosts through proxies.
    /// `preput`: key/values put in its kvs (a spawned job's parent port).
    pub fn add_remote_job(
        &mut self,
        rj: RemoteJob,
        res: JobResources,
        preput: &[(String, String)],
    ) {
        let job = self.jobs.len();
        let server = PmiServer::new(
            res.kvsname.clone(),
            rj.appnums.clone(),
            self.defaults.universe_size,
        );
        // The true mapping: the ranks on one host share its segment, the others are
        // reached over the network.
        let mapping = hosts::process_mapping(&rj.placement.host_of);
        self.kvs.create(
            server.kvsname(),
            std::iter::once(("PMI_process_mapping".to_string(), mapping))
                .chain(preput.iter().cloned()),
        );
        let first = self.procs.len();
        let first_proxy = self.proxies.len();
        for (rank, &h) in rj.placement.host_of.iter().enumerate() {
            let mut p = self.new_proc(job, rank as u32, &rj.placement.hosts[h as usize]);
            p.remote = Some(RemoteRank {
                proxy: self.proxies.len() + h as usize,
                status: None,
                out_open: true,
                err_open: true,
            });
            self.procs.push(p);
        }
        self.push_job(server, first, res);
        for conn in rj.proxies {
            let stream = match conn.stream.set_nonblocking(true) {
                Ok(()) => Some(conn.stream),
                Err(e) => {
                    eprintln!("mpiexec: proxy of host {}: {e}", conn.host);
                    None
                }
            };
            self.proxies.push(ProxyLink {
                host: conn.host,
                stream,
                reader: FrameReader::default(),
                launcher: conn.launcher,
                first,
                live: Liveness::new(conn.liveness, Instant::now()),
            });
        }
        let rank0 =
            self.proxies.len() - rj.placement.hosts.len() + rj.placement.host_of[0] as usize;
        if rj.forward_stdin {
            self.stdin_to = Some(rank0);
        } else {
            self.send_frame(rank0, Frame::Stdin { data: Vec::new() });
        }
        // A proxy whose stream failed above is gone already.
        for p in first_proxy..self.proxies.len() {
            if self.proxies[p].stream.is_none() {
                self.proxy_gone(p, "its connection failed");
            }
        }
    }

    pub(super) fn proxy_fds(&self) -> Vec<(usize, RawFd)> {
        self.proxies
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.stream.as_ref().map(|s| (i, s.as_raw_fd())))
            .collect()
    }

    fn send_frame(&mut self, proxy: usize, f: Frame) {
        let link = &mut self.proxies[proxy];
        let Some(s) = link.stream.as_mut() else {
            return;
        };
        link.live.sent(Instant::now());
        match write_all_waiting(s, &f.encode()) {
            // A proxy that stopped reading is lost now (its stream may never end).
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                self.proxy_gone(proxy, "it stopped reading its connection for 30 s")
            }
            // Other failures mean the proxy is gone; the end of its stream, read after the
            // frames it sent before (its ranks' exits), tells us so.
            _ => {}
        }
    }

    /// Pings quiet proxies and ends the job when one has been silent past the timeout.
    pub(super) fn check_proxies(&mut self, now: Instant) {
        for p in 0..self.proxies.len() {
            if self.proxies[p].stream.is_none() {
                continue;
            }
            if let Some(silent) = self.proxies[p].live.silent_for(now) {
                let why = format!(
                    "no word from it for {:.1} s (the link or the host is down, or the proxy \
                     is stopped; {} sets this timeout)",
                    silent.as_secs_f64(),
                    liveness::TIMEOUT_VAR
                );
                self.proxy_gone(p, &why);
            } else if self.proxies[p].live.ping_due(now) {
                self.send_frame(p, Frame::Ping);
            }
        }
    }

    /// The next time `check_proxies` has something to do.
    pub(super) fn proxies_deadline(&self) -> Option<Instant> {
        self.proxies
            .iter()
            .filter(|p| p.stream.is_some())
            .filter_map(|p| p.live.next_deadline())
            .min()
    }

    /// PMI bytes for remote process `i`.
    pub(super) fn send_remote(&mut self, i: usize, data: &[u8]) {
        let Some(r) = &self.procs[i].remote else {
            return;
        };
        let (proxy, rank) = (r.proxy, self.procs[i].rank);
        self.send_frame(
            proxy,
            Frame::ToRank {
                rank,
                data: data.to_vec(),
            },
        );
    }

    /// Signals remote process `i` (its whole process group, as on one host).
    pub(super) fn signal_remote(&mut self, i: usize, sig: i32) {
        let Some(r) = &self.procs[i].remote else {
            return;
        };
        let (proxy, rank) = (r.proxy, self.procs[i].rank);
        self.send_frame(proxy, Frame::Signal { rank, sig });
    }

    /// Forwards what our stdin has (one read per readiness) to rank 0's proxy.
    pub(super) fn read_stdin(&mut self) {
        let Some(p) = self.stdin_to else {
            return;
        };
        let mut buf = vec![0u8; 64 * 1024];
        let n = match std::io::Read::read(&mut std::io::stdin().lock(), &mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return,
            Ok(n) => n,
            Err(_) => 0,
        };
        buf.truncate(n);
        if n == 0 {
            self.stdin_to = None;
        }
        // An empty frame is the end of stdin.
        self.send_frame(p, Frame::Stdin { data: buf });
    }

    pub(super) fn read_proxy(&mut self, p: usize) {
        let mut buf = [0u8; 64 * 1024];
        let mut ended = false;
        loop {
            let Some(s) = self.proxies[p].stream.as_mut() else {
                return;
            };
            match std::io::Read::read(s, &mut buf) {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(n) => {
                    self.proxies[p].live.heard(Instant::now());
                    self.proxies[p].reader.push(&buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    ended = true;
                    break;
                }
            }
        }
        loop {
            match self.proxies[p].reader.next_frame() {
                Ok(Some(f)) => self.on_frame(p, f),
                Ok(None) => break,
                Err(e) => {
                    eprintln!("mpiexec: proxy of host {}: {e}", self.proxies[p].host);
                    ended = true;
                    break;
                }
            }
        }
        if ended {
            self.proxy_gone(p, "its connection ended");
        }
    }

    fn on_frame(&mut self, p: usize, f: Frame) {
        let first = self.proxies[p].first;
        // Only ranks this proxy serves may be named by it.
        let proc_of = |u: &Universe, rank: u32| {
            let i = first + rank as usize;
            u.procs
                .get(i)
                .filter(|q| q.remote.as_ref().is_some_and(|r| r.proxy == p))
                .map(|_| i)
        };
        match f {
            Frame::Started { rank, pid } => {
                if let Some(i) = proc_of(self, rank) {
                    self.procs[i].pid = pid;
                }
            }
            Frame::StartFailed { rank, msg } => {
                if let Some(i) = proc_of(self, rank) {
                    let host = &self.proxies[p].host;
                    eprintln!("mpiexec: cannot start rank {rank} on host {host} {msg}");
                    if let Some(r) = self.procs[i].remote.as_mut() {
                        // As a shell that cannot run a command.
                        r.status = Some(ExitStatus::from_raw(127 << 8));
                        r.out_open = false;
                        r.err_open = false;
                    }
                    self.fail_now(127);
                }
            }
            Frame::FromRank { rank, data } => {
                if let Some(i) = proc_of(self, rank) {
                    if self.procs[i].ended.is_none() {
                        self.procs[i].pmi_in.push(&data);
                        self.dispatch_pmi(i);
                    }
                }
            }
            Frame::Output { rank, err, data } => {
                if let Some(i) = proc_of(self, rank) {
                    self.write_output(i, err, &data);
                }
            }
            Frame::OutputEnd { rank, err } => {
                if let Some(r) = proc_of(self, rank).and_then(|i| self.procs[i].remote.as_mut()) {
                    if err {
                        r.err_open = false;
                    } else {
                        r.out_open = false;
                    }
                }
            }
            Frame::Exited { rank, status } => {
                if let Some(r) = proc_of(self, rank).and_then(|i| self.procs[i].remote.as_mut()) {
                    r.status.get_or_insert(ExitStatus::from_raw(status));
                }
            }
            // Its arrival already counted as a sign of life (`read_proxy`).
            Frame::Ping => {}
            other => {
                eprintln!(
                    "mpiexec: proxy of host {} sent an unexpected {other:?}",
                    self.proxies[p].host
                );
                self.proxy_gone(p, "it broke the protocol");
            }
        }
    }

    /// The proxy is lost (`why`: how we know): its ranks that had not ended are lost with it.
    fn proxy_gone(&mut self, p: usize, why: &str) {
        self.proxies[p].stream = None;
        let mut lost = Vec::new();
        for (i, q) in self.procs.iter_mut().enumerate() {
            let Some(r) = q.remote.as_mut().filter(|r| r.proxy == p) else {
                continue;
            };
            r.out_open = false;
            r.err_open = false;
            if r.status.is_none() {
                r.status = Some(ExitStatus::from_raw(libc::SIGKILL));
                lost.push(i);
            }
        }
        if !lost.is_empty() && self.teardown.is_none() {
            eprintln!(
                "mpiexec: lost the proxy of host {} with {} running rank(s): {why}; ending the job",
                self.proxies[p].host,
                lost.len()
            );
            self.exit_code.get_or_insert(1);
            self.begin_teardown(libc::SIGTERM, KILL_GRACE);
        }
    }

    /// At the end: closes the control streams (a proxy still running then kills its ranks)
    /// and waits a little for the launchers, killing those that linger.
    pub(super) fn close_proxies(&mut self) {
        for p in &mut self.proxies {
            p.stream = None;
        }
        let deadline = Instant::now() + LAUNCHER_GRACE;
        for p in &mut self.proxies {
            loop {
                match p.launcher.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= deadline => {
                        let _ = mpi::transport::process::kill_group(p.launcher.id(), libc::SIGKILL);
                        let _ = p.launcher.kill();
                        let _ = p.launcher.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }
    }
}
