//! Starting a multi-host job: one proxy per host (see `proxy`), started through the
//! launcher command, connected back to us over TCP and authenticated with the job secret.
//!
//! The proxy command is this very binary (`current_exe`, the same path on every host as
//! hydra assumes) with `--proxy ADDR INDEX`. The launcher runs it as hydra's does:
//! `ssh HOST cmd...`, `rsh HOST cmd...`, or `CMD... HOST cmd...` for `-launcher-exec`; a
//! proxy for this host (or any, with `-launcher fork`) is started directly. The secret goes
//! to the proxy on its stdin, so it never appears on a command line.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mpi::transport::{fd, process};

use crate::args::{JobSpec, Launcher};
use crate::auth::{self, Side};
use crate::frames::{Frame, ProxyJob, RankJob};
use crate::hosts::Placement;
use crate::liveness;
use crate::spawn::host_is_local;
use crate::start;

/// How long every proxy has to connect back (ssh may ask the host key, be slow, ...).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one connection has to complete the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connected proxy.
pub struct ProxyConn {
    pub host: String,
    pub stream: TcpStream,
    /// The launcher process (ssh, the `-launcher-exec` command, or the proxy itself).
    pub launcher: Child,
    /// The liveness timeout of its control stream (`None`: no check; see `liveness`).
    pub liveness: Option<Duration>,
}

/// The address a proxy on `host` should connect to: the address of ours that the kernel
/// would use to reach `host` (right for any routing, namespaces included), or loopback for
/// a proxy on this host. A host we cannot resolve (a name only the launcher knows, as an
/// ssh alias) gets the address of our default route, else loopback.
fn address_for(host: &str, direct: bool, port: u16) -> Result<SocketAddr, String> {
    if direct {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    let target = (host, 9u16)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.find(|a| a.is_ipv4()));
    let ip = match target {
        Some(t) => {
            source_address(t).map_err(|e| format!("no route to host {host} ({}): {e}", t.ip()))?
        }
        // 192.0.2.1 (TEST-NET-1, RFC 5737) stands for "anywhere": connecting a UDP socket
        // sends nothing, it only picks the route.
        None => source_address(SocketAddr::from(([192, 0, 2, 1], 9)))
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    };
    Ok(SocketAddr::new(ip, port))
}

/// Our address on the route to `target`.
fn source_address(target: SocketAddr) -> io::Result<IpAddr> {
    let probe = UdpSocket::bind("0.0.0.0:0")?;
    probe.connect(target)?;
    Ok(probe.local_addr()?.ip())
}

/// The command that starts the proxy for host number `index`.
fn proxy_command(
    launcher: &Launcher,
    host: &str,
    direct: bool,
    addr: SocketAddr,
    index: usize,
) -> Result<Command, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find mpiexec itself: {e}"))?;
    let proxy_args = [
        exe.to_string_lossy().into_owned(),
        "--proxy".to_string(),
        addr.to_string(),
        index.to_string(),
    ];
    let mut words: Vec<String> = match (launcher, direct) {
        (_, true) => Vec::new(),
        (Launcher::Ssh, false) => vec!["ssh".into(), host.into()],
        (Launcher::Rsh, false) => vec!["rsh".into(), host.into()],
        (Launcher::Exec(cmd), false) => {
            let mut w = cmd.clone();
            w.push(host.into());
            w
        }
        (Launcher::Fork, false) => Vec::new(),
    };
    words.extend(proxy_args);
    let mut cmd = Command::new(&words[0]);
    cmd.args(&words[1..]);
    Ok(cmd)
}

