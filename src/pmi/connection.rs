//! [`Pmi`]: the one face of the launcher that the runtime uses, whatever started us.
//!
//! Which protocol, from the environment alone (the launcher's contract):
//! * `PMI_FD` (or hydra's `PMI_PORT`): a wire launcher. PMI-2 when `PMI_JOBID` is set and
//!   OxiMPI's own secret is not (Slurm's `--mpi=pmi2` sets `PMI_JOBID`; our mpiexec and
//!   hydra's PMI-1 do not), else PMI-1. Slurm fixes the version of a step from the first
//!   rank's init, so all ranks must decide alike, which the shared environment ensures.
//! * else `PMIX_NAMESPACE` + `PMIX_RANK` (`srun --mpi=pmix`, prterun): PMIx through the
//!   real libpmix, loaded now and only now. If it cannot be loaded, connecting fails with a
//!   message naming the library and the variable: never N unrelated singletons.
//! * else no launcher: singleton (`Ok(None)`).
//!
//! Once connected, a [`Watch`] ends the process if the launcher goes away; it stops at
//! `finalize`.

use std::sync::atomic::{AtomicBool, Ordering};

use super::client::{Pmi1, SpawnCmd};
use super::conn::env_var;
use super::error::PmiError;
use super::pmi2::Pmi2;
use super::pmix::PmixClient;
use super::watch::Watch;

/// Guards against adopting the launcher connection twice (two owners would close it twice).
static CONNECTED: AtomicBool = AtomicBool::new(false);

enum Backend {
    V1(Pmi1),
    V2(Pmi2),
    X(PmixClient),
}

/// The connection to the process manager; one per process.
pub struct Pmi {
    backend: Backend,
    watch: Option<Watch>,
}

/// The protocol the environment asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Choice {
    Singleton,
    Pmi1 {
        fd: Option<String>,
        port: Option<String>,
    },
    Pmi2 {
        fd: String,
    },
    Pmix {
        announced: String,
    },
}

