//! Synchronization: fence, post/start/complete/wait/test (PSCW), and passive target
//! (lock/unlock, lock_all/unlock_all, flush*, sync).

use super::origin::{self, acknowledged, dirty_targets, wait_replies, Fence};
use super::win::Win;
use super::wire::{kind, Request, LOCK_EXCLUSIVE, LOCK_SHARED};
use crate::coll::internal;
use crate::error::{class, MpiError};
use crate::p2p::{Data, RecvArgs, TypeKeep};
use crate::transport::mem::UserPtr;
use std::sync::atomic::Ordering;

/// MPI_MODE_* assertion bits.
pub mod mode {
    pub const NOCHECK: i32 = 1024;
    pub const NOSTORE: i32 = 2048;
    pub const NOPUT: i32 = 4096;
    pub const NOPRECEDE: i32 = 8192;
    pub const NOSUCCEED: i32 = 16384;
}

/// MPI_LOCK_EXCLUSIVE / MPI_LOCK_SHARED.
pub const LOCK_EXCLUSIVE_C: i32 = 234;
pub const LOCK_SHARED_C: i32 = 235;

fn sync_error(msg: impl Into<String>) -> MpiError {
    MpiError::new(class::ERR_RMA_SYNC, msg)
}

/// Checks that `assert` uses only the bits `allowed`.
pub fn check_assert(assert: i32, allowed: i32) -> Result<(), MpiError> {
    if assert & !allowed != 0 {
        return Err(MpiError::arg(
            class::ERR_ASSERT,
            "assert",
            format!("invalid assertion {assert:#x} for this call"),
        ));
    }
    Ok(())
}

/// MPI_Win_fence: completes this rank's operations at their targets, then waits for every
/// rank (so theirs on this rank are complete too). Opens the next fence epoch unless
/// MPI_MODE_NOSUCCEED.
pub fn fence(win: &Win, assert: i32) -> Result<(), MpiError> {
    check_assert(
        assert,
        mode::NOSTORE | mode::NOPUT | mode::NOPRECEDE | mode::NOSUCCEED,
    )?;
    {
        let o = win.origin.lock();
        if o.start.is_some() || o.post.is_some() {
            return Err(sync_error("MPI_Win_fence inside a PSCW epoch"));
        }
        if o.lock_all || o.locks.iter().any(|&l| l != 0) {
            return Err(sync_error("MPI_Win_fence inside a passive-target epoch"));
        }
    }
    let r = acknowledged(win, &dirty_targets(win), kind::FLUSH);
    wait_replies(win, None);
    internal::barrier(win.engine(), &win.comm)?;
    win.origin.lock().fence = if assert & mode::NOSUCCEED == 0 {
        Fence::Issued
    } else {
        Fence::Closed
    };
    r
}

/// Ranks of `group_procs` (endpoints) in the window's group.
pub fn ranks_of(win: &Win, group_procs: &[u32]) -> Result<Vec<usize>, MpiError> {
    group_procs
        .iter()
        .map(|&p| {
            win.comm.group.rank_of(p).ok_or_else(|| {
                MpiError::arg(
                    class::ERR_GROUP,
                    "group",
                    "the group has a process that is not in the window's group",
                )
            })
        })
        .collect()
}

/// MPI_Win_post: exposes the window to the origins in `ranks`.
pub fn post(win: &Win, ranks: Vec<usize>, assert: i32) -> Result<(), MpiError> {
    check_assert(assert, mode::NOCHECK | mode::NOSTORE | mode::NOPUT)?;
    let mut o = win.origin.lock();
    if o.post.is_some() {
        return Err(sync_error("an exposure epoch is already open"));
    }
    // Refused after operations in a fence epoch; an unused fence epoch stays open beside
    // the exposure epoch (as in MPICH).
    o.check_fence("MPI_Win_post")?;
    if assert & mode::NOCHECK == 0 {
        for &r in &ranks {
            origin::send(win, &mut o, r, &Request::control(kind::POST, 0))?;
        }
    }
    o.post = Some(ranks);
    Ok(())
}