/// Starts a proxy on every host of `placement`, waits until each connected and proved the
/// secret, and sends each its ranks. On failure nothing is left running.
pub fn start_proxies(
    spec: &JobSpec,
    placement: &Placement,
    secret: &str,
) -> Result<Vec<ProxyConn>, String> {
    // OXIMPI_PROXY_TIMEOUT (seconds, default 90, 0: off): how long either end of a control
    // stream may stay silent before the other counts it as lost (see `liveness`). Read
    // here, on mpiexec's side only: each proxy gets it in its Job frame (an environment
    // does not cross ssh).
    let liveness = liveness::timeout_from(std::env::var(liveness::TIMEOUT_VAR).ok().as_deref())?;
    let listener = TcpListener::bind("0.0.0.0:0").map_err(|e| format!("cannot listen: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("cannot listen: {e}"))?
        .port();
    let launcher = spec.hosts.effective_launcher();
    let mut launchers: Vec<Option<Child>> = Vec::new();
    let fail = |launchers: &mut Vec<Option<Child>>, msg: String| {
        for c in launchers.iter_mut().flatten() {
            let _ = process::kill_group(c.id(), libc::SIGKILL);
            let _ = c.kill();
            let _ = c.wait();
        }
        msg
    };
    for (i, host) in placement.hosts.iter().enumerate() {
        let direct = launcher == Launcher::Fork || host_is_local(host);
        let started = address_for(host, direct, port)
            .and_then(|addr| proxy_command(&launcher, host, direct, addr, i))
            .and_then(|mut cmd| {
                if spec.hosts.verbose {
                    eprintln!(
                        "mpiexec: starting the proxy for host {host}: {:?}",
                        std::iter::once(cmd.get_program())
                            .chain(cmd.get_args())
                            .collect::<Vec<_>>()
                    );
                }
                // Its own process group: a ^C on the terminal reaches us only, and we
                // forward it to the ranks (as on one host), instead of killing the proxies.
                cmd.stdin(Stdio::piped()).process_group(0);
                if direct {
                    process::die_with_launcher(&mut cmd);
                }
                let mut child = cmd
                    .spawn()
                    .map_err(|e| format!("cannot start the proxy for host {host}: {e}"))?;
                if let Some(mut sin) = child.stdin.take() {
                    // The proxy reads one line; a launcher that died is noticed below.
                    let _ = writeln!(sin, "{secret}");
                }
                Ok(child)
            });
        match started {
            Ok(c) => launchers.push(Some(c)),
            Err(e) => return Err(fail(&mut launchers, e)),
        }
    }
    let mut conns: Vec<Option<TcpStream>> = placement.hosts.iter().map(|_| None).collect();
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    while conns.iter().any(Option::is_none) {
        for (i, l) in launchers.iter_mut().enumerate() {
            if conns[i].is_some() {
                continue;
            }
            if let Some(Ok(Some(status))) = l.as_mut().map(Child::try_wait) {
                let host = &placement.hosts[i];
                return Err(fail(
                    &mut launchers,
                    format!("the proxy for host {host} ended before it connected ({status})"),
                ));
            }
        }
        if Instant::now() >= deadline {
            let missing: Vec<&str> = placement
                .hosts
                .iter()
                .zip(&conns)
                .filter(|(_, c)| c.is_none())
                .map(|(h, _)| h.as_str())
                .collect();
            return Err(fail(
                &mut launchers,
                format!(
                    "no proxy connected from {missing:?} within {}s",
                    CONNECT_TIMEOUT.as_secs()
                ),
            ));
        }
        let mut pfd = [libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        match fd::poll(&mut pfd, 200) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(&mut launchers, format!("poll failed: {e}"))),
        }
        let Ok((stream, from)) = listener.accept() else {
            continue;
        };
        match accept_proxy(stream, secret) {
            Ok((index, s)) if (index as usize) < conns.len() && conns[index as usize].is_none() => {
                conns[index as usize] = Some(s);
            }
            Ok((index, _)) => eprintln!(
                "mpiexec: refused a proxy connection from {from}: unexpected host index {index}"
            ),
            // A stranger (or a stale proxy) is refused and logged; the job goes on.
            Err(e) => eprintln!("mpiexec: refused a proxy connection from {from}: {e}"),
        }
    }
    let mut out = Vec::new();
    for (i, (conn, launcher)) in conns.into_iter().zip(launchers).enumerate() {
        let (Some(mut stream), Some(launcher)) = (conn, launcher) else {
            unreachable!("every host connected");
        };
        let mut job = proxy_job(spec, placement, i as u32);
        job.liveness_ms = liveness.map_or(0, |t| t.as_millis().clamp(1, u32::MAX as u128) as u32);
        if let Err(e) = Frame::Job(job).send(&mut stream) {
            eprintln!(
                "mpiexec: cannot send the job to host {}: {e}",
                placement.hosts[i]
            );
        }
        out.push(ProxyConn {
            host: placement.hosts[i].clone(),
            stream,
            launcher,
            liveness,
        });
    }
    Ok(out)
}

/// Authenticates one connection and reads the host index it serves.
fn accept_proxy(mut s: TcpStream, secret: &str) -> io::Result<(u32, TcpStream)> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    s.set_nodelay(true)?;
    auth::handshake(&mut s, secret.as_bytes(), Side::Launcher)?;
    let mut idx = [0u8; 4];
    s.read_exact(&mut idx)?;
    s.set_read_timeout(None)?;
    Ok((u32::from_be_bytes(idx), s))
}

/// The ranks of host `h`: program, arguments, environment and directory of each.
fn proxy_job(spec: &JobSpec, placement: &Placement, h: u32) -> ProxyJob {
    let section_of = section_of_ranks(spec);
    let env: Vec<Vec<(String, String)>> = (0..spec.sections.len())
        .map(|appnum| start::rank_env(spec, appnum))
        .collect();
    let ranks = placement
        .ranks_on(h)
        .into_iter()
        .map(|rank| {
            let appnum = section_of[rank as usize];
            let section = &spec.sections[appnum];
            RankJob {
                rank,
                argv: section.argv.clone(),
                env: env[appnum].clone(),
                wdir: section
                    .wdir
                    .as_ref()
                    .or(spec.gwdir.as_ref())
                    .map(|w| w.to_string_lossy().into_owned()),
            }
        })
        .collect();
    ProxyJob {
        host: placement.hosts[h as usize].clone(),
        size: spec.total_ranks(),
        bind_core: spec.hosts.bind == crate::args::Bind::Core,
        // Set by `start_proxies`, which read the knob.
        liveness_ms: 0,
        ranks,
    }
}

/// The section (appnum) of every rank of the job.
pub fn section_of_ranks(spec: &JobSpec) -> Vec<usize> {
    spec.sections
        .iter()
        .enumerate()
        .flat_map(|(i, s)| std::iter::repeat_n(i, s.nprocs as usize))
        .collect()
}
