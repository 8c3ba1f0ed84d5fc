//! Process start: the job's shared resources (memfd, secret, PMI sockets) and one child per
//! rank, each in its own process group so a signal reaches everything the rank started.
//!
//! Inherited-fd discipline: every fd we create is close-on-exec. The only fds a rank gets
//! besides 0/1/2 are its own PMI socket and the job memfd: we clear close-on-exec on exactly
//! those just around its spawn (spawning happens on this one thread only).

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};

use mpi::transport::{fd, process};

use crate::args::{Bind, JobSpec};

/// Environment variables of an enclosing launcher that must not leak into our ranks.
const STRIPPED_ENV: &[&str] = &[
    // An outer launcher's own variables (a rank may itself run mpiexec); the user's
    // OXIMPI_* settings (OXIMPI_TRANSPORT, OXIMPI_EAGER_LIMIT, ...) reach the ranks, as
    // hydra passes MPIR_CVAR_* on.
    "OXIMPI_SHM_FD",
    "OXIMPI_JOB_SECRET",
    "OXIMPI_LAUNCHER_PID",
    "OXIMPI_LOCAL_RANK",
    "OXIMPI_LOCAL_SIZE",
    "PMI_FD",
    "PMI_PORT",
    "PMI_ID",
    "PMI_RANK",
    "PMI_SIZE",
    "PMI_SPAWNED",
    "HYDI_CONTROL_FD",
    "MPI_LOCALRANKID",
    "MPI_LOCALNRANKS",
    "PMI_JOBID",
    "PMIX_NAMESPACE",
    "PMIX_RANK",
];

/// What every rank of the job shares.
pub struct JobResources {
    pub kvsname: String,
    pub secret: String,
    pub shm: OwnedFd,
}

impl JobResources {
    /// The resources of job number `job` (0 for the command line's, then one per spawn).
    pub fn create(job: usize) -> io::Result<JobResources> {
        Ok(JobResources {
            kvsname: format!("kvs_{}_{job}", std::process::id()),
            secret: random_hex(16)?,
            shm: fd::memfd_create(c"oximpi-job")?,
        })
    }

    /// A proxy's resources for its host's ranks of a job whose secret mpiexec made.
    pub fn for_host(secret: String) -> io::Result<JobResources> {
        Ok(JobResources {
            kvsname: String::new(),
            secret,
            shm: fd::memfd_create(c"oximpi-job")?,
        })
    }
}

/// The universe size: `-usize`/MPIEXEC_UNIVERSE_SIZE, else the number of cores, but at
/// least the first job's size.
pub fn universe_size(requested: Option<u32>, first_job: u32) -> u32 {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    requested.unwrap_or(cores.max(first_job))
}

pub fn random_hex(bytes: usize) -> io::Result<String> {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A started rank: its child and the launcher's ends of its channels.
pub struct Started {
    pub rank: u32,
    pub appnum: i32,
    pub child: Child,
    pub pmi: UnixStream,
    pub stdout: File,
    pub stderr: File,
}

/// Starts every rank in order. On failure returns the ranks already started (the caller
/// must end them) with the error message.
pub fn start_all(
    spec: &JobSpec,
    res: &JobResources,
    stdin_for_rank0: bool,
) -> (Vec<Started>, Option<ChildStdin>, Option<String>) {
    let mut started = Vec::new();
    let mut stdin0 = None;
    let size = spec.total_ranks();
    if let Err(e) = fd::set_cloexec(res.shm.as_fd(), false) {
        return (
            started,
            None,
            Some(format!("cannot share the job memory file: {e}")),
        );
    }
    let mut rank = 0u32;
    let mut error = None;
    'sections: for (appnum, section) in spec.sections.iter().enumerate() {
        for _ in 0..section.nprocs {
            match start_one(spec, res, appnum, rank, size, stdin_for_rank0 && rank == 0) {
                Ok((s, stdin)) => {
                    started.push(s);
                    if stdin.is_some() {
                        stdin0 = stdin;
                    }
                }
                Err(e) => {
                    error = Some(format!(
                        "cannot start rank {rank} ({}): {e}",
                        section.argv[0]
                    ));
                    break 'sections;
                }
            }
            rank += 1;
        }
    }
    // Children of later (spawned) jobs must get only their own job's memfd.
    let _ = fd::set_cloexec(res.shm.as_fd(), true);
    (started, stdin0, error)
}

fn start_one(
    spec: &JobSpec,
    res: &JobResources,
    appnum: usize,
    rank: u32,
    size: u32,
    gets_stdin: bool,
) -> io::Result<(Started, Option<ChildStdin>)> {
    let section = &spec.sections[appnum];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let core = (spec.hosts.bind == Bind::Core).then_some(rank as usize % cores);
    let mut cmd = rank_command(&section.argv, core);
    if let (Some(arg0), None) = (&section.arg0, core) {
        cmd.arg0(arg0);
    }
    if spec.inherit_env {
        for var in STRIPPED_ENV {
            cmd.env_remove(var);
        }
    } else {
        cmd.env_clear();
    }
    for (k, v) in spec.genv.iter().chain(&section.env) {
        cmd.env(k, v);
    }
    if let Some(dir) = section.wdir.as_ref().or(spec.gwdir.as_ref()) {
        cmd.current_dir(dir);
    }
    let launch = Launch {
        rank,
        size,
        local_rank: rank,
        local_size: size,
        res,
    };
    let (mut child, pmi, stdin) = spawn_rank(cmd, &launch, gets_stdin)?;
    let (stdout, stderr) = take_output(&mut child)?;
    Ok((
        Started {
            rank,
            appnum: appnum as i32,
            child,
            pmi,
            stdout,
            stderr,
        },
        stdin,
    ))
}

