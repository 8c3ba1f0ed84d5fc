//! The blocking collectives' shared-memory route (`crate::coll::shm`): taken when the
//! communicator is an intracommunicator whose ranks share this node and the message fits a
//! slot; every rank decides alike (same communicator, same byte count, and for reductions
//! the same datatype, as MPI requires), so they all go the same way. Each function returns
//! whether it did the collective; false sends the caller to the schedules.

use crate::coll::sched::{Reduction, Team};
use crate::coll::shm::{self, Locate, ShmComm};
use crate::error::MpiError;
use crate::p2p::Data;
use std::sync::Arc;

/// This node's share of the job's node map, made once per process: the fabric index of
/// every world rank on this node (a node's ranks are numbered in world-rank order, as the
/// engine numbers them), and how many there are.
struct NodeMap {
    local_of: Vec<Option<usize>>,
    nlocal: usize,
}

fn node_map() -> Option<&'static NodeMap> {
    static MAP: std::sync::OnceLock<NodeMap> = std::sync::OnceLock::new();
    let rt = crate::runtime::rt().ok()?;
    Some(MAP.get_or_init(|| {
        let node = rt.node_of.get(rt.rank as usize).copied();
        let mut local_of = vec![None; rt.node_of.len()];
        let mut nlocal = 0;
        for (p, &nd) in rt.node_of.iter().enumerate() {
            if Some(nd) == node {
                local_of[p] = Some(nlocal);
                nlocal += 1;
            }
        }
        NodeMap { local_of, nlocal }
    }))
}

/// Where `t`'s ranks are: their fabric indices when all are this job's processes on this
/// node. Runs once per communicator, when its shared-memory state is made (`shm::get`).
fn locate(t: &Team) -> Locate {
    let Some(map) = node_map() else {
        return Locate {
            bells: None,
            oversubscribed: false,
        };
    };
    let bells = (0..t.size())
        .map(|r| {
            map.local_of
                .get(t.group.proc_of(r) as usize)
                .copied()
                .flatten()
        })
        .collect();
    let cpus = crate::transport::cpu::usable_cpus();
    Locate {
        bells,
        oversubscribed: map.nlocal > cpus,
    }
}

/// The region of `t`'s communicator when a message of `bytes` of operation `op` (None: a
/// barrier) can use it.
fn region(t: &Team, bytes: u64, op: Option<shm::Op>) -> Result<Option<Arc<ShmComm>>, MpiError> {
    // A fault-tolerant run keeps the schedules: a region's flags would wait for ever on a
    // dead member, where the engine ends a schedule's pending operations (ft).
    if t.remote.is_some() || t.size() < 2 || crate::ft::members::fault_tolerant() {
        return Ok(None);
    }
    Ok(shm::get(t, || locate(t))?.filter(|c| shm::takes(c, op, bytes)))
}

pub(super) fn barrier(t: &Team) -> Result<bool, MpiError> {
    let Some(c) = region(t, 0, None)? else {
        return Ok(false);
    };
    shm::barrier(&c, t.engine);
    Ok(true)
}

pub(super) fn bcast(t: &Team, d: &Data, root: usize) -> Result<bool, MpiError> {
    let Some(c) = region(t, d.bytes(), Some(shm::Op::Bcast))? else {
        return Ok(false);
    };
    shm::bcast(&c, t.engine, d, root)?;
    Ok(true)
}

/// Reductions need a contiguous datatype whose elements follow each other (extent equal
/// to size): the slots and single-copy reads hold packed bytes, which are then the memory
/// image the operation (or a user function) reads.
fn reduction_region(
    t: &Team,
    red: &Reduction,
    d: &Data,
    op: shm::Op,
) -> Result<Option<Arc<ShmComm>>, MpiError> {
    if !red.dt.is_contiguous() || red.dt.extent() != red.dt.size() as i64 {
        return Ok(None);
    }
    region(t, d.bytes(), Some(op))
}

pub(super) fn reduce(
    t: &Team,
    red: &Reduction,
    input: &Data,
    out: &Data,
    root: usize,
) -> Result<bool, MpiError> {
    let Some(c) = reduction_region(t, red, input, shm::Op::Reduce)? else {
        return Ok(false);
    };
    shm::reduce(&c, t.engine, red, input, out, root)?;
    Ok(true)
}

pub(super) fn allreduce(
    t: &Team,
    red: &Reduction,
    input: &Data,
    out: &Data,
) -> Result<bool, MpiError> {
    let Some(c) = reduction_region(t, red, input, shm::Op::Allreduce)? else {
        return Ok(false);
    };
    shm::allreduce(&c, t.engine, red, input, out)?;
    Ok(true)
}

/// A regular gather (`scatter` false) or scatter (true) of blocks of equal size.
pub(super) fn rooted(
    t: &Team,
    scatter: bool,
    root: usize,
    mine: Option<&Data>,
    blocks: &[Data],
    own: Option<&(Data, Data)>,
) -> Result<bool, MpiError> {
    let op = if scatter {
        shm::Op::Scatter
    } else {
        shm::Op::Gather
    };
    let blk = shm::block_bytes(mine, blocks);
    let Some(c) = region(t, blk, Some(op))? else {
        return Ok(false);
    };
    if scatter {
        shm::scatter(&c, t.engine, root, mine, blocks, own)?;
    } else {
        shm::gather(&c, t.engine, root, mine, blocks, own)?;
    }
    Ok(true)
}

pub(super) fn allgather(t: &Team, mine: Option<&Data>, blocks: &[Data]) -> Result<bool, MpiError> {
    let blk = shm::block_bytes(mine, blocks);
    let Some(c) = region(t, blk, Some(shm::Op::Allgather))? else {
        return Ok(false);
    };
    shm::allgather(&c, t.engine, mine, blocks)?;
    Ok(true)
}

/// A regular alltoall (`sends` None: in place).
pub(super) fn alltoall(t: &Team, sends: Option<&[Data]>, recvs: &[Data]) -> Result<bool, MpiError> {
    let blk = recvs.first().map_or(0, |b| b.bytes());
    let Some(c) = region(t, blk, Some(shm::Op::Alltoall))? else {
        return Ok(false);
    };
    shm::alltoall(&c, t.engine, sends, recvs)?;
    Ok(true)
}
