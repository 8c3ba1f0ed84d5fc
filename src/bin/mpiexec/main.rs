//! `mpiexec`: starts the ranks of a job on this host, serves PMI-1 to them, forwards their
//! stdio and signals, and ends the job cleanly when one of them fails.
//!
//! Modules: `args` (command line), `start` (shared resources and process start),
//! `pmi_server` (PMI-1 protocol logic), `stdio` (line forwarding), `signals` (names,
//! forwarding set), `job` (the event loop and the ending rules).

mod args;
mod job;
mod pmi_server;
mod signals;
mod start;
mod stdio;

use std::fs::File;
use std::os::fd::{AsRawFd, IntoRawFd};

use mpi::transport::process::SignalPipe;

use args::Command;

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let env_timeout = std::env::var("MPIEXEC_TIMEOUT").ok();
    let env_usize = std::env::var("MPIEXEC_UNIVERSE_SIZE").ok();
    let spec = match args::parse(&argv, env_timeout.as_deref(), env_usize.as_deref()) {
        Ok(Command::Run(spec)) => spec,
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
    ensure_std_fds_open();
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
    let res = match start::JobResources::create(&spec) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mpiexec: cannot set up the job: {e}");
            return 1;
        }
    };
    let (started, stdin0, error) = start::start_all(&spec, &res, start::stdin_usable());
    let appnums = started.iter().map(|s| s.appnum).collect();
    let server = pmi_server::PmiServer::new(res.kvsname.clone(), appnums, res.universe_size);
    let mut job = job::Job::new(started, server, sigpipe, spec.label, spec.timeout);
    if let Some(e) = error {
        eprintln!("mpiexec: {e}");
        // Like a shell that cannot run a command.
        job.fail_now(127);
    } else if let Some(stdin) = stdin0 {
        start::forward_stdin(stdin);
    }
    job.run()
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