/// MPI_Win_start: opens an access epoch to the targets in `ranks`, once each has posted.
pub fn start(win: &Win, ranks: Vec<usize>, assert: i32) -> Result<(), MpiError> {
    check_assert(assert, mode::NOCHECK)?;
    {
        let o = win.origin.lock();
        if o.start.is_some() {
            return Err(sync_error(
                "an access epoch (MPI_Win_start) is already open",
            ));
        }
        if o.passive_any() {
            return Err(sync_error("MPI_Win_start inside a passive-target epoch"));
        }
        o.check_fence("MPI_Win_start")?;
    }
    if assert & mode::NOCHECK == 0 {
        let e = win.engine();
        e.wait_until(|_, _| {
            ranks
                .iter()
                .all(|&r| win.posts[r].load(Ordering::Acquire) > 0)
                .then_some(())
        });
        for &r in &ranks {
            win.posts[r].fetch_sub(1, Ordering::AcqRel);
        }
    }
    let mut o = win.origin.lock();
    o.take_over_fence();
    o.start = Some(ranks);
    Ok(())
}

/// MPI_Win_complete: ends the access epoch; the targets learn it after the operations.
pub fn complete(win: &Win) -> Result<(), MpiError> {
    let ranks = win
        .origin
        .lock()
        .start
        .clone()
        .ok_or_else(|| sync_error("MPI_Win_complete without MPI_Win_start"))?;
    // Remote completion (and the errors targets saw) before the targets hear we are done.
    let dirty: Vec<usize> = {
        let o = win.origin.lock();
        ranks.iter().copied().filter(|&r| o.dirty[r]).collect()
    };
    let r = acknowledged(win, &dirty, kind::FLUSH);
    let mut o = win.origin.lock();
    for &t in &ranks {
        origin::send(win, &mut o, t, &Request::control(kind::COMPLETE, 0))?;
    }
    o.start = None;
    r
}

/// True when every origin of the exposure epoch has completed (consumes their COMPLETEs).
fn exposure_done(win: &Win, ranks: &[usize]) -> bool {
    ranks
        .iter()
        .all(|&r| win.completes[r].load(Ordering::Acquire) > 0)
}

fn end_exposure(win: &Win, ranks: &[usize]) {
    for &r in ranks {
        win.completes[r].fetch_sub(1, Ordering::AcqRel);
    }
    win.origin.lock().post = None;
}

/// MPI_Win_wait: ends the exposure epoch once every origin has completed.
pub fn wait(win: &Win) -> Result<(), MpiError> {
    let ranks = win
        .origin
        .lock()
        .post
        .clone()
        .ok_or_else(|| sync_error("MPI_Win_wait without MPI_Win_post"))?;
    let e = win.engine();
    e.wait_until(|_, _| exposure_done(win, &ranks).then_some(()));
    end_exposure(win, &ranks);
    Ok(())
}

