//! Window synchronization: fence, post/start/complete/wait (PSCW), passive-target locks,
//! flushes and MPI_Win_sync.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

/// The window ranks of the processes of group handle `group`.
fn group_ranks(w: &Win, group: c_int) -> Result<Vec<usize>, MpiError> {
    let g = crate::abi::group::get(group, "group")?;
    sync::ranks_of(w, &g.procs)
}

/// A rank argument of the lock/flush calls (MPI_PROC_NULL: nothing to do).
fn sync_rank(w: &Win, rank: c_int) -> Result<Option<usize>, MpiError> {
    if rank == PROC_NULL {
        return Ok(None);
    }
    if rank < 0 || rank as usize >= w.size_of_group() {
        return Err(MpiError::arg(
            class::ERR_RANK,
            "rank",
            format!(
                "invalid rank {rank} (window group size {})",
                w.size_of_group()
            ),
        ));
    }
    Ok(Some(rank as usize))
}

mpi_fn!(MPI_Win_fence, PMPI_Win_fence, (assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::fence(&w, assert)
});

mpi_fn!(MPI_Win_post, PMPI_Win_post, (group: c_int, assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    let ranks = group_ranks(&w, group)?;
    sync::post(&w, ranks, assert)
});

mpi_fn!(MPI_Win_start, PMPI_Win_start, (group: c_int, assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    let ranks = group_ranks(&w, group)?;
    sync::start(&w, ranks, assert)
});

mpi_fn!(MPI_Win_complete, PMPI_Win_complete, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::complete(&w)
});

mpi_fn!(MPI_Win_wait, PMPI_Win_wait, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::wait(&w)
});

mpi_fn!(MPI_Win_test, PMPI_Win_test, (win: c_int, flag: *mut c_int), |ctx| {
    let w = get(ctx, win)?;
    let done = sync::test(&w)?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, done as c_int, "flag") }
});

mpi_fn!(MPI_Win_lock, PMPI_Win_lock, (lock_type: c_int, rank: c_int, assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    if lock_type != sync::LOCK_EXCLUSIVE_C && lock_type != sync::LOCK_SHARED_C {
        return Err(MpiError::arg(class::ERR_LOCKTYPE, "lock_type", format!("invalid lock type {lock_type}")));
    }
    match sync_rank(&w, rank)? {
        Some(r) => sync::lock(&w, lock_type, r, assert),
        None => Ok(()),
    }
});

mpi_fn!(MPI_Win_unlock, PMPI_Win_unlock, (rank: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    match sync_rank(&w, rank)? {
        Some(r) => sync::unlock(&w, r),
        None => Ok(()),
    }
});

mpi_fn!(MPI_Win_lock_all, PMPI_Win_lock_all, (assert: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::lock_all(&w, assert)
});

mpi_fn!(MPI_Win_unlock_all, PMPI_Win_unlock_all, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::unlock_all(&w)
});

mpi_fn!(MPI_Win_flush, PMPI_Win_flush, (rank: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    match sync_rank(&w, rank)? {
        Some(r) => sync::flush(&w, Some(r)),
        None => Ok(()),
    }
});

mpi_fn!(MPI_Win_flush_all, PMPI_Win_flush_all, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::flush(&w, None)
});

mpi_fn!(MPI_Win_flush_local, PMPI_Win_flush_local, (rank: c_int, win: c_int), |ctx| {
    let w = get(ctx, win)?;
    match sync_rank(&w, rank)? {
        Some(r) => sync::flush_local(&w, Some(r)),
        None => Ok(()),
    }
});

mpi_fn!(MPI_Win_flush_local_all, PMPI_Win_flush_local_all, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::flush_local(&w, None)
});

mpi_fn!(MPI_Win_sync, PMPI_Win_sync, (win: c_int), |ctx| {
    let w = get(ctx, win)?;
    sync::sync(&w)
});
