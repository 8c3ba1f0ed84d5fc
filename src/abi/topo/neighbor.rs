//! Neighbourhood collectives (MPI_Neighbor_* / MPI_Ineighbor_* / MPI_Neighbor_*_init and
//! their `_c` forms): check the arguments against the communicator's topology, describe
//! one buffer per neighbour slot, and hand the exchange to `crate::topo::neighbor`.

use super::super::consts::IN_PLACE;
use super::super::pt2pt::data;
use super::super::request::handle_of;
use super::super::{comm, ptr, Ctx};
use super::{check_info, topology};
use crate::error::{class, MpiError};
use crate::mpi_fn;
use crate::p2p::Data;
use crate::runtime;
use crate::topo::neighbor::{persistent, Exchange};
use crate::topo::Neighbors;
use std::os::raw::{c_int, c_void};

type Count = i64;
type Aint = isize;

/// How the call runs the exchange.
#[derive(Clone, Copy)]
enum Form {
    Blocking,
    Nonblocking(*mut c_int),
    /// MPI_*_init: (info, request).
    Persistent(c_int, *mut c_int),
}

impl Form {
    /// Checks the form's own arguments before anything starts.
    fn check(self) -> Result<(), MpiError> {
        match self {
            Form::Blocking => Ok(()),
            Form::Nonblocking(req) => non_null_request(req),
            Form::Persistent(info, req) => {
                check_info(info)?;
                non_null_request(req)
            }
        }
    }

    fn run(self, ex: Exchange, owner: c_int) -> Result<(), MpiError> {
        let e = &runtime::rt()?.engine;
        match self {
            Form::Blocking => ex.run(),
            Form::Nonblocking(req) => {
                let id = ex.start()?;
                e.set_owner(id, owner);
                ptr::write(req, handle_of(id), "request")
            }
            Form::Persistent(_, req) => {
                let id = persistent(ex, owner)?;
                ptr::write(req, handle_of(id), "request")
            }
        }
    }
}

fn non_null_request(req: *mut c_int) -> Result<(), MpiError> {
    if req.is_null() {
        return Err(MpiError::arg(class::ERR_ARG, "request", "null pointer"));
    }
    Ok(())
}

/// An integer array argument of a C call, whatever its element type.
trait Ints: Copy {
    fn ints(self, n: usize, arg: &str) -> Result<Vec<i64>, MpiError>;
}

