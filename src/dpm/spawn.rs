//! MPI_Comm_spawn(_multiple) and the children's side (MPI_Comm_get_parent).
//!
//! The parents' root opens a port, asks the launcher (PMI `spawn`) to start the children
//! with the port's name preset in their key-value space as `PARENT_ROOT_PORT_NAME` (the key
//! MPICH uses, so hydra-started children find it too), and the parents accept on it while
//! the children, inside MPI_Init, connect to it with their MPI_COMM_WORLD. A program that
//! runs without a launcher (singleton) starts one on demand.

use super::connect;
use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::object::group_net::GroupNet;
use crate::pmi::{Pmi, SpawnCmd};
use crate::runtime;
use std::sync::OnceLock;

/// The key under which children find their parents' port.
pub const PARENT_PORT_KEY: &str = "PARENT_ROOT_PORT_NAME";

/// One command of a spawn: what the root passes (other members pass nothing).
pub type Command = SpawnCmd;

/// The parents' intercommunicator in a spawned job (set by MPI_Init), None otherwise.
static PARENT: OnceLock<Option<Comm>> = OnceLock::new();

fn spawn_err(msg: impl Into<String>) -> MpiError {
    MpiError::new(class::ERR_SPAWN, msg)
}

/// Asks the launcher to start `cmds` with our port preset; the number of processes started.
fn launch(cmds: &[Command], port: &str) -> Result<u32, MpiError> {
    let rt = runtime::rt()?;
    let mut g = rt.pmi.lock();
    if g.is_none() {
        // A singleton: start a launcher to serve us, as MPICH does.
        let p = Pmi::start_launcher()
            .map_err(|e| spawn_err(format!("cannot start a launcher (mpiexec): {e}")))?;
        *g = Some(p);
    }
    let pmi = g.as_mut().expect("set above");
    let preput = [(PARENT_PORT_KEY.to_string(), port.to_string())];
    pmi.spawn(cmds, &preput)
        .map_err(|e| spawn_err(format!("the launcher could not start the processes: {e}")))
}

/// MPI_Comm_spawn_multiple, collective over `comm`; `cmds` matter at `root` only. Returns
/// the intercommunicator with the children and the number of processes started (fewer
/// than asked only with the "soft" info key).
pub fn spawn(comm: &Comm, root: usize, cmds: &[Command]) -> Result<(Comm, usize), MpiError> {
    let am_root = comm.rank as usize == root;
    let net = root_net(comm, root);
    // The root starts the children; everybody learns whether that worked.
    let mut port = String::new();
    let outcome = if am_root {
        let r = super::port::open().and_then(|p| {
            port = p;
            launch(cmds, &port)
        });
        if r.is_err() && !port.is_empty() {
            let _ = super::port::close(&port);
        }
        Some(r.map(|n| n.to_le_bytes().to_vec()))
    } else {
        None
    };
    let started = connect::bcast_outcome(&net, outcome)?;
    let started = u32::from_le_bytes(
        started
            .try_into()
            .map_err(|_| MpiError::intern("malformed spawn outcome"))?,
    ) as usize;
    let inter = connect::accept_at(comm, root, am_root.then_some(port.as_str()));
    if am_root {
        let _ = super::port::close(&port);
    }
    Ok((inter?, started))
}

fn root_net(comm: &Comm, root: usize) -> GroupNet {
    connect::root_net(comm, root)
}

/// Called at the end of MPI_Init: a spawned job connects to its parents.
pub fn connect_parent() -> Result<(), MpiError> {
    let rt = runtime::rt()?;
    if PARENT.get().is_some() {
        return Ok(());
    }
    if !rt.spawned {
        let _ = PARENT.set(None);
        return Ok(());
    }
    let port = if rt.rank == 0 {
        let mut g = rt.pmi.lock();
        let pmi = g
            .as_mut()
            .ok_or_else(|| spawn_err("spawned without a launcher"))?;
        pmi.get(PARENT_PORT_KEY)
            .map_err(|e| spawn_err(format!("cannot find the parents' port: {e}")))?
    } else {
        String::new()
    };
    let c = connect::connect(&port, &rt.world, 0)?;
    let _ = PARENT.set(Some(c));
    Ok(())
}

/// The parents' intercommunicator, if this job was spawned.
pub fn parent() -> Option<&'static Comm> {
    PARENT.get().and_then(|p| p.as_ref())
}
