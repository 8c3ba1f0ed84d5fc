//! The all-to-all exchanges: MPI_Allgather(v) and MPI_Alltoall(v/w), and their exported
//! forms.

#![deny(unsafe_op_in_unsafe_fn)]

use super::*;

#[allow(clippy::too_many_arguments)]
fn allgather(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    sc: Count,
    st: c_int,
    rb: *mut c_void,
    rcounts: Option<Vec<u64>>,
    displs: Option<Vec<i64>>,
    rc: Count,
    rt: c_int,
    comm: c_int,
) -> Result<(), MpiError> {
    let (t, inter_comm) = all_team(ctx, comm, sb, rb, None)?;
    let n = t.peer_size();
    let regular = rcounts.is_none();
    let rbuf = buf(rb, rt, "recvtype")?;
    if !inter_comm {
        let v = rcounts.as_deref().zip(displs.as_deref());
        let (blk, n_own) = own_block(rb, rbuf.dt().extent(), t.rank, rc, v);
        check_alias(sb, blk, st == rt && sc == n_own && sc != 0, "recvbuf")?;
    }
    let blocks: Vec<Data> = match (rcounts, displs) {
        (Some(c), Some(d)) => (0..n)
            .map(|i| rbuf.at_bytes(d[i] * rbuf.dt().extent(), c[i]))
            .collect(),
        _ => {
            let rc = count_ok(rc, "recvcount")?;
            (0..n).map(|i| rbuf.at(i as u64 * rc, rc)).collect()
        }
    };
    let own = if in_place(sb) {
        None
    } else {
        Some(data(sb, sc, st)?)
    };
    let me = t.rank;
    if let (How::Block, true) = (&how, regular) {
        if fast::allgather(&t, own.as_ref(), &blocks)? {
            return Ok(());
        }
    }
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, None);
        match &own {
            Some(o) if inter_comm => inter::allgather(&mut s, o, &blocks),
            _ => {
                if let Some(o) = &own {
                    s.copy(o.clone(), blocks[me].clone());
                }
                algo::allgather(&mut s, &blocks);
            }
        }
        Ok(s)
    })
}

/// Per-peer blocks of an alltoall-family call: counts, displacements in bytes, types.
struct Blocks {
    counts: Vec<u64>,
    byte_displs: Vec<i64>,
    types: Vec<TypeKeep>,
}

impl Blocks {
    fn vector(
        counts: Vec<u64>,
        displs: Vec<i64>,
        dt: c_int,
        arg: &str,
    ) -> Result<Blocks, MpiError> {
        let t = dtype(dt, arg)?;
        let ext = t.extent();
        Ok(Blocks {
            byte_displs: displs.iter().map(|d| d * ext).collect(),
            types: vec![t; counts.len()],
            counts,
        })
    }
    /// # Safety
    /// Its pointer arguments are the C caller's: null or valid for this use (MPI contract).
    unsafe fn w<T: Wide>(
        n: usize,
        counts: Vec<u64>,
        displs: Vec<i64>,
        types: *const T,
        arg: &str,
    ) -> Result<Blocks, MpiError> {
        // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
        let hs = unsafe { arr(types, n, arg) }?;
        let types = hs
            .iter()
            .map(|&h| dtype(h as c_int, arg))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Blocks {
            counts,
            byte_displs: displs,
            types,
        })
    }
    fn data(&self, p: *const c_void) -> Vec<Data> {
        // SAFETY: MPI's contract: the buffer holds every block until completion.
        let base = unsafe { UserPtr::new(p as *const u8) };
        (0..self.counts.len())
            .map(|i| {
                Data::new(
                    base.offset(self.byte_displs[i]),
                    self.counts[i],
                    self.types[i].clone(),
                )
            })
            .collect()
    }
}

/// The `n` equal blocks of a regular alltoall side: `count` elements of `dt` each, block i
/// `i * count` extents into `p`. Described straight as `Data` (one allocation; the per-peer
/// count, displacement and type vectors of [`Blocks`] were three more per side, and with
/// their frees about 1,300 of the 4,400 instructions of a 2-rank MPI_Alltoall of 8 B under
/// callgrind, issue 13).
fn regular_blocks(
    p: *const c_void,
    n: usize,
    count: Count,
    dt: c_int,
    arg: &str,
) -> Result<Vec<Data>, MpiError> {
    let c = count_ok(count, arg)?;
    let t = dtype(dt, arg)?;
    let stride = c as i64 * t.extent();
    // SAFETY: MPI's contract: the buffer holds every block until completion.
    let base = unsafe { UserPtr::new(p as *const u8) };
    Ok((0..n)
        .map(|i| Data::new(base.offset(i as i64 * stride), c, t.clone()))
        .collect())
}

