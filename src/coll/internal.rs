//! Blocking helpers for the library's own agreements on an intracommunicator: gather to
//! rank 0 and broadcast back, on the communicator's collective context with tags at or
//! above `INTERNAL_TAG` (user collectives keep below it). O(n) messages, which is fine for
//! communicator creation; user collectives use the real algorithms. The caller hands the
//! engine in (it has it from the runtime abi gave it, or from the window).

use crate::error::MpiError;
use crate::object::comm::Comm;
use crate::p2p::NodeEngine;

/// Tags from here up on a collective context belong to these helpers.
pub const INTERNAL_TAG: i32 = 1 << 30;
const GATHER_TAG: i32 = INTERNAL_TAG;
const BCAST_TAG: i32 = INTERNAL_TAG + 1;

fn send(e: &NodeEngine, comm: &Comm, to: usize, tag: i32, buf: &[u8]) -> Result<(), MpiError> {
    let ep = comm.group.proc_of(to);
    e.send_bytes(ep, comm.coll_context(), comm.rank as i32, tag, buf)
}

fn recv(
    e: &NodeEngine,
    comm: &Comm,
    from: usize,
    tag: i32,
    buf: &mut [u8],
) -> Result<(), MpiError> {
    e.recv_exact(comm.coll_context(), from as i32, tag, buf)
}

/// Every rank's `mine` (all of length `mine.len()`), in rank order, on every rank.
pub fn allgather(e: &NodeEngine, comm: &Comm, mine: &[u8]) -> Result<Vec<u8>, MpiError> {
    let n = comm.size();
    let each = mine.len();
    let mut all = vec![0u8; each * n];
    if comm.rank == 0 {
        all[..each].copy_from_slice(mine);
        for r in 1..n {
            recv(e, comm, r, GATHER_TAG, &mut all[r * each..(r + 1) * each])?;
        }
        for r in 1..n {
            send(e, comm, r, BCAST_TAG, &all)?;
        }
    } else {
        send(e, comm, 0, GATHER_TAG, mine)?;
        recv(e, comm, 0, BCAST_TAG, &mut all)?;
    }
    Ok(all)
}

/// The largest `v` over the communicator.
pub fn allreduce_max_u32(e: &NodeEngine, comm: &Comm, v: u32) -> Result<u32, MpiError> {
    let all = allgather(e, comm, &v.to_le_bytes())?;
    Ok(all
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .max()
        .unwrap_or(v))
}

/// Waits until every rank has called it.
pub fn barrier(e: &NodeEngine, comm: &Comm) -> Result<(), MpiError> {
    allgather(e, comm, &[]).map(|_| ())
}