/// The environment of a rank that mpiexec computes (what the proxy of another host gets):
/// ours unless `-genvnone`/`-genvlist`, without a launcher's variables, then `-genv`'s (which
/// hold `-genvlist`'s, see main) and the section's.
pub fn rank_env(spec: &JobSpec, appnum: usize) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    if spec.inherit_env {
        env.extend(std::env::vars().filter(|(k, _)| !STRIPPED_ENV.contains(&k.as_str())));
    }
    env.extend(spec.genv.iter().cloned());
    env.extend(spec.sections[appnum].env.iter().cloned());
    env
}

/// The command that runs `argv`, pinned to `core` when given (`-bind-to core`).
///
/// Pinning goes through util-linux's `taskset`, which sets its own affinity and then execs
/// the program (affinity survives exec, and the rank keeps taskset's pid, so signals and
/// exit statuses are the program's). Setting the affinity in the child between fork and
/// exec needs `unsafe`, which this crate keeps in src/transport (see docs/hosts.md).
pub fn rank_command(argv: &[String], core: Option<usize>) -> Command {
    match core {
        Some(core) => {
            let mut c = Command::new("taskset");
            c.arg("--cpu-list").arg(core.to_string()).args(argv);
            c
        }
        None => {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
    }
}

/// Which rank is started, among how many, with which shared resources.
pub struct Launch<'a> {
    pub rank: u32,
    pub size: u32,
    /// Index among the ranks of this host, and how many there are.
    pub local_rank: u32,
    pub local_size: u32,
    pub res: &'a JobResources,
}

/// Starts `cmd` (program, arguments, environment and directory already set) as a rank:
/// adds the launch variables and its PMI socket, pipes its stdout/stderr, makes it the
/// leader of its own process group and ties its life to ours. Returns the child, our end of
/// its PMI socket (non-blocking) and its stdin pipe when `gets_stdin`.
pub fn spawn_rank(
    mut cmd: Command,
    l: &Launch,
    gets_stdin: bool,
) -> io::Result<(Child, UnixStream, Option<ChildStdin>)> {
    let (ours, theirs) = UnixStream::pair()?;
    let vars: [(&str, OsString); 8] = [
        ("PMI_FD", theirs.as_raw_fd().to_string().into()),
        ("PMI_RANK", l.rank.to_string().into()),
        ("PMI_SIZE", l.size.to_string().into()),
        ("OXIMPI_SHM_FD", l.res.shm.as_raw_fd().to_string().into()),
        ("OXIMPI_JOB_SECRET", l.res.secret.clone().into()),
        ("OXIMPI_LOCAL_RANK", l.local_rank.to_string().into()),
        ("OXIMPI_LOCAL_SIZE", l.local_size.to_string().into()),
        // Who the rank's parent must be: the library checks it when it takes over the
        // parent-death watch (the launcher may have died before that).
        ("OXIMPI_LAUNCHER_PID", std::process::id().to_string().into()),
    ];
    cmd.envs(vars);
    cmd.stdin(if gets_stdin {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    // A rank never outlives us, even if we are killed with SIGKILL (nothing of ours runs
    // then): the kernel kills it. We spawn from the main thread, which lives as long as we do.
    process::die_with_launcher(&mut cmd);
    fd::set_cloexec(theirs.as_fd(), false)?;
    let mut child = cmd.spawn()?;
    drop(theirs);
    ours.set_nonblocking(true)?;
    let stdin = child.stdin.take();
    Ok((child, ours, stdin))
}

/// Takes the stdout and stderr pipes of a child started by [`spawn_rank`].
pub fn take_output(child: &mut Child) -> io::Result<(File, File)> {
    let stdout = File::from(OwnedFd::from(
        child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout pipe"))?,
    ));
    let stderr = File::from(OwnedFd::from(
        child
            .stderr
            .take()
            .ok_or_else(|| io::Error::other("no stderr pipe"))?,
    ));
    Ok((stdout, stderr))
}

/// Copies our stdin to rank 0 on a helper thread (blocking I/O on both sides keeps it
/// simple, and the event loop never waits for it). Ends at EOF or when rank 0 goes away.
pub fn forward_stdin(mut to_rank0: ChildStdin) {
    let _ = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let _ = io::copy(&mut io::stdin().lock(), &mut to_rank0);
        });
}

/// Whether rank 0 may get our stdin: not when reading it would stop us (background job).
pub fn stdin_usable() -> bool {
    !process::stdin_is_background_tty()
}
