//! The collective agreements of the I/O layer, over the file's private communicator
//! (built on `coll::internal`, so they never match user traffic).

use crate::coll::internal;
use crate::error::MpiError;
use crate::object::comm::Comm;
use crate::p2p::NodeEngine;

/// Every rank's `v`, in rank order.
pub fn allgather_u64(e: &NodeEngine, comm: &Comm, v: u64) -> Result<Vec<u64>, MpiError> {
    let all = internal::allgather(e, comm, &v.to_le_bytes())?;
    Ok(all
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

/// Collective success: every rank learns whether all succeeded. A rank that failed keeps
/// its own error; the others fail with the class of the first failing rank, so a
/// collective call fails the same way everywhere instead of leaving some ranks waiting.
pub fn all_ok<T>(e: &NodeEngine, comm: &Comm, r: Result<T, MpiError>) -> Result<T, MpiError> {
    let mine = match &r {
        Ok(_) => 0u64,
        Err(e) => e.class as u32 as u64,
    };
    let all = allgather_u64(e, comm, mine)?;
    if r.is_err() {
        return r;
    }
    match all.iter().position(|&c| c != 0) {
        None => r,
        Some(rank) => Err(MpiError::new(
            all[rank] as i32,
            format!("the collective call failed on rank {rank} of the file's group"),
        )),
    }
}

/// Rank 0's `bytes` on every rank (others pass anything).
pub fn bcast0(e: &NodeEngine, comm: &Comm, bytes: &[u8]) -> Result<Vec<u8>, MpiError> {
    let len = allgather_u64(
        e,
        comm,
        if comm.rank == 0 {
            bytes.len() as u64
        } else {
            0
        },
    )?[0];
    let mut mine = vec![0u8; len as usize];
    if comm.rank == 0 {
        mine.copy_from_slice(bytes);
    }
    let all = internal::allgather(e, comm, &mine)?;
    Ok(all[..len as usize].to_vec())
}

/// Waits until every rank of the file's group has called it.
pub fn barrier(e: &NodeEngine, comm: &Comm) -> Result<(), MpiError> {
    internal::barrier(e, comm)
}
