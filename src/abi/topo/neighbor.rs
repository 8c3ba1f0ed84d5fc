//! Neighbourhood collectives (MPI_Neighbor_* / MPI_Ineighbor_* / MPI_Neighbor_*_init and
//! their `_c` forms): check the arguments against the communicator's topology, describe
//! one buffer per neighbour slot, and hand the exchange to `crate::topo::neighbor`.

#![deny(unsafe_op_in_unsafe_fn)]

use super::super::coll::{coll3, How};
use super::super::consts::IN_PLACE;
use super::super::pt2pt::data;
use super::super::request::handle_of;
use super::super::{arg, comm, datatype, Ctx};
use super::topology;
use crate::error::{class, MpiError};
use crate::p2p::Data;
use crate::runtime;
use crate::topo::neighbor::{persistent, Exchange};
use crate::topo::Neighbors;
use std::os::raw::{c_int, c_void};

type Count = i64;
type Aint = isize;

/// Runs the exchange as the call says: now, as a nonblocking request, or as a persistent
/// one.
fn run(how: How, ex: Exchange, owner: c_int) -> Result<(), MpiError> {
    let e = &runtime::rt()?.engine;
    match how {
        How::Block => ex.run(),
        How::Nonblock(mut req) => {
            let id = ex.start()?;
            e.set_owner(id, owner);
            req.set(handle_of(id));
            Ok(())
        }
        How::Persist(mut req) => {
            req.set(handle_of(persistent(ex, owner)?));
            Ok(())
        }
    }
}

/// An integer array argument of a C call, whatever its element type.
trait Ints: Copy {
    /// The `n` elements as i64.
    ///
    /// # Safety
    /// `self` is null or the C caller's array of at least `n` elements.
    unsafe fn ints(self, n: usize, arg: &str) -> Result<Vec<i64>, MpiError>;
}

impl Ints for *const c_int {
    unsafe fn ints(self, n: usize, arg: &str) -> Result<Vec<i64>, MpiError> {
        // SAFETY: `self` is the C caller's, null or valid for this use (MPI contract).
        Ok(unsafe { arg::slice(self, n, arg) }?
            .iter()
            .map(|&x| x as i64)
            .collect())
    }
}
impl Ints for *const Count {
    unsafe fn ints(self, n: usize, arg: &str) -> Result<Vec<i64>, MpiError> {
        // SAFETY: `self` is the C caller's, null or valid for this use (MPI contract).
        Ok(unsafe { arg::slice(self, n, arg) }?.to_vec())
    }
}
impl Ints for *const Aint {
    unsafe fn ints(self, n: usize, arg: &str) -> Result<Vec<i64>, MpiError> {
        // SAFETY: `self` is the C caller's, null or valid for this use (MPI contract).
        Ok(unsafe { arg::slice(self, n, arg) }?
            .iter()
            .map(|&x| x as i64)
            .collect())
    }
}

/// Everything a neighbourhood call needs from its communicator.
struct Setup {
    comm: comm::CommRef,
    owner: c_int,
    nb: Neighbors,
}

/// One (count, datatype) pair of a call, checked before the topology is looked at:
/// `None` for the count of a `v`/`w` form (its counts are per neighbour).
type Block<'a> = (Option<Count>, c_int, &'a str, &'a str);

/// The argument checks MPICH makes before the call reaches the topology (its generated
/// MPIR_ERRTEST_COUNT / MPIR_ERRTEST_DATATYPE, after the communicator): a negative count
/// or a null, freed or forged datatype is reported as such even on a communicator
/// without a topology (MPI_ERR_TOPOLOGY comes only after them).
fn check_blocks(blocks: &[Block]) -> Result<(), MpiError> {
    for &(count, dt, count_arg, type_arg) in blocks {
        if let Some(n) = count.filter(|&n| n < 0) {
            return Err(MpiError::arg(
                class::ERR_COUNT,
                count_arg,
                format!("negative count {n}"),
            ));
        }
        datatype::get(dt, type_arg)?;
    }
    Ok(())
}

