//! The process's MPI state: start-up (PMI, shared segment, engine, the predefined
//! communicators), finalize and abort.

use crate::error::{class, MpiError};
use crate::object::comm::Comm;
use crate::object::errhandler::Errhandler;
use crate::object::group::Group;
use crate::p2p::Engine;
use crate::pmi::Pmi;
use crate::transport::shm::{Shm, ShmConfig};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::ThreadId;

pub type NodeEngine = Engine<Shm>;

pub struct Runtime {
    pub engine: NodeEngine,
    pub world: Comm,
    pub self_comm: Comm,
    pub rank: u32,
    pub size: u32,
    pub appnum: i32,
    pub thread_level: i32,
    pub main_thread: ThreadId,
    pub pmi: Mutex<Option<Pmi>>,
    pub universe_size: i32,
    /// Context ids in use by this process.
    pub contexts: Mutex<crate::object::context::Contexts>,
}

const UNINIT: u8 = 0;
const READY: u8 = 1;
const DONE: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNINIT);
static RT: OnceLock<Runtime> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Context ids: each communicator takes a block of 4 (point-to-point, collective, and two
/// spare for partitioned and internal traffic).
pub const WORLD_CONTEXT: u32 = 0;
pub const SELF_CONTEXT: u32 = 4;
pub const FIRST_USER_CONTEXT: u32 = 8;

#[inline]
pub fn get() -> Option<&'static Runtime> {
    if STATE.load(Ordering::Acquire) == READY {
        RT.get()
    } else {
        None
    }
}

pub fn initialized() -> bool {
    STATE.load(Ordering::Acquire) != UNINIT
}

pub fn finalized() -> bool {
    STATE.load(Ordering::Acquire) == DONE
}

/// The running runtime, or the error MPI requires when called outside Init..Finalize.
#[inline]
pub fn rt() -> Result<&'static Runtime, MpiError> {
    get().ok_or_else(|| {
        if finalized() {
            MpiError::new(class::ERR_OTHER, "MPI has already been finalized")
        } else {
            MpiError::new(class::ERR_OTHER, "MPI has not been initialized")
        }
    })
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}

/// MPI_Init / MPI_Init_thread. Returns the thread level provided (always MULTIPLE).
pub fn init(_required: i32) -> Result<i32, MpiError> {
    let _g = INIT_LOCK.lock();
    match STATE.load(Ordering::Acquire) {
        READY => return Err(MpiError::new(class::ERR_OTHER, "MPI_Init called twice")),
        DONE => {
            return Err(MpiError::new(
                class::ERR_OTHER,
                "MPI cannot be initialized again after MPI_Finalize",
            ))
        }
        _ => {}
    }
    let mut pmi = Pmi::connect().map_err(|e| {
        MpiError::new(
            class::ERR_OTHER,
            format!("cannot reach the process manager: {e}"),
        )
    })?;
    let (rank, size, appnum) = match &pmi {
        Some(p) => (p.rank(), p.size(), p.appnum()),
        None => (0, 1, 0),
    };
    let universe_size = match pmi.as_mut() {
        Some(p) => p.universe_size().unwrap_or(size as i32),
        None => 1,
    };
    // Which ranks share this node, and my index among them.
    let node_of: Vec<u32> = match pmi.as_mut() {
        Some(p) => p.node_map().unwrap_or_else(|_| vec![0; size as usize]),
        None => vec![0],
    };
    let my_node = node_of[rank as usize];
    let mut local_of: Vec<Option<usize>> = vec![None; size as usize];
    let mut nlocal = 0;
    for (r, n) in node_of.iter().enumerate() {
        if *n == my_node {
            local_of[r] = Some(nlocal);
            nlocal += 1;
        }
    }
    let me_local = local_of[rank as usize].expect("own rank is local");
    let cfg = ShmConfig::from_env();
    let shm = attach_segment(pmi.as_mut(), nlocal, me_local, &cfg)?;
    let _ = crate::transport::shm::cma::allow_peers_to_read();
    let engine = Engine::new(shm, rank, local_of);
    let world = Comm::new(
        WORLD_CONTEXT,
        rank,
        Arc::new(Group::new((0..size).collect())),
        "MPI_COMM_WORLD",
    );
    let self_comm = Comm::new(
        SELF_CONTEXT,
        0,
        Arc::new(Group::new(vec![rank])),
        "MPI_COMM_SELF",
    );
    *world.errhandler.lock() = Errhandler::Fatal;
    *self_comm.errhandler.lock() = Errhandler::Fatal;
    let rt = Runtime {
        engine,
        world,
        self_comm,
        rank,
        size,
        appnum,
        thread_level: crate::abi::consts::THREAD_MULTIPLE,
        main_thread: std::thread::current().id(),
        pmi: Mutex::new(pmi),
        universe_size,
        contexts: Mutex::new(crate::object::context::Contexts::new(&[
            WORLD_CONTEXT,
            SELF_CONTEXT,
        ])),
    };
    if RT.set(rt).is_err() {
        return Err(MpiError::intern("runtime initialized twice"));
    }
    STATE.store(READY, Ordering::Release);
    Ok(crate::abi::consts::THREAD_MULTIPLE)
}

