//! Making new communicators from existing ones: agreeing on a context id and building the
//! group. The C surface (and topologies) build every intracommunicator constructor on
//! `split`.

use super::comm::Comm;
use super::context::STRIDE;
use super::group::Group;
use crate::coll::internal;
use crate::error::MpiError;
use crate::runtime;
use std::sync::Arc;

/// Agrees with every member of `parent` on a context id free in all of them, and takes it.
/// Collective over `parent`. Several communicators with disjoint groups made by one call
/// (MPI_Comm_split) share the id, as their traffic never meets.
pub fn agree_context(parent: &Comm) -> Result<u32, MpiError> {
    let rt = runtime::rt()?;
    let mut floor = 0;
    loop {
        let mine = rt.contexts.lock().lowest_free(floor);
        let c = internal::allreduce_max_u32(parent, mine)?;
        let took = rt.contexts.lock().try_take(c);
        // 1 = somebody could not take it: everyone releases and tries above it.
        let failed = internal::allreduce_max_u32(parent, (!took) as u32)?;
        if failed == 0 {
            return Ok(c);
        }
        if took {
            rt.contexts.lock().release(c);
        }
        floor = c + STRIDE;
    }
}

/// Gives a context id back when its communicator is freed.
pub fn release_context(c: u32) {
    if let Ok(rt) = runtime::rt() {
        rt.contexts.lock().release(c);
    }
}

/// MPI_Comm_split on an intracommunicator: ranks with the same `color` form a new
/// communicator ordered by (`key`, parent rank); a negative color (MPI_UNDEFINED) gets None.
/// Collective over `parent`.
pub fn split(parent: &Comm, color: i32, key: i32) -> Result<Option<Comm>, MpiError> {
    let mut mine = [0u8; 8];
    mine[..4].copy_from_slice(&color.to_le_bytes());
    mine[4..].copy_from_slice(&key.to_le_bytes());
    let all = internal::allgather(parent, &mine)?;
    let ctx = agree_context(parent)?;
    if color < 0 {
        release_context(ctx);
        return Ok(None);
    }
    let mut members: Vec<(i32, usize)> = all
        .chunks_exact(8)
        .enumerate()
        .filter_map(|(r, c)| {
            let col = i32::from_le_bytes(c[..4].try_into().expect("4 bytes"));
            let k = i32::from_le_bytes(c[4..].try_into().expect("4 bytes"));
            (col == color).then_some((k, r))
        })
        .collect();
    members.sort();
    let me = parent.rank as usize;
    let rank = members
        .iter()
        .position(|&(_, r)| r == me)
        .expect("own rank is a member") as u32;
    let procs = members
        .iter()
        .map(|&(_, r)| parent.group.proc_of(r))
        .collect();
    Ok(Some(Comm::new(ctx, rank, Arc::new(Group::new(procs)), "")))
}

/// MPI_Comm_dup: same group, new context. Collective over `parent`.
pub fn dup(parent: &Comm) -> Result<Comm, MpiError> {
    let ctx = agree_context(parent)?;
    Ok(Comm::new(ctx, parent.rank, parent.group.clone(), ""))
}
