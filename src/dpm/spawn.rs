//! MPI_Comm_spawn(_multiple) and the children's side (MPI_Comm_get_parent).
//!
//! The parents' root opens a port, asks the launcher (PMI `spawn`) to start the children
//! with the port's name preset in their key-value space as `PARENT_ROOT_PORT_NAME` (the key
//! MPICH uses, so hydra-started children find it too), and the parents accept on it while
//! the children, inside MPI_Init, connect to it with their MPI_COMM_WORLD. A program that
//! runs without a launcher (singleton) starts one on demand. Parents and children may be
//! on any hosts (the launcher places the children): the port's name says where the root
//! listens, and the meeting tells everybody where everybody else does (`transport::sock`).

use super::connect;
use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::pmi::SpawnCmd;
use crate::runtime::Runtime;
use parking_lot::Mutex;

/// The key under which children find their parents' port.
pub const PARENT_PORT_KEY: &str = "PARENT_ROOT_PORT_NAME";

/// One command of a spawn: what the root passes (other members pass nothing).
pub type Command = SpawnCmd;

/// The parents' intercommunicator in a spawned job, from MPI_Init until MPI_Comm_get_parent
/// takes it.
static PARENT: Mutex<Option<Comm>> = Mutex::new(None);

fn spawn_err(msg: impl Into<String>) -> MpiError {
    MpiError::new(class::ERR_SPAWN, msg)
}

/// Asks the launcher to start `cmds` with our port preset; the number of processes started.
fn launch(rt: &Runtime, cmds: &[Command], port: &str) -> Result<u32, MpiError> {
    let preput = [(PARENT_PORT_KEY.to_string(), port.to_string())];
    super::names::with_launcher(rt, |p| p.spawn(cmds, &preput))?
        .map_err(|e| spawn_err(format!("the processes could not be started: {e}")))
}

/// What a spawn gave: the intercommunicator with the children (None if nothing started),
/// how many processes were started and how many were asked for.
pub struct Spawned {
    pub inter: Option<Comm>,
    pub started: usize,
    pub asked: usize,
}

/// MPI_Comm_spawn_multiple, collective over `comm`; `cmds` matters at `root` only (an
/// error there — bad arguments found by the caller — fails every member the same way).
/// Started processes are the first ones asked for (fewer only with the "soft" info key).
pub fn spawn(
    rt: &'static Runtime,
    comm: &Comm,
    root: usize,
    cmds: Result<&[Command], MpiError>,
) -> (Spawned, Result<(), MpiError>) {
    let am_root = comm.rank as usize == root;
    let net = connect::root_net(rt, comm, root);
    let failed = |asked| Spawned {
        inter: None,
        started: 0,
        asked,
    };
    // The root starts the children; everybody learns whether that worked.
    let mut port = String::new();
    // How many were asked for, first: every member fills that many error codes, even when
    // the spawn fails.
    let asked_here = match (&cmds, am_root) {
        (Ok(c), true) => c.iter().map(|c| c.maxprocs as u64).sum(),
        _ => 0,
    };
    let asked = match net.bcast_result(am_root.then(|| Ok(asked_here.to_le_bytes().to_vec()))) {
        Ok(b) => b.try_into().map(u64::from_le_bytes).unwrap_or(0) as usize,
        Err(e) => return (failed(0), Err(e)),
    };
    let outcome = am_root.then(|| {
        let cmds = cmds?;
        port = super::port::open(rt)?;
        let r = launch(rt, cmds, &port);
        if r.is_err() {
            let _ = super::port::close(rt, &port);
        }
        Ok((r? as u64).to_le_bytes().to_vec())
    });
    let started = match net.bcast_result(outcome) {
        Ok(b) => match b.try_into() {
            Ok(b) => u64::from_le_bytes(b) as usize,
            Err(_) => {
                return (
                    failed(asked),
                    Err(MpiError::intern("malformed spawn outcome")),
                )
            }
        },
        Err(e) => return (failed(asked), Err(e)),
    };
    let inter = connect::accept_at(rt, comm, root, am_root.then_some(port.as_str()));
    if am_root {
        let _ = super::port::close(rt, &port);
    }
    match inter {
        Ok(c) => (
            Spawned {
                inter: Some(c),
                started,
                asked,
            },
            Ok(()),
        ),
        Err(e) => (failed(asked), Err(e)),
    }
}

/// Called at the end of MPI_Init: a spawned job connects to its parents.
pub fn connect_parent(rt: &'static Runtime) -> Result<(), MpiError> {
    if !rt.spawned {
        return Ok(());
    }
    // Every child reads the port (only the root connects to it): a child on the parents'
    // host takes the root's TCP address as its own instead of looking it up.
    let port = {
        let mut g = rt.pmi.lock();
        let pmi = g
            .as_mut()
            .ok_or_else(|| spawn_err("spawned without a launcher"))?;
        match pmi.get(PARENT_PORT_KEY) {
            Ok(p) => p,
            Err(e) if rt.rank == 0 => {
                return Err(spawn_err(format!("cannot find the parents' port: {e}")))
            }
            // Only the hint is lost.
            Err(_) => String::new(),
        }
    };
    if let Ok(p) = super::port::parse(&port) {
        crate::transport::sock::place::hint_from(p.place);
    }
    let c = connect::connect(rt, &port, &rt.world, 0, connect::default_connect_timeout())?;
    *PARENT.lock() = Some(c);
    Ok(())
}

/// The parents' intercommunicator, if this job was spawned (once: MPI_Comm_get_parent
/// keeps it under a handle from then on).
pub fn take_parent() -> Option<Comm> {
    PARENT.lock().take()
}