impl Setup {
    /// Checks the communicator, then `blocks` (see [`check_blocks`]), then the topology.
    fn new(
        ctx: &mut Ctx,
        h: c_int,
        sendbuf: *const c_void,
        blocks: &[Block],
    ) -> Result<Setup, MpiError> {
        let c = super::intracomm(ctx, h)?;
        check_blocks(blocks)?;
        let t = topology(&c)?;
        let nb = t.neighbors(c.rank);
        if sendbuf as usize == IN_PLACE {
            return Err(MpiError::arg(
                class::ERR_BUFFER,
                "sendbuf",
                "MPI_IN_PLACE is not allowed in neighbourhood collectives",
            ));
        }
        Ok(Setup {
            comm: c,
            owner: h,
            nb,
        })
    }

    fn indegree(&self) -> usize {
        self.nb.sources.len()
    }

    fn outdegree(&self) -> usize {
        self.nb.destinations.len()
    }

    /// Runs the exchange of `send` and `recv` as `how` says.
    fn finish(self, send: Vec<Data>, recv: Vec<Data>, how: How) -> Result<(), MpiError> {
        let engine = &runtime::rt()?.engine;
        let ex = Exchange::new(engine, &self.comm, self.owner, &self.nb, send, recv)?;
        run(how, ex, self.owner)
    }
}

/// `d` moved by `bytes`.
fn shifted(d: &Data, bytes: i64) -> Data {
    let mut x = d.clone();
    x.ptr = x.ptr.offset(bytes);
    x
}

/// Describes `count` elements of `dt` at `buf` displaced by `disp` extents of `dt`.
fn block(buf: *const c_void, count: Count, dt: c_int, disp: i64) -> Result<Data, MpiError> {
    let d = data(buf, count, dt)?;
    let ext = d.dt.extent();
    Ok(shifted(&d, disp * ext))
}

/// Consecutive blocks of `count` elements: slot i at i·count extents.
fn blocks(buf: *const c_void, count: Count, dt: c_int, n: usize) -> Result<Vec<Data>, MpiError> {
    let d = data(buf, count, dt)?;
    let stride = count * d.dt.extent();
    Ok((0..n).map(|i| shifted(&d, i as i64 * stride)).collect())
}

/// Blocks given by per-slot counts and displacements (in extents of `dt`).
fn vblocks(
    buf: *const c_void,
    counts: &[i64],
    displs: &[i64],
    dt: c_int,
) -> Result<Vec<Data>, MpiError> {
    counts
        .iter()
        .zip(displs)
        .map(|(&c, &d)| block(buf, c, dt, d))
        .collect()
}