impl Ints for *const c_int {
    fn ints(self, n: usize, arg: &str) -> Result<Vec<i64>, MpiError> {
        Ok(ptr::slice(self, n, arg)?
            .iter()
            .map(|&x| x as i64)
            .collect())
    }
}
impl Ints for *const Count {
    fn ints(self, n: usize, arg: &str) -> Result<Vec<i64>, MpiError> {
        Ok(ptr::slice(self, n, arg)?.to_vec())
    }
}
impl Ints for *const Aint {
    fn ints(self, n: usize, arg: &str) -> Result<Vec<i64>, MpiError> {
        Ok(ptr::slice(self, n, arg)?
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

impl Setup {
    fn new(ctx: &mut Ctx, h: c_int, sendbuf: *const c_void, form: Form) -> Result<Setup, MpiError> {
        let c = super::intracomm(ctx, h)?;
        let t = topology(&c)?;
        let nb = t.neighbors(c.rank);
        if sendbuf as usize == IN_PLACE {
            return Err(MpiError::arg(
                class::ERR_BUFFER,
                "sendbuf",
                "MPI_IN_PLACE is not allowed in neighbourhood collectives",
            ));
        }
        form.check()?;
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

    fn finish(self, send: Vec<Data>, recv: Vec<Data>, form: Form) -> Result<(), MpiError> {
        let ex = Exchange::new(&self.comm, self.owner, &self.nb, send, recv)?;
        form.run(ex, self.owner)
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
    form: Form,
) -> Result<(), MpiError> {
    let s = Setup::new(ctx, comm, sendbuf, form)?;
    let one = data(sendbuf, sendcount, sendtype)?;
    let send = vec![one; s.outdegree()];
    let recv = blocks(recvbuf, recvcount, recvtype, s.indegree())?;
    s.finish(send, recv, form)
}

#[allow(clippy::too_many_arguments)]
fn allgatherv(
    ctx: &mut Ctx,
    sendbuf: *const c_void,
    sendcount: Count,
    sendtype: c_int,
    recvbuf: *mut c_void,
    recvcounts: impl Ints,
    displs: impl Ints,
    recvtype: c_int,
    comm: c_int,
    form: Form,
) -> Result<(), MpiError> {
    let s = Setup::new(ctx, comm, sendbuf, form)?;
    let one = data(sendbuf, sendcount, sendtype)?;
    let send = vec![one; s.outdegree()];
    let n = s.indegree();
    let rc = recvcounts.ints(n, "recvcounts")?;
    let rd = displs.ints(n, "displs")?;
    let recv = vblocks(recvbuf, &rc, &rd, recvtype)?;
    s.finish(send, recv, form)
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
    form: Form,
) -> Result<(), MpiError> {
    let s = Setup::new(ctx, comm, sendbuf, form)?;
    let send = blocks(sendbuf, sendcount, sendtype, s.outdegree())?;
    let recv = blocks(recvbuf, recvcount, recvtype, s.indegree())?;
    s.finish(send, recv, form)
}

#[allow(clippy::too_many_arguments)]
fn alltoallv(
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
    form: Form,
) -> Result<(), MpiError> {
    let s = Setup::new(ctx, comm, sendbuf, form)?;
    let (no, ni) = (s.outdegree(), s.indegree());
    let sc = sendcounts.ints(no, "sendcounts")?;
    let sd = sdispls.ints(no, "sdispls")?;
    let rc = recvcounts.ints(ni, "recvcounts")?;
    let rd = rdispls.ints(ni, "rdispls")?;
    let send = vblocks(sendbuf, &sc, &sd, sendtype)?;
    let recv = vblocks(recvbuf, &rc, &rd, recvtype)?;
    s.finish(send, recv, form)
}

#[allow(clippy::too_many_arguments)]
fn alltoallw(
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
    form: Form,
) -> Result<(), MpiError> {
    let s = Setup::new(ctx, comm, sendbuf, form)?;
    let (no, ni) = (s.outdegree(), s.indegree());
    let sc = sendcounts.ints(no, "sendcounts")?;
    let sd = sdispls.ints(no, "sdispls")?;
    let st = ptr::slice(sendtypes, no, "sendtypes")?;
    let rc = recvcounts.ints(ni, "recvcounts")?;
    let rd = rdispls.ints(ni, "rdispls")?;
    let rt = ptr::slice(recvtypes, ni, "recvtypes")?;
    let send = wblocks(sendbuf, &sc, &sd, st)?;
    let recv = wblocks(recvbuf, &rc, &rd, rt)?;
    s.finish(send, recv, form)
}

// ---------------------------------------------------------------------------------------
// The C entry points: blocking, nonblocking and persistent, each with int and MPI_Count
// counts.

mpi_fn!(MPI_Neighbor_allgather, PMPI_Neighbor_allgather, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, comm: c_int), |ctx| {
    allgather(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_allgather, PMPI_Ineighbor_allgather, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, comm: c_int, request: *mut c_int), |ctx| {
    allgather(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_allgather_init, PMPI_Neighbor_allgather_init, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    allgather(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Persistent(info, request))
});

mpi_fn!(MPI_Neighbor_allgather_c, PMPI_Neighbor_allgather_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, comm: c_int), |ctx| {
    allgather(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_allgather_c, PMPI_Ineighbor_allgather_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, comm: c_int, request: *mut c_int), |ctx| {
    allgather(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_allgather_init_c, PMPI_Neighbor_allgather_init_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    allgather(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Persistent(info, request))
});

mpi_fn!(MPI_Neighbor_allgatherv, PMPI_Neighbor_allgatherv, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const c_int, displs: *const c_int, recvtype: c_int, comm: c_int), |ctx| {
    allgatherv(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcounts, displs, recvtype, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_allgatherv, PMPI_Ineighbor_allgatherv, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const c_int, displs: *const c_int, recvtype: c_int, comm: c_int, request: *mut c_int), |ctx| {
    allgatherv(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcounts, displs, recvtype, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_allgatherv_init, PMPI_Neighbor_allgatherv_init, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const c_int, displs: *const c_int, recvtype: c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    allgatherv(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcounts, displs, recvtype, comm, Form::Persistent(info, request))
});

mpi_fn!(MPI_Neighbor_allgatherv_c, PMPI_Neighbor_allgatherv_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const Count, displs: *const Aint, recvtype: c_int, comm: c_int), |ctx| {
    allgatherv(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcounts, displs, recvtype, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_allgatherv_c, PMPI_Ineighbor_allgatherv_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const Count, displs: *const Aint, recvtype: c_int, comm: c_int, request: *mut c_int), |ctx| {
    allgatherv(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcounts, displs, recvtype, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_allgatherv_init_c, PMPI_Neighbor_allgatherv_init_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const Count, displs: *const Aint, recvtype: c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    allgatherv(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcounts, displs, recvtype, comm, Form::Persistent(info, request))
});

mpi_fn!(MPI_Neighbor_alltoall, PMPI_Neighbor_alltoall, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, comm: c_int), |ctx| {
    alltoall(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_alltoall, PMPI_Ineighbor_alltoall, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, comm: c_int, request: *mut c_int), |ctx| {
    alltoall(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_alltoall_init, PMPI_Neighbor_alltoall_init, (sendbuf: *const c_void, sendcount: c_int, sendtype: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    alltoall(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Persistent(info, request))
});

mpi_fn!(MPI_Neighbor_alltoall_c, PMPI_Neighbor_alltoall_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, comm: c_int), |ctx| {
    alltoall(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_alltoall_c, PMPI_Ineighbor_alltoall_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, comm: c_int, request: *mut c_int), |ctx| {
    alltoall(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_alltoall_init_c, PMPI_Neighbor_alltoall_init_c, (sendbuf: *const c_void, sendcount: Count, sendtype: c_int, recvbuf: *mut c_void, recvcount: Count, recvtype: c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    alltoall(ctx, sendbuf, sendcount as Count, sendtype, recvbuf, recvcount as Count, recvtype, comm, Form::Persistent(info, request))
});

mpi_fn!(MPI_Neighbor_alltoallv, PMPI_Neighbor_alltoallv, (sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const c_int, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const c_int, recvtype: c_int, comm: c_int), |ctx| {
    alltoallv(ctx, sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_alltoallv, PMPI_Ineighbor_alltoallv, (sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const c_int, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const c_int, recvtype: c_int, comm: c_int, request: *mut c_int), |ctx| {
    alltoallv(ctx, sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_alltoallv_init, PMPI_Neighbor_alltoallv_init, (sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const c_int, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const c_int, recvtype: c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    alltoallv(ctx, sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, Form::Persistent(info, request))
});

mpi_fn!(MPI_Neighbor_alltoallv_c, PMPI_Neighbor_alltoallv_c, (sendbuf: *const c_void, sendcounts: *const Count, sdispls: *const Aint, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const Count, rdispls: *const Aint, recvtype: c_int, comm: c_int), |ctx| {
    alltoallv(ctx, sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_alltoallv_c, PMPI_Ineighbor_alltoallv_c, (sendbuf: *const c_void, sendcounts: *const Count, sdispls: *const Aint, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const Count, rdispls: *const Aint, recvtype: c_int, comm: c_int, request: *mut c_int), |ctx| {
    alltoallv(ctx, sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_alltoallv_init_c, PMPI_Neighbor_alltoallv_init_c, (sendbuf: *const c_void, sendcounts: *const Count, sdispls: *const Aint, sendtype: c_int, recvbuf: *mut c_void, recvcounts: *const Count, rdispls: *const Aint, recvtype: c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    alltoallv(ctx, sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, Form::Persistent(info, request))
});

mpi_fn!(MPI_Neighbor_alltoallw, PMPI_Neighbor_alltoallw, (sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const Aint, sendtypes: *const c_int, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const Aint, recvtypes: *const c_int, comm: c_int), |ctx| {
    alltoallw(ctx, sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_alltoallw, PMPI_Ineighbor_alltoallw, (sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const Aint, sendtypes: *const c_int, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const Aint, recvtypes: *const c_int, comm: c_int, request: *mut c_int), |ctx| {
    alltoallw(ctx, sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_alltoallw_init, PMPI_Neighbor_alltoallw_init, (sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const Aint, sendtypes: *const c_int, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const Aint, recvtypes: *const c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    alltoallw(ctx, sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, Form::Persistent(info, request))
});

mpi_fn!(MPI_Neighbor_alltoallw_c, PMPI_Neighbor_alltoallw_c, (sendbuf: *const c_void, sendcounts: *const Count, sdispls: *const Aint, sendtypes: *const c_int, recvbuf: *mut c_void, recvcounts: *const Count, rdispls: *const Aint, recvtypes: *const c_int, comm: c_int), |ctx| {
    alltoallw(ctx, sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, Form::Blocking)
});

mpi_fn!(MPI_Ineighbor_alltoallw_c, PMPI_Ineighbor_alltoallw_c, (sendbuf: *const c_void, sendcounts: *const Count, sdispls: *const Aint, sendtypes: *const c_int, recvbuf: *mut c_void, recvcounts: *const Count, rdispls: *const Aint, recvtypes: *const c_int, comm: c_int, request: *mut c_int), |ctx| {
    alltoallw(ctx, sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, Form::Nonblocking(request))
});

mpi_fn!(MPI_Neighbor_alltoallw_init_c, PMPI_Neighbor_alltoallw_init_c, (sendbuf: *const c_void, sendcounts: *const Count, sdispls: *const Aint, sendtypes: *const c_int, recvbuf: *mut c_void, recvcounts: *const Count, rdispls: *const Aint, recvtypes: *const c_int, comm: c_int, info: c_int, request: *mut c_int), |ctx| {
    alltoallw(ctx, sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, Form::Persistent(info, request))
});
