//! `mpiexec`: starts the ranks of a job on this host or on several, serves PMI-1 to them
//! (including spawn and the name service), forwards their stdio and signals, and ends the
//! universe cleanly when one of them fails. `--singleton FD` serves a program started
//! without mpiexec that needs a launcher (to spawn). `--proxy ADDR INDEX` is the part of a
//! multi-host job that runs on one host.
//!
//! Modules: `args` (command line), `start` (shared resources and process start),
//! `pmi_server` (PMI-1 protocol logic), `spawn` (spawn requests), `names` (name service),
//! `line_guard` (bounded PMI lines), `stdio` (line forwarding), `signals` (names,
//! forwarding set), `universe` (the event loop and the ending rules). Several hosts:
//! `hosts` (host file, placement, process mapping), `launch` (starting the proxies),
//! `auth` (the secret handshake), `frames` (the proxy stream), `proxy` (proxy mode).

mod args;
mod auth;
mod frames;
mod hosts;
mod launch;
mod line_guard;
mod liveness;
mod names;
mod pmi_server;
mod pollset;
mod proxy;
mod signals;
mod spawn;
mod start;
mod stdio;
mod universe;

use std::fs::File;
use std::os::fd::{AsRawFd, IntoRawFd};

use mpi::transport::process::SignalPipe;

use args::{Command, JobSpec};
use universe::{RemoteJob, SpawnDefaults, SpawnHosts, Universe};

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let env_timeout = std::env::var("MPIEXEC_TIMEOUT").ok();
    let env_usize = std::env::var("MPIEXEC_UNIVERSE_SIZE").ok();
    let (mut spec, singleton) =
        match args::parse(&argv, env_timeout.as_deref(), env_usize.as_deref()) {
            Ok(Command::Run(spec)) => (spec, false),
            Ok(Command::Singleton(spec)) => (spec, true),
            Ok(Command::Proxy { addr, index }) => {
                ensure_std_fds_open();
                let _ = mpi::transport::fd::cloexec_from(3);
                return proxy::run(&addr, index);
            }
            Ok(Command::Help) => {
                print!("{}", args::USAGE);
                return 0;
            }
            Ok(Command::Version) => {
                println!("mpiexec (OxiMPI) {}", env!("CARGO_PKG_VERSION"));
                return 0;
            }
            Err(e) => {
                eprintln!("mpiexec: {e}\n{}", args::USAGE);
                return 1;
            }
        };
    // -genvlist's variables and -iface travel as -genv ones (the ranks of every host get them).
    if let Some(list) = &spec.hosts.genvlist {
        let listed = list
            .iter()
            .filter_map(|n| std::env::var(n).ok().map(|v| (n.clone(), v)));
        spec.genv.splice(0..0, listed.collect::<Vec<_>>());
    }
    if let Some(iface) = &spec.hosts.iface {
        spec.genv
            .push(("OXIMPI_TCP_IFACE".to_string(), iface.clone()));
    }
    if spec.nameserver.is_none() {
        spec.nameserver = std::env::var("OXIMPI_NAMESERVER")
            .ok()
            .filter(|s| !s.is_empty());
    }
    ensure_std_fds_open();
    // The singleton's socket is ours to keep; take it before marking the rest.
    let singleton_sock = match spec.singleton.filter(|_| singleton) {
        Some(raw) => match mpi::transport::fd::adopt_inherited_socket(raw) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("mpiexec: --singleton {raw}: {e}");
                return 1;
            }
        },
        None => None,
    };
    // Whatever our parent left open is not for the ranks.
    if let Err(e) = mpi::transport::fd::cloexec_from(3) {
        eprintln!("mpiexec: warning: cannot mark inherited fds close-on-exec: {e}");
    }
    let mut wanted = signals::FORWARDED.to_vec();
    wanted.push(libc::SIGCHLD);
    // Installed before any child exists, so no exit can go unnoticed.
    let sigpipe = match SignalPipe::install(&wanted) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mpiexec: cannot install signal handlers: {e}");
            return 1;
        }
    };
    let names = match names::NameService::new(spec.nameserver.as_deref()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("mpiexec: {e}");
            return 1;
        }
    };
    let placement = if spec.hosts.multi_host() && !singleton {
        match place_ranks(&spec) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("mpiexec: {e}");
                return 1;
            }
        }
    } else {
        None
    };
    let universe_size = start::universe_size(spec.universe_size, spec.total_ranks().max(1));
    let defaults = SpawnDefaults {
        genv: spec.genv.clone(),
        inherit_env: spec.inherit_env,
        label: spec.label,
        universe_size,
        max_spawn: match spawn::max_spawn(std::env::var("OXIMPI_MAX_SPAWN").ok().as_deref()) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("mpiexec: {e}");
                return 1;
            }
        },
        outfile_pattern: spec.hosts.outfile_pattern.clone(),
        errfile_pattern: spec.hosts.errfile_pattern.clone(),
        hosts: match &placement {
            Some(p) => match host_list(&spec) {
                Ok((list, _)) => Some(SpawnHosts {
                    list,
                    options: spec.hosts.clone(),
                    used: p.host_of.len() as u64,
                }),
                Err(e) => {
                    eprintln!("mpiexec: {e}");
                    return 1;
                }
            },
            None => None,
        },
    };
    let mut universe = Universe::new(names, defaults, sigpipe, spec.timeout);
    match singleton_sock {
        Some(sock) => {
            if let Err(e) = sock.set_nonblocking(true) {
                eprintln!("mpiexec: --singleton: {e}");
                return 1;
            }
            // The singleton started us: it is our parent.
            universe.add_singleton(sock, std::os::unix::process::parent_id());
        }
        None => match placement {
            Some(p) => start_on_hosts(&spec, p, &mut universe),
            None => start_first_job(&spec, &mut universe),
        },
    }
    universe.run()
}

