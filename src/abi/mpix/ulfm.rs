//! ULFM's C face: MPICH's MPIX_Comm_* extensions (revoke, shrink, agree, failure_ack,
//! failure_get_acked of MPICH 4.0.2; get_failed, is_revoked, ack_failed, iagree, ishrink of
//! later MPICH and Open MPI) and the MPI_Comm_* names of the MPI 6 draft that mpi4py probes
//! for (MPI_Comm_revoke, ..., with the classes MPI_ERR_REVOKED, MPI_ERR_PROC_FAILED and
//! MPI_ERR_PROC_FAILED_PENDING equal to the MPIX_ ones). Each pair shares one body
//! (`ulfm_fn!`). The mechanisms are `crate::ft`'s. Failures are known only in a
//! fault-tolerant run (`mpiexec -disable-auto-cleanup`, or OXIMPI_FT=1 under hydra's
//! `mpiexec.hydra -disable-auto-cleanup`).
//!
//! On an intercommunicator every call covers both groups: revoke reaches both, agree and
//! shrink run over the union (the flag is the AND over all members, as Open MPI's), the
//! failed group and the acknowledgements cover failed members of either group.
//!
//! Differences from MPICH, each deliberate:
//! * a pending MPI_ANY_SOURCE receive on a communicator with unacknowledged failed members
//!   completes with MPIX_ERR_PROC_FAILED_PENDING (MPICH leaves a nonblocking one pending);
//! * intercommunicators whose groups come from different jobs (spawn, connect) are refused
//!   with MPI_ERR_COMM: their endpoint numbers are private to each process, so the members
//!   could not order the union alike.

#![deny(unsafe_op_in_unsafe_fn)]

use crate::abi::{arg, comm, group, request, Ctx};
use crate::error::{class, MpiError};
use crate::ft::agree::{self, Agreement, Members, Vote};
use crate::ft::shrink::{Shrink, Shrunk};
use crate::ft::steps::{self, Job};
use crate::mpi_fn;
use crate::object::comm::Comm;
use crate::object::group::Group;
use crate::progress::Active;
use crate::runtime::{self, Runtime};
use crate::transport::mem::UserPtr;
use std::os::raw::c_int;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Defines the MPIX_ and the MPI_ name (with their PMPI twins) of one ULFM call.
macro_rules! ulfm_fn {
    ($x:ident, $px:ident, $m:ident, $pm:ident, ($($a:ident : $t:ty),*), |$ctx:ident| $body:block) => {
        mpi_fn!($x, $px, ($($a: $t),*), |$ctx| $body);
        mpi_fn!($m, $pm, ($($a: $t),*), |$ctx| $body);
    };
}

/// Every member of `c` (both groups of an intercommunicator) and my place among them.
fn members(rt: &Runtime, c: &Comm) -> Result<Members, MpiError> {
    let local: Vec<u32> = (0..c.size()).map(|r| c.group.proc_of(r)).collect();
    let (eps, me) = match &c.remote {
        None => (local, c.rank as usize),
        Some(remote) => {
            let remote: Vec<u32> = (0..remote.size()).map(|r| remote.proc_of(r)).collect();
            if local.iter().chain(&remote).any(|&p| p >= rt.size) {
                return Err(MpiError::arg(
                    class::ERR_COMM,
                    "comm",
                    "ULFM on an intercommunicator between jobs is not supported by OxiMPI",
                ));
            }
            let (eps, local_first) = crate::ft::members::union(&local, &remote);
            let me = c.rank as usize + if local_first { 0 } else { remote.len() };
            (eps, me)
        }
    };
    Ok(Members {
        eps,
        me,
        ctx: c.coll_context(),
    })
}

/// The failed members of `c` (endpoints, both groups of an intercommunicator) known now.
fn failed_members(c: &Comm) -> Vec<u32> {
    let mut all: Vec<u32> = (0..c.size()).map(|r| c.group.proc_of(r)).collect();
    if let Some(g) = &c.remote {
        all.extend((0..g.size()).map(|r| g.proc_of(r)));
    }
    all.into_iter()
        .filter(|&p| crate::ft::is_failed(p))
        .collect()
}