/// Decides from the variables (`get` reads one, `None` when unset or empty).
fn choose(get: impl Fn(&'static str) -> Option<String>) -> Choice {
    let fd = get("PMI_FD");
    let port = get("PMI_PORT");
    if fd.is_some() || port.is_some() {
        let slurm_pmi2 = get("PMI_JOBID").is_some() && get("OXIMPI_JOB_SECRET").is_none();
        return match fd {
            Some(fd) if slurm_pmi2 => Choice::Pmi2 { fd },
            fd => Choice::Pmi1 { fd, port },
        };
    }
    if let (Some(ns), Some(_)) = (get("PMIX_NAMESPACE"), get("PMIX_RANK")) {
        return Choice::Pmix {
            announced: format!("PMIX_NAMESPACE={ns}"),
        };
    }
    Choice::Singleton
}

/// Claims the one launcher connection of the process, runs `f`, and gives the claim back
/// if `f` fails.
fn claimed<T>(f: impl FnOnce() -> Result<T, PmiError>) -> Result<T, PmiError> {
    if CONNECTED.swap(true, Ordering::SeqCst) {
        return Err(PmiError::WrongState("already connected to the launcher"));
    }
    let r = f();
    if r.is_err() {
        CONNECTED.store(false, Ordering::SeqCst);
    }
    r
}

impl Pmi {
    /// Connects to whatever launcher the environment names (see the module docs).
    /// `Ok(None)` when there is none (singleton: rank 0 of 1).
    pub fn connect() -> Result<Option<Pmi>, PmiError> {
        let choice = choose(env_var);
        if choice == Choice::Singleton {
            return Ok(None);
        }
        claimed(|| {
            let backend = match choice {
                Choice::Pmi1 { fd, port } => Backend::V1(Pmi1::connect(fd, port)?),
                Choice::Pmi2 { fd } => Backend::V2(Pmi2::connect(&fd)?),
                Choice::Pmix { announced } => Backend::X(PmixClient::connect(&announced)?),
                // Returned before claiming; kept so the match needs no panic.
                Choice::Singleton => return Ok(None),
            };
            let mut pmi = Pmi {
                backend,
                watch: None,
            };
            let handle = match &pmi.backend {
                Backend::V1(p) => Some(p.watch_handle()?),
                Backend::V2(p) => Some(p.watch_handle()?),
                // libpmix keeps its server socket to itself: the parent check remains.
                Backend::X(_) => None,
            };
            pmi.watch = Some(Watch::start(pmi.rank(), handle)?);
            Ok(Some(pmi))
        })
    }

    /// For a singleton (no launcher at `connect`) that needs one, e.g. to spawn: starts
    /// OxiMPI's `mpiexec --singleton FD` on one end of a new socket pair and connects to
    /// it as rank 0 of 1. The launcher is found through `OXIMPI_MPIEXEC`, else next to the
    /// loaded library (`<libdir>/../bin/mpiexec`), else as `mpiexec` in PATH. It lives until
    /// this process and every process it spawns have ended. Not watched: it is our child.
    pub fn start_launcher() -> Result<Pmi, PmiError> {
        claimed(|| {
            Ok(Pmi {
                backend: Backend::V1(Pmi1::start_launcher()?),
                watch: None,
            })
        })
    }

    /// The protocol in use, for messages.
    pub fn protocol(&self) -> &'static str {
        match &self.backend {
            Backend::V1(_) => "PMI-1",
            Backend::V2(_) => "PMI-2",
            Backend::X(_) => "PMIx",
        }
    }

    pub fn rank(&self) -> u32 {
        match &self.backend {
            Backend::V1(p) => p.rank(),
            Backend::V2(p) => p.rank(),
            Backend::X(p) => p.rank(),
        }
    }

    pub fn size(&self) -> u32 {
        match &self.backend {
            Backend::V1(p) => p.size(),
            Backend::V2(p) => p.size(),
            Backend::X(p) => p.size(),
        }
    }

    pub fn appnum(&self) -> i32 {
        match &self.backend {
            Backend::V1(p) => p.appnum(),
            Backend::V2(p) => p.appnum(),
            Backend::X(p) => p.appnum(),
        }
    }

    /// The job's name at the launcher (kvs name, Slurm job id, PMIx namespace).
    pub fn kvsname(&self) -> &str {
        match &self.backend {
            Backend::V1(p) => p.kvsname(),
            Backend::V2(p) => p.kvsname(),
            Backend::X(p) => p.kvsname(),
        }
    }

    /// Whether this job was started by another job's spawn.
    pub fn spawned(&self) -> bool {
        match &self.backend {
            Backend::V1(p) => p.spawned(),
            Backend::V2(p) => p.spawned(),
            Backend::X(_) => false,
        }
    }

    /// The universe size the launcher reports (hydra says -1 when it does not know).
    pub fn universe_size(&mut self) -> Result<i32, PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.universe_size(),
            Backend::V2(p) => p.universe_size(),
            Backend::X(p) => Ok(p.universe_size()),
        }
    }

    /// The node index of every rank (fetched once).
    pub fn node_map(&mut self) -> Result<Vec<u32>, PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.node_map(),
            Backend::V2(p) => p.node_map(),
            Backend::X(p) => p.node_map(),
        }
    }

    /// Stores `key=val` in the job's key-value space; others see it after the next barrier.
    pub fn put(&mut self, key: &str, val: &str) -> Result<(), PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.put(key, val),
            Backend::V2(p) => p.put(key, val),
            Backend::X(p) => p.put(key, val),
        }
    }

    /// Reads `key` from the job's key-value space.
    pub fn get(&mut self, key: &str) -> Result<String, PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.get(key),
            Backend::V2(p) => p.get(key),
            Backend::X(p) => p.get(key),
        }
    }

    /// Reads `key` from another job's key-value space (e.g. the parent's).
    pub fn get_from(&mut self, kvsname: &str, key: &str) -> Result<String, PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.get_from(kvsname, key),
            Backend::V2(p) => p.get_from(kvsname, key),
            Backend::X(p) if kvsname == p.kvsname() => p.get(key),
            Backend::X(_) => Err(PmiError::Unsupported {
                protocol: "PMIx",
                what: "reading another job's keys",
            }),
        }
    }

    /// Waits for every rank of the job; puts made before it are visible after it.
    pub fn barrier(&mut self) -> Result<(), PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.barrier(),
            Backend::V2(p) => p.barrier(),
            Backend::X(p) => p.barrier(),
        }
    }

    /// Tells the launcher to end the job with `code`, then leaves at once.
    pub fn abort(&mut self, code: i32, msg: &str) -> ! {
        if let Some(w) = self.watch.as_mut() {
            w.stop();
        }
        match &mut self.backend {
            Backend::V1(p) => p.abort(code, msg),
            Backend::V2(p) => p.abort(code, msg),
            Backend::X(p) => p.abort(code, msg),
        }
    }

    /// Says goodbye to the launcher; after this, exiting is not a failure. The launcher
    /// watch stops first, so the launcher closing the connection afterwards is no alarm.
    pub fn finalize(&mut self) -> Result<(), PmiError> {
        if let Some(w) = self.watch.as_mut() {
            w.stop();
        }
        match &mut self.backend {
            Backend::V1(p) => p.finalize(),
            Backend::V2(p) => p.finalize(),
            Backend::X(p) => p.finalize(),
        }
    }

    /// Starts a new job made of `cmds` (see `Pmi1::spawn`); PMI-1 launchers only.
    pub fn spawn(
        &mut self,
        cmds: &[SpawnCmd],
        preput: &[(String, String)],
    ) -> Result<u32, PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.spawn(cmds, preput),
            Backend::V2(_) => Err(PmiError::Unsupported {
                protocol: "PMI-2",
                what: "MPI_Comm_spawn",
            }),
            Backend::X(_) => Err(PmiError::Unsupported {
                protocol: "PMIx",
                what: "MPI_Comm_spawn",
            }),
        }
    }

    /// Publishes `port` under `service` in the launcher's name service.
    pub fn publish_name(&mut self, service: &str, port: &str) -> Result<(), PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.publish_name(service, port),
            Backend::V2(p) => p.publish_name(service, port),
            Backend::X(_) => Err(no_names()),
        }
    }

    /// Withdraws `service`.
    pub fn unpublish_name(&mut self, service: &str) -> Result<(), PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.unpublish_name(service),
            Backend::V2(p) => p.unpublish_name(service),
            Backend::X(_) => Err(no_names()),
        }
    }

    /// The port published under `service`.
    pub fn lookup_name(&mut self, service: &str) -> Result<String, PmiError> {
        match &mut self.backend {
            Backend::V1(p) => p.lookup_name(service),
            Backend::V2(p) => p.lookup_name(service),
            Backend::X(_) => Err(no_names()),
        }
    }
}