/// `same_layout`: the send and receive sides are described by the same arguments (as
/// MPICH decides it: equal counts and types, or the very same arrays for the v and w
/// forms), so equal buffer addresses are an aliasing error.
#[allow(clippy::too_many_arguments)]
fn alltoall(
    ctx: &mut Ctx,
    how: How,
    sb: *const c_void,
    sends: Option<Vec<Data>>,
    rb: *mut c_void,
    recvs: Vec<Data>,
    same_layout: bool,
    regular: bool,
    comm: c_int,
) -> Result<(), MpiError> {
    let (t, inter_comm) = all_team(ctx, comm, sb, rb, Some(same_layout))?;
    if let (How::Block, true, false) = (&how, regular, inter_comm) {
        if fast::alltoall(&t, sends.as_deref(), &recvs)? {
            return Ok(());
        }
    }
    let tt = t.clone();
    launch(how, &t, move |tag| {
        let mut s = Schedule::new(&tt, tag, None);
        if let (true, Some(sends)) = (inter_comm, &sends) {
            inter::alltoall(&mut s, sends, &recvs);
            return Ok(s);
        }
        let sends = match &sends {
            Some(v) => v.clone(),
            None => {
                // In place: send packed copies of the receive blocks.
                recvs
                    .iter()
                    .map(|r| {
                        let n = r.bytes();
                        let d = s.scratch_bytes(n as usize);
                        s.copy(r.clone(), d.clone());
                        d
                    })
                    .collect()
            }
        };
        algo::alltoall(&mut s, &sends, &recvs);
        Ok(s)
    })
}

macro_rules! allgather_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcount: $cnt, recvtype: c_int, comm: c_int),
            |ctx, how| { allgather(ctx, how, sendbuf, sendcount as Count, sendtype, recvbuf, None, None, recvcount as Count, recvtype, comm) });
    };
}
allgather_fns!(
    MPI_Allgather,
    PMPI_Allgather,
    MPI_Iallgather,
    PMPI_Iallgather,
    MPI_Allgather_init,
    PMPI_Allgather_init,
    c_int
);
allgather_fns!(
    MPI_Allgather_c,
    PMPI_Allgather_c,
    MPI_Iallgather_c,
    PMPI_Iallgather_c,
    MPI_Allgather_init_c,
    PMPI_Allgather_init_c,
    i64
);

macro_rules! allgatherv_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcounts: *const $cnt, displs: *const $disp, recvtype: c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
                let c = unsafe { counts(recvcounts, n, "recvcounts") }?;
                // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
                let d = unsafe { arr(displs, n, "displs") }?;
                allgather(ctx, how, sendbuf, sendcount as Count, sendtype, recvbuf, Some(c), Some(d), 0, recvtype, comm)
            });
    };
}
allgatherv_fns!(
    MPI_Allgatherv,
    PMPI_Allgatherv,
    MPI_Iallgatherv,
    PMPI_Iallgatherv,
    MPI_Allgatherv_init,
    PMPI_Allgatherv_init,
    c_int,
    c_int
);
allgatherv_fns!(
    MPI_Allgatherv_c,
    PMPI_Allgatherv_c,
    MPI_Iallgatherv_c,
    PMPI_Iallgatherv_c,
    MPI_Allgatherv_init_c,
    PMPI_Allgatherv_init_c,
    i64,
    isize
);