/// This call's number among the ULFM calls on `c` (the same on every member).
fn next_call(c: &Comm) -> u32 {
    c.ft.agree_seq.fetch_add(1, Ordering::Relaxed)
}

/// One agreement on `c` with this process's flag, as the first of ULFM call `call`.
fn agreement(rt: &'static Runtime, c: &Comm, flag: u32) -> Result<Agreement, MpiError> {
    let m = members(rt, c)?;
    let failed = m.eps.iter().map(|&p| crate::ft::is_failed(p)).collect();
    let mine = Vote {
        flag,
        value: 0,
        failed,
    };
    Ok(Agreement::new(
        &rt.engine,
        m,
        agree::seq(next_call(c), 0),
        mine,
    ))
}

/// MPICH's rule for agree and shrink: MPIX_ERR_PROC_FAILED when a member failed that the
/// caller has not acknowledged.
fn unacked_failure(c: &Comm, m_eps: &[u32], failed: &[bool]) -> Result<(), MpiError> {
    let acked = c.ft.acked.lock();
    for (r, _) in failed.iter().enumerate().filter(|(_, f)| **f) {
        if !acked.contains(&m_eps[r]) {
            return Err(MpiError::new(
                class::ERR_PROC_FAILED,
                format!("member {r} of the communicator failed (not acknowledged)"),
            ));
        }
    }
    Ok(())
}

/// The communicator of the survivors `s` of `c`, registered; its handle.
fn shrunk_comm(rt: &Runtime, c: &Comm, m: &Members, s: &Shrunk) -> Result<c_int, MpiError> {
    let alive = |eps: &[u32]| -> Vec<u32> {
        eps.iter()
            .filter(|p| {
                m.eps
                    .iter()
                    .position(|q| q == *p)
                    .is_none_or(|i| !s.failed[i])
            })
            .copied()
            .collect()
    };
    let local: Vec<u32> = (0..c.size()).map(|r| c.group.proc_of(r)).collect();
    let mine = alive(&local);
    let me = mine
        .iter()
        .position(|&p| p == c.group.proc_of(c.rank as usize))
        .ok_or_else(|| MpiError::intern("shrink: this process is not among the survivors"))?;
    let n = match &c.remote {
        None => Comm::new(s.context, me as u32, Arc::new(Group::new(mine)), ""),
        Some(g) => {
            let remote: Vec<u32> = (0..g.size()).map(|r| g.proc_of(r)).collect();
            Comm::new_inter(
                s.context,
                me as u32,
                Arc::new(Group::new(mine)),
                Arc::new(Group::new(alive(&remote))),
            )
        }
    };
    crate::comm_build::create::inherit_session(rt, c, s.context);
    *n.errhandler.lock() = c.own_errhandler();
    Ok(comm::register(n))
}

/// Agreements and shrinks in flight (MPIX_Comm_iagree, MPIX_Comm_ishrink).
static IAGREES: Active<Job<Agreement>> = Active::new();
static ISHRINKS: Active<Job<Shrink>> = Active::new();

/// A request completed from the background: its status carries `r`'s error class.
fn complete(rt: &Runtime, req: crate::p2p::ReqId, r: Result<(), MpiError>) {
    let mut status = crate::p2p::Status {
        source: crate::abi::consts::ANY_SOURCE,
        tag: crate::abi::consts::ANY_TAG,
        ..Default::default()
    };
    if let Err(e) = r {
        status.error = e.class;
    }
    rt.engine.set_status(req, status);
    rt.engine.complete_external(req);
}

/// A new request on communicator handle `comm` for a ULFM call run in the background.
fn background_request(rt: &Runtime, comm: c_int) -> crate::p2p::ReqId {
    let req = rt.engine.external(crate::p2p::Kind::Schedule, [0; 4]);
    rt.engine.set_owner(req, comm);
    req
}

