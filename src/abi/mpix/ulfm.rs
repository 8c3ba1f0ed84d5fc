//! ULFM, as MPICH's MPIX_Comm_* extensions: revoke, shrink, agree, failure_ack,
//! failure_get_acked (MPICH 4.0.2), and get_failed / is_revoked (later MPICH's names).
//! The mechanisms are `crate::ft`'s; this is their C face. Failures are known only in a
//! fault-tolerant run (`mpiexec -disable-auto-cleanup`, or OXIMPI_FT=1 under hydra's
//! `mpiexec.hydra -disable-auto-cleanup`).
//!
//! Differences from MPICH, each deliberate:
//! * a pending MPI_ANY_SOURCE receive on a communicator with unacknowledged failed members
//!   completes with MPIX_ERR_PROC_FAILED_PENDING (MPICH leaves a nonblocking one pending);
//! * intercommunicators are refused with MPI_ERR_COMM (MPICH supports them for revoke).

#![deny(unsafe_op_in_unsafe_fn)]

use crate::abi::{arg, comm, group};
use crate::error::{class, MpiError};
use crate::ft::{self, agree};
use crate::mpi_fn;
use crate::object::comm::Comm;
use crate::object::group::Group;
use crate::runtime::{self, Runtime};
use std::os::raw::c_int;
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn intra(c: &Comm) -> Result<(), MpiError> {
    if c.is_inter() {
        return Err(MpiError::arg(
            class::ERR_COMM,
            "comm",
            "intercommunicators are not supported by OxiMPI's ULFM",
        ));
    }
    Ok(())
}

fn eps(c: &Comm) -> Vec<u32> {
    (0..c.size()).map(|r| c.group.proc_of(r)).collect()
}

/// Runs one agreement on `c` with this process's flag and value.
fn run_agree(rt: &Runtime, c: &Comm, flag: u32, value: u32) -> Result<agree::Vote, MpiError> {
    let eps = eps(c);
    let m = agree::Members {
        eps: &eps,
        me: c.rank as usize,
        ctx: c.coll_context(),
    };
    let seq = c.ft.agree_seq.fetch_add(1, Ordering::Relaxed);
    let mine = agree::Vote {
        flag,
        value,
        failed: eps.iter().map(|&p| ft::is_failed(p)).collect(),
    };
    agree::agree(&rt.engine, &m, seq, mine, ft::is_failed)
}

/// The failed members of `c` (endpoints, in rank order) known now.
fn failed_members(c: &Comm) -> Vec<u32> {
    eps(c).into_iter().filter(|&p| ft::is_failed(p)).collect()
}

/// MPICH's rule for agree and shrink: MPIX_ERR_PROC_FAILED when a member failed that the
/// caller has not acknowledged.
fn unacked_failure(c: &Comm, failed: &[bool]) -> Result<(), MpiError> {
    let acked = c.ft.acked.lock();
    let eps = eps(c);
    for (r, _) in failed.iter().enumerate().filter(|(_, f)| **f) {
        if !acked.contains(&eps[r]) {
            return Err(MpiError::new(
                class::ERR_PROC_FAILED,
                format!("rank {r} of the communicator failed (not acknowledged)"),
            ));
        }
    }
    Ok(())
}

mpi_fn!(MPIX_Comm_agree, PMPIX_Comm_agree, (comm: c_int, flag: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    intra(&c)?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    let f = unsafe { arg::read(flag, "flag") }?;
    let rt = runtime::rt()?;
    let d = run_agree(rt, &c, f as u32, 0)?;
    // SAFETY: as above.
    unsafe { arg::write(flag, d.flag as c_int, "flag") }?;
    unacked_failure(&c, &d.failed)
});

mpi_fn!(MPIX_Comm_shrink, PMPIX_Comm_shrink, (comm: c_int, newcomm: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    intra(&c)?;
    // SAFETY: `newcomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newcomm, crate::handle::predefined::COMM_NULL, "newcomm") }?;
    let rt = runtime::rt()?;
    let all = eps(&c);
    let mut floor = 0;
    // Two agreements per try, as comm_build::create's context agreement but fault
    // tolerant: the survivors and the largest lowest-free context id, then whether every
    // survivor could take it.
    let (ctx_id, survivors) = loop {
        let mine = rt.contexts.lock().lowest_free(floor);
        let d = run_agree(rt, &c, 1, mine)?;
        let cid = crate::object::context::agreed(d.value)?;
        let took = rt.contexts.lock().try_take(cid);
        let ok = run_agree(rt, &c, took as u32, 0)?;
        if ok.flag == 1 {
            let survivors: Vec<u32> =
                all.iter().zip(&d.failed).filter(|(_, f)| !**f).map(|(p, _)| *p).collect();
            break (cid, survivors);
        }
        if took {
            rt.contexts.lock().release(cid);
        }
        floor = cid + crate::object::context::STRIDE;
    };
    let me = survivors.iter().position(|&p| p == rt.rank).ok_or_else(|| {
        MpiError::intern("shrink: this process is not among the survivors")
    })?;
    let n = Comm::new(ctx_id, me as u32, Arc::new(Group::new(survivors)), "");
    crate::comm_build::create::inherit_session(rt, &c, ctx_id);
    *n.errhandler.lock() = c.own_errhandler();
    let h = comm::register(n);
    // SAFETY: as above.
    unsafe { arg::write(newcomm, h, "newcomm") }
});

mpi_fn!(MPIX_Comm_revoke, PMPIX_Comm_revoke, (comm: c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    intra(&c)?;
    let rt = runtime::rt()?;
    ft::revoke::revoke(&rt.engine, c.context_id, &eps(&c), c.rank as usize);
    ft::members::sweep(&rt.engine, ft::acked_all);
    Ok(())
});

mpi_fn!(MPIX_Comm_is_revoked, PMPIX_Comm_is_revoked, (comm: c_int, flag: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, ft::is_revoked(c.context_id) as c_int, "flag") }
});

mpi_fn!(MPIX_Comm_failure_ack, PMPIX_Comm_failure_ack, (comm: c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    intra(&c)?;
    let failed = failed_members(&c);
    ft::set_acked(c.context_id, &failed);
    *c.ft.acked.lock() = failed;
    Ok(())
});

mpi_fn!(MPIX_Comm_failure_get_acked, PMPIX_Comm_failure_get_acked, (comm: c_int, failedgrp: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    intra(&c)?;
    let acked = c.ft.acked.lock().clone();
    // SAFETY: `failedgrp` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(failedgrp, group::handle_of(Group::new(acked)), "failedgrp") }
});

mpi_fn!(MPIX_Comm_get_failed, PMPIX_Comm_get_failed, (comm: c_int, failedgrp: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    intra(&c)?;
    // SAFETY: `failedgrp` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(failedgrp, group::handle_of(Group::new(failed_members(&c))), "failedgrp") }
});

/// What a revoked communicator still allows besides the local calls (the ones
/// `abi::comm::LOCAL_ON_PENDING` lists): the fault-tolerance calls, freeing, and the other
/// calls that only read or act locally.
pub(crate) const REVOKE_EXEMPT: &[&str] = &[
    "MPIX_Comm_revoke",
    "MPIX_Comm_is_revoked",
    "MPIX_Comm_shrink",
    "MPIX_Comm_agree",
    "MPIX_Comm_failure_ack",
    "MPIX_Comm_failure_get_acked",
    "MPIX_Comm_get_failed",
    "MPI_Comm_free",
    "MPI_Comm_disconnect",
    "MPI_Comm_compare",
    "MPI_Comm_call_errhandler",
];