fn no_names() -> PmiError {
    PmiError::Unsupported {
        protocol: "PMIx",
        what: "the name service (MPI_Publish_name)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&'static str, &str)]) -> impl Fn(&'static str) -> Option<String> {
        let vars: Vec<(&'static str, String)> =
            vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn chooses_the_protocol_from_the_environment() {
        assert_eq!(choose(env(&[])), Choice::Singleton);
        // Our mpiexec.
        assert_eq!(
            choose(env(&[
                ("PMI_FD", "5"),
                ("PMI_RANK", "0"),
                ("OXIMPI_JOB_SECRET", "s")
            ])),
            Choice::Pmi1 {
                fd: Some("5".into()),
                port: None
            }
        );
        // Our mpiexec inside a Slurm step that set PMI_JOBID: still PMI-1.
        assert!(matches!(
            choose(env(&[
                ("PMI_FD", "5"),
                ("PMI_JOBID", "1.0"),
                ("OXIMPI_JOB_SECRET", "s")
            ])),
            Choice::Pmi1 { .. }
        ));
        // srun --mpi=pmi2.
        assert_eq!(
            choose(env(&[
                ("PMI_FD", "11"),
                ("PMI_JOBID", "1.0"),
                ("PMI_RANK", "0")
            ])),
            Choice::Pmi2 { fd: "11".into() }
        );
        // hydra.
        assert_eq!(
            choose(env(&[("PMI_PORT", "h:1"), ("PMI_ID", "0")])),
            Choice::Pmi1 {
                fd: None,
                port: Some("h:1".into())
            }
        );
        // srun --mpi=pmix.
        assert_eq!(
            choose(env(&[
                ("PMIX_NAMESPACE", "slurm.pmix.2.0"),
                ("PMIX_RANK", "1")
            ])),
            Choice::Pmix {
                announced: "PMIX_NAMESPACE=slurm.pmix.2.0".into()
            }
        );
        // A wire launcher wins over stray PMIx variables.
        assert!(matches!(
            choose(env(&[
                ("PMI_FD", "5"),
                ("PMIX_NAMESPACE", "x"),
                ("PMIX_RANK", "0")
            ])),
            Choice::Pmi1 { .. }
        ));
    }
}