ulfm_fn!(MPIX_Comm_agree, PMPIX_Comm_agree, MPI_Comm_agree, PMPI_Comm_agree, (comm: c_int, flag: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    let f = unsafe { arg::read(flag, "flag") }?;
    let rt = runtime::rt()?;
    let mut a = agreement(rt, &c, f as u32)?;
    let eps = members(rt, &c)?.eps;
    let d = steps::run(&rt.engine, &mut a)?;
    // SAFETY: as above.
    unsafe { arg::write(flag, d.flag as c_int, "flag") }?;
    unacked_failure(&c, &eps, &d.failed)
});

ulfm_fn!(MPIX_Comm_iagree, PMPIX_Comm_iagree, MPI_Comm_iagree, PMPI_Comm_iagree, (comm: c_int, flag: *mut c_int, request: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    // SAFETY: `flag` and `request` are the C caller's, null or valid for this use (MPI
    // contract).
    let f = unsafe { arg::read(flag, "flag") }?;
    // SAFETY: as above.
    let mut out = unsafe { arg::out(request, "request") }?;
    let rt = runtime::rt()?;
    let a = agreement(rt, &c, f as u32)?;
    let eps = members(rt, &c)?.eps;
    // SAFETY: MPI's contract: `flag` stays valid until the request completes, when the
    // agreed value is written there (from whichever thread completes it).
    let flag_at = unsafe { UserPtr::new(flag as *const u8) };
    let req = background_request(rt, comm);
    out.set(request::handle_of(req));
    steps::start(&IAGREES, &rt.engine, a, Box::new(move |d: Result<Vote, MpiError>| {
        let Ok(rt) = runtime::rt() else { return };
        let r = d.and_then(|d| {
            flag_at.write(0, &(d.flag as c_int).to_ne_bytes());
            unacked_failure(&c, &eps, &d.failed)
        });
        complete(rt, req, r);
    }));
    Ok(())
});

ulfm_fn!(MPIX_Comm_shrink, PMPIX_Comm_shrink, MPI_Comm_shrink, PMPI_Comm_shrink, (comm: c_int, newcomm: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    // SAFETY: `newcomm` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(newcomm, crate::handle::predefined::COMM_NULL, "newcomm") }?;
    let rt = runtime::rt()?;
    let m = members(rt, &c)?;
    let mut s = Shrink::new(rt, m.clone(), next_call(&c));
    let shrunk = steps::run(&rt.engine, &mut s)?;
    let h = shrunk_comm(rt, &c, &m, &shrunk)?;
    // SAFETY: as above.
    unsafe { arg::write(newcomm, h, "newcomm") }
});

ulfm_fn!(MPIX_Comm_ishrink, PMPIX_Comm_ishrink, MPI_Comm_ishrink, PMPI_Comm_ishrink, (comm: c_int, newcomm: *mut c_int, request: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    // SAFETY: `newcomm` and `request` are the C caller's, null or valid for this use (MPI
    // contract).
    unsafe { arg::write(newcomm, crate::handle::predefined::COMM_NULL, "newcomm") }?;
    // SAFETY: as above.
    let mut out = unsafe { arg::out(request, "request") }?;
    let rt = runtime::rt()?;
    let m = members(rt, &c)?;
    let s = Shrink::new(rt, m.clone(), next_call(&c));
    // SAFETY: MPI's contract: `newcomm` stays valid until the request completes, when the
    // new communicator's handle is written there (as Open MPI's MPIX_Comm_ishrink does).
    let newcomm_at = unsafe { UserPtr::new(newcomm as *const u8) };
    let req = background_request(rt, comm);
    out.set(request::handle_of(req));
    steps::start(&ISHRINKS, &rt.engine, s, Box::new(move |r: Result<Shrunk, MpiError>| {
        let Ok(rt) = runtime::rt() else { return };
        let r = r.and_then(|s| shrunk_comm(rt, &c, &m, &s)).map(|h| {
            newcomm_at.write(0, &h.to_ne_bytes());
        });
        complete(rt, req, r);
    }));
    Ok(())
});

ulfm_fn!(MPIX_Comm_revoke, PMPIX_Comm_revoke, MPI_Comm_revoke, PMPI_Comm_revoke, (comm: c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    let rt = runtime::rt()?;
    let m = members(rt, &c)?;
    crate::ft::revoke::revoke(&rt.engine, c.context_id, &m.eps, m.me);
    crate::ft::members::sweep(&rt.engine, crate::ft::acked_all);
    Ok(())
});