/// The resources of job 0; when they cannot be made, says why and ends the universe.
fn first_job_resources(universe: &mut Universe) -> Option<start::JobResources> {
    match start::JobResources::create(0) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("mpiexec: cannot set up the job: {e}");
            universe.fail_now(1);
            None
        }
    }
}

/// Starts the command line's job as job 0.
fn start_first_job(spec: &JobSpec, universe: &mut Universe) {
    let Some(res) = first_job_resources(universe) else {
        return;
    };
    let (started, stdin0, error) = start::start_all(spec, &res, start::stdin_usable());
    universe.add_job(started, res, &[]);
    if let Some(e) = error {
        eprintln!("mpiexec: {e}");
        // Like a shell that cannot run a command.
        universe.fail_now(127);
    } else if let Some(stdin) = stdin0 {
        start::forward_stdin(stdin);
    }
}

/// Where the ranks of a multi-host job run (the host list, or this host alone when only a
/// launcher was given, as hydra uses localhost).
fn place_ranks(spec: &JobSpec) -> Result<hosts::Placement, String> {
    let (list, strict) = host_list(spec)?;
    let p = hosts::place(&list, spec.total_ranks(), spec.hosts.ppn, strict)?;
    if spec.hosts.verbose {
        for (h, name) in p.hosts.iter().enumerate() {
            eprintln!("mpiexec: host {name}: ranks {:?}", p.ranks_on(h as u32));
        }
    }
    Ok(p)
}

/// The host list of the command line, and whether it is strict (Open MPI's `--host`: no
/// more ranks than slots).
fn host_list(spec: &JobSpec) -> Result<(Vec<args::HostSlots>, bool), String> {
    use args::HostSource;
    Ok(match &spec.hosts.hosts {
        Some(HostSource::Hydra(l)) => (l.clone(), false),
        Some(HostSource::OpenMpi(l)) => (l.clone(), !spec.hosts.oversubscribe),
        Some(HostSource::File(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read host file {}: {e}", path.display()))?;
            (
                hosts::parse_hostfile(&text, &path.display().to_string())?,
                false,
            )
        }
        None => (args::parse_host_list("localhost")?, false),
    })
}

/// Starts the command line's job on several hosts, one proxy per host.
fn start_on_hosts(spec: &JobSpec, placement: hosts::Placement, universe: &mut Universe) {
    let Some(res) = first_job_resources(universe) else {
        return;
    };
    let appnums = launch::section_of_ranks(spec)
        .into_iter()
        .map(|a| a as i32)
        .collect();
    match launch::start_proxies(spec, &placement, &res.secret) {
        Ok(proxies) => universe.add_remote_job(
            RemoteJob {
                placement,
                proxies,
                appnums,
                forward_stdin: start::stdin_usable(),
            },
            res,
            &[],
        ),
        Err(e) => {
            eprintln!("mpiexec: {e}");
            universe.fail_now(1);
        }
    }
}

/// Makes sure fds 0, 1 and 2 are open, so no socket or memfd we create lands on them (a
/// child would then get it as its stdio and lose it when its stdio is set up).
fn ensure_std_fds_open() {
    while let Ok(f) = File::open("/dev/null") {
        if f.as_raw_fd() > 2 {
            break;
        }
        // It filled a hole in 0..=2: keep it open for the life of the process.
        let _ = f.into_raw_fd();
    }
}