/// Blocks with per-slot counts, byte displacements and datatypes (the `w` forms).
fn wblocks(
    buf: *const c_void,
    counts: &[i64],
    displs: &[i64],
    types: &[c_int],
) -> Result<Vec<Data>, MpiError> {
    counts
        .iter()
        .zip(displs)
        .zip(types)
        .map(|((&c, &d), &t)| super::super::pt2pt::data_at(buf, d, c, t))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn allgather(
    ctx: &mut Ctx,
    sendbuf: *const c_void,
    sendcount: Count,
    sendtype: c_int,
    recvbuf: *mut c_void,
    recvcount: Count,
    recvtype: c_int,
    comm: c_int,
    how: How,
) -> Result<(), MpiError> {
    let checks = [
        (Some(sendcount), sendtype, "sendcount", "sendtype"),
        (Some(recvcount), recvtype, "recvcount", "recvtype"),
    ];
    let s = Setup::new(ctx, comm, sendbuf, &checks)?;
    let one = data(sendbuf, sendcount, sendtype)?;
    let send = vec![one; s.outdegree()];
    let recv = blocks(recvbuf, recvcount, recvtype, s.indegree())?;
    s.finish(send, recv, how)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn allgatherv(
    ctx: &mut Ctx,
    sendbuf: *const c_void,
    sendcount: Count,
    sendtype: c_int,
    recvbuf: *mut c_void,
    recvcounts: impl Ints,
    displs: impl Ints,
    recvtype: c_int,
    comm: c_int,
    how: How,
) -> Result<(), MpiError> {
    let checks = [
        (Some(sendcount), sendtype, "sendcount", "sendtype"),
        (None, recvtype, "recvcounts", "recvtype"),
    ];
    let s = Setup::new(ctx, comm, sendbuf, &checks)?;
    let one = data(sendbuf, sendcount, sendtype)?;
    let send = vec![one; s.outdegree()];
    let n = s.indegree();
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rc = unsafe { recvcounts.ints(n, "recvcounts") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rd = unsafe { displs.ints(n, "displs") }?;
    let recv = vblocks(recvbuf, &rc, &rd, recvtype)?;
    s.finish(send, recv, how)
}

#[allow(clippy::too_many_arguments)]
fn alltoall(
    ctx: &mut Ctx,
    sendbuf: *const c_void,
    sendcount: Count,
    sendtype: c_int,
    recvbuf: *mut c_void,
    recvcount: Count,
    recvtype: c_int,
    comm: c_int,
    how: How,
) -> Result<(), MpiError> {
    let checks = [
        (Some(sendcount), sendtype, "sendcount", "sendtype"),
        (Some(recvcount), recvtype, "recvcount", "recvtype"),
    ];
    let s = Setup::new(ctx, comm, sendbuf, &checks)?;
    let send = blocks(sendbuf, sendcount, sendtype, s.outdegree())?;
    let recv = blocks(recvbuf, recvcount, recvtype, s.indegree())?;
    s.finish(send, recv, how)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn alltoallv(
    ctx: &mut Ctx,
    sendbuf: *const c_void,
    sendcounts: impl Ints,
    sdispls: impl Ints,
    sendtype: c_int,
    recvbuf: *mut c_void,
    recvcounts: impl Ints,
    rdispls: impl Ints,
    recvtype: c_int,
    comm: c_int,
    how: How,
) -> Result<(), MpiError> {
    let checks = [
        (None, sendtype, "sendcounts", "sendtype"),
        (None, recvtype, "recvcounts", "recvtype"),
    ];
    let s = Setup::new(ctx, comm, sendbuf, &checks)?;
    let (no, ni) = (s.outdegree(), s.indegree());
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let sc = unsafe { sendcounts.ints(no, "sendcounts") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let sd = unsafe { sdispls.ints(no, "sdispls") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rc = unsafe { recvcounts.ints(ni, "recvcounts") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rd = unsafe { rdispls.ints(ni, "rdispls") }?;
    let send = vblocks(sendbuf, &sc, &sd, sendtype)?;
    let recv = vblocks(recvbuf, &rc, &rd, recvtype)?;
    s.finish(send, recv, how)
}

/// # Safety
/// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
#[allow(clippy::too_many_arguments)]
unsafe fn alltoallw(
    ctx: &mut Ctx,
    sendbuf: *const c_void,
    sendcounts: impl Ints,
    sdispls: *const Aint,
    sendtypes: *const c_int,
    recvbuf: *mut c_void,
    recvcounts: impl Ints,
    rdispls: *const Aint,
    recvtypes: *const c_int,
    comm: c_int,
    how: How,
) -> Result<(), MpiError> {
    let s = Setup::new(ctx, comm, sendbuf, &[])?;
    let (no, ni) = (s.outdegree(), s.indegree());
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let sc = unsafe { sendcounts.ints(no, "sendcounts") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let sd = unsafe { sdispls.ints(no, "sdispls") }?;
    // SAFETY: `sendtypes` is the C caller's, null or valid for this use (MPI contract).
    let st = unsafe { arg::slice(sendtypes, no, "sendtypes") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rc = unsafe { recvcounts.ints(ni, "recvcounts") }?;
    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
    let rd = unsafe { rdispls.ints(ni, "rdispls") }?;
    // SAFETY: `recvtypes` is the C caller's, null or valid for this use (MPI contract).
    let rt = unsafe { arg::slice(recvtypes, ni, "recvtypes") }?;
    let send = wblocks(sendbuf, &sc, &sd, st)?;
    let recv = wblocks(recvbuf, &rc, &rd, rt)?;
    s.finish(send, recv, how)
}

// ---------------------------------------------------------------------------------------
// The C entry points: blocking, nonblocking and persistent (`coll3!`), each with int and
// MPI_Count counts.

macro_rules! allgather_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcount: $cnt, recvtype: c_int, comm: c_int),
            |ctx, how| {
                allgather(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, how)
            });
    };
}
allgather_fns!(
    MPI_Neighbor_allgather,
    PMPI_Neighbor_allgather,
    MPI_Ineighbor_allgather,
    PMPI_Ineighbor_allgather,
    MPI_Neighbor_allgather_init,
    PMPI_Neighbor_allgather_init,
    c_int
);
allgather_fns!(
    MPI_Neighbor_allgather_c,
    PMPI_Neighbor_allgather_c,
    MPI_Ineighbor_allgather_c,
    PMPI_Ineighbor_allgather_c,
    MPI_Neighbor_allgather_init_c,
    PMPI_Neighbor_allgather_init_c,
    Count
);

macro_rules! allgatherv_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcounts: *const $cnt, displs: *const $disp, recvtype: c_int, comm: c_int),
            |ctx, how| {
                // SAFETY: the arrays are the C caller's, of one entry per source (MPI
                // contract).
                unsafe { allgatherv(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcounts, displs, recvtype, comm, how) }
            });
    };
}
allgatherv_fns!(
    MPI_Neighbor_allgatherv,
    PMPI_Neighbor_allgatherv,
    MPI_Ineighbor_allgatherv,
    PMPI_Ineighbor_allgatherv,
    MPI_Neighbor_allgatherv_init,
    PMPI_Neighbor_allgatherv_init,
    c_int,
    c_int
);
allgatherv_fns!(
    MPI_Neighbor_allgatherv_c,
    PMPI_Neighbor_allgatherv_c,
    MPI_Ineighbor_allgatherv_c,
    PMPI_Ineighbor_allgatherv_c,
    MPI_Neighbor_allgatherv_init_c,
    PMPI_Neighbor_allgatherv_init_c,
    Count,
    Aint
);

macro_rules! alltoall_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcount: $cnt, recvtype: c_int, comm: c_int),
            |ctx, how| {
                alltoall(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, how)
            });
    };
}
alltoall_fns!(
    MPI_Neighbor_alltoall,
    PMPI_Neighbor_alltoall,
    MPI_Ineighbor_alltoall,
    PMPI_Ineighbor_alltoall,
    MPI_Neighbor_alltoall_init,
    PMPI_Neighbor_alltoall_init,
    c_int
);
alltoall_fns!(
    MPI_Neighbor_alltoall_c,
    PMPI_Neighbor_alltoall_c,
    MPI_Ineighbor_alltoall_c,
    PMPI_Ineighbor_alltoall_c,
    MPI_Neighbor_alltoall_init_c,
    PMPI_Neighbor_alltoall_init_c,
    Count
);