ulfm_fn!(MPIX_Comm_is_revoked, PMPIX_Comm_is_revoked, MPI_Comm_is_revoked, PMPI_Comm_is_revoked, (comm: c_int, flag: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    // SAFETY: `flag` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(flag, crate::ft::is_revoked(c.context_id) as c_int, "flag") }
});

/// Acknowledges `failed` (endpoints) on `c`, in addition to what it acknowledged before.
fn ack(c: &Comm, failed: &[u32]) -> usize {
    let mut acked = c.ft.acked.lock();
    for &p in failed {
        if !acked.contains(&p) {
            acked.push(p);
        }
    }
    crate::ft::set_acked(c.context_id, &acked);
    acked.len()
}

mpi_fn!(MPIX_Comm_failure_ack, PMPIX_Comm_failure_ack, (comm: c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    ack(&c, &failed_members(&c));
    Ok(())
});

/// MPIX_Comm_ack_failed (MPICH 4.2, Open MPI 5) / MPI_Comm_ack_failed: acknowledges the
/// first `num_to_ack` members of the failed group (the order MPIX_Comm_get_failed gives),
/// and returns how many failures are acknowledged in all. `num_to_ack` may exceed the
/// number of failures (everything is acknowledged) but not the communicator's size (Open
/// MPI's check; MPI_ERR_ARG).
fn ack_failed(
    ctx: &mut Ctx,
    comm: c_int,
    num_to_ack: c_int,
    num_acked: *mut c_int,
) -> Result<(), MpiError> {
    let c = comm::get(ctx, comm)?;
    // SAFETY: `num_acked` is the C caller's, null or valid for this use (MPI contract).
    let mut out = unsafe { arg::out(num_acked, "num_acked") }?;
    let size = c.size() + c.remote.as_ref().map_or(0, |g| g.size());
    if num_to_ack < 0 || num_to_ack as usize > size {
        return Err(MpiError::arg(
            class::ERR_ARG,
            "num_to_ack",
            format!("{num_to_ack} is not between 0 and the communicator's size {size}"),
        ));
    }
    let failed = failed_members(&c);
    let take = failed.len().min(num_to_ack as usize);
    let n = ack(&c, &failed[..take]);
    out.set(n as c_int);
    Ok(())
}

ulfm_fn!(MPIX_Comm_ack_failed, PMPIX_Comm_ack_failed, MPI_Comm_ack_failed, PMPI_Comm_ack_failed, (comm: c_int, num_to_ack: c_int, num_acked: *mut c_int), |ctx| {
    ack_failed(ctx, comm, num_to_ack, num_acked)
});

mpi_fn!(MPIX_Comm_failure_get_acked, PMPIX_Comm_failure_get_acked, (comm: c_int, failedgrp: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
    let acked = c.ft.acked.lock().clone();
    // SAFETY: `failedgrp` is the C caller's, null or valid for this use (MPI contract).
    unsafe { arg::write(failedgrp, group::handle_of(Group::new(acked)), "failedgrp") }
});

ulfm_fn!(MPIX_Comm_get_failed, PMPIX_Comm_get_failed, MPI_Comm_get_failed, PMPI_Comm_get_failed, (comm: c_int, failedgrp: *mut c_int), |ctx| {
    let c = comm::get(ctx, comm)?;
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
    "MPIX_Comm_ishrink",
    "MPIX_Comm_agree",
    "MPIX_Comm_iagree",
    "MPIX_Comm_failure_ack",
    "MPIX_Comm_ack_failed",
    "MPIX_Comm_failure_get_acked",
    "MPIX_Comm_get_failed",
    "MPI_Comm_revoke",
    "MPI_Comm_is_revoked",
    "MPI_Comm_shrink",
    "MPI_Comm_ishrink",
    "MPI_Comm_agree",
    "MPI_Comm_iagree",
    "MPI_Comm_ack_failed",
    "MPI_Comm_get_failed",
    "MPI_Comm_free",
    "MPI_Comm_disconnect",
    "MPI_Comm_compare",
    "MPI_Comm_call_errhandler",
];