/// Maps the node's shared segment: inherited from our mpiexec, or created by the first
/// local rank and found by the others through PMI under a foreign launcher.
fn attach_segment(
    pmi: Option<&mut Pmi>,
    nlocal: usize,
    me: usize,
    cfg: &ShmConfig,
) -> Result<Shm, MpiError> {
    let fail = |what: &str, e: std::io::Error| {
        MpiError::new(
            class::ERR_OTHER,
            format!("cannot {what} the shared-memory segment: {e}"),
        )
    };
    if let Some(fd) = env_usize("OXIMPI_SHM_FD") {
        return Shm::from_fd(fd as i32, nlocal, me, cfg).map_err(|e| fail("map", e));
    }
    match pmi {
        None => crate::transport::shm_fabric::private_segment(cfg).map_err(|e| fail("create", e)),
        Some(p) => {
            if nlocal == 1 {
                return crate::transport::shm_fabric::private_segment(cfg)
                    .map_err(|e| fail("create", e));
            }
            let key = "oximpi-shm";
            let perr = |e: crate::pmi::PmiError| {
                MpiError::new(class::ERR_OTHER, format!("process manager: {e}"))
            };
            let shm = if me == 0 {
                let name = format!("/oximpi-{}-{}", std::process::id(), p.rank());
                let s = Shm::create_named(&name, nlocal, me, cfg).map_err(|e| fail("create", e))?;
                p.put(&format!("{key}-{}", p.rank()), &name).map_err(perr)?;
                p.barrier().map_err(perr)?;
                p.barrier().map_err(perr)?;
                let _ = Shm::unlink_named(&name);
                s
            } else {
                p.barrier().map_err(perr)?;
                // The node leader is the lowest rank on this node.
                let map = p.node_map().map_err(perr)?;
                let mine = map[p.rank() as usize];
                let leader = map.iter().position(|n| *n == mine).unwrap_or(0);
                let name = p.get(&format!("{key}-{leader}")).map_err(perr)?;
                let s = Shm::open_named(&name, nlocal, me, cfg).map_err(|e| fail("open", e))?;
                p.barrier().map_err(perr)?;
                s
            };
            Ok(shm)
        }
    }
}

/// MPI_Finalize: completes outstanding traffic of this process, tells the launcher.
pub fn finalize() -> Result<(), MpiError> {
    let rt = rt()?;
    rt.engine.quiesce();
    if let Some(p) = rt.pmi.lock().as_mut() {
        // The barrier keeps every rank's memory (single-copy reads, cells) alive until all
        // have stopped touching it.
        p.barrier()
            .map_err(|e| MpiError::new(class::ERR_OTHER, format!("process manager: {e}")))?;
        let _ = p.finalize();
    }
    STATE.store(DONE, Ordering::Release);
    Ok(())
}

/// Ends the whole job with `code` (MPI_Abort and fatal errors).
pub fn abort(code: i32, msg: &str) -> ! {
    if let Some(rt) = RT.get() {
        if let Some(mut g) = rt.pmi.try_lock() {
            if let Some(p) = g.as_mut() {
                p.abort(code, msg);
            }
        }
    }
    if !msg.is_empty() {
        eprintln!("{msg}");
    }
    std::process::exit(code)
}