macro_rules! alltoallv_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcounts: *const $cnt, sdispls: *const $disp,
             sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const $cnt,
             rdispls: *const $disp, recvtype: c_int, comm: c_int),
            |ctx, how| {
                // SAFETY: the arrays are the C caller's, of one entry per neighbour (MPI
                // contract).
                unsafe { alltoallv(ctx, sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, how) }
            });
    };
}
alltoallv_fns!(
    MPI_Neighbor_alltoallv,
    PMPI_Neighbor_alltoallv,
    MPI_Ineighbor_alltoallv,
    PMPI_Ineighbor_alltoallv,
    MPI_Neighbor_alltoallv_init,
    PMPI_Neighbor_alltoallv_init,
    c_int,
    c_int
);
alltoallv_fns!(
    MPI_Neighbor_alltoallv_c,
    PMPI_Neighbor_alltoallv_c,
    MPI_Ineighbor_alltoallv_c,
    PMPI_Ineighbor_alltoallv_c,
    MPI_Neighbor_alltoallv_init_c,
    PMPI_Neighbor_alltoallv_init_c,
    Count,
    Aint
);

macro_rules! alltoallw_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcounts: *const $cnt, sdispls: *const Aint,
             sendtypes: *const c_int, recvbuf: *mut c_void, recvcounts: *const $cnt,
             rdispls: *const Aint, recvtypes: *const c_int, comm: c_int),
            |ctx, how| {
                // SAFETY: the arrays are the C caller's, of one entry per neighbour (MPI
                // contract).
                unsafe { alltoallw(ctx, sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, how) }
            });
    };
}
alltoallw_fns!(
    MPI_Neighbor_alltoallw,
    PMPI_Neighbor_alltoallw,
    MPI_Ineighbor_alltoallw,
    PMPI_Ineighbor_alltoallw,
    MPI_Neighbor_alltoallw_init,
    PMPI_Neighbor_alltoallw_init,
    c_int
);
alltoallw_fns!(
    MPI_Neighbor_alltoallw_c,
    PMPI_Neighbor_alltoallw_c,
    MPI_Ineighbor_alltoallw_c,
    PMPI_Ineighbor_alltoallw_c,
    MPI_Neighbor_alltoallw_init_c,
    PMPI_Neighbor_alltoallw_init_c,
    Count
);