macro_rules! alltoall_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcount: $cnt, sendtype: c_int, recvbuf: *mut c_void,
             recvcount: $cnt, recvtype: c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                let s = if in_place(sendbuf) { None } else { Some(regular_blocks(sendbuf, n, sendcount as Count, sendtype, "sendtype")?) };
                let r = regular_blocks(recvbuf, n, recvcount as Count, recvtype, "recvtype")?;
                let same = sendtype == recvtype && sendcount == recvcount && recvcount != 0;
                alltoall(ctx, how, sendbuf, s, recvbuf, r, same, true, comm)
            });
    };
}
alltoall_fns!(
    MPI_Alltoall,
    PMPI_Alltoall,
    MPI_Ialltoall,
    PMPI_Ialltoall,
    MPI_Alltoall_init,
    PMPI_Alltoall_init,
    c_int
);
alltoall_fns!(
    MPI_Alltoall_c,
    PMPI_Alltoall_c,
    MPI_Ialltoall_c,
    PMPI_Ialltoall_c,
    MPI_Alltoall_init_c,
    PMPI_Alltoall_init_c,
    i64
);

macro_rules! alltoallv_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcounts: *const $cnt, sdispls: *const $disp, sendtype: c_int,
             recvbuf: *mut c_void, recvcounts: *const $cnt, rdispls: *const $disp, recvtype: c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                let s = if in_place(sendbuf) { None } else {
                    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
                    Some(Blocks::vector(unsafe { counts(sendcounts, n, "sendcounts") }?, unsafe { arr(sdispls, n, "sdispls") }?, sendtype, "sendtype")?)
                };
                // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
                let r = Blocks::vector(unsafe { counts(recvcounts, n, "recvcounts") }?, unsafe { arr(rdispls, n, "rdispls") }?, recvtype, "recvtype")?;
                let same = std::ptr::eq(sendcounts, recvcounts) && sendtype == recvtype;
                alltoall(ctx, how, sendbuf, s.map(|b| b.data(sendbuf)), recvbuf, r.data(recvbuf), same, false, comm)
            });
    };
}
alltoallv_fns!(
    MPI_Alltoallv,
    PMPI_Alltoallv,
    MPI_Ialltoallv,
    PMPI_Ialltoallv,
    MPI_Alltoallv_init,
    PMPI_Alltoallv_init,
    c_int,
    c_int
);
alltoallv_fns!(
    MPI_Alltoallv_c,
    PMPI_Alltoallv_c,
    MPI_Ialltoallv_c,
    PMPI_Ialltoallv_c,
    MPI_Alltoallv_init_c,
    PMPI_Alltoallv_init_c,
    i64,
    isize
);

macro_rules! alltoallw_fns {
    ($b:ident, $pb:ident, $i:ident, $pi:ident, $p:ident, $pp:ident, $cnt:ty, $disp:ty) => {
        coll3!($b, $pb, $i, $pi, $p, $pp,
            (sendbuf: *const c_void, sendcounts: *const $cnt, sdispls: *const $disp, sendtypes: *const c_int,
             recvbuf: *mut c_void, recvcounts: *const $cnt, rdispls: *const $disp, recvtypes: *const c_int, comm: c_int),
            |ctx, how| {
                let n = size_of(ctx, comm)?;
                let s = if in_place(sendbuf) { None } else {
                    // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
                    Some(unsafe { Blocks::w(n, counts(sendcounts, n, "sendcounts")?, arr(sdispls, n, "sdispls")?, sendtypes, "sendtypes") }?)
                };
                // SAFETY: the pointers passed on are the C caller's arguments, null or valid for this use (MPI contract).
                let r = unsafe { Blocks::w(n, counts(recvcounts, n, "recvcounts")?, arr(rdispls, n, "rdispls")?, recvtypes, "recvtypes") }?;
                let same = std::ptr::eq(sendcounts, recvcounts) && std::ptr::eq(sendtypes, recvtypes);
                alltoall(ctx, how, sendbuf, s.map(|b| b.data(sendbuf)), recvbuf, r.data(recvbuf), same, false, comm)
            });
    };
}
alltoallw_fns!(
    MPI_Alltoallw,
    PMPI_Alltoallw,
    MPI_Ialltoallw,
    PMPI_Ialltoallw,
    MPI_Alltoallw_init,
    PMPI_Alltoallw_init,
    c_int,
    c_int
);
alltoallw_fns!(
    MPI_Alltoallw_c,
    PMPI_Alltoallw_c,
    MPI_Ialltoallw_c,
    PMPI_Ialltoallw_c,
    MPI_Alltoallw_init_c,
    PMPI_Alltoallw_init_c,
    i64,
    isize
);