/// MPI_Win_test: MPI_Win_wait without blocking.
pub fn test(win: &Win) -> Result<bool, MpiError> {
    let ranks = win
        .origin
        .lock()
        .post
        .clone()
        .ok_or_else(|| sync_error("MPI_Win_test without MPI_Win_post"))?;
    let e = win.engine();
    e.run_pollers();
    {
        let mut st = e.lock();
        e.progress(&mut st);
    }
    e.run_pollers();
    if exposure_done(win, &ranks) {
        end_exposure(win, &ranks);
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Sends LOCK requests to `targets` and waits until each is granted.
fn acquire(win: &Win, targets: &[usize], lock: u8) -> Result<(), MpiError> {
    let e = win.engine();
    let byte = crate::datatype::byte();
    let mut recvs = Vec::with_capacity(targets.len());
    {
        let mut o = win.origin.lock();
        for &t in targets {
            let tag = o.tag();
            recvs.push(e.irecv(RecvArgs {
                ctx: win.comm.context_id,
                src: t as i32,
                tag,
                // The grant is an empty message: no memory to lend.
                data: Data::new(UserPtr::empty(), 0, TypeKeep::Static(byte)),
                owner: 0,
            }));
            let mut req = Request::control(kind::LOCK, tag);
            req.lock = lock;
            origin::send(win, &mut o, t, &req)?;
        }
    }
    for id in recvs {
        e.wait(id);
    }
    Ok(())
}

/// MPI_Win_lock.
pub fn lock(win: &Win, lock_type: i32, target: usize, assert: i32) -> Result<(), MpiError> {
    check_assert(assert, mode::NOCHECK)?;
    let wire_type = match lock_type {
        LOCK_EXCLUSIVE_C => LOCK_EXCLUSIVE,
        LOCK_SHARED_C => LOCK_SHARED,
        _ => {
            return Err(MpiError::arg(
                class::ERR_LOCKTYPE,
                "lock_type",
                format!("{lock_type} is neither MPI_LOCK_EXCLUSIVE nor MPI_LOCK_SHARED"),
            ))
        }
    };
    {
        let o = win.origin.lock();
        if o.locks[target] != 0 || o.lock_all {
            return Err(sync_error(format!("rank {target} is already locked")));
        }
        if o.start.is_some() {
            return Err(sync_error("MPI_Win_lock inside a PSCW access epoch"));
        }
        o.check_fence("MPI_Win_lock")?;
    }
    let nocheck = assert & mode::NOCHECK != 0;
    if !nocheck {
        acquire(win, &[target], wire_type)?;
    }
    let mut o = win.origin.lock();
    o.take_over_fence();
    o.locks[target] = wire_type;
    o.nocheck[target] = nocheck;
    Ok(())
}

/// MPI_Win_unlock: completes the operations to `target` there, then releases the lock.
pub fn unlock(win: &Win, target: usize) -> Result<(), MpiError> {
    let nocheck = {
        let o = win.origin.lock();
        if o.locks[target] == 0 {
            return Err(sync_error(format!("rank {target} is not locked")));
        }
        o.nocheck[target]
    };
    let what = if nocheck { kind::FLUSH } else { kind::UNLOCK };
    let r = acknowledged(win, &[target], what);
    let mut o = win.origin.lock();
    o.locks[target] = 0;
    o.nocheck[target] = false;
    r
}

/// MPI_Win_lock_all: a shared lock on every rank.
pub fn lock_all(win: &Win, assert: i32) -> Result<(), MpiError> {
    check_assert(assert, mode::NOCHECK)?;
    {
        let o = win.origin.lock();
        if o.passive_any() {
            return Err(sync_error("a passive-target epoch is already open"));
        }
        if o.start.is_some() {
            return Err(sync_error("MPI_Win_lock_all inside a PSCW access epoch"));
        }
        o.check_fence("MPI_Win_lock_all")?;
    }
    let nocheck = assert & mode::NOCHECK != 0;
    if !nocheck {
        let all: Vec<usize> = (0..win.size_of_group()).collect();
        acquire(win, &all, LOCK_SHARED)?;
    }
    let mut o = win.origin.lock();
    o.take_over_fence();
    o.lock_all = true;
    o.nocheck.iter_mut().for_each(|n| *n = nocheck);
    Ok(())
}

/// MPI_Win_unlock_all.
pub fn unlock_all(win: &Win) -> Result<(), MpiError> {
    let nocheck = {
        let o = win.origin.lock();
        if !o.lock_all {
            return Err(sync_error("MPI_Win_unlock_all without MPI_Win_lock_all"));
        }
        o.nocheck.first().copied().unwrap_or(false)
    };
    let r = if nocheck {
        acknowledged(win, &dirty_targets(win), kind::FLUSH)
    } else {
        let all: Vec<usize> = (0..win.size_of_group()).collect();
        acknowledged(win, &all, kind::UNLOCK)
    };
    let mut o = win.origin.lock();
    o.lock_all = false;
    o.nocheck.iter_mut().for_each(|n| *n = false);
    r
}

fn check_passive(win: &Win, target: Option<usize>) -> Result<(), MpiError> {
    let o = win.origin.lock();
    let ok = match target {
        Some(t) => o.passive(t),
        None => o.passive_any(),
    };
    if ok {
        Ok(())
    } else {
        Err(sync_error("flush outside a passive-target epoch"))
    }
}

/// MPI_Win_flush / MPI_Win_flush_all (None).
pub fn flush(win: &Win, target: Option<usize>) -> Result<(), MpiError> {
    check_passive(win, target)?;
    let targets = match target {
        Some(t) => vec![t],
        None => dirty_targets(win),
    };
    acknowledged(win, &targets, kind::FLUSH)
}

/// MPI_Win_flush_local / MPI_Win_flush_local_all (None): put and accumulate data left the
/// origin buffer at the call; what remains is the replies of the get family.
pub fn flush_local(win: &Win, target: Option<usize>) -> Result<(), MpiError> {
    check_passive(win, target)?;
    wait_replies(win, target);
    Ok(())
}

/// MPI_Win_sync: the window's memory is plain process memory (unified model), so making
/// this process's stores and the target's updates visible to each other is a full memory
/// barrier; also serve requests that arrived, so the window is up to date.
pub fn sync(win: &Win) -> Result<(), MpiError> {
    let _ = win;
    std::sync::atomic::fence(Ordering::SeqCst);
    let e = win.engine();
    e.run_pollers();
    std::sync::atomic::fence(Ordering::SeqCst);
    Ok(())
}
